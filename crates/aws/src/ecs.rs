//! ECS: run a one-off task (a service's release step) and wait for it to
//! stop, roll a service onto fresh tasks (force a new deployment, which
//! pulls the image tag again, optionally onto a given task definition) and
//! wait until services are stable — the definition AWS's own
//! `services-stable` waiter uses: one deployment, running count equal to
//! desired count. Rollouts that ECS marks FAILED (deployment circuit
//! breaker) end the wait at once.
//!
//! Not here: task definitions, scaling or anything Terraform manages.

use crate::client::Service;
use crate::codebuild::LogTail;
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

/// A one-off Fargate task: a service's release step, as the bundle's
/// `release_tasks` output describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneOffTask {
    /// The app service it belongs to (for messages).
    pub service: String,
    /// Task definition ARN (or family:revision).
    pub task_definition: String,
    /// The container whose command is overridden.
    pub container: String,
    /// The command override (after the container's entry point).
    pub command: Vec<String>,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub assign_public_ip: bool,
    /// CloudWatch Logs group and stream prefix of the task definition's
    /// awslogs configuration, when known: the stream is
    /// `prefix/container/task-id`.
    pub log_group: Option<String>,
    pub log_stream_prefix: Option<String>,
}

impl OneOffTask {
    /// The task's CloudWatch Logs group and stream, when the awslogs
    /// configuration is known.
    pub fn log_location(&self, task_arn: &str) -> Option<(String, String)> {
        let (Some(group), Some(prefix)) = (&self.log_group, &self.log_stream_prefix) else {
            return None;
        };
        let id = task_arn.rsplit('/').next().unwrap_or(task_arn);
        Some((group.clone(), format!("{prefix}/{}/{id}", self.container)))
    }
}

/// How a one-off task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskEnd {
    /// The task's ARN.
    pub task: String,
    /// The container's exit code; None when it never ran or ECS does not say.
    pub exit_code: Option<i64>,
    /// ECS's stop code (`EssentialContainerExited`, `TaskFailedToStart`, …).
    pub stop_code: Option<String>,
    /// Why the task stopped (`stoppedReason`).
    pub stopped_reason: Option<String>,
    /// Why the container stopped (`reason`, e.g. `CannotPullContainerError: …`).
    pub container_reason: Option<String>,
}

impl TaskEnd {
    /// The container ran to the end with exit code 0.
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// The most useful words on why it stopped: the container's reason,
    /// else the task's, else the stop code.
    pub fn reason(&self) -> Option<String> {
        self.container_reason
            .clone()
            .or_else(|| self.stopped_reason.clone())
            .or_else(|| self.stop_code.clone())
    }

    fn from_json(task: &Value, container: &str) -> Self {
        let text = |v: Option<&Value>| {
            v.and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let containers = task.get("containers").and_then(Value::as_array);
        let c = containers.and_then(|cs| {
            cs.iter()
                .find(|c| c.get("name").and_then(Value::as_str) == Some(container))
                .or_else(|| cs.first().filter(|_| cs.len() == 1))
        });
        TaskEnd {
            task: text(task.get("taskArn")).unwrap_or_default(),
            exit_code: c.and_then(|c| c.get("exitCode")).and_then(Value::as_i64),
            stop_code: text(task.get("stopCode")),
            stopped_reason: text(task.get("stoppedReason")),
            container_reason: text(c.and_then(|c| c.get("reason"))),
        }
    }
}

/// How long a task may be missing from DescribeTasks right after RunTask
/// (eventual consistency) before the wait gives up on it.
const TASK_VISIBLE_WITHIN: Duration = Duration::from_secs(60);

impl AwsClient {
    /// RunTask: start `task` once on Fargate in `cluster` with its network
    /// configuration and command override; the task's ARN. A retried call
    /// (connection lost after ECS accepted it) starts no second task: the
    /// request carries an idempotency token.
    pub fn ecs_run_task(&self, cluster: &str, task: &OneOffTask) -> Result<String, AwsError> {
        let input = json!({
            "cluster": cluster,
            "taskDefinition": task.task_definition,
            "count": 1,
            "launchType": "FARGATE",
            "startedBy": "autodeploy-release",
            "clientToken": crate::client::unique_token(),
            "networkConfiguration": {
                "awsvpcConfiguration": {
                    "subnets": task.subnets,
                    "securityGroups": task.security_groups,
                    "assignPublicIp": if task.assign_public_ip { "ENABLED" } else { "DISABLED" },
                }
            },
            "overrides": {
                "containerOverrides": [{ "name": task.container, "command": task.command }]
            },
        });
        let out = self.json_call(Service::Ecs, "RunTask", &input)?;
        if let Some(arn) = out.pointer("/tasks/0/taskArn").and_then(Value::as_str) {
            return Ok(arn.to_string());
        }
        let failure = out.pointer("/failures/0");
        let reason = match (
            failure
                .and_then(|f| f.get("reason"))
                .and_then(Value::as_str),
            failure
                .and_then(|f| f.get("detail"))
                .and_then(Value::as_str),
        ) {
            (Some(r), Some(d)) => format!("{r} ({d})"),
            (Some(r), None) => r.to_string(),
            (None, _) => {
                return Err(bad(
                    "RunTask",
                    "neither a task nor a failure in the answer".into(),
                ))
            }
        };
        Err(AwsError::ReleaseTaskNotStarted {
            service: task.service.clone(),
            task_definition: task.task_definition.clone(),
            reason,
        })
    }

