//! Executing a deployment end to end — deploy, redeploy, destroy — for the
//! CLI and for service workers alike. Async at the top (it talks to the
//! store), blocking underneath (Terraform, builds, health checks run on a
//! blocking thread).
//!
//! Every step is safe to run again: Terraform state makes apply idempotent,
//! the local target reuses a process that is already up and healthy, and
//! destroy of something already gone succeeds. That is what lets a worker
//! pick up a job whose previous worker died.

use crate::config::{ExecConfig, OnFailure};
use crate::health::{wait_healthy, Probe};
use crate::prepare::{prepare, PrepareOptions, Prepared, StoredPlan};
use crate::report::{drain, ChannelReporter, Progress, Reporter};
use crate::{runner, ExecError};
use autodeploy_core::{
    Cloud, Decision, DeployStrategy, DeploymentStatus, Hosting, JobKind, LogStream, Phase,
};
use autodeploy_store::{Deployment, DeploymentPatch, Job, JobOutcome, Store};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::runtime::Handle;

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
    let rec = store
        .get_deployment(id)
        .await?
        .ok_or_else(|| ExecError::NotFound { id: id.to_string() })?;
    let running = match kind {
        JobKind::Destroy => DeploymentStatus::Destroying,
        _ => DeploymentStatus::Running,
    };
    store
        .update_deployment(
            id,
            DeploymentPatch {
                status: Some(running),
                error: Some(None),
                workdir: Some(Some(cfg.deployment_dir(id).display().to_string())),
                ..Default::default()
            },
        )
        .await?;
    let dir = cfg.deployment_dir(id);
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
        let r = r.unwrap_or_else(|e| ctx.failed(kind, e, &rep));
        drop(rep);
        r
    })
    .await
    .map_err(|e| ExecError::Invalid(format!("the execution thread failed: {e}")))?;
    let _ = drainer.await;
    runner::release(&dir);

    let patch = DeploymentPatch {
        status: Some(result.status),
        url: Some(result.url),
        outputs: Some(result.outputs),
        error: Some(result.error),
        phase: if result.status.is_final() && result.status != DeploymentStatus::Failed {
            Some(None)
        } else {
            None
        },
        ..Default::default()
    };
    Ok(store.update_deployment(id, patch).await?)
}

/// Run one claimed job of the queue to its end (service workers).
pub async fn run_job(store: Arc<dyn Store>, cfg: Arc<ExecConfig>, job: Job) -> JobOutcome {
    run_job_cancellable(store, cfg, job, Arc::new(AtomicBool::new(false))).await
}

