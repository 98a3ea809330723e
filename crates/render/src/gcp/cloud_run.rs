//! GCP container strategy on Cloud Run: an Artifact Registry Docker
//! repository `google_artifact_registry_repository.app`, one least-privilege
//! service account per service (it may only read the secrets its env vars
//! name), and one `google_cloud_run_v2_service.<ident>` with the plan's
//! cpu/memory and min/max instances. Env vars: literals and inputs as
//! `value`, secrets as `value_source.secret_key_ref` (never a value). Public
//! services get `roles/run.invoker` for `allUsers`.
//!
//! The image is built by Cloud Build from the repository, without local
//! Docker; the deploy order (the deploy stage's job, also in the
//! `deploy_steps` output): `terraform apply -target=google_artifact_registry_repository.app`
//! (and the secrets); add the secret versions; copy the bundle's Dockerfile
//! into the repository root and run `gcloud builds submit --tag <image>`;
//! then the full `terraform apply`.
//!
//! Env values: literals, inputs and the port as `value`; secrets and the
//! data slots (data.rs: password, assembled URLs, AUTH string) as
//! `secret_key_ref`; database/cache hosts, ports and names as Terraform
//! references. A service that talks to a data store leaves through Direct VPC
//! egress into `google_compute_subnetwork.app` (private ranges only). The
//! deployment's own URL is the deterministic
//! `https://<service>-<project number>.<region>.run.app` (or the domain).
//! A domain gets a `google_cloud_run_domain_mapping` (dns.rs adds the CNAME).
//!
//! A release step (migrations) is a Cloud Run job
//! `google_cloud_run_v2_job.<ident>_release` of the same image, settings,
//! identity and network, run once per deploy (`gcloud run jobs execute
//! --wait`, step 5 of `deploy_steps`) before the full apply rolls the service
//! onto the new image; the service itself never runs it.
//!
//! Workers beside the web service (rq, Celery, Sidekiq…) built from its
//! folder run as Cloud Run worker pools (`google_cloud_run_v2_worker_pool`,
//! no listener): the web service's image with the worker's own start
//! command, a service account of their own, the same network, a fixed
//! instance count (one for a scheduler, whose every copy fires each task).
//!
//! Covered: one web service, with workers from its folder. Not covered
//! (`unsupported`): several web services, a worker from another folder or
//! image, another service's URL. Not here: the
//! Dockerfile (docker.rs), secrets (secrets.rs), Cloud SQL and Memorystore
//! (data.rs).

use super::data::{cloud_run_ref, hcl_inner, DataRef};
use super::Part;
use crate::aws::data::tf_ident;
use crate::escape::hcl;
use crate::{file, RenderError};
use autodeploy_core::{
    Decision, DeploymentOutput, EnvValue, ScalingMetric, ServiceKind, ServicePlan,
};
use serde::Serialize;

#[derive(Serialize)]
struct Env {
    /// HCL string of the name.
    name: String,
    /// HCL expression of a plain value, or None for a secret.
    value: Option<String>,
    /// Terraform label of the secret.
    secret: Option<String>,
}

#[derive(Serialize)]
struct Probe {
    /// HCL string; null for a TCP probe.
    http_path: Option<String>,
    /// HCL string for the probe's Host header: the host the app's allowed-hosts
    /// setting lists, when the service has one.
    host: Option<String>,
}

#[derive(Serialize)]
struct Svc {
    ident: String,
    name: String,
    account_id: String,
    port: u16,
    cpu: &'static str,
    memory: String,
    min: u32,
    max: u32,
    concurrency: Option<u32>,
    /// The plan's health check: an HTTP path (already HCL) for startup and
    /// liveness probes, or a TCP startup probe when it accepts any answer
    /// below 500 (Cloud Run HTTP probes take only 200-399).
    health: Option<Probe>,
    public: bool,
    /// Direct VPC egress into the app subnet (to reach the data stores).
    vpc: bool,
    /// The deployment's own URL is read from the project number.
    project_number: bool,
    domain: Option<String>,
    env: Vec<Env>,
    secrets: Vec<String>,
    /// Shell command that builds and pushes the image (documentation output).
    build: String,
    /// The release step (migrations) as a Cloud Run job of the same image,
    /// settings and identity: its `/bin/sh -c` script, already HCL.
    release: Option<String>,
}

