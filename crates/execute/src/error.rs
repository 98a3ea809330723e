//! The execute stage's error: which phase failed, why, and what to do next.
//! One place words failures for people (the CLI prints `Display`, the service
//! stores it in the deployment's `error`).

use autodeploy_core::Phase;

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("could not read the source {input}: {source}")]
    Source {
        input: String,
        #[source]
        source: autodeploy_source::SourceError,
    },
    #[error("could not analyse the source: {0}")]
    Analyze(#[from] autodeploy_analyze::AnalyzeError),
    #[error("could not decide the infrastructure: {0}")]
    Decide(String),
    #[error("could not write the deployment files: {0}")]
    Render(#[from] autodeploy_render::RenderError),
    #[error("{phase} failed: {message}")]
    Phase {
        phase: &'static str,
        message: String,
    },
    #[error("store: {0}")]
    Store(#[from] autodeploy_store::StoreError),
    #[error("{0}")]
    Secret(#[from] autodeploy_store::secrets::SealError),
    #[error("deployment {id} not found; `autodeploy list` shows the known ones")]
    NotFound { id: String },
    #[error("{0}")]
    Invalid(String),
    #[error("cancelled")]
    Cancelled,
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

impl ExecError {
    pub fn phase(phase: Phase, message: impl Into<String>) -> Self {
        ExecError::Phase {
            phase: phase.as_str(),
            message: message.into(),
        }
    }

    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        ExecError::Io {
            what: what.into(),
            source,
        }
    }

    /// Worth retrying the whole job later (a lock or a throttled API), as
    /// opposed to a mistake that will fail the same way again.
    pub fn is_transient(&self) -> bool {
        match self {
            ExecError::Store(_) => true,
            ExecError::Phase { message, .. } => {
                let m = message.to_ascii_lowercase();
                m.contains("state lock")
                    || m.contains("throttl")
                    || m.contains("rate exceeded")
                    || m.contains("too many requests")
            }
            _ => false,
        }
    }
}
