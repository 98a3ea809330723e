//! What Rails (and Puma) configuration says: the Puma port and bind from
//! `config/puma.rb`, the database adapter of `config/database.yml` (the
//! production section first, following `<<: *default` merges), Action Cable's
//! adapter — and the Rails conventions drawn from them ([`conventions`]):
//! the asset build, migrations, the secret production needs to boot.
//!
//! The YAML files are read line by line on purpose: they are ERB templates
//! (`<%= ENV["DATABASE_URL"] %>`), which a YAML parser cannot be trusted with.

use super::bundler::Bundle;
use crate::ctx::Ctx;
use crate::draft::{ev, Draft, Trust};
use crate::repo::join;
use autodeploy_core::Database;
use autodeploy_core::{EnvVar, Severity};
use regex::Regex;
use std::sync::LazyLock;

/// Top-level sections of an ERB/YAML file, with the line ranges they cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    pub anchor: Option<String>,
    /// 0-based line indices `[start, end)`.
    pub start: usize,
    pub end: usize,
}

static TOP_KEY: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"^["']?([A-Za-z_][\w-]*)["']?\s*:\s*(?:&(\w+))?"#).expect("regex")
});
static MERGE: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"^\s+<<\s*:\s*\*(\w+)").expect("regex"));
static ADAPTER: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"^\s+adapter\s*:\s*["']?([\w-]+)["']?\s*$"#).expect("regex")
});
static URL_LITERAL: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"^\s+url\s*:\s*["']?([a-z][a-z0-9+]*://[^"'\s<]*)"#).expect("regex")
});

pub fn sections(text: &str) -> Vec<Section> {
    let mut out: Vec<Section> = Vec::new();
    let mut lines = 0;
    for (i, line) in text.lines().enumerate() {
        lines = i + 1;
        if let Some(c) = TOP_KEY.captures(line) {
            if let Some(last) = out.last_mut() {
                last.end = i;
            }
            out.push(Section {
                name: c[1].to_string(),
                anchor: c.get(2).map(|a| a.as_str().to_string()),
                start: i,
                end: usize::MAX,
            });
        }
    }
    if let Some(last) = out.last_mut() {
        last.end = lines;
    }
    out
}

/// True when 0-based line `i` lies in a development/test section.
pub fn in_dev_section(sections: &[Section], i: usize) -> bool {
    sections
        .iter()
        .any(|s| i >= s.start && i < s.end && is_dev_name(&s.name))
}

fn is_dev_name(name: &str) -> bool {
    matches!(name, "development" | "test" | "dev" | "local")
}

/// The database an adapter name stands for.
pub fn database_of_adapter(adapter: &str) -> Option<Database> {
    Some(match adapter {
        "postgresql" | "postgres" | "postgis" | "pg" => Database::Postgresql,
        "mysql2" | "mysql" | "trilogy" => Database::Mysql,
        "sqlite3" | "sqlite" => Database::Sqlite,
        "redis" => Database::Redis,
        "mongodb" | "mongoid" => Database::Mongodb,
        _ => return None,
    })
}

/// The database a Rails-style YAML file (database.yml, cable.yml) configures for
/// production: (database, 1-based line, what the line says).
pub fn production_database(text: &str) -> Option<(Database, u32, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let secs = sections(text);
    let find_in = |s: &Section| -> Option<(Database, u32, String)> {
        let span = s.end.min(lines.len()).saturating_sub(s.start);
        for (i, line) in lines.iter().enumerate().skip(s.start).take(span) {
            if let Some(c) = ADAPTER.captures(line) {
                if let Some(db) = database_of_adapter(&c[1]) {
                    return Some((db, i as u32 + 1, line.trim().to_string()));
                }
            }
            if let Some(c) = URL_LITERAL.captures(line) {
                let url = c[1]
                    .replace("mysql2://", "mysql://")
                    .replace("trilogy://", "mysql://");
                if let Some(db) = crate::detectors::database_of_url(&url) {
                    return Some((db, i as u32 + 1, line.trim().to_string()));
                }
            }
        }
        None
    };
    // A section's own adapter, then the ones it merges in (`<<: *default`).
    let resolve = |start: &Section| -> Option<(Database, u32, String)> {
        let mut todo = vec![start.clone()];
        let mut seen = 0;
        while let Some(s) = todo.pop() {
            seen += 1;
            if seen > 16 {
                break;
            }
            if let Some(hit) = find_in(&s) {
                return Some(hit);
            }
            let span = s.end.min(lines.len()).saturating_sub(s.start);
            for line in lines.iter().skip(s.start).take(span) {
                if let Some(c) = MERGE.captures(line) {
                    if let Some(t) = secs.iter().find(|x| x.anchor.as_deref() == Some(&c[1])) {
                        todo.push(t.clone());
                    }
                }
            }
        }
        None
    };
    if let Some(prod) = secs.iter().find(|s| s.name == "production") {
        return resolve(prod);
    }
    // No production section: any section tells the database family.
    secs.iter().find_map(resolve)
}

