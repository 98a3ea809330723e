//! Bearer-token authentication and rate limiting for `/v1/*`, in this order:
//!
//! 1. **per address** (before anything else): a token bucket per client
//!    address ([`crate::rate_limit::client_ip`]: the peer, or
//!    `X-Forwarded-For` from a configured trusted proxy);
//! 2. `Authorization: Bearer adt_…` — answers are remembered for a few
//!    seconds by the token's SHA-256 (never the plaintext), good and bad
//!    ones apart, so a busy client costs no database round trip per request
//!    and a flood of made-up tokens cannot evict the good ones;
//! 3. a token not remembered is looked up in the store only within the
//!    address's **budget of unknown tokens** (taken before the lookup,
//!    refunded when the token is good), once for all the requests that
//!    carry it at that moment, and at most `auth_concurrency` lookups at
//!    once: bogus tokens from one address get 429 after a few lookups, and
//!    real users — remembered, or from other addresses — are neither
//!    blocked nor queued behind them;
//! 4. **per token** after authentication.
//!
//! Deliberately not here: issuing tokens (the `token` command and the store)
//! and ownership checks (handlers ask the store for "owned by this user").

use crate::{ApiError, AppState};
use autodeploy_store::User;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Entries above this count (per kind) are dropped wholesale (cheap, and they refill).
const MAX_ENTRIES: usize = 10_000;

/// One store lookup shared by the requests carrying the same token.
type Lookup = Arc<tokio::sync::OnceCell<Result<Option<User>, ApiError>>>;

/// Recent `authenticate` answers, by token hash: good tokens and unknown
/// ones in separate maps, so unknown ones never push good ones out.
#[derive(Debug)]
pub struct AuthCache {
    ttl: Duration,
    known: Mutex<HashMap<[u8; 32], (User, Instant)>>,
    unknown: Mutex<HashMap<[u8; 32], Instant>>,
    inflight: Mutex<HashMap<[u8; 32], Lookup>>,
}

impl AuthCache {
    pub fn new(ttl: Duration) -> Self {
        AuthCache {
            ttl,
            known: Mutex::new(HashMap::new()),
            unknown: Mutex::new(HashMap::new()),
            inflight: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(Some(user))` known, `Some(None)` known to be bad, `None` not remembered.
    fn get(&self, key: &[u8; 32]) -> Option<Option<User>> {
        if self.ttl.is_zero() {
            return None;
        }
        let fresh = |at: &Instant| at.elapsed() < self.ttl;
        if let Some((u, _)) = lock(&self.known).get(key).filter(|(_, at)| fresh(at)) {
            return Some(Some(u.clone()));
        }
        lock(&self.unknown)
            .get(key)
            .filter(|at| fresh(at))
            .map(|_| None)
    }

    fn put(&self, key: [u8; 32], user: Option<User>) {
        if self.ttl.is_zero() {
            return;
        }
        let now = Instant::now();
        match user {
            Some(u) => {
                let mut m = lock(&self.known);
                if m.len() >= MAX_ENTRIES {
                    m.clear();
                }
                m.insert(key, (u, now));
            }
            None => {
                let mut m = lock(&self.unknown);
                if m.len() >= MAX_ENTRIES {
                    m.clear();
                }
                m.insert(key, now);
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn limited(wait: Duration) -> ApiError {
    ApiError::RateLimited {
        retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
    }
}

/// The address a request counts against.
fn request_ip(state: &AppState, req: &Request) -> IpAddr {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
        .unwrap_or_else(|| SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)));
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    crate::rate_limit::client_ip(peer, forwarded, &state.config.trusted_proxies)
}

/// The bearer token of a request, if it has one.
fn bearer(req: &Request) -> Option<&str> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Ask the store about a token not remembered, within the address's budget
/// of unknown tokens (one unit, refunded when the token is good) and the
/// cap on concurrent lookups.
async fn lookup(
    state: &AppState,
    ip: IpAddr,
    key: [u8; 32],
    token: &str,
) -> Result<Option<User>, ApiError> {
    if let Err(wait) = state.failure_limiter.check(ip) {
        state.metrics.auth.inc(&["failure_limited"]);
        return Err(limited(wait));
    }
    let _permit = state
        .auth_lookups
        .acquire()
        .await
        .map_err(|_| ApiError::Internal("the server is shutting down".into()))?;
    // Answered while this one waited for a permit.
    if let Some(u) = state.auth.get(&key) {
        if u.is_some() {
            state.failure_limiter.refund(ip);
        }
        return Ok(u);
    }
    let u = state.store.authenticate(token).await?;
    state.auth.put(key, u.clone());
    state.metrics.auth.inc(&[if u.is_some() {
        "store_ok"
    } else {
        "store_unknown"
    }]);
    if u.is_some() {
        state.failure_limiter.refund(ip);
    }
    Ok(u)
}

/// Middleware: 429 over a limit, 401 without a valid token; puts the
/// [`User`] into the request's extensions for handlers.
pub async fn require_user(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let ip = request_ip(&state, &req);
    if let Err(wait) = state.address_limiter.check(ip) {
        state.metrics.auth.inc(&["address_limited"]);
        return Err(limited(wait));
    }
    let Some(token) = bearer(&req) else {
        return Err(ApiError::Unauthorized(
            "this endpoint needs `Authorization: Bearer <token>`; create a token with \
             `autodeploy token create --user NAME`"
                .into(),
        ));
    };
    let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    let user = match state.auth.get(&key) {
        Some(u) => {
            state.metrics.auth.inc(&["cached"]);
            u
        }
        None => {
            // Requests carrying the same token at once share one lookup.
            let cell: Lookup = lock(&state.auth.inflight).entry(key).or_default().clone();
            let answer = cell
                .get_or_init(|| lookup(&state, ip, key, token))
                .await
                .clone();
            {
                let mut m = lock(&state.auth.inflight);
                if m.get(&key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
                    m.remove(&key);
                }
            }
            answer?
        }
    };
    let Some(user) = user else {
        return Err(ApiError::Unauthorized(
            "the bearer token is unknown or revoked; create a new one with \
             `autodeploy token create --user NAME`"
                .into(),
        ));
    };
    if let Err(wait) = state.limiter.check(key) {
        state.metrics.auth.inc(&["token_limited"]);
        return Err(limited(wait));
    }
    req.extensions_mut().insert(user);
    Ok(next.run(req).await)
}
