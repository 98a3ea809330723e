//! One pass over a Python project's sources: imports, framework app objects,
//! `__main__` scripts, environment variables (with whether the code gives a
//! default), ports and bind hosts of server calls, databases named in code,
//! and a health-check route.
//!
//! Expressions are read, not executed: a port is found when it is a literal,
//! a module constant, or an environment lookup with a literal default
//! (`int(os.getenv("PORT", "8080"))`). Anything cleverer is "unknown", never
//! a guess.
//!
//! An env var is `required` when the app fails without it: `os.environ["X"]`
//! (unless guarded by `"X" in os.environ`), python-decouple / django-environ
//! lookups without a default, pydantic settings fields without a default.
//! `os.getenv("X")` / `os.environ.get("X")` return `None` when unset, so the
//! code tolerates their absence: not required.

use super::frameworks::{app_pattern, FRAMEWORKS};
use super::manifest::Manifest;
use crate::ctx::Ctx;
use crate::detectors::database_of_url;
use crate::draft::{ev, Draft};
use crate::scan::{each_match, first_match, line_of, line_text, regex};
use autodeploy_core::{Database, Severity, SourceFix};
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

/// Variables the deployment sets itself; reported as `port`, not as env.
const PLATFORM_VARS: &[&str] = &["PORT"];

static IMPORT: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(?m)^[ \t]*(?:from[ \t]+([A-Za-z_]\w*)[\w.]*[ \t]+import|import[ \t]+([A-Za-z_]\w*))")
});
static MAIN_GUARD: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"(?m)^if\s+__name__\s*==\s*["']__main__["']\s*:"#));
static TOP_DEF: LazyLock<Regex> = LazyLock::new(|| regex(r"(?m)^(?:async\s+)?def\s+(\w+)\s*\("));

// --- environment -------------------------------------------------------------

static ENV_INDEX: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"\b(os\.)?environ\s*\[\s*["']([A-Za-z_]\w*)["']\s*\]"#));
static ENV_GET: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"\b(os\.)?(?:environ\.get|getenv)\s*\(\s*["']([A-Za-z_]\w*)["']"#));
static ENV_GUARD: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"["']([A-Za-z_]\w*)["']\s+(?:not\s+)?in\s+(?:os\.)?environ\b"#));
static FROM_OS_IMPORT: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?m)^\s*from\s+os\s+import\s+([^\n]*)"));
static ENV_LIB: LazyLock<Regex> = LazyLock::new(|| {
    // django-environ `env("X")` / `env.str("X", …)`, python-decouple `config("X", …)`,
    // environs `env.int("X", …)`.
    regex(r#"\b(env(?:\.\w+)?|config)\s*(\()\s*["']([A-Z_][A-Z0-9_]*)["']"#)
});
static SETTINGS_CLASS: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(?m)^class\s+\w+\s*\(\s*(?:pydantic_settings\.|pydantic\.)?BaseSettings\s*\)\s*:")
});
static SETTINGS_FIELD: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^([a-z_A-Z]\w*)\s*:\s*([^=#]+?)\s*(=.*)?$"));
static ENV_PREFIX: LazyLock<Regex> = LazyLock::new(|| regex(r#"env_prefix\s*=\s*["'](\w*)["']"#));
static SETTINGS_ALIAS: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"\b(?:validation_alias|alias|env)\s*=\s*(?:AliasChoices\s*\(\s*)?["']([A-Za-z_]\w*)["']"#,
    )
});

// --- ports and hosts -------------------------------------------------------------

/// Calls that start a server; group 1 is the callee.
static SERVER_CALL: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?x)
        \b(
            (?:\w+\.)*(?:run|run_app|launch|run_server|listen|serve|Config)
          | run_simple | make_server | start_server | create_server
          | (?:Threading)?HTTPServer | (?:Threading)?(?:TCP|UDP)Server | WSGIServer
          | \w+\.bind
        )\s*\(",
    )
});
static ENV_PORT_DEFAULT: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"\b(?:os\.)?(?:environ\.get|getenv)\s*\(\s*["'](?:PORT|APP_PORT|HTTP_PORT|SERVER_PORT|WEB_PORT|FLASK_RUN_PORT)["']\s*,\s*["']?(\d{2,5})"#,
    )
});
static ENV_LOOKUP: LazyLock<Regex> = LazyLock::new(|| {
    regex(r#"(?s)^(?:os\.)?(?:environ\.get|getenv)\s*\(\s*["']\w+["']\s*,\s*(.+)\)$"#)
});

// --- databases, health ---------------------------------------------------------------

static DB_URL_LITERAL: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"["']((?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|sqlite)(?:\+\w+)?://[^"']*)["']"#,
    )
});
static DJANGO_ENGINE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"django\.db\.backends\.(postgresql\w*|mysql|sqlite3)|django\.contrib\.gis\.db\.backends\.(postgis|mysql|spatialite)"#,
    )
});
static SQLITE_IMPORT: LazyLock<Regex> = LazyLock::new(|| regex(r"(?m)^\s*import\s+sqlite3\b"));
/// A health-check route; group 1 is the object it is registered on (absent
/// for `Route(...)` / Django `path(...)`), group 2 the path.
static HEALTH_ROUTE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"(?:\b(\w+)(?:\.router)?\.(?:route|get|api_route|add_get|add_route)|\bRoute|\bpath|\bre_path)\s*\(\s*(?:["']GET["']\s*,\s*)?["'](/?(?:healthz?|health[-_]check|healthcheck|ping|_health|api/health|livez|readyz)/?)["']"#,
    )
});
/// Module-level objects whose routes are served at the root: the app itself
/// (a router or blueprint may be mounted under a prefix elsewhere).
static ROOT_ROUTER: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?m)^(\w+)\s*(?::[^=\n]+)?=\s*(?:[\w.]+\.)?(?:FastAPI|Flask|Quart|Sanic|Starlette|Litestar|Bottle|Application|RouteTableDef)\s*\(",
    )
});

/// One framework app object found in code.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct AppHit {
    pub file: String,
    pub line: u32,
    /// The variable holding the app (`app`), when the pattern names one.
    pub object: Option<String>,
    /// The module-level function the app is built in (`create_app`), when it
    /// is not a module-level object.
    pub factory: Option<String>,
}

/// A port the code names.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PortHit {
    pub port: u16,
    pub file: String,
    pub line: u32,
    pub note: String,
}

/// Everything the sources of one folder say, gathered in one pass.
#[derive(Default, Debug)]
pub(super) struct CodeFacts {
    pub imports: BTreeSet<String>,
    /// The project's own env-reading helpers ([`env_wrappers`]), which the
    /// wiring scan reads as env reads too.
    pub env_wrappers: Vec<String>,
    /// framework name → app object
    pub apps: BTreeMap<&'static str, AppHit>,
    /// Files with a `__main__` guard, in source order.
    pub main_files: Vec<String>,
    pub ports: Vec<PortHit>,
    /// A server call was seen (even when its port could not be read).
    pub serves: bool,
    /// Local module names (files and packages of the project).
    pub local_modules: BTreeSet<String>,
    /// A plain WSGI (`def application(environ, start_response)`) or ASGI callable: (file, line, is_asgi).
    pub callable: Option<(String, u32, bool)>,
}

static WSGI_CALLABLE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?m)^def\s+application\s*\(\s*environ\s*,\s*start_response"));
static ASGI_CALLABLE: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(?m)^async\s+def\s+(?:app|application)\s*\(\s*scope\s*,\s*receive\s*,\s*send")
});

/// Scan `sources`, adding env vars, databases, findings and the health path to
/// `web`, and returning the rest as [`CodeFacts`].
/// `def NAME(arg, …):` at module level (group 1 the name, 2 the first
/// parameter).
static DEF: LazyLock<Regex> = LazyLock::new(|| regex(r"(?m)^def\s+(\w+)\s*\(\s*(\w+)"));

