//! What a Python project declares: its direct dependencies (requirements
//! files, PEP 621 `[project]`, poetry, Pipfile, setup.py/setup.cfg), its
//! package manager with the matching install command, whether a lock file
//! pins the build, its name and its Python version.
//!
//! Only *direct, runtime* dependencies are collected: dev groups, optional
//! extras, `dev-packages` and lock files are never read as dependencies (a
//! database driver used only by the tests must not add a database). A
//! `pyproject.toml` that only configures tools (black, ruff, pytest) declares
//! nothing and is not a manifest.

use crate::ctx::Ctx;
use crate::repo::{join, parent};
use crate::scan::{find_line, regex};
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

/// Files whose presence makes a folder a Python project (for the ancestor check).
pub(super) const MANIFEST_FILES: &[&str] = &[
    "requirements.txt",
    "pyproject.toml",
    "Pipfile",
    "setup.py",
    "setup.cfg",
];

/// Requirement files read, in order of preference (production first).
const REQUIREMENT_FILES: &[&str] = &[
    "requirements.txt",
    "requirements-prod.txt",
    "requirements_prod.txt",
    "requirements/production.txt",
    "requirements/prod.txt",
    "requirements/base.txt",
    "requirements/common.txt",
    "requirements/main.txt",
];

static REQ_LINE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$"));
static VERSION: LazyLock<Regex> = LazyLock::new(|| regex(r"(\d+\.\d+)"));

/// One declared dependency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Dep {
    pub file: String,
    pub line: u32,
    /// The requirement as written (`celery[redis]==5.4.0`).
    pub raw: String,
}

/// What the manifests of one folder say.
#[derive(Default, Debug)]
pub(super) struct Manifest {
    /// Direct runtime dependencies, by normalised name.
    pub deps: BTreeMap<String, Dep>,
    /// Manifest files that declare something (the evidence for `language`).
    pub files: Vec<String>,
    pub manager: Option<&'static str>,
    pub install: Option<String>,
    pub lockfile: bool,
    /// pip requirements without an exact pin.
    pub unpinned: Vec<String>,
    pub name: Option<String>,
    /// (version, file it came from)
    pub python: Option<(String, String)>,
    /// Exact versions a lock file holds the runtime dependencies at, by
    /// normalised name: (version as the lock writes it, lock file).
    pub locked: BTreeMap<String, (String, String)>,
    /// Requirement lines written in quotes (`"Django>=4.2,<4.3"`), which
    /// pip refuses: (file, line, the line as written, without its quotes).
    pub quoted: Vec<(String, u32, String, String)>,
}

impl Manifest {
    pub fn has(&self, dep: &str) -> bool {
        self.deps.contains_key(dep)
    }

    /// `poetry run ` / `uv run --no-sync ` / … so commands find the manager's environment.
    pub fn runner(&self) -> &'static str {
        match self.manager {
            Some("poetry") => "poetry run ",
            Some("uv") => "uv run --no-sync ",
            Some("pdm") => "pdm run ",
            Some("pipenv") => "pipenv run ",
            _ => "",
        }
    }

    /// Install command extended with one more package (a production server the
    /// project does not declare).
    pub fn install_with(&self, dep: &str) -> String {
        match &self.install {
            Some(i) => self.install_also(i, dep),
            None => format!("pip install {dep}"),
        }
    }

    /// `install` (this project's install command, perhaps already extended)
    /// with one more package, into the environment the manager installs in.
    pub fn install_also(&self, install: &str, dep: &str) -> String {
        match self.manager {
            Some("pip") | None if install.starts_with("pip install") => format!("{install} {dep}"),
            Some("uv") => format!("{install} && uv pip install {dep}"),
            Some("poetry" | "pipenv" | "pdm") => {
                format!("{install} && {}python -m pip install {dep}", self.runner())
            }
            _ => format!("{install} && pip install {dep}"),
        }
    }
}

