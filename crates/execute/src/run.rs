//! Executing a deployment end to end — deploy, redeploy, destroy — for the
//! CLI and for service workers alike. Async at the top (it talks to the
//! store), blocking underneath (Terraform, builds, health checks run on a
//! blocking thread).
//!
//! Every step is safe to run again: Terraform state makes apply idempotent,
//! the local target builds a new release beside the serving one and switches
//! only when it answers, and destroy of something already gone succeeds.
//! That is what lets a worker pick up a job whose previous worker died.
//!
//! Losing the store: every write is retried with backoff while the error is
//! transient (a PostgreSQL restart, a reset connection). When it still fails
//! nothing is concluded — execution returns the store error, the job goes
//! back to the queue, and the next attempt reconciles (a running local app is
//! found healthy again, Terraform finds its state): a deployment whose app
//! runs is never recorded `failed` because the store blinked. A transient
//! failure of the work itself (a held state lock, a throttled API) that the
//! caller will retry is recorded as waiting for that retry, not as `failed`.

use crate::config::{ExecConfig, OnFailure};
use crate::health::{wait_healthy, Probe};
use crate::prepare::{prepare, PrepareOptions, Prepared, StoredPlan};
use crate::report::{drain, ChannelReporter, Progress, Reporter};
use crate::{runner, ExecError};
use autodeploy_core::{
    Cloud, Decision, DeployStrategy, DeploymentOutput, DeploymentStatus, EnvValue, Hosting,
    JobKind, LogStream, Phase, ServicePlan,
};
use autodeploy_store::{Deployment, DeploymentPatch, Job, JobOutcome, Store};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::runtime::Handle;

/// How long a store write is retried while its error is transient.
const STORE_RETRY_FOR: Duration = Duration::from_secs(90);
/// How long terraform may take to stop after an interrupt before its process
/// group is killed.
const TERRAFORM_INTERRUPT_GRACE: Duration = Duration::from_secs(120);

/// Run a store call again with backoff (0.2 s doubling to 5 s) while it fails
/// with a transient error, for at most [`STORE_RETRY_FOR`].
pub async fn with_store_retry<T, F, Fut>(mut call: F) -> Result<T, autodeploy_store::StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, autodeploy_store::StoreError>>,
{
    let deadline = std::time::Instant::now() + STORE_RETRY_FOR;
    let mut delay = Duration::from_millis(200);
    loop {
        match call().await {
            Err(e) if e.is_transient() && std::time::Instant::now() < deadline => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            other => return other,
        }
    }
}

/// Options a deployment was created with (the store's `options` column).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct DeployOptions {
    /// `local`, `aws`, `gcp`, `azure`: overrides the cloud of the request.
    #[serde(default)]
    pub target: Option<Cloud>,
    /// `ref` in the API's options.
    #[serde(default, alias = "ref")]
    pub git_ref: Option<String>,
    #[serde(default)]
    pub on_failure: Option<OnFailure>,
    /// Terraform input variables given at deploy time (`--var`), reused by
    /// redeploy and destroy. Not for secrets: those go to the secret store.
    #[serde(default)]
    pub vars: Vec<(String, String)>,
    /// Environment values given at deploy time (`--env NAME=VALUE`, or
    /// `service:NAME=VALUE` for one service), kept for every redeploy. Not
    /// for secrets: those are sealed in the store ([`store_secrets`]).
    /// Read from a list of pairs (CLI) or an object (the API's `options.env`).
    #[serde(default, deserialize_with = "pairs_or_map")]
    pub env: Vec<(String, String)>,
    /// Rehearse a cloud deploy on this machine before `terraform apply`
    /// (`None`: yes, where the machine can; `--no-rehearse`: `false`).
    #[serde(default)]
    pub rehearse: Option<bool>,
}

fn pairs_or_map<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Either {
        Pairs(Vec<(String, String)>),
        Map(std::collections::BTreeMap<String, String>),
    }
    Ok(match Either::deserialize(d)? {
        Either::Pairs(p) => p,
        Either::Map(m) => m.into_iter().collect(),
    })
}

/// `NAME=value` pairs, in the order given.
type Pairs = Vec<(String, String)>;

/// Seal `values` (`--secret NAME`) and keep them with deployment `id`;
/// every later deploy and redeploy of it uses them.
pub async fn store_secrets(
    store: &Arc<dyn Store>,
    cfg: &ExecConfig,
    id: &str,
    values: &[(String, String)],
) -> Result<(), ExecError> {
    if values.is_empty() {
        return Ok(());
    }
    let sealer = cfg.secret_box()?;
    for (name, value) in values {
        // The secrets file holds one line per value.
        if value.contains(['\n', '\0']) {
            return Err(ExecError::Invalid(format!(
                "the value of secret {name} has a line break or NUL byte; secrets are single-line values"
            )));
        }
        store.put_secret(id, name, &sealer.seal(id, value)?).await?;
    }
    Ok(())
}

impl DeployOptions {
    pub fn from_value(v: &Value) -> Self {
        serde_json::from_value(v.clone()).unwrap_or_default()
    }
}

/// What execution ended with.
struct Done {
    status: DeploymentStatus,
    url: Option<String>,
    outputs: Value,
    error: Option<String>,
    /// A redeploy that did not come up while the previous version keeps
    /// serving: the deployment's plan stays the last good one.
    keep_previous_plan: bool,
}

/// Execute `kind` for deployment `id` and record everything in the store.
/// `prepared`: the stages before execute, when the caller already ran them
/// (the CLI shows the plan before asking for confirmation). Returns the
/// deployment as it ended; `Err` only when the store itself fails or the
/// deployment does not exist — a failed deployment is an `Ok` with status
/// `failed`.
pub async fn execute(
    store: Arc<dyn Store>,
    cfg: Arc<ExecConfig>,
    id: &str,
    kind: JobKind,
    prepared: Option<Prepared>,
    progress: Option<Progress>,
    cancel: Arc<AtomicBool>,
) -> Result<Deployment, ExecError> {
    execute_inner(store, cfg, id, kind, prepared, progress, cancel, false)
        .await
        .map(|(d, _)| d)
}

