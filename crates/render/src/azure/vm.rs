//! The Azure vm strategy: one Linux VM (`Hosting::AzureVm`) with a static
//! Standard public IP and nginx in front, or a VM scale set behind a Standard
//! load balancer with an HTTP health probe, rolling upgrades and a CPU
//! autoscale setting (`Hosting::AzureVmss`, or more than one instance).
//! Writes `terraform/compute.tf`, `terraform/outputs.tf` and the bundle's
//! `cloud-init.yaml`.
//!
//! A machine runs the web service and the workers beside it from the same
//! folder and runtime (`vm_service::machine`): one install, the release step
//! once before any process starts, `app.service` behind nginx and the load
//! balancer's probe, `app-<name>.service` per worker with its own command
//! and its own settings. In a scale set every instance runs every worker
//! (queue workers are safe N times; a scheduler such as Celery beat is
//! refused on a scale set that can grow past one instance).
//!
//! Machines: Ubuntu 24.04, SSH key only (`var.admin_ssh_public_key`; no
//! password; port 22 closed unless `var.ssh_allowed_cidrs` is set, see
//! network.rs), encryption at host (`var.encryption_at_host`; managed disks
//! are encrypted at rest by the platform in any case), a system-assigned
//! managed identity with `Key Vault Secrets User` when the app reads secrets.
//!
//! cloud-init reuses the cloud-neutral templates under
//! `templates/cloud-init/` (runtime install, code at the analysed commit,
//! source fixes, install/build/release, systemd units, nginx, health wait)
//! exactly as the AWS VM renders them; only the launcher's value lookups are
//! replaced by Azure ones (`templates/azure/vm/cloud-init/launch_azure.py`:
//! instance tags through the metadata service, Key Vault through the managed
//! identity). Values Terraform knows only after apply (database host, Key
//! Vault URI, public address, inputs) reach the machine as its tags;
//! repository values reach cloud-init only as YAML-quoted JSON data or
//! single-quoted shell words, and Terraform reads the file with
//! `filebase64()`, so nothing in it is ever interpolated.
//!
//! Not here: the VNet and NSG (network.rs), data services (data.rs), the
//! vault (secrets.rs). Not written (`unsupported`): https on the machines
//! (certbot or an Application Gateway), several web services, workers from
//! another folder or runtime, a scheduler on a scale set, another service's
//! URL.

use super::env::{bindings, login_part, Binding, Source};
use crate::vm_service::{machine as vm_machine, vm_service, Hints, Host, Machine};
use crate::{file, render_template, unsupported, BundleFile, RenderError};
use autodeploy_core::{Decision, Hosting, ScalingMetric, ServicePlan};
use serde_json::{json, Value};

/// What the machines run: the web service and its workers, checked.
fn machine(d: &Decision) -> Result<Machine<'_>, RenderError> {
    vm_machine(
        d,
        &Host {
            accepts: |h| matches!(h, Hosting::AzureVm | Hosting::AzureVmss),
            runs: "the vm strategy runs Azure VMs or a VM scale set",
            several: "ask for Azure Container Apps",
            scaled,
        },
    )
}

fn scaled(s: &ServicePlan) -> bool {
    s.hosting == Hosting::AzureVmss || s.scaling.as_ref().is_some_and(|sc| sc.max > 1)
}

/// Arm64 sizes have a `p` in the feature letters (`Standard_D2ps_v5`, `Standard_B2pls_v2`).
fn is_arm(size: &str) -> bool {
    let core = size.strip_prefix("Standard_").unwrap_or(size);
    let core = core.split('_').next().unwrap_or_default();
    let features = core
        .trim_start_matches(|c: char| c.is_ascii_alphabetic())
        .trim_start_matches(|c: char| c.is_ascii_digit());
    features.contains('p')
}

/// An Azure VM size name: `Standard_` + letters, digits and `_`.
fn vm_size(d: &Decision, s: &ServicePlan) -> Result<String, RenderError> {
    let size = s
        .compute
        .as_ref()
        .and_then(|c| c.instance_type.clone())
        .unwrap_or_else(|| "Standard_B1ms".into());
    let ok = size.starts_with("Standard_")
        && size.len() <= 64
        && size.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(size)
    } else {
        Err(unsupported(
            d,
            &format!("the VM size {size:?}"),
            "Azure VM sizes look like Standard_B1ms or Standard_D2s_v5",
        ))
    }
}

/// A Terraform identifier for an input variable.
fn input_var(variable: &str) -> String {
    let id: String = variable
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("input_{id}")
}

/// Turns bindings into launcher entries, collecting the machine tags they need.
struct Tags {
    /// (tag key, Terraform expression).
    tags: Vec<(String, String)>,
    /// Input variables to declare: (variable, env name).
    inputs: Vec<(String, String)>,
}

impl Tags {
    fn tag_for(&mut self, expr: String) -> String {
        if let Some((k, _)) = self.tags.iter().find(|(_, e)| *e == expr) {
            return k.clone();
        }
        let key = format!("autodeploy-env-{}", self.tags.len());
        self.tags.push((key.clone(), expr));
        key
    }

