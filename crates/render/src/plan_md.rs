//! `PLAN.md`: the bundle explained for a person — what was understood, what
//! was decided and why, warnings, the cost breakdown, the files, next steps.
//! Every value from the repository or the request passes `md`/`md_code`.
//!
//! Not here: any decision (it only shows the Decision).

use crate::{BundleFile, RenderError};
use autodeploy_core::{Decision, Intent};
use serde_json::json;

pub fn render(
    d: &Decision,
    intent: Option<&Intent>,
    files: &[String],
) -> Result<BundleFile, RenderError> {
    let fixes: Vec<_> = d
        .services
        .iter()
        .flat_map(|s| s.source_fixes.iter())
        .collect();
    let understood = intent.map(understood_line).filter(|s| !s.is_empty());
    let mut all_files: Vec<&str> = files.iter().map(String::as_str).collect();
    all_files.push("PLAN.md");
    all_files.sort_unstable();
    crate::file(
        "PLAN.md",
        "plan/PLAN.md",
        json!({
            "d": d,
            "understood": understood,
            "fixes": fixes,
            "files": all_files,
            "has_terraform": files.iter().any(|f| f.starts_with("terraform/")),
        }),
    )
}

/// The non-null fields of the Intent, as `field: value` pairs.
fn understood_line(intent: &Intent) -> String {
    let Ok(serde_json::Value::Object(map)) = serde_json::to_value(intent) else {
        return String::new();
    };
    map.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => format!("{k}: {s}"),
            other => format!("{k}: {other}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
