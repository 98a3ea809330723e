//! What a Rust service's own cargo files ask of the build, fitted to this
//! machine:
//!
//! - a linker or `-fuse-ld=` the repo's `.cargo/config.toml` names
//!   (`linker = "clang"`, `-C link-arg=-fuse-ld=lld`, a speed-up for
//!   developers' machines) that this machine does not have: the build links
//!   with the system `cc` instead, with a warning that names what to install
//!   to keep the project's choice;
//! - sqlx's offline query data (`.sqlx/` or `sqlx-data.json`) committed: the
//!   build checks its queries against it (`SQLX_OFFLINE=true`) instead of
//!   connecting to the database named by a committed `.env` at compile time;
//! - sqlx's checked queries (`query!`, `query_as!`…) **without** offline
//!   data: the build needs a live database with the schema, so the caller
//!   gives it a scratch database with the project's migrations applied
//!   ([`CargoFit::build_schema`]); the deployment's own database stays
//!   untouched for the app's own migrations at start.
//!
//! Not here: choosing a Rust version (the machine's cargo is used) or
//! installing anything on the machine.

use super::which;
use autodeploy_core::release_cli::CargoCli;
use std::ffi::OsString;
use std::path::Path;

/// Environment for the service's cargo steps, and the notes that explain it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CargoFit {
    pub env: Vec<(String, String)>,
    pub notes: Vec<String>,
    /// The migrations folder (under the service folder) whose schema the
    /// build's checked sqlx queries are compiled against, when the project
    /// commits no offline query data.
    pub build_schema: Option<std::path::PathBuf>,
    /// The migration CLI (and its backend: `postgres`, `mysql`, `sqlite`)
    /// to install for a command that runs it (the release step), when the
    /// machine has none.
    pub release_cli: Option<(&'static CargoCli, &'static str)>,
    /// How many folders above the service folder its workspace's root is
    /// (0: the service is the root): where the build's `target/` goes.
    pub workspace_up: usize,
}

/// The step that installs a release step's CLI for `backend` under the
/// deployments' shared cache (once: a later deploy finds it there), and the
/// folder to put in front of PATH. Its lock file is honoured; the build is a
/// debug one (the CLI runs a few statements; compiling it optimised would
/// take longer than every migration it will ever run).
pub fn release_cli_step(
    cli: &CargoCli,
    backend: &str,
    cache_dir: &Path,
) -> (super::Step, std::path::PathBuf) {
    let root = cache_dir.join(format!("{}-{backend}", cli.krate));
    let bin = root.join("bin");
    let target = cache_dir.join(format!("{}-build", cli.krate));
    let command = format!(
        "test -x {exe} || CARGO_TARGET_DIR={target} cargo install {args} --debug --root {root}",
        exe = super::sh(&bin.join(cli.program).to_string_lossy()),
        args = cli.install_args(backend),
        target = super::sh(&target.to_string_lossy()),
        root = super::sh(&root.to_string_lossy()),
    );
    (super::Step::runtime(command), bin)
}

/// The cargo configuration files cargo itself would read for a build in
/// `svc_dir`, nearest first, stopping at `source_root` (the copy of the
/// repository: nothing above it belongs to the project).
fn config_files(svc_dir: &Path, source_root: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for dir in svc_dir.ancestors() {
        for name in [".cargo/config.toml", ".cargo/config"] {
            let p = dir.join(name);
            if p.is_file() {
                out.push(p);
                break;
            }
        }
        if dir == source_root || !dir.starts_with(source_root) {
            break;
        }
    }
    out
}

