//! Locked crate versions that today's Rust cannot use as they are, and the
//! patch release their authors published for it.
//!
//! Rust 1.64 changed the memory layout of `std::net::SocketAddr`. Older
//! releases of net2, socket2 and mio cast it to the C `sockaddr`: they still
//! compile, and then bind or connect to garbage addresses at run time (an
//! actix-web 1.0 app panics "Could not bind server to address"). Others stop
//! compiling (rustc-serialize 0.3.24). A 2019 Cargo.lock pins them; the fix
//! is the later patch release within the same semver range, which
//! `cargo update -p NAME@VERSION` picks without touching anything else.
//!
//! The build command then runs that update first, with a finding that names
//! each crate, so the local runner, the image build and the VM all build the
//! same working lock. (A crate that no longer compiles and is not in this
//! table is retried the same way by the local runner, from the compiler's
//! error: `autodeploy_local`'s cargo build retry.)

use crate::ctx::Ctx;
use crate::draft::Draft;
use autodeploy_core::Severity;

/// (crate, the semver line, the first fixed release of that line, why).
const BROKEN: &[(&str, &str, &str, &str)] = &[
    ("net2", "0.2.", "0.2.36", SOCKADDR),
    ("socket2", "0.3.", "0.3.16", SOCKADDR),
    ("mio", "0.6.", "0.6.23", SOCKADDR),
    ("mio", "0.7.", "0.7.6", SOCKADDR),
    (
        "rustc-serialize",
        "0.3.",
        "0.3.25",
        "does not compile with Rust 1.74 and later",
    ),
    // axum-sqlx-conduit's 2022 lock: rustc stops at "older versions of the
    // `wasm-bindgen` crate are incompatible with current versions of Rust;
    // please update to `wasm-bindgen` v0.2.88".
    (
        "wasm-bindgen",
        "0.2.",
        "0.2.88",
        "today's Rust refuses to compile (\"update to wasm-bindgen v0.2.88\")",
    ),
];

/// Crates whose plain `cargo update -p` stops short of the fixed release
/// (it keeps every other locked package, and wasm-bindgen 0.2.85 and later
/// need newer ones: axum-sqlx-conduit's 0.2.81 only reached 0.2.84): they
/// are taken to this release, the first published one at or after the fix
/// (0.2.88 was yanked), with `--precise`, which updates what it needs.
const PRECISE: &[(&str, &str)] = &[("wasm-bindgen", "0.2.89")];

const SOCKADDR: &str = "casts std's SocketAddr to a C sockaddr, which Rust 1.64 changed: it builds, then binds and connects to wrong addresses";

/// `a.b.c` → its three numbers (pre-release and build parts ignored).
fn numbers(v: &str) -> Option<(u64, u64, u64)> {
    let core = v.split(['-', '+']).next()?;
    let mut it = core.split('.').map(|p| p.parse::<u64>().ok());
    Some((it.next()??, it.next()??, it.next()??))
}

/// Every locked (name, version) of the lock text that the table says to
/// update, with the row that matched.
fn broken(lock: &str) -> Vec<(String, String, &'static str, &'static str)> {
    let mut out = Vec::new();
    for (n, v) in packages(lock) {
        for (krate, series, fixed, why) in BROKEN {
            if n == *krate && v.starts_with(series) && numbers(v) < numbers(fixed) {
                out.push((n.to_string(), v.to_string(), *fixed, *why));
            }
        }
    }
    out
}

/// Every locked (name, version) of a Cargo.lock text, in its order.
fn packages(lock: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut name: Option<&str> = None;
    for line in lock.lines() {
        let line = line.trim();
        if line == "[[package]]" {
            name = None;
        } else if let Some(v) = line.strip_prefix("name = ") {
            name = Some(v.trim_matches('"'));
        } else if let (Some(n), Some(v)) = (name, line.strip_prefix("version = ")) {
            out.push((n, v.trim_matches('"')));
        }
    }
    out
}

/// The version of `krate` that the Cargo.lock of `dir` (or of its workspace
/// `root`) pins, when it pins exactly one.
pub(super) fn locked_version(ctx: &Ctx, dir: &str, root: &str, krate: &str) -> Option<String> {
    let file = [dir, root]
        .iter()
        .map(|f| crate::repo::join(f, "Cargo.lock"))
        .find(|f| ctx.index().contains(f))?;
    let text = ctx.read_path(&file)?;
    let mut found: Vec<&str> = Vec::new();
    for (n, v) in packages(&text) {
        if n == krate && !found.contains(&v) {
            found.push(v);
        }
    }
    match found.as_slice() {
        [one] => Some(one.to_string()),
        _ => None,
    }
}

