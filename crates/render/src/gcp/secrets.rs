//! GCP Secret Manager: one `google_secret_manager_secret.<tf_ident(name)>`
//! per secret of the plan (and per secret an env var references). Only the
//! slot is declared; no value ever reaches a `.tf` file or the state. The
//! deploy stage adds the first version (`gcloud secrets versions add`):
//! generated secrets from a CSPRNG, user secrets from the user. Cloud Run
//! reads them by `secret_key_ref` (version `latest`).
//!
//! Not here: who may read them (cloud_run.rs grants its service accounts).

use crate::aws::data::tf_ident;
use crate::{file, BundleFile, RenderError};
use autodeploy_core::{Decision, EnvValue, SecretKind};
use serde::Serialize;

#[derive(Serialize)]
struct Secret {
    ident: String,
    secret_id: String,
    generated: bool,
}

/// Logical names of every secret the bundle declares, in order.
pub fn secret_names(d: &Decision) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = d
        .secrets
        .iter()
        .map(|s| (s.name.clone(), s.kind == SecretKind::Generated))
        .collect();
    for s in &d.services {
        for b in &s.env {
            let (name, generated) = match &b.value {
                EnvValue::GeneratedSecret { secret } => (secret, true),
                EnvValue::UserSecret { secret } => (secret, false),
                _ => continue,
            };
            if !out.iter().any(|(n, _)| n == name) {
                out.push((name.clone(), generated));
            }
        }
    }
    out
}

/// `secrets.tf`, or nothing when the plan has no secrets.
pub fn render(d: &Decision) -> Result<Vec<BundleFile>, RenderError> {
    let names = secret_names(d);
    if names.is_empty() {
        return Ok(vec![]);
    }
    let secrets: Vec<Secret> = names
        .into_iter()
        .map(|(n, generated)| Secret {
            ident: tf_ident(&n),
            secret_id: super::gcp_name(&n, 200),
            generated,
        })
        .collect();
    Ok(vec![file(
        "terraform/secrets.tf",
        "gcp/common/secrets.tf",
        serde_json::json!({ "secrets": secrets }),
    )?])
}