/// [`execute`], also returning the typed error the execution ended with.
/// `will_retry`: the caller runs the job again after a transient failure
/// (a worker with attempts left), so such a failure is recorded as waiting
/// for that retry instead of `failed`.
#[allow(clippy::too_many_arguments)]
async fn execute_inner(
    store: Arc<dyn Store>,
    cfg: Arc<ExecConfig>,
    id: &str,
    kind: JobKind,
    prepared: Option<Prepared>,
    progress: Option<Progress>,
    cancel: Arc<AtomicBool>,
    will_retry: bool,
) -> Result<(Deployment, Option<ExecError>), ExecError> {
    let rec = with_store_retry(|| store.get_deployment(id))
        .await?
        .ok_or_else(|| ExecError::NotFound { id: id.to_string() })?;
    let dir = cfg.deployment_dir(id);
    // A runner of this deployment that died may have left terraform (or a
    // provider) running in its workspace: stop it before starting anew. A
    // first deploy that never came up has no release worth keeping either:
    // whatever the dead runner started for it (a supervisor, the app) goes,
    // so running it again cannot leave two copies of the app.
    if runner::alive(&dir) == Some(false) {
        let ws = dir.join("bundle").join("terraform");
        let never_up = kind == JobKind::Deploy
            && !matches!(
                rec.status,
                DeploymentStatus::Healthy | DeploymentStatus::Applied | DeploymentStatus::Unhealthy
            );
        let releases = dir.join("releases");
        tokio::task::spawn_blocking(move || {
            autodeploy_terraform::stop_leftovers(&ws, TERRAFORM_INTERRUPT_GRACE);
            if never_up {
                runner::stop_processes_under(&releases, Duration::from_secs(10));
            }
        })
        .await
        .map_err(|e| ExecError::Invalid(format!("the clean-up thread failed: {e}")))?;
    }
    let running = match kind {
        JobKind::Destroy => DeploymentStatus::Destroying,
        _ => DeploymentStatus::Running,
    };
    let patch = DeploymentPatch {
        status: Some(running),
        error: Some(None),
        workdir: Some(Some(dir.display().to_string())),
        ..Default::default()
    };
    with_store_retry(|| store.update_deployment(id, patch.clone())).await?;
    runner::claim(&dir)
        .map_err(|e| ExecError::io(format!("could not write {}", dir.display()), e))?;

    let (rep, rx) = ChannelReporter::new();
    let drainer = tokio::spawn(drain(store.clone(), id.to_string(), rx, progress));
    let handle = Handle::current();
    let ctx = Ctx {
        store: store.clone(),
        cfg: cfg.clone(),
        handle,
        rec,
        cancel,
    };
    let result = tokio::task::spawn_blocking(move || {
        let r = match kind {
            JobKind::Deploy | JobKind::Redeploy => ctx.deploy(kind, prepared, &rep),
            JobKind::Destroy => ctx.destroy(&rep),
        };
        let r = match r {
            Ok(done) => Ok((done, None)),
            // The store could not be reached even after retrying: nothing
            // about the deployment can be concluded or recorded.
            Err(e) if e.is_store() => Err(e),
            Err(e) if will_retry && e.is_transient() => {
                Ok((ctx.will_retry(kind, &e, &rep), Some(e)))
            }
            Err(e) => Ok((ctx.failed(kind, &e, &rep), Some(e))),
        };
        drop(rep);
        r
    })
    .await
    .map_err(|e| ExecError::Invalid(format!("the execution thread failed: {e}")))?;
    let _ = drainer.await;
    runner::release(&dir);
    let (result, error) = result?;

    let patch = DeploymentPatch {
        status: Some(result.status),
        url: Some(result.url),
        outputs: Some(result.outputs),
        error: Some(result.error),
        // A deployment that reached its goal has no phase; one that ended
        // short of it keeps the phase that failed (`unhealthy`: health).
        phase: if matches!(
            result.status,
            DeploymentStatus::Healthy | DeploymentStatus::Applied | DeploymentStatus::Destroyed
        ) {
            Some(None)
        } else {
            None
        },
        ..Default::default()
    };
    let d = with_store_retry(|| store.update_deployment(id, patch.clone())).await?;
    Ok((d, error))
}

/// Run one claimed job of the queue to its end (service workers).
pub async fn run_job(store: Arc<dyn Store>, cfg: Arc<ExecConfig>, job: Job) -> JobOutcome {
    run_job_cancellable(store, cfg, job, Arc::new(AtomicBool::new(false))).await
}

/// [`run_job`] with a flag the worker sets when it lost the job's lease or
/// the job was cancelled; execution stops at the next phase boundary (a
/// running terraform is interrupted).
///
/// Whether to retry is asked of the typed error ([`ExecError::is_transient`]).
pub async fn run_job_cancellable(
    store: Arc<dyn Store>,
    cfg: Arc<ExecConfig>,
    job: Job,
    cancel: Arc<AtomicBool>,
) -> JobOutcome {
    let will_retry = job.attempt < job.max_attempts;
    // Attempt n waits 15 s · 2^(n-1) (at most 5 min) before the next.
    let backoff = Duration::from_secs(15 * (1u64 << job.attempt.saturating_sub(1).min(5)))
        .min(Duration::from_secs(300));
    match execute_inner(
        store,
        cfg,
        &job.deployment_id,
        job.kind,
        None,
        None,
        cancel,
        will_retry,
    )
    .await
    {
        Ok((_, Some(e))) if will_retry && e.is_transient() => JobOutcome::Retry {
            error: e.to_string(),
            delay: backoff,
        },
        Ok((d, e)) if d.status == DeploymentStatus::Failed => JobOutcome::Failed {
            error: e
                .map(|e| e.to_string())
                .or(d.error)
                .unwrap_or_else(|| "failed".into()),
        },
        Ok(_) => JobOutcome::Done,
        Err(e) if e.is_transient() => JobOutcome::Retry {
            error: e.to_string(),
            delay: Duration::from_secs(5),
        },
        Err(e) => JobOutcome::Failed {
            error: e.to_string(),
        },
    }
}

/// When the process executing a CLI deployment died, say so in the store
/// (`interrupted`). Returns the (possibly updated) deployment.
pub async fn reconcile(
    store: &Arc<dyn Store>,
    cfg: &ExecConfig,
    d: Deployment,
) -> Result<Deployment, ExecError> {
    let active = matches!(
        d.status,
        DeploymentStatus::Running | DeploymentStatus::Destroying
    );
    if !(active || d.status == DeploymentStatus::Interrupted)
        || runner::alive(&cfg.deployment_dir(&d.id)) != Some(false)
    {
        return Ok(d);
    }
    // Terraform gets SIGTERM when its runner dies (PR_SET_PDEATHSIG) and
    // goes on saving its state; a provider plugin it started can run on,
    // reparented, after it exits. Whoever sees the runner dead stops what is
    // left — again on every look at an interrupted deployment, since the
    // first look may come while terraform is still saving.
    let ws = cfg.deployment_dir(&d.id).join("bundle").join("terraform");
    let _ = tokio::task::spawn_blocking(move || autodeploy_terraform::stop_orphans(&ws)).await;
    if !active {
        return Ok(d);
    }
    let phase = d.phase.map(|p| p.as_str()).unwrap_or("start");
    let msg = format!(
        "the process running this deployment stopped during {phase}; what was applied is kept in its Terraform state — run `autodeploy destroy {}` to clean up or `autodeploy redeploy {}` to try again",
        d.id, d.id
    );
    let patch = DeploymentPatch {
        status: Some(DeploymentStatus::Interrupted),
        error: Some(Some(msg.clone())),
        ..Default::default()
    };
    match store.update_deployment(&d.id, patch).await {
        Ok(d) => Ok(d),
        // A store that cannot be written right now (a full disk, opened
        // read-only): show the truth anyway, and record it next time.
        Err(e) if !e.is_transient() => Ok(Deployment {
            status: DeploymentStatus::Interrupted,
            error: Some(msg),
            ..d
        }),
        Err(e) => Err(e.into()),
    }
}

