//! Databases a Node package names outside its code: direct dependencies
//! (`dependencies` only, never devDependencies), the Prisma schema's datasource
//! (and the env vars it reads), TypeORM's `ormconfig.json`.
//!
//! Deliberately not here: connection URLs and ORM dialects in source files (`code.rs`).

use super::frameworks::{database_of_dialect, DB_DEPS};
use super::manifest::Manifest;
use crate::ctx::Ctx;
use crate::draft::{ev, Draft};
use crate::repo::join;
use crate::scan::first_match;
use autodeploy_core::Database;
use regex::Regex;
use std::collections::BTreeSet;
use std::sync::LazyLock;

/// Databases from direct dependencies, in table order (so `redis` rather than
/// `connect-redis` is the evidence).
pub(super) fn from_dependencies(m: &Manifest, draft: &mut Draft) {
    for (dep, db) in DB_DEPS {
        if let Some(e) = m.deps.get(*dep) {
            draft.database(
                *db,
                ev(&m.file, e.line, format!("depends on {dep}@{}", e.value)),
            );
        }
    }
    for (dep, db) in WITHOUT_TLS {
        if m.deps.contains_key(*dep) && !draft.drivers_without_tls.contains(db) {
            draft.drivers_without_tls.push(*db);
        }
    }
}

/// Drivers a project may also use as a plain client of someone else's
/// server, beside the store its ORM keeps its data in.
const BARE_DRIVERS: &[&str] = &[
    "pg",
    "pg-promise",
    "postgres",
    "mysql",
    "mysql2",
    "mariadb",
    "mongodb",
];

/// A project whose ORM names the server engine it keeps its data in
/// (`client: "mysql2"`, `dialect: "postgres"`) stores nothing in another
/// engine it only has a bare driver for: that driver is a client the code
/// uses for something else (uptime-kuma's `pg` and `mongodb` check users'
/// servers as monitor types, while knex keeps its data in SQLite or
/// MariaDB). Such an engine is not the app's database, and a deployment
/// must not provision one for it.
pub(super) fn store_named_by_the_orm(m: &Manifest, orm: &BTreeSet<Database>, draft: &mut Draft) {
    let server = |d: &Database| {
        matches!(
            d,
            Database::Postgresql | Database::Mysql | Database::Mongodb
        )
    };
    if !orm.iter().any(server) {
        return;
    }
    // The engine's dependencies in the manifest, in table order: a client
    // only when there are some and every one is a bare driver (an engine
    // also named by a session store or an ORM adapter is kept).
    let clients: Vec<(Database, &str)> = draft
        .databases
        .keys()
        .filter(|db| server(db) && !orm.contains(db))
        .filter_map(|db| {
            let deps: Vec<&str> = DB_DEPS
                .iter()
                .filter(|(dep, d)| d == db && m.deps.contains_key(*dep))
                .map(|(dep, _)| *dep)
                .collect();
            let bare = !deps.is_empty() && deps.iter().all(|d| BARE_DRIVERS.contains(d));
            bare.then(|| (*db, deps[0]))
        })
        .collect();
    for (db, dep) in clients {
        let e = draft.databases.remove(&db).expect("listed above");
        draft.note(
            "database_clients",
            ev(
                &e.file,
                e.line,
                format!(
                    "{dep} is a client the code uses, not its store: the ORM names {}",
                    names(orm)
                ),
            ),
        );
    }
}

fn names(engines: &BTreeSet<Database>) -> String {
    engines
        .iter()
        .map(|d| d.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A top-level entry of the knexfile's exported object (`  development: {`).
static KNEX_ENVIRONMENT: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"(?m)^(?:  |\t)(\w+)\s*:\s*\{").expect("regex"));

