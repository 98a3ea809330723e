//! What a JVM module's settings files and sources say: `${ENV}` placeholders
//! and datasource URLs in `application.properties`/`.yml`, the port and bind
//! host keys of the framework, `System.getenv`/`@Value` reads, ports set in
//! code and connection-URL literals.
//!
//! Not here: build files (`project.rs`).

use super::config::{self, Settings};
use super::Framework;
use crate::ctx::Ctx;
use crate::detectors::database_of_url;
use crate::draft::{ev, Draft, Trust};
use crate::repo::join;
use crate::scan::{each_match, line_text};
use autodeploy_core::{Database, Severity, SourceFix};
use regex::Regex;
use std::sync::LazyLock;

/// Settings keys holding a connection URL.
const URL_KEYS: &[&str] = &[
    "spring.datasource.url",
    "spring.r2dbc.url",
    "spring.data.mongodb.uri",
    "spring.data.redis.url",
    "spring.redis.url",
    "quarkus.datasource.jdbc.url",
    "quarkus.datasource.reactive.url",
    "quarkus.mongodb.connection-string",
    "quarkus.redis.hosts",
    "datasources.default.url",
    "mongodb.uri",
    "redis.uri",
];

static GETENV: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"\bSystem\.getenv\s*\(\s*"([A-Za-z_][A-Za-z0-9_]*)"\s*\)"#)
        .expect("regex")
});

static GETENV_DEFAULT: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r#"\bSystem\.getenv\s*\(\s*\)\s*\.getOrDefault\s*\(\s*"([A-Za-z_][A-Za-z0-9_]*)""#,
    )
    .expect("regex")
});

static VALUE_ANNOTATION: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"@Value\s*\(\s*"([^"]*)"\s*\)|@ConfigProperty\s*\(\s*name\s*=\s*"([^"]*)"(\s*,\s*defaultValue)?"#)
        .expect("regex")
});

static CODE_PORT: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#""(?:server\.port|quarkus\.http\.port)"\s*,\s*"?(\d{2,5})"?"#)
        .expect("regex")
});

static JDBC_LITERAL: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#""((?:jdbc:|r2dbc:)?(?:postgresql|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss)://[^"]*)""#)
        .expect("regex")
});

/// Main sources of a module: everything below `src/main` (package folders
/// such as `com/example/…` or `org/…/samples/…` are code, not examples), else
/// the generic source list.
pub(super) fn jvm_sources<'a>(ctx: &Ctx<'a>, dir: &str) -> Vec<&'a str> {
    let main = join(dir, "src/main");
    let mut files: Vec<&'a str> = ctx
        .index()
        .files_under(&main)
        .filter(|f| f.ends_with(".java") || f.ends_with(".kt"))
        .collect();
    if files.is_empty() {
        return ctx.sources(dir, &[".java", ".kt"]);
    }
    files.sort_by_key(|f| (f.matches('/').count(), *f));
    files.truncate(crate::ctx::MAX_SOURCE_FILES);
    files
}

/// Env placeholders (`${DB_PASSWORD}`) and datasource URLs of the settings files.
pub(super) fn settings_env_and_databases(d: &mut Draft, settings: &[Settings]) {
    for s in settings {
        for (key, v) in &s.values {
            for ph in config::placeholders(&v.value) {
                if config::is_env_style(&ph.name) {
                    d.env_var(&ph.name, ph.default.is_some(), &s.file, v.line);
                }
            }
            if URL_KEYS.contains(&key.as_str()) {
                let url = config::resolve_defaults(&v.value);
                if let Some(db) = url_database(&url) {
                    d.database(
                        db,
                        ev(
                            &s.file,
                            Some(v.line),
                            format!("{key} is a {} URL", db.as_str()),
                        ),
                    );
                }
            }
            if key == "quarkus.datasource.db-kind" || key.ends_with(".db-kind") {
                let db = match v.value.as_str() {
                    "postgresql" | "postgres" | "pg" => Some(Database::Postgresql),
                    "mysql" | "mariadb" => Some(Database::Mysql),
                    _ => None,
                };
                if let Some(db) = db {
                    d.database(db, ev(&s.file, Some(v.line), format!("{key}={}", v.value)));
                }
            }
        }
    }
}

