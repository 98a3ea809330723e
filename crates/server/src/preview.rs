//! The synchronous previews behind `POST /v1/analyze`, `/v1/parse` and
//! `/v1/plan`: the very functions deployments use — `autodeploy_source` for
//! classifying, resolving and fetching a source (with its hardening: the
//! protocol allow-list, the scrubbed `GIT_*` environment, scoped tokens and
//! the network policy), `autodeploy_execute::fetch_and_analyze` and
//! `autodeploy_execute::plan_analysis` for the stages — run on the blocking
//! pool, with the analysis cache in between.
//!
//! The analysis cache key is (repository, commit, analyzer version) — never a
//! URL alone:
//! - a git source's commit is resolved with `autodeploy_source::remote_commit`
//!   (`git ls-remote` under the source crate's rules, or the ref itself when
//!   it is a full SHA), and `URL#ref → commit` is trusted for a few seconds;
//!   the analysis is only stored under a key whose commit is the one
//!   actually fetched;
//! - a local folder or archive (when local sources are allowed) is keyed by
//!   `autodeploy_source::fingerprint`, because a work tree can differ from
//!   its HEAD commit.
//!
//! Lookups go memory (LRU) → store → compute; concurrent requests for one key
//! compute once (a per-key `OnceCell`). Failures are not cached.
//!
//! On top of it, `POST /v1/plan` answers are kept serialised in a second LRU
//! keyed by (analysis key, request text, options): parse, decide and render
//! are pure, so a repeated preview of a pinned source costs one lookup.
//!
//! Every `POST /v1/plan` answer names a `plan_id`: what was previewed (the
//! source, the exact request text, the options, the commit analysed, the
//! analysis key, the analysis and the decision) is kept in the store for
//! `preview_ttl` ([`Previews::plan_json`]), and `POST /v1/deployments
//! {"plan_id"}` deploys exactly that ([`Previews::previewed`]): a git source
//! pinned to the commit that was analysed, a local source refused when its
//! fingerprint changed since. In the store rather than this process's memory
//! because several API replicas may serve one PostgreSQL store, and the
//! deploy may reach another replica than the preview did.
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
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// Plan answers kept in memory (each a few tens of KB).
const PLAN_CACHE_ENTRIES: usize = 512;
/// plan_ids remembered as stored (a few hundred bytes each).
const ISSUED_ENTRIES: usize = 4096;

type Shared = Result<Arc<Analysis>, ApiError>;
/// (URL, ref) whose commit was resolved.
type CommitKey = (String, Option<String>);

/// Where a `repo` string points, as far as the security rule cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceClass {
    /// A git URL fetched over the network (https, http, ssh, git, scp-like).
    Network,
    /// Something on this machine: a folder, an archive, a `file://` URL.
    Local,
}

/// Classify `repo` by its text, with the source crate's rules.
pub fn classify(repo: &str) -> SourceClass {
    if autodeploy_source::is_network_url(repo) {
        SourceClass::Network
    } else {
        SourceClass::Local
    }
}

/// The previews and the analysis cache of one API process.
pub struct Previews {
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    allow_local: bool,
    /// Which hosts a fetch may connect to.
    network: autodeploy_source::NetworkPolicy,
    commit_ttl: Duration,
    lru: Mutex<LruCache<String, Arc<Analysis>>>,
    /// `POST /v1/plan` answers by [`plan_cache_key`].
    plans: Mutex<LruCache<String, Arc<CachedPlan>>>,
    /// How long a previewed plan can be deployed by its id.
    preview_ttl: Duration,
    /// plan_ids this process stored, by (owner, plan cache key) → (id,
    /// expires_at): a repeated preview with more than half its TTL left is
    /// answered without writing to the store again.
    issued: Mutex<LruCache<(String, String), (String, i64)>>,
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
    /// What the request said that was not used, and why ("\"mars-west-9\"
    /// is not a region of any cloud…"): the parser's notes, as the CLI prints them.
    pub notes: Vec<String>,
    pub decision: autodeploy_core::Decision,
    /// The rendered bundle: path → contents.
    pub files: BTreeMap<String, String>,
}

