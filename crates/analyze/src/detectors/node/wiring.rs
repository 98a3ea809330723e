//! Node's wiring table: how Prisma, node-postgres, postgres.js, mysql2,
//! Sequelize (code and CLI config), knex (code and knexfile), TypeORM,
//! Drizzle, mongoose / the MongoDB driver, ioredis / node-redis and Bull find
//! their database and cache — as rows ([`SITES`]) turned into settings with
//! formats by the shared engine (`crate::wiring`).
//!
//! Names come from `process.env.X` (with `||`/`??` defaults), settings
//! objects (`env.DATABASE_URL`, `fastify.config.MYSQL_HOST`), names bound
//! to those anywhere in the package (`const dbUrl = process.env.…`,
//! `db: process.env.MONGODB_URL` in a config module), node-config's
//! `custom-environment-variables.{json,yml}` (`config.get("db.connection")`),
//! Prisma's `env("…")`, Sequelize's `use_env_variable`, and URLs assembled
//! in template literals. node-postgres with no options reads libpq's `PG*`.
//!
//! Not here: the `databases` list (`databases.rs`, `code.rs`) or guessing
//! from a name's shape (decide's fallback).

use super::databases::{PRISMA_DATASOURCE, PRISMA_ENV, PRISMA_PROVIDER};
use super::manifest::Manifest;
use crate::ctx::Ctx;
use crate::draft::{ev, Draft};
use crate::repo::join;
use crate::scan::{line_of, regex};
use crate::wiring::{
    bracketed, fixed, hole, scan_sites, EnvRef, KeyTable, Lang, Resolver, Shape, Site, CACHE_KEYS,
    DB_KEYS,
};
use autodeploy_core::{Database, SettingFormat as F, Wiring, WiringTarget as T};
use regex::Regex;
use std::sync::LazyLock;

const PG: &[Database] = &[Database::Postgresql];
const MY: &[Database] = &[Database::Mysql];
const MONGO: &[Database] = &[Database::Mongodb];
const REDIS: &[Database] = &[Database::Redis];

/// node-postgres / postgres.js options.
const PG_KEYS: KeyTable = &[
    ("connectionstring", F::Url),
    ("url", F::Url),
    ("host", F::Host),
    ("port", F::Port),
    ("user", F::Username),
    ("username", F::Username),
    ("password", F::Password),
    ("pass", F::Password),
    ("database", F::Name),
    ("db", F::Name),
];
/// knex options: `client` names the driver package.
const KNEX_KEYS: KeyTable = &[
    ("client", F::Engine),
    ("connection", F::Url),
    ("connectionstring", F::Url),
    ("host", F::Host),
    ("port", F::Port),
    ("user", F::Username),
    ("password", F::Password),
    ("database", F::Name),
];
const KNEX_ENGINES: &[(Database, &str)] =
    &[(Database::Postgresql, "pg"), (Database::Mysql, "mysql2")];
/// TypeORM / MikroORM options: `type` names the engine.
const TYPEORM_KEYS: KeyTable = &[
    ("type", F::Engine),
    ("url", F::Url),
    ("host", F::Host),
    ("port", F::Port),
    ("username", F::Username),
    ("user", F::Username),
    ("password", F::Password),
    ("database", F::Name),
    ("dbname", F::Name),
    ("clienturl", F::Url),
];
const TYPEORM_ENGINES: &[(Database, &str)] = &[
    (Database::Postgresql, "postgres"),
    (Database::Mysql, "mysql"),
];
/// Sequelize options: `dialect` names the engine.
const SEQUELIZE_KEYS: KeyTable = &[
    ("dialect", F::Engine),
    ("host", F::Host),
    ("port", F::Port),
    ("username", F::Username),
    ("password", F::Password),
    ("database", F::Name),
    ("url", F::Url),
];
const SEQUELIZE_ENGINES: &[(Database, &str)] = &[
    (Database::Postgresql, "postgres"),
    (Database::Mysql, "mysql"),
];

/// Database configuration modules (their top-level object is the connection).
const DB_CONFIG_FILES: &str = r"(?:^|/)(?:knexfile|ormconfig|data-?source|database|db|sequelize|drizzle\.config|db\.config|config/config)\.(?:[cm]?js|ts)$";

