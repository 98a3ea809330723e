//! The store's behaviour, proven against real databases: every case runs on
//! SQLite (a temporary file) and on PostgreSQL when
//! `AUTODEPLOY_TEST_DATABASE_URL` names a server (a fresh database per test,
//! dropped afterwards). Without that variable the PostgreSQL half prints a
//! loud skip message and passes.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use autodeploy_store::*;
use serde_json::json;

// ---------------------------------------------------------------- harness

struct Db {
    store: Arc<dyn Store>,
    url: String,
    _tmp: Option<tempfile::TempDir>,
    pg: Option<(String, String)>, // (admin url, database name) to drop
}

impl Drop for Db {
    fn drop(&mut self) {
        let Some((admin, name)) = self.pg.take() else {
            return;
        };
        // Drop from a separate thread with its own runtime: Drop cannot await.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime for cleanup");
            rt.block_on(async {
                use sqlx::Connection;
                if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut c)
                        .await;
                }
            })
        })
        .join();
    }
}

async fn sqlite_db() -> Db {
    let tmp = tempfile::tempdir().expect("temp dir");
    // A nested folder proves open() creates missing parents.
    let path = tmp.path().join("nested/dir/store.db");
    let url = format!("sqlite://{}", path.display());
    let store = open(&url).await.expect("open sqlite store");
    assert_eq!(store.backend(), "sqlite");
    Db {
        store,
        url,
        _tmp: Some(tmp),
        pg: None,
    }
}

/// Replace the database name in a postgres URL.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let root = match base[authority_start..].find('/') {
        Some(i) => &base[..authority_start + i],
        None => base,
    };
    format!("{root}/{name}{query}")
}

async fn pg_db() -> Option<Db> {
    let Ok(admin) = std::env::var("AUTODEPLOY_TEST_DATABASE_URL") else {
        eprintln!(
            "\n!!! SKIPPED PostgreSQL case: AUTODEPLOY_TEST_DATABASE_URL is not set \
             (e.g. postgres://postgres:postgres@127.0.0.1:5432/postgres) !!!\n"
        );
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: this prerequisite must be there (see above)"
        );
        return None;
    };
    use sqlx::Connection;
    let name = format!(
        "adt_{}",
        hash_token(&new_token().unwrap())[..16].to_ascii_lowercase()
    );
    let mut c = sqlx::PgConnection::connect(&admin)
        .await
        .expect("connect to AUTODEPLOY_TEST_DATABASE_URL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut c)
        .await
        .expect("create test database");
    let url = with_database(&admin, &name);
    let store = open(&url).await.expect("open postgres store");
    assert_eq!(store.backend(), "postgres");
    Some(Db {
        store,
        url,
        _tmp: None,
        pg: Some((admin, name)),
    })
}

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = super::sqlite_db().await;
                    super::$name(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = super::pg_db().await else { return };
                    super::$name(&db).await;
                }
            )*
        }
    };
}

cases!(
    crud_and_patch_semantics,
    idempotency_key,
    list_filters_and_pagination,
    logs_ordered_under_concurrent_writers,
    claim_is_exclusive,
    lease_expiry_reclaims,
    retry_waits_for_backoff,
    exhausted_attempts_fail_and_interrupt,
    cancel_jobs,
    queue_size_and_status_counts,
    tokens_store_only_hashes,
    analysis_cache,
    plan_previews_by_owner_with_expiry,
    sealed_secrets_per_deployment,
    wait_for_work_wakes_on_enqueue,
    users_admins_and_the_cli_default_user,
);

fn new_dep(owner: &str, name: &str) -> NewDeployment {
    NewDeployment {
        owner: owner.into(),
        name: name.into(),
        source: "https://github.com/example/hello".into(),
        request: "deploy this on aws".into(),
        cloud: Some("aws".into()),
        options: json!({"target": "aws"}),
        idempotency_key: None,
    }
}

/// Raw token rows (hash, prefix, label) straight from the database.
async fn raw_tokens(db: &Db) -> Vec<(String, String, String)> {
    let sql = "SELECT hash, prefix, label FROM tokens ORDER BY created_at";
    if db.pg.is_some() {
        let pool = sqlx::PgPool::connect(&db.url).await.expect("raw pg");
        sqlx::query_as(sql)
            .fetch_all(&pool)
            .await
            .expect("raw rows")
    } else {
        let pool = sqlx::SqlitePool::connect(&db.url)
            .await
            .expect("raw sqlite");
        sqlx::query_as(sql)
            .fetch_all(&pool)
            .await
            .expect("raw rows")
    }
}

// ---------------------------------------------------------------- cases

