//! Cross-cutting behaviour that a fixture expectation cannot express: a
//! repository with nothing deployable is an error (not an empty list), and a
//! committed credential is reported by name but its value never reaches the
//! output.

use autodeploy_analyze::repo::MemRepo;
use autodeploy_analyze::{analyze_dir, analyze_repo, AnalyzeError, AnalyzeOptions};
use autodeploy_core::{SourceInfo, SourceKind};
use std::path::Path;

/// A repository of documentation only (the `mono_no_app` situation).
const DOCS_ONLY: &[(&str, &str)] = &[
    ("README.md", "# Team handbook\n\nHow we work. See docs/.\n"),
    ("LICENSE", "MIT License\n\nCopyright (c) 2024 Example\n"),
    ("docs/onboarding.md", "# Onboarding\n\n1. Get a laptop.\n"),
    (
        "docs/images/diagram.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n",
    ),
    (".github/ISSUE_TEMPLATE.md", "Describe the problem.\n"),
];

fn source(input: &str) -> SourceInfo {
    SourceInfo {
        input: input.to_string(),
        kind: SourceKind::Path,
        commit: None,
    }
}

#[test]
fn docs_only_repository_is_nothing_found_on_disk() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (path, content) in DOCS_ONLY {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, content).expect("write");
    }
    let err = analyze_dir(
        dir.path(),
        source("mono_no_app"),
        &AnalyzeOptions::default(),
    )
    .expect_err("a docs-only repository has no service");
    match &err {
        AnalyzeError::NothingFound { path, looked_for } => {
            assert_eq!(path, "mono_no_app");
            assert!(looked_for.contains("requirements.txt"), "{looked_for}");
            assert!(looked_for.contains("index.html"), "{looked_for}");
        }
        other => panic!("expected NothingFound, got {other:?}"),
    }
    // The message tells the person what to do next.
    assert!(err.to_string().contains("point autodeploy at that folder"));
}

#[test]
fn docs_only_repository_is_nothing_found_in_memory() {
    let repo = MemRepo::new(DOCS_ONLY.iter().copied());
    assert!(matches!(
        analyze_repo(&repo, Some("mono_no_app")),
        Err(AnalyzeError::NothingFound { .. })
    ));
}

#[test]
fn committed_secret_value_never_reaches_the_output() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/python_committed_env_secret");
    let env = std::fs::read_to_string(root.join(".env")).expect(".env is part of the fixture");
    let secret = env
        .lines()
        .find_map(|l| l.strip_prefix("WEATHER_API_KEY="))
        .expect("the fixture commits WEATHER_API_KEY")
        .trim()
        .to_string();
    assert!(secret.len() >= 16);
    let analysis = analyze_dir(&root, source("fixture"), &AnalyzeOptions::default())
        .expect("the fixture is a Flask app");
    let json = serde_json::to_string(&analysis).expect("serialisable");
    assert!(json.contains("committed_secret"));
    assert!(json.contains("WEATHER_API_KEY"));
    assert!(
        !json.contains(&secret),
        "the secret value leaked into the analysis"
    );
    // Not even a fragment of it (evidence notes quote lines).
    assert!(!json.contains(&secret[..12]));
}

/// A compose service under `profiles:` (a seed job run by hand with
/// `--profile seed`) is not deployed, even though its folder holds a
/// Dockerfile the folder detectors would take for an app.
#[test]
fn a_compose_service_under_a_profile_is_not_a_service() {
    let repo = MemRepo::new([
        (
            "docker-compose.yml",
            "services:\n  web:\n    build: ./web\n    ports: [\"5000:5000\"]\n  seed:\n    build: ./seed-data\n    profiles: [\"seed\"]\n",
        ),
        ("web/requirements.txt", "flask==3.0.3\ngunicorn==22.0.0\n"),
        (
            "web/app.py",
            "from flask import Flask\napp = Flask(__name__)\n\n@app.get('/')\ndef index():\n    return 'hi'\n",
        ),
        (
            "seed-data/Dockerfile",
            "FROM python:3.11-slim\nCOPY . /seed\nCMD /seed/generate-votes.sh\n",
        ),
        ("seed-data/generate-votes.sh", "#!/bin/sh\nab -n 1000 http://vote/\n"),
    ]);
    let services = analyze_repo(&repo, Some("stack")).unwrap();
    let names: Vec<&str> = services.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(names, vec!["web"], "{services:#?}");
}