/// The project's own helpers that read the environment variable named by
/// their first argument (`def envsecret(s, default=None): … return
/// os.getenv(s, default)`, `def envint(s, default)`): calls to them are
/// environment reads like `os.getenv` itself.
pub(super) fn env_wrappers(texts: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for text in texts {
        if !text.contains("def ") || !(text.contains("getenv") || text.contains("environ")) {
            continue;
        }
        for c in DEF.captures_iter(text) {
            let (name, arg) = (&c[1], &c[2]);
            let start = c.get(0).map_or(0, |g| g.end());
            // The body: up to the next line that starts at column 0.
            let body_end = text[start..]
                .match_indices('\n')
                .map(|(i, _)| start + i + 1)
                .find(|&i| {
                    text[i..]
                        .chars()
                        .next()
                        .is_some_and(|ch| !ch.is_whitespace() && ch != ')' && ch != '#')
                })
                .unwrap_or(text.len());
            let body = &text[start..body_end];
            let reads = [
                format!("getenv({arg}"),
                format!("environ.get({arg}"),
                format!("environ[{arg}]"),
            ];
            if reads.iter().any(|r| body.contains(r.as_str())) && !out.iter().any(|o| o == name) {
                out.push(name.to_string());
            }
        }
    }
    out
}

/// `text` with calls to the `wrappers` written as `os.getenv(` (never
/// their own `def` line): what the env and wiring scans read.
pub(super) fn with_env_wrappers(text: &str, wrappers: &[String]) -> String {
    let mut out = text.to_string();
    for w in wrappers {
        let re = regex(&format!(r"(^|[^\w.]){}\s*\(", regex::escape(w)));
        let mut next = String::with_capacity(out.len());
        let mut last = 0;
        for c in re.captures_iter(&out) {
            let m = c.get(0).expect("match");
            let lead = c.get(1).map_or("", |g| g.as_str());
            let before = &out[..m.start() + lead.len()];
            if before.trim_end().ends_with("def") {
                continue;
            }
            next.push_str(&out[last..m.start()]);
            next.push_str(lead);
            next.push_str("os.getenv(");
            last = m.end();
        }
        next.push_str(&out[last..]);
        out = next;
    }
    out
}

pub(super) fn scan(
    ctx: &Ctx,
    dir: &str,
    web: &mut Draft,
    m: &Manifest,
    sources: &[&str],
) -> CodeFacts {
    let mut facts = CodeFacts::default();
    for &file in sources {
        let rel = file
            .strip_prefix(dir)
            .unwrap_or(file)
            .trim_start_matches('/');
        for part in rel.trim_end_matches(".py").split('/') {
            facts.local_modules.insert(part.to_string());
        }
    }
    let env_lib = m.has("django-environ") || m.has("python-decouple") || m.has("environs");
    let raws: Vec<std::sync::Arc<str>> = sources.iter().filter_map(|f| ctx.read_path(f)).collect();
    facts.env_wrappers = env_wrappers(&raws.iter().map(|t| &**t).collect::<Vec<_>>());
    let wrappers = facts.env_wrappers.clone();
    // The first page the app itself serves at `/`, or a blueprint's up
    // check: a health route when the code defines none.
    let mut fallback: Option<(String, u32, String, String)> = None;
    for &file in sources {
        let Some(raw) = ctx.read_path(file) else {
            continue;
        };
        let mut masked = mask_comments(&raw);
        if !wrappers.is_empty() {
            masked = with_env_wrappers(&masked, &wrappers);
        }
        let text = masked.as_str();
        let imports: BTreeSet<String> = IMPORT
            .captures_iter(text)
            .filter_map(|c| c.get(1).or(c.get(2)).map(|g| g.as_str().to_string()))
            .collect();
        find_apps(&mut facts, m, file, text, &imports);
        facts.imports.extend(imports);
        // Each pattern below runs (and is compiled) only when the file holds a
        // literal every match of it contains: same answers, and a small app
        // compiles a handful of the patterns instead of all of them.
        if text.contains("__main__") && MAIN_GUARD.is_match(text) {
            facts.main_files.push(file.to_string());
        }
        if facts.callable.is_none() {
            let wsgi = text
                .contains("start_response")
                .then(|| first_match(text, &WSGI_CALLABLE))
                .flatten();
            let asgi = || {
                text.contains("receive")
                    .then(|| first_match(text, &ASGI_CALLABLE))
                    .flatten()
            };
            if let Some((line, _)) = wsgi {
                facts.callable = Some((file.to_string(), line, false));
            } else if let Some((line, _)) = asgi() {
                facts.callable = Some((file.to_string(), line, true));
            }
        }
        // Starlette's `config = Config(".env")` is called as python-decouple's
        // `config("X", cast=…, default=…)` is, in the file that makes it.
        let env_lib = env_lib || text.contains("starlette.config");
        scan_env(web, file, text, env_lib);
        switch_spellings(web, text);
        scan_servers(web, &mut facts, file, text);
        scan_databases(web, file, text);
        if web.health_path.is_none() && HEALTH_WORDS.iter().any(|w| text.contains(w)) {
            if let Some((line, path)) = health_route(ctx, file, text) {
                // As written, trailing slash included: Django (APPEND_SLASH)
                // and Flask redirect the other spelling, and a check that
                // takes only 200 (GCP, Azure load balancers) fails on a 301.
                let p = path.as_str();
                let p = if p.starts_with('/') {
                    p.to_string()
                } else {
                    format!("/{p}")
                };
                web.health_path = Some(p);
                web.note("health_path", ev(file, Some(line), line_text(text, line)));
            }
        }
        if web.health_path.is_none() && fallback.is_none() {
            fallback = up_blueprint(text)
                .or_else(|| root_page(text))
                .or_else(|| django_home(ctx, file, text))
                .map(|(line, path)| (file.to_string(), line, path, line_text(text, line)));
        }
    }
    if web.health_path.is_none() && fallback.is_none() {
        fallback = blueprint_home(ctx, sources);
    }
    if let (None, Some((file, line, path, note))) = (&web.health_path, fallback) {
        web.health_path = Some(path);
        web.note("health_path", ev(&file, Some(line), note));
    }
    facts
}

/// `@app.route("/")` / `@app.get("/")` on the app object itself (group 1
/// the object): the app's home page.
static ROOT_PAGE: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"(?m)^[ \t]*@(\w+)\.(?:route|get)\s*\(\s*["']/["']"#));

/// A Flask blueprint whose prefix names an up check (`Blueprint("up", …,
/// url_prefix="/up")`; group 1 the object, 2 the prefix).
static UP_BLUEPRINT: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"(?m)^(\w+)\s*=\s*Blueprint\s*\([^)]*\burl_prefix\s*=\s*["'](/(?:up|healthz?|health[-_]check|healthcheck|ping|livez|readyz))/?["']"#,
    )
});

/// The home page the app object serves at `/` in `text`: (line, "/").
fn root_page(text: &str) -> Option<(u32, String)> {
    let roots: BTreeSet<&str> = ROOT_ROUTER
        .captures_iter(text)
        .filter_map(|c| c.get(1).map(|g| g.as_str()))
        .collect();
    ROOT_PAGE
        .captures_iter(text)
        .find(|c| roots.contains(&c[1]))
        .map(|c| {
            (
                line_of(text, c.get(0).map_or(0, |g| g.start())),
                "/".to_string(),
            )
        })
}

/// A route of the empty path in a Django URLconf: `path("", …)`,
/// `re_path(r"^$", …)`, `url(r'^$', …)` (group 1 what follows the pattern).
static DJANGO_EMPTY_ROUTE: LazyLock<Regex> = LazyLock::new(|| {
    regex(r#"(?m)^[ \t]*(?:path\(\s*(?:""|'')|(?:re_path|url)\(\s*r?["']\^\$["'])\s*,\s*([^\n]*)"#)
});

/// `include("pages.urls")` / `include(("core.urls", "core"), …)`: group 1 the module.
static DJANGO_INCLUDE: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"^include\(\s*\(?\s*["']([\w.]+)["']"#));

