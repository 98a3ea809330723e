//! Real AWS bundles — rendered by the real analyze → parse → decide → render
//! stages from fixtures — applied and destroyed through the runner against the
//! moto AWS emulator (AUTODEPLOY_TEST_MOTO = path of `moto_server`), with the
//! runner's endpoint override; then moto's own APIs (EC2 DescribeVpcs /
//! DescribeInstances, DescribeAutoScalingGroups, ELBv2, RDS, ECS, IAM) show
//! what was created and that it is gone. (`/moto-api/data.json` cannot prove
//! deletion: it lists every object moto ever created.)
//!
//! One emulator at a time: the tests take a process-wide lock, each starts
//! its own moto on a free port and stops it when done.
//!
//! moto's EC2 image list is seeded (MOTO_AMIS_PATH) with the Canonical Ubuntu
//! 24.04 image the VM bundles look up (`data "aws_ami"` by owner and name):
//! real AWS has it, moto's built-in list does not.
mod support;

use autodeploy_core::LogStream;
use autodeploy_terraform::{Backend, Terraform, TfError, Workspace};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use support::{config_dir, terraform, Lines};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const AMIS: &str = r#"[
 {"ami_id": "ami-04681a1dbd79675a5", "state": "available", "public": true, "owner_id": "137112412989",
  "image_location": "amazon/amzn2-ami-hvm-2.0.20180810-x86_64-gp2", "sriov": "simple", "root_device_type": "ebs",
  "root_device_name": "/dev/xvda", "description": "Amazon Linux 2 AMI 2.0.20180810 x86_64 HVM gp2",
  "image_type": "machine", "platform": "Linux/UNIX", "architecture": "x86_64",
  "name": "amzn2-ami-hvm-2.0.20180810-x86_64-gp2", "virtualization_type": "hvm", "hypervisor": "xen"},
 {"ami_id": "ami-0e2c8caa4b6378d8c", "state": "available", "public": true, "owner_id": "099720109477",
  "image_location": "amazon/ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20241109", "sriov": "simple",
  "root_device_type": "ebs", "root_device_name": "/dev/sda1", "description": "Canonical, Ubuntu, 24.04, amd64 noble image",
  "image_type": "machine", "platform": "Linux/UNIX", "architecture": "x86_64",
  "name": "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20241109", "virtualization_type": "hvm", "hypervisor": "xen"}
]"#;

