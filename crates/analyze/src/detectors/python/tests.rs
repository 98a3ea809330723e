//! Detector-level tests over in-memory repositories: the situations that are
//! easy to get wrong and too small to deserve a fixture.

use super::*;
use crate::repo::MemRepo;

fn detect(files: &[(&str, &str)], dir: &str) -> Vec<Draft> {
    let repo = MemRepo::new(files.iter().map(|(p, c)| (p.to_string(), c.to_string())));
    let ctx = Ctx::new(&repo);
    Python.detect(&ctx, dir)
}

fn start(d: &Draft) -> Option<&str> {
    d.starts.first().map(|c| c.value.as_str())
}

fn kinds(d: &Draft) -> Vec<&str> {
    let mut k: Vec<&str> = d.findings.iter().map(|f| f.kind.as_str()).collect();
    k.sort_unstable();
    k.dedup();
    k
}

#[test]
fn flask_factory_without_module_level_app_is_called_by_gunicorn() {
    let d = detect(
        &[
            ("requirements.txt", "flask==3.0.3\ngunicorn==22.0.0\n"),
            (
                "shop/__init__.py",
                "from flask import Flask\n\ndef create_app():\n    app = Flask(__name__)\n    return app\n",
            ),
        ],
        "",
    );
    assert_eq!(
        start(&d[0]),
        Some("gunicorn --bind 0.0.0.0:{PORT} 'shop:create_app()'")
    );
}

#[test]
fn module_level_factory_call_is_preferred() {
    let d = detect(
        &[
            ("requirements.txt", "fastapi==0.111.0\nuvicorn==0.30.1\n"),
            (
                "api/factory.py",
                "from fastapi import FastAPI\n\ndef build() -> FastAPI:\n    app = FastAPI()\n    return app\n",
            ),
            ("api/main.py", "from api.factory import build\n\napp = build()\n"),
        ],
        "",
    );
    assert_eq!(
        start(&d[0]),
        Some("uvicorn api.main:app --host 0.0.0.0 --port {PORT}")
    );
    let d = detect(
        &[
            ("requirements.txt", "fastapi==0.111.0\nuvicorn==0.30.1\n"),
            (
                "main.py",
                "from fastapi import FastAPI\n\ndef create_app():\n    app = FastAPI()\n    return app\n",
            ),
        ],
        "",
    );
    assert_eq!(
        start(&d[0]),
        Some("uvicorn main:create_app --factory --host 0.0.0.0 --port {PORT}")
    );
}

#[test]
fn module_paths_for_odd_folders() {
    let repo = MemRepo::new([
        ("src/pkg/main.py", ""),
        ("my-app/server.py", ""),
        ("lib/src/__init__.py", ""),
        ("lib/src/app.py", ""),
    ]);
    let ctx = Ctx::new(&repo);
    assert_eq!(
        module_of(&ctx, "", "src/pkg/main.py"),
        ("pkg.main".into(), Some("src".into()))
    );
    assert_eq!(
        module_of(&ctx, "", "my-app/server.py"),
        ("server".into(), Some("my-app".into()))
    );
    assert_eq!(
        module_of(&ctx, "lib", "lib/src/app.py"),
        ("src.app".into(), None)
    );
    assert_eq!(module_of(&ctx, "", "pkg/__init__.py"), ("pkg".into(), None));
}

#[test]
fn dev_server_in_procfile_is_reported_with_the_production_command() {
    let d = detect(
        &[
            ("requirements.txt", "flask==3.0.3\ngunicorn==22.0.0\n"),
            ("app.py", "from flask import Flask\napp = Flask(__name__)\n"),
            ("Procfile", "web: flask run --host=0.0.0.0 --port=$PORT\n"),
        ],
        "",
    );
    let f = d[0]
        .findings
        .iter()
        .find(|f| f.kind == "dev_server_start")
        .expect("dev_server_start");
    assert_eq!(f.file.as_deref(), Some("Procfile"));
    assert!(f.message.contains("gunicorn --bind 0.0.0.0:$PORT app:app"));

    let d = detect(
        &[
            ("requirements.txt", "django>=5.0\n"),
            (
                "manage.py",
                "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site.settings')\n",
            ),
            (
                "site/settings.py",
                "STATIC_ROOT = 'static'\nALLOWED_HOSTS = []\n",
            ),
            ("site/wsgi.py", "application = get_wsgi_application()\n"),
            (
                "Dockerfile",
                "FROM python:3.12\nCMD python manage.py runserver 0.0.0.0:8000\n",
            ),
        ],
        "",
    );
    assert_eq!(
        kinds(&d[0]),
        vec![
            "dev_server_start",
            "django_fixed_allow_list",
            "missing_production_server",
            "no_lockfile"
        ]
    );
}

