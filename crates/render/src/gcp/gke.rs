//! GKE (strategy `kubernetes`): a zonal Standard cluster
//! `google_container_cluster.main` (VPC-native on the ranges `pods` and
//! `services`, private nodes with a public control-plane endpoint, Workload
//! Identity, Shielded nodes, the REGULAR release channel) with one node pool
//! `google_container_node_pool.main` of the plan's machine type and counts
//! (autoscaling between min and max; auto-repair and auto-upgrade; Shielded
//! VM; the GKE metadata server), nodes running as their own service account
//! (logs, metrics, image pulls). Images: Artifact Registry
//! `google_artifact_registry_repository.app`, one image per service built by
//! Cloud Build (the `build_commands` output).
//!
//! The manifests are k8s.rs's; the deploy stage substitutes `${IMAGE_<SERVICE>}`
//! with the `images` output. With a domain, a global static IP
//! `google_compute_global_address.ingress` and a Google-managed certificate
//! (dns.rs) are made for the `gce` Ingress, which must name them with the
//! annotations `kubernetes.io/ingress.global-static-ip-name` and
//! `ingress.gcp.kubernetes.io/pre-shared-cert` (the `ingress_annotations`
//! output).
//!
//! Not here: the VPC (network.rs), the manifests (k8s.rs), in-cluster
//! objects the deploy stage creates (Secrets, ConfigMaps).

use super::{Part, Var};
use crate::aws::data::tf_ident;
use crate::escape::hcl;
use crate::{file, RenderError};
use autodeploy_core::{ClusterKind, Decision, Hosting, ServiceKind};
use serde_json::json;

pub fn render(d: &Decision) -> Result<Part, RenderError> {
    let Some(cluster) = d.cluster.as_ref().filter(|c| c.kind == ClusterKind::Gke) else {
        return Err(crate::unsupported(
            d,
            "the kubernetes strategy without a GKE cluster plan",
            "decide gives the cluster's size and version",
        ));
    };
    if let Some(s) = d.services.iter().find(|s| s.hosting != Hosting::Gke) {
        return Err(crate::unsupported(
            d,
            &format!("service {:?} beside the cluster", s.name),
            "every service runs in the cluster on the GKE bundle",
        ));
    }
    let mtype = &cluster.node_instance_type;
    if mtype.is_empty() || !mtype.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(crate::unsupported(
            d,
            &format!("the node machine type {mtype:?}"),
            "a Compute Engine machine type such as e2-standard-2",
        ));
    }
    let mut services = Vec::new();
    for s in d
        .services
        .iter()
        .filter(|s| matches!(s.kind, ServiceKind::Web | ServiceKind::Worker))
    {
        services.push(json!({
            "key": hcl(&s.name),
            "image_name": super::gcp_name(&s.name, 60),
            "ident": tf_ident(&s.name),
            "build": hcl(&super::cloud_run::build_command(d, s)?),
        }));
    }
    // `terraform fmt` aligns the `=` of consecutive map lines (`images`,
    // `build_commands`): pad every quoted key to the longest one.
    let width = services
        .iter()
        .filter_map(|s| s["key"].as_str())
        .map(|k| k.chars().count())
        .max()
        .unwrap_or(0);
    for s in &mut services {
        let key = s["key"].as_str().unwrap_or_default().to_string();
        s["key_aligned"] = format!("{key:<width$}").into();
    }
    let min = cluster.min_nodes.max(1);
    let max = cluster.max_nodes.max(min);
    let ctx = json!({
        "services": services,
        "min_nodes": min,
        "max_nodes": max,
        "nodes": cluster.desired_nodes.clamp(min, max),
        "domain": d.tls.domain.is_some(),
        "https": d.tls.https && d.tls.domain.is_some(),
        "version": hcl(&cluster.version),
    });
    let mut files = vec![
        file("terraform/gke.tf", "gcp/gke/cluster.tf", &ctx)?,
        file("terraform/gke_build.tf", "gcp/gke/build.tf", &ctx)?,
        file("terraform/outputs.tf", "gcp/gke/outputs.tf", &ctx)?,
    ];
    let dns = super::dns::render(d)?;
    files.extend(dns.files);
    let mut vars: Vec<Var> = vec![Var::new(
        "machine_type",
        "Machine type of the cluster's nodes.",
        "string",
        hcl(mtype),
    )];
    vars.extend(dns.vars);
    let mut apis = vec![
        "artifactregistry.googleapis.com",
        "cloudbuild.googleapis.com",
        "compute.googleapis.com",
        "container.googleapis.com",
        "iam.googleapis.com",
    ];
    apis.extend(dns.apis);
    Ok(Part { apis, files, vars })
}
