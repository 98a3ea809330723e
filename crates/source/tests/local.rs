//! Local folders and input classification: folders are read in place (never
//! copied, never changed, never deleted), the commit comes from `.git` files,
//! and every bad input gets a precise error.

mod common;

use autodeploy_core::SourceKind;
use autodeploy_source::{fetch, FetchOptions, SourceError};
use common::*;
use std::fs;
use std::path::{Component, Path, PathBuf};

const SHA_A: &str = "0123456789abcdef0123456789abcdef01234567";
const SHA_B: &str = "89abcdef0123456789abcdef0123456789abcdef";

fn app_dir(base: &Path) -> PathBuf {
    let d = base.join("myapp");
    fs::create_dir_all(d.join("src")).unwrap();
    fs::write(d.join("app.py"), "print(1)\n").unwrap();
    fs::write(d.join("src/x.py"), "").unwrap();
    d
}

/// Paths and contents of every file, to prove nothing changed.
fn fingerprint(dir: &Path) -> Vec<(String, Vec<u8>)> {
    tree(dir)
        .into_iter()
        .map(|p| {
            let data = fs::read(dir.join(&p)).unwrap_or_default();
            (p, data)
        })
        .collect()
}

#[test]
fn a_folder_without_git_is_read_in_place() {
    let t = tempfile::tempdir().unwrap();
    let d = app_dir(t.path());
    let before = fingerprint(t.path());
    let work = t.path().join("work");
    let opts = FetchOptions {
        work_dir: Some(work.clone()),
        ..Default::default()
    };
    let mut snap = fetch(d.to_str().unwrap(), &opts).unwrap();
    assert_eq!(snap.info.kind, SourceKind::Path);
    assert_eq!(snap.info.commit, None);
    assert_eq!(snap.info.input, d.to_str().unwrap());
    assert_eq!(snap.root, d.canonicalize().unwrap());
    assert!(!snap.is_temporary());
    assert_eq!(snap.keep(), None);
    drop(snap);
    assert_eq!(fingerprint(t.path()), before, "the folder was not touched");
    assert!(!work.exists(), "nothing copied into the work dir");
}

#[test]
fn trailing_slash_dot_segments_and_relative_paths_resolve_to_the_same_root() {
    let t = tempfile::tempdir().unwrap();
    let d = app_dir(t.path());
    let canonical = d.canonicalize().unwrap();
    let with_slash = format!("{}/", d.display());
    let with_dot = format!("{}/./src/..", d.display());
    // Relative to the test's working directory.
    let cwd = std::env::current_dir().unwrap();
    let ups = cwd
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .count();
    let relative = format!(
        "{}{}",
        "../".repeat(ups),
        canonical.display().to_string().trim_start_matches('/')
    );
    for input in [
        with_slash.as_str(),
        with_dot.as_str(),
        relative.as_str(),
        &format!("  {}  ", d.display()),
    ] {
        let snap = fetch(input, &FetchOptions::default()).unwrap();
        assert_eq!(snap.root, canonical, "{input}");
        assert_eq!(snap.info.kind, SourceKind::Path);
    }
}