/// The Flask tutorial's shape: raw sqlite3, a `schema.sql` of `DROP TABLE`s
/// run by the project's own `flask init-db`, no migrations. That command is
/// the first deploy's `init`, never the per-deploy `release`.
#[test]
fn a_command_that_creates_the_database_from_nothing_is_the_first_deploys_init() {
    let flaskr: &[(&str, &str)] = &[
        ("pyproject.toml", "[project]\nname = \"flaskr\"\ndependencies = [\"flask\"]\n"),
        (
            "flaskr/__init__.py",
            "import os\nfrom flask import Flask\n\ndef create_app(test_config=None):\n    app = Flask(__name__, instance_relative_config=True)\n    app.config.from_mapping(DATABASE=os.path.join(app.instance_path, \"flaskr.sqlite\"))\n    from . import db\n    db.init_app(app)\n    return app\n",
        ),
        (
            "flaskr/db.py",
            "import sqlite3\nimport click\nfrom flask import current_app, g\n\ndef init_db():\n    db = sqlite3.connect(current_app.config[\"DATABASE\"])\n    with current_app.open_resource(\"schema.sql\") as f:\n        db.executescript(f.read().decode(\"utf8\"))\n\n@click.command(\"init-db\")\ndef init_db_command():\n    init_db()\n\ndef init_app(app):\n    app.cli.add_command(init_db_command)\n",
        ),
        (
            "flaskr/schema.sql",
            "DROP TABLE IF EXISTS user;\nCREATE TABLE user (id INTEGER PRIMARY KEY);\n",
        ),
    ];
    let services = analyze_repo(&MemRepo::new(flaskr.iter().copied()), Some("flaskr")).unwrap();
    assert_eq!(
        services[0].init.as_deref(),
        Some("FLASK_APP=flaskr flask init-db")
    );
    assert_eq!(services[0].release, None);
    assert!(services[0]
        .findings
        .iter()
        .any(|f| f.kind == "database_init_command"));

    // A Node project's `setup-example-db` script (a `sync({ force: true })`).
    let node: &[(&str, &str)] = &[
        (
            "package.json",
            "{\"name\":\"x\",\"scripts\":{\"start\":\"node index.js\",\"setup-example-db\":\"node db/setup.js\"},\"dependencies\":{\"express\":\"4\",\"sequelize\":\"6\",\"sqlite3\":\"5\"}}",
        ),
        ("index.js", "const express = require('express');\nconst app = express();\napp.listen(process.env.PORT || 3000);\n"),
        ("db/setup.js", "require('../sequelize').sync({ force: true });\n"),
    ];
    let services = analyze_repo(&MemRepo::new(node.iter().copied()), Some("node")).unwrap();
    assert_eq!(
        services[0].init.as_deref(),
        Some("npm run setup-example-db")
    );

    // With migrations, the migrations make the tables: no init.
    let mut migrated = node.to_vec();
    migrated[0].1 = "{\"name\":\"x\",\"scripts\":{\"start\":\"node index.js\",\"db:migrate\":\"sequelize-cli db:migrate\",\"db:init\":\"node db/setup.js\"},\"dependencies\":{\"express\":\"4\"}}";
    let services = analyze_repo(&MemRepo::new(migrated.iter().copied()), Some("node")).unwrap();
    assert_eq!(services[0].release.as_deref(), Some("npm run db:migrate"));
    assert_eq!(services[0].init, None);
}

