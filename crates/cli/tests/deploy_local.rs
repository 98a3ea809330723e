//! `deploy` → `status` → `logs` → `destroy` on the local target, end to end
//! through the binary: a real venv, a real supervised process, real HTTP.

mod support;
use support::*;

fn get(url: &str) -> (u16, String) {
    match ureq::get(url).call() {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(c, r)) => (c, r.into_string().unwrap_or_default()),
        Err(e) => (0, e.to_string()),
    }
}

#[test]
fn hello_world_shape_runs_locally_then_is_destroyed() {
    let home = tempfile::tempdir().unwrap();
    let out = run(cli(home.path()).args([
        "deploy",
        &fixture("hello_world_shape"),
        "run it locally",
        "--yes",
        "--json",
    ]));
    assert!(out.status.success(), "{}", text(&out));
    let d = json(&out);
    assert_eq!(d["status"], "healthy", "{d:#}");
    assert_eq!(d["cloud"], "local");
    let id = d["id"].as_str().unwrap().to_string();
    let url = d["url"].as_str().unwrap().to_string();
    assert!(
        !url.ends_with(":5000"),
        "served on its own port, not 5000: {url}"
    );
    // The same folder again is not a second deployment beside it: the
    // error names the one there is and how to update it.
    let again = run(cli(home.path()).args([
        "deploy",
        &fixture("hello_world_shape"),
        "run it locally",
        "--yes",
        "--json",
    ]));
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    let err: serde_json::Value = serde_json::from_str(
        String::from_utf8_lossy(&again.stderr)
            .lines()
            .last()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(err["error"]["code"], "already_deployed", "{err}");
    assert!(
        err["error"]["message"].as_str().unwrap().contains(&id),
        "{err}"
    );
    assert!(
        err["error"]["hint"]
            .as_str()
            .unwrap()
            .contains(&format!("autodeploy redeploy {id}")),
        "{err}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    for phase in ["fetch", "analyze", "plan", "app start", "health"] {
        assert!(
            stderr.contains(&format!("==> {phase}")),
            "progress for {phase}: {stderr}"
        );
    }

    // The page no longer points at localhost:5000, and its API answers.
    let (code, page) = get(&url);
    assert_eq!(code, 200, "{page}");
    assert!(!page.contains("localhost:5000"), "{page}");
    let (code, msg) = get(&format!("{url}/api/message"));
    assert_eq!(code, 200);
    assert!(msg.contains("Hello, World!"), "{msg}");

    let st = run(cli(home.path()).args(["status", &id, "--json"]));
    assert!(st.status.success(), "{}", text(&st));
    let st = json(&st);
    assert_eq!(st["status"], "healthy");
    assert_eq!(st["live"]["state"], "running", "{st:#}");
    assert_eq!(st["live"]["healthy"], true, "{st:#}");

    let list = json(&run(cli(home.path()).args(["list", "--json"])));
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["id"] == id.as_str()));

    let logs = run(cli(home.path()).args(["logs", &id]));
    let logs = String::from_utf8_lossy(&logs.stdout).to_string();
    assert!(logs.contains("[app_start]"), "{logs}");
    assert!(
        logs.contains("--- app output"),
        "app output is part of the log: {logs}"
    );

    // No confirmation without a terminal.
    let refused = run(cli(home.path()).args(["destroy", &id]));
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(text(&refused).contains("--yes"));
    assert_eq!(get(&url).0, 200, "still up after a refused destroy");

    let gone = run(cli(home.path()).args(["destroy", &id, "--yes", "--json"]));
    assert!(gone.status.success(), "{}", text(&gone));
    assert_eq!(json(&gone)["status"], "destroyed");
    assert_eq!(get(&url).0, 0, "nothing answers at {url} any more");
    assert!(!home
        .path()
        .join("deployments")
        .join(&id)
        .join("app")
        .exists());
    let st = json(&run(cli(home.path()).args(["status", &id, "--json"])));
    assert_eq!(st["status"], "destroyed");
}

#[test]
fn deploy_without_a_terminal_needs_yes_and_creates_nothing() {
    let home = tempfile::tempdir().unwrap();
    let out = run(cli(home.path()).args([
        "deploy",
        &fixture("python_stdlib_http_server"),
        "run it locally",
    ]));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("stdin is not a terminal") && text(&out).contains("hint: pass --yes"),
        "{}",
        text(&out)
    );
    let list = json(&run(cli(home.path()).args(["list", "--json", "--all"])));
    assert_eq!(list, serde_json::json!([]));
}

#[test]
fn missing_source_fails_before_anything_is_stored() {
    let home = tempfile::tempdir().unwrap();
    let out =
        run(cli(home.path()).args(["deploy", "/definitely/not/here", "run it locally", "--yes"]));
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("does not exist"), "{}", text(&out));
    // Said once, not once per cause.
    assert_eq!(
        text(&out).matches("does not exist").count(),
        1,
        "{}",
        text(&out)
    );
    let list = json(&run(cli(home.path()).args(["list", "--json", "--all"])));
    assert_eq!(list, serde_json::json!([]));
}