struct Ctx {
    store: Arc<dyn Store>,
    cfg: Arc<ExecConfig>,
    handle: Handle,
    rec: Deployment,
    cancel: Arc<AtomicBool>,
}

impl Ctx {
    fn id(&self) -> &str {
        &self.rec.id
    }

    /// Record `patch`, retrying while the store error is transient.
    fn patch(&self, patch: DeploymentPatch) -> Result<Deployment, ExecError> {
        Ok(self.handle.block_on(with_store_retry(|| {
            self.store.update_deployment(&self.rec.id, patch.clone())
        }))?)
    }

    fn check_cancel(&self) -> Result<(), ExecError> {
        if self.cancel.load(Ordering::SeqCst) {
            return Err(ExecError::Cancelled);
        }
        Ok(())
    }

    /// A transient failure the caller will retry: the deployment waits for
    /// that retry (a serving version keeps its status) instead of `failed`.
    fn will_retry(&self, kind: JobKind, e: &ExecError, rep: &dyn Reporter) -> Done {
        let message = e.to_string();
        rep.log(
            LogStream::System,
            &format!("transient failure, the job will be retried: {message}"),
        );
        let status = match kind {
            JobKind::Destroy => DeploymentStatus::Destroying,
            _ if matches!(
                self.rec.status,
                DeploymentStatus::Healthy | DeploymentStatus::Applied
            ) =>
            {
                self.rec.status
            }
            _ => DeploymentStatus::Queued,
        };
        Done {
            status,
            url: self.rec.url.clone(),
            outputs: self.rec.outputs.clone(),
            error: Some(format!(
                "{message} — a transient failure: the job will be tried again"
            )),
            keep_previous_plan: false,
        }
    }

    fn failed(&self, kind: JobKind, e: &ExecError, rep: &dyn Reporter) -> Done {
        let message = e.to_string();
        // A log line is one line: a message quoting a tool's output is
        // recorded line by line.
        for (i, line) in message.lines().enumerate() {
            let prefix = if i == 0 { "error: " } else { "  " };
            rep.log(LogStream::System, &format!("{prefix}{line}"));
        }
        let cancelled = e.is_cancelled();
        let next = match (e, kind) {
            _ if cancelled => format!(
                " — stopped on request; anything already created is kept: `autodeploy destroy {id}` removes it, `autodeploy redeploy {id}` continues",
                id = self.id()
            ),
            (_, JobKind::Destroy) => format!(
                " — fix the cause and run `autodeploy destroy {}` again; the Terraform state is kept",
                self.id()
            ),
            (ExecError::Preflight(_), _) => format!(
                " — nothing was created; fix the credentials and run `autodeploy redeploy {}`",
                self.id()
            ),
            (ExecError::ValuesNeeded { .. }, _) => " — nothing was created".to_string(),
            _ => format!(
                " — see `autodeploy logs {id}`; anything already created is kept in its state: `autodeploy destroy {id}` removes it, `autodeploy redeploy {id}` tries again",
                id = self.id()
            ),
        };
        // A redeploy that stopped before it changed anything (the source,
        // the analysis, the plan) leaves the running version as it was.
        let before_any_change = matches!(
            e,
            ExecError::Source { .. }
                | ExecError::Analyze(_)
                | ExecError::Decide(_)
                | ExecError::Render(_)
                | ExecError::Preflight(_)
                | ExecError::ValuesNeeded { .. }
        );
        if kind == JobKind::Redeploy
            && before_any_change
            && matches!(
                self.rec.status,
                DeploymentStatus::Healthy | DeploymentStatus::Applied
            )
        {
            return Done {
                status: self.rec.status,
                url: self.rec.url.clone(),
                outputs: self.rec.outputs.clone(),
                error: Some(format!(
                    "last redeploy failed: {message} — nothing was changed; the running version keeps serving"
                )),
                keep_previous_plan: false,
            };
        }
        let status = if cancelled {
            DeploymentStatus::Cancelled
        } else {
            DeploymentStatus::Failed
        };
        Done {
            status,
            url: self.rec.url.clone(),
            outputs: self.rec.outputs.clone(),
            error: Some(format!("{message}{next}")),
            keep_previous_plan: false,
        }
    }

