//! `autodeploy serve`: the HTTP API, the web page, `/metrics`, and (unless
//! `--workers 0`) in-process workers that execute queued jobs with the
//! execute stage. `autodeploy worker` (worker.rs) runs workers alone.
//!
//! This file only wires flags to `autodeploy-server`; the service lives there.

use crate::cmd::common::{
    exec_config, open_store, redact_url, runtime, store_url, ExecArgs, StateArgs,
};
use anyhow::Context;
use autodeploy_execute::ExecConfig;
use autodeploy_server::tracing;
use autodeploy_server::{AppState, JobRunner, Metrics, RateLimit, ServerConfig, WorkerConfig};
use autodeploy_store::{Job, JobOutcome, Store};
use clap::Args;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

#[derive(Args)]
pub struct ServeArgs {
    /// Address of the API and web page.
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:8080",
        env = "AUTODEPLOY_LISTEN"
    )]
    pub listen: SocketAddr,
    /// Serve /metrics on this address instead of the API's.
    #[arg(
        long = "metrics-listen",
        value_name = "ADDR",
        env = "AUTODEPLOY_METRICS_LISTEN"
    )]
    pub metrics_listen: Option<SocketAddr>,
    /// Workers executing jobs inside this process (0: API only).
    #[arg(long, default_value_t = 2, env = "AUTODEPLOY_WORKERS")]
    pub workers: usize,
    /// Accept local folders, archives and file:// URLs as `repo` (only for a trusted, single-user machine).
    #[arg(long = "allow-local-sources", env = "AUTODEPLOY_ALLOW_LOCAL_SOURCES")]
    pub allow_local_sources: bool,
    /// Requests per second per token (sustained).
    #[arg(
        long = "rate-limit",
        value_name = "N",
        default_value_t = 20.0,
        env = "AUTODEPLOY_RATE_LIMIT"
    )]
    pub rate_limit: f64,
    /// Requests a token may make at once after a quiet period.
    #[arg(
        long = "rate-burst",
        value_name = "N",
        default_value_t = 60,
        env = "AUTODEPLOY_RATE_BURST"
    )]
    pub rate_burst: u32,
    /// Requests per second per client address, before authentication.
    #[arg(long = "address-rate-limit", value_name = "N", default_value_t = autodeploy_server::RateLimit::PER_ADDRESS.per_second, env = "AUTODEPLOY_ADDRESS_RATE_LIMIT")]
    pub address_rate_limit: f64,
    /// Requests a client address may make at once.
    #[arg(long = "address-rate-burst", value_name = "N", default_value_t = autodeploy_server::RateLimit::PER_ADDRESS.burst, env = "AUTODEPLOY_ADDRESS_RATE_BURST")]
    pub address_rate_burst: u32,
    /// Unknown tokens a client address may try at once (each costs a store lookup; then one per 5 s).
    #[arg(long = "auth-failure-burst", value_name = "N", default_value_t = autodeploy_server::RateLimit::AUTH_FAILURES.burst, env = "AUTODEPLOY_AUTH_FAILURE_BURST")]
    pub auth_failure_burst: u32,
    /// A proxy (address or CIDR, repeatable) whose X-Forwarded-For names the client; without it the header is ignored.
    #[arg(long = "trusted-proxy", value_name = "CIDR", value_parser = parse_net, env = "AUTODEPLOY_TRUSTED_PROXY", value_delimiter = ',')]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Seconds a client may take to send a request's head (also the idle keep-alive timeout).
    #[arg(
        long = "header-timeout",
        value_name = "SECONDS",
        default_value_t = 10,
        env = "AUTODEPLOY_HEADER_TIMEOUT"
    )]
    pub header_timeout: u64,
    /// Seconds a client may take to send a request's body.
    #[arg(
        long = "body-timeout",
        value_name = "SECONDS",
        default_value_t = 30,
        env = "AUTODEPLOY_BODY_TIMEOUT"
    )]
    pub body_timeout: u64,
    /// Seconds a preview's plan_id can be deployed (`POST /v1/plan` →
    /// `POST /v1/deployments {"plan_id"}`); after it, preview again.
    #[arg(
        long = "preview-ttl",
        value_name = "SECONDS",
        default_value_t = 3600,
        value_parser = clap::value_parser!(u64).range(1..),
        env = "AUTODEPLOY_PREVIEW_TTL"
    )]
    pub preview_ttl: u64,
    /// Open connections at once (over it: 503 and closed).
    #[arg(
        long = "max-connections",
        value_name = "N",
        default_value_t = 1024,
        env = "AUTODEPLOY_MAX_CONNECTIONS"
    )]
    pub max_connections: usize,
    /// Open connections at once from one client address.
    #[arg(
        long = "max-connections-per-address",
        value_name = "N",
        default_value_t = 128,
        env = "AUTODEPLOY_MAX_CONNECTIONS_PER_ADDRESS"
    )]
    pub max_connections_per_address: usize,
    /// Write the first admin token to this file (mode 0600) instead of showing it on the terminal [default when stderr is not a terminal: <home>/admin-token].
    #[arg(
        long = "admin-token-file",
        value_name = "PATH",
        env = "AUTODEPLOY_ADMIN_TOKEN_FILE"
    )]
    pub admin_token_file: Option<std::path::PathBuf>,
    /// Largest request body in bytes.
    #[arg(long = "body-limit", value_name = "BYTES", default_value_t = autodeploy_server::DEFAULT_BODY_LIMIT, env = "AUTODEPLOY_BODY_LIMIT")]
    pub body_limit: usize,
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

