//! State locking with real terraform and the local backend: two runs on ONE
//! state collide (the prototype's failure), and ten deployments with their own
//! workspaces never touch each other's lock. (Queueing behind a lock with
//! `-lock-timeout` is proven with the pg backend in `pg.rs`.)
mod support;

use autodeploy_terraform::{Backend, TfError, Workspace};
use std::sync::Barrier;
use std::time::{Duration, Instant};
use support::{builtins_config, config_dir, terraform};

const SLOW: &str = r#"
resource "terraform_data" "slow" {
  provisioner "local-exec" {
    command = "sleep 4"
  }
}
"#;

#[test]
fn two_applies_on_one_state_collide_without_a_lock_timeout() {
    let tf = terraform()
        .with_lock_timeout(Duration::ZERO)
        .with_attempts(1);
    let (_t, dir) = config_dir(SLOW);
    let ws = Workspace::new(&dir, Backend::Local);
    let quiet = |_: autodeploy_core::LogStream, _: &str| {};
    tf.init(&ws, &quiet).unwrap();
    tf.plan(&ws, false, &quiet).unwrap();

    let barrier = Barrier::new(2);
    let results: Vec<Result<(), TfError>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    tf.apply(&ws, &quiet)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let locked: Vec<&TfError> = results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .filter(|e| matches!(e, TfError::LockHeld { .. }))
        .collect();
    assert_eq!(ok, 1, "{results:?}");
    assert_eq!(locked.len(), 1, "{results:?}");
    let e = locked[0];
    assert!(e.is_transient());
    // The holder's lock id is reported when terraform could read the lock
    // info (it can lose that race with a lock taken microseconds earlier).
    if let TfError::LockHeld {
        lock_id: Some(id), ..
    } = e
    {
        assert!(!id.is_empty(), "{e:?}");
    }
    assert!(e.to_string().contains("force-unlock"), "{e}");
}

#[test]
fn ten_deployments_with_their_own_workspaces_apply_at_once_without_lock_errors() {
    let tf = terraform().with_attempts(1); // a lock error would surface, not be retried away
    let dirs: Vec<_> = (0..10)
        .map(|_| config_dir(&builtins_config(3, 2.0)))
        .collect();
    let start = Instant::now();
    let results: Vec<Result<usize, TfError>> = std::thread::scope(|s| {
        let handles: Vec<_> = dirs
            .iter()
            .map(|(_, dir)| {
                let tf = &tf;
                s.spawn(move || {
                    let ws = Workspace::new(dir, Backend::Local);
                    let quiet = |_: autodeploy_core::LogStream, _: &str| {};
                    tf.init(&ws, &quiet)?;
                    tf.plan(&ws, false, &quiet)?;
                    tf.apply(&ws, &quiet)?;
                    Ok(tf.state_resources(&ws)?.len())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let elapsed = start.elapsed();
    eprintln!("10 workspaces, init+plan+apply (3 × 2 s resources each): {elapsed:.1?}");
    let lock_errors = results
        .iter()
        .filter(|r| matches!(r, Err(TfError::LockHeld { .. })))
        .count();
    assert_eq!(lock_errors, 0, "{results:?}");
    for r in &results {
        assert_eq!(*r.as_ref().unwrap(), 3);
    }
}
