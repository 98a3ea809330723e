//! GCP data stores, private IPs only (private service access, network.rs):
//! Cloud SQL PostgreSQL/MySQL `google_sql_database_instance.db` with
//! `google_sql_database.app` and `google_sql_user.app`, and Memorystore for
//! Redis `google_redis_instance.cache` (AUTH and TLS in transit when the plan
//! says so: off for a client that cannot send them, decide's `fit_to_clients`).
//!
//! Credentials (the contract with the deploy stage; no random provider, no
//! value in `.tf` files, plan or state):
//! - The database password is the ephemeral variable `database_password`,
//!   passed to the write-only `google_sql_user.app.password_wo`. The deploy
//!   stage generates it from a CSPRNG, passes it as `TF_VAR_database_password`
//!   on every plan/apply and writes the same value to the Secret Manager slot
//!   of the plan's credentials secret (`database-credentials`). To rotate:
//!   new value + `database_password_version` + 1.
//! - Memorystore generates the AUTH string (it is in the state, as the
//!   provider stores it); the deploy stage copies it into the slot
//!   `cache-auth-token` (`gcloud redis instances get-auth-string`). Without
//!   AUTH there is no such slot.
//! - Cloud Run cannot assemble a URL at start, so for it the deploy stage also
//!   writes `database-url` (`postgresql://user:password@host:port/name`, the
//!   password percent-encoded), `database-url-<scheme>` (the same URL with
//!   the scheme the app expects, `postgresql+asyncpg` →
//!   `database-url-postgresql-asyncpg`), `database-mysql-dsn`
//!   (`user:password@tcp(host:port)/name`, Go's MySQL driver),
//!   `database-ado-connection-string` and `cache-url`
//!   (`redis://:token@host:port/0`, `rediss://` with TLS) when an env var
//!   asks for them. VMs assemble them at start (vm.rs's launcher);
//!   GKE gets them in the deploy stage's Kubernetes Secret (k8s.rs).
//!
//! Cloud SQL offers TLS but does not require it (the private IP is reachable
//! from the VPC only; common drivers connect without TLS by default).
//! Backups, point-in-time recovery, high availability, deletion protection and
//! storage autoscaling follow the plan (which follows the environment).
//! Not here: the network (network.rs), who may read the slots (each platform
//! grants its own identity).

use super::{Part, Var};
use crate::aws::data::tf_ident;
use crate::escape::hcl;
use crate::{file, RenderError};
use autodeploy_core::{
    Cache, CacheOutput, DataService, DatabaseEngine, DatabaseOutput, Decision, EnvValue,
};
use serde_json::json;

/// Slot the deploy stage fills with the full database URL (Cloud Run).
pub const DATABASE_URL_SLOT: &str = "database-url";
/// Slot for the ADO.NET connection string (Cloud Run).
pub const DATABASE_ADO_SLOT: &str = "database-ado-connection-string";
/// Slot for the Go MySQL driver's DSN (Cloud Run).
pub const DATABASE_MYSQL_DSN_SLOT: &str = "database-mysql-dsn";

/// The slot holding the database URL with `scheme` (`None`: the engine's
/// default, [`DATABASE_URL_SLOT`]); `Err` names a scheme that is not one.
pub fn database_url_slot(scheme: Option<&str>) -> Result<String, String> {
    match scheme {
        None => Ok(DATABASE_URL_SLOT.to_string()),
        Some(s) if autodeploy_core::conn::is_url_scheme(s) => Ok(format!(
            "{DATABASE_URL_SLOT}-{}",
            s.to_ascii_lowercase()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect::<String>()
        )),
        Some(s) => Err(format!("the URL scheme {s:?}")),
    }
}

/// The Cloud Run slot for a database output that must be assembled, if any.
fn assembled_slot(
    d: &Decision,
    output: DatabaseOutput,
    scheme: Option<&str>,
) -> Result<Option<String>, RenderError> {
    Ok(match output {
        DatabaseOutput::Url => Some(database_url_slot(scheme).map_err(|what| {
            crate::unsupported(d, &what, "a scheme is letters, digits, `+`, `-` and `.`")
        })?),
        DatabaseOutput::AdoConnectionString => Some(DATABASE_ADO_SLOT.into()),
        DatabaseOutput::MysqlDsn => Some(DATABASE_MYSQL_DSN_SLOT.into()),
        _ => None,
    })
}
/// Slot for the Memorystore AUTH string (every platform).
pub const CACHE_AUTH_SLOT: &str = "cache-auth-token";
/// Slot for the full cache URL (Cloud Run).
pub const CACHE_URL_SLOT: &str = "cache-url";

/// Where an env var fed by a data store gets its value on a platform that
/// runs no code of ours before the app (Cloud Run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataRef {
    /// An HCL expression of a value that is not secret.
    Value(String),
    /// The logical name of a Secret Manager slot.
    Secret(String),
}

/// The inside of an HCL string literal for `s` (for building templates).
pub fn hcl_inner(s: &str) -> String {
    let q = hcl(s);
    q[1..q.len() - 1].to_string()
}

