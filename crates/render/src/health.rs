//! What every cloud's templates need to render the plan's health check
//! ([`HealthCheckPlan`](autodeploy_core::HealthCheckPlan), chosen in decide):
//! whether the service's settings hold an allow-list of hosts the probes'
//! Host must be on.
//!
//! Not here: the choice of path and accepted answers (decide/health.rs), the
//! probe blocks themselves (each cloud's templates).

use autodeploy_core::{DeploymentOutput, EnvValue, ServicePlan};

/// True when one of the service's settings is an allow-list of hosts
/// (`ALLOWED_HOSTS`): an HTTP probe must then send a Host on that list.
pub(crate) fn allows_hosts(s: &ServicePlan) -> bool {
    s.env.iter().any(|b| {
        matches!(
            b.value,
            EnvValue::Deployment {
                output: DeploymentOutput::AllowedHosts
            }
        )
    })
}
