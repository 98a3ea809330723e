//! The environment a local service runs with: `PORT`/`HOST`, the decision's
//! bindings resolved for this machine, and the secrets file (`secrets.env`,
//! mode 0600) that holds generated secret values.
//!
//! Database and cache bindings are satisfied by a value the caller passes
//! (`deploy --env NAME=VALUE`, `LocalOptions::extra_env`), else by the data
//! service the local target started for the deployment ([`crate::data`]),
//! formatted by `autodeploy_core::conn` exactly as the binding asks (URL,
//! JDBC, ADO, one part). What this machine cannot run (MongoDB, Memcached)
//! stops the deployment before any work with the flag that supplies it.
//!
//! Deliberately never prints or logs a secret value.

use crate::data::{Engine, Grant};
use crate::error::LocalError;
use autodeploy_core::conn::{cache_value, database_setting};
use autodeploy_core::{
    Cache, CacheOutput, DatabaseEngine, DatabaseOutput, Decision, DeploymentOutput, EnvValue,
    SecretPlan, ServicePlan,
};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// A service's resolved environment: plain values and secret ones apart.
#[derive(Debug, Default, Clone)]
pub struct ServiceEnv {
    pub plain: Vec<(String, String)>,
    pub secret: Vec<(String, String)>,
    /// Things to tell the person (unset user secrets).
    pub notes: Vec<String>,
}

/// Facts about the local deployment the bindings refer to.
pub struct Ctx<'a> {
    pub decision: &'a Decision,
    /// The port each service's app listens on (this release's).
    pub ports: &'a BTreeMap<String, u16>,
    /// The stable port each web service is reached on (its front).
    pub public: &'a BTreeMap<String, u16>,
    /// Values the caller supplies (`--env`: plain), keyed `NAME` or `service:NAME`.
    pub extra: &'a [(String, String)],
    /// Values the caller supplies as secrets (`--secret`): kept in the 0600
    /// secrets file, never in the supervisor's spec or a log.
    pub extra_secret: &'a [(String, String)],
    /// Generated secret values by secret name (filled on demand).
    pub generated: &'a mut BTreeMap<String, String>,
    /// What the local data services gave this deployment.
    pub grants: &'a BTreeMap<Engine, Grant>,
}

/// The data services `services`' bindings need that `extra` does not
/// supply. Bindings this machine cannot satisfy are an error naming the
/// flag that supplies them.
pub fn data_needs(
    decision: &Decision,
    services: &[&ServicePlan],
    extra_all: &[(String, String)],
) -> Result<Vec<Engine>, LocalError> {
    let mut out = Vec::new();
    for svc in services {
        for b in &svc.env {
            if extra(extra_all, &svc.name, &b.name).is_some() {
                continue;
            }
            let engine = match &b.value {
                EnvValue::Database { output, .. } => {
                    let Some(db) = &decision.database else {
                        continue;
                    };
                    match Engine::for_database(db.engine) {
                        Some(e) => e,
                        None => {
                            // Name the setting that takes a whole URL, when the app has one.
                            let url_binding = svc
                                .env
                                .iter()
                                .find(|x| {
                                    matches!(
                                        x.value,
                                        EnvValue::Database {
                                            output: DatabaseOutput::Url,
                                            ..
                                        }
                                    )
                                })
                                .unwrap_or(b);
                            let _ = output;
                            return Err(LocalError::NotProvided {
                                service: svc.name.clone(),
                                what: format!(
                                    "MongoDB (for {}, {})",
                                    url_binding.name,
                                    db_output(DatabaseOutput::Url)
                                ),
                                hint: format!(
                                    "Debian does not package MongoDB, so the local target cannot start one: run one yourself (or use MongoDB Atlas) and pass its address with `--env {}=mongodb://USER:PASSWORD@HOST:27017/NAME`",
                                    url_binding.name
                                ),
                            });
                        }
                    }
                }
                EnvValue::Cache { output } => match decision.cache.as_ref().map(|c| c.engine) {
                    Some(Cache::Redis) | None => Engine::Redis,
                    Some(Cache::Memcached) => {
                        return Err(LocalError::NotProvided {
                            service: svc.name.clone(),
                            what: format!("Memcached (for {}, {})", b.name, cache_output(*output)),
                            hint: format!(
                                "the local target does not start Memcached: run `memcached -l 127.0.0.1 -p 11211 &` (apt-get install memcached) and pass `--env {}=127.0.0.1:11211`",
                                b.name
                            ),
                        })
                    }
                },
                _ => continue,
            };
            if !out.contains(&engine) {
                out.push(engine);
            }
        }
    }
    Ok(out)
}

