//! The one error type of the Terraform runner, worded for the person who
//! reads it: what failed, where, and what to do next.
//!
//! Deliberately not here: deciding whether to retry (that is `run.rs`, which
//! marks failures `transient` and retries them) or how a caller shows errors.

use std::path::PathBuf;

/// What kind of failure Terraform reported, read once from its output by the
/// runner and kept as data: callers ask the error, never its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The cloud API throttled the calls (Throttling, RequestLimitExceeded,
    /// TooManyRequests, SlowDown…).
    Throttled,
    /// A timeout or a dropped connection on the way to the API.
    Network,
    /// A provider plugin did not start in time or stopped answering — what a
    /// machine under heavy load (many deployments at once) shows; it is not
    /// the configuration's fault and a second run normally starts it.
    ProviderStart,
    /// Anything else: a mistake that will fail the same way again.
    Other,
}

impl FailureKind {
    /// Running again later may succeed.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            FailureKind::Throttled | FailureKind::Network | FailureKind::ProviderStart
        )
    }
}

/// Everything that can go wrong running Terraform for a deployment.
#[derive(Debug, thiserror::Error)]
pub enum TfError {
    /// No `terraform` or `tofu` binary could be found.
    #[error(
        "Terraform is not installed: {searched}. Install Terraform \
         (https://developer.hashicorp.com/terraform/install, or HashiCorp's apt repository \
         `apt install terraform`, or `brew install hashicorp/tap/terraform`) or OpenTofu \
         (https://opentofu.org/docs/intro/install/), or pass the binary's path with --terraform-bin"
    )]
    NotInstalled { searched: String },

    /// A binary was found (or given) but does not behave like terraform/tofu.
    #[error(
        "{path} does not look like a working terraform/tofu binary ({reason}); \
         check the path given with --terraform-bin or reinstall Terraform"
    )]
    BadBinary { path: PathBuf, reason: String },

    /// A setting is unusable (a mirror directory that does not exist, …).
    #[error("invalid Terraform runner setting: {what}")]
    Config { what: String },

    /// A workspace value would produce an invalid or unsafe Terraform file.
    #[error("invalid workspace {dir}: {what}")]
    InvalidWorkspace { dir: PathBuf, what: String },

    /// Reading or writing a file or starting a process failed.
    #[error("could not {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Terraform ran and exited unsuccessfully. `tail` holds the `Error:`
    /// block(s) Terraform printed, else its last lines (secrets redacted).
    #[error("`{command}` failed in {dir} ({}){}: {}", exit_text(*code), if *transient { ", a transient failure (retries exhausted)" } else { "" }, summary(tail))]
    Failed {
        command: String,
        dir: PathBuf,
        code: Option<i32>,
        tail: Vec<String>,
        /// Throttling, timeouts, connection resets: running again may succeed.
        transient: bool,
        /// Which kind of failure it was.
        kind: FailureKind,
    },

    /// The run was stopped on request (Ctrl-C, a cancelled job): terraform
    /// was interrupted and given time to save its state and release the lock.
    #[error(
        "`{command}` in {dir} was interrupted on request; what it had applied is in the state \
         (`autodeploy destroy` removes it, `autodeploy redeploy` continues)"
    )]
    Interrupted { command: String, dir: PathBuf },

    /// Another run holds the state lock and `-lock-timeout` (and the retries)
    /// ran out. Nothing was changed by this run.
    #[error(
        "`{command}` in {dir} could not take the state lock{}: another terraform run is using this \
         deployment's state. Wait for it to finish; if it died, remove the lock with \
         `terraform force-unlock <id>` in that directory",
        lock_id.as_deref().map(|id| format!(" (held by lock {id})")).unwrap_or_default()
    )]
    LockHeld {
        command: String,
        dir: PathBuf,
        lock_id: Option<String>,
        tail: Vec<String>,
    },

    /// Terraform succeeded but printed something we could not read.
    #[error("could not read the output of `{command}` in {dir}: {reason}")]
    BadOutput {
        command: String,
        dir: PathBuf,
        reason: String,
    },
}

impl TfError {
    /// A stable, machine-readable name of this failure (snake_case).
    pub fn code(&self) -> &'static str {
        match self {
            TfError::NotInstalled { .. } => "terraform_missing",
            TfError::BadBinary { .. } => "terraform_unusable",
            TfError::Config { .. } => "terraform_config_invalid",
            TfError::InvalidWorkspace { .. } => "terraform_workspace_invalid",
            TfError::Io { .. } => "terraform_io_failed",
            TfError::Failed { .. } => "terraform_failed",
            TfError::Interrupted { .. } => "cancelled",
            TfError::LockHeld { .. } => "state_locked",
            TfError::BadOutput { .. } => "terraform_output_unreadable",
        }
    }

    /// Another run held the state lock.
    pub fn is_lock_held(&self) -> bool {
        matches!(self, TfError::LockHeld { .. })
    }

    /// The cloud API throttled the run.
    pub fn is_throttled(&self) -> bool {
        matches!(
            self,
            TfError::Failed {
                kind: FailureKind::Throttled,
                ..
            }
        )
    }

    /// Worth running again later: a held lock or a transient failure.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            TfError::LockHeld { .. }
                | TfError::Failed {
                    transient: true,
                    ..
                }
        )
    }

    /// The Terraform lines attached to the error (empty for non-run errors).
    pub fn tail(&self) -> &[String] {
        match self {
            TfError::Failed { tail, .. } | TfError::LockHeld { tail, .. } => tail,
            _ => &[],
        }
    }
}

fn exit_text(code: Option<i32>) -> String {
    match code {
        Some(c) => format!("exit code {c}"),
        None => "killed by a signal".to_string(),
    }
}

/// The first `Error:` line, else the last non-empty line.
fn summary(tail: &[String]) -> String {
    tail.iter()
        .map(|l| l.trim())
        .find(|l| l.starts_with("Error:"))
        .or_else(|| tail.iter().map(|l| l.trim()).rfind(|l| !l.is_empty()))
        .unwrap_or("no output")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_message_names_the_first_error_line() {
        let e = TfError::Failed {
            command: "terraform apply plan.tfplan".into(),
            dir: "/d".into(),
            code: Some(1),
            tail: vec![
                "".into(),
                "Error: creating EC2 Instance: boom".into(),
                "  with aws_instance.app".into(),
            ],
            transient: false,
            kind: FailureKind::Other,
        };
        let s = e.to_string();
        assert!(
            s.contains("exit code 1") && s.contains("Error: creating EC2 Instance: boom"),
            "{s}"
        );
        assert!(!e.is_transient());
    }
}
