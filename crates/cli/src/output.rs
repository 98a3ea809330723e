//! Everything the binary writes goes through here: `outln!`/`out!` for
//! stdout, `errln!`/`err!` for stderr, JSON printing, the compact deployment
//! record of `--json`, and a command's failure (text, or one JSON line).
//!
//! A closed stdout (`autodeploy logs ID | head -1`) ends the process quietly
//! with exit 0, as ripgrep does, instead of the panic of `println!`; a closed
//! stderr is ignored (a deploy's progress must not stop a deploy).

use crate::error::Failure;
use std::io::Write;

/// `println!` that ends the process quietly when stdout is closed.
macro_rules! outln {
    () => { $crate::output::write_out(format_args!(""), true) };
    ($($arg:tt)*) => { $crate::output::write_out(format_args!($($arg)*), true) };
}

/// `print!` that ends the process quietly when stdout is closed.
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::write_out(format_args!($($arg)*), false) };
}

/// `eprintln!` that ignores a closed stderr.
macro_rules! errln {
    () => { $crate::output::write_err(format_args!(""), true) };
    ($($arg:tt)*) => { $crate::output::write_err(format_args!($($arg)*), true) };
}

/// `eprint!` that ignores a closed stderr.
macro_rules! err {
    ($($arg:tt)*) => { $crate::output::write_err(format_args!($($arg)*), false) };
}

/// Writes to stdout. A reader that went away (EPIPE) ends the process with
/// exit 0 and no message; any other write failure ends it with exit 1.
pub fn write_out(args: std::fmt::Arguments<'_>, newline: bool) {
    let mut stdout = std::io::stdout().lock();
    let result = stdout.write_fmt(args).and_then(|()| {
        if newline {
            stdout.write_all(b"\n")
        } else {
            Ok(())
        }
    });
    if let Err(e) = result {
        stdout_failed(e);
    }
}

fn stdout_failed(e: std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    write_err(format_args!("error: could not write to stdout: {e}"), true);
    std::process::exit(1);
}

/// Writes to stderr, ignoring failures (a closed stderr must not stop a deploy).
pub fn write_err(args: std::fmt::Arguments<'_>, newline: bool) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_fmt(args);
    if newline {
        let _ = stderr.write_all(b"\n");
    }
}

/// Print a value as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    outln!("{text}");
    Ok(())
}

/// The fields of a deployment record left out of `--json` unless `--full`:
/// the whole plan (the Decision) and the plan of the last healthy deploy,
/// tens of kilobytes each.
pub const FULL_ONLY: [&str; 2] = ["plan", "last_good_plan"];

/// A deployment as `--json` prints it: the record (id, name, status, phase,
/// url, cloud, region, strategy, commit, outputs, error, options, times…)
/// without the embedded plans, unless `full`.
pub fn deployment_json(
    d: &autodeploy_store::Deployment,
    full: bool,
) -> anyhow::Result<serde_json::Value> {
    let mut v = serde_json::to_value(d)?;
    if !full {
        if let Some(o) = v.as_object_mut() {
            for key in FULL_ONLY {
                o.remove(key);
            }
        }
    }
    Ok(v)
}

/// A command's failure: under `--json` one line `{"error":{…}}` on stderr
/// (stdout stays empty, so a script never parses half an answer); else
/// `error: …` line by line, then `hint: …` (coloured on a terminal without
/// `NO_COLOR`).
pub fn print_failure(f: &Failure, json: bool) {
    if json {
        errln!("{}", f.to_json());
        return;
    }
    let paint = crate::progress::Paint::stderr();
    for (i, line) in f.message.lines().enumerate() {
        if i == 0 {
            errln!("{} {line}", paint.red("error:"));
        } else {
            errln!("{line}");
        }
    }
    if let Some(h) = &f.hint {
        errln!(
            "{} {}",
            paint.yellow("hint:"),
            autodeploy_render::escape::display(h)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compact_record_drops_only_the_plans() {
        let d = autodeploy_store::Deployment {
            id: "dep_0123456789abcdef".into(),
            owner: "local".into(),
            name: "app".into(),
            source: "/src".into(),
            request: "run it locally".into(),
            cloud: Some("local".into()),
            region: None,
            strategy: None,
            commit: None,
            status: autodeploy_core::DeploymentStatus::Healthy,
            phase: None,
            url: Some("http://127.0.0.1:8000".into()),
            outputs: serde_json::json!({"url": "http://127.0.0.1:8000"}),
            plan: Some(serde_json::json!({"decision": {}})),
            last_good_plan: Some(serde_json::json!({"decision": {}})),
            error: None,
            options: serde_json::json!({}),
            workdir: None,
            created_at: 1,
            updated_at: 2,
        };
        let full = deployment_json(&d, true).unwrap();
        let compact = deployment_json(&d, false).unwrap();
        let keys = |v: &serde_json::Value| -> Vec<String> {
            v.as_object().unwrap().keys().cloned().collect()
        };
        let mut expected = keys(&full);
        expected.retain(|k| !FULL_ONLY.contains(&k.as_str()));
        assert_eq!(keys(&compact), expected);
        assert!(full.get("plan").is_some() && full.get("last_good_plan").is_some());
    }
}