/// A worker pool: a worker run from the web service's image.
#[derive(Serialize)]
struct WorkerPool {
    ident: String,
    name: String,
    account_id: String,
    cpu: &'static str,
    memory: String,
    /// Instances kept running (one for a scheduler).
    count: u32,
    vpc: bool,
    env: Vec<Env>,
    secrets: Vec<String>,
    /// Its start command as a `/bin/sh -c` script, already HCL.
    start: String,
    /// Its settings read the project number (the web service's address).
    #[serde(skip)]
    project_number: bool,
}

/// The workers of `d` as worker pools beside `web`: each from the web
/// service's folder and image, with a start command.
fn worker_pools(d: &Decision, web: &ServicePlan) -> Result<Vec<WorkerPool>, RenderError> {
    let mut out = Vec::new();
    for w in d.services.iter().filter(|s| s.kind == ServiceKind::Worker) {
        let who = format!("the worker `{}`", w.name);
        // The web service's image holds its folder's code and dependencies.
        let same_folder = w.path.trim_start_matches("./") == web.path.trim_start_matches("./");
        if !same_folder {
            return Err(crate::unsupported(
                d,
                &format!("{who} from another folder than the web service on Cloud Run"),
                "a Cloud Run worker pool runs the web service's image here: ask for Kubernetes (\"on GKE\") for services built apart",
            ));
        }
        let Some(start) = w.start.as_deref() else {
            return Err(crate::unsupported(
                d,
                &format!("{who} without a start command"),
                "say how it starts (a Procfile line such as `worker: rq worker`)",
            ));
        };
        let s = service(d, w)?;
        let count = if crate::vm_service::is_scheduler(w) {
            1
        } else {
            w.scaling.as_ref().map_or(1, |sc| sc.min.max(1))
        };
        out.push(WorkerPool {
            ident: s.ident,
            name: s.name,
            account_id: s.account_id,
            cpu: s.cpu,
            memory: s.memory,
            count,
            vpc: s.vpc,
            env: s.env,
            secrets: s.secrets,
            start: hcl(&format!(
                "{}{}",
                crate::docker::cd_in_image(w),
                crate::escape::exec_line(start)
            )),
            project_number: s.project_number,
        });
    }
    Ok(out)
}

/// Cloud Run's CPU limits are whole vCPUs from a fixed set.
fn cpu(vcpu: Option<f64>) -> &'static str {
    match vcpu.unwrap_or(1.0) {
        v if v <= 1.0 => "1",
        v if v <= 2.0 => "2",
        v if v <= 4.0 => "4",
        _ => "8",
    }
}

/// A service's runtime service account ID: the deployment's name and the
/// service's (IDs are unique in a project, so two deployments of apps that
/// both have a `web` must not share `run-web-sa`), 6–30 characters.
fn account_id(deployment: &str, service: &str) -> String {
    super::gcp_name(
        &format!(
            "{}-{}-sa",
            super::gcp_name(deployment, 14),
            super::gcp_name(service, 12)
        ),
        30,
    )
}

