//! The Azure container strategy: Azure Container Apps. Writes
//! `terraform/container_apps.tf` (Log Analytics workspace, Container Apps
//! environment — inside `azurerm_subnet.app` when private data services must
//! be reached —, Azure Container Registry, a user-assigned identity with
//! `AcrPull` on the registry and `Key Vault Secrets User` on the vault, and
//! one `azurerm_container_app` per service with the plan's cpu/memory and
//! min/max replicas, external ingress on the app port for public web
//! services, an HTTP concurrency or CPU scale rule, env vars, and secrets as
//! Key Vault references) and `terraform/outputs.tf`.
//!
//! Env values come from `env.rs`: literals and Terraform values (database
//! and cache hosts) as plain `env` blocks, secrets (app keys, the database
//! password, the Redis key) as Key Vault references. Connection URLs that
//! embed a password (`DATABASE_URL`, `REDIS_URL`) are joined at start: each
//! part is an internal `AUTODEPLOY_PART_<n>` variable, and the container's
//! command is a small POSIX-sh wrapper that percent-encodes the secret
//! parts, exports the URL, unsets the parts and `exec`s the app's own start
//! command. A release step (migrations) is an `azurerm_container_app_job`
//! (manual trigger) of the same image, settings and identity whose wrapper
//! runs it: started once per deploy (`az containerapp job start`, the
//! `release_jobs` output) before the apps take the new image, never by the
//! replicas.
//!
//! Repository values reach HCL only through the `hcl` filter (env names and
//! literal values, the wrapper script) or as [`super::slug`] names
//! (`[a-z0-9-]`); in the wrapper, the start and release commands are single
//! shell words (`escape::sh`).
//!
//! Not here: building or pushing images (the deploy stage does with ACR
//! Tasks, tagging them `var.image_tag`), filling Key Vault secrets (the
//! deploy stage does, see `secrets.rs`), the Key Vault itself (secrets.rs),
//! data services (data.rs).

use super::env::{bindings, slots, Source};
use super::slug;
use crate::{file, unsupported, BundleFile, RenderError};
use autodeploy_core::{Decision, Hosting, ScalingMetric, ServiceKind, ServicePlan};
use serde_json::{json, Value};

/// Every file of the container strategy on Azure.
pub fn render(d: &Decision) -> Result<Vec<BundleFile>, RenderError> {
    let mut apps: Vec<Value> = Vec::new();
    let mut secrets: Vec<String> = Vec::new();
    for (i, s) in d.services.iter().enumerate() {
        let app = app(d, s, i)?;
        if apps.iter().any(|a| a["name"] == app["name"]) {
            return Err(unsupported(
                d,
                "two services with the same Azure app name",
                "rename one of the services",
            ));
        }
        for sec in app["secrets"].as_array().into_iter().flatten() {
            let n = sec.as_str().unwrap_or_default().to_string();
            if !secrets.contains(&n) {
                secrets.push(n);
            }
        }
        apps.push(app);
    }
    let ctx = json!({
        "apps": apps,
        "secrets": secrets,
        "vnet": super::network::needed(d),
        "cache": d.cache.is_some(),
    });
    Ok(vec![
        file(
            "terraform/container_apps.tf",
            "azure/container/terraform/container_apps.tf",
            &ctx,
        )?,
        file(
            "terraform/outputs.tf",
            "azure/container/terraform/outputs.tf",
            &ctx,
        )?,
    ])
}

/// cpu (cores) and memory (`Gi`) as the Consumption plan allows: cpu in
/// steps of 0.25 from 0.25 to 4, memory exactly twice the cpu.
fn size(d: &Decision, s: &ServicePlan) -> Result<(f64, String), RenderError> {
    let c = s.compute.as_ref();
    let vcpu = c.and_then(|c| c.vcpu).unwrap_or(0.5);
    let mem_gib = f64::from(c.and_then(|c| c.memory_mib).unwrap_or(1024)) / 1024.0;
    let needed = vcpu.max(mem_gib / 2.0);
    let cpu = (needed * 4.0).ceil().max(1.0) / 4.0;
    if cpu > 4.0 {
        return Err(unsupported(
            d,
            &format!("{vcpu} vCPU / {mem_gib} GiB on Container Apps"),
            "the Consumption plan stops at 4 vCPU / 8 GiB per container",
        ));
    }
    Ok((cpu, format!("{}Gi", cpu * 2.0)))
}

