//! Django's conventions: the project root (`manage.py`, possibly below the
//! folder that holds the requirements), the settings module, the WSGI (or,
//! with Channels, ASGI) module the server imports, migrations as the release
//! step, `collectstatic` as the build step when `STATIC_ROOT` is set, and an
//! `ALLOWED_HOSTS` that would reject every request in production.
//!
//! Not here: databases and env vars in settings (the generic code scan reads
//! them), or anything about Django apps' internals.

use super::code::CodeFacts;
use super::frameworks::Server;
use super::manifest::Manifest;
use super::{pick_server, require_server, server_command};
use crate::ctx::Ctx;
use crate::draft::{ev, Draft, Trust};
use crate::repo::{file_name, join, parent};
use crate::scan::{find_line, regex};
use autodeploy_core::Severity;
use regex::Regex;
use std::sync::LazyLock;

static SETTINGS_MODULE: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']"#));
static ALLOWED_HOSTS: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?m)^ALLOWED_HOSTS\s*=\s*\[([^\]]*)\]"));
/// A module-level list assignment of a host or origin allow-list; group 1
/// is the text up to and including `[` (what a source fix extends).
/// `STATIC_ROOT = '/vol/web/static'`: an absolute folder outside the
/// project, which only the project's container makes (`RUN mkdir -p
/// /vol/web/static && chown …`). The deployment's account cannot create it.
static OUTSIDE_FOLDER: LazyLock<Regex> = LazyLock::new(|| {
    regex(r#"(?m)^(STATIC_ROOT|MEDIA_ROOT)\s*=\s*((['"])/([^'"\n]+)['"])\s*(?:#.*)?$"#)
});

static FIXED_LIST: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?m)^((ALLOWED_HOSTS|CSRF_TRUSTED_ORIGINS)[ \t]*=[ \t]*\[)"));
/// `ALLOWED_HOSTS` read from an environment variable (group 1 or 2): through
/// `os.environ.get`/`os.getenv`/django-environ/python-decouple, or `os.environ[…]`.
static ALLOWED_HOSTS_ENV: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"(?m)^ALLOWED_HOSTS\s*=[^\n]*?(?:(?:\bgetenv|\benviron\.get|\benv(?:\.\w+)?|\bconfig)\s*\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']|\benviron\s*\[\s*["']([A-Za-z_][A-Za-z0-9_]*)["'])"#,
    )
});

/// `create_user("admin", password="admin")` / `create_superuser(…,
/// password='…')`: an account made with a password written in the code
/// (group 1 the call's arguments).
static USER_WITH_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    regex(r#"\bcreate_(?:super)?user\s*\(([^)]*\bpassword\s*=\s*["'][^"']*["'][^)]*)\)"#)
});

/// A project command that overrides Django's own `migrate` (which the
/// release runs) and creates an account with a password from the code
/// (babybuddy: admin/admin when no superuser exists): every deployment's
/// first release makes a login anyone can guess.
fn migrate_creates_a_user(ctx: &Ctx, root: &str, web: &mut Draft) {
    let commands: Vec<&str> = ctx
        .index()
        .files_under(root)
        .filter(|f| f.ends_with("/management/commands/migrate.py"))
        .collect();
    for file in commands {
        let Some(text) = ctx.read_path(file) else {
            continue;
        };
        let Some(call) = USER_WITH_PASSWORD.captures(&text) else {
            continue;
        };
        let at = call.get(0).expect("group 0");
        let line = crate::scan::line_of(&text, at.start());
        let args = call[1].split_whitespace().collect::<Vec<_>>().join(" ");
        web.finding(
            "release_creates_default_user",
            Severity::Warning,
            Some(file),
            Some(line),
            format!(
                "{file}:{line} overrides Django's `migrate`, which the release step runs, and creates an account with a password written in the code ({args}): the first deploy makes a login anyone who reads the repository can use — sign in and change that password (or remove the account) right after the first deploy"
            ),
            None,
        );
    }
}

/// `ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS").split(" ")`
/// (group 1 the split): a host list read as words, where the deployment
/// writes the comma-separated list every other Django project reads.
static SPLIT_ON_SPACES: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"(?m)^(?:ALLOWED_HOSTS|CSRF_TRUSTED_ORIGINS)\s*=[^\n]*?(?:getenv|environ\.get|environ)\s*[(\[][^\n]*?\)?(\.split\(\s*(?:["'] ["'])?\s*\))"#,
    )
});