/// Where Node code connects. `(dependency, row)`: the row applies when the
/// package declares the dependency (`""`: always).
const SITES: &[(&str, Site)] = &[
    (
        "pg",
        Site::new(
            "node-postgres",
            T::Database,
            "new ",
            r"\bnew\s+(?:pg\.|Pg\.)?(?:Pool|Client)\s*\(",
            Shape::Keys {
                positional: &[F::Url],
                nested: &[],
            },
            PG,
            PG_KEYS,
        ),
    ),
    (
        "postgres",
        Site::new(
            "postgres-js",
            T::Database,
            "postgres(",
            r"(?:=|\breturn)\s*postgres\s*\(",
            Shape::Keys {
                positional: &[F::Url],
                nested: &[],
            },
            PG,
            PG_KEYS,
        ),
    ),
    (
        "mysql2",
        Site::new(
            "mysql2",
            T::Database,
            "create",
            r"\b(?:mysql2?|mysql\.promise\(\))\.create(?:Pool|Connection)\s*\(",
            Shape::Keys {
                positional: &[F::Url],
                nested: &[],
            },
            MY,
            DB_KEYS,
        ),
    ),
    (
        "sequelize",
        Site {
            engine_values: SEQUELIZE_ENGINES,
            ..Site::new(
                "sequelize",
                T::Database,
                "Sequelize",
                r"\bnew\s+Sequelize\s*\(",
                Shape::Keys {
                    positional: &[F::Name, F::Username, F::Password],
                    nested: &[],
                },
                &[],
                SEQUELIZE_KEYS,
            )
        },
    ),
    (
        "knex",
        Site {
            engine_values: KNEX_ENGINES,
            ..Site::new(
                "knex",
                T::Database,
                "nex",
                r#"\b(?:knex|Knex|require\(\s*["']knex["']\s*\))\s*\(\s*\{"#,
                Shape::Keys {
                    positional: &[],
                    nested: &["connection"],
                },
                &[],
                KNEX_KEYS,
            )
        },
    ),
    (
        "knex",
        Site {
            engine_values: KNEX_ENGINES,
            files: r"(?:^|/)knexfile\.(?:[cm]?js|ts)$",
            ..Site::new(
                "knexfile",
                T::Database,
                "{",
                r"(?:module\.exports|export\s+default|\b(?:const|let|var)\s+\w+\s*(?::[^=\n]+)?=)\s*\{",
                Shape::Keys {
                    positional: &[],
                    nested: &["connection", "production"],
                },
                &[],
                KNEX_KEYS,
            )
        },
    ),
    (
        "typeorm",
        Site {
            engine_values: TYPEORM_ENGINES,
            ..Site::new(
                "typeorm",
                T::Database,
                "(",
                r"\bnew\s+DataSource\s*\(|\bcreateConnection\s*\(|\bTypeOrmModule\.forRoot\s*\(",
                Shape::Keys {
                    positional: &[],
                    nested: &[],
                },
                &[],
                TYPEORM_KEYS,
            )
        },
    ),
    (
        "@mikro-orm/core",
        Site {
            engine_values: TYPEORM_ENGINES,
            ..Site::new(
                "mikro-orm",
                T::Database,
                "(",
                r"\bMikroORM\.init\s*\(|\bdefineConfig\s*\(",
                Shape::Keys {
                    positional: &[],
                    nested: &[],
                },
                &[],
                TYPEORM_KEYS,
            )
        },
    ),
    (
        "drizzle-orm",
        Site::new(
            "drizzle",
            T::Database,
            "drizzle",
            r"\bdrizzle\s*\(",
            Shape::Keys {
                positional: &[F::Url],
                nested: &["connection"],
            },
            &[],
            PG_KEYS,
        ),
    ),
    (
        "drizzle-kit",
        Site {
            files: r"(?:^|/)drizzle\.config\.[cm]?[jt]s$",
            ..Site::new(
                "drizzle-kit",
                T::Database,
                "dbCredentials",
                r"\bdbCredentials\s*:\s*\{",
                Shape::Keys {
                    positional: &[],
                    nested: &[],
                },
                &[],
                PG_KEYS,
            )
        },
    ),
    (
        "",
        Site {
            files: DB_CONFIG_FILES,
            ..Site::new(
                "database-config-module",
                T::Database,
                "{",
                r"(?:module\.exports|export\s+default)\s*=?\s*\{",
                Shape::Keys {
                    positional: &[],
                    nested: &["production", "connection"],
                },
                &[],
                DB_KEYS,
            )
        },
    ),
    (
        "mongoose",
        Site::new(
            "mongoose",
            T::Database,
            "mongoose",
            r"\bmongoose\s*\.\s*(?:connect|createConnection)\s*\(",
            Shape::Arg {
                pos: 0,
                kw: &[],
                format: F::Url,
            },
            MONGO,
            DB_KEYS,
        ),
    ),
    (
        "mongodb",
        Site::new(
            "mongodb-driver",
            T::Database,
            "MongoClient",
            r"\bnew\s+MongoClient\s*\(|\bMongoClient\.connect\s*\(",
            Shape::Arg {
                pos: 0,
                kw: &[],
                format: F::Url,
            },
            MONGO,
            DB_KEYS,
        ),
    ),
    (
        "",
        Site::new(
            "ioredis",
            T::Cache,
            "Redis",
            r"\bnew\s+(?:IORedis|Redis|Valkey)\s*\(",
            Shape::Keys {
                positional: &[F::Url],
                nested: &[],
            },
            REDIS,
            CACHE_KEYS,
        ),
    ),
    (
        "redis",
        Site::new(
            "node-redis",
            T::Cache,
            "createClient",
            r"\bcreateClient\s*\(",
            Shape::Keys {
                positional: &[],
                nested: &["socket"],
            },
            REDIS,
            CACHE_KEYS,
        ),
    ),
    (
        "bull",
        Site::new(
            "bull",
            T::Cache,
            "new ",
            r"\bnew\s+(?:Bull|Queue)\s*\(",
            Shape::Keys {
                positional: &[F::Literal, F::Url],
                nested: &["redis"],
            },
            REDIS,
            CACHE_KEYS,
        ),
    ),
    (
        "bullmq",
        Site::new(
            "bullmq",
            T::Cache,
            "connection",
            r"\bconnection\s*:\s*\{",
            Shape::Keys {
                positional: &[],
                nested: &[],
            },
            REDIS,
            CACHE_KEYS,
        ),
    ),
];

/// Node's expression syntax for wiring.
pub(super) struct Node;

static ENV_READ: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"\b(?:process\s*\.\s*env|Bun\s*\.\s*env|import\.meta\.env)\s*(?:\.\s*([A-Za-z_]\w*)|\[\s*['"`]([A-Za-z_]\w*)['"`]\s*\])|\bDeno\.env\.get\(\s*['"]([A-Za-z_]\w*)['"]\s*\)"#,
    )
});
static DEFAULT: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"^\s*(?:\|\||\?\?)\s*(['"`][^'"`]*['"`])"#));

impl Lang for Node {
    fn env_reads(&self, expr: &str) -> Vec<EnvRef> {
        let mut out: Vec<EnvRef> = Vec::new();
        for c in ENV_READ.captures_iter(expr) {
            let Some(name) = c.get(1).or(c.get(2)).or(c.get(3)) else {
                continue;
            };
            let end = c.get(0).map_or(0, |m| m.end());
            let default = DEFAULT.captures(&expr[end..]).map(|d| d[1].to_string());
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
        let e = expr.trim();
        if let Some(body) = e.strip_prefix('`').and_then(|b| b.strip_suffix('`')) {
            let mut enc = String::new();
            let mut holes = Vec::new();
            let mut rest = body;
            while let Some(i) = rest.find("${") {
                enc.push_str(&rest[..i]);
                let inner = bracketed(&rest[i + 1..], 0)?;
                enc.push_str(&hole(holes.len()));
                holes.push(inner.to_string());
                rest = &rest[i + 1 + inner.len() + 2..];
            }
            enc.push_str(rest);
            return (!holes.is_empty()).then_some((enc, holes));
        }
        crate::wiring::concat(e, '+')
    }
}

static BIND_DECL: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::\s*[\w<>\[\]|. ]+)?=[ \t]*")
});
static BIND_KEY: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"(?m)(?:^|[{,])\s*['"]?([A-Za-z_$][\w$]*)['"]?\s*:[ \t]*"#));
static BIND_MEMBER: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b(?:exports|this|config|options)\.([A-Za-z_$][\w$]*)\s*=[ \t]*"));
static DESTRUCTURE_ENV: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b(?:const|let|var)\s*\{([^{}]*)\}\s*=\s*process\s*\.\s*env\b"));
static POOL_NO_ARGS: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\bnew\s+(?:pg\.|Pg\.)?(?:Pool|Client)\s*\(\s*\)"));

/// Flatten a node-config document: `db.connection` → the leaf value.
fn flatten(v: &serde_yaml::Value, prefix: &str, out: &mut Vec<(String, serde_yaml::Value)>) {
    match v {
        serde_yaml::Value::Mapping(m) => {
            for (k, v) in m {
                let Some(k) = k.as_str() else { continue };
                if k == "__name" {
                    out.push((prefix.to_string(), v.clone()));
                    continue;
                }
                if k.starts_with("__") {
                    continue;
                }
                let p = if prefix.is_empty() {
                    k.to_string()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(v, &p, out);
            }
        }
        other => out.push((prefix.to_string(), other.clone())),
    }
}

/// node-config: `config/custom-environment-variables.*` maps config paths to
/// variables; `config/default.*` holds what they fall back to. Each mapped
/// variable is also a setting the app reads (`secret: SECRET` is its JWT
/// key, whose committed default `secret` must not sign production tokens).
fn node_config(ctx: &Ctx, dir: &str, resolver: &mut Resolver, draft: &mut Draft) {
    let folder = join(dir, "config");
    let read = |stem: &str| {
        ["json", "yml", "yaml"].iter().find_map(|ext| {
            let path = join(&folder, &format!("{stem}.{ext}"));
            let text = ctx.read_path(&path)?;
            let doc: serde_yaml::Value = serde_yaml::from_str(&text).ok()?;
            let mut flat = Vec::new();
            flatten(&doc, "", &mut flat);
            Some((path, text, flat))
        })
    };
    let Some((path, text, mapping)) = read("custom-environment-variables") else {
        return;
    };
    let defaults = read("default").map(|(_, _, f)| f).unwrap_or_default();
    for (key, v) in mapping {
        let Some(env) = v.as_str() else { continue };
        let default = defaults
            .iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, d)| match d {
                serde_yaml::Value::String(s) => Some(s.clone()),
                serde_yaml::Value::Number(n) => Some(n.to_string()),
                _ => None,
            });
        let line = crate::scan::find_line(&text, env).unwrap_or(1);
        if !env.starts_with("npm_") {
            draft.env_var(env, default.is_some(), &path, line);
        }
        let note = crate::wiring::note(&text, line);
        resolver.bind_env(
            &key,
            EnvRef {
                name: env.to_string(),
                default,
                at: None,
            },
            &path,
            line,
            &note,
        );
    }
}

