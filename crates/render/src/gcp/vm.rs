//! The GCP vm strategy: one Compute Engine instance with a static external IP
//! and nginx in front (`Hosting::ComputeEngine`), or a regional managed
//! instance group with an autoscaler and autohealing behind the global
//! external Application Load Balancer (`Hosting::ComputeEngineMig`, lb.rs).
//! Writes `terraform/compute.tf`, `terraform/outputs.tf` and the bundle's
//! `cloud-init.yaml` (runtime, code at the analysed commit, source fixes,
//! install/build/release, one systemd unit per process, nginx, health wait;
//! certbot for a single VM with https on a domain).
//!
//! A machine runs the web service and the workers beside it from the same
//! folder and runtime (`vm_service::machine`): one install, the release step
//! once before any process starts, `app.service` behind nginx and the
//! instance group's health check, `app-<name>.service` per worker with its
//! own command and settings. In a managed instance group every instance runs
//! every worker (queue workers are safe N times; a scheduler such as Celery
//! beat is refused on a group).
//!
//! Machines: Ubuntu 24.04 LTS, Shielded VM (secure boot, vTPM, integrity
//! monitoring), OS Login with project SSH keys blocked, SSH only through IAP
//! (network.rs), their own service account with only log/metric writing and
//! read access to the secrets their env names. Group members have no public
//! address (Cloud NAT for outbound).
//!
//! cloud-init reuses the cloud-neutral templates of the AWS vm strategy
//! (`cloud-init/install-runtime.sh`, `app.service` per process, `nginx.conf`); the
//! launcher is GCP's own (`gcp/vm/launch.py`: metadata server, Secret
//! Manager, database/cache URLs assembled at start). Repository values reach
//! it only as one YAML-quoted JSON document (`/etc/autodeploy/app.json`) or
//! YAML-quoted, shell-quoted words; Terraform reads the file with `file()`,
//! so nothing in it is interpolated. Values only Terraform knows (inputs,
//! addresses, secret names — never secret values) are instance metadata
//! `autodeploy-*` keys the launcher reads.
//!
//! Not covered (`unsupported`): several web services, workers from another
//! folder or runtime, a scheduler on a group, static or Dockerfile-only
//! services, another service's URL. Not here: the network
//! and firewall (network.rs), data stores (data.rs), domains (dns.rs).

use super::{Part, Var};
use crate::aws::data::tf_ident;
use crate::escape::hcl;
use crate::vm_service::{machine as vm_machine, vm_service, Hints, Host, Machine};
use crate::{file, render_template, unsupported, BundleFile, RenderError};
use autodeploy_core::{Decision, DeploymentOutput, EnvValue, Hosting, ServicePlan};
use serde_json::{json, Value};

/// What the machines run: the web service and its workers, checked.
fn machine(d: &Decision) -> Result<Machine<'_>, RenderError> {
    vm_machine(
        d,
        &Host {
            accepts: |h| matches!(h, Hosting::ComputeEngine | Hosting::ComputeEngineMig),
            runs: "the GCP vm strategy runs Compute Engine instances",
            several:
                "ask for Kubernetes (\"on GKE\"); Cloud Run takes one web service with its workers",
            scaled: |s| s.hosting == Hosting::ComputeEngineMig,
        },
    )
}

fn machine_type(d: &Decision, s: &ServicePlan) -> Result<String, RenderError> {
    let t = s
        .compute
        .as_ref()
        .and_then(|c| c.instance_type.clone())
        .unwrap_or_else(|| "e2-small".into());
    if t.is_empty() || !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(unsupported(
            d,
            &format!("the machine type {t:?}"),
            "a Compute Engine machine type such as e2-small",
        ));
    }
    Ok(t)
}

/// The Ubuntu image family for the machine type (Arm for T2A / C4A / N4A).
fn image(machine_type: &str) -> &'static str {
    let family = machine_type.split('-').next().unwrap_or_default();
    if matches!(family, "t2a" | "c4a" | "n4a") {
        "ubuntu-os-cloud/ubuntu-2404-lts-arm64"
    } else {
        "ubuntu-os-cloud/ubuntu-2404-lts-amd64"
    }
}

/// One `autodeploy-*` metadata entry: key and HCL expression.
fn meta(key: String, value: String) -> Value {
    json!({"key": key, "value": value})
}

/// Secret slots the processes read (Terraform labels), the metadata they
/// need, and each process's launcher env entries (web service first).
struct Wiring {
    env: Vec<Vec<Value>>,
    metadata: Vec<Value>,
    secrets: Vec<String>,
}

