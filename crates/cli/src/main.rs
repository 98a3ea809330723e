//! The `autodeploy` binary: parses the command line and calls the same stage
//! functions the service uses. Each subcommand lives in `cmd/<name>.rs`.
//!
//! Exit codes: 0 success, 1 failure, 2 usage error, 3 nothing deployable found,
//! 4 the source could not be fetched or read. Under `--json` a failure is one
//! line `{"error":{"code","message","hint"}}` on stderr, with the same exit
//! code (`error.rs`). A closed stdout ends any command quietly (`output.rs`).

#[macro_use]
mod output;
mod cmd;
mod config;
mod error;
mod progress;

use clap::{Parser, Subcommand};

use std::process::ExitCode;

/// mimalloc instead of glibc's allocator: the service's plan previews spend
/// a fifth of their time in malloc/free (perf, docs/PERFORMANCE.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "autodeploy",
    version,
    about = "A repository and one sentence in, running infrastructure out.",
    propagate_version = true
)]
struct Cli {
    /// Settings file (flag > AUTODEPLOY_* variable > this file > default) [default: <home>/autodeploy.toml when it exists].
    #[arg(long, value_name = "PATH", global = true, env = "AUTODEPLOY_CONFIG")]
    config: Option<std::path::PathBuf>,
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
    /// Deploy for real: plan, confirm, apply (or run locally), check health, print the URL.
    Deploy(cmd::deploy::DeployArgs),
    /// Where a deployment stands (without ID: every deployment).
    Status(cmd::status::StatusArgs),
    /// The acting user's deployments (--as; --all-users: every user's).
    List(cmd::status::ListArgs),
    /// A deployment's log: every phase, every command's output, and a local app's own output.
    Logs(cmd::logs::LogsArgs),
    /// Fetch again (new commit) and re-plan; apply the difference; roll back if it does not come up.
    Redeploy(cmd::deploy::RedeployArgs),
    /// Delete everything a deployment created (or stop a local app and remove its files).
    Destroy(cmd::deploy::DestroyArgs),
    /// Run the service: HTTP API, web page, /metrics, and in-process workers.
    Serve(cmd::serve::ServeArgs),
    /// Run only workers that execute queued jobs (scale out on PostgreSQL).
    Worker(cmd::worker::WorkerArgs),
    /// Create or revoke API tokens for the service.
    Token(cmd::token::TokenArgs),
    /// The users of the store: whom the CLI acts as (--as) and API tokens belong to.
    Users(cmd::users::UsersArgs),
    /// Print a shell completion script: `autodeploy completions bash > /etc/bash_completion.d/autodeploy`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Internal: supervises a local app's process (started by `deploy`).
    #[command(name = "__supervise", hide = true)]
    Supervise {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

impl Command {
    /// `--json` was asked for: failures are printed as JSON too.
    fn json(&self) -> bool {
        match self {
            Command::Analyze(a) => a.json,
            Command::Parse(a) => a.json,
            Command::Plan(a) => a.json,
            Command::Deploy(a) => a.json,
            Command::Status(a) => a.json,
            Command::List(a) => a.json,
            Command::Logs(a) => a.json,
            Command::Redeploy(a) => a.json,
            Command::Destroy(a) => a.json,
            Command::Users(a) => a.json,
            Command::Serve(_) | Command::Worker(_) | Command::Token(_) => false,
            Command::Completions { .. } => false,
            Command::Supervise { .. } => false,
        }
    }
}

/// A command line clap refused. Under `--json` (anywhere before `--`) it is
/// a JSON failure with code `usage`; help and version print as usual.
fn usage_error(e: clap::Error, origin: Option<String>) -> ExitCode {
    use clap::error::ErrorKind;
    let json = std::env::args_os()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--json");
    if !json
        || matches!(
            e.kind(),
            ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        )
    {
        match origin {
            // A bad value from the environment or the config file: say which.
            Some(origin) if e.use_stderr() => {
                let text = e.render().to_string();
                let first = text.lines().next().unwrap_or_default();
                errln!("{first}");
                errln!("hint: {origin}");
                return ExitCode::from(error::EXIT_USAGE);
            }
            _ => e.exit(),
        }
    }
    let text = e.render().to_string();
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let message = lines
        .next()
        .unwrap_or("invalid command line")
        .trim_start_matches("error: ")
        .to_string();
    let hint = origin
        .into_iter()
        .chain(lines.map(|l| l.trim().to_string()))
        .collect::<Vec<_>>()
        .join(" ");
    let failure = error::Failure {
        code: "usage",
        message,
        hint: (!hint.is_empty()).then_some(hint),
        exit: error::EXIT_USAGE,
    };
    output::print_failure(&failure, true);
    failure.exit_code()
}

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let applied = match config::apply(&args) {
        Ok(a) => a,
        Err(e) => {
            let json = args
                .iter()
                .skip(1)
                .take_while(|a| *a != "--")
                .any(|a| a == "--json");
            let failure = error::Failure::of(&e.into());
            output::print_failure(&failure, json);
            return failure.exit_code();
        }
    };
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            let origin = applied.origin(&e, &args);
            return usage_error(e, origin);
        }
    };
    let json = cli.command.json();
    let result = match cli.command {
        Command::Analyze(args) => cmd::analyze::run(args),
        Command::Parse(args) => cmd::parse::run(args),
        Command::Plan(args) => cmd::plan::run(args),
        Command::Deploy(args) => cmd::deploy::run_deploy(args),
        Command::Status(args) => cmd::status::run_status(args),
        Command::List(args) => cmd::status::run_list(args),
        Command::Logs(args) => cmd::logs::run(args),
        Command::Redeploy(args) => cmd::deploy::run_redeploy(args),
        Command::Destroy(args) => cmd::deploy::run_destroy(args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Worker(args) => cmd::worker::run(args),
        Command::Token(args) => cmd::token::run(args),
        Command::Users(args) => cmd::users::run(args),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "autodeploy", &mut out);
            out!("{}", String::from_utf8_lossy(&out));
            Ok(ExitCode::SUCCESS)
        }
        Command::Supervise { args } => autodeploy_local::supervise_main(&args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            // Errors quote repository and request text (archive entries,
            // git's stderr, app output): `Failure` makes them safe to print.
            let failure = error::Failure::of(&err);
            output::print_failure(&failure, json);
            failure.exit_code()
        }
    }
}
