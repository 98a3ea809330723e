//! `autodeploy analyze` end to end through the binary: the JSON contract, exit
//! codes, and every kind of bad input the issue lists.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

fn bin() -> Command {
    let mut c = Command::cargo_bin("autodeploy").expect("binary built");
    c.env_remove("GITHUB_TOKEN").env_remove("GITLAB_TOKEN");
    c
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
}

fn analyze_json(dir: &Path) -> Value {
    let out = bin()
        .args(["analyze", dir.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

fn write(root: &Path, rel: &str, content: impl AsRef<[u8]>) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

fn flask_app(root: &Path) {
    write(root, "requirements.txt", "flask==3.0.3\ngunicorn==22.0.0\n");
    write(
        root,
        "app.py",
        "import os\nfrom flask import Flask\napp = Flask(__name__)\n\nif __name__ == '__main__':\n    app.run(host='0.0.0.0', port=int(os.environ.get('PORT', 8000)))\n",
    );
}

#[test]
fn json_follows_the_contract() {
    let v = analyze_json(&fixture("hello_world_shape"));
    assert_eq!(v["source"]["kind"], "path");
    assert!(v["source"].get("commit").is_some());
    assert!(v["source"]["input"]
        .as_str()
        .unwrap()
        .ends_with("hello_world_shape"));
    let s = &v["services"][0];
    for field in [
        "name",
        "path",
        "language",
        "framework",
        "port",
        "start",
        "build",
        "databases",
        "env",
        "findings",
        "confidence",
    ] {
        assert!(s.get(field).is_some(), "missing contract field {field}");
    }
    assert_eq!(s["path"], "app");
    assert_eq!(s["framework"], "flask");
    assert_eq!(s["port"], 5000);
    assert!(s["evidence"]["port"][0]["file"]
        .as_str()
        .unwrap()
        .ends_with("app.py"));
    let c = s["confidence"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&c));
}

#[test]
fn human_output_shows_values_with_evidence() {
    bin()
        .args(["analyze", fixture("hello_world_shape").to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicate::str::contains("port       5000  ← app/app.py:19"))
        .stdout(predicate::str::contains("binds_localhost"))
        .stdout(predicate::str::contains("hardcoded_localhost_url"));
}

#[test]
fn missing_path_is_a_source_error() {
    bin()
        .args(["analyze", "/definitely/not/here"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("/definitely/not/here"));
}

#[test]
fn empty_folder_says_nothing_to_deploy() {
    let dir = tempfile::tempdir().unwrap();
    bin()
        .args(["analyze", dir.path().to_str().unwrap()])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("empty"));
}

#[test]
fn no_recognisable_app_names_what_was_looked_for() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "README.md", "# notes\n");
    write(dir.path(), "LICENSE", "MIT\n");
    write(dir.path(), "docs/guide.md", "hello\n");
    bin()
        .args(["analyze", dir.path().to_str().unwrap()])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("no deployable app found"))
        .stderr(predicate::str::contains("package.json"))
        .stderr(predicate::str::contains("requirements.txt"));
}

#[test]
fn clone_failure_carries_gits_reason() {
    bin()
        .args(["analyze", "file:///nonexistent/repo.git"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("nonexistent"));
}

#[test]
fn git_clone_of_a_local_repository_reports_the_commit() {
    let dir = tempfile::tempdir().unwrap();
    flask_app(dir.path());
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@e")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@e")
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "init"]);
    let sha = String::from_utf8(
        std::process::Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(dir.path())
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let url = format!("file://{}", dir.path().display());
    let out = bin().args(["analyze", &url, "--json"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["source"]["kind"], "git");
    assert_eq!(v["source"]["commit"], sha.trim());
    assert_eq!(v["services"][0]["framework"], "flask");
    assert_eq!(v["services"][0]["port"], 8000);
}

#[test]
fn archive_with_parent_paths_is_rejected_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("evil.zip");
    {
        let f = std::fs::File::create(&zip_path).unwrap();
        let mut z = zip::ZipWriter::new(f);
        let opts = zip::write::SimpleFileOptions::default();
        z.start_file("app/requirements.txt", opts).unwrap();
        z.write_all(b"flask\n").unwrap();
        z.start_file("../../escaped.txt", opts).unwrap();
        z.write_all(b"pwned").unwrap();
        z.finish().unwrap();
    }
    bin()
        .args(["analyze", zip_path.to_str().unwrap()])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("escaped.txt"));
    assert!(!dir.path().join("escaped.txt").exists());
    assert!(!dir.path().parent().unwrap().join("escaped.txt").exists());
}

