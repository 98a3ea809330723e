//! The only network I/O in the parse stage: one blocking JSON POST with an
//! overall deadline (connect + send + wait + read), a 1 MiB cap on the body,
//! and failures sorted into timeout / unreachable / not-HTTP.
//!
//! What it deliberately is not: retrying (a fallback to the rules is cheaper
//! than a retry storm) or interpreting the body (see `wire`).

use serde_json::Value;
use std::io::Read;
use std::time::Duration;

const MAX_BODY: u64 = 1 << 20;

pub(crate) struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

#[derive(Debug)]
pub(crate) enum Failure {
    Timeout,
    Unreachable(String),
    NotHttp(String),
}

fn is_timeout(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) {
                return true;
            }
        }
        cur = e.source();
    }
    err.to_string().contains("timed out")
}

fn read_body(resp: ureq::Response) -> Result<Vec<u8>, Failure> {
    let mut buf = Vec::new();
    match resp.into_reader().take(MAX_BODY).read_to_end(&mut buf) {
        Ok(_) => Ok(buf),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) =>
        {
            Err(Failure::Timeout)
        }
        Err(e) => Err(Failure::NotHttp(format!("reading the body failed: {e}"))),
    }
}

/// POST `body` as JSON to `url`. HTTP error statuses are returned as replies
/// (their bodies carry the provider's error message), not as failures.
pub(crate) fn post_json(
    url: &str,
    headers: &[(&str, String)],
    body: &Value,
    timeout: Duration,
) -> Result<Reply, Failure> {
    // Through the proxy the environment names, trusting the system's CAs
    // as well (a corporate proxy or TLS-inspecting CA), like every client.
    let agents = autodeploy_net::Agents::with_redirects(
        autodeploy_net::Timeouts {
            connect: timeout,
            read: timeout,
            write: timeout,
        },
        autodeploy_net::ProxyConfig::from_env(),
        2,
    )
    .map_err(Failure::Unreachable)?;
    let mut req = agents.for_url(url).post(url);
    for (k, v) in headers {
        req = req.set(k, v);
    }
    match req.send_string(&body.to_string()) {
        Ok(resp) => {
            let status = resp.status();
            Ok(Reply {
                status,
                body: read_body(resp)?,
            })
        }
        Err(ureq::Error::Status(status, resp)) => Ok(Reply {
            status,
            body: read_body(resp)?,
        }),
        Err(ureq::Error::Transport(t)) => {
            if is_timeout(&t) {
                return Err(Failure::Timeout);
            }
            match t.kind() {
                ureq::ErrorKind::Dns
                | ureq::ErrorKind::ConnectionFailed
                | ureq::ErrorKind::InvalidUrl
                | ureq::ErrorKind::UnknownScheme => Err(Failure::Unreachable(t.to_string())),
                ureq::ErrorKind::BadStatus | ureq::ErrorKind::BadHeader => Err(Failure::NotHttp(
                    format!("the server did not speak HTTP: {t}"),
                )),
                _ => Err(Failure::NotHttp(t.to_string())),
            }
        }
    }
}
