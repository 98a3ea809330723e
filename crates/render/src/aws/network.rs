//! AWS shared files (versions.tf, variables.tf, backend, locals) and the VPC.
//! Not written yet.

use crate::{BundleFile, RenderError};
use autodeploy_core::Decision;

/// versions.tf, variables.tf, outputs shared by all strategies, backend config.
pub fn common(_d: &Decision) -> Result<Vec<BundleFile>, RenderError> {
    Ok(Vec::new())
}

/// VPC, subnets, routing, security groups.
pub fn render(d: &Decision) -> Result<Vec<BundleFile>, RenderError> {
    Err(crate::unsupported(d, "the AWS network", "not written yet"))
}
