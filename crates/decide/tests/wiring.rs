//! The wiring step, proven on the wiring fixtures (`tests/fixtures/wiring_*`,
//! one small repository per convention): each is analysed, planned for the
//! local target and for AWS, and the database/cache bindings of every
//! service — names, where each value comes from, its format — are
//! snapshotted with the data services and warnings. Targeted assertions pin
//! the behaviour each convention is there for.

use autodeploy_analyze::{analyze_dir, AnalyzeOptions};
use autodeploy_core::*;
use autodeploy_decide::{decide, DecideOptions};
use serde_json::{json, Value};
use std::path::PathBuf;

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn fixture(name: &str) -> Analysis {
    let source = SourceInfo {
        input: format!("tests/fixtures/{name}"),
        kind: SourceKind::Path,
        commit: None,
    };
    let opts = AnalyzeOptions {
        name_hint: Some(name.to_string()),
        ..Default::default()
    };
    analyze_dir(&fixtures_dir().join(name), source, &opts)
        .unwrap_or_else(|e| panic!("analysing {name}: {e}"))
}

fn plan(name: &str, text: &str) -> Decision {
    decide(
        &fixture(name),
        &autodeploy_parse::parse(text),
        &DecideOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The data-store bindings of every service, and what was provisioned.
fn summary(d: &Decision) -> Value {
    let services: Vec<Value> = d
        .services
        .iter()
        .map(|s| {
            let env: Vec<Value> = s
                .env
                .iter()
                .filter(|b| {
                    matches!(
                        b.value,
                        EnvValue::Database { .. }
                            | EnvValue::Cache { .. }
                            | EnvValue::UserSecret { .. }
                    ) || b.reason.contains(" reads it)")
                        || b.reason.contains("seen at")
                })
                .map(|b| json!({"name": b.name, "value": b.value, "secret": b.secret}))
                .collect();
            json!({"service": s.name, "release": s.release, "start": s.start, "env": env})
        })
        .collect();
    json!({
        "database": d.database.as_ref().map(|db| json!([db.engine, db.service])),
        "cache": d.cache.as_ref().map(|c| json!([c.engine, c.service])),
        "services": services,
        "warnings": d.warning_codes(),
    })
}

fn wiring_fixtures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
        .expect("fixtures")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("wiring_") || n == "compose_db_built_from_dockerfile")
        .collect();
    names.sort();
    names
}

#[test]
fn bindings_per_convention_locally_and_on_aws() {
    for name in wiring_fixtures() {
        let local = summary(&plan(&name, "run it locally"));
        let aws = summary(&plan(&name, "deploy it on aws"));
        insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false }, {
            insta::assert_json_snapshot!(format!("wiring__{name}"), json!({"local": local, "aws": aws}));
        });
    }
}

fn binding<'a>(d: &'a Decision, service: &str, name: &str) -> &'a EnvBinding {
    d.service(service)
        .unwrap_or_else(|| panic!("no service {service}"))
        .env
        .iter()
        .find(|b| b.name == name)
        .unwrap_or_else(|| panic!("{service} has no {name}"))
}

fn db(output: DatabaseOutput, scheme: Option<&str>) -> EnvValue {
    EnvValue::Database {
        output,
        scheme: scheme.map(str::to_string),
    }
}

#[test]
fn every_part_the_code_reads_is_set_in_its_format() {
    let d = plan("wiring_django_env_parts", "run it locally");
    let svc = "wiring-django-env-parts";
    assert_eq!(
        binding(&d, svc, "SQL_ENGINE").value,
        EnvValue::Literal {
            value: "django.db.backends.postgresql".into()
        }
    );
    for (n, o) in [
        ("SQL_HOST", DatabaseOutput::Host),
        ("SQL_PORT", DatabaseOutput::Port),
        ("SQL_USER", DatabaseOutput::Username),
        ("SQL_PASSWORD", DatabaseOutput::Password),
        ("SQL_DATABASE", DatabaseOutput::Name),
    ] {
        assert_eq!(binding(&d, svc, n).value, db(o, None), "{n}");
    }
    assert!(binding(&d, svc, "SQL_PASSWORD").secret);
    assert!(!d.has_warning("database_env_unknown"));
    assert_eq!(
        d.service(svc).unwrap().release.as_deref(),
        Some("python manage.py migrate --noinput")
    );

    let d = plan("wiring_rust_config_crate", "deploy it on aws");
    assert_eq!(
        binding(&d, "newsletter", "APP_DATABASE__HOST").value,
        db(DatabaseOutput::Host, None)
    );
    assert_eq!(
        binding(&d, "newsletter", "APP_DATABASE__DATABASE_NAME").value,
        db(DatabaseOutput::Name, None)
    );

    let d = plan("wiring_go_gorm_sprintf", "run it locally");
    assert_eq!(
        binding(&d, "articles", "DB_USER").value,
        db(DatabaseOutput::Username, None)
    );
}

