//! The command line's own failures (a deployment that does not exist, a bad
//! flag value, a confirmation nobody can give), typed so that `--json` can
//! name each with a stable code, and [`Failure`]: any error of a command as
//! it is shown — a code asked of the typed error in its chain (never read
//! from the text), the message, an optional hint, and the exit code.
//!
//! Deliberately not here: wording the stage errors (each stage's error type
//! words its own failures and names its own code).

use std::process::ExitCode;

/// Exit code for "nothing deployable was found".
pub const EXIT_NOTHING_FOUND: u8 = 3;
/// Exit code for "the source could not be fetched or read".
pub const EXIT_SOURCE: u8 = 4;
/// Exit code for a usage error (clap's own).
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// No deployment has this id, id prefix or name.
    #[error("no deployment {id:?}")]
    NotFound { id: String },
    /// An id prefix or name that matches more than one deployment.
    #[error("{id:?} matches {} deployments ({})", matches.len(), matches.join(", "))]
    Ambiguous { id: String, matches: Vec<String> },
    /// A flag or argument whose value cannot be used.
    #[error("{message}")]
    InvalidArgument {
        message: String,
        hint: Option<String>,
    },
    /// The command would change something and nobody can confirm it.
    #[error("refusing to go ahead without confirmation: stdin is not a terminal")]
    ConfirmationRequired,
    /// The person answered no.
    #[error("{what}: the question was answered no")]
    Declined { what: &'static str },
    /// Another process is executing the deployment right now.
    #[error("{id} is being executed by another process right now (status {status})")]
    Busy { id: String, status: String },
    /// `deploy` of a source that is deployed to that cloud already.
    #[error("{name} ({id}) is already deployed from this source to {cloud}")]
    AlreadyDeployed {
        id: String,
        name: String,
        cloud: String,
        /// ` --as NAME` when the acting user is not the default one.
        as_flag: String,
    },
    /// The deployment is destroyed; it cannot be redeployed.
    #[error("{id} was destroyed")]
    Destroyed { id: String },
    /// `--as` names no user of the store.
    #[error("no user named {name:?} in this store")]
    UnknownUser { name: String, known: Vec<String> },
    /// The deployment exists but belongs to another user than the acting one.
    #[error("{id} ({name}) belongs to user {owner}, not to {user}")]
    OwnedByOther {
        id: String,
        name: String,
        owner: String,
        user: String,
    },
}

impl CliError {
    pub fn invalid(message: impl Into<String>, hint: Option<&str>) -> Self {
        CliError::InvalidArgument {
            message: message.into(),
            hint: hint.map(str::to_string),
        }
    }

    /// The stable, machine-readable name of this failure.
    pub fn code(&self) -> &'static str {
        match self {
            CliError::NotFound { .. } => "not_found",
            CliError::Ambiguous { .. } => "ambiguous_id",
            CliError::InvalidArgument { .. } => "invalid_argument",
            CliError::ConfirmationRequired => "confirmation_required",
            CliError::Declined { .. } => "declined",
            CliError::Busy { .. } => "busy",
            CliError::Destroyed { .. } => "destroyed",
            CliError::AlreadyDeployed { .. } => "already_deployed",
            CliError::UnknownUser { .. } => "unknown_user",
            CliError::OwnedByOther { .. } => "owned_by_other_user",
        }
    }

    /// What to do next.
    pub fn hint(&self) -> Option<String> {
        match self {
            CliError::NotFound { .. } => {
                Some("`autodeploy list --all` shows the known ones".into())
            }
            CliError::Ambiguous { .. } => Some("give more of the id".into()),
            CliError::InvalidArgument { hint, .. } => hint.clone(),
            CliError::ConfirmationRequired => Some("pass --yes to confirm".into()),
            CliError::Declined { .. } => None,
            CliError::Busy { .. } => Some("wait for it, or stop that process first".into()),
            CliError::Destroyed { .. } => Some("deploy it again with `autodeploy deploy`".into()),
            CliError::AlreadyDeployed { id, as_flag, .. } => Some(format!(
                "`autodeploy redeploy {id}{as_flag}` updates it; pass --another to make a second deployment"
            )),
            CliError::UnknownUser { known, .. } => Some(format!(
                "the users of this store: {}; `autodeploy users add NAME` makes one",
                known.join(", ")
            )),
            CliError::OwnedByOther { owner, .. } => Some(format!(
                "act as its owner: add `--as {0}` (or set AUTODEPLOY_USER={0}); \
                 `autodeploy list --all-users` shows every user's deployments",
                crate::cmd::common::shell_word(owner)
            )),
        }
    }
}

/// A command's failure as it is shown: on stderr as text, or under `--json`
/// as one line `{"error":{"code","message","hint"}}`.
#[derive(Debug, serde::Serialize)]
pub struct Failure {
    /// Stable snake_case code, from the first typed error of the chain.
    pub code: &'static str,
    /// The whole message (every cause, `: `-joined), each line made safe to print.
    pub message: String,
    /// What to do next, when the error says more than its message.
    pub hint: Option<String>,
    #[serde(skip)]
    pub exit: u8,
}