#[test]
fn django_in_a_subfolder_of_the_manifest() {
    let d = detect(
        &[
            ("requirements.txt", "Django==5.0.6\ngunicorn==22.0.0\n"),
            (
                "src/manage.py",
                "os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"config.settings.production\")\n",
            ),
            ("src/config/__init__.py", ""),
            ("src/config/settings/__init__.py", ""),
            ("src/config/settings/base.py", "STATIC_ROOT = BASE_DIR / 'static'\n"),
            ("src/config/settings/production.py", "from .base import *\n"),
            ("src/config/wsgi.py", "application = get_wsgi_application()\n"),
        ],
        "",
    );
    let w = &d[0];
    assert_eq!(w.framework.as_deref(), Some("django"));
    assert_eq!(
        start(w),
        Some("gunicorn --bind 0.0.0.0:{PORT} --chdir src config.wsgi:application")
    );
    assert_eq!(
        w.release.as_deref(),
        Some("python src/manage.py migrate --noinput")
    );
    assert_eq!(
        w.builds.first().map(|c| c.value.as_str()),
        Some("python src/manage.py collectstatic --noinput")
    );
    // The subfolder itself is covered by the project around it.
    assert!(detect(
        &[("requirements.txt", "django\n"), ("src/manage.py", "")],
        "src"
    )
    .is_empty());
}

/// babybuddy: its own `migrate` command (run by the release) creates
/// admin/admin when no superuser exists; one that reads the password from
/// the environment, or a command the release does not run, says nothing.
#[test]
fn a_migrate_override_that_creates_a_known_login_is_a_warning() {
    let files = |command: &'static str, body: &'static str| {
        vec![
            ("requirements.txt", "Django==5.0.6\ngunicorn==22.0.0\n"),
            (
                "manage.py",
                "os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"site.settings\")\n",
            ),
            ("site/__init__.py", ""),
            ("site/settings.py", "DEBUG = False\n"),
            ("site/wsgi.py", "application = get_wsgi_application()\n"),
            (command, body),
        ]
    };
    let known = "class Command(migrate.Command):\n    def handle(self, *a, **k):\n        super().handle(*a, **k)\n        u = get_user_model().objects.create_user(\n            \"admin\", password=\"admin\"\n        )\n";
    let d = detect(&files("babies/management/commands/migrate.py", known), "");
    let f = d[0]
        .findings
        .iter()
        .find(|f| f.kind == "release_creates_default_user")
        .unwrap_or_else(|| panic!("{:?}", kinds(&d[0])));
    assert_eq!(
        (f.file.as_deref(), f.line),
        (Some("babies/management/commands/migrate.py"), Some(4))
    );
    assert!(f.message.contains(r#"password="admin""#), "{}", f.message);
    let from_env =
        "u = User.objects.create_superuser(\"admin\", password=os.environ[\"ADMIN_PASSWORD\"])\n";
    let d = detect(
        &files("babies/management/commands/migrate.py", from_env),
        "",
    );
    assert!(!kinds(&d[0]).contains(&"release_creates_default_user"));
    let d = detect(&files("babies/management/commands/demo.py", known), "");
    assert!(!kinds(&d[0]).contains(&"release_creates_default_user"));
}

#[test]
fn scripts_workers_and_strays() {
    // A polling loop with a manifest: a worker.
    let d = detect(
        &[
            ("requirements.txt", "redis==5.0.7\n"),
            (
                "worker.py",
                "import redis\nwhile True:\n    pass\nif __name__ == '__main__':\n    main()\n",
            ),
        ],
        "",
    );
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].kind, ServiceKind::Worker);
    assert_eq!(start(&d[0]), Some("python worker.py"));
    // A helper script in a subfolder with nothing declaring it: not a service.
    let d = detect(
        &[(
            "tools/main.py",
            "import sys\nif __name__ == '__main__':\n    print(sys.argv)\n",
        )],
        "tools",
    );
    assert!(d.is_empty());
    // A stdlib-only server without a manifest: a web service with nothing to install.
    let d = detect(
        &[(
            "main.py",
            "from http.server import HTTPServer, SimpleHTTPRequestHandler\nif __name__ == '__main__':\n    HTTPServer(('', 8080), SimpleHTTPRequestHandler).serve_forever()\n",
        )],
        "",
    );
    assert_eq!(d[0].kind, ServiceKind::Web);
    assert!(d[0].install.is_none());
    assert_eq!(kinds(&d[0]), vec!["hardcoded_port"]);
    // Undeclared third-party imports: no_manifest with an inferred install.
    let d = detect(
        &[
            (
                "app.py",
                "import yaml\nimport helpers\nfrom flask import Flask\napp = Flask(__name__)\n",
            ),
            ("helpers.py", ""),
        ],
        "",
    );
    assert_eq!(d[0].framework.as_deref(), Some("flask"));
    assert_eq!(
        kinds(&d[0]),
        vec!["missing_production_server", "no_manifest"]
    );
    assert_eq!(
        d[0].install.as_deref(),
        Some("pip install flask pyyaml gunicorn")
    );
}