/// The context of one container app, checked.
fn app(d: &Decision, s: &ServicePlan, i: usize) -> Result<Value, RenderError> {
    if s.hosting != Hosting::ContainerApps {
        return Err(unsupported(
            d,
            "this service's hosting on Azure",
            "the Azure container strategy runs Azure Container Apps",
        ));
    }
    if s.kind == ServiceKind::Static {
        return Err(unsupported(d, "a static site on Azure", "not written yet"));
    }
    let name = slug(&s.name, 32);
    let (cpu, memory) = size(d, s)?;
    let scaling = s.scaling.as_ref();
    let min = scaling.map_or(1, |sc| sc.min);
    let max = scaling.map_or(1, |sc| sc.max).max(min).max(1);
    if max > 300 {
        return Err(unsupported(
            d,
            &format!("{max} replicas on Container Apps"),
            "Container Apps allows at most 300 replicas",
        ));
    }
    let concurrency = scaling
        .and_then(|sc| sc.autoscaling.as_ref())
        .filter(|a| a.metric == ScalingMetric::ConcurrentRequests)
        .map(|a| (a.target.round() as u64).max(1));
    let cpu_target = scaling
        .and_then(|sc| sc.autoscaling.as_ref())
        .filter(|a| a.metric == ScalingMetric::CpuUtilization)
        .map(|a| (a.target.round() as u64).clamp(1, 100));
    let ingress = s.public && s.port.is_some();
    if s.public && s.port.is_none() {
        return Err(unsupported(
            d,
            "a public service without a port on Container Apps",
            "a public service needs the port it listens on",
        ));
    }
    let binds = bindings(d, s)?;
    let mut env: Vec<Value> = Vec::new();
    let mut inputs: Vec<Value> = Vec::new();
    let mut joins: Vec<(String, Vec<(Source, bool)>)> = Vec::new();
    let mut internal = 0usize;
    for b in &binds {
        match &b.source {
            Source::Join(parts) => {
                // Each non-literal part becomes an internal env var the start
                // wrapper joins; literal parts are this module's fixed text.
                let mut shell_parts = Vec::new();
                for (p, quote) in parts {
                    if let Source::Literal(text) = p {
                        shell_parts.push((Source::Literal(text.clone()), *quote));
                        continue;
                    }
                    let var = format!("AUTODEPLOY_PART_{internal}");
                    internal += 1;
                    env.push(env_entry(&name, &var, p, &mut inputs));
                    shell_parts.push((Source::Input(var), *quote));
                }
                joins.push((b.name.clone(), shell_parts));
            }
            other => env.push(env_entry(&name, &b.name, other, &mut inputs)),
        }
    }
    let secrets = slots(&binds);
    let command = if joins.is_empty() && s.release.is_none() {
        None
    } else {
        let Some(start) = s.image_command() else {
            return Err(unsupported(
                d,
                &format!("connection URLs or a release step for `{}` without a start command", s.name),
                "the container's start command must wrap the app's own; give the service a start command",
            ));
        };
        Some(start_script(&joins, internal, start))
    };
    // The release step runs once per deploy as a Container Apps job with
    // the same image, settings and identity, never in the replicas' start.
    let cd = crate::docker::cd_in_image(s);
    let release = s
        .image_release()
        .map(|r| start_script(&joins, internal, &format!("{cd}{r}")));
    let health = s.health_check.as_ref().filter(|_| ingress).map(|h| {
        json!({
            "path": h.path,
            "port": h.port,
            // Container Apps HTTP probes take only 200-399.
            "tcp": h.accept.needs_tcp_probe(),
            // Probes are sent to the replica's address: an allowed-hosts
            // setting lists the app's own host, so the probe sends that.
            "host": crate::health::allows_hosts(s),
        })
    });
    Ok(json!({
        "index": i,
        "name": name,
        "image": slug(&s.name, 60),
        "cpu": cpu,
        "memory": memory,
        "min": min,
        "max": max,
        "concurrency": concurrency,
        "cpu_target": cpu_target,
        "ingress": ingress,
        "port": s.port,
        "env": env,
        "secrets": secrets,
        "inputs": inputs,
        "health": health,
        "command": command,
        "release": release,
        "job": format!("{}-release", slug(&s.name, 24)),
    }))
}

