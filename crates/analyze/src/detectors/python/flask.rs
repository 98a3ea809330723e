//! Flask's conventions the generic code scan does not cover:
//!
//! - the app the `flask` command line loads (`FLASK_APP`): Flask-Migrate's
//!   release step runs it, and so does a project's own CLI built on
//!   `FlaskGroup(app)` without `create_app=` (`python manage.py run`), which
//!   finds the app only through `FLASK_APP` (or a `wsgi.py`/`app.py` beside
//!   it, or a `.flaskenv`);
//! - `SERVER_NAME` read with `os.environ[…]` in a configuration class: the
//!   class body runs at import, so an unset variable stops every process
//!   (`KeyError`) — and a set one makes Flask answer only requests for that
//!   exact host:port, so the deployment's copy reads it with `.get` and
//!   leaves it unset.
//!
//! - tables for Flask-SQLAlchemy models when the project commits no
//!   migrations: the release step creates them ([`create_all_release`]).
//!
//! Not here: the start command (`super::infer_start`), databases and env
//! names (the code scan), the migrations release (`super::migrations_release`,
//! which asks [`cli_app`] what to load).

use super::code::AppHit;
use super::{factory_call, module_of, rel_to};
use crate::ctx::Ctx;
use crate::draft::{ev, Draft};
use crate::scan::{line_of, regex};
use autodeploy_core::{Severity, SourceFix};
use regex::Regex;
use std::sync::{Arc, LazyLock};

/// `SERVER_NAME = os.environ['NAME']` (group 1 the read, 3 the variable).
static SERVER_NAME_INDEX: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"(?m)^[ \t]*SERVER_NAME[ \t]*=[ \t]*(os\.environ\[[ \t]*(["'])([A-Za-z_][A-Za-z0-9_]*)["'][ \t]*\])[ \t]*(?:#.*)?$"#,
    )
});

/// `FlaskGroup(…)` (group 1 the arguments up to the first `)`).
static FLASK_GROUP: LazyLock<Regex> = LazyLock::new(|| regex(r"\bFlaskGroup\s*\(([^)]*)\)"));

/// The app as the `flask` command should load it (`FLASK_APP`), relative to
/// the service folder `dir`. A module-level `app = create_app(…)`
/// (flasky.py, manage.py, wsgi.py) is the app as the project runs it: the
/// factory itself may need arguments (`create_app(config_name)`) the
/// command would not give. A path, not a module: Flask 0.12 takes a path or
/// a module, and `path:name` works from 1.0 on; an `app` variable is found
/// by name on every version.
pub(super) fn cli_app(ctx: &Ctx, dir: &str, sources: &[&str], hit: &AppHit) -> String {
    match factory_call(ctx, sources, "create_app") {
        Some((file, name)) => {
            let rel = rel_to(dir, &file);
            if name == "app" {
                rel
            } else {
                format!("{rel}:{name}")
            }
        }
        None => {
            let rel = rel_to(dir, &hit.file);
            rel.strip_suffix("/__init__.py").unwrap_or(&rel).to_string()
        }
    }
}

/// Apply Flask's conventions to the Flask service `web` in `dir`.
pub(super) fn apply(ctx: &Ctx, dir: &str, web: &mut Draft, hit: Option<&AppHit>, sources: &[&str]) {
    let texts: Vec<(&str, Arc<str>)> = sources
        .iter()
        .filter_map(|f| ctx.read_path(f).map(|t| (*f, t)))
        .collect();
    server_name(web, &texts);
    fixed_secret_key(web, &texts);
    prefixed_config(web, &texts);
    if let Some(hit) = hit {
        cli_needs_app(ctx, dir, web, hit, sources, &texts);
    }
}

