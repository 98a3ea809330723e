//! Post-apply steps Terraform cannot do, per hosting: upload the source and
//! build the image (ECS), publish the function package (Lambda), upload the
//! site (S3 + CloudFront). VMs need none: their cloud-init fetches the code.
//!
//! Deliberately thin: the AWS calls themselves live in `autodeploy-aws`.

use crate::config::ExecConfig;
use crate::report::Reporter;
use autodeploy_core::{Decision, Hosting, LogStream};
use serde_json::{Map, Value};
use std::path::Path;

pub fn release(
    cfg: &ExecConfig,
    d: &Decision,
    outputs: &Map<String, Value>,
    source_root: &Path,
    rep: &dyn Reporter,
) -> Result<(), String> {
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
    let client = autodeploy_aws::AwsClient::from_env(&d.region, cfg.aws_endpoint.as_deref())
        .map_err(|e| e.to_string())?;
    // An emulator never finishes builds or rollouts: do the calls, skip the waits.
    let wait = cfg.aws_endpoint.is_none();
    let opts = autodeploy_aws::ReleaseOptions {
        wait,
        ..Default::default()
    };
    if hostings.contains(&Hosting::EcsFargate) {
        autodeploy_aws::release_container(&client, outputs, source_root, &opts, &sink)
            .map_err(|e| e.to_string())?;
    }
    if hostings.iter().any(|h| !h.release_automated()) {
        // Refused before apply by `check_automated`; never half-done here.
        return Err(
            "Lambda packages and static-site builds are not released by autodeploy yet".into(),
        );
    }
    Ok(())
}
