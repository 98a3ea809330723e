//! Helpers shared by the integration tests: hermetic git repositories, raw
//! tar headers (the `tar` crate refuses to write hostile names), zips, and
//! tree listings to prove what was (not) written.
#![allow(dead_code)]

pub mod deep;

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Run git with no user/system config and a fixed identity; return stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A repository with history:
/// - `main`: commit `first` (app.py v1, tagged `v1`), then `second` (app.py v2)
/// - `dev`: branch from `first` adding dev.txt
///
/// plus a bare clone of it.
pub struct Repo {
    pub work: PathBuf,
    pub bare: PathBuf,
    pub first: String,
    pub second: String,
    pub dev: String,
}

impl Repo {
    pub fn file_url(&self) -> String {
        format!("file://{}", self.bare.display())
    }
}

pub fn make_repo(base: &Path) -> Repo {
    let work = base.join("work-repo");
    std::fs::create_dir_all(&work).unwrap();
    git(&work, &["init", "-q", "-b", "main"]);
    std::fs::write(work.join("app.py"), "print('v1')\n").unwrap();
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "first"]);
    let first = git(&work, &["rev-parse", "HEAD"]);
    git(&work, &["tag", "v1"]);
    git(&work, &["checkout", "-q", "-b", "dev"]);
    std::fs::write(work.join("dev.txt"), "dev\n").unwrap();
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "dev"]);
    let dev = git(&work, &["rev-parse", "HEAD"]);
    git(&work, &["checkout", "-q", "main"]);
    std::fs::write(work.join("app.py"), "print('v2')\n").unwrap();
    git(&work, &["commit", "-q", "-am", "second"]);
    let second = git(&work, &["rev-parse", "HEAD"]);
    let bare = base.join("myapp.git");
    git(
        base,
        &[
            "clone",
            "-q",
            "--bare",
            work.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    Repo {
        work,
        bare,
        first,
        second,
        dev,
    }
}

/// One raw ustar header block (512 bytes) with a valid checksum.
pub fn tar_header(name: &[u8], typeflag: u8, size: u64, mode: u32, link: &[u8]) -> [u8; 512] {
    let mut h = [0u8; 512];
    let n = name.len().min(100);
    h[..n].copy_from_slice(&name[..n]);
    let octal = |h: &mut [u8; 512], at: usize, width: usize, v: u64| {
        let s = format!("{:0w$o}\0", v, w = width - 1);
        h[at..at + width].copy_from_slice(s.as_bytes());
    };
    octal(&mut h, 100, 8, u64::from(mode));
    octal(&mut h, 108, 8, 0);
    octal(&mut h, 116, 8, 0);
    octal(&mut h, 124, 12, size);
    octal(&mut h, 136, 12, 0);
    h[148..156].copy_from_slice(b"        ");
    h[156] = typeflag;
    let l = link.len().min(100);
    h[157..157 + l].copy_from_slice(&link[..l]);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
    let s = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(s.as_bytes());
    h
}

/// A tar member for [`raw_tar`].
pub struct Raw<'a> {
    pub name: &'a [u8],
    pub typeflag: u8,
    pub data: &'a [u8],
    pub link: &'a [u8],
    pub mode: u32,
}

pub fn file<'a>(name: &'a str, data: &'a [u8]) -> Raw<'a> {
    Raw {
        name: name.as_bytes(),
        typeflag: b'0',
        data,
        link: b"",
        mode: 0o644,
    }
}

pub fn dir(name: &str) -> Raw<'_> {
    Raw {
        name: name.as_bytes(),
        typeflag: b'5',
        data: b"",
        link: b"",
        mode: 0o755,
    }
}

