//! Every operation and release against a real moto_server (one per test
//! binary, started on a free port with MOTO_ECS_SERVICE_RUNNING=1 so a
//! one-task service reaches a steady state). Skips loudly when
//! AUTODEPLOY_TEST_MOTO is unset.

mod common;

use autodeploy_aws::{
    release_container, release_lambda, release_static, zip_source, AwsClient, AwsError,
    ReleaseOptions, Service, SyncOptions,
};
use common::{unique, Lines, Moto};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn moto() -> Option<&'static Moto> {
    static M: OnceLock<Option<Moto>> = OnceLock::new();
    M.get_or_init(|| common::start(&[("MOTO_ECS_SERVICE_RUNNING", "1")]))
        .as_ref()
}

macro_rules! moto_or_skip {
    () => {
        match moto() {
            Some(m) => m,
            None => return,
        }
    };
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// `terraform output -json` shape.
fn tf_outputs(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                json!({"sensitive": false, "type": "string", "value": v}),
            )
        })
        .collect()
}

#[test]
fn s3_put_get_round_trip_in_a_regional_bucket() {
    let m = moto_or_skip!();
    let c = common::client(m, "eu-west-1");
    let bucket = unique("put-get");
    c.s3_create_bucket(&bucket).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data.bin");
    let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&file, &data).unwrap();
    // A key that needs encoding: spaces, plus, dollar, unicode, nested folders.
    let key = "nested dir/a+b$c/ünï cødé.bin";
    c.s3_put_file(&bucket, key, &file).unwrap();
    let (back, _) = c.s3_get(&bucket, key).unwrap();
    assert_eq!(back.len(), data.len());
    assert!(back == data, "bytes read back differ");
    assert_eq!(c.s3_list_keys(&bucket).unwrap(), [key]);

    let e = c.s3_get(&bucket, "missing").unwrap_err();
    assert_eq!(e.code(), Some("NoSuchKey"), "{e}");
    let e = c
        .s3_put_file(&unique("no-such-bucket"), "k", &file)
        .unwrap_err();
    assert_eq!(e.code(), Some("NoSuchBucket"), "{e}");
    assert!(e.to_string().contains("terraform apply"), "{e}");
}

