//! Persistence for autodeploy: deployments, a durable job queue, their log
//! lines, users with API tokens, and the analysis cache.
//!
//! One logical schema, two backends behind the object-safe [`Store`] trait:
//! SQLite (embedded, the default for the CLI and a single-node service) in
//! [`sqlite`], and PostgreSQL (for scaling the service out) in [`postgres`].
//! Versioned migrations live in `migrations/<backend>/` and run at [`open`].
//! Timestamps are `i64` unix milliseconds everywhere.
//!
//! Job lifecycle: `queued` → [`Store::claim`] → `running` (attempt + 1, lease)
//! → [`Store::finish`] → `done` | `failed` | back to `queued` after a retry
//! delay. A running job whose lease runs out is handed to the next claimer,
//! or, with no attempt left, `failed` and its deployment `interrupted`.
//! [`Store::cancel_jobs`] cancels queued jobs and flags running ones
//! (their heartbeat answers false; a flagged job never runs again).
//!
//! Deliberately not here: executing deployments, deciding status transitions
//! (the executor owns those; the store only records them, except that a job
//! whose worker vanished with no attempts left marks its deployment
//! `interrupted`), HTTP, and wording errors for end users beyond what failed.

use std::sync::Arc;
use std::time::Duration;

pub use autodeploy_core::{DeploymentStatus, JobKind, LogStream, Phase};
use serde::{Deserialize, Serialize};

pub mod postgres;
mod rows;
pub mod secrets;
pub mod sqlite;

pub use rows::{hash_token, new_token, now_ms};
/// The database driver, re-exported so callers can match on its errors.
pub use sqlx;

/// Result type of every store operation.
pub type Result<T> = std::result::Result<T, StoreError>;

/// What went wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row the caller named does not exist.
    #[error("{what} not found; check the id (it may have been deleted)")]
    NotFound { what: String },
    /// The operation collides with existing data (e.g. a user name taken).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database refused or failed a query.
    #[error("database error: {0}; check that the database is reachable and not full")]
    Database(#[from] sqlx::Error),
    /// Applying the schema migrations at open failed.
    #[error("applying database migrations failed: {0}; the database may have been migrated by a newer autodeploy, or is damaged")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database URL could not be understood.
    #[error("bad database URL {0:?}: use sqlite:///abs/path.db, sqlite://rel.db, a file path, or postgres://user:pass@host/db")]
    BadUrl(String),
    /// A stored value could not be read back (unknown enum name, broken JSON).
    #[error("stored data is corrupt: {0}; the row was written by an incompatible version or edited by hand")]
    Corrupt(String),
    /// The caller passed something the store cannot use (e.g. a malformed cursor).
    #[error("invalid input: {0}")]
    Invalid(String),
    /// The operating system's random source failed: no id or token is made
    /// from weaker randomness.
    #[error("the operating system's random source failed ({0}); no token or id was made — check /dev/urandom and the getrandom system call (seccomp, containers)")]
    Random(String),
    /// Creating the SQLite file or its folder failed.
    #[error(
        "cannot create the database at {path}: {source}; check the folder exists and is writable"
    )]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl StoreError {
    /// A stable, machine-readable name of this failure (snake_case).
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::NotFound { .. } => "not_found",
            StoreError::Conflict(_) => "conflict",
            StoreError::Database(_) => "store_unavailable",
            StoreError::Migrate(_) => "store_migration_failed",
            StoreError::BadUrl(_) => "invalid_database_url",
            StoreError::Corrupt(_) => "store_corrupt",
            StoreError::Invalid(_) => "invalid_input",
            StoreError::Random(_) => "random_source_failed",
            StoreError::Io { .. } => "store_io_failed",
        }
    }

    /// Worth trying again in a moment: the database was unreachable, the
    /// connection was reset or closed (a PostgreSQL restart), the pool had no
    /// connection in time, or the database asked to retry (serialization
    /// failure, deadlock, busy/locked SQLite, too many connections, shutting
    /// down). A refused, malformed or conflicting query is not.
    pub fn is_transient(&self) -> bool {
        let StoreError::Database(e) = self else {
            return false;
        };
        match e {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Protocol(m) => {
                // A connection cut mid-message reads as a protocol error.
                let m = m.to_ascii_lowercase();
                m.contains("unexpected eof") || m.contains("connection")
            }
            sqlx::Error::Database(d) => {
                let code = d.code().map(|c| c.into_owned()).unwrap_or_default();
                // PostgreSQL: class 08 (connection exception), 40001
                // (serialization), 40P01 (deadlock), 53300 (too many
                // connections), 57P01-57P03 (shutting down / starting up).
                // SQLite: 5 SQLITE_BUSY, 6 SQLITE_LOCKED (and their
                // extended codes, low byte).
                code.starts_with("08")
                    || matches!(
                        code.as_str(),
                        "40001" | "40P01" | "53300" | "57P01" | "57P02" | "57P03"
                    )
                    || code.parse::<i64>().is_ok_and(|n| matches!(n & 0xff, 5 | 6))
            }
            _ => false,
        }
    }

    /// The disk (or the database's quota) is full: writes fail until space
    /// is freed; reads still work.
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(d)) => {
                let code = d.code().map(|c| c.into_owned()).unwrap_or_default();
                // SQLite 13 SQLITE_FULL; PostgreSQL 53100 disk_full.
                code == "53100" || code.parse::<i64>().is_ok_and(|n| n & 0xff == 13)
            }
            StoreError::Database(sqlx::Error::Io(e)) | StoreError::Io { source: e, .. } => {
                e.raw_os_error() == Some(libc::ENOSPC)
            }
            _ => false,
        }
    }
}

