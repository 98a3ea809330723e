//! The issue-4 validation matrix: many frameworks × every AWS strategy that
//! applies (vm, vm autoscaling, container, eks, lambda, static), with and
//! without database / cache / https, through the real analyze → parse →
//! decide → render stages. Every rendered bundle must pass
//! `terraform fmt -check` and `terraform validate` (offline provider mirror),
//! and a handful of representative bundles must pass checkov with only the
//! documented trade-offs of `deploy/checkov/skip.yaml` skipped.
//!
//! Not here: per-strategy content assertions and snapshots (those live in the
//! strategy test files); this file only proves breadth.

mod support;

use autodeploy_render::{render, RenderError, RenderOptions};
use std::path::{Path, PathBuf};
use std::process::Command;

/// (fixture, request, expected strategy as serialized, run checkov on it).
const MATRIX: &[(&str, &str, &str, bool)] = &[
    (
        "hello_world_shape",
        "deploy this on AWS on a VM",
        "vm",
        true,
    ),
    (
        "hello_world_shape",
        "deploy this on AWS on a VM, 2 to 4 instances",
        "vm",
        false,
    ),
    ("node_express_basic", "deploy on AWS on a VM", "vm", false),
    (
        "node_express_basic",
        "deploy on aws as containers",
        "container",
        false,
    ),
    (
        "node_express_basic",
        "deploy on AWS EKS, 3 nodes",
        "kubernetes",
        true,
    ),
    (
        "node_express_basic",
        "deploy on AWS Lambda",
        "serverless",
        true,
    ),
    (
        "python_django_postgres",
        "deploy on aws as containers with postgres",
        "container",
        true,
    ),
    (
        "python_django_postgres",
        "deploy on aws as containers with postgres and https on app.example.com",
        "container",
        false,
    ),
    (
        "python_django_postgres",
        "deploy a staging environment on aws as containers",
        "container",
        false,
    ),
    (
        "python_flask_celery_redis",
        "deploy on AWS with redis",
        "container",
        false,
    ),
    ("go_gin", "deploy on aws as containers", "container", false),
    ("go_gin", "deploy on AWS on a VM", "vm", false),
    (
        "rust_axum",
        "deploy on aws as containers",
        "container",
        false,
    ),
    (
        "java_spring_boot_maven",
        "deploy on aws as containers with postgres",
        "container",
        false,
    ),
    (
        "ruby_rails_postgres",
        "deploy on aws as containers",
        "container",
        false,
    ),
    (
        "node_react_vite",
        "deploy this static site on AWS",
        "static",
        true,
    ),
    (
        "node_react_vite",
        "deploy this static site on AWS with https on www.example.com",
        "static",
        false,
    ),
    (
        "python_starlette",
        "deploy on AWS Lambda",
        "serverless",
        false,
    ),
    (
        "php_laravel",
        "deploy on aws as containers",
        "container",
        false,
    ),
    (
        "csharp_aspnet_core",
        "deploy on aws as containers",
        "container",
        false,
    ),
    (
        "static_hugo_site",
        "deploy this static site on AWS",
        "static",
        false,
    ),
];

/// Scenarios expected to return `RenderError::Unsupported` (with the reason).
const EXPECTED_UNSUPPORTED: &[(&str, &str, &str)] = &[(
    "python_fastapi_src_layout",
    "deploy on AWS Lambda",
    "DATABASE_URL is a database address; Lambda env takes plain values only for now",
)];

