//! The runtime each project asks for, end to end through `start`: the Python
//! minor it pins (or the newest that fits its range), poetry / uv / pdm /
//! pipenv provided inside the deployment and honouring their lock files,
//! yarn classic / yarn berry / pnpm through corepack, an npm peer-dependency
//! conflict retried with --legacy-peer-deps, a Node major newer than the
//! machine's and a missing Bun fetched from the npm registry — each app answers with the
//! interpreter and dependency versions it really got.
//!
//! Needs the network (PyPI, the npm registry); downloads land in the shared
//! test cache, so reruns are fast.

mod common;

use autodeploy_local::{start, LocalError};
use common::*;
use std::path::{Path, PathBuf};

/// What a deployed fixture answered, and what its runtime folder held while it ran.
struct Answer {
    json: serde_json::Value,
    log: String,
    /// The release folder (`runtime/`, `app/` …).
    dir: PathBuf,
    /// Names in `runtime/<svc>/bin` (package manager shims).
    shims: Vec<String>,
    /// Names in `runtime/<svc>/venv/bin`.
    venv_bin: Vec<String>,
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Deploy a fixture, GET `/`, and tear it down.
fn answer(id: &str, fixture: &str) -> Answer {
    let home = home();
    let run = deploy(id, &app(fixture), &home.opts).unwrap_or_else(|e| panic!("{id}: {e}"));
    let (code, body) = get(&run.app.url);
    assert_eq!(code, 200, "{id}: {body}");
    let svc = &run.app.services[0].name;
    let rt = run.app.release_dir.join("runtime").join(svc);
    Answer {
        json: serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}")),
        log: std::fs::read_to_string(&run.app.log_file).unwrap(),
        dir: run.app.release_dir.clone(),
        shims: names(&rt.join("bin")),
        venv_bin: names(&rt.join("venv/bin")),
    }
}

/// Is a CPython `3.minor` on this machine? (Checked independently of the
/// runner's own discovery: PATH, and pyenv's versions folder.)
fn machine_has_python(minor: u32) -> bool {
    let name = format!("python3.{minor}");
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).any(|d| {
        let shim = std::fs::read_to_string(d.join(&name)).is_ok_and(|t| t.contains("pyenv"));
        (d.join(&name).is_file() && !shim)
            || std::fs::read_dir(d.join("../versions"))
                .into_iter()
                .flatten()
                .flatten()
                .any(|e| e.path().join("bin").join(&name).is_file())
    })
}

fn python_line(v: &serde_json::Value) -> String {
    let full = v["python"].as_str().unwrap();
    full.rsplit_once('.').unwrap().0.to_string()
}

/// The app imports from the deployment's own venv.
fn assert_own_venv(v: &serde_json::Value, dir: &Path, svc: &str) {
    let prefix = v["prefix"].as_str().unwrap();
    assert_eq!(
        Path::new(prefix),
        dir.join("runtime").join(svc).join("venv"),
        "{v}"
    );
    assert_eq!(v["six"], "1.16.0", "{v}");
}

#[test]
fn a_pinned_python_minor_is_the_one_the_venv_uses() {
    if !machine_has_python(9) {
        // Then the deploy must stop before copying anything, naming 3.9.
        let home = home();
        let dir = app("py_pinned_minor");
        let (analysis, decision) = plan(&dir);
        let err = start("pin", &dir, &analysis, &decision, &home.opts, &sink).unwrap_err();
        assert!(
            matches!(err, LocalError::RuntimeVersionUnavailable { .. }),
            "{err}"
        );
        return;
    }
    let Answer {
        json: v, log, dir, ..
    } = answer("py-pin", "py_pinned_minor");
    assert_eq!(python_line(&v), "3.9", "{v}");
    assert_own_venv(&v, &dir, "py-pinned-minor");
    assert!(
        log.contains("fits the project's 3.9 (in .python-version)"),
        "{log}"
    );
}

#[test]
fn a_python_the_machine_lacks_is_named_before_anything_is_copied() {
    let home = home();
    let src = tempfile::tempdir().unwrap();
    std::fs::write(
        src.path().join("app.py"),
        std::fs::read(app("py_pinned_minor/app.py")).unwrap(),
    )
    .unwrap();
    std::fs::write(src.path().join("requirements.txt"), "six==1.16.0\n").unwrap();
    std::fs::write(src.path().join(".python-version"), "3.99\n").unwrap();
    let (analysis, decision) = plan(src.path());
    let err = start("nopy", src.path(), &analysis, &decision, &home.opts, &sink).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, LocalError::RuntimeVersionUnavailable { .. }),
        "{msg}"
    );
    assert!(msg.contains("python 3.99 (in .python-version)"), "{msg}");
    assert!(msg.contains("this machine has python 3."), "{msg}");
    assert!(msg.contains("install Python 3.99"), "{msg}");
    assert!(!home.dir.path().join("deployments").exists());
}

#[test]
fn poetry_installs_its_lock_into_the_deployments_venv() {
    let a = answer("py-poetry", "py_poetry");
    assert_own_venv(&a.json, &a.dir, "py-poetry");
    assert!(a.log.contains("fits the project's ^3.9"), "{}", a.log);
    assert!(
        a.log.contains("poetry install --only main --no-root"),
        "{}",
        a.log
    );
    // Poetry is linked into the runtime's bin, not installed in the app's venv.
    assert_eq!(a.shims, vec!["poetry"]);
    assert!(
        !a.venv_bin.contains(&"poetry".to_string()),
        "{:?}",
        a.venv_bin
    );
}