#[test]
fn celery_only_project_is_one_worker_and_beat() {
    let d = detect(
        &[
            ("requirements.txt", "celery[redis]==5.4.0\n"),
            (
                "proj/celery.py",
                "from celery import Celery\napp = Celery('proj')\napp.conf.beat_schedule = {}\n",
            ),
        ],
        "",
    );
    let names: Vec<Option<&str>> = d.iter().map(|d| d.name.as_deref()).collect();
    assert_eq!(names, vec![Some("worker"), Some("beat")]);
    assert_eq!(
        start(&d[0]),
        Some("celery -A proj.celery worker --loglevel=info")
    );
    assert_eq!(
        start(&d[1]),
        Some("celery -A proj.celery beat --loglevel=info")
    );
    assert!(d[0].databases.contains_key(&Database::Redis));
}

#[test]
fn dash_needs_its_server_attribute() {
    let d = detect(
        &[
            ("requirements.txt", "dash==2.17.1\ngunicorn==22.0.0\n"),
            (
                "app.py",
                "import dash\napp = dash.Dash(__name__)\nserver = app.server\n",
            ),
        ],
        "",
    );
    assert_eq!(
        start(&d[0]),
        Some("gunicorn --bind 0.0.0.0:{PORT} app:server")
    );
    let d = detect(
        &[
            ("requirements.txt", "dash==2.17.1\n"),
            (
                "app.py",
                "import dash\napp = dash.Dash(__name__)\napp.run(debug=True)\n",
            ),
        ],
        "",
    );
    assert_eq!(start(&d[0]), Some("python app.py"));
}

#[test]
fn fastapi_standard_extra_brings_uvicorn() {
    let d = detect(
        &[
            ("requirements.txt", "fastapi[standard]==0.111.0\n"),
            ("main.py", "from fastapi import FastAPI\napp = FastAPI()\n"),
        ],
        "",
    );
    assert!(!kinds(&d[0]).contains(&"missing_production_server"));
}

#[test]
fn library_without_entry_point_says_so() {
    let d = detect(
        &[
            (
                "pyproject.toml",
                "[project]\nname = \"lib\"\ndependencies = [\"requests\"]\n",
            ),
            ("lib/__init__.py", "def f():\n    return 1\n"),
        ],
        "",
    );
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].strength, 2.5);
    assert!(kinds(&d[0]).contains(&"start_not_found"));
}

#[test]
fn declared_servers_are_used() {
    let app = ("app.py", "from flask import Flask\napp = Flask(__name__)\n");
    let d = detect(
        &[("requirements.txt", "flask==3.0.3\nuwsgi==2.0.26\n"), app],
        "",
    );
    assert_eq!(
        start(&d[0]),
        Some("uwsgi --http 0.0.0.0:{PORT} --master --die-on-term --module app:app")
    );
    assert!(!kinds(&d[0]).contains(&"missing_production_server"));
    let d = detect(
        &[("requirements.txt", "flask==3.0.3\nwaitress==3.0.0\n"), app],
        "",
    );
    assert_eq!(
        start(&d[0]),
        Some("waitress-serve --listen=0.0.0.0:{PORT} app:app")
    );
    let d = detect(
        &[
            ("requirements.txt", "django==5.0\nchannels[daphne]==4.1\n"),
            (
                "manage.py",
                "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'chat.settings')\n",
            ),
            ("chat/settings.py", "STATIC_ROOT = 'static'\n"),
            ("chat/wsgi.py", "application = get_wsgi_application()\n"),
            ("chat/asgi.py", "application = ProtocolTypeRouter({})\n"),
        ],
        "",
    );
    assert_eq!(
        start(&d[0]),
        Some("daphne -b 0.0.0.0 -p {PORT} chat.asgi:application")
    );
}

#[test]
fn migrations_become_the_release_step() {
    let d = detect(
        &[
            ("requirements.txt", "flask==3.0.3\nflask-migrate==4.0.7\ngunicorn==22.0.0\n"),
            ("blog/__init__.py", "from flask import Flask\ndef create_app():\n    app = Flask(__name__)\n    return app\n"),
            ("migrations/env.py", ""),
        ],
        "",
    );
    assert_eq!(
        d[0].release.as_deref(),
        Some("FLASK_APP=blog flask db upgrade")
    );
    let d = detect(
        &[
            (
                "pyproject.toml",
                "[project]\nname='api'\ndependencies=['fastapi', 'uvicorn', 'alembic']\n",
            ),
            ("alembic.ini", "[alembic]\n"),
            (
                "app/main.py",
                "from fastapi import FastAPI\napp = FastAPI()\n",
            ),
        ],
        "",
    );
    assert_eq!(d[0].release.as_deref(), Some("alembic upgrade head"));
    let d = detect(
        &[
            (
                "requirements.txt",
                "aerich==0.7.2\nfastapi==0.109.0\ntortoise-orm==0.20.0\nuvicorn==0.26.0\n",
            ),
            (
                "pyproject.toml",
                "[tool.aerich]\ntortoise_orm = \"app.db.TORTOISE_ORM\"\nlocation = \"./migrations\"\n",
            ),
            (
                "app/main.py",
                "from fastapi import FastAPI\napp = FastAPI()\n",
            ),
        ],
        "",
    );
    assert_eq!(d[0].release.as_deref(), Some("aerich upgrade"));
}

