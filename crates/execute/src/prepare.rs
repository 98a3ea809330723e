//! Everything before execution: fetch → analyze ([`fetch_and_analyze`]),
//! then parse → decide → render ([`plan_analysis`]); [`prepare`] is both.
//! `autodeploy deploy`, the service's previews (which cache the analysis
//! between the two halves) and its workers all call these, so they can never
//! disagree about what a request means.
//!
//! Deliberately no side effects beyond fetching (a clone or extraction into a
//! temporary folder owned by the returned snapshot).

use crate::report::Reporter;
use crate::ExecError;
use autodeploy_core::{Analysis, Cloud, Decision, Intent, LogStream, Phase};
use autodeploy_render::{render, Bundle, RenderOptions};
use autodeploy_source::{FetchOptions, Snapshot};

/// Options for [`prepare`].
#[derive(Debug, Clone, Default)]
pub struct PrepareOptions {
    /// Branch, tag or commit (git sources).
    pub git_ref: Option<String>,
    /// `--target`: force the cloud whatever the request says (`local` runs it here).
    pub target: Option<Cloud>,
    /// How to read the request (rules only by default; an LLM when configured).
    pub parse: autodeploy_parse::ParseOptions,
    /// Walker threads (0 = all CPUs).
    pub threads: usize,
    /// The deployment's name (prefix of every cloud resource name). A
    /// redeploy passes the name it was first deployed with.
    pub name: Option<String>,
    /// Cloud deployments only: add a short random suffix to the derived
    /// name, so two deployments of one app in one account never collide on
    /// resource names (IAM roles, load balancers, buckets…).
    pub unique_name: bool,
    /// Which hosts a git fetch may connect to (the service: public
    /// addresses only).
    pub network: autodeploy_source::NetworkPolicy,
    /// `--env` values (`NAME` or `service:NAME`, value) laid over a cloud
    /// decision ([`autodeploy_decide::user_values`]).
    pub user_env: Vec<(String, String)>,
    /// Names of the `--secret` values (never the values): slots of the
    /// cloud's secret store the deploy fills after apply.
    pub user_secrets: Vec<String>,
}

/// The stages after the analysis: what [`plan_analysis`] returns.
pub struct Planned {
    pub intent: Intent,
    pub decision: Decision,
    pub bundle: Bundle,
    /// Notes from the request parser (fallbacks, values left unset on purpose).
    pub parse_notes: Vec<String>,
}

/// The result of every stage before execute.
pub struct Prepared {
    /// The fetched tree (a temporary clone is removed when this is dropped).
    pub snapshot: Snapshot,
    pub analysis: Analysis,
    pub intent: Intent,
    pub decision: Decision,
    pub bundle: Bundle,
    /// Notes from the request parser (fallbacks, values left unset on purpose).
    pub parse_notes: Vec<String>,
}

/// The parts of [`Prepared`] that are kept with a deployment (the store's
/// `plan` column), enough to render the same bundle again on any machine.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StoredPlan {
    pub analysis: Analysis,
    pub intent: Intent,
    pub decision: Decision,
}

impl StoredPlan {
    pub fn render(&self) -> Result<Bundle, ExecError> {
        Ok(render(
            &self.decision,
            &self.analysis,
            &RenderOptions {
                intent: Some(self.intent.clone()),
            },
        )?)
    }
}

impl Prepared {
    pub fn stored(&self) -> StoredPlan {
        StoredPlan {
            analysis: self.analysis.clone(),
            intent: self.intent.clone(),
            decision: self.decision.clone(),
        }
    }
}

/// Fetch, analyse, read the request, decide, render.
pub fn prepare(
    source: &str,
    request: &str,
    opts: &PrepareOptions,
    rep: &dyn Reporter,
) -> Result<Prepared, ExecError> {
    let (snapshot, analysis) = fetch_and_analyze(source, opts, rep)?;
    let planned = plan_analysis(&analysis, request, opts, rep)?;
    Ok(Prepared {
        snapshot,
        analysis,
        intent: planned.intent,
        decision: planned.decision,
        bundle: planned.bundle,
        parse_notes: planned.parse_notes,
    })
}

/// The fetch options of `opts`: tokens and caps from the environment, the
/// ref and the network policy from `opts`.
pub fn fetch_options(opts: &PrepareOptions) -> FetchOptions {
    let mut fetch = FetchOptions::from_env();
    if opts.git_ref.is_some() {
        fetch.git_ref = opts.git_ref.clone();
    }
    fetch.network = opts.network.clone();
    fetch
}

