//! Python: pip (requirements*.txt), poetry, uv, pdm, pipenv, setup.py; Flask,
//! Django, FastAPI, Starlette, Quart, Sanic, Litestar, aiohttp, Streamlit,
//! Gradio, plain WSGI/ASGI and `http.server` apps; Celery and RQ workers.
//!
//! Frameworks are rows of [`FRAMEWORKS`]: the dependency that signals them, the
//! pattern that finds the app object in code, the production server command.
//! Adding a framework = one row (plus a fixture). Django needs a little more
//! (settings and wsgi module discovery) and has its own function.

use crate::ctx::Ctx;
use crate::detectors::{database_of_url, databases_from_deps, Detector};
use crate::draft::{ev, Draft, Trust, PORT};
use crate::repo::{file_name, join, parent};
use crate::scan::{each_match, first_match, line_text};
use autodeploy_core::{Database, Language, ServiceKind, Severity, SourceFix};
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

pub struct Python;

/// Production servers, and how to point them at `module:object`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Server {
    Gunicorn,
    Uvicorn,
    Hypercorn,
    /// The framework's own CLI or `python file.py`.
    Own,
}

impl Server {
    fn dep(self) -> Option<&'static str> {
        match self {
            Server::Gunicorn => Some("gunicorn"),
            Server::Uvicorn => Some("uvicorn"),
            Server::Hypercorn => Some("hypercorn"),
            Server::Own => None,
        }
    }
}

/// One web framework or worker library.
struct Framework {
    name: &'static str,
    /// Dependency names (normalised: lowercase, `-`) that signal it.
    deps: &'static [&'static str],
    /// Top-level module an `import` names.
    import: &'static str,
    kind: ServiceKind,
    default_port: u16,
    /// Finds the app object; group 1 is its variable name (absent: the file is the app).
    app: &'static str,
    server: Server,
    /// Start command: `{module}`, `{object}`, `{file}`, `{PORT}`.
    start: &'static str,
    /// Higher wins when several frameworks have an app object in the code.
    rank: u8,
}

const FRAMEWORKS: &[Framework] = &[
    Framework {
        name: "django",
        deps: &["django"],
        import: "django",
        kind: ServiceKind::Web,
        default_port: 8000,
        app: r"\bget_(?:wsgi|asgi)_application\s*\(",
        server: Server::Gunicorn,
        start: "gunicorn --bind 0.0.0.0:{PORT} {module}:application",
        rank: 10,
    },
    Framework {
        name: "fastapi",
        deps: &["fastapi"],
        import: "fastapi",
        kind: ServiceKind::Web,
        default_port: 8000,
        app: r"(?m)^[ \t]*(\w+)\s*(?::\s*[\w.]+\s*)?=\s*(?:fastapi\.)?FastAPI\s*\(",
        server: Server::Uvicorn,
        start: "uvicorn {module}:{object} --host 0.0.0.0 --port {PORT}",
        rank: 9,
    },
    Framework {
        name: "flask",
        deps: &["flask"],
        import: "flask",
        kind: ServiceKind::Web,
        default_port: 5000,
        app: r"(?m)^[ \t]*(\w+)\s*(?::\s*[\w.]+\s*)?=\s*(?:flask\.)?Flask\s*\(",
        server: Server::Gunicorn,
        start: "gunicorn --bind 0.0.0.0:{PORT} {module}:{object}",
        rank: 8,
    },
    Framework {
        name: "quart",
        deps: &["quart"],
        import: "quart",
        kind: ServiceKind::Web,
        default_port: 5000,
        app: r"(?m)^[ \t]*(\w+)\s*=\s*(?:quart\.)?Quart\s*\(",
        server: Server::Hypercorn,
        start: "hypercorn {module}:{object} --bind 0.0.0.0:{PORT}",
        rank: 8,
    },
    Framework {
        name: "litestar",
        deps: &["litestar"],
        import: "litestar",
        kind: ServiceKind::Web,
        default_port: 8000,
        app: r"(?m)^[ \t]*(\w+)\s*=\s*Litestar\s*\(",
        server: Server::Uvicorn,
        start: "uvicorn {module}:{object} --host 0.0.0.0 --port {PORT}",
        rank: 7,
    },
    Framework {
        name: "sanic",
        deps: &["sanic"],
        import: "sanic",
        kind: ServiceKind::Web,
        default_port: 8000,
        app: r"(?m)^[ \t]*(\w+)\s*=\s*Sanic\s*\(",
        server: Server::Own,
        start: "sanic {module}:{object} --host 0.0.0.0 --port {PORT}",
        rank: 7,
    },
    Framework {
        name: "starlette",
        deps: &["starlette"],
        import: "starlette",
        kind: ServiceKind::Web,
        default_port: 8000,
        app: r"(?m)^[ \t]*(\w+)\s*=\s*Starlette\s*\(",
        server: Server::Uvicorn,
        start: "uvicorn {module}:{object} --host 0.0.0.0 --port {PORT}",
        rank: 6,
    },
    Framework {
        name: "aiohttp",
        deps: &["aiohttp"],
        import: "aiohttp",
        kind: ServiceKind::Web,
        default_port: 8080,
        app: r"\bweb\.run_app\s*\(",
        server: Server::Own,
        start: "python {file}",
        rank: 5,
    },
    Framework {
        name: "streamlit",
        deps: &["streamlit"],
        import: "streamlit",
        kind: ServiceKind::Web,
        default_port: 8501,
        app: r"(?m)^[ \t]*import\s+streamlit\b|^[ \t]*from\s+streamlit\s+import\b",
        server: Server::Own,
        start: "streamlit run {file} --server.port {PORT} --server.address 0.0.0.0 --server.headless true",
        rank: 4,
    },
    Framework {
        name: "gradio",
        deps: &["gradio"],
        import: "gradio",
        kind: ServiceKind::Web,
        default_port: 7860,
        app: r"\.launch\s*\(",
        server: Server::Own,
        start: "python {file}",
        rank: 3,
    },
    Framework {
        name: "celery",
        deps: &["celery"],
        import: "celery",
        kind: ServiceKind::Worker,
        default_port: 0,
        app: r"(?m)^[ \t]*(\w+)\s*=\s*Celery\s*\(",
        server: Server::Own,
        start: "celery -A {module} worker --loglevel=info",
        rank: 2,
    },
    Framework {
        name: "rq",
        deps: &["rq"],
        import: "rq",
        kind: ServiceKind::Worker,
        default_port: 0,
        app: r"\bWorker\s*\(|\bwith\s+Connection\s*\(",
        server: Server::Own,
        start: "python {file}",
        rank: 1,
    },
];