    fn entry(&mut self, src: &Source, env: &str) -> Value {
        match src {
            Source::Literal(v) => json!({"from": "literal", "value": v}),
            Source::Tf(expr) => json!({"from": "tag", "value": self.tag_for(expr.clone())}),
            Source::Input(v) => {
                let var = input_var(v);
                if !self.inputs.iter().any(|(x, _)| *x == var) {
                    self.inputs.push((var.clone(), env.to_string()));
                }
                json!({"from": "tag", "value": self.tag_for(format!("var.{var}"))})
            }
            Source::Secret(slot) => json!({"from": "secret", "value": slot}),
            Source::PublicHost => json!({"from": "public_host"}),
            Source::AllowedHosts => json!({"from": "allowed_hosts"}),
            Source::PublicUrl => json!({"from": "public_url"}),
            Source::Join(parts) => json!({
                "from": "join",
                "parts": parts.iter().map(|(p, quote)| {
                    let mut v = self.entry(p, env);
                    v["quote"] = json!(quote);
                    v
                }).collect::<Vec<_>>(),
            }),
        }
    }
}

/// The machine tags as `"key" = expr` lines, `=` aligned as `terraform fmt` does.
fn tag_lines(tags: &[(String, String)], vault: bool, scaled: bool, upload: bool) -> Vec<String> {
    let ip = if scaled { "lb" } else { "main" };
    let mut all: Vec<(String, String)> = Vec::new();
    if upload {
        all.push((
            "autodeploy-source-url".into(),
            "azurerm_storage_blob.source.url".into(),
        ));
    }
    if vault {
        all.push((
            "autodeploy-key-vault".into(),
            "azurerm_key_vault.main.vault_uri".into(),
        ));
    }
    all.push((
        "autodeploy-public-host".into(),
        format!("azurerm_public_ip.{ip}.ip_address"),
    ));
    all.extend(tags.iter().cloned());
    let width = all.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    all.iter()
        .map(|(k, e)| format!("{:<w$} = {e}", format!("\"{k}\""), w = width + 2))
        .collect()
}

/// nginx's path that answers the load balancer's probe when the plan's health
/// check takes any answer below 500 (the probe takes only 200): the app's
/// `/` through nginx, a 4xx turned into 200, a 5xx or an app that is down
/// (502) left a failure.
const HEALTH_GATE: &str = "/autodeploy-health";

fn health_gate(s: &ServicePlan) -> bool {
    s.health_check
        .as_ref()
        .is_some_and(|h| h.accept.needs_tcp_probe())
}

/// The bundle's `cloud-init.yaml`, from the shared cloud-init templates.
fn cloud_init(
    d: &Decision,
    m: &Machine,
    env: Vec<Value>,
    worker_env: Vec<Value>,
    lock: Option<Value>,
) -> Result<BundleFile, RenderError> {
    let s = m.web;
    let vm = vm_service(
        d,
        s,
        &Hints {
            other_runtime: "static sites and Dockerfile-only services need another strategy (static or container)",
            no_port: "the vm strategy serves web services",
        },
    )?;
    let mut config = vm.config(s, 600);
    config.insert("env".into(), env.into());
    m.configure(&mut config, worker_env);
    if let Some(lock) = lock {
        config.insert("release_lock".into(), lock);
    }
    let mut ctx = vm.context(d, &config);
    if uploads_source(d) {
        // The code comes from Blob Storage (source.tf), not a git remote.
        ctx.insert(
            "clone_cmd".into(),
            "python3 /opt/autodeploy/launch.py fetch".into(),
        );
        ctx.insert("checkout_cmd".into(), Value::Null);
    }
    m.add_units(&mut ctx)?;
    ctx.insert("nginx".into(), true.into());
    ctx.insert("boto3".into(), false.into());
    ctx.insert("health_gate".into(), health_gate(s).into());
    let ctx = Value::Object(ctx);
    // The shared launcher with Azure's value lookups defined after the AWS
    // ones (Python binds names at call time), before its entry point.
    let shared = render_template("cloud-init/launch.py", &ctx)?;
    let azure = render_template("azure/vm/cloud-init/launch_azure.py", &ctx)?;
    let marker = "\nif __name__ == \"__main__\":";
    let Some(at) = shared.rfind(marker) else {
        return Err(unsupported(
            d,
            "the shared VM launcher without its entry point",
            "templates/cloud-init/launch.py must end with `if __name__ == \"__main__\":`",
        ));
    };
    let launch_py = format!("{}\n{azure}\n{}", &shared[..at], &shared[at..]);
    let mut full = ctx.clone();
    full["launch_py"] = launch_py.into();
    full["install_runtime"] = render_template("cloud-init/install-runtime.sh", &ctx)?.into();
    full["nginx_conf"] = render_template("cloud-init/nginx.conf", &ctx)?.into();
    file("cloud-init.yaml", "cloud-init/cloud-init.yaml", &full)
}

