//! Helpers for the deploy tests: run the CLI with its own home, start the
//! moto AWS emulator on a free port, and ask the emulator what exists.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn fixture(name: &str) -> String {
    repo_root()
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

/// The CLI with `AUTODEPLOY_HOME` set and stdin closed (not a terminal).
pub fn cli(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_autodeploy"));
    c.env("AUTODEPLOY_HOME", home)
        .env_remove("AUTODEPLOY_DATABASE_URL")
        .env_remove("AUTODEPLOY_STATE_URL")
        .stdin(Stdio::null());
    c
}

pub fn run(c: &mut Command) -> Output {
    c.output().expect("the autodeploy binary runs")
}

pub fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(o)))
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A moto server for one test, killed on drop.
pub struct Moto {
    pub url: String,
    child: Child,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `None` (with a loud notice) when AUTODEPLOY_TEST_MOTO is not set.
pub fn moto() -> Option<Moto> {
    let Some(bin) = std::env::var_os("AUTODEPLOY_TEST_MOTO") else {
        eprintln!("SKIPPED: AUTODEPLOY_TEST_MOTO is not set (scripts/test.sh sets it; run scripts/setup.sh to install moto)");
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: this prerequisite must be there (see above)"
        );
        return None;
    };
    let port = free_port();
    let mut child = Command::new(bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server starts");
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if ureq::get(&format!("{url}/moto-api/")).call().is_ok() {
            return Some(Moto { url, child });
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("moto did not start on {url}");
}

impl Moto {
    /// A JSON-API call (Secrets Manager: `secretsmanager`, target prefix
    /// `secretsmanager`).
    pub fn json_call(
        &self,
        service: &str,
        target: &str,
        body: serde_json::Value,
    ) -> serde_json::Value {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=00"
        );
        let text = ureq::post(&format!("{}/", self.url))
            .set("Authorization", &auth)
            .set("X-Amz-Target", target)
            .set("Content-Type", "application/x-amz-json-1.1")
            .send_string(&body.to_string())
            .map(|r| r.into_string().unwrap_or_default())
            .unwrap_or_else(|e| panic!("{service} {target}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{target}: {e}: {text}"))
    }

    /// The value of the Secrets Manager secret whose name contains `part`.
    pub fn secret_value(&self, part: &str) -> Option<String> {
        let list = self.json_call(
            "secretsmanager",
            "secretsmanager.ListSecrets",
            serde_json::json!({}),
        );
        let arn = list["SecretList"]
            .as_array()?
            .iter()
            .find(|s| s["Name"].as_str().is_some_and(|n| n.contains(part)))?["ARN"]
            .as_str()?
            .to_string();
        let v = self.json_call(
            "secretsmanager",
            "secretsmanager.GetSecretValue",
            serde_json::json!({ "SecretId": arn }),
        );
        v["SecretString"].as_str().map(str::to_string)
    }

    /// A query-API call (EC2, IAM, ELBv2, RDS, AutoScaling…). moto reads the
    /// region from the credential scope and does not check signatures.
    pub fn query(&self, service: &str, action: &str, version: &str) -> String {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=00"
        );
        ureq::get(&format!("{}/?Action={action}&Version={version}", self.url))
            .set("Authorization", &auth)
            .call()
            .map(|r| r.into_string().unwrap_or_default())
            .unwrap_or_else(|e| panic!("{service} {action}: {e}"))
    }

    /// What the emulator still has of a deployment named `name`: running
    /// instances, non-default VPCs, Elastic IPs, IAM roles, load balancers,
    /// auto scaling groups, database instances.
    pub fn leftovers(&self, name: &str) -> Vec<String> {
        let mut left = Vec::new();
        let ec2 = |a: &str| self.query("ec2", a, "2016-11-15");
        let instances = ec2("DescribeInstances");
        for state in ["pending", "running", "stopping", "stopped"] {
            if instances.contains(&format!("<name>{state}</name>")) {
                left.push(format!("an instance is {state}"));
            }
        }
        let vpcs = ec2("DescribeVpcs");
        if vpcs.matches("<isDefault>false</isDefault>").count() > 0 {
            left.push("a non-default VPC".into());
        }
        if ec2("DescribeAddresses").contains("<publicIp>") {
            left.push("an Elastic IP".into());
        }
        // Deployment names are the app's name cut to 20 characters plus a suffix.
        let prefix: String = name.chars().take(20).collect();
        if self
            .query("iam", "ListRoles", "2010-05-08")
            .contains(&format!("<RoleName>{prefix}"))
        {
            left.push(format!("an IAM role {name}*"));
        }
        if self
            .query(
                "elasticloadbalancing",
                "DescribeLoadBalancers",
                "2015-12-01",
            )
            .contains("<LoadBalancerArn>")
        {
            left.push("a load balancer".into());
        }
        if self
            .query("autoscaling", "DescribeAutoScalingGroups", "2011-01-01")
            .contains("<AutoScalingGroupName>")
        {
            left.push("an auto scaling group".into());
        }
        if self
            .query("rds", "DescribeDBInstances", "2014-10-31")
            .contains("<DBInstanceIdentifier>")
        {
            left.push("an RDS instance".into());
        }
        left
    }
}

/// moto reads the region from the credential scope and checks no signature.
const S3_AUTH: &str = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00";

impl Moto {
    /// An S3 GET (`""`: the bucket list, `bucket`: its objects), its body or
    /// empty on an error.
    pub fn s3_get(&self, path: &str) -> String {
        ureq::get(&format!("{}/{path}", self.url))
            .set("Authorization", S3_AUTH)
            .call()
            .map(|r| r.into_string().unwrap_or_default())
            .unwrap_or_default()
    }

    /// Delete every object version of `bucket` one by one. moto (5.x)
    /// answers 500 to the batch `DeleteObjects` on versions that Terraform's
    /// `force_destroy` uses; real S3 does not need this.
    pub fn empty_versioned_bucket(&self, bucket: &str) {
        let listing = self.s3_get(&format!("{bucket}?versions"));
        for block in listing.split("<Version>").skip(1) {
            let field = |tag: &str| {
                block
                    .split(&format!("<{tag}>"))
                    .nth(1)
                    .and_then(|r| r.split(&format!("</{tag}>")).next())
                    .unwrap_or("")
                    .to_string()
            };
            let (key, version) = (field("Key"), field("VersionId"));
            let _ = ureq::delete(&format!("{}/{bucket}/{key}?versionId={version}", self.url))
                .set("Authorization", S3_AUTH)
                .call();
        }
    }
}

/// Env for a CLI talking to the emulator.
pub fn aws_env(c: &mut Command) -> &mut Command {
    c.env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env_remove("AWS_PROFILE")
}

/// An AMI id moto always has (see ../shared/TOOLCHAIN.md).
pub const MOTO_AMI: &str = "ami-04681a1dbd79675a5";
