//! Per-token rate limiting: one token bucket per API token, in memory.
//!
//! Each bucket holds up to `burst` requests and refills at `per_second`; a
//! request takes one. When it is empty the caller learns how long until one
//! is back (for `Retry-After`). Buckets are keyed by a hash of the token, so
//! plaintext tokens are never kept, and the map is pruned when it grows so
//! that a flood of random tokens cannot grow memory without bound.
//!
//! Deliberately per process: with several API processes each enforces its own
//! limit (documented; a shared limiter would put the database on every request).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Limits of one bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Sustained requests per second per token.
    pub per_second: f64,
    /// Requests allowed at once after a quiet period.
    pub burst: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            per_second: 20.0,
            burst: 60,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Buckets above this count trigger pruning of full (idle) buckets.
const PRUNE_ABOVE: usize = 50_000;

/// The limiter shared by all requests of a process.
#[derive(Debug)]
pub struct RateLimiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<[u8; 32], Bucket>>,
}

impl RateLimiter {
    pub fn new(limit: RateLimit) -> Self {
        RateLimiter {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    /// Take one request from `key`'s bucket: `Ok(())`, or `Err(wait)` with the
    /// time until a request is allowed again.
    pub fn check(&self, key: [u8; 32]) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, key: [u8; 32], now: Instant) -> Result<(), Duration> {
        let burst = f64::from(self.limit.burst.max(1));
        let rate = self.limit.per_second.max(f64::MIN_POSITIVE);
        let mut map = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() > PRUNE_ABOVE {
            map.retain(|_, b| {
                let refilled =
                    b.tokens + now.saturating_duration_since(b.last).as_secs_f64() * rate;
                refilled < burst
            });
        }
        let b = map.entry(key).or_insert(Bucket {
            tokens: burst,
            last: now,
        });
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rate).min(burst);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill() {
        let l = RateLimiter::new(RateLimit {
            per_second: 2.0,
            burst: 3,
        });
        let t0 = Instant::now();
        let k = [7u8; 32];
        for _ in 0..3 {
            assert!(l.check_at(k, t0).is_ok());
        }
        let wait = l.check_at(k, t0).unwrap_err();
        assert!(wait > Duration::from_millis(400) && wait <= Duration::from_millis(500));
        // another token is independent
        assert!(l.check_at([8u8; 32], t0).is_ok());
        // after 0.5 s one request is back, not two
        let t1 = t0 + Duration::from_millis(500);
        assert!(l.check_at(k, t1).is_ok());
        assert!(l.check_at(k, t1).is_err());
    }
}