static PRISMA_CONFIG_URL: LazyLock<Regex> = LazyLock::new(|| {
    regex(r#"\b(?:url|directUrl|shadowDatabaseUrl)\s*:\s*env\(\s*['"`]([A-Za-z_]\w*)['"`]\s*\)"#)
});

/// Prisma ≥ 6's `prisma.config.ts`: `datasource: { url: env("X") }`.
fn prisma_config(ctx: &Ctx, dir: &str) -> Vec<autodeploy_core::WiringSetting> {
    let mut out = Vec::new();
    for name in [
        "prisma.config.ts",
        "prisma.config.js",
        "prisma.config.mjs",
        "prisma.config.cjs",
    ] {
        let file = join(dir, name);
        let Some(text) = ctx.read_path(&file) else {
            continue;
        };
        for c in PRISMA_CONFIG_URL.captures_iter(&text) {
            let line = line_of(&text, c.get(0).map_or(0, |g| g.start()));
            if c.get(0).is_some_and(|g| g.as_str().starts_with("shadow")) {
                continue;
            }
            out.push(autodeploy_core::WiringSetting {
                name: c[1].to_string(),
                format: F::Url,
                values: Default::default(),
                value: None,
                evidence: ev(&file, Some(line), crate::wiring::note(&text, line)),
            });
        }
    }
    out
}

/// Prisma's datasource: `url = env("X")`, `directUrl = env("Y")` in the
/// schema, or in `prisma.config.ts` (Prisma ≥ 6).
fn prisma(ctx: &Ctx, dir: &str, m: &Manifest) -> Option<Wiring> {
    let mut candidates: Vec<String> = Vec::new();
    if let Some(p) = &m.prisma_schema {
        candidates.push(join(dir, p));
    }
    candidates.push(join(dir, "prisma/schema.prisma"));
    candidates.push(join(dir, "schema.prisma"));
    let schema_dir = join(dir, "prisma/schema");
    candidates.extend(
        ctx.index()
            .names_in(&schema_dir)
            .filter(|n| n.ends_with(".prisma"))
            .map(|n| join(&schema_dir, n)),
    );
    for file in candidates {
        let Some(text) = ctx.read_path(&file) else {
            continue;
        };
        let Some(block) = PRISMA_DATASOURCE.captures(&text) else {
            continue;
        };
        let body = block.get(1)?;
        let engine = PRISMA_PROVIDER
            .captures(body.as_str())
            .and_then(|c| crate::wiring::database_of_name(&c[1]));
        if matches!(engine, Some(Database::Sqlite) | Some(Database::Redis)) {
            return None;
        }
        let mut w = Wiring {
            target: T::Database,
            convention: "prisma-env".into(),
            engines: engine.into_iter().collect(),
            settings: Vec::new(),
            sqlite_fallback: None,
        };
        for c in PRISMA_ENV.captures_iter(body.as_str()) {
            let at = body.start() + c.get(0).map_or(0, |g| g.start());
            let line = line_of(&text, at);
            w.settings.push(autodeploy_core::WiringSetting {
                name: c[1].to_string(),
                format: F::Url,
                values: Default::default(),
                value: None,
                evidence: ev(&file, Some(line), crate::wiring::note(&text, line)),
            });
        }
        for s in prisma_config(ctx, dir) {
            if w.setting(&s.name).is_none() {
                w.settings.push(s);
            }
        }
        return (!w.settings.is_empty()).then_some(w);
    }
    None
}

static TYPEORM_NO_OPTIONS: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\bTypeOrmModule\.forRoot\s*\(\s*\)|\bcreateConnection\s*\(\s*\)"));

/// TypeORM 0.2 with no options in code (`TypeOrmModule.forRoot()`): it reads
/// `TYPEORM_*` variables (which win over `ormconfig.*`). The example config a
/// project ships (`ormconfig.json.example`) gives the engine, the entities
/// and `synchronize`, which the variables must then carry too.
fn typeorm_env(ctx: &Ctx, dir: &str, m: &Manifest, texts: &[(&str, String)]) -> Option<Wiring> {
    let (_, dep) = m.dep("typeorm")?;
    let v = dep.value.trim_start_matches(['^', '~', '=', '>', ' ']);
    if !v.starts_with("0.2") && !v.starts_with("0.1") {
        return None;
    }
    let (file, line) = texts.iter().find_map(|(f, t)| {
        crate::scan::first_match(t, &TYPEORM_NO_OPTIONS).map(|(l, _)| (*f, l))
    })?;
    let evidence = ev(
        file,
        Some(line),
        "TypeORM 0.2 without options reads TYPEORM_* variables",
    );
    let example = [
        "ormconfig.json.example",
        "ormconfig.example.json",
        "ormconfig.json",
        "ormconfig.sample.json",
    ]
    .iter()
    .find_map(|n| {
        let path = join(dir, n);
        let text = ctx.read_path(&path)?;
        let doc: serde_json::Value = serde_json::from_str(&text).ok()?;
        Some((path, doc))
    });
    let engine = example
        .as_ref()
        .and_then(|(_, d)| {
            d.get("type")?
                .as_str()
                .and_then(crate::wiring::database_of_name)
        })
        .into_iter()
        .filter(|e| matches!(e, Database::Postgresql | Database::Mysql))
        .collect::<Vec<_>>();
    let mut w = fixed(
        "typeorm-env",
        T::Database,
        &engine,
        &[
            ("TYPEORM_CONNECTION", F::Engine),
            ("TYPEORM_HOST", F::Host),
            ("TYPEORM_PORT", F::Port),
            ("TYPEORM_USERNAME", F::Username),
            ("TYPEORM_PASSWORD", F::Password),
            ("TYPEORM_DATABASE", F::Name),
        ],
        &evidence,
    );
    w.settings[0].values = TYPEORM_ENGINES
        .iter()
        .map(|(d, v)| (*d, v.to_string()))
        .collect();
    if let Some((path, doc)) = &example {
        let literal = |name: &str, value: String, note: &str| autodeploy_core::WiringSetting {
            name: name.into(),
            format: F::Literal,
            values: Default::default(),
            value: Some(value),
            evidence: ev(path, None, note.to_string()),
        };
        if let Some(list) = doc.get("entities").and_then(|e| e.as_array()) {
            let globs: Vec<&str> = list.iter().filter_map(|x| x.as_str()).collect();
            if !globs.is_empty() {
                w.settings.push(literal(
                    "TYPEORM_ENTITIES",
                    globs.join(","),
                    "entities of the example config",
                ));
            }
        }
        if let Some(sync) = doc.get("synchronize").and_then(|x| x.as_bool()) {
            w.settings.push(literal(
                "TYPEORM_SYNCHRONIZE",
                sync.to_string(),
                "synchronize of the example config",
            ));
        }
    }
    Some(w)
}

/// Sequelize CLI's `config/config.json`: `"use_env_variable": "DATABASE_URL"`.
fn sequelize_config(ctx: &Ctx, dir: &str) -> Option<Wiring> {
    let path = join(dir, "config/config.json");
    let text = ctx.read_path(&path)?;
    let doc: serde_json::Value = serde_json::from_str(&text).ok()?;
    let env = doc.get("production")?;
    let var = env.get("use_env_variable")?.as_str()?;
    let engine = env
        .get("dialect")
        .and_then(|d| d.as_str())
        .and_then(crate::wiring::database_of_name);
    let line = crate::scan::find_line(&text, "use_env_variable").unwrap_or(1);
    Some(fixed(
        "sequelize-cli-config",
        T::Database,
        &engine.into_iter().collect::<Vec<_>>(),
        &[(var, F::Url)],
        &ev(&path, Some(line), crate::wiring::note(&text, line)),
    ))
}

/// Add the package's wiring to `draft`.
/// Browser components never hold a connection (front ends are skipped whole).
const COMPONENT_EXTS: &[&str] = &[".jsx", ".tsx", ".vue", ".svelte", ".astro"];

/// Add the package's wiring to its drafts that run code (a static front end
/// connects to nothing).
pub(super) fn apply(ctx: &Ctx, dir: &str, m: &Manifest, drafts: &mut [Draft], files: &[String]) {
    let Some(first) = drafts
        .iter()
        .find(|d| d.kind != autodeploy_core::ServiceKind::Static)
    else {
        return;
    };
    let mut probe = Draft::new(dir, first.language, first.kind);
    probe.env = first.env.clone();
    let first_env: Vec<String> = first.env.iter().map(|e| e.name.clone()).collect();
    probe.databases = first.databases.clone();
    scan(ctx, dir, m, &mut probe, files);
    for d in drafts
        .iter_mut()
        .filter(|d| d.kind != autodeploy_core::ServiceKind::Static)
    {
        // Settings only the config files name (node-config's mapping).
        for e in probe.env.iter().filter(|e| !first_env.contains(&e.name)) {
            if !d.env.iter().any(|x| x.name == e.name) {
                d.env.push(e.clone());
            }
        }
        let compiled = runs_compiled(ctx, dir, m, d);
        for w in &probe.wiring {
            let mut w = w.clone();
            for s in w
                .settings
                .iter_mut()
                .filter(|s| s.name == "TYPEORM_ENTITIES")
            {
                if let Some(v) = s.value.as_mut() {
                    *v = entity_globs(v, compiled.as_deref());
                }
            }
            d.wire(w);
        }
        // The source fixes a wiring needs (a hard-coded config module).
        for f in &probe.findings {
            if !d.findings.contains(f) {
                d.findings.push(f.clone());
            }
        }
    }
}

pub(super) fn scan(ctx: &Ctx, dir: &str, m: &Manifest, draft: &mut Draft, files: &[String]) {
    let lang = Node;
    let mut resolver = Resolver::new(&lang);
    resolver.known = draft.env.iter().map(|e| e.name.clone()).collect();
    node_config(ctx, dir, &mut resolver, draft);
    let texts: Vec<(&str, String)> = files
        .iter()
        .filter(|f| !super::code::is_tooling_file(f))
        .filter(|f| !COMPONENT_EXTS.iter().any(|e| f.ends_with(e)))
        .filter_map(|f| {
            ctx.read_path(f)
                .map(|t| (f.as_str(), crate::wiring::mask_c_comments(&t)))
        })
        .collect();
    for (file, text) in &texts {
        for c in DESTRUCTURE_ENV.captures_iter(text) {
            let at = c.get(0).map_or(0, |m| m.start());
            let line = line_of(text, at);
            let note = crate::wiring::note(text, line);
            for part in c[1].split(',') {
                let name = part.split([':', '=']).next().unwrap_or("").trim();
                if crate::draft::is_env_name(name) {
                    resolver.known.insert(name.to_string());
                    let default = part.split_once('=').map(|(_, d)| d.trim().to_string());
                    resolver.bind_env(
                        name,
                        EnvRef {
                            name: name.to_string(),
                            default,
                            at: None,
                        },
                        file,
                        line,
                        &note,
                    );
                }
            }
        }
    }
    let mut candidates = Vec::new();
    for (file, text) in &texts {
        crate::wiring::assignments(
            file,
            text,
            &[&*BIND_DECL, &*BIND_MEMBER, &*BIND_KEY],
            &['=', '>'],
            &mut candidates,
        );
    }
    // BIND_DECL (the first pattern) declares variables.
    resolver.bind_all_declaring(candidates, Some(0));
    let sites: Vec<Site> = SITES
        .iter()
        .filter(|(dep, _)| dep.is_empty() || m.declares(dep))
        .map(|(_, s)| *s)
        .collect();
    let mut found: Vec<Wiring> = Vec::new();
    for (file, text) in &texts {
        scan_sites(text, file, &sites, &resolver, &mut found);
        // node-postgres with no options reads libpq's variables.
        if m.declares("pg") {
            if let Some((line, _)) = crate::scan::first_match(text, &POOL_NO_ARGS) {
                found.push(fixed(
                    "node-postgres-libpq-env",
                    T::Database,
                    PG,
                    &[
                        ("PGHOST", F::Host),
                        ("PGPORT", F::Port),
                        ("PGUSER", F::Username),
                        ("PGPASSWORD", F::Password),
                        ("PGDATABASE", F::Name),
                    ],
                    &ev(file, Some(line), crate::wiring::note(text, line)),
                ));
            }
        }
    }
    found.extend(prisma(ctx, dir, m));
    found.extend(typeorm_env(ctx, dir, m, &texts));
    if m.declares("sequelize") {
        found.extend(sequelize_config(ctx, dir));
    }
    if !found.iter().any(|w| w.target == T::Database)
        && HARDCODED_DRIVERS.iter().any(|d| m.declares(d))
    {
        if let Some(w) = hardcoded_config_module(draft, &texts) {
            found.push(w);
        }
    }
    for w in found {
        draft.wire(w);
    }
}

/// The folder TypeScript compiles into (`compilerOptions.outDir` of the
/// package's `tsconfig.json`) when the draft's start runs the compiled code
/// from there (`node dist/main.js`, directly or through a script), else `None`.
fn runs_compiled(ctx: &Ctx, dir: &str, m: &Manifest, d: &Draft) -> Option<String> {
    let text = ctx.read(dir, "tsconfig.json")?;
    let out = TS_OUT_DIR.captures(&text)?[1]
        .trim_start_matches("./")
        .trim_end_matches('/')
        .to_string();
    let start = d.starts.iter().max_by_key(|c| c.trust)?.value.clone();
    let script = start
        .split_whitespace()
        .last()
        .and_then(|name| m.script(name))
        .map(|e| e.value.clone())
        .unwrap_or_default();
    let needle = format!("node {out}/");
    (start.contains(&needle) || script.contains(&needle)).then_some(out)
}

static TS_OUT_DIR: LazyLock<Regex> = LazyLock::new(|| regex(r#""outDir"\s*:\s*"([^"]+)""#));

/// TypeORM's `TYPEORM_ENTITIES` as globs it can read: it splits the value
/// on commas, so `{.ts,.js}` alternatives are written out; when the app
/// runs its compiled code from `out` (`dist`), the source globs
/// (`src/**/*.entity.ts`) name the compiled files instead
/// (`dist/**/*.entity.js`) — plain node cannot load `.ts`, and entities
/// loaded from the sources are other classes than the running app's.
fn entity_globs(value: &str, out: Option<&str>) -> String {
    let mut globs: Vec<String> = Vec::new();
    for g in value.split(',').map(str::trim).filter(|g| !g.is_empty()) {
        let expanded: Vec<String> = match (g.find('{'), g.find('}')) {
            (Some(a), Some(b)) if a < b => g[a + 1..b]
                .split(',')
                .map(|alt| format!("{}{alt}{}", &g[..a], &g[b + 1..]))
                .collect(),
            _ => vec![g.to_string()],
        };
        globs.extend(expanded);
    }
    // Brace alternatives were split by the comma above: join them back.
    let mut joined: Vec<String> = Vec::new();
    let mut pending = String::new();
    for g in globs {
        if !pending.is_empty() {
            pending.push(',');
        }
        pending.push_str(&g);
        if pending.matches('{').count() == pending.matches('}').count() {
            joined.extend(match (pending.find('{'), pending.find('}')) {
                (Some(a), Some(b)) if a < b => pending[a + 1..b]
                    .split(',')
                    .map(|alt| format!("{}{alt}{}", &pending[..a], &pending[b + 1..]))
                    .collect::<Vec<_>>(),
                _ => vec![pending.clone()],
            });
            pending.clear();
        }
    }
    let mut out_globs: Vec<String> = Vec::new();
    for g in joined {
        let g = match out {
            Some(out) => {
                let rest = g.strip_prefix("./").unwrap_or(&g);
                let rest = rest
                    .strip_prefix("src/")
                    .map_or(rest.to_string(), |r| format!("{out}/{r}"));
                match rest.strip_suffix(".ts") {
                    Some(stem) => format!("{stem}.js"),
                    None => rest,
                }
            }
            None => g,
        };
        if !out_globs.contains(&g) {
            out_globs.push(g);
        }
    }
    out_globs.join(",")
}

/// Drivers and ORMs whose connection a hard-coded config module can feed.
const HARDCODED_DRIVERS: &[&str] = &["sequelize", "pg", "mysql2", "mysql", "knex", "typeorm"];

/// `KEY: "literal",` (or a number) alone on a line of an object literal.
static LITERAL_KEY: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"(?m)^\s*['"]?([A-Za-z_]\w*)['"]?\s*:\s*(['"])([^'"\n]*)['"]\s*,?\s*$|^\s*['"]?([A-Za-z_]\w*)['"]?\s*:\s*(\d{2,5})\s*,?\s*$"#,
    )
});

