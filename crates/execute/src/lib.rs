//! The execute stage (Bundle → Deployment) and the orchestration around it:
//! [`prepare`] runs every stage before execute; [`execute`] runs a deploy,
//! redeploy or destroy of a stored deployment — Terraform with its own state
//! per deployment (crate `autodeploy-terraform`), the post-apply release
//! steps (`autodeploy-aws`), or the local target (`autodeploy-local`) — then
//! checks health and records phases, logs, outputs and status in the store.
//!
//! The CLI and the service's workers call the same functions: the CLI with
//! the plan it already showed, a worker with a job it claimed
//! ([`run_job`]).
//!
//! Deliberately not here: printing (the CLI), HTTP (the server), SQL (the
//! store), Terraform process handling (the runner crate).

pub mod bundle;
mod config;
mod error;
pub mod health;
mod prepare;
mod release;
mod report;
mod run;
pub mod runner;

pub use config::{absolute_home, default_home, ExecConfig, OnFailure};
pub use error::{analyze_code, aws_code, decide_code, local_code, render_code, ExecError};
pub use prepare::{
    fetch_and_analyze, fetch_options, name_hint, plan_analysis, prepare, Planned, PrepareOptions,
    Prepared, StoredPlan,
};
pub use report::{drain, ChannelReporter, Event, Progress, Reporter, Silent};
pub use run::{
    execute, plan_diff, reconcile, run_job, run_job_cancellable, state_schema, store_secrets,
    with_store_retry, DeployOptions,
};
