//! Fitting the plan to the request's monthly budget.
//!
//! When the estimate is over budget, cheaper choices are tried one at a time,
//! in this order, re-pricing after each, until the plan fits: database standby
//! off, cache replica off, NAT gateway off (app in public subnets locked to
//! the load balancer), smaller app sizes, smallest database class, smallest
//! cache, AKS free control plane. Each step is a reason line (origin
//! `budget`); giving up resilience is also a warning. What the request asked
//! for explicitly — strategy, instance counts, machine type, load balancer,
//! database, cache — is never dropped: when even the cheapest plan is over
//! budget, a `budget_exceeded` warning names the biggest costs and what to
//! change in the request.
//!
//! What this is not: pricing (see `cost`).

use crate::cost::{self, PriceTable};
use crate::notes::{usd, Notes};
use crate::sizing;
use crate::DecideOptions;
use autodeploy_core::{Analysis, CostEstimate, Decision, Environment, Intent, Origin, SubnetTier};

type Step = fn(&mut Decision, &Analysis, &PriceTable, &Intent, &mut Notes) -> bool;

const STEPS: &[(&str, Step)] = &[
    ("database_single_zone", db_single_zone),
    ("cache_single_node", cache_single_node),
    ("no_nat", no_nat),
    ("smaller_compute", smaller_compute),
    ("smaller_database", smaller_database),
    ("smaller_cache", smaller_cache),
    ("free_control_plane", free_control_plane),
];

fn db_single_zone(
    d: &mut Decision,
    _: &Analysis,
    _: &PriceTable,
    _: &Intent,
    notes: &mut Notes,
) -> bool {
    let Some(db) = d.database.as_mut().filter(|db| db.multi_az) else {
        return false;
    };
    db.multi_az = false;
    notes.reason("database.resilience", Origin::Budget, format!(
        "single zone, no standby (instead of a standby in a second zone) to fit the budget; {}-day backups and deletion protection kept",
        db.backup_retention_days
    ));
    notes.warn("budget_reduced_resilience", None, "to fit the budget the database has no standby in a second zone: a zone outage stops it until it is restored");
    true
}

fn cache_single_node(
    d: &mut Decision,
    _: &Analysis,
    table: &PriceTable,
    _: &Intent,
    notes: &mut Notes,
) -> bool {
    let Some(c) = d.cache.as_mut().filter(|c| c.high_availability) else {
        return false;
    };
    if c.nodes > 1 {
        // AWS: a replica node; drop it.
        c.nodes = 1;
    } else {
        // GCP / Azure: HA is a tier; take the single-node tier of the same memory.
        let ladder = format!(
            "cache_{}",
            crate::data::cache_name(c.engine).to_ascii_lowercase()
        );
        let mem = c.memory_gb;
        if let Some(basic) = table
            .ladder(&ladder)
            .iter()
            .find(|n| table.cache_node(n).map(|s| s.memory_gib) == Some(mem))
        {
            c.node_type = basic.clone();
        }
    }
    c.high_availability = false;
    notes.reason(
        "cache.resilience",
        Origin::Budget,
        "one cache node without a replica, to fit the budget",
    );
    notes.reason(
        "cache.size",
        Origin::Budget,
        format!(
            "{} ({} GB), one node: to fit the budget",
            c.node_type, c.memory_gb
        ),
    );
    true
}

fn no_nat(d: &mut Decision, _: &Analysis, _: &PriceTable, _: &Intent, notes: &mut Notes) -> bool {
    if d.services.iter().any(|s| s.hosting.is_function()) {
        return false;
    }
    let Some(n) = d.network.as_mut().filter(|n| n.nat_gateways > 0) else {
        return false;
    };
    n.nat_gateways = 0;
    n.app_subnet_tier = SubnetTier::Public;
    // A cloud with one app subnet (GCP) makes it public; AWS's public subnets exist already.
    for s in n.subnets.iter_mut().filter(|s| s.name == "app") {
        s.tier = SubnetTier::Public;
    }
    notes.reason("network.nat", Origin::Budget, "no NAT gateway, to fit the budget: the app runs in public subnets with public IPs for outbound traffic, inbound still only from the load balancer");
    true
}

/// Smaller VMs and copies — never when the request names the machine type.
fn smaller_compute(
    d: &mut Decision,
    a: &Analysis,
    table: &PriceTable,
    intent: &Intent,
    notes: &mut Notes,
) -> bool {
    if intent.instance_type.is_some() {
        return false;
    }
    let vms = smaller_vms(d, a, table, notes);
    let copies = smaller_copies(d, a, notes);
    vms || copies
}

