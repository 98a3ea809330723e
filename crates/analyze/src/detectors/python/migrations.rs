//! An Alembic history (plain Alembic or Flask-Migrate) read from its revision
//! files: where it lives, and whether `upgrade head` — the release step — can
//! run on it at all.
//!
//! Alembic refuses `upgrade head` when the history has more than one head
//! ("Multiple head revisions are present"): the release would fail on every
//! deploy. Branches that grow from one history (or histories the project
//! labels as separate branches, `branch_labels`) are meant to be applied
//! together, so the release upgrades every head (`upgrade heads`). Two
//! unlabelled histories are a mistake in the repository (two generated
//! `init` revisions, typically): no command fits, so the analysis says what
//! to change before a deploy.

use crate::ctx::Ctx;
use crate::draft::Draft;
use crate::repo::join;
use autodeploy_core::Severity;
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

/// `revision = 'abc'`, `revision: str = "abc"` (newer templates annotate).
static REVISION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)^revision(?:\s*:[^=\n]*)?\s*=\s*['"]([^'"]+)['"]"#).expect("valid regex")
});
/// `down_revision = None`, `= 'abc'`, `= ('a', 'b')` (a merge); the value.
static DOWN_REVISION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^down_revision(?:\s*:[^=\n]*)?\s*=\s*(.+)$").expect("valid regex")
});
/// `branch_labels = ('core',)`; the value.
static BRANCH_LABELS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^branch_labels(?:\s*:[^=\n]*)?\s*=\s*(.+)$").expect("valid regex")
});
static QUOTED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"['"]([^'"]+)['"]"#).expect("valid regex"));

/// The folder (relative to the repository) of the scripts `alembic.ini` in
/// `dir` points at (`script_location`, `alembic` when unset).
pub(super) fn script_location(ini: &str, dir: &str) -> String {
    let location = ini
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == "script_location").then(|| v.trim().to_string())
        })
        .unwrap_or_else(|| "alembic".into());
    let location = location
        .trim_start_matches("%(here)s/")
        .trim_start_matches("./");
    join(dir, location.trim_end_matches('/'))
}

/// The history in one versions folder.
#[derive(Debug, Default, PartialEq)]
struct History {
    /// Revisions no other revision builds on, sorted.
    heads: Vec<String>,
    /// Revisions with no parent, sorted.
    roots: Vec<String>,
    /// Roots the project names as a branch of their own.
    labelled_roots: usize,
    /// The file of each revision.
    files: BTreeMap<String, String>,
}

fn history(ctx: &Ctx, versions: &str) -> History {
    let mut h = History::default();
    let mut parents: BTreeSet<String> = BTreeSet::new();
    let prefix = format!("{versions}/");
    for path in ctx.index().files_under(versions) {
        // Only the folder's own scripts: `__pycache__` and helpers below it
        // are not revisions.
        let name = &path[prefix.len().min(path.len())..];
        if name.contains('/') || !name.ends_with(".py") || name.starts_with("__") {
            continue;
        }
        let Some(text) = ctx.read_path(path) else {
            continue;
        };
        let Some(rev) = REVISION.captures(&text).map(|c| c[1].to_string()) else {
            continue;
        };
        let down = DOWN_REVISION
            .captures(&text)
            .map(|c| c[1].to_string())
            .unwrap_or_default();
        let ups: Vec<String> = QUOTED.captures_iter(&down).map(|c| c[1].into()).collect();
        if ups.is_empty() {
            h.roots.push(rev.clone());
            if BRANCH_LABELS
                .captures(&text)
                .is_some_and(|c| QUOTED.is_match(&c[1]))
            {
                h.labelled_roots += 1;
            }
        }
        parents.extend(ups);
        h.files.insert(rev, path.to_string());
    }
    h.heads = h
        .files
        .keys()
        .filter(|r| !parents.contains(*r))
        .cloned()
        .collect();
    h.roots.sort();
    h
}