/// One `env` block of a container app (`app` is its slug name).
fn env_entry(app: &str, name: &str, src: &Source, inputs: &mut Vec<Value>) -> Value {
    let mut v = match src {
        Source::Literal(value) => json!({"kind": "literal", "value": value}),
        Source::Tf(expr) => json!({"kind": "tf", "expr": expr}),
        Source::Secret(slot) => json!({"kind": "secret", "secret": slot}),
        Source::Input(variable) => {
            let var = format!(
                "{}_{}",
                app.replace('-', "_"),
                variable
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() {
                        c.to_ascii_lowercase()
                    } else {
                        '_'
                    })
                    .collect::<String>()
            );
            if !inputs.iter().any(|i| i["variable"] == var.as_str()) {
                inputs.push(json!({"variable": var, "env": name}));
            }
            json!({"kind": "input", "variable": var})
        }
        // The probes send the app's host (see `health`), so the public host is enough.
        Source::PublicHost | Source::AllowedHosts => json!({"kind": "host"}),
        Source::PublicUrl => json!({"kind": "url"}),
        Source::Join(_) => json!({"kind": "literal", "value": ""}),
    };
    v["name"] = json!(name);
    v
}

/// Text inside a double-quoted shell string, taken literally.
fn dq(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '"' | '$' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Percent-encodes `$1` (ASCII; generated passwords and Azure keys are).
const URLENCODE: &str = r#"autodeploy_urlencode() {
  s=$1
  out=
  while [ -n "$s" ]; do
    rest=${s#?}
    c=${s%"$rest"}
    s=$rest
    case $c in
      [A-Za-z0-9._~-]) out="$out$c" ;;
      *) out="$out$(printf '%%%02X' "'$c")" ;;
    esac
  done
  printf '%s' "$out"
}
"#;

/// The container's command: join the connection URLs from their parts
/// (`Source::Input` here names the internal env var holding a part), drop
/// the parts from the environment, then `exec` the command (the app's own
/// start, or in the release job the release step).
fn start_script(joins: &[(String, Vec<(Source, bool)>)], internal: usize, start: &str) -> String {
    let mut s = String::from("set -e\n");
    if !joins.is_empty() {
        s.push_str(URLENCODE);
    }
    for (name, parts) in joins {
        let mut value = String::new();
        for (p, quote) in parts {
            match p {
                Source::Input(var) if *quote => {
                    value.push_str(&format!("$(autodeploy_urlencode \"${var}\")"))
                }
                Source::Input(var) => value.push_str(&format!("${var}")),
                Source::Literal(text) => value.push_str(&dq(text)),
                _ => {}
            }
        }
        s.push_str(&format!("export {name}=\"{value}\"\n"));
    }
    for i in 0..internal {
        s.push_str(&format!("unset AUTODEPLOY_PART_{i}\n"));
    }
    s.push_str(&crate::escape::exec_line(start));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wrapper joins the parts in a real shell, percent-encoding the
    /// password, and leaves no part behind in the app's environment.
    #[test]
    fn start_script_joins_urls_in_a_real_shell() {
        let joins = vec![(
            "REDIS_URL".to_string(),
            vec![
                (Source::Literal("rediss://:".into()), false),
                (Source::Input("AUTODEPLOY_PART_0".into()), true),
                (Source::Literal("@".into()), false),
                (Source::Input("AUTODEPLOY_PART_1".into()), false),
                (Source::Literal(":6380/0".into()), false),
            ],
        )];
        let script = start_script(&joins, 2, "echo \"$REDIS_URL|${AUTODEPLOY_PART_0:-gone}\"");
        let out = std::process::Command::new("/bin/sh")
            .args(["-c", &script])
            .env("AUTODEPLOY_PART_0", "a+b/c=")
            .env("AUTODEPLOY_PART_1", "cache.example")
            .output()
            .expect("sh runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "rediss://:a%2Bb%2Fc%3D@cache.example:6380/0|gone\n"
        );
    }

    #[test]
    fn literal_parts_stay_literal() {
        assert_eq!(dq("a\"$(x)`y`\\"), "a\\\"\\$(x)\\`y\\`\\\\");
    }
}
