//! Rule-based parse speed over the whole request corpus (main + holdout).
//!
//! `cargo bench -p autodeploy-parse --bench parse`
//!
//! - `corpus/all` parses every request once per iteration; with
//!   `Throughput::Elements` criterion reports requests per second, and the
//!   per-request time is the iteration time divided by the request count
//!   (printed before the run).
//! - `single/*` times a typical, a long chatty and an empty request.
//! - `hostile/1MB` times a 1 MiB input (read up to the 64 KiB cap).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

fn corpus() -> Vec<String> {
    [
        include_str!("../tests/corpus/requests.jsonl"),
        include_str!("../tests/corpus/holdout.jsonl"),
    ]
    .iter()
    .flat_map(|f| f.lines())
    .filter(|l| !l.trim().is_empty())
    .map(|l| {
        let v: serde_json::Value = serde_json::from_str(l).expect("corpus line is JSON");
        v["text"].as_str().expect("text").to_string()
    })
    .collect()
}

fn bench(c: &mut Criterion) {
    let texts = corpus();
    // Warm the lazily built tables so the first sample is not an outlier.
    let _ = autodeploy_parse::parse("warm up: aws frankfurt");
    eprintln!(
        "corpus: {} requests, mean {} bytes",
        texts.len(),
        texts.iter().map(String::len).sum::<usize>() / texts.len()
    );

    let mut g = c.benchmark_group("corpus");
    g.throughput(Throughput::Elements(texts.len() as u64));
    g.bench_function("all", |b| {
        b.iter(|| {
            for t in &texts {
                black_box(autodeploy_parse::parse(black_box(t)));
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("single");
    let typical = "Deploy my Django app to AWS Frankfurt, Postgres, 2 to 5 instances, https on app.example.com";
    let chatty = "So we're a small team and we need our Rails app on AWS in Ireland. Postgres for the db, Redis for Sidekiq, and it should be behind a load balancer with SSL. We don't want Kubernetes, budget is around $300 a month, and the repo is https://github.com/acme/shop.";
    g.bench_function("typical", |b| {
        b.iter(|| black_box(autodeploy_parse::parse(black_box(typical))))
    });
    g.bench_function("chatty", |b| {
        b.iter(|| black_box(autodeploy_parse::parse(black_box(chatty))))
    });
    g.bench_function("empty", |b| {
        b.iter(|| black_box(autodeploy_parse::parse(black_box(""))))
    });
    g.finish();

    let big = typical.repeat(1024 * 1024 / typical.len() + 1);
    let mut g = c.benchmark_group("hostile");
    g.sample_size(20);
    g.bench_function("1MB", |b| {
        b.iter(|| black_box(autodeploy_parse::parse(black_box(&big))))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