/// `app.config.from_prefixed_env()` (Flask 2.2+, prefix `FLASK` unless
/// given) or a project's own loader of prefixed variables into the config
/// (flaskbb's `app_config_from_env(app, prefix="FLASKBB_")`): group 1 a
/// Flask prefix (joined with `_`), group 2 a loader's own (used as written).
static PREFIXED_CONFIG: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"\.from_prefixed_env\(\s*(?:prefix\s*=\s*)?(?:["']([A-Za-z][A-Za-z0-9_]*)["'])?|def\s+\w*config\w*env\w*\([^)]*prefix\s*=\s*["']([A-Z][A-Z0-9_]*)["']"#,
    )
});

/// Config keys the deployment sets through a prefixed loader: the
/// database URL Flask-SQLAlchemy reads and the session signing key.
const PREFIXED_KEYS: &[&str] = &["SQLALCHEMY_DATABASE_URI", "SECRET_KEY"];

/// An app that loads prefixed environment variables into its config reads
/// `PREFIX_SQLALCHEMY_DATABASE_URI` and `PREFIX_SECRET_KEY` — the settings a
/// deployment gives (flaskbb reads no `DATABASE_URL`: a PostgreSQL was
/// refused as unusable, with advice the app would ignore). Listed as
/// optional settings of those names.
fn prefixed_config(web: &mut Draft, texts: &[(&str, Arc<str>)]) {
    for (file, text) in texts {
        let Some(c) = PREFIXED_CONFIG.captures(text) else {
            continue;
        };
        let prefix = match (c.get(1), c.get(2)) {
            (_, Some(own)) => own.as_str().to_string(),
            (Some(flask), None) => format!("{}_", flask.as_str()),
            (None, None) => "FLASK_".to_string(),
        };
        let line = crate::scan::line_of(text, c.get(0).map_or(0, |m| m.start()));
        for key in PREFIXED_KEYS {
            web.env_var(&format!("{prefix}{key}"), true, file, line);
        }
        return;
    }
}