/// `jdbc:postgresql://…`, `r2dbc:pool:mysql://…`, `mongodb://…`.
fn url_database(url: &str) -> Option<Database> {
    let mut u = url.trim();
    for prefix in ["jdbc:", "r2dbc:", "pool:"] {
        u = u.strip_prefix(prefix).unwrap_or(u);
    }
    database_of_url(u)
}

pub(super) fn settings_port_and_host(d: &mut Draft, fw: &Framework, settings: &[Settings]) {
    for s in settings {
        for key in fw.port_keys {
            if let Some(v) = s.get(key) {
                let resolved = config::resolve_defaults(&v.value);
                if let Ok(port) = resolved.trim().parse::<u16>() {
                    if port > 0 {
                        d.port(
                            port,
                            Trust::Config,
                            ev(&s.file, Some(v.line), format!("{key}={}", v.value)),
                        );
                    }
                }
            }
        }
        for key in fw.host_keys {
            if let Some(v) = s.get(key) {
                let host = config::resolve_defaults(&v.value);
                let host = host.trim();
                if matches!(host, "127.0.0.1" | "localhost" | "::1") {
                    let fix = (!v.value.contains("${")).then(|| SourceFix {
                        file: s.file.clone(),
                        line: v.line,
                        find: host.to_string(),
                        replace: "0.0.0.0".into(),
                    });
                    d.finding(
                        "binds_localhost",
                        Severity::Warning,
                        Some(&s.file),
                        Some(v.line),
                        format!(
                            "{}:{} sets {key} to {host}, so nothing outside this machine can reach the app; use 0.0.0.0 (or remove the setting) — autodeploy does so in its copy",
                            s.file, v.line
                        ),
                        fix,
                    );
                }
            }
        }
    }
}

pub(super) fn scan_code(d: &mut Draft, file: &str, text: &str) {
    each_match(text, &GETENV, |line, c| {
        let full = line_text(text, line);
        let call = c.get(0).map(|m| m.as_str()).unwrap_or("");
        let after = full.split(call).nth(1).unwrap_or("");
        let optional = after.trim_start().starts_with("?:")
            || full.contains("Optional.ofNullable")
            || full.contains("orElse")
            || full.contains("!= null")
            || full.contains("== null")
            || full.contains("isNullOrBlank")
            || full.contains("isNullOrEmpty")
            || after.trim_start().starts_with("?.let");
        d.env_var(&c[1], optional, file, line);
    });
    each_match(text, &GETENV_DEFAULT, |line, c| {
        d.env_var(&c[1], true, file, line)
    });
    each_match(text, &VALUE_ANNOTATION, |line, c| {
        if let Some(v) = c.get(1) {
            for ph in config::placeholders(v.as_str()) {
                if config::is_env_style(&ph.name) {
                    d.env_var(&ph.name, ph.default.is_some(), file, line);
                }
            }
        } else if let Some(name) = c.get(2) {
            if config::is_env_style(name.as_str()) {
                d.env_var(name.as_str(), c.get(3).is_some(), file, line);
            }
        }
    });
    each_match(text, &CODE_PORT, |line, c| {
        if let Ok(p) = c[1].parse::<u16>() {
            d.port(p, Trust::Code, ev(file, Some(line), line_text(text, line)));
        }
    });
    each_match(text, &JDBC_LITERAL, |line, c| {
        if let Some(db) = url_database(&c[1]) {
            d.database(
                db,
                ev(file, Some(line), format!("{} connection URL", db.as_str())),
            );
        }
    });
}
