//! `autodeploy parse` through the binary: the exact JSON field set, the human
//! summary, stdin input, and an LLM that is configured but unreachable falling
//! back to the rules with a notice.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

const FIELDS: &[&str] = &[
    "cloud",
    "region",
    "strategy",
    "instance_type",
    "min_instances",
    "max_instances",
    "autoscale",
    "database",
    "cache",
    "domain",
    "https",
    "environment",
    "budget_usd_month",
    "load_balancer",
    "repo",
];

fn bin() -> Command {
    let mut c = Command::cargo_bin("autodeploy").expect("binary built");
    for k in [
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "AUTODEPLOY_LLM",
        "AUTODEPLOY_LLM_BASE_URL",
        "AUTODEPLOY_LLM_MODEL",
    ] {
        c.env_remove(k);
    }
    c
}

#[test]
fn json_has_exactly_the_contract_fields() {
    let out = bin()
        .args(["parse", "Deploy my Django app to AWS Frankfurt, Postgres, 2 to 5 instances, https on app.example.com", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let obj = v.as_object().unwrap();
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut want = FIELDS.to_vec();
    want.sort_unstable();
    assert_eq!(keys, want);
    assert_eq!(v["cloud"], "aws");
    assert_eq!(v["region"], "eu-central-1");
    assert_eq!(v["min_instances"], 2);
    assert_eq!(v["max_instances"], 5);
    assert_eq!(v["database"], "postgresql");
    assert_eq!(v["domain"], "app.example.com");
    assert_eq!(v["https"], true);
    assert_eq!(
        v["strategy"],
        Value::Null,
        "a framework name is not a strategy"
    );
}

#[test]
fn human_summary_names_defaults() {
    bin()
        .args(["parse", "run it locally"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Understood:"))
        .stdout(predicate::str::contains("local"))
        .stdout(predicate::str::contains("Left to defaults"));
}

#[test]
fn text_from_stdin() {
    let out = bin()
        .args(["parse", "-", "--json"])
        .write_stdin("put it on google cloud in belgium")
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["cloud"], "gcp");
    assert_eq!(v["region"], "europe-west1");
}

#[test]
fn unreachable_llm_falls_back_to_rules_and_says_so() {
    // A port nothing listens on: the client fails fast and the rules answer.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cache = tempfile::tempdir().unwrap();
    let out = bin()
        .args([
            "parse",
            "deploy on azure with redis",
            "--json",
            "--llm",
            "openai-compatible",
        ])
        .env(
            "AUTODEPLOY_LLM_BASE_URL",
            format!("http://127.0.0.1:{port}"),
        )
        .env("AUTODEPLOY_LLM_MODEL", "test-model")
        .env("AUTODEPLOY_HOME", cache.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["cloud"], "azure");
    assert_eq!(v["cache"], "redis");
    let stderr = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(
        stderr.contains("fell back to the rule-based parser"),
        "fallback notice missing: {stderr}"
    );
}

#[test]
fn the_llm_client_goes_through_the_proxy_the_environment_names() {
    use std::io::{BufRead, BufReader, Write};
    // A proxy on loopback that records the request line it is sent and
    // answers 503; the LLM's host does not even resolve, so only a request
    // through the proxy can reach anything.
    let proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = proxy.local_addr().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = proxy.accept() {
            let mut line = String::new();
            let _ = BufReader::new(s.try_clone().unwrap()).read_line(&mut line);
            let _ = tx.send(line);
            let _ =
                s.write_all(b"HTTP/1.1 503 Busy\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    let cache = tempfile::tempdir().unwrap();
    let out = bin()
        .args([
            "parse",
            "deploy on azure with redis",
            "--json",
            "--llm",
            "openai-compatible",
        ])
        .env("AUTODEPLOY_LLM_BASE_URL", "http://llm.example.invalid/v1")
        .env("AUTODEPLOY_LLM_MODEL", "test-model")
        .env("AUTODEPLOY_HOME", cache.path())
        .env("HTTP_PROXY", format!("http://{addr}"))
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the request went through the proxy");
    assert!(
        line.starts_with("POST http://llm.example.invalid/v1/"),
        "{line}"
    );
}
