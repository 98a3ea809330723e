//! Source archives: zip a source tree for CodeBuild (and the base of a
//! Lambda package) deterministically — same tree, same bytes — so the
//! archive's hash can name a release.
//!
//! What is left out: `.git`, `node_modules`, `target`, `.venv`,
//! `__pycache__`, `.terraform` and `autodeploy-plans` folders, Terraform state files
//! (`*.tfstate`, `*.tfstate.backup`), and whatever the tree's own
//! `.gitignore` files exclude (honoured even outside a git checkout; parent
//! folders' and global ignore files are not read). Entries are sorted by
//! path, timestamps fixed to 1980-01-01, permissions normalised to 0644 /
//! 0755 (the executable bit is kept), symbolic links stored as links.
//! [`zip_source_fixed`] applies the analysis's source fixes to the archived
//! copies (bind 0.0.0.0, relative API URLs), never to the tree.
//! Not here: installing dependencies into a Lambda package.

use crate::AwsError;
use autodeploy_core::{FileFromExample, SourceFix};
use std::io::Write;
use std::path::{Path, PathBuf};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// Folder names never archived, wherever they are in the tree.
pub const SKIPPED_DIRS: &[&str] = &[
    ".git",
    "node_modules",
    "target",
    ".venv",
    "__pycache__",
    ".terraform",
    // `autodeploy plan`'s default output folder: earlier bundles (and their
    // source archives) are not the app's source.
    "autodeploy-plans",
];

/// File name endings never archived: Terraform state holds secrets in
/// clear text and must not travel with the source even when a bundle folder
/// sits inside the tree.
pub const SKIPPED_SUFFIXES: &[&str] = &[".tfstate", ".tfstate.backup"];

/// Zip the tree under `root` into `out`; returns the archive's size in bytes.
pub fn zip_source(root: &Path, out: &Path) -> Result<u64, AwsError> {
    zip_source_with(root, &[], out)
}

/// [`zip_source`] plus extra files placed at the given archive names (they
/// replace a same-named file from the tree), e.g. `("run.sh", bundle/lambda/run.sh)`.
pub fn zip_source_with(root: &Path, extra: &[(&str, &Path)], out: &Path) -> Result<u64, AwsError> {
    zip_tree(root, extra, &[], &[], &mut Vec::new(), out).map(|(bytes, _)| bytes)
}

/// What became of one source fix in an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixInArchive {
    pub fix: SourceFix,
    /// False when the archive has no such text file or its line no longer
    /// holds the text (the archived file is then the tree's, unchanged).
    pub applied: bool,
}

/// [`zip_source`] with the analysis's source fixes applied to the archived
/// copies of their files (the tree itself is never written): an image built
/// from the archive gets the same fixes as the local copy and the VMs.
pub fn zip_source_fixed(
    root: &Path,
    fixes: &[SourceFix],
    out: &Path,
) -> Result<(u64, Vec<FixInArchive>), AwsError> {
    zip_tree(root, &[], fixes, &[], &mut Vec::new(), out)
}

/// [`zip_source_fixed`] after first adding each file the code needs that
/// the tree has only as a committed example, archived as a copy of that
/// example (a file the tree has is kept; an example that is not a regular
/// file of the tree adds nothing). Returns the names added, too.
pub fn zip_source_prepared(
    root: &Path,
    fixes: &[SourceFix],
    made: &[FileFromExample],
    out: &Path,
) -> Result<(u64, Vec<FixInArchive>, Vec<String>), AwsError> {
    let mut added = Vec::new();
    let (bytes, report) = zip_tree(root, &[], fixes, made, &mut added, out)?;
    Ok((bytes, report, added))
}

