//! The shipped alert rules (deploy/prometheus/alerts.yml) are valid, their
//! unit tests pass under promtool, and every metric they use is one this
//! service exports; a real scrape — taken from `autodeploy serve` after a
//! real local deployment, a plan preview and a destroy — passes
//! `promtool check metrics` and keeps the naming rules.

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

/// The Prometheus configuration deploy/compose.yaml runs (it loads
/// alerts.yml from beside itself, so this checks the rules it loads too).
#[test]
fn promtool_check_config() {
    let Some(p) = promtool() else { return };
    let out = Command::new(p)
        .args(["check", "config"])
        .arg(dir().join("prometheus.yml"))
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{all}");
    assert!(all.contains("SUCCESS: 1 rule files found"), "{all}");
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

/// The real binary (AUTODEPLOY_BIN, else target/debug/autodeploy).
fn binary() -> Option<PathBuf> {
    let p = std::env::var_os("AUTODEPLOY_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/debug/autodeploy")
        });
    if p.exists() {
        return Some(p);
    }
    eprintln!(
        "SKIPPED: no autodeploy binary (AUTODEPLOY_BIN; `cargo build -p autodeploy`) — the scrape was NOT checked"
    );
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true: this prerequisite must be there (see above)"
    );
    None
}

/// `autodeploy serve`, stopped (SIGTERM, then SIGKILL) on drop.
struct Serve(std::process::Child);
impl Drop for Serve {
    fn drop(&mut self) {
        // SAFETY: signals the child we started, by its pid.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGTERM) };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_status(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    want: &str,
) -> serde_json::Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(240);
    loop {
        let d: serde_json::Value = client
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if d["status"] == want {
            return d;
        }
        let final_other = [
            "failed",
            "unhealthy",
            "interrupted",
            "cancelled",
            "destroyed",
            "healthy",
        ]
        .contains(&d["status"].as_str().unwrap_or_default());
        assert!(!final_other, "wanted {want}, the deployment ended: {d:#}");
        assert!(
            std::time::Instant::now() < deadline,
            "still not {want}: {d:#}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrape_after_a_real_deployment_passes_promtool_check_metrics() {
    let Some(promtool) = promtool() else { return };
    let Some(bin) = binary() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _serve = Serve(
        Command::new(&bin)
            .args([
                "serve",
                "--workers",
                "1",
                "--allow-local-sources",
                "--allow-local-target",
            ])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--home")
            .arg(&home)
            .env("AUTODEPLOY_HEALTH_TIMEOUT", "60")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start autodeploy serve"),
    );
    // Not a terminal: the first admin token is written to <home>/admin-token.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let token = loop {
        if let Ok(t) = std::fs::read_to_string(home.join("admin-token")) {
            if t.trim().len() == 36 {
                break t.trim().to_string();
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "serve wrote no admin token"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let app = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/python_stdlib_http_server")
        .canonicalize()
        .unwrap();
    let app = app.to_str().unwrap();

    // A plan preview, a local deployment to healthy, its destroy.
    let r = client
        .post(format!("{base}/v1/plan"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"repo": app, "request": "deploy on aws"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let d: serde_json::Value = client
        .post(format!("{base}/v1/deployments"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"repo": app, "request": "run it locally", "options": {"target": "local"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = d["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{d:#}"))
        .to_string();
    let url = format!("{base}/v1/deployments/{id}");
    wait_status(&client, &url, &token, "healthy").await;
    let r = client
        .post(format!("{url}/destroy"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    wait_status(&client, &url, &token, "destroyed").await;

    // The destroy job's end is counted right after the status is stored.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let text = loop {
        let text = client
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text.contains("autodeploy_jobs_finished_total{kind=\"destroy\",status=\"destroyed\"} 1")
            || std::time::Instant::now() > deadline
        {
            break text;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };

    let mut check = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        check
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let out = check.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool check metrics: {}{}\n--- scrape\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let types: Vec<(&str, &str)> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .collect();
    for (name, _) in &types {
        assert!(
            name.starts_with("autodeploy_") || name.starts_with("process_"),
            "{name} has no autodeploy_ prefix"
        );
    }
    for (name, kind) in [
        ("autodeploy_deployments_total", "counter"),
        ("autodeploy_deployments", "gauge"),
        ("process_cpu_seconds_total", "counter"),
        ("process_resident_memory_bytes", "gauge"),
        ("process_open_fds", "gauge"),
        ("process_start_time_seconds", "gauge"),
    ] {
        assert!(
            types.contains(&(name, kind)),
            "{name} {kind} missing:\n{text}"
        );
    }
    for needle in [
        "autodeploy_deployments_total{status=\"healthy\",cloud_provider=\"local\"} 1",
        "autodeploy_deployments{status=\"destroyed\",cloud_provider=\"local\"} 1",
        "autodeploy_phase_duration_seconds_count{phase=\"app_start\",cloud_provider=\"local\"} 1",
        "autodeploy_phase_duration_seconds_count{phase=\"destroy\",cloud_provider=\"local\"} 1",
        "autodeploy_plan_cache_requests_total{result=\"miss\"} 1",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
    // A local destroy ran no Terraform: not a Terraform duration.
    assert!(
        !text.contains("autodeploy_terraform_duration_seconds_count{phase=\"destroy\"}"),
        "{text}"
    );
}
