//! Rough throughput figures for a store backend.
//!
//! `cargo run --release -p autodeploy-store --example store_bench [URL]`
//! (default: a temporary SQLite file). Not a test: it asserts nothing beyond
//! "every job was claimed once", and its numbers depend on the machine.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use autodeploy_store::*;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let tmp = tempfile::tempdir().map_err(|source| StoreError::Io {
        path: "temp dir".into(),
        source,
    })?;
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| format!("sqlite://{}", tmp.path().join("bench.db").display()));
    let store = open(&url).await?;
    let n = 2000;
    println!("backend: {}", store.backend());

    let t = Instant::now();
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let (d, _) = store
            .create_deployment(
                NewDeployment {
                    owner: format!("user{}", i % 10),
                    name: format!("app-{i}"),
                    source: "https://github.com/example/app".into(),
                    request: "deploy on aws".into(),
                    cloud: Some("aws".into()),
                    options: serde_json::json!({}),
                    idempotency_key: None,
                },
                Some(JobKind::Deploy),
            )
            .await?;
        ids.push(d.id);
    }
    report("create_deployment+enqueue (sequential)", n, t.elapsed());

    let t = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..8 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            let me = format!("w{w}");
            let mut got = Vec::new();
            while let Some(j) = s.claim(&me, Duration::from_secs(60)).await? {
                s.finish(j.id, &me, JobOutcome::Done).await?;
                got.push(j.id);
            }
            Ok::<_, StoreError>(got)
        }));
    }
    let mut claimed = Vec::new();
    for task in tasks {
        claimed.extend(
            task.await
                .map_err(|e| StoreError::Invalid(e.to_string()))??,
        );
    }
    report("claim+finish (8 concurrent workers)", n, t.elapsed());
    let unique: HashSet<_> = claimed.iter().collect();
    assert_eq!(
        (claimed.len(), unique.len()),
        (n, n),
        "each job exactly once"
    );

    let line = |i: usize| NewLogLine {
        stream: LogStream::Stdout,
        phase: Some(Phase::TerraformApply),
        line: format!("aws_instance.app: Still creating... [{i}s elapsed]"),
    };
    let batch: Vec<NewLogLine> = (0..20).map(line).collect();
    let t = Instant::now();
    let mut tasks = Vec::new();
    for id in &ids[..8] {
        let s = store.clone();
        let id = id.clone();
        let batch = batch.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..100 {
                s.append_logs(&id, &batch).await?;
            }
            Ok::<_, StoreError>(())
        }));
    }
    for task in tasks {
        task.await
            .map_err(|e| StoreError::Invalid(e.to_string()))??;
    }
    report(
        "log lines appended (8 writers, batches of 20)",
        8 * 100 * 20,
        t.elapsed(),
    );

    let t = Instant::now();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = store
            .list_deployments(&ListFilter {
                owner: Some("user3".into()),
                limit: 50,
                cursor,
                ..Default::default()
            })
            .await?;
        pages += 1;
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    report(
        "list_deployments pages of 50 (one owner)",
        pages,
        t.elapsed(),
    );
    Ok(())
}

fn report(what: &str, n: usize, took: Duration) {
    println!(
        "{what}: {n} in {took:.2?} = {:.0}/s ({:.3} ms each)",
        n as f64 / took.as_secs_f64(),
        took.as_secs_f64() * 1000.0 / n as f64
    );
}
