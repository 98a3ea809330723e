//! The wiring step: a provisioned database or cache turned into exactly the
//! settings the app reads, in the format each expects, from the analysis'
//! [`Wiring`] (each ecosystem's table of conventions: Django's `DATABASES`,
//! Spring's `SPRING_DATASOURCE_*`, Prisma's `env("…")`, the Rust `config`
//! crate's prefixed keys…). One step for every target — local, AWS, GCP,
//! Azure: it says *where* each value comes from ([`EnvValue::Database`],
//! [`EnvValue::Cache`]); the local target and the renderers resolve them.
//!
//! Also here: whether a service reads its database at all (so a cloud never
//! pays for a database nothing will use), and what was looked for when
//! nothing says how the app finds it (for the warning that asks for a value).
//!
//! What this is not: the name-shape guess (`env.rs`'s `classify`), which
//! remains the fallback for names no convention explains.

use crate::env::{classify, Kind};
use crate::notes::Notes;
use autodeploy_core::{
    CacheOutput, CachePlan, Cloud, DataService, Database, DatabaseEngine, DatabaseOutput,
    DatabasePlan, EnvBinding, EnvValue, Language, SecretPlan, Service, SettingFormat, Wiring,
    WiringSetting, WiringTarget,
};

/// The analysis' name for a database engine.
pub(crate) fn as_database(e: DatabaseEngine) -> Database {
    match e {
        DatabaseEngine::Postgresql => Database::Postgresql,
        DatabaseEngine::Mysql => Database::Mysql,
        DatabaseEngine::Mongodb => Database::Mongodb,
    }
}

/// True when `s` reads a connection setting for `engine`: a wiring of the
/// analysis, or a name shaped like one (`DATABASE_URL`, `PGHOST`).
pub(crate) fn reads_database(s: &Service, engine: DatabaseEngine) -> bool {
    s.wiring
        .iter()
        .any(|w| w.target == WiringTarget::Database && w.fits(as_database(engine)))
        || s.env.iter().any(
            |v| matches!(classify(&v.name), Kind::Db(_, hint) if hint.is_none_or(|h| h == engine)),
        )
}

/// A service whose ORM reaches the provisioned database through a setting
/// it reads, but which declares no driver for it (flask-todoism:
/// Flask-SQLAlchemy, `DATABASE_URL`, no psycopg2), gets the driver in its
/// install (`Service::install_with_driver`), with a warning. The project's
/// own image cannot be given it: there the warning says what to add.
pub(crate) fn add_missing_drivers(
    analysis: &autodeploy_core::Analysis,
    engine: DatabaseEngine,
    plans: &mut [autodeploy_core::ServicePlan],
    notes: &mut Notes,
) {
    let db = as_database(engine);
    for p in plans.iter_mut() {
        let Some(s) = analysis.services.iter().find(|s| s.name == p.name) else {
            continue;
        };
        let Some(with) = s.install_with_driver.get(&db) else {
            continue;
        };
        if !reads_database(s, engine) {
            continue;
        }
        let engine = crate::data::engine_name(engine);
        if p.image == autodeploy_core::ImageSource::Repository
            && matches!(
                p.strategy,
                autodeploy_core::DeployStrategy::Container
                    | autodeploy_core::DeployStrategy::Kubernetes
                    | autodeploy_core::DeployStrategy::Serverless
            )
        {
            notes.warn(
                "database_driver_missing",
                Some(&p.name),
                format!(
                    "{}: the code reads its {engine} connection setting but declares no {engine} driver, and its image is built by the project's own Dockerfile, which the deployment does not change: add the driver (psycopg2-binary) to its dependencies, or the app fails on its first query",
                    p.name
                ),
            );
            continue;
        }
        notes.warn(
            "database_driver_added",
            Some(&p.name),
            format!(
                "{}: the code reads its {engine} connection setting but declares no {engine} driver: the deployment installs psycopg2-binary (`{with}`) — add it to your dependencies to make that explicit",
                p.name
            ),
        );
        p.install = Some(with.clone());
    }
}

