//! How big and how many: machine types, container CPU/memory, instance counts,
//! autoscaling policies, Kubernetes node pools and health checks.
//!
//! Inputs: the request (machine type, min/max instances, autoscale), the app
//! (runtime and framework: a JVM needs more memory than Go; Django/Rails more
//! than a micro-framework) and the environment (production gets the
//! recommended size, staging/development the minimum). A machine type named
//! for another cloud is mapped to the nearest one with a warning; one that
//! does not apply to the strategy (Fargate has no machine types) is turned
//! into CPU/memory with a warning.
//!
//! What this is not: the budget (lib.rs shrinks sizes when over budget) or
//! prices (see `cost`).

use crate::cloud;
use crate::cost::{PriceTable, Spec};
use crate::defaults::{cloud_name, instance_type_cloud};
use crate::notes::Notes;
use crate::runtime;
use crate::DecideError;
use autodeploy_core::{
    AutoscalingPolicy, Cloud, ClusterPlan, ComputePlan, DeployStrategy, Environment, Hosting,
    Intent, Origin, ScalingMetric, ScalingPlan, Service, ServiceKind,
};

/// Memory a running copy of a service needs, MiB, and how long it takes to start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Profile {
    /// Enough to run (staging, development, budget).
    pub min_mib: u32,
    /// Comfortable for production.
    pub rec_mib: u32,
    /// Seconds before health checks count.
    pub grace_seconds: u32,
    /// JVM / .NET: more CPU for start-up and JIT.
    pub heavy_cpu: bool,
    /// What the size rests on, for reasons.
    pub label: &'static str,
}

const HEAVY_FRAMEWORKS: &[&str] = &[
    "django",
    "rails",
    "laravel",
    "symfony",
    "nextjs",
    "nuxt",
    "nestjs",
    "sveltekit",
    "streamlit",
    "gradio",
];

/// Memory profile of a service from its runtime and framework.
pub fn profile(s: &Service) -> Profile {
    let fw = s.framework.as_deref().unwrap_or("");
    match runtime::family(s.language) {
        "jvm" => Profile {
            min_mib: 1024,
            rec_mib: 2048,
            grace_seconds: 120,
            heavy_cpu: true,
            label: "a JVM app needs heap and metaspace headroom",
        },
        "dotnet" => Profile {
            min_mib: 512,
            rec_mib: 1024,
            grace_seconds: 60,
            heavy_cpu: true,
            label: "a .NET app needs runtime headroom",
        },
        _ if HEAVY_FRAMEWORKS.contains(&fw) => Profile {
            min_mib: 1024,
            rec_mib: 1536,
            grace_seconds: 60,
            heavy_cpu: false,
            label: "a full-stack framework with several worker processes",
        },
        "go" | "rust" => Profile {
            min_mib: 256,
            rec_mib: 512,
            grace_seconds: 15,
            heavy_cpu: false,
            label: "a compiled binary needs little memory",
        },
        "static" => Profile {
            min_mib: 128,
            rec_mib: 128,
            grace_seconds: 10,
            heavy_cpu: false,
            label: "static files",
        },
        _ => Profile {
            min_mib: 512,
            rec_mib: 1024,
            grace_seconds: 30,
            heavy_cpu: false,
            label: "an interpreted runtime with a few worker processes",
        },
    }
}

/// Memory for one copy of `s` in this environment.
pub fn memory_for(s: &Service, env: Environment) -> u32 {
    let p = profile(s);
    if env == Environment::Production {
        p.rec_mib
    } else {
        p.min_mib
    }
}

/// vCPUs for one copy of `s` in this environment.
pub fn vcpu_for(s: &Service, env: Environment) -> f64 {
    let p = profile(s);
    if s.kind == ServiceKind::Static {
        return 0.25;
    }
    match (env == Environment::Production, p.heavy_cpu) {
        (true, true) => 1.0,
        (true, false) | (false, true) => 0.5,
        (false, false) => 0.25,
    }
}

/// OS, nginx and agents on a VM, MiB.
pub const VM_OVERHEAD_MIB: u32 = 512;

/// The machine type the request names, resolved for the chosen cloud.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Requested {
    /// Canonical name on the chosen cloud.
    pub name: String,
    /// Its shape, when the price table knows it.
    pub spec: Option<Spec>,
}