/// Declared dependency → database or cache.
const DB_DEPS: &[(&str, Database)] = &[
    ("psycopg2", Database::Postgresql),
    ("psycopg2-binary", Database::Postgresql),
    ("psycopg", Database::Postgresql),
    ("psycopg-binary", Database::Postgresql),
    ("asyncpg", Database::Postgresql),
    ("pg8000", Database::Postgresql),
    ("mysqlclient", Database::Mysql),
    ("pymysql", Database::Mysql),
    ("mysql-connector-python", Database::Mysql),
    ("aiomysql", Database::Mysql),
    ("asyncmy", Database::Mysql),
    ("pymongo", Database::Mongodb),
    ("motor", Database::Mongodb),
    ("mongoengine", Database::Mongodb),
    ("beanie", Database::Mongodb),
    ("odmantic", Database::Mongodb),
    ("flask-pymongo", Database::Mongodb),
    ("redis", Database::Redis),
    ("aioredis", Database::Redis),
    ("django-redis", Database::Redis),
    ("rq", Database::Redis),
    ("aiosqlite", Database::Sqlite),
];

const ENTRY_NAMES: &[&str] = &[
    "app.py",
    "main.py",
    "wsgi.py",
    "asgi.py",
    "server.py",
    "run.py",
    "application.py",
    "manage.py",
    "streamlit_app.py",
    "Home.py",
    "bot.py",
    "worker.py",
];

static REQ_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$").expect("regex")
});
static IMPORT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^[ \t]*(?:from|import)\s+([A-Za-z_]\w*)").expect("regex"));
static ENV_INDEX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\bos\.environ\s*\[\s*["']([A-Za-z_]\w*)["']\s*\]"#).expect("regex")
});
static ENV_GET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\b(?:os\.environ\.get|os\.getenv|environ\.get|getenv)\s*\(\s*["']([A-Za-z_]\w*)["']\s*(,)?"#)
        .expect("regex")
});
static ENV_LIB: LazyLock<Regex> = LazyLock::new(|| {
    // django-environ `env("X", default=…)` / `env.str("X")`, python-decouple `config("X", default=…)`.
    Regex::new(r#"\b(?:env(?:\.\w+)?|config)\s*\(\s*["']([A-Z_][A-Z0-9_]*)["']\s*(,\s*default\s*=|,\s*[^)\s])?"#)
        .expect("regex")
});
static RUN_PORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?s)\b(?:app|application|server|uvicorn|web|\w+)\.(?:run|run_app|launch|serve)\s*\(([^()]*(?:\([^()]*\)[^()]*)*)\)")
        .expect("regex")
});
static KW_PORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:port|server_port)\s*=\s*(?:int\s*\()?\s*(.+?)(?:,|\)|$)").expect("regex")
});
static KW_HOST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\b(?:host|server_name)\s*=\s*(["'](?:127\.0\.0\.1|localhost|::1)["'])"#)
        .expect("regex")
});
static PORT_EXPR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"^(?:(\d{2,5})|.*?(?:get|getenv)\s*\(\s*["']\w*PORT["']\s*,\s*["']?(\d{2,5})["']?.*)$"#,
    )
    .expect("regex")
});
static ENV_PORT_DEFAULT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:os\.environ\.get|os\.getenv)\s*\(\s*["'](?:PORT|APP_PORT|HTTP_PORT|SERVER_PORT)["']\s*,\s*["']?(\d{2,5})"#)
        .expect("regex")
});
static SOCKET_BIND: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\b(?:HTTPServer|ThreadingHTTPServer|TCPServer|ThreadingTCPServer|make_server|\.bind)\s*\(\s*\(?\s*(["'][^"']*["']|\w+)\s*,\s*(\w+)"#)
        .expect("regex")
});
static CONST_PORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?m)^(PORT|port|SERVER_PORT|HTTP_PORT)\s*=\s*(?:int\(.*?(\d{2,5}).*\)|(\d{2,5}))\s*$",
    )
    .expect("regex")
});
static MAIN_GUARD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)^if\s+__name__\s*==\s*["']__main__["']\s*:"#).expect("regex")
});
static DB_URL_LITERAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"["']((?:postgres(?:ql)?|mysql|mariadb|mongodb|redis|rediss|sqlite)(?:\+\w+)?://[^"']*)["']"#).expect("regex")
});
static DJANGO_ENGINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"django\.db\.backends\.(postgresql\w*|mysql|sqlite3)"#).expect("regex")
});
static DJANGO_SETTINGS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']"#).expect("regex")
});
static HEALTH_ROUTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"@\w+\.(?:route|get|api_route)\s*\(\s*["'](/(?:healthz?|health-check|ping|status|_health|api/health))["']"#)
        .expect("regex")
});
static WSGI_CALLABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^def\s+application\s*\(\s*environ\s*,\s*start_response").expect("regex")
});
static ASGI_CALLABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^async\s+def\s+app\s*\(\s*scope\s*,\s*receive\s*,\s*send").expect("regex")
});