/// A workspace root whose start runs one member (`pnpm --filter server run
/// prod`) is that member's process, deployed once (etherpad-lite: two copies
/// of one server fought over one database file).
#[test]
fn a_workspace_root_running_one_member_is_one_service() {
    let files: &[(&str, &str)] = &[
        ("package.json", "{\"name\":\"root\",\"private\":true,\"scripts\":{\"prod\":\"pnpm --filter ep-server run prod\"}}"),
        ("pnpm-workspace.yaml", "packages:\n  - server\n"),
        ("pnpm-lock.yaml", "lockfileVersion: '9.0'\n"),
        ("server/package.json", "{\"name\":\"ep-server\",\"scripts\":{\"prod\":\"node server.js\"},\"dependencies\":{\"express\":\"4\"}}"),
        ("server/server.js", "const express = require('express');\nconst app = express();\napp.listen(process.env.PORT || 9001);\n"),
    ];
    let services = analyze_repo(&MemRepo::new(files.iter().copied()), Some("ws")).unwrap();
    let paths: Vec<&str> = services.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(paths, ["."], "{services:#?}");
    assert_eq!(services[0].framework.as_deref(), Some("express"));
    assert_eq!(services[0].start.as_deref(), Some("pnpm prod"));
}

/// A gulpfile's `build` task beside a Django app (babybuddy): the assets
/// the templates load are built before collectstatic, or every page that
/// names one answers 500 under a manifest storage.
#[test]
fn a_gulp_build_task_beside_a_backend_builds_its_assets_first() {
    let files: &[(&str, &str)] = &[
        ("requirements.txt", "django==5.0\ngunicorn\n"),
        ("manage.py", "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site.settings')\n"),
        ("site/settings.py", "STATIC_ROOT = 'static'\nALLOWED_HOSTS = ['*']\n"),
        ("site/wsgi.py", "from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n"),
        ("package.json", "{\"name\":\"assets\",\"devDependencies\":{\"gulp\":\"5\",\"sass\":\"1\"}}"),
        ("package-lock.json", "{}"),
        ("gulpfile.js", "const gulp = require('gulp');\ngulp.task(\"build\", gulp.parallel(styles, scripts));\n"),
    ];
    let services = analyze_repo(&MemRepo::new(files.iter().copied()), Some("assets")).unwrap();
    assert_eq!(services.len(), 1, "{services:#?}");
    let build = services[0].build.as_deref().unwrap_or_default();
    assert!(
        build.contains("npx gulp build &&") && build.ends_with("collectstatic --noinput"),
        "{build}"
    );
}

/// djangogirls: the gulpfile exports its tasks as an object (`module.exports
/// = { build, watch, local }`) and the project's Dockerfile runs `gulp
/// local`, whose output the settings serve: that task is the asset build.
#[test]
fn the_gulp_task_the_projects_dockerfile_runs_builds_the_assets() {
    let base: Vec<(&str, &str)> = vec![
        ("requirements.txt", "django==5.0\ngunicorn\n"),
        ("manage.py", "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site.settings')\n"),
        ("site/settings.py", "STATIC_ROOT = 'static'\nALLOWED_HOSTS = ['*']\n"),
        ("site/wsgi.py", "from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n"),
        ("package.json", "{\"name\":\"assets\",\"devDependencies\":{\"gulp\":\"4\"}}"),
        ("package-lock.json", "{}"),
        ("gulpfile.js", "const build = require('./gulp/build');\nconst local = require('./gulp/local');\nmodule.exports = {\n  build,\n  local,\n};\n"),
    ];
    let build_of = |files: &[(&str, &str)]| {
        let services = analyze_repo(&MemRepo::new(files.iter().copied()), Some("assets")).unwrap();
        services[0].build.clone().unwrap_or_default()
    };
    // The exported `build` task, when nothing says otherwise.
    assert!(
        build_of(&base).contains("npx gulp build &&"),
        "{}",
        build_of(&base)
    );
    let mut with_image = base.clone();
    with_image.push((
        "Dockerfile",
        "FROM python:3.10-slim\nWORKDIR /var/www/app\nCOPY . .\nRUN gulp local\nCMD [\"gunicorn\", \"site.wsgi\"]\n",
    ));
    let b = build_of(&with_image);
    assert!(
        b.contains("npx gulp local &&") && b.ends_with("collectstatic --noinput"),
        "{b}"
    );
}

