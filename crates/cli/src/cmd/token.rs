//! `autodeploy token create --user NAME` / `token revoke`: API tokens for
//! the service, written straight into the store (creating the user if
//! needed). The token is printed once; only its hash is stored. The users
//! are the store's (`autodeploy users`): a token of `local` sees what the
//! command line deploys by default, a token of `alice` what `--as alice` does.

use crate::cmd::common::{check_user_name, exec_config, open_store, runtime, StateArgs};
use anyhow::Context;
use clap::{Args, Subcommand};
use std::process::ExitCode;

#[derive(Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub action: TokenAction,
    #[command(flatten)]
    pub state: StateArgs,
}

#[derive(Subcommand)]
pub enum TokenAction {
    /// Create a token (and the user, if new); prints the token once.
    Create {
        /// User name.
        #[arg(long)]
        user: String,
        /// A label to recognise (and revoke) the token by.
        #[arg(long, default_value = "cli")]
        label: String,
    },
    /// Revoke a user's tokens by label, by the whole token, or by a prefix of at least 8 characters.
    Revoke {
        #[arg(long)]
        user: String,
        /// Label, token, or token prefix.
        token: String,
    },
}

pub fn run(args: TokenArgs) -> anyhow::Result<ExitCode> {
    let cfg = exec_config(&args.state, None);
    runtime()?.block_on(async move {
        let store = open_store(&args.state, &cfg).await?;
        match args.action {
            TokenAction::Create { user, label } => {
                let name = check_user_name(&user)?;
                let u = match store.find_user(name).await? {
                    Some(u) => u,
                    None => store
                        .create_user(name)
                        .await
                        .with_context(|| format!("could not create user {name}"))?,
                };
                let token = store.create_token(&u.id, &label).await?;
                outln!("{token}");
                errln!("token for user `{}` ({}{}), label `{label}`: shown once, store it now; it sees the deployments `autodeploy --as {}` makes", u.name, u.id, if u.admin { ", admin" } else { "" }, u.name);
            }
            TokenAction::Revoke { user, token } => {
                let Some(u) = store.find_user(user.trim()).await? else {
                    anyhow::bail!("no user named {user:?} in this store");
                };
                let n = store.revoke_token(&token, &u.id).await?;
                if n == 0 {
                    anyhow::bail!("no token of {user} matches {token:?} (give a label, the token, or at least its first 8 characters)");
                }
                errln!("revoked {n} token(s) of {user}");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
