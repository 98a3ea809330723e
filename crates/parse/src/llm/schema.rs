//! What the model is asked for, and the strict check of what it answers.
//!
//! The answer must be one JSON object with exactly the 15 Intent fields (a
//! ```` ```json ```` fence around it is tolerated, nothing else): no unknown
//! keys, no missing keys, canonical enum values, plausible strings, integers
//! for counts with min ≤ max, a finite non-negative budget. Any deviation is a
//! schema violation and the rules are used instead.
//!
//! What it deliberately is not: the "is it in the text" check — that is
//! `merge`, which runs after this on a well-formed answer.

use super::LlmError;
use crate::rules::text::plausible_domain;
use autodeploy_core::Intent;
use serde_json::{Map, Value};

/// The instructions sent with every request.
pub(crate) const SYSTEM_PROMPT: &str = r#"You extract deployment settings from one user request.
Answer with ONE JSON object and nothing else, with exactly these keys:
{"cloud": "aws"|"gcp"|"azure"|"local"|null,
 "region": provider region code such as "eu-central-1", "europe-west1", "westeurope", or null,
 "strategy": "vm"|"container"|"kubernetes"|"serverless"|"static"|null,
 "instance_type": exact machine type such as "t3.small", "e2-medium", "Standard_B2s", or null,
 "min_instances": integer or null, "max_instances": integer or null, "autoscale": true|false|null,
 "database": "postgresql"|"mysql"|"mongodb"|null, "cache": "redis"|"memcached"|null,
 "domain": host name such as "app.example.com" or null, "https": true|false|null,
 "environment": "production"|"staging"|"development"|null,
 "budget_usd_month": number (US dollars per month) or null, "load_balancer": true|false|null,
 "repo": repository URL or local path written in the request, or null}
Rules: use null for anything the request does not state. Never guess or apply defaults.
Negations win ("I don't want Azure" is not azure; "no redis" is null cache).
Ignore services the app merely uses or used before (a past host, a storage bucket) when choosing the cloud.
A region is set only when the request names one unambiguously for the chosen cloud.
Words like "small" or "cheap" set nothing. A framework name is not a strategy."#;

