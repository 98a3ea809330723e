//! Python's wiring table: how Django, Flask-SQLAlchemy, SQLAlchemy, pydantic
//! settings, psycopg/asyncpg/PyMySQL, pymongo, redis-py, Celery and RQ find
//! their database and cache — as rows ([`SITES`], [`CONFIG_KEYS`]), each
//! turned into settings with formats by the shared engine (`crate::wiring`).
//!
//! Reads the sources the code scan already read (cached), once. Names come
//! from the code: `os.environ[…]`, `os.getenv(…)`, django-environ/decouple
//! lookups, `dj_database_url.config(env=…)`, pydantic `BaseSettings` fields
//! (`env_prefix`, `Field(alias=…)`, `validation_alias`), and URLs assembled
//! from parts (f-strings, `.format`, `%`, `+`, `PostgresDsn.build(…)`,
//! `URL.create(…)`).
//!
//! Not here: guessing from a name's shape (decide's fallback) or the
//! `databases` list (`code.rs`, `mod.rs`).

use super::code::mask_comments;
use super::manifest::Manifest;
use crate::ctx::Ctx;
use crate::draft::{ev, Draft};
use crate::scan::{line_of, regex};
use crate::wiring::{
    assigned_expr, bracketed, hole, key_value, scan_sites, split_top, unquote, EnvRef, KeyTable,
    Lang, Resolver, Shape, Site, CACHE_KEYS, DB_KEYS,
};
use autodeploy_core::{Database, SettingFormat as F, Wiring, WiringTarget as T};
use regex::Regex;
use std::sync::LazyLock;

const PG: &[Database] = &[Database::Postgresql];
const MY: &[Database] = &[Database::Mysql];
const MONGO: &[Database] = &[Database::Mongodb];
const REDIS: &[Database] = &[Database::Redis];

/// Django's `DATABASES` entry keys.
const DJANGO_KEYS: KeyTable = &[
    ("default", F::Url),
    ("engine", F::Engine),
    ("name", F::Name),
    ("user", F::Username),
    ("password", F::Password),
    ("host", F::Host),
    ("port", F::Port),
];
/// Django's `CACHES` entry keys.
const DJANGO_CACHE_KEYS: KeyTable = &[("location", F::Url), ("default", F::Url)];
/// Celery's constructor keywords.
const CELERY_KEYS: KeyTable = &[
    ("broker", F::Url),
    ("broker_url", F::Url),
    ("backend", F::Url),
    ("result_backend", F::Url),
];
const DJANGO_ENGINES: &[(Database, &str)] = &[
    (Database::Postgresql, "django.db.backends.postgresql"),
    (Database::Mysql, "django.db.backends.mysql"),
];

/// The URL schemes Tortoise ORM accepts (`postgresql://` is "Unknown DB scheme").
const TORTOISE_SCHEMES: &[(Database, &str)] = &[
    (Database::Postgresql, "postgres"),
    (Database::Mysql, "mysql"),
];

/// Where Python code connects. One row per convention.
const SITES: &[Site] = &[
    Site {
        engine_values: DJANGO_ENGINES,
        ..Site::new(
            "django-databases",
            T::Database,
            "DATABASES",
            r"\bDATABASES\s*(?::[^=\n]*)?=\s*\{",
            Shape::Keys {
                positional: &[],
                nested: &["default"],
            },
            &[],
            DJANGO_KEYS,
        )
    },
    // A connection dict built under a name first (`default_database =
    // {"ENGINE": "django.db.backends.postgresql", "NAME": …}`, then
    // `DATABASES = {"default": default_database}`).
    Site {
        engine_values: DJANGO_ENGINES,
        ..Site::new(
            "django-databases",
            T::Database,
            "django.db.backends.",
            r#"(?m)^[ \t]*[A-Za-z_]\w*\s*=\s*\{\s*["']ENGINE["']\s*:\s*["']django\.db\.backends\.(?:postgresql|mysql)"#,
            Shape::Keys {
                positional: &[],
                nested: &[],
            },
            &[],
            DJANGO_KEYS,
        )
    },
    Site::new(
        "django-databases",
        T::Database,
        "DATABASES",
        r#"\bDATABASES\s*\[\s*["']default["']\s*\]\s*=\s*"#,
        Shape::Assign { format: F::Url },
        &[],
        DB_KEYS,
    ),
    Site::new(
        "django-databases",
        T::Database,
        "DATABASES",
        r#"\bDATABASES\s*\[\s*["']default["']\s*\]\s*\.\s*update\s*\("#,
        Shape::Arg {
            pos: 0,
            kw: &[],
            format: F::Url,
        },
        &[],
        DB_KEYS,
    ),
    Site::new(
        "django-caches",
        T::Cache,
        "CACHES",
        r"\bCACHES\s*(?::[^=\n]*)?=\s*\{",
        Shape::Keys {
            positional: &[],
            nested: &["default"],
        },
        REDIS,
        DJANGO_CACHE_KEYS,
    ),
    // Tortoise ORM: `register_tortoise(app, db_url=…)`, `Tortoise.init(db_url=…)`
    // (its URL scheme is `postgres://`, `mysql://`, `sqlite://`).
    Site {
        url_schemes: TORTOISE_SCHEMES,
        ..Site::new(
            "tortoise-orm",
            T::Database,
            "db_url",
            r"\b(?:register_tortoise|Tortoise\s*\.\s*init)\s*\(",
            Shape::Arg {
                pos: usize::MAX,
                kw: &["db_url"],
                format: F::Url,
            },
            &[],
            DB_KEYS,
        )
    },
    Site::new(
        "sqlalchemy-create-engine",
        T::Database,
        "_engine",
        r"\bcreate(?:_async)?_engine\s*\(",
        Shape::Arg {
            pos: 0,
            kw: &["url"],
            format: F::Url,
        },
        &[],
        DB_KEYS,
    ),
    Site::new(
        "psycopg-connect",
        T::Database,
        "psycopg",
        r"\bpsycopg2?(?:_pool\.\w+|\.pool\.\w+|\.connect|\.AsyncConnection\.connect|\.Connection\.connect)\s*\(",
        Shape::Keys {
            positional: &[F::Url],
            nested: &[],
        },
        PG,
        DB_KEYS,
    ),
    Site::new(
        "asyncpg-connect",
        T::Database,
        "asyncpg",
        r"\basyncpg\.(?:connect|create_pool)\s*\(",
        Shape::Keys {
            positional: &[F::Url],
            nested: &[],
        },
        PG,
        DB_KEYS,
    ),
    Site::new(
        "mysql-connect",
        T::Database,
        "connect",
        r"\b(?:pymysql|MySQLdb|mysql\.connector|aiomysql|asyncmy)\.(?:connect|create_pool|Connect)\s*\(",
        Shape::Keys {
            positional: &[],
            nested: &[],
        },
        MY,
        DB_KEYS,
    ),
    Site::new(
        "pymongo-client",
        T::Database,
        "Client",
        r"\b(?:pymongo\.)?(?:MongoClient|AsyncIOMotorClient|AsyncMongoClient)\s*\(",
        Shape::Arg {
            pos: 0,
            kw: &["host"],
            format: F::Url,
        },
        MONGO,
        DB_KEYS,
    ),
    Site::new(
        "redis-from-url",
        T::Cache,
        "from_url",
        r"\b(?:redis|Redis|StrictRedis|aioredis|redis\.asyncio|ConnectionPool)\.from_url\s*\(",
        Shape::Arg {
            pos: 0,
            kw: &["url"],
            format: F::Url,
        },
        REDIS,
        CACHE_KEYS,
    ),
    Site::new(
        "redis-client",
        T::Cache,
        "Redis(",
        r"\b(?:redis\.|aioredis\.)?(?:Strict)?Redis\s*\(",
        Shape::Keys {
            positional: &[],
            nested: &[],
        },
        REDIS,
        CACHE_KEYS,
    ),
    Site::new(
        "celery-app",
        T::Cache,
        "Celery(",
        r"\bCelery\s*\(",
        Shape::Keys {
            positional: &[F::Literal],
            nested: &[],
        },
        REDIS,
        CELERY_KEYS,
    ),
    Site::new(
        "celery-conf",
        T::Cache,
        "conf.update",
        r"\.conf\.update\s*\(",
        Shape::Keys {
            positional: &[],
            nested: &[],
        },
        REDIS,
        CELERY_KEYS,
    ),
];

/// Configuration keys a library reads from the app's config (a Flask config
/// class, `app.config[…]`, a Celery config module), when the project uses it.
struct ConfigKey {
    key: &'static str,
    convention: &'static str,
    target: autodeploy_core::WiringTarget,
    /// The dependency that reads it (any of these).
    deps: &'static [&'static str],
}

