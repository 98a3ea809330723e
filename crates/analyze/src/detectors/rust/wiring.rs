//! Rust's wiring table: how sqlx, diesel, sea-orm and redis-rs find their
//! database and cache — connection sites as rows ([`SITES`]) — and the
//! `config` crate's convention: a settings file (`configuration/base.yaml`,
//! `config/default.toml`, `Settings.toml`…) whose nested keys are
//! overridden by environment variables named from the prefix and
//! separators the code passes (`Environment::with_prefix("APP")
//! .prefix_separator("_").separator("__")` + `database.host` →
//! `APP_DATABASE__HOST`).
//!
//! Names come from `std::env::var("X")` / `dotenvy::var("X")` (with
//! `unwrap_or…` defaults), `let` bindings of those, and `format!` URLs.
//!
//! Not here: the `databases` list (`mod.rs`) or ports (`code.rs`, `scan.rs`).

use super::cargo::Manifest;
use crate::ctx::Ctx;
use crate::draft::{ev, Draft};
use crate::repo::join;
use crate::scan::{line_of, regex};
use crate::wiring::{
    bracketed, hole, key_format, scan_sites, split_top, unquote, EnvRef, Lang, Resolver, Shape,
    Site, CACHE_KEYS, DB_KEYS,
};
use autodeploy_core::{Database, SettingFormat as F, Wiring, WiringSetting, WiringTarget as T};
use regex::Regex;
use std::sync::LazyLock;

const PG: &[Database] = &[Database::Postgresql];
const MY: &[Database] = &[Database::Mysql];
const REDIS: &[Database] = &[Database::Redis];

const fn arg0(format: F) -> Shape {
    Shape::Arg {
        pos: 0,
        kw: &[],
        format,
    }
}

/// Where Rust code connects.
const SITES: &[Site] = &[
    Site::new(
        "sqlx-pool",
        T::Database,
        "Pg",
        r"\b(?:PgPool|PgConnection|Pool::<Postgres>)::connect(?:_lazy)?\s*\(",
        arg0(F::Url),
        PG,
        DB_KEYS,
    ),
    Site::new(
        "sqlx-pool",
        T::Database,
        "MySql",
        r"\b(?:MySqlPool|MySqlConnection|Pool::<MySql>)::connect(?:_lazy)?\s*\(",
        arg0(F::Url),
        MY,
        DB_KEYS,
    ),
    Site::new(
        "sqlx-pool",
        T::Database,
        "PoolOptions",
        r"\.connect(?:_lazy)?\s*\(",
        arg0(F::Url),
        &[],
        DB_KEYS,
    ),
    Site::new(
        "diesel",
        T::Database,
        "ConnectionManager",
        r"\bConnectionManager::<\s*\w+\s*>::new\s*\(",
        arg0(F::Url),
        &[],
        DB_KEYS,
    ),
    Site::new(
        "diesel",
        T::Database,
        "establish",
        r"\b(?:PgConnection|MysqlConnection)::establish\s*\(",
        arg0(F::Url),
        &[],
        DB_KEYS,
    ),
    Site::new(
        "sea-orm",
        T::Database,
        "Database::connect",
        r"\bDatabase::connect\s*\(",
        arg0(F::Url),
        &[],
        DB_KEYS,
    ),
    Site::new(
        "redis-rs",
        T::Cache,
        "redis",
        r"\b(?:redis::)?Client::open\s*\(",
        arg0(F::Url),
        REDIS,
        CACHE_KEYS,
    ),
];

/// Rust's expression syntax for wiring.
pub(super) struct Rust;

