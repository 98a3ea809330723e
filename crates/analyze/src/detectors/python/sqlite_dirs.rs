//! SQLite files kept in a folder the repository does not hold: git keeps no
//! empty folders, so `data/` (ignored, or made by the project's Dockerfile
//! or start script with `mkdir -p data`) is missing from every clone, and
//! `sqlite3.connect("data/db.sqlite3")` fails with "unable to open database
//! file" before the app answers. A `sqlite_folder_missing` finding names the
//! folder; the deploy stage creates it in its own copy.
//!
//! The paths read: `os.path.join(BASE_DIR, "data", "db.sqlite3")`,
//! `BASE_DIR / "data" / "db.sqlite3"` (the base being the project's folder,
//! as Django's `BASE_DIR` is) and relative SQLite URLs
//! (`sqlite:///data/app.db`, relative to the folder the app starts in).

use crate::ctx::Ctx;
use crate::draft::Draft;
use crate::repo::join;
use crate::scan::{line_of, regex};
use autodeploy_core::Severity;
use regex::Regex;
use std::sync::LazyLock;

/// `os.path.join(BASE, "a", "b", "x.sqlite3")` (group 1 the base, 2 the
/// quoted parts).
static JOINED: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"os\.path\.join\(\s*([A-Za-z_][\w.]*)\s*,((?:\s*["'][\w.-]+["']\s*,)+\s*["'][\w.-]+\.(?:sqlite3?|db)["'])\s*\)"#,
    )
});
/// `BASE / "a" / "x.sqlite3"` (group 1 the base, 2 the quoted parts with
/// their slashes).
static DIVIDED: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"\b([A-Z_][A-Z0-9_]*)((?:\s*/\s*["'][\w.-]+["'])+\s*/\s*["'][\w.-]+\.(?:sqlite3?|db)["'])"#,
    )
});

/// The folder a base name stands for: assigned in `file` from `__file__`
/// through `n` `dirname(`/`.parent` steps, the folder `n` levels above the
/// file (Django's `BASE_DIR = Path(__file__).resolve().parent.parent`);
/// otherwise the service's folder.
fn base_folder(text: &str, file: &str, base: &str, dir: &str) -> String {
    let assigned = text.lines().find_map(|l| {
        let rest = l.strip_prefix(base)?.trim_start().strip_prefix('=')?;
        rest.contains("__file__").then_some(rest)
    });
    let Some(rest) = assigned else {
        return dir.to_string();
    };
    let steps = rest.matches("dirname(").count() + rest.matches(".parent").count();
    let mut folder = file.to_string();
    for _ in 0..steps {
        folder = crate::repo::parent(&folder).to_string();
    }
    folder
}
/// `sqlite:///data/app.db` (group 1 the relative path).
static URL: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"["']sqlite(?:\+\w+)?:///((?:\./)?[\w.-]+(?:/[\w.-]+)*)["']"#));
static QUOTED: LazyLock<Regex> = LazyLock::new(|| regex(r#"["']([\w.-]+)["']"#));

/// Record a `sqlite_folder_missing` finding for each folder (under `dir`,
/// the service's) a SQLite file of the code lives in but the repository
/// lacks.
pub(super) fn scan(ctx: &Ctx, dir: &str, web: &mut Draft, sources: &[&str]) {
    for f in sources {
        let Some(text) = ctx.read_path(f) else {
            continue;
        };
        if !text.contains("sqlite") && !text.contains(".db") {
            continue;
        }
        // (the folder the path is relative to, its parts, where)
        let mut found: Vec<(String, Vec<String>, usize)> = Vec::new();
        for re in [&*JOINED, &*DIVIDED] {
            for c in re.captures_iter(&text) {
                let parts: Vec<String> = QUOTED
                    .captures_iter(&c[2])
                    .map(|q| q[1].to_string())
                    .collect();
                let base = base_folder(&text, f, &c[1], dir);
                found.push((base, parts, c.get(0).map_or(0, |m| m.start())));
            }
        }
        // A relative URL is relative to where the app starts: its folder.
        for c in URL.captures_iter(&text) {
            let path = c[1].trim_start_matches("./");
            let parts: Vec<String> = path.split('/').map(str::to_string).collect();
            found.push((dir.to_string(), parts, c.get(0).map_or(0, |m| m.start())));
        }
        for (base, parts, at) in found {
            let Some((_, folders)) = parts.split_last() else {
                continue;
            };
            if folders.is_empty() || folders.iter().any(|p| p == ".." || p == ".") {
                continue;
            }
            let folder = join(&base, &folders.join("/"));
            if ctx.index().files_under(&folder).next().is_some()
                || web
                    .findings
                    .iter()
                    .any(|x| x.makes_dir.as_deref() == Some(&folder))
            {
                continue;
            }
            let line = line_of(&text, at);
            web.finding(
                "sqlite_folder_missing",
                Severity::Info,
                Some(f),
                Some(line),
                format!(
                    "{f}:{line} keeps a SQLite file in {folder}/, which the repository does not hold (git keeps no empty folders): the deployment creates it in its own copy"
                ),
                None,
            );
            if let Some(x) = web.findings.last_mut() {
                x.makes_dir = Some(folder);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::MemRepo;
    use autodeploy_core::{Language, ServiceKind};

    fn made(files: &[(&str, &str)], dir: &str, sources: &[&str]) -> Vec<String> {
        let repo = MemRepo::new(files.iter().copied());
        let ctx = Ctx::new(&repo);
        let mut d = Draft::new(dir, Language::Python, ServiceKind::Web);
        scan(&ctx, dir, &mut d, sources);
        d.findings
            .iter()
            .filter_map(|f| f.makes_dir.clone())
            .collect()
    }

    #[test]
    fn folders_of_sqlite_files_the_repository_lacks() {
        let settings = "import os\nDATABASES = {'default': {'NAME': os.path.join(BASE_DIR, \"data\", \"db.sqlite3\")}}\nHUEY = {'filename': os.path.join(BASE_DIR, 'data', 'tasks.sqlite3')}\nX = BASE_DIR / 'var' / 'cache' / 'x.db'\nENGINE = create_engine('sqlite:///./instance/app.db')\nOK = os.path.join(BASE_DIR, 'db.sqlite3')\nUP = 'sqlite:///../up.db'\n";
        assert_eq!(
            made(
                &[("app/settings.py", settings)],
                "app",
                &["app/settings.py"]
            ),
            vec!["app/data", "app/var/cache", "app/instance"]
        );
        // A base assigned from `__file__` is the folder that many levels up.
        let pkg = "import os\nbasedir = os.path.abspath(os.path.dirname(__file__))\nDB = os.path.join(basedir, 'data', 'app.db')\n";
        assert_eq!(
            made(&[("svc/app/config.py", pkg)], "svc", &["svc/app/config.py"]),
            vec!["svc/app/data"]
        );
        let django = "from pathlib import Path\nBASE_DIR = Path(__file__).resolve().parent.parent\nNAME = BASE_DIR / 'data' / 'db.sqlite3'\n";
        assert_eq!(
            made(&[("proj/settings.py", django)], "", &["proj/settings.py"]),
            vec!["data"]
        );
        // A folder the repository holds (a `.gitkeep`) is there already.
        assert!(made(
            &[
                ("settings.py", settings),
                ("data/.gitkeep", ""),
                ("var/cache/.gitkeep", ""),
                ("instance/.gitkeep", "")
            ],
            "",
            &["settings.py"]
        )
        .is_empty());
    }
}