/// `SECRET_KEY = "dev"` (an assignment, a class attribute or a keyword of
/// `app.config.from_mapping`): group 1 the literal.
static FIXED_SECRET_KEY: LazyLock<Regex> = LazyLock::new(|| {
    regex(r#"(?m)^[ \t]*SECRET_KEY\s*=\s*('[^'\n\\]*'|"[^"\n\\]*")\s*,?\s*(?:#.*)?$"#)
});

/// A Flask secret key written in the repository (the tutorial's
/// `SECRET_KEY="dev"`, flaskr-tdd's `"change_me"`): anyone can sign the
/// session cookie of a deployment that uses it (a forged cookie logged in
/// as user 1). The deployment's copy reads it from `SECRET_KEY` with the
/// written value as its default, and the deployment generates one. A file
/// that reads `SECRET_KEY` from the environment already is left alone, and
/// so are tests.
fn fixed_secret_key(web: &mut Draft, texts: &[(&str, Arc<str>)]) {
    for (file, text) in texts {
        if !text.contains("SECRET_KEY")
            || crate::repo::file_name(file).starts_with("test")
            || file.split('/').any(|p| p == "tests" || p == "test")
        {
            continue;
        }
        let reads = [
            "environ.get(\"SECRET_KEY\"",
            "environ.get('SECRET_KEY'",
            "getenv(\"SECRET_KEY\"",
            "getenv('SECRET_KEY'",
            "environ[\"SECRET_KEY\"]",
            "environ['SECRET_KEY']",
        ];
        if reads.iter().any(|r| text.contains(r)) {
            continue;
        }
        for c in FIXED_SECRET_KEY.captures_iter(text) {
            let Some(lit) = c.get(1) else { continue };
            let line = line_of(text, lit.start());
            super::read_from_env(
                web,
                super::FromEnv {
                    kind: "flask_secret_key_in_repository",
                    var: "SECRET_KEY",
                    secret: true,
                    file,
                    line,
                    find: lit.as_str(),
                    replace: super::env_get("SECRET_KEY", lit.as_str()),
                    message: format!("{file}:{line}: SECRET_KEY is written in the repository ({}), so anyone can sign the session cookie of a deployment that uses it; the deployment's copy reads it from SECRET_KEY (default the written one), which the deployment sets to a generated key — make the same change", lit.as_str()),
                },
            );
        }
    }
}

/// `SERVER_NAME = os.environ['SERVER_NAME']`: the copy reads it with `.get`.
fn server_name(web: &mut Draft, texts: &[(&str, Arc<str>)]) {
    for (file, text) in texts {
        if !text.contains("SERVER_NAME") {
            continue;
        }
        for c in SERVER_NAME_INDEX.captures_iter(text) {
            let read = c.get(1).expect("group 1");
            let (quote, name) = (&c[2], &c[3]);
            let line = line_of(text, read.start());
            web.finding(
                "server_name_required",
                Severity::Warning,
                Some(file),
                Some(line),
                format!(
                    "{file}:{line} sets Flask's SERVER_NAME from {name} with no default: the module fails to import without it (KeyError), and with it Flask answers only requests for that exact host:port, so health checks sent to the instance's address get 404; the deployment's copy reads it with os.environ.get (unset: Flask answers every host; your repository is not changed) — to pin the public host anyway, pass `deploy --env {name}=HOST`"
                ),
                Some(SourceFix {
                    file: file.to_string(),
                    line,
                    find: read.as_str().to_string(),
                    replace: format!("os.environ.get({quote}{name}{quote})"),
                }),
            );
            if let Some(v) = web.env.iter_mut().find(|v| v.name == name) {
                v.required = false;
            }
        }
    }
}

/// A project CLI built on `FlaskGroup(app)` with no `create_app=` finds the
/// app only through `FLASK_APP` (or `wsgi.py`/`app.py` in the folder it runs
/// in, or a `.flaskenv`). When none of those exist, `FLASK_APP` is a setting
/// the service needs, with the app's path as its value.
fn cli_needs_app(
    ctx: &Ctx,
    dir: &str,
    web: &mut Draft,
    hit: &AppHit,
    sources: &[&str],
    texts: &[(&str, Arc<str>)],
) {
    if ["wsgi.py", "app.py", ".flaskenv"]
        .iter()
        .any(|f| ctx.has(dir, f))
    {
        return;
    }
    let Some((file, line)) = texts.iter().find_map(|(f, t)| {
        let c = FLASK_GROUP.captures(t)?;
        let args = &c[1];
        let at = c.get(0).map_or(0, |g| g.start());
        (!args.contains("create_app")).then(|| (*f, line_of(t, at)))
    }) else {
        return;
    };
    let app = cli_app(ctx, dir, sources, hit);
    web.env_var("FLASK_APP", false, file, line);
    if let Some(v) = web.env.iter_mut().find(|v| v.name == "FLASK_APP") {
        if v.example.is_none() {
            v.example = Some(app);
        }
        v.required = true;
        v.file = Some(file.to_string());
        v.line = Some(line);
    }
}

/// The evidence note of the `db.create_all()` release: resolve drops its
/// finding when the project's own release step replaces it.
pub(crate) const CREATE_ALL_NOTE: &str =
    "Flask-SQLAlchemy models and no migrations: db.create_all()";

/// `app = Flask(…)` at module level (group 1 the name).
static FLASK_INSTANCE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?m)^(\w+)\s*=\s*(?:flask\.)?Flask\s*\("));

/// `def create_app(…` at module level: the app factory.
static FACTORY_DEF: LazyLock<Regex> = LazyLock::new(|| regex(r"(?m)^def\s+create_app\s*\("));

/// `db = SQLAlchemy(…)` at module level (group 1 the name).
static SQLALCHEMY_INSTANCE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?m)^(\w+)\s*=\s*(?:flask_sqlalchemy\.)?SQLAlchemy\s*\("));

/// A Flask-SQLAlchemy app with models and no migrations committed (no
/// `migrations/`, no Alembic): nothing creates its tables, and the README
/// tells a new user to run `flask db init/migrate/upgrade` or
/// `db.create_all()` by hand. The release step does the latter with the
/// app's module-level instance (`db.create_all()` creates the tables that
/// are missing and never alters or drops one, so it is safe on every
/// release); when it fails, the release and the deploy fail with its error.
pub(super) fn create_all_release(
    ctx: &Ctx,
    dir: &str,
    runner: &str,
    web: &mut Draft,
    sources: &[&str],
) {
    // The app: a module-level instance (`app = create_app()`, `app =
    // Flask(…)`), else the factory itself, called here (`def create_app(`,
    // served as `pkg:create_app()`).
    let mut factory_only = false;
    let Some((app_file, app_name)) = factory_call(ctx, sources, "create_app")
        .or_else(|| {
            sources.iter().find_map(|f| {
                let t = ctx.read_path(f)?;
                let c = FLASK_INSTANCE.captures(&t)?;
                Some((f.to_string(), c[1].to_string()))
            })
        })
        .or_else(|| {
            let f = sources
                .iter()
                .find(|f| ctx.read_path(f).is_some_and(|t| FACTORY_DEF.is_match(&t)))?;
            factory_only = true;
            Some((f.to_string(), "create_app".to_string()))
        })
    else {
        return;
    };
    let Some((db_file, db_name, line)) = sources.iter().find_map(|f| {
        let t = ctx.read_path(f)?;
        let c = SQLALCHEMY_INSTANCE.captures(&t)?;
        let at = c.get(0).map_or(0, |g| g.start());
        Some((f.to_string(), c[1].to_string(), line_of(&t, at)))
    }) else {
        return;
    };
    let model = format!("{db_name}.Model");
    if !sources
        .iter()
        .any(|f| ctx.read_path(f).is_some_and(|t| t.contains(&model)))
    {
        return;
    }
    let (app_module, app_dir) = module_of(ctx, dir, &app_file);
    let (db_module, db_dir) = module_of(ctx, dir, &db_file);
    if app_dir.is_some() || db_dir.is_some() {
        return;
    }
    let import = |module: &str, name: &str, alias: &str| {
        if name == alias {
            format!("from {module} import {name}")
        } else {
            format!("from {module} import {name} as {alias}")
        }
    };
    // When the tables cannot be created (a driver missing, a schema the
    // database refuses) the release fails and the deploy with it, saying
    // why: an app without its tables answers 500 on every page that reads
    // them, while its health check may still pass.
    let app = if factory_only {
        format!(
            "{}; app = create_app()",
            import(&app_module, "create_app", "create_app")
        )
    } else {
        import(&app_module, &app_name, "app")
    };
    web.release = Some(format!(
        "{runner}python -c \"{app}; {}; app.app_context().push(); db.create_all()\"",
        import(&db_module, &db_name, "db"),
    ));
    web.note("release", ev(&db_file, Some(line), CREATE_ALL_NOTE));
    web.finding(
        "tables_without_migrations",
        Severity::Info,
        Some(&db_file),
        Some(line),
        format!(
            "the project commits no migrations for its Flask-SQLAlchemy models ({db_file}:{line}): the release step creates the missing tables with db.create_all(), which never alters an existing table — a model change later needs migrations (`flask db init`, then `flask db migrate` and commit `migrations/`)"
        ),
        None,
    );
}

/// A Flask CLI command with an explicit name: `@app.cli.command("init-db")`,
/// `@bp.cli.command(name="initdb")`, or a click command
/// (`@click.command("init-db")`) added with `app.cli.add_command`.
static CLI_COMMAND: LazyLock<Regex> = LazyLock::new(|| {
    regex(r#"@\s*(\w+\.cli\.|click\.)?command\(\s*(?:name\s*=\s*)?["']([\w:.-]+)["']"#)
});
/// `@app.cli.command()` over `def init_db():` — click names it after the
/// function, underscores as dashes.
static CLI_COMMAND_BY_DEF: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"@\s*\w+\.cli\.command\(\s*\)[^\n]*\n(?:\s*@[^\n]*\n)*\s*def\s+(\w+)\s*\(")
});