fn slug(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The checkov binary from `.venv-tools` (installed by `scripts/setup.sh`).
fn checkov() -> PathBuf {
    let bin = repo_root().join(".venv-tools/bin/checkov");
    assert!(
        bin.is_file(),
        "checkov not found at {}: run scripts/setup.sh (it installs checkov into .venv-tools)",
        bin.display()
    );
    bin
}

/// Run checkov on a Terraform dir with the skip config; return failures.
fn checkov_failures(tf_dir: &Path) -> Result<Vec<String>, String> {
    let config = repo_root().join("deploy/checkov/skip.yaml");
    let out = Command::new(checkov())
        .arg("-d")
        .arg(tf_dir)
        .args([
            "--framework",
            "terraform",
            "--skip-download",
            "--quiet",
            "-o",
            "json",
        ])
        .arg("--config-file")
        .arg(&config)
        .env("BC_SKIP_MAPPING", "TRUE")
        .output()
        .map_err(|e| format!("checkov did not start: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "checkov output is not JSON ({e}):\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    // One report (object) or a list of reports (one per framework).
    let reports: Vec<serde_json::Value> = match v {
        serde_json::Value::Array(a) => a,
        other => vec![other],
    };
    let mut failures = Vec::new();
    for r in reports {
        if let Some(failed) = r["results"]["failed_checks"].as_array() {
            for c in failed {
                failures.push(format!(
                    "{} {} ({} {})",
                    c["check_id"].as_str().unwrap_or("?"),
                    c["resource"].as_str().unwrap_or("?"),
                    c["file_path"].as_str().unwrap_or("?"),
                    c["check_name"].as_str().unwrap_or("?"),
                ));
            }
        }
    }
    Ok(failures)
}

#[test]
fn matrix_size() {
    assert!(
        MATRIX.len() >= 20,
        "the issue asks for at least 20 scenarios"
    );
    let frameworks: std::collections::BTreeSet<_> = MATRIX.iter().map(|m| m.0).collect();
    assert!(frameworks.len() >= 6);
}

/// Every scenario renders, is `terraform fmt`-clean and validates; all
/// failures are collected and reported together.
#[test]
fn aws_matrix_renders_formats_and_validates() {
    let run_checkov = std::env::var("AUTODEPLOY_SKIP_CHECKOV").is_err();
    if run_checkov {
        checkov();
    }
    let mut failures = Vec::new();
    let mut rendered = 0;
    for &(fixture, request, strategy, with_checkov) in MATRIX {
        let name = format!("{fixture} / {request:?}");
        let (analysis, decision) = support::scenario(fixture, request);
        let got = serde_json::to_value(decision.strategy).unwrap();
        if got != strategy {
            failures.push(format!(
                "{name}: decided strategy {got}, expected {strategy}"
            ));
            continue;
        }
        let bundle = match render(&decision, &analysis, &RenderOptions::default()) {
            Ok(b) => b,
            Err(e) => {
                failures.push(format!("{name}: render failed: {e}"));
                continue;
            }
        };
        rendered += 1;
        let (_guard, tf) = support::write_bundle(&bundle);
        if let Ok(dir) = std::env::var("AUTODEPLOY_DUMP") {
            bundle
                .write_to(&Path::new(&dir).join(format!("{fixture}-{}", slug(request))))
                .unwrap();
        }
        for (what, check) in [
            ("fmt", support::assert_fmt as fn(&Path)),
            ("validate", support::assert_valid as fn(&Path)),
        ] {
            let tf2 = tf.clone();
            if let Err(e) = std::panic::catch_unwind(move || check(&tf2)) {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{name}: {what}: {msg}"));
            }
        }
        if run_checkov && with_checkov {
            match checkov_failures(&tf) {
                Ok(f) if f.is_empty() => {}
                Ok(f) => failures.push(format!("{name}: checkov:\n  {}", f.join("\n  "))),
                Err(e) => failures.push(format!("{name}: checkov: {e}")),
            }
        }
    }
    for &(fixture, request, reason) in EXPECTED_UNSUPPORTED {
        let (analysis, decision) = support::scenario(fixture, request);
        match render(&decision, &analysis, &RenderOptions::default()) {
            Err(RenderError::Unsupported { .. }) => {}
            other => failures.push(format!(
                "{fixture} / {request:?}: expected Unsupported ({reason}), got {:?}",
                other.map(|b| b.paths().len())
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} scenarios failed:\n{}",
        failures.len(),
        MATRIX.len(),
        failures.join("\n\n")
    );
    assert!(rendered >= 20);
}
