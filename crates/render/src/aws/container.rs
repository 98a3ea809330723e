//! AWS ECS Fargate (container strategy) — not written yet.

use crate::{BundleFile, RenderError};
use autodeploy_core::Decision;

pub fn render(d: &Decision) -> Result<Vec<BundleFile>, RenderError> {
    Err(crate::unsupported(
        d,
        "ECS Fargate (container strategy)",
        "not written yet",
    ))
}
