//! The HTTP health check: GET a URL until it answers 2xx/3xx, with backoff,
//! within a deadline.
//!
//! Deliberately only HTTP status codes: no body checks, no redirects
//! followed (a 3xx already proves the app is serving), no TLS for local apps.

use std::time::{Duration, Instant};

/// One GET; `Ok(status)` for 2xx/3xx, `Err(what happened)` otherwise.
pub fn probe(url: &str, timeout: Duration) -> Result<u16, String> {
    let agent = ureq::AgentBuilder::new()
        .timeout(timeout)
        .redirects(0)
        .build();
    match agent.get(url).call() {
        Ok(r) if (200..400).contains(&r.status()) => Ok(r.status()),
        Ok(r) => Err(format!("HTTP {}", r.status())),
        Err(ureq::Error::Status(code, _)) => Err(format!("HTTP {code}")),
        Err(ureq::Error::Transport(t)) => Err(t.to_string()),
    }
}

/// Probe `url` until it is healthy, `timeout` passes or `gave_up()` says the
/// app will not come (crash loop, supervisor gone). Backoff 250 ms → 2 s.
pub fn wait_healthy(
    url: &str,
    timeout: Duration,
    gave_up: impl Fn() -> bool,
) -> Result<u16, String> {
    let deadline = Instant::now() + timeout;
    let mut delay = Duration::from_millis(250);
    loop {
        let last = match probe(url, Duration::from_secs(5)) {
            Ok(code) => return Ok(code),
            Err(e) => e,
        };
        if gave_up() {
            return Err(format!("{last}; the app is not running (see the log)"));
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(last);
        }
        std::thread::sleep(delay.min(deadline - now));
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    fn serve_once(status: &'static str) -> String {
        let l = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let url = format!("http://{}/", l.local_addr().unwrap());
        std::thread::spawn(move || {
            if let Ok((mut s, _)) = l.accept() {
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf);
                let _ = write!(s, "HTTP/1.1 {status}\r\nContent-Length: 0\r\nLocation: /x\r\nConnection: close\r\n\r\n");
            }
        });
        url
    }

    #[test]
    fn statuses_below_400_are_healthy() {
        assert_eq!(
            probe(&serve_once("200 OK"), Duration::from_secs(5)),
            Ok(200)
        );
        assert_eq!(
            probe(&serve_once("302 Found"), Duration::from_secs(5)),
            Ok(302)
        );
        assert_eq!(
            probe(
                &serve_once("500 Internal Server Error"),
                Duration::from_secs(5)
            ),
            Err("HTTP 500".into())
        );
    }

    #[test]
    fn a_closed_port_times_out_with_the_last_error() {
        let port = crate::proc::free_port().unwrap();
        let started = Instant::now();
        let r = wait_healthy(
            &format!("http://127.0.0.1:{port}/"),
            Duration::from_millis(600),
            || false,
        );
        assert!(r.is_err());
        assert!(started.elapsed() < Duration::from_secs(5));
        let r = wait_healthy(
            &format!("http://127.0.0.1:{port}/"),
            Duration::from_secs(60),
            || true,
        );
        assert!(r.unwrap_err().contains("not running"));
    }
}