/// [`run_job`] with a flag the worker sets when it lost the job's lease or
/// the job was cancelled; execution stops at the next phase boundary.
pub async fn run_job_cancellable(
    store: Arc<dyn Store>,
    cfg: Arc<ExecConfig>,
    job: Job,
    cancel: Arc<AtomicBool>,
) -> JobOutcome {
    match execute(store, cfg, &job.deployment_id, job.kind, None, None, cancel).await {
        Ok(d) if d.status == DeploymentStatus::Failed => {
            let err = d.error.unwrap_or_else(|| "failed".into());
            if is_transient_text(&err) {
                JobOutcome::Retry {
                    error: err,
                    delay: Duration::from_secs(15),
                }
            } else {
                JobOutcome::Failed { error: err }
            }
        }
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

fn is_transient_text(s: &str) -> bool {
    let m = s.to_ascii_lowercase();
    m.contains("state lock") || m.contains("throttl") || m.contains("rate exceeded")
}

/// When the process executing a CLI deployment died, say so in the store
/// (`interrupted`). Returns the (possibly updated) deployment.
pub async fn reconcile(
    store: &Arc<dyn Store>,
    cfg: &ExecConfig,
    d: Deployment,
) -> Result<Deployment, ExecError> {
    if !matches!(
        d.status,
        DeploymentStatus::Running | DeploymentStatus::Destroying
    ) {
        return Ok(d);
    }
    if runner::alive(&cfg.deployment_dir(&d.id)) != Some(false) {
        return Ok(d);
    }
    let phase = d.phase.map(|p| p.as_str()).unwrap_or("start");
    let msg = format!(
        "the process running this deployment stopped during {phase}; what was applied is kept in its Terraform state — run `autodeploy destroy {}` to clean up or `autodeploy redeploy {}` to try again",
        d.id, d.id
    );
    Ok(store
        .update_deployment(
            &d.id,
            DeploymentPatch {
                status: Some(DeploymentStatus::Interrupted),
                error: Some(Some(msg)),
                ..Default::default()
            },
        )
        .await?)
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

    fn patch(&self, patch: DeploymentPatch) -> Result<Deployment, ExecError> {
        Ok(self
            .handle
            .block_on(self.store.update_deployment(&self.rec.id, patch))?)
    }

    fn check_cancel(&self) -> Result<(), ExecError> {
        if self.cancel.load(Ordering::SeqCst) {
            return Err(ExecError::Cancelled);
        }
        Ok(())
    }

    fn failed(&self, kind: JobKind, e: ExecError, rep: &dyn Reporter) -> Done {
        let message = e.to_string();
        rep.log(LogStream::System, &format!("error: {message}"));
        let next = match (&e, kind) {
            (ExecError::Cancelled, _) => String::new(),
            (_, JobKind::Destroy) => format!(
                " — fix the cause and run `autodeploy destroy {}` again; the Terraform state is kept",
                self.id()
            ),
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
        let status = if matches!(e, ExecError::Cancelled) {
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
                        let mut back = self.apply_bundle(&prev.decision, &bundle, rep)?;
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
                    &format!("{} answered; serving at {}", app.url, app.url),
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
                    url: Some(app.url.clone()),
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
            Err(e) => Err(ExecError::phase(Phase::AppStart, e.to_string())),
        }
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
        let mut done = self.apply_bundle(&p.decision, &p.bundle, rep)?;
        self.check_cancel()?;
        let outputs = done.outputs.as_object().cloned().unwrap_or_default();
        rep.phase(Phase::Release);
        crate::release::release(&self.cfg, &p.decision, &outputs, &p.snapshot.root, rep)
            .map_err(|e| ExecError::phase(Phase::Release, e))?;
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
        let path = p
            .decision
            .services
            .iter()
            .find_map(|s| s.health_check.as_ref().map(|h| h.path.clone()))
            .unwrap_or_else(|| "/".into());
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
        rep: &dyn Reporter,
    ) -> Result<Done, ExecError> {
        let dir = self.bundle_dir();
        bundle.write_to(&dir).map_err(|e| {
            ExecError::io(
                format!("could not write the bundle to {}", dir.display()),
                e,
            )
        })?;
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
            .map_err(|e| ExecError::phase(Phase::TerraformInit, e.to_string()))?;
        rep.phase(Phase::TerraformInit);
        tf.init(&ws, &sink)
            .map_err(|e| ExecError::phase(Phase::TerraformInit, e.to_string()))?;
        self.check_cancel()?;
        rep.phase(Phase::TerraformPlan);
        let summary = tf
            .plan(&ws, false, &sink)
            .map_err(|e| ExecError::phase(Phase::TerraformPlan, e.to_string()))?;
        if !summary.changes {
            rep.log(
                LogStream::System,
                "terraform: infrastructure already matches the plan",
            );
        }
        self.check_cancel()?;
        rep.phase(Phase::TerraformApply);
        tf.apply(&ws, &sink)
            .map_err(|e| ExecError::phase(Phase::TerraformApply, e.to_string()))?;
        let outputs = tf
            .output(&ws)
            .map_err(|e| ExecError::phase(Phase::TerraformApply, e.to_string()))?;
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
        autodeploy_terraform::Terraform::discover(self.cfg.terraform_bin.as_deref(), &self.cfg.home)
            .map_err(|e| ExecError::phase(Phase::TerraformInit, e.to_string()))
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
                .map_err(|e| ExecError::phase(Phase::Destroy, e.to_string()))?;
            for line in autodeploy_local::release_data(self.id(), &opts, self.cfg.keep_data)
                .map_err(|e| ExecError::phase(Phase::Destroy, e.to_string()))?
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
                bundle.write_to(&dir).map_err(|e| {
                    ExecError::io(
                        format!("could not write the bundle to {}", dir.display()),
                        e,
                    )
                })?;
            }
            let protected = stored
                .decision
                .database
                .as_ref()
                .is_some_and(|db| db.deletion_protection);
            if protected && !self.cfg.force_destroy {
                return Err(ExecError::phase(
                    Phase::Destroy,
                    format!(
                        "its database has deletion protection ({} environment), so nothing was deleted; `autodeploy destroy {} --force` turns the protection off and deletes everything, the database included{}",
                        stored.decision.environment.as_str(),
                        self.id(),
                        if stored.decision.database.as_ref().is_some_and(|d| d.final_snapshot) {
                            " (a final snapshot is kept)"
                        } else {
                            ""
                        }
                    ),
                ));
            }
            let tf = self.terraform()?;
            let mut ws = self.workspace(&stored.decision);
            if let Some(tag) = self.rec.outputs.get("image_tag").and_then(|v| v.as_str()) {
                if !ws.vars.iter().any(|(k, _)| k == "image_tag") {
                    ws.vars.push(("image_tag".into(), tag.to_string()));
                }
            }
            let sink = |s: LogStream, l: &str| rep.log(s, l);
            ws.prepare()
                .map_err(|e| ExecError::phase(Phase::Destroy, e.to_string()))?;
            tf.init(&ws, &sink)
                .map_err(|e| ExecError::phase(Phase::Destroy, e.to_string()))?;
            if protected {
                rep.log(
                    LogStream::System,
                    "--force: turning off the database's deletion protection first",
                );
                ws.vars
                    .push(("database_deletion_protection".into(), "false".into()));
                tf.plan(&ws, false, &sink)
                    .and_then(|_| tf.apply(&ws, &sink))
                    .map_err(|e| ExecError::phase(Phase::Destroy, e.to_string()))?;
            }
            tf.destroy(&ws, &sink)
                .map_err(|e| ExecError::phase(Phase::Destroy, e.to_string()))?;
            let left = tf
                .state_resources(&ws)
                .map_err(|e| ExecError::phase(Phase::Destroy, e.to_string()))?;
            if !left.is_empty() {
                return Err(ExecError::phase(
                    Phase::Destroy,
                    format!(
                        "{} resources are still in the state after destroy: {}",
                        left.len(),
                        left.join(", ")
                    ),
                ));
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
fn check_automated(d: &Decision) -> Result<(), ExecError> {
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