/// One `POST /v1/plan` answer: the serialised body (without its `plan_id`)
/// and what a deploy naming it needs.
struct CachedPlan {
    body: Bytes,
    /// Its key in the response cache (`None`: not cacheable).
    plan_key: Option<String>,
    /// The analysis cache key (commit or folder fingerprint): `None` when
    /// the source could not be pinned.
    analysis_key: Option<String>,
    commit: Option<String>,
    summary: String,
    /// The cloud the plan deploys to.
    cloud: autodeploy_core::Cloud,
}

/// [`PreviewedPlan`] as it is written: borrowed, serialised once.
#[derive(Serialize)]
struct PreviewedPlanOut<'a> {
    source: &'a str,
    request: &'a str,
    options: &'a RequestOptions,
    commit: Option<&'a str>,
    analysis_key: Option<&'a str>,
    summary: &'a str,
    cloud: &'a str,
}

/// What the store keeps of a preview (the value of a `plan_previews` row).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct PreviewedPlan {
    /// The `repo` as the deployment records it (credentials redacted).
    pub source: String,
    /// The request text, exactly as previewed.
    pub request: String,
    pub options: RequestOptions,
    /// The commit analysed (git sources).
    pub commit: Option<String>,
    pub analysis_key: Option<String>,
    /// "Understood: …".
    pub summary: String,
    /// The cloud the plan deploys to. The analysis and decision are not
    /// kept: a deploy of the plan runs the same stages again on the pinned
    /// source (a row per preview stays small — its write is on the
    /// preview's path).
    #[serde(default)]
    pub cloud: Option<String>,
}

