//! Connection values: a provisioned data service's parts (host, port, user,
//! password, database) turned into the exact string one setting expects — a
//! URL, a JDBC URL, an ADO.NET connection string, or one part alone.
//!
//! One home for these formats: the local target resolves
//! [`EnvValue::Database`](crate::EnvValue) and [`EnvValue::Cache`](crate::EnvValue)
//! bindings with them, and the cloud renderers follow the same shapes in
//! their templates. Pure functions; no I/O, no secrets kept.

use crate::{CacheOutput, DatabaseEngine, DatabaseOutput};

/// Everything needed to reach one database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbConn {
    pub engine: DatabaseEngine,
    pub host: String,
    pub port: u16,
    pub name: String,
    pub user: String,
    pub password: String,
}

/// Everything needed to reach one cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheConn {
    pub host: String,
    pub port: u16,
    /// Auth token / password, when the cache has one.
    pub password: Option<String>,
    /// `rediss://` (TLS in transit) instead of `redis://`.
    pub tls: bool,
}

/// The URL scheme an engine's drivers accept by default.
pub fn default_scheme(engine: DatabaseEngine) -> &'static str {
    match engine {
        DatabaseEngine::Postgresql => "postgresql",
        DatabaseEngine::Mysql => "mysql",
        DatabaseEngine::Mongodb => "mongodb",
    }
}

fn jdbc_kind(engine: DatabaseEngine) -> &'static str {
    match engine {
        DatabaseEngine::Postgresql => "postgresql",
        DatabaseEngine::Mysql => "mysql",
        DatabaseEngine::Mongodb => "mongodb",
    }
}