/// Normalise a distribution name: lowercase, `_`/`.` → `-`.
fn norm(name: &str) -> String {
    name.to_ascii_lowercase().replace(['_', '.'], "-")
}

/// What the manifests of one folder say.
#[derive(Default, Debug)]
struct Manifest {
    /// Declared dependency (normalised) → (file, line, raw requirement text).
    deps: BTreeMap<String, (String, u32, String)>,
    files: Vec<String>,
    manager: Option<&'static str>,
    install: Option<String>,
    lockfile: bool,
    unpinned: Vec<String>,
    name: Option<String>,
    python: Option<(String, String)>,
}

impl Detector for Python {
    fn name(&self) -> &'static str {
        "python"
    }

    fn markers(&self) -> &'static [&'static str] {
        &[
            "requirements.txt",
            "pyproject.toml",
            "Pipfile",
            "setup.py",
            "setup.cfg",
            "manage.py",
            "app.py",
            "main.py",
            "wsgi.py",
            "asgi.py",
            "server.py",
            "streamlit_app.py",
        ]
    }

    fn detect(&self, ctx: &Ctx, dir: &str) -> Vec<Draft> {
        let m = read_manifests(ctx, dir);
        let sources = ctx.sources(dir, &[".py"]);
        if sources.is_empty() && m.files.is_empty() {
            return Vec::new();
        }
        // A library or tooling manifest with no code at all is not an app.
        if sources.is_empty() {
            return Vec::new();
        }
        analyze_folder(ctx, dir, &m, &sources)
    }
}

