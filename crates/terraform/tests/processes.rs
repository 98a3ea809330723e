//! Terraform and its provider plugins never outlive the runner that started
//! them. A stand-in `terraform` (a shell script that starts a long-lived
//! "provider" child in its process group and then waits) proves:
//! - cancelling interrupts terraform (SIGINT), returns `Interrupted`, and
//!   leaves no process of its group behind — even a provider terraform did
//!   not stop itself;
//! - a runner killed with SIGKILL takes terraform with it (the kernel sends
//!   it SIGTERM), and its provider goes too;
//! - `stop_leftovers` stops whatever still runs in a workspace.

use autodeploy_terraform::{stop_leftovers, Backend, Terraform, TfError, Workspace};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `kill_provider_on_signal`: whether the fake terraform stops its provider
/// itself when signalled (real terraform does; a crashing one would not).
fn fake_terraform(dir: &Path, kill_provider_on_signal: bool) -> PathBuf {
    let path = dir.join("terraform");
    let on_signal = if kill_provider_on_signal {
        "kill $p 2>/dev/null; exit 1"
    } else {
        "exit 1"
    };
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\n\
             if [ \"$1\" = version ]; then echo '{{\"terraform_version\":\"1.9.0\"}}'; exit 0; fi\n\
             sleep 600 &\n\
             p=$!\n\
             echo $p > \"$PWD/provider.pid\"\n\
             echo $$ > \"$PWD/terraform.pid\"\n\
             trap '{on_signal}' INT TERM\n\
             while :; do sleep 0.05; done\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    if unsafe { libc::kill(pid, 0) } != 0 {
        return false;
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    !stat
        .rsplit(')')
        .next()
        .is_some_and(|r| r.trim_start().starts_with('Z'))
}

fn read_pid(path: &Path, within: Duration) -> i32 {
    let deadline = Instant::now() + within;
    loop {
        if let Some(pid) = std::fs::read_to_string(path)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            return pid;
        }
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_gone(pid: i32, within: Duration) {
    let deadline = Instant::now() + within;
    while alive(pid) {
        assert!(
            Instant::now() < deadline,
            "process {pid} still runs after {within:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn setup(kill_provider: bool) -> (tempfile::TempDir, Terraform, Workspace) {
    let t = tempfile::tempdir().unwrap();
    let bin = fake_terraform(t.path(), kill_provider);
    let tf = Terraform::discover(Some(&bin), &t.path().join("home")).unwrap();
    let ws_dir = t.path().join("ws");
    std::fs::create_dir_all(&ws_dir).unwrap();
    (t, tf, Workspace::new(ws_dir, Backend::Local))
}

#[test]
fn cancelling_interrupts_terraform_and_kills_its_group() {
    let (_t, tf, ws) = setup(false);
    let flag = Arc::new(AtomicBool::new(false));
    let tf = tf.with_cancel(flag.clone(), Duration::from_secs(5));
    let dir = ws.dir.clone();
    let run = std::thread::spawn(move || tf.init(&ws, &|_, _| {}));
    let terraform = read_pid(&dir.join("terraform.pid"), Duration::from_secs(20));
    let provider = read_pid(&dir.join("provider.pid"), Duration::from_secs(20));
    flag.store(true, Ordering::SeqCst);
    let result = run.join().unwrap();
    assert!(
        matches!(result, Err(TfError::Interrupted { .. })),
        "{result:?}"
    );
    wait_gone(terraform, Duration::from_secs(10));
    // The fake left its provider running: the runner killed the group.
    wait_gone(provider, Duration::from_secs(10));
}

/// Re-run of this test binary as the "runner" that gets SIGKILLed.
const CHILD: &str = "AUTODEPLOY_TF_PROCESS_TEST_CHILD";

#[test]
fn a_killed_runner_takes_terraform_and_its_provider_with_it() {
    if let Ok(home) = std::env::var(CHILD) {
        let home = PathBuf::from(home);
        let bin = home.join("terraform");
        let tf = Terraform::discover(Some(&bin), &home.join("home")).unwrap();
        let ws = Workspace::new(home.join("ws"), Backend::Local);
        let _ = tf.init(&ws, &|_, _| {});
        return;
    }
    let t = tempfile::tempdir().unwrap();
    fake_terraform(t.path(), true);
    std::fs::create_dir_all(t.path().join("ws")).unwrap();
    let mut runner = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_killed_runner_takes_terraform_and_its_provider_with_it",
            "--nocapture",
        ])
        .env(CHILD, t.path())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let ws = t.path().join("ws");
    let terraform = read_pid(&ws.join("terraform.pid"), Duration::from_secs(30));
    let provider = read_pid(&ws.join("provider.pid"), Duration::from_secs(30));
    runner.kill().unwrap();
    runner.wait().unwrap();
    wait_gone(terraform, Duration::from_secs(10));
    wait_gone(provider, Duration::from_secs(10));
}

#[test]
fn leftovers_in_a_workspace_are_stopped() {
    let t = tempfile::tempdir().unwrap();
    let bin = fake_terraform(t.path(), false);
    let ws = t.path().join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    // Started the way a dead runner would have left it: its own group, no
    // parent watching.
    use std::os::unix::process::CommandExt;
    let mut orphan = std::process::Command::new(&bin)
        .arg("apply")
        .current_dir(&ws)
        .process_group(0)
        .spawn()
        .unwrap();
    let terraform = read_pid(&ws.join("terraform.pid"), Duration::from_secs(20));
    let provider = read_pid(&ws.join("provider.pid"), Duration::from_secs(20));
    assert_eq!(stop_leftovers(&ws, Duration::from_secs(5)), 1);
    orphan.wait().unwrap();
    wait_gone(terraform, Duration::from_secs(10));
    wait_gone(provider, Duration::from_secs(10));
    assert_eq!(stop_leftovers(&ws, Duration::from_secs(1)), 0);
}
