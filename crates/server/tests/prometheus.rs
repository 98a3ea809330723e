//! The shipped alert rules (deploy/prometheus/alerts.yml) are valid, their
//! unit tests pass under promtool, and every metric they use is one this
//! service exports.

use std::path::PathBuf;
use std::process::Command;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/prometheus")
}

fn promtool() -> Option<PathBuf> {
    let p = std::env::var_os("PROMTOOL")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("promtool"));
    match Command::new(&p).arg("--version").output() {
        Ok(o) if o.status.success() => Some(p),
        _ => {
            eprintln!(
                "SKIPPED: promtool not found (apt package `prometheus`; CI installs it) — \
                 the alert rules were NOT checked"
            );
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true: this prerequisite must be there (see above)"
            );
            None
        }
    }
}

#[test]
fn promtool_check_rules() {
    let Some(p) = promtool() else { return };
    let out = Command::new(p)
        .args(["check", "rules"])
        .arg(dir().join("alerts.yml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn promtool_unit_tests() {
    let Some(p) = promtool() else { return };
    let out = Command::new(p)
        .args(["test", "rules", "alerts_test.yml"])
        .current_dir(dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn alerts_use_only_exported_metrics() {
    let rules = std::fs::read_to_string(dir().join("alerts.yml")).unwrap();
    let m = autodeploy_server::Metrics::new();
    let exported = m.encode(Some(&autodeploy_server::metrics::FleetGauges::default()));
    let families: Vec<&str> = exported
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let mut used = 0;
    for word in rules.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        let looks_metric = ["_total", "_seconds_bucket", "_seconds_count", "_size"]
            .iter()
            .any(|s| word.ends_with(s))
            && word.contains('_');
        if !looks_metric {
            continue;
        }
        let family = word
            .strip_suffix("_bucket")
            .or_else(|| word.strip_suffix("_count"))
            .unwrap_or(word);
        assert!(
            families.contains(&family),
            "alerts.yml uses {word}, which /metrics does not export ({families:?})"
        );
        used += 1;
    }
    assert!(
        used >= 8,
        "expected the rules to reference metrics, found {used}"
    );
}
