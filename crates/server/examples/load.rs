//! A small HTTP load generator for bench/service.sh: N concurrent
//! keep-alive connections send one request shape for a fixed time; prints
//! requests/s and latency percentiles as one JSON line.
//!
//! ```text
//! cargo run --release -p autodeploy-server --example load -- \
//!   --url http://127.0.0.1:8080/v1/plan --token adt_… --method POST \
//!   --body '{"repo": "…", "request": "…"}' --concurrency 32 --seconds 10
//! # GET of many URLs: --url-file FILE (one URL a line, picked at random)
//! # a different body each time: every `{n}` in --body becomes a request counter
//! ```
//! Not a general tool: no TLS, no HTTP/2, exits non-zero on any non-2xx.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    urls: Vec<String>,
    token: String,
    method: reqwest::Method,
    body: Option<String>,
    concurrency: usize,
    seconds: f64,
    warmup: f64,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        urls: Vec::new(),
        token: String::new(),
        method: reqwest::Method::GET,
        body: None,
        concurrency: 16,
        seconds: 10.0,
        warmup: 1.0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => a.urls.push(val()?),
            "--url-file" => {
                let text = std::fs::read_to_string(val()?).map_err(|e| e.to_string())?;
                a.urls
                    .extend(text.lines().filter(|l| !l.is_empty()).map(String::from));
            }
            "--token" => a.token = val()?,
            "--method" => a.method = val()?.parse().map_err(|_| "bad --method".to_string())?,
            "--body" => a.body = Some(val()?),
            "--concurrency" => a.concurrency = val()?.parse().map_err(|_| "bad --concurrency")?,
            "--seconds" => a.seconds = val()?.parse().map_err(|_| "bad --seconds")?,
            "--warmup" => a.warmup = val()?.parse().map_err(|_| "bad --warmup")?,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if a.urls.is_empty() {
        return Err("give --url or --url-file".into());
    }
    Ok(a)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = match parse_args() {
        Ok(a) => Arc::new(a),
        Err(e) => {
            eprintln!("load: {e}");
            std::process::exit(2);
        }
    };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()
        .expect("client");
    let stop = Arc::new(AtomicBool::new(false));
    let measuring = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let counter = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for w in 0..args.concurrency {
        let (client, args, stop, measuring, errors, counter) = (
            client.clone(),
            args.clone(),
            stop.clone(),
            measuring.clone(),
            errors.clone(),
            counter.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat: Vec<u32> = Vec::with_capacity(100_000);
            let mut n: usize = w.wrapping_mul(7919);
            while !stop.load(Ordering::Relaxed) {
                n = n
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let url = &args.urls[(n >> 33) % args.urls.len()];
                let mut req = client.request(args.method.clone(), url);
                if !args.token.is_empty() {
                    req = req.bearer_auth(&args.token);
                }
                if let Some(b) = &args.body {
                    let body = if b.contains("{n}") {
                        b.replace("{n}", &counter.fetch_add(1, Ordering::Relaxed).to_string())
                    } else {
                        b.clone()
                    };
                    req = req.header("content-type", "application/json").body(body);
                }
                let t = Instant::now();
                let ok = match req.send().await {
                    Ok(r) => {
                        let good = r.status().is_success();
                        let _ = r.bytes().await;
                        good
                    }
                    Err(_) => false,
                };
                if measuring.load(Ordering::Relaxed) {
                    if ok {
                        lat.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                    } else {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            lat
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(args.warmup)).await;
    measuring.store(true, Ordering::SeqCst);
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(args.seconds)).await;
    measuring.store(false, Ordering::SeqCst);
    let elapsed = t0.elapsed().as_secs_f64();
    stop.store(true, Ordering::SeqCst);
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap_or_default());
    }
    all.sort_unstable();
    let pct = |p: f64| -> f64 {
        if all.is_empty() {
            return 0.0;
        }
        let i = ((all.len() as f64 - 1.0) * p).round() as usize;
        all[i] as f64 / 1000.0
    };
    let errors = errors.load(Ordering::SeqCst);
    println!(
        "{{\"requests\": {}, \"errors\": {}, \"seconds\": {:.2}, \"rps\": {:.0}, \"p50_ms\": {:.3}, \"p90_ms\": {:.3}, \"p99_ms\": {:.3}, \"p999_ms\": {:.3}, \"max_ms\": {:.3}, \"concurrency\": {}}}",
        all.len(),
        errors,
        elapsed,
        all.len() as f64 / elapsed,
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(0.999),
        pct(1.0),
        args.concurrency
    );
    if errors > 0 {
        std::process::exit(1);
    }
}