/// The rq worker a Procfile already runs through the file that holds it
/// (`worker: python -u manage.py run_worker`) is not inferred a second time
/// as `python manage.py` (flask-base-redis: a bare manager that exits and
/// restarts in a loop).
#[test]
fn a_procfile_worker_running_the_workers_file_is_the_worker() {
    let files: &[(&str, &str)] = &[
        ("requirements.txt", "flask\nrq\nredis\ngunicorn\n"),
        ("Procfile", "web: gunicorn manage:app\nworker: python -u manage.py run_worker\n"),
        (
            "manage.py",
            "from flask import Flask\nfrom redis import Redis\nfrom rq import Connection, Queue, Worker\napp = Flask(__name__)\n\ndef run_worker():\n    with Connection(Redis()):\n        Worker(map(Queue, ['default'])).work()\n",
        ),
    ];
    let services = analyze_repo(&MemRepo::new(files.iter().copied()), Some("rq")).unwrap();
    let workers: Vec<(&str, Option<&str>)> = services
        .iter()
        .filter(|s| s.kind == autodeploy_core::ServiceKind::Worker)
        .map(|s| (s.name.as_str(), s.start.as_deref()))
        .collect();
    assert_eq!(
        workers,
        [("worker", Some("python -u manage.py run_worker"))],
        "{services:#?}"
    );
}

/// `web: bash Procfile.sh` whose script migrates, then starts gunicorn
/// (babybuddy): the migration is the release step, run once per deploy,
/// and the start is the server alone — not a script every replica runs
/// its migrations in.
#[test]
fn a_start_script_run_by_a_shell_is_split_like_one_run_directly() {
    let repo = MemRepo::new([
        ("requirements.txt", "django==5.0\ngunicorn==22.0\n"),
        ("manage.py", "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site.settings')\n"),
        ("site/settings.py", "SECRET_KEY = 'x'\nALLOWED_HOSTS = ['*']\n"),
        ("site/wsgi.py", "from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n"),
        ("Procfile", "web: bash Procfile.sh\n"),
        (
            "Procfile.sh",
            "#!/bin/bash\n\npython manage.py migrate\n\ngunicorn site.wsgi:application --log-file -\n",
        ),
    ]);
    let services = analyze_repo(&repo, Some("shop")).unwrap();
    let s = &services[0];
    assert_eq!(
        s.start.as_deref(),
        Some("gunicorn site.wsgi:application --log-file -")
    );
    assert_eq!(s.release.as_deref(), Some("python manage.py migrate"));
}

/// django-celery: compose runs Celery Flower from the app's own image. A
/// monitoring dashboard with no login is the operator's tool, not a public
/// web service of the app; the web app and its worker are.
#[test]
fn a_task_queue_dashboard_from_compose_is_not_a_service() {
    let compose = "services:\n  web:\n    build: ./project\n    command: gunicorn core.wsgi:application --bind 0.0.0.0:8000\n    ports: [\"8000:8000\"]\n  worker:\n    build: ./project\n    command: celery --app=core worker --loglevel=info\n  dashboard:\n    build: ./project\n    command: celery flower -A core --port=5555 --broker=redis://redis:6379/0\n    ports: [\"5555:5555\"]\n  redis:\n    image: redis:7-alpine\n";
    let repo = MemRepo::new([
        ("docker-compose.yml", compose),
        (
            "project/requirements.txt",
            "Django==5.0\ncelery==5.3\nflower==2.0\nredis==5.0\ngunicorn==22.0\n",
        ),
        (
            "project/manage.py",
            "os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"core.settings\")\n",
        ),
        (
            "project/core/__init__.py",
            "from .celery import app as celery_app\n",
        ),
        ("project/core/settings.py", "DEBUG = False\n"),
        (
            "project/core/wsgi.py",
            "application = get_wsgi_application()\n",
        ),
        (
            "project/core/celery.py",
            "from celery import Celery\napp = Celery(\"core\")\n",
        ),
        ("project/Dockerfile", "FROM python:3.12\nCOPY . .\n"),
    ]);
    let services = analyze_repo(&repo, Some("django-celery")).unwrap();
    let starts: Vec<(&str, Option<&str>)> = services
        .iter()
        .map(|s| (s.name.as_str(), s.start.as_deref()))
        .collect();
    assert!(
        starts
            .iter()
            .all(|(_, s)| !s.is_some_and(|s| s.contains("flower"))),
        "{starts:?}"
    );
    assert!(starts.iter().any(|(n, _)| *n == "web"), "{starts:?}");
    let web = services.iter().find(|s| s.name == "web").unwrap();
    let f = web
        .findings
        .iter()
        .find(|f| f.kind == "queue_dashboard_not_deployed")
        .unwrap_or_else(|| panic!("{:?}", web.findings));
    assert!(f.message.contains("Celery Flower"), "{}", f.message);
}