/// django-celery: a host list split on spaces gets every request answered
/// 400 (`Invalid HTTP_HOST header`) once the deployment sets the usual
/// comma-separated list. The deployment's copy splits on both.
fn split_on_spaces(file: &str, text: &str, web: &mut Draft) {
    if !text.contains(".split(") {
        return;
    }
    for c in SPLIT_ON_SPACES.captures_iter(text) {
        let split = c.get(1).expect("group 1");
        let line = crate::scan::line_of(text, split.start());
        web.finding(
            "host_list_split_on_spaces",
            Severity::Info,
            Some(file),
            Some(line),
            format!(
                "{file}:{line} splits its host list on spaces: the deployment's copy splits on commas too, so the comma-separated list the deployment sets is read (your repository is not changed)"
            ),
            Some(autodeploy_core::SourceFix {
                file: file.to_string(),
                line,
                find: split.as_str().to_string(),
                replace: ".replace(\",\", \" \").split()".to_string(),
            }),
        );
    }
}

/// The settings module of a project whose code names none: the package
/// holding a `wsgi.py` and a `settings.py` (`site.settings`), else a
/// `settings/` package's shared module (`site.settings.base`, or its
/// production one).
fn unnamed_settings(ctx: &Ctx, root: &str, module_file: &dyn Fn(&str) -> String) -> Option<String> {
    let packages: Vec<String> = ctx
        .sources(root, &["wsgi.py"])
        .into_iter()
        .filter(|f| file_name(f) == "wsgi.py")
        .map(|f| {
            parent(f)
                .strip_prefix(root)
                .unwrap_or(parent(f))
                .trim_start_matches('/')
                .replace('/', ".")
        })
        .filter(|p| !p.is_empty())
        .collect();
    packages.iter().find_map(|pkg| {
        [
            "settings",
            "settings.base",
            "settings.production",
            "settings.prod",
            "settings.common",
        ]
        .iter()
        .map(|m| format!("{pkg}.{m}"))
        .find(|m| ctx.index().contains(&module_file(m)))
    })
}

