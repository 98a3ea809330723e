//! The one-paragraph human reading of an Intent: "Understood: …" plus what is
//! left to defaults. Pure string formatting, used by the CLI's non-JSON output.
//!
//! What it deliberately is not: a place that applies or names default values
//! — decide chooses those; this only says which fields it will choose.

use autodeploy_core::Intent;

fn money(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("${v:.0}/month")
    } else {
        format!("${v:.2}/month")
    }
}

/// "Understood: …" and "Left to defaults: …" lines for `intent`.
pub fn summarize(intent: &Intent) -> String {
    let mut said: Vec<String> = Vec::new();
    if let Some(c) = intent.cloud {
        said.push(format!("cloud {}", c.as_str()));
    }
    if let Some(r) = &intent.region {
        said.push(format!("region {r}"));
    }
    if let Some(s) = intent.strategy {
        said.push(format!("strategy {}", s.as_str()));
    }
    if let Some(t) = &intent.instance_type {
        said.push(format!("instance type {t}"));
    }
    match (intent.min_instances, intent.max_instances) {
        (Some(a), Some(b)) if a == b => {
            said.push(format!("{a} instance{}", if a == 1 { "" } else { "s" }))
        }
        (Some(a), Some(b)) => said.push(format!("{a}–{b} instances")),
        (Some(a), None) => said.push(format!(
            "at least {a} instance{}",
            if a == 1 { "" } else { "s" }
        )),
        (None, Some(b)) => said.push(format!(
            "at most {b} instance{}",
            if b == 1 { "" } else { "s" }
        )),
        (None, None) => {}
    }
    if let Some(a) = intent.autoscale {
        said.push(if a {
            "autoscaling".into()
        } else {
            "no autoscaling".into()
        });
    }
    if let Some(d) = intent.database {
        said.push(format!("database {}", d.as_str()));
    } else if intent.no_database_server {
        said.push("no database server".into());
    }
    if let Some(c) = intent.cache {
        said.push(format!("cache {}", c.as_str()));
    }
    let parts = |roles: &[autodeploy_core::ServiceRole]| {
        roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(" and ")
    };
    if !intent.services.is_empty() {
        said.push(format!("only the {}", parts(&intent.services)));
    }
    if !intent.services_left_out.is_empty() {
        said.push(format!("without the {}", parts(&intent.services_left_out)));
    }
    if let Some(d) = &intent.domain {
        said.push(format!("domain {d}"));
    }
    if let Some(h) = intent.https {
        said.push(if h {
            "https".into()
        } else {
            "http only (no https)".into()
        });
    }
    if let Some(e) = intent.environment {
        said.push(format!("environment {}", e.as_str()));
    }
    if let Some(b) = intent.budget_usd_month {
        said.push(format!("budget {}", money(b)));
    }
    if let Some(lb) = intent.load_balancer {
        said.push(if lb {
            "load balancer".into()
        } else {
            "no load balancer".into()
        });
    }
    if let Some(r) = &intent.repo {
        said.push(format!("repo {r}"));
    }

    let unset: Vec<&str> = intent
        .unset_fields()
        .into_iter()
        .map(|f| match f {
            "instance_type" => "instance type",
            "min_instances" => "min instances",
            "max_instances" => "max instances",
            "budget_usd_month" => "budget",
            "load_balancer" => "load balancer",
            other => other,
        })
        // "no database": nothing is left to choose for it.
        .filter(|f| !(intent.no_database_server && *f == "database"))
        .collect();

    let first = if said.is_empty() {
        "Understood: nothing specific.".to_string()
    } else {
        format!("Understood: {}.", said.join(", "))
    };
    if unset.is_empty() {
        format!("{first}\nNothing is left to defaults.")
    } else if said.is_empty() {
        format!(
            "{first}\nLeft to defaults: everything ({}).",
            unset.join(", ")
        )
    } else {
        format!("{first}\nLeft to defaults: {}.", unset.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_what_was_said_and_what_is_left() {
        let s = summarize(&crate::parse(
            "AWS Frankfurt, Postgres, 2 to 5 instances, https on app.example.com",
        ));
        assert!(s.starts_with("Understood: cloud aws, region eu-central-1, 2–5 instances, autoscaling, database postgresql, domain app.example.com, https."), "{s}");
        assert!(s.contains("Left to defaults: strategy, instance type, cache, environment, budget, load balancer, repo."), "{s}");
        let s = summarize(&crate::parse("on AWS, no database"));
        assert!(
            s.starts_with("Understood: cloud aws, no database server."),
            "{s}"
        );
        assert!(!s.contains(", database,"), "{s}");
        let s = summarize(&Intent::default());
        assert!(
            s.starts_with(
                "Understood: nothing specific.\nLeft to defaults: everything (cloud, region"
            ),
            "{s}"
        );
    }
}
