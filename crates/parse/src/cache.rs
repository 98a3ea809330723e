//! On-disk cache of validated LLM answers, keyed by
//! `sha256(provider \0 model \0 text)`: one small JSON file per answer under a
//! directory the caller chooses (the CLI uses `$AUTODEPLOY_HOME/cache/llm`, else
//! `~/.cache/autodeploy/llm`).
//!
//! A file holds the provider, the model and the schema-valid Intent the model
//! proposed — never the API key, never the request text (only its hash). Writes
//! go to a temporary file renamed into place, so concurrent parses never read a
//! half-written entry. A missing, unreadable or corrupt entry is a miss.
//!
//! What it deliberately is not: a store for merged results. The merge with the
//! rules runs again on every hit, so a rule fix applies to cached answers too.

use crate::llm::Provider;
use autodeploy_core::Intent;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

#[derive(Serialize, Deserialize)]
struct Entry {
    version: u32,
    provider: String,
    model: String,
    intent: Intent,
}

pub(crate) struct DiskCache {
    dir: PathBuf,
}

impl DiskCache {
    pub fn new(dir: &Path) -> DiskCache {
        DiskCache {
            dir: dir.to_path_buf(),
        }
    }

    /// The file an answer is stored in.
    pub fn path(&self, provider: Provider, model: &str, text: &str) -> PathBuf {
        let mut h = Sha256::new();
        h.update(provider.as_str().as_bytes());
        h.update([0]);
        h.update(model.as_bytes());
        h.update([0]);
        h.update(text.as_bytes());
        let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{hex}.json"))
    }

    pub fn get(&self, provider: Provider, model: &str, text: &str) -> Option<Intent> {
        let raw = std::fs::read(self.path(provider, model, text)).ok()?;
        let e: Entry = serde_json::from_slice(&raw).ok()?;
        (e.version == 1 && e.provider == provider.as_str() && e.model == model).then_some(e.intent)
    }

    pub fn put(
        &self,
        provider: Provider,
        model: &str,
        text: &str,
        intent: &Intent,
    ) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let path = self.path(provider, model, text);
        let entry = Entry {
            version: 1,
            provider: provider.as_str().into(),
            model: model.into(),
            intent: intent.clone(),
        };
        let bytes = serde_json::to_vec_pretty(&entry).map_err(std::io::Error::other)?;
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = path.with_extension(format!("tmp.{}.{seq}", std::process::id()));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, &path).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
    }
}