/// Fill in Django's start, release and build for the project in `dir`.
pub(super) fn apply(ctx: &Ctx, dir: &str, m: &Manifest, web: &mut Draft, facts: &CodeFacts) {
    let runner = m.runner();
    // The Django project root: where manage.py is (shallowest), else `dir`.
    let manage = if ctx.has(dir, "manage.py") {
        Some(join(dir, "manage.py"))
    } else {
        ctx.sources(dir, &["manage.py"])
            .into_iter()
            .find(|f| file_name(f) == "manage.py")
            .map(str::to_string)
    };
    let root = manage.as_deref().map(parent).unwrap_or(dir).to_string();
    let rel_root = root
        .strip_prefix(dir)
        .unwrap_or(&root)
        .trim_start_matches('/')
        .to_string();
    let in_root = |p: &str| {
        if rel_root.is_empty() {
            p.to_string()
        } else {
            format!("{rel_root}/{p}")
        }
    };
    let module_file = |module: &str| join(&root, &format!("{}.py", module.replace('.', "/")));

    // The settings module the project's production server runs (uWSGI's
    // `env = DJANGO_SETTINGS_MODULE=bookmarks.settings.prod` in uwsgi.ini:
    // linkding), over manage.py's development default.
    let production = production_settings(ctx, &root, &module_file, web);
    let named = production.or_else(|| {
        manage
            .as_deref()
            .and_then(|f| ctx.read_path(f))
            .and_then(|t| SETTINGS_MODULE.captures(&t).map(|c| c[1].to_string()))
            .or_else(|| {
                facts.apps.get("django").and_then(|h| {
                    ctx.read_path(&h.file)
                        .and_then(|t| SETTINGS_MODULE.captures(&t).map(|c| c[1].to_string()))
                })
            })
    });
    // Neither manage.py nor the WSGI module names a settings module (the
    // project's docs say "export DJANGO_SETTINGS_MODULE=…"): Django refuses
    // every command without one, so the deployment sets it — the project's
    // settings module, or from a settings package its shared `base`.
    let settings = named.or_else(|| {
        let module = unnamed_settings(ctx, &root, &module_file)?;
        let file = module_file(&module);
        web.env_var("DJANGO_SETTINGS_MODULE", false, &file, 1);
        if let Some(v) = web
            .env
            .iter_mut()
            .find(|e| e.name == "DJANGO_SETTINGS_MODULE")
        {
            v.example = Some(module.clone());
        }
        web.note(
            "settings_module",
            ev(
                &file,
                None,
                format!(
                    "no DJANGO_SETTINGS_MODULE default in manage.py or the WSGI module: {module}"
                ),
            ),
        );
        Some(module)
    });

    // wsgi/asgi module: next to the settings module (walking up a settings package),
    // else the file that calls get_wsgi_application(), else any wsgi.py.
    let module_near_settings = |kind: &str| -> Option<String> {
        let mut pkg = settings.as_deref()?.rsplit_once('.')?.0.to_string();
        loop {
            let candidate = format!("{pkg}.{kind}");
            if ctx.index().contains(&module_file(&candidate)) {
                return Some(candidate);
            }
            pkg = pkg.rsplit_once('.')?.0.to_string();
        }
    };
    let module_of_root = |f: &str| -> String {
        f.strip_prefix(&root)
            .unwrap_or(f)
            .trim_start_matches('/')
            .trim_end_matches(".py")
            .replace('/', ".")
    };
    let wsgi = module_near_settings("wsgi")
        .or_else(|| {
            facts
                .apps
                .get("django")
                .map(|h| module_of_root(&h.file))
                .filter(|m| m.ends_with("wsgi"))
        })
        .or_else(|| {
            ctx.sources(&root, &["wsgi.py"])
                .first()
                .map(|f| module_of_root(f))
        });
    let asgi = module_near_settings("asgi");
    let app_dir = (!rel_root.is_empty()).then_some(rel_root.as_str());
    // Channels apps need an ASGI server; everything else is served over WSGI.
    let asgi = asgi.filter(|_| m.has("channels"));
    let served = match (&asgi, &wsgi) {
        (Some(module), _) => Some((
            module,
            pick_server(m, Server::Daphne, false),
            "ASGI module (Channels)",
        )),
        (None, Some(module)) => Some((
            module,
            pick_server(m, Server::Gunicorn, false),
            "WSGI module",
        )),
        (None, None) => None,
    };
    match served.and_then(|(module, server, note)| {
        server_command(server, module, "application", false, app_dir).map(|c| (c, module, server, note))
    }) {
        Some((cmd, module, server, note)) => {
            web.start(
                format!("{runner}{cmd}"),
                Trust::Inferred,
                ev(&module_file(module), None, format!("inferred: Django {note} {module}")),
            );
            require_server(web, m, server);
        }
        None => web.finding(
            "start_not_found",
            Severity::Warning,
            manage.as_deref(),
            None,
            "Django project without a wsgi.py: add one (django-admin startproject creates it) or a Procfile `web:` line",
            None,
        ),
    }

    let Some(manage) = manage else {
        return;
    };
    web.release = Some(format!(
        "{runner}python {} migrate --noinput",
        in_root("manage.py")
    ));
    web.note("release", ev(&manage, None, "Django migrations"));
    migrate_creates_a_user(ctx, &root, web);

    // Settings text: the module, or every file of its package (base.py, production.py…).
    let Some(settings) = settings else {
        return;
    };
    let file = module_file(&settings);
    let package_init = join(
        &root,
        &format!("{}/__init__.py", settings.replace('.', "/")),
    );
    let settings_files: Vec<String> = if ctx.index().contains(&file) {
        let folder = parent(&file);
        let mut files: Vec<String> = vec![file.clone()];
        // Split settings (`settings/production.py` importing `base.py`).
        if file_name(folder) == "settings" {
            files.extend(
                ctx.index()
                    .names_in(folder)
                    .filter(|n| n.ends_with(".py"))
                    .map(|n| join(folder, n))
                    .filter(|f| *f != file),
            );
        }
        files
    } else if ctx.index().contains(&package_init) {
        let folder = parent(&package_init).to_string();
        ctx.index()
            .names_in(&folder)
            .filter(|n| n.ends_with(".py"))
            .map(|n| join(&folder, n))
            .collect()
    } else {
        return;
    };
    let mut static_root = None;
    // A setting some settings file already reads from the environment
    // (babybuddy's base.py `SECRET_KEY = os.environ.get(…)`) needs no fix
    // in the others (its ci.py's own key).
    // Each settings file read once, for the checks across files and the
    // loop below.
    let texts: Vec<(&String, std::sync::Arc<str>)> = settings_files
        .iter()
        .filter_map(|f| Some((f, ctx.read_path(f)?)))
        .collect();
    let read_from_env = |name: &str| {
        texts.iter().any(|(_, t)| {
            t.lines().any(|l| {
                l.starts_with(name)
                    && (l.contains("environ") || l.contains("getenv") || l.contains("env("))
            })
        })
    };
    let env_reads = (read_from_env("DEBUG"), read_from_env("SECRET_KEY"));
    let database_read = texts.iter().any(|(_, t)| database_from_environment(t));
    let mut database_fixed = database_read;
    // Fixed allow-lists: (setting, file, line, text up to `[`).
    let mut fixed: Vec<(String, String, u32, String)> = Vec::new();
    let mut csrf_from_env = false;
    for (f, text) in texts.iter().map(|(f, t)| (*f, t.clone())) {
        if static_root.is_none() {
            if let Some(line) = find_line(&text, "STATIC_ROOT") {
                static_root = Some((f.clone(), line));
            }
        }
        if web.allowed_hosts_env.is_none() {
            if let Some(c) = ALLOWED_HOSTS_ENV.captures(&text) {
                if let Some(name) = c.get(1).or_else(|| c.get(2)) {
                    let line = find_line(&text, "ALLOWED_HOSTS");
                    web.allowed_hosts_env = Some(name.as_str().to_string());
                    web.note(
                        "allowed_hosts_env",
                        ev(f, line, format!("ALLOWED_HOSTS from {}", name.as_str())),
                    );
                }
            }
        }
        for c in FIXED_LIST.captures_iter(&text) {
            let (Some(all), Some(name)) = (c.get(1), c.get(2)) else {
                continue;
            };
            // `["*"]` already allows every host.
            let items = text[all.end()..].split(']').next().unwrap_or("");
            let any_host = items.contains("\"*\"") || items.contains("'*'");
            if !any_host && !fixed.iter().any(|(n, ..)| n == name.as_str()) {
                let line = crate::scan::line_of(&text, all.start());
                fixed.push((name.as_str().into(), f.clone(), line, all.as_str().into()));
            }
        }
        outside_folders(f, &text, web);
        fixed_debug_and_key(f, &text, web, env_reads);
        if !database_fixed {
            database_fixed = sqlite_or_database_url(f, &text, web);
        }
        split_on_spaces(f, &text, web);
        csrf_from_env |= text.lines().any(|l| {
            l.starts_with("CSRF_TRUSTED_ORIGINS")
                && (l.contains("environ") || l.contains("getenv") || l.contains("env("))
        });
        if let Some(c) = ALLOWED_HOSTS.captures(&text) {
            let hosts: Vec<String> = c[1]
                .split(',')
                .map(|h| h.trim().trim_matches(['"', '\'']).to_string())
                .filter(|h| !h.is_empty())
                .collect();
            let local_only = hosts
                .iter()
                .all(|h| matches!(h.as_str(), "localhost" | "127.0.0.1" | "[::1]" | "0.0.0.0"));
            let debug_on = text.contains("\nDEBUG = True");
            // Without any env read, the fix below makes the copy read one.
            let fixable = ALLOWED_HOSTS_ENV.captures(&text).is_none();
            if local_only && !debug_on && !fixable {
                let line = find_line(&text, "ALLOWED_HOSTS");
                web.finding(
                    "django_allowed_hosts",
                    Severity::Warning,
                    Some(f),
                    line,
                    format!(
                        "{f}: ALLOWED_HOSTS allows only {}, so Django answers 400 Bad Request to every request for the deployed domain; read it from an environment variable (e.g. os.environ.get(\"DJANGO_ALLOWED_HOSTS\", \"localhost\").split(\",\"))",
                        if hosts.is_empty() { "nothing".to_string() } else { hosts.join(", ") }
                    ),
                    None,
                );
            }
        }
    }
    // A fixed list answers 400 (hosts) or 403 (CSRF origins) for every
    // address of the deployment: the deployment's copy also reads the
    // setting from the environment variable of the same name, which the
    // deployment sets (its hosts; its public URL).
    for (name, f, line, prefix) in fixed {
        let from_env = if name == "ALLOWED_HOSTS" {
            web.allowed_hosts_env.is_some()
        } else {
            csrf_from_env
        };
        if from_env {
            continue;
        }
        if name == "ALLOWED_HOSTS" {
            web.allowed_hosts_env = Some(name.clone());
            web.note(
                "allowed_hosts_env",
                ev(
                    &f,
                    Some(line),
                    format!(
                        "ALLOWED_HOSTS is a fixed list: the deployment's copy also reads {name}"
                    ),
                ),
            );
        }
        web.env_var(&name, true, &f, line);
        web.finding(
            "django_fixed_allow_list",
            Severity::Warning,
            Some(&f),
            Some(line),
            format!(
                "{f}:{line}: {name} is a fixed list, so Django refuses requests for the deployment's own address ({}); the deployment's copy also reads {name} from the environment (comma-separated), which the deployment sets — make the same change to keep them in step",
                if name == "ALLOWED_HOSTS" { "400 Bad Request" } else { "403 on every form" }
            ),
            Some(autodeploy_core::SourceFix {
                file: f.clone(),
                line,
                find: prefix.clone(),
                replace: format!(
                    "{prefix}*[h for h in __import__(\"os\").environ.get(\"{name}\", \"\").split(\",\") if h], "
                ),
            }),
        );
    }
    proxy_https(&texts, web);
    if static_root.is_some() && !m.has("whitenoise") {
        serve_static_files(ctx, m, &settings_files, web);
    }
    match static_root {
        Some((f, line)) => web.build(
            format!("{runner}python {} collectstatic --noinput", in_root("manage.py")),
            Trust::Inferred,
            ev(&f, Some(line), "STATIC_ROOT is set"),
        ),
        None => web.finding(
            "no_static_root",
            Severity::Info,
            Some(&settings_files[0]),
            None,
            "STATIC_ROOT is not set, so `collectstatic` cannot run and static files are not served in production; set STATIC_ROOT (and serve it, e.g. with whitenoise)",
            None,
        ),
    }
}

