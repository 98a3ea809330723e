//! Environment variables: which ones to set on each service, and where each
//! value comes from — a literal, a generated secret, a secret only the user
//! has, the database or cache outputs, or the deployment itself.
//!
//! Database and cache settings come first from the analysis' wiring (the
//! settings the code reads and their formats: `wiring.rs`). Other names come
//! from the analysis (the variables the code reads), recognised by shape —
//! the fallback for names no convention explains: `DATABASE_URL`,
//! `POSTGRES_HOST`, `DB_PASSWORD`, `REDIS_URL`, `PORT`, `DJANGO_SECRET_KEY`,
//! `DJANGO_ALLOWED_HOSTS`, `VITE_API_URL`… When the app uses a database or
//! cache but nothing says how it finds it, the conventional name
//! (`DATABASE_URL`, `REDIS_URL`) is set and a warning names what was looked
//! for and the flag that gives the app's own setting a value.
//!
//! What this is not: a place that ever holds a secret value. Secrets are named
//! here ([`SecretPlan`]) and created at deploy time.

use crate::data::{cache_name, engine_name, secret_store, store_name};
use crate::notes::{join_and, Notes};
use autodeploy_core::{
    Cache, CacheOutput, CachePlan, Cloud, DataService, DatabaseEngine, DatabaseOutput,
    DatabasePlan, DeploymentOutput, EnvBinding, EnvValue, EnvVar, Environment, Hosting, Language,
    Origin, SecretKind, SecretPlan, SecretStore, Service, ServiceKind, SettingFormat, WiringTarget,
};
use std::collections::BTreeSet;

/// What a variable name means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A database output; the engine the name implies, if any.
    Db(DatabaseOutput, Option<DatabaseEngine>),
    /// The engine's name as a driver setting (Laravel `DB_CONNECTION`).
    DbDriver,
    Cache(CacheOutput),
    Port,
    EnvName,
    Debug,
    AllowedHosts,
    PublicUrl,
    PublicHost,
    /// Host to bind (`HOST`) → 0.0.0.0.
    BindHost,
    /// Address to bind (`LISTEN_ADDR`) → 0.0.0.0:port.
    BindAddr,
    /// Phoenix `PHX_SERVER=true`.
    PhxServer,
    /// The runtime's version, as the official images set it
    /// (`PYTHON_VERSION`, `NODE_VERSION`): for the runtime family named.
    RuntimeVersion(&'static str),
    /// An app-owned signing key that can be generated.
    AppSecret(SecretFormat),
    /// A frontend build setting pointing at the backend (`VITE_API_URL`).
    FrontendApiUrl,
    /// The app's own redirect of http to https (Django `SECURE_SSL_REDIRECT`).
    HttpsRedirect,
    /// Cookies sent over https only (Django/Flask `SESSION_COOKIE_SECURE`,
    /// `CSRF_COOKIE_SECURE`): over plain http a browser drops them, and
    /// every login and form fails.
    SecureCookies,
    /// The app's own links and scripts built as https (`SCRIPT_USE_HTTPS`,
    /// `USE_HTTPS`): over plain http they point at an address nothing serves.
    HttpsLinks,
    /// Celery tasks run inline in the caller (`CELERY_TASK_ALWAYS_EAGER`):
    /// with a worker deployed they would never reach it.
    EagerTasks,
    /// A switch that turns the app's cache on (`REDIS_ENABLED`, `USE_REDIS`):
    /// `true` when a cache is provided, else the code's default.
    CacheSwitch,
    /// Rust's `RUST_LOG` filter: `info` where the code demands one.
    RustLog,
    /// The app's switch to migrate its schema as it starts (miniflux's
    /// `RUN_MIGRATIONS`): on where nothing else runs its migrations.
    MigrateSwitch,
    /// The first administrator the app creates from its settings
    /// (miniflux's `CREATE_ADMIN`, `ADMIN_USERNAME`, `ADMIN_PASSWORD`): the
    /// switch on and the name `admin` where the app also reads the
    /// password, which is generated (an `AppSecret`).
    CreateAdmin,
    AdminUser,
    /// The origin the app allows cross-origin requests from
    /// (`CORS_ORIGIN`): the deployment's public URL where the code demands
    /// one (axum-sqlx-conduit's clap argument); a default is the app's.
    CorsOrigin,
    /// The folder the app keeps its data files in (`DATA_DIR`,
    /// `MICROBIN_DATA_DIR`): the service's data volume, where it has one.
    DataDir,
    /// The switch the deployment's copy of Django settings reads to trust
    /// the proxy's `X-Forwarded-Proto` (`django_proxy_https` in analyze):
    /// on wherever a load balancer or nginx stands in front of the app.
    TrustForwardedProto,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SecretFormat {
    /// 50 letters and digits.
    Token,
    /// 128 hex characters (Rails / Phoenix `SECRET_KEY_BASE`).
    Hex128,
    /// `base64:` + 32 random bytes (Laravel `APP_KEY`).
    LaravelKey,
}

const DB_WORDS: &[&str] = &[
    "DB",
    "DATABASE",
    "POSTGRES",
    "POSTGRESQL",
    "PG",
    "PSQL",
    "MYSQL",
    "MARIADB",
    "MONGO",
    "MONGODB",
    "DATASOURCE",
    "SQL",
    "RDS",
];
/// Words that name a cache; the Heroku add-ons' own names among them
/// (`REDISTOGO_URL`, `REDISCLOUD_URL`), which Heroku-era apps still read.
const CACHE_WORDS: &[&str] = &[
    "REDIS",
    "VALKEY",
    "MEMCACHED",
    "MEMCACHE",
    "MEMCACHIER",
    "REDISTOGO",
    "REDISCLOUD",
    "REDISGREEN",
    "OPENREDIS",
];
const NOT_GENERATED: &[&str] = &[
    "AWS", "CLIENT", "WEBHOOK", "API", "OAUTH", "STRIPE", "ACCESS",
];
const FRONTEND_PREFIXES: &[&str] = &[
    "VITE_",
    "REACT_APP_",
    "NEXT_PUBLIC_",
    "NUXT_PUBLIC_",
    "PUBLIC_",
    "EXPO_PUBLIC_",
    "VUE_APP_",
    "NG_APP_",
];

fn engine_hint(tokens: &[&str]) -> Option<DatabaseEngine> {
    tokens.iter().find_map(|t| match *t {
        "POSTGRES" | "POSTGRESQL" | "PG" | "PSQL" => Some(DatabaseEngine::Postgresql),
        "MYSQL" | "MARIADB" => Some(DatabaseEngine::Mysql),
        "MONGO" | "MONGODB" => Some(DatabaseEngine::Mongodb),
        _ => None,
    })
}

/// Classify a variable name.
pub(crate) fn classify(name: &str) -> Kind {
    let up = name.trim().to_ascii_uppercase();
    if up.starts_with("CONNECTIONSTRINGS__") {
        return Kind::Db(DatabaseOutput::AdoConnectionString, None);
    }
    known_name(&up).unwrap_or_else(|| classify_by_shape(&up))
}

/// The meaning of a well-known name (upper case), the same in every app.
fn known_name(up: &str) -> Option<Kind> {
    Some(match up {
        "PORT" | "HTTP_PORT" | "SERVER_PORT" | "APP_PORT" | "API_PORT" => Kind::Port,
        "HOST" | "BIND_HOST" => Kind::BindHost,
        "BIND" | "BIND_ADDR" | "BIND_ADDRESS" | "LISTEN_ADDR" | "LISTEN_ADDRESS" | "HTTP_ADDR"
        | "ADDR" | "SERVER_ADDR" => Kind::BindAddr,
        "NODE_ENV"
        | "RAILS_ENV"
        | "RACK_ENV"
        | "APP_ENV"
        | "MIX_ENV"
        | "FLASK_ENV"
        | "ASPNETCORE_ENVIRONMENT"
        | "DOTNET_ENVIRONMENT"
        | "ENVIRONMENT"
        | "DJANGO_ENV" => Kind::EnvName,
        "DEBUG" | "DJANGO_DEBUG" | "FLASK_DEBUG" | "APP_DEBUG" => Kind::Debug,
        "SECURE_SSL_REDIRECT"
        | "DJANGO_SECURE_SSL_REDIRECT"
        | "FORCE_SSL"
        | "FORCE_HTTPS"
        | "HTTPS_REDIRECT"
        | "SSL_REDIRECT" => Kind::HttpsRedirect,
        "SESSION_COOKIE_SECURE"
        | "CSRF_COOKIE_SECURE"
        | "DJANGO_SESSION_COOKIE_SECURE"
        | "DJANGO_CSRF_COOKIE_SECURE"
        | "COOKIE_SECURE"
        | "SECURE_COOKIES"
        | "SECURE_COOKIE" => Kind::SecureCookies,
        "CELERY_TASK_ALWAYS_EAGER" | "CELERY_ALWAYS_EAGER" | "TASK_ALWAYS_EAGER" => {
            Kind::EagerTasks
        }
        "ALLOWED_HOSTS" | "DJANGO_ALLOWED_HOSTS" => Kind::AllowedHosts,
        // The host the app writes into the links it hands out (kutt's
        // short links: `DEFAULT_DOMAIN`, default `localhost:3000`).
        "PHX_HOST" | "SERVER_NAME" | "APP_HOST" | "PUBLIC_HOST" | "DEFAULT_DOMAIN"
        | "SITE_DOMAIN" | "APP_DOMAIN" | "PUBLIC_DOMAIN" => Kind::PublicHost,
        "APP_URL"
        | "BASE_URL"
        | "SITE_URL"
        | "PUBLIC_BASE_URL"
        | "NEXTAUTH_URL"
        | "AUTH_URL"
        | "ORIGIN"
        | "APP_BASE_URL"
        | "HOST_URL"
        | "PUBLIC_URL"
        | "SITE_ROOT"
        | "ROOT_URL"
        | "WEBSITE_URL"
        | "CSRF_TRUSTED_ORIGINS"
        | "DJANGO_CSRF_TRUSTED_ORIGINS" => Kind::PublicUrl,
        "PHX_SERVER" => Kind::PhxServer,
        "PYTHON_VERSION" => Kind::RuntimeVersion("python"),
        "NODE_VERSION" => Kind::RuntimeVersion("node"),
        "DB_CONNECTION" => Kind::DbDriver,
        "RUST_LOG" => Kind::RustLog,
        "DJANGO_TRUST_X_FORWARDED_PROTO" => Kind::TrustForwardedProto,
        "CREATE_ADMIN" | "CREATE_SUPERUSER" => Kind::CreateAdmin,
        "CORS_ORIGIN" | "CORS_ORIGINS" | "CORS_ALLOWED_ORIGINS" | "ALLOWED_ORIGINS" => {
            Kind::CorsOrigin
        }
        "ADMIN_USERNAME" | "ADMIN_USER" | "SUPERUSER_USERNAME" | "DJANGO_SUPERUSER_USERNAME" => {
            Kind::AdminUser
        }
        "ADMIN_PASSWORD" | "SUPERUSER_PASSWORD" | "DJANGO_SUPERUSER_PASSWORD" => {
            Kind::AppSecret(SecretFormat::Token)
        }
        "RUN_MIGRATIONS"
        | "RUN_MIGRATION"
        | "AUTO_MIGRATE"
        | "AUTOMIGRATE"
        | "MIGRATE_ON_START"
        | "DB_AUTO_MIGRATE"
        | "DATABASE_AUTO_MIGRATE" => Kind::MigrateSwitch,
        "CELERY_BROKER_URL"
        | "CELERY_RESULT_BACKEND"
        | "BROKER_URL"
        | "RESULT_BACKEND"
        | "CACHE_URL"
        | "RQ_REDIS_URL"
        | "QUEUE_URL" => Kind::Cache(CacheOutput::Url),
        "PGHOST" => Kind::Db(DatabaseOutput::Host, Some(DatabaseEngine::Postgresql)),
        "PGPORT" => Kind::Db(DatabaseOutput::Port, Some(DatabaseEngine::Postgresql)),
        "PGDATABASE" => Kind::Db(DatabaseOutput::Name, Some(DatabaseEngine::Postgresql)),
        "PGUSER" => Kind::Db(DatabaseOutput::Username, Some(DatabaseEngine::Postgresql)),
        "PGPASSWORD" => Kind::Db(DatabaseOutput::Password, Some(DatabaseEngine::Postgresql)),
        "SECRET_KEY_BASE" => Kind::AppSecret(SecretFormat::Hex128),
        "APP_KEY" => Kind::AppSecret(SecretFormat::LaravelKey),
        "SECRET_KEY" | "SECRET" | "APP_SECRET" | "SESSION_SECRET" | "SESSION_KEY"
        | "COOKIE_SECRET" | "JWT_SECRET" | "JWT_SECRET_KEY" | "JWT_SIGNING_KEY"
        | "NEXTAUTH_SECRET" | "AUTH_SECRET" | "ENCRYPTION_KEY" | "TOKEN_SECRET" | "CSRF_SECRET"
        | "SIGNING_KEY" | "SIGNING_SALT" | "HMAC_KEY" | "HMAC_SECRET" => {
            Kind::AppSecret(SecretFormat::Token)
        }
        _ => return None,
    })
}

/// The meaning of any other name (upper case), from its `_`-separated words:
/// a frontend's backend URL, a cache or database setting, a signing key.
fn classify_by_shape(up: &str) -> Kind {
    let tokens: Vec<&str> = up.split('_').filter(|t| !t.is_empty()).collect();
    let Some(&last) = tokens.last() else {
        return Kind::Other;
    };
    let before = &tokens[..tokens.len() - 1];
    let prev = before.last().copied().unwrap_or("");

    if is_frontend_api_url(up, &tokens, last) {
        return Kind::FrontendApiUrl;
    }
    if let [.., "USE", "HTTPS"] = tokens.as_slice() {
        // `MAIL_USE_SSL`-style connection switches say `SSL`/`TLS`, not HTTPS.
        return Kind::HttpsLinks;
    }
    if before.iter().any(|t| CACHE_WORDS.contains(t)) {
        if let Some(o) = cache_output(last) {
            return Kind::Cache(o);
        }
        if matches!(last, "ENABLED" | "ENABLE") && before.len() == 1 {
            return Kind::CacheSwitch;
        }
    }
    if let [switch, cache] = tokens.as_slice() {
        if matches!(*switch, "USE" | "ENABLE") && CACHE_WORDS.contains(cache) {
            return Kind::CacheSwitch;
        }
    }
    if up.contains("JDBC") && matches!(last, "URL" | "URI") {
        return Kind::Db(DatabaseOutput::JdbcUrl, engine_hint(&tokens));
    }
    if up == "SPRING_DATASOURCE_URL" {
        return Kind::Db(DatabaseOutput::JdbcUrl, None);
    }
    if DB_WORDS.contains(&prev) {
        if let Some(o) = database_output(last) {
            return Kind::Db(o, engine_hint(&tokens));
        }
    }
    if prev == "DATA" && matches!(last, "DIR" | "PATH" | "FOLDER" | "DIRECTORY") {
        return Kind::DataDir;
    }
    generated_secret(up, &tokens).unwrap_or(Kind::Other)
}

/// A frontend build setting (`VITE_…`) that names the backend's address.
fn is_frontend_api_url(up: &str, tokens: &[&str], last: &str) -> bool {
    FRONTEND_PREFIXES.iter().any(|p| up.starts_with(p))
        && tokens
            .iter()
            .any(|t| matches!(*t, "API" | "BACKEND" | "SERVER"))
        && matches!(
            last,
            "URL" | "URI" | "HOST" | "BASE" | "ENDPOINT" | "ORIGIN"
        )
}

/// The cache output a name's last word asks for (after a cache word).
fn cache_output(last: &str) -> Option<CacheOutput> {
    match last {
        "URL" | "URI" | "DSN" => Some(CacheOutput::Url),
        "HOST" | "HOSTNAME" => Some(CacheOutput::Host),
        "PORT" => Some(CacheOutput::Port),
        "ADDR" | "ADDRESS" | "SERVER" | "SERVERS" | "ENDPOINT" => Some(CacheOutput::Address),
        "PASSWORD" | "PASS" | "AUTH" | "TOKEN" => Some(CacheOutput::Password),
        _ => None,
    }
}

/// The database output a name's last word asks for (after a database word).
fn database_output(last: &str) -> Option<DatabaseOutput> {
    match last {
        "URL" | "URI" | "DSN" => Some(DatabaseOutput::Url),
        "HOST" | "HOSTNAME" | "SERVER" => Some(DatabaseOutput::Host),
        "PORT" => Some(DatabaseOutput::Port),
        "NAME" | "DB" | "DATABASE" | "DBNAME" => Some(DatabaseOutput::Name),
        "USER" | "USERNAME" | "LOGIN" => Some(DatabaseOutput::Username),
        "PASSWORD" | "PASS" | "PWD" => Some(DatabaseOutput::Password),
        _ => None,
    }
}

/// An app-owned signing key autodeploy can generate (`DJANGO_SECRET_KEY`),
/// but not a third party's (`STRIPE_…`, `AWS_…`).
fn generated_secret(up: &str, tokens: &[&str]) -> Option<Kind> {
    let generated_suffix = up.ends_with("_SECRET_KEY")
        || up.ends_with("_SECRET_KEY_BASE")
        || up.ends_with("_SESSION_SECRET")
        || up.ends_with("_COOKIE_SECRET")
        || up.ends_with("_JWT_SECRET")
        || up.ends_with("_SIGNING_KEY")
        || up.ends_with("_SIGNING_SALT")
        // The app's own hashing salt (`ARGON_SALT`, `PASSWORD_SALT`): random,
        // generated once and kept, like a signing key.
        || up.ends_with("_SALT")
        || up.ends_with("_HMAC_KEY")
        || up.ends_with("_HMAC_SECRET")
        || up.ends_with("_ENCRYPTION_KEY");
    // The app's own token signing keys: `ACCESS_TOKEN_SECRET`,
    // `REFRESH_TOKEN_SECRET`, `AUTH_FORGOT_SECRET`, `AUTH_CONFIRM_EMAIL_SECRET`.
    let signing = (up.ends_with("_TOKEN_SECRET")
        || up.ends_with("_REFRESH_SECRET")
        // `JWT_ACCESS_SECRET`, `JWT_SECRET_KEY` (nestjs-prisma-starter).
        || (up.starts_with("JWT_") && (up.ends_with("_SECRET") || up.ends_with("_SECRET_KEY")))
        || (up.starts_with("AUTH_") && up.ends_with("_SECRET")))
        && !tokens
            .iter()
            .any(|t| matches!(*t, "AWS" | "CLIENT" | "WEBHOOK" | "OAUTH" | "STRIPE"));
    if signing {
        return Some(Kind::AppSecret(SecretFormat::Token));
    }
    if !generated_suffix || tokens.iter().any(|t| NOT_GENERATED.contains(t)) {
        return None;
    }
    Some(Kind::AppSecret(if up.ends_with("_KEY_BASE") {
        SecretFormat::Hex128
    } else {
        SecretFormat::Token
    }))
}

/// Secret name for a variable: `DJANGO_SECRET_KEY` → `django-secret-key`.
pub(crate) fn secret_slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if !(c == '-' && (out.is_empty() || out.ends_with('-'))) {
            out.push(c);
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "secret".into()
    } else {
        out
    }
}