#[test]
fn procfile_processes_are_not_inferred_twice() {
    let d = detect(
        &[
            (
                "requirements.txt",
                "django==5.0.6\ncelery==5.4.0\ngunicorn==22.0.0\n",
            ),
            (
                "manage.py",
                "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'proj.settings')\n",
            ),
            (
                "proj/settings.py",
                "STATIC_ROOT = 'static'\nCELERY_BEAT_SCHEDULE = {}\n",
            ),
            ("proj/wsgi.py", "application = get_wsgi_application()\n"),
            (
                "proj/celery_app.py",
                "from celery import Celery\napp = Celery('proj')\napp.conf.beat_schedule = {}\n",
            ),
            (
                "Procfile",
                "web: gunicorn proj.wsgi\nworker: celery -A proj.celery_app worker -l info\n",
            ),
        ],
        "",
    );
    // The Procfile's worker line is the worker; beat is still inferred.
    let names: Vec<Option<&str>> = d.iter().map(|d| d.name.as_deref()).collect();
    assert_eq!(names, vec![None, Some("beat")]);
}

/// The env var Django's `ALLOWED_HOSTS` is read from, whatever it is called
/// and whichever settings helper reads it; a fixed list is read from
/// `ALLOWED_HOSTS` by the deployment's copy (a source fix), unless it
/// allows every host already.
#[test]
fn django_allowed_hosts_env_name() {
    let hosts_env = |line: &str| {
        let d = detect(
            &[
                ("requirements.txt", "django>=5.0\ngunicorn\n"),
                (
                    "manage.py",
                    "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site.settings')\n",
                ),
                ("site/settings.py", &format!("import os\n{line}\n")),
                ("site/wsgi.py", "application = get_wsgi_application()\n"),
            ],
            "",
        );
        d[0].allowed_hosts_env.clone()
    };
    for (line, name) in [
        (
            "ALLOWED_HOSTS = os.environ.get(\"WEB_HOSTS\", \"localhost\").split(\",\")",
            Some("WEB_HOSTS"),
        ),
        (
            "ALLOWED_HOSTS = os.environ['HOSTS'].split(' ')",
            Some("HOSTS"),
        ),
        (
            "ALLOWED_HOSTS = os.getenv('SITE_HOSTS', '').split(',')",
            Some("SITE_HOSTS"),
        ),
        (
            "ALLOWED_HOSTS = env.list(\"ALLOWED_HOSTS\", default=[])",
            Some("ALLOWED_HOSTS"),
        ),
        ("ALLOWED_HOSTS = config('HOSTS', cast=Csv())", Some("HOSTS")),
        ("ALLOWED_HOSTS = [\"example.com\"]", Some("ALLOWED_HOSTS")),
        ("ALLOWED_HOSTS = [\"*\"]", None),
    ] {
        assert_eq!(hosts_env(line).as_deref(), name, "{line}");
    }
}

