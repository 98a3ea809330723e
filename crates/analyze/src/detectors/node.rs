//! Node detector — not written yet: recognises nothing.

use crate::ctx::Ctx;
use crate::detectors::Detector;
use crate::draft::Draft;

pub struct Node;

impl Detector for Node {
    fn name(&self) -> &'static str {
        "node"
    }
    fn markers(&self) -> &'static [&'static str] {
        &[]
    }
    fn detect(&self, _ctx: &Ctx, _dir: &str) -> Vec<Draft> {
        Vec::new()
    }
}
