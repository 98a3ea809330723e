//! Ruby's wiring table: Rails reads `DATABASE_URL` whatever
//! `config/database.yml` says (Active Record merges it over the file), with
//! the scheme of the production adapter (`mysql2://`, `trilogy://`); the
//! production section's own `<%= ENV[…] %>` / `ENV.fetch(…)` keys (`host`,
//! `username`…) are set too. Redis clients (`Redis.new(url: …)`,
//! `redis_cache_store`, Action Cable's production `url:`) are rows of
//! [`SITES`]; Sidekiq's default `REDIS_URL` comes from its start command
//! (`crate::wiring::command_wiring`).
//!
//! Not here: the production adapter itself (`rails.rs`), gems (`bundler.rs`).

use super::rails;
use crate::ctx::Ctx;
use crate::draft::{ev, Draft};
use crate::repo::join;
use crate::scan::regex;
use crate::wiring::{
    key_format, scan_sites, EnvRef, Lang, Resolver, Shape, Site, CACHE_KEYS, DB_KEYS,
};
use autodeploy_core::{Database, SettingFormat as F, WiringSetting, WiringTarget as T};
use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;

const REDIS: &[Database] = &[Database::Redis];

/// Where Ruby code connects to Redis.
const SITES: &[Site] = &[
    Site::new(
        "redis-rb",
        T::Cache,
        "Redis",
        r"\b(?:Redis|RedisClient)\.(?:new|config)\s*\(",
        Shape::Keys {
            positional: &[],
            nested: &[],
        },
        REDIS,
        CACHE_KEYS,
    ),
    Site::new(
        "sidekiq-redis",
        T::Cache,
        "config.redis",
        r"\bconfig\.redis\s*=\s*\{",
        Shape::Keys {
            positional: &[],
            nested: &[],
        },
        REDIS,
        CACHE_KEYS,
    ),
    Site::new(
        "rails-redis-cache-store",
        T::Cache,
        "redis_cache_store",
        r":redis_cache_store\s*,\s*\{",
        Shape::Keys {
            positional: &[],
            nested: &[],
        },
        REDIS,
        CACHE_KEYS,
    ),
];

/// Ruby's expression syntax for wiring (and ERB's `<%= … %>`).
pub(super) struct Ruby;

static ENV_READ: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"\bENV\s*(?:\[\s*["']([A-Za-z_]\w*)["']\s*\]|\.fetch\s*\(\s*["']([A-Za-z_]\w*)["']\s*(?:,\s*([^)]*))?\)(?:\s*\{\s*([^}]*)\})?)"#,
    )
});

impl Lang for Ruby {
    fn env_reads(&self, expr: &str) -> Vec<EnvRef> {
        ENV_READ
            .captures_iter(expr)
            .filter_map(|c| {
                let name = c.get(1).or(c.get(2))?.as_str().to_string();
                let default = c.get(3).or(c.get(4)).map(|d| d.as_str().trim().to_string());
                Some(EnvRef {
                    name,
                    default,
                    at: None,
                })
            })
            .collect()
    }

    fn template(&self, _expr: &str) -> Option<(String, Vec<String>)> {
        None
    }
}