/// `path("up/", include("up.urls"))` in a root URLconf: group 1 the
/// prefix, 2 the module (nickjj's up check).
static DJANGO_UP_INCLUDE: LazyLock<Regex> = LazyLock::new(|| {
    regex(r#"(?m)^[ \t]*path\(\s*["'](up/?)["']\s*,\s*include\(\s*\(?\s*["']([\w.]+)["']"#)
});

/// What a Django project's root URLconf serves with no health route of its
/// own: an up check included under `up/` whose URLconf has a view at its
/// empty path (`/up/`), else the home page at `/` — a view of the empty
/// path there, or in the URLconf it includes at the empty path
/// (`path("", include("pages.urls"))` whose `path("", views.home)`), one
/// level deep: (line in `file`, path).
fn django_home(ctx: &Ctx, file: &str, text: &str) -> Option<(u32, String)> {
    if crate::repo::file_name(file) != "urls.py" || !text.contains("urlpatterns") {
        return None;
    }
    let folder = crate::repo::parent(file);
    if !["wsgi.py", "asgi.py", "settings.py"]
        .iter()
        .any(|f| ctx.has(folder, f))
    {
        return None;
    }
    // Modules are named from the project's folder (manage.py's), the
    // settings package's parent.
    let base = crate::repo::parent(folder);
    let views_at_root = |t: &str| {
        DJANGO_EMPTY_ROUTE
            .captures_iter(t)
            .any(|c| !c[1].trim_start().starts_with("include("))
    };
    let includes_view = |module: &str| {
        let path = format!("{}.py", module.replace('.', "/"));
        ctx.read_path(&crate::repo::join(base, &path))
            .is_some_and(|t| views_at_root(&t))
    };
    let at = |c: &regex::Captures| line_of(text, c.get(0).map_or(0, |g| g.start()));
    let up = DJANGO_UP_INCLUDE
        .captures_iter(text)
        .find(|c| includes_view(&c[2]))
        .map(|c| (at(&c), format!("/{}", c[1].trim_end_matches('/')) + "/"));
    up.or_else(|| {
        DJANGO_EMPTY_ROUTE.captures_iter(text).find_map(|c| {
            let rest = c[1].trim_start();
            let serves = match DJANGO_INCLUDE.captures(rest) {
                Some(inc) => includes_view(&inc[1]),
                None => !rest.starts_with("include("),
            };
            serves.then(|| (at(&c), "/".to_string()))
        })
    })
}

/// `app.register_blueprint(home_bp)` with no `url_prefix`: group 1 the
/// blueprint's object.
static BARE_REGISTER: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\.register_blueprint\(\s*(\w+)\s*\)"));

/// `home_bp = Blueprint("home", __name__)`: group 1 the object, 2 the
/// arguments (one line).
static BLUEPRINT_DEF: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?m)^(\w+)\s*=\s*Blueprint\s*\(([^)\n]*)\)"));

/// The home page of a Flask blueprint mounted at the root (flask-todoism's
/// `home_bp`, defined without `url_prefix` and registered without one):
/// its `/` route is the app's `/`. (file, line, "/", the line's text.)
fn blueprint_home(ctx: &Ctx, sources: &[&str]) -> Option<(String, u32, String, String)> {
    let texts: Vec<(&str, std::sync::Arc<str>)> = sources
        .iter()
        .filter_map(|f| Some((*f, ctx.read_path(f)?)))
        .filter(|(_, t)| t.contains("Blueprint") || t.contains("register_blueprint"))
        .collect();
    let bare: BTreeSet<&str> = texts
        .iter()
        .flat_map(|(_, t)| BARE_REGISTER.captures_iter(t).filter_map(|c| c.get(1)))
        .map(|g| g.as_str())
        .collect();
    if bare.is_empty() {
        return None;
    }
    texts.iter().find_map(|(file, text)| {
        BLUEPRINT_DEF.captures_iter(text).find_map(|c| {
            if !bare.contains(&c[1]) || c[2].contains("url_prefix") {
                return None;
            }
            let route = regex(&format!(
                r#"(?m)^[ \t]*@{}\.(?:route|get)\s*\(\s*["']/["']"#,
                regex::escape(&c[1])
            ));
            let at = route.find(text)?;
            let line = line_of(text, at.start());
            Some((
                file.to_string(),
                line,
                "/".to_string(),
                line_text(text, line),
            ))
        })
    })
}

/// The `/` route of a blueprint prefixed like an up check (nickjj's
/// `up.get("/")` under `/up`): (line, "/up/").
fn up_blueprint(text: &str) -> Option<(u32, String)> {
    if !text.contains("Blueprint") {
        return None;
    }
    UP_BLUEPRINT.captures_iter(text).find_map(|c| {
        let route = regex(&format!(
            r#"(?m)^[ \t]*@{}\.(?:route|get)\s*\(\s*["']/["']"#,
            regex::escape(&c[1])
        ));
        let at = route.find(text)?;
        Some((line_of(text, at.start()), format!("{}/", &c[2])))
    })
}

/// Literals of which every [`HEALTH_ROUTE`] match holds one.
const HEALTH_WORDS: &[&str] = &["health", "ping", "livez", "readyz"];

/// The first health-check route of `file` that is served at the root path:
/// registered on the app object itself, a Starlette route list in the app's
/// file, or a Django project's root `urls.py`.
fn health_route(ctx: &Ctx, file: &str, text: &str) -> Option<(u32, String)> {
    let roots: BTreeSet<&str> = ROOT_ROUTER
        .captures_iter(text)
        .filter_map(|c| c.get(1).map(|g| g.as_str()))
        .collect();
    let folder = crate::repo::parent(file);
    let django_root_urls = crate::repo::file_name(file) == "urls.py"
        && ["wsgi.py", "asgi.py", "settings.py"]
            .iter()
            .any(|f| ctx.has(folder, f));
    let mut found = None;
    each_match(text, &HEALTH_ROUTE, |line, c| {
        if found.is_some() {
            return;
        }
        let whole = c.get(0).map(|g| g.as_str()).unwrap_or("");
        let ok = match c.get(1) {
            Some(obj) => roots.contains(obj.as_str()),
            None if whole.starts_with("Route") => text.contains("Starlette("),
            None => django_root_urls,
        };
        if ok {
            found = Some((line, c[2].to_string()));
        }
    });
    found
}

/// Record the framework app objects of one file. A module-level object beats
/// one built inside a function; an entry-named file beats others; otherwise the
/// first (shallowest) file wins.
fn find_apps(
    facts: &mut CodeFacts,
    m: &Manifest,
    file: &str,
    text: &str,
    imports: &BTreeSet<String>,
) {
    for (i, fw) in FRAMEWORKS.iter().enumerate() {
        if !fw.declared_in(|d| m.has(d)) && !imports.contains(fw.import) {
            continue;
        }
        let Some(caps) = app_pattern(i).captures(text) else {
            continue;
        };
        let at = caps.get(0).map(|g| g.start()).unwrap_or(0);
        let line = line_of(text, at);
        let factory = enclosing_def(text, at);
        let hit = AppHit {
            file: file.to_string(),
            line,
            object: caps.get(1).map(|o| o.as_str().to_string()),
            factory,
        };
        let score = |h: &AppHit| (h.factory.is_none(), super::is_entry_name(&h.file));
        match facts.apps.get(fw.name) {
            Some(old) if score(old) >= score(&hit) => {}
            _ => {
                facts.apps.insert(fw.name, hit);
            }
        }
    }
}

/// The module-level function whose body holds byte offset `at` (`None` at
/// module level, or inside an `if`/`class`/`with` block).
pub(super) fn enclosing_def(text: &str, at: usize) -> Option<String> {
    let line_start = text[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
    if !text[line_start..].starts_with([' ', '\t']) {
        return None;
    }
    // The nearest earlier line that starts in column 0 opens the block.
    let opener = text[..line_start]
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty() && !l.starts_with([' ', '\t', '#', ')', ']', '}']))?;
    TOP_DEF.captures(opener).map(|c| c[1].to_string())
}

