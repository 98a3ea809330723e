//! The execute stage's values: a deployment's lifecycle (status and phase),
//! its jobs, and its log lines. Shared by the CLI, the store, the runners and
//! the service so that all of them speak about a deployment in one vocabulary.
//!
//! Deliberately no behaviour beyond small helpers: no I/O, no state machine
//! enforcement (the store and the executor own the transitions).

use serde::{Deserialize, Serialize};

/// Where a deployment stands. `as_str` values are stable (stored in databases,
/// printed by `status --json`, used as metric labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentStatus {
    /// Accepted, waiting for a worker.
    Queued,
    /// A worker (or the CLI) is executing it.
    Running,
    /// Applied and the app answered its health check.
    Healthy,
    /// Applied, health not checked (an emulator endpoint: nothing is reachable).
    Applied,
    /// Applied, but the app did not answer (or stopped answering).
    Unhealthy,
    /// A phase failed; the error says which and what to do.
    Failed,
    /// The process executing it died mid-way (SIGKILL, crash, lost lease with
    /// no retry left); its Terraform state is kept so `destroy` works.
    Interrupted,
    /// Being torn down.
    Destroying,
    /// Everything it created is gone.
    Destroyed,
    /// Cancelled before it started.
    Cancelled,
}

impl DeploymentStatus {
    pub const ALL: [DeploymentStatus; 10] = [
        Self::Queued,
        Self::Running,
        Self::Healthy,
        Self::Applied,
        Self::Unhealthy,
        Self::Failed,
        Self::Interrupted,
        Self::Destroying,
        Self::Destroyed,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Healthy => "healthy",
            Self::Applied => "applied",
            Self::Unhealthy => "unhealthy",
            Self::Failed => "failed",
            Self::Interrupted => "interrupted",
            Self::Destroying => "destroying",
            Self::Destroyed => "destroyed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// No job will move it any further on its own.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Healthy
                | Self::Applied
                | Self::Unhealthy
                | Self::Failed
                | Self::Interrupted
                | Self::Destroyed
                | Self::Cancelled
        )
    }
}

/// The steps of executing a deployment, in order. `as_str` values are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Fetch,
    Analyze,
    Plan,
    /// Before a cloud apply: the plan run on this machine first, with local
    /// stand-ins for the cloud's data services, until it answers.
    Rehearse,
    TerraformInit,
    TerraformPlan,
    TerraformApply,
    /// Post-apply steps on the cloud (upload the source, build the image, roll the service).
    Release,
    /// Local target: prepare the copy, build the runtime, start the supervised process.
    AppStart,
    Health,
    Destroy,
}

impl Phase {
    pub const ALL: [Phase; 11] = [
        Self::Fetch,
        Self::Analyze,
        Self::Plan,
        Self::Rehearse,
        Self::TerraformInit,
        Self::TerraformPlan,
        Self::TerraformApply,
        Self::Release,
        Self::AppStart,
        Self::Health,
        Self::Destroy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fetch => "fetch",
            Self::Analyze => "analyze",
            Self::Plan => "plan",
            Self::Rehearse => "rehearse",
            Self::TerraformInit => "terraform_init",
            Self::TerraformPlan => "terraform_plan",
            Self::TerraformApply => "terraform_apply",
            Self::Release => "release",
            Self::AppStart => "app_start",
            Self::Health => "health",
            Self::Destroy => "destroy",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// What a queued job asks a worker to do with a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    Deploy,
    Redeploy,
    Destroy,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deploy => "deploy",
            Self::Redeploy => "redeploy",
            Self::Destroy => "destroy",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Deploy, Self::Redeploy, Self::Destroy]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// Which output a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogStream {
    /// autodeploy's own progress messages.
    System,
    Stdout,
    Stderr,
}

impl LogStream {
    /// Every variant (the API document's `stream` enum is checked against it).
    pub const ALL: [LogStream; 3] = [Self::System, Self::Stdout, Self::Stderr];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Stdout => "stdout",
            Self::Stderr => "stderr",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in DeploymentStatus::ALL {
            assert_eq!(DeploymentStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for p in Phase::ALL {
            assert_eq!(Phase::parse(p.as_str()), Some(p));
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
    }
}
