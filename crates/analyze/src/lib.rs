//! The analyze stage: a repository tree → the deployable services in it, each
//! with its language, framework, port, start/build commands, databases, env
//! vars, findings, confidence and the evidence (file:line) for every value.
//!
//! Pipeline inside the stage:
//! 1. `walk` lists the tree once (parallel, .gitignore-aware, vendored trees pruned);
//! 2. every folder holding a marker file is offered to the detectors whose
//!    markers it holds (`detectors/`), in parallel; each returns drafts;
//! 3. `config/` overlays (Procfile, Dockerfile, .env, compose) add the most
//!    trusted claims;
//! 4. `resolve` selects services and picks values by trust, turning
//!    disagreements into findings.
//!
//! Pure apart from reading the tree: no network, no subprocesses, nothing
//! printed, nothing read relative to the working directory.

pub mod config;
pub mod ctx;
pub mod detectors;
pub mod draft;
pub mod examples;
pub mod gitignore;
pub mod inbound;
pub mod release;
pub mod repo;
pub mod resolve;
pub mod scan;
pub mod walk;
pub mod wiring;

use autodeploy_core::{Analysis, ScanStats, Service, SourceInfo};
use ctx::Ctx;
use detectors::Detector;
use draft::Draft;
use rayon::prelude::*;
use repo::{FsRepo, Repo};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// Changes whenever detection changes in a way that alters results (cache key).
pub const ANALYZER_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "+a61");

#[derive(Debug, Clone, Default)]
pub struct AnalyzeOptions {
    /// Threads for the walk (0 = number of CPUs).
    pub threads: usize,
    /// Name for a service at the repository root when nothing better is known
    /// (the repository or folder name).
    pub name_hint: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    #[error("{path} is not a readable folder")]
    NotADirectory { path: String },
    #[error(
        "{path} is empty (after .gitignore and vendored folders are skipped): nothing to deploy"
    )]
    Empty { path: String },
    #[error(
        "no deployable app found in {path}. Looked for: {looked_for}. \
         If the app is in a subfolder or uses another stack, point autodeploy at that folder \
         or add a Dockerfile"
    )]
    NothingFound { path: String, looked_for: String },
}

/// Analyse a folder on disk.
pub fn analyze_dir(
    root: &Path,
    source: SourceInfo,
    opts: &AnalyzeOptions,
) -> Result<Analysis, AnalyzeError> {
    let display = source.input.clone();
    if !root.is_dir() {
        return Err(AnalyzeError::NotADirectory { path: display });
    }
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    } else {
        opts.threads
    };
    let (index, walk_skipped) = walk::walk(root, threads);
    if index.is_empty() {
        return Err(AnalyzeError::Empty { path: display });
    }
    let repo = FsRepo::new(root.to_path_buf(), index);
    let services = analyze_repo(&repo, opts.name_hint.as_deref()).map_err(|e| match e {
        AnalyzeError::NothingFound { looked_for, .. } => AnalyzeError::NothingFound {
            path: display.clone(),
            looked_for,
        },
        other => other,
    })?;
    let (read, skipped) = repo.read_stats();
    Ok(Analysis {
        source,
        services,
        analyzer_version: ANALYZER_VERSION.to_string(),
        stats: ScanStats {
            files_seen: repo.index().len() as u64,
            files_read: read,
            files_skipped: skipped + walk_skipped,
        },
    })
}

