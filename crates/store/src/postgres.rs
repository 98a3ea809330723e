//! PostgreSQL backend: the service's store when it scales out to several
//! processes or machines.
//!
//! Claims use `UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED LIMIT 1)`
//! so concurrent workers never block on or double-claim a job; log sequence
//! numbers come from a counter on the deployment row, whose row lock orders
//! concurrent appenders. Enqueues (and retries) `NOTIFY autodeploy_jobs`;
//! each store keeps one `LISTEN` connection in a background task that wakes
//! local [`Store::wait_for_work`] callers.
//!
//! Deliberately not here: connection-string parsing beyond what sqlx does,
//! schema names/search paths (use the URL's options), TLS policy (sqlx's
//! `sslmode` in the URL decides).

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgListener, PgPool, PgPoolOptions};
use sqlx::{Postgres, QueryBuilder};
use tokio::sync::Notify;

use crate::rows::{self, Bind, DeploymentRow, JobRow, LogRow};
use crate::*;

/// The NOTIFY channel for "new work may be available".
pub const CHANNEL: &str = "autodeploy_jobs";

/// A store in a PostgreSQL database.
pub struct PgStore {
    pool: PgPool,
    work: Arc<Notify>,
    /// The LISTEN task; `None` when LISTEN is unavailable (e.g. behind a
    /// transaction-pooling proxy): waiters then rely on their timeout.
    listener: Option<tokio::task::AbortHandle>,
}

impl Drop for PgStore {
    fn drop(&mut self) {
        if let Some(task) = &self.listener {
            task.abort();
        }
    }
}

impl PgStore {
    /// Connect, migrate, and start the LISTEN task.
    pub async fn open(url: &str) -> Result<Self> {
        let opts: PgConnectOptions = url.parse().map_err(|_| StoreError::BadUrl(redact(url)))?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts)
            .await?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        let work = Arc::new(Notify::new());
        let listener = match PgListener::connect_with(&pool).await {
            Ok(mut l) => match l.listen(CHANNEL).await {
                Ok(()) => Some(tokio::spawn(listen_loop(l, work.clone())).abort_handle()),
                Err(_) => None,
            },
            Err(_) => None,
        };
        Ok(PgStore {
            pool,
            work,
            listener,
        })
    }

    /// Whether cross-process wake-ups (LISTEN/NOTIFY) are active.
    pub fn listening(&self) -> bool {
        self.listener.is_some()
    }

    /// The connection pool, for direct inspection (tests, diagnostics).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    fn wake(&self) {
        wake(&self.work);
    }

    async fn fetch_deployment(
        conn: &mut PgConnection,
        id: &str,
        lock: bool,
    ) -> Result<Option<Deployment>> {
        let sql = format!(
            "SELECT {} FROM deployments WHERE id = $1{}",
            rows::DEPLOYMENT_COLUMNS,
            if lock { " FOR UPDATE" } else { "" }
        );
        sqlx::query_as::<_, DeploymentRow>(&sql)
            .bind(id)
            .fetch_optional(conn)
            .await?
            .map(Deployment::try_from)
            .transpose()
    }

    async fn insert_job(
        conn: &mut PgConnection,
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
        let job = sqlx::query_as::<_, JobRow>(&sql)
            .bind(deployment_id)
            .bind(kind.as_str())
            .bind(i64::from(DEFAULT_MAX_ATTEMPTS))
            .bind(now)
            .fetch_one(&mut *conn)
            .await?
            .try_into()?;
        // Delivered to listeners when the transaction commits.
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(CHANNEL)
            .execute(conn)
            .await?;
        Ok(job)
    }
}

fn wake(work: &Notify) {
    work.notify_waiters();
    // Leave a permit for a worker between its empty claim and its wait.
    work.notify_one();
}

