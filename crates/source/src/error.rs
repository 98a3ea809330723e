//! `SourceError`: every way the fetch stage can fail, worded for people.
//!
//! This is the one place that turns fetch failures into sentences. Each
//! message says what failed, where (path, URL or archive entry) and what to do
//! next. Values shown here are already redacted: no message ever contains a
//! token or the credentials part of a URL.
//!
//! It deliberately holds no logic for *detecting* failures; the modules that
//! fail build these values.

use std::fmt;
use std::path::PathBuf;

/// What the fetch stage accepts, repeated in several messages.
pub(crate) const ACCEPTED: &str = "a git URL (https://, ssh://, git://, file:// or \
git@host:owner/repo), a local folder, or a .zip, .tar.gz, .tgz or .tar archive";

/// A fetch failure. `Display` is the full, user-facing message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The input was empty or only whitespace.
    #[error("no source was given: pass {ACCEPTED}")]
    EmptyInput,

    /// A local path that does not exist (and does not look like a git URL).
    #[error(
        "source `{input}` does not exist on this machine{}",
        hint_suffix(hint.as_deref(), "check the path, or pass a git URL or an archive instead")
    )]
    NotFound {
        input: String,
        /// A concrete suggestion (e.g. the GitHub URL for `owner/repo`).
        hint: Option<String>,
    },

    /// The input exists (or has a scheme) but is not something we can fetch.
    #[error("cannot use `{input}` as a source: {reason}; accepted: {ACCEPTED}")]
    Unsupported { input: String, reason: String },

    /// The network policy refuses this source (the service fetches from
    /// public addresses only). Nothing was connected to.
    #[error("refused to fetch `{input}`: {reason}")]
    Forbidden { input: String, reason: String },

    /// A git ref (from `URL#ref` or `FetchOptions::git_ref`) is unusable.
    #[error("git ref `{git_ref}` for `{input}` is not usable: {reason}")]
    InvalidRef {
        input: String,
        git_ref: String,
        reason: String,
    },

    /// A path on disk could not be read.
    #[error(
        "cannot read `{}`: {source}; check that it exists and that this user may read it",
        path.display()
    )]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The working directory for a clone or an extraction could not be made.
    #[error(
        "cannot create a working directory under `{}`: {source}; choose a writable work \
         directory (FetchOptions::work_dir) or free some disk space",
        path.display()
    )]
    WorkDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The `git` program could not be started.
    #[error(
        "git is needed to fetch `{url}` but `{program}` could not be run ({source}); install \
         git (Debian/Ubuntu: apt-get install git, Fedora: dnf install git, macOS: \
         xcode-select --install or brew install git, Windows: https://git-scm.com) and retry"
    )]
    GitMissing {
        url: String,
        program: String,
        #[source]
        source: std::io::Error,
    },

    /// A git command ran and failed. `detail` is git's own reason (last lines of
    /// its stderr, redacted).
    #[error("git {action} of `{url}` failed: {detail}{}", hint_suffix(hint.as_deref(), ""))]
    GitFailed {
        url: String,
        /// `clone`, `fetch`, `checkout`, …
        action: String,
        detail: String,
        hint: Option<String>,
    },

    /// A git command took longer than `FetchOptions::git_timeout`.
    #[error(
        "git {action} of `{url}` did not finish within {seconds} s and was stopped; check the \
         network and the URL, or raise FetchOptions::git_timeout for very large repositories"
    )]
    GitTimeout {
        url: String,
        action: String,
        seconds: u64,
    },

    /// An archive entry would be unsafe to extract. Nothing was written.
    #[error(
        "refused archive `{}`: entry `{entry}` {reason}; nothing was extracted. Only regular \
         files and folders with relative paths inside the archive are accepted: re-create the \
         archive without that entry (for example with `git archive`)",
        archive.display()
    )]
    ArchiveUnsafe {
        archive: PathBuf,
        entry: String,
        reason: String,
    },

    /// An archive uses a feature we do not extract (encryption, an unusual
    /// compression method, sparse files, …). Nothing was written.
    #[error(
        "cannot extract archive `{}`: entry `{entry}` {reason}; re-create the archive as a \
         plain .zip (deflate) or .tar.gz, for example with `git archive`",
        archive.display()
    )]
    ArchiveUnsupported {
        archive: PathBuf,
        entry: String,
        reason: String,
    },

    /// An archive is over one of the size caps.
    #[error(
        "refused archive `{}`: {what}, over the cap of {}; nothing was kept. If you trust this \
         archive, raise the cap with the environment variable {env}=<number> (or \
         FetchOptions::{field})",
        archive.display(), Human(*cap)
    )]
    ArchiveTooLarge {
        archive: PathBuf,
        /// What went over, e.g. "it holds 250000 entries".
        what: String,
        /// The cap that was exceeded (bytes or entries; see `field`).
        cap: u64,
        /// Name of the `FetchOptions` field that sets this cap.
        field: &'static str,
        /// Name of the environment variable `FetchOptions::from_env` reads it from.
        env: &'static str,
    },

    /// The archive could not be parsed: corrupt, truncated or not an archive.
    #[error(
        "cannot read archive `{}`: {detail}; the file is corrupt, truncated or not really a \
         {format} archive: download or create it again",
        archive.display()
    )]
    ArchiveCorrupt {
        archive: PathBuf,
        format: &'static str,
        detail: String,
    },

    /// The archive holds no files.
    #[error(
        "archive `{}` contains no files, so there is nothing to deploy; check that the right \
         folder was archived",
        archive.display()
    )]
    ArchiveEmpty { archive: PathBuf },

    /// Writing the extracted tree failed (disk full, permissions, …).
    #[error(
        "failed to {action} `{}`: {source}; check free disk space and permissions of the work \
         directory",
        path.display()
    )]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl SourceError {
    /// A stable, machine-readable name of this failure (snake_case): scripts
    /// branch on it (`autodeploy … --json` errors), people read `Display`.
    pub fn code(&self) -> &'static str {
        match self {
            SourceError::EmptyInput => "source_missing",
            SourceError::NotFound { .. } => "source_not_found",
            SourceError::Unsupported { .. } => "source_unsupported",
            SourceError::Forbidden { .. } => "source_forbidden",
            SourceError::InvalidRef { .. } => "invalid_ref",
            SourceError::Unreadable { .. } => "source_unreadable",
            SourceError::WorkDir { .. } => "work_dir_failed",
            SourceError::GitMissing { .. } => "git_missing",
            SourceError::GitFailed { .. } => "git_failed",
            SourceError::GitTimeout { .. } => "git_timeout",
            SourceError::ArchiveUnsafe { .. } => "archive_unsafe",
            SourceError::ArchiveUnsupported { .. } => "archive_unsupported",
            SourceError::ArchiveTooLarge { .. } => "archive_too_large",
            SourceError::ArchiveCorrupt { .. } => "archive_corrupt",
            SourceError::ArchiveEmpty { .. } => "archive_empty",
            SourceError::Io { .. } => "source_io_failed",
        }
    }
}

