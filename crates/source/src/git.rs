//! Fetch a git remote into a fresh working directory with the `git` program.
//!
//! - Shallow: `git clone --depth 1 --no-tags [--branch REF]`; a full commit
//!   SHA or a `refs/…` name is fetched with `git init` + `git fetch --depth 1
//!   origin REF` + `git checkout` (falling back to a full fetch when the
//!   server refuses to serve an unadvertised commit).
//! - Never interactive: no terminal prompts, no askpass, ssh in batch mode,
//!   stdin closed; a private repository fails fast.
//! - Tokens travel in an `Authorization` header set through git's
//!   `GIT_CONFIG_*` environment (not the command line, not the URL), scoped to
//!   the URL's origin, and are redacted from everything we report.
//! - Failures carry git's own last words plus a hint for the usual causes.
//!
//! Deliberately not here: a git implementation (we shell out to the real git),
//! submodules, LFS policy, caching of clones.

use crate::error::SourceError;
use crate::options::FetchOptions;
use crate::snapshot::Snapshot;
use autodeploy_core::{SourceInfo, SourceKind};
use std::ffi::{OsStr, OsString};
use std::io::{self, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Protocols git may use for our fetches (`GIT_ALLOW_PROTOCOL`); `ext::`
/// and friends, which run commands, are excluded.
const ALLOWED_PROTOCOLS: &str = "http:https:ssh:git:file";

/// Variables from the caller's environment that would redirect or trace a
/// git command (and could print the auth header).
const SCRUBBED_ENV: [&str; 17] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_CONFIG_PARAMETERS",
    "GIT_TRACE",
    "GIT_TRACE_CURL",
    "GIT_TRACE_CURL_NO_DATA",
    "GIT_TRACE_PACKET",
    "GIT_TRACE_SETUP",
    "GIT_TRACE2",
    "GIT_TRACE2_EVENT",
    "GIT_TRACE2_PERF",
    "GIT_CURL_VERBOSE",
];

/// Keep this much of git's stderr (the tail).
const STDERR_KEEP: usize = 64 * 1024;

/// How the requested ref is fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RefPlan {
    /// The remote's default branch.
    Default,
    /// `clone --branch NAME` (branch or tag).
    Branch(String),
    /// A full commit object name.
    Commit(String),
    /// A full ref name such as `refs/pull/1/head`.
    FullRef(String),
}

