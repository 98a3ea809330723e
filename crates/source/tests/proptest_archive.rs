//! Property tests: whatever bytes or entry names an archive holds, `fetch`
//! never panics, never writes outside its work directory, never leaves a
//! symlink, and leaves nothing behind when it refuses.

mod common;

use autodeploy_source::{fetch, FetchOptions};
use common::*;
use proptest::prelude::*;
use std::path::{Path, PathBuf};

/// A scratch tree where the work dir is nested six levels deep, so even a
/// name with several `..` that slipped through would land inside `tmp` and
/// be caught by the listing.
struct Deep {
    tmp: tempfile::TempDir,
}

impl Deep {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("input")).unwrap();
        Deep { tmp }
    }

    fn work(&self) -> PathBuf {
        self.tmp.path().join("a/b/c/d/e/work")
    }

    fn run(&self, name: &str, bytes: &[u8]) {
        let path = self.tmp.path().join("input").join(name);
        std::fs::write(&path, bytes).unwrap();
        let opts = FetchOptions {
            work_dir: Some(self.work()),
            max_archive_bytes: 1 << 20,
            max_file_bytes: 1 << 20,
            max_archive_entries: 1000,
            ..Default::default()
        };
        let result = fetch(path.to_str().unwrap(), &opts);
        // Outside the work dir: only the input and the work dir's parents.
        let allowed_prefixes = ["input/", "a/b/c/d/e/work/"];
        let allowed_dirs = ["input/", "a/", "a/b/", "a/b/c/", "a/b/c/d/", "a/b/c/d/e/"];
        for p in tree(self.tmp.path()) {
            assert!(
                allowed_dirs.contains(&p.as_str())
                    || allowed_prefixes.iter().any(|a| p.starts_with(a))
                    || p == "a/b/c/d/e/work/",
                "written outside the work dir: {p}"
            );
        }
        let inputs = tree(&self.tmp.path().join("input"));
        assert_eq!(inputs, vec![name.to_string()], "input folder changed");
        match result {
            Ok(snap) => {
                let owned = snap.owned_dir().unwrap().to_path_buf();
                assert!(owned.starts_with(self.work()));
                assert!(snap.root.starts_with(owned.canonicalize().unwrap()));
                assert!(!has_symlink(&owned), "symlink created");
                drop(snap);
                assert!(tree(&self.work()).is_empty(), "not cleaned on drop");
            }
            Err(e) => {
                let msg = e.to_string();
                assert!(!msg.is_empty());
                assert!(
                    tree(&self.work()).is_empty(),
                    "left behind after {msg}: {:?}",
                    tree(&self.work())
                );
            }
        }
        std::fs::remove_file(path).unwrap();
    }
}

fn name_strategy() -> impl Strategy<Value = Vec<u8>> {
    let atom = prop_oneof![
        1 => Just(b"..".to_vec()),
        1 => Just(b".".to_vec()),
        1 => Just(b"".to_vec()),
        1 => Just(b"C:".to_vec()),
        1 => Just(b"\\".to_vec()),
        1 => Just(b"__MACOSX".to_vec()),
        1 => Just(vec![0xff, 0xfe]),
        1 => Just(vec![0]),
        30 => "[a-z0-9 :._-]{1,8}".prop_map(String::into_bytes),
    ];
    (
        prop::bool::weighted(0.05),
        prop::collection::vec(atom, 1..4),
    )
        .prop_map(|(abs, parts)| {
            let mut n = if abs { b"/".to_vec() } else { Vec::new() };
            n.extend(parts.join(&b'/'));
            n.truncate(100);
            n
        })
}

fn typeflag_strategy() -> impl Strategy<Value = u8> {
    prop_oneof![
        40 => Just(b'0'),
        10 => Just(b'5'),
        1 => Just(b'1'),
        1 => Just(b'2'),
        1 => Just(b'3'),
        1 => Just(b'6'),
        1 => Just(b'L'),
        1 => Just(b'x'),
        1 => any::<u8>(),
    ]
}

