//! The HTTP health check: GET a URL until it answers 2xx/3xx, with backoff,
//! within a deadline. On `/` (no health route known) an API's 401, 403, 404
//! or 405 counts too: the app answered, it only has no page there. A 400
//! does not (Django refusing the Host header is a misconfiguration).
//!
//! Deliberately only HTTP status codes: no body checks, no redirects
//! followed (a 3xx already proves the app is serving), no TLS for local apps.

use std::time::{Duration, Instant};

/// One GET; `Ok(status)` when it answers (see the module doc),
/// `Err(what happened)` otherwise.
pub fn probe(url: &str, timeout: Duration) -> Result<u16, String> {
    let agent = ureq::AgentBuilder::new()
        .timeout(timeout)
        .redirects(0)
        .build();
    let code = match agent.get(url).call() {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(code, _)) => code,
        Err(ureq::Error::Transport(t)) => return Err(t.to_string()),
    };
    if answers(url, code) {
        Ok(code)
    } else {
        Err(format!("HTTP {code}"))
    }
}

fn answers(url: &str, code: u16) -> bool {
    let root = url
        .split_once("://")
        .map(|(_, rest)| rest.find('/').is_none_or(|i| &rest[i..] == "/"))
        .unwrap_or(false);
    (200..400).contains(&code) || (root && matches!(code, 401 | 403 | 404 | 405))
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
    fn an_api_without_a_root_page_answers_on_root_only() {
        assert!(answers("http://127.0.0.1:8000/", 404));
        assert!(answers("http://127.0.0.1:8000", 401));
        assert!(!answers("http://127.0.0.1:8000/health", 404));
        assert!(!answers("http://127.0.0.1:8000/", 400));
        assert!(!answers("http://127.0.0.1:8000/", 502));
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