/// Code that picks its knex configuration by `NODE_ENV` (`file:line`)
/// from a knexfile with a `development` entry but no `production` one
/// (fastify-realworld: its production block is commented out): under
/// `NODE_ENV=production`, what every deployment runs, knex gets no
/// configuration and the app stops at start. Said before a deploy.
pub(super) fn knexfile_without_production(
    ctx: &Ctx,
    dir: &str,
    file: &str,
    line: u32,
    draft: &mut Draft,
) {
    let Some((name, text)) = ["knexfile.js", "knexfile.ts", "knexfile.cjs", "knexfile.mjs"]
        .iter()
        .find_map(|n| ctx.read(dir, n).map(|t| (*n, t)))
    else {
        return;
    };
    let code = crate::wiring::mask_c_comments(&text);
    let entries: Vec<&str> = KNEX_ENVIRONMENT
        .captures_iter(&code)
        .filter_map(|c| c.get(1).map(|m| m.as_str()))
        .collect();
    if !entries.contains(&"development") || entries.contains(&"production") {
        return;
    }
    let knexfile = join(dir, name);
    draft.finding(
        "knex_no_production_config",
        autodeploy_core::Severity::Warning,
        Some(file),
        Some(line),
        format!(
            "{file}:{line} picks its knex configuration by NODE_ENV, and {knexfile} has entries for {} but none for production: under NODE_ENV=production, which the deployment runs, knex gets no configuration and the app stops at start — add a `production` entry to {knexfile} (reading the database the deployment provides, e.g. process.env.DATABASE_URL)",
            entries.join(", ")
        ),
        None,
    );
}

/// Drivers that connect without TLS unless their options ask for it
/// (`ssl: …`): node-postgres (and pg-promise over it), postgres.js, mysqljs,
/// mysql2, the MariaDB connector. A server that requires TLS refuses them.
const WITHOUT_TLS: &[(&str, autodeploy_core::Database)] = &[
    ("pg", autodeploy_core::Database::Postgresql),
    ("pg-promise", autodeploy_core::Database::Postgresql),
    ("postgres", autodeploy_core::Database::Postgresql),
    ("mysql", autodeploy_core::Database::Mysql),
    ("mysql2", autodeploy_core::Database::Mysql),
    ("mariadb", autodeploy_core::Database::Mysql),
];

pub(super) static PRISMA_DATASOURCE: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"(?s)\bdatasource\s+\w+\s*\{(.*?)\}").expect("regex"));

pub(super) static PRISMA_PROVIDER: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r#"\bprovider\s*=\s*"(\w+)""#).expect("regex"));

pub(super) static PRISMA_ENV: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r#"\benv\(\s*"([A-Za-z_]\w*)"\s*\)"#).expect("regex"));

/// `datasource db { provider = "postgresql"; url = env("DATABASE_URL") }` in the Prisma schema.
pub(super) fn prisma(ctx: &Ctx, dir: &str, m: &Manifest, draft: &mut Draft) {
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
        let body = block.get(1).expect("group");
        let at = body.start();
        if let Some(c) = PRISMA_PROVIDER.captures(body.as_str()) {
            let line = crate::scan::line_of(&text, at + c.get(0).map_or(0, |g| g.start()));
            if let Some(db) = database_of_dialect(&c[1]) {
                draft.database(
                    db,
                    ev(&file, Some(line), format!("provider = \"{}\"", &c[1])),
                );
            }
        }
        for c in PRISMA_ENV.captures_iter(body.as_str()) {
            let line = crate::scan::line_of(&text, at + c.get(0).map_or(0, |g| g.start()));
            draft.env_var(&c[1], false, &file, line);
        }
        return;
    }
}

/// TypeORM's `ormconfig.json` `"type": "postgres"`.
pub(super) fn ormconfig(ctx: &Ctx, dir: &str, draft: &mut Draft) {
    static TYPE: LazyLock<Regex> =
        LazyLock::new(|| crate::scan::try_regex(r#""type"\s*:\s*"([\w-]+)""#).expect("regex"));
    let file = join(dir, "ormconfig.json");
    if let Some(text) = ctx.read_path(&file) {
        if let Some((line, c)) = first_match(&text, &TYPE) {
            if let Some(db) = database_of_dialect(&c[1]) {
                draft.database(db, ev(&file, Some(line), format!("type {}", &c[1])));
            }
        }
    }
}
