//! StaticSite detector — not written yet: recognises nothing.

use crate::ctx::Ctx;
use crate::detectors::Detector;
use crate::draft::Draft;

pub struct StaticSite;

impl Detector for StaticSite {
    fn name(&self) -> &'static str {
        "static_site"
    }
    fn markers(&self) -> &'static [&'static str] {
        &[]
    }
    fn detect(&self, _ctx: &Ctx, _dir: &str) -> Vec<Draft> {
        Vec::new()
    }
}
