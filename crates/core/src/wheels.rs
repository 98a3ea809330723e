//! What a Python lock file (poetry.lock, uv.lock, pdm.lock) says about
//! compiled packages: the CPython lines its pins have Linux wheels for. A
//! `^3.8` project whose lock pins pyyaml 5.4.1 (wheels up to cp39) builds
//! it from source — and fails — on 3.12; the lock says which Python the
//! project was locked on. Read by the analysis (`Service::wheel_lines`, for
//! the image's line) and the local target (which interpreter to use).

use crate::version::Version;
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

/// The lock files read, in order of preference.
pub const LOCK_FILES: &[&str] = &["poetry.lock", "uv.lock", "pdm.lock"];

/// For each locked package that publishes CPython-specific Linux wheels
/// for a CPU, the minors it has them for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockWheels {
    /// The lock file, relative to the repository.
    pub file: String,
    /// (`greenlet 1.1.2`, minors with a wheel, abi3 wheels from this minor on).
    packages: Vec<(String, BTreeSet<u32>, Option<u32>)>,
    /// Packages every dependent asks for only below a Python line
    /// (`"backports.zoneinfo" = {version = "*", markers = "python_version <
    /// \"3.9\""}`): normalized name → the first minor that does not install it.
    only_below: BTreeMap<String, u32>,
}

/// A package name as pip compares them: lowercase, `.`/`_` as `-`.
fn normalized(name: &str) -> String {
    name.to_ascii_lowercase().replace(['_', '.'], "-")
}

impl LockWheels {
    /// Locked packages with no wheel for the line of `v` (they would be
    /// built from source); a package installed only below `v`'s line
    /// does not count.
    pub fn missing(&self, v: Version) -> Vec<&str> {
        if v.major != 3 {
            return vec![];
        }
        self.packages
            .iter()
            .filter(|(_, minors, abi3)| {
                !minors.contains(&v.minor) && abi3.is_none_or(|from| v.minor < from)
            })
            .filter(|(name, _, _)| {
                let bare = name.split(' ').next().unwrap_or(name);
                self.only_below
                    .get(&normalized(bare))
                    .is_none_or(|below| v.minor < *below)
            })
            .map(|(name, _, _)| name.as_str())
            .collect()
    }
}

/// The packages of a lock file that every dependent requires only under a
/// `python_version < "3.N"` marker (poetry.lock's `[package.dependencies]`
/// lines, uv.lock's `{ name = …, marker = … }`): name → N.
fn only_below(text: &str) -> BTreeMap<String, u32> {
    static POETRY: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"^"?([A-Za-z0-9][A-Za-z0-9_.-]*)"?\s*=\s*(.*)$"#).expect("dependency line")
    });
    static UV: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"\{\s*name\s*=\s*"([A-Za-z0-9][A-Za-z0-9_.-]*)"(.*?)\}"#)
            .expect("uv dependency")
    });
    static BELOW: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"python(?:_full)?_version\s*<\s*\\?["']3\.(\d+)"#).expect("marker")
    });
    // name → Some(N) while every mention is below 3.N; None once one is not.
    let mut seen: BTreeMap<String, Option<u32>> = BTreeMap::new();
    let mut note = |name: &str, rest: &str| {
        let below = BELOW
            .captures(rest)
            .filter(|_| !rest.contains(" or "))
            .and_then(|c| c[1].parse::<u32>().ok());
        let e = seen.entry(normalized(name)).or_insert(below);
        *e = match (*e, below) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
    };
    let mut in_deps = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            in_deps = t == "[package.dependencies]";
        }
        if in_deps {
            if let Some(c) = POETRY.captures(t) {
                note(&c[1], &c[2]);
            }
        }
        if t.contains("{ name") {
            for c in UV.captures_iter(t) {
                note(&c[1], &c[2]);
            }
        }
    }
    seen.into_iter()
        .filter_map(|(k, v)| v.map(|n| (k, n)))
        .collect()
}

/// Read the wheel file names a lock file's text lists
/// (`greenlet-1.1.2-cp310-cp310-manylinux_2_17_x86_64.whl`) for Linux on
/// `arch` (`x86_64`, `aarch64`); `None` when it lists none.
pub fn parse(file: &str, text: &str, arch: &str) -> Option<LockWheels> {
    static WHEEL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"([A-Za-z0-9][A-Za-z0-9_.]*)-([0-9][A-Za-z0-9_.+!]*)-(?:[0-9][^-/]*-)?cp3([0-9]+)-([a-z0-9_]+)-([A-Za-z0-9_.]+)\.whl",
        )
        .expect("wheel file name pattern")
    });
    let mut by_pkg: BTreeMap<String, (BTreeSet<u32>, Option<u32>)> = BTreeMap::new();
    for c in WHEEL.captures_iter(text) {
        let plat = &c[5];
        if !(plat.contains("linux") && plat.contains(arch)) {
            continue;
        }
        let Ok(minor) = c[3].parse::<u32>() else {
            continue;
        };
        let name = format!("{} {}", c[1].to_ascii_lowercase().replace('_', "-"), &c[2]);
        let entry = by_pkg.entry(name).or_default();
        match &c[4] {
            "abi3" => entry.1 = Some(entry.1.map_or(minor, |m| m.min(minor))),
            _ => {
                entry.0.insert(minor);
            }
        }
    }
    if by_pkg.is_empty() {
        return None;
    }
    Some(LockWheels {
        file: file.to_string(),
        packages: by_pkg.into_iter().map(|(k, (m, a))| (k, m, a)).collect(),
        only_below: only_below(text),
    })
}
