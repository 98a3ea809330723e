//! The merge rule: how an LLM's proposal and the rules' result become one
//! Intent without inventing anything.
//!
//! For each field:
//! 1. The model says null → keep the rules' value. (A model that misses a
//!    value the rules found verbatim does not erase it.)
//! 2. The model proposes a value → keep it **only if the text supports it**,
//!    judged from the rules' [`Evidence`] (every value a non-negated mention
//!    in the text could mean):
//!    - cloud, strategy, database, cache, environment: a non-negated mention
//!      of that value (a provider word or product, "Cloud Run", "postgres" …);
//!    - region: a mention that means exactly that region code on the final
//!      cloud (the code itself, "us east 1", or a place such as Frankfurt);
//!    - instance type, domain, repository: the same string appears in the text
//!      (case-insensitive; a bare `github.com/a/b` supports `https://github.com/a/b`);
//!    - min/max instances: that number is written in the text (digits or words);
//!    - budget: that dollar amount per month is written in the text;
//!    - autoscale/https/load_balancer: a word for it with the same polarity
//!      ("autoscaling"/a range vs "without autoscaling"/"single"; "https"/"tls"
//!      vs "http only"/"no ssl"; "load balancer" vs "no load balancer").
//!
//!    A supported value replaces the rules' value (the model reads context
//!    better); an unsupported one is dropped and reported.
//! 3. Consistency: a region or machine type that belongs to another provider
//!    than the final cloud is replaced by the rules' value (or null); a min
//!    above the max restores the rules' pair.
//!
//! What it deliberately is not: a vote. The model cannot add a value the
//! text does not contain, and cannot remove one the rules found.

use crate::rules::regions::cloud_of;
use crate::rules::{entities, Evidence};
use autodeploy_core::{Cloud, Intent};

/// The merged Intent and a line for every model value that was dropped.
pub(crate) struct Merged {
    pub intent: Intent,
    pub dropped: Vec<String>,
}

fn take<T: PartialEq + Clone + std::fmt::Debug>(
    field: &str,
    rules: &Option<T>,
    llm: &Option<T>,
    supported: impl Fn(&T) -> bool,
    dropped: &mut Vec<String>,
) -> Option<T> {
    match llm {
        None => rules.clone(),
        Some(v) if Some(v) == rules.as_ref() => rules.clone(),
        Some(v) if supported(v) => Some(v.clone()),
        Some(v) => {
            dropped.push(format!(
                "{field}: the model said {}, which the text does not support; dropped",
                show(v)
            ));
            rules.clone()
        }
    }
}

fn show<T: std::fmt::Debug>(v: &T) -> String {
    let s = format!("{v:?}");
    s.trim_matches('"').to_lowercase()
}

fn machine_cloud(t: &str) -> Option<Cloud> {
    entities::machine_type(&t.to_ascii_lowercase()).map(|(_, c)| c)
}

fn norm_repo(r: &str) -> String {
    r.trim_end_matches('/')
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .to_ascii_lowercase()
}

