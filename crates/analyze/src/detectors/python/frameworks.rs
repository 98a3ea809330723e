//! The Python framework table: one row per web framework or worker library —
//! the dependency that signals it, the pattern that finds its app object in
//! code, its default port and its production start command — plus the
//! dependency → database table.
//!
//! Adding a framework = one row here (plus a fixture). Django's conventions
//! (settings, wsgi module, migrations) live in `django.rs`; everything that
//! reads code lives in `code.rs`.

use crate::scan::regex;
use autodeploy_core::{Database, ServiceKind};
use regex::Regex;
use std::sync::OnceLock;

/// Production servers, and the dependency that provides them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Server {
    Gunicorn,
    Waitress,
    Uwsgi,
    Uvicorn,
    Hypercorn,
    Daphne,
    /// The framework's own CLI or `python file.py`.
    Own,
}

impl Server {
    pub fn dep(self) -> Option<&'static str> {
        match self {
            Server::Gunicorn => Some("gunicorn"),
            Server::Waitress => Some("waitress"),
            Server::Uwsgi => Some("uwsgi"),
            Server::Uvicorn => Some("uvicorn"),
            Server::Hypercorn => Some("hypercorn"),
            Server::Daphne => Some("daphne"),
            Server::Own => None,
        }
    }

    /// Servers that can run the same kind of app (WSGI or ASGI), the preferred first.
    /// A project that declares one of them gets that one.
    pub fn family(self) -> &'static [Server] {
        match self {
            Server::Gunicorn | Server::Waitress | Server::Uwsgi => {
                &[Server::Gunicorn, Server::Waitress, Server::Uwsgi]
            }
            Server::Uvicorn | Server::Daphne => {
                &[Server::Uvicorn, Server::Hypercorn, Server::Daphne]
            }
            Server::Hypercorn => &[Server::Hypercorn, Server::Uvicorn],
            Server::Own => &[],
        }
    }
}

/// One web framework or worker library.
pub(super) struct Framework {
    pub name: &'static str,
    /// Dependency names (normalised: lowercase, `-`) that signal it.
    pub deps: &'static [&'static str],
    /// Top-level module an `import` names.
    pub import: &'static str,
    pub kind: ServiceKind,
    pub default_port: u16,
    /// Finds the app object; group 1 is its variable name (absent: the file is the app).
    pub app: &'static str,
    pub server: Server,
    /// Start command: `{target}` (server-specific `module:object`), `{module}`,
    /// `{object}`, `{file}`, `{PORT}`.
    pub start: &'static str,
    /// The WSGI callable is an attribute of the app object (`server = app.server`
    /// for Dash); the start needs a module-level name bound to it.
    pub wsgi_attr: Option<&'static str>,
    /// Higher wins when several frameworks have an app object in the code.
    pub rank: u8,
}

impl Framework {
    pub fn declared_in(&self, has: impl Fn(&str) -> bool) -> bool {
        self.deps.iter().any(|d| has(d))
    }
}

/// `gunicorn --bind 0.0.0.0:{PORT} {target}` with `{target}` = `module:object`.
const GUNICORN: &str = "gunicorn --bind 0.0.0.0:{PORT} {target}";
const UVICORN: &str = "uvicorn {target} --host 0.0.0.0 --port {PORT}";

