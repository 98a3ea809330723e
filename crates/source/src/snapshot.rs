//! `Snapshot`: the fetch stage's output — a local tree to analyse plus where
//! it came from.
//!
//! When the tree was made by us (clone or extraction) the snapshot owns a
//! temporary directory and removes it on drop, unless [`Snapshot::keep`] is
//! called. A local folder is never owned: dropping its snapshot touches
//! nothing.
//!
//! Deliberately holds no fetch logic.

use autodeploy_core::SourceInfo;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// A local tree ready for analysis.
#[derive(Debug)]
pub struct Snapshot {
    /// Absolute path of the tree's root (for archives with a single top-level
    /// folder, that folder).
    pub root: PathBuf,
    /// The input (credentials redacted), its kind and the commit, if known.
    pub info: SourceInfo,
    ownership: Ownership,
}

#[derive(Debug)]
enum Ownership {
    /// A user's folder, read in place.
    Borrowed,
    /// Our working directory, removed on drop.
    Temporary(TempDir),
    /// Our working directory, handed over to the caller by `keep`.
    Kept(PathBuf),
}

impl Snapshot {
    pub(crate) fn borrowed(root: PathBuf, info: SourceInfo) -> Self {
        Snapshot {
            root,
            info,
            ownership: Ownership::Borrowed,
        }
    }

    pub(crate) fn owned(root: PathBuf, info: SourceInfo, guard: TempDir) -> Self {
        Snapshot {
            root,
            info,
            ownership: Ownership::Temporary(guard),
        }
    }

    /// The working directory this snapshot made (clone or extraction), if
    /// any. `root` is inside it.
    pub fn owned_dir(&self) -> Option<&Path> {
        match &self.ownership {
            Ownership::Borrowed => None,
            Ownership::Temporary(t) => Some(t.path()),
            Ownership::Kept(p) => Some(p),
        }
    }

    /// Whether dropping this snapshot deletes its tree.
    pub fn is_temporary(&self) -> bool {
        matches!(self.ownership, Ownership::Temporary(_))
    }

    /// Stop the tree from being deleted on drop and return the directory the
    /// caller is now responsible for removing (`None` for local folders,
    /// which were never ours). Calling it again returns the same directory.
    pub fn keep(&mut self) -> Option<PathBuf> {
        let taken = std::mem::replace(&mut self.ownership, Ownership::Borrowed);
        self.ownership = match taken {
            Ownership::Temporary(t) => Ownership::Kept(t.keep()),
            other => other,
        };
        self.owned_dir().map(Path::to_path_buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use autodeploy_core::SourceKind;

    fn info() -> SourceInfo {
        SourceInfo {
            input: "x".into(),
            kind: SourceKind::Archive,
            commit: None,
        }
    }

    #[test]
    fn temporary_trees_are_removed_unless_kept() {
        let t = TempDir::new().unwrap();
        let p = t.path().to_path_buf();
        drop(Snapshot::owned(p.clone(), info(), t));
        assert!(!p.exists());

        let t = TempDir::new().unwrap();
        let mut s = Snapshot::owned(t.path().to_path_buf(), info(), t);
        assert!(s.is_temporary());
        let kept = s.keep().unwrap();
        assert_eq!(s.keep().as_deref(), Some(kept.as_path()));
        assert!(!s.is_temporary());
        drop(s);
        assert!(kept.exists());
        std::fs::remove_dir_all(kept).unwrap();
    }

    #[test]
    fn borrowed_trees_are_never_ours() {
        let t = TempDir::new().unwrap();
        let mut s = Snapshot::borrowed(t.path().to_path_buf(), info());
        assert_eq!(s.keep(), None);
        assert_eq!(s.owned_dir(), None);
        drop(s);
        assert!(t.path().exists());
    }
}
