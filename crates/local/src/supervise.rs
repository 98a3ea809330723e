//! The supervisor: a small detached process, one per local service, that
//! starts the app, appends its output to the deployment log, restarts it on
//! crash with backoff, gives up on a crash loop, and stops the app's whole
//! process group on SIGTERM. Static services are served by the supervisor
//! itself (`static_files.rs`).
//!
//! It reads everything from a spec file written by the runner (`Spec`) and
//! reports through a status file (`SupervisorStatus`) rewritten atomically.
//! Deliberately knows nothing about analysis or decisions, and never writes a
//! secret anywhere: secret values are read from `secrets.env` at each start.

use crate::applog::AppLog;
use crate::proc::{self, utc_now};
use serde::{Deserialize, Serialize};

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the supervisor runs (written by the runner, `run/<service>.spec.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Spec {
    pub deployment_id: String,
    pub service: String,
    /// Shown in log lines when the deployment has several services.
    pub tag_service: bool,
    /// Working directory of the app.
    pub dir: PathBuf,
    /// Shell command (`sh -c`), or null for a static service.
    pub command: Option<String>,
    /// Folder served by the supervisor itself when `command` is null.
    pub static_root: Option<PathBuf>,
    pub port: Option<u16>,
    /// Complete non-secret environment (the app inherits nothing else).
    pub env: Vec<(String, String)>,
    /// `NAME=value` file with secret values (mode 0600), added at each start.
    pub secrets_file: Option<PathBuf>,
    pub log_file: PathBuf,
    pub status_file: PathBuf,
    pub restart: RestartPolicy,
    /// The deployment's front (`front.rs`): relay `port` to the port named
    /// in this file instead of running a command.
    #[serde(default)]
    pub front: Option<PathBuf>,
    /// Address the front or a static service listens on (default 127.0.0.1).
    #[serde(default)]
    pub listen: Option<std::net::IpAddr>,
    /// How the app is confined (account, cgroup, limits; `sandbox.rs`).
    #[serde(default)]
    pub confinement: crate::sandbox::Confinement,
}

/// When and how often a crashed app is started again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestartPolicy {
    /// First delay; doubled after each crash in a row.
    pub initial_backoff_ms: u64,
    pub max_backoff_ms: u64,
    /// Crashes in a row (each within `short_run_ms` of its start) before giving up.
    pub max_crashes: u32,
    /// A run at least this long resets the crash count and the backoff.
    pub short_run_ms: u64,
    /// Time the app gets to exit after SIGTERM before SIGKILL.
    pub stop_grace_ms: u64,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy {
            initial_backoff_ms: 1_000,
            max_backoff_ms: 30_000,
            max_crashes: 10,
            short_run_ms: 60_000,
            stop_grace_ms: 10_000,
        }
    }
}

impl RestartPolicy {
    /// Delay before restart number `streak` (1-based) of a crash run.
    pub fn backoff(&self, streak: u32) -> Duration {
        let shift = streak.saturating_sub(1).min(30);
        let ms = self
            .initial_backoff_ms
            .saturating_mul(1u64 << shift)
            .min(self.max_backoff_ms);
        Duration::from_millis(ms)
    }
}

/// What the supervisor reports (`run/<service>.status.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupervisorStatus {
    pub supervisor_pid: u32,
    /// The running app's pid (also its process group), when one runs.
    #[serde(default)]
    pub app_pid: Option<u32>,
    /// `starting`, `running`, `backoff`, `crashloop`, `stopped`.
    pub state: String,
    /// Restarts after crashes since the supervisor started.
    pub restarts: u32,
    /// How the last run ended (`exit status: 1`, `signal: 9`).
    #[serde(default)]
    pub last_exit: Option<String>,
    pub updated_at: String,
}

static STOP: AtomicBool = AtomicBool::new(false);
static LAST_SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    LAST_SIGNAL.store(sig, Ordering::SeqCst);
    STOP.store(true, Ordering::SeqCst);
}

/// Entry point of the hidden `__supervise SPEC` subcommand (and of the
/// `autodeploy-supervise` binary). `args` are the arguments after the
/// subcommand; the last one is the spec file. Detaches (fork + setsid), then
/// supervises until stopped. Never returns.
pub fn supervise_main(args: &[String]) -> ! {
    let Some(spec_path) = args.last().map(PathBuf::from) else {
        eprintln!(
            "autodeploy supervisor: missing the spec file argument (usage: __supervise SPEC)"
        );
        std::process::exit(2);
    };
    let spec: Spec = match std::fs::read(&spec_path)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "autodeploy supervisor: cannot read {}: {e}",
                spec_path.display()
            );
            std::process::exit(2);
        }
    };
    // Detach: the parent returns at once so the runner can reap it; the child
    // leads a new session, immune to the terminal's hangup and the runner's
    // process group signals.
    // SAFETY: called before this process starts any thread; the child only
    // continues the single-threaded program.
    match unsafe { libc::fork() } {
        -1 => {
            eprintln!(
                "autodeploy supervisor: fork failed: {}",
                std::io::Error::last_os_error()
            );
            std::process::exit(1);
        }
        0 => {}
        _ => std::process::exit(0),
    }
    // SAFETY: setsid and signal(2) with a handler that only stores atomics.
    unsafe {
        libc::setsid();
        libc::signal(
            libc::SIGTERM,
            on_signal as extern "C" fn(libc::c_int) as *const () as libc::sighandler_t,
        );
        libc::signal(
            libc::SIGINT,
            on_signal as extern "C" fn(libc::c_int) as *const () as libc::sighandler_t,
        );
        libc::signal(libc::SIGHUP, libc::SIG_IGN);
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    let code = match Supervisor::new(spec) {
        Ok(mut s) => s.run(),
        Err(e) => {
            eprintln!("autodeploy supervisor: {e}");
            1
        }
    };
    std::process::exit(code)
}