static ENV_VAR: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"\b(?:std::)?(?:env|dotenvy|dotenv)::var(?:_os)?\s*\(\s*"([A-Za-z_]\w*)"\s*\)|\benv!\s*\(\s*"([A-Za-z_]\w*)"\s*\)"#,
    )
});
static UNWRAP_OR: LazyLock<Regex> = LazyLock::new(|| {
    regex(r#"^\s*\.\s*unwrap_or(?:_else)?\s*\(\s*(?:\|_\|\s*)?(?:String::from\(\s*)?("[^"]*")"#)
});

impl Lang for Rust {
    fn env_reads(&self, expr: &str) -> Vec<EnvRef> {
        let mut out: Vec<EnvRef> = Vec::new();
        for c in ENV_VAR.captures_iter(expr) {
            let Some(name) = c.get(1).or(c.get(2)) else {
                continue;
            };
            let end = c.get(0).map_or(0, |m| m.end());
            let default = UNWRAP_OR.captures(&expr[end..]).map(|d| d[1].to_string());
            if !out.iter().any(|e| e.name == name.as_str()) {
                out.push(EnvRef {
                    name: name.as_str().to_string(),
                    default,
                    at: None,
                });
            }
        }
        out
    }

    fn template(&self, expr: &str) -> Option<(String, Vec<String>)> {
        let e = expr.trim().trim_start_matches('&');
        let rest = e.strip_prefix("format!")?;
        let args = split_top(bracketed(rest, rest.find(['(', '['])?)?);
        let body = unquote(args.first()?)?;
        let mut enc = String::new();
        let mut holes = Vec::new();
        let mut next = 1usize;
        let mut tail = body;
        while let Some(i) = tail.find('{') {
            if tail[i..].starts_with("{{") {
                enc.push_str(&tail[..i + 1]);
                tail = &tail[i + 2..];
                continue;
            }
            let j = tail[i..].find('}')?;
            enc.push_str(&tail[..i]);
            let inner = tail[i + 1..i + j].split(':').next().unwrap_or("").trim();
            let expr = if inner.is_empty() {
                next += 1;
                args.get(next - 1).copied().unwrap_or("").to_string()
            } else if let Ok(n) = inner.parse::<usize>() {
                args.get(n + 1).copied().unwrap_or("").to_string()
            } else {
                inner.to_string()
            };
            enc.push_str(&hole(holes.len()));
            holes.push(expr);
            tail = &tail[i + j + 1..];
        }
        enc.push_str(tail);
        Some((enc, holes))
    }
}

static CLAP_ENV_ATTR: LazyLock<Regex> =
    LazyLock::new(|| regex(r"#\[(?:clap|arg|structopt)\(([^\]]*\benv\b[^\]]*)\)\]"));
static NEXT_FIELD: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?m)^\s*(?:pub(?:\([^)]*\))?\s+)?([a-z_][a-z0-9_]*)\s*:\s*[A-Z]"));
static CLAP_ENV_NAME: LazyLock<Regex> = LazyLock::new(|| regex(r#"\benv\s*=\s*"([A-Za-z_]\w*)""#));
static LET: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\blet\s+(?:mut\s+)?([a-z_]\w*)\s*(?::\s*[^=;\n]+)?=[ \t]*"));
static ENVIRONMENT_SOURCE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"\b(?:config::)?Environment::(?:with_prefix\s*\(\s*([^)]*)\)|default\s*\(\s*\)|new\s*\(\s*\))",
    )
});
static PREFIX_SEP: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"^\s*\.\s*prefix_separator\s*\(\s*"([^"]*)"\s*\)"#));
static SEP: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"^\s*\.\s*separator\s*\(\s*"([^"]*)"\s*\)"#));
static CHAINED: LazyLock<Regex> = LazyLock::new(|| regex(r"^\s*\.\s*\w+\s*\("));

/// The `config` crate's environment source: (prefix, prefix separator,
/// separator) and where it is written.
fn environment_source(
    text: &str,
    version_below_0_12: bool,
) -> Option<(String, String, String, u32)> {
    let c = ENVIRONMENT_SOURCE.captures(text)?;
    let whole = c.get(0)?;
    let prefix = c
        .get(1)
        .and_then(|p| unquote(p.as_str()))
        .unwrap_or("")
        .to_string();
    let (mut pre_sep, mut sep) = (None, None);
    let mut at = whole.end();
    // Walk the builder chain: `.prefix_separator("_")`, `.separator("__")`, other calls.
    for _ in 0..12 {
        let rest = &text[at..];
        if let Some(m) = PREFIX_SEP.captures(rest) {
            pre_sep = Some(m[1].to_string());
            at += m.get(0)?.end();
        } else if let Some(m) = SEP.captures(rest) {
            sep = Some(m[1].to_string());
            at += m.get(0)?.end();
        } else if let Some(m) = CHAINED.find(rest) {
            let open = at + m.end() - 1;
            at = open + bracketed(text, open)?.len() + 2;
        } else {
            break;
        }
    }
    let sep = sep.unwrap_or_default();
    // config ≥ 0.12: the prefix separator defaults to the separator, else `_`;
    // before that it was always `_`.
    let pre_sep = pre_sep.unwrap_or_else(|| {
        if version_below_0_12 || sep.is_empty() {
            "_".into()
        } else {
            sep.clone()
        }
    });
    Some((prefix, pre_sep, sep, line_of(text, whole.start())))
}

/// Settings files the `config` crate is usually pointed at.
const CONFIG_FILES: &[&str] = &[
    "configuration/base.yaml",
    "configuration/base.yml",
    "configuration/base.toml",
    "configuration/base.json",
    "config/default.toml",
    "config/default.yaml",
    "config/default.yml",
    "config/base.toml",
    "config/base.yaml",
    "config/settings.toml",
    "Settings.toml",
    "settings.toml",
    "config.toml",
    "config.yaml",
    "config.yml",
];

/// Sections (or top-level keys) that configure a data store.
fn section_target(name: &str) -> Option<T> {
    let n = name.to_ascii_lowercase();
    if n.contains("redis") || n.contains("cache") {
        Some(T::Cache)
    } else if ["database", "db", "postgres", "pg", "mysql", "sql"]
        .iter()
        .any(|k| n == *k || n.starts_with(&format!("{k}_")) || n.ends_with(&format!("_{k}")))
        || n.contains("database")
    {
        Some(T::Database)
    } else {
        None
    }
}

/// Sections that configure the app's own listener (`[server] port = 8000`).
fn is_listen_section(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "application" | "app" | "server" | "http" | "web" | "api" | "service" | "listen"
    )
}

/// The listener setting a key holds: the port, or the address to bind.
fn listen_format(key: &str) -> Option<F> {
    match key.to_ascii_lowercase().as_str() {
        "port" | "http_port" | "listen_port" => Some(F::Port),
        "host" | "bind" | "bind_host" | "listen_host" => Some(F::Host),
        _ => None,
    }
}

/// The settings file's port is where the app listens unless the env says otherwise.
fn listen_port(
    d: &mut Draft,
    f: F,
    v: &serde_yaml::Value,
    path: &str,
    raw: &str,
    key_path: &[&str],
) {
    let port = match v {
        serde_yaml::Value::Number(n) => n.as_u64(),
        serde_yaml::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    if let (F::Port, Some(p)) = (
        f,
        port.and_then(|p| u16::try_from(p).ok()).filter(|p| *p > 0),
    ) {
        let at = key_line(raw, key_path);
        d.port(
            p,
            crate::draft::Trust::Config,
            ev(path, Some(at), crate::wiring::note(raw, at)),
        );
    }
}

/// The line of a nested key: the leaf's first line after its section's.
fn key_line(raw: &str, key_path: &[&str]) -> u32 {
    let mut from = 0usize;
    for k in key_path {
        let found = raw[from..].match_indices(k).find(|(at, _)| {
            // A key, not part of a value or a longer word: at a line start after indentation.
            let before = &raw[..from + at];
            let line_start = before.rfind('\n').map_or(0, |n| n + 1);
            raw[line_start..from + at]
                .trim_start_matches([' ', '\t', '[', '"'])
                .is_empty()
        });
        match found {
            Some((at, _)) => from += at + k.len(),
            None => break,
        }
    }
    if from == 0 {
        1
    } else {
        line_of(raw, from)
    }
}

/// The `config` crate convention: settings file keys overridden by prefixed env vars.
fn config_crate(
    ctx: &Ctx,
    dir: &str,
    m: &Manifest,
    texts: &[(&str, String)],
    d: &mut Draft,
) -> Vec<Wiring> {
    let Some(dep) = m.deps.get("config") else {
        return Vec::new();
    };
    let old = {
        let v = dep.version.trim_start_matches(['^', '=', '~']);
        let mut parts = v.split('.');
        parts.next() == Some("0")
            && parts
                .next()
                .and_then(|n| n.parse::<u32>().ok())
                .is_some_and(|n| n < 12)
    };
    let Some((file, (prefix, pre_sep, sep, line))) = texts
        .iter()
        .find_map(|(f, t)| environment_source(t, old).map(|e| (*f, e)))
    else {
        return Vec::new();
    };
    let Some((path, doc, raw)) = CONFIG_FILES.iter().find_map(|f| {
        let path = join(dir, f);
        let raw = ctx.read_path(&path)?;
        let doc: serde_yaml::Value = if f.ends_with(".toml") {
            let t: toml::Value = raw.parse().ok()?;
            serde_yaml::to_value(t).ok()?
        } else {
            serde_yaml::from_str(&raw).ok()?
        };
        Some((path, doc, raw))
    }) else {
        return Vec::new();
    };
    let name = |keys: &[&str]| {
        let mut n = prefix.to_ascii_uppercase();
        if !n.is_empty() {
            n.push_str(&pre_sep);
        }
        n.push_str(&keys.join(&sep).to_ascii_uppercase());
        n
    };
    let code_ev = ev(
        file,
        Some(line),
        "config::Environment source (env overrides the settings file)",
    );
    let mut out: Vec<Wiring> = Vec::new();
    let push = |target: T, key_path: &[&str], f: F, out: &mut Vec<Wiring>| {
        let at = key_line(&raw, key_path);
        let s = WiringSetting {
            name: name(key_path),
            format: f,
            values: Default::default(),
            value: None,
            evidence: ev(&path, Some(at), crate::wiring::note(&raw, at)),
        };
        match out.iter_mut().find(|w| w.target == target) {
            Some(w) => w.settings.push(s),
            None => out.push(Wiring {
                target,
                convention: "rust-config-crate".into(),
                engines: if target == T::Cache {
                    REDIS.to_vec()
                } else {
                    Vec::new()
                },
                settings: vec![s],
                sqlite_fallback: None,
            }),
        }
    };
    let Some(map) = doc.as_mapping() else {
        return Vec::new();
    };
    for (k, v) in map {
        let Some(k) = k.as_str() else { continue };
        match (section_target(k), v) {
            // Nested keys can be overridden only with a separator.
            (Some(target), serde_yaml::Value::Mapping(inner)) if !sep.is_empty() => {
                let keys = if target == T::Cache {
                    CACHE_KEYS
                } else {
                    DB_KEYS
                };
                for (ik, _) in inner {
                    let Some(ik) = ik.as_str() else { continue };
                    if let Some(f) = key_format(keys, ik) {
                        push(target, &[k, ik], f, &mut out);
                    }
                }
            }
            // The app's own listener: `application.port`, `server.host`…
            (None, serde_yaml::Value::Mapping(inner))
                if !sep.is_empty() && is_listen_section(k) =>
            {
                for (ik, iv) in inner {
                    let Some(ik) = ik.as_str() else { continue };
                    if let Some(f) = listen_format(ik) {
                        push(T::Listen, &[k, ik], f, &mut out);
                        listen_port(d, f, iv, &path, &raw, &[k, ik]);
                    }
                }
            }
            (None, serde_yaml::Value::Number(_) | serde_yaml::Value::String(_))
                if listen_format(k).is_some() =>
            {
                if let Some(f) = listen_format(k) {
                    push(T::Listen, &[k], f, &mut out);
                    listen_port(d, f, v, &path, &raw, &[k]);
                }
            }
            (Some(target), serde_yaml::Value::String(_)) => {
                let last = k.rsplit('_').next().unwrap_or(k);
                if matches!(last, "url" | "uri" | "dsn") {
                    push(target, &[k], F::Url, &mut out);
                }
            }
            _ => {}
        }
    }
    if out.is_empty() {
        return out;
    }
    // The evidence that env vars override the file: the environment source in code.
    for w in &mut out {
        w.settings.retain(|s| crate::draft::is_env_name(&s.name));
        if let Some(first) = w.settings.first_mut() {
            first.evidence = code_ev.clone();
        }
    }
    out.retain(|w| !w.settings.is_empty());
    out
}

/// Add the package's wiring to `d`.
pub(super) fn scan(ctx: &Ctx, dir: &str, m: &Manifest, d: &mut Draft, sources: &[&str]) {
    let lang = Rust;
    let mut resolver = Resolver::new(&lang);
    resolver.known = d.env.iter().map(|e| e.name.clone()).collect();
    let texts: Vec<(&str, String)> = sources
        .iter()
        .filter_map(|f| {
            ctx.read_path(f)
                .map(|t| (*f, crate::wiring::mask_c_comments(&t)))
        })
        .collect();
    // clap arguments read from the environment: `#[clap(long, env)] database_url: String`.
    for (file, text) in &texts {
        for c in CLAP_ENV_ATTR.captures_iter(text) {
            let after = c.get(0).map_or(0, |m| m.end());
            // The field the attribute sits on: the next `name: Type` line.
            let Some(f) = NEXT_FIELD
                .captures(&text[after..])
                .filter(|f| f.get(0).is_some_and(|m| m.start() < 400))
            else {
                continue;
            };
            let field = f.get(1).map_or("", |m| m.as_str());
            let env = CLAP_ENV_NAME
                .captures(&c[1])
                .map(|n| n[1].to_string())
                .unwrap_or_else(|| field.to_ascii_uppercase());
            let line = line_of(text, after + f.get(1).map_or(0, |m| m.start()));
            let note = crate::wiring::note(text, line);
            resolver.bind_env(field, EnvRef::new(&env, None), file, line, &note);
        }
    }
    let mut candidates = Vec::new();
    for (file, text) in &texts {
        crate::wiring::assignments(file, text, &[&*LET], &['='], &mut candidates);
    }
    resolver.bind_all(candidates);
    let mut found: Vec<Wiring> = Vec::new();
    for (file, text) in &texts {
        scan_sites(text, file, SITES, &resolver, &mut found);
    }
    found.extend(config_crate(ctx, dir, m, &texts, d));
    for w in found {
        d.wire(w);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::MemRepo;
    use autodeploy_core::{Language, ServiceKind};

    fn wiring(files: &[(&str, &str)]) -> Vec<Wiring> {
        draft(files).wiring
    }

    fn draft(files: &[(&str, &str)]) -> Draft {
        let repo = MemRepo::new(files.iter().copied());
        let ctx = Ctx::new(&repo);
        let m = super::super::cargo::parse(files[0].1).expect("Cargo.toml");
        let mut d = Draft::new("", Language::Rust, ServiceKind::Web);
        let sources: Vec<&str> = files
            .iter()
            .map(|(f, _)| *f)
            .filter(|f| f.ends_with(".rs"))
            .collect();
        scan(&ctx, "", &m, &mut d, &sources);
        d
    }

    fn names(w: &Wiring) -> Vec<(String, &'static str)> {
        w.settings
            .iter()
            .map(|s| (s.name.clone(), s.format.as_str()))
            .collect()
    }

    #[test]
    fn config_crate_prefix_and_separators() {
        let cargo =
            "[package]\nname = \"news\"\n\n[dependencies]\nconfig = \"0.14\"\nsqlx = \"0.8\"\n";
        let code = "pub fn get() {\n    let s = config::Config::builder()\n        .add_source(config::File::from(dir.join(\"base.yaml\")))\n        .add_source(\n            config::Environment::with_prefix(\"APP\")\n                .prefix_separator(\"_\")\n                .separator(\"__\"),\n        )\n        .build()?;\n}\n";
        let yaml = "application:\n  port: 8000\ndatabase:\n  host: \"127.0.0.1\"\n  port: 5432\n  username: \"postgres\"\n  password: \"password\"\n  database_name: \"newsletter\"\n  require_ssl: false\nredis_uri: \"redis://127.0.0.1:6379\"\n";
        let w = wiring(&[
            ("Cargo.toml", cargo),
            ("src/configuration.rs", code),
            ("configuration/base.yaml", yaml),
        ]);
        let db = w.iter().find(|w| w.target == T::Database).unwrap();
        assert_eq!(
            names(db),
            vec![
                ("APP_DATABASE__HOST".into(), "host"),
                ("APP_DATABASE__PORT".into(), "port"),
                ("APP_DATABASE__USERNAME".into(), "username"),
                ("APP_DATABASE__PASSWORD".into(), "password"),
                ("APP_DATABASE__DATABASE_NAME".into(), "name"),
            ]
        );
        assert_eq!(db.settings[0].evidence.file, "src/configuration.rs");
        assert_eq!(db.settings[1].evidence.file, "configuration/base.yaml");
        // `database.port`, not the `application.port` above it.
        assert_eq!(db.settings[1].evidence.line, Some(5));
        // Where the app itself listens: `application.port` → APP_APPLICATION__PORT.
        let listen = w.iter().find(|w| w.target == T::Listen).unwrap();
        assert_eq!(
            names(listen),
            vec![("APP_APPLICATION__PORT".into(), "port")]
        );
        let cache = w.iter().find(|w| w.target == T::Cache).unwrap();
        assert_eq!(names(cache), vec![("APP_REDIS_URI".into(), "url")]);
        // Without an explicit prefix separator, config ≥ 0.12 uses the separator.
        let code2 = code.replace("                .prefix_separator(\"_\")\n", "");
        let w = wiring(&[
            ("Cargo.toml", cargo),
            ("src/configuration.rs", &code2),
            ("configuration/base.yaml", yaml),
        ]);
        let db = w.iter().find(|w| w.target == T::Database).unwrap();
        assert_eq!(db.settings[0].name, "APP__DATABASE__HOST");
    }

    #[test]
    fn config_crate_listener_port_and_host() {
        let cargo =
            "[package]\nname = \"svc\"\n\n[dependencies]\nconfig = \"0.13\"\naxum = \"0.7\"\n";
        let code = "fn settings() {\n    Config::builder()\n        .add_source(File::with_name(\"config/default\"))\n        .add_source(Environment::with_prefix(\"SVC\").separator(\"__\"))\n        .build()\n}\n";
        let toml = "[server]\nhost = \"127.0.0.1\"\nport = 3400\n\n[log]\nlevel = \"info\"\n";
        let d = draft(&[
            ("Cargo.toml", cargo),
            ("src/settings.rs", code),
            ("config/default.toml", toml),
        ]);
        let listen = d.wiring.iter().find(|w| w.target == T::Listen).unwrap();
        assert_eq!(
            names(listen),
            vec![
                ("SVC__SERVER__HOST".into(), "host"),
                ("SVC__SERVER__PORT".into(), "port"),
            ]
        );
        // The settings file's port is a configured port, with its line.
        let claim = d.ports.iter().find(|c| c.value == 3400).unwrap();
        assert_eq!(claim.evidence.file, "config/default.toml");
        assert_eq!(claim.evidence.line, Some(3));
        // Without a separator nested keys cannot be overridden: nothing to set.
        let flat = code.replace(".separator(\"__\")", "");
        let d = draft(&[
            ("Cargo.toml", cargo),
            ("src/settings.rs", &flat),
            ("config/default.toml", toml),
        ]);
        assert!(d.wiring.iter().all(|w| w.target != T::Listen));
    }

    #[test]
    fn clap_arguments_from_the_environment() {
        let w = wiring(&[
            ("Cargo.toml", "[package]\nname = \"x\"\n[dependencies]\nsqlx = \"0.5\"\nclap = \"3\"\n"),
            (
                "src/config.rs",
                "#[derive(clap::Parser)]\npub struct Config {\n    /// The connection URL.\n    #[clap(long, env)]\n    pub database_url: String,\n    #[arg(long, env = \"CACHE_ADDR\")]\n    pub redis: String,\n}\n",
            ),
            (
                "src/main.rs",
                "async fn main() {\n    let config = Config::parse();\n    let db = PgPoolOptions::new()\n        .max_connections(50)\n        .connect(&config.database_url)\n        .await?;\n}\n",
            ),
        ]);
        assert_eq!(names(&w[0]), vec![("DATABASE_URL".into(), "url")]);
        assert_eq!(w[0].settings[0].evidence.file, "src/config.rs");
    }

    #[test]
    fn sqlx_and_diesel_from_env() {
        let w = wiring(&[
            ("Cargo.toml", "[package]\nname = \"x\"\n[dependencies]\nsqlx = \"0.8\"\n"),
            (
                "src/main.rs",
                "async fn main() {\n    let database_url = std::env::var(\"DATABASE_URL\").expect(\"DATABASE_URL must be set\");\n    let pool = PgPoolOptions::new()\n        .max_connections(5)\n        .connect(&database_url)\n        .await?;\n    let client = redis::Client::open(env::var(\"REDIS_URL\").unwrap_or_else(|_| \"redis://127.0.0.1/\".into()))?;\n}\n",
            ),
        ]);
        assert_eq!(names(&w[0]), vec![("DATABASE_URL".into(), "url")]);
        assert_eq!(names(&w[1]), vec![("REDIS_URL".into(), "url")]);
        let w = wiring(&[
            ("Cargo.toml", "[package]\nname = \"x\"\n[dependencies]\ndiesel = \"2\"\n"),
            (
                "src/db.rs",
                "pub fn pool() -> Pool {\n    let url = format!(\"postgres://{}:{}@{}/{}\", env::var(\"PG_USER\").unwrap(), env::var(\"PG_PASS\").unwrap(), env::var(\"PG_HOST\").unwrap(), env::var(\"PG_DB\").unwrap());\n    let manager = ConnectionManager::<PgConnection>::new(url);\n}\n",
            ),
        ]);
        assert_eq!(
            names(&w[0]),
            vec![
                ("PG_USER".into(), "username"),
                ("PG_PASS".into(), "password"),
                ("PG_HOST".into(), "host"),
                ("PG_DB".into(), "name")
            ]
        );
    }
}