/// A fixed `ALLOWED_HOSTS` / `CSRF_TRUSTED_ORIGINS` list: the copy also
/// reads the setting from the environment, and the fixed text still parses
/// and keeps the project's own entries (checked by running it).
#[test]
fn django_fixed_allow_lists_are_extended_from_the_environment() {
    let settings = "import os\nALLOWED_HOSTS = ['.railway.app',\n    '127.0.0.1']\nCSRF_TRUSTED_ORIGINS = []\n";
    let d = detect(
        &[
            ("requirements.txt", "django>=5.0\ngunicorn\n"),
            (
                "manage.py",
                "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site.settings')\n",
            ),
            ("site/settings.py", settings),
            ("site/wsgi.py", "application = get_wsgi_application()\n"),
        ],
        "",
    );
    let fixes: Vec<&autodeploy_core::SourceFix> = d[0]
        .findings
        .iter()
        .filter(|f| f.kind == "django_fixed_allow_list")
        .filter_map(|f| f.fix.as_ref())
        .collect();
    assert_eq!(fixes.len(), 2, "{:?}", d[0].findings);
    let mut text = settings.to_string();
    for f in &fixes {
        text = f.apply_to(&text).expect("the fix applies");
    }
    text.push_str("print(ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS)\n");
    let out = std::process::Command::new("python3")
        .args(["-c", &text])
        .env("ALLOWED_HOSTS", "app.example.com,alb.example")
        .env("CSRF_TRUSTED_ORIGINS", "https://app.example.com")
        .output()
        .expect("python3 runs");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "['app.example.com', 'alb.example', '.railway.app', '127.0.0.1'] ['https://app.example.com']",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// No settings module named in manage.py or the WSGI module: the deployment
/// sets DJANGO_SETTINGS_MODULE to the project's (a settings package's
/// shared `base`), and the settings are read as usual.
#[test]
fn django_without_a_named_settings_module_gets_one() {
    let d = detect(
        &[
            ("requirements.txt", "django>=5.0\ngunicorn\n"),
            (
                "manage.py",
                "from django.core.management import execute_from_command_line\n",
            ),
            ("site/__init__.py", ""),
            ("site/settings/__init__.py", ""),
            (
                "site/settings/base.py",
                "import os\nALLOWED_HOSTS = os.environ.get('HOSTS', '*').split(',')\n",
            ),
            ("site/settings/development.py", "from .base import *\n"),
            ("site/wsgi.py", "application = get_wsgi_application()\n"),
        ],
        "",
    );
    let v = d[0]
        .env
        .iter()
        .find(|e| e.name == "DJANGO_SETTINGS_MODULE")
        .unwrap_or_else(|| panic!("{:?}", d[0].env));
    assert!(v.required);
    assert_eq!(v.example.as_deref(), Some("site.settings.base"));
    assert_eq!(d[0].allowed_hosts_env.as_deref(), Some("HOSTS"));
}

/// SQLAlchemy with psycopg 3 and no psycopg2: the database URL names the
/// psycopg driver (a plain `postgresql://` loads psycopg2, not installed);
/// with psycopg2 it stays plain.
#[test]
fn sqlalchemy_with_psycopg3_only_gets_its_driver_in_the_url() {
    let scheme = |requirements: &str| {
        let d = detect(
            &[
                ("requirements.txt", requirements),
                (
                    "app.py",
                    "import os\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\napp = Flask(__name__)\napp.config['SQLALCHEMY_DATABASE_URI'] = os.getenv('DATABASE_URL', 'sqlite:///x.db')\ndb = SQLAlchemy(app)\n",
                ),
            ],
            "",
        );
        d[0].wiring
            .iter()
            .find(|w| w.target == autodeploy_core::WiringTarget::Database)
            .and_then(|w| w.settings[0].values.get(&Database::Postgresql).cloned())
    };
    assert_eq!(
        scheme("flask\nflask-sqlalchemy\npsycopg[binary]\n").as_deref(),
        Some("postgresql+psycopg")
    );
    assert_eq!(scheme("flask\nflask-sqlalchemy\npsycopg2-binary\n"), None);
}

/// A module named `setup.py` inside a package (an app factory in
/// `app/core/setup.py`) is code of the project, not a nested project of its
/// own: the settings read beside it count.
#[test]
fn a_setup_module_inside_a_package_is_code_not_a_project() {
    let d = detect(
        &[
            (
                "pyproject.toml",
                "[project]\nname = \"x\"\ndependencies = [\"fastapi\"]\n",
            ),
            ("src/app/__init__.py", ""),
            ("src/app/core/__init__.py", ""),
            (
                "src/app/core/config.py",
                "import os\nSECRET = os.environ[\"SIGNING_SECRET\"]\n",
            ),
            (
                "src/app/core/setup.py",
                "from fastapi import FastAPI\ndef create_application():\n    return FastAPI()\n",
            ),
        ],
        "",
    );
    let names: Vec<&str> = d[0].env.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, vec!["SIGNING_SECRET"]);
}

/// The lines the lock file has every compiled package's wheel for, when
/// other lines lack some (`Service::wheel_lines`); nothing when every line
/// has them all or the lock lists no compiled wheel.
#[test]
fn the_lock_files_wheels_name_the_lines_it_installs_on() {
    let pyproject = "[tool.poetry]\nname = \"x\"\nversion = \"0.1.0\"\n\n[tool.poetry.dependencies]\npython = \"^3.8\"\nflask = \"^2\"\nPyYAML = \"5.4.1\"\n";
    let lock = |minors: &[u32]| {
        let files: String = minors
            .iter()
            .map(|m| {
                format!("    {{file = \"PyYAML-5.4.1-cp3{m}-cp3{m}-manylinux1_x86_64.whl\"}},\n")
            })
            .collect();
        format!("[[package]]\nname = \"pyyaml\"\nversion = \"5.4.1\"\nfiles = [\n{files}]\n")
    };
    let app = "from flask import Flask\napp = Flask(__name__)\n";
    let lines = |minors: &[u32]| {
        let lock = lock(minors);
        let d = detect(
            &[
                ("pyproject.toml", pyproject),
                ("poetry.lock", &lock),
                ("app.py", app),
            ],
            "",
        );
        d[0].wheel_lines.clone()
    };
    assert_eq!(lines(&[6, 7, 8, 9]), vec!["3.6", "3.7", "3.8", "3.9"]);
    assert!(lines(&[6, 7, 8, 9, 10, 11, 12, 13, 14]).is_empty());
}

