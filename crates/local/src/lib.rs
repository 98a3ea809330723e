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

mod env;
mod error;
mod health;
mod prepare;
mod proc;
mod static_files;
mod supervise;
mod toolchain;

pub use error::{CommandFailure, LocalError};
pub use prepare::retarget_port;
pub use supervise::{supervise_main, RestartPolicy, SupervisorStatus};

use autodeploy_core::{
    Analysis, Decision, Hosting, LogStream, ServiceKind, ServicePlan, SourceFix,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
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
    /// Values the caller supplies for the app's user secrets, inputs, or a
    /// database/cache it runs itself (`DATABASE_URL=…`). Override the decision.
    pub extra_env: Vec<(String, String)>,
    /// PATH used to find toolchains and run commands; `None` → this process's PATH.
    pub path: Option<OsString>,
    /// Crash restart policy of the supervisors.
    pub restart: RestartPolicy,
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
            path: None,
            restart: RestartPolicy::default(),
        }
    }

    fn cache(&self) -> PathBuf {
        self.cache_dir
            .clone()
            .unwrap_or_else(|| self.home.join("cache"))
    }

    fn search_path(&self) -> OsString {
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
    /// Port of the primary (first web) service.
    pub port: u16,
    /// `http://127.0.0.1:<port>` of the primary service.
    pub url: String,
    /// Supervisor pid of the primary service.
    pub pid: u32,
    pub log_file: PathBuf,
    pub services: Vec<LocalService>,
}

/// One supervised service of a local deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalService {
    pub name: String,
    /// Null for workers.
    pub port: Option<u16>,
    pub url: Option<String>,
    /// The service's supervisor.
    pub pid: u32,
    /// Path probed for health (null for workers).
    pub health_path: Option<String>,
    pub spec_file: PathBuf,
    pub status_file: PathBuf,
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
fn lock(id: &str, opts: &LocalOptions) -> Result<proc::FileLock, LocalError> {
    let path = opts
        .home
        .join("deployments")
        .join(".locks")
        .join(format!("{id}.lock"));
    proc::lock_file(&path).map_err(|e| LocalError::io("lock", path, e))
}