fn read_manifests(ctx: &Ctx, dir: &str) -> Manifest {
    let mut m = Manifest::default();

    // requirements files: requirements.txt, requirements/*.txt (prod/base), following `-r`.
    let mut req_files: Vec<String> = Vec::new();
    for name in [
        "requirements.txt",
        "requirements-prod.txt",
        "requirements/production.txt",
        "requirements/prod.txt",
        "requirements/base.txt",
        "requirements/common.txt",
    ] {
        let p = join(dir, name);
        if ctx.index().contains(&p) {
            req_files.push(p);
        }
    }
    let mut seen = BTreeSet::new();
    while let Some(file) = req_files.pop() {
        if !seen.insert(file.clone()) || seen.len() > 10 {
            continue;
        }
        let Some(text) = ctx.read_path(&file) else {
            continue;
        };
        m.files.push(file.clone());
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split(" #").next().unwrap_or("").trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(inc) = line
                .strip_prefix("-r ")
                .or_else(|| line.strip_prefix("--requirement "))
            {
                if let Some(p) = crate::repo::normalize(&join(parent(&file), inc.trim())) {
                    req_files.push(p);
                }
                continue;
            }
            if line.starts_with('-') || line.contains("://") {
                continue;
            }
            if let Some(c) = REQ_LINE.captures(line) {
                let name = norm(&c[1]);
                let spec = c.get(3).map(|s| s.as_str()).unwrap_or("");
                if !spec.contains("==") && !spec.contains("===") {
                    m.unpinned.push(name.clone());
                }
                m.deps
                    .entry(name)
                    .or_insert((file.clone(), i as u32 + 1, line.to_string()));
            }
        }
        m.manager.get_or_insert("pip");
        m.install
            .get_or_insert_with(|| format!("pip install -r {}", file_name_rel(dir, &file)));
    }

    // pyproject.toml: PEP 621, poetry, pdm, uv.
    let pyproject = join(dir, "pyproject.toml");
    if let Some(text) = ctx.read_path(&pyproject) {
        if let Ok(doc) = text.parse::<toml::Table>() {
            m.files.push(pyproject.clone());
            let project = doc.get("project");
            m.name = project
                .and_then(|p| p.get("name"))
                .and_then(|v| v.as_str())
                .map(str::to_string);
            let mut add = |spec: &str| {
                if let Some(c) = REQ_LINE.captures(spec) {
                    let name = norm(&c[1]);
                    let line = crate::scan::find_line(&text, spec).unwrap_or(1);
                    m.deps
                        .entry(name)
                        .or_insert((pyproject.clone(), line, spec.to_string()));
                }
            };
            if let Some(deps) = project
                .and_then(|p| p.get("dependencies"))
                .and_then(|v| v.as_array())
            {
                for d in deps.iter().filter_map(|d| d.as_str()) {
                    add(d);
                }
            }
            let poetry = doc.get("tool").and_then(|t| t.get("poetry"));
            if let Some(deps) = poetry
                .and_then(|p| p.get("dependencies"))
                .and_then(|v| v.as_table())
            {
                for k in deps.keys().filter(|k| *k != "python") {
                    add(k);
                }
            }
            if m.name.is_none() {
                m.name = poetry
                    .and_then(|p| p.get("name"))
                    .and_then(|v| v.as_str())
                    .map(str::to_string);
            }
            if let Some(rp) = project
                .and_then(|p| p.get("requires-python"))
                .and_then(|v| v.as_str())
            {
                if let Some(v) = version_digits(rp) {
                    m.python = Some((v, pyproject.clone()));
                }
            }
            let tool = |name: &str| doc.get("tool").and_then(|t| t.get(name)).is_some();
            let (manager, install, lock) = if ctx.has(dir, "uv.lock") || tool("uv") {
                ("uv", "uv sync --frozen --no-dev", "uv.lock")
            } else if ctx.has(dir, "poetry.lock") || poetry.is_some() {
                (
                    "poetry",
                    "poetry install --only main --no-root",
                    "poetry.lock",
                )
            } else if ctx.has(dir, "pdm.lock") || tool("pdm") {
                ("pdm", "pdm install --prod", "pdm.lock")
            } else {
                ("pip", "pip install .", "")
            };
            if m.manager.is_none() || manager != "pip" {
                m.manager = Some(manager);
                m.install = Some(install.to_string());
                m.lockfile = !lock.is_empty() && ctx.has(dir, lock);
            }
        }
    }

    // Pipfile.
    if let Some(text) = ctx.read(dir, "Pipfile") {
        m.files.push(join(dir, "Pipfile"));
        if let Ok(doc) = text.parse::<toml::Table>() {
            if let Some(pk) = doc.get("packages").and_then(|v| v.as_table()) {
                for k in pk.keys() {
                    let line = crate::scan::find_line(&text, k).unwrap_or(1);
                    m.deps
                        .entry(norm(k))
                        .or_insert((join(dir, "Pipfile"), line, k.clone()));
                }
            }
            if let Some(v) = doc
                .get("requires")
                .and_then(|r| r.get("python_version"))
                .and_then(|v| v.as_str())
            {
                m.python = Some((v.to_string(), join(dir, "Pipfile")));
            }
        }
        m.manager = Some("pipenv");
        m.install = Some("pipenv install --deploy".into());
        m.lockfile = ctx.has(dir, "Pipfile.lock");
    }

    // setup.py install_requires (when nothing else declared dependencies).
    if m.deps.is_empty() {
        if let Some(text) = ctx.read(dir, "setup.py") {
            m.files.push(join(dir, "setup.py"));
            static INSTALL_REQUIRES: LazyLock<Regex> = LazyLock::new(|| {
                Regex::new(r"(?s)install_requires\s*=\s*\[(.*?)\]").expect("regex")
            });
            static QUOTED: LazyLock<Regex> =
                LazyLock::new(|| Regex::new(r#"["']([^"']+)["']"#).expect("regex"));
            if let Some(c) = INSTALL_REQUIRES.captures(&text) {
                for q in QUOTED.captures_iter(&c[1]) {
                    if let Some(r) = REQ_LINE.captures(&q[1]) {
                        let line = crate::scan::find_line(&text, &q[1]).unwrap_or(1);
                        m.deps.entry(norm(&r[1])).or_insert((
                            join(dir, "setup.py"),
                            line,
                            q[1].to_string(),
                        ));
                    }
                }
            }
            m.manager.get_or_insert("pip");
            m.install.get_or_insert_with(|| "pip install .".into());
        }
    }
    if m.manager == Some("pip") && !m.files.iter().any(|f| f.ends_with(".txt")) {
        m.lockfile = false;
    } else if m.manager == Some("pip") {
        m.lockfile = m.unpinned.is_empty();
    }

    // Runtime version.
    if let Some(text) = ctx.read(dir, ".python-version") {
        if let Some(v) = text.lines().next().map(str::trim).filter(|v| !v.is_empty()) {
            m.python = Some((v.to_string(), join(dir, ".python-version")));
        }
    } else if let Some(text) = ctx.read(dir, "runtime.txt") {
        if let Some(v) = text.trim().strip_prefix("python-") {
            m.python = Some((v.to_string(), join(dir, "runtime.txt")));
        }
    }
    m
}

/// `>=3.10,<4` → `3.10`.
fn version_digits(spec: &str) -> Option<String> {
    static V: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(\d+\.\d+)").expect("regex"));
    V.captures(spec).map(|c| c[1].to_string())
}

/// Path of `file` relative to `dir`.
fn file_name_rel(dir: &str, file: &str) -> String {
    if dir.is_empty() {
        file.to_string()
    } else {
        file.strip_prefix(dir)
            .map(|f| f.trim_start_matches('/').to_string())
            .unwrap_or_else(|| file.to_string())
    }
}

/// Python module path of a file relative to the service folder, and the
/// folder to add to the import path for `src/` layouts.
fn module_of(dir: &str, file: &str, ctx: &Ctx) -> (String, Option<String>) {
    let rel = file_name_rel(dir, file);
    let rel = rel.strip_suffix(".py").unwrap_or(&rel);
    let rel = rel.strip_suffix("/__init__").unwrap_or(rel);
    if let Some(rest) = rel.strip_prefix("src/") {
        if !ctx.has(&join(dir, "src"), "__init__.py") {
            return (rest.replace('/', "."), Some("src".into()));
        }
    }
    (rel.replace('/', "."), None)
}

/// Everything the sources of one folder say, gathered in one pass.
#[derive(Default)]
struct CodeFacts {
    imports: BTreeSet<String>,
    /// framework name → (file, line, object name)
    apps: BTreeMap<&'static str, (String, u32, Option<String>)>,
    main_files: Vec<String>,
}

fn analyze_folder(ctx: &Ctx, dir: &str, m: &Manifest, sources: &[&str]) -> Vec<Draft> {
    let mut web = Draft::new(dir, Language::Python, ServiceKind::Web);
    web.has_manifest = !m.files.is_empty();
    web.manifest_name = m.name.clone();
    web.package_manager = m.manager.map(str::to_string);
    web.install = m.install.clone();
    if let Some((v, f)) = &m.python {
        web.runtime_version = Some(v.clone());
        web.note("runtime_version", ev(f, None, format!("python {v}")));
    }
    for f in &m.files {
        web.note("language", ev(f, None, "Python dependency manifest"));
    }
    if m.files.is_empty() {
        web.note("language", ev(sources[0], None, "Python source"));
        web.finding(
            "no_manifest",
            Severity::Warning,
            None,
            None,
            "no requirements.txt or pyproject.toml: the dependencies are not declared, so a deployment cannot install them; add a requirements.txt",
            None,
        );
    } else if !m.lockfile {
        let msg = if m.manager == Some("pip") && !m.unpinned.is_empty() {
            format!(
                "{} of the requirements are not pinned to a version ({}); builds are not reproducible — pin them (pip freeze) or use a lock file (uv, poetry)",
                m.unpinned.len(),
                m.unpinned.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
            )
        } else {
            format!(
                "no lock file for {}: builds are not reproducible; commit the lock file",
                m.manager.unwrap_or("pip")
            )
        };
        web.finding(
            "no_lockfile",
            Severity::Info,
            m.files.first().map(String::as_str),
            None,
            msg,
            None,
        );
    }

    // Databases from declared dependencies (extras like celery[redis] count).
    for (db, dep) in databases_from_deps(m.deps.keys().map(String::as_str), DB_DEPS) {
        let (file, line, _) = &m.deps[&dep];
        web.database(db, ev(file, Some(*line), format!("depends on {dep}")));
    }
    for (name, (file, line, raw)) in &m.deps {
        if (name == "celery" || name == "kombu") && raw.contains("redis") {
            web.database(Database::Redis, ev(file, Some(*line), raw.clone()));
        }
    }

    // One pass over the sources.
    let mut facts = CodeFacts::default();
    let candidates: Vec<&Framework> = FRAMEWORKS
        .iter()
        .filter(|f| f.deps.iter().any(|d| m.deps.contains_key(*d)))
        .collect();
    let compiled: Vec<(&Framework, Regex)> = FRAMEWORKS
        .iter()
        .map(|f| (f, Regex::new(f.app).expect("framework pattern")))
        .collect();
    let mut port_claims: Vec<(u16, String, u32, String)> = Vec::new();
    for &file in sources {
        let Some(text) = ctx.read_path(file) else {
            continue;
        };
        let imports: BTreeSet<String> = IMPORT
            .captures_iter(&text)
            .map(|c| c[1].to_string())
            .collect();
        for (fw, re) in &compiled {
            let declared = candidates.iter().any(|c| c.name == fw.name);
            if !declared && !imports.contains(fw.import) {
                continue;
            }
            if facts
                .apps
                .get(fw.name)
                .is_some_and(|(f, _, _)| !is_entry_name(file) || is_entry_name(f))
            {
                continue;
            }
            if let Some((line, caps)) = first_match(&text, re) {
                let object = caps.get(1).map(|o| o.as_str().to_string());
                facts.apps.insert(fw.name, (file.to_string(), line, object));
            }
        }
        facts.imports.extend(imports);
        if MAIN_GUARD.is_match(&text) {
            facts.main_files.push(file.to_string());
        }
        scan_env(&mut web, file, &text, m);
        scan_ports_and_hosts(&mut web, file, &text, &mut port_claims);
        scan_databases(&mut web, file, &text, &facts.imports);
        if web.health_path.is_none() {
            if let Some((line, c)) = first_match(&text, &HEALTH_ROUTE) {
                web.health_path = Some(c[1].to_string());
                web.note("health_path", ev(file, Some(line), line_text(&text, line)));
            }
        }
    }
    for (port, file, line, note) in port_claims {
        web.port(port, Trust::Code, ev(&file, Some(line), note));
    }

    let mut drafts = Vec::new();

    // Django has its own conventions.
    let is_django = m.deps.contains_key("django") || ctx.has(dir, "manage.py");
    let web_fw: Option<&Framework> = if is_django
        && (m.deps.contains_key("django") || facts.imports.contains("django"))
    {
        FRAMEWORKS.iter().find(|f| f.name == "django")
    } else {
        FRAMEWORKS
            .iter()
            .filter(|f| {
                f.kind == ServiceKind::Web && f.name != "django" && facts.apps.contains_key(f.name)
            })
            .max_by_key(|f| f.rank)
            .or_else(|| {
                FRAMEWORKS
                    .iter()
                    .filter(|f| {
                        f.kind == ServiceKind::Web
                            && f.name != "django"
                            && m.deps.contains_key(f.deps[0])
                    })
                    .max_by_key(|f| f.rank)
            })
    };

    if let Some(fw) = web_fw {
        web.strength = if facts.apps.contains_key(fw.name) {
            10.0
        } else {
            7.0
        };
        let dep_ev = m
            .deps
            .get(fw.deps[0])
            .map(|(f, l, raw)| ev(f, Some(*l), format!("depends on {raw}")));
        match (&dep_ev, facts.apps.get(fw.name)) {
            (Some(e), _) => web.set_framework(fw.name, e.clone()),
            (None, Some((f, l, _))) => {
                web.set_framework(fw.name, ev(f, Some(*l), format!("imports {}", fw.import)))
            }
            (None, None) => web.framework = Some(fw.name.to_string()),
        }
        web.port(
            fw.default_port,
            Trust::Default,
            ev(&join(dir, ""), None, format!("default port of {}", fw.name)),
        );
        if fw.name == "django" {
            django(ctx, dir, m, &mut web, &facts);
        } else {
            infer_start(ctx, dir, m, &mut web, fw, facts.apps.get(fw.name));
        }
    } else if let Some((file, line, _)) = find_wsgi_asgi(ctx, sources) {
        // Plain WSGI/ASGI callables.
        let (module, path) = module_of(dir, &file, ctx);
        let asgi = line_text(&ctx.read_path(&file).unwrap_or_default(), line).contains("async");
        web.strength = 6.0;
        let (server, cmd) = if asgi {
            (
                Server::Uvicorn,
                format!(
                    "uvicorn {module}:app --host 0.0.0.0 --port {PORT}{}",
                    path.map(|p| format!(" --app-dir {p}")).unwrap_or_default()
                ),
            )
        } else {
            (
                Server::Gunicorn,
                format!(
                    "gunicorn --bind 0.0.0.0:{PORT}{} {module}:application",
                    path.map(|p| format!(" --chdir {p}")).unwrap_or_default()
                ),
            )
        };
        web.start(
            cmd,
            Trust::Inferred,
            ev(&file, Some(line), "inferred: plain WSGI/ASGI callable"),
        );
        web.port(
            8000,
            Trust::Default,
            ev(&file, None, "default port of gunicorn/uvicorn"),
        );
        require_server(&mut web, m, server);
    } else if let Some(file) = pick_main(&facts.main_files, dir) {
        // A script: a web server if it opens one, else a worker/console process.
        let rel = file_name_rel(dir, &file);
        let serves = !web.ports.is_empty();
        web.strength = if web.has_manifest { 5.0 } else { 3.0 };
        if !serves {
            web.kind = ServiceKind::Worker;
            web.note(
                "kind",
                ev(&file, None, "script with a __main__ guard and no server"),
            );
        }
        let cmd = format!("{}python {rel}", runner_prefix(m));
        web.start(
            cmd,
            Trust::Inferred,
            ev(&file, None, "inferred: the script's __main__ guard"),
        );
    } else if !web.has_manifest {
        return Vec::new();
    } else {
        web.strength = 2.5;
    }

    // Workers that live beside the web app (Celery, RQ).
    for fw in FRAMEWORKS.iter().filter(|f| f.kind == ServiceKind::Worker) {
        if !m.deps.contains_key(fw.deps[0]) {
            continue;
        }
        let Some((file, line, _)) = facts.apps.get(fw.name) else {
            continue;
        };
        let (module, _) = module_of(dir, file, ctx);
        let rel = file_name_rel(dir, file);
        let mut w = web.clone();
        w.kind = ServiceKind::Worker;
        w.framework = Some(fw.name.to_string());
        w.name = Some(if fw.name == "celery" {
            "worker".into()
        } else {
            format!("{}-worker", fw.name)
        });
        w.ports.clear();
        w.starts.clear();
        w.builds.clear();
        w.findings
            .retain(|f| f.kind != "binds_localhost" && f.kind != "missing_production_server");
        w.evidence.remove("framework");
        w.note(
            "framework",
            ev(
                file,
                Some(*line),
                line_text(&ctx.read_path(file).unwrap_or_default(), *line),
            ),
        );
        let cmd = fw
            .start
            .replace("{module}", &module)
            .replace("{file}", &rel);
        w.start(
            format!("{}{cmd}", runner_prefix(m)),
            Trust::Inferred,
            ev(file, Some(*line), format!("inferred: {} app", fw.name)),
        );
        if web.kind == ServiceKind::Worker && web.framework.is_none() {
            // The folder is only a worker: replace the generic script draft.
            web = w;
            continue;
        }
        drafts.push(w);
    }
    drafts.insert(0, web);
    drafts
}

fn find_wsgi_asgi(ctx: &Ctx, sources: &[&str]) -> Option<(String, u32, ())> {
    for &f in sources {
        let text = ctx.read_path(f)?;
        if let Some((line, _)) =
            first_match(&text, &WSGI_CALLABLE).or_else(|| first_match(&text, &ASGI_CALLABLE))
        {
            return Some((f.to_string(), line, ()));
        }
    }
    None
}

fn is_entry_name(file: &str) -> bool {
    ENTRY_NAMES.contains(&file_name(file))
}

/// The script to run: an entry-named file closest to the folder root.
fn pick_main(files: &[String], dir: &str) -> Option<String> {
    let depth = |f: &String| f.matches('/').count() - dir.matches('/').count();
    files
        .iter()
        .min_by_key(|f| (!is_entry_name(f), depth(f), (*f).clone()))
        .cloned()
}

/// `poetry run ` / `uv run ` / … so commands find the manager's environment.
fn runner_prefix(m: &Manifest) -> &'static str {
    match m.manager {
        Some("poetry") => "poetry run ",
        Some("uv") => "uv run --no-sync ",
        Some("pdm") => "pdm run ",
        Some("pipenv") => "pipenv run ",
        _ => "",
    }
}