/// Check the history in `versions` for the release `web.release`, which
/// ends in `upgrade` (Flask-Migrate, whose default is `head`) or
/// `upgrade head`: upgrade every head where the history is meant to have
/// several, and say what to change where it cannot run.
pub(super) fn check_heads(ctx: &Ctx, versions: &str, web: &mut Draft) {
    let h = history(ctx, versions);
    if h.heads.len() < 2 {
        return;
    }
    let Some(release) = web.release.clone() else {
        return;
    };
    let heads = h.heads.join(", ");
    if h.roots.len() < 2 || h.labelled_roots == h.roots.len() {
        let all = match release.strip_suffix(" head") {
            Some(base) => format!("{base} heads"),
            None => format!("{release} heads"),
        };
        web.release = Some(all);
        web.note(
            "release",
            crate::draft::ev(
                versions,
                None,
                format!(
                    "the migration history has {} heads ({heads}): every one is upgraded",
                    h.heads.len()
                ),
            ),
        );
        return;
    }
    let files: Vec<&str> = h
        .roots
        .iter()
        .filter_map(|r| h.files.get(r).map(String::as_str))
        .collect();
    web.finding(
        "migration_heads",
        Severity::Warning,
        Some(versions),
        None,
        format!(
            "{versions} holds {} separate migration histories (first revisions: {}; last: {heads}), so the release `{release}` stops with \"Multiple head revisions are present\". Keep one history (delete the other's revision files) or join them with `alembic merge heads`, commit, then deploy",
            h.roots.len(),
            files.join(", "),
        ),
        None,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::MemRepo;
    use autodeploy_core::{Language, ServiceKind};

    fn rev(id: &str, down: &str) -> String {
        format!("\"\"\"x\"\"\"\nfrom alembic import op\n\n# revision identifiers, used by Alembic.\nrevision = '{id}'\ndown_revision = {down}\nbranch_labels = None\n\ndef upgrade():\n    pass\n")
    }

    fn release_of(files: &[(&str, String)]) -> Draft {
        let repo = MemRepo::new(files.iter().map(|(p, t)| (*p, t.as_str())));
        let ctx = Ctx::new(&repo);
        let mut d = Draft::new("", Language::Python, ServiceKind::Web);
        d.release = Some("alembic upgrade head".into());
        check_heads(&ctx, "migrations/versions", &mut d);
        d
    }

    #[test]
    fn one_line_of_revisions_keeps_upgrade_head() {
        let d = release_of(&[
            ("migrations/versions/a_init.py", rev("a1", "None")),
            ("migrations/versions/b_more.py", rev("b2", "'a1'")),
            (
                "migrations/versions/c_typed.py",
                "revision: str = \"c3\"\ndown_revision: Union[str, None] = \"b2\"\n".into(),
            ),
        ]);
        assert_eq!(d.release.as_deref(), Some("alembic upgrade head"));
        assert!(d.findings.is_empty());
    }

    #[test]
    fn branches_of_one_history_upgrade_every_head() {
        let d = release_of(&[
            ("migrations/versions/a.py", rev("a1", "None")),
            ("migrations/versions/b.py", rev("b2", "'a1'")),
            ("migrations/versions/c.py", rev("c3", "'a1'")),
        ]);
        assert_eq!(d.release.as_deref(), Some("alembic upgrade heads"));
        assert!(d.findings.is_empty());
        // A merge revision joins them again: one head.
        let d = release_of(&[
            ("migrations/versions/a.py", rev("a1", "None")),
            ("migrations/versions/b.py", rev("b2", "'a1'")),
            ("migrations/versions/c.py", rev("c3", "'a1'")),
            ("migrations/versions/d.py", rev("d4", "('b2', 'c3')")),
        ]);
        assert_eq!(d.release.as_deref(), Some("alembic upgrade head"));
    }

    #[test]
    fn two_unlabelled_histories_are_a_warning_with_what_to_change() {
        // testdrivenio/fastapi-sqlmodel-alembic: two `init` revisions, each
        // with its own `add_year`.
        let d = release_of(&[
            (
                "migrations/versions/842abcd80d3e_init.py",
                rev("842abcd80d3e", "None"),
            ),
            (
                "migrations/versions/f68b489cdeb0_add_year.py",
                rev("f68b489cdeb0", "'842abcd80d3e'"),
            ),
            (
                "migrations/versions/f9c634db477d_init.py",
                rev("f9c634db477d", "None"),
            ),
            (
                "migrations/versions/53754b2c08a4_add_year.py",
                rev("53754b2c08a4", "'f9c634db477d'"),
            ),
            ("migrations/versions/__pycache__/x.py", rev("zz", "None")),
        ]);
        assert_eq!(d.release.as_deref(), Some("alembic upgrade head"));
        let f = d
            .findings
            .iter()
            .find(|f| f.kind == "migration_heads")
            .expect("a migration_heads finding");
        assert_eq!(f.severity, Severity::Warning);
        assert!(
            f.message.contains("2 separate migration histories"),
            "{}",
            f.message
        );
        assert!(
            f.message
                .contains("migrations/versions/842abcd80d3e_init.py"),
            "{}",
            f.message
        );
        assert!(
            f.message.contains("53754b2c08a4, f68b489cdeb0"),
            "{}",
            f.message
        );
        assert!(f.message.contains("alembic merge heads"), "{}", f.message);
    }

    #[test]
    fn labelled_histories_upgrade_every_head() {
        let labelled = |id: &str, label: &str| {
            format!("revision = '{id}'\ndown_revision = None\nbranch_labels = ('{label}',)\n")
        };
        let d = release_of(&[
            ("migrations/versions/a.py", labelled("a1", "core")),
            ("migrations/versions/b.py", labelled("b1", "audit")),
        ]);
        assert_eq!(d.release.as_deref(), Some("alembic upgrade heads"));
        assert!(d.findings.is_empty());
        // Flask-Migrate's `flask db upgrade` defaults to `head`.
        let repo = MemRepo::new([
            ("migrations/versions/a.py", labelled("a1", "core").as_str()),
            ("migrations/versions/b.py", labelled("b1", "audit").as_str()),
        ]);
        let ctx = Ctx::new(&repo);
        let mut d = Draft::new("", Language::Python, ServiceKind::Web);
        d.release = Some("FLASK_APP=app flask db upgrade".into());
        check_heads(&ctx, "migrations/versions", &mut d);
        assert_eq!(
            d.release.as_deref(),
            Some("FLASK_APP=app flask db upgrade heads")
        );
    }
}
