//! The access log: one `tracing` event per request, at the end of it, with
//! the method, the path, the status and the latency (target
//! `autodeploy::access`; `RUST_LOG=autodeploy::access=off` silences it).
//!
//! Deliberately left out: the query string (a browser may carry a token
//! there for a WebSocket), headers (the `Authorization` token) and bodies
//! (requests and secrets).

use axum::http::{Request, Response};
use std::time::Duration;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::{DefaultOnBodyChunk, DefaultOnEos, TraceLayer};
use tracing::Span;

/// The `method` and `path` of a request, kept for its access-log line.
#[derive(Clone, Copy, Debug, Default)]
pub struct AccessSpan;

impl<B> tower_http::trace::MakeSpan<B> for AccessSpan {
    fn make_span(&mut self, req: &Request<B>) -> Span {
        tracing::info_span!(
            target: "autodeploy::access",
            "request",
            method = %req.method(),
            path = %req.uri().path(),
        )
    }
}

/// Writes the line when the response head is ready.
#[derive(Clone, Copy, Debug, Default)]
pub struct AccessLine;

impl<B> tower_http::trace::OnResponse<B> for AccessLine {
    fn on_response(self, res: &Response<B>, latency: Duration, span: &Span) {
        let _entered = span.enter();
        tracing::info!(
            target: "autodeploy::access",
            status = res.status().as_u16(),
            latency_ms = latency.as_secs_f64() * 1000.0,
            "request served"
        );
    }
}

/// The access-log layer for the service's router.
pub type AccessLog = TraceLayer<
    SharedClassifier<ServerErrorsAsFailures>,
    AccessSpan,
    (),
    AccessLine,
    DefaultOnBodyChunk,
    DefaultOnEos,
    (),
>;

pub fn layer() -> AccessLog {
    TraceLayer::new_for_http()
        .make_span_with(AccessSpan)
        .on_request(())
        .on_response(AccessLine)
        .on_failure(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use std::sync::{Arc, Mutex};
    use tower::ServiceExt;

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn one_line_per_request_with_method_path_status_latency_and_no_secret() {
        let buf = Buf::default();
        let writer = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_writer(move || writer.clone())
            .finish();
        let app = axum::Router::new()
            .route("/v1/deployments", get(|| async { "[]" }))
            .layer(layer());
        tracing::subscriber::with_default(subscriber, || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            rt.block_on(async {
                for uri in ["/v1/deployments?token=s3cret-query", "/nowhere"] {
                    let req = Request::get(uri)
                        .header("authorization", "Bearer s3cret-header")
                        .body(axum::body::Body::empty())
                        .unwrap();
                    app.clone().oneshot(req).await.unwrap();
                }
            });
        });
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(lines[0]["span"]["method"], "GET", "{text}");
        assert_eq!(lines[0]["span"]["path"], "/v1/deployments", "{text}");
        assert_eq!(lines[0]["status"], 200, "{text}");
        assert!(lines[0]["latency_ms"].as_f64().unwrap() >= 0.0, "{text}");
        assert_eq!(lines[1]["span"]["path"], "/nowhere", "{text}");
        assert_eq!(lines[1]["status"], 404, "{text}");
        assert!(!text.contains("s3cret"), "{text}");
    }
}