fn require_server(web: &mut Draft, m: &Manifest, server: Server) {
    let Some(dep) = server.dep() else { return };
    if m.deps.contains_key(dep)
        || (dep == "uvicorn" && m.deps.keys().any(|d| d.starts_with("uvicorn")))
    {
        return;
    }
    let manifest = m.files.first().map(String::as_str);
    web.finding(
        "missing_production_server",
        Severity::Info,
        manifest,
        None,
        format!(
            "{dep} is not a declared dependency; the production start command needs it, so the deployment installs it — add `{dep}` to your dependencies to make that explicit"
        ),
        None,
    );
    if let Some(install) = &web.install {
        if m.manager == Some("pip") {
            web.install = Some(format!("{install} {dep}"));
        }
    } else {
        web.install = Some(format!("pip install {dep}"));
    }
}

fn infer_start(
    ctx: &Ctx,
    dir: &str,
    m: &Manifest,
    web: &mut Draft,
    fw: &Framework,
    app: Option<&(String, u32, Option<String>)>,
) {
    let Some((file, line, object)) = app else {
        web.finding(
            "start_not_found",
            Severity::Warning,
            None,
            None,
            format!(
                "{} is a dependency but no {} app object was found in the code; add a Procfile `web:` line with the start command",
                fw.name, fw.name
            ),
            None,
        );
        return;
    };
    let (module, path) = module_of(dir, file, ctx);
    let rel = file_name_rel(dir, file);
    let mut object = object.clone().unwrap_or_else(|| "app".into());
    // Application factories: `def create_app()` without a module-level app.
    if let Some(text) = ctx.read_path(file) {
        if fw.name == "flask"
            && line_text(&text, *line).starts_with(' ')
            && text.contains("def create_app(")
        {
            object = "create_app()".into();
        }
    }
    let mut cmd = fw
        .start
        .replace("{module}", &module)
        .replace("{object}", &object)
        .replace("{file}", &rel);
    if let Some(p) = path {
        cmd = match fw.server {
            Server::Gunicorn => cmd.replacen("gunicorn ", &format!("gunicorn --chdir {p} "), 1),
            Server::Uvicorn => format!("{cmd} --app-dir {p}"),
            _ => cmd,
        };
    }
    web.start(
        format!("{}{cmd}", runner_prefix(m)),
        Trust::Inferred,
        ev(
            file,
            Some(*line),
            format!("inferred: {} app `{object}` in {module}", fw.name),
        ),
    );
    require_server(web, m, fw.server);
}

