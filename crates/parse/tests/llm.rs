//! The LLM path against a real HTTP server on 127.0.0.1 that speaks the
//! OpenAI and Anthropic request/response shapes, including errors, slow
//! answers, refusals, invalid JSON, schema violations and garbage bytes.

mod support;

use autodeploy_parse::{parse, parse_with, LlmError, LlmSettings, Method, ParseOptions, Provider};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use support::fake_llm::{anthropic_answer, api_error, openai_answer, start, Reply};

const REQUEST: &str =
    "Deploy my Django app to AWS Frankfurt, Postgres, 2 to 5 instances, https on app.example.com";

fn settings(provider: Provider, base_url: &str) -> LlmSettings {
    LlmSettings {
        provider,
        model: "test-model".into(),
        api_key: Some("sk-test-123".into()),
        base_url: base_url.into(),
        timeout: Duration::from_secs(5),
    }
}

fn opts(provider: Provider, base_url: &str) -> ParseOptions {
    ParseOptions {
        llm: Some(settings(provider, base_url)),
        cache_dir: None,
    }
}

/// A complete, schema-valid answer: all fields null, then `patch`.
fn answer(patch: Value) -> String {
    let mut v = serde_json::to_value(autodeploy_parse::Intent::default()).unwrap();
    for (k, x) in patch.as_object().unwrap() {
        v[k] = x.clone();
    }
    v.to_string()
}

fn good_answer() -> String {
    answer(json!({
        "cloud": "aws", "region": "eu-central-1", "database": "postgresql", "min_instances": 2,
        "max_instances": 5, "autoscale": true, "domain": "app.example.com", "https": true
    }))
}

