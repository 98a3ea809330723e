//! Rust detector — not written yet: recognises nothing.

use crate::ctx::Ctx;
use crate::detectors::Detector;
use crate::draft::Draft;

pub struct Rust;

impl Detector for Rust {
    fn name(&self) -> &'static str {
        "rust"
    }
    fn markers(&self) -> &'static [&'static str] {
        &[]
    }
    fn detect(&self, _ctx: &Ctx, _dir: &str) -> Vec<Draft> {
        Vec::new()
    }
}