fn django(ctx: &Ctx, dir: &str, m: &Manifest, web: &mut Draft, facts: &CodeFacts) {
    // Settings module from manage.py, then the wsgi module next to it.
    let manage = join(dir, "manage.py");
    let settings = ctx
        .read_path(&manage)
        .and_then(|t| DJANGO_SETTINGS.captures(&t).map(|c| c[1].to_string()));
    let wsgi = settings
        .as_deref()
        .and_then(|s| s.rsplit_once('.').map(|(pkg, _)| format!("{pkg}.wsgi")))
        .filter(|w| {
            ctx.index()
                .contains(&join(dir, &format!("{}.py", w.replace('.', "/"))))
        })
        .or_else(|| {
            facts
                .apps
                .get("django")
                .map(|(f, _, _)| module_of(dir, f, ctx).0)
                .filter(|m| m.ends_with("wsgi"))
        })
        .or_else(|| {
            ctx.sources(dir, &["wsgi.py"])
                .first()
                .map(|f| module_of(dir, f, ctx).0)
        });
    let prefix = runner_prefix(m);
    match &wsgi {
        Some(module) => {
            let file = join(dir, &format!("{}.py", module.replace('.', "/")));
            web.start(
                format!("{prefix}gunicorn --bind 0.0.0.0:{PORT} {module}:application"),
                Trust::Inferred,
                ev(&file, None, format!("inferred: Django WSGI module {module}")),
            );
            require_server(web, m, Server::Gunicorn);
        }
        None => web.finding(
            "start_not_found",
            Severity::Warning,
            Some(&manage),
            None,
            "Django project without a wsgi.py: add one (django-admin startproject creates it) or a Procfile `web:` line",
            None,
        ),
    }
    if ctx.has(dir, "manage.py") {
        web.release = Some(format!("{prefix}python manage.py migrate --noinput"));
        web.note("release", ev(&manage, None, "Django migrations"));
        // collectstatic only works when STATIC_ROOT is configured.
        let settings_file = settings
            .as_deref()
            .map(|s| join(dir, &format!("{}.py", s.replace('.', "/"))));
        let settings_text = settings_file.as_deref().and_then(|f| ctx.read_path(f));
        match settings_text {
            Some(t) if t.contains("STATIC_ROOT") => {
                let f = settings_file.clone().unwrap_or_default();
                web.build(
                    format!("{prefix}python manage.py collectstatic --noinput"),
                    Trust::Inferred,
                    ev(
                        &f,
                        crate::scan::find_line(&t, "STATIC_ROOT"),
                        "STATIC_ROOT is set",
                    ),
                );
            }
            Some(_) => {
                let f = settings_file.clone().unwrap_or_default();
                web.finding(
                    "no_static_root",
                    Severity::Info,
                    Some(&f),
                    None,
                    "STATIC_ROOT is not set, so `collectstatic` cannot run and static files are not served in production; set STATIC_ROOT (and serve it, e.g. with whitenoise)",
                    None,
                );
            }
            None => {}
        }
    }
}