#[test]
fn openai_request_shape_and_good_answer() {
    let server = start(|_| Reply::Json(200, openai_answer(&good_answer())));
    let out = parse_with(REQUEST, &opts(Provider::OpenAi, &server.base_url));
    assert_eq!(out.fallback, None, "{:?}", out.notes);
    assert_eq!(
        out.method,
        Method::Llm {
            provider: Provider::OpenAi,
            model: "test-model".into(),
            cached: false
        }
    );
    assert_eq!(out.intent, parse(REQUEST));

    let req = server.last();
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(req.header("authorization"), Some("Bearer sk-test-123"));
    assert!(req
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    assert_eq!(req.body["model"], "test-model");
    assert_eq!(req.body["response_format"]["type"], "json_object");
    assert_eq!(req.body["messages"][0]["role"], "system");
    assert_eq!(req.body["messages"][1]["role"], "user");
    assert_eq!(req.body["messages"][1]["content"], REQUEST);
}

#[test]
fn what_only_the_rules_read_survives_a_model_answer() {
    // The parts to deploy and "sqlite" are never in the model's schema: the
    // merged intent keeps the rules' reading of them.
    let text = "deploy just the API and its workers on AWS with sqlite";
    let server = start(|_| Reply::Json(200, openai_answer(&answer(json!({"cloud": "aws"})))));
    let out = parse_with(text, &opts(Provider::OpenAi, &server.base_url));
    assert_eq!(out.fallback, None, "{:?}", out.notes);
    assert_eq!(
        out.intent.services,
        [
            autodeploy_core::ServiceRole::Backend,
            autodeploy_core::ServiceRole::Worker
        ]
    );
    assert!(out.intent.no_database_server);
    assert_eq!(out.intent, parse(text));
}

#[test]
fn anthropic_request_shape_and_good_answer() {
    let server = start(|_| {
        Reply::Json(
            200,
            anthropic_answer(&format!("```json\n{}\n```", good_answer()), "end_turn"),
        )
    });
    let out = parse_with(REQUEST, &opts(Provider::Anthropic, &server.base_url));
    assert_eq!(out.fallback, None);
    assert!(matches!(
        out.method,
        Method::Llm {
            provider: Provider::Anthropic,
            cached: false,
            ..
        }
    ));
    assert_eq!(out.intent, parse(REQUEST));

    let req = server.last();
    assert_eq!(req.path, "/v1/messages");
    assert_eq!(req.header("x-api-key"), Some("sk-test-123"));
    assert_eq!(req.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(req.header("authorization"), None);
    assert!(req.body["system"].as_str().unwrap().contains("null"));
    assert!(req.body["max_tokens"].as_u64().unwrap() > 0);
    assert_eq!(req.body["messages"][0]["content"], REQUEST);
}

#[test]
fn openai_compatible_without_key_and_v1_base() {
    // Ollama: no key, base URL often written with /v1.
    let server = start(|_| Reply::Json(200, openai_answer(&good_answer())));
    let mut s = settings(
        Provider::OpenAiCompatible,
        &format!("{}/v1/", server.base_url),
    );
    s.api_key = None;
    let out = parse_with(
        REQUEST,
        &ParseOptions {
            llm: Some(s),
            cache_dir: None,
        },
    );
    assert_eq!(out.fallback, None);
    let req = server.last();
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(req.header("authorization"), None);
}

#[test]
fn invented_values_are_dropped() {
    let text = "Put my Flask app on AWS in Frankfurt";
    let invented = answer(json!({
        "cloud": "aws", "region": "us-west-2", "domain": "evil.example.com", "database": "postgresql",
        "min_instances": 3, "https": true, "instance_type": "t3.large", "budget_usd_month": 100,
        "repo": "https://github.com/x/y", "environment": "production", "load_balancer": true, "strategy": "container"
    }));
    let server = start(move |_| Reply::Json(200, openai_answer(&invented)));
    let out = parse_with(text, &opts(Provider::OpenAi, &server.base_url));
    assert_eq!(out.fallback, None);
    assert_eq!(out.intent, parse(text), "only the rules' values survive");
    assert_eq!(out.intent.region.as_deref(), Some("eu-central-1"));
    for field in [
        "region",
        "domain",
        "database",
        "min_instances",
        "https",
        "instance_type",
        "budget_usd_month",
        "repo",
        "environment",
        "load_balancer",
        "strategy",
    ] {
        assert!(
            out.notes
                .iter()
                .any(|n| n.starts_with(&format!("{field}:"))),
            "no drop note for {field}: {:?}",
            out.notes
        );
    }
}

#[test]
fn supported_model_values_fill_gaps_and_fix_context() {
    // The rules leave the region unset (two regions named); the model picks one the text names.
    let text = "Deploy in us-east-1 or eu-west-1, whichever is cheaper, AWS";
    assert_eq!(parse(text).region, None);
    let a = answer(json!({"cloud": "aws", "region": "us-east-1"}));
    let server = start(move |_| Reply::Json(200, openai_answer(&a)));
    let out = parse_with(text, &opts(Provider::OpenAi, &server.base_url));
    assert_eq!(out.intent.region.as_deref(), Some("us-east-1"));
    assert_eq!(out.intent.cloud, Some(autodeploy_core::Cloud::Aws));

    // A negated mention does not support a value, even from the model.
    let text = "I don't want Azure, put it on Google Cloud";
    let a = answer(json!({"cloud": "azure"}));
    let server = start(move |_| Reply::Json(200, openai_answer(&a)));
    let out = parse_with(text, &opts(Provider::OpenAi, &server.base_url));
    assert_eq!(out.intent.cloud, Some(autodeploy_core::Cloud::Gcp));
    assert!(out.notes.iter().any(|n| n.starts_with("cloud:")));

    // A null from the model does not erase what the rules read verbatim.
    let a = answer(json!({}));
    let server = start(move |_| Reply::Json(200, openai_answer(&a)));
    let out = parse_with(REQUEST, &opts(Provider::OpenAi, &server.base_url));
    assert_eq!(out.intent, parse(REQUEST));
}

fn assert_fallback(out: &autodeploy_parse::ParseOutcome, text: &str) {
    assert_eq!(out.method, Method::Rules);
    assert_eq!(
        out.intent,
        parse(text),
        "falls back to exactly the rules' result"
    );
    assert!(out
        .fallback_notice()
        .unwrap()
        .contains("fell back to the rule-based parser"));
}

#[test]
fn http_errors_fall_back_with_a_reason() {
    for (status, kind, hint) in [
        (401, "authentication_error", "check the API key"),
        (429, "rate_limit_error", "rate limited"),
        (500, "api_error", "server error"),
    ] {
        for provider in [Provider::OpenAi, Provider::Anthropic] {
            let server = start(move |_| {
                Reply::Json(status, api_error(kind, "something went wrong upstream"))
            });
            let out = parse_with(REQUEST, &opts(provider, &server.base_url));
            assert_fallback(&out, REQUEST);
            match out.fallback.as_ref().unwrap() {
                LlmError::Http {
                    status: s, message, ..
                } => {
                    assert_eq!(*s, status);
                    assert_eq!(message, "something went wrong upstream");
                }
                other => panic!("{provider} {status}: {other:?}"),
            }
            assert!(out.fallback.unwrap().to_string().contains(hint));
        }
    }
}

#[test]
fn invalid_json_and_schema_violations_fall_back() {
    type Check = fn(&LlmError) -> bool;
    let cases: Vec<(String, Check)> = vec![
        ("{\"cloud\": \"aws\", ".into(), |e| {
            matches!(e, LlmError::InvalidJson { .. })
        }),
        ("Sure! Here is the JSON you asked for.".into(), |e| {
            matches!(e, LlmError::InvalidJson { .. })
        }),
        (answer(json!({"cloud": "heroku"})), |e| {
            matches!(e, LlmError::Schema { .. })
        }),
        (answer(json!({"extra_field": 1})), |e| {
            matches!(e, LlmError::Schema { .. })
        }),
        (r#"{"cloud": "aws"}"#.into(), |e| {
            matches!(e, LlmError::Schema { .. })
        }),
        (
            answer(json!({"min_instances": 9, "max_instances": 2})),
            |e| matches!(e, LlmError::Schema { .. }),
        ),
        (answer(json!({"https": "yes"})), |e| {
            matches!(e, LlmError::Schema { .. })
        }),
    ];
    for (content, check) in cases {
        let c = content.clone();
        let server = start(move |_| Reply::Json(200, openai_answer(&c)));
        let out = parse_with(REQUEST, &opts(Provider::OpenAi, &server.base_url));
        assert_fallback(&out, REQUEST);
        assert!(
            check(out.fallback.as_ref().unwrap()),
            "{content}: {:?}",
            out.fallback
        );
    }
}

#[test]
fn refusals_fall_back() {
    let server = start(|_| {
        let mut v = openai_answer("");
        v["choices"][0]["message"]["content"] = Value::Null;
        v["choices"][0]["message"]["refusal"] = json!("I'm sorry, I can't help with that.");
        Reply::Json(200, v)
    });
    let out = parse_with(REQUEST, &opts(Provider::OpenAi, &server.base_url));
    assert_fallback(&out, REQUEST);
    assert!(
        matches!(out.fallback, Some(LlmError::Refusal { .. })),
        "{:?}",
        out.fallback
    );

    let server = start(|_| {
        Reply::Json(
            200,
            anthropic_answer("I can't help with that request.", "refusal"),
        )
    });
    let out = parse_with(REQUEST, &opts(Provider::Anthropic, &server.base_url));
    assert!(
        matches!(out.fallback, Some(LlmError::Refusal { .. })),
        "{:?}",
        out.fallback
    );

    let server = start(|_| {
        Reply::Json(
            200,
            anthropic_answer("I'm sorry, but I cannot assist with that.", "end_turn"),
        )
    });
    let out = parse_with(REQUEST, &opts(Provider::Anthropic, &server.base_url));
    assert!(
        matches!(out.fallback, Some(LlmError::Refusal { .. })),
        "{:?}",
        out.fallback
    );
}

#[test]
fn slow_answers_time_out_quickly() {
    let server = start(|_| Reply::Slow(Duration::from_secs(3), 200, openai_answer(&good_answer())));
    let mut s = settings(Provider::OpenAi, &server.base_url);
    s.timeout = Duration::from_millis(300);
    let t = Instant::now();
    let out = parse_with(
        REQUEST,
        &ParseOptions {
            llm: Some(s),
            cache_dir: None,
        },
    );
    let took = t.elapsed();
    assert_fallback(&out, REQUEST);
    assert!(
        matches!(out.fallback, Some(LlmError::Timeout { .. })),
        "{:?}",
        out.fallback
    );
    assert!(took < Duration::from_millis(2000), "took {took:?}");
}

#[test]
fn garbage_and_wrong_shapes_fall_back() {
    let replies: Vec<fn() -> Reply> = vec![
        || {
            Reply::Garbage(vec![
                0xff, 0x00, 0x13, 0x37, b'\n', 0xfe, 0xfd, b'\r', b'\n', b'\r', b'\n',
            ])
        },
        || {
            Reply::Raw(
                200,
                "text/html",
                b"<html><body>Welcome to nginx!</body></html>".to_vec(),
            )
        },
        || Reply::Raw(200, "application/json", vec![0xc3, 0x28, 0xa0, 0xa1]),
        || Reply::Json(200, json!({"unexpected": true})),
        || Reply::Json(200, json!({"choices": []})),
    ];
    for (i, make) in replies.into_iter().enumerate() {
        let server = start(move |_| make());
        let out = parse_with(REQUEST, &opts(Provider::OpenAi, &server.base_url));
        assert_fallback(&out, REQUEST);
        assert!(
            matches!(out.fallback, Some(LlmError::BadResponse { .. })),
            "case {i}: {:?}",
            out.fallback
        );
    }
}

#[test]
fn missing_key_and_unreachable_server_fall_back() {
    let server = start(|_| Reply::Json(200, openai_answer(&good_answer())));
    let mut s = settings(Provider::Anthropic, &server.base_url);
    s.api_key = None;
    let out = parse_with(
        REQUEST,
        &ParseOptions {
            llm: Some(s),
            cache_dir: None,
        },
    );
    assert!(
        matches!(
            out.fallback,
            Some(LlmError::MissingApiKey {
                variable: "ANTHROPIC_API_KEY",
                ..
            })
        ),
        "{:?}",
        out.fallback
    );
    assert!(out
        .fallback
        .unwrap()
        .to_string()
        .contains("set ANTHROPIC_API_KEY"));
    assert_eq!(server.hits(), 0, "no request without a key");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let out = parse_with(REQUEST, &opts(Provider::OpenAi, &url));
    assert_fallback(&out, REQUEST);
    assert!(
        matches!(out.fallback, Some(LlmError::Unreachable { .. })),
        "{:?}",
        out.fallback
    );
}

#[test]
fn answers_are_cached_on_disk_by_provider_model_and_text() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(|_| Reply::Json(200, openai_answer(&good_answer())));
    let options = ParseOptions {
        llm: Some(settings(Provider::OpenAi, &server.base_url)),
        cache_dir: Some(dir.path().join("llm")),
    };

    let first = parse_with(REQUEST, &options);
    assert!(matches!(first.method, Method::Llm { cached: false, .. }));
    let second = parse_with(REQUEST, &options);
    assert!(
        matches!(second.method, Method::Llm { cached: true, .. }),
        "{:?}",
        second.method
    );
    assert_eq!(second.intent, first.intent);
    assert_eq!(server.hits(), 1, "second parse served from the cache");

    // Another model or another text is another entry.
    let mut other = options.clone();
    other.llm.as_mut().unwrap().model = "other-model".into();
    parse_with(REQUEST, &other);
    parse_with("Deploy to GCP", &options);
    assert_eq!(server.hits(), 3);

    // Entries never hold the key or the text; failures are not cached.
    let files: Vec<_> = std::fs::read_dir(dir.path().join("llm"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 3);
    for f in &files {
        let body = std::fs::read_to_string(f).unwrap();
        assert!(!body.contains("sk-test-123"), "API key leaked into {f:?}");
        assert!(!body.contains("Django"), "request text stored in {f:?}");
    }
    let failing = start(|_| Reply::Json(500, api_error("api_error", "down")));
    let mut broken = options.clone();
    broken.llm.as_mut().unwrap().base_url = failing.base_url.clone();
    broken.llm.as_mut().unwrap().model = "broken-model".into();
    parse_with(REQUEST, &broken);
    parse_with(REQUEST, &broken);
    assert_eq!(failing.hits(), 2, "errors are not cached");
}

#[test]
fn settings_debug_never_shows_the_key() {
    let s = settings(Provider::OpenAi, "http://127.0.0.1:1");
    let shown = format!("{s:?}");
    assert!(
        !shown.contains("sk-test-123") && shown.contains("redacted"),
        "{shown}"
    );
}