const CONFIG_KEYS: &[ConfigKey] = &[
    ConfigKey {
        key: "sqlalchemy_database_uri",
        convention: "flask-sqlalchemy",
        target: T::Database,
        deps: &[
            "flask-sqlalchemy",
            "flask_sqlalchemy",
            "flask-sqlalchemy-lite",
        ],
    },
    ConfigKey {
        key: "broker_url",
        convention: "celery-config",
        target: T::Cache,
        deps: &["celery"],
    },
    ConfigKey {
        key: "celery_broker_url",
        convention: "celery-config",
        target: T::Cache,
        deps: &["celery"],
    },
    ConfigKey {
        key: "result_backend",
        convention: "celery-config",
        target: T::Cache,
        deps: &["celery"],
    },
    ConfigKey {
        key: "celery_result_backend",
        convention: "celery-config",
        target: T::Cache,
        deps: &["celery"],
    },
    ConfigKey {
        key: "cache_redis_url",
        convention: "flask-caching",
        target: T::Cache,
        deps: &["flask-caching"],
    },
    ConfigKey {
        key: "rq_redis_url",
        convention: "flask-rq2",
        target: T::Cache,
        deps: &["flask-rq2"],
    },
];

/// Python's expression syntax for wiring.
pub(super) struct Python;

/// Calls that read one environment variable: group 1 is the callee.
static ENV_CALL: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"\b((?:os\.)?environ\.get|(?:os\.)?getenv|os\.environ\.setdefault|env(?:\.(?:str|url|db|db_url|cache|cache_url|int|bool))?|config|dj_database_url\.config)\s*\(",
    )
});
static ENV_INDEX: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"\b(?:os\.)?environ\s*\[\s*["']([A-Za-z_]\w*)["']\s*\]"#));
static OR_DEFAULT: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"^\s*(?:\)\s*)?or\s+((?:f|r)?["'][^"'\n]*["'][^\n]*)"#));
static STR_PREFIX: LazyLock<Regex> = LazyLock::new(|| regex(r#"^([rRbBuU]?[fF]?[rR]?)(["'])"#));

impl Lang for Python {
    fn env_reads(&self, expr: &str) -> Vec<EnvRef> {
        let mut out = Vec::new();
        for m in ENV_CALL.captures_iter(expr) {
            let whole = m.get(0).expect("match");
            let callee = &m[1];
            let Some(args) = bracketed(expr, whole.end() - 1) else {
                continue;
            };
            let args = split_top(args);
            let kw = |k: &str| {
                args.iter()
                    .find_map(|a| key_value(a).and_then(|(key, v)| (key == k).then_some(v)))
            };
            let first = args.first().and_then(|a| unquote(a));
            let name = match callee {
                "dj_database_url.config" => {
                    Some(kw("env").and_then(unquote).unwrap_or("DATABASE_URL"))
                }
                "env.db" | "env.db_url" => Some(first.unwrap_or("DATABASE_URL")),
                "env.cache" | "env.cache_url" => Some(first.unwrap_or("CACHE_URL")),
                // decouple `config("X")` / environ `env("X")` read upper-case names.
                "config" | "env" => first.filter(|n| n.bytes().all(|b| !b.is_ascii_lowercase())),
                _ => first,
            };
            let Some(name) = name.filter(|n| crate::draft::is_env_name(n)) else {
                continue;
            };
            let positional_default = !matches!(callee, "dj_database_url.config")
                && args.get(1).is_some_and(|a| key_value(a).is_none());
            let mut default = kw("default")
                .or(positional_default.then(|| args[1]))
                .map(str::to_string);
            if default.is_none() {
                let after = &expr[whole.end() - 1..];
                let close = bracketed(after, 0).map_or(0, |a| a.len() + 2);
                if let Some(c) = OR_DEFAULT.captures(&after[close.min(after.len())..]) {
                    default = Some(c[1].to_string());
                }
            }
            out.push(EnvRef {
                name: name.to_string(),
                default,
                at: None,
            });
        }
        for c in ENV_INDEX.captures_iter(expr) {
            if !out.iter().any(|e| e.name == c[1]) {
                out.push(EnvRef::new(&c[1], None));
            }
        }
        out
    }

    fn template(&self, expr: &str) -> Option<(String, Vec<String>)> {
        let e = expr.trim();
        let e = e
            .strip_prefix("str(")
            .and_then(|x| x.strip_suffix(')'))
            .unwrap_or(e)
            .trim();
        // `PostgresDsn.build(scheme=…, username=…)`, `URL.create(drivername=…)`.
        if let Some(at) = e.find(".build(").or_else(|| e.find("URL.create(")) {
            let open = at + e[at..].find('(')?;
            return built_url(bracketed(e, open)?);
        }
        if let Some(c) = STR_PREFIX.captures(e) {
            let prefix = c[1].to_ascii_lowercase();
            let q = &c[2];
            let body_start = c.get(0)?.end();
            let close = e[body_start..].find(q)? + body_start;
            let body = &e[body_start..close];
            let rest = e[close + 1..].trim_start();
            if prefix.contains('f') {
                return Some(braces(body, |inner, _| inner.to_string()));
            }
            if let Some(call) = rest.strip_prefix(".format").filter(|r| r.starts_with('(')) {
                let args = split_top(bracketed(call, 0)?);
                let mut next = 0usize;
                return Some(braces(body, |inner, _| {
                    let key = inner.split([':', '!']).next().unwrap_or("").trim();
                    if key.is_empty() {
                        next += 1;
                        args.get(next - 1).copied().unwrap_or("").to_string()
                    } else if let Ok(i) = key.parse::<usize>() {
                        args.get(i).copied().unwrap_or("").to_string()
                    } else {
                        args.iter()
                            .find_map(|a| key_value(a).and_then(|(k, v)| (k == key).then_some(v)))
                            .unwrap_or("")
                            .to_string()
                    }
                }));
            }
            if let Some(args) = rest.strip_prefix('%') {
                let args = args.trim();
                let list = match args.strip_prefix('(') {
                    Some(_) => split_top(bracketed(args, 0)?),
                    None => vec![args],
                };
                return Some(crate::wiring::percent(body, &list));
            }
        }
        crate::wiring::concat(e, '+')
    }
}

/// `{expr}` holes of an f-string or `.format` template (`{{` is a brace).
fn braces(body: &str, mut hole_expr: impl FnMut(&str, usize) -> String) -> (String, Vec<String>) {
    let mut enc = String::new();
    let mut holes = Vec::new();
    let mut rest = body;
    while let Some(i) = rest.find('{') {
        if rest[i..].starts_with("{{") {
            enc.push_str(&rest[..i + 1]);
            rest = &rest[i + 2..];
            continue;
        }
        let Some(j) = rest[i..].find('}') else { break };
        enc.push_str(&rest[..i]);
        let inner = &rest[i + 1..i + j];
        let expr = hole_expr(inner.split('!').next().unwrap_or(inner), holes.len());
        enc.push_str(&hole(holes.len()));
        holes.push(expr);
        rest = &rest[i + j + 1..];
    }
    enc.push_str(rest);
    (enc, holes)
}

/// `Dsn.build(scheme=…, username=…, password=…, host=…, port=…, path=…)` as a template.
fn built_url(args: &str) -> Option<(String, Vec<String>)> {
    let args = split_top(args);
    let get = |keys: &[&str]| {
        args.iter().find_map(|a| {
            let (k, v) = key_value(a)?;
            keys.contains(&k).then_some(v)
        })
    };
    let scheme = get(&["scheme", "drivername"])
        .and_then(unquote)
        .unwrap_or("postgresql");
    let mut holes = Vec::new();
    let mut part = |keys: &[&str]| match get(keys) {
        Some(v) => {
            holes.push(v.to_string());
            hole(holes.len() - 1)
        }
        None => String::new(),
    };
    let user = part(&["username", "user"]);
    let password = part(&["password"]);
    let host = part(&["host"]);
    let port = part(&["port"]);
    let path = part(&["path", "database"]);
    let enc = format!("{scheme}://{user}:{password}@{host}:{port}/{path}");
    Some((enc, holes))
}

static ASSIGN: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(?m)^[ \t]*(?:self\.)?([A-Za-z_]\w*)\s*(?::\s*[\w\[\]., |]+?)?\s*=[ \t]*")
});
/// `celery.conf.broker_url = …`, `app.config.SQLALCHEMY_DATABASE_URI = …`:
/// a configuration object's attribute (group 1 the key).
static CONF_ATTR_ASSIGN: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?m)^[ \t]*[A-Za-z_][\w.]*\.conf(?:ig)?\.([A-Za-z_]\w*)\s*=[ \t]*"));
static SUBSCRIPT_ASSIGN: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"\[\s*["']([A-Za-z_]\w*)["']\s*\]\s*=[ \t]*"#));
static DICT_ENTRY: LazyLock<Regex> = LazyLock::new(|| regex(r#"["']([A-Za-z_]\w*)["']\s*:[ \t]*"#));
static KWARG_ENTRY: LazyLock<Regex> =
    LazyLock::new(|| regex(r"[(,]\s*([A-Z][A-Z0-9_]+)\s*=[ \t]*"));
static PROPERTY: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?m)^[ \t]+def\s+([A-Za-z_]\w*)\s*\(\s*self\b[^)]*\)[^:\n]*:"));
static CLASS: LazyLock<Regex> = LazyLock::new(|| regex(r"(?m)^class\s+(\w+)\s*\(([^)]*)\)\s*:"));

