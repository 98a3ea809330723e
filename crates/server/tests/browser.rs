//! The web page in a real browser: headless Chromium, driven over the
//! DevTools protocol (a few `Runtime.evaluate` calls on a websocket), pastes a
//! token, previews a local-target deployment of a fixture app, confirms,
//! watches the live log reach "healthy", opens the app's URL from the list
//! and reads its answer, then destroys it from the page.
//!
//! Runs the real `autodeploy serve` (SQLite, one in-process worker, the real
//! execute stage). Needs chromium on PATH and the `autodeploy` binary
//! (AUTODEPLOY_BIN, else target/debug/autodeploy); skips loudly otherwise.

mod common;

use serde_json::{json, Value};

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{connect, Message, WebSocket};

fn find_on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names
        .iter()
        .flat_map(|n| std::env::split_paths(&path).map(move |d| d.join(n)))
        .find(|p| p.is_file())
}

fn binary() -> Option<PathBuf> {
    let p = std::env::var_os("AUTODEPLOY_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/debug/autodeploy")
        });
    p.exists().then_some(p)
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_until<T>(max: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + max;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

type Ws = WebSocket<MaybeTlsStream<TcpStream>>;

/// A DevTools session on one page.
struct Page {
    ws: Ws,
    next: u64,
}

impl Page {
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        self.ws
            .send(Message::Text(
                json!({"id": id, "method": method, "params": params}).to_string(),
            ))
            .expect("send to devtools");
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            assert!(
                Instant::now() < deadline,
                "devtools did not answer {method}"
            );
            if let Message::Text(t) = self.ws.read().expect("devtools message") {
                let v: Value = serde_json::from_str(&t).expect("devtools JSON");
                if v["id"] == id {
                    return v;
                }
            }
        }
    }

    /// Evaluate `expr` (awaiting a promise); retry while the page navigates.
    fn eval(&mut self, expr: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let r = self.call(
                "Runtime.evaluate",
                json!({"expression": expr, "awaitPromise": true, "returnByValue": true}),
            );
            if r.get("error").is_none() && r["result"].get("exceptionDetails").is_none() {
                return r["result"]["result"]["value"].clone();
            }
            assert!(Instant::now() < deadline, "evaluate kept failing: {r}");
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// Poll a JS condition (an expression) until truthy, returning its value.
    fn wait_for(&mut self, cond: &str, max: Duration) -> Value {
        let js = format!(
            "new Promise(r => {{ const t0 = Date.now(); (function p() {{ let v; try {{ v = ({cond}); }} catch (e) {{ v = null; }} \
               if (v) r(v); else if (Date.now() - t0 > {ms}) r(null); else setTimeout(p, 100); }})(); }})",
            ms = max.as_millis()
        );
        let v = self.eval(&js);
        assert!(!v.is_null(), "page condition never held: {cond}");
        v
    }
}