/// A moto_server child on a free port, killed on drop.
struct Moto {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Moto {
    fn start() -> Option<Moto> {
        let bin = match std::env::var("AUTODEPLOY_TEST_MOTO") {
            Ok(b) if !b.is_empty() => PathBuf::from(b),
            _ => {
                eprintln!(
                    "\n*** SKIPPED: AUTODEPLOY_TEST_MOTO is not set; the AWS apply/destroy tests \
                     against moto did not run (eval \"$(scripts/services.sh start)\" sets it) ***\n"
                );
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "CI=true: this prerequisite must be there (see above)"
                );
                return None;
            }
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let amis = dir.path().join("amis.json");
        std::fs::write(&amis, AMIS).expect("write amis.json");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = std::fs::File::create(dir.path().join("moto.log")).expect("moto log");
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .env("MOTO_AMIS_PATH", &amis)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", bin.display()));
        let moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while ureq::get(&format!("{}/moto-api/", moto.url))
            .call()
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "moto did not come up on {}",
                moto.url
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        Some(moto)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Renders a fixture + request with the real stages into a temp dir; returns
/// (guard, the bundle's terraform dir, the decided strategy).
fn render(fixture: &str, request: &str) -> (tempfile::TempDir, PathBuf, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(fixture);
    let source = autodeploy_core::SourceInfo {
        input: format!("tests/fixtures/{fixture}"),
        kind: autodeploy_core::SourceKind::Path,
        commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
    };
    let analysis = autodeploy_analyze::analyze_dir(
        &root,
        source,
        &autodeploy_analyze::AnalyzeOptions {
            threads: 1,
            name_hint: Some(fixture.into()),
        },
    )
    .expect("fixture analyses");
    let intent = autodeploy_parse::parse(request);
    let decision = autodeploy_decide::decide(
        &analysis,
        &intent,
        &autodeploy_decide::DecideOptions::default(),
    )
    .expect("decision");
    let strategy = serde_json::to_value(&decision)
        .ok()
        .and_then(|v| v["strategy"].as_str().map(str::to_string))
        .unwrap_or_default();
    let bundle = autodeploy_render::render(
        &decision,
        &analysis,
        &autodeploy_render::RenderOptions::default(),
    )
    .expect("renders");
    let dir = tempfile::tempdir().expect("temp dir");
    bundle.write_to(dir.path()).expect("bundle written");
    // The deploy stage archives a local folder for the machines to download.
    if let Some(name) = &bundle.source_archive {
        std::fs::write(
            dir.path().join(name),
            autodeploy_render::EMPTY_SOURCE_ARCHIVE,
        )
        .expect("archive written");
    }
    let tf = dir.path().join("terraform");
    (dir, tf, strategy)
}

struct Scenario<'a> {
    fixture: &'a str,
    request: &'a str,
    strategy: &'a str,
    vars: &'a [(&'a str, &'a str)],
    outputs: &'a [&'a str],
    /// Checks moto's inventory after apply (true) and after destroy (false).
    check: &'a dyn Fn(&Moto, bool),
}

fn deploy_and_destroy(tf: &Terraform, moto: &Moto, s: &Scenario) {
    let (_guard, dir, strategy) = render(s.fixture, s.request);
    assert_eq!(strategy, s.strategy, "{} / {:?}", s.fixture, s.request);
    let mut ws = Workspace::new(&dir, Backend::Local);
    ws.aws_endpoint = Some(moto.url.clone());
    for (k, v) in s.vars {
        ws = ws.var(*k, *v);
    }
    let lines = Lines::default();
    let sink = lines.sink();
    let show = |e: TfError| -> ! {
        panic!(
            "{} ({}): {e}\n--- tail ---\n{}",
            s.fixture,
            s.strategy,
            e.tail().join("\n")
        )
    };

    let t = Instant::now();
    tf.init(&ws, &sink).unwrap_or_else(|e| show(e));
    let plan = tf.plan(&ws, false, &sink).unwrap_or_else(|e| show(e));
    let planned = t.elapsed();
    assert!(plan.changes && plan.add > 10, "{plan:?}");
    assert_eq!((plan.change, plan.destroy), (0, 0));
    tf.apply(&ws, &sink).unwrap_or_else(|e| show(e));
    let applied = t.elapsed();

    let outputs = tf.output(&ws).unwrap_or_else(|e| show(e));
    for name in s.outputs {
        let v = outputs
            .get(*name)
            .unwrap_or_else(|| panic!("output {name} missing: {outputs:?}"));
        assert!(
            !v.value.is_null() && v.value != Value::String(String::new()),
            "output {name} is empty: {v:?}"
        );
    }
    let in_state = tf.state_resources(&ws).unwrap_or_else(|e| show(e));
    assert!(in_state.len() >= plan.add, "{in_state:?}");
    (s.check)(moto, true);

    let t2 = Instant::now();
    tf.destroy(&ws, &sink).unwrap_or_else(|e| show(e));
    let destroyed = t2.elapsed();
    assert!(tf
        .state_resources(&ws)
        .unwrap_or_else(|e| show(e))
        .is_empty());
    (s.check)(moto, false);
    eprintln!(
        "{} ({}): {} resources; init+plan {:.1?}, apply {:.1?}, destroy {:.1?}; {} log lines",
        s.fixture,
        s.strategy,
        plan.add,
        planned,
        applied - planned,
        destroyed,
        lines.all().len()
    );
    assert!(
        lines
            .all()
            .iter()
            .any(|(st, l)| *st == LogStream::Stdout && l.contains("Apply complete!")),
        "the sink saw terraform's own lines"
    );
}

/// A query-protocol AWS call to moto (the signature is not checked; the
/// credential scope names the service), returning the XML answer.
fn aws_query(moto: &Moto, service: &str, body: &str) -> String {
    ureq::post(&moto.url)
        .set(
            "Authorization",
            &format!(
                "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}/aws4_request, \
                 SignedHeaders=host, Signature=0"
            ),
        )
        .set("Content-Type", "application/x-www-form-urlencoded")
        .send_string(body)
        .unwrap_or_else(|e| panic!("{service} {body}: {e}"))
        .into_string()
        .expect("moto answer")
}

/// Delete every object version and delete marker of the buckets whose name
/// says they hold build sources, one DELETE per version.
fn empty_source_buckets(moto: &Moto) {
    let auth = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, \
                SignedHeaders=host, Signature=0";
    let get = |url: &str| {
        ureq::get(url)
            .set("Authorization", auth)
            .call()
            .map(|r| r.into_string().unwrap_or_default())
            .unwrap_or_default()
    };
    let field = |block: &str, tag: &str| {
        block
            .split(&format!("<{tag}>"))
            .nth(1)
            .and_then(|r| r.split(&format!("</{tag}>")).next())
            .unwrap_or("")
            .to_string()
    };
    let buckets = get(&format!("{}/", moto.url));
    for b in buckets.split("<Bucket>").skip(1) {
        let name = field(b, "Name");
        if !name.contains("-source-") {
            continue;
        }
        let listing = get(&format!("{}/{name}?versions", moto.url));
        for block in listing
            .split("<Version>")
            .skip(1)
            .chain(listing.split("<DeleteMarker>").skip(1))
        {
            let (key, version) = (field(block, "Key"), field(block, "VersionId"));
            let _ = ureq::delete(&format!("{}/{name}/{key}?versionId={version}", moto.url))
                .set("Authorization", auth)
                .call();
        }
    }
}

/// VPCs other than moto's default one.
fn own_vpcs(moto: &Moto) -> usize {
    aws_query(moto, "ec2", "Action=DescribeVpcs&Version=2016-11-15")
        .matches("<isDefault>false</isDefault>")
        .count()
}

/// EC2 instances pending or running.
fn live_instances(moto: &Moto) -> usize {
    aws_query(
        moto,
        "ec2",
        "Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=instance-state-name\
         &Filter.1.Value.1=pending&Filter.1.Value.2=running",
    )
    .matches("<instanceId>")
    .count()
}

fn auto_scaling_groups(moto: &Moto) -> usize {
    aws_query(
        moto,
        "autoscaling",
        "Action=DescribeAutoScalingGroups&Version=2011-01-01",
    )
    .matches("<AutoScalingGroupName>")
    .count()
}

fn load_balancers(moto: &Moto) -> usize {
    aws_query(
        moto,
        "elasticloadbalancing",
        "Action=DescribeLoadBalancers&Version=2015-12-01",
    )
    .matches("<LoadBalancerArn>")
    .count()
}

fn db_instances(moto: &Moto) -> usize {
    aws_query(moto, "rds", "Action=DescribeDBInstances&Version=2014-10-31")
        .matches("<DBInstanceIdentifier>")
        .count()
}

/// IAM roles whose name starts with `prefix`.
fn roles(moto: &Moto, prefix: &str) -> usize {
    aws_query(moto, "iam", "Action=ListRoles&Version=2010-05-08")
        .matches(&format!("<RoleName>{prefix}"))
        .count()
}

/// ECS clusters still ACTIVE (a deleted cluster stays listed as INACTIVE
/// for a while, on AWS as on moto).
fn ecs_clusters(moto: &Moto) -> usize {
    let call = |action: &str, body: &str| -> Value {
        ureq::post(&moto.url)
            .set(
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ecs/aws4_request, \
                 SignedHeaders=host, Signature=0",
            )
            .set(
                "X-Amz-Target",
                &format!("AmazonEC2ContainerServiceV20141113.{action}"),
            )
            .set("Content-Type", "application/x-amz-json-1.1")
            .send_string(body)
            .unwrap_or_else(|e| panic!("ecs {action}: {e}"))
            .into_json()
            .expect("JSON")
    };
    let arns = call("ListClusters", "{}")["clusterArns"].clone();
    if arns.as_array().is_none_or(Vec::is_empty) {
        return 0;
    }
    let described = call(
        "DescribeClusters",
        &serde_json::json!({ "clusters": arns }).to_string(),
    );
    described["clusters"]
        .as_array()
        .map_or(0, |c| c.iter().filter(|c| c["status"] == "ACTIVE").count())
}

#[test]
fn vm_bundle_applies_and_destroys_on_moto() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(moto) = Moto::start() else { return };
    let tf = terraform();
    deploy_and_destroy(
        &tf,
        &moto,
        &Scenario {
            fixture: "hello_world_shape",
            request: "deploy this Flask app on AWS",
            strategy: "vm",
            vars: &[("monitoring", "false")],
            outputs: &["url", "public_ip", "instance_id"],
            check: &|moto, live| {
                if live {
                    assert_eq!(live_instances(moto), 1);
                    assert_eq!(own_vpcs(moto), 1);
                    assert_eq!(roles(moto, "hello-world-shape"), 1);
                } else {
                    assert_eq!(live_instances(moto), 0, "instance left running");
                    assert_eq!(own_vpcs(moto), 0, "VPC left behind");
                    assert_eq!(roles(moto, "hello-world-shape"), 0, "IAM role left behind");
                }
            },
        },
    );
}

