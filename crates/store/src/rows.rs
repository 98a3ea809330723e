//! Backend-neutral pieces shared by the SQLite and PostgreSQL modules: the raw
//! row shapes both databases return, their conversion into the public types,
//! id/token generation, cursors and patch application.
//!
//! Deliberately no SQL here: each backend writes its own queries.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use crate::{
    Deployment, DeploymentPatch, DeploymentStatus, Job, JobKind, JobStatus, LogLine, LogStream,
    Phase, Result, StoreError,
};

/// Current time as unix milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub(crate) fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

/// A source of random bytes (the OS's, or a failing one in tests).
type RandomSource = fn(&mut [u8]) -> std::result::Result<(), getrandom::Error>;

/// N bytes from the operating system's random source. When it fails there
/// is no fallback: ids and tokens made from weaker randomness (a clock, an
/// address) could be guessed, so the operation fails instead.
fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    random_bytes_from(getrandom::getrandom)
}

fn random_bytes_from<const N: usize>(source: RandomSource) -> Result<[u8; N]> {
    let mut buf = [0u8; N];
    source(&mut buf).map_err(|e| StoreError::Random(e.to_string()))?;
    Ok(buf)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// "dep_" + 16 lowercase hex chars.
pub(crate) fn new_deployment_id() -> Result<String> {
    Ok(format!("dep_{}", hex(&random_bytes::<8>()?)))
}

/// "pln_" + 32 lowercase hex chars (128 bits: a preview id is not guessable).
pub(crate) fn new_preview_id() -> Result<String> {
    Ok(format!("pln_{}", hex(&random_bytes::<16>()?)))
}

/// A preview id given by the caller must look like one.
pub(crate) fn check_preview_id(id: &str) -> Result<()> {
    let ok = id.len() == 36
        && id.starts_with("pln_")
        && id[4..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "{id:.64} is not a plan preview id (\"pln_\" + 32 lowercase hex characters)"
        )))
    }
}

/// What a put of a preview keeps — the caller's id checked, or a new one,
/// and its times — and, when a purge of long-expired previews is due, the
/// `expires_at` before which rows go. Both backends call this, then run
/// their SQL, then [`preview_kept`].
pub(crate) fn preview_to_keep(
    id: Option<&str>,
    ttl: Duration,
) -> Result<(crate::PlanPreviewKept, Option<i64>)> {
    let id = match id {
        Some(id) => {
            check_preview_id(id)?;
            id.to_string()
        }
        None => new_preview_id()?,
    };
    let now = now_ms();
    let purge_before = purge_previews_due(now).then(|| now - ms(crate::EXPIRED_PREVIEW_GRACE));
    Ok((
        crate::PlanPreviewKept {
            id,
            created_at: now,
            expires_at: now.saturating_add(ms(ttl)),
        },
        purge_before,
    ))
}

/// The outcome of [`SQL_PUT_PREVIEW`]: no row back means another user's
/// preview has that id.
pub(crate) fn preview_kept(
    stored: Option<String>,
    p: crate::PlanPreviewKept,
) -> Result<crate::PlanPreviewKept> {
    match stored {
        Some(_) => Ok(p),
        None => Err(StoreError::Conflict(format!(
            "plan preview {} belongs to another user",
            p.id
        ))),
    }
}

/// Whether this put should also purge long-expired previews: at most once
/// a minute per process (the purge is housekeeping, not correctness).
fn purge_previews_due(now: i64) -> bool {
    use std::sync::atomic::{AtomicI64, Ordering};
    static LAST: AtomicI64 = AtomicI64::new(i64::MIN);
    let last = LAST.load(Ordering::Relaxed);
    now.saturating_sub(last) >= 60_000
        && LAST
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
}

