//! The worker loop against a real store: a lost lease stops the job, a
//! shutdown hands an unfinished job back to the queue, and N workers share
//! M jobs with each run exactly once.

mod common;

use autodeploy_server::{JobRunner, ServerConfig, WorkerConfig};
use autodeploy_store::{
    Job, JobKind, JobOutcome, JobStatus, LogStream, NewDeployment, NewLogLine, Store,
};
use common::{Backend, ScriptRunner, TestServer};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs until told to stop; counts how it ended.
#[derive(Default)]
struct UntilCancelled {
    started: AtomicUsize,
    saw_cancel: AtomicUsize,
    ignore_cancel: bool,
}

#[async_trait::async_trait]
impl JobRunner for UntilCancelled {
    async fn run(&self, _store: Arc<dyn Store>, _job: Job, cancel: Arc<AtomicBool>) -> JobOutcome {
        self.started.fetch_add(1, Ordering::SeqCst);
        loop {
            if !self.ignore_cancel && cancel.load(Ordering::SeqCst) {
                self.saw_cancel.fetch_add(1, Ordering::SeqCst);
                return JobOutcome::Failed {
                    error: "cancelled".into(),
                };
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn new_deployment(store: &dyn Store, n: usize) -> String {
    let (d, _) = store
        .create_deployment(
            NewDeployment {
                owner: "usr_test".into(),
                name: format!("app-{n}"),
                source: "https://example.com/r.git".into(),
                request: "deploy".into(),
                cloud: Some("local".into()),
                options: serde_json::json!({}),
                idempotency_key: None,
            },
            Some(JobKind::Deploy),
        )
        .await
        .unwrap();
    d.id
}

async fn until(max: Duration, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < max, "condition not reached in {max:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

both_backends!(
    cancelled_job_stops_at_the_next_heartbeat,
    |b: Backend| async move {
        let runner = Arc::new(UntilCancelled::default());
        let s = TestServer::start(b, ServerConfig::default(), 1, Some(runner.clone())).await;
        let id = new_deployment(&*s.store, 0).await;
        until(Duration::from_secs(10), || {
            runner.started.load(Ordering::SeqCst) == 1
        })
        .await;
        assert_eq!(s.store.cancel_jobs(&id).await.unwrap(), 1);
        // heartbeat every 500 ms answers false → the runner is told to stop
        until(Duration::from_secs(5), || {
            runner.saw_cancel.load(Ordering::SeqCst) == 1
        })
        .await;
        until(Duration::from_secs(5), || {
            s.metrics.heartbeat_lost.get(&[]) == 1
        })
        .await;
        let jobs = s.store.jobs_for(&id).await.unwrap();
        assert_ne!(jobs[0].status, JobStatus::Done);
        s.stop().await;
    }
);

both_backends!(
    shutdown_hands_an_unfinished_job_back,
    |b: Backend| async move {
        let runner = Arc::new(UntilCancelled {
            ignore_cancel: true,
            ..Default::default()
        });
        let s = TestServer::start(b, ServerConfig::default(), 1, Some(runner.clone())).await;
        let store = s.store.clone();
        let id = new_deployment(&*store, 0).await;
        until(Duration::from_secs(10), || {
            runner.started.load(Ordering::SeqCst) == 1
        })
        .await;
        let t = Instant::now();
        let _db = s.stop().await; // grace 2 s, then the job goes back to the queue
        assert!(t.elapsed() >= Duration::from_secs(2), "{:?}", t.elapsed());
        let jobs = store.jobs_for(&id).await.unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].status, JobStatus::Queued, "{:?}", jobs[0]);
        assert!(jobs[0]
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("shut down"));
    }
);

/// Writes log lines back to back for a while: the job is almost always in
/// the middle of a store write when its worker's heartbeat comes due.
struct BusyWriter {
    writes: usize,
}

#[async_trait::async_trait]
impl JobRunner for BusyWriter {
    async fn run(&self, store: Arc<dyn Store>, job: Job, _cancel: Arc<AtomicBool>) -> JobOutcome {
        let lines: Vec<NewLogLine> = (0..200)
            .map(|i| NewLogLine {
                stream: LogStream::System,
                phase: None,
                line: format!("line {i}"),
            })
            .collect();
        for _ in 0..self.writes {
            if let Err(e) = store.append_logs(&job.deployment_id, &lines).await {
                return JobOutcome::Failed {
                    error: e.to_string(),
                };
            }
        }
        JobOutcome::Done
    }
}

// SQLite has one writer connection. The worker used to renew its lease
// without polling the job meanwhile: a heartbeat due while the job was inside
// a write waited for the connection the job held, and both stood still until
// the pool gave up (60 s), by which time the lease had run out and the job
// ran again elsewhere.
both_backends!(
    a_heartbeat_due_mid_write_does_not_stall_the_job,
    |b: Backend| async move {
        let runner = Arc::new(BusyWriter { writes: 150 });
        let config = WorkerConfig {
            heartbeat: Duration::from_millis(2),
            lease: Duration::from_secs(60),
            ..common::test_workers()
        };
        let s = TestServer::start_with(b, ServerConfig::default(), config, 1, Some(runner.clone()))
            .await;
        let id = new_deployment(&*s.store, 0).await;
        let t = Instant::now();
        while s.store.queue_size().await.unwrap() != 0 {
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "the job is still running after {:?}: the worker and its job wait on each other",
                t.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let jobs = s.store.jobs_for(&id).await.unwrap();
        assert_eq!(jobs[0].status, JobStatus::Done, "{:?}", jobs[0]);
        assert_eq!(jobs[0].attempt, 1);
        assert!(s.metrics.heartbeat_lost.get(&[]) == 0);
        s.stop().await;
    }
);

both_backends!(
    four_workers_forty_jobs_each_run_once,
    |b: Backend| async move {
        let runner = Arc::new(ScriptRunner {
            step_delay: Duration::from_millis(5),
            steps: 1,
            ..Default::default()
        });
        let s = TestServer::start(b, ServerConfig::default(), 4, Some(runner.clone())).await;
        let mut ids = Vec::new();
        for n in 0..40 {
            ids.push(new_deployment(&*s.store, n).await);
        }
        for id in &ids {
            let st = common::wait_final(&*s.store, id, Duration::from_secs(60)).await;
            assert_eq!(st.as_str(), "healthy");
        }
        let runs = runner.runs.lock().unwrap().clone();
        assert_eq!(runs.len(), 40, "each job ran exactly once");
        let mut deps: Vec<_> = runs.iter().map(|r| r.1.clone()).collect();
        deps.sort();
        deps.dedup();
        assert_eq!(deps.len(), 40);
        // A deployment reads `healthy` as soon as its runner writes it; the
        // worker records the job's end right after: the queue empties then.
        let t = Instant::now();
        while s.store.queue_size().await.unwrap() != 0 {
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "jobs left in the queue"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        s.stop().await;
    }
);
