//! The service against an attacker, on a real server on an ephemeral port:
//! made-up tokens (per-address limit, budget of unknown tokens, bounded store
//! lookups, real users unaffected), `X-Forwarded-For` only from trusted
//! proxies, half-sent requests and idle connections closed within their
//! timeouts, connection caps, validated list filters, and repository URLs
//! that point into the service's own network refused before any connection.

mod common;

use autodeploy_server::{ConnectionLimits, RateLimit, ServerConfig};
use common::{Backend, TestServer};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{IpAddr, TcpStream};
use std::time::{Duration, Instant};

fn cfg() -> ServerConfig {
    ServerConfig {
        rate_limit: RateLimit {
            per_second: 1000.0,
            burst: 1000,
        },
        address_rate_limit: RateLimit {
            per_second: 1000.0,
            burst: 1000,
        },
        ..Default::default()
    }
}

/// A client whose connections come from `ip` (any 127/8 address is this machine).
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

fn random_token(i: usize) -> String {
    format!("adt_{:032}", i.wrapping_mul(2654435761) ^ 0x5eed)
}

async fn code(r: reqwest::Response) -> String {
    let v: Value = r.json().await.unwrap_or(json!({}));
    v["error"]["code"].as_str().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_made_up_tokens_is_limited_and_never_slows_real_users() {
    let s = TestServer::start(Backend::Sqlite, cfg(), 0, None).await;
    let alice = s.user_token("alice").await;
    let attacker = client_from("127.0.0.1");
    let user = client_from("127.0.0.2");
    // The real user is known before the flood (its answer is remembered).
    let r = user
        .get(s.url("/v1/deployments"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let burst = autodeploy_server::RateLimit::AUTH_FAILURES.burst as u64;
    let mut limited = 0;
    let flood = 400;
    for i in 0..flood {
        let r = attacker
            .get(s.url("/v1/deployments"))
            .bearer_auth(random_token(i))
            .send()
            .await
            .unwrap();
        match r.status().as_u16() {
            401 => {}
            429 => {
                assert!(r.headers().contains_key("retry-after"));
                limited += 1;
            }
            other => panic!("unexpected status {other}"),
        }
        // Every 50 bogus tokens, the real user from another address is served.
        if i % 50 == 0 {
            let r = user
                .get(s.url("/v1/deployments"))
                .bearer_auth(&alice)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "a real user is served during the flood");
        }
    }
    let lookups = s.metrics.auth.get(&["store_unknown"]);
    assert!(
        lookups <= burst + 2,
        "{lookups} store lookups for {flood} bogus tokens (budget {burst})"
    );
    assert!(
        limited >= flood as u64 - burst - 2,
        "{limited} answered 429"
    );
    // The attacker's address is limited even with a real token now…
    let r = attacker
        .get(s.url("/v1/deployments"))
        .bearer_auth(random_token(99_999))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(code(r).await, "rate_limited");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_per_address_limit_applies_before_authentication() {
    let mut c = cfg();
    c.address_rate_limit = RateLimit {
        per_second: 0.01,
        burst: 5,
    };
    let s = TestServer::start(Backend::Sqlite, c, 0, None).await;
    let alice = s.user_token("alice").await;
    let one = client_from("127.0.0.3");
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let r = one.get(s.url("/v1/deployments")).send().await.unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses[..5], [401; 5], "{statuses:?}");
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
    // Another address is not affected.
    let r = client_from("127.0.0.4")
        .get(s.url("/v1/deployments"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_counts_only_behind_a_trusted_proxy() {
    let mut c = cfg();
    c.address_rate_limit = RateLimit {
        per_second: 0.01,
        burst: 3,
    };
    c.trusted_proxies = vec!["127.0.0.5/32".parse().unwrap()];
    let s = TestServer::start(Backend::Sqlite, c, 0, None).await;
    let alice = s.user_token("alice").await;
    let proxy = client_from("127.0.0.5");
    let get = |xff: &'static str| {
        proxy
            .get(s.url("/v1/deployments"))
            .header("x-forwarded-for", xff)
            .bearer_auth(&alice)
            .send()
    };
    for _ in 0..3 {
        assert_eq!(get("198.51.100.1").await.unwrap().status(), 200);
    }
    assert_eq!(get("198.51.100.1").await.unwrap().status(), 429);
    // Another client behind the same proxy has its own budget…
    assert_eq!(get("198.51.100.2").await.unwrap().status(), 200);
    // …and a client that writes the header itself (not a trusted proxy)
    // is counted by its own address, whatever the header says.
    let direct = client_from("127.0.0.6");
    for i in 0..4 {
        let r = direct
            .get(s.url("/v1/deployments"))
            .header("x-forwarded-for", format!("203.0.113.{i}"))
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), if i < 3 { 200 } else { 429 });
    }
    s.stop().await;
}

fn short_timeouts() -> ServerConfig {
    let mut c = cfg();
    c.connections = ConnectionLimits {
        header_timeout: Duration::from_secs(1),
        body_timeout: Duration::from_secs(1),
        max_connections: 64,
        max_connections_per_address: 3,
    };
    c
}

/// Read until the server closes the connection; what it sent, and how long
/// that took. The socket's read timeout bounds the wait (a test failure,
/// not a sleep).
fn read_until_closed(stream: &mut TcpStream, bound: Duration) -> (String, Duration) {
    stream.set_read_timeout(Some(bound)).unwrap();
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!(
                "the server kept the connection open for {:?} ({e}); got {:?}",
                started.elapsed(),
                String::from_utf8_lossy(&got)
            ),
        }
    }
    (
        String::from_utf8_lossy(&got).into_owned(),
        started.elapsed(),
    )
}