/// hack4impact's flask-base: its Redis URL is read, taken apart with
/// `urlparse` and used by host, port and password. The URL is wired as
/// expecting `redis://` (no TLS); a URL used whole, or one whose scheme
/// the code reads, is not.
#[test]
fn a_redis_url_taken_apart_expects_the_plain_scheme() {
    let config = |body: &str| {
        format!("import os\nimport urllib.parse\n\nclass Config:\n    REDIS_URL = os.getenv('REDISTOGO_URL', 'http://localhost:6379')\n{body}")
    };
    let scheme = |body: &str| {
        let text = config(body);
        let d = detect(
            &[
                (
                    "requirements.txt",
                    "Flask==2.0\nrq==1.10\nredis==4.0\ngunicorn\n",
                ),
                ("config.py", text.as_str()),
                ("app.py", "from flask import Flask\napp = Flask(__name__)\n"),
            ],
            "",
        );
        d[0].wiring
            .iter()
            .flat_map(|w| &w.settings)
            .find(|s| s.name == "REDISTOGO_URL")
            .and_then(|s| s.values.get(&autodeploy_core::Database::Redis).cloned())
    };
    let split = "    url = urllib.parse.urlparse(REDIS_URL)\n    RQ_DEFAULT_HOST = url.hostname\n    RQ_DEFAULT_PORT = url.port\n    RQ_DEFAULT_PASSWORD = url.password\n";
    assert_eq!(scheme(split).as_deref(), Some("redis"));
    let with_scheme = format!("{split}    RQ_SSL = url.scheme == 'rediss'\n");
    assert_eq!(scheme(&with_scheme), None);
    assert_eq!(scheme("    RQ_REDIS_URL = REDIS_URL\n"), None);
}

/// django-celery splits `DJANGO_ALLOWED_HOSTS` on spaces; the deployment
/// sets a comma-separated list. The deployment's copy splits on both; a
/// list split on commas needs nothing.
#[test]
fn a_host_list_split_on_spaces_is_split_on_commas_too() {
    let fixes = |settings: &'static str| {
        let d = detect(
            &[
                ("requirements.txt", "Django==5.0.6\ngunicorn==22.0.0\n"),
                (
                    "manage.py",
                    "os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"site.settings\")\n",
                ),
                ("site/__init__.py", ""),
                ("site/settings.py", settings),
                ("site/wsgi.py", "application = get_wsgi_application()\n"),
            ],
            "",
        );
        d[0].findings
            .iter()
            .filter(|f| f.kind == "host_list_split_on_spaces")
            .filter_map(|f| f.fix.clone())
            .map(|f| (f.line, f.find, f.replace))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        fixes("import os\nALLOWED_HOSTS = os.environ.get(\"DJANGO_ALLOWED_HOSTS\").split(\" \")\n"),
        vec![(
            2,
            ".split(\" \")".to_string(),
            ".replace(\",\", \" \").split()".to_string()
        )]
    );
    assert!(fixes(
        "import os\nALLOWED_HOSTS = os.environ.get(\"DJANGO_ALLOWED_HOSTS\", \"\").split(\",\")\n"
    )
    .is_empty());
}