/// Clone `url` (as given to git) at `git_ref`. `input` is what the user
/// typed, recorded (redacted) in the snapshot.
pub(crate) fn fetch(
    input: &str,
    url: &str,
    git_ref: Option<&str>,
    opts: &FetchOptions,
) -> Result<Snapshot, SourceError> {
    let shown_url = crate::url::redact_userinfo(url);
    let plan = plan_ref(&shown_url, git_ref)?;
    // Checked (and its address pinned) before anything connects.
    let pinned = crate::network::pin(url, &shown_url, &opts.network)?;
    let mut git = Git::new(url, shown_url.clone(), opts);
    let url = git.pin(pinned.as_ref(), url);
    let url = url.as_str();

    let work = crate::make_work_dir(opts, "autodeploy-git-")?;
    let dest = work.path().join(repo_dir_name(url));

    match &plan {
        RefPlan::Default | RefPlan::Branch(_) => {
            let mut args: Vec<OsString> = ["clone", "--quiet", "--depth", "1", "--no-tags"]
                .map(OsString::from)
                .to_vec();
            if let RefPlan::Branch(b) = &plan {
                args.push("--branch".into());
                args.push(b.into());
            }
            args.push("--".into());
            args.push(url.into());
            args.push(dest.clone().into());
            git.run(&args, None, "clone", Some(&plan))?;
        }
        RefPlan::Commit(r) | RefPlan::FullRef(r) => {
            git.run(&os(&["init", "--quiet"]).with(&dest), None, "init", None)?;
            git.run(
                &os(&["remote", "add", "origin", "--"]).with(url),
                Some(&dest),
                "remote add",
                None,
            )?;
            let shallow = os(&["fetch", "--quiet", "--depth", "1", "--no-tags", "origin"]).with(r);
            let target = match git.run(&shallow, Some(&dest), "fetch", Some(&plan)) {
                Ok(_) => "FETCH_HEAD".to_string(),
                Err(first) if matches!(plan, RefPlan::Commit(_)) && !first_is_fatal(&first) => {
                    // The server would not serve an unadvertised commit: fetch
                    // every branch and look for it there.
                    git.run(
                        &os(&["fetch", "--quiet", "--no-tags", "origin"]),
                        Some(&dest),
                        "fetch",
                        Some(&plan),
                    )
                    .map_err(|_| first)?;
                    r.clone()
                }
                Err(e) => return Err(e),
            };
            let checkout = os(&[
                "-c",
                "advice.detachedHead=false",
                "checkout",
                "--quiet",
                "--detach",
            ])
            .with(&target);
            git.run(&checkout, Some(&dest), "checkout", Some(&plan))
                .map_err(|e| match (&plan, e) {
                    (RefPlan::Commit(sha), SourceError::GitFailed { url, detail, .. }) => {
                        SourceError::GitFailed {
                            url,
                            action: "checkout".into(),
                            detail,
                            hint: Some(format!(
                                "commit {sha} is not on any branch of this repository: check \
                                 the SHA, or give the branch or tag that contains it"
                            )),
                        }
                    }
                    (_, e) => e,
                })?;
        }
    }

    let head = git.run(
        &os(&["rev-parse", "--verify", "HEAD"]),
        Some(&dest),
        "rev-parse",
        None,
    )?;
    let commit = head.trim().to_ascii_lowercase();
    let commit = crate::gitdir::is_object_name(&commit).then_some(commit);
    if let (RefPlan::Commit(want), Some(got)) = (&plan, &commit) {
        if want != got {
            return Err(SourceError::GitFailed {
                url: shown_url,
                action: "checkout".into(),
                detail: format!("asked for commit {want} but got {got}"),
                hint: Some("give the full 40-character commit SHA".into()),
            });
        }
    }
    let root = dest.canonicalize().map_err(|e| SourceError::Unreadable {
        path: dest.clone(),
        source: e,
    })?;
    let info = SourceInfo {
        input: crate::url::redact_userinfo(input),
        kind: SourceKind::Git,
        commit,
    };
    Ok(Snapshot::owned(root, info, work))
}

/// The commit `url` (as given to git) has at `git_ref` (default: HEAD),
/// asked with `git ls-remote` under the same rules as a clone (protocol
/// allow-list, scrubbed environment, scoped tokens, network policy and
/// pinned address); a full SHA is its own answer. `Ok(None)`: the remote has
/// no such ref.
pub(crate) fn remote_commit(
    url: &str,
    git_ref: Option<&str>,
    opts: &FetchOptions,
) -> Result<Option<String>, SourceError> {
    let shown_url = crate::url::redact_userinfo(url);
    let plan = plan_ref(&shown_url, git_ref)?;
    if let RefPlan::Commit(sha) = &plan {
        return Ok(Some(sha.clone()));
    }
    let pinned = crate::network::pin(url, &shown_url, &opts.network)?;
    let mut git = Git::new(url, shown_url, opts);
    let url = git.pin(pinned.as_ref(), url);
    let args = os(&["ls-remote", "--"])
        .with(&url)
        .with(git_ref.unwrap_or("HEAD"));
    let out = git.run(&args, None, "ls-remote", Some(&plan))?;
    let mut first = None;
    for line in out.lines() {
        let Some((sha, name)) = line.split_once('\t') else {
            continue;
        };
        if !crate::gitdir::is_object_name(sha) {
            continue;
        }
        // A peeled annotated tag names the commit itself.
        if name.ends_with("^{}") {
            return Ok(Some(sha.to_ascii_lowercase()));
        }
        first.get_or_insert_with(|| sha.to_ascii_lowercase());
    }
    Ok(first)
}

/// Errors for which a second, fuller fetch cannot help.
fn first_is_fatal(e: &SourceError) -> bool {
    match e {
        SourceError::GitFailed { detail, .. } => {
            let d = detail.to_ascii_lowercase();
            is_auth_failure(&d) || d.contains("could not resolve") || d.contains("does not appear")
        }
        _ => true,
    }
}

