//! The listener loop: how connections are accepted, bounded and timed out.
//!
//! Written on hyper's HTTP/1 connection builder rather than `axum::serve`
//! because `axum::serve` exposes none of these bounds:
//! - **header read timeout** (hyper's `header_read_timeout`): a request whose
//!   head is not complete within it is answered with nothing and the
//!   connection is closed. hyper arms the same timer while a kept-alive
//!   connection waits for its next request, so it is also the **idle
//!   keep-alive timeout**;
//! - **body read timeout**: the API's bodies are small JSON documents, read
//!   whole by [`crate::api`]'s body middleware within `body_timeout` (408
//!   and the connection closed otherwise);
//! - **connection caps**: at most `max_connections` open at once and at most
//!   `max_connections_per_address` from one client address; a connection
//!   over a cap is answered `503` with `Retry-After` and closed at once
//!   (nothing of it is read), so a flood of half-sent requests costs one
//!   file descriptor each for at most the header timeout, within the caps.
//!
//! Graceful shutdown: when `shutdown` resolves no connection is accepted any
//! more and open ones finish their current request.
//!
//! Deliberately not here: routes and rate limits (`api`, `auth`).

use axum::extract::connect_info::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

/// Bounds on connections; `Default` is what `autodeploy serve` uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConnectionLimits {
    /// Longest a client may take to send a request's head; also how long a
    /// kept-alive connection may sit idle between requests.
    pub header_timeout: Duration,
    /// Longest a client may take to send a request's body.
    pub body_timeout: Duration,
    /// Connections open at once, all clients together.
    pub max_connections: usize,
    /// Connections open at once from one client address.
    pub max_connections_per_address: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_connections: 1024,
            max_connections_per_address: 128,
        }
    }
}

/// Open connections, in all and per address.
#[derive(Default)]
struct Counts {
    total: usize,
    per_address: HashMap<IpAddr, usize>,
}

/// A slot taken by one connection, given back when dropped.
struct Slot {
    counts: Arc<Mutex<Counts>>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut c = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        c.total = c.total.saturating_sub(1);
        if let Some(n) = c.per_address.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                c.per_address.remove(&self.ip);
            }
        }
    }
}

fn take_slot(counts: &Arc<Mutex<Counts>>, ip: IpAddr, limits: &ConnectionLimits) -> Option<Slot> {
    let mut c = counts
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mine = c.per_address.get(&ip).copied().unwrap_or(0);
    if c.total >= limits.max_connections.max(1) || mine >= limits.max_connections_per_address.max(1)
    {
        return None;
    }
    c.total += 1;
    *c.per_address.entry(ip).or_insert(0) += 1;
    Some(Slot {
        counts: counts.clone(),
        ip,
    })
}

/// What a connection over a cap is told before it is closed.
const OVER_CAPACITY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n\
Content-Type: application/json\r\nConnection: close\r\nContent-Length: 92\r\n\r\n\
{\"error\":{\"code\":\"too_many_connections\",\"message\":\"too many open connections; retry later\"}}";

/// Serve `router` on `listener` within `limits` until `shutdown` resolves,
/// then let open requests finish. Handlers see the peer address as
/// `ConnectInfo<SocketAddr>`.
pub async fn serve_with_limits(
    listener: TcpListener,
    router: axum::Router,
    limits: ConnectionLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let counts = Arc::new(Mutex::new(Counts::default()));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Reap finished connection tasks as we go.
        while connections.try_join_next().is_some() {}
        let Some(slot) = take_slot(&counts, peer.ip(), &limits) else {
            tokio::spawn(async move {
                let mut stream = stream;
                let _ = tokio::time::timeout(Duration::from_secs(1), async {
                    let _ = stream.write_all(OVER_CAPACITY).await;
                    let _ = stream.shutdown().await;
                })
                .await;
            });
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let mut stop = stop_rx.clone();
        connections.spawn(async move {
            let _slot = slot;
            let service =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let mut req = req.map(axum::body::Body::new);
                    req.extensions_mut().insert(ConnectInfo(peer));
                    router.clone().oneshot(req)
                });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            let stopping = tokio::select! {
                _ = conn.as_mut() => false,
                r = stop.wait_for(|v| *v) => r.is_ok(),
            };
            if stopping {
                conn.as_mut().graceful_shutdown();
                let _ = conn.await;
            }
        });
    }
    let _ = stop_tx.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_over_capacity_answer_is_well_formed() {
        let text = std::str::from_utf8(OVER_CAPACITY).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
        serde_json::from_str::<serde_json::Value>(body).unwrap();
    }

    #[test]
    fn slots_are_capped_in_all_and_per_address() {
        let counts = Arc::new(Mutex::new(Counts::default()));
        let limits = ConnectionLimits {
            max_connections: 3,
            max_connections_per_address: 2,
            ..Default::default()
        };
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let s1 = take_slot(&counts, a, &limits).unwrap();
        let _s2 = take_slot(&counts, a, &limits).unwrap();
        assert!(take_slot(&counts, a, &limits).is_none(), "per address");
        let _s3 = take_slot(&counts, b, &limits).unwrap();
        assert!(take_slot(&counts, b, &limits).is_none(), "in all");
        drop(s1);
        assert!(take_slot(&counts, a, &limits).is_some());
    }
}
