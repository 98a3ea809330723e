//! The signed calls and the credential chain go through an HTTP proxy from
//! the proxy variables, and around it for NO_PROXY hosts: a tiny local proxy
//! (CONNECT tunnels and absolute-form requests) in front of a fake STS.

mod fake;

use autodeploy_aws::http::ProxyConfig;
use autodeploy_aws::{AwsClient, CredentialChain, Credentials};
use fake::{Answer, Fake, Req};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// A proxy that records the target of every request it relays.
struct Proxy {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || relay(client, &log));
            }
        });
        Proxy { url, seen }
    }
    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

fn relay(mut client: TcpStream, log: &Mutex<Vec<String>>) {
    // Read the head byte by byte: what follows it belongs to the tunnel.
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if client.read(&mut b).unwrap_or(0) == 0 {
            return;
        }
        head.push(b[0]);
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let mut lines = head.split("\r\n");
    let first = lines.next().unwrap_or("").to_string();
    let mut parts = first.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    log.lock().unwrap().push(format!("{method} {target}"));
    if method == "CONNECT" {
        let Ok(upstream) = TcpStream::connect(target) else {
            let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n");
            return;
        };
        let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
        pipe(client, upstream);
    } else {
        // Absolute form: http://host:port/path → origin form to host:port.
        let rest = target.split_once("://").map_or(target, |(_, r)| r);
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let path = if path.is_empty() { "/" } else { path };
        let Ok(mut upstream) = TcpStream::connect(authority) else {
            return;
        };
        let headers: String = lines.map(|l| format!("{l}\r\n")).collect();
        let _ = upstream.write_all(format!("{method} {path} HTTP/1.1\r\n{headers}").as_bytes());
        pipe(client, upstream);
    }
}

fn pipe(a: TcpStream, b: TcpStream) {
    let (mut a2, mut b2) = (a.try_clone().unwrap(), b.try_clone().unwrap());
    let (mut a, mut b) = (a, b);
    let t = std::thread::spawn(move || {
        let _ = std::io::copy(&mut a2, &mut b2);
        let _ = b2.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut b, &mut a);
    let _ = a.shutdown(std::net::Shutdown::Write);
    let _ = t.join();
}

fn sts() -> Fake {
    Fake::start(|_r: &Req| {
        Answer::xml(
            200,
            "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/p</Arn>\
             <UserId>AIDA</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>",
        )
    })
}

#[test]
fn signed_calls_use_the_proxy_unless_no_proxy_names_the_host() {
    let (sts, proxy) = (sts(), Proxy::start());
    let host = sts.url.trim_start_matches("http://").to_string();
    let client = |no_proxy: Vec<String>| {
        AwsClient::with_credentials(
            Credentials::new("AKID", "s", None),
            "us-east-1",
            Some(&sts.url),
        )
        .unwrap()
        .with_proxies(ProxyConfig {
            http: Some(proxy.url.clone()),
            https: Some(proxy.url.clone()),
            no_proxy,
        })
        .unwrap()
    };
    assert_eq!(
        client(vec![]).caller_identity().unwrap().account,
        "123456789012"
    );
    let seen = proxy.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].contains(&host), "{seen:?}");

    client(vec!["127.0.0.1".into()]).caller_identity().unwrap();
    assert_eq!(
        proxy.seen().len(),
        1,
        "NO_PROXY host went through the proxy"
    );
    assert_eq!(sts.requests().len(), 2);
}

#[test]
fn the_credential_chain_uses_the_proxy_variables_too() {
    let proxy = Proxy::start();
    let ecs = Fake::start(|_r: &Req| {
        Answer::json(
            200,
            "{\"AccessKeyId\":\"ECSVIAPROXY\",\"SecretAccessKey\":\"s\",\"Token\":\"t\",\"Expiration\":\"2099-01-01T00:00:00Z\"}",
        )
    });
    let home = tempfile::tempdir().unwrap();
    let uri = format!("{}/creds", ecs.url);
    let vars: Vec<(String, String)> = [
        ("HOME", home.path().display().to_string()),
        (
            "AWS_CONFIG_FILE",
            home.path().join("none").display().to_string(),
        ),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            home.path().join("none").display().to_string(),
        ),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri),
        ("HTTP_PROXY", proxy.url.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let chain = CredentialChain::from_vars(&vars, "us-east-1").unwrap();
    assert_eq!(chain.credentials().unwrap().access_key_id(), "ECSVIAPROXY");
    assert_eq!(proxy.seen().len(), 1, "{:?}", proxy.seen());
    assert_eq!(ecs.requests().len(), 1);
}