fn service(d: &Decision, s: &ServicePlan) -> Result<Svc, RenderError> {
    let ident = tf_ident(&s.name);
    let mut env = Vec::new();
    let mut secrets = Vec::new();
    let name = super::gcp_name(&s.name, 28);
    // The deterministic run.app host of the service.
    let run_host = format!(
        "${{local.name}}-{name}-${{data.google_project.this.number}}.${{var.region}}.run.app"
    );
    let domain = d.tls.domain.as_deref().map(hcl_inner);
    let mut project_number = false;
    // The Host the probes send, when an allowed-hosts setting must accept it.
    let mut probe_host: Option<String> = None;
    for b in &s.env {
        // Cloud Run sets PORT itself and refuses it in the spec.
        if b.name == "PORT" {
            continue;
        }
        let mut secret_ref = |label: String| {
            if !secrets.contains(&label) {
                secrets.push(label.clone());
            }
            (None, Some(label))
        };
        let (value, secret) = match &b.value {
            EnvValue::Literal { value } => (Some(hcl(value)), None),
            EnvValue::Input { variable } => (Some(format!("var.{}", tf_ident(variable))), None),
            EnvValue::Deployment { output } => {
                let v = match (output, &domain) {
                    (DeploymentOutput::Port, _) => hcl(&s.port.unwrap_or(8080).to_string()),
                    (DeploymentOutput::ListenAddress, _) => {
                        hcl(&format!("0.0.0.0:{}", s.port.unwrap_or(8080)))
                    }
                    (DeploymentOutput::PublicUrl, Some(dm)) => format!("\"https://{dm}\""),
                    (DeploymentOutput::PublicHost, Some(dm)) => format!("\"{dm}\""),
                    (DeploymentOutput::AllowedHosts, Some(dm)) => {
                        project_number = true;
                        probe_host = Some(format!("\"{dm}\""));
                        format!("\"{dm},{run_host}\"")
                    }
                    (DeploymentOutput::PublicUrl, None) => {
                        project_number = true;
                        format!("\"https://{run_host}\"")
                    }
                    (DeploymentOutput::PublicHost | DeploymentOutput::AllowedHosts, None) => {
                        project_number = true;
                        if *output == DeploymentOutput::AllowedHosts {
                            probe_host = Some(format!("\"{run_host}\""));
                        }
                        format!("\"{run_host}\"")
                    }
                };
                (Some(v), None)
            }
            EnvValue::GeneratedSecret { secret } | EnvValue::UserSecret { secret } => {
                secret_ref(tf_ident(secret))
            }
            EnvValue::Database { .. } | EnvValue::Cache { .. } => {
                match cloud_run_ref(d, &b.value)? {
                    Some(DataRef::Value(v)) => (Some(v), None),
                    Some(DataRef::Secret(slot)) => secret_ref(tf_ident(&slot)),
                    None => (Some(hcl("")), None),
                }
            }
            EnvValue::ServiceUrl { .. } => {
                return Err(crate::unsupported(
                    d,
                    &format!(
                        "environment variable `{}` of service `{}` (another service's URL)",
                        b.name, s.name
                    ),
                    "Cloud Run bundles run one service",
                ))
            }
        };
        env.push(Env {
            name: hcl(&b.name),
            value,
            secret,
        });
    }
    let (min, max, concurrency) = match &s.scaling {
        Some(sc) => (
            sc.min,
            sc.max.max(1),
            sc.autoscaling
                .as_ref()
                .filter(|a| a.metric == ScalingMetric::ConcurrentRequests)
                .map(|a| (a.target.round() as u32).clamp(1, 1000)),
        ),
        None => (0, 1, None),
    };
    let memory = s
        .compute
        .as_ref()
        .and_then(|c| c.memory_mib)
        .unwrap_or(512)
        .max(512);
    let build = build_command(d, s)?;
    Ok(Svc {
        ident,
        name,
        account_id: account_id(&d.name, &s.name),
        port: s.port.unwrap_or(8080),
        cpu: cpu(s.compute.as_ref().and_then(|c| c.vcpu)),
        memory: format!("{memory}Mi"),
        min,
        max: max.max(min),
        concurrency,
        health: s.health_check.as_ref().map(|h| Probe {
            http_path: (!h.accept.needs_tcp_probe()).then(|| hcl(&h.path)),
            host: probe_host.clone(),
        }),
        public: s.public,
        vpc: d.database.is_some() || d.cache.is_some(),
        project_number,
        domain: d.tls.domain.clone(),
        env,
        secrets,
        build,
        release: s.image_release().map(|r| {
            hcl(&format!(
                "set -e\n{}{}",
                crate::docker::cd_in_image(s),
                crate::escape::exec_line(r)
            ))
        }),
    })
}