impl Failure {
    /// Asks the typed errors in `err`'s chain for the code, hint and exit code.
    pub fn of(err: &anyhow::Error) -> Failure {
        let (code, hint) = code_of(err);
        // Errors quote repository and request text (archive entries, git's
        // stderr, app output): each line made safe to print.
        // Each cause once: an error that quotes its source in its own
        // message ("could not read the source X: <why>") is not followed
        // by that source again.
        let mut whole = String::new();
        for cause in err.chain() {
            let text = cause.to_string();
            if whole.contains(&text) {
                continue;
            }
            if !whole.is_empty() {
                whole.push_str(": ");
            }
            whole.push_str(&text);
        }
        let message = whole
            .lines()
            .map(|l| autodeploy_render::escape::display(l).into_owned())
            .collect::<Vec<_>>()
            .join("\n");
        Failure {
            code,
            message,
            hint,
            exit: exit_code_of(err),
        }
    }

    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.exit)
    }

    /// `{"error": {...}}` on one line.
    pub fn to_json(&self) -> String {
        serde_json::json!({ "error": self }).to_string()
    }
}

/// The first typed error of the chain names the code; `failed` when none
/// is typed (an I/O error is `io_failed`).
fn code_of(err: &anyhow::Error) -> (&'static str, Option<String>) {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<CliError>() {
            return (e.code(), e.hint());
        }
        if let Some(e) = cause.downcast_ref::<autodeploy_parse::RequestError>() {
            return (e.code(), None);
        }
        if let Some(e) = cause.downcast_ref::<crate::config::ConfigError>() {
            return (e.code(), e.hint());
        }
        if let Some(e) = cause.downcast_ref::<autodeploy_execute::ExecError>() {
            return (e.code(), None);
        }
        // Stage errors word their next step inside the message.
        if let Some(e) = cause.downcast_ref::<autodeploy_source::SourceError>() {
            return (e.code(), None);
        }
        if let Some(e) = cause.downcast_ref::<autodeploy_analyze::AnalyzeError>() {
            return (autodeploy_execute::analyze_code(e), None);
        }
        if let Some(e) = cause.downcast_ref::<autodeploy_decide::DecideError>() {
            return (autodeploy_execute::decide_code(e), None);
        }
        if let Some(e) = cause.downcast_ref::<autodeploy_render::RenderError>() {
            return (autodeploy_execute::render_code(e), None);
        }
        if let Some(e) = cause.downcast_ref::<autodeploy_store::StoreError>() {
            return (e.code(), None);
        }
        if cause
            .downcast_ref::<autodeploy_parse::ConfigError>()
            .is_some()
        {
            return ("invalid_llm_settings", None);
        }
        if cause.downcast_ref::<std::io::Error>().is_some() {
            return ("io_failed", None);
        }
    }
    ("failed", None)
}

/// Exit codes: 4 the source could not be fetched or read, 3 nothing
/// deployable found, 2 a request text that cannot be read (empty, too
/// long) as for clap's usage errors, 1 anything else.
fn exit_code_of(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if cause
            .downcast_ref::<autodeploy_parse::RequestError>()
            .is_some()
            || cause.downcast_ref::<crate::config::ConfigError>().is_some()
        {
            return EXIT_USAGE;
        }
        if cause
            .downcast_ref::<autodeploy_source::SourceError>()
            .is_some()
        {
            return EXIT_SOURCE;
        }
        if let Some(
            autodeploy_analyze::AnalyzeError::NothingFound { .. }
            | autodeploy_analyze::AnalyzeError::Empty { .. },
        ) = cause.downcast_ref::<autodeploy_analyze::AnalyzeError>()
        {
            return EXIT_NOTHING_FOUND;
        }
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn the_code_is_asked_of_the_first_typed_error_under_any_context() {
        let e = anyhow::Error::new(CliError::NotFound { id: "dep_x".into() })
            .context("while looking something up");
        let f = Failure::of(&e);
        assert_eq!(f.code, "not_found");
        assert_eq!(f.exit, 1);
        assert!(f.hint.unwrap().contains("autodeploy list"));

        let src: anyhow::Result<()> = Err(autodeploy_source::SourceError::EmptyInput.into());
        let f = Failure::of(&src.context("could not read").unwrap_err());
        assert_eq!((f.code, f.exit), ("source_missing", EXIT_SOURCE));

        let f = Failure::of(&anyhow::anyhow!("no type at all"));
        assert_eq!((f.code, f.exit), ("failed", 1));

        // A message that quotes its cause does not repeat it.
        let e = anyhow::Error::new(autodeploy_execute::ExecError::Source {
            input: "/nope".into(),
            source: autodeploy_source::SourceError::EmptyInput,
        });
        let f = Failure::of(&e.context("deploy failed"));
        let why = autodeploy_source::SourceError::EmptyInput.to_string();
        assert_eq!(f.message.matches(&why).count(), 1, "{}", f.message);
        assert!(f
            .message
            .starts_with("deploy failed: could not read the source /nope"));
        let f = Failure::of(&anyhow::anyhow!("no type at all"));
        assert_eq!((f.code, f.exit), ("failed", 1));
    }

    #[test]
    fn the_json_shape_is_one_line_with_code_message_and_hint() {
        let f = Failure::of(&CliError::ConfirmationRequired.into());
        let line = f.to_json();
        assert!(!line.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["error"]["code"], "confirmation_required");
        assert!(v["error"]["message"].as_str().unwrap().contains("stdin"));
        assert_eq!(v["error"]["hint"], "pass --yes to confirm");
        assert!(v["error"].get("exit").is_none());
    }
}