fn plan_ref(shown_url: &str, git_ref: Option<&str>) -> Result<RefPlan, SourceError> {
    let Some(r) = git_ref else {
        return Ok(RefPlan::Default);
    };
    if let Err(reason) = check_ref(r) {
        return Err(SourceError::InvalidRef {
            input: shown_url.to_string(),
            git_ref: r.to_string(),
            reason,
        });
    }
    Ok(if crate::gitdir::is_object_name(r) {
        RefPlan::Commit(r.to_ascii_lowercase())
    } else if r.starts_with("refs/") {
        RefPlan::FullRef(r.to_string())
    } else {
        RefPlan::Branch(r.to_string())
    })
}

/// A conservative version of `git check-ref-format`: refuse anything git
/// would, or that could be mistaken for an option.
fn check_ref(r: &str) -> Result<(), String> {
    let fix = "use a branch name, a tag, or a full commit SHA";
    if r.is_empty() {
        return Err(format!("it is empty: {fix}"));
    }
    if r.len() > 255 {
        return Err(format!("it is longer than 255 characters: {fix}"));
    }
    if r.starts_with('-') {
        return Err(format!("it starts with '-': {fix}"));
    }
    if let Some(c) = r
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || "~^:?*[\\".contains(*c))
    {
        return Err(format!(
            "it contains {c:?}, which git does not allow in refs: {fix}"
        ));
    }
    if r.contains("..") || r.contains("@{") || r.contains("//") {
        return Err(format!("it contains '..', '@{{' or '//': {fix}"));
    }
    if r.ends_with('/') || r.ends_with('.') || r.ends_with(".lock") || r.starts_with('/') {
        return Err(format!("it starts or ends with '/', '.' or '.lock': {fix}"));
    }
    Ok(())
}

/// Folder name for the clone: the repository's name, so that analysis sees
/// `myapp/` rather than a random temp name.
fn repo_dir_name(url: &str) -> String {
    let trimmed = url.trim_end_matches('/');
    let trimmed = trimmed.strip_suffix(".git").unwrap_or(trimmed);
    let last = trimmed.rsplit(['/', ':', '\\']).next().unwrap_or("");
    let name: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name = name.trim_matches('.');
    if name.is_empty() {
        "repo".to_string()
    } else {
        name.chars().take(100).collect()
    }
}

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

trait With {
    fn with(self, last: impl AsRef<OsStr>) -> Self;
}

impl With for Vec<OsString> {
    fn with(mut self, last: impl AsRef<OsStr>) -> Self {
        self.push(last.as_ref().to_os_string());
        self
    }
}

/// Everything needed to run git commands for one URL.
struct Git<'a> {
    opts: &'a FetchOptions,
    shown_url: String,
    /// `(key, value)` config passed through the environment.
    config: Vec<(String, String)>,
    /// Strings that must never appear in what we report.
    secrets: Vec<String>,
    /// Whether an auth header is being sent.
    token_sent: bool,
    /// ssh: the host key is checked under this name (the URL names the
    /// pinned address).
    ssh_alias: Option<String>,
    /// Why a configured token was not sent, for the hint.
    token_withheld: Option<String>,
    is_ssh: bool,
}

impl<'a> Git<'a> {
    fn new(url: &str, shown_url: String, opts: &'a FetchOptions) -> Self {
        let mut secrets: Vec<String> = opts.secrets().into_iter().map(String::from).collect();
        let mut config = Vec::new();
        let mut token_sent = false;
        let mut token_withheld = None;
        let scheme = crate::url::scheme(url);
        let is_http = matches!(scheme.as_deref(), Some("http" | "https"));
        let is_ssh = matches!(scheme.as_deref(), Some("ssh" | "git+ssh" | "ssh+git"))
            || (scheme.is_none() && url.contains('@') && url.contains(':'));
        if let (true, Some(host), Some(origin)) =
            (is_http, crate::url::host(url), crate::url::origin(url))
        {
            match opts.token_for(&host) {
                Some((token, user)) => {
                    if scheme.as_deref() == Some("https") || crate::url::is_loopback(&host) {
                        let basic = base64(format!("{user}:{token}").as_bytes());
                        config.push((
                            format!("http.{origin}.extraHeader"),
                            format!("Authorization: Basic {basic}"),
                        ));
                        secrets.push(basic);
                        token_sent = true;
                    } else {
                        token_withheld = Some(
                            "a token is configured but tokens are never sent over plain http: \
                             use the https URL"
                                .to_string(),
                        );
                    }
                }
                None if !opts.host_tokens.is_empty() => {
                    let hosts: Vec<&str> =
                        opts.host_tokens.iter().map(|h| h.host.as_str()).collect();
                    token_withheld = Some(format!(
                        "a token is set but only sent to {}; for this host set GITLAB_HOST \
                         (with GITLAB_TOKEN) or GH_HOST (with GH_ENTERPRISE_TOKEN), or pass \
                         the token explicitly",
                        hosts.join(", ")
                    ));
                }
                None => {}
            }
        }
        Git {
            opts,
            shown_url,
            config,
            secrets,
            token_sent,
            ssh_alias: None,
            token_withheld,
            is_ssh,
        }
    }