fn wiring(d: &Decision, m: &Machine, scaled: bool) -> Result<Wiring, RenderError> {
    let mut w = Wiring {
        env: vec![],
        metadata: vec![],
        secrets: vec![],
    };
    let add_secret = |w: &mut Wiring, name: &str| -> String {
        let ident = tf_ident(name);
        let key = format!("autodeploy-secret-{}", ident.replace('_', "-"));
        if !w.secrets.contains(&ident) {
            w.secrets.push(ident.clone());
            w.metadata.push(meta(
                key.clone(),
                format!("google_secret_manager_secret.{ident}.id"),
            ));
        }
        key
    };
    w.metadata.push(meta(
        "autodeploy-public-host".into(),
        if scaled {
            "google_compute_global_address.lb.address".into()
        } else {
            "google_compute_address.app.address".into()
        },
    ));
    let mut db_used = false;
    let mut cache_used = false;
    for s in m.services() {
        let mut env = Vec::new();
        for e in &s.env {
            let name = &e.name;
            if name.is_empty() || name.contains('=') || name.contains('\0') {
                return Err(unsupported(
                    d,
                    &format!("the environment variable name {name:?}"),
                    "a process environment cannot hold a name that is empty or contains '=' or NUL",
                ));
            }
            let entry = match &e.value {
            EnvValue::Literal { value } => json!({"name": name, "from": "literal", "value": value}),
            EnvValue::GeneratedSecret { secret } | EnvValue::UserSecret { secret } => {
                let key = add_secret(&mut w, secret);
                json!({"name": name, "from": "secret", "value": key})
            }
            EnvValue::Input { variable } => {
                let ident = tf_ident(variable);
                let key = format!("autodeploy-input-{}", ident.replace('_', "-"));
                if !w.metadata.iter().any(|m| m["key"] == key.as_str()) {
                    w.metadata.push(meta(key.clone(), format!("var.{ident}")));
                }
                json!({"name": name, "from": "metadata", "value": key})
            }
            EnvValue::Deployment { output } => match output {
                DeploymentOutput::Port => {
                    let port = s.port.unwrap_or_default().to_string();
                    json!({"name": name, "from": "literal", "value": port})
                }
                DeploymentOutput::ListenAddress => {
                    let addr = format!("0.0.0.0:{}", s.port.unwrap_or_default());
                    json!({"name": name, "from": "literal", "value": addr})
                }
                DeploymentOutput::PublicUrl => json!({"name": name, "from": "public_url"}),
                DeploymentOutput::PublicHost => json!({"name": name, "from": "public_host"}),
                DeploymentOutput::AllowedHosts => {
                    json!({"name": name, "from": "allowed_hosts"})
                }
            },
            EnvValue::Database { output, scheme } => {
                let Some(db) = &d.database else {
                    return Err(unsupported(
                        d,
                        &format!("the environment variable {name} without a database plan"),
                        "decide plans the database the app reads",
                    ));
                };
                if db.service == autodeploy_core::DataService::External {
                    // The user's own database: its connection string is the secret.
                    if !matches!(output, autodeploy_core::DatabaseOutput::Url) {
                        return Err(unsupported(
                            d,
                            &format!("the environment variable {name} from an external database"),
                            "an external database is reached through its connection string only",
                        ));
                    }
                    let key = add_secret(&mut w, &db.credentials.secret);
                    env.push(json!({"name": name, "from": "secret", "value": key}));
                    continue;
                }
                if !db_used {
                    db_used = true;
                    add_secret(&mut w, &db.credentials.secret);
                    w.metadata.push(meta(
                        "autodeploy-database-host".into(),
                        "google_sql_database_instance.db.private_ip_address".into(),
                    ));
                    w.metadata.push(meta(
                        "autodeploy-database-secret".into(),
                        format!(
                            "google_secret_manager_secret.{}.id",
                            tf_ident(&db.credentials.secret)
                        ),
                    ));
                }
                crate::vm_service::database_entry(d, name, output, scheme.as_deref())?
            }
            EnvValue::Cache { output } => {
                let Some(c) = &d.cache else {
                    return Err(unsupported(
                        d,
                        &format!("the environment variable {name} without a cache plan"),
                        "decide plans the cache the app reads",
                    ));
                };
                if !cache_used {
                    cache_used = true;
                    if c.auth.is_some() {
                        add_secret(&mut w, super::data::CACHE_AUTH_SLOT);
                    }
                    w.metadata.push(meta(
                        "autodeploy-cache-host".into(),
                        "google_redis_instance.cache.host".into(),
                    ));
                    w.metadata.push(meta(
                        "autodeploy-cache-port".into(),
                        "tostring(google_redis_instance.cache.port)".into(),
                    ));
                    if c.auth.is_some() {
                        w.metadata.push(meta(
                            "autodeploy-cache-secret".into(),
                            format!(
                                "google_secret_manager_secret.{}.id",
                                tf_ident(super::data::CACHE_AUTH_SLOT)
                            ),
                        ));
                    }
                    if c.transit_encryption {
                        w.metadata.push(meta(
                            "autodeploy-cache-ca".into(),
                            "google_redis_instance.cache.server_ca_certs[0].cert".into(),
                        ));
                    }
                }
                json!({"name": name, "from": "cache", "value": output})
            }
            EnvValue::ServiceUrl { service } => {
                return Err(unsupported(
                    d,
                    &format!("the environment variable {name} (the URL of the service {service:?})"),
                    "a machine runs one web service and its workers, none called by another service's URL; ask for containers (\"on Cloud Run\") or GKE to run services that call each other",
                ))
            }
        };
            env.push(entry);
        }
        w.env.push(env);
    }
    // `terraform fmt` aligns the `=` of an object's lines: pad the quoted keys.
    let width = w
        .metadata
        .iter()
        .filter_map(|m| m["key"].as_str())
        .map(|k| k.len() + 2)
        .max()
        .unwrap_or(0);
    for m in &mut w.metadata {
        let key = m["key"].as_str().unwrap_or_default().to_string();
        m["key"] = format!("{:<width$}", format!("\"{key}\"")).into();
    }
    Ok(w)
}