/// A Sequelize connection site (`new Sequelize(…`).
static SEQUELIZE_OPEN: LazyLock<Regex> = LazyLock::new(|| regex(r"\bnew\s+Sequelize\s*\("));

/// The settings a hard-coded module is given, by format: the names the
/// deployment sets, read in its copy of the module (`DB_HOST`…).
const HARDCODED_NAMES: &[(F, &str)] = &[
    (F::Host, "DB_HOST"),
    (F::Port, "DB_PORT"),
    (F::Username, "DB_USER"),
    (F::Password, "DB_PASSWORD"),
    (F::Name, "DB_NAME"),
];

/// A database config module that writes its connection as literals and
/// reads no environment (`module.exports = { HOST: "localhost", USER:
/// "postgres", PASSWORD: "123", DB: "testdb", dialect: "postgres" }` in
/// `app/config/db.config.js`): the deployment makes each literal an
/// environment read with the literal as its default, in its own copy
/// (`"localhost"` → `process.env.DB_HOST || "localhost"`), and wires those
/// names. A `hardcoded_db_credentials` warning says so; each line's rewrite
/// is a [`SourceFix`](autodeploy_core::SourceFix) on an info finding. With
/// PostgreSQL and no port in the module, node-postgres reads `PGPORT`.
fn hardcoded_config_module(draft: &mut Draft, texts: &[(&str, String)]) -> Option<Wiring> {
    static FILES: LazyLock<Regex> = LazyLock::new(|| regex(DB_CONFIG_FILES));
    for (file, text) in texts {
        if !FILES.is_match(file) || text.contains("process.env") || text.contains("process[") {
            continue;
        }
        let mut settings: Vec<(F, u32, String)> = Vec::new();
        let mut engine = None;
        for c in LITERAL_KEY.captures_iter(text) {
            let Some(whole) = c.get(0) else { continue };
            let line = line_of(
                text,
                whole.start() + whole.as_str().len() - whole.as_str().trim_start().len(),
            );
            let (key, literal) = match (c.get(1), c.get(3), c.get(4), c.get(5)) {
                (Some(k), Some(v), _, _) => {
                    let q = &c[2];
                    (k.as_str(), format!("{q}{}{q}", v.as_str()))
                }
                (_, _, Some(k), Some(v)) => (k.as_str(), v.as_str().to_string()),
                _ => continue,
            };
            match crate::wiring::key_format(SEQUELIZE_KEYS, key)
                .or_else(|| crate::wiring::key_format(DB_KEYS, key))
            {
                Some(F::Engine) => {
                    engine = engine.or_else(|| {
                        crate::wiring::database_of_name(literal.trim_matches(['"', '\'']))
                    });
                }
                Some(f) if HARDCODED_NAMES.iter().any(|(h, _)| *h == f) => {
                    // A literal that is on its line twice cannot be rewritten alone.
                    let once = crate::scan::line_text(text, line)
                        .matches(literal.as_str())
                        .count()
                        == 1;
                    // Every connection literal of the module is read from the
                    // environment (a second pool in a constructor too), but
                    // another database's name (`database: "postgres"`, the
                    // maintenance one) stays what it is.
                    let other_name = f == F::Name
                        && settings
                            .iter()
                            .any(|(g, _, l)| *g == F::Name && *l != literal);
                    if once && !other_name && !settings.iter().any(|(_, l, _)| *l == line) {
                        settings.push((f, line, literal));
                    }
                }
                _ => {}
            }
        }
        let has = |f: F| settings.iter().any(|(g, _, _)| *g == f);
        if !has(F::Host) || !(has(F::Username) || has(F::Password) || has(F::Name)) {
            continue;
        }
        let engine = engine.or_else(|| {
            let dbs: Vec<_> = draft
                .databases
                .keys()
                .filter(|d| {
                    matches!(
                        d,
                        autodeploy_core::Database::Postgresql | autodeploy_core::Database::Mysql
                    )
                })
                .copied()
                .collect();
            (dbs.len() == 1).then(|| dbs[0])
        })?;
        let mut names: Vec<&str> = Vec::new();
        for (f, _, _) in &settings {
            if let Some((_, n)) = HARDCODED_NAMES.iter().find(|(h, _)| h == f) {
                if !names.contains(n) {
                    names.push(n);
                }
            }
        }
        let first_line = settings.iter().map(|(_, l, _)| *l).min().unwrap_or(1);
        draft.finding(
            "hardcoded_db_credentials",
            autodeploy_core::Severity::Warning,
            Some(file),
            Some(first_line),
            format!(
                "{file} hard-codes the database connection (no environment variable is read): the deployment \
                 reads {} instead, in its own copy of {file} (your repository is not changed); committed \
                 credentials should be treated as leaked — read them from the environment",
                names.join(", ")
            ),
            None,
        );
        let mut w = fixed(
            "hardcoded-config-module",
            T::Database,
            &[engine],
            &[],
            &ev(file, Some(first_line), String::new()),
        );
        for (f, line, literal) in &settings {
            let Some((_, name)) = HARDCODED_NAMES.iter().find(|(h, _)| h == f) else {
                continue;
            };
            let note = crate::wiring::note(text, *line);
            draft.finding(
                "hardcoded_db_setting",
                autodeploy_core::Severity::Info,
                Some(file),
                Some(*line),
                format!("{file}:{line} writes the database {} as {literal}; the deployment's copy reads {name} first", f.as_str()),
                Some(autodeploy_core::SourceFix {
                    file: file.to_string(),
                    line: *line,
                    find: literal.clone(),
                    replace: format!("process.env.{name} || {literal}"),
                }),
            );
            if !w.settings.iter().any(|s| s.name == *name) {
                w.settings.push(autodeploy_core::WiringSetting {
                    name: name.to_string(),
                    format: *f,
                    values: Default::default(),
                    value: None,
                    evidence: ev(file, Some(*line), note),
                });
            }
        }
        // No port in the module: Sequelize connects to the engine's default
        // port whatever libpq's PGPORT says, so its options object (opened
        // on the `new Sequelize(` line) is given `port` in the copy.
        let sequelize_site = (!has(F::Port))
            .then(|| {
                texts.iter().find_map(|(f, t)| {
                    let (line, _) = crate::scan::first_match(t, &SEQUELIZE_OPEN)?;
                    let l = crate::scan::line_text(t, line);
                    (l.trim_end().ends_with('{') && l.matches('{').count() == 1)
                        .then(|| (f.to_string(), line, crate::wiring::note(t, line)))
                })
            })
            .flatten();
        if let Some((f, line, note)) = sequelize_site {
            draft.finding(
                "hardcoded_db_setting",
                autodeploy_core::Severity::Info,
                Some(&f),
                Some(line),
                format!("{f}:{line} gives Sequelize no port (it then uses the engine's default); the deployment's copy reads DB_PORT"),
                Some(autodeploy_core::SourceFix {
                    file: f.clone(),
                    line,
                    find: "{".into(),
                    replace: "{ port: process.env.DB_PORT,".into(),
                }),
            );
            w.settings.push(autodeploy_core::WiringSetting {
                name: "DB_PORT".into(),
                format: F::Port,
                values: Default::default(),
                value: None,
                evidence: ev(&f, Some(line), note),
            });
        } else if engine == autodeploy_core::Database::Postgresql && !has(F::Port) {
            w.settings.push(autodeploy_core::WiringSetting {
                name: "PGPORT".into(),
                format: F::Port,
                values: Default::default(),
                value: None,
                evidence: ev(
                    file,
                    Some(first_line),
                    format!("{file} gives no port: node-postgres reads PGPORT"),
                ),
            });
        }
        return Some(w);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::MemRepo;
    use autodeploy_core::{Language, ServiceKind};

    fn wiring(files: &[(&str, &str)]) -> Vec<Wiring> {
        let repo = MemRepo::new(files.iter().copied());
        let ctx = Ctx::new(&repo);
        let m = super::super::manifest::read(&ctx, "").expect("package.json");
        let mut d = Draft::new("", Language::Javascript, ServiceKind::Web);
        let sources: Vec<String> = files
            .iter()
            .map(|(f, _)| f.to_string())
            .filter(|f| f.ends_with(".js") || f.ends_with(".ts"))
            .collect();
        scan(&ctx, "", &m, &mut d, &sources);
        d.wiring
    }

    #[test]
    fn a_hard_coded_config_module_is_wired_through_fixes_in_the_copy() {
        let files: &[(&str, &str)] = &[
            ("package.json", r#"{"dependencies": {"sequelize": "6", "pg": "8"}}"#),
            (
                "app/config/db.config.js",
                "module.exports = {\n  HOST: \"localhost\",\n  USER: \"u\",\n  PASSWORD: 'pw',\n  DB: \"d\",\n  dialect: \"postgres\",\n  pool: { max: 5 }\n};\n",
            ),
            (
                "app/models/index.js",
                "const c = require(\"../config/db.config.js\");\nconst s = new Sequelize(c.DB, c.USER, c.PASSWORD, {\n  host: c.HOST,\n  dialect: c.dialect\n});\n",
            ),
        ];
        let repo = MemRepo::new(files.iter().copied());
        let ctx = Ctx::new(&repo);
        let m = super::super::manifest::read(&ctx, "").expect("package.json");
        let mut drafts = vec![Draft::new("", Language::Javascript, ServiceKind::Web)];
        let sources: Vec<String> = vec![
            "app/config/db.config.js".into(),
            "app/models/index.js".into(),
        ];
        apply(&ctx, "", &m, &mut drafts, &sources);
        let d = &drafts[0];
        assert_eq!(d.wiring.len(), 1);
        assert_eq!(d.wiring[0].convention, "hardcoded-config-module");
        assert_eq!(d.wiring[0].engines, vec![Database::Postgresql]);
        assert_eq!(
            names(&d.wiring[0]),
            vec![
                ("DB_HOST".to_string(), "host"),
                ("DB_USER".to_string(), "username"),
                ("DB_PASSWORD".to_string(), "password"),
                ("DB_NAME".to_string(), "name"),
                ("DB_PORT".to_string(), "port"),
            ]
        );
        let fixes: Vec<(u32, &str, &str)> = d
            .findings
            .iter()
            .filter_map(|f| f.fix.as_ref())
            .map(|f| (f.line, f.find.as_str(), f.replace.as_str()))
            .collect();
        assert_eq!(
            fixes,
            vec![
                (2, "\"localhost\"", "process.env.DB_HOST || \"localhost\""),
                (3, "\"u\"", "process.env.DB_USER || \"u\""),
                (4, "'pw'", "process.env.DB_PASSWORD || 'pw'"),
                (5, "\"d\"", "process.env.DB_NAME || \"d\""),
                (2, "{", "{ port: process.env.DB_PORT,"),
            ]
        );
        assert!(d
            .findings
            .iter()
            .any(|f| f.kind == "hardcoded_db_credentials"
                && f.severity == autodeploy_core::Severity::Warning));

        // A module that reads the environment is the app's own wiring: untouched.
        let repo = MemRepo::new([
            files[0],
            ("app/config/db.config.js", "module.exports = {\n  HOST: process.env.PGHOST || \"localhost\",\n  USER: \"u\",\n  DB: \"d\"\n};\n"),
            files[2],
        ]);
        let ctx = Ctx::new(&repo);
        let mut drafts = vec![Draft::new("", Language::Javascript, ServiceKind::Web)];
        apply(&ctx, "", &m, &mut drafts, &sources);
        assert!(drafts[0]
            .wiring
            .iter()
            .all(|w| w.convention != "hardcoded-config-module"));
        assert!(drafts[0].findings.iter().all(|f| f.fix.is_none()));

        // Two pools in one module (the app's, and one on the maintenance
        // database in a constructor): every host and credential is read from
        // the environment; the other database's name stays.
        let two = "import PG from \"pg\";\nconst pool = new PG.Pool({\n  user: \"\",\n  password: \"\",\n  database: \"url_shortener\",\n  host: \"localhost\",\n  port: 5432,\n});\nclass Setup {\n  constructor() {\n    this.default_pool = new PG.Pool({\n      user: \"\",\n      password: \"\",\n      database: \"postgres\",\n      host: \"localhost\",\n      port: 5432,\n    });\n  }\n}\n";
        let repo = MemRepo::new([
            ("package.json", r#"{"dependencies": {"pg": "8"}}"#),
            ("models/database/database.js", two),
        ]);
        let ctx = Ctx::new(&repo);
        let m = super::super::manifest::read(&ctx, "").expect("package.json");
        let mut drafts = vec![Draft::new("", Language::Javascript, ServiceKind::Web)];
        drafts[0].database(Database::Postgresql, ev("package.json", None, "pg"));
        apply(
            &ctx,
            "",
            &m,
            &mut drafts,
            &["models/database/database.js".to_string()],
        );
        let fixed: Vec<(u32, &str)> = drafts[0]
            .findings
            .iter()
            .filter_map(|f| f.fix.as_ref())
            .map(|f| (f.line, f.replace.as_str()))
            .collect();
        let lines: Vec<u32> = fixed.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, vec![3, 4, 5, 6, 7, 12, 13, 15, 16], "{fixed:?}");
    }

    #[test]
    fn typeorm_entity_globs_are_written_out_for_the_code_that_runs() {
        let g = "src/**/**.entity{.ts,.js}";
        assert_eq!(
            entity_globs(g, None),
            "src/**/**.entity.ts,src/**/**.entity.js"
        );
        assert_eq!(entity_globs(g, Some("dist")), "dist/**/**.entity.js");
        assert_eq!(
            entity_globs("dist/**/*.entity.js, src/a.ts", Some("build")),
            "dist/**/*.entity.js,build/a.js"
        );
    }

    fn names(w: &Wiring) -> Vec<(String, &'static str)> {
        w.settings
            .iter()
            .map(|s| (s.name.clone(), s.format.as_str()))
            .collect()
    }

    /// uptime-kuma: the app connects with `dbConfig.hostname` from its own
    /// config file; `let hostname = process.env.UPTIME_KUMA_HOST` in
    /// extra/healthcheck.js is that script's variable, not the app's
    /// database host.
    #[test]
    fn a_name_bound_in_a_tooling_script_is_not_the_apps_setting() {
        let w = wiring(&[
            ("package.json", r#"{"dependencies": {"mysql2": "3"}}"#),
            (
                "extra/healthcheck.js",
                "let hostname = process.env.UPTIME_KUMA_HOST;\nconst options = { host: hostname || \"127.0.0.1\" };\n",
            ),
            (
                "server/database.js",
                "const mysql = require(\"mysql2\");\nasync function connect(dbConfig) {\n  const connection = await mysql.createConnection({\n    host: dbConfig.hostname,\n    user: dbConfig.username,\n  });\n}\n",
            ),
        ]);
        let read: Vec<String> = w.iter().flat_map(|w| names(w)).map(|(n, _)| n).collect();
        assert!(!read.contains(&"UPTIME_KUMA_HOST".to_string()), "{w:?}");
    }

    /// uptime-kuma again: `server/config.js` declares (and exports) its
    /// listening `hostname` and `port`; the database connection reads
    /// `dbConfig.hostname`, a field of a local object read from a JSON
    /// file. The app's own listening address is not the database's — it
    /// would be rewritten to the database's host. Through the module
    /// (`config.hostname`), the exported variable is still found.
    #[test]
    fn a_local_objects_field_is_not_another_modules_variable() {
        let config = "const hostname = args.host || process.env.UPTIME_KUMA_HOST;\nconst port = [args.port, process.env.UPTIME_KUMA_PORT, 3001].find(Boolean);\nmodule.exports = { hostname, port };\n";
        let w = wiring(&[
            ("package.json", r#"{"dependencies": {"mysql2": "3"}}"#),
            ("server/config.js", config),
            (
                "server/database.js",
                "const mysql = require(\"mysql2/promise\");\nasync function connect() {\n  let dbConfig = readDBConfig();\n  const connection = await mysql.createConnection({\n    host: dbConfig.hostname,\n    port: dbConfig.port,\n  });\n}\n",
            ),
        ]);
        let read: Vec<String> = w.iter().flat_map(|w| names(w)).map(|(n, _)| n).collect();
        assert!(!read.contains(&"UPTIME_KUMA_HOST".to_string()), "{w:?}");
        assert!(!read.contains(&"UPTIME_KUMA_PORT".to_string()), "{w:?}");
        let w = wiring(&[
            ("package.json", r#"{"dependencies": {"mysql2": "3"}}"#),
            ("server/config.js", config),
            (
                "server/database.js",
                "const mysql = require(\"mysql2/promise\");\nconst config = require(\"./config\");\nconst connection = mysql.createConnection({\n  host: config.hostname,\n});\n",
            ),
        ]);
        let read: Vec<String> = w.iter().flat_map(|w| names(w)).map(|(n, _)| n).collect();
        assert!(read.contains(&"UPTIME_KUMA_HOST".to_string()), "{w:?}");
    }

    #[test]
    fn knexfile_with_node_config_and_sqlite_default() {
        let w = wiring(&[
            ("package.json", r#"{"dependencies": {"knex": "1", "config": "3", "pg": "8"}}"#),
            (
                "config/custom-environment-variables.yml",
                "db:\n  client: DB_CLIENT\n  connection: DB_CONNECTION\n",
            ),
            ("config/default.yml", "db:\n  client: sqlite3\n"),
            (
                "knexfile.js",
                "const config = require(\"config\")\nconst dbClient = config.get(\"db.client\")\nconst dbConnection = config.has(\"db.connection\") && config.get(\"db.connection\")\nconst options = {\n  client: dbClient,\n  connection: dbConnection || {\n    filename: \"data/dev.sqlite3\",\n  },\n}\nmodule.exports = options\n",
            ),
        ]);
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].convention, "knexfile");
        assert_eq!(
            names(&w[0]),
            vec![
                ("DB_CLIENT".into(), "engine"),
                ("DB_CONNECTION".into(), "url")
            ]
        );
        assert_eq!(w[0].settings[0].values[&Database::Postgresql], "pg");
        assert!(w[0].sqlite_fallback.is_some());
    }

    #[test]
    fn typeorm_parts_and_prisma() {
        let w = wiring(&[
            (
                "package.json",
                r#"{"dependencies": {"typeorm": "0.3", "pg": "8", "ioredis": "5"}}"#,
            ),
            (
                "src/data-source.ts",
                "export const AppDataSource = new DataSource({\n  type: \"postgres\",\n  host: process.env.DB_HOST || \"localhost\",\n  port: Number(process.env.DB_PORT ?? 5432),\n  username: process.env.DB_USER,\n  password: process.env.DB_PASSWORD,\n  database: process.env.DB_NAME,\n})\n",
            ),
            (
                "src/cache.ts",
                "const { REDIS_URL } = process.env\nexport const redis = new Redis(REDIS_URL)\n",
            ),
        ]);
        let db = &w[0];
        assert_eq!(db.convention, "typeorm");
        assert_eq!(db.engines, vec![Database::Postgresql]);
        assert_eq!(
            names(db),
            vec![
                ("DB_HOST".into(), "host"),
                ("DB_PORT".into(), "port"),
                ("DB_USER".into(), "username"),
                ("DB_PASSWORD".into(), "password"),
                ("DB_NAME".into(), "name")
            ]
        );
        assert_eq!(db.settings[1].evidence.line, Some(4));
        assert_eq!(names(&w[1]), vec![("REDIS_URL".into(), "url")]);
        let w = wiring(&[
            ("package.json", r#"{"dependencies": {"@prisma/client": "5"}}"#),
            (
                "prisma/schema.prisma",
                "datasource db {\n  provider = \"postgresql\"\n  url = env(\"DATABASE_URL\")\n  directUrl = env(\"DIRECT_URL\")\n}\n",
            ),
        ]);
        assert_eq!(
            names(&w[0]),
            vec![("DATABASE_URL".into(), "url"), ("DIRECT_URL".into(), "url")]
        );
    }

    #[test]
    fn sequelize_mongoose_and_libpq_defaults() {
        let w = wiring(&[
            (
                "package.json",
                r#"{"dependencies": {"sequelize": "6", "mysql2": "3", "mongoose": "8", "pg": "8"}}"#,
            ),
            (
                "models/index.js",
                "const sequelize = new Sequelize(process.env.DB_NAME, process.env.DB_USER, process.env.DB_PASS, {\n  host: process.env.DB_HOST,\n  dialect: 'mysql',\n})\n",
            ),
            (
                "config/env/production.js",
                "module.exports = {\n  db: process.env.MONGODB_URL,\n}\n",
            ),
            ("server.js", "mongoose.connect(config.db, { keepAlive: 1 })\nconst pool = new Pool()\n"),
        ]);
        let seq = w.iter().find(|w| w.convention == "sequelize").unwrap();
        assert_eq!(
            names(seq),
            vec![
                ("DB_NAME".into(), "name"),
                ("DB_USER".into(), "username"),
                ("DB_PASS".into(), "password"),
                ("DB_HOST".into(), "host")
            ]
        );
        assert_eq!(seq.engines, vec![Database::Mysql]);
        let mongo = w.iter().find(|w| w.convention == "mongoose").unwrap();
        assert_eq!(names(mongo), vec![("MONGODB_URL".into(), "url")]);
        assert!(w.iter().any(|w| w.convention == "node-postgres-libpq-env"));
    }

    #[test]
    fn settings_objects_and_templates() {
        let w = wiring(&[
            ("package.json", r#"{"dependencies": {"knex": "3", "mysql2": "3"}}"#),
            (
                "src/plugins/knex.ts",
                "export default fp(async (fastify) => {\n  fastify.decorate('knex', knex({\n    client: 'mysql2',\n    connection: {\n      host: fastify.config.MYSQL_HOST,\n      user: fastify.config.MYSQL_USER,\n      password: fastify.config.MYSQL_PASSWORD,\n      database: fastify.config.MYSQL_DATABASE,\n      port: Number(fastify.config.MYSQL_PORT)\n    }\n  }))\n})\n",
            ),
        ]);
        assert_eq!(w[0].engines, vec![Database::Mysql]);
        assert_eq!(w[0].settings.len(), 5);
        assert_eq!(w[0].settings[4].name, "MYSQL_PORT");
        let w = wiring(&[
            ("package.json", r#"{"dependencies": {"pg": "8"}}"#),
            (
                "db.js",
                "const url = `postgres://${process.env.PGU}:${process.env.PGP}@${process.env.PGH}:5432/${process.env.PGD}`\nconst pool = new Pool({ connectionString: url })\n",
            ),
        ]);
        assert_eq!(
            names(&w[0]),
            vec![
                ("PGU".into(), "username"),
                ("PGP".into(), "password"),
                ("PGH".into(), "host"),
                ("PGD".into(), "name")
            ]
        );
    }
}
