//! End to end on real apps: analyze + decide for the local target, start the
//! app with its real toolchain (venv + pip, npm, go build), request its URL,
//! check `status`, stop it, and check the port is free and the files gone.

mod common;

use autodeploy_local::{status, stop_and_remove, LocalStatus};
use common::*;
use std::path::Path;
use std::time::Duration;

/// Deploy `dir`, GET `path`, expect `needle` in the body, then tear down and
/// check nothing is left.
fn round_trip(id: &str, dir: &Path, path: &str, needle: &str) {
    let home = home();
    let opts = &home.opts;
    let t0 = std::time::Instant::now();
    let run = deploy(id, dir, opts).unwrap_or_else(|e| panic!("{id}: {e}"));
    let started = t0.elapsed();
    let app = run.app.clone();
    assert!(app.url.starts_with("http://127.0.0.1:"));
    let (code, body) = get(&format!("{}{path}", app.url));
    assert_eq!(code, 200, "{id}: GET {path} → {code}: {body}");
    assert!(body.contains(needle), "{id}: {body:?} lacks {needle:?}");

    match status(id, opts).unwrap() {
        LocalStatus::Running {
            pid,
            port,
            healthy,
            restarts,
            ..
        } => {
            assert_eq!(pid, app.pid);
            assert_eq!(port, app.port);
            assert!(healthy);
            assert_eq!(restarts, 0);
        }
        other => panic!("{id}: status {other:?}"),
    }
    let log = std::fs::read_to_string(&app.log_file).unwrap();
    assert!(log.contains(" system "), "{log}");

    let t1 = std::time::Instant::now();
    stop_and_remove(id, opts).unwrap();
    eprintln!(
        "TIMING {id}: start+healthy {:.1} s, stop+remove {:.2} s",
        started.as_secs_f64(),
        t1.elapsed().as_secs_f64()
    );
    assert!(
        !app.dir.exists(),
        "{id}: files left in {}",
        app.dir.display()
    );
    assert!(
        !pid_alive(app.pid),
        "{id}: supervisor {} still alive",
        app.pid
    );
    assert!(
        wait_for(Duration::from_secs(5), || port_free(app.port)),
        "{id}: port {} still taken",
        app.port
    );
    assert_eq!(status(id, opts).unwrap(), LocalStatus::NotFound);
    // Idempotent.
    stop_and_remove(id, opts).unwrap();
    drop(run);
}

#[test]
fn flask_hello_world_shape_runs_on_an_assigned_port_with_its_copy_fixed() {
    let src = repo_path("examples/hello_world");
    let page_before = std::fs::read_to_string(src.join("app/templates/index.html")).unwrap();
    let home = home();
    let run = deploy("flask-hello", &src, &home.opts).unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(run.app.port, 5000);
    let (code, body) = get(&format!("{}/api/message", run.app.url));
    assert_eq!(code, 200);
    assert!(body.contains("Hello, World!"), "{body}");
    let (_, page) = get(&run.app.url);
    assert!(page.contains("fetch(\"/api/message\")"), "{page}");
    assert!(!page.contains("localhost:5000"));
    // The user's tree is untouched; the copy has the fix.
    assert_eq!(
        std::fs::read_to_string(src.join("app/templates/index.html")).unwrap(),
        page_before
    );
    // It keeps listening on loopback: its front is what answers.
    assert!(
        !std::fs::read_to_string(run.app.release_dir.join("app/app/app.py"))
            .unwrap()
            .contains("host=\"0.0.0.0\"")
    );
    drop(run);
    round_trip("flask-hello-2", &src, "/api/message", "Hello, World!");
}

#[test]
fn fastapi_app_runs() {
    round_trip("fastapi", &app("fastapi_items"), "/items", "pear");
}

