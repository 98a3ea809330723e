//! One deployment's Terraform working directory: where its configuration is,
//! where its state lives (the backend) and the variables it is run with.
//!
//! `prepare` rewrites the two files the runner owns in that directory:
//! `backend.tf` (the rendered bundle ships an empty `backend "local" {}`
//! placeholder there) and, only when `aws_endpoint` is set, the
//! `zz_autodeploy_endpoint_override.tf` test facility. Deliberately not here:
//! running terraform, or touching any other file of the bundle.

use crate::discover::hcl_string;
use crate::error::TfError;
use std::path::{Path, PathBuf};

/// The file `prepare` writes the backend into (replacing the bundle's placeholder).
pub const BACKEND_FILE: &str = "backend.tf";
/// The AWS-emulator override written when `aws_endpoint` is set.
pub const ENDPOINT_OVERRIDE_FILE: &str = "zz_autodeploy_endpoint_override.tf";
/// The saved plan `plan` writes and `apply` applies.
pub const PLAN_FILE: &str = "plan.tfplan";

/// Every AWS service the rendered bundles call, pointed at the emulator by
/// the endpoint override.
pub const AWS_EMULATED_SERVICES: &[&str] = &[
    "acm",
    "apigateway",
    "applicationautoscaling",
    "autoscaling",
    "cloudfront",
    "cloudwatch",
    "codebuild",
    "ec2",
    "ecr",
    "ecs",
    "eks",
    "elasticache",
    "elb",
    "elbv2",
    "iam",
    "kms",
    "lambda",
    "logs",
    "rds",
    "route53",
    "s3",
    "secretsmanager",
    "ssm",
    "sts",
];

/// Where a deployment's state (and its lock) lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// `terraform.tfstate` in the workspace directory; the lock is the
    /// process's file lock. One directory per deployment.
    Local,
    /// PostgreSQL (`backend "pg"`), one schema per deployment. The connection
    /// string reaches terraform only as the `PG_CONN_STR` environment
    /// variable: it is never written to a file and is redacted from logs.
    Pg { conn_str: String, schema: String },
    /// An S3 object with an S3 lock file next to it (`use_lockfile = true`).
    /// Credentials come from the environment (AWS_*), never from files.
    S3 {
        bucket: String,
        key: String,
        region: String,
    },
}

/// One deployment's Terraform working directory and how to run it.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The folder holding the bundle's `.tf` files (the bundle's `terraform/`).
    pub dir: PathBuf,
    pub backend: Backend,
    /// Input variables, passed as `TF_VAR_<name>` environment variables (so
    /// they appear neither in files nor in process listings).
    pub vars: Vec<(String, String)>,
    /// TEST FACILITY: when set, every AWS service the bundles use (and the S3
    /// backend) is pointed at this URL — an AWS emulator such as moto — with
    /// dummy credentials and retries capped at one. Never set it for a real
    /// deployment.
    pub aws_endpoint: Option<String>,
}

fn valid_name(s: &str, max: usize, extra: &[char]) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || extra.contains(&c))
}

impl Workspace {
    /// A workspace with no variables and no emulator.
    pub fn new(dir: impl Into<PathBuf>, backend: Backend) -> Self {
        Workspace {
            dir: dir.into(),
            backend,
            vars: Vec::new(),
            aws_endpoint: None,
        }
    }

    /// Adds an input variable.
    pub fn var(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.vars.push((name.into(), value.into()));
        self
    }

    fn invalid(&self, what: String) -> TfError {
        TfError::InvalidWorkspace {
            dir: self.dir.clone(),
            what,
        }
    }

