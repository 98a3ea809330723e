//! A tiny HTTP/1.1 server on 127.0.0.1 that plays an LLM API: it records every
//! request (path, headers, JSON body) and answers with whatever the test's
//! handler returns — a real OpenAI/Anthropic response, an error, a slow answer
//! or bytes that are not HTTP at all.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub enum Reply {
    Json(u16, Value),
    Raw(u16, &'static str, Vec<u8>),
    Slow(Duration, u16, Value),
    Garbage(Vec<u8>),
}

pub struct FakeLlm {
    pub base_url: String,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
}

impl FakeLlm {
    pub fn hits(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
    pub fn last(&self) -> Recorded {
        self.requests
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("a request was made")
    }
}

fn read_request(stream: &mut TcpStream) -> Option<Recorded> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Some(Recorded {
        method,
        path,
        headers,
        body,
    })
}

fn respond(stream: &mut TcpStream, status: u16, content_type: &str, body: &[u8]) {
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        _ => "Status",
    };
    let head = format!("HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    let _ = stream.flush();
}

/// Start a server; `handler` decides the reply for each recorded request.
pub fn start(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> FakeLlm {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().unwrap();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let handler = Arc::new(handler);
    let recorded = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let handler = handler.clone();
            let recorded = recorded.clone();
            std::thread::spawn(move || {
                let Some(req) = read_request(&mut stream) else {
                    return;
                };
                recorded.lock().unwrap().push(req.clone());
                match handler(&req) {
                    Reply::Json(status, v) => respond(
                        &mut stream,
                        status,
                        "application/json",
                        v.to_string().as_bytes(),
                    ),
                    Reply::Raw(status, ct, bytes) => respond(&mut stream, status, ct, &bytes),
                    Reply::Slow(wait, status, v) => {
                        std::thread::sleep(wait);
                        respond(
                            &mut stream,
                            status,
                            "application/json",
                            v.to_string().as_bytes(),
                        );
                    }
                    Reply::Garbage(bytes) => {
                        let _ = stream.write_all(&bytes);
                    }
                }
            });
        }
    });
    FakeLlm {
        base_url: format!("http://{addr}"),
        requests,
    }
}

/// An OpenAI chat-completions response whose message content is `content`.
pub fn openai_answer(content: &str) -> Value {
    serde_json::json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-4o-mini",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": null},
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}
    })
}

/// An Anthropic messages response whose first text block is `text`.
pub fn anthropic_answer(text: &str, stop_reason: &str) -> Value {
    serde_json::json!({
        "id": "msg_test",
        "type": "message",
        "role": "assistant",
        "model": "claude-3-5-haiku-latest",
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": null,
        "usage": {"input_tokens": 10, "output_tokens": 10}
    })
}

/// The providers' error body shape.
pub fn api_error(kind: &str, message: &str) -> Value {
    serde_json::json!({"type": "error", "error": {"type": kind, "message": message, "code": null}})
}