impl PreviewedPlan {
    /// The source and options a deployment of this plan runs with: a git
    /// source pinned to the commit that was analysed (`options.ref`, the
    /// `#ref` of the URL dropped so it is not given twice).
    pub fn pinned(&self) -> (String, RequestOptions) {
        let mut options = self.options.clone();
        match (&self.commit, classify(&self.source)) {
            (Some(commit), SourceClass::Network) => {
                options.git_ref = Some(commit.clone());
                let base = self.source.split('#').next().unwrap_or(&self.source);
                (base.to_string(), options)
            }
            _ => (self.source.clone(), options),
        }
    }
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
    /// `false`: a cloud deploy is not rehearsed on the worker's machine
    /// first (by default it is, when the operator allows the local target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rehearse: Option<bool>,
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
            if Cloud::parse(t).is_none() {
                return Err(ApiError::bad_request(
                    "invalid_option",
                    format!(
                        "options.target {:?} is not one of {}",
                        t.chars().take(64).collect::<String>(),
                        Cloud::ALL.map(Cloud::as_str).join(", ")
                    ),
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
        self.target.as_deref().and_then(Cloud::parse)
    }
}

impl Previews {
    pub fn new(
        store: Arc<dyn Store>,
        metrics: Arc<Metrics>,
        entries: usize,
        commit_ttl: Duration,
        allow_local: bool,
        network: autodeploy_source::NetworkPolicy,
        preview_ttl: Duration,
    ) -> Self {
        Previews {
            store,
            metrics,
            allow_local,
            network,
            commit_ttl,
            lru: Mutex::new(LruCache::new(
                NonZeroUsize::new(entries.max(1)).unwrap_or(NonZeroUsize::MIN),
            )),
            plans: Mutex::new(LruCache::new(
                NonZeroUsize::new(PLAN_CACHE_ENTRIES).unwrap_or(NonZeroUsize::MIN),
            )),
            inflight: Mutex::new(HashMap::new()),
            commits: Mutex::new(HashMap::new()),
            preview_ttl,
            issued: Mutex::new(LruCache::new(
                NonZeroUsize::new(ISSUED_ENTRIES).unwrap_or(NonZeroUsize::MIN),
            )),
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
        if class == SourceClass::Local && !self.allow_local {
            return Err(ApiError::bad_request(
                "local_source_forbidden",
                "this server only accepts git URLs (https://, ssh://, git@host:path); local \
                 folders, archives and file:// URLs need `autodeploy serve --allow-local-sources`",
            ));
        }
        Ok(class)
    }

    /// Refuse a network source the policy would refuse to fetch, before
    /// anything is stored (the host is resolved; nothing is connected to).
    pub async fn check_network(&self, repo: &str) -> Result<(), ApiError> {
        let repo = repo.trim().to_string();
        let policy = self.network.clone();
        tokio::task::spawn_blocking(move || autodeploy_source::check_network(&repo, &policy))
            .await
            .map_err(|e| ApiError::Internal(format!("the source check failed: {e}")))?
            .map_err(|e| ApiError::Unprocessable {
                code: "source_forbidden",
                message: e.to_string(),
            })
    }

    /// The analysis of `repo` at `git_ref` (from the cache when it can be).
    pub async fn analysis(
        &self,
        repo: &str,
        git_ref: Option<&str>,
    ) -> Result<Arc<Analysis>, ApiError> {
        self.check_source(repo)?;
        let repo = repo.trim().to_string();
        let (key, expected_commit) = self.cache_key(&repo, git_ref).await;
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
            let network = self.network.clone();
            move || -> Result<Analysis, ApiError> {
                let started = Instant::now();
                let out = fetch_and_analyze(&repo, git_ref, network);
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
    /// cannot be pinned (the remote did not answer, a huge folder…): then
    /// nothing is cached.
    async fn cache_key(
        &self,
        repo: &str,
        option_ref: Option<&str>,
    ) -> (Option<String>, Option<String>) {
        let version = autodeploy_analyze::ANALYZER_VERSION;
        let git_key = |commit: String| {
            let base = repo.split('#').next().unwrap_or(repo);
            (
                Some(format!(
                    "git|{version}|{}|{commit}",
                    autodeploy_source::redact_input(base)
                )),
                Some(commit),
            )
        };
        // The cached path stays cheap: a commit resolved moments ago answers
        // without classifying the source again (only git sources have one).
        if let Some(commit) = self.fresh_commit(repo, option_ref) {
            return git_key(commit);
        }
        // One trip to the blocking pool: what the source is, and for a local
        // one its fingerprint.
        let kind = {
            let repo = repo.to_string();
            tokio::task::spawn_blocking(move || {
                let kind = autodeploy_source::source_kind(&repo).ok()?;
                let fp = (kind != autodeploy_core::SourceKind::Git)
                    .then(|| autodeploy_source::fingerprint(Path::new(&repo)))
                    .flatten();
                Some((kind, fp))
            })
            .await
            .ok()
            .flatten()
        };
        match kind {
            Some((autodeploy_core::SourceKind::Git, _)) => {
                match self
                    .resolve_commit(repo, option_ref.map(str::to_string))
                    .await
                {
                    Some(commit) => git_key(commit),
                    None => (None, None),
                }
            }
            Some((_, fp)) => (fp.map(|fp| format!("path|{version}|{repo}|{fp}")), None),
            None => (None, None),
        }
    }

    /// A commit resolved for (repo, ref) within the commit TTL.
    fn fresh_commit(&self, repo: &str, git_ref: Option<&str>) -> Option<String> {
        let m = self
            .commits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        m.get(&(repo.to_string(), git_ref.map(str::to_string)))
            .filter(|(_, at)| at.elapsed() < self.commit_ttl)
            .map(|(c, _)| c.clone())
    }

    async fn resolve_commit(&self, repo: &str, git_ref: Option<String>) -> Option<String> {
        let map_key = (repo.to_string(), git_ref.clone());
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
        let mut opts = autodeploy_source::FetchOptions::from_env();
        opts.network = self.network.clone();
        opts.git_timeout = Some(REMOTE_COMMIT_TIMEOUT);
        // `repo#ref` already names the ref; giving it twice is an error.
        if !repo.contains('#') {
            opts.git_ref = git_ref;
        }
        let input = repo.to_string();
        let commit =
            tokio::task::spawn_blocking(move || autodeploy_source::remote_commit(&input, &opts))
                .await
                .ok()?
                .ok()??;
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
    /// it can be, with the `plan_id` (and its `plan_expires_at`) under which
    /// the store keeps what was previewed for `owner`.
    ///
    /// parse → decide → render are pure functions of (analysis, request text,
    /// options), so once the analysis is pinned by its cache key (commit or
    /// folder fingerprint, analyzer version) the whole answer is too: the key
    /// here is (analysis key, request, options) and a new commit is a new key.
    pub async fn plan_json(
        &self,
        owner: &str,
        repo: &str,
        request: &str,
        options: &RequestOptions,
    ) -> Result<Bytes, ApiError> {
        let plan = self.plan(repo, request, options).await?;
        // A cacheable preview's id is named by its content (the owner and
        // the plan cache key: source commit or folder fingerprint, analyzer
        // version, request, options), so the same preview gets the same id
        // on every replica, and a repeat within half the TTL writes nothing.
        let issued_key = plan
            .plan_key
            .as_ref()
            .map(|pk| (owner.to_string(), pk.clone()));
        let now = autodeploy_store::now_ms();
        let half_ttl = i64::try_from(self.preview_ttl.as_millis() / 2).unwrap_or(i64::MAX);
        let known = issued_key.as_ref().and_then(|k| {
            self.issued
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(k)
                .filter(|(_, expires)| expires.saturating_sub(now) > half_ttl)
                .cloned()
        });
        let (id, expires_at) = match known {
            Some(k) => k,
            None => {
                let source = autodeploy_source::redact_input(repo.trim());
                let kept = PreviewedPlanOut {
                    source: &source,
                    request,
                    options,
                    commit: plan.commit.as_deref(),
                    analysis_key: plan.analysis_key.as_deref(),
                    summary: &plan.summary,
                    cloud: plan.cloud.as_str(),
                };
                let value = serde_json::to_string(&kept).map_err(|e| {
                    ApiError::Internal(format!("the preview is not serialisable: {e}"))
                })?;
                let id = issued_key.as_ref().map(|(o, pk)| content_plan_id(o, pk));
                let stored = self
                    .store
                    .put_plan_preview(id.as_deref(), owner, &value, self.preview_ttl)
                    .await?;
                if let Some(k) = issued_key {
                    self.issued
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .put(k, (stored.id.clone(), stored.expires_at));
                }
                (stored.id, stored.expires_at)
            }
        };
        // `{"plan_id":…,"plan_expires_at":…,` + the cached object's fields.
        // (The id is "pln_" + hex: nothing in it needs escaping.)
        let head = format!(r#"{{"plan_id":"{id}","plan_expires_at":{expires_at}"#);
        let mut out = Vec::with_capacity(head.len() + plan.body.len() + 1);
        out.extend_from_slice(head.as_bytes());
        match plan.body.get(1..) {
            Some(rest) if rest != b"}" => {
                out.push(b',');
                out.extend_from_slice(rest);
            }
            _ => out.push(b'}'),
        }
        Ok(Bytes::from(out))
    }

    /// The previewed plan `id` of `owner`, checked to be deployable: known
    /// (404 `plan_not_found`), not expired (410 `plan_expired`), and for a
    /// local source, the folder unchanged since (409 `plan_stale`).
    pub async fn previewed(&self, id: &str, owner: &str) -> Result<PreviewedPlan, ApiError> {
        let found = if id.len() <= 64 {
            self.store.get_plan_preview(id, owner).await?
        } else {
            None
        };
        let Some(found) = found else {
            return Err(ApiError::Missing {
                code: "plan_not_found",
                message: format!(
                    "plan {id:.64} was not found: a plan_id is one that a preview (POST /v1/plan) answered to this user; preview again"
                ),
            });
        };
        if found.expires_at <= autodeploy_store::now_ms() {
            return Err(ApiError::Gone {
                code: "plan_expired",
                message: format!(
                    "plan {id} expired (a preview can be deployed for {} s); preview again, review it, then deploy",
                    self.preview_ttl.as_secs()
                ),
            });
        }
        let plan: PreviewedPlan = serde_json::from_value(found.value).map_err(|e| {
            ApiError::Internal(format!("the stored preview {id} is unreadable: {e}"))
        })?;
        if classify(&plan.source) == SourceClass::Local {
            self.check_source(&plan.source)?;
            if let Some(previewed) = &plan.analysis_key {
                let (now, _) = self
                    .cache_key(&plan.source, plan.options.git_ref.as_deref())
                    .await;
                if now.as_ref() != Some(previewed) {
                    return Err(ApiError::Conflict {
                        code: "plan_stale",
                        message: format!(
                            "{} changed since plan {id} was previewed; preview again to review what would be deployed now",
                            plan.source
                        ),
                    });
                }
            }
        }
        Ok(plan)
    }

    /// The `POST /v1/plan` answer for (repo, request, options), cached.
    async fn plan(
        &self,
        repo: &str,
        request: &str,
        options: &RequestOptions,
    ) -> Result<Arc<CachedPlan>, ApiError> {
        options.validate()?;
        check_request_text(request)?;
        self.check_source(repo)?;
        let repo = repo.trim().to_string();
        let (key, expected_commit) = self.cache_key(&repo, options.git_ref.as_deref()).await;
        let plan_key = key.as_ref().map(|k| plan_cache_key(k, request, options));
        if let Some(pk) = &plan_key {
            let hit = self
                .plans
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(pk)
                .cloned();
            if let Some(plan) = hit {
                self.metrics.plan_cache.inc(&["hit"]);
                return Ok(plan);
            }
        }
        let analysis = self
            .analysis_keyed(
                repo,
                options.git_ref.clone(),
                key.clone(),
                expected_commit.clone(),
            )
            .await?;
        // Only an answer about the commit the key promises may be kept under it.
        let pinned = expected_commit.is_none() || expected_commit == analysis.source.commit;
        let keep = plan_key.filter(|_| pinned);
        self.metrics.plan_cache.inc(&[if keep.is_some() {
            "miss"
        } else {
            "uncacheable"
        }]);
        let analysis_key = key.filter(|_| pinned);
        let keep_key = keep.clone();
        let (request, options) = (request.to_string(), options.clone());
        let plan = run_blocking(move || {
            let preview = plan_from(analysis, &request, &options)?;
            let body = serde_json::to_vec(&preview)
                .map(Bytes::from)
                .map_err(|e| ApiError::Internal(format!("the plan is not serialisable: {e}")))?;
            Ok(Arc::new(CachedPlan {
                body,
                plan_key: keep_key,
                analysis_key,
                commit: preview.analysis.source.commit.clone(),
                summary: preview.summary,
                cloud: preview.decision.cloud,
            }))
        })
        .await?;
        if let Some(pk) = keep {
            self.plans
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .put(pk, plan.clone());
        }
        Ok(plan)
    }
}

/// The plan_id of a cacheable preview: "pln_" + 128 bits of SHA-256 over
/// the owner and the plan cache key (length-prefixed).
fn content_plan_id(owner: &str, plan_key: &str) -> String {
    let mut h = Sha256::new();
    for part in [owner, plan_key] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    let digest = h.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("pln_{hex}")
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
    // The CLI refuses the same texts with the same words (`check_request`);
    // the code is written here so that the API document's check finds it.
    autodeploy_parse::check_request(text).map_err(|e| {
        debug_assert_eq!(e.code(), "invalid_request_text");
        ApiError::bad_request("invalid_request_text", e.to_string())
    })
}

/// Parse, decide, render for a cached analysis: `plan_analysis`, the very
/// function deployments use.
fn plan_from(
    analysis: Arc<Analysis>,
    request: &str,
    options: &RequestOptions,
) -> Result<PlanPreview, ApiError> {
    let opts = autodeploy_execute::PrepareOptions {
        target: options.cloud(),
        name: options.name.clone(),
        threads: 1,
        ..Default::default()
    };
    let planned =
        autodeploy_execute::plan_analysis(&analysis, request, &opts, &autodeploy_execute::Silent)
            .map_err(api_error)?;
    Ok(PlanPreview {
        summary: autodeploy_parse::summarize(&planned.intent),
        notes: planned.parse_notes,
        files: planned
            .bundle
            .files
            .into_iter()
            .map(|f| (f.path, f.contents))
            .collect(),
        analysis,
        intent: planned.intent,
        decision: planned.decision,
    })
}

/// A stage failure as the API answers it (stable codes).
fn api_error(e: autodeploy_execute::ExecError) -> ApiError {
    use autodeploy_execute::ExecError as E;
    let message = e.to_string();
    match e {
        E::Source {
            source: autodeploy_source::SourceError::Forbidden { .. },
            ..
        } => ApiError::Unprocessable {
            code: "source_forbidden",
            message,
        },
        E::Source { .. } => ApiError::Unprocessable {
            code: "fetch_failed",
            message,
        },
        E::Analyze(
            autodeploy_analyze::AnalyzeError::NothingFound { .. }
            | autodeploy_analyze::AnalyzeError::Empty { .. },
        ) => ApiError::Unprocessable {
            code: "nothing_to_deploy",
            message,
        },
        E::Analyze(_) => ApiError::Unprocessable {
            code: "analyze_failed",
            message,
        },
        E::Decide(_) => ApiError::Unprocessable {
            code: "decide_failed",
            message,
        },
        E::Render(autodeploy_render::RenderError::Unsupported { .. }) => ApiError::Unprocessable {
            code: "unsupported",
            message,
        },
        E::Render(_) => {
            ApiError::Internal(format!("rendering the deployment files failed: {message}"))
        }
        _ => ApiError::Internal(message),
    }
}

async fn run_blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(format!("a preview task panicked: {e}")))?
}

/// Fetch + analyze: `fetch_and_analyze`, the very function deployments use.
fn fetch_and_analyze(
    repo: &str,
    git_ref: Option<String>,
    network: autodeploy_source::NetworkPolicy,
) -> Result<Analysis, ApiError> {
    let opts = autodeploy_execute::PrepareOptions {
        // `repo#ref` already names the ref; giving it twice is an error in fetch.
        git_ref: git_ref.filter(|_| !repo.contains('#')),
        threads: 1,
        network,
        ..Default::default()
    };
    autodeploy_execute::fetch_and_analyze(repo, &opts, &autodeploy_execute::Silent)
        .map(|(_snapshot, analysis)| analysis)
        .map_err(api_error)
}

/// Longest a commit lookup (`git ls-remote`) may take.
const REMOTE_COMMIT_TIMEOUT: Duration = Duration::from_secs(30);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_api_rehearse_false_reaches_the_worker_as_no_rehearsal() {
        let o: RequestOptions =
            serde_json::from_value(serde_json::json!({"rehearse": false})).unwrap();
        let stored = serde_json::to_value(&o).unwrap();
        let d = autodeploy_execute::DeployOptions::from_value(&stored);
        assert_eq!(d.rehearse, Some(false));
        // Unset stays unset (rehearse where the worker can).
        let stored = serde_json::to_value(RequestOptions::default()).unwrap();
        assert_eq!(
            autodeploy_execute::DeployOptions::from_value(&stored).rehearse,
            None
        );
    }

    #[test]
    fn a_git_preview_deploys_the_commit_it_analysed() {
        let plan = |source: &str, commit: Option<&str>| PreviewedPlan {
            source: source.into(),
            request: "on aws".into(),
            options: RequestOptions {
                git_ref: Some("main".into()),
                name: Some("shop".into()),
                ..Default::default()
            },
            commit: commit.map(str::to_string),
            analysis_key: None,
            summary: String::new(),
            cloud: None,
        };
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let (source, o) = plan("https://github.com/o/r.git#main", Some(sha)).pinned();
        assert_eq!(source, "https://github.com/o/r.git");
        assert_eq!(o.git_ref.as_deref(), Some(sha));
        assert_eq!(o.name.as_deref(), Some("shop"));
        // A local folder is checked by its fingerprint instead; no commit: as previewed.
        let (source, o) = plan("/srv/app", Some(sha)).pinned();
        assert_eq!(
            (source.as_str(), o.git_ref.as_deref()),
            ("/srv/app", Some("main"))
        );
        let (source, o) = plan("https://github.com/o/r.git", None).pinned();
        assert_eq!(
            (source.as_str(), o.git_ref.as_deref()),
            ("https://github.com/o/r.git", Some("main"))
        );
    }

    #[test]
    fn classify_sources() {
        assert_eq!(
            classify("https://github.com/o/r#main"),
            SourceClass::Network
        );
        assert_eq!(classify("git@github.com:o/r.git"), SourceClass::Network);
        assert_eq!(classify("file:///srv/repo"), SourceClass::Local);
        assert_eq!(classify("/srv/app"), SourceClass::Local);
        assert_eq!(classify("./app.zip"), SourceClass::Local);
    }
}
