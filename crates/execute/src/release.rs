//! Post-apply steps Terraform cannot do, per hosting: upload the source,
//! build the image, run each service's release step once as a one-off task
//! and roll the services (ECS), publish the function package (Lambda),
//! upload the site (S3 + CloudFront). VMs need none: their cloud-init
//! fetches the code.
//!
//! Deliberately thin: the AWS calls themselves live in `autodeploy-aws`.

use crate::config::ExecConfig;
use crate::report::Reporter;
use crate::ExecError;
use autodeploy_core::{Decision, Hosting, LogStream};
use serde_json::{Map, Value};
use std::path::Path;

/// Before anything is created on AWS: resolve the credentials by the
/// default chain and ask STS who they are (GetCallerIdentity) in the
/// deployment's region — through the emulator endpoint when one is set. A
/// failure stops the deployment with what to do. Terraform runs with the
/// same environment, so its AWS provider resolves the same chain to the
/// same identity; nothing is written to files.
///
/// Then the permissions: IAM's policy simulator is asked, for the caller's
/// user or role, about the action creating each resource type of the
/// bundle and the actions the release calls; a denied one stops here with
/// the list. When the simulator cannot answer (no right to simulate, the
/// root user, an emulator) that is said and the deploy goes on.
pub fn preflight(
    cfg: &ExecConfig,
    d: &Decision,
    bundle: &autodeploy_render::Bundle,
    rep: &dyn Reporter,
) -> Result<autodeploy_aws::Identity, ExecError> {
    let client = autodeploy_aws::AwsClient::from_env(&d.region, cfg.aws_endpoint.as_deref())
        .map_err(ExecError::Preflight)?;
    let id = client.caller_identity().map_err(ExecError::Preflight)?;
    let profile = client
        .credentials()
        .profile()
        .map(|p| format!(", profile {p}"))
        .unwrap_or_default();
    rep.log(
        LogStream::System,
        &format!(
            "AWS identity: {} (account {}, region {}{profile})",
            id.arn, id.account, d.region
        ),
    );
    let actions = needed_actions(d, bundle);
    use autodeploy_aws::permissions::{principal_arn, Verdict};
    let verdict = match principal_arn(&id.arn) {
        Some(p) => (client.simulate(&p, &actions), p),
        None => (
            Verdict::Unknown(format!(
                "the simulator takes an IAM user or role, and {} is neither (the root user, a federated user)",
                id.arn
            )),
            id.arn.clone(),
        ),
    };
    match verdict {
        (Verdict::Allowed { checked }, _) => rep.log(
            LogStream::System,
            &format!("AWS permissions: the {checked} actions this deployment needs are allowed (IAM policy simulation)"),
        ),
        (Verdict::Denied(denied), principal) => {
            return Err(ExecError::Preflight(
                autodeploy_aws::AwsError::PermissionsMissing {
                    principal,
                    denied: denied.into_iter().map(|(a, _)| a).collect(),
                },
            ))
        }
        (Verdict::Unknown(why), _) => rep.log(
            LogStream::System,
            &format!(
                "AWS permissions not checked ahead: {why}; a missing one is named by terraform at the resource that needs it"
            ),
        ),
    }
    Ok(id)
}

/// The actions creating the bundle's resources (from the Terraform files'
/// resource types) and those its release calls.
fn needed_actions(d: &Decision, bundle: &autodeploy_render::Bundle) -> Vec<&'static str> {
    let types: Vec<&str> = bundle
        .files
        .iter()
        .filter(|f| f.path.ends_with(".tf"))
        .flat_map(|f| f.contents.lines())
        .filter_map(|l| l.strip_prefix("resource \""))
        .filter_map(|r| r.split('"').next())
        .collect();
    let mut actions = autodeploy_aws::permissions::create_actions(types);
    if d.services.iter().any(|s| s.hosting == Hosting::EcsFargate) {
        for a in autodeploy_aws::permissions::RELEASE_ACTIONS_ECS {
            if !actions.contains(a) {
                actions.push(a);
            }
        }
    }
    actions
}

pub fn release(
    cfg: &ExecConfig,
    d: &Decision,
    outputs: &Map<String, Value>,
    source_root: &Path,
    rep: &dyn Reporter,
) -> Result<(), ExecError> {
    let hostings: Vec<Hosting> = d.services.iter().map(|s| s.hosting).collect();
    let sink = |s: LogStream, l: &str| rep.log(s, l);
    // Machines fetch the code themselves; anything else is pushed after apply.
    let needs_aws = hostings.iter().any(|h| !h.is_vm());
    if !needs_aws {
        rep.log(
            LogStream::System,
            "nothing to release: the machines fetch the code at the analysed commit themselves",
        );
        return Ok(());
    }
    let client = autodeploy_aws::AwsClient::from_env(&d.region, cfg.aws_endpoint.as_deref())?;
    // An emulator never finishes builds or rollouts: do the calls, skip the waits.
    let wait = cfg.aws_endpoint.is_none();
    // The image is built from an archive with the source fixes applied,
    // as the local copy and the machines are.
    let ecs = || {
        d.services
            .iter()
            .filter(|s| s.hosting == Hosting::EcsFargate)
    };
    let opts = autodeploy_aws::ReleaseOptions {
        wait,
        source_fixes: distinct(ecs().flat_map(|s| &s.source_fixes)),
        files_from_example: distinct(ecs().flat_map(|s| &s.files_from_example)),
        ..Default::default()
    };
    if hostings.contains(&Hosting::EcsFargate) {
        autodeploy_aws::release_container(&client, outputs, source_root, &opts, &sink)?;
    }
    if hostings.iter().any(|h| !h.release_automated()) {
        // Refused before apply by `check_automated`; never half-done here.
        return Err(ExecError::Invalid(
            "release failed: Lambda packages are not released by autodeploy yet".into(),
        ));
    }
    Ok(())
}

