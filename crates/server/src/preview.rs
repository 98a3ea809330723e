//! The synchronous previews behind `POST /v1/analyze`, `/v1/parse` and
//! `/v1/plan`: the same stage functions the CLI calls (fetch → analyze,
//! parse, decide, render), run on the blocking pool, with the analysis cache.
//!
//! The analysis cache key is (repository, commit, analyzer version) — never a
//! URL alone:
//! - a git URL's commit is resolved with `git ls-remote` (or taken from the
//!   ref when it is a full SHA), and `URL#ref → commit` is trusted for a few
//!   seconds; the analysis is only stored under a key whose commit is the one
//!   actually fetched;
//! - a local folder (when local sources are allowed) is keyed by a
//!   fingerprint of its listing (paths, sizes, modification times; the same
//!   folders the analyzer prunes are skipped), because a work tree can differ
//!   from its HEAD commit;
//! - a local archive by its path, size and modification time.
//!
//! Lookups go memory (LRU) → store → compute; concurrent requests for one key
//! compute once (a per-key `OnceCell`). Failures are not cached.
//!
//! On top of it, `POST /v1/plan` answers are kept serialised in a second LRU
//! keyed by (analysis key, request text, options): parse, decide and render
//! are pure, so a repeated preview of a pinned source costs one lookup.
//!
//! Deliberately not here: HTTP (handlers in `api`), executing anything.

use crate::metrics::Metrics;
use crate::ApiError;
use autodeploy_core::{Analysis, Cloud, Intent};
use autodeploy_store::Store;
use bytes::Bytes;
use lru::LruCache;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, UNIX_EPOCH};
use tokio::sync::OnceCell;

/// Plan answers kept in memory (each a few tens of KB).
const PLAN_CACHE_ENTRIES: usize = 512;
/// Longest `git ls-remote` may take.
const LS_REMOTE_TIMEOUT: Duration = Duration::from_secs(30);
/// A local folder with more entries than this is not cached (fingerprinting
/// it would cost as much as analysing it).
const MAX_FINGERPRINT_ENTRIES: usize = 50_000;
/// Folder names the analyzer never descends into (kept in step with its walk).
const SKIP_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "bower_components",
    "jspm_packages",
    ".venv",
    "__pycache__",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
];

type Shared = Result<Arc<Analysis>, ApiError>;
/// (URL, ref) whose commit was resolved.
type CommitKey = (String, Option<String>);

/// Where a `repo` string points, as far as the cache and the security rule care.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceClass {
    /// https/http/ssh/git URL or scp-like `git@host:path`.
    RemoteGit {
        url: String,
        git_ref: Option<String>,
    },
    /// `file://` git URL: on this machine.
    LocalGit {
        url: String,
        git_ref: Option<String>,
    },
    /// A folder or archive file on this machine.
    LocalPath,
}

/// Classify `repo` without touching the disk or network.
pub fn classify(repo: &str) -> SourceClass {
    let repo = repo.trim();
    let (url, git_ref) = match repo.split_once('#') {
        Some((u, r)) if !r.is_empty() => (u.to_string(), Some(r.to_string())),
        Some((u, _)) => (u.to_string(), None),
        None => (repo.to_string(), None),
    };
    let lower = url.to_ascii_lowercase();
    if ["https://", "http://", "ssh://", "git://"]
        .iter()
        .any(|p| lower.starts_with(p))
        || (lower.starts_with("git@") && lower.contains(':'))
    {
        SourceClass::RemoteGit { url, git_ref }
    } else if lower.starts_with("file://") {
        SourceClass::LocalGit { url, git_ref }
    } else {
        SourceClass::LocalPath
    }
}

/// The previews and the analysis cache of one API process.
pub struct Previews {
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    allow_local: bool,
    commit_ttl: Duration,
    lru: Mutex<LruCache<String, Arc<Analysis>>>,
    /// Serialised `POST /v1/plan` answers by [`plan_cache_key`].
    plans: Mutex<LruCache<String, Bytes>>,
    inflight: Mutex<HashMap<String, Arc<OnceCell<Shared>>>>,
    commits: Mutex<HashMap<CommitKey, (String, Instant)>>,
}