/// Names of the pydantic settings classes: `BaseSettings` subclasses, and
/// their subclasses in any file (`class AppSettings(BaseAppSettings)`).
fn settings_classes(texts: &[(&str, String)]) -> std::collections::HashSet<String> {
    let classes: Vec<(String, Vec<String>)> = texts
        .iter()
        .flat_map(|(_, t)| CLASS.captures_iter(t))
        .map(|c| {
            let bases = c[2]
                .split(',')
                .map(|b| b.trim().rsplit('.').next().unwrap_or("").to_string())
                .collect();
            (c[1].to_string(), bases)
        })
        .collect();
    let mut known: std::collections::HashSet<String> = ["BaseSettings".to_string()].into();
    loop {
        let before = known.len();
        for (name, bases) in &classes {
            if bases.iter().any(|b| known.contains(b)) {
                known.insert(name.clone());
            }
        }
        if known.len() == before {
            break;
        }
    }
    known.remove("BaseSettings");
    known
}
static FIELD: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^([A-Za-z_]\w*)\s*:\s*([^=#\n]+?)\s*(?:=\s*(.+))?$"));
static ENV_PREFIX: LazyLock<Regex> = LazyLock::new(|| regex(r#"env_prefix\s*=\s*["'](\w*)["']"#));
static ALIAS: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"\b(?:validation_alias|alias|env)\s*=\s*(?:AliasChoices\s*\(\s*)?["']([A-Za-z_]\w*)["']"#,
    )
});
static SQLITE_ENGINE: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"["']ENGINE["']\s*:\s*["']django\.db\.backends\.sqlite3["']"#));

/// The environment variable a pydantic settings field reads, and its default
/// (`None` for class-level settings that are not fields).
fn settings_fields(
    text: &str,
    classes: &std::collections::HashSet<String>,
) -> Vec<(String, EnvRef, usize)> {
    let mut out = Vec::new();
    for c in CLASS.captures_iter(text) {
        if !classes.contains(&c[1]) {
            continue;
        }
        let body_start = c.get(0).map_or(0, |m| m.end());
        let mut lines: Vec<(usize, &str)> = Vec::new();
        let mut offset = body_start;
        for (i, raw) in text[body_start..].split_inclusive('\n').enumerate() {
            let at = offset;
            offset += raw.len();
            if i == 0 {
                continue; // the rest of the `class …:` line
            }
            let l = raw.trim_end_matches('\n');
            if !l.trim().is_empty() && !l.starts_with([' ', '\t']) {
                break;
            }
            lines.push((at, l));
        }
        let indent = lines
            .iter()
            .find(|(_, l)| !l.trim().is_empty())
            .map(|(_, l)| l.len() - l.trim_start().len())
            .unwrap_or(4);
        let body: String = lines.iter().map(|(_, l)| *l).collect::<Vec<_>>().join("\n");
        let prefix = ENV_PREFIX
            .captures(&body)
            .map(|c| c[1].to_ascii_uppercase())
            .unwrap_or_default();
        for (i, (at, raw)) in lines.iter().enumerate() {
            if raw.len() - raw.trim_start().len() != indent {
                continue;
            }
            // A default that goes on over the next lines (`Field(\n default=…,\n alias=…)`).
            let mut joined = raw.trim().to_string();
            let mut j = i + 1;
            while joined.matches('(').count() > joined.matches(')').count()
                && j < lines.len()
                && j < i + 12
            {
                joined.push(' ');
                joined.push_str(lines[j].1.trim());
                j += 1;
            }
            let Some(c) = FIELD.captures(&joined) else {
                continue;
            };
            let field = &c[1];
            if field.starts_with('_') || field == "model_config" || c[2].contains("ClassVar") {
                continue;
            }
            let default = c.get(3).map(|d| d.as_str().trim());
            let env = default
                .and_then(|d| ALIAS.captures(d))
                .map(|a| a[1].to_string())
                .unwrap_or_else(|| format!("{prefix}{}", field.to_ascii_uppercase()));
            let default = default
                .map(|d| match d.strip_prefix("Field(") {
                    Some(args) => split_top(args.trim_end_matches(')'))
                        .into_iter()
                        .find_map(|a| {
                            let (k, v) = key_value(a)?;
                            (k == "default").then_some(v)
                        })
                        .or_else(|| {
                            split_top(args.trim_end_matches(')'))
                                .first()
                                .copied()
                                .filter(|a| key_value(a).is_none())
                        })
                        .unwrap_or("")
                        .to_string(),
                    None => d.to_string(),
                })
                .filter(|d| !d.is_empty() && d != "None");
            out.push((
                field.to_string(),
                EnvRef {
                    name: env,
                    default,
                    at: None,
                },
                *at + (raw.len() - raw.trim_start().len()),
            ));
        }
    }
    out
}

/// Add the Python service's wiring to `web` (its workers are cloned from it).
/// `NAME = "redis://redis:6379/0"`: a setting assigned a connection URL
/// literal (group 1 the name, 2 the quoted literal, 3 the scheme, 4 the
/// host).
static LITERAL_URL: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"(?m)^[ \t]*(?:[A-Za-z_][\w.]*\[[ \t]*["'])?([A-Z][A-Z0-9_]*)(?:["'][ \t]*\])?[ \t]*(?::[^=\n]*)?=[ \t]*(["']((?:rediss?|postgres(?:ql)?(?:\+\w+)?|mysql(?:\+\w+)?|mongodb(?:\+srv)?))://(?:[^@"'\s/]*@)?([^:/"'\s]+)[^"'\s]*["'])[ \t]*$"#,
    )
});

/// A host that exists only on the developer's machine or in their compose
/// network: loopback, or a bare service name (`db`, `redis`).
fn dev_only_host(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "0.0.0.0") || !host.contains('.')
}

/// Settings assigned a connection URL literal whose host exists only on the
/// developer's machine or in their compose network (`localhost`,
/// `127.0.0.1`, a bare service name such as `redis` or `db`), and read
/// elsewhere in the code (`current_app.config["REDIS_URL"]`) or by a library
/// that reads that key. The deployment's copy reads the variable of the same
/// name first, with the literal as its default (`os.environ.get("REDIS_URL",
/// "redis://redis:6379/0")`): a source fix per line, a warning per name, and
/// the name wired to the data service its scheme names.
fn hardcoded_urls(m: &Manifest, web: &mut Draft, texts: &[(&str, String)]) {
    let mut wired: Vec<String> = Vec::new();
    for (file, text) in texts {
        if !text.contains("://") {
            continue;
        }
        for c in LITERAL_URL.captures_iter(text) {
            let (name, literal, scheme, host) = (&c[1], &c[2], &c[3], &c[4]);
            if !dev_only_host(host) {
                continue;
            }
            let read_by_library = CONFIG_KEYS
                .iter()
                .any(|k| k.key.eq_ignore_ascii_case(name) && k.deps.iter().any(|d| m.has(d)));
            let read_in_code = texts
                .iter()
                .map(|(_, t)| t.matches(name).count())
                .sum::<usize>()
                > 1;
            if !read_by_library && !read_in_code {
                continue;
            }
            let (target, engines) = if scheme.starts_with("redis") {
                (T::Cache, REDIS)
            } else if scheme.starts_with("postgres") {
                (T::Database, PG)
            } else if scheme.starts_with("mysql") {
                (T::Database, MY)
            } else {
                (T::Database, MONGO)
            };
            let at = c.get(2).map(|g| g.start()).unwrap_or(0);
            let line = line_of(text, at);
            let os = if text.contains("import os") {
                "os"
            } else {
                "__import__(\"os\")"
            };
            web.finding(
                "hardcoded_connection_url",
                autodeploy_core::Severity::Warning,
                Some(file),
                Some(line),
                format!(
                    "{file}:{line} sets {name} to {literal}, a host that exists only on the developer's machine or in their compose network; the deployment's copy reads the {name} environment variable first (your repository is not changed) — read it from the environment"
                ),
                Some(autodeploy_core::SourceFix {
                    file: file.to_string(),
                    line,
                    find: literal.to_string(),
                    replace: format!("{os}.environ.get(\"{name}\", {literal})"),
                }),
            );
            if wired.iter().any(|w| w == name) {
                continue;
            }
            wired.push(name.to_string());
            let note = crate::wiring::note(text, line);
            web.wire(crate::wiring::fixed(
                "hardcoded-url",
                target,
                engines,
                &[(name, F::Url)],
                &ev(file, Some(line), note),
            ));
        }
    }
}

