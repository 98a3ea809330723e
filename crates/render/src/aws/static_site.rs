//! AWS S3 + CloudFront (static strategy) — not written yet.

use crate::{BundleFile, RenderError};
use autodeploy_core::Decision;

pub fn render(d: &Decision) -> Result<Vec<BundleFile>, RenderError> {
    Err(crate::unsupported(
        d,
        "S3 + CloudFront (static strategy)",
        "not written yet",
    ))
}
