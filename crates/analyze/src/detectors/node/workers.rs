//! Worker processes of a Node package: files that process queue jobs (BullMQ,
//! Bull, Agenda, pg-boss… — rows of `frameworks::WORKERS`) and run as a process
//! of their own, scripts named like workers (`"worker": "node worker.js"`), and
//! packages that are only a worker.
//!
//! Deliberately not here: finding the worker code (that is `code.rs`).

use super::code::CodeFacts;
use super::frameworks::WorkerLib;
use super::manifest::Entry;
use super::scripts::{self, Class};
use super::start::{add_build, compiled_path, swap_ts_ext};
use super::Pkg;
use crate::draft::{ev, Draft, Trust};
use crate::repo::{file_name, join, parent};
use crate::scan::line_text;
use autodeploy_core::{ServiceKind, Severity};
use std::collections::BTreeSet;

/// Scripts that run a worker, when none names the worker's file.
pub(super) const WORKER_SCRIPTS: &[&str] = &[
    "worker",
    "start:worker",
    "worker:start",
    "worker:prod",
    "work",
    "jobs",
];

/// One worker draft per file that processes queue jobs and runs as a process of
/// its own: a script runs it, or no other file imports it (a worker module the
/// server imports runs inside the server's process).
pub(super) fn worker_drafts(
    pkg: &Pkg,
    base: &Draft,
    facts: &CodeFacts,
    server_files: &BTreeSet<&str>,
) -> Vec<Draft> {
    let mut out: Vec<Draft> = Vec::new();
    let mut seen = BTreeSet::new();
    for (lib, file, line) in &facts.workers {
        if server_files.contains(file.as_str()) || !seen.insert(file.clone()) {
            continue;
        }
        let rel = rel_to(pkg.dir, file);
        if script_running(pkg, &rel).is_none() && imported_elsewhere(pkg, file) {
            continue;
        }
        let mut w = worker_draft(pkg, base, lib, file, *line);
        let stem = file_name(&rel)
            .split('.')
            .next()
            .unwrap_or("worker")
            .to_string();
        w.name = Some(if out.is_empty() {
            "worker".to_string()
        } else if stem.contains("worker") {
            stem.clone()
        } else {
            format!("{stem}-worker")
        });
        worker_start(pkg, &mut w, &rel);
        out.push(w);
    }
    out
}

/// Workers that only a script names (`"worker": "node worker.js"`, no queue
/// library recognised): a production script of that name running a file that
/// opens no server.
pub(super) fn script_workers(
    pkg: &Pkg,
    base: &Draft,
    known: &[Draft],
    server_files: &BTreeSet<&str>,
) -> Vec<Draft> {
    let exists = |p: &str| pkg.ctx.index().contains(&join(pkg.dir, p));
    let mut out = Vec::new();
    for name in WORKER_SCRIPTS {
        let Some(e) = pkg.m.script(name) else {
            continue;
        };
        if scripts::classify(&e.value, pkg.m) != Class::Production {
            continue;
        }
        let Some(entry) = scripts::entry_of(&e.value, pkg.m, &exists) else {
            continue;
        };
        let file = join(pkg.dir, &entry);
        let covered = known.iter().chain(&out).any(|d: &Draft| {
            d.evidence
                .get("kind")
                .is_some_and(|k| k.iter().any(|x| x.file == file))
                || d.starts.iter().any(|c| c.value == pkg.mgr.run(name))
        });
        if covered || server_files.contains(file.as_str()) {
            continue;
        }
        let mut w = base.clone();
        w.kind = ServiceKind::Worker;
        w.env.retain(|e| e.name != "PORT");
        w.health_path = None;
        w.evidence.remove("health_path");
        w.strength = 5.0;
        w.name = Some(if out.is_empty() && known.is_empty() {
            "worker".to_string()
        } else {
            name.replace(':', "-")
        });
        let evid = ev(&pkg.m.file, e.line, format!("\"{name}\": \"{}\"", e.value));
        w.note("kind", evid.clone());
        w.start(pkg.mgr.run(name), Trust::Config, evid);
        out.push(w);
    }
    out
}

/// The package itself is a worker: its start script (or the worker file) runs it.
pub(super) fn standalone_worker(pkg: &Pkg, base: &Draft, facts: &CodeFacts) -> Option<Draft> {
    let (lib, file, line) = facts
        .workers
        .iter()
        .find(|(_, f, _)| !imported_elsewhere(pkg, f))
        .or(facts.workers.first())?;
    let mut w = worker_draft(pkg, base, lib, file, *line);
    w.strength = 6.0;
    match pkg.prod_start {
        Some((name, e)) => {
            let evid = ev(&pkg.m.file, e.line, format!("\"{name}\": \"{}\"", e.value));
            w.start(pkg.mgr.run(name), Trust::Config, evid);
        }
        None => worker_start(pkg, &mut w, &rel_to(pkg.dir, file)),
    }
    Some(w)
}

