//! Workers: the loop that takes jobs from the store's queue and runs them.
//!
//! Each worker: `Store::claim` (lease, default 30 s) → run the job with the
//! plugged-in [`JobRunner`] while heart-beating every 10 s → `Store::finish`
//! (retried with backoff while the store is unreachable; claims back off
//! too, so a PostgreSQL restart only delays work).
//! When a heartbeat answers false (the lease was lost and the job reclaimed,
//! or it was cancelled) the runner's future is dropped at once and nothing is
//! written for it. Idle workers wait in `Store::wait_for_work` (LISTEN/NOTIFY
//! on PostgreSQL, polling otherwise). On shutdown workers stop claiming; a
//! running job gets `shutdown_grace` to finish, after which it is dropped and
//! handed back to the queue (`JobOutcome::Retry` with no delay).
//!
//! Deliberately not here: what a job does (the runner — the execute stage in
//! production) and queue semantics (the store).

use crate::metrics::Metrics;
use crate::observe::ObservedStore;
use autodeploy_store::{now_ms, Job, JobOutcome, Store};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Executes one claimed job to its end. The store given is the one to write
/// phases, logs and status to (a wrapper that observes phase timings).
///
/// `cancel` turns true when the worker lost the job (lease reclaimed or job
/// cancelled) or must hand it back at shutdown: stop at the next safe point
/// and return. The worker then waits up to `shutdown_grace` for the future,
/// and drops it after that.
#[async_trait::async_trait]
pub trait JobRunner: Send + Sync + 'static {
    async fn run(&self, store: Arc<dyn Store>, job: Job, cancel: Arc<AtomicBool>) -> JobOutcome;
}

/// Timings of the worker loop.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Prefix of worker ids (`<prefix>-<n>`); default `<hostname>-<pid>`.
    pub id_prefix: String,
    /// Lease taken on claim and renewed by each heartbeat.
    pub lease: Duration,
    /// Time between heartbeats (well under `lease`).
    pub heartbeat: Duration,
    /// Longest an idle worker waits for a wake-up before polling again.
    pub idle_wait: Duration,
    /// How long a running job may take to finish after shutdown is asked.
    pub shutdown_grace: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            id_prefix: default_id_prefix(),
            lease: Duration::from_secs(30),
            heartbeat: Duration::from_secs(10),
            idle_wait: Duration::from_secs(5),
            shutdown_grace: Duration::from_secs(20),
        }
    }
}

/// `<hostname>-<pid>`.
pub fn default_id_prefix() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|h| !h.is_empty())
        })
        .unwrap_or_else(|| "host".into());
    format!("{host}-{}", std::process::id())
}

/// Start `n` workers. They run until `shutdown` turns true; await the handles
/// to know they have stopped.
pub fn spawn_workers(
    n: usize,
    store: Arc<dyn Store>,
    runner: Arc<dyn JobRunner>,
    metrics: Arc<Metrics>,
    config: WorkerConfig,
    shutdown: watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    (0..n)
        .map(|i| {
            let w = Worker {
                id: format!("{}-{i}", config.id_prefix),
                store: store.clone(),
                runner: runner.clone(),
                metrics: metrics.clone(),
                config: config.clone(),
            };
            let shutdown = shutdown.clone();
            tokio::spawn(async move { w.run(shutdown).await })
        })
        .collect()
}

struct Worker {
    id: String,
    store: Arc<dyn Store>,
    runner: Arc<dyn JobRunner>,
    metrics: Arc<Metrics>,
    config: WorkerConfig,
}

/// True once shutdown was asked (or its sender is gone).
fn stopping(rx: &watch::Receiver<bool>) -> bool {
    *rx.borrow() || rx.has_changed().is_err()
}

async fn changed_or_gone(rx: &mut watch::Receiver<bool>) {
    loop {
        if *rx.borrow() {
            return;
        }
        if rx.changed().await.is_err() {
            return;
        }
    }
}