/// Insert, or renew the same owner's row with that id (another owner's row
/// is left alone: nothing is returned and the caller reports a conflict).
/// Users, by name and all of them (the same SQL on both backends).
pub(crate) const SQL_FIND_USER: &str = "SELECT id, name, admin FROM users WHERE name = $1";
pub(crate) const SQL_LIST_USERS: &str = "SELECT id, name, admin FROM users ORDER BY name";
pub(crate) const SQL_SET_ADMIN: &str = "UPDATE users SET admin = $1 WHERE id = $2";

/// A `users` row (`id, name, admin`).
pub(crate) fn user_from((id, name, admin): (String, String, bool)) -> crate::User {
    crate::User { id, name, admin }
}

pub(crate) const SQL_PUT_PREVIEW: &str = "INSERT INTO plan_previews \
    (id, owner, value, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) \
    ON CONFLICT (id) DO UPDATE SET value = excluded.value, created_at = excluded.created_at, \
    expires_at = excluded.expires_at WHERE plan_previews.owner = excluded.owner \
    RETURNING id";
pub(crate) const SQL_PURGE_PREVIEWS: &str = "DELETE FROM plan_previews WHERE expires_at < $1";
pub(crate) const SQL_GET_PREVIEW: &str = "SELECT id, owner, value, created_at, expires_at \
    FROM plan_previews WHERE id = $1 AND owner = $2";

/// A `plan_previews` row.
pub(crate) fn preview_from(
    (id, owner, value, created_at, expires_at): (String, String, String, i64, i64),
) -> Result<crate::PlanPreview> {
    let value = serde_json::from_str(&value)
        .map_err(|e| StoreError::Corrupt(format!("plan preview {id}: {e}")))?;
    Ok(crate::PlanPreview {
        id,
        owner,
        value,
        created_at,
        expires_at,
    })
}

/// "usr_" + 16 lowercase hex chars.
pub(crate) fn new_user_id() -> Result<String> {
    Ok(format!("usr_{}", hex(&random_bytes::<8>()?)))
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A fresh API token: "adt_" + 32 random base62 characters (unbiased), or
/// [`StoreError::Random`] when the OS random source fails.
pub fn new_token() -> Result<String> {
    new_token_from(getrandom::getrandom)
}

fn new_token_from(source: RandomSource) -> Result<String> {
    let mut out = String::with_capacity(36);
    out.push_str("adt_");
    while out.len() < 36 {
        for b in random_bytes_from::<48>(source)? {
            // 248 = 4 * 62: reject the tail to keep the distribution uniform.
            if b < 248 && out.len() < 36 {
                out.push(BASE62[(b % 62) as usize] as char);
            }
        }
    }
    Ok(out)
}

/// Lowercase hex sha256 of a token: what the database stores.
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Characters of a token kept in clear to let people name it ("adt_" + 8).
pub(crate) const TOKEN_PREFIX_LEN: usize = 12;

pub(crate) fn token_prefix(token: &str) -> String {
    token.chars().take(TOKEN_PREFIX_LEN).collect()
}

/// Does `arg` name a token with this stored prefix/hash/label?
pub(crate) fn token_matches(arg: &str, label: &str, prefix: &str, hash: &str) -> bool {
    if arg == label {
        return true;
    }
    if arg.len() > TOKEN_PREFIX_LEN {
        return hash_token(arg) == hash;
    }
    arg.len() >= 8 && prefix.starts_with(arg)
}

/// Cursor = hex("<created_at>:<id>").
pub(crate) fn encode_cursor(created_at: i64, id: &str) -> String {
    hex(format!("{created_at}:{id}").as_bytes())
}

pub(crate) fn decode_cursor(cursor: &str) -> Result<(i64, String)> {
    let bad = || {
        StoreError::Invalid(format!(
            "cursor {cursor:?} is not one this server issued; start again without a cursor"
        ))
    };
    if cursor.len() & 1 == 1 || cursor.len() > 512 {
        return Err(bad());
    }
    let bytes = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&cursor[i..i + 2], 16))
        .collect::<std::result::Result<Vec<u8>, _>>()
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (at, id) = text.split_once(':').ok_or_else(bad)?;
    let at: i64 = at.parse().map_err(|_| bad())?;
    Ok((at, id.to_string()))
}