/// Input variable name for a variable: `SITE_TITLE` → `site_title`.
fn input_name(name: &str) -> String {
    secret_slug(name).replace('-', "_")
}

/// Deployment-wide inputs of the wiring.
pub(crate) struct EnvCtx<'a> {
    pub cloud: Cloud,
    pub environment: Environment,
    pub database: Option<&'a DatabasePlan>,
    pub cache: Option<&'a CachePlan>,
    /// Names of the running web services (targets of frontend API URLs).
    pub web_services: &'a [String],
    /// Static sites that forward a path to the API: (site, route).
    pub site_routes: &'a [(String, autodeploy_core::ApiRoute)],
    /// The deployment's public URL is https.
    pub https: bool,
    /// The deployment runs a Celery worker service.
    pub celery_worker: bool,
}

/// Development mail catchers that compose files run beside an app.
const DEV_MAIL_HOSTS: &[&str] = &[
    "maildev",
    "mailhog",
    "mailpit",
    "mailcatcher",
    "smtp4dev",
    "inbucket",
];

/// The host an example value names when only a developer's machine has it:
/// loopback, or a development mail catcher (`MAIL_HOST=maildev`,
/// `SMTP_URL=smtp://mailhog:1025`).
fn local_only_host(value: &str) -> Option<&str> {
    let rest = value.split_once("://").map_or(value, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if authority.starts_with('[') {
        authority
            .split_once(']')
            .map_or(authority, |(h, _)| h)
            .trim_start_matches('[')
    } else {
        authority.split(':').next().unwrap_or("")
    };
    let lower = host.to_ascii_lowercase();
    (matches!(lower.as_str(), "localhost" | "127.0.0.1" | "::1")
        || DEV_MAIL_HOSTS.contains(&lower.as_str()))
    .then_some(host)
}

/// A log level setting whose example is a development level (`debug`,
/// `trace`, `verbose`, `silly`): `info` in the example's own case.
fn quieter_log_level(name: &str, example: &str) -> Option<String> {
    let up = name.to_ascii_uppercase();
    let is_level = matches!(up.as_str(), "LOG_LEVEL" | "LOGLEVEL" | "LOGGING_LEVEL")
        || up.ends_with("_LOG_LEVEL");
    let dev = ["debug", "trace", "verbose", "silly", "all"]
        .iter()
        .any(|l| example.eq_ignore_ascii_case(l));
    (is_level && dev).then(|| {
        if example.chars().all(|c| c.is_ascii_uppercase()) {
            "INFO".to_string()
        } else {
            "info".to_string()
        }
    })
}

/// The deployment's API among its web services: one named like an API,
/// else the first.
pub(crate) fn api_service(web: &[String]) -> Option<&String> {
    web.iter()
        .find(|n| matches!(n.as_str(), "api" | "backend" | "server"))
        .or(web.first())
}

fn generator(cloud: Cloud, format: SecretFormat) -> String {
    let what = match format {
        SecretFormat::Token => "50 letters and digits",
        SecretFormat::Hex128 => "64 random bytes as 128 hex characters",
        SecretFormat::LaravelKey => {
            "32 random bytes, base64, prefixed `base64:` (Laravel APP_KEY format)"
        }
    };
    crate::cloud::of(cloud).generated_by(what)
}

fn add_secret(
    secrets: &mut Vec<SecretPlan>,
    name: &str,
    kind: SecretKind,
    store: SecretStore,
    generator: Option<String>,
    user: String,
) {
    if let Some(s) = secrets.iter_mut().find(|s| s.name == name) {
        if !s.used_by.contains(&user) {
            s.used_by.push(user);
        }
        return;
    }
    secrets.push(SecretPlan {
        name: name.to_string(),
        kind,
        store,
        generator,
        used_by: vec![user],
        read_by_people: false,
    });
}

/// The generated secret `secret` is a value people read (a password to
/// sign in with, a token callers send): PLAN.md says where.
fn mark_read_by_people(secrets: &mut [SecretPlan], secret: &str) {
    if let Some(s) = secrets.iter_mut().find(|s| s.name == secret) {
        s.read_by_people = true;
    }
}

fn mark_used(secrets: &mut [SecretPlan], secret: &str, user: String) {
    if let Some(s) = secrets.iter_mut().find(|s| s.name == secret) {
        if !s.used_by.contains(&user) {
            s.used_by.push(user);
        }
    }
}

/// Whether [`env_literal`] knows the values `name` takes (a platform's or a
/// framework's convention) rather than guessing.
fn env_vocabulary_known(name: &str, framework: &str) -> bool {
    match name.to_ascii_uppercase().as_str() {
        "MIX_ENV"
        | "ASPNETCORE_ENVIRONMENT"
        | "DOTNET_ENVIRONMENT"
        | "NODE_ENV"
        | "RAILS_ENV"
        | "RACK_ENV"
        | "FLASK_ENV" => true,
        "APP_ENV" => matches!(framework, "symfony" | "laravel"),
        _ => false,
    }
}

fn env_literal(name: &str, framework: &str, env: Environment) -> String {
    let prod_like = env != Environment::Development;
    match name.to_ascii_uppercase().as_str() {
        "MIX_ENV" => if prod_like { "prod" } else { "dev" }.into(),
        "ASPNETCORE_ENVIRONMENT" | "DOTNET_ENVIRONMENT" => match env {
            Environment::Production => "Production",
            Environment::Staging => "Staging",
            Environment::Development => "Development",
        }
        .into(),
        "APP_ENV" if framework == "symfony" => if prod_like { "prod" } else { "dev" }.into(),
        "APP_ENV" if framework == "laravel" => match env {
            Environment::Development => "local".into(),
            e => e.as_str().into(),
        },
        "NODE_ENV" | "RAILS_ENV" | "RACK_ENV" | "FLASK_ENV" => if prod_like {
            "production"
        } else {
            "development"
        }
        .into(),
        _ => env.as_str().into(),
    }
}

/// `var`'s Dockerfile value is an all-interfaces address on the port `s`
/// serves (`0.0.0.0:8000`, `[::]:8000`, `:8000`).
fn binds_service_port(var: &EnvVar, s: &Service) -> bool {
    let (Some(v), Some(port)) = (var.image_value.as_deref(), s.port) else {
        return false;
    };
    let Some((host, p)) = v.rsplit_once(':') else {
        return false;
    };
    matches!(host, "" | "0.0.0.0" | "[::]" | "::" | "*") && p.parse::<u16>().ok() == Some(port)
}

fn db_driver(engine: DatabaseEngine) -> &'static str {
    match engine {
        DatabaseEngine::Postgresql => "pgsql",
        DatabaseEngine::Mysql => "mysql",
        DatabaseEngine::Mongodb => "mongodb",
    }
}

