//! The post-apply release of an AWS bundle, driven by its Terraform outputs:
//! container (zip source → S3 → CodeBuild → each service's release step as
//! one one-off ECS task → ECS roll), static site (sync → CloudFront
//! invalidation) and serverless (Lambda code update).
//!
//! `outputs` is what `terraform output -json` prints (each value wrapped in
//! `{"value": …, "type": …}`) or the bare values; both are read. Not here:
//! running Terraform, building the static site or the Lambda package (the
//! deploy stage does), health checks.

use crate::archive::zip_source_prepared;
use crate::ecs::OneOffTask;
use crate::s3::SyncOptions;
use crate::{AwsClient, AwsError, Sink};
use autodeploy_core::LogStream;
use serde_json::{Map, Value};
use std::path::Path;
use std::time::Duration;

/// How far a release goes and how long it waits.
#[derive(Debug, Clone)]
pub struct ReleaseOptions {
    /// Wait for the build, the ECS rollout, the Lambda update and the
    /// CloudFront invalidation. Without it the release starts them and returns.
    pub wait: bool,
    /// Longest wait for the CodeBuild build (the bundle's own limit is 30 min + queue).
    pub build_timeout: Duration,
    /// Longest wait for ECS services to become stable.
    pub stable_timeout: Duration,
    /// Longest wait for one service's release step (a one-off ECS task:
    /// migrations) to stop.
    pub release_timeout: Duration,
    /// Longest wait for a Lambda update or a CloudFront invalidation.
    pub update_timeout: Duration,
    /// Static sites: delete objects that are not in the new build. Off by
    /// default so pages already open keep finding their old hashed assets.
    pub delete_stale: bool,
    /// The analysis's source fixes, applied to the archive an image is built
    /// from (never to the tree).
    pub source_fixes: Vec<autodeploy_core::SourceFix>,
    /// Files made from their committed examples in that archive.
    pub files_from_example: Vec<autodeploy_core::FileFromExample>,
}

impl Default for ReleaseOptions {
    fn default() -> Self {
        ReleaseOptions {
            wait: true,
            build_timeout: Duration::from_secs(40 * 60),
            stable_timeout: Duration::from_secs(15 * 60),
            release_timeout: Duration::from_secs(30 * 60),
            update_timeout: Duration::from_secs(5 * 60),
            delete_stale: false,
            source_fixes: Vec::new(),
            files_from_example: Vec::new(),
        }
    }
}

/// The value of an output, unwrapping `terraform output -json`'s envelope.
fn output<'a>(outputs: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    let v = outputs.get(name)?;
    match v {
        Value::Object(o)
            if o.contains_key("value")
                && (o.contains_key("type") || o.contains_key("sensitive")) =>
        {
            o.get("value")
        }
        other => Some(other),
    }
}

fn output_str<'a>(outputs: &'a Map<String, Value>, name: &str) -> Result<&'a str, AwsError> {
    output(outputs, name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AwsError::BadOutput {
            name: name.into(),
            expected: "a non-empty string",
        })
}

/// The ECS service names of `ecs_service_names` (a map of app service → ECS
/// service, or a list), sorted.
fn output_names(outputs: &Map<String, Value>, name: &str) -> Result<Vec<String>, AwsError> {
    let bad = || AwsError::BadOutput {
        name: name.into(),
        expected: "a non-empty map or list of strings",
    };
    let values: Vec<&Value> = match output(outputs, name).ok_or_else(bad)? {
        Value::Object(m) => m.values().collect(),
        Value::Array(a) => a.iter().collect(),
        _ => return Err(bad()),
    };
    let mut names = values
        .into_iter()
        .map(|v| v.as_str().map(str::to_string).ok_or_else(bad))
        .collect::<Result<Vec<_>, _>>()?;
    if names.is_empty() {
        return Err(bad());
    }
    names.sort();
    names.dedup();
    Ok(names)
}

