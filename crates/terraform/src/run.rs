//! Running one terraform process: environment, process group, streaming
//! stdout and stderr line by line to the sink (redacted), keeping the tail for
//! errors, classifying failures (lock held / transient / permanent) and
//! retrying transient ones with exponential backoff.
//!
//! Processes: terraform runs in its own process group (its provider plugins
//! join it), so a Ctrl-C aimed at the caller's terminal does not hit it
//! mid-write; the caller decides:
//! - **cancel** ([`Terraform::with_cancel`]): SIGINT to the group — terraform
//!   finishes its in-flight calls, saves the state and releases the lock —
//!   then SIGKILL for the group after the grace;
//! - **the caller dies** (SIGKILL, crash): the kernel sends terraform SIGTERM
//!   (`PR_SET_PDEATHSIG`), which terraform handles like SIGINT; SIGPIPE is
//!   ignored in the child so that writing to the dead caller's pipes cannot
//!   kill it before it has saved its state. A terraform or provider that
//!   still lingers is stopped by [`stop_leftovers`] before the next run in
//!   that workspace;
//! - **after every run** the group is killed, so no provider plugin outlives
//!   the terraform that started it.
//!
//! Deliberately not here: which arguments each command gets (`commands.rs`).

use crate::discover::Terraform;
use crate::error::{FailureKind, TfError};
use crate::redact::Redactor;
use crate::workspace::{Backend, Workspace};
use autodeploy_core::LogStream;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

/// Receives every line of every terraform call as it comes.
pub type Sink<'a> = &'a (dyn Fn(LogStream, &str) + Sync);

/// Lines kept for an error when terraform printed no `Error:` block.
pub const TAIL_LINES: usize = 30;
/// Most lines kept from terraform's `Error:` blocks.
const ERROR_LINES: usize = 60;
/// Longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Text that means another run holds the state lock.
const LOCK_PATTERNS: &[&str] = &[
    "Error acquiring the state lock",
    "Error locking state",
    "Workspace is already locked",
    "state blob is already locked",
    "ConditionalCheckFailedException",
    "PreconditionFailed",
];

/// Text by which Terraform's providers report throttling.
const THROTTLE_PATTERNS: &[&str] = &[
    "Throttling",
    "Rate exceeded",
    "RequestLimitExceeded",
    "TooManyRequests",
    "SlowDown",
];

/// Text by which they report a timeout or a dropped connection.
const NETWORK_PATTERNS: &[&str] = &[
    "RequestTimeout",
    "i/o timeout",
    "TLS handshake timeout",
    "context deadline exceeded",
    "connection reset by peer",
    "broken pipe",
    "timeout while waiting for state",
];

/// Text by which Terraform reports a provider that did not start or answer.
const PROVIDER_START_PATTERNS: &[&str] = &[
    "timeout while waiting for plugin to start",
    "Plugin did not respond",
    "plugin exited before we could connect",
];

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Every line goes to the sink.
    Stream,
    /// Stdout is captured whole (JSON); stderr only feeds the error tail.
    Capture,
}

/// Which failures are worth another attempt.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Only a held lock (nothing was changed): `apply` of a saved plan.
    LockOnly,
    /// A held lock or a transient failure: commands safe to run again.
    Transient,
    /// A transient failure but not a held lock (the inner commands already
    /// retried the lock): `destroy`'s plan-then-apply.
    FailuresOnly,
}

pub(crate) struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    tail: VecDeque<String>,
    errors: Vec<String>,
}

impl Outcome {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// The `Error:` blocks when there are any, else the last lines.
    pub fn tail(&self) -> Vec<String> {
        if self.errors.is_empty() {
            self.tail.iter().cloned().collect()
        } else {
            self.errors.clone()
        }
    }

    fn text_contains(&self, pat: &str) -> bool {
        self.errors
            .iter()
            .chain(self.tail.iter())
            .any(|l| l.contains(pat))
            || self.stdout.contains(pat)
    }
}

#[derive(Default)]
struct Collected {
    tail: VecDeque<String>,
    errors: Vec<String>,
    in_error: bool,
}

impl Collected {
    fn push(&mut self, line: &str) {
        let bare = line.trim_start_matches(['│', '╷', '╵', ' ']);
        if bare.starts_with("Error:") {
            self.in_error = true;
        }
        if self.in_error && self.errors.len() < ERROR_LINES {
            self.errors.push(line.to_string());
        }
        if self.tail.len() == TAIL_LINES {
            self.tail.pop_front();
        }
        self.tail.push_back(line.to_string());
    }
}

