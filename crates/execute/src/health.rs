//! Waiting for an app to answer: HTTP GET until a 2xx/3xx answer or the
//! deadline, with backoff. Used after apply (cloud URL) and after start
//! (local port).

use std::time::{Duration, Instant};

/// The last thing seen while waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    Status(u16),
    Error(String),
}

impl std::fmt::Display for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Probe::Status(s) => write!(f, "HTTP {s}"),
            Probe::Error(e) => write!(f, "{e}"),
        }
    }
}

/// One GET, no redirects followed (a 3xx counts as an answer).
pub fn probe(url: &str, timeout: Duration) -> Probe {
    let agent = ureq::AgentBuilder::new()
        .timeout(timeout)
        .redirects(0)
        .build();
    match agent.get(url).call() {
        Ok(r) => Probe::Status(r.status()),
        Err(ureq::Error::Status(code, _)) => Probe::Status(code),
        Err(e) => Probe::Error(e.to_string()),
    }
}

pub fn is_healthy(p: &Probe) -> bool {
    matches!(p, Probe::Status(s) if (200..400).contains(s))
}

/// GET `url` until it answers 2xx/3xx or `timeout` passes; backoff 1 s,
/// 2 s, 4 s … capped at 10 s. `on_try` sees every failed probe. Returns the
/// last probe as the error.
pub fn wait_healthy(
    url: &str,
    timeout: Duration,
    mut on_try: impl FnMut(&Probe),
) -> Result<Probe, Probe> {
    let deadline = Instant::now() + timeout;
    let mut delay = Duration::from_secs(1);
    loop {
        let p = probe(url, Duration::from_secs(5));
        if is_healthy(&p) {
            return Ok(p);
        }
        on_try(&p);
        let now = Instant::now();
        if now >= deadline {
            return Err(p);
        }
        std::thread::sleep(delay.min(deadline - now));
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}
