//! The SQLite store on a full disk (a small tmpfs mounted for the test; needs
//! root, as CI runs): reads still work, the writes that free space (a
//! destroy's status updates) still work thanks to the reserve, and with no
//! reserve at all the store still opens read-only with everything in it.

use autodeploy_store::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs of `mib` MiB mounted on a fresh folder, unmounted on drop.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(mib: u32) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}M"), "tmpfs"])
            .arg(dir.path())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            return Some(SmallDisk { dir });
        }
        let msg = "could not mount a tmpfs (needs root: `mount -t tmpfs`)";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{msg}; CI must run the full-disk tests");
        }
        eprintln!("\n*** SKIPPED: {msg}; the full-disk tests did not run ***\n");
        None
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fill the disk: write until ENOSPC.
    fn fill(&self) -> PathBuf {
        let p = self.path().join("fill");
        let mut f = std::fs::File::create(&p).unwrap();
        let block = vec![0u8; 64 * 1024];
        loop {
            if let Err(e) = f.write_all(&block) {
                assert_eq!(e.raw_os_error(), Some(libc::ENOSPC), "{e}");
                break;
            }
        }
        // Whatever is left of a block too.
        while f.write_all(&[0u8; 512]).is_ok() {}
        p
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

fn new_dep() -> NewDeployment {
    NewDeployment {
        owner: "local".into(),
        name: "app".into(),
        source: "/srv/app".into(),
        request: "run it locally".into(),
        cloud: Some("local".into()),
        options: serde_json::json!({}),
        idempotency_key: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_keeps_reads_and_the_writes_that_free_space() {
    let Some(disk) = SmallDisk::mount(48) else {
        return;
    };
    let db = disk.path().join("autodeploy.db");
    let url = db.to_str().unwrap().to_string();
    let store = open(&url).await.unwrap();
    let (d, _) = store.create_deployment(new_dep(), None).await.unwrap();
    drop(store);
    assert!(
        disk.path().join("autodeploy.db.reserve").exists(),
        "a reserve is kept while there is room"
    );

    let fill = disk.fill();
    // status / list / logs: opening and reading work on the full disk.
    let store = open(&url).await.expect("the store opens on a full disk");
    let got = store.get_deployment(&d.id).await.unwrap().unwrap();
    assert_eq!(got.name, "app");
    let page = store
        .list_deployments(&ListFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    store.read_logs(&d.id, 0, 100).await.unwrap();
    // destroy's writes (status, a few log lines) work from the reserve.
    store
        .update_deployment(
            &d.id,
            DeploymentPatch {
                status: Some(DeploymentStatus::Destroying),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    store
        .append_logs(
            &d.id,
            &[NewLogLine {
                stream: LogStream::System,
                phase: None,
                line: "stopping the app and removing its files".into(),
            }],
        )
        .await
        .unwrap();
    drop(store);

    // Space freed (the destroy removed the app's files): the reserve returns
    // and nothing stored was lost.
    std::fs::remove_file(&fill).unwrap();
    let store = open(&url).await.unwrap();
    let got = store.get_deployment(&d.id).await.unwrap().unwrap();
    assert_eq!(got.status, DeploymentStatus::Destroying);
    assert_eq!(store.read_logs(&d.id, 0, 100).await.unwrap().len(), 1);
    drop(store);
    assert!(disk.path().join("autodeploy.db.reserve").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_reserve_a_full_disk_still_opens_read_only() {
    let Some(disk) = SmallDisk::mount(48) else {
        return;
    };
    let db = disk.path().join("autodeploy.db");
    let url = db.to_str().unwrap().to_string();
    let store = open(&url).await.unwrap();
    let (d, _) = store.create_deployment(new_dep(), None).await.unwrap();
    drop(store);
    std::fs::remove_file(disk.path().join("autodeploy.db.reserve")).unwrap();
    disk.fill();
    let store = open(&url).await.expect("read-only on a full disk");
    assert_eq!(store.get_deployment(&d.id).await.unwrap().unwrap().id, d.id);
    let e = store
        .update_deployment(
            &d.id,
            DeploymentPatch {
                status: Some(DeploymentStatus::Failed),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("readonly") || e.to_string().contains("read-only"),
        "{e}"
    );
}