/// What one variable's name gives it.
enum Outcome {
    /// A value (what, secret, why).
    Set(EnvValue, bool, String),
    /// Handled (left to the code, or the platform sets it): nothing to add.
    Done,
    /// Nothing recognised: a user secret, an input or the code's default.
    Unknown,
}

/// One service's environment while it is wired.
struct Wiring<'a> {
    s: &'a Service,
    hosting: Hosting,
    /// Where the service's data volume is mounted, when it has one.
    data_volume: Option<&'a str>,
    ctx: &'a EnvCtx<'a>,
    store: SecretStore,
    out: Vec<EnvBinding>,
    user_secrets: Vec<String>,
    inputs: Vec<String>,
    /// Required names given the repository's example value (`NAME=value`).
    from_example: Vec<String>,
    /// Of those, values that name a host only the developer's machine has.
    local_only: Vec<String>,
    /// Example log levels for development, raised for production.
    quieted: Vec<String>,
    left_default: Vec<String>,
    static_secrets: Vec<String>,
    /// The analysis' wiring set the database / cache settings.
    wired_db: bool,
    wired_cache: bool,
}

/// Wire one service's environment. `hosting` decides platform quirks (Cloud Run sets PORT).
pub(crate) fn wire(
    s: &Service,
    hosting: Hosting,
    data_volume: Option<&str>,
    ctx: &EnvCtx,
    secrets: &mut Vec<SecretPlan>,
    notes: &mut Notes,
) -> Vec<EnvBinding> {
    let is_static = s.kind == ServiceKind::Static;
    let uses_db = ctx.database.is_some_and(|d| d.used_by.contains(&s.name));
    let uses_cache = ctx.cache.is_some_and(|c| c.used_by.contains(&s.name));
    // The wiring the analysis found comes first: the settings the code reads,
    // in the format each expects. Names it explains are not guessed again.
    let found = if is_static {
        Vec::new()
    } else {
        crate::wiring::bindings(
            s,
            ctx.database.filter(|_| uses_db),
            ctx.cache.filter(|_| uses_cache),
            secrets,
            notes,
        )
    };
    let mut w = Wiring::new(s, hosting, ctx, found);
    w.data_volume = data_volume;
    if !is_static {
        w.listen_wiring(notes);
    }
    let mut seen: BTreeSet<String> = w.out.iter().map(|b| b.name.clone()).collect();
    let explained = w.explained();
    for var in &s.env {
        if !seen.insert(var.name.clone()) {
            continue;
        }
        if explained.contains(var.name.as_str()) {
            w.left_default.push(var.name.clone());
            continue;
        }
        if is_static && w.static_var(var) {
            continue;
        }
        // Needed only when the app runs as production, and here it does.
        let in_production;
        let var = if var.required_in_production && !var.required && w.runs_as_production() {
            in_production = EnvVar {
                required: true,
                ..var.clone()
            };
            &in_production
        } else {
            var
        };
        // The project's Dockerfile sets it to an address on the port the
        // service serves (`SERVER__ADDRESS=0.0.0.0:8000`): it is the listen
        // address, whatever its name, and gets the deployment's.
        let outcome = if binds_service_port(var, s) {
            w.fixed_binding(&var.name, Kind::BindAddr)
        } else {
            w.binding(var.name.as_str(), var.required, secrets, notes)
        };
        let outcome = w.image_value(var, outcome);
        w.settle(var, outcome, secrets);
    }
    if !is_static {
        if uses_db {
            w.database_convention(secrets, notes);
        }
        if uses_cache {
            w.cache_convention(secrets, notes);
        }
        w.framework_conventions();
    }
    w.warn(notes);
    let mut out = w.finish(notes);
    if let Some(scheme) = ctx
        .database
        .filter(|_| uses_db)
        .and_then(|db| url_scheme_of_language(s.language, db.engine))
    {
        for b in &mut out {
            if let EnvValue::Database {
                output: DatabaseOutput::Url,
                scheme: wanted @ None,
            } = &mut b.value
            {
                *wanted = Some(scheme.to_string());
            }
        }
    }
    out
}

/// The URL scheme every driver of a language accepts, where the engine's
/// default (`postgresql://`) is not: Go's lib/pq before 1.1 (vendored and
/// Godeps-era apps) and golang-migrate's old postgres driver parse only
/// `postgres://`, and read anything else as `key=value` pairs ("missing
/// \"=\" after \"postgresql://…\""); pgx, gorm and newer lib/pq take both.
fn url_scheme_of_language(language: Language, engine: DatabaseEngine) -> Option<&'static str> {
    match (language, engine) {
        (Language::Go, DatabaseEngine::Postgresql) => Some("postgres"),
        _ => None,
    }
}

impl<'a> Wiring<'a> {
    fn new(s: &'a Service, hosting: Hosting, ctx: &'a EnvCtx<'a>, out: Vec<EnvBinding>) -> Self {
        let wired_db = out
            .iter()
            .any(|b| matches!(b.value, EnvValue::Database { .. }));
        let wired_cache = out
            .iter()
            .any(|b| matches!(b.value, EnvValue::Cache { .. }));
        Wiring {
            s,
            hosting,
            data_volume: None,
            ctx,
            store: secret_store(ctx.cloud),
            out,
            user_secrets: Vec::new(),
            inputs: Vec::new(),
            from_example: Vec::new(),
            local_only: Vec::new(),
            quieted: Vec::new(),
            left_default: Vec::new(),
            static_secrets: Vec::new(),
            wired_db,
            wired_cache,
        }
    }

    /// A setting the project's own Dockerfile gives a value (`ENV`), which
    /// the bundle's image or a VM would otherwise lose: outside development,
    /// the value its production image runs with — for settings the
    /// deployment has no value of its own for (its debug switch and
    /// environment name included: the project knows how it parses them),
    /// never for ports, hosts, URLs, data stores or secrets.
    fn image_value(&self, var: &EnvVar, outcome: Outcome) -> Outcome {
        let Some(value) = var.image_value.as_deref() else {
            return outcome;
        };
        if self.ctx.environment == Environment::Development || var.secret {
            return outcome;
        }
        match (classify(&var.name), &outcome) {
            (Kind::Debug | Kind::EnvName, _) | (Kind::Other, Outcome::Unknown) => Outcome::Set(
                EnvValue::Literal {
                    value: value.to_string(),
                },
                false,
                "the value the project's own Dockerfile sets (`ENV`): what its production image runs with".into(),
            ),
            _ => outcome,
        }
    }

    /// `service:NAME`, as secrets record their users.
    fn who(&self, n: &str) -> String {
        format!("{}:{n}", self.s.name)
    }