/// Normalise a distribution name: lowercase, `_`/`.` → `-` (PEP 503).
pub(super) fn norm(name: &str) -> String {
    name.to_ascii_lowercase().replace(['_', '.'], "-")
}

/// A version requirement kept as the project writes it (`>=3.10,<4`,
/// `^3.11`, `3.12.1`): decide and the local target read it with
/// `autodeploy_core::version`, so a lower bound is not mistaken for a pin.
pub(super) fn version_requirement(spec: &str) -> Option<String> {
    let spec = spec.trim();
    VERSION.is_match(spec).then(|| spec.to_string())
}

/// True when `dir` holds a file that declares a Python project.
pub(super) fn is_python_project(ctx: &Ctx, dir: &str) -> bool {
    MANIFEST_FILES.iter().any(|f| ctx.has(dir, f))
}

/// Read every manifest of `dir`.
pub(super) fn read(ctx: &Ctx, dir: &str) -> Manifest {
    let mut m = Manifest::default();
    read_requirements(ctx, dir, &mut m);
    read_pyproject(ctx, dir, &mut m);
    read_pipfile(ctx, dir, &mut m);
    if m.deps.is_empty() {
        read_setup(ctx, dir, &mut m);
    }
    if m.manager == Some("pip") {
        let has_txt = m.files.iter().any(|f| f.ends_with(".txt"));
        m.lockfile = has_txt && m.unpinned.is_empty();
    }
    if let Some(text) = ctx.read(dir, ".python-version") {
        let first = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'));
        if let Some(v) = first {
            m.python = Some((v.to_string(), join(dir, ".python-version")));
        }
    } else if let Some(text) = ctx.read(dir, "runtime.txt") {
        if let Some(v) = text.trim().strip_prefix("python-") {
            m.python = Some((v.to_string(), join(dir, "runtime.txt")));
        }
    }
    m
}

/// requirements files, following `-r other.txt` includes (at most 10 files).
fn read_requirements(ctx: &Ctx, dir: &str, m: &mut Manifest) {
    let mut queue: Vec<String> = REQUIREMENT_FILES
        .iter()
        .rev()
        .map(|n| join(dir, n))
        .filter(|p| ctx.index().contains(p))
        .collect();
    let mut seen = BTreeSet::new();
    while let Some(file) = queue.pop() {
        if seen.len() >= 10 || !seen.insert(file.clone()) {
            continue;
        }
        let Some(text) = ctx.read_path(&file) else {
            continue;
        };
        m.files.push(file.clone());
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split(" #").next().unwrap_or("").trim();
            let line = line.trim_end_matches('\\').trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let include = line
                .strip_prefix("-r")
                .or_else(|| line.strip_prefix("--requirement"))
                .map(|r| r.trim_start_matches('=').trim());
            if let Some(inc) = include.filter(|r| !r.is_empty()) {
                if let Some(p) = crate::repo::normalize(&join(parent(&file), inc)) {
                    queue.push(p);
                }
                continue;
            }
            // Options (-e, -c, --index-url…) and direct URLs are not named dependencies.
            if line.starts_with('-') || line.contains("://") || line.starts_with('.') {
                continue;
            }
            // `"Django>=4.2,<4.3"`: pip stops at the quote ("Invalid
            // requirement"); the dependency is still the one named.
            let unquoted = line
                .strip_prefix('"')
                .and_then(|l| l.strip_suffix('"'))
                .or_else(|| line.strip_prefix('\'').and_then(|l| l.strip_suffix('\'')))
                .filter(|l| REQ_LINE.is_match(l));
            if let Some(u) = unquoted {
                m.quoted
                    .push((file.clone(), i as u32 + 1, line.to_string(), u.to_string()));
            }
            let line = unquoted.unwrap_or(line);
            if let Some(c) = REQ_LINE.captures(line) {
                let name = norm(&c[1]);
                let spec = c.get(3).map(|s| s.as_str()).unwrap_or("");
                if !spec.contains("==") && !spec.contains(" @ ") {
                    m.unpinned.push(name.clone());
                }
                m.deps.entry(name).or_insert(Dep {
                    file: file.clone(),
                    line: i as u32 + 1,
                    raw: line.to_string(),
                });
            }
        }
        if m.manager.is_none() {
            m.manager = Some("pip");
            let rel = file
                .strip_prefix(dir)
                .unwrap_or(&file)
                .trim_start_matches('/');
            m.install = Some(format!("pip install -r {rel}"));
        }
    }
}