/// Forward NOTIFYs to local waiters; after a lost connection wake everyone
/// (notifications sent meanwhile are gone) and keep listening.
async fn listen_loop(mut listener: PgListener, work: Arc<Notify>) {
    loop {
        match listener.try_recv().await {
            Ok(Some(_)) => wake(&work),
            Ok(None) => wake(&work),
            Err(sqlx::Error::PoolClosed) => return,
            Err(_) => {
                wake(&work);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// The URL without its password, for error messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Fail (or cancel) running jobs whose lease expired with no attempt left
/// (or with a cancel request) and mark the failed ones' deployments
/// interrupted, atomically. Skips rows another claimer holds.
/// `$1` = now, `$2` = message.
const SQL_REAP_DEAD_JOBS: &str = "WITH dead AS ( \
        UPDATE jobs SET \
            status = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'failed' END, \
            last_error = CASE WHEN cancel_requested THEN last_error ELSE $2 END, \
            finished_at = $1 \
        WHERE id IN (SELECT id FROM jobs WHERE status = 'running' AND lease_until < $1 \
            AND (attempt >= max_attempts OR cancel_requested) FOR UPDATE SKIP LOCKED) \
        RETURNING deployment_id, status) \
    UPDATE deployments SET status = 'interrupted', error = $2, updated_at = $1 \
    WHERE id IN (SELECT deployment_id FROM dead WHERE status = 'failed')";

fn not_found(what: &str, id: &str) -> StoreError {
    StoreError::NotFound {
        what: format!("{what} {id:?}"),
    }
}

#[async_trait::async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn create_deployment(
        &self,
        new: NewDeployment,
        job: Option<JobKind>,
    ) -> Result<(Deployment, bool)> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
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
        // A concurrent create with the same key waits on the unique index, then
        // does nothing; both callers then see the one winner.
        let inserted: Option<String> = sqlx::query_scalar(
            "INSERT INTO deployments (id, owner, name, source, request, cloud, status, outputs, \
             options, idempotency_key, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) \
             ON CONFLICT (owner, idempotency_key) DO NOTHING RETURNING id",
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
        .fetch_optional(&mut *tx)
        .await?;
        if inserted.is_none() {
            tx.rollback().await?;
            let sql = format!(
                "SELECT {} FROM deployments WHERE owner = $1 AND idempotency_key = $2",
                rows::DEPLOYMENT_COLUMNS
            );
            let row = sqlx::query_as::<_, DeploymentRow>(&sql)
                .bind(&d.owner)
                .bind(&new.idempotency_key)
                .fetch_optional(&self.pool)
                .await?
                .ok_or_else(|| {
                    StoreError::Conflict(format!(
                        "idempotency key {:?} collided with a deployment that is gone; retry",
                        new.idempotency_key
                    ))
                })?;
            return Ok((row.try_into()?, false));
        }
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
        let mut conn = self.pool.acquire().await?;
        Self::fetch_deployment(&mut conn, id, false).await
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
        let items = rows::collect(q.fetch_all(&self.pool).await?)?;
        Ok(rows::into_page(items, limit))
    }

    async fn update_deployment(&self, id: &str, patch: DeploymentPatch) -> Result<Deployment> {
        let mut tx = self.pool.begin().await?;
        let mut d = Self::fetch_deployment(&mut tx, id, true)
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
        let mut tx = self.pool.begin().await?;
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
        let mut tx = self.pool.begin().await?;
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
            let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
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
        .fetch_all(&self.pool)
        .await?;
        rows::collect(rows)
    }

    async fn enqueue(&self, deployment_id: &str, kind: JobKind) -> Result<Job> {
        let mut tx = self.pool.begin().await?;
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT 1::BIGINT FROM deployments WHERE id = $1")
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
        // One statement, no explicit transaction: reap dead leases (failing the
        // job and interrupting its deployment), then claim.
        sqlx::query(SQL_REAP_DEAD_JOBS)
            .bind(now)
            .bind(rows::LEASE_LOST)
            .execute(&self.pool)
            .await?;
        let sql = format!(
            "UPDATE jobs SET status = 'running', worker = $2, lease_until = $3, claimed_at = $1, \
             attempt = attempt + 1 \
             WHERE id = (SELECT id FROM jobs WHERE {} ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING {}",
            rows::SQL_RUNNABLE,
            rows::JOB_COLUMNS
        );
        sqlx::query_as::<_, JobRow>(&sql)
            .bind(now)
            .bind(worker)
            .bind(now + rows::ms(lease))
            .fetch_optional(&self.pool)
            .await?
            .map(Job::try_from)
            .transpose()
    }

    async fn heartbeat(&self, job_id: i64, worker: &str, lease: Duration) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE jobs SET lease_until = $1 WHERE id = $2 AND worker = $3 \
             AND status = 'running' AND NOT cancel_requested",
        )
        .bind(now_ms() + rows::ms(lease))
        .bind(job_id)
        .bind(worker)
        .execute(&self.pool)
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
            .execute(&self.pool)
            .await?
            .rows_affected();
        if n == 1 && matches!(outcome, JobOutcome::Retry { .. }) {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(CHANNEL)
                .execute(&self.pool)
                .await?;
            self.wake();
        }
        Ok(n == 1)
    }

    async fn cancel_jobs(&self, deployment_id: &str) -> Result<u64> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
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
            .fetch_optional(&self.pool)
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
            .fetch_all(&self.pool)
            .await?;
        rows::collect(rows)
    }

    async fn queue_size(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(rows::SQL_QUEUE_SIZE)
            .fetch_one(&self.pool)
            .await?;
        Ok(n.max(0) as u64)
    }

    async fn wait_for_work(&self, timeout: Duration) {
        let notified = self.work.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let next: Option<i64> = sqlx::query_scalar(rows::SQL_NEXT_WAKE)
            .fetch_one(&self.pool)
            .await
            .unwrap_or(None);
        let wait = rows::wait_budget(timeout, next, now_ms());
        let _ = tokio::time::timeout(wait, notified).await;
    }

    async fn status_counts(&self) -> Result<Vec<StatusCount>> {
        let rows: Vec<(String, Option<String>, i64)> = sqlx::query_as(rows::SQL_STATUS_COUNTS)
            .fetch_all(&self.pool)
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
            .execute(&self.pool)
            .await
            .map_err(|e| rows::unique_to_conflict(e, format!("user name {name:?} is taken")))?;
        Ok(user)
    }

    async fn find_user(&self, name: &str) -> Result<Option<User>> {
        let row: Option<(String, String, bool)> = sqlx::query_as(rows::SQL_FIND_USER)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(rows::user_from))
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        let all: Vec<(String, String, bool)> = sqlx::query_as(rows::SQL_LIST_USERS)
            .fetch_all(&self.pool)
            .await?;
        Ok(all.into_iter().map(rows::user_from).collect())
    }

    async fn set_admin(&self, user_id: &str, admin: bool) -> Result<()> {
        let done = sqlx::query(rows::SQL_SET_ADMIN)
            .bind(admin)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(not_found("user", user_id));
        }
        Ok(())
    }

    async fn create_token(&self, user_id: &str, label: &str) -> Result<String> {
        let token = rows::new_token()?;
        let mut tx = self.pool.begin().await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT 1::BIGINT FROM users WHERE id = $1")
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
                .fetch_optional(&self.pool)
                .await?;
        let Some((id, name, admin, last_used)) = row else {
            return Ok(None);
        };
        let now = now_ms();
        if rows::should_touch(last_used, now) {
            sqlx::query("UPDATE tokens SET last_used_at = $1 WHERE hash = $2")
                .bind(now)
                .bind(&hash)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(User { id, name, admin }))
    }

    async fn revoke_token(&self, token_prefix_or_label: &str, user_id: &str) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
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
                .fetch_optional(&self.pool)
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
            .execute(&self.pool)
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
                .execute(&self.pool)
                .await?;
        }
        let kept: Option<String> = sqlx::query_scalar(rows::SQL_PUT_PREVIEW)
            .bind(&p.id)
            .bind(owner)
            .bind(value)
            .bind(p.created_at)
            .bind(p.expires_at)
            .fetch_optional(&self.pool)
            .await?;
        rows::preview_kept(kept, p)
    }

    async fn get_plan_preview(&self, id: &str, owner: &str) -> Result<Option<crate::PlanPreview>> {
        sqlx::query_as::<_, (String, String, String, i64, i64)>(rows::SQL_GET_PREVIEW)
            .bind(id)
            .bind(owner)
            .fetch_optional(&self.pool)
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
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn secrets(&self, deployment_id: &str) -> Result<Vec<(String, Vec<u8>)>> {
        Ok(sqlx::query_as::<_, (String, Vec<u8>)>(
            "SELECT name, sealed FROM deployment_secrets WHERE deployment_id = $1 ORDER BY name",
        )
        .bind(deployment_id)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn delete_secrets(&self, deployment_id: &str) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM deployment_secrets WHERE deployment_id = $1")
                .bind(deployment_id)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }
}