fn validate_id(id: &str) -> Result<(), LocalError> {
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

fn is_local(s: &ServicePlan) -> bool {
    matches!(s.hosting, Hosting::LocalProcess | Hosting::LocalStatic)
}

/// Served from files by the supervisor itself, not by an app process.
fn is_static(s: &ServicePlan) -> bool {
    s.start.is_none()
        && (s.hosting == Hosting::LocalStatic
            || s.kind == ServiceKind::Static
            || s.runtime.family == "static")
}

fn needs_port(s: &ServicePlan) -> bool {
    s.kind != ServiceKind::Worker || s.port.is_some()
}

/// Prepare, build, start and health-check the local deployment `id`.
///
/// On an error after the files were created, they are left in place (the log
/// says what happened; a started app keeps running when only the health check
/// failed): call [`stop_and_remove`] to clean up.
pub fn start(
    id: &str,
    source_root: &Path,
    analysis: &Analysis,
    decision: &Decision,
    opts: &LocalOptions,
    sink: Sink,
) -> Result<LocalApp, LocalError> {
    validate_id(id)?;
    let dir = deployment_dir(id, opts);
    let services: Vec<&ServicePlan> = decision.services.iter().filter(|s| is_local(s)).collect();
    if services.is_empty() {
        return Err(LocalError::NothingToRun);
    }
    let path = opts.search_path();

    // Everything that can be known before doing work is checked first.
    let mut toolchains = BTreeMap::new();
    for svc in &services {
        let chosen = toolchain::check(svc, analysis, source_root, &path)?;
        toolchains.insert(svc.name.clone(), chosen);
        if !is_static(svc) && svc.start.is_none() {
            return Err(LocalError::NoStartCommand {
                service: svc.name.clone(),
            });
        }
    }
    if let Some(p) = opts.port {
        proc::port_is_free(p).map_err(|source| LocalError::PortUnavailable { port: p, source })?;
    }
    let mut ports = BTreeMap::new();
    let mut first = true;
    for svc in services.iter().filter(|s| needs_port(s)) {
        let port = match (first, opts.port) {
            (true, Some(p)) => p,
            _ => proc::free_port()
                .map_err(|e| LocalError::io("find a free port on", "127.0.0.1", e))?,
        };
        first = false;
        ports.insert(svc.name.clone(), port);
    }
    let mut generated = BTreeMap::new();
    let mut envs = BTreeMap::new();
    for svc in &services {
        let mut ctx = env::Ctx {
            decision,
            ports: &ports,
            extra: &opts.extra_env,
            generated: &mut generated,
        };
        let e = env::resolve(svc, &mut ctx)?;
        envs.insert(svc.name.clone(), e);
    }

    let _lock = lock(id, opts)?;
    if dir.exists() {
        if let Some(pid) = running_supervisor(&dir) {
            return Err(LocalError::AlreadyRunning {
                id: id.to_string(),
                pid,
            });
        }
        std::fs::remove_dir_all(&dir)
            .map_err(|e| LocalError::io("remove the stale folder", &dir, e))?;
    }
    for sub in ["run", "runtime"] {
        let p = dir.join(sub);
        std::fs::create_dir_all(&p).map_err(|e| LocalError::io("create the folder", &p, e))?;
    }
    let log_file = dir.join("app.log");
    let say = |msg: &str| {
        sink(LogStream::System, msg);
        supervise::append_lines(&log_file, "system", &[msg.to_string()]);
    };

    // 1. The isolated copy, with the analysis' fixes.
    let app_dir = dir.join("app");
    let copied = prepare::copy_tree(source_root, &app_dir)?;
    say(&format!(
        "copied {} files ({} KiB) to {}",
        copied.files,
        copied.bytes / 1024,
        app_dir.display()
    ));
    for l in &copied.skipped_links {
        say(&format!(
            "left out the link {l}: it points outside the repository"
        ));
    }
    for fix in fixes_for(&services, analysis) {
        match prepare::apply_fix(&app_dir, &fix)? {
            prepare::FixOutcome::Applied => say(&format!(
                "fixed {}:{} in the copy: {:?} → {:?}",
                fix.file, fix.line, fix.find, fix.replace
            )),
            prepare::FixOutcome::Skipped(why) => {
                say(&format!("did not apply a fix to {}: {why}", fix.file))
            }
        }
    }

    // 2. Secrets file (values never reach the log).
    let secrets_file = dir.join("secrets.env");
    let all_secrets: Vec<(String, String)> = envs
        .values()
        .flat_map(|e| e.secret.iter().cloned())
        .collect::<BTreeMap<_, _>>()
        .into_iter()
        .collect();
    env::write_secrets(&secrets_file, &all_secrets)?;

    // 3. Runtime, install, build, release; 4. supervisors.
    let cache = opts.cache();
    let mut started = Vec::new();
    let tag_service = services.len() > 1;
    for svc in &services {
        let svc_dir = prepare::inside(&app_dir, &svc.path).unwrap_or_else(|| app_dir.clone());
        let rt_dir = dir.join("runtime").join(&svc.name);
        let chosen = &toolchains[&svc.name];
        let rt = toolchain::runtime(svc, chosen, &svc_dir, &rt_dir, &cache);
        let senv = &envs[&svc.name];
        for n in &senv.notes {
            say(&format!("{}: {n}", svc.name));
        }
        let mut base = base_env(&rt, &path);
        base.extend(rt.env.iter().cloned());
        base.extend(senv.plain.iter().cloned());
        let mut with_secrets = base.clone();
        with_secrets.extend(senv.secret.iter().cloned());

        let step = Step {
            service: &svc.name,
            dir: &svc_dir,
            env: &with_secrets,
            log: &log_file,
            sink,
        };
        std::fs::create_dir_all(&rt_dir)
            .map_err(|e| LocalError::io("create the folder", &rt_dir, e))?;
        for n in &chosen.notes {
            say(&format!("{}: {n}", svc.name));
        }
        let say_svc = |m: &str| say(&format!("{}: {m}", svc.name));
        toolchain::run_steps(&rt.steps, &|name, cmd| step.run(name, cmd), &say_svc)?;
        if let Some(build) = &svc.build {
            step.run("build", build)?;
        }
        if let Some(release) = &svc.release {
            step.run("release", release)?;
        }

        let port = ports.get(&svc.name).copied();
        let command = svc.start.as_ref().map(|s| match port {
            Some(p) => prepare::retarget_port(s, svc.port, p),
            None => s.clone(),
        });
        if let (Some(c), Some(orig)) = (&command, &svc.start) {
            if c != orig {
                say(&format!(
                    "{}: start command adjusted to the assigned port: {c}",
                    svc.name
                ));
            }
        }
        let static_root = if command.is_none() {
            Some(
                svc.static_dir
                    .as_deref()
                    .and_then(|d| prepare::inside(&svc_dir, d))
                    .unwrap_or_else(|| svc_dir.clone()),
            )
        } else {
            None
        };
        let spec = supervise::Spec {
            deployment_id: id.to_string(),
            service: svc.name.clone(),
            tag_service,
            dir: svc_dir.clone(),
            command,
            static_root,
            port,
            env: base,
            secrets_file: Some(secrets_file.clone()),
            log_file: log_file.clone(),
            status_file: dir.join("run").join(format!("{}.status.json", svc.name)),
            restart: opts.restart,
        };
        let spec_file = dir.join("run").join(format!("{}.spec.json", svc.name));
        let pid = spawn_supervisor(id, &dir, &spec, &spec_file, opts)?;
        say(&format!(
            "{}: started (supervisor pid {pid}{})",
            svc.name,
            match port {
                Some(p) => format!(", port {p}"),
                None => String::new(),
            }
        ));
        let health_path = port.map(|_| {
            svc.health_check
                .as_ref()
                .map(|h| h.path.clone())
                .unwrap_or_else(|| "/".into())
        });
        started.push(LocalService {
            name: svc.name.clone(),
            port,
            url: port.map(|p| format!("http://127.0.0.1:{p}")),
            pid,
            health_path,
            spec_file,
            status_file: spec.status_file.clone(),
        });
    }

    let primary = started
        .iter()
        .find(|s| s.port.is_some())
        .or(started.first())
        .cloned()
        .ok_or(LocalError::NothingToRun)?;
    let app = LocalApp {
        deployment_id: id.to_string(),
        dir: dir.clone(),
        port: primary.port.unwrap_or(0),
        url: primary.url.clone().unwrap_or_default(),
        pid: primary.pid,
        log_file: log_file.clone(),
        services: started.clone(),
    };
    let record = dir.join("deployment.json");
    let bytes =
        serde_json::to_vec_pretty(&app).map_err(|e| LocalError::io("encode", &record, e.into()))?;
    proc::write_atomic(&record, &bytes).map_err(|e| LocalError::io("write", &record, e))?;

    // 5. Health.
    for s in &started {
        if let (Some(url), Some(path)) = (&s.url, &s.health_path) {
            let target = format!("{url}{path}");
            say(&format!("{}: waiting for {target} to answer", s.name));
            let status_file = s.status_file.clone();
            let spec_file = s.spec_file.to_string_lossy().into_owned();
            let pid = s.pid;
            let gave_up = || {
                read_status(&status_file).is_some_and(|st| st.state == "crashloop")
                    || !proc::alive_and_mentions(pid, &spec_file)
            };
            match health::wait_healthy(&target, opts.health_timeout, gave_up) {
                Ok(code) => say(&format!("{}: healthy (HTTP {code}) at {target}", s.name)),
                Err(last) => {
                    return Err(LocalError::Unhealthy {
                        service: s.name.clone(),
                        url: target,
                        seconds: opts.health_timeout.as_secs(),
                        last,
                        tail: tail(&log_file, 30),
                    })
                }
            }
        }
    }
    Ok(app)
}

/// The fixes to apply: the decision's, plus any the analysis attached to the
/// same services' findings that the decision did not carry.
fn fixes_for(services: &[&ServicePlan], analysis: &Analysis) -> Vec<SourceFix> {
    let mut out: Vec<SourceFix> = Vec::new();
    for svc in services {
        let from_analysis = analysis
            .services
            .iter()
            .filter(|a| a.name == svc.name && a.path == svc.path)
            .flat_map(|a| a.findings.iter().filter_map(|f| f.fix.clone()));
        for fix in svc.source_fixes.iter().cloned().chain(from_analysis) {
            if !out.contains(&fix) {
                out.push(fix);
            }
        }
    }
    out
}

/// The environment every command starts from: PATH (runtime folders first)
/// and the few variables tools need from the user's environment. Nothing
/// else of the caller's environment (cloud credentials…) reaches the app.
fn base_env(rt: &toolchain::Runtime, path: &OsString) -> Vec<(String, String)> {
    let mut parts: Vec<PathBuf> = rt.path_front.clone();
    parts.extend(std::env::split_paths(path));
    let joined = std::env::join_paths(parts)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| path.to_string_lossy().into_owned());
    let mut env = vec![("PATH".to_string(), joined)];
    for k in [
        "HOME",
        "USER",
        "LOGNAME",
        "LANG",
        "LC_ALL",
        "TZ",
        "TMPDIR",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "PIP_INDEX_URL",
        "PIP_EXTRA_INDEX_URL",
        "npm_config_registry",
        "GOPROXY",
        "GOFLAGS",
        "GOTOOLCHAIN",
        "CARGO_HOME",
        "RUSTUP_HOME",
    ] {
        if let Ok(v) = std::env::var(k) {
            env.push((k.to_string(), v));
        }
    }
    env
}

