//! What a detector sees: the repository through [`Repo`], plus helpers to pick
//! the files worth reading (manifests, entry points, a capped set of sources).
//!
//! Deliberately not here: any knowledge of a particular ecosystem.

use crate::repo::{is_under, join, parent, FastHash, FileIndex, Repo};
use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// Most source files of one language read per service (shallowest first).
pub const MAX_SOURCE_FILES: usize = 250;

/// File names that make a folder a project of its own (its subtree is not
/// scanned on behalf of an ancestor folder).
pub const PROJECT_MANIFESTS: &[&str] = &[
    "package.json",
    "pyproject.toml",
    "requirements.txt",
    "Pipfile",
    "setup.py",
    "go.mod",
    "Cargo.toml",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "Gemfile",
    "composer.json",
    "mix.exs",
];

/// Folder names whose content is tests, examples or docs rather than the app.
pub const NON_APP_DIRS: &[&str] = &[
    "test",
    "tests",
    "__tests__",
    "spec",
    "specs",
    "testdata",
    "test-data",
    "fixtures",
    "__fixtures__",
    "__mocks__",
    "e2e",
    "cypress",
    "docs",
    "doc",
    "examples",
    "example",
    "samples",
    "benchmarks",
    "migrations",
    // Only the walk's markers of a Go vendor/ folder are listed: not the app's.
    "vendor",
];

/// Folder names that hold tests wherever they are.
const TEST_DIRS: &[&str] = &[
    "test",
    "tests",
    "__tests__",
    "spec",
    "specs",
    "testdata",
    "e2e",
];

/// What [`Ctx::memo`] keeps: (kind, key) → the value.
type Memo = HashMap<(&'static str, String), Arc<dyn Any + Send + Sync>>;

pub struct Ctx<'a> {
    pub repo: &'a dyn Repo,
    /// Folders that hold a project manifest of their own.
    project_dirs: HashSet<&'a str, FastHash>,
    /// Values derived from files, computed once per analysis ([`Ctx::memo`]).
    memo: Mutex<Memo>,
}

impl<'a> Ctx<'a> {
    pub fn new(repo: &'a dyn Repo) -> Self {
        let index = repo.index();
        let project_dirs = index
            .files()
            .iter()
            .filter(|f| {
                let name = crate::repo::file_name(f);
                (PROJECT_MANIFESTS.contains(&name) && !is_package_module(index, f, name))
                    || name.ends_with(".csproj")
            })
            .map(|f| parent(f))
            .collect();
        Ctx {
            repo,
            project_dirs,
            memo: Mutex::default(),
        }
    }

    /// `make()`, computed once per analysis for (`kind`, `key`) and shared:
    /// what every package of a monorepo asks of one file (its workspace
    /// root's globs, the root's manifest) is worked out once, not once per
    /// package. `kind` names what is computed and fixes `T`.
    pub fn memo<T: Any + Send + Sync>(
        &self,
        kind: &'static str,
        key: &str,
        make: impl FnOnce() -> T,
    ) -> Arc<T> {
        let lookup = (kind, key.to_string());
        let found = self
            .memo
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&lookup)
            .cloned();
        if let Some(v) = found.and_then(|v| v.downcast::<T>().ok()) {
            return v;
        }
        // Computed outside the lock: two threads may both compute it once.
        let v = Arc::new(make());
        self.memo
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(lookup, v.clone());
        v
    }

    pub fn index(&self) -> &'a FileIndex {
        self.repo.index()
    }

    /// Read `dir/name` (or a repo-relative path when `dir` is empty).
    pub fn read(&self, dir: &str, name: &str) -> Option<Arc<str>> {
        self.repo.read(&join(dir, name))
    }

    /// Read a repo-relative path.
    pub fn read_path(&self, path: &str) -> Option<Arc<str>> {
        self.repo.read(path)
    }

    pub fn has(&self, dir: &str, name: &str) -> bool {
        self.index().has(dir, name)
    }

    /// First of `names` present in `dir`.
    pub fn first_of<'n>(&self, dir: &str, names: &[&'n str]) -> Option<&'n str> {
        names.iter().copied().find(|n| self.has(dir, n))
    }

    /// True when `dir` is itself a project (holds a manifest).
    pub fn is_project_dir(&self, dir: &str) -> bool {
        self.project_dirs.contains(dir)
    }

    /// Source files below `dir` whose name ends with one of `exts` (`".py"`),
    /// skipping nested projects, tests, examples and docs; shallowest first,
    /// at most [`MAX_SOURCE_FILES`].
    pub fn sources(&self, dir: &str, exts: &[&str]) -> Vec<&'a str> {
        // Whether a file lies in a nested project depends only on its folder:
        // decided once per run of files sharing one (a large tree has tens of
        // thousands of candidates and a walk up the folders for each).
        let mut last: Option<(&str, bool)> = None;
        let mut out: Vec<&'a str> = self
            .index()
            .files_under(dir)
            .filter(|f| exts.iter().any(|e| f.ends_with(e)))
            .filter(|f| {
                // Both the nested-project test and the test/example/docs
                // folder test (`is_non_app` without the name) depend on the
                // folder only.
                let folder = parent(f);
                let (folders, name) = split_below(f, dir);
                let skipped = match last {
                    Some((d, skipped)) if d == folder => skipped,
                    _ => {
                        let skipped =
                            self.in_other_project(f, dir) || folders.is_some_and(non_app_folders);
                        last = Some((folder, skipped));
                        skipped
                    }
                };
                !skipped && !is_test_name(name)
            })
            .collect();
        // Shallowest first, by path within a depth: the list is in path
        // order already, so a stable sort on the depth (counted once per
        // file, not once per comparison) gives that order.
        let mut by_depth: Vec<(usize, &'a str)> = out
            .iter()
            .map(|f| (f.bytes().filter(|&b| b == b'/').count(), *f))
            .collect();
        by_depth.sort_by_key(|&(depth, _)| depth);
        out = by_depth.into_iter().map(|(_, f)| f).collect();
        out.truncate(MAX_SOURCE_FILES);
        self.repo.prefetch(&out);
        out
    }

    /// True when `path` lies in a nested project below `dir`.
    fn in_other_project(&self, path: &str, dir: &str) -> bool {
        let mut d = parent(path);
        while d != dir && is_under(d, dir) {
            if self.project_dirs.contains(d) {
                return true;
            }
            d = parent(d);
        }
        false
    }
}