async fn crud_and_patch_semantics(db: &Db) {
    let s = &db.store;
    let (d, created) = s
        .create_deployment(new_dep("alice", "hello"), None)
        .await
        .unwrap();
    assert!(created);
    assert!(d.id.starts_with("dep_") && d.id.len() == 20, "{}", d.id);
    assert_eq!(d.status, DeploymentStatus::Queued);
    assert_eq!(d.outputs, json!({}));
    assert_eq!(s.get_deployment(&d.id).await.unwrap(), Some(d.clone()));
    assert_eq!(
        s.get_deployment_owned(&d.id, "alice").await.unwrap(),
        Some(d.clone())
    );
    assert_eq!(
        s.get_deployment_owned(&d.id, "mallory").await.unwrap(),
        None
    );
    assert!(
        s.jobs_for(&d.id).await.unwrap().is_empty(),
        "no job was asked for"
    );

    let plan = json!({"cloud": "aws", "strategy": "vm", "nested": {"a": [1, 2]}});
    let u = s
        .update_deployment(
            &d.id,
            DeploymentPatch {
                status: Some(DeploymentStatus::Running),
                phase: Some(Some(Phase::TerraformApply)),
                url: Some(Some("http://1.2.3.4".into())),
                plan: Some(Some(plan.clone())),
                region: Some(Some("eu-central-1".into())),
                commit: Some(Some("abc123".into())),
                outputs: Some(json!({"ip": "1.2.3.4"})),
                error: Some(Some("transient".into())),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(u.status, DeploymentStatus::Running);
    assert_eq!(u.phase, Some(Phase::TerraformApply));
    assert_eq!(u.plan, Some(plan.clone()));
    assert!(u.updated_at >= d.updated_at);
    assert_eq!(s.get_deployment(&d.id).await.unwrap(), Some(u.clone()));

    // None leaves fields alone; Some(None) clears them.
    let u2 = s
        .update_deployment(
            &d.id,
            DeploymentPatch {
                url: Some(None),
                error: Some(None),
                status: Some(DeploymentStatus::Healthy),
                last_good_plan: Some(Some(plan.clone())),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(u2.url, None);
    assert_eq!(u2.error, None);
    assert_eq!(u2.phase, Some(Phase::TerraformApply), "untouched");
    assert_eq!(u2.region.as_deref(), Some("eu-central-1"), "untouched");
    assert_eq!(u2.commit.as_deref(), Some("abc123"));
    assert_eq!(u2.outputs, json!({"ip": "1.2.3.4"}));
    assert_eq!(u2.last_good_plan, Some(plan));
    assert_eq!(s.get_deployment(&d.id).await.unwrap(), Some(u2));

    let missing = s
        .update_deployment("dep_nope", DeploymentPatch::default())
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { .. })),
        "{missing:?}"
    );

    // Delete takes logs and jobs with it.
    s.enqueue(&d.id, JobKind::Deploy).await.unwrap();
    s.append_logs(
        &d.id,
        &[NewLogLine {
            stream: LogStream::System,
            phase: None,
            line: "x".into(),
        }],
    )
    .await
    .unwrap();
    s.delete_deployment(&d.id).await.unwrap();
    assert_eq!(s.get_deployment(&d.id).await.unwrap(), None);
    assert!(s.jobs_for(&d.id).await.unwrap().is_empty());
    assert!(s.read_logs(&d.id, 0, 0).await.unwrap().is_empty());
    assert_eq!(s.queue_size().await.unwrap(), 0);
    let again = s.delete_deployment(&d.id).await;
    assert!(
        matches!(again, Err(StoreError::NotFound { .. })),
        "{again:?}"
    );
}

async fn idempotency_key(db: &Db) {
    let s = &db.store;
    let mut n = new_dep("alice", "hello");
    n.idempotency_key = Some("key-1".into());
    let (a, created_a) = s
        .create_deployment(n.clone(), Some(JobKind::Deploy))
        .await
        .unwrap();
    let (b, created_b) = s
        .create_deployment(n.clone(), Some(JobKind::Deploy))
        .await
        .unwrap();
    assert!(created_a);
    assert!(!created_b);
    assert_eq!(a.id, b.id);
    assert_eq!(
        s.jobs_for(&a.id).await.unwrap().len(),
        1,
        "second call enqueued nothing"
    );

    // The key is per owner.
    let mut other = n.clone();
    other.owner = "bob".into();
    let (c, created_c) = s
        .create_deployment(other, Some(JobKind::Deploy))
        .await
        .unwrap();
    assert!(created_c);
    assert_ne!(c.id, a.id);

    // Concurrent creates with one fresh key: exactly one wins.
    let mut racing = new_dep("carol", "race");
    racing.idempotency_key = Some("key-race".into());
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let s = s.clone();
        let r = racing.clone();
        tasks.push(tokio::spawn(async move {
            s.create_deployment(r, Some(JobKind::Deploy)).await.unwrap()
        }));
    }
    let mut ids = HashSet::new();
    let mut wins = 0;
    for t in tasks {
        let (d, created) = t.await.unwrap();
        ids.insert(d.id);
        wins += usize::from(created);
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(wins, 1);
    let id = ids.into_iter().next().unwrap();
    assert_eq!(s.jobs_for(&id).await.unwrap().len(), 1);

    // No key: always a new deployment.
    let (x, _) = s
        .create_deployment(new_dep("alice", "x"), None)
        .await
        .unwrap();
    let (y, _) = s
        .create_deployment(new_dep("alice", "x"), None)
        .await
        .unwrap();
    assert_ne!(x.id, y.id);
}

async fn list_filters_and_pagination(db: &Db) {
    let s = &db.store;
    let mut all = Vec::new();
    for i in 0..30 {
        let owner = if i % 3 == 0 { "bob" } else { "alice" };
        let mut n = new_dep(owner, &format!("app-{i}"));
        n.cloud = Some(if i % 2 == 0 { "aws" } else { "gcp" }.into());
        let (d, _) = s.create_deployment(n, None).await.unwrap();
        if i % 5 == 0 {
            s.update_deployment(
                &d.id,
                DeploymentPatch {
                    status: Some(DeploymentStatus::Healthy),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        }
        all.push(d);
        if i % 4 == 0 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    let by_owner = s
        .list_deployments(&ListFilter {
            owner: Some("bob".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_owner.items.len(), 10);
    assert!(by_owner.items.iter().all(|d| d.owner == "bob"));
    assert!(by_owner.next_cursor.is_none());

    let healthy = s
        .list_deployments(&ListFilter {
            status: Some(DeploymentStatus::Healthy),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(healthy.items.len(), 6);
    let gcp_alice = s
        .list_deployments(&ListFilter {
            owner: Some("alice".into()),
            cloud: Some("gcp".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let expected = all
        .iter()
        .filter(|d| d.owner == "alice" && d.cloud.as_deref() == Some("gcp"))
        .count();
    assert_eq!(gcp_alice.items.len(), expected);

    // Page through 7 at a time while new deployments keep arriving.
    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = s
            .list_deployments(&ListFilter {
                limit: 7,
                cursor: cursor.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(page.items.len() <= 7);
        seen.extend(page.items.iter().map(|d| (d.created_at, d.id.clone())));
        s.create_deployment(new_dep("alice", "late"), None)
            .await
            .unwrap();
        pages += 1;
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
        assert!(pages < 20, "pagination does not end");
    }
    let unique: HashSet<_> = seen.iter().map(|(_, id)| id.clone()).collect();
    assert_eq!(unique.len(), seen.len(), "no deployment appears twice");
    for d in &all {
        assert!(unique.contains(&d.id), "{} missing from the pages", d.id);
    }
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first, ties by id");
    assert_eq!(pages, 5, "30 items at 7 a page");

    let bad = s
        .list_deployments(&ListFilter {
            cursor: Some("not-a-cursor".into()),
            ..Default::default()
        })
        .await;
    assert!(matches!(bad, Err(StoreError::Invalid(_))), "{bad:?}");
    let default = s.list_deployments(&ListFilter::default()).await.unwrap();
    assert_eq!(default.items.len(), 35);
}

async fn logs_ordered_under_concurrent_writers(db: &Db) {
    let s = &db.store;
    let (d, _) = s
        .create_deployment(new_dep("alice", "logs"), None)
        .await
        .unwrap();
    let writers = 8;
    let batches = 40;
    let per_batch = 5;
    let mut tasks = Vec::new();
    for w in 0..writers {
        let s = s.clone();
        let id = d.id.clone();
        tasks.push(tokio::spawn(async move {
            for b in 0..batches {
                let lines: Vec<NewLogLine> = (0..per_batch)
                    .map(|i| NewLogLine {
                        stream: if i % 2 == 0 {
                            LogStream::Stdout
                        } else {
                            LogStream::Stderr
                        },
                        phase: Some(Phase::TerraformApply),
                        line: format!("w{w} b{b} l{i}"),
                    })
                    .collect();
                s.append_logs(&id, &lines).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let total = (writers * batches * per_batch) as i64;
    let mut got = Vec::new();
    let mut after = 0;
    loop {
        let page = s.read_logs(&d.id, after, 300).await.unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 300);
        after = page.last().unwrap().seq;
        got.extend(page);
    }
    assert_eq!(got.len() as i64, total);
    let seqs: Vec<i64> = got.iter().map(|l| l.seq).collect();
    assert_eq!(
        seqs,
        (1..=total).collect::<Vec<_>>(),
        "dense, strictly increasing"
    );
    // Each writer's lines come out in the order it wrote them, batches unbroken.
    let mut per_writer: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for l in &got {
        let w = l.line.split(' ').next().unwrap().to_string();
        per_writer.entry(w).or_default().push(l.line.clone());
    }
    for (w, lines) in per_writer {
        let w = w.as_str();
        let expected: Vec<String> = (0..batches)
            .flat_map(|b| (0..per_batch).map(move |i| format!("{w} b{b} l{i}")))
            .collect();
        assert_eq!(lines, expected);
    }
    for chunk in got.chunks(per_batch) {
        let prefix = |l: &LogLine| l.line.rsplit_once(' ').unwrap().0.to_string();
        assert!(
            chunk.iter().all(|l| prefix(l) == prefix(&chunk[0])),
            "a batch was split"
        );
    }
    assert_eq!(got[0].phase, Some(Phase::TerraformApply));
    assert_eq!(got[0].stream, LogStream::Stdout);
    let missing = s
        .append_logs(
            "dep_missing",
            &[NewLogLine {
                stream: LogStream::System,
                phase: None,
                line: "x".into(),
            }],
        )
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { .. })),
        "{missing:?}"
    );
}

async fn claim_is_exclusive(db: &Db) {
    let s = &db.store;
    let jobs = 40;
    let mut expected = HashSet::new();
    for i in 0..jobs {
        let (d, _) = s
            .create_deployment(new_dep("alice", &format!("j{i}")), Some(JobKind::Deploy))
            .await
            .unwrap();
        expected.insert(s.jobs_for(&d.id).await.unwrap()[0].id);
    }
    assert_eq!(s.queue_size().await.unwrap(), jobs as u64);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let me = format!("worker-{w}");
            let mut mine = Vec::new();
            while let Some(job) = s.claim(&me, Duration::from_secs(60)).await.unwrap() {
                assert_eq!(job.worker.as_deref(), Some(me.as_str()));
                assert_eq!(job.attempt, 1);
                assert_eq!(job.status, JobStatus::Running);
                assert!(s.finish(job.id, &me, JobOutcome::Done).await.unwrap());
                mine.push(job.id);
            }
            mine
        }));
    }
    let mut claimed = Vec::new();
    for t in tasks {
        claimed.extend(t.await.unwrap());
    }
    eprintln!(
        "[{}] 8 workers drained {jobs} jobs (claim+finish) in {:?}",
        db.store.backend(),
        started.elapsed()
    );
    let unique: HashSet<i64> = claimed.iter().copied().collect();
    assert_eq!(claimed.len(), jobs, "each job claimed exactly once");
    assert_eq!(unique, expected);
    assert_eq!(s.queue_size().await.unwrap(), 0);
    for id in unique {
        let j = s.get_job(id).await.unwrap().unwrap();
        assert_eq!(j.status, JobStatus::Done);
        assert!(j.finished_at.is_some());
    }
}

async fn lease_expiry_reclaims(db: &Db) {
    // Long enough that a loaded machine does not expire it between two calls.
    const LEASE: Duration = Duration::from_millis(1000);
    let s = &db.store;
    let (d, _) = s
        .create_deployment(new_dep("alice", "lease"), Some(JobKind::Deploy))
        .await
        .unwrap();
    let j1 = s.claim("w1", LEASE).await.unwrap().unwrap();
    assert_eq!(j1.deployment_id, d.id);
    assert!(
        s.claim("w2", Duration::from_secs(30))
            .await
            .unwrap()
            .is_none(),
        "lease still held"
    );
    assert!(s.heartbeat(j1.id, "w1", LEASE).await.unwrap());
    tokio::time::sleep(Duration::from_millis(1400)).await;
    let j2 = s
        .claim("w2", Duration::from_secs(30))
        .await
        .unwrap()
        .expect("reclaimed");
    assert_eq!(j2.id, j1.id);
    assert_eq!(j2.attempt, 2);
    assert_eq!(j2.worker.as_deref(), Some("w2"));
    // The old worker lost it: heartbeat false, finish ignored.
    assert!(!s
        .heartbeat(j1.id, "w1", Duration::from_secs(30))
        .await
        .unwrap());
    assert!(!s.finish(j1.id, "w1", JobOutcome::Done).await.unwrap());
    assert!(!s
        .finish(
            j1.id,
            "w1",
            JobOutcome::Failed {
                error: "stale".into()
            }
        )
        .await
        .unwrap());
    let now = s.get_job(j1.id).await.unwrap().unwrap();
    assert_eq!(now.status, JobStatus::Running);
    assert_eq!(now.worker.as_deref(), Some("w2"));
    assert!(s
        .heartbeat(j1.id, "w2", Duration::from_secs(30))
        .await
        .unwrap());
    assert!(s.finish(j1.id, "w2", JobOutcome::Done).await.unwrap());
    assert_eq!(
        s.get_job(j1.id).await.unwrap().unwrap().status,
        JobStatus::Done
    );
    // Finishing twice is a no-op.
    assert!(!s.finish(j1.id, "w2", JobOutcome::Done).await.unwrap());
}

async fn retry_waits_for_backoff(db: &Db) {
    let s = &db.store;
    let (d, _) = s
        .create_deployment(new_dep("alice", "retry"), Some(JobKind::Deploy))
        .await
        .unwrap();
    let j = s
        .claim("w1", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    let before = now_ms();
    assert!(s
        .finish(
            j.id,
            "w1",
            JobOutcome::Retry {
                error: "boom".into(),
                delay: Duration::from_millis(1000)
            }
        )
        .await
        .unwrap());
    let queued = s.get_job(j.id).await.unwrap().unwrap();
    assert_eq!(queued.status, JobStatus::Queued);
    assert_eq!(queued.worker, None);
    assert_eq!(queued.last_error.as_deref(), Some("boom"));
    assert!(queued.run_after >= before + 1000);
    assert!(
        s.claim("w2", Duration::from_secs(30))
            .await
            .unwrap()
            .is_none(),
        "too early"
    );
    // A worker loop (claim, else wait) gets it once due: wait_for_work sleeps
    // no longer than until run_after even with a long timeout.
    let t = Instant::now();
    let again = loop {
        if let Some(job) = s.claim("w2", Duration::from_secs(30)).await.unwrap() {
            break job;
        }
        assert!(
            t.elapsed() < Duration::from_secs(3),
            "retry never became claimable"
        );
        s.wait_for_work(Duration::from_secs(10)).await;
    };
    assert!(now_ms() >= queued.run_after);
    eprintln!(
        "[{}] retry due in 1000 ms was claimed after {:?}",
        s.backend(),
        t.elapsed()
    );
    assert_eq!(again.id, j.id);
    assert_eq!(again.attempt, 2);
    // Retries run out: attempt 3 of 3 asking for a retry fails the job.
    assert!(s
        .finish(
            j.id,
            "w2",
            JobOutcome::Retry {
                error: "boom2".into(),
                delay: Duration::ZERO
            }
        )
        .await
        .unwrap());
    let third = s
        .claim("w3", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(third.attempt, 3);
    assert!(s
        .finish(
            j.id,
            "w3",
            JobOutcome::Retry {
                error: "boom3".into(),
                delay: Duration::ZERO
            }
        )
        .await
        .unwrap());
    let failed = s.get_job(j.id).await.unwrap().unwrap();
    assert_eq!(failed.status, JobStatus::Failed);
    assert_eq!(failed.last_error.as_deref(), Some("boom3"));
    assert!(s
        .claim("w4", Duration::from_secs(30))
        .await
        .unwrap()
        .is_none());
    assert_eq!(s.queue_size().await.unwrap(), 0);
    // Failed outcome fails at once.
    let j2 = s.enqueue(&d.id, JobKind::Redeploy).await.unwrap();
    let c = s
        .claim("w5", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((c.id, c.kind), (j2.id, JobKind::Redeploy));
    assert!(s
        .finish(
            c.id,
            "w5",
            JobOutcome::Failed {
                error: "bad".into()
            }
        )
        .await
        .unwrap());
    assert_eq!(
        s.get_job(c.id).await.unwrap().unwrap().status,
        JobStatus::Failed
    );
}

async fn exhausted_attempts_fail_and_interrupt(db: &Db) {
    let s = &db.store;
    let (d, _) = s
        .create_deployment(new_dep("alice", "dies"), Some(JobKind::Deploy))
        .await
        .unwrap();
    let lease = Duration::from_millis(150);
    for attempt in 1..=DEFAULT_MAX_ATTEMPTS {
        let j = s.claim("mortal", lease).await.unwrap().expect("claimable");
        assert_eq!(j.attempt, attempt);
        tokio::time::sleep(Duration::from_millis(250)).await; // the worker "dies"
    }
    assert!(
        s.claim("next", lease).await.unwrap().is_none(),
        "no attempt left to hand out"
    );
    let jobs = s.jobs_for(&d.id).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].status, JobStatus::Failed);
    assert!(jobs[0].last_error.as_deref().unwrap().contains("heartbeat"));
    let dep = s.get_deployment(&d.id).await.unwrap().unwrap();
    assert_eq!(dep.status, DeploymentStatus::Interrupted);
    assert!(dep.error.is_some());
    assert_eq!(s.queue_size().await.unwrap(), 0);
}

async fn cancel_jobs(db: &Db) {
    let s = &db.store;
    let (d, _) = s
        .create_deployment(new_dep("alice", "cancel"), Some(JobKind::Deploy))
        .await
        .unwrap();
    let (other, _) = s
        .create_deployment(new_dep("alice", "other"), Some(JobKind::Deploy))
        .await
        .unwrap();
    let running = s
        .claim("w1", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(running.deployment_id, d.id);
    let queued = s.enqueue(&d.id, JobKind::Redeploy).await.unwrap();
    assert_eq!(s.queue_size().await.unwrap(), 3);
    assert_eq!(s.cancel_jobs(&d.id).await.unwrap(), 2);
    assert_eq!(
        s.get_job(queued.id).await.unwrap().unwrap().status,
        JobStatus::Cancelled
    );
    let flagged = s.get_job(running.id).await.unwrap().unwrap();
    assert!(flagged.cancel_requested);
    assert_eq!(flagged.status, JobStatus::Running);
    assert!(!s
        .heartbeat(running.id, "w1", Duration::from_secs(30))
        .await
        .unwrap());
    // Only the other deployment's job is left to claim.
    let next = s
        .claim("w2", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(next.deployment_id, other.id);
    assert!(s
        .claim("w3", Duration::from_secs(30))
        .await
        .unwrap()
        .is_none());
    // A retry asked for by a cancelled job does not requeue it.
    assert!(s
        .finish(
            running.id,
            "w1",
            JobOutcome::Retry {
                error: "x".into(),
                delay: Duration::ZERO
            }
        )
        .await
        .unwrap());
    assert_eq!(
        s.get_job(running.id).await.unwrap().unwrap().status,
        JobStatus::Cancelled
    );
    assert_eq!(s.cancel_jobs(&d.id).await.unwrap(), 0);
    let missing = s.enqueue("dep_missing", JobKind::Deploy).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { .. })),
        "{missing:?}"
    );
}

async fn queue_size_and_status_counts(db: &Db) {
    let s = &db.store;
    assert_eq!(s.queue_size().await.unwrap(), 0);
    assert!(s.status_counts().await.unwrap().is_empty());
    let (a, _) = s
        .create_deployment(new_dep("alice", "a"), Some(JobKind::Deploy))
        .await
        .unwrap();
    let mut gcp = new_dep("alice", "b");
    gcp.cloud = Some("gcp".into());
    s.create_deployment(gcp, Some(JobKind::Deploy))
        .await
        .unwrap();
    let mut local = new_dep("bob", "c");
    local.cloud = None;
    s.create_deployment(local, None).await.unwrap();
    assert_eq!(s.queue_size().await.unwrap(), 2);
    let j = s
        .claim("w", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.queue_size().await.unwrap(), 2, "running still counts");
    s.finish(j.id, "w", JobOutcome::Done).await.unwrap();
    assert_eq!(s.queue_size().await.unwrap(), 1);
    s.update_deployment(
        &a.id,
        DeploymentPatch {
            status: Some(DeploymentStatus::Healthy),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let mut counts = s.status_counts().await.unwrap();
    counts.sort_by_key(|c| (c.status.as_str(), c.cloud.clone()));
    let flat: Vec<(&str, Option<&str>, u64)> = counts
        .iter()
        .map(|c| (c.status.as_str(), c.cloud.as_deref(), c.count))
        .collect();
    assert_eq!(
        flat,
        vec![
            ("healthy", Some("aws"), 1),
            ("queued", None, 1),
            ("queued", Some("gcp"), 1)
        ]
    );
}

async fn tokens_store_only_hashes(db: &Db) {
    let s = &db.store;
    let alice = s.create_user("alice").await.unwrap();
    assert!(alice.id.starts_with("usr_"));
    let dup = s.create_user("alice").await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    assert_eq!(s.find_user("alice").await.unwrap(), Some(alice.clone()));
    assert_eq!(s.find_user("nobody").await.unwrap(), None);
    let bob = s.create_user("bob").await.unwrap();

    let t1 = s.create_token(&alice.id, "laptop").await.unwrap();
    let t2 = s.create_token(&alice.id, "ci").await.unwrap();
    assert!(t1.starts_with("adt_") && t1.len() == 36, "{t1}");
    assert!(t1[4..].chars().all(|c| c.is_ascii_alphanumeric()));
    assert_ne!(t1, t2);

    let rows = raw_tokens(db).await;
    assert_eq!(rows.len(), 2);
    for (hash, prefix, _label) in &rows {
        assert_ne!(hash, &t1);
        assert_ne!(hash, &t2);
        assert!(!hash.contains(&t1[4..]) && !hash.contains(&t2[4..]));
        assert_eq!(prefix.len(), 12);
    }
    assert_eq!(rows[0].0, hash_token(&t1), "sha256 of the token");

    assert_eq!(s.authenticate(&t1).await.unwrap(), Some(alice.clone()));
    assert_eq!(s.authenticate(&t2).await.unwrap(), Some(alice.clone()));
    assert_eq!(
        s.authenticate("adt_nottherightoneatallnottherightone")
            .await
            .unwrap(),
        None
    );
    assert_eq!(s.authenticate("").await.unwrap(), None);

    assert_eq!(
        s.revoke_token("laptop", &bob.id).await.unwrap(),
        0,
        "not bob's"
    );
    assert_eq!(s.revoke_token("laptop", &alice.id).await.unwrap(), 1);
    assert_eq!(s.authenticate(&t1).await.unwrap(), None);
    assert_eq!(
        s.revoke_token("adt_", &alice.id).await.unwrap(),
        0,
        "prefix too short"
    );
    assert_eq!(s.revoke_token(&t2[..10], &alice.id).await.unwrap(), 1);
    assert_eq!(s.authenticate(&t2).await.unwrap(), None);
    let t3 = s.create_token(&bob.id, "x").await.unwrap();
    assert_eq!(
        s.revoke_token(&t3, &bob.id).await.unwrap(),
        1,
        "by the whole token"
    );
    let missing = s.create_token("usr_missing", "x").await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { .. })),
        "{missing:?}"
    );
}

async fn users_admins_and_the_cli_default_user(db: &Db) {
    let s = &db.store;
    // The migrations make the command line's default user: id = name = "local".
    let local = s.find_user(CLI_DEFAULT_USER).await.unwrap().expect("local");
    assert_eq!((local.id.as_str(), local.admin), (CLI_DEFAULT_USER, false));
    let alice = s.create_user("alice").await.unwrap();
    assert!(!alice.admin);
    let names = |users: Vec<User>| users.into_iter().map(|u| u.name).collect::<Vec<_>>();
    assert_eq!(names(s.list_users().await.unwrap()), ["alice", "local"]);

    let token = s.create_token(&alice.id, "t").await.unwrap();
    s.set_admin(&alice.id, true).await.unwrap();
    let seen = s.authenticate(&token).await.unwrap().expect("alice");
    assert!(seen.admin, "a token answers its user's admin flag");
    assert!(s.find_user("alice").await.unwrap().unwrap().admin);
    s.set_admin(&alice.id, false).await.unwrap();
    assert!(!s.authenticate(&token).await.unwrap().unwrap().admin);
    let missing = s.set_admin("usr_missing", true).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { .. })),
        "{missing:?}"
    );
}

/// A store made before named CLI users: its `admin` user becomes an admin,
/// and the CLI's deployments (owner "local") stay the default CLI user's —
/// also when `token create --user local` had made a user of that name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_migration_keeps_cli_deployments_visible() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("migrations");
    std::fs::create_dir(&old).unwrap();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        if name.as_str() < "0004" {
            std::fs::copy(&p, old.join(name)).unwrap();
        }
    }
    for named_local in [false, true] {
        let path = dir.path().join(format!("old-{named_local}.db"));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::migrate::Migrator::new(old.as_path())
            .await
            .unwrap()
            .run(&mut c)
            .await
            .unwrap();
        let mut users = vec![("usr_admin", "admin")];
        if named_local {
            users.push(("usr_local", "local"));
        }
        for (id, name) in users {
            sqlx::query("INSERT INTO users (id, name, created_at) VALUES ($1, $2, 0)")
                .bind(id)
                .bind(name)
                .execute(&mut c)
                .await
                .unwrap();
        }
        sqlx::query(
            "INSERT INTO deployments (id, owner, name, source, request, status, created_at, \
             updated_at) VALUES ('dep_0000000000000001', 'local', 'app', '/src', 'r', \
             'healthy', 1, 1)",
        )
        .execute(&mut c)
        .await
        .unwrap();
        c.close().await.unwrap();

        let store = open(path.to_str().unwrap()).await.unwrap();
        let admin = store.find_user("admin").await.unwrap().unwrap();
        assert!(admin.admin, "the admin user `serve` made is an admin");
        let local = store.find_user(CLI_DEFAULT_USER).await.unwrap().unwrap();
        assert_eq!(local.id, if named_local { "usr_local" } else { "local" });
        let mine = store
            .list_deployments(&ListFilter {
                owner: Some(local.id.clone()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(mine.items.len(), 1, "named_local={named_local}");
    }
}

async fn analysis_cache(db: &Db) {
    let s = &db.store;
    assert_eq!(s.cached_analysis("k").await.unwrap(), None);
    let v = json!({"services": [{"name": "app", "port": 5000, "unicode": "naïve ✓"}]});
    s.put_cached_analysis("k", &v).await.unwrap();
    assert_eq!(s.cached_analysis("k").await.unwrap(), Some(v));
    let v2 = json!({"services": []});
    s.put_cached_analysis("k", &v2).await.unwrap();
    assert_eq!(s.cached_analysis("k").await.unwrap(), Some(v2));
}

async fn plan_previews_by_owner_with_expiry(db: &Db) {
    let s = &db.store;
    let v = json!({"source": "https://example.com/r.git", "request": "on aws ✓"});
    let text = v.to_string();
    let p = s
        .put_plan_preview(None, "alice", &text, Duration::from_secs(600))
        .await
        .unwrap();
    assert!(p.id.starts_with("pln_") && p.id.len() == 36, "{}", p.id);
    assert_eq!(p.expires_at - p.created_at, 600_000);
    let got = s.get_plan_preview(&p.id, "alice").await.unwrap().unwrap();
    assert_eq!(
        (got.id.as_str(), got.owner.as_str(), &got.value),
        (p.id.as_str(), "alice", &v)
    );
    assert_eq!(
        (got.created_at, got.expires_at),
        (p.created_at, p.expires_at)
    );
    assert_eq!(s.get_plan_preview(&p.id, "bob").await.unwrap(), None);
    assert_eq!(
        s.get_plan_preview("pln_missing", "alice").await.unwrap(),
        None
    );
    let other = s
        .put_plan_preview(None, "alice", &text, Duration::from_secs(1))
        .await
        .unwrap();
    assert_ne!(other.id, p.id, "a fresh id each time");

    // A given id: renewed by the same owner, never taken over by another.
    let id = "pln_0123456789abcdef0123456789abcdef";
    s.put_plan_preview(Some(id), "alice", &text, Duration::from_secs(1))
        .await
        .unwrap();
    let v2 = json!({"source": "https://example.com/r.git", "request": "on gcp"});
    let renewed = s
        .put_plan_preview(Some(id), "alice", &v2.to_string(), Duration::from_secs(600))
        .await
        .unwrap();
    let got = s.get_plan_preview(id, "alice").await.unwrap().unwrap();
    assert_eq!((got.value, got.expires_at), (v2, renewed.expires_at));
    let taken = s
        .put_plan_preview(Some(id), "bob", &text, Duration::from_secs(600))
        .await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    assert_eq!(s.get_plan_preview(id, "bob").await.unwrap(), None);
    let bad = s
        .put_plan_preview(Some("pln_NOT-HEX"), "alice", &text, Duration::from_secs(1))
        .await;
    assert!(matches!(bad, Err(StoreError::Invalid(_))), "{bad:?}");

    // Expired: still readable (the caller says "expired") until the grace
    // period is over.
    let old = s
        .put_plan_preview(None, "alice", &text, Duration::ZERO)
        .await
        .unwrap();
    let got = s.get_plan_preview(&old.id, "alice").await.unwrap().unwrap();
    assert!(got.expires_at <= autodeploy_store::now_ms());
}

async fn sealed_secrets_per_deployment(db: &Db) {
    let s = &db.store;
    let (a, _) = s.create_deployment(new_dep("u", "a"), None).await.unwrap();
    let (b, _) = s.create_deployment(new_dep("u", "b"), None).await.unwrap();
    assert!(s.secrets(&a.id).await.unwrap().is_empty());
    s.put_secret(&a.id, "API_KEY", &[1, 2, 0, 255])
        .await
        .unwrap();
    s.put_secret(&a.id, "TOKEN", b"x").await.unwrap();
    s.put_secret(&b.id, "API_KEY", b"other").await.unwrap();
    // A second put replaces the value.
    s.put_secret(&a.id, "API_KEY", &[9]).await.unwrap();
    assert_eq!(
        s.secrets(&a.id).await.unwrap(),
        vec![
            ("API_KEY".to_string(), vec![9]),
            ("TOKEN".into(), b"x".to_vec())
        ]
    );
    assert_eq!(s.delete_secrets(&a.id).await.unwrap(), 2);
    assert!(s.secrets(&a.id).await.unwrap().is_empty());
    // Deleting a deployment takes its secrets with it.
    s.delete_deployment(&b.id).await.unwrap();
    assert!(s.secrets(&b.id).await.unwrap().is_empty());
}

async fn wait_for_work_wakes_on_enqueue(db: &Db) {
    // PostgreSQL: the waiter is a second store (its own LISTEN connection), so
    // the wake-up must travel through NOTIFY. SQLite: same process, same store.
    let waiter: Arc<dyn Store> = if db.pg.is_some() {
        open(&db.url).await.unwrap()
    } else {
        db.store.clone()
    };
    let s = &db.store;
    let (d, _) = s
        .create_deployment(new_dep("alice", "wake"), None)
        .await
        .unwrap();

    // Nothing queued: waits the full timeout.
    let t = Instant::now();
    waiter.wait_for_work(Duration::from_millis(300)).await;
    assert!(
        t.elapsed() >= Duration::from_millis(250),
        "{:?}",
        t.elapsed()
    );

    let w = waiter.clone();
    let handle = tokio::spawn(async move {
        w.wait_for_work(Duration::from_secs(10)).await;
        Instant::now()
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let enqueued = Instant::now();
    s.enqueue(&d.id, JobKind::Deploy).await.unwrap();
    let returned = handle.await.unwrap();
    assert!(returned >= enqueued, "returned before the enqueue");
    let latency = returned - enqueued;
    eprintln!(
        "[{}] wait_for_work woke {latency:?} after enqueue",
        s.backend()
    );
    assert!(latency < Duration::from_secs(2), "wake-up took {latency:?}");
    assert!(waiter
        .claim("w", Duration::from_secs(30))
        .await
        .unwrap()
        .is_some());
}

// ---------------------------------------------------------------- URL handling

#[tokio::test]
async fn open_accepts_the_documented_url_forms() {
    let tmp = tempfile::tempdir().unwrap();
    let bare = tmp.path().join("bare.db");
    let s = open(bare.to_str().unwrap()).await.unwrap();
    assert_eq!(s.backend(), "sqlite");
    assert!(bare.exists());
    // Reopening runs migrations again without harm and sees the data.
    let (d, _) = s.create_deployment(new_dep("a", "b"), None).await.unwrap();
    drop(s);
    let abs = format!("sqlite://{}", bare.display());
    let s = open(&abs).await.unwrap();
    assert_eq!(s.get_deployment(&d.id).await.unwrap().unwrap().id, d.id);
    for bad in ["", "mysql://x/y", "sqlite::memory:", "sqlite://"] {
        let r = open(bad).await;
        assert!(
            matches!(r, Err(StoreError::BadUrl(_))),
            "{bad:?} → {:?}",
            r.err()
        );
    }
}

/// Two stores on one SQLite file stand in for two processes (the CLI and the
/// service): their writers collide on the file lock and must wait on the busy
/// timeout instead of failing with "database is locked".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_two_openers_share_one_file_without_lock_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", tmp.path().join("shared.db").display());
    let a = open(&url).await.unwrap();
    let b = open(&url).await.unwrap();
    let (d, _) = a
        .create_deployment(new_dep("alice", "shared"), None)
        .await
        .unwrap();
    let jobs = 30;
    let mut tasks = Vec::new();
    for (n, s) in [a.clone(), b.clone(), a.clone(), b.clone()]
        .into_iter()
        .enumerate()
    {
        let id = d.id.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..jobs / 2 {
                if n < 2 {
                    s.enqueue(&id, JobKind::Deploy).await.unwrap();
                }
                let line = NewLogLine {
                    stream: LogStream::System,
                    phase: None,
                    line: format!("{n}-{i}"),
                };
                s.append_logs(&id, &[line.clone(), line]).await.unwrap();
            }
            let mut claimed = Vec::new();
            while let Some(j) = s
                .claim(&format!("w{n}"), Duration::from_secs(60))
                .await
                .unwrap()
            {
                s.finish(j.id, &format!("w{n}"), JobOutcome::Done)
                    .await
                    .unwrap();
                claimed.push(j.id);
            }
            claimed
        }));
    }
    let mut claimed = Vec::new();
    for t in tasks {
        claimed.extend(t.await.unwrap());
    }
    // Late enqueues may land after every worker saw an empty queue: drain them.
    while let Some(j) = b.claim("late", Duration::from_secs(60)).await.unwrap() {
        b.finish(j.id, "late", JobOutcome::Done).await.unwrap();
        claimed.push(j.id);
    }
    let unique: HashSet<i64> = claimed.iter().copied().collect();
    assert_eq!(claimed.len(), jobs, "every job claimed once");
    assert_eq!(unique.len(), claimed.len());
    let logs = b.read_logs(&d.id, 0, 0).await.unwrap();
    assert_eq!(logs.len(), 4 * (jobs / 2) * 2);
    let seqs: Vec<i64> = logs.iter().map(|l| l.seq).collect();
    assert_eq!(seqs, (1..=logs.len() as i64).collect::<Vec<_>>());
}

/// Ten openers of one brand-new SQLite file at the same moment (ten CLI
/// deploys on a fresh machine): every one gets a migrated, working store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_fresh_file_opened_concurrently() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("new.db").display());
    let opens: Vec<_> = (0..10)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { open(&url).await })
        })
        .collect();
    for o in opens {
        let store = o
            .await
            .unwrap()
            .expect("every concurrent open migrates or waits");
        store.status_counts().await.expect("the schema is there");
    }
}