/// `text` with comments blanked out (same length, same lines), so that
/// commented-out code is never read as code. Strings are kept.
pub(super) fn mask_comments(text: &str) -> String {
    let mut out = text.as_bytes().to_vec();
    let b = text.as_bytes();
    let mut i = 0;
    let mut quote: Option<(u8, bool)> = None; // (quote char, triple)
    while i < b.len() {
        match quote {
            Some((q, triple)) => {
                if b[i] == b'\\' {
                    i += 2;
                    continue;
                }
                if triple && b[i..].starts_with(&[q, q, q]) {
                    quote = None;
                    i += 3;
                    continue;
                }
                if !triple && (b[i] == q || b[i] == b'\n') {
                    quote = None;
                }
            }
            None => match b[i] {
                b'"' | b'\'' => {
                    let q = b[i];
                    if b[i..].starts_with(&[q, q, q]) {
                        quote = Some((q, true));
                        i += 3;
                        continue;
                    }
                    quote = Some((q, false));
                }
                b'#' => {
                    while i < b.len() && b[i] != b'\n' {
                        out[i] = b' ';
                        i += 1;
                    }
                    continue;
                }
                _ => {}
            },
        }
        i += 1;
    }
    // Only ASCII bytes of comments were replaced by spaces: still UTF-8 when the
    // replaced run covered whole characters, which it does (it runs to the newline).
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

// --- environment ---------------------------------------------------------------------

fn scan_env(web: &mut Draft, file: &str, text: &str, env_lib: bool) {
    if text.contains("environ") || text.contains("getenv") {
        scan_os_env(web, file, text);
    }
    if env_lib && (text.contains("env") || text.contains("config")) {
        each_match(text, &ENV_LIB, |line, c| {
            let open = c.get(2).map(|g| g.start()).unwrap_or(0);
            let args = call_args(text, open).map(split_args).unwrap_or_default();
            let callee = &c[1];
            let positional_default = callee == "config" || callee.starts_with("env.");
            let has_default = args.iter().any(|a| a.trim_start().starts_with("default"))
                || (positional_default && args.len() > 1 && !args[1].contains('='))
                || optional_use(text, open);
            add_env(web, file, &c[3], has_default, line);
        });
    }
    if text.contains("BaseSettings") {
        scan_settings_classes(web, file, text);
    }
}

/// `int(os.environ.get("DEBUG", 0))`: a switch read as a number, off by
/// default (group 1; a count, a port or a timeout has other defaults).
static INT_SWITCH: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"\bint\(\s*(?:os\.)?(?:environ\.get|getenv)\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']\s*,\s*(?:default\s*=\s*)?["']?0["']?\s*\)"#,
    )
});
/// `os.environ.get("DJANGO_DEBUG") != "FALSE"`: a switch that only one
/// spelling turns off (group 1 the variable, 2 that spelling).
static NOT_EQUAL_SWITCH: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"(?:os\.)?(?:environ\.get|getenv)\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["'][^)\n]*\)\s*!=\s*["']([A-Za-z0-9_]+)["']"#,
    )
});

/// How the code spells "off" for the switches it reads in one of those two
/// ways ([`autodeploy_core::EnvVar::off_value`]).
fn switch_spellings(web: &mut Draft, text: &str) {
    if !text.contains("int(") && !text.contains("!=") {
        return;
    }
    let mut found: Vec<(String, String)> = INT_SWITCH
        .captures_iter(text)
        .map(|c| (c[1].to_string(), "0".to_string()))
        .collect();
    found.extend(
        NOT_EQUAL_SWITCH
            .captures_iter(text)
            .map(|c| (c[1].to_string(), c[2].to_string())),
    );
    for (name, off) in found {
        if let Some(v) = web.env.iter_mut().find(|v| v.name == name) {
            v.off_value.get_or_insert(off);
        }
    }
}

fn add_env(web: &mut Draft, file: &str, name: &str, has_default: bool, line: u32) {
    if !PLATFORM_VARS.contains(&name) {
        web.env_var(name, has_default, file, line);
    }
}

/// `os.environ[…]`, `os.environ.get(…)`, `os.getenv(…)` (and the bare names
/// when imported from `os`).
fn scan_os_env(web: &mut Draft, file: &str, text: &str) {
    // Bare `environ[…]` / `getenv(…)` count only when imported from os (a WSGI
    // `environ` dict is not the process environment).
    let mut bare_environ = false;
    let mut bare_getenv = false;
    for c in FROM_OS_IMPORT.captures_iter(text) {
        let names = &c[1];
        bare_environ |= names.split([',', ' ', '(', ')']).any(|n| n == "environ");
        bare_getenv |= names.split([',', ' ', '(', ')']).any(|n| n == "getenv");
    }
    let add = |web: &mut Draft, name: &str, has_default: bool, line: u32| {
        add_env(web, file, name, has_default, line)
    };
    // Names whose presence the code checks first (`if "X" in os.environ:`).
    let guarded: BTreeSet<&str> = ENV_GUARD
        .captures_iter(text)
        .filter_map(|c| c.get(1).map(|g| g.as_str()))
        .collect();
    each_match(text, &ENV_INDEX, |line, c| {
        if c.get(1).is_none() && !bare_environ {
            return;
        }
        let end = c.get(0).map(|g| g.end()).unwrap_or(0);
        let rest = text[end..].trim_start();
        // `os.environ["X"] = …` sets the variable; it does not read it.
        if rest.starts_with('=') && !rest.starts_with("==") {
            return;
        }
        let at = c.get(0).map(|g| g.start()).unwrap_or(0);
        let optional = guarded.contains(&c[2]) || in_env_conditional(text, at);
        add(web, &c[2], optional, line);
    });
    each_match(text, &ENV_GET, |line, c| {
        let whole = c.get(0).map(|g| g.as_str()).unwrap_or("");
        if c.get(1).is_none() {
            let bare_ok = if whole.starts_with("environ") {
                bare_environ
            } else {
                bare_getenv
            };
            if !bare_ok {
                return;
            }
        }
        // `.get()` / `getenv()` return None when unset: the code copes without it.
        add(web, &c[2], true, line);
    });
}

/// True when byte `at` sits in a block opened by an `if`/`elif` that tests the
/// environment (`if "TOKEN" in os.environ:` … `os.environ["EMAIL"]`): the read
/// only happens when the deployment opts in.
fn in_env_conditional(text: &str, at: usize) -> bool {
    let line_start = text[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let indent_of = |l: &str| l.len() - l.trim_start().len();
    let mut indent = indent_of(&text[line_start..]);
    let before: Vec<&str> = text[..line_start].lines().rev().take(200).collect();
    let tests_env = |t: &str| t.contains("environ") || t.contains("getenv");
    let opens_if = |t: &str| t.starts_with("if ") || t.starts_with("if(") || t.starts_with("elif ");
    for (i, l) in before.iter().enumerate() {
        if indent == 0 {
            break;
        }
        if l.trim().is_empty() || indent_of(l) >= indent {
            continue;
        }
        indent = indent_of(l);
        let t = l.trim_start();
        if opens_if(t) && tests_env(t) {
            return true;
        }
        // The `):` that closes a condition written over several lines
        // (`if (\n    "TOKEN" in os.environ\n    or …\n):`): the condition
        // is every line up to its `if (`.
        if t.starts_with(')') && t.trim_end().ends_with(':') {
            let mut condition = String::new();
            for up in before.iter().skip(i + 1).take(20) {
                let u = up.trim_start();
                if indent_of(up) == indent && opens_if(u) {
                    condition.push_str(u);
                    if tests_env(&condition) {
                        return true;
                    }
                    break;
                }
                condition.push_str(u);
            }
        }
    }
    false
}

/// True when the value of the call opening at `open` is only compared or
/// given a fallback (`os.getenv("X") or "d"`, `== "1"`, `is None`), so a
/// missing variable is expected.
fn optional_use(text: &str, open: usize) -> bool {
    let Some(args) = call_args(text, open) else {
        return false;
    };
    let after = &text[open + args.len() + 2..];
    let after = after.trim_start_matches([' ', '\t']);
    ["or ", "==", "!=", "is ", "in ", "not in "]
        .iter()
        .any(|p| after.starts_with(p))
        || ["if ", "elif "]
            .iter()
            .any(|p| line_text(text, line_of(text, open)).starts_with(p))
}

/// pydantic `BaseSettings` subclasses: each field is an env var (with the
/// class's `env_prefix`), required when it has no default.
fn scan_settings_classes(web: &mut Draft, file: &str, text: &str) {
    for m in SETTINGS_CLASS.find_iter(text) {
        let body_start = m.end();
        let mut body_lines: Vec<(u32, &str)> = Vec::new();
        let first_line = line_of(text, body_start) + 1;
        for (i, raw) in text[body_start..].lines().skip(1).enumerate() {
            if !raw.trim().is_empty() && !raw.starts_with([' ', '\t']) {
                break;
            }
            body_lines.push((first_line + i as u32, raw));
        }
        let indent = body_lines
            .iter()
            .find(|(_, l)| !l.trim().is_empty())
            .map(|(_, l)| l.len() - l.trim_start().len())
            .unwrap_or(4);
        let body: String = body_lines
            .iter()
            .map(|(_, l)| *l)
            .collect::<Vec<_>>()
            .join("\n");
        let prefix = ENV_PREFIX
            .captures(&body)
            .map(|c| c[1].to_ascii_uppercase())
            .unwrap_or_default();
        for (line, raw) in &body_lines {
            if raw.len() - raw.trim_start().len() != indent {
                continue;
            }
            let Some(c) = SETTINGS_FIELD.captures(raw.trim()) else {
                continue;
            };
            let name = &c[1];
            if name.starts_with('_') || name == "model_config" || c[2].contains("ClassVar") {
                continue;
            }
            let has_default =
                c.get(3).is_some() || c[2].contains("Optional") || c[2].contains("None");
            // `Field(alias="DB_NAME")` / `validation_alias=…` name the variable themselves.
            let var = c
                .get(3)
                .and_then(|d| SETTINGS_ALIAS.captures(d.as_str()))
                .map(|a| a[1].to_string())
                .unwrap_or_else(|| format!("{prefix}{}", name.to_ascii_uppercase()));
            // `SECRET_KEY: str = config("SECRET_KEY")`: the read in the
            // default decides (it raises when unset), not the field's default.
            let reads_itself = c.get(3).is_some_and(|d| {
                let d = d.as_str();
                d.contains(&format!("(\"{var}\"")) || d.contains(&format!("('{var}'"))
            });
            if !PLATFORM_VARS.contains(&var.as_str()) && !reads_itself {
                web.env_var(&var, has_default, file, *line);
            }
        }
    }
}

// --- call arguments ---------------------------------------------------------------------

/// The text between the bracket at byte `open` and its match (strings and
/// comments skipped); `None` when unbalanced within 4 KiB.
pub(super) fn call_args(text: &str, open: usize) -> Option<&str> {
    let bytes = text.as_bytes();
    let mut depth = 0i32;
    let mut quote: Option<u8> = None;
    let mut i = open;
    let end = bytes.len().min(open.saturating_add(4096));
    while i < end {
        let b = bytes[i];
        if let Some(q) = quote {
            if b == b'\\' {
                i += 2;
                continue;
            }
            if b == q {
                quote = None;
            }
        } else {
            match b {
                b'"' | b'\'' => quote = Some(b),
                b'#' => {
                    while i < end && bytes[i] != b'\n' {
                        i += 1;
                    }
                    continue;
                }
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        return text.get(open + 1..i);
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    None
}

/// Top-level comma-separated arguments, trimmed.
pub(super) fn split_args(args: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = args.as_bytes();
    let (mut depth, mut quote, mut start) = (0i32, None::<u8>, 0usize);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None => match b {
                b'"' | b'\'' => quote = Some(b),
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => depth -= 1,
                b',' if depth == 0 => {
                    out.push(args[start..i].trim());
                    start = i + 1;
                }
                _ => {}
            },
        }
        i += 1;
    }
    let last = args[start..].trim();
    if !last.is_empty() {
        out.push(last);
    }
    out
}

/// Value of keyword argument `name` among `args`.
fn kwarg<'a>(args: &[&'a str], names: &[&str]) -> Option<&'a str> {
    args.iter().find_map(|a| {
        let (k, v) = a.split_once('=')?;
        let k = k.trim();
        (names.contains(&k) && !v.starts_with('=')).then(|| v.trim())
    })
}

