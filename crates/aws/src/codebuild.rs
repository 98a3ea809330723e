//! CodeBuild: start a build of a project and wait for it, streaming phase
//! changes (and the phase's failure message) to the caller's sink.
//!
//! Not here: creating projects (Terraform does; tests use
//! [`AwsClient::json_call`]) or reading the build's CloudWatch log lines —
//! the result carries the console link to them.

use crate::client::Service;
use crate::{AwsClient, AwsError, Sink};
use autodeploy_core::LogStream;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// How a build ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildResult {
    pub id: String,
    /// SUCCEEDED, FAILED, FAULT, TIMED_OUT, STOPPED.
    pub status: String,
    /// The phase that did not succeed, when one failed.
    pub failed_phase: Option<String>,
    /// That phase's message (e.g. the failing command).
    pub message: Option<String>,
    /// Link to the build's logs in the console, when CodeBuild gives one.
    pub logs_url: Option<String>,
}

impl BuildResult {
    pub fn succeeded(&self) -> bool {
        self.status == "SUCCEEDED"
    }

    /// `Ok(self)` when it succeeded, else [`AwsError::BuildFailed`].
    pub fn into_result(self) -> Result<Self, AwsError> {
        if self.succeeded() {
            Ok(self)
        } else {
            Err(AwsError::BuildFailed {
                id: self.id,
                status: self.status,
                phase: self.failed_phase,
                message: self.message,
                logs: self.logs_url,
            })
        }
    }
}

fn bad(operation: &str, message: &str) -> AwsError {
    AwsError::BadResponse {
        service: "codebuild".into(),
        operation: operation.into(),
        message: message.into(),
    }
}

/// Pages of build log read per poll at most (each up to 10,000 lines).
const LOG_PAGES_PER_POLL: usize = 5;

/// Where a followed CloudWatch Logs stream stands between polls.
pub(crate) struct LogTail {
    token: Option<String>,
    /// Off after an error other than "stream not there yet" (e.g. no
    /// logs:GetLogEvents permission): the build or task is still waited for.
    enabled: bool,
}

impl LogTail {
    pub(crate) fn new() -> Self {
        LogTail {
            token: None,
            enabled: true,
        }
    }
}

impl AwsClient {
    /// One page of a CloudWatch Logs stream from its start (`next_token`
    /// None) or after a previous page: the messages and the token to pass
    /// next (CloudWatch returns the same token again at the end of the stream).
    pub fn logs_get_events(
        &self,
        group: &str,
        stream: &str,
        next_token: Option<&str>,
    ) -> Result<(Vec<String>, Option<String>), AwsError> {
        let mut input = json!({
            "logGroupName": group,
            "logStreamName": stream,
            "startFromHead": true,
        });
        if let Some(t) = next_token {
            input["nextToken"] = json!(t);
        }
        let out = self.json_call(Service::Logs, "GetLogEvents", &input)?;
        let lines = out
            .get("events")
            .and_then(Value::as_array)
            .map(|evs| {
                evs.iter()
                    .filter_map(|e| e.get("message").and_then(Value::as_str))
                    .map(|m| m.trim_end_matches(['\r', '\n']).to_string())
                    .collect()
            })
            .unwrap_or_default();
        let token = out
            .get("nextForwardToken")
            .and_then(Value::as_str)
            .map(str::to_string);
        Ok((lines, token))
    }

    /// Send the build log lines written since the last call to the sink.
    fn forward_build_log(&self, build: &Value, tail: &mut LogTail, sink: Sink) {
        let (Some(group), Some(stream)) = (
            build.pointer("/logs/groupName").and_then(Value::as_str),
            build.pointer("/logs/streamName").and_then(Value::as_str),
        ) else {
            return;
        };
        self.forward_log(
            group,
            stream,
            tail,
            "codebuild: not following the build log",
            sink,
        );
    }