/// `sqlalchemy.url = postgresql+asyncpg://postgres:postgres@db:5432/foo` in
/// alembic.ini (group 1 the URL, 2 its scheme, 3 its host).
static ALEMBIC_URL: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?m)^sqlalchemy\.url\s*=\s*((postgres(?:ql)?(?:\+\w+)?|mysql(?:\+\w+)?)://(?:[^@\s/]*@)?([^:/\s]+)\S*)\s*$",
    )
});

/// An Alembic project whose `alembic.ini` writes the database URL for the
/// developer's machine or compose network (`@db:5432`, `@localhost`) and
/// whose `env.py` reads no environment: `alembic upgrade head` (the release
/// step) would connect there. The deployment's copy of `env.py` sets
/// `sqlalchemy.url` from the environment first — the variable the app
/// itself reads its URL from (`DATABASE_URL` when none), wired in the
/// ini's scheme (`postgresql+asyncpg`).
pub(super) fn alembic_ini_url(ctx: &Ctx, dir: &str, web: &mut Draft) {
    let ini_path = crate::repo::join(dir, "alembic.ini");
    let Some(ini) = ctx.read_path(&ini_path) else {
        return;
    };
    let Some(c) = ALEMBIC_URL.captures(&ini) else {
        return;
    };
    let (url, scheme, host) = (c[1].to_string(), c[2].to_string(), c[3].to_string());
    if !dev_only_host(&host) || url.contains("%(") {
        return;
    }
    let env_path = crate::repo::join(&super::migrations::script_location(&ini, dir), "env.py");
    let Some(env_py) = ctx.read_path(&env_path) else {
        return;
    };
    if env_py.contains("environ") || env_py.contains("getenv") || env_py.contains("set_main_option")
    {
        return;
    }
    let Some((line, text)) = env_py
        .lines()
        .enumerate()
        .find(|(_, l)| l.trim() == "config = context.config")
    else {
        return;
    };
    let line = line as u32 + 1;
    let engine = if scheme.starts_with("mysql") {
        Database::Mysql
    } else {
        Database::Postgresql
    };
    // The name the app reads its URL from, when it reads one.
    let name = web
        .wiring
        .iter()
        .filter(|w| w.target == T::Database)
        .flat_map(|w| w.settings.iter())
        .find(|s| s.format == F::Url)
        .map(|s| s.name.clone())
        .unwrap_or_else(|| "DATABASE_URL".into());
    let indent = &text[..text.len() - text.trim_start().len()];
    web.finding(
        "hardcoded_connection_url",
        autodeploy_core::Severity::Warning,
        Some(&ini_path),
        Some(line_of(&ini, c.get(1).map_or(0, |m| m.start()))),
        format!(
            "{ini_path} sets sqlalchemy.url to {url}, a host that exists only on the developer's machine or in their compose network, and {env_path} reads no environment: the deployment's copy of {env_path} sets it from {name} first (your repository is not changed)"
        ),
        Some(autodeploy_core::SourceFix {
            file: env_path.clone(),
            line,
            find: "config = context.config".into(),
            replace: format!(
                "config = context.config\n{indent}config.set_main_option(\"sqlalchemy.url\", __import__(\"os\").environ.get(\"{name}\", config.get_main_option(\"sqlalchemy.url\")).replace(\"%\", \"%%\"))"
            ),
        }),
    );
    // The app's own URL setting: the ini's driver scheme is the project's
    // word on it when the code says none.
    let mut found = false;
    for st in web
        .wiring
        .iter_mut()
        .filter(|w| w.target == T::Database)
        .flat_map(|w| w.settings.iter_mut())
        .filter(|st| st.name == name && st.format == F::Url)
    {
        found = true;
        st.values.entry(engine).or_insert_with(|| scheme.clone());
    }
    if found {
        return;
    }
    let mut w = crate::wiring::fixed(
        "alembic-ini",
        T::Database,
        &[engine],
        &[(&name, F::Url)],
        &ev(&env_path, Some(line), text.trim().to_string()),
    );
    for s in &mut w.settings {
        s.values.insert(engine, scheme.clone());
    }
    web.wire(w);
}

/// `NAME.startswith("postgres://")` or `os.environ["NAME"].startswith(…)`:
/// code that branches on the URL's scheme (group 1 the variable or setting
/// the test reads through, when named).
static POSTGRES_SCHEME_TEST: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"(?:\[\s*["']([A-Za-z_][A-Za-z0-9_]*)["']\s*\]|\b([A-Za-z_][A-Za-z0-9_]*))\s*\.startswith\(\s*["']postgres://["']"#,
    )
});

/// A database URL setting the code tests for the `postgres://` scheme
/// (`if os.environ["DATABASE_URL"].startswith("postgres://"):
/// INSTALLED_APPS.append("django.contrib.postgres")`, the Heroku form): the
/// deployment gives it in that form, or the branch the app needs on
/// PostgreSQL is never taken.
pub(super) fn postgres_scheme_tests(ctx: &Ctx, web: &mut Draft, sources: &[&str]) {
    let mut tested: Vec<String> = Vec::new();
    for f in sources {
        let Some(text) = ctx.read_path(f) else {
            continue;
        };
        if !text.contains("postgres://") {
            continue;
        }
        for c in POSTGRES_SCHEME_TEST.captures_iter(&text) {
            if let Some(n) = c.get(1).or_else(|| c.get(2)) {
                tested.push(n.as_str().to_string());
            }
        }
    }
    if tested.is_empty() {
        return;
    }
    for w in web.wiring.iter_mut().filter(|w| w.target == T::Database) {
        for s in w.settings.iter_mut().filter(|s| s.format == F::Url) {
            if tested.contains(&s.name) {
                s.values
                    .insert(Database::Postgresql, "postgres".to_string());
            }
        }
    }
}

/// SQLAlchemy with psycopg 3 only: a `postgresql://` URL loads psycopg2
/// (SQLAlchemy before 2.1), which is not installed (`No module named
/// 'psycopg2'`); the URL SQLAlchemy reads names the driver the project has,
/// `postgresql+psycopg://`, when the code's own default did not already.
pub(super) fn psycopg3_scheme(m: &Manifest, web: &mut Draft) {
    let psycopg3 = m.has("psycopg") || m.has("psycopg-binary");
    let psycopg2 = m.has("psycopg2") || m.has("psycopg2-binary");
    if !psycopg3 || psycopg2 {
        return;
    }
    for w in web.wiring.iter_mut().filter(|w| {
        w.target == T::Database
            && matches!(
                w.convention.as_str(),
                "flask-sqlalchemy" | "sqlalchemy-create-engine"
            )
    }) {
        for s in w.settings.iter_mut().filter(|s| s.format == F::Url) {
            s.values
                .entry(Database::Postgresql)
                .or_insert_with(|| "postgresql+psycopg".to_string());
        }
    }
}

/// `REDIS_URL = os.getenv('REDISTOGO_URL', …)` anywhere in a line (a class
/// body's setting too): group 1 the name, 2 the variable.
static ENV_READ_INTO: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"(?m)^[ \t]*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?:os\.)?(?:getenv|environ\.get)\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']"#,
    )
});

/// A Redis URL the code takes apart (`url = urlparse(REDIS_URL)`, then
/// `url.hostname`, `url.port`, `url.password`) and connects with by its
/// parts (hack4impact's flask-base: `Redis(host=…, port=…, password=…)`,
/// RQ's `RQ_DEFAULT_HOST`…): the scheme is thrown away, so a `rediss://`
/// URL would not turn TLS on. The setting is marked as expecting the
/// `redis` scheme, which tells decide the client does not do TLS.
pub(super) fn split_cache_urls(ctx: &Ctx, web: &mut Draft, sources: &[&str]) {
    for file in sources {
        let Some(text) = ctx.read_path(file) else {
            continue;
        };
        if !text.contains("urlparse") && !text.contains("urlsplit") {
            continue;
        }
        for c in ENV_READ_INTO.captures_iter(&text) {
            let (var, env) = (&c[1], &c[2]);
            let up = env.to_ascii_uppercase();
            if !(up.contains("REDIS") || up.contains("VALKEY")) {
                continue;
            }
            let split = regex(&format!(
                r"\b(\w+)\s*=\s*(?:[\w.]+\.)?url(?:parse|split)\(\s*{}\s*\)",
                regex::escape(var)
            ));
            let Some(parsed) = split.captures(&text) else {
                continue;
            };
            let by_parts = format!("{}.hostname", &parsed[1]);
            let by_scheme = format!("{}.scheme", &parsed[1]);
            if !text.contains(&by_parts) || text.contains(&by_scheme) {
                continue;
            }
            let line = line_of(&text, c.get(0).map_or(0, |g| g.start()));
            let evidence = ev(file, Some(line), crate::wiring::note(&text, line));
            let plain = || (Database::Redis, "redis".to_string());
            match web
                .wiring
                .iter_mut()
                .filter(|w| w.target == T::Cache)
                .find_map(|w| w.settings.iter_mut().find(|s| s.name == env))
            {
                Some(setting) => {
                    setting.values.extend([plain()]);
                }
                None => web.wiring.push(Wiring {
                    target: T::Cache,
                    convention: "python-url-split".into(),
                    engines: REDIS.to_vec(),
                    settings: vec![autodeploy_core::WiringSetting {
                        name: env.to_string(),
                        format: F::Url,
                        values: [plain()].into(),
                        value: None,
                        evidence,
                    }],
                    sqlite_fallback: None,
                }),
            }
        }
    }
}

