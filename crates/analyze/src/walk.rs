//! The parallel walk that turns a folder into a [`FileIndex`].
//!
//! Honours `.gitignore` files (even outside a git work tree; not global
//! excludes or `.git/info/exclude`, so results do not depend on the machine),
//! never follows symlinks,
//! and prunes vendored, generated and tool folders (node_modules, vendor, .venv,
//! target, dist…) before descending into them. It only lists: no file content
//! is read here, and no file metadata is fetched beyond what the directory
//! listing gives.

use crate::gitignore::{IgnoreFile, States, Verdict};
use crate::repo::FileIndex;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

/// The files of a `vendor/` folder the analysis reads: Go's module manifest,
/// and lib/pq's SCRAM package (in lib/pq since 1.1.0: a vendored copy newer
/// than a stale Godeps pin logs in to PostgreSQL 14+).
const VENDOR_MARKERS: &[&str] = &["modules.txt", "github.com/lib/pq/scram/scram.go"];

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

/// The rules of one `.gitignore` as seen from a folder at or below its own.
#[derive(Clone)]
struct Level {
    rules: Arc<IgnoreFile>,
    /// Bytes of a walk-relative path to drop to make it relative to the
    /// `.gitignore`'s folder.
    base: usize,
    /// Rules with a `/` still alive in this folder.
    states: States,
}

/// A folder waiting to be listed, with the `.gitignore` rules that apply to it
/// (nearest last).
struct Job {
    /// Where the folder's listing goes in the assembled file list.
    id: usize,
    abs: PathBuf,
    rel: String,
    ignores: Arc<Vec<Level>>,
}

/// A folder's listing, in path order: files, and the places of subfolders.
enum Item {
    File(String),
    Dir(usize),
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
///
/// Each folder's entries are put in order of their paths (a subfolder `a`
/// sorts as `a/`, after `a-b` and `a.b`), and the listings are assembled
/// depth-first at the end, so the file list comes out sorted without a sort.
pub fn walk(root: &Path, threads: usize) -> (FileIndex, u64) {
    let queue = Mutex::new(Queue {
        jobs: vec![Job {
            id: 0,
            abs: root.to_path_buf(),
            rel: String::new(),
            ignores: Arc::new(Vec::new()),
        }],
        pending: 1,
    });
    let wake = Condvar::new();
    let skipped = AtomicU64::new(0);
    let next_id = AtomicUsize::new(1);
    let results: Mutex<Vec<(usize, Vec<Item>)>> = Mutex::new(Vec::new());

    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                let mut local: Vec<(usize, Vec<Item>)> = Vec::new();
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
                    let (items, children) = list(&job, &next_id, &skipped);
                    local.push((job.id, items));
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

    let mut listings: Vec<Vec<Item>> = Vec::new();
    listings.resize_with(next_id.into_inner(), Vec::new);
    let mut count = 0;
    for (id, items) in results.into_inner().expect("walk results poisoned") {
        count += items.len();
        listings[id] = items;
    }
    // Depth-first: a subfolder's files go where its name sorts.
    let mut files = Vec::with_capacity(count);
    let mut stack = vec![std::mem::take(&mut listings[0]).into_iter()];
    while let Some(top) = stack.last_mut() {
        match top.next() {
            Some(Item::File(f)) => files.push(f),
            Some(Item::Dir(id)) => stack.push(std::mem::take(&mut listings[id]).into_iter()),
            None => {
                stack.pop();
            }
        }
    }
    (FileIndex::new(files), skipped.load(Ordering::Relaxed))
}

/// Order of two entries of one folder by their paths, a folder's name being
/// followed by `/`.
fn entry_order(a: &str, a_dir: bool, b: &str, b_dir: bool) -> std::cmp::Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len().min(b.len());
    a[..n]
        .cmp(&b[..n])
        .then_with(|| match (a.len() > n, b.len() > n) {
            (false, true) if a_dir => b'/'.cmp(&b[n]),
            (false, true) => std::cmp::Ordering::Less,
            (true, false) if b_dir => a[n].cmp(&b'/'),
            (true, false) => std::cmp::Ordering::Greater,
            _ => a_dir.cmp(&b_dir),
        })
}