/// `added` gets the names of the files made from their examples.
fn zip_tree(
    root: &Path,
    extra: &[(&str, &Path)],
    fixes: &[SourceFix],
    made: &[FileFromExample],
    added: &mut Vec<String>,
    out: &Path,
) -> Result<(u64, Vec<FixInArchive>), AwsError> {
    if !root.is_dir() {
        return Err(AwsError::io(
            "archive",
            root,
            std::io::Error::new(std::io::ErrorKind::NotFound, "not a folder"),
        ));
    }
    let out_abs = std::fs::canonicalize(out.parent().unwrap_or(Path::new(".")))
        .ok()
        .and_then(|p| out.file_name().map(|n| p.join(n)));
    let mut entries: Vec<(String, PathBuf, bool)> = Vec::new(); // (name, path, is_symlink)
    let walker = ignore::WalkBuilder::new(root)
        .standard_filters(false)
        .git_ignore(true)
        .require_git(false)
        .parents(false)
        .follow_links(false)
        .filter_entry(|e| {
            !(e.file_type().is_some_and(|t| t.is_dir())
                && e.file_name()
                    .to_str()
                    .is_some_and(|n| SKIPPED_DIRS.contains(&n)))
        })
        .build();
    for entry in walker {
        let entry =
            entry.map_err(|e| AwsError::io("walk", root, std::io::Error::other(e.to_string())))?;
        let Some(ft) = entry.file_type() else {
            continue;
        };
        if ft.is_dir() {
            continue;
        }
        let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
        let name = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        if name.is_empty()
            || extra.iter().any(|(n, _)| *n == name)
            || SKIPPED_SUFFIXES.iter().any(|s| name.ends_with(s))
        {
            continue;
        }
        if let (Some(o), Ok(p)) = (&out_abs, std::fs::canonicalize(entry.path())) {
            if *o == p {
                continue; // the archive being written
            }
        }
        entries.push((name, entry.path().to_path_buf(), ft.is_symlink()));
    }
    for (name, path) in extra {
        entries.push((name.to_string(), path.to_path_buf(), false));
    }
    for m in made {
        let (file, example) = (
            m.file.trim_start_matches("./"),
            m.example.trim_start_matches("./"),
        );
        let plain = |p: &str| {
            !p.is_empty()
                && !p.starts_with('/')
                && p.split('/').all(|c| !c.is_empty() && c != "." && c != "..")
        };
        if !plain(file) || !plain(example) || entries.iter().any(|(n, _, _)| n == file) {
            continue;
        }
        let Some((_, src, false)) = entries.iter().find(|(n, _, _)| n == example).cloned() else {
            continue;
        };
        if std::fs::symlink_metadata(&src).is_ok_and(|m| m.file_type().is_file()) {
            entries.push((file.to_string(), src, false));
            added.push(file.to_string());
        }
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));

    let file = std::fs::File::create(out).map_err(|e| AwsError::io("create", out, e))?;
    let mut zip = ZipWriter::new(std::io::BufWriter::new(file));
    let zerr = |e: zip::result::ZipError| AwsError::Zip {
        path: out.to_path_buf(),
        message: e.to_string(),
    };
    let mut report: Vec<FixInArchive> = Vec::new();
    let base = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(DateTime::default());
    for (name, path, is_link) in &entries {
        if *is_link {
            let target =
                std::fs::read_link(path).map_err(|e| AwsError::io("read the link", path, e))?;
            zip.add_symlink(name, target.to_string_lossy(), base.unix_permissions(0o777))
                .map_err(zerr)?;
            continue;
        }
        let meta = std::fs::metadata(path).map_err(|e| AwsError::io("read", path, e))?;
        let opts = base
            .unix_permissions(if executable(&meta) { 0o755 } else { 0o644 })
            .large_file(meta.len() >= u32::MAX as u64);
        zip.start_file(name, opts).map_err(zerr)?;
        // The last line first: a fix adding lines moves those below it.
        let mut mine: Vec<&SourceFix> = fixes
            .iter()
            .filter(|f| f.file.trim_start_matches("./") == name)
            .collect();
        mine.sort_by_key(|f| std::cmp::Reverse(f.line));
        let fixed = if mine.is_empty() {
            None
        } else {
            // Fixes name text files; one that is not UTF-8 is archived as is.
            std::fs::read_to_string(path).ok().map(|mut text| {
                for f in &mine {
                    let out = f.apply_to(&text);
                    report.push(FixInArchive {
                        fix: (*f).clone(),
                        applied: out.is_some(),
                    });
                    if let Some(t) = out {
                        text = t;
                    }
                }
                text
            })
        };
        match fixed {
            Some(text) => zip
                .write_all(text.as_bytes())
                .map_err(|e| AwsError::io("archive", path, e))?,
            None => {
                let mut f = std::fs::File::open(path).map_err(|e| AwsError::io("open", path, e))?;
                std::io::copy(&mut f, &mut zip).map_err(|e| AwsError::io("archive", path, e))?;
            }
        }
    }
    let mut w = zip.finish().map_err(zerr)?;
    w.flush().map_err(|e| AwsError::io("write", out, e))?;
    drop(w);
    // Fixes whose file is not in the archive (left out, missing, not text).
    for f in fixes {
        if !report.iter().any(|r| &r.fix == f) {
            report.push(FixInArchive {
                fix: f.clone(),
                applied: false,
            });
        }
    }
    let bytes = std::fs::metadata(out)
        .map_err(|e| AwsError::io("read", out, e))?
        .len();
    Ok((bytes, report))
}