/// `if os.getenv("DB") == "postgres":` / `if os.environ.get("DB") in
/// ["mysql", "mariadb"]:` / `if DB_ENGINE == "postgres":` (group 1 the
/// indentation, 2 the variable read in the test, 3 a name the test reads
/// instead, 4 the compared literal, 5 the listed ones).
static ENGINE_SELECTOR: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"(?m)^([ \t]*)(?:el)?if\s+(?:(?:os\.)?(?:getenv|environ\.get)\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']\s*(?:,[^)]*)?\)|([A-Za-z_][A-Za-z0-9_]*))\s*(?:==\s*["'](\w+)["']|in\s*[\[(]([^\])]*)[\])])\s*:"#,
    )
});

/// `DB_ENGINE = os.getenv("LD_DB_ENGINE", "sqlite")` at the top of a line:
/// the name (group 1) holds the variable's value (group 2).
static ENV_ASSIGNED: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"(?m)^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?:os\.)?(?:getenv|environ\.get)\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']"#,
    )
});

/// Settings (`DATABASES = {…}`) assigned only under a test of an
/// environment variable naming the engine (`if os.getenv("DB") ==
/// "postgres":`, else SQLite): the variable selects the database, so the
/// wiring sets it to the value that selects the provisioned engine —
/// without it the app keeps its SQLite file and the database is unused.
pub(super) fn engine_selectors(ctx: &Ctx, web: &mut Draft, sources: &[&str]) {
    let mut found: Vec<(
        String,
        std::collections::BTreeMap<Database, String>,
        String,
        u32,
    )> = Vec::new();
    for f in sources {
        let Some(text) = ctx.read_path(f) else {
            continue;
        };
        if !text.contains("DATABASES") {
            continue;
        }
        let assigned: std::collections::HashMap<&str, &str> = ENV_ASSIGNED
            .captures_iter(&text)
            .filter_map(|c| Some((c.get(1)?.as_str(), c.get(2)?.as_str())))
            .collect();
        for c in ENGINE_SELECTOR.captures_iter(&text) {
            // The test reads the variable itself, or a name assigned from it.
            let name = match (c.get(2), c.get(3)) {
                (Some(var), _) => var.as_str().to_string(),
                (None, Some(alias)) => match assigned.get(alias.as_str()) {
                    Some(var) => var.to_string(),
                    None => continue,
                },
                _ => continue,
            };
            let indent = c[1].len();
            let end = c.get(0).map_or(0, |g| g.end());
            // The block: following lines indented deeper than the `if`.
            let block: String = text[end..]
                .lines()
                .skip(1)
                .take_while(|l| l.trim().is_empty() || l.len() - l.trim_start().len() > indent)
                .collect::<Vec<_>>()
                .join("\n");
            // The block assigns the settings, or the engine they are made of
            // (`default_database = {"ENGINE": "django.db.backends.…"}`).
            if !block.contains("DATABASES") && !block.contains("django.db.backends.") {
                continue;
            }
            let literals: Vec<String> = match (c.get(4), c.get(5)) {
                (Some(one), _) => vec![one.as_str().to_string()],
                (None, Some(list)) => list
                    .as_str()
                    .split(',')
                    .map(|x| x.trim().trim_matches(['"', '\'']).to_string())
                    .filter(|x| !x.is_empty())
                    .collect(),
                _ => continue,
            };
            let line = line_of(&text, c.get(0).map_or(0, |g| g.start()) + indent);
            let i = match found.iter().position(|(n, ..)| *n == name) {
                Some(i) => i,
                None => {
                    found.push((name, Default::default(), f.to_string(), line));
                    found.len() - 1
                }
            };
            for lit in literals {
                let db = match lit.to_ascii_lowercase().as_str() {
                    "postgres" | "postgresql" | "pg" | "psql" => Database::Postgresql,
                    "mysql" | "mariadb" => Database::Mysql,
                    _ => continue,
                };
                found[i].1.entry(db).or_insert(lit);
            }
        }
    }
    for (name, values, file, line) in found.into_iter().filter(|f| !f.1.is_empty()) {
        let note = ctx
            .read_path(&file)
            .map(|t| crate::wiring::note(&t, line))
            .unwrap_or_default();
        for w in web.wiring.iter_mut().filter(|w| w.target == T::Database) {
            if w.settings.iter().any(|s| s.name == name) {
                continue;
            }
            w.settings.push(autodeploy_core::WiringSetting {
                name: name.clone(),
                format: F::Engine,
                values: values.clone(),
                value: None,
                evidence: ev(&file, Some(line), note.clone()),
            });
        }
    }
}

