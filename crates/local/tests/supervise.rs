//! The supervisor against real processes: a killed app comes back, a crash
//! loop is given up on and reported, and a supervisor killed outright still
//! leaves nothing behind after `stop_and_remove`.

mod common;

use autodeploy_local::{start, status, stop_and_remove, LocalError, LocalStatus, RestartPolicy};
use common::*;
use std::time::Duration;

fn stdlib_app() -> std::path::PathBuf {
    repo_path("tests/fixtures/python_stdlib_http_server")
}

fn app_pid(id: &str, opts: &autodeploy_local::LocalOptions) -> Option<u32> {
    match status(id, opts).ok()? {
        LocalStatus::Running { app_pid, .. } => app_pid,
        _ => None,
    }
}

#[test]
fn a_killed_app_is_restarted() {
    let home = home();
    let run = deploy("crash", &stdlib_app(), &home.opts).unwrap_or_else(|e| panic!("{e}"));
    let first = app_pid("crash", &home.opts).expect("app pid");
    assert!(pid_alive(first));
    // SIGKILL the app itself (not the supervisor).
    unsafe_kill(first, 9);
    let back = wait_for(Duration::from_secs(20), || {
        matches!(
            status("crash", &home.opts),
            Ok(LocalStatus::Running { healthy: true, restarts: 1, app_pid: Some(p), .. }) if p != first
        )
    });
    assert!(back, "not restarted: {:?}", status("crash", &home.opts));
    let (code, body) = get(&format!("{}/health", run.app.url));
    assert_eq!((code, body.contains("ok")), (200, true));
    let log = std::fs::read_to_string(&run.app.log_file).unwrap();
    assert!(log.contains("restarting in 1.0 s"), "{log}");
    assert!(log.matches("listening on").count() >= 2, "{log}");
}

fn unsafe_kill(pid: u32, sig: i32) {
    let ok = std::process::Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{sig} {pid}");
}

#[test]
fn a_crash_loop_is_given_up_and_reported() {
    let home = home();
    let mut opts = home.opts.clone();
    opts.restart = RestartPolicy {
        initial_backoff_ms: 50,
        max_backoff_ms: 200,
        max_crashes: 4,
        short_run_ms: 60_000,
        stop_grace_ms: 2_000,
    };
    opts.health_timeout = Duration::from_secs(60);
    let dir = stdlib_app();
    let (analysis, mut decision) = plan(&dir);
    decision.services[0].start =
        Some("python -c \"import sys; print('boom at start'); sys.exit(3)\"".into());
    let t0 = std::time::Instant::now();
    let err = start("loop", &dir, &analysis, &decision, &opts, &sink).unwrap_err();
    assert!(
        t0.elapsed() < Duration::from_secs(50),
        "waited for the whole timeout"
    );
    match &err {
        LocalError::Crashed {
            tail, exit, exits, ..
        } => {
            // The app's own output, not the build's.
            assert!(tail.contains("boom at start"), "{tail}");
            assert!(!tail.contains("venv"), "{tail}");
            assert!(exit.contains('3'), "{exit}");
            assert!(*exits >= 1);
        }
        other => panic!("{other}"),
    }
    assert!(
        matches!(status("loop", &opts).unwrap(), LocalStatus::Stopped { .. }),
        "a crashed first deploy is stopped"
    );
    stop_and_remove("loop", &opts).unwrap();
    assert_eq!(status("loop", &opts).unwrap(), LocalStatus::NotFound);
}

#[test]
fn stop_cleans_up_after_a_killed_supervisor() {
    let home = home();
    let run = deploy("orphan", &stdlib_app(), &home.opts).unwrap_or_else(|e| panic!("{e}"));
    let app = app_pid("orphan", &home.opts).expect("app pid");
    unsafe_kill(run.app.pid, 9);
    assert!(wait_for(Duration::from_secs(5), || !pid_alive(run.app.pid)));
    // The app outlives its supervisor…
    assert!(pid_alive(app));
    assert_eq!(
        status("orphan", &home.opts).unwrap(),
        LocalStatus::Stopped {
            reason: "supervisor not running".into()
        }
    );
    // …until stop_and_remove takes its process group down.
    stop_and_remove("orphan", &home.opts).unwrap();
    assert!(wait_for(Duration::from_secs(5), || !pid_alive(app)));
    assert!(wait_for(Duration::from_secs(5), || port_free(run.app.port)));
    assert!(!run.app.dir.exists());
}

#[test]
fn a_second_start_replaces_the_running_version_on_the_same_url() {
    let home = home();
    let run = deploy("twice", &stdlib_app(), &home.opts).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(run.app.release, 1);
    let (analysis, decision) = plan(&stdlib_app());
    let second = start(
        "twice",
        &stdlib_app(),
        &analysis,
        &decision,
        &home.opts,
        &sink,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(second.release, 2);
    assert_eq!(second.url, run.app.url, "one URL across redeploys");
    assert_ne!(second.pid, run.app.pid);
    assert!(
        wait_for(Duration::from_secs(15), || !pid_alive(run.app.pid)),
        "the first release's supervisor was stopped"
    );
    assert_eq!(get(&second.url).0, 200);
    // Only the serving release keeps its files.
    assert!(!run.app.release_dir.exists());
    assert!(second.release_dir.exists());
}
