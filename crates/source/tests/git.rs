//! Git sources: shallow clones of local repositories over `file://`, ref
//! selection, failures that carry git's reason plus a hint, and tokens that
//! reach the server but never the error text.

mod common;

use autodeploy_core::SourceKind;
use autodeploy_source::{fetch, FetchOptions, SourceError};
use common::*;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn head_of(dir: &std::path::Path) -> String {
    git(dir, &["rev-parse", "HEAD"])
}

#[test]
fn clones_a_bare_repository_over_file_url() {
    let s = Scratch::new();
    let repo = make_repo(s.tmp.path());
    let snap = fetch(&repo.file_url(), &s.opts()).unwrap();
    assert_eq!(snap.info.kind, SourceKind::Git);
    assert_eq!(snap.info.input, repo.file_url());
    assert_eq!(snap.info.commit.as_deref(), Some(repo.second.as_str()));
    assert_eq!(head_of(&snap.root), repo.second);
    assert!(snap.root.ends_with("myapp"), "{}", snap.root.display());
    assert_eq!(
        std::fs::read_to_string(snap.root.join("app.py")).unwrap(),
        "print('v2')\n"
    );
    // Shallow: only one commit is present.
    assert_eq!(git(&snap.root, &["rev-list", "--count", "HEAD"]), "1");
    // No tags fetched.
    assert_eq!(git(&snap.root, &["tag"]), "");
    let owned = snap.owned_dir().unwrap().to_path_buf();
    assert!(owned.starts_with(s.work()));
    drop(snap);
    assert!(!owned.exists(), "clone removed on drop");
}

#[test]
fn keep_persists_the_clone() {
    let s = Scratch::new();
    let repo = make_repo(s.tmp.path());
    let mut snap = fetch(&repo.file_url(), &s.opts()).unwrap();
    let kept = snap.keep().unwrap();
    let root = snap.root.clone();
    drop(snap);
    assert!(root.join("app.py").exists());
    std::fs::remove_dir_all(kept).unwrap();
}

#[test]
fn a_local_bare_repository_path_is_cloned() {
    let s = Scratch::new();
    let repo = make_repo(s.tmp.path());
    let snap = fetch(repo.bare.to_str().unwrap(), &s.opts()).unwrap();
    assert_eq!(snap.info.kind, SourceKind::Git);
    assert_eq!(snap.info.commit.as_deref(), Some(repo.second.as_str()));
    // With a #ref too.
    let input = format!("{}#dev", repo.bare.display());
    let snap = fetch(&input, &s.opts()).unwrap();
    assert_eq!(snap.info.commit.as_deref(), Some(repo.dev.as_str()));
}

#[test]
fn selects_branch_tag_and_commit() {
    let s = Scratch::new();
    let repo = make_repo(s.tmp.path());
    let url = repo.file_url();

    // Branch through the option.
    let mut opts = s.opts();
    opts.git_ref = Some("dev".into());
    let snap = fetch(&url, &opts).unwrap();
    assert_eq!(snap.info.commit.as_deref(), Some(repo.dev.as_str()));
    assert!(snap.root.join("dev.txt").exists());

    // Tag through URL#ref.
    let snap = fetch(&format!("{url}#v1"), &s.opts()).unwrap();
    assert_eq!(snap.info.commit.as_deref(), Some(repo.first.as_str()));
    assert_eq!(snap.info.input, format!("{url}#v1"));

    // A full SHA that is not a branch tip.
    let snap = fetch(&format!("{url}#{}", repo.first), &s.opts()).unwrap();
    assert_eq!(snap.info.commit.as_deref(), Some(repo.first.as_str()));
    assert_eq!(
        std::fs::read_to_string(snap.root.join("app.py")).unwrap(),
        "print('v1')\n"
    );

    // A full ref name.
    let snap = fetch(&format!("{url}#refs/heads/dev"), &s.opts()).unwrap();
    assert_eq!(snap.info.commit.as_deref(), Some(repo.dev.as_str()));

    // Same ref twice is fine; two different refs are not.
    let mut opts = s.opts();
    opts.git_ref = Some("v1".into());
    assert!(fetch(&format!("{url}#v1"), &opts).is_ok());
    let e = fetch(&format!("{url}#dev"), &opts).unwrap_err();
    assert!(matches!(e, SourceError::InvalidRef { .. }), "{e:?}");
    assert!(e.to_string().contains("only once"), "{e}");
}