#[test]
fn tar_gz_archive_is_analysed() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    flask_app(&src);
    let tgz = dir.path().join("release.tar.gz");
    let status = std::process::Command::new("tar")
        .args([
            "-czf",
            tgz.to_str().unwrap(),
            "-C",
            dir.path().to_str().unwrap(),
            "src",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let v = {
        let out = bin()
            .args(["analyze", tgz.to_str().unwrap(), "--json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    assert_eq!(v["source"]["kind"], "archive");
    assert_eq!(v["services"][0]["path"], ".");
    assert_eq!(v["services"][0]["framework"], "flask");
}

#[test]
fn binary_non_utf8_and_unreadable_files_are_tolerated() {
    let dir = tempfile::tempdir().unwrap();
    flask_app(dir.path());
    write(dir.path(), "blob.bin", [0u8, 159, 146, 150, 0, 1, 2, 255]);
    write(
        dir.path(),
        "latin1.py",
        b"# caf\xe9\nimport os\nX = os.environ['LATIN_VAR']\n",
    );
    write(dir.path(), "weird.py", [0xffu8, 0xfe, 0x00, 0x41]);
    let v = analyze_json(dir.path());
    assert_eq!(v["services"][0]["framework"], "flask");
    let env: Vec<&str> = v["services"][0]["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(
        env.contains(&"LATIN_VAR"),
        "non-UTF-8 source still scanned: {env:?}"
    );
}

#[cfg(unix)]
#[test]
fn symlinks_leaving_the_tree_are_never_followed() {
    let outside = tempfile::tempdir().unwrap();
    write(
        outside.path(),
        "requirements.txt",
        "django==5.0\npsycopg2-binary==2.9\n",
    );
    write(
        outside.path(),
        "secret/settings.py",
        "import os\nSECRET = os.environ['OUTSIDE_SECRET']\n",
    );
    let dir = tempfile::tempdir().unwrap();
    flask_app(dir.path());
    std::os::unix::fs::symlink(
        outside.path().join("requirements.txt"),
        dir.path().join("requirements-extra.txt"),
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret"), dir.path().join("linked")).unwrap();
    let v = analyze_json(dir.path());
    let text = v.to_string();
    assert!(!text.contains("django"), "followed a symlink: {text}");
    assert!(
        !text.contains("OUTSIDE_SECRET"),
        "followed a directory symlink: {text}"
    );
    assert!(!text.contains("postgresql"));
}

#[test]
fn huge_files_are_skipped_not_read() {
    let dir = tempfile::tempdir().unwrap();
    flask_app(dir.path());
    // A sparse 4 GiB "source" file: reading it would take seconds and gigabytes.
    let f = std::fs::File::create(dir.path().join("huge.py")).unwrap();
    f.set_len(4 * 1024 * 1024 * 1024).unwrap();
    let started = std::time::Instant::now();
    let v = analyze_json(dir.path());
    assert_eq!(v["services"][0]["framework"], "flask");
    assert!(v["stats"]["files_skipped"].as_u64().unwrap() >= 1);
    // Not a timing assertion on speed, only a guard against reading 4 GiB.
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

#[test]
fn very_large_trees_are_walked() {
    let dir = tempfile::tempdir().unwrap();
    flask_app(dir.path());
    for i in 0..100_000 {
        let p = dir.path().join(format!("assets/d{}/f{i}.txt", i % 500));
        if i < 500 {
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        }
        std::fs::write(p, b"x").unwrap();
    }
    let v = analyze_json(dir.path());
    assert_eq!(v["services"][0]["framework"], "flask");
    assert_eq!(v["stats"]["files_seen"].as_u64().unwrap(), 100_002);
}

#[test]
fn vendored_and_ignored_trees_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    flask_app(dir.path());
    write(dir.path(), ".gitignore", "generated/\n");
    write(
        dir.path(),
        "generated/package.json",
        r#"{"dependencies":{"express":"4"}}"#,
    );
    write(
        dir.path(),
        "node_modules/x/package.json",
        r#"{"dependencies":{"express":"4"}}"#,
    );
    write(
        dir.path(),
        ".venv/lib/site.py",
        "import os\nos.environ['VENV_ONLY']\n",
    );
    let v = analyze_json(dir.path());
    assert_eq!(v["services"].as_array().unwrap().len(), 1, "{v}");
    assert!(!v.to_string().contains("VENV_ONLY"));
}

#[test]
fn empty_git_repository_says_nothing_to_deploy() {
    let dir = tempfile::tempdir().unwrap();
    let ok = std::process::Command::new("git")
        .args([
            "init",
            "-q",
            "--bare",
            dir.path().join("empty.git").to_str().unwrap(),
        ])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let url = format!("file://{}", dir.path().join("empty.git").display());
    let out = bin().args(["analyze", &url]).output().unwrap();
    let code = out.status.code();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        code == Some(3) || code == Some(4),
        "exit {code:?}: {stderr}"
    );
    assert!(stderr.contains("empty"), "{stderr}");
}