    /// Reach the remote through the address the network policy checked;
    /// returns the URL to give git.
    fn pin(&mut self, pinned: Option<&crate::network::Pinned>, url: &str) -> String {
        let Some(p) = pinned else {
            return url.to_string();
        };
        self.config.extend(p.config.iter().cloned());
        self.ssh_alias = p.ssh_host_key_alias.clone();
        p.url.clone()
    }

    fn command(&self, args: &[OsString], cwd: Option<&Path>) -> Command {
        let mut cmd = Command::new(&self.opts.git_program);
        if let Some(dir) = cwd {
            cmd.arg("-C").arg(dir);
        }
        cmd.args(args);
        for k in SCRUBBED_ENV {
            cmd.env_remove(k);
        }
        let public_only = self.opts.network.public_only;
        cmd.env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_ASKPASS", "")
            .env("SSH_ASKPASS", "")
            .env("SSH_ASKPASS_REQUIRE", "never")
            .env("GCM_INTERACTIVE", "never")
            .env("GIT_ALLOW_PROTOCOL", ALLOWED_PROTOCOLS);
        if public_only {
            // Nothing may connect anywhere the policy did not check: no LFS
            // downloads from another server, ssh only to the pinned address.
            cmd.env("GIT_LFS_SKIP_SMUDGE", "1").env_remove("GIT_SSH");
            let alias = self
                .ssh_alias
                .as_deref()
                .map(|h| format!(" -o HostKeyAlias={h}"))
                .unwrap_or_default();
            cmd.env("GIT_SSH_COMMAND", format!("ssh -o BatchMode=yes{alias}"));
        } else if std::env::var_os("GIT_SSH_COMMAND").is_none()
            && std::env::var_os("GIT_SSH").is_none()
        {
            cmd.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
        }
        if !self.config.is_empty() {
            // Append to any GIT_CONFIG_* the caller already uses.
            let base: usize = std::env::var("GIT_CONFIG_COUNT")
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            for (i, (k, v)) in self.config.iter().enumerate() {
                cmd.env(format!("GIT_CONFIG_KEY_{}", base + i), k);
                cmd.env(format!("GIT_CONFIG_VALUE_{}", base + i), v);
            }
            cmd.env("GIT_CONFIG_COUNT", (base + self.config.len()).to_string());
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Run one git command; return its stdout, or a worded error.
    fn run(
        &self,
        args: &[OsString],
        cwd: Option<&Path>,
        action: &str,
        plan: Option<&RefPlan>,
    ) -> Result<String, SourceError> {
        let mut child = self.command(args, cwd).spawn().map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound || e.kind() == io::ErrorKind::PermissionDenied {
                SourceError::GitMissing {
                    url: self.shown_url.clone(),
                    program: self.opts.git_program.display().to_string(),
                    source: e,
                }
            } else {
                SourceError::GitFailed {
                    url: self.shown_url.clone(),
                    action: action.to_string(),
                    detail: format!("could not start git: {e}"),
                    hint: None,
                }
            }
        })?;
        let out = child
            .stdout
            .take()
            .map(|s| thread::spawn(move || read_tail(s)));
        let err = child
            .stderr
            .take()
            .map(|s| thread::spawn(move || read_tail(s)));
        let deadline = self.opts.git_timeout.map(|t| (Instant::now() + t, t));
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Ok(status),
                Ok(None) => {}
                Err(e) => break Err(e),
            }
            if let Some((at, limit)) = deadline {
                if Instant::now() >= at {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(SourceError::GitTimeout {
                        url: self.shown_url.clone(),
                        action: action.to_string(),
                        seconds: limit.as_secs(),
                    });
                }
            }
            thread::sleep(Duration::from_millis(20));
        };
        let stdout = out.and_then(|h| h.join().ok()).unwrap_or_default();
        let stderr = err.and_then(|h| h.join().ok()).unwrap_or_default();
        let status = status.map_err(|e| SourceError::GitFailed {
            url: self.shown_url.clone(),
            action: action.to_string(),
            detail: format!("could not wait for git: {e}"),
            hint: None,
        })?;
        if status.success() {
            return Ok(String::from_utf8_lossy(&stdout).into_owned());
        }
        let stderr = self.redact(&String::from_utf8_lossy(&stderr));
        let mut detail = stderr_tail(&stderr);
        if detail.is_empty() {
            detail = format!("git exited with {status} and printed no reason");
        }
        let hint = self.hint(&stderr, plan);
        Err(SourceError::GitFailed {
            url: self.shown_url.clone(),
            action: action.to_string(),
            detail,
            hint,
        })
    }

    fn redact(&self, text: &str) -> String {
        let mut t = text.to_string();
        for s in &self.secrets {
            if !s.is_empty() {
                t = t.replace(s.as_str(), "***");
            }
        }
        crate::url::redact_userinfo(&t)
    }

    /// A next step for the usual failure causes.
    fn hint(&self, stderr: &str, plan: Option<&RefPlan>) -> Option<String> {
        let s = stderr.to_ascii_lowercase();
        let mut hints: Vec<String> = Vec::new();
        if is_auth_failure(&s) {
            if self.token_sent {
                hints.push(
                    "a token was sent and the server refused it: check that it is valid, not \
                     expired, and can read this repository; otherwise check the URL"
                        .into(),
                );
            } else {
                hints.push(
                    "if the repository is private, set GITHUB_TOKEN (or GITLAB_TOKEN) or use an \
                     ssh URL with a loaded key; otherwise check the URL"
                        .into(),
                );
                if self.is_ssh {
                    hints.push("for ssh, add a key that can read it to ssh-agent (ssh-add)".into());
                }
            }
            if let Some(w) = &self.token_withheld {
                hints.push(w.clone());
            }
        } else if s.contains("host key verification failed") {
            hints.push(
                "the server's ssh host key is not trusted yet: check its fingerprint and add it \
                 with `ssh-keyscan HOST >> ~/.ssh/known_hosts`"
                    .into(),
            );
        } else if s.contains("remote branch") && s.contains("not found")
            || s.contains("couldn't find remote ref")
        {
            hints.push("check the branch or tag name (`git ls-remote URL` lists them)".into());
            if let Some(RefPlan::Branch(b)) = plan {
                if b.len() >= 7 && b.bytes().all(|c| c.is_ascii_hexdigit()) {
                    hints.push("for a commit, give the full 40-character SHA".into());
                }
            }
        } else if s.contains("could not resolve host") || s.contains("could not resolve hostname") {
            hints.push("check the host name and the network connection".into());
        } else if s.contains("does not appear to be a git repository")
            || s.contains("not found")
            || s.contains("returned error: 404")
        {
            hints.push("check the URL: it must point at a git repository".into());
        } else if s.contains("connection refused") || s.contains("timed out") {
            hints.push("check that the host is reachable from this machine".into());
        } else if s.contains("not allowed") && (s.contains("transport") || s.contains("protocol")) {
            hints.push("only https, ssh, git and file URLs are fetched".into());
        } else if s.contains("unadvertised object") || s.contains("not our ref") {
            hints.push("the server does not serve single commits: give a branch or tag".into());
        }
        (!hints.is_empty()).then(|| hints.join("; "))
    }
}