impl Worker {
    async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(worker = %self.id, "worker started");
        let mut backoff = Duration::from_millis(200);
        while !stopping(&shutdown) {
            match self.store.claim(&self.id, self.config.lease).await {
                Ok(Some(job)) => {
                    backoff = Duration::from_millis(200);
                    self.run_job(job, &mut shutdown).await;
                }
                Ok(None) => {
                    tokio::select! {
                        _ = self.store.wait_for_work(self.config.idle_wait) => {}
                        _ = changed_or_gone(&mut shutdown) => {}
                    }
                }
                Err(e) => {
                    tracing::warn!(worker = %self.id, error = %e, "claiming a job failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = changed_or_gone(&mut shutdown) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
        }
        tracing::info!(worker = %self.id, "worker stopped");
    }

    /// Renew the job's lease every heartbeat; returns once it is lost
    /// (reclaimed or cancelled), or when no renewal succeeded for a whole
    /// lease (another worker may own the job by then).
    async fn keep_lease(&self, job: &Job) {
        let mut beat = tokio::time::interval_at(
            tokio::time::Instant::now() + self.config.heartbeat,
            self.config.heartbeat,
        );
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_ok = Instant::now();
        loop {
            beat.tick().await;
            match self
                .store
                .heartbeat(job.id, &self.id, self.config.lease)
                .await
            {
                Ok(true) => last_ok = Instant::now(),
                Ok(false) => {
                    self.metrics.heartbeat_lost.inc(&[]);
                    tracing::warn!(worker = %self.id, job = job.id, "lease lost (reclaimed or cancelled): stopping the job");
                    return;
                }
                Err(e) => {
                    tracing::warn!(worker = %self.id, job = job.id, error = %e, "heartbeat failed");
                    if last_ok.elapsed() >= self.config.lease {
                        self.metrics.heartbeat_lost.inc(&[]);
                        tracing::warn!(worker = %self.id, job = job.id, "no heartbeat for a whole lease: another worker may own the job now; stopping it");
                        return;
                    }
                }
            }
        }
    }

    async fn run_job(&self, job: Job, shutdown: &mut watch::Receiver<bool>) {
        let kind = job.kind.as_str();
        let runnable_since = job.created_at.max(job.run_after);
        let claimed_at = job.claimed_at.unwrap_or_else(now_ms);
        self.metrics.job_claim_latency.observe(
            &[kind],
            (claimed_at - runnable_since).max(0) as f64 / 1000.0,
        );
        self.metrics
            .jobs_claimed
            .inc(&[kind, if job.attempt > 1 { "true" } else { "false" }]);
        tracing::info!(worker = %self.id, job = job.id, deployment = %job.deployment_id, kind, attempt = job.attempt, "job claimed");

        let observed = Arc::new(ObservedStore::new(self.store.clone(), self.metrics.clone()));
        let started = Instant::now();
        let cancel = Arc::new(AtomicBool::new(false));
        let mut fut = self
            .runner
            .run(observed.clone(), job.clone(), cancel.clone());
        // The lease is renewed beside the job, never instead of it: on SQLite
        // there is one writer connection, and a heartbeat awaited while the
        // job sat suspended inside a write would wait for the connection the
        // job holds (both stood still until the pool gave up).
        let mut lease_lost = Box::pin(self.keep_lease(&job));
        let mut grace_deadline: Option<tokio::time::Instant> = None;
        let mut completed = false;
        let far = tokio::time::Instant::now() + Duration::from_secs(365 * 24 * 3600);

        let outcome: Option<JobOutcome> = loop {
            tokio::select! {
                outcome = &mut fut => {
                    completed = true;
                    break Some(outcome);
                }
                () = &mut lease_lost => break None,
                _ = changed_or_gone(shutdown), if grace_deadline.is_none() => {
                    tracing::info!(worker = %self.id, job = job.id, grace_s = self.config.shutdown_grace.as_secs(), "shutdown asked: letting the job finish");
                    grace_deadline = Some(tokio::time::Instant::now() + self.config.shutdown_grace);
                }
                _ = tokio::time::sleep_until(grace_deadline.unwrap_or(far)), if grace_deadline.is_some() => {
                    tracing::warn!(worker = %self.id, job = job.id, "job did not finish within the shutdown grace: handing it back to the queue");
                    break Some(JobOutcome::Retry { error: "the worker shut down mid-job".into(), delay: Duration::ZERO });
                }
            }
        };
        // Not polled from here on: dropped, so a renewal it was in the middle
        // of cannot hold the writer while the runner winds down.
        drop(lease_lost);
        // Lost lease or shutdown: ask the runner to stop and give it a
        // bounded time to reach a safe point, so this process is not still
        // writing for a job another worker now owns.
        if !completed {
            cancel.store(true, Ordering::SeqCst);
            if tokio::time::timeout(self.config.shutdown_grace, &mut fut)
                .await
                .is_err()
            {
                tracing::warn!(worker = %self.id, job = job.id, "the runner did not stop within the grace period; dropping it");
            }
        }
        drop(fut);
        observed.close();
        let Some(outcome) = outcome else { return };
        let label = match &outcome {
            JobOutcome::Done => "done",
            JobOutcome::Retry { .. } => "retry",
            JobOutcome::Failed { .. } => "failed",
        };
        // The store may be restarting: try again with backoff for as long as
        // the lease lasts (after that the job is reclaimed and run again, so
        // nothing is lost either way).
        let deadline = Instant::now() + self.config.lease;
        let mut delay = Duration::from_millis(200);
        let finished = loop {
            match self.store.finish(job.id, &self.id, outcome.clone()).await {
                Err(e) if e.is_transient() && Instant::now() < deadline => {
                    tracing::warn!(worker = %self.id, job = job.id, error = %e, "recording the job's end failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
                other => break other,
            }
        };
        match finished {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(worker = %self.id, job = job.id, "finish ignored: the job is no longer ours")
            }
            Err(e) => {
                tracing::error!(worker = %self.id, job = job.id, error = %e, "recording the job's end failed; its lease will expire and it will be reclaimed")
            }
        }
        let after = self
            .store
            .get_deployment(&job.deployment_id)
            .await
            .ok()
            .flatten();
        let status = after
            .as_ref()
            .map(|d| d.status.as_str())
            .unwrap_or("unknown")
            .to_string();
        self.metrics
            .job_duration
            .observe(&[kind, &status], started.elapsed().as_secs_f64());
        // A deployment made (or made again) that reached a final status: a
        // job that will be retried, or a destroy, is not one.
        if let Some(d) = after.filter(|d| {
            matches!(
                job.kind,
                autodeploy_store::JobKind::Deploy | autodeploy_store::JobKind::Redeploy
            ) && d.status.is_final()
        }) {
            self.metrics
                .deployments
                .inc(&[d.status.as_str(), d.cloud.as_deref().unwrap_or("unknown")]);
        }
        // Last: tests wait for this count before they scrape.
        self.metrics.jobs_finished.inc(&[kind, &status]);
        tracing::info!(worker = %self.id, job = job.id, deployment = %job.deployment_id, outcome = label, status, secs = started.elapsed().as_secs_f64(), "job finished");
    }
}
