//! What `deploy/` gives an operator agrees with the binary it runs: every
//! service `deploy/compose.yaml` is documented with exists; the API and the
//! workers run real subcommands with real flags and set only variables those
//! flags read (asked of `autodeploy serve --help` / `worker --help`, so a
//! renamed flag fails here); they are built by deploy/Dockerfile; Prometheus
//! mounts the shipped alert rules and scrapes the ports the processes serve
//! metrics on; the Kubernetes manifests run the same commands, read the same
//! variables from one Secret and probe routes the API has.
//! (hadolint on deploy/Dockerfile: crates/render/tests/docker.rs;
//! kubernetes-validate on deploy/k8s: crates/render/tests/k8s.rs; promtool on
//! deploy/prometheus: crates/server/tests/prometheus.rs.)

mod support;

use serde_yaml::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use support::*;

/// Read from the environment only, never a flag (README, "Configuration").
const ENV_ONLY: &[&str] = &["AUTODEPLOY_SECRETS_KEY"];

fn deploy_dir() -> PathBuf {
    repo_root().join("deploy")
}

fn yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn yaml_docs(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .filter(|v: &Value| !v.is_null())
        .collect()
}

/// The long flags and `AUTODEPLOY_*` variables of one subcommand, from its help.
struct Flags {
    flags: BTreeSet<String>,
    env: BTreeSet<String>,
}

fn flags_of(subcommand: &str) -> Flags {
    let home = tempfile::tempdir().unwrap();
    let out = run(cli(home.path())
        .args([subcommand, "--help"])
        .env("COLUMNS", "1000"));
    assert!(out.status.success(), "{}", text(&out));
    let help = String::from_utf8_lossy(&out.stdout).to_string();
    let flag = regex::Regex::new(r"(?m)^\s+(?:-\w, )?--([a-z0-9-]+)").unwrap();
    let env = regex::Regex::new(r"\[env:\s+([A-Z0-9_]+)").unwrap();
    let f = Flags {
        flags: flag
            .captures_iter(&help)
            .map(|c| c[1].to_string())
            .collect(),
        env: env.captures_iter(&help).map(|c| c[1].to_string()).collect(),
    };
    assert!(
        f.flags.contains("database-url") && f.env.contains("AUTODEPLOY_DATABASE_URL"),
        "{help}"
    );
    f
}

fn strings(v: &Value) -> Vec<String> {
    v.as_sequence()
        .unwrap_or_else(|| panic!("not a list: {v:?}"))
        .iter()
        .map(|s| s.as_str().expect("a string").to_string())
        .collect()
}

/// A command runs `autodeploy SUBCOMMAND` with flags the subcommand has;
/// returns the value of each `--flag VALUE`.
fn check_command(what: &str, cmd: &[String], subcommand: &str, f: &Flags) -> Vec<(String, String)> {
    assert_eq!(
        cmd.get(..2),
        Some(&["autodeploy".to_string(), subcommand.to_string()][..]),
        "{what}: {cmd:?}"
    );
    let mut values = Vec::new();
    let mut i = 2;
    while i < cmd.len() {
        let name = cmd[i]
            .strip_prefix("--")
            .unwrap_or_else(|| panic!("{what}: {:?} is not a flag", cmd[i]));
        assert!(
            f.flags.contains(name),
            "{what}: `autodeploy {subcommand}` has no --{name}"
        );
        if let Some(v) = cmd.get(i + 1).filter(|v| !v.starts_with("--")) {
            values.push((name.to_string(), v.clone()));
            i += 1;
        }
        i += 1;
    }
    values
}

fn check_env(what: &str, names: impl IntoIterator<Item = String>, f: &Flags) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for name in names {
        if name.starts_with("AUTODEPLOY_") {
            assert!(
                f.env.contains(&name) || ENV_ONLY.contains(&name.as_str()),
                "{what}: {name} is read by no flag of this subcommand"
            );
        }
        seen.insert(name);
    }
    for needed in ["AUTODEPLOY_DATABASE_URL", "AUTODEPLOY_SECRETS_KEY"] {
        assert!(seen.contains(needed), "{what}: sets no {needed}: {seen:?}");
    }
    seen
}

fn port_of(addr: &str) -> u16 {
    addr.rsplit(':').next().unwrap().parse().unwrap()
}

fn flag_value<'a>(values: &'a [(String, String)], name: &str) -> &'a str {
    values
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no --{name} in {values:?}"))
}

/// The API's routes, as its OpenAPI document lists them.
fn api_routes() -> BTreeSet<String> {
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("crates/server/src/openapi.json")).unwrap(),
    )
    .unwrap();
    doc["paths"].as_object().unwrap().keys().cloned().collect()
}