/// Messages git prints when credentials are missing or refused (GitHub answers
/// "Repository not found" for private repositories without auth).
fn is_auth_failure(lower: &str) -> bool {
    [
        "authentication failed",
        "could not read username",
        "could not read password",
        "repository not found",
        "permission denied (publickey",
        "terminal prompts disabled",
        "http basic: access denied",
        "invalid username or password",
        "returned error: 401",
        "returned error: 403",
    ]
    .iter()
    .any(|p| lower.contains(p))
}

/// The last few meaningful lines of git's stderr, on one line.
fn stderr_tail(stderr: &str) -> String {
    let lines: Vec<String> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .filter(|l| {
            !l.starts_with("Cloning into")
                && !l.starts_with("hint:")
                && !l.contains("--depth is ignored in local clones")
        })
        .map(|l| {
            if l.len() > 300 {
                let cut = (0..=300)
                    .rev()
                    .find(|i| l.is_char_boundary(*i))
                    .unwrap_or(0);
                format!("{}…", &l[..cut])
            } else {
                l.to_string()
            }
        })
        .collect();
    let start = lines.len().saturating_sub(4);
    lines[start..].join(" | ").trim_end_matches('.').to_string()
}

/// Read a pipe to the end, keeping only the last `STDERR_KEEP` bytes.
fn read_tail(mut r: impl Read) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match r.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                kept.extend_from_slice(&buf[..n]);
                if kept.len() > 2 * STDERR_KEEP {
                    kept.drain(..kept.len() - STDERR_KEEP);
                }
            }
        }
    }
    if kept.len() > STDERR_KEEP {
        kept.drain(..kept.len() - STDERR_KEEP);
    }
    kept
}

