//! The Azure container strategy: Azure Container Apps. Writes
//! `terraform/container_apps.tf` (Log Analytics workspace, Container Apps
//! environment, Azure Container Registry, a user-assigned identity with
//! `AcrPull` on the registry and `Key Vault Secrets User` on the vault, the
//! Key Vault, and one `azurerm_container_app` per service with the plan's
//! cpu/memory and min/max replicas, external ingress on the app port for
//! public web services, an HTTP concurrency scale rule, env vars, and secrets
//! as Key Vault references) and `terraform/outputs.tf`.
//!
//! Repository values reach HCL only through the `hcl` filter (env names and
//! literal values, image names) or as [`super::slug`] names (`[a-z0-9-]`).
//!
//! Not here: building or pushing images (the deploy stage does, tagging them
//! `var.image_tag`), filling Key Vault secrets (the deploy stage does),
//! databases and caches (not written yet: `unsupported`).

use super::slug;
use crate::{file, unsupported, BundleFile, RenderError};
use autodeploy_core::{
    Decision, DeploymentOutput, EnvValue, Hosting, ScalingMetric, ServiceKind, ServicePlan,
};
use serde_json::{json, Value};

/// Every file of the container strategy on Azure.
pub fn render(d: &Decision) -> Result<Vec<BundleFile>, RenderError> {
    let mut apps: Vec<Value> = Vec::new();
    let mut secrets: Vec<String> = Vec::new();
    for (i, s) in d.services.iter().enumerate() {
        let app = app(d, s, i)?;
        if apps.iter().any(|a| a["name"] == app["name"]) {
            return Err(unsupported(
                d,
                "two services with the same Azure app name",
                "rename one of the services",
            ));
        }
        for sec in app["secrets"].as_array().into_iter().flatten() {
            let n = sec.as_str().unwrap_or_default().to_string();
            if !secrets.contains(&n) {
                secrets.push(n);
            }
        }
        apps.push(app);
    }
    let ctx = json!({ "apps": apps, "secrets": secrets });
    Ok(vec![
        file(
            "terraform/container_apps.tf",
            "azure/container/terraform/container_apps.tf",
            &ctx,
        )?,
        file(
            "terraform/outputs.tf",
            "azure/container/terraform/outputs.tf",
            &ctx,
        )?,
    ])
}

/// cpu (cores) and memory (`Gi`) as the Consumption plan allows: cpu in
/// steps of 0.25 from 0.25 to 4, memory exactly twice the cpu.
fn size(d: &Decision, s: &ServicePlan) -> Result<(f64, String), RenderError> {
    let c = s.compute.as_ref();
    let vcpu = c.and_then(|c| c.vcpu).unwrap_or(0.5);
    let mem_gib = f64::from(c.and_then(|c| c.memory_mib).unwrap_or(1024)) / 1024.0;
    let needed = vcpu.max(mem_gib / 2.0);
    let cpu = (needed * 4.0).ceil().max(1.0) / 4.0;
    if cpu > 4.0 {
        return Err(unsupported(
            d,
            &format!("{vcpu} vCPU / {mem_gib} GiB on Container Apps"),
            "the Consumption plan stops at 4 vCPU / 8 GiB per container",
        ));
    }
    Ok((cpu, format!("{}Gi", cpu * 2.0)))
}

/// The context of one container app, checked.
fn app(d: &Decision, s: &ServicePlan, i: usize) -> Result<Value, RenderError> {
    if s.hosting != Hosting::ContainerApps {
        return Err(unsupported(
            d,
            "this service's hosting on Azure",
            "the Azure container strategy runs Azure Container Apps",
        ));
    }
    if s.kind == ServiceKind::Static {
        return Err(unsupported(d, "a static site on Azure", "not written yet"));
    }
    let name = slug(&s.name, 32);
    let (cpu, memory) = size(d, s)?;
    let scaling = s.scaling.as_ref();
    let min = scaling.map_or(1, |sc| sc.min);
    let max = scaling.map_or(1, |sc| sc.max).max(min).max(1);
    if max > 300 {
        return Err(unsupported(
            d,
            &format!("{max} replicas on Container Apps"),
            "Container Apps allows at most 300 replicas",
        ));
    }
    let concurrency = scaling
        .and_then(|sc| sc.autoscaling.as_ref())
        .filter(|a| a.metric == ScalingMetric::ConcurrentRequests)
        .map(|a| (a.target.round() as u64).max(1));
    let cpu_target = scaling
        .and_then(|sc| sc.autoscaling.as_ref())
        .filter(|a| a.metric == ScalingMetric::CpuUtilization)
        .map(|a| (a.target.round() as u64).clamp(1, 100));
    let ingress = s.public && s.port.is_some();
    if s.public && s.port.is_none() {
        return Err(unsupported(
            d,
            "a public service without a port on Container Apps",
            "a public service needs the port it listens on",
        ));
    }
    let mut env: Vec<Value> = Vec::new();
    let mut secrets: Vec<String> = Vec::new();
    let mut inputs: Vec<Value> = Vec::new();
    for e in &s.env {
        if !e
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
            || e.name.is_empty()
        {
            return Err(unsupported(
                d,
                &format!("the environment variable name {:?}", e.name),
                "environment variable names need letters, digits and underscores",
            ));
        }
        let v = match &e.value {
            EnvValue::Literal { value } if !e.secret => json!({"kind": "literal", "value": value}),
            EnvValue::GeneratedSecret { secret } | EnvValue::UserSecret { secret } => {
                let sn = slug(secret, 127);
                if !secrets.contains(&sn) {
                    secrets.push(sn.clone());
                }
                json!({"kind": "secret", "secret": sn})
            }
            EnvValue::Input { variable } if !e.secret => {
                let var = format!("{}_{}", name.replace('-', "_"), e.name.to_lowercase());
                inputs.push(json!({"variable": var, "env": e.name}));
                json!({"kind": "input", "variable": var})
            }
            EnvValue::Deployment { output } => match output {
                DeploymentOutput::PublicUrl => json!({"kind": "url"}),
                DeploymentOutput::PublicHost | DeploymentOutput::AllowedHosts => {
                    json!({"kind": "host"})
                }
                DeploymentOutput::Port => match s.port {
                    Some(p) => json!({"kind": "literal", "value": p.to_string()}),
                    None => {
                        return Err(unsupported(
                            d,
                            "the port of a service without one",
                            "give the service a port",
                        ))
                    }
                },
            },
            _ => {
                return Err(unsupported(
                    d,
                    &format!("the value of {} on Azure", e.name),
                    "database, cache and service-URL values are not written yet for Azure",
                ))
            }
        };
        let mut v = v;
        v["name"] = json!(e.name);
        env.push(v);
    }
    let health = s
        .health_check
        .as_ref()
        .filter(|_| ingress)
        .map(|h| json!({"path": h.path, "port": h.port}));
    Ok(json!({
        "index": i,
        "name": name,
        "image": slug(&s.name, 60),
        "cpu": cpu,
        "memory": memory,
        "min": min,
        "max": max,
        "concurrency": concurrency,
        "cpu_target": cpu_target,
        "ingress": ingress,
        "port": s.port,
        "env": env,
        "secrets": secrets,
        "inputs": inputs,
        "health": health,
    }))
}