/// What the caller knows when a deployment is requested.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewDeployment {
    /// User id ([`CLI_DEFAULT_USER`] for the command line's default user).
    pub owner: String,
    /// Human name, e.g. "hello-world".
    pub name: String,
    /// Repository URL or path (credentials already redacted).
    pub source: String,
    /// The English sentence.
    pub request: String,
    /// "aws" | "gcp" | "azure" | "local" when known up front.
    pub cloud: Option<String>,
    /// Free-form options (target, on_failure, ...).
    pub options: serde_json::Value,
    /// Unique per owner: the same key returns the same deployment and enqueues nothing.
    pub idempotency_key: Option<String>,
}

/// A deployment as stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Deployment {
    /// "dep_" + 16 lowercase hex chars.
    pub id: String,
    pub owner: String,
    pub name: String,
    pub source: String,
    pub request: String,
    pub cloud: Option<String>,
    pub region: Option<String>,
    pub strategy: Option<String>,
    pub commit: Option<String>,
    pub status: DeploymentStatus,
    pub phase: Option<Phase>,
    pub url: Option<String>,
    /// Terraform outputs / local runner facts; `{}` by default.
    pub outputs: serde_json::Value,
    /// The Decision JSON of the last plan.
    pub plan: Option<serde_json::Value>,
    /// The Decision of the last healthy deploy (for rollback).
    pub last_good_plan: Option<serde_json::Value>,
    pub error: Option<String>,
    pub options: serde_json::Value,
    /// Where its files live on the machine that ran it.
    pub workdir: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A partial update. `None` leaves a field as is; `Some(None)` sets it NULL.
#[derive(Debug, Clone, Default)]
pub struct DeploymentPatch {
    pub status: Option<DeploymentStatus>,
    pub phase: Option<Option<Phase>>,
    pub url: Option<Option<String>>,
    pub outputs: Option<serde_json::Value>,
    pub plan: Option<Option<serde_json::Value>>,
    pub last_good_plan: Option<Option<serde_json::Value>>,
    pub error: Option<Option<String>>,
    pub cloud: Option<Option<String>>,
    pub region: Option<Option<String>>,
    pub strategy: Option<Option<String>>,
    pub commit: Option<Option<String>>,
    pub workdir: Option<Option<String>>,
    /// A changed request (redeploy with a new sentence).
    pub request: Option<String>,
    /// Changed options (redeploy with new `--env` values).
    pub options: Option<serde_json::Value>,
}

/// Which deployments [`Store::list_deployments`] returns.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub owner: Option<String>,
    pub status: Option<DeploymentStatus>,
    pub cloud: Option<String>,
    /// 0 → 50; capped at 500.
    pub limit: u32,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page of deployments, newest first (keyset pagination on (created_at, id)).
#[derive(Debug, Clone, Serialize)]
pub struct Page {
    pub items: Vec<Deployment>,
    /// Opaque; pass back in [`ListFilter::cursor`]. `None` on the last page.
    pub next_cursor: Option<String>,
}

/// One stored log line.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LogLine {
    /// Strictly increasing per deployment, starting at 1.
    pub seq: i64,
    pub at: i64,
    pub stream: LogStream,
    pub phase: Option<Phase>,
    pub line: String,
}

/// A log line to append.
#[derive(Debug, Clone)]
pub struct NewLogLine {
    pub stream: LogStream,
    pub phase: Option<Phase>,
    pub line: String,
}

