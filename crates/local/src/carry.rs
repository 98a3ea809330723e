//! What the app wrote into its copy survives a redeploy.
//!
//! Each release runs from its own copy of the code (`<release>/app`), so a
//! SQLite database an app keeps beside its code (`sqlite:///app.db`,
//! Flask's `instance/`), its uploads or any other file it writes would stay
//! behind in the old release, which is removed once the new one serves.
//!
//! How the files are told apart from the code: right after install and
//! build, before the release steps (migrations create or change the
//! database), the release lists every file of its copy with its size and
//! modification time (`built-files.json`). On the next redeploy, every file
//! of the old copy that is not on that list, or whose size or time changed
//! since, is what the app (or its release steps) wrote; those files are
//! copied into the new copy, at the same paths, after its build and before
//! its release steps, so migrations run against the kept data. Caches that
//! are rebuilt anyway (`__pycache__`, `node_modules`, `.next`, `tmp/` with
//! its pid files…) are left out.
//!
//! Who copies: the deployment's own account (`tar` run as a step), never the
//! service's rights. The old copy is the app's to write, so a link planted in
//! it could otherwise make a privileged copy read files the app must not.
//! The list itself is made from metadata only (no file is opened, no link
//! followed).
//!
//! The copy is taken while the old release still serves (it keeps serving
//! until the new one answers, and keeps its data when the new one fails);
//! what it writes after the copy is not carried. That window is the new
//! release's start and health check.

use crate::error::LocalError;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::UNIX_EPOCH;

/// The list of the files a release's copy held before its app ran.
pub(crate) const BUILT_LIST: &str = "built-files.json";

/// Folders rebuilt by the next release (or runtime caches) that are never
/// the app's data.
const SKIP_DIRS: &[&str] = &[
    ".git",
    "node_modules",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".venv",
    "venv",
    ".next",
    ".nuxt",
    ".svelte-kit",
    ".cache",
    ".parcel-cache",
    ".sass-cache",
    "target",
    "tmp",
];

/// Files that belong to a running process, never to the next one.
fn skipped_file(name: &str) -> bool {
    name.ends_with(".pyc") || name.ends_with(".pid") || name.ends_with(".sock")
}

/// Every regular file under `app_dir` (links are not followed and not
/// listed): relative path → (size, modification time in ns).
fn walk(app_dir: &Path) -> BTreeMap<String, (u64, i128)> {
    let mut out = BTreeMap::new();
    let walker = walkdir::WalkDir::new(app_dir)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0
                || !(e.file_type().is_dir()
                    && e.file_name()
                        .to_str()
                        .is_some_and(|n| SKIP_DIRS.contains(&n)))
        });
    for e in walker.flatten() {
        if !e.file_type().is_file() {
            continue;
        }
        let Some(name) = e.file_name().to_str() else {
            continue;
        };
        if skipped_file(name) {
            continue;
        }
        let Ok(rel) = e.path().strip_prefix(app_dir) else {
            continue;
        };
        // Paths that are not UTF-8 or hold a newline are neither listed nor
        // carried: the list and tar's input could not say them exactly.
        let Some(rel) = rel.to_str().filter(|r| !r.contains('\n')) else {
            continue;
        };
        let Ok(meta) = e.metadata() else { continue };
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as i128);
        out.insert(rel.to_string(), (meta.len(), mtime));
    }
    out
}

/// Write `<rel_dir>/built-files.json`: the copy as install and build left it.
pub(crate) fn remember_built(app_dir: &Path, rel_dir: &Path) -> Result<(), LocalError> {
    let list = walk(app_dir);
    let path = rel_dir.join(BUILT_LIST);
    let text = serde_json::to_string(&list).unwrap_or_else(|_| "{}".into());
    std::fs::write(&path, text).map_err(|e| LocalError::io("write", &path, e))
}

