//! Snapshots of whole decisions (JSON) for a few hand-built analyses, so any
//! change to a choice, a reason, a warning or a price shows up in review.
//! Analyses are built here rather than by the analyzer so that the snapshots
//! move only when decide changes.

use autodeploy_core::*;
use autodeploy_decide::{decide, DecideOptions};

fn service(name: &str, language: Language, framework: Option<&str>, kind: ServiceKind) -> Service {
    Service {
        name: name.into(),
        path: ".".into(),
        language,
        framework: framework.map(str::to_string),
        kind,
        port: None,
        start: None,
        build: None,
        install: None,
        release: None,
        init: None,
        postgres_auth: None,
        drivers_without_tls: Vec::new(),
        install_with_driver: Default::default(),
        health_path: None,
        allowed_hosts_env: None,
        package_manager: None,
        runtime_version: None,
        image_runtime_version: None,
        assets_node_version: None,
        release_library_version: None,
        build_schema: None,
        wheel_lines: Vec::new(),
        dockerfile: None,
        image_start: None,
        dockerfile_context: None,
        static_dir: None,
        databases: Vec::new(),
        env: Vec::new(),
        findings: Vec::new(),
        confidence: 0.9,
        evidence: Default::default(),
        wiring: Vec::new(),
        install_constraints: Vec::new(),
        install_files: Vec::new(),
    }
}

fn var(name: &str, required: bool, secret: bool) -> EnvVar {
    EnvVar::new(name, required, secret)
}

fn analysis(input: &str, services: Vec<Service>) -> Analysis {
    Analysis {
        source: SourceInfo {
            input: input.into(),
            kind: SourceKind::Git,
            commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
        },
        services,
        analyzer_version: "snapshot".into(),
        stats: ScanStats::default(),
    }
}

fn flask() -> Service {
    let mut s = service("app", Language::Python, Some("flask"), ServiceKind::Web);
    s.path = "app".into();
    s.port = Some(5000);
    s.start = Some("gunicorn --bind 0.0.0.0:5000 app:app".into());
    s.install = Some("pip install -r requirements.txt gunicorn".into());
    s.package_manager = Some("pip".into());
    s.findings = vec![Finding {
        kind: "binds_localhost".into(),
        file: Some("app/app.py".into()),
        line: Some(19),
        message: "app/app.py:19 binds to 127.0.0.1".into(),
        severity: Severity::Warning,
        fix: Some(SourceFix {
            file: "app/app.py".into(),
            line: 19,
            find: "\"127.0.0.1\"".into(),
            replace: "\"0.0.0.0\"".into(),
        }),
        from_example: None,
        calls: None,
        makes_dir: None,
    }];
    s
}

fn django() -> Service {
    let mut s = service("web", Language::Python, Some("django"), ServiceKind::Web);
    s.port = Some(8000);
    s.start = Some("gunicorn --bind 0.0.0.0:8000 mysite.wsgi:application".into());
    s.build = Some("python manage.py collectstatic --noinput".into());
    s.release = Some("python manage.py migrate --noinput".into());
    s.install = Some("pip install -r requirements.txt".into());
    s.health_path = Some("/healthz".into());
    s.runtime_version = Some("3.11".into());
    s.databases = vec![Database::Postgresql];
    s.env = vec![
        var("DATABASE_URL", true, true),
        var("DJANGO_SECRET_KEY", true, true),
        var("DJANGO_ALLOWED_HOSTS", false, false),
        var("DJANGO_DEBUG", false, false),
        var("SENTRY_DSN", false, true),
    ];
    s
}

fn snapshot(name: &str, a: &Analysis, intent: &Intent) {
    let d = decide(a, intent, &DecideOptions::default()).unwrap();
    insta::assert_json_snapshot!(name, d);
}

#[test]
fn flask_vm_on_aws() {
    let a = analysis("https://github.com/Arvo-AI/hello_world", vec![flask()]);
    let intent = Intent {
        cloud: Some(Cloud::Aws),
        ..Default::default()
    };
    snapshot("flask_vm_on_aws", &a, &intent);
}

#[test]
fn django_postgres_autoscaled_with_https_in_frankfurt() {
    let a = analysis("https://example.com/acme/shop.git", vec![django()]);
    let intent = Intent {
        cloud: Some(Cloud::Aws),
        region: Some("eu-central-1".into()),
        min_instances: Some(2),
        max_instances: Some(4),
        autoscale: Some(true),
        domain: Some("shop.example.com".into()),
        https: Some(true),
        ..Default::default()
    };
    snapshot("django_postgres_autoscaled_https_frankfurt", &a, &intent);
}

#[test]
fn flask_celery_redis_on_gcp_staging() {
    let mut web = flask();
    web.findings.clear();
    web.path = ".".into();
    web.databases = vec![Database::Redis];
    web.env = vec![
        var("REDIS_URL", false, true),
        var("FLASK_SECRET_KEY", true, true),
    ];
    let mut worker = service(
        "worker",
        Language::Python,
        Some("celery"),
        ServiceKind::Worker,
    );
    worker.start = Some("celery -A tasks worker --loglevel=info".into());
    worker.databases = vec![Database::Redis];
    worker.env = vec![var("CELERY_BROKER_URL", false, false)];
    let a = analysis("https://example.com/acme/jobs.git", vec![web, worker]);
    let intent = Intent {
        cloud: Some(Cloud::Gcp),
        environment: Some(Environment::Staging),
        ..Default::default()
    };
    snapshot("flask_celery_redis_gcp_staging", &a, &intent);
}

#[test]
fn django_postgres_locally() {
    let a = analysis("/home/me/shop", vec![django()]);
    let intent = Intent {
        cloud: Some(Cloud::Local),
        ..Default::default()
    };
    snapshot("django_postgres_local", &a, &intent);
}