/// Where a job stands in the queue. `as_str` values are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Failed,
    Cancelled,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Queued,
            Self::Running,
            Self::Done,
            Self::Failed,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// A unit of work in the durable queue.
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    pub id: i64,
    pub deployment_id: String,
    pub kind: JobKind,
    /// How many times it has been handed to a worker (1 on the first claim).
    pub attempt: u32,
    pub max_attempts: u32,
    pub worker: Option<String>,
    pub lease_until: Option<i64>,
    pub created_at: i64,
    pub claimed_at: Option<i64>,
    pub status: JobStatus,
    /// Not claimable before this time.
    pub run_after: i64,
    /// Set by [`Store::cancel_jobs`] on a running job; its heartbeat then answers false.
    pub cancel_requested: bool,
    pub last_error: Option<String>,
    pub finished_at: Option<i64>,
}

/// How a worker ended a job.
#[derive(Debug, Clone)]
pub enum JobOutcome {
    Done,
    Retry { error: String, delay: Duration },
    Failed { error: String },
}

/// A user: of the API (by token) and of the command line (`--as NAME`).
/// The owner of a deployment is its user's `id`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct User {
    pub id: String,
    pub name: String,
    /// May see every user's deployments (`GET /v1/deployments?all_users=true`).
    pub admin: bool,
}

/// The command line's default user: its name and its id (the owner every
/// CLI deployment was written with before there were named CLI users; the
/// store's migrations create it).
pub const CLI_DEFAULT_USER: &str = "local";

/// Number of deployments per (status, cloud).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StatusCount {
    pub status: DeploymentStatus,
    pub cloud: Option<String>,
    pub count: u64,
}

/// A plan shown by a preview (`POST /v1/plan`), kept until `expires_at` so
/// that a deploy can name it by `id` and get exactly what was reviewed.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PlanPreview {
    /// "pln_" + 32 lowercase hex chars.
    pub id: String,
    /// The user who previewed it (only they can deploy it).
    pub owner: String,
    /// What was previewed (source, request, options, commit, analysis,
    /// decision): the API's to define, opaque to the store.
    pub value: serde_json::Value,
    pub created_at: i64,
    pub expires_at: i64,
}

/// What [`Store::put_plan_preview`] kept: the id and its times.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PlanPreviewKept {
    pub id: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// How long an expired preview is still kept (so that a deploy naming it
/// is told "expired", not "unknown"), before [`Store::put_plan_preview`]
/// removes it.
pub const EXPIRED_PREVIEW_GRACE: Duration = Duration::from_secs(24 * 3600);

