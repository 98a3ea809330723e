//! ECS: roll a service onto fresh tasks (force a new deployment, which pulls
//! the image tag again) and wait until services are stable — the definition
//! AWS's own `services-stable` waiter uses: one deployment, running count
//! equal to desired count. Rollouts that ECS marks FAILED (deployment
//! circuit breaker) end the wait at once.
//!
//! Not here: task definitions, scaling or anything Terraform manages.

use crate::client::Service;
use crate::{AwsClient, AwsError, Sink};
use autodeploy_core::LogStream;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// DescribeServices takes at most this many names per call.
const DESCRIBE_BATCH: usize = 10;

fn bad(operation: &str, message: String) -> AwsError {
    AwsError::BadResponse {
        service: "ecs".into(),
        operation: operation.into(),
        message,
    }
}

/// The part of a service's state the wait looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ServiceState {
    running: i64,
    desired: i64,
    pending: i64,
    deployments: usize,
    primary_id: Option<String>,
    rollout: Option<String>,
    rollout_reason: Option<String>,
    last_event: Option<String>,
}

impl ServiceState {
    fn from_json(s: &Value) -> Self {
        let int = |k: &str| s.get(k).and_then(Value::as_i64).unwrap_or(0);
        let deployments = s.get("deployments").and_then(Value::as_array);
        let primary = deployments.and_then(|d| {
            d.iter()
                .find(|x| x.get("status").and_then(Value::as_str) == Some("PRIMARY"))
        });
        ServiceState {
            running: int("runningCount"),
            desired: int("desiredCount"),
            pending: int("pendingCount"),
            deployments: deployments.map_or(0, Vec::len),
            primary_id: primary
                .and_then(|p| p.get("id"))
                .and_then(Value::as_str)
                .map(str::to_string),
            rollout: primary
                .and_then(|p| p.get("rolloutState"))
                .and_then(Value::as_str)
                .map(str::to_string),
            rollout_reason: primary
                .and_then(|p| p.get("rolloutStateReason"))
                .and_then(Value::as_str)
                .map(str::to_string),
            last_event: s
                .pointer("/events/0/message")
                .and_then(Value::as_str)
                .map(str::to_string),
        }
    }

    fn stable(&self) -> bool {
        self.deployments == 1 && self.running == self.desired
    }

    /// Stable, and on the deployment we started when we know its id (a
    /// DescribeServices right after UpdateService may not show it yet).
    fn settled(&self, expected: Option<&String>) -> bool {
        self.stable() && expected.is_none_or(|id| self.primary_id.as_ref() == Some(id))
    }
}

impl AwsClient {
    /// UpdateService with `forceNewDeployment`: new tasks pull the image again.
    pub fn ecs_force_new_deployment(&self, cluster: &str, service: &str) -> Result<(), AwsError> {
        self.ecs_force_new_deployment_id(cluster, service)
            .map(|_| ())
    }

    /// Like [`AwsClient::ecs_force_new_deployment`], returning the id of the
    /// new PRIMARY deployment (for [`AwsClient::ecs_wait_rollout`]).
    pub fn ecs_force_new_deployment_id(
        &self,
        cluster: &str,
        service: &str,
    ) -> Result<Option<String>, AwsError> {
        let out = self.json_call(
            Service::Ecs,
            "UpdateService",
            &json!({ "cluster": cluster, "service": service, "forceNewDeployment": true }),
        )?;
        let Some(svc) = out.get("service") else {
            return Err(bad("UpdateService", "no service in the answer".into()));
        };
        Ok(ServiceState::from_json(svc).primary_id)
    }

    /// Wait until every service is stable, or fail on a FAILED rollout, a
    /// missing service, or `timeout`. Progress (counts, rollout state, the
    /// newest service event) goes to the sink when it changes.
    pub fn ecs_wait_stable(
        &self,
        cluster: &str,
        services: &[String],
        timeout: Duration,
        sink: Sink,
    ) -> Result<(), AwsError> {
        self.ecs_wait_rollout(cluster, services, &HashMap::new(), timeout, sink)
    }