/// Where the service may fetch repositories from (shared by `serve` and `worker`).
#[derive(Args, Clone, Debug, Default)]
pub struct SourcePolicyArgs {
    /// Also fetch repositories whose host resolves to loopback, private, link-local or cloud-metadata addresses (refused by default: an API caller must not reach the service's own network).
    #[arg(
        long = "allow-private-sources",
        env = "AUTODEPLOY_ALLOW_PRIVATE_SOURCES"
    )]
    pub allow_private_sources: bool,
    /// A host name or CIDR range (repeatable) fetched from whatever address it resolves to, e.g. an internal git server.
    #[arg(
        long = "allow-host",
        value_name = "HOST|CIDR",
        env = "AUTODEPLOY_ALLOW_HOST",
        value_delimiter = ','
    )]
    pub allow_hosts: Vec<String>,
}

impl SourcePolicyArgs {
    pub fn policy(&self) -> autodeploy_source::NetworkPolicy {
        if self.allow_private_sources {
            autodeploy_source::NetworkPolicy::default()
        } else {
            autodeploy_source::NetworkPolicy::public_only(self.allow_hosts.clone())
        }
    }
}

fn parse_net(s: &str) -> Result<ipnet::IpNet, String> {
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{s:?} is not an address or CIDR (10.0.0.0/8, 192.0.2.7, fd00::/8)"))
}

/// Worker timings shared by `serve` and `worker`.
#[derive(Args, Clone, Debug)]
pub struct WorkerTuning {
    /// Seconds a claimed job's lease lasts (renewed by heartbeats).
    #[arg(
        long = "lease",
        value_name = "SECONDS",
        default_value_t = 30,
        env = "AUTODEPLOY_LEASE"
    )]
    pub lease: u64,
    /// Seconds between heartbeats.
    #[arg(
        long = "heartbeat",
        value_name = "SECONDS",
        default_value_t = 10,
        env = "AUTODEPLOY_HEARTBEAT"
    )]
    pub heartbeat: u64,
    /// Seconds a running job may take to finish after SIGTERM/ctrl-c.
    #[arg(
        long = "shutdown-grace",
        value_name = "SECONDS",
        default_value_t = 20,
        env = "AUTODEPLOY_SHUTDOWN_GRACE"
    )]
    pub shutdown_grace: u64,
    /// Run "run it locally" deployments on this machine (off in the service by default: they run the submitted code here, confined to an account of their own when run as root).
    #[arg(long = "allow-local-target", env = "AUTODEPLOY_ALLOW_LOCAL_TARGET")]
    pub allow_local_target: bool,
}

impl WorkerTuning {
    pub fn config(&self) -> WorkerConfig {
        WorkerConfig {
            lease: Duration::from_secs(self.lease.max(2)),
            heartbeat: Duration::from_secs(self.heartbeat.clamp(1, self.lease.max(2) / 2 + 1)),
            shutdown_grace: Duration::from_secs(self.shutdown_grace),
            ..WorkerConfig::default()
        }
    }
}

/// Runs jobs with the execute stage.
pub struct ExecRunner(pub Arc<ExecConfig>);

#[async_trait::async_trait]
impl JobRunner for ExecRunner {
    async fn run(&self, store: Arc<dyn Store>, job: Job, cancel: Arc<AtomicBool>) -> JobOutcome {
        autodeploy_execute::run_job_cancellable(store, self.0.clone(), job, cancel).await
    }
}

