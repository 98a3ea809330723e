//! GCP Secret Manager: one `google_secret_manager_secret.<tf_ident(name)>`
//! per secret slot: the plan's secrets, every secret an env var references,
//! and the data slots data.rs names (database password, cache AUTH string,
//! and for Cloud Run the assembled URLs). Only the slot is declared; no value
//! ever reaches a `.tf` file or the state. The deploy stage adds each first
//! version (`gcloud secrets versions add`), as the label `filled-by` says:
//! `csprng` (a random value it generates), `user` (the user gives it) or
//! `deploy` (it copies or assembles it after the data stores exist, see
//! data.rs). Platforms read them at version `latest`.
//!
//! Not here: who may read them (each platform grants its own identity).

use crate::aws::data::tf_ident;
use crate::{file, BundleFile, RenderError};
use autodeploy_core::{Decision, EnvValue, SecretKind};
use serde::Serialize;

#[derive(Serialize)]
struct Secret {
    ident: String,
    secret_id: String,
    filled_by: &'static str,
}

/// Every secret slot of the bundle: (logical name, who fills it), in order.
pub fn slots(d: &Decision) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = d
        .secrets
        .iter()
        .map(|s| {
            let by = match s.kind {
                SecretKind::Generated | SecretKind::DatabaseCredentials => "csprng",
                SecretKind::UserSupplied => "user",
                SecretKind::CacheAuth => "deploy",
            };
            (s.name.clone(), by)
        })
        .collect();
    let mut add = |name: &str, by: &'static str| {
        if !out.iter().any(|(n, _)| n == name) {
            out.push((name.to_string(), by));
        }
    };
    for s in &d.services {
        for b in &s.env {
            match &b.value {
                EnvValue::GeneratedSecret { secret } => add(secret, "csprng"),
                EnvValue::UserSecret { secret } => add(secret, "user"),
                _ => {}
            }
        }
    }
    if let Some(db) = &d.database {
        add(&db.credentials.secret, "csprng");
    }
    for slot in super::data::slots(d) {
        add(&slot, "deploy");
    }
    out
}

/// `secrets.tf`, or nothing when the plan has no secrets.
pub fn render(d: &Decision) -> Result<Vec<BundleFile>, RenderError> {
    let names = slots(d);
    if names.is_empty() {
        return Ok(vec![]);
    }
    let secrets: Vec<Secret> = names
        .into_iter()
        .map(|(n, filled_by)| Secret {
            ident: tf_ident(&n),
            secret_id: super::gcp_name(&n, 200),
            filled_by,
        })
        .collect();
    // Generated values people use: their Secret Manager ids, keyed by
    // logical name (padded as `terraform fmt` aligns a map's `=`).
    let to_read: Vec<(String, &str)> = secrets
        .iter()
        .filter(|s| {
            d.secrets
                .iter()
                .any(|p| p.read_by_people && tf_ident(&p.name) == s.ident)
        })
        .map(|s| {
            let name = d
                .secrets
                .iter()
                .find(|p| tf_ident(&p.name) == s.ident)
                .map(|p| p.name.as_str())
                .unwrap_or_default();
            (crate::escape::hcl(name), s.ident.as_str())
        })
        .collect();
    let width = to_read
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let to_read: Vec<serde_json::Value> = to_read
        .iter()
        .map(|(k, ident)| {
            let pad = " ".repeat(width - k.chars().count());
            serde_json::json!({ "key": format!("{k}{pad}"), "ident": ident })
        })
        .collect();
    Ok(vec![file(
        "terraform/secrets.tf",
        "gcp/common/secrets.tf",
        serde_json::json!({ "secrets": secrets, "to_read": to_read }),
    )?])
}
