//! Execute stage, local target: run an analysed app on this machine as a
//! supervised background process that outlives the CLI invocation.
//!
//! [`start`] makes an isolated copy of the source under
//! `$AUTODEPLOY_HOME/deployments/<id>/app` (with the analysis' source fixes
//! applied), builds the service's runtime (Python venv + pip, npm, go build,
//! cargo …) with the decision's install/build commands, assigns a free port,
//! starts one detached supervisor per service (`supervise.rs`) and waits for
//! the app to answer its health check. [`status`] and [`stop_and_remove`]
//! find it again from the files it left.
//!
//! Layout of `<home>/deployments/<id>/`: `app/` (the copy), `runtime/<svc>/`
//! (venv …), `run/<svc>.spec.json` / `.status.json` (supervisor input and
//! output), `deployment.json` ([`LocalApp`]), `secrets.env` (0600),
//! `app.log` (build and app output, one timestamped, stream-tagged line each),
//! `supervisor.log` (the supervisor's own stderr).
//!
//! Deliberately not here: the deployment database, Terraform, choosing what
//! to run (decide does that), and providing databases or caches — a service
//! bound to one gets a [`LocalError::NotProvided`] unless the caller passes
//! the value in [`LocalOptions::extra_env`].

pub mod account;
mod applog;
mod carry;
pub mod data;
mod env;
mod error;
mod front;
mod health;
mod prepare;
mod proc;
pub mod sandbox;
mod start;
mod static_files;
mod step;
mod supervise;
mod toolchain;

pub use error::{CommandFailure, LocalError};
pub use prepare::retarget_port;
pub use supervise::{supervise_main, RestartPolicy, SupervisorStatus};

use autodeploy_core::{
    Analysis, Decision, FileFromExample, Hosting, LogStream, ServiceKind, ServicePlan, SourceFix,
};
use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Where progress and build output go while [`start`] runs.
pub type Sink<'a> = &'a (dyn Fn(LogStream, &str) + Sync);

/// How [`start`], [`status`] and [`stop_and_remove`] work.
#[derive(Debug, Clone)]
pub struct LocalOptions {
    /// `$AUTODEPLOY_HOME`: deployments live in `<home>/deployments/<id>/`.
    pub home: PathBuf,
    /// How long the app gets to answer its health check (default 120 s).
    pub health_timeout: Duration,
    /// Port for the (first) web service; a free one when `None`.
    pub port: Option<u16>,
    /// Program started as `<exe> __supervise <spec>`; `None` → this executable.
    pub supervisor_exe: Option<PathBuf>,
    /// Download caches (pip, npm, go); `None` → `<home>/cache`.
    pub cache_dir: Option<PathBuf>,
    /// Values the caller supplies (`deploy --env NAME=VALUE`): the app's
    /// inputs, or a database/cache it runs itself (`DATABASE_URL=…`). They
    /// override the decision. A key `service:NAME` is for that service only.
    pub extra_env: Vec<(String, String)>,
    /// Secret values the caller supplies (`deploy --secret NAME`): like
    /// `extra_env`, but kept only in the 0600 secrets file.
    pub extra_secrets: Vec<(String, String)>,
    /// PATH used to find toolchains and run commands; `None` → this process's PATH.
    pub path: Option<OsString>,
    /// Crash restart policy of the supervisors.
    pub restart: RestartPolicy,
    /// Address the fronts listen on (default 127.0.0.1: this machine only).
    pub listen: Option<std::net::IpAddr>,
    /// Confine the deployment's processes (`sandbox.rs`): their own account
    /// when root, a cgroup and resource limits. On by default.
    pub confine: bool,
    /// The limits of a confined deployment.
    pub limits: sandbox::Limits,
}

impl LocalOptions {
    /// Defaults for a home folder: 120 s health timeout, any free port.
    pub fn new(home: impl Into<PathBuf>) -> Self {
        LocalOptions {
            home: home.into(),
            health_timeout: Duration::from_secs(120),
            port: None,
            supervisor_exe: None,
            cache_dir: None,
            extra_env: vec![],
            extra_secrets: vec![],
            path: None,
            restart: RestartPolicy::default(),
            listen: None,
            confine: true,
            limits: sandbox::Limits::default(),
        }
    }

