//! Shared helpers for the local target's integration tests: run the real
//! analyze → parse → decide stages on a fixture, options pointing at the
//! crate's supervisor binary, and a guard that always cleans up.
#![allow(dead_code)]

use autodeploy_core::{Analysis, Decision, LogStream, SourceInfo, SourceKind};
use autodeploy_local::{start, stop_and_remove, LocalApp, LocalError, LocalOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `crates/local/tests/apps/<name>` or a repository path relative to the workspace root.
pub fn app(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/apps")
        .join(name)
}

pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// Analysis and local decision for a folder, the way `plan` chains the stages.
pub fn plan(dir: &Path) -> (Analysis, Decision) {
    let info = SourceInfo {
        input: dir.display().to_string(),
        kind: SourceKind::Path,
        commit: None,
    };
    let name_hint = dir.file_name().map(|n| n.to_string_lossy().into_owned());
    let analysis = autodeploy_analyze::analyze_dir(
        dir,
        info,
        &autodeploy_analyze::AnalyzeOptions {
            threads: 1,
            name_hint,
        },
    )
    .expect("analysis");
    let intent = autodeploy_parse::parse("run it locally");
    let decision = autodeploy_decide::decide(
        &analysis,
        &intent,
        &autodeploy_decide::DecideOptions::default(),
    )
    .expect("decision");
    assert_eq!(decision.cloud.as_str(), "local");
    (analysis, decision)
}

/// Download caches shared by all tests (and runs): `AUTODEPLOY_TEST_CACHE` or
/// a folder in the system temp dir.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("AUTODEPLOY_TEST_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("autodeploy-local-test-cache"))
}

/// A private home folder plus options using this crate's supervisor binary.
pub struct Home {
    pub dir: tempfile::TempDir,
    pub opts: LocalOptions,
}

pub fn home() -> Home {
    let dir = tempfile::tempdir().expect("temp home");
    let mut opts = LocalOptions::new(dir.path());
    opts.supervisor_exe = Some(PathBuf::from(env!("CARGO_BIN_EXE_autodeploy-supervise")));
    opts.cache_dir = Some(cache_dir());
    opts.health_timeout = Duration::from_secs(90);
    Home { dir, opts }
}

pub fn sink(stream: LogStream, line: &str) {
    eprintln!("[{}] {line}", stream.as_str());
}

/// Stops and removes the deployment when dropped (also when a test fails).
pub struct Running<'a> {
    pub id: String,
    pub opts: &'a LocalOptions,
    pub app: LocalApp,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        let _ = stop_and_remove(&self.id, self.opts);
    }
}

pub fn deploy<'a>(id: &str, dir: &Path, opts: &'a LocalOptions) -> Result<Running<'a>, LocalError> {
    let (analysis, decision) = plan(dir);
    match start(id, dir, &analysis, &decision, opts, &sink) {
        Ok(app) => Ok(Running {
            id: id.to_string(),
            opts,
            app,
        }),
        Err(e) => {
            if let Ok(log) = std::fs::read_to_string(autodeploy_local::app_log_path(id, opts)) {
                eprintln!("--- app.log ---\n{log}");
            }
            let _ = stop_and_remove(id, opts);
            Err(e)
        }
    }
}

/// GET a URL, returning (status, body).
pub fn get(url: &str) -> (u16, String) {
    match ureq::get(url).timeout(Duration::from_secs(10)).call() {
        Ok(r) => {
            let code = r.status();
            (code, r.into_string().unwrap_or_default())
        }
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
        Err(e) => panic!("GET {url}: {e}"),
    }
}

/// True when `port` can be bound (nothing listens on it any more).
pub fn port_free(port: u16) -> bool {
    std::net::TcpListener::bind(("0.0.0.0", port)).is_ok()
}

pub fn pid_alive(pid: u32) -> bool {
    let stat = match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => s,
        Err(_) => return false,
    };
    !stat
        .rsplit_once(')')
        .map(|(_, r)| r.trim_start().starts_with(['Z', 'X']))
        .unwrap_or(true)
}

pub fn wait_for(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    f()
}