#[test]
fn django_app_runs_with_a_generated_secret_key_and_sqlite() {
    let home = home();
    let run = deploy("django", &app("django_notes"), &home.opts).unwrap_or_else(|e| panic!("{e}"));
    let (code, body) = get(&run.app.url);
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("first note"), "{body}");
    // The secret is in secrets.env (0600) and nowhere in the logs or specs.
    use std::os::unix::fs::PermissionsExt;
    let secrets = run.app.release_dir.join("secrets.env");
    let mode = std::fs::metadata(&secrets).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let text = std::fs::read_to_string(&secrets).unwrap();
    let key = text
        .lines()
        .find_map(|l| l.strip_prefix("DJANGO_SECRET_KEY="))
        .expect("DJANGO_SECRET_KEY in secrets.env");
    assert_eq!(key.len(), 50);
    for f in [
        run.app.dir.join("app.log"),
        run.app.dir.join("deployment.json"),
        run.app.release_dir.join("run/django-notes.spec.json"),
    ] {
        let t = std::fs::read_to_string(&f).unwrap();
        let f = f.display();
        assert!(!t.contains(key), "{f} leaks the secret");
    }
    // Its collected static files are served with DEBUG off (WhiteNoise in
    // the deployment's copy): gunicorn and Django serve none.
    let (code, body) = get(&format!("{}/static/notes/site.css", run.app.url));
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("color: #333"), "{body}");
    drop(run);
    round_trip("django-2", &app("django_notes"), "/", "first note");
}

#[test]
fn express_app_runs() {
    round_trip(
        "express",
        &app("express_hello"),
        "/api/hello",
        "hello from express",
    );
}

/// `server.listen(8123)` ignores PORT: the analyzer's fix makes the copy read
/// it, so the app answers on the port the runner assigned (never 8123).
#[test]
fn node_app_with_a_port_written_in_the_code_runs_on_the_assigned_port() {
    let src = app("node_fixed_port");
    let before = std::fs::read_to_string(src.join("server.js")).unwrap();
    let home = home();
    let run = deploy("fixed-port", &src, &home.opts).unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(run.app.port, 8123);
    let (code, body) = get(&run.app.url);
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("hello from a fixed port"), "{body}");
    // the copy reads PORT; the source is untouched
    let copy = std::fs::read_to_string(run.app.release_dir.join("app/server.js")).unwrap();
    assert!(
        copy.contains("server.listen(process.env.PORT || 8123"),
        "{copy}"
    );
    assert_eq!(
        std::fs::read_to_string(src.join("server.js")).unwrap(),
        before
    );
    stop_and_remove("fixed-port", &home.opts).unwrap();
}

/// The same for a Python script run as `python main.py`.
#[test]
fn python_script_with_a_port_written_in_the_code_runs_on_the_assigned_port() {
    let src = app("python_fixed_port");
    let home = home();
    let run = deploy("py-fixed-port", &src, &home.opts).unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(run.app.port, 8124);
    let (code, body) = get(&run.app.url);
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("hello from python on a fixed port"), "{body}");
    stop_and_remove("py-fixed-port", &home.opts).unwrap();
}

#[test]
fn go_net_http_app_runs() {
    round_trip("go", &app("go_hello"), "/", "hello from go");
}

/// A tree from before Go modules (no go.mod, Godeps, its dependency in
/// vendor/, a Heroku Procfile naming the binary) builds in GOPATH mode.
#[test]
fn a_go_tree_without_go_mod_builds_in_gopath_mode() {
    round_trip("gopath", &app("go_gopath"), "/", "hello from a GOPATH tree");
}

#[test]
fn python_stdlib_app_runs() {
    round_trip(
        "stdlib",
        &repo_path("tests/fixtures/python_stdlib_http_server"),
        "/health",
        "ok",
    );
}

/// A SQLite file in a folder git does not keep (`data/`): the copy gets
/// the folder, or the app fails at import ("unable to open database file").
#[test]
fn an_app_keeping_sqlite_in_a_folder_git_drops_gets_the_folder() {
    round_trip("sqlitedir", &app("sqlite_data_dir"), "/", "visits: ");
}

/// A redeploy runs from a new copy of the code: the SQLite file the app
/// wrote into its copy comes along (before the release steps), so nothing it
/// stored is lost; the build's own files are not copied back over.
#[test]
fn a_redeploy_keeps_what_the_app_wrote_into_its_copy() {
    let home = home();
    let dir = app("sqlite_data_dir");
    let run = deploy("keeps", &dir, &home.opts).unwrap_or_else(|e| panic!("{e}"));
    let url = run.app.url.clone();
    let mut last = String::new();
    for _ in 0..3 {
        last = get(&format!("{url}/")).1;
    }
    let before: u32 = last.trim().trim_start_matches("visits: ").parse().unwrap();
    let (analysis, decision) = plan(&dir);
    let lines = std::sync::Mutex::new(Vec::<String>::new());
    let collect = |_: autodeploy_core::LogStream, l: &str| lines.lock().unwrap().push(l.into());
    let second = autodeploy_local::start("keeps", &dir, &analysis, &decision, &home.opts, &collect)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(second.release, 2);
    let log = lines.lock().unwrap().join("\n");
    assert!(
        log.contains("kept 1 file(s)") && log.contains("data/visits.sqlite3"),
        "{log}"
    );
    let (code, body) = get(&format!("{}/", second.url));
    assert_eq!(code, 200, "{body}");
    let after: u32 = body.trim().trim_start_matches("visits: ").parse().unwrap();
    assert!(
        after > before,
        "the visits of release 1 were lost: {before} then {body}"
    );
    assert!(second.release_dir.join("built-files.json").is_file());
    stop_and_remove("keeps", &home.opts).unwrap();
}