#[test]
fn s3_sync_dir_sets_content_types_and_deletes_stale_objects() {
    let m = moto_or_skip!();
    let c = common::client(m, "us-east-1");
    let bucket = unique("sync");
    c.s3_create_bucket(&bucket).unwrap();
    let site = tempfile::tempdir().unwrap();
    write(site.path(), "index.html", "<h1>v1</h1>");
    write(site.path(), "assets/app.3f2a.js", "console.log(1)");
    write(site.path(), "assets/style.css", "body{}");
    write(site.path(), "img/logo.svg", "<svg/>");
    write(site.path(), ".well-known/security.txt", "Contact: x");
    c.s3_put_bytes(&bucket, "old/stale.js", b"old", &[])
        .unwrap();

    let lines = Lines::default();
    let n = c
        .s3_sync_dir(&bucket, site.path(), &|s, l| lines.push(s, l))
        .unwrap();
    assert_eq!(n, 5);
    assert!(lines.contains("uploaded 5 files"), "{:?}", lines.all());
    let (body, ct) = c.s3_get(&bucket, "index.html").unwrap();
    assert_eq!(body, b"<h1>v1</h1>");
    assert_eq!(ct.as_deref(), Some("text/html; charset=utf-8"));
    assert_eq!(
        c.s3_get(&bucket, "assets/app.3f2a.js")
            .unwrap()
            .1
            .as_deref(),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(
        c.s3_get(&bucket, "img/logo.svg").unwrap().1.as_deref(),
        Some("image/svg+xml")
    );
    // Without delete_extra the stale object stays; with it, it goes.
    assert!(c
        .s3_list_keys(&bucket)
        .unwrap()
        .contains(&"old/stale.js".to_string()));
    let r = c
        .s3_sync_dir_with(
            &bucket,
            site.path(),
            &SyncOptions { delete_extra: true },
            &|_, _| {},
        )
        .unwrap();
    assert_eq!((r.uploaded, r.deleted), (5, 1));
    assert_eq!(
        c.s3_list_keys(&bucket).unwrap(),
        [
            ".well-known/security.txt",
            "assets/app.3f2a.js",
            "assets/style.css",
            "img/logo.svg",
            "index.html"
        ]
    );
}

#[test]
fn secrets_manager_put_replaces_the_value() {
    let m = moto_or_skip!();
    let c = common::client(m, "us-east-1");
    let name = unique("app/db-password");
    c.json_call(
        Service::SecretsManager,
        "CreateSecret",
        &json!({"Name": name, "SecretString": "first"}),
    )
    .unwrap();
    c.secretsmanager_put(&name, "s3cr3t \"quoted\" ünicode")
        .unwrap();
    let got = c
        .json_call(
            Service::SecretsManager,
            "GetSecretValue",
            &json!({"SecretId": name}),
        )
        .unwrap();
    assert_eq!(got["SecretString"], "s3cr3t \"quoted\" ünicode");

    let e = c
        .secretsmanager_put("no-such-secret", "hidden-value-123")
        .unwrap_err();
    assert_eq!(e.code(), Some("ResourceNotFoundException"), "{e}");
    assert!(!e.to_string().contains("hidden-value-123"), "{e}");
}

fn create_codebuild_project(c: &AwsClient, name: &str, bucket: &str) {
    c.json_call(
        Service::CodeBuild,
        "CreateProject",
        &json!({
            "name": name,
            "source": {"type": "S3", "location": format!("{bucket}/source/source.zip")},
            "artifacts": {"type": "NO_ARTIFACTS"},
            "environment": {"type": "LINUX_CONTAINER", "image": "aws/codebuild/amazonlinux2-x86_64-standard:5.0",
                            "computeType": "BUILD_GENERAL1_MEDIUM"},
            "serviceRole": "arn:aws:iam::123456789012:role/build"
        }),
    )
    .unwrap();
}

#[test]
fn codebuild_start_and_wait_streams_phases() {
    let m = moto_or_skip!();
    let c = common::client(m, "us-east-1");
    let bucket = unique("cb-src");
    c.s3_create_bucket(&bucket).unwrap();
    let project = unique("build");
    create_codebuild_project(&c, &project, &bucket);
    let id = c.codebuild_start(&project, None).unwrap();
    assert!(id.starts_with(&format!("{project}:")), "{id}");
    let lines = Lines::default();
    let r = c
        .codebuild_wait(&id, Duration::from_secs(30), &|s, l| lines.push(s, l))
        .unwrap();
    assert!(r.succeeded(), "{r:?}");
    assert!(lines.contains("phase COMPLETED"), "{:?}", lines.all());
    assert!(lines.contains("SUCCEEDED"), "{:?}", lines.all());

    let e = c
        .codebuild_start(&unique("no-such-project"), None)
        .unwrap_err();
    assert_eq!(e.code(), Some("ResourceNotFoundException"), "{e}");
}

/// A cluster with a Fargate service of `desired` tasks.
fn create_ecs_service(c: &AwsClient, cluster: &str, service: &str, desired: u32) {
    c.json_call(
        Service::Ecs,
        "CreateCluster",
        &json!({"clusterName": cluster}),
    )
    .unwrap();
    c.json_call(
        Service::Ecs,
        "RegisterTaskDefinition",
        &json!({
            "family": service,
            "containerDefinitions": [{"name": "app", "image": "nginx:latest", "memory": 512, "essential": true}]
        }),
    )
    .unwrap();
    c.json_call(
        Service::Ecs,
        "CreateService",
        &json!({"cluster": cluster, "serviceName": service, "taskDefinition": service, "desiredCount": desired}),
    )
    .unwrap();
}

#[test]
fn ecs_force_new_deployment_and_wait_stable() {
    let m = moto_or_skip!();
    let c = common::client(m, "us-east-1");
    let cluster = unique("cluster");
    create_ecs_service(&c, &cluster, "web", 1);
    let before = c
        .json_call(
            Service::Ecs,
            "DescribeServices",
            &json!({"cluster": cluster, "services": ["web"]}),
        )
        .unwrap();
    c.ecs_force_new_deployment(&cluster, "web").unwrap();
    let after = c
        .json_call(
            Service::Ecs,
            "DescribeServices",
            &json!({"cluster": cluster, "services": ["web"]}),
        )
        .unwrap();
    let dep = |v: &Value| {
        v["services"][0]["deployments"][0]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_ne!(
        dep(&before),
        dep(&after),
        "a new deployment id after the force"
    );
    let id = c
        .ecs_force_new_deployment_id(&cluster, "web")
        .unwrap()
        .unwrap();
    assert_ne!(id, dep(&after));
    let mut want = std::collections::HashMap::new();
    want.insert("web".to_string(), id);
    c.ecs_wait_rollout(
        &cluster,
        &["web".to_string()],
        &want,
        Duration::from_secs(20),
        &|_, _| {},
    )
    .unwrap();
    // Waiting for a deployment the service is not on never settles.
    want.insert("web".to_string(), "ecs-svc/not-this-one".to_string());
    let e = c
        .ecs_wait_rollout(
            &cluster,
            &["web".to_string()],
            &want,
            Duration::from_secs(1),
            &|_, _| {},
        )
        .unwrap_err();
    assert!(matches!(e, AwsError::Timeout { .. }), "{e}");

    let lines = Lines::default();
    c.ecs_wait_stable(
        &cluster,
        &["web".to_string()],
        Duration::from_secs(20),
        &|s, l| lines.push(s, l),
    )
    .unwrap();
    assert!(lines.contains("ecs web: running 1/1"), "{:?}", lines.all());

    // Three wanted, moto runs one: never stable, so the wait times out.
    create_ecs_service(&c, &cluster, "worker", 3);
    let t = Instant::now();
    let e = c
        .ecs_wait_stable(
            &cluster,
            &["web".to_string(), "worker".to_string()],
            Duration::from_secs(1),
            &|_, _| {},
        )
        .unwrap_err();
    assert!(matches!(e, AwsError::Timeout { .. }), "{e}");
    assert!(
        e.to_string().contains("worker") && !e.to_string().contains("web,"),
        "{e}"
    );
    assert!(t.elapsed() < Duration::from_secs(10));

    let e = c
        .ecs_wait_stable(
            &cluster,
            &["ghost".to_string()],
            Duration::from_secs(5),
            &|_, _| {},
        )
        .unwrap_err();
    assert!(e.to_string().contains("MISSING"), "{e}");
    let e = c.ecs_force_new_deployment(&cluster, "ghost").unwrap_err();
    assert_eq!(e.code(), Some("ServiceNotFoundException"), "{e}");
}

#[test]
fn release_container_uploads_builds_and_rolls() {
    let m = moto_or_skip!();
    let c = common::client(m, "us-east-1");
    let bucket = unique("app-source");
    c.s3_create_bucket(&bucket).unwrap();
    c.s3_enable_versioning(&bucket).unwrap();
    let project = unique("app-build");
    create_codebuild_project(&c, &project, &bucket);
    let cluster = unique("app");
    create_ecs_service(&c, &cluster, "app-web", 1);
    // The revision `terraform apply` registers; the service is not on it yet.
    let new_def = c
        .json_call(
            Service::Ecs,
            "RegisterTaskDefinition",
            &json!({
                "family": "app-web",
                "containerDefinitions": [{"name": "app", "image": "nginx:1.27", "memory": 512, "essential": true}]
            }),
        )
        .unwrap()["taskDefinition"]["taskDefinitionArn"]
        .as_str()
        .unwrap()
        .to_string();
    let service_def = |c: &AwsClient| {
        c.json_call(
            Service::Ecs,
            "DescribeServices",
            &json!({"cluster": cluster, "services": ["app-web"]}),
        )
        .unwrap()["services"][0]["taskDefinition"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_ne!(service_def(&c), new_def);

    let src = tempfile::tempdir().unwrap();
    write(
        src.path(),
        "app.py",
        "print('release')\napp.run(host='127.0.0.1')\n",
    );
    write(src.path(), "node_modules/big/index.js", "skip me");
    let outputs = tf_outputs(&[
        ("source_bucket", json!(bucket)),
        ("source_key", json!("source/source.zip")),
        ("codebuild_project_name", json!(project)),
        ("ecs_cluster_name", json!(cluster)),
        ("ecs_service_names", json!({"web": "app-web"})),
        ("ecs_task_definitions", json!({"web": new_def})),
        (
            "release_tasks",
            json!({"web": {
                "task_definition": "app-web",
                "container": "app",
                "command": ["set -e\nexec python manage.py migrate --noinput\n"],
                "subnets": ["subnet-0123456789abcdef0"],
                "security_groups": ["sg-0123456789abcdef0"],
                "assign_public_ip": false,
                "log_group": "/autodeploy/app/app",
                "log_stream_prefix": "web"
            }}),
        ),
        ("url", Value::Null),
    ]);
    let lines = Lines::default();
    release_container(
        &c,
        &outputs,
        src.path(),
        &ReleaseOptions {
            build_timeout: Duration::from_secs(30),
            stable_timeout: Duration::from_secs(30),
            source_fixes: vec![autodeploy_core::SourceFix {
                file: "app.py".into(),
                line: 2,
                find: "'127.0.0.1'".into(),
                replace: "'0.0.0.0'".into(),
            }],
            ..ReleaseOptions::default()
        },
        &|s, l| lines.push(s, l),
    )
    .unwrap();
    let all = lines.all();
    for needle in [
        "fixed app.py:2 in the image's source",
        "uploaded source to s3://",
        "(version ",
        "started CodeBuild build",
        "SUCCEEDED",
        "release step of web: started one-off task arn:aws:ecs:",
        "release step of web: task STOPPED",
        "release step of web: finished (exit code 0)",
        "ecs app-web: new deployment ecs-svc/",
        "all services stable",
    ] {
        assert!(
            all.iter().any(|l| l.contains(needle)),
            "{needle:?} not in {all:?}"
        );
    }
    // Once, after the build and before the rollout.
    let at = |needle: &str| all.iter().position(|l| l.contains(needle)).unwrap();
    assert!(at("SUCCEEDED") < at("release step of web: started"));
    assert!(at("finished (exit code 0)") < at("ecs app-web: new deployment"));
    assert_eq!(
        all.iter()
            .filter(|l| l.contains("started one-off task"))
            .count(),
        1
    );
    // The release rolled the service onto the new revision.
    assert_eq!(service_def(&c), new_def);
    assert!(lines.contains("on task definition app-web:2"), "{all:?}");
    // ECS got the release command as the container's override, on Fargate.
    let started = |c: &AwsClient| -> Vec<Value> {
        let listed = c
            .json_call(
                Service::Ecs,
                "ListTasks",
                &json!({"cluster": cluster, "startedBy": "autodeploy-release"}),
            )
            .unwrap();
        let arns = listed["taskArns"].as_array().unwrap().clone();
        if arns.is_empty() {
            return vec![];
        }
        c.json_call(
            Service::Ecs,
            "DescribeTasks",
            &json!({"cluster": cluster, "tasks": arns}),
        )
        .unwrap()["tasks"]
            .as_array()
            .unwrap()
            .clone()
    };
    let tasks = started(&c);
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0]["launchType"], "FARGATE");
    assert_eq!(
        tasks[0]["overrides"]["containerOverrides"],
        json!([{"name": "app", "command": ["set -e\nexec python manage.py migrate --noinput\n"]}])
    );
    // The uploaded archive is the source tree, without node_modules, with
    // the source fix; the tree keeps its own text.
    let (zip_bytes, _) = c.s3_get(&bucket, "source/source.zip").unwrap();
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes)).unwrap();
    let names: Vec<String> = z.file_names().map(str::to_string).collect();
    assert_eq!(names, ["app.py"]);
    let mut s = String::new();
    z.by_name("app.py").unwrap().read_to_string(&mut s).unwrap();
    assert_eq!(s, "print('release')\napp.run(host='0.0.0.0')\n");
    assert!(std::fs::read_to_string(src.path().join("app.py"))
        .unwrap()
        .contains("'127.0.0.1'"));

    // Against an emulator (no waits) the release task is started, not waited for.
    let lines = Lines::default();
    release_container(
        &c,
        &outputs,
        src.path(),
        &ReleaseOptions {
            wait: false,
            ..ReleaseOptions::default()
        },
        &|s, l| lines.push(s, l),
    )
    .unwrap();
    assert!(
        lines.contains("release step of web: not waiting for the task"),
        "{:?}",
        lines.all()
    );
    assert!(!lines.contains("task STOPPED"), "{:?}", lines.all());
    assert_eq!(started(&c).len(), 2);

    // A missing output is named.
    let mut partial = outputs.clone();
    partial.remove("codebuild_project_name");
    let e = release_container(
        &c,
        &partial,
        src.path(),
        &ReleaseOptions::default(),
        &|_, _| {},
    )
    .unwrap_err();
    assert!(
        matches!(e, AwsError::BadOutput { ref name, .. } if name == "codebuild_project_name"),
        "{e}"
    );
}