/// The programs a cargo configuration links with: `linker = "…"` of any
/// `[target.…]` table and the `ld.<name>` of every `-fuse-ld=<name>` in its
/// rustflags (`[build]` or `[target.…]`).
fn linkers(doc: &toml::Table) -> Vec<String> {
    let host = host_triple();
    // Only the tables cargo applies on this machine: its own triple, and
    // `cfg(…)` tables that can hold here (a macOS linker is not ours).
    let applies = |key: &str| {
        key == host
            || (key.starts_with("cfg(")
                && (key.contains("linux") || key.contains("unix"))
                && !key.contains("not("))
    };
    let mut tables: Vec<&toml::Table> = doc
        .get("target")
        .and_then(|t| t.as_table())
        .into_iter()
        .flat_map(|t| t.iter())
        .filter(|(k, _)| applies(k))
        .filter_map(|(_, v)| v.as_table())
        .collect();
    if let Some(b) = doc.get("build").and_then(|b| b.as_table()) {
        tables.push(b);
    }
    let mut out = Vec::new();
    for t in tables {
        if let Some(l) = t.get("linker").and_then(|l| l.as_str()) {
            out.push(l.to_string());
        }
        let flags: Vec<String> = match t.get("rustflags") {
            Some(toml::Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            Some(toml::Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
            _ => vec![],
        };
        for f in flags {
            if let Some((_, ld)) = f.split_once("-fuse-ld=") {
                // `-fuse-ld=/usr/bin/mold` names the program; `lld` means `ld.lld`.
                out.push(if ld.contains('/') {
                    ld.to_string()
                } else {
                    format!("ld.{ld}")
                });
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn present(program: &str, path: &OsString) -> bool {
    if program.contains('/') {
        Path::new(program).is_file()
    } else {
        which(program, path).is_some()
    }
}

/// What the build of the Rust service in `svc_dir` needs set on this
/// machine (see the module doc).
pub fn fit(svc_dir: &Path, source_root: &Path, path: &OsString) -> CargoFit {
    let mut fit = CargoFit::default();
    for file in config_files(svc_dir, source_root) {
        let Some(doc) = std::fs::read_to_string(&file)
            .ok()
            .and_then(|t| t.parse::<toml::Table>().ok())
        else {
            continue;
        };
        let missing: Vec<String> = linkers(&doc)
            .into_iter()
            .filter(|l| !present(l, path))
            .collect();
        if missing.is_empty() || !present("cc", path) {
            continue;
        }
        let shown = file
            .strip_prefix(source_root)
            .unwrap_or(&file)
            .display()
            .to_string();
        fit.notes.push(format!(
            "warning: {shown} links with {} (not on this machine): linking with the system cc instead \
             and without that file's rustflags; install {} to build as the project asks",
            missing.join(" and "),
            missing
                .iter()
                .map(|m| m.trim_start_matches("ld.").to_string())
                .collect::<Vec<_>>()
                .join(" and ")
        ));
        // RUSTFLAGS, even empty, replaces every rustflags of the config
        // files; the linker of every target goes back to cc.
        fit.env.push(("RUSTFLAGS".into(), String::new()));
        fit.env.push((
            format!("CARGO_TARGET_{}_LINKER", host_triple_env()),
            "cc".into(),
        ));
        break;
    }
    // The offline data sits beside the crate whose queries it checks: the
    // service's, the repository root, or a member crate of its workspace.
    let workspace = workspace_root(svc_dir, source_root);
    fit.workspace_up = svc_dir
        .strip_prefix(&workspace)
        .map(|rest| rest.components().count())
        .unwrap_or(0);
    let has_data = |d: &Path| d.join(".sqlx").is_dir() || d.join("sqlx-data.json").is_file();
    let offline = [svc_dir, source_root, workspace.as_path()]
        .iter()
        .any(|d| has_data(d))
        || member_dirs(&workspace).iter().any(|d| has_data(d));
    if offline {
        fit.env.push(("SQLX_OFFLINE".into(), "true".into()));
        fit.notes.push(
            "sqlx: the project commits its offline query data; the build checks queries against it \
             (SQLX_OFFLINE=true), not against a live database"
                .into(),
        );
    } else if let Some(dir) = sqlx_checked_queries(svc_dir) {
        fit.build_schema = Some(dir);
    }
    fit
}

/// The root of the Cargo workspace `svc_dir` belongs to (the nearest folder
/// up to `source_root` whose Cargo.toml has a `[workspace]` table), else
/// `svc_dir` itself: where `cargo build` puts `target/` for every member,
/// and where the analysis' start command looks for the binary.
pub fn workspace_root(svc_dir: &Path, source_root: &Path) -> std::path::PathBuf {
    for dir in svc_dir.ancestors() {
        let is_workspace = std::fs::read_to_string(dir.join("Cargo.toml"))
            .ok()
            .and_then(|t| t.parse::<toml::Table>().ok())
            .is_some_and(|t| t.contains_key("workspace"));
        if is_workspace {
            return dir.to_path_buf();
        }
        if dir == source_root {
            break;
        }
    }
    svc_dir.to_path_buf()
}

/// Crate folders under a workspace root, two levels down at most
/// (`crates/<name>`), without build output.
fn member_dirs(root: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut level = vec![root.to_path_buf()];
    for _ in 0..2 {
        let mut next = Vec::new();
        for dir in &level {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                let name = e.file_name();
                if p.is_dir()
                    && name != "target"
                    && name != "node_modules"
                    && !name.to_string_lossy().starts_with('.')
                {
                    if p.join("Cargo.toml").is_file() {
                        out.push(p.clone());
                    }
                    next.push(p);
                }
            }
        }
        level = next;
    }
    out
}

/// Whether the crate in `svc_dir` compiles sqlx's checked queries (a
/// `query!`-family macro in its sources) and has a migrations folder to
/// build their schema from: that folder (`migrations/`, or the one
/// `sqlx::migrate!("…")` names), relative to `svc_dir`.
fn sqlx_checked_queries(svc_dir: &Path) -> Option<std::path::PathBuf> {
    let manifest = std::fs::read_to_string(svc_dir.join("Cargo.toml")).ok()?;
    let doc = manifest.parse::<toml::Table>().ok()?;
    let uses_sqlx = ["dependencies", "dev-dependencies", "build-dependencies"]
        .iter()
        .any(|t| {
            doc.get(*t)
                .and_then(|d| d.as_table())
                .is_some_and(|d| d.contains_key("sqlx"))
        });
    if !uses_sqlx {
        return None;
    }
    let mut checked = false;
    let mut folder = None;
    // Bounded: a crate's own sources, not its vendored or generated trees.
    let walk = walkdir::WalkDir::new(svc_dir.join("src"))
        .max_depth(8)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "rs"))
        .take(2_000);
    for e in walk {
        let Ok(text) = std::fs::read_to_string(e.path()) else {
            continue;
        };
        checked |= autodeploy_core::release_cli::SQLX_CHECKED_QUERIES
            .iter()
            .any(|m| text.contains(m));
        if folder.is_none() {
            folder = autodeploy_core::release_cli::sqlx_migrate_folder(&text).map(str::to_string);
        }
    }
    let rel = std::path::PathBuf::from(folder.unwrap_or_else(|| "migrations".into()));
    // Only a folder inside the service: never a path that climbs out.
    let inside = rel
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)));
    (checked && inside && svc_dir.join(&rel).is_dir()).then_some(rel)
}

