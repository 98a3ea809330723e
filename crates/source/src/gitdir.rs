//! Read the commit a local git work tree has checked out, by reading files
//! under `.git` — no `git` process.
//!
//! Handles: `.git` as a folder or as a `gitdir:` file (worktrees,
//! submodules), `commondir`, symbolic `HEAD` → loose ref or `packed-refs`,
//! detached `HEAD`, SHA-1 and SHA-256 object names, and a work tree given by
//! one of its subfolders.
//!
//! Deliberately tolerant and silent: anything missing, unreadable or odd
//! (unborn branch, reftable storage, garbage) yields `None`, never an error,
//! because the commit is informational. It never writes and never follows a
//! ref name that could leave the git directory.

use std::fs;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// Longest symbolic-ref chain followed.
const MAX_SYMREF_DEPTH: usize = 5;
/// Cap on `HEAD`, loose refs and `gitdir:` files (they are one line).
const SMALL_FILE_CAP: u64 = 4096;
/// Cap on `packed-refs`.
const PACKED_REFS_CAP: u64 = 64 << 20;

/// The commit checked out in the work tree containing `dir`, if any.
pub(crate) fn head_commit(dir: &Path) -> Option<String> {
    let (git_dir, _work_tree) = find_git_dir(dir)?;
    let common = common_dir(&git_dir);
    let head = read_capped(&git_dir.join("HEAD"), SMALL_FILE_CAP)?;
    resolve(&head, &git_dir, &common, 0)
}

/// Walk up from `dir` to the first folder with a `.git` entry; return the
/// git directory it designates.
fn find_git_dir(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    for candidate in dir.ancestors() {
        let dot_git = candidate.join(".git");
        let Ok(meta) = fs::metadata(&dot_git) else {
            continue;
        };
        if meta.is_dir() {
            return Some((dot_git, candidate.to_path_buf()));
        }
        if meta.is_file() {
            let text = read_capped(&dot_git, SMALL_FILE_CAP)?;
            let target = text.trim().strip_prefix("gitdir:")?.trim();
            if target.is_empty() {
                return None;
            }
            let p = Path::new(target);
            let git_dir = if p.is_absolute() {
                p.to_path_buf()
            } else {
                candidate.join(p)
            };
            return Some((git_dir, candidate.to_path_buf()));
        }
        // Something else named .git (socket, …): not a work tree.
        return None;
    }
    None
}

/// `$GIT_DIR/commondir` (linked worktrees) or the git dir itself.
fn common_dir(git_dir: &Path) -> PathBuf {
    match read_capped(&git_dir.join("commondir"), SMALL_FILE_CAP) {
        Some(text) if !text.trim().is_empty() => {
            let p = Path::new(text.trim());
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                git_dir.join(p)
            }
        }
        _ => git_dir.to_path_buf(),
    }
}

/// Resolve the content of `HEAD` (or of a loose ref) to an object name.
fn resolve(content: &str, git_dir: &Path, common: &Path, depth: usize) -> Option<String> {
    let content = content.trim();
    if let Some(name) = content.strip_prefix("ref:") {
        if depth >= MAX_SYMREF_DEPTH {
            return None;
        }
        let name = name.trim();
        if !is_safe_ref_name(name) {
            return None;
        }
        // Per-worktree refs live in the git dir, shared ones in the common dir.
        for base in [git_dir, common] {
            if let Some(text) = read_capped(&base.join(name), SMALL_FILE_CAP) {
                return resolve(&text, git_dir, common, depth + 1);
            }
        }
        return packed_ref(common, name);
    }
    is_object_name(content).then(|| content.to_ascii_lowercase())
}

/// Look `name` up in `packed-refs`.
fn packed_ref(common: &Path, name: &str) -> Option<String> {
    let text = read_capped(&common.join("packed-refs"), PACKED_REFS_CAP)?;
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with('^'))
        .filter_map(|l| l.split_once(' '))
        .find(|(_, r)| r.trim_end() == name)
        .map(|(sha, _)| sha.trim())
        .filter(|sha| is_object_name(sha))
        .map(|sha| sha.to_ascii_lowercase())
}

