//! Time to fetch a hostile archive: 8 chains of nested folders, one member
//! per level (issue 13: 2,000 levels took 45 s of CPU, 85 % of it hashing
//! whole paths). The plan is linear now; this measures plan + extraction at
//! several depths so the growth is visible (linear: 2× depth → ~2× time;
//! the kernel's path walks for mkdir make extraction itself grow with
//! depth², which shows at the deepest level).
//!
//! `cargo bench -p autodeploy-source --bench deep_archive`; figures in
//! docs/PERFORMANCE.md.

#[path = "../tests/common/deep.rs"]
mod deep;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::time::Duration;

fn fetch_deep(c: &mut Criterion) {
    let mut g = c.benchmark_group("deep_archive");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10));
    // In memory when the machine has /dev/shm: the file system's inode
    // allocator (ext4 reuses freed inodes slowly) would otherwise dominate.
    let tmp = match std::path::Path::new("/dev/shm") {
        p if p.is_dir() => tempfile::tempdir_in(p),
        _ => tempfile::tempdir(),
    }
    .expect("tempdir");
    for depth in [250usize, 500, 1_000, 1_900] {
        let path = tmp.path().join(format!("deep{depth}.tar"));
        std::fs::write(&path, deep::deep_tar(8, depth)).expect("write the archive");
        let opts = autodeploy_source::FetchOptions {
            work_dir: Some(tmp.path().join("work")),
            ..Default::default()
        };
        g.bench_with_input(BenchmarkId::new("8_chains", depth), &path, |b, p| {
            b.iter(|| {
                let snap = autodeploy_source::fetch(p.to_str().expect("utf-8"), &opts)
                    .expect("the archive extracts");
                drop(snap);
            })
        });
    }
    g.finish();
}

criterion_group!(benches, fetch_deep);
criterion_main!(benches);
