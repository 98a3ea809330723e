//! The one error type of the local target, worded for the person who ran
//! `deploy`: what failed, where, and what to do next.
//!
//! Deliberately not a place for recovery logic: callers decide whether to keep
//! or remove a half-started deployment (see `stop_and_remove`).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("deployment id {id:?} cannot name a folder: use 1-64 letters, digits, '-' or '_'")]
    InvalidId { id: String },

    #[error("deployment {id} is already running locally (supervisor pid {pid}); destroy it first or pick another id")]
    AlreadyRunning { id: String, pid: u32 },

    #[error("the decision has no service the local runner can run (hosting local_process or local_static); plan it for the local target (\"run it locally\" or --target local)")]
    NothingToRun,

    #[error("{runtime} is needed by service {service} but is not installed on this machine; install it ({hint}) and deploy again")]
    RuntimeMissing {
        runtime: String,
        service: String,
        hint: String,
    },

    #[error("service {service} asks for {asked}, and {have}; {hint}, then deploy again (or change that requirement if the app runs on a version this machine has)")]
    RuntimeVersionUnavailable {
        service: String,
        /// The runtime and requirement as the project writes it, and where
        /// (`python 3.14 (in .python-version)`).
        asked: String,
        /// What this machine has.
        have: String,
        hint: String,
    },

    #[error("{interpreter} cannot create the virtual environment service {service} needs (its {missing} module is missing); {hint}, then deploy again")]
    RuntimeBroken {
        service: String,
        /// `python 3.11.2 at /usr/bin/python3.11`.
        interpreter: String,
        missing: String,
        hint: String,
    },

    #[error("service {service} needs {what}, which the local runner does not provide; {hint}")]
    NotProvided {
        service: String,
        what: String,
        hint: String,
    },

    #[error("the local {engine} could not be provided: {reason}; {hint}")]
    DataService {
        engine: &'static str,
        reason: String,
        hint: String,
    },

    #[error("could not create the system account {name:?} that data servers run as ({reason}); create it yourself (useradd --system {name}) or run autodeploy as a regular user")]
    Account { name: String, reason: String },

    #[error("the deployment's processes cannot be confined: {reason}; {hint}")]
    Confinement { reason: String, hint: String },

    #[error("the disk holding {path} has {free_mib} MiB free and a deploy needs at least {need_mib} MiB (the copy, its runtime and packages); free some space (`autodeploy destroy` of deployments you no longer need, `autodeploy list`) or set AUTODEPLOY_HOME to a folder on a larger disk")]
    NoSpace {
        path: PathBuf,
        free_mib: u64,
        need_mib: u64,
    },

    #[error("service {service} has no start command (analysis found none); add a Procfile or a start script and deploy again")]
    NoStartCommand { service: String },

    #[error("port {port} is not free on this machine ({source}); choose another port or stop what uses it")]
    PortUnavailable {
        port: u16,
        #[source]
        source: std::io::Error,
    },

    #[error("could not {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{0}")]
    CommandFailed(Box<CommandFailure>),

    #[error("the supervisor for {id} did not start ({reason}); see {log}")]
    SupervisorFailed {
        id: String,
        reason: String,
        log: PathBuf,
    },

    #[error("service {service} did not answer {url} with HTTP 2xx/3xx within {seconds} s (last attempt: {last}); it is left running so you can look; its last lines:\n{tail}")]
    Unhealthy {
        service: String,
        url: String,
        seconds: u64,
        last: String,
        tail: String,
    },

    #[error("service {service} exited ({exit}) {exits} time(s) before it answered, so it was stopped; its last lines:\n{tail}\nfix the error above (a missing setting: `--env NAME=VALUE`, a secret: `--secret NAME`) and deploy again")]
    Crashed {
        service: String,
        exits: u32,
        exit: String,
        tail: String,
    },

    #[error("the new version did not come up, so it was stopped and release {release} keeps serving {serving}: {cause}")]
    RedeployFailed {
        cause: Box<LocalError>,
        /// The URL still served by the previous release.
        serving: String,
        release: u32,
    },

    #[error("the local state in {path} is unreadable ({reason}); if the app is gone, delete {dir} by hand")]
    BadState {
        path: PathBuf,
        dir: PathBuf,
        reason: String,
    },

    #[error("could not stop process {pid} of deployment {id}: {reason}")]
    StopFailed {
        id: String,
        pid: u32,
        reason: String,
    },
}

/// An install/build/release command that failed (boxed: it carries its output).
#[derive(Debug)]
pub struct CommandFailure {
    pub service: String,
    /// `runtime`, `install`, `build` or `release`.
    pub step: &'static str,
    pub command: String,
    pub dir: PathBuf,
    pub status: String,
    /// Its last 30 output lines.
    pub tail: String,
}

impl std::fmt::Display for CommandFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "service {}: the {} step `{}` failed ({}) in {}; last lines of its output:\n{}\nfix the project (or the command) and deploy again",
            self.service,
            self.step,
            self.command,
            self.status,
            self.dir.display(),
            self.tail
        )
    }
}

impl LocalError {
    /// Whether this says what the app does when it runs (it crashed, did not
    /// answer, its release step failed) rather than what this machine lacks
    /// (a runtime, a package manager's build, a data server, free space):
    /// a rehearsal that fails for the first reason stops a cloud deploy; one
    /// that fails for the second is skipped, said so.
    pub fn is_about_the_app(&self) -> bool {
        match self {
            LocalError::Unhealthy { .. }
            | LocalError::Crashed { .. }
            | LocalError::NoStartCommand { .. } => true,
            LocalError::CommandFailed(f) => f.step == "release",
            _ => false,
        }
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        LocalError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