/// The project's own command that creates the database from nothing (the
/// Flask tutorial's `flask init-db`, which runs `schema.sql`'s `DROP TABLE`s
/// and `CREATE TABLE`s) as the first deploy's `init`, when nothing else
/// makes the tables (no migrations, no `create_all`).
pub(super) fn init_command(
    ctx: &Ctx,
    dir: &str,
    runner: &str,
    web: &mut Draft,
    sources: &[&str],
    hit: &AppHit,
) {
    if web.release.is_some() || web.init.is_some() {
        return;
    }
    let added = sources.iter().any(|f| {
        ctx.read_path(f)
            .is_some_and(|t| t.contains(".cli.add_command("))
    });
    let found = sources.iter().find_map(|f| {
        let t = ctx.read_path(f)?;
        let named = CLI_COMMAND.captures_iter(&t).find_map(|c| {
            let flask_cli = c.get(1).is_some_and(|g| g.as_str().ends_with(".cli."));
            let name = c.get(2)?.as_str();
            ((flask_cli || added) && crate::release::is_database_init_name(name))
                .then(|| (name.to_string(), c.get(0).map_or(0, |g| g.start())))
        });
        let by_def = || {
            CLI_COMMAND_BY_DEF.captures_iter(&t).find_map(|c| {
                let name = c.get(1)?.as_str().replace('_', "-");
                crate::release::is_database_init_name(&name)
                    .then(|| (name, c.get(0).map_or(0, |g| g.start())))
            })
        };
        let (name, at) = named.or_else(by_def)?;
        Some((f.to_string(), name, line_of(&t, at)))
    });
    let Some((file, name, line)) = found else {
        return;
    };
    let app = cli_app(ctx, dir, sources, hit);
    let cmd = format!("FLASK_APP={app} {runner}flask {name}");
    web.init = Some(cmd.clone());
    web.note(
        "init",
        ev(
            &file,
            Some(line),
            format!("the Flask command `{name}` creates the database"),
        ),
    );
    web.finding(
        "database_init_command",
        Severity::Info,
        Some(&file),
        Some(line),
        format!(
            "the database is created by the project's command `flask {name}` ({file}:{line}), and nothing else makes its tables (no migrations): it runs once, on the deployment's first deploy (`{cmd}`), never on a redeploy, because such a command usually drops what is there"
        ),
        None,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::MemRepo;
    use autodeploy_core::{Language, ServiceKind};

    /// A factory-only app (`def create_app():`, served as
    /// `pkg:create_app()`) gets its tables created through the factory.
    #[test]
    fn a_factory_only_app_gets_its_tables_through_the_factory() {
        let init = "from flask import Flask\nfrom todo.extensions import db\n\ndef create_app(config_name=None):\n    app = Flask(__name__)\n    db.init_app(app)\n    return app\n";
        let ext = "from flask_sqlalchemy import SQLAlchemy\ndb = SQLAlchemy()\n";
        let models = "from todo.extensions import db\nclass Item(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n";
        let files = [
            ("todo/__init__.py", init),
            ("todo/extensions.py", ext),
            ("todo/models.py", models),
        ];
        let repo = MemRepo::new(files.iter().copied());
        let ctx = Ctx::new(&repo);
        let mut d = Draft::new("", Language::Python, ServiceKind::Web);
        let sources: Vec<&str> = files.iter().map(|(p, _)| *p).collect();
        create_all_release(&ctx, "", "", &mut d, &sources);
        let release = d.release.expect("a release step");
        assert!(
            release.starts_with("python -c \"from todo import create_app; app = create_app(); from todo.extensions import db; app.app_context().push(); db.create_all()\""),
            "{release}"
        );
    }
}
