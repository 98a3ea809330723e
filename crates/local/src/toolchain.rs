//! Which language toolchains a service needs on this machine, whether they are
//! installed (checked before any work starts), and the per-language parts of
//! its runtime environment: the Python venv, package caches, default
//! install commands when the analysis gave none.
//!
//! Deliberately does not run the install/build steps (`lib.rs` does, through
//! `sh -c`) and never installs a toolchain itself: it says which one is
//! missing and how to get it.

use autodeploy_core::ServicePlan;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

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
        "python" => vec![need(
            "python3",
            "python",
            "apt-get install python3 python3-venv",
        )],
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
const COMMAND_TOOLS: &[Need] = &[
    need("uv", "uv", "pip install uv (or https://docs.astral.sh/uv/)"),
    need("poetry", "poetry", "pip install poetry"),
    need("pipenv", "pipenv", "pip install pipenv"),
    need("yarn", "yarn", "npm install -g yarn (or corepack enable)"),
    need("pnpm", "pnpm", "npm install -g pnpm (or corepack enable)"),
    need("bun", "bun", "https://bun.sh/install"),
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
/// commands start with (what the deployment's account must be able to run).
pub fn programs(svc: &ServicePlan) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = family_needs(&svc.runtime.family)
        .iter()
        .map(|n| n.program)
        .collect();
    for cmd in commands(svc) {
        if let Some(first) = first_program(cmd) {
            if let Some(n) = COMMAND_TOOLS.iter().find(|n| n.program == first) {
                if !out.contains(&n.program) {
                    out.push(n.program);
                }
            }
        }
    }
    out
}

/// Every program `svc` needs that is not on `path`: the family's toolchain
/// first, then tool managers its commands start with.
pub fn missing(svc: &ServicePlan, path: &OsString) -> Vec<Need> {
    let mut needs = family_needs(&svc.runtime.family);
    for cmd in commands(svc) {
        if let Some(first) = first_program(cmd) {
            if let Some(n) = COMMAND_TOOLS.iter().find(|n| n.program == first) {
                if !needs.contains(n) {
                    needs.push(n.clone());
                }
            }
        }
    }
    needs
        .into_iter()
        .filter(|n| which(n.program, path).is_none())
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

/// Per-service runtime layout and environment additions.
#[derive(Debug, Clone)]
pub struct Runtime {
    /// Folders put in front of PATH.
    pub path_front: Vec<PathBuf>,
    /// Extra variables (caches, venv).
    pub env: Vec<(String, String)>,
    /// Command that creates the runtime (the Python venv), run before install.
    pub setup: Option<Vec<String>>,
    /// Install command to use when the decision has none.
    pub default_install: Option<String>,
}

/// The runtime for `svc`, whose copy is `svc_dir`, with private files under
/// `runtime_dir` and shared download caches under `cache_dir`.
pub fn runtime(svc: &ServicePlan, svc_dir: &Path, runtime_dir: &Path, cache_dir: &Path) -> Runtime {
    let s = |p: PathBuf| p.to_string_lossy().into_owned();
    let mut rt = Runtime {
        path_front: vec![],
        env: vec![],
        setup: None,
        default_install: None,
    };
    match svc.runtime.family.as_str() {
        "python" => {
            let venv = runtime_dir.join("venv");
            rt.path_front.push(venv.join("bin"));
            rt.env.push(("VIRTUAL_ENV".into(), s(venv.clone())));
            rt.env
                .push(("PIP_CACHE_DIR".into(), s(cache_dir.join("pip"))));
            rt.env
                .push(("PIP_DISABLE_PIP_VERSION_CHECK".into(), "1".into()));
            rt.env.push(("PIP_NO_INPUT".into(), "1".into()));
            rt.env
                .push(("UV_CACHE_DIR".into(), s(cache_dir.join("uv"))));
            rt.env
                .push(("UV_PROJECT_ENVIRONMENT".into(), s(venv.clone())));
            if svc_dir.join("requirements.txt").is_file() {
                rt.default_install = Some("pip install -r requirements.txt".into());
            } else if svc_dir.join("pyproject.toml").is_file() || svc_dir.join("setup.py").is_file()
            {
                rt.default_install = Some("pip install .".into());
            }
            let mut setup: Vec<String> = vec!["python3".into(), "-m".into(), "venv".into()];
            // Standard-library-only apps need no pip: skipping it saves most of
            // the venv's creation time.
            let uses_pip = rt.default_install.is_some()
                || svc.install.is_some()
                || commands(svc).any(|c| c.contains("pip"));
            if !uses_pip {
                setup.push("--without-pip".into());
            }
            setup.push(s(venv));
            rt.setup = Some(setup);
        }
        "node" => {
            rt.path_front.push(svc_dir.join("node_modules/.bin"));
            rt.env
                .push(("npm_config_cache".into(), s(cache_dir.join("npm"))));
            rt.env
                .push(("npm_config_update_notifier".into(), "false".into()));
            rt.env.push(("npm_config_fund".into(), "false".into()));
            rt.env.push(("npm_config_audit".into(), "false".into()));
            if svc_dir.join("package.json").is_file() {
                rt.default_install = Some(if svc_dir.join("package-lock.json").is_file() {
                    "npm ci".into()
                } else {
                    "npm install".into()
                });
            }
        }
        "go" => {
            rt.env
                .push(("GOCACHE".into(), s(cache_dir.join("go-build"))));
            rt.env
                .push(("GOMODCACHE".into(), s(cache_dir.join("go-mod"))));
            rt.env.push(("GOPATH".into(), s(cache_dir.join("go"))));
        }
        "rust" => {
            rt.env
                .push(("CARGO_TARGET_DIR".into(), s(svc_dir.join("target"))));
        }
        _ => {}
    }
    rt
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
