//! The AWS vm strategy: one EC2 instance with an Elastic IP and nginx in
//! front (`scaling.max == 1`), or a launch template + Auto Scaling group
//! behind an ALB (`aws_lb.main`, `aws_lb_listener.http`,
//! `aws_lb_target_group.web`) with a target-tracking policy. Writes
//! `terraform/compute.tf`, `terraform/outputs.tf` and the bundle's
//! `cloud-init.yaml` (runtime, code at the analysed commit, source fixes,
//! install/build/release, one systemd unit per process, nginx, health wait).
//!
//! A machine runs the web service and the workers beside it from the same
//! folder and runtime (`vm_service::machine`): one install, the release step
//! once before any process starts, `app.service` behind nginx and the ALB's
//! health check, `app-<name>.service` per worker with its own command and
//! its own settings. On an Auto Scaling group every instance runs every
//! worker (queue workers are safe N times; a scheduler such as Celery beat is
//! refused on a group that can grow past one instance).
//!
//! Repository values (commands, paths, env names and values, source fixes)
//! land in cloud-init only as one YAML-quoted JSON document
//! (`/etc/autodeploy/app.json`) read by a fixed launcher script, or as
//! YAML-quoted, shell-quoted words; Terraform reads the file with `file()`, so
//! nothing in it is ever interpolated by Terraform.
//!
//! Not here: the network and security groups (network.rs), databases and
//! secrets (data.rs), certificates (tls.rs). Not covered (`unsupported`):
//! several web services, workers from another folder or runtime, a
//! scheduler on a group, another service's URL, https on the instance,
//! static or Dockerfile-only services.

use super::data::DB_SECRET_ARN;
use crate::vm_service::{machine as vm_machine, vm_service, Hints, Host, Machine};
use crate::{file, render_template, unsupported, BundleFile, RenderError};
use autodeploy_core::{
    CacheOutput, DataService, DatabaseEngine, DatabaseOutput, Decision, DeploymentOutput, EnvValue,
    HealthAnswer, Hosting, ScalingMetric, ServicePlan, SourceKind, SubnetTier,
};
use serde_json::{json, Value};

/// What the machines run: the web service and its workers, checked.
fn machine(d: &Decision) -> Result<Machine<'_>, RenderError> {
    vm_machine(
        d,
        &Host {
            accepts: |h| matches!(h, Hosting::Ec2 | Hosting::Ec2Autoscaling),
            runs: "the vm strategy runs EC2 instances",
            several: "ask for containers (\"on ECS\"), or Kubernetes (\"on EKS\") for several web services",
            scaled: autoscaling,
        },
    )
}

fn autoscaling(s: &ServicePlan) -> bool {
    s.hosting == Hosting::Ec2Autoscaling
        || s.scaling
            .as_ref()
            .is_some_and(|sc| sc.max > 1 || sc.autoscaling.is_some())
}

fn instance_type(s: &ServicePlan) -> String {
    s.compute
        .as_ref()
        .and_then(|c| c.instance_type.clone())
        .unwrap_or_else(|| "t3.small".into())
}

/// `arm64` for Graviton families (`t4g`, `m7g`, `c7gn`…), else `amd64`.
fn arch(instance_type: &str) -> &'static str {
    let family = instance_type.split('.').next().unwrap_or_default();
    let after_digit: String = family
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .skip_while(|c| c.is_ascii_digit())
        .collect();
    if after_digit.contains('g') {
        "arm64"
    } else {
        "amd64"
    }
}

/// An input variable name usable as a Terraform identifier and an instance tag key.
fn check_input(d: &Decision, variable: &str) -> Result<(), RenderError> {
    let ok = variable
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && variable
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && variable.len() <= 64
        && ![
            "region",
            "name",
            "environment",
            "app_commit",
            "instance_type",
            "root_volume_size",
            "monitoring",
            "min_size",
            "max_size",
            "desired_capacity",
            "scaling_target",
        ]
        .contains(&variable);
    if ok {
        Ok(())
    } else {
        Err(unsupported(
            d,
            &format!("the input variable {variable:?}"),
            "input variables need a plain identifier that no built-in variable uses",
        ))
    }
}

/// Every env binding of the machine's processes.
fn bindings<'a>(m: &'a Machine) -> impl Iterator<Item = &'a autodeploy_core::EnvBinding> + 'a {
    m.services().flat_map(|s| &s.env)
}

/// The bundle inputs the processes' env reads: (variable, env var name), checked.
fn inputs(d: &Decision, m: &Machine) -> Result<Vec<Value>, RenderError> {
    let mut out: Vec<Value> = Vec::new();
    for e in bindings(m) {
        if let EnvValue::Input { variable } = &e.value {
            check_input(d, variable)?;
            if !out.iter().any(|v| v["variable"] == variable.as_str()) {
                out.push(json!({"variable": variable, "env": e.name}));
            }
        }
    }
    Ok(out)
}

