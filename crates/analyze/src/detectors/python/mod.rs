//! Python: pip (requirements*.txt), poetry, uv, pdm, pipenv, setup.py/setup.cfg;
//! Flask, Django, FastAPI, Starlette, Quart, Sanic, Litestar, Falcon, Bottle,
//! Dash, Tornado, aiohttp, Streamlit, Gradio, plain WSGI/ASGI callables and
//! `__main__` scripts (an `http.server` app is a web service, a polling loop a
//! worker); Celery (+ beat), RQ, Dramatiq and arq workers.
//!
//! Layout: `manifest.rs` reads what the project declares, `code.rs` reads the
//! sources once, `frameworks.rs` is the table of frameworks (a framework is a
//! row), `django.rs` holds Django's conventions. This file turns those facts
//! into drafts: the framework, the production start command with its
//! evidence, and the findings a person must act on.
//!
//! Deliberately not here: Procfile, Dockerfile, `.env` and compose (the
//! `config/` overlays apply them to every draft), choosing between drafts
//! (`resolve.rs`).

mod code;
mod compat;
mod django;
pub(crate) mod flask;
mod frameworks;
mod manifest;
mod migrations;
mod sqlite_dirs;
mod wiring;

use crate::ctx::Ctx;
use crate::detectors::{databases_from_deps, Detector};
use crate::draft::{ev, Draft, Trust, PORT};
use crate::repo::{file_name, join, parent};
use crate::scan::{line_text, regex};
use autodeploy_core::{Database, Evidence, Language, ServiceKind, Severity};
use code::{AppHit, CodeFacts};
use frameworks::{Framework, Server, DB_DEPS, EXTRAS_WITH_DB, FRAMEWORKS};
use manifest::Manifest;
use regex::Regex;
use std::collections::BTreeSet;
use std::sync::LazyLock;

pub struct Python;

/// File names that usually hold the entry point, most likely first.
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
    "__main__.py",
];

/// Folders whose scripts are tooling, not services (when nothing declares them).
const TOOL_DIRS: &[&str] = &[
    "scripts", "script", "tools", "bin", "hack", "ci", ".github", "hooks",
];

/// Start commands that run a development server.
static DEV_SERVER: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"\bflask\s+run\b|\bmanage\.py\s+runserver\b|--reload\b|\bfastapi\s+dev\b")
});

/// Import name → distribution name, where they differ (for undeclared dependencies).
const IMPORT_TO_DIST: &[(&str, &str)] = &[
    ("yaml", "pyyaml"),
    ("PIL", "pillow"),
    ("cv2", "opencv-python-headless"),
    ("sklearn", "scikit-learn"),
    ("bs4", "beautifulsoup4"),
    ("dotenv", "python-dotenv"),
    ("jwt", "pyjwt"),
    ("dateutil", "python-dateutil"),
    ("telegram", "python-telegram-bot"),
    ("discord", "discord.py"),
    ("psycopg2", "psycopg2-binary"),
    ("MySQLdb", "mysqlclient"),
    ("google", "google-cloud-core"),
    ("attr", "attrs"),
    ("magic", "python-magic"),
    ("serial", "pyserial"),
    ("usb", "pyusb"),
    ("Crypto", "pycryptodome"),
];

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
        let m = manifest::read(ctx, dir);
        // Code without a manifest of its own belongs to the Python project around it.
        if m.files.is_empty() && covered_by_ancestor(ctx, dir) {
            return Vec::new();
        }
        let sources = ctx.sources(dir, &[".py"]);
        // A manifest with no code at all (docs tooling, a library stub) is not an app.
        if sources.is_empty() {
            return Vec::new();
        }
        analyze_folder(ctx, dir, &m, &sources)
    }
}

/// True when a folder above `dir` is a Python project, with no other
/// ecosystem's project in between.
fn covered_by_ancestor(ctx: &Ctx, dir: &str) -> bool {
    let mut d = dir;
    while !d.is_empty() {
        d = parent(d);
        if manifest::is_python_project(ctx, d) {
            return true;
        }
        if ctx.is_project_dir(d) {
            return false;
        }
    }
    false
}

fn is_entry_name(file: &str) -> bool {
    ENTRY_NAMES.contains(&file_name(file))
}

