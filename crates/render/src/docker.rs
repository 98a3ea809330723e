//! Dockerfile + .dockerignore per service that runs code — not written yet.

use crate::{BundleFile, RenderError};
use autodeploy_core::{Analysis, Decision};

pub fn render(_d: &Decision, _a: &Analysis) -> Result<Vec<BundleFile>, RenderError> {
    Ok(Vec::new())
}