/// What `POST /v1/plan` answers.
#[derive(Debug, Serialize)]
pub struct PlanPreview {
    pub analysis: Arc<Analysis>,
    pub intent: Intent,
    /// "Understood: …" — the request in words.
    pub summary: String,
    pub decision: autodeploy_core::Decision,
    /// The rendered bundle: path → contents.
    pub files: BTreeMap<String, String>,
}

/// Options a preview or deployment may carry.
#[derive(Debug, Clone, Default, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RequestOptions {
    /// `local` runs the app on the worker's machine; otherwise the cloud the request names.
    #[serde(default)]
    pub target: Option<String>,
    /// Branch, tag or commit (git sources).
    #[serde(default, rename = "ref")]
    pub git_ref: Option<String>,
    /// Deployment name (prefix of resource names).
    #[serde(default)]
    pub name: Option<String>,
    /// Environment values for the app (`NAME` or `service:NAME` → value),
    /// kept for every redeploy. Not for secrets: send those in `secrets`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
}

/// At most this many values per deployment, each at most this long.
pub const MAX_VALUES: usize = 200;
pub const MAX_VALUE_BYTES: usize = 32 * 1024;

/// `NAME` or `service:NAME`, NAME an environment variable name.
pub fn valid_value_name(k: &str) -> bool {
    let (svc, name) = match k.split_once(':') {
        Some((s, n)) => (Some(s), n),
        None => (None, k),
    };
    let svc_ok = svc.is_none_or(|s| {
        !s.is_empty()
            && s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    });
    svc_ok
        && !name.is_empty()
        && name.len() <= 256
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

/// Check a map of app values (`options.env`, `secrets`).
pub fn validate_values(field: &str, values: &BTreeMap<String, String>) -> Result<(), ApiError> {
    if values.len() > MAX_VALUES {
        return Err(ApiError::bad_request(
            "invalid_option",
            format!("{field}: at most {MAX_VALUES} values"),
        ));
    }
    for (k, v) in values {
        if !valid_value_name(k) {
            return Err(ApiError::bad_request(
                "invalid_option",
                format!("{field}: {k:?} is not an environment variable name (letters, digits and _, not starting with a digit; `service:NAME` for one service)"),
            ));
        }
        if v.len() > MAX_VALUE_BYTES || v.contains(['\n', '\0']) {
            return Err(ApiError::bad_request(
                "invalid_option",
                format!("{field}.{k}: a value is one line of at most {MAX_VALUE_BYTES} bytes"),
            ));
        }
    }
    Ok(())
}

impl RequestOptions {
    /// Reject values the pipeline would not understand.
    pub fn validate(&self) -> Result<(), ApiError> {
        if let Some(t) = &self.target {
            if !matches!(t.as_str(), "local" | "aws" | "gcp" | "azure") {
                return Err(ApiError::bad_request(
                    "invalid_option",
                    format!("options.target {t:?} is not one of local, aws, gcp, azure"),
                ));
            }
        }
        for (field, v, max) in [
            ("options.ref", &self.git_ref, 256),
            ("options.name", &self.name, 64),
        ] {
            if let Some(v) = v {
                if v.is_empty() || v.len() > max || v.chars().any(char::is_control) {
                    return Err(ApiError::bad_request(
                        "invalid_option",
                        format!("{field} must be 1 to {max} printable characters"),
                    ));
                }
            }
        }
        validate_values("options.env", &self.env)
    }

    /// The cloud the options force, if any.
    pub fn cloud(&self) -> Option<Cloud> {
        match self.target.as_deref() {
            Some("local") => Some(Cloud::Local),
            Some("aws") => Some(Cloud::Aws),
            Some("gcp") => Some(Cloud::Gcp),
            Some("azure") => Some(Cloud::Azure),
            _ => None,
        }
    }
}

impl Previews {
    pub fn new(
        store: Arc<dyn Store>,
        metrics: Arc<Metrics>,
        entries: usize,
        commit_ttl: Duration,
        allow_local: bool,
    ) -> Self {
        Previews {
            store,
            metrics,
            allow_local,
            commit_ttl,
            lru: Mutex::new(LruCache::new(
                NonZeroUsize::new(entries.max(1)).unwrap_or(NonZeroUsize::MIN),
            )),
            plans: Mutex::new(LruCache::new(
                NonZeroUsize::new(PLAN_CACHE_ENTRIES).unwrap_or(NonZeroUsize::MIN),
            )),
            inflight: Mutex::new(HashMap::new()),
            commits: Mutex::new(HashMap::new()),
        }
    }

    /// Refuse a source this server may not read; call before anything else.
    pub fn check_source(&self, repo: &str) -> Result<SourceClass, ApiError> {
        let repo_trimmed = repo.trim();
        if repo_trimmed.is_empty() || repo_trimmed.len() > 2048 {
            return Err(ApiError::bad_request(
                "invalid_repo",
                "repo must be a git URL (or, when the server allows it, a local path) of at most 2048 characters",
            ));
        }
        if repo_trimmed.chars().any(char::is_control) {
            return Err(ApiError::bad_request(
                "invalid_repo",
                "repo contains control characters",
            ));
        }
        let class = classify(repo_trimmed);
        if !matches!(class, SourceClass::RemoteGit { .. }) && !self.allow_local {
            return Err(ApiError::bad_request(
                "local_source_forbidden",
                "this server only accepts git URLs (https://, ssh://, git@host:path); local \
                 folders, archives and file:// URLs need `autodeploy serve --allow-local-sources`",
            ));
        }
        Ok(class)
    }

    /// The analysis of `repo` at `git_ref` (from the cache when it can be).
    pub async fn analysis(
        &self,
        repo: &str,
        git_ref: Option<&str>,
    ) -> Result<Arc<Analysis>, ApiError> {
        let class = self.check_source(repo)?;
        let repo = repo.trim().to_string();
        let (key, expected_commit) = self.cache_key(&class, &repo, git_ref).await;
        self.analysis_keyed(repo, git_ref.map(str::to_string), key, expected_commit)
            .await
    }

    /// [`Self::analysis`] once the cache key is known (`None`: uncacheable).
    async fn analysis_keyed(
        &self,
        repo: String,
        git_ref: Option<String>,
        key: Option<String>,
        expected_commit: Option<String>,
    ) -> Result<Arc<Analysis>, ApiError> {
        let metrics = self.metrics.clone();
        let compute = {
            let repo = repo.clone();
            let git_ref = git_ref.clone();
            move || -> Result<Analysis, ApiError> {
                let started = Instant::now();
                let out = fetch_and_analyze(&repo, git_ref);
                metrics
                    .analysis_duration
                    .observe(&["preview"], started.elapsed().as_secs_f64());
                out
            }
        };
        let Some(key) = key else {
            self.metrics.analysis_cache.inc(&["uncacheable"]);
            return run_blocking(compute).await.map(Arc::new);
        };
        if let Some(a) = self.lru_get(&key) {
            self.metrics.analysis_cache.inc(&["memory"]);
            return Ok(a);
        }
        let cell = {
            let mut m = self
                .inflight
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            m.entry(key.clone()).or_default().clone()
        };
        let mut ran = false;
        let res = cell
            .get_or_init(|| {
                ran = true;
                self.load_or_compute(&key, expected_commit, compute)
            })
            .await
            .clone();
        if !ran {
            // Waited for another request computing (or loading) the same key.
            self.metrics.analysis_cache.inc(&["shared"]);
        }
        {
            let mut m = self
                .inflight
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if m.get(&key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
                m.remove(&key);
            }
        }
        res
    }

    fn lru_get(&self, key: &str) -> Option<Arc<Analysis>> {
        self.lru
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    async fn load_or_compute(
        &self,
        key: &str,
        expected_commit: Option<String>,
        compute: impl FnOnce() -> Result<Analysis, ApiError> + Send + 'static,
    ) -> Shared {
        // Another request may have filled memory while this one waited for the cell.
        if let Some(a) = self.lru_get(key) {
            self.metrics.analysis_cache.inc(&["memory"]);
            return Ok(a);
        }
        match self.store.cached_analysis(key).await {
            Ok(Some(v)) => match serde_json::from_value::<Analysis>(v) {
                Ok(a) => {
                    self.metrics.analysis_cache.inc(&["store"]);
                    let a = Arc::new(a);
                    self.remember(key, &a);
                    return Ok(a);
                }
                Err(e) => {
                    tracing::warn!(key, error = %e, "cached analysis unreadable; recomputing")
                }
            },
            Ok(None) => {}
            Err(e) => tracing::warn!(key, error = %e, "analysis cache lookup failed; computing"),
        }
        self.metrics.analysis_cache.inc(&["computed"]);
        let analysis = Arc::new(run_blocking(compute).await?);
        let fetched = analysis.source.commit.clone();
        if expected_commit.is_none() || expected_commit == fetched {
            match serde_json::to_value(&*analysis) {
                Ok(v) => {
                    if let Err(e) = self.store.put_cached_analysis(key, &v).await {
                        tracing::warn!(key, error = %e, "could not store the analysis in the cache");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "analysis not serialisable"),
            }
            self.remember(key, &analysis);
        }
        Ok(analysis)
    }

    fn remember(&self, key: &str, a: &Arc<Analysis>) {
        self.lru
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .put(key.to_string(), a.clone());
    }

    /// (cache key, the commit the key promises) — `None` key when the source
    /// cannot be pinned (ls-remote failed, huge folder…): then nothing is cached.
    async fn cache_key(
        &self,
        class: &SourceClass,
        repo: &str,
        option_ref: Option<&str>,
    ) -> (Option<String>, Option<String>) {
        let version = autodeploy_analyze::ANALYZER_VERSION;
        match class {
            SourceClass::RemoteGit { url, git_ref } | SourceClass::LocalGit { url, git_ref } => {
                let r = git_ref.as_deref().or(option_ref).map(str::to_string);
                match self.resolve_commit(url, r).await {
                    Some(commit) => (
                        Some(format!(
                            "git|{version}|{}|{commit}",
                            autodeploy_source::redact_input(url)
                        )),
                        Some(commit),
                    ),
                    None => (None, None),
                }
            }
            SourceClass::LocalPath => {
                let path = repo.to_string();
                let fp = tokio::task::spawn_blocking(move || fingerprint(Path::new(&path)))
                    .await
                    .ok()
                    .flatten();
                (fp.map(|fp| format!("path|{version}|{repo}|{fp}")), None)
            }
        }
    }

    async fn resolve_commit(&self, url: &str, git_ref: Option<String>) -> Option<String> {
        if let Some(r) = &git_ref {
            if r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Some(r.to_ascii_lowercase());
            }
        }
        let map_key = (url.to_string(), git_ref.clone());
        {
            let m = self
                .commits
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some((c, at)) = m.get(&map_key) {
                if at.elapsed() < self.commit_ttl {
                    return Some(c.clone());
                }
            }
        }
        let commit = ls_remote(url, git_ref.as_deref()).await?;
        let mut m = self
            .commits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if m.len() > 10_000 {
            m.clear();
        }
        m.insert(map_key, (commit.clone(), Instant::now()));
        Some(commit)
    }

    /// Parse a request with the rule-based parser.
    pub fn parse(&self, text: &str) -> Result<autodeploy_parse::ParseOutcome, ApiError> {
        check_request_text(text)?;
        Ok(parse_rules(text))
    }

    /// Everything but execute — analysis (cached), intent, decision, bundle —
    /// as the JSON body `POST /v1/plan` answers, from the response cache when
    /// it can be.
    ///
    /// parse → decide → render are pure functions of (analysis, request text,
    /// options), so once the analysis is pinned by its cache key (commit or
    /// folder fingerprint, analyzer version) the whole answer is too: the key
    /// here is (analysis key, request, options) and a new commit is a new key.
    pub async fn plan_json(
        &self,
        repo: &str,
        request: &str,
        options: &RequestOptions,
    ) -> Result<Bytes, ApiError> {
        options.validate()?;
        check_request_text(request)?;
        let class = self.check_source(repo)?;
        let repo = repo.trim().to_string();
        let (key, expected_commit) = self
            .cache_key(&class, &repo, options.git_ref.as_deref())
            .await;
        let plan_key = key.as_ref().map(|k| plan_cache_key(k, request, options));
        if let Some(pk) = &plan_key {
            let hit = self
                .plans
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(pk)
                .cloned();
            if let Some(body) = hit {
                self.metrics.plan_cache.inc(&["hit"]);
                return Ok(body);
            }
        }
        let analysis = self
            .analysis_keyed(repo, options.git_ref.clone(), key, expected_commit.clone())
            .await?;
        // Only an answer about the commit the key promises may be kept under it.
        let keep = plan_key
            .filter(|_| expected_commit.is_none() || expected_commit == analysis.source.commit);
        self.metrics.plan_cache.inc(&[if keep.is_some() {
            "miss"
        } else {
            "uncacheable"
        }]);
        let (request, options) = (request.to_string(), options.clone());
        let body = run_blocking(move || {
            let preview = plan_from(analysis, &request, &options)?;
            serde_json::to_vec(&preview)
                .map(Bytes::from)
                .map_err(|e| ApiError::Internal(format!("the plan is not serialisable: {e}")))
        })
        .await?;
        if let Some(pk) = keep {
            self.plans
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .put(pk, body.clone());
        }
        Ok(body)
    }
}

/// The response-cache key of a plan: SHA-256 over the analysis key, the
/// request text and the options, each length-prefixed so that no two
/// different triples collide by concatenation.
fn plan_cache_key(analysis_key: &str, request: &str, options: &RequestOptions) -> String {
    let options = serde_json::to_string(options).unwrap_or_default();
    let mut h = Sha256::new();
    for part in [analysis_key, request, options.as_str()] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    format!("{:x}", h.finalize())
}

/// The service's parser: the rule-based one, with its defaults (pure, so a
/// plan answer can be cached by its text).
fn parse_rules(text: &str) -> autodeploy_parse::ParseOutcome {
    autodeploy_parse::parse_with(text, &autodeploy_parse::ParseOptions::default())
}

/// Reject request texts the parser would refuse or truncate.
pub fn check_request_text(text: &str) -> Result<(), ApiError> {
    if text.trim().is_empty() {
        return Err(ApiError::bad_request(
            "invalid_request_text",
            "request must be a sentence saying what to deploy, e.g. \"deploy on AWS with Postgres\"",
        ));
    }
    if text.len() > autodeploy_parse::MAX_INPUT_BYTES {
        return Err(ApiError::bad_request(
            "invalid_request_text",
            format!(
                "request is longer than {} bytes; say it in fewer words",
                autodeploy_parse::MAX_INPUT_BYTES
            ),
        ));
    }
    Ok(())
}

fn plan_from(
    analysis: Arc<Analysis>,
    request: &str,
    options: &RequestOptions,
) -> Result<PlanPreview, ApiError> {
    let mut intent = parse_rules(request).intent;
    if let Some(c) = options.cloud() {
        intent.cloud = Some(c);
    }
    let opts = autodeploy_decide::DecideOptions {
        name: options.name.clone(),
        ..Default::default()
    };
    let decision = autodeploy_decide::decide(&analysis, &intent, &opts).map_err(|e| {
        ApiError::Unprocessable {
            code: "decide_failed",
            message: e.to_string(),
        }
    })?;
    let bundle = autodeploy_render::render(
        &decision,
        &analysis,
        &autodeploy_render::RenderOptions {
            intent: Some(intent.clone()),
        },
    )
    .map_err(|e| match e {
        autodeploy_render::RenderError::Unsupported { .. } => ApiError::Unprocessable {
            code: "unsupported",
            message: e.to_string(),
        },
        other => ApiError::Internal(format!("rendering the deployment files failed: {other}")),
    })?;
    Ok(PlanPreview {
        summary: autodeploy_parse::summarize(&intent),
        files: bundle
            .files
            .into_iter()
            .map(|f| (f.path, f.contents))
            .collect(),
        analysis,
        intent,
        decision,
    })
}

async fn run_blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(format!("a preview task panicked: {e}")))?
}