pub(super) fn worker_draft(
    pkg: &Pkg,
    base: &Draft,
    lib: &WorkerLib,
    file: &str,
    line: u32,
) -> Draft {
    let mut w = base.clone();
    w.kind = ServiceKind::Worker;
    // A worker opens no server: the port variable is the web process's.
    w.env.retain(|e| e.name != "PORT");
    w.framework = Some(lib.name.to_string());
    w.evidence.remove("framework");
    w.health_path = None;
    w.evidence.remove("health_path");
    if let Some(e) = pkg.m.dep_evidence(lib.dep) {
        w.note("framework", e);
    }
    let text = pkg.ctx.read_path(file).unwrap_or_default();
    w.note("kind", ev(file, Some(line), line_text(&text, line)));
    w.strength = 6.0;
    w
}

/// `file` relative to the package folder.
pub(super) fn rel_to(dir: &str, file: &str) -> String {
    if dir.is_empty() {
        file.to_string()
    } else {
        file.strip_prefix(&format!("{dir}/"))
            .unwrap_or(file)
            .to_string()
    }
}

/// True when another source file of the package imports `file`.
pub(super) fn imported_elsewhere(pkg: &Pkg, file: &str) -> bool {
    let name = file_name(file);
    let stem = name.split('.').next().unwrap_or(name);
    let stem = if stem == "index" {
        file_name(parent(file))
    } else {
        stem
    };
    if stem.is_empty() {
        return false;
    }
    let Ok(re) = crate::scan::try_regex(&format!(
        r#"['"`][^'"`\n]*/{}(?:\.[mc]?[jt]sx?)?['"`]"#,
        regex::escape(stem)
    )) else {
        return false;
    };
    pkg.files
        .iter()
        .filter(|f| f.as_str() != file)
        .any(|f| pkg.ctx.read_path(f).is_some_and(|t| re.is_match(&t)))
}

/// A script that runs `rel` (or its compiled output) as a production command.
pub(super) fn script_running<'a>(pkg: &'a Pkg, rel: &str) -> Option<(&'a str, &'a Entry)> {
    let exists = |p: &str| pkg.ctx.index().contains(&join(pkg.dir, p));
    let js_rel = swap_ts_ext(rel);
    pkg.m
        .scripts
        .iter()
        .map(|(k, e)| (k.as_str(), e))
        .find(|(_, e)| {
            scripts::entry_of(&e.value, pkg.m, &exists).is_some_and(|f| {
                let f = f.trim_start_matches("./");
                f == rel || swap_ts_ext(f) == js_rel || f.ends_with(&format!("/{js_rel}"))
            })
        })
}

/// A worker's start: a production script that runs its file (or is named like a
/// worker), else `node <file>` (compiled for TypeScript).
pub(super) fn worker_start(pkg: &Pkg, w: &mut Draft, rel: &str) {
    let exists = |p: &str| pkg.ctx.index().contains(&join(pkg.dir, p));
    let js_rel = swap_ts_ext(rel);
    let runs_file = |e: &Entry| {
        scripts::entry_of(&e.value, pkg.m, &exists).is_some_and(|f| {
            let f = f.trim_start_matches("./");
            f == rel || swap_ts_ext(f) == js_rel || f.ends_with(&format!("/{js_rel}"))
        })
    };
    let mut dev: Option<(&str, &Entry, String)> = None;
    let by_file = pkg.m.scripts.iter().filter(|(_, e)| runs_file(e));
    let by_name = WORKER_SCRIPTS
        .iter()
        .filter_map(|n| pkg.m.scripts.get_key_value(*n));
    for (name, e) in by_file.chain(by_name) {
        match scripts::classify(&e.value, pkg.m) {
            Class::Production => {
                let evid = ev(&pkg.m.file, e.line, format!("\"{name}\": \"{}\"", e.value));
                w.start(pkg.mgr.run(name), Trust::Config, evid);
                return;
            }
            Class::Dev(tool) if dev.is_none() => dev = Some((name.as_str(), e, tool)),
            _ => {}
        }
    }
    let is_ts = [".ts", ".mts", ".cts"].iter().any(|e| rel.ends_with(e));
    let cmd = if !is_ts {
        format!("node {rel}")
    } else if pkg.mgr.name == "bun" {
        format!("bun {rel}")
    } else {
        let (out, _) = compiled_path(pkg, rel);
        add_build(pkg, w, Some("tsc"));
        format!("node {out}")
    };
    w.start(
        cmd.clone(),
        Trust::Inferred,
        ev(&join(pkg.dir, rel), None, "inferred: the worker's file"),
    );
    if let Some((name, e, tool)) = dev {
        w.finding(
            "dev_server_start",
            Severity::Warning,
            Some(&pkg.m.file),
            e.line,
            format!(
                "the `{name}` script runs the worker under a watcher (`{tool}`), which is not meant for production; \
                 autodeploy runs `{cmd}` instead — add a production script for the worker"
            ),
            None,
        );
    }
}
