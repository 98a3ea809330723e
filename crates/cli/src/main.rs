//! The `autodeploy` binary: parses the command line and calls the same stage
//! functions the service uses. Each subcommand lives in `cmd/<name>.rs`.
//!
//! Exit codes: 0 success, 1 failure, 2 usage error, 3 nothing deployable found,
//! 4 the source could not be fetched or read.

mod cmd;
mod output;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "autodeploy",
    version,
    about = "A repository and one sentence in, running infrastructure out.",
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Work out what the app in a repository is and how it starts.
    Analyze(cmd::analyze::AnalyzeArgs),
    /// Understand a deployment request written in plain English.
    Parse(cmd::parse::ParseArgs),
    /// Everything but deploying: analyze, parse, decide, and write the files (Terraform, Dockerfile, PLAN.md…).
    Plan(cmd::plan::PlanArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(args) => cmd::analyze::run(args),
        Command::Parse(args) => cmd::parse::run(args),
        Command::Plan(args) => cmd::plan::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            let code = output::exit_code_for(&err);
            eprintln!("error: {err:#}");
            code
        }
    }
}
