//! Scale-out on PostgreSQL with real processes: one `autodeploy serve`
//! (API only) and three `autodeploy worker` processes; 100 local-target
//! deployments of a standard-library Python app submitted concurrently.
//! Every deployment reaches a final state, every job ran exactly once, no
//! lock errors; one worker is SIGKILLed mid-job and its job is reclaimed and
//! finished by another worker.
//!
//! Needs AUTODEPLOY_TEST_DATABASE_URL and the `autodeploy` binary
//! (AUTODEPLOY_BIN, else target/debug/autodeploy — `cargo build -p autodeploy`).

mod common;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn binary() -> Option<PathBuf> {
    let p = std::env::var_os("AUTODEPLOY_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/debug/autodeploy")
        });
    p.exists().then_some(p)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn term(p: &mut Proc) {
    // SIGTERM, then wait: a graceful stop.
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(p.0.id().to_string())
        .status();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = p.0.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_deployments_three_workers_one_killed() {
    if std::env::var("AUTODEPLOY_TEST_DATABASE_URL").is_err() {
        eprintln!("SKIPPED (scale-out): AUTODEPLOY_TEST_DATABASE_URL is not set; scripts/test.sh sets it in CI");
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: this prerequisite must be there (see above)"
        );
        return;
    }
    let Some(bin) = binary() else {
        eprintln!("SKIPPED (scale-out): no autodeploy binary; run `cargo build -p autodeploy` or set AUTODEPLOY_BIN");
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: this prerequisite must be there (see above)"
        );
        return;
    };
    let db = common::test_db(common::Backend::Postgres).await;
    let tmp = tempfile::tempdir().unwrap();
    // The workers' home is inside: as root, each deployment's own account
    // must be able to pass through (a tempdir is 0700).
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    }
    let logs = tmp.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let port = free_port();

    // The API, no workers.
    let api_log = logs.join("api.log");
    let mut api = Proc(
        Command::new(&bin)
            .args(["serve", "--workers", "0", "--allow-local-sources"])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--rate-limit", "100000", "--rate-burst", "100000"])
            .args([
                "--address-rate-limit",
                "100000",
                "--address-rate-burst",
                "100000",
            ])
            .args(["--database-url", &db.url])
            .arg("--home")
            .arg(tmp.path().join("api-home"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start autodeploy serve"),
    );
    // Keep its stderr (the log) in a file; the first admin token is written
    // to <home>/admin-token (stderr is not a terminal), never to the log.
    let stderr = api.0.stderr.take().unwrap();
    let log_path = api_log.clone();
    std::thread::spawn(move || {
        let mut f = std::fs::File::create(log_path).unwrap();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            use std::io::Write;
            let _ = writeln!(f, "{line}");
        }
    });
    let token_file = tmp.path().join("api-home/admin-token");
    let deadline = Instant::now() + Duration::from_secs(60);
    let token = loop {
        if let Ok(t) = std::fs::read_to_string(&token_file) {
            if t.trim().len() == 36 {
                break t.trim().to_string();
            }
        }
        assert!(Instant::now() < deadline, "serve wrote no admin token");
        std::thread::sleep(Duration::from_millis(50));
    };
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the token file is readable by its owner only");
    }
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let ready = Instant::now();
    while client.get(format!("{base}/readyz")).send().await.is_err() {
        assert!(ready.elapsed() < Duration::from_secs(30), "API not up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Three workers sharing one home (one machine: the local target's apps
    // must be found by whichever worker destroys them).
    let mut workers: Vec<Proc> = (0..3)
        .map(|i| {
            let log = std::fs::File::create(logs.join(format!("worker{i}.log"))).unwrap();
            Proc(
                Command::new(&bin)
                    .args([
                        "worker",
                        "--concurrency",
                        "4",
                        "--lease",
                        "6",
                        "--heartbeat",
                        "2",
                        "--allow-local-target",
                    ])
                    .args(["--database-url", &db.url])
                    .arg("--home")
                    .arg(tmp.path().join("workers-home"))
                    .env("AUTODEPLOY_HEALTH_TIMEOUT", "60")
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(log)
                    .spawn()
                    .expect("start autodeploy worker"),
            )
        })
        .collect();
    let store = autodeploy_store::open(&db.url).await.unwrap();

    // 100 deployments at once.
    let fixture = common::fixture("python_stdlib_http_server");
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..100 {
        let c = client.clone();
        let url = format!("{base}/v1/deployments");
        let token = token.clone();
        let repo = fixture.clone();
        tasks.push(tokio::spawn(async move {
            let r = c
                .post(url)
                .bearer_auth(token)
                .header("Idempotency-Key", format!("scale-{i}"))
                .json(&json!({"repo": repo, "request": "run it on this machine", "options": {"target": "local", "name": format!("app-{i}")}}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 202);
            let v: Value = r.json().await.unwrap();
            v["id"].as_str().unwrap().to_string()
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    let submitted = started.elapsed();

    // SIGKILL worker 0 as soon as it holds a running job.
    let victim_pid = workers[0].0.id();
    let marker = format!("-{victim_pid}-");
    let mut victim_jobs: Vec<i64> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    'find: while Instant::now() < deadline {
        for id in &ids {
            for j in store.jobs_for(id).await.unwrap() {
                if j.status == autodeploy_store::JobStatus::Running
                    && j.worker.as_deref().is_some_and(|w| w.contains(&marker))
                {
                    victim_jobs.push(j.id);
                }
            }
        }
        if !victim_jobs.is_empty() {
            break 'find;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!victim_jobs.is_empty(), "worker 0 never ran a job");
    workers[0].0.kill().unwrap();
    let _ = workers[0].0.wait();

    // Everything reaches a final state.
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let mut pending = 0;
        for id in &ids {
            let d = store.get_deployment(id).await.unwrap().unwrap();
            if !d.status.is_final() {
                pending += 1;
            }
        }
        if pending == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{pending} deployments still not final"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let all_final = started.elapsed();

    let mut reclaimed = 0;
    for id in &ids {
        let d = store.get_deployment(id).await.unwrap().unwrap();
        assert_eq!(
            d.status.as_str(),
            "healthy",
            "{id}: {:?} {:?}",
            d.status,
            d.error
        );
        let jobs = store.jobs_for(id).await.unwrap();
        assert_eq!(jobs.len(), 1, "{id}: one job per deployment");
        let j = &jobs[0];
        assert_eq!(j.status, autodeploy_store::JobStatus::Done, "{id}");
        if victim_jobs.contains(&j.id) {
            // reclaimed after the lease expired and finished elsewhere
            assert_eq!(j.attempt, 2, "{id}: the killed worker's job runs once more");
            assert!(!j.worker.as_deref().unwrap_or("").contains(&marker));
            reclaimed += 1;
        } else {
            assert_eq!(j.attempt, 1, "{id}: ran exactly once");
        }
    }
    assert_eq!(reclaimed, victim_jobs.len());

    // No lock errors anywhere.
    for entry in std::fs::read_dir(&logs).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
        assert!(
            !text.contains(&token),
            "the admin token is in a process log"
        );
        for bad in [
            "database is locked",
            "deadlock",
            "Error acquiring the state lock",
        ] {
            assert!(!text.contains(bad), "found {bad:?} in a process log");
        }
    }
    eprintln!(
        "scale-out: 100 submitted in {:.2}s, all healthy after {:.1}s, {} job(s) reclaimed from the killed worker",
        submitted.as_secs_f64(),
        all_final.as_secs_f64(),
        reclaimed
    );

    // Clean up: destroy every app through the API (stops the local processes).
    for id in &ids {
        let r = client
            .post(format!("{base}/v1/deployments/{id}/destroy"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
    }
    let deadline = Instant::now() + Duration::from_secs(300);
    for id in &ids {
        loop {
            let d = store.get_deployment(id).await.unwrap().unwrap();
            if d.status.is_final() {
                break;
            }
            assert!(Instant::now() < deadline, "destroy of {id} did not finish");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    for w in workers.iter_mut().skip(1) {
        term(w);
    }
    term(&mut api);
}