fn scan_env(web: &mut Draft, file: &str, text: &str, m: &Manifest) {
    each_match(text, &ENV_INDEX, |line, c| {
        web.env_var(&c[1], false, file, line)
    });
    each_match(text, &ENV_GET, |line, c| {
        web.env_var(&c[1], c.get(2).is_some(), file, line)
    });
    if m.deps.contains_key("django-environ")
        || m.deps.contains_key("python-decouple")
        || m.deps.contains_key("environs")
    {
        each_match(text, &ENV_LIB, |line, c| {
            web.env_var(&c[1], c.get(2).is_some(), file, line)
        });
    }
}

fn scan_ports_and_hosts(
    web: &mut Draft,
    file: &str,
    text: &str,
    out: &mut Vec<(u16, String, u32, String)>,
) {
    for caps in RUN_PORT.captures_iter(text) {
        let whole = caps.get(0).expect("match");
        let args = &caps[1];
        let line = crate::scan::line_of(text, whole.start());
        let call = line_text(text, line);
        if let Some(p) = KW_PORT
            .captures(args)
            .and_then(|c| port_expr(text, c[1].trim()))
        {
            out.push((p, file.to_string(), line, call.clone()));
        }
        if let Some(h) = KW_HOST.captures(args) {
            let args_start = caps.get(1).map(|g| g.start()).unwrap_or(whole.start());
            let host_line =
                crate::scan::line_of(text, args_start + h.get(1).map(|g| g.start()).unwrap_or(0));
            bind_finding(web, file, host_line, &h[1]);
        }
    }
    each_match(text, &ENV_PORT_DEFAULT, |line, c| {
        if let Ok(p) = c[1].parse() {
            out.push((p, file.to_string(), line, line_text(text, line)));
        }
    });
    each_match(text, &SOCKET_BIND, |line, c| {
        let host = &c[1];
        if matches!(
            host.trim_matches(['"', '\'']),
            "127.0.0.1" | "localhost" | "::1"
        ) {
            bind_finding(web, file, line, host);
        }
        if let Some(p) = port_expr(text, &c[2]) {
            out.push((p, file.to_string(), line, line_text(text, line)));
        }
    });
}