/// The Secrets Manager secrets (declared by data.rs) the processes' env reads:
/// `{ident, arn}` where `arn` is a Terraform reference.
fn secrets(d: &Decision, m: &Machine) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mut add = |ident: String, arn: String| {
        if !out.iter().any(|v| v["ident"] == ident.as_str()) {
            out.push(json!({"ident": ident, "arn": arn}));
        }
    };
    for e in bindings(m) {
        match &e.value {
            EnvValue::GeneratedSecret { secret } | EnvValue::UserSecret { secret } => {
                add(
                    super::data::tf_ident(secret),
                    super::data::secret_arn(secret),
                );
            }
            // The deployment's database secret holds the master username and password.
            EnvValue::Database { output, .. } if needs_db_secret(*output) => {
                add(DB_SECRET.into(), DB_SECRET_ARN.into());
            }
            EnvValue::Cache { output } if needs_cache_token(*output) => {
                if let Some(auth) = d.cache.as_ref().and_then(|c| c.auth.as_ref()) {
                    add(CACHE_SECRET.into(), super::data::secret_arn(&auth.secret));
                }
            }
            _ => {}
        }
    }
    out
}

/// The tag suffix (`autodeploy-secret-…`) of the database's master secret and
/// of the cache's AUTH token: fixed names the launcher knows.
const DB_SECRET: &str = "database";
const CACHE_SECRET: &str = "cache";

fn needs_db_secret(o: DatabaseOutput) -> bool {
    !matches!(
        o,
        DatabaseOutput::Host
            | DatabaseOutput::Port
            | DatabaseOutput::Name
            | DatabaseOutput::JdbcUrl
    )
}

fn needs_cache_token(o: CacheOutput) -> bool {
    matches!(o, CacheOutput::Password | CacheOutput::Url)
}

/// Data store addresses Terraform knows and the launcher reads as instance
/// tags (`{key, expr}`; `expr` is a Terraform expression of ours).
fn data_tags(d: &Decision, m: &Machine) -> Vec<Value> {
    let mut out = Vec::new();
    if bindings(m).any(|e| matches!(e.value, EnvValue::Database { .. })) && d.database.is_some() {
        out.push(
            json!({"key": "autodeploy-database-host", "expr": "aws_db_instance.main.address"}),
        );
    }
    if bindings(m).any(|e| matches!(e.value, EnvValue::Cache { .. })) && d.cache.is_some() {
        out.push(json!({"key": "autodeploy-cache-host", "expr": "aws_elasticache_replication_group.main.primary_endpoint_address"}));
        out.push(json!({"key": "autodeploy-cache-port", "expr": "tostring(aws_elasticache_replication_group.main.port)"}));
    }
    out
}

/// What the launcher needs to assemble database and cache settings.
fn data_config(
    d: &Decision,
    m: &Machine,
    config: &mut serde_json::Map<String, Value>,
) -> Result<(), RenderError> {
    let reads = |db: bool| {
        bindings(m).any(|e| {
            if db {
                matches!(e.value, EnvValue::Database { .. })
            } else {
                matches!(e.value, EnvValue::Cache { .. })
            }
        })
    };
    if reads(true) {
        let db = d
            .database
            .as_ref()
            .filter(|db| db.service == DataService::AwsRds)
            .ok_or_else(|| {
                unsupported(
                    d,
                    "database settings without an RDS database on EC2",
                    "EC2 instances are wired to RDS PostgreSQL/MySQL",
                )
            })?;
        let scheme = match db.engine {
            DatabaseEngine::Postgresql => "postgresql",
            DatabaseEngine::Mysql => "mysql",
            _ => {
                return Err(unsupported(
                    d,
                    "this database engine on EC2",
                    "RDS here is PostgreSQL or MySQL",
                ))
            }
        };
        config.insert(
            "database".into(),
            json!({"port": db.port, "name": db.db_name, "scheme": scheme}),
        );
    }
    if reads(false) {
        let c = d
            .cache
            .as_ref()
            .filter(|c| c.service == DataService::AwsElasticache)
            .ok_or_else(|| {
                unsupported(
                    d,
                    "cache settings without an ElastiCache cache on EC2",
                    "EC2 instances are wired to ElastiCache",
                )
            })?;
        config.insert(
            "cache".into(),
            json!({"tls": c.transit_encryption, "auth": c.auth.is_some()}),
        );
    }
    Ok(())
}

