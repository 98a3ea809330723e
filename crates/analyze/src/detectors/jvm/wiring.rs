//! JVM wiring table: the environment variables Spring Boot, Quarkus and
//! Micronaut read for their datasource, MongoDB and Redis — one row per
//! framework ([`ROWS`]) — plus what the settings files add: `${NAME:…}`
//! placeholders in the datasource keys (a whole JDBC URL, or its parts in
//! `jdbc:postgresql://${DB_HOST}:${DB_PORT}/${DB_NAME}`), and the profile
//! whose file holds the real datasource when the default one is an
//! in-memory H2 (`SPRING_PROFILES_ACTIVE=prod`).
//!
//! The framework names (`SPRING_DATASOURCE_URL`…) come from relaxed binding:
//! an environment variable overrides the property of the same path in
//! every profile, so setting them always reaches the app. A JDBC wiring is
//! recorded only when a driver for a server database is on the classpath:
//! an app with H2 alone keeps its embedded database (and nothing is
//! provisioned for it).
//!
//! Not here: reading settings files (`config.rs`), databases from
//! dependencies (`mod.rs`).

use super::config::{self, Settings};
use crate::ctx::Ctx;
use crate::draft::{ev, Draft};
use crate::repo::join;
use crate::wiring::{hole, url_roles};
use autodeploy_core::{Database, Evidence, SettingFormat as F, WiringSetting, WiringTarget as T};
use std::collections::BTreeMap;

/// One framework's environment names.
struct Row {
    framework: &'static str,
    convention: &'static str,
    /// Property keys of the datasource URL / user / password (placeholders are read there).
    url_key: &'static str,
    user_key: &'static str,
    password_key: &'static str,
    /// Environment names of the same (relaxed binding).
    jdbc: [(&'static str, F); 3],
    mongo: &'static [(&'static str, F)],
    redis: &'static [(&'static str, F)],
    /// Environment name of the active profile.
    profile_env: Option<&'static str>,
}

const ROWS: &[Row] = &[
    Row {
        framework: "spring-boot",
        convention: "spring-datasource",
        url_key: "spring.datasource.url",
        user_key: "spring.datasource.username",
        password_key: "spring.datasource.password",
        jdbc: [
            ("SPRING_DATASOURCE_URL", F::JdbcUrl),
            ("SPRING_DATASOURCE_USERNAME", F::Username),
            ("SPRING_DATASOURCE_PASSWORD", F::Password),
        ],
        mongo: &[("SPRING_DATA_MONGODB_URI", F::Url)],
        // Boot 3 (`spring.data.redis.*`) and Boot 2 (`spring.redis.*`).
        redis: &[
            ("SPRING_DATA_REDIS_HOST", F::Host),
            ("SPRING_DATA_REDIS_PORT", F::Port),
            ("SPRING_DATA_REDIS_PASSWORD", F::Password),
            ("SPRING_REDIS_HOST", F::Host),
            ("SPRING_REDIS_PORT", F::Port),
            ("SPRING_REDIS_PASSWORD", F::Password),
        ],
        profile_env: Some("SPRING_PROFILES_ACTIVE"),
    },
    Row {
        framework: "quarkus",
        convention: "quarkus-datasource",
        url_key: "quarkus.datasource.jdbc.url",
        user_key: "quarkus.datasource.username",
        password_key: "quarkus.datasource.password",
        jdbc: [
            ("QUARKUS_DATASOURCE_JDBC_URL", F::JdbcUrl),
            ("QUARKUS_DATASOURCE_USERNAME", F::Username),
            ("QUARKUS_DATASOURCE_PASSWORD", F::Password),
        ],
        mongo: &[("QUARKUS_MONGODB_CONNECTION_STRING", F::Url)],
        redis: &[("QUARKUS_REDIS_HOSTS", F::Url)],
        profile_env: None,
    },
    Row {
        framework: "micronaut",
        convention: "micronaut-datasource",
        url_key: "datasources.default.url",
        user_key: "datasources.default.username",
        password_key: "datasources.default.password",
        jdbc: [
            ("DATASOURCES_DEFAULT_URL", F::JdbcUrl),
            ("DATASOURCES_DEFAULT_USERNAME", F::Username),
            ("DATASOURCES_DEFAULT_PASSWORD", F::Password),
        ],
        mongo: &[("MONGODB_URI", F::Url)],
        redis: &[("REDIS_URI", F::Url)],
        profile_env: None,
    },
];

