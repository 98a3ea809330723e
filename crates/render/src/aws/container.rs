//! AWS container strategy: the image is built by CodeBuild from a source
//! archive the deploy stage uploads to S3 (no local Docker), pushed to ECR,
//! and run as ECS Fargate services in the plan's subnets with
//! `aws_security_group.app`; the web service sits behind the ALB
//! `aws_lb.main` (`aws_lb_listener.http`, `aws_lb_target_group.web`), workers
//! run without one. Env vars come from the plan: literals and references in
//! `environment`, secrets as `secrets` with `valueFrom` a Secrets Manager ARN
//! (never a value). Connection URLs that embed a password (`DATABASE_URL`,
//! `REDIS_URL`…) are assembled by the container's start command from parts
//! (see [`scripts`]).
//!
//! Start and release are separate: the start script never runs the release
//! step (migrations). The `release_tasks` output names, per service with a
//! release step, the task definition, container, command override (a script
//! assembling the same URLs, then the release step) and network
//! configuration of a one-off Fargate task the deploy runs once.
//!
//! Files: `container_build.tf` (ECR, source bucket, CodeBuild),
//! `container_ecs.tf` (cluster, logs, roles), `container_tasks.tf` (task
//! definitions), `container_services.tf` (services, autoscaling),
//! `container_alb.tf` (load balancer), `container_outputs.tf`.
//!
//! Deploy order (the deploy stage's job, `autodeploy_aws::release_container`):
//! `terraform apply` (the services ignore task-definition changes, so apply
//! never starts a rollout of an image that is not built yet); upload the
//! repository as a zip to `source_bucket`/`source_key`; start the CodeBuild
//! project and wait; run each `release_tasks` entry as a one-off task and
//! wait for it to stop with exit code 0; update each service to its
//! `ecs_task_definitions` revision with a forced new deployment. Not here:
//! the Dockerfile itself (docker.rs), the VPC and security groups
//! (network.rs), data stores and secrets (data.rs), HTTPS (tls.rs).

use super::data::{secret_arn, tf_ident, DB_PASSWORD_VALUE_FROM};
use crate::escape::{exec_line, hcl, sh};
use crate::{file, BundleFile, RenderError};
use autodeploy_core::{
    CacheOutput, DatabaseEngine, DatabaseOutput, Decision, DeploymentOutput, EnvValue,
    HealthAnswer, Hosting, ImageSource, ScalingMetric, ServiceKind, ServicePlan, SubnetTier,
};
use serde::Serialize;

/// One `environment` entry: name (already an HCL string) and value (an HCL expression).
#[derive(Serialize)]
struct EnvEntry {
    name: String,
    value: String,
}

#[derive(Serialize)]
struct Autoscaling {
    predefined_metric: &'static str,
    alb_label: bool,
    target: f64,
    scale_in_cooldown: u32,
    scale_out_cooldown: u32,
}

#[derive(Serialize)]
struct HealthCheck {
    path: String,
    /// The ALB `matcher` (the plan's accepted answers).
    matcher: &'static str,
    interval: u32,
    timeout: u32,
    healthy: u32,
    unhealthy: u32,
    grace: u32,
}

#[derive(Serialize)]
struct Svc {
    ident: String,
    name: String,
    cpu: u32,
    memory: u32,
    port: Option<u16>,
    web: bool,
    environment: Vec<EnvEntry>,
    secrets: Vec<EnvEntry>,
    /// Shell script run by `/bin/sh -c` (raw; the template escapes it).
    command: Option<String>,
    /// The release step's script, run by `/bin/sh -c` in a one-off task (raw).
    release: Option<String>,
    /// Dockerfile: in the bundle (`bundle_dockerfile`) or in the archive (`repo_dockerfile`).
    bundle_dockerfile: Option<String>,
    repo_dockerfile: Option<String>,
    context: String,
    desired: u32,
    min: u32,
    max: u32,
    autoscaling: Option<Autoscaling>,
    health: Option<HealthCheck>,
}