    /// Checks names that end up in files or environment variable names.
    pub(crate) fn validate(&self) -> Result<(), TfError> {
        for (name, _) in &self.vars {
            if !valid_name(name, 128, &['-']) {
                return Err(self.invalid(format!(
                    "variable name {name:?} is not a Terraform identifier (letters, digits, _ and -, starting with a letter)"
                )));
            }
        }
        match &self.backend {
            Backend::Local => {}
            Backend::Pg { schema, .. } => {
                if !valid_name(schema, 63, &[]) {
                    return Err(self.invalid(format!(
                        "PostgreSQL schema {schema:?} must be 1-63 letters, digits or _, starting with a letter or _"
                    )));
                }
            }
            Backend::S3 {
                bucket,
                key,
                region,
            } => {
                let bucket_ok = (3..=63).contains(&bucket.len())
                    && bucket.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'
                    });
                if !bucket_ok {
                    return Err(self.invalid(format!(
                        "S3 bucket {bucket:?} is not a valid bucket name (3-63 lowercase letters, digits, '-' or '.')"
                    )));
                }
                if key.is_empty() || key.starts_with('/') || key.ends_with('/') {
                    return Err(self.invalid(format!(
                        "S3 state key {key:?} must be a non-empty object key without leading or trailing '/'"
                    )));
                }
                if region.is_empty()
                    || !region
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                {
                    return Err(self.invalid(format!("AWS region {region:?} is not a region code")));
                }
            }
        }
        Ok(())
    }

    /// (Re)writes `backend.tf` for the backend and writes (or, when
    /// `aws_endpoint` is unset, removes) the endpoint override file.
    pub fn prepare(&self) -> Result<(), TfError> {
        self.validate()?;
        if !self.dir.is_dir() {
            return Err(self.invalid(
                "the directory does not exist; write the bundle there first".to_string(),
            ));
        }
        write(&self.dir.join(BACKEND_FILE), &self.backend_text())?;
        let override_path = self.dir.join(ENDPOINT_OVERRIDE_FILE);
        let site_override = self.dir.join(SITE_POLICY_OVERRIDE_FILE);
        match &self.aws_endpoint {
            Some(url) => {
                write(&override_path, &endpoint_override_text(url))?;
                let site = std::fs::read_to_string(self.dir.join("static_site.tf"))
                    .is_ok_and(|t| t.contains(SITE_POLICY_RESOURCE));
                if site {
                    write(&site_override, SITE_POLICY_OVERRIDE)?;
                } else {
                    remove_stale(&site_override)?;
                }
            }
            None => {
                remove_stale(&override_path)?;
                remove_stale(&site_override)?;
            }
        }
        Ok(())
    }

    /// The text of `backend.tf` for this workspace.
    pub fn backend_text(&self) -> String {
        let head = "# Written by autodeploy's Terraform runner: this deployment's own state.\n\
                    # Rewritten before every init; edits here are lost.\n";
        let body = match &self.backend {
            Backend::Local => "terraform {\n  backend \"local\" {}\n}\n".to_string(),
            Backend::Pg { schema, .. } => format!(
                "# The connection string comes from the PG_CONN_STR environment variable.\n\
                 terraform {{\n  backend \"pg\" {{\n    schema_name = {}\n  }}\n}}\n",
                hcl_string(schema)
            ),
            Backend::S3 {
                bucket,
                key,
                region,
            } => {
                let mut s = format!(
                    "# Credentials come from the environment (AWS_*).\n\
                     terraform {{\n  backend \"s3\" {{\n    bucket       = {}\n    key          = {}\n    region       = {}\n    encrypt      = true\n    use_lockfile = true\n",
                    hcl_string(bucket),
                    hcl_string(key),
                    hcl_string(region)
                );
                if let Some(url) = &self.aws_endpoint {
                    let u = hcl_string(url);
                    s.push_str(&format!(
                        "\n    # TEST FACILITY: the AWS emulator at {url}\n\
                         \x20   endpoints = {{\n      s3  = {u}\n      sts = {u}\n    }}\n\
                         \x20   use_path_style              = true\n\
                         \x20   access_key                  = \"test\"\n\
                         \x20   secret_key                  = \"test\"\n\
                         \x20   skip_credentials_validation = true\n\
                         \x20   skip_requesting_account_id  = true\n\
                         \x20   skip_metadata_api_check     = true\n\
                         \x20   skip_region_validation      = true\n\
                         \x20   skip_s3_checksum            = true\n"
                    ));
                }
                s.push_str("  }\n}\n");
                s
            }
        };
        format!("{head}{body}")
    }

    /// Environment variables this workspace adds to every terraform call.
    pub(crate) fn env(&self) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = self
            .vars
            .iter()
            .map(|(k, v)| (format!("TF_VAR_{k}"), v.clone()))
            .collect();
        if let Backend::Pg { conn_str, .. } = &self.backend {
            env.push(("PG_CONN_STR".into(), conn_str.clone()));
        }
        if self.aws_endpoint.is_some() {
            env.push(("AWS_MAX_ATTEMPTS".into(), "1".into()));
        }
        env
    }

    pub(crate) fn plan_path(&self) -> PathBuf {
        self.dir.join(PLAN_FILE)
    }
}

