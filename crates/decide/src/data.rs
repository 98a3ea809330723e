//! Data services: the managed database and cache the app needs (from the
//! analysis) or the request asks for, sized per environment, in private
//! subnets, with generated credentials kept in the cloud's secret store.
//!
//! - Database: PostgreSQL / MySQL → RDS, Cloud SQL, Azure flexible server;
//!   MongoDB → DocumentDB on AWS, a user-supplied connection string (e.g.
//!   MongoDB Atlas) elsewhere. SQLite is not provisioned: it stays a file.
//! - Cache: Redis / Memcached → ElastiCache, Memorystore, Azure Cache for Redis.
//! - Credentials: the database's an ephemeral generated password passed to
//!   write-only arguments and kept in Secrets Manager / Secret Manager / Key
//!   Vault (AWS too: RDS's managed password rotates under running tasks);
//!   other AWS secrets from `aws_secretsmanager_random_password`. Never a
//!   value here.
//! - Environment: production → standby/HA, 7-day backups, deletion protection,
//!   final snapshot; staging / development → smaller, single zone, short
//!   backups, no deletion protection.
//!
//! Conflicts (the request names a database the code does not use, or another
//! one; a worker with no queue) become warnings. Wiring env vars to these
//! services is `env`'s job; pricing is `cost`'s.

use crate::cloud;
use crate::cost::PriceTable;
use crate::defaults::cloud_name;
use crate::notes::{join_and, Notes};
use crate::wiring::{cache_client, CacheClient};
use autodeploy_core::{
    Analysis, Cache, CachePlan, Cloud, CredentialMethod, CredentialsPlan, DataService, Database,
    DatabaseEngine, DatabasePlan, Environment, Intent, Origin, SecretKind, SecretPlan, SecretStore,
    Service, ServiceKind,
};

/// What data services the deployment needs, before sizing.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Needs {
    pub database: Option<(DatabaseEngine, Origin)>,
    pub cache: Option<(Cache, Origin)>,
    /// A database the code uses that is not provisioned, and why.
    pub skipped_database: Option<(DatabaseEngine, Skipped)>,
    /// A cache the code uses that is not provisioned (nothing reads its address).
    pub skipped_cache: Option<Cache>,
}

/// Why a data store the code uses is not provisioned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Skipped {
    /// The request says "sqlite" / "no database".
    NoServerAsked,
    /// Nothing in the code says how it connects, and a cloud would bill for it.
    NotRead,
}

/// Worker frameworks that need Redis as their queue.
const REDIS_QUEUES: &[&str] = &[
    "celery", "sidekiq", "bullmq", "bull", "rq", "resque", "dramatiq", "huey",
];
/// Worker frameworks that keep their queue in the SQL database.
const SQL_QUEUES: &[&str] = &["good_job", "delayed_job", "oban", "solid_queue", "hangfire"];

pub fn engine_name(e: DatabaseEngine) -> &'static str {
    match e {
        DatabaseEngine::Postgresql => "PostgreSQL",
        DatabaseEngine::Mysql => "MySQL",
        DatabaseEngine::Mongodb => "MongoDB",
    }
}

pub fn cache_name(c: Cache) -> &'static str {
    match c {
        Cache::Redis => "Redis",
        Cache::Memcached => "Memcached",
    }
}

fn engine_of(d: Database) -> Option<DatabaseEngine> {
    match d {
        Database::Postgresql => Some(DatabaseEngine::Postgresql),
        Database::Mysql => Some(DatabaseEngine::Mysql),
        Database::Mongodb => Some(DatabaseEngine::Mongodb),
        Database::Sqlite | Database::Redis => None,
    }
}

pub(crate) fn running(analysis: &Analysis) -> impl Iterator<Item = &Service> {
    analysis
        .services
        .iter()
        .filter(|s| s.kind != ServiceKind::Static)
}

/// Server databases the code uses, in priority order (PostgreSQL, MySQL, MongoDB).
pub(crate) fn app_engines(analysis: &Analysis) -> Vec<DatabaseEngine> {
    let mut v: Vec<DatabaseEngine> = running(analysis)
        .flat_map(|s| s.databases.iter().copied().filter_map(engine_of))
        .collect();
    v.sort_by_key(|e| match e {
        DatabaseEngine::Postgresql => 0,
        DatabaseEngine::Mysql => 1,
        DatabaseEngine::Mongodb => 2,
    });
    v.dedup();
    v
}

/// Whether a database driver is a dependency the project declares (a
/// Python, Node, Go, Rust, Ruby, JVM or .NET package), so the engines the
/// analysis found are the only ones the code can talk to. PHP's PDO drivers
/// are extensions of the runtime: a Laravel app talks to any engine its
/// settings name.
fn drivers_are_dependencies(analysis: &Analysis) -> bool {
    running(analysis).all(|s| s.language != autodeploy_core::Language::Php)
}

/// A database the request asks for that the code cannot use: it keeps its
/// data in SQLite, reads no connection setting, and none of its declared
/// dependencies is a driver for any server engine (express-sequelize-example
/// asked for PostgreSQL on GKE: an HA Cloud SQL nothing reads). An error,
/// before anything is paid for. PHP's drivers are the runtime's, so a PHP
/// app is let through.
pub(crate) fn usable_database(
    analysis: &Analysis,
    intent: &Intent,
) -> Result<(), crate::DecideError> {
    let Some(asked) = intent.database else {
        return Ok(());
    };
    // Code that reads a connection setting may get its driver from where
    // the analysis does not look (a stale lock, an extra, the image): the
    // database is set and the plan warns instead.
    let reads_a_setting = running(analysis).any(|s| crate::wiring::reads_database(s, asked));
    if reads_a_setting
        || !app_engines(analysis).is_empty()
        || !app_uses(analysis, Database::Sqlite)
        || !drivers_are_dependencies(analysis)
    {
        return Ok(());
    }
    let services: Vec<String> = running(analysis)
        .filter(|s| s.databases.contains(&Database::Sqlite))
        .map(|s| format!("`{}` uses SQLite", s.name))
        .collect();
    Err(crate::DecideError::DatabaseUnusable {
        asked: engine_name(asked).to_string(),
        services: join_and(&services),
    })
}

pub(crate) fn app_uses(analysis: &Analysis, db: Database) -> bool {
    running(analysis).any(|s| s.databases.contains(&db))
}

fn redis_queue_workers(analysis: &Analysis) -> Vec<&Service> {
    running(analysis)
        .filter(|s| {
            s.kind == ServiceKind::Worker
                && REDIS_QUEUES.contains(&s.framework.as_deref().unwrap_or(""))
        })
        .collect()
}