pub(crate) fn page_limit(limit: u32) -> i64 {
    match limit {
        0 => 50,
        n => i64::from(n.min(500)),
    }
}

pub(crate) fn log_limit(limit: u32) -> i64 {
    match limit {
        0 => 1000,
        n => i64::from(n.min(10_000)),
    }
}

pub(crate) fn json_text(v: &serde_json::Value) -> String {
    v.to_string()
}

fn parse_json(col: &str, s: &str) -> Result<serde_json::Value> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("column {col}: {e}")))
}

fn parse_status(s: &str) -> Result<DeploymentStatus> {
    DeploymentStatus::parse(s)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown deployment status {s:?}")))
}

fn parse_phase(s: Option<&str>) -> Result<Option<Phase>> {
    s.map(|s| Phase::parse(s).ok_or_else(|| StoreError::Corrupt(format!("unknown phase {s:?}"))))
        .transpose()
}

/// A `deployments` row as both databases return it.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct DeploymentRow {
    pub id: String,
    pub owner: String,
    pub name: String,
    pub source: String,
    pub request: String,
    pub cloud: Option<String>,
    pub region: Option<String>,
    pub strategy: Option<String>,
    pub commit_sha: Option<String>,
    pub status: String,
    pub phase: Option<String>,
    pub url: Option<String>,
    pub outputs: String,
    pub plan: Option<String>,
    pub last_good_plan: Option<String>,
    pub error: Option<String>,
    pub options: String,
    pub workdir: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub(crate) const DEPLOYMENT_COLUMNS: &str = "id, owner, name, source, request, cloud, region, \
    strategy, commit_sha, status, phase, url, outputs, plan, last_good_plan, error, options, \
    workdir, created_at, updated_at";