fn hint_suffix(hint: Option<&str>, default: &str) -> String {
    match hint {
        Some(h) => format!("; {h}"),
        None if default.is_empty() => String::new(),
        None => format!("; {default}"),
    }
}

/// Formats a cap: whole MiB/GiB as "2 GiB (2147483648 bytes)", anything else
/// (entry counts, odd byte counts) as a plain number.
struct Human(u64);

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        const UNITS: [(u64, &str); 2] = [(1 << 30, "GiB"), (1 << 20, "MiB")];
        for (size, unit) in UNITS {
            // Units are powers of two: a mask tests "is a whole number of them".
            if n >= size && n & (size - 1) == 0 {
                return write!(f, "{} {unit} ({n} bytes)", n / size);
            }
        }
        write!(f, "{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_formats_byte_caps_and_counts() {
        assert_eq!(Human(2 << 30).to_string(), "2 GiB (2147483648 bytes)");
        assert_eq!(Human(3 << 20).to_string(), "3 MiB (3145728 bytes)");
        assert_eq!(Human(200_000).to_string(), "200000");
        assert_eq!(Human(1000).to_string(), "1000");
    }

    #[test]
    fn messages_name_the_next_step() {
        let e = SourceError::NotFound {
            input: "a/b".into(),
            hint: None,
        };
        assert!(e.to_string().contains("check the path"));
        let e = SourceError::ArchiveTooLarge {
            archive: "x.zip".into(),
            what: "it would write more than the cap".into(),
            cap: 1 << 30,
            field: "max_archive_bytes",
            env: "AUTODEPLOY_MAX_ARCHIVE_BYTES",
        };
        let s = e.to_string();
        assert!(s.contains("1 GiB"), "{s}");
        assert!(s.contains("AUTODEPLOY_MAX_ARCHIVE_BYTES"), "{s}");
    }
}
