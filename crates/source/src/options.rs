//! `FetchOptions`: where fetched trees go, which credentials and ref to use,
//! and the caps that keep a hostile archive from filling the disk.
//!
//! Tokens are scoped: a token read from `GITHUB_TOKEN` is only ever sent to
//! GitHub, one from `GITLAB_TOKEN` only to GitLab (or `$GITLAB_HOST`), one
//! from `GH_ENTERPRISE_TOKEN` only to `$GH_HOST`, and no token is sent over
//! plain http except to this machine (loopback). An explicit
//! [`FetchOptions::git_token`] is sent to whatever https host the URL names,
//! because the caller chose it for that URL.
//!
//! This module deliberately does no I/O beyond reading environment variables
//! in [`FetchOptions::from_env`].

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Environment variable read by [`FetchOptions::from_env`] for `max_archive_bytes`.
pub const ENV_MAX_ARCHIVE_BYTES: &str = "AUTODEPLOY_MAX_ARCHIVE_BYTES";
/// Environment variable read by [`FetchOptions::from_env`] for `max_archive_entries`.
pub const ENV_MAX_ARCHIVE_ENTRIES: &str = "AUTODEPLOY_MAX_ARCHIVE_ENTRIES";
/// Environment variable read by [`FetchOptions::from_env`] for `max_file_bytes`.
pub const ENV_MAX_FILE_BYTES: &str = "AUTODEPLOY_MAX_FILE_BYTES";

/// Default cap on the bytes an archive may expand to: 2 GiB.
pub const DEFAULT_MAX_ARCHIVE_BYTES: u64 = 2 << 30;
/// Default cap on the number of members in an archive.
pub const DEFAULT_MAX_ARCHIVE_ENTRIES: u64 = 200_000;
/// Default cap on one extracted file: 1 GiB.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 1 << 30;
/// Default time a single git command may take.
pub const DEFAULT_GIT_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// A token that is only sent to one host.
#[derive(Clone, PartialEq, Eq)]
pub struct HostToken {
    /// Host name, lowercase, without scheme or port (`github.com`).
    pub host: String,
    /// The secret. Never printed: `Debug` redacts it.
    pub token: String,
}

impl fmt::Debug for HostToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostToken")
            .field("host", &self.host)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// How [`crate::fetch`] behaves. Build with [`FetchOptions::default`] (no
/// credentials) or [`FetchOptions::from_env`] (tokens and caps from the
/// environment), then override fields.
#[derive(Clone)]
pub struct FetchOptions {
    /// Folder under which a fresh, uniquely named directory is made for each
    /// clone or extraction (created if missing). `None`: the system temp dir.
    /// Local folders are never copied here: they are read in place.
    pub work_dir: Option<PathBuf>,
    /// Token sent (as an `Authorization` header, never in the URL) to the host
    /// of an https git URL. Takes precedence over `host_tokens`.
    pub git_token: Option<String>,
    /// Tokens that are only sent to their own host (filled from
    /// `GITHUB_TOKEN` / `GITLAB_TOKEN` by `from_env`).
    pub host_tokens: Vec<HostToken>,
    /// Branch, tag, full commit SHA or `refs/...` to check out. Same as
    /// writing `URL#ref`; giving both with different values is an error.
    pub git_ref: Option<String>,
    /// Cap on the total bytes an archive may expand to (declared and actual).
    pub max_archive_bytes: u64,
    /// Cap on the number of members in an archive (files, folders, metadata).
    pub max_archive_entries: u64,
    /// Cap on the size of one extracted file.
    pub max_file_bytes: u64,
    /// Longest a single git command may run; `None` for no limit.
    pub git_timeout: Option<Duration>,
    /// The git executable (`git`, looked up on `PATH`, by default).
    pub git_program: PathBuf,
    /// Which hosts may be connected to (default: any; the service: public
    /// addresses only, see [`crate::NetworkPolicy`]).
    pub network: crate::NetworkPolicy,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            work_dir: None,
            git_token: None,
            host_tokens: Vec::new(),
            git_ref: None,
            max_archive_bytes: DEFAULT_MAX_ARCHIVE_BYTES,
            max_archive_entries: DEFAULT_MAX_ARCHIVE_ENTRIES,
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            git_timeout: Some(DEFAULT_GIT_TIMEOUT),
            git_program: PathBuf::from("git"),
            network: crate::NetworkPolicy::default(),
        }
    }
}

