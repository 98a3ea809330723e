//! The execute stage's error: which phase failed, why, and what to do next.
//! One place words failures for people (the CLI prints `Display`, the service
//! stores it in the deployment's `error`).
//!
//! Errors stay typed end to end: a Terraform failure carries the runner's
//! [`TfError`] (which knows a held state lock or a throttled API as data), a
//! release step the [`AwsError`], the local target its `LocalError`, the
//! store its `StoreError`. Whether a failure is worth retrying is asked of
//! those types ([`ExecError::is_transient`]), never read from the text.

use autodeploy_aws::AwsError;
use autodeploy_core::Phase;
use autodeploy_terraform::TfError;

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("could not read the source {input}: {source}")]
    Source {
        input: String,
        #[source]
        source: autodeploy_source::SourceError,
    },
    #[error("could not analyse the source: {0}")]
    Analyze(#[from] autodeploy_analyze::AnalyzeError),
    #[error("could not decide the infrastructure: {0}")]
    Decide(#[from] autodeploy_decide::DecideError),
    #[error("could not write the deployment files: {0}")]
    Render(#[from] autodeploy_render::RenderError),
    /// A Terraform command failed during `phase`.
    #[error("{} failed: {source}", phase.as_str())]
    Terraform {
        phase: Phase,
        #[source]
        source: TfError,
    },
    /// The check before anything is created: the AWS credentials did not
    /// resolve, or STS did not accept them.
    #[error("stopped before anything was created: {0}")]
    Preflight(#[source] AwsError),
    /// A post-apply AWS step (upload, build, rollout) failed.
    #[error("release failed: {0}")]
    Aws(#[from] AwsError),
    /// The local target failed during `phase`.
    #[error("{} failed: {source}", phase.as_str())]
    Local {
        phase: Phase,
        #[source]
        source: autodeploy_local::LocalError,
    },
    /// The rehearsal on this machine showed the app does not come up with
    /// the plan's wiring: nothing was created in the cloud.
    #[error("stopped before anything was created in the cloud: the rehearsal on this machine (the same services, settings, release steps and health check, with local stand-ins for the cloud's data services) failed — {source}\nfix that and deploy again, or deploy with --no-rehearse to skip the rehearsal")]
    Rehearsal {
        #[source]
        source: autodeploy_local::LocalError,
    },
    /// Destroy refused: the database has deletion protection.
    #[error("destroy refused: its database has deletion protection ({environment} environment), so nothing was deleted; `autodeploy destroy {id} --force` turns the protection off and deletes everything, the database included{}", if *final_snapshot { " (a final snapshot is kept)" } else { "" })]
    Protected {
        id: String,
        environment: String,
        final_snapshot: bool,
    },
    /// Destroy ran but resources are still recorded in the state.
    #[error("destroy failed: {} resources are still in the state after destroy: {}; run `autodeploy destroy` again, or inspect them with `terraform state list` in the deployment's folder", left.len(), left.join(", "))]
    Leftovers { left: Vec<String> },
    #[error("store: {0}")]
    Store(#[from] autodeploy_store::StoreError),
    #[error("{0}")]
    Secret(#[from] autodeploy_store::secrets::SealError),
    #[error("deployment {id} not found; `autodeploy list` shows the known ones")]
    NotFound { id: String },
    #[error("{0}")]
    Invalid(String),
    /// Settings the app reads with no default that nothing gives a value
    /// (`--env NAME=…` each): found before anything is created.
    #[error("the app needs values nothing gives (the code reads them and has no default): pass {} and deploy again", .flags.join(" "))]
    ValuesNeeded { flags: Vec<String> },
    /// Stopped on request (Ctrl-C, a cancelled job, a lost lease).
    #[error("cancelled")]
    Cancelled,
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

impl ExecError {
    /// A stable, machine-readable name of this failure (snake_case), asked
    /// of the typed error underneath where there is one: scripts branch on
    /// it (`autodeploy … --json` errors), people read `Display`.
    pub fn code(&self) -> &'static str {
        match self {
            ExecError::Source { source, .. } => source.code(),
            ExecError::Analyze(e) => analyze_code(e),
            ExecError::Decide(e) => decide_code(e),
            ExecError::Render(e) => render_code(e),
            ExecError::Terraform { source, .. } => source.code(),
            ExecError::Aws(e) => aws_code(e),
            ExecError::Preflight(e) => match aws_code(e) {
                "release_failed" => "aws_preflight_failed",
                code => code,
            },
            ExecError::Local { source, .. } => local_code(source),
            ExecError::Rehearsal { .. } => "rehearsal_failed",
            ExecError::Protected { .. } => "deletion_protected",
            ExecError::Leftovers { .. } => "destroy_incomplete",
            ExecError::Store(e) => e.code(),
            ExecError::Secret(_) => "secret_failed",
            ExecError::NotFound { .. } => "not_found",
            ExecError::Invalid(_) => "invalid_input",
            ExecError::ValuesNeeded { .. } => "values_needed",
            ExecError::Cancelled => "cancelled",
            ExecError::Io { .. } => "io_failed",
        }
    }

    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        ExecError::Io {
            what: what.into(),
            source,
        }
    }

    /// A Terraform failure during `phase`, typed.
    pub fn terraform(phase: Phase) -> impl FnOnce(TfError) -> Self {
        move |source| ExecError::Terraform { phase, source }
    }

    /// A local-target failure during `phase`, typed.
    pub fn local(phase: Phase) -> impl FnOnce(autodeploy_local::LocalError) -> Self {
        move |source| ExecError::Local { phase, source }
    }

    /// Worth retrying the whole job later, as opposed to a mistake that will
    /// fail the same way again: asked of the underlying typed error — a held
    /// state lock or a throttled/timed-out Terraform run, a throttled or
    /// unreachable AWS API, a store that could not be reached.
    pub fn is_transient(&self) -> bool {
        match self {
            ExecError::Store(e) => e.is_transient(),
            ExecError::Terraform { source, .. } => source.is_transient(),
            ExecError::Aws(e) | ExecError::Preflight(e) => e.is_retryable(),
            _ => false,
        }
    }

    /// Stopped on request: [`ExecError::Cancelled`], or a terraform run that
    /// was interrupted.
    pub fn is_cancelled(&self) -> bool {
        matches!(
            self,
            ExecError::Cancelled
                | ExecError::Terraform {
                    source: TfError::Interrupted { .. },
                    ..
                }
        )
    }

    /// A store failure: the outcome could not be recorded, so nothing about
    /// the deployment may be concluded from it.
    pub fn is_store(&self) -> bool {
        matches!(self, ExecError::Store(_))
    }
}

/// The stable code of an analysis failure (see [`ExecError::code`]).
pub fn analyze_code(e: &autodeploy_analyze::AnalyzeError) -> &'static str {
    use autodeploy_analyze::AnalyzeError as A;
    match e {
        A::NothingFound { .. } | A::Empty { .. } => "nothing_to_deploy",
        A::NotADirectory { .. } => "source_not_a_folder",
    }
}

/// The stable code of a decide failure (see [`ExecError::code`]).
pub fn decide_code(e: &autodeploy_decide::DecideError) -> &'static str {
    use autodeploy_decide::DecideError as D;
    match e {
        D::NoServices => "nothing_to_deploy",
        D::PriceTable { .. } => "internal",
        D::UserValue(_) => "invalid_value",
        D::NoServiceForPart { .. } => "no_service_for_part",
        _ => "invalid_request",
    }
}

/// The stable code of a render failure (see [`ExecError::code`]).
pub fn render_code(e: &autodeploy_render::RenderError) -> &'static str {
    match e {
        autodeploy_render::RenderError::Unsupported { .. } => "unsupported",
        _ => "render_failed",
    }
}

/// The stable code of a post-apply AWS failure (see [`ExecError::code`]).
pub fn aws_code(e: &AwsError) -> &'static str {
    match e {
        AwsError::MissingCredentials { .. } => "aws_credentials_missing",
        AwsError::CredentialSource { .. } => "aws_credentials_failed",
        AwsError::PermissionsMissing { .. } => "aws_permissions_missing",
        _ => "release_failed",
    }
}

/// The stable code of a local-target failure (see [`ExecError::code`]).
pub fn local_code(e: &autodeploy_local::LocalError) -> &'static str {
    use autodeploy_local::LocalError as L;
    match e {
        L::RuntimeMissing { .. }
        | L::RuntimeVersionUnavailable { .. }
        | L::RuntimeBroken { .. } => "runtime_unavailable",
        L::NoSpace { .. } => "no_space",
        L::NoStartCommand { .. } | L::NothingToRun => "no_start_command",
        L::NotProvided { .. } => "value_missing",
        L::CommandFailed(_) => "command_failed",
        L::Unhealthy { .. } => "unhealthy",
        L::Crashed { .. } => "crashed",
        _ => "local_failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transience_is_asked_of_the_typed_error() {
        let lock = ExecError::Terraform {
            phase: Phase::TerraformApply,
            source: TfError::LockHeld {
                command: "terraform apply".into(),
                dir: "/d".into(),
                lock_id: None,
                tail: vec![],
            },
        };
        assert!(lock.is_transient());
        let throttled = ExecError::Terraform {
            phase: Phase::TerraformApply,
            source: TfError::Failed {
                command: "terraform apply".into(),
                dir: "/d".into(),
                code: Some(1),
                tail: vec!["Error: creating EC2 Instance: RequestLimitExceeded".into()],
                transient: true,
                kind: autodeploy_terraform::FailureKind::Throttled,
            },
        };
        assert!(throttled.is_transient());
        let permanent = ExecError::Terraform {
            phase: Phase::TerraformApply,
            source: TfError::Failed {
                command: "terraform apply".into(),
                dir: "/d".into(),
                code: Some(1),
                // Words that once made a substring check say "transient".
                tail: vec!["Error: the state lock policy says: rate exceeded".into()],
                transient: false,
                kind: autodeploy_terraform::FailureKind::Other,
            },
        };
        assert!(!permanent.is_transient());
        let store = ExecError::Store(autodeploy_store::StoreError::Database(sqlx_io_error()));
        assert!(store.is_transient());
        assert!(!ExecError::Invalid("state lock".into()).is_transient());
    }

    fn sqlx_io_error() -> autodeploy_store::sqlx::Error {
        autodeploy_store::sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset))
    }
}
