//! A cheap identity for a local source that has no commit to name it: a
//! hash of a folder's listing (relative paths, sizes, modification times) or
//! of an archive file's metadata. The service keys its analysis cache by it,
//! because a work tree can differ from its HEAD commit.
//!
//! Folders that are never part of an app's source (version control, tool
//! caches, installed dependencies) are skipped, so a `pip install` or an
//! `npm install` beside the code does not change the fingerprint.
//!
//! Deliberately not here: reading file contents (a changed file keeps its
//! size only if its modification time changes too, which editors and git do).

use sha2::{Digest, Sha256};
use std::path::Path;
use std::time::UNIX_EPOCH;

/// A folder with more entries than this gets no fingerprint (hashing its
/// listing would cost about as much as analysing it).
pub const MAX_FINGERPRINT_ENTRIES: usize = 50_000;

/// Folder names skipped by the fingerprint.
const SKIP_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "bower_components",
    "jspm_packages",
    ".venv",
    "__pycache__",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
];

/// The fingerprint of `path` (a folder or a file), as 64 hex characters;
/// `None` when it cannot be read or has more than
/// [`MAX_FINGERPRINT_ENTRIES`] entries.
pub fn fingerprint(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    let mut h = Sha256::new();
    let stamp = |m: &std::fs::Metadata| {
        m.modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    };
    if meta.is_file() {
        h.update(path.as_os_str().as_encoded_bytes());
        h.update(meta.len().to_le_bytes());
        h.update(stamp(&meta).to_le_bytes());
        return Some(hex(&h.finalize()));
    }
    let mut stack = vec![path.to_path_buf()];
    let mut entries: Vec<(String, u64, u128, bool)> = Vec::new();
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).ok()? {
            let e = e.ok()?;
            let name = e.file_name();
            let ft = e.file_type().ok()?;
            if ft.is_dir() && SKIP_DIRS.iter().any(|s| name.as_os_str() == *s) {
                continue;
            }
            let p = e.path();
            let rel = p.strip_prefix(path).ok()?.to_string_lossy().into_owned();
            let m = e.metadata().ok()?;
            entries.push((rel, m.len(), stamp(&m), ft.is_dir()));
            if entries.len() > MAX_FINGERPRINT_ENTRIES {
                return None;
            }
            if ft.is_dir() {
                stack.push(p);
            }
        }
    }
    entries.sort();
    for (rel, len, t, dir) in entries {
        h.update((rel.len() as u64).to_le_bytes());
        h.update(rel.as_bytes());
        h.update([u8::from(dir)]);
        h.update(len.to_le_bytes());
        h.update(t.to_le_bytes());
    }
    Some(hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_changes_with_content_not_with_skipped_dirs() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("app.py"), "print(1)").unwrap();
        let a = fingerprint(d.path()).unwrap();
        assert_eq!(fingerprint(d.path()).unwrap(), a);
        std::fs::create_dir(d.path().join("node_modules")).unwrap();
        std::fs::write(d.path().join("node_modules/x.js"), "x").unwrap();
        assert_eq!(fingerprint(d.path()).unwrap(), a);
        std::fs::write(d.path().join("app.py"), "print(12)").unwrap();
        assert_ne!(fingerprint(d.path()).unwrap(), a);
    }
}