/// True when the machines get the code from an archive the bundle uploads
/// (`source.tf`): a local folder or an archive is no git remote they can
/// clone.
pub fn uploads_source(d: &Decision) -> bool {
    d.strategy == autodeploy_core::DeployStrategy::Vm
        && d.services
            .iter()
            .any(|s| matches!(s.hosting, Hosting::AzureVm | Hosting::AzureVmss))
        && d.source.kind != autodeploy_core::SourceKind::Git
}

/// compute.tf, outputs.tf and cloud-init.yaml (and source.tf for a local
/// folder); `has_vault` when the bundle has the Key Vault (the machines
/// then get `Key Vault Secrets User` on it).
pub fn render(d: &Decision, has_vault: bool) -> Result<Vec<BundleFile>, RenderError> {
    let m = machine(d)?;
    let upload = uploads_source(d);
    let s = m.web;
    if d.tls.https || d.tls.certificate.is_some() {
        return Err(unsupported(
            d,
            "https on an Azure VM",
            "certificates on Azure VMs are not rendered yet; Azure Container Apps serve https on their own address",
        ));
    }
    let mut tags = Tags {
        tags: Vec::new(),
        inputs: Vec::new(),
    };
    // Each process's own settings; the machine tags they need, once.
    let mut envs = Vec::new();
    for p in m.services() {
        let binds: Vec<Binding> = bindings(d, p)?;
        let env: Vec<Value> = binds
            .iter()
            .map(|b| {
                let mut v = tags.entry(&b.source, &b.name);
                v["name"] = json!(b.name);
                v
            })
            .collect();
        envs.push(env);
    }
    let worker_env: Vec<Value> = envs.split_off(1).into_iter().map(Value::from).collect();
    let env = envs.pop().unwrap_or_default();
    let lock = m.release_lock(d, |part| Ok(tags.entry(&login_part(d, part)?, "")))?;
    let size = vm_size(d, s)?;
    let scaled = scaled(s);
    let sc = s.scaling.as_ref();
    let min = sc.map_or(1, |x| x.min).max(1);
    let max = sc.map_or(1, |x| x.max).max(min);
    let desired = sc.map_or(min, |x| x.desired).clamp(min, max);
    let policy = sc.and_then(|x| x.autoscaling.as_ref());
    let cpu_target = policy
        .filter(|p| p.metric == ScalingMetric::CpuUtilization)
        .map_or(60, |p| (p.target.round() as u32).clamp(10, 95));
    let health = s.health_check.as_ref();
    let path = if health_gate(s) {
        HEALTH_GATE.to_string()
    } else {
        d.load_balancer
            .as_ref()
            .map(|lb| lb.health_check_path.clone())
            .or_else(|| health.map(|h| h.path.clone()))
            .unwrap_or_else(|| "/".into())
    };
    let minutes = |secs: u32| (secs / 60).max(1);
    let ctx = json!({
        "scaled": scaled,
        "size": size,
        "arm": is_arm(&size),
        "vault": has_vault,
        "tag_lines": tag_lines(&tags.tags, has_vault, scaled, upload),
        "upload": upload,
        "inputs": tags.inputs.iter().map(|(v, e)| json!({"variable": v, "env": e})).collect::<Vec<_>>(),
        "min": min,
        "max": max,
        "desired": desired,
        "cpu_target": cpu_target,
        "cpu_scale_in": cpu_target.saturating_sub(30).max(5),
        "out_cooldown": minutes(policy.map_or(300, |p| p.scale_out_cooldown_seconds)),
        "in_cooldown": minutes(policy.map_or(300, |p| p.scale_in_cooldown_seconds)),
        "health_path": path,
        "probe_interval": health.map_or(15, |h| h.interval_seconds.clamp(5, 300)),
        "probe_count": health.map_or(2, |h| h.unhealthy_threshold.clamp(1, 10)),
        "idle_minutes": d.load_balancer.as_ref().map_or(4, |lb| lb.idle_timeout_seconds.div_ceil(60).clamp(4, 100)),
    });
    let mut files = vec![
        file(
            "terraform/compute.tf",
            "azure/vm/terraform/compute.tf",
            &ctx,
        )?,
        file(
            "terraform/outputs.tf",
            "azure/vm/terraform/outputs.tf",
            &ctx,
        )?,
        cloud_init(d, &m, env, worker_env, lock)?,
    ];
    if upload {
        files.push(file(
            "terraform/source.tf",
            "azure/vm/terraform/source.tf",
            &ctx,
        )?);
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arm_sizes() {
        assert!(is_arm("Standard_D2ps_v5"));
        assert!(is_arm("Standard_B2pls_v2"));
        assert!(!is_arm("Standard_B1ms"));
        assert!(!is_arm("Standard_D2ds_v5"));
    }

    #[test]
    fn inputs_become_identifiers() {
        assert_eq!(input_var("smtp-host"), "input_smtp_host");
        assert_eq!(input_var("${x}"), "input___x_");
    }
}