/// The one-off tasks of `release_tasks` (app service → {task_definition,
/// container, command, subnets, security_groups, assign_public_ip,
/// log_group, log_stream_prefix}), sorted by service. A bundle rendered
/// before release steps ran apart has no such output: none.
fn release_tasks(outputs: &Map<String, Value>) -> Result<Vec<OneOffTask>, AwsError> {
    const NAME: &str = "release_tasks";
    let bad = || AwsError::BadOutput {
        name: NAME.into(),
        expected:
            "a map of service → {task_definition, container, command, subnets, security_groups}",
    };
    let map = match output(outputs, NAME) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(bad()),
    };
    let text = |t: &Map<String, Value>, k: &str| {
        t.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let list = |t: &Map<String, Value>, k: &str| -> Option<Vec<String>> {
        t.get(k)?
            .as_array()?
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect()
    };
    let mut tasks = Vec::new();
    for (service, t) in map {
        let t = t.as_object().ok_or_else(bad)?;
        let task = OneOffTask {
            service: service.clone(),
            task_definition: text(t, "task_definition").ok_or_else(bad)?,
            container: text(t, "container").ok_or_else(bad)?,
            command: list(t, "command")
                .filter(|c| !c.is_empty())
                .ok_or_else(bad)?,
            subnets: list(t, "subnets")
                .filter(|s| !s.is_empty())
                .ok_or_else(bad)?,
            security_groups: list(t, "security_groups").ok_or_else(bad)?,
            assign_public_ip: t
                .get("assign_public_ip")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            log_group: text(t, "log_group"),
            log_stream_prefix: text(t, "log_stream_prefix"),
        };
        tasks.push(task);
    }
    tasks.sort_by(|a, b| a.service.cmp(&b.service));
    Ok(tasks)
}

/// Run each service's release step once, one after the other (two services
/// built from one codebase must not migrate at once): RunTask, then with
/// `opts.wait` wait until it stops, following its log, and fail on anything
/// but exit code 0. Without `opts.wait` (an emulator, which never runs
/// containers) the tasks are started and not waited for.
fn run_release_tasks(
    client: &AwsClient,
    cluster: &str,
    tasks: &[OneOffTask],
    opts: &ReleaseOptions,
    sink: Sink,
) -> Result<(), AwsError> {
    for task in tasks {
        let arn = client.ecs_run_task(cluster, task)?;
        let label = format!("release step of {}", task.service);
        sink(
            LogStream::System,
            &format!("{label}: started one-off task {arn}"),
        );
        if !opts.wait {
            sink(
                LogStream::System,
                &format!("{label}: not waiting for the task (no waits against an emulator)"),
            );
            continue;
        }
        let end = client.ecs_wait_task(cluster, task, &arn, opts.release_timeout, sink)?;
        if !end.succeeded() {
            return Err(AwsError::ReleaseTaskFailed {
                service: task.service.clone(),
                task: arn.clone(),
                exit_code: end.exit_code,
                reason: end.reason(),
                logs: task
                    .log_location(&arn)
                    .map(|(g, s)| format!("group {g}, stream {s}")),
            });
        }
        sink(
            LogStream::System,
            &format!("{label}: finished (exit code 0)"),
        );
    }
    Ok(())
}