/// A full SHA-1 (40) or SHA-256 (64) hex object name.
pub(crate) fn is_object_name(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `refs/…` made only of normal components: nothing that could climb out of
/// the git directory.
fn is_safe_ref_name(name: &str) -> bool {
    name.starts_with("refs/")
        && !name.contains('\\')
        && !name.contains('\0')
        && Path::new(name)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

/// Read a small text file; `None` if missing, unreadable, too big or not UTF-8.
fn read_capped(path: &Path, cap: u64) -> Option<String> {
    let file = fs::File::open(path).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut buf = String::new();
    file.take(cap + 1).read_to_string(&mut buf).ok()?;
    (buf.len() as u64 <= cap).then_some(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "0123456789abcdef0123456789abcdef01234567";
    const B: &str = "89abcdef0123456789abcdef0123456789abcdef";

    fn write(p: &Path, s: &str) {
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, s).unwrap();
    }

    #[test]
    fn loose_ref() {
        let t = tempfile::tempdir().unwrap();
        write(&t.path().join(".git/HEAD"), "ref: refs/heads/main\n");
        write(&t.path().join(".git/refs/heads/main"), &format!("{A}\n"));
        assert_eq!(head_commit(t.path()).as_deref(), Some(A));
        // From a subfolder too.
        fs::create_dir_all(t.path().join("sub/deeper")).unwrap();
        assert_eq!(
            head_commit(&t.path().join("sub/deeper")).as_deref(),
            Some(A)
        );
    }

    #[test]
    fn packed_ref_and_peeled_lines() {
        let t = tempfile::tempdir().unwrap();
        write(&t.path().join(".git/HEAD"), "ref: refs/heads/dev\n");
        write(
            &t.path().join(".git/packed-refs"),
            &format!("# pack-refs with: peeled fully-peeled sorted\n{B} refs/heads/main\n{A} refs/heads/dev\n^{B}\n"),
        );
        assert_eq!(head_commit(t.path()).as_deref(), Some(A));
    }

    #[test]
    fn detached_and_uppercase() {
        let t = tempfile::tempdir().unwrap();
        write(&t.path().join(".git/HEAD"), &A.to_uppercase());
        assert_eq!(head_commit(t.path()).as_deref(), Some(A));
    }

    #[test]
    fn worktree_gitdir_file_and_commondir() {
        let t = tempfile::tempdir().unwrap();
        let main = t.path().join("main/.git");
        write(&main.join("refs/heads/feature"), A);
        let wt_git = main.join("worktrees/wt");
        write(&wt_git.join("HEAD"), "ref: refs/heads/feature\n");
        write(&wt_git.join("commondir"), "../..\n");
        let wt = t.path().join("wt");
        write(&wt.join(".git"), &format!("gitdir: {}\n", wt_git.display()));
        assert_eq!(head_commit(&wt).as_deref(), Some(A));
        // Relative gitdir path.
        write(&wt.join(".git"), "gitdir: ../main/.git/worktrees/wt\n");
        assert_eq!(head_commit(&wt).as_deref(), Some(A));
    }

    #[test]
    fn broken_layouts_are_none() {
        let t = tempfile::tempdir().unwrap();
        assert_eq!(head_commit(t.path()), None);
        // Unborn branch.
        write(&t.path().join(".git/HEAD"), "ref: refs/heads/main\n");
        assert_eq!(head_commit(t.path()), None);
        // Garbage.
        write(&t.path().join(".git/HEAD"), "\u{0}\u{1}garbage");
        assert_eq!(head_commit(t.path()), None);
        // Escaping ref names are not followed.
        write(&t.path().join("outside"), A);
        write(&t.path().join(".git/HEAD"), "ref: refs/../../outside\n");
        assert_eq!(head_commit(t.path()), None);
        // Symref loop.
        write(&t.path().join(".git/HEAD"), "ref: refs/heads/a\n");
        write(&t.path().join(".git/refs/heads/a"), "ref: refs/heads/b\n");
        write(&t.path().join(".git/refs/heads/b"), "ref: refs/heads/a\n");
        assert_eq!(head_commit(t.path()), None);
        // Empty gitdir file.
        let u = tempfile::tempdir().unwrap();
        write(&u.path().join(".git"), "gitdir:   \n");
        assert_eq!(head_commit(u.path()), None);
    }

    #[test]
    fn sha256_repositories() {
        let t = tempfile::tempdir().unwrap();
        let long = format!("{A}{}", &B[..24]);
        write(&t.path().join(".git/HEAD"), &long);
        assert_eq!(head_commit(t.path()), Some(long));
    }
}
