//! Shared test harness: a real server on 127.0.0.1:0 over a real store
//! (SQLite temp file, or a fresh PostgreSQL database when
//! AUTODEPLOY_TEST_DATABASE_URL is set), plus a scripted job runner.
#![allow(dead_code)]

use autodeploy_server::{AppState, JobRunner, Metrics, ServerConfig, WorkerConfig};
use autodeploy_store::{
    DeploymentPatch, DeploymentStatus, Job, JobKind, JobOutcome, LogStream, NewLogLine, Phase,
    Store,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Run a test body against SQLite, and against PostgreSQL when configured.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let f = $body;
                f(common::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if std::env::var("AUTODEPLOY_TEST_DATABASE_URL").is_err() {
                    eprintln!(
                        "SKIPPED (PostgreSQL): AUTODEPLOY_TEST_DATABASE_URL is not set; \
                         scripts/test.sh sets it in CI"
                    );
                    assert!(
                        std::env::var("CI").as_deref() != Ok("true"),
                        "CI=true: this prerequisite must be there (see above)"
                    );
                    return;
                }
                let f = $body;
                f(common::Backend::Postgres).await;
            }
        }
    };
}

/// A database for one test; dropped (PostgreSQL) or deleted (SQLite) after.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>, // (admin url, db name)
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg.take() {
            // Best effort, on its own runtime (we may be inside one).
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async move {
                    use sqlx::Connection;
                    if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&mut c)
                                .await;
                    }
                });
            })
            .join();
        }
    }
}

pub async fn test_db(backend: Backend) -> TestDb {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("tempdir");
            let url = format!("sqlite://{}", dir.path().join("ad.db").display());
            TestDb {
                url,
                _dir: Some(dir),
                pg: None,
            }
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let admin = std::env::var("AUTODEPLOY_TEST_DATABASE_URL").expect("pg url");
            let name = format!(
                "adt_srv_{}_{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos()
                    % 1_000_000_000_000
            );
            let mut c = sqlx::PgConnection::connect(&admin)
                .await
                .expect("connect to AUTODEPLOY_TEST_DATABASE_URL");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut c)
                .await
                .expect("create test database");
            let url = with_db_name(&admin, &name);
            TestDb {
                url,
                _dir: None,
                pg: Some((admin, name)),
            }
        }
    }
}

/// Replace the database name in a postgres URL.
pub fn with_db_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..host_end], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// The key the test servers seal secret values with.
pub const TEST_SECRETS_KEY: &str =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

pub struct TestServer {
    pub base: String,
    pub store: Arc<dyn Store>,
    pub metrics: Arc<Metrics>,
    pub client: reqwest::Client,
    shutdown: watch::Sender<bool>,
    pub workers: Vec<tokio::task::JoinHandle<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    pub db: TestDb,
}

impl TestServer {
    pub async fn start(
        backend: Backend,
        config: ServerConfig,
        workers: usize,
        runner: Option<Arc<dyn JobRunner>>,
    ) -> TestServer {
        Self::start_with(backend, config, test_workers(), workers, runner).await
    }

    /// As [`TestServer::start`], with the workers' lease and heartbeat given.
    pub async fn start_with(
        backend: Backend,
        config: ServerConfig,
        worker_config: WorkerConfig,
        workers: usize,
        runner: Option<Arc<dyn JobRunner>>,
    ) -> TestServer {
        let db = test_db(backend).await;
        let store = autodeploy_store::open(&db.url).await.expect("open store");
        let metrics = Arc::new(Metrics::new());
        let sealer = autodeploy_store::secrets::SecretBox::open_or_create(
            std::path::Path::new("/nonexistent"),
            Some(TEST_SECRETS_KEY),
        )
        .expect("test key");
        let state = AppState::new(store.clone(), metrics.clone(), config).with_sealer(sealer);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = watch::channel(false);
        let mut rx_srv = rx.clone();
        let server = tokio::spawn(async move {
            let _ = autodeploy_server::serve_api(listener, state, async move {
                let _ = rx_srv.wait_for(|v| *v).await;
            })
            .await;
        });
        let handles = match runner {
            Some(r) if workers > 0 => autodeploy_server::worker::spawn_workers(
                workers,
                store.clone(),
                r,
                metrics.clone(),
                worker_config,
                rx,
            ),
            _ => Vec::new(),
        };
        TestServer {
            base: format!("http://{addr}"),
            store,
            metrics,
            client: reqwest::Client::new(),
            shutdown: tx,
            workers: handles,
            server: Some(server),
            db,
        }
    }

