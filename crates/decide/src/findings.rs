//! Notes from the analysis' findings: what the deployment fixes in its copy
//! of the code, and what a person must fix or know.
//!
//! `binds_localhost` / `hardcoded_localhost_url` with a mechanical fix become
//! warnings saying the deployment applies the fix (in its own copy, never the
//! user's tree) and the fixes go into each service plan; without a fix they
//! are warnings saying what to change. Other warning- or error-level findings
//! pass through under their own kind. What this is not: the fixing itself
//! (render / execute apply `source_fixes`).

use crate::notes::Notes;
use autodeploy_core::{Analysis, Origin, ServiceKind, Severity, SourceFix};

fn place(file: Option<&str>, line: Option<u32>) -> String {
    match (file, line) {
        (Some(f), Some(l)) => format!("{f}:{l}"),
        (Some(f), None) => f.to_string(),
        _ => "the code".to_string(),
    }
}

/// Record the findings of every service.
pub(crate) fn note(analysis: &Analysis, notes: &mut Notes) {
    for s in &analysis.services {
        let svc = Some(s.name.as_str());
        for f in &s.findings {
            let at = place(f.file.as_deref(), f.line);
            match (f.kind.as_str(), f.fix.is_some()) {
                ("binds_localhost", true) => notes.warn(
                    "binds_localhost_fixed",
                    svc,
                    format!(
                        "{at} binds to localhost, which nothing outside the machine can reach: the deployment rewrites it to 0.0.0.0 in its own copy of the code (your repository is not changed); make the same change to keep them in step"
                    ),
                ),
                ("binds_localhost", false) => notes.warn(
                    "binds_localhost",
                    svc,
                    format!("{at} binds to localhost and cannot be rewritten automatically: bind 0.0.0.0 (or read HOST) or the app is unreachable. {}", f.message),
                ),
                ("hardcoded_localhost_url", true) => notes.warn(
                    "hardcoded_localhost_url_fixed",
                    svc,
                    format!("{at} calls a localhost URL: the deployment makes it relative in its own copy of the code"),
                ),
                ("missing_production_server", _) => notes.reason(
                    format!("service.{}.start", s.name),
                    Origin::Analysis,
                    format!("{}: {}", s.name, f.message),
                ),
                ("committed_secret", _) => notes.warn(
                    "committed_secret",
                    svc,
                    format!("{} — anything committed to a repository should be treated as leaked: rotate it and set the new value in the secret store", f.message),
                ),
                _ if f.severity >= Severity::Warning => notes.warn(&f.kind, svc, f.message.clone()),
                _ => {}
            }
        }
        if s.confidence < 0.5 {
            notes.warn(
                "low_confidence",
                svc,
                format!(
                    "the analysis is unsure about `{}` (confidence {:.2}): review its language, port and start command in the plan before deploying",
                    s.name, s.confidence
                ),
            );
        }
        if s.kind != ServiceKind::Static && s.start.is_none() && s.dockerfile.is_none() {
            notes.warn(
                "no_start_command",
                svc,
                format!(
                    "no start command was found for `{}`: add a Procfile, a start script or a Dockerfile, or the deployment cannot run it",
                    s.name
                ),
            );
        }
    }
}

/// The mechanical fixes of one service, in finding order.
pub(crate) fn fixes(s: &autodeploy_core::Service) -> Vec<SourceFix> {
    s.findings.iter().filter_map(|f| f.fix.clone()).collect()
}

/// Fixes that only point the code at a database server the deployment
/// provides (Django's settings reading `DATABASE_URL`): without one they
/// change nothing, and an operator building the image from the
/// repository would be asked for them for nothing.
const FOR_A_DATABASE_SERVER: &[&str] = &["django_database_from_url"];

/// Take out of `p` the fixes that only serve a database server, when the
/// deployment provides none.
pub(crate) fn drop_database_server_fixes(
    s: &autodeploy_core::Service,
    p: &mut autodeploy_core::ServicePlan,
) {
    for f in s
        .findings
        .iter()
        .filter(|f| FOR_A_DATABASE_SERVER.contains(&f.kind.as_str()))
    {
        if let Some(fix) = &f.fix {
            p.source_fixes.retain(|x| x != fix);
        }
    }
}

/// What one service's findings ask its copy for (`pick`), each once, in
/// finding order.
fn asked<T: PartialEq>(
    s: &autodeploy_core::Service,
    pick: impl Fn(&autodeploy_core::Finding) -> Option<T>,
) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for f in s.findings.iter().filter_map(pick) {
        if !out.contains(&f) {
            out.push(f);
        }
    }
    out
}

/// The folders one service's copy creates (`sqlite_folder_missing`).
pub(crate) fn folders(s: &autodeploy_core::Service) -> Vec<String> {
    asked(s, |f| f.makes_dir.clone())
}

/// The files one service's copy makes from their committed examples.
pub(crate) fn files_from_example(
    s: &autodeploy_core::Service,
) -> Vec<autodeploy_core::FileFromExample> {
    asked(s, |f| f.from_example.clone())
}
