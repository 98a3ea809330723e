//! The post-apply release of an AWS bundle, driven by its Terraform outputs:
//! container (zip source → S3 → CodeBuild → ECS roll), static site (sync →
//! CloudFront invalidation) and serverless (Lambda code update).
//!
//! `outputs` is what `terraform output -json` prints (each value wrapped in
//! `{"value": …, "type": …}`) or the bare values; both are read. Not here:
//! running Terraform, building the static site or the Lambda package (the
//! deploy stage does), health checks.

use crate::archive::zip_source;
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
    /// Longest wait for a Lambda update or a CloudFront invalidation.
    pub update_timeout: Duration,
    /// Static sites: delete objects that are not in the new build. Off by
    /// default so pages already open keep finding their old hashed assets.
    pub delete_stale: bool,
}

impl Default for ReleaseOptions {
    fn default() -> Self {
        ReleaseOptions {
            wait: true,
            build_timeout: Duration::from_secs(40 * 60),
            stable_timeout: Duration::from_secs(15 * 60),
            update_timeout: Duration::from_secs(5 * 60),
            delete_stale: false,
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

/// Container bundle: zip `source_root` → put at `source_bucket`/`source_key`
/// → start `codebuild_project_name` on that object version → wait for the
/// build → force a new deployment of every `ecs_service_names` service in
/// `ecs_cluster_name` → wait until stable. Without `opts.wait` it stops
/// waiting: the services are rolled right after the build starts, and ECS
/// retries tasks until the image it names exists.
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
    let services = output_names(outputs, "ecs_service_names")?;

    let tmp = tempfile::Builder::new()
        .prefix("autodeploy-source-")
        .suffix(".zip")
        .tempfile()
        .map_err(|e| AwsError::io("create a temporary file in", &std::env::temp_dir(), e))?;
    let bytes = zip_source(source_root, tmp.path())?;
    sink(
        LogStream::System,
        &format!("zipped {} ({bytes} bytes)", source_root.display()),
    );
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
    let mut started = std::collections::HashMap::new();
    for s in &services {
        let id = client.ecs_force_new_deployment_id(cluster, s)?;
        sink(
            LogStream::System,
            &format!(
                "ecs {s}: new deployment {}started",
                id.as_deref().map(|i| format!("{i} ")).unwrap_or_default()
            ),
        );
        if let Some(id) = id {
            started.insert(s.clone(), id);
        }
    }
    if opts.wait {
        client.ecs_wait_rollout(cluster, &services, &started, opts.stable_timeout, sink)?;
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
}
