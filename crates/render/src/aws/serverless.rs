//! AWS Lambda (strategy `serverless`): one web service run unchanged behind
//! the AWS Lambda Web Adapter, packaged as a zip on the managed Python or
//! Node.js runtime with the adapter as a layer (its ARN is a variable with a
//! per-region default), exposed through a public function URL, with an IAM
//! role, a CloudWatch log group with retention, the plan's plain environment
//! variables, memory and a reserved-concurrency cap from the plan; in the
//! plan's private subnets when there is a network. Also `lambda/run.sh`, the
//! start script the adapter runs.
//!
//! Not here: building the zip (the deploy stage does, see the template's
//! header), the VPC (network.rs), data stores (data.rs). Secret values and
//! values that only exist at start (database URLs, the service's own URL) are
//! not supported on Lambda yet and fail with a clear error rather than being
//! written into environment variables.

use crate::{BundleFile, RenderError};
use autodeploy_core::{
    Decision, DeploymentOutput, EnvValue, Environment, Hosting, Language, ServiceKind, SubnetTier,
};
use serde::Serialize;

/// Version of the AWS Lambda Web Adapter layer the default ARN points at.
const ADAPTER_LAYER_VERSION: u32 = 25;
/// AWS's account that publishes the Web Adapter layer.
const ADAPTER_LAYER_ACCOUNT: &str = "753240598075";
/// Longest request, seconds, when the plan says nothing.
const DEFAULT_TIMEOUT_SECONDS: u32 = 30;

#[derive(Serialize)]
struct Ctx {
    service_label: String,
    runtime: String,
    family: &'static str,
    layer_arn: String,
    memory_mib: u32,
    timeout_seconds: u32,
    max_concurrency: u32,
    log_retention_days: u32,
    env_lines: Vec<String>,
    /// Bundle input variables (plain identifiers) the environment reads.
    inputs: Vec<String>,
    vpc: bool,
    subnet_tier: &'static str,
    port: u16,
    start: String,
}

/// The managed Lambda runtime for a language version, when there is one.
fn lambda_runtime(family: &str, version: &str) -> Option<String> {
    match family {
        "python" if ["3.9", "3.10", "3.11", "3.12", "3.13"].contains(&version) => {
            Some(format!("python{version}"))
        }
        "node" if ["18", "20", "22"].contains(&version) => Some(format!("nodejs{version}.x")),
        _ => None,
    }
}

/// Days of logs kept: a year in production, a month elsewhere.
pub(crate) fn log_retention_days(d: &Decision) -> u32 {
    match d.environment {
        Environment::Production => 365,
        _ => 30,
    }
}

/// `"KEY" = value` lines of an HCL object (keys escaped here, values already
/// HCL expressions), `=` aligned as `terraform fmt` does.
fn aligned(pairs: &[(String, String)]) -> Vec<String> {
    let keys: Vec<String> = pairs.iter().map(|(k, _)| crate::escape::hcl(k)).collect();
    let width = keys.iter().map(|k| k.chars().count()).max().unwrap_or(0);
    keys.iter()
        .zip(pairs)
        .map(|(k, (_, v))| {
            let pad = width - k.chars().count();
            format!("{k}{} = {v}", " ".repeat(pad))
        })
        .collect()
}

/// Environment variables Lambda sets itself and refuses in a configuration.
const LAMBDA_RESERVED_ENV: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// A name Lambda accepts for an environment variable: `[a-zA-Z][a-zA-Z0-9_]+`, not reserved.
fn valid_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !LAMBDA_RESERVED_ENV.contains(&name)
}

/// Variables this bundle declares itself; an input may not reuse their names.
const TAKEN_VARIABLES: &[&str] = &["region", "name", "environment", "app_commit"];

/// An input variable name Terraform accepts and nothing else declares.
fn valid_input(variable: &str) -> bool {
    let mut chars = variable.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !TAKEN_VARIABLES.contains(&variable)
        && !variable.starts_with("lambda_")
}