/// Settings that fix DEBUG on and commit the secret key (the tutorials'
/// `DEBUG = True`, `SECRET_KEY = '…'`) get source fixes that read both from
/// the environment with the written values as defaults, and both settings
/// are listed for decide to set (DEBUG off, a generated key). Settings
/// that already read them are left alone.
#[test]
fn django_fixed_debug_and_secret_key_are_read_from_the_environment() {
    let settings = |body: &str| {
        vec![
            ("requirements.txt", "django==4.2\n".to_string()),
            (
                "manage.py",
                "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site_app.settings')\n"
                    .to_string(),
            ),
            ("site_app/__init__.py", String::new()),
            ("site_app/settings.py", body.to_string()),
            (
                "site_app/wsgi.py",
                "from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n"
                    .to_string(),
            ),
        ]
    };
    let run = |body: &str| {
        let files = settings(body);
        let refs: Vec<(&str, &str)> = files.iter().map(|(f, t)| (*f, t.as_str())).collect();
        detect(&refs, "").remove(0)
    };
    let d = run("SECRET_KEY = 'x*za6$'\n\nDEBUG = True  # dev\nROOT_URLCONF = 'site_app.urls'\n");
    let fix = |kind: &str| {
        d.findings
            .iter()
            .find(|f| f.kind == kind)
            .and_then(|f| f.fix.clone())
            .unwrap_or_else(|| panic!("{kind}: {:?}", d.findings))
    };
    let debug = fix("django_debug_fixed_on");
    assert_eq!((debug.line, debug.find.as_str()), (3, "True"));
    assert_eq!(
        debug.replace,
        r#"__import__("os").environ.get("DJANGO_DEBUG", "True") == "True""#
    );
    let key = fix("django_secret_key_in_repository");
    assert_eq!(
        key.replace,
        r#"__import__("os").environ.get("DJANGO_SECRET_KEY", 'x*za6$')"#
    );
    let var = |n: &str| d.env.iter().find(|e| e.name == n).cloned();
    assert!(var("DJANGO_SECRET_KEY").is_some_and(|v| v.secret && !v.required));
    assert!(var("DJANGO_DEBUG").is_some_and(|v| !v.required));
    // Behind a TLS-terminating proxy: the copy sets SECURE_PROXY_SSL_HEADER
    // only when the deployment asks (before ROOT_URLCONF), so settings
    // that read it from a variable of their own (healthchecks) keep theirs;
    // settings that set it at the top level get nothing.
    let proxy = fix("django_proxy_https");
    assert_eq!((proxy.line, proxy.find.as_str()), (4, "ROOT_URLCONF"));
    assert_eq!(
        proxy.replace,
        "if __import__(\"os\").environ.get(\"DJANGO_TRUST_X_FORWARDED_PROTO\", None):\n    SECURE_PROXY_SSL_HEADER = (\"HTTP_X_FORWARDED_PROTO\", \"https\")\nROOT_URLCONF"
    );
    let own_variable = run("import os\nif v := os.getenv(\"SECURE_PROXY_SSL_HEADER\"):\n    SECURE_PROXY_SSL_HEADER = tuple(v.split(\",\"))\nROOT_URLCONF = 'u'\n");
    assert!(kinds(&own_variable).contains(&"django_proxy_https"));
    let set = run(
        "SECURE_PROXY_SSL_HEADER = (\"HTTP_X_FORWARDED_PROTO\", \"https\")\nROOT_URLCONF = 'u'\n",
    );
    assert!(!kinds(&set).contains(&"django_proxy_https"));
    let d = run(
        "import os\nSECRET_KEY = os.environ['SECRET_KEY']\nDEBUG = os.getenv('DEBUG') == '1'\n",
    );
    let found = kinds(&d);
    assert!(
        !found.contains(&"django_debug_fixed_on")
            && !found.contains(&"django_secret_key_in_repository"),
        "{found:?}"
    );
    // A settings package whose base reads the key from the environment:
    // its CI module's own key is not the deployment's (babybuddy).
    let d = detect(
        &[
            ("requirements.txt", "django==4.2\n"),
            (
                "manage.py",
                "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site_app.settings')\n",
            ),
            ("site_app/settings/__init__.py", "from .base import *\n"),
            (
                "site_app/settings/base.py",
                "import os\nSECRET_KEY = os.environ.get('SECRET_KEY')\n",
            ),
            (
                "site_app/settings/ci.py",
                "from .base import *\nSECRET_KEY = 'CISECRET'\nDEBUG = True\n",
            ),
            (
                "site_app/wsgi.py",
                "from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n",
            ),
        ],
        "",
    );
    let kinds = kinds(&d[0]);
    assert!(
        !kinds.contains(&"django_debug_fixed_on")
            && !kinds.contains(&"django_secret_key_in_repository"),
        "{kinds:?}"
    );
}

/// A Flask secret key written in the repository (the tutorial's
/// `from_mapping(SECRET_KEY="dev")`, a module constant) is read from
/// SECRET_KEY in the deployment's copy, with the written value as default;
/// a file that already reads SECRET_KEY from the environment, and tests,
/// are left alone.
#[test]
fn a_flask_secret_key_in_the_repository_is_read_from_the_environment() {
    let app = "import os\nfrom flask import Flask\n\ndef create_app():\n    app = Flask(__name__)\n    app.config.from_mapping(\n        SECRET_KEY=\"dev\",\n        DATABASE=os.path.join(app.instance_path, \"f.sqlite\"),\n    )\n    return app\n";
    let d = detect(
        &[
            ("requirements.txt", "flask\n"),
            ("flaskr/__init__.py", app),
            ("tests/conftest.py", "SECRET_KEY = 'test'\n"),
        ],
        "",
    );
    let fixes: Vec<_> = d[0]
        .findings
        .iter()
        .filter(|f| f.kind == "flask_secret_key_in_repository")
        .filter_map(|f| f.fix.clone())
        .collect();
    assert_eq!(fixes.len(), 1, "{:?}", d[0].findings);
    assert_eq!(
        (fixes[0].file.as_str(), fixes[0].line),
        ("flaskr/__init__.py", 7)
    );
    assert_eq!(
        fixes[0].replace,
        r#"__import__("os").environ.get("SECRET_KEY", "dev")"#
    );
    assert!(d[0]
        .env
        .iter()
        .any(|e| e.name == "SECRET_KEY" && e.secret && !e.required));
    let reads = "import os\nfrom flask import Flask\napp = Flask(__name__)\nif os.environ.get('SECRET_KEY'):\n    SECRET_KEY = os.environ.get('SECRET_KEY')\nelse:\n    SECRET_KEY = 'unset'\n";
    let d = detect(&[("requirements.txt", "flask\n"), ("app.py", reads)], "");
    assert!(!kinds(&d[0]).contains(&"flask_secret_key_in_repository"));
}