/// Where the bundle keeps the Dockerfile docker.rs writes for `svc` (its
/// layout: one running service → `Dockerfile`, several →
/// `docker/<file_name>.Dockerfile`, numbered on a clash). docker.rs has no
/// Analysis-free lookup, so this mirrors its rule.
pub fn bundle_dockerfile_path(d: &Decision, svc: &ServicePlan) -> String {
    let running: Vec<&ServicePlan> = d
        .services
        .iter()
        .filter(|s| matches!(s.kind, ServiceKind::Web | ServiceKind::Worker))
        .collect();
    if running.len() <= 1 {
        return "Dockerfile".into();
    }
    let mut used: Vec<String> = Vec::new();
    for s in running {
        let mut base = crate::docker::file_name(&s.name);
        let mut n = 2;
        while used.contains(&base) {
            base = format!("{}-{n}", crate::docker::file_name(&s.name));
            n += 1;
        }
        used.push(base.clone());
        if std::ptr::eq(s, svc) {
            return format!("docker/{base}.Dockerfile");
        }
    }
    format!("docker/{}.Dockerfile", crate::docker::file_name(&svc.name))
}

fn is_env_name(n: &str) -> bool {
    let mut c = n.chars();
    matches!(c.next(), Some(f) if f == '_' || f.is_ascii_alphabetic())
        && c.all(|x| x == '_' || x.is_ascii_alphanumeric())
}

/// Valid Fargate cpu/memory pairs (cpu units, MiB).
fn fargate_size_ok(cpu: u32, mem: u32) -> bool {
    match cpu {
        256 => matches!(mem, 512 | 1024 | 2048),
        512 => (1024..=4096).contains(&mem) && mem.is_multiple_of(1024),
        1024 => (2048..=8192).contains(&mem) && mem.is_multiple_of(1024),
        2048 => (4096..=16384).contains(&mem) && mem.is_multiple_of(1024),
        4096 => (8192..=30720).contains(&mem) && mem.is_multiple_of(1024),
        8192 => (16384..=61440).contains(&mem) && mem.is_multiple_of(4096),
        16384 => (32768..=122880).contains(&mem) && mem.is_multiple_of(8192),
        _ => false,
    }
}

const URLENCODE: &str = r#"autodeploy_urlencode() {
  s=$1
  o=
  while [ -n "$s" ]; do
    c=${s%"${s#?}"}
    s=${s#?}
    case $c in
      [A-Za-z0-9._~-]) o=$o$c ;;
      *) o=$o$(printf '%%%02X' "'$c") ;;
    esac
  done
  printf '%s' "$o"
}
"#;

/// What a task runs through its `/bin/sh -c` entry point.
struct Scripts {
    /// The start script; `None` when the image's own command can run unchanged.
    start: Option<String>,
    /// The release step under the same environment, run once per deploy as
    /// a one-off task (`release_tasks` output), never by the start script.
    release: Option<String>,
}

