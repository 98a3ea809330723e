//! GCP Terraform: one `.tf` file per concern under `terraform/`, using only
//! the `hashicorp/google` provider (~> 6.0) and Terraform built-ins (no
//! random/archive/null providers).
//!
//! Resource names shared between files (the contract between modules):
//! - common (this file): `var.project`, `var.region`, `var.name`,
//!   `var.environment`, `var.app_commit`, `local.name` (resource name
//!   prefix), `local.labels`, `google_project_service.apis` (for_each over
//!   the APIs the bundle needs; every resource that needs an API
//!   `depends_on` it).
//! - secrets.rs: `google_secret_manager_secret.<tf_ident(secret)>` for each
//!   secret of the plan. Only the secret (the slot) is created here; values
//!   are never in `.tf` files: the deploy stage adds a version
//!   (`gcloud secrets versions add`) — generated ones from a CSPRNG, user
//!   ones from the user — before the services start.
//! - cloud_run.rs: Artifact Registry `google_artifact_registry_repository.app`,
//!   one `google_cloud_run_v2_service.<ident>` per service.
//!
//! Covered: the container strategy on Cloud Run (one running service, env
//! from literals, inputs and Secret Manager). Everything else (Compute
//! Engine VMs, Cloud SQL, Memorystore, GKE, Cloud Storage + CDN, custom
//! domains) returns [`crate::unsupported`]. Not here: choosing sizes or
//! services (decide did), the Dockerfile (docker.rs).

pub mod cloud_run;
pub mod secrets;

use crate::{file, BundleFile, RenderError};
use autodeploy_core::{Decision, DeployStrategy};
use serde::Serialize;

/// A GCP resource name: lowercase letters, digits and `-`, starting with a
/// letter, not ending in `-`, at most `max` characters (never empty).
pub fn gcp_name(name: &str, max: usize) -> String {
    let mut s = String::new();
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            s.push(c);
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
    }
    if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        s.insert_str(0, "app-");
    }
    s.truncate(max);
    while s.ends_with('-') {
        s.pop();
    }
    if s.is_empty() {
        s.push_str("app");
    }
    s
}

#[derive(Serialize)]
struct Input {
    variable: String,
    env: String,
}

#[derive(Serialize)]
struct Common<'a> {
    region: &'a str,
    name: String,
    environment: &'a str,
    commit: String,
    apis: Vec<&'static str>,
    inputs: Vec<Input>,
}

/// Every Terraform file of a GCP bundle.
pub fn render(d: &Decision) -> Result<Vec<BundleFile>, RenderError> {
    if d.database.is_some() {
        return Err(crate::unsupported(
            d,
            "a Cloud SQL database",
            "not written yet",
        ));
    }
    if d.cache.is_some() {
        return Err(crate::unsupported(
            d,
            "a Memorystore cache",
            "not written yet",
        ));
    }
    if d.tls.domain.is_some() {
        return Err(crate::unsupported(
            d,
            "a custom domain on GCP",
            "not written yet",
        ));
    }
    let (mut apis, strategy_files) = match d.strategy {
        DeployStrategy::Container => cloud_run::render(d)?,
        DeployStrategy::Vm => {
            return Err(crate::unsupported(
                d,
                "a Compute Engine VM bundle",
                "not written yet; ask for Cloud Run (\"on Google Cloud Run\") instead",
            ))
        }
        DeployStrategy::Kubernetes => {
            return Err(crate::unsupported(d, "a GKE bundle", "not written yet"))
        }
        DeployStrategy::Serverless | DeployStrategy::Static => {
            return Err(crate::unsupported(
                d,
                "a GCP serverless/static bundle",
                "not written yet",
            ))
        }
        DeployStrategy::Process => {
            return Err(crate::unsupported(
                d,
                "a GCP bundle",
                "the local target needs no Terraform",
            ))
        }
    };
    let secret_files = secrets::render(d)?;
    if !secret_files.is_empty() {
        apis.push("secretmanager.googleapis.com");
    }
    apis.sort_unstable();
    apis.dedup();
    let mut inputs: Vec<Input> = Vec::new();
    for s in &d.services {
        for b in &s.env {
            if let autodeploy_core::EnvValue::Input { variable } = &b.value {
                let variable = crate::aws::data::tf_ident(variable);
                if !inputs.iter().any(|i| i.variable == variable) {
                    inputs.push(Input {
                        variable,
                        env: b.name.clone(),
                    });
                }
            }
        }
    }
    let ctx = Common {
        region: &d.region,
        name: gcp_name(&d.name, 20),
        environment: d.environment.as_str(),
        commit: d.source.commit.clone().unwrap_or_else(|| "latest".into()),
        apis,
        inputs,
    };
    let mut files = vec![
        file("terraform/versions.tf", "gcp/common/versions.tf", &ctx)?,
        file("terraform/providers.tf", "gcp/common/providers.tf", &ctx)?,
        file("terraform/variables.tf", "gcp/common/variables.tf", &ctx)?,
        file("terraform/backend.tf", "gcp/common/backend.tf", &ctx)?,
        file("terraform/main.tf", "gcp/common/main.tf", &ctx)?,
    ];
    files.extend(secret_files);
    files.extend(strategy_files);
    Ok(files)
}