    fn deploy(
        &self,
        kind: JobKind,
        prepared: Option<Prepared>,
        rep: &dyn Reporter,
    ) -> Result<Done, ExecError> {
        let opts = DeployOptions::from_value(&self.rec.options);
        let prepared = match prepared {
            Some(p) => p,
            None => prepare(
                &self.rec.source,
                &self.rec.request,
                &PrepareOptions {
                    git_ref: opts.git_ref.clone(),
                    target: opts.target,
                    name: self
                        .rec
                        .plan
                        .as_ref()
                        .and_then(|v| serde_json::from_value::<StoredPlan>(v.clone()).ok())
                        .map(|p| p.decision.name),
                    unique_name: true,
                    network: self.cfg.source_network.clone(),
                    user_env: opts.env.clone(),
                    user_secrets: self
                        .handle
                        .block_on(self.store.secrets(self.id()))?
                        .into_iter()
                        .map(|(name, _)| name)
                        .collect(),
                    ..Default::default()
                },
                rep,
            )?,
        };
        self.check_cancel()?;
        let stored = prepared.stored();
        if kind == JobKind::Redeploy {
            if let Some(prev) = self
                .rec
                .plan
                .as_ref()
                .and_then(|v| serde_json::from_value::<StoredPlan>(v.clone()).ok())
            {
                for line in plan_diff(&prev.decision, &prepared.decision) {
                    rep.log(LogStream::System, &line);
                }
            }
        }
        let d = &prepared.decision;
        self.patch(DeploymentPatch {
            plan: Some(Some(serde_json::to_value(&stored).unwrap_or(Value::Null))),
            cloud: Some(Some(d.cloud.as_str().to_string())),
            region: Some(Some(d.region.clone())),
            strategy: Some(Some(d.strategy.as_str().to_string())),
            commit: Some(d.source.commit.clone()),
            ..Default::default()
        })?;
        let on_failure = opts.on_failure.unwrap_or(self.cfg.on_failure);
        let done = if d.cloud == Cloud::Local {
            self.deploy_local(&prepared, rep)?
        } else {
            self.deploy_cloud(&prepared, rep)?
        };
        if done.keep_previous_plan {
            self.patch(DeploymentPatch {
                plan: Some(self.rec.last_good_plan.clone().or(self.rec.plan.clone())),
                commit: Some(self.rec.commit.clone()),
                ..Default::default()
            })?;
            return Ok(done);
        }
        if matches!(
            done.status,
            DeploymentStatus::Healthy | DeploymentStatus::Applied
        ) {
            self.patch(DeploymentPatch {
                last_good_plan: Some(Some(serde_json::to_value(&stored).unwrap_or(Value::Null))),
                ..Default::default()
            })?;
            return Ok(done);
        }
        // Unhealthy: apply the failure policy.
        match (on_failure, kind) {
            (OnFailure::Destroy, _) => {
                rep.log(
                    LogStream::System,
                    "the app did not answer; --on-failure destroy: tearing down what was created",
                );
                let mut gone = self.destroy(rep)?;
                gone.error = Some(format!(
                    "{}; everything it created was destroyed (--on-failure destroy)",
                    done.error.unwrap_or_default()
                ));
                Ok(gone)
            }
            (OnFailure::Auto, JobKind::Redeploy) if d.cloud != Cloud::Local => {
                match self.rec.last_good_plan.clone() {
                    Some(v) => {
                        let prev: StoredPlan = serde_json::from_value(v).map_err(|e| {
                            ExecError::Invalid(format!("the last good plan is unreadable: {e}"))
                        })?;
                        rep.log(
                            LogStream::System,
                            "the new version did not answer; rolling back to the last healthy plan",
                        );
                        let bundle = prev.render()?;
                        let mut back = self.apply_bundle(
                            &prev.decision,
                            &bundle,
                            crate::bundle::Source::Previous,
                            rep,
                        )?;
                        let outputs = back.outputs.as_object().cloned().unwrap_or_default();
                        crate::release::roll_back(&self.cfg, &prev.decision, &outputs, rep)?;
                        back.status = DeploymentStatus::Unhealthy;
                        back.error = Some(format!(
                            "{}; rolled back to the last healthy plan (commit {})",
                            done.error.unwrap_or_default(),
                            prev.decision.source.commit.as_deref().unwrap_or("unknown")
                        ));
                        Ok(back)
                    }
                    None => Ok(done),
                }
            }
            _ => Ok(done),
        }
    }

    /// The person's values for this deployment: `--env` from its options,
    /// `--secret` opened from the store.
    fn user_values(&self) -> Result<(Pairs, Pairs), ExecError> {
        let env = DeployOptions::from_value(&self.rec.options).env;
        let sealed = self.handle.block_on(self.store.secrets(self.id()))?;
        if sealed.is_empty() {
            return Ok((env, vec![]));
        }
        let sealer = self.cfg.secret_box()?;
        let secrets = sealed
            .iter()
            .map(|(name, v)| Ok((name.clone(), sealer.open(self.id(), name, v)?)))
            .collect::<Result<Vec<_>, ExecError>>()?;
        Ok((env, secrets))
    }

    fn deploy_local(&self, p: &Prepared, rep: &dyn Reporter) -> Result<Done, ExecError> {
        if !self.cfg.local_target {
            return Err(ExecError::Invalid(
                "this service does not run apps on its own machine: the local target is off (its operator turns it on with `autodeploy serve --allow-local-target` / `worker --allow-local-target`); ask for a cloud instead".into(),
            ));
        }
        rep.phase(Phase::AppStart);
        let mut opts = self.local_options();
        let (env, secrets) = self.user_values()?;
        opts.extra_env = env;
        opts.extra_secrets = secrets;
        // A running version keeps serving while the new one is built beside
        // it; it takes over only once it answers (autodeploy_local::start).
        let sink = |s: LogStream, l: &str| rep.log(s, l);
        let started = autodeploy_local::start(
            self.id(),
            &p.snapshot.root,
            &p.analysis,
            &p.decision,
            &opts,
            &sink,
        );
        use autodeploy_local::LocalError as L;
        match started {
            Ok(app) => {
                rep.phase(Phase::Health);
                rep.log(
                    LogStream::System,
                    &if app.url.is_empty() {
                        "running; no service listens on a port (workers only), so there is no URL — `autodeploy logs` shows what they do".to_string()
                    } else {
                        format!("{} answered; serving at {}", app.url, app.url)
                    },
                );
                for s in &app.skipped {
                    rep.log(
                        LogStream::System,
                        &format!("warning: service {} was not started: {}", s.name, s.reason),
                    );
                }
                let data = autodeploy_local::data_status(self.id(), &opts);
                Ok(Done {
                    status: DeploymentStatus::Healthy,
                    url: (!app.url.is_empty()).then(|| app.url.clone()),
                    outputs: json!({
                        "url": app.url,
                        "port": app.port,
                        "release": app.release,
                        "supervisor_pid": app.pid,
                        "app_dir": app.release_dir.join("app"),
                        "log_file": app.log_file,
                        "services": app.services.iter().map(|s| json!({
                            "name": s.name, "url": s.url, "port": s.port,
                        })).collect::<Vec<_>>(),
                        "skipped_services": app.skipped,
                        "data_services": data,
                    }),
                    error: (!app.skipped.is_empty()).then(|| {
                        format!(
                            "not started on this machine: {}",
                            app.skipped
                                .iter()
                                .map(|s| format!("{} ({})", s.name, s.reason))
                                .collect::<Vec<_>>()
                                .join("; ")
                        )
                    }),
                    keep_previous_plan: false,
                })
            }
            Err(L::Unhealthy {
                url,
                seconds,
                last,
                tail,
                ..
            }) => {
                rep.phase(Phase::Health);
                Ok(Done {
                    status: DeploymentStatus::Unhealthy,
                    url: Some(url.clone()),
                    outputs: json!({ "url": url }),
                    error: Some(format!(
                        "the app did not answer at {url} within {seconds} s (last: {last}); it is still running and supervised — `autodeploy logs {id}` shows its output, `autodeploy destroy {id}` stops it; its last lines:\n{tail}",
                        id = self.id()
                    )),
                    keep_previous_plan: false,
                })
            }
            Err(L::RedeployFailed {
                cause,
                serving,
                release,
            }) => Ok(Done {
                status: DeploymentStatus::Healthy,
                url: Some(serving.clone()),
                outputs: self.rec.outputs.clone(),
                error: Some(format!(
                    "last redeploy failed: {cause} — release {release} keeps serving {serving}"
                )),
                keep_previous_plan: true,
            }),
            Err(e) => Err(ExecError::local(Phase::AppStart)(e)),
        }
    }