/// The command that gets past a build failure in crates.io dependencies that
/// no longer compile with this machine's Rust (a 2019 lock file pins
/// `socket2 0.3.9`, whose `SocketAddr` transmute broke in Rust 1.64, or
/// `rustc-serialize 0.3.24`): `cargo update -p NAME@VERSION` for each crate
/// the failure names whose sources are under cargo's registry (never the
/// project's own), then the build again. A later patch release within the
/// versions Cargo.toml allows is what the crate's authors published for
/// it. None when no registry crate failed, or when each one that did was
/// already updated by `cmd` (updating again cannot help).
pub(crate) fn update_broken_locked(cmd: &str, tail: &str) -> Option<String> {
    let (done, base) = match cmd.split_once(" && ") {
        Some((first, rest)) if first.starts_with("cargo update ") => (first, rest),
        _ => ("", cmd),
    };
    let failed: Vec<&str> = tail
        .lines()
        .filter_map(|l| l.split_once("could not compile `"))
        .filter_map(|(_, rest)| rest.split_once('`').map(|(name, _)| name))
        .collect();
    let mut specs: Vec<String> = Vec::new();
    for line in tail.lines() {
        let Some((_, after)) = line.split_once("/registry/src/") else {
            continue;
        };
        // `<index>/<name>-<version>/src/…`
        let Some(dir) = after.split('/').nth(1) else {
            continue;
        };
        let Some((name, version)) = name_version(dir) else {
            continue;
        };
        let spec = format!("{name}@{version}");
        let already = done
            .split_whitespace()
            .any(|w| w.split('@').next() == Some(name));
        if failed.contains(&name) && !already && !specs.contains(&spec) {
            specs.push(spec);
        }
    }
    if specs.is_empty() {
        return None;
    }
    let args: Vec<String> = specs.iter().map(|s| format!("-p {s}")).collect();
    Some(format!("cargo update {} && {base}", args.join(" ")))
}

