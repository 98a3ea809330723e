//! `autodeploy status [ID]`, `autodeploy list`: where deployments stand. A
//! deployment whose executing process died is reported as interrupted; a
//! local one is probed (is its process up, does it answer).
//!
//! Every stored value came from a repository, a request or an app's output:
//! it is printed through `escape::display`, line by line.

use crate::cmd::common::{
    acting_user, all_deployments, exec_config, open_store, owner_name, runtime, StateArgs, UserArgs,
};
use crate::cmd::deploy::find;
use crate::error::CliError;
use crate::output::deployment_json;
use autodeploy_core::DeploymentStatus;
use autodeploy_execute::{reconcile, ExecConfig};
use autodeploy_render::escape::display;
use autodeploy_store::{Deployment, Store};
use clap::Args;
use serde_json::json;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Args)]
pub struct StatusArgs {
    /// The deployment; without it, every deployment (like `list`).
    pub id: Option<String>,
    /// Print JSON: the deployment record(s), without the embedded plans.
    #[arg(long)]
    pub json: bool,
    /// With --json: whole records, each plan and last healthy plan included.
    #[arg(long, requires = "json")]
    pub full: bool,
    #[command(flatten)]
    pub user: UserArgs,
    #[command(flatten)]
    pub state: StateArgs,
}

#[derive(Args)]
pub struct ListArgs {
    /// Every user's deployments, with their owner (by default only the acting user's, see --as).
    #[arg(long = "all-users")]
    pub all_users: bool,
    /// Only deployments with this status (healthy, failed, destroyed…).
    #[arg(long)]
    pub status: Option<String>,
    /// Include destroyed deployments.
    #[arg(long)]
    pub all: bool,
    /// Print JSON: the deployment record(s), without the embedded plans.
    #[arg(long)]
    pub json: bool,
    /// With --json: whole records, each plan and last healthy plan included.
    #[arg(long, requires = "json")]
    pub full: bool,
    #[command(flatten)]
    pub user: UserArgs,
    #[command(flatten)]
    pub state: StateArgs,
}

/// What this machine can see of a local deployment's process right now.
fn live(cfg: &ExecConfig, d: &Deployment) -> Option<serde_json::Value> {
    if d.cloud.as_deref() != Some("local") || d.status == DeploymentStatus::Destroyed {
        return None;
    }
    let opts = autodeploy_local::LocalOptions::new(cfg.home.clone());
    let mut v = match autodeploy_local::status(&d.id, &opts) {
        Ok(s) => serde_json::to_value(&s).unwrap_or(json!(null)),
        Err(e) => json!({ "error": e.to_string() }),
    };
    let data = autodeploy_local::data_status(&d.id, &opts);
    if !data.is_empty() {
        v["data_services"] = serde_json::to_value(&data).unwrap_or(json!([]));
    }
    Some(v)
}

/// One line per local data service: engine, version, where, which database, up or not.
fn describe_data(v: &serde_json::Value) -> Vec<String> {
    let Ok(data) = serde_json::from_value::<Vec<autodeploy_local::data::DataStatus>>(
        v.get("data_services").cloned().unwrap_or(json!([])),
    ) else {
        return vec![];
    };
    data.iter()
        .map(|s| {
            format!(
                "{} {} on {}:{}, database {} (user {}), {}",
                s.engine.label(),
                s.version,
                s.host,
                s.port,
                s.database,
                s.user,
                if s.running {
                    "running"
                } else {
                    "NOT running (`autodeploy redeploy` starts it)"
                }
            )
        })
        .collect()
}