fn create_distribution(c: &AwsClient, bucket: &str) -> String {
    let origin = format!("{bucket}.s3.us-east-1.amazonaws.com");
    let xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<DistributionConfig xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">
  <CallerReference>{bucket}</CallerReference>
  <Origins><Quantity>1</Quantity><Items><Origin><Id>site</Id><DomainName>{origin}</DomainName>
    <S3OriginConfig><OriginAccessIdentity></OriginAccessIdentity></S3OriginConfig></Origin></Items></Origins>
  <DefaultCacheBehavior><TargetOriginId>site</TargetOriginId><ViewerProtocolPolicy>redirect-to-https</ViewerProtocolPolicy>
    <MinTTL>0</MinTTL><ForwardedValues><QueryString>false</QueryString><Cookies><Forward>none</Forward></Cookies></ForwardedValues>
    <TrustedSigners><Enabled>false</Enabled><Quantity>0</Quantity></TrustedSigners></DefaultCacheBehavior>
  <Comment>test</Comment>
  <Enabled>true</Enabled>
</DistributionConfig>"#
    );
    let out = c
        .rest_xml_call(
            Service::CloudFront,
            "CreateDistribution",
            "POST",
            &["2020-05-31", "distribution"],
            Some(&xml),
        )
        .unwrap();
    let doc = roxmltree::Document::parse(&out).unwrap();
    doc.descendants()
        .find(|n| n.tag_name().name() == "Id")
        .and_then(|n| n.text())
        .unwrap()
        .to_string()
}