    /// Send the lines of `group`/`stream` written since the last call to
    /// the sink (Stdout). A stream that does not exist yet is skipped; any
    /// other error stops the following, said once as `stopped` + the error.
    pub(crate) fn forward_log(
        &self,
        group: &str,
        stream: &str,
        tail: &mut LogTail,
        stopped: &str,
        sink: Sink,
    ) {
        if !tail.enabled {
            return;
        }
        for _ in 0..LOG_PAGES_PER_POLL {
            match self.logs_get_events(group, stream, tail.token.as_deref()) {
                Ok((lines, token)) => {
                    for l in &lines {
                        sink(LogStream::Stdout, l);
                    }
                    let at_end = token.is_none() || token == tail.token;
                    tail.token = token.or(tail.token.take());
                    if at_end || lines.is_empty() {
                        return;
                    }
                }
                Err(e) if e.code() == Some("ResourceNotFoundException") => return,
                Err(e) => {
                    tail.enabled = false;
                    sink(LogStream::System, &format!("{stopped} any more ({e})"));
                    return;
                }
            }
        }
    }

    /// Start a build; `source_version` is the S3 object version of the
    /// source archive (pins the build to the upload just made).
    pub fn codebuild_start(
        &self,
        project: &str,
        source_version: Option<&str>,
    ) -> Result<String, AwsError> {
        // The token makes a retried StartBuild (connection lost after AWS
        // accepted it) return the same build instead of starting a second.
        let mut input = json!({
            "projectName": project,
            "idempotencyToken": crate::client::unique_token(),
        });
        if let Some(v) = source_version {
            input["sourceVersion"] = json!(v);
        }
        let out = self.json_call(Service::CodeBuild, "StartBuild", &input)?;
        out.pointer("/build/id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| bad("StartBuild", "no build.id in the answer"))
    }

    /// Poll BatchGetBuilds until the build is no longer IN_PROGRESS or
    /// `timeout` passes ([`AwsError::Timeout`]); each new phase goes to the
    /// sink (System) and so does the build's own log (Stdout) when CodeBuild
    /// names its CloudWatch stream and the credentials may read it.
    pub fn codebuild_wait(
        &self,
        build_id: &str,
        timeout: Duration,
        sink: Sink,
    ) -> Result<BuildResult, AwsError> {
        let start = Instant::now();
        let mut last_phase = String::new();
        let mut tail = LogTail::new();
        loop {
            let out = self.json_call(
                Service::CodeBuild,
                "BatchGetBuilds",
                &json!({ "ids": [build_id] }),
            )?;
            let build = out
                .pointer("/builds/0")
                .ok_or_else(|| bad("BatchGetBuilds", &format!("build {build_id} not found")))?;
            let status = build
                .get("buildStatus")
                .and_then(Value::as_str)
                .unwrap_or("IN_PROGRESS")
                .to_string();
            let phase = build
                .get("currentPhase")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if !phase.is_empty() && phase != last_phase {
                sink(
                    LogStream::System,
                    &format!("codebuild {build_id}: phase {phase}"),
                );
                last_phase = phase;
            }
            self.forward_build_log(build, &mut tail, sink);
            if status != "IN_PROGRESS" {
                let failed = build
                    .get("phases")
                    .and_then(Value::as_array)
                    .and_then(|ps| {
                        ps.iter().find(|p| {
                            p.get("phaseStatus")
                                .and_then(Value::as_str)
                                .is_some_and(|s| s != "SUCCEEDED")
                        })
                    });
                let result = BuildResult {
                    id: build_id.to_string(),
                    status: status.clone(),
                    failed_phase: failed
                        .and_then(|p| p.get("phaseType"))
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    message: failed
                        .and_then(|p| p.pointer("/contexts/0/message"))
                        .and_then(Value::as_str)
                        .filter(|m| !m.is_empty())
                        .map(str::to_string),
                    logs_url: build
                        .pointer("/logs/deepLink")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                };
                sink(
                    LogStream::System,
                    &format!("codebuild {build_id}: {status}"),
                );
                return Ok(result);
            }
            if start.elapsed() >= timeout {
                return Err(AwsError::Timeout {
                    what: format!("CodeBuild build {build_id} (last phase {last_phase})"),
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
