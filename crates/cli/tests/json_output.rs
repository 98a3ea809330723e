//! `--json` as scripts use it, through the real binary: the deployment
//! record is compact (no embedded plans unless `--full`), every command's
//! failure under `--json` is one JSON line on stderr with a stable code and
//! the usual exit code, and a reader that closes the pipe early
//! (`logs ID | head -1`, `list --json | head -c 10`) ends the command
//! quietly instead of a "Broken pipe" panic (exit 101).

mod support;

use std::path::Path;
use std::process::Output;
use support::{cli, fixture, json, run, text};

/// A Decision-sized value (~20 KB), as a stored plan is.
fn big_plan(tag: &str) -> serde_json::Value {
    let reasons: Vec<_> = (0..200)
        .map(|i| serde_json::json!({"text": format!("{tag} reason {i}: because of a long explanation")}))
        .collect();
    serde_json::json!({ "decision": { "reasons": reasons } })
}

/// A home whose store holds `n` failed AWS deployments with plans and
/// `log_lines` log lines on the first; returns their ids.
fn seeded_home(home: &Path, n: usize, log_lines: usize) -> Vec<String> {
    std::fs::create_dir_all(home).unwrap();
    let db = home.join("autodeploy.db");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = autodeploy_store::open(db.to_str().unwrap()).await.unwrap();
        let mut ids = Vec::new();
        for i in 0..n {
            let (d, _) = store
                .create_deployment(
                    autodeploy_store::NewDeployment {
                        owner: "local".into(),
                        name: format!("app-{i}"),
                        source: "https://example.com/r.git".into(),
                        request: "deploy on aws".into(),
                        cloud: Some("aws".into()),
                        options: serde_json::json!({}),
                        idempotency_key: None,
                    },
                    None,
                )
                .await
                .unwrap();
            store
                .update_deployment(
                    &d.id,
                    autodeploy_store::DeploymentPatch {
                        status: Some(autodeploy_core::DeploymentStatus::Failed),
                        phase: Some(Some(autodeploy_core::Phase::TerraformApply)),
                        error: Some(Some("terraform apply failed: boom".into())),
                        url: Some(Some(format!("http://app-{i}.example.com"))),
                        plan: Some(Some(big_plan("plan"))),
                        last_good_plan: Some(Some(big_plan("last good"))),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            ids.push(d.id);
        }
        let lines: Vec<_> = (0..log_lines)
            .map(|i| autodeploy_store::NewLogLine {
                stream: autodeploy_core::LogStream::Stdout,
                phase: Some(autodeploy_core::Phase::TerraformApply),
                line: format!("line {i} of a long terraform apply, with some words"),
            })
            .collect();
        for chunk in lines.chunks(500) {
            store.append_logs(&ids[0], chunk).await.unwrap();
        }
        ids
    })
}

#[test]
fn the_deployment_record_is_compact_and_full_only_on_request() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("home");
    let ids = seeded_home(&home, 3, 0);

    let o = run(cli(&home).args(["status", &ids[0], "--json"]));
    assert!(o.status.success(), "{}", text(&o));
    let d = json(&o);
    for key in [
        "id",
        "name",
        "status",
        "phase",
        "url",
        "cloud",
        "error",
        "outputs",
        "created_at",
        "updated_at",
    ] {
        assert!(d.get(key).is_some(), "{key} kept: {d:#}");
    }
    assert_eq!(d["status"], "failed");
    assert_eq!(d["phase"], "terraform_apply");
    assert!(
        d.get("plan").is_none() && d.get("last_good_plan").is_none(),
        "{d:#}"
    );
    assert!(
        o.stdout.len() < 2_000,
        "status --json is {} bytes",
        o.stdout.len()
    );

    let o = run(cli(&home).args(["status", &ids[0], "--json", "--full"]));
    assert!(o.status.success(), "{}", text(&o));
    let full = json(&o);
    assert!(
        full["plan"]["decision"]["reasons"].is_array(),
        "{}",
        text(&o)
    );
    assert!(full["last_good_plan"]["decision"].is_object());
    assert!(o.stdout.len() > 20_000);

    let o = run(cli(&home).args(["list", "--json"]));
    assert!(o.status.success(), "{}", text(&o));
    let list = json(&o);
    let items = list.as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert!(items
        .iter()
        .all(|d| d.get("plan").is_none() && d["id"].is_string()));
    assert!(
        o.stdout.len() < 6_000,
        "list --json is {} bytes",
        o.stdout.len()
    );

    let o = run(cli(&home).args(["list", "--json", "--full"]));
    let list = json(&o);
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["plan"].is_object()));

    // `--full` without `--json` means nothing: refused, not ignored.
    let o = run(cli(&home).args(["status", &ids[0], "--full"]));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

/// The last line of stderr as the JSON failure; stdout must be empty.
fn failure(o: &Output) -> serde_json::Value {
    assert!(
        o.stdout.is_empty(),
        "a failure prints nothing on stdout: {}",
        text(o)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    let last = err.lines().last().unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("the last line of stderr is not JSON ({e}): {}", text(o)));
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{v}"
    );
    assert!(v["error"].get("hint").is_some(), "{v}");
    v
}

