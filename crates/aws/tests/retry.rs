//! Retry policy and request shape against a real local HTTP server (a
//! thread on 127.0.0.1 that answers with a scripted list of responses and
//! records what it received). Needs no emulator, so it always runs.

use autodeploy_aws::{AwsClient, AwsError, Credentials};
use autodeploy_core::LogStream;
use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
struct Seen {
    request_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One scripted answer: status, extra headers, body.
type Answer = (u16, Vec<(&'static str, &'static str)>, &'static str);

/// Serve `script` (status, extra headers, body) one connection each; returns
/// the URL and what was received.
fn server(script: Vec<Answer>) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for (status, headers, body) in script {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut hs = Vec::new();
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                let (k, v) = line.split_once(':').unwrap();
                hs.push((k.trim().to_string(), v.trim().to_string()));
            }
            let len: usize = hs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .map(|(_, v)| v.parse().unwrap())
                .unwrap_or(0);
            let mut b = vec![0; len];
            reader.read_exact(&mut b).unwrap();
            log.lock().unwrap().push(Seen {
                request_line: request_line.trim_end().to_string(),
                headers: hs,
                body: b,
            });
            let mut out = stream;
            let mut resp = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (k, v) in headers {
                resp.push_str(&format!("{k}: {v}\r\n"));
            }
            resp.push_str("\r\n");
            resp.push_str(body);
            out.write_all(resp.as_bytes()).unwrap();
        }
    });
    (url, seen)
}

fn client(url: &str, token: Option<&str>) -> AwsClient {
    AwsClient::with_credentials(
        Credentials::new("AKIDTEST", "secret", token.map(str::to_string)),
        "eu-west-1",
        Some(url),
    )
    .unwrap()
}

const OK_BUILD: &str = r#"{"build":{"id":"p:1"}}"#;
const UNAVAILABLE: &str = r#"{"__type":"ServiceUnavailableException","message":"try later"}"#;

#[test]
fn server_errors_are_retried_with_backoff_up_to_the_cap() {
    let (url, seen) = server(vec![
        (503, vec![], UNAVAILABLE),
        (500, vec![], UNAVAILABLE),
        (200, vec![], OK_BUILD),
    ]);
    let c = client(&url, None).with_max_attempts(3);
    let t = Instant::now();
    assert_eq!(c.codebuild_start("p", None).unwrap(), "p:1");
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "backoff 0.3 s + 0.6 s at least"
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    // The same idempotency token on every attempt: a retry cannot start a second build.
    let token = |s: &Seen| {
        serde_json::from_slice::<serde_json::Value>(&s.body).unwrap()["idempotencyToken"].clone()
    };
    assert_eq!(token(&seen[0]), token(&seen[2]));
    assert!(token(&seen[0]).as_str().is_some_and(|t| t.len() >= 32));
}

