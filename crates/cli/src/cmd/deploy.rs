//! `autodeploy deploy SOURCE "TEXT"`, `redeploy ID`, `destroy ID`: show what
//! will happen and what it costs, ask (unless `--yes`), execute with progress
//! per phase, and end with the URL — or the failed phase, the last lines of
//! its log, and what to do next.
//!
//! Ctrl-C while executing stops cleanly: the first one asks the execution to
//! stop (a running terraform is interrupted and saves its state), the
//! deployment ends `cancelled` and the message says what was kept; a second
//! Ctrl-C exits at once (terraform still gets SIGTERM and saves its state).

use crate::cmd::common::{
    acting_user, exec_config, open_store, runtime, ExecArgs, StateArgs, UserArgs,
};
use crate::cmd::values::{merge, read_secrets, ValueArgs};
use crate::error::CliError;
use crate::output::deployment_json;
use crate::progress::{Mode, Paint, Phases, Say};
use autodeploy_core::{Cloud, DeploymentStatus, JobKind, LogStream, Phase};
use autodeploy_execute::{
    execute, prepare, DeployOptions, Event, OnFailure, PrepareOptions, Prepared, Progress, Reporter,
};
use autodeploy_render::escape::display;
use autodeploy_store::{Deployment, NewDeployment, Store, User};
use clap::Args;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

#[derive(Args)]
pub struct DeployArgs {
    /// Git URL, local folder, or .zip/.tar.gz archive.
    pub source: String,
    /// The request in plain English (`-` reads it from stdin).
    pub request: String,
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Make another deployment even when this source is already deployed to
    /// the same cloud (by default that is refused, or asked on a terminal:
    /// `autodeploy redeploy ID` updates the one there is).
    #[arg(long = "another")]
    pub another: bool,
    /// Force the target: local (this machine), aws, gcp, azure.
    #[arg(long, value_name = "TARGET")]
    pub target: Option<String>,
    /// Branch, tag or commit to deploy (git sources).
    #[arg(long = "ref", value_name = "REF")]
    pub git_ref: Option<String>,
    /// When the app does not come up: keep (default for a first deploy) or destroy.
    #[arg(long = "on-failure", value_name = "keep|destroy")]
    pub on_failure: Option<String>,
    /// Cloud targets: do not run the plan on this machine first (by default a
    /// cloud deploy is rehearsed locally — the same services, settings,
    /// release steps and health check — and applied only if it answers).
    #[arg(long = "no-rehearse")]
    pub no_rehearse: bool,
    /// Print the final deployment as JSON (progress still goes to stderr).
    #[arg(long)]
    pub json: bool,
    /// With --json: the whole record, the plan and the last healthy plan included.
    #[arg(long, requires = "json")]
    pub full: bool,
    /// Also show the output of every command (terraform, pip, npm…).
    #[arg(long, short = 'v')]
    pub verbose: bool,
    #[command(flatten)]
    pub values: ValueArgs,
    #[command(flatten)]
    pub exec: ExecArgs,
    #[command(flatten)]
    pub user: UserArgs,
    #[command(flatten)]
    pub state: StateArgs,
}

#[derive(Args)]
pub struct RedeployArgs {
    /// The deployment (see `autodeploy list`).
    pub id: String,
    /// A changed request (default: the one it was deployed with); `-` reads stdin.
    #[arg(long, value_name = "TEXT")]
    pub request: Option<String>,
    /// Print the final deployment as JSON (progress still goes to stderr).
    #[arg(long)]
    pub json: bool,
    /// With --json: the whole record, the plan and the last healthy plan included.
    #[arg(long, requires = "json")]
    pub full: bool,
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// Stop setting an environment variable given earlier with --env (repeatable).
    #[arg(long = "unset-env", value_name = "NAME")]
    pub unset_env: Vec<String>,
    #[command(flatten)]
    pub values: ValueArgs,
    #[command(flatten)]
    pub exec: ExecArgs,
    #[command(flatten)]
    pub user: UserArgs,
    #[command(flatten)]
    pub state: StateArgs,
}

#[derive(Args)]
pub struct DestroyArgs {
    /// The deployment (see `autodeploy list`).
    pub id: String,
    /// Also delete a database that has deletion protection (production): turns the protection off first.
    #[arg(long)]
    pub force: bool,
    /// Local target: keep the deployment's databases (and Redis data) instead of dropping them.
    #[arg(long = "keep-data")]
    pub keep_data: bool,
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Print the final deployment as JSON (progress still goes to stderr).
    #[arg(long)]
    pub json: bool,
    /// With --json: the whole record, the plan and the last healthy plan included.
    #[arg(long, requires = "json")]
    pub full: bool,
    #[arg(long, short = 'v')]
    pub verbose: bool,
    #[command(flatten)]
    pub exec: ExecArgs,
    #[command(flatten)]
    pub user: UserArgs,
    #[command(flatten)]
    pub state: StateArgs,
}