/// linkding: manage.py defaults to `bookmarks.settings.dev`, but its
/// uwsgi.ini runs `bookmarks.settings.prod`: the deployment sets that one
/// (DEBUG off, its own host list). A uwsgi.ini naming a module that does
/// not exist changes nothing.
#[test]
fn the_production_servers_settings_module_is_the_deployments() {
    let files = |ini: &str| {
        vec![
            ("requirements.txt", "django==5.1\nuwsgi==2.0.28\n".to_string()),
            (
                "manage.py",
                "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'bookmarks.settings.dev')\n".to_string(),
            ),
            ("bookmarks/__init__.py", String::new()),
            ("bookmarks/settings/__init__.py", String::new()),
            ("bookmarks/settings/base.py", "ROOT_URLCONF = 'bookmarks.urls'\n".to_string()),
            ("bookmarks/settings/dev.py", "from .base import *\nDEBUG = True\n".to_string()),
            ("bookmarks/settings/prod.py", "from .base import *\nDEBUG = False\n".to_string()),
            (
                "bookmarks/wsgi.py",
                "from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n".to_string(),
            ),
            ("uwsgi.ini", ini.to_string()),
        ]
    };
    let run = |ini: &str| {
        let f = files(ini);
        let refs: Vec<(&str, &str)> = f.iter().map(|(p, t)| (*p, t.as_str())).collect();
        detect(&refs, "").remove(0)
    };
    let d = run("[uwsgi]\nmodule = bookmarks.wsgi:application\nenv = DJANGO_SETTINGS_MODULE=bookmarks.settings.prod\ndie-on-term = true\n");
    let v = d
        .env
        .iter()
        .find(|e| e.name == "DJANGO_SETTINGS_MODULE")
        .expect("set");
    assert!(v.required);
    assert_eq!(v.example.as_deref(), Some("bookmarks.settings.prod"));
    assert_eq!(v.file.as_deref(), Some("uwsgi.ini"));
    let start = &d.starts[0].value;
    assert!(
        start.contains("uwsgi") && start.contains("--die-on-term"),
        "{start}"
    );
    let d = run("[uwsgi]\nenv = DJANGO_SETTINGS_MODULE=bookmarks.settings.missing\n");
    assert!(!d
        .env
        .iter()
        .any(|e| e.name == "DJANGO_SETTINGS_MODULE" && e.required));
}

/// django-poll-app quotes a requirement (`"Django>=4.2,<4.3"`), which pip
/// refuses: the copy's line loses its quotes, the dependency counts (the
/// PostgreSQL driver is offered for it), and a warning says so.
#[test]
fn a_quoted_requirement_is_read_and_unquoted_in_the_copy() {
    let files = [
        ("requirements.txt", "asgiref==3.8.1\n\"Django>=4.2,<4.3\"\nsqlparse==0.4.4\n"),
        (
            "manage.py",
            "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'pollme.settings')\n",
        ),
        ("pollme/__init__.py", ""),
        ("pollme/settings.py", "ROOT_URLCONF = 'pollme.urls'\n"),
        (
            "pollme/wsgi.py",
            "from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n",
        ),
    ];
    let d = detect(&files, "").remove(0);
    let f = d
        .findings
        .iter()
        .find(|f| f.kind == "requirement_quoted")
        .expect("a warning");
    let fix = f.fix.as_ref().expect("a fix");
    assert_eq!((fix.file.as_str(), fix.line), ("requirements.txt", 2));
    assert_eq!(fix.find, "\"Django>=4.2,<4.3\"");
    assert_eq!(fix.replace, "Django>=4.2,<4.3");
    assert!(
        d.install_with_driver
            .values()
            .any(|i| i.ends_with("psycopg2-binary")),
        "{:?}",
        d.install_with_driver
    );
}

/// flaskbb loads `FLASKBB_`-prefixed variables into its config
/// (`app_config_from_env(app, prefix="FLASKBB_")`); Flask 2.2's
/// `from_prefixed_env()` does the same with `FLASK_`. The database URL and
/// the signing key are settings of those names.
#[test]
fn a_prefixed_config_loader_reads_the_database_url_and_key() {
    let app = |loader: &str| {
        format!("import os\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n{loader}\napp = Flask(__name__)\ndb = SQLAlchemy(app)\n")
    };
    let names = |loader: &str| -> Vec<String> {
        let code = app(loader);
        let files = [
            (
                "requirements.txt",
                "flask==3.0.3\nflask-sqlalchemy==3.1.1\n",
            ),
            ("app.py", code.as_str()),
        ];
        detect(&files, "")
            .remove(0)
            .env
            .into_iter()
            .map(|e| e.name)
            .collect()
    };
    let own = names("def app_config_from_env(app, prefix=\"FLASKBB_\"):\n    for key, value in os.environ.items():\n        pass\n");
    assert!(
        own.contains(&"FLASKBB_SQLALCHEMY_DATABASE_URI".to_string()),
        "{own:?}"
    );
    assert!(own.contains(&"FLASKBB_SECRET_KEY".to_string()), "{own:?}");
    let flask = names("def configure(app):\n    app.config.from_prefixed_env()\n");
    assert!(
        flask.contains(&"FLASK_SQLALCHEMY_DATABASE_URI".to_string()),
        "{flask:?}"
    );
    let plain = names("");
    assert!(
        !plain.iter().any(|n| n.ends_with("SQLALCHEMY_DATABASE_URI")),
        "{plain:?}"
    );
}