/// A static site on S3 + CloudFront: upload `built` (the site's build
/// output, made on this machine by [`crate::run`]'s site build) to the
/// bundle's bucket and invalidate the distribution. Files the new build no
/// longer has stay, so pages already open keep finding their old hashed
/// assets (the bucket's lifecycle expires old versions).
pub fn release_site(
    cfg: &ExecConfig,
    d: &Decision,
    outputs: &Map<String, Value>,
    built: &Path,
    rep: &dyn Reporter,
) -> Result<(), ExecError> {
    let sink = |s: LogStream, l: &str| rep.log(s, l);
    let client = autodeploy_aws::AwsClient::from_env(&d.region, cfg.aws_endpoint.as_deref())?;
    let opts = autodeploy_aws::ReleaseOptions {
        wait: cfg.aws_endpoint.is_none(),
        ..Default::default()
    };
    autodeploy_aws::release_static(&client, outputs, built, &opts, &sink)?;
    Ok(())
}

/// After a rollback's `terraform apply` of the previous plan: roll the ECS
/// services back onto that plan's task definitions (the bundle's services
/// ignore task-definition changes on apply; the release rolls them). No
/// build and no release step: the previous images exist, and migrations are
/// not undone. Nothing to do for other hostings.
pub fn roll_back(
    cfg: &ExecConfig,
    d: &Decision,
    outputs: &Map<String, Value>,
    rep: &dyn Reporter,
) -> Result<(), ExecError> {
    if !d.services.iter().any(|s| s.hosting == Hosting::EcsFargate) {
        return Ok(());
    }
    let sink = |s: LogStream, l: &str| rep.log(s, l);
    let client = autodeploy_aws::AwsClient::from_env(&d.region, cfg.aws_endpoint.as_deref())?;
    let opts = autodeploy_aws::ReleaseOptions {
        wait: cfg.aws_endpoint.is_none(),
        ..Default::default()
    };
    autodeploy_aws::roll_container(&client, outputs, &opts, &sink)?;
    Ok(())
}

/// Put the values given with `--secret` into the slots the bundle declared
/// for them (its `user_secrets` output: logical name → ARN) — right after
/// apply, before images roll out; a VM's launcher retries until its secrets
/// have a value. Values are never logged.
pub fn fill_user_secrets(
    cfg: &ExecConfig,
    d: &Decision,
    outputs: &Map<String, Value>,
    values: &[(String, String)],
    rep: &dyn Reporter,
) -> Result<(), ExecError> {
    if values.is_empty() {
        return Ok(());
    }
    if d.cloud != autodeploy_core::Cloud::Aws {
        return Err(ExecError::Invalid(user_secrets_unsupported(d)));
    }
    let arns = outputs.get("user_secrets").and_then(Value::as_object);
    let client = autodeploy_aws::AwsClient::from_env(&d.region, cfg.aws_endpoint.as_deref())?;
    for (given, value) in values {
        let slots = autodeploy_decide::user_values::slots_of(d, given);
        if slots.is_empty() {
            return Err(ExecError::Invalid(format!(
                "--secret {given}: no service of this deployment reads it through a secret slot (a bug in autodeploy: the plan should have made one)"
            )));
        }
        for slot in slots {
            let arn = arns
                .and_then(|m| m.get(&slot))
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    ExecError::Invalid(format!(
                        "--secret {given}: the bundle has no `user_secrets` output for slot `{slot}`; redeploy to re-render the bundle"
                    ))
                })?;
            client.secretsmanager_put(arn, value)?;
            rep.log(
                LogStream::System,
                &format!("--secret {given}: value put in AWS Secrets Manager ({slot})"),
            );
        }
    }
    Ok(())
}

/// Why values given with `--secret` cannot be filled on this cloud: said
/// before anything is created.
pub fn user_secrets_unsupported(d: &Decision) -> String {
    format!(
        "--secret values are put into the cloud's secret store by autodeploy on AWS only; on {} the slots are declared in the bundle but not filled yet — deploy without --secret and add each value as the bundle's PLAN.md says (`autodeploy plan` writes it), or use --env for values that are not secret",
        d.cloud.as_str()
    )
}

/// Each item once, in first-seen order.
fn distinct<'a, T: Clone + PartialEq + 'a>(items: impl Iterator<Item = &'a T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for i in items {
        if !out.contains(i) {
            out.push(i.clone());
        }
    }
    out
}