/// The task's scripts. Both first assemble the URLs the plan asks for from
/// their parts (plain env vars plus the password injected from Secrets
/// Manager) and move to the service's folder; the start script also adds
/// the task's own addresses to allowed-hosts lists (the ALB health check
/// sends the target IP as Host) and then `exec`s the start command
/// ([`exec_line`]); the release script runs the release step. A service with
/// a release step always gets a start script, so its task definition's
/// entry point is `/bin/sh -c` and the one-off task's command override is
/// a script too.
fn scripts(
    d: &Decision,
    svc: &ServicePlan,
    urls: &[(String, String)],
    allowed_hosts: &[String],
) -> Result<Scripts, RenderError> {
    if urls.is_empty() && allowed_hosts.is_empty() && svc.release.is_none() {
        return Ok(Scripts {
            start: None,
            release: None,
        });
    }
    // The project's image runs its program where its Dockerfile put it,
    // from its own WORKDIR.
    let Some(start) = svc.image_command() else {
        return Err(crate::unsupported(
            d,
            &format!(
                "assembled env vars or a release step for `{}` without a known start command",
                svc.name
            ),
            "the task's start command must wrap the app's own; give the service a start command",
        ));
    };
    let mut env = String::from("set -e\n");
    if urls.iter().any(|(_, u)| u.contains("autodeploy_urlencode")) {
        env.push_str(URLENCODE);
    }
    for (name, value) in urls {
        env.push_str(&format!("export {name}=\"{value}\"\n"));
    }
    if urls
        .iter()
        .any(|(_, u)| u.contains("AUTODEPLOY_DB_PASSWORD"))
    {
        env.push_str("unset AUTODEPLOY_DB_PASSWORD\n");
    }
    if urls
        .iter()
        .any(|(_, u)| u.contains("AUTODEPLOY_CACHE_AUTH"))
    {
        env.push_str("unset AUTODEPLOY_CACHE_AUTH\n");
    }
    // Same working folder as the image's own CMD.
    let cd = crate::docker::cd_in_image(svc);
    let mut s = env.clone();
    for name in allowed_hosts {
        s.push_str(&format!(
            "for ip in $(hostname -i 2>/dev/null || true); do {name}=\"${name},$ip\"; done\nexport {name}\n"
        ));
    }
    s.push_str(&cd);
    s.push_str(&exec_line(start));
    Ok(Scripts {
        start: Some(s),
        release: svc
            .image_release()
            .map(|r| format!("{env}{cd}{}", exec_line(r))),
    })
}