fn url(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// The caller's value for `name` in `service`: a `service:NAME` key wins
/// over a plain `NAME`; the last one given wins.
fn extra<'a>(extra: &'a [(String, String)], service: &str, name: &str) -> Option<&'a str> {
    let scoped = format!("{service}:{name}");
    extra
        .iter()
        .rev()
        .find(|(k, _)| *k == scoped)
        .or_else(|| extra.iter().rev().find(|(k, _)| k == name))
        .map(|(_, v)| v.as_str())
}

/// True when `key` (`NAME` or `service:NAME`) is meant for `service`.
fn for_service<'a>(key: &'a str, service: &str) -> Option<&'a str> {
    match key.split_once(':') {
        Some((svc, name)) if svc == service => Some(name),
        Some(_) => None,
        None => Some(key),
    }
}

/// Resolve `svc`'s environment.
pub fn resolve(svc: &ServicePlan, ctx: &mut Ctx<'_>) -> Result<ServiceEnv, LocalError> {
    let mut out = ServiceEnv::default();
    let port = ctx.ports.get(&svc.name).copied();
    let public = ctx.public.get(&svc.name).copied().or(port);
    if let Some(p) = port {
        out.plain.push(("PORT".into(), p.to_string()));
        // Servers that read their own variables rather than PORT when the
        // command names no port (`uvicorn app:app`, `flask run`, Streamlit);
        // a port or host in the command still wins.
        for (name, value) in [
            ("UVICORN_PORT", p.to_string()),
            ("UVICORN_HOST", "127.0.0.1".to_string()),
            ("FLASK_RUN_PORT", p.to_string()),
            ("FLASK_RUN_HOST", "127.0.0.1".to_string()),
            ("STREAMLIT_SERVER_PORT", p.to_string()),
            ("STREAMLIT_SERVER_ADDRESS", "127.0.0.1".to_string()),
        ] {
            out.plain.push((name.into(), value));
        }
    }
    // Only the deployment's front listens beyond this machine (when asked);
    // the app itself answers on 127.0.0.1.
    out.plain.push(("HOST".into(), "127.0.0.1".into()));
    // The private database server this deployment was given, when a setting
    // of the app was wired to it.
    let mut wired_db: Option<autodeploy_core::conn::DbConn> = None;
    for b in &svc.env {
        let supplied_secret = extra(ctx.extra_secret, &svc.name, &b.name).map(str::to_string);
        let supplied = supplied_secret
            .clone()
            .or_else(|| extra(ctx.extra, &svc.name, &b.name).map(str::to_string));
        let value: Option<String> = match &b.value {
            EnvValue::Literal { value } => Some(value.clone()),
            EnvValue::GeneratedSecret { secret } => {
                let plan = ctx.decision.secrets.iter().find(|s| &s.name == secret);
                let v = ctx
                    .generated
                    .entry(secret.clone())
                    .or_insert_with(|| generate(plan))
                    .clone();
                if v.is_empty() {
                    return Err(LocalError::NotProvided {
                        service: svc.name.clone(),
                        what: format!("a random value for {}", b.name),
                        hint: "the operating system's random source failed; try again".into(),
                    });
                }
                Some(v)
            }
            EnvValue::UserSecret { .. } => {
                if supplied.is_none() {
                    out.notes.push(format!(
                        "{n} has no value (a secret only you have): `autodeploy redeploy ID --secret {n}` sets it (the value is read from the environment variable {n} or from stdin, never echoed); the app starts without it",
                        n = b.name
                    ));
                }
                supplied.clone()
            }
            EnvValue::Input { .. } => {
                if supplied.is_none() {
                    out.notes.push(format!(
                        "{n} has no value and the code gives no default: `autodeploy redeploy ID --env {n}=VALUE` sets it; the app starts without it",
                        n = b.name
                    ));
                }
                supplied.clone()
            }
            EnvValue::Database { output, scheme } => match supplied.clone() {
                Some(v) => Some(v),
                None => {
                    let engine = ctx
                        .decision
                        .database
                        .as_ref()
                        .map(|d| d.engine)
                        .unwrap_or(DatabaseEngine::Postgresql);
                    let grant = Engine::for_database(engine).and_then(|e| ctx.grants.get(&e));
                    match grant {
                        Some(g) => {
                            let conn = g.db_conn(engine);
                            let v = database_setting(*output, scheme.as_deref(), &conn);
                            wired_db = Some(conn);
                            Some(v)
                        }
                        None => {
                            return Err(LocalError::NotProvided {
                                service: svc.name.clone(),
                                what: format!(
                                    "{} (for {}, {})",
                                    engine.as_str(),
                                    b.name,
                                    db_output(*output)
                                ),
                                hint: format!("pass it with `--env {}=…`", b.name),
                            })
                        }
                    }
                }
            },
            EnvValue::Cache { output } => match supplied.clone() {
                Some(v) => Some(v),
                None => match ctx.grants.get(&Engine::Redis) {
                    Some(g) => Some(cache_value(*output, &g.cache_conn())),
                    None => {
                        return Err(LocalError::NotProvided {
                            service: svc.name.clone(),
                            what: format!("a cache (for {}, {})", b.name, cache_output(*output)),
                            hint: format!("pass it with `--env {}=…`", b.name),
                        })
                    }
                },
            },
            EnvValue::Deployment { output } => Some(match output {
                DeploymentOutput::PublicUrl => public.map(url).unwrap_or_default(),
                DeploymentOutput::PublicHost => "127.0.0.1".into(),
                // One host, the one in the URL handed out and in the health
                // check's Host header: a list would need the separator the
                // code splits on (`split(",")`, `split(" ")`, `split()`).
                DeploymentOutput::AllowedHosts => "127.0.0.1".into(),
                DeploymentOutput::Port => port.map(|p| p.to_string()).unwrap_or_default(),
                DeploymentOutput::ListenAddress => {
                    port.map(|p| format!("127.0.0.1:{p}")).unwrap_or_default()
                }
            }),
            EnvValue::ServiceUrl { service } => ctx
                .public
                .get(service)
                .or(ctx.ports.get(service))
                .map(|p| url(*p)),
        };
        // What the person passed wins over what the plan derives.
        let value = supplied.or(value);
        if let Some(v) = value {
            set(&mut out, &b.name, v, b.secret || supplied_secret.is_some());
        }
    }
    // The private server listens on a port of its own, not the engine's
    // default: a client library given a host but no port (Django settings
    // that read DB_HOST and no DB_PORT) takes it from its own variables,
    // as it takes the TLS mode.
    if let Some(c) = wired_db {
        let defaults: &[(&str, String)] = match c.engine {
            // The private server speaks no TLS on 127.0.0.1, and some
            // clients insist unless told (lib/pq's default is `require`).
            DatabaseEngine::Postgresql => &[
                ("PGHOST", c.host.clone()),
                ("PGPORT", c.port.to_string()),
                ("PGSSLMODE", "disable".to_string()),
            ],
            DatabaseEngine::Mysql => &[("MYSQL_TCP_PORT", c.port.to_string())],
            DatabaseEngine::Mongodb => &[],
        };
        for (name, value) in defaults {
            let given = out
                .plain
                .iter()
                .chain(out.secret.iter())
                .any(|(n, _)| n == name);
            if !given {
                out.plain.push((name.to_string(), value.clone()));
            }
        }
    }
    // Values passed for names the plan does not bind are set as given.
    for (list, secret) in [(ctx.extra, false), (ctx.extra_secret, true)] {
        for (k, v) in list {
            let Some(name) = for_service(k, &svc.name) else {
                continue;
            };
            if svc.env.iter().any(|b| b.name == name) {
                continue;
            }
            // The scoped key wins: a plain one never replaces it.
            let scoped = k.contains(':');
            let already = out
                .plain
                .iter()
                .chain(out.secret.iter())
                .any(|(n, _)| n == name);
            if already
                && !scoped
                && list
                    .iter()
                    .any(|(k2, _)| *k2 == format!("{}:{name}", svc.name))
            {
                continue;
            }
            set(&mut out, name, v.clone(), secret);
        }
    }
    Ok(out)
}