/// A port from an expression: a literal, `PORT` constant, or an env lookup with a default.
fn port_expr(text: &str, expr: &str) -> Option<u16> {
    let expr = expr.trim().trim_end_matches(')');
    if let Some(c) = PORT_EXPR.captures(expr) {
        return c.get(1).or(c.get(2)).and_then(|m| m.as_str().parse().ok());
    }
    // A module-level constant: `PORT = 8000` / `PORT = int(os.environ.get("PORT", 8000))`.
    if expr.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        for c in CONST_PORT.captures_iter(text) {
            if &c[1] == expr {
                return c.get(2).or(c.get(3)).and_then(|m| m.as_str().parse().ok());
            }
        }
    }
    None
}

fn bind_finding(web: &mut Draft, file: &str, line: u32, quoted_host: &str) {
    let quote = if quoted_host.starts_with('\'') {
        '\''
    } else {
        '"'
    };
    web.finding(
        "binds_localhost",
        Severity::Warning,
        Some(file),
        Some(line),
        format!(
            "{file}:{line} binds to {}, so nothing outside this machine can reach the app; bind 0.0.0.0 (autodeploy does so in its copy and serves the app with a production server)",
            quoted_host.trim_matches(['"', '\''])
        ),
        Some(SourceFix {
            file: file.to_string(),
            line,
            find: quoted_host.to_string(),
            replace: format!("{quote}0.0.0.0{quote}"),
        }),
    );
}

fn scan_databases(web: &mut Draft, file: &str, text: &str, imports: &BTreeSet<String>) {
    each_match(text, &DJANGO_ENGINE, |line, c| {
        let db = match &c[1] {
            s if s.starts_with("postgresql") => Database::Postgresql,
            "mysql" => Database::Mysql,
            _ => Database::Sqlite,
        };
        web.database(
            db,
            ev(
                file,
                Some(line),
                format!("ENGINE django.db.backends.{}", &c[1]),
            ),
        );
    });
    each_match(text, &DB_URL_LITERAL, |line, c| {
        if let Some(db) = database_of_url(&c[1]) {
            web.database(
                db,
                ev(file, Some(line), format!("{} connection URL", db.as_str())),
            );
        }
    });
    if imports.contains("sqlite3") {
        if let Some(line) = crate::scan::find_line(text, "sqlite3") {
            web.database(Database::Sqlite, ev(file, Some(line), "imports sqlite3"));
        }
    }
}
