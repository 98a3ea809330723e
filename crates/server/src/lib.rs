//! autodeploy's service: the HTTP API (`autodeploy serve`), the workers that
//! execute queued jobs (in-process, or alone with `autodeploy worker`), the
//! Prometheus metrics and the embedded web page.
//!
//! The service is a thin layer: deployments, jobs and logs live in the store
//! (`autodeploy-store`, SQLite or PostgreSQL); previews call the same stage
//! functions as the CLI (`preview`); jobs are executed by whatever
//! [`worker::JobRunner`] the binary plugs in (the execute stage in production,
//! a test runner in tests).
//!
//! Deliberately not here: pipeline logic, executing deployments, SQL, and
//! command-line parsing (the `autodeploy` binary owns its flags).

pub mod access;
pub mod api;
pub mod auth;
pub mod error;
pub mod metrics;
pub mod observe;
pub mod preview;
pub mod rate_limit;
pub mod serve;
pub mod web;
pub mod worker;

pub use error::ApiError;
pub use metrics::Metrics;
pub use rate_limit::{RateLimit, RateLimiter};
pub use serve::ConnectionLimits;
/// Re-exported so the binary logs through the same `tracing` as the service.
pub use tracing;
pub use worker::{JobRunner, WorkerConfig};

use autodeploy_store::Store;
use std::sync::Arc;
use std::time::Duration;

/// Largest JSON request body accepted by default (64 KiB).
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// How the API behaves. `Default` is what `autodeploy serve` uses without flags.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest request body, bytes.
    pub body_limit: usize,
    /// Per-token request budget (after authentication).
    pub rate_limit: RateLimit,
    /// Per-client-address request budget (before authentication).
    pub address_rate_limit: RateLimit,
    /// Per-client-address budget of unknown tokens (each one costs a store
    /// lookup; over it, 429 without asking the store).
    pub auth_failure_limit: RateLimit,
    /// Proxies whose `X-Forwarded-For` names the client (empty: the peer
    /// address is the client, and the header is ignored).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Store lookups of tokens not remembered, at once.
    pub auth_concurrency: usize,
    /// Timeouts and connection caps of the listener.
    pub connections: ConnectionLimits,
    /// Accept local folders and archive files on this machine as `repo`
    /// (off by default: an API caller must not make the server read its disk).
    pub allow_local_sources: bool,
    /// Which hosts a preview's fetch may connect to: public addresses only
    /// by default (`--allow-private-sources` lifts it, `--allow-host` admits
    /// one host). Workers get the same policy through `ExecConfig`.
    pub source_network: autodeploy_source::NetworkPolicy,
    /// Serve `/metrics` on the API listener too (false when a separate
    /// `--metrics-listen` is used).
    pub metrics_on_api: bool,
    /// Analyses kept in memory.
    pub analysis_cache_entries: usize,
    /// How long a resolved `URL#ref → commit` is trusted.
    pub commit_ttl: Duration,
    /// How long an authenticated token is trusted without asking the store
    /// again (revocation takes effect within this time).
    pub auth_ttl: Duration,
    /// How often an SSE log stream polls the store for new lines.
    pub log_poll: Duration,
    /// How long a preview's `plan_id` can be deployed (`POST /v1/plan` →
    /// `POST /v1/deployments {"plan_id"}`).
    pub preview_ttl: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            body_limit: DEFAULT_BODY_LIMIT,
            rate_limit: RateLimit::default(),
            address_rate_limit: RateLimit::PER_ADDRESS,
            auth_failure_limit: RateLimit::AUTH_FAILURES,
            trusted_proxies: Vec::new(),
            auth_concurrency: 8,
            connections: ConnectionLimits::default(),
            allow_local_sources: false,
            source_network: autodeploy_source::NetworkPolicy::public_only(Vec::new()),
            metrics_on_api: true,
            analysis_cache_entries: 512,
            commit_ttl: Duration::from_secs(5),
            auth_ttl: Duration::from_secs(5),
            log_poll: Duration::from_millis(300),
            preview_ttl: Duration::from_secs(3600),
        }
    }
}

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub metrics: Arc<Metrics>,
    pub config: Arc<ServerConfig>,
    /// Per-token limiter.
    pub limiter: Arc<RateLimiter>,
    /// Per-address limiter (every `/v1` request).
    pub address_limiter: Arc<RateLimiter<std::net::IpAddr>>,
    /// Per-address budget of unknown tokens.
    pub failure_limiter: Arc<RateLimiter<std::net::IpAddr>>,
    /// Bounds concurrent store lookups of tokens not remembered.
    pub auth_lookups: Arc<tokio::sync::Semaphore>,
    pub auth: Arc<auth::AuthCache>,
    pub previews: Arc<preview::Previews>,
    /// Seals the secret values API callers send (`secrets`); without one,
    /// such requests are refused.
    pub sealer: Option<Arc<autodeploy_store::secrets::SecretBox>>,
}