/// True when `s` reads a cache address (a wiring, or a name shaped like one).
pub(crate) fn reads_cache(s: &Service) -> bool {
    s.wiring.iter().any(|w| w.target == WiringTarget::Cache)
        || s.env
            .iter()
            .any(|v| matches!(classify(&v.name), Kind::Cache(_)))
}

/// How a service's Redis clients can connect, from the cache settings it
/// reads: the weakest of them decides what a managed Redis may require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum CacheClient {
    /// Only URLs: they carry the password and the `rediss://` scheme.
    Url,
    /// A host, port or address with a password setting beside it: it sends
    /// AUTH, but nothing turns TLS on (`Redis(host=…, port=…, password=…)`).
    PartsWithPassword,
    /// A host, port or address and no password setting (arq's
    /// `RedisSettings(host=…, port=…)`): neither AUTH nor TLS.
    Parts,
}

/// How `s` connects to the cache ([`CacheClient`]), with the host, port and
/// address settings that make it so (empty for [`CacheClient::Url`]).
/// Settings go in groups — one wiring (Laravel's `REDIS_URL`, `REDIS_HOST`…,
/// where the URL wins), or the names that share a prefix (`REDIS_QUEUE_HOST`,
/// `REDIS_QUEUE_PORT`) — and a group with a URL connects by its URL.
pub(crate) fn cache_client(s: &Service) -> (CacheClient, Vec<String>) {
    let mut groups: Vec<(String, Vec<(String, CacheOutput)>)> = Vec::new();
    let mut add = |key: String, name: &str, o: CacheOutput| match groups
        .iter_mut()
        .find(|(k, _)| *k == key)
    {
        Some((_, g)) => g.push((name.to_string(), o)),
        None => groups.push((key, vec![(name.to_string(), o)])),
    };
    let mut wired: Vec<&str> = Vec::new();
    for w in s.wiring.iter().filter(|w| w.target == WiringTarget::Cache) {
        for st in &w.settings {
            // A URL the code takes apart and connects with by its host,
            // port and password (it expects `redis://`): no TLS.
            let split = st.format == SettingFormat::Url
                && st
                    .values
                    .get(&autodeploy_core::Database::Redis)
                    .is_some_and(|v| v == "redis");
            if split {
                wired.push(&st.name);
                let key = format!("wiring {}", w.convention);
                add(key.clone(), &st.name, CacheOutput::Address);
                add(key, &st.name, CacheOutput::Password);
                continue;
            }
            let o = match st.format {
                SettingFormat::Url => CacheOutput::Url,
                SettingFormat::Host => CacheOutput::Host,
                SettingFormat::Port => CacheOutput::Port,
                SettingFormat::Address => CacheOutput::Address,
                SettingFormat::Password => CacheOutput::Password,
                _ => continue,
            };
            wired.push(&st.name);
            add(format!("wiring {}", w.convention), &st.name, o);
        }
    }
    for v in &s.env {
        if wired.contains(&v.name.as_str()) {
            continue;
        }
        if let Kind::Cache(o) = classify(&v.name) {
            let prefix = v.name.rsplit_once('_').map_or("", |(p, _)| p);
            add(
                format!("prefix {}", prefix.to_ascii_uppercase()),
                &v.name,
                o,
            );
        }
    }
    let is_part = |o: &CacheOutput| {
        matches!(
            o,
            CacheOutput::Host | CacheOutput::Port | CacheOutput::Address
        )
    };
    let parts: Vec<String> = groups
        .iter()
        .filter(|(_, g)| !g.iter().any(|(_, o)| *o == CacheOutput::Url))
        .flat_map(|(_, g)| g.iter().filter(|(_, o)| is_part(o)).map(|(n, _)| n.clone()))
        .collect();
    let password = groups
        .iter()
        .flat_map(|(_, g)| g)
        .any(|(_, o)| *o == CacheOutput::Password);
    let client = match (parts.is_empty(), password) {
        (true, _) => CacheClient::Url,
        (false, true) => CacheClient::PartsWithPassword,
        (false, false) => CacheClient::Parts,
    };
    (client, parts)
}