struct Supervisor {
    spec: Spec,
    log: Arc<AppLog>,
    status: SupervisorStatus,
}

impl Supervisor {
    fn new(spec: Spec) -> Result<Self, String> {
        let log = AppLog::open(&spec.log_file)
            .map_err(|e| format!("cannot open {}: {e}", spec.log_file.display()))?;
        let status = SupervisorStatus {
            supervisor_pid: std::process::id(),
            app_pid: None,
            state: "starting".into(),
            restarts: 0,
            last_exit: None,
            updated_at: utc_now(),
        };
        let s = Supervisor {
            spec,
            log: Arc::new(log),
            status,
        };
        s.save()?;
        Ok(s)
    }

    fn save(&self) -> Result<(), String> {
        let mut st = self.status.clone();
        st.updated_at = utc_now();
        let bytes = serde_json::to_vec_pretty(&st).map_err(|e| e.to_string())?;
        proc::write_atomic(&self.spec.status_file, &bytes)
            .map_err(|e| format!("cannot write {}: {e}", self.spec.status_file.display()))
    }

    fn set(&mut self, state: &str, app_pid: Option<u32>) {
        self.status.state = state.into();
        self.status.app_pid = app_pid;
        if let Err(e) = self.save() {
            self.system(&format!("could not record the supervisor state: {e}"));
        }
    }

    fn system(&self, msg: &str) {
        let tag = self.spec.tag_service.then_some(self.spec.service.as_str());
        write_line(&self.log, "system", tag, msg);
    }

    fn run(&mut self) -> i32 {
        if self.spec.front.is_some() {
            return self.run_front();
        }
        if self.spec.command.is_none() {
            return self.run_static();
        }
        let mut streak = 0u32;
        loop {
            if STOP.load(Ordering::SeqCst) {
                break;
            }
            let started = Instant::now();
            let outcome = self.run_once();
            match outcome {
                RunEnd::Stopped => break,
                RunEnd::Exited(how) => {
                    self.status.last_exit = Some(how.clone());
                    if started.elapsed() >= Duration::from_millis(self.spec.restart.short_run_ms) {
                        streak = 0;
                    }
                    streak += 1;
                    if streak >= self.spec.restart.max_crashes {
                        self.system(&format!(
                            "the app ended ({how}) {streak} times in a row, each within {} s of starting: giving up (crashloop); see the lines above",
                            self.spec.restart.short_run_ms / 1000
                        ));
                        self.set("crashloop", None);
                        return 3;
                    }
                    let delay = self.spec.restart.backoff(streak);
                    self.system(&format!(
                        "the app ended ({how}); restarting in {:.1} s",
                        delay.as_secs_f64()
                    ));
                    self.status.restarts += 1;
                    self.set("backoff", None);
                    let until = Instant::now() + delay;
                    while Instant::now() < until && !STOP.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
            }
        }
        self.system("stopped");
        self.set("stopped", None);
        0
    }

    fn run_once(&mut self) -> RunEnd {
        let command = self.spec.command.clone().unwrap_or_default();
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(exec_form(&command))
            .current_dir(&self.spec.dir)
            .env_clear()
            .envs(self.spec.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        self.spec.confinement.apply(&mut cmd);
        if let Some(f) = &self.spec.secrets_file {
            match crate::env::read_secrets(f) {
                Ok(vars) => {
                    cmd.envs(vars);
                }
                Err(e) => self.system(&format!(
                    "could not read the secrets file {}: {e}; starting without it",
                    f.display()
                )),
            }
        }
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                self.system(&format!("could not start `{command}`: {e}"));
                return RunEnd::Exited(format!("not started: {e}"));
            }
        };
        let pid = child.id();
        let tag = self.spec.tag_service.then(|| self.spec.service.clone());
        let readers: Vec<_> = [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .zip(["stdout", "stderr"])
        .filter_map(|(r, name)| r.map(|r| (r, name)))
        .map(|(r, name)| {
            let log = Arc::clone(&self.log);
            let tag = tag.clone();
            std::thread::spawn(move || pump(r, &log, name, tag.as_deref()))
        })
        .collect();
        self.system(&format!("started `{command}` (pid {pid})"));
        self.set("running", Some(pid));
        let end = loop {
            if STOP.load(Ordering::SeqCst) {
                let grace = Duration::from_millis(self.spec.restart.stop_grace_ms);
                self.system(&format!(
                    "stopping the app (signal {}): SIGTERM, SIGKILL after {} s",
                    LAST_SIGNAL.load(Ordering::SeqCst),
                    grace.as_secs()
                ));
                proc::signal_group(pid, libc::SIGTERM);
                let deadline = Instant::now() + grace;
                loop {
                    if let Ok(Some(_)) = child.try_wait() {
                        break;
                    }
                    if Instant::now() >= deadline {
                        proc::signal_group(pid, libc::SIGKILL);
                        let _ = child.wait();
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                break RunEnd::Stopped;
            }
            match child.try_wait() {
                Ok(Some(status)) => break RunEnd::Exited(status.to_string()),
                Ok(None) => std::thread::sleep(Duration::from_millis(100)),
                Err(e) => break RunEnd::Exited(format!("lost track of the app: {e}")),
            }
        };
        // Whatever the app left behind in its group (workers) goes with it,
        // so the port is free for the next start.
        proc::signal_group(pid, libc::SIGKILL);
        for r in readers {
            let _ = r.join();
        }
        end
    }

    fn listen_ip(&self) -> std::net::IpAddr {
        self.spec
            .listen
            .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]))
    }

