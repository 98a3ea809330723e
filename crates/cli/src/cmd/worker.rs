//! `autodeploy worker`: only workers — claim jobs from the store's queue and
//! execute them — for scaling out on PostgreSQL (run as many as you like, on
//! any machine that reaches the database). Stops claiming on SIGTERM/ctrl-c
//! and lets the running job finish within the grace period.

use crate::cmd::common::{open_store, redact_url, runtime, ExecArgs, StateArgs};
use crate::cmd::serve::{service_exec_config, ExecRunner, SourcePolicyArgs, WorkerTuning};
use anyhow::Context;
use autodeploy_server::tracing;
use autodeploy_server::Metrics;
use clap::Args;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Args)]
pub struct WorkerArgs {
    /// Concurrent jobs in this process.
    #[arg(long, default_value_t = 2, env = "AUTODEPLOY_CONCURRENCY")]
    pub concurrency: usize,
    /// Serve this process's worker metrics (/metrics) on this address.
    #[arg(
        long = "metrics-listen",
        value_name = "ADDR",
        env = "AUTODEPLOY_METRICS_LISTEN"
    )]
    pub metrics_listen: Option<SocketAddr>,
    /// Log format on stderr.
    #[arg(long = "log-format", value_parser = ["text", "json"], default_value = "text", env = "AUTODEPLOY_LOG_FORMAT")]
    pub log_format: String,
    #[command(flatten)]
    pub sources: SourcePolicyArgs,
    #[command(flatten)]
    pub worker: WorkerTuning,
    #[command(flatten)]
    pub exec: ExecArgs,
    #[command(flatten)]
    pub state: StateArgs,
}

pub fn run(args: WorkerArgs) -> anyhow::Result<ExitCode> {
    autodeploy_server::init_tracing(&args.log_format);
    let (mut cfg, url) = service_exec_config(&args.state, &args.exec);
    cfg.source_network = args.sources.policy();
    cfg.local_target = args.worker.allow_local_target;
    runtime()?.block_on(async move {
        let store = open_store(&args.state, &cfg).await?;
        tracing::info!(store = %redact_url(&url), backend = store.backend(), concurrency = args.concurrency, "autodeploy worker started");
        let metrics = Arc::new(Metrics::new());
        let (tx, rx) = tokio::sync::watch::channel(false);
        if let Some(addr) = args.metrics_listen {
            let l = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("could not listen on {addr} for metrics"))?;
            let router = autodeploy_server::metrics_router(store.clone(), metrics.clone());
            let mut rx = rx.clone();
            tokio::spawn(async move {
                let _ = autodeploy_server::serve_until(l, router, async move {
                    let _ = rx.wait_for(|v| *v).await;
                })
                .await;
            });
        }
        let workers = autodeploy_server::worker::spawn_workers(
            args.concurrency.max(1),
            store,
            Arc::new(ExecRunner(Arc::new(cfg))),
            metrics,
            args.worker.config(),
            rx,
        );
        autodeploy_server::shutdown_signal().await;
        tracing::info!("shutting down: finishing running jobs");
        let _ = tx.send(true);
        for w in workers {
            let _ = w.await;
        }
        Ok(ExitCode::SUCCESS)
    })
}