static PUMA_PORT: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r"(?m)^[ \t]*(?:port|set_default_port)\s*\(?\s*(.+)$").expect("regex")
});
static PUMA_BIND: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r#"(?m)^[ \t]*bind\s*\(?\s*["'](?:tcp|ssl)://([^:"'/]+|\[[^\]]+\]):(.*)$"#,
    )
    .expect("regex")
});
static NUMBER: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"\b(\d{2,5})\b").expect("regex"));
static LOOPBACK_ARG: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"["'](127\.0\.0\.1|localhost|::1)["']"#).expect("regex")
});

/// What `config/puma.rb` says about where Puma listens.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PumaConfig {
    /// (port, 1-based line, line text)
    pub port: Option<(u16, u32, String)>,
    /// The config sets a listener at all (even one whose port we cannot read).
    pub listens: bool,
    /// (1-based line, host literal as written, replacement)
    pub loopback: Option<(u32, String, String)>,
}

/// A port from a Ruby expression: a literal or the default of an env lookup
/// (`ENV.fetch("PORT") { 3000 }`, `ENV.fetch("PORT", 3000)`, `(ENV["PORT"] || 3000).to_i`).
pub fn port_of_expr(expr: &str) -> Option<u16> {
    NUMBER
        .captures_iter(expr)
        .filter_map(|c| c[1].parse::<u16>().ok())
        .find(|p| *p >= 80)
}

pub fn puma(text: &str) -> PumaConfig {
    let mut cfg = PumaConfig::default();
    for c in PUMA_PORT.captures_iter(text) {
        let at = c.get(0).map(|m| m.start()).unwrap_or(0);
        let line = crate::scan::line_of(text, at);
        cfg.listens = true;
        let expr = &c[1];
        if cfg.port.is_none() {
            if let Some(p) = port_of_expr(expr) {
                cfg.port = Some((p, line, crate::scan::line_text(text, line)));
            }
        }
        if let Some(h) = LOOPBACK_ARG.captures(expr) {
            let q = &h[0][..1];
            cfg.loopback
                .get_or_insert((line, h[0].to_string(), format!("{q}0.0.0.0{q}")));
        }
    }
    for c in PUMA_BIND.captures_iter(text) {
        let at = c.get(0).map(|m| m.start()).unwrap_or(0);
        let line = crate::scan::line_of(text, at);
        cfg.listens = true;
        if cfg.port.is_none() {
            if let Some(p) = port_of_expr(&c[2]) {
                cfg.port = Some((p, line, crate::scan::line_text(text, line)));
            }
        }
        let host = c[1].trim_matches(['[', ']']);
        if matches!(host, "127.0.0.1" | "localhost" | "::1") {
            cfg.loopback
                .get_or_insert((line, format!("://{}", &c[1]), "://0.0.0.0".into()));
        }
    }
    cfg
}

/// Gems that give a Rails app an asset pipeline (`assets:precompile` has work to do).
pub const ASSET_GEMS: &[&str] = &[
    "sprockets",
    "sprockets-rails",
    "propshaft",
    "jsbundling-rails",
    "cssbundling-rails",
    "tailwindcss-rails",
    "dartsass-rails",
    "sassc-rails",
    "sass-rails",
    "webpacker",
    "shakapacker",
    "vite_rails",
];

/// The file that tells which secret Rails needs in production: encrypted
/// credentials need `RAILS_MASTER_KEY`; without them `SECRET_KEY_BASE`.
pub fn secret_env(ctx: &Ctx, dir: &str) -> (&'static str, String) {
    for f in [
        "config/credentials/production.yml.enc",
        "config/credentials.yml.enc",
    ] {
        if ctx.index().contains(&join(dir, f)) {
            return ("RAILS_MASTER_KEY", join(dir, f));
        }
    }
    ("SECRET_KEY_BASE", join(dir, "config/application.rb"))
}

/// Major version of `rails` locked in Gemfile.lock (`    rails (7.1.3)`).
fn rails_major(ctx: &Ctx, b: &Bundle) -> Option<u32> {
    static LOCKED: LazyLock<Regex> =
        LazyLock::new(|| crate::scan::regex(r"(?m)^    rails \((\d+)\."));
    let text = ctx.read_path(b.lockfile.as_deref()?)?;
    LOCKED.captures(&text)?[1].parse().ok()
}