/// VMs: the one machine type they share, down to the smallest the app runs
/// on, when that is cheaper.
fn smaller_vms(d: &mut Decision, a: &Analysis, table: &PriceTable, notes: &mut Notes) -> bool {
    let vm_names: Vec<String> = d
        .services
        .iter()
        .filter(|s| s.hosting.is_vm())
        .map(|s| s.name.clone())
        .collect();
    if vm_names.is_empty() {
        return false;
    }
    let svcs: Vec<&autodeploy_core::Service> = a
        .services
        .iter()
        .filter(|s| vm_names.contains(&s.name))
        .collect();
    let mut scratch = Notes::default();
    let small = sizing::vm_compute(&svcs, table, Environment::Development, None, &mut scratch);
    let current = d
        .services
        .iter()
        .find(|s| vm_names.contains(&s.name))
        .and_then(|s| s.compute.clone());
    let price = |c: &Option<autodeploy_core::ComputePlan>| {
        c.as_ref()
            .and_then(|c| c.instance_type.as_deref())
            .and_then(|t| table.instance(t))
            .map(|x| x.1.hourly)
            .unwrap_or(f64::MAX)
    };
    if price(&Some(small.clone())) >= price(&current) {
        return false;
    }
    let before = current.and_then(|c| c.instance_type).unwrap_or_default();
    let after = small.instance_type.clone().unwrap_or_default();
    for s in d.services.iter_mut().filter(|s| vm_names.contains(&s.name)) {
        s.compute = Some(autodeploy_core::ComputePlan {
            origin: Origin::Budget,
            ..small.clone()
        });
    }
    notes.reason(
        "compute",
        Origin::Budget,
        format!(
            "{after} instead of {before}, the smallest size the app runs on, to fit the budget"
        ),
    );
    true
}

/// Containers, functions and pods: each service's copies down to the minimum
/// profile, where that is smaller.
fn smaller_copies(d: &mut Decision, a: &Analysis, notes: &mut Notes) -> bool {
    let mut changed = false;
    let mut scratch = Notes::default();
    for plan in d.services.iter_mut() {
        if !plan.hosting.sized_per_copy() {
            continue;
        }
        let Some(svc) = a.services.iter().find(|s| s.name == plan.name) else {
            continue;
        };
        let small = sizing::container_compute(
            svc,
            plan.hosting,
            Environment::Development,
            None,
            &mut scratch,
        );
        let smaller = match &plan.compute {
            Some(c) => small.memory_mib < c.memory_mib || small.vcpu < c.vcpu,
            None => false,
        };
        if smaller {
            notes.reason(
                format!("service.{}.size", plan.name),
                Origin::Budget,
                copy_size_reason(&plan.name, &small, plan.compute.as_ref()),
            );
            plan.compute = Some(autodeploy_core::ComputePlan {
                origin: Origin::Budget,
                ..small
            });
            changed = true;
        }
    }
    changed
}

/// The reason line of a service's copies made smaller (`small`) than `before`.
fn copy_size_reason(
    name: &str,
    small: &autodeploy_core::ComputePlan,
    before: Option<&autodeploy_core::ComputePlan>,
) -> String {
    format!(
        "{name}: {}{} MiB per copy (the minimum it runs on) instead of {}{} MiB, to fit the budget",
        small
            .vcpu
            .map(|c| format!("{c} vCPU / "))
            .unwrap_or_default(),
        small.memory_mib.unwrap_or(0),
        before
            .and_then(|c| c.vcpu)
            .map(|c| format!("{c} vCPU / "))
            .unwrap_or_default(),
        before.and_then(|c| c.memory_mib).unwrap_or(0)
    )
}

fn smaller_database(
    d: &mut Decision,
    _: &Analysis,
    table: &PriceTable,
    _: &Intent,
    notes: &mut Notes,
) -> bool {
    let Some(db) = d.database.as_mut() else {
        return false;
    };
    if !db.service.is_managed() {
        return false;
    }
    let ladder = crate::data::db_ladder(table, db.engine, false);
    let Some(smallest) = ladder.first() else {
        return false;
    };
    let price = |c: &str| {
        table
            .db_class(db.engine.as_str(), c)
            .map(|s| s.hourly)
            .unwrap_or(f64::MAX)
    };
    if price(smallest) >= price(&db.instance_class) {
        return false;
    }
    let before = std::mem::replace(&mut db.instance_class, smallest.clone());
    notes.reason(
        "database.size",
        Origin::Budget,
        format!(
            "{} instead of {before}: the smallest class, to fit the budget",
            db.instance_class
        ),
    );
    true
}