/// A flag that turns true on the first Ctrl-C (SIGINT) or SIGTERM; the
/// second one exits at once with 130. Call inside the runtime. What it says
/// goes through `say` (above the spinner on a terminal).
fn stop_on_signal(say: Say) -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    tokio::spawn(async move {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        for round in 0..2 {
            tokio::select! {
                r = tokio::signal::ctrl_c() => { r.ok(); }
                _ = recv_term(&mut term) => {}
            }
            if round == 0 {
                f.store(true, std::sync::atomic::Ordering::SeqCst);
                say("\n==> stopping: the current step is interrupted and its state saved (Ctrl-C again to quit at once)");
            } else {
                say("==> quitting now; a running terraform still saves its state before it exits");
                std::process::exit(130);
            }
        }
    });
    flag
}

async fn recv_term(t: &mut Option<tokio::signal::unix::Signal>) {
    match t {
        Some(t) => {
            t.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}

pub fn phase_title(p: Phase) -> &'static str {
    match p {
        Phase::Fetch => "fetch: getting the source",
        Phase::Analyze => "analyze: working out what the app is",
        Phase::Plan => "plan: reading the request and deciding the infrastructure",
        Phase::Rehearse => "rehearse: running the plan on this machine first",
        Phase::TerraformInit => "terraform init",
        Phase::TerraformPlan => "terraform plan",
        Phase::TerraformApply => "terraform apply",
        Phase::Release => "release: uploading the code and rolling it out",
        Phase::AppStart => "app start: preparing, building and starting the app",
        Phase::Health => "health: waiting for the app to answer",
        Phase::Destroy => "destroy",
    }
}

struct PrintReporter(Progress);

impl Reporter for PrintReporter {
    fn phase(&self, p: Phase) {
        (self.0)(&Event::Phase(p));
    }
    fn log(&self, stream: LogStream, line: &str) {
        (self.0)(&Event::Log {
            stream,
            phase: None,
            line: line.to_string(),
        });
    }
}

fn parse_target(t: &str) -> anyhow::Result<Cloud> {
    Ok(match t.to_ascii_lowercase().as_str() {
        "local" => Cloud::Local,
        "aws" => Cloud::Aws,
        "gcp" | "google" => Cloud::Gcp,
        "azure" => Cloud::Azure,
        other => {
            return Err(CliError::invalid(
                format!("unknown --target {other:?}"),
                Some("use local, aws, gcp or azure"),
            )
            .into())
        }
    })
}

/// Ask on the terminal; refuse when nobody can answer.
fn confirm(question: &str, yes: bool) -> anyhow::Result<bool> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::ConfirmationRequired.into());
    }
    err!("{question} [y/N] ");
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// A local folder or archive as an absolute path (a redeploy from another
/// folder must find it again); anything else (a URL) as given.
fn absolute_source(source: &str) -> String {
    let p = std::path::Path::new(source);
    if !source.contains("://") && p.exists() {
        if let Ok(abs) = std::fs::canonicalize(p) {
            return abs.display().to_string();
        }
    }
    source.to_string()
}