    pub(crate) fn cache(&self) -> PathBuf {
        self.cache_dir
            .clone()
            .unwrap_or_else(|| self.home.join("cache"))
    }

    /// Where the data services of this home live and how their programs are found.
    pub fn data_options(&self) -> data::DataOptions {
        data::DataOptions {
            home: self.home.clone(),
            path: self.search_path(),
        }
    }

    pub(crate) fn search_path(&self) -> OsString {
        self.path
            .clone()
            .or_else(|| std::env::var_os("PATH"))
            .unwrap_or_else(|| OsString::from("/usr/local/bin:/usr/bin:/bin"))
    }
}

/// A started local deployment (also stored as `deployment.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalApp {
    pub deployment_id: String,
    /// `<home>/deployments/<id>`.
    pub dir: PathBuf,
    /// The release serving now (1 for the first deploy; 0 in records made
    /// before releases existed).
    #[serde(default)]
    pub release: u32,
    /// `<dir>/releases/<release>`: its copy of the code (`app/`), runtimes,
    /// secrets file and supervisor files.
    #[serde(default)]
    pub release_dir: PathBuf,
    /// Stable port of the primary (first web) service: its front's.
    pub port: u16,
    /// `http://127.0.0.1:<port>` of the primary service; the same across redeploys.
    pub url: String,
    /// Supervisor pid of the primary service's app.
    pub pid: u32,
    pub log_file: PathBuf,
    pub services: Vec<LocalService>,
    /// Services this machine cannot run, left out while the others run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<SkippedService>,
}

/// A service left out of a local deployment, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedService {
    pub name: String,
    pub reason: String,
}

/// The front of a web service (`front.rs`): the process on its stable port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrontProc {
    pub pid: u32,
    pub spec_file: PathBuf,
    pub status_file: PathBuf,
    /// The file naming the port it relays to.
    pub target: PathBuf,
}

/// One supervised service of a local deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalService {
    pub name: String,
    /// Stable (front) port; null for workers.
    pub port: Option<u16>,
    pub url: Option<String>,
    /// The service's supervisor.
    pub pid: u32,
    /// Path probed for health (null for workers).
    pub health_path: Option<String>,
    pub spec_file: PathBuf,
    pub status_file: PathBuf,
    /// The port this release's app listens on (behind the front).
    #[serde(default)]
    pub internal_port: Option<u16>,
    #[serde(default)]
    pub front: Option<FrontProc>,
}

/// What [`status`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LocalStatus {
    /// The primary service's supervisor is alive.
    Running {
        pid: u32,
        port: u16,
        url: String,
        /// Crash restarts, summed over services.
        restarts: u32,
        /// The primary service answered its health path with 2xx/3xx just now.
        healthy: bool,
        /// The primary app's pid, when it is running (not between restarts).
        app_pid: Option<u32>,
    },
    /// The files are there but the supervisor is gone (`reason`: `crashloop`,
    /// `stopped`, or `supervisor not running`).
    Stopped { reason: String },
    /// No such local deployment.
    NotFound,
}

/// `<home>/deployments/<id>/app.log`.
pub fn app_log_path(id: &str, opts: &LocalOptions) -> PathBuf {
    deployment_dir(id, opts).join("app.log")
}

fn deployment_dir(id: &str, opts: &LocalOptions) -> PathBuf {
    opts.home.join("deployments").join(id)
}

/// Serialises `start` and `stop_and_remove` of one deployment (across processes).
pub(crate) fn lock(id: &str, opts: &LocalOptions) -> Result<proc::FileLock, LocalError> {
    let path = opts
        .home
        .join("deployments")
        .join(".locks")
        .join(format!("{id}.lock"));
    proc::lock_file(&path).map_err(|e| LocalError::io("lock", path, e))
}

pub(crate) fn validate_id(id: &str) -> Result<(), LocalError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !id.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(LocalError::InvalidId { id: id.to_string() })
    }
}

pub(crate) fn is_local(s: &ServicePlan) -> bool {
    s.hosting.is_local()
}