/// TEST FACILITY: the provider override that sends every AWS call the bundles
/// make to an emulator (moto), with dummy credentials, no account/region
/// lookups and retries capped at three (an emulator answers 500 to calls it
/// does not implement, and default retries would hang an apply for minutes;
/// a single attempt, tried before, failed a whole destroy when a loaded
/// emulator dropped one connection: "use of closed network connection").
pub fn endpoint_override_text(url: &str) -> String {
    let u = hcl_string(url);
    let mut s = format!(
        "# TEST FACILITY written by autodeploy's Terraform runner because an AWS\n\
         # emulator endpoint was configured ({url}). Never part of a real deployment.\n\
         provider \"aws\" {{\n\
         \x20 access_key                  = \"test\"\n\
         \x20 secret_key                  = \"test\"\n\
         \x20 skip_credentials_validation = true\n\
         \x20 skip_metadata_api_check     = true\n\
         \x20 skip_requesting_account_id  = true\n\
         \x20 skip_region_validation      = true\n\
         \x20 s3_use_path_style           = true\n\
         \x20 max_retries                 = 3\n\n\
         \x20 endpoints {{\n"
    );
    let width = AWS_EMULATED_SERVICES
        .iter()
        .map(|s| s.len())
        .max()
        .unwrap_or(0);
    for svc in AWS_EMULATED_SERVICES {
        s.push_str(&format!("    {svc:<width$} = {u}\n"));
    }
    s.push_str("  }\n}\n");
    s
}

/// TEST FACILITY: the emulator-only override of a static site's bucket
/// policy. moto (5.x) evaluates a bucket policy's Deny statements without
/// their conditions, so the bundle's "deny plain http"
/// (`aws:SecureTransport = false`) denies every upload, https or not; real
/// S3 applies it to plain-http requests only. With the emulator, the policy
/// is not created (nothing is served from it there anyway).
pub const SITE_POLICY_OVERRIDE_FILE: &str = "zz_autodeploy_emulator_site_override.tf";
const SITE_POLICY_RESOURCE: &str = "resource \"aws_s3_bucket_policy\" \"site\"";
const SITE_POLICY_OVERRIDE: &str =
    "# TEST FACILITY written by autodeploy's Terraform runner because an AWS\n\
# emulator endpoint was configured: moto applies the site bucket's Deny\n\
# statement without its condition. Never part of a real deployment.\n\
resource \"aws_s3_bucket_policy\" \"site\" {\n  count = 0\n}\n";

fn remove_stale(path: &Path) -> Result<(), TfError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(TfError::Io {
            action: "remove the stale emulator override",
            path: path.to_path_buf(),
            source: e,
        }),
        _ => Ok(()),
    }
}

fn write(path: &Path, text: &str) -> Result<(), TfError> {
    std::fs::write(path, text).map_err(|source| TfError::Io {
        action: "write",
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_backend_names_the_schema_but_never_the_connection_string() {
        let ws = Workspace::new(
            "/tmp/x",
            Backend::Pg {
                conn_str: "postgres://u:sekrit-pw@h/db".into(),
                schema: "dep_123".into(),
            },
        );
        let text = ws.backend_text();
        assert!(text.contains("backend \"pg\""));
        assert!(text.contains("schema_name = \"dep_123\""));
        assert!(!text.contains("sekrit"));
        assert!(ws
            .env()
            .contains(&("PG_CONN_STR".into(), "postgres://u:sekrit-pw@h/db".into())));
    }

    #[test]
    fn bad_names_are_refused_before_anything_is_written() {
        let bad_schema = Workspace::new(
            "/tmp/x",
            Backend::Pg {
                conn_str: String::new(),
                schema: "x\"; drop".into(),
            },
        );
        assert!(matches!(
            bad_schema.validate(),
            Err(TfError::InvalidWorkspace { .. })
        ));
        let bad_var = Workspace::new("/tmp/x", Backend::Local).var("a=b", "1");
        assert!(bad_var.validate().is_err());
        let bad_bucket = Workspace::new(
            "/tmp/x",
            Backend::S3 {
                bucket: "Bad_Bucket".into(),
                key: "k".into(),
                region: "us-east-1".into(),
            },
        );
        assert!(bad_bucket.validate().is_err());
    }

    #[test]
    fn s3_backend_uses_a_lock_file() {
        let ws = Workspace::new(
            "/tmp/x",
            Backend::S3 {
                bucket: "state-bucket".into(),
                key: "deployments/d1.tfstate".into(),
                region: "eu-central-1".into(),
            },
        );
        let text = ws.backend_text();
        assert!(text.contains("use_lockfile = true"));
        assert!(!text.contains("endpoints"));
    }

    #[test]
    fn override_covers_every_service_and_caps_retries() {
        let text = endpoint_override_text("http://127.0.0.1:4566");
        assert!(text.contains("max_retries                 = 3"));
        for svc in AWS_EMULATED_SERVICES {
            assert!(
                text.contains(&format!("    {svc} ")),
                "{svc} missing:\n{text}"
            );
        }
    }
}