/// List one folder: its files and the places of its subfolders, in path
/// order, and the subfolders to walk.
fn list(job: &Job, next_id: &AtomicUsize, skipped: &AtomicU64) -> (Vec<Item>, Vec<Job>) {
    let Ok(read) = std::fs::read_dir(&job.abs) else {
        skipped.fetch_add(1, Ordering::Relaxed);
        return (Vec::new(), Vec::new());
    };
    let mut entries: Vec<(String, std::fs::FileType)> = read
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
    entries.sort_unstable_by(|(a, at), (b, bt)| entry_order(a, at.is_dir(), b, bt.is_dir()));

    let mut ignores = job.ignores.clone();
    if entries
        .iter()
        .any(|(n, ft)| n == ".gitignore" && ft.is_file())
    {
        if let Some(rules) = IgnoreFile::open(&job.abs.join(".gitignore")) {
            if !rules.is_empty() {
                let mut chain = (*ignores).clone();
                chain.push(Level {
                    states: rules.root_states(),
                    rules: Arc::new(rules),
                    base: if job.rel.is_empty() {
                        0
                    } else {
                        job.rel.len() + 1
                    },
                });
                ignores = Arc::new(chain);
            }
        }
    }
    let ignored = |name: &str, rel: &str, is_dir: bool| -> bool {
        for level in ignores.iter().rev() {
            match level
                .rules
                .matched(&level.states, name, &rel[level.base..], is_dir)
            {
                Verdict::Ignore => return true,
                Verdict::Whitelist => return false,
                Verdict::None => {}
            }
        }
        false
    };
    let folder_rules = ignores.iter().any(|l| !l.states.is_empty());

    let mut items = Vec::with_capacity(entries.len());
    let mut dirs = Vec::new();
    for (name, ft) in entries {
        // Not `format!`: ~800 instructions a path, 15 % of test262's total.
        let rel = if job.rel.is_empty() {
            name.clone()
        } else {
            let mut rel = String::with_capacity(job.rel.len() + 1 + name.len());
            rel.push_str(&job.rel);
            rel.push('/');
            rel.push_str(&name);
            rel
        };
        if ft.is_symlink() {
            skipped.fetch_add(1, Ordering::Relaxed);
        } else if ft.is_dir() {
            let abs = job.abs.join(&name);
            if SKIP_DIRS.contains(&name.as_str())
                || skip_conditional(&abs, &name)
                || ignored(&name, &rel, true)
            {
                // Of a Go vendor/ only what the analysis asks of it is
                // listed: the module manifest (the build needs no download)
                // and the copies that say what a vendored driver can do.
                if name == "vendor" && !ignored(&name, &rel, true) {
                    for marker in VENDOR_MARKERS {
                        if abs.join(marker).is_file() {
                            items.push(Item::File(format!("{rel}/{marker}")));
                        }
                    }
                }
                continue;
            }
            let id = next_id.fetch_add(1, Ordering::Relaxed);
            items.push(Item::Dir(id));
            let child_ignores = if folder_rules {
                Arc::new(
                    ignores
                        .iter()
                        .map(|l| Level {
                            rules: l.rules.clone(),
                            base: l.base,
                            states: if l.states.is_empty() {
                                Vec::new()
                            } else {
                                l.rules.enter(&l.states, &name)
                            },
                        })
                        .collect(),
                )
            } else {
                ignores.clone()
            };
            dirs.push(Job {
                id,
                abs,
                rel,
                ignores: child_ignores,
            });
        } else if ft.is_file() && !ignored(&name, &rel, false) {
            items.push(Item::File(rel));
        }
    }
    (items, dirs)
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
    fn of_a_go_vendor_folder_only_its_manifest_and_markers_are_listed() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        touch(r, "go.mod", "module x\n");
        touch(r, "vendor/modules.txt", "# github.com/lib/pq v1.10.9\n");
        touch(r, "vendor/github.com/lib/pq/conn.go", "package pq\n");
        touch(
            r,
            "vendor/github.com/lib/pq/scram/scram.go",
            "package scram\n",
        );
        touch(r, "web/vendor/jquery.js", "");
        let (idx, _) = walk(r, 2);
        let files: Vec<&str> = idx.files().iter().map(String::as_str).collect();
        assert_eq!(
            files,
            vec![
                "go.mod",
                "vendor/github.com/lib/pq/scram/scram.go",
                "vendor/modules.txt"
            ]
        );
    }

    #[test]
    fn files_come_out_in_byte_order_without_a_sort() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        let paths = [
            "a/b",
            "a/c/d",
            "a-b",
            "a.b",
            "a.b.c/x",
            "a0",
            "A",
            "B/z",
            "_",
            "é/x",
            "ü",
            "z/a-b",
            "z/a/b",
            "z/a.b/c",
            "z/ab",
            "deep/x/y/z/w",
            "deep/x-y",
            "deep/x/y-z",
        ];
        for p in paths {
            touch(r, p, "");
        }
        let mut want: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
        want.sort();
        for threads in [1, 2, 4] {
            let (idx, _) = walk(r, threads);
            assert_eq!(idx.files(), &want[..], "{threads} threads");
        }
        // Siblings compare as their paths would: a folder as `name/`.
        let entries = [
            ("a", true),
            ("a-b", false),
            ("a.b", true),
            ("a0", false),
            ("A", false),
            ("ab", true),
            ("é", false),
        ];
        let key = |(n, d): (&str, bool)| format!("{n}{}", if d { "/" } else { "" });
        for x in entries {
            for y in entries {
                assert_eq!(entry_order(x.0, x.1, y.0, y.1), key(x).cmp(&key(y)));
            }
        }
    }

    #[test]
    fn gitignore_negation_anchoring_dir_only_and_nesting() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        touch(
            r,
            ".gitignore",
            "*.gen\n!/keep.gen\n/top.txt\nout/\n/*/cache/\n**/private/\nlogs/*.log\n",
        );
        touch(r, "a.gen", "");
        touch(r, "keep.gen", "");
        touch(r, "sub/keep.gen", "");
        touch(r, "top.txt", "");
        touch(r, "sub/top.txt", "");
        // `out/` is for folders only: a file called out stays.
        touch(r, "out/x.js", "");
        touch(r, "sub/out", "");
        touch(r, "m/cache/c.bin", "");
        touch(r, "m/n/cache/c.bin", "");
        touch(r, "p/q/private/s.txt", "");
        touch(r, "logs/a.log", "");
        touch(r, "logs/old/a.log", "");
        // Nested rules come last and win; they are relative to their folder.
        touch(r, "sub/.gitignore", "!*.gen\n/local.txt\n");
        touch(r, "sub/x.gen", "");
        touch(r, "sub/local.txt", "");
        touch(r, "sub/deeper/local.txt", "");
        let (idx, _) = walk(r, 2);
        let files: Vec<&str> = idx.files().iter().map(String::as_str).collect();
        assert_eq!(
            files,
            vec![
                ".gitignore",
                "keep.gen",
                "logs/old/a.log",
                "m/n/cache/c.bin",
                "sub/.gitignore",
                "sub/deeper/local.txt",
                "sub/keep.gen",
                "sub/out",
                "sub/top.txt",
                "sub/x.gen",
            ]
        );
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
