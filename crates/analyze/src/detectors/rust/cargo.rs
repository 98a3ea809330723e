//! `Cargo.toml` reading: the package, its binaries, its runtime dependencies
//! (with features and renames), workspace membership and inheritance
//! (`dep = { workspace = true }`, `rust-version.workspace = true`).
//!
//! Not here: resolving versions, reading Cargo.lock, dev/build dependencies
//! (they never reach the deployed binary).

use std::collections::{BTreeMap, HashMap};

/// One runtime dependency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dep {
    /// Version requirement as written (empty for path/git deps).
    pub version: String,
    pub features: Vec<String>,
    /// Inherits from `[workspace.dependencies]`.
    pub workspace: bool,
    /// 1-based line in Cargo.toml.
    pub line: u32,
    /// `path = "../core"`: a crate of the same repository, relative to
    /// the manifest's folder.
    pub path: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bin {
    pub name: Option<String>,
    pub path: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// `[package] name`, None for a virtual workspace manifest.
    pub name: Option<String>,
    pub default_run: Option<String>,
    /// `rust-version`, or `Some("workspace")` when inherited.
    pub rust_version: Option<String>,
    pub bins: Vec<Bin>,
    /// Crate name (after `package = "…"` renames) → dependency.
    pub deps: BTreeMap<String, Dep>,
    /// Present when the manifest has a `[workspace]` table.
    pub workspace: Option<Workspace>,
    /// Line of `[package]` (evidence).
    pub package_line: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Workspace {
    pub members: Vec<String>,
    pub deps: BTreeMap<String, Dep>,
    pub rust_version: Option<String>,
}

/// Parse a Cargo.toml; None when it is not valid TOML.
pub fn parse(text: &str) -> Option<Manifest> {
    let doc: toml::Table = text.parse().ok()?;
    let mut m = Manifest::default();
    if let Some(pkg) = doc.get("package").and_then(|v| v.as_table()) {
        m.name = pkg.get("name").and_then(|v| v.as_str()).map(str::to_string);
        m.default_run = pkg
            .get("default-run")
            .and_then(|v| v.as_str())
            .map(str::to_string);
        m.rust_version = match pkg.get("rust-version") {
            Some(toml::Value::String(s)) => Some(s.clone()),
            Some(toml::Value::Table(t))
                if t.get("workspace").and_then(|v| v.as_bool()) == Some(true) =>
            {
                Some("workspace".into())
            }
            _ => None,
        };
        m.package_line = find_line(text, |l| l.trim() == "[package]");
    }
    if let Some(bins) = doc.get("bin").and_then(|v| v.as_array()) {
        for b in bins.iter().filter_map(|b| b.as_table()) {
            m.bins.push(Bin {
                name: b.get("name").and_then(|v| v.as_str()).map(str::to_string),
                path: b.get("path").and_then(|v| v.as_str()).map(str::to_string),
            });
        }
    }
    if let Some(t) = doc.get("dependencies").and_then(|v| v.as_table()) {
        read_deps(text, t, "dependencies", &mut m.deps);
    }
    // [target.'cfg(unix)'.dependencies]
    if let Some(targets) = doc.get("target").and_then(|v| v.as_table()) {
        for (_, t) in targets {
            if let Some(d) = t.get("dependencies").and_then(|v| v.as_table()) {
                read_deps(text, d, "dependencies", &mut m.deps);
            }
        }
    }
    if let Some(ws) = doc.get("workspace").and_then(|v| v.as_table()) {
        let mut w = Workspace {
            members: ws
                .get("members")
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            ..Workspace::default()
        };
        if let Some(d) = ws.get("dependencies").and_then(|v| v.as_table()) {
            read_deps(text, d, "workspace.dependencies", &mut w.deps);
        }
        w.rust_version = ws
            .get("package")
            .and_then(|p| p.get("rust-version"))
            .and_then(|v| v.as_str())
            .map(str::to_string);
        m.workspace = Some(w);
    }
    Some(m)
}

fn read_deps(text: &str, table: &toml::Table, section: &str, out: &mut BTreeMap<String, Dep>) {
    let lines = dep_lines(text, section);
    for (key, value) in table {
        let mut dep = Dep {
            line: lines.get(key.as_str()).copied().unwrap_or(1),
            ..Dep::default()
        };
        let mut name = key.clone();
        match value {
            toml::Value::String(v) => dep.version = v.clone(),
            toml::Value::Table(t) => {
                dep.version = t
                    .get("version")
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string();
                dep.workspace = t.get("workspace").and_then(|v| v.as_bool()) == Some(true);
                dep.path = t.get("path").and_then(|v| v.as_str()).map(str::to_string);
                if let Some(f) = t.get("features").and_then(|v| v.as_array()) {
                    dep.features = f
                        .iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect();
                }
                if let Some(p) = t.get("package").and_then(|v| v.as_str()) {
                    name = p.to_string();
                }
            }
            _ => continue,
        }
        out.insert(name, dep);
    }
}

/// Line of each `key = …` inside `[section]`, and of each `[section.key]`
/// table (the first of either), in one pass over the manifest: a workspace
/// root declares hundreds of dependencies, and looking each up with its own
/// pass over the file was most of the time spent on a large Rust monorepo.
fn dep_lines<'t>(text: &'t str, section: &str) -> HashMap<&'t str, u32> {
    let mut out = HashMap::new();
    let mut in_section = false;
    let header_prefix = format!("[{section}.");
    let target_suffix = format!(".{section}");
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('[') {
            if let Some(key) = line
                .strip_prefix(header_prefix.as_str())
                .and_then(|r| r.strip_suffix(']'))
            {
                out.entry(key).or_insert(i as u32 + 1);
            }
            let name = line.trim_matches(['[', ']']);
            in_section = name == section
                || (name.ends_with(target_suffix.as_str()) && name.starts_with("target."));
            continue;
        }
        if in_section {
            let k = line
                .split('=')
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches('"');
            out.entry(k).or_insert(i as u32 + 1);
        }
    }
    out
}