/// Path of `file` relative to `dir`.
fn rel_to(dir: &str, file: &str) -> String {
    if dir.is_empty() {
        return file.to_string();
    }
    file.strip_prefix(dir)
        .map(|f| f.trim_start_matches('/').to_string())
        .unwrap_or_else(|| file.to_string())
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Python module path of a file relative to the service folder, and the folder
/// to put on the import path first: `src/` layouts, and folders whose names are
/// not valid module names (`my-app/main.py`).
fn module_of(ctx: &Ctx, dir: &str, file: &str) -> (String, Option<String>) {
    let rel = rel_to(dir, file);
    let rel = rel.strip_suffix(".py").unwrap_or(&rel);
    let rel = rel.strip_suffix("/__init__").unwrap_or(rel);
    let parts: Vec<&str> = rel.split('/').collect();
    // Everything up to the last component that cannot be a package is the app dir.
    let mut cut = parts[..parts.len() - 1]
        .iter()
        .rposition(|p| !is_identifier(p))
        .map(|i| i + 1)
        .unwrap_or(0);
    if cut == 0
        && parts.len() > 1
        && parts[0] == "src"
        && !ctx.has(&join(dir, "src"), "__init__.py")
    {
        cut = 1;
    }
    let module = parts[cut..].join(".");
    let app_dir = (cut > 0).then(|| parts[..cut].join("/"));
    (module, app_dir)
}

/// The script to run: an entry-named file closest to the folder root.
fn pick_main<'a>(files: &'a [String], dir: &str) -> Option<&'a String> {
    let depth = |f: &String| f.matches('/').count() - dir.matches('/').count();
    files
        .iter()
        .filter(|f| {
            !TOOL_DIRS
                .iter()
                .any(|t| rel_to(dir, f).starts_with(&format!("{t}/")))
        })
        .min_by_key(|f| (depth(f), !is_entry_name(f), (*f).clone()))
}

/// True when the project declares `server` (directly or as an extra:
/// `uvicorn[standard]`, `channels[daphne]`, `fastapi[standard]`).
fn declares_server(m: &Manifest, server: Server) -> bool {
    let Some(dep) = server.dep() else {
        return true;
    };
    m.deps.iter().any(|(name, d)| {
        let extras = d
            .raw
            .split_once('[')
            .and_then(|(_, r)| r.split_once(']'))
            .map(|(e, _)| e)
            .unwrap_or("");
        name == dep
            || (dep == "uwsgi" && name == "pyuwsgi")
            || extras.split(',').any(|e| e.trim() == dep)
            || (dep == "uvicorn"
                && name == "fastapi"
                && extras
                    .split(',')
                    .any(|e| matches!(e.trim(), "standard" | "all")))
    })
}

/// The production server for an app that `preferred` can run: the one the
/// project declares, else `preferred`.
fn pick_server(m: &Manifest, preferred: Server, factory: bool) -> Server {
    preferred
        .family()
        .iter()
        .copied()
        .find(|s| declares_server(m, *s) && !(factory && *s == Server::Uwsgi))
        .unwrap_or(preferred)
}