    /// A new user and a token for it.
    pub async fn user_token(&self, name: &str) -> String {
        let u = self.store.create_user(name).await.expect("create user");
        self.store.create_token(&u.id, "test").await.expect("token")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stop workers and server; the database lives as long as the returned guard.
    pub async fn stop(mut self) -> TestDb {
        let _ = self.shutdown.send(true);
        for h in self.workers.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(10), h).await;
        }
        if let Some(s) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), s).await;
        }
        self.db
    }
}

/// The workers' settings in tests: a 5 s lease renewed every 500 ms.
pub fn test_workers() -> WorkerConfig {
    WorkerConfig {
        id_prefix: "test".into(),
        lease: Duration::from_secs(5),
        heartbeat: Duration::from_millis(500),
        idle_wait: Duration::from_millis(200),
        shutdown_grace: Duration::from_secs(2),
    }
}

/// A runner that behaves like a short deployment: running → phases with
/// log lines → healthy (deploy) or destroyed (destroy). Counts runs and drops.
#[derive(Default)]
pub struct ScriptRunner {
    pub step_delay: Duration,
    pub steps: usize,
    pub runs: Mutex<Vec<(i64, String)>>,
    pub dropped_mid_run: AtomicUsize,
}

struct DropFlag<'a>(&'a AtomicUsize, bool);
impl Drop for DropFlag<'_> {
    fn drop(&mut self) {
        if !self.1 {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[async_trait::async_trait]
impl JobRunner for ScriptRunner {
    async fn run(
        &self,
        store: Arc<dyn Store>,
        job: Job,
        _cancel: Arc<std::sync::atomic::AtomicBool>,
    ) -> JobOutcome {
        self.runs
            .lock()
            .unwrap()
            .push((job.id, job.deployment_id.clone()));
        let mut flag = DropFlag(&self.dropped_mid_run, false);
        let destroy = job.kind == JobKind::Destroy;
        let phases: &[Phase] = if destroy {
            &[Phase::Destroy]
        } else {
            &[Phase::Analyze, Phase::TerraformApply, Phase::Health]
        };
        if let Err(e) = store
            .update_deployment(
                &job.deployment_id,
                DeploymentPatch {
                    status: Some(if destroy {
                        DeploymentStatus::Destroying
                    } else {
                        DeploymentStatus::Running
                    }),
                    ..Default::default()
                },
            )
            .await
        {
            return JobOutcome::Failed {
                error: e.to_string(),
            };
        }
        for (i, phase) in phases.iter().enumerate() {
            let _ = store
                .update_deployment(
                    &job.deployment_id,
                    DeploymentPatch {
                        phase: Some(Some(*phase)),
                        ..Default::default()
                    },
                )
                .await;
            for s in 0..self.steps.max(1) {
                let _ = store
                    .append_logs(
                        &job.deployment_id,
                        &[NewLogLine {
                            stream: LogStream::System,
                            phase: Some(*phase),
                            line: format!("phase {i} step {s}"),
                        }],
                    )
                    .await;
                tokio::time::sleep(self.step_delay).await;
            }
        }
        let patch = DeploymentPatch {
            status: Some(if destroy {
                DeploymentStatus::Destroyed
            } else {
                DeploymentStatus::Healthy
            }),
            phase: Some(None),
            url: Some((!destroy).then(|| "http://127.0.0.1:1/".to_string())),
            ..Default::default()
        };
        let _ = store.update_deployment(&job.deployment_id, patch).await;
        flag.1 = true;
        JobOutcome::Done
    }
}

/// Poll until the deployment reaches a final status (or panic after `max`).
pub async fn wait_final(store: &dyn Store, id: &str, max: Duration) -> DeploymentStatus {
    let deadline = std::time::Instant::now() + max;
    loop {
        let d = store
            .get_deployment(id)
            .await
            .expect("get")
            .expect("exists");
        if d.status.is_final() {
            return d.status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "deployment {id} still {:?} after {max:?}",
            d.status
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The repository's fixture folder.
pub fn fixture(name: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name);
    p.canonicalize().unwrap_or(p).to_string_lossy().into_owned()
}