#[test]
fn autoscaling_bundle_applies_and_destroys_on_moto() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(moto) = Moto::start() else { return };
    let tf = terraform();
    deploy_and_destroy(
        &tf,
        &moto,
        &Scenario {
            fixture: "node_express_basic",
            request: "deploy on AWS on a VM, 2 to 4 instances with autoscaling",
            strategy: "vm",
            vars: &[],
            outputs: &["url"],
            check: &|moto, live| {
                let asgs = auto_scaling_groups(moto);
                let lbs = load_balancers(moto);
                if live {
                    assert_eq!((asgs, lbs), (1, 1));
                    assert_eq!(own_vpcs(moto), 1);
                    assert!(live_instances(moto) >= 2, "the ASG starts its minimum of 2");
                } else {
                    assert_eq!((asgs, lbs), (0, 0), "ASG or ALB left behind");
                    assert_eq!(own_vpcs(moto), 0, "VPC left behind");
                    assert_eq!(live_instances(moto), 0, "instance left running");
                }
            },
        },
    );
}

/// moto answers 500 to the AWS provider's batched DeleteObjects when
/// `force_destroy` empties a versioned, KMS-encrypted bucket (a moto gap: the
/// same bucket empties fine one version at a time, and AWS itself is fine), so
/// the test removes the versions of the build-source bucket itself before
/// destroy — what the provider would have done.
#[test]
fn container_with_database_bundle_applies_and_destroys_on_moto() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(moto) = Moto::start() else { return };
    let tf = terraform();
    deploy_and_destroy(
        &tf,
        &moto,
        &Scenario {
            fixture: "python_django_postgres",
            request: "deploy on AWS with Postgres in containers",
            strategy: "container",
            // RDS deletion protection is on by default (production); a test
            // deployment turns it off so that destroy can delete the database.
            vars: &[
                ("image_tag", "test-0001"),
                ("database_deletion_protection", "false"),
            ],
            outputs: &["url"],
            check: &|moto, live| {
                let found = (ecs_clusters(moto), db_instances(moto), load_balancers(moto));
                if live {
                    assert_eq!(found, (1, 1, 1), "(ECS clusters, RDS instances, ALBs)");
                    empty_source_buckets(moto);
                } else {
                    assert_eq!(found, (0, 0, 0), "ECS/RDS/ALB left behind");
                    assert_eq!(own_vpcs(moto), 0, "VPC left behind");
                }
            },
        },
    );
}

