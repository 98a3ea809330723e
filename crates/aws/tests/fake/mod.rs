//! A tiny HTTP/1.1 server on 127.0.0.1 for protocol fakes: each request is
//! recorded and answered by a handler; one request per connection.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// One request as received.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    /// The path without the query.
    pub path: String,
    pub raw_query: String,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

fn decode(s: &str) -> String {
    let s = s.replace('+', " ");
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn pairs(s: &str) -> HashMap<String, String> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == &name.to_ascii_lowercase())
            .map(|(_, v)| v.as_str())
    }
    /// The form-encoded body (Query protocol).
    pub fn form(&self) -> HashMap<String, String> {
        pairs(&String::from_utf8_lossy(&self.body))
    }
    pub fn query(&self) -> HashMap<String, String> {
        pairs(&self.raw_query)
    }
}

/// An answer.
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    pub headers: Vec<(String, String)>,
}

impl Answer {
    pub fn xml(status: u16, body: &str) -> Self {
        Answer {
            status,
            content_type: "text/xml",
            body: body.into(),
            headers: vec![],
        }
    }
    pub fn json(status: u16, body: &str) -> Self {
        Answer {
            status,
            content_type: "application/json",
            body: body.into(),
            headers: vec![],
        }
    }
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
    pub fn text(status: u16, body: &str) -> Self {
        Answer {
            status,
            content_type: "text/plain",
            body: body.into(),
            headers: vec![],
        }
    }
}

/// A running fake; it stops with the test process.
pub struct Fake {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    seen: Arc<Mutex<Vec<Req>>>,
}

impl Fake {
    pub fn start(handler: impl Fn(&Req) -> Answer + Send + Sync + 'static) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let Some(req) = read_request(&mut stream) else {
                    continue;
                };
                let answer = handler(&req);
                log.lock().unwrap().push(req);
                let extra: String = answer
                    .headers
                    .iter()
                    .map(|(k, v)| format!("{k}: {v}\r\n"))
                    .collect();
                let head = format!(
                    "HTTP/1.1 {} X\r\ncontent-type: {}\r\ncontent-length: {}\r\n{extra}connection: close\r\n\r\n",
                    answer.status,
                    answer.content_type,
                    answer.body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(answer.body.as_bytes());
            }
        });
        Fake { url, seen }
    }

    pub fn requests(&self) -> Vec<Req> {
        self.seen.lock().unwrap().clone()
    }
}

pub fn read_request(stream: &mut std::net::TcpStream) -> Option<Req> {
    let mut r = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    // An absolute-form target (through a proxy) keeps only its path.
    let path_and_query = match target.split_once("://") {
        Some((_, rest)) => rest
            .find('/')
            .map_or("/".to_string(), |i| rest[i..].to_string()),
        None => target.clone(),
    };
    let (path, raw_query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (path_and_query, String::new()),
    };
    Some(Req {
        method,
        path,
        raw_query,
        headers,
        body,
    })
}

/// IAM's answer to `SimulatePrincipalPolicy` for the actions the request
/// names (`ActionNames.member.N`): `implicitDeny` for those in `deny`,
/// `allowed` for the rest.
pub fn simulation(req: &Req, deny: &[&str]) -> Answer {
    let form = req.form();
    let mut members = String::new();
    for i in 1.. {
        let Some(action) = form.get(&format!("ActionNames.member.{i}")) else {
            break;
        };
        let decision = if deny.contains(&action.as_str()) {
            "implicitDeny"
        } else {
            "allowed"
        };
        members.push_str(&format!(
            "<member><EvalActionName>{action}</EvalActionName><EvalDecision>{decision}</EvalDecision><MatchedStatements/></member>"
        ));
    }
    Answer::xml(
        200,
        &format!(
            "<SimulatePrincipalPolicyResponse><SimulatePrincipalPolicyResult><IsTruncated>false</IsTruncated><EvaluationResults>{members}</EvaluationResults></SimulatePrincipalPolicyResult></SimulatePrincipalPolicyResponse>"
        ),
    )
}
