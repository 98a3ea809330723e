//! Node's release step: one-off steps the production start script chains in
//! front of the server (`"start": "prisma migrate deploy && node
//! dist/main.js"` → release `npx prisma migrate deploy`, start `node
//! dist/main.js`), else what the project's migration tool says when its
//! pieces are there: the project's own migration script (`db:migrate`,
//! `migrate:deploy`…, [`MIGRATE_SCRIPTS`]), else its tool ([`TOOLS`]): Prisma (`migrate deploy` with
//! `prisma/migrations`, else `db push`, which creates the schema and refuses
//! changes that lose data), knex (`migrate:latest` with a knexfile and
//! migrations), sequelize-cli (`db:migrate`), drizzle-kit (`migrate` with
//! the migrations its config's `out` names). A tool runs only when it is a
//! dependency the install step installs.
//!
//! Not here: splitting commands (`crate::release`), the start itself (`start.rs`).

use super::Pkg;
use crate::draft::{ev, Draft, Trust};
use crate::repo::join;
use autodeploy_core::ServiceKind;

/// A migration tool: (dependency, the files that must be there, command, note).
struct Tool {
    dep: &'static str,
    /// Any of these paths (relative to the package) holding files.
    needs: &'static [&'static str],
    command: &'static str,
    note: &'static str,
}

const TOOLS: &[Tool] = &[
    Tool {
        dep: "prisma",
        needs: &["prisma/migrations"],
        command: "prisma migrate deploy",
        note: "Prisma migrations (prisma/migrations)",
    },
    Tool {
        dep: "knex",
        needs: &[
            "migrations",
            "db/migrations",
            "src/migrations",
            "src/db/migrations",
        ],
        command: "knex migrate:latest",
        note: "knex migrations beside a knexfile",
    },
    Tool {
        dep: "sequelize-cli",
        needs: &["migrations", "db/migrations", "src/migrations"],
        command: "sequelize-cli db:migrate",
        note: "sequelize-cli migrations",
    },
    // The folder is the config's `out` (see `drizzle_out`).
    Tool {
        dep: "drizzle-kit",
        needs: &[],
        command: "drizzle-kit migrate",
        note: "drizzle-kit migrations",
    },
];

/// drizzle-kit's migrations folder: the `out` of its config
/// (`drizzle.config.ts`: `out: "./src/db/migrations"`), `drizzle` by
/// default; `None` without a config, which `drizzle-kit migrate` needs.
fn drizzle_out(pkg: &Pkg) -> Option<String> {
    static OUT: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| crate::scan::regex(r#"\bout\s*:\s*["'`]([^"'`$]+)["'`]"#));
    let text = [
        "drizzle.config.ts",
        "drizzle.config.js",
        "drizzle.config.mjs",
        "drizzle.config.cjs",
    ]
    .iter()
    .find_map(|f| pkg.ctx.read(pkg.dir, f))?;
    let out = OUT
        .captures(&text)
        .map(|c| {
            c[1].trim()
                .trim_start_matches("./")
                .trim_end_matches('/')
                .to_string()
        })
        .unwrap_or_else(|| "drizzle".into());
    (!out.is_empty() && !out.starts_with('/') && !out.contains("..")).then_some(out)
}

/// Scripts that apply the project's migrations, most specific first.
const MIGRATE_SCRIPTS: &[&str] = &[
    "migrate:deploy",
    "db:migrate:deploy",
    "migrate:prod",
    "db:migrate:prod",
    "db:migrate",
    "migrate",
    "migration:run",
    "migrations:run",
    "db:deploy",
];

/// Script bodies that are not a deploy-time migration (interactive, destructive, watching).
const NOT_RELEASE: &[&str] = &[
    "migrate dev",
    "migrate reset",
    "--watch",
    "db:drop",
    "rollback",
];

/// The project's own migration script, when it can run where it is deployed
/// (`--env-file=.env` needs a file the repository does not have).
fn migrate_script<'m>(pkg: &'m Pkg) -> Option<(&'static str, &'m super::manifest::Entry)> {
    MIGRATE_SCRIPTS.iter().find_map(|name| {
        let e = pkg.m.script(name)?;
        if NOT_RELEASE.iter().any(|n| e.value.contains(n)) {
            return None;
        }
        let missing_env_file = e
            .value
            .split_whitespace()
            .filter_map(|w| w.strip_prefix("--env-file="))
            .any(|f| !pkg.ctx.index().contains(&join(pkg.dir, f)));
        (!missing_env_file).then_some((*name, e))
    })
}

/// Words that run as they are (not package binaries that need `npx`).
const PLAIN: &[&str] = &[
    "node", "npm", "npx", "yarn", "pnpm", "bun", "bunx", "sh", "bash", "cd", "deno",
];

/// A command from inside a package.json script, runnable outside it: package
/// binaries get the manager's exec (`prisma …` → `npx prisma …`).
fn runnable(pkg: &Pkg, cmd: &str) -> String {
    cmd.split(" && ")
        .map(|part| {
            let first = part.split_whitespace().next().unwrap_or("");
            if PLAIN.contains(&first) || first.contains('/') || first.contains('=') {
                part.to_string()
            } else {
                pkg.mgr.exec(part)
            }
        })
        .collect::<Vec<_>>()
        .join(" && ")
}

fn has_files(pkg: &Pkg, rel: &str) -> bool {
    pkg.ctx
        .index()
        .files_under(&join(pkg.dir, rel))
        .next()
        .is_some()
}