pub fn run_status(args: StatusArgs) -> anyhow::Result<ExitCode> {
    let Some(id) = args.id.clone() else {
        return run_list(ListArgs {
            all_users: false,
            status: None,
            all: false,
            json: args.json,
            full: args.full,
            user: args.user,
            state: args.state,
        });
    };
    let cfg = exec_config(&args.state, None);
    runtime()?.block_on(async move {
        let store = open_store(&args.state, &cfg).await?;
        let user = acting_user(&store, &args.user).await?;
        let d = find(&store, &id, &user).await?;
        let d = reconcile(&store, &cfg, d).await?;
        let live = live(&cfg, &d);
        if args.json {
            let mut v = deployment_json(&d, args.full)?;
            v["owner_name"] = json!(user.name);
            v["live"] = live.unwrap_or(json!(null));
            crate::output::print_json(&v)?;
            return Ok(ExitCode::SUCCESS);
        }
        outln!("{}  {}", display(&d.id), display(&d.name));
        outln!("  owner:    {}", display(&user.name));
        outln!("  status:   {}", d.status.as_str());
        if let Some(p) = d.phase {
            outln!("  phase:    {}", p.as_str());
        }
        outln!("  source:   {}", display(&d.source));
        outln!("  request:  {}", display(&d.request));
        outln!(
            "  target:   {} {} {}",
            display(d.cloud.as_deref().unwrap_or("?")),
            display(d.region.as_deref().unwrap_or("")),
            display(d.strategy.as_deref().unwrap_or(""))
        );
        if let Some(c) = &d.commit {
            outln!("  commit:   {}", display(c));
        }
        if let Some(u) = &d.url {
            outln!("  url:      {}", display(u));
        }
        if let Some(l) = &live {
            outln!("  process:  {}", display(&describe_live(l)));
            for line in describe_data(l) {
                outln!("  data:     {}", display(&line));
            }
        }
        if let Some(e) = &d.error {
            print_lines("  error:    ", "            ", e);
        }
        if let Some(o) = d.outputs.as_object().filter(|o| !o.is_empty()) {
            outln!("  outputs:");
            // Local data services are shown live above.
            for (k, v) in o.iter().filter(|(k, _)| *k != "data_services") {
                let shown = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                outln!("    {} = {}", display(k), display(&shown));
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Multi-line text: the first line after `first`, the others after `rest`,
/// each line made safe to print.
fn print_lines(first: &str, rest: &str, text: &str) {
    for (i, line) in text.lines().enumerate() {
        outln!("{}{}", if i == 0 { first } else { rest }, display(line));
    }
}

fn describe_live(v: &serde_json::Value) -> String {
    if let Some(e) = v.get("error").and_then(|e| e.as_str()) {
        return format!("unknown ({e})");
    }
    let state = v
        .get("state")
        .or_else(|| v.get("status"))
        .and_then(|s| s.as_str())
        .unwrap_or("");
    let healthy = v.get("healthy").and_then(|h| h.as_bool());
    match (state, healthy) {
        (_, Some(true)) => "running, answering".into(),
        (_, Some(false)) => "running, NOT answering".into(),
        ("", None) => v.to_string(),
        (s, None) => s.to_string(),
    }
}

pub fn run_list(args: ListArgs) -> anyhow::Result<ExitCode> {
    let cfg = exec_config(&args.state, None);
    let status = match args.status.as_deref() {
        None => None,
        Some(s) => Some(DeploymentStatus::parse(s).ok_or_else(|| {
            CliError::invalid(
                format!("unknown status {s:?}"),
                Some(&format!(
                    "one of: {}",
                    DeploymentStatus::ALL.map(|s| s.as_str()).join(", ")
                )),
            )
        })?),
    };
    runtime()?.block_on(async move {
        let store: Arc<dyn Store> = open_store(&args.state, &cfg).await?;
        let user = acting_user(&store, &args.user).await?;
        let users = store.list_users().await?;
        let shown = |d: &Deployment| {
            args.all || status.is_some() || d.status != DeploymentStatus::Destroyed
        };
        let mut items = Vec::new();
        // Other users' deployments that --all-users would show (as stored:
        // only the listed ones are reconciled).
        let mut others = std::collections::BTreeMap::<String, usize>::new();
        for d in all_deployments(&store).await? {
            if status.is_some_and(|s| d.status != s) {
                continue;
            }
            if args.all_users || d.owner == user.id {
                let d = reconcile(&store, &cfg, d).await?;
                if shown(&d) {
                    items.push(d);
                }
            } else if shown(&d) {
                *others.entry(owner_name(&users, &d.owner)).or_default() += 1;
            }
        }
        if args.json {
            let items = items
                .iter()
                .map(|d| {
                    let mut v = deployment_json(d, args.full)?;
                    v["owner_name"] = json!(owner_name(&users, &d.owner));
                    Ok(v)
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            crate::output::print_json(&items)?;
            return Ok(ExitCode::SUCCESS);
        }
        outln!(
            "{}",
            whose(&user.name, args.all_users, items.len(), &others)
        );
        if items.is_empty() {
            if others.is_empty() {
                outln!("Start one with: autodeploy deploy ./my-app \"run it locally\"");
            }
            return Ok(ExitCode::SUCCESS);
        }
        let owner_col = |d: &Deployment| {
            if args.all_users {
                format!(
                    "{:<12} ",
                    truncate(&display(&owner_name(&users, &d.owner)), 12)
                )
            } else {
                String::new()
            }
        };
        let header_owner = if args.all_users {
            format!("{:<12} ", "OWNER")
        } else {
            String::new()
        };
        outln!(
            "{:<22} {header_owner}{:<24} {:<12} {:<8} URL",
            "ID",
            "NAME",
            "STATUS",
            "CLOUD"
        );
        for d in &items {
            outln!(
                "{:<22} {}{:<24} {:<12} {:<8} {}",
                display(&d.id),
                owner_col(d),
                truncate(&display(&d.name), 24),
                d.status.as_str(),
                display(d.cloud.as_deref().unwrap_or("-")),
                display(d.url.as_deref().unwrap_or("-"))
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The line above the table that says whose deployments these are, and how
/// many of the other users' it leaves out.
fn whose(
    user: &str,
    all_users: bool,
    n: usize,
    others: &std::collections::BTreeMap<String, usize>,
) -> String {
    if all_users {
        return format!(
            "Deployments of every user ({n}; acting as {})",
            display(user)
        );
    }
    let mine = match n {
        0 => format!("No deployments of {} yet", display(user)),
        n => format!("Deployments of {} ({n})", display(user)),
    };
    let more: usize = others.values().sum();
    if more == 0 {
        return mine;
    }
    let names = others
        .keys()
        .map(|k| display(k).into_owned())
        .collect::<Vec<_>>()
        .join(", ");
    let (belong, users) = match (more, others.len()) {
        (1, _) => ("belongs", "another user"),
        (_, 1) => ("belong", "another user"),
        _ => ("belong", "other users"),
    };
    format!("{mine}; {more} more {belong} to {users} ({names}): autodeploy list --all-users")
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}