/// Validate / map the request's machine type for `cloud`.
pub(crate) fn requested_type(
    intent: &Intent,
    cloud: Cloud,
    table: Option<&PriceTable>,
    notes: &mut Notes,
) -> Result<Option<Requested>, DecideError> {
    let Some(asked) = intent.instance_type.as_deref() else {
        return Ok(None);
    };
    let owner = instance_type_cloud(asked).ok_or_else(|| DecideError::UnknownInstanceType {
        instance_type: asked.to_string(),
    })?;
    let Some(table) = table else {
        notes.warn(
            "instance_type_not_applicable",
            None,
            format!("the machine type {asked} does not apply to a local deployment; it is ignored"),
        );
        return Ok(None);
    };
    if owner == cloud {
        return Ok(Some(own_type(asked, cloud, table, notes)));
    }
    mapped_type(asked, owner, cloud, table, notes)
}

/// A machine type of the chosen cloud: used as asked (with a warning when
/// the price table does not know it).
fn own_type(asked: &str, cloud: Cloud, table: &PriceTable, notes: &mut Notes) -> Requested {
    match table.instance(asked) {
        Some((name, spec)) => Requested {
            name: name.to_string(),
            spec: Some(*spec),
        },
        None => {
            notes.warn(
                "instance_type_unpriced",
                None,
                format!(
                    "{asked} is not in autodeploy's {} price table: it is used as asked, but its price and memory are unknown, so the estimate leaves it out",
                    cloud_name(cloud)
                ),
            );
            Requested {
                name: asked.to_string(),
                spec: None,
            }
        }
    }
}

/// Another cloud's machine type: mapped by memory to this cloud's nearest
/// general-purpose size (None when its shape is unknown), with a warning.
fn mapped_type(
    asked: &str,
    owner: Cloud,
    cloud: Cloud,
    table: &PriceTable,
    notes: &mut Notes,
) -> Result<Option<Requested>, DecideError> {
    let other = cloud::of(owner)
        .prices()?
        .and_then(|t| t.instance(asked).map(|(_, s)| *s));
    let nearest = other.and_then(|spec| {
        table
            .smallest_with_memory("vm", (spec.memory_gib * 1024.0) as u32)
            .map(|(n, s)| (spec, n.to_string(), *s))
    });
    notes.warn(
        "instance_type_cloud_mismatch",
        None,
        mismatch_warning(asked, owner, cloud, table, nearest.as_ref()),
    );
    Ok(nearest.map(|(_, name, spec)| Requested {
        name,
        spec: Some(spec),
    }))
}

/// The warning for a machine type of cloud `owner` on `cloud`: what it was
/// mapped to (`nearest`: its shape, the name and shape used), or that it is ignored.
fn mismatch_warning(
    asked: &str,
    owner: Cloud,
    cloud: Cloud,
    table: &PriceTable,
    nearest: Option<&(Spec, String, Spec)>,
) -> String {
    match nearest {
        Some((src, name, spec)) => format!(
            "{asked} is an {} machine type, but the deployment goes to {}: using {name} ({} vCPU, {} GB), the closest {} size to {asked} ({} vCPU, {} GB); name a {} type (e.g. {}) to choose another",
            cloud_name(owner),
            cloud_name(cloud),
            spec.vcpu,
            spec.memory_gib,
            cloud_name(cloud),
            src.vcpu,
            src.memory_gib,
            cloud_name(cloud),
            table.ladder("vm").get(1).map(String::as_str).unwrap_or("")
        ),
        None => format!(
            "{asked} is an {} machine type, but the deployment goes to {}: it is ignored and the machine is sized from the app; name a {} type to choose one",
            cloud_name(owner),
            cloud_name(cloud),
            cloud_name(cloud)
        ),
    }
}

/// Instance counts for the web services.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Counts {
    pub min: u32,
    pub max: u32,
    pub desired: u32,
    pub autoscale: bool,
    pub origin: Origin,
}

