//! Which language toolchains a service needs on this machine and which
//! version of each it gets — checked before any work starts ([`check`]) —
//! and the per-service runtime built from that choice ([`runtime`]): the
//! folders put on PATH, the environment, and the steps that create the
//! runtime and install the dependencies, each with the retries a person would
//! make ([`run_steps`]).
//!
//! Per language: `python.rs` (interpreters, venv, uv/poetry/pdm/pipenv),
//! `node.rs` (node version, corepack for yarn/pnpm), `rust.rs` (the repo's
//! cargo configuration fitted to this machine). Version requirements are
//! read with `autodeploy_core::version`, the same rules decide used for the plan.
//!
//! Deliberately not here: running commands (`lib.rs` does, through `sh -c`)
//! and installing anything on the machine itself — what a deployment needs is
//! provided inside its runtime folder or the shared download cache, and what
//! cannot be is named with how to get it.

pub mod node;
pub mod python;
pub mod rust;

use crate::error::LocalError;
use autodeploy_core::version::{Dialect, Requirement, Version};
use autodeploy_core::{Analysis, ServicePlan};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A program a service needs, the runtime it belongs to and how to get it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub program: &'static str,
    pub runtime: &'static str,
    pub hint: &'static str,
}

const fn need(program: &'static str, runtime: &'static str, hint: &'static str) -> Need {
    Need {
        program,
        runtime,
        hint,
    }
}

/// The toolchain programs per runtime family.
fn family_needs(family: &str) -> Vec<Need> {
    match family {
        // Interpreters are found by `python::discover`, not by one name.
        "python" => vec![],
        "node" => vec![
            need("node", "node", "apt-get install nodejs npm"),
            need("npm", "npm", "apt-get install npm"),
        ],
        "go" => vec![need("go", "go", "apt-get install golang-go")],
        "rust" => vec![need(
            "cargo",
            "rust",
            "curl https://sh.rustup.rs -sSf | sh, or apt-get install cargo",
        )],
        "ruby" => vec![
            need("ruby", "ruby", "apt-get install ruby-full"),
            need("bundle", "bundler", "apt-get install ruby-bundler"),
        ],
        "php" => vec![need("php", "php", "apt-get install php-cli composer")],
        "jvm" => vec![need("java", "java", "apt-get install default-jdk")],
        "dotnet" => vec![need(
            "dotnet",
            "dotnet",
            "install the .NET SDK (https://dotnet.microsoft.com/download)",
        )],
        "elixir" => vec![need("mix", "elixir", "apt-get install elixir erlang")],
        _ => vec![],
    }
}

/// Tool managers a command may start with; checked when a command names one.
/// (uv, poetry, pdm, pipenv, yarn and pnpm are provided, not required.)
const COMMAND_TOOLS: &[Need] = &[
    need("deno", "deno", "https://deno.land/#installation"),
    need("bundle", "bundler", "apt-get install ruby-bundler"),
    need("composer", "composer", "apt-get install composer"),
    need("mvn", "maven", "apt-get install maven"),
    need("gradle", "gradle", "apt-get install gradle"),
    need("mix", "elixir", "apt-get install elixir erlang"),
    need("php", "php", "apt-get install php-cli"),
    need("ruby", "ruby", "apt-get install ruby-full"),
    need("java", "java", "apt-get install default-jdk"),
];

/// The programs `svc` runs: its family's toolchain and the tool managers its
/// commands start with (what the deployment's account must be able to run;
/// the interpreter and tools [`check`] chooses are in [`Chosen::executables`]).
pub fn programs(svc: &ServicePlan) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = family_needs(&svc.runtime.family)
        .iter()
        .map(|n| n.program)
        .collect();
    for first in commands(svc).flat_map(command_programs) {
        if let Some(n) = COMMAND_TOOLS.iter().find(|n| n.program == first) {
            if !out.contains(&n.program) {
                out.push(n.program);
            }
        }
    }
    out
}

/// Every program `svc` needs that is not on `path`: the family's toolchain
/// first, then tool managers its commands start with.
pub fn missing(svc: &ServicePlan, path: &OsString) -> Vec<Need> {
    let mut needs = family_needs(&svc.runtime.family);
    for first in commands(svc).flat_map(command_programs) {
        if let Some(n) = COMMAND_TOOLS.iter().find(|n| n.program == first) {
            if !needs.contains(n) {
                needs.push(n.clone());
            }
        }
    }
    needs
        .into_iter()
        .filter(|n| which(n.program, path).is_none())
        .collect()
}