    /// Rehearse a cloud deploy on this machine before anything is created:
    /// the plan decided again for the local target from the same analysis
    /// and request (so the same services, the same wiring table — env names
    /// and formats —, release steps and health check), with the local
    /// PostgreSQL/MariaDB/Redis standing in for the cloud's, run until it
    /// answers, then stopped and its data dropped. An app that crashes or
    /// does not answer stops the deploy ([`ExecError::Rehearsal`]); what
    /// this machine cannot run (a missing runtime, a build its toolchain
    /// fails, MongoDB) is skipped and said. Returns what `status` shows
    /// (`outputs.rehearsal`).
    fn rehearse(&self, p: &Prepared, rep: &dyn Reporter) -> Result<Value, ExecError> {
        let opts = DeployOptions::from_value(&self.rec.options);
        let skipped = |why: String| {
            rep.log(
                LogStream::System,
                &format!("rehearsal skipped: {why}; going on to the cloud without it"),
            );
            Ok(json!({ "status": "skipped", "reason": why }))
        };
        if opts.rehearse == Some(false) {
            return skipped("--no-rehearse".into());
        }
        if !self.cfg.local_target {
            return skipped(
                "this service does not run apps on its own machine (serve/worker --allow-local-target)"
                    .into(),
            );
        }
        rep.phase(Phase::Rehearse);
        let started = std::time::Instant::now();
        let mut intent = p.intent.clone();
        intent.cloud = Some(Cloud::Local);
        let local = autodeploy_decide::decide(
            &p.analysis,
            &intent,
            &autodeploy_decide::DecideOptions {
                name: Some(p.decision.name.clone()),
                today: Some(crate::prepare::today()),
                ..Default::default()
            },
        );
        let mut local = match local {
            Ok(d) => d,
            Err(e) => return skipped(format!("the plan has no local equivalent ({e})")),
        };
        let (env, secrets) = self.user_values()?;
        let secret_names: Vec<String> = secrets.iter().map(|(n, _)| n.clone()).collect();
        if let Err(e) = autodeploy_decide::user_values::apply(&mut local, &env, &secret_names) {
            return skipped(format!(
                "the values given with --env/--secret do not fit it ({e})"
            ));
        }
        let id = format!("{}-rehearsal", self.id());
        let mut lopts = self.local_options();
        lopts.extra_env = env;
        lopts.extra_secrets = secrets;
        // A rehearsal a killed run left behind is stopped first.
        let _ = autodeploy_local::stop_and_remove(&id, &lopts);
        rep.log(
            LogStream::System,
            "rehearsal: running the plan on this machine first — the same services, settings, release steps and health check, with local stand-ins for the cloud's data services",
        );
        let sink = |s: LogStream, l: &str| rep.log(s, &format!("rehearsal: {l}"));
        let result =
            autodeploy_local::start(&id, &p.snapshot.root, &p.analysis, &local, &lopts, &sink);
        // Whatever the outcome, nothing of the rehearsal stays.
        let _ = autodeploy_local::stop_and_remove(&id, &lopts);
        let _ = autodeploy_local::release_data(&id, &lopts, false);
        let seconds = started.elapsed().as_secs();
        match result {
            Ok(app) => {
                rep.log(
                    LogStream::System,
                    &format!(
                        "rehearsal passed in {seconds} s: {}; stopped, going on to the cloud",
                        if app.url.is_empty() {
                            "every service started (none listens on a port)".to_string()
                        } else {
                            format!("{} answered", app.url)
                        }
                    ),
                );
                Ok(json!({ "status": "healthy", "seconds": seconds }))
            }
            Err(e) if e.is_about_the_app() => Err(ExecError::Rehearsal { source: e }),
            Err(e) => skipped(format!("this machine cannot run the app as planned: {e}")),
        }
    }

    /// A static site on S3 + CloudFront: built on this machine by the local
    /// runner — the same confined install and build as a local deploy, with
    /// the cloud plan's values (its API path, `url`: the site's public URL,
    /// the apply's `url` output) — then uploaded and the CDN invalidated.
    /// Nothing of the build stays.
    fn release_site(
        &self,
        p: &Prepared,
        outputs: &serde_json::Map<String, Value>,
        url: &str,
        rep: &dyn Reporter,
    ) -> Result<(), ExecError> {
        let Some(site) = p
            .decision
            .services
            .iter()
            .find(|s| s.hosting == Hosting::S3Cloudfront)
        else {
            return Ok(());
        };
        if !self.cfg.local_target {
            return Err(ExecError::Invalid(format!(
                "the static site `{}` is built on the machine that deploys it, and this service does not run projects' code on its own machine: start `serve`/`worker` with --allow-local-target, or deploy it with the CLI",
                site.name
            )));
        }
        let build = site_build_decision(&p.decision, site, url)?;
        let id = format!("{}-site", self.id());
        let lopts = self.local_options();
        let _ = autodeploy_local::stop_and_remove(&id, &lopts);
        rep.log(
            LogStream::System,
            &format!(
                "{}: building the site on this machine (install and build confined as for a local deploy), then uploading it",
                site.name
            ),
        );
        let sink = |s: LogStream, l: &str| rep.log(s, &format!("site build: {l}"));
        let built =
            autodeploy_local::start(&id, &p.snapshot.root, &p.analysis, &build, &lopts, &sink);
        let result = match built {
            Ok(app) => {
                let dir = autodeploy_local::static_root(&app, site);
                crate::release::release_site(&self.cfg, &p.decision, outputs, &dir, rep)
            }
            Err(e) => Err(ExecError::Local {
                phase: Phase::Release,
                source: e,
            }),
        };
        let _ = autodeploy_local::stop_and_remove(&id, &lopts);
        result
    }

    fn local_options(&self) -> autodeploy_local::LocalOptions {
        let mut o = autodeploy_local::LocalOptions::new(self.cfg.home.clone());
        o.health_timeout = self.cfg.health_timeout;
        o.port = self.cfg.local_port;
        o.supervisor_exe = self.cfg.supervisor_exe.clone();
        o
    }

    fn bundle_dir(&self) -> PathBuf {
        self.cfg.deployment_dir(self.id()).join("bundle")
    }

