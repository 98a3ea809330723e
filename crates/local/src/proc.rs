//! Small OS helpers the runner and the supervisor share: is a pid alive (and
//! still ours), signal a process group, find a free port, atomic file writes,
//! UTC timestamps for log lines.
//!
//! Deliberately thin wrappers over libc and std: no policy (how long to wait,
//! when to escalate) lives here.

use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// True when `pid` exists and is not a zombie. A zombie counts as dead: in a
/// container whose pid 1 does not reap orphans, a stopped supervisor lingers
/// as one.
pub fn alive(pid: u32) -> bool {
    let Ok(p) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if p <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 only checks for existence/permission.
    let r = unsafe { libc::kill(p, 0) };
    if r != 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EPERM) {
        return false;
    }
    !is_zombie(pid)
}

fn is_zombie(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state letter follows the `)` that closes the command name.
        Ok(s) => s
            .rsplit_once(')')
            .map(|(_, rest)| rest.trim_start().starts_with(['Z', 'X']))
            .unwrap_or(false),
        Err(_) => false,
    }
}

/// True when `pid` is alive and its command line mentions `needle` (guards
/// against a recycled pid belonging to someone else).
pub fn alive_and_mentions(pid: u32, needle: &str) -> bool {
    if !alive(pid) {
        return false;
    }
    match std::fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(raw) => String::from_utf8_lossy(&raw).contains(needle),
        // No /proc (not Linux): trust the pid.
        Err(_) => true,
    }
}

/// Send `sig` to one process. Errors (already gone) are ignored.
pub fn signal(pid: u32, sig: i32) {
    if let Ok(p) = libc::pid_t::try_from(pid) {
        if p > 0 {
            // SAFETY: plain kill(2) on a positive pid.
            unsafe { libc::kill(p, sig) };
        }
    }
}

/// Send `sig` to every process of group `pgid`. Errors (group empty) are ignored.
pub fn signal_group(pgid: u32, sig: i32) {
    if let Ok(p) = libc::pid_t::try_from(pgid) {
        if p > 1 {
            // SAFETY: kill(2) on a negative pid addresses the process group.
            unsafe { libc::kill(-p, sig) };
        }
    }
}

/// True while any process of group `pgid` exists.
pub fn group_alive(pgid: u32) -> bool {
    let Ok(p) = libc::pid_t::try_from(pgid) else {
        return false;
    };
    if p <= 1 {
        return false;
    }
    // SAFETY: signal 0 to a group only checks for existence.
    unsafe { libc::kill(-p, 0) == 0 }
}

/// Every live process whose real user is `uid` (from `/proc`; empty where
/// there is no `/proc`). Zombies are left out: they hold nothing.
pub fn pids_of_uid(uid: u32) -> Vec<u32> {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    rd.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/status"))
                .ok()
                .and_then(|s| {
                    let line = s.lines().find(|l| l.starts_with("Uid:"))?;
                    line.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(uid)
        })
        .filter(|pid| !is_zombie(*pid))
        .collect()
}

/// An exclusive advisory lock (flock) held until dropped.
pub struct FileLock {
    _file: std::fs::File,
}

/// Block until this process holds the exclusive lock on `path` (created if missing).
pub fn lock_file(path: &Path) -> std::io::Result<FileLock> {
    use std::os::unix::io::AsRawFd;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    loop {
        // SAFETY: flock on a descriptor this function owns.
        let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
        if r == 0 {
            return Ok(FileLock { _file: file });
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Poll `done` every 50 ms until it returns true or `timeout` passes.
pub fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The lowest port [`free_port`] draws from: below it sit the well-known
/// and registered services a machine tends to run.
const PICK_FLOOR: u16 = 10_000;

/// A port nothing listens on right now, drawn at random from below the
/// kernel's ephemeral range. Not the kernel's own pick (`bind(0)`): that
/// comes from the range `connect()` draws its source ports from, so on a
/// busy machine an outgoing connection (a health probe, a database client)
/// can take the port between the pick and the app's bind. Falls back to the
/// kernel's pick when nothing below the range is free.
pub fn free_port() -> std::io::Result<u16> {
    let lo = ephemeral_low().unwrap_or(32_768);
    if lo > PICK_FLOOR + 1_000 {
        for _ in 0..64 {
            let mut b = [0u8; 2];
            if getrandom::getrandom(&mut b).is_err() {
                break;
            }
            let p = PICK_FLOOR + u16::from_le_bytes(b) % (lo - PICK_FLOOR);
            if port_is_free(p).is_ok() {
                return Ok(p);
            }
        }
    }
    let l = TcpListener::bind(("127.0.0.1", 0))?;
    Ok(l.local_addr()?.port())
}

/// The first port of the kernel's ephemeral range (Linux).
fn ephemeral_low() -> Option<u16> {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Check that `port` can be bound on all interfaces.
pub fn port_is_free(port: u16) -> std::io::Result<()> {
    TcpListener::bind(("0.0.0.0", port)).map(drop)
}

/// Write `bytes` to `path` through a temporary file and a rename, so readers
/// never see half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
    }
    std::fs::rename(&tmp, path)
}

/// `2026-11-27T15:50:00.123Z` for now.
pub fn utc_now() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    utc_rfc3339(d.as_secs(), d.subsec_millis())
}

/// RFC 3339 UTC with milliseconds for a Unix time.
pub fn utc_rfc3339(secs: u64, millis: u32) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(secs as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_match_known_dates() {
        assert_eq!(utc_rfc3339(0, 0), "1970-01-01T00:00:00.000Z");
        // 2024-02-29T12:34:56Z (leap day)
        assert_eq!(utc_rfc3339(1_709_210_096, 7), "2024-02-29T12:34:56.007Z");
        assert_eq!(utc_rfc3339(4_102_444_799, 999), "2099-12-31T23:59:59.999Z");
    }

    #[test]
    fn own_pid_is_alive_and_an_exited_child_is_not() {
        assert!(alive(std::process::id()));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(!alive(pid));
        assert!(!alive_and_mentions(pid, "true"));
        assert!(!alive(0));
    }

    #[test]
    fn an_unreaped_child_counts_as_dead() {
        let child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        assert!(wait_until(Duration::from_secs(5), || !alive(pid)));
        drop(child);
    }

    #[test]
    fn a_file_lock_is_exclusive_until_dropped() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("locks/x.lock");
        let held = lock_file(&p).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let p2 = p.clone();
        let t = std::thread::spawn(move || {
            let _l = lock_file(&p2).unwrap();
            tx.send(()).unwrap();
        });
        assert!(rx.recv_timeout(Duration::from_millis(300)).is_err());
        drop(held);
        assert!(rx.recv_timeout(Duration::from_secs(5)).is_ok());
        t.join().unwrap();
    }

    #[test]
    fn free_port_is_outside_the_ephemeral_range() {
        let lo = ephemeral_low().unwrap_or(32_768);
        for _ in 0..20 {
            let p = free_port().unwrap();
            assert!(
                (PICK_FLOOR..lo).contains(&p),
                "{p} is not in {PICK_FLOOR}..{lo}"
            );
        }
    }

    #[test]
    fn free_port_is_bindable() {
        let p = free_port().unwrap();
        port_is_free(p).unwrap();
        let _held = TcpListener::bind(("0.0.0.0", p)).unwrap();
        assert!(port_is_free(p).is_err());
    }
}