/// True when a folder of this name holds tests, examples, docs or CI
/// configuration, not the app ([`NON_APP_DIRS`], `push-examples`, `.github`).
pub fn non_app_folder(name: &str) -> bool {
    NON_APP_DIRS.contains(&name)
        || name.ends_with("-examples")
        || name.ends_with("_examples")
        || name == ".github"
}

/// True when `path` (named `name`) is a module of a Python package, not a
/// packaging script: a `setup.py` beside an `__init__.py` (FastAPI apps keep
/// their app factory in `app/core/setup.py`). A real `setup.py` sits at the
/// project's root, which is no package.
fn is_package_module(index: &FileIndex, path: &str, name: &str) -> bool {
    name == "setup.py" && index.has(parent(path), "__init__.py")
}

/// True when a file below `dir` sits in a test/example/docs folder, or is a test file.
pub fn is_non_app(path: &str, dir: &str) -> bool {
    let (folders, name) = split_below(path, dir);
    folders.is_some_and(non_app_folders) || is_test_name(name)
}

/// `path` relative to `dir`, as its folders (`None` when directly in `dir`)
/// and its name.
fn split_below<'p>(path: &'p str, dir: &str) -> (Option<&'p str>, &'p str) {
    let rel = if dir.is_empty() {
        path
    } else {
        path.strip_prefix(dir)
            .map(|p| p.trim_start_matches('/'))
            .unwrap_or(path)
    };
    match rel.as_bytes().iter().rposition(|&b| b == b'/') {
        Some(i) => (Some(&rel[..i]), &rel[i + 1..]),
        None => (None, rel),
    }
}

/// True when one of these `/`-separated folders holds tests, examples or docs.
fn non_app_folders(folders: &str) -> bool {
    // Below a source root, `example`/`samples`/`docs` are package names
    // (`src/main/java/com/example/demo`); only test folders still count.
    let mut in_source_root = false;
    for part in folders.split('/') {
        if in_source_root {
            if TEST_DIRS.contains(&part) {
                return true;
            }
        } else if non_app_folder(part) {
            return true;
        }
        in_source_root |= part == "src";
    }
    false
}

/// True for a test file's name (`test_x.py`, `x.spec.ts`, `conftest.py`…).
fn is_test_name(name: &str) -> bool {
    name.starts_with("test_")
        || name.contains("_test.")
        || name.contains(".test.")
        || name.contains(".spec.")
        || name.contains("_spec.")
        || name == "conftest.py"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::MemRepo;

    #[test]
    fn sources_skip_nested_projects_and_tests() {
        let repo = MemRepo::new([
            ("requirements.txt", "flask"),
            ("app.py", ""),
            ("pkg/mod.py", ""),
            ("tests/test_app.py", ""),
            ("test_x.py", ""),
            ("worker/requirements.txt", ""),
            ("worker/w.py", ""),
        ]);
        let ctx = Ctx::new(&repo);
        assert_eq!(ctx.sources("", &[".py"]), vec!["app.py", "pkg/mod.py"]);
        assert_eq!(ctx.sources("worker", &[".py"]), vec!["worker/w.py"]);
    }

    #[test]
    fn package_names_below_src_are_not_example_folders() {
        assert!(!is_non_app("src/main/java/com/example/demo/App.java", ""));
        assert!(is_non_app("src/test/java/com/example/AppTest.java", ""));
        assert!(is_non_app("examples/basic/app.py", ""));
        assert!(is_non_app("svc/docs/conf.py", "svc"));
        assert!(!is_non_app("svc/app.py", "svc"));
    }
}