    /// [`AwsClient::ecs_wait_stable`], also requiring each service named in
    /// `deployments` (service → deployment id from
    /// [`AwsClient::ecs_force_new_deployment_id`]) to run on that deployment.
    pub fn ecs_wait_rollout(
        &self,
        cluster: &str,
        services: &[String],
        deployments: &HashMap<String, String>,
        timeout: Duration,
        sink: Sink,
    ) -> Result<(), AwsError> {
        let start = Instant::now();
        let mut last: HashMap<String, ServiceState> = HashMap::new();
        loop {
            let mut all_stable = true;
            for batch in services.chunks(DESCRIBE_BATCH) {
                let out = self.json_call(
                    Service::Ecs,
                    "DescribeServices",
                    &json!({ "cluster": cluster, "services": batch }),
                )?;
                if let Some(f) = out
                    .get("failures")
                    .and_then(Value::as_array)
                    .and_then(|f| f.first())
                {
                    return Err(AwsError::Failed {
                        what: format!("waiting for ECS services in cluster {cluster}"),
                        message: format!(
                            "{} is {}; check the names against `terraform output ecs_service_names`",
                            f.get("arn").and_then(Value::as_str).unwrap_or("a service"),
                            f.get("reason").and_then(Value::as_str).unwrap_or("unknown")
                        ),
                    });
                }
                let listed = out
                    .get("services")
                    .and_then(Value::as_array)
                    .ok_or_else(|| bad("DescribeServices", "no services in the answer".into()))?;
                for s in listed {
                    let name = s
                        .get("serviceName")
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                        .to_string();
                    let st = ServiceState::from_json(s);
                    if st.rollout.as_deref() == Some("FAILED") {
                        return Err(AwsError::Failed {
                            what: format!("ECS rollout of {name}"),
                            message: st
                                .rollout_reason
                                .or(st.last_event)
                                .unwrap_or_else(|| "ECS marked the deployment FAILED".into()),
                        });
                    }
                    if last.get(&name) != Some(&st) {
                        let mut line = format!(
                            "ecs {name}: running {}/{} (pending {}), {} deployment{}",
                            st.running,
                            st.desired,
                            st.pending,
                            st.deployments,
                            if st.deployments == 1 { "" } else { "s" }
                        );
                        if let Some(r) = &st.rollout {
                            line.push_str(&format!(", rollout {r}"));
                        }
                        if let Some(e) = &st.last_event {
                            if last.get(&name).and_then(|p| p.last_event.as_ref()) != Some(e) {
                                line.push_str(&format!(" — {e}"));
                            }
                        }
                        sink(LogStream::System, &line);
                    }
                    all_stable &= st.settled(deployments.get(&name));
                    last.insert(name, st);
                }
            }
            if all_stable {
                return Ok(());
            }
            if start.elapsed() >= timeout {
                let unstable: Vec<&str> = last
                    .iter()
                    .filter(|(n, s)| !s.settled(deployments.get(*n)))
                    .map(|(n, _)| n.as_str())
                    .collect();
                return Err(AwsError::Timeout {
                    what: format!(
                        "ECS services to become stable in cluster {cluster} (not stable: {}); the service events in the console say why tasks do not start",
                        unstable.join(", ")
                    ),
                    seconds: timeout.as_secs(),
                });
            }
            std::thread::sleep(
                self.poll_interval()
                    .min(timeout.saturating_sub(start.elapsed())),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stability_is_one_deployment_at_desired_count() {
        let s = ServiceState::from_json(&json!({
            "runningCount": 2, "desiredCount": 2, "pendingCount": 0,
            "deployments": [{"status": "PRIMARY", "rolloutState": "COMPLETED"}],
            "events": [{"message": "has reached a steady state."}]
        }));
        assert!(s.stable());
        assert_eq!(s.last_event.as_deref(), Some("has reached a steady state."));
        let rolling = ServiceState::from_json(&json!({
            "runningCount": 2, "desiredCount": 2,
            "deployments": [{"status": "PRIMARY"}, {"status": "ACTIVE"}]
        }));
        assert!(!rolling.stable());
    }
}
