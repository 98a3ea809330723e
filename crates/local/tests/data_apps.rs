//! Real apps against the data services the local target starts itself:
//! routes that write and read PostgreSQL, MySQL (MariaDB, wired as separate
//! host/port/user/password/name settings) and Redis; a redeploy keeps the
//! data and the URL; two deployments share one server without seeing each
//! other's data; destroy drops the data; a release step (migration) runs
//! before the app starts, and a failing one leaves the serving version up.

mod common;

use autodeploy_local::{release_data, start, stop_and_remove, LocalError, LocalOptions};
use common::*;
use std::path::Path;

fn post(url: &str, body: &str) -> u16 {
    match ureq::post(url).send_string(body) {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(c, _)) => c,
        Err(_) => 0,
    }
}

fn notes(url: &str) -> Vec<String> {
    let (code, body) = get(&format!("{url}/notes"));
    assert_eq!(code, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect()
}

fn have(programs: &[&str]) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = |p: &str| {
        std::env::split_paths(&path).any(|d| d.join(p).is_file())
            || Path::new("/usr/sbin").join(p).is_file()
            || Path::new("/usr/lib/postgresql/15/bin").join(p).is_file()
    };
    let missing: Vec<_> = programs.iter().filter(|p| !found(p)).collect();
    if missing.is_empty() {
        return true;
    }
    let msg = format!("missing {missing:?}: run scripts/setup.sh");
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{msg}");
    eprintln!("SKIPPED (not counted as a pass): {msg}");
    false
}

/// Destroy as the CLI does: processes and files, then the data.
fn destroy(id: &str, opts: &LocalOptions) -> Vec<String> {
    stop_and_remove(id, opts).unwrap();
    release_data(id, opts, false).unwrap()
}

#[test]
fn postgres_app_keeps_its_data_across_redeploys_and_apart_from_other_deployments() {
    if !have(&["initdb", "pg_ctl", "psql"]) {
        return;
    }
    let home = home();
    let opts = &home.opts;
    let dir = app("notes_pg");
    let (analysis, decision) = plan(&dir);

    let a =
        start("notes-a", &dir, &analysis, &decision, opts, &sink).unwrap_or_else(|e| panic!("{e}"));
    let log = std::fs::read_to_string(&a.log_file).unwrap();
    assert!(log.contains("release: python migrate.py"), "{log}");
    assert!(log.contains("migrated"), "{log}");
    assert_eq!(post(&format!("{}/notes", a.url), "from a"), 201);
    assert_eq!(notes(&a.url), vec!["from a"]);

    // A redeploy: same URL, same data, a new release.
    let a2 =
        start("notes-a", &dir, &analysis, &decision, opts, &sink).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(a2.url, a.url);
    assert_eq!(a2.release, 2);
    assert_eq!(notes(&a2.url), vec!["from a"]);

    // A second deployment on the same server sees only its own database.
    let b =
        start("notes-b", &dir, &analysis, &decision, opts, &sink).unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(b.url, a.url);
    assert!(notes(&b.url).is_empty());
    let st = autodeploy_local::data_status("notes-a", opts);
    let st_b = autodeploy_local::data_status("notes-b", opts);
    assert_eq!(st[0].port, st_b[0].port, "one PostgreSQL per home");
    // A client given a host and no port (Django settings reading DB_HOST
    // only) finds the private server through libpq's own variables.
    let spec = std::fs::read_to_string(&a2.services[0].spec_file).unwrap();
    assert!(
        spec.contains("PGPORT")
            && spec.contains(&format!("\"{}\"", st[0].port))
            && spec.contains("PGSSLMODE"),
        "{spec}"
    );
    assert_ne!(st[0].database, st_b[0].database);

    // Destroying a drops its database only; b keeps working.
    let done = destroy("notes-a", opts);
    assert!(done.iter().any(|l| l.contains("dropped")), "{done:?}");
    assert!(notes(&b.url).is_empty());
    assert_eq!(post(&format!("{}/notes", b.url), "from b"), 201);
    assert_eq!(notes(&b.url), vec!["from b"]);
    // Deployed again under the same id, a starts from an empty database.
    let a3 =
        start("notes-a", &dir, &analysis, &decision, opts, &sink).unwrap_or_else(|e| panic!("{e}"));
    assert!(notes(&a3.url).is_empty());
    destroy("notes-a", opts);
    let done = destroy("notes-b", opts);
    assert!(
        done.iter()
            .any(|l| l.contains("stopped the local PostgreSQL")),
        "{done:?}"
    );
}