/// The programs a shell command runs first in each of its parts
/// (`cd web && pnpm build; uv run x` → cd, pnpm, uv).
pub fn command_programs(cmd: &str) -> Vec<&str> {
    cmd.split(['&', '|', ';', '(', ')', '\n'])
        .filter_map(first_program)
        .collect()
}

fn commands(svc: &ServicePlan) -> impl Iterator<Item = &str> {
    [&svc.install, &svc.build, &svc.release, &svc.start]
        .into_iter()
        .filter_map(|c| c.as_deref())
}

/// The program a shell command runs first (after leading `VAR=value` words and `exec`).
pub fn first_program(cmd: &str) -> Option<&str> {
    cmd.split_whitespace()
        .find(|w| (w.starts_with('=') || !w.contains('=')) && *w != "exec" && *w != "env")
}

/// Look `program` up on a PATH value.
pub fn which(program: &str, path: &OsString) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path)
        .map(|d| d.join(program))
        .find(|p| {
            std::fs::metadata(p)
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

/// Quote for `sh -c`.
pub(crate) fn sh(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Run a short probe (`python -c …`, `node --version`) and return its stdout
/// when it succeeds within `timeout`.
pub(crate) fn capture(cmd: &mut Command, timeout: Duration) -> Option<String> {
    use std::io::Read;
    let mut child = cmd
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut out = child.stdout.take()?;
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let end = std::time::Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) if std::time::Instant::now() < end => {
                std::thread::sleep(Duration::from_millis(5))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    };
    let text = reader.join().ok()?;
    status.success().then_some(text)
}

/// What [`check`] chose for a service, before anything was copied.
#[derive(Debug, Clone, Default)]
pub struct Chosen {
    pub python: Option<python::Interpreter>,
    pub node: Option<node::NodeChoice>,
    /// Python package managers to provide (`uv`, `poetry`, `pdm`, `pipenv`).
    pub python_tools: Vec<&'static str>,
    /// pip constraints the analysis found the project's pins need
    /// (`Werkzeug<3` beside `Flask==2.2`).
    pub python_constraints: Vec<String>,
    /// yarn / pnpm, through corepack at `corepack`.
    pub managers: Vec<node::Manager>,
    pub corepack: Option<PathBuf>,
    /// Bun from the npm registry, when a command uses it and the machine has none.
    pub bun: Option<node::RegistryBinary>,
    /// Rust: the environment the repo's cargo files need on this machine.
    pub cargo: rust::CargoFit,
    /// Lines for the deployment log: what was chosen and why, warnings.
    pub notes: Vec<String>,
}

impl Chosen {
    /// Executables outside PATH lookups that the service's commands run: the
    /// chosen interpreter, corepack (for the deployment's account to reach).
    pub fn executables(&self) -> Vec<PathBuf> {
        self.python
            .iter()
            .map(|i| i.exe.clone())
            .chain(self.corepack.clone())
            .collect()
    }
}

/// The requirement the project states for `svc` (from the analysis) and the
/// file that says it.
/// The log line for a Node fetched from the npm registry: `who` asks for
/// `req`, this machine has `machine`.
fn registry_node_note(
    b: &node::RegistryBinary,
    who: &str,
    req: &dyn std::fmt::Display,
    machine: Option<&node::Node>,
) -> String {
    format!(
        "node {who} asks for {req} and this machine has {}; {}@{} (the official build, from the npm registry) is used, kept in the download cache",
        machine
            .map(|m| format!("node {}", m.version))
            .unwrap_or_else(|| "no node".into()),
        b.package,
        b.spec
    )
}

fn requirement(svc: &ServicePlan, analysis: &Analysis) -> (Option<String>, Option<String>) {
    let a = analysis
        .services
        .iter()
        .find(|a| a.name == svc.name && a.path == svc.path);
    let raw = a.and_then(|a| a.runtime_version.clone());
    let file = a
        .and_then(|a| a.evidence.get("runtime_version"))
        .and_then(|e| e.first())
        .map(|e| e.file.clone());
    (raw, file)
}

/// Check, before any work, that `svc` can run here and choose its toolchain:
/// the interpreter version, the package managers to provide. `source_root`
/// is the tree that will be copied (read, never written).
pub fn check(
    svc: &ServicePlan,
    analysis: &Analysis,
    source_root: &Path,
    path: &OsString,
) -> Result<Chosen, LocalError> {
    if let Some(n) = missing(svc, path).into_iter().next() {
        return Err(LocalError::RuntimeMissing {
            runtime: n.runtime.to_string(),
            service: svc.name.clone(),
            hint: n.hint.to_string(),
        });
    }
    let mut chosen = Chosen::default();
    let family = svc.runtime.family.as_str();
    let (raw, file) = requirement(svc, analysis);
    let from = file.map(|f| format!(" (in {f})")).unwrap_or_default();
    let req = match (Dialect::of_family(family), raw.as_deref()) {
        (Some(d), Some(r)) => match Requirement::parse(d, r) {
            Ok(req) => Some(req),
            Err(why) => {
                chosen.notes.push(format!(
                    "warning: the project's {family} version {r:?}{from} cannot be read ({why}); \
                     it is ignored"
                ));
                Some(Requirement::any(d))
            }
        },
        (Some(d), None) => Some(Requirement::any(d)),
        _ => None,
    };
    let planned = Version::parse(&svc.runtime.version);
    let cmds: Vec<&str> = commands(svc).flat_map(command_programs).collect();

    if family == "python" {
        let req = req
            .clone()
            .unwrap_or_else(|| Requirement::any(Dialect::Python));
        let have = python::discover(path);
        let need_pip = needs_pip(svc, source_root);
        let tools: Vec<&'static str> = python::TOOLS
            .iter()
            .map(|(t, _)| *t)
            .filter(|t| cmds.contains(t))
            .collect();
        let svc_src =
            crate::prepare::inside(source_root, &svc.path).unwrap_or_else(|| source_root.into());
        let lock = python::lock_wheels(&svc_src, source_root);
        // The tools' venv needs pip even when the app's does not.
        let (interp, lock_note) = python::choose(
            &req,
            planned,
            &have,
            need_pip || !tools.is_empty(),
            lock.as_ref(),
        )
        .map_err(|why| python_error(svc, &req, &from, &have, why, path))?;
        let line = |v: Version| Dialect::Python.line_name(v);
        let mut why = if req.is_any() {
            "the project states no version".to_string()
        } else if req.matches(interp.version) {
            format!("fits the project's {req}{from}")
        } else {
            format!("the project asks for {req}{from}: same minor")
        };
        match (lock_note, planned) {
            (Some(n), _) => why = format!("{why}; {n}"),
            (None, Some(p)) if line(p) != line(interp.version) => {
                why = format!("{why}; the plan's {} is not on this machine", line(p))
            }
            (None, Some(_)) => why = format!("{why}; the plan's version"),
            (None, None) => {}
        }
        chosen.notes.push(format!(
            "python {} ({}): {why}",
            interp.version,
            interp.exe.display()
        ));
        chosen.python = Some(interp);
        chosen.python_tools = tools;
        for c in &svc.install_constraints {
            chosen.python_constraints.push(c.requirement.clone());
            chosen.notes.push(format!(
                "warning: installing with {} ({}; pin it in {} to remove this warning)",
                c.requirement, c.reason, c.file
            ));
        }
    }
    if family == "rust" {
        let svc_src =
            crate::prepare::inside(source_root, &svc.path).unwrap_or_else(|| source_root.into());
        chosen.cargo = rust::fit(&svc_src, source_root, path);
        // A release step's migration CLI (diesel_cli, sqlx-cli) that the
        // machine does not have: installed once per home.
        let cli = commands(svc).find_map(|c| {
            command_programs(c)
                .iter()
                .find_map(|p| autodeploy_core::release_cli::CargoCli::for_command(p))
        });
        if let Some(cli) = cli.filter(|c| which(c.program, path).is_none()) {
            let dbs = analysis
                .services
                .iter()
                .find(|a| a.name == svc.name)
                .map(|a| a.databases.as_slice())
                .unwrap_or_default();
            let backend = autodeploy_core::release_cli::CargoCli::backend(dbs);
            chosen.cargo.release_cli = Some((cli, backend));
            chosen.cargo.notes.push(format!(
                "{} is not on this machine: installing it for the release step (`cargo install {}` with the {backend} backend, once per home)",
                cli.krate, cli.krate
            ));
        }
        chosen.notes.extend(chosen.cargo.notes.iter().cloned());
    }
    // A backend's asset pipeline (`npm ci && npx gulp build && …
    // collectstatic`) runs with the Node its package.json asks for.
    if family != "node" && cmds.iter().any(|c| matches!(*c, "npm" | "npx")) {
        let svc_src =
            crate::prepare::inside(source_root, &svc.path).unwrap_or_else(|| source_root.into());
        let asked = node::package_requirement(&svc_src.join("package.json"))
            .and_then(|raw| Requirement::parse(Dialect::Node, &raw).ok());
        if let Some(req) = asked {
            let machine = node::machine_node(path);
            let npm = which("npm", path).is_some();
            if let Ok(choice) = node::choose(&req, None, machine.as_ref(), npm) {
                if let node::NodeChoice::Registry(b) = &choice {
                    chosen.notes.push(registry_node_note(
                        b,
                        &format!("{} for the asset build: its package.json", b.spec),
                        &req,
                        machine.as_ref(),
                    ));
                }
                chosen.node = Some(choice);
            }
        }
    }
    if family == "node" {
        let req = req
            .clone()
            .unwrap_or_else(|| Requirement::any(Dialect::Node));
        let machine = node::machine_node(path);
        let npm = which("npm", path).is_some();
        let choice = node::choose(&req, Some(&svc.runtime.version), machine.as_ref(), npm)
            .map_err(|e| LocalError::RuntimeVersionUnavailable {
                service: svc.name.clone(),
                asked: format!("node {req}{from}"),
                have: e.reason,
                hint: format!(
                    "install Node {} so that `node` on PATH is that version (e.g. `nvm install {}`, or \
                     your distribution's / NodeSource's nodejs package)",
                    e.need, e.need
                ),
            })?;
        match &choice {
            node::NodeChoice::Machine { version, note } => chosen.notes.push(match note {
                Some(n) => format!("node {version}: {n}"),
                None if req.is_any() => format!("node {version} (this machine's)"),
                None => format!("node {version} (this machine's): fits the project's {req}{from}"),
            }),
            node::NodeChoice::Registry(b) => chosen.notes.push(registry_node_note(
                b,
                &format!("{}: the project", b.spec),
                &format!("{req}{from}"),
                machine.as_ref(),
            )),
        }
        chosen.node = Some(choice);
    }

    if family == "go" {
        // Go cannot be fetched here (Go 1.21+ fetches newer toolchains
        // itself, through the module proxy), and a newer `go` line is often
        // only a note: warn, and let the build say.
        let machine = which("go", path)
            .and_then(|go| {
                capture(
                    Command::new(go).args(["env", "GOVERSION"]),
                    Duration::from_secs(20),
                )
            })
            .and_then(|v| Version::parse(v.trim().trim_start_matches("go")));
        if let (Some(m), Some(asked)) = (machine, raw.as_deref().and_then(Version::parse)) {
            if asked > m {
                chosen.notes.push(format!(
                    "warning: the project asks for go {}{from} and this machine has go {m}; \
                     building with it (code that needs the newer Go fails to compile — then \
                     install Go {} and deploy again)",
                    raw.as_deref().unwrap_or_default(),
                    raw.as_deref().unwrap_or_default()
                ));
            }
        }
    }

    // yarn / pnpm / bun, for whichever family's commands call them.
    let svc_src =
        crate::prepare::inside(source_root, &svc.path).unwrap_or_else(|| source_root.into());
    if cmds.contains(&"bun") && which("bun", path).is_none() {
        let b = node::bun(&svc_src, source_root)
            .filter(|_| which("npm", path).is_some())
            .ok_or_else(|| LocalError::RuntimeMissing {
                runtime: "bun".into(),
                service: svc.name.clone(),
                hint: "https://bun.sh/install, or npm to fetch it from the npm registry".into(),
            })?;
        chosen.notes.push(format!(
            "bun {}: this machine has none; {}@{} from the npm registry is used, kept in the \
             download cache",
            b.spec, b.package, b.spec
        ));
        chosen.bun = Some(b);
    }
    let declared = node::package_manager_field(&svc_src, source_root);
    let declared = declared.as_deref().and_then(|p| p.split('@').next());
    let scripts = node::script_programs(&svc_src);
    for name in ["yarn", "pnpm"] {
        let used = cmds.contains(&name)
            || scripts.iter().any(|p| p == name)
            || declared == Some(name)
            || (family == "node" && analysis_pm(svc, analysis) == Some(name));
        if used {
            chosen
                .managers
                .push(node::manager(name, &svc_src, source_root));
        }
    }
    if !chosen.managers.is_empty() {
        match which("corepack", path) {
            Some(c) => chosen.corepack = Some(c),
            None => {
                // Without corepack, a yarn/pnpm already on PATH is used as is.
                chosen.managers.retain(|m| which(m.name, path).is_none());
                if let Some(m) = chosen.managers.first() {
                    return Err(LocalError::RuntimeMissing {
                        runtime: m.name.to_string(),
                        service: svc.name.clone(),
                        hint: format!(
                            "corepack, which ships with Node 16.9 to 24, provides it; with a Node \
                             without corepack, install corepack or {} so it is on PATH",
                            m.name
                        ),
                    });
                }
            }
        }
        for m in &chosen.managers {
            chosen.notes.push(format!(
                "{}{}: through corepack ({})",
                m.name,
                if m.berry { " (berry)" } else { "" },
                match (&m.pinned, &m.spec) {
                    (Some(p), _) => format!("packageManager {p}"),
                    (None, Some(s)) => format!("{s}, the version its lock file needs"),
                    (None, None) => "corepack's default version".into(),
                }
            ));
        }
    }
    Ok(chosen)
}

fn analysis_pm<'a>(svc: &ServicePlan, analysis: &'a Analysis) -> Option<&'a str> {
    analysis
        .services
        .iter()
        .find(|a| a.name == svc.name && a.path == svc.path)
        .and_then(|a| a.package_manager.as_deref())
}