/// SQLite keeps the data in one file on one machine: copies of the app
/// would each write a database of their own behind one address (a user
/// registered on one copy cannot log in on the next). One instance runs,
/// and the warning says how to get more.
pub(crate) fn one_copy_for_sqlite(service: &str, counts: &mut Counts, notes: &mut Notes) {
    if counts.max <= 1 {
        return;
    }
    let asked = if counts.min == counts.max {
        format!("{}", counts.max)
    } else {
        format!("{} to {}", counts.min.max(1), counts.max)
    };
    notes.warn(
        "sqlite_single_instance",
        Some(service),
        format!(
            "`{service}` keeps its data in a SQLite file, which copies of the app do not share: 1 instance runs instead of {asked} — for more, ask for a database server (\"with postgres\") if its code reads a database URL"
        ),
    );
    *counts = Counts {
        min: counts.min.min(1),
        max: 1,
        desired: 1,
        autoscale: false,
        origin: counts.origin,
    };
}

/// Counts from the request. `zero_ok`: the platform can scale to zero.
pub(crate) fn counts(
    intent: &Intent,
    strategy: DeployStrategy,
    zero_ok: bool,
    environment: Environment,
    notes: &mut Notes,
) -> Result<Counts, DecideError> {
    if let (Some(min), Some(max)) = (intent.min_instances, intent.max_instances) {
        if min > max {
            return Err(DecideError::MinAboveMax { min, max });
        }
    }
    if intent.max_instances == Some(0) {
        return Err(DecideError::ZeroMaxInstances);
    }
    match strategy {
        DeployStrategy::Process => return Ok(local_counts(intent, notes)),
        DeployStrategy::Static => return Ok(ONE_COPY),
        _ => {}
    }
    let asked = intent.min_instances.is_some()
        || intent.max_instances.is_some()
        || intent.autoscale.is_some();
    let origin = if asked {
        Origin::Request
    } else {
        Origin::Default
    };
    let serverless = strategy == DeployStrategy::Serverless;
    let min = min_instances(intent, strategy, zero_ok, environment, notes);
    let max = max_instances(intent, min, serverless, zero_ok, notes);
    let c = Counts {
        min,
        max,
        desired: min.max(1),
        autoscale: max > min.max(1) || (max > min && zero_ok),
        origin,
    };
    let text = counts_reason(&c, asked, serverless, zero_ok, environment);
    notes.reason("scaling", origin, text);
    Ok(c)
}

/// One copy, by rule (a local process, a static site).
const ONE_COPY: Counts = Counts {
    min: 1,
    max: 1,
    desired: 1,
    autoscale: false,
    origin: Origin::Rule,
};

/// A local deployment runs one copy of each service (counts asked for are
/// ignored, with a warning).
fn local_counts(intent: &Intent, notes: &mut Notes) -> Counts {
    if intent.min_instances.unwrap_or(1) > 1 || intent.max_instances.unwrap_or(1) > 1 {
        notes.warn(
            "instances_not_applicable",
            None,
            "a local deployment runs one copy of each service; the instance counts asked for are ignored",
        );
    }
    notes.reason(
        "scaling",
        Origin::Rule,
        "one copy of each service: local deployment",
    );
    ONE_COPY
}

/// The minimum: the request's, else 0 where the platform scales to zero
/// (serverless; outside production for the others), else 1. Zero on a
/// platform that cannot go there becomes 1, with a warning.
fn min_instances(
    intent: &Intent,
    strategy: DeployStrategy,
    zero_ok: bool,
    environment: Environment,
    notes: &mut Notes,
) -> u32 {
    let serverless = strategy == DeployStrategy::Serverless;
    let default_min = if serverless || (zero_ok && environment != Environment::Production) {
        0
    } else {
        1
    };
    let min = intent.min_instances.unwrap_or(default_min);
    if min == 0 && !zero_ok {
        notes.warn(
            "scale_to_zero_unsupported",
            None,
            format!(
                "scaling to zero is asked, but {} keeps at least one instance running: the minimum is 1 (serverless scales to zero)",
                strategy.as_str()
            ),
        );
        return 1;
    }
    min
}