    /// Names a wiring explains but did not set (a cache password when the
    /// cache has no auth): they keep the code's default.
    fn explained(&self) -> BTreeSet<&'a str> {
        let (wired_db, wired_cache) = (self.wired_db, self.wired_cache);
        self.s
            .wiring
            .iter()
            .filter(|w| match w.target {
                WiringTarget::Database => wired_db,
                WiringTarget::Cache => wired_cache,
                WiringTarget::Listen => true,
            })
            .flat_map(|w| w.settings.iter().map(|x| x.name.as_str()))
            .collect()
    }

    /// A static build's variable: secrets are refused, required settings are
    /// inputs. False for a frontend API URL, which is wired as usual.
    fn static_var(&mut self, var: &EnvVar) -> bool {
        let name = var.name.as_str();
        match classify(name) {
            Kind::FrontendApiUrl => return false,
            _ if var.secret => self.static_secrets.push(name.to_string()),
            _ if var.required => {
                self.inputs.push(name.to_string());
                self.out.push(EnvBinding {
                    name: name.into(),
                    value: EnvValue::Input {
                        variable: input_name(name),
                    },
                    secret: false,
                    reason: "build-time setting the code needs; no default in the code".into(),
                });
            }
            _ => self.left_default.push(name.to_string()),
        }
        true
    }

    /// What a name recognised by [`classify`] gets.
    fn binding(
        &mut self,
        name: &str,
        required: bool,
        secrets: &mut Vec<SecretPlan>,
        notes: &mut Notes,
    ) -> Outcome {
        // The name the app's host allow-list is read from (found in its
        // settings) is one, whatever it is called.
        let kind = if self.s.allowed_hosts_env.as_deref() == Some(name) {
            Kind::AllowedHosts
        } else {
            classify(name)
        };
        match kind {
            // An app-defined name (APP_ENV, ENVIRONMENT…) takes the app's own
            // words (`prod`, `dev`…): its default is kept when it has one.
            Kind::EnvName if !env_vocabulary_known(name, self.framework()) && !required => {
                notes.reason(
                    format!("service.{}.env.{}", self.s.name, name.to_ascii_lowercase()),
                    Origin::Rule,
                    format!(
                        "{}: {name} keeps the code's default — the values it accepts are the app's own",
                        self.s.name
                    ),
                );
                Outcome::Done
            }
            // Flask's SERVER_NAME restricts routing to that exact host:port:
            // a health check by address or a port the platform maps answers
            // 404. Never set for Flask; elsewhere left unset when the code
            // does without it.
            Kind::PublicHost
                if name.eq_ignore_ascii_case("SERVER_NAME")
                    && (!required || self.framework() == "flask") =>
            {
                notes.reason(
                    format!("service.{}.env.server_name", self.s.name),
                    Origin::Rule,
                    format!(
                        "{}: SERVER_NAME is not set — {}with it every request by another host name or port (health checks, the load balancer) answers 404",
                        self.s.name,
                        if required { "" } else { "the code does without it, and " }
                    ),
                );
                if required {
                    notes.warn(
                        "server_name_unset",
                        Some(&self.s.name),
                        format!(
                            "`{}` reads SERVER_NAME with no default, but it is not set: Flask then routes only requests for that exact host:port, so the platform's health checks (sent to the instance's address) would get 404 and the app would be restarted forever — give the code a default (e.g. os.environ.get(\"SERVER_NAME\")) or, if it really needs one, pass it with `deploy --env SERVER_NAME=VALUE`",
                            self.s.name
                        ),
                    );
                }
                Outcome::Done
            }
            // The wiring explains how the app finds its database: another name
            // shaped like a connection setting is something else (`GEO_DATABASE_URL`),
            // except the universal `DATABASE_URL`.
            Kind::Db(..) if self.wired_db && !name.eq_ignore_ascii_case("DATABASE_URL") => {
                Outcome::Unknown
            }
            // Not so for the cache: an app holds several Redis connections
            // (a cache, arq's queue at `REDIS_QUEUE_HOST`/`_PORT`, a rate
            // limiter) and each one left unset points at localhost:6379.
            Kind::Db(output, hint) => self.database_binding(name, output, hint, secrets),
            Kind::DbDriver => match self.ctx.database {
                Some(db) => Outcome::Set(
                    EnvValue::Literal {
                        value: db_driver(db.engine).into(),
                    },
                    false,
                    format!("the driver for the provisioned {}", engine_name(db.engine)),
                ),
                None => Outcome::Unknown,
            },
            Kind::Cache(output) => self.cache_binding(name, output, secrets),
            Kind::CacheSwitch => match self.ctx.cache {
                Some(c) => Outcome::Set(
                    EnvValue::Literal {
                        value: "true".into(),
                    },
                    false,
                    format!(
                        "turns the app's cache on: the {} provided for it",
                        cache_name(c.engine)
                    ),
                ),
                None => Outcome::Unknown,
            },
            Kind::Port => self.port_binding(notes),
            Kind::AppSecret(format) => self.app_secret(name, format, secrets),
            Kind::FrontendApiUrl => self.frontend_api_url(),
            kind => self.fixed_binding(name, kind),
        }
    }

    /// Settings whose value follows from the deployment alone.
    fn fixed_binding(&self, name: &str, kind: Kind) -> Outcome {
        let set = |value, why: &str| Outcome::Set(value, false, why.to_string());
        // A switch turned off in the code's own spelling: Python compares
        // with or parses `"True"` (`envbool` helpers accepting only
        // True/False), and "False" reads as off wherever "false" does.
        // The code's own spelling when only one turns the switch off
        // (`int(…)` takes `0`, `!= "FALSE"` takes `FALSE`).
        let own_off = self
            .s
            .env
            .iter()
            .find(|v| v.name == name)
            .and_then(|v| v.off_value.as_deref());
        let off = match own_off {
            Some(off) => off,
            None if self.s.language == autodeploy_core::Language::Python => "False",
            None => "false",
        };
        let deployment = |output| EnvValue::Deployment { output };
        let literal = |v: &str| EnvValue::Literal { value: v.into() };
        let ctx = self.ctx;
        let listens = self.s.port.is_some();
        let local = ctx.cloud.is_local();
        match kind {
            // A Node build (`next build`, `vite build`) is a production build
            // whatever the deployment is: under NODE_ENV=development Next.js
            // fails to prerender and others bundle their development mode.
            Kind::EnvName if name.eq_ignore_ascii_case("NODE_ENV") && self.production_build() => {
                set(
                    literal("production"),
                    "the service runs a production build, which NODE_ENV=development breaks",
                )
            }
            Kind::EnvName => Outcome::Set(
                literal(&env_literal(name, self.framework(), ctx.environment)),
                false,
                format!("the {} environment", ctx.environment.as_str()),
            ),
            // An app that redirects to https where the deployment serves
            // plain http answers every page with a redirect to an address
            // nothing serves (and health checks still pass on the 301).
            Kind::HttpsRedirect if !ctx.https => set(
                literal(off),
                "the deployment serves plain http: the app's own redirect to https would lead nowhere",
            ),
            Kind::SecureCookies if !ctx.https => set(
                literal(off),
                "the deployment serves plain http: a browser drops cookies marked https-only, so sessions and forms would fail",
            ),
            Kind::HttpsLinks if !ctx.https => set(
                literal(off),
                "the deployment serves plain http: links and scripts the app builds as https would point at an address nothing serves",
            ),
            // Only where https reaches the app through a proxy of the
            // deployment (the load balancer with a certificate, a platform's
            // own https front door), which sets the header: over plain http
            // there is no https address to post from, and trusting a header
            // a client could send is never needed.
            Kind::TrustForwardedProto if !local && (ctx.https || self.hosting.platform_https()) => set(
                literal("1"),
                "https reaches the app through a proxy of the deployment (its load balancer, the platform's front door), which says so in X-Forwarded-Proto: Django trusts it, or it refuses form posts from the https address (\"Origin checking failed\")",
            ),
            Kind::EagerTasks if ctx.celery_worker => set(
                literal(off),
                "the deployment runs a Celery worker: eager tasks would run inside the web process and never reach it",
            ),
            Kind::CorsOrigin if self.s.env.iter().any(|v| v.name == name && v.required) => set(
                deployment(DeploymentOutput::PublicUrl),
                "the code demands an allowed origin and gives none: the deployment's own public URL",
            ),
            Kind::CreateAdmin if self.reads_admin_password() => set(
                literal("true"),
                "the app creates its first administrator from its settings: its password is generated (read it from the secret store)",
            ),
            Kind::AdminUser if self.reads_admin_password() => set(
                literal("admin"),
                "the first administrator's name; its password is generated (read it from the secret store)",
            ),
            Kind::MigrateSwitch if self.s.release.is_none() && self.s.kind == ServiceKind::Web => set(
                literal("true"),
                "the app migrates its schema as it starts when this is on, and nothing else runs its migrations",
            ),
            Kind::RustLog if self.s.env.iter().any(|v| v.name == name && v.required) => set(
                literal("info"),
                "the code demands a log filter and gives none: info, the usual level for production",
            ),
            Kind::Debug if ctx.environment != Environment::Development => {
                set(literal(off), "debug mode off outside development")
            }
            Kind::AllowedHosts => set(
                deployment(DeploymentOutput::AllowedHosts),
                "the public host name plus the addresses health checks use",
            ),
            Kind::PublicUrl => set(
                deployment(DeploymentOutput::PublicUrl),
                "the deployment's public URL",
            ),
            Kind::PublicHost => set(
                deployment(DeploymentOutput::PublicHost),
                "the deployment's public host name",
            ),
            Kind::DataDir if self.data_volume.is_some() => set(
                literal(self.data_volume.unwrap_or_default()),
                "the service's persistent volume, so its data files outlive the pod",
            ),
            Kind::BindHost if listens && local => set(
                literal("127.0.0.1"),
                "listen on loopback: the deployment's front is what answers on this machine",
            ),
            Kind::BindHost if listens => set(
                literal("0.0.0.0"),
                "listen on every interface so the load balancer / proxy can reach the app",
            ),
            Kind::BindAddr if listens && local => set(
                deployment(DeploymentOutput::ListenAddress),
                "listen on loopback on the port the local runner assigns",
            ),
            Kind::BindAddr if listens => set(
                literal(&format!("0.0.0.0:{}", self.s.port.unwrap_or(0))),
                "listen on every interface on the app's port",
            ),
            Kind::PhxServer => set(
                literal("true"),
                "a Phoenix release serves HTTP only with PHX_SERVER=true",
            ),
            Kind::RuntimeVersion(family)
                if crate::runtime::family(self.s.language) == family =>
            {
                let runtime =
                    crate::runtime::plan(self.s, false, &mut crate::notes::Notes::default());
                set(
                    literal(&runtime.version),
                    "the runtime version the deployment runs, which the official images set",
                )
            }
            _ => Outcome::Unknown,
        }
    }

    /// A development deployment of a service with a build step: a Node
    /// build (`next build`, `vite build`) is a production build whatever the
    /// deployment is — under NODE_ENV=development Next.js fails to
    /// prerender and bundlers build their development mode. Kept under
    /// development only when production would demand settings only the
    /// user has (`EnvVar::required_in_production`) and the repository's
    /// example runs it under development (hono-open-api-starter: a Turso
    /// token under production, `NODE_ENV=development` in `.env.example`);
    /// never for a front-end framework, whose build is the one that breaks.
    /// An example alone is not enough: node-typescript-koa-rest's
    /// development mode loads its TypeScript sources, not the build.
    fn production_build(&self) -> bool {
        let built = self
            .s
            .build
            .as_deref()
            .is_some_and(|b| !b.trim().is_empty());
        let example_says_development = self
            .s
            .env
            .iter()
            .any(|v| v.name == "NODE_ENV" && v.example.as_deref() == Some("development"));
        let production_demands = self.s.env.iter().any(|v| v.required_in_production);
        let front_end = crate::scope::FRONT_END_FRAMEWORKS.contains(&self.framework());
        self.ctx.environment == Environment::Development
            && built
            && (front_end || !(example_says_development && production_demands))
    }

    /// `NODE_ENV=production` is what this service runs under (see
    /// `framework_conventions`).
    fn runs_as_production(&self) -> bool {
        crate::runtime::family(self.s.language) == "node"
            && (self.ctx.environment != Environment::Development || self.production_build())
    }

    fn framework(&self) -> &'a str {
        self.s.framework.as_deref().unwrap_or("")
    }

    /// A database setting: an output of the provisioned database (or the
    /// external one's connection string).
    fn database_binding(
        &mut self,
        name: &str,
        output: DatabaseOutput,
        hint: Option<DatabaseEngine>,
        secrets: &mut [SecretPlan],
    ) -> Outcome {
        let Some(db) = self
            .ctx
            .database
            .filter(|db| hint.is_none_or(|h| h == db.engine))
        else {
            return Outcome::Unknown;
        };
        if db.service == DataService::External {
            mark_used(secrets, &db.credentials.secret, self.who(name));
            return Outcome::Set(
                EnvValue::UserSecret {
                    secret: db.credentials.secret.clone(),
                },
                true,
                "the connection string of your external MongoDB".into(),
            );
        }
        let secret = matches!(
            output,
            DatabaseOutput::Url | DatabaseOutput::AdoConnectionString | DatabaseOutput::Password
        );
        if secret {
            mark_used(secrets, &db.credentials.secret, self.who(name));
        }
        let why = match output {
            DatabaseOutput::Url | DatabaseOutput::AdoConnectionString => format!(
                "the {} connection string, assembled at start from the database address and the credentials in {} (never written to files)",
                engine_name(db.engine),
                store_name(db.credentials.store)
            ),
            DatabaseOutput::Password => format!(
                "the database password, injected from {}",
                store_name(db.credentials.store)
            ),
            o => format!("the database's {}", format!("{o:?}").to_ascii_lowercase()),
        };
        let value = EnvValue::Database {
            output,
            scheme: None,
        };
        Outcome::Set(value, secret, why)
    }

    /// A cache setting: an output of the provisioned cache.
    fn cache_binding(
        &mut self,
        name: &str,
        output: CacheOutput,
        secrets: &mut [SecretPlan],
    ) -> Outcome {
        let Some(c) = self
            .ctx
            .cache
            .filter(|c| !(c.engine == Cache::Memcached && output == CacheOutput::Url))
        else {
            return Outcome::Unknown;
        };
        if output == CacheOutput::Password && c.auth.is_none() {
            self.left_default.push(name.to_string());
            return Outcome::Done;
        }
        let secret = c.auth.is_some() && matches!(output, CacheOutput::Url | CacheOutput::Password);
        if let (true, Some(a)) = (secret, &c.auth) {
            mark_used(secrets, &a.secret, self.who(name));
        }
        let why = match output {
            CacheOutput::Url => format!(
                "the {} URL{}",
                cache_name(c.engine),
                if c.auth.is_some() {
                    " with its auth token, assembled at start"
                } else {
                    ""
                }
            ),
            o => format!("the cache's {}", format!("{o:?}").to_ascii_lowercase()),
        };
        Outcome::Set(EnvValue::Cache { output }, secret, why)
    }

    /// The app's own listener settings (a [`WiringTarget::Listen`] wiring:
    /// `APP_APPLICATION__PORT` from the `config` crate): its port is the
    /// deployment's, set even where the platform sets `PORT` — the code does
    /// not read `PORT` — and its bind host the one [`Kind::BindHost`] gets.
    fn listen_wiring(&mut self, notes: &mut Notes) {
        let s = self.s;
        if s.port.is_none() {
            return;
        }
        let mut set = Vec::new();
        for w in s.wiring.iter().filter(|w| w.target == WiringTarget::Listen) {
            for st in &w.settings {
                let outcome = match st.format {
                    SettingFormat::Port => Outcome::Set(
                        EnvValue::Deployment {
                            output: DeploymentOutput::Port,
                        },
                        false,
                        format!(
                            "the port the app listens on, read from its settings ({}); the deployment routes to it",
                            w.convention
                        ),
                    ),
                    SettingFormat::Host => self.fixed_binding(&st.name, Kind::BindHost),
                    SettingFormat::Address => self.fixed_binding(&st.name, Kind::BindAddr),
                    _ => Outcome::Unknown,
                };
                if let Outcome::Set(value, secret, reason) = outcome {
                    if !self.out.iter().any(|b| b.name == st.name) {
                        set.push(st.name.clone());
                        self.out.push(EnvBinding {
                            name: st.name.clone(),
                            value,
                            secret,
                            reason,
                        });
                    }
                }
            }
        }
        if !set.is_empty() {
            notes.reason(
                format!("service.{}.env.listen", s.name),
                Origin::Analysis,
                format!(
                    "{}: {} — where the code reads its own port and bind address",
                    s.name,
                    join_and(&set)
                ),
            );
        }
    }

    /// `PORT`: the port the deployment routes to, unless the platform sets it.
    fn port_binding(&mut self, notes: &mut Notes) -> Outcome {
        let s = self.s;
        match s.port {
            Some(_) if self.hosting.platform_sets_port() => {
                notes.reason(
                    format!("service.{}.env.port", s.name),
                    Origin::Rule,
                    format!(
                        "{}: PORT is not set — {} sets it itself, to the container port",
                        s.name,
                        crate::cloud::hosting_name(self.hosting)
                    ),
                );
                Outcome::Done
            }
            Some(p) => Outcome::Set(
                EnvValue::Deployment {
                    output: DeploymentOutput::Port,
                },
                false,
                format!(
                    "the port the deployment routes to ({p}; the local runner may assign another)"
                ),
            ),
            None => Outcome::Unknown,
        }
    }

    /// The service reads its first administrator's password, which the
    /// deployment generates.
    fn reads_admin_password(&self) -> bool {
        self.s.env.iter().any(|v| {
            matches!(
                v.name.to_ascii_uppercase().as_str(),
                "ADMIN_PASSWORD" | "SUPERUSER_PASSWORD" | "DJANGO_SUPERUSER_PASSWORD"
            )
        })
    }

    /// An app signing key, generated at deploy time into the secret store.
    fn app_secret(
        &mut self,
        name: &str,
        format: SecretFormat,
        secrets: &mut Vec<SecretPlan>,
    ) -> Outcome {
        let slug = secret_slug(name);
        let how = Some(generator(self.ctx.cloud, format));
        add_secret(
            secrets,
            &slug,
            SecretKind::Generated,
            self.store,
            how,
            self.who(name),
        );
        let password = name.to_ascii_uppercase().ends_with("PASSWORD");
        if password {
            mark_read_by_people(secrets, &slug);
        }
        Outcome::Set(
            EnvValue::GeneratedSecret { secret: slug },
            true,
            format!(
                "{}: generated at deploy time and kept in {}",
                if password {
                    "the first administrator's password (read it there to log in)"
                } else {
                    "an app signing key"
                },
                store_name(self.store)
            ),
        )
    }

    /// A frontend's API URL: the path its own address forwards to the API
    /// (`ServicePlan::api_route`), else the public URL of the deployment's
    /// API service.
    fn frontend_api_url(&self) -> Outcome {
        if let Some((_, route)) = self.ctx.site_routes.iter().find(|(n, _)| *n == self.s.name) {
            return Outcome::Set(
                EnvValue::Literal {
                    value: route.path_prefix.clone(),
                },
                false,
                format!(
                    "`{}`, the deployment's API, on the site's own address: {} is forwarded to it",
                    route.service, route.path_prefix
                ),
            );
        }
        match api_service(self.ctx.web_services) {
            Some(t) if *t != self.s.name => Outcome::Set(
                EnvValue::ServiceUrl { service: t.clone() },
                false,
                format!("the public URL of `{t}`, the deployment's API"),
            ),
            _ => Outcome::Unknown,
        }
    }

    /// Record a variable's outcome: its value, or a secret slot / input
    /// variable for what only the user knows, or the code's default.
    fn settle(&mut self, var: &EnvVar, outcome: Outcome, secrets: &mut Vec<SecretPlan>) {
        let name = var.name.as_str();
        match outcome {
            Outcome::Done => {}
            Outcome::Set(value, secret, reason) => self.out.push(EnvBinding {
                name: name.to_string(),
                value,
                secret,
                reason,
            }),
            // A token the app checks callers against is its own: generated,
            // and read from the store by whoever calls the API.
            Outcome::Unknown if var.secret && var.required && var.checks_requests => {
                if let Outcome::Set(value, secret, _) =
                    self.app_secret(name, SecretFormat::Token, secrets)
                {
                    if let EnvValue::GeneratedSecret { secret } = &value {
                        mark_read_by_people(secrets, secret);
                    }
                    self.out.push(EnvBinding {
                        name: name.to_string(),
                        value,
                        secret,
                        reason: format!(
                            "a token the code checks incoming requests against ({}): generated at deploy time and kept in {} — callers send that value",
                            var.file.as_deref().unwrap_or("its code"),
                            store_name(self.store)
                        ),
                    });
                }
            }
            Outcome::Unknown if var.secret && var.required => {
                let slug = secret_slug(name);
                let (kind, who) = (SecretKind::UserSupplied, self.who(name));
                add_secret(secrets, &slug, kind, self.store, None, who);
                self.user_secrets.push(if var.required_in_production {
                    format!("{name} (`{slug}`, which it demands under NODE_ENV=production)")
                } else {
                    format!("{name} (`{slug}`)")
                });
                self.out.push(EnvBinding {
                    name: name.to_string(),
                    value: EnvValue::UserSecret { secret: slug },
                    secret: true,
                    reason: format!(
                        "a secret only you have: an empty slot is created in {}",
                        store_name(self.store)
                    ),
                });
            }
            // What a new user does: copy the example env file's value.
            Outcome::Unknown if var.required && !var.secret && var.example.is_some() => {
                let example = var.example.clone().unwrap_or_default();
                let file = var.file.as_deref().unwrap_or("the example env file");
                let production = self.ctx.environment == Environment::Production;
                let (value, reason) = match quieter_log_level(name, &example) {
                    Some(level) if production => {
                        self.quieted.push(format!("{name}={example}"));
                        let reason = format!("the example value from {file} is a development log level ({example}): {level} in production");
                        (level, reason)
                    }
                    _ => {
                        if !self.ctx.cloud.is_local() {
                            if let Some(host) = local_only_host(&example) {
                                self.local_only.push(if host == example {
                                    format!("{name}={example}")
                                } else {
                                    format!("{name}={example} ({host})")
                                });
                            }
                        }
                        self.from_example.push(format!("{name}={example}"));
                        let reason = format!(
                            "the code needs it and gives no default: the example value from {file}"
                        );
                        (example, reason)
                    }
                };
                self.out.push(EnvBinding {
                    name: name.to_string(),
                    value: EnvValue::Literal { value },
                    secret: false,
                    reason,
                });
            }
            Outcome::Unknown if var.required && !var.secret => {
                self.inputs.push(name.to_string());
                self.out.push(EnvBinding {
                    name: name.to_string(),
                    value: EnvValue::Input {
                        variable: input_name(name),
                    },
                    secret: false,
                    reason: "the code needs it and gives no default: a bundle input variable"
                        .into(),
                });
            }
            Outcome::Unknown => self.left_default.push(name.to_string()),
        }
    }

    /// The database is used but nothing set found it: the conventional name.
    fn database_convention(&mut self, secrets: &mut [SecretPlan], notes: &mut Notes) {
        let Some(db) = self.ctx.database else {
            return;
        };
        let wired_to_db = |b: &EnvBinding| match &b.value {
            EnvValue::Database { .. } => true,
            EnvValue::UserSecret { secret } => &db.credentials.secret == secret,
            _ => false,
        };
        if self.out.iter().any(wired_to_db) {
            return;
        }
        let s = self.s;
        let n = if db.engine == DatabaseEngine::Mongodb {
            "MONGODB_URI"
        } else {
            "DATABASE_URL"
        };
        let value = if db.service == DataService::External {
            EnvValue::UserSecret {
                secret: db.credentials.secret.clone(),
            }
        } else {
            EnvValue::Database {
                output: DatabaseOutput::Url,
                scheme: None,
            }
        };
        mark_used(secrets, &db.credentials.secret, self.who(n));
        notes.warn(
            "database_env_unknown",
            Some(&s.name),
            format!(
                "`{}` uses {} but nothing in its code says how it finds it (looked for {}, and settings named like DATABASE_URL or DB_HOST): {n} is set, the common convention — if the app reads another setting, give it its value with `deploy --env NAME=VALUE`",
                s.name,
                engine_name(db.engine),
                crate::wiring::looked_for(s.language)
            ),
        );
        self.out.push(EnvBinding {
            name: n.into(),
            value,
            secret: true,
            reason: "conventional connection setting (the code's own was not found)".into(),
        });
    }

    /// The cache is used but nothing set finds it: the conventional name.
    fn cache_convention(&mut self, secrets: &mut [SecretPlan], notes: &mut Notes) {
        let Some(c) = self.ctx.cache else {
            return;
        };
        if self
            .out
            .iter()
            .any(|b| matches!(b.value, EnvValue::Cache { .. }))
        {
            return;
        }
        let s = self.s;
        let (n, output) = match c.engine {
            Cache::Redis => ("REDIS_URL", CacheOutput::Url),
            Cache::Memcached => ("MEMCACHED_SERVERS", CacheOutput::Address),
        };
        if let Some(a) = &c.auth {
            mark_used(secrets, &a.secret, self.who(n));
        }
        notes.warn(
            "cache_env_unknown",
            Some(&s.name),
            format!(
                "`{}` uses {} but the analysis found no setting it reads for its address: {n} is set (the common convention) — if the app reads another setting, give it its value with `deploy --env NAME=VALUE`",
                s.name,
                cache_name(c.engine)
            ),
        );
        self.out.push(EnvBinding {
            name: n.into(),
            value: EnvValue::Cache { output },
            secret: c.auth.is_some() && output == CacheOutput::Url,
            reason: "conventional cache setting (the code's own was not found)".into(),
        });
    }

    /// Settings a runtime or framework expects that the code may not show.
    fn framework_conventions(&mut self) {
        let (fw, env) = (self.framework(), self.ctx.environment);
        let family = crate::runtime::family(self.s.language);
        let mut rows: Vec<(&str, String, &str)> = Vec::new();
        if family == "node" && self.production_build() {
            rows.push((
                "NODE_ENV",
                "production".into(),
                "the service runs a production build, which NODE_ENV=development breaks",
            ));
        } else if family == "node" {
            let v = env_literal("NODE_ENV", fw, env);
            rows.push((
                "NODE_ENV",
                v,
                "Node convention: libraries switch to production behaviour",
            ));
        }
        if fw == "rails" {
            rows.push((
                "RAILS_ENV",
                env_literal("RAILS_ENV", fw, env),
                "Rails convention",
            ));
            rows.push((
                "RAILS_LOG_TO_STDOUT",
                "1".into(),
                "logs go to the platform's log stream",
            ));
        }
        if fw == "phoenix" {
            rows.push((
                "MIX_ENV",
                env_literal("MIX_ENV", fw, env),
                "Phoenix convention",
            ));
            let why = "a Phoenix release serves HTTP only with PHX_SERVER=true";
            rows.push(("PHX_SERVER", "true".into(), why));
        }
        if family == "python" {
            let why = "logs reach the platform's log stream at once";
            rows.push(("PYTHONUNBUFFERED", "1".into(), why));
        }
        for (name, value, why) in rows {
            if !self.out.iter().any(|b| b.name.eq_ignore_ascii_case(name)) {
                self.out.push(EnvBinding {
                    name: name.into(),
                    value: EnvValue::Literal { value },
                    secret: false,
                    reason: why.into(),
                });
            }
        }
    }

    /// What the user must still provide, and secrets a static build must not hold.
    fn warn(&self, notes: &mut Notes) {
        let s = self.s;
        // One warning per list that has names, its text made from the
        // service's name and the names joined.
        let mut warn = |code: &str, names: &[String], text: &dyn Fn(&str, String) -> String| {
            if !names.is_empty() {
                notes.warn(code, Some(&s.name), text(&s.name, join_and(names)));
            }
        };
        warn("secret_needs_value", &self.user_secrets, &|n, names| {
            format!(
                "`{n}` needs {names} and the code gives no default: these are secrets only you have — fill the empty slot(s) in {} before the app can work",
                store_name(self.store)
            )
        });
        let variables: Vec<String> = self
            .inputs
            .iter()
            .map(|i| format!("`{}`", input_name(i)))
            .collect();
        warn("env_needs_value", &self.inputs, &|n, names| {
            format!(
                "`{n}` needs {names} and the code gives no default: set the bundle input variable(s) {}",
                join_and(&variables)
            )
        });
        warn("env_from_example", &self.from_example, &|n, names| {
            format!(
                "`{n}` needs {names} and the code gives no default: the repository's example values are used — to set your own, give them with `deploy --env NAME=VALUE`"
            )
        });
        warn("example_value_local_only", &self.local_only, &|n, names| {
            format!(
                "`{n}` gets {names} from the repository's example: a host that exists only on a developer's machine or in its compose file, which nothing answers for in this deployment — give the real value with `deploy --env NAME=VALUE`"
            )
        });
        warn("example_log_level_raised", &self.quieted, &|n, names| {
            format!(
                "`{n}`: the example's development log level ({names}) becomes info in production — to keep it, give it with `deploy --env NAME=VALUE`"
            )
        });
        warn(
            "secret_in_static_build",
            &self.static_secrets,
            &|n, names| {
                format!(
                "the static build of `{n}` reads {names}, which look like secrets: anything baked into a static build is public, so they are not set — move them to a backend"
            )
            },
        );
    }

    /// The variables the code reads in the analysis' order (the ones only a
    /// convention or a framework's wiring names after them), and the reason line.
    fn finish(mut self, notes: &mut Notes) -> Vec<EnvBinding> {
        let s = self.s;
        self.out.sort_by_key(|b| {
            s.env
                .iter()
                .position(|v| v.name == b.name)
                .unwrap_or(usize::MAX)
        });
        let set: Vec<String> = self.out.iter().map(|b| b.name.clone()).collect();
        notes.reason(
            format!("service.{}.env", s.name),
            Origin::Analysis,
            format!(
                "{}: {}{}",
                s.name,
                if set.is_empty() {
                    "no environment variables to set".to_string()
                } else {
                    format!("sets {}", join_and(&set))
                },
                if self.left_default.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; left to the code's defaults: {}",
                        join_and(&self.left_default)
                    )
                }
            ),
        );
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::service;
    use autodeploy_core::{CredentialMethod, CredentialsPlan, EnvVar, Language};

    #[test]
    fn classify_table() {
        use DatabaseOutput as D;
        let pg = Some(DatabaseEngine::Postgresql);
        let my = Some(DatabaseEngine::Mysql);
        let mongo = Some(DatabaseEngine::Mongodb);
        let cases = [
            ("DATABASE_URL", Kind::Db(D::Url, None)),
            ("API_PORT", Kind::Port),
            // axum-sqlx-conduit: its argon2 salt, and its clap `rust_log`.
            ("ARGON_SALT", Kind::AppSecret(SecretFormat::Token)),
            ("JWT_ACCESS_SECRET", Kind::AppSecret(SecretFormat::Token)),
            ("RUST_LOG", Kind::RustLog),
            ("RUN_MIGRATIONS", Kind::MigrateSwitch),
            ("CREATE_ADMIN", Kind::CreateAdmin),
            ("CORS_ORIGIN", Kind::CorsOrigin),
            ("ADMIN_USERNAME", Kind::AdminUser),
            ("ADMIN_PASSWORD", Kind::AppSecret(SecretFormat::Token)),
            ("DATA_DIR", Kind::DataDir),
            ("MICROBIN_DATA_DIR", Kind::DataDir),
            ("DATABASE_PATH", Kind::Other),
            ("PYTHON_VERSION", Kind::RuntimeVersion("python")),
            ("AUTH_REFRESH_SECRET", Kind::AppSecret(SecretFormat::Token)),
            (
                "AUTH_CONFIRM_EMAIL_SECRET",
                Kind::AppSecret(SecretFormat::Token),
            ),
            ("ACCESS_TOKEN_SECRET", Kind::AppSecret(SecretFormat::Token)),
            ("GITHUB_CLIENT_SECRET", Kind::Other),
            ("AWS_SECRET_ACCESS_KEY", Kind::Other),
            ("POSTGRES_HOST", Kind::Db(D::Host, pg)),
            ("POSTGRES_DB", Kind::Db(D::Name, pg)),
            ("POSTGRES_USER", Kind::Db(D::Username, pg)),
            ("POSTGRES_PASSWORD", Kind::Db(D::Password, pg)),
            ("POSTGRES_PORT", Kind::Db(D::Port, pg)),
            ("DB_HOST", Kind::Db(D::Host, None)),
            ("DB_DATABASE", Kind::Db(D::Name, None)),
            ("DB_USERNAME", Kind::Db(D::Username, None)),
            ("DB_PASS", Kind::Db(D::Password, None)),
            ("MYSQL_HOST", Kind::Db(D::Host, my)),
            ("MONGODB_URI", Kind::Db(D::Url, mongo)),
            ("MONGO_URI", Kind::Db(D::Url, mongo)),
            ("MONGODB_DB", Kind::Db(D::Name, mongo)),
            ("JDBC_URL", Kind::Db(D::JdbcUrl, None)),
            ("SPRING_DATASOURCE_URL", Kind::Db(D::JdbcUrl, None)),
            ("SPRING_DATASOURCE_USERNAME", Kind::Db(D::Username, None)),
            (
                "ConnectionStrings__Default",
                Kind::Db(D::AdoConnectionString, None),
            ),
            ("PGHOST", Kind::Db(D::Host, pg)),
            ("ORDERS_DB_URL", Kind::Db(D::Url, None)),
            ("DB_POOL_SIZE", Kind::Other),
            ("POOL_SIZE", Kind::Other),
            ("DB_CONNECTION", Kind::DbDriver),
            ("REDIS_URL", Kind::Cache(CacheOutput::Url)),
            ("REDIS_HOST", Kind::Cache(CacheOutput::Host)),
            ("REDIS_PORT", Kind::Cache(CacheOutput::Port)),
            ("REDIS_ADDR", Kind::Cache(CacheOutput::Address)),
            ("REDIS_PASSWORD", Kind::Cache(CacheOutput::Password)),
            ("REDIS_DB", Kind::Other),
            ("CELERY_BROKER_URL", Kind::Cache(CacheOutput::Url)),
            ("CELERY_RESULT_BACKEND", Kind::Cache(CacheOutput::Url)),
            ("MEMCACHED_SERVERS", Kind::Cache(CacheOutput::Address)),
            ("REDISTOGO_URL", Kind::Cache(CacheOutput::Url)),
            ("REDIS_ENABLED", Kind::CacheSwitch),
            ("USE_REDIS", Kind::CacheSwitch),
            ("SESSION_REDIS_ENABLED", Kind::Other),
            ("REDISCLOUD_URL", Kind::Cache(CacheOutput::Url)),
            ("PORT", Kind::Port),
            ("HOST", Kind::BindHost),
            ("LISTEN_ADDR", Kind::BindAddr),
            ("NODE_ENV", Kind::EnvName),
            ("RAILS_ENV", Kind::EnvName),
            ("DJANGO_DEBUG", Kind::Debug),
            ("DJANGO_ALLOWED_HOSTS", Kind::AllowedHosts),
            ("APP_URL", Kind::PublicUrl),
            ("PHX_HOST", Kind::PublicHost),
            ("DEFAULT_DOMAIN", Kind::PublicHost),
            ("PHX_SERVER", Kind::PhxServer),
            ("DJANGO_SECRET_KEY", Kind::AppSecret(SecretFormat::Token)),
            ("FLASK_SECRET_KEY", Kind::AppSecret(SecretFormat::Token)),
            ("SECRET_KEY", Kind::AppSecret(SecretFormat::Token)),
            ("SESSION_SECRET", Kind::AppSecret(SecretFormat::Token)),
            ("JWT_SECRET", Kind::AppSecret(SecretFormat::Token)),
            ("JWT_SIGNING_KEY", Kind::AppSecret(SecretFormat::Token)),
            ("HMAC_KEY", Kind::AppSecret(SecretFormat::Token)),
            ("TOKEN_HMAC_SECRET", Kind::AppSecret(SecretFormat::Token)),
            ("SECRET_KEY_BASE", Kind::AppSecret(SecretFormat::Hex128)),
            ("APP_KEY", Kind::AppSecret(SecretFormat::LaravelKey)),
            ("APP_SECRET", Kind::AppSecret(SecretFormat::Token)),
            ("AWS_SECRET_ACCESS_KEY", Kind::Other),
            ("STRIPE_SECRET_KEY", Kind::Other),
            ("GITHUB_CLIENT_SECRET", Kind::Other),
            ("STRIPE_API_KEY", Kind::Other),
            ("OPENAI_API_KEY", Kind::Other),
            ("RAILS_MASTER_KEY", Kind::Other),
            ("VITE_API_URL", Kind::FrontendApiUrl),
            ("REACT_APP_API_URL", Kind::FrontendApiUrl),
            ("NEXT_PUBLIC_SITE_NAME", Kind::Other),
            ("SCRIPT_USE_HTTPS", Kind::HttpsLinks),
            ("USE_HTTPS", Kind::HttpsLinks),
            ("MAIL_USE_SSL", Kind::Other),
            ("MAIL_USE_TLS", Kind::Other),
            ("CELERY_TASK_ALWAYS_EAGER", Kind::EagerTasks),
            ("", Kind::Other),
        ];
        for (name, want) in cases {
            assert_eq!(classify(name), want, "{name}");
        }
    }

    /// django-shynet: its tracking script's `https://` switch and Celery's
    /// eager mode, both on by default, follow the deployment: off over plain
    /// http, off beside a Celery worker — and left to the code otherwise.
    #[test]
    fn https_links_and_eager_tasks_follow_the_deployment() {
        let web = vec!["app".to_string()];
        let mut s = service("app", Language::Python, Some("django"), ServiceKind::Web);
        s.env = vec![
            var("SCRIPT_USE_HTTPS", false, false),
            var("CELERY_TASK_ALWAYS_EAGER", false, false),
        ];
        let literal = |https: bool, celery_worker: bool| {
            let ctx = EnvCtx {
                https,
                celery_worker,
                ..production_on(Cloud::Aws, &web)
            };
            let env = wire(
                &s,
                Hosting::EcsFargate,
                None,
                &ctx,
                &mut Vec::new(),
                &mut Notes::default(),
            );
            (
                literal_of(&env, "SCRIPT_USE_HTTPS"),
                literal_of(&env, "CELERY_TASK_ALWAYS_EAGER"),
            )
        };
        let off = Some("False".to_string());
        assert_eq!(literal(false, true), (off.clone(), off));
        assert_eq!(literal(true, false), (None, None));
    }

    /// A switch turned off in the code's own spelling when it has one
    /// (`int(…)` → `0`, `!= "FALSE"` → `FALSE`), else the language's.
    #[test]
    fn switches_are_turned_off_in_the_codes_own_spelling() {
        let web = vec!["app".to_string()];
        let mut s = service("app", Language::Python, Some("django"), ServiceKind::Web);
        let mut debug = var("DEBUG", false, false);
        debug.off_value = Some("0".into());
        let mut django_debug = var("DJANGO_DEBUG", false, false);
        django_debug.off_value = Some("FALSE".into());
        s.env = vec![
            debug,
            django_debug,
            var("SECURE_SSL_REDIRECT", false, false),
        ];
        let ctx = production_on(Cloud::Aws, &web);
        let env = wire(
            &s,
            Hosting::EcsFargate,
            None,
            &ctx,
            &mut Vec::new(),
            &mut Notes::default(),
        );
        let get = |n: &str| literal_of(&env, n).unwrap_or_else(|| panic!("{n} unset"));
        assert_eq!(get("DEBUG"), "0");
        assert_eq!(get("DJANGO_DEBUG"), "FALSE");
        assert_eq!(get("SECURE_SSL_REDIRECT"), "False");
    }

    #[test]
    fn slugs() {
        assert_eq!(secret_slug("DJANGO_SECRET_KEY"), "django-secret-key");
        assert_eq!(secret_slug("__weird__name$"), "weird-name");
        assert_eq!(secret_slug("$$"), "secret");
        assert_eq!(input_name("SITE_TITLE"), "site_title");
    }

    fn var(name: &str, required: bool, secret: bool) -> EnvVar {
        crate::testutil::env_var(name, required, secret)
    }

    fn pg() -> DatabasePlan {
        DatabasePlan {
            engine: DatabaseEngine::Postgresql,
            service: DataService::AwsRds,
            version: "16".into(),
            instance_class: "db.t4g.micro".into(),
            storage_gb: 20,
            max_storage_gb: 20,
            multi_az: false,
            backup_retention_days: 1,
            deletion_protection: false,
            final_snapshot: false,
            encrypted: true,
            publicly_accessible: false,
            port: 5432,
            db_name: "app".into(),
            username: "app_admin".into(),
            credentials: CredentialsPlan {
                method: CredentialMethod::WriteOnlyGeneratedPassword,
                store: SecretStore::AwsSecretsManager,
                secret: "database-credentials".into(),
                description: String::new(),
            },
            used_by: vec!["app".into()],
            require_tls: true,
            origin: Origin::Analysis,
        }
    }

    /// go-grocery: its vendored lib/pq reads `postgresql://…` as
    /// `key=value` pairs; a Go service's URL is `postgres://`, a Python
    /// one's keeps the engine default.
    #[test]
    fn a_go_service_gets_the_postgres_scheme_every_go_driver_reads() {
        let db = pg();
        let web = vec!["app".to_string()];
        let ctx = EnvCtx {
            cloud: Cloud::Local,
            environment: Environment::Production,
            database: Some(&db),
            cache: None,
            web_services: &web,
            site_routes: &[],
            https: false,
            celery_worker: false,
        };
        let url_scheme = |language| {
            let mut s = service("app", language, None, ServiceKind::Web);
            s.env = vec![var("DATABASE_URL", true, true)];
            let mut secrets = Vec::new();
            let env = wire(
                &s,
                Hosting::LocalProcess,
                None,
                &ctx,
                &mut secrets,
                &mut Notes::default(),
            );
            env.iter()
                .find(|b| b.name == "DATABASE_URL")
                .map(|b| b.value.clone())
        };
        assert_eq!(
            url_scheme(Language::Go),
            Some(EnvValue::Database {
                output: DatabaseOutput::Url,
                scheme: Some("postgres".into())
            })
        );
        assert_eq!(
            url_scheme(Language::Python),
            Some(EnvValue::Database {
                output: DatabaseOutput::Url,
                scheme: None
            })
        );
    }

    #[test]
    fn django_postgres_wiring() {
        let mut s = service("app", Language::Python, Some("django"), ServiceKind::Web);
        s.port = Some(8000);
        s.env = vec![
            var("DJANGO_ALLOWED_HOSTS", false, false),
            var("DJANGO_DEBUG", false, false),
            var("DJANGO_SECRET_KEY", true, true),
            var("POSTGRES_DB", false, false),
            var("POSTGRES_HOST", false, false),
            var("POSTGRES_PASSWORD", true, true),
            var("POSTGRES_PORT", false, false),
            var("POSTGRES_USER", false, false),
            var("STRIPE_API_KEY", true, true),
            var("SITE_TITLE", true, false),
            var("LOG_LEVEL", false, false),
        ];
        let db = pg();
        let web = vec!["app".to_string()];
        let ctx = EnvCtx {
            cloud: Cloud::Aws,
            environment: Environment::Production,
            database: Some(&db),
            cache: None,
            web_services: &web,
            site_routes: &[],
            https: false,
            celery_worker: false,
        };
        let mut secrets = vec![SecretPlan {
            name: "database-credentials".into(),
            kind: SecretKind::DatabaseCredentials,
            store: SecretStore::AwsSecretsManager,
            generator: None,
            used_by: vec![],
            read_by_people: false,
        }];
        let mut notes = Notes::default();
        let env = wire(
            &s,
            Hosting::EcsFargate,
            None,
            &ctx,
            &mut secrets,
            &mut notes,
        );
        let get = |n: &str| {
            env.iter()
                .find(|b| b.name == n)
                .map(|b| (&b.value, b.secret))
        };
        assert_eq!(
            get("POSTGRES_HOST"),
            Some((
                &EnvValue::Database {
                    output: DatabaseOutput::Host,
                    scheme: None
                },
                false
            ))
        );
        assert_eq!(
            get("POSTGRES_PASSWORD"),
            Some((
                &EnvValue::Database {
                    output: DatabaseOutput::Password,
                    scheme: None
                },
                true
            ))
        );
        assert_eq!(
            get("POSTGRES_DB"),
            Some((
                &EnvValue::Database {
                    output: DatabaseOutput::Name,
                    scheme: None
                },
                false
            ))
        );
        assert_eq!(
            get("DJANGO_SECRET_KEY"),
            Some((
                &EnvValue::GeneratedSecret {
                    secret: "django-secret-key".into()
                },
                true
            ))
        );
        assert_eq!(
            get("DJANGO_DEBUG"),
            Some((
                &EnvValue::Literal {
                    value: "False".into()
                },
                false
            ))
        );
        assert_eq!(
            get("DJANGO_ALLOWED_HOSTS"),
            Some((
                &EnvValue::Deployment {
                    output: DeploymentOutput::AllowedHosts
                },
                false
            ))
        );
        assert_eq!(
            get("STRIPE_API_KEY"),
            Some((
                &EnvValue::UserSecret {
                    secret: "stripe-api-key".into()
                },
                true
            ))
        );
        assert_eq!(
            get("SITE_TITLE"),
            Some((
                &EnvValue::Input {
                    variable: "site_title".into()
                },
                false
            ))
        );
        assert_eq!(get("LOG_LEVEL"), None);
        assert_eq!(get("PYTHONUNBUFFERED").map(|x| x.1), Some(false));
        assert!(notes.has_warning("secret_needs_value"));
        assert!(notes.has_warning("env_needs_value"));
        assert!(!notes.has_warning("database_env_unknown"));
        let creds = secrets
            .iter()
            .find(|s| s.name == "database-credentials")
            .unwrap();
        assert_eq!(creds.used_by, vec!["app:POSTGRES_PASSWORD".to_string()]);
        assert!(secrets
            .iter()
            .any(|s| s.name == "django-secret-key" && s.kind == SecretKind::Generated));
        // Never a value that looks like a secret in a literal.
        for b in &env {
            if let EnvValue::Literal { value } = &b.value {
                assert!(!b.secret && value.len() < 20, "{b:?}");
            }
        }
    }

    #[test]
    fn conventions_fill_in_unknown_settings() {
        let mut s = service("app", Language::Rust, Some("rocket"), ServiceKind::Web);
        s.port = Some(8080);
        s.env = vec![var("NOTES_ADMIN_TOKEN", false, true)];
        let db = pg();
        let web = vec!["app".to_string()];
        let ctx = EnvCtx {
            cloud: Cloud::Aws,
            environment: Environment::Production,
            database: Some(&db),
            cache: None,
            web_services: &web,
            site_routes: &[],
            https: false,
            celery_worker: false,
        };
        let mut notes = Notes::default();
        let env = wire(&s, Hosting::Ec2, None, &ctx, &mut Vec::new(), &mut notes);
        assert!(env.iter().any(|b| b.name == "DATABASE_URL" && b.secret));
        assert!(notes.has_warning("database_env_unknown"));
        assert!(!env.iter().any(|b| b.name == "NOTES_ADMIN_TOKEN"));
    }

    /// miniflux's `RUN_MIGRATIONS` and axum-sqlx-conduit's clap
    /// `run_migrations`: on where nothing else migrates (no release step),
    /// left alone where the release does; axum-sqlx-conduit's required
    /// `RUST_LOG` is info, its `ARGON_SALT` generated, its required
    /// `CORS_ORIGIN` the deployment's public URL.
    #[test]
    fn a_migrate_at_start_switch_is_on_where_nothing_else_migrates() {
        let mut s = web_reading(&[
            var("RUN_MIGRATIONS", false, false),
            var("RUST_LOG", true, false),
            var("ARGON_SALT", true, true),
            var("CORS_ORIGIN", true, false),
        ]);
        let env = wired_on_aws(&s);
        let cors = env.iter().find(|b| b.name == "CORS_ORIGIN").expect("set");
        assert_eq!(
            cors.value,
            EnvValue::Deployment {
                output: DeploymentOutput::PublicUrl
            }
        );
        assert_eq!(literal_of(&env, "RUN_MIGRATIONS").as_deref(), Some("true"));
        assert_eq!(literal_of(&env, "RUST_LOG").as_deref(), Some("info"));
        let salt = env.iter().find(|b| b.name == "ARGON_SALT").expect("set");
        assert!(
            matches!(salt.value, EnvValue::GeneratedSecret { .. }),
            "{salt:?}"
        );
        s.release = Some("sqlx migrate run".into());
        assert_eq!(literal_of(&wired_on_aws(&s), "RUN_MIGRATIONS"), None);
        // An allowed origin with a default in the code is the app's.
        let optional = web_reading(&[var("CORS_ORIGIN", false, false)]);
        assert!(!wired_on_aws(&optional)
            .iter()
            .any(|b| b.name == "CORS_ORIGIN"));
    }

    /// miniflux: `CREATE_ADMIN`, `ADMIN_USERNAME` and `ADMIN_PASSWORD` make
    /// the first administrator: on, `admin`, a generated password. Without
    /// a password setting the switch and the name are left alone.
    #[test]
    fn the_first_administrator_gets_a_generated_password() {
        let mut s = web_reading(&[
            var("CREATE_ADMIN", false, false),
            var("ADMIN_USERNAME", false, false),
            var("ADMIN_PASSWORD", false, true),
        ]);
        let env = wired_on_aws(&s);
        assert_eq!(literal_of(&env, "CREATE_ADMIN").as_deref(), Some("true"));
        assert_eq!(literal_of(&env, "ADMIN_USERNAME").as_deref(), Some("admin"));
        let password = env
            .iter()
            .find(|b| b.name == "ADMIN_PASSWORD")
            .expect("set");
        assert!(matches!(password.value, EnvValue::GeneratedSecret { .. }));
        assert!(
            password.reason.contains("administrator's password"),
            "{}",
            password.reason
        );
        s.env.pop();
        let env = wired_on_aws(&s);
        assert_eq!(literal_of(&env, "CREATE_ADMIN"), None);
        assert_eq!(literal_of(&env, "ADMIN_USERNAME"), None);
    }

    /// The switch the copy of Django settings reads to trust the proxy's
    /// X-Forwarded-Proto: on where https reaches the app through the
    /// deployment's load balancer or a platform's front door; unset over
    /// plain http and on the local target.
    #[test]
    fn the_proxys_forwarded_proto_is_trusted_on_a_cloud_only() {
        let s = web_reading(&[var("DJANGO_TRUST_X_FORWARDED_PROTO", false, false)]);
        let web = vec![s.name.clone()];
        let https = EnvCtx {
            https: true,
            ..production_on(Cloud::Aws, &web)
        };
        let on = |hosting, ctx: &EnvCtx| {
            let env = wire(
                &s,
                hosting,
                None,
                ctx,
                &mut Vec::new(),
                &mut Notes::default(),
            );
            literal_of(&env, "DJANGO_TRUST_X_FORWARDED_PROTO")
        };
        assert_eq!(on(Hosting::EcsFargate, &https).as_deref(), Some("1"));
        // Cloud Run's own https front door, without a domain of ours.
        let gcp = production_on(Cloud::Gcp, &web);
        assert_eq!(on(Hosting::CloudRun, &gcp).as_deref(), Some("1"));
        // Plain http behind the load balancer: nothing to trust.
        assert_eq!(
            literal_of(&wired_on_aws(&s), "DJANGO_TRUST_X_FORWARDED_PROTO"),
            None
        );
        let local = wire(
            &s,
            Hosting::LocalProcess,
            None,
            &local_development(&web),
            &mut Vec::new(),
            &mut Notes::default(),
        );
        assert_eq!(literal_of(&local, "DJANGO_TRUST_X_FORWARDED_PROTO"), None);
    }

    /// A web service on port 8080 that reads these variables.
    fn web_reading(env: &[EnvVar]) -> Service {
        let mut s = crate::testutil::service(
            "app",
            autodeploy_core::Language::Rust,
            None,
            ServiceKind::Web,
        );
        s.port = Some(8080);
        s.env = env.to_vec();
        s
    }

    /// `s` wired for production on AWS EC2, beside no data service.
    fn wired_on_aws(s: &Service) -> Vec<EnvBinding> {
        let web = vec![s.name.clone()];
        let ctx = production_on(Cloud::Aws, &web);
        wire(
            s,
            Hosting::Ec2,
            None,
            &ctx,
            &mut Vec::new(),
            &mut Notes::default(),
        )
    }

    /// A local development deployment with these web services, nothing else.
    fn local_development(web: &[String]) -> EnvCtx<'_> {
        EnvCtx {
            cloud: Cloud::Local,
            environment: Environment::Development,
            ..production_on(Cloud::Local, web)
        }
    }

    /// A production deployment on `cloud` with these web services, nothing else.
    fn production_on(cloud: Cloud, web: &[String]) -> EnvCtx<'_> {
        EnvCtx {
            cloud,
            environment: Environment::Production,
            database: None,
            cache: None,
            web_services: web,
            site_routes: &[],
            https: false,
            celery_worker: false,
        }
    }

    /// The literal value `env` gives `n` (none when unset; a panic when it
    /// is set to something else).
    fn literal_of(env: &[EnvBinding], n: &str) -> Option<String> {
        match env.iter().find(|b| b.name == n).map(|b| &b.value) {
            Some(EnvValue::Literal { value }) => Some(value.clone()),
            None => None,
            other => panic!("{n}: {other:?}"),
        }
    }

    /// A development deployment keeps NODE_ENV=development, except for a
    /// service with a build step: its build is a production build.
    #[test]
    fn node_env_is_production_for_a_built_service_even_in_development() {
        let web = vec!["app".to_string()];
        let ctx = local_development(&web);
        let node_env_of =
            |framework: &str, build: Option<&str>, read: bool, example: bool, demands: bool| {
                let mut s = service(
                    "app",
                    Language::Typescript,
                    Some(framework),
                    ServiceKind::Web,
                );
                s.port = Some(3000);
                s.build = build.map(str::to_string);
                if read {
                    let mut v = var("NODE_ENV", false, false);
                    v.example = example.then(|| "development".to_string());
                    let mut token = var("DATABASE_AUTH_TOKEN", false, true);
                    token.required_in_production = demands;
                    s.env = vec![v, token];
                }
                let env = wire(
                    &s,
                    Hosting::LocalProcess,
                    None,
                    &ctx,
                    &mut Vec::new(),
                    &mut Notes::default(),
                );
                env.iter()
                    .find(|b| b.name == "NODE_ENV")
                    .map(|b| b.value.clone())
            };
        let lit = |v: &str| {
            Some(EnvValue::Literal {
                value: v.to_string(),
            })
        };
        let node_env =
            |build: Option<&str>, read: bool| node_env_of("nextjs", build, read, false, false);
        for read in [false, true] {
            assert_eq!(
                node_env(Some("next build"), read),
                lit("production"),
                "{read}"
            );
            assert_eq!(node_env(None, read), lit("development"), "{read}");
        }
        // The repository's example alone does not keep a built server
        // under development (node-typescript-koa-rest's development mode
        // loads its TypeScript sources): production still.
        assert_eq!(
            node_env_of("koa", Some("npm run build"), true, true, false),
            lit("production")
        );
        // With settings production demands and only the user has, the
        // example's development is kept for a server, not for a front end.
        assert_eq!(
            node_env_of("hono", Some("pnpm build"), true, true, true),
            lit("development")
        );
        assert_eq!(
            node_env_of("hono", Some("pnpm build"), true, false, true),
            lit("production")
        );
        assert_eq!(
            node_env_of("nextjs", Some("next build"), true, true, true),
            lit("production")
        );
    }

    /// A setting the project's Dockerfile gives an all-interfaces address on
    /// the service's port is its listen address, whatever its name.
    #[test]
    fn a_dockerfile_listen_address_gets_the_deployments() {
        let web = vec!["server".to_string()];
        let ctx = local_development(&web);
        let mut s = service(
            "server",
            Language::Rust,
            Some("actix-web"),
            ServiceKind::Web,
        );
        s.port = Some(8000);
        let mut addr = var("SERVER__ADDRESS", false, false);
        addr.image_value = Some("0.0.0.0:8000".into());
        let mut other = var("PEER__ADDRESS", false, false);
        other.image_value = Some("10.0.0.2:9000".into());
        s.env = vec![addr, other];
        let env = wire(
            &s,
            Hosting::LocalProcess,
            None,
            &ctx,
            &mut Vec::new(),
            &mut Notes::default(),
        );
        let got = env
            .iter()
            .find(|b| b.name == "SERVER__ADDRESS")
            .map(|b| &b.value);
        assert_eq!(
            got,
            Some(&EnvValue::Deployment {
                output: DeploymentOutput::ListenAddress
            }),
            "{env:?}"
        );
        assert!(!env.iter().any(|b| b.name == "PEER__ADDRESS"), "{env:?}");
    }

    #[test]
    fn cloud_run_sets_port_itself_and_frontends_point_at_the_api() {
        let mut s = service("api", Language::Python, Some("fastapi"), ServiceKind::Web);
        s.port = Some(8000);
        s.env = vec![var("PORT", false, false)];
        let web = vec!["api".to_string()];
        let ctx = EnvCtx {
            cloud: Cloud::Gcp,
            environment: Environment::Staging,
            database: None,
            cache: None,
            web_services: &web,
            site_routes: &[],
            https: false,
            celery_worker: false,
        };
        let mut notes = Notes::default();
        let env = wire(
            &s,
            Hosting::CloudRun,
            None,
            &ctx,
            &mut Vec::new(),
            &mut notes,
        );
        assert!(!env.iter().any(|b| b.name == "PORT"));
        let env = wire(
            &s,
            Hosting::EcsFargate,
            None,
            &ctx,
            &mut Vec::new(),
            &mut notes,
        );
        assert!(env.iter().any(|b| b.name == "PORT"));

        let mut f = service(
            "frontend",
            Language::Javascript,
            Some("react-vite"),
            ServiceKind::Static,
        );
        f.env = vec![
            var("VITE_API_URL", false, false),
            var("VITE_STRIPE_SECRET", false, true),
        ];
        let env = wire(
            &f,
            Hosting::S3Cloudfront,
            None,
            &ctx,
            &mut Vec::new(),
            &mut notes,
        );
        assert_eq!(env.len(), 1);
        assert_eq!(
            env[0].value,
            EnvValue::ServiceUrl {
                service: "api".into()
            }
        );
        assert!(notes.has_warning("secret_in_static_build"));
    }

    #[test]
    fn a_listener_read_from_settings_gets_the_deployment_port_and_host() {
        use autodeploy_core::{Evidence, Wiring, WiringSetting};
        let setting = |name: &str, format| WiringSetting {
            name: name.into(),
            format,
            values: Default::default(),
            value: None,
            evidence: Evidence {
                file: "configuration/base.yaml".into(),
                line: Some(2),
                note: "port: 8000".into(),
            },
        };
        let mut s = service("news", Language::Rust, Some("actix-web"), ServiceKind::Web);
        s.port = Some(8000);
        s.wiring = vec![Wiring {
            target: WiringTarget::Listen,
            convention: "rust-config-crate".into(),
            engines: vec![],
            settings: vec![
                setting("APP_APPLICATION__PORT", SettingFormat::Port),
                setting("APP_APPLICATION__HOST", SettingFormat::Host),
            ],
            sqlite_fallback: None,
        }];
        let web = vec!["news".to_string()];
        let mut ctx = EnvCtx {
            cloud: Cloud::Gcp,
            environment: Environment::Production,
            database: None,
            cache: None,
            web_services: &web,
            site_routes: &[],
            https: false,
            celery_worker: false,
        };
        let mut notes = Notes::default();
        let value = |env: &[EnvBinding], n: &str| {
            env.iter()
                .find(|b| b.name == n)
                .map(|b| b.value.clone())
                .unwrap_or_else(|| panic!("{n} is not set"))
        };
        // Cloud Run sets PORT, which this code never reads: its own name is set.
        let env = wire(
            &s,
            Hosting::CloudRun,
            None,
            &ctx,
            &mut Vec::new(),
            &mut notes,
        );
        assert_eq!(
            value(&env, "APP_APPLICATION__PORT"),
            EnvValue::Deployment {
                output: DeploymentOutput::Port
            }
        );
        assert_eq!(
            value(&env, "APP_APPLICATION__HOST"),
            EnvValue::Literal {
                value: "0.0.0.0".into()
            }
        );
        assert!(!env.iter().any(|b| b.name == "PORT"));
        ctx.cloud = Cloud::Local;
        let env = wire(
            &s,
            Hosting::LocalProcess,
            None,
            &ctx,
            &mut Vec::new(),
            &mut notes,
        );
        assert_eq!(
            value(&env, "APP_APPLICATION__HOST"),
            EnvValue::Literal {
                value: "127.0.0.1".into()
            }
        );
        // A worker (no port) is left to its settings file.
        s.port = None;
        let env = wire(
            &s,
            Hosting::LocalProcess,
            None,
            &ctx,
            &mut Vec::new(),
            &mut notes,
        );
        assert!(env.is_empty());
    }

    #[test]
    fn a_required_setting_takes_the_example_value_and_says_so() {
        let mut s = service(
            "api",
            Language::Javascript,
            Some("fastify"),
            ServiceKind::Web,
        );
        s.port = Some(3000);
        let mut cookie = var("COOKIE_NAME", true, false);
        cookie.example = Some("session_id".into());
        let mut token = var("API_TOKEN", true, true);
        token.example = Some("abc".into());
        s.env = vec![cookie, token, var("REGION_CODE", true, false)];
        let web = vec!["api".to_string()];
        let ctx = local_development(&web);
        let mut notes = Notes::default();
        let env = wire(
            &s,
            Hosting::LocalProcess,
            None,
            &ctx,
            &mut Vec::new(),
            &mut notes,
        );
        let get = |n: &str| env.iter().find(|b| b.name == n).map(|b| b.value.clone());
        assert_eq!(
            get("COOKIE_NAME"),
            Some(EnvValue::Literal {
                value: "session_id".into()
            })
        );
        // A credential never takes an example value; a name with none is an input.
        assert!(matches!(
            get("API_TOKEN"),
            Some(EnvValue::UserSecret { .. })
        ));
        assert!(matches!(get("REGION_CODE"), Some(EnvValue::Input { .. })));
        assert!(notes.has_warning("env_from_example"));
    }

    /// nest-brocoders, hono-open-api-starter: a required setting's example
    /// value on a cloud. A development log level becomes info; a host only
    /// the developer has (a mail catcher from the compose file, loopback) is
    /// kept — the app needs a value to boot — and named in a warning.
    #[test]
    fn example_values_meant_for_a_developers_machine_are_named_or_raised() {
        let mut s = service(
            "api",
            Language::Typescript,
            Some("nestjs"),
            ServiceKind::Web,
        );
        s.port = Some(3000);
        let example = |name: &str, value: &str| {
            let mut v = var(name, true, false);
            v.example = Some(value.into());
            v
        };
        s.env = vec![
            example("MAIL_HOST", "maildev"),
            example("SMTP_URL", "smtp://user:pw@mailhog:1025"),
            example("PAYMENTS_URL", "http://localhost:4000/api"),
            example("LOG_LEVEL", "debug"),
            example("WORKER_LOG_LEVEL", "TRACE"),
            example("REGION", "eu-west-1"),
        ];
        let web = vec!["api".to_string()];
        let mut notes = Notes::default();
        let ctx = production_on(Cloud::Aws, &web);
        let env = wire(
            &s,
            Hosting::EcsFargate,
            None,
            &ctx,
            &mut Vec::new(),
            &mut notes,
        );
        let get = |n: &str| literal_of(&env, n).unwrap_or_else(|| panic!("{n} unset"));
        assert_eq!(get("LOG_LEVEL"), "info");
        assert_eq!(get("WORKER_LOG_LEVEL"), "INFO");
        assert_eq!(get("MAIL_HOST"), "maildev");
        assert!(notes.has_warning("example_log_level_raised"));
        let w = notes
            .warnings
            .iter()
            .find(|w| w.code == "example_value_local_only")
            .expect("a warning");
        for named in ["MAIL_HOST=maildev", "(mailhog)", "(localhost)"] {
            assert!(w.message.contains(named), "{named}: {}", w.message);
        }
        assert!(!w.message.contains("REGION"), "{}", w.message);
        // Locally, under development: the example as it is, and no warning.
        let mut notes = Notes::default();
        let ctx = local_development(&web);
        let env = wire(
            &s,
            Hosting::LocalProcess,
            None,
            &ctx,
            &mut Vec::new(),
            &mut notes,
        );
        let level = env.iter().find(|b| b.name == "LOG_LEVEL").map(|b| &b.value);
        assert_eq!(
            level,
            Some(&EnvValue::Literal {
                value: "debug".into()
            })
        );
        assert!(!notes.has_warning("example_value_local_only"));
        assert!(!notes.has_warning("example_log_level_raised"));
    }

    /// A token the code checks callers against is the app's own: generated
    /// like a signing key; the same name sent out to another API stays a
    /// secret only the user has.
    #[test]
    fn a_token_the_app_checks_requests_against_is_generated() {
        let mut s = service("api", Language::Go, None, ServiceKind::Web);
        s.port = Some(8080);
        let mut own = var("LEDGER_AUTH_TOKEN", true, true);
        own.checks_requests = true;
        s.env = vec![own, var("GITHUB_TOKEN", true, true)];
        let web = vec!["api".to_string()];
        let ctx = local_development(&web);
        let mut secrets = Vec::new();
        let env = wire(
            &s,
            Hosting::LocalProcess,
            None,
            &ctx,
            &mut secrets,
            &mut Notes::default(),
        );
        let get = |n: &str| env.iter().find(|b| b.name == n).map(|b| b.value.clone());
        assert!(matches!(
            get("LEDGER_AUTH_TOKEN"),
            Some(EnvValue::GeneratedSecret { .. })
        ));
        assert!(matches!(
            get("GITHUB_TOKEN"),
            Some(EnvValue::UserSecret { .. })
        ));
        // Callers send it: PLAN.md says where to read it.
        assert!(secrets.iter().any(|x| x.name == "ledger-auth-token"
            && x.kind == SecretKind::Generated
            && x.read_by_people));
    }

    /// A setting the code demands only under NODE_ENV=production
    /// (hono-open-api-starter's Turso token) is asked for where the app
    /// runs as production, and left to the code where it does not.
    #[test]
    fn a_setting_needed_only_in_production_is_asked_for_there() {
        let web = vec!["app".to_string()];
        let mut s = service("app", Language::Typescript, Some("hono"), ServiceKind::Web);
        s.port = Some(9999);
        s.build = Some("pnpm build".into());
        let mut token = var("DATABASE_AUTH_TOKEN", false, true);
        token.required_in_production = true;
        let mut node_env = var("NODE_ENV", false, false);
        node_env.example = Some("development".into());
        s.env = vec![token, node_env];
        let production = production_on(Cloud::Gcp, &web);
        let mut notes = Notes::default();
        let env = wire(
            &s,
            Hosting::CloudRun,
            None,
            &production,
            &mut Vec::new(),
            &mut notes,
        );
        let token = env.iter().find(|b| b.name == "DATABASE_AUTH_TOKEN");
        assert!(
            matches!(token.map(|b| &b.value), Some(EnvValue::UserSecret { .. })),
            "{env:?}"
        );
        assert!(notes.has_warning("secret_needs_value"));
        // Locally, under the example's NODE_ENV=development: the code's default.
        let local = local_development(&web);
        let mut notes = Notes::default();
        let env = wire(
            &s,
            Hosting::LocalProcess,
            None,
            &local,
            &mut Vec::new(),
            &mut notes,
        );
        assert!(
            env.iter().all(|b| b.name != "DATABASE_AUTH_TOKEN"),
            "{env:?}"
        );
        assert!(!notes.has_warning("secret_needs_value"));
    }

    #[test]
    fn flask_server_name_is_never_set() {
        let web = vec!["app".to_string()];
        let ctx = EnvCtx {
            cloud: Cloud::Aws,
            environment: Environment::Production,
            database: None,
            cache: None,
            web_services: &web,
            site_routes: &[],
            https: false,
            celery_worker: false,
        };
        for required in [false, true] {
            let mut s = service("app", Language::Python, Some("flask"), ServiceKind::Web);
            s.port = Some(5000);
            s.env = vec![var("SERVER_NAME", required, false)];
            let mut notes = Notes::default();
            let env = wire(
                &s,
                Hosting::EcsFargate,
                None,
                &ctx,
                &mut Vec::new(),
                &mut notes,
            );
            assert!(env.iter().all(|b| b.name != "SERVER_NAME"), "{env:?}");
            assert_eq!(notes.has_warning("server_name_unset"), required);
        }
        let mut s = service("app", Language::Php, None, ServiceKind::Web);
        s.port = Some(8080);
        s.env = vec![var("SERVER_NAME", true, false)];
        let env = wire(
            &s,
            Hosting::EcsFargate,
            None,
            &ctx,
            &mut Vec::new(),
            &mut Notes::default(),
        );
        assert!(env.iter().any(|b| b.name == "SERVER_NAME"), "{env:?}");
    }

    /// The name the analysis found `ALLOWED_HOSTS` read from is set to the
    /// allowed hosts, whatever it is called.

    #[test]
    fn the_apps_own_allowed_hosts_name() {
        let web = vec!["app".to_string()];
        let ctx = EnvCtx {
            cloud: Cloud::Aws,
            environment: Environment::Production,
            database: None,
            cache: None,
            web_services: &web,
            site_routes: &[],
            https: false,
            celery_worker: false,
        };
        let mut s = service("app", Language::Python, Some("django"), ServiceKind::Web);
        s.port = Some(8000);
        s.env = vec![var("WEB_HOSTS", false, false)];
        let wired = |s: &Service| {
            wire(
                s,
                Hosting::EcsFargate,
                None,
                &ctx,
                &mut Vec::new(),
                &mut Notes::default(),
            )
            .into_iter()
            .find(|b| b.name == "WEB_HOSTS")
            .map(|b| b.value)
        };
        assert_eq!(wired(&s), None);
        s.allowed_hosts_env = Some("WEB_HOSTS".into());
        assert_eq!(
            wired(&s),
            Some(EnvValue::Deployment {
                output: DeploymentOutput::AllowedHosts
            })
        );
    }
}
