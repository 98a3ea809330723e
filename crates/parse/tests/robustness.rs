//! Hostile input never panics and stays fast: random strings, unicode,
//! control characters, huge inputs. `parse` reads at most
//! `MAX_INPUT_BYTES` (64 KiB) and is linear within them.

use autodeploy_parse::{parse, parse_with, summarize, ParseOptions, MAX_INPUT_BYTES};
use proptest::prelude::*;
use std::time::{Duration, Instant};

fn check_invariants(text: &str) {
    let i = parse(text);
    // Output is always a valid contract value.
    let v = serde_json::to_value(&i).expect("serialises");
    assert_eq!(v.as_object().unwrap().len(), 15);
    let back: autodeploy_parse::Intent = serde_json::from_value(v).expect("round-trips");
    // The fields outside the `parse --json` contract travel in memory only
    // (`#[serde(skip)]`), so the round trip carries exactly the contract.
    let contract = autodeploy_parse::Intent {
        no_database_server: false,
        services: Vec::new(),
        services_left_out: Vec::new(),
        ..i.clone()
    };
    assert_eq!(back, contract, "{text:?}");
    if let (Some(a), Some(b)) = (i.min_instances, i.max_instances) {
        assert!(a <= b, "min {a} > max {b} for {text:?}");
    }
    if let Some(b) = i.budget_usd_month {
        assert!(b.is_finite() && b >= 0.0);
    }
    let _ = summarize(&i);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_unicode_never_panics(s in "\\PC*") {
        check_invariants(&s);
    }

    #[test]
    fn control_characters_and_mixed_scripts(s in "[\\x00-\\x1f\\x7f a-zA-Z0-9.,;:!?/\\\\$€£%@#&*()\\[\\]{}'\"<>=+_~-]{0,300}") {
        check_invariants(&s);
    }

    #[test]
    fn deployment_vocabulary_soup(words in proptest::collection::vec(proptest::sample::select(vec![
        "aws", "gcp", "azure", "no", "not", "don't", "2", "to", "5", "instances", "between", "and", "up",
        "max", "min", "at", "least", "scale", "zero", "$50", "a", "month", "k8s", "eks", "on", "in",
        "frankfurt", "us-east-1", "westeurope", "t3.small", "https://github.com/a/b", "app.example.com",
        "https", "http", "only", "postgres", "redis", "but", "now", "instead", "of", "single", "one",
        "-", "–", "..", ",", ".", ":", "=", "replicas", "count", "fixed", "static", "s3", "./x", "~/y",
    ]), 0..60)) {
        let text = words.join(" ");
        check_invariants(&text);
    }
}

#[test]
fn words_outside_the_contract_still_round_trip() {
    // "sqlite" and "the backend" set in-memory fields the JSON leaves out; a
    // random string that happened to contain one failed the round trip once.
    for t in [
        "sqlite",
        "no database",
        "just the backend",
        "without the worker",
        "\u{1}sqlite;",
    ] {
        check_invariants(t);
    }
    let i = parse("deploy just the backend with sqlite");
    assert!(i.no_database_server && !i.services.is_empty());
}

#[test]
fn empty_and_whitespace() {
    for t in ["", " ", "\n\t\r", "\u{0}", "\u{feff}", "   \u{200b}  "] {
        assert!(parse(t).is_empty(), "{t:?}");
    }
    let out = parse_with("", &ParseOptions::default());
    assert!(out.intent.is_empty() && out.fallback.is_none());
}

#[test]
fn one_megabyte_is_capped_and_fast() {
    let sentence = "Deploy my Django app to AWS Frankfurt, Postgres, 2 to 5 instances, https on app.example.com. ";
    let big: String = sentence.repeat(1024 * 1024 / sentence.len() + 1);
    assert!(big.len() >= 1024 * 1024);
    let t = Instant::now();
    let out = parse_with(&big, &ParseOptions::default());
    let took = t.elapsed();
    assert!(took < Duration::from_secs(2), "1 MB took {took:?}");
    assert_eq!(
        out.intent.cloud,
        parse(sentence).cloud,
        "the beginning is still read"
    );
    assert!(
        out.notes
            .iter()
            .any(|n| n.contains("only the beginning was read")),
        "{:?}",
        out.notes
    );
}

#[test]
fn pathological_megabytes_are_fast() {
    let inputs = [
        "a".repeat(1 << 20),
        "aws ".repeat(1 << 18),
        "1 ".repeat(1 << 19),
        ".".repeat(1 << 20),
        "-".repeat(1 << 20),
        "x.com ".repeat(1 << 18),
        "/srv/a/b ".repeat(1 << 17),
        "$1,000,000,000,000 a month ".repeat(1 << 15),
        "no not don't without ".repeat(1 << 16),
        "2 to 3 to 4 to 5 instances ".repeat(1 << 15),
        "東京".repeat(1 << 18),
        "\u{0}\u{1}\u{7}".repeat(1 << 18),
        "é".repeat(1 << 19),
    ];
    for input in &inputs {
        let t = Instant::now();
        let i = parse(input);
        let took = t.elapsed();
        assert!(
            took < Duration::from_secs(2),
            "{} bytes of {:?}… took {took:?}",
            input.len(),
            &input.chars().take(12).collect::<String>()
        );
        let _ = i;
        let mut end = input.len().min(MAX_INPUT_BYTES / 4);
        while !input.is_char_boundary(end) {
            end -= 1;
        }
        check_invariants(&input[..end]);
    }
}