fn python_error(
    svc: &ServicePlan,
    req: &Requirement,
    from: &str,
    have: &[python::Interpreter],
    why: python::NoChoice,
    path: &OsString,
) -> LocalError {
    let list = have
        .iter()
        .map(|i| i.version.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    match why {
        python::NoChoice::NoPython => LocalError::RuntimeMissing {
            runtime: "python".into(),
            service: svc.name.clone(),
            hint: "apt-get install python3 python3-venv, or another CPython 3 on PATH".into(),
        },
        python::NoChoice::NoneFits => LocalError::RuntimeVersionUnavailable {
            service: svc.name.clone(),
            asked: format!("python {req}{from}"),
            have: format!("this machine has python {list}"),
            hint: python::install_hint(req, path),
        },
        python::NoChoice::NoVenv(i) => {
            let line = Dialect::Python.line_name(i.version);
            LocalError::RuntimeBroken {
                service: svc.name.clone(),
                interpreter: format!("python {} at {}", i.version, i.exe.display()),
                missing: if i.venv { "ensurepip" } else { "venv" }.into(),
                hint: format!(
                    "install python{line}-venv (apt-get install python{line}-venv) or another Python {line}"
                ),
            }
        }
    }
}

/// Does the app's venv need pip? Not for a standard-library-only app (a venv
/// without pip is made in a fraction of the time).
fn needs_pip(svc: &ServicePlan, source_root: &Path) -> bool {
    let dir = crate::prepare::inside(source_root, &svc.path).unwrap_or_else(|| source_root.into());
    default_python_install(&dir).is_some()
        || svc.install.is_some()
        || commands(svc).any(|c| c.contains("pip"))
}

fn default_python_install(svc_dir: &Path) -> Option<String> {
    if svc_dir.join("requirements.txt").is_file() {
        Some("pip install -r requirements.txt".into())
    } else if svc_dir.join("pyproject.toml").is_file() || svc_dir.join("setup.py").is_file() {
        Some("pip install .".into())
    } else {
        None
    }
}

/// One command that builds the runtime or installs dependencies, with the
/// retries a person would make when it fails in a known way.
#[derive(Debug, Clone)]
pub struct Step {
    /// `runtime` or `install` (the name the log and errors use).
    pub name: &'static str,
    pub command: String,
    pub retries: Vec<Retry>,
}

impl Step {
    pub fn runtime(command: String) -> Step {
        Step {
            name: "runtime",
            command,
            retries: vec![],
        }
    }
}

/// When a failed command's last output lines contain one of `needles`, run
/// `rewrite(command, last_lines)` instead, after logging `warning` and the
/// new command. A retry is used at most `times` times in one step (a later
/// failure can need the same fix for another package).
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub needles: &'static [&'static str],
    pub rewrite: fn(&str, &str) -> Option<String>,
    pub warning: &'static str,
    pub times: u8,
}

