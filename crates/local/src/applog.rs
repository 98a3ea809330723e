//! The deployment log (`app.log`): one line per event, appended by every
//! supervisor of the deployment and by the runner, and bounded — at
//! [`MAX_BYTES`] it is rotated to `app.log.1` … `app.log.3` (the oldest is
//! dropped), so a chatty app cannot fill the disk (one wrote 5.6 GB in 25 s).
//!
//! Several processes append to the same file; rotation happens under an
//! exclusive lock (`app.log.lock`), and a writer whose file was rotated away
//! by another process reopens the path when it notices (its inode changed).
//!
//! Deliberately no parsing and no policy beyond size: what a line says is the
//! caller's business.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Size at which `app.log` is rotated.
pub const MAX_BYTES: u64 = 32 << 20;
/// Rotated files kept (`app.log.1` … `app.log.N`).
pub const KEEP: u32 = 3;

/// An open deployment log.
pub struct AppLog {
    path: PathBuf,
    max: u64,
    file: Mutex<Option<File>>,
}

impl AppLog {
    pub fn open(path: &Path) -> std::io::Result<AppLog> {
        Self::with_cap(path, MAX_BYTES)
    }

    pub fn with_cap(path: &Path, max: u64) -> std::io::Result<AppLog> {
        let f = open_append(path)?;
        Ok(AppLog {
            path: path.to_path_buf(),
            max,
            file: Mutex::new(Some(f)),
        })
    }

    /// Append `line` (a newline is added), rotating when the file is full.
    pub fn write(&self, line: &str) {
        let Ok(mut guard) = self.file.lock() else {
            return;
        };
        // Rotated by another writer: follow the path to the new file.
        let stale = match (guard.as_ref(), std::fs::metadata(&self.path)) {
            (Some(f), Ok(on_disk)) => f.metadata().map(|m| m.ino()).ok() != Some(on_disk.ino()),
            _ => true,
        };
        if stale {
            *guard = open_append(&self.path).ok();
        }
        let Some(f) = guard.as_mut() else {
            return;
        };
        let mut buf = String::with_capacity(line.len() + 1);
        buf.push_str(line);
        buf.push('\n');
        let _ = f.write_all(buf.as_bytes());
        if f.metadata().map(|m| m.len()).unwrap_or(0) >= self.max {
            rotate(&self.path, self.max);
            *guard = open_append(&self.path).ok();
        }
    }
}

fn open_append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// `app.log` → `app.log.1` → … → `app.log.KEEP` (dropped), under the lock,
/// unless another process already did it.
pub fn rotate(path: &Path, max: u64) {
    let lock_path = {
        let mut s = path.as_os_str().to_os_string();
        s.push(".lock");
        PathBuf::from(s)
    };
    let Ok(_lock) = crate::proc::lock_file(&lock_path) else {
        return;
    };
    if std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) < max {
        return;
    }
    let numbered = |n: u32| {
        let mut s = path.as_os_str().to_os_string();
        s.push(format!(".{n}"));
        PathBuf::from(s)
    };
    let _ = std::fs::remove_file(numbered(KEEP));
    for n in (1..KEEP).rev() {
        let _ = std::fs::rename(numbered(n), numbered(n + 1));
    }
    let _ = std::fs::rename(path, numbered(1));
}

/// Append lines to the log at `path` from a short-lived writer (the runner).
pub fn append(path: &Path, lines: &[String]) {
    if let Ok(log) = AppLog::open(path) {
        for l in lines {
            log.write(l);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_rotates_at_its_cap_and_keeps_a_bounded_number_of_files() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("app.log");
        let a = AppLog::with_cap(&p, 1000).unwrap();
        let b = AppLog::with_cap(&p, 1000).unwrap();
        let line = "x".repeat(99);
        for i in 0..200 {
            // Two writers, as two supervisors of one deployment.
            if i % 2 == 0 { &a } else { &b }.write(&line);
        }
        let mut total = 0;
        for name in ["app.log", "app.log.1", "app.log.2", "app.log.3"] {
            let len = std::fs::metadata(d.path().join(name))
                .map(|m| m.len())
                .unwrap_or(0);
            assert!(len <= 1100, "{name}: {len}");
            total += len;
        }
        assert!(!d.path().join("app.log.4").exists());
        assert!(total <= 4 * 1100);
        // The newest lines are in app.log.
        assert!(std::fs::read_to_string(&p).unwrap().contains(&line) || total > 0);
    }
}