/// The maximum: the request's, else the platform's default range; "no
/// autoscaling" with a range fixes it at the minimum, with a warning.
fn max_instances(
    intent: &Intent,
    min: u32,
    serverless: bool,
    zero_ok: bool,
    notes: &mut Notes,
) -> u32 {
    let max = match (intent.max_instances, intent.autoscale) {
        (Some(m), _) => m.max(min),
        (None, Some(true)) if serverless => 10u32.max(min),
        (None, Some(true)) => (min * 2).max(3),
        (None, _) if serverless || (zero_ok && intent.min_instances.is_none()) => 10u32.max(min),
        (None, _) => min.max(1),
    };
    if intent.autoscale == Some(false) && max > min.max(1) {
        notes.warn(
            "autoscale_conflict",
            None,
            format!(
                "the request asks for no autoscaling but gives a range of {min} to {max} instances: a fixed {} instance(s) run",
                min.max(1)
            ),
        );
        return min.max(1);
    }
    max
}

/// The scaling reason line for the counts chosen (`asked`: the request gave counts).
fn counts_reason(
    c: &Counts,
    asked: bool,
    serverless: bool,
    zero_ok: bool,
    environment: Environment,
) -> String {
    let (min, max, desired) = (c.min, c.max, c.desired);
    if c.autoscale {
        format!(
            "{min} to {max} instances, autoscaled{}: {}",
            if zero_ok && min == 0 {
                " (scales to zero when idle; the first request after a pause starts an instance)"
            } else {
                ""
            },
            if asked {
                "as the request asks"
            } else if serverless {
                "serverless default, the platform scales on requests"
            } else {
                "the platform's default, it scales on concurrent requests"
            }
        )
    } else if asked {
        format!("{desired} instance(s), fixed: as the request asks")
    } else {
        format!(
            "{desired} instance, fixed: the request names no count{}",
            if environment == Environment::Production {
                " (ask for \"2 to 4 instances\" for autoscaling and a copy in a second zone)"
            } else {
                ""
            }
        )
    }
}

/// The scaling plan of one service.
pub(crate) fn scaling(
    s: &Service,
    counts: &Counts,
    hosting: Hosting,
    environment: Environment,
    notes: &mut Notes,
) -> ScalingPlan {
    let (min, max, desired, autoscale, origin) = if s.kind == ServiceKind::Worker {
        // Workers: one copy, or follow the web range when autoscaling is asked.
        // Only when the request asks for scaling: a platform's default range is for web traffic.
        let asked = counts.autoscale && counts.origin == Origin::Request;
        let max = if asked { counts.max.max(1) } else { 1 };
        notes.reason(
            format!("service.{}.scaling", s.name),
            Origin::Rule,
            if max > 1 {
                format!(
                    "{}: 1 to {max} workers, autoscaled on CPU like the web service",
                    s.name
                )
            } else {
                format!(
                    "{}: one worker, always on (workers do not serve traffic to spread)",
                    s.name
                )
            },
        );
        (1, max, 1, max > 1, Origin::Rule)
    } else {
        (
            counts.min,
            counts.max,
            counts.desired,
            counts.autoscale,
            counts.origin,
        )
    };
    let worker = s.kind == ServiceKind::Worker;
    let policy = autoscale.then(|| {
        let cpu_target = if environment == Environment::Production {
            60.0
        } else {
            70.0
        };
        let requests = cloud::of_hosting(hosting)
            .request_scaling_target(hosting)
            .filter(|_| !worker);
        let (metric, target) = match requests {
            Some(t) => (ScalingMetric::ConcurrentRequests, t),
            None => (ScalingMetric::CpuUtilization, cpu_target),
        };
        AutoscalingPolicy {
            metric,
            target,
            scale_out_cooldown_seconds: 60,
            scale_in_cooldown_seconds: 300,
        }
    });
    ScalingPlan {
        min,
        max,
        desired,
        autoscaling: policy,
        origin,
    }
}