/// Served from files by the supervisor itself, not by an app process.
pub(crate) fn is_static(s: &ServicePlan) -> bool {
    s.start.is_none()
        && (s.hosting == Hosting::LocalStatic
            || s.kind == ServiceKind::Static
            || s.runtime.family == "static")
}

/// The folder a static service of a local deployment serves:
/// `<release>/app/<path>/<static_dir>` (the start step's layout). A cloud
/// deploy uploads it after building the site here.
pub fn static_root(app: &LocalApp, svc: &ServicePlan) -> PathBuf {
    let app_dir = app.release_dir.join("app");
    let svc_dir = prepare::inside(&app_dir, &svc.path).unwrap_or(app_dir);
    svc.static_dir
        .as_deref()
        .and_then(|d| prepare::inside(&svc_dir, d))
        .unwrap_or(svc_dir)
}

pub(crate) fn needs_port(s: &ServicePlan) -> bool {
    s.kind != ServiceKind::Worker || s.port.is_some()
}

/// Prepare, build, start and health-check the local deployment `id` — or,
/// when it already runs, a new release of it beside the one serving, which
/// takes over the same URL only once it answers (see `start.rs`).
///
/// On a first deploy, files are left in place after an error (the log says
/// what happened; an app that runs but does not answer keeps running so it
/// can be looked at): call [`stop_and_remove`] to clean up. On a redeploy,
/// a release that does not come up is stopped and the previous one keeps
/// serving ([`LocalError::RedeployFailed`]).
pub fn start(
    id: &str,
    source_root: &Path,
    analysis: &Analysis,
    decision: &Decision,
    opts: &LocalOptions,
    sink: Sink,
) -> Result<LocalApp, LocalError> {
    start::start(id, source_root, analysis, decision, opts, sink)
}

/// The fixes to apply: the decision's, plus any the analysis attached to the
/// same services' findings that the decision did not carry.
///
/// The `binds_localhost` fixes (loopback → 0.0.0.0) are turned around:
/// locally the app is reached through its front on 127.0.0.1, and listening
/// on loopback is exactly what keeps it off the network. A `localhost` bind
/// becomes `127.0.0.1` (Node and others may resolve `localhost` to `::1`
/// only, where the front does not look); a `127.0.0.1` bind stays.
pub(crate) fn fixes_for(services: &[&ServicePlan], analysis: &Analysis) -> Vec<SourceFix> {
    let loopback_only: Vec<&SourceFix> = analysis
        .services
        .iter()
        .flat_map(|a| a.findings.iter())
        .filter(|f| f.kind == "binds_localhost")
        .filter_map(|f| f.fix.as_ref())
        .collect();
    let local = |fix: SourceFix| -> Option<SourceFix> {
        if !loopback_only.contains(&&fix) {
            return Some(fix);
        }
        let replace = fix.find.replace("localhost", "127.0.0.1");
        (replace != fix.find).then_some(SourceFix { replace, ..fix })
    };
    let mut out: Vec<SourceFix> = Vec::new();
    for svc in services {
        let from_analysis = analysis
            .services
            .iter()
            .filter(|a| a.name == svc.name && a.path == svc.path)
            .flat_map(|a| a.findings.iter().filter_map(|f| f.fix.clone()));
        for fix in svc
            .source_fixes
            .iter()
            .cloned()
            .chain(from_analysis)
            .filter_map(local)
        {
            if !out.contains(&fix) {
                out.push(fix);
            }
        }
    }
    SourceFix::sort_for_application(&mut out);
    out
}

/// What the findings of these services' analyses ask the copy for (`pick`
/// takes it from one finding), each once, in finding order.
fn from_findings<T: PartialEq>(
    services: &[&ServicePlan],
    analysis: &Analysis,
    pick: impl Fn(&autodeploy_core::Finding) -> Option<T>,
) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for svc in services {
        let asked = analysis
            .services
            .iter()
            .filter(|a| a.name == svc.name && a.path == svc.path)
            .flat_map(|a| a.findings.iter().filter_map(&pick));
        for m in asked {
            if !out.contains(&m) {
                out.push(m);
            }
        }
    }
    out
}

