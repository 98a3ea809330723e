//! The deployment's own copy of the source: copy the fetched tree (without
//! VCS folders, dependency folders and build output), apply the analysis'
//! mechanical source fixes to the copy, and fit start commands to the port the
//! runner assigned.
//!
//! Deliberately never writes into the source tree it copies from, and never
//! decides *which* fixes to make: those come from the analysis/decision.

use crate::error::LocalError;
use autodeploy_core::SourceFix;
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
    let mut out = String::with_capacity(text.len());
    let mut applied = false;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if i + 1 == fix.line as usize && line.contains(&fix.find) {
            out.push_str(&line.replace(&fix.find, &fix.replace));
            applied = true;
        } else {
            out.push_str(line);
        }
    }
    if !applied {
        return Ok(FixOutcome::Skipped(format!(
            "{}:{} does not contain {:?} (the file changed since analysis?)",
            fix.file, fix.line, fix.find
        )));
    }
    fs::write(&path, out).map_err(|e| LocalError::io("write", &path, e))?;
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

/// Point a start command at `assigned` instead of the port the analysis found
/// (`gunicorn --bind 0.0.0.0:5000` → `…:8123`, `--port 8080`, `-p 3000`,
/// `PORT=3000`). Commands that name no port are returned unchanged: those apps
/// read `PORT`, which the runner always sets.
pub fn retarget_port(command: &str, analysed: Option<u16>, assigned: u16) -> String {
    let Some(old) = analysed else {
        return command.to_string();
    };
    if old == assigned {
        return command.to_string();
    }
    let pattern = format!(r"(:|--port[= ]|--bind[= ]|-p |-b |PORT=|--listen[= ]|-l ){old}\b",);
    match regex::Regex::new(&pattern) {
        Ok(re) => re
            .replace_all(command, |c: &regex::Captures| {
                format!("{}{assigned}", &c[1])
            })
            .into_owned(),
        Err(_) => command.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn start_commands_follow_the_assigned_port() {
        assert_eq!(
            retarget_port("gunicorn --bind 0.0.0.0:5000 app:app", Some(5000), 8123),
            "gunicorn --bind 0.0.0.0:8123 app:app"
        );
        assert_eq!(
            retarget_port(
                "uvicorn main:app --host 0.0.0.0 --port 8000",
                Some(8000),
                9001
            ),
            "uvicorn main:app --host 0.0.0.0 --port 9001"
        );
        assert_eq!(
            retarget_port("PORT=3000 node server.js -p 3000", Some(3000), 4000),
            "PORT=4000 node server.js -p 4000"
        );
        // A number that merely contains the port is left alone.
        assert_eq!(
            retarget_port("gunicorn --bind :50001 --timeout 5000", Some(5000), 7000),
            "gunicorn --bind :50001 --timeout 5000"
        );
        assert_eq!(retarget_port("npm start", Some(3000), 4000), "npm start");
        assert_eq!(retarget_port("./bin/app", None, 4000), "./bin/app");
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