#[test]
fn release_static_syncs_and_invalidates() {
    let m = moto_or_skip!();
    let c = common::client(m, "us-east-1");
    let bucket = unique("site");
    c.s3_create_bucket(&bucket).unwrap();
    let dist = create_distribution(&c, &bucket);
    let site = tempfile::tempdir().unwrap();
    write(site.path(), "index.html", "<h1>hello</h1>");
    write(site.path(), "assets/app.js", "1");
    let outputs = tf_outputs(&[
        ("bucket_name", json!(bucket)),
        ("distribution_id", json!(dist)),
        ("upload_dir", json!("dist")),
    ]);
    let lines = Lines::default();
    release_static(
        &c,
        &outputs,
        site.path(),
        &ReleaseOptions::default(),
        &|s, l| lines.push(s, l),
    )
    .unwrap();
    assert!(lines.contains("invalidation"), "{:?}", lines.all());
    assert!(lines.contains("completed"), "{:?}", lines.all());
    assert_eq!(
        c.s3_get(&bucket, "index.html").unwrap().0,
        b"<h1>hello</h1>"
    );
    let list = c
        .rest_xml_call(
            Service::CloudFront,
            "ListInvalidations",
            "GET",
            &["2020-05-31", "distribution", &dist, "invalidation"],
            None,
        )
        .unwrap();
    assert!(list.contains("<Quantity>1</Quantity>"), "{list}");

    let e = c.cloudfront_invalidate("ENOSUCHDIST", &["/*"]).unwrap_err();
    assert!(matches!(e, AwsError::Http { .. }), "{e}");
    let e = c.cloudfront_invalidate(&dist, &["no-slash"]).unwrap_err();
    assert!(matches!(e, AwsError::InvalidInput { .. }), "{e}");
}