#[test]
fn the_compose_file_runs_the_real_commands_and_loads_the_alert_rules() {
    let (serve, worker) = (flags_of("serve"), flags_of("worker"));
    let compose = yaml(&deploy_dir().join("compose.yaml"));
    let services = compose["services"].as_mapping().expect("services");
    let names: BTreeSet<&str> = services.keys().filter_map(Value::as_str).collect();
    assert_eq!(
        names,
        BTreeSet::from(["postgres", "api", "worker", "prometheus"]),
        "the services README and compose.yaml's header name"
    );
    let svc = |n: &str| &compose["services"][n];

    // PostgreSQL is the store, and the API waits for it.
    assert!(svc("postgres")["image"]
        .as_str()
        .unwrap()
        .starts_with("postgres:"));
    // One image, built from the repository root by deploy/Dockerfile.
    let build = &svc("api")["build"];
    assert_eq!(build["context"].as_str(), Some(".."));
    assert_eq!(build["dockerfile"].as_str(), Some("deploy/Dockerfile"));
    assert!(repo_root().join("deploy/Dockerfile").is_file());
    let image = svc("api")["image"].as_str().unwrap();
    assert_eq!(
        svc("worker")["image"].as_str(),
        Some(image),
        "workers run the API's image"
    );

    let api_flags = check_command("api", &strings(&svc("api")["command"]), "serve", &serve);
    assert_eq!(flag_value(&api_flags, "workers"), "0", "workers run apart");
    let api_port = port_of(flag_value(&api_flags, "listen"));
    let api_metrics = port_of(flag_value(&api_flags, "metrics-listen"));
    let worker_flags = check_command(
        "worker",
        &strings(&svc("worker")["command"]),
        "worker",
        &worker,
    );
    let worker_metrics = port_of(flag_value(&worker_flags, "metrics-listen"));
    let env_names = |n: &str| -> Vec<String> {
        svc(n)["environment"]
            .as_mapping()
            .unwrap()
            .keys()
            .map(|k| k.as_str().unwrap().to_string())
            .collect()
    };
    check_env("api", env_names("api"), &serve);
    check_env("worker", env_names("worker"), &worker);
    // The database URL names the compose service of PostgreSQL.
    for n in ["api", "worker"] {
        let url = svc(n)["environment"]["AUTODEPLOY_DATABASE_URL"]
            .as_str()
            .unwrap();
        assert!(
            url.starts_with("postgres://") && url.contains("@postgres:5432/"),
            "{url}"
        );
    }
    assert!(
        svc("api")["ports"]
            .as_sequence()
            .unwrap()
            .iter()
            .any(|p| p.as_str() == Some(&format!("{api_port}:{api_port}"))),
        "the API's --listen port is published"
    );
    // N workers.
    assert!(svc("worker")["deploy"]["replicas"].as_u64().unwrap() >= 2);
    // Health checks ask routes that exist, on the ports that serve them.
    let routes = api_routes();
    let api_check = strings(&svc("api")["healthcheck"]["test"]).join(" ");
    assert!(
        api_check.contains(&format!("127.0.0.1:{api_port}/healthz")),
        "{api_check}"
    );
    assert!(
        routes.contains("/healthz") && routes.contains("/metrics"),
        "{routes:?}"
    );
    let worker_check = strings(&svc("worker")["healthcheck"]["test"]).join(" ");
    assert!(
        worker_check.contains(&format!("127.0.0.1:{worker_metrics}/metrics")),
        "{worker_check}"
    );

    // Prometheus loads the shipped rules and scrapes both kinds of process.
    let mounts = strings(&svc("prometheus")["volumes"]);
    let mounted = |file: &str| {
        mounts
            .iter()
            .find(|m| m.starts_with(&format!("./prometheus/{file}:")))
            .unwrap_or_else(|| panic!("prometheus does not mount {file}: {mounts:?}"))
            .clone()
    };
    let alerts = mounted("alerts.yml");
    let config = mounted("prometheus.yml");
    assert!(deploy_dir().join("prometheus/alerts.yml").is_file());
    let in_container = |m: &str| m.split(':').nth(1).unwrap().to_string();
    let prom = yaml(&deploy_dir().join("prometheus/prometheus.yml"));
    let rules = strings(&prom["rule_files"]);
    // rule_files are relative to the config file: both land in one folder.
    let config_dir = Path::new(&in_container(&config))
        .parent()
        .unwrap()
        .to_path_buf();
    assert!(
        rules
            .iter()
            .any(|r| config_dir.join(r) == Path::new(&in_container(&alerts))),
        "rule_files {rules:?} do not name the mounted {alerts}"
    );
    let command = strings(&svc("prometheus")["command"]).join(" ");
    assert!(
        command.contains(&format!("--config.file={}", in_container(&config))),
        "{command}"
    );
    let scrape = serde_yaml::to_string(&prom["scrape_configs"]).unwrap();
    assert!(scrape.contains(&format!("api:{api_metrics}")), "{scrape}");
    let worker_sd = prom["scrape_configs"]
        .as_sequence()
        .unwrap()
        .iter()
        .find_map(|j| j["dns_sd_configs"].as_sequence()?.first().cloned())
        .expect("workers found by DNS (one record per replica)");
    assert_eq!(strings(&worker_sd["names"]), ["worker"]);
    assert_eq!(worker_sd["port"].as_u64(), Some(worker_metrics as u64));
}