pub(crate) const FIELDS: [&str; 15] = [
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

fn strip_fence(s: &str) -> &str {
    let t = s.trim();
    let Some(inner) = t.strip_prefix("```") else {
        return t;
    };
    let inner = inner
        .strip_prefix("json")
        .or_else(|| inner.strip_prefix("JSON"))
        .unwrap_or(inner);
    inner.strip_suffix("```").map(str::trim).unwrap_or(t)
}

fn looks_like_refusal(s: &str) -> bool {
    let l = s.trim_start().to_ascii_lowercase();
    [
        "i'm sorry",
        "i am sorry",
        "sorry,",
        "i can't",
        "i cannot",
        "i can not",
        "i won't",
        "i'm unable",
        "i am unable",
        "as an ai",
    ]
    .iter()
    .any(|p| l.starts_with(p))
}

fn violation(detail: impl Into<String>) -> LlmError {
    LlmError::Schema {
        detail: detail.into(),
    }
}

fn check_enum(obj: &Map<String, Value>, key: &str, allowed: &[&str]) -> Result<(), LlmError> {
    match &obj[key] {
        Value::Null => Ok(()),
        Value::String(s) if allowed.contains(&s.as_str()) => Ok(()),
        other => Err(violation(format!(
            "{key} must be one of {allowed:?} or null, got {other}"
        ))),
    }
}

fn check_string(
    obj: &Map<String, Value>,
    key: &str,
    ok: impl Fn(&str) -> bool,
    what: &str,
) -> Result<(), LlmError> {
    match &obj[key] {
        Value::Null => Ok(()),
        Value::String(s) if ok(s) => Ok(()),
        other => Err(violation(format!(
            "{key} must be {what} or null, got {}",
            super::wire::truncate(&other.to_string(), 80)
        ))),
    }
}

fn check_bool(obj: &Map<String, Value>, key: &str) -> Result<(), LlmError> {
    match &obj[key] {
        Value::Null | Value::Bool(_) => Ok(()),
        other => Err(violation(format!(
            "{key} must be true, false or null, got {other}"
        ))),
    }
}

fn check_count(obj: &Map<String, Value>, key: &str) -> Result<Option<u64>, LlmError> {
    match &obj[key] {
        Value::Null => Ok(None),
        Value::Number(n) if n.as_u64().is_some_and(|v| v <= 10_000) => Ok(n.as_u64()),
        other => Err(violation(format!(
            "{key} must be an integer from 0 to 10000 or null, got {other}"
        ))),
    }
}

/// Validate a model's answer strictly and turn it into an [`Intent`].
pub(crate) fn validate(answer: &str) -> Result<Intent, LlmError> {
    let body = strip_fence(answer);
    let value: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(_) if looks_like_refusal(body) => {
            return Err(LlmError::Refusal {
                detail: super::wire::truncate(body, 120),
            })
        }
        Err(e) => {
            return Err(LlmError::InvalidJson {
                detail: format!(
                    "{e}; the answer starts with {:?}",
                    super::wire::truncate(body, 60)
                ),
            });
        }
    };
    let Value::Object(obj) = value else {
        return Err(LlmError::InvalidJson {
            detail: "the answer is JSON but not an object".into(),
        });
    };
    for k in obj.keys() {
        if !FIELDS.contains(&k.as_str()) {
            return Err(violation(format!("unknown field {k:?}")));
        }
    }
    for f in FIELDS {
        if !obj.contains_key(f) {
            return Err(violation(format!("missing field {f:?}")));
        }
    }
    check_enum(&obj, "cloud", &["aws", "gcp", "azure", "local"])?;
    check_enum(
        &obj,
        "strategy",
        &["vm", "container", "kubernetes", "serverless", "static"],
    )?;
    check_enum(&obj, "database", &["postgresql", "mysql", "mongodb"])?;
    check_enum(&obj, "cache", &["redis", "memcached"])?;
    check_enum(
        &obj,
        "environment",
        &["production", "staging", "development"],
    )?;
    check_string(
        &obj,
        "region",
        |s| {
            (2..=32).contains(&s.len())
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        },
        "a lowercase region code",
    )?;
    check_string(
        &obj,
        "instance_type",
        |s| {
            (2..=40).contains(&s.len())
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        },
        "a machine type",
    )?;
    check_string(
        &obj,
        "domain",
        |s| s.len() <= 253 && plausible_domain(&s.to_ascii_lowercase()),
        "a host name",
    )?;
    check_string(
        &obj,
        "repo",
        |s| {
            !s.is_empty()
                && s.len() <= 2048
                && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        },
        "a URL or path",
    )?;
    for b in ["autoscale", "https", "load_balancer"] {
        check_bool(&obj, b)?;
    }
    let min = check_count(&obj, "min_instances")?;
    let max = check_count(&obj, "max_instances")?;
    if let (Some(a), Some(b)) = (min, max) {
        if a > b {
            return Err(violation(format!(
                "min_instances {a} is greater than max_instances {b}"
            )));
        }
    }
    match &obj["budget_usd_month"] {
        Value::Null => {}
        Value::Number(n)
            if n.as_f64()
                .is_some_and(|v| v.is_finite() && (0.0..=10_000_000.0).contains(&v)) => {}
        other => {
            return Err(violation(format!(
                "budget_usd_month must be a non-negative number or null, got {other}"
            )))
        }
    }
    serde_json::from_value(Value::Object(obj)).map_err(|e| violation(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(patch: &str) -> String {
        let mut v: Map<String, Value> = FIELDS
            .iter()
            .map(|f| (f.to_string(), Value::Null))
            .collect();
        let p: Map<String, Value> = serde_json::from_str(patch).unwrap();
        v.extend(p);
        Value::Object(v).to_string()
    }

    #[test]
    fn accepts_well_formed_answers() {
        let i = validate(&full(
            r#"{"cloud":"aws","region":"eu-central-1","min_instances":2,"max_instances":5}"#,
        ))
        .unwrap();
        assert_eq!(i.region.as_deref(), Some("eu-central-1"));
        assert!(validate(&format!("```json\n{}\n```", full("{}"))).is_ok());
    }

    #[test]
    fn rejects_everything_else() {
        let bad = [
            full(r#"{"cloud":"heroku"}"#),
            full(r#"{"extra":1}"#),
            r#"{"cloud":"aws"}"#.to_string(),
            full(r#"{"min_instances":5,"max_instances":2}"#),
            full(r#"{"min_instances":-1}"#),
            full(r#"{"min_instances":2.5}"#),
            full(r#"{"https":"yes"}"#),
            full(r#"{"region":"EU Central"}"#),
            full(r#"{"domain":"not a domain"}"#),
            full(r#"{"budget_usd_month":-3}"#),
            full(r#"{"repo":"two words"}"#),
        ];
        for b in bad {
            assert!(matches!(validate(&b), Err(LlmError::Schema { .. })), "{b}");
        }
        assert!(matches!(
            validate("[1,2]"),
            Err(LlmError::InvalidJson { .. })
        ));
        assert!(matches!(
            validate("{not json"),
            Err(LlmError::InvalidJson { .. })
        ));
        assert!(matches!(
            validate("I'm sorry, I can't help with that."),
            Err(LlmError::Refusal { .. })
        ));
    }
}