/// Service deployments keep Terraform state in PostgreSQL when the store is
/// PostgreSQL, so any worker on any host can continue or destroy them.
pub fn service_exec_config(state: &StateArgs, exec: &ExecArgs) -> (ExecConfig, String) {
    let mut cfg = exec_config(state, Some(exec));
    let url = store_url(state, &cfg);
    if cfg.state_database_url.is_none()
        && (url.starts_with("postgres://") || url.starts_with("postgresql://"))
    {
        cfg.state_database_url = Some(url.clone());
    }
    (cfg, url)
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    autodeploy_server::init_tracing(&args.log_format);
    let (mut cfg, url) = service_exec_config(&args.state, &args.exec);
    cfg.source_network = args.sources.policy();
    cfg.local_target = args.worker.allow_local_target;
    runtime()?.block_on(async move {
        let store = open_store(&args.state, &cfg).await?;
        tracing::info!(store = %redact_url(&url), backend = store.backend(), "store open");
        // Listen first: a port in use fails before anything is created, and
        // once the first admin token is there the API answers (connections
        // wait in the listener's backlog until it serves them).
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| {
                format!(
                    "could not listen on {}; is another server running there?",
                    args.listen
                )
            })?;
        let metrics_listener = match args.metrics_listen {
            Some(addr) => Some((
                addr,
                tokio::net::TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("could not listen on {addr} for metrics"))?,
            )),
            None => None,
        };
        first_admin_token(&*store, &cfg, args.admin_token_file.as_deref()).await?;
        let metrics = Arc::new(Metrics::new());
        let config = ServerConfig {
            body_limit: args.body_limit,
            rate_limit: RateLimit {
                per_second: args.rate_limit,
                burst: args.rate_burst,
            },
            address_rate_limit: RateLimit {
                per_second: args.address_rate_limit,
                burst: args.address_rate_burst,
            },
            auth_failure_limit: RateLimit {
                burst: args.auth_failure_burst,
                ..RateLimit::AUTH_FAILURES
            },
            trusted_proxies: args.trusted_proxies.clone(),
            connections: autodeploy_server::ConnectionLimits {
                header_timeout: Duration::from_secs(args.header_timeout.max(1)),
                body_timeout: Duration::from_secs(args.body_timeout.max(1)),
                max_connections: args.max_connections.max(1),
                max_connections_per_address: args.max_connections_per_address.max(1),
            },
            allow_local_sources: args.allow_local_sources,
            source_network: args.sources.policy(),
            metrics_on_api: args.metrics_listen.is_none(),
            preview_ttl: Duration::from_secs(args.preview_ttl),
            ..ServerConfig::default()
        };
        let sealer = cfg
            .secret_box()
            .context("could not open the key that seals secret values")?;
        let state = AppState::new(store.clone(), metrics.clone(), config).with_sealer(sealer);
        let (tx, rx) = tokio::sync::watch::channel(false);
        let workers = autodeploy_server::worker::spawn_workers(
            args.workers,
            store.clone(),
            Arc::new(ExecRunner(Arc::new(cfg))),
            metrics.clone(),
            args.worker.config(),
            rx.clone(),
        );
        if let Some((addr, l)) = metrics_listener {
            let router = autodeploy_server::metrics_router(store.clone(), metrics.clone());
            let mut rx = rx.clone();
            tokio::spawn(async move {
                let _ = autodeploy_server::serve_until(l, router, async move {
                    let _ = rx.wait_for(|v| *v).await;
                })
                .await;
            });
            tracing::info!(%addr, "metrics listening");
        }
        let addr = listener.local_addr()?;
        tracing::info!(%addr, workers = args.workers, "autodeploy serve listening");
        errln!("autodeploy serve: http://{addr}/ (API under /v1, docs at /openapi.json)");
        let mut rx_api = rx.clone();
        let server = tokio::spawn(autodeploy_server::serve_api(listener, state, async move {
            let _ = rx_api.wait_for(|v| *v).await;
        }));
        autodeploy_server::shutdown_signal().await;
        tracing::info!(
            "shutting down: no new jobs are claimed; running jobs get their grace period"
        );
        let _ = tx.send(true);
        for w in workers {
            let _ = w.await;
        }
        let _ = server.await;
        Ok(ExitCode::SUCCESS)
    })
}

/// On a store with no `admin` user: create it (an admin: it may list every
/// user's deployments) and hand its token over once
/// — on the terminal when stderr is one, else in a file only this user can
/// read (`--admin-token-file`, default `<home>/admin-token`). Never through
/// the log: `serve`'s stderr usually ends up in log files.
async fn first_admin_token(
    store: &dyn Store,
    cfg: &ExecConfig,
    file: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    if store.find_user("admin").await?.is_some() {
        return Ok(());
    }
    let user = match store.create_user("admin").await {
        Ok(u) => u,
        // Another process created it at the same moment.
        Err(autodeploy_store::StoreError::Conflict(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    store.set_admin(&user.id, true).await?;
    let token = store.create_token(&user.id, "first-admin").await?;
    if file.is_none() && std::io::stderr().is_terminal() {
        errln!("Created user `admin`. Its API token (shown once, store it now):\n\n    {token}\n");
        errln!("More tokens: autodeploy token create --user NAME");
        return Ok(());
    }
    let path = file
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| cfg.home.join("admin-token"));
    write_secret_file(&path, &format!("{token}\n")).with_context(|| {
        format!(
            "could not write the first admin token to {}; revoke it with `autodeploy token revoke --user admin first-admin` and create one with `autodeploy token create --user admin`",
            path.display()
        )
    })?;
    tracing::warn!(
        path = %path.display(),
        "created user `admin`; its API token was written to this file (mode 0600): read it, keep it somewhere safe and delete the file"
    );
    Ok(())
}

/// Create `path` (never replacing a file) readable by this user only.
fn write_secret_file(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}
