//! Optional LLM parsing: settings, errors, and one call that turns a request
//! into a schema-valid [`Intent`] proposed by a model.
//!
//! Providers: OpenAI (`POST {base}/v1/chat/completions`), Anthropic
//! (`POST {base}/v1/messages`), and any OpenAI-compatible server (Ollama,
//! vLLM, LM Studio, …) through the OpenAI shape.
//!
//! What it deliberately is not: the final word. A model's answer is only a
//! proposal; `crate::merge` keeps a value only when the text supports it,
//! and [`crate::parse_with`] falls back to the rules on any error here. Nothing
//! in this module writes to disk (the cache is `crate::cache`) and API keys
//! never leave [`LlmSettings`] except as a request header.

pub(crate) mod http;
pub(crate) mod schema;
pub(crate) mod wire;

use autodeploy_core::Intent;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Default time a model gets to answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Which API shape to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    OpenAi,
    Anthropic,
    /// Any server that speaks the OpenAI chat-completions API (Ollama, vLLM, …).
    OpenAiCompatible,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::OpenAi => "openai",
            Provider::Anthropic => "anthropic",
            Provider::OpenAiCompatible => "openai-compatible",
        }
    }

    fn default_base_url(self) -> &'static str {
        match self {
            Provider::OpenAi => "https://api.openai.com",
            Provider::Anthropic => "https://api.anthropic.com",
            Provider::OpenAiCompatible => "http://127.0.0.1:11434",
        }
    }

    fn default_model(self) -> Option<&'static str> {
        match self {
            Provider::OpenAi => Some("gpt-4o-mini"),
            Provider::Anthropic => Some("claude-3-5-haiku-latest"),
            Provider::OpenAiCompatible => None,
        }
    }

    fn key_variable(self) -> &'static str {
        match self {
            Provider::OpenAi => "OPENAI_API_KEY",
            Provider::Anthropic => "ANTHROPIC_API_KEY",
            Provider::OpenAiCompatible => "AUTODEPLOY_LLM_API_KEY",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Provider {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "openai" => Ok(Provider::OpenAi),
            "anthropic" | "claude" => Ok(Provider::Anthropic),
            "openai-compatible" | "openai_compatible" | "compatible" | "ollama" => {
                Ok(Provider::OpenAiCompatible)
            }
            other => Err(ConfigError::UnknownProvider(other.to_string())),
        }
    }
}

/// How to reach a model. `Debug` never prints the API key.
#[derive(Clone, PartialEq)]
pub struct LlmSettings {
    pub provider: Provider,
    pub model: String,
    /// Sent as `Authorization: Bearer` (OpenAI shape) or `x-api-key` (Anthropic).
    pub api_key: Option<String>,
    /// Scheme + host (+ optional path prefix), without `/v1/...`.
    pub base_url: String,
    pub timeout: Duration,
}

impl fmt::Debug for LlmSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmSettings")
            .field("provider", &self.provider)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The configuration could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("unknown LLM provider {0:?}: use openai, anthropic or openai-compatible (or none)")]
    UnknownProvider(String),
    #[error("the openai-compatible provider needs a model name: pass --model or set AUTODEPLOY_LLM_MODEL (e.g. llama3.1 for Ollama)")]
    MissingModel,
    #[error("AUTODEPLOY_LLM_TIMEOUT must be a number of seconds greater than 0, got {0:?}")]
    BadTimeout(String),
}