type Member = (Vec<u8>, u8, Vec<u8>);

fn members() -> impl Strategy<Value = Vec<Member>> {
    prop::collection::vec(
        (
            name_strategy(),
            typeflag_strategy(),
            prop::collection::vec(any::<u8>(), 0..600),
        ),
        0..5,
    )
}

fn build_tar(ms: &[Member]) -> Vec<u8> {
    let raws: Vec<Raw> = ms
        .iter()
        .map(|(n, t, d)| Raw {
            name: n,
            typeflag: *t,
            data: d,
            link: b"target",
            mode: 0o755,
        })
        .collect();
    raw_tar(&raws)
}

fn build_zip(ms: &[Member]) -> Vec<u8> {
    use std::io::Write;
    use zip::write::SimpleFileOptions;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (n, t, d) in ms {
        let name = String::from_utf8_lossy(n).into_owned();
        let opts = SimpleFileOptions::default();
        let ok = match t {
            b'5' => w.add_directory(name, opts).is_ok(),
            b'2' => w.add_symlink(name, "target", opts).is_ok(),
            _ => w.start_file(name, opts).is_ok() && w.write_all(d).is_ok(),
        };
        if !ok {
            let _ = w.abort_file();
        }
    }
    w.finish().map(|c| c.into_inner()).unwrap_or_default()
}

/// Flip bytes of a valid archive at the given positions.
fn mutate(mut bytes: Vec<u8>, flips: &[(usize, u8)]) -> Vec<u8> {
    if bytes.is_empty() {
        return bytes;
    }
    let len = bytes.len();
    for (at, x) in flips {
        bytes[at % len] ^= x | 1;
    }
    bytes
}

fn valid_members() -> Vec<Member> {
    vec![
        (b"proj/".to_vec(), b'5', vec![]),
        (
            b"proj/app.py".to_vec(),
            b'0',
            b"print('hello')\n".repeat(20),
        ),
        (b"proj/src/lib.py".to_vec(), b'0', vec![7; 700]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic_or_escape(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let d = Deep::new();
        d.run("r.zip", &bytes);
        d.run("r.tar", &bytes);
        d.run("r.tar.gz", &bytes);
        d.run("r.tgz", &gzip(&bytes));
    }

    #[test]
    fn random_tar_entries_never_escape(ms in members()) {
        let d = Deep::new();
        let tar = build_tar(&ms);
        d.run("m.tar", &tar);
        d.run("m.tar.gz", &gzip(&tar));
    }

    #[test]
    fn random_zip_entries_never_escape(ms in members()) {
        let d = Deep::new();
        d.run("m.zip", &build_zip(&ms));
    }

    #[test]
    fn corrupted_valid_archives_never_panic_or_escape(
        flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..6),
    ) {
        let d = Deep::new();
        let ms = valid_members();
        let tar = build_tar(&ms);
        d.run("c.tar", &mutate(tar.clone(), &flips));
        d.run("c.tgz", &mutate(gzip(&tar), &flips));
        d.run("c.zip", &mutate(build_zip(&ms), &flips));
    }
}

#[test]
fn the_valid_archives_used_for_mutation_do_extract() {
    let d = Deep::new();
    let ms = valid_members();
    for (name, bytes) in [
        ("v.tar", build_tar(&ms)),
        ("v.tgz", gzip(&build_tar(&ms))),
        ("v.zip", build_zip(&ms)),
    ] {
        let path = d.tmp.path().join("input").join(name);
        std::fs::write(&path, &bytes).unwrap();
        let snap = fetch(
            path.to_str().unwrap(),
            &FetchOptions {
                work_dir: Some(d.work()),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(Path::new(&snap.root).ends_with("proj"), "{name}");
        assert_eq!(tree(&snap.root), ["app.py", "src/", "src/lib.py"], "{name}");
    }
}