/// A JDBC URL of a server database (not H2/HSQLDB/Derby in memory or a file).
fn server_jdbc(url: &str) -> bool {
    let u = config::resolve_defaults(url).to_ascii_lowercase();
    ["jdbc:postgresql:", "jdbc:mysql:", "jdbc:mariadb:"]
        .iter()
        .any(|p| u.starts_with(p))
}

/// Placeholders of one datasource property as settings: the whole value is
/// `${X}` (in `whole` format), or a JDBC template whose holes are parts.
fn placeholder_settings(value: &str, whole: F, evidence: &Evidence) -> Vec<WiringSetting> {
    let phs = config::placeholders(value);
    let envs: Vec<&config::Placeholder> = phs
        .iter()
        .filter(|p| config::is_env_style(&p.name))
        .collect();
    if envs.is_empty() {
        return Vec::new();
    }
    // Encode each top-level `${…}` as a hole, in order.
    let mut enc = String::new();
    let mut names = Vec::new();
    let mut rest = value;
    while let Some(i) = rest.find("${") {
        enc.push_str(&rest[..i]);
        let mut depth = 0;
        let mut end = rest.len();
        for (j, c) in rest[i..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i + j;
                        break;
                    }
                }
                _ => {}
            }
        }
        let inner = &rest[i + 2..end.min(rest.len())];
        names.push(inner.split(':').next().unwrap_or("").to_string());
        enc.push_str(&hole(names.len() - 1));
        rest = &rest[(end + 1).min(rest.len())..];
    }
    enc.push_str(rest);
    let roles = url_roles(&enc);
    roles
        .holes
        .iter()
        .filter_map(|(i, f)| {
            let name = names.get(*i)?;
            config::is_env_style(name).then(|| WiringSetting {
                name: name.clone(),
                format: if *f == F::Url { whole } else { *f },
                values: BTreeMap::new(),
                value: None,
                evidence: evidence.clone(),
            })
        })
        .collect()
}

/// Profile files beside the default settings (`application-prod.yml`).
fn profile_settings(ctx: &Ctx, dir: &str) -> Vec<(String, Settings)> {
    let folder = join(dir, "src/main/resources");
    let mut out = Vec::new();
    for name in ctx.index().names_in(&folder) {
        let Some(profile) = name
            .strip_prefix("application-")
            .and_then(|n| n.rsplit_once('.'))
            .filter(|(_, ext)| matches!(*ext, "properties" | "yml" | "yaml"))
            .map(|(p, _)| p.to_string())
        else {
            continue;
        };
        let path = join(&folder, name);
        let Some(text) = ctx.read_path(&path) else {
            continue;
        };
        let s = if name.ends_with(".properties") {
            config::parse_properties(&path, &text)
        } else {
            config::parse_yaml(&path, &text)
        };
        out.push((profile, s));
    }
    out.sort_by_key(|(p, _)| (!matches!(p.as_str(), "prod" | "production"), p.clone()));
    out
}