    fn deploy_cloud(&self, p: &Prepared, rep: &dyn Reporter) -> Result<Done, ExecError> {
        check_automated(&p.decision)?;
        check_inputs(&p.decision, &self.cfg.tf_vars)?;
        let (_, secrets) = self.user_values()?;
        if !secrets.is_empty() && p.decision.cloud != Cloud::Aws {
            // Said before anything is created.
            return Err(ExecError::Invalid(
                crate::release::user_secrets_unsupported(&p.decision),
            ));
        }
        let identity = if p.decision.cloud == Cloud::Aws {
            Some(crate::release::preflight(
                &self.cfg,
                &p.decision,
                &p.bundle,
                rep,
            )?)
        } else {
            None
        };
        let rehearsal = self.rehearse(p, rep)?;
        self.check_cancel()?;
        let mut done = self.apply_bundle(
            &p.decision,
            &p.bundle,
            crate::bundle::Source::Tree(&p.snapshot.root),
            rep,
        )?;
        if let Some(map) = done.outputs.as_object_mut() {
            map.insert("rehearsal".into(), rehearsal);
        }
        if let (Some(id), Some(map)) = (identity, done.outputs.as_object_mut()) {
            // Who deployed, next to what (`status`, `--json`).
            map.insert(
                "aws_identity".into(),
                serde_json::json!({ "account": id.account, "arn": id.arn }),
            );
        }
        self.check_cancel()?;
        let outputs = done.outputs.as_object().cloned().unwrap_or_default();
        rep.phase(Phase::Release);
        crate::release::fill_user_secrets(&self.cfg, &p.decision, &outputs, &secrets, rep)?;
        crate::release::release(&self.cfg, &p.decision, &outputs, &p.snapshot.root, rep)?;
        self.check_cancel()?;
        self.release_site(p, &outputs, done.url.as_deref().unwrap_or_default(), rep)?;
        self.check_cancel()?;

        rep.phase(Phase::Health);
        let Some(url) = done.url.clone() else {
            rep.log(
                LogStream::System,
                "the bundle has no `url` output; health check skipped",
            );
            return Ok(done);
        };
        if self.cfg.aws_endpoint.is_some() {
            rep.log(
                LogStream::System,
                "AWS endpoint override (emulator): nothing it creates is reachable, health check skipped",
            );
            done.status = DeploymentStatus::Applied;
            return Ok(done);
        }
        let mut path = p
            .decision
            .services
            .iter()
            .find_map(|s| s.health_check.as_ref().map(|h| h.path.clone()))
            .unwrap_or_else(|| "/".into());
        // Through a site in front, the API's check goes through the path it
        // forwards: the whole way in is checked, not the site's index.html.
        if let Some(route) = p.decision.site_front().and_then(|s| s.api_route.as_ref()) {
            let api = p.decision.service(&route.service);
            path = match api.and_then(|s| s.health_check.as_ref()) {
                Some(h) => format!("{}{}", route.path_prefix, h.path),
                None => "/".into(),
            };
        }
        let target = format!("{}{}", url.trim_end_matches('/'), path);
        rep.log(
            LogStream::System,
            &format!(
                "waiting up to {} s for {target} to answer",
                self.cfg.health_timeout.as_secs()
            ),
        );
        match wait_healthy(&target, self.cfg.health_timeout, |pr| {
            rep.log(LogStream::System, &format!("not yet: {pr}"))
        }) {
            Ok(pr) => {
                rep.log(LogStream::System, &format!("{target} answered {pr}"));
            }
            Err(pr) => {
                done.status = DeploymentStatus::Unhealthy;
                done.error = Some(unhealthy_message(&target, &pr, self.cfg.health_timeout));
            }
        }
        Ok(done)
    }

    /// Write the bundle, then terraform init → plan → apply → output.
    fn apply_bundle(
        &self,
        decision: &Decision,
        bundle: &autodeploy_render::Bundle,
        source: crate::bundle::Source,
        rep: &dyn Reporter,
    ) -> Result<Done, ExecError> {
        let dir = self.bundle_dir();
        crate::bundle::write_bundle(bundle, &dir, source)?;
        let tf = self.terraform()?;
        let mut ws = self.workspace(decision);
        if decision
            .services
            .iter()
            .any(|s| s.hosting == Hosting::EcsFargate)
            && !ws.vars.iter().any(|(k, _)| k == "image_tag")
        {
            // ECR tags are immutable: every release builds a new tag.
            ws.vars.push(("image_tag".into(), release_tag(decision)));
        }
        let sink = |s: LogStream, l: &str| rep.log(s, l);
        ws.prepare()
            .map_err(ExecError::terraform(Phase::TerraformInit))?;
        rep.phase(Phase::TerraformInit);
        tf.init(&ws, &sink)
            .map_err(ExecError::terraform(Phase::TerraformInit))?;
        self.check_cancel()?;
        rep.phase(Phase::TerraformPlan);
        let summary = tf
            .plan(&ws, false, &sink)
            .map_err(ExecError::terraform(Phase::TerraformPlan))?;
        if !summary.changes {
            rep.log(
                LogStream::System,
                "terraform: infrastructure already matches the plan",
            );
        }
        self.check_cancel()?;
        rep.phase(Phase::TerraformApply);
        tf.apply(&ws, &sink)
            .map_err(ExecError::terraform(Phase::TerraformApply))?;
        let outputs = tf
            .output(&ws)
            .map_err(ExecError::terraform(Phase::TerraformApply))?;
        let mut map = Map::new();
        for (k, v) in outputs {
            map.insert(
                k,
                if v.sensitive {
                    Value::String("(sensitive)".into())
                } else {
                    v.value
                },
            );
        }
        if let Some((_, tag)) = ws.vars.iter().find(|(k, _)| k == "image_tag") {
            // Destroy (and `--force`) must plan with the same tag, or the
            // plan would also rebuild the build project and the services.
            map.insert("image_tag".into(), Value::String(tag.clone()));
        }
        let url = map.get("url").and_then(|v| v.as_str()).map(str::to_string);
        Ok(Done {
            status: DeploymentStatus::Healthy,
            url,
            outputs: Value::Object(map),
            error: None,
            keep_previous_plan: false,
        })
    }

    fn terraform(&self) -> Result<autodeploy_terraform::Terraform, ExecError> {
        Ok(autodeploy_terraform::Terraform::discover(
            self.cfg.terraform_bin.as_deref(),
            &self.cfg.home,
        )
        .map_err(ExecError::terraform(Phase::TerraformInit))?
        .with_cancel(self.cancel.clone(), TERRAFORM_INTERRUPT_GRACE))
    }

    fn workspace(&self, decision: &Decision) -> autodeploy_terraform::Workspace {
        let backend = match &self.cfg.state_database_url {
            Some(url) if url.starts_with("s3://") => {
                let (bucket, prefix, region) = parse_s3_state(url, &decision.region);
                autodeploy_terraform::Backend::S3 {
                    bucket,
                    key: format!("{prefix}{}/terraform.tfstate", self.id()),
                    region,
                }
            }
            Some(url) => autodeploy_terraform::Backend::Pg {
                conn_str: url.clone(),
                schema: state_schema(self.id()),
            },
            None => autodeploy_terraform::Backend::Local,
        };
        autodeploy_terraform::Workspace {
            dir: self.bundle_dir().join("terraform"),
            backend,
            vars: {
                let mut v = DeployOptions::from_value(&self.rec.options).vars;
                for (k, val) in &self.cfg.tf_vars {
                    v.retain(|(n, _)| n != k);
                    v.push((k.clone(), val.clone()));
                }
                v
            },
            aws_endpoint: if decision.cloud == Cloud::Aws {
                self.cfg.aws_endpoint.clone()
            } else {
                None
            },
        }
    }