/// What is needed (pure: no notes). A database only the analysis asks for is
/// dropped when the request says "sqlite"/"no database", and on a cloud when
/// nothing in the code reads a connection setting for it (a paid database
/// nothing will use); the same for a cache nothing reads.
pub(crate) fn needs(analysis: &Analysis, intent: &Intent, cloud: Cloud) -> Needs {
    let engines = app_engines(analysis);
    let mut database = match intent.database {
        Some(e) if engines.contains(&e) => Some((e, Origin::Both)),
        // The code has one engine's driver only: the engine asked for would
        // leave it unable to connect (`database_mismatch` says so).
        Some(_) if engines.len() == 1 && drivers_are_dependencies(analysis) => {
            Some((engines[0], Origin::Analysis))
        }
        Some(e) => Some((e, Origin::Request)),
        None => engines.first().map(|e| (*e, Origin::Analysis)),
    };
    let mut skipped_database = None;
    if let Some((e, Origin::Analysis)) = database {
        if intent.no_database_server {
            skipped_database = Some((e, Skipped::NoServerAsked));
        } else if crate::wiring::skip_unread(cloud)
            && !running(analysis).any(|s| crate::wiring::reads_database(s, e))
        {
            skipped_database = Some((e, Skipped::NotRead));
        }
        if skipped_database.is_some() {
            database = None;
        }
    }
    let uses_redis = app_uses(analysis, Database::Redis);
    let mut cache = match intent.cache {
        Some(Cache::Redis) if uses_redis => Some((Cache::Redis, Origin::Both)),
        Some(c) => Some((c, Origin::Request)),
        None if uses_redis => Some((Cache::Redis, Origin::Analysis)),
        None if !redis_queue_workers(analysis).is_empty() => Some((Cache::Redis, Origin::Rule)),
        None => None,
    };
    let mut skipped_cache = None;
    if let Some((c, Origin::Analysis)) = cache {
        if crate::wiring::skip_unread(cloud) && !running(analysis).any(crate::wiring::reads_cache) {
            skipped_cache = Some(c);
            cache = None;
        }
    }
    Needs {
        database,
        cache,
        skipped_database,
        skipped_cache,
    }
}

/// Deployment-wide inputs of the data plans.
pub(crate) struct DataCtx<'a> {
    pub analysis: &'a Analysis,
    pub intent: &'a Intent,
    pub cloud: Cloud,
    pub environment: Environment,
    pub table: Option<&'a PriceTable>,
    /// Deployment name (for the database name).
    pub name: &'a str,
    /// The date engine versions are chosen for (ISO `YYYY-MM-DD`).
    pub today: &'a str,
}

pub(crate) fn secret_store(cloud: Cloud) -> SecretStore {
    cloud::of(cloud).secret_store()
}

pub(crate) fn store_name(s: SecretStore) -> &'static str {
    cloud::store_name(s)
}

/// A database name: lowercase letters, digits and `_`, starting with a letter.
pub fn db_name(deployment: &str) -> String {
    let mut s: String = deployment
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    s = s.trim_matches('_').to_string();
    while s.contains("__") {
        s = s.replace("__", "_");
    }
    if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        s = format!("app_{s}").trim_end_matches('_').to_string();
    }
    s.truncate(30);
    s.trim_end_matches('_').to_string()
}

fn default_port(e: DatabaseEngine) -> u16 {
    match e {
        DatabaseEngine::Postgresql => 5432,
        DatabaseEngine::Mysql => 3306,
        DatabaseEngine::Mongodb => 27017,
    }
}

/// The version of an engine (a row key of the catalogues' version tables)
/// to plan on this cloud, and why; empty when the cloud's table has no row
/// for it (a service autodeploy does not create).
fn engine_version(ctx: &DataCtx, key: &str) -> (String, String) {
    cloud::pick_version(cloud::of(ctx.cloud).engine_versions(), key, ctx.today)
        .map(|(r, why)| (r.version.to_string(), why))
        .unwrap_or_default()
}

/// Warn when the version table is more than a year older than the day the
/// plan is made for: newer versions may exist, and older ones may have left
/// standard support.
pub(crate) fn warn_stale_versions(ctx: &DataCtx, notes: &mut Notes) {
    if ctx.cloud == Cloud::Local || !cloud::versions_stale(ctx.today) {
        return;
    }
    notes.warn(
        "engine_versions_stale",
        None,
        format!(
            "autodeploy's table of engine versions was checked on {}, more than a year ago: check the planned database/cache versions against the cloud's release calendar (a newer autodeploy has a newer table)",
            cloud::VERSIONS_CHECKED
        ),
    );
}

/// The database class ladder to use: production starts at the HA-capable classes when the cloud has them.
pub(crate) fn db_ladder(table: &PriceTable, engine: DatabaseEngine, production: bool) -> &[String] {
    let base = format!("db_{}", engine.as_str());
    if production {
        let prod = table.ladder(&format!("{base}_production"));
        if !prod.is_empty() {
            return prod;
        }
    }
    table.ladder(&base)
}

/// Plan the database (and its credentials secret).
pub(crate) fn database(
    ctx: &DataCtx,
    needs: &Needs,
    notes: &mut Notes,
    secrets: &mut Vec<SecretPlan>,
) -> Option<DatabasePlan> {
    let engines = app_engines(ctx.analysis);
    warn_database_conflicts(ctx, &engines, notes);
    if let Some((engine, why)) = needs.skipped_database {
        skipped_database(ctx, engine, why, notes);
    }
    let (engine, origin) = needs.database?;
    warn_other_engines(engine, &engines, notes);
    let service = cloud::of(ctx.cloud).database_service(engine);
    let size = database_size(ctx, engine, service);
    let (credentials, secret) = database_credentials(ctx, service);
    secrets.push(secret);
    let mut plan = database_plan(ctx, engine, origin, service, size, credentials);
    tls_for_drivers(ctx, &mut plan, notes);
    database_reasons(ctx, &plan, notes);
    Some(plan)
}

