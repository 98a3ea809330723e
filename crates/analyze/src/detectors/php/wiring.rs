//! PHP's wiring table: Laravel reads its database and Redis settings through
//! `env('…')` calls in `config/database.php` — `'default' =>
//! env('DB_CONNECTION', …)` names the driver (`pgsql`, `mysql`), each
//! connection's `host`/`port`/`database`/`username`/`password`/`url` keys
//! read `DB_*`, the `redis` block reads `REDIS_*`. When the file is absent
//! (Laravel 11 ships without it) the framework's own defaults are the same
//! names ([`LARAVEL_DEFAULTS`]). A `DB_CONNECTION` that defaults to
//! `sqlite` is the app's SQLite fallback. Symfony's Doctrine reads the URL
//! named in `config/packages/doctrine.yaml` (`%env(resolve:DATABASE_URL)%`).
//!
//! Not here: the databases list and migrations (`mod.rs`).

use crate::ctx::Ctx;
use crate::draft::{ev, Draft};
use crate::repo::join;
use crate::scan::regex;
use crate::wiring::{fixed, key_format, CACHE_KEYS, DB_KEYS};
use autodeploy_core::{
    Database, Evidence, SettingFormat as F, Wiring, WiringSetting, WiringTarget as T,
};
use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;

const LARAVEL_ENGINES: &[(Database, &str)] =
    &[(Database::Postgresql, "pgsql"), (Database::Mysql, "mysql")];

/// Laravel's names when `config/database.php` is not in the repository.
const LARAVEL_DEFAULTS: &[(&str, F)] = &[
    ("DB_CONNECTION", F::Engine),
    ("DB_HOST", F::Host),
    ("DB_PORT", F::Port),
    ("DB_DATABASE", F::Name),
    ("DB_USERNAME", F::Username),
    ("DB_PASSWORD", F::Password),
];
const LARAVEL_REDIS_DEFAULTS: &[(&str, F)] = &[
    ("REDIS_HOST", F::Host),
    ("REDIS_PORT", F::Port),
    ("REDIS_PASSWORD", F::Password),
];