#[test]
fn unknown_refs_explain_themselves() {
    let s = Scratch::new();
    let repo = make_repo(s.tmp.path());
    let url = repo.file_url();
    let e = fetch(&format!("{url}#no-such-branch"), &s.opts()).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, SourceError::GitFailed { .. }), "{e:?}");
    assert!(
        msg.contains("no-such-branch"),
        "git's reason is kept: {msg}"
    );
    assert!(msg.contains("git ls-remote"), "{msg}");

    let short = &repo.first[..10];
    let e = fetch(&format!("{url}#{short}"), &s.opts()).unwrap_err();
    assert!(e.to_string().contains("full 40-character SHA"), "{e}");

    let missing = "0000000000000000000000000000000000000001";
    let e = fetch(&format!("{url}#{missing}"), &s.opts()).unwrap_err();
    assert!(matches!(e, SourceError::GitFailed { .. }), "{e:?}");

    let e = fetch(&format!("{url}#--upload-pack=evil"), &s.opts()).unwrap_err();
    assert!(matches!(e, SourceError::InvalidRef { .. }), "{e:?}");
    assert!(!s.work().exists() || tree(&s.work()).is_empty());
}

#[test]
fn a_missing_repository_fails_with_gits_reason() {
    let s = Scratch::new();
    let e = fetch("file:///nonexistent/repo.git", &s.opts()).unwrap_err();
    let msg = e.to_string();
    match &e {
        SourceError::GitFailed { action, detail, .. } => {
            assert_eq!(action, "clone");
            assert!(
                detail.contains("does not appear to be a git repository"),
                "{detail}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(msg.contains("file:///nonexistent/repo.git"), "{msg}");
    assert!(msg.contains("check the URL"), "{msg}");
    assert!(tree(&s.work()).is_empty(), "partial clone removed");
}

#[test]
fn missing_git_is_reported_with_install_instructions() {
    let s = Scratch::new();
    let mut opts = s.opts();
    opts.git_program = "/nonexistent/bin/git".into();
    let e = fetch("https://example.invalid/o/r.git", &opts).unwrap_err();
    assert!(matches!(e, SourceError::GitMissing { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("install git") && msg.contains("apt-get install git"),
        "{msg}"
    );
}

/// A tiny HTTP server on 127.0.0.1 that answers every request with `status`
/// (or never answers when `status` is 0) and records the requests.
struct Server {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
}

fn serve(status: u16) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let log = log.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut req = String::new();
                loop {
                    let mut line = String::new();
                    match reader.read_line(&mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) if line == "\r\n" => break,
                        Ok(_) => req.push_str(&line),
                    }
                }
                log.lock().unwrap().push(req);
                if status == 0 {
                    std::thread::sleep(Duration::from_secs(30));
                    return;
                }
                let reason = if status == 401 {
                    "Unauthorized"
                } else {
                    "Forbidden"
                };
                let body = "denied\n";
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} {reason}\r\nWWW-Authenticate: Basic realm=\"test\"\r\n\
                     Content-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    Server { port, requests }
}

#[test]
fn private_repository_without_token_fails_fast_with_a_hint() {
    let s = Scratch::new();
    let server = serve(401);
    let url = format!("http://127.0.0.1:{}/owner/private.git", server.port);
    let started = std::time::Instant::now();
    let e = fetch(&url, &s.opts()).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "no prompt, no hang"
    );
    let msg = e.to_string();
    assert!(matches!(e, SourceError::GitFailed { .. }), "{e:?}");
    assert!(
        msg.contains(
            "if the repository is private, set GITHUB_TOKEN (or GITLAB_TOKEN) or use an \
                      ssh URL with a loaded key"
        ),
        "{msg}"
    );
    let reqs = server.requests.lock().unwrap();
    assert!(!reqs.is_empty());
    assert!(reqs
        .iter()
        .all(|r| !r.to_ascii_lowercase().contains("authorization:")));
}

#[test]
fn token_is_sent_as_a_header_and_never_shown() {
    let s = Scratch::new();
    let server = serve(401);
    let token = "ghp_SuperSecretToken123";
    let url = format!("http://127.0.0.1:{}/owner/private.git", server.port);
    let mut opts = s.opts();
    opts.git_token = Some(token.into());
    let e = fetch(&url, &opts).unwrap_err();
    let msg = e.to_string();
    let debug = format!("{e:?}");
    let basic = {
        // base64("x-access-token:ghp_SuperSecretToken123")
        "eC1hY2Nlc3MtdG9rZW46Z2hwX1N1cGVyU2VjcmV0VG9rZW4xMjM="
    };
    for text in [&msg, &debug] {
        assert!(!text.contains(token), "token leaked: {text}");
        assert!(!text.contains(basic), "header leaked: {text}");
    }
    assert!(
        msg.contains("a token was sent and the server refused it"),
        "{msg}"
    );
    assert!(!format!("{opts:?}").contains(token));
    let reqs = server.requests.lock().unwrap();
    assert!(
        reqs.iter()
            .any(|r| r.contains(&format!("Authorization: Basic {basic}"))),
        "server saw the header: {reqs:?}"
    );
    assert!(
        reqs.iter().all(|r| !r.contains(token)),
        "token never in the URL"
    );
}

#[test]
fn env_tokens_are_not_sent_to_other_hosts() {
    let s = Scratch::new();
    let server = serve(403);
    let url = format!("http://127.0.0.1:{}/o/r.git", server.port);
    let mut opts = FetchOptions::from_env_with(|k| (k == "GITHUB_TOKEN").then(|| "ghp_abc".into()));
    opts.work_dir = Some(s.work());
    let e = fetch(&url, &opts).unwrap_err();
    let reqs = server.requests.lock().unwrap();
    assert!(
        reqs.iter().all(|r| !r.contains("Authorization")),
        "{reqs:?}"
    );
    assert!(e.to_string().contains("only sent to github.com"), "{e}");
}

#[test]
fn credentials_in_the_url_are_redacted() {
    let s = Scratch::new();
    let server = serve(401);
    let url = format!("http://alice:hunter2pw@127.0.0.1:{}/o/r.git", server.port);
    let e = fetch(&url, &s.opts()).unwrap_err();
    let msg = e.to_string();
    assert!(
        !msg.contains("hunter2pw") && !format!("{e:?}").contains("hunter2pw"),
        "{msg}"
    );
    assert!(msg.contains("http://***@127.0.0.1"), "{msg}");
}

#[test]
fn a_hanging_server_hits_the_timeout() {
    let s = Scratch::new();
    let server = serve(0);
    let url = format!("http://127.0.0.1:{}/o/r.git", server.port);
    let mut opts = s.opts();
    opts.git_timeout = Some(Duration::from_secs(2));
    let started = std::time::Instant::now();
    let e = fetch(&url, &opts).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(
        matches!(e, SourceError::GitTimeout { seconds: 2, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("git_timeout"), "{e}");
}

#[test]
fn disallowed_transports_are_not_used() {
    let s = Scratch::new();
    // Ends in .git and does not exist, so it is handed to git — which must
    // refuse the ext:: transport (it would run a command).
    let marker = s.tmp.path().join("ext-ran");
    let input = format!("ext::sh -c touch% {}% .git", marker.display());
    let e = fetch(&input, &s.opts()).unwrap_err();
    assert!(!marker.exists(), "ext:: transport ran a command");
    assert!(matches!(e, SourceError::GitFailed { .. }), "{e:?}");
}

/// The service's network policy: URLs into this machine's or a private
/// network are refused before anything connects, alike for a closed and an
/// open port; local sources and allowed hosts are not its business; and
/// `remote_commit` (the service's `git ls-remote`) obeys it too.
#[test]
fn the_network_policy_refuses_private_hosts_before_connecting() {
    let s = Scratch::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let open = listener.local_addr().unwrap().port();
    let mut opts = s.opts();
    opts.network = autodeploy_source::NetworkPolicy::public_only(vec![]);
    let reason = |url: &str| match fetch(url, &opts) {
        Err(SourceError::Forbidden { reason, .. }) => reason,
        other => panic!("{url}: {other:?}"),
    };
    let closed = reason("http://127.0.0.1:1/x.git");
    let opened = reason(&format!("https://127.0.0.1:{open}/x.git"));
    assert_eq!(closed, opened);
    assert!(
        closed.contains("loopback") && closed.contains("--allow-host"),
        "{closed}"
    );
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "https://[::ffff:10.1.2.3]/x.git",
        "git://[fd00:ec2::254]/x.git",
        "ssh://git@192.168.1.10/x.git",
        "git@100.64.1.1:o/r.git",
    ] {
        reason(url);
    }
    assert!(matches!(
        autodeploy_source::remote_commit("http://127.0.0.1:1/x.git", &opts),
        Err(SourceError::Forbidden { .. })
    ));
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "nothing connected to the open port"
    );
    assert!(
        !s.work().exists(),
        "nothing was written for a refused source"
    );

    // Local sources pass (the service decides about them separately).
    let repo = make_repo(s.tmp.path());
    let snap = fetch(&repo.file_url(), &opts).unwrap();
    assert_eq!(snap.info.commit.as_deref(), Some(repo.second.as_str()));
    assert_eq!(
        autodeploy_source::remote_commit(&repo.file_url(), &opts).unwrap(),
        Some(repo.second.clone())
    );

    // An allowed host is fetched wherever it resolves: the connection is
    // tried (and fails: nothing listens on port 1).
    opts.network = autodeploy_source::NetworkPolicy::public_only(vec!["127.0.0.1".into()]);
    assert!(matches!(
        fetch("http://127.0.0.1:1/x.git", &opts),
        Err(SourceError::GitFailed { .. })
    ));
}