/// One install/build/release command run to completion.
struct Step<'a> {
    service: &'a str,
    dir: &'a Path,
    env: &'a [(String, String)],
    log: &'a Path,
    sink: Sink<'a>,
}

impl Step<'_> {
    fn run(&self, step: &'static str, command: &str) -> Result<(), LocalError> {
        let header = format!("{}: {step}: {command}", self.service);
        (self.sink)(LogStream::System, &header);
        supervise::append_lines(self.log, "system", &[header]);
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(command)
            .current_dir(self.dir)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| LocalError::io("run `sh -c` in", self.dir, e))?;
        let recent = Mutex::new(VecDeque::with_capacity(30));
        let out = child.stdout.take();
        let err = child.stderr.take();
        std::thread::scope(|scope| {
            let mut pumps = Vec::new();
            if let Some(o) = out {
                let recent = &recent;
                pumps.push(scope.spawn(move || self.pump(o, LogStream::Stdout, recent)));
            }
            if let Some(e) = err {
                let recent = &recent;
                pumps.push(scope.spawn(move || self.pump(e, LogStream::Stderr, recent)));
            }
            for p in pumps {
                let _ = p.join();
            }
        });
        let status = child
            .wait()
            .map_err(|e| LocalError::io("wait for `sh -c` in", self.dir, e))?;
        if status.success() {
            return Ok(());
        }
        let tail = recent
            .into_inner()
            .map(|v| v.into_iter().collect::<Vec<_>>().join("\n"))
            .unwrap_or_default();
        Err(LocalError::CommandFailed(Box::new(CommandFailure {
            service: self.service.to_string(),
            step,
            command: command.to_string(),
            dir: self.dir.to_path_buf(),
            status: status.to_string(),
            tail,
        })))
    }

    fn pump(&self, r: impl Read, stream: LogStream, recent: &Mutex<VecDeque<String>>) {
        let mut reader = BufReader::new(r);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf)
                        .trim_end_matches(['\n', '\r'])
                        .to_string();
                    (self.sink)(stream, &line);
                    supervise::append_lines(self.log, stream.as_str(), std::slice::from_ref(&line));
                    if let Ok(mut q) = recent.lock() {
                        if q.len() == 30 {
                            q.pop_front();
                        }
                        q.push_back(line);
                    }
                }
            }
        }
    }
}

