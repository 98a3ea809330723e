//! `deploy` → `status` → `destroy` of real AWS bundles against the moto
//! emulator (test facility `--aws-endpoint`), checked through the
//! emulator's API; concurrent deploys never share a state; a deploy killed
//! mid-apply is reported interrupted and destroys cleanly.
//! Skipped (loudly) when AUTODEPLOY_TEST_MOTO is not set; CI sets it.

#[path = "../../aws/tests/fake/mod.rs"]
mod fake;
mod support;
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::*;

fn deploy(
    moto: &Moto,
    home: &std::path::Path,
    fixture_name: &str,
    request: &str,
) -> serde_json::Value {
    // The rehearsal has its own tests (vm_bundle…, a_rehearsal_…).
    let out = run(aws_env(&mut cli(home)).args([
        "deploy",
        &fixture(fixture_name),
        request,
        "--yes",
        "--json",
        "--no-rehearse",
        "--aws-endpoint",
        &moto.url,
        "--var",
        &format!("ami_id={MOTO_AMI}"),
    ]));
    assert!(out.status.success(), "{}", text(&out));
    json(&out)
}

fn destroy(moto: &Moto, home: &std::path::Path, id: &str) {
    destroy_with(moto, home, id, &[]);
}

fn destroy_with(moto: &Moto, home: &std::path::Path, id: &str, extra: &[&str]) {
    let out = run(aws_env(&mut cli(home))
        .args([
            "destroy",
            id,
            "--yes",
            "--json",
            "--aws-endpoint",
            &moto.url,
        ])
        .args(extra));
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(json(&out)["status"], "destroyed");
}

fn status(home: &std::path::Path, id: &str) -> serde_json::Value {
    let out = run(cli(home).args(["status", id, "--json"]));
    assert!(out.status.success(), "{}", text(&out));
    json(&out)
}

#[test]
fn vm_bundle_deploys_reports_outputs_and_destroys_completely() {
    let Some(moto) = moto() else { return };
    let home = tempfile::tempdir().unwrap();
    // A Procfile's web + worker on one instance, with a value and a secret
    // given at deploy time: the value is in the plan, the secret only in
    // Secrets Manager.
    let out = run(aws_env(&mut cli(home.path()))
        .env("API_TOKEN", "tok-5f3a-only-in-the-store")
        .args([
            "deploy",
            &fixture("python_procfile_web_worker"),
            "deploy this app on AWS EC2",
            "--yes",
            "--json",
            "--aws-endpoint",
            &moto.url,
            "--var",
            &format!("ami_id={MOTO_AMI}"),
            "--env",
            "GREETING=hello from --env",
            "--secret",
            "API_TOKEN",
        ]));
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        !text(&out).contains("tok-5f3a"),
        "a secret value was printed"
    );
    let d = json(&out);
    assert_eq!(d["status"], "applied", "{d:#}");
    assert_eq!(d["strategy"], "vm");
    let id = d["id"].as_str().unwrap();
    let st = status(home.path(), id);
    for key in ["instance_id", "public_ip", "url"] {
        assert!(st["outputs"][key].is_string(), "output {key}: {st:#}");
    }
    // Rehearsed on this machine first (with the --env and --secret values),
    // and nothing of the rehearsal is left.
    assert_eq!(st["outputs"]["rehearsal"]["status"], "healthy", "{st:#}");
    assert!(!home
        .path()
        .join("deployments")
        .join(format!("{id}-rehearsal"))
        .exists());
    // The plan is in the record only with --full.
    assert!(st.get("plan").is_none(), "{st:#}");
    let out = run(cli(home.path()).args(["status", id, "--json", "--full"]));
    assert!(out.status.success(), "{}", text(&out));
    let full = json(&out);
    let services = &full["plan"]["decision"]["services"];
    assert_eq!(services[1]["kind"], "worker", "{services:#}");
    assert_eq!(services[1]["hosting"], "ec2", "{services:#}");
    let env = &services[0]["env"];
    assert!(
        env.to_string().contains("hello from --env"),
        "the --env value is a literal of the service: {env}"
    );
    assert_eq!(
        moto.secret_value("user_api_token").as_deref(),
        Some("tok-5f3a-only-in-the-store"),
        "the --secret value is in Secrets Manager"
    );
    assert!(
        !st.to_string().contains("tok-5f3a"),
        "a secret value was stored in the plan"
    );
    assert!(moto
        .query("ec2", "DescribeInstances", "2016-11-15")
        .contains("<name>running</name>"));
    destroy(&moto, home.path(), id);
    let left = moto.leftovers("python-procfile-web-worker");
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn a_rehearsal_that_crashes_stops_the_deploy_before_anything_is_created() {
    let Some(moto) = moto() else { return };
    let home = tempfile::tempdir().unwrap();
    let out = run(aws_env(&mut cli(home.path())).args([
        "deploy",
        &fixture("python_crash_at_start"),
        "deploy on AWS",
        "--yes",
        "--json",
        "--aws-endpoint",
        &moto.url,
        "--var",
        &format!("ami_id={MOTO_AMI}"),
    ]));
    assert!(!out.status.success(), "{}", text(&out));
    let d = json(&out);
    assert_eq!(d["status"], "failed", "{d:#}");
    assert_eq!(d["phase"], "rehearse", "{d:#}");
    // The app's own traceback names what is missing.
    let error = d["error"].as_str().unwrap();
    assert!(error.contains("REPORTS_BUCKET"), "{error}");
    assert!(error.contains("--no-rehearse"), "{error}");
    let id = d["id"].as_str().unwrap();
    let logs = text(&run(cli(home.path()).args(["logs", id])));
    assert!(logs.contains("rehearsal: "), "{logs}");
    assert!(!logs.contains("$ terraform"), "terraform ran: {logs}");
    let left = moto.leftovers("python-crash-at-start");
    assert!(left.is_empty(), "created in the cloud: {left:?}");
    // Nothing of the rehearsal runs on.
    assert!(processes_under(home.path()).is_empty());
    assert!(!home
        .path()
        .join("deployments")
        .join(format!("{id}-rehearsal"))
        .exists());
}