#[test]
fn formats_schemes_and_engine_names() {
    let d = plan("wiring_go_mysql_dsn", "run it locally");
    assert_eq!(
        binding(&d, "shortener", "MYSQL_DSN").value,
        db(DatabaseOutput::MysqlDsn, None)
    );
    assert_eq!(
        binding(&d, "shortener", "REDIS_ADDR").value,
        EnvValue::Cache {
            output: CacheOutput::Address
        }
    );
    let d = plan("wiring_fastapi_async_url", "run it locally");
    assert_eq!(
        binding(&d, "api", "DB_URL").value,
        db(DatabaseOutput::Url, Some("postgresql+asyncpg"))
    );
    let d = plan("wiring_rails_database_yml", "deploy it on aws");
    assert_eq!(
        binding(&d, "wiring-rails-database-yml", "DATABASE_URL").value,
        db(DatabaseOutput::Url, Some("mysql2"))
    );
    let d = plan("wiring_spring_profile", "deploy it on aws");
    assert_eq!(
        binding(&d, "notes", "SPRING_DATASOURCE_URL").value,
        db(DatabaseOutput::JdbcUrl, None)
    );
    assert_eq!(
        binding(&d, "notes", "SPRING_PROFILES_ACTIVE").value,
        EnvValue::Literal {
            value: "prod".into()
        }
    );
    let d = plan("wiring_aspnet_connection_strings", "deploy it on azure");
    assert_eq!(
        binding(&d, "orders", "ConnectionStrings__OrdersDb").value,
        db(DatabaseOutput::AdoConnectionString, None)
    );
    let d = plan("wiring_laravel", "run it locally");
    assert_eq!(
        binding(&d, "bookings", "DB_CONNECTION").value,
        EnvValue::Literal {
            value: "pgsql".into()
        }
    );
    let d = plan("wiring_knex_node_config", "run it locally");
    assert_eq!(
        binding(&d, "realworld-koa", "DB_CLIENT").value,
        EnvValue::Literal { value: "pg".into() }
    );
    assert_eq!(
        binding(&d, "realworld-koa", "DB_CONNECTION").value,
        db(DatabaseOutput::Url, None)
    );
}

#[test]
fn queues_read_what_their_command_or_config_says() {
    let d = plan("wiring_celery_rq", "run it locally");
    assert_eq!(
        binding(&d, "rqworker", "RQ_REDIS_URL").value,
        EnvValue::Cache {
            output: CacheOutput::Url
        }
    );
    assert_eq!(
        binding(&d, "worker", "CELERY_BROKER_URL").value,
        EnvValue::Cache {
            output: CacheOutput::Url
        }
    );
    assert!(!d.has_warning("cache_env_unknown"));
}

/// An app with several Redis connections (a cache read as a URL, arq's
/// queue read as host and port) gets every one pointed at the cache: the
/// wiring of one does not make the others "something else".
#[test]
fn every_redis_connection_of_an_app_reaches_the_cache() {
    let d = plan("wiring_redis_several", "run it locally with redis");
    for (name, output) in [
        ("REDIS_CACHE_URL", CacheOutput::Url),
        ("REDIS_QUEUE_HOST", CacheOutput::Host),
        ("REDIS_QUEUE_PORT", CacheOutput::Port),
    ] {
        assert_eq!(
            binding(&d, "wiring-redis-several", name).value,
            EnvValue::Cache { output },
            "{name}"
        );
    }
}

