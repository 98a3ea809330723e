//! The web page in a real browser: headless Chromium, driven over the
//! DevTools protocol (a few `Runtime.evaluate` calls on a websocket): a wrong
//! token is refused with "token rejected (401)", the right one accepted; a
//! local-target deployment of a fixture app is previewed, an edited form
//! disables "Deploy it" until it is previewed again, the deploy sends the
//! plan_id and lands on the deployment's own URL, whose phases and live log
//! reach "healthy" (and survive a reload); the app's URL is opened and its
//! answer read; destroy needs the typed name. At 390 px the page is no wider
//! than the screen and the log wraps.
//!
//! With AUTODEPLOY_SCREENSHOTS=DIR it saves PNGs of each step there (the
//! ones in docs/screenshots come from this test).
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

    /// The page as a PNG in $AUTODEPLOY_SCREENSHOTS/NAME.png, when set.
    fn screenshot(&mut self, name: &str) {
        use base64::Engine;
        let Some(dir) = std::env::var_os("AUTODEPLOY_SCREENSHOTS") else {
            return;
        };
        let r = self.call("Page.captureScreenshot", json!({"format": "png"}));
        let data = r["result"]["data"]
            .as_str()
            .unwrap_or_else(|| panic!("no screenshot: {r}"));
        let png = base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("base64 PNG");
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        std::fs::write(PathBuf::from(dir).join(format!("{name}.png")), png).expect("write PNG");
    }

    /// The viewport of a phone (390 px wide) or a desktop.
    fn viewport(&mut self, width: u32, height: u32, mobile: bool) {
        let r = self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
        );
        assert!(r.get("error").is_none(), "{r}");
    }

    /// At 390 px: nothing wider than the screen; back to the desktop after.
    fn fits_a_phone(&mut self, what: &str, shot: &str) {
        self.viewport(390, 844, true);
        let w = self.wait_for(
            "document.documentElement.clientWidth === 390 && document.documentElement.scrollWidth",
            Duration::from_secs(10),
        );
        assert!(
            w.as_u64().unwrap() <= 390,
            "{what}: the page is {w} px wide on a 390 px screen"
        );
        self.screenshot(shot);
        self.viewport(1200, 900, false);
        self.wait_for("window.innerWidth === 1200", Duration::from_secs(10));
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

    page.viewport(1200, 900, false);
    page.wait_for(
        "document.readyState === 'complete' && document.getElementById('plan-form')",
        Duration::from_secs(15),
    );
    // A wrong token is refused, said so, and not kept.
    page.eval(
        "document.getElementById('token').value = 'adt_wrongwrongwrongwrongwrongwrong12'; \
         document.getElementById('save-token').click(); true",
    );
    let state = page.wait_for(
        "document.getElementById('token-state').textContent.startsWith('token rejected (401)') && document.getElementById('token-state').textContent",
        Duration::from_secs(15),
    );
    assert!(!state.as_str().unwrap().contains("saved"), "{state}");
    assert_eq!(
        page.eval("localStorage.getItem('autodeploy.token')"),
        Value::Null
    );
    page.screenshot("token-rejected");
    // The right one is checked against the API and kept in localStorage.
    page.eval(&format!(
        "document.getElementById('token').value = {t}; \
         document.getElementById('save-token').click(); true",
        t = json!(token)
    ));
    page.wait_for(
        "document.getElementById('token-state').textContent === 'saved — token accepted'",
        Duration::from_secs(15),
    );
    assert_eq!(
        page.eval("localStorage.getItem('autodeploy.token')"),
        json!(token)
    );

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
    let first_plan = page.eval("document.getElementById('plan-id').textContent");
    assert!(
        first_plan.as_str().unwrap().starts_with("pln_"),
        "{first_plan}"
    );
    assert_eq!(
        page.eval("document.getElementById('confirm').disabled"),
        json!(false)
    );
    page.eval("document.getElementById('new').scrollIntoView(); true");
    page.screenshot("1-preview");
    page.fits_a_phone("the previewed plan", "phone-preview");

    // Editing the form after the preview: "Deploy it" is disabled and says
    // why; clicking it deploys nothing.
    page.eval(
        "(() => { const r = document.getElementById('request'); r.value = 'run it on this machine, with care'; \
         r.dispatchEvent(new Event('input', {bubbles: true})); return true; })()",
    );
    page.wait_for(
        "document.getElementById('confirm').disabled && !document.getElementById('stale').hidden \
         && document.getElementById('stale').textContent.includes('changed since preview')",
        Duration::from_secs(5),
    );
    page.eval("document.getElementById('plan').scrollIntoView(); true");
    page.screenshot("2-changed-since-preview");
    page.eval("document.getElementById('confirm').click(); true");
    // Previewed again: a new plan, deployable.
    page.eval("document.getElementById('preview').click(); true");
    let plan_id = page.wait_for(
        &format!(
            "(() => {{ const id = document.getElementById('plan-id').textContent; \
               return id && id !== {first} && !document.getElementById('confirm').disabled \
                 && document.getElementById('stale').hidden && id; }})()",
            first = first_plan
        ),
        Duration::from_secs(30),
    );
    let listed = page.eval(
        "fetch('/v1/deployments', {headers: {Authorization: 'Bearer ' + localStorage.getItem('autodeploy.token')}}) \
           .then(r => r.json()).then(p => p.items.length)",
    );
    assert_eq!(listed, json!(0), "a stale plan was deployed");

    // Deploy: the page goes to the deployment's own URL, with its plan,
    // phases and live log, until healthy.
    page.eval("document.getElementById('confirm').click(); true");
    let path = page.wait_for(
        "location.pathname.startsWith('/d/dep_') && location.pathname",
        Duration::from_secs(20),
    );
    let id = path.as_str().unwrap().trim_start_matches("/d/").to_string();
    let dep = page.eval(&format!(
        "fetch('/v1/deployments/{id}', {{headers: {{Authorization: 'Bearer ' + localStorage.getItem('autodeploy.token')}}}}).then(r => r.json())"
    ));
    assert_eq!(
        dep["options"]["plan_id"], plan_id,
        "deployed by its plan_id"
    );
    assert_eq!(dep["request"], "run it on this machine, with care");
    let status = page.wait_for(
        "['healthy','unhealthy','failed','interrupted'].includes(document.getElementById('dep-status').textContent) \
         && document.getElementById('live-status').textContent === document.getElementById('dep-status').textContent \
         && document.getElementById('dep-status').textContent",
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
    let phases = page.eval(
        "[...document.querySelectorAll('#phases li')].map(li => li.dataset.phase + ':' + li.dataset.state).join(' ')",
    );
    assert_eq!(
        phases,
        json!("fetch:done analyze:done plan:done app_start:done health:done"),
    );
    let planned = page.eval("document.getElementById('dep-plan').textContent");
    assert!(
        planned.as_str().unwrap().starts_with("local in ")
            && planned
                .as_str()
                .unwrap()
                .contains(plan_id.as_str().unwrap()),
        "{planned}"
    );
    assert_eq!(
        page.eval("getComputedStyle(document.getElementById('log')).whiteSpace"),
        json!("pre-wrap"),
        "log lines wrap"
    );
    page.screenshot("3-deployment");
    page.fits_a_phone("the deployment's page with its log", "phone-deployment");

    // A reload keeps the deployment, its phases and its log.
    page.eval("window.beforeReload = true");
    page.call("Page.reload", json!({}));
    page.wait_for(
        "!window.beforeReload && document.getElementById('dep-status').textContent === 'healthy' \
         && document.getElementById('log').textContent.includes('[health]') \
         && document.querySelectorAll('#phases li[data-state=done]').length === 5",
        Duration::from_secs(20),
    );

    // Open the app from its URL.
    let app_url = page.wait_for(
        "(() => { const a = document.querySelector('#dep-url a.app-url'); return a && a.href; })()",
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

    // The list links to the deployment's page.
    page.call("Page.navigate", json!({"url": format!("{base}/")}));
    let link = page.wait_for(
        &format!("(() => {{ const a = document.querySelector('#deployments tr[data-id={id}] a.dep-link'); return a && a.getAttribute('href'); }})()"),
        Duration::from_secs(20),
    );
    assert_eq!(link, json!(format!("/d/{id}")));
    page.screenshot("4-list");
    page.fits_a_phone("the list", "phone-list");
    // The admin's "every user's" box lists with all_users=true and shows
    // the owner of each deployment.
    page.eval("document.getElementById('all-users').click(); true");
    let owner = page.wait_for(
        &format!("(() => {{ const c = document.querySelector('#deployments tr[data-id={id}] td.owner-col'); return c && document.getElementById('whose').textContent.startsWith('Every user') && c.textContent; }})()"),
        Duration::from_secs(20),
    );
    assert!(owner.as_str().unwrap().starts_with("usr_"), "{owner}");
    page.eval("document.getElementById('all-users').click(); true");
    page.wait_for(
        "document.getElementById('whose').textContent.startsWith('Deployments of') && !document.querySelector('td.owner-col')",
        Duration::from_secs(20),
    );
    page.eval(&format!(
        "document.querySelector('#deployments tr[data-id={id}] a.dep-link').click(); true"
    ));

    // Destroy asks for the name, typed.
    page.wait_for(
        "location.pathname.startsWith('/d/') && document.getElementById('dep-status').textContent === 'healthy' \
         && !document.getElementById('destroy').hidden",
        Duration::from_secs(20),
    );
    let name = page.eval("document.getElementById('dep-name').textContent");
    let name = name.as_str().unwrap().to_string();
    page.eval("document.getElementById('destroy').click(); true");
    page.wait_for(
        "document.getElementById('destroy-dialog').open && document.getElementById('destroy-confirm').disabled",
        Duration::from_secs(5),
    );
    let type_name = |page: &mut Page, typed: &str| {
        page.eval(&format!(
            "(() => {{ const i = document.getElementById('destroy-typed'); i.value = {typed}; \
             i.dispatchEvent(new Event('input', {{bubbles: true}})); return document.getElementById('destroy-confirm').disabled; }})()",
            typed = json!(typed)
        ))
    };
    assert_eq!(type_name(&mut page, &name[..name.len() - 1]), json!(true));
    assert_eq!(type_name(&mut page, &format!("{name}x")), json!(true));
    assert_eq!(type_name(&mut page, &name), json!(false));
    page.screenshot("5-destroy");
    page.eval("document.getElementById('destroy-confirm').click(); true");
    page.wait_for(
        "document.getElementById('dep-status').textContent === 'destroyed' \
         && document.querySelector('#phases li[data-phase=destroy][data-state=done]')",
        Duration::from_secs(60),
    );
    page.screenshot("6-destroyed");
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
