//! `autodeploy serve` as an operator starts it: the first admin token is
//! handed over in a 0600 file when stderr is not a terminal and never
//! appears in the log; the home is not listable by others and the store
//! file is private; a redirected log holds no colour codes.

mod support;

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::*;

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_first_admin_token_goes_to_a_private_file_never_to_the_log() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("home");
    let port = free_port();
    let mut serve = cli(&home)
        .args([
            "serve",
            "--workers",
            "0",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let token_file = home.join("admin-token");
    let deadline = Instant::now() + Duration::from_secs(60);
    let token = loop {
        if let Ok(t) = std::fs::read_to_string(&token_file) {
            if t.trim().len() == 36 {
                break t.trim().to_string();
            }
        }
        assert!(Instant::now() < deadline, "no admin token file");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(token.starts_with("adt_"));
    assert_eq!(mode(&token_file), 0o600);
    // The token is written once the API listens: a client that waited for
    // it connects at once.
    std::net::TcpStream::connect(("127.0.0.1", port))
        .expect("serve listens once the token is there");
    // SAFETY: SIGTERM to our own child: a graceful stop closes its stderr.
    unsafe { libc::kill(serve.id() as i32, libc::SIGTERM) };
    let mut log = String::new();
    serve
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    serve.wait().unwrap();
    assert!(!log.contains(&token), "the token is in the log:\n{log}");
    assert!(
        !log.contains('\u{1b}'),
        "no colour codes in a redirected log:\n{log:?}"
    );
    assert!(
        log.contains("admin-token"),
        "the log says where it is:\n{log}"
    );

    // The home cannot be listed by others; the store is the owner's only.
    assert_eq!(mode(&home) & 0o044, 0, "home mode {:o}", mode(&home));
    assert_eq!(mode(&home.join("autodeploy.db")), 0o600);

    // A second start creates no second token and leaves the file alone.
    let out = run(cli(&home).args(["token", "create", "--user", "bob"]));
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&token_file).unwrap().trim(), token);
}

/// A port in use stops `serve` before the first admin token is made: no
/// token handed out for a server that never ran.
#[test]
fn a_port_in_use_stops_serve_before_any_token_is_made() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("home");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = run(cli(&home).args([
        "serve",
        "--workers",
        "0",
        "--listen",
        &format!("127.0.0.1:{port}"),
    ]));
    assert!(!out.status.success());
    assert!(text(&out).contains("could not listen"), "{}", text(&out));
    assert!(!home.join("admin-token").exists());
}