/// The `cargo update -p …` that replaces the lock file's broken versions in
/// `dir` (or its workspace `root`), with a finding per crate; None when none.
pub(super) fn update_command(ctx: &Ctx, dir: &str, root: &str, d: &mut Draft) -> Option<String> {
    let file = [dir, root]
        .iter()
        .map(|f| crate::repo::join(f, "Cargo.lock"))
        .find(|f| ctx.index().contains(f))?;
    let text = ctx.read_path(&file)?;
    if !BROKEN
        .iter()
        .any(|(k, ..)| text.contains(&format!("\"{k}\"")))
    {
        return None;
    }
    let found = broken(&text);
    if found.is_empty() {
        return None;
    }
    let mut specs = Vec::new();
    let mut precise = Vec::new();
    for (name, version, fixed, why) in &found {
        let to = PRECISE.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
        let command = match to {
            Some(to) => format!("cargo update -p {name}@{version} --precise {to}"),
            None => format!("cargo update -p {name}@{version}"),
        };
        let target = to.map_or_else(|| format!("{fixed} or later"), str::to_string);
        d.finding(
            "locked_crate_broken_on_current_rust",
            Severity::Warning,
            Some(&file),
            None,
            format!(
                "{file} locks {name} {version}, which {why}; the build first updates it within its semver range (`{command}`, {target}): commit the updated Cargo.lock to remove this step"
            ),
            None,
        );
        match to {
            Some(_) => precise.push(command),
            None => specs.push(format!("-p {name}@{version}")),
        }
    }
    let mut commands = Vec::new();
    if !specs.is_empty() {
        commands.push(format!("cargo update {}", specs.join(" ")));
    }
    commands.extend(precise);
    Some(commands.join(" && "))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"# This file is automatically @generated by Cargo.
[[package]]
name = "net2"
version = "0.2.33"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "socket2"
version = "0.3.19"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "mio"
version = "0.6.19"

[[package]]
name = "mio"
version = "0.8.11"

[[package]]
name = "rustc-serialize"
version = "0.3.24"
"#;

    #[test]
    fn only_versions_below_the_fixed_release_of_their_line_are_named() {
        let found: Vec<(String, String)> = broken(LOCK)
            .into_iter()
            .map(|(n, v, _, _)| (n, v))
            .collect();
        assert_eq!(
            found,
            [
                ("net2".to_string(), "0.2.33".to_string()),
                ("mio".to_string(), "0.6.19".to_string()),
                ("rustc-serialize".to_string(), "0.3.24".to_string()),
            ]
        );
        assert!(broken("[[package]]\nname = \"socket2\"\nversion = \"0.4.0\"\n").is_empty());
        // axum-sqlx-conduit's wasm-bindgen 0.2.81; 0.2.88 builds.
        let wasm = |v: &str| {
            broken(&format!(
                "[[package]]\nname = \"wasm-bindgen\"\nversion = \"{v}\"\n"
            ))
        };
        assert_eq!(wasm("0.2.81").len(), 1);
        assert!(wasm("0.2.88").is_empty() && wasm("0.2.100").is_empty());
        assert_eq!(numbers("0.3.9"), Some((0, 3, 9)));
        assert!(numbers("0.3.9") < numbers("0.3.16"));
    }

    /// A plain update of axum-sqlx-conduit's wasm-bindgen 0.2.81 stopped at
    /// 0.2.84, still refused: it is taken to 0.2.89 with `--precise`, after
    /// the plain updates of the others.
    #[test]
    fn wasm_bindgen_is_taken_to_a_release_that_builds() {
        let lock = "[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.81\"\n\n[[package]]\nname = \"mio\"\nversion = \"0.6.19\"\n";
        let repo = crate::repo::MemRepo::new([("Cargo.lock", lock)]);
        let ctx = Ctx::new(&repo);
        let mut d = Draft::new(
            "",
            autodeploy_core::Language::Rust,
            autodeploy_core::ServiceKind::Web,
        );
        assert_eq!(
            update_command(&ctx, "", "", &mut d).as_deref(),
            Some("cargo update -p mio@0.6.19 && cargo update -p wasm-bindgen@0.2.81 --precise 0.2.89")
        );
        assert!(
            d.findings
                .iter()
                .any(|f| f.message.contains("--precise 0.2.89`, 0.2.89)")),
            "{:?}",
            d.findings
        );
    }
}
