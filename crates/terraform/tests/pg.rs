//! The PostgreSQL backend with real terraform and a real server
//! (AUTODEPLOY_TEST_DATABASE_URL): one schema per deployment lets deployments
//! apply concurrently; two runs on one schema collide without a lock timeout
//! and queue with one; the connection string never reaches a file or a log.
mod support;

use autodeploy_core::LogStream;
use autodeploy_terraform::{Backend, Terraform, TfError, Workspace};
use std::path::Path;
use std::time::{Duration, Instant};
use support::{builtins_config, config_dir, terraform, Lines};

fn database_url() -> Option<String> {
    match std::env::var("AUTODEPLOY_TEST_DATABASE_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            eprintln!(
                "\n*** SKIPPED: AUTODEPLOY_TEST_DATABASE_URL is not set; the PostgreSQL backend \
                 tests did not run (eval \"$(scripts/services.sh start)\" sets it) ***\n"
            );
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true: this prerequisite must be there (see above)"
            );
            None
        }
    }
}

/// A schema name no other run uses.
fn schema(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("tftest_{tag}_{}_{nanos}", std::process::id())
}

/// Best-effort removal of the test's schemas (psql ships with the server).
fn drop_schemas(url: &str, schemas: &[&str]) {
    for s in schemas {
        let _ = std::process::Command::new("psql")
            .args([url, "-qc", &format!("DROP SCHEMA IF EXISTS {s} CASCADE")])
            .output();
    }
}

/// No file under `dir` contains `needle`.
fn assert_not_in_files(dir: &Path, needle: &str) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        let ft = entry.file_type().unwrap();
        if ft.is_dir() {
            assert_not_in_files(&p, needle);
        } else if ft.is_file() {
            let bytes = std::fs::read(&p).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(needle),
                "{} contains the connection string",
                p.display()
            );
        }
    }
}

fn pg_ws(dir: &Path, url: &str, schema: &str) -> Workspace {
    Workspace::new(
        dir,
        Backend::Pg {
            conn_str: url.to_string(),
            schema: schema.to_string(),
        },
    )
}

#[test]
fn deployments_with_their_own_schemas_apply_concurrently() {
    let Some(url) = database_url() else { return };
    let tf = terraform().with_attempts(1); // any lock error would show
    let schemas = [schema("a"), schema("b"), schema("c")];
    let dirs: Vec<_> = (0..3)
        .map(|_| config_dir(&builtins_config(3, 2.0)))
        .collect();
    let lines = Lines::default();
    let sink = lines.sink();
    let start = Instant::now();
    let results: Vec<Result<Vec<String>, TfError>> = std::thread::scope(|s| {
        let handles: Vec<_> = dirs
            .iter()
            .zip(&schemas)
            .map(|((_, dir), schema)| {
                let (tf, url, sink) = (&tf, &url, &sink);
                s.spawn(move || {
                    let ws = pg_ws(dir, url, schema);
                    tf.init(&ws, sink)?;
                    tf.plan(&ws, false, sink)?;
                    tf.apply(&ws, sink)?;
                    tf.state_resources(&ws)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    eprintln!(
        "3 pg deployments, init+plan+apply concurrently: {:.1?}",
        start.elapsed()
    );
    for r in &results {
        assert_eq!(r.as_ref().map(|v| v.len()).ok(), Some(3), "{results:?}");
    }
    // The state is in PostgreSQL, not in the directory; the connection string
    // is nowhere on disk and never reached the log.
    for (_, dir) in &dirs {
        assert!(!dir.join("terraform.tfstate").exists());
        assert_not_in_files(dir, &url);
    }
    assert!(!lines.text().contains(&url), "connection string in the log");

    for ((_, dir), schema) in dirs.iter().zip(&schemas) {
        let ws = pg_ws(dir, &url, schema);
        tf.destroy(&ws, &sink).unwrap();
        assert!(tf.state_resources(&ws).unwrap().is_empty());
    }
    drop_schemas(
        &url,
        &schemas.iter().map(String::as_str).collect::<Vec<_>>(),
    );
}

const SLOW_BOTH_WAYS: &str = r#"
resource "terraform_data" "slow" {
  provisioner "local-exec" {
    command = "sleep 4"
  }
  provisioner "local-exec" {
    when    = destroy
    command = "sleep 4"
  }
}
"#;

#[test]
fn one_schema_twice_collides_without_a_lock_timeout_and_queues_with_one() {
    let Some(url) = database_url() else { return };
    let schema = schema("shared");
    let quiet = |_: LogStream, _: &str| {};
    let waiting = terraform().with_attempts(1); // -lock-timeout=60s
    let impatient: Terraform = terraform()
        .with_attempts(1)
        .with_lock_timeout(Duration::ZERO);
    // Two deployments' directories pointing at the same state.
    let (_ta, dir_a) = config_dir(SLOW_BOTH_WAYS);
    let (_tb, dir_b) = config_dir(SLOW_BOTH_WAYS);
    let a = pg_ws(&dir_a, &url, &schema);
    let b = pg_ws(&dir_b, &url, &schema);
    waiting.init(&a, &quiet).unwrap();
    waiting.init(&b, &quiet).unwrap();
    waiting.plan(&a, false, &quiet).unwrap();

    // Round 1: A applies (holds the lock ~4 s); B plans with -lock-timeout=0s.
    let (applied, b_plan) = std::thread::scope(|s| {
        let h = s.spawn(|| waiting.apply(&a, &quiet));
        std::thread::sleep(Duration::from_millis(1500));
        let p = impatient.plan(&b, false, &quiet);
        (h.join().unwrap(), p)
    });
    applied.unwrap();
    match b_plan {
        Err(TfError::LockHeld { .. }) => {}
        other => panic!("expected the lock to be held, got {other:?}"),
    }

    // Round 2: A destroys (holds the lock ~4 s); B plans with -lock-timeout=60s:
    // it waits, then plans against the state A left (empty: 1 to add).
    let (destroyed, b_plan, waited) = std::thread::scope(|s| {
        let h = s.spawn(|| waiting.destroy(&a, &quiet));
        std::thread::sleep(Duration::from_millis(1500));
        let t = Instant::now();
        let p = waiting.plan(&b, false, &quiet);
        let waited = t.elapsed();
        (h.join().unwrap(), p, waited)
    });
    destroyed.unwrap();
    let b_plan = b_plan.unwrap();
    eprintln!("B's plan queued behind A's destroy for {waited:.1?}");
    assert!(waited >= Duration::from_millis(1500), "{waited:?}");
    assert_eq!(
        b_plan.add, 1,
        "B planned against A's post-destroy state: {b_plan:?}"
    );
    drop_schemas(&url, &[&schema]);
}