/// Analyse any [`Repo`] (the pure core: no filesystem access of its own).
pub fn analyze_repo(
    repo: &dyn Repo,
    name_hint: Option<&str>,
) -> Result<Vec<Service>, AnalyzeError> {
    let ctx = Ctx::new(repo);
    let detectors = detectors::all();

    // Which (folder, detector) pairs to ask: folders holding one of the detector's markers.
    // Looked up once per file of the tree: not SipHash.
    let mut exact: HashMap<&str, Vec<usize>, repo::FastHash> = HashMap::default();
    let mut suffixes: Vec<(&str, usize)> = Vec::new();
    for (i, det) in detectors.iter().enumerate() {
        for m in det.markers() {
            match m.strip_prefix('*') {
                Some(suffix) => suffixes.push((suffix, i)),
                None => exact.entry(m).or_default().push(i),
            }
        }
    }
    let mut jobs: BTreeSet<(String, usize)> = BTreeSet::new();
    for dir in repo.index().dirs() {
        for name in repo.index().names_in(dir) {
            for &i in exact.get(name).into_iter().flatten() {
                jobs.insert((dir.to_string(), i));
            }
            for &(suffix, i) in &suffixes {
                if name.ends_with(suffix) {
                    jobs.insert((dir.to_string(), i));
                }
            }
        }
    }

    // Folders inside tests/examples/docs (`test/fixtures/package.json`) are
    // asked only when their drafts could matter: selection drops them as soon
    // as one service lies outside such folders, and before that they only
    // count when they sit inside a draft that yields to what is below it, or
    // when compose files could point at them. In a large monorepo they are
    // most of the candidate folders and most of the files read.
    let (outside, inside): (Vec<_>, Vec<_>) = jobs
        .into_iter()
        .enumerate()
        .partition(|(_, (dir, _))| !resolve::in_non_app_dir(dir));
    let mut results = run_jobs(&ctx, &detectors, outside);
    if !inside.is_empty() && inside_matters(&ctx, &results, &inside) {
        results.extend(run_jobs(&ctx, &detectors, inside));
        results.sort_by_key(|(i, _)| *i);
    }
    let mut drafts: Vec<Draft> = results.into_iter().flat_map(|(_, d)| d).collect();
    config::compose::apply(&ctx, &mut drafts);
    detectors::rust::fold_members(&ctx, &mut drafts);

    let selected = resolve::select(drafts);
    if selected.is_empty() {
        return Err(AnalyzeError::NothingFound {
            path: String::new(),
            looked_for: looked_for(&detectors),
        });
    }
    Ok(resolve::finalize(&ctx, selected, name_hint))
}

type Job = (usize, (String, usize));

/// Run each (folder, detector) job with the config overlays; results keep
/// the job's position so that merging two runs gives the order of one.
fn run_jobs(ctx: &Ctx, detectors: &[&dyn Detector], jobs: Vec<Job>) -> Vec<(usize, Vec<Draft>)> {
    jobs.into_par_iter()
        .map(|(pos, (dir, i))| {
            let det: &dyn Detector = detectors[i];
            let mut found = det.detect(ctx, &dir);
            let mut extra = Vec::new();
            for d in &mut found {
                extra.extend(config::apply(ctx, d));
            }
            found.extend(extra);
            (pos, found)
        })
        .collect()
}

/// True when the drafts of the jobs in tests/examples/docs folders could
/// change the selection, given the drafts found elsewhere.
fn inside_matters(ctx: &Ctx, outside: &[(usize, Vec<Draft>)], inside: &[Job]) -> bool {
    let drafts = || outside.iter().flat_map(|(_, d)| d);
    if drafts().next().is_none() {
        return true; // nothing else: they may be all there is
    }
    // A draft that gives way to one strictly inside it (a page without a
    // manifest, a bare Dockerfile, code without a manifest).
    let yields = |d: &Draft| {
        (d.kind == autodeploy_core::ServiceKind::Static && !d.has_manifest)
            || (d.language == autodeploy_core::Language::Unknown && d.name.is_none())
            || (d.kind == autodeploy_core::ServiceKind::Web && !d.has_manifest)
    };
    let below = |d: &Draft| {
        inside
            .iter()
            .any(|(_, (dir, _))| *dir != d.dir && repo::is_under(dir, &d.dir))
    };
    drafts().any(|d| yields(d) && below(d)) || !config::compose::services(ctx).is_empty()
}

fn looked_for(detectors: &[&dyn Detector]) -> String {
    let mut markers: Vec<&str> = detectors
        .iter()
        .flat_map(|d| d.markers().iter().copied())
        .collect();
    markers.sort_unstable();
    markers.dedup();
    markers.join(", ")
}
