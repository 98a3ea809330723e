//! One module per subcommand. Each exposes a clap `Args` struct and
//! `run(args) -> anyhow::Result<ExitCode>`; printing happens here, the work in
//! the stage crates.

pub mod analyze;
pub mod parse;
pub mod plan;
