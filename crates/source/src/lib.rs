//! The fetch stage: turn what the user pointed at — a git URL, a local folder
//! or an archive file — into a local tree plus its provenance
//! ([`Snapshot`]), ready for analysis.
//!
//! - Git URLs are shallow-cloned into a fresh working directory
//!   ([`git`](crate::git) module), never prompting for credentials.
//! - Local folders are read **in place**: never copied, never written; the
//!   commit comes from reading `.git` files ([`gitdir`](crate::gitdir)).
//! - Archives are validated entry by entry before anything is written, then
//!   extracted under byte and entry caps ([`archive`](crate::archive)).
//!
//! Deliberately not here: analysing the tree, caching fetched trees,
//! downloading archives over HTTP, or any printing — errors are typed
//! ([`SourceError`]) and worded in one place.
//!
//! ```no_run
//! let opts = autodeploy_source::FetchOptions::from_env();
//! let snap = autodeploy_source::fetch("https://github.com/o/r#main", &opts)?;
//! println!("{} at {:?}", snap.root.display(), snap.info.commit);
//! # Ok::<(), autodeploy_source::SourceError>(())
//! ```

mod archive;
mod classify;
mod error;
mod fingerprint;
mod git;
mod gitdir;
mod network;
mod options;
mod snapshot;
mod url;

pub use error::SourceError;
pub use fingerprint::fingerprint;
pub use network::{non_public_reason, NetworkPolicy};
pub use options::{
    FetchOptions, HostToken, DEFAULT_GIT_TIMEOUT, DEFAULT_MAX_ARCHIVE_BYTES,
    DEFAULT_MAX_ARCHIVE_ENTRIES, DEFAULT_MAX_FILE_BYTES, ENV_MAX_ARCHIVE_BYTES,
    ENV_MAX_ARCHIVE_ENTRIES, ENV_MAX_FILE_BYTES,
};
pub use snapshot::Snapshot;

use autodeploy_core::{SourceInfo, SourceKind};
use classify::Source;
use std::path::Path;

/// Fetch `input` (a git URL, optionally with `#ref`; a local folder; or a
/// `.zip`/`.tar.gz`/`.tgz`/`.tar` file) into a [`Snapshot`].
pub fn fetch(input: &str, opts: &FetchOptions) -> Result<Snapshot, SourceError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(SourceError::EmptyInput);
    }
    let option_ref = opts
        .git_ref
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    match classify::classify(input)? {
        Source::Git { url, git_ref } => {
            let git_ref = match (git_ref, option_ref) {
                (Some(a), Some(b)) if a != b => {
                    return Err(SourceError::InvalidRef {
                        input: url::redact_userinfo(input),
                        git_ref: b.to_string(),
                        reason: format!("the URL already asks for `#{a}`: give the ref only once"),
                    })
                }
                (Some(a), _) => Some(a),
                (None, b) => b.map(String::from),
            };
            git::fetch(input, &url, git_ref.as_deref(), opts)
        }
        other => {
            if let Some(r) = option_ref {
                return Err(SourceError::InvalidRef {
                    input: input.to_string(),
                    git_ref: r.to_string(),
                    reason: "refs only apply to git URLs, and this source is a local folder or \
                             an archive: drop the ref, or check the ref out yourself"
                        .into(),
                });
            }
            match other {
                Source::Path(path) => fetch_path(input, &path),
                Source::Archive { path, format } => archive::fetch(input, &path, format, opts),
                Source::Git { .. } => unreachable!("handled above"),
            }
        }
    }
}

/// The commit a git source names right now (`git ls-remote`, with every
/// rule of [`fetch`]: protocol allow-list, scrubbed `GIT_*` environment,
/// scoped tokens, the network policy and its pinned address), without
/// cloning. `Ok(None)`: not a git source, or no such ref on the remote.
/// A `#ref` in `input` and `opts.git_ref` combine as in [`fetch`].
pub fn remote_commit(input: &str, opts: &FetchOptions) -> Result<Option<String>, SourceError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(SourceError::EmptyInput);
    }
    let Source::Git { url, git_ref } = classify::classify(input)? else {
        return Ok(None);
    };
    let option_ref = opts
        .git_ref
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let git_ref = match (git_ref, option_ref) {
        (Some(a), Some(b)) if a != b => {
            return Err(SourceError::InvalidRef {
                input: url::redact_userinfo(input),
                git_ref: b.to_string(),
                reason: format!("the URL already asks for `#{a}`: give the ref only once"),
            })
        }
        (Some(a), _) => Some(a),
        (None, b) => b.map(String::from),
    };
    git::remote_commit(&url, git_ref.as_deref(), opts)
}

/// What kind of source `input` is (a git remote or repository, a local
/// folder, an archive), by the same rules [`fetch`] uses; reads file
/// metadata only.
pub fn source_kind(input: &str) -> Result<SourceKind, SourceError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(SourceError::EmptyInput);
    }
    Ok(match classify::classify(input)? {
        Source::Git { .. } => SourceKind::Git,
        Source::Path(_) => SourceKind::Path,
        Source::Archive { .. } => SourceKind::Archive,
    })
}

/// Refuse `input` now if the network policy would refuse to fetch it
/// (resolves its host; connects to nothing). Local sources pass (whether
/// they may be read is the caller's decision), and so does a host that does
/// not resolve right now: the fetch itself checks again and refuses it.
pub fn check_network(input: &str, policy: &NetworkPolicy) -> Result<(), SourceError> {
    if !policy.public_only || !is_network_url(input) {
        return Ok(());
    }
    let (base, _) = classify::split_ref(input.trim());
    let shown = url::redact_userinfo(base);
    network::pin_checked(base, &shown, policy, false).map(|_| ())
}

/// Whether `input` is a git URL fetched over the network (https, http, ssh,
/// git, or `user@host:path`) rather than something on this machine
/// (`file://`, a folder, an archive). Looks at the text only.
pub fn is_network_url(input: &str) -> bool {
    network::is_network_url(input.trim())
}

/// `input` safe to print or log: the credentials part of any URL in it
/// (`https://user:token@host`) is replaced by `***`. [`fetch`] already does
/// this for [`Snapshot::info`] and every [`SourceError`] message.
pub fn redact_input(input: &str) -> String {
    url::redact_userinfo(input)
}

/// A local folder, read in place.
fn fetch_path(input: &str, path: &Path) -> Result<Snapshot, SourceError> {
    let unreadable = |e| SourceError::Unreadable {
        path: path.to_path_buf(),
        source: e,
    };
    let root = path.canonicalize().map_err(unreadable)?;
    // Listing proves we can read it; an unreadable folder fails here, clearly.
    std::fs::read_dir(&root).map_err(unreadable)?;
    let info = SourceInfo {
        input: input.to_string(),
        kind: SourceKind::Path,
        commit: gitdir::head_commit(&root),
    };
    Ok(Snapshot::borrowed(root, info))
}

/// A fresh, uniquely named working directory under `opts.work_dir` (created
/// if missing) or the system temp dir, removed when the guard drops.
pub(crate) fn make_work_dir(
    opts: &FetchOptions,
    prefix: &str,
) -> Result<tempfile::TempDir, SourceError> {
    let base = opts.work_dir.clone().unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&base)
        .and_then(|()| tempfile::Builder::new().prefix(prefix).tempdir_in(&base))
        .map_err(|e| SourceError::WorkDir {
            path: base,
            source: e,
        })
}