/// The SQLite fallback of `s`'s database wiring, when it has one.
pub(crate) fn sqlite_fallback(s: &Service) -> Option<&autodeploy_core::Evidence> {
    s.wiring
        .iter()
        .filter(|w| w.target == WiringTarget::Database)
        .find_map(|w| w.sqlite_fallback.as_ref())
}

/// What the analysis looks for to know how an app of `language` finds its
/// database (for the warning when nothing was found).
pub(crate) fn looked_for(language: Language) -> &'static str {
    match language {
        Language::Python => "Django's DATABASES (dj-database-url, django-environ), SQLAlchemy create_engine and Flask-SQLAlchemy's SQLALCHEMY_DATABASE_URI, pydantic settings, psycopg/asyncpg/PyMySQL/pymongo connect calls",
        Language::Javascript | Language::Typescript => "Prisma's env(\"…\"), pg/postgres.js/mysql2 options, Sequelize, knex and knexfiles, TypeORM, Drizzle, mongoose",
        Language::Go => "sql.Open/sqlx, gorm, pgx and the MongoDB driver, with the os.Getenv names that feed them (DSNs built with fmt.Sprintf included)",
        Language::Rust => "sqlx/diesel/sea-orm connect calls and the config crate's prefixed environment",
        Language::Java | Language::Kotlin => "a Spring/Quarkus/Micronaut datasource with a PostgreSQL or MySQL driver",
        Language::Ruby => "Rails' config/database.yml",
        Language::Php => "Laravel's config/database.php and Doctrine's DATABASE_URL",
        Language::Csharp => "ConnectionStrings in appsettings.json and GetConnectionString(…)",
        _ => "the framework's database settings",
    }
}

fn where_(s: &WiringSetting) -> String {
    match s.evidence.line {
        Some(l) => format!("{}:{l}", s.evidence.file),
        None => s.evidence.file.clone(),
    }
}

/// Bindings for one database wiring (empty when it does not fit the plan).
fn database_bindings(
    w: &Wiring,
    db: &DatabasePlan,
    secrets: &mut [SecretPlan],
    who: &dyn Fn(&str) -> String,
) -> Vec<EnvBinding> {
    let engine = as_database(db.engine);
    if !w.fits(engine) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for s in &w.settings {
        let Some(value) = database_value(s, db, engine) else {
            continue;
        };
        let secret = database_secret(&value);
        if secret {
            mark_used(secrets, &db.credentials.secret, who(&s.name));
        }
        out.push(EnvBinding {
            name: s.name.clone(),
            reason: database_binding_reason(w, s, db, &value),
            value,
            secret,
        });
    }
    out
}

/// The value one setting of a database wiring gets (None: it is left unset —
/// no value for this engine, or a format the plan cannot give).
fn database_value(s: &WiringSetting, db: &DatabasePlan, engine: Database) -> Option<EnvValue> {
    match s.format {
        SettingFormat::Literal => s.value.clone().map(|value| EnvValue::Literal { value }),
        SettingFormat::Engine => s
            .values
            .get(&engine)
            .cloned()
            .map(|value| EnvValue::Literal { value }),
        _ if db.service == DataService::External => {
            (s.format == SettingFormat::Url).then(|| EnvValue::UserSecret {
                secret: db.credentials.secret.clone(),
            })
        }
        f => {
            let output = database_output(f, db.engine)?;
            let scheme = (output == DatabaseOutput::Url)
                .then(|| s.values.get(&engine).cloned())
                .flatten();
            Some(EnvValue::Database { output, scheme })
        }
    }
}