pub fn run_deploy(mut args: DeployArgs) -> anyhow::Result<ExitCode> {
    args.source = absolute_source(&args.source);
    let cfg = exec_config(&args.state, Some(&args.exec));
    let target = args.target.as_deref().map(parse_target).transpose()?;
    let on_failure = match args.on_failure.as_deref() {
        None => None,
        Some(s) => Some(OnFailure::parse(s).ok_or_else(|| {
            CliError::invalid(
                format!("unknown --on-failure {s:?}"),
                Some("use keep or destroy"),
            )
        })?),
    };
    if args.request == "-" && !args.values.secrets.is_empty() {
        return Err(CliError::invalid(
            "the request and --secret values cannot both come from stdin",
            Some("give the request as an argument, or the secrets in environment variables"),
        )
        .into());
    }
    let request = crate::cmd::parse::read_text(&args.request)?;
    // Asked before anything is fetched, so a missing value costs nothing.
    let secrets = read_secrets(&args.values.secrets)?;
    // Whose deployment it will be, before anything is fetched: a mistyped
    // `--as` costs nothing.
    let rt = runtime()?;
    let store = rt.block_on(open_store(&args.state, &cfg))?;
    let user = rt.block_on(acting_user(&store, &args.user))?;
    let phases = Phases::new(Mode::detect(args.json, args.verbose));
    let prepared = prepare(
        &args.source,
        &request,
        &PrepareOptions {
            git_ref: args.git_ref.clone(),
            target,
            unique_name: true,
            user_env: args.values.env.clone(),
            user_secrets: secrets.iter().map(|(n, _)| n.clone()).collect(),
            ..Default::default()
        },
        &PrintReporter(phases.progress()),
    )?;
    phases.end(true);
    show_plan(&prepared);
    if !args.another {
        let cloud = prepared.decision.cloud.as_str();
        if let Some(prev) = rt.block_on(already_deployed(&store, &user, &args.source, cloud))? {
            let again = CliError::AlreadyDeployed {
                id: prev.id.clone(),
                name: prev.name.clone(),
                cloud: cloud.to_string(),
                as_flag: crate::cmd::common::as_flag(&user),
            };
            if args.yes || !std::io::stdin().is_terminal() {
                return Err(again.into());
            }
            errln!("{again}.");
            errln!(
                "  `autodeploy redeploy {}{}` updates it instead.",
                prev.id,
                display(&crate::cmd::common::as_flag(&user))
            );
            if !confirm("Make a second deployment beside it?", false)? {
                return Err(CliError::Declined {
                    what: "nothing was deployed",
                }
                .into());
            }
        }
    }
    if !confirm("Deploy?", args.yes)? {
        return Err(CliError::Declined {
            what: "nothing was deployed",
        }
        .into());
    }
    rt.block_on(async move {
        let d = &prepared.decision;
        let options = DeployOptions {
            target,
            git_ref: args.git_ref.clone(),
            on_failure,
            vars: args.exec.vars.clone(),
            env: args.values.env.clone(),
            rehearse: args.no_rehearse.then_some(false),
        };
        let (rec, _) = store
            .create_deployment(
                NewDeployment {
                    owner: user.id.clone(),
                    name: d.name.clone(),
                    source: autodeploy_source::redact_input(&args.source),
                    request: request.clone(),
                    cloud: Some(d.cloud.as_str().to_string()),
                    options: serde_json::to_value(&options)?,
                    idempotency_key: None,
                },
                None,
            )
            .await?;
        errln!(
            "Deployment {} ({}) of user {}",
            rec.id,
            rec.name,
            display(&user.name)
        );
        autodeploy_execute::store_secrets(&store, &cfg, &rec.id, &secrets).await?;
        let cfg = Arc::new(cfg);
        let end = execute(
            store.clone(),
            cfg,
            &rec.id,
            JobKind::Deploy,
            Some(prepared),
            Some(phases.progress()),
            stop_on_signal(phases.say()),
        )
        .await?;
        phases.end(succeeded(&end, "deploy"));
        finish(
            &store,
            &end,
            args.json.then_some(args.full),
            "deploy",
            &user,
        )
        .await
    })
}

/// The newest deployment of the acting user from `source` to `cloud` that
/// is not destroyed.
async fn already_deployed(
    store: &Arc<dyn Store>,
    user: &User,
    source: &str,
    cloud: &str,
) -> anyhow::Result<Option<Deployment>> {
    let source = autodeploy_source::redact_input(source);
    let mut filter = autodeploy_store::ListFilter {
        owner: Some(user.id.clone()),
        cloud: Some(cloud.to_string()),
        limit: 500,
        ..Default::default()
    };
    loop {
        let page = store.list_deployments(&filter).await?;
        if let Some(d) = page
            .items
            .into_iter()
            .find(|d| d.source == source && d.status != DeploymentStatus::Destroyed)
        {
            return Ok(Some(d));
        }
        match page.next_cursor {
            Some(c) => filter.cursor = Some(c),
            None => return Ok(None),
        }
    }
}

