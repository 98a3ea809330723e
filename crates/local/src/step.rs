//! Running one install/build/release command of a service to completion:
//! `sh -c` in the service's folder with exactly the environment given (the
//! caller's own environment never leaks in, beyond the few variables tools
//! need), output streamed line by line to the sink and the deployment log,
//! the last lines kept for the error when it fails.
//!
//! Deliberately no retries or policy: callers decide what a failure means.

use crate::error::{CommandFailure, LocalError};
use crate::{supervise, toolchain, Sink};
use autodeploy_core::LogStream;
use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

/// Lines of a step's output kept for its error (folded to 30 when shown).
const RECENT: usize = 300;

/// The environment every command starts from: PATH (runtime folders first)
/// and the few variables tools need from the user's environment. Nothing
/// else of the caller's environment (cloud credentials…) reaches the app.
pub(crate) fn base_env(rt: &toolchain::Runtime, path: &OsString) -> Vec<(String, String)> {
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

/// The step dies with the process that runs it: a deploy killed outright
/// (`kill -9`, an OOM kill) must not leave `pip` or `npm` writing into a
/// release folder that `destroy` is removing. Set after the account switch
/// (which clears it), so this closure comes after [`Confinement::apply`]'s.
/// What the step starts in turn is reached through the deployment's cgroup
/// and account instead (`sandbox::kill_all`).
///
/// [`Confinement::apply`]: crate::sandbox::Confinement::apply
fn die_with_caller(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    let caller = std::process::id() as libc::pid_t;
    // SAFETY: prctl and getppid are async-signal-safe; nothing is allocated.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The caller died between the fork and the prctl.
            if libc::getppid() != caller {
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

/// One install/build/release command run to completion.
pub(crate) struct Step<'a> {
    pub service: &'a str,
    pub dir: &'a Path,
    pub env: &'a [(String, String)],
    pub log: &'a Path,
    pub sink: Sink<'a>,
    /// How the command is confined (its account, cgroup, limits).
    pub confine: &'a crate::sandbox::Confinement,
}

impl Step<'_> {
    pub(crate) fn run(&self, step: &'static str, command: &str) -> Result<(), LocalError> {
        let header = format!("{}: {step}: {command}", self.service);
        (self.sink)(LogStream::System, &header);
        supervise::append_lines(self.log, "system", &[header]);
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(command)
            .current_dir(self.dir)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        self.confine.apply(&mut cmd);
        die_with_caller(&mut cmd);
        let mut child = cmd
            .spawn()
            .map_err(|e| LocalError::io("run `sh -c` in", self.dir, e))?;
        let recent = Mutex::new(VecDeque::with_capacity(RECENT));
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
        // The last 30 lines once stack frames are folded (the message
        // above a long stack stays in view).
        let tail = recent
            .into_inner()
            .map(|v| {
                let v: Vec<String> = v.into_iter().collect();
                autodeploy_core::logtail::tail(&v, 30).join("\n")
            })
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
                        if q.len() == RECENT {
                            q.pop_front();
                        }
                        q.push_back(line);
                    }
                }
            }
        }
    }
}
