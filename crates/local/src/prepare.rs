//! The deployment's own copy of the source: copy the fetched tree (without
//! VCS folders, dependency folders and build output), apply the analysis'
//! mechanical source fixes to the copy, and fit start commands to the port the
//! runner assigned.
//!
//! Deliberately never writes into the source tree it copies from, and never
//! decides *which* fixes to make: those come from the analysis/decision.

use crate::error::LocalError;
use autodeploy_core::{FileFromExample, SourceFix};
use std::fs;
use std::path::{Component, Path, PathBuf};

/// Folder names never copied: version control, installed dependencies, caches
/// and build output the runner recreates.
const SKIP_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    ".venv",
    "venv",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".tox",
    "target",
    ".next",
    ".nuxt",
    ".gradle",
    ".terraform",
    ".autodeploy",
];

/// What the copy did, for the progress log.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CopyReport {
    pub files: u64,
    pub bytes: u64,
    /// Symlinks left out because they point outside the tree (or absolutely).
    pub skipped_links: Vec<String>,
}

/// Copy `from` into the new folder `to` (which must not exist).
pub fn copy_tree(from: &Path, to: &Path) -> Result<CopyReport, LocalError> {
    let mut report = CopyReport::default();
    copy_dir(from, to, Path::new(""), &mut report)?;
    Ok(report)
}

fn copy_dir(from: &Path, to: &Path, rel: &Path, report: &mut CopyReport) -> Result<(), LocalError> {
    fs::create_dir_all(to).map_err(|e| LocalError::io("create the folder", to, e))?;
    let entries = fs::read_dir(from).map_err(|e| LocalError::io("list", from, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| LocalError::io("list", from, e))?;
        let name = entry.file_name();
        let src = entry.path();
        let dst = to.join(&name);
        let rel_here = rel.join(&name);
        let ft = entry
            .file_type()
            .map_err(|e| LocalError::io("inspect", &src, e))?;
        if ft.is_dir() {
            if SKIP_DIRS.iter().any(|s| name == *s) {
                continue;
            }
            copy_dir(&src, &dst, &rel_here, report)?;
        } else if ft.is_file() {
            let n = fs::copy(&src, &dst).map_err(|e| LocalError::io("copy", &src, e))?;
            report.files += 1;
            report.bytes += n;
        } else if ft.is_symlink() {
            let target =
                fs::read_link(&src).map_err(|e| LocalError::io("read the link", &src, e))?;
            if link_stays_inside(&rel_here, &target) {
                std::os::unix::fs::symlink(&target, &dst)
                    .map_err(|e| LocalError::io("create the link", &dst, e))?;
            } else {
                report.skipped_links.push(rel_here.display().to_string());
            }
        }
        // Sockets, fifos, devices: not part of an app's source.
    }
    Ok(())
}

/// True when a relative link at `link` (relative to the tree root) resolves,
/// lexically, to a path inside the tree.
fn link_stays_inside(link: &Path, target: &Path) -> bool {
    if target.is_absolute() {
        return false;
    }
    let mut depth: i64 = link.components().count() as i64 - 1;
    for c in target.components() {
        match c {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            _ => return false,
        }
        if depth < 0 {
            return false;
        }
    }
    true
}

/// What happened to one source fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FixOutcome {
    Applied,
    /// Not applied, and why (file missing, text not on that line, unsafe path).
    Skipped(String),
}

/// Apply one fix to the copy rooted at `root`: on line `fix.line` (1-based)
/// of `fix.file`, replace every occurrence of `fix.find` with `fix.replace`.
pub fn apply_fix(root: &Path, fix: &SourceFix) -> Result<FixOutcome, LocalError> {
    let Some(path) = inside(root, &fix.file) else {
        return Ok(FixOutcome::Skipped(format!(
            "{} is not a path inside the repository",
            fix.file
        )));
    };
    match fs::symlink_metadata(&path) {
        Ok(m) if m.file_type().is_file() => {}
        Ok(_) => {
            return Ok(FixOutcome::Skipped(format!(
                "{} is not a regular file",
                fix.file
            )))
        }
        Err(_) => return Ok(FixOutcome::Skipped(format!("{} does not exist", fix.file))),
    }
    if fix.find.is_empty() || fix.line == 0 {
        return Ok(FixOutcome::Skipped("the fix names no text to find".into()));
    }
    let text = fs::read_to_string(&path).map_err(|e| LocalError::io("read", &path, e))?;
    let Some(out) = fix.apply_to(&text) else {
        return Ok(FixOutcome::Skipped(format!(
            "{}:{} does not contain {:?} (the file changed since analysis?)",
            fix.file, fix.line, fix.find
        )));
    };
    fs::write(&path, out).map_err(|e| LocalError::io("write", &path, e))?;
    Ok(FixOutcome::Applied)
}