/// The bundle's `cloud-init.yaml`.
fn cloud_init(
    d: &Decision,
    m: &Machine,
    nginx: bool,
    mut env: Vec<Vec<Value>>,
) -> Result<BundleFile, RenderError> {
    let s = m.web;
    let vm = vm_service(
        d,
        s,
        &Hints {
            other_runtime:
                "static sites and Dockerfile-only services need another strategy (Cloud Run)",
            no_port: "the vm strategy serves web services; workers need another strategy",
        },
    )?;
    let certbot = nginx && d.tls.https && d.tls.domain.is_some();
    let mut config = vm.config(s, 900);
    config.insert(
        "https".into(),
        (d.tls.https && d.tls.domain.is_some()).into(),
    );
    config.insert("domain".into(), json!(d.tls.domain));
    let worker_env: Vec<Value> = env.split_off(1).into_iter().map(Value::from).collect();
    config.insert("env".into(), env.pop().unwrap_or_default().into());
    m.configure(&mut config, worker_env);
    config.insert(
        "database".into(),
        json!(d.database.as_ref().map(|db| json!({
            "scheme": super::data::scheme(db.engine),
            "port": db.port,
            "name": db.db_name,
            "username": db.username,
        }))),
    );
    config.insert(
        "cache".into(),
        json!(d
            .cache
            .as_ref()
            .map(|c| json!({"tls": c.transit_encryption, "auth": c.auth.is_some()}))),
    );
    m.add_release_lock(d, &mut config)?;
    let mut ctx = vm.context(d, &config);
    if uploads_source(d) {
        // The code comes from the bucket (source.tf), not a git remote.
        ctx.insert(
            "clone_cmd".into(),
            "python3 /opt/autodeploy/launch.py fetch".into(),
        );
        ctx.insert("checkout_cmd".into(), Value::Null);
    }
    m.add_units(&mut ctx)?;
    ctx.insert("nginx".into(), nginx.into());
    ctx.insert("certbot".into(), certbot.into());
    let ctx = Value::Object(ctx);
    let mut full = ctx.clone();
    full["launch_py"] = render_template("gcp/vm/launch.py", &ctx)?.into();
    full["install_runtime"] = render_template("cloud-init/install-runtime.sh", &ctx)?.into();
    full["nginx_conf"] = render_template("cloud-init/nginx.conf", &ctx)?.into();
    file("cloud-init.yaml", "gcp/vm/cloud-init.yaml", &full)
}

/// True when the machines get the code from an archive the bundle uploads
/// (`source.tf`): a local folder or an archive is no git remote they can
/// clone.
pub fn uploads_source(d: &Decision) -> bool {
    d.strategy == autodeploy_core::DeployStrategy::Vm
        && d.services.iter().any(|s| {
            matches!(
                s.hosting,
                Hosting::ComputeEngine | Hosting::ComputeEngineMig
            )
        })
        && d.source.kind != autodeploy_core::SourceKind::Git
}