/// Removes ANSI escape sequences (some subcommands colour even under -no-color).
pub(crate) fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

fn read_lines(reader: impl Read, mut each: impl FnMut(&str)) -> std::io::Result<()> {
    let mut r = BufReader::new(reader);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if r.read_until(b'\n', &mut buf)? == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&buf);
        each(&strip_ansi(text.trim_end_matches(['\n', '\r'])));
    }
}

impl Terraform {
    /// `terraform <args>` as shown in logs and errors.
    pub(crate) fn command_line(&self, args: &[String]) -> String {
        let name = self
            .bin
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "terraform".into());
        format!("{name} {}", args.join(" "))
    }

    /// The redactor for one workspace's calls.
    pub(crate) fn redactor_for(&self, ws: &Workspace) -> Redactor {
        let mut r = self.redactor.clone();
        for (k, v) in &ws.vars {
            r.add_var(k, v);
        }
        if let Backend::Pg { conn_str, .. } = &ws.backend {
            r.add_secret(conn_str);
        }
        r
    }

    /// Runs terraform once in the workspace directory and waits for it.
    pub(crate) fn run_once(
        &self,
        ws: &Workspace,
        args: &[String],
        mode: Mode,
        sink: Sink,
    ) -> Result<Outcome, TfError> {
        let redactor = self.redactor_for(ws);
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .current_dir(&ws.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: only async-signal-safe calls (prctl, signal, getppid)
        // between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM as libc::c_ulong) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                libc::signal(libc::SIGPIPE, libc::SIG_IGN);
                // The caller died between fork and prctl: do not start.
                if libc::getppid() != parent {
                    return Err(std::io::Error::other("the runner exited"));
                }
                Ok(())
            });
        }
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy();
            if k.starts_with("TF_CLI_ARGS")
                || matches!(
                    k.as_ref(),
                    "TF_WORKSPACE" | "TF_DATA_DIR" | "TF_PLUGIN_CACHE_DIR" | "TF_LOG"
                )
            {
                cmd.env_remove(k.as_ref());
            }
        }
        cmd.env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_INPUT", "0");
        for (k, v) in self.extra_env.iter().chain(ws.env().iter()) {
            cmd.env(k, v);
        }

        let mut child = cmd.spawn().map_err(|source| TfError::Io {
            action: "start terraform in",
            path: ws.dir.clone(),
            source,
        })?;
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(TfError::Io {
                action: "read terraform's output in",
                path: ws.dir.clone(),
                source: std::io::Error::other("pipes were not set up"),
            });
        };

        let collected = Mutex::new(Collected::default());
        let mut captured = String::new();
        let emit = |stream: LogStream, line: &str| {
            let line = redactor.redact(line);
            if let Ok(mut c) = collected.lock() {
                c.push(&line);
            }
            if mode == Mode::Stream {
                sink(stream, &line);
            }
        };
        let pgid = child.id() as libc::pid_t;
        let finished = std::sync::atomic::AtomicBool::new(false);
        let interrupted = std::sync::atomic::AtomicBool::new(false);
        let read_result = std::thread::scope(|s| {
            if self.cancel.is_some() {
                s.spawn(|| self.watch_cancel(pgid, &finished, &interrupted));
            }
            // When terraform exits its whole group goes (provider plugins,
            // anything holding its pipes), so the readers reach EOF.
            let waiter = s.spawn(|| {
                let status = child.wait();
                kill_group(pgid, libc::SIGKILL);
                finished.store(true, std::sync::atomic::Ordering::SeqCst);
                status
            });
            let err_reader = s.spawn(|| read_lines(stderr, |l| emit(LogStream::Stderr, l)));
            let out_result = match mode {
                Mode::Stream => read_lines(stdout, |l| emit(LogStream::Stdout, l)),
                Mode::Capture => BufReader::new(stdout)
                    .read_to_string(&mut captured)
                    .map(|_| ()),
            };
            let err_result = err_reader
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("stderr reader panicked")));
            let status = waiter
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("the waiter panicked")));
            out_result.and(err_result).and(status)
        });
        let status = read_result.map_err(|source| TfError::Io {
            action: "run terraform in",
            path: ws.dir.clone(),
            source,
        })?;
        if interrupted.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(TfError::Interrupted {
                command: self.command_line(args),
                dir: ws.dir.clone(),
            });
        }
        let c = collected.into_inner().unwrap_or_default();
        Ok(Outcome {
            code: status.code(),
            stdout: captured,
            tail: c.tail,
            errors: c.errors,
        })
    }

    /// Until `finished`: when the cancel flag turns true, SIGINT to the
    /// group, then SIGKILL after the grace.
    fn watch_cancel(
        &self,
        pgid: libc::pid_t,
        finished: &std::sync::atomic::AtomicBool,
        interrupted: &std::sync::atomic::AtomicBool,
    ) {
        use std::sync::atomic::Ordering::SeqCst;
        let mut sent: Option<std::time::Instant> = None;
        while !finished.load(SeqCst) {
            match sent {
                None if self.cancelled() => {
                    interrupted.store(true, SeqCst);
                    kill_group(pgid, libc::SIGINT);
                    sent = Some(std::time::Instant::now());
                }
                Some(at) if at.elapsed() >= self.interrupt_grace => {
                    kill_group(pgid, libc::SIGKILL);
                    return;
                }
                _ => {}
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The error for a failed run: a held lock, or a (transient or permanent) failure.
    pub(crate) fn failure(&self, ws: &Workspace, args: &[String], out: &Outcome) -> TfError {
        let command = self.command_line(args);
        if LOCK_PATTERNS.iter().any(|p| out.text_contains(p)) {
            let lock_id = out
                .errors
                .iter()
                .chain(out.tail.iter())
                .find_map(|l| {
                    l.trim_start_matches(['│', ' '])
                        .strip_prefix("ID:")
                        .map(|id| id.trim().to_string())
                })
                .filter(|id| !id.is_empty());
            return TfError::LockHeld {
                command,
                dir: ws.dir.clone(),
                lock_id,
                tail: out.tail(),
            };
        }
        let kind = failure_kind(out);
        TfError::Failed {
            command,
            dir: ws.dir.clone(),
            code: out.code,
            tail: out.tail(),
            transient: kind.is_transient(),
            kind,
        }
    }

    /// Runs `f` until it succeeds, fails for good, or the attempts run out;
    /// waits `backoff`, 2×, 4×… (capped at 60 s) between attempts.
    pub(crate) fn retrying<T>(
        &self,
        what: &str,
        retry: Retry,
        sink: Sink,
        mut f: impl FnMut() -> Result<T, TfError>,
    ) -> Result<T, TfError> {
        let mut attempt = 1;
        loop {
            let result = f();
            if self.cancelled() {
                return result;
            }
            let again = match &result {
                Err(TfError::LockHeld { .. }) => retry != Retry::FailuresOnly,
                Err(e @ TfError::Failed { .. }) => retry != Retry::LockOnly && e.is_transient(),
                _ => false,
            };
            if !again || attempt >= self.attempts {
                return result;
            }
            let delay = self
                .backoff
                .saturating_mul(1u32 << (attempt - 1).min(16))
                .min(MAX_BACKOFF);
            let reason = match &result {
                Err(TfError::LockHeld { .. }) => "the state lock is held by another run",
                _ => "a transient failure",
            };
            sink(
                LogStream::System,
                &format!(
                    "{what}: {reason}; trying again in {:.1} s (attempt {} of {})",
                    delay.as_secs_f64(),
                    attempt + 1,
                    self.attempts
                ),
            );
            std::thread::sleep(delay);
            attempt += 1;
        }
    }
}

/// What kind of failure a run's output reports: read here once, from
/// Terraform's own words, and kept as data in [`TfError`].
fn failure_kind(out: &Outcome) -> FailureKind {
    if THROTTLE_PATTERNS.iter().any(|p| out.text_contains(p)) {
        FailureKind::Throttled
    } else if NETWORK_PATTERNS.iter().any(|p| out.text_contains(p)) {
        FailureKind::Network
    } else if PROVIDER_START_PATTERNS.iter().any(|p| out.text_contains(p)) {
        FailureKind::ProviderStart
    } else {
        FailureKind::Other
    }
}

/// Send `signal` to process group `pgid` (ignored when it is gone).
fn kill_group(pgid: libc::pid_t, signal: libc::c_int) {
    if pgid > 1 {
        // SAFETY: kill(2) with a negative pid signals a process group; no memory is shared.
        unsafe {
            libc::kill(-pgid, signal);
        }
    }
}

/// Stop terraform (and provider) processes still running in `dir` — left by
/// a runner that died — before another run uses that workspace: SIGINT to
/// their process groups (terraform saves its state and releases the lock),
/// SIGKILL after `grace`. Returns how many process groups were found. Only
/// processes of this user are seen (`/proc/<pid>/cwd`).
pub fn stop_leftovers(dir: &std::path::Path, grace: Duration) -> usize {
    let Ok(dir) = dir.canonicalize() else {
        return 0;
    };
    let found = groups_in(&dir);
    for g in &found {
        kill_group(*g, libc::SIGINT);
    }
    // Wait for each group's leader (terraform) to finish saving its state;
    // what it leaves behind is killed right after.
    let deadline = std::time::Instant::now() + grace;
    while found.iter().any(|g| leader_alive(*g)) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    for g in groups_in(&dir) {
        kill_group(g, libc::SIGKILL);
    }
    found.len()
}

/// Kill, at once, the process groups working in `dir` whose leader
/// (terraform) is gone — provider plugins it left running, reparented. A
/// terraform still saving its state is left alone. Returns how many.
pub fn stop_orphans(dir: &std::path::Path) -> usize {
    let Ok(dir) = dir.canonicalize() else {
        return 0;
    };
    let orphans: Vec<libc::pid_t> = groups_in(&dir)
        .into_iter()
        .filter(|g| !leader_alive(*g))
        .collect();
    for g in &orphans {
        kill_group(*g, libc::SIGKILL);
    }
    orphans.len()
}

/// Whether process `g` (a group's leader) still runs (not gone, not a zombie).
fn leader_alive(g: libc::pid_t) -> bool {
    std::fs::read_to_string(format!("/proc/{g}/stat")).is_ok_and(|st| {
        !st.rsplit(')')
            .next()
            .is_some_and(|r| r.trim_start().starts_with('Z'))
    })
}

/// The process groups of the processes whose working folder is `dir`.
fn groups_in(dir: &std::path::Path) -> Vec<libc::pid_t> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in rd.flatten() {
        let Some(pid) = e
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<libc::pid_t>().ok())
        else {
            continue;
        };
        if pid as u32 == std::process::id() {
            continue;
        }
        let Ok(cwd) = std::fs::read_link(e.path().join("cwd")) else {
            continue;
        };
        if cwd != dir {
            continue;
        }
        // SAFETY: getpgid only reads the process table.
        let pgid = unsafe { libc::getpgid(pid) };
        if pgid > 1 && !out.contains(&pgid) {
            out.push(pgid);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansi_codes_are_removed() {
        assert_eq!(
            strip_ansi("\u{1b}[31mNo state file was found!\u{1b}[0m\u{1b}[0m"),
            "No state file was found!"
        );
    }

    fn outcome(lines: &[&str]) -> Outcome {
        let mut c = Collected::default();
        for l in lines {
            c.push(l);
        }
        Outcome {
            code: Some(1),
            stdout: String::new(),
            tail: c.tail,
            errors: c.errors,
        }
    }

    #[test]
    fn failures_are_classified_once_as_data() {
        let throttled = outcome(&[
            "Error: creating EC2 Instance: operation error EC2: RunInstances, https response error StatusCode: 503, RequestLimitExceeded: Request limit exceeded.",
        ]);
        assert_eq!(failure_kind(&throttled), FailureKind::Throttled);
        let network = outcome(&["Error: reading S3 Bucket: dial tcp: i/o timeout"]);
        assert_eq!(failure_kind(&network), FailureKind::Network);
        let slow_start = outcome(&[
            "Error: Failed to load plugin schemas",
            "Error while loading schemas for plugin components: Failed to obtain provider schema: Could not load the schema for provider registry.terraform.io/hashicorp/aws: failed to instantiate provider \"registry.terraform.io/hashicorp/aws\" to obtain schema: timeout while waiting for plugin to start..",
        ]);
        assert_eq!(failure_kind(&slow_start), FailureKind::ProviderStart);
        assert!(FailureKind::ProviderStart.is_transient());
        let other = outcome(&[
            "Error: Invalid value for variable",
            "  on variables.tf line 3",
        ]);
        assert_eq!(failure_kind(&other), FailureKind::Other);
        assert!(FailureKind::Throttled.is_transient() && !FailureKind::Other.is_transient());
    }

    #[test]
    fn error_blocks_are_kept_over_the_tail() {
        let mut c = Collected::default();
        for i in 0..100 {
            c.push(&format!("progress {i}"));
        }
        c.push("");
        c.push("Error: Error acquiring the state lock");
        c.push("");
        c.push("Lock Info:");
        c.push("  ID:        7a1c0b9e-0000");
        assert_eq!(c.tail.len(), TAIL_LINES);
        assert_eq!(c.errors[0], "Error: Error acquiring the state lock");
        assert_eq!(c.errors.len(), 4);
    }
}
