//! Running one terraform process: environment, process group, streaming
//! stdout and stderr line by line to the sink (redacted), keeping the tail for
//! errors, classifying failures (lock held / transient / permanent) and
//! retrying transient ones with exponential backoff.
//!
//! Killing: terraform runs in its own process group, so a Ctrl-C aimed at the
//! caller's terminal does not interrupt it mid-write. If the caller is killed
//! (SIGKILL, crash), the terraform child keeps running to completion on its
//! own — that is deliberate (killing terraform mid-apply loses state) and the
//! state lock it holds is released when it exits. Deliberately not here: which
//! arguments each command gets (`commands.rs`).

use crate::discover::Terraform;
use crate::error::TfError;
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

/// Text that means running again later may succeed.
const TRANSIENT_PATTERNS: &[&str] = &[
    "Throttling",
    "Rate exceeded",
    "RequestLimitExceeded",
    "TooManyRequests",
    "SlowDown",
    "RequestTimeout",
    "i/o timeout",
    "TLS handshake timeout",
    "context deadline exceeded",
    "connection reset by peer",
    "broken pipe",
    "timeout while waiting for state",
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
        let read_result = std::thread::scope(|s| {
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
            out_result.and(err_result)
        });
        let status = child.wait().map_err(|source| TfError::Io {
            action: "wait for terraform in",
            path: ws.dir.clone(),
            source,
        })?;
        read_result.map_err(|source| TfError::Io {
            action: "read terraform's output in",
            path: ws.dir.clone(),
            source,
        })?;
        let c = collected.into_inner().unwrap_or_default();
        Ok(Outcome {
            code: status.code(),
            stdout: captured,
            tail: c.tail,
            errors: c.errors,
        })
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
        TfError::Failed {
            command,
            dir: ws.dir.clone(),
            code: out.code,
            tail: out.tail(),
            transient: TRANSIENT_PATTERNS.iter().any(|p| out.text_contains(p)),
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