pub(super) const FRAMEWORKS: &[Framework] = &[
    Framework {
        name: "django",
        deps: &["django"],
        import: "django",
        kind: ServiceKind::Web,
        default_port: 8000,
        app: r"\bget_(?:wsgi|asgi)_application\s*\(",
        server: Server::Gunicorn,
        start: GUNICORN,
        wsgi_attr: None,
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
        start: UVICORN,
        wsgi_attr: None,
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
        start: GUNICORN,
        wsgi_attr: None,
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
        start: "hypercorn {target} --bind 0.0.0.0:{PORT}",
        wsgi_attr: None,
        rank: 8,
    },
    Framework {
        name: "dash",
        deps: &["dash"],
        import: "dash",
        kind: ServiceKind::Web,
        default_port: 8050,
        app: r"(?m)^[ \t]*(\w+)\s*=\s*(?:dash\.)?Dash\s*\(",
        server: Server::Gunicorn,
        start: GUNICORN,
        wsgi_attr: Some("server"),
        rank: 7,
    },
    Framework {
        name: "litestar",
        deps: &["litestar"],
        import: "litestar",
        kind: ServiceKind::Web,
        default_port: 8000,
        app: r"(?m)^[ \t]*(\w+)\s*=\s*Litestar\s*\(",
        server: Server::Uvicorn,
        start: UVICORN,
        wsgi_attr: None,
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
        wsgi_attr: None,
        rank: 7,
    },
    Framework {
        name: "falcon",
        deps: &["falcon"],
        import: "falcon",
        kind: ServiceKind::Web,
        default_port: 8000,
        app: r"(?m)^[ \t]*(\w+)\s*=\s*falcon\.(?:App|API)\s*\(",
        server: Server::Gunicorn,
        start: GUNICORN,
        wsgi_attr: None,
        rank: 6,
    },
    Framework {
        name: "bottle",
        deps: &["bottle"],
        import: "bottle",
        kind: ServiceKind::Web,
        default_port: 8080,
        app: r"(?m)^[ \t]*(\w+)\s*=\s*(?:bottle\.)?Bottle\s*\(",
        server: Server::Gunicorn,
        start: GUNICORN,
        wsgi_attr: None,
        rank: 6,
    },
    Framework {
        name: "starlette",
        deps: &["starlette"],
        import: "starlette",
        kind: ServiceKind::Web,
        default_port: 8000,
        app: r"(?m)^[ \t]*(\w+)\s*=\s*Starlette\s*\(",
        server: Server::Uvicorn,
        start: UVICORN,
        wsgi_attr: None,
        rank: 6,
    },
    Framework {
        name: "tornado",
        deps: &["tornado"],
        import: "tornado",
        kind: ServiceKind::Web,
        default_port: 8888,
        app: r"\.listen\s*\(",
        server: Server::Own,
        start: "python {file}",
        wsgi_attr: None,
        rank: 5,
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
        wsgi_attr: None,
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
        wsgi_attr: None,
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
        // `launch()` binds 127.0.0.1 unless told otherwise; these variables tell it.
        start: "GRADIO_SERVER_NAME=0.0.0.0 GRADIO_SERVER_PORT={PORT} python {file}",
        wsgi_attr: None,
        rank: 3,
    },
    Framework {
        name: "celery",
        deps: &["celery"],
        import: "celery",
        kind: ServiceKind::Worker,
        default_port: 0,
        app: r"(?m)^[ \t]*(\w+)\s*=\s*(?:celery\.)?Celery\s*\(",
        server: Server::Own,
        start: "celery -A {module} worker --loglevel=info",
        wsgi_attr: None,
        rank: 2,
    },
    Framework {
        name: "dramatiq",
        deps: &["dramatiq"],
        import: "dramatiq",
        kind: ServiceKind::Worker,
        default_port: 0,
        app: r"@dramatiq\.actor\b",
        server: Server::Own,
        start: "dramatiq {module}",
        wsgi_attr: None,
        rank: 2,
    },
    Framework {
        name: "arq",
        deps: &["arq"],
        import: "arq",
        kind: ServiceKind::Worker,
        default_port: 0,
        app: r"(?m)^class\s+(WorkerSettings)\b",
        server: Server::Own,
        start: "arq {module}.{object}",
        wsgi_attr: None,
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
        wsgi_attr: None,
        rank: 1,
    },
];

/// The compiled [`Framework::app`] pattern of `FRAMEWORKS[i]`, compiled the
/// first time it is needed: a project is asked only about the frameworks it
/// declares or imports, so most rows are never compiled.
pub(super) fn app_pattern(i: usize) -> &'static Regex {
    static COMPILED: [OnceLock<Regex>; FRAMEWORKS.len()] =
        [const { OnceLock::new() }; FRAMEWORKS.len()];
    COMPILED[i].get_or_init(|| regex(FRAMEWORKS[i].app))
}

/// Declared dependency → database or cache.
pub(super) const DB_DEPS: &[(&str, Database)] = &[
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
    ("flask-mongoengine", Database::Mongodb),
    ("djongo", Database::Mongodb),
    ("redis", Database::Redis),
    ("aioredis", Database::Redis),
    ("django-redis", Database::Redis),
    ("hiredis", Database::Redis),
    ("rq", Database::Redis),
    ("arq", Database::Redis),
    ("aiosqlite", Database::Sqlite),
];

/// Libraries whose extras name a database (`celery[redis]`, `dramatiq[redis]`).
pub(super) const EXTRAS_WITH_DB: &[&str] = &["celery", "kombu", "dramatiq", "sqlalchemy"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_compile_and_find_app_objects() {
        let find = |name: &str, code: &str| -> Option<Option<String>> {
            let i = FRAMEWORKS.iter().position(|f| f.name == name)?;
            app_pattern(i)
                .captures(code)
                .map(|c| c.get(1).map(|m| m.as_str().to_string()))
        };
        assert_eq!(
            find("fastapi", "app: FastAPI = FastAPI(title='x')"),
            Some(Some("app".into()))
        );
        assert_eq!(
            find("flask", "application = flask.Flask(__name__)"),
            Some(Some("application".into()))
        );
        assert_eq!(
            find("dash", "app = dash.Dash(__name__)"),
            Some(Some("app".into()))
        );
        assert_eq!(find("flask", "# Flask(__name__) in a comment"), None);
        assert_eq!(
            find("celery", "celery_app = Celery('tasks')"),
            Some(Some("celery_app".into()))
        );
    }
}
