//! Where each environment variable of an Azure service gets its value, in
//! one cloud-side vocabulary shared by Container Apps and the Linux VM / VM
//! scale set: a literal, a Terraform expression known after apply (database
//! host, cache host…), a Key Vault secret slot, a bundle input, the public
//! host/URL, or a value joined at start from such parts (connection URLs
//! that embed a password: `DATABASE_URL`, `REDIS_URL`).
//!
//! Each strategy turns a [`Source`] into its own form: Container Apps into
//! `env` blocks (and a start wrapper for joined values), the VM into entries
//! of the launcher's `app.json` resolved at boot from instance tags and Key
//! Vault. AKS needs none of this (the k8s manifests read a ConfigMap and a
//! Secret the deploy stage creates).
//!
//! Not here: rendering (the strategies do), choosing which variables exist
//! (decide did).

use super::slug;
use crate::{unsupported, RenderError};
use autodeploy_core::{
    CacheOutput, DataService, DatabaseEngine, DatabaseOutput, Decision, DeploymentOutput, EnvValue,
    ServicePlan,
};

/// Where one value comes from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Source {
    /// A fixed, non-secret value (from the repository or the plan: escape it).
    Literal(String),
    /// A Terraform expression written by this module (never repository text).
    Tf(String),
    /// The Key Vault secret slot of this name (`[a-z0-9-]`).
    Secret(String),
    /// The bundle input variable of this name.
    Input(String),
    /// The public host name or address.
    PublicHost,
    /// The public host plus the addresses the platform's health checks send
    /// as Host (a VM adds its own at boot).
    AllowedHosts,
    /// `http(s)://` + the public host.
    PublicUrl,
    /// Parts joined at start; `true` parts are percent-encoded.
    Join(Vec<(Source, bool)>),
}

/// One environment variable and its source.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Binding {
    pub name: String,
    pub source: Source,
}

/// Key Vault secret names: `[a-z0-9-]`, at most 127 characters.
pub(crate) fn slot(secret: &str) -> String {
    slug(secret, 127)
}