#[test]
fn unknown_deployment_says_how_to_find_one() {
    let home = tempfile::tempdir().unwrap();
    let out = run(cli(home.path()).args(["status", "dep_nope"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("autodeploy list"), "{}", text(&out));
}

#[test]
fn redeploy_with_a_changed_request_restarts_the_app_and_records_it() {
    let home = tempfile::tempdir().unwrap();
    let out = run(cli(home.path()).args([
        "deploy",
        &fixture("python_stdlib_http_server"),
        "run it locally",
        "--yes",
        "--json",
    ]));
    assert!(out.status.success(), "{}", text(&out));
    let d = json(&out);
    let id = d["id"].as_str().unwrap().to_string();
    let first_pid = d["outputs"]["supervisor_pid"].clone();

    let again = run(cli(home.path()).args([
        "redeploy",
        &id,
        "--request",
        "run it locally as staging",
        "--json",
    ]));
    assert!(again.status.success(), "{}", text(&again));
    let d2 = json(&again);
    assert_eq!(d2["id"], id.as_str());
    assert_eq!(d2["status"], "healthy", "{d2:#}");
    assert_eq!(d2["request"], "run it locally as staging");
    assert_ne!(
        d2["outputs"]["supervisor_pid"], first_pid,
        "a new process serves the new version"
    );
    assert_eq!(get(d2["url"].as_str().unwrap()).0, 200);
    let logs = run(cli(home.path()).args(["logs", &id]));
    assert!(
        String::from_utf8_lossy(&logs.stdout).contains("plan unchanged")
            || String::from_utf8_lossy(&logs.stdout).contains("→"),
        "the redeploy logs its plan diff"
    );

    let gone = run(cli(home.path()).args(["destroy", &id, "--yes"]));
    assert!(gone.status.success(), "{}", text(&gone));
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

#[test]
fn a_broken_redeploy_leaves_the_old_version_serving_on_the_same_url() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("app");
    copy_dir(
        std::path::Path::new(&fixture("python_stdlib_http_server")),
        &src,
    );
    // A relative source, an --env value and a --secret from the environment.
    let out = run(cli(home.path())
        .current_dir(work.path())
        .env("API_TOKEN", "s3cret-value")
        .args([
            "deploy",
            "app",
            "run it locally",
            "--env",
            "GREETING=hello from the first release",
            "--secret",
            "API_TOKEN",
            "--yes",
            "--json",
        ]));
    assert!(out.status.success(), "{}", text(&out));
    let d = json(&out);
    let id = d["id"].as_str().unwrap().to_string();
    let url = d["url"].as_str().unwrap().to_string();
    assert_eq!(
        d["source"],
        src.canonicalize().unwrap().display().to_string()
    );
    assert!(get(&url).1.contains("hello from the first release"));
    assert!(
        !text(&out).contains("s3cret-value"),
        "a secret is never printed"
    );

    // Break the code; redeploy from another folder.
    let main = std::fs::read_dir(&src)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "py"))
        .unwrap();
    let code = std::fs::read_to_string(&main).unwrap();
    std::fs::write(
        &main,
        format!("raise RuntimeError('boom at import')\n{code}"),
    )
    .unwrap();
    let t0 = std::time::Instant::now();
    let broken = run(cli(home.path())
        .current_dir("/")
        .args(["redeploy", &id, "--json"]));
    let d2 = json(&broken);
    assert_eq!(d2["status"], "healthy", "{d2:#}");
    let err = d2["error"].as_str().unwrap_or_default();
    assert!(err.starts_with("last redeploy failed"), "{err}");
    assert!(
        err.contains("boom at import"),
        "the app's own traceback: {err}"
    );
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(90),
        "a crash ends the wait early"
    );
    assert_eq!(d2["url"], url.as_str(), "the same URL");
    assert!(get(&url).1.contains("hello from the first release"));

    // Fixed, with a new value: the new release takes over the same URL.
    std::fs::write(&main, code).unwrap();
    let fixed = run(cli(home.path()).args([
        "redeploy",
        &id,
        "--env",
        "GREETING=hello from the fixed release",
        "--json",
    ]));
    let d3 = json(&fixed);
    assert_eq!(d3["status"], "healthy", "{d3:#}");
    assert!(d3["error"].is_null(), "{d3:#}");
    assert_eq!(d3["url"], url.as_str());
    assert!(get(&url).1.contains("hello from the fixed release"));

    let gone = run(cli(home.path()).args(["destroy", &id, "--yes"]));
    assert!(gone.status.success(), "{}", text(&gone));
    assert_eq!(get(&url).0, 0);
}