/// compute.tf, outputs.tf, cloud-init.yaml (and lb.tf, dns.tf, source.tf) for the vm strategy.
pub fn render(d: &Decision) -> Result<Part, RenderError> {
    let m = machine(d)?;
    let upload = uploads_source(d);
    let s = m.web;
    let scaled = s.hosting == Hosting::ComputeEngineMig;
    if !scaled && d.tls.https && d.tls.domain.is_none() {
        return Err(unsupported(
            d,
            "https on a single VM without a domain",
            "a certificate needs a domain you own (\"https on app.example.com\"), or ask for several instances behind a load balancer",
        ));
    }
    if scaled && d.tls.https && d.tls.domain.is_none() {
        return Err(unsupported(
            d,
            "https on the load balancer without a domain",
            "a Google-managed certificate needs a domain you own (\"https on app.example.com\")",
        ));
    }
    let mtype = machine_type(d, s)?;
    let w = wiring(d, &m, scaled)?;
    let port = s.port.unwrap_or_default();
    let sc = s.scaling.as_ref();
    let policy = sc.and_then(|x| x.autoscaling.as_ref());
    let health = s.health_check.as_ref();
    let health_path = d
        .load_balancer
        .as_ref()
        .map(|lb| lb.health_check_path.clone())
        .or_else(|| health.map(|h| h.path.clone()))
        .unwrap_or_else(|| "/".into());
    let ctx = json!({
        "static": false,
        "scaled": scaled,
        "port": port,
        "image": image(&mtype),
        "metadata": w.metadata,
        "secrets": w.secrets,
        "service": hcl(&s.name),
        "health": {
            "path": hcl(&health_path),
            "interval": health.map_or(30, |h| h.interval_seconds.max(1)),
            "timeout": health.map_or(5, |h| h.timeout_seconds.max(1)),
            "healthy": health.map_or(2, |h| h.healthy_threshold.max(1)),
            "unhealthy": health.map_or(3, |h| h.unhealthy_threshold.max(1)),
            // GCP HTTP checks take only 200-399: any answer below 500 is a TCP connect.
            "tcp": health.is_some_and(|h| h.accept.needs_tcp_probe()),
        },
        // Boot installs the runtime and builds the app: give it time before autohealing.
        "initial_delay": health.map_or(600, |h| h.grace_period_seconds.max(600)),
        "cooldown": policy.map_or(300, |p| p.scale_out_cooldown_seconds.max(300)),
        "https": d.tls.https && d.tls.domain.is_some(),
        "domain": d.tls.domain.as_deref().map(hcl),
        "upload": upload,
    });
    let mut vars = vec![
        Var::new(
            "machine_type",
            "Compute Engine machine type of the app server(s).",
            "string",
            hcl(&mtype),
        ),
        Var::new(
            "boot_disk_size",
            "Boot disk size in GB.",
            "number",
            "20".into(),
        ),
    ];
    if scaled {
        let min = sc.map_or(2, |x| x.min.max(1));
        let max = sc.map_or(2, |x| x.max.max(min));
        let target = policy.map_or(60.0, |p| p.target).clamp(10.0, 90.0);
        vars.push(Var::new(
            "min_replicas",
            "Fewest instances in the group.",
            "number",
            min.to_string(),
        ));
        vars.push(Var::new(
            "max_replicas",
            "Most instances in the group.",
            "number",
            max.to_string(),
        ));
        vars.push(Var::new(
            "cpu_target",
            "Average CPU utilisation (0-1) the autoscaler keeps the group at.",
            "number",
            format!("{:.2}", target / 100.0),
        ));
    }
    let mut files = vec![
        file("terraform/compute.tf", "gcp/vm/compute.tf", &ctx)?,
        file("terraform/outputs.tf", "gcp/vm/outputs.tf", &ctx)?,
        cloud_init(d, &m, !scaled, w.env)?,
    ];
    if scaled {
        files.push(super::lb::render(d, &ctx)?);
    }
    if upload {
        files.push(file("terraform/source.tf", "gcp/vm/source.tf", &ctx)?);
    }
    let dns = super::dns::render(d)?;
    files.extend(dns.files);
    vars.extend(dns.vars);
    let mut apis = vec!["compute.googleapis.com", "iam.googleapis.com"];
    if upload {
        apis.push("storage.googleapis.com");
    }
    apis.extend(dns.apis);
    Ok(Part { apis, files, vars })
}

#[cfg(test)]
mod tests {
    #[test]
    fn arm_machines_get_arm_images() {
        assert!(super::image("t2a-standard-1").ends_with("arm64"));
        assert!(super::image("e2-small").ends_with("amd64"));
    }
}