/// The `SecurityMiddleware` entry of a settings' middleware list (group 1
/// the quoted name).
static SECURITY_MIDDLEWARE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"(?m)(?:^|[\[,])[ \t]*(["']django\.middleware\.security\.SecurityMiddleware["'])[ \t]*,"#,
    )
});

/// With DEBUG off neither Django nor gunicorn/uWSGI serves static files: a
/// project that collects them (`STATIC_ROOT`) with nothing to serve them
/// comes up unstyled and without its scripts (djangogirls, linkding). The
/// deployment's copy serves them with WhiteNoise, the package Django's
/// deployment guide points to, on every hosting: installed beside the
/// project's dependencies (a release that supports the project's Django),
/// its middleware right after `SecurityMiddleware`, as its docs place it.
fn serve_static_files(ctx: &Ctx, m: &Manifest, settings_files: &[String], web: &mut Draft) {
    let Some(install) = web.install.clone() else {
        return;
    };
    for f in settings_files {
        let Some(text) = ctx.read_path(f) else {
            continue;
        };
        // `MIDDLEWARE_CLASSES` (Django before 1.10) takes another class.
        if text.contains("MIDDLEWARE_CLASSES") {
            continue;
        }
        let Some(entry) = SECURITY_MIDDLEWARE.captures(&text).and_then(|c| c.get(1)) else {
            continue;
        };
        let line = crate::scan::line_of(&text, entry.start());
        let requirement = super::compat::whitenoise_for(m);
        let word = if requirement.contains('<') {
            format!("'{requirement}'")
        } else {
            requirement.to_string()
        };
        web.install = Some(m.install_also(&install, &word));
        web.finding(
            "static_files_served_by_whitenoise",
            Severity::Info,
            Some(f),
            Some(line),
            format!(
                "{f}: the static files `collectstatic` gathers are served by nothing once DEBUG is off (Django, gunicorn and uWSGI leave them to a web server); the deployment's copy serves them with WhiteNoise ({requirement}, its middleware after SecurityMiddleware) — add it to your dependencies and settings to make that explicit"
            ),
            Some(autodeploy_core::SourceFix {
                file: f.clone(),
                line,
                find: entry.as_str().to_string(),
                replace: format!(
                    "{}, \"whitenoise.middleware.WhiteNoiseMiddleware\"",
                    entry.as_str()
                ),
            }),
        );
        return;
    }
}

