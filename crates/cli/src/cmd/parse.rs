//! `autodeploy parse "TEXT"` — placeholder until the parse stage lands.
use clap::Args;
use std::process::ExitCode;

#[derive(Args)]
pub struct ParseArgs {
    /// The request, in plain English.
    pub text: String,
    /// Print the Intent as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(_args: ParseArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("parse is not implemented yet")
}