/// True when `s` is a URL scheme (`postgresql+asyncpg`, `mysql2`): a letter,
/// then letters, digits, `+`, `-` or `.`, at most 40 characters. Renderers
/// put a binding's scheme into start scripts only when this holds.
pub fn is_url_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && s.len() <= 40
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Percent-encode a URL user-info or path component (RFC 3986 unreserved kept).
pub fn url_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Quote an ADO.NET connection-string value when it needs it (`;`, `=`, quotes, spaces).
fn ado_value(s: &str) -> String {
    if s.chars()
        .any(|c| matches!(c, ';' | '=' | '"' | '\'' | ' ') || c.is_whitespace())
    {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The database URL with an explicit scheme (`postgres`, `postgresql+psycopg`, `mysql2`…).
pub fn database_url(c: &DbConn, scheme: &str) -> String {
    format!(
        "{scheme}://{}:{}@{}:{}/{}",
        url_escape(&c.user),
        url_escape(&c.password),
        c.host,
        c.port,
        url_escape(&c.name)
    )
}

/// The value of one database setting.
pub fn database_value(output: DatabaseOutput, c: &DbConn) -> String {
    match output {
        DatabaseOutput::Url => database_url(c, default_scheme(c.engine)),
        DatabaseOutput::JdbcUrl => format!(
            "jdbc:{}://{}:{}/{}",
            jdbc_kind(c.engine),
            c.host,
            c.port,
            url_escape(&c.name)
        ),
        DatabaseOutput::AdoConnectionString => match c.engine {
            DatabaseEngine::Mysql => format!(
                "Server={};Port={};Database={};User={};Password={}",
                ado_value(&c.host),
                c.port,
                ado_value(&c.name),
                ado_value(&c.user),
                ado_value(&c.password)
            ),
            _ => format!(
                "Host={};Port={};Database={};Username={};Password={}",
                ado_value(&c.host),
                c.port,
                ado_value(&c.name),
                ado_value(&c.user),
                ado_value(&c.password)
            ),
        },
        // go-sql-driver/mysql reads the DSN raw (no percent-decoding): the
        // password ends at the last `@`, the name starts after the last `/`.
        DatabaseOutput::MysqlDsn => format!(
            "{}:{}@tcp({}:{})/{}",
            c.user, c.password, c.host, c.port, c.name
        ),
        DatabaseOutput::Host => c.host.clone(),
        DatabaseOutput::Port => c.port.to_string(),
        DatabaseOutput::Name => c.name.clone(),
        DatabaseOutput::Username => c.user.clone(),
        DatabaseOutput::Password => c.password.clone(),
    }
}

/// The value of one database setting as an [`EnvValue::Database`](crate::EnvValue)
/// binding asks for it: `scheme` (for `url`) replaces the engine's default
/// scheme (`postgresql+asyncpg`, `mysql2`).
pub fn database_setting(output: DatabaseOutput, scheme: Option<&str>, c: &DbConn) -> String {
    match (output, scheme) {
        (DatabaseOutput::Url, Some(s)) if !s.is_empty() => database_url(c, s),
        _ => database_value(output, c),
    }
}

/// The value of one cache setting.
pub fn cache_value(output: CacheOutput, c: &CacheConn) -> String {
    match output {
        CacheOutput::Url => {
            let scheme = if c.tls { "rediss" } else { "redis" };
            match &c.password {
                Some(p) => format!("{scheme}://:{}@{}:{}/0", url_escape(p), c.host, c.port),
                None => format!("{scheme}://{}:{}/0", c.host, c.port),
            }
        }
        CacheOutput::Host => c.host.clone(),
        CacheOutput::Port => c.port.to_string(),
        CacheOutput::Address => format!("{}:{}", c.host, c.port),
        CacheOutput::Password => c.password.clone().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg() -> DbConn {
        DbConn {
            engine: DatabaseEngine::Postgresql,
            host: "127.0.0.1".into(),
            port: 5433,
            name: "shop".into(),
            user: "shop_app".into(),
            password: "p@ss/w:rd".into(),
        }
    }

    #[test]
    fn urls_escape_credentials() {
        assert_eq!(
            database_value(DatabaseOutput::Url, &pg()),
            "postgresql://shop_app:p%40ss%2Fw%3Ard@127.0.0.1:5433/shop"
        );
        assert_eq!(
            database_url(&pg(), "postgres"),
            "postgres://shop_app:p%40ss%2Fw%3Ard@127.0.0.1:5433/shop"
        );
    }

    #[test]
    fn jdbc_and_ado_forms() {
        assert_eq!(
            database_value(DatabaseOutput::JdbcUrl, &pg()),
            "jdbc:postgresql://127.0.0.1:5433/shop"
        );
        let mut c = pg();
        c.password = "a;b".into();
        assert_eq!(
            database_value(DatabaseOutput::AdoConnectionString, &c),
            "Host=127.0.0.1;Port=5433;Database=shop;Username=shop_app;Password=\"a;b\""
        );
        c.engine = DatabaseEngine::Mysql;
        assert!(database_value(DatabaseOutput::AdoConnectionString, &c).starts_with("Server="));
    }

    #[test]
    fn schemes_and_go_mysql_dsn() {
        assert!(is_url_scheme("postgresql+asyncpg") && is_url_scheme("mysql2"));
        assert!(!is_url_scheme("x\"; rm") && !is_url_scheme("") && !is_url_scheme("9p"));
        assert_eq!(
            database_setting(DatabaseOutput::Url, Some("postgresql+asyncpg"), &pg()),
            "postgresql+asyncpg://shop_app:p%40ss%2Fw%3Ard@127.0.0.1:5433/shop"
        );
        assert_eq!(
            database_setting(DatabaseOutput::Url, None, &pg()),
            database_value(DatabaseOutput::Url, &pg())
        );
        assert_eq!(
            database_setting(DatabaseOutput::Port, Some("mysql2"), &pg()),
            "5433"
        );
        let mut c = pg();
        c.engine = DatabaseEngine::Mysql;
        c.password = "s3cret".into();
        assert_eq!(
            database_value(DatabaseOutput::MysqlDsn, &c),
            "shop_app:s3cret@tcp(127.0.0.1:5433)/shop"
        );
    }

    #[test]
    fn parts_and_cache_values() {
        assert_eq!(database_value(DatabaseOutput::Port, &pg()), "5433");
        assert_eq!(database_value(DatabaseOutput::Username, &pg()), "shop_app");
        let c = CacheConn {
            host: "127.0.0.1".into(),
            port: 6380,
            password: Some("t/k".into()),
            tls: false,
        };
        assert_eq!(
            cache_value(CacheOutput::Url, &c),
            "redis://:t%2Fk@127.0.0.1:6380/0"
        );
        assert_eq!(cache_value(CacheOutput::Address, &c), "127.0.0.1:6380");
        let open = CacheConn {
            password: None,
            tls: true,
            ..c
        };
        assert_eq!(
            cache_value(CacheOutput::Url, &open),
            "rediss://127.0.0.1:6380/0"
        );
    }
}
