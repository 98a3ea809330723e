//! Dotnet detector — not written yet: recognises nothing.

use crate::ctx::Ctx;
use crate::detectors::Detector;
use crate::draft::Draft;

pub struct Dotnet;

impl Detector for Dotnet {
    fn name(&self) -> &'static str {
        "dotnet"
    }
    fn markers(&self) -> &'static [&'static str] {
        &[]
    }
    fn detect(&self, _ctx: &Ctx, _dir: &str) -> Vec<Draft> {
        Vec::new()
    }
}