/// The folders to create in the copy (`sqlite_folder_missing` findings of
/// these services): repository-relative, in finding order.
pub(crate) fn folders_for(services: &[&ServicePlan], analysis: &Analysis) -> Vec<String> {
    from_findings(services, analysis, |f| f.makes_dir.clone())
}

/// The files to create from their committed examples
/// (`file_from_example` findings of these services), in finding order; one
/// per file.
pub(crate) fn examples_for(services: &[&ServicePlan], analysis: &Analysis) -> Vec<FileFromExample> {
    let mut out: Vec<FileFromExample> = Vec::new();
    for m in from_findings(services, analysis, |f| f.from_example.clone()) {
        if !out.iter().any(|o| o.file == m.file) {
            out.push(m);
        }
    }
    out
}

pub(crate) fn spawn_supervisor(
    id: &str,
    dir: &Path,
    spec: &supervise::Spec,
    spec_file: &Path,
    opts: &LocalOptions,
) -> Result<u32, LocalError> {
    let bytes = serde_json::to_vec_pretty(spec)
        .map_err(|e| LocalError::io("encode", spec_file, e.into()))?;
    proc::write_atomic(spec_file, &bytes).map_err(|e| LocalError::io("write", spec_file, e))?;
    let exe = match &opts.supervisor_exe {
        Some(p) => p.clone(),
        None => std::env::current_exe()
            .map_err(|e| LocalError::io("locate", "the running program", e))?,
    };
    let sup_log = dir.join("supervisor.log");
    let open_log = || {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&sup_log)
            .map_err(|e| LocalError::io("open", &sup_log, e))
    };
    let status = Command::new(&exe)
        .arg("__supervise")
        .arg(spec_file)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(open_log()?)
        .stderr(open_log()?)
        .status()
        .map_err(|e| LocalError::SupervisorFailed {
            id: id.to_string(),
            reason: format!("could not run {}: {e}", exe.display()),
            log: sup_log.clone(),
        })?;
    if !status.success() {
        return Err(LocalError::SupervisorFailed {
            id: id.to_string(),
            reason: format!("{} __supervise exited with {status}", exe.display()),
            log: sup_log,
        });
    }
    let mut pid = None;
    proc::wait_until(Duration::from_secs(10), || {
        pid = read_status(&spec.status_file).map(|s| s.supervisor_pid);
        pid.is_some()
    });
    pid.ok_or_else(|| LocalError::SupervisorFailed {
        id: id.to_string(),
        reason: "it did not report its pid within 10 s".into(),
        log: sup_log,
    })
}

pub(crate) fn read_status(path: &Path) -> Option<SupervisorStatus> {
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
}