/// A variable name safe in a shell `export` and in every Azure env field.
pub(crate) fn is_env_name(n: &str) -> bool {
    n.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Terraform identifiers of the managed database: (server resource, database resource).
pub(crate) fn db_resources(d: &Decision) -> Option<(&'static str, &'static str)> {
    match d.database.as_ref()?.service {
        DataService::AzurePostgresqlFlexible => Some((
            "azurerm_postgresql_flexible_server.main",
            "azurerm_postgresql_flexible_server_database.main",
        )),
        DataService::AzureMysqlFlexible => Some((
            "azurerm_mysql_flexible_server.main",
            "azurerm_mysql_flexible_database.main",
        )),
        _ => None,
    }
}

fn lit(s: &str) -> (Source, bool) {
    (Source::Literal(s.into()), false)
}

fn database(
    d: &Decision,
    name: &str,
    output: DatabaseOutput,
    wanted: Option<&str>,
) -> Result<Source, RenderError> {
    let (Some(db), Some((server, database))) = (d.database.as_ref(), db_resources(d)) else {
        return Err(unsupported(
            d,
            &format!("{name} from a database that is not an Azure flexible server"),
            "Azure bundles wire PostgreSQL and MySQL flexible servers only",
        ));
    };
    let (scheme, query) = match db.engine {
        DatabaseEngine::Postgresql => ("postgresql", "?sslmode=require"),
        DatabaseEngine::Mysql => ("mysql", ""),
        _ => {
            return Err(unsupported(
                d,
                "this database engine on Azure",
                "Azure flexible servers are PostgreSQL or MySQL",
            ))
        }
    };
    let url_scheme = match wanted {
        None => scheme,
        Some(s) if autodeploy_core::conn::is_url_scheme(s) => s,
        Some(s) => {
            return Err(unsupported(
                d,
                &format!("the URL scheme {s:?} for {name}"),
                "a scheme is letters, digits, `+`, `-` and `.`",
            ))
        }
    };
    // asyncpg (SQLAlchemy's `postgresql+asyncpg`) takes `ssl`, and refuses
    // libpq's `sslmode` as an unknown argument.
    let query = if url_scheme.contains("asyncpg") {
        "?ssl=require"
    } else {
        query
    };
    let host = Source::Tf(format!("{server}.fqdn"));
    let port = Source::Literal(db.port.to_string());
    let dbname = Source::Tf(format!("{database}.name"));
    let user = Source::Tf(format!("{server}.administrator_login"));
    let password = Source::Secret(slot(&db.credentials.secret));
    Ok(match output {
        DatabaseOutput::Host => host,
        DatabaseOutput::Port => port,
        DatabaseOutput::Name => dbname,
        DatabaseOutput::Username => user,
        DatabaseOutput::Password => password,
        DatabaseOutput::JdbcUrl => Source::Tf(format!(
            "\"jdbc:{scheme}://${{{server}.fqdn}}:{}/${{{database}.name}}{}\"",
            db.port,
            if scheme == "mysql" {
                "?sslMode=REQUIRED"
            } else {
                query
            }
        )),
        DatabaseOutput::MysqlDsn if scheme != "mysql" => {
            return Err(unsupported(
                d,
                &format!("a MySQL DSN in {name} for a {scheme} server"),
                "the Go MySQL DSN format reaches MySQL only",
            ))
        }
        // go-sql-driver/mysql reads the DSN raw; Azure's MySQL server requires TLS.
        DatabaseOutput::MysqlDsn => Source::Join(vec![
            (user, false),
            lit(":"),
            (password, false),
            lit("@tcp("),
            (host, false),
            lit(":"),
            (port, false),
            lit(")/"),
            (dbname, false),
            lit("?tls=true"),
        ]),
        DatabaseOutput::Url => Source::Join(vec![
            lit(&format!("{url_scheme}://")),
            (user, true),
            lit(":"),
            (password, true),
            lit("@"),
            (host, false),
            lit(":"),
            (port, false),
            lit("/"),
            (dbname, false),
            lit(query),
        ]),
        DatabaseOutput::AdoConnectionString => {
            let (h, u, ssl) = if db.engine == DatabaseEngine::Postgresql {
                ("Host=", "Username=", "SSL Mode=Require")
            } else {
                ("Server=", "User ID=", "SslMode=Required")
            };
            Source::Join(vec![
                lit(h),
                (host, false),
                lit(";Port="),
                (port, false),
                lit(";Database="),
                (dbname, false),
                lit(&format!(";{u}")),
                (user, false),
                lit(";Password="),
                (password, false),
                lit(&format!(";{ssl}")),
            ])
        }
    })
}

/// One part of the database's login (`host`, `port`, `user`, `password`,
/// `name`), for a client of the machine's own (the release lock).
pub(crate) fn login_part(d: &Decision, part: &str) -> Result<Source, RenderError> {
    let output = match part {
        "host" => DatabaseOutput::Host,
        "port" => DatabaseOutput::Port,
        "user" => DatabaseOutput::Username,
        "password" => DatabaseOutput::Password,
        _ => DatabaseOutput::Name,
    };
    database(d, "the release lock", output, None)
}

fn cache(
    d: &Decision,
    name: &str,
    output: CacheOutput,
    family: &str,
) -> Result<Source, RenderError> {
    let Some(c) = d
        .cache
        .as_ref()
        .filter(|c| c.service == DataService::AzureCacheForRedis)
    else {
        return Err(unsupported(
            d,
            &format!("{name} from a cache that is not Azure Cache for Redis"),
            "Azure bundles wire Azure Cache for Redis only",
        ));
    };
    let Some(auth) = &c.auth else {
        return Err(unsupported(
            d,
            "Azure Cache for Redis without an access key slot",
            "the cache plan needs its key kept in Key Vault",
        ));
    };
    let host = Source::Tf("azurerm_redis_cache.main.hostname".into());
    // TLS on 6380; the plain port 6379 (inside the private network) for a
    // client that cannot turn TLS on (decide's `fit_to_clients`).
    let port = Source::Literal(c.port.to_string());
    let password = Source::Secret(slot(&auth.secret));
    // What a `rediss://` URL adds for the service's Redis client.
    let tls_path = format!("/0{}", crate::tls_url_query(family));
    Ok(match output {
        CacheOutput::Host => host,
        CacheOutput::Port => port,
        CacheOutput::Address => Source::Tf(format!(
            "\"${{azurerm_redis_cache.main.hostname}}:{}\"",
            c.port
        )),
        CacheOutput::Password => password,
        CacheOutput::Url => Source::Join(vec![
            lit(if c.transit_encryption {
                "rediss://:"
            } else {
                "redis://:"
            }),
            (password, true),
            lit("@"),
            (host, false),
            lit(":"),
            (port, false),
            lit(if c.transit_encryption {
                &tls_path
            } else {
                "/0"
            }),
        ]),
    })
}

/// Every env var of `s`, checked, with its source.
pub(crate) fn bindings(d: &Decision, s: &ServicePlan) -> Result<Vec<Binding>, RenderError> {
    let mut out = Vec::new();
    for e in &s.env {
        if !is_env_name(&e.name) {
            return Err(unsupported(
                d,
                &format!("the environment variable name {:?}", e.name),
                "environment variable names need letters, digits and underscores, not starting with a digit",
            ));
        }
        let source = match &e.value {
            EnvValue::Literal { value } if !e.secret => Source::Literal(value.clone()),
            EnvValue::GeneratedSecret { secret } | EnvValue::UserSecret { secret } => {
                Source::Secret(slot(secret))
            }
            EnvValue::Input { variable } if !e.secret => Source::Input(variable.clone()),
            EnvValue::Deployment { output } => match output {
                DeploymentOutput::PublicUrl => Source::PublicUrl,
                DeploymentOutput::PublicHost => Source::PublicHost,
                DeploymentOutput::AllowedHosts => Source::AllowedHosts,
                DeploymentOutput::Port | DeploymentOutput::ListenAddress => match s.port {
                    Some(p) if *output == DeploymentOutput::Port => Source::Literal(p.to_string()),
                    Some(p) => Source::Literal(format!("0.0.0.0:{p}")),
                    None => {
                        return Err(unsupported(
                            d,
                            "the port of a service without one",
                            "give the service a port",
                        ))
                    }
                },
            },
            EnvValue::Database { output, scheme } => {
                database(d, &e.name, *output, scheme.as_deref())?
            }
            EnvValue::Cache { output } => cache(d, &e.name, *output, &s.runtime.family)?,
            EnvValue::ServiceUrl { service } => {
                return Err(unsupported(
                    d,
                    &format!("the URL of service `{service}` in {}", e.name),
                    "service-to-service URLs are not wired on Azure yet",
                ))
            }
            _ => {
                return Err(unsupported(
                    d,
                    &format!("a secret literal or input in {}", e.name),
                    "a secret value must come from the secret store",
                ))
            }
        };
        out.push(Binding {
            name: e.name.clone(),
            source,
        });
    }
    Ok(out)
}

/// The Key Vault slots a list of bindings reads, in first-use order.
pub(crate) fn slots(bindings: &[Binding]) -> Vec<String> {
    fn walk(s: &Source, out: &mut Vec<String>) {
        match s {
            Source::Secret(n) if !out.contains(n) => out.push(n.clone()),
            Source::Join(parts) => parts.iter().for_each(|(p, _)| walk(p, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for b in bindings {
        walk(&b.source, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names_are_shell_safe() {
        assert!(is_env_name("DATABASE_URL"));
        assert!(is_env_name("_X1"));
        assert!(!is_env_name("1X"));
        assert!(!is_env_name("A-B"));
        assert!(!is_env_name("$(x)"));
        assert!(!is_env_name(""));
    }

    #[test]
    fn slots_are_collected_once_through_joins() {
        let b = vec![
            Binding {
                name: "A".into(),
                source: Source::Secret("x".into()),
            },
            Binding {
                name: "B".into(),
                source: Source::Join(vec![
                    (Source::Literal("k".into()), false),
                    (Source::Secret("x".into()), true),
                    (Source::Secret("y".into()), true),
                ]),
            },
        ];
        assert_eq!(slots(&b), vec!["x".to_string(), "y".to_string()]);
    }
}