    fn destroy(&self, rep: &dyn Reporter) -> Result<Done, ExecError> {
        rep.phase(Phase::Destroy);
        let cloud = self.rec.cloud.as_deref();
        let stored = self
            .rec
            .plan
            .as_ref()
            .and_then(|v| serde_json::from_value::<StoredPlan>(v.clone()).ok());
        if cloud == Some("local")
            || stored
                .as_ref()
                .is_some_and(|s| s.decision.cloud == Cloud::Local)
        {
            rep.log(LogStream::System, "stopping the app and removing its files");
            let opts = self.local_options();
            autodeploy_local::stop_and_remove(self.id(), &opts)
                .map_err(ExecError::local(Phase::Destroy))?;
            for line in autodeploy_local::release_data(self.id(), &opts, self.cfg.keep_data)
                .map_err(ExecError::local(Phase::Destroy))?
            {
                rep.log(LogStream::System, &line);
            }
        } else if let Some(stored) = stored {
            let tf_dir = self.bundle_dir().join("terraform");
            if !tf_dir.join("main.tf").exists() {
                rep.log(
                    LogStream::System,
                    "the bundle is not on this machine; rendering it again from the stored plan",
                );
                let bundle = stored.render()?;
                let dir = self.bundle_dir();
                crate::bundle::write_bundle(&bundle, &dir, crate::bundle::Source::Placeholder)?;
            }
            let protected = stored
                .decision
                .database
                .as_ref()
                .is_some_and(|db| db.deletion_protection);
            if protected && !self.cfg.force_destroy {
                return Err(ExecError::Protected {
                    id: self.id().to_string(),
                    environment: stored.decision.environment.as_str().to_string(),
                    final_snapshot: stored
                        .decision
                        .database
                        .as_ref()
                        .is_some_and(|d| d.final_snapshot),
                });
            }
            let tf = self.terraform()?;
            let mut ws = self.workspace(&stored.decision);
            if let Some(tag) = self.rec.outputs.get("image_tag").and_then(|v| v.as_str()) {
                if !ws.vars.iter().any(|(k, _)| k == "image_tag") {
                    ws.vars.push(("image_tag".into(), tag.to_string()));
                }
            }
            let sink = |s: LogStream, l: &str| rep.log(s, l);
            ws.prepare().map_err(ExecError::terraform(Phase::Destroy))?;
            tf.init(&ws, &sink)
                .map_err(ExecError::terraform(Phase::Destroy))?;
            if protected {
                rep.log(
                    LogStream::System,
                    "--force: turning off the database's deletion protection first",
                );
                ws.vars
                    .push(("database_deletion_protection".into(), "false".into()));
                tf.plan(&ws, false, &sink)
                    .and_then(|_| tf.apply(&ws, &sink))
                    .map_err(ExecError::terraform(Phase::Destroy))?;
            }
            tf.destroy(&ws, &sink)
                .map_err(ExecError::terraform(Phase::Destroy))?;
            let left = tf
                .state_resources(&ws)
                .map_err(ExecError::terraform(Phase::Destroy))?;
            if !left.is_empty() {
                return Err(ExecError::Leftovers { left });
            }
            rep.log(LogStream::System, "every resource in the state is gone");
        } else {
            rep.log(
                LogStream::System,
                "nothing was planned for this deployment, so nothing was created",
            );
        }
        let forgotten = self.handle.block_on(self.store.delete_secrets(self.id()))?;
        if forgotten > 0 {
            rep.log(
                LogStream::System,
                &format!("forgot the {forgotten} secret value(s) given for this deployment"),
            );
        }
        let dir = self.cfg.deployment_dir(self.id());
        if self.cfg.state_database_url.is_some() || self.rec.cloud.as_deref() == Some("local") {
            let _ = std::fs::remove_dir_all(dir.join("bundle"));
        }
        Ok(Done {
            status: DeploymentStatus::Destroyed,
            url: None,
            outputs: json!({}),
            error: None,
            keep_previous_plan: false,
        })
    }
}

/// A new image tag per release: the commit (when known) and the time.
fn release_tag(d: &Decision) -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|t| t.as_secs())
        .unwrap_or(0);
    match d.source.commit.as_deref() {
        Some(c) => format!("{}-{secs}", &c[..c.len().min(12)]),
        None => format!("r{secs}"),
    }
}

/// `s3://bucket/prefix/?region=eu-west-1` → (bucket, `prefix/`, region);
/// the region defaults to the deployment's.
pub fn parse_s3_state(url: &str, default_region: &str) -> (String, String, String) {
    let rest = url.trim_start_matches("s3://");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (bucket, prefix) = path.split_once('/').unwrap_or((path, ""));
    let region = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("region="))
        .filter(|r| !r.is_empty())
        .unwrap_or(default_region);
    let prefix = prefix.trim_matches('/');
    let prefix = if prefix.is_empty() {
        "autodeploy/".to_string()
    } else {
        format!("{prefix}/")
    };
    (bucket.to_string(), prefix, region.to_string())
}

/// The PostgreSQL schema holding one deployment's Terraform state.
pub fn state_schema(id: &str) -> String {
    let clean: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("autodeploy_state_{clean}")
}

fn unhealthy_message(target: &str, last: &Probe, timeout: Duration) -> String {
    format!(
        "{target} did not answer with 2xx/3xx within {} s (last: {last}); the infrastructure is up — check the app's logs on the platform, fix and `autodeploy redeploy`",
        timeout.as_secs()
    )
}

