//! Azure data services: Azure Database for PostgreSQL / MySQL flexible server
//! (`terraform/database.tf`) and Azure Cache for Redis (`terraform/cache.tf`).
//!
//! - The flexible server sits in the delegated `azurerm_subnet.database` with
//!   a private DNS zone linked to the VNet and no public access. Its admin
//!   password comes from the Key Vault slot named by the plan's credentials
//!   (filled by the deploy stage, see `secrets.rs`) through the ephemeral
//!   `azurerm_key_vault_secret` into the write-only `administrator_password_wo`,
//!   so it is in neither the files nor the state; bumping
//!   `var.database_password_version` after writing a new value rotates it.
//!   Backups (retention, geo-redundancy in production), zone-redundant high
//!   availability and deletion protection (`prevent_destroy` plus a
//!   `CanNotDelete` lock) follow the plan.
//! - Redis: TLS only (non-TLS port off, TLS 1.2), public access off, reached
//!   through a private endpoint in `azurerm_subnet.private_endpoints` with the
//!   `privatelink.redis.cache.windows.net` zone. Azure generates the access
//!   key; Terraform copies it into the Key Vault slot the plan names (the key
//!   is in the Redis resource's state anyway, as with every azurerm cache).
//!
//! Shared names: `azurerm_postgresql_flexible_server.main` /
//! `azurerm_mysql_flexible_server.main` with
//! `azurerm_postgresql_flexible_server_database.main` /
//! `azurerm_mysql_flexible_database.main`, `azurerm_redis_cache.main`.
//!
//! Not here: choosing tiers and sizes (decide did), wiring the values into
//! apps (`env.rs` and the strategies), the subnets (network.rs).

use super::env::slot;
use crate::{file, unsupported, BundleFile, RenderError};
use autodeploy_core::{DataService, Decision, Environment};
use serde_json::json;

/// The flexible server storage sizes Azure offers (GiB).
const PG_STORAGE_GB: [u32; 12] = [
    32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536,
];

/// The Redis tier from a plan's node type (`Standard_C1` → Standard, C, 1).
fn redis_sku(node_type: &str) -> Option<(&str, char, u32)> {
    let (sku, size) = node_type.split_once('_')?;
    let mut chars = size.chars();
    let family = chars.next()?;
    let capacity: u32 = chars.as_str().parse().ok()?;
    let ok = matches!(
        (sku, family),
        ("Basic" | "Standard", 'C') | ("Premium", 'P')
    ) && capacity <= 6;
    ok.then_some((sku, family, capacity))
}

/// The plan's names and tiers reach HCL quoted, but must also be names Azure takes.
fn plain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

/// `terraform/database.tf` and `terraform/cache.tf`, as the plan needs them,
/// and the Key Vault slots Terraform itself fills (the Redis key).
pub fn render(d: &Decision) -> Result<(Vec<BundleFile>, Vec<String>), RenderError> {
    let mut files = Vec::new();
    let mut managed = Vec::new();
    if let Some(db) = &d.database {
        let (kind, version) = match db.service {
            DataService::AzurePostgresqlFlexible => ("postgresql", db.version.clone()),
            DataService::AzureMysqlFlexible => (
                "mysql",
                if db.version == "8.0" {
                    "8.0.21".to_string()
                } else {
                    db.version.clone()
                },
            ),
            _ => {
                return Err(unsupported(
                    d,
                    &format!("the database service {:?} on Azure", db.service),
                    "Azure bundles provision PostgreSQL and MySQL flexible servers; MongoDB needs an external connection string",
                ))
            }
        };
        for (what, v) in [
            ("database name", &db.db_name),
            ("admin user name", &db.username),
            ("tier", &db.instance_class),
            ("version", &version),
        ] {
            if !plain(v) {
                return Err(unsupported(
                    d,
                    &format!("the {what} {v:?} on a flexible server"),
                    "names and tiers are letters, digits, `_` and `.`",
                ));
            }
        }
        let storage_gb = PG_STORAGE_GB
            .iter()
            .copied()
            .find(|g| *g >= db.storage_gb)
            .unwrap_or(65536);
        let ctx = json!({
            "kind": kind,
            "zone_suffix": if kind == "postgresql" { "postgres" } else { "mysql" },
            "version": version,
            "sku": db.instance_class,
            "storage_gb": storage_gb,
            "storage_mb": storage_gb * 1024,
            "auto_grow": db.max_storage_gb > db.storage_gb,
            "ha": db.multi_az,
            "backup_days": db.backup_retention_days.clamp(7, 35),
            "geo_backup": d.environment == Environment::Production,
            "protect": db.deletion_protection,
            "db_name": db.db_name,
            "username": db.username,
            "slot": slot(&db.credentials.secret),
            "require_tls": db.require_tls,
        });
        files.push(file(
            "terraform/database.tf",
            "azure/data/terraform/database.tf",
            &ctx,
        )?);
    }
    if let Some(c) = &d.cache {
        if c.service != DataService::AzureCacheForRedis {
            return Err(unsupported(
                d,
                &format!("the cache service {:?} on Azure", c.service),
                "Azure bundles provision Azure Cache for Redis",
            ));
        }
        let Some((sku, family, capacity)) = redis_sku(&c.node_type) else {
            return Err(unsupported(
                d,
                &format!("the Redis tier {:?}", c.node_type),
                "Azure Cache for Redis tiers look like Basic_C0, Standard_C1 or Premium_P1",
            ));
        };
        let Some(auth) = &c.auth else {
            return Err(unsupported(
                d,
                "Azure Cache for Redis without a Key Vault slot for its key",
                "the cache plan names the secret its access key goes to",
            ));
        };
        let slot = slot(&auth.secret);
        managed.push(slot.clone());
        let ctx = json!({
            "sku": sku,
            "family": family.to_string(),
            "capacity": capacity,
            "slot": slot,
            "tls": c.transit_encryption,
        });
        files.push(file(
            "terraform/cache.tf",
            "azure/data/terraform/cache.tf",
            &ctx,
        )?);
    }
    Ok((files, managed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_tiers_parse() {
        assert_eq!(redis_sku("Standard_C1"), Some(("Standard", 'C', 1)));
        assert_eq!(redis_sku("Basic_C0"), Some(("Basic", 'C', 0)));
        assert_eq!(redis_sku("Premium_P2"), Some(("Premium", 'P', 2)));
        assert_eq!(redis_sku("Basic_P1"), None);
        assert_eq!(redis_sku("cache.t4g.micro"), None);
    }

    #[test]
    fn plain_names_only() {
        assert!(plain("GP_Standard_D2ds_v5"));
        assert!(plain("8.0.21"));
        assert!(!plain("x\"y"));
        assert!(!plain("${a}"));
    }
}