#[test]
fn an_endpoint_override_tries_once_and_the_cap_holds() {
    let (url, seen) = server(vec![(503, vec![], UNAVAILABLE), (200, vec![], OK_BUILD)]);
    let e = client(&url, None).codebuild_start("p", None).unwrap_err();
    assert!(matches!(e, AwsError::Http { status: 503, .. }), "{e}");
    assert_eq!(seen.lock().unwrap().len(), 1);

    let (url, seen) = server(vec![
        (503, vec![], UNAVAILABLE),
        (503, vec![], UNAVAILABLE),
        (200, vec![], OK_BUILD),
    ]);
    let e = client(&url, None)
        .with_max_attempts(2)
        .codebuild_start("p", None)
        .unwrap_err();
    assert_eq!(e.code(), Some("ServiceUnavailableException"), "{e}");
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[test]
fn throttling_is_retried_and_client_errors_are_not() {
    let (url, seen) = server(vec![
        (
            400,
            vec![],
            r#"{"__type":"com.amazonaws#ThrottlingException","message":"Rate exceeded"}"#,
        ),
        (200, vec![], OK_BUILD),
    ]);
    client(&url, None)
        .with_max_attempts(3)
        .codebuild_start("p", None)
        .unwrap();
    assert_eq!(seen.lock().unwrap().len(), 2);

    let (url, seen) = server(vec![
        (
            400,
            vec![],
            r#"{"__type":"InvalidInputException","message":"bad project"}"#,
        ),
        (200, vec![], OK_BUILD),
    ]);
    let e = client(&url, None)
        .with_max_attempts(3)
        .codebuild_start("p", None)
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidInputException"));
    assert!(e.to_string().contains("bad project"), "{e}");
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[test]
fn a_redirect_is_reported_not_followed() {
    let (url, seen) = server(vec![(
        301,
        vec![("Location", "http://127.0.0.1:1/elsewhere")],
        "<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message></Error>",
    )]);
    let e = client(&url, None).s3_get("some-bucket", "k").unwrap_err();
    assert_eq!(e.code(), Some("PermanentRedirect"), "{e}");
    assert!(e.to_string().contains("another region"), "{e}");
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[test]
fn json_requests_carry_target_token_and_a_signature_over_them() {
    let (url, seen) = server(vec![(200, vec![], r#"{"VersionId":"v1"}"#)]);
    let c = client(&url, Some("session-token-value"));
    assert_eq!(
        c.secretsmanager_put_version("app/db", "hunter2").unwrap(),
        "v1"
    );
    let seen = seen.lock().unwrap();
    let r = &seen[0];
    assert_eq!(r.request_line, "POST / HTTP/1.1");
    assert_eq!(
        r.header("x-amz-target"),
        Some("secretsmanager.PutSecretValue")
    );
    assert_eq!(r.header("content-type"), Some("application/x-amz-json-1.1"));
    assert_eq!(
        r.header("x-amz-security-token"),
        Some("session-token-value")
    );
    let auth = r.header("authorization").unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDTEST/"),
        "{auth}"
    );
    assert!(
        auth.contains("/eu-west-1/secretsmanager/aws4_request"),
        "{auth}"
    );
    assert!(
        auth.contains(
            "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
        ),
        "{auth}"
    );
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["SecretId"], "app/db");
    assert_eq!(body["SecretString"], "hunter2");
}

#[test]
fn lambda_code_update_request_shape() {
    let (url, seen) = server(vec![(200, vec![], r#"{"FunctionName":"f"}"#)]);
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("p.zip");
    std::fs::write(&zip, b"PK\x03\x04 not really").unwrap();
    client(&url, None)
        .lambda_update_code("arn:aws:lambda:eu-west-1:123456789012:function:web", &zip)
        .unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen[0].request_line,
        "PUT /2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Aweb/code HTTP/1.1"
    );
    let body: serde_json::Value = serde_json::from_slice(&seen[0].body).unwrap();
    assert_eq!(
        body,
        json!({"ZipFile": "UEsDBCBub3QgcmVhbGx5", "Publish": false})
    );
}

#[test]
fn codebuild_wait_follows_the_build_log_and_reports_the_failed_phase() {
    let logs = r#""logs":{"groupName":"/autodeploy/app/build","streamName":"s-1","deepLink":"https://console/log"}"#;
    let running: &'static str = Box::leak(
        format!(r#"{{"builds":[{{"id":"p:1","buildStatus":"IN_PROGRESS","currentPhase":"BUILD",{logs}}}]}}"#)
            .into_boxed_str(),
    );
    let failed: &'static str = Box::leak(
        format!(
            r#"{{"builds":[{{"id":"p:1","buildStatus":"FAILED","currentPhase":"COMPLETED","phases":[{{"phaseType":"SUBMITTED","phaseStatus":"SUCCEEDED"}},{{"phaseType":"BUILD","phaseStatus":"FAILED","contexts":[{{"statusCode":"COMMAND_EXECUTION_ERROR","message":"Error while executing command: docker build. Reason: exit status 1"}}]}}],{logs}}}]}}"#
        )
        .into_boxed_str(),
    );
    let (url, seen) = server(vec![
        (200, vec![], running),
        (
            200,
            vec![],
            r#"{"events":[{"message":"Step 1/5 : FROM python\n"},{"message":"Step 2/5 : RUN pip install\n"}],"nextForwardToken":"f/1"}"#,
        ),
        (200, vec![], r#"{"events":[],"nextForwardToken":"f/1"}"#),
        (200, vec![], failed),
        (
            200,
            vec![],
            r#"{"events":[{"message":"ERROR: no matching distribution"}],"nextForwardToken":"f/2"}"#,
        ),
        (200, vec![], r#"{"events":[],"nextForwardToken":"f/2"}"#),
    ]);
    let lines: Mutex<Vec<(LogStream, String)>> = Mutex::new(Vec::new());
    let r = client(&url, None)
        .codebuild_wait("p:1", Duration::from_secs(20), &|s, l| {
            lines.lock().unwrap().push((s, l.to_string()))
        })
        .unwrap();
    assert_eq!(r.status, "FAILED");
    assert_eq!(r.failed_phase.as_deref(), Some("BUILD"));
    assert_eq!(r.logs_url.as_deref(), Some("https://console/log"));
    let e = r.into_result().unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("ended FAILED in phase BUILD") && msg.contains("docker build"),
        "{msg}"
    );

    let lines = lines.into_inner().unwrap();
    let out: Vec<&str> = lines
        .iter()
        .filter(|(s, _)| *s == LogStream::Stdout)
        .map(|(_, l)| l.as_str())
        .collect();
    assert_eq!(
        out,
        [
            "Step 1/5 : FROM python",
            "Step 2/5 : RUN pip install",
            "ERROR: no matching distribution"
        ]
    );
    assert!(lines
        .iter()
        .any(|(s, l)| *s == LogStream::System && l.contains("phase BUILD")));
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 6);
    assert_eq!(
        seen[1].header("x-amz-target"),
        Some("Logs_20140328.GetLogEvents")
    );
    let body: serde_json::Value = serde_json::from_slice(&seen[2].body).unwrap();
    assert_eq!(body["nextToken"], "f/1");
    assert_eq!(body["logStreamName"], "s-1");
}

/// A container release whose release step exits non-zero: the one-off task
/// is run with the bundle's override and network configuration, its log is
/// forwarded, the deploy fails with an error naming the service, the exit
/// code and the log stream — and no service is rolled.
#[test]
fn a_failing_release_task_stops_the_release_before_any_rollout() {
    let task_arn = "arn:aws:ecs:eu-west-1:123456789012:task/app/0a1b2c";
    let stopped: &'static str = Box::leak(
        format!(
            r#"{{"tasks":[{{"taskArn":"{task_arn}","lastStatus":"STOPPED","stopCode":"EssentialContainerExited","stoppedReason":"Essential container in task exited","containers":[{{"name":"web","exitCode":3}}]}}],"failures":[]}}"#
        )
        .into_boxed_str(),
    );
    let run: &'static str = Box::leak(
        format!(
            r#"{{"tasks":[{{"taskArn":"{task_arn}","lastStatus":"PROVISIONING"}}],"failures":[]}}"#
        )
        .into_boxed_str(),
    );
    let (url, seen) = server(vec![
        (200, vec![("x-amz-version-id", "v7")], ""),
        (200, vec![], OK_BUILD),
        (
            200,
            vec![],
            r#"{"builds":[{"id":"p:1","buildStatus":"SUCCEEDED","currentPhase":"COMPLETED"}]}"#,
        ),
        (200, vec![], run),
        (200, vec![], stopped),
        (
            200,
            vec![],
            r#"{"events":[{"message":"Operations to perform:\n"},{"message":"django.db.utils.OperationalError: no such table"}],"nextForwardToken":"f/1"}"#,
        ),
        (200, vec![], r#"{"events":[],"nextForwardToken":"f/1"}"#),
    ]);
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("app.py"), "print(1)\n").unwrap();
    let outputs = json!({
        "source_bucket": "src-bucket",
        "source_key": "source/source.zip",
        "codebuild_project_name": "p",
        "ecs_cluster_name": "app",
        "ecs_service_names": {"web": "app-web"},
        "release_tasks": {"web": {
            "task_definition": "arn:aws:ecs:eu-west-1:123456789012:task-definition/app-web:4",
            "container": "web",
            "command": ["set -e\nexec python manage.py migrate --noinput\n"],
            "subnets": ["subnet-1", "subnet-2"],
            "security_groups": ["sg-app"],
            "assign_public_ip": false,
            "log_group": "/autodeploy/app/app",
            "log_stream_prefix": "web"
        }}
    });
    let lines: Mutex<Vec<(LogStream, String)>> = Mutex::new(Vec::new());
    let e = autodeploy_aws::release_container(
        &client(&url, None),
        outputs.as_object().unwrap(),
        src.path(),
        &autodeploy_aws::ReleaseOptions::default(),
        &|s, l| lines.lock().unwrap().push((s, l.to_string())),
    )
    .unwrap_err();
    match &e {
        AwsError::ReleaseTaskFailed {
            service,
            task,
            exit_code,
            logs,
            ..
        } => {
            assert_eq!(service, "web");
            assert_eq!(task, task_arn);
            assert_eq!(*exit_code, Some(3));
            assert_eq!(
                logs.as_deref(),
                Some("group /autodeploy/app/app, stream web/web/0a1b2c")
            );
        }
        other => panic!("{other}"),
    }
    assert!(!e.is_retryable());
    let msg = e.to_string();
    for needle in [
        "service `web`",
        "exited with code 3",
        "was not rolled out",
        "stream web/web/0a1b2c",
    ] {
        assert!(msg.contains(needle), "{needle:?} not in {msg}");
    }

    let seen = seen.lock().unwrap();
    let targets: Vec<&str> = seen
        .iter()
        .map(|s| s.header("x-amz-target").unwrap_or("(s3)"))
        .collect();
    assert_eq!(
        targets,
        [
            "(s3)",
            "CodeBuild_20161006.StartBuild",
            "CodeBuild_20161006.BatchGetBuilds",
            "AmazonEC2ContainerServiceV20141113.RunTask",
            "AmazonEC2ContainerServiceV20141113.DescribeTasks",
            "Logs_20140328.GetLogEvents",
            "Logs_20140328.GetLogEvents",
        ],
        "no UpdateService after a failed release step"
    );
    let run: serde_json::Value = serde_json::from_slice(&seen[3].body).unwrap();
    assert_eq!(run["cluster"], "app");
    assert_eq!(
        run["taskDefinition"],
        "arn:aws:ecs:eu-west-1:123456789012:task-definition/app-web:4"
    );
    assert_eq!(run["launchType"], "FARGATE");
    assert_eq!(run["count"], 1);
    assert_eq!(
        run["networkConfiguration"],
        json!({"awsvpcConfiguration": {"subnets": ["subnet-1", "subnet-2"], "securityGroups": ["sg-app"], "assignPublicIp": "DISABLED"}})
    );
    assert_eq!(
        run["overrides"],
        json!({"containerOverrides": [{"name": "web", "command": ["set -e\nexec python manage.py migrate --noinput\n"]}]})
    );
    assert!(run["clientToken"].as_str().is_some_and(|t| t.len() >= 32));
    let logs: serde_json::Value = serde_json::from_slice(&seen[5].body).unwrap();
    assert_eq!(logs["logStreamName"], "web/web/0a1b2c");
    let lines = lines.into_inner().unwrap();
    assert!(lines
        .iter()
        .any(|(s, l)| *s == LogStream::Stdout
            && l == "django.db.utils.OperationalError: no such table"));
    assert!(lines
        .iter()
        .any(|(s, l)| *s == LogStream::System && l.contains("release step of web: task STOPPED")));
}

/// RunTask answering with a failure instead of a task: a typed error naming
/// the service and ECS's reason.
#[test]
fn a_release_task_ecs_refuses_to_start_is_a_typed_error() {
    let (url, _seen) = server(vec![(
        200,
        vec![],
        r#"{"tasks":[],"failures":[{"arn":"arn:aws:ecs:eu-west-1:1:cluster/app","reason":"MISSING"}]}"#,
    )]);
    let task = autodeploy_aws::OneOffTask {
        service: "api".into(),
        task_definition: "app-api:2".into(),
        container: "api".into(),
        command: vec!["x".into()],
        subnets: vec!["subnet-1".into()],
        security_groups: vec![],
        assign_public_ip: true,
        log_group: None,
        log_stream_prefix: None,
    };
    let e = client(&url, None).ecs_run_task("app", &task).unwrap_err();
    assert!(
        matches!(&e, AwsError::ReleaseTaskNotStarted { service, reason, .. } if service == "api" && reason == "MISSING"),
        "{e}"
    );
    assert!(!e.is_retryable());
    assert!(e.to_string().contains("release_tasks"), "{e}");
}