fn find_line(text: &str, pred: impl Fn(&str) -> bool) -> Option<u32> {
    text.lines().position(pred).map(|i| i as u32 + 1)
}

/// A workspace's `[workspace.dependencies]` merged into a member's inherited deps:
/// the member's features are added to the workspace's.
pub fn inherit(deps: &mut BTreeMap<String, Dep>, ws: &Workspace) {
    for (name, dep) in deps.iter_mut() {
        if !dep.workspace {
            continue;
        }
        if let Some(w) = ws.deps.get(name) {
            dep.version = w.version.clone();
            for f in &w.features {
                if !dep.features.contains(f) {
                    dep.features.push(f.clone());
                }
            }
        }
    }
}

/// `rust-toolchain.toml` (`[toolchain] channel`) or a legacy `rust-toolchain` file.
pub fn toolchain_channel(toml_text: Option<&str>, legacy: Option<&str>) -> Option<String> {
    if let Some(t) = toml_text {
        let doc: toml::Table = t.parse().ok()?;
        return doc
            .get("toolchain")
            .and_then(|t| t.get("channel"))
            .and_then(|v| v.as_str())
            .map(str::to_string);
    }
    let t = legacy?.trim();
    if t.starts_with('[') {
        return toolchain_channel(Some(t), None);
    }
    t.lines()
        .next()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deps_features_renames_and_lines() {
        let text = "[package]\nname = \"svc\"\nrust-version = \"1.74\"\n\n[[bin]]\nname = \"svc-server\"\npath = \"src/main.rs\"\n\n[dependencies]\naxum = \"0.7\"\npg = { package = \"tokio-postgres\", version = \"0.7\" }\nsqlx = { version = \"0.7\", features = [\"postgres\", \"runtime-tokio\"] }\n\n[dependencies.redis]\nversion = \"0.25\"\n\n[dev-dependencies]\nrusqlite = \"0.31\"\n\n[target.'cfg(unix)'.dependencies]\nmongodb = \"2\"\n";
        let m = parse(text).unwrap();
        assert_eq!(m.name.as_deref(), Some("svc"));
        assert_eq!(m.rust_version.as_deref(), Some("1.74"));
        assert_eq!(m.bins[0].name.as_deref(), Some("svc-server"));
        let names: Vec<&str> = m.deps.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            vec!["axum", "mongodb", "redis", "sqlx", "tokio-postgres"]
        );
        assert_eq!(m.deps["axum"].line, 10);
        assert_eq!(m.deps["redis"].line, 14);
        assert_eq!(m.deps["sqlx"].features, vec!["postgres", "runtime-tokio"]);
        assert_eq!(m.deps["mongodb"].line, 21);
    }

    #[test]
    fn workspace_inheritance() {
        let root = parse("[workspace]\nmembers = [\"a\"]\n[workspace.package]\nrust-version = \"1.75\"\n[workspace.dependencies]\nsqlx = { version = \"0.7\", features = [\"mysql\"] }\n").unwrap();
        let ws = root.workspace.unwrap();
        assert!(root.name.is_none());
        assert_eq!(ws.rust_version.as_deref(), Some("1.75"));
        let mut member = parse("[package]\nname = \"a\"\nrust-version.workspace = true\n[dependencies]\nsqlx = { workspace = true, features = [\"macros\"] }\n").unwrap();
        assert_eq!(member.rust_version.as_deref(), Some("workspace"));
        inherit(&mut member.deps, &ws);
        assert_eq!(member.deps["sqlx"].features, vec!["macros", "mysql"]);
    }

    #[test]
    fn bad_toml_is_none_and_toolchains() {
        assert!(parse("[package\nname=").is_none());
        assert_eq!(
            toolchain_channel(Some("[toolchain]\nchannel = \"1.78\"\n"), None).as_deref(),
            Some("1.78")
        );
        assert_eq!(
            toolchain_channel(None, Some("stable\n")).as_deref(),
            Some("stable")
        );
    }
}
