//! AWS ACM + Route53 — not written yet: renders nothing, so a decision that needs it
//! fails loudly in render (see `render` below) rather than silently.

use crate::{BundleFile, RenderError};
use autodeploy_core::Decision;

pub fn render(d: &Decision) -> Result<Vec<BundleFile>, RenderError> {
    let needed = d.tls.certificate.is_some();
    if needed {
        return Err(crate::unsupported(d, "ACM + Route53", "not written yet"));
    }
    Ok(Vec::new())
}