#[test]
fn no_paid_database_that_nothing_reads() {
    // Spring on in-memory H2: nothing to provision anywhere.
    let d = plan("wiring_spring_h2_only", "deploy it on aws");
    assert!(d.database.is_none());
    // The code writes its database host: say so, and create nothing on a cloud…
    let d = plan("wiring_not_found", "deploy it on aws");
    assert!(d.database.is_none());
    assert!(d.has_warning("database_not_read"));
    let w = d
        .warnings
        .iter()
        .find(|w| w.code == "database_not_read")
        .unwrap();
    assert!(
        w.message.contains("psycopg") && w.message.contains("--env NAME=VALUE"),
        "{}",
        w.message
    );
    assert!(!d.services[0].env.iter().any(|b| b.name == "DATABASE_URL"));
    // …unless the request asks for it.
    let d = plan("wiring_not_found", "deploy it on aws with postgres");
    assert!(d.database.is_some());
    // Locally the database is free: provided, with the conventional name and a warning.
    let d = plan("wiring_not_found", "run it locally");
    assert!(d.database.is_some());
    let w = d
        .warnings
        .iter()
        .find(|w| w.code == "database_env_unknown")
        .unwrap();
    assert!(
        w.message.contains("deploy --env NAME=VALUE"),
        "{}",
        w.message
    );
}

/// Copies of an app on SQLite would each keep a database of their own
/// behind one address: one instance runs, with a warning saying how to get
/// more; with a database server asked for, the range stands.
#[test]
fn sqlite_runs_one_instance_where_copies_were_asked() {
    let d = plan(
        "wiring_django_dj_database_url",
        "deploy it on aws ec2 autoscaling group with 2-3 instances, no database",
    );
    assert!(d.database.is_none());
    let w = d
        .warnings
        .iter()
        .find(|w| w.code == "sqlite_single_instance")
        .expect("sqlite_single_instance");
    assert!(
        w.message.contains("2 to 3") && w.message.contains("with postgres"),
        "{}",
        w.message
    );
    let c = d.services[0].scaling.as_ref().expect("scaling");
    assert_eq!((c.min, c.max), (1, 1));
    let d = plan(
        "wiring_django_dj_database_url",
        "deploy it on aws ec2 autoscaling group with 2-3 instances and postgres",
    );
    assert!(!d.has_warning("sqlite_single_instance"));
    let c = d.services[0].scaling.as_ref().expect("scaling");
    assert_eq!((c.min, c.max), (2, 3));
}

#[test]
fn sqlite_or_no_database_uses_the_fallback() {
    for text in [
        "run it locally with sqlite",
        "deploy it on aws, no database",
    ] {
        let d = plan("wiring_django_dj_database_url", text);
        assert!(d.database.is_none(), "{text}");
        assert!(
            !d.services[0].env.iter().any(|b| b.name == "DATABASE_URL"),
            "{text}"
        );
        assert!(
            d.reasons_about("database")
                .any(|r| r.text.contains("falls back to SQLite")),
            "{text}: {:?}",
            d.reasons
        );
        assert!(!d.has_warning("no_database_without_fallback"), "{text}");
    }
    // Without a fallback, "no database" is honoured with a warning.
    let d = plan("wiring_go_sql_open", "run it locally, no database");
    assert!(d.database.is_none());
    assert!(d.has_warning("no_database_without_fallback"));
    // Without the words, the database is provided and wired.
    let d = plan("wiring_django_dj_database_url", "run it locally");
    assert!(d.database.is_some());
    assert_eq!(
        binding(&d, "wiring-django-dj-database-url", "DATABASE_URL").value,
        db(DatabaseOutput::Url, None)
    );
}