/// `socket2-0.3.9` → (`socket2`, `0.3.9`): a registry source folder's name
/// is the package name, a dash, and its version (names may hold dashes).
fn name_version(dir: &str) -> Option<(&str, &str)> {
    let semver = |v: &str| {
        let mut parts = v.splitn(3, '.');
        let num = |p: Option<&str>| {
            p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        };
        num(parts.next())
            && num(parts.next())
            && parts
                .next()
                .is_some_and(|p| p.starts_with(|d: char| d.is_ascii_digit()))
    };
    let at = dir
        .char_indices()
        .find(|&(i, c)| c == '-' && semver(&dir[i + 1..]))?;
    let (name, version) = (&dir[..at.0], &dir[at.0 + 1..]);
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'))
    };
    (ok(name) && ok(version)).then_some((name, version))
}

/// This machine's target triple (`x86_64-unknown-linux-gnu`).
fn host_triple() -> String {
    let arch = std::env::consts::ARCH;
    match std::env::consts::OS {
        "linux" => format!("{arch}-unknown-linux-gnu"),
        "macos" => format!("{arch}-apple-darwin"),
        os => format!("{arch}-unknown-{os}"),
    }
}

/// [`host_triple`] as cargo spells it in an env var name (`X86_64_UNKNOWN_LINUX_GNU`).
fn host_triple_env() -> String {
    host_triple().to_ascii_uppercase().replace('-', "_")
}

#[cfg(test)]
mod tests {
    const SOCKET2_TAIL: &str = "error[E0512]: cannot transmute between types of different sizes, or dependently-sized types
   --> /home/u/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/socket2-0.3.9/src/sockaddr.rs:153:9
    |
153 |         mem::transmute::<SocketAddrV4, sockaddr_in>(v4);
error: could not compile `socket2` (lib) due to 1 previous error
warning: build failed, waiting for other jobs to finish...";