/// The database output a setting format asks for (a MySQL DSN only for MySQL).
fn database_output(f: SettingFormat, engine: DatabaseEngine) -> Option<DatabaseOutput> {
    Some(match f {
        SettingFormat::Url => DatabaseOutput::Url,
        SettingFormat::JdbcUrl => DatabaseOutput::JdbcUrl,
        SettingFormat::AdoConnectionString => DatabaseOutput::AdoConnectionString,
        SettingFormat::MysqlDsn if engine == DatabaseEngine::Mysql => DatabaseOutput::MysqlDsn,
        SettingFormat::Host => DatabaseOutput::Host,
        SettingFormat::Port => DatabaseOutput::Port,
        SettingFormat::Name => DatabaseOutput::Name,
        SettingFormat::Username => DatabaseOutput::Username,
        SettingFormat::Password => DatabaseOutput::Password,
        _ => return None,
    })
}

/// Whether a database setting's value holds a credential: an external
/// connection string, or an output with the password in it.
fn database_secret(value: &EnvValue) -> bool {
    match value {
        EnvValue::UserSecret { .. } => true,
        EnvValue::Database { output, .. } => matches!(
            output,
            DatabaseOutput::Url
                | DatabaseOutput::AdoConnectionString
                | DatabaseOutput::MysqlDsn
                | DatabaseOutput::Password
        ),
        _ => false,
    }
}

/// Why setting `s` of wiring `w` gets `value`.
fn database_binding_reason(
    w: &Wiring,
    s: &WiringSetting,
    db: &DatabasePlan,
    value: &EnvValue,
) -> String {
    let at = where_(s);
    let engine = crate::data::engine_name(db.engine);
    match value {
        EnvValue::Database { output, scheme } => {
            let what = match output {
                DatabaseOutput::Url => format!(
                    "the {engine} URL{}",
                    scheme
                        .as_deref()
                        .map(|sc| format!(" with the scheme `{sc}` the code uses"))
                        .unwrap_or_default()
                ),
                DatabaseOutput::JdbcUrl => "the JDBC URL".into(),
                DatabaseOutput::AdoConnectionString => "the ADO.NET connection string".into(),
                DatabaseOutput::MysqlDsn => {
                    "the Go MySQL DSN (user:password@tcp(host:port)/name)".into()
                }
                o => format!("the database {}", format!("{o:?}").to_ascii_lowercase()),
            };
            format!("{}: {what} ({at} reads it)", w.convention)
        }
        EnvValue::UserSecret { .. } => format!(
            "{}: the connection string of your external {engine} ({at} reads it)",
            w.convention
        ),
        _ if s.format == SettingFormat::Literal => {
            format!("{}: {} (seen at {at})", w.convention, s.evidence.note)
        }
        _ => format!(
            "{}: the name that selects {engine} ({at} reads it)",
            w.convention
        ),
    }
}

/// Bindings for one cache wiring.
fn cache_bindings(
    w: &Wiring,
    c: &CachePlan,
    secrets: &mut [SecretPlan],
    who: &dyn Fn(&str) -> String,
) -> Vec<EnvBinding> {
    let mut out = Vec::new();
    for s in &w.settings {
        let output = match s.format {
            SettingFormat::Url if c.engine == autodeploy_core::Cache::Redis => CacheOutput::Url,
            SettingFormat::Host => CacheOutput::Host,
            SettingFormat::Port => CacheOutput::Port,
            SettingFormat::Address => CacheOutput::Address,
            SettingFormat::Password if c.auth.is_some() => CacheOutput::Password,
            _ => continue,
        };
        let secret = c.auth.is_some() && matches!(output, CacheOutput::Url | CacheOutput::Password);
        if let (true, Some(a)) = (secret, &c.auth) {
            mark_used(secrets, &a.secret, who(&s.name));
        }
        out.push(EnvBinding {
            name: s.name.clone(),
            value: EnvValue::Cache { output },
            secret,
            reason: format!(
                "{}: the {} {} ({} reads it)",
                w.convention,
                crate::data::cache_name(c.engine),
                format!("{output:?}").to_ascii_lowercase(),
                where_(s)
            ),
        });
    }
    out
}

fn mark_used(secrets: &mut [SecretPlan], secret: &str, user: String) {
    if let Some(s) = secrets.iter_mut().find(|s| s.name == secret) {
        if !s.used_by.contains(&user) {
            s.used_by.push(user);
        }
    }
}