/// Add the JVM service's wiring to `d` (after its framework is known).
pub(super) fn scan(ctx: &Ctx, dir: &str, manifest: &str, d: &mut Draft, settings: &[Settings]) {
    let Some(row) = ROWS
        .iter()
        .find(|r| d.framework.as_deref() == Some(r.framework))
    else {
        return;
    };
    let engines: Vec<Database> = d
        .databases
        .keys()
        .copied()
        .filter(|db| matches!(db, Database::Postgresql | Database::Mysql))
        .collect();
    let conv_ev = |what: &str| {
        ev(
            manifest,
            None,
            format!(
                "{}: {what} (relaxed binding overrides every profile)",
                row.framework
            ),
        )
    };
    let profiles = profile_settings(ctx, dir);
    if !engines.is_empty() {
        let mut w = crate::wiring::fixed(
            row.convention,
            T::Database,
            &engines,
            &row.jdbc,
            &conv_ev("the datasource"),
        );
        // Placeholders the datasource properties read, in the default settings
        // and in the profile that holds a server datasource.
        let default_url = settings.iter().find_map(|s| s.get(row.url_key));
        let server_profile = match default_url {
            Some(u) if server_jdbc(&u.value) => None,
            _ => profiles
                .iter()
                .find(|(_, s)| s.get(row.url_key).is_some_and(|u| server_jdbc(&u.value))),
        };
        let sources: Vec<&Settings> = settings
            .iter()
            .chain(server_profile.map(|(_, s)| s))
            .collect();
        for s in sources {
            for (key, whole) in [
                (row.url_key, F::JdbcUrl),
                (row.user_key, F::Username),
                (row.password_key, F::Password),
            ] {
                if let Some(v) = s.get(key) {
                    let e = ev(&s.file, Some(v.line), format!("{key}={}", v.value));
                    for setting in placeholder_settings(&v.value, whole, &e) {
                        if w.setting(&setting.name).is_none() {
                            w.settings.push(setting);
                        }
                    }
                }
            }
        }
        if let (Some((profile, s)), Some(env)) = (server_profile, row.profile_env) {
            let line = s.get(row.url_key).map(|v| v.line);
            w.settings.push(WiringSetting {
                name: env.to_string(),
                format: F::Literal,
                values: BTreeMap::new(),
                value: Some(profile.clone()),
                evidence: ev(
                    &s.file,
                    line,
                    format!("profile `{profile}` holds the server datasource; the default one is embedded"),
                ),
            });
        }
        d.wire(w);
    }
    if d.databases.contains_key(&Database::Mongodb) {
        d.wire(crate::wiring::fixed(
            &format!("{}-mongodb", row.framework),
            T::Database,
            &[Database::Mongodb],
            row.mongo,
            &conv_ev("MongoDB"),
        ));
    }
    if d.databases.contains_key(&Database::Redis) {
        d.wire(crate::wiring::fixed(
            &format!("{}-redis", row.framework),
            T::Cache,
            &[Database::Redis],
            row.redis,
            &conv_ev("Redis"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::MemRepo;
    use autodeploy_core::{Language, ServiceKind, Wiring};

    fn run(files: &[(&str, &str)], dbs: &[Database]) -> Vec<Wiring> {
        let repo = MemRepo::new(files.iter().copied());
        let ctx = Ctx::new(&repo);
        let mut d = Draft::new("", Language::Java, ServiceKind::Web);
        d.framework = Some("spring-boot".into());
        for db in dbs {
            d.database(*db, ev("pom.xml", Some(1), "dep"));
        }
        let settings: Vec<Settings> = files
            .iter()
            .filter(|(f, _)| *f == "src/main/resources/application.properties")
            .map(|(f, t)| config::parse_properties(f, t))
            .collect();
        scan(&ctx, "", "pom.xml", &mut d, &settings);
        d.wiring
    }

    #[test]
    fn spring_profile_with_placeholders_over_embedded_h2() {
        let w = run(
            &[
                (
                    "src/main/resources/application.properties",
                    "spring.datasource.url=jdbc:h2:mem:notes\n",
                ),
                (
                    "src/main/resources/application-prod.properties",
                    "spring.datasource.url=jdbc:postgresql://${DB_HOST:localhost}:${DB_PORT:5432}/${DB_NAME}\nspring.datasource.username=${DB_USER}\nspring.datasource.password=${DB_PASSWORD}\n",
                ),
            ],
            &[Database::Postgresql],
        );
        let names: Vec<(&str, &str)> = w[0]
            .settings
            .iter()
            .map(|s| (s.name.as_str(), s.format.as_str()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("SPRING_DATASOURCE_URL", "jdbc_url"),
                ("SPRING_DATASOURCE_USERNAME", "username"),
                ("SPRING_DATASOURCE_PASSWORD", "password"),
                ("DB_HOST", "host"),
                ("DB_PORT", "port"),
                ("DB_NAME", "name"),
                ("DB_USER", "username"),
                ("DB_PASSWORD", "password"),
                ("SPRING_PROFILES_ACTIVE", "literal"),
            ]
        );
        assert_eq!(w[0].settings[8].value.as_deref(), Some("prod"));
    }

    #[test]
    fn embedded_h2_alone_is_not_wired() {
        let w = run(
            &[(
                "src/main/resources/application.properties",
                "spring.datasource.url=jdbc:h2:mem:notes\n",
            )],
            &[],
        );
        assert!(w.is_empty());
        let w = run(
            &[(
                "src/main/resources/application.properties",
                "spring.datasource.url=${JDBC_DATABASE_URL:jdbc:h2:mem:x}\n",
            )],
            &[Database::Mysql, Database::Redis],
        );
        assert_eq!(w[0].settings[3].name, "JDBC_DATABASE_URL");
        assert_eq!(w[0].settings[3].format, F::JdbcUrl);
        assert_eq!(w[1].target, T::Cache);
    }
}
