//! SQLite backend: the embedded default for the CLI and a single-node service.
//!
//! Writes go through a pool of ONE connection and every multi-statement write
//! runs in a `BEGIN IMMEDIATE` transaction, so writers in this process queue
//! instead of failing with "database is locked" and writers in other
//! processes wait on the 10 s busy timeout. Reads use a separate small pool
//! (WAL mode lets them run beside the writer). New-work wake-ups are
//! in-process only (a tokio `Notify`); other processes sharing the file are
//! seen through the polling timeout of [`Store::wait_for_work`].
//!
//! A full disk: in WAL mode even opening a database needs a little space (its
//! `-shm` file), so on a full disk every command used to fail with "disk I/O
//! error". The store keeps a reserve file beside the database
//! (`<db>.reserve`, [`RESERVE_BYTES`]) while there is room; when free space
//! runs low, or opening fails for lack of it, the reserve is given up, so
//! `status`, `list`, `logs` and the writes of a `destroy` (which frees space)
//! still work. Should even that not be enough, the database is opened
//! read-only (`immutable`): reads work, writes fail with a clear error, and
//! nothing stored is touched. The reserve comes back when space does.
//!
//! Deliberately not here: `:memory:` databases (the two pools would each get
//! their own) and any SQL dialect tricks PostgreSQL does not share.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{QueryBuilder, Sqlite};
use tokio::sync::Notify;

use crate::rows::{self, Bind, DeploymentRow, JobRow, LogRow};
use crate::*;

/// Bytes kept free for the store beside the database file.
pub const RESERVE_BYTES: u64 = 8 << 20;

/// A store in one SQLite file.
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    work: Arc<Notify>,
    path: PathBuf,
}

/// Turn "sqlite:///abs.db", "sqlite://rel.db", "sqlite:rel.db" or a bare path into a path.
pub(crate) fn path_from_url(url: &str) -> Result<PathBuf> {
    let rest = if let Some(r) = url.strip_prefix("sqlite://") {
        r
    } else if let Some(r) = url.strip_prefix("sqlite:") {
        r
    } else if url.contains("://") {
        return Err(StoreError::BadUrl(url.to_string()));
    } else {
        url
    };
    if rest.is_empty() || rest.starts_with(":memory:") || rest.contains('?') {
        return Err(StoreError::BadUrl(url.to_string()));
    }
    Ok(PathBuf::from(rest))
}