pub fn render(d: &Decision) -> Result<Vec<BundleFile>, RenderError> {
    let [svc] = d.services.as_slice() else {
        return Err(crate::unsupported(
            d,
            "several services on Lambda",
            "the serverless bundle runs one web service; use the container strategy for several",
        ));
    };
    if svc.hosting != Hosting::Lambda || svc.kind != ServiceKind::Web {
        return Err(crate::unsupported(
            d,
            "a service that is not a web app on Lambda",
            "Lambda here serves one HTTP app; workers and static sites need another strategy",
        ));
    }
    let (Some(port), Some(start)) = (svc.port, svc.start.as_deref()) else {
        return Err(crate::unsupported(
            d,
            "a web service without a port or start command",
            "the Web Adapter starts the app and forwards requests to its port",
        ));
    };
    let family = match svc.runtime.family.as_str() {
        "python" => "python",
        "node" => "node",
        _ => "",
    };
    let Some(runtime) = lambda_runtime(family, &svc.runtime.version) else {
        return Err(crate::unsupported(
            d,
            &format!(
                "{} {} on Lambda",
                svc.runtime.family, svc.runtime.version
            ),
            "the Lambda bundle uses the managed Python (3.9–3.13) and Node.js (18/20/22) runtimes; use the container strategy for others",
        ));
    };
    if svc.dockerfile.is_some() || svc.runtime.language == Language::Unknown {
        return Err(crate::unsupported(
            d,
            "a project Dockerfile on Lambda",
            "the Lambda bundle packages the source as a zip; use the container strategy to run the project's Dockerfile",
        ));
    }

    let hcl = crate::escape::hcl;
    let mut env: Vec<(String, String)> = vec![
        ("AWS_LAMBDA_EXEC_WRAPPER".into(), hcl("/opt/bootstrap")),
        ("AWS_LWA_PORT".into(), hcl(&port.to_string())),
    ];
    if let Some(hc) = &svc.health_check {
        env.push(("AWS_LWA_READINESS_CHECK_PATH".into(), hcl(&hc.path)));
    }
    let mut inputs: Vec<String> = Vec::new();
    for b in &svc.env {
        if !valid_env_name(&b.name) {
            return Err(crate::unsupported(
                d,
                &format!("the environment variable name {:?} on Lambda", b.name),
                "Lambda takes names of letters, digits and _ (starting with a letter) and sets AWS_* / LAMBDA_* runtime names itself",
            ));
        }
        let value = match &b.value {
            EnvValue::Literal { value } if !b.secret => hcl(value),
            EnvValue::Deployment {
                output: DeploymentOutput::Port,
            } => hcl(&port.to_string()),
            EnvValue::Input { variable } if !b.secret => {
                if !valid_input(variable) {
                    return Err(crate::unsupported(
                        d,
                        &format!("the input variable {variable:?}"),
                        "input variables need a plain identifier that no built-in variable uses",
                    ));
                }
                if !inputs.contains(variable) {
                    inputs.push(variable.clone());
                }
                format!("var.{variable}")
            }
            _ => {
                return Err(crate::unsupported(
                    d,
                    &format!("the environment variable {:?} on Lambda", b.name),
                    "Lambda takes plain values only; secrets, database/cache addresses and the service's own URL need the container strategy for now",
                ))
            }
        };
        if env.iter().any(|(k, _)| *k == b.name) {
            continue;
        }
        env.push((b.name.clone(), value));
    }

    let scaling_max = svc.scaling.as_ref().map_or(10, |s| s.max.max(1));
    let vpc = d.network.is_some();
    let subnet_tier = match d.network.as_ref().map(|n| n.app_subnet_tier) {
        Some(SubnetTier::Public) => "public",
        _ => "private",
    };
    let ctx = Ctx {
        service_label: svc.name.replace(|c: char| c.is_control(), " "),
        runtime,
        family,
        layer_arn: format!(
            "arn:aws:lambda:{}:{ADAPTER_LAYER_ACCOUNT}:layer:LambdaAdapterLayerX86:{ADAPTER_LAYER_VERSION}",
            d.region
        ),
        memory_mib: svc
            .compute
            .as_ref()
            .and_then(|c| c.memory_mib)
            .unwrap_or(1024)
            .clamp(128, 10240),
        timeout_seconds: DEFAULT_TIMEOUT_SECONDS,
        max_concurrency: scaling_max,
        log_retention_days: log_retention_days(d),
        env_lines: aligned(&env),
        inputs,
        vpc,
        subnet_tier,
        port,
        start: start.to_string(),
    };
    let mut run = crate::file("lambda/run.sh", "aws/serverless/lambda/run.sh", &ctx)?;
    run.executable = true;
    Ok(vec![
        crate::file(
            "terraform/serverless.tf",
            "aws/serverless/terraform/serverless.tf",
            &ctx,
        )?,
        run,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtimes() {
        assert_eq!(
            lambda_runtime("python", "3.12").as_deref(),
            Some("python3.12")
        );
        assert_eq!(lambda_runtime("node", "20").as_deref(), Some("nodejs20.x"));
        assert_eq!(lambda_runtime("go", "1.22"), None);
        assert_eq!(lambda_runtime("python", "2.7"), None);
    }

    #[test]
    fn env_lines_align_like_terraform_fmt() {
        let lines = aligned(&[
            ("A".into(), "\"1\"".into()),
            ("LONG_${x}".into(), "var.x".into()),
        ]);
        assert_eq!(lines[0], r#""A"          = "1""#);
        assert_eq!(lines[1], r#""LONG_$${x}" = var.x"#);
    }

    #[test]
    fn env_names_lambda_accepts() {
        assert!(valid_env_name("APP_MODE_"));
        assert!(!valid_env_name("AWS_REGION"));
        assert!(!valid_env_name("A-B"));
        assert!(!valid_env_name("_X"));
    }

    #[test]
    fn input_names_are_plain_and_free() {
        assert!(valid_input("app_mode"));
        assert!(!valid_input("region"));
        assert!(!valid_input("lambda_package"));
        assert!(!valid_input("x}\"\nresource"));
        assert!(!valid_input("1abc"));
    }
}
