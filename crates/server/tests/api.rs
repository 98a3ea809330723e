//! The HTTP API against a real server on an ephemeral port, over SQLite and
//! (when AUTODEPLOY_TEST_DATABASE_URL is set) PostgreSQL.

mod common;

use autodeploy_server::{RateLimit, ServerConfig};
use common::{Backend, ScriptRunner, TestServer};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

fn cfg() -> ServerConfig {
    ServerConfig {
        allow_local_sources: true,
        rate_limit: RateLimit {
            per_second: 1000.0,
            burst: 1000,
        },
        log_poll: Duration::from_millis(50),
        ..Default::default()
    }
}

async fn create(s: &TestServer, token: &str, body: Value) -> reqwest::Response {
    s.client
        .post(s.url("/v1/deployments"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn app() -> Value {
    json!({"repo": common::fixture("python_stdlib_http_server"), "request": "run it locally", "options": {"target": "local"}})
}

/// The plan_id of a `POST /v1/plan` answer, which leads it with its expiry
/// (the cached answer follows as is).
fn plan_id_of(body: &[u8]) -> String {
    let v: Value = serde_json::from_slice(body).unwrap();
    assert!(v["plan_expires_at"].as_i64().unwrap() > 0);
    assert!(body.starts_with(b"{\"plan_id\":"));
    v["plan_id"].as_str().unwrap().to_string()
}

async fn error_code(r: reqwest::Response) -> String {
    let v: Value = r.json().await.unwrap();
    v["error"]["code"].as_str().unwrap_or_default().to_string()
}

both_backends!(auth_401_and_other_users_get_404, |b: Backend| async move {
    let s = TestServer::start(b, cfg(), 0, None).await;
    // no token
    let r = s.client.get(s.url("/v1/deployments")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(error_code(r).await, "unauthorized");
    // unknown token
    let r = s
        .client
        .get(s.url("/v1/deployments"))
        .bearer_auth("adt_notatoken")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let alice = s.user_token("alice").await;
    let bob = s.user_token("bob").await;
    let r = create(&s, &alice, app()).await;
    assert_eq!(r.status(), 202);
    assert!(r.headers().get("location").is_some());
    let dep: Value = r.json().await.unwrap();
    let id = dep["id"].as_str().unwrap().to_string();
    assert_eq!(dep["status"], "queued");
    assert_eq!(dep["cloud"], "local");
    assert_eq!(dep["name"], "python-stdlib-http-server");

    let r = s
        .client
        .get(s.url(&format!("/v1/deployments/{id}")))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for path in [
        format!("/v1/deployments/{id}"),
        format!("/v1/deployments/{id}/logs"),
    ] {
        let r = s
            .client
            .get(s.url(&path))
            .bearer_auth(&bob)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
        assert_eq!(error_code(r).await, "not_found");
    }
    let r = s
        .client
        .post(s.url(&format!("/v1/deployments/{id}/destroy")))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // bob's list is empty, alice's has one
    let l: Value = s
        .client
        .get(s.url("/v1/deployments"))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(l["items"].as_array().unwrap().len(), 0);
    // a revoked token stops working (after the auth cache TTL)
    s.stop().await;
});

both_backends!(
    rate_limit_answers_429_with_retry_after,
    |b: Backend| async move {
        let mut c = cfg();
        c.rate_limit = RateLimit {
            per_second: 0.5,
            burst: 3,
        };
        let s = TestServer::start(b, c, 0, None).await;
        let t = s.user_token("alice").await;
        let other = s.user_token("bob").await;
        for _ in 0..3 {
            let r = s
                .client
                .get(s.url("/v1/deployments"))
                .bearer_auth(&t)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
        let r = s
            .client
            .get(s.url("/v1/deployments"))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 429);
        let retry: u64 = r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=2).contains(&retry), "retry-after {retry}");
        assert_eq!(error_code(r).await, "rate_limited");
        // another token is not affected
        let r = s
            .client
            .get(s.url("/v1/deployments"))
            .bearer_auth(&other)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        s.stop().await;
    }
);

both_backends!(
    admins_list_every_users_deployments,
    |b: Backend| async move {
        let s = TestServer::start(b, cfg(), 0, None).await;
        let alice = s.user_token("alice").await;
        let root = s.store.create_user("root").await.unwrap();
        s.store.set_admin(&root.id, true).await.unwrap();
        let root = s.store.create_token(&root.id, "t").await.unwrap();
        let r = create(&s, &alice, app()).await;
        assert_eq!(r.status(), 202);
        let alices: Value = r.json().await.unwrap();
        let alices = alices["id"].as_str().unwrap().to_string();
        // A deployment the command line made as its default user.
        let (cli, _) = s
            .store
            .create_deployment(
                autodeploy_store::NewDeployment {
                    owner: autodeploy_store::CLI_DEFAULT_USER.into(),
                    name: "from-the-cli".into(),
                    source: "/src".into(),
                    request: "run it locally".into(),
                    cloud: Some("local".into()),
                    options: json!({}),
                    idempotency_key: None,
                },
                None,
            )
            .await
            .unwrap();
        let list = |token: String, query: &'static str| {
            let s = &s;
            async move {
                s.client
                    .get(s.url(&format!("/v1/deployments{query}")))
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap()
            }
        };
        // (id, owner) of each listed deployment; its owner_name is checked
        // against the store's user of that id on the way.
        let names: std::collections::HashMap<String, String> = s
            .store
            .list_users()
            .await
            .unwrap()
            .into_iter()
            .map(|u| (u.id, u.name))
            .collect();
        let owners = |v: Value| -> Vec<(String, String)> {
            let mut o: Vec<_> = v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    let owner = d["owner"].as_str().unwrap().to_string();
                    assert_eq!(
                        d["owner_name"].as_str(),
                        Some(names[&owner].as_str()),
                        "{d}"
                    );
                    (d["id"].as_str().unwrap().to_string(), owner)
                })
                .collect();
            o.sort();
            o
        };
        // An admin: its own by default, every user's with all_users=true.
        let r = list(root.clone(), "").await;
        assert_eq!(r.status(), 200);
        assert!(owners(r.json().await.unwrap()).is_empty());
        let r = list(root.clone(), "?all_users=true").await;
        assert_eq!(r.status(), 200);
        let alice_id = s.store.find_user("alice").await.unwrap().unwrap().id;
        let mut expected = vec![
            (alices.clone(), alice_id),
            (cli.id.clone(), "local".to_string()),
        ];
        expected.sort();
        assert_eq!(owners(r.json().await.unwrap()), expected);
        // … may open one of them, not destroy it.
        let r = s
            .client
            .get(s.url(&format!("/v1/deployments/{alices}")))
            .bearer_auth(&root)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let r = s
            .client
            .post(s.url(&format!("/v1/deployments/{alices}/destroy")))
            .bearer_auth(&root)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(error_code(r).await, "owned_by_other_user");

        // Not an admin: 403 with a code and a message that says why.
        let r = list(alice.clone(), "?all_users=true").await;
        assert_eq!(r.status(), 403);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "admin_required", "{v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains("admin"),
            "{v}"
        );
        let r = list(alice.clone(), "?all_users=false").await;
        assert_eq!(owners(r.json().await.unwrap()).len(), 1);
        let r = list(alice.clone(), "?all_users=maybe").await;
        assert_eq!(r.status(), 400);

        // A token of the CLI's default user sees what the CLI deployed.
        let local = s
            .store
            .find_user(autodeploy_store::CLI_DEFAULT_USER)
            .await
            .unwrap()
            .unwrap();
        let local = s.store.create_token(&local.id, "t").await.unwrap();
        let r = list(local, "").await;
        assert_eq!(
            owners(r.json().await.unwrap()),
            [(cli.id.clone(), "local".to_string())]
        );
        s.stop().await;
    }
);

