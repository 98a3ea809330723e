//! `autodeploy plan SOURCE "TEXT" [--out DIR] [--json]`: every stage but
//! execute — fetch, analyze, parse, decide, render — then write the bundle to
//! a folder and say what was understood, decided and why, and what it costs.

use crate::cmd::{analyze::fetch_and_analyze, parse::understand};
use anyhow::Context;
use autodeploy_core::Decision;
use autodeploy_render::escape::display;
use autodeploy_render::{render, RenderOptions};
use clap::Args;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct PlanArgs {
    /// Git URL, local folder, or .zip/.tar.gz archive.
    pub source: String,
    /// The request in plain English (`-` reads it from stdin).
    pub request: String,
    /// Where to write the bundle (default: ./autodeploy-plans/<name>-<short-sha>/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print analysis, intent, decision (reasons, warnings, cost) and the file list as JSON.
    #[arg(long)]
    pub json: bool,
    /// Branch, tag or commit to plan (git sources).
    #[arg(long = "ref", value_name = "REF")]
    pub git_ref: Option<String>,
    /// Also ask an LLM to read the request (see `autodeploy parse --help`).
    #[arg(long, value_name = "PROVIDER")]
    pub llm: Option<String>,
    /// Model for --llm.
    #[arg(long, value_name = "M")]
    pub model: Option<String>,
}

pub fn run(args: PlanArgs) -> anyhow::Result<ExitCode> {
    let (snapshot, analysis) = fetch_and_analyze(&args.source, args.git_ref.clone(), 0)?;
    let text = crate::cmd::parse::read_text(&args.request)?;
    let intent = understand(&text, args.llm.as_deref(), args.model.as_deref())?.intent;
    let decision = autodeploy_decide::decide(
        &analysis,
        &intent,
        &autodeploy_decide::DecideOptions::default(),
    )
    .context("could not decide the infrastructure")?;
    let bundle = render(
        &decision,
        &analysis,
        &RenderOptions {
            intent: Some(intent.clone()),
        },
    )
    .context("could not render the deployment files")?;

    let out = args.out.clone().unwrap_or_else(|| default_out(&decision));
    autodeploy_execute::bundle::write_bundle(
        &bundle,
        &out,
        autodeploy_execute::bundle::Source::Tree(&snapshot.root),
    )
    .with_context(|| format!("could not write the bundle to {}", out.display()))?;
    let files = bundle.paths();

    if args.json {
        crate::output::print_json(&json!({
            "analysis": analysis,
            "intent": intent,
            "decision": decision,
            "out": out,
            "files": files,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    outln!("{}", display(&autodeploy_parse::summarize(&intent)));
    outln!();
    outln!(
        "Decided: {} in {} ({}), {} — about ${:.2}/month",
        decision.cloud.as_str(),
        display(&decision.region),
        decision.strategy.as_str(),
        decision.environment.as_str(),
        decision.estimated_monthly_usd
    );
    for r in &decision.reasons {
        outln!("  · {}", display(&r.text));
    }
    if !decision.warnings.is_empty() {
        outln!("\nWarnings:");
        for w in &decision.warnings {
            outln!("  ! {}: {}", w.code, display(&w.message));
        }
    }
    outln!("\nWrote {} files to {}:", files.len(), out.display());
    for f in &files {
        outln!("  {}", display(f));
    }
    outln!("\nReview {}/PLAN.md.", out.display());
    Ok(ExitCode::SUCCESS)
}

/// `./autodeploy-plans/<name>-<short-sha>/` (or `<name>` without a commit).
fn default_out(d: &Decision) -> PathBuf {
    let short = d.source.commit.as_deref().map(|c| &c[..c.len().min(7)]);
    let dir = match short {
        Some(s) => format!("{}-{s}", d.name),
        None => d.name.clone(),
    };
    PathBuf::from("autodeploy-plans").join(dir)
}