/// What the app of the release in `rel_dir` wrote into its copy since it was
/// built: relative paths, with their total size. `None` when the release
/// has no list (made by an autodeploy before this one): then nothing can be
/// told apart and nothing is carried.
pub(crate) fn written_since_built(rel_dir: &Path) -> Option<(Vec<String>, u64)> {
    let text = std::fs::read_to_string(rel_dir.join(BUILT_LIST)).ok()?;
    let built: BTreeMap<String, (u64, i128)> = serde_json::from_str(&text).ok()?;
    let now = walk(&rel_dir.join("app"));
    let mut bytes = 0;
    let files = now
        .into_iter()
        .filter(|(p, meta)| built.get(p) != Some(meta))
        .map(|(p, (len, _))| {
            bytes += len;
            p
        })
        .collect();
    Some((files, bytes))
}

/// The command that copies `files` from `$CARRY_FROM` to `$CARRY_TO` (read
/// from `$CARRY_LIST`, NUL-separated), keeping modes and times. Paths come
/// through the environment, never through the command text.
pub(crate) const COPY_COMMAND: &str = "tar -C \"$CARRY_FROM\" --null --no-recursion --ignore-failed-read -T \"$CARRY_LIST\" -cf - | tar -C \"$CARRY_TO\" -xpf -";

/// Write the NUL-separated list `tar` reads.
pub(crate) fn write_list(path: &Path, files: &[String]) -> Result<(), LocalError> {
    let mut buf = Vec::new();
    for f in files {
        buf.extend_from_slice(f.as_bytes());
        buf.push(0);
    }
    std::fs::write(path, buf).map_err(|e| LocalError::io("write", path, e))
}

/// A few of `files` for a message: the first ones, and how many more.
pub(crate) fn sample(files: &[String]) -> String {
    let shown: Vec<&str> = files.iter().take(4).map(String::as_str).collect();
    if files.len() > shown.len() {
        format!(
            "{} and {} more",
            shown.join(", "),
            files.len() - shown.len()
        )
    } else {
        shown.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_app_wrote_is_told_from_what_was_built() {
        let rel = tempfile::tempdir().unwrap();
        let app = rel.path().join("app");
        for (p, body) in [
            ("app.py", "x"),
            ("static/site.css", "y"),
            ("node_modules/a/index.js", "z"),
            ("instance/.keep", ""),
        ] {
            let f = app.join(p);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, body).unwrap();
        }
        remember_built(&app, rel.path()).unwrap();
        // Then the app runs: a database, an upload, a changed file, caches.
        std::fs::write(app.join("instance/app.sqlite"), "SQLite format 3\0").unwrap();
        std::fs::create_dir_all(app.join("uploads")).unwrap();
        std::fs::write(app.join("uploads/a.png"), "png").unwrap();
        std::fs::write(app.join("static/site.css"), "changed at run time").unwrap();
        std::fs::create_dir_all(app.join("__pycache__")).unwrap();
        std::fs::write(app.join("__pycache__/app.cpython-312.pyc"), "c").unwrap();
        std::fs::write(app.join("node_modules/a/new.js"), "c").unwrap();
        std::fs::create_dir_all(app.join("tmp/pids")).unwrap();
        std::fs::write(app.join("tmp/pids/server.pid"), "1").unwrap();
        std::fs::write(app.join("gunicorn.pid"), "1").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", app.join("uploads/link")).unwrap();

        let (files, bytes) = written_since_built(rel.path()).unwrap();
        assert_eq!(
            files,
            ["instance/app.sqlite", "static/site.css", "uploads/a.png"]
        );
        assert_eq!(bytes, 16 + 19 + 3);
    }

    #[test]
    fn a_release_without_a_list_carries_nothing() {
        let rel = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(rel.path().join("app")).unwrap();
        assert!(written_since_built(rel.path()).is_none());
    }

    #[test]
    fn the_sample_names_a_few_and_counts_the_rest() {
        let f: Vec<String> = (1..=6).map(|i| format!("f{i}")).collect();
        assert_eq!(sample(&f), "f1, f2, f3, f4 and 2 more");
        assert_eq!(sample(&f[..2]), "f1, f2");
    }
}