/// Attempts a job gets before it is failed for good.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// The persistence interface; used as `Arc<dyn Store>`.
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// "sqlite" | "postgres".
    fn backend(&self) -> &'static str;
    /// Insert a deployment and, when `job` is Some, enqueue that job in the same
    /// transaction. With an idempotency key already used by this owner: return the
    /// existing deployment and `false`, enqueue nothing.
    async fn create_deployment(
        &self,
        new: NewDeployment,
        job: Option<JobKind>,
    ) -> Result<(Deployment, bool)>;
    async fn get_deployment(&self, id: &str) -> Result<Option<Deployment>>;
    /// Only when owned by `owner` (other owners → None, so the API can answer 404).
    async fn get_deployment_owned(&self, id: &str, owner: &str) -> Result<Option<Deployment>>;
    async fn list_deployments(&self, filter: &ListFilter) -> Result<Page>;
    async fn update_deployment(&self, id: &str, patch: DeploymentPatch) -> Result<Deployment>;
    /// Deletes it with its logs and jobs; `NotFound` when it does not exist.
    async fn delete_deployment(&self, id: &str) -> Result<()>;
    /// `seq` strictly increasing per deployment, safe under concurrent writers.
    async fn append_logs(&self, deployment_id: &str, lines: &[NewLogLine]) -> Result<()>;
    /// Lines with `seq > after_seq`, oldest first, at most `limit` (0 → 1000, max 10000).
    async fn read_logs(
        &self,
        deployment_id: &str,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<LogLine>>;
    async fn enqueue(&self, deployment_id: &str, kind: JobKind) -> Result<Job>;
    /// Claim the oldest runnable job: queued with run_after <= now, or running with an
    /// expired lease (its worker died: reclaim, attempt+1). Sets worker,
    /// lease_until = now+lease, claimed_at, status running. A job whose attempts are
    /// exhausted when its lease expires is marked failed, and its deployment
    /// `interrupted`, instead of being handed out.
    async fn claim(&self, worker: &str, lease: Duration) -> Result<Option<Job>>;
    /// Extend the lease; Ok(false) when the job is no longer this worker's (reclaimed/cancelled).
    async fn heartbeat(&self, job_id: i64, worker: &str, lease: Duration) -> Result<bool>;
    /// Done → job done; Retry → back to queued with run_after = now+delay if attempts remain,
    /// else failed; Failed → failed. Ignored (Ok(false)) when the worker no longer holds it.
    async fn finish(&self, job_id: i64, worker: &str, outcome: JobOutcome) -> Result<bool>;
    /// Cancel queued jobs of a deployment (running ones get flagged; heartbeat returns false).
    /// Returns how many jobs were cancelled or flagged.
    async fn cancel_jobs(&self, deployment_id: &str) -> Result<u64>;
    async fn get_job(&self, job_id: i64) -> Result<Option<Job>>;
    /// All jobs of a deployment, oldest first.
    async fn jobs_for(&self, deployment_id: &str) -> Result<Vec<Job>>;
    /// Queued + running jobs.
    async fn queue_size(&self) -> Result<u64>;
    /// Block until new work may be available or `timeout` passes (never longer than
    /// until the next delayed retry becomes runnable).
    async fn wait_for_work(&self, timeout: Duration);
    async fn status_counts(&self) -> Result<Vec<StatusCount>>;
    /// Name unique (`Conflict` otherwise); id "usr_…"; not an admin.
    async fn create_user(&self, name: &str) -> Result<User>;
    async fn find_user(&self, name: &str) -> Result<Option<User>>;
    /// Every user, by name.
    async fn list_users(&self) -> Result<Vec<User>>;
    /// Make a user an admin or not; `NotFound` when there is no such id.
    async fn set_admin(&self, user_id: &str, admin: bool) -> Result<()>;
    /// Returns the plaintext token ONCE ("adt_" + 32 random base62 chars); stores only its sha256.
    async fn create_token(&self, user_id: &str, label: &str) -> Result<String>;
    async fn authenticate(&self, token: &str) -> Result<Option<User>>;
    /// Revoke this user's tokens whose label equals the argument, or which the argument
    /// identifies (the whole token, or a prefix of at least 8 characters). Returns how many.
    async fn revoke_token(&self, token_prefix_or_label: &str, user_id: &str) -> Result<u64>;
    async fn cached_analysis(&self, key: &str) -> Result<Option<serde_json::Value>>;
    async fn put_cached_analysis(&self, key: &str, value: &serde_json::Value) -> Result<()>;
    /// Keep a previewed plan — `value`, JSON text the caller serialised
    /// (once: a preview can be tens of KB) — for `ttl` under `id` ("pln_" +
    /// 32 lowercase hex; replacing the value and expiry of the same owner's
    /// row with that id), or a fresh random id when `None`. Previews expired
    /// for longer than [`EXPIRED_PREVIEW_GRACE`] are removed on the way (at
    /// most once a minute per process).
    async fn put_plan_preview(
        &self,
        id: Option<&str>,
        owner: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<PlanPreviewKept>;
    /// The preview `id` when `owner` made it, expired or not (the caller
    /// compares `expires_at` with the clock); other owners → None.
    async fn get_plan_preview(&self, id: &str, owner: &str) -> Result<Option<PlanPreview>>;
    /// Keep a sealed secret value for a deployment (replacing one of the same
    /// name). The store never sees plain values: callers seal them first.
    async fn put_secret(&self, deployment_id: &str, name: &str, sealed: &[u8]) -> Result<()>;
    /// The deployment's sealed secrets, by name.
    async fn secrets(&self, deployment_id: &str) -> Result<Vec<(String, Vec<u8>)>>;
    /// Forget the deployment's secrets (destroy); returns how many there were.
    async fn delete_secrets(&self, deployment_id: &str) -> Result<u64>;
}

/// Open (creating and migrating as needed) the store named by `url`:
/// "sqlite:///abs/path.db", "sqlite://rel.db", a bare file path, or
/// "postgres://…"/"postgresql://…". SQLite files (and their parent folder) are
/// created if missing, in WAL mode with a 10 s busy timeout.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    let url = url.trim();
    if url.is_empty() {
        return Err(StoreError::BadUrl(url.to_string()));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = postgres::PgStore::open(url).await?;
        return Ok(Arc::new(store));
    }
    let path = sqlite::path_from_url(url)?;
    let store = sqlite::SqliteStore::open(&path).await?;
    Ok(Arc::new(store))
}