/// `__supervise` processes (app supervisors, fronts) of deployment `id`.
fn supervisors_of(id: &str) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            let cmd = String::from_utf8_lossy(&cmd);
            cmd.contains("__supervise") && cmd.contains(&format!("/deployments/{id}/"))
        })
        .count()
}

#[test]
fn a_deploy_killed_during_app_start_is_interrupted_and_destroy_cleans_up() {
    let home = tempfile::tempdir().unwrap();
    let mut child = cli(home.path())
        .args([
            "deploy",
            &fixture("hello_world_shape"),
            "run it locally",
            "--yes",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // SIGKILL it as soon as it is building the app (installing flask…).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let id = loop {
        assert!(
            std::time::Instant::now() < deadline,
            "never reached app start"
        );
        let list = run(cli(home.path()).args(["list", "--json", "--all"]));
        if let Some(d) = serde_json::from_slice::<serde_json::Value>(&list.stdout)
            .ok()
            .and_then(|v| v.as_array().and_then(|a| a.first().cloned()))
        {
            if d["phase"] == "app_start" {
                break d["id"].as_str().unwrap().to_string();
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    // The runner file survived the app start's work: the dead runner is seen.
    assert!(home
        .path()
        .join("deployments")
        .join(&id)
        .join("runner")
        .exists());
    let st = json(&run(cli(home.path()).args(["status", &id, "--json"])));
    assert_eq!(st["status"], "interrupted", "{st:#}");
    assert!(
        st["error"].as_str().unwrap().contains("autodeploy destroy"),
        "{st:#}"
    );
    let gone = run(cli(home.path()).args(["destroy", &id, "--yes", "--json"]));
    assert!(gone.status.success(), "{}", text(&gone));
    assert_eq!(json(&gone)["status"], "destroyed");
    assert_eq!(supervisors_of(&id), 0, "nothing of it runs on");
    assert!(!home.path().join("deployments").join(&id).exists());
}

/// An app that runs but never answers ends the deploy `unhealthy` in phase
/// `health` (text and `--json`), with the app's own last lines — not the
/// install's.
#[test]
fn an_app_that_never_answers_ends_unhealthy_in_phase_health_with_its_own_lines() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("silent");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("Procfile"), "web: python3 main.py\n").unwrap();
    std::fs::write(
        src.join("main.py"),
        "import os\nimport time\nfrom http.server import BaseHTTPRequestHandler, HTTPServer\n\nif __name__ == \"__main__\":\n    print(\"booting, listening nowhere\", flush=True)\n    time.sleep(3600)\n    HTTPServer((\"0.0.0.0\", int(os.environ[\"PORT\"])), BaseHTTPRequestHandler).serve_forever()\n",
    )
    .unwrap();
    let out = run(cli(home.path()).args([
        "deploy",
        src.to_str().unwrap(),
        "run it locally",
        "--yes",
        "--health-timeout",
        "3",
    ]));
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("ended unhealthy in phase health"), "{t}");
    let after_end = &t[t.find("ended unhealthy").unwrap()..];
    assert!(after_end.contains("booting, listening nowhere"), "{t}");
    let list = json(&run(cli(home.path()).args(["list", "--json"])));
    let d = &list[0];
    assert_eq!(d["status"], "unhealthy", "{d:#}");
    assert_eq!(d["phase"], "health", "{d:#}");
    let id = d["id"].as_str().unwrap().to_string();
    let out = run(cli(home.path()).args(["destroy", &id, "--yes"]));
    assert!(out.status.success(), "{}", text(&out));
}

/// A home given as a relative path (`--home state`, `AUTODEPLOY_HOME=state`)
/// is the same place for every process of the deployment — its supervisor
/// and account run elsewhere — so the app comes up and `destroy`, run from
/// another folder with the absolute path, removes it.
#[test]
fn a_relative_home_is_one_place_for_deploy_status_and_destroy() {
    let work = tempfile::tempdir().unwrap();
    // The deployment's account must pass through the folders above it.
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(work.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    }
    let rel = std::path::Path::new("state");
    let out = run(cli(rel).current_dir(work.path()).args([
        "deploy",
        &fixture("python_stdlib_http_server"),
        "run it locally",
        "--yes",
        "--json",
    ]));
    assert!(out.status.success(), "{}", text(&out));
    let d = json(&out);
    assert_eq!(d["status"], "healthy", "{d:#}");
    let id = d["id"].as_str().unwrap().to_string();
    let abs = work.path().join("state");
    let elsewhere = tempfile::tempdir().unwrap();
    let st = json(&run(cli(&abs)
        .current_dir(elsewhere.path())
        .args(["status", &id, "--json"])));
    assert_eq!(st["status"], "healthy", "{st:#}");
    let gone = run(cli(&abs)
        .current_dir(elsewhere.path())
        .args(["destroy", &id, "--yes", "--json"]));
    assert!(gone.status.success(), "{}", text(&gone));
    assert!(!abs.join("deployments").join(&id).exists());
}
