//! Rust's release knowledge: SQL migrations (`migrations/*.sql`, diesel's
//! `migrations/*/up.sql`) are applied by the app itself when its code embeds
//! them (`sqlx::migrate!`, `embed_migrations!`); otherwise they need a CLI
//! (sqlx-cli, diesel_cli) that `cargo build` does not install, so no release
//! step can run them and a finding says what to run.
//!
//! Not here: connection settings (`wiring.rs`).

use crate::ctx::Ctx;
use crate::draft::Draft;
use crate::repo::join;
use autodeploy_core::Severity;

/// Record a finding when migrations exist that nothing in the deployment runs.
pub(super) fn migrations(ctx: &Ctx, dir: &str, d: &mut Draft, sources: &[&str]) {
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
    let cli = if d
        .evidence
        .values()
        .flatten()
        .any(|e| e.note.contains("diesel"))
    {
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