/// The package's own web draft (not a named process beside it).
fn package_web(drafts: &mut [Draft]) -> Option<&mut Draft> {
    drafts
        .iter_mut()
        .find(|d| d.kind == ServiceKind::Web && d.name.is_none())
}

/// Set the release (and trim the start) of the package's web draft.
pub(super) fn apply(pkg: &Pkg, drafts: &mut [Draft]) {
    let Some(web) = package_web(drafts) else {
        return;
    };
    // The start script's own chain.
    if let Some((name, entry)) = pkg.prod_start {
        let run = pkg.mgr.run(name);
        if let Some(split) = crate::release::split(&entry.value) {
            let evidence = ev(&pkg.m.file, entry.line, format!("{name}: {}", entry.value));
            if let Some(c) = web.starts.iter_mut().find(|c| c.value == run) {
                c.value = runnable(pkg, &split.start);
            }
            if let Some(r) = split.release {
                web.release = Some(runnable(pkg, &r));
                web.note("release", evidence.clone());
            }
            if let Some(b) = split.build {
                let b = runnable(pkg, &b);
                match web.builds.iter_mut().max_by_key(|c| c.trust) {
                    Some(best) if best.value.contains(&b) => {}
                    Some(best) => best.value = format!("{} && {b}", best.value),
                    None => web.build(b, Trust::Config, evidence),
                }
            }
            if web.release.is_some() {
                return;
            }
        }
    }
    if web.release.is_some() {
        return;
    }
    // The project's own migration script.
    if let Some((name, e)) = migrate_script(pkg) {
        web.release = Some(pkg.mgr.run(name));
        web.note(
            "release",
            ev(&pkg.m.file, e.line, format!("{name}: {}", e.value)),
        );
        return;
    }
    // The migration tool the project depends on.
    for t in TOOLS {
        let Some((_, dep)) = pkg.m.dep(t.dep) else {
            continue;
        };
        let prisma_schema = t.dep == "prisma"
            && (pkg.m.prisma_schema.is_some()
                || pkg.ctx.has(&join(pkg.dir, "prisma"), "schema.prisma")
                || pkg.ctx.has(pkg.dir, "schema.prisma"));
        // Prisma keeps its migrations beside the schema (`src/prisma/migrations`).
        let schema_migrations = pkg
            .m
            .prisma_schema
            .as_deref()
            .map(|p| join(crate::repo::parent(p), "migrations"));
        let found = t
            .needs
            .iter()
            .map(|n| n.to_string())
            .chain(schema_migrations.filter(|_| t.dep == "prisma"))
            .chain(drizzle_out(pkg).filter(|_| t.dep == "drizzle-kit"))
            .find(|n| has_files(pkg, n));
        let schema_flag = pkg
            .m
            .prisma_schema
            .as_deref()
            .map(|s| format!(" --schema {s}"))
            .unwrap_or_default();
        let (cmd, note) = match (t.dep, found) {
            ("prisma", Some(_)) if prisma_schema => (format!("{}{schema_flag}", t.command), t.note.to_string()),
            // No migrations: `db push` creates the schema from schema.prisma and
            // stops (non-zero) rather than drop data when a change would lose some.
            ("prisma", None) if prisma_schema => (
                format!("prisma db push --skip-generate{schema_flag}"),
                "Prisma schema without migrations: db push creates the tables and refuses data-losing changes".to_string(),
            ),
            ("knex", Some(_)) if ["knexfile.js", "knexfile.ts", "knexfile.cjs", "knexfile.mjs"].iter().any(|k| pkg.ctx.has(pkg.dir, k)) => {
                (t.command.to_string(), t.note.to_string())
            }
            ("sequelize-cli", Some(_)) => (t.command.to_string(), t.note.to_string()),
            ("drizzle-kit", Some(out)) => (t.command.to_string(), format!("{} ({out})", t.note)),
            _ => continue,
        };
        web.release = Some(pkg.mgr.exec(&cmd));
        web.note(
            "release",
            ev(
                &pkg.m.file,
                dep.line,
                format!("{note} (depends on {}@{})", t.dep, dep.value),
            ),
        );
        return;
    }
}

/// The project's own script that creates the database from nothing
/// (`"setup-example-db": "node sqlite-example-database/setup.js"`, which
/// calls `sync({ force: true })`; `"db:init"`) as the first deploy's `init`,
/// when no migration runs as the release step.
pub(super) fn init_script(pkg: &Pkg, drafts: &mut [Draft]) {
    let Some(web) = package_web(drafts) else {
        return;
    };
    if web.release.is_some() || web.init.is_some() {
        return;
    }
    let Some((key, e)) = pkg.m.scripts.iter().find(|(k, e)| {
        crate::release::is_database_init_name(k) && !NOT_RELEASE.iter().any(|n| e.value.contains(n))
    }) else {
        return;
    };
    let cmd = pkg.mgr.run(key);
    web.init = Some(cmd.clone());
    web.note(
        "init",
        ev(&pkg.m.file, e.line, format!("{key}: {}", e.value)),
    );
    web.finding(
        "database_init_command",
        autodeploy_core::Severity::Info,
        Some(&pkg.m.file),
        e.line,
        format!(
            "the database is created by the project's script `{key}` ({}), and no migration makes its tables: it runs once, on the deployment's first deploy (`{cmd}`), never on a redeploy, because such a script usually drops what is there",
            pkg.m.file
        ),
        None,
    );
}