    /// Poll DescribeTasks until `task`'s run `arn` is STOPPED (its end,
    /// whatever it is) or `timeout` passes ([`AwsError::Timeout`]). Status
    /// changes go to the sink (System), and so does the task's own output
    /// (Stdout) when its awslogs configuration is known and the credentials
    /// may read it.
    pub fn ecs_wait_task(
        &self,
        cluster: &str,
        task: &OneOffTask,
        arn: &str,
        timeout: Duration,
        sink: Sink,
    ) -> Result<TaskEnd, AwsError> {
        let start = Instant::now();
        let label = format!("release step of {}", task.service);
        let log = task.log_location(arn);
        let mut last_status = String::new();
        let mut tail = LogTail::new();
        let follow = |tail: &mut LogTail| {
            if let Some((group, stream)) = &log {
                self.forward_log(
                    group,
                    stream,
                    tail,
                    &format!("{label}: not following the task's log"),
                    sink,
                );
            }
        };
        loop {
            let out = self.json_call(
                Service::Ecs,
                "DescribeTasks",
                &json!({ "cluster": cluster, "tasks": [arn] }),
            )?;
            match out.pointer("/tasks/0") {
                Some(t) => {
                    let status = t
                        .get("lastStatus")
                        .and_then(Value::as_str)
                        .unwrap_or("PROVISIONING")
                        .to_string();
                    if status != last_status {
                        sink(LogStream::System, &format!("{label}: task {status}"));
                        last_status = status;
                    }
                    follow(&mut tail);
                    if last_status == "STOPPED" {
                        return Ok(TaskEnd::from_json(t, &task.container));
                    }
                }
                None if start.elapsed() < TASK_VISIBLE_WITHIN => {}
                None => {
                    let reason = out
                        .pointer("/failures/0/reason")
                        .and_then(Value::as_str)
                        .unwrap_or("not in the answer");
                    return Err(AwsError::Failed {
                        what: format!("{label}: waiting for ECS task {arn} in cluster {cluster}"),
                        message: format!("the task is {reason}"),
                    });
                }
            }
            if start.elapsed() >= timeout {
                let where_ = log
                    .as_ref()
                    .map(|(g, s)| {
                        format!("; its output is in CloudWatch Logs group {g}, stream {s}")
                    })
                    .unwrap_or_default();
                return Err(AwsError::Timeout {
                    what: format!(
                        "the {label}: ECS task {arn} to stop (last status {last_status}){where_}"
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
        self.ecs_roll_onto(cluster, service, None)
    }

    /// UpdateService with `forceNewDeployment`, onto `task_definition` when
    /// given (else the service's current one); the id of the new PRIMARY
    /// deployment when the answer shows it.
    pub fn ecs_roll_onto(
        &self,
        cluster: &str,
        service: &str,
        task_definition: Option<&str>,
    ) -> Result<Option<String>, AwsError> {
        let mut input =
            json!({ "cluster": cluster, "service": service, "forceNewDeployment": true });
        if let Some(td) = task_definition {
            input["taskDefinition"] = json!(td);
        }
        let out = self.json_call(Service::Ecs, "UpdateService", &input)?;
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

    #[test]
    fn a_stopped_task_reads_its_container_exit_code_and_reasons() {
        let t = json!({
            "taskArn": "arn:aws:ecs:eu-west-1:1:task/app/abc123",
            "lastStatus": "STOPPED",
            "stopCode": "EssentialContainerExited",
            "stoppedReason": "Essential container in task exited",
            "containers": [
                {"name": "sidecar", "exitCode": 0},
                {"name": "web", "exitCode": 2, "reason": ""}
            ]
        });
        let end = TaskEnd::from_json(&t, "web");
        assert_eq!(end.exit_code, Some(2));
        assert!(!end.succeeded());
        assert_eq!(
            end.reason().as_deref(),
            Some("Essential container in task exited")
        );
        assert!(TaskEnd::from_json(&t, "sidecar").succeeded());

        let never_ran = json!({
            "taskArn": "arn:aws:ecs:eu-west-1:1:task/app/def",
            "stopCode": "TaskFailedToStart",
            "stoppedReason": "Task failed to start",
            "containers": [{"name": "web", "reason": "CannotPullContainerError: not found"}]
        });
        let end = TaskEnd::from_json(&never_ran, "web");
        assert_eq!(end.exit_code, None);
        assert_eq!(
            end.reason().as_deref(),
            Some("CannotPullContainerError: not found")
        );
    }

    #[test]
    fn the_log_stream_is_prefix_container_task_id() {
        let task = OneOffTask {
            service: "web".into(),
            task_definition: "td".into(),
            container: "web".into(),
            command: vec![],
            subnets: vec![],
            security_groups: vec![],
            assign_public_ip: false,
            log_group: Some("/autodeploy/app/app".into()),
            log_stream_prefix: Some("web_svc".into()),
        };
        assert_eq!(
            task.log_location("arn:aws:ecs:eu-west-1:1:task/app/abc123"),
            Some(("/autodeploy/app/app".into(), "web_svc/web/abc123".into()))
        );
        let no_logs = OneOffTask {
            log_group: None,
            ..task
        };
        assert_eq!(no_logs.log_location("arn"), None);
    }
}
