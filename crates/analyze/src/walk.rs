//! The parallel walk that turns a folder into a [`FileIndex`].
//!
//! Honours `.gitignore` (even outside a git work tree), never follows symlinks,
//! and prunes vendored, generated and tool folders (node_modules, vendor, .venv,
//! target, dist…) before descending into them. It only lists: no file content
//! is read here, and no file metadata is fetched beyond what the directory
//! listing gives.

use crate::repo::FileIndex;
use ignore::{WalkBuilder, WalkState};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Folder names that never hold a deployable app's own source.
const SKIP_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "bower_components",
    "jspm_packages",
    "vendor",
    ".venv",
    "venv",
    "__pycache__",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "site-packages",
    ".eggs",
    "target",
    "dist",
    ".next",
    ".nuxt",
    ".output",
    ".svelte-kit",
    ".turbo",
    ".parcel-cache",
    ".cache",
    ".angular",
    ".expo",
    ".vercel",
    ".netlify",
    ".serverless",
    ".terraform",
    ".gradle",
    ".idea",
    ".vscode",
    "obj",
    "_build",
    "coverage",
    ".nyc_output",
    "storybook-static",
    "Pods",
    ".dart_tool",
    ".bundle",
    "tmp",
    "autodeploy-plans",
];

/// Folder names skipped only when they look like what they usually are.
fn skip_conditional(path: &Path, name: &str) -> bool {
    match name {
        // A virtualenv under another name.
        "env" | ".env" | "virtualenv" => path.join("pyvenv.cfg").exists(),
        // Elixir dependencies.
        "deps" => path.parent().is_some_and(|p| p.join("mix.exs").exists()),
        // Build output of Gradle/CRA/etc; a `build` folder of real sources has no marker.
        "build" => {
            path.join("tmp").is_dir()
                || path.join("classes").is_dir()
                || path.join("static").join("js").is_dir()
                || path.join("asset-manifest.json").exists()
                || path.join("intermediates").is_dir()
        }
        _ => false,
    }
}

/// List every regular file under `root` as `/`-separated relative paths.
///
/// Returns the index and the number of entries skipped (symlinks, non-UTF-8 names).
pub fn walk(root: &Path, threads: usize) -> (FileIndex, u64) {
    let files = Arc::new(Mutex::new(Vec::<String>::new()));
    let skipped = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let root_buf = root.to_path_buf();

    let walker = WalkBuilder::new(root)
        .hidden(false)
        .parents(false)
        .ignore(true)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(false)
        .require_git(false)
        .follow_links(false)
        .threads(threads.max(1))
        .filter_entry(|entry| {
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            if !is_dir || entry.depth() == 0 {
                return true;
            }
            let name = entry.file_name().to_str().unwrap_or("");
            !(SKIP_DIRS.contains(&name) || skip_conditional(entry.path(), name))
        })
        .build_parallel();

    walker.run(|| {
        let sink = Sink {
            local: Vec::new(),
            shared: files.clone(),
        };
        let skipped = skipped.clone();
        let root = root_buf.clone();
        let mut sink = sink;
        Box::new(move |entry| {
            let Ok(entry) = entry else {
                skipped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return WalkState::Continue;
            };
            let Some(ft) = entry.file_type() else {
                return WalkState::Continue;
            };
            if ft.is_symlink() {
                skipped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return WalkState::Continue;
            }
            if !ft.is_file() {
                return WalkState::Continue;
            }
            let rel = entry.path().strip_prefix(&root).unwrap_or(entry.path());
            match rel.to_str() {
                Some(s) => sink.local.push(s.replace('\\', "/")),
                None => {
                    skipped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
            WalkState::Continue
        })
    });

    let files = std::mem::take(&mut *files.lock().expect("walk sink poisoned"));
    (
        FileIndex::new(files),
        skipped.load(std::sync::atomic::Ordering::Relaxed),
    )
}

/// Per-thread buffer flushed into the shared list when the walker drops it.
struct Sink {
    local: Vec<String>,
    shared: Arc<Mutex<Vec<String>>>,
}

impl Drop for Sink {
    fn drop(&mut self) {
        if let Ok(mut shared) = self.shared.lock() {
            shared.append(&mut self.local);
        }
    }
}