/// Install retries by the program an install command starts with: how people
/// get past a peer-dependency conflict or a lock file that lags its manifest.
/// The lock file is always tried first.
const INSTALL_RETRIES: &[(&str, Retry)] = &[
    (
        "npm",
        Retry {
            needles: &["ERESOLVE", "--legacy-peer-deps"],
            rewrite: |c, _| Some(format!("{c} --legacy-peer-deps")),
            warning: "npm found a peer-dependency conflict (ERESOLVE); installing again with \
                      --legacy-peer-deps, as the npm error suggests (peer dependencies are then not \
                      checked — fix the versions in package.json to remove this warning)",
            times: 1,
        },
    ),
    (
        "npm",
        Retry {
            needles: &["can only install packages when your package.json and package-lock.json"],
            rewrite: |c, _| c.contains("npm ci").then(|| c.replacen("npm ci", "npm install", 1)),
            warning: "package-lock.json does not match package.json, so `npm ci` refuses; running \
                      `npm install` instead (versions may differ from the lock file — commit an \
                      updated package-lock.json to remove this warning)",
            times: 1,
        },
    ),
    (
        "yarn",
        Retry {
            needles: &["lockfile needs to be updated"],
            rewrite: |c, _| {
                c.contains("--frozen-lockfile")
                    .then(|| c.replacen(" --frozen-lockfile", "", 1))
            },
            warning: "yarn.lock does not match package.json; installing without --frozen-lockfile \
                      (commit an updated yarn.lock to remove this warning)",
            times: 1,
        },
    ),
    (
        "yarn",
        Retry {
            needles: &["YN0028"],
            rewrite: |c, _| {
                c.contains("--immutable")
                    .then(|| c.replacen("--immutable", "--no-immutable", 1))
            },
            warning: "yarn.lock would be modified by this install (YN0028); installing with \
                      --no-immutable (commit an updated yarn.lock to remove this warning)",
            times: 1,
        },
    ),
    (
        "pnpm",
        Retry {
            needles: &["ERR_PNPM_OUTDATED_LOCKFILE", "ERR_PNPM_LOCKFILE_CONFIG_MISMATCH"],
            rewrite: |c, _| {
                c.contains("--frozen-lockfile")
                    .then(|| c.replacen("--frozen-lockfile", "--no-frozen-lockfile", 1))
            },
            warning: "pnpm-lock.yaml does not match package.json; installing with \
                      --no-frozen-lockfile (commit an updated pnpm-lock.yaml to remove this warning)",
            times: 1,
        },
    ),
    (
        "poetry",
        Retry {
            needles: &["poetry.lock was last generated", "Run `poetry lock` to fix"],
            rewrite: |c, _| Some(format!("poetry lock && {c}")),
            warning: "poetry.lock does not match pyproject.toml; running `poetry lock` first \
                      (commit an updated poetry.lock to remove this warning)",
            times: 1,
        },
    ),
    (
        "pipenv",
        Retry {
            needles: &["out of date", "Aborting deploy"],
            rewrite: |c, _| {
                c.contains("pipenv install")
                    .then(|| "pipenv sync".to_string())
            },
            warning: "Pipfile.lock's hash does not match the Pipfile (the lock is older than the \
                      Pipfile, or was written by another pipenv version), so `pipenv install \
                      --deploy` refuses; installing exactly what Pipfile.lock pins with `pipenv sync` \
                      (commit a Pipfile.lock written from this Pipfile to remove this warning)",
            times: 1,
        },
    ),
];

