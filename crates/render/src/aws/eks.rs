//! AWS EKS (kubernetes strategy) — not written yet.

use crate::{BundleFile, RenderError};
use autodeploy_core::Decision;

pub fn render(d: &Decision) -> Result<Vec<BundleFile>, RenderError> {
    Err(crate::unsupported(
        d,
        "EKS (kubernetes strategy)",
        "not written yet",
    ))
}