/// Fetch the source and analyse it.
pub fn fetch_and_analyze(
    source: &str,
    opts: &PrepareOptions,
    rep: &dyn Reporter,
) -> Result<(Snapshot, Analysis), ExecError> {
    rep.phase(Phase::Fetch);
    let shown = autodeploy_source::redact_input(source);
    rep.log(LogStream::System, &format!("fetching {shown}"));
    let fetch = fetch_options(opts);
    let snapshot = autodeploy_source::fetch(source, &fetch).map_err(|e| ExecError::Source {
        input: shown.clone(),
        source: e,
    })?;
    if let Some(c) = &snapshot.info.commit {
        rep.log(LogStream::System, &format!("commit {c}"));
    }

    rep.phase(Phase::Analyze);
    let analysis = autodeploy_analyze::analyze_dir(
        &snapshot.root,
        snapshot.info.clone(),
        &autodeploy_analyze::AnalyzeOptions {
            threads: opts.threads,
            name_hint: name_hint(source, &snapshot.root),
        },
    )?;
    for s in &analysis.services {
        rep.log(
            LogStream::System,
            &format!(
                "found service {} in {}: {}{}, port {}, start {}",
                s.name,
                s.path,
                s.language.as_str(),
                s.framework
                    .as_deref()
                    .map(|f| format!("/{f}"))
                    .unwrap_or_default(),
                s.port.map(|p| p.to_string()).unwrap_or_else(|| "?".into()),
                s.start.as_deref().unwrap_or("(none found)")
            ),
        );
    }
    Ok((snapshot, analysis))
}

/// Read the request, decide and render for an analysis: pure functions of
/// (analysis, request, options) — the service caches their answer.
pub fn plan_analysis(
    analysis: &Analysis,
    request: &str,
    opts: &PrepareOptions,
    rep: &dyn Reporter,
) -> Result<Planned, ExecError> {
    rep.phase(Phase::Plan);
    let outcome = autodeploy_parse::parse_with(request, &opts.parse);
    let mut parse_notes = outcome.notes.clone();
    if let Some(n) = outcome.fallback_notice() {
        parse_notes.push(n);
    }
    let mut intent = outcome.intent;
    if let Some(t) = opts.target {
        intent.cloud = Some(t);
    }
    // One log line per line of the summary (a log line shows a newline
    // inside it as `\n`).
    for line in autodeploy_parse::summarize(&intent).lines() {
        rep.log(LogStream::System, line);
    }
    for n in &parse_notes {
        rep.log(LogStream::System, &format!("note: {n}"));
    }
    let decide = |name: Option<String>| {
        autodeploy_decide::decide(
            analysis,
            &intent,
            &autodeploy_decide::DecideOptions {
                name,
                today: Some(today()),
                ..Default::default()
            },
        )
        .map_err(ExecError::Decide)
    };
    let mut decision = decide(opts.name.clone())?;
    if opts.name.is_none() && opts.unique_name && decision.cloud != Cloud::Local {
        decision = decide(Some(unique(&decision.name)))?;
    }
    autodeploy_decide::user_values::apply(&mut decision, &opts.user_env, &opts.user_secrets)
        .map_err(|e| ExecError::Decide(e.into()))?;
    rep.log(
        LogStream::System,
        &format!(
            "decided: {} in {} ({}), about ${:.2}/month",
            decision.cloud.as_str(),
            decision.region,
            decision.strategy.as_str(),
            decision.estimated_monthly_usd
        ),
    );
    for w in &decision.warnings {
        rep.log(
            LogStream::System,
            &format!("warning {}: {}", w.code, w.message),
        );
    }
    let bundle = render(
        &decision,
        analysis,
        &RenderOptions {
            intent: Some(intent.clone()),
        },
    )?;
    Ok(Planned {
        intent,
        decision,
        bundle,
        parse_notes,
    })
}

/// `name` cut to 20 characters plus `-` and 6 random hex digits (resource
/// names have tight limits: 32 characters for a load balancer).
fn unique(name: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.write_u32(std::process::id());
    let base: String = name.chars().take(20).collect();
    format!(
        "{}-{:06x}",
        base.trim_end_matches('-'),
        h.finish() & 0xff_ffff
    )
}

/// The repository or folder name, used for a service at the root.
pub fn name_hint(source: &str, root: &std::path::Path) -> Option<String> {
    let trimmed = source.trim_end_matches('/');
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

/// Today's date (UTC, ISO `YYYY-MM-DD`): what decide chooses engine
/// versions on standard support for.
pub(crate) fn today() -> String {
    time::OffsetDateTime::now_utc().date().to_string()
}
