//! A deployment's code runs confined: as root, under an account of its own
//! that cannot read the store, the secrets key, or another deployment's
//! files, inside a cgroup of its own with limits; the app answers only on
//! 127.0.0.1. (Not root: the app runs as the invoking user.)

mod common;

use autodeploy_local::{sandbox, start, stop_and_remove};
use common::*;

fn probe(url: &str) -> serde_json::Value {
    let (code, body) = get(url);
    assert_eq!(code, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

#[test]
fn each_deployment_runs_as_its_own_account_and_cannot_read_the_others() {
    let home = home();
    let dir = app("probe");
    let (analysis, decision) = plan(&dir);
    // What must stay private: the store, the sealing key, and another
    // deployment's secrets.
    let store = home.dir.path().join("autodeploy.db");
    std::fs::write(&store, "tokens").unwrap();
    let key = home.dir.path().join("secrets.key");
    std::fs::write(&key, [7u8; 32]).unwrap();
    for f in [&store, &key] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let a = start("probe-a", &dir, &analysis, &decision, &home.opts, &sink)
        .unwrap_or_else(|e| panic!("{e}"));
    let a_secrets = a.release_dir.join("secrets.env");
    let mut opts = home.opts.clone();
    opts.extra_env = vec![(
        "PROBE_PATHS".into(),
        format!(
            "{}:{}:{}:{}",
            store.display(),
            key.display(),
            a_secrets.display(),
            a.release_dir.join("app/server.py").display()
        ),
    )];
    let b = start("probe-b", &dir, &analysis, &decision, &opts, &sink)
        .unwrap_or_else(|e| panic!("{e}"));
    let seen = probe(&b.url);

    if autodeploy_local::account::is_root() {
        assert_ne!(seen["uid"], 0, "the app does not run as root: {seen}");
        let expected = autodeploy_local::account::lookup(&sandbox::account_name("probe-b"))
            .expect("the deployment's account exists");
        assert_eq!(seen["uid"], expected.uid);
        for (path, can) in seen["readable"].as_object().unwrap() {
            assert_eq!(can, false, "{path} is readable by another deployment");
        }
        // Its home and temp folders are its own, not root's.
        assert!(seen["home"]
            .as_str()
            .unwrap()
            .starts_with(&b.release_dir.display().to_string()));
        // A cgroup of its own, when the machine has cgroups we can make.
        if std::path::Path::new("/sys/fs/cgroup/memory/cgroup.procs").exists()
            || std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists()
        {
            let cg = seen["cgroups"].as_str().unwrap();
            assert!(cg.contains("autodeploy/probe-b"), "{cg}");
        }
    } else {
        eprintln!("not root: the app runs as the invoking user (no per-deployment account)");
        assert_eq!(seen["uid"], unsafe_getuid());
    }

    // The front answers on loopback only.
    let port = b.port;
    let others: Vec<std::net::IpAddr> = local_addresses()
        .into_iter()
        .filter(|ip| !ip.is_loopback())
        .collect();
    for ip in others {
        assert!(
            std::net::TcpStream::connect_timeout(
                &std::net::SocketAddr::new(ip, port),
                std::time::Duration::from_secs(2)
            )
            .is_err(),
            "the app answers on {ip}:{port}"
        );
    }

    stop_and_remove("probe-a", &home.opts).unwrap();
    stop_and_remove("probe-b", &home.opts).unwrap();
    if autodeploy_local::account::is_root() {
        assert!(
            autodeploy_local::account::lookup(&sandbox::account_name("probe-b")).is_none(),
            "destroy removes the account"
        );
    }
}

fn unsafe_getuid() -> u32 {
    let out = std::process::Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// This machine's addresses (from `hostname -I`; empty when unknown).
fn local_addresses() -> Vec<std::net::IpAddr> {
    std::process::Command::new("hostname")
        .arg("-I")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .filter_map(|s| s.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// A deploy killed outright (`kill -9` of the CLI during its install step)
/// leaves that step running, recorded by no supervisor, writing into the
/// release folder. `destroy` must still stop it and remove the folder: the
/// deployment's cgroup and account name every process it has.
#[test]
fn destroy_stops_a_step_its_killed_caller_left_behind() {
    use std::os::unix::process::CommandExt;
    let home = home();
    let dir = app("probe");
    let (analysis, decision) = plan(&dir);
    let a = start("orphan", &dir, &analysis, &decision, &home.opts, &sink)
        .unwrap_or_else(|e| panic!("{e}"));
    let confine = sandbox::prepare("orphan", sandbox::Limits::default()).unwrap();
    if confine.uid.is_none() && confine.cgroups.is_empty() {
        eprintln!("\n*** SKIPPED: not root and no cgroup of our own: nothing names an orphaned step ***\n");
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: this prerequisite must be there (see above)"
        );
        stop_and_remove("orphan", &home.opts).unwrap();
        return;
    }
    // The orphan: a writer in its own process group, so stopping the
    // supervisors (which signal the app's group) does not reach it.
    let target = a.release_dir.join("tmp");
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg(r#"i=0; while :; do i=$((i+1)); mkdir -p "$1/w$i" && : > "$1/w$i/f"; done"#)
        .arg("sh")
        .arg(&target)
        .process_group(0);
    confine.apply(&mut cmd);
    let mut orphan = cmd.spawn().unwrap();
    let writing = || {
        std::fs::read_dir(&target)
            .map(|d| d.count() > 20)
            .unwrap_or(false)
    };
    let t0 = std::time::Instant::now();
    while !writing() {
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(20),
            "the orphan never wrote"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }

    stop_and_remove("orphan", &home.opts).unwrap_or_else(|e| panic!("{e}"));

    assert!(!a.release_dir.exists(), "the release folder is gone");
    let t0 = std::time::Instant::now();
    let status = loop {
        if let Some(s) = orphan.try_wait().unwrap() {
            break s;
        }
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(5),
            "the orphaned step still runs after destroy"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{status}");
}