/// `DEBUG = True` written as a constant (group 1 the `True`).
static FIXED_DEBUG: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?m)^DEBUG\s*=\s*(True)\s*(?:#.*)?$"));
/// `SECRET_KEY = '…'` written as a constant (group 1 the literal).
static FIXED_SECRET_KEY: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"(?m)^SECRET_KEY\s*=\s*((?:'[^'\n\\]*'|"[^"\n\\]*"))\s*(?:#.*)?$"#));

/// Settings that fix DEBUG on and the secret key to the repository's own
/// (the tutorials' `DEBUG = True`, `SECRET_KEY = 'x*za6…'`): in production
/// Django would show its debug pages and sign sessions with a key anyone
/// can read. The deployment's copy reads both from the environment,
/// defaulting to the written values (so a developer's run is unchanged),
/// and the deployment sets them: DEBUG off, a generated key.
fn fixed_debug_and_key(f: &str, text: &str, web: &mut Draft, (debug_read, key_read): (bool, bool)) {
    // A CI or test settings module is not what a deployment runs.
    let stem = crate::repo::file_name(f).trim_end_matches(".py");
    if matches!(stem, "ci" | "test" | "tests" | "testing" | "test_settings") {
        return;
    }
    if let Some(m) = FIXED_DEBUG
        .captures(text)
        .and_then(|c| c.get(1))
        .filter(|_| !debug_read)
    {
        let line = crate::scan::line_of(text, m.start());
        super::read_from_env(
            web,
            super::FromEnv {
                kind: "django_debug_fixed_on",
                var: "DJANGO_DEBUG",
                secret: false,
                file: f,
                line,
                find: "True",
                replace: format!("{} == \"True\"", super::env_get("DJANGO_DEBUG", "\"True\"")),
                message: format!("{f}:{line}: DEBUG is True whatever the environment, so a deployment would show Django's debug pages (settings, code, SQL) to anyone; the deployment's copy reads it from DJANGO_DEBUG (default True), which the deployment sets off — make the same change"),
            },
        );
    }
    if let Some(m) = FIXED_SECRET_KEY
        .captures(text)
        .and_then(|c| c.get(1))
        .filter(|_| !key_read)
    {
        let line = crate::scan::line_of(text, m.start());
        super::read_from_env(
            web,
            super::FromEnv {
                kind: "django_secret_key_in_repository",
                var: "DJANGO_SECRET_KEY",
                secret: true,
                file: f,
                line,
                find: m.as_str(),
                replace: super::env_get("DJANGO_SECRET_KEY", m.as_str()),
                message: format!("{f}:{line}: SECRET_KEY is written in the repository, so anyone can forge sessions and password-reset links of a deployment that uses it; the deployment's copy reads it from DJANGO_SECRET_KEY (default the written one), which the deployment sets to a generated key — make the same change and keep the key out of the repository"),
            },
        );
    }
}

/// `ROOT_URLCONF` at the top level of a settings file.
static ROOT_URLCONF: LazyLock<Regex> = LazyLock::new(|| regex(r"(?m)^ROOT_URLCONF\b"));

/// Settings that never say how to tell https behind a proxy
/// (`SECURE_PROXY_SSL_HEADER`): a load balancer or nginx that terminates
/// TLS hands Django plain http, and Django 4+ refuses every form posted
/// from the https address ("Origin checking failed", 403: the admin's login
/// included; healthchecks). The deployment's copy trusts the proxy's
/// `X-Forwarded-Proto` when `DJANGO_TRUST_X_FORWARDED_PROTO` is set, which
/// the deployment sets only where such a proxy stands in front (it sets or
/// overwrites the header); anchored on the `ROOT_URLCONF` line every
/// settings module has.
fn proxy_https(texts: &[(&String, std::sync::Arc<str>)], web: &mut Draft) {
    // Settings that set it themselves at the top level (healthchecks reads
    // it from a variable of its own inside an `if`, which a deployment that
    // knows nothing of that variable leaves unset). The copy's statement
    // sets it only when asked, so a setting of the project's own stands.
    let set_at_top = |t: &str| {
        t.lines()
            .any(|l| l.starts_with("SECURE_PROXY_SSL_HEADER") && l.contains("X_FORWARDED_PROTO"))
    };
    if texts.iter().any(|(_, t)| set_at_top(t)) {
        return;
    }
    let Some((f, line)) = texts.iter().find_map(|(f, t)| {
        let stem = crate::repo::file_name(f).trim_end_matches(".py");
        let test = matches!(stem, "ci" | "test" | "tests" | "testing" | "test_settings");
        let m = ROOT_URLCONF.find(t).filter(|_| !test)?;
        Some(((*f).clone(), crate::scan::line_of(t, m.start())))
    }) else {
        return;
    };
    const VAR: &str = "DJANGO_TRUST_X_FORWARDED_PROTO";
    super::read_from_env(
        web,
        super::FromEnv {
            kind: "django_proxy_https",
            var: VAR,
            secret: false,
            file: &f,
            line,
            find: "ROOT_URLCONF",
            replace: format!(
                "if {}:\n    SECURE_PROXY_SSL_HEADER = (\"HTTP_X_FORWARDED_PROTO\", \"https\")\nROOT_URLCONF",
                super::env_get(VAR, "None")
            ),
            message: format!("{f}: the settings never set SECURE_PROXY_SSL_HEADER, so behind a load balancer or nginx that terminates TLS Django sees plain http and refuses every form posted from the https address (403 \"Origin checking failed\", the admin's login included); the deployment's copy trusts X-Forwarded-Proto when {VAR} is set, which the deployment sets where such a proxy stands in front — set SECURE_PROXY_SSL_HEADER = (\"HTTP_X_FORWARDED_PROTO\", \"https\") where your proxy sets that header"),
        },
    );
}

/// `DATABASES = {` at the top level of a settings file.
static DATABASES_DICT: LazyLock<Regex> = LazyLock::new(|| regex(r"(?m)^DATABASES\s*=\s*\{\s*$"));

/// The settings take the database from the environment somewhere: a URL
/// (`DATABASE_URL`, dj-database-url, django-environ's `env.db()`), or a
/// `DATABASES` block that reads a variable.
fn database_from_environment(text: &str) -> bool {
    if ["DATABASE_URL", "dj_database_url", "env.db(", "db_url("]
        .iter()
        .any(|s| text.contains(s))
    {
        return true;
    }
    DATABASES_DICT.find(text).is_some_and(|m| {
        let block: String = text[m.end()..].lines().take(12).collect();
        ["environ", "getenv", "config(", "env("]
            .iter()
            .any(|s| block.contains(s))
    })
}

/// Django settings that write SQLite as the only database (the project
/// template's `DATABASES = {"default": {"ENGINE": "…sqlite3", …}}`) cannot
/// be pointed at the PostgreSQL a deployment provides. The deployment's
/// copy reads `DATABASE_URL` first — a PostgreSQL URL, taken apart in
/// the settings themselves (no new package) — and keeps the written SQLite
/// when it is unset. With it, "with postgres" gets a database the app uses
/// (and the driver, `install_with_driver`); without, nothing changes.
/// Returns whether it was fixed here.
fn sqlite_or_database_url(f: &str, text: &str, web: &mut Draft) -> bool {
    let stem = crate::repo::file_name(f).trim_end_matches(".py");
    if matches!(stem, "ci" | "test" | "tests" | "testing" | "test_settings") {
        return false;
    }
    let Some(m) = DATABASES_DICT.find(text) else {
        return false;
    };
    let block: String = text[m.end()..].lines().take(8).collect();
    if !block.contains("django.db.backends.sqlite3") {
        return false;
    }
    let line = crate::scan::line_of(text, m.start());
    let written = m.as_str().trim_end();
    // `DATABASES = ` (the written `{` opens the SQLite default below).
    let assign = &written[..written.len() - 1];
    let replace = format!(
        "{DATABASE_FROM_URL}\n\n\n{assign}_autodeploy_database({}) or {{",
        super::env_get("DATABASE_URL", "None"),
    );
    web.env_var("DATABASE_URL", true, f, line);
    web.finding(
        "django_database_from_url",
        Severity::Info,
        Some(f),
        Some(line),
        format!("{f}:{line}: DATABASES writes SQLite only, so a database server the deployment provides would go unused; the deployment's copy reads a PostgreSQL DATABASE_URL first (SQLite when it is unset) — make the same change to keep them in step"),
        Some(autodeploy_core::SourceFix {
            file: f.to_string(),
            line,
            find: written.to_string(),
            replace,
        }),
    );
    true
}

/// The function the copy's settings take `DATABASE_URL` apart with.
const DATABASE_FROM_URL: &str = r#"def _autodeploy_database(url):
    # Added by autodeploy: DATABASE_URL (PostgreSQL), when set, is the database.
    if not url:
        return None
    from urllib.parse import parse_qsl, unquote, urlsplit

    u = urlsplit(url)
    if not u.scheme.startswith("postgres"):
        raise RuntimeError("DATABASE_URL must be a postgres:// URL")
    return {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(u.path.lstrip("/")),
            "USER": unquote(u.username or ""),
            "PASSWORD": unquote(u.password or ""),
            "HOST": u.hostname or "",
            "PORT": str(u.port or ""),
            "OPTIONS": dict(parse_qsl(u.query)),
        }
    }"#;

