//! Rate limiting: token buckets in memory, keyed by API token (after
//! authentication) or by client address (before it), and the client address
//! itself ([`client_ip`]: the peer, or `X-Forwarded-For` when the peer is a
//! trusted proxy).
//!
//! Each bucket holds up to `burst` requests and refills at `per_second`; a
//! request takes one. When it is empty the caller learns how long until one
//! is back (for `Retry-After`). A taken request can be given back
//! ([`RateLimiter::refund`]): the budget of failed authentications is taken
//! before the store is asked and refunded when the token was good. Token
//! buckets are keyed by a hash of the token, so plaintext tokens are never
//! kept, and maps are pruned of full (idle) buckets when they grow, so that a
//! flood of random keys cannot grow memory without bound.
//!
//! Written here rather than with `governor`: the buckets are a few lines, we
//! need refunds and the wait for `Retry-After`, and one `Mutex<HashMap>` per
//! limiter is far from the cost of a request on this service.
//!
//! Deliberately per process: with several API processes each enforces its own
//! limit (documented; a shared limiter would put the database on every request).

use ipnet::IpNet;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Limits of one bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Sustained requests per second per key.
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

impl RateLimit {
    /// Default per-address limit before authentication: generous (many
    /// people behind one NAT), but a flood from one address stops here.
    pub const PER_ADDRESS: RateLimit = RateLimit {
        per_second: 100.0,
        burst: 200,
    };
    /// Default budget of unknown tokens per address: 10 at once, then one
    /// every 5 s. Only these reach the store.
    pub const AUTH_FAILURES: RateLimit = RateLimit {
        per_second: 0.2,
        burst: 10,
    };
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Buckets above this count trigger pruning of full (idle) buckets.
const PRUNE_ABOVE: usize = 50_000;

/// One family of buckets (per token, per address…), shared by all requests
/// of a process.
#[derive(Debug)]
pub struct RateLimiter<K = [u8; 32]> {
    limit: RateLimit,
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K: Hash + Eq + Copy> RateLimiter<K> {
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
    pub fn check(&self, key: K) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    /// Give back a request taken with [`Self::check`] (it turned out not to
    /// count against this budget).
    pub fn refund(&self, key: K) {
        let burst = f64::from(self.limit.burst.max(1));
        let mut map = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(b) = map.get_mut(&key) {
            b.tokens = (b.tokens + 1.0).min(burst);
        }
    }

    fn check_at(&self, key: K, now: Instant) -> Result<(), Duration> {
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

/// The client's address: the peer's, or — when the peer is one of the
/// `trusted` proxies — the right-most address of `X-Forwarded-For` that is
/// not itself a trusted proxy (addresses further left were written by the
/// client and prove nothing). A header that does not parse is ignored.
pub fn client_ip(peer: SocketAddr, forwarded_for: Option<&str>, trusted: &[IpNet]) -> IpAddr {
    let peer_ip = canonical(peer.ip());
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer_ip) {
        return peer_ip;
    }
    let Some(header) = forwarded_for else {
        return peer_ip;
    };
    let mut client = peer_ip;
    for hop in header.rsplit(',') {
        let hop = hop.trim();
        let Ok(ip) = hop
            .parse::<IpAddr>()
            .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        else {
            break;
        };
        client = canonical(ip);
        if !is_trusted(&client) {
            break;
        }
    }
    client
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) as the IPv4 they are.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
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

    #[test]
    fn refunds_give_a_request_back_up_to_the_burst() {
        let l: RateLimiter<IpAddr> = RateLimiter::new(RateLimit {
            per_second: 0.001,
            burst: 1,
        });
        let ip: IpAddr = "10.1.2.3".parse().unwrap();
        assert!(l.check(ip).is_ok());
        assert!(l.check(ip).is_err());
        l.refund(ip);
        l.refund(ip);
        assert!(l.check(ip).is_ok());
        assert!(l.check(ip).is_err(), "never more than the burst");
    }

    #[test]
    fn forwarded_for_is_only_believed_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let proxy: SocketAddr = "10.0.0.5:4000".parse().unwrap();
        let stranger: SocketAddr = "203.0.113.9:4000".parse().unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // From a stranger the header is ignored.
        assert_eq!(
            client_ip(stranger, Some("198.51.100.1"), &trusted),
            ip("203.0.113.9")
        );
        // From a proxy: the right-most untrusted hop; a spoofed left part is ignored.
        assert_eq!(
            client_ip(proxy, Some("1.2.3.4, 198.51.100.1, 10.0.0.7"), &trusted),
            ip("198.51.100.1")
        );
        // Garbage stops the walk at the last good hop.
        assert_eq!(
            client_ip(proxy, Some("198.51.100.1, nonsense"), &trusted),
            ip("10.0.0.5")
        );
        // No header: the proxy itself; no trusted proxies: always the peer.
        assert_eq!(client_ip(proxy, None, &trusted), ip("10.0.0.5"));
        assert_eq!(client_ip(proxy, Some("198.51.100.1"), &[]), ip("10.0.0.5"));
        // IPv4-mapped peers count as their IPv4 address.
        let mapped: SocketAddr = "[::ffff:10.0.0.5]:1".parse().unwrap();
        assert_eq!(
            client_ip(mapped, Some("198.51.100.1"), &trusted),
            ip("198.51.100.1")
        );
    }
}