/// `postgresql` / `mysql`: the URL scheme of the engine.
pub fn scheme(engine: DatabaseEngine) -> &'static str {
    match engine {
        DatabaseEngine::Mysql => "mysql",
        _ => "postgresql",
    }
}

/// The value of a database/cache env var on Cloud Run.
pub fn cloud_run_ref(d: &Decision, v: &EnvValue) -> Result<Option<DataRef>, RenderError> {
    Ok(Some(match v {
        EnvValue::Database {
            output,
            scheme: wanted,
        } => {
            let Some(db) = &d.database else {
                return Err(crate::unsupported(
                    d,
                    "a database env var without a database plan",
                    "decide plans the database the app reads",
                ));
            };
            let host = "google_sql_database_instance.db.private_ip_address";
            if db.service == DataService::External {
                // The user's own database: its connection string is the secret.
                return match output {
                    DatabaseOutput::Url | DatabaseOutput::AdoConnectionString => {
                        Ok(Some(DataRef::Secret(db.credentials.secret.clone())))
                    }
                    _ => Err(crate::unsupported(
                        d,
                        &format!("the {output:?} of an external database"),
                        "an external database is reached through its connection string only",
                    )),
                };
            }
            match output {
                DatabaseOutput::Url
                | DatabaseOutput::AdoConnectionString
                | DatabaseOutput::MysqlDsn => DataRef::Secret(
                    assembled_slot(d, *output, wanted.as_deref())?.unwrap_or_default(),
                ),
                DatabaseOutput::JdbcUrl => DataRef::Value(format!(
                    "\"jdbc:{}://${{{host}}}:{}/{}\"",
                    scheme(db.engine),
                    db.port,
                    hcl_inner(&db.db_name)
                )),
                DatabaseOutput::Host => DataRef::Value(host.into()),
                DatabaseOutput::Port => DataRef::Value(hcl(&db.port.to_string())),
                DatabaseOutput::Name => DataRef::Value("google_sql_database.app.name".into()),
                DatabaseOutput::Username => DataRef::Value("google_sql_user.app.name".into()),
                DatabaseOutput::Password => DataRef::Secret(db.credentials.secret.clone()),
            }
        }
        EnvValue::Cache { output } => {
            if d.cache.is_none() {
                return Err(crate::unsupported(
                    d,
                    "a cache env var without a cache plan",
                    "decide plans the cache the app reads",
                ));
            }
            match output {
                CacheOutput::Url => DataRef::Secret(CACHE_URL_SLOT.into()),
                CacheOutput::Password => DataRef::Secret(CACHE_AUTH_SLOT.into()),
                CacheOutput::Host => DataRef::Value("google_redis_instance.cache.host".into()),
                CacheOutput::Port => {
                    DataRef::Value("tostring(google_redis_instance.cache.port)".into())
                }
                CacheOutput::Address => DataRef::Value(
                    "\"${google_redis_instance.cache.host}:${google_redis_instance.cache.port}\""
                        .into(),
                ),
            }
        }
        _ => return Ok(None),
    }))
}

/// `-target=` addresses of the data stores, for the deploy stage's first apply.
pub fn targets(d: &Decision) -> Vec<&'static str> {
    let mut out = Vec::new();
    if d.database
        .as_ref()
        .is_some_and(|db| db.service == DataService::GcpCloudSql)
    {
        out.extend(["google_sql_database.app", "google_sql_user.app"]);
    }
    if d.cache.is_some() {
        out.push("google_redis_instance.cache");
    }
    out
}

/// The Secret Manager slots the data stores need, as (logical name, who fills
/// it: `deploy`). `cloud_run` adds the assembled-URL slots Cloud Run reads.
pub fn slots(d: &Decision) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(db) = &d.database {
        out.push(db.credentials.secret.clone());
    }
    if d.cache.as_ref().is_some_and(|c| c.auth.is_some()) {
        out.push(CACHE_AUTH_SLOT.to_string());
    }
    let managed_db = d
        .database
        .as_ref()
        .is_some_and(|db| db.service == DataService::GcpCloudSql);
    if d.strategy == autodeploy_core::DeployStrategy::Container {
        for b in d.services.iter().flat_map(|s| &s.env) {
            let slot = match &b.value {
                EnvValue::Database { output, scheme } if managed_db => {
                    match assembled_slot(d, *output, scheme.as_deref()) {
                        Ok(Some(slot)) => slot,
                        // An invalid scheme fails the render where the env var is wired.
                        _ => continue,
                    }
                }
                EnvValue::Cache {
                    output: CacheOutput::Url,
                } => CACHE_URL_SLOT.to_string(),
                _ => continue,
            };
            if !out.contains(&slot) {
                out.push(slot);
            }
        }
    }
    out
}

