//! `autodeploy analyze SOURCE [--json]`: fetch, analyze, print.

use crate::output::print_json;
use anyhow::Context;
use autodeploy_analyze::{analyze_dir, AnalyzeOptions};
use autodeploy_core::{Analysis, Evidence, Service, Severity};
use autodeploy_render::escape::display;
use clap::Args;
use std::process::ExitCode;

#[derive(Args)]
pub struct AnalyzeArgs {
    /// Git URL (https, ssh, file://), local folder, or .zip/.tar.gz archive.
    pub source: String,
    /// Print the analysis as JSON (the contract in DESIGN.md, plus evidence).
    #[arg(long)]
    pub json: bool,
    /// Branch, tag or commit to analyse (git sources).
    #[arg(long = "ref", value_name = "REF")]
    pub git_ref: Option<String>,
    /// Threads for walking the tree (0 = all CPUs).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

pub fn run(args: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let analysis = analyze_source(&args.source, args.git_ref.clone(), args.threads)?;
    if args.json {
        print_json(&analysis)?;
    } else {
        out!("{}", human(&analysis));
    }
    Ok(ExitCode::SUCCESS)
}

/// Fetch + analyze: the same two stage calls the service makes.
pub fn analyze_source(
    source: &str,
    git_ref: Option<String>,
    threads: usize,
) -> anyhow::Result<Analysis> {
    Ok(fetch_and_analyze(source, git_ref, threads)?.1)
}

/// [`analyze_source`], keeping the fetched tree (a bundle may archive it).
pub fn fetch_and_analyze(
    source: &str,
    git_ref: Option<String>,
    threads: usize,
) -> anyhow::Result<(autodeploy_source::Snapshot, Analysis)> {
    let mut opts = autodeploy_source::FetchOptions::from_env();
    if git_ref.is_some() {
        opts.git_ref = git_ref;
    }
    let snapshot = autodeploy_source::fetch(source, &opts)
        .with_context(|| format!("could not read {}", autodeploy_source::redact_input(source)))?;
    let name_hint = autodeploy_execute::name_hint(source, &snapshot.root);
    let analysis = analyze_dir(
        &snapshot.root,
        snapshot.info.clone(),
        &AnalyzeOptions { threads, name_hint },
    )?;
    Ok((snapshot, analysis))
}

fn at(e: &Evidence) -> String {
    match e.line {
        Some(l) => format!("{}:{l}", display(&e.file)),
        None => display(&e.file).into_owned(),
    }
}

fn evidence_for(s: &Service, field: &str) -> String {
    s.evidence
        .get(field)
        .and_then(|v| v.first())
        .map(|e| format!("  ← {} {}", at(e), display(&e.note)))
        .unwrap_or_default()
}

/// The human-readable table. Every value from the repository passes
/// [`display`] (escapes and bidi controls made visible).
pub fn human(a: &Analysis) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let commit = a
        .source
        .commit
        .as_deref()
        .map(|c| format!(" @ {}", &c[..c.len().min(12)]))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{}{} — {} service{} ({} files seen, {} read)\n",
        display(&a.source.input),
        commit,
        a.services.len(),
        if a.services.len() == 1 { "" } else { "s" },
        a.stats.files_seen,
        a.stats.files_read
    );
    for s in &a.services {
        let kind = serde_json::to_value(s.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "● {}  ({})  {} · {} · {}   confidence {:.2}",
            display(&s.name),
            display(&s.path),
            s.language.as_str(),
            display(s.framework.as_deref().unwrap_or("no framework")),
            kind,
            s.confidence
        );
        let row = |out: &mut String, label: &str, value: Option<String>, field: &str| {
            let v = value
                .map(|v| display(&v).into_owned())
                .unwrap_or_else(|| "—".into());
            let _ = writeln!(
                out,
                "  {label:<10} {v}{}",
                if v == "—" {
                    String::new()
                } else {
                    evidence_for(s, field)
                }
            );
        };
        row(&mut out, "port", s.port.map(|p| p.to_string()), "port");
        row(&mut out, "start", s.start.clone(), "start");
        row(&mut out, "build", s.build.clone(), "build");
        row(&mut out, "install", s.install.clone(), "install");
        if s.release.is_some() {
            row(&mut out, "release", s.release.clone(), "release");
        }
        let dbs: Vec<&str> = s.databases.iter().map(|d| d.as_str()).collect();
        row(
            &mut out,
            "databases",
            (!dbs.is_empty()).then(|| dbs.join(", ")),
            "databases",
        );
        let env: Vec<String> = s
            .env
            .iter()
            .map(|e| {
                let mut tags = Vec::new();
                if e.required {
                    tags.push("required");
                }
                if e.secret {
                    tags.push("secret");
                }
                if tags.is_empty() {
                    display(&e.name).into_owned()
                } else {
                    format!("{} ({})", display(&e.name), tags.join(", "))
                }
            })
            .collect();
        let _ = writeln!(
            out,
            "  {:<10} {}",
            "env",
            if env.is_empty() {
                "—".into()
            } else {
                env.join(", ")
            }
        );
        if s.findings.is_empty() {
            let _ = writeln!(out, "  {:<10} —", "findings");
        } else {
            let _ = writeln!(out, "  findings");
            for f in &s.findings {
                let mark = match f.severity {
                    Severity::Error => "✗",
                    Severity::Warning => "!",
                    Severity::Info => "i",
                };
                let place = match (&f.file, f.line) {
                    (Some(file), Some(l)) => format!(" {}:{l}", display(file)),
                    (Some(file), None) => format!(" {}", display(file)),
                    _ => String::new(),
                };
                let _ = writeln!(
                    out,
                    "    {mark} {}{place}: {}",
                    display(&f.kind),
                    display(&f.message)
                );
            }
        }
        out.push('\n');
    }
    out
}