#[test]
fn hand_written_git_head_with_loose_ref() {
    let t = tempfile::tempdir().unwrap();
    let d = app_dir(t.path());
    fs::create_dir_all(d.join(".git/refs/heads")).unwrap();
    fs::write(d.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    fs::write(d.join(".git/refs/heads/main"), format!("{SHA_A}\n")).unwrap();
    let snap = fetch(d.to_str().unwrap(), &FetchOptions::default()).unwrap();
    assert_eq!(snap.info.commit.as_deref(), Some(SHA_A));
    // A subfolder of the work tree sees the same commit.
    let sub = fetch(d.join("src").to_str().unwrap(), &FetchOptions::default()).unwrap();
    assert_eq!(sub.info.commit.as_deref(), Some(SHA_A));
}

#[test]
fn hand_written_git_head_with_packed_refs() {
    let t = tempfile::tempdir().unwrap();
    let d = app_dir(t.path());
    fs::create_dir_all(d.join(".git")).unwrap();
    fs::write(d.join(".git/HEAD"), "ref: refs/heads/release\n").unwrap();
    fs::write(
        d.join(".git/packed-refs"),
        format!("# pack-refs with: peeled fully-peeled sorted \n{SHA_B} refs/heads/main\n{SHA_A} refs/heads/release\n"),
    )
    .unwrap();
    let snap = fetch(d.to_str().unwrap(), &FetchOptions::default()).unwrap();
    assert_eq!(snap.info.commit.as_deref(), Some(SHA_A));
}

#[test]
fn detached_head_and_broken_git_dirs() {
    let t = tempfile::tempdir().unwrap();
    let d = app_dir(t.path());
    fs::create_dir_all(d.join(".git")).unwrap();
    fs::write(d.join(".git/HEAD"), format!("{SHA_B}\n")).unwrap();
    let snap = fetch(d.to_str().unwrap(), &FetchOptions::default()).unwrap();
    assert_eq!(snap.info.commit.as_deref(), Some(SHA_B));

    // Broken: HEAD names a ref that does not exist; HEAD is garbage; .git is
    // a file pointing nowhere. The fetch still succeeds, with no commit.
    for head in ["ref: refs/heads/gone\n", "garbage", ""] {
        fs::write(d.join(".git/HEAD"), head).unwrap();
        let snap = fetch(d.to_str().unwrap(), &FetchOptions::default()).unwrap();
        assert_eq!(snap.info.commit, None, "{head:?}");
    }
    fs::remove_dir_all(d.join(".git")).unwrap();
    fs::write(d.join(".git"), "gitdir: /nonexistent/worktrees/x\n").unwrap();
    let snap = fetch(d.to_str().unwrap(), &FetchOptions::default()).unwrap();
    assert_eq!(snap.info.commit, None);
}

#[test]
fn real_repository_and_its_worktree() {
    let t = tempfile::tempdir().unwrap();
    let repo = make_repo(t.path());
    let snap = fetch(repo.work.to_str().unwrap(), &FetchOptions::default()).unwrap();
    assert_eq!(snap.info.commit.as_deref(), Some(repo.second.as_str()));

    // packed refs written by git itself
    git(&repo.work, &["pack-refs", "--all"]);
    let snap = fetch(repo.work.to_str().unwrap(), &FetchOptions::default()).unwrap();
    assert_eq!(snap.info.commit.as_deref(), Some(repo.second.as_str()));

    // a linked worktree (its .git is a file) on another branch
    let wt = t.path().join("wt");
    git(
        &repo.work,
        &["worktree", "add", "-q", wt.to_str().unwrap(), "dev"],
    );
    assert!(wt.join(".git").is_file());
    let snap = fetch(wt.to_str().unwrap(), &FetchOptions::default()).unwrap();
    assert_eq!(snap.info.commit.as_deref(), Some(repo.dev.as_str()));

    // detached by git
    git(&repo.work, &["checkout", "-q", "--detach", &repo.first]);
    let snap = fetch(repo.work.to_str().unwrap(), &FetchOptions::default()).unwrap();
    assert_eq!(snap.info.commit.as_deref(), Some(repo.first.as_str()));
}

#[test]
fn missing_paths_are_not_found_with_hints() {
    let e = fetch("/definitely/not/here", &FetchOptions::default()).unwrap_err();
    match &e {
        SourceError::NotFound { input, hint } => {
            assert_eq!(input, "/definitely/not/here");
            assert!(hint.is_none());
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("/definitely/not/here"), "{e}");
    assert!(e.to_string().contains("check the path"), "{e}");

    let e = fetch("acme/shop", &FetchOptions::default()).unwrap_err();
    assert!(
        e.to_string().contains("https://github.com/acme/shop"),
        "{e}"
    );
}

#[test]
fn empty_input_and_unsupported_files() {
    let e = fetch("   ", &FetchOptions::default()).unwrap_err();
    assert!(matches!(e, SourceError::EmptyInput), "{e:?}");

    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("notes.txt");
    fs::write(&f, "hi").unwrap();
    let e = fetch(f.to_str().unwrap(), &FetchOptions::default()).unwrap_err();
    assert!(matches!(e, SourceError::Unsupported { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains(".zip, .tar.gz, .tgz or .tar") && msg.contains("git URL"),
        "{msg}"
    );

    let f = t.path().join("src.tar.xz");
    fs::write(&f, "hi").unwrap();
    let e = fetch(f.to_str().unwrap(), &FetchOptions::default()).unwrap_err();
    assert!(
        e.to_string().contains("re-pack it as .tar.gz or .zip"),
        "{e}"
    );

    let e = fetch("ftp://example.com/r", &FetchOptions::default()).unwrap_err();
    assert!(
        e.to_string().contains("`ftp://` scheme is not supported"),
        "{e}"
    );
}

#[test]
fn git_ref_with_a_folder_is_an_error() {
    let t = tempfile::tempdir().unwrap();
    let d = app_dir(t.path());
    let opts = FetchOptions {
        git_ref: Some("main".into()),
        ..Default::default()
    };
    let e = fetch(d.to_str().unwrap(), &opts).unwrap_err();
    assert!(matches!(e, SourceError::InvalidRef { .. }), "{e:?}");
}

#[cfg(unix)]
#[test]
fn unreadable_folder_is_a_clear_error() {
    use std::os::unix::fs::PermissionsExt;
    let t = tempfile::tempdir().unwrap();
    let d = app_dir(t.path());
    fs::set_permissions(&d, fs::Permissions::from_mode(0o000)).unwrap();
    let readable_anyway = fs::read_dir(&d).is_ok(); // root ignores permissions
    let result = fetch(d.to_str().unwrap(), &FetchOptions::default());
    fs::set_permissions(&d, fs::Permissions::from_mode(0o755)).unwrap();
    if readable_anyway {
        assert!(result.is_ok());
        return;
    }
    let e = result.unwrap_err();
    assert!(matches!(e, SourceError::Unreadable { .. }), "{e:?}");
    assert!(e.to_string().contains("may read it"), "{e}");
}

#[test]
fn work_dir_that_cannot_be_created_is_reported() {
    let t = tempfile::tempdir().unwrap();
    let blocker = t.path().join("file");
    fs::write(&blocker, "").unwrap();
    let archive = t.path().join("a.tar");
    fs::write(&archive, raw_tar(&[file("x", b"1")])).unwrap();
    let opts = FetchOptions {
        work_dir: Some(blocker.join("sub")),
        ..Default::default()
    };
    let e = fetch(archive.to_str().unwrap(), &opts).unwrap_err();
    assert!(matches!(e, SourceError::WorkDir { .. }), "{e:?}");
    assert!(e.to_string().contains("writable work directory"), "{e}");
}
