//! Parse stage: one sentence of plain English → a typed deployment [`Intent`].
//!
//! - [`parse`] — the rules: pure, no I/O, well under a millisecond. It sets a
//!   field only when the text supports it and never applies defaults (decide
//!   does that).
//! - [`parse_with`] — the same, optionally asking an LLM (OpenAI, Anthropic or
//!   any OpenAI-compatible server such as Ollama) for a schema-valid proposal,
//!   merged with the rules so that no value the text does not support
//!   survives (module `merge` documents the rule). Any LLM failure —
//!   missing key, timeout, HTTP error, refusal, invalid JSON, schema violation
//!   — falls back to the rules and says why in [`ParseOutcome::fallback`].
//! - [`summarize`] — the "Understood: …" reading for people.
//!
//! Input: only the first [`MAX_INPUT_BYTES`] bytes are read (a request is one
//! sentence); within them every pass is linear, so hostile input stays fast.
//!
//! What this crate deliberately is not: a decision maker. It does not pick
//! clouds, sizes or regions the text leaves open.

mod cache;
pub mod llm;
mod merge;
mod rules;
mod summary;

pub use autodeploy_core::Intent;
pub use llm::{ConfigError, LlmError, LlmSettings, Provider, DEFAULT_TIMEOUT};
pub use rules::text::MAX_INPUT_BYTES;
pub use summary::summarize;

use std::path::PathBuf;

/// How much of a request is sent to a model.
const MAX_LLM_INPUT_BYTES: usize = 16 * 1024;

/// A request text that cannot be read at all. The CLI and the API both ask
/// [`check_request`], so both refuse the same texts with the same words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error(
        "the request is empty: say what to deploy where, e.g. \"deploy on AWS with Postgres\""
    )]
    Empty,
    #[error("the request is longer than {MAX_INPUT_BYTES} bytes; say it in fewer words")]
    TooLong,
}

impl RequestError {
    /// The stable code (`--json` errors and API answers).
    pub fn code(&self) -> &'static str {
        "invalid_request_text"
    }
}

/// Refuse an empty (or blank) request, and one longer than [`MAX_INPUT_BYTES`].
pub fn check_request(text: &str) -> Result<(), RequestError> {
    if text.trim().is_empty() {
        return Err(RequestError::Empty);
    }
    if text.len() > MAX_INPUT_BYTES {
        return Err(RequestError::TooLong);
    }
    Ok(())
}

/// Parse a request with the rules alone.
pub fn parse(text: &str) -> Intent {
    rules::analyze(text).intent
}

/// Options for [`parse_with`]. `Default` means "rules only".
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// Ask this model too; `None` for rules only.
    pub llm: Option<LlmSettings>,
    /// Cache validated model answers here (keyed by provider, model and text).
    pub cache_dir: Option<PathBuf>,
}

/// Which parser produced the Intent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    /// The rule-based parser alone (no LLM configured, or it failed: see `fallback`).
    Rules,
    /// A model's proposal merged with the rules.
    Llm {
        provider: Provider,
        model: String,
        cached: bool,
    },
}

/// The result of [`parse_with`].
#[derive(Debug, Clone)]
pub struct ParseOutcome {
    pub intent: Intent,
    pub method: Method,
    /// Why fields were left unset on purpose (ambiguity, a region of another
    /// cloud, a currency that is not USD…) and model values that were dropped.
    pub notes: Vec<String>,
    /// The LLM was configured but its answer was not used.
    pub fallback: Option<LlmError>,
}

impl ParseOutcome {
    /// A one-line notice for people when the LLM was configured but not used.
    pub fn fallback_notice(&self) -> Option<String> {
        self.fallback
            .as_ref()
            .map(|e| format!("LLM not used, fell back to the rule-based parser: {e}"))
    }
}

fn cap(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Parse a request with the rules and, when configured, an LLM. Never fails:
/// LLM problems become [`ParseOutcome::fallback`].
pub fn parse_with(text: &str, options: &ParseOptions) -> ParseOutcome {
    let analysis = rules::analyze(text);
    let rules_only = |fallback: Option<LlmError>, notes: Vec<String>| ParseOutcome {
        intent: analysis.intent.clone(),
        method: Method::Rules,
        notes,
        fallback,
    };
    let Some(settings) = &options.llm else {
        return rules_only(None, analysis.notes.clone());
    };
    let prompt = cap(text, MAX_LLM_INPUT_BYTES);
    if prompt.trim().is_empty() {
        let mut notes = analysis.notes.clone();
        notes.push("the request is empty; the model was not asked".into());
        return rules_only(None, notes);
    }
    let disk = options.cache_dir.as_deref().map(cache::DiskCache::new);
    let mut notes = analysis.notes.clone();
    let (answer, cached) = match disk
        .as_ref()
        .and_then(|c| c.get(settings.provider, &settings.model, prompt))
    {
        Some(hit) => (Ok(hit), true),
        None => (llm::ask(settings, prompt), false),
    };
    match answer {
        Ok(proposal) => {
            if !cached {
                if let Some(c) = &disk {
                    if let Err(e) = c.put(settings.provider, &settings.model, prompt, &proposal) {
                        notes.push(format!("could not write the LLM cache: {e}"));
                    }
                }
            }
            let merged = merge::merge(&analysis.intent, &analysis.evidence, &proposal);
            notes.extend(merged.dropped);
            ParseOutcome {
                intent: merged.intent,
                method: Method::Llm {
                    provider: settings.provider,
                    model: settings.model.clone(),
                    cached,
                },
                notes,
                fallback: None,
            }
        }
        Err(e) => rules_only(Some(e), notes),
    }
}
