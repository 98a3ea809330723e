//! Kubernetes manifests for the `kubernetes` strategy: `k8s/namespace.yaml`,
//! and per service that runs code (web/worker) under `k8s/<service>/`:
//! `deployment.yaml`, `configmap.yaml` (the non-secret literal env values),
//! for web services `service.yaml`, `ingress.yaml` (public ones; TLS host
//! when the plan has a domain) and `hpa.yaml` (autoscaling/v2, when the plan
//! scales between min < max), and for services with a release step
//! (migrations) `release-job.yaml`: a Job that runs it once per deploy, with
//! the pods' image, environment and security settings — never the pods.
//!
//! Contracts with the deploy stage (which fills what only exists at deploy time):
//! - The image is the placeholder `${IMAGE_<SERVICE>}` (e.g. `${IMAGE_API}`),
//!   to substitute with the Terraform output `ecr_repository_urls["<service>"]`
//!   tagged with the commit (`envsubst`); the annotation
//!   `autodeploy.dev/image-from` says so on every Deployment.
//! - Env values: literals come from the rendered ConfigMap `<service>-config`;
//!   values known only after apply (database host, public URL, inputs…) from a
//!   ConfigMap `<service>-deploy`; secrets from a Secret `<service>-secrets`
//!   (both created by the deploy stage from Terraform outputs and the secret
//!   store). The manifests hold references only, never a secret value.
//! - The release Job (named `<service>-release-<commit>`) is applied with the
//!   new image and must complete before the Deployment is applied.
//! - Pods run as UID 10001 (the Dockerfiles' user), no privilege escalation,
//!   all capabilities dropped, RuntimeDefault seccomp, a read-only root
//!   filesystem where the runtime allows it (an emptyDir on /tmp).
//!
//! Every value from the repository or the request goes through `|yaml`;
//! object names are reduced to DNS labels. Not here: the cluster itself
//! (aws/eks.rs), installing the ingress controller (deploy stage).

use crate::{file, BundleFile, RenderError};
use autodeploy_core::{
    ClusterKind, Decision, EnvValue, HealthAnswer, ScalingMetric, ServiceKind, ServicePlan,
};
use serde::Serialize;

#[derive(Debug, Serialize)]
struct EnvRef {
    name: String,
    /// `config`, `deploy` or `secret`.
    source: &'static str,
}

#[derive(Debug, Serialize)]
struct Hpa {
    min: u32,
    max: u32,
    cpu_target: u32,
    scale_up_seconds: u32,
    scale_down_seconds: u32,
    note: Option<&'static str>,
}

#[derive(Debug, Serialize)]
struct Probe {
    path: String,
    /// A `tcpSocket` probe: the plan's check takes any answer below 500,
    /// which `httpGet` (200-399) cannot express.
    tcp: bool,
    /// The Host an `httpGet` probe sends: the domain, when an allow-list of
    /// hosts must accept it (probes otherwise send the pod's address).
    host: Option<String>,
    period: u32,
    timeout: u32,
    failure: u32,
    success: u32,
    startup_failures: u32,
}

#[derive(Debug, Serialize)]
struct SvcCtx {
    namespace: String,
    name: String,
    /// The original service name (only ever rendered through `|yaml`).
    service: String,
    image_var: String,
    web: bool,
    port: Option<u16>,
    replicas: u32,
    cpu: String,
    memory: String,
    read_only_root: bool,
    uid: u32,
    env: Vec<EnvRef>,
    /// Env names skipped because Kubernetes would reject them.
    skipped_env: usize,
    literals: Vec<(String, String)>,
    probe: Option<Probe>,
    hpa: Option<Hpa>,
    ingress: Option<IngressCtx>,
    release: Option<ReleaseJob>,
    /// Where the service's persistent volume is mounted (`<name>-data`).
    data_volume: Option<String>,
}

/// The release step's Job.
#[derive(Debug, Serialize)]
struct ReleaseJob {
    /// `<name>-release[-<commit>]`, a DNS label.
    job: String,
    /// Run by `/bin/sh -c` in the image's working folder (raw; `|yaml` in the template).
    script: String,
}

/// The Job of `s`'s release step, if it has one: named after the service
/// and the commit (a Job's pod template is immutable, so each release is a
/// new Job), run in the same folder as the image's own command (docker.rs
/// prefixes a `cd` when the service folder cannot be a WORKDIR verbatim).
fn release_job(d: &Decision, s: &ServicePlan, name: &str) -> Option<ReleaseJob> {
    let release = s.image_release().filter(|r| !r.trim().is_empty())?;
    let commit: String = d
        .source
        .commit
        .as_deref()
        .unwrap_or("")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect::<String>()
        .to_ascii_lowercase();
    let suffix = if commit.is_empty() {
        "-release".to_string()
    } else {
        format!("-release-{commit}")
    };
    let mut base = name.to_string();
    base.truncate(63 - suffix.len());
    let job = format!("{}{suffix}", base.trim_end_matches('-'));
    let mut script = String::from("set -e\n");
    script.push_str(&crate::docker::cd_in_image(s));
    script.push_str(release);
    script.push('\n');
    Some(ReleaseJob { job, script })
}