/// Every binding the service's wiring asks for, given what is provisioned
/// for it (`database`/`cache` are `None` when not provisioned or not used by it).
pub(crate) fn bindings(
    s: &Service,
    database: Option<&DatabasePlan>,
    cache: Option<&CachePlan>,
    secrets: &mut [SecretPlan],
    notes: &mut Notes,
) -> Vec<EnvBinding> {
    let who = |n: &str| format!("{}:{n}", s.name);
    let mut out: Vec<EnvBinding> = Vec::new();
    let push = |b: EnvBinding, out: &mut Vec<EnvBinding>| {
        if !out.iter().any(|x| x.name == b.name) {
            out.push(b);
        }
    };
    for w in &s.wiring {
        let got = match (w.target, database, cache) {
            (WiringTarget::Database, Some(db), _) => database_bindings(w, db, secrets, &who),
            (WiringTarget::Cache, _, Some(c)) => cache_bindings(w, c, secrets, &who),
            _ => Vec::new(),
        };
        if got.is_empty() {
            continue;
        }
        let names: Vec<String> = got.iter().map(|b| b.name.clone()).collect();
        for b in got {
            push(b, &mut out);
        }
        notes.reason(
            format!("service.{}.wiring.{}", s.name, w.convention),
            autodeploy_core::Origin::Analysis,
            format!(
                "{}: {} — the settings the code reads ({}), in the format each expects",
                s.name,
                crate::notes::join_and(&names),
                w.convention
            ),
        );
    }
    out
}

/// Whether the cloud should skip a database nothing reads (the local target
/// keeps its free one, with a warning).
pub(crate) fn skip_unread(cloud: Cloud) -> bool {
    cloud != Cloud::Local
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::service;
    use autodeploy_core::{Evidence, ServiceKind};

    fn setting(name: &str, format: SettingFormat) -> WiringSetting {
        WiringSetting {
            name: name.into(),
            format,
            values: Default::default(),
            value: None,
            evidence: Evidence {
                file: "settings.py".into(),
                line: Some(3),
                note: "x".into(),
            },
        }
    }

    #[test]
    fn reads_and_fallbacks() {
        let mut s = service("app", Language::Python, Some("django"), ServiceKind::Web);
        assert!(!reads_database(&s, DatabaseEngine::Postgresql));
        s.wiring.push(Wiring {
            target: WiringTarget::Database,
            convention: "django-databases".into(),
            engines: vec![Database::Mysql],
            settings: vec![setting("SQL_HOST", SettingFormat::Host)],
            sqlite_fallback: None,
        });
        assert!(!reads_database(&s, DatabaseEngine::Postgresql));
        assert!(reads_database(&s, DatabaseEngine::Mysql));
        assert!(sqlite_fallback(&s).is_none());
        assert!(looked_for(Language::Go).contains("fmt.Sprintf"));
    }

    /// hack4impact's flask-base takes its Redis URL apart (`urlparse`) and
    /// connects by host, port and password: the analysis marks the URL as
    /// expecting `redis://`, so the client sends AUTH but never TLS. A URL
    /// used whole keeps both.
    #[test]
    fn a_redis_url_taken_apart_is_a_client_without_tls() {
        let mut s = service("server", Language::Python, Some("flask"), ServiceKind::Web);
        let mut url = setting("REDISTOGO_URL", SettingFormat::Url);
        s.wiring.push(Wiring {
            target: WiringTarget::Cache,
            convention: "python-url-split".into(),
            engines: vec![Database::Redis],
            settings: vec![url.clone()],
            sqlite_fallback: None,
        });
        assert_eq!(cache_client(&s).0, CacheClient::Url);
        url.values.insert(Database::Redis, "redis".into());
        s.wiring[0].settings = vec![url];
        assert_eq!(
            cache_client(&s),
            (
                CacheClient::PartsWithPassword,
                vec!["REDISTOGO_URL".to_string()]
            )
        );
    }
}