impl TryFrom<DeploymentRow> for Deployment {
    type Error = StoreError;
    fn try_from(r: DeploymentRow) -> Result<Self> {
        Ok(Deployment {
            status: parse_status(&r.status)?,
            phase: parse_phase(r.phase.as_deref())?,
            outputs: parse_json("outputs", &r.outputs)?,
            plan: r
                .plan
                .as_deref()
                .map(|s| parse_json("plan", s))
                .transpose()?,
            last_good_plan: r
                .last_good_plan
                .as_deref()
                .map(|s| parse_json("last_good_plan", s))
                .transpose()?,
            options: parse_json("options", &r.options)?,
            id: r.id,
            owner: r.owner,
            name: r.name,
            source: r.source,
            request: r.request,
            cloud: r.cloud,
            region: r.region,
            strategy: r.strategy,
            commit: r.commit_sha,
            url: r.url,
            error: r.error,
            workdir: r.workdir,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// Apply a patch in memory; the backend then writes every column back.
pub(crate) fn apply_patch(d: &mut Deployment, p: DeploymentPatch, now: i64) {
    if let Some(v) = p.status {
        d.status = v;
    }
    if let Some(v) = p.phase {
        d.phase = v;
    }
    if let Some(v) = p.url {
        d.url = v;
    }
    if let Some(v) = p.outputs {
        d.outputs = v;
    }
    if let Some(v) = p.plan {
        d.plan = v;
    }
    if let Some(v) = p.last_good_plan {
        d.last_good_plan = v;
    }
    if let Some(v) = p.error {
        d.error = v;
    }
    if let Some(v) = p.cloud {
        d.cloud = v;
    }
    if let Some(v) = p.region {
        d.region = v;
    }
    if let Some(v) = p.strategy {
        d.strategy = v;
    }
    if let Some(v) = p.commit {
        d.commit = v;
    }
    if let Some(v) = p.workdir {
        d.workdir = v;
    }
    if let Some(v) = p.request {
        d.request = v;
    }
    if let Some(v) = p.options {
        d.options = v;
    }
    d.updated_at = now.max(d.updated_at);
}

/// A `jobs` row as both databases return it.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct JobRow {
    pub id: i64,
    pub deployment_id: String,
    pub kind: String,
    pub status: String,
    pub attempt: i64,
    pub max_attempts: i64,
    pub worker: Option<String>,
    pub lease_until: Option<i64>,
    pub run_after: i64,
    pub cancel_requested: bool,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub claimed_at: Option<i64>,
    pub finished_at: Option<i64>,
}

pub(crate) const JOB_COLUMNS: &str = "id, deployment_id, kind, status, attempt, max_attempts, \
    worker, lease_until, run_after, cancel_requested, last_error, created_at, claimed_at, finished_at";

impl TryFrom<JobRow> for Job {
    type Error = StoreError;
    fn try_from(r: JobRow) -> Result<Self> {
        Ok(Job {
            kind: JobKind::parse(&r.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown job kind {:?}", r.kind)))?,
            status: JobStatus::parse(&r.status)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown job status {:?}", r.status)))?,
            attempt: u32::try_from(r.attempt).unwrap_or(0),
            max_attempts: u32::try_from(r.max_attempts).unwrap_or(0),
            id: r.id,
            deployment_id: r.deployment_id,
            worker: r.worker,
            lease_until: r.lease_until,
            run_after: r.run_after,
            cancel_requested: r.cancel_requested,
            last_error: r.last_error,
            created_at: r.created_at,
            claimed_at: r.claimed_at,
            finished_at: r.finished_at,
        })
    }
}

/// A `logs` row as both databases return it.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct LogRow {
    pub seq: i64,
    pub at: i64,
    pub stream: String,
    pub phase: Option<String>,
    pub line: String,
}

impl TryFrom<LogRow> for LogLine {
    type Error = StoreError;
    fn try_from(r: LogRow) -> Result<Self> {
        Ok(LogLine {
            seq: r.seq,
            at: r.at,
            stream: LogStream::parse(&r.stream)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown log stream {:?}", r.stream)))?,
            phase: parse_phase(r.phase.as_deref())?,
            line: r.line,
        })
    }
}

pub(crate) fn collect<R, T>(rows: Vec<R>) -> Result<Vec<T>>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}

/// Message recorded on a job (and its deployment) when its worker vanished with
/// no attempts left.
pub(crate) const LEASE_LOST: &str = "the worker running this job stopped heartbeating and \
    no attempt is left; its Terraform state is kept: run destroy, or redeploy";

/// A value bound into a dynamically built query.
pub(crate) enum Bind {
    Text(String),
    Int(i64),
}

/// The keyset-paginated list query, with `$n` placeholders (both SQLite and
/// PostgreSQL accept them). Fetches one row more than the page to tell whether
/// another page follows.
pub(crate) fn list_query(filter: &crate::ListFilter) -> Result<(String, Vec<Bind>, i64)> {
    let mut sql = format!("SELECT {DEPLOYMENT_COLUMNS} FROM deployments WHERE TRUE");
    let mut binds = Vec::new();
    let push = |sql: &mut String, clause: &str, b: Bind, binds: &mut Vec<Bind>| {
        binds.push(b);
        sql.push_str(&clause.replace("$?", &format!("${}", binds.len())));
    };
    if let Some(owner) = &filter.owner {
        push(
            &mut sql,
            " AND owner = $?",
            Bind::Text(owner.clone()),
            &mut binds,
        );
    }
    if let Some(status) = filter.status {
        push(
            &mut sql,
            " AND status = $?",
            Bind::Text(status.as_str().into()),
            &mut binds,
        );
    }
    if let Some(cloud) = &filter.cloud {
        push(
            &mut sql,
            " AND cloud = $?",
            Bind::Text(cloud.clone()),
            &mut binds,
        );
    }
    if let Some(cursor) = &filter.cursor {
        let (at, id) = decode_cursor(cursor)?;
        push(&mut sql, " AND (created_at < $?", Bind::Int(at), &mut binds);
        push(&mut sql, " OR (created_at = $?", Bind::Int(at), &mut binds);
        push(&mut sql, " AND id < $?))", Bind::Text(id), &mut binds);
    }
    let limit = page_limit(filter.limit);
    push(
        &mut sql,
        " ORDER BY created_at DESC, id DESC LIMIT $?",
        Bind::Int(limit + 1),
        &mut binds,
    );
    Ok((sql, binds, limit))
}

/// Cut the extra row off a fetched page and derive the next cursor.
pub(crate) fn into_page(mut items: Vec<Deployment>, limit: i64) -> crate::Page {
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    let next_cursor = match items.last() {
        Some(last) if more => Some(encode_cursor(last.created_at, &last.id)),
        _ => None,
    };
    crate::Page { items, next_cursor }
}

/// Shared SQL: fail (or cancel) running jobs whose lease expired with no
/// attempt left (or with a cancel request). `$1` = now, `$2` = message.
pub(crate) const SQL_REAP_DEAD_JOBS: &str = "UPDATE jobs SET \
        status = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'failed' END, \
        last_error = CASE WHEN cancel_requested THEN last_error ELSE $2 END, \
        finished_at = $1 \
    WHERE status = 'running' AND lease_until < $1 \
      AND (attempt >= max_attempts OR cancel_requested) \
    RETURNING deployment_id, status";

/// Shared SQL: mark a deployment interrupted. `$1` = id, `$2` = message, `$3` = now.
pub(crate) const SQL_INTERRUPT_DEPLOYMENT: &str = "UPDATE deployments SET \
        status = 'interrupted', error = $2, updated_at = $3 WHERE id = $1";

/// Shared SQL: which jobs may be claimed now (`$1` = now).
pub(crate) const SQL_RUNNABLE: &str = "(status = 'queued' AND run_after <= $1) \
    OR (status = 'running' AND lease_until < $1 AND attempt < max_attempts AND NOT cancel_requested)";

/// Shared SQL for `finish`: `$1` job, `$2` worker, `$3` now, `$4` error, `$5` run_after.
/// Each only touches a job this worker still holds.
pub(crate) const SQL_FINISH_DONE: &str = "UPDATE jobs SET status = 'done', finished_at = $3, \
    lease_until = NULL, last_error = COALESCE($4, last_error), run_after = $5 \
    WHERE id = $1 AND worker = $2 AND status = 'running'";
pub(crate) const SQL_FINISH_FAILED: &str = "UPDATE jobs SET status = 'failed', finished_at = $3, \
    lease_until = NULL, last_error = $4, run_after = $5 \
    WHERE id = $1 AND worker = $2 AND status = 'running'";
pub(crate) const SQL_FINISH_RETRY: &str = "UPDATE jobs SET \
    status = CASE WHEN cancel_requested THEN 'cancelled' \
                  WHEN attempt < max_attempts THEN 'queued' ELSE 'failed' END, \
    finished_at = CASE WHEN attempt < max_attempts AND NOT cancel_requested THEN NULL ELSE $3 END, \
    worker = CASE WHEN attempt < max_attempts AND NOT cancel_requested THEN NULL ELSE worker END, \
    lease_until = NULL, last_error = $4, run_after = $5 \
    WHERE id = $1 AND worker = $2 AND status = 'running'";

/// Shared SQL for `cancel_jobs`: `$1` deployment, `$2` now.
pub(crate) const SQL_CANCEL_QUEUED: &str =
    "UPDATE jobs SET status = 'cancelled', finished_at = $2 \
    WHERE deployment_id = $1 AND status = 'queued'";
pub(crate) const SQL_FLAG_RUNNING: &str = "UPDATE jobs SET cancel_requested = TRUE \
    WHERE deployment_id = $1 AND status = 'running' AND NOT cancel_requested";

pub(crate) const SQL_QUEUE_SIZE: &str =
    "SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running')";

/// Earliest moment something becomes claimable without a new enqueue: a
/// delayed retry's run_after or a running job's lease end.
pub(crate) const SQL_NEXT_WAKE: &str = "SELECT MIN(t) FROM ( \
    SELECT MIN(run_after) AS t FROM jobs WHERE status = 'queued' \
    UNION ALL SELECT MIN(lease_until) AS t FROM jobs WHERE status = 'running') AS w";

pub(crate) const SQL_STATUS_COUNTS: &str = "SELECT status, cloud, COUNT(*) FROM deployments \
    GROUP BY status, cloud ORDER BY status, cloud";

pub(crate) const SQL_AUTHENTICATE: &str = "SELECT u.id, u.name, u.admin, t.last_used_at \
    FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = $1";

pub(crate) const SQL_PUT_SECRET: &str = "INSERT INTO deployment_secrets \
    (deployment_id, name, sealed, updated_at) VALUES ($1, $2, $3, $4) \
    ON CONFLICT (deployment_id, name) DO UPDATE SET sealed = excluded.sealed, \
    updated_at = excluded.updated_at";

pub(crate) const SQL_PUT_CACHE: &str = "INSERT INTO analysis_cache (key, value, created_at) \
    VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET value = excluded.value, \
    created_at = excluded.created_at";

/// How long `wait_for_work` may sleep: the caller's timeout, cut short when a
/// delayed job becomes runnable sooner (at least 10 ms, to never spin).
pub(crate) fn wait_budget(timeout: Duration, next: Option<i64>, now: i64) -> Duration {
    match next {
        Some(t) => {
            let until = Duration::from_millis(u64::try_from(t - now).unwrap_or(0));
            timeout.min(until.max(Duration::from_millis(10)))
        }
        None => timeout,
    }
}

pub(crate) fn status_counts(
    rows: Vec<(String, Option<String>, i64)>,
) -> Result<Vec<crate::StatusCount>> {
    rows.into_iter()
        .map(|(status, cloud, count)| {
            Ok(crate::StatusCount {
                status: parse_status(&status)?,
                cloud,
                count: count.max(0) as u64,
            })
        })
        .collect()
}

/// Record token use at most once a minute (it costs a write).
pub(crate) fn should_touch(last_used: Option<i64>, now: i64) -> bool {
    last_used.is_none_or(|t| now - t >= 60_000)
}

pub(crate) fn unique_to_conflict(e: sqlx::Error, msg: String) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(msg),
        _ => StoreError::Database(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_random_source_fails_token_generation() {
        fn broken(_: &mut [u8]) -> std::result::Result<(), getrandom::Error> {
            Err(getrandom::Error::UNSUPPORTED)
        }
        let e = new_token_from(broken).unwrap_err();
        assert!(matches!(e, StoreError::Random(_)), "{e}");
        assert!(e.to_string().contains("random"), "{e}");
        assert!(random_bytes_from::<8>(broken).is_err());
    }

    #[test]
    fn token_shape_and_hash() {
        let t = new_token().unwrap();
        assert_eq!(t.len(), 36);
        assert!(t.starts_with("adt_"));
        assert!(t[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(t, new_token().unwrap());
        assert_eq!(hash_token("abc").len(), 64);
        assert!(token_matches(
            &t[..10],
            "x",
            &token_prefix(&t),
            &hash_token(&t)
        ));
        assert!(token_matches(&t, "x", &token_prefix(&t), &hash_token(&t)));
        assert!(!token_matches(
            "adt_",
            "x",
            &token_prefix(&t),
            &hash_token(&t)
        ));
    }

    #[test]
    fn cursor_round_trip_and_rejects_garbage() {
        let c = encode_cursor(1_700_000_000_123, "dep_0123456789abcdef");
        assert_eq!(
            decode_cursor(&c).unwrap(),
            (1_700_000_000_123, "dep_0123456789abcdef".to_string())
        );
        assert!(decode_cursor("zz").is_err());
        assert!(decode_cursor("abc").is_err());
    }

    #[test]
    fn ids_have_the_promised_shape() {
        let id = new_deployment_id().unwrap();
        assert_eq!(id.len(), 20);
        assert!(id[4..]
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    }
}