/// Record that `server` is needed; when the project does not declare it, say
/// so and add it to the install command.
fn require_server(web: &mut Draft, m: &Manifest, server: Server) {
    let Some(dep) = server.dep() else { return };
    if declares_server(m, server) {
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
    web.install = Some(match &web.install {
        Some(i) if m.files.is_empty() => format!("{i} {dep}"),
        _ => m.install_with(dep),
    });
}

fn analyze_folder(ctx: &Ctx, dir: &str, m: &Manifest, sources: &[&str]) -> Vec<Draft> {
    let mut web = Draft::new(dir, Language::Python, ServiceKind::Web);
    web.has_manifest = !m.files.is_empty();
    web.manifest_name = m.name.clone();
    web.package_manager = m.manager.map(str::to_string);
    web.install = m.install.clone();
    web.install_constraints = compat::constraints(m);
    // Requirements files the named one includes (`-r requirements/prod.txt`).
    let requirements: Vec<String> = m
        .files
        .iter()
        .filter(|f| f.ends_with(".txt") || f.ends_with(".in"))
        .cloned()
        .collect();
    if requirements.len() > 1 {
        web.install_files = requirements;
    }
    let pins = compat::broken_pins(m)
        .into_iter()
        .chain(compat::pins_below_the_frameworks_floor(m));
    for (message, fix) in pins {
        let (file, line) = (fix.file.clone(), fix.line);
        web.finding(
            "pinned_package_broken",
            Severity::Warning,
            Some(&file),
            Some(line),
            message,
            Some(fix),
        );
    }
    // A pin that does not import on newer Pythons caps the line, when the
    // project names no version (manifest or Dockerfile base image).
    let image_names_python = crate::config::dockerfile::find(ctx, dir)
        .and_then(|p| ctx.read_path(&p))
        .and_then(|t| crate::config::dockerfile::parse(&t).base_image)
        .is_some_and(|(image, _)| {
            crate::config::dockerfile::language_of_image(&image) == Some(Language::Python)
        });
    if m.python.is_none() && !image_names_python {
        if let Some((req, file, why)) = compat::python_ceiling(m) {
            web.runtime_version = Some(req.clone());
            web.note(
                "runtime_version",
                ev(&file, None, format!("python {req}: {why}")),
            );
            web.finding(
                "python_capped_by_pins",
                Severity::Info,
                Some(&file),
                None,
                format!("{why}: the project names no Python version, so Python {req} runs it — name one (`.python-version`, `requires-python`) to choose it yourself"),
                None,
            );
        }
    }
    if let Some((v, f)) = &m.python {
        web.runtime_version = Some(v.clone());
        web.note("runtime_version", ev(f, None, format!("python {v}")));
    }
    if let Some((lines, file)) = wheel_lines(ctx, dir) {
        let note = format!(
            "{file} has every compiled package's wheel for Python {}",
            lines.join(", ")
        );
        web.note("runtime_version", ev(&file, None, note));
        web.wheel_lines = lines;
    }
    for f in &m.files {
        web.note("language", ev(f, None, "Python dependency manifest"));
    }
    if m.files.is_empty() {
        web.note("language", ev(sources[0], None, "Python source"));
    }

    let facts = code::scan(ctx, dir, &mut web, m, sources);
    wiring::scan(ctx, m, &mut web, sources, &facts.env_wrappers);
    wiring::postgres_scheme_tests(ctx, &mut web, sources);
    wiring::psycopg3_scheme(m, &mut web);
    wiring::engine_selectors(ctx, &mut web, sources);
    wiring::split_cache_urls(ctx, &mut web, sources);
    sqlite_dirs::scan(ctx, dir, &mut web, sources);
    manifest_findings(&mut web, m, &facts);
    declared_databases(&mut web, m);
    for p in &facts.ports {
        web.port(
            p.port,
            Trust::Code,
            ev(&p.file, Some(p.line), p.note.clone()),
        );
    }

    let web_fw = choose_framework(ctx, dir, m, &facts);
    let mut weak = false;
    if let Some(fw) = web_fw {
        let hit = facts.apps.get(fw.name);
        web.strength = match (hit.is_some(), web.has_manifest) {
            (true, true) => 10.0,
            (true, false) => 8.0,
            _ => 7.0,
        };
        let dep_ev = fw
            .deps
            .iter()
            .find_map(|d| m.deps.get(*d))
            .map(|d| ev(&d.file, Some(d.line), format!("depends on {}", d.raw)));
        match (dep_ev, hit) {
            (Some(e), _) => web.set_framework(fw.name, e),
            (None, Some(h)) => web.set_framework(
                fw.name,
                ev(&h.file, Some(h.line), format!("imports {}", fw.import)),
            ),
            (None, None) => web.framework = Some(fw.name.to_string()),
        }
        web.port(
            fw.default_port,
            Trust::Default,
            ev(&join(dir, ""), None, format!("default port of {}", fw.name)),
        );
        config_port(ctx, dir, fw, &mut web);
        if fw.name == "django" {
            django::apply(ctx, dir, m, &mut web, &facts);
        } else {
            infer_start(ctx, dir, m, &mut web, fw, hit, sources);
            if fw.name == "flask" {
                flask::apply(ctx, dir, &mut web, hit, sources);
            }
        }
    } else if let Some((file, line, asgi)) = &facts.callable {
        // A WSGI/ASGI callable without a framework.
        let (module, app_dir) = module_of(ctx, dir, file);
        let object = ctx
            .read_path(file)
            .map(|t| line_text(&t, *line))
            .and_then(|l| {
                l.split(['(', ' '])
                    .find(|w| *w == "app" || *w == "application")
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "application".into());
        web.strength = if web.has_manifest { 6.0 } else { 4.0 };
        let server = pick_server(
            m,
            if *asgi {
                Server::Uvicorn
            } else {
                Server::Gunicorn
            },
            false,
        );
        let cmd =
            server_command(server, &module, &object, false, app_dir.as_deref()).unwrap_or_default();
        web.start(
            format!("{}{cmd}", m.runner()),
            Trust::Inferred,
            ev(
                file,
                Some(*line),
                format!(
                    "inferred: plain {} callable",
                    if *asgi { "ASGI" } else { "WSGI" }
                ),
            ),
        );
        web.port(
            8000,
            Trust::Default,
            ev(file, None, "default port of gunicorn/uvicorn"),
        );
        require_server(&mut web, m, server);
    } else if let Some(file) = pick_main(&facts.main_files, dir) {
        let serves = facts.serves || !web.ports.is_empty();
        if !web.has_manifest && !serves && !dir.is_empty() {
            // A stray helper script with nothing declaring it is not a service.
            return Vec::new();
        }
        web.strength = if web.has_manifest { 5.0 } else { 3.0 };
        if !serves {
            web.kind = ServiceKind::Worker;
            web.note(
                "kind",
                ev(
                    file,
                    None,
                    "script with a __main__ guard that opens no server",
                ),
            );
        } else if web.ports.is_empty() {
            web.finding(
                "port_not_found",
                Severity::Warning,
                Some(file),
                None,
                format!("{file} starts a server but its port could not be read; make it listen on the PORT environment variable"),
                None,
            );
        }
        let rel = rel_to(dir, file);
        let cmd = match rel.strip_suffix("/__main__.py") {
            Some(pkg) if is_identifier(pkg) => format!("python -m {pkg}"),
            _ => format!("python {rel}"),
        };
        web.start(
            format!("{}{cmd}", m.runner()),
            Trust::Inferred,
            ev(file, None, "inferred: the script's __main__ guard"),
        );
    } else if !web.has_manifest {
        return Vec::new();
    } else {
        weak = true;
        web.strength = 2.5;
        web.finding(
            "start_not_found",
            Severity::Warning,
            m.files.first().map(String::as_str),
            None,
            "no web framework, WSGI/ASGI callable or `if __name__ == \"__main__\"` script was found, so there is no start command; add a Procfile `web:` line (or a Dockerfile CMD)",
            None,
        );
    }

    migrations_release(ctx, dir, m, &mut web, &facts, sources);
    dev_server_findings(ctx, dir, &mut web);
    let workers = worker_drafts(ctx, dir, m, &web, &facts, sources);
    let mut drafts = Vec::new();
    if workers.is_empty() || !(weak || web.kind == ServiceKind::Worker && web.framework.is_none()) {
        drafts.push(web);
    }
    drafts.extend(workers);
    for d in &mut drafts {
        postgres_driver_install(m, d);
    }
    drafts
}

/// A value the code writes (Django's `DEBUG = True`, a secret key) that the
/// deployment's copy reads from the env var `var` instead, the written value
/// as its default: the variable is listed (optional; `secret` as asked) and
/// the finding `kind` carries the source fix replacing `find` by `replace`
/// on `file:line` ([`env_get`] builds the read).
pub(super) struct FromEnv<'a> {
    pub kind: &'a str,
    pub var: &'a str,
    pub secret: bool,
    pub file: &'a str,
    pub line: u32,
    pub find: &'a str,
    pub replace: String,
    pub message: String,
}

pub(super) fn read_from_env(web: &mut Draft, fix: FromEnv) {
    web.env_var(fix.var, true, fix.file, fix.line);
    if let Some(v) = web.env.iter_mut().find(|e| e.name == fix.var) {
        v.secret |= fix.secret;
    }
    web.finding(
        fix.kind,
        Severity::Warning,
        Some(fix.file),
        Some(fix.line),
        fix.message,
        Some(autodeploy_core::SourceFix {
            file: fix.file.to_string(),
            line: fix.line,
            find: fix.find.to_string(),
            replace: fix.replace,
        }),
    );
}

/// The Python expression reading env var `var`, `default` (Python source)
/// when it is unset, importing nothing at the top of the file.
pub(super) fn env_get(var: &str, default: &str) -> String {
    format!("__import__(\"os\").environ.get(\"{var}\", {default})")
}

/// ORMs that reach PostgreSQL through a `postgresql://` URL setting with
/// psycopg2 (SQLAlchemy's default driver for the scheme, Django's backend,
/// peewee's `db_url`).
const PSYCOPG2_ORMS: &[&str] = &[
    "django",
    "sqlalchemy",
    "flask-sqlalchemy",
    "sqlmodel",
    "peewee",
];

/// Packages that are a PostgreSQL driver for Python.
const POSTGRES_DRIVERS: &[&str] = &[
    "psycopg2",
    "psycopg2-binary",
    "psycopg",
    "psycopg-binary",
    "asyncpg",
    "pg8000",
    "psycopg2cffi",
];

/// The install with psycopg2 added, for a service whose ORM would reach a
/// PostgreSQL the plan provides but which declares no driver for it
/// (flask-todoism: Flask-SQLAlchemy on SQLite by default, `DATABASE_URL`
/// read): decide uses it only when the plan provisions PostgreSQL.
fn postgres_driver_install(m: &Manifest, d: &mut Draft) {
    let Some(install) = d.install.as_deref() else {
        return;
    };
    // Django found in the code counts even where its requirement line is
    // not one the manifest reads (django-poll-app quotes it).
    let orm = PSYCOPG2_ORMS.iter().any(|o| m.has(o)) || d.framework.as_deref() == Some("django");
    if !orm || POSTGRES_DRIVERS.iter().any(|p| m.has(p)) {
        return;
    }
    let with = m.install_also(install, "psycopg2-binary");
    d.install_with_driver.insert(Database::Postgresql, with);
}

/// The Python lines (3.6 to 3.14) the folder's lock file has a Linux
/// x86-64 wheel for every compiled package on (those missing the fewest),
/// when some line lacks more: where the install builds nothing from source.
fn wheel_lines(ctx: &Ctx, dir: &str) -> Option<(Vec<String>, String)> {
    let (name, text) = autodeploy_core::wheels::LOCK_FILES
        .iter()
        .find_map(|n| ctx.read(dir, n).map(|t| (*n, t)))?;
    let file = crate::repo::join(dir, name);
    let lock = autodeploy_core::wheels::parse(&file, &text, "x86_64")?;
    let missing: Vec<(u32, usize)> = (6..=14)
        .map(|m| {
            (
                m,
                lock.missing(autodeploy_core::version::Version::new(3, m, 0))
                    .len(),
            )
        })
        .collect();
    let fewest = missing.iter().map(|(_, n)| *n).min()?;
    let most = missing.iter().map(|(_, n)| *n).max()?;
    (fewest < most).then(|| {
        let lines = missing
            .iter()
            .filter(|(_, n)| *n == fewest)
            .map(|(m, _)| format!("3.{m}"))
            .collect();
        (lines, file)
    })
}

/// `no_manifest` (when the code imports packages nobody declares) and `no_lockfile`.
fn manifest_findings(web: &mut Draft, m: &Manifest, facts: &CodeFacts) {
    for (file, line, written, requirement) in &m.quoted {
        web.finding(
            "requirement_quoted",
            Severity::Warning,
            Some(file),
            Some(*line),
            format!("{file}:{line} writes a requirement in quotes ({written}), which pip refuses (\"Invalid requirement\"), so the install stops there: the deployment's copy reads {requirement} — remove the quotes in the repository too"),
            Some(autodeploy_core::SourceFix {
                file: file.clone(),
                line: *line,
                find: written.clone(),
                replace: requirement.clone(),
            }),
        );
    }
    if m.files.is_empty() {
        let undeclared: BTreeSet<&str> = facts
            .imports
            .iter()
            .map(String::as_str)
            .filter(|i| !code::STDLIB.contains(i) && !facts.local_modules.contains(*i))
            .collect();
        if undeclared.is_empty() {
            // Only the standard library: nothing to install.
            return;
        }
        let dists: Vec<String> = undeclared
            .iter()
            .map(|i| {
                IMPORT_TO_DIST
                    .iter()
                    .find(|(imp, _)| imp == i)
                    .map(|(_, d)| d.to_string())
                    .unwrap_or_else(|| i.to_ascii_lowercase())
            })
            .collect();
        web.install = Some(format!("pip install {}", dists.join(" ")));
        web.finding(
            "no_manifest",
            Severity::Warning,
            None,
            None,
            format!(
                "no requirements.txt or pyproject.toml, but the code imports {}; the deployment installs them unpinned — add a requirements.txt",
                undeclared.iter().copied().collect::<Vec<_>>().join(", ")
            ),
            None,
        );
        return;
    }
    if m.lockfile {
        return;
    }
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

/// Databases from declared dependencies, including extras (`celery[redis]`).
fn declared_databases(web: &mut Draft, m: &Manifest) {
    for (db, dep) in databases_from_deps(m.deps.keys().map(String::as_str), DB_DEPS) {
        let d = &m.deps[&dep];
        web.database(
            db,
            ev(&d.file, Some(d.line), format!("depends on {}", d.raw)),
        );
    }
    // PyMySQL (and aiomysql, asyncmy over it) connect without TLS unless
    // given `ssl=`; mysqlclient and mysql-connector use it when offered.
    let tls_client = ["mysqlclient", "mysql-connector-python", "mysql-connector"]
        .iter()
        .any(|p| m.deps.contains_key(*p));
    if !tls_client
        && ["pymysql", "aiomysql", "asyncmy"]
            .iter()
            .any(|p| m.deps.contains_key(*p))
    {
        web.drivers_without_tls.push(Database::Mysql);
    }
    for (name, d) in &m.deps {
        if !EXTRAS_WITH_DB.contains(&name.as_str()) {
            continue;
        }
        let Some(extras) = d
            .raw
            .split_once('[')
            .and_then(|(_, r)| r.split_once(']'))
            .map(|(e, _)| e)
        else {
            continue;
        };
        for extra in extras.split(',').map(str::trim) {
            let db = match extra {
                "redis" => Database::Redis,
                "postgresql" | "postgres" | "postgresql-psycopg2binary" | "asyncpg" => {
                    Database::Postgresql
                }
                "mysql" | "aiomysql" => Database::Mysql,
                "mongodb" => Database::Mongodb,
                _ => continue,
            };
            web.database(db, ev(&d.file, Some(d.line), d.raw.clone()));
        }
    }
}

/// Django when it is declared (or imported next to a manage.py); else the
/// highest-ranked web framework with an app object; else the highest-ranked
/// declared one.
fn choose_framework(
    ctx: &Ctx,
    dir: &str,
    m: &Manifest,
    facts: &CodeFacts,
) -> Option<&'static Framework> {
    let django = FRAMEWORKS.iter().find(|f| f.name == "django");
    if m.has("django") || (ctx.has(dir, "manage.py") && facts.imports.contains("django")) {
        return django;
    }
    let web = || {
        FRAMEWORKS
            .iter()
            .filter(|f| f.kind == ServiceKind::Web && f.name != "django")
    };
    web()
        .filter(|f| facts.apps.contains_key(f.name))
        .max_by_key(|f| f.rank)
        .or_else(|| {
            web()
                .filter(|f| f.declared_in(|d| m.has(d)))
                .max_by_key(|f| f.rank)
        })
}

/// Framework config files that set the port (`.streamlit/config.toml`).
fn config_port(ctx: &Ctx, dir: &str, fw: &Framework, web: &mut Draft) {
    if fw.name != "streamlit" {
        return;
    }
    let path = join(dir, ".streamlit/config.toml");
    let Some(text) = ctx.read_path(&path) else {
        return;
    };
    let Ok(doc) = text.parse::<toml::Table>() else {
        return;
    };
    if let Some(p) = doc
        .get("server")
        .and_then(|s| s.get("port"))
        .and_then(|p| p.as_integer())
        .and_then(|p| u16::try_from(p).ok())
    {
        let line = crate::scan::find_line(&text, "port");
        web.port(
            p,
            Trust::Config,
            ev(&path, line, format!("[server] port = {p}")),
        );
    }
}

/// The command that serves `module:object` with `server` (`factory`: the
/// object is a function returning the app); `None` for [`Server::Own`].
fn server_command(
    server: Server,
    module: &str,
    object: &str,
    factory: bool,
    app_dir: Option<&str>,
) -> Option<String> {
    let target = format!("{module}:{object}");
    let called = format!("'{module}:{object}()'");
    let chdir = app_dir.map(|d| format!(" --chdir {d}")).unwrap_or_default();
    let cd = app_dir.map(|d| format!("cd {d} && ")).unwrap_or_default();
    Some(match server {
        Server::Gunicorn => format!(
            "gunicorn --bind 0.0.0.0:{PORT}{chdir} {}",
            if factory { &called } else { &target }
        ),
        Server::Waitress => format!(
            "{cd}waitress-serve --listen=0.0.0.0:{PORT}{} {target}",
            if factory { " --call" } else { "" }
        ),
        // `--die-on-term`: uWSGI before 2.1 reloads on SIGTERM, so a stop
        // (systemd, a container's) would wait for its kill.
        Server::Uwsgi => {
            format!("uwsgi --http 0.0.0.0:{PORT} --master --die-on-term{chdir} --module {target}")
        }
        Server::Uvicorn => format!(
            "uvicorn {target}{} --host 0.0.0.0 --port {PORT}{}",
            if factory { " --factory" } else { "" },
            app_dir
                .map(|d| format!(" --app-dir {d}"))
                .unwrap_or_default()
        ),
        Server::Hypercorn => format!(
            "{cd}hypercorn {} --bind 0.0.0.0:{PORT}",
            if factory { &called } else { &target }
        ),
        Server::Daphne => format!("{cd}daphne -b 0.0.0.0 -p {PORT} {target}"),
        Server::Own => return None,
    })
}

/// The production start command for a framework's app object.
fn infer_start(
    ctx: &Ctx,
    dir: &str,
    m: &Manifest,
    web: &mut Draft,
    fw: &Framework,
    hit: Option<&AppHit>,
    sources: &[&str],
) {
    let Some(hit) = hit else {
        web.finding(
            "start_not_found",
            Severity::Warning,
            m.files.first().map(String::as_str),
            None,
            format!(
                "{} is a dependency but no {} app object was found in the code; add a Procfile `web:` line with the start command",
                fw.name, fw.name
            ),
            None,
        );
        return;
    };
    // An app built inside a factory: prefer a module-level `app = create_app()`.
    let (mut file, mut object, mut factory) = (
        hit.file.clone(),
        hit.object.clone().unwrap_or_else(|| "app".into()),
        false,
    );
    if let Some(f) = &hit.factory {
        match factory_call(ctx, sources, f) {
            Some((call_file, var)) => {
                file = call_file;
                object = var;
            }
            None => {
                object = f.clone();
                factory = true;
            }
        }
    }
    let mut server = match fw.server {
        Server::Own => Server::Own,
        preferred => pick_server(m, preferred, factory),
    };
    if let Some(attr) = fw.wsgi_attr {
        // Dash: gunicorn needs a module-level name for `app.server`.
        let text = ctx.read_path(&file).unwrap_or_default();
        let re = regex(&format!(
            r"(?m)^(\w+)\s*=\s*{}\.{attr}\b",
            regex::escape(&object)
        ));
        match re.captures(&text).map(|c| c[1].to_string()) {
            Some(name) => object = name,
            None => {
                server = Server::Own;
                web.finding(
                    "missing_production_server",
                    Severity::Info,
                    Some(&file),
                    None,
                    format!(
                        "{file} has no `server = {object}.{attr}`, so the app runs on its development server; add that line and autodeploy serves it with gunicorn"
                    ),
                    None,
                );
            }
        }
    }
    let (module, app_dir) = module_of(ctx, dir, &file);
    let rel = rel_to(dir, &file);
    let cmd = match server_command(server, &module, &object, factory, app_dir.as_deref()) {
        Some(c) => c,
        None => {
            // The framework's own runner, or `python file` when the WSGI attribute is missing.
            let own = if fw.server == Server::Own {
                fw.start
            } else {
                "python {file}"
            };
            own.replace("{module}", &module)
                .replace("{object}", &object)
                .replace("{file}", &rel)
                + if factory && fw.name == "sanic" {
                    " --factory"
                } else {
                    ""
                }
        }
    };
    web.start(
        format!("{}{cmd}", m.runner()),
        Trust::Inferred,
        ev(
            &file,
            Some(hit.line),
            format!("inferred: {} app `{object}` in {module}", fw.name),
        ),
    );
    require_server(web, m, server);
}

/// A module-level `name = factory(...)` in any source: (file, name).
fn factory_call(ctx: &Ctx, sources: &[&str], factory: &str) -> Option<(String, String)> {
    let re = regex(&format!(
        r"(?m)^(\w+)\s*(?::\s*[\w.]+\s*)?=\s*(?:\w+\.)?{}\s*\(",
        regex::escape(factory)
    ));
    let mut best: Option<(String, String)> = None;
    for &f in sources {
        let Some(text) = ctx.read_path(f) else {
            continue;
        };
        if let Some(c) = re.captures(&text) {
            let found = (f.to_string(), c[1].to_string());
            if is_entry_name(f) {
                return Some(found);
            }
            best.get_or_insert(found);
        }
    }
    best
}

/// Database migrations as the release step: Flask-Migrate, else Alembic,
/// else aerich (Tortoise ORM's, configured in pyproject's `[tool.aerich]`)
/// (Django's `migrate` is set in `django.rs`).
fn migrations_release(
    ctx: &Ctx,
    dir: &str,
    m: &Manifest,
    web: &mut Draft,
    facts: &CodeFacts,
    sources: &[&str],
) {
    if web.release.is_some() || web.kind != ServiceKind::Web {
        return;
    }
    let runner = m.runner();
    let flask_migrations = ["migrations/env.py", "migrations/alembic.ini"]
        .iter()
        .map(|f| join(dir, f))
        .find(|f| ctx.index().contains(f));
    if let (true, Some(evidence), Some(hit)) = (
        m.has("flask-migrate"),
        flask_migrations,
        facts.apps.get("flask"),
    ) {
        // `FLASK_APP`, not `--app` (Flask 2.2 and later only): a 2017 Flask
        // 0.12 app has the same migrations.
        let app = flask::cli_app(ctx, dir, sources, hit);
        web.release = Some(format!("FLASK_APP={app} {runner}flask db upgrade"));
        web.note("release", ev(&evidence, None, "Flask-Migrate migrations"));
        migrations::check_heads(ctx, &join(parent(&evidence), "versions"), web);
    } else if m.has("alembic") && ctx.has(dir, "alembic.ini") {
        wiring::alembic_ini_url(ctx, dir, web);
        web.release = Some(format!("{runner}alembic upgrade head"));
        web.note(
            "release",
            ev(&join(dir, "alembic.ini"), None, "Alembic migrations"),
        );
        if let Some(ini) = ctx.read(dir, "alembic.ini") {
            let scripts = migrations::script_location(&ini, dir);
            migrations::check_heads(ctx, &join(&scripts, "versions"), web);
        }
    } else if m.has("flask-sqlalchemy")
        && facts.apps.contains_key("flask")
        && !ctx.has(dir, "alembic.ini")
        && !ctx.index().contains(&join(dir, "migrations/env.py"))
    {
        flask::create_all_release(ctx, dir, runner, web, sources);
    } else if m.has("aerich")
        && ctx
            .read(dir, "pyproject.toml")
            .is_some_and(|t| t.contains("[tool.aerich]"))
    {
        web.release = Some(format!("{runner}aerich upgrade"));
        web.note(
            "release",
            ev(
                &join(dir, "pyproject.toml"),
                None,
                "aerich migrations ([tool.aerich])",
            ),
        );
    }
    if let Some(hit) = facts.apps.get("flask") {
        flask::init_command(ctx, dir, runner, web, sources, hit);
    }
}

/// A Procfile or Dockerfile that starts a development server.
fn dev_server_findings(ctx: &Ctx, dir: &str, web: &mut Draft) {
    let production = web
        .starts
        .iter()
        .find(|c| c.trust == Trust::Inferred)
        .map(|c| c.value.replace(PORT, "$PORT"));
    let mut commands: Vec<(String, u32, String)> = Vec::new();
    if let Some(text) = ctx.read(dir, "Procfile") {
        for (i, line) in text.lines().enumerate() {
            if let Some(cmd) = line.strip_prefix("web:") {
                commands.push((join(dir, "Procfile"), i as u32 + 1, cmd.trim().to_string()));
            }
        }
    }
    for cs in crate::config::compose::services(ctx) {
        let built_here = cs.dir == dir || cs.dockerfile.as_deref().map(parent) == Some(dir);
        if let (true, Some(cmd)) = (built_here, cs.command) {
            commands.push((cs.file, cs.line, cmd));
        }
    }
    if let Some(path) = crate::config::dockerfile::find(ctx, dir) {
        if let Some((cmd, line)) = ctx
            .read_path(&path)
            .and_then(|t| crate::config::dockerfile::parse(&t).cmd)
        {
            commands.push((path, line, cmd));
        }
    }
    for (file, line, cmd) in commands {
        if !DEV_SERVER.is_match(&cmd) {
            continue;
        }
        let instead = production
            .as_deref()
            .map(|p| format!("; use the production command `{p}`"))
            .unwrap_or_else(|| {
                "; use a production server (gunicorn, uvicorn without --reload)".into()
            });
        web.finding(
            "dev_server_start",
            Severity::Warning,
            Some(&file),
            Some(line),
            format!("{file}:{line} starts a development server (`{cmd}`), which is slow, single-process and may expose a debugger{instead}"),
            None,
        );
    }
}

/// Worker processes that live beside the web app (Celery + beat, RQ, Dramatiq, arq).
fn worker_drafts(
    ctx: &Ctx,
    dir: &str,
    m: &Manifest,
    web: &Draft,
    facts: &CodeFacts,
    sources: &[&str],
) -> Vec<Draft> {
    let mut out = Vec::new();
    // Processes a Procfile already declares (`worker: celery … worker`) are its to start.
    let procfile: Vec<String> = ctx
        .read(dir, "Procfile")
        .map(|t| {
            t.lines()
                .filter(|l| !l.starts_with("web:") && !l.starts_with("release:"))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let declared = |words: &[&str]| {
        procfile
            .iter()
            .any(|l| words.iter().all(|w| l.split_whitespace().any(|x| x == *w)))
    };
    for fw in FRAMEWORKS.iter().filter(|f| f.kind == ServiceKind::Worker) {
        if !fw.declared_in(|d| m.has(d)) {
            continue;
        }
        let Some(hit) = facts.apps.get(fw.name) else {
            continue;
        };
        let (module, _) = module_of(ctx, dir, &hit.file);
        let process_word = if fw.name == "celery" {
            "worker"
        } else {
            fw.name
        };
        let rel = rel_to(dir, &hit.file);
        // A Procfile process that runs the file holding the worker
        // (`worker: python -u manage.py run_worker`) is that worker too.
        let runs_the_file = procfile.iter().any(|l| {
            let (process, cmd) = l.split_once(':').unwrap_or(("", ""));
            (process.contains("worker") || process.contains(fw.name))
                && cmd.split_whitespace().any(|x| x == rel || x == module)
        });
        let in_procfile = declared(&[fw.name, process_word]) || runs_the_file;
        let object = hit.object.clone().unwrap_or_default();
        let base_name = if fw.name == "celery" {
            "worker".to_string()
        } else {
            format!("{}-worker", fw.name)
        };
        let note = line_text(&ctx.read_path(&hit.file).unwrap_or_default(), hit.line);
        let mut w = worker_from(
            web,
            fw.name,
            &base_name,
            ev(&hit.file, Some(hit.line), note),
        );
        let cmd = fw
            .start
            .replace("{module}", &module)
            .replace("{object}", &object)
            .replace("{file}", &rel);
        w.start(
            format!("{}{cmd}", m.runner()),
            Trust::Inferred,
            ev(
                &hit.file,
                Some(hit.line),
                format!("inferred: {} app", fw.name),
            ),
        );
        if !in_procfile {
            out.push(w);
        }
        // Celery beat: periodic tasks need a scheduler process of their own.
        if fw.name == "celery" && !declared(&["celery", "beat"]) {
            if let Some((file, line)) = find_in_sources(
                ctx,
                sources,
                &["beat_schedule", "add_periodic_task", "@periodic_task"],
            ) {
                let note = line_text(&ctx.read_path(&file).unwrap_or_default(), line);
                let mut b = worker_from(web, "celery", "beat", ev(&file, Some(line), note.clone()));
                b.start(
                    format!("{}celery -A {module} beat --loglevel=info", m.runner()),
                    Trust::Inferred,
                    ev(
                        &file,
                        Some(line),
                        format!("inferred: periodic tasks ({note})"),
                    ),
                );
                out.push(b);
            }
        }
    }
    out
}

fn worker_from(web: &Draft, framework: &str, name: &str, evidence: Evidence) -> Draft {
    let mut w = web.clone();
    w.kind = ServiceKind::Worker;
    w.framework = Some(framework.to_string());
    w.name = Some(name.to_string());
    w.ports.clear();
    w.starts.clear();
    w.builds.clear();
    w.release = None;
    w.health_path = None;
    w.findings.retain(|f| {
        !matches!(
            f.kind.as_str(),
            "binds_localhost"
                | "missing_production_server"
                | "start_not_found"
                | "dev_server_start"
                | "port_not_found"
                | "django_allowed_hosts"
                | "django_fixed_allow_list"
                | "no_static_root"
        )
    });
    w.evidence.remove("framework");
    w.evidence.remove("health_path");
    w.evidence.remove("release");
    w.note("framework", evidence);
    w
}

fn find_in_sources(ctx: &Ctx, sources: &[&str], needles: &[&str]) -> Option<(String, u32)> {
    sources.iter().find_map(|&f| {
        let text = ctx.read_path(f)?;
        needles
            .iter()
            .find_map(|n| crate::scan::find_line(&text, n))
            .map(|l| (f.to_string(), l))
    })
}

#[cfg(test)]
mod tests;