pub(crate) fn read_record(dir: &Path) -> Result<Option<LocalApp>, LocalError> {
    let path = dir.join("deployment.json");
    match std::fs::read(&path) {
        Ok(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| LocalError::BadState {
                path: path.clone(),
                dir: dir.to_path_buf(),
                reason: e.to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(LocalError::io("read", &path, e)),
    }
}

/// Write the deployment's record (`deployment.json`).
pub(crate) fn write_record(dir: &Path, app: &LocalApp) -> Result<(), LocalError> {
    let record = dir.join("deployment.json");
    let bytes =
        serde_json::to_vec_pretty(app).map_err(|e| LocalError::io("encode", &record, e.into()))?;
    proc::write_atomic(&record, &bytes).map_err(|e| LocalError::io("write", &record, e))
}

/// Every supervisor of the deployment in `dir` — of every release, the
/// fronts, and the folder layout before releases (`run/`) — with its spec
/// file and last status. Found from the files, so it works without
/// `deployment.json` too.
fn supervisors(dir: &Path) -> Vec<(PathBuf, SupervisorStatus)> {
    let mut folders = vec![dir.join("run"), dir.join("front")];
    if let Ok(rd) = std::fs::read_dir(dir.join("releases")) {
        folders.extend(rd.flatten().map(|e| e.path().join("run")));
    }
    let mut out = Vec::new();
    for folder in folders {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(svc) = name.strip_suffix(".status.json") {
                if let Some(st) = read_status(&e.path()) {
                    out.push((folder.join(format!("{svc}.spec.json")), st));
                }
            }
        }
    }
    out
}

/// Stop every supervisor found in `dir` (and the apps they ran).
pub(crate) fn stop_supervisors(dir: &Path, opts: &LocalOptions) -> Result<(), LocalError> {
    let grace = Duration::from_millis(opts.restart.stop_grace_ms) + Duration::from_secs(5);
    let sups = supervisors(dir);
    for (spec, st) in &sups {
        if proc::alive_and_mentions(st.supervisor_pid, &spec.to_string_lossy()) {
            proc::signal(st.supervisor_pid, libc::SIGTERM);
        }
    }
    for (spec, st) in &sups {
        let spec = spec.to_string_lossy().into_owned();
        let pid = st.supervisor_pid;
        if !proc::wait_until(grace, || !proc::alive_and_mentions(pid, &spec)) {
            proc::signal(pid, libc::SIGKILL);
            if !proc::wait_until(Duration::from_secs(5), || {
                !proc::alive_and_mentions(pid, &spec)
            }) {
                return Err(LocalError::StopFailed {
                    id: dir
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    pid,
                    reason: "it survived SIGKILL for 5 s".into(),
                });
            }
        }
    }
    // An app whose supervisor was killed outright may still run: its process
    // group is named by the last app pid the supervisor recorded.
    for (_, st) in supervisors(dir) {
        if let Some(app) = st.app_pid.filter(|p| *p != st.supervisor_pid) {
            if proc::group_alive(app) {
                proc::signal_group(app, libc::SIGKILL);
                proc::wait_until(Duration::from_secs(5), || !proc::group_alive(app));
            }
        }
    }
    Ok(())
}

/// The app's own output lines (stdout/stderr) written to `log` after byte
/// `from`, for `service` when lines are tagged, at most the last `n`.
pub(crate) fn app_lines(log: &Path, from: u64, service: &str, n: usize) -> String {
    use std::io::{Read, Seek, SeekFrom};
    let mut text = String::new();
    if let Ok(mut f) = std::fs::File::open(log) {
        // Rotated meanwhile: the new file holds only newer lines.
        let from = if f.metadata().map(|m| m.len()).unwrap_or(0) < from {
            0
        } else {
            from
        };
        if f.seek(SeekFrom::Start(from)).is_ok() {
            let mut buf = Vec::new();
            let _ = f.read_to_end(&mut buf);
            text = String::from_utf8_lossy(&buf).into_owned();
        }
    }
    let tag = format!("[{service}] ");
    let lines: Vec<String> = text
        .lines()
        .filter_map(parse_log_line)
        .filter(|(_, stream, _)| matches!(stream, LogStream::Stdout | LogStream::Stderr))
        .map(|(_, _, t)| t.strip_prefix(&tag).unwrap_or(t).to_string())
        .collect();
    autodeploy_core::logtail::tail(&lines, n).join("\n")
}

/// Is the local deployment `id` running, and does it answer?
pub fn status(id: &str, opts: &LocalOptions) -> Result<LocalStatus, LocalError> {
    validate_id(id)?;
    let dir = deployment_dir(id, opts);
    if !dir.exists() {
        return Ok(LocalStatus::NotFound);
    }
    let Some(app) = read_record(&dir)? else {
        return Ok(LocalStatus::Stopped {
            reason: "never finished starting".into(),
        });
    };
    let primary = app
        .services
        .iter()
        .find(|s| s.pid == app.pid)
        .or(app.services.first());
    let Some(primary) = primary else {
        return Ok(LocalStatus::Stopped {
            reason: "no services recorded".into(),
        });
    };
    let st = read_status(&primary.status_file);
    if !proc::alive_and_mentions(primary.pid, &primary.spec_file.to_string_lossy()) {
        let reason = match st {
            Some(s) if s.state == "crashloop" || s.state == "stopped" => s.state,
            _ => "supervisor not running".into(),
        };
        return Ok(LocalStatus::Stopped { reason });
    }
    let restarts = app
        .services
        .iter()
        .filter_map(|s| read_status(&s.status_file))
        .map(|s| s.restarts)
        .sum();
    let healthy = match (&primary.url, &primary.health_path) {
        (Some(u), Some(p)) => health::probe(&format!("{u}{p}"), Duration::from_secs(3)).is_ok(),
        _ => st.as_ref().is_some_and(|s| s.state == "running"),
    };
    Ok(LocalStatus::Running {
        pid: primary.pid,
        port: app.port,
        url: app.url.clone(),
        restarts,
        healthy,
        app_pid: st.and_then(|s| s.app_pid),
    })
}

/// Drop the databases and users the local data services gave `id` (unless
/// `keep_data`) and stop the servers no deployment uses any more. Returns a
/// line per thing done. Separate from [`stop_and_remove`]: a redeploy
/// replaces the app, never its data.
pub fn release_data(
    id: &str,
    opts: &LocalOptions,
    keep_data: bool,
) -> Result<Vec<String>, LocalError> {
    validate_id(id)?;
    data::release(&opts.data_options(), id, keep_data)
}

/// The local data services of `id`, as `status` shows them.
pub fn data_status(id: &str, opts: &LocalOptions) -> Vec<data::DataStatus> {
    if validate_id(id).is_err() {
        return vec![];
    }
    data::describe(&opts.data_options(), id)
}

/// Stop every supervisor and app process of `id` — every release and the
/// fronts — and delete its files. Idempotent: a deployment that is already
/// gone is fine. Its data services are left alone ([`release_data`]).
pub fn stop_and_remove(id: &str, opts: &LocalOptions) -> Result<(), LocalError> {
    validate_id(id)?;
    let dir = deployment_dir(id, opts);
    if !dir.exists() {
        return Ok(());
    }
    let _lock = lock(id, opts)?;
    if !dir.exists() {
        return Ok(());
    }
    stop_supervisors(&dir, opts)?;
    // What no supervisor recorded (a step whose caller was killed) goes too,
    // before its files: a process still writing there makes the removal fail.
    sandbox::kill_all(id);
    if let Err(e) = std::fs::remove_dir_all(&dir) {
        // One more sweep for a process that slipped in meanwhile.
        if sandbox::kill_all(id) > 0 || std::fs::remove_dir_all(&dir).is_err() {
            return Err(LocalError::io("remove", &dir, e));
        }
    }
    sandbox::remove_cgroups(id);
    // Its download cache goes with its account: a later account given the
    // same uid must not inherit it.
    let _ = std::fs::remove_dir_all(opts.cache().join(sandbox::account_name(id)));
    sandbox::remove_account(id);
    Ok(())
}

/// Split an `app.log` line into (timestamp, stream, text).
pub fn parse_log_line(line: &str) -> Option<(&str, LogStream, &str)> {
    let (ts, rest) = line.split_once(' ')?;
    let (stream, text) = rest.split_once(' ').unwrap_or((rest, ""));
    Some((ts, LogStream::parse(stream)?, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_must_be_plain_names() {
        for ok in ["a", "hello-world_2", &"x".repeat(64)] {
            assert!(validate_id(ok).is_ok(), "{ok}");
        }
        for bad in ["", "../x", "a/b", "-x", "a b", &"x".repeat(65), "é"] {
            assert!(validate_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn log_lines_parse_back() {
        let l = "2026-11-27T15:50:00.123Z stderr boom: at line 3";
        assert_eq!(
            parse_log_line(l),
            Some((
                "2026-11-27T15:50:00.123Z",
                LogStream::Stderr,
                "boom: at line 3"
            ))
        );
        assert_eq!(parse_log_line("garbage"), None);
    }

    #[test]
    fn app_lines_are_the_apps_own_after_an_offset() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("app.log");
        std::fs::write(&p, "t stdout pip: Collecting flask\n").unwrap();
        let from = std::fs::metadata(&p).unwrap().len();
        std::fs::write(
            &p,
            "t stdout pip: Collecting flask\nt system started\nt stderr [web] Traceback\nt stderr [web] KeyError: 'X'\n",
        )
        .unwrap();
        assert_eq!(app_lines(&p, from, "web", 10), "Traceback\nKeyError: 'X'");
        assert_eq!(app_lines(&p, from, "web", 1), "KeyError: 'X'");
        assert_eq!(app_lines(&d.path().join("none"), 0, "web", 5), "");
    }
}
