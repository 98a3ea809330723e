//! The request and response shapes of the two APIs, as pure functions.
//!
//! OpenAI (and compatible servers): `POST /v1/chat/completions` with
//! `Authorization: Bearer <key>`, `response_format: {"type": "json_object"}`;
//! the answer is `choices[0].message.content`, a refusal is
//! `choices[0].message.refusal` or `finish_reason: "content_filter"`.
//!
//! Anthropic: `POST /v1/messages` with `x-api-key` and
//! `anthropic-version: 2023-06-01`; the answer is the first `text` block of
//! `content`, a refusal is `stop_reason: "refusal"`.
//!
//! Errors from both come as HTTP 4xx/5xx with `{"error": {"message": …}}`.
//!
//! What it deliberately is not: networking (see `http`) or validation of the
//! answer's meaning (see `schema`).

use super::{schema, LlmError, LlmSettings, Provider};
use serde_json::{json, Value};

/// Request body and headers for `settings.provider`.
pub(crate) fn request(settings: &LlmSettings, text: &str) -> (Value, Vec<(&'static str, String)>) {
    let mut headers: Vec<(&'static str, String)> =
        vec![("content-type", "application/json".into())];
    match settings.provider {
        Provider::Anthropic => {
            if let Some(k) = &settings.api_key {
                headers.push(("x-api-key", k.clone()));
            }
            headers.push(("anthropic-version", "2023-06-01".into()));
            let body = json!({
                "model": settings.model,
                "max_tokens": 512,
                "temperature": 0,
                "system": schema::SYSTEM_PROMPT,
                "messages": [{"role": "user", "content": text}],
            });
            (body, headers)
        }
        Provider::OpenAi | Provider::OpenAiCompatible => {
            if let Some(k) = &settings.api_key {
                headers.push(("authorization", format!("Bearer {k}")));
            }
            let body = json!({
                "model": settings.model,
                "temperature": 0,
                "response_format": {"type": "json_object"},
                "messages": [
                    {"role": "system", "content": schema::SYSTEM_PROMPT},
                    {"role": "user", "content": text},
                ],
            });
            (body, headers)
        }
    }
}

/// The model's answer text from a response, or why there is none.
pub(crate) fn answer_text(
    provider: Provider,
    status: u16,
    body: &[u8],
) -> Result<String, LlmError> {
    let parsed: Result<Value, _> = serde_json::from_slice(body);
    if !(200..300).contains(&status) {
        let message = match &parsed {
            Ok(v) => v["error"]["message"]
                .as_str()
                .map(str::to_string)
                .or_else(|| v["error"].as_str().map(str::to_string))
                .or_else(|| v["message"].as_str().map(str::to_string))
                .unwrap_or_else(|| snippet(body)),
            Err(_) => snippet(body),
        };
        return Err(LlmError::http(provider, status, message));
    }
    let v = parsed.map_err(|e| LlmError::BadResponse {
        provider,
        detail: format!("body is not JSON: {e}; starts with {}", snippet(body)),
    })?;
    match provider {
        Provider::Anthropic => {
            if v["stop_reason"] == "refusal" {
                return Err(LlmError::Refusal {
                    detail: "stop_reason: refusal".into(),
                });
            }
            let blocks = v["content"]
                .as_array()
                .ok_or_else(|| LlmError::BadResponse {
                    provider,
                    detail: "no `content` array".into(),
                })?;
            blocks
                .iter()
                .find(|b| b["type"] == "text")
                .and_then(|b| b["text"].as_str())
                .map(str::to_string)
                .ok_or_else(|| LlmError::BadResponse {
                    provider,
                    detail: "no text block in `content`".into(),
                })
        }
        Provider::OpenAi | Provider::OpenAiCompatible => {
            let choice = &v["choices"][0];
            if choice.is_null() {
                return Err(LlmError::BadResponse {
                    provider,
                    detail: "no `choices[0]`".into(),
                });
            }
            if let Some(r) = choice["message"]["refusal"]
                .as_str()
                .filter(|r| !r.trim().is_empty())
            {
                return Err(LlmError::Refusal {
                    detail: truncate(r, 200),
                });
            }
            if choice["finish_reason"] == "content_filter" {
                return Err(LlmError::Refusal {
                    detail: "finish_reason: content_filter".into(),
                });
            }
            choice["message"]["content"]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| LlmError::BadResponse {
                    provider,
                    detail: "no `choices[0].message.content` string".into(),
                })
        }
    }
}

fn snippet(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(&body[..body.len().min(200)]);
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if s.trim().is_empty() {
        "(empty body)".into()
    } else {
        s.trim().to_string()
    }
}

pub(crate) fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}
