//! Who is executing a deployment right now: a small file in the
//! deployment's folder with the host name and process id of the CLI or
//! worker that runs it. `status` uses it to tell a deployment whose process
//! was killed (SIGKILL, crash, reboot) from one still in progress, and
//! reports it as interrupted. Service workers have leases in the store for
//! the same purpose; this file covers the CLI, which has no lease.

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
