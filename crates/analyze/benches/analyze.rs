//! In-process analyzer benchmarks: the whole `analyze_dir` (walk + detection +
//! resolve) on the hello-world-shaped fixture and on generated trees of 50,
//! 5,000 and 30,000 files. Whole-process timings of the binary against `find`
//! live in `bench/analyze.sh`; figures in docs/PERFORMANCE.md.

#[path = "support/tree_gen.rs"]
mod tree_gen;

use autodeploy_analyze::{analyze_dir, AnalyzeOptions};
use autodeploy_core::{SourceInfo, SourceKind};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::path::Path;

fn source(p: &Path) -> SourceInfo {
    SourceInfo {
        input: p.display().to_string(),
        kind: SourceKind::Path,
        commit: None,
    }
}

fn bench(c: &mut Criterion) {
    let opts = AnalyzeOptions::default();
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/hello_world_shape");
    c.bench_function("analyze/hello_world_shape", |b| {
        b.iter(|| analyze_dir(&fixture, source(&fixture), &opts).expect("analysis"))
    });

    let mut group = c.benchmark_group("analyze/generated");
    group.sample_size(10);
    for files in [50usize, 5_000, 30_000] {
        let dir = tempfile::tempdir().expect("tempdir");
        tree_gen::generate(dir.path(), files).expect("generate tree");
        group.bench_with_input(BenchmarkId::from_parameter(files), &files, |b, _| {
            b.iter(|| analyze_dir(dir.path(), source(dir.path()), &opts).expect("analysis"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
