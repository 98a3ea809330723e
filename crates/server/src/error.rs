//! The one error type every HTTP handler returns, and its JSON shape:
//! `{"error": {"code": "not_found", "message": "…"}}` with the matching status.
//!
//! `code` values are stable (clients branch on them); messages are for people
//! and say what failed and what to do next. This module deliberately knows
//! nothing about routes: handlers map their failures into [`ApiError`].

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answered to an API client.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// No, or an unknown, `Authorization: Bearer` token.
    #[error("{0}")]
    Unauthorized(String),
    /// The token is good but its user may not do this (not an admin).
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// The thing does not exist, or belongs to someone else (never told apart).
    #[error("{what} was not found")]
    NotFound { what: String },
    /// The request is malformed or asks for something impossible.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// The request conflicts with the current state (e.g. destroying a destroyed deployment).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// What the request names does not exist, with a code more precise
    /// than `not_found` (an unknown `plan_id`).
    #[error("{message}")]
    Missing { code: &'static str, message: String },
    /// The thing named existed but is no longer usable (an expired preview).
    #[error("{message}")]
    Gone { code: &'static str, message: String },
    /// A pipeline stage could not handle the input (fetch/analyze/decide/render failed).
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    /// Too many requests for this token.
    #[error("rate limit exceeded: retry after {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// The body did not arrive within the body timeout.
    #[error("the request body did not arrive within {secs} s; send it at once")]
    RequestTimeout { secs: u64 },
    /// The body is over the configured limit.
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// The store is unreachable or failed.
    #[error("the database failed: {0}")]
    Store(String),
    /// Anything else that is our fault.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::NotFound { .. } => "not_found",
            ApiError::BadRequest { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::Forbidden { code, .. }
            | ApiError::Gone { code, .. }
            | ApiError::Missing { code, .. }
            | ApiError::Unprocessable { code, .. } => code,
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::RequestTimeout { .. } => "request_timeout",
            ApiError::Store(_) => "store_unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } | ApiError::Missing { .. } => StatusCode::NOT_FOUND,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Gone { .. } => StatusCode::GONE,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            ApiError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            message: message.into(),
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        ApiError::NotFound { what: what.into() }
    }
}

impl From<autodeploy_store::StoreError> for ApiError {
    fn from(e: autodeploy_store::StoreError) -> Self {
        match e {
            autodeploy_store::StoreError::NotFound { what } => ApiError::NotFound { what },
            autodeploy_store::StoreError::Conflict(message) => ApiError::Conflict {
                code: "conflict",
                message,
            },
            other => ApiError::Store(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(code = self.code(), error = %self, "request failed");
        }
        let body = json!({"error": {"code": self.code(), "message": self.to_string()}});
        let mut resp = (status, axum::Json(body)).into_response();
        match self {
            ApiError::RateLimited { retry_after_secs } => {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            }
            // The rest of a late body may still be on its way: close.
            ApiError::RequestTimeout { .. } => {
                resp.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            _ => {}
        }
        resp
    }
}

/// The body limit in force, for the 413 message (set when the router is built).
pub(crate) static BODY_LIMIT: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(crate::DEFAULT_BODY_LIMIT);

/// axum's own JSON rejections (bad JSON, wrong content type, body too large)
/// in the same JSON error shape.
impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(r: axum::extract::rejection::JsonRejection) -> Self {
        json_rejection(r)
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(r: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::bad_request("invalid_query", r.body_text())
    }
}

fn json_rejection(r: axum::extract::rejection::JsonRejection) -> ApiError {
    use axum::extract::rejection::JsonRejection as J;
    match r {
        J::BytesRejection(b) if b.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::PayloadTooLarge {
                limit: BODY_LIMIT.load(std::sync::atomic::Ordering::Relaxed),
            }
        }
        J::MissingJsonContentType(_) => ApiError::bad_request(
            "unsupported_media_type",
            "send the body as JSON with `Content-Type: application/json`",
        ),
        other => ApiError::bad_request(
            "invalid_json",
            format!("the body is not the expected JSON: {}", other.body_text()),
        ),
    }
}