/// A Node app whose database connection is written as literals in a config
/// module (user `postgres`, password `123`, database `testdb`, no port) and
/// whose `settings.js` is gitignored with only `settings.js.example`
/// committed: the copy gets the settings from the example and reads the
/// deployment's database through the source fixes, against the tool's own
/// PostgreSQL on its own port. The source folder is left as it was.
#[test]
fn hard_coded_credentials_and_a_file_from_its_example_are_handled_in_the_copy() {
    if !have(&["initdb", "pg_ctl", "psql", "npm"]) {
        return;
    }
    let home = home();
    let opts = &home.opts;
    let dir = app("books_hardcoded_pg");
    let (analysis, decision) = plan(&dir);
    let a =
        start("books", &dir, &analysis, &decision, opts, &sink).unwrap_or_else(|e| panic!("{e}"));
    let log = std::fs::read_to_string(&a.log_file).unwrap();
    assert!(
        log.contains("created settings.js in the copy from settings.js.example"),
        "{log}"
    );
    assert!(log.contains("process.env.DB_PASSWORD"), "{log}");
    let (code, body) = get(&a.url);
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("books from the example settings"), "{body}");
    assert_eq!(post(&format!("{}/books", a.url), "Dune"), 201);
    let (code, body) = get(&format!("{}/books", a.url));
    assert_eq!(code, 200, "{body}");
    assert_eq!(body, r#"{"books":["Dune"]}"#);
    assert!(
        !dir.join("settings.js").exists(),
        "the source folder is not changed"
    );
    assert!(std::fs::read_to_string(dir.join("app/config/db.config.js"))
        .unwrap()
        .contains("HOST: \"localhost\","));
    destroy("books", opts);
}

#[test]
fn a_failing_migration_leaves_the_serving_version_up() {
    if !have(&["initdb", "pg_ctl", "psql"]) {
        return;
    }
    let home = home();
    let opts = &home.opts;
    let dir = app("notes_pg");
    let (analysis, decision) = plan(&dir);
    let first =
        start("mig", &dir, &analysis, &decision, opts, &sink).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(post(&format!("{}/notes", first.url), "kept"), 201);

    let mut broken = decision.clone();
    broken.services[0].release =
        Some("python -c 'raise SystemExit(\"migration 0042 failed\")'".into());
    let err = start("mig", &dir, &analysis, &broken, opts, &sink).unwrap_err();
    match &err {
        LocalError::RedeployFailed {
            cause,
            serving,
            release,
        } => {
            assert_eq!(serving, &first.url);
            assert_eq!(*release, 1);
            let c = cause.to_string();
            assert!(c.contains("release step"), "{c}");
            assert!(c.contains("migration 0042 failed"), "{c}");
        }
        other => panic!("{other}"),
    }
    // Still served by release 1, data intact.
    assert_eq!(notes(&first.url), vec!["kept"]);
    destroy("mig", opts);
}

#[test]
fn mysql_app_gets_host_port_user_password_and_name_separately() {
    if !have(&["mariadbd", "mariadb", "mariadb-install-db"]) {
        return;
    }
    let home = home();
    let opts = &home.opts;
    let dir = app("notes_mysql");
    let (analysis, decision) = plan(&dir);
    let a = start("my-notes", &dir, &analysis, &decision, opts, &sink)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(post(&format!("{}/notes", a.url), "in mysql"), 201);
    assert_eq!(notes(&a.url), vec!["in mysql"]);
    // The password is in the 0600 secrets file, nowhere in the spec or log.
    let secrets = std::fs::read_to_string(a.release_dir.join("secrets.env")).unwrap();
    let pw = secrets
        .lines()
        .find_map(|l| l.strip_prefix("MYSQL_PASSWORD="))
        .expect("MYSQL_PASSWORD is a secret");
    let spec = std::fs::read_to_string(a.release_dir.join("run/notes-mysql.spec.json")).unwrap();
    assert!(!spec.contains(pw));
    assert!(!std::fs::read_to_string(&a.log_file).unwrap().contains(pw));
    let done = destroy("my-notes", opts);
    assert!(done.iter().any(|l| l.contains("dropped MySQL")), "{done:?}");
}

#[test]
fn redis_app_counts_in_its_own_server_and_keeps_the_count_across_redeploys() {
    if !have(&["redis-server"]) {
        return;
    }
    let home = home();
    let opts = &home.opts;
    let dir = app("counter_redis");
    let (analysis, decision) = plan(&dir);
    let a =
        start("hits", &dir, &analysis, &decision, opts, &sink).unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..2 {
        assert_eq!(get(&format!("{}/count", a.url)).0, 200);
    }
    let again =
        start("hits", &dir, &analysis, &decision, opts, &sink).unwrap_or_else(|e| panic!("{e}"));
    let (_, body) = get(&format!("{}/count", again.url));
    assert!(body.contains("\"hits\": 3"), "{body}");
    destroy("hits", opts);
    assert!(!home.dir.path().join("services/redis/hits").exists());
}