/// A managed database requires TLS unless a service's driver connects
/// without it by default (node-postgres, mysql2, Go's MySQL driver…): such
/// an app would be refused at its first query (`no pg_hba.conf entry …
/// no encryption`, `Connections using insecure transport are prohibited`).
/// It then offers TLS without requiring it: the database is reachable only
/// from the app's private network, as on GCP, and PLAN.md says how to
/// require it once the app turns TLS on.
fn tls_for_drivers(ctx: &DataCtx, plan: &mut DatabasePlan, notes: &mut Notes) {
    if matches!(plan.service, DataService::Local | DataService::External) {
        return;
    }
    let plain: Vec<&str> = running(ctx.analysis)
        .filter(|s| plan.used_by.contains(&s.name))
        .filter(|s| {
            s.drivers_without_tls
                .iter()
                .any(|d| engine_of(*d) == Some(plan.engine))
        })
        .map(|s| s.name.as_str())
        .collect();
    if plain.is_empty() {
        return;
    }
    plan.require_tls = false;
    notes.reason(
        "database.tls",
        Origin::Analysis,
        format!(
            "TLS offered, not required: the {} driver of {} connects without TLS unless its options ask for it, and a server that requires TLS would refuse it; the database is reachable only from the app's private network. To require TLS, turn it on in the app's database options (`ssl`), trust the cloud's certificate authority, then require it on the server",
            engine_name(plan.engine),
            plain
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
}

/// Warn about the other engines the code uses: one database per deployment.
fn warn_other_engines(engine: DatabaseEngine, engines: &[DatabaseEngine], notes: &mut Notes) {
    for other in engines.iter().filter(|e| **e != engine) {
        notes.warn(
            "database_not_provisioned",
            None,
            format!(
                "the code also uses {}, which is not provisioned (one database per deployment): point its connection setting at an existing server",
                engine_name(*other)
            ),
        );
    }
}

/// The running services that use `engine` (every running service when none says so).
fn database_users(ctx: &DataCtx, engine: DatabaseEngine) -> Vec<String> {
    users_or_all(ctx, |s| {
        s.databases.iter().any(|d| engine_of(*d) == Some(engine))
    })
}

/// The running services `uses` picks, or every running service when it
/// picks none (nothing says which one reads the data service).
fn users_or_all(ctx: &DataCtx, uses: impl Fn(&Service) -> bool) -> Vec<String> {
    let users: Vec<String> = running(ctx.analysis)
        .filter(|s| uses(s))
        .map(|s| s.name.clone())
        .collect();
    if users.is_empty() {
        running(ctx.analysis).map(|s| s.name.clone()).collect()
    } else {
        users
    }
}

/// The database's size: (instance class, storage GB, backup days) — the
/// environment's starting step of the cloud's ladder for a managed service.
fn database_size(
    ctx: &DataCtx,
    engine: DatabaseEngine,
    service: DataService,
) -> (String, u32, u32) {
    let production = ctx.environment == Environment::Production;
    let backups = match ctx.environment {
        Environment::Production => 7,
        Environment::Staging => 3,
        Environment::Development => 1,
    };
    let cat = cloud::of(ctx.cloud);
    match service {
        DataService::Local => ("local".to_string(), 0, 0),
        DataService::External => ("external".to_string(), 0, 0),
        _ => {
            let table = ctx.table.expect("cloud decisions have a price table");
            let ladder = db_ladder(table, engine, production);
            let idx = cat.database_first_step(engine, production);
            let class = ladder
                .get(idx)
                .or(ladder.first())
                .cloned()
                .unwrap_or_default();
            let backups = backups.max(cat.min_backup_days());
            (class, cat.database_storage_gb(), backups)
        }
    }
}

/// How the database's credentials are made and kept, and the secret that holds
/// them: the cloud's generated master password, or a connection string only
/// the user has (an external database).
fn database_credentials(ctx: &DataCtx, service: DataService) -> (CredentialsPlan, SecretPlan) {
    let cat = cloud::of(ctx.cloud);
    let store = secret_store(ctx.cloud);
    let (method, description, kind, generator, secret) = if service == DataService::External {
        (
            CredentialMethod::UserSupplied,
            format!(
                "{} offers no managed MongoDB here: put the connection string of your MongoDB (e.g. MongoDB Atlas) in {}",
                cat.name(),
                store_name(store)
            ),
            SecretKind::UserSupplied,
            None,
            "mongodb-connection-string",
        )
    } else {
        let c = cat.database_credentials(service);
        (
            c.method,
            c.description,
            SecretKind::DatabaseCredentials,
            Some(c.generator.to_string()),
            "database-credentials",
        )
    };
    let plan = CredentialsPlan {
        method,
        store,
        secret: secret.to_string(),
        description,
    };
    let secret = SecretPlan {
        name: secret.to_string(),
        kind,
        store,
        generator,
        used_by: Vec::new(),
        read_by_people: false,
    };
    (plan, secret)
}

/// The database plan: a managed service gets encryption, and in production a
/// standby, storage growth, deletion protection and a final snapshot.
fn database_plan(
    ctx: &DataCtx,
    engine: DatabaseEngine,
    origin: Origin,
    service: DataService,
    (class, storage, backups): (String, u32, u32),
    credentials: CredentialsPlan,
) -> DatabasePlan {
    let production = ctx.environment == Environment::Production;
    let managed = !matches!(service, DataService::Local | DataService::External);
    DatabasePlan {
        engine,
        service,
        version: engine_version(ctx, cloud::engine_key_db(engine)).0,
        instance_class: class,
        storage_gb: storage,
        max_storage_gb: if managed && production {
            storage * 5
        } else {
            storage
        },
        multi_az: managed && production,
        backup_retention_days: backups,
        deletion_protection: managed && production,
        final_snapshot: managed && production,
        encrypted: managed,
        publicly_accessible: false,
        port: default_port(engine),
        db_name: db_name(ctx.name),
        username: "app_admin".to_string(),
        credentials,
        used_by: database_users(ctx, engine),
        require_tls: managed,
        origin,
    }
}

/// Warn when the request's database and the code's disagree.
fn warn_database_conflicts(ctx: &DataCtx, engines: &[DatabaseEngine], notes: &mut Notes) {
    let sqlite = app_uses(ctx.analysis, Database::Sqlite);
    if let Some(asked) = ctx.intent.database {
        if !engines.contains(&asked) {
            if let [only] = engines {
                notes.warn(
                    "database_mismatch",
                    None,
                    format!(
                        "the request asks for {} but the code only talks to {} (the only database driver it has): {} is provisioned instead, since {} would leave the app unable to connect; add {}'s driver and support to the code to use it",
                        engine_name(asked),
                        engine_name(*only),
                        engine_name(*only),
                        engine_name(asked),
                        engine_name(asked)
                    ),
                );
            } else if let Some(other) = engines.first() {
                notes.warn(
                    "database_mismatch",
                    None,
                    format!(
                        "the request asks for {} but the code uses {}: {} is provisioned as asked, and the app will fail to connect unless its code also supports {}",
                        engine_name(asked),
                        engine_name(*other),
                        engine_name(asked),
                        engine_name(asked)
                    ),
                );
            } else if sqlite {
                notes.warn(
                    "database_replaces_sqlite",
                    None,
                    format!(
                        "the request asks for {} but the code uses SQLite: {} is provisioned and its connection URL set, but the app only uses it if its code reads that setting (e.g. DATABASE_URL) and has the {} driver",
                        engine_name(asked),
                        engine_name(asked),
                        engine_name(asked)
                    ),
                );
            } else {
                notes.warn(
                    "database_unused",
                    None,
                    format!(
                        "the request asks for {} but the analysis found no database use in the code: it is provisioned and its connection URL set; drop it from the request if the app does not need it",
                        engine_name(asked)
                    ),
                );
            }
        }
    }
}

/// Say what was planned for the database and why (or warn when nothing could be).
fn database_reasons(ctx: &DataCtx, plan: &DatabasePlan, notes: &mut Notes) {
    let (engine, origin, service) = (plan.engine, plan.origin, plan.service);
    let (class, used_by, backups) = (
        &plan.instance_class,
        &plan.used_by,
        plan.backup_retention_days,
    );
    let production = ctx.environment == Environment::Production;
    let cat = cloud::of(ctx.cloud);
    let why = match origin {
        Origin::Both => "the request asks for it and the code uses it",
        Origin::Request => "the request asks for it",
        _ => "the code uses it",
    };
    let users = join_and(&used_by.iter().map(|u| format!("`{u}`")).collect::<Vec<_>>());
    match plan.service {
        DataService::Local => notes.reason(
            "database",
            origin,
            format!(
                "{} for {users}: {why}; {}",
                engine_name(engine),
                cloud::local_database_words(engine)
            ),
        ),
        DataService::External => notes.warn(
            "database_external",
            None,
            format!(
                "the app needs MongoDB ({why}) but {} has no managed MongoDB in autodeploy's catalogue: nothing is provisioned; put your MongoDB's connection string (e.g. MongoDB Atlas) in the secret `mongodb-connection-string`",
                cloud_name(ctx.cloud)
            ),
        ),
        _ => {
            notes.reason(
                "database",
                origin,
                format!(
                    "{} {} on {} for {users}: {why}; private subnets only, encrypted, not publicly accessible",
                    engine_name(engine),
                    plan.version,
                    cat.data_service_name(service)
                ),
            );
            notes.reason(
                "database.version",
                Origin::Rule,
                format!(
                    "{} {}: {} (to pin another, edit the version in the bundle's database resource)",
                    engine_name(engine),
                    plan.version,
                    engine_version(ctx, cloud::engine_key_db(engine)).1
                ),
            );
            let spec = ctx
                .table
                .and_then(|t| t.db_class(engine.as_str(), class))
                .map(|s| format!(" ({} vCPU, {} GB)", s.vcpu, s.memory_gib))
                .unwrap_or_default();
            notes.reason(
                "database.size",
                Origin::Rule,
                format!(
                    "{class}{spec}: the {} starting class{}",
                    ctx.environment.as_str(),
                    if production { " (general purpose / burstable small enough for a new app, with room to grow storage to 5×)" } else { "" }
                ),
            );
            notes.reason(
                "database.resilience",
                Origin::Rule,
                if production {
                    format!(
                        "production: standby in a second zone, {backups}-day backups, deletion protection and a final snapshot"
                    )
                } else {
                    format!(
                        "{}: single zone, {backups}-day backups, no deletion protection (cheaper; say \"production\" for a standby and protection)",
                        ctx.environment.as_str()
                    )
                },
            );
            notes.reason("database.credentials", Origin::Rule, plan.credentials.description.clone());
            if let Some((code, text)) = cat.database_caveat(service) {
                notes.warn(code, None, text);
            }
        }
    }
}

/// Say why a database the code uses is not provisioned.
fn skipped_database(ctx: &DataCtx, engine: DatabaseEngine, why: Skipped, notes: &mut Notes) {
    let users: Vec<&Service> = running(ctx.analysis)
        .filter(|s| s.databases.iter().any(|d| engine_of(*d) == Some(engine)))
        .collect();
    let name = engine_name(engine);
    match why {
        Skipped::NoServerAsked => {
            let (with, without): (Vec<&Service>, Vec<&Service>) = users
                .iter()
                .partition(|s| crate::wiring::sqlite_fallback(s).is_some());
            if !with.is_empty() {
                let lines: Vec<String> = with
                    .iter()
                    .filter_map(|s| {
                        let e = crate::wiring::sqlite_fallback(s)?;
                        Some(format!(
                            "`{}` ({}{})",
                            s.name,
                            e.file,
                            e.line.map(|l| format!(":{l}")).unwrap_or_default()
                        ))
                    })
                    .collect();
                notes.reason(
                    "database",
                    Origin::Request,
                    format!(
                        "no {name} server, as asked: {} falls back to SQLite when its database setting is unset, so nothing is provisioned and nothing is set",
                        join_and(&lines)
                    ),
                );
            }
            for s in without {
                notes.warn(
                    "no_database_without_fallback",
                    Some(&s.name),
                    format!(
                        "the request asks for no database server, but `{}` uses {name} and no SQLite fallback was found in its code: nothing is provisioned, so it may fail to connect — drop \"no database\" from the request, or give its setting a value with `deploy --env NAME=VALUE`",
                        s.name
                    ),
                );
            }
        }
        Skipped::NotRead => {
            for s in users {
                notes.warn(
                    "database_not_read",
                    Some(&s.name),
                    format!(
                        "`{}` depends on {name}, but nothing in its code says how it connects (looked for {}, and settings named like DATABASE_URL or DB_HOST): no {name} is created on {}, since nothing would use it — say \"with {}\" to create one anyway, and give the app's setting its value with `--env NAME=VALUE`",
                        s.name,
                        crate::wiring::looked_for(s.language),
                        cloud_name(ctx.cloud),
                        engine.as_str()
                    ),
                );
            }
        }
    }
}

/// The cache node / tier for an engine and environment: (node, nodes, memory GiB, HA).
pub(crate) fn cache_size(
    table: &PriceTable,
    cloud: Cloud,
    engine: Cache,
    production: bool,
) -> Option<(String, u32, f64, bool)> {
    let base = format!("cache_{}", cache_name(engine).to_ascii_lowercase());
    let ha_ladder = table.ladder(&format!("{base}_ha"));
    let (ladder, nodes_for_ha) = if production && !ha_ladder.is_empty() {
        (ha_ladder, 1)
    } else {
        (table.ladder(&base), if production { 2 } else { 1 })
    };
    if ladder.is_empty() {
        return None;
    }
    let idx = cloud::of(cloud).cache_first_step(production);
    let node = ladder.get(idx).or(ladder.first())?.clone();
    let mem = table.cache_node(&node).map(|s| s.memory_gib).unwrap_or(0.0);
    Some((node, nodes_for_ha, mem, production))
}

/// Plan the cache (and its auth secret).
pub(crate) fn cache(
    ctx: &DataCtx,
    needs: &Needs,
    notes: &mut Notes,
    secrets: &mut Vec<SecretPlan>,
) -> Option<CachePlan> {
    warn_cache_conflicts(ctx, needs, notes);
    if let Some(c) = needs.skipped_cache {
        warn_cache_not_read(ctx, c, notes);
    }
    let (engine, origin) = needs.cache?;
    let local = ctx.cloud.is_local();
    let mut offer = cache_auth_offer(ctx, engine);
    let plan = if local {
        local_cache(ctx, engine, origin, offer.as_ref())
    } else {
        let transit;
        (offer, transit) = fit_to_clients(ctx, offer, notes);
        cloud_cache(ctx, engine, origin, offer.as_ref(), transit, notes)?
    };
    if let Some(a) = &offer {
        secrets.push(SecretPlan {
            name: "cache-auth-token".into(),
            kind: SecretKind::CacheAuth,
            store: secret_store(ctx.cloud),
            generator: Some(a.generator.into()),
            used_by: Vec::new(),
            read_by_people: false,
        });
    }
    notes.reason("cache", origin, cache_reason(ctx, &plan));
    if !local {
        notes.reason(
            "cache.version",
            Origin::Rule,
            format!(
                "{} {}: {}",
                cache_name(engine),
                plan.version,
                engine_version(ctx, cloud::engine_key_cache(engine)).1
            ),
        );
        cache_size_reasons(ctx, &plan, notes);
    }
    Some(plan)
}

/// Warn that a cache the code depends on is not created: nothing says how it finds it.
fn warn_cache_not_read(ctx: &DataCtx, c: Cache, notes: &mut Notes) {
    notes.warn(
        "cache_not_read",
        None,
        format!(
            "the code depends on {}, but nothing in it says how it finds it (no URL, host or address setting): no {} is created on {}, since nothing would use it — say \"with {}\" to create one anyway",
            cache_name(c),
            cache_name(c),
            cloud_name(ctx.cloud),
            c.as_str()
        ),
    );
}

/// The running services that use the cache: Redis users and queue workers
/// (every running service when none says so).
fn cache_users(ctx: &DataCtx) -> Vec<String> {
    users_or_all(ctx, |s| {
        s.databases.contains(&Database::Redis)
            || REDIS_QUEUES.contains(&s.framework.as_deref().unwrap_or(""))
    })
}

/// Redis gets an auth token (and TLS in transit on the clouds), when the cloud offers one.
fn cache_auth_offer(ctx: &DataCtx, engine: Cache) -> Option<cloud::CacheAuth> {
    let redis = engine == Cache::Redis;
    redis.then(|| cloud::of(ctx.cloud).redis_auth()).flatten()
}

/// The managed Redis' AUTH and TLS (the offer, and whether TLS is on), fitted
/// to the weakest client of the services that use it ([`CacheClient`]): a
/// server that asks for a password refuses a client that sends none, and a
/// TLS-only one a client that connects in plain text — the app would never
/// reach its cache. What is switched off, and why, is a warning naming the
/// settings; the cache stays on the private network either way.
fn fit_to_clients(
    ctx: &DataCtx,
    offer: Option<cloud::CacheAuth>,
    notes: &mut Notes,
) -> (Option<cloud::CacheAuth>, bool) {
    let users = cache_users(ctx);
    let weakest = running(ctx.analysis)
        .filter(|s| users.contains(&s.name))
        .map(|s| (s.name.as_str(), cache_client(s)))
        // The first service of the weakest kind.
        .min_by_key(|(_, (c, _))| std::cmp::Reverse(*c));
    let Some((who, (client, parts))) = weakest.filter(|_| offer.is_some()) else {
        let tls = offer.is_some();
        return (offer, tls);
    };
    let cat = cloud::of(ctx.cloud);
    let service = cat
        .cache_service(Cache::Redis)
        .map(|s| cat.data_service_name(s))
        .unwrap_or("the managed Redis");
    let reads = join_and(&parts.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>());
    match client {
        CacheClient::Url => (offer, true),
        CacheClient::Parts if cat.redis_auth_optional() => {
            notes.warn(
                "cache_without_auth",
                Some(who),
                format!(
                    "`{who}` reaches Redis by host and port ({reads}) and reads no password setting: {service} is created without AUTH and without TLS, reachable only from the private network, since a server that asks for a password would refuse it — give the code a password setting (REDIS_PASSWORD) and a URL to turn them on"
                ),
            );
            (None, false)
        }
        CacheClient::Parts => {
            notes.warn(
                "cache_client_without_password",
                Some(who),
                format!(
                    "`{who}` reaches Redis by host and port ({reads}) and reads no password setting, but {service} always asks for its access key: its connection will be refused (NOAUTH) until the code reads a password setting (REDIS_PASSWORD) — or ask for another cloud, where the cache can run without AUTH on the private network"
                ),
            );
            (offer, false)
        }
        CacheClient::PartsWithPassword if cat.redis_auth_needs_tls() => {
            notes.warn(
                "cache_without_tls",
                Some(who),
                format!(
                    "`{who}` reaches Redis by host and port ({reads}) and nothing in its settings turns TLS on: {service} offers AUTH only with TLS in transit, so it is created without either, reachable only from the private network — give the code a Redis URL (`rediss://` carries both) to turn them on"
                ),
            );
            (None, false)
        }
        CacheClient::PartsWithPassword => {
            notes.warn(
                "cache_without_tls",
                Some(who),
                format!(
                    "`{who}` reaches Redis by host and port ({reads}) and nothing in its settings turns TLS on: {service} keeps AUTH but is created without TLS in transit, reachable only from the private network — give the code a Redis URL (`rediss://`) to turn TLS on"
                ),
            );
            (offer, false)
        }
    }
}

/// How the cache's auth token is made and kept, from the cloud's offer
/// (`tls`: the cache also has TLS in transit).
fn cache_auth(
    ctx: &DataCtx,
    offer: Option<&cloud::CacheAuth>,
    tls: bool,
) -> Option<CredentialsPlan> {
    offer.map(|a| CredentialsPlan {
        method: a.method,
        store: secret_store(ctx.cloud),
        secret: "cache-auth-token".into(),
        description: format!("{}{}", a.description, if tls { a.tls_words } else { "" }),
    })
}

/// The cache on this machine: the runner's own server, one node.
fn local_cache(
    ctx: &DataCtx,
    engine: Cache,
    origin: Origin,
    offer: Option<&cloud::CacheAuth>,
) -> CachePlan {
    let cat = cloud::of(ctx.cloud);
    CachePlan {
        engine,
        service: DataService::Local,
        version: engine_version(ctx, cloud::engine_key_cache(engine)).0,
        node_type: "local".into(),
        nodes: 1,
        memory_gb: 0.0,
        high_availability: false,
        transit_encryption: false,
        port: cache_port(cat, engine, false),
        auth: cache_auth(ctx, offer, false),
        used_by: cache_users(ctx),
        origin,
    }
}

/// The cloud's managed cache at the environment's starting size (None, with a
/// warning, when the cloud has no service for the engine).
fn cloud_cache(
    ctx: &DataCtx,
    engine: Cache,
    origin: Origin,
    offer: Option<&cloud::CacheAuth>,
    transit: bool,
    notes: &mut Notes,
) -> Option<CachePlan> {
    let cat = cloud::of(ctx.cloud);
    let service = match cat.cache_service(engine) {
        Ok(s) => s,
        Err(why) => {
            notes.warn("cache_unavailable", None, why);
            return None;
        }
    };
    let table = ctx.table.expect("cloud decisions have a price table");
    let production = ctx.environment == Environment::Production;
    let (node, nodes, mem, ha) = cache_size(table, ctx.cloud, engine, production)?;
    let auth = cache_auth(ctx, offer, transit);
    Some(CachePlan {
        engine,
        service,
        version: engine_version(ctx, cloud::engine_key_cache(engine)).0,
        node_type: node,
        nodes,
        memory_gb: mem,
        high_availability: ha,
        transit_encryption: transit,
        port: cache_port(cat, engine, transit),
        auth,
        used_by: cache_users(ctx),
        origin,
    })
}

/// The cache's reason line: what runs it, for whom, why, and how it is reached.
fn cache_reason(ctx: &DataCtx, plan: &CachePlan) -> String {
    let cat = cloud::of(ctx.cloud);
    let users = join_and(
        &plan
            .used_by
            .iter()
            .map(|u| format!("`{u}`"))
            .collect::<Vec<_>>(),
    );
    let why = match plan.origin {
        Origin::Both => "the request asks for it and the code uses it",
        Origin::Request => "the request asks for it",
        Origin::Rule => "its worker needs a queue broker",
        _ => "the code uses it",
    };
    if plan.service == DataService::Local {
        return format!(
            "{} for {users}: {why}; {}",
            cache_name(plan.engine),
            cloud::local_cache_words(plan.engine)
        );
    }
    format!(
        "{} on {} for {users}: {why}; private network only{}",
        cache_name(plan.engine),
        cat.data_service_name(plan.service),
        match &plan.auth {
            Some(a) => format!("; {}", a.description),
            None => cat.unauthenticated_cache_words().to_string(),
        }
    )
}

/// Warn when the request's cache and the code's disagree, and about workers without a queue.
fn warn_cache_conflicts(ctx: &DataCtx, needs: &Needs, notes: &mut Notes) {
    let uses_redis = app_uses(ctx.analysis, Database::Redis);
    match ctx.intent.cache {
        Some(Cache::Memcached) if uses_redis => notes.warn(
            "cache_mismatch",
            None,
            "the request asks for Memcached but the code uses Redis: Memcached is provisioned as asked, and the code's Redis connection has nothing to connect to",
        ),
        Some(c) if !uses_redis => notes.warn(
            "cache_unused",
            None,
            format!(
                "the request asks for {} but the analysis found no cache use in the code: it is provisioned and its address set; drop it from the request if the app does not need it",
                cache_name(c)
            ),
        ),
        _ => {}
    }
    for w in redis_queue_workers(ctx.analysis) {
        if !w.databases.contains(&Database::Redis) {
            notes.warn(
                "worker_needs_queue",
                Some(&w.name),
                format!(
                    "`{}` is a {} worker, which needs a queue broker, but the analysis found no broker setting: Redis is provisioned and its URL set (CELERY_BROKER_URL / REDIS_URL)",
                    w.name,
                    w.framework.as_deref().unwrap_or("queue")
                ),
            );
        }
    }
    for w in running(ctx.analysis).filter(|s| s.kind == ServiceKind::Worker) {
        let fw = w.framework.as_deref().unwrap_or("");
        let has_queue = !w.databases.is_empty()
            || REDIS_QUEUES.contains(&fw)
            || SQL_QUEUES.contains(&fw)
            || needs.cache.is_some();
        if !has_queue {
            notes.warn(
                "worker_without_queue",
                Some(&w.name),
                format!(
                    "`{}` is a worker but the analysis sees no queue or database feeding it: it runs continuously with nothing to consume — check what it reads, and ask for Redis if it needs a queue",
                    w.name
                ),
            );
        }
    }
}

/// Say how big the cache is and whether it has a replica.
fn cache_size_reasons(ctx: &DataCtx, plan: &CachePlan, notes: &mut Notes) {
    let (node, nodes, mem) = (&plan.node_type, plan.nodes, plan.memory_gb);
    notes.reason(
        "cache.size",
        Origin::Rule,
        format!(
            "{node}{} ({mem} GB): the {} starting size",
            if nodes > 1 {
                format!(" × {nodes}")
            } else {
                String::new()
            },
            ctx.environment.as_str()
        ),
    );
    if plan.high_availability {
        notes.reason(
            "cache.resilience",
            Origin::Rule,
            "production: a replica in a second zone with automatic failover",
        );
    }
}

/// Redis listens on 6379, or on the cloud's TLS port with encryption in transit.
fn cache_port(cat: &dyn cloud::Catalogue, c: Cache, tls: bool) -> u16 {
    match c {
        Cache::Redis if tls => cat.redis_tls_port(),
        Cache::Redis => 6379,
        Cache::Memcached => 11211,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::table;
    use crate::testutil::{analysis, env_var, service};
    use autodeploy_core::Language;

    /// A web service that uses `dbs` and reads `DATABASE_URL` and `REDIS_URL`.
    fn web(dbs: &[Database]) -> Service {
        reading(silent(dbs))
    }

    /// A web service that uses `dbs` but reads no connection setting.
    fn silent(dbs: &[Database]) -> Service {
        let mut s = service("app", Language::Python, Some("flask"), ServiceKind::Web);
        s.databases = dbs.to_vec();
        s
    }

    /// The service reads `DATABASE_URL` and `REDIS_URL`.
    fn reading(mut s: Service) -> Service {
        for n in ["DATABASE_URL", "REDIS_URL"] {
            s.env.push(env_var(n, true, true));
        }
        s
    }

    #[test]
    fn needs_table() {
        let celery = service(
            "worker",
            Language::Python,
            Some("celery"),
            ServiceKind::Worker,
        );
        let cases: Vec<(&str, Vec<Service>, Intent, Needs)> = vec![
            (
                "nothing",
                vec![web(&[])],
                Intent::default(),
                Needs::default(),
            ),
            (
                "postgres from code",
                vec![web(&[Database::Postgresql, Database::Redis])],
                Intent::default(),
                Needs {
                    database: Some((DatabaseEngine::Postgresql, Origin::Analysis)),
                    cache: Some((Cache::Redis, Origin::Analysis)),
                    ..Default::default()
                },
            ),
            (
                "postgres and redis nothing reads: not paid for",
                vec![silent(&[Database::Postgresql, Database::Redis])],
                Intent::default(),
                Needs {
                    skipped_database: Some((DatabaseEngine::Postgresql, Skipped::NotRead)),
                    skipped_cache: Some(Cache::Redis),
                    ..Default::default()
                },
            ),
            (
                "no database server asked",
                vec![web(&[Database::Postgresql])],
                Intent {
                    no_database_server: true,
                    ..Default::default()
                },
                Needs {
                    skipped_database: Some((DatabaseEngine::Postgresql, Skipped::NoServerAsked)),
                    ..Default::default()
                },
            ),
            (
                "asked and used",
                vec![web(&[Database::Mysql])],
                Intent {
                    database: Some(DatabaseEngine::Mysql),
                    ..Default::default()
                },
                Needs {
                    database: Some((DatabaseEngine::Mysql, Origin::Both)),
                    ..Default::default()
                },
            ),
            (
                "asked, not used",
                vec![web(&[])],
                Intent {
                    database: Some(DatabaseEngine::Postgresql),
                    cache: Some(Cache::Memcached),
                    ..Default::default()
                },
                Needs {
                    database: Some((DatabaseEngine::Postgresql, Origin::Request)),
                    cache: Some((Cache::Memcached, Origin::Request)),
                    ..Default::default()
                },
            ),
            (
                "sqlite is not provisioned",
                vec![web(&[Database::Sqlite])],
                Intent::default(),
                Needs::default(),
            ),
            (
                "celery needs redis",
                vec![web(&[]), celery],
                Intent::default(),
                Needs {
                    cache: Some((Cache::Redis, Origin::Rule)),
                    ..Default::default()
                },
            ),
        ];
        for (name, services, intent, want) in cases {
            assert_eq!(
                needs(&analysis(services), &intent, Cloud::Aws),
                want,
                "{name}"
            );
        }
    }

    fn plan_db(
        cloud: Cloud,
        env: Environment,
        svcs: Vec<Service>,
        intent: Intent,
    ) -> (Option<DatabasePlan>, Notes, Vec<SecretPlan>) {
        let a = analysis(svcs);
        let t = table(cloud).unwrap();
        let ctx = DataCtx {
            analysis: &a,
            intent: &intent,
            cloud,
            environment: env,
            table: t,
            name: "My Shop!",
            today: crate::cloud::VERSIONS_CHECKED,
        };
        let n = needs(&a, &intent, Cloud::Aws);
        let mut notes = Notes::default();
        let mut secrets = Vec::new();
        let p = database(&ctx, &n, &mut notes, &mut secrets);
        (p, notes, secrets)
    }

    #[test]
    fn database_per_cloud_and_environment() {
        use Environment::*;
        // (cloud, env, engine, service, class, multi_az, backups, deletion protection, method)
        let cases = [
            (
                Cloud::Aws,
                Production,
                Database::Postgresql,
                DataService::AwsRds,
                "db.t4g.small",
                true,
                7,
                true,
                CredentialMethod::WriteOnlyGeneratedPassword,
            ),
            (
                Cloud::Aws,
                Staging,
                Database::Postgresql,
                DataService::AwsRds,
                "db.t4g.micro",
                false,
                3,
                false,
                CredentialMethod::WriteOnlyGeneratedPassword,
            ),
            (
                Cloud::Aws,
                Development,
                Database::Mysql,
                DataService::AwsRds,
                "db.t4g.micro",
                false,
                1,
                false,
                CredentialMethod::WriteOnlyGeneratedPassword,
            ),
            (
                Cloud::Gcp,
                Production,
                Database::Postgresql,
                DataService::GcpCloudSql,
                "db-custom-1-3840",
                true,
                7,
                true,
                CredentialMethod::WriteOnlyGeneratedPassword,
            ),
            (
                Cloud::Gcp,
                Development,
                Database::Postgresql,
                DataService::GcpCloudSql,
                "db-f1-micro",
                false,
                1,
                false,
                CredentialMethod::WriteOnlyGeneratedPassword,
            ),
            (
                Cloud::Azure,
                Production,
                Database::Postgresql,
                DataService::AzurePostgresqlFlexible,
                "GP_Standard_D2ds_v5",
                true,
                7,
                true,
                CredentialMethod::WriteOnlyGeneratedPassword,
            ),
            (
                Cloud::Azure,
                Staging,
                Database::Mysql,
                DataService::AzureMysqlFlexible,
                "B_Standard_B1ms",
                false,
                7,
                false,
                CredentialMethod::WriteOnlyGeneratedPassword,
            ),
            (
                Cloud::Gcp,
                Production,
                Database::Mongodb,
                DataService::External,
                "external",
                false,
                0,
                false,
                CredentialMethod::UserSupplied,
            ),
            (
                Cloud::Local,
                Production,
                Database::Postgresql,
                DataService::Local,
                "local",
                false,
                0,
                false,
                CredentialMethod::LocalGenerated,
            ),
        ];
        for (cloud, env, db, service, class, multi, backups, protect, method) in cases {
            let (p, notes, secrets) = plan_db(cloud, env, vec![web(&[db])], Intent::default());
            let p = p.unwrap();
            let label = format!("{cloud:?} {env:?} {db:?}");
            assert_eq!(p.service, service, "{label}");
            assert_eq!(p.instance_class, class, "{label}");
            assert_eq!(p.multi_az, multi, "{label}");
            assert_eq!(p.backup_retention_days, backups, "{label}");
            assert_eq!(p.deletion_protection, protect, "{label}");
            assert_eq!(p.credentials.method, method, "{label}");
            assert!(!p.publicly_accessible);
            assert_eq!(p.db_name, "my_shop");
            assert_eq!(secrets.len(), 1, "{label}");
            assert_eq!(secrets[0].name, p.credentials.secret);
            if service == DataService::External {
                assert!(notes.has_warning("database_external"));
            } else {
                assert!(
                    notes.reasons.iter().any(|r| r.about == "database"),
                    "{label}"
                );
            }
        }
    }

    #[test]
    fn database_conflicts_warn() {
        let asked = |e| Intent {
            database: Some(e),
            ..Default::default()
        };
        let cases = [
            (
                vec![web(&[Database::Postgresql])],
                asked(DatabaseEngine::Mysql),
                "database_mismatch",
            ),
            (
                vec![web(&[])],
                asked(DatabaseEngine::Postgresql),
                "database_unused",
            ),
            (
                vec![web(&[Database::Sqlite])],
                asked(DatabaseEngine::Postgresql),
                "database_replaces_sqlite",
            ),
            (
                vec![web(&[Database::Postgresql, Database::Mongodb])],
                Intent::default(),
                "database_not_provisioned",
            ),
        ];
        for (svcs, intent, code) in cases {
            let (p, notes, _) = plan_db(Cloud::Aws, Environment::Production, svcs, intent);
            assert!(p.is_some());
            assert!(notes.has_warning(code), "{code}: {:?}", notes.warnings);
        }
    }

    #[test]
    fn cache_per_cloud() {
        // (cloud, env, asked, node, nodes, auth, port)
        let cases = [
            (
                Cloud::Aws,
                Environment::Production,
                None,
                Some(("cache.t4g.small", 2, true, 6379)),
            ),
            (
                Cloud::Aws,
                Environment::Development,
                None,
                Some(("cache.t4g.micro", 1, true, 6379)),
            ),
            (
                Cloud::Aws,
                Environment::Staging,
                Some(Cache::Memcached),
                Some(("cache.t4g.micro", 1, false, 11211)),
            ),
            (
                Cloud::Gcp,
                Environment::Production,
                None,
                Some(("redis-standard-1gb", 1, true, 6378)),
            ),
            (
                Cloud::Gcp,
                Environment::Staging,
                None,
                Some(("redis-basic-1gb", 1, true, 6378)),
            ),
            (
                Cloud::Azure,
                Environment::Production,
                None,
                Some(("Standard_C1", 1, true, 6380)),
            ),
            (
                Cloud::Azure,
                Environment::Development,
                None,
                Some(("Basic_C0", 1, true, 6380)),
            ),
            (
                Cloud::Azure,
                Environment::Production,
                Some(Cache::Memcached),
                None,
            ),
        ];
        for (cloud, env, asked, want) in cases {
            let a = analysis(vec![web(&[Database::Redis])]);
            let intent = Intent {
                cache: asked,
                ..Default::default()
            };
            let t = table(cloud).unwrap();
            let ctx = DataCtx {
                analysis: &a,
                intent: &intent,
                cloud,
                environment: env,
                table: t,
                name: "app",
                today: crate::cloud::VERSIONS_CHECKED,
            };
            let n = needs(&a, &intent, Cloud::Aws);
            let mut notes = Notes::default();
            let mut secrets = Vec::new();
            let got = cache(&ctx, &n, &mut notes, &mut secrets);
            let label = format!("{cloud:?} {env:?} {asked:?}");
            match want {
                None => {
                    assert!(got.is_none(), "{label}");
                    assert!(notes.has_warning("cache_unavailable"), "{label}");
                }
                Some((node, nodes, auth, port)) => {
                    let c = got.unwrap();
                    assert_eq!(c.node_type, node, "{label}");
                    assert_eq!(c.nodes, nodes, "{label}");
                    assert_eq!(c.auth.is_some(), auth, "{label}");
                    assert_eq!(secrets.len(), usize::from(auth), "{label}");
                    assert_eq!(c.port, port, "{label}");
                }
            }
        }
    }

    /// A service named `name` using Redis and reading exactly `names`.
    fn redis_client(name: &str, names: &[&str]) -> Service {
        let mut s = service(name, Language::Python, Some("flask"), ServiceKind::Web);
        s.databases = vec![Database::Redis];
        for n in names {
            s.env.push(env_var(n, true, false));
        }
        s
    }

    /// A managed Redis asks for no more than its weakest client can give: a
    /// client by host and port with no password gets neither AUTH nor TLS
    /// (Azure, which always asks for its key, keeps AUTH and warns), one with
    /// a password gets AUTH without TLS where the cloud allows it, and URLs
    /// (which carry both) keep both.
    #[test]
    fn redis_auth_and_tls_fit_the_weakest_client() {
        const URL: &[&str] = &["REDIS_URL"];
        const PARTS: &[&str] = &["REDIS_HOST", "REDIS_PORT"];
        const PARTS_PW: &[&str] = &["REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD"];
        // (cloud, what each service reads, auth, tls, port, warning)
        type Case<'a> = (Cloud, Vec<&'a [&'a str]>, bool, bool, u16, Option<&'a str>);
        let cases: [Case; 10] = [
            (Cloud::Aws, vec![URL], true, true, 6379, None),
            (
                Cloud::Aws,
                vec![PARTS],
                false,
                false,
                6379,
                Some("cache_without_auth"),
            ),
            (
                Cloud::Aws,
                vec![PARTS_PW],
                false,
                false,
                6379,
                Some("cache_without_tls"),
            ),
            (Cloud::Gcp, vec![URL], true, true, 6378, None),
            (
                Cloud::Gcp,
                vec![PARTS],
                false,
                false,
                6379,
                Some("cache_without_auth"),
            ),
            (
                Cloud::Gcp,
                vec![PARTS_PW],
                true,
                false,
                6379,
                Some("cache_without_tls"),
            ),
            (Cloud::Azure, vec![URL], true, true, 6380, None),
            (
                Cloud::Azure,
                vec![PARTS],
                true,
                false,
                6379,
                Some("cache_client_without_password"),
            ),
            (
                Cloud::Azure,
                vec![PARTS_PW],
                true,
                false,
                6379,
                Some("cache_without_tls"),
            ),
            // The weakest of two services decides.
            (
                Cloud::Gcp,
                vec![URL, PARTS],
                false,
                false,
                6379,
                Some("cache_without_auth"),
            ),
        ];
        for (cloud, reads, auth, tls, port, warning) in cases {
            let services: Vec<Service> = reads
                .iter()
                .enumerate()
                .map(|(i, names)| redis_client(&format!("s{i}"), names))
                .collect();
            let a = analysis(services);
            let intent = Intent::default();
            let ctx = DataCtx {
                analysis: &a,
                intent: &intent,
                cloud,
                environment: Environment::Production,
                table: table(cloud).unwrap(),
                name: "app",
                today: crate::cloud::VERSIONS_CHECKED,
            };
            let mut notes = Notes::default();
            let mut secrets = Vec::new();
            let c = cache(&ctx, &needs(&a, &intent, cloud), &mut notes, &mut secrets).unwrap();
            let label = format!("{cloud:?} {reads:?}");
            assert_eq!(c.auth.is_some(), auth, "{label}");
            assert_eq!(secrets.len(), usize::from(auth), "{label}");
            assert_eq!(c.transit_encryption, tls, "{label}");
            assert_eq!(c.port, port, "{label}");
            for code in [
                "cache_without_auth",
                "cache_without_tls",
                "cache_client_without_password",
            ] {
                assert_eq!(
                    notes.has_warning(code),
                    warning == Some(code),
                    "{label} {code}"
                );
            }
            if let Some(a) = &c.auth {
                let says_tls = a.description.contains("TLS");
                assert_eq!(says_tls, tls, "{label}: {}", a.description);
            }
            if reads.len() == 2 {
                let w = notes
                    .warnings
                    .iter()
                    .find(|w| w.code == "cache_without_auth")
                    .unwrap();
                assert_eq!(
                    w.service.as_deref(),
                    Some("s1"),
                    "the weakest client is named"
                );
            }
        }
    }

    #[test]
    fn workers_without_queues_warn() {
        let lone = service("cron", Language::Python, None, ServiceKind::Worker);
        let a = analysis(vec![web(&[]), lone]);
        let intent = Intent::default();
        let ctx = DataCtx {
            analysis: &a,
            intent: &intent,
            cloud: Cloud::Aws,
            environment: Environment::Production,
            table: table(Cloud::Aws).unwrap(),
            name: "app",
            today: crate::cloud::VERSIONS_CHECKED,
        };
        let mut notes = Notes::default();
        assert!(cache(
            &ctx,
            &needs(&a, &intent, Cloud::Aws),
            &mut notes,
            &mut Vec::new()
        )
        .is_none());
        assert!(notes.has_warning("worker_without_queue"));

        let celery = service(
            "worker",
            Language::Python,
            Some("celery"),
            ServiceKind::Worker,
        );
        let a = analysis(vec![web(&[]), celery]);
        let ctx = DataCtx {
            analysis: &a,
            ..ctx
        };
        let mut notes = Notes::default();
        let c = cache(
            &ctx,
            &needs(&a, &intent, Cloud::Aws),
            &mut notes,
            &mut Vec::new(),
        )
        .unwrap();
        assert_eq!(c.origin, Origin::Rule);
        assert!(notes.has_warning("worker_needs_queue"));
    }

    #[test]
    fn database_names_are_safe() {
        let cases = [
            ("app", "app"),
            ("My Shop!", "my_shop"),
            ("42-things", "app_42_things"),
            ("", "app"),
            ("a;drop table", "a_drop_table"),
        ];
        for (raw, want) in cases {
            assert_eq!(db_name(raw), want, "{raw}");
        }
    }
}