/// Refuse, before anything is created, cloud deployments whose post-apply
/// steps autodeploy cannot do yet — never leave half a deployment behind.
/// Settings the app needs that nothing gives a value (bundle input
/// variables left without `--env NAME=VALUE` or `--var name=value`): said
/// before the rehearsal and before Terraform, which would stop at its plan.
fn check_inputs(d: &Decision, tf_vars: &[(String, String)]) -> Result<(), ExecError> {
    let mut missing: Vec<String> = Vec::new();
    for s in &d.services {
        for e in &s.env {
            if let autodeploy_core::EnvValue::Input { variable } = &e.value {
                let given = tf_vars.iter().any(|(k, _)| k == variable);
                let line = format!("--env {}=…", e.name);
                if !given && !missing.contains(&line) {
                    missing.push(line);
                }
            }
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(ExecError::ValuesNeeded { flags: missing })
}

/// The local plan that builds `site` for the cloud: that service alone, on
/// the local runner, with the cloud plan's values. A value only the cloud
/// has and the build cannot be given (a database URL in a site's build)
/// stops the deploy with its name.
fn site_build_decision(d: &Decision, site: &ServicePlan, url: &str) -> Result<Decision, ExecError> {
    let host = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest)
        .trim_end_matches('/')
        .to_string();
    let mut svc = site.clone();
    svc.hosting = Hosting::LocalProcess;
    svc.strategy = DeployStrategy::Process;
    svc.api_route = None;
    for e in &mut svc.env {
        let value = match &e.value {
            EnvValue::Literal { value } => value.clone(),
            EnvValue::Deployment {
                output: DeploymentOutput::PublicUrl,
            } if !url.is_empty() => url.to_string(),
            EnvValue::Deployment {
                output: DeploymentOutput::PublicHost | DeploymentOutput::AllowedHosts,
            } if !host.is_empty() => host.clone(),
            other => {
                return Err(ExecError::Invalid(format!(
                    "the static site `{}` reads {} at build time from {other:?}, which a site's build on this machine cannot be given: set it with --env {}=VALUE",
                    site.name, e.name, e.name
                )))
            }
        };
        e.value = EnvValue::Literal { value };
    }
    let mut local = d.clone();
    local.cloud = Cloud::Local;
    local.region = "local".into();
    local.strategy = DeployStrategy::Process;
    local.services = vec![svc];
    local.cluster = None;
    local.database = None;
    local.cache = None;
    local.load_balancer = None;
    local.network = None;
    local.tls = autodeploy_core::TlsPlan {
        https: false,
        domain: None,
        certificate: None,
        dns: None,
        redirect_http_to_https: false,
    };
    local.secrets.clear();
    Ok(local)
}

fn check_automated(d: &Decision) -> Result<(), ExecError> {
    // (A GCP or Azure machine fed from a local folder never gets here:
    // render refuses it, `vm_service::needs_a_git_source`.)
    for s in &d.services {
        if !s.hosting.release_automated() {
            return Err(ExecError::Invalid(format!(
                "deploying {} ({:?}) is not automated yet: the image build and rollout after `terraform apply` are not written for it. `autodeploy plan` writes the bundle (Terraform, Dockerfile, manifests) to apply by hand; or ask for a VM (\"on a VM\"){}",
                s.name,
                s.hosting,
                if d.strategy == DeployStrategy::Kubernetes {
                    " or ECS (\"in containers on AWS\")"
                } else {
                    ""
                }
            )));
        }
    }
    Ok(())
}

/// What changed between two decisions, in lines a person reads before a
/// redeploy is applied (Terraform's own plan follows in the log).
pub fn plan_diff(old: &Decision, new: &Decision) -> Vec<String> {
    let mut out = Vec::new();
    if old.source.commit != new.source.commit {
        out.push(format!(
            "commit: {} → {}",
            old.source.commit.as_deref().unwrap_or("none"),
            new.source.commit.as_deref().unwrap_or("none")
        ));
    }
    let pairs = [
        (
            "cloud",
            old.cloud.as_str().to_string(),
            new.cloud.as_str().to_string(),
        ),
        ("region", old.region.clone(), new.region.clone()),
        (
            "strategy",
            old.strategy.as_str().to_string(),
            new.strategy.as_str().to_string(),
        ),
        (
            "monthly estimate",
            format!("${:.2}", old.estimated_monthly_usd),
            format!("${:.2}", new.estimated_monthly_usd),
        ),
    ];
    for (what, a, b) in pairs {
        if a != b {
            out.push(format!("{what}: {a} → {b}"));
        }
    }
    let old_v = serde_json::to_value(&old.services).unwrap_or(Value::Null);
    let new_v = serde_json::to_value(&new.services).unwrap_or(Value::Null);
    if old_v != new_v {
        out.push("services: changed (sizes, commands, env or scaling)".into());
    }
    if out.is_empty() {
        out.push("plan unchanged: same commit and same decision".into());
    }
    out
}

#[cfg(test)]
mod tests {

    fn decision(request: &str, kind: autodeploy_core::SourceKind) -> Decision {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/hello_world_shape");
        let mut a = autodeploy_analyze::analyze_dir(
            &root,
            autodeploy_core::SourceInfo {
                input: "/home/me/app".into(),
                kind,
                commit: None,
            },
            &Default::default(),
        )
        .unwrap();
        a.source.kind = kind;
        let intent = autodeploy_parse::parse(request);
        autodeploy_decide::decide(&a, &intent, &Default::default()).unwrap()
    }

    #[test]
    fn settings_without_a_value_stop_the_deploy_before_anything_runs() {
        let mut d = decision("on AWS ECS", autodeploy_core::SourceKind::Path);
        assert!(check_inputs(&d, &[]).is_ok());
        d.services[0].env.push(autodeploy_core::EnvBinding {
            name: "PROJECT_NAME".into(),
            value: autodeploy_core::EnvValue::Input {
                variable: "project_name".into(),
            },
            secret: false,
            reason: "the code needs it".into(),
        });
        let text = check_inputs(&d, &[]).unwrap_err().to_string();
        assert!(text.contains("--env PROJECT_NAME=…"), "{text}");
        assert!(text.contains("and deploy again"), "{text}");
        // `--var` fills the bundle's variable directly.
        let given = [("project_name".to_string(), "x".to_string())];
        assert!(check_inputs(&d, &given).is_ok());
    }
    use super::*;

    #[test]
    fn options_read_the_cli_and_the_api_forms() {
        let cli = DeployOptions::from_value(&json!({"git_ref": "main", "env": [["A", "1"]]}));
        assert_eq!(cli.git_ref.as_deref(), Some("main"));
        assert_eq!(cli.env, vec![("A".to_string(), "1".to_string())]);
        let api = DeployOptions::from_value(
            &json!({"target": "local", "ref": "v2", "env": {"B": "2", "api:C": "3"}}),
        );
        assert_eq!(api.target, Some(Cloud::Local));
        assert_eq!(api.git_ref.as_deref(), Some("v2"));
        assert_eq!(
            api.env,
            vec![
                ("B".to_string(), "2".to_string()),
                ("api:C".into(), "3".into())
            ]
        );
    }

    #[test]
    fn s3_state_urls() {
        assert_eq!(
            parse_s3_state("s3://tf-state/teams/web?region=eu-west-1", "us-east-1"),
            ("tf-state".into(), "teams/web/".into(), "eu-west-1".into())
        );
        assert_eq!(
            parse_s3_state("s3://tf-state", "us-east-1"),
            ("tf-state".into(), "autodeploy/".into(), "us-east-1".into())
        );
    }

    #[test]
    fn state_schemas_are_one_per_deployment_and_safe() {
        assert_eq!(state_schema("dep_0a1B"), "autodeploy_state_dep_0a1b");
        assert_ne!(state_schema("dep_a"), state_schema("dep_b"));
    }
}
