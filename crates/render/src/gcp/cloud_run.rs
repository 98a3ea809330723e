//! GCP container strategy on Cloud Run: an Artifact Registry Docker
//! repository `google_artifact_registry_repository.app`, one least-privilege
//! service account per service (it may only read the secrets its env vars
//! name), and one `google_cloud_run_v2_service.<ident>` with the plan's
//! cpu/memory and min/max instances. Env vars: literals and inputs as
//! `value`, secrets as `value_source.secret_key_ref` (never a value). Public
//! services get `roles/run.invoker` for `allUsers`.
//!
//! The image is built by Cloud Build from the repository, without local
//! Docker; the deploy order (the deploy stage's job, also in the
//! `deploy_steps` output): `terraform apply -target=google_artifact_registry_repository.app`
//! (and the secrets); add the secret versions; copy the bundle's Dockerfile
//! into the repository root and run `gcloud builds submit --tag <image>`;
//! then the full `terraform apply`.
//!
//! Covered: exactly one web service (Cloud Run needs a listener). Not covered
//! (`unsupported`): several services, env vars fed by a database, cache,
//! another service's URL or the deployment's own URL. Not here: the
//! Dockerfile (docker.rs), secrets (secrets.rs).

use crate::aws::data::tf_ident;
use crate::escape::hcl;
use crate::{file, BundleFile, RenderError};
use autodeploy_core::{
    Decision, DeploymentOutput, EnvValue, ScalingMetric, ServiceKind, ServicePlan,
};
use serde::Serialize;

#[derive(Serialize)]
struct Env {
    /// HCL string of the name.
    name: String,
    /// HCL expression of a plain value, or None for a secret.
    value: Option<String>,
    /// Terraform label of the secret.
    secret: Option<String>,
}

#[derive(Serialize)]
struct Svc {
    ident: String,
    name: String,
    account_id: String,
    port: u16,
    cpu: &'static str,
    memory: String,
    min: u32,
    max: u32,
    concurrency: Option<u32>,
    health_path: Option<String>,
    public: bool,
    env: Vec<Env>,
    secrets: Vec<String>,
    /// Shell command that builds and pushes the image (documentation output).
    build: String,
}

/// Cloud Run's CPU limits are whole vCPUs from a fixed set.
fn cpu(vcpu: Option<f64>) -> &'static str {
    match vcpu.unwrap_or(1.0) {
        v if v <= 1.0 => "1",
        v if v <= 2.0 => "2",
        v if v <= 4.0 => "4",
        _ => "8",
    }
}

fn service(d: &Decision, s: &ServicePlan) -> Result<Svc, RenderError> {
    let ident = tf_ident(&s.name);
    let mut env = Vec::new();
    let mut secrets = Vec::new();
    for b in &s.env {
        // Cloud Run sets PORT itself and refuses it in the spec.
        if b.name == "PORT" {
            continue;
        }
        let (value, secret) = match &b.value {
            EnvValue::Literal { value } => (Some(hcl(value)), None),
            EnvValue::Input { variable } => (Some(format!("var.{}", tf_ident(variable))), None),
            EnvValue::Deployment {
                output: DeploymentOutput::Port,
            } => (Some(hcl(&s.port.unwrap_or(8080).to_string())), None),
            EnvValue::GeneratedSecret { secret } | EnvValue::UserSecret { secret } => {
                let label = tf_ident(secret);
                if !secrets.contains(&label) {
                    secrets.push(label.clone());
                }
                (None, Some(label))
            }
            _ => {
                return Err(crate::unsupported(
                    d,
                    &format!(
                    "environment variable `{}` of service `{}` (fed by a database, cache or URL)",
                    b.name, s.name
                ),
                    "not written yet for Cloud Run",
                ))
            }
        };
        env.push(Env {
            name: hcl(&b.name),
            value,
            secret,
        });
    }
    let (min, max, concurrency) = match &s.scaling {
        Some(sc) => (
            sc.min,
            sc.max.max(1),
            sc.autoscaling
                .as_ref()
                .filter(|a| a.metric == ScalingMetric::ConcurrentRequests)
                .map(|a| (a.target.round() as u32).clamp(1, 1000)),
        ),
        None => (0, 1, None),
    };
    let memory = s
        .compute
        .as_ref()
        .and_then(|c| c.memory_mib)
        .unwrap_or(512)
        .max(512);
    let dockerfile = match (crate::docker::bundle_dockerfile(d, &s.name), &s.dockerfile) {
        (Some(p), _) => format!("cp <bundle>/{p} ./Dockerfile && "),
        (None, Some(p)) if p == "Dockerfile" || p.ends_with("/Dockerfile") => String::new(),
        _ => {
            return Err(crate::unsupported(
                d,
                &format!("service `{}` without a buildable Dockerfile", s.name),
                "add a Dockerfile or a start command to the service",
            ))
        }
    };
    let context = match (&s.dockerfile, crate::docker::bundle_dockerfile(d, &s.name)) {
        (Some(p), None) => p
            .trim_end_matches("Dockerfile")
            .trim_end_matches('/')
            .to_string(),
        _ => String::new(),
    };
    let context = if context.is_empty() {
        ".".into()
    } else {
        context
    };
    Ok(Svc {
        ident,
        name: super::gcp_name(&s.name, 28),
        account_id: super::gcp_name(&format!("run-{}-sa", s.name), 28),
        port: s.port.unwrap_or(8080),
        cpu: cpu(s.compute.as_ref().and_then(|c| c.vcpu)),
        memory: format!("{memory}Mi"),
        min,
        max: max.max(min),
        concurrency,
        health_path: s.health_check.as_ref().map(|h| hcl(&h.path)),
        public: s.public,
        env,
        secrets,
        build: format!(
            "{dockerfile}gcloud builds submit --project @PROJECT@ --tag @IMAGE@ {}",
            crate::escape::sh(&context)
        ),
    })
}

/// (APIs used, files) of the Cloud Run bundle.
pub fn render(d: &Decision) -> Result<(Vec<&'static str>, Vec<BundleFile>), RenderError> {
    let running: Vec<&ServicePlan> = d
        .services
        .iter()
        .filter(|s| s.kind == ServiceKind::Web)
        .collect();
    if running.len() != 1 || running.len() != d.services.len() {
        return Err(crate::unsupported(
            d,
            "a Cloud Run bundle with other than exactly one web service",
            "not written yet",
        ));
    }
    let svc = service(d, running[0])?;
    let apis = vec![
        "artifactregistry.googleapis.com",
        "cloudbuild.googleapis.com",
        "iam.googleapis.com",
        "run.googleapis.com",
    ];
    let ctx = serde_json::json!({ "s": svc });
    Ok((
        apis,
        vec![
            file(
                "terraform/cloud_run_build.tf",
                "gcp/cloud_run/build.tf",
                &ctx,
            )?,
            file(
                "terraform/cloud_run_service.tf",
                "gcp/cloud_run/service.tf",
                &ctx,
            )?,
            file("terraform/outputs.tf", "gcp/cloud_run/outputs.tf", &ctx)?,
        ],
    ))
}