/// The vm strategy's inputs in `variables.tf` (used by `network::common`).
pub fn variables(d: &Decision) -> Result<Value, RenderError> {
    let m = machine(d)?;
    let s = m.web;
    let sc = s.scaling.as_ref();
    let policy = sc.and_then(|x| x.autoscaling.as_ref());
    Ok(json!({
        "instance_type": instance_type(s),
        "root_volume_size": 20,
        "autoscaling": autoscaling(s),
        "min": sc.map_or(1, |x| x.min),
        "max": sc.map_or(1, |x| x.max),
        "desired": sc.map_or(1, |x| x.desired),
        "scaling_target": policy.map_or(60.0, |p| p.target),
        "inputs": inputs(d, &m)?,
    }))
}

/// One env var as the launcher resolves it at boot.
fn env_entry(
    d: &Decision,
    s: &ServicePlan,
    name: &str,
    v: &EnvValue,
) -> Result<Value, RenderError> {
    if name.is_empty() || name.contains('=') || name.contains('\0') {
        return Err(unsupported(
            d,
            &format!("the environment variable name {name:?}"),
            "a process environment cannot hold a name that is empty or contains '=' or NUL",
        ));
    }
    let domain = d.tls.domain.as_deref();
    Ok(match v {
        EnvValue::Literal { value } => json!({"name": name, "from": "literal", "value": value}),
        EnvValue::GeneratedSecret { secret } | EnvValue::UserSecret { secret } => {
            let tag = format!("autodeploy-secret-{}", super::data::tf_ident(secret));
            json!({"name": name, "from": "secret", "value": tag})
        }
        EnvValue::Input { variable } => {
            check_input(d, variable)?;
            json!({"name": name, "from": "tag", "value": format!("autodeploy-input-{variable}")})
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
            DeploymentOutput::PublicUrl => match domain {
                Some(dm) => {
                    json!({"name": name, "from": "literal", "value": format!("http://{dm}")})
                }
                None => json!({"name": name, "from": "public_url"}),
            },
            DeploymentOutput::PublicHost => match domain {
                Some(dm) => json!({"name": name, "from": "literal", "value": dm}),
                None => json!({"name": name, "from": "public_host"}),
            },
            // The ALB's health checks send the instance's address as Host:
            // the launcher adds the machine's own addresses at boot.
            DeploymentOutput::AllowedHosts => match domain {
                Some(dm) => json!({"name": name, "from": "allowed_hosts", "value": dm}),
                None => json!({"name": name, "from": "allowed_hosts"}),
            },
        },
        EnvValue::Database { output, scheme } => {
            crate::vm_service::database_entry(d, name, output, scheme.as_deref())?
        }
        EnvValue::Cache { output } => json!({"name": name, "from": "cache", "value": output}),
        EnvValue::ServiceUrl { service } => {
            return Err(unsupported(
                d,
                &format!("the environment variable {name} (the URL of the service {service:?})"),
                "a machine runs one web service and its workers, none called by another service's URL; ask for containers (\"on ECS\") to run services that call each other",
            ))
        }
    })
}

/// The source archive's path in the bundle (Terraform's `../source.zip`).
pub const SOURCE_ARCHIVE: &str = "source.zip";

/// True when the machines cannot clone the source (a local folder or an
/// archive, not a git remote): Terraform uploads [`SOURCE_ARCHIVE`] to a
/// private bucket and the launcher downloads it at boot.
pub fn uploads_source(d: &Decision) -> bool {
    d.strategy == autodeploy_core::DeployStrategy::Vm
        && d.services
            .iter()
            .any(|s| matches!(s.hosting, Hosting::Ec2 | Hosting::Ec2Autoscaling))
        && d.source.kind != SourceKind::Git
}