    fn run_front(&mut self) -> i32 {
        let (Some(target), Some(port)) = (self.spec.front.clone(), self.spec.port) else {
            self.system("a front needs a target file and a port");
            self.set("crashloop", None);
            return 3;
        };
        let addr = std::net::SocketAddr::new(self.listen_ip(), port);
        match crate::front::serve(addr, target, &STOP) {
            Ok(()) => {
                self.system(&format!("front: serving {addr}"));
                self.set("running", Some(std::process::id()));
                while !STOP.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(100));
                }
                self.set("stopped", None);
                0
            }
            Err(e) => {
                self.system(&format!("front: could not listen on {addr}: {e}"));
                self.set("crashloop", None);
                3
            }
        }
    }

    fn run_static(&mut self) -> i32 {
        let (Some(root), Some(port)) = (self.spec.static_root.clone(), self.spec.port) else {
            self.system("a static service needs a folder and a port; nothing to serve");
            self.set("crashloop", None);
            return 3;
        };
        match crate::static_files::serve(&root, port, &STOP) {
            Ok(()) => {
                self.system(&format!("serving {} on port {port}", root.display()));
                self.set("running", Some(std::process::id()));
                while !STOP.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(100));
                }
                self.system("stopped");
                self.set("stopped", None);
                0
            }
            Err(e) => {
                self.system(&format!("could not listen on port {port}: {e}"));
                self.set("crashloop", None);
                3
            }
        }
    }
}

enum RunEnd {
    Stopped,
    Exited(String),
}

/// `exec CMD` for a simple command, so the app (not a shell) is the pid the
/// supervisor watches; compound commands run as given.
fn exec_form(command: &str) -> String {
    let compound = command
        .chars()
        .any(|c| matches!(c, ';' | '&' | '|' | '\n' | '(' | ')' | '`' | '<' | '>'))
        || command.contains("$(");
    let leading_assignment = command
        .split_whitespace()
        .next()
        .is_some_and(|w| w.contains('='));
    if compound || leading_assignment || command.trim_start().starts_with("exec ") {
        command.to_string()
    } else {
        format!("exec {command}")
    }
}

fn pump(r: Box<dyn Read + Send>, log: &AppLog, stream: &str, tag: Option<&str>) {
    let mut reader = BufReader::new(r);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let text = String::from_utf8_lossy(&buf);
                write_line(log, stream, tag, text.trim_end_matches(['\n', '\r']));
            }
        }
    }
}

/// One log line: `<RFC 3339 UTC> <stream> [<service>] <text>`.
pub(crate) fn write_line(log: &AppLog, stream: &str, tag: Option<&str>, text: &str) {
    log.write(&format_line(stream, tag, text));
}

fn format_line(stream: &str, tag: Option<&str>, text: &str) -> String {
    match tag {
        Some(t) => format!("{} {stream} [{t}] {text}", utc_now()),
        None => format!("{} {stream} {text}", utc_now()),
    }
}

/// Append lines from the runner itself (install/build output) in the same format.
pub(crate) fn append_lines(path: &Path, stream: &str, lines: &[String]) {
    let lines: Vec<String> = lines.iter().map(|l| format_line(stream, None, l)).collect();
    crate::applog::append(path, &lines);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RestartPolicy::default();
        let secs: Vec<u64> = (1..=8).map(|n| p.backoff(n).as_secs()).collect();
        assert_eq!(secs, vec![1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(p.backoff(200).as_secs(), 30);
    }

    #[test]
    fn simple_commands_are_execed_and_compound_ones_kept() {
        assert_eq!(exec_form("gunicorn app:app"), "exec gunicorn app:app");
        assert_eq!(exec_form("a && b"), "a && b");
        assert_eq!(exec_form("echo $(date)"), "echo $(date)");
        assert_eq!(exec_form("exec x"), "exec x");
        assert_eq!(exec_form("PORT=1 node a.js"), "PORT=1 node a.js");
    }
}