impl AppState {
    /// The same state, sealing secret values with `sealer`.
    pub fn with_sealer(mut self, sealer: autodeploy_store::secrets::SecretBox) -> Self {
        self.sealer = Some(Arc::new(sealer));
        self
    }

    pub fn new(store: Arc<dyn Store>, metrics: Arc<Metrics>, config: ServerConfig) -> Self {
        AppState {
            limiter: Arc::new(RateLimiter::new(config.rate_limit)),
            address_limiter: Arc::new(RateLimiter::new(config.address_rate_limit)),
            failure_limiter: Arc::new(RateLimiter::new(config.auth_failure_limit)),
            auth_lookups: Arc::new(tokio::sync::Semaphore::new(config.auth_concurrency.max(1))),
            auth: Arc::new(auth::AuthCache::new(config.auth_ttl)),
            previews: Arc::new(preview::Previews::new(
                store.clone(),
                metrics.clone(),
                config.analysis_cache_entries,
                config.commit_ttl,
                config.allow_local_sources,
                config.source_network.clone(),
                config.preview_ttl,
            )),
            store,
            metrics,
            config: Arc::new(config),
            sealer: None,
        }
    }
}

/// Store-wide gauges for `/metrics`.
pub async fn fleet_gauges(store: &dyn Store) -> Result<metrics::FleetGauges, ApiError> {
    let counts = store.status_counts().await?;
    let queue_size = store.queue_size().await?;
    Ok(metrics::FleetGauges {
        deployments: counts
            .into_iter()
            .map(|c| {
                (
                    c.status.as_str().to_string(),
                    c.cloud.unwrap_or_else(|| "unknown".into()),
                    c.count,
                )
            })
            .collect(),
        queue_size,
    })
}

/// A router serving only `/metrics` (for `--metrics-listen`, and for worker-only processes).
pub fn metrics_router(store: Arc<dyn Store>, metrics: Arc<Metrics>) -> axum::Router {
    use axum::routing::get;
    axum::Router::new().route(
        "/metrics",
        get(move || {
            let store = store.clone();
            let metrics = metrics.clone();
            async move { api::metrics_text(&*store, &metrics).await }
        }),
    )
}

/// Serve `router` on `listener` with the default [`ConnectionLimits`] until
/// `shutdown` resolves, then let open requests finish.
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve::serve_with_limits(listener, router, ConnectionLimits::default(), shutdown).await
}

/// Serve the API of `state` on `listener` with the limits of its
/// configuration until `shutdown` resolves.
pub async fn serve_api(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.config.connections;
    serve::serve_with_limits(listener, api::router(state), limits, shutdown).await
}

/// Resolves on SIGTERM or ctrl-c.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Set up `tracing` output: human-readable (`text`) or one JSON object per
/// line (`json`); level from `RUST_LOG` (default `info`; `target=level`
/// directives, comma-separated). Safe to call twice.
///
/// `Targets`, not `EnvFilter`: EnvFilter's span/field matchers pull in
/// regex-automata's full-DFA builder, and Cargo's feature unification then
/// makes every `regex::Regex` in the binary determinize a dense DFA when it
/// is compiled — most of a small analysis's time (docs/PERFORMANCE.md).
pub fn init_tracing(format: &str) {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::prelude::*;
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO));
    // Colour codes only for a person at a terminal: never into a redirected
    // log, never with NO_COLOR (https://no-color.org).
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    let _ = if format == "json" {
        builder
            .json()
            .flatten_event(true)
            .finish()
            .with(filter)
            .try_init()
    } else {
        builder.finish().with(filter).try_init()
    };
}