/// Set `name` once, in the plain or the secret list.
fn set(out: &mut ServiceEnv, name: &str, value: String, secret: bool) {
    out.plain.retain(|(k, _)| k != name);
    out.secret.retain(|(k, _)| k != name);
    if secret {
        out.secret.push((name.to_string(), value));
    } else {
        out.plain.push((name.to_string(), value));
    }
}

fn db_output(o: DatabaseOutput) -> &'static str {
    match o {
        DatabaseOutput::Url => "its URL",
        DatabaseOutput::JdbcUrl => "its JDBC URL",
        DatabaseOutput::AdoConnectionString | DatabaseOutput::MysqlDsn => "its connection string",
        DatabaseOutput::Host => "its host",
        DatabaseOutput::Port => "its port",
        DatabaseOutput::Name => "its database name",
        DatabaseOutput::Username => "its user",
        DatabaseOutput::Password => "its password",
    }
}

fn cache_output(o: CacheOutput) -> &'static str {
    match o {
        CacheOutput::Url => "its URL",
        CacheOutput::Host => "its host",
        CacheOutput::Port => "its port",
        CacheOutput::Address => "its address",
        CacheOutput::Password => "its password",
    }
}

/// A fresh value in the format the secret's plan describes (its generator
/// text): 128 hex characters, a Laravel `base64:` key, or 50 letters and digits.
pub fn generate(plan: Option<&SecretPlan>) -> String {
    let g = plan
        .and_then(|p| p.generator.as_deref())
        .unwrap_or("")
        .to_ascii_lowercase();
    if g.contains("hex") {
        let mut b = [0u8; 64];
        if getrandom::getrandom(&mut b).is_err() {
            return String::new();
        }
        b.iter().map(|x| format!("{x:02x}")).collect()
    } else if g.contains("base64") {
        let mut b = [0u8; 32];
        if getrandom::getrandom(&mut b).is_err() {
            return String::new();
        }
        format!("base64:{}", base64(&b))
    } else {
        token(50)
    }
}