pub(crate) fn merge(rules: &Intent, ev: &Evidence, llm: &Intent) -> Merged {
    let mut d = Vec::new();
    let mut out = Intent {
        cloud: take(
            "cloud",
            &rules.cloud,
            &llm.cloud,
            |v| ev.clouds.contains(v),
            &mut d,
        ),
        strategy: take(
            "strategy",
            &rules.strategy,
            &llm.strategy,
            |v| ev.strategies.contains(v),
            &mut d,
        ),
        database: take(
            "database",
            &rules.database,
            &llm.database,
            |v| ev.databases.contains(v),
            &mut d,
        ),
        cache: take(
            "cache",
            &rules.cache,
            &llm.cache,
            |v| ev.caches.contains(v),
            &mut d,
        ),
        environment: take(
            "environment",
            &rules.environment,
            &llm.environment,
            |v| ev.environments.contains(v),
            &mut d,
        ),
        ..Intent::default()
    };
    let cloud = out.cloud;
    out.region = take(
        "region",
        &rules.region,
        &llm.region,
        |r| {
            cloud.is_some_and(|c| {
                cloud_of(r) == Some(c) && ev.regions.iter().any(|(ec, er)| *ec == c && er == r)
            })
        },
        &mut d,
    );
    out.instance_type = take(
        "instance_type",
        &rules.instance_type,
        &llm.instance_type,
        |t| {
            ev.instance_types
                .iter()
                .any(|(et, _)| et.eq_ignore_ascii_case(t))
        },
        &mut d,
    )
    .map(|t| {
        ev.instance_types
            .iter()
            .find(|(et, _)| et.eq_ignore_ascii_case(&t))
            .map(|(et, _)| et.clone())
            .unwrap_or(t)
    });
    out.min_instances = take(
        "min_instances",
        &rules.min_instances,
        &llm.min_instances,
        |n| ev.numbers.contains(n),
        &mut d,
    );
    out.max_instances = take(
        "max_instances",
        &rules.max_instances,
        &llm.max_instances,
        |n| ev.numbers.contains(n),
        &mut d,
    );
    out.autoscale = take(
        "autoscale",
        &rules.autoscale,
        &llm.autoscale,
        |b| {
            if *b {
                ev.scale_pos || ev.range
            } else {
                ev.scale_neg || ev.single
            }
        },
        &mut d,
    );
    out.https = take(
        "https",
        &rules.https,
        &llm.https,
        |b| if *b { ev.https_pos } else { ev.https_neg },
        &mut d,
    );
    out.load_balancer = take(
        "load_balancer",
        &rules.load_balancer,
        &llm.load_balancer,
        |b| if *b { ev.lb_pos } else { ev.lb_neg },
        &mut d,
    );
    out.domain = take(
        "domain",
        &rules.domain,
        &llm.domain.as_ref().map(|s| s.to_ascii_lowercase()),
        |s| ev.domains.contains(s),
        &mut d,
    );
    out.repo = take(
        "repo",
        &rules.repo,
        &llm.repo,
        |r| ev.repos.iter().any(|e| norm_repo(e) == norm_repo(r)),
        &mut d,
    )
    .map(|r| {
        ev.repos
            .iter()
            .find(|e| norm_repo(e) == norm_repo(&r))
            .cloned()
            .unwrap_or(r)
    });
    out.budget_usd_month = take(
        "budget_usd_month",
        &rules.budget_usd_month,
        &llm.budget_usd_month,
        |b| ev.money.iter().any(|m| (m - b).abs() < 0.005),
        &mut d,
    );

    // Consistency with the final cloud.
    let fits_region = |r: &Option<String>| {
        r.as_deref()
            .is_none_or(|r| cloud.is_some_and(|c| cloud_of(r) == Some(c)))
    };
    if !fits_region(&out.region) {
        d.push(format!(
            "region: {} does not belong to the chosen cloud; dropped",
            out.region.as_deref().unwrap_or("")
        ));
        out.region = if fits_region(&rules.region) {
            rules.region.clone()
        } else {
            None
        };
    }
    let fits_type = |t: &Option<String>| {
        t.as_deref()
            .is_none_or(|t| match (machine_cloud(t), cloud) {
                (Some(tc), Some(c)) => tc == c,
                _ => true,
            })
    };
    if !fits_type(&out.instance_type) {
        d.push(format!(
            "instance_type: {} does not belong to the chosen cloud; dropped",
            out.instance_type.as_deref().unwrap_or("")
        ));
        out.instance_type = if fits_type(&rules.instance_type) {
            rules.instance_type.clone()
        } else {
            None
        };
    }
    if let (Some(a), Some(b)) = (out.min_instances, out.max_instances) {
        if a > b {
            d.push(format!(
                "instances: min {a} above max {b} after merging; kept the rule-based values"
            ));
            out.min_instances = rules.min_instances;
            out.max_instances = rules.max_instances;
        }
    }
    // What only the rules read (never serialised, so a model never says it).
    out.no_database_server = rules.no_database_server && out.database.is_none();
    out.services = rules.services.clone();
    out.services_left_out = rules.services_left_out.clone();
    Merged {
        intent: out,
        dropped: d,
    }
}
