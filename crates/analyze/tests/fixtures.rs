//! Every repository under `tests/fixtures/` is analysed and checked twice:
//! against a hand-written expectation in `tests/expect/<fixture>.json` (written
//! before the detector was tuned; partial: only the keys it names are checked),
//! and against an insta snapshot of the whole `services` output.
//!
//! Expectation format: `{"services": [ {<subset of a service>}, … ]}` with the
//! services in output order (sorted by path). Arrays of objects (env, findings)
//! match when every expected element matches some actual element; arrays of
//! scalars must be equal. Two virtual keys make exact claims:
//! `finding_kinds` (sorted, unique kinds) and `env_names` (sorted names).

use autodeploy_analyze::{analyze_dir, AnalyzeError, AnalyzeOptions};
use autodeploy_core::{SourceInfo, SourceKind};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn fixture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
        .expect("tests/fixtures exists")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // AUTODEPLOY_FIXTURES=flask,django runs only fixtures whose names start with one of these.
    if let Ok(filter) = std::env::var("AUTODEPLOY_FIXTURES") {
        let prefixes: Vec<&str> = filter
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        names.retain(|n| prefixes.iter().any(|p| n.starts_with(p)));
    }
    names
}

/// The analysis of one fixture as JSON (services only: stable across machines).
pub fn analyze_fixture(name: &str) -> Result<Value, AnalyzeError> {
    let source = SourceInfo {
        input: format!("tests/fixtures/{name}"),
        kind: SourceKind::Path,
        commit: None,
    };
    let opts = AnalyzeOptions {
        threads: 2,
        name_hint: Some(name.to_string()),
    };
    let analysis = analyze_dir(&fixtures_dir().join(name), source, &opts)?;
    Ok(json!({ "services": analysis.services }))
}

fn with_virtual_keys(service: &Value) -> Value {
    let mut s = service.clone();
    let mut kinds: Vec<String> = service["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["kind"].as_str().map(str::to_string))
        .collect();
    kinds.sort();
    kinds.dedup();
    let mut env: Vec<String> = service["env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["name"].as_str().map(str::to_string))
        .collect();
    env.sort();
    s["finding_kinds"] = json!(kinds);
    s["env_names"] = json!(env);
    s
}

/// Does `actual` satisfy the partial `expected`? Returns the first mismatch.
fn matches(expected: &Value, actual: &Value, at: &str) -> Result<(), String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let av = a.get(k).unwrap_or(&Value::Null);
                matches(ev, av, &format!("{at}.{k}"))?;
            }
            Ok(())
        }
        (Value::Array(e), Value::Array(a)) if e.iter().any(Value::is_object) => {
            for (i, ev) in e.iter().enumerate() {
                if !a.iter().any(|av| matches(ev, av, at).is_ok()) {
                    return Err(format!(
                        "{at}[{i}]: no element matches {ev}; actual: {actual}"
                    ));
                }
            }
            Ok(())
        }
        (e, a) if e == a => Ok(()),
        (e, a) => Err(format!("{at}: expected {e}, got {a}")),
    }
}

fn check_expectation(name: &str, actual: &Value) -> Result<(), String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/expect/{name}.json"));
    let text = std::fs::read_to_string(&path)
        .map_err(|_| format!("{name}: missing expectation file {}", path.display()))?;
    let expected: Value =
        serde_json::from_str(&text).map_err(|e| format!("{name}: bad expectation JSON: {e}"))?;
    let exp_services = expected["services"]
        .as_array()
        .ok_or(format!("{name}: expectation needs `services`"))?;
    let act_services = actual["services"].as_array().cloned().unwrap_or_default();
    if exp_services.len() != act_services.len() {
        let got: Vec<String> = act_services
            .iter()
            .map(|s| format!("{}({} {})", s["path"], s["language"], s["framework"]))
            .collect();
        return Err(format!(
            "{name}: expected {} services, got {}: {}",
            exp_services.len(),
            act_services.len(),
            got.join(", ")
        ));
    }
    for (i, (e, a)) in exp_services.iter().zip(&act_services).enumerate() {
        matches(e, &with_virtual_keys(a), &format!("{name}.services[{i}]"))?;
    }
    Ok(())
}

#[test]
fn fixtures_match_expectations_and_snapshots() {
    let names = fixture_names();
    assert!(!names.is_empty(), "no fixtures found");
    let mut failures = Vec::new();
    for name in &names {
        let actual = match analyze_fixture(name) {
            Ok(v) => v,
            Err(e) => json!({ "error": e.to_string(), "services": [] }),
        };
        if let Err(msg) = check_expectation(name, &actual) {
            failures.push(msg);
        }
        let snap = std::panic::catch_unwind(|| {
            insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false }, {
                insta::assert_json_snapshot!(name.as_str(), actual);
            });
        });
        if snap.is_err() {
            failures.push(format!("{name}: snapshot differs (cargo insta review)"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