/// Standard base64 with padding (RFC 4648), for the Basic auth header.
pub(crate) fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn refs_are_planned_by_shape() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(plan_ref("u", None).unwrap(), RefPlan::Default);
        assert_eq!(
            plan_ref("u", Some("main")).unwrap(),
            RefPlan::Branch("main".into())
        );
        assert_eq!(
            plan_ref("u", Some(&sha.to_uppercase())).unwrap(),
            RefPlan::Commit(sha.into())
        );
        assert_eq!(
            plan_ref("u", Some("refs/pull/1/head")).unwrap(),
            RefPlan::FullRef("refs/pull/1/head".into())
        );
        for bad in ["-x", "a b", "a..b", "x~1", "a:b", "x/", "x.lock", "a@{1}"] {
            assert!(plan_ref("u", Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn repo_dir_names() {
        assert_eq!(repo_dir_name("https://github.com/o/my-app.git"), "my-app");
        assert_eq!(repo_dir_name("git@github.com:o/r"), "r");
        assert_eq!(repo_dir_name("file:///tmp/x/bare.git/"), "bare");
        assert_eq!(repo_dir_name("https://h/"), "h");
        assert_eq!(repo_dir_name("https://h/.."), "repo");
        assert_eq!(repo_dir_name("/a/b c"), "b-c");
    }

    #[test]
    fn stderr_tail_keeps_the_reason() {
        let s = "Cloning into 'x'...\nwarning: a\nfatal: repository 'y' not found\n\n";
        assert_eq!(
            stderr_tail(s),
            "warning: a | fatal: repository 'y' not found"
        );
    }

    #[test]
    fn secrets_are_redacted() {
        let opts = FetchOptions {
            git_token: Some("tok123".into()),
            ..Default::default()
        };
        let git = Git::new(
            "https://h.example/o/r",
            "https://h.example/o/r".into(),
            &opts,
        );
        assert!(git.token_sent);
        let basic = base64(b"x-access-token:tok123");
        let text = format!("Authorization: Basic {basic} tok123 https://tok123@h/x");
        let r = git.redact(&text);
        assert!(!r.contains("tok123") && !r.contains(&basic), "{r}");
    }

    #[test]
    fn tokens_are_not_sent_over_plain_http_or_to_other_hosts() {
        let opts = FetchOptions {
            git_token: Some("t".into()),
            ..Default::default()
        };
        assert!(!Git::new("http://h.example/r", String::new(), &opts).token_sent);
        assert!(Git::new("http://127.0.0.1:9/r", String::new(), &opts).token_sent);
        let opts = FetchOptions::from_env_with(|k| (k == "GITHUB_TOKEN").then(|| "g".into()));
        let g = Git::new("https://evil.example/r", String::new(), &opts);
        assert!(!g.token_sent && g.token_withheld.is_some());
        assert!(Git::new("https://github.com/o/r", String::new(), &opts).token_sent);
    }
}
