//! Who is executing a deployment right now: a small file in the
//! deployment's folder with the host name and process id of the CLI or
//! worker that runs it. `status` uses it to tell a deployment whose process
//! was killed (SIGKILL, crash, reboot) from one still in progress, and
//! reports it as interrupted. Service workers have leases in the store for
//! the same purpose; this file covers the CLI, which has no lease, and tells
//! a worker that reclaims a job that its previous runner on this host is gone.
//!
//! [`stop_processes_under`] stops what a dead runner started under a folder
//! (a half-started release's supervisor and app) before the job runs again.

use std::path::Path;

const FILE: &str = "runner";

pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

/// Record this process as the one executing the deployment in `dir`.
pub fn claim(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join(FILE),
        format!("{} {}\n", hostname(), std::process::id()),
    )
}

/// Forget the runner (execution ended normally).
pub fn release(dir: &Path) {
    let _ = std::fs::remove_file(dir.join(FILE));
}

/// `Some(false)`: the recorded runner was on this host and is gone (the
/// deployment was interrupted). `Some(true)`: it is alive. `None`: no
/// runner recorded, or it ran on another host (cannot tell from here).
pub fn alive(dir: &Path) -> Option<bool> {
    let text = std::fs::read_to_string(dir.join(FILE)).ok()?;
    let mut parts = text.split_whitespace();
    let host = parts.next()?;
    let pid: i32 = parts.next()?.parse().ok()?;
    if host != hostname() {
        return None;
    }
    Some(pid_alive(pid))
}

pub fn pid_alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 only checks whether the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    if r == 0 {
        // A zombie still "exists"; treat it as gone.
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        return !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z'));
    }
    std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Stop every process of this user whose working folder, or whose command
/// line, lies under `dir`: SIGTERM, then SIGKILL after `grace`. Returns how
/// many there were. For what a dead runner left behind, never for a
/// deployment that serves.
pub fn stop_processes_under(dir: &Path, grace: std::time::Duration) -> usize {
    let Ok(dir) = dir.canonicalize() else {
        return 0;
    };
    let needle = dir.to_string_lossy().into_owned();
    let me = std::process::id() as i32;
    let find = || -> Vec<i32> {
        let Ok(rd) = std::fs::read_dir("/proc") else {
            return vec![];
        };
        rd.flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
            .filter(|&pid| pid != me && pid_alive(pid))
            .filter(|pid| {
                let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap_or_default();
                let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                cwd.starts_with(&dir) || String::from_utf8_lossy(&cmd).contains(&needle)
            })
            .collect()
    };
    let found = find();
    for pid in &found {
        // SAFETY: kill(2) on a process id; no memory is shared.
        unsafe { libc::kill(*pid, libc::SIGTERM) };
    }
    let deadline = std::time::Instant::now() + grace;
    while !find().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    for pid in find() {
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    found.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processes_under_a_folder_are_stopped() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("releases/1/app");
        std::fs::create_dir_all(&dir).unwrap();
        let mut child = std::process::Command::new("sleep")
            .arg("300")
            .current_dir(&dir)
            .spawn()
            .unwrap();
        let n = stop_processes_under(
            &t.path().join("releases"),
            std::time::Duration::from_secs(5),
        );
        assert_eq!(n, 1);
        child.wait().unwrap();
        assert_eq!(
            stop_processes_under(
                &t.path().join("releases"),
                std::time::Duration::from_secs(1)
            ),
            0
        );
    }
}