/// `n` letters and digits from the OS CSPRNG, without modulo bias.
pub fn token(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 64];
    while out.len() < n {
        if getrandom::getrandom(&mut buf).is_err() {
            return String::new();
        }
        for &b in &buf {
            // 248 = 4 * 62: reject the top bytes so every symbol is equally likely.
            if b < 248 && out.len() < n {
                out.push(ALPHABET[(b % 62) as usize] as char);
            }
        }
    }
    out
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.len();
        let v = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= n {
                s.push(T[((v >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// Write `NAME=value` lines to `path`, created with mode 0600 before any byte
/// is written. Values with a newline are refused (the format has no quoting).
pub fn write_secrets(path: &Path, vars: &[(String, String)]) -> Result<(), LocalError> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut body = String::new();
    for (k, v) in vars {
        if v.contains('\n') || v.contains('\0') || k.contains('=') {
            return Err(LocalError::NotProvided {
                service: "-".into(),
                what: format!("a one-line value for {k}"),
                hint: "secret values cannot contain newlines; pass a single-line value".into(),
            });
        }
        body.push_str(k);
        body.push('=');
        body.push_str(v);
        body.push('\n');
    }
    let _ = std::fs::remove_file(path);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| LocalError::io("create", path, e))?;
    f.write_all(body.as_bytes())
        .map_err(|e| LocalError::io("write", path, e))
}

/// Read a file written by [`write_secrets`].
pub fn read_secrets(path: &Path) -> std::io::Result<Vec<(String, String)>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(e),
    };
    Ok(text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_letters_and_digits_and_differ() {
        let a = token(50);
        let b = token(50);
        assert_eq!(a.len(), 50);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }

    #[test]
    fn generated_formats_follow_the_plan() {
        let plan = |g: &str| SecretPlan {
            name: "k".into(),
            kind: autodeploy_core::SecretKind::Generated,
            store: autodeploy_core::SecretStore::LocalEnvFile,
            generator: Some(g.into()),
            used_by: vec![],
            read_by_people: false,
        };
        let hex = generate(Some(&plan(
            "generated by the local runner (64 random bytes as 128 hex characters)",
        )));
        assert_eq!(hex.len(), 128);
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()));
        let lk = generate(Some(&plan(
            "generated by the local runner (32 random bytes, base64, prefixed `base64:` (Laravel APP_KEY format))",
        )));
        assert!(lk.starts_with("base64:"));
        assert_eq!(lk.len(), "base64:".len() + 44);
        assert_eq!(generate(None).len(), 50);
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn secrets_file_is_private_and_round_trips() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("secrets.env");
        let vars = vec![
            ("A".to_string(), "x=y".to_string()),
            ("B".into(), "2".into()),
        ];
        write_secrets(&p, &vars).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(read_secrets(&p).unwrap(), vars);
        assert!(write_secrets(&p, &[("C".into(), "a\nb".into())]).is_err());
    }
}