/// A project whose database is created by a command that wipes it
/// (`npm run init-db`, as the Flask tutorial's `flask init-db`): the first
/// deploy runs it, a redeploy does not, and the data the app wrote since is
/// still there.
#[test]
fn the_database_is_created_on_the_first_deploy_only() {
    let home = home();
    let dir = app("node_init_db");
    let (analysis, decision) = plan(&dir);
    assert_eq!(
        decision.services[0].init.as_deref(),
        Some("npm run init-db")
    );
    let lines = std::sync::Mutex::new(Vec::<String>::new());
    let collect = |_: autodeploy_core::LogStream, l: &str| lines.lock().unwrap().push(l.into());
    let first =
        autodeploy_local::start("initonce", &dir, &analysis, &decision, &home.opts, &collect)
            .unwrap_or_else(|e| panic!("{e}"));
    assert!(lines
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.contains("init: npm run init-db")));
    let visits =
        |body: &str| -> u32 { body.trim().trim_start_matches("visits: ").parse().unwrap() };
    let (code, body) = get(&format!("{}/", first.url));
    assert_eq!(code, 200, "{body}");
    let before = visits(&body);
    lines.lock().unwrap().clear();
    let second =
        autodeploy_local::start("initonce", &dir, &analysis, &decision, &home.opts, &collect)
            .unwrap_or_else(|e| panic!("{e}"));
    let log = lines.lock().unwrap().join("\n");
    assert!(log.contains("is not run again"), "{log}");
    assert!(!log.contains("init: npm run init-db"), "{log}");
    let (code, body) = get(&format!("{}/", second.url));
    assert_eq!(code, 200, "{body}");
    assert!(
        visits(&body) > before,
        "the first release's visits were wiped: {before}, then {body}"
    );
    stop_and_remove("initonce", &home.opts).unwrap();
}

#[test]
fn static_site_is_served_by_the_supervisor() {
    round_trip(
        "static",
        &app("static_site"),
        "/",
        "a static site served locally",
    );
}

/// A Procfile's web and worker in one folder with the same dependencies
/// share one runtime, installed once: the worker says so in the log, gets no
/// runtime folder of its own, and runs with the web's Python.
#[test]
fn processes_of_one_folder_share_one_runtime() {
    let home = home();
    let opts = &home.opts;
    let dir = app("web_worker_procfile");
    let (analysis, decision) = plan(&dir);
    assert_eq!(decision.services.len(), 2, "{:?}", decision.services);
    let lines = std::sync::Mutex::new(Vec::<String>::new());
    let collect = |_: autodeploy_core::LogStream, l: &str| lines.lock().unwrap().push(l.into());
    let app = autodeploy_local::start("shared", &dir, &analysis, &decision, opts, &collect)
        .unwrap_or_else(|e| panic!("{e}"));
    let log = lines.lock().unwrap().join("\n");
    assert!(
        log.contains("worker: same folder, runtime, dependencies and build as web-worker-procfile: using its runtime"),
        "{log}"
    );
    assert_eq!(
        log.matches("install: pip install -r requirements.txt")
            .count(),
        1,
        "{log}"
    );
    let runtimes = home
        .dir
        .path()
        .join("deployments/shared/releases/1/runtime");
    assert!(runtimes.join("web-worker-procfile/venv").is_dir());
    assert!(!runtimes.join("worker").exists());
    let mut body = String::new();
    assert!(
        wait_for(Duration::from_secs(30), || {
            body = get(&format!("{}/", app.url)).1;
            body.starts_with("worker alive in ")
        }),
        "the worker never wrote: {body}"
    );
    assert!(body.ends_with("web-worker-procfile/venv"), "{body}");
    stop_and_remove("shared", opts).unwrap();
}
