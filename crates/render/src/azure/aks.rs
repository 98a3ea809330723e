//! The Azure kubernetes strategy: AKS. Writes `terraform/aks.tf` (Log
//! Analytics workspace, Azure Container Registry, the cluster with a system
//! node pool in `azurerm_subnet.app` sized and scaled by the plan, a
//! system-assigned identity, Azure CNI overlay, OIDC + workload identity, the
//! application routing add-on that serves the manifests' Ingress class, the
//! `AcrPull` role for the kubelet identity and `Network Contributor` on the
//! subnet for the cluster identity) and `terraform/outputs.tf`.
//!
//! The Kubernetes manifests are the renderer's own (`k8s.rs`, added by
//! `render` for every kubernetes bundle). Contract with the deploy stage,
//! the same as for Container Apps: it builds each image with ACR Tasks
//! (`az acr build` from the source archive, no local Docker) into the output
//! `image_repositories["IMAGE_<SERVICE>"]`, substitutes the manifests'
//! `${IMAGE_<SERVICE>}` placeholders, and creates the `<service>-deploy`
//! ConfigMap (database/cache hosts from the outputs) and `<service>-secrets`
//! Secret (from the Key Vault) the manifests reference.
//!
//! Not here: the manifests (k8s.rs), the VNet (network.rs), data services.

use super::slug;
use crate::{file, k8s, unsupported, BundleFile, RenderError};
use autodeploy_core::{ClusterKind, Decision, Hosting, ServiceKind};
use serde_json::json;

/// aks.tf and outputs.tf.
pub fn render(d: &Decision) -> Result<Vec<BundleFile>, RenderError> {
    let Some(c) = d.cluster.as_ref().filter(|c| c.kind == ClusterKind::Aks) else {
        return Err(unsupported(
            d,
            "a kubernetes bundle on Azure without an AKS cluster plan",
            "decide plans the AKS cluster for the kubernetes strategy",
        ));
    };
    if let Some(s) = d.services.iter().find(|s| s.hosting != Hosting::Aks) {
        return Err(unsupported(
            d,
            &format!("the hosting of `{}` beside AKS", s.name),
            "every service of a kubernetes bundle runs on the cluster",
        ));
    }
    let version_ok = !c.version.is_empty()
        && c.version.len() <= 8
        && c.version.chars().all(|x| x.is_ascii_digit() || x == '.');
    let size_ok = c.node_instance_type.starts_with("Standard_")
        && c.node_instance_type.len() <= 64
        && c.node_instance_type
            .chars()
            .all(|x| x.is_ascii_alphanumeric() || x == '_');
    if !version_ok || !size_ok {
        return Err(unsupported(
            d,
            &format!(
                "Kubernetes {:?} on {:?} nodes",
                c.version, c.node_instance_type
            ),
            "AKS takes a version like 1.31 and a VM size like Standard_B2s",
        ));
    }
    let min = c.min_nodes.max(1);
    let max = c.max_nodes.max(min);
    // Image repositories keyed by the manifests' placeholder names, `=` aligned for fmt.
    let mut images: Vec<(String, String)> = Vec::new();
    for s in d
        .services
        .iter()
        .filter(|s| matches!(s.kind, ServiceKind::Web | ServiceKind::Worker))
    {
        let key = k8s::image_var(&s.name);
        if !images.iter().any(|(k, _)| *k == key) {
            images.push((key, slug(&s.name, 60)));
        }
    }
    let width = images.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let image_lines: Vec<String> = images
        .iter()
        .map(|(k, repo)| {
            format!("{k:<width$} = \"${{azurerm_container_registry.main.login_server}}/{repo}\"")
        })
        .collect();
    let ctx = json!({
        "version": c.version,
        "size": c.node_instance_type,
        "min": min,
        "max": max,
        "desired": c.desired_nodes.clamp(min, max),
        "autoscale": max > min,
        "paid": c.paid_control_plane,
        "image_lines": image_lines,
    });
    Ok(vec![
        file("terraform/aks.tf", "azure/aks/terraform/aks.tf", &ctx)?,
        file(
            "terraform/outputs.tf",
            "azure/aks/terraform/outputs.tf",
            &ctx,
        )?,
    ])
}