impl LlmSettings {
    /// Work out the LLM settings from an explicit provider/model (command-line
    /// flags) and environment variables (read through `env`, so tests and
    /// services can pass their own):
    ///
    /// - provider: `provider`, else `AUTODEPLOY_LLM`; `none`/`off`/`rules` disable.
    ///   Setting only `AUTODEPLOY_LLM_BASE_URL` selects `openai-compatible`.
    ///   An API key alone does not turn the LLM on: the rules stay the default.
    /// - model: `model`, else `AUTODEPLOY_LLM_MODEL`, else the provider default
    ///   (`gpt-4o-mini`, `claude-3-5-haiku-latest`; none for openai-compatible).
    /// - key: `OPENAI_API_KEY` / `ANTHROPIC_API_KEY`; for openai-compatible
    ///   `AUTODEPLOY_LLM_API_KEY`, else `OPENAI_API_KEY`, else none (Ollama needs none).
    /// - base URL: `AUTODEPLOY_LLM_BASE_URL`, else the provider's
    ///   (`http://127.0.0.1:11434` for openai-compatible, i.e. Ollama).
    /// - timeout: `AUTODEPLOY_LLM_TIMEOUT` seconds, else 10 s.
    ///
    /// `Ok(None)` means "use the rules".
    pub fn resolve(
        provider: Option<&str>,
        model: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<LlmSettings>, ConfigError> {
        let get = |k: &str| {
            env(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let chosen = provider
            .map(str::to_string)
            .or_else(|| get("AUTODEPLOY_LLM"));
        let provider = match chosen.as_deref().map(|s| s.trim().to_ascii_lowercase()) {
            Some(p) if matches!(p.as_str(), "none" | "off" | "rules" | "") => return Ok(None),
            Some(p) => p.parse::<Provider>()?,
            None if get("AUTODEPLOY_LLM_BASE_URL").is_some() => Provider::OpenAiCompatible,
            None => return Ok(None),
        };
        let model = match model
            .map(str::to_string)
            .or_else(|| get("AUTODEPLOY_LLM_MODEL"))
        {
            Some(m) => m,
            None => provider
                .default_model()
                .ok_or(ConfigError::MissingModel)?
                .to_string(),
        };
        let api_key = match provider {
            Provider::OpenAiCompatible => {
                get("AUTODEPLOY_LLM_API_KEY").or_else(|| get("OPENAI_API_KEY"))
            }
            p => get(p.key_variable()),
        };
        let base_url = get("AUTODEPLOY_LLM_BASE_URL")
            .unwrap_or_else(|| provider.default_base_url().to_string());
        let timeout = match get("AUTODEPLOY_LLM_TIMEOUT") {
            Some(t) => match t.parse::<f64>() {
                Ok(s) if s > 0.0 && s.is_finite() && s <= 600.0 => Duration::from_secs_f64(s),
                _ => return Err(ConfigError::BadTimeout(t)),
            },
            None => DEFAULT_TIMEOUT,
        };
        Ok(Some(LlmSettings {
            provider,
            model,
            api_key,
            base_url,
            timeout,
        }))
    }

    /// The endpoint for this provider: `{base}/v1/chat/completions` or `{base}/v1/messages`.
    /// A base URL that already ends in `/v1` is accepted too.
    pub fn endpoint(&self) -> String {
        let base = self.base_url.trim_end_matches('/');
        let base = base.strip_suffix("/v1").unwrap_or(base);
        match self.provider {
            Provider::Anthropic => format!("{base}/v1/messages"),
            _ => format!("{base}/v1/chat/completions"),
        }
    }
}

/// Why the model's answer was not used. Every message says what failed and
/// what to do; the caller falls back to the rules.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    #[error(
        "no API key for {provider}: set {variable}, or drop --llm to use the rule-based parser"
    )]
    MissingApiKey {
        provider: Provider,
        variable: &'static str,
    },
    #[error("{provider} did not answer within {seconds:.1} s; try again, raise AUTODEPLOY_LLM_TIMEOUT, or use the rules")]
    Timeout { provider: Provider, seconds: f64 },
    #[error("could not reach {url}: {detail}; check AUTODEPLOY_LLM_BASE_URL and the network")]
    Unreachable { url: String, detail: String },
    #[error("{provider} answered HTTP {status}: {message}; {hint}")]
    Http {
        provider: Provider,
        status: u16,
        message: String,
        hint: &'static str,
    },
    #[error("{provider} sent a response that is not the API's JSON shape ({detail}); check the base URL points at a {provider} API")]
    BadResponse { provider: Provider, detail: String },
    #[error("the model declined to answer ({detail})")]
    Refusal { detail: String },
    #[error("the model's answer is not a JSON object ({detail})")]
    InvalidJson { detail: String },
    #[error("the model's answer does not follow the Intent schema: {detail}")]
    Schema { detail: String },
}

impl LlmError {
    pub(crate) fn http(provider: Provider, status: u16, message: String) -> LlmError {
        let hint = match status {
            401 | 403 => "check the API key",
            404 => "check the model name and the base URL",
            408 | 504 => "the server timed out; try again",
            429 => "rate limited or out of quota; wait and retry, or check the plan",
            400 | 422 => "the server rejected the request; check the model name",
            500..=599 => "the provider had a server error; try again later",
            _ => "see the provider's status page",
        };
        LlmError::Http {
            provider,
            status,
            message,
            hint,
        }
    }
}