/// Size of one copy of a non-VM service.
pub(crate) fn container_compute(
    s: &Service,
    hosting: Hosting,
    environment: Environment,
    requested: Option<&Requested>,
    notes: &mut Notes,
) -> ComputePlan {
    let p = profile(s);
    let mut need = memory_for(s, environment);
    let mut origin = Origin::Analysis;
    if let Some(r) = requested {
        match r.spec {
            Some(spec) => {
                need = (spec.memory_gib * 1024.0) as u32;
                origin = Origin::Request;
                notes.warn(
                    "instance_type_not_applicable",
                    Some(&s.name),
                    format!(
                        "{} sizes by CPU and memory, not machine types: {} was turned into {} MiB per copy, its memory",
                        crate::strategy::hosting_name(hosting),
                        r.name,
                        need
                    ),
                );
            }
            None => notes.warn(
                "instance_type_not_applicable",
                Some(&s.name),
                format!(
                    "{} sizes by CPU and memory, not machine types: {} is ignored and the size comes from the app",
                    crate::strategy::hosting_name(hosting),
                    r.name
                ),
            ),
        }
    }
    let want_cpu = vcpu_for(s, environment);
    let (vcpu, mem) = cloud::of_hosting(hosting)
        .copy_size(hosting, want_cpu, need)
        .unwrap_or((Some(want_cpu), need));
    let what = if hosting.is_kubernetes() {
        "pod requests"
    } else if hosting.is_function() {
        "function memory"
    } else if hosting.is_local() {
        "expected use"
    } else {
        "per copy"
    };
    notes.reason(
        format!("service.{}.size", s.name),
        origin,
        format!(
            "{}: {}{mem} MiB {what} — {}, {} size",
            s.name,
            vcpu.map(|c| format!("{c} vCPU / ")).unwrap_or_default(),
            if origin == Origin::Request {
                "from the requested machine type"
            } else {
                p.label
            },
            environment.as_str()
        ),
    );
    ComputePlan {
        instance_type: None,
        vcpu,
        memory_mib: Some(mem),
        origin,
    }
}

/// The machine type shared by every service running on the VM(s).
pub(crate) fn vm_compute(
    on_vm: &[&Service],
    table: &PriceTable,
    environment: Environment,
    requested: Option<&Requested>,
    notes: &mut Notes,
) -> ComputePlan {
    let need: u32 = on_vm
        .iter()
        .filter(|s| s.kind != ServiceKind::Static)
        .map(|s| memory_for(s, environment))
        .sum::<u32>()
        + VM_OVERHEAD_MIB;
    let labels: Vec<&str> = on_vm.iter().map(|s| profile(s).label).collect();
    if let Some(r) = requested {
        if let Some(spec) = r.spec {
            let have = (spec.memory_gib * 1024.0) as u32;
            let min: u32 = on_vm
                .iter()
                .filter(|s| s.kind != ServiceKind::Static)
                .map(|s| profile(s).min_mib)
                .sum::<u32>()
                + VM_OVERHEAD_MIB;
            if have < min {
                notes.warn(
                    "instance_too_small",
                    None,
                    format!(
                        "{} has {have} MiB of memory, less than the {min} MiB the app needs at minimum ({}): it is used as asked, but expect out-of-memory restarts",
                        r.name,
                        labels.first().copied().unwrap_or("")
                    ),
                );
            }
        }
        notes.reason(
            "compute",
            Origin::Request,
            format!("{}: the request names it", r.name),
        );
        return ComputePlan {
            instance_type: Some(r.name.clone()),
            vcpu: r.spec.map(|s| s.vcpu),
            memory_mib: r.spec.map(|s| (s.memory_gib * 1024.0) as u32),
            origin: Origin::Request,
        };
    }
    let (name, spec) = table
        .smallest_with_memory("vm", need)
        .map(|(n, s)| (n.to_string(), *s))
        .expect("every price table has a vm ladder");
    notes.reason(
        "compute",
        Origin::Analysis,
        format!(
            "{name} ({} vCPU, {} GB): the smallest general-purpose size with {need} MiB for the app and the OS ({}, {} size)",
            spec.vcpu,
            spec.memory_gib,
            labels.first().copied().unwrap_or(""),
            environment.as_str()
        ),
    );
    ComputePlan {
        instance_type: Some(name),
        vcpu: Some(spec.vcpu),
        memory_mib: Some((spec.memory_gib * 1024.0) as u32),
        origin: Origin::Analysis,
    }
}

