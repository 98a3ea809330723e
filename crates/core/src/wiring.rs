//! `Wiring`: how a service finds one backing service (its database, its
//! cache) — the settings the code reads, the exact format each expects, and
//! the evidence (file:line) for each.
//!
//! The analyze stage fills [`Service::wiring`](crate::Service) from each
//! ecosystem's table of configuration conventions (Django's `DATABASES`,
//! Spring's `SPRING_DATASOURCE_*`, the Rust `config` crate's prefixed keys,
//! Prisma's `env("…")`…); the decide stage turns a provisioned data service
//! into exactly these settings, for every target. Its JSON form is part of
//! the analysis contract (additions only).
//!
//! This module holds types only: no detection, no formatting of values (that
//! is [`conn`](crate::conn)).

use crate::{Database, Evidence};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a wiring connects the service to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WiringTarget {
    /// A relational or document database (PostgreSQL, MySQL, MongoDB).
    Database,
    /// A cache or queue broker (Redis).
    Cache,
    /// Where the app itself listens — its port and bind host — when the
    /// code reads them under names of its own (a settings file overridden
    /// by prefixed env vars: `APP_APPLICATION__PORT`), not `PORT`.
    Listen,
}

/// What one setting holds, in the form the code expects it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingFormat {
    /// A connection URL (`postgresql://user:password@host:port/name`,
    /// `redis://…`); the scheme per engine is in [`WiringSetting::values`]
    /// when the code needs another one (`postgresql+asyncpg`, `mysql2`).
    Url,
    /// `jdbc:postgresql://host:port/name` (credentials in their own settings).
    JdbcUrl,
    /// ADO.NET `Host=…;Port=…;Database=…;Username=…;Password=…`.
    AdoConnectionString,
    /// The go-sql-driver/mysql DSN `user:password@tcp(host:port)/name`.
    MysqlDsn,
    Host,
    Port,
    /// `host:port`.
    Address,
    /// The database name.
    Name,
    Username,
    Password,
    /// The name that selects the engine (`django.db.backends.postgresql`,
    /// Laravel `pgsql`, knex `pg`): the value per engine is in
    /// [`WiringSetting::values`].
    Engine,
    /// A fixed value the convention needs beside the connection (Spring's
    /// `SPRING_PROFILES_ACTIVE=prod` when that profile holds the datasource),
    /// in [`WiringSetting::value`].
    Literal,
}

impl SettingFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            SettingFormat::Url => "url",
            SettingFormat::JdbcUrl => "jdbc_url",
            SettingFormat::AdoConnectionString => "ado_connection_string",
            SettingFormat::MysqlDsn => "mysql_dsn",
            SettingFormat::Host => "host",
            SettingFormat::Port => "port",
            SettingFormat::Address => "address",
            SettingFormat::Name => "name",
            SettingFormat::Username => "username",
            SettingFormat::Password => "password",
            SettingFormat::Engine => "engine",
            SettingFormat::Literal => "literal",
        }
    }
}

/// One environment variable the app reads to reach a backing service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WiringSetting {
    /// The environment variable (`DATABASE_URL`, `SQL_HOST`, `APP_DATABASE__PORT`).
    /// In a [`WiringTarget::Listen`] wiring, `port` is the port to listen on
    /// and `host` the address to bind.
    pub name: String,
    pub format: SettingFormat,
    /// Per engine: the URL scheme (`url`) or the engine's name (`engine`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<Database, String>,
    /// The fixed value (`literal`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Where the code reads it (or where the convention says it is read).
    pub evidence: Evidence,
}

/// How a service finds one backing service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wiring {
    pub target: WiringTarget,
    /// The convention (one row of the ecosystem's wiring table) that explains
    /// the settings: `django-databases-env`, `spring-datasource`, `prisma-env`…
    pub convention: String,
    /// Engines the code can reach through these settings (its drivers, the
    /// scheme of its default URL); empty when any engine of the target fits.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub engines: Vec<Database>,
    /// Every setting to set, in the format each expects.
    pub settings: Vec<WiringSetting>,
    /// The app uses a SQLite file when these settings are unset (the default
    /// it falls back to), so it can run with no database server at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sqlite_fallback: Option<Evidence>,
}

impl Wiring {
    /// True when this wiring can reach `engine` (a database or Redis).
    pub fn fits(&self, engine: Database) -> bool {
        self.engines.is_empty() || self.engines.contains(&engine)
    }

    /// The setting named `name`, if this wiring has it.
    pub fn setting(&self, name: &str) -> Option<&WiringSetting> {
        self.settings.iter().find(|s| s.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_compactly() {
        let w = Wiring {
            target: WiringTarget::Database,
            convention: "django-databases-env".into(),
            engines: vec![],
            settings: vec![WiringSetting {
                name: "SQL_ENGINE".into(),
                format: SettingFormat::Engine,
                values: [(Database::Postgresql, "django.db.backends.postgresql".into())].into(),
                value: None,
                evidence: Evidence {
                    file: "app/settings.py".into(),
                    line: Some(82),
                    note: "\"ENGINE\": os.environ.get(\"SQL_ENGINE\", …)".into(),
                },
            }],
            sqlite_fallback: None,
        };
        let v = serde_json::to_value(&w).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "target": "database",
                "convention": "django-databases-env",
                "settings": [{
                    "name": "SQL_ENGINE",
                    "format": "engine",
                    "values": {"postgresql": "django.db.backends.postgresql"},
                    "evidence": {"file": "app/settings.py", "line": 82, "note": "\"ENGINE\": os.environ.get(\"SQL_ENGINE\", …)"}
                }]
            })
        );
        let back: Wiring = serde_json::from_value(v).unwrap();
        assert_eq!(back, w);
        for f in [
            SettingFormat::Url,
            SettingFormat::MysqlDsn,
            SettingFormat::Engine,
        ] {
            assert_eq!(serde_json::to_value(f).unwrap(), f.as_str());
        }
    }
}