    /// A member crate of a workspace builds into the workspace's target
    /// (where its start command looks), and the offline query data of a
    /// sibling crate counts.
    #[test]
    fn a_workspace_member_builds_into_the_workspace_target() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        std::fs::write(
            root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"crates/*\"]\n",
        )
        .unwrap();
        for c in ["app", "infra"] {
            std::fs::create_dir_all(root.join("crates").join(c)).unwrap();
            std::fs::write(
                root.join("crates").join(c).join("Cargo.toml"),
                "[package]\nname = \"x\"\n",
            )
            .unwrap();
        }
        std::fs::write(root.join("crates/infra/sqlx-data.json"), "{}").unwrap();
        let svc = root.join("crates/app");
        assert_eq!(workspace_root(&svc, root), root);
        let fit = fit(&svc, root, &std::ffi::OsString::from("/usr/bin:/bin"));
        assert_eq!(fit.workspace_up, 2);
        assert!(
            fit.env.contains(&("SQLX_OFFLINE".into(), "true".into())),
            "{:?}",
            fit.env
        );
        // A crate on its own is its own root.
        assert_eq!(
            workspace_root(&root.join("crates/infra"), &root.join("crates/infra")),
            root.join("crates/infra")
        );
    }

    #[test]
    fn a_broken_locked_registry_crate_is_updated_before_building_again() {
        let next = super::update_broken_locked("cargo build --release --locked", SOCKET2_TAIL);
        assert_eq!(
            next.as_deref(),
            Some("cargo update -p socket2@0.3.9 && cargo build --release --locked")
        );
        // The next failure names another crate: only that one is updated now.
        let tail = "   --> /root/.cargo/registry/src/index.crates.io-x/rustc-serialize-0.3.24/src/serialize.rs:1155:5
error: could not compile `rustc-serialize` (lib) due to 1 previous error";
        let again = super::update_broken_locked(next.as_deref().unwrap(), tail);
        assert_eq!(
            again.as_deref(),
            Some("cargo update -p rustc-serialize@0.3.24 && cargo build --release --locked")
        );
    }

    #[test]
    fn the_projects_own_errors_and_crates_already_updated_get_no_retry() {
        let own = "error[E0425]: cannot find value `x` in this scope
  --> src/main.rs:3:5
error: could not compile `conduit` (bin \"conduit\") due to 1 previous error";
        assert_eq!(
            super::update_broken_locked("cargo build --release", own),
            None
        );
        // socket2 was updated and still fails: updating again cannot help.
        let tail = SOCKET2_TAIL.replace("socket2-0.3.9", "socket2-0.3.19");
        assert_eq!(
            super::update_broken_locked(
                "cargo update -p socket2@0.3.9 && cargo build --release --locked",
                &tail
            ),
            None
        );
        // A crate whose build merely printed a registry path, but did not fail.
        let warned =
            "warning: unused import\n  --> /root/.cargo/registry/src/i/log-0.4.6/src/lib.rs:1:1
error: could not compile `conduit` (bin \"conduit\") due to 1 previous error";
        assert_eq!(super::update_broken_locked("cargo build", warned), None);
    }

    #[test]
    fn a_release_cli_is_installed_once_per_tool_and_backend() {
        use autodeploy_core::release_cli::CargoCli;
        let cache = std::path::Path::new("/home/x/cache");
        let diesel = CargoCli::for_command("diesel migration run").unwrap();
        let (step, bin) = super::release_cli_step(diesel, "mysql", cache);
        assert_eq!(bin, cache.join("diesel_cli-mysql/bin"));
        assert_eq!(
            step.command,
            "test -x '/home/x/cache/diesel_cli-mysql/bin/diesel' || CARGO_TARGET_DIR='/home/x/cache/diesel_cli-build' \
             cargo install diesel_cli --locked --no-default-features --features mysql --debug --root '/home/x/cache/diesel_cli-mysql'"
        );
        let sqlx = CargoCli::for_command("sqlx migrate run").unwrap();
        let (step, bin) = super::release_cli_step(sqlx, "postgres", cache);
        assert_eq!(bin, cache.join("sqlx-cli-postgres/bin"));
        assert!(step
            .command
            .starts_with("test -x '/home/x/cache/sqlx-cli-postgres/bin/sqlx' || "));
        assert!(step
            .command
            .contains("cargo install sqlx-cli --locked --no-default-features --features rustls,postgres --debug"));
    }

    #[test]
    fn registry_folder_names_split_into_name_and_version() {
        assert_eq!(
            super::name_version("socket2-0.3.9"),
            Some(("socket2", "0.3.9"))
        );
        assert_eq!(
            super::name_version("rustc-serialize-0.3.24"),
            Some(("rustc-serialize", "0.3.24"))
        );
        assert_eq!(
            super::name_version("tokio-1-compat-0.1.0-rc.1"),
            Some(("tokio-1-compat", "0.1.0-rc.1"))
        );
        assert_eq!(super::name_version("src"), None);
        assert_eq!(super::name_version("x-1.0; rm -rf /"), None);
    }

    use super::*;

    fn repo(config: &str) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join(".cargo")).unwrap();
        std::fs::write(d.path().join(".cargo/config.toml"), config).unwrap();
        d
    }

    fn path_with(programs: &[&str]) -> (tempfile::TempDir, OsString) {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        for p in programs {
            let f = d.path().join(p);
            std::fs::write(&f, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let path = d.path().as_os_str().to_owned();
        (d, path)
    }

    #[test]
    fn a_missing_clang_and_lld_fall_back_to_cc_with_a_warning() {
        let d = repo(
            "[target.x86_64-unknown-linux-gnu]\nlinker = \"clang\"\nrustflags = [\"-C\", \"link-arg=-fuse-ld=lld\"]\n",
        );
        let (_bin, path) = path_with(&["cc"]);
        let fit = fit(d.path(), d.path(), &path);
        assert!(fit.env.contains(&("RUSTFLAGS".into(), String::new())));
        assert!(fit
            .env
            .iter()
            .any(|(k, v)| k.starts_with("CARGO_TARGET_") && k.ends_with("_LINKER") && v == "cc"));
        assert!(fit.notes[0].contains("clang and ld.lld"), "{:?}", fit.notes);
    }

    #[test]
    fn another_platforms_linker_is_not_ours() {
        let d = repo(
            "[target.aarch64-apple-darwin]\nrustflags = [\"-C\", \"link-arg=-fuse-ld=/opt/homebrew/opt/llvm/bin/ld64.lld\"]\n[target.x86_64-pc-windows-msvc]\nlinker = \"rust-lld.exe\"\n",
        );
        let (_bin, path) = path_with(&["cc"]);
        assert_eq!(fit(d.path(), d.path(), &path), CargoFit::default());
    }

    #[test]
    fn linkers_the_machine_has_are_left_alone() {
        let d = repo("[target.x86_64-unknown-linux-gnu]\nlinker = \"clang\"\nrustflags = \"-C link-arg=-fuse-ld=lld\"\n");
        let (_bin, path) = path_with(&["cc", "clang", "ld.lld"]);
        assert_eq!(fit(d.path(), d.path(), &path), CargoFit::default());
        let none = tempfile::tempdir().unwrap();
        assert_eq!(fit(none.path(), none.path(), &path), CargoFit::default());
    }

    #[test]
    fn committed_sqlx_query_data_builds_offline() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join(".sqlx")).unwrap();
        let (_bin, path) = path_with(&["cc"]);
        let fit = fit(d.path(), d.path(), &path);
        assert_eq!(fit.env, vec![("SQLX_OFFLINE".into(), "true".into())]);
    }

    /// The fallback really builds: a project whose config asks for a linker
    /// that does not exist links with cc under the fitted environment.
    #[test]
    fn the_fallback_environment_builds_a_real_project() {
        let path = std::env::var_os("PATH").unwrap();
        if which("cargo", &path).is_none() || which("cc", &path).is_none() {
            return;
        }
        let d = repo(
            "[target.x86_64-unknown-linux-gnu]\nlinker = \"no-such-linker-here\"\n[build]\nrustflags = [\"-C\", \"link-arg=-fuse-ld=nosuchld\"]\n",
        );
        std::fs::write(
            d.path().join("Cargo.toml"),
            "[package]\nname = \"fitted\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        )
        .unwrap();
        std::fs::create_dir_all(d.path().join("src")).unwrap();
        std::fs::write(d.path().join("src/main.rs"), "fn main() {}\n").unwrap();
        let fit = fit(d.path(), d.path(), &path);
        let status = std::process::Command::new("cargo")
            .args(["build", "--quiet", "--offline"])
            .current_dir(d.path())
            .envs(fit.env.iter().map(|(k, v)| (k, v)))
            .env("CARGO_TARGET_DIR", d.path().join("target"))
            .status()
            .unwrap();
        assert!(status.success(), "notes: {:?}", fit.notes);
    }

    fn sqlx_crate(src: &str, extra: &[&str]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("Cargo.toml"),
            "[package]\nname = \"x\"\n[dependencies]\nsqlx = { version = \"0.5\", features = [\"postgres\"] }\n",
        )
        .unwrap();
        std::fs::create_dir_all(d.path().join("src/http")).unwrap();
        std::fs::write(d.path().join("src/http/users.rs"), src).unwrap();
        for dir in extra {
            std::fs::create_dir_all(d.path().join(dir)).unwrap();
        }
        d
    }

    #[test]
    fn checked_sqlx_queries_without_offline_data_ask_for_a_build_schema() {
        let q = "let u = sqlx::query_as!(User, \"select * from users\").fetch_one(&db).await?;";
        let d = sqlx_crate(q, &["migrations"]);
        let f = fit(d.path(), d.path(), &OsString::new());
        assert_eq!(f.build_schema, Some("migrations".into()));
        assert!(f.env.is_empty());

        // The folder `migrate!` names.
        let d = sqlx_crate(
            &format!("{q}\nsqlx::migrate!(\"db/migrations\")"),
            &["db/migrations"],
        );
        let f = fit(d.path(), d.path(), &OsString::new());
        assert_eq!(f.build_schema, Some("db/migrations".into()));

        // Offline data wins: no database at all.
        let d = sqlx_crate(q, &["migrations", ".sqlx"]);
        let f = fit(d.path(), d.path(), &OsString::new());
        assert_eq!(f.build_schema, None);
        assert_eq!(f.env, vec![("SQLX_OFFLINE".into(), "true".into())]);
    }

    #[test]
    fn unchecked_queries_or_no_migrations_or_a_folder_outside_ask_for_nothing() {
        let plain = "sqlx::query(\"select 1\").execute(&db).await?;";
        let d = sqlx_crate(plain, &["migrations"]);
        assert_eq!(fit(d.path(), d.path(), &OsString::new()).build_schema, None);
        let q = "sqlx::query!(\"select 1\")";
        let d = sqlx_crate(q, &[]);
        assert_eq!(fit(d.path(), d.path(), &OsString::new()).build_schema, None);
        let d = sqlx_crate(
            &format!("{q}\nsqlx::migrate!(\"../shared\")"),
            &["migrations"],
        );
        assert_eq!(fit(d.path(), d.path(), &OsString::new()).build_schema, None);
    }
}