fn read_pyproject(ctx: &Ctx, dir: &str, m: &mut Manifest) {
    let path = join(dir, "pyproject.toml");
    let Some(text) = ctx.read_path(&path) else {
        return;
    };
    let Ok(doc) = text.parse::<toml::Table>() else {
        return;
    };
    let project = doc.get("project");
    let tool = |name: &str| doc.get("tool").and_then(|t| t.get(name));
    let poetry = tool("poetry");
    let poetry_deps = poetry
        .and_then(|p| p.get("dependencies"))
        .and_then(|v| v.as_table());
    // A pyproject that only configures tools declares no project.
    if project.is_none() && poetry_deps.is_none() {
        return;
    }
    m.files.push(path.clone());
    m.name = project
        .and_then(|p| p.get("name"))
        .or_else(|| poetry.and_then(|p| p.get("name")))
        .and_then(|v| v.as_str())
        .map(str::to_string);

    let mut add = |spec: &str, line: u32| {
        if let Some(c) = REQ_LINE.captures(spec) {
            m.deps.entry(norm(&c[1])).or_insert(Dep {
                file: path.clone(),
                line,
                raw: spec.to_string(),
            });
        }
    };
    for d in project
        .and_then(|p| p.get("dependencies"))
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .filter_map(|d| d.as_str())
    {
        add(d, find_line(&text, d).unwrap_or(1));
    }
    for (k, v) in poetry_deps.into_iter().flatten() {
        if k == "python" {
            continue;
        }
        // Keep extras visible (`celery = {extras = ["redis"]}`) for the extras checks.
        let extras = v
            .get("extras")
            .and_then(|e| e.as_array())
            .map(|e| {
                e.iter()
                    .filter_map(|x| x.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .filter(|e| !e.is_empty())
            .map(|e| format!("[{e}]"))
            .unwrap_or_default();
        let line = key_line(&text, k).unwrap_or(1);
        add(&format!("{k}{extras}"), line);
    }

    let python = project
        .and_then(|p| p.get("requires-python"))
        .or_else(|| poetry_deps.and_then(|d| d.get("python")))
        .and_then(|v| v.as_str())
        .and_then(version_requirement);
    if let Some(v) = python {
        m.python = Some((v, path.clone()));
    }

    let workspace = uv_workspace_root(ctx, dir);
    let (manager, install, lock) =
        if ctx.has(dir, "uv.lock") || tool("uv").is_some() || workspace.is_some() {
            ("uv", "uv sync --frozen --no-dev", "uv.lock")
        } else if ctx.has(dir, "poetry.lock") || poetry_deps.is_some() {
            (
                "poetry",
                "poetry install --only main --no-root",
                "poetry.lock",
            )
        } else if ctx.has(dir, "pdm.lock") || tool("pdm").is_some() {
            ("pdm", "pdm install --prod", "pdm.lock")
        } else {
            ("pip", "pip install .", "")
        };
    // A requirements file keeps precedence over a plain PEP 621 project.
    if m.manager.is_none() || manager != "pip" {
        m.manager = Some(manager);
        // A uv workspace member is pinned by the workspace root's uv.lock.
        let locked =
            !lock.is_empty() && (ctx.has(dir, lock) || (manager == "uv" && workspace.is_some()));
        let install = match (manager, locked) {
            // `--frozen` needs the lock file.
            ("uv", false) => "uv sync --no-dev",
            _ => install,
        };
        // A database driver kept in a dependency group of its own (`[dependency-groups]
        // postgres = ["psycopg[c]"]`, installed by the project's Dockerfile with
        // `uv sync --group postgres`): the app's settings select that engine,
        // so the install takes the group too.
        let driver_groups: Vec<String> = if manager == "uv" {
            doc.get("dependency-groups")
                .and_then(|g| g.as_table())
                .into_iter()
                .flatten()
                .filter(|(name, _)| name.as_str() != "dev")
                .filter(|(_, deps)| {
                    deps.as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|d| d.as_str())
                        .any(|d| {
                            REQ_LINE
                                .captures(d)
                                .is_some_and(|c| DB_DRIVERS.contains(&norm(&c[1]).as_str()))
                        })
                })
                .map(|(name, _)| name.clone())
                .filter(|n| {
                    n.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut install = install.to_string();
        for g in &driver_groups {
            install.push_str(&format!(" --group {g}"));
            for d in doc["dependency-groups"][g.as_str()]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d.as_str())
            {
                add(d, find_line(&text, d).unwrap_or(1));
            }
        }
        m.install = Some(install);
        m.lockfile = locked;
    }
}

/// Python database drivers (normalised names): a dependency group holding
/// one is installed with the app.
const DB_DRIVERS: &[&str] = &[
    "psycopg",
    "psycopg2",
    "psycopg2-binary",
    "psycopg-binary",
    "asyncpg",
    "pg8000",
    "mysqlclient",
    "pymysql",
    "mysql-connector-python",
    "aiomysql",
    "asyncmy",
];

/// The uv workspace root above `dir` (a pyproject with `[tool.uv.workspace]`
/// next to a uv.lock), whose lock file also pins the members.
fn uv_workspace_root(ctx: &Ctx, dir: &str) -> Option<String> {
    let mut d = dir;
    while !d.is_empty() {
        d = parent(d);
        if ctx.has(d, "uv.lock")
            && ctx
                .read(d, "pyproject.toml")
                .is_some_and(|t| t.contains("[tool.uv.workspace]"))
        {
            return Some(d.to_string());
        }
    }
    None
}

/// Line of a TOML key at the start of a line (`flask = "^3.0"`).
fn key_line(text: &str, key: &str) -> Option<u32> {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            let rest = l
                .strip_prefix(key)
                .or_else(|| l.strip_prefix(&format!("\"{key}\"")));
            rest.is_some_and(|r| r.trim_start().starts_with('='))
        })
        .map(|i| i as u32 + 1)
}

fn read_pipfile(ctx: &Ctx, dir: &str, m: &mut Manifest) {
    let path = join(dir, "Pipfile");
    let Some(text) = ctx.read_path(&path) else {
        return;
    };
    let Ok(doc) = text.parse::<toml::Table>() else {
        return;
    };
    m.files.push(path.clone());
    for k in doc
        .get("packages")
        .and_then(|v| v.as_table())
        .into_iter()
        .flat_map(|t| t.keys())
    {
        m.deps.entry(norm(k)).or_insert(Dep {
            file: path.clone(),
            line: key_line(&text, k).unwrap_or(1),
            raw: k.clone(),
        });
    }
    if let Some(v) = doc
        .get("requires")
        .and_then(|r| {
            r.get("python_version")
                .or_else(|| r.get("python_full_version"))
        })
        .and_then(|v| v.as_str())
    {
        m.python = Some((v.to_string(), path.clone()));
    }
    m.manager = Some("pipenv");
    m.lockfile = ctx.has(dir, "Pipfile.lock");
    read_pipfile_lock(ctx, dir, m);
    // With a lock, `pipenv sync` installs exactly what it pins. `pipenv
    // install --deploy` would also refuse a lock whose hash no longer
    // matches the Pipfile (an edited Pipfile, another pipenv's hash): a
    // build that dies in the cloud for a lock that still installs.
    m.install = Some(if m.lockfile {
        "pipenv sync".into()
    } else {
        "pipenv install".into()
    });
}

/// `Pipfile.lock`'s `default` section (the runtime packages): name → `==1.0`.
fn read_pipfile_lock(ctx: &Ctx, dir: &str, m: &mut Manifest) {
    let path = join(dir, "Pipfile.lock");
    let Some(text) = ctx.read_path(&path) else {
        return;
    };
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(&text) else {
        return;
    };
    for (name, entry) in doc
        .get("default")
        .and_then(|d| d.as_object())
        .into_iter()
        .flatten()
    {
        if let Some(v) = entry.get("version").and_then(|v| v.as_str()) {
            m.locked.insert(norm(name), (v.to_string(), path.clone()));
        }
    }
}

/// setup.py `install_requires=[…]` and setup.cfg `[options] install_requires =`.
fn read_setup(ctx: &Ctx, dir: &str, m: &mut Manifest) {
    static INSTALL_REQUIRES: LazyLock<Regex> =
        LazyLock::new(|| regex(r"(?s)install_requires\s*=\s*\[(.*?)\]"));
    static QUOTED: LazyLock<Regex> = LazyLock::new(|| regex(r#"["']([^"']+)["']"#));
    let mut found = false;
    let setup_py = join(dir, "setup.py");
    if let Some(text) = ctx.read_path(&setup_py) {
        if text.contains("setup(") {
            found = true;
            m.files.push(setup_py.clone());
            if let Some(c) = INSTALL_REQUIRES.captures(&text) {
                for q in QUOTED.captures_iter(&c[1]) {
                    if let Some(r) = REQ_LINE.captures(&q[1]) {
                        m.deps.entry(norm(&r[1])).or_insert(Dep {
                            file: setup_py.clone(),
                            line: find_line(&text, &q[1]).unwrap_or(1),
                            raw: q[1].to_string(),
                        });
                    }
                }
            }
        }
    }
    let setup_cfg = join(dir, "setup.cfg");
    if let Some(text) = ctx.read_path(&setup_cfg) {
        // setup.cfg often only configures flake8/pytest: it counts only with [metadata]/[options].
        if text.contains("[metadata]") || text.contains("[options]") {
            found = true;
            m.files.push(setup_cfg.clone());
            let mut in_reqs = false;
            for (i, line) in text.lines().enumerate() {
                let t = line.trim();
                if let Some(rest) = t.strip_prefix("install_requires") {
                    let rest = rest.trim_start().trim_start_matches('=').trim();
                    in_reqs = true;
                    if rest.is_empty() {
                        continue;
                    }
                    add_cfg_req(m, &setup_cfg, rest, i);
                    continue;
                }
                if in_reqs {
                    let continued = line.starts_with([' ', '\t']) && !t.is_empty();
                    if !continued {
                        in_reqs = false;
                        continue;
                    }
                    if !t.starts_with('#') {
                        add_cfg_req(m, &setup_cfg, t, i);
                    }
                }
            }
        }
    }
    if found {
        m.manager.get_or_insert("pip");
        m.install.get_or_insert_with(|| "pip install .".into());
    }
}

fn add_cfg_req(m: &mut Manifest, file: &str, spec: &str, i: usize) {
    if let Some(r) = REQ_LINE.captures(spec) {
        m.deps.entry(norm(&r[1])).or_insert(Dep {
            file: file.to_string(),
            line: i as u32 + 1,
            raw: spec.to_string(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::MemRepo;

    fn manifest(files: &[(&str, &str)]) -> Manifest {
        let repo = MemRepo::new(files.iter().map(|(p, c)| (p.to_string(), c.to_string())));
        let ctx = Ctx::new(&repo);
        read(&ctx, "")
    }

    #[test]
    fn requirements_follow_includes_and_skip_options() {
        let m = manifest(&[
            (
                "requirements.txt",
                "-r requirements/base.txt\n--index-url https://x\n-e .\nFlask==3.0.3 \\\n    --hash=sha256:abc\ngunicorn>=22 # server\n",
            ),
            ("requirements/base.txt", "psycopg2-binary==2.9.9\n"),
        ]);
        let names: Vec<&str> = m.deps.keys().map(String::as_str).collect();
        assert_eq!(names, vec!["flask", "gunicorn", "psycopg2-binary"]);
        assert_eq!(m.deps["flask"].line, 4);
        assert_eq!(m.unpinned, vec!["gunicorn"]);
        assert_eq!(
            m.install.as_deref(),
            Some("pip install -r requirements.txt")
        );
        assert!(!m.lockfile);
    }

    #[test]
    fn tooling_only_pyproject_is_not_a_manifest() {
        let m = manifest(&[
            ("pyproject.toml", "[tool.black]\nline-length = 100\n"),
            ("requirements.txt", "flask==3.0.3\n"),
        ]);
        assert_eq!(m.files, vec!["requirements.txt"]);
        assert_eq!(m.manager, Some("pip"));
        assert!(m.lockfile);
        let m = manifest(&[("pyproject.toml", "[tool.ruff]\nline-length = 100\n")]);
        assert!(m.files.is_empty() && m.manager.is_none());
    }

    #[test]
    fn dev_groups_and_extras_are_not_dependencies() {
        let m = manifest(&[(
            "pyproject.toml",
            r#"[project]
name = "svc"
requires-python = ">=3.11"
dependencies = ["fastapi>=0.110", "uvicorn[standard]"]
[project.optional-dependencies]
pg = ["asyncpg"]
[dependency-groups]
dev = ["redis"]
"#,
        )]);
        let names: Vec<&str> = m.deps.keys().map(String::as_str).collect();
        assert_eq!(names, vec!["fastapi", "uvicorn"]);
        assert_eq!(m.manager, Some("pip"));
        assert_eq!(m.python.as_ref().map(|p| p.0.as_str()), Some(">=3.11"));
        assert_eq!(m.name.as_deref(), Some("svc"));
    }

    #[test]
    fn poetry_and_pipfile() {
        let m = manifest(&[
            (
                "pyproject.toml",
                "[tool.poetry]\nname = \"blog\"\n[tool.poetry.dependencies]\npython = \"^3.11\"\nflask = \"^3.0\"\ncelery = { version = \"^5\", extras = [\"redis\"] }\n[tool.poetry.group.dev.dependencies]\npsycopg = \"*\"\n",
            ),
            ("poetry.lock", ""),
        ]);
        assert_eq!(m.manager, Some("poetry"));
        assert!(m.lockfile);
        assert_eq!(m.deps["celery"].raw, "celery[redis]");
        assert_eq!(m.deps["flask"].line, 5);
        assert!(!m.has("psycopg"));
        assert_eq!(m.python.as_ref().map(|p| p.0.as_str()), Some("^3.11"));

        let m = manifest(&[(
            "Pipfile",
            "[packages]\nflask = \"*\"\n[dev-packages]\npsycopg2 = \"*\"\n[requires]\npython_version = \"3.11\"\n",
        )]);
        assert_eq!(m.manager, Some("pipenv"));
        assert!(m.has("flask") && !m.has("psycopg2"));
        assert_eq!(m.install.as_deref(), Some("pipenv install"));
        // With a lock: exactly what it pins, even when its hash no longer
        // matches an edited Pipfile (which `install --deploy` refuses).
        let m = manifest(&[
            ("Pipfile", "[packages]\nflask = \"*\"\n"),
            (
                "Pipfile.lock",
                "{\"_meta\": {\"hash\": {\"sha256\": \"stale\"}}, \"default\": {}}",
            ),
        ]);
        assert_eq!(m.install.as_deref(), Some("pipenv sync"));
    }

    #[test]
    fn setup_files() {
        let m = manifest(&[(
            "setup.py",
            "from setuptools import setup\nsetup(name='x', install_requires=['Flask>=2', \"redis\"])\n",
        )]);
        assert!(m.has("flask") && m.has("redis"));
        let m = manifest(&[(
            "setup.cfg",
            "[metadata]\nname = x\n[options]\ninstall_requires =\n    django>=4\n    psycopg2\n[flake8]\nmax-line-length = 100\n",
        )]);
        assert!(m.has("django") && m.has("psycopg2") && !m.has("max-line-length"));
        // setup.cfg holding only tool configuration is no manifest.
        let m = manifest(&[("setup.cfg", "[flake8]\nmax-line-length = 100\n")]);
        assert!(m.files.is_empty());
    }

    #[test]
    fn uv_workspace_member_uses_the_root_lock() {
        let repo = MemRepo::new([
            (
                "pyproject.toml",
                "[tool.uv.workspace]\nmembers = [\"backend\"]\n",
            ),
            ("uv.lock", "version = 1\n"),
            (
                "backend/pyproject.toml",
                "[project]\nname = \"app\"\ndependencies = [\"fastapi\"]\n",
            ),
        ]);
        let ctx = Ctx::new(&repo);
        let m = read(&ctx, "backend");
        assert_eq!(m.manager, Some("uv"));
        assert!(m.lockfile);
        assert_eq!(m.install.as_deref(), Some("uv sync --frozen --no-dev"));
    }

    /// A dependency group holding a database driver is installed with the
    /// app (`uv sync --group postgres`, as the project's Dockerfile does);
    /// `dev` and groups without a driver are not.
    #[test]
    fn a_driver_group_is_installed_with_the_app() {
        let repo = MemRepo::new([
            (
                "pyproject.toml",
                "[project]\nname = \"app\"\ndependencies = [\"django\"]\n\n[dependency-groups]\ndev = [\"pytest\", \"psycopg[binary]\"]\npostgres = [\n    \"psycopg[c]>=3.2.9\",\n]\ndocs = [\"mkdocs\"]\n",
            ),
            ("uv.lock", "version = 1\n"),
        ]);
        let ctx = Ctx::new(&repo);
        let m = read(&ctx, "");
        assert_eq!(
            m.install.as_deref(),
            Some("uv sync --frozen --no-dev --group postgres")
        );
        assert!(m.has("psycopg"));
        assert!(!m.has("pytest"));
    }

    #[test]
    fn python_version_file_skips_comments() {
        let m = manifest(&[
            (".python-version", "# The Python version to use.\n\n3.12\n"),
            ("requirements.txt", "flask\n"),
        ]);
        assert_eq!(m.python.as_ref().map(|p| p.0.as_str()), Some("3.12"));
    }

    #[test]
    fn malformed_manifests_mean_no_evidence() {
        let m = manifest(&[
            ("pyproject.toml", "[project\nname = "),
            ("Pipfile", "\u{0}"),
        ]);
        assert!(m.deps.is_empty());
        assert!(m.files.is_empty());
    }

    #[test]
    fn install_with_extra_server() {
        let m = manifest(&[("requirements.txt", "flask==3.0.3\n")]);
        assert_eq!(
            m.install_with("gunicorn"),
            "pip install -r requirements.txt gunicorn"
        );
        let m = manifest(&[
            (
                "pyproject.toml",
                "[project]\nname='a'\ndependencies=['fastapi']\n",
            ),
            ("uv.lock", "version = 1\n"),
        ]);
        assert_eq!(
            m.install_with("uvicorn"),
            "uv sync --frozen --no-dev && uv pip install uvicorn"
        );
    }
}
