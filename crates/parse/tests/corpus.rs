//! Corpus accuracy: ≥200 realistic requests with hand-written expected intents
//! (`tests/corpus/requests.jsonl`, written before the rules were tuned).
//!
//! Measures per-field accuracy over all 15 contract fields × all requests,
//! prints a per-field table and every failing case, and asserts
//! - accuracy ≥ 95 %,
//! - zero invented values (a non-null field where the expectation is null).
//!
//! `tests/corpus/holdout.jsonl` is a second, blind set (100 requests written
//! after the rules, by other personas, and scored before any fix). It is scored
//! the same way with its own bar (≥ 90 %, zero invented) so the main corpus
//! cannot silently become a memorised list.
//!
//! Run with `cargo test -p autodeploy-parse --test corpus -- --nocapture` to see the tables.

use serde_json::{Map, Value};

const FIELDS: [&str; 15] = [
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

struct Case {
    tag: String,
    text: String,
    expect: Map<String, Value>,
}

fn load(raw: &str) -> Vec<Case> {
    raw.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(n, l)| {
            let v: Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
            let expect = v["expect"]
                .as_object()
                .cloned()
                .unwrap_or_else(|| panic!("line {}: no expect object", n + 1));
            for k in expect.keys() {
                assert!(
                    FIELDS.contains(&k.as_str()),
                    "line {}: unknown field {k:?} in expectation",
                    n + 1
                );
            }
            Case {
                tag: v["tag"].as_str().unwrap_or("").to_string(),
                text: v["text"]
                    .as_str()
                    .unwrap_or_else(|| panic!("line {}: no text", n + 1))
                    .to_string(),
                expect,
            }
        })
        .collect()
}

fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() < 1e-6,
        _ => a == b,
    }
}

struct Score {
    accuracy: f64,
    invented: Vec<String>,
}

fn score(name: &str, cases: &[Case]) -> Score {
    let mut right = [0usize; 15];
    let mut invented = Vec::new();
    let mut failures = Vec::new();
    for c in cases {
        let got =
            serde_json::to_value(autodeploy_parse::parse(&c.text)).expect("intent serialises");
        let got = got.as_object().expect("object");
        assert_eq!(
            got.len(),
            15,
            "parse output must have exactly the 15 contract fields"
        );
        let mut diffs = Vec::new();
        for (fi, f) in FIELDS.iter().enumerate() {
            let want = c.expect.get(*f).unwrap_or(&Value::Null);
            let have = got.get(*f).unwrap_or(&Value::Null);
            if same(want, have) {
                right[fi] += 1;
            } else {
                diffs.push(format!("{f}: want {want}, got {have}"));
                if want.is_null() {
                    invented.push(format!("[{}] {:?} → {f} = {have}", c.tag, c.text));
                }
            }
        }
        if !diffs.is_empty() {
            failures.push(format!(
                "[{}] {:?}\n      {}",
                c.tag,
                c.text,
                diffs.join("\n      ")
            ));
        }
    }
    let total: usize = right.iter().sum();
    let cells = cases.len() * FIELDS.len();
    let accuracy = total as f64 / cells as f64;
    println!("\n== {name}: {} requests", cases.len());
    println!("{:<18} {:>8}", "field", "accuracy");
    for (fi, f) in FIELDS.iter().enumerate() {
        println!(
            "{:<18} {:>7.1}%",
            f,
            100.0 * right[fi] as f64 / cases.len() as f64
        );
    }
    println!(
        "{:<18} {:>7.2}%  ({total}/{cells} field values)",
        "ALL",
        100.0 * accuracy
    );
    println!(
        "requests fully right: {}/{}",
        cases.len() - failures.len(),
        cases.len()
    );
    println!("invented values: {}", invented.len());
    if !failures.is_empty() {
        println!("failing requests ({}):", failures.len());
        for f in &failures {
            println!("  {f}");
        }
    }
    Score { accuracy, invented }
}

#[test]
fn corpus_accuracy_and_no_invented_values() {
    let cases = load(include_str!("corpus/requests.jsonl"));
    assert!(
        cases.len() >= 200,
        "corpus has {} requests; need ≥200",
        cases.len()
    );
    let vague = cases.iter().filter(|c| c.expect.is_empty()).count();
    assert!(
        vague >= 20,
        "corpus has {vague} requests that say almost nothing; need ≥20"
    );
    let s = score("corpus (requests.jsonl)", &cases);
    assert!(
        s.invented.is_empty(),
        "invented values:\n{}",
        s.invented.join("\n")
    );
    assert!(
        s.accuracy >= 0.95,
        "field accuracy {:.2}% < 95%",
        100.0 * s.accuracy
    );
}

#[test]
fn holdout_accuracy_and_no_invented_values() {
    let cases = load(include_str!("corpus/holdout.jsonl"));
    assert!(cases.len() >= 100);
    let s = score("holdout (holdout.jsonl)", &cases);
    assert!(
        s.invented.is_empty(),
        "invented values:\n{}",
        s.invented.join("\n")
    );
    assert!(
        s.accuracy >= 0.90,
        "holdout field accuracy {:.2}% < 90%",
        100.0 * s.accuracy
    );
}
