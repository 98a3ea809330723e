//! The front of a local web service: a TCP relay on the deployment's stable
//! port that forwards every connection to the port of the version currently
//! serving. It is what keeps one URL across redeploys: a new version starts
//! beside the old one on a port of its own, and takes over only when it
//! answers — by one atomic write of the target file, which the relay reads
//! for every new connection. Connections already open stay with the version they reached.
//!
//! The supervisor runs it (a spec with `front` set), so it is detached,
//! restarted and stopped like any local process.
//!
//! Deliberately bytes only (HTTP, websockets and anything else pass through
//! untouched); the one thing it says itself is a `502` when no version
//! answers, so a person sees why the page is down.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::time::Duration;

/// The target file's content: the port of the version that serves.
pub fn write_target(path: &Path, port: u16) -> std::io::Result<()> {
    crate::proc::write_atomic(path, format!("{port}\n").as_bytes())
}

/// The port named in a target file.
pub fn read_target(path: &Path) -> Option<u16> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Bind `addr` and relay to the port in `target` from a background thread
/// until `stop` is set.
pub fn serve(addr: SocketAddr, target: PathBuf, stop: &'static AtomicBool) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let last = AtomicU16::new(read_target(&target).unwrap_or(0));
    std::thread::spawn(move || {
        loop {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            match listener.accept() {
                Ok((client, _)) => {
                    // The target is read for every connection (a few
                    // microseconds): file times are too coarse to tell two
                    // quick switches apart. An unreadable file (mid-rename)
                    // keeps the last port.
                    let port = read_target(&target).unwrap_or_else(|| last.load(Ordering::SeqCst));
                    last.store(port, Ordering::SeqCst);
                    std::thread::spawn(move || relay(client, port));
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    });
    Ok(())
}

fn relay(client: TcpStream, port: u16) {
    let _ = client.set_nonblocking(false);
    let backend = (port != 0)
        .then(|| {
            TcpStream::connect_timeout(
                &SocketAddr::from(([127, 0, 0, 1], port)),
                Duration::from_secs(5),
            )
            .ok()
        })
        .flatten();
    let Some(backend) = backend else {
        let mut c = client;
        let body = "no version of this app is answering right now (it may be restarting); see `autodeploy logs`\n";
        let _ = write!(
            c,
            "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        // Read what the client sent before closing, or the kernel answers
        // the unread bytes with a reset and the 502 is lost.
        let _ = c.shutdown(Shutdown::Write);
        let _ = c.set_read_timeout(Some(Duration::from_secs(1)));
        let mut sink = [0u8; 4096];
        while matches!(c.read(&mut sink), Ok(n) if n > 0) {}
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = backend.set_nodelay(true);
    let (Ok(c2), Ok(b2)) = (client.try_clone(), backend.try_clone()) else {
        return;
    };
    let up = std::thread::spawn(move || pipe(client, backend));
    pipe(b2, c2);
    let _ = up.join();
}

/// Copy `from` → `to` until `from` ends, then half-close `to`.
fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufRead;

    static STOP: AtomicBool = AtomicBool::new(false);

    /// A backend that answers every line with `name: line`.
    fn echo(name: &'static str) -> u16 {
        let l = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut w = s.try_clone().unwrap();
                    for line in std::io::BufReader::new(s).lines().map_while(Result::ok) {
                        let _ = writeln!(w, "{name}: {line}");
                    }
                });
            }
        });
        port
    }

    fn ask(port: u16, q: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        writeln!(s, "{q}").unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn relays_to_the_current_target_and_switches_when_it_changes() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("web.target");
        let front = crate::proc::free_port().unwrap();
        // Nothing serves yet: a 502 that says why.
        write_target(&target, 0).unwrap();
        serve(
            SocketAddr::from(([127, 0, 0, 1], front)),
            target.clone(),
            &STOP,
        )
        .unwrap();
        assert!(ask(front, "hi").starts_with("HTTP/1.1 502"));
        let blue = echo("blue");
        write_target(&target, blue).unwrap();
        assert!(crate::proc::wait_until(Duration::from_secs(5), || ask(
            front, "hi"
        )
            == "blue: hi\n"));
        let green = echo("green");
        write_target(&target, green).unwrap();
        assert!(crate::proc::wait_until(Duration::from_secs(5), || ask(
            front, "x"
        )
            == "green: x\n"));
        STOP.store(true, Ordering::SeqCst);
    }
}