both_backends!(body_limit_413_and_bad_json_400, |b: Backend| async move {
    let s = TestServer::start(b, cfg(), 0, None).await;
    let t = s.user_token("alice").await;
    let big = json!({"repo": "https://example.com/r.git", "request": "x".repeat(70 * 1024)});
    let r = create(&s, &t, big).await;
    assert_eq!(r.status(), 413);
    assert_eq!(error_code(r).await, "payload_too_large");
    let r = s
        .client
        .post(s.url("/v1/deployments"))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(error_code(r).await, "invalid_json");
    let r = create(
        &s,
        &t,
        json!({"repo": "https://example.com/r.git", "request": ""}),
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_eq!(error_code(r).await, "invalid_request_text");
    let r = create(&s, &t, json!({"repo": "https://example.com/r.git", "request": "aws", "options": {"target": "mars"}})).await;
    assert_eq!(r.status(), 400);
    assert_eq!(error_code(r).await, "invalid_option");
    s.stop().await;
});

both_backends!(local_sources_need_the_flag, |b: Backend| async move {
    let mut c = cfg();
    c.allow_local_sources = false;
    let s = TestServer::start(b, c, 0, None).await;
    let t = s.user_token("alice").await;
    for repo in ["/etc", "file:///srv/repo", "./x.zip"] {
        let r = create(&s, &t, json!({"repo": repo, "request": "deploy"})).await;
        assert_eq!(r.status(), 400, "{repo}");
        assert_eq!(error_code(r).await, "local_source_forbidden");
    }
    let r = s
        .client
        .post(s.url("/v1/analyze"))
        .bearer_auth(&t)
        .json(&json!({"repo": "/etc"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = create(
        &s,
        &t,
        json!({"repo": "https://github.com/o/r.git", "request": "deploy on aws"}),
    )
    .await;
    assert_eq!(r.status(), 202);
    let d: Value = r.json().await.unwrap();
    assert_eq!(d["cloud"], "aws");
    s.stop().await;
});

both_backends!(
    idempotency_key_returns_the_same_deployment,
    |b: Backend| async move {
        let s = TestServer::start(b, cfg(), 0, None).await;
        let t = s.user_token("alice").await;
        let bob = s.user_token("bob").await;
        let send = |tok: String| {
            let s = &s;
            async move {
                s.client
                    .post(s.url("/v1/deployments"))
                    .bearer_auth(tok)
                    .header("Idempotency-Key", "order-42")
                    .json(&app())
                    .send()
                    .await
                    .unwrap()
            }
        };
        let r1 = send(t.clone()).await;
        assert_eq!(r1.status(), 202);
        let d1: Value = r1.json().await.unwrap();
        let r2 = send(t.clone()).await;
        assert_eq!(r2.status(), 200);
        let d2: Value = r2.json().await.unwrap();
        assert_eq!(d1["id"], d2["id"]);
        let jobs = s.store.jobs_for(d1["id"].as_str().unwrap()).await.unwrap();
        assert_eq!(jobs.len(), 1, "a repeated key must not enqueue again");
        // the key is per user
        let r3 = send(bob).await;
        assert_eq!(r3.status(), 202);
        let d3: Value = r3.json().await.unwrap();
        assert_ne!(d3["id"], d1["id"]);
        // the same key with another body is refused, and creates nothing
        let mut other = app();
        other["request"] = json!("deploy it on gcp instead");
        let r4 = s
            .client
            .post(s.url("/v1/deployments"))
            .bearer_auth(&t)
            .header("Idempotency-Key", "order-42")
            .json(&other)
            .send()
            .await
            .unwrap();
        assert_eq!(r4.status(), 422);
        let e: Value = r4.json().await.unwrap();
        assert_eq!(e["error"]["code"], "idempotency_key_reused", "{e}");
        assert!(e["error"]["message"]
            .as_str()
            .unwrap()
            .contains(d1["id"].as_str().unwrap()));
        let jobs = s.store.jobs_for(d1["id"].as_str().unwrap()).await.unwrap();
        assert_eq!(jobs.len(), 1);
        s.stop().await;
    }
);

both_backends!(list_pagination_and_filters, |b: Backend| async move {
    let s = TestServer::start(b, cfg(), 0, None).await;
    let t = s.user_token("alice").await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let body = if i % 2 == 0 {
            app()
        } else {
            json!({"repo": "https://github.com/o/r.git", "request": "deploy on gcp"})
        };
        let d: Value = create(&s, &t, body).await.json().await.unwrap();
        ids.push(d["id"].as_str().unwrap().to_string());
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut url = s.url("/v1/deployments?limit=3");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let p: Value = s
            .client
            .get(url)
            .bearer_auth(&t)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        pages += 1;
        for it in p["items"].as_array().unwrap() {
            seen.push(it["id"].as_str().unwrap().to_string());
        }
        match p["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        assert!(pages < 10);
    }
    assert_eq!(pages, 3);
    // every deployment exactly once, newest first (ties in the same
    // millisecond are ordered by id)
    let mut a = seen.clone();
    a.sort();
    a.dedup();
    let mut b2 = ids.clone();
    b2.sort();
    assert_eq!(a, b2);
    let mut created = Vec::new();
    for id in &seen {
        created.push(
            s.store
                .get_deployment(id)
                .await
                .unwrap()
                .unwrap()
                .created_at,
        );
    }
    assert!(created.windows(2).all(|w| w[0] >= w[1]), "{created:?}");
    let p: Value = s
        .client
        .get(s.url("/v1/deployments?cloud=gcp&status=queued"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(p["items"].as_array().unwrap().len(), 3);
    for (q, code) in [
        ("status=sleeping", "invalid_status"),
        ("limit=0", "invalid_limit"),
        ("limit=501", "invalid_limit"),
        ("cursor=zz", "invalid_cursor"),
    ] {
        let r = s
            .client
            .get(s.url(&format!("/v1/deployments?{q}")))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{q}");
        assert_eq!(error_code(r).await, code, "{q}");
    }
    s.stop().await;
});

/// Read an SSE body into (event, id, data) triples until the stream ends.
async fn read_sse(r: reqwest::Response) -> Vec<(String, Option<String>, String)> {
    use futures_util::StreamExt;
    let mut out = Vec::new();
    let mut buf = String::new();
    let mut body = r.bytes_stream();
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(30), body.next())
        .await
        .expect("SSE stalled")
    {
        buf.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        while let Some(pos) = buf.find("\n\n") {
            let block: String = buf.drain(..pos + 2).collect();
            let (mut ev, mut id, mut data) = (String::from("message"), None, String::new());
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    ev = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("id:") {
                    id = Some(v.trim().to_string());
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if !data.is_empty() {
                out.push((ev, id, data));
            }
        }
    }
    out
}

both_backends!(sse_follows_logs_until_final, |b: Backend| async move {
    let runner = Arc::new(ScriptRunner {
        step_delay: Duration::from_millis(40),
        steps: 3,
        ..Default::default()
    });
    let s = TestServer::start(b, cfg(), 1, Some(runner.clone())).await;
    let t = s.user_token("alice").await;
    let d: Value = create(&s, &t, app()).await.json().await.unwrap();
    let id = d["id"].as_str().unwrap().to_string();
    // Follow from the start, while the job runs.
    let r = s
        .client
        .get(s.url(&format!("/v1/deployments/{id}/logs")))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let events = read_sse(r).await;
    let logs: Vec<_> = events.iter().filter(|e| e.0 == "log").collect();
    assert_eq!(logs.len(), 9, "{events:?}");
    let seqs: Vec<i64> = logs
        .iter()
        .map(|e| e.1.as_ref().unwrap().parse().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    let first: Value = serde_json::from_str(&logs[0].2).unwrap();
    assert_eq!(first["line"], "phase 0 step 0");
    assert_eq!(first["phase"], "analyze");
    let last = events.last().unwrap();
    assert_eq!(last.0, "end");
    assert_eq!(
        serde_json::from_str::<Value>(&last.2).unwrap()["status"],
        "healthy"
    );
    // Resume with Last-Event-ID: only the lines after it.
    let r = s
        .client
        .get(s.url(&format!("/v1/deployments/{id}/logs")))
        .bearer_auth(&t)
        .header("Last-Event-ID", seqs[6].to_string())
        .send()
        .await
        .unwrap();
    let again = read_sse(r).await;
    assert_eq!(again.iter().filter(|e| e.0 == "log").count(), 2);
    assert_eq!(runner.runs.lock().unwrap().len(), 1);
    s.stop().await;
});

both_backends!(
    destroy_cancels_or_queues_a_destroy_job,
    |b: Backend| async move {
        // no workers: the deploy job stays queued, so destroy just cancels
        let s = TestServer::start(b, cfg(), 0, None).await;
        let t = s.user_token("alice").await;
        let d: Value = create(&s, &t, app()).await.json().await.unwrap();
        let id = d["id"].as_str().unwrap().to_string();
        let r = s
            .client
            .post(s.url(&format!("/v1/deployments/{id}/destroy")))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        let d: Value = r.json().await.unwrap();
        assert_eq!(d["status"], "cancelled");
        assert_eq!(s.store.queue_size().await.unwrap(), 0);
        let r = s
            .client
            .post(s.url(&format!("/v1/deployments/{id}/destroy")))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409);
        assert_eq!(error_code(r).await, "already_gone");
        s.stop().await;

        // with a worker: deploy → healthy → destroy → destroyed
        let runner = Arc::new(ScriptRunner::default());
        let s = TestServer::start(b, cfg(), 1, Some(runner.clone())).await;
        let t = s.user_token("alice").await;
        let d: Value = create(&s, &t, app()).await.json().await.unwrap();
        let id = d["id"].as_str().unwrap().to_string();
        let st = common::wait_final(&*s.store, &id, Duration::from_secs(20)).await;
        assert_eq!(st.as_str(), "healthy");
        let r = s
            .client
            .post(s.url(&format!("/v1/deployments/{id}/destroy")))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        let st = common::wait_final(&*s.store, &id, Duration::from_secs(20)).await;
        assert_eq!(st.as_str(), "destroyed");
        let kinds: Vec<_> = s
            .store
            .jobs_for(&id)
            .await
            .unwrap()
            .iter()
            .map(|j| j.kind.as_str())
            .collect();
        assert_eq!(kinds, ["deploy", "destroy"]);
        s.stop().await;
    }
);

both_backends!(metrics_health_openapi_and_page, |b: Backend| async move {
    let runner = Arc::new(ScriptRunner::default());
    let s = TestServer::start(b, cfg(), 1, Some(runner)).await;
    let t = s.user_token("alice").await;
    let d: Value = create(&s, &t, app()).await.json().await.unwrap();
    let id = d["id"].as_str().unwrap().to_string();
    common::wait_final(&*s.store, &id, Duration::from_secs(20)).await;
    let _ = s
        .client
        .get(s.url(&format!("/v1/deployments/{id}")))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    // the job's metrics are recorded after finish; give the worker a moment
    for _ in 0..50 {
        if s.metrics.jobs_finished.get(&["deploy", "healthy"]) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let r = s.client.get(s.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = r.text().await.unwrap();
    for needle in [
        "# TYPE autodeploy_deployments gauge",
        "autodeploy_deployments{status=\"healthy\",cloud_provider=\"local\"} 1",
        "# TYPE autodeploy_deployments_total counter",
        "autodeploy_deployments_total{status=\"healthy\",cloud_provider=\"local\"} 1",
        "autodeploy_deployment_queue_size 0",
        "# TYPE autodeploy_analysis_duration_seconds histogram",
        "autodeploy_analysis_duration_seconds_count{origin=\"job\"} 1",
        "autodeploy_terraform_duration_seconds_count{phase=\"terraform_apply\"} 1",
        "autodeploy_phase_duration_seconds_count{phase=\"health\",cloud_provider=\"local\"} 1",
        "autodeploy_job_claim_latency_seconds_count{kind=\"deploy\"} 1",
        "autodeploy_jobs_finished_total{kind=\"deploy\",status=\"healthy\"} 1",
        "autodeploy_http_request_duration_seconds_count{route=\"/v1/deployments/{id}\",method=\"GET\",status=\"200\"} 1",
        "autodeploy_http_request_duration_seconds_count{route=\"/v1/deployments\",method=\"POST\",status=\"202\"} 1",
        "# TYPE process_cpu_seconds_total counter",
        "# TYPE process_resident_memory_bytes gauge",
        "# TYPE process_open_fds gauge",
        "# TYPE process_start_time_seconds gauge",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
    assert!(!text.contains(&id), "route templates, never raw paths");

    let r = s.client.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r: Value = s
        .client
        .get(s.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["status"], "ready");

    let doc: Value = s
        .client
        .get(s.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    // What is served is the checked document (tests/openapi.rs).
    let file: Value = serde_json::from_str(autodeploy_server::web::OPENAPI_JSON).unwrap();
    assert_eq!(doc, file);

    let r = s.client.get(s.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'self'"));
    let html = r.text().await.unwrap();
    assert!(html.contains("/assets/app.js") && html.contains("/assets/style.css"));
    for attr in ["src=\"http", "href=\"http", "src=\"//", "href=\"//"] {
        assert!(!html.contains(attr), "no external assets ({attr})");
    }
    // A deployment's own URL is the same page (it reads the id from the path).
    let r = s
        .client
        .get(s.url("/d/dep_0123456789abcdef"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'self'"));
    assert_eq!(r.text().await.unwrap(), html);
    let js = s.client.get(s.url("/assets/app.js")).send().await.unwrap();
    assert_eq!(js.status(), 200);
    let js = js.text().await.unwrap();
    assert!(js.contains("text/event-stream"));
    // Text from the server goes in as text, never as markup.
    assert!(!js.contains("innerHTML") && !js.contains("insertAdjacentHTML"));
    let r = s.client.get(s.url("/nope")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(error_code(r).await, "not_found");
    s.stop().await;
});

both_backends!(previews_and_the_analysis_cache, |b: Backend| async move {
    let s = TestServer::start(b, cfg(), 0, None).await;
    let t = s.user_token("alice").await;
    let repo = common::fixture("python_stdlib_http_server");
    // 8 concurrent plans of one repository compute its analysis once
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let c = s.client.clone();
        let url = s.url("/v1/plan");
        let t = t.clone();
        let repo = repo.clone();
        tasks.push(tokio::spawn(async move {
            c.post(url)
                .bearer_auth(t)
                .json(&json!({"repo": repo, "request": "deploy on aws in eu-central-1"}))
                .send()
                .await
                .unwrap()
        }));
    }
    for task in tasks {
        let r = task.await.unwrap();
        assert_eq!(r.status(), 200);
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["analysis"]["services"][0]["language"], "python");
        assert_eq!(p["intent"]["region"], "eu-central-1");
        assert_eq!(p["decision"]["cloud"], "aws");
        assert!(p["files"]
            .as_object()
            .unwrap()
            .keys()
            .any(|k| k.ends_with(".tf")));
    }
    // computed once; the other seven waited for it, found it in memory, or
    // (arriving after the first answer) were served from the plan cache
    assert_eq!(s.metrics.analysis_cache.get(&["computed"]), 1);
    assert_eq!(
        s.metrics.analysis_cache.get(&["memory"])
            + s.metrics.analysis_cache.get(&["shared"])
            + s.metrics.plan_cache.get(&["hit"]),
        7
    );

    // The same preview again is served from the plan response cache, byte for
    // byte, plan_id included (a plan_id names the preview's content, and a
    // repeat writes nothing to the store); another sentence or other options
    // are other answers.
    let plan = |request: &'static str, options: Value| {
        let s = &s;
        let t = t.clone();
        let repo = repo.clone();
        async move {
            let r = s
                .client
                .post(s.url("/v1/plan"))
                .bearer_auth(t)
                .json(&json!({"repo": repo, "request": request, "options": options}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            assert_eq!(r.headers()["content-type"], "application/json");
            r.bytes().await.unwrap()
        }
    };
    let hits = s.metrics.plan_cache.get(&["hit"]);
    let first = plan("deploy on aws in eu-central-1", json!({})).await;
    let again = plan("deploy on aws in eu-central-1", json!({})).await;
    assert_eq!(first, again);
    let id = plan_id_of(&first);
    assert!(id.starts_with("pln_") && id.len() == 36, "{id}");
    assert_eq!(s.metrics.plan_cache.get(&["hit"]), hits + 2);
    let misses = s.metrics.plan_cache.get(&["miss"]);
    let other: Value =
        serde_json::from_slice(&plan("deploy on aws in us-west-2", json!({})).await).unwrap();
    assert_eq!(other["intent"]["region"], "us-west-2");
    assert_eq!(other["notes"], json!([]));
    // What the request said but could not be used is named back, as the CLI does.
    let odd: Value =
        serde_json::from_slice(&plan("deploy on aws mars-west-9", json!({})).await).unwrap();
    assert!(
        odd["notes"][0]
            .as_str()
            .unwrap()
            .contains("\"mars-west-9\" is not a region of any cloud"),
        "{odd}"
    );
    let named: Value = serde_json::from_slice(
        &plan("deploy on aws in eu-central-1", json!({"name": "shop"})).await,
    )
    .unwrap();
    assert_eq!(named["decision"]["name"], "shop");
    assert_eq!(s.metrics.plan_cache.get(&["miss"]), misses + 3);
    assert_eq!(s.metrics.analysis_cache.get(&["computed"]), 1);

    let r: Value = s
        .client
        .post(s.url("/v1/analyze"))
        .bearer_auth(&t)
        .json(&json!({"repo": repo}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["services"][0]["language"], "python");
    assert_eq!(s.metrics.analysis_cache.get(&["computed"]), 1);

    let r: Value = s
        .client
        .post(s.url("/v1/parse"))
        .bearer_auth(&t)
        .json(&json!({"request": "deploy on gcp with postgres"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["intent"]["cloud"], "gcp");
    assert_eq!(r["intent"]["database"], "postgresql");

    // A changed folder is a new analysis (the key is a fingerprint, not the path).
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<h1>hi</h1>").unwrap();
    let ask = |repo: String| {
        let s = &s;
        let t = t.clone();
        async move {
            s.client
                .post(s.url("/v1/analyze"))
                .bearer_auth(t)
                .json(&json!({"repo": repo}))
                .send()
                .await
                .unwrap()
        }
    };
    let r = ask(dir.path().display().to_string()).await;
    assert_eq!(r.status(), 200);
    std::fs::write(
        dir.path().join("app.py"),
        "import flask\napp = flask.Flask(__name__)\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("requirements.txt"), "flask\n").unwrap();
    let v: Value = ask(dir.path().display().to_string())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(s.metrics.analysis_cache.get(&["computed"]), 3);
    assert!(v["services"].to_string().contains("python"), "{v}");

    // An empty folder: a 422 with a stable code, not cached.
    let empty = tempfile::tempdir().unwrap();
    let r = ask(empty.path().display().to_string()).await;
    assert_eq!(r.status(), 422);
    assert_eq!(error_code(r).await, "nothing_to_deploy");
    s.stop().await;
});

both_backends!(
    env_and_secrets_are_kept_apart_and_secrets_sealed,
    |b: Backend| async move {
        let s = TestServer::start(b, cfg(), 0, None).await;
        let t = s.user_token("alice").await;
        let mut body = app();
        body["options"]["env"] = json!({"GREETING": "hello", "web:LEVEL": "debug"});
        body["secrets"] = json!({"API_KEY": "sk-live-very-secret"});
        let r = create(&s, &t, body).await;
        assert_eq!(r.status(), 202);
        let dep: Value = r.json().await.unwrap();
        let id = dep["id"].as_str().unwrap().to_string();
        // Plain values are part of the options; the secret is nowhere in the answer.
        assert_eq!(dep["options"]["env"]["GREETING"], "hello");
        assert!(!dep.to_string().contains("sk-live-very-secret"));
        // It is stored sealed, opens with the server's key, and the job is queued.
        let sealed = s.store.secrets(&id).await.unwrap();
        assert_eq!(sealed.len(), 1);
        assert_eq!(sealed[0].0, "API_KEY");
        assert!(!String::from_utf8_lossy(&sealed[0].1).contains("very-secret"));
        let key = autodeploy_store::secrets::SecretBox::open_or_create(
            std::path::Path::new("/nonexistent"),
            Some(common::TEST_SECRETS_KEY),
        )
        .unwrap();
        assert_eq!(
            key.open(&id, "API_KEY", &sealed[0].1).unwrap(),
            "sk-live-very-secret"
        );
        assert_eq!(s.store.jobs_for(&id).await.unwrap().len(), 1);

        // Names and values are checked.
        for bad in [
            json!({"secrets": {"1BAD": "x"}}),
            json!({"secrets": {"OK": "two\nlines"}}),
            json!({"options": {"target": "local", "env": {"A B": "x"}}}),
        ] {
            let mut body = app();
            for (k, v) in bad.as_object().unwrap() {
                body[k] = v.clone();
            }
            let r = create(&s, &t, body).await;
            assert_eq!(r.status(), 400);
            assert_eq!(error_code(r).await, "invalid_option");
        }
    }
);

both_backends!(
    a_deploy_naming_a_plan_id_deploys_exactly_the_preview,
    |b: Backend| async move {
        let s = TestServer::start(b, cfg(), 0, None).await;
        let alice = s.user_token("alice").await;
        let bob = s.user_token("bob").await;
        let dir = tempfile::tempdir().unwrap();
        let src = std::path::Path::new(&common::fixture("python_stdlib_http_server")).to_path_buf();
        for e in std::fs::read_dir(&src).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_file() {
                std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
            }
        }
        let repo = dir.path().display().to_string();
        let preview = |token: String, request: &'static str| {
            let s = &s;
            let repo = repo.clone();
            async move {
                let r = s
                    .client
                    .post(s.url("/v1/plan"))
                    .bearer_auth(token)
                    .json(&json!({"repo": repo, "request": request, "options": {"target": "local", "name": "shop"}}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                r.json::<Value>().await.unwrap()
            }
        };
        let p = preview(alice.clone(), "run it on this machine").await;
        let plan_id = p["plan_id"].as_str().unwrap().to_string();
        assert!(plan_id.starts_with("pln_"), "{plan_id}");
        // The same preview by another user is another plan.
        let theirs = preview(bob.clone(), "run it on this machine").await;
        assert_ne!(theirs["plan_id"], p["plan_id"]);

        // The id alone: the previewed source, request and options.
        let r = create(&s, &alice, json!({"plan_id": plan_id})).await;
        assert_eq!(r.status(), 202);
        let dep: Value = r.json().await.unwrap();
        assert_eq!(dep["source"], json!(repo));
        assert_eq!(dep["request"], "run it on this machine");
        assert_eq!(dep["name"], "shop");
        assert_eq!(dep["cloud"], "local");
        assert_eq!(dep["options"]["target"], "local");
        assert_eq!(dep["options"]["plan_id"], json!(plan_id));
        assert_eq!(
            s.store
                .jobs_for(dep["id"].as_str().unwrap())
                .await
                .unwrap()
                .len(),
            1
        );

        // Not with a body beside it; not another user's; not an unknown one.
        let r = create(
            &s,
            &alice,
            json!({"plan_id": plan_id, "repo": repo, "request": "x"}),
        )
        .await;
        assert_eq!(r.status(), 400);
        assert_eq!(error_code(r).await, "plan_id_with_source");
        let r = create(&s, &bob, json!({"plan_id": plan_id})).await;
        assert_eq!(r.status(), 404);
        assert_eq!(error_code(r).await, "plan_not_found");
        let r = create(
            &s,
            &alice,
            json!({"plan_id": "pln_00000000000000000000000000000000"}),
        )
        .await;
        assert_eq!(r.status(), 404);
        assert_eq!(error_code(r).await, "plan_not_found");
        // Neither a plan nor a source: said so.
        let r = create(&s, &alice, json!({"request": "x"})).await;
        assert_eq!(r.status(), 400);
        assert_eq!(error_code(r).await, "invalid_json");

        // The folder changed since the preview: what was reviewed is not
        // what would be deployed.
        std::fs::write(dir.path().join("extra.py"), "print('new')\n").unwrap();
        let r = create(&s, &alice, json!({"plan_id": plan_id})).await;
        assert_eq!(r.status(), 409);
        assert_eq!(error_code(r).await, "plan_stale");
        // A new preview of the changed folder deploys.
        let p2 = preview(alice.clone(), "run it on this machine").await;
        let r = create(&s, &alice, json!({"plan_id": p2["plan_id"]})).await;
        assert_eq!(r.status(), 202);
        s.stop().await;

        // Expired: 410 with its own code.
        let s = TestServer::start(
            b,
            ServerConfig {
                preview_ttl: Duration::ZERO,
                ..cfg()
            },
            0,
            None,
        )
        .await;
        let t = s.user_token("alice").await;
        let r = s
            .client
            .post(s.url("/v1/plan"))
            .bearer_auth(&t)
            .json(&json!({"repo": repo, "request": "run it on this machine", "options": {"target": "local"}}))
            .send()
            .await
            .unwrap();
        let p: Value = r.json().await.unwrap();
        let r = create(&s, &t, json!({"plan_id": p["plan_id"]})).await;
        assert_eq!(r.status(), 410);
        assert_eq!(error_code(r).await, "plan_expired");
        s.stop().await;
    }
);

both_backends!(
    a_plan_previewed_on_one_replica_deploys_on_another,
    |b: Backend| async move {
        let s = TestServer::start(b, cfg(), 0, None).await;
        let t = s.user_token("alice").await;
        // A second API process on the same database: its own store handle,
        // caches and memory, as behind a load balancer.
        let store = autodeploy_store::open(&s.db.url).await.unwrap();
        let state = autodeploy_server::AppState::new(
            store,
            Arc::new(autodeploy_server::Metrics::new()),
            cfg(),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let other = format!("http://{}", listener.local_addr().unwrap());
        let (tx, mut rx) = tokio::sync::watch::channel(false);
        let server = tokio::spawn(async move {
            let _ = autodeploy_server::serve_api(listener, state, async move {
                let _ = rx.wait_for(|v| *v).await;
            })
            .await;
        });
        let p: Value = s
            .client
            .post(s.url("/v1/plan"))
            .bearer_auth(&t)
            .json(&app())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let r = s
            .client
            .post(format!("{other}/v1/deployments"))
            .bearer_auth(&t)
            .json(&json!({"plan_id": p["plan_id"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        let dep: Value = r.json().await.unwrap();
        assert_eq!(dep["source"], app()["repo"]);
        assert_eq!(dep["request"], app()["request"]);
        assert_eq!(dep["options"]["plan_id"], p["plan_id"]);
        let _ = tx.send(true);
        let _ = server.await;
        s.stop().await;
    }
);
