//! Azure Terraform: one `.tf` file per concern under `terraform/`, using only
//! the `hashicorp/azurerm` provider (~> 4.0) and Terraform built-ins (no
//! random/tls/null/azapi providers).
//!
//! Resource names shared between Azure files (the contract between modules):
//! - this module (common files): `azurerm_resource_group.main`, `local.name`
//!   (resource name prefix), `local.compact` (the prefix reduced to `[a-z0-9]`
//!   plus a stable 8-character suffix, for globally unique names such as the
//!   registry and the Key Vault), `local.tags`, `var.location`, `var.name`,
//!   `data.azurerm_client_config.current`.
//! - container_apps.rs: `azurerm_log_analytics_workspace.main`,
//!   `azurerm_container_app_environment.main`, `azurerm_container_registry.main`,
//!   `azurerm_user_assigned_identity.apps`, `azurerm_key_vault.main` and one
//!   `azurerm_container_app.svc_<i>` per service.
//!
//! Secrets: Container Apps read them from Key Vault through the user-assigned
//! identity (`key_vault_secret_id`); no secret value is ever written into a
//! `.tf` file or Terraform state. Terraform creates the vault, the deploy stage
//! fills each secret slot (generated values with `az keyvault secret set`, user
//! secrets from the user) before the container apps are applied.
//!
//! Not here: choosing anything (decide did). Not written yet, and failing
//! through [`crate::unsupported`]: the vm, kubernetes (AKS), serverless and
//! static strategies on Azure, managed databases and caches, custom domains,
//! and env values that point at a database, cache or another service.

pub mod container_apps;

use crate::{file, unsupported, BundleFile, RenderError};
use autodeploy_core::{Decision, DeployStrategy};

/// Every Terraform file of an Azure bundle.
pub fn render(d: &Decision) -> Result<Vec<BundleFile>, RenderError> {
    let strategy_files = match d.strategy {
        DeployStrategy::Container => container_apps::render(d)?,
        DeployStrategy::Vm => {
            return Err(unsupported(
                d,
                "an Azure Linux VM",
                "not written yet; ask for Azure Container Apps (\"on Azure Container Apps\")",
            ))
        }
        DeployStrategy::Kubernetes => {
            return Err(unsupported(
                d,
                "AKS",
                "not written yet; ask for Azure Container Apps",
            ))
        }
        DeployStrategy::Serverless | DeployStrategy::Static => {
            return Err(unsupported(
                d,
                "this strategy on Azure",
                "not written yet; ask for Azure Container Apps",
            ))
        }
        DeployStrategy::Process => {
            return Err(unsupported(
                d,
                "an Azure bundle",
                "the local target needs no Terraform",
            ))
        }
    };
    if d.database.is_some() {
        return Err(unsupported(
            d,
            "an Azure managed database (flexible server)",
            "not written yet",
        ));
    }
    if d.cache.is_some() {
        return Err(unsupported(d, "Azure Cache for Redis", "not written yet"));
    }
    if d.tls.domain.is_some() {
        return Err(unsupported(
            d,
            "a custom domain on Azure",
            "not written yet; the platform's own https address is used without a domain",
        ));
    }
    let mut files = common(d)?;
    files.extend(strategy_files);
    Ok(files)
}

/// `s` reduced to a name Azure accepts for apps: lowercase `[a-z0-9-]`,
/// starting with a letter, no double or trailing hyphen, at most `max` chars.
pub(crate) fn slug(s: &str, max: usize) -> String {
    let mut out = String::new();
    for c in s.chars().flat_map(char::to_lowercase) {
        let c = if c.is_ascii_alphanumeric() { c } else { '-' };
        if c == '-' && (out.is_empty() || out.ends_with('-')) {
            continue;
        }
        if out.is_empty() && c.is_ascii_digit() {
            out.push('a');
        }
        out.push(c);
    }
    out.truncate(max);
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        out.push_str("app");
    }
    out
}

/// versions.tf, backend.tf, providers.tf, variables.tf and main.tf.
fn common(d: &Decision) -> Result<Vec<BundleFile>, RenderError> {
    let ctx = serde_json::json!({
        "name": slug(&d.name, 24),
        "location": d.region,
        "environment": d.environment,
        "commit": d.source.commit.clone().unwrap_or_default(),
        "container": d.strategy == DeployStrategy::Container,
    });
    ["versions", "backend", "providers", "variables", "main"]
        .iter()
        .map(|f| {
            file(
                &format!("terraform/{f}.tf"),
                &format!("azure/common/terraform/{f}.tf"),
                &ctx,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn slugs_are_azure_names() {
        assert_eq!(slug("Todo Board", 32), "todo-board");
        assert_eq!(slug("${x}; rm -rf /", 32), "x-rm-rf");
        assert_eq!(slug("9lives", 32), "a9lives");
        assert_eq!(slug("---", 32), "app");
        assert_eq!(slug("abcdef-gh", 7), "abcdef");
    }
}