/// Ask the model for an Intent. Network I/O happens in [`http`]; the answer is
/// validated strictly by [`schema::validate`].
pub(crate) fn ask(settings: &LlmSettings, text: &str) -> Result<Intent, LlmError> {
    if settings.api_key.is_none() && settings.provider != Provider::OpenAiCompatible {
        return Err(LlmError::MissingApiKey {
            provider: settings.provider,
            variable: settings.provider.key_variable(),
        });
    }
    let (body, headers) = wire::request(settings, text);
    let url = settings.endpoint();
    let reply = http::post_json(&url, &headers, &body, settings.timeout).map_err(|e| match e {
        http::Failure::Timeout => LlmError::Timeout {
            provider: settings.provider,
            seconds: settings.timeout.as_secs_f64(),
        },
        http::Failure::Unreachable(detail) => LlmError::Unreachable {
            url: url.clone(),
            detail,
        },
        http::Failure::NotHttp(detail) => LlmError::BadResponse {
            provider: settings.provider,
            detail,
        },
    })?;
    let content = wire::answer_text(settings.provider, reply.status, &reply.body)?;
    schema::validate(&content)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| map.get(k).cloned()
    }

    #[test]
    fn rules_stay_the_default() {
        assert_eq!(LlmSettings::resolve(None, None, &env(&[])), Ok(None));
        // A key in the environment alone does not turn the LLM on.
        assert_eq!(
            LlmSettings::resolve(
                None,
                None,
                &env(&[("OPENAI_API_KEY", "k"), ("ANTHROPIC_API_KEY", "k")])
            ),
            Ok(None)
        );
        assert_eq!(
            LlmSettings::resolve(Some("none"), None, &env(&[("AUTODEPLOY_LLM", "openai")])),
            Ok(None)
        );
    }

    #[test]
    fn provider_model_key_and_base_url() {
        let s = LlmSettings::resolve(Some("openai"), None, &env(&[("OPENAI_API_KEY", "sk-1")]))
            .unwrap()
            .unwrap();
        assert_eq!(
            (s.provider, s.model.as_str(), s.api_key.as_deref()),
            (Provider::OpenAi, "gpt-4o-mini", Some("sk-1"))
        );
        assert_eq!(s.endpoint(), "https://api.openai.com/v1/chat/completions");
        assert_eq!(s.timeout, DEFAULT_TIMEOUT);

        let s = LlmSettings::resolve(
            None,
            Some("claude-x"),
            &env(&[
                ("AUTODEPLOY_LLM", "anthropic"),
                ("ANTHROPIC_API_KEY", "a"),
                ("AUTODEPLOY_LLM_TIMEOUT", "2.5"),
            ]),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (s.provider, s.model.as_str()),
            (Provider::Anthropic, "claude-x")
        );
        assert_eq!(s.endpoint(), "https://api.anthropic.com/v1/messages");
        assert_eq!(s.timeout, Duration::from_millis(2500));

        // A base URL alone selects an OpenAI-compatible server (Ollama), which needs a model.
        let e = env(&[("AUTODEPLOY_LLM_BASE_URL", "http://localhost:11434/v1")]);
        assert_eq!(
            LlmSettings::resolve(None, None, &e),
            Err(ConfigError::MissingModel)
        );
        let s = LlmSettings::resolve(None, Some("llama3.1"), &e)
            .unwrap()
            .unwrap();
        assert_eq!(s.provider, Provider::OpenAiCompatible);
        assert_eq!(s.api_key, None);
        assert_eq!(s.endpoint(), "http://localhost:11434/v1/chat/completions");
    }

    #[test]
    fn bad_configuration_is_explained() {
        let e = LlmSettings::resolve(Some("gemini"), None, &env(&[])).unwrap_err();
        assert!(
            e.to_string()
                .contains("use openai, anthropic or openai-compatible"),
            "{e}"
        );
        let e = LlmSettings::resolve(
            Some("openai"),
            None,
            &env(&[("AUTODEPLOY_LLM_TIMEOUT", "soon")]),
        )
        .unwrap_err();
        assert_eq!(e, ConfigError::BadTimeout("soon".into()));
    }
}