static ENTRY: LazyLock<Regex> = LazyLock::new(|| {
    regex(r#"['"](\w+)['"]\s*=>\s*env\(\s*['"]([A-Za-z_]\w*)['"]\s*(?:,\s*([^)]*))?\)"#)
});
static REDIS_BLOCK: LazyLock<Regex> = LazyLock::new(|| regex(r#"['"]redis['"]\s*=>\s*\["#));
static DOCTRINE_URL: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"\burl\s*:\s*['"]?%env\((?:\w+:)*([A-Za-z_]\w*)\)%"#));

fn with_values(mut w: Wiring) -> Wiring {
    for s in &mut w.settings {
        if s.format == F::Engine {
            s.values = LARAVEL_ENGINES
                .iter()
                .map(|(d, v)| (*d, v.to_string()))
                .collect();
        }
    }
    w
}

/// Laravel's `config/database.php`, else its defaults.
fn laravel(ctx: &Ctx, dir: &str, d: &mut Draft, composer: &Evidence) {
    let path = join(dir, "config/database.php");
    let Some(text) = ctx.read_path(&path) else {
        d.wire(with_values(fixed(
            "laravel-env",
            T::Database,
            &[],
            LARAVEL_DEFAULTS,
            composer,
        )));
        if d.databases.contains_key(&Database::Redis) {
            d.wire(fixed(
                "laravel-env",
                T::Cache,
                &[Database::Redis],
                LARAVEL_REDIS_DEFAULTS,
                composer,
            ));
        }
        return;
    };
    let redis_at = REDIS_BLOCK.find(&text).map_or(usize::MAX, |m| m.start());
    let mut db = Wiring {
        target: T::Database,
        convention: "laravel-env".into(),
        engines: Vec::new(),
        settings: Vec::new(),
        sqlite_fallback: None,
    };
    let mut cache = Wiring {
        target: T::Cache,
        convention: "laravel-env".into(),
        engines: vec![Database::Redis],
        settings: Vec::new(),
        sqlite_fallback: None,
    };
    for c in ENTRY.captures_iter(&text) {
        let at = c.get(0).map_or(0, |m| m.start());
        let line = crate::scan::line_of(&text, at);
        let evidence = ev(&path, Some(line), crate::scan::line_text(&text, line));
        let (key, name) = (&c[1], &c[2]);
        let default = c
            .get(3)
            .map(|m| m.as_str().trim().trim_matches(['\'', '"']));
        let (w, format) = if at > redis_at {
            (&mut cache, key_format(CACHE_KEYS, key))
        } else if key == "default" {
            if default == Some("sqlite") {
                db.sqlite_fallback =
                    Some(ev(&path, Some(line), "DB_CONNECTION defaults to sqlite"));
            }
            (&mut db, Some(F::Engine))
        } else {
            (
                &mut db,
                key_format(DB_KEYS, key).filter(|f| *f != F::Name || key == "database"),
            )
        };
        let Some(format) = format else { continue };
        if w.setting(name).is_none() && crate::draft::is_env_name(name) {
            w.settings.push(WiringSetting {
                name: name.to_string(),
                format,
                values: BTreeMap::new(),
                value: None,
                evidence,
            });
        }
    }
    d.wire(with_values(db));
    if d.databases.contains_key(&Database::Redis) {
        d.wire(cache);
    }
}

/// Symfony / Doctrine: the DBAL URL's `%env(…)%`.
fn doctrine(ctx: &Ctx, dir: &str, d: &mut Draft) {
    let path = join(dir, "config/packages/doctrine.yaml");
    let Some(text) = ctx.read_path(&path) else {
        return;
    };
    if let Some((line, c)) = crate::scan::first_match(&text, &DOCTRINE_URL) {
        d.wire(fixed(
            "doctrine-dbal-url",
            T::Database,
            &[],
            &[(&c[1], F::Url)],
            &ev(&path, Some(line), crate::scan::line_text(&text, line)),
        ));
    }
}

/// Add the PHP app's wiring to `d` (`framework` is the detected one).
pub(super) fn scan(ctx: &Ctx, dir: &str, d: &mut Draft, composer: &Evidence) {
    match d.framework.as_deref() {
        Some("laravel") => laravel(ctx, dir, d, composer),
        Some("symfony") => doctrine(ctx, dir, d),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::MemRepo;
    use autodeploy_core::{Language, ServiceKind};

    #[test]
    fn laravel_config_database_php() {
        let repo = MemRepo::new([(
            "config/database.php",
            "<?php\nreturn [\n    'default' => env('DB_CONNECTION', 'sqlite'),\n    'connections' => [\n        'sqlite' => [\n            'database' => env('DB_DATABASE', database_path('database.sqlite')),\n        ],\n        'pgsql' => [\n            'url' => env('DB_URL'),\n            'host' => env('DB_HOST', '127.0.0.1'),\n            'port' => env('DB_PORT', '5432'),\n            'database' => env('DB_DATABASE', 'laravel'),\n            'username' => env('DB_USERNAME', 'root'),\n            'password' => env('DB_PASSWORD', ''),\n        ],\n    ],\n    'redis' => [\n        'default' => [\n            'url' => env('REDIS_URL'),\n            'host' => env('REDIS_HOST', '127.0.0.1'),\n            'password' => env('REDIS_PASSWORD'),\n            'port' => env('REDIS_PORT', '6379'),\n            'database' => env('REDIS_DB', '0'),\n        ],\n    ],\n];\n",
        )]);
        let ctx = Ctx::new(&repo);
        let mut d = Draft::new("", Language::Php, ServiceKind::Web);
        d.framework = Some("laravel".into());
        d.database(Database::Redis, ev("composer.json", Some(1), "predis"));
        scan(
            &ctx,
            "",
            &mut d,
            &ev("composer.json", Some(1), "laravel/framework"),
        );
        let names = |w: &Wiring| -> Vec<(String, &str)> {
            w.settings
                .iter()
                .map(|s| (s.name.clone(), s.format.as_str()))
                .collect()
        };
        assert_eq!(
            names(&d.wiring[0]),
            vec![
                ("DB_CONNECTION".into(), "engine"),
                ("DB_DATABASE".into(), "name"),
                ("DB_URL".into(), "url"),
                ("DB_HOST".into(), "host"),
                ("DB_PORT".into(), "port"),
                ("DB_USERNAME".into(), "username"),
                ("DB_PASSWORD".into(), "password"),
            ]
        );
        assert_eq!(
            d.wiring[0].settings[0].values[&Database::Postgresql],
            "pgsql"
        );
        assert!(d.wiring[0].sqlite_fallback.is_some());
        assert_eq!(
            names(&d.wiring[1]),
            vec![
                ("REDIS_URL".into(), "url"),
                ("REDIS_HOST".into(), "host"),
                ("REDIS_PASSWORD".into(), "password"),
                ("REDIS_PORT".into(), "port"),
            ]
        );
    }
}
