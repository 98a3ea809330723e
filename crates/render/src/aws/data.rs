//! AWS RDS / ElastiCache / secrets — not written yet: renders nothing, so a decision that needs it
//! fails loudly in render (see `render` below) rather than silently.

use crate::{BundleFile, RenderError};
use autodeploy_core::Decision;

pub fn render(d: &Decision) -> Result<Vec<BundleFile>, RenderError> {
    let needed = d.database.is_some() || d.cache.is_some();
    if needed {
        return Err(crate::unsupported(
            d,
            "RDS / ElastiCache / secrets",
            "not written yet",
        ));
    }
    Ok(Vec::new())
}