/// Rails: assets, migrations, the boot secret, a committed master key.
pub fn conventions(ctx: &Ctx, dir: &str, b: &Bundle, web: &mut Draft) {
    // Asset pipeline.
    let asset_ev = ASSET_GEMS
        .iter()
        .find_map(|g| {
            b.at(g)
                .map(|(f, l)| ev(&f, Some(l), format!("gem \"{g}\"")))
        })
        .or_else(|| {
            ctx.index()
                .files_under(&join(dir, "app/assets"))
                .next()
                .map(|f| ev(f, None, "app/assets exists"))
        });
    if let Some(e) = asset_ev {
        web.build("bundle exec rails assets:precompile", Trust::Inferred, e);
    }
    // Migrations.
    let db_yml = join(dir, "config/database.yml");
    let has_migrations = ctx
        .index()
        .files_under(&join(dir, "db/migrate"))
        .next()
        .is_some();
    if ctx.index().contains(&db_yml) || has_migrations {
        // `db:prepare` (Rails ≥ 6) creates the database when it is missing,
        // loads the schema into an empty one, and migrates an existing one.
        let task = if rails_major(ctx, b).is_some_and(|m| m >= 6) {
            "db:prepare"
        } else {
            "db:migrate"
        };
        web.release = Some(format!("bundle exec rails {task}"));
        let f = if has_migrations {
            join(dir, "db/migrate")
        } else {
            db_yml
        };
        web.note("release", ev(&f, None, "Active Record migrations"));
    }
    // The secret production needs to boot.
    let (name, file) = secret_env(ctx, dir);
    if !web.env.iter().any(|e| e.name == name) {
        web.env.push(EnvVar {
            file: Some(file),
            ..EnvVar::new(name, true, crate::draft::looks_secret(name))
        });
    }
    let master = join(dir, "config/master.key");
    if ctx.index().contains(&master) {
        web.finding(
            "committed_secret",
            Severity::Warning,
            Some(&master),
            None,
            format!("{master} is committed: it decrypts config/credentials.yml.enc; rotate the credentials, remove the file from git and pass RAILS_MASTER_KEY as a secret at deploy time"),
            None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PG_YML: &str = r#"default: &default
  adapter: postgresql
  pool: <%= ENV.fetch("RAILS_MAX_THREADS") { 5 } %>

development:
  <<: *default
  adapter: sqlite3

production:
  <<: *default
  url: <%= ENV["DATABASE_URL"] %>
"#;

    #[test]
    fn production_follows_merges() {
        let (db, line, _) = production_database(PG_YML).unwrap();
        assert_eq!((db, line), (Database::Postgresql, 2));
        let s = sections(PG_YML);
        assert_eq!(s.len(), 3);
        assert!(in_dev_section(&s, 6));
        assert!(!in_dev_section(&s, 10));
    }

    #[test]
    fn production_without_adapter_says_nothing_and_no_production_uses_any() {
        let yml =
            "development:\n  adapter: sqlite3\nproduction:\n  url: <%= ENV['DATABASE_URL'] %>\n";
        assert_eq!(production_database(yml), None);
        let yml = "development:\n  adapter: mysql2\n";
        assert_eq!(production_database(yml).unwrap().0, Database::Mysql);
        let yml = "production:\n  adapter: redis\n  url: <%= ENV.fetch(\"REDIS_URL\") { \"redis://localhost:6379/1\" } %>\n";
        assert_eq!(production_database(yml).unwrap().0, Database::Redis);
        let yml = "production:\n  url: postgres://u@db/app\n";
        assert_eq!(production_database(yml).unwrap().0, Database::Postgresql);
        // Multi-database production: nested sections.
        let yml = "production:\n  primary:\n    adapter: trilogy\n  cache:\n    adapter: trilogy\n";
        assert_eq!(production_database(yml).unwrap().0, Database::Mysql);
    }

    #[test]
    fn puma_port_forms() {
        let p = puma("threads 1, 5\nport ENV.fetch(\"PORT\") { 3000 }\n");
        assert_eq!(p.port.as_ref().map(|x| (x.0, x.1)), Some((3000, 2)));
        assert!(p.loopback.is_none());
        let p = puma("port ENV.fetch('PORT', 4000), '127.0.0.1'\n");
        assert_eq!(p.port.as_ref().unwrap().0, 4000);
        assert_eq!(
            p.loopback,
            Some((1, "'127.0.0.1'".into(), "'0.0.0.0'".into()))
        );
        let p = puma("bind \"tcp://localhost:9000\"\n");
        assert_eq!(p.port.as_ref().unwrap().0, 9000);
        assert_eq!(p.loopback.as_ref().unwrap().1, "://localhost");
        let p = puma("bind \"tcp://0.0.0.0:#{ENV.fetch('PORT', 8080)}\"\n");
        assert_eq!(p.port.as_ref().unwrap().0, 8080);
        assert!(p.loopback.is_none());
        let p = puma("port ENV['PORT']\n");
        assert!(p.listens && p.port.is_none());
        let p = puma("workers 2\n");
        assert!(!p.listens);
    }
}