/// Fetch + analyze, as the CLI's `analyze` does.
fn fetch_and_analyze(repo: &str, git_ref: Option<String>) -> Result<Analysis, ApiError> {
    let mut opts = autodeploy_source::FetchOptions::from_env();
    // `repo#ref` already names the ref; giving it twice is an error in fetch.
    if git_ref.is_some() && !repo.contains('#') {
        opts.git_ref = git_ref;
    }
    let snapshot = autodeploy_source::fetch(repo, &opts).map_err(|e| ApiError::Unprocessable {
        code: "fetch_failed",
        message: e.to_string(),
    })?;
    let name_hint = name_hint(repo, &snapshot.root);
    autodeploy_analyze::analyze_dir(
        &snapshot.root,
        snapshot.info.clone(),
        &autodeploy_analyze::AnalyzeOptions {
            threads: 1,
            name_hint,
        },
    )
    .map_err(|e| ApiError::Unprocessable {
        code: match e {
            autodeploy_analyze::AnalyzeError::NothingFound { .. }
            | autodeploy_analyze::AnalyzeError::Empty { .. } => "nothing_to_deploy",
            _ => "analyze_failed",
        },
        message: e.to_string(),
    })
}

/// The repository or folder name, for a service at the root.
pub fn name_hint(source: &str, root: &Path) -> Option<String> {
    let trimmed = source
        .split('#')
        .next()
        .unwrap_or(source)
        .trim_end_matches('/');
    let looks_remote = trimmed.contains("://") || trimmed.starts_with("git@");
    let last = if looks_remote {
        trimmed
            .rsplit(['/', ':'])
            .next()
            .map(|s| s.trim_end_matches(".git").to_string())
    } else {
        std::fs::canonicalize(root)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
    };
    last.map(|s| {
        s.trim_end_matches(".zip")
            .trim_end_matches(".tar.gz")
            .trim_end_matches(".tgz")
            .to_string()
    })
    .filter(|s| !s.is_empty())
}