fn show_plan(p: &Prepared) {
    let d = &p.decision;
    errln!();
    let cost = match &d.cost.price_table_date {
        Some(date) => format!(
            "about ${:.2}/month (estimate from prices of {date}, {})",
            d.estimated_monthly_usd, d.cost.region
        ),
        None => "no cloud cost (runs on this machine)".to_string(),
    };
    errln!(
        "Plan: {} in {} ({}), {} — {cost}",
        d.cloud.as_str(),
        display(&d.region),
        d.strategy.as_str(),
        d.environment.as_str(),
    );
    for item in &d.cost.items {
        errln!(
            "  $ {:>8.2}  {} ({})",
            item.monthly_usd,
            display(&item.resource),
            display(&item.component)
        );
    }
    for s in &d.services {
        errln!(
            "  service {} ({}): {}",
            display(&s.name),
            display(&s.path),
            display(s.start.as_deref().unwrap_or("(no start command)"))
        );
    }
    for r in &d.reasons {
        errln!("  · {}", display(&r.text));
    }
    for w in &d.warnings {
        errln!("  ! {}: {}", w.code, display(&w.message));
    }
    for n in &p.parse_notes {
        errln!("  note: {}", display(n));
    }
    errln!();
}

/// Whether `what` (deploy, redeploy, destroy) reached its goal: healthy
/// (or applied), or destroyed.
fn succeeded(d: &Deployment, what: &str) -> bool {
    match what {
        "destroy" => d.status == DeploymentStatus::Destroyed,
        _ => matches!(
            d.status,
            DeploymentStatus::Healthy | DeploymentStatus::Applied
        ),
    }
}

