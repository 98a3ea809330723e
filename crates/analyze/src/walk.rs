//! The parallel walk that turns a folder into a [`FileIndex`].
//!
//! Honours `.gitignore` files (even outside a git work tree; not global
//! excludes or `.git/info/exclude`, so results do not depend on the machine),
//! never follows symlinks,
//! and prunes vendored, generated and tool folders (node_modules, vendor, .venv,
//! target, dist…) before descending into them. It only lists: no file content
//! is read here, and no file metadata is fetched beyond what the directory
//! listing gives.

use crate::repo::FileIndex;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

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

/// A folder waiting to be listed, with the `.gitignore` rules that apply to it
/// (nearest last).
struct Job {
    abs: PathBuf,
    rel: String,
    ignores: Arc<Vec<Gitignore>>,
}

struct Queue {
    jobs: Vec<Job>,
    /// Folders queued or being listed; the walk ends when it reaches zero.
    pending: usize,
}

/// List every regular file under `root` as `/`-separated relative paths.
///
/// Returns the index and the number of entries skipped (symlinks, non-UTF-8
/// names, unreadable folders). Folders are listed in parallel by `threads`
/// workers sharing one queue; file types come from the directory listing
/// itself, so no file is stat'ed, and `.gitignore` files are only opened where
/// the listing shows one.
pub fn walk(root: &Path, threads: usize) -> (FileIndex, u64) {
    let queue = Mutex::new(Queue {
        jobs: vec![Job {
            abs: root.to_path_buf(),
            rel: String::new(),
            ignores: Arc::new(Vec::new()),
        }],
        pending: 1,
    });
    let wake = Condvar::new();
    let skipped = AtomicU64::new(0);
    let results: Mutex<Vec<String>> = Mutex::new(Vec::new());

    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                let mut local: Vec<String> = Vec::new();
                loop {
                    let job = {
                        let mut q = queue.lock().expect("walk queue poisoned");
                        loop {
                            if let Some(job) = q.jobs.pop() {
                                break Some(job);
                            }
                            if q.pending == 0 {
                                break None;
                            }
                            q = wake.wait(q).expect("walk queue poisoned");
                        }
                    };
                    let Some(job) = job else { break };
                    let children = list(&job, &mut local, &skipped);
                    let mut q = queue.lock().expect("walk queue poisoned");
                    q.pending += children.len();
                    q.pending -= 1;
                    q.jobs.extend(children);
                    drop(q);
                    wake.notify_all();
                }
                results
                    .lock()
                    .expect("walk results poisoned")
                    .append(&mut local);
            });
        }
    });

    let files = results.into_inner().expect("walk results poisoned");
    (FileIndex::new(files), skipped.load(Ordering::Relaxed))
}

/// List one folder: files go to `out`, subfolders to walk are returned.
fn list(job: &Job, out: &mut Vec<String>, skipped: &AtomicU64) -> Vec<Job> {
    let Ok(read) = std::fs::read_dir(&job.abs) else {
        skipped.fetch_add(1, Ordering::Relaxed);
        return Vec::new();
    };
    let entries: Vec<(String, std::fs::FileType)> = read
        .filter_map(|e| {
            let e = e.ok()?;
            let ft = e.file_type().ok()?;
            match e.file_name().into_string() {
                Ok(name) => Some((name, ft)),
                Err(_) => {
                    skipped.fetch_add(1, Ordering::Relaxed);
                    None
                }
            }
        })
        .collect();

    let mut ignores = job.ignores.clone();
    if entries
        .iter()
        .any(|(n, ft)| n == ".gitignore" && ft.is_file())
    {
        let mut builder = GitignoreBuilder::new(&job.abs);
        builder.add(job.abs.join(".gitignore"));
        if let Ok(gi) = builder.build() {
            let mut chain = (*ignores).clone();
            chain.push(gi);
            ignores = Arc::new(chain);
        }
    }
    let ignored = |name: &str, is_dir: bool| -> bool {
        let path = job.abs.join(name);
        for gi in ignores.iter().rev() {
            match gi.matched(&path, is_dir) {
                ignore::Match::Ignore(_) => return true,
                ignore::Match::Whitelist(_) => return false,
                ignore::Match::None => {}
            }
        }
        false
    };

    let mut dirs = Vec::new();
    for (name, ft) in entries {
        let rel = if job.rel.is_empty() {
            name.clone()
        } else {
            format!("{}/{name}", job.rel)
        };
        if ft.is_symlink() {
            skipped.fetch_add(1, Ordering::Relaxed);
        } else if ft.is_dir() {
            let abs = job.abs.join(&name);
            if SKIP_DIRS.contains(&name.as_str())
                || skip_conditional(&abs, &name)
                || ignored(&name, true)
            {
                // Of a Go module's vendor/ only its manifest is listed: it
                // says the build needs no download.
                if name == "vendor" && abs.join("modules.txt").is_file() && !ignored(&name, true) {
                    out.push(format!("{rel}/modules.txt"));
                }
                continue;
            }
            dirs.push(Job {
                abs,
                rel,
                ignores: ignores.clone(),
            });
        } else if ft.is_file() && !ignored(&name, false) {
            out.push(rel);
        }
    }
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(root: &Path, rel: &str, content: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    #[test]
    fn gitignore_rules_nest_and_vendored_folders_are_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        touch(r, ".gitignore", "*.log\nbuild-out/\n!keep.log\n");
        touch(r, "a.log", "");
        touch(r, "keep.log", "");
        touch(r, "build-out/x.js", "");
        touch(r, "src/.gitignore", "secret.txt\n");
        touch(r, "src/secret.txt", "");
        touch(r, "src/main.py", "");
        touch(r, "other/secret.txt", "");
        touch(r, "node_modules/pkg/index.js", "");
        touch(r, ".venv/lib/x.py", "");
        touch(r, "env/pyvenv.cfg", "");
        touch(r, "env/lib/y.py", "");
        touch(r, "deep/a/b/c/d.txt", "");
        let (idx, _) = walk(r, 2);
        let files: Vec<&str> = idx.files().iter().map(String::as_str).collect();
        assert_eq!(
            files,
            vec![
                ".gitignore",
                "deep/a/b/c/d.txt",
                "keep.log",
                "other/secret.txt",
                "src/.gitignore",
                "src/main.py"
            ]
        );
    }

    #[test]
    fn of_a_go_vendor_folder_only_its_manifest_is_listed() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        touch(r, "go.mod", "module x\n");
        touch(r, "vendor/modules.txt", "# github.com/lib/pq v1.10.9\n");
        touch(r, "vendor/github.com/lib/pq/conn.go", "package pq\n");
        touch(r, "web/vendor/jquery.js", "");
        let (idx, _) = walk(r, 2);
        let files: Vec<&str> = idx.files().iter().map(String::as_str).collect();
        assert_eq!(files, vec!["go.mod", "vendor/modules.txt"]);
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_counted_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), "real/a.txt", "");
        std::os::unix::fs::symlink(dir.path().join("real"), dir.path().join("link")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("real/a.txt"), dir.path().join("b.txt"))
            .unwrap();
        let (idx, skipped) = walk(dir.path(), 1);
        assert_eq!(idx.files(), &["real/a.txt".to_string()]);
        assert_eq!(skipped, 2);
    }
}
