//! `.zip` sources: hostile members are refused before anything is written,
//! zip bombs (declared or hidden) are stopped at the cap, good archives
//! extract with the top folder stripped and `git archive`'s commit read.

mod common;

use autodeploy_core::SourceKind;
use autodeploy_source::{fetch, SourceError};
use common::*;

fn refused(scratch: &Scratch, name: &str, bytes: &[u8]) -> SourceError {
    let path = scratch.write(name, bytes);
    let err = fetch(path.to_str().unwrap(), &scratch.opts()).expect_err("must be refused");
    scratch.assert_nothing_written();
    assert!(
        !scratch.work().exists(),
        "work dir created for a refused archive"
    );
    err
}

fn unsafe_reason(e: &SourceError) -> &str {
    match e {
        SourceError::ArchiveUnsafe { reason, .. } => reason,
        other => panic!("expected ArchiveUnsafe, got {other:?}"),
    }
}

#[test]
fn traversal_names_are_refused() {
    let s = Scratch::new();
    for (bad, word) in [
        ("../evil", ".."),
        ("ok/../../evil", ".."),
        ("/tmp/autodeploy-zip-evil", "absolute"),
        ("C:/evil", "drive"),
        ("..\\evil", "backslash"),
    ] {
        let zip = zip_bytes(&[Z::File("fine.txt", b"ok"), Z::File(bad, b"pwned")], None);
        let e = refused(&s, "t.zip", &zip);
        assert!(unsafe_reason(&e).contains(word), "{bad}: {e}");
    }
    assert!(!s.tmp.path().join("evil").exists());
    assert!(!std::path::Path::new("/tmp/autodeploy-zip-evil").exists());
}

#[test]
fn symlink_and_special_modes_are_refused() {
    let s = Scratch::new();
    let zip = zip_bytes(
        &[Z::File("a", b"1"), Z::Symlink("link", "/etc/passwd")],
        None,
    );
    let e = refused(&s, "link.zip", &zip);
    assert!(unsafe_reason(&e).contains("symbolic link"), "{e}");
    for (mode, word) in [
        (0o120_777, "symbolic link"),
        (0o020_644, "device"),
        (0o060_644, "device"),
        (0o010_644, "FIFO"),
        (0o140_644, "socket"),
    ] {
        let zip = zip_bytes(&[Z::Mode("odd", mode)], None);
        let e = refused(&s, "mode.zip", &zip);
        assert!(unsafe_reason(&e).contains(word), "{mode:o}: {e}");
    }
}

#[test]
fn too_many_entries_is_refused_before_parsing() {
    let s = Scratch::new();
    let names: Vec<String> = (0..30).map(|i| format!("f{i}")).collect();
    let members: Vec<Z> = names.iter().map(|n| Z::File(n, b"")).collect();
    let path = s.write("many.zip", &zip_bytes(&members, None));
    let mut opts = s.opts();
    opts.max_archive_entries = 29;
    let e = fetch(path.to_str().unwrap(), &opts).unwrap_err();
    assert!(
        matches!(
            e,
            SourceError::ArchiveTooLarge {
                field: "max_archive_entries",
                cap: 29,
                ..
            }
        ),
        "{e:?}"
    );
    s.assert_nothing_written();
    opts.max_archive_entries = 30;
    assert!(fetch(path.to_str().unwrap(), &opts).is_ok());
}

#[test]
fn bomb_with_large_declared_size_is_refused_at_the_default_cap() {
    let s = Scratch::new();
    let mut zip = zip_bytes(&[Z::File("bomb.bin", &[0u8; 4096])], None);
    // Claim ~4 GiB: over the default 2 GiB cap. Nothing may be read or written.
    set_declared_sizes(&mut zip, 0xffff_fff0);
    let e = refused(&s, "bomb.zip", &zip);
    let msg = e.to_string();
    assert!(matches!(e, SourceError::ArchiveTooLarge { .. }), "{e:?}");
    assert!(msg.contains("1 GiB") || msg.contains("2 GiB"), "{msg}");
    assert!(msg.contains("AUTODEPLOY_MAX"), "{msg}");
}