/// The bundle's `cloud-init.yaml`.
fn cloud_init(d: &Decision, m: &Machine, nginx: bool) -> Result<BundleFile, RenderError> {
    let s = m.web;
    let vm = vm_service(
        d,
        s,
        &Hints {
            other_runtime: "static sites and Dockerfile-only services need another strategy (static or container)",
            no_port: "the vm strategy serves web services; workers need another strategy",
        },
    )?;
    let env = s
        .env
        .iter()
        .map(|e| env_entry(d, s, &e.name, &e.value))
        .collect::<Result<Vec<_>, _>>()?;
    let worker_env = m
        .workers
        .iter()
        .map(|w| {
            let s = w.service;
            let env = s
                .env
                .iter()
                .map(|e| env_entry(d, s, &e.name, &e.value))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Value::from(env))
        })
        .collect::<Result<Vec<_>, RenderError>>()?;
    let mut config = vm.config(s, 600);
    config.insert("env".into(), env.into());
    m.configure(&mut config, worker_env);
    data_config(d, m, &mut config)?;
    m.add_release_lock(d, &mut config)?;
    let mut ctx = vm.context(d, &config);
    m.add_units(&mut ctx)?;
    if uploads_source(d) {
        // The code comes from the bucket, not a git remote.
        ctx.insert(
            "clone_cmd".into(),
            "python3 /opt/autodeploy/launch.py fetch".into(),
        );
        ctx.insert("checkout_cmd".into(), Value::Null);
    }
    ctx.insert("nginx".into(), nginx.into());
    ctx.insert(
        "boto3".into(),
        (!secrets(d, m).is_empty() || uploads_source(d)).into(),
    );
    let ctx = Value::Object(ctx);
    let mut full = ctx.clone();
    full["launch_py"] = render_template("cloud-init/launch.py", &ctx)?.into();
    full["install_runtime"] = render_template("cloud-init/install-runtime.sh", &ctx)?.into();
    full["nginx_conf"] = render_template("cloud-init/nginx.conf", &ctx)?.into();
    file("cloud-init.yaml", "cloud-init/cloud-init.yaml", &full)
}

/// compute.tf, outputs.tf and cloud-init.yaml for the vm strategy.
pub fn render(d: &Decision) -> Result<Vec<BundleFile>, RenderError> {
    let m = machine(d)?;
    let s = m.web;
    let Some(net) = &d.network else {
        return Err(unsupported(
            d,
            "a VM without a network plan",
            "the vm strategy needs the decision's VPC",
        ));
    };
    if d.tls.https || d.tls.certificate.is_some() {
        return Err(unsupported(
            d,
            "https on the vm strategy",
            "certificates on EC2 (ALB + ACM or certbot) are not rendered yet; ask for containers for https",
        ));
    }
    let scaled = autoscaling(s);
    let alb = super::network::has_alb(d);
    if scaled && !alb {
        return Err(unsupported(
            d,
            "several instances without a load balancer",
            "an Auto Scaling group is rendered behind an ALB",
        ));
    }
    if !scaled && alb {
        return Err(unsupported(
            d,
            "a single instance behind a load balancer",
            "a lone instance is served by its own nginx and Elastic IP",
        ));
    }
    if !scaled && net.app_subnet_tier != SubnetTier::Public {
        return Err(unsupported(
            d,
            "a single instance in a private subnet",
            "a lone instance sits in a public subnet behind its Elastic IP",
        ));
    }
    let port = s.port.unwrap_or_default();
    let health = s.health_check.clone();
    let policy = s.scaling.as_ref().and_then(|x| x.autoscaling.as_ref());
    let itype = instance_type(s);
    let ctx = json!({
        "inputs": inputs(d, &m)?,
        "secrets": secrets(d, &m),
        "data_tags": data_tags(d, &m),
        "upload": uploads_source(d),
        "service": s.name,
        "arch": arch(&itype),
        "autoscaling": scaled,
        "public_ip": if net.app_subnet_tier == SubnetTier::Public { "true" } else { "false" },
        "subnet_tier": if net.app_subnet_tier == SubnetTier::Public { "public" } else { "private" },
        "port": port,
        "idle_timeout": d.load_balancer.as_ref().map_or(60, |lb| lb.idle_timeout_seconds),
        "health": health.as_ref().map(|h| json!({
            "path": d.load_balancer.as_ref().map_or(h.path.clone(), |lb| lb.health_check_path.clone()),
            "interval_seconds": h.interval_seconds,
            "timeout_seconds": h.timeout_seconds,
            "healthy_threshold": h.healthy_threshold,
            "unhealthy_threshold": h.unhealthy_threshold,
            "matcher": h.accept.codes(),
        })).unwrap_or_else(|| json!({
            "path": "/", "interval_seconds": 30, "timeout_seconds": 5,
            "healthy_threshold": 2, "unhealthy_threshold": 3,
            "matcher": HealthAnswer::AnyAnswer.codes(),
        })),
        // Boot installs the runtime and builds the app: give it time before ELB checks count.
        "grace": health.as_ref().map_or(300, |h| h.grace_period_seconds.max(300)),
        "warmup": 300,
        "metric": match policy.map(|p| p.metric) {
            Some(ScalingMetric::ConcurrentRequests) => "request_count",
            _ => "cpu_utilization",
        },
    });
    Ok(vec![
        file("terraform/compute.tf", "aws/vm/terraform/compute.tf", &ctx)?,
        file("terraform/outputs.tf", "aws/vm/terraform/outputs.tf", &ctx)?,
        cloud_init(d, &m, !scaled)?,
    ])
}