/// The S3 backend with `use_lockfile`: state lands in the bucket, a second
/// run against the same key while the first holds the lock is refused.
#[test]
fn s3_backend_keeps_state_in_the_bucket_with_a_lock_file() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(moto) = Moto::start() else { return };
    ureq::put(&format!("{}/autodeploy-state", moto.url))
        .call()
        .expect("create the state bucket");
    let tf = terraform();
    let impatient = terraform()
        .with_lock_timeout(Duration::ZERO)
        .with_attempts(1);
    let config = r#"
resource "terraform_data" "slow" {
  provisioner "local-exec" {
    command = "sleep 4"
  }
}
"#;
    let (_ta, dir_a) = config_dir(config);
    let (_tb, dir_b) = config_dir(config);
    let ws = |dir: &Path| {
        let mut w = Workspace::new(
            dir,
            Backend::S3 {
                bucket: "autodeploy-state".into(),
                key: "deployments/d1/terraform.tfstate".into(),
                region: "us-east-1".into(),
            },
        );
        w.aws_endpoint = Some(moto.url.clone());
        w
    };
    let (a, b) = (ws(&dir_a), ws(&dir_b));
    let quiet = |_: LogStream, _: &str| {};
    let fail = |e: TfError| -> ! { panic!("{e}\n{}", e.tail().join("\n")) };
    tf.init(&a, &quiet).unwrap_or_else(|e| fail(e));
    tf.init(&b, &quiet).unwrap_or_else(|e| fail(e));
    tf.plan(&a, false, &quiet).unwrap_or_else(|e| fail(e));
    let (applied, b_plan) = std::thread::scope(|s| {
        let h = s.spawn(|| tf.apply(&a, &quiet));
        std::thread::sleep(Duration::from_millis(1500));
        let p = impatient.plan(&b, false, &quiet);
        (h.join().unwrap(), p)
    });
    applied.unwrap_or_else(|e| fail(e));
    assert!(
        matches!(b_plan, Err(TfError::LockHeld { .. })),
        "expected the S3 lock file to refuse the second run: {b_plan:?}"
    );
    let listing = ureq::get(&format!("{}/autodeploy-state?list-type=2", moto.url))
        .call()
        .expect("ListObjectsV2")
        .into_string()
        .expect("listing");
    assert!(
        listing.contains("<Key>deployments/d1/terraform.tfstate</Key>"),
        "{listing}"
    );
    assert!(!dir_a.join("terraform.tfstate").exists());
    // B now sees A's state: nothing to do.
    let again = tf.plan(&b, false, &quiet).unwrap_or_else(|e| fail(e));
    assert!(!again.changes, "{again:?}");
    tf.destroy(&a, &quiet).unwrap_or_else(|e| fail(e));
    assert!(tf
        .state_resources(&b)
        .unwrap_or_else(|e| fail(e))
        .is_empty());
}
