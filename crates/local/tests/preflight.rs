//! What `start` refuses before doing any work: a missing toolchain, a
//! database it does not provide, a taken port, a bad id.

mod common;

use autodeploy_local::{start, LocalError};
use common::*;

#[test]
fn a_missing_toolchain_is_named_with_a_hint_before_any_file_is_written() {
    let home = home();
    let mut opts = home.opts.clone();
    let empty = tempfile::tempdir().unwrap();
    opts.path = Some(empty.path().as_os_str().to_owned());
    for (dir, runtime, hint) in [
        (app("go_hello"), "go", "golang-go"),
        (app("express_hello"), "node", "nodejs"),
        (repo_path("examples/hello_world"), "python", "python3"),
    ] {
        let (analysis, decision) = plan(&dir);
        let err = start("nope", &dir, &analysis, &decision, &opts, &sink).unwrap_err();
        match &err {
            LocalError::RuntimeMissing {
                runtime: r,
                hint: h,
                ..
            } => {
                assert_eq!(r, runtime);
                assert!(h.contains(hint), "{h}");
            }
            other => panic!("{other}"),
        }
        assert!(err.to_string().contains("install"), "{err}");
    }
    assert!(!home.dir.path().join("deployments").exists());
}

#[test]
fn a_mongodb_app_is_told_which_flag_supplies_its_database() {
    let home = home();
    let dir = repo_path("tests/fixtures/python_django_postgres");
    let (analysis, mut decision) = plan(&dir);
    // Debian packages no MongoDB: the local target cannot start one.
    decision.database.as_mut().expect("a database").engine =
        autodeploy_core::DatabaseEngine::Mongodb;
    let err = start("mongo", &dir, &analysis, &decision, &home.opts, &sink).unwrap_err();
    match &err {
        LocalError::NotProvided { what, hint, .. } => {
            assert!(what.contains("MongoDB"), "{what}");
            assert!(hint.contains("--env "), "{hint}");
            assert!(hint.contains("=mongodb://"), "{hint}");
        }
        other => panic!("{other}"),
    }
    assert!(!home.dir.path().join("deployments").exists());
    assert!(!home.dir.path().join("services").exists());
}

#[test]
fn a_taken_port_is_refused() {
    let home = home();
    let held = std::net::TcpListener::bind(("0.0.0.0", 0)).unwrap();
    let mut opts = home.opts.clone();
    opts.port = Some(held.local_addr().unwrap().port());
    let dir = repo_path("tests/fixtures/python_stdlib_http_server");
    let (analysis, decision) = plan(&dir);
    let err = start("port", &dir, &analysis, &decision, &opts, &sink).unwrap_err();
    assert!(matches!(err, LocalError::PortUnavailable { .. }), "{err}");
}

#[test]
fn ids_that_are_not_plain_names_are_refused() {
    let home = home();
    let dir = repo_path("tests/fixtures/python_stdlib_http_server");
    let (analysis, decision) = plan(&dir);
    for id in ["../evil", "a/b", ""] {
        let err = start(id, &dir, &analysis, &decision, &home.opts, &sink).unwrap_err();
        assert!(matches!(err, LocalError::InvalidId { .. }), "{err}");
        assert!(matches!(
            autodeploy_local::stop_and_remove(id, &home.opts),
            Err(LocalError::InvalidId { .. })
        ));
    }
}

#[test]
fn a_nearly_full_disk_is_refused_before_anything_is_written() {
    let home = home();
    let small = home.dir.path().join("small");
    std::fs::create_dir_all(&small).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64m", "tmpfs"])
        .arg(&small)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI runs as root and must be able to mount a tmpfs"
        );
        eprintln!("SKIPPED (not counted as a pass): cannot mount a tmpfs as this user");
        return;
    }
    let mut opts = home.opts.clone();
    opts.home = small.join("home");
    let dir = repo_path("tests/fixtures/python_stdlib_http_server");
    let (analysis, decision) = plan(&dir);
    let err = start("full", &dir, &analysis, &decision, &opts, &sink).unwrap_err();
    let nothing = !small.join("home/deployments/full").exists();
    let _ = std::process::Command::new("umount").arg(&small).status();
    assert!(matches!(err, LocalError::NoSpace { .. }), "{err}");
    assert!(err.to_string().contains("AUTODEPLOY_HOME"), "{err}");
    assert!(nothing, "nothing was written");
}