/// Container bundle: zip `source_root` → put at `source_bucket`/`source_key`
/// → start `codebuild_project_name` on that object version → wait for the
/// build → run each `release_tasks` entry once as a one-off task and wait
/// for it to exit 0 (a failure stops here: nothing is rolled out) → force a
/// new deployment of every `ecs_service_names` service in
/// `ecs_cluster_name` onto its `ecs_task_definitions` revision (the bundle's
/// services ignore task-definition changes on apply) → wait until stable. Without `opts.wait` it stops
/// waiting: the release tasks and the rollouts start right after the build
/// starts, and ECS retries tasks until the image it names exists.
pub fn release_container(
    client: &AwsClient,
    outputs: &Map<String, Value>,
    source_root: &Path,
    opts: &ReleaseOptions,
    sink: Sink,
) -> Result<(), AwsError> {
    let bucket = output_str(outputs, "source_bucket")?;
    let key = output_str(outputs, "source_key")?;
    let project = output_str(outputs, "codebuild_project_name")?;
    let cluster = output_str(outputs, "ecs_cluster_name")?;
    let services = rollouts(outputs)?;
    let release = release_tasks(outputs)?;

    let tmp = tempfile::Builder::new()
        .prefix("autodeploy-source-")
        .suffix(".zip")
        .tempfile()
        .map_err(|e| AwsError::io("create a temporary file in", &std::env::temp_dir(), e))?;
    let (bytes, fixes, made) = zip_source_prepared(
        source_root,
        &opts.source_fixes,
        &opts.files_from_example,
        tmp.path(),
    )?;
    sink(
        LogStream::System,
        &format!("zipped {} ({bytes} bytes)", source_root.display()),
    );
    for m in opts
        .files_from_example
        .iter()
        .filter(|m| made.contains(&m.file))
    {
        sink(
            LogStream::System,
            &format!(
                "{:?} is not in the repository: the archive has a copy of {:?} in its place",
                m.file, m.example
            ),
        );
    }
    for f in &fixes {
        let (file, line) = (&f.fix.file, f.fix.line);
        sink(
            LogStream::System,
            &if f.applied {
                format!(
                    "fixed {file}:{line} in the image's source: {:?} → {:?}",
                    f.fix.find, f.fix.replace
                )
            } else {
                format!("did not apply a fix to {file}:{line}: the archived file does not hold {:?} there", f.fix.find)
            },
        );
    }
    let version = client.s3_put_file_versioned(bucket, key, tmp.path(), Some("application/zip"))?;
    sink(
        LogStream::System,
        &format!(
            "uploaded source to s3://{bucket}/{key}{}",
            version
                .as_deref()
                .map(|v| format!(" (version {v})"))
                .unwrap_or_default()
        ),
    );
    let build = client.codebuild_start(project, version.as_deref())?;
    sink(
        LogStream::System,
        &format!("started CodeBuild build {build}"),
    );
    if opts.wait {
        client
            .codebuild_wait(&build, opts.build_timeout, sink)?
            .into_result()?;
    }
    run_release_tasks(client, cluster, &release, opts, sink)?;
    roll(client, cluster, &services, opts, sink)
}

/// Roll every service of a container bundle onto its `ecs_task_definitions`
/// revision (a forced new deployment) and, with `opts.wait`, wait until
/// stable — no build, no release step. For a rollback: the previous plan's
/// images exist, and its migrations are not undone.
pub fn roll_container(
    client: &AwsClient,
    outputs: &Map<String, Value>,
    opts: &ReleaseOptions,
    sink: Sink,
) -> Result<(), AwsError> {
    let cluster = output_str(outputs, "ecs_cluster_name")?;
    let services = rollouts(outputs)?;
    roll(client, cluster, &services, opts, sink)
}

/// The services to roll: ECS service name → the task definition revision
/// to roll onto (`ecs_task_definitions`, by app service), sorted by name.
/// Bundles older than that output (whose services follow Terraform's task
/// definition) roll onto the service's current one.
fn rollouts(outputs: &Map<String, Value>) -> Result<Vec<(String, Option<String>)>, AwsError> {
    let names = output_names(outputs, "ecs_service_names")?;
    let (Some(Value::Object(by_app)), Some(Value::Object(defs))) = (
        output(outputs, "ecs_service_names"),
        output(outputs, "ecs_task_definitions"),
    ) else {
        return Ok(names.into_iter().map(|n| (n, None)).collect());
    };
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for (app, name) in by_app {
        let name = name.as_str().unwrap_or_default().to_string();
        let def = defs
            .get(app)
            .and_then(Value::as_str)
            .filter(|d| !d.is_empty())
            .ok_or_else(|| AwsError::BadOutput {
                name: "ecs_task_definitions".into(),
                expected: "a map with the task definition of every service in ecs_service_names",
            })?;
        out.push((name, Some(def.to_string())));
    }
    out.sort();
    out.dedup_by(|a, b| a.0 == b.0);
    Ok(out)
}