impl SqliteStore {
    /// Open (creating the file and its folder if missing) and migrate. The
    /// file, its WAL and its shared-memory file are readable by this user
    /// only (0600): they hold token hashes, sealed secrets and every
    /// deployment's plan.
    pub async fn open(path: &Path) -> Result<Self> {
        if let Some(parent) = path.parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|source| StoreError::Io {
                    path: parent.display().to_string(),
                    source,
                })?;
            }
        }
        // Low on space: give the reserve up first, so this process can work.
        if free_bytes(path).is_some_and(|f| f < 2 * RESERVE_BYTES) {
            release_reserve(path);
        }
        match Self::open_writable(path).await {
            Ok(store) => {
                keep_reserve(path);
                Ok(store)
            }
            Err(e) if e.is_disk_full() || is_io_error(&e) => {
                if release_reserve(path) {
                    if let Ok(store) = Self::open_writable(path).await {
                        return Ok(store);
                    }
                }
                Self::open_read_only(path).await.map_err(|_| e)
            }
            Err(e) => Err(e),
        }
    }

    /// The database as it is, read-only, without its `-shm` file: the last
    /// resort on a full disk (writes fail; nothing stored is touched).
    async fn open_read_only(path: &Path) -> Result<Self> {
        let opts = SqliteConnectOptions::from_str("sqlite://")
            .map_err(|_| StoreError::BadUrl(path.display().to_string()))?
            .filename(path)
            .read_only(true)
            .immutable(true)
            .foreign_keys(true);
        let reader = SqlitePoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(opts)
            .await?;
        Ok(SqliteStore {
            writer: reader.clone(),
            reader,
            work: Arc::new(Notify::new()),
            path: path.to_path_buf(),
        })
    }

    async fn open_writable(path: &Path) -> Result<Self> {
        private_files(path)?;
        let opts = SqliteConnectOptions::from_str("sqlite://")
            .map_err(|_| StoreError::BadUrl(path.display().to_string()))?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        // Several processes may open a new file at the same moment (ten CLI
        // deploys at once): the first connection (which switches a new file
        // to WAL) and the migrations run under an exclusive lock on a file
        // beside the database, so exactly one of them applies them and none
        // meets another's schema change half way (SQLITE_BUSY).
        let lock = migration_lock(path).await?;
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(opts.clone())
            .await?;
        let migrated = sqlx::migrate!("migrations/sqlite").run(&writer).await;
        drop(lock);
        migrated?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(opts)
            .await?;
        Ok(SqliteStore {
            writer,
            reader,
            work: Arc::new(Notify::new()),
            path: path.to_path_buf(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A pool for direct inspection (tests, diagnostics). Read-mostly.
    pub fn pool(&self) -> &SqlitePool {
        &self.reader
    }

    fn wake(&self) {
        self.work.notify_waiters();
        // Leave a permit for a worker between its empty claim and its wait.
        self.work.notify_one();
    }

    async fn fetch_deployment(conn: &mut SqliteConnection, id: &str) -> Result<Option<Deployment>> {
        let sql = format!(
            "SELECT {} FROM deployments WHERE id = $1",
            rows::DEPLOYMENT_COLUMNS
        );
        sqlx::query_as::<_, DeploymentRow>(&sql)
            .bind(id)
            .fetch_optional(conn)
            .await?
            .map(Deployment::try_from)
            .transpose()
    }

    async fn insert_job(
        conn: &mut SqliteConnection,
        deployment_id: &str,
        kind: JobKind,
        now: i64,
    ) -> Result<Job> {
        let sql = format!(
            "INSERT INTO jobs (deployment_id, kind, status, attempt, max_attempts, run_after, \
             cancel_requested, created_at) VALUES ($1, $2, 'queued', 0, $3, $4, FALSE, $4) \
             RETURNING {}",
            rows::JOB_COLUMNS
        );
        sqlx::query_as::<_, JobRow>(&sql)
            .bind(deployment_id)
            .bind(kind.as_str())
            .bind(i64::from(DEFAULT_MAX_ATTEMPTS))
            .bind(now)
            .fetch_one(conn)
            .await?
            .try_into()
    }
}

fn not_found(what: &str, id: &str) -> StoreError {
    StoreError::NotFound {
        what: format!("{what} {id:?}"),
    }
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn create_deployment(
        &self,
        new: NewDeployment,
        job: Option<JobKind>,
    ) -> Result<(Deployment, bool)> {
        let now = now_ms();
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        if let Some(key) = &new.idempotency_key {
            let sql = format!(
                "SELECT {} FROM deployments WHERE owner = $1 AND idempotency_key = $2",
                rows::DEPLOYMENT_COLUMNS
            );
            let existing = sqlx::query_as::<_, DeploymentRow>(&sql)
                .bind(&new.owner)
                .bind(key)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(row) = existing {
                tx.rollback().await?;
                return Ok((row.try_into()?, false));
            }
        }
        let d = Deployment {
            id: rows::new_deployment_id()?,
            owner: new.owner,
            name: new.name,
            source: new.source,
            request: new.request,
            cloud: new.cloud,
            region: None,
            strategy: None,
            commit: None,
            status: DeploymentStatus::Queued,
            phase: None,
            url: None,
            outputs: serde_json::json!({}),
            plan: None,
            last_good_plan: None,
            error: None,
            options: new.options,
            workdir: None,
            created_at: now,
            updated_at: now,
        };
        sqlx::query(
            "INSERT INTO deployments (id, owner, name, source, request, cloud, status, outputs, \
             options, idempotency_key, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        )
        .bind(&d.id)
        .bind(&d.owner)
        .bind(&d.name)
        .bind(&d.source)
        .bind(&d.request)
        .bind(&d.cloud)
        .bind(d.status.as_str())
        .bind(rows::json_text(&d.outputs))
        .bind(rows::json_text(&d.options))
        .bind(&new.idempotency_key)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if let Some(kind) = job {
            Self::insert_job(&mut tx, &d.id, kind, now).await?;
        }
        tx.commit().await?;
        if job.is_some() {
            self.wake();
        }
        Ok((d, true))
    }

    async fn get_deployment(&self, id: &str) -> Result<Option<Deployment>> {
        let mut conn = self.reader.acquire().await?;
        Self::fetch_deployment(&mut conn, id).await
    }

    async fn get_deployment_owned(&self, id: &str, owner: &str) -> Result<Option<Deployment>> {
        Ok(self.get_deployment(id).await?.filter(|d| d.owner == owner))
    }

    async fn list_deployments(&self, filter: &ListFilter) -> Result<Page> {
        let (sql, binds, limit) = rows::list_query(filter)?;
        let mut q = sqlx::query_as::<_, DeploymentRow>(&sql);
        for b in binds {
            q = match b {
                Bind::Text(s) => q.bind(s),
                Bind::Int(i) => q.bind(i),
            };
        }
        let items = rows::collect(q.fetch_all(&self.reader).await?)?;
        Ok(rows::into_page(items, limit))
    }

    async fn update_deployment(&self, id: &str, patch: DeploymentPatch) -> Result<Deployment> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let mut d = Self::fetch_deployment(&mut tx, id)
            .await?
            .ok_or_else(|| not_found("deployment", id))?;
        rows::apply_patch(&mut d, patch, now_ms());
        sqlx::query(
            "UPDATE deployments SET status = $2, phase = $3, url = $4, outputs = $5, plan = $6, \
             last_good_plan = $7, error = $8, cloud = $9, region = $10, strategy = $11, \
             commit_sha = $12, workdir = $13, updated_at = $14, request = $15, options = $16 WHERE id = $1",
        )
        .bind(&d.id)
        .bind(d.status.as_str())
        .bind(d.phase.map(Phase::as_str))
        .bind(&d.url)
        .bind(rows::json_text(&d.outputs))
        .bind(d.plan.as_ref().map(rows::json_text))
        .bind(d.last_good_plan.as_ref().map(rows::json_text))
        .bind(&d.error)
        .bind(&d.cloud)
        .bind(&d.region)
        .bind(&d.strategy)
        .bind(&d.commit)
        .bind(&d.workdir)
        .bind(d.updated_at)
        .bind(&d.request)
        .bind(rows::json_text(&d.options))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(d)
    }

    async fn delete_deployment(&self, id: &str) -> Result<()> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("DELETE FROM logs WHERE deployment_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM jobs WHERE deployment_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM deployment_secrets WHERE deployment_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let gone = sqlx::query("DELETE FROM deployments WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if gone == 0 {
            tx.rollback().await?;
            return Err(not_found("deployment", id));
        }
        tx.commit().await?;
        Ok(())
    }

    async fn append_logs(&self, deployment_id: &str, lines: &[NewLogLine]) -> Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        let now = now_ms();
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let last: Option<i64> = sqlx::query_scalar(
            "UPDATE deployments SET log_seq = log_seq + $1 WHERE id = $2 RETURNING log_seq",
        )
        .bind(lines.len() as i64)
        .bind(deployment_id)
        .fetch_optional(&mut *tx)
        .await?;
        let last = last.ok_or_else(|| not_found("deployment", deployment_id))?;
        let first = last - lines.len() as i64 + 1;
        // 5 variables per row; stay far below SQLite's variable limit.
        for (chunk_no, chunk) in lines.chunks(500).enumerate() {
            let base = first + (chunk_no * 500) as i64;
            let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO logs (deployment_id, seq, at, stream, phase, line) ",
            );
            qb.push_values(chunk.iter().enumerate(), |mut b, (i, l)| {
                b.push_bind(deployment_id)
                    .push_bind(base + i as i64)
                    .push_bind(now)
                    .push_bind(l.stream.as_str())
                    .push_bind(l.phase.map(Phase::as_str))
                    .push_bind(l.line.as_str());
            });
            qb.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn read_logs(
        &self,
        deployment_id: &str,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<LogLine>> {
        let rows = sqlx::query_as::<_, LogRow>(
            "SELECT seq, at, stream, phase, line FROM logs \
             WHERE deployment_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(deployment_id)
        .bind(after_seq)
        .bind(rows::log_limit(limit))
        .fetch_all(&self.reader)
        .await?;
        rows::collect(rows)
    }

    async fn enqueue(&self, deployment_id: &str, kind: JobKind) -> Result<Job> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM deployments WHERE id = $1")
            .bind(deployment_id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            tx.rollback().await?;
            return Err(not_found("deployment", deployment_id));
        }
        let job = Self::insert_job(&mut tx, deployment_id, kind, now_ms()).await?;
        tx.commit().await?;
        self.wake();
        Ok(job)
    }

    async fn claim(&self, worker: &str, lease: Duration) -> Result<Option<Job>> {
        let now = now_ms();
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let dead: Vec<(String, String)> = sqlx::query_as(rows::SQL_REAP_DEAD_JOBS)
            .bind(now)
            .bind(rows::LEASE_LOST)
            .fetch_all(&mut *tx)
            .await?;
        for (deployment_id, status) in dead {
            if status == JobStatus::Failed.as_str() {
                sqlx::query(rows::SQL_INTERRUPT_DEPLOYMENT)
                    .bind(&deployment_id)
                    .bind(rows::LEASE_LOST)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        // Two index-friendly halves (jobs_status_run_after) instead of one OR,
        // so finished history does not slow claims down.
        let sql = "SELECT id FROM jobs WHERE status = 'queued' AND run_after <= $1 \
             UNION ALL SELECT id FROM jobs WHERE status = 'running' AND lease_until < $1 \
             AND attempt < max_attempts AND NOT cancel_requested \
             ORDER BY id LIMIT 1";
        let id: Option<i64> = sqlx::query_scalar(sql)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(id) = id else {
            tx.commit().await?;
            return Ok(None);
        };
        let sql = format!(
            "UPDATE jobs SET status = 'running', worker = $2, lease_until = $3, claimed_at = $4, \
             attempt = attempt + 1 WHERE id = $1 RETURNING {}",
            rows::JOB_COLUMNS
        );
        let job: Job = sqlx::query_as::<_, JobRow>(&sql)
            .bind(id)
            .bind(worker)
            .bind(now + rows::ms(lease))
            .bind(now)
            .fetch_one(&mut *tx)
            .await?
            .try_into()?;
        tx.commit().await?;
        Ok(Some(job))
    }

    async fn heartbeat(&self, job_id: i64, worker: &str, lease: Duration) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE jobs SET lease_until = $1 WHERE id = $2 AND worker = $3 \
             AND status = 'running' AND NOT cancel_requested",
        )
        .bind(now_ms() + rows::ms(lease))
        .bind(job_id)
        .bind(worker)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    async fn finish(&self, job_id: i64, worker: &str, outcome: JobOutcome) -> Result<bool> {
        let now = now_ms();
        let (sql, error, run_after) = match &outcome {
            JobOutcome::Done => (rows::SQL_FINISH_DONE, None, now),
            JobOutcome::Failed { error } => (rows::SQL_FINISH_FAILED, Some(error.as_str()), now),
            JobOutcome::Retry { error, delay } => (
                rows::SQL_FINISH_RETRY,
                Some(error.as_str()),
                now + rows::ms(*delay),
            ),
        };
        let n = sqlx::query(sql)
            .bind(job_id)
            .bind(worker)
            .bind(now)
            .bind(error)
            .bind(run_after)
            .execute(&self.writer)
            .await?
            .rows_affected();
        if n == 1 && matches!(outcome, JobOutcome::Retry { .. }) {
            self.wake();
        }
        Ok(n == 1)
    }

    async fn cancel_jobs(&self, deployment_id: &str) -> Result<u64> {
        let now = now_ms();
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let queued = sqlx::query(rows::SQL_CANCEL_QUEUED)
            .bind(deployment_id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let running = sqlx::query(rows::SQL_FLAG_RUNNING)
            .bind(deployment_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(queued + running)
    }

    async fn get_job(&self, job_id: i64) -> Result<Option<Job>> {
        let sql = format!("SELECT {} FROM jobs WHERE id = $1", rows::JOB_COLUMNS);
        sqlx::query_as::<_, JobRow>(&sql)
            .bind(job_id)
            .fetch_optional(&self.reader)
            .await?
            .map(Job::try_from)
            .transpose()
    }

    async fn jobs_for(&self, deployment_id: &str) -> Result<Vec<Job>> {
        let sql = format!(
            "SELECT {} FROM jobs WHERE deployment_id = $1 ORDER BY id",
            rows::JOB_COLUMNS
        );
        let rows = sqlx::query_as::<_, JobRow>(&sql)
            .bind(deployment_id)
            .fetch_all(&self.reader)
            .await?;
        rows::collect(rows)
    }

    async fn queue_size(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(rows::SQL_QUEUE_SIZE)
            .fetch_one(&self.reader)
            .await?;
        Ok(n.max(0) as u64)
    }

    async fn wait_for_work(&self, timeout: Duration) {
        let notified = self.work.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let next: Option<i64> = sqlx::query_scalar(rows::SQL_NEXT_WAKE)
            .fetch_one(&self.reader)
            .await
            .unwrap_or(None);
        let wait = rows::wait_budget(timeout, next, now_ms());
        let _ = tokio::time::timeout(wait, notified).await;
    }

    async fn status_counts(&self) -> Result<Vec<StatusCount>> {
        let rows: Vec<(String, Option<String>, i64)> = sqlx::query_as(rows::SQL_STATUS_COUNTS)
            .fetch_all(&self.reader)
            .await?;
        rows::status_counts(rows)
    }

    async fn create_user(&self, name: &str) -> Result<User> {
        let user = User {
            id: rows::new_user_id()?,
            name: name.to_string(),
            admin: false,
        };
        sqlx::query("INSERT INTO users (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(&user.id)
            .bind(&user.name)
            .bind(now_ms())
            .execute(&self.writer)
            .await
            .map_err(|e| rows::unique_to_conflict(e, format!("user name {name:?} is taken")))?;
        Ok(user)
    }

    async fn find_user(&self, name: &str) -> Result<Option<User>> {
        let row: Option<(String, String, bool)> = sqlx::query_as(rows::SQL_FIND_USER)
            .bind(name)
            .fetch_optional(&self.reader)
            .await?;
        Ok(row.map(rows::user_from))
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        let all: Vec<(String, String, bool)> = sqlx::query_as(rows::SQL_LIST_USERS)
            .fetch_all(&self.reader)
            .await?;
        Ok(all.into_iter().map(rows::user_from).collect())
    }

    async fn set_admin(&self, user_id: &str, admin: bool) -> Result<()> {
        let done = sqlx::query(rows::SQL_SET_ADMIN)
            .bind(admin)
            .bind(user_id)
            .execute(&self.writer)
            .await?;
        if done.rows_affected() == 0 {
            return Err(not_found("user", user_id));
        }
        Ok(())
    }

    async fn create_token(&self, user_id: &str, label: &str) -> Result<String> {
        let token = rows::new_token()?;
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            tx.rollback().await?;
            return Err(not_found("user", user_id));
        }
        sqlx::query(
            "INSERT INTO tokens (hash, user_id, label, prefix, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(hash_token(&token))
        .bind(user_id)
        .bind(label)
        .bind(rows::token_prefix(&token))
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    async fn authenticate(&self, token: &str) -> Result<Option<User>> {
        let hash = hash_token(token);
        let row: Option<(String, String, bool, Option<i64>)> =
            sqlx::query_as(rows::SQL_AUTHENTICATE)
                .bind(&hash)
                .fetch_optional(&self.reader)
                .await?;
        let Some((id, name, admin, last_used)) = row else {
            return Ok(None);
        };
        let now = now_ms();
        if rows::should_touch(last_used, now) {
            sqlx::query("UPDATE tokens SET last_used_at = $1 WHERE hash = $2")
                .bind(now)
                .bind(&hash)
                .execute(&self.writer)
                .await?;
        }
        Ok(Some(User { id, name, admin }))
    }

    async fn revoke_token(&self, token_prefix_or_label: &str, user_id: &str) -> Result<u64> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let tokens: Vec<(String, String, String)> =
            sqlx::query_as("SELECT hash, label, prefix FROM tokens WHERE user_id = $1")
                .bind(user_id)
                .fetch_all(&mut *tx)
                .await?;
        let mut n = 0;
        for (hash, label, prefix) in tokens {
            if rows::token_matches(token_prefix_or_label, &label, &prefix, &hash) {
                n += sqlx::query("DELETE FROM tokens WHERE hash = $1")
                    .bind(&hash)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
        }
        tx.commit().await?;
        Ok(n)
    }

    async fn cached_analysis(&self, key: &str) -> Result<Option<serde_json::Value>> {
        let text: Option<String> =
            sqlx::query_scalar("SELECT value FROM analysis_cache WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.reader)
                .await?;
        text.map(|t| {
            serde_json::from_str(&t)
                .map_err(|e| StoreError::Corrupt(format!("analysis cache entry {key:?}: {e}")))
        })
        .transpose()
    }

    async fn put_cached_analysis(&self, key: &str, value: &serde_json::Value) -> Result<()> {
        sqlx::query(rows::SQL_PUT_CACHE)
            .bind(key)
            .bind(rows::json_text(value))
            .bind(now_ms())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn put_plan_preview(
        &self,
        id: Option<&str>,
        owner: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<crate::PlanPreviewKept> {
        let (p, purge_before) = rows::preview_to_keep(id, ttl)?;
        if let Some(before) = purge_before {
            sqlx::query(rows::SQL_PURGE_PREVIEWS)
                .bind(before)
                .execute(&self.writer)
                .await?;
        }
        let kept: Option<String> = sqlx::query_scalar(rows::SQL_PUT_PREVIEW)
            .bind(&p.id)
            .bind(owner)
            .bind(value)
            .bind(p.created_at)
            .bind(p.expires_at)
            .fetch_optional(&self.writer)
            .await?;
        rows::preview_kept(kept, p)
    }

    async fn get_plan_preview(&self, id: &str, owner: &str) -> Result<Option<crate::PlanPreview>> {
        sqlx::query_as::<_, (String, String, String, i64, i64)>(rows::SQL_GET_PREVIEW)
            .bind(id)
            .bind(owner)
            .fetch_optional(&self.reader)
            .await?
            .map(rows::preview_from)
            .transpose()
    }

    async fn put_secret(&self, deployment_id: &str, name: &str, sealed: &[u8]) -> Result<()> {
        sqlx::query(rows::SQL_PUT_SECRET)
            .bind(deployment_id)
            .bind(name)
            .bind(sealed)
            .bind(now_ms())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn secrets(&self, deployment_id: &str) -> Result<Vec<(String, Vec<u8>)>> {
        Ok(sqlx::query_as::<_, (String, Vec<u8>)>(
            "SELECT name, sealed FROM deployment_secrets WHERE deployment_id = $1 ORDER BY name",
        )
        .bind(deployment_id)
        .fetch_all(&self.reader)
        .await?)
    }

    async fn delete_secrets(&self, deployment_id: &str) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM deployment_secrets WHERE deployment_id = $1")
                .bind(deployment_id)
                .execute(&self.writer)
                .await?
                .rows_affected(),
        )
    }
}

/// An exclusive `flock` on `<db>.migrate-lock`, released when the file is
/// dropped (or the process dies).
/// Free bytes for this user on the file system holding `path`'s folder.
fn free_bytes(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: statvfs writes into the struct we own; the path is NUL-terminated.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    Some(st.f_bavail as u64 * st.f_frsize as u64)
}

fn reserve_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_os_string();
    name.push(".reserve");
    PathBuf::from(name)
}

/// Give the reserve up; whether there was one.
fn release_reserve(db: &Path) -> bool {
    std::fs::remove_file(reserve_path(db)).is_ok()
}

/// (Re)create the reserve when there is room for it and more.
fn keep_reserve(db: &Path) {
    let reserve = reserve_path(db);
    if reserve.exists() || free_bytes(db).is_none_or(|f| f < 4 * RESERVE_BYTES) {
        return;
    }
    let made = (|| -> std::io::Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let tmp = reserve.with_extension("reserve.tmp");
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        // Written, not sparse: the blocks must really be taken.
        let block = vec![0u8; 1 << 20];
        for _ in 0..RESERVE_BYTES / block.len() as u64 {
            f.write_all(&block)?;
        }
        f.sync_all()?;
        std::fs::rename(&tmp, &reserve)
    })();
    if made.is_err() {
        let _ = std::fs::remove_file(reserve.with_extension("reserve.tmp"));
    }
}

/// SQLite's "disk I/O error" (what a WAL database answers when it cannot
/// grow its `-shm` file).
fn is_io_error(e: &StoreError) -> bool {
    match e {
        StoreError::Database(sqlx::Error::Database(d)) => d
            .code()
            .and_then(|c| c.parse::<i64>().ok())
            .is_some_and(|n| n & 0xff == 10),
        _ => false,
    }
}

/// Create the database file 0600 when it is missing (SQLite then creates
/// its `-wal` and `-shm` files with the database's mode), and take group
/// and other permissions away from existing ones.
fn private_files(db: &Path) -> Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let io = |p: &Path| {
        let shown = p.display().to_string();
        move |source| StoreError::Io {
            path: shown,
            source,
        }
    };
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(db)
    {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io(db)(e)),
    }
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = db.as_os_str().to_os_string();
        name.push(suffix);
        let p = PathBuf::from(name);
        match std::fs::metadata(&p) {
            Ok(m) if m.permissions().mode() & 0o077 != 0 => {
                let mode = m.permissions().mode() & 0o700;
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode))
                    .map_err(io(&p))?;
            }
            _ => {}
        }
    }
    Ok(())
}

async fn migration_lock(db: &Path) -> Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::io::AsRawFd;
    let mut name = db.as_os_str().to_os_string();
    name.push(".migrate-lock");
    let lock_path = std::path::PathBuf::from(name);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&lock_path)
        .map_err(|source| StoreError::Io {
            path: lock_path.display().to_string(),
            source,
        })?;
    let shown = lock_path.display().to_string();
    tokio::task::spawn_blocking(move || {
        // SAFETY: flock on a file descriptor we own; blocks until granted.
        let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
        if r == 0 {
            Ok(file)
        } else {
            Err(StoreError::Io {
                path: shown,
                source: std::io::Error::last_os_error(),
            })
        }
    })
    .await
    .map_err(|e| StoreError::Invalid(format!("the migration lock task failed: {e}")))?
}