#[derive(Debug, Serialize)]
struct IngressCtx {
    class: &'static str,
    alb: bool,
    host: Option<String>,
    tls: bool,
    health_path: String,
    /// The ALB health check's accepted codes (`200-399`, `200-499`).
    success_codes: &'static str,
}

/// A DNS-1035 label from any name (lowercase alphanumerics and `-`, starting
/// with a letter, ≤ 63): valid for every object kind, Services included.
pub fn dns_label(name: &str) -> String {
    let mut s = crate::docker::file_name(name);
    if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        s = format!("s-{s}");
    }
    s.truncate(63);
    s.trim_end_matches('-').to_string()
}

/// The image placeholder variable of a service (`IMAGE_API`).
pub fn image_var(service: &str) -> String {
    format!(
        "IMAGE_{}",
        dns_label(service).to_uppercase().replace('-', "_")
    )
}

/// Kubernetes' rule for env var names.
fn valid_env_name(n: &str) -> bool {
    let mut c = n.chars();
    matches!(c.next(), Some(f) if f.is_ascii_alphabetic() || matches!(f, '-' | '.' | '_'))
        && c.all(|x| x.is_ascii_alphanumeric() || matches!(x, '-' | '.' | '_'))
}

/// A DNS name usable as an Ingress host.
fn valid_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// The manifests of a kubernetes deployment.
pub fn render(d: &Decision) -> Result<Vec<BundleFile>, RenderError> {
    let namespace = dns_label(&d.name);
    let kind = d
        .cluster
        .as_ref()
        .map(|c| c.kind)
        .unwrap_or(ClusterKind::Eks);
    let mut files = vec![file(
        "k8s/namespace.yaml",
        "k8s/namespace.yaml",
        serde_json::json!({ "namespace": namespace }),
    )?];
    let running: Vec<&ServicePlan> = d
        .services
        .iter()
        .filter(|s| matches!(s.kind, ServiceKind::Web | ServiceKind::Worker))
        .collect();
    if running.is_empty() {
        return Err(crate::unsupported(
            d,
            "Kubernetes manifests",
            "no service runs code; a static site needs no cluster",
        ));
    }
    let mut used: Vec<String> = Vec::new();
    let mut first_public_web = true;
    for s in running {
        let mut name = dns_label(&s.name);
        let mut n = 2;
        while used.contains(&name) {
            name = format!("{}-{n}", dns_label(&s.name));
            n += 1;
        }
        used.push(name.clone());
        let web = s.kind == ServiceKind::Web && s.port.is_some();
        let mut env = Vec::new();
        let mut literals = Vec::new();
        let mut skipped_env = 0;
        for b in &s.env {
            if !valid_env_name(&b.name) || b.name == "PORT" {
                skipped_env += usize::from(b.name != "PORT");
                continue;
            }
            let source = match (&b.value, b.secret) {
                (_, true) => "secret",
                (EnvValue::Literal { value }, false) => {
                    literals.push((b.name.clone(), value.clone()));
                    "config"
                }
                (EnvValue::GeneratedSecret { .. } | EnvValue::UserSecret { .. }, _) => "secret",
                _ => "deploy",
            };
            env.push(EnvRef {
                name: b.name.clone(),
                source,
            });
        }
        let cpu_m = s
            .compute
            .as_ref()
            .and_then(|c| c.vcpu)
            .map(|v| (v * 1000.0).round() as u32)
            .filter(|m| *m > 0)
            .unwrap_or(250);
        let mem = s
            .compute
            .as_ref()
            .and_then(|c| c.memory_mib)
            .filter(|m| *m > 0)
            .unwrap_or(512);
        let scaling = s.scaling.as_ref();
        let replicas = scaling.map(|sc| sc.desired.max(sc.min).max(1)).unwrap_or(1);
        let hpa = scaling.filter(|sc| sc.min < sc.max).map(|sc| {
            let a = sc.autoscaling.as_ref();
            let cpu = a.filter(|a| a.metric == ScalingMetric::CpuUtilization);
            Hpa {
                min: sc.min.max(1),
                max: sc.max,
                cpu_target: cpu
                    .map(|a| a.target.round().clamp(1.0, 100.0) as u32)
                    .unwrap_or(70),
                scale_up_seconds: a.map(|a| a.scale_out_cooldown_seconds).unwrap_or(60),
                scale_down_seconds: a.map(|a| a.scale_in_cooldown_seconds).unwrap_or(300),
                note: (a.is_some() && cpu.is_none()).then_some(
                    "the plan scales on concurrent requests; without a metrics adapter the HPA scales on CPU at 70%",
                ),
            }
        });
        let probe = web.then(|| {
            let h = s.health_check.as_ref();
            let period = h.map(|h| h.interval_seconds).unwrap_or(15).max(1);
            Probe {
                path: h
                    .map(|h| h.path.clone())
                    .filter(|p| p.starts_with('/'))
                    .unwrap_or_else(|| "/".into()),
                tcp: h.is_some_and(|h| h.accept.needs_tcp_probe()),
                host: d
                    .tls
                    .domain
                    .clone()
                    .filter(|h| valid_host(h) && crate::health::allows_hosts(s)),
                period,
                timeout: h.map(|h| h.timeout_seconds).unwrap_or(5).max(1),
                failure: h.map(|h| h.unhealthy_threshold).unwrap_or(3).max(1),
                success: h.map(|h| h.healthy_threshold).unwrap_or(1).max(1),
                // Checked every 5 s until the grace period is over.
                startup_failures: (h.map(|h| h.grace_period_seconds).unwrap_or(60) / 5).max(6),
            }
        });
        let ingress = (web && s.public).then(|| {
            let host = if first_public_web {
                d.tls.domain.clone().filter(|h| valid_host(h))
            } else {
                None
            };
            first_public_web = false;
            let (class, alb) = match kind {
                ClusterKind::Eks => ("alb", true),
                ClusterKind::Gke => ("gce", false),
                ClusterKind::Aks => ("webapprouting.kubernetes.azure.com", false),
            };
            IngressCtx {
                class,
                alb,
                tls: d.tls.https && host.is_some(),
                host,
                health_path: probe.as_ref().map(|p| p.path.clone()).unwrap_or_default(),
                success_codes: s
                    .health_check
                    .as_ref()
                    .map_or(HealthAnswer::Success, |h| h.accept)
                    .codes(),
            }
        });
        let family = s.runtime.family.as_str();
        let release = release_job(d, s, &name);
        let ctx = SvcCtx {
            namespace: namespace.clone(),
            name: name.clone(),
            service: s.name.clone(),
            image_var: image_var(&s.name),
            web,
            port: if web { s.port } else { None },
            replicas,
            cpu: format!("{cpu_m}m"),
            memory: format!("{mem}Mi"),
            // Runtimes that write into their app folder at run time (Rails tmp/,
            // Laravel storage/, Next.js cache, Elixir releases) keep a writable root.
            // So do services that keep their data in files beside them.
            // (A data volume holds those files instead.)
            read_only_root: matches!(family, "go" | "rust" | "jvm" | "dotnet" | "python")
                && (!s.writes_local_data || s.data_volume.is_some()),
            uid: crate::docker::APP_UID,
            env,
            skipped_env,
            literals,
            probe,
            hpa,
            ingress,
            release,
            data_volume: s.data_volume.clone().filter(|p| p.starts_with('/')),
        };
        let dir = format!("k8s/{name}");
        files.push(file(
            &format!("{dir}/deployment.yaml"),
            "k8s/deployment.yaml",
            &ctx,
        )?);
        files.push(file(
            &format!("{dir}/configmap.yaml"),
            "k8s/configmap.yaml",
            &ctx,
        )?);
        if ctx.web {
            files.push(file(
                &format!("{dir}/service.yaml"),
                "k8s/service.yaml",
                &ctx,
            )?);
        }
        if ctx.ingress.is_some() {
            files.push(file(
                &format!("{dir}/ingress.yaml"),
                "k8s/ingress.yaml",
                &ctx,
            )?);
        }
        if ctx.hpa.is_some() {
            files.push(file(&format!("{dir}/hpa.yaml"), "k8s/hpa.yaml", &ctx)?);
        }
        if ctx.data_volume.is_some() {
            files.push(file(
                &format!("{dir}/volume.yaml"),
                "k8s/volume.yaml",
                &ctx,
            )?);
        }
        if ctx.release.is_some() {
            files.push(file(
                &format!("{dir}/release-job.yaml"),
                "k8s/release-job.yaml",
                &ctx,
            )?);
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_labels() {
        assert_eq!(dns_label("My_App"), "my-app");
        assert_eq!(dns_label("2048"), "s-2048");
        assert_eq!(dns_label(&"x".repeat(80)).len(), 63);
        assert_eq!(image_var("web-api"), "IMAGE_WEB_API");
        assert!(valid_env_name("DATABASE_URL"));
        assert!(!valid_env_name("X;rm -rf"));
        assert!(valid_host("app.example.com"));
        assert!(!valid_host("app.example.com\nx: y"));
    }
}
