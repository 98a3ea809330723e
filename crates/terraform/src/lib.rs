//! The Terraform runner of the execute stage.
//!
//! Runs `terraform` (or OpenTofu's `tofu`) for ONE deployment at a time in
//! that deployment's own working directory with that deployment's own state
//! (local file, a PostgreSQL schema, or an S3 object with a lock file), so
//! that concurrent deployments never contend for one state lock.
//!
//! Deliberately not here: deciding what to deploy, rendering Terraform,
//! storing deployments, async. Every call blocks the calling thread (std
//! processes and threads only); run it on a worker thread.
//!
//! Typical use, for one deployment:
//!
//! ```no_run
//! use autodeploy_terraform::{Backend, Terraform, Workspace};
//! # fn main() -> Result<(), autodeploy_terraform::TfError> {
//! let tf = Terraform::discover(None, std::path::Path::new("/var/lib/autodeploy"))?;
//! let ws = Workspace::new("/var/lib/autodeploy/deployments/d1/terraform", Backend::Local)
//!     .var("image_tag", "0123abc");
//! let sink = |stream: autodeploy_core::LogStream, line: &str| println!("[{}] {line}", stream.as_str());
//! tf.init(&ws, &sink)?;
//! let plan = tf.plan(&ws, false, &sink)?;
//! if plan.changes {
//!     tf.apply(&ws, &sink)?;
//! }
//! let outputs = tf.output(&ws)?;
//! # let _ = outputs;
//! # Ok(()) }
//! ```
//!
//! Processes: each terraform runs in its own process group with its
//! provider plugins; it is interrupted (SIGINT, then SIGKILL for the group)
//! when the caller cancels, gets SIGTERM when the caller dies, and its group
//! is killed after every run, so no provider outlives it (see `run.rs`). Secrets (values of
//! environment variables named *SECRET*/*TOKEN*/*PASSWORD*/*KEY*, PostgreSQL
//! connection strings, URL passwords) are redacted from every line the sink
//! gets and from errors; credentials pass through the environment only.

mod commands;
mod discover;
mod error;
mod redact;
mod run;
mod workspace;

pub use commands::{summarize_plan_json, OutputValue, PlanSummary, PlannedChange};
pub use discover::{cli_config_text, default_mirror_roots, find_mirrors, Flavor, Terraform};
pub use error::{FailureKind, TfError};
pub use redact::{is_secret_name, Redactor};
pub use run::{stop_leftovers, stop_orphans, Sink, TAIL_LINES};
pub use workspace::{
    endpoint_override_text, Backend, Workspace, AWS_EMULATED_SERVICES, BACKEND_FILE,
    ENDPOINT_OVERRIDE_FILE, PLAN_FILE,
};