#[test]
fn deploy_watch_open_and_destroy_from_the_page() {
    let Some(chromium) = find_on_path(&["chromium", "chromium-browser", "google-chrome"]) else {
        eprintln!("\n!!! SKIPPED: chromium is not installed (apt-get install chromium); the browser test did not run !!!\n");
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: this prerequisite must be there (see above)"
        );
        return;
    };
    let Some(bin) = binary() else {
        eprintln!("\n!!! SKIPPED: no autodeploy binary; run `cargo build -p autodeploy` or set AUTODEPLOY_BIN !!!\n");
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: this prerequisite must be there (see above)"
        );
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let serve = Command::new(&bin)
        .args([
            "serve",
            "--workers",
            "1",
            "--allow-local-sources",
            "--allow-local-target",
        ])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--home")
        .arg(tmp.path().join("home"))
        .env("AUTODEPLOY_HEALTH_TIMEOUT", "60")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start autodeploy serve");
    let _serve = Killed(serve);
    // Not a terminal: the first admin token is written to <home>/admin-token.
    let token_file = tmp.path().join("home/admin-token");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let token = loop {
        if let Ok(t) = std::fs::read_to_string(&token_file) {
            if t.trim().len() == 36 {
                break t.trim().to_string();
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "serve wrote no admin token"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let base = format!("http://127.0.0.1:{port}");
    wait_until(Duration::from_secs(30), "the API", || {
        TcpStream::connect(("127.0.0.1", port)).ok()
    });

    let profile = tempfile::tempdir().unwrap();
    let browser = Command::new(&chromium)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--remote-debugging-port=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("{base}/"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let _browser = Killed(browser);
    let devtools: u16 = wait_until(Duration::from_secs(30), "DevToolsActivePort", || {
        std::fs::read_to_string(profile.path().join("DevToolsActivePort"))
            .ok()
            .and_then(|t| t.lines().next().and_then(|l| l.trim().parse().ok()))
    });
    let ws_url: String = wait_until(Duration::from_secs(20), "the page target", || {
        let list: Value = ureq_get_json(devtools, "/json/list")?;
        list.as_array()?
            .iter()
            .find(|t| {
                t["type"] == "page" && t["url"].as_str().is_some_and(|u| u.starts_with(&base))
            })
            .and_then(|t| t["webSocketDebuggerUrl"].as_str().map(str::to_string))
    });
    let (ws, _) = connect(ws_url.as_str()).expect("devtools websocket");
    let mut page = Page { ws, next: 0 };

    page.wait_for(
        "document.readyState === 'complete' && document.getElementById('plan-form')",
        Duration::from_secs(15),
    );
    // The token, kept in localStorage.
    page.eval(&format!(
        "document.getElementById('token').value = {t}; \
         document.getElementById('save-token').click(); localStorage.getItem('autodeploy.token') === {t}",
        t = json!(token)
    ));
    // Preview.
    let repo = common::fixture("python_stdlib_http_server");
    page.eval(&format!(
        "document.getElementById('repo').value = {r}; \
         document.getElementById('request').value = 'run it on this machine'; \
         document.getElementById('target').value = 'local'; \
         document.getElementById('preview').click(); true",
        r = json!(repo)
    ));
    let cost = page.wait_for(
        "!document.getElementById('plan').hidden && document.getElementById('cost').textContent",
        Duration::from_secs(30),
    );
    assert_eq!(cost, json!("$0.00"), "a local deployment costs nothing");
    let analysis = page.eval("document.getElementById('analysis').textContent");
    assert!(analysis.as_str().unwrap().contains("python"), "{analysis}");
    let decision = page.eval("document.getElementById('decision').textContent");
    assert!(
        decision.as_str().unwrap().starts_with("local"),
        "{decision}"
    );

    // Confirm and watch the live log reach healthy.
    page.eval("document.getElementById('confirm').click(); true");
    let status = page.wait_for(
        "['healthy','unhealthy','failed','interrupted'].includes(document.getElementById('live-status').textContent) && document.getElementById('live-status').textContent",
        Duration::from_secs(120),
    );
    let log = page.eval("document.getElementById('log').textContent");
    assert_eq!(
        status,
        json!("healthy"),
        "log:\n{}",
        log.as_str().unwrap_or("")
    );
    assert!(log.as_str().unwrap().contains("[health]"), "{log}");

    // The list shows it with its URL; open that URL in the browser.
    let app_url = page.wait_for(
        "(() => { const a = document.querySelector('#deployments tr td.status[data-status=healthy] ~ td a.app-url'); return a && a.href; })()",
        Duration::from_secs(20),
    );
    let app_url = app_url.as_str().unwrap().to_string();
    assert!(app_url.starts_with("http://127.0.0.1:"), "{app_url}");
    page.call("Page.navigate", json!({"url": app_url}));
    let text = page.wait_for(
        "document.body && document.body.innerText.includes('Hello from autodeploy') && document.body.innerText",
        Duration::from_secs(20),
    );
    assert!(text.as_str().unwrap().contains("\"message\""), "{text}");

    // Back to the page; destroy from the list.
    page.call("Page.navigate", json!({"url": format!("{base}/")}));
    page.wait_for(
        "document.readyState === 'complete' && document.querySelector('#deployments button.destroy')",
        Duration::from_secs(20),
    );
    page.eval("document.querySelector('#deployments button.destroy').click(); true");
    page.wait_for(
        "document.getElementById('live-status').textContent === 'destroyed'",
        Duration::from_secs(60),
    );
    // And the app is gone.
    let gone = wait_until(Duration::from_secs(20), "the app to stop", || {
        let hostport = app_url.trim_start_matches("http://").trim_end_matches('/');
        TcpStream::connect(hostport).is_err().then_some(true)
    });
    assert!(gone);
}

fn ureq_get_json(port: u16, path: &str) -> Option<Value> {
    use std::io::{Read, Write};
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())
                        .flatten()
                })
                .unwrap_or(0);
            if body.len() >= len {
                return serde_json::from_str(&body[..len]).ok();
            }
        }
    }
}