/// `wrappers`: the project's own env-reading helpers (`CodeFacts::env_wrappers`).
pub(super) fn scan(
    ctx: &Ctx,
    m: &Manifest,
    web: &mut Draft,
    sources: &[&str],
    wrappers: &[String],
) {
    let lang = Python;
    let mut resolver = Resolver::new(&lang);
    resolver.known = web.env.iter().map(|e| e.name.clone()).collect();
    let mut texts: Vec<(&str, String)> = sources
        .iter()
        .filter_map(|f| ctx.read_path(f).map(|t| (*f, mask_comments(&t))))
        .collect();
    if !wrappers.is_empty() {
        for (_, t) in texts.iter_mut() {
            *t = super::code::with_env_wrappers(t, wrappers);
        }
    }
    hardcoded_urls(m, web, &texts);
    // Nothing below can find a wiring unless a connection site's anchor is in
    // some file or a library with configuration keys is declared: then the
    // bindings need not be gathered (nor their patterns compiled).
    let any_site = texts
        .iter()
        .any(|(_, t)| SITES.iter().any(|s| t.contains(s.anchor)));
    let any_config_key = CONFIG_KEYS.iter().any(|k| k.deps.iter().any(|d| m.has(d)));
    if !any_site && !any_config_key {
        return;
    }
    // Pass 1: names bound to environment reads (settings fields first: they are the names).
    let classes = settings_classes(&texts);
    for (file, text) in &texts {
        for (field, env, at) in settings_fields(text, &classes) {
            let line = line_of(text, at);
            let note = crate::wiring::note(text, line);
            resolver.bind_env(&field, env, file, line, &note);
        }
    }
    let mut candidates = Vec::new();
    for (file, text) in &texts {
        crate::wiring::assignments(
            file,
            text,
            &[
                &*ASSIGN,
                &*CONF_ATTR_ASSIGN,
                &*SUBSCRIPT_ASSIGN,
                &*DICT_ENTRY,
                &*KWARG_ENTRY,
            ],
            &['='],
            &mut candidates,
        );
    }
    resolver.bind_all(candidates);
    // Properties that return a connection string (`def SQLALCHEMY_DATABASE_URI(self)`).
    for (file, text) in &texts {
        for c in PROPERTY.captures_iter(text) {
            let m = c.get(0).expect("match");
            let body = &text[m.end()..];
            let end = body
                .find("\n    def ")
                .or_else(|| body.find("\nclass "))
                .unwrap_or(body.len());
            if let Some(r) = body[..end.min(2000)].find("return ") {
                let at = m.end() + r + "return ".len();
                resolver.bind(&c[1], assigned_expr(&text[at..]), file, text, at);
            }
        }
    }
    // Pass 2: connection sites.
    let mut found: Vec<Wiring> = Vec::new();
    for (file, text) in &texts {
        let before = found.len();
        scan_sites(text, file, SITES, &resolver, &mut found);
        // Django: a literal SQLite `DATABASES` beside an env override is the fallback.
        if let Some((line, _)) = crate::scan::first_match(text, &SQLITE_ENGINE) {
            for w in &mut found[before..] {
                if w.target == T::Database && w.sqlite_fallback.is_none() {
                    w.sqlite_fallback =
                        Some(ev(file, Some(line), "Django's default SQLite database"));
                }
            }
        }
    }
    // Configuration keys a library reads (Flask-SQLAlchemy, Celery…).
    for k in CONFIG_KEYS {
        if !k.deps.iter().any(|d| m.has(d)) {
            continue;
        }
        let Some((mut r, b)) = resolver.lookup_any(k.key) else {
            continue;
        };
        let site = Site::new(
            k.convention,
            k.target,
            "",
            "",
            Shape::Assign { format: F::Url },
            if k.target == T::Cache { REDIS } else { &[] },
            DB_KEYS,
        );
        if !r.parts {
            for s in &mut r.settings {
                s.1 = F::Url;
            }
        }
        found.extend(crate::wiring::wiring_from(
            &site,
            &r,
            &b.file,
            b.line,
            &b.note,
            &[],
        ));
    }
    for w in found {
        web.wire(w);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::MemRepo;
    use autodeploy_core::{Language, ServiceKind};

    fn wiring(files: &[(&str, &str)], deps: &[&str]) -> Vec<Wiring> {
        let repo = MemRepo::new(files.iter().copied());
        let ctx = Ctx::new(&repo);
        let mut m = Manifest::default();
        for d in deps {
            m.deps.insert(
                d.to_string(),
                super::super::manifest::Dep {
                    file: "requirements.txt".into(),
                    line: 1,
                    raw: d.to_string(),
                },
            );
        }
        let mut d = Draft::new("", Language::Python, ServiceKind::Web);
        let sources: Vec<&str> = files
            .iter()
            .map(|(f, _)| *f)
            .filter(|f| f.ends_with(".py"))
            .collect();
        let texts: Vec<&str> = files.iter().map(|(_, t)| *t).collect();
        let wrappers = super::super::code::env_wrappers(&texts);
        scan(&ctx, &m, &mut d, &sources, &wrappers);
        postgres_scheme_tests(&ctx, &mut d, &sources);
        engine_selectors(&ctx, &mut d, &sources);
        d.wiring
    }

    /// A project helper that reads the variable its first argument names is
    /// an environment read; a `DATABASES` dict assigned only under `if
    /// os.getenv("DB") == "postgres":` makes `DB` the engine selector.
    #[test]
    fn env_helpers_and_an_engine_selector_are_wired() {
        let settings = "import os\n\n\ndef envsecret(s: str, default: str | None = None) -> str | None:\n    if path := os.getenv(s + \"_FILE\"):\n        return open(path).read()\n\n    return os.getenv(s, default)\n\n\nDATABASES = {\n    \"default\": {\n        \"ENGINE\": \"django.db.backends.sqlite3\",\n        \"NAME\": os.getenv(\"DB_NAME\", \"hc.sqlite\"),\n    }\n}\n\nif os.getenv(\"DB\") == \"postgres\":\n    DATABASES = {\n        \"default\": {\n            \"ENGINE\": \"django.db.backends.postgresql\",\n            \"HOST\": os.getenv(\"DB_HOST\", \"\"),\n            \"NAME\": os.getenv(\"DB_NAME\", \"hc\"),\n            \"USER\": os.getenv(\"DB_USER\", \"postgres\"),\n            \"PASSWORD\": envsecret(\"DB_PASSWORD\", \"\"),\n        }\n    }\n\nif os.getenv(\"DB\") in [\"mysql\", \"mariadb\"]:\n    DATABASES = {\n        \"default\": {\n            \"ENGINE\": \"django.db.backends.mysql\",\n            \"HOST\": os.getenv(\"DB_HOST\", \"\"),\n        }\n    }\n";
        let w = wiring(&[("hc/settings.py", settings)], &["django"]);
        let db = w.iter().find(|w| w.target == T::Database).unwrap();
        let names: Vec<&str> = db.settings.iter().map(|s| s.name.as_str()).collect();
        assert!(names.contains(&"DB_PASSWORD"), "{names:?}");
        let sel = db
            .settings
            .iter()
            .find(|s| s.name == "DB")
            .expect("the selector");
        assert_eq!(sel.format, F::Engine);
        assert_eq!(
            sel.values.get(&Database::Postgresql).map(String::as_str),
            Some("postgres")
        );
        assert_eq!(
            sel.values.get(&Database::Mysql).map(String::as_str),
            Some("mysql")
        );
        assert_eq!(sel.evidence.line, Some(18));
    }

    /// alembic.ini's URL for a compose host, with an env.py that reads no
    /// environment: the copy's env.py sets it from the app's variable, and
    /// the ini's driver scheme is kept.
    #[test]
    fn an_alembic_ini_url_for_a_compose_host_reads_the_environment_first() {
        let ini = "[alembic]\nscript_location = migrations\nsqlalchemy.url = postgresql+asyncpg://postgres:postgres@db:5432/foo\n";
        let env_py = "from alembic import context\nconfig = context.config\nurl = config.get_main_option(\"sqlalchemy.url\")\n";
        let repo = MemRepo::new([("alembic.ini", ini), ("migrations/env.py", env_py)]);
        let ctx = Ctx::new(&repo);
        let mut d = Draft::new("", Language::Python, ServiceKind::Web);
        alembic_ini_url(&ctx, "", &mut d);
        let fix = d.findings[0].fix.clone().expect("a fix");
        assert_eq!((fix.file.as_str(), fix.line), ("migrations/env.py", 2));
        assert!(
            fix.replace.contains("environ.get(\"DATABASE_URL\""),
            "{}",
            fix.replace
        );
        let w = d
            .wiring
            .iter()
            .find(|w| w.convention == "alembic-ini")
            .unwrap();
        assert_eq!(
            w.settings[0]
                .values
                .get(&Database::Postgresql)
                .map(String::as_str),
            Some("postgresql+asyncpg")
        );
        // An env.py that reads the environment is the project's own wiring.
        let repo = MemRepo::new([
            ("alembic.ini", ini),
            ("migrations/env.py", "import os\nfrom alembic import context\nconfig = context.config\nconfig.set_main_option('sqlalchemy.url', os.environ['DATABASE_URL'])\n"),
        ]);
        let ctx = Ctx::new(&repo);
        let mut d = Draft::new("", Language::Python, ServiceKind::Web);
        alembic_ini_url(&ctx, "", &mut d);
        assert!(d.findings.is_empty() && d.wiring.is_empty());
    }

    /// `Redis(host=app.config['RQ_DEFAULT_HOST'])` reads a config key: the
    /// `app` holding it (`create_app(os.getenv('FLASK_CONFIG'))`) is not
    /// the host.
    #[test]
    fn a_config_key_is_not_the_object_holding_it() {
        let manage = "import os\nfrom redis import Redis\napp = create_app(os.getenv('FLASK_CONFIG') or 'default')\n\ndef run_worker():\n    conn = Redis(\n        host=app.config['RQ_DEFAULT_HOST'],\n        port=app.config['RQ_DEFAULT_PORT'])\n";
        let w = wiring(&[("manage.py", manage)], &["redis", "flask"]);
        for x in &w {
            assert!(x.settings.iter().all(|s| s.name != "FLASK_CONFIG"), "{w:?}");
        }
    }

    /// The selector read into a name first (`LD_DB_ENGINE =
    /// os.getenv("LD_DB_ENGINE", "sqlite")`, then `if LD_DB_ENGINE ==
    /// "postgres":` around the engine of a dict that becomes `DATABASES`).
    #[test]
    fn an_engine_selector_read_into_a_name_is_wired() {
        let settings = "import os\nLD_DB_ENGINE = os.getenv(\"LD_DB_ENGINE\", \"sqlite\")\nLD_DB_HOST = os.getenv(\"LD_DB_HOST\", \"localhost\")\nLD_DB_DATABASE = os.getenv(\"LD_DB_DATABASE\", \"linkding\")\nLD_DB_USER = os.getenv(\"LD_DB_USER\", \"linkding\")\nLD_DB_PASSWORD = os.getenv(\"LD_DB_PASSWORD\", None)\n\nif LD_DB_ENGINE == \"postgres\":\n    default_database = {\n        \"ENGINE\": \"django.db.backends.postgresql_psycopg2\",\n        \"NAME\": LD_DB_DATABASE,\n        \"USER\": LD_DB_USER,\n        \"PASSWORD\": LD_DB_PASSWORD,\n        \"HOST\": LD_DB_HOST,\n    }\nelse:\n    default_database = {\"ENGINE\": \"django.db.backends.sqlite3\"}\n\nDATABASES = {\"default\": default_database}\n\nDEBUG = False\nif DEBUG == \"postgres\":\n    pass\n";
        let w = wiring(&[("app/settings/base.py", settings)], &["django"]);
        let db = w.iter().find(|w| w.target == T::Database).expect("wired");
        let sel = db
            .settings
            .iter()
            .find(|s| s.name == "LD_DB_ENGINE")
            .unwrap_or_else(|| panic!("the selector: {db:?}"));
        assert_eq!(sel.format, F::Engine);
        assert_eq!(
            sel.values.get(&Database::Postgresql).map(String::as_str),
            Some("postgres")
        );
        assert_eq!(sel.evidence.line, Some(8));
        let names: Vec<&str> = db.settings.iter().map(|s| s.name.as_str()).collect();
        for n in [
            "LD_DB_HOST",
            "LD_DB_DATABASE",
            "LD_DB_USER",
            "LD_DB_PASSWORD",
        ] {
            assert!(names.contains(&n), "{n} in {names:?}");
        }
        // A name not read from the environment selects nothing.
        assert!(!db.settings.iter().any(|s| s.name == "DEBUG"), "{db:?}");
    }

    /// Code that tests the URL for `postgres://` gets it in that form; a
    /// `.replace("postgres://", …)` alone changes nothing.
    #[test]
    fn a_scheme_test_on_the_database_url_asks_for_postgres() {
        let settings = "import os\nimport dj_database_url\nINSTALLED_APPS = []\nif \"DATABASE_URL\" in os.environ:\n    DATABASES = {\"default\": dj_database_url.config(conn_max_age=500)}\n    if os.environ[\"DATABASE_URL\"].startswith(\"postgres://\"):\n        INSTALLED_APPS.append(\"django.contrib.postgres\")\n";
        let w = wiring(&[("settings.py", settings)], &["django", "dj-database-url"]);
        let db = w.iter().find(|w| w.target == T::Database).unwrap();
        let url = db
            .settings
            .iter()
            .find(|s| s.name == "DATABASE_URL")
            .unwrap();
        assert_eq!(
            url.values.get(&Database::Postgresql).map(String::as_str),
            Some("postgres")
        );

        let replaced = "import os\nSQLALCHEMY_DATABASE_URI = os.environ.get('DATABASE_URL', '').replace('postgres://', 'postgresql://')\n";
        let w = wiring(&[("config.py", replaced)], &["flask", "flask-sqlalchemy"]);
        let db = w.iter().find(|w| w.target == T::Database).unwrap();
        assert!(db.settings[0].values.is_empty(), "{db:?}");
    }

    fn names(w: &Wiring) -> Vec<(String, &'static str)> {
        w.settings
            .iter()
            .map(|s| (s.name.clone(), s.format.as_str()))
            .collect()
    }

    #[test]
    fn tortoise_reads_its_db_url_keyword() {
        let w = wiring(
            &[(
                "app/db.py",
                "import os\nfrom tortoise.contrib.fastapi import register_tortoise\n\ndef init_db(app):\n    register_tortoise(\n        app,\n        db_url=os.environ.get(\"DATABASE_URL\"),\n        modules={\"models\": [\"app.models\"]},\n    )\n",
            )],
            &["tortoise-orm"],
        );
        let t = w.iter().find(|w| w.convention == "tortoise-orm").unwrap();
        assert_eq!(names(t), [("DATABASE_URL".to_string(), "url")]);
        assert_eq!(
            t.settings[0]
                .values
                .get(&Database::Postgresql)
                .map(String::as_str),
            Some("postgres")
        );
    }

    #[test]
    fn celery_conf_attributes_are_its_configuration_keys() {
        let w = wiring(
            &[(
                "worker.py",
                "import os\nfrom celery import Celery\ncelery = Celery(__name__)\ncelery.conf.broker_url = os.environ.get(\"CELERY_BROKER_URL\", \"redis://localhost:6379\")\ncelery.conf.result_backend = os.environ.get(\"CELERY_RESULT_BACKEND\", \"redis://localhost:6379\")\n",
            )],
            &["celery"],
        );
        let celery = w.iter().find(|w| w.convention == "celery-config").unwrap();
        assert_eq!(
            names(celery),
            [
                ("CELERY_BROKER_URL".to_string(), "url"),
                ("CELERY_RESULT_BACKEND".to_string(), "url")
            ]
        );
    }

    /// flask-nickjj: `celery.conf.update(app.config.get("CELERY_CONFIG"))`
    /// whose dict's first read is the log level: the broker is the value
    /// under `broker_url`, not the first `os.getenv` of the block.
    #[test]
    fn a_celery_config_dict_is_read_by_its_keys() {
        let w = wiring(
            &[
                (
                    "config/settings.py",
                    "import os\nREDIS_URL = os.getenv(\"REDIS_URL\", \"redis://redis:6379/0\")\nCELERY_CONFIG = {\n    \"worker_log_level\": os.getenv(\"CELERY_LOG_LEVEL\", \"info\"),\n    \"broker_url\": REDIS_URL,\n    \"result_backend\": REDIS_URL,\n}\n",
                ),
                (
                    "hello/app.py",
                    "from celery import Celery\ndef make(app):\n    celery = Celery(app.import_name)\n    celery.conf.update(app.config.get(\"CELERY_CONFIG\", {}))\n    return celery\n",
                ),
            ],
            &["celery"],
        );
        let read: Vec<String> = w
            .iter()
            .filter(|w| w.convention.starts_with("celery"))
            .flat_map(|w| names(w).into_iter().map(|(n, _)| n))
            .collect();
        assert!(read.contains(&"REDIS_URL".to_string()), "{w:?}");
        assert!(!read.contains(&"CELERY_LOG_LEVEL".to_string()), "{w:?}");
    }

    #[test]
    fn literal_urls_for_local_or_compose_hosts_read_the_environment_first() {
        let files = [
            (
                "config.py",
                "class Base:\n    REDIS_URL = \"redis://redis:6379/0\"\n    SQLALCHEMY_DATABASE_URI = 'postgresql://u:p@db.example.com:5432/app'\n    OTHER_URL = \"postgresql://localhost/x\"\n",
            ),
            (
                "views.py",
                "import os\nurl = app.config[\"REDIS_URL\"]\nx = app.config[\"SQLALCHEMY_DATABASE_URI\"]\n",
            ),
        ];
        let repo = MemRepo::new(files.iter().copied());
        let ctx = Ctx::new(&repo);
        let mut d = Draft::new("", Language::Python, ServiceKind::Web);
        scan(
            &ctx,
            &Manifest::default(),
            &mut d,
            &["config.py", "views.py"],
            &[],
        );
        let fixes: Vec<_> = d
            .findings
            .iter()
            .filter(|f| f.kind == "hardcoded_connection_url")
            .filter_map(|f| f.fix.clone())
            .collect();
        // The compose host is made an environment read (config.py does not
        // import os); the real host and the name nothing reads are left.
        assert_eq!(fixes.len(), 1, "{fixes:?}");
        assert_eq!(fixes[0].line, 2);
        assert_eq!(
            fixes[0].replace,
            "__import__(\"os\").environ.get(\"REDIS_URL\", \"redis://redis:6379/0\")"
        );
        let w = d
            .wiring
            .iter()
            .find(|w| w.convention == "hardcoded-url")
            .unwrap();
        assert_eq!(w.target, T::Cache);
        assert_eq!(names(w), [("REDIS_URL".to_string(), "url")]);
    }

    /// The subscript form (`app.config['CELERY_BROKER_URL'] =
    /// 'redis://localhost:6379/0'`) is a setting assigned a literal too.
    #[test]
    fn a_literal_url_assigned_by_subscript_reads_the_environment_first() {
        let app = "import os\napp.config['CELERY_BROKER_URL'] = 'redis://localhost:6379/0'\napp.config['CELERY_RESULT_BACKEND'] = 'redis://localhost:6379/0'\ncelery = Celery(app.name, broker=app.config['CELERY_BROKER_URL'])\ncelery.conf.update(app.config)\n";
        let repo = MemRepo::new([("app.py", app)]);
        let ctx = Ctx::new(&repo);
        let mut d = Draft::new("", Language::Python, ServiceKind::Web);
        scan(&ctx, &Manifest::default(), &mut d, &["app.py"], &[]);
        let fixes: Vec<(u32, String)> = d
            .findings
            .iter()
            .filter_map(|f| f.fix.as_ref())
            .map(|f| (f.line, f.replace.clone()))
            .collect();
        assert_eq!(
            fixes,
            vec![(
                2,
                "os.environ.get(\"CELERY_BROKER_URL\", 'redis://localhost:6379/0')".to_string()
            )],
            "the backend is read by nothing but Celery's conf.update, which needs the dependency"
        );
        let w = d
            .wiring
            .iter()
            .find(|w| w.convention == "hardcoded-url")
            .unwrap();
        assert_eq!(names(w), [("CELERY_BROKER_URL".to_string(), "url")]);
    }

    #[test]
    fn django_databases_from_env_parts() {
        let w = wiring(
            &[(
                "app/settings.py",
                r#"import os
DATABASES = {
    "default": {
        "ENGINE": os.environ.get("SQL_ENGINE", "django.db.backends.sqlite3"),
        "NAME": os.environ.get("SQL_DATABASE", BASE_DIR / "db.sqlite3"),
        "USER": os.environ.get("SQL_USER", "user"),
        "PASSWORD": os.environ.get("SQL_PASSWORD", "password"),
        "HOST": os.environ.get("SQL_HOST", "localhost"),
        "PORT": os.environ.get("SQL_PORT", "5432"),
    }
}
"#,
            )],
            &["django"],
        );
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].convention, "django-databases");
        assert_eq!(
            names(&w[0]),
            vec![
                ("SQL_ENGINE".into(), "engine"),
                ("SQL_DATABASE".into(), "name"),
                ("SQL_USER".into(), "username"),
                ("SQL_PASSWORD".into(), "password"),
                ("SQL_HOST".into(), "host"),
                ("SQL_PORT".into(), "port"),
            ]
        );
        assert_eq!(
            w[0].settings[0].values[&Database::Postgresql],
            "django.db.backends.postgresql"
        );
        assert!(w[0].sqlite_fallback.is_some());
        assert_eq!(w[0].settings[4].evidence.line, Some(8));
    }

    /// babybuddy: `DATABASES = {"default": dj_database_url.config()}` when
    /// DATABASE_URL is set, else a dict under another name whose ENGINE
    /// comes from `DB_ENGINE` — the backend's name, never a URL.
    #[test]
    fn an_engine_read_beside_dj_database_url_is_an_engine() {
        let w = wiring(
            &[(
                "app/settings.py",
                "import os\nimport dj_database_url\nif os.getenv(\"DATABASE_URL\"):\n    DATABASES = {\"default\": dj_database_url.config()}\nelse:\n    config = {\n        \"ENGINE\": os.getenv(\"DB_ENGINE\") or \"django.db.backends.sqlite3\",\n        \"NAME\": os.getenv(\"DB_NAME\") or \"db.sqlite3\",\n    }\n    DATABASES = {\"default\": config}\n",
            )],
            &["django", "dj-database-url"],
        );
        let all: Vec<(String, &str)> = w.iter().flat_map(names).collect();
        assert!(all.contains(&("DATABASE_URL".into(), "url")), "{all:?}");
        assert!(all.contains(&("DB_ENGINE".into(), "engine")), "{all:?}");
        assert!(all.contains(&("DB_NAME".into(), "name")), "{all:?}");
    }

    #[test]
    fn dj_database_url_and_environ() {
        let w = wiring(
            &[(
                "proj/settings.py",
                "import dj_database_url\nDATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': 'db.sqlite3'}}\nif 'DATABASE_URL' in os.environ:\n    DATABASES['default'] = dj_database_url.config(conn_max_age=500)\n",
            )],
            &["django", "dj-database-url"],
        );
        assert_eq!(names(&w[0]), vec![("DATABASE_URL".into(), "url")]);
        assert!(w[0].sqlite_fallback.is_some());
        let w = wiring(
            &[(
                "config/base.py",
                "env = environ.Env()\nDATABASES = {\n    \"default\": env.db(\"DATABASE_URL\", default=\"postgres:///styleguide\"),\n}\nCACHES = {'default': {'BACKEND': 'django_redis.cache.RedisCache', 'LOCATION': env('REDIS_URL', default='redis://localhost:6379/0')}}\n",
            )],
            &["django", "django-environ"],
        );
        assert_eq!(names(&w[0]), vec![("DATABASE_URL".into(), "url")]);
        assert!(w[0].sqlite_fallback.is_none());
        assert_eq!(w[1].target, T::Cache);
        assert_eq!(names(&w[1]), vec![("REDIS_URL".into(), "url")]);
    }

    #[test]
    fn flask_sqlalchemy_config_class() {
        let w = wiring(
            &[
                (
                    "config.py",
                    "import os\nbasedir = os.path.abspath(os.path.dirname(__file__))\nclass Config:\n    SQLALCHEMY_DATABASE_URI = os.environ.get('DATABASE_URL', '').replace(\n        'postgres://', 'postgresql://') or \\\n        'sqlite:///' + os.path.join(basedir, 'app.db')\n    REDIS_URL = os.environ.get('REDIS_URL') or 'redis://'\n",
                ),
                (
                    "app/__init__.py",
                    "from redis import Redis\ndef create_app():\n    app.redis = Redis.from_url(app.config['REDIS_URL'])\n",
                ),
            ],
            &["flask", "flask-sqlalchemy", "redis"],
        );
        let db = w.iter().find(|w| w.target == T::Database).unwrap();
        assert_eq!(db.convention, "flask-sqlalchemy");
        assert_eq!(names(db), vec![("DATABASE_URL".into(), "url")]);
        assert!(db.sqlite_fallback.is_some());
        let cache = w.iter().find(|w| w.target == T::Cache).unwrap();
        assert_eq!(names(cache), vec![("REDIS_URL".into(), "url")]);
        // The evidence is where the variable is read.
        assert_eq!(cache.settings[0].evidence.file, "config.py");
        assert_eq!(cache.settings[0].evidence.line, Some(7));
    }

    #[test]
    fn pydantic_settings_assemble_a_url_from_parts() {
        let w = wiring(
            &[
                (
                    "app/core/config.py",
                    r#"from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic import Field, PostgresDsn, computed_field

class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_prefix="APP_")
    POSTGRES_SERVER: str
    POSTGRES_PORT: int = 5432
    POSTGRES_USER: str
    POSTGRES_PASSWORD: str = ""
    POSTGRES_DB: str = Field(default="", alias="DB_NAME")

    @computed_field
    @property
    def SQLALCHEMY_DATABASE_URI(self) -> PostgresDsn:
        return PostgresDsn.build(
            scheme="postgresql+psycopg",
            username=self.POSTGRES_USER,
            password=self.POSTGRES_PASSWORD,
            host=self.POSTGRES_SERVER,
            port=self.POSTGRES_PORT,
            path=self.POSTGRES_DB,
        )

settings = Settings()
"#,
                ),
                (
                    "app/core/db.py",
                    "from sqlmodel import create_engine\nengine = create_engine(str(settings.SQLALCHEMY_DATABASE_URI))\n",
                ),
            ],
            &["fastapi", "pydantic-settings", "sqlmodel"],
        );
        assert_eq!(w.len(), 1);
        assert_eq!(
            names(&w[0]),
            vec![
                ("APP_POSTGRES_USER".into(), "username"),
                ("APP_POSTGRES_PASSWORD".into(), "password"),
                ("APP_POSTGRES_SERVER".into(), "host"),
                ("APP_POSTGRES_PORT".into(), "port"),
                ("DB_NAME".into(), "name"),
            ]
        );
        assert_eq!(w[0].engines, vec![Database::Postgresql]);
    }

    #[test]
    fn async_url_keeps_its_driver_scheme() {
        let w = wiring(
            &[(
                "db.py",
                "DATABASE_URL = os.getenv('DATABASE_URL', 'postgresql+asyncpg://app:app@localhost/app')\nengine = create_async_engine(DATABASE_URL, echo=False)\n",
            )],
            &["sqlalchemy", "asyncpg"],
        );
        assert_eq!(w[0].convention, "sqlalchemy-create-engine");
        assert_eq!(
            w[0].settings[0].values[&Database::Postgresql],
            "postgresql+asyncpg"
        );
    }

    #[test]
    fn drivers_celery_and_fstrings() {
        let w = wiring(
            &[(
                "worker.py",
                "import os\nfrom celery import Celery\nuser = os.environ['PGUSER_APP']\nDSN = f\"postgresql://{user}:{os.environ['PW']}@{os.getenv('DBH', 'localhost')}:5432/{os.environ.get('DBN')}\"\nconn = psycopg2.connect(DSN)\napp = Celery('tasks', broker=os.environ['CELERY_BROKER_URL'], backend=os.environ.get('CELERY_RESULT_BACKEND'))\nr = redis.Redis(host=os.getenv('REDIS_HOST', 'localhost'), port=int(os.getenv('REDIS_PORT', 6379)), db=0)\n",
            )],
            &["celery", "psycopg2", "redis"],
        );
        let db = w.iter().find(|w| w.target == T::Database).unwrap();
        assert_eq!(
            names(db),
            vec![
                ("PGUSER_APP".into(), "username"),
                ("PW".into(), "password"),
                ("DBH".into(), "host"),
                ("DBN".into(), "name"),
            ]
        );
        let celery = w.iter().find(|w| w.convention == "celery-app").unwrap();
        assert_eq!(
            names(celery),
            vec![
                ("CELERY_BROKER_URL".into(), "url"),
                ("CELERY_RESULT_BACKEND".into(), "url")
            ]
        );
        let redis = w.iter().find(|w| w.convention == "redis-client").unwrap();
        assert_eq!(
            names(redis),
            vec![("REDIS_HOST".into(), "host"), ("REDIS_PORT".into(), "port")]
        );
    }
}
