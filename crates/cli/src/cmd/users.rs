//! `autodeploy users`: the users of the store — the same users the service's
//! API tokens belong to and the command line acts as (`--as NAME`). `users`
//! lists them with their deployments; `users add NAME [--admin]` makes one;
//! `users admin NAME [--revoke]` lets one see every user's deployments
//! through the API (`GET /v1/deployments?all_users=true`).
//!
//! Deliberately not here: tokens (`autodeploy token`).

use crate::cmd::common::{
    all_deployments, check_user_name, exec_config, open_store, runtime, StateArgs,
};
use crate::error::CliError;
use autodeploy_core::DeploymentStatus;
use autodeploy_render::escape::display;
use clap::{Args, Subcommand};
use std::process::ExitCode;

#[derive(Args)]
pub struct UsersArgs {
    #[command(subcommand)]
    pub action: Option<UsersAction>,
    /// Print JSON: [{id, name, admin, deployments}].
    #[arg(long, global = true)]
    pub json: bool,
    #[command(flatten)]
    pub state: StateArgs,
}

#[derive(Subcommand)]
pub enum UsersAction {
    /// Every user: name, id, admin or not, how many deployments it has (the default).
    List,
    /// Make a user the command line can act as (`--as NAME`) and tokens can be made for.
    Add {
        /// 1 to 64 printable characters.
        name: String,
        /// May list every user's deployments through the API.
        #[arg(long)]
        admin: bool,
    },
    /// Let a user list every user's deployments through the API (or, with --revoke, no longer).
    Admin {
        name: String,
        #[arg(long)]
        revoke: bool,
    },
}

pub fn run(args: UsersArgs) -> anyhow::Result<ExitCode> {
    let cfg = exec_config(&args.state, None);
    runtime()?.block_on(async move {
        let store = open_store(&args.state, &cfg).await?;
        match args.action.unwrap_or(UsersAction::List) {
            UsersAction::List => {
                let deployments = all_deployments(&store).await?;
                let count = |id: &str| {
                    deployments
                        .iter()
                        .filter(|d| d.owner == id && d.status != DeploymentStatus::Destroyed)
                        .count()
                };
                let users = store.list_users().await?;
                if args.json {
                    let v: Vec<_> = users
                        .iter()
                        .map(|u| {
                            serde_json::json!({
                                "id": u.id, "name": u.name, "admin": u.admin,
                                "deployments": count(&u.id),
                            })
                        })
                        .collect();
                    crate::output::print_json(&v)?;
                    return Ok(ExitCode::SUCCESS);
                }
                outln!("{:<20} {:<24} {:<6} DEPLOYMENTS", "NAME", "ID", "ADMIN");
                for u in &users {
                    outln!(
                        "{:<20} {:<24} {:<6} {}",
                        display(&u.name),
                        display(&u.id),
                        if u.admin { "yes" } else { "no" },
                        count(&u.id)
                    );
                }
            }
            UsersAction::Add { name, admin } => {
                let name = check_user_name(&name)?;
                let u = store.create_user(name).await?;
                if admin {
                    store.set_admin(&u.id, true).await?;
                }
                if args.json {
                    crate::output::print_json(&serde_json::json!({
                        "id": u.id, "name": u.name, "admin": admin, "deployments": 0,
                    }))?;
                } else {
                    outln!(
                        "user {} ({}){}: `--as {}` acts as it, `autodeploy token create --user {}` gives it an API token",
                        display(&u.name),
                        u.id,
                        if admin { ", admin" } else { "" },
                        display(&u.name),
                        display(&u.name)
                    );
                }
            }
            UsersAction::Admin { name, revoke } => {
                let Some(u) = store.find_user(name.trim()).await? else {
                    let known = store.list_users().await?.into_iter().map(|u| u.name).collect();
                    return Err(CliError::UnknownUser { name, known }.into());
                };
                store.set_admin(&u.id, !revoke).await?;
                outln!(
                    "user {} is {}an admin (a running service sees the change within 5 seconds)",
                    display(&u.name),
                    if revoke { "no longer " } else { "now " }
                );
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
