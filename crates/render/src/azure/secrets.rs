//! The Key Vault every Azure strategy reads secrets from: `terraform/key_vault.tf`
//! (`azurerm_key_vault.main`, RBAC-authorised, purge protection on, and the
//! `Key Vault Secrets Officer` role for whoever applies the bundle) plus the
//! outputs that tell the deploy stage which slots to fill.
//!
//! The contract with the deploy stage (no secret value ever passes through a
//! `.tf` file or Terraform state):
//! 1. `terraform apply -target=azurerm_role_assignment.deployer_secrets_officer`
//!    creates the resource group, the vault and the deployer's role.
//! 2. The deploy stage writes every name in the output `key_vault_secret_names`
//!    with `az keyvault secret set`: generated ones (app keys, the database
//!    password) as 32+ random letters and digits — letters and digits only, so
//!    they need no quoting in URLs or connection strings — and user-supplied
//!    ones from the user.
//! 3. The full `terraform apply`: the flexible server reads its password via
//!    the ephemeral `azurerm_key_vault_secret` (write-only argument), the apps
//!    read theirs through their managed identity.
//!
//! The Redis access key is the exception: Azure generates it, and
//! `data.rs` copies it into the vault (slot listed in `key_vault_managed_secret_names`).
//!
//! Not here: who reads which secret (the strategies grant their identities
//! `Key Vault Secrets User`), generating values (the deploy stage does).

use crate::{file, BundleFile, RenderError};
use serde_json::json;

/// `terraform/key_vault.tf`: `filled` are the slots the deploy stage fills,
/// `managed` the ones Terraform fills from a service-generated key.
pub fn render(filled: &[String], managed: &[String]) -> Result<Vec<BundleFile>, RenderError> {
    let ctx = json!({ "filled": filled, "managed": managed });
    Ok(vec![file(
        "terraform/key_vault.tf",
        "azure/common/terraform/key_vault.tf",
        &ctx,
    )?])
}