fn spawn_supervisor(
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

fn read_status(path: &Path) -> Option<SupervisorStatus> {
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
}

fn read_record(dir: &Path) -> Result<Option<LocalApp>, LocalError> {
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

/// Every supervisor of the deployment in `dir` that is still alive, with its
/// spec file and last status (found from `run/`, so it works without
/// `deployment.json` too).
fn supervisors(dir: &Path) -> Vec<(PathBuf, SupervisorStatus)> {
    let Ok(entries) = std::fs::read_dir(dir.join("run")) else {
        return vec![];
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(svc) = name.strip_suffix(".status.json") {
            if let Some(st) = read_status(&e.path()) {
                out.push((dir.join("run").join(format!("{svc}.spec.json")), st));
            }
        }
    }
    out
}

fn running_supervisor(dir: &Path) -> Option<u32> {
    supervisors(dir)
        .into_iter()
        .find(|(spec, st)| proc::alive_and_mentions(st.supervisor_pid, &spec.to_string_lossy()))
        .map(|(_, st)| st.supervisor_pid)
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

/// Stop every supervisor and app process of `id` and delete its files.
/// Idempotent: a deployment that is already gone is fine.
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
    let grace = Duration::from_millis(opts.restart.stop_grace_ms) + Duration::from_secs(5);
    let sups = supervisors(&dir);
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
                    id: id.to_string(),
                    pid,
                    reason: "it survived SIGKILL for 5 s".into(),
                });
            }
        }
    }
    // An app whose supervisor was killed outright may still run: its process
    // group is named by the last app pid the supervisor recorded.
    for (_, st) in supervisors(&dir) {
        if let Some(app) = st.app_pid {
            if proc::group_alive(app) {
                proc::signal_group(app, libc::SIGKILL);
                proc::wait_until(Duration::from_secs(5), || !proc::group_alive(app));
            }
        }
    }
    std::fs::remove_dir_all(&dir).map_err(|e| LocalError::io("remove", &dir, e))
}

/// The last `n` lines of a file (empty when unreadable).
fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
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
    fn tail_keeps_the_last_lines() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        std::fs::write(&p, "1\n2\n3\n4\n").unwrap();
        assert_eq!(tail(&p, 2), "3\n4");
        assert_eq!(tail(&d.path().join("none"), 2), "");
    }
}