/// Build a tar stream from raw members, with the end-of-archive marker.
pub fn raw_tar(members: &[Raw<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in members {
        out.extend_from_slice(&tar_header(
            m.name,
            m.typeflag,
            m.data.len() as u64,
            m.mode,
            m.link,
        ));
        out.extend_from_slice(m.data);
        let pad = (512 - m.data.len() % 512) % 512;
        out.extend(std::iter::repeat_n(0u8, pad));
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

/// A pax extended-header payload from key/value pairs.
pub fn pax(records: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in records {
        let body = format!(" {k}={v}\n");
        let mut len = body.len() + 1;
        while format!("{len}{body}").len() != len {
            len += 1;
        }
        out.extend_from_slice(format!("{len}{body}").as_bytes());
    }
    out
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// A zip member for [`zip_bytes`].
pub enum Z<'a> {
    File(&'a str, &'a [u8]),
    Exec(&'a str, &'a [u8]),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    /// A file whose unix mode (type bits included) is patched into the
    /// central directory afterwards (e.g. 0o020644 = char device).
    Mode(&'a str, u32),
}

pub fn zip_bytes(members: &[Z<'_>], comment: Option<&str>) -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for m in members {
        match m {
            Z::File(n, d) => {
                w.start_file(*n, opts.unix_permissions(0o644)).unwrap();
                w.write_all(d).unwrap();
            }
            Z::Exec(n, d) => {
                w.start_file(*n, opts.unix_permissions(0o755)).unwrap();
                w.write_all(d).unwrap();
            }
            Z::Dir(n) => w.add_directory(*n, opts).unwrap(),
            Z::Symlink(n, t) => w.add_symlink(*n, *t, opts).unwrap(),
            Z::Mode(n, _) => {
                w.start_file(*n, opts.unix_permissions(0o644)).unwrap();
                w.write_all(b"x").unwrap();
            }
        }
    }
    if let Some(c) = comment {
        w.set_comment(c);
    }
    let mut bytes = w.finish().unwrap().into_inner();
    for m in members {
        if let Z::Mode(n, mode) = m {
            set_unix_mode(&mut bytes, n, *mode);
        }
    }
    bytes
}

/// Set the unix mode (external attributes, high 16 bits) of the central
/// directory entry named `name`, marking it as made on unix.
pub fn set_unix_mode(zip: &mut [u8], name: &str, mode: u32) {
    let mut i = 0;
    while i + 46 <= zip.len() {
        if zip[i..i + 4] == [0x50, 0x4b, 0x01, 0x02] {
            let name_len = u16::from_le_bytes([zip[i + 28], zip[i + 29]]) as usize;
            if zip.get(i + 46..i + 46 + name_len) == Some(name.as_bytes()) {
                zip[i + 5] = 3; // made by: unix
                zip[i + 38..i + 42].copy_from_slice(&(mode << 16).to_le_bytes());
            }
        }
        i += 1;
    }
}

/// Rewrite every declared uncompressed size (local headers and central
/// directory) in a zip built by [`zip_bytes`].
pub fn set_declared_sizes(zip: &mut [u8], size: u32) {
    let le = size.to_le_bytes();
    let mut i = 0;
    while i + 46 <= zip.len() {
        match zip[i..i + 4] {
            [0x50, 0x4b, 0x03, 0x04] => zip[i + 22..i + 26].copy_from_slice(&le),
            [0x50, 0x4b, 0x01, 0x02] => zip[i + 24..i + 28].copy_from_slice(&le),
            _ => {}
        }
        i += 1;
    }
}

/// Every path under `dir`, relative, sorted; folders end with `/`.
pub fn tree(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                out.push(format!("{rel}/"));
                walk(base, &p, out);
            } else {
                out.push(rel);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Whether anything under `dir` is a symlink.
pub fn has_symlink(dir: &Path) -> bool {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return false;
    };
    rd.flatten().any(|e| {
        let ft = e.file_type().unwrap();
        ft.is_symlink() || (ft.is_dir() && has_symlink(&e.path()))
    })
}

/// A scratch area: `input/` for archives, `work/` (not created) as the work dir.
pub struct Scratch {
    pub tmp: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("input")).unwrap();
        Scratch { tmp }
    }

    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.tmp.path().join("input").join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    pub fn work(&self) -> PathBuf {
        self.tmp.path().join("work")
    }

    pub fn opts(&self) -> autodeploy_source::FetchOptions {
        autodeploy_source::FetchOptions {
            work_dir: Some(self.work()),
            ..Default::default()
        }
    }

    /// Nothing but the inputs exists: no work dir content, nothing beside it.
    pub fn assert_nothing_written(&self) {
        let all = tree(self.tmp.path());
        let stray: Vec<&String> = all
            .iter()
            .filter(|p| !p.starts_with("input/") && *p != "input/" && *p != "work/")
            .collect();
        assert!(stray.is_empty(), "unexpected files written: {stray:?}");
        let inputs = tree(&self.tmp.path().join("input"));
        assert!(
            inputs.iter().all(|p| !p.contains('/')),
            "something was written into input/: {inputs:?}"
        );
    }
}