/// `git ls-remote URL REF` → the commit (peeled for annotated tags).
async fn ls_remote(url: &str, git_ref: Option<&str>) -> Option<String> {
    let mut cmd = tokio::process::Command::new("git");
    cmd.arg("ls-remote")
        .arg("--")
        .arg(url)
        .arg(git_ref.unwrap_or("HEAD"))
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "")
        .env("SSH_ASKPASS", "")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(LS_REMOTE_TIMEOUT, cmd.output())
        .await
        .ok()?
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut first = None;
    for line in text.lines() {
        let (sha, name) = line.split_once('\t')?;
        if sha.len() != 40 {
            continue;
        }
        if name.ends_with("^{}") {
            return Some(sha.to_string());
        }
        first.get_or_insert_with(|| sha.to_string());
    }
    first
}

/// A hash of a folder's listing (relative path, size, mtime) or of a file's
/// metadata; `None` when it cannot be read or is too large to be worth it.
pub fn fingerprint(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    let mut h = Sha256::new();
    let stamp = |m: &std::fs::Metadata| {
        m.modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    };
    if meta.is_file() {
        h.update(path.as_os_str().as_encoded_bytes());
        h.update(meta.len().to_le_bytes());
        h.update(stamp(&meta).to_le_bytes());
        return Some(hex(&h.finalize()));
    }
    let mut stack = vec![path.to_path_buf()];
    let mut entries: Vec<(String, u64, u128, bool)> = Vec::new();
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).ok()? {
            let e = e.ok()?;
            let name = e.file_name();
            let ft = e.file_type().ok()?;
            if ft.is_dir() && SKIP_DIRS.iter().any(|s| name.as_os_str() == *s) {
                continue;
            }
            let p = e.path();
            let rel = p.strip_prefix(path).ok()?.to_string_lossy().into_owned();
            let m = e.metadata().ok()?;
            entries.push((rel, m.len(), stamp(&m), ft.is_dir()));
            if entries.len() > MAX_FINGERPRINT_ENTRIES {
                return None;
            }
            if ft.is_dir() {
                stack.push(p);
            }
        }
    }
    entries.sort();
    for (rel, len, t, dir) in entries {
        h.update(rel.as_bytes());
        h.update([0, u8::from(dir)]);
        h.update(len.to_le_bytes());
        h.update(t.to_le_bytes());
    }
    Some(hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_sources() {
        assert!(matches!(
            classify("https://github.com/o/r#main"),
            SourceClass::RemoteGit { git_ref: Some(ref r), .. } if r == "main"
        ));
        assert!(matches!(
            classify("git@github.com:o/r.git"),
            SourceClass::RemoteGit { .. }
        ));
        assert!(matches!(
            classify("file:///srv/repo"),
            SourceClass::LocalGit { .. }
        ));
        assert_eq!(classify("/srv/app"), SourceClass::LocalPath);
        assert_eq!(classify("./app.zip"), SourceClass::LocalPath);
    }

    #[test]
    fn fingerprint_changes_with_content_not_with_skipped_dirs() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("app.py"), "print(1)").unwrap();
        let a = fingerprint(d.path()).unwrap();
        assert_eq!(fingerprint(d.path()).unwrap(), a);
        std::fs::create_dir(d.path().join("node_modules")).unwrap();
        std::fs::write(d.path().join("node_modules/x.js"), "x").unwrap();
        assert_eq!(fingerprint(d.path()).unwrap(), a);
        std::fs::write(d.path().join("app.py"), "print(12)").unwrap();
        assert_ne!(fingerprint(d.path()).unwrap(), a);
    }
}