#[cfg(unix)]
fn executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn executable(_: &std::fs::Metadata) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn names(zip: &Path) -> Vec<String> {
        let a = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
        a.file_names().map(str::to_string).collect()
    }

    fn tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        write(r, "app.py", "print('hi')\n");
        write(r, "pkg/mod.py", "x = 1\n");
        write(r, ".gitignore", "*.log\n/build/\n");
        write(r, "debug.log", "noise");
        write(r, "build/out.bin", "noise");
        write(r, "pkg/sub/.gitignore", "secret.txt\n");
        write(r, "pkg/sub/secret.txt", "s");
        write(r, "pkg/sub/kept.txt", "k");
        write(r, ".git/HEAD", "ref");
        write(r, "node_modules/x/index.js", "x");
        write(r, "web/node_modules/y/index.js", "y");
        write(r, "target/debug/a", "a");
        write(r, ".venv/bin/python", "p");
        write(r, "pkg/__pycache__/mod.pyc", "c");
        write(r, ".env.example", "A=1\n");
        write(r, "deploy/terraform.tfstate", "{\"secret\": 1}");
        write(r, "deploy/terraform.tfstate.backup", "{}");
        d
    }

    #[test]
    fn skips_vendored_folders_and_gitignored_files_in_sorted_order() {
        let d = tree();
        let out = tempfile::tempdir().unwrap();
        let zip = out.path().join("src.zip");
        let bytes = zip_source(d.path(), &zip).unwrap();
        assert_eq!(bytes, std::fs::metadata(&zip).unwrap().len());
        assert_eq!(
            names(&zip),
            [
                ".env.example",
                ".gitignore",
                "app.py",
                "pkg/mod.py",
                "pkg/sub/.gitignore",
                "pkg/sub/kept.txt"
            ]
        );
        let mut a = zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
        let mut s = String::new();
        a.by_name("app.py").unwrap().read_to_string(&mut s).unwrap();
        assert_eq!(s, "print('hi')\n");
    }

    #[test]
    fn same_tree_same_bytes_even_with_new_mtimes() {
        let d = tree();
        let out = tempfile::tempdir().unwrap();
        let (a, b) = (out.path().join("a.zip"), out.path().join("b.zip"));
        zip_source(d.path(), &a).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        std::fs::write(d.path().join("app.py"), "print('hi')\n").unwrap();
        zip_source(d.path(), &b).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    }

    #[cfg(unix)]
    #[test]
    fn keeps_the_executable_bit_and_adds_extras() {
        use std::os::unix::fs::PermissionsExt;
        let d = tree();
        let extra_dir = tempfile::tempdir().unwrap();
        let run = extra_dir.path().join("run.sh");
        std::fs::write(&run, "#!/bin/sh\nexec python app.py\n").unwrap();
        std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o755)).unwrap();
        // The archive written inside the tree is not archived into itself.
        let zip = d.path().join("out.zip");
        zip_source_with(d.path(), &[("run.sh", &run)], &zip).unwrap();
        let mut a = zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
        assert!(a.by_name("out.zip").is_err());
        assert_eq!(
            a.by_name("run.sh").unwrap().unix_mode().unwrap() & 0o777,
            0o755
        );
        assert_eq!(
            a.by_name("app.py").unwrap().unix_mode().unwrap() & 0o777,
            0o644
        );
    }

    #[test]
    fn a_missing_root_is_an_io_error_naming_it() {
        let e = zip_source(Path::new("/nonexistent/src"), Path::new("/tmp/x.zip")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/src"), "{e}");
    }

    fn read_entry(zip: &Path, name: &str) -> String {
        let mut a = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
        let mut text = String::new();
        a.by_name(name).unwrap().read_to_string(&mut text).unwrap();
        text
    }

    #[test]
    fn files_from_examples_are_added_to_the_archive_and_fixed_there() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "src/config.ts.example",
            "export const port = 3000;\n",
        );
        write(d.path(), "kept.ts.example", "example\n");
        write(d.path(), "kept.ts", "real\n");
        let made = |file: &str, example: &str| FileFromExample {
            file: file.into(),
            example: example.into(),
        };
        let fix = SourceFix {
            file: "src/config.ts".into(),
            line: 1,
            find: "3000".into(),
            replace: "Number(process.env.PORT) || 3000".into(),
        };
        let out = tempfile::tempdir().unwrap();
        let zip = out.path().join("src.zip");
        let (_, report, added) = zip_source_prepared(
            d.path(),
            &[fix],
            &[
                made("src/config.ts", "src/config.ts.example"),
                // A file the tree has is archived as it is.
                made("kept.ts", "kept.ts.example"),
                // Paths that leave the tree, or an example it lacks: nothing.
                made("../outside.ts", "kept.ts.example"),
                made("other.ts", "/etc/passwd"),
                made("none.ts", "none.ts.example"),
            ],
            &zip,
        )
        .unwrap();
        assert_eq!(added, ["src/config.ts"]);
        assert_eq!(
            read_entry(&zip, "src/config.ts"),
            "export const port = Number(process.env.PORT) || 3000;\n"
        );
        assert!(report[0].applied);
        assert_eq!(read_entry(&zip, "kept.ts"), "real\n");
        let a = zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
        let names: Vec<&str> = a.file_names().collect();
        assert!(
            !names
                .iter()
                .any(|n| n.contains("outside") || *n == "other.ts" || *n == "none.ts"),
            "{names:?}"
        );
        // The tree itself is untouched.
        assert!(!d.path().join("src/config.ts").exists());
    }

    #[test]
    fn source_fixes_land_in_the_archive_and_never_in_the_tree() {
        let d = tempfile::tempdir().unwrap();
        let app = "from flask import Flask\r\napp.run(host=\"127.0.0.1\", port=5000)\r\n";
        write(d.path(), "app.py", app);
        write(
            d.path(),
            "web/main.js",
            "fetch('http://localhost:5000/api')\n",
        );
        let fix = |file: &str, line, find: &str, replace: &str| SourceFix {
            file: file.into(),
            line,
            find: find.into(),
            replace: replace.into(),
        };
        let fixes = [
            fix("app.py", 2, "\"127.0.0.1\"", "\"0.0.0.0\""),
            fix("./web/main.js", 1, "http://localhost:5000", ""),
            // The file changed since the analysis: reported, archived as is.
            fix("app.py", 1, "localhost", "x"),
            fix("gone.py", 1, "a", "b"),
        ];
        let out = tempfile::tempdir().unwrap();
        let zip = out.path().join("src.zip");
        let (_, report) = zip_source_fixed(d.path(), &fixes, &zip).unwrap();
        assert_eq!(
            read_entry(&zip, "app.py"),
            "from flask import Flask\r\napp.run(host=\"0.0.0.0\", port=5000)\r\n"
        );
        assert_eq!(read_entry(&zip, "web/main.js"), "fetch('/api')\n");
        assert_eq!(
            std::fs::read_to_string(d.path().join("app.py")).unwrap(),
            app
        );
        let applied: Vec<(&str, bool)> = report
            .iter()
            .map(|r| (r.fix.file.as_str(), r.applied))
            .collect();
        assert_eq!(
            applied,
            [
                ("app.py", true),
                ("app.py", false),
                ("./web/main.js", true),
                ("gone.py", false)
            ]
        );
        // Without fixes the archive is the plain one, byte for byte.
        let plain = out.path().join("plain.zip");
        let fixed_none = out.path().join("none.zip");
        zip_source(d.path(), &plain).unwrap();
        zip_source_fixed(d.path(), &[], &fixed_none).unwrap();
        assert_eq!(
            std::fs::read(plain).unwrap(),
            std::fs::read(fixed_none).unwrap()
        );
    }
}