/// `env = DJANGO_SETTINGS_MODULE=…` in the project's uwsgi.ini (its folder
/// or the repository root's): the settings module its production server
/// runs, when that module exists. The deployment sets it (the variable is
/// required, with that module as its value).
static UWSGI_SETTINGS_ENV: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?m)^\s*env\s*=\s*DJANGO_SETTINGS_MODULE=([\w.]+)\s*$"));

fn production_settings(
    ctx: &Ctx,
    root: &str,
    module_file: &dyn Fn(&str) -> String,
    web: &mut Draft,
) -> Option<String> {
    let (file, text) = [root, ""]
        .iter()
        .find_map(|d| ctx.read(d, "uwsgi.ini").map(|t| (join(d, "uwsgi.ini"), t)))?;
    let c = UWSGI_SETTINGS_ENV.captures(&text)?;
    let module = c[1].to_string();
    if !ctx.index().contains(&module_file(&module)) {
        return None;
    }
    let line = crate::scan::line_of(&text, c.get(0).map_or(0, |m| m.start()));
    web.env_var("DJANGO_SETTINGS_MODULE", false, &file, line);
    if let Some(v) = web
        .env
        .iter_mut()
        .find(|e| e.name == "DJANGO_SETTINGS_MODULE")
    {
        v.required = true;
        v.example = Some(module.clone());
    }
    web.note(
        "settings_module",
        ev(
            &file,
            Some(line),
            format!("the production server's settings module: {module}"),
        ),
    );
    Some(module)
}