#[test]
fn autoscaling_bundle_deploys_and_destroys_completely() {
    let Some(moto) = moto() else { return };
    let home = tempfile::tempdir().unwrap();
    let d = deploy(
        &moto,
        home.path(),
        "hello_world_shape",
        "deploy on AWS on EC2 VMs, 2-4 instances with autoscaling",
    );
    assert_eq!(d["status"], "applied", "{d:#}");
    let id = d["id"].as_str().unwrap();
    let st = status(home.path(), id);
    assert!(
        st["outputs"]["autoscaling_group_name"].is_string(),
        "{st:#}"
    );
    assert!(
        st["outputs"]["load_balancer_dns_name"].is_string(),
        "{st:#}"
    );
    assert!(moto
        .query("autoscaling", "DescribeAutoScalingGroups", "2011-01-01")
        .contains("<AutoScalingGroupName>"));
    destroy(&moto, home.path(), id);
    let left = moto.leftovers("hello-world-shape");
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn container_bundle_with_database_deploys_releases_and_destroys_completely() {
    let Some(moto) = moto() else { return };
    let home = tempfile::tempdir().unwrap();
    let d = deploy(
        &moto,
        home.path(),
        "python_django_postgres",
        "deploy this Django app on AWS with Postgres",
    );
    assert_eq!(d["status"], "applied", "{d:#}");
    assert_eq!(d["strategy"], "container");
    let id = d["id"].as_str().unwrap();
    let st = status(home.path(), id);
    for key in [
        "source_bucket",
        "codebuild_project_name",
        "ecs_cluster_name",
        "database_endpoint",
    ] {
        assert!(!st["outputs"][key].is_null(), "output {key}: {st:#}");
    }
    let logs = run(cli(home.path()).args(["logs", id]));
    let logs = String::from_utf8_lossy(&logs.stdout).to_string();
    assert!(logs.contains("[release]"), "the release phase ran: {logs}");
    // The release step (migrate) ran once as a one-off task, before the
    // service rolled onto its new task definition.
    let started = logs
        .find("release step of python-django-postgres: started one-off task arn:aws:ecs:")
        .unwrap_or_else(|| panic!("no release task in: {logs}"));
    let rolled = logs
        .find("new deployment")
        .unwrap_or_else(|| panic!("no rollout in: {logs}"));
    assert!(started < rolled, "{logs}");
    assert_eq!(logs.matches("started one-off task").count(), 1, "{logs}");
    assert!(moto
        .query("rds", "DescribeDBInstances", "2014-10-31")
        .contains("<DBInstanceIdentifier>"));
    // Production: the database is protected; destroy refuses before deleting anything.
    let refused = run(aws_env(&mut cli(home.path())).args([
        "destroy",
        id,
        "--yes",
        "--aws-endpoint",
        &moto.url,
    ]));
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(text(&refused).contains("--force"), "{}", text(&refused));
    let still = moto.leftovers("python-django-postgres");
    assert!(
        still.contains(&"an RDS instance".to_string())
            && still.contains(&"a load balancer".to_string()),
        "a refused destroy deletes nothing: {still:?}"
    );
    if let Some(bucket) = st["outputs"]["source_bucket"].as_str() {
        moto.empty_versioned_bucket(bucket);
    }
    destroy_with(&moto, home.path(), id, &["--force"]);
    let left = moto.leftovers("python-django-postgres");
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// A static site: S3 + CloudFront applied, the site built on this machine
/// by the local runner (copied, here without a build step) and uploaded,
/// the distribution invalidated; destroy leaves nothing.
#[test]
fn static_site_deploys_uploads_its_files_and_destroys_completely() {
    let Some(moto) = moto() else { return };
    let home = tempfile::tempdir().unwrap();
    let d = deploy(
        &moto,
        home.path(),
        "static_html_site",
        "deploy this static site on AWS",
    );
    assert_eq!(d["status"], "applied", "{d:#}");
    assert_eq!(d["strategy"], "static");
    let id = d["id"].as_str().unwrap();
    let st = status(home.path(), id);
    let bucket = st["outputs"]["bucket_name"]
        .as_str()
        .unwrap_or_else(|| panic!("no bucket_name: {st:#}"))
        .to_string();
    let logs = run(cli(home.path()).args(["logs", id]));
    let logs = String::from_utf8_lossy(&logs.stdout).to_string();
    assert!(logs.contains("building the site on this machine"), "{logs}");
    assert!(logs.contains("invalidation"), "{logs}");
    let listing = moto.s3_get(&bucket);
    for key in [
        "<Key>index.html</Key>",
        "<Key>about.html</Key>",
        "<Key>css/",
    ] {
        assert!(listing.contains(key), "{key} not uploaded: {listing}");
    }
    // Nothing of the build stays on this machine.
    let site_build = home.path().join("deployments").join(format!("{id}-site"));
    assert!(!site_build.exists(), "{}", site_build.display());
    moto.empty_versioned_bucket(&bucket);
    destroy(&moto, home.path(), id);
    let listing = moto.s3_get("");
    assert!(!listing.contains(&bucket), "bucket left: {listing}");
}

/// Dogfood: this repository, planned and applied like any other app from
/// the sentence an operator would write. The analysis reads deploy/compose.yaml
/// (the API and the workers run the binary of crates/cli, built by
/// deploy/Dockerfile, which carries Terraform and git); the task definitions
/// must run `autodeploy serve` / `autodeploy worker` with the provisioned
/// PostgreSQL in AUTODEPLOY_DATABASE_URL and one shared AUTODEPLOY_SECRETS_KEY,
/// and the load balancer must ask the API's /healthz. One apply; the destroy
/// of this stack's shape (ECS + ALB + protected RDS) is proven by
/// `container_bundle_with_database_deploys_releases_and_destroys_completely`.
#[test]
fn this_repository_deploys_as_the_api_and_its_workers_on_ecs() {
    let Some(moto) = moto() else { return };
    let home = tempfile::tempdir().unwrap();
    let key = "5e".repeat(32);
    let root = repo_root().canonicalize().unwrap();
    let out = run(aws_env(&mut cli(home.path()))
        .env("AUTODEPLOY_SECRETS_KEY", &key)
        .args([
            "deploy",
            &root.display().to_string(),
            "the API and its workers on AWS ECS with Postgres",
            "--yes",
            "--json",
            // The rehearsal would build the whole workspace on this machine.
            "--no-rehearse",
            "--aws-endpoint",
            &moto.url,
            "--secret",
            "AUTODEPLOY_SECRETS_KEY",
        ]));
    assert!(out.status.success(), "{}", text(&out));
    let d = json(&out);
    assert_eq!(d["status"], "applied", "{d:#}");
    assert_eq!(d["strategy"], "container");
    let id = d["id"].as_str().unwrap();

    // The plan as an operator reads it.
    let full = json(&run(
        cli(home.path()).args(["status", id, "--json", "--full"])
    ));
    let services = full["plan"]["decision"]["services"]
        .as_array()
        .unwrap()
        .clone();
    let by_name = |n: &str| {
        services
            .iter()
            .find(|s| s["name"] == n)
            .unwrap_or_else(|| panic!("no service {n}: {services:#?}"))
            .clone()
    };
    assert_eq!(
        services.len(),
        2,
        "the API and the workers, nothing else: {services:#?}"
    );
    let (api, worker) = (by_name("api"), by_name("worker"));
    assert_eq!(api["kind"], "web");
    assert_eq!(api["port"], 8080);
    assert_eq!(worker["kind"], "worker");
    for s in [&api, &worker] {
        assert_eq!(
            s["image"], "repository",
            "built by deploy/Dockerfile: {s:#}"
        );
    }
    assert_eq!(api["health_check"]["path"], "/healthz", "{api:#}");

    // What ECS runs.
    let ecs = |action: &str, body: serde_json::Value| {
        moto.json_call(
            "ecs",
            &format!("AmazonEC2ContainerServiceV20141113.{action}"),
            body,
        )
    };
    let task = |name: &str| {
        let arn = d["outputs"]["ecs_task_definitions"][name].as_str().unwrap();
        let t = ecs(
            "DescribeTaskDefinition",
            serde_json::json!({ "taskDefinition": arn }),
        );
        t["taskDefinition"]["containerDefinitions"][0].clone()
    };
    for (name, runs) in [
        (
            "api",
            "exec autodeploy serve --listen 0.0.0.0:8080 --workers 0",
        ),
        ("worker", "exec autodeploy worker"),
    ] {
        let c = task(name);
        let script = c["command"][0].as_str().unwrap_or_default();
        assert!(script.contains(runs), "{name} runs {script}");
        // The store is the provisioned PostgreSQL, in the variable the binary reads.
        assert!(
            script.contains("export AUTODEPLOY_DATABASE_URL=\"postgresql://")
                && script.contains("@$AUTODEPLOY_DB_HOST:$AUTODEPLOY_DB_PORT/$AUTODEPLOY_DB_NAME"),
            "{name}: {script}"
        );
        let env = c["environment"].to_string();
        assert!(env.contains("rds.amazonaws.com"), "{name}: {env}");
        let secrets: Vec<&str> = c["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["name"].as_str())
            .collect();
        assert!(
            secrets.contains(&"AUTODEPLOY_DB_PASSWORD")
                && secrets.contains(&"AUTODEPLOY_SECRETS_KEY"),
            "{name}: {secrets:?}"
        );
    }
    assert_eq!(task("api")["portMappings"][0]["containerPort"], 8080);
    // One key for every process, the one given at deploy time.
    assert_eq!(
        moto.secret_value("autodeploy_secrets_key").as_deref(),
        Some(key.as_str())
    );
    let cluster = d["outputs"]["ecs_cluster_name"].as_str().unwrap();
    let listed = ecs("ListServices", serde_json::json!({ "cluster": cluster })).to_string();
    assert!(
        listed.contains("/api") && listed.contains("/worker"),
        "{listed}"
    );
    let groups = moto.query("elasticloadbalancing", "DescribeTargetGroups", "2015-12-01");
    assert!(
        groups.contains("<HealthCheckPath>/healthz</HealthCheckPath>"),
        "{groups}"
    );
    assert!(groups.contains("<Port>8080</Port>"), "{groups}");
}

#[test]
fn ten_concurrent_deploys_have_no_state_lock_errors() {
    let Some(moto) = moto() else { return };
    let home = tempfile::tempdir().unwrap();
    let children: Vec<_> = (0..10)
        .map(|_| {
            aws_env(&mut cli(home.path()))
                .args([
                    "deploy",
                    &fixture("python_stdlib_http_server"),
                    "deploy on AWS",
                    "--yes",
                    "--no-rehearse",
                    // Ten of one source on purpose.
                    "--another",
                    "--json",
                    "--aws-endpoint",
                    &moto.url,
                    "--var",
                    &format!("ami_id={MOTO_AMI}"),
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut ids = Vec::new();
    for c in children {
        let out = c.wait_with_output().unwrap();
        let all = text(&out);
        // The error first: a CI log keeps the head of a long message.
        let error = serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .ok()
            .and_then(|d| d["error"].as_str().map(str::to_string))
            .unwrap_or_default();
        assert!(
            !all.to_lowercase().contains("state lock"),
            "error: {error}\n{all}"
        );
        assert!(out.status.success(), "error: {error}\n{all}");
        let d = json(&out);
        assert_eq!(d["status"], "applied", "{d:#}");
        ids.push(d["id"].as_str().unwrap().to_string());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 10, "ten deployments, ten ids");
    let destroys: Vec<_> = ids
        .iter()
        .map(|id| {
            aws_env(&mut cli(home.path()))
                .args(["destroy", id, "--yes", "--aws-endpoint", &moto.url])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in destroys {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
        assert!(
            !text(&out).to_lowercase().contains("state lock"),
            "{}",
            text(&out)
        );
    }
    let left = moto.leftovers("python-stdlib-http-server");
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn deploy_killed_mid_apply_is_interrupted_and_destroys_cleanly() {
    let Some(moto) = moto() else { return };
    let home = tempfile::tempdir().unwrap();
    let mut child = aws_env(&mut cli(home.path()))
        .args([
            "deploy",
            &fixture("hello_world_shape"),
            "deploy on AWS",
            "--yes",
            "--no-rehearse",
            "--aws-endpoint",
            &moto.url,
            "--var",
            &format!("ami_id={MOTO_AMI}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the deployment is in terraform apply, then SIGKILL it.
    let deadline = Instant::now() + Duration::from_secs(240);
    let id = loop {
        assert!(Instant::now() < deadline, "never reached terraform apply");
        let list = json(&run(cli(home.path()).args(["list", "--json", "--all"])));
        if let Some(d) = list.as_array().and_then(|a| a.first()) {
            if d["phase"] == "terraform_apply" {
                break d["id"].as_str().unwrap().to_string();
            }
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    std::thread::sleep(Duration::from_secs(3));
    // SAFETY: sending SIGKILL to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = child.wait();

    let st = status(home.path(), &id);
    assert_eq!(st["status"], "interrupted", "{st:#}");
    assert!(
        st["error"].as_str().unwrap().contains("autodeploy destroy"),
        "{st:#}"
    );
    // Terraform got SIGTERM with its runner, saves its state and stops; a
    // provider plugin it leaves is stopped by the next look at the
    // deployment, so no provider runs on.
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let left = processes_under(home.path());
        if left.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "still running: {left:?}");
        assert_eq!(status(home.path(), &id)["status"], "interrupted");
        std::thread::sleep(Duration::from_millis(500));
    }

    destroy(&moto, home.path(), &id);
    let left = moto.leftovers("hello-world-shape");
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// Processes (terraform, its providers) whose working folder is under `dir`.
fn processes_under(dir: &std::path::Path) -> Vec<String> {
    let dir = dir.canonicalize().unwrap();
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        if !e
            .file_name()
            .to_string_lossy()
            .bytes()
            .all(|b| b.is_ascii_digit())
        {
            continue;
        }
        let Ok(cwd) = std::fs::read_link(e.path().join("cwd")) else {
            continue;
        };
        if cwd.starts_with(&dir) {
            let cmd = std::fs::read_to_string(e.path().join("cmdline")).unwrap_or_default();
            out.push(cmd.replace('\0', " "));
        }
    }
    out
}

/// Wait (bounded) until nothing runs in the home any more.
fn wait_no_processes(home: &std::path::Path, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let left = processes_under(home);
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "still running after {within:?}: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn ctrl_c_mid_apply_stops_cleanly_and_says_what_was_kept() {
    let Some(moto) = moto() else { return };
    let home = tempfile::tempdir().unwrap();
    let child = aws_env(&mut cli(home.path()))
        .args([
            "deploy",
            &fixture("hello_world_shape"),
            "deploy on AWS",
            "--yes",
            "--no-rehearse",
            "--aws-endpoint",
            &moto.url,
            "--var",
            &format!("ami_id={MOTO_AMI}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(240);
    let id = loop {
        assert!(Instant::now() < deadline, "never reached terraform apply");
        let list = json(&run(cli(home.path()).args(["list", "--json", "--all"])));
        if let Some(d) = list.as_array().and_then(|a| a.first()) {
            if d["phase"] == "terraform_apply" {
                break d["id"].as_str().unwrap().to_string();
            }
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    // SAFETY: sending SIGINT (Ctrl-C) to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("stopping"), "{stderr}");
    let st = status(home.path(), &id);
    assert_eq!(st["status"], "cancelled", "{st:#}");
    let error = st["error"].as_str().unwrap();
    assert!(
        error.contains("kept") && error.contains("autodeploy destroy"),
        "{st:#}"
    );
    // Terraform saved its state and stopped; nothing of it runs on.
    wait_no_processes(home.path(), Duration::from_secs(60));
    destroy(&moto, home.path(), &id);
    let left = moto.leftovers("hello-world-shape");
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// No credentials anywhere: the deploy stops at the AWS preflight, before
/// Terraform runs and before anything is created, and says what to do. Needs
/// no emulator: the chain fails before any call is made.
#[test]
fn no_credentials_stop_before_anything_is_created() {
    let home = tempfile::tempdir().unwrap();
    let user_home = tempfile::tempdir().unwrap();
    let mut c = cli(home.path());
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("AWS_") {
            c.env_remove(&k);
        }
    }
    let out = run(c
        .env("HOME", user_home.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_PROFILE", "team")
        .args([
            "deploy",
            &fixture("hello_world_shape"),
            "deploy this Flask app on AWS",
            "--yes",
            "--json",
            // Nothing listens here: a call would fail differently.
            "--aws-endpoint",
            "http://127.0.0.1:9",
            "--var",
            &format!("ami_id={MOTO_AMI}"),
        ]));
    let all = text(&out);
    assert!(!out.status.success(), "{all}");
    assert!(all.contains("stopped before anything was created"), "{all}");
    assert!(all.contains("no AWS credentials found"), "{all}");
    assert!(all.contains("aws sso login --profile team"), "{all}");
    // Terraform never ran: no state, no working directory of its own.
    let deployments = home.path().join("deployments");
    let states: Vec<_> = walk(&deployments)
        .into_iter()
        .filter(|p| {
            let n = p.file_name().unwrap_or_default().to_string_lossy();
            n == "terraform.tfstate" || n == ".terraform"
        })
        .collect();
    assert!(states.is_empty(), "{states:?}\n{all}");
}

#[test]
fn permissions_iam_denies_stop_before_anything_is_created() {
    // A local AWS that knows the caller and whose policy simulator denies
    // creating the database: the deploy stops at the preflight with the
    // action named, before the rehearsal and before terraform.
    let aws = fake::Fake::start(|req| {
        let form = req.form();
        match form.get("Action").map(String::as_str) {
            Some("GetCallerIdentity") => fake::Answer::xml(
                200,
                "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:sts::123456789012:assumed-role/Deploy/ci</Arn><UserId>AROA:ci</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>",
            ),
            Some("SimulatePrincipalPolicy") => fake::simulation(req, &["rds:CreateDBInstance"]),
            _ => fake::Answer::xml(500, "<Error><Code>Unexpected</Code></Error>"),
        }
    });
    let home = tempfile::tempdir().unwrap();
    let out = run(aws_env(&mut cli(home.path())).args([
        "deploy",
        &fixture("python_django_postgres"),
        "deploy on AWS with postgres",
        "--yes",
        "--json",
        "--aws-endpoint",
        &aws.url,
    ]));
    assert!(!out.status.success(), "{}", text(&out));
    let d = json(&out);
    let error = d["error"].as_str().unwrap();
    assert!(
        error.contains("stopped before anything was created"),
        "{error}"
    );
    assert!(error.contains("rds:CreateDBInstance"), "{error}");
    assert!(
        error.contains("arn:aws:iam::123456789012:role/Deploy"),
        "{error}"
    );
    // Asked about the bundle's actions for the role, then nothing else.
    let asked: Vec<String> = aws
        .requests()
        .iter()
        .filter_map(|r| r.form().get("Action").cloned())
        .collect();
    assert_eq!(asked, ["GetCallerIdentity", "SimulatePrincipalPolicy"]);
    let logs = text(&run(
        cli(home.path()).args(["logs", d["id"].as_str().unwrap()])
    ));
    assert!(
        !logs.contains("rehearsal: ") && !logs.contains("$ terraform"),
        "{logs}"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            out.push(p.clone());
            if p.is_dir() {
                out.extend(walk(&p));
            }
        }
    }
    out
}