fn smaller_cache(
    d: &mut Decision,
    _: &Analysis,
    table: &PriceTable,
    _: &Intent,
    notes: &mut Notes,
) -> bool {
    let Some(c) = d.cache.as_mut() else {
        return false;
    };
    let Some((node, nodes, mem, _)) = crate::data::cache_size(table, d.cloud, c.engine, false)
    else {
        return false;
    };
    let price = |n: &str| table.cache_node(n).map(|s| s.hourly).unwrap_or(f64::MAX);
    if price(&node) * nodes as f64 >= price(&c.node_type) * c.nodes as f64 {
        return false;
    }
    let before = std::mem::replace(&mut c.node_type, node);
    c.nodes = nodes;
    c.memory_gb = mem;
    c.high_availability = false;
    notes.reason(
        "cache.size",
        Origin::Budget,
        format!(
            "{} ({} GB) instead of {before}: the smallest node, to fit the budget",
            c.node_type, c.memory_gb
        ),
    );
    true
}

fn free_control_plane(
    d: &mut Decision,
    _: &Analysis,
    _: &PriceTable,
    _: &Intent,
    notes: &mut Notes,
) -> bool {
    let Some(line) = crate::cloud::of(d.cloud).free_control_plane() else {
        return false;
    };
    let Some(c) = d.cluster.as_mut().filter(|c| c.paid_control_plane) else {
        return false;
    };
    c.paid_control_plane = false;
    notes.reason("cluster.control_plane", Origin::Budget, line);
    true
}

/// Price the decision and, when over `intent.budget_usd_month`, shrink it step by step.
pub(crate) fn fit(
    d: &mut Decision,
    analysis: &Analysis,
    table: Option<&PriceTable>,
    intent: &Intent,
    opts: &DecideOptions,
    notes: &mut Notes,
) -> CostEstimate {
    let mut est = cost::estimate(d, table, opts);
    let (Some(budget), Some(table)) = (intent.budget_usd_month, table) else {
        return est;
    };
    let first = est.total_usd_month;
    for (_, step) in STEPS {
        if est.total_usd_month <= budget {
            break;
        }
        if step(d, analysis, table, intent, notes) {
            est = cost::estimate(d, Some(table), opts);
        }
    }
    est.budget_usd_month = Some(budget);
    let within = est.total_usd_month <= budget;
    est.within_budget = Some(within);
    if within {
        notes.reason(
            "budget",
            Origin::Request,
            within_budget_reason(first, est.total_usd_month, budget),
        );
    } else {
        notes.warn(
            "budget_exceeded",
            None,
            over_budget_warning(d, &est, budget),
        );
        notes.reason(
            "budget",
            Origin::Request,
            format!(
                "estimate {} a month is over the {} budget (see warnings)",
                usd(est.total_usd_month),
                usd(budget)
            ),
        );
    }
    est
}

/// The budget's reason line when the estimate `total` fits (`first`: the estimate before any step).
fn within_budget_reason(first: f64, total: f64, budget: f64) -> String {
    if first > budget {
        format!(
            "estimate {} a month fits the {} budget after the cheaper choices above (it was {})",
            usd(total),
            usd(budget),
            usd(first)
        )
    } else {
        format!(
            "estimate {} a month is within the {} budget",
            usd(total),
            usd(budget)
        )
    }
}

/// The warning when even the cheapest plan is over budget: the biggest costs
/// and what to change in the request.
fn over_budget_warning(d: &Decision, est: &CostEstimate, budget: f64) -> String {
    let mut items: Vec<_> = est.items.iter().collect();
    items.sort_by(|a, b| b.monthly_usd.total_cmp(&a.monthly_usd));
    let top: Vec<String> = items
        .iter()
        .take(3)
        .map(|i| format!("{} {}", i.resource, usd(i.monthly_usd)))
        .collect();
    format!(
        "the cheapest plan for what was asked costs about {} a month, over the {} budget: the biggest costs are {}. Consider {}",
        usd(est.total_usd_month),
        usd(budget),
        top.join(", "),
        budget_tips(d).join(", or ")
    )
}

/// What the request could change to cost less, for the plan `d`.
fn budget_tips(d: &Decision) -> Vec<&'static str> {
    let mut tips = Vec::new();
    let running = d
        .services
        .iter()
        .filter(|s| s.scaling.is_some())
        .map(|s| s.scaling.as_ref().map(|x| x.desired).unwrap_or(1))
        .max()
        .unwrap_or(1);
    if running > 1 {
        tips.push("fewer instances");
    }
    if d.load_balancer
        .as_ref()
        .is_some_and(|l| l.kind != autodeploy_core::LoadBalancerKind::PlatformIngress)
    {
        tips.push("one instance on a vm without a load balancer");
    }
    if d.database.is_some() {
        tips.push("a database you already run");
    }
    if d.cluster.is_some() {
        tips.push("the container strategy instead of Kubernetes");
    }
    tips.push("a larger budget");
    tips
}