/// Cloud SQL's `database_version` for the plan's engine and version.
fn database_version(
    d: &Decision,
    engine: DatabaseEngine,
    version: &str,
) -> Result<String, RenderError> {
    let ok = !version.is_empty() && version.chars().all(|c| c.is_ascii_digit() || c == '.');
    match engine {
        DatabaseEngine::Postgresql if ok => {
            let major = version.split('.').next().unwrap_or("16");
            Ok(format!("POSTGRES_{major}"))
        }
        DatabaseEngine::Mysql if ok => {
            let mut parts = version.split('.');
            let major = parts.next().unwrap_or("8");
            let minor = parts.next().unwrap_or("0");
            Ok(format!("MYSQL_{major}_{minor}"))
        }
        _ => Err(crate::unsupported(
            d,
            &format!("a {engine:?} {version:?} database on Cloud SQL"),
            "Cloud SQL runs PostgreSQL and MySQL; for MongoDB give a connection string (an external database)",
        )),
    }
}

/// Memorystore's `redis_version` (`REDIS_7_2`) for the plan's version.
fn redis_version(version: &str) -> &'static str {
    match version.split('.').next() {
        Some("6") => "REDIS_6_X",
        Some("5") => "REDIS_5_0",
        _ => "REDIS_7_2",
    }
}

/// database.tf / cache.tf, the data outputs and the password variables.
pub fn render(d: &Decision) -> Result<Part, RenderError> {
    let mut part = Part::default();
    let mut outputs = Vec::new();
    if let Some(db) = &d.database {
        match db.service {
            DataService::GcpCloudSql => {}
            DataService::External => {
                // The user's own database: only its secret slot (secrets.rs).
            }
            other => {
                return Err(crate::unsupported(
                    d,
                    &format!("the database service {other:?} on GCP"),
                    "GCP databases are Cloud SQL",
                ))
            }
        }
        if db.service == DataService::GcpCloudSql {
            let version = database_version(d, db.engine, &db.version)?;
            let tier_ok = !db.instance_class.is_empty()
                && db
                    .instance_class
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-');
            if !tier_ok {
                return Err(crate::unsupported(
                    d,
                    &format!("the Cloud SQL tier {:?}", db.instance_class),
                    "a tier name such as db-custom-1-3840",
                ));
            }
            let postgres = db.engine == DatabaseEngine::Postgresql;
            let backups = db.backup_retention_days;
            let ctx = json!({
                "version": version,
                "postgres": postgres,
                "tier": db.instance_class,
                "regional": db.multi_az,
                "storage": db.storage_gb.max(10),
                "max_storage": db.max_storage_gb.max(db.storage_gb.max(10)),
                "backups": backups,
                "log_days": backups.clamp(1, 7),
                "deletion_protection": db.deletion_protection,
                "db_name": hcl(&db.db_name),
                "username": hcl(&db.username),
                "secret": tf_ident(&db.credentials.secret),
                "secret_name": db.credentials.secret,
            });
            part.files
                .push(file("terraform/database.tf", "gcp/data/database.tf", &ctx)?);
            outputs.push(crate::render_template(
                "gcp/data/database_outputs.tf",
                &ctx,
            )?);
            part.apis.push("sqladmin.googleapis.com");
            part.vars.push(Var {
                name: "database_password",
                description: format!(
                    "Password of the database user: a fresh random value from the deploy stage (TF_VAR_database_password), also written to the Secret Manager secret {}. Ephemeral: never stored in the plan or the state.",
                    db.credentials.secret
                ),
                r#type: "string",
                default: None,
                sensitive: true,
                ephemeral: true,
            });
            part.vars.push(Var::new(
                "database_password_version",
                "Increase by one whenever database_password changes, so the new password is written (write-only argument).",
                "number",
                "1".into(),
            ));
        }
    }
    if let Some(c) = &d.cache {
        if c.service != DataService::GcpMemorystore || c.engine != Cache::Redis {
            return Err(crate::unsupported(
                d,
                &format!("a {:?} cache on {:?}", c.engine, c.service),
                "GCP caches are Memorystore for Redis here; ask for Redis",
            ));
        }
        let ctx = json!({
            "tier": if c.high_availability { "STANDARD_HA" } else { "BASIC" },
            "memory_gb": (c.memory_gb.ceil() as u32).max(1),
            "version": redis_version(&c.version),
            "tls": c.transit_encryption,
            "auth": c.auth.is_some(),
            "secret_name": CACHE_AUTH_SLOT,
        });
        part.files
            .push(file("terraform/cache.tf", "gcp/data/cache.tf", &ctx)?);
        outputs.push(crate::render_template("gcp/data/cache_outputs.tf", &ctx)?);
        part.apis.push("redis.googleapis.com");
    }
    if !outputs.is_empty() {
        part.files.push(crate::BundleFile {
            path: "terraform/data_outputs.tf".into(),
            contents: outputs.join("\n"),
            executable: false,
        });
    }
    Ok(part)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_map_to_gcp_names() {
        assert_eq!(redis_version("7.1"), "REDIS_7_2");
        assert_eq!(redis_version("6.2"), "REDIS_6_X");
        assert_eq!(hcl_inner("a\"${b}"), "a\\\"$${b}");
    }
}