static YML_KEY: LazyLock<Regex> = LazyLock::new(|| regex(r#"^\s+([a-z_]+)\s*:\s*(.*<%=.*)$"#));

/// `database.yml`'s production section (with its `<<: *default` merges):
/// keys whose value is an ERB env read.
fn database_yml(ctx: &Ctx, dir: &str, d: &mut Draft) {
    let path = join(dir, "config/database.yml");
    let Some(text) = ctx.read_path(&path) else {
        return;
    };
    let Some((engine, line, adapter_line)) = rails::production_database(&text) else {
        return;
    };
    if !matches!(engine, Database::Postgresql | Database::Mysql) {
        return;
    }
    let scheme = adapter_line
        .split(':')
        .nth(1)
        .map(|a| a.trim().trim_matches(['"', '\'']).to_string())
        .filter(|a| matches!(a.as_str(), "mysql2" | "trilogy"));
    let mut values = BTreeMap::new();
    if let Some(s) = scheme {
        values.insert(Database::Mysql, s);
    }
    let mut w = crate::wiring::fixed(
        "rails-database-url",
        T::Database,
        &[engine],
        &[("DATABASE_URL", F::Url)],
        &ev(
            &path,
            Some(line),
            format!("Active Record merges DATABASE_URL over this ({adapter_line})"),
        ),
    );
    w.settings[0].values = values;
    let lines: Vec<&str> = text.lines().collect();
    let secs = rails::sections(&text);
    let lang = Ruby;
    for (i, l) in lines.iter().enumerate() {
        if rails::in_dev_section(&secs, i) {
            continue;
        }
        let Some(c) = YML_KEY.captures(l) else {
            continue;
        };
        let Some(f) = key_format(DB_KEYS, &c[1]) else {
            continue;
        };
        for e in lang.env_reads(&c[2]) {
            if w.setting(&e.name).is_none() && crate::draft::is_env_name(&e.name) {
                w.settings.push(WiringSetting {
                    name: e.name,
                    format: f,
                    values: if f == F::Url {
                        w.settings[0].values.clone()
                    } else {
                        BTreeMap::new()
                    },
                    value: None,
                    evidence: ev(&path, Some(i as u32 + 1), l.trim().to_string()),
                });
            }
        }
    }
    d.wire(w);
}

/// Action Cable's production `url:` (`config/cable.yml`).
fn cable_yml(ctx: &Ctx, dir: &str, d: &mut Draft) {
    let path = join(dir, "config/cable.yml");
    let Some(text) = ctx.read_path(&path) else {
        return;
    };
    let secs = rails::sections(&text);
    for (i, l) in text.lines().enumerate() {
        if rails::in_dev_section(&secs, i) {
            continue;
        }
        let Some(c) = YML_KEY.captures(l) else {
            continue;
        };
        if &c[1] != "url" {
            continue;
        }
        if let Some(e) = Ruby.env_reads(&c[2]).into_iter().next() {
            d.wire(crate::wiring::fixed(
                "rails-action-cable",
                T::Cache,
                REDIS,
                &[(e.name.as_str(), F::Url)],
                &ev(&path, Some(i as u32 + 1), l.trim().to_string()),
            ));
        }
    }
}

/// Add the Ruby app's wiring to `d`.
pub(super) fn scan(ctx: &Ctx, dir: &str, d: &mut Draft, sources: &[&str]) {
    if d.framework.as_deref() == Some("rails") {
        database_yml(ctx, dir, d);
        cable_yml(ctx, dir, d);
    }
    let lang = Ruby;
    let resolver = Resolver::new(&lang);
    let mut found = Vec::new();
    for f in sources {
        if let Some(text) = ctx.read_path(f) {
            scan_sites(&text, f, SITES, &resolver, &mut found);
        }
    }
    for w in found {
        d.wire(w);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::MemRepo;
    use autodeploy_core::{Language, ServiceKind, Wiring};

    fn run(files: &[(&str, &str)]) -> Vec<Wiring> {
        let repo = MemRepo::new(files.iter().copied());
        let ctx = Ctx::new(&repo);
        let mut d = Draft::new("", Language::Ruby, ServiceKind::Web);
        d.framework = Some("rails".into());
        let sources: Vec<&str> = files
            .iter()
            .map(|(f, _)| *f)
            .filter(|f| f.ends_with(".rb"))
            .collect();
        scan(&ctx, "", &mut d, &sources);
        d.wiring
    }

    #[test]
    fn rails_database_url_with_adapter_scheme_and_erb_keys() {
        let w = run(&[
            (
                "config/database.yml",
                "default: &default\n  adapter: mysql2\n  pool: 5\n\ndevelopment:\n  <<: *default\n  database: app_dev\n  host: <%= ENV[\"DEV_HOST\"] %>\n\nproduction:\n  <<: *default\n  database: <%= ENV.fetch(\"DB_NAME\") { \"app\" } %>\n  username: <%= ENV['DB_USER'] %>\n  password: <%= ENV[\"DB_PASSWORD\"] %>\n  host: <%= ENV.fetch(\"DB_HOST\", \"localhost\") %>\n",
            ),
            (
                "config/environments/production.rb",
                "Rails.application.configure do\n  config.cache_store = :redis_cache_store, { url: ENV[\"REDIS_URL\"] }\nend\n",
            ),
        ]);
        let db = &w[0];
        let names: Vec<(&str, &str)> = db
            .settings
            .iter()
            .map(|s| (s.name.as_str(), s.format.as_str()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("DATABASE_URL", "url"),
                ("DB_NAME", "name"),
                ("DB_USER", "username"),
                ("DB_PASSWORD", "password"),
                ("DB_HOST", "host")
            ]
        );
        assert_eq!(db.settings[0].values[&Database::Mysql], "mysql2");
        assert_eq!(db.engines, vec![Database::Mysql]);
        assert_eq!(w[1].target, T::Cache);
        assert_eq!(w[1].settings[0].name, "REDIS_URL");
    }
}