/// Print the outcome; exit 0 only when healthy (deploy) / destroyed (destroy).
async fn finish(
    store: &Arc<dyn Store>,
    d: &Deployment,
    json_out: Option<bool>,
    what: &str,
    user: &User,
) -> anyhow::Result<ExitCode> {
    let ok = succeeded(d, what);
    if let Some(full) = json_out {
        crate::output::print_json(&deployment_json(d, full)?)?;
    } else if ok {
        match (&d.url, what) {
            (Some(url), _) if what != "destroy" => {
                if d.status == DeploymentStatus::Applied {
                    outln!(
                        "\n{} is applied (health not checked: AWS endpoint override): {url}",
                        d.name
                    );
                } else {
                    outln!("\n{} {} {url}", d.name, Paint::stdout().green("is up:"));
                }
                let who = display(&crate::cmd::common::as_flag(user)).into_owned();
                outln!("  status: autodeploy status {}{who}   logs: autodeploy logs {}{who}   remove: autodeploy destroy {}{who}", d.id, d.id, d.id);
            }
            _ => outln!("\n{} {}: {}", d.id, d.name, d.status.as_str()),
        }
    } else {
        errln!(
            "\n{what} of {} ended {}{}",
            d.id,
            Paint::stderr().red(d.status.as_str()),
            d.phase
                .map(|p| format!(" in phase {}", p.as_str()))
                .unwrap_or_default()
        );
        if let Some(e) = &d.error {
            for line in e.lines() {
                errln!("  {}", display(line));
            }
        }
        let lines = store.read_logs(&d.id, 0, 100_000).await.unwrap_or_default();
        let phase: Vec<&str> = lines
            .iter()
            .filter(|l| d.phase.is_none() || l.phase == d.phase)
            .map(|l| l.line.as_str())
            .collect();
        if !phase.is_empty() {
            errln!("  last lines of its log:");
            for l in autodeploy_core::logtail::tail(&phase, 15) {
                errln!("    {}", display(&l));
            }
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

pub fn run_redeploy(args: RedeployArgs) -> anyhow::Result<ExitCode> {
    let cfg = exec_config(&args.state, Some(&args.exec));
    let rt = runtime()?;
    rt.block_on(async move {
        let store = open_store(&args.state, &cfg).await?;
        let user = acting_user(&store, &args.user).await?;
        let rec = find(&store, &args.id, &user).await?;
        if rec.status == DeploymentStatus::Destroyed {
            return Err(CliError::Destroyed { id: rec.id }.into());
        }
        if args.request.as_deref() == Some("-") && !args.values.secrets.is_empty() {
            return Err(CliError::invalid(
                "the request and --secret values cannot both come from stdin",
                Some("give the request as an argument, or the secrets in environment variables"),
            )
            .into());
        }
        let secrets = read_secrets(&args.values.secrets)?;
        if !args.values.env.is_empty() || !args.unset_env.is_empty() {
            let mut options = DeployOptions::from_value(&rec.options);
            options.env = merge(&options.env, &args.values.env);
            options.env.retain(|(k, _)| !args.unset_env.contains(k));
            store
                .update_deployment(
                    &rec.id,
                    autodeploy_store::DeploymentPatch {
                        options: Some(serde_json::to_value(&options)?),
                        ..Default::default()
                    },
                )
                .await?;
        }
        autodeploy_execute::store_secrets(&store, &cfg, &rec.id, &secrets).await?;
        if let Some(text) = &args.request {
            let text = crate::cmd::parse::read_text(text)?;
            if text != rec.request {
                errln!("request: {:?} → {:?}", rec.request, text);
                store
                    .update_deployment(
                        &rec.id,
                        autodeploy_store::DeploymentPatch {
                            request: Some(text),
                            ..Default::default()
                        },
                    )
                    .await?;
            }
        }
        let phases = Phases::new(Mode::detect(args.json, args.verbose));
        let end = execute(
            store.clone(),
            Arc::new(cfg),
            &rec.id,
            JobKind::Redeploy,
            None,
            Some(phases.progress()),
            stop_on_signal(phases.say()),
        )
        .await?;
        phases.end(succeeded(&end, "redeploy"));
        finish(
            &store,
            &end,
            args.json.then_some(args.full),
            "redeploy",
            &user,
        )
        .await
    })
}

pub fn run_destroy(args: DestroyArgs) -> anyhow::Result<ExitCode> {
    let mut cfg = exec_config(&args.state, Some(&args.exec));
    cfg.force_destroy = args.force;
    cfg.keep_data = args.keep_data;
    let rt = runtime()?;
    rt.block_on(async move {
        let store = open_store(&args.state, &cfg).await?;
        let user = acting_user(&store, &args.user).await?;
        let rec = find(&store, &args.id, &user).await?;
        let rec = autodeploy_execute::reconcile(&store, &cfg, rec).await?;
        if rec.status == DeploymentStatus::Destroyed {
            if args.json {
                crate::output::print_json(&deployment_json(&rec, args.full)?)?;
            } else {
                outln!("{} is already destroyed.", rec.id);
            }
            return Ok(ExitCode::SUCCESS);
        }
        if matches!(
            rec.status,
            DeploymentStatus::Running | DeploymentStatus::Destroying
        ) {
            return Err(CliError::Busy {
                id: rec.id,
                status: rec.status.as_str().to_string(),
            }
            .into());
        }
        let question = format!(
            "Destroy {} ({}, {}{})? Everything it created will be deleted.",
            rec.id,
            rec.name,
            rec.cloud.as_deref().unwrap_or("?"),
            rec.url
                .as_deref()
                .map(|u| format!(", {u}"))
                .unwrap_or_default()
        );
        if !confirm(&question, args.yes)? {
            return Err(CliError::Declined {
                what: "nothing was destroyed",
            }
            .into());
        }
        let phases = Phases::new(Mode::detect(args.json, args.verbose));
        let end = execute(
            store.clone(),
            Arc::new(cfg),
            &rec.id,
            JobKind::Destroy,
            None,
            Some(phases.progress()),
            stop_on_signal(phases.say()),
        )
        .await?;
        phases.end(succeeded(&end, "destroy"));
        finish(
            &store,
            &end,
            args.json.then_some(args.full),
            "destroy",
            &user,
        )
        .await
    })
}

/// The acting user's deployment by id, by a unique prefix of its id, or by
/// its name. One that belongs to another user is not "not found": the error
/// names its owner and `--as`.
pub async fn find(store: &Arc<dyn Store>, id: &str, user: &User) -> anyhow::Result<Deployment> {
    let hits = match store.get_deployment(id).await? {
        Some(d) => vec![d],
        None => crate::cmd::common::all_deployments(store)
            .await?
            .into_iter()
            .filter(|d| d.id.starts_with(id) || d.name == id)
            .collect(),
    };
    let (mine, others): (Vec<_>, Vec<_>) = hits.into_iter().partition(|d| d.owner == user.id);
    match (mine.len(), others.len()) {
        (1, _) => Ok(mine.into_iter().next().expect("one")),
        (0, 0) => Err(CliError::NotFound { id: id.to_string() }.into()),
        (0, 1) => {
            let d = others.into_iter().next().expect("one");
            let users = store.list_users().await?;
            Err(CliError::OwnedByOther {
                owner: crate::cmd::common::owner_name(&users, &d.owner),
                id: d.id,
                name: d.name,
                user: user.name.clone(),
            }
            .into())
        }
        (0, _) => Err(CliError::Ambiguous {
            id: id.to_string(),
            matches: others.into_iter().map(|d| d.id).collect(),
        }
        .into()),
        _ => Err(CliError::Ambiguous {
            id: id.to_string(),
            matches: mine.into_iter().map(|d| d.id).collect(),
        }
        .into()),
    }
}