#[test]
fn the_kubernetes_manifests_run_the_real_commands_with_one_secret() {
    let (serve, worker) = (flags_of("serve"), flags_of("worker"));
    let k8s = deploy_dir().join("k8s");
    let kustomization = yaml(&k8s.join("kustomization.yaml"));
    let mut deployments = Vec::new();
    for file in strings(&kustomization["resources"]) {
        for doc in yaml_docs(&k8s.join(&file)) {
            if doc["kind"].as_str() == Some("Deployment") {
                deployments.push(doc);
            }
        }
    }
    let routes = api_routes();
    let mut seen = BTreeSet::new();
    for d in &deployments {
        let name = d["metadata"]["name"].as_str().unwrap();
        let pod = &d["spec"]["template"]["spec"];
        assert_eq!(
            pod["securityContext"]["runAsNonRoot"].as_bool(),
            Some(true),
            "{name}"
        );
        assert_eq!(
            pod["securityContext"]["runAsUser"].as_u64(),
            Some(10001),
            "{name}: the image's user"
        );
        let c = &pod["containers"][0];
        assert_eq!(
            c["image"].as_str(),
            Some("autodeploy"),
            "{name}: kustomize sets the image"
        );
        let cmd = strings(&c["command"]);
        let (sub, f) = match cmd.get(1).map(String::as_str) {
            Some("serve") => ("serve", &serve),
            Some("worker") => ("worker", &worker),
            other => panic!("{name}: runs {other:?}"),
        };
        seen.insert(sub);
        let values = check_command(name, &cmd, sub, f);
        let env = c["env"].as_sequence().unwrap();
        check_env(
            name,
            env.iter().map(|e| e["name"].as_str().unwrap().to_string()),
            f,
        );
        for e in env {
            if let Some(secret) = e["valueFrom"]["secretKeyRef"].as_mapping() {
                assert_eq!(
                    secret.get("name").and_then(Value::as_str),
                    Some("autodeploy"),
                    "{name}"
                );
            }
        }
        // Probes ask routes that exist, on ports the command listens on.
        let ports: Vec<(String, u64)> = c["ports"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap().to_string(),
                    p["containerPort"].as_u64().unwrap(),
                )
            })
            .collect();
        let listening: Vec<u64> = values
            .iter()
            .filter(|(n, _)| n == "listen" || n == "metrics-listen")
            .map(|(_, v)| port_of(v) as u64)
            .collect();
        for (_, p) in &ports {
            assert!(
                listening.contains(p),
                "{name}: port {p} is not one the command listens on {listening:?}"
            );
        }
        let mut probes = 0;
        for probe in ["startupProbe", "livenessProbe", "readinessProbe"] {
            let Some(get) = c[probe]["httpGet"].as_mapping() else {
                continue;
            };
            probes += 1;
            let path = get.get("path").and_then(Value::as_str).unwrap();
            assert!(
                routes.contains(path),
                "{name}: {probe} asks {path}, not a route of the API"
            );
            let port = get.get("port").and_then(Value::as_str).unwrap();
            assert!(
                ports.iter().any(|(n, _)| n == port),
                "{name}: {probe} port {port}"
            );
        }
        assert!(probes >= 1, "{name}: no probe");
        assert!(
            c["resources"]["limits"]["memory"].is_string(),
            "{name}: no memory limit"
        );
        assert_eq!(
            c["securityContext"]["allowPrivilegeEscalation"].as_bool(),
            Some(false)
        );
    }
    assert_eq!(seen, BTreeSet::from(["serve", "worker"]));
}

#[test]
fn the_image_runs_the_api_by_default_with_real_flags() {
    let serve = flags_of("serve");
    let text = std::fs::read_to_string(deploy_dir().join("Dockerfile")).unwrap();
    let cmd = text
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("CMD "))
        .expect("a CMD");
    let cmd: Vec<String> = serde_json::from_str(cmd).expect("CMD in exec form");
    let values = check_command("Dockerfile CMD", &cmd, "serve", &serve);
    let port = port_of(flag_value(&values, "listen"));
    assert!(
        text.contains(&format!("EXPOSE {port}")),
        "the --listen port is exposed"
    );
    assert!(
        text.contains(&format!("http://127.0.0.1:{port}/healthz")),
        "the HEALTHCHECK asks /healthz on the --listen port"
    );
}
