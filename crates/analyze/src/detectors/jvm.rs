//! Jvm detector — not written yet: recognises nothing.

use crate::ctx::Ctx;
use crate::detectors::Detector;
use crate::draft::Draft;

pub struct Jvm;

impl Detector for Jvm {
    fn name(&self) -> &'static str {
        "jvm"
    }
    fn markers(&self) -> &'static [&'static str] {
        &[]
    }
    fn detect(&self, _ctx: &Ctx, _dir: &str) -> Vec<Draft> {
        Vec::new()
    }
}