#[test]
fn uv_syncs_its_lock_and_respects_the_upper_bound() {
    let Answer {
        json: v,
        log,
        dir,
        shims,
        ..
    } = answer("py-uv", "py_uv");
    assert_own_venv(&v, &dir, "py-uv");
    assert_eq!(shims, vec!["uv"]);
    // >=3.9,<3.11: the plan says 3.10, and 3.11+ must not be used.
    let line = python_line(&v);
    assert!(line == "3.10" || line == "3.9", "{v}");
    assert!(log.contains("fits the project's >=3.9,<3.11"), "{log}");
}

#[test]
fn pipenv_deploys_its_lock_on_the_python_the_pipfile_names() {
    if !machine_has_python(10) {
        return;
    }
    let Answer { json: v, dir, .. } = answer("py-pipenv", "py_pipenv");
    assert_eq!(python_line(&v), "3.10", "{v}");
    assert_own_venv(&v, &dir, "py-pipenv");
}

#[test]
fn pdm_installs_its_lock_into_the_deployments_venv() {
    let Answer { json: v, dir, .. } = answer("py-pdm", "py_pdm");
    assert_own_venv(&v, &dir, "py-pdm");
}

#[test]
fn yarn_classic_installs_its_frozen_lock_through_corepack() {
    let Answer {
        json: v,
        log,
        shims,
        ..
    } = answer("yarn-classic", "node_yarn_classic");
    assert_eq!(v["ms"], "2.1.3", "{v}");
    assert!(log.contains("yarn install --frozen-lockfile"), "{log}");
    assert!(
        log.contains("yarn: through corepack (corepack's default version)"),
        "{log}"
    );
    assert!(log.contains("stdout 1.22."), "{log}");
    // The shim lives in the deployment, not on the machine.
    assert_eq!(shims, vec!["yarn"]);
}

#[test]
fn yarn_berry_comes_from_the_npm_registry_and_installs_immutably() {
    let Answer { json: v, log, .. } = answer("yarn-berry", "node_yarn_berry");
    assert_eq!(v["ms"], "2.1.3", "{v}");
    assert!(log.contains("yarn install --immutable"), "{log}");
    assert!(log.contains("packageManager yarn@4.5.3"), "{log}");
}

#[test]
fn pnpm_installs_its_frozen_lock_at_the_pinned_version() {
    let Answer { json: v, log, .. } = answer("pnpm", "node_pnpm");
    assert_eq!(v["ms"], "2.1.3", "{v}");
    assert!(log.contains("pnpm install --frozen-lockfile"), "{log}");
    assert!(log.contains("stdout 9.15.9"), "{log}");
}

#[test]
fn an_npm_peer_conflict_is_retried_with_legacy_peer_deps_and_a_warning() {
    let Answer { json: v, log, .. } = answer("peer", "node_peer_conflict");
    assert_eq!(v["preact"], "8.5.3", "{v}");
    assert!(log.contains("ERESOLVE"), "{log}");
    assert!(
        log.contains("warning: npm found a peer-dependency conflict"),
        "{log}"
    );
    assert!(log.contains("npm install --legacy-peer-deps"), "{log}");
}

#[test]
fn a_node_major_newer_than_the_machines_comes_from_the_npm_registry() {
    let Answer {
        json: v,
        log,
        shims,
        ..
    } = answer("node22", "node_pinned_22");
    // Linked into the deployment: it keeps running when the cache is cleared.
    assert_eq!(shims, vec!["node"]);
    assert!(v["node"].as_str().unwrap().starts_with("v22."), "{v}");
    assert_eq!(v["ms"], "2.1.3", "{v}");
    assert!(
        log.contains("(the official build, from the npm registry)"),
        "{log}"
    );
}

#[test]
fn bun_comes_from_the_npm_registry_when_the_machine_has_none() {
    let Answer {
        json: v,
        log,
        shims,
        ..
    } = answer("bun", "node_bun");
    assert!(
        v["bun"].as_str().is_some_and(|b| b.starts_with("1.")),
        "{v}"
    );
    assert_eq!(v["ms"], "2.1.3", "{v}");
    assert!(log.contains("bun install --frozen-lockfile"), "{log}");
    let on_path = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .any(|d| d.join("bun").is_file());
    if !on_path {
        assert!(log.contains("from the npm registry is used"), "{log}");
        assert_eq!(shims, vec!["bun"]);
    }
}

/// A build that needs a devDependency (as bundlers are) gets it: the install
/// runs without the deployment's NODE_ENV=production, under which npm leaves
/// devDependencies out; the build and the app run with it.
#[test]
fn a_build_gets_its_dev_dependencies_and_the_app_runs_in_production() {
    let Answer { json: v, log, .. } = answer("devbuild", "node_dev_build");
    assert_eq!(v["ms"], 172_800_000, "{v}");
    assert_eq!(v["node_env"], "production", "{v}");
    assert_eq!(v["running_env"], "production", "{v}");
    assert!(log.contains("npm ci"), "{log}");
}

/// A backend's asset build runs with the Node its package.json asks for
/// (`devEngines` node ^24, which npm enforces), fetched from the npm
/// registry when this machine's is older, not with whatever node is on PATH.
#[test]
fn an_asset_build_beside_a_backend_gets_the_node_its_package_asks_for() {
    let home = home();
    let dir = app("py_assets_node24");
    let run = deploy("assets24", &dir, &home.opts).unwrap_or_else(|e| panic!("{e}"));
    let (code, body) = get(&format!("{}/", run.app.url));
    assert_eq!(code, 200, "{body}");
    assert!(body.starts_with("built with node v24."), "{body}");
}