#[test]
fn bomb_with_large_actual_size_is_refused() {
    let s = Scratch::new();
    let zeros = vec![0u8; 4 << 20];
    let zip = zip_bytes(&[Z::File("bomb.bin", &zeros)], None);
    assert!(zip.len() < 64 * 1024, "compressed is small: {}", zip.len());
    let path = s.write("bomb.zip", &zip);
    let mut opts = s.opts();
    opts.max_archive_bytes = 1 << 20;
    let e = fetch(path.to_str().unwrap(), &opts).unwrap_err();
    assert!(
        matches!(
            e,
            SourceError::ArchiveTooLarge {
                field: "max_archive_bytes",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("1 MiB"), "{e}");
    s.assert_nothing_written();
}

#[test]
fn bomb_that_understates_its_size_is_stopped_while_writing() {
    let s = Scratch::new();
    let zeros = vec![0u8; 4 << 20];
    let mut zip = zip_bytes(
        &[Z::File("a.txt", b"hello"), Z::File("bomb.bin", &zeros)],
        None,
    );
    // Every member now claims 5 bytes: the plan passes, the byte count must not.
    set_declared_sizes(&mut zip, 5);
    let path = s.write("liar.zip", &zip);
    let mut opts = s.opts();
    opts.max_archive_bytes = 1 << 20;
    let e = fetch(path.to_str().unwrap(), &opts).unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(
            e,
            SourceError::ArchiveTooLarge {
                field: "max_archive_bytes",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(msg.contains("understates"), "{msg}");
    assert!(
        msg.contains("1 MiB") && msg.contains("AUTODEPLOY_MAX_ARCHIVE_BYTES"),
        "{msg}"
    );
    // The partial tree (a.txt was written) is gone.
    assert!(tree(&s.work()).is_empty(), "{:?}", tree(&s.work()));
    s.assert_nothing_written();

    // Same lie under the cap: the size mismatch itself is refused.
    let e = fetch(path.to_str().unwrap(), &s.opts()).unwrap_err();
    assert!(matches!(e, SourceError::ArchiveCorrupt { .. }), "{e:?}");
    assert!(tree(&s.work()).is_empty());
}

#[test]
fn truncated_corrupt_and_empty_zips_are_clear_errors() {
    let s = Scratch::new();
    let zip = zip_bytes(&[Z::File("a.py", &[1u8; 5000])], None);
    let e = refused(&s, "cut.zip", &zip[..zip.len() / 2]);
    assert!(matches!(e, SourceError::ArchiveCorrupt { .. }), "{e:?}");
    assert!(e.to_string().contains("corrupt, truncated"), "{e}");

    // Corrupt the compressed data: CRC or inflate error while extracting.
    let mut bad = zip.clone();
    for b in &mut bad[40..60] {
        *b ^= 0x55;
    }
    let path = s.write("crc.zip", &bad);
    let e = fetch(path.to_str().unwrap(), &s.opts()).unwrap_err();
    assert!(matches!(e, SourceError::ArchiveCorrupt { .. }), "{e:?}");
    assert!(tree(&s.work()).is_empty());

    let e = refused(&s, "empty.zip", &zip_bytes(&[], None));
    assert!(matches!(e, SourceError::ArchiveEmpty { .. }), "{e:?}");
    let e = refused(
        &s,
        "dirs.zip",
        &zip_bytes(&[Z::Dir("a/"), Z::Dir("a/b/")], None),
    );
    assert!(matches!(e, SourceError::ArchiveEmpty { .. }), "{e:?}");
    let e = refused(&s, "zero.zip", b"");
    assert!(matches!(e, SourceError::ArchiveEmpty { .. }), "{e:?}");
    let e = refused(&s, "text.zip", b"definitely not a zip file");
    assert!(matches!(e, SourceError::ArchiveCorrupt { .. }), "{e:?}");
}

#[test]
fn github_style_zip_strips_the_top_folder() {
    let s = Scratch::new();
    let zip = zip_bytes(
        &[
            Z::Dir("myapp-main/"),
            Z::File("myapp-main/app.py", b"print(1)\n"),
            Z::Exec("myapp-main/gradlew", b"#!/bin/sh\n"),
            Z::File("myapp-main/src/x.py", b""),
            Z::File("__MACOSX/myapp-main/._app.py", b"junk"),
        ],
        None,
    );
    let path = s.write("myapp-main.zip", &zip);
    let snap = fetch(path.to_str().unwrap(), &s.opts()).unwrap();
    assert_eq!(snap.info.kind, SourceKind::Archive);
    assert_eq!(snap.info.commit, None);
    assert!(
        snap.root.ends_with("myapp-main/myapp-main"),
        "{}",
        snap.root.display()
    );
    assert_eq!(tree(&snap.root), ["app.py", "gradlew", "src/", "src/x.py"]);
    assert!(!has_symlink(snap.owned_dir().unwrap()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let m = std::fs::metadata(snap.root.join("gradlew")).unwrap();
        assert_ne!(m.permissions().mode() & 0o100, 0);
    }
}

#[test]
fn zip_comment_commit_and_git_archive() {
    let s = Scratch::new();
    let sha = "89abcdef0123456789abcdef0123456789abcdef";
    let path = s.write("c.zip", &zip_bytes(&[Z::File("x", b"")], Some(sha)));
    let snap = fetch(path.to_str().unwrap(), &s.opts()).unwrap();
    assert_eq!(snap.info.commit.as_deref(), Some(sha));
    drop(snap);

    let repo = make_repo(s.tmp.path());
    let out = s.tmp.path().join("input/app.zip");
    git(
        &repo.work,
        &["archive", "--format=zip", "-o", out.to_str().unwrap(), "v1"],
    );
    let snap = fetch(out.to_str().unwrap(), &s.opts()).unwrap();
    // `git archive` of a tag records the commit it points at.
    assert_eq!(snap.info.commit.as_deref(), Some(repo.first.as_str()));
    assert_eq!(tree(&snap.root), ["app.py"]);
    assert!(snap.root.ends_with("app"));
}