impl fmt::Debug for FetchOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FetchOptions")
            .field("work_dir", &self.work_dir)
            .field("git_token", &self.git_token.as_ref().map(|_| "<redacted>"))
            .field("host_tokens", &self.host_tokens)
            .field("git_ref", &self.git_ref)
            .field("max_archive_bytes", &self.max_archive_bytes)
            .field("max_archive_entries", &self.max_archive_entries)
            .field("max_file_bytes", &self.max_file_bytes)
            .field("git_timeout", &self.git_timeout)
            .field("git_program", &self.git_program)
            .field("network", &self.network)
            .finish()
    }
}

impl FetchOptions {
    /// Defaults plus what the environment says (the same variables as the
    /// `gh` and `glab` CLIs):
    /// - `GITHUB_TOKEN` → sent only to `github.com`,
    /// - `GH_ENTERPRISE_TOKEN` (or `GITHUB_ENTERPRISE_TOKEN`) → sent only to `$GH_HOST`,
    /// - `GITLAB_TOKEN` → sent only to `$GITLAB_HOST`, or `gitlab.com` when unset,
    /// - `AUTODEPLOY_MAX_ARCHIVE_BYTES`, `AUTODEPLOY_MAX_ARCHIVE_ENTRIES`,
    ///   `AUTODEPLOY_MAX_FILE_BYTES` → the caps (plain integers; unparsable
    ///   values are ignored).
    pub fn from_env() -> Self {
        Self::from_env_with(|k| std::env::var(k).ok())
    }

    /// [`FetchOptions::from_env`] with an injectable lookup, for tests.
    pub fn from_env_with(get: impl Fn(&str) -> Option<String>) -> Self {
        let mut opts = FetchOptions::default();
        let nonempty = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        // (token variable, host variable, host when that variable is unset)
        let pairs = [
            ("GITHUB_TOKEN", None, Some("github.com")),
            ("GH_ENTERPRISE_TOKEN", Some("GH_HOST"), None),
            ("GITHUB_ENTERPRISE_TOKEN", Some("GH_HOST"), None),
            ("GITLAB_TOKEN", Some("GITLAB_HOST"), Some("gitlab.com")),
        ];
        for (token_var, host_var, default_host) in pairs {
            let Some(token) = nonempty(token_var) else {
                continue;
            };
            let host = host_var
                .and_then(&nonempty)
                .map(|h| host_of_setting(&h))
                .filter(|h| !h.is_empty())
                .or_else(|| default_host.map(String::from));
            if let Some(host) = host {
                if !opts.host_tokens.iter().any(|t| t.host == host) {
                    opts.host_tokens.push(HostToken { host, token });
                }
            }
        }
        let num = |k: &str| nonempty(k).and_then(|v| v.replace('_', "").parse::<u64>().ok());
        if let Some(n) = num(ENV_MAX_ARCHIVE_BYTES) {
            opts.max_archive_bytes = n;
        }
        if let Some(n) = num(ENV_MAX_ARCHIVE_ENTRIES) {
            opts.max_archive_entries = n;
        }
        if let Some(n) = num(ENV_MAX_FILE_BYTES) {
            opts.max_file_bytes = n;
        }
        opts
    }