/// Create `make.file` in the copy rooted at `root` as a copy of
/// `make.example`, when the copy has no `make.file` (a folder that holds
/// the real file, gitignored, keeps it).
pub fn create_from_example(root: &Path, make: &FileFromExample) -> Result<FixOutcome, LocalError> {
    let (Some(dst), Some(src)) = (inside(root, &make.file), inside(root, &make.example)) else {
        return Ok(FixOutcome::Skipped(format!(
            "{} or {} is not a path inside the repository",
            make.file, make.example
        )));
    };
    if fs::symlink_metadata(&dst).is_ok() {
        return Ok(FixOutcome::Skipped(format!(
            "{} exists in the source, which is used as it is",
            make.file
        )));
    }
    match fs::symlink_metadata(&src) {
        Ok(m) if m.file_type().is_file() => {}
        _ => {
            return Ok(FixOutcome::Skipped(format!(
                "{} is not a regular file of the source",
                make.example
            )))
        }
    }
    fs::copy(&src, &dst).map_err(|e| LocalError::io("copy", &src, e))?;
    Ok(FixOutcome::Applied)
}

/// Create the folder `rel` in the copy rooted at `root` (and the folders
/// above it), unless it exists or a part of the way is a link (which could
/// lead outside the copy).
pub fn create_folder(root: &Path, rel: &str) -> Result<FixOutcome, LocalError> {
    let Some(dst) = inside(root, rel).filter(|d| d != root) else {
        return Ok(FixOutcome::Skipped(format!(
            "{rel} is not a folder inside the repository"
        )));
    };
    let mut at = root.to_path_buf();
    for part in Path::new(rel).components() {
        at.push(part);
        match fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                return Ok(FixOutcome::Skipped(format!(
                    "{} is a link in the source",
                    at.strip_prefix(root).unwrap_or(&at).display()
                )))
            }
            Ok(m) if !m.is_dir() => {
                return Ok(FixOutcome::Skipped(format!(
                    "{} is a file in the source",
                    at.strip_prefix(root).unwrap_or(&at).display()
                )))
            }
            _ => {}
        }
    }
    if dst.is_dir() {
        return Ok(FixOutcome::Skipped(format!("{rel} exists in the source")));
    }
    fs::create_dir_all(&dst).map_err(|e| LocalError::io("create", &dst, e))?;
    Ok(FixOutcome::Applied)
}

/// `root/rel` when `rel` is a plain relative path (no `..`, not absolute).
pub fn inside(root: &Path, rel: &str) -> Option<PathBuf> {
    let p = Path::new(rel);
    if rel.is_empty() || rel == "." {
        return Some(root.to_path_buf());
    }
    if p.components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        Some(root.join(p))
    } else {
        None
    }
}

pub use autodeploy_core::ports::retarget_port;

/// `command` without a container init in front of it (`tini --`,
/// `dumb-init`, from a Dockerfile's ENTRYPOINT): the supervisor reaps and
/// forwards signals itself, and the machine has no such program.
pub fn without_init_wrapper(command: &str) -> &str {
    let mut rest = command.trim_start();
    let first = rest.split_whitespace().next().unwrap_or("");
    let prog = first.rsplit('/').next().unwrap_or(first);
    if !matches!(prog, "tini" | "tini-static" | "dumb-init") {
        return command;
    }
    rest = rest[first.len()..].trim_start();
    // Their own flags (`-s`, `-g`, `--single-child`), then `--`.
    while let Some(flag) = rest.split_whitespace().next() {
        if flag == "--" {
            rest = rest[2..].trim_start();
            break;
        }
        if !flag.starts_with('-') {
            break;
        }
        rest = rest[flag.len()..].trim_start();
    }
    if rest.is_empty() {
        command
    } else {
        rest
    }
}