#[test]
fn release_lambda_replaces_the_code() {
    let m = moto_or_skip!();
    let c = common::client(m, "us-east-1");
    let role_name = unique("lambda-role");
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let xml = c
        .query_call(
            Service::Iam,
            "CreateRole",
            "2010-05-08",
            &[
                ("RoleName", &role_name),
                ("AssumeRolePolicyDocument", trust),
            ],
        )
        .unwrap();
    let role_arn = roxmltree::Document::parse(&xml)
        .unwrap()
        .descendants()
        .find(|n| n.tag_name().name() == "Arn")
        .and_then(|n| n.text())
        .unwrap()
        .to_string();

    let work = tempfile::tempdir().unwrap();
    let v1 = work.path().join("v1");
    write(&v1, "app.py", "v = 1\n");
    let zip1 = work.path().join("v1.zip");
    zip_source(&v1, &zip1).unwrap();
    let function = unique("web");
    c.rest_json_call(
        Service::Lambda,
        "CreateFunction",
        "POST",
        &["2015-03-31", "functions"],
        Some(&json!({
            "FunctionName": function, "Runtime": "python3.12", "Role": role_arn,
            "Handler": "run.sh", "Code": {"ZipFile": autodeploy_aws::lambda::base64(&std::fs::read(&zip1).unwrap())}
        })),
    )
    .unwrap();

    let v2 = work.path().join("v2");
    write(&v2, "app.py", "v = 2\n");
    let zip2 = work.path().join("v2.zip");
    zip_source(&v2, &zip2).unwrap();
    let lines = Lines::default();
    release_lambda(
        &c,
        &tf_outputs(&[("function_name", json!(function))]),
        &zip2,
        &ReleaseOptions::default(),
        &|s, l| lines.push(s, l),
    )
    .unwrap();
    assert!(lines.contains("code update applied"), "{:?}", lines.all());
    let cfg = c.lambda_configuration(&function).unwrap();
    let want = autodeploy_aws::lambda::base64(&Sha256::digest(std::fs::read(&zip2).unwrap()));
    assert_eq!(cfg["CodeSha256"], want.as_str(), "{cfg}");

    let e = c
        .lambda_update_code(&unique("no-such-fn"), &zip2)
        .unwrap_err();
    assert_eq!(e.code(), Some("ResourceNotFoundException"), "{e}");
}