#[test]
fn every_command_fails_with_a_json_error_and_its_exit_code() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("home");
    let ids = seeded_home(&home, 1, 0);
    let empty = t.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let empty = empty.display().to_string();
    let app = fixture("hello_world_shape");
    let out = t.path().join("plan").display().to_string();

    // Make the one seeded deployment destroyed, for `redeploy`.
    let destroyed = {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let db = home.join("autodeploy.db");
            let store = autodeploy_store::open(db.to_str().unwrap()).await.unwrap();
            store
                .update_deployment(
                    &ids[0],
                    autodeploy_store::DeploymentPatch {
                        status: Some(autodeploy_core::DeploymentStatus::Destroyed),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
        });
        ids[0].clone()
    };

    let cases: Vec<(Vec<&str>, &str, i32)> = vec![
        (
            vec!["analyze", "/definitely/not/here"],
            "source_not_found",
            4,
        ),
        (vec!["analyze", &empty], "nothing_to_deploy", 3),
        (
            vec!["parse", "on aws", "--llm", "martian"],
            "invalid_llm_settings",
            1,
        ),
        (
            vec!["plan", "/definitely/not/here", "on aws"],
            "source_not_found",
            4,
        ),
        (
            vec!["plan", &app, "on aws with 0 instances", "--out", &out],
            "invalid_request",
            1,
        ),
        (
            vec!["deploy", "/definitely/not/here", "run it locally", "--yes"],
            "source_not_found",
            4,
        ),
        (
            vec!["deploy", &app, "run it locally", "--target", "mars"],
            "invalid_argument",
            1,
        ),
        // stdin is not a terminal and there is no --yes.
        (
            vec!["deploy", &app, "run it locally"],
            "confirmation_required",
            1,
        ),
        (vec!["status", "dep_nope"], "not_found", 1),
        (vec!["list", "--status", "weird"], "invalid_argument", 1),
        (vec!["list", "--no-such-flag"], "usage", 2),
        (vec!["logs", "dep_nope"], "not_found", 1),
        (vec!["redeploy", "dep_nope"], "not_found", 1),
        (vec!["redeploy", &destroyed], "destroyed", 1),
        (vec!["destroy", "dep_nope", "--yes"], "not_found", 1),
        (
            vec!["status", "--database-url", "bogus://x"],
            "invalid_database_url",
            1,
        ),
    ];
    for (args, code, exit) in cases {
        let o = run(cli(&home).args(&args).arg("--json"));
        assert_eq!(o.status.code(), Some(exit), "{args:?}: {}", text(&o));
        let v = failure(&o);
        assert_eq!(v["error"]["code"], code, "{args:?}: {v}");
    }

    // A malformed request on stdin.
    let mut c = cli(&home);
    c.args(["parse", "-", "--json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"deploy \xff\xfe on aws").unwrap();
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(failure(&o)["error"]["code"], "invalid_argument");

    // Without --json the same failure stays text.
    let o = run(cli(&home).args(["status", "dep_nope"]));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.starts_with("error: no deployment"), "{err}");
    assert!(err.contains("hint: `autodeploy list"), "{err}");
}

/// `bash -c 'set -o pipefail; BIN ARGS | READER'`: the pipeline's exit code
/// and stderr.
fn piped(home: &Path, args: &str, reader: &str) -> Output {
    let bin = env!("CARGO_BIN_EXE_autodeploy");
    std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "set -o pipefail; '{bin}' {args} | {reader} >/dev/null"
        ))
        .env("AUTODEPLOY_HOME", home)
        .env_remove("AUTODEPLOY_DATABASE_URL")
        .output()
        .expect("bash runs")
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("home");
    // Far more than a pipe's 64 KiB buffer, so the writes meet the closed pipe.
    let ids = seeded_home(&home, 40, 5_000);
    for (args, reader) in [
        (format!("logs {}", ids[0]), "head -1"),
        (format!("logs {} --json", ids[0]), "head -1"),
        ("list --json --full".to_string(), "head -c 10"),
        ("list --all".to_string(), "head -1"),
        (format!("status {} --json --full", ids[0]), "head -c 10"),
    ] {
        let o = piped(&home, &args, reader);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            o.status.success() && err.is_empty(),
            "`{args} | {reader}` exit {:?}: {err}",
            o.status.code()
        );
    }
}

#[test]
fn a_cloud_deploy_asks_for_settings_nothing_gives_before_anything_runs() {
    // No emulator is needed: the check comes before the AWS preflight, so
    // an endpoint nothing listens on is never called.
    let home = tempfile::tempdir().unwrap();
    let out = run(cli(home.path())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .args([
            "deploy",
            &fixture("python_required_setting"),
            "deploy on AWS ECS",
            "--yes",
            "--json",
            "--aws-endpoint",
            "http://127.0.0.1:9",
        ]));
    assert!(!out.status.success(), "{}", text(&out));
    let d = json(&out);
    assert_eq!(d["status"], "failed", "{d:#}");
    let error = d["error"].as_str().unwrap();
    assert!(error.contains("--env REPORTS_BUCKET=…"), "{error}");
    assert!(error.contains("nothing was created"), "{error}");
    assert!(!error.contains("kept in its state"), "{error}");
    // With the value given, the same deploy goes past the check (and stops
    // at the unreachable endpoint's preflight instead).
    let home = tempfile::tempdir().unwrap();
    let out = run(cli(home.path())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_MAX_ATTEMPTS", "1")
        .args([
            "deploy",
            &fixture("python_required_setting"),
            "deploy on AWS ECS",
            "--yes",
            "--json",
            "--env",
            "REPORTS_BUCKET=reports",
            "--aws-endpoint",
            "http://127.0.0.1:9",
        ]));
    let d = json(&out);
    let error = d["error"].as_str().unwrap_or_default();
    assert!(!error.contains("REPORTS_BUCKET"), "{error}");
}