/// Build retries by the program a build command starts with.
const BUILD_RETRIES: &[(&str, Retry)] = &[(
    "cargo",
    Retry {
        needles: &["could not compile `"],
        rewrite: rust::update_broken_locked,
        warning: "a dependency locked in Cargo.lock no longer compiles with this machine's Rust \
                  (its version predates a change in the compiler); updating it within the versions \
                  Cargo.toml allows and building again (commit the updated Cargo.lock to remove \
                  this warning)",
        times: 8,
    },
)];

/// The step `name` running `command`, with the retries of `table` for the
/// programs the command runs.
fn step_with(name: &'static str, command: String, table: &[(&str, Retry)]) -> Step {
    let retries = command_programs(&command)
        .into_iter()
        .flat_map(|p| table.iter().filter(move |(prog, _)| *prog == p))
        .map(|(_, r)| *r)
        .collect();
    Step {
        name,
        command,
        retries,
    }
}

/// The build step of a service: its command and the retries that fit it.
pub fn build_step(command: String) -> Step {
    step_with("build", command, BUILD_RETRIES)
}

fn install_step(command: String) -> Step {
    step_with("install", command, INSTALL_RETRIES)
}

/// Run `steps` in order through `run` (which logs and returns the failure
/// with its last output lines); a failure that matches a step's retry is
/// retried with the rewritten command after `say`ing the warning.
pub fn run_steps(
    steps: &[Step],
    run: &dyn Fn(&'static str, &str) -> Result<(), LocalError>,
    say: &dyn Fn(&str),
) -> Result<(), LocalError> {
    for step in steps {
        let mut command = step.command.clone();
        let mut used = vec![0u8; step.retries.len()];
        loop {
            let err = match run(step.name, &command) {
                Ok(()) => break,
                Err(e) => e,
            };
            let LocalError::CommandFailed(f) = &err else {
                return Err(err);
            };
            let next = step.retries.iter().enumerate().find_map(|(i, r)| {
                if used[i] >= r.times || !r.needles.iter().any(|n| f.tail.contains(n)) {
                    return None;
                }
                (r.rewrite)(&command, &f.tail)
                    .filter(|c| *c != command)
                    .map(|c| (i, c, r.warning))
            });
            let Some((i, rewritten, warning)) = next else {
                return Err(err);
            };
            used[i] += 1;
            say(&format!("warning: {warning}; running `{rewritten}`"));
            command = rewritten;
        }
    }
    Ok(())
}

/// How package tools reach their registries on this machine (a CA bundle for
/// a TLS-inspecting proxy, a mirror, local wheels): passed on when set, so the
/// deployment's installs behave like the user's own.
const REGISTRY_SETTINGS: &[&str] = &[
    "NODE_EXTRA_CA_CERTS",
    "npm_config_cafile",
    "NPM_CONFIG_CAFILE",
    "NPM_CONFIG_REGISTRY",
    "COREPACK_NPM_REGISTRY",
    "YARN_NPM_REGISTRY_SERVER",
    "YARN_HTTPS_CA_FILE_PATH",
    "PIP_CERT",
    "PIP_FIND_LINKS",
    "PIP_TRUSTED_HOST",
    "PIP_DEFAULT_TIMEOUT",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "UV_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "UV_EXTRA_INDEX_URL",
    "UV_NATIVE_TLS",
];

/// Per-service runtime layout, environment and steps.
#[derive(Debug, Clone)]
pub struct Runtime {
    /// Folders put in front of PATH.
    pub path_front: Vec<PathBuf>,
    /// Extra variables (caches, venv, package managers).
    pub env: Vec<(String, String)>,
    /// Runtime creation then dependency installation, in order.
    pub steps: Vec<Step>,
}

impl Runtime {
    /// What makes two runtimes the same: their commands, folders and
    /// variables. Services of one folder (a Procfile's web, worker and beat)
    /// whose fingerprints match share one runtime, installed once.
    pub fn fingerprint(&self) -> String {
        let mut f = String::new();
        for s in &self.steps {
            f.push_str(&s.command);
            f.push('\0');
        }
        for p in &self.path_front {
            f.push_str(&p.to_string_lossy());
            f.push('\0');
        }
        for (k, v) in &self.env {
            f.push_str(k);
            f.push('=');
            f.push_str(v);
            f.push('\0');
        }
        f
    }
}

/// The runtime for `svc` with the toolchain `chosen` by [`check`]: its copy is
/// `svc_dir`, private files go under `runtime_dir`, downloads under `cache_dir`.
pub fn runtime(
    svc: &ServicePlan,
    chosen: &Chosen,
    svc_dir: &Path,
    runtime_dir: &Path,
    cache_dir: &Path,
) -> Runtime {
    let bin = runtime_dir.join("bin");
    let mut rt = Runtime {
        path_front: vec![],
        env: vec![],
        steps: vec![],
    };
    rt.env.extend(
        REGISTRY_SETTINGS
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v))),
    );
    // uv reads its own variables: give it pip's index and local wheels too.
    for (pip, uv) in [
        ("PIP_INDEX_URL", "UV_INDEX_URL"),
        ("PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL"),
        ("PIP_FIND_LINKS", "UV_FIND_LINKS"),
    ] {
        if let (Ok(v), Err(_)) = (std::env::var(pip), std::env::var(uv)) {
            rt.env.push((uv.to_string(), v));
        }
    }
    let mut default_install = None;
    if let Some(interp) = &chosen.python {
        let venv = runtime_dir.join("venv");
        rt.path_front.push(venv.join("bin"));
        rt.env.extend(python::env(&venv, cache_dir));
        if !chosen.python_constraints.is_empty() {
            let file = runtime_dir.join("constraints.txt");
            let lines = chosen.python_constraints.join("\n");
            rt.steps.push(Step::runtime(format!(
                "printf '%s\\n' {} > {}",
                sh(&lines),
                sh(&file.to_string_lossy())
            )));
            let f = file.to_string_lossy().into_owned();
            rt.env.push(("PIP_CONSTRAINT".into(), f.clone()));
            rt.env.push(("UV_CONSTRAINT".into(), f));
        }
        default_install = default_python_install(svc_dir);
        // The package managers are installed with the app venv's pip.
        let need_pip = default_install.is_some()
            || svc.install.is_some()
            || commands(svc).any(|c| c.contains("pip"))
            || !chosen.python_tools.is_empty();
        rt.steps.extend(python::setup(
            interp,
            &venv,
            runtime_dir,
            need_pip,
            &chosen.python_tools,
        ));
        // Build tools held back by a constraint are held back in the venv
        // too: installers that build without isolation (pipenv) use its own.
        let build_tools: Vec<&String> = chosen
            .python_constraints
            .iter()
            .filter(|c| c.starts_with("setuptools") || c.starts_with("wheel"))
            .collect();
        if need_pip && !build_tools.is_empty() {
            rt.steps.push(Step::runtime(format!(
                "{}/bin/python -m pip install --quiet --disable-pip-version-check {}",
                sh(&venv.to_string_lossy()),
                build_tools
                    .iter()
                    .map(|c| sh(c))
                    .collect::<Vec<_>>()
                    .join(" ")
            )));
        }
    }
    if svc.runtime.family == "node" {
        rt.path_front.push(svc_dir.join("node_modules/.bin"));
        // Native modules (node-gyp) build against the machine node's own
        // headers instead of downloading them from nodejs.org.
        if !matches!(chosen.node, Some(node::NodeChoice::Registry(_))) {
            if let Some(prefix) = node_headers_prefix() {
                rt.env.push(("npm_config_nodedir".into(), prefix));
            }
        }
        if let Some(node::NodeChoice::Registry(b)) = &chosen.node {
            rt.steps.push(b.fetch_step(cache_dir, &bin));
            // The fetched Node package ships its headers (`include/node`).
            if let Some(prefix) = b.bin(cache_dir).parent() {
                rt.env.push((
                    "npm_config_nodedir".into(),
                    prefix.to_string_lossy().into_owned(),
                ));
            }
        }
        if svc_dir.join("package.json").is_file() {
            default_install = Some(if svc_dir.join("package-lock.json").is_file() {
                "npm ci".into()
            } else {
                "npm install".into()
            });
        }
    }
    if svc.runtime.family != "node" {
        // The Node an asset build asked for (see `choose`).
        if let Some(node::NodeChoice::Registry(b)) = &chosen.node {
            rt.steps.push(b.fetch_step(cache_dir, &bin));
        }
    }
    if svc.runtime.family == "node" || !chosen.managers.is_empty() {
        rt.env.extend(node::env(cache_dir, &chosen.managers));
    }
    if let Some(b) = &chosen.bun {
        rt.steps.push(b.fetch_step(cache_dir, &bin));
    }
    if let Some(corepack) = &chosen.corepack {
        rt.steps
            .extend(node::setup(corepack, &bin, &chosen.managers));
    }
    // Shims, package managers and fetched runtimes come first.
    let registry_node = matches!(chosen.node, Some(node::NodeChoice::Registry(_)));
    if !chosen.managers.is_empty()
        || !chosen.python_tools.is_empty()
        || chosen.bun.is_some()
        || registry_node
    {
        rt.path_front.insert(0, bin);
    }
    match svc.runtime.family.as_str() {
        "go" => {
            let s = |p: PathBuf| p.to_string_lossy().into_owned();
            rt.env
                .push(("GOCACHE".into(), s(cache_dir.join("go-build"))));
            rt.env
                .push(("GOMODCACHE".into(), s(cache_dir.join("go-mod"))));
            rt.env.push(("GOPATH".into(), s(cache_dir.join("go"))));
        }
        "rust" => {
            // One target folder per workspace, where its members' binaries
            // are looked for (`../../target/release/NAME`).
            let root = svc_dir
                .ancestors()
                .nth(chosen.cargo.workspace_up)
                .unwrap_or(svc_dir);
            rt.env.push((
                "CARGO_TARGET_DIR".into(),
                root.join("target").to_string_lossy().into_owned(),
            ));
            rt.env.extend(chosen.cargo.env.iter().cloned());
            if let Some((cli, backend)) = chosen.cargo.release_cli {
                let (step, bin) = rust::release_cli_step(cli, backend, cache_dir);
                rt.steps.push(step);
                rt.path_front.push(bin);
            }
        }
        _ => {}
    }
    let install = svc.install.clone().or(default_install);
    if let Some(install) = install {
        rt.steps.push(install_step(install));
    }
    rt
}

/// The install prefix of the machine's `node` when it ships its headers
/// (`<prefix>/include/node/common.gypi`, Debian's `nodejs`): what node-gyp
/// takes as `--nodedir`.
fn node_headers_prefix() -> Option<String> {
    let path = std::env::var_os("PATH")?;
    let node = std::fs::canonicalize(which("node", &path)?).ok()?;
    let prefix = node.parent()?.parent()?;
    prefix
        .join("include/node/common.gypi")
        .is_file()
        .then(|| prefix.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_program_skips_assignments_and_exec() {
        assert_eq!(
            first_program("PORT=1 NODE_ENV=x exec node a.js"),
            Some("node")
        );
        assert_eq!(first_program("uv run app"), Some("uv"));
        assert_eq!(first_program("   "), None);
    }

    #[test]
    fn which_finds_only_executables_on_the_given_path() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let exe = d.path().join("tool");
        std::fs::write(&exe, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(d.path().join("plain"), "x").unwrap();
        let path = OsString::from(d.path());
        assert_eq!(which("tool", &path), Some(exe));
        assert_eq!(which("plain", &path), None);
        assert_eq!(which("sh", &path), None);
    }
}
