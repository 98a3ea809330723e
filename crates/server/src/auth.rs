//! Bearer-token authentication and per-token rate limiting for `/v1/*`.
//!
//! `Authorization: Bearer adt_…` is checked against the store
//! (`Store::authenticate`, which compares hashes); answers are remembered for
//! a few seconds (keyed by the token's SHA-256, never the plaintext) so a busy
//! client does not cost a database round trip per request. The rate limit is
//! taken before the store is asked, so a flood of made-up tokens cannot turn
//! into a flood of queries either.
//!
//! Deliberately not here: issuing tokens (the `token` command and the store)
//! and ownership checks (handlers ask the store for "owned by this user").

use crate::{ApiError, AppState};
use autodeploy_store::User;
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries above this count are dropped wholesale (cheap, and they refill).
const MAX_ENTRIES: usize = 10_000;

/// An answer and when it was given.
type Remembered = (Option<User>, Instant);

/// Recent `authenticate` answers, by token hash.
#[derive(Debug)]
pub struct AuthCache {
    ttl: Duration,
    entries: Mutex<HashMap<[u8; 32], Remembered>>,
}

impl AuthCache {
    pub fn new(ttl: Duration) -> Self {
        AuthCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, key: &[u8; 32]) -> Option<Option<User>> {
        if self.ttl.is_zero() {
            return None;
        }
        let map = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(key)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(u, _)| u.clone())
    }

    fn put(&self, key: [u8; 32], user: Option<User>) {
        if self.ttl.is_zero() {
            return;
        }
        let mut map = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, (user, Instant::now()));
    }
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

/// Middleware: 401 without a valid token, 429 over the rate limit; puts the
/// [`User`] into the request's extensions for handlers.
pub async fn require_user(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let Some(token) = bearer(&req) else {
        return Err(ApiError::Unauthorized(
            "this endpoint needs `Authorization: Bearer <token>`; create a token with \
             `autodeploy token create --user NAME`"
                .into(),
        ));
    };
    let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    if let Err(wait) = state.limiter.check(key) {
        return Err(ApiError::RateLimited {
            retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
        });
    }
    let user = match state.auth.get(&key) {
        Some(u) => u,
        None => {
            let u = state.store.authenticate(token).await?;
            state.auth.put(key, u.clone());
            u
        }
    };
    let Some(user) = user else {
        return Err(ApiError::Unauthorized(
            "the bearer token is unknown or revoked; create a new one with \
             `autodeploy token create --user NAME`"
                .into(),
        ));
    };
    req.extensions_mut().insert(user);
    Ok(next.run(req).await)
}