#[test]
fn cloudwatch_log_pages_resume_after_their_token() {
    let m = moto_or_skip!();
    let c = common::client(m, "us-east-1");
    let group = format!("/autodeploy/{}/build", unique("app"));
    c.json_call(
        Service::Logs,
        "CreateLogGroup",
        &json!({"logGroupName": group}),
    )
    .unwrap();
    c.json_call(
        Service::Logs,
        "CreateLogStream",
        &json!({"logGroupName": group, "logStreamName": "build-1"}),
    )
    .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let put = |msgs: &[&str], t: i64| {
        let events: Vec<Value> = msgs
            .iter()
            .enumerate()
            .map(|(i, m)| json!({"timestamp": t + i as i64, "message": m}))
            .collect();
        c.json_call(
            Service::Logs,
            "PutLogEvents",
            &json!({"logGroupName": group, "logStreamName": "build-1", "logEvents": events}),
        )
        .unwrap();
    };
    put(&["Step 1/2", "Step 2/2"], now);
    let (lines, token) = c.logs_get_events(&group, "build-1", None).unwrap();
    assert_eq!(lines, ["Step 1/2", "Step 2/2"]);
    let token = token.expect("a forward token");
    put(&["Successfully built"], now + 10);
    let (lines, _) = c.logs_get_events(&group, "build-1", Some(&token)).unwrap();
    assert_eq!(lines, ["Successfully built"]);
    let e = c
        .logs_get_events(&group, "no-such-stream", None)
        .unwrap_err();
    assert_eq!(e.code(), Some("ResourceNotFoundException"), "{e}");
}