/// Folders the settings put outside the project (`STATIC_ROOT =
/// '/vol/web/static'`): the deployment's copy keeps them inside, beside the
/// settings file, where its account may write (`collectstatic` makes the
/// folder; uploads under MEDIA_ROOT are kept across redeploys with the rest
/// of what the app writes). `/tmp` is writable by anyone and left alone.
fn outside_folders(f: &str, text: &str, web: &mut Draft) {
    for c in OUTSIDE_FOLDER.captures_iter(text) {
        let (Some(name), Some(literal), Some(path)) = (c.get(1), c.get(2), c.get(4)) else {
            continue;
        };
        let path = path.as_str().trim_end_matches('/');
        if path.is_empty() || path == "tmp" || path.starts_with("tmp/") || path.contains("..") {
            continue;
        }
        let line = crate::scan::line_of(text, literal.start());
        let name = name.as_str();
        web.finding(
            "django_folder_outside_project",
            Severity::Warning,
            Some(f),
            Some(line),
            format!(
                "{f}:{line}: {name} is /{path}, a folder outside the project that only the project's own container makes; the deployment's copy keeps it inside the project ({path}/ beside {f}), where its account may write"
            ),
            Some(autodeploy_core::SourceFix {
                file: f.to_string(),
                line,
                find: literal.as_str().to_string(),
                replace: format!(
                    "__import__(\"os\").path.join(__import__(\"os\").path.dirname(__import__(\"os\").path.abspath(__file__)), \"{path}\")"
                ),
            }),
        );
    }
}