    /// The token to send to `host` (lowercase), if any, and the username the
    /// host expects next to it in Basic auth.
    pub(crate) fn token_for(&self, host: &str) -> Option<(&str, &'static str)> {
        // The user name each forge expects beside a token in Basic auth.
        let user = if host.contains("gitlab") {
            "oauth2"
        } else if host.contains("bitbucket") {
            "x-token-auth"
        } else {
            "x-access-token"
        };
        if let Some(t) = self.git_token.as_deref().filter(|t| !t.is_empty()) {
            return Some((t, user));
        }
        self.host_tokens
            .iter()
            .find(|h| h.host.eq_ignore_ascii_case(host) && !h.token.is_empty())
            .map(|h| (h.token.as_str(), user))
    }

    /// Every secret these options hold, for redaction.
    pub(crate) fn secrets(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.host_tokens.iter().map(|h| h.token.as_str()).collect();
        if let Some(t) = &self.git_token {
            v.push(t);
        }
        v.retain(|s| !s.is_empty());
        v
    }
}

/// `https://gitlab.example.com:8443/` → `gitlab.example.com`.
fn host_of_setting(value: &str) -> String {
    let v = value.split_once("://").map_or(value, |(_, rest)| rest);
    let v = v.split('/').next().unwrap_or("");
    let v = v.rsplit_once('@').map_or(v, |(_, h)| h);
    let v = v.split(':').next().unwrap_or("");
    v.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> FetchOptions {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        FetchOptions::from_env_with(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_match_the_brief() {
        let o = FetchOptions::default();
        assert_eq!(o.max_archive_bytes, 2 * 1024 * 1024 * 1024);
        assert_eq!(o.max_archive_entries, 200_000);
        assert!(o.git_token.is_none() && o.host_tokens.is_empty());
    }

    #[test]
    fn env_tokens_are_scoped_to_their_host() {
        let o = env(&[("GITHUB_TOKEN", "ghp_x"), ("GITLAB_TOKEN", "glpat_y")]);
        assert_eq!(o.token_for("github.com"), Some(("ghp_x", "x-access-token")));
        assert_eq!(o.token_for("gitlab.com"), Some(("glpat_y", "oauth2")));
        assert_eq!(o.token_for("evil.example"), None);
    }

    #[test]
    fn enterprise_hosts_come_from_gh_host_and_gitlab_host() {
        let o = env(&[
            ("GITHUB_TOKEN", "a"),
            ("GH_ENTERPRISE_TOKEN", "e"),
            ("GH_HOST", "github.corp.example"),
            ("GITLAB_TOKEN", "b"),
            ("GITLAB_HOST", "https://gitlab.corp.example:8443/"),
        ]);
        assert_eq!(o.token_for("github.com").unwrap().0, "a");
        assert_eq!(o.token_for("github.corp.example").unwrap().0, "e");
        assert_eq!(o.token_for("gitlab.corp.example").unwrap().0, "b");
        assert_eq!(o.token_for("gitlab.com"), None);
        // An enterprise token without a host goes nowhere.
        let o = env(&[("GH_ENTERPRISE_TOKEN", "e")]);
        assert!(o.host_tokens.is_empty());
    }

    #[test]
    fn caps_come_from_env_and_bad_values_are_ignored() {
        let o = env(&[
            (ENV_MAX_ARCHIVE_BYTES, "1_000"),
            (ENV_MAX_ARCHIVE_ENTRIES, "12"),
            (ENV_MAX_FILE_BYTES, "lots"),
        ]);
        assert_eq!(o.max_archive_bytes, 1000);
        assert_eq!(o.max_archive_entries, 12);
        assert_eq!(o.max_file_bytes, DEFAULT_MAX_FILE_BYTES);
    }

    #[test]
    fn debug_never_prints_tokens() {
        let mut o = env(&[("GITHUB_TOKEN", "ghp_secret")]);
        o.git_token = Some("explicit_secret".into());
        let s = format!("{o:?}");
        assert!(!s.contains("secret"), "{s}");
    }
}
