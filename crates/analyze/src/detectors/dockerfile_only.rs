//! Dockerfile-only apps: a folder whose only evidence is a Dockerfile. The
//! base image names the language; `EXPOSE`/`CMD` (added by the Dockerfile
//! overlay in `config/dockerfile.rs`) give the port and start command.
//!
//! Weak on purpose: when a language detector recognises the same folder, its
//! draft wins and the Dockerfile only contributes config claims to it. A
//! Dockerfile built on a database or cache image (`FROM postgres:16` plus
//! init scripts) is not an app: compose wires it as a data service; nor is
//! a web server image configured only to proxy to the other services
//! (`dockerfile::reverse_proxy`): every target gives the app its own front.

use crate::config::dockerfile;
use crate::ctx::Ctx;
use crate::detectors::Detector;
use crate::draft::{ev, Draft};
use autodeploy_core::{Language, ServiceKind};

pub struct DockerfileOnly;

impl Detector for DockerfileOnly {
    fn name(&self) -> &'static str {
        "dockerfile"
    }
    fn markers(&self) -> &'static [&'static str] {
        dockerfile::NAMES
    }
    fn detect(&self, ctx: &Ctx, dir: &str) -> Vec<Draft> {
        let Some(path) = dockerfile::find(ctx, dir) else {
            return Vec::new();
        };
        let Some(text) = ctx.read_path(&path) else {
            return Vec::new();
        };
        let info = dockerfile::parse(&text);
        let Some((image, _)) = &info.base_image else {
            return Vec::new();
        };
        // A database or cache image (`FROM postgres:16` plus init scripts) is
        // a data service the app uses, not an app (compose.rs wires it).
        if crate::config::compose::database_of_image(image).is_some() {
            return Vec::new();
        }
        // A web server configured only to pass requests to other services
        // is their front, which every target provides itself.
        if dockerfile::reverse_proxy(ctx, dir, &text).is_some() {
            return Vec::new();
        }
        let mut d = Draft::new(dir, Language::Unknown, ServiceKind::Web);
        d.strength = 2.0;
        d.dockerfile = Some(path.clone());
        if let Some((image, line)) = &info.base_image {
            if let Some(lang) = dockerfile::language_of_image(image) {
                d.language = lang;
                d.note("language", ev(&path, Some(*line), format!("FROM {image}")));
            }
            if d.language == Language::Html && info.cmd.is_none() {
                d.kind = ServiceKind::Static;
            }
        }
        vec![d]
    }
}