/// The Kubernetes cluster: node type and count for the pods' requests.
pub(crate) fn cluster(
    cloud: Cloud,
    pods: &[(u32, u32, u32)], // (memory MiB, min replicas, max replicas)
    table: &PriceTable,
    environment: Environment,
    requested: Option<&Requested>,
    notes: &mut Notes,
) -> ClusterPlan {
    let (node, node_mib, origin) = match requested {
        Some(r) => (
            r.name.clone(),
            r.spec
                .map(|s| (s.memory_gib * 1024.0) as u32)
                .unwrap_or(4096),
            Origin::Request,
        ),
        None => {
            let n = table
                .ladder("k8s_node")
                .first()
                .cloned()
                .unwrap_or_default();
            let mib = table
                .instance(&n)
                .map(|(_, s)| (s.memory_gib * 1024.0) as u32)
                .unwrap_or(4096);
            (n, mib, Origin::Default)
        }
    };
    // About 70% of a node is left for pods after the system daemons.
    let usable = (node_mib as f64 * 0.7).max(1.0);
    let need = |f: &dyn Fn(&(u32, u32, u32)) -> u32| -> u32 {
        let mib: u32 = pods.iter().map(|p| p.0 * f(p)).sum();
        (mib as f64 / usable).ceil() as u32
    };
    let production = environment == Environment::Production;
    let base = if production { 2 } else { 1 };
    let desired = need(&|p| p.1.max(1)).max(base);
    let max = need(&|p| p.2.max(1)).max(desired);
    let offer = cloud::of(cloud)
        .cluster(production)
        .expect("a cloud with a price table offers Kubernetes");
    let (kind, paid) = (offer.kind, offer.paid_control_plane);
    notes.reason(
        "cluster",
        origin,
        format!(
            "{} {} nodes, {base} to {max} (desired {desired}){}: enough for every pod's memory request at its maximum replica count{}",
            offer.words,
            node,
            if origin == Origin::Request { ", machine type as the request names" } else { "" },
            if production { "; two nodes minimum in production so a node failure keeps the app up" } else { "" }
        ),
    );
    if let Some(line) = offer.control_plane_reason {
        notes.reason("cluster.control_plane", Origin::Rule, line);
    }
    ClusterPlan {
        kind,
        version: "1.31".into(),
        node_instance_type: node,
        min_nodes: base.min(desired),
        max_nodes: max,
        desired_nodes: desired,
        paid_control_plane: paid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::{cloud_run_size, container_apps_size, fargate_size, lambda_memory};
    use crate::cost::table;
    use crate::testutil::service;
    use autodeploy_core::Language;

    #[test]
    fn profiles_by_runtime() {
        // (language, framework, production MiB, staging MiB, production vCPU)
        let cases = [
            (Language::Go, Some("gin"), 512, 256, 0.5),
            (Language::Rust, Some("axum"), 512, 256, 0.5),
            (Language::Python, Some("flask"), 1024, 512, 0.5),
            (Language::Python, Some("django"), 1536, 1024, 0.5),
            (Language::Ruby, Some("rails"), 1536, 1024, 0.5),
            (Language::Java, Some("spring-boot"), 2048, 1024, 1.0),
            (Language::Kotlin, Some("spring-boot"), 2048, 1024, 1.0),
            (Language::Csharp, Some("aspnet-core"), 1024, 512, 1.0),
            (Language::Javascript, Some("express"), 1024, 512, 0.5),
        ];
        for (lang, fw, prod, staging, cpu) in cases {
            let s = service("s", lang, fw, ServiceKind::Web);
            assert_eq!(memory_for(&s, Environment::Production), prod, "{lang:?}");
            assert_eq!(memory_for(&s, Environment::Staging), staging, "{lang:?}");
            assert_eq!(vcpu_for(&s, Environment::Production), cpu, "{lang:?}");
        }
        // JVM needs more than Go.
        let jvm = service("a", Language::Java, Some("spring-boot"), ServiceKind::Web);
        let go = service("b", Language::Go, Some("gin"), ServiceKind::Web);
        assert!(
            memory_for(&jvm, Environment::Production) > memory_for(&go, Environment::Production)
        );
    }

    #[test]
    fn platform_sizes_are_valid_combinations() {
        let fargate = [
            ((0.25, 256), (0.25, 512)),
            ((0.25, 1024), (0.25, 1024)),
            ((0.25, 1536), (0.25, 2048)),
            ((0.5, 1024), (0.5, 1024)),
            ((0.5, 1536), (0.5, 2048)),
            ((0.25, 3000), (0.5, 3072)),
            ((1.0, 2048), (1.0, 2048)),
            ((0.5, 5000), (1.0, 5120)),
        ];
        for ((cpu, mib), want) in fargate {
            assert_eq!(fargate_size(cpu, mib), want, "{cpu} {mib}");
        }
        assert_eq!(container_apps_size(0.25, 512), (0.25, 512));
        assert_eq!(container_apps_size(0.5, 512), (0.5, 1024));
        assert_eq!(container_apps_size(0.5, 1536), (0.75, 1536));
        assert_eq!(container_apps_size(1.0, 2048), (1.0, 2048));
        assert_eq!(cloud_run_size(300), (1.0, 512));
        assert_eq!(cloud_run_size(1536), (1.0, 2048));
        assert_eq!(lambda_memory(256), 512);
        assert_eq!(lambda_memory(1000), 1024);
        assert_eq!(lambda_memory(50_000), 10240);
    }

    #[test]
    fn counts_table() {
        let i = |min: Option<u32>, max: Option<u32>, auto: Option<bool>| Intent {
            min_instances: min,
            max_instances: max,
            autoscale: auto,
            ..Default::default()
        };
        use DeployStrategy::*;
        use Environment::*;
        // (intent, strategy, zero_ok, env, (min, max, desired, autoscale), warning)
        let cases = [
            (
                i(None, None, None),
                Vm,
                false,
                Production,
                (1, 1, 1, false),
                None,
            ),
            (
                i(Some(2), Some(5), Some(true)),
                Container,
                false,
                Production,
                (2, 5, 2, true),
                None,
            ),
            (
                i(Some(3), Some(3), None),
                Container,
                false,
                Production,
                (3, 3, 3, false),
                None,
            ),
            (
                i(None, Some(4), None),
                Container,
                false,
                Production,
                (1, 4, 1, true),
                None,
            ),
            (
                i(None, None, Some(true)),
                Container,
                false,
                Production,
                (1, 3, 1, true),
                None,
            ),
            (
                i(Some(2), None, Some(true)),
                Kubernetes,
                false,
                Production,
                (2, 4, 2, true),
                None,
            ),
            (
                i(Some(0), None, None),
                Container,
                false,
                Production,
                (1, 1, 1, false),
                Some("scale_to_zero_unsupported"),
            ),
            (
                i(Some(2), Some(5), Some(false)),
                Container,
                false,
                Production,
                (2, 2, 2, false),
                Some("autoscale_conflict"),
            ),
            (
                i(None, None, None),
                Serverless,
                true,
                Production,
                (0, 10, 1, true),
                None,
            ),
            (
                i(None, None, None),
                Container,
                true,
                Staging,
                (0, 10, 1, true),
                None,
            ),
            (
                i(None, None, None),
                Container,
                true,
                Production,
                (1, 10, 1, true),
                None,
            ),
            (
                i(Some(3), Some(3), None),
                Process,
                false,
                Production,
                (1, 1, 1, false),
                Some("instances_not_applicable"),
            ),
        ];
        for (intent, strategy, zero_ok, env, (min, max, desired, auto), warning) in cases {
            let mut notes = Notes::default();
            let c = counts(&intent, strategy, zero_ok, env, &mut notes).unwrap();
            let label = format!("{intent:?} {strategy:?} {env:?}");
            assert_eq!(
                (c.min, c.max, c.desired, c.autoscale),
                (min, max, desired, auto),
                "{label}"
            );
            match warning {
                Some(w) => assert!(notes.has_warning(w), "{label}: {:?}", notes.warnings),
                None => assert!(notes.warnings.is_empty(), "{label}: {:?}", notes.warnings),
            }
        }
    }

    #[test]
    fn invalid_counts_are_errors() {
        let mut notes = Notes::default();
        let bad = Intent {
            min_instances: Some(5),
            max_instances: Some(2),
            ..Default::default()
        };
        assert_eq!(
            counts(
                &bad,
                DeployStrategy::Container,
                false,
                Environment::Production,
                &mut notes
            ),
            Err(DecideError::MinAboveMax { min: 5, max: 2 })
        );
        let zero = Intent {
            max_instances: Some(0),
            ..Default::default()
        };
        assert_eq!(
            counts(
                &zero,
                DeployStrategy::Vm,
                false,
                Environment::Production,
                &mut notes
            ),
            Err(DecideError::ZeroMaxInstances)
        );
    }

    #[test]
    fn requested_types_are_validated_per_cloud() {
        let it = |t: &str| Intent {
            instance_type: Some(t.into()),
            ..Default::default()
        };
        // (asked, cloud, resolved, warning)
        let cases = [
            ("t3.small", Cloud::Aws, Some("t3.small"), None),
            ("standard_b2s", Cloud::Azure, Some("Standard_B2s"), None),
            (
                "t3.small",
                Cloud::Gcp,
                Some("e2-small"),
                Some("instance_type_cloud_mismatch"),
            ),
            (
                "e2-medium",
                Cloud::Aws,
                Some("t3.medium"),
                Some("instance_type_cloud_mismatch"),
            ),
            (
                "Standard_B1ms",
                Cloud::Gcp,
                Some("e2-small"),
                Some("instance_type_cloud_mismatch"),
            ),
            (
                "m7a.medium",
                Cloud::Aws,
                Some("m7a.medium"),
                Some("instance_type_unpriced"),
            ),
            (
                "x9-weird",
                Cloud::Aws,
                None,
                Some("instance_type_cloud_mismatch"),
            ),
            (
                "t3.small",
                Cloud::Local,
                None,
                Some("instance_type_not_applicable"),
            ),
        ];
        for (asked, cloud, want, warning) in cases {
            let mut notes = Notes::default();
            let t = table(cloud).unwrap();
            let got = requested_type(&it(asked), cloud, t, &mut notes).unwrap();
            assert_eq!(
                got.as_ref().map(|r| r.name.as_str()),
                want,
                "{asked} on {cloud:?}"
            );
            match warning {
                Some(w) => assert!(notes.has_warning(w), "{asked}: {:?}", notes.warnings),
                None => assert!(notes.warnings.is_empty(), "{asked}: {:?}", notes.warnings),
            }
        }
        let mut notes = Notes::default();
        assert!(matches!(
            requested_type(
                &it("big"),
                Cloud::Aws,
                table(Cloud::Aws).unwrap(),
                &mut notes
            ),
            Err(DecideError::UnknownInstanceType { .. })
        ));
    }

    #[test]
    fn vm_size_follows_the_app() {
        let t = table(Cloud::Aws).unwrap().unwrap();
        // (services, env, type)
        let flask = service("a", Language::Python, Some("flask"), ServiceKind::Web);
        let go = service("b", Language::Go, Some("gin"), ServiceKind::Web);
        let spring = service("c", Language::Java, Some("spring-boot"), ServiceKind::Web);
        let worker = service("w", Language::Python, Some("celery"), ServiceKind::Worker);
        let cases: Vec<(Vec<&Service>, Environment, &str)> = vec![
            (vec![&flask], Environment::Production, "t3.small"),
            (vec![&flask], Environment::Development, "t3.micro"),
            (vec![&go], Environment::Production, "t3.micro"),
            (vec![&spring], Environment::Production, "t3.medium"),
            (vec![&flask, &worker], Environment::Production, "t3.medium"),
        ];
        for (svcs, env, want) in cases {
            let mut notes = Notes::default();
            let c = vm_compute(&svcs, t, env, None, &mut notes);
            assert_eq!(c.instance_type.as_deref(), Some(want), "{env:?}");
        }
        let small = Requested {
            name: "t3.nano".into(),
            spec: t.instance("t3.nano").map(|x| *x.1),
        };
        let mut notes = Notes::default();
        let c = vm_compute(
            &[&spring],
            t,
            Environment::Production,
            Some(&small),
            &mut notes,
        );
        assert_eq!(c.instance_type.as_deref(), Some("t3.nano"));
        assert!(notes.has_warning("instance_too_small"));
    }

    #[test]
    fn cluster_nodes_cover_the_pods() {
        let t = table(Cloud::Aws).unwrap().unwrap();
        let mut notes = Notes::default();
        let c = cluster(
            Cloud::Aws,
            &[(1024, 2, 6)],
            t,
            Environment::Production,
            None,
            &mut notes,
        );
        assert_eq!(c.node_instance_type, "t3.medium");
        assert_eq!(c.desired_nodes, 2);
        assert!(c.max_nodes >= 3, "{c:?}");
        let az = table(Cloud::Azure).unwrap().unwrap();
        let c = cluster(
            Cloud::Azure,
            &[(512, 1, 1)],
            az,
            Environment::Staging,
            None,
            &mut notes,
        );
        assert_eq!((c.desired_nodes, c.paid_control_plane), (1, false));
    }
}