/// The shell command that builds and pushes a service's image with Cloud
/// Build (placeholders `@PROJECT@` and `@IMAGE@`, filled by Terraform's
/// `replace()` in the outputs), run in the repository root.
pub fn build_command(d: &Decision, s: &ServicePlan) -> Result<String, RenderError> {
    // The project builds its Dockerfile from another folder (a compose
    // `context: .` beside `dockerfile: backend/Dockerfile`): `gcloud builds
    // submit --tag` only takes a Dockerfile at the context's root, so a
    // one-step build configuration names it.
    if let (None, Some(df), Some(ctx)) = (
        crate::docker::bundle_dockerfile(d, &s.name),
        &s.dockerfile,
        &s.dockerfile_context,
    ) {
        let config = format!(
            "steps:\n- name: gcr.io/cloud-builders/docker\n  args: [build, -f, {}, -t, '@IMAGE@', .]\nimages: ['@IMAGE@']\n",
            serde_json::to_string(df).unwrap_or_default()
        );
        return Ok(format!(
            "printf %s {} > /tmp/autodeploy-cloudbuild.yaml && gcloud builds submit --project @PROJECT@ --config /tmp/autodeploy-cloudbuild.yaml {}",
            crate::escape::sh(&config),
            crate::escape::sh(ctx)
        ));
    }
    let dockerfile = match (crate::docker::bundle_dockerfile(d, &s.name), &s.dockerfile) {
        (Some(p), _) => format!("cp <bundle>/{p} ./Dockerfile && "),
        (None, Some(p)) if p == "Dockerfile" || p.ends_with("/Dockerfile") => String::new(),
        _ => {
            return Err(crate::unsupported(
                d,
                &format!("service `{}` without a buildable Dockerfile", s.name),
                "add a Dockerfile or a start command to the service",
            ))
        }
    };
    let context = match (&s.dockerfile, crate::docker::bundle_dockerfile(d, &s.name)) {
        (Some(p), None) => p
            .trim_end_matches("Dockerfile")
            .trim_end_matches('/')
            .to_string(),
        _ => String::new(),
    };
    let context = if context.is_empty() {
        ".".into()
    } else {
        context
    };
    Ok(format!(
        "{dockerfile}gcloud builds submit --project @PROJECT@ --tag @IMAGE@ {}",
        crate::escape::sh(&context)
    ))
}

/// The Cloud Run bundle's files (build, service, domain, outputs).
pub fn render(d: &Decision) -> Result<Part, RenderError> {
    let running: Vec<&ServicePlan> = d
        .services
        .iter()
        .filter(|s| s.kind == ServiceKind::Web)
        .collect();
    let workers = d
        .services
        .iter()
        .filter(|s| s.kind == ServiceKind::Worker)
        .count();
    if running.len() != 1 || running.len() + workers != d.services.len() {
        return Err(crate::unsupported(
            d,
            "a Cloud Run bundle with other than exactly one web service (and its workers)",
            "Cloud Run runs one web service, with its workers as worker pools, here: ask for Kubernetes (\"on GKE\") for several web services, or deploy one service by name (\"just the api\")",
        ));
    }
    let mut svc = service(d, running[0])?;
    let pools = worker_pools(d, running[0])?;
    svc.project_number |= pools.iter().any(|w| w.project_number);
    let mut apis = vec![
        "artifactregistry.googleapis.com",
        "cloudbuild.googleapis.com",
        "iam.googleapis.com",
        "run.googleapis.com",
    ];
    let dns = super::dns::render(d)?;
    apis.extend(dns.apis);
    let data_targets = super::data::targets(d);
    let ctx = serde_json::json!({ "s": svc, "workers": pools, "data_targets": data_targets });
    let mut files = vec![
        file(
            "terraform/cloud_run_build.tf",
            "gcp/cloud_run/build.tf",
            &ctx,
        )?,
        file(
            "terraform/cloud_run_service.tf",
            "gcp/cloud_run/service.tf",
            &ctx,
        )?,
        file("terraform/outputs.tf", "gcp/cloud_run/outputs.tf", &ctx)?,
    ];
    files.extend(dns.files);
    Ok(Part {
        apis,
        files,
        vars: dns.vars,
    })
}

#[cfg(test)]
mod tests {
    use super::account_id;

    #[test]
    fn service_accounts_are_named_per_deployment_and_fit_gcp_rules() {
        assert_eq!(account_id("shop", "web"), "shop-web-sa");
        assert_ne!(account_id("shop", "web"), account_id("blog", "web"));
        for (dep, svc) in [
            ("a", "b"),
            (
                "a-very-long-deployment-name-indeed",
                "an-even-longer-service-name",
            ),
            ("42", "Web_API"),
        ] {
            let id = account_id(dep, svc);
            assert!((6..=30).contains(&id.len()), "{id}");
            assert!(id.starts_with(|c: char| c.is_ascii_lowercase()), "{id}");
            assert!(!id.ends_with('-'), "{id}");
            assert!(id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
        }
    }
}