/// Force a new deployment of each service (onto its task definition when
/// given) and, with `opts.wait`, wait until each runs it, stable.
fn roll(
    client: &AwsClient,
    cluster: &str,
    services: &[(String, Option<String>)],
    opts: &ReleaseOptions,
    sink: Sink,
) -> Result<(), AwsError> {
    let mut started = std::collections::HashMap::new();
    for (s, def) in services {
        let id = client.ecs_roll_onto(cluster, s, def.as_deref())?;
        sink(
            LogStream::System,
            &format!(
                "ecs {s}: new deployment {}started{}",
                id.as_deref().map(|i| format!("{i} ")).unwrap_or_default(),
                def.as_deref()
                    .map(|d| format!(" on task definition {}", d.rsplit('/').next().unwrap_or(d)))
                    .unwrap_or_default()
            ),
        );
        if let Some(id) = id {
            started.insert(s.clone(), id);
        }
    }
    if opts.wait {
        let names: Vec<String> = services.iter().map(|(s, _)| s.clone()).collect();
        client.ecs_wait_rollout(cluster, &names, &started, opts.stable_timeout, sink)?;
        sink(LogStream::System, "ecs: all services stable");
    }
    Ok(())
}

/// Static bundle: upload `built_dir` (the built contents of the bundle's
/// `upload_dir`) to `bucket_name`, then invalidate `/*` on `distribution_id`
/// (and wait for it with `opts.wait`; an invalidation still running after
/// `opts.update_timeout` is logged, not an error — the files are live).
pub fn release_static(
    client: &AwsClient,
    outputs: &Map<String, Value>,
    built_dir: &Path,
    opts: &ReleaseOptions,
    sink: Sink,
) -> Result<(), AwsError> {
    let bucket = output_str(outputs, "bucket_name")?;
    let distribution = output_str(outputs, "distribution_id")?;
    client.s3_sync_dir_with(
        bucket,
        built_dir,
        &SyncOptions {
            delete_extra: opts.delete_stale,
        },
        sink,
    )?;
    let id = client.cloudfront_create_invalidation(distribution, &["/*"])?;
    sink(
        LogStream::System,
        &format!("cloudfront {distribution}: invalidation {id} of /* started"),
    );
    if opts.wait {
        match client.cloudfront_wait_invalidation(distribution, &id, opts.update_timeout) {
            Ok(()) => sink(
                LogStream::System,
                &format!("cloudfront {distribution}: invalidation {id} completed"),
            ),
            // The new files are in the bucket already; only edge caches lag.
            Err(AwsError::Timeout { seconds, .. }) => sink(
                LogStream::System,
                &format!(
                    "cloudfront {distribution}: invalidation {id} still in progress after {seconds} s; the new files are uploaded and edge caches will catch up"
                ),
            ),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Serverless bundle: replace `function_name`'s code with `zip` (the package
/// the deploy stage built: app + dependencies + run.sh at the root) and, with
/// `opts.wait`, wait until Lambda applied it. Terraform already uploads the
/// package on apply; this is the code-only redeploy.
pub fn release_lambda(
    client: &AwsClient,
    outputs: &Map<String, Value>,
    zip: &Path,
    opts: &ReleaseOptions,
    sink: Sink,
) -> Result<(), AwsError> {
    let function = output_str(outputs, "function_name")?;
    client.lambda_wait_idle(function, opts.update_timeout)?;
    client.lambda_update_code(function, zip)?;
    sink(
        LogStream::System,
        &format!("lambda {function}: code update sent"),
    );
    if opts.wait {
        client.lambda_wait_updated(function, opts.update_timeout, sink)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_terraform_output_json_and_bare_values() {
        let wrapped = json!({
            "source_bucket": {"sensitive": false, "type": "string", "value": "b-source-1"},
            "ecs_service_names": {"sensitive": false, "type": ["object", {"web": "string", "api": "string"}],
                                   "value": {"web": "app-web", "api": "app-api"}},
            "empty": {"type": "string", "value": ""}
        });
        let m = wrapped.as_object().unwrap();
        assert_eq!(output_str(m, "source_bucket").unwrap(), "b-source-1");
        assert_eq!(
            output_names(m, "ecs_service_names").unwrap(),
            ["app-api", "app-web"]
        );
        let e = output_str(m, "empty").unwrap_err();
        assert!(matches!(e, AwsError::BadOutput { .. }));
        let e = output_str(m, "codebuild_project_name").unwrap_err();
        assert!(e.to_string().contains("codebuild_project_name"), "{e}");

        let bare = json!({"source_bucket": "b", "ecs_service_names": ["x"]});
        let m = bare.as_object().unwrap();
        assert_eq!(output_str(m, "source_bucket").unwrap(), "b");
        assert_eq!(output_names(m, "ecs_service_names").unwrap(), ["x"]);
    }

    #[test]
    fn release_tasks_are_read_from_the_output_and_absent_means_none() {
        let wrapped = json!({
            "release_tasks": {"sensitive": false, "type": ["object", {}], "value": {
                "web": {
                    "task_definition": "arn:aws:ecs:eu-west-1:1:task-definition/app-web:3",
                    "container": "web",
                    "command": ["set -e\nexec python manage.py migrate\n"],
                    "subnets": ["subnet-a", "subnet-b"],
                    "security_groups": ["sg-1"],
                    "assign_public_ip": false,
                    "log_group": "/autodeploy/app/app",
                    "log_stream_prefix": "web"
                },
                "api": {
                    "task_definition": "td-api",
                    "container": "api",
                    "command": ["x"],
                    "subnets": ["subnet-a"],
                    "security_groups": [],
                    "assign_public_ip": true
                }
            }}
        });
        let tasks = release_tasks(wrapped.as_object().unwrap()).unwrap();
        assert_eq!(
            tasks.iter().map(|t| t.service.as_str()).collect::<Vec<_>>(),
            ["api", "web"]
        );
        assert_eq!(tasks[1].subnets, ["subnet-a", "subnet-b"]);
        assert_eq!(
            tasks[1].command,
            ["set -e\nexec python manage.py migrate\n"]
        );
        assert!(tasks[0].assign_public_ip && !tasks[1].assign_public_ip);
        assert_eq!(tasks[0].log_group, None);

        assert!(release_tasks(&Map::new()).unwrap().is_empty());
        let empty = json!({"release_tasks": {"type": ["object", {}], "value": {}}});
        assert!(release_tasks(empty.as_object().unwrap())
            .unwrap()
            .is_empty());
        let broken = json!({"release_tasks": {"web": {"container": "web"}}});
        let e = release_tasks(broken.as_object().unwrap()).unwrap_err();
        assert!(
            matches!(e, AwsError::BadOutput { ref name, .. } if name == "release_tasks"),
            "{e}"
        );
    }

    #[test]
    fn services_roll_onto_their_task_definitions_when_the_bundle_names_them() {
        let new = json!({
            "ecs_service_names": {"web": "app-web", "worker": "app-worker"},
            "ecs_task_definitions": {"web": "arn:td/app-web:4", "worker": "arn:td/app-worker:2"}
        });
        assert_eq!(
            rollouts(new.as_object().unwrap()).unwrap(),
            [
                ("app-web".to_string(), Some("arn:td/app-web:4".to_string())),
                (
                    "app-worker".to_string(),
                    Some("arn:td/app-worker:2".to_string())
                )
            ]
        );
        let old = json!({"ecs_service_names": {"web": "app-web"}});
        assert_eq!(
            rollouts(old.as_object().unwrap()).unwrap(),
            [("app-web".to_string(), None)]
        );
        let partial = json!({
            "ecs_service_names": {"web": "app-web", "worker": "app-worker"},
            "ecs_task_definitions": {"web": "arn:td/app-web:4"}
        });
        let e = rollouts(partial.as_object().unwrap()).unwrap_err();
        assert!(
            matches!(e, AwsError::BadOutput { ref name, .. } if name == "ecs_task_definitions"),
            "{e}"
        );
    }
}