/// `container_*.tf`.
pub fn render(d: &Decision) -> Result<Vec<BundleFile>, RenderError> {
    let Some(net) = &d.network else {
        return Err(crate::unsupported(
            d,
            "ECS Fargate without a VPC",
            "the decision has no network plan",
        ));
    };
    let https = super::tls::alb_https(d);
    let lb = super::network::has_alb(d);
    let target = match &d.load_balancer {
        Some(plan) if lb => match plan.targets.as_slice() {
            [one] => Some(one.clone()),
            _ => {
                return Err(crate::unsupported(
                    d,
                    "several services behind one load balancer",
                    "path- or host-based routing to several ECS web services is not written yet: ask for Kubernetes (\"on EKS\"), whose ingress routes each web service, or deploy one of them by name (\"just the api\")",
                ))
            }
        },
        Some(_) => {
            return Err(crate::unsupported(
                d,
                "a load balancer other than an ALB for ECS",
                "ECS services sit behind an Application Load Balancer",
            ))
        }
        None => None,
    };
    // A static site in front (CloudFront forwarding the API's path to the
    // ALB) is the deployment's address; static_site.rs renders it.
    let site = d.site_front();
    let site_host = site.map(|_| match &d.tls.domain {
        Some(domain) if d.tls.https => hcl(domain),
        _ => "aws_cloudfront_distribution.site.domain_name".to_string(),
    });
    let public_url = match (&d.tls.domain, https, lb) {
        _ if site.is_some() => Some(match &d.tls.domain {
            Some(domain) if d.tls.https => hcl(&format!("https://{domain}")),
            _ => "\"https://${aws_cloudfront_distribution.site.domain_name}\"".to_string(),
        }),
        (Some(domain), true, _) => Some(hcl(&format!("https://{domain}"))),
        (_, _, true) => Some("\"http://${aws_lb.main.dns_name}\"".to_string()),
        _ => None,
    };
    let public_host = match (&d.tls.domain, https, lb) {
        _ if site_host.is_some() => site_host.clone(),
        (Some(domain), true, _) => Some(hcl(domain)),
        (_, _, true) => Some("aws_lb.main.dns_name".to_string()),
        _ => None,
    };
    let allowed_hosts = match (&d.tls.domain, https, lb) {
        // CloudFront sends the ALB's name as Host; the site's name is
        // listed for apps that check their public address too.
        (_, _, true) if site_host.is_some() => Some(format!(
            "join(\",\", [{}, aws_lb.main.dns_name, \"localhost\", \"127.0.0.1\"])",
            site_host.clone().unwrap_or_default()
        )),
        (Some(domain), true, _) => Some(format!(
            "join(\",\", [{}, aws_lb.main.dns_name, \"localhost\", \"127.0.0.1\"])",
            hcl(domain)
        )),
        (_, _, true) => {
            Some("join(\",\", [aws_lb.main.dns_name, \"localhost\", \"127.0.0.1\"])".to_string())
        }
        _ => None,
    };

    let mut services = Vec::new();
    let mut idents: Vec<String> = Vec::new();
    // Bundle input variables (non-secret settings the user provides).
    let mut inputs: Vec<String> = Vec::new();
    for svc in &d.services {
        if svc.api_route.is_some() {
            continue;
        }
        if svc.hosting != Hosting::EcsFargate {
            return Err(crate::unsupported(
                d,
                &format!(
                    "service `{}` hosted on {:?} beside ECS",
                    svc.name, svc.hosting
                ),
                "a container bundle runs every service on ECS Fargate",
            ));
        }
        let mut ident = tf_ident(&svc.name);
        while idents.contains(&ident) {
            ident.push('_');
        }
        idents.push(ident.clone());
        let web = target.as_deref() == Some(svc.name.as_str());
        let compute = svc.compute.as_ref().ok_or_else(|| {
            crate::unsupported(
                d,
                &format!("service `{}` without a size", svc.name),
                "decide sets vCPU and memory for ECS services",
            )
        })?;
        let (Some(vcpu), Some(memory)) = (compute.vcpu, compute.memory_mib) else {
            return Err(crate::unsupported(
                d,
                &format!("service `{}` without vCPU/memory", svc.name),
                "decide sets vCPU and memory for ECS services",
            ));
        };
        let cpu = (vcpu * 1024.0).round() as u32;
        if !fargate_size_ok(cpu, memory) {
            return Err(crate::unsupported(
                d,
                &format!("{vcpu} vCPU with {memory} MiB on Fargate"),
                "Fargate accepts fixed cpu/memory pairs (e.g. 0.5 vCPU with 1-4 GiB)",
            ));
        }
        if web && svc.port.is_none() {
            return Err(crate::unsupported(
                d,
                &format!("web service `{}` without a port", svc.name),
                "the load balancer needs the container port",
            ));
        }

        let mut environment = Vec::new();
        let mut secrets = Vec::new();
        let mut urls: Vec<(String, String)> = Vec::new();
        let mut hosts_vars = Vec::new();
        let (mut db_parts, mut cache_parts) = (false, false);
        let need_lb = |what: &str| {
            crate::unsupported(
                d,
                &format!("{what} without a load balancer"),
                "the public address comes from the ALB",
            )
        };
        for e in &svc.env {
            let name = hcl(&e.name);
            let mut env = |value: String| {
                environment.push(EnvEntry {
                    name: name.clone(),
                    value,
                })
            };
            match &e.value {
                EnvValue::Literal { value } => env(hcl(value)),
                EnvValue::Input { variable } => {
                    let var = tf_ident(variable);
                    if !inputs.contains(&var) {
                        inputs.push(var.clone());
                    }
                    env(format!("var.{var}"))
                }
                EnvValue::GeneratedSecret { secret } | EnvValue::UserSecret { secret } => secrets
                    .push(EnvEntry {
                        name: name.clone(),
                        value: secret_arn(secret),
                    }),
                EnvValue::Deployment { output } => match output {
                    DeploymentOutput::PublicUrl => {
                        env(public_url.clone().ok_or_else(|| need_lb("a public URL"))?)
                    }
                    DeploymentOutput::PublicHost => env(public_host
                        .clone()
                        .ok_or_else(|| need_lb("a public host"))?),
                    DeploymentOutput::AllowedHosts => {
                        if !is_env_name(&e.name) {
                            return Err(crate::unsupported(
                                d,
                                &format!("allowed hosts in env var {:?}", e.name),
                                "the start command can only extend env vars with shell-safe names",
                            ));
                        }
                        env(allowed_hosts
                            .clone()
                            .ok_or_else(|| need_lb("allowed hosts"))?);
                        hosts_vars.push(e.name.clone());
                    }
                    DeploymentOutput::Port | DeploymentOutput::ListenAddress => {
                        let port = svc.port.ok_or_else(|| {
                            crate::unsupported(d, "a port env var for a service without a port", "")
                        })?;
                        env(hcl(&if *output == DeploymentOutput::Port {
                            port.to_string()
                        } else {
                            format!("0.0.0.0:{port}")
                        }))
                    }
                },
                EnvValue::ServiceUrl { service } => {
                    if target.as_deref() != Some(service.as_str()) {
                        return Err(crate::unsupported(
                            d,
                            &format!("the URL of service `{service}`"),
                            "only the service behind the load balancer has a public URL",
                        ));
                    }
                    env(public_url.clone().ok_or_else(|| need_lb("a service URL"))?)
                }
                EnvValue::Database {
                    output,
                    scheme: wanted,
                } => {
                    let Some(db) = d
                        .database
                        .as_ref()
                        .filter(|db| db.service == autodeploy_core::DataService::AwsRds)
                    else {
                        return Err(crate::unsupported(
                            d,
                            &format!(
                                "{} from a {} database on {}",
                                e.name,
                                d.database.as_ref().map_or("missing".to_string(), |db| format!("{:?}", db.engine)),
                                d.database.as_ref().map_or("nothing".to_string(), |db| format!("{:?}", db.service)),
                            ),
                            "ECS tasks are wired to RDS PostgreSQL/MySQL only (DocumentDB is not written yet)",
                        ));
                    };
                    let jdbc = match db.engine {
                        DatabaseEngine::Postgresql => "postgresql",
                        DatabaseEngine::Mysql => "mysql",
                        _ => {
                            return Err(crate::unsupported(
                                d,
                                "this database engine",
                                "RDS here is PostgreSQL or MySQL",
                            ))
                        }
                    };
                    let scheme = match wanted.as_deref() {
                        None => jdbc,
                        Some(s) if autodeploy_core::conn::is_url_scheme(s) => s,
                        Some(s) => {
                            return Err(crate::unsupported(
                                d,
                                &format!("the URL scheme {s:?} for {}", e.name),
                                "a scheme is letters, digits, `+`, `-` and `.`",
                            ))
                        }
                    };
                    match output {
                        DatabaseOutput::Host => env("aws_db_instance.main.address".into()),
                        DatabaseOutput::Port => env("tostring(aws_db_instance.main.port)".into()),
                        DatabaseOutput::Name => env("aws_db_instance.main.db_name".into()),
                        DatabaseOutput::Username => env("aws_db_instance.main.username".into()),
                        DatabaseOutput::JdbcUrl => env(format!(
                            "\"jdbc:{jdbc}://${{aws_db_instance.main.endpoint}}/${{aws_db_instance.main.db_name}}\""
                        )),
                        DatabaseOutput::Password => secrets.push(EnvEntry {
                            name: name.clone(),
                            value: DB_PASSWORD_VALUE_FROM.into(),
                        }),
                        DatabaseOutput::Url
                        | DatabaseOutput::AdoConnectionString
                        | DatabaseOutput::MysqlDsn => {
                            if !is_env_name(&e.name) {
                                return Err(crate::unsupported(
                                    d,
                                    &format!("an assembled URL in env var {:?}", e.name),
                                    "the start command can only set env vars with shell-safe names",
                                ));
                            }
                            db_parts = true;
                            let v = if *output == DatabaseOutput::Url {
                                format!("{scheme}://$(autodeploy_urlencode \"$AUTODEPLOY_DB_USER\"):$(autodeploy_urlencode \"$AUTODEPLOY_DB_PASSWORD\")@$AUTODEPLOY_DB_HOST:$AUTODEPLOY_DB_PORT/$AUTODEPLOY_DB_NAME")
                            } else if *output == DatabaseOutput::MysqlDsn {
                                // go-sql-driver/mysql reads the DSN raw (no percent-decoding).
                                "${AUTODEPLOY_DB_USER}:${AUTODEPLOY_DB_PASSWORD}@tcp(${AUTODEPLOY_DB_HOST}:${AUTODEPLOY_DB_PORT})/${AUTODEPLOY_DB_NAME}".into()
                            } else if db.engine == DatabaseEngine::Postgresql {
                                "Host=$AUTODEPLOY_DB_HOST;Port=$AUTODEPLOY_DB_PORT;Database=$AUTODEPLOY_DB_NAME;Username=$AUTODEPLOY_DB_USER;Password=\\\"$AUTODEPLOY_DB_PASSWORD\\\";SSL Mode=Require".into()
                            } else {
                                "Server=$AUTODEPLOY_DB_HOST;Port=$AUTODEPLOY_DB_PORT;Database=$AUTODEPLOY_DB_NAME;User ID=$AUTODEPLOY_DB_USER;Password=\\\"$AUTODEPLOY_DB_PASSWORD\\\";SslMode=Required".into()
                            };
                            urls.push((e.name.clone(), v));
                        }
                    }
                }
                EnvValue::Cache { output } => {
                    let Some(c) = d
                        .cache
                        .as_ref()
                        .filter(|c| c.service == autodeploy_core::DataService::AwsElasticache)
                    else {
                        return Err(crate::unsupported(
                            d,
                            &format!("{} from a cache that is not ElastiCache", e.name),
                            "cache env vars are wired to ElastiCache",
                        ));
                    };
                    let host = "aws_elasticache_replication_group.main.primary_endpoint_address";
                    match output {
                        CacheOutput::Host => env(host.into()),
                        CacheOutput::Port => {
                            env("tostring(aws_elasticache_replication_group.main.port)".into())
                        }
                        CacheOutput::Address => env(format!(
                            "\"${{{host}}}:${{aws_elasticache_replication_group.main.port}}\""
                        )),
                        CacheOutput::Password => {
                            let Some(auth) = &c.auth else {
                                return Err(crate::unsupported(
                                    d,
                                    "a cache password with no auth token",
                                    "the cache plan has no auth",
                                ));
                            };
                            secrets.push(EnvEntry {
                                name: name.clone(),
                                value: secret_arn(&auth.secret),
                            })
                        }
                        CacheOutput::Url => {
                            if !is_env_name(&e.name) {
                                return Err(crate::unsupported(
                                    d,
                                    &format!("an assembled URL in env var {:?}", e.name),
                                    "the start command can only set env vars with shell-safe names",
                                ));
                            }
                            cache_parts = true;
                            let scheme = if c.transit_encryption {
                                "rediss"
                            } else {
                                "redis"
                            };
                            let query = if c.transit_encryption {
                                crate::tls_url_query(&svc.runtime.family)
                            } else {
                                ""
                            };
                            let cred = if c.auth.is_some() {
                                ":$(autodeploy_urlencode \"$AUTODEPLOY_CACHE_AUTH\")@"
                            } else {
                                ""
                            };
                            urls.push((
                                e.name.clone(),
                                format!("{scheme}://{cred}$AUTODEPLOY_CACHE_HOST:$AUTODEPLOY_CACHE_PORT/0{query}"),
                            ));
                        }
                    }
                }
            }
        }
        if db_parts {
            let part = |n: &str, v: &str| EnvEntry {
                name: hcl(n),
                value: v.into(),
            };
            environment.push(part("AUTODEPLOY_DB_HOST", "aws_db_instance.main.address"));
            environment.push(part(
                "AUTODEPLOY_DB_PORT",
                "tostring(aws_db_instance.main.port)",
            ));
            environment.push(part("AUTODEPLOY_DB_NAME", "aws_db_instance.main.db_name"));
            environment.push(part("AUTODEPLOY_DB_USER", "aws_db_instance.main.username"));
            secrets.push(part("AUTODEPLOY_DB_PASSWORD", DB_PASSWORD_VALUE_FROM));
        }
        if cache_parts {
            let part = |n: &str, v: String| EnvEntry {
                name: hcl(n),
                value: v,
            };
            environment.push(part(
                "AUTODEPLOY_CACHE_HOST",
                "aws_elasticache_replication_group.main.primary_endpoint_address".into(),
            ));
            environment.push(part(
                "AUTODEPLOY_CACHE_PORT",
                "tostring(aws_elasticache_replication_group.main.port)".into(),
            ));
            if let Some(auth) = d.cache.as_ref().and_then(|c| c.auth.as_ref()) {
                secrets.push(part("AUTODEPLOY_CACHE_AUTH", secret_arn(&auth.secret)));
            }
        }
        let Scripts {
            start: command,
            release,
        } = scripts(d, svc, &urls, &hosts_vars)?;

        let scaling = svc.scaling.as_ref();
        let autoscaling = match scaling.and_then(|s| s.autoscaling.as_ref()) {
            Some(a) if scaling.is_some_and(|s| s.max > s.min) => Some(Autoscaling {
                predefined_metric: match a.metric {
                    ScalingMetric::CpuUtilization => "ECSServiceAverageCPUUtilization",
                    ScalingMetric::ConcurrentRequests if web => "ALBRequestCountPerTarget",
                    ScalingMetric::ConcurrentRequests => {
                        return Err(crate::unsupported(
                            d,
                            "request-based scaling for a service without a load balancer",
                            "scale workers on CPU",
                        ))
                    }
                },
                alb_label: a.metric == ScalingMetric::ConcurrentRequests,
                target: a.target,
                scale_in_cooldown: a.scale_in_cooldown_seconds,
                scale_out_cooldown: a.scale_out_cooldown_seconds,
            }),
            _ => None,
        };
        let health = if web {
            let h = svc.health_check.as_ref();
            let path = h
                .map(|h| h.path.clone())
                .or_else(|| {
                    d.load_balancer
                        .as_ref()
                        .map(|l| l.health_check_path.clone())
                })
                .unwrap_or_else(|| "/".into());
            Some(HealthCheck {
                path,
                matcher: h.map_or(HealthAnswer::AnyAnswer, |h| h.accept).codes(),
                interval: h.map_or(30, |h| h.interval_seconds),
                timeout: h.map_or(5, |h| h.timeout_seconds),
                healthy: h.map_or(2, |h| h.healthy_threshold),
                unhealthy: h.map_or(3, |h| h.unhealthy_threshold),
                grace: h.map_or(60, |h| h.grace_period_seconds),
            })
        } else {
            None
        };
        // docker.rs renders a Dockerfile for every service it can build
        // (it needs a start command); otherwise the repository's own is used.
        let own = svc.image == ImageSource::Repository;
        let (bundle_dockerfile, repo_dockerfile, context) = match (&svc.start, &svc.dockerfile) {
            // The folder the project builds its Dockerfile from (a compose
            // `context: .` beside `dockerfile: backend/Dockerfile`), else the
            // service's own.
            (_, Some(p)) if own => (None, Some(p.clone()), repo_context(svc)),
            (None, Some(p)) => (None, Some(p.clone()), repo_context(svc)),
            (None, None) => {
                return Err(crate::unsupported(
                    d,
                    &format!(
                        "service `{}` with neither a start command nor a Dockerfile",
                        svc.name
                    ),
                    "add a Dockerfile or a start command to the service",
                ))
            }
            // docker.rs builds with the repository root as context.
            (Some(_), _) => (Some(bundle_dockerfile_path(d, svc)), None, ".".to_string()),
        };
        services.push(Svc {
            ident,
            name: svc.name.clone(),
            cpu,
            memory,
            port: svc.port,
            web,
            environment,
            secrets,
            command,
            release,
            bundle_dockerfile,
            repo_dockerfile,
            context,
            desired: scaling.map_or(1, |s| s.desired),
            min: scaling.map_or(1, |s| s.min),
            max: scaling.map_or(1, |s| s.max),
            autoscaling,
            health,
        });
    }
    if services.is_empty() {
        return Err(crate::unsupported(
            d,
            "a container bundle with no service",
            "",
        ));
    }

    let build_commands = build_commands(&services);
    let secret_arns: Vec<String> = {
        let mut v: Vec<String> = services
            .iter()
            .flat_map(|s| s.secrets.iter().map(|e| e.value.clone()))
            .map(|v| {
                if v == DB_PASSWORD_VALUE_FROM {
                    super::data::DB_SECRET_ARN.to_string()
                } else {
                    v
                }
            })
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let ctx = serde_json::json!({
        "services": services,
        "inputs": inputs,
        "build_commands": build_commands,
        "secret_arns": secret_arns,
        "private": net.app_subnet_tier == SubnetTier::Private,
        "has_release": services.iter().any(|s| s.release.is_some()),
        "lb": target.is_some(),
        "https": https,
        "site": site.is_some(),
        "idle_timeout": d.load_balancer.as_ref().map_or(60, |l| l.idle_timeout_seconds),
        "production": d.environment == autodeploy_core::Environment::Production,
        "commit": d.source.commit.clone(),
    });
    let mut files = vec![
        file(
            "terraform/container_build.tf",
            "aws/container/build.tf",
            &ctx,
        )?,
        file("terraform/container_ecs.tf", "aws/container/ecs.tf", &ctx)?,
        file(
            "terraform/container_tasks.tf",
            "aws/container/tasks.tf",
            &ctx,
        )?,
        file(
            "terraform/container_services.tf",
            "aws/container/services.tf",
            &ctx,
        )?,
        file(
            "terraform/container_outputs.tf",
            "aws/container/outputs.tf",
            &ctx,
        )?,
    ];
    if target.is_some() {
        files.push(file(
            "terraform/container_alb.tf",
            "aws/container/alb.tf",
            &ctx,
        )?);
    }
    Ok(files)
}

/// The build context of the project's own Dockerfile: the folder the
/// project builds it from, else the service's folder.
fn repo_context(svc: &ServicePlan) -> String {
    svc.dockerfile_context
        .clone()
        .unwrap_or_else(|| svc.path.clone())
}

/// The CodeBuild build phase: per service, fetch the bundle's Dockerfile
/// from the source bucket (or use the repository's own), build in the
/// service's folder, push. Values are shell-quoted here; the template makes
/// the whole command an HCL string.
fn build_commands(services: &[Svc]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, s) in services.iter().enumerate() {
        let repo = format!("\"$REPO_{i}:$IMAGE_TAG\"");
        let dockerfile = match (&s.bundle_dockerfile, &s.repo_dockerfile) {
            (Some(_), _) => {
                out.push(format!(
                    "aws s3 cp \"s3://$SOURCE_BUCKET/dockerfiles/{}/Dockerfile\" /tmp/autodeploy-{i}.Dockerfile",
                    s.ident
                ));
                format!("/tmp/autodeploy-{i}.Dockerfile")
            }
            (None, Some(p)) => sh(p),
            (None, None) => unreachable!("every service has a Dockerfile"),
        };
        out.push(format!(
            "if aws ecr describe-images --repository-name \"$REPO_NAME_{i}\" --image-ids imageTag=\"$IMAGE_TAG\" >/dev/null 2>&1; then echo \"image $IMAGE_TAG exists\"; else docker build -f {dockerfile} -t {repo} {} && docker push {repo}; fi",
            sh(&s.context)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{fargate_size_ok, is_env_name};
    use crate::docker::plain_path;

    #[test]
    fn fargate_sizes_are_the_documented_pairs() {
        assert!(fargate_size_ok(512, 2048));
        assert!(fargate_size_ok(256, 512));
        assert!(!fargate_size_ok(256, 4096));
        assert!(!fargate_size_ok(1024, 1024));
        assert!(!fargate_size_ok(300, 1024));
    }

    #[test]
    fn only_shell_safe_names_are_exported_by_the_start_script() {
        assert!(is_env_name("DATABASE_URL"));
        assert!(is_env_name("_X1"));
        assert!(!is_env_name("1X"));
        assert!(!is_env_name("A-B"));
        assert!(!is_env_name("X;rm -rf /"));
        assert!(!is_env_name(""));
    }

    #[test]
    fn plain_paths_are_the_ones_a_workdir_takes_verbatim() {
        assert!(plain_path("backend/api"));
        assert!(!plain_path("web $(touch pwned)"));
        assert!(!plain_path("../x"));
        assert!(!plain_path("/abs"));
    }
}
