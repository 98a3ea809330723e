//! One module per subcommand. Each exposes a clap `Args` struct and
//! `run(args) -> anyhow::Result<ExitCode>`; printing happens here, the work in
//! the stage crates. `common` holds the settings shared by the commands that
//! execute or inspect deployments.

pub mod analyze;
pub mod common;
pub mod deploy;
pub mod logs;
pub mod parse;
pub mod plan;
pub mod serve;
pub mod status;
pub mod token;
pub mod users;
pub mod values;
pub mod worker;