/// `command` with a wildcard listen address it names (`0.0.0.0`, `[::]`,
/// `::`) replaced by `127.0.0.1`: on this machine an app answers on loopback
/// only; its front is what a person reaches.
pub fn loopback_binds(command: &str) -> String {
    use std::sync::LazyLock;
    static WILDCARD: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"(^|[\s=/@'\x22])(?:0\.0\.0\.0|\[::\]|::)(:|\s|'|\x22|$)")
            .expect("valid regex")
    });
    // Two passes: adjacent matches share a separator.
    let once = WILDCARD.replace_all(command, "${1}127.0.0.1${2}");
    WILDCARD
        .replace_all(&once, "${1}127.0.0.1${2}")
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_made_inside_the_copy_only() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        assert_eq!(
            create_folder(root, "data/cache").unwrap(),
            FixOutcome::Applied
        );
        assert!(root.join("data/cache").is_dir());
        assert!(matches!(
            create_folder(root, "data/cache").unwrap(),
            FixOutcome::Skipped(_)
        ));
        assert!(matches!(
            create_folder(root, "../out").unwrap(),
            FixOutcome::Skipped(_)
        ));
        assert!(matches!(
            create_folder(root, "/tmp/x").unwrap(),
            FixOutcome::Skipped(_)
        ));
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("link")).unwrap();
        assert!(matches!(
            create_folder(root, "link/data").unwrap(),
            FixOutcome::Skipped(_)
        ));
        assert!(!outside.path().join("data").exists());
    }

    #[test]
    fn container_inits_are_left_to_the_supervisor() {
        assert_eq!(
            without_init_wrapper("/usr/bin/tini -- node server.js"),
            "node server.js"
        );
        assert_eq!(
            without_init_wrapper("dumb-init --single-child -- gunicorn app:app"),
            "gunicorn app:app"
        );
        assert_eq!(without_init_wrapper("tini -s node x.js"), "node x.js");
        assert_eq!(without_init_wrapper("node tini.js"), "node tini.js");
        assert_eq!(without_init_wrapper("tini --"), "tini --");
    }

    #[test]
    fn wildcard_binds_become_loopback() {
        for (cmd, want) in [
            (
                "gunicorn --bind 0.0.0.0:8000 app:app",
                "gunicorn --bind 127.0.0.1:8000 app:app",
            ),
            (
                "uvicorn main:app --host 0.0.0.0 --port 8000",
                "uvicorn main:app --host 127.0.0.1 --port 8000",
            ),
            ("flask run --host=0.0.0.0", "flask run --host=127.0.0.1"),
            ("puma -b tcp://0.0.0.0:3000", "puma -b tcp://127.0.0.1:3000"),
            (
                "hypercorn app:app --bind [::]:8000",
                "hypercorn app:app --bind 127.0.0.1:8000",
            ),
            (
                "python manage.py runserver 0.0.0.0:8000",
                "python manage.py runserver 127.0.0.1:8000",
            ),
            ("next start -H 0.0.0.0", "next start -H 127.0.0.1"),
        ] {
            assert_eq!(loopback_binds(cmd), want);
        }
        for cmd in [
            "node server.js",
            "ping 10.0.0.0",
            "run --addr 0.0.0.01",
            "echo 1.0.0.0.0",
        ] {
            assert_eq!(loopback_binds(cmd), cmd);
        }
    }

    #[test]
    fn copy_skips_vcs_and_dependency_folders_and_escaping_links() {
        let src = tempfile::tempdir().unwrap();
        let s = src.path();
        fs::create_dir_all(s.join("app/templates")).unwrap();
        fs::create_dir_all(s.join(".git/objects")).unwrap();
        fs::create_dir_all(s.join("node_modules/x")).unwrap();
        fs::create_dir_all(s.join("app/__pycache__")).unwrap();
        fs::write(s.join("app/app.py"), "print(1)\n").unwrap();
        fs::write(s.join("app/templates/index.html"), "<p>").unwrap();
        fs::write(s.join(".git/HEAD"), "ref").unwrap();
        fs::write(s.join("node_modules/x/i.js"), "x").unwrap();
        fs::write(s.join("app/__pycache__/a.pyc"), "x").unwrap();
        std::os::unix::fs::symlink("templates/index.html", s.join("app/link.html")).unwrap();
        std::os::unix::fs::symlink("../../etc/passwd", s.join("app/evil")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", s.join("abs")).unwrap();

        let dst = tempfile::tempdir().unwrap();
        let to = dst.path().join("copy");
        let r = copy_tree(s, &to).unwrap();
        assert_eq!(r.files, 2);
        assert!(to.join("app/app.py").is_file());
        assert!(to.join("app/templates/index.html").is_file());
        assert!(!to.join(".git").exists());
        assert!(!to.join("node_modules").exists());
        assert!(!to.join("app/__pycache__").exists());
        assert_eq!(fs::read_to_string(to.join("app/link.html")).unwrap(), "<p>");
        assert!(fs::symlink_metadata(to.join("app/evil")).is_err());
        assert!(fs::symlink_metadata(to.join("abs")).is_err());
        let mut skipped = r.skipped_links.clone();
        skipped.sort();
        assert_eq!(skipped, vec!["abs".to_string(), "app/evil".to_string()]);
    }

    #[test]
    fn a_missing_file_is_created_from_its_example_and_an_existing_one_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("src")).unwrap();
        fs::write(
            dir.path().join("src/config.ts.example"),
            "export const K = 'x';\n",
        )
        .unwrap();
        let make = FileFromExample {
            file: "src/config.ts".into(),
            example: "src/config.ts.example".into(),
        };
        assert_eq!(
            create_from_example(dir.path(), &make).unwrap(),
            FixOutcome::Applied
        );
        assert_eq!(
            fs::read_to_string(dir.path().join("src/config.ts")).unwrap(),
            "export const K = 'x';\n"
        );
        // The real file (gitignored in the user's folder, copied) wins.
        fs::write(
            dir.path().join("src/config.ts"),
            "export const K = 'mine';\n",
        )
        .unwrap();
        assert!(matches!(
            create_from_example(dir.path(), &make).unwrap(),
            FixOutcome::Skipped(_)
        ));
        assert_eq!(
            fs::read_to_string(dir.path().join("src/config.ts")).unwrap(),
            "export const K = 'mine';\n"
        );
        // Paths that leave the copy, and examples that are not there, are refused.
        for bad in [
            FileFromExample {
                file: "../x.ts".into(),
                example: "src/config.ts.example".into(),
            },
            FileFromExample {
                file: "src/y.ts".into(),
                example: "/etc/passwd".into(),
            },
            FileFromExample {
                file: "src/z.ts".into(),
                example: "src/z.ts.example".into(),
            },
        ] {
            assert!(matches!(
                create_from_example(dir.path(), &bad).unwrap(),
                FixOutcome::Skipped(_)
            ));
            assert!(!dir.path().join(&bad.file).exists() || bad.file.starts_with(".."));
        }
        assert!(!dir.path().join("src/y.ts").exists());
        assert!(!dir.path().join("src/z.ts").exists());
    }

    #[test]
    fn fixes_change_only_the_named_line_of_the_copy() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("index.html");
        fs::write(
            &f,
            "a http://localhost:5000/x\nfetch(\"http://localhost:5000/api\")\r\nend",
        )
        .unwrap();
        let fix = SourceFix {
            file: "index.html".into(),
            line: 2,
            find: "http://localhost:5000".into(),
            replace: "".into(),
        };
        assert_eq!(apply_fix(dir.path(), &fix).unwrap(), FixOutcome::Applied);
        assert_eq!(
            fs::read_to_string(&f).unwrap(),
            "a http://localhost:5000/x\nfetch(\"/api\")\r\nend"
        );
        // Applying again finds nothing: reported, not an error.
        assert!(matches!(
            apply_fix(dir.path(), &fix).unwrap(),
            FixOutcome::Skipped(_)
        ));
        let escape = SourceFix {
            file: "../outside".into(),
            ..fix.clone()
        };
        assert!(matches!(
            apply_fix(dir.path(), &escape).unwrap(),
            FixOutcome::Skipped(_)
        ));
        let missing = SourceFix {
            file: "nope.html".into(),
            ..fix
        };
        assert!(matches!(
            apply_fix(dir.path(), &missing).unwrap(),
            FixOutcome::Skipped(_)
        ));
    }

    #[test]
    fn inside_rejects_escapes() {
        let r = Path::new("/r");
        assert_eq!(inside(r, "a/b"), Some(PathBuf::from("/r/a/b")));
        assert_eq!(inside(r, "."), Some(PathBuf::from("/r")));
        assert_eq!(inside(r, "../x"), None);
        assert_eq!(inside(r, "/etc"), None);
    }
}