fn addr(s: &TestServer) -> String {
    s.base.trim_start_matches("http://").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_and_idle_connections_are_closed_in_time() {
    let s = TestServer::start(Backend::Sqlite, short_timeouts(), 0, None).await;
    let a = addr(&s);
    let bound = Duration::from_secs(8);
    let (half_head, half_body, idle) = tokio::task::spawn_blocking(move || {
        // 1. A head that never ends (the probe of issue 13).
        let mut c = TcpStream::connect(&a).unwrap();
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .unwrap();
        let half_head = read_until_closed(&mut c, bound);
        // 2. A body that stops half way.
        let mut c = TcpStream::connect(&a).unwrap();
        c.write_all(
            b"POST /v1/parse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"request\":",
        )
        .unwrap();
        let half_body = read_until_closed(&mut c, bound);
        // 3. A kept-alive connection that goes quiet after one request.
        let mut c = TcpStream::connect(&a).unwrap();
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let idle = read_until_closed(&mut c, bound);
        (half_head, half_body, idle)
    })
    .await
    .unwrap();
    assert!(half_head.1 < bound, "{half_head:?}");
    assert!(!half_head.0.contains("200 OK"), "{half_head:?}");
    assert!(half_body.0.starts_with("HTTP/1.1 408"), "{half_body:?}");
    assert!(half_body.0.contains("request_timeout"), "{half_body:?}");
    assert!(idle.0.starts_with("HTTP/1.1 200"), "{idle:?}");
    assert!(idle.1 < bound, "{idle:?}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_are_refused_and_freed_slots_reused() {
    let mut c = short_timeouts();
    c.connections.header_timeout = Duration::from_secs(30);
    let s = TestServer::start(Backend::Sqlite, c, 0, None).await;
    let a = addr(&s);
    tokio::task::spawn_blocking(move || {
        // Three half-sent requests hold this address' three slots.
        let mut held: Vec<TcpStream> = (0..3)
            .map(|_| {
                let mut c = TcpStream::connect(&a).unwrap();
                c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                    .unwrap();
                c
            })
            .collect();
        // Wait until the server has taken all three (a fourth is refused).
        let deadline = Instant::now() + Duration::from_secs(10);
        let refused = loop {
            let mut c = TcpStream::connect(&a).unwrap();
            c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            let (text, _) = read_until_closed(&mut c, Duration::from_secs(5));
            if text.starts_with("HTTP/1.1 503") {
                break text;
            }
            assert!(Instant::now() < deadline, "never refused: {text}");
        };
        assert!(refused.contains("too_many_connections"), "{refused}");
        // Give one slot back: a new connection is served again.
        drop(held.pop());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut c = TcpStream::connect(&a).unwrap();
            c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .unwrap();
            let (text, _) = read_until_closed(&mut c, Duration::from_secs(5));
            if text.starts_with("HTTP/1.1 200") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the freed slot was not reused: {text}"
            );
        }
    })
    .await
    .unwrap();
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_filters_are_validated() {
    let s = TestServer::start(Backend::Sqlite, cfg(), 0, None).await;
    let t = s.user_token("alice").await;
    for (query, want) in [
        ("cloud=mars", "invalid_cloud"),
        ("cloud=%1b%5b31m", "invalid_cloud"),
        ("status=exploded", "invalid_status"),
        ("limit=0", "invalid_limit"),
        ("cursor=not-hex!", "invalid_cursor"),
    ] {
        let r = s
            .client
            .get(s.url(&format!("/v1/deployments?{query}")))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{query}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], want, "{query}: {v}");
        assert!(
            !v["error"]["message"].as_str().unwrap().contains('\u{1b}'),
            "{v}"
        );
    }
    let r = s
        .client
        .get(s.url("/v1/deployments?cloud=aws"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repository_urls_into_the_service_network_are_refused_before_connecting() {
    let s = TestServer::start(Backend::Sqlite, cfg(), 0, None).await;
    let t = s.user_token("alice").await;
    // An open port on this machine: nothing may connect to it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let open = listener.local_addr().unwrap().port();
    let mut messages = Vec::new();
    for repo in [
        "http://127.0.0.1:1/x.git".to_string(),
        format!("https://127.0.0.1:{open}/x.git"),
    ] {
        for path in ["/v1/analyze", "/v1/deployments"] {
            let body = if path == "/v1/analyze" {
                json!({"repo": repo})
            } else {
                json!({"repo": repo, "request": "deploy on aws"})
            };
            let r = s
                .client
                .post(s.url(path))
                .bearer_auth(&t)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 422, "{path} {repo}");
            let v: Value = r.json().await.unwrap();
            assert_eq!(v["error"]["code"], "source_forbidden", "{v}");
            let m = v["error"]["message"]
                .as_str()
                .unwrap()
                .replace(&repo, "URL");
            assert!(m.contains("loopback"), "{m}");
            messages.push(m);
        }
    }
    assert_eq!(
        messages[0], messages[2],
        "a closed and an open port are refused alike"
    );
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "nothing connected to the open port"
    );
    for repo in [
        "http://169.254.169.254/latest/meta-data/",
        "https://[::ffff:169.254.169.254]/x.git",
        "https://[fd00:ec2::254]/x.git",
        "git@10.0.0.1:o/r.git",
        "http://localhost:8080/x.git",
    ] {
        let r = s
            .client
            .post(s.url("/v1/analyze"))
            .bearer_auth(&t)
            .json(&json!({"repo": repo}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{repo}");
        assert_eq!(code(r).await, "source_forbidden", "{repo}");
    }
    s.stop().await;
}

/// The plan preview resolves and fetches through the source crate: git runs
/// with its scrubbed environment (a `GIT_TRACE` set for the server never
/// reaches git, so nothing is traced) — the preview used to run its own
/// `git ls-remote` without those rules.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn previews_run_git_under_the_source_crate_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let trace = tmp.path().join("git-trace.log");
    // nextest runs every test in its own process: this variable is ours.
    std::env::set_var("GIT_TRACE", &trace);
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let fixture = std::path::PathBuf::from(common::fixture("python_stdlib_http_server"));
    for e in std::fs::read_dir(&fixture).unwrap().flatten() {
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), repo.join(e.file_name())).unwrap();
        }
    }
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .args(args)
            .current_dir(&repo)
            .env_remove("GIT_TRACE")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "app"]);
    let mut c = cfg();
    c.allow_local_sources = true;
    let s = TestServer::start(Backend::Sqlite, c, 0, None).await;
    let t = s.user_token("alice").await;
    let url = format!("file://{}", repo.display());
    for _ in 0..2 {
        let r = s
            .client
            .post(s.url("/v1/plan"))
            .bearer_auth(&t)
            .json(&json!({"repo": url, "request": "run it locally"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }
    assert!(
        !trace.exists(),
        "git ran with the server's GIT_TRACE: {}",
        std::fs::read_to_string(&trace).unwrap_or_default()
    );
    s.stop().await;
}

/// Many requests at once with a token the server has not seen yet share one
/// store lookup: a real client's first burst is never mistaken for guessing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_with_a_new_real_token_is_served() {
    let s = TestServer::start(Backend::Sqlite, cfg(), 0, None).await;
    let t = s.user_token("alice").await;
    let tasks: Vec<_> = (0..60)
        .map(|_| {
            let c = s.client.clone();
            let url = s.url("/v1/deployments");
            let t = t.clone();
            tokio::spawn(async move { c.get(url).bearer_auth(t).send().await.unwrap().status() })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    assert!(s.metrics.auth.get(&["store_ok"]) >= 1);
    assert_eq!(s.metrics.auth.get(&["failure_limited"]), 0);
    s.stop().await;
}
