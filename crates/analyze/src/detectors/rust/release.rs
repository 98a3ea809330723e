//! Rust's release knowledge: SQL migrations (`migrations/*.sql`, diesel's
//! `migrations/*/up.sql`) are applied by the app itself when its code embeds
//! them (`sqlx::migrate!`, `embed_migrations!`). Otherwise they are the
//! release step of the crate's own tool: `diesel migration run` for diesel's
//! (a folder per migration), `sqlx migrate run` for sqlx's — what each
//! guide runs; the deploy provides the CLI, which `cargo build` does not
//! install (`autodeploy_core::release_cli`). Migrations of neither get a
//! finding that says what to run.
//!
//! Not here: connection settings (`wiring.rs`).

use crate::ctx::Ctx;
use crate::draft::{ev, Draft};
use crate::repo::join;
use autodeploy_core::release_cli::{sqlx_migrate_folder, SQLX_CHECKED_QUERIES};
use autodeploy_core::Severity;

/// The migrations folder (relative to `dir`) whose schema a build checks
/// its sqlx queries against: the crate uses a checked-query macro, commits
/// no offline data (`.sqlx/` or `sqlx-data.json` beside the crate or at its
/// workspace `root`), and has that folder (`migrations/`, or the one
/// `sqlx::migrate!("…")` names, inside the crate).
pub(super) fn build_schema(ctx: &Ctx, dir: &str, root: &str, sources: &[&str]) -> Option<String> {
    let offline = [dir, root].iter().any(|d| {
        ctx.has(d, "sqlx-data.json") || ctx.index().files_under(&join(d, ".sqlx")).next().is_some()
    });
    if offline {
        return None;
    }
    let mut checked = false;
    let mut folder: Option<String> = None;
    for f in sources {
        let Some(text) = ctx.read_path(f) else {
            continue;
        };
        checked |= SQLX_CHECKED_QUERIES.iter().any(|m| text.contains(m));
        if folder.is_none() {
            folder = sqlx_migrate_folder(&text).map(str::to_string);
        }
    }
    let rel = folder.unwrap_or_else(|| "migrations".into());
    let inside = !rel.is_empty()
        && rel.split('/').all(|c| {
            !c.is_empty()
                && !c.starts_with('.')
                && c.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
        });
    let has_sql = ctx
        .index()
        .files_under(&join(dir, &rel))
        .any(|f| f.ends_with(".sql"));
    (checked && inside && has_sql).then_some(rel)
}

/// Record a finding when migrations exist that nothing in the deployment runs.
/// `diesel`: the crate depends on diesel (its migrations are diesel's).
pub(super) fn migrations(
    ctx: &Ctx,
    dir: &str,
    d: &mut Draft,
    sources: &[&str],
    diesel: bool,
    sqlx: bool,
) {
    let folder = join(dir, "migrations");
    let has_sql = ctx
        .index()
        .files_under(&folder)
        .any(|f| f.ends_with(".sql"));
    if !has_sql {
        return;
    }
    let embedded = sources.iter().any(|f| {
        ctx.read_path(f).is_some_and(|t| {
            t.contains("migrate!(") || t.contains("embed_migrations!(") || t.contains("Migrator::")
        })
    });
    if embedded {
        return;
    }
    // diesel's layout: a folder per migration holding its up.sql.
    let diesel_layout = ctx
        .index()
        .files_under(&folder)
        .any(|f| f.ends_with("/up.sql"));
    let step = if diesel && diesel_layout {
        Some((
            "diesel migration run",
            "diesel migrations (a folder per migration with its up.sql) that the code does not embed",
        ))
    } else if sqlx && !diesel && !diesel_layout {
        Some((
            "sqlx migrate run",
            "sqlx migrations (migrations/*.sql) that the code does not embed (no sqlx::migrate!)",
        ))
    } else {
        None
    };
    if let Some((command, why)) = step {
        if d.release.is_none() {
            d.release = Some(command.into());
            d.note("release", ev(&folder, None, why));
        }
        return;
    }
    let cli = if diesel {
        "diesel migration run"
    } else {
        "sqlx migrate run"
    };
    d.finding(
        "migrations_not_run",
        Severity::Warning,
        Some(&folder),
        None,
        format!(
            "{folder} holds SQL migrations the app does not apply itself (no sqlx::migrate!/embed_migrations! in the code), and the build installs no migration CLI: apply them (`{cli}`) against the deployment's database before the app serves requests"
        ),
        None,
    );
}