/// The SQLite file, its WAL and its shared-memory file are readable by their
/// owner only — new files, and existing ones that were made too open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("private.db");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let store = open(path.to_str().unwrap()).await.unwrap();
    store.create_user("alice").await.unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let p = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
    drop(store);
    // An existing store made by an older version with 0644.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = open(path.to_str().unwrap()).await.unwrap();
    assert_eq!(mode(&path), 0o600);
    drop(store);
}

/// Connection failures are transient (a worker retries them); a refused
/// query is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_failures_are_transient() {
    use std::io::{Error, ErrorKind};
    for kind in [
        ErrorKind::ConnectionReset,
        ErrorKind::ConnectionRefused,
        ErrorKind::BrokenPipe,
    ] {
        let e = StoreError::Database(sqlx::Error::Io(Error::from(kind)));
        assert!(e.is_transient(), "{e:?}");
    }
    assert!(StoreError::Database(sqlx::Error::PoolTimedOut).is_transient());
    let db = sqlite_db().await;
    let e = db
        .store
        .list_deployments(&ListFilter {
            cursor: Some("zz".into()),
            limit: 5,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(!e.is_transient(), "{e:?}");
    let e = db
        .store
        .create_user("dup")
        .await
        .and(db.store.create_user("dup").await)
        .unwrap_err();
    assert!(!e.is_transient(), "{e:?}");
}
