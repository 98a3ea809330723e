//! `autodeploy plan` through the binary: the bundle is written, PLAN.md
//! explains it, `--json` carries analysis/intent/decision/files, and a target
//! that cannot be rendered yet fails with a clear message and writes nothing.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use std::path::Path;

fn bin() -> Command {
    let mut c = Command::cargo_bin("autodeploy").expect("binary built");
    for k in [
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "AUTODEPLOY_LLM",
        "AUTODEPLOY_LLM_BASE_URL",
        "GITHUB_TOKEN",
    ] {
        c.env_remove(k);
    }
    c
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn plan_writes_a_reviewable_bundle() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("bundle");
    bin()
        .args([
            "plan",
            &fixture("hello_world_shape"),
            "deploy this Flask app on AWS",
            "--out",
            dir.to_str().unwrap(),
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("Decided: aws in us-east-1 (vm)"))
        .stdout(predicate::str::contains("PLAN.md"));
    for f in [
        "PLAN.md",
        "Dockerfile",
        ".dockerignore",
        "cloud-init.yaml",
        "terraform/versions.tf",
        "terraform/network.tf",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    let plan = std::fs::read_to_string(dir.join("PLAN.md")).unwrap();
    assert!(plan.contains("## Why"));
    assert!(plan.contains("## Estimated monthly cost"));
    assert!(plan.contains("app/app.py"), "source fixes listed");
}

#[test]
fn plan_json_carries_every_stage() {
    let out = tempfile::tempdir().unwrap();
    let o = bin()
        .args([
            "plan",
            &fixture("python_django_postgres"),
            "Django on AWS with Postgres, 2 to 4 instances",
            "--json",
            "--out",
        ])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["intent"]["database"], "postgresql");
    assert_eq!(v["decision"]["cloud"], "aws");
    assert!(v["decision"]["estimated_monthly_usd"].as_f64().unwrap() > 0.0);
    assert!(!v["decision"]["reasons"].as_array().unwrap().is_empty());
    assert!(v["analysis"]["services"].as_array().is_some());
    let files: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(files.contains(&"PLAN.md"));
}

#[test]
fn unsupported_target_fails_clearly_and_writes_nothing() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("bundle");
    bin()
        .args([
            "plan",
            &fixture("node_express_basic"),
            "deploy serverless on Azure",
            "--out",
            dir.to_str().unwrap(),
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains("not written yet"));
    assert!(!dir.exists());
}
