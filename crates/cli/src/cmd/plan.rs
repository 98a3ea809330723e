//! `autodeploy plan SOURCE "TEXT" [--out DIR] [--json]`: every stage but
//! execute — fetch, analyze, parse, decide, render — then write the bundle to
//! a folder and say what was understood, decided and why, and what it costs.

use crate::cmd::{analyze::fetch_and_analyze, parse::understand};
use crate::error::CliError;
use anyhow::Context;
use autodeploy_core::Decision;
use autodeploy_render::escape::display;
use autodeploy_render::{render, RenderOptions};
use clap::Args;
use serde_json::json;
use std::path::{Path, PathBuf};
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
    #[arg(long, value_name = "PROVIDER", env = "AUTODEPLOY_LLM")]
    pub llm: Option<String>,
    /// Model for --llm.
    #[arg(long, value_name = "M", env = "AUTODEPLOY_LLM_MODEL")]
    pub model: Option<String>,
}

pub fn run(args: PlanArgs) -> anyhow::Result<ExitCode> {
    let text = crate::cmd::parse::read_text(&args.request)?;
    let (snapshot, analysis) = fetch_and_analyze(&args.source, args.git_ref.clone(), 0)?;
    let understood = understand(&text, args.llm.as_deref(), args.model.as_deref())?;
    let (intent, notes) = (understood.intent, understood.notes);
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
    clear_earlier_plan(&out)?;
    autodeploy_execute::bundle::write_bundle(
        &bundle,
        &out,
        autodeploy_execute::bundle::Source::Tree(&snapshot.root),
    )
    .with_context(|| format!("could not write the bundle to {}", out.display()))?;
    let files = bundle.paths();
    write_manifest(&out, &files, bundle.source_archive.as_deref())?;

    if args.json {
        crate::output::print_json(&json!({
            "analysis": analysis,
            "intent": intent,
            "notes": notes,
            "decision": decision,
            "out": out,
            "files": files,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    for line in autodeploy_parse::summarize(&intent).lines() {
        outln!("{}", display(line));
    }
    for note in &notes {
        outln!("Note: {}", display(note));
    }
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

/// The list of files a plan wrote into its folder, one relative path a line:
/// the next plan into the same folder removes exactly these.
pub const MANIFEST: &str = ".autodeploy-plan";

/// Make `out` ready for a new bundle: missing or empty is fine; an earlier
/// plan's files (listed in its [`MANIFEST`]) are removed, with the folders
/// they leave empty; anything else in a folder without a manifest is not
/// ours, so the plan is refused rather than mixed with it.
fn clear_earlier_plan(out: &Path) -> anyhow::Result<()> {
    let entries = match std::fs::read_dir(out) {
        Ok(e) => e.count(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(anyhow::Error::new(e)
                .context(format!("could not read the folder {}", out.display())))
        }
    };
    if entries == 0 {
        return Ok(());
    }
    let manifest = out.join(MANIFEST);
    let listed = match std::fs::read_to_string(&manifest) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(CliError::invalid(
                format!(
                    "{} is not empty and holds no earlier plan (no {MANIFEST} in it)",
                    out.display()
                ),
                Some("choose another --out folder, or empty this one"),
            )
            .into())
        }
        Err(e) => {
            return Err(
                anyhow::Error::new(e).context(format!("could not read {}", manifest.display()))
            )
        }
    };
    let mut dirs = std::collections::BTreeSet::new();
    for rel in listed.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let rel = Path::new(rel);
        // Only plain relative paths inside the folder: never follow `..`.
        if !rel
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
        {
            continue;
        }
        let path = out.join(rel);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!(
                    "could not remove {} of the earlier plan",
                    path.display()
                )))
            }
        }
        let mut parent = rel.parent();
        while let Some(p) = parent.filter(|p| !p.as_os_str().is_empty()) {
            dirs.insert(p.to_path_buf());
            parent = p.parent();
        }
    }
    // Deepest first; a folder that still holds something (the user's) stays.
    for d in dirs.iter().rev() {
        let _ = std::fs::remove_dir(out.join(d));
    }
    std::fs::remove_file(&manifest)
        .with_context(|| format!("could not remove {}", manifest.display()))?;
    Ok(())
}

fn write_manifest(out: &Path, files: &[&str], archive: Option<&str>) -> anyhow::Result<()> {
    let mut text = String::new();
    for f in files.iter().copied().chain(archive) {
        text.push_str(f);
        text.push('\n');
    }
    let path = out.join(MANIFEST);
    std::fs::write(&path, text).with_context(|| format!("could not write {}", path.display()))
}