/// Keyword argument `names`, else the positional argument at `pos`.
fn arg<'a>(args: &[&'a str], pos: usize, names: &[&str]) -> Option<&'a str> {
    kwarg(args, names).or_else(|| {
        args.iter()
            .take_while(|a| !is_keyword_arg(a))
            .nth(pos)
            .copied()
    })
}

fn is_keyword_arg(a: &str) -> bool {
    a.split_once('=')
        .is_some_and(|(k, v)| is_identifier(k.trim()) && !v.starts_with('='))
        || a.starts_with('*')
}

/// A port from an expression: a literal, `int(…)`, a module constant, an env
/// lookup with a literal default, or `x or 8080`.
pub(super) fn port_expr(text: &str, expr: &str) -> Option<u16> {
    port_expr_depth(text, expr, 0)
}

fn port_expr_depth(text: &str, expr: &str, depth: u8) -> Option<u16> {
    if depth > 3 {
        return None;
    }
    let e = expr.trim();
    let e = e.trim_matches(|c| c == '"' || c == '\'');
    if let Ok(p) = e.parse::<u16>() {
        return (p >= 80).then_some(p);
    }
    if let Some(inner) = e
        .strip_prefix("int(")
        .and_then(|r| r.strip_suffix(')'))
        .or_else(|| e.strip_prefix('(').and_then(|r| r.strip_suffix(')')))
    {
        return port_expr_depth(text, inner, depth + 1);
    }
    if let Some(c) = ENV_LOOKUP.captures(e) {
        return port_expr_depth(text, &c[1], depth + 1);
    }
    if let Some((_, right)) = e.rsplit_once(" or ") {
        return port_expr_depth(text, right, depth + 1);
    }
    if is_identifier(e) {
        let (value, _) = constant(text, e)?;
        return port_expr_depth(text, value, depth + 1);
    }
    None
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `NAME = value` at module level: (value, byte offset of value).
fn constant<'t>(text: &'t str, name: &str) -> Option<(&'t str, usize)> {
    let mut offset = 0usize;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        let rest = rest.trim_start();
        let rest = match rest.strip_prefix(':') {
            // `PORT: int = 8000`
            Some(r) => r.split_once('=').map(|(_, v)| v)?,
            None => rest.strip_prefix('=').filter(|r| !r.starts_with('='))?,
        };
        let value = rest.trim().split(" #").next().unwrap_or("").trim();
        let at = start + line.find(value).unwrap_or(0);
        return Some((value, at));
    }
    None
}

const LOOPBACK: &[&str] = &["127.0.0.1", "localhost", "::1"];

/// Where a host expression names a loopback address: (byte offset of the
/// quoted literal, the literal as written).
fn loopback_literal(text: &str, expr: &str, depth: u8) -> Option<(usize, String)> {
    if depth > 3 {
        return None;
    }
    let e = expr.trim();
    let offset = |s: &str| s.as_ptr() as usize - text.as_ptr() as usize;
    if e.len() >= 2 && (e.starts_with('"') || e.starts_with('\'')) {
        let q = &e[..1];
        if let Some(end) = e[1..].find(q) {
            let lit = &e[..end + 2];
            if LOOPBACK.contains(&&lit[1..lit.len() - 1]) {
                return Some((offset(lit), lit.to_string()));
            }
        }
        return None;
    }
    if let Some(c) = ENV_LOOKUP.captures(e) {
        let d = c.get(1)?;
        return loopback_literal(text, &e[d.start()..d.end()], depth + 1);
    }
    if let Some((_, right)) = e.rsplit_once(" or ") {
        return loopback_literal(text, right, depth + 1);
    }
    if is_identifier(e) {
        let (value, _) = constant(text, e)?;
        return loopback_literal(text, value, depth + 1);
    }
    None
}

/// Server calls: their ports (as claims) and loopback hosts (as findings).
fn scan_servers(web: &mut Draft, facts: &mut CodeFacts, file: &str, text: &str) {
    for caps in SERVER_CALL.captures_iter(text) {
        let (Some(whole), Some(callee)) = (caps.get(0), caps.get(1)) else {
            continue;
        };
        let callee = callee.as_str();
        let last = callee.rsplit('.').next().unwrap_or(callee);
        let open = whole.end() - 1;
        let Some(args_text) = call_args(text, open) else {
            continue;
        };
        let args = split_args(args_text);
        let line = line_of(text, whole.start());
        let (host, port): (Option<&str>, Option<&str>) = match last {
            "make_server" | "run_simple" => (
                arg(&args, 0, &["host", "hostname"]),
                arg(&args, 1, &["port"]),
            ),
            "HTTPServer"
            | "ThreadingHTTPServer"
            | "TCPServer"
            | "ThreadingTCPServer"
            | "UDPServer"
            | "WSGIServer"
            | "bind" => {
                // First argument is an address tuple `(host, port)`.
                let Some(inner) = args
                    .first()
                    .and_then(|a| a.strip_prefix('('))
                    .and_then(|a| a.strip_suffix(')'))
                else {
                    continue;
                };
                let parts = split_args(inner);
                if parts.len() != 2 {
                    continue;
                }
                (Some(parts[0]), Some(parts[1]))
            }
            "start_server" | "create_server" | "serve" => {
                (arg(&args, 1, &["host"]), arg(&args, 2, &["port"]))
            }
            "listen" => (kwarg(&args, &["address", "host"]), arg(&args, 0, &["port"])),
            _ => (
                kwarg(&args, &["host", "server_name"]),
                kwarg(&args, &["port", "server_port"]),
            ),
        };
        let is_server_call = host.is_some() || port.is_some();
        let serving = is_server_call
            && last != "Config"
            && !callee.starts_with("subprocess")
            && !callee.starts_with("asyncio");
        if let (true, Some(expr)) = (serving, port) {
            if let Some(p) = port_expr(text, expr) {
                fixed_port(web, file, text, expr, p);
            }
        }
        if let Some(p) = port.and_then(|p| port_expr(text, p)) {
            facts.ports.push(PortHit {
                port: p,
                file: file.to_string(),
                line,
                note: line_text(text, line),
            });
        }
        if let Some((at, lit)) = host.and_then(|h| loopback_literal(text, h, 0)) {
            bind_finding(web, file, line_of(text, at), &lit);
        }
        if serving {
            facts.serves = true;
        }
    }
    each_match(text, &ENV_PORT_DEFAULT, |line, c| {
        if let Ok(p) = c[1].parse() {
            facts.ports.push(PortHit {
                port: p,
                file: file.to_string(),
                line,
                note: line_text(text, line),
            });
        }
    });
    if text.contains(".serve_forever(") || text.contains("web.run_app(") {
        facts.serves = true;
    }
}