/// shiori: docker-compose runs `Dockerfile.compose`, whose `ENTRYPOINT ["go",
/// "run", "main.go"]` takes the compose `command: [server, --log-level,
/// debug]` as arguments, while its Procfile says how it runs in production
/// (`web: bin/shiori server -p $PORT`). The Procfile's process starts it;
/// the compose command alone (`server …`) is no command at all.
#[test]
fn a_compose_command_is_the_entrypoints_arguments_and_a_procfile_comes_first() {
    let files: &[(&str, &str)] = &[
        ("go.mod", "module github.com/acme/marks\n\ngo 1.22\n"),
        (
            "main.go",
            "package main\n\nimport (\n\t\"net/http\"\n\t\"os\"\n)\n\nfunc main() {\n\thttp.ListenAndServe(\":\"+os.Getenv(\"PORT\"), nil)\n}\n",
        ),
        ("Procfile", "web: bin/marks server -p $PORT\n"),
        (
            "Dockerfile.compose",
            "FROM golang:1.22-alpine\nWORKDIR /src/marks\nENTRYPOINT [\"go\", \"run\", \"main.go\"]\nCMD [\"server\"]\n",
        ),
        (
            "docker-compose.yaml",
            "services:\n  marks:\n    build:\n      context: .\n      dockerfile: Dockerfile.compose\n    command:\n      - \"server\"\n      - \"--log-level\"\n      - \"debug\"\n    ports:\n      - \"8080:8080\"\n    volumes:\n      - \".:/src/marks\"\n",
        ),
    ];
    let services = analyze_repo(&MemRepo::new(files.iter().copied()), Some("marks")).unwrap();
    assert_eq!(
        services[0].start.as_deref(),
        Some("bin/marks server -p $PORT"),
        "{services:#?}"
    );
    // Without the Procfile the container's whole command is the start.
    let without: Vec<(&str, &str)> = files
        .iter()
        .copied()
        .filter(|(p, _)| *p != "Procfile")
        .collect();
    let services = analyze_repo(&MemRepo::new(without), Some("marks")).unwrap();
    assert_eq!(
        services[0].start.as_deref(),
        Some("go run main.go server --log-level debug"),
        "{services:#?}"
    );
}

/// full-stack-fastapi: compose.yml's backend has a healthcheck
/// (`curl -f http://localhost:8000/api/v1/utils/health-check/`) but no
/// `ports:` (an override file publishes them). The app listens on 8000,
/// the port the healthcheck names: that route is its health route. A
/// healthcheck on a port the app does not listen on says nothing.
#[test]
fn a_compose_healthcheck_on_the_apps_port_is_its_health_route_without_published_ports() {
    let compose = |port: u16| {
        format!("services:\n  backend:\n    build: .\n    healthcheck:\n      test: [\"CMD\", \"curl\", \"-f\", \"http://localhost:{port}/api/v1/utils/health-check/\"]\n")
    };
    let files = |c: String| -> Vec<(String, String)> {
        vec![
            ("requirements.txt".into(), "fastapi\nuvicorn\n".into()),
            (
                "main.py".into(),
                "from fastapi import FastAPI\napp = FastAPI()\n".into(),
            ),
            ("compose.yml".into(), c),
        ]
    };
    let on = analyze_repo(&MemRepo::new(files(compose(8000))), Some("api")).unwrap();
    assert_eq!(on[0].port, Some(8000), "{on:#?}");
    assert_eq!(
        on[0].health_path.as_deref(),
        Some("/api/v1/utils/health-check/")
    );
    let off = analyze_repo(&MemRepo::new(files(compose(9999))), Some("api")).unwrap();
    assert_ne!(
        off[0].health_path.as_deref(),
        Some("/api/v1/utils/health-check/")
    );
}