#[test]
fn a_release_step_runs_once_per_deploy() {
    // Framework knowledge gives every service of one codebase the same
    // migration; the workers leave it to the web service.
    let mut a = fixture("wiring_celery_rq");
    for s in &mut a.services {
        s.release = Some("alembic upgrade head".into());
    }
    let d = decide(
        &a,
        &autodeploy_parse::parse("run it locally"),
        &DecideOptions::default(),
    )
    .unwrap();
    let releases: Vec<(&str, Option<&str>)> = d
        .services
        .iter()
        .map(|s| (s.name.as_str(), s.release.as_deref()))
        .collect();
    assert_eq!(
        releases,
        vec![
            ("wiring-celery-rq", Some("alembic upgrade head")),
            ("rqworker", None),
            ("worker", None)
        ]
    );
    assert!(d
        .reasons_about("service.worker.release")
        .any(|r| r.text.contains("run once per deploy")));
}

/// An ORM that reads its connection URL but no driver for the PostgreSQL
/// the plan provides (Flask-SQLAlchemy with SQLite by default, no
/// psycopg2): the install gets psycopg2-binary, with a warning — locally
/// and on a cloud, and not without a PostgreSQL. The project's own image
/// cannot be changed: the plan says what to add instead.
#[test]
fn an_orm_without_a_postgres_driver_gets_one_with_the_database() {
    let install = |d: &Decision| d.services[0].install.clone().unwrap_or_default();
    let codes =
        |d: &Decision| -> Vec<String> { d.warnings.iter().map(|w| w.code.clone()).collect() };
    for request in [
        "deploy locally with postgres",
        "deploy on AWS ECS with postgres",
    ] {
        let d = plan("python_tooling_pyproject_flask", request);
        assert!(
            install(&d).ends_with(" psycopg2-binary"),
            "{request}: {}",
            install(&d)
        );
        assert!(
            codes(&d).contains(&"database_driver_added".to_string()),
            "{:?}",
            codes(&d)
        );
    }
    let d = plan("python_tooling_pyproject_flask", "deploy on AWS ECS");
    assert!(!install(&d).contains("psycopg2"), "{}", install(&d));
    // The project's own image.
    let mut a = fixture("python_django_image_workdir");
    a.services[0].install_with_driver.insert(
        Database::Postgresql,
        "pip install -r requirements.txt psycopg2-binary".into(),
    );
    let d = decide(
        &a,
        &autodeploy_parse::parse("deploy on AWS ECS with postgres"),
        &DecideOptions::default(),
    )
    .unwrap();
    assert_eq!(d.services[0].image, ImageSource::Repository);
    assert!(!install(&d).contains("psycopg2"), "{}", install(&d));
    assert!(
        codes(&d).contains(&"database_driver_missing".to_string()),
        "{:?}",
        codes(&d)
    );
}

/// Django's project template writes SQLite as the only database
/// (django-poll-app, django-celery). "with postgres" is no longer refused
/// as a database the code cannot use: the deployment's copy of the settings
/// reads a PostgreSQL `DATABASE_URL` first, the install gets psycopg2, and
/// the URL is wired. Without a database server the copy keeps its settings
/// as written (no fix to apply, none to ask of an operator).
#[test]
fn django_writing_sqlite_only_is_pointed_at_the_postgres_asked_for() {
    let d = plan("mixed_django_tailwind", "deploy on AWS ECS with postgres");
    let web = &d.services[0];
    assert!(d.database.is_some());
    assert!(
        web.install
            .as_deref()
            .unwrap_or("")
            .contains("psycopg2-binary"),
        "{:?}",
        web.install
    );
    let url = web
        .env
        .iter()
        .find(|b| b.name == "DATABASE_URL")
        .expect("wired");
    assert!(matches!(url.value, EnvValue::Database { .. }), "{url:?}");
    let fix = web
        .source_fixes
        .iter()
        .find(|f| f.find == "DATABASES = {")
        .expect("the settings read DATABASE_URL");
    assert!(fix.replace.contains("django.db.backends.postgresql"));
    assert!(fix.replace.ends_with(
        "_autodeploy_database(__import__(\"os\").environ.get(\"DATABASE_URL\", None)) or {"
    ));
    let d = plan("mixed_django_tailwind", "deploy on AWS ECS");
    assert!(d.database.is_none());
    assert!(
        !d.services[0]
            .source_fixes
            .iter()
            .any(|f| f.find == "DATABASES = {"),
        "{:?}",
        d.services[0].source_fixes
    );
}