/// A port written as a number in a server call (`app.run(port=5000)`,
/// `HTTPServer(("", 8000), …)`) ignores the `PORT` a platform assigns: report
/// it and make autodeploy's copy read `PORT`, the number as the fallback.
/// `expr` must be a slice of `text` (as `split_args` returns).
fn fixed_port(web: &mut Draft, file: &str, text: &str, expr: &str, port: u16) {
    let e = expr.trim();
    if !(2..=5).contains(&e.len()) || !e.bytes().all(|b| b.is_ascii_digit()) {
        return;
    }
    let Some(start) = (e.as_ptr() as usize).checked_sub(text.as_ptr() as usize) else {
        return;
    };
    if start + e.len() > text.len() {
        return;
    }
    // From the `=`, `(` or `,` before the number, on the same line: the
    // number alone could also appear in a message on that line.
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let Some(ctx) = text[line_start..start].rfind(['=', '(', ',']) else {
        return;
    };
    let ctx = line_start + ctx;
    let find = &text[ctx..start + e.len()];
    let line = line_of(text, start);
    web.finding(
        "hardcoded_port",
        Severity::Info,
        Some(file),
        Some(line),
        format!(
            "{file}:{line} serves on port {port} whatever PORT says; platforms that assign the \
             port (and autodeploy's local target) need it read from PORT (autodeploy does so in \
             its copy, falling back to {port})"
        ),
        Some(SourceFix {
            file: file.to_string(),
            line,
            find: find.to_string(),
            replace: format!(
                "{}int(__import__(\"os\").environ.get(\"PORT\", \"{e}\"))",
                &find[..start - ctx]
            ),
        }),
    );
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

// --- databases ---------------------------------------------------------------------------

fn scan_databases(web: &mut Draft, file: &str, text: &str) {
    if !text.contains(".backends.") && !text.contains("://") && !text.contains("sqlite3") {
        return;
    }
    each_match(text, &DJANGO_ENGINE, |line, c| {
        let name = c.get(1).or(c.get(2)).map(|g| g.as_str()).unwrap_or("");
        let db = match name {
            s if s.starts_with("postgres") || s == "postgis" => Database::Postgresql,
            "mysql" => Database::Mysql,
            _ => Database::Sqlite,
        };
        web.database(
            db,
            ev(file, Some(line), format!("Django database ENGINE {name}")),
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
    if let Some((line, _)) = first_match(text, &SQLITE_IMPORT) {
        web.database(Database::Sqlite, ev(file, Some(line), "imports sqlite3"));
    }
}

/// Top-level modules of the standard library (enough to tell a stdlib-only
/// script from one with undeclared dependencies).
pub(super) const STDLIB: &[&str] = &[
    "__future__",
    "_thread",
    "abc",
    "argparse",
    "array",
    "ast",
    "asyncio",
    "atexit",
    "base64",
    "bdb",
    "binascii",
    "bisect",
    "builtins",
    "bz2",
    "calendar",
    "cgi",
    "cmath",
    "cmd",
    "code",
    "codecs",
    "collections",
    "colorsys",
    "compileall",
    "concurrent",
    "configparser",
    "contextlib",
    "contextvars",
    "copy",
    "copyreg",
    "cProfile",
    "csv",
    "ctypes",
    "curses",
    "dataclasses",
    "datetime",
    "dbm",
    "decimal",
    "difflib",
    "dis",
    "doctest",
    "email",
    "encodings",
    "enum",
    "errno",
    "faulthandler",
    "fcntl",
    "filecmp",
    "fileinput",
    "fnmatch",
    "fractions",
    "ftplib",
    "functools",
    "gc",
    "getopt",
    "getpass",
    "gettext",
    "glob",
    "graphlib",
    "grp",
    "gzip",
    "hashlib",
    "heapq",
    "hmac",
    "html",
    "http",
    "imaplib",
    "importlib",
    "inspect",
    "io",
    "ipaddress",
    "itertools",
    "json",
    "keyword",
    "linecache",
    "locale",
    "logging",
    "lzma",
    "mailbox",
    "marshal",
    "math",
    "mimetypes",
    "mmap",
    "multiprocessing",
    "netrc",
    "numbers",
    "operator",
    "optparse",
    "os",
    "pathlib",
    "pdb",
    "pickle",
    "pkgutil",
    "platform",
    "plistlib",
    "poplib",
    "posixpath",
    "pprint",
    "profile",
    "pstats",
    "pty",
    "pwd",
    "py_compile",
    "pydoc",
    "queue",
    "quopri",
    "random",
    "re",
    "readline",
    "reprlib",
    "resource",
    "runpy",
    "sched",
    "secrets",
    "select",
    "selectors",
    "shelve",
    "shlex",
    "shutil",
    "signal",
    "site",
    "smtplib",
    "socket",
    "socketserver",
    "sqlite3",
    "ssl",
    "stat",
    "statistics",
    "string",
    "struct",
    "subprocess",
    "sys",
    "sysconfig",
    "syslog",
    "tarfile",
    "tempfile",
    "termios",
    "textwrap",
    "threading",
    "time",
    "timeit",
    "tkinter",
    "token",
    "tokenize",
    "tomllib",
    "trace",
    "traceback",
    "tracemalloc",
    "tty",
    "types",
    "typing",
    "unicodedata",
    "unittest",
    "urllib",
    "uuid",
    "venv",
    "warnings",
    "wave",
    "weakref",
    "webbrowser",
    "wsgiref",
    "xml",
    "xmlrpc",
    "zipapp",
    "zipfile",
    "zipimport",
    "zlib",
    "zoneinfo",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::MemRepo;
    use autodeploy_core::{Language, ServiceKind};

    fn run(code: &str) -> (Draft, CodeFacts) {
        run_with(code, Manifest::default())
    }

    fn run_with(code: &str, m: Manifest) -> (Draft, CodeFacts) {
        let repo = MemRepo::new([("app.py", code)]);
        let ctx = Ctx::new(&repo);
        let mut d = Draft::new("", Language::Python, ServiceKind::Web);
        let facts = scan(&ctx, "", &mut d, &m, &["app.py"]);
        (d, facts)
    }

    /// The health path the scan of these files (all sources) finds.
    fn health_of(files: &[(&str, &str)]) -> Option<String> {
        let repo = MemRepo::new(files.iter().copied());
        let ctx = Ctx::new(&repo);
        let mut d = Draft::new("", Language::Python, ServiceKind::Web);
        let sources: Vec<&str> = files.iter().map(|(f, _)| *f).collect();
        scan(&ctx, "", &mut d, &Manifest::default(), &sources);
        d.health_path
    }

    fn ports(f: &CodeFacts) -> Vec<u16> {
        f.ports.iter().map(|p| p.port).collect()
    }

    #[test]
    fn numeric_ports_in_server_calls_get_a_fix_that_reads_port_first() {
        let fixes = |text: &str| {
            let mut d = Draft::new("", Language::Python, ServiceKind::Web);
            let mut facts = CodeFacts::default();
            scan_servers(&mut d, &mut facts, "app.py", text);
            d.findings
                .into_iter()
                .filter(|f| f.kind == "hardcoded_port")
                .map(|f| {
                    let x = f.fix.unwrap();
                    (x.line, x.find, x.replace)
                })
                .collect::<Vec<_>>()
        };
        let env = |n: &str| format!("int(__import__(\"os\").environ.get(\"PORT\", \"{n}\"))");
        assert_eq!(
            fixes("app.run(host='0.0.0.0', port=5000)  # 5000\n"),
            [(1, "=5000".to_string(), format!("={}", env("5000")))]
        );
        assert_eq!(
            fixes("import http.server\nhttpd = http.server.HTTPServer(('', 8000), H)\n"),
            [(2, ", 8000".to_string(), format!(", {}", env("8000")))]
        );
        assert_eq!(
            fixes("web.run_app(app, port = 8080)\n"),
            [(1, "= 8080".to_string(), format!("= {}", env("8080")))]
        );
        assert!(fixes("app.run(port=int(os.environ.get('PORT', 5000)))\n").is_empty());
        assert!(fixes("subprocess.run(['x'], port=5000)\n").is_empty());
        assert!(fixes("app.run(port=PORT)\nPORT = 5000\n").is_empty());
    }

    #[test]
    fn port_expressions() {
        let t = "PORT = int(os.environ.get('PORT', 8000))\nP2: int = 9000\nX = settings.port\n";
        assert_eq!(port_expr(t, "5000"), Some(5000));
        assert_eq!(port_expr(t, "'8080'"), Some(8080));
        assert_eq!(
            port_expr(t, "int(os.getenv(\"PORT\", \"8080\"))"),
            Some(8080)
        );
        assert_eq!(
            port_expr(t, "int(os.environ.get('PORT') or 3000)"),
            Some(3000)
        );
        assert_eq!(port_expr(t, "PORT"), Some(8000));
        assert_eq!(port_expr(t, "P2"), Some(9000));
        assert_eq!(port_expr(t, "X"), None);
        assert_eq!(port_expr(t, "int(os.environ['PORT'])"), None);
        assert_eq!(port_expr(t, "5"), None);
        assert_eq!(port_expr(t, "UNKNOWN"), None);
    }

    #[test]
    fn nested_calls_give_port_and_host() {
        let (d, f) = run(
            "import uvicorn, os\nif __name__ == '__main__':\n    uvicorn.run(\"main:app\", host=\"0.0.0.0\", port=int(os.getenv(\"PORT\", \"8080\")))\n",
        );
        assert!(ports(&f).iter().all(|p| *p == 8080) && !f.ports.is_empty());
        assert!(d.findings.is_empty());
        assert!(f.serves);
    }

    #[test]
    fn loopback_hosts_only() {
        for (code, line) in [
            ("app.run(host='127.0.0.1', port=5000)\n", 1),
            ("HOST = \"localhost\"\n\napp.run(host=HOST)\n", 1),
            (
                "app.run(\n    debug=True,\n    host=os.environ.get('HOST', '127.0.0.1'),\n)\n",
                3,
            ),
            ("server = HTTPServer(('localhost', 8000), H)\n", 1),
            ("make_server('127.0.0.1', 8000, application)\n", 1),
            ("demo.launch(server_name='127.0.0.1')\n", 1),
        ] {
            let (d, _) = run(code);
            let binds: Vec<_> = d
                .findings
                .iter()
                .filter(|f| f.kind == "binds_localhost")
                .collect();
            assert_eq!(binds.len(), 1, "{code}");
            let fix = binds[0].fix.as_ref().unwrap();
            assert_eq!(fix.line, line, "{code}");
            assert!(
                LOOPBACK.contains(&fix.find.trim_matches(['"', '\''])),
                "{code}"
            );
            assert_eq!(binds[0].line, Some(line));
        }
        for code in [
            "app.run(host='0.0.0.0', port=5000)\n",
            "app.run(host=os.environ.get('HOST', '0.0.0.0'))\n",
            "app.run(debug=True)\n",
            "r = redis.Redis(host='localhost', port=6379)\n",
            "psycopg2.connect(host='localhost', port=5432)\n",
            "HTTPServer(('', PORT), Handler)\n",
            "# app.run(host='127.0.0.1')\n",
        ] {
            let (d, _) = run(code);
            assert!(
                d.findings.iter().all(|f| f.kind != "binds_localhost"),
                "{code}: {:?}",
                d.findings
            );
        }
    }

    #[test]
    fn socket_servers() {
        let (_, f) = run(
            "PORT = int(os.environ.get(\"PORT\", \"8000\"))\nwith socketserver.TCPServer((\"\", PORT), H) as s:\n    s.serve_forever()\n",
        );
        assert_eq!(ports(&f), vec![8000, 8000]);
        assert!(f.serves);
        let (_, f) = run("app.listen(8888)\nsock.listen(5)\n");
        assert_eq!(ports(&f), vec![8888]);
        let (_, f) = run("asyncio.run(main())\nsubprocess.run(['ls'], check=True)\n");
        assert!(!f.serves && f.ports.is_empty());
    }

    #[test]
    fn env_required_and_defaults() {
        let (d, _) = run(r#"import os
from os import getenv
A = os.environ["A"]
if "J" in os.environ:
    J = os.environ["J"]
if os.getenv("TOKEN"):
    CFG.update(
        {
            "K": os.environ["K"],
        }
    )
if (
    "CF_TOKEN" in os.environ
    or "CF_BEARER" in os.environ
):
    CACHE = {
        "default": {
            "ZONE": os.environ["ZONE"],
        }
    }
if (
    DEBUG
):
    L = os.environ["L"]
B = os.environ.get("B", "x")
C = os.getenv("C")
D = os.getenv("D") or "fallback"
E = os.environ.get("E") == "1"
if os.getenv("F"):
    pass
G = getenv("G")
os.environ["H"] = "set, not read"
os.environ.setdefault("I", "x")
PORT = os.environ.get("PORT", "8000")
def application(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    q = environ["QUERY_STRING"]
"#);
        let got: Vec<(&str, bool)> = d
            .env
            .iter()
            .map(|e| (e.name.as_str(), e.required))
            .collect();
        assert_eq!(
            got,
            vec![
                ("A", true),
                ("J", false),
                ("K", false),
                ("ZONE", false),
                ("L", true),
                ("TOKEN", false),
                ("B", false),
                ("C", false),
                ("D", false),
                ("E", false),
                ("F", false),
                ("G", false),
            ]
        );
    }

    #[test]
    fn starlette_config_calls_are_environment_reads() {
        let (d, _) = run(r#"from starlette.config import Config
from pydantic_settings import BaseSettings
config = Config(".env")
class CryptSettings(BaseSettings):
    SECRET_KEY: str = config("SECRET_KEY", cast=str)
    ALGORITHM: str = config("ALGORITHM", default="HS256")
    POSTGRES_SERVER: str = config("POSTGRES_SERVER", "localhost")
"#);
        let got: Vec<(&str, bool)> = d
            .env
            .iter()
            .map(|e| (e.name.as_str(), e.required))
            .collect();
        assert_eq!(
            got,
            vec![
                ("SECRET_KEY", true),
                ("ALGORITHM", false),
                ("POSTGRES_SERVER", false),
            ]
        );
    }

    #[test]
    fn env_libraries_and_pydantic_settings() {
        let mut m = Manifest::default();
        m.deps.insert(
            "python-decouple".into(),
            super::super::manifest::Dep {
                file: "requirements.txt".into(),
                line: 1,
                raw: "python-decouple".into(),
            },
        );
        let (d, _) = run_with(
            r#"from decouple import config
from pydantic_settings import BaseSettings, SettingsConfigDict
SECRET_KEY = config("SECRET_KEY")
DEBUG = config("DEBUG", default=False, cast=bool)
HOSTS = config("HOSTS", "localhost")

class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="APP_")
    database_url: str
    log_level: str = "info"
    sentry_dsn: str | None = None

    def url(self) -> str:
        x: int = 3
        return self.database_url
"#,
            m,
        );
        let got: Vec<(&str, bool)> = d
            .env
            .iter()
            .map(|e| (e.name.as_str(), e.required))
            .collect();
        assert_eq!(
            got,
            vec![
                ("SECRET_KEY", true),
                ("DEBUG", false),
                ("HOSTS", false),
                ("APP_DATABASE_URL", true),
                ("APP_LOG_LEVEL", false),
                ("APP_SENTRY_DSN", false),
            ]
        );
    }

    #[test]
    fn apps_prefer_module_level_objects() {
        let (_, f) = run(
            "from flask import Flask\n\ndef create_app():\n    app = Flask(__name__)\n    return app\n",
        );
        let hit = &f.apps["flask"];
        assert_eq!(hit.factory.as_deref(), Some("create_app"));
        assert_eq!(hit.line, 4);
        let (_, f) = run("from fastapi import FastAPI\napp = FastAPI()\n");
        assert_eq!(f.apps["fastapi"].factory, None);
        assert_eq!(f.apps["fastapi"].object.as_deref(), Some("app"));
    }

    #[test]
    fn comments_are_masked_but_strings_kept() {
        let t = "x = 1  # app.run(host='127.0.0.1')\ns = \"a # b\"\nd = \"\"\"doc # kept\"\"\"  # gone\n# é ü\n";
        let m = mask_comments(t);
        assert_eq!(m.len(), t.len());
        assert!(!m.contains("app.run") && m.contains("a # b") && m.contains("doc # kept"));
        assert!(!m.contains("gone") && !m.contains('é'));
        assert_eq!(m.lines().count(), t.lines().count());
    }

    #[test]
    fn enclosing_function_only_for_def_bodies() {
        let t = "def create_app():\n    app = Flask(__name__)\n\nif __name__ == '__main__':\n    web.run_app(x)\n";
        assert_eq!(
            enclosing_def(t, t.find("app =").unwrap()).as_deref(),
            Some("create_app")
        );
        assert_eq!(enclosing_def(t, t.find("web.").unwrap()), None);
        assert_eq!(enclosing_def("app = Flask()", 0), None);
    }

    /// No health route: the app object's own `/` page (flaskr-tdd), or a
    /// blueprint prefixed like an up check (nickjj's `/up/`). A blueprint's
    /// `/`, which may be mounted anywhere, is not taken.
    #[test]
    fn the_apps_home_page_or_up_blueprint_stands_in_for_a_health_route() {
        let health = |code: &str| run(code).0.health_path;
        assert_eq!(
            health("app = Flask(__name__)\n@app.route(\"/\")\ndef index(): pass\n").as_deref(),
            Some("/")
        );
        assert_eq!(
            health("up = Blueprint(\"up\", __name__, template_folder=\"t\", url_prefix=\"/up\")\n\n@up.get(\"/\")\ndef index(): return \"\"\n").as_deref(),
            Some("/up/")
        );
        assert_eq!(
            health("main = Blueprint(\"main\", __name__)\n@main.route(\"/\")\ndef index(): pass\n"),
            None
        );
        // A real health route wins over the home page, wherever it comes.
        assert_eq!(
            health("app = Flask(__name__)\n@app.route(\"/\")\ndef index(): pass\n@app.get(\"/healthz\")\ndef h(): pass\n").as_deref(),
            Some("/healthz")
        );
    }

    /// A Flask blueprint defined and registered without a prefix serves
    /// its `/` at the app's `/` (flask-todoism's `home_bp`); one registered
    /// or defined with a `url_prefix` does not.
    #[test]
    fn a_root_blueprint_s_home_page_stands_in_for_a_health_route() {
        let health = health_of;
        let init = |register: &str| {
            format!("from flask import Flask\nfrom app.home import home_bp\n\ndef create_app():\n    app = Flask(__name__)\n    app.{register}\n    return app\n")
        };
        let home = "from flask import Blueprint\nhome_bp = Blueprint('home', __name__)\n\n@home_bp.route('/')\ndef index():\n    return 'home'\n";
        let bare = init("register_blueprint(home_bp)");
        assert_eq!(
            health(&[("app/__init__.py", &bare), ("app/home.py", home)]).as_deref(),
            Some("/")
        );
        let prefixed = init("register_blueprint(home_bp, url_prefix='/home')");
        assert_eq!(
            health(&[("app/__init__.py", &prefixed), ("app/home.py", home)]),
            None
        );
        let own_prefix = home.replace("__name__)", "__name__, url_prefix='/h')");
        assert_eq!(
            health(&[("app/__init__.py", &bare), ("app/home.py", &own_prefix)]),
            None
        );
    }

    /// A Django project with no health route: its root URLconf's view of
    /// the empty path (django-celery's `path("", home)`), one included at
    /// the empty path (nickjj's `pages.urls`), or an up check included under
    /// `up/` (nickjj's `up.urls`, which wins). An include whose URLconf has
    /// no view at its empty path, a commented route, or an app's own
    /// URLconf (not the root) gives nothing.
    #[test]
    fn a_django_root_urlconf_s_home_page_or_up_check_stands_in_for_a_health_route() {
        let health = health_of;
        let direct = "urlpatterns = [\n    path(\"admin/\", admin.site.urls),\n    path(\"\", home, name=\"home\"),\n]\n";
        assert_eq!(
            health(&[("core/settings.py", ""), ("core/urls.py", direct)]).as_deref(),
            Some("/")
        );
        let root = "urlpatterns = [\n    path(\"up/\", include(\"up.urls\")),\n    path(\"\", include(\"pages.urls\")),\n]\n";
        let view = "urlpatterns = [\n    path(\"\", views.index, name=\"index\"),\n]\n";
        let nested = "urlpatterns = [\n    path(\"\", include(\"other.urls\")),\n]\n";
        assert_eq!(
            health(&[
                ("src/config/wsgi.py", ""),
                ("src/config/urls.py", root),
                ("src/up/urls.py", view),
                ("src/pages/urls.py", view),
            ])
            .as_deref(),
            Some("/up/")
        );
        assert_eq!(
            health(&[
                ("src/config/wsgi.py", ""),
                ("src/config/urls.py", root),
                ("src/pages/urls.py", view),
            ])
            .as_deref(),
            Some("/")
        );
        assert_eq!(
            health(&[
                ("src/config/wsgi.py", ""),
                ("src/config/urls.py", root),
                ("src/pages/urls.py", nested),
            ]),
            None
        );
        let commented = "urlpatterns = [\n    # url(r'^$', home),\n    path(\"blog/\", include(\"blog.urls\")),\n]\n";
        assert_eq!(
            health(&[("site/settings.py", ""), ("site/urls.py", commented)]),
            None
        );
        assert_eq!(health(&[("polls/urls.py", view)]), None);
        let regex_root = "urlpatterns = [\n    re_path(r\"^$\", root_view),\n]\n";
        assert_eq!(
            health(&[("site/asgi.py", ""), ("site/urls.py", regex_root)]).as_deref(),
            Some("/")
        );
    }

    /// django-celery reads DEBUG with `int(…)` (so `False` crashes it),
    /// djangogirls with `!= "FALSE"` (so `False` leaves it on): each
    /// switch records the one spelling that turns it off.
    #[test]
    fn a_switch_read_one_way_records_its_off_spelling() {
        let (d, _) = run("import os\nDEBUG = int(os.environ.get(\"DEBUG\", default=0))\nWORKERS = int(os.getenv(\"WEB_CONCURRENCY\", 2))\nTEMPLATE_DEBUG = os.environ.get(\"DJANGO_DEBUG\") != \"FALSE\"\nLOUD = os.getenv(\"LOUD\", \"False\") == \"True\"\n");
        let off = |n: &str| {
            d.env
                .iter()
                .find(|v| v.name == n)
                .unwrap_or_else(|| panic!("{n}: {:?}", d.env))
                .off_value
                .clone()
        };
        assert_eq!(off("DEBUG").as_deref(), Some("0"));
        assert_eq!(off("DJANGO_DEBUG").as_deref(), Some("FALSE"));
        assert_eq!(off("LOUD"), None);
        assert_eq!(off("WEB_CONCURRENCY"), None);
    }

    #[test]
    fn databases_and_health() {
        let (d, _) = run(
            "import sqlite3\nDB = 'postgresql+psycopg://u:p@h/db'\napp = FastAPI()\n@app.get('/healthz')\ndef h(): pass\n",
        );
        let dbs: Vec<Database> = d.databases.keys().copied().collect();
        assert_eq!(dbs, vec![Database::Postgresql, Database::Sqlite]);
        assert_eq!(d.health_path.as_deref(), Some("/healthz"));
        // Routes on a router or blueprint may be mounted under a prefix: not trusted.
        let (d, _) = run(
            "router = APIRouter(prefix='/utils')\n@router.get('/health-check/')\ndef h(): pass\n",
        );
        assert_eq!(d.health_path, None);
        let (d, _) = run("app = web.Application()\napp.router.add_get('/healthz', h)\n");
        assert_eq!(d.health_path.as_deref(), Some("/healthz"));
    }

    #[test]
    fn arbitrary_bytes_do_not_panic() {
        for code in [
            "app.run(host='",
            "uvicorn.run(app, port=int(os.getenv('PORT',",
            "HTTPServer((",
            "os.getenv(\"X\"",
            "é(ü'\"#",
        ] {
            let _ = run(code);
        }
    }
}
