//! What a Node package's own files say: `package.json` (dependencies, scripts,
//! `main`, `engines`, `workspaces`, `packageManager`), the lock file and so the
//! package manager and install command, the Node version (`.nvmrc`,
//! `.node-version`, `engines.node`) and `tsconfig.json` (JSON with comments,
//! `extends` followed).
//!
//! Deliberately not here: what any of it means for the app (frameworks, start
//! commands) — that is `mod.rs` and `frameworks.rs`.

use crate::ctx::Ctx;
use crate::draft::{ev, Draft};
use crate::repo::{join, normalize, parent};
use autodeploy_core::Evidence;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A declared dependency, script or field, with the line it sits on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub value: String,
    pub line: Option<u32>,
}

/// One parsed `package.json`.
#[derive(Debug, Clone, Default)]
pub struct Manifest {
    /// Repo-relative path of the `package.json`.
    pub file: String,
    pub name: Option<String>,
    /// `dependencies` (name → version spec).
    pub deps: BTreeMap<String, Entry>,
    /// `devDependencies`, `peerDependencies`, `optionalDependencies`.
    pub dev_deps: BTreeMap<String, Entry>,
    pub scripts: BTreeMap<String, Entry>,
    pub main: Option<Entry>,
    pub engines_node: Option<Entry>,
    /// `workspaces` is declared (npm/yarn/bun workspaces).
    pub workspaces: Vec<String>,
    /// `packageManager` field (`pnpm@9.4.0`).
    pub package_manager: Option<String>,
    /// `prisma.schema` field (custom schema path).
    pub prisma_schema: Option<String>,
    /// Declares `bin` (a command-line tool others install).
    pub has_bin: bool,
}

impl Manifest {
    /// Declared in any dependency section.
    pub fn declares(&self, dep: &str) -> bool {
        self.dep(dep).is_some()
    }

    /// A dependency from any section: (name, entry); `dep` ending in `*` matches a prefix.
    pub fn dep(&self, dep: &str) -> Option<(&str, &Entry)> {
        find_dep(&self.deps, dep).or_else(|| find_dep(&self.dev_deps, dep))
    }

    /// Evidence for a dependency (`package.json:LINE depends on x@1`).
    pub fn dep_evidence(&self, dep: &str) -> Option<Evidence> {
        self.dep(dep)
            .map(|(name, e)| ev(&self.file, e.line, format!("depends on {name}@{}", e.value)))
    }

    pub fn script(&self, name: &str) -> Option<&Entry> {
        self.scripts.get(name)
    }
}

fn find_dep<'a>(map: &'a BTreeMap<String, Entry>, dep: &str) -> Option<(&'a str, &'a Entry)> {
    match dep.strip_suffix('*') {
        Some(prefix) => map
            .iter()
            .find(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.as_str(), v)),
        None => map.get_key_value(dep).map(|(k, v)| (k.as_str(), v)),
    }
}

/// Parse `dir/package.json`. `Err` carries a message for an unreadable manifest.
pub fn read(ctx: &Ctx, dir: &str) -> Result<Manifest, String> {
    let file = join(dir, "package.json");
    let text = ctx
        .read_path(&file)
        .ok_or_else(|| format!("{file} cannot be read (too large or not text)"))?;
    parse(&file, &text)
}

/// Parse the text of a `package.json` found at `file`.
pub fn parse(file: &str, text: &str) -> Result<Manifest, String> {
    let body = text.trim_start_matches('\u{feff}');
    let doc: Value =
        serde_json::from_str(body).map_err(|e| format!("{file} is not valid JSON: {e}"))?;
    let Value::Object(obj) = &doc else {
        return Err(format!("{file} is not a JSON object"));
    };
    let mut m = Manifest {
        file: file.to_string(),
        ..Manifest::default()
    };
    let top_str = |key: &str| obj.get(key).and_then(Value::as_str).map(str::to_string);
    m.name = top_str("name").filter(|n| !n.trim().is_empty());
    m.package_manager = top_str("packageManager");
    if let Some(main) = top_str("main").filter(|s| !s.trim().is_empty()) {
        m.main = Some(Entry {
            value: main,
            line: key_line(body, None, "main"),
        });
    }
    let section = |key: &str| -> BTreeMap<String, Entry> {
        obj.get(key)
            .and_then(Value::as_object)
            .map(|o| {
                o.iter()
                    .map(|(k, v)| {
                        let value = match v {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        (
                            k.clone(),
                            Entry {
                                value,
                                line: key_line(body, Some(key), k),
                            },
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    m.deps = section("dependencies");
    for key in [
        "devDependencies",
        "peerDependencies",
        "optionalDependencies",
    ] {
        for (k, v) in section(key) {
            if !m.deps.contains_key(&k) {
                m.dev_deps.entry(k).or_insert(v);
            }
        }
    }
    m.scripts = section("scripts");
    m.scripts.retain(|_, e| !e.value.trim().is_empty());
    if let Some(node) = obj
        .get("engines")
        .and_then(|e| e.get("node"))
        .and_then(Value::as_str)
    {
        m.engines_node = Some(Entry {
            value: node.to_string(),
            line: key_line(body, Some("engines"), "node"),
        });
    } else if let Some(node) = dev_engines_node(obj) {
        // npm's `devEngines.runtime` (`{"name": "node", "version": "^24"}`
        // or a list of such), which `npm ci` enforces (`onFail` is `error`
        // unless it says otherwise).
        m.engines_node = Some(Entry {
            value: node.to_string(),
            line: key_line(body, Some("devEngines"), "runtime"),
        });
    }
    m.workspaces = match obj.get("workspaces") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        // yarn classic: {"packages": [...], "nohoist": [...]}
        Some(Value::Object(o)) => o
            .get("packages")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    m.has_bin = obj.get("bin").is_some_and(|b| !b.is_null());
    m.prisma_schema = obj
        .get("prisma")
        .and_then(|p| p.get("schema"))
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(m)
}

/// Line of `"key":` inside the object `"section":` (or anywhere when `section` is None).
pub fn key_line(text: &str, section: Option<&str>, key: &str) -> Option<u32> {
    let from = match section {
        Some(s) => key_at(text, 0, s)?,
        None => 0,
    };
    key_at(text, from, key).map(|at| crate::scan::line_of(text, at))
}

/// Byte offset of the first `"key"` followed by `:` at or after `from`.
fn key_at(text: &str, from: usize, key: &str) -> Option<usize> {
    let needle = format!("\"{key}\"");
    let mut pos = from;
    while let Some(i) = text.get(pos..)?.find(&needle) {
        let at = pos + i;
        let after = text[at + needle.len()..].trim_start();
        if after.starts_with(':') {
            return Some(at);
        }
        pos = at + needle.len();
    }
    None
}

/// The package manager a folder uses and how to install with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manager {
    /// npm, yarn, pnpm, bun.
    pub name: &'static str,
    /// Yarn 2+ ("berry").
    pub berry: bool,
    /// The lock file (repo-relative), when there is one.
    pub lockfile: Option<String>,
    pub install: String,
    pub evidence: Evidence,
    /// Lock files of other managers beside the chosen one.
    pub conflicting: Vec<String>,
}

impl Manager {
    /// The command that runs script `name` (`npm start`, `npm run build`, `yarn build`…).
    pub fn run(&self, name: &str) -> String {
        match self.name {
            "npm" if name == "start" => "npm start".into(),
            "npm" => format!("npm run {name}"),
            "bun" => format!("bun run {name}"),
            other => format!("{other} {name}"),
        }
    }

    /// The command that runs a package binary (`npx next build`).
    pub fn exec(&self, cmd: &str) -> String {
        match self.name {
            "yarn" => format!("yarn {cmd}"),
            "pnpm" => format!("pnpm exec {cmd}"),
            "bun" => format!("bunx {cmd}"),
            _ => format!("npx {cmd}"),
        }
    }
}

const LOCKFILES: &[(&str, &str)] = &[
    ("pnpm-lock.yaml", "pnpm"),
    ("yarn.lock", "yarn"),
    ("bun.lock", "bun"),
    ("bun.lockb", "bun"),
    ("package-lock.json", "npm"),
    ("npm-shrinkwrap.json", "npm"),
];

/// The folders whose lock file and settings apply to `dir`: `dir` itself, then
/// the workspace root above it (a package.json with `workspaces`, or a
/// pnpm-workspace.yaml) when `dir` is one of its packages.
pub fn scope_dirs(ctx: &Ctx, dir: &str) -> Vec<String> {
    let mut out = vec![dir.to_string()];
    let mut d = dir;
    while !d.is_empty() {
        d = parent(d);
        if is_workspace_root_of(ctx, d, dir) {
            out.push(d.to_string());
            break;
        }
    }
    out
}

/// `root/package.json` parsed once per analysis: every package of a
/// workspace asks for its root's manifest (babel: ~1,000 packages, one
/// 10 kB root parsed each time was ~40 % of the analysis).
fn read_shared(ctx: &Ctx, root: &str) -> Arc<Result<Manifest, String>> {
    ctx.memo("node::manifest", root, || read(ctx, root))
}

/// Globs that list the packages of a workspace root at `root` (empty when it
/// is none), worked out once per folder per analysis.
pub fn workspace_globs(ctx: &Ctx, root: &str) -> Arc<Vec<String>> {
    ctx.memo("node::workspace_globs", root, || {
        workspace_globs_uncached(ctx, root)
    })
}

fn workspace_globs_uncached(ctx: &Ctx, root: &str) -> Vec<String> {
    let mut globs = Vec::new();
    if let Some(text) = ctx.read(root, "pnpm-workspace.yaml") {
        if let Ok(doc) = serde_yaml::from_str::<serde_yaml::Value>(&text) {
            if let Some(list) = doc.get("packages").and_then(|p| p.as_sequence()) {
                globs.extend(list.iter().filter_map(|v| v.as_str()).map(str::to_string));
            }
        }
    }
    if ctx.has(root, "package.json") {
        if let Ok(m) = &*read_shared(ctx, root) {
            globs.extend(m.workspaces.iter().cloned());
        }
    }
    if globs.is_empty() {
        if let Some(text) = ctx.read(root, "lerna.json") {
            if let Ok(v) = serde_json::from_str::<Value>(&text) {
                let pk = v.get("packages").and_then(Value::as_array);
                globs.extend(
                    pk.into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(str::to_string),
                );
                if pk.is_none() {
                    globs.push("packages/*".into());
                }
            }
        }
    }
    globs
}

/// True when `root` is a workspace root that lists `pkg` as one of its packages.
fn is_workspace_root_of(ctx: &Ctx, root: &str, pkg: &str) -> bool {
    let rel = match pkg.strip_prefix(root) {
        Some(r) if root.is_empty() => r,
        Some(r) => r.trim_start_matches('/'),
        None => return false,
    };
    workspace_globs(ctx, root)
        .iter()
        .filter(|g| !g.starts_with('!'))
        .any(|g| glob_match(g.trim_start_matches("./").trim_end_matches('/'), rel))
}

/// Workspace globs: `*` is one path segment, `**` any number of them.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    fn seg(p: &str, s: &str) -> bool {
        match p.split_once('*') {
            None => p == s,
            Some((pre, rest)) => {
                if !s.starts_with(pre) {
                    return false;
                }
                let s = &s[pre.len()..];
                (0..=s.len()).any(|i| s.is_char_boundary(i) && seg(rest, &s[i..]))
            }
        }
    }
    fn go(p: &[&str], s: &[&str]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(&"**"), _) => go(&p[1..], s) || (!s.is_empty() && go(p, &s[1..])),
            (Some(ph), Some(sh)) => seg(ph, sh) && go(&p[1..], &s[1..]),
            _ => false,
        }
    }
    let p: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    let s: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    go(&p, &s)
}

/// Work out the package manager for the package in `dir` (with manifest `m`).
pub fn manager(ctx: &Ctx, dir: &str, m: &Manifest) -> Manager {
    let scopes = scope_dirs(ctx, dir);
    // `packageManager` of the package, else of its workspace root.
    let mut declared: Option<(String, String)> =
        m.package_manager.clone().map(|p| (p, m.file.clone()));
    if declared.is_none() {
        for s in scopes.iter().skip(1) {
            if let Ok(root) = &*read_shared(ctx, s) {
                if let Some(p) = &root.package_manager {
                    declared = Some((p.clone(), root.file.clone()));
                    break;
                }
            }
        }
    }
    let declared_name = declared.as_ref().and_then(|(p, _)| {
        let name = p.split('@').next().unwrap_or("");
        ["npm", "yarn", "pnpm", "bun"]
            .into_iter()
            .find(|n| *n == name)
    });
    // The nearest lock file, preferring the declared manager's. Several kinds of
    // lock file in one folder: the manager the scripts call decides.
    let mut lock: Option<(String, &'static str)> = None;
    let mut others: Vec<String> = Vec::new();
    for s in &scopes {
        let found: Vec<(&str, &'static str)> = LOCKFILES
            .iter()
            .filter(|(name, mgr)| declared_name.is_none_or(|d| d == *mgr) && ctx.has(s, name))
            .map(|(n, m)| (*n, *m))
            .collect();
        let Some(first) = found.first() else { continue };
        let chosen = found
            .iter()
            .max_by_key(|(_, mgr)| {
                let calls = m
                    .scripts
                    .values()
                    .filter(|e| {
                        e.value.starts_with(&format!("{mgr} "))
                            || e.value.contains(&format!(" {mgr} "))
                    })
                    .count();
                (
                    calls,
                    std::cmp::Reverse(found.iter().position(|(_, x)| x == mgr)),
                )
            })
            .unwrap_or(first);
        lock = Some((join(s, chosen.0), chosen.1));
        others = found
            .iter()
            .filter(|(_, mgr)| *mgr != chosen.1)
            .map(|(n, _)| join(s, n))
            .collect();
        break;
    }
    let name = declared_name
        .or(lock.as_ref().map(|(_, m)| *m))
        .unwrap_or("npm");
    let berry = name == "yarn" && {
        let major = declared
            .as_ref()
            .and_then(|(p, _)| p.split('@').nth(1))
            .and_then(|v| v.split('.').next())
            .and_then(|v| v.parse::<u32>().ok());
        major.is_some_and(|v| v >= 2)
            || scopes.iter().any(|s| ctx.has(s, ".yarnrc.yml"))
            || lock
                .as_ref()
                .and_then(|(f, _)| ctx.read_path(f))
                .is_some_and(|t| t.contains("__metadata:"))
    };
    let install = match (name, lock.is_some()) {
        ("npm", true) => "npm ci".to_string(),
        ("yarn", true) if berry => "yarn install --immutable".into(),
        ("yarn", true) => "yarn install --frozen-lockfile".into(),
        ("pnpm", true) => "pnpm install --frozen-lockfile".into(),
        ("bun", true) => "bun install --frozen-lockfile".into(),
        (other, false) => format!("{other} install"),
        (other, true) => format!("{other} install"),
    };
    let evidence = match (&lock, &declared) {
        (Some((f, _)), _) => ev(f, None, "lock file"),
        (None, Some((p, f))) => ev(
            f,
            key_line(
                &ctx.read_path(f).unwrap_or_default(),
                None,
                "packageManager",
            ),
            format!("packageManager: {p}"),
        ),
        (None, None) => ev(&m.file, None, "no lock file: npm by default"),
    };
    Manager {
        name,
        berry,
        lockfile: lock.map(|(f, _)| f),
        install,
        evidence,
        conflicting: others,
    }
}

/// The Node version of `devEngines.runtime` (an entry or a list of them).
fn dev_engines_node(obj: &serde_json::Map<String, Value>) -> Option<&str> {
    let runtime = obj.get("devEngines")?.get("runtime")?;
    let entries: Vec<&Value> = match runtime {
        Value::Array(a) => a.iter().collect(),
        one => vec![one],
    };
    entries.into_iter().find_map(|r| {
        (r.get("name")?.as_str()? == "node")
            .then(|| r.get("version")?.as_str())
            .flatten()
    })
}

/// Node version the project asks for: `.nvmrc`, `.node-version` (here or in the
/// workspace root / repository root above), else `engines.node` as written
/// (a range such as `>=18.17`; decide and the local target read it with
/// `autodeploy_core::version`).
pub fn node_version(ctx: &Ctx, dir: &str, m: &Manifest) -> Option<(String, Evidence)> {
    let mut dirs = scope_dirs(ctx, dir);
    if !dirs.iter().any(|d| d.is_empty()) {
        dirs.push(String::new());
    }
    for d in &dirs {
        for name in [".nvmrc", ".node-version"] {
            if let Some(text) = ctx.read(d, name) {
                let raw = text.lines().next().unwrap_or("").trim();
                if let Some(v) = version_from_file(raw) {
                    let file = join(d, name);
                    return Some((v, ev(&file, Some(1), raw.to_string())));
                }
            }
        }
    }
    let e = m.engines_node.as_ref()?;
    major_of_range(&e.value)?;
    Some((
        e.value.trim().to_string(),
        ev(&m.file, e.line, format!("engines.node {}", e.value)),
    ))
}

/// `.nvmrc` content → version: `v20.11.1` → `20.11.1`, `lts/iron` → `20`, `18.x` → `18`.
pub fn version_from_file(raw: &str) -> Option<String> {
    const LTS: &[(&str, &str)] = &[
        ("argon", "4"),
        ("boron", "6"),
        ("carbon", "8"),
        ("dubnium", "10"),
        ("erbium", "12"),
        ("fermium", "14"),
        ("gallium", "16"),
        ("hydrogen", "18"),
        ("iron", "20"),
        ("jod", "22"),
        ("krypton", "24"),
    ];
    let v = raw.trim().trim_start_matches(['v', 'V']);
    if let Some(name) = v.strip_prefix("lts/") {
        let name = name.to_ascii_lowercase();
        return LTS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string());
    }
    let v = v.trim_end_matches(".x").trim_end_matches(".*");
    (!v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.')).then(|| v.to_string())
}

/// `engines.node` range → its lowest major version: `>=18.17` → `18`, `^20.11.0` → `20`.
pub fn major_of_range(range: &str) -> Option<String> {
    let start = range.find(|c: char| c.is_ascii_digit())?;
    let digits: String = range[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!digits.is_empty()).then_some(digits)
}

/// What `tsconfig.json` (after `extends`) says about compiled output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TsConfig {
    /// Repo-relative path of the tsconfig read.
    pub file: String,
    /// `outDir`, relative to the package folder (`build`), when set.
    pub out_dir: Option<String>,
    /// `rootDir`, relative to the package folder, when set.
    pub root_dir: Option<String>,
    pub no_emit: bool,
}

/// Read `dir/<name>` (a tsconfig), following relative `extends` (three levels).
pub fn tsconfig(ctx: &Ctx, dir: &str, name: &str) -> Option<TsConfig> {
    let first = normalize(&join(dir, name))?;
    let mut cfg = TsConfig {
        file: first.clone(),
        ..TsConfig::default()
    };
    let mut file = first;
    let mut seen = 0;
    let (mut out, mut root, mut no_emit) = (None, None, None);
    loop {
        let text = ctx.read_path(&file)?;
        let doc = parse_jsonc(&text)?;
        let here = parent(&file).to_string();
        let opts = doc.get("compilerOptions");
        let rel_to_pkg = |p: &str| -> Option<String> {
            let abs = normalize(&join(&here, p))?;
            Some(match abs.strip_prefix(dir) {
                Some(r) if !dir.is_empty() => r.trim_start_matches('/').to_string(),
                _ if dir.is_empty() => abs,
                _ => return None,
            })
        };
        let s = |k: &str| opts.and_then(|o| o.get(k)).and_then(Value::as_str);
        if out.is_none() {
            out = s("outDir").and_then(rel_to_pkg);
        }
        if root.is_none() {
            root = s("rootDir").and_then(rel_to_pkg);
        }
        if no_emit.is_none() {
            no_emit = opts.and_then(|o| o.get("noEmit")).and_then(Value::as_bool);
        }
        seen += 1;
        let next = doc.get("extends").and_then(Value::as_str);
        match next {
            Some(e) if e.starts_with('.') && seen < 4 => {
                let e = if e.ends_with(".json") {
                    e.to_string()
                } else {
                    format!("{e}.json")
                };
                file = normalize(&join(&here, &e))?;
            }
            _ => break,
        }
    }
    cfg.out_dir = out
        .map(|o| o.trim_end_matches('/').to_string())
        .filter(|o| !o.is_empty());
    cfg.root_dir = root.map(|o| o.trim_end_matches('/').to_string());
    cfg.no_emit = no_emit.unwrap_or(false);
    Some(cfg)
}

/// Parse JSON with comments and trailing commas (tsconfig, jsconfig).
pub fn parse_jsonc(text: &str) -> Option<Value> {
    let text = text.trim_start_matches('\u{feff}');
    if let Ok(v) = serde_json::from_str(text) {
        return Some(v);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_str = false;
    while let Some(c) = chars.next() {
        if in_str {
            out.push(c);
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_str = true;
                out.push(c);
            }
            '/' if chars.peek() == Some(&'/') => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                for n in chars.by_ref() {
                    if prev == '*' && n == '/' {
                        break;
                    }
                    prev = n;
                }
            }
            _ => out.push(c),
        }
    }
    // Trailing commas: `,` followed only by whitespace before `}` or `]`.
    let bytes: Vec<char> = out.chars().collect();
    let mut cleaned = String::with_capacity(out.len());
    let mut in_str = false;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if in_str {
            cleaned.push(c);
            if c == '\\' && i + 1 < bytes.len() {
                cleaned.push(bytes[i + 1]);
                i += 1;
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
            cleaned.push(c);
        } else if c == ',' {
            let next = bytes[i + 1..].iter().find(|c| !c.is_whitespace());
            if !matches!(next, Some('}') | Some(']')) {
                cleaned.push(c);
            }
        } else {
            cleaned.push(c);
        }
        i += 1;
    }
    serde_json::from_str(&cleaned).ok()
}

/// Set the fields every Node draft shares: manifest name, manager, install, version.
pub fn fill_common(
    draft: &mut Draft,
    m: &Manifest,
    mgr: &Manager,
    version: Option<(String, Evidence)>,
) {
    draft.has_manifest = true;
    draft.manifest_name = m.name.clone();
    draft.package_manager = Some(mgr.name.to_string());
    draft.install = Some(mgr.install.clone());
    draft.note("package_manager", mgr.evidence.clone());
    draft.note("install", mgr.evidence.clone());
    if let Some((v, e)) = version {
        draft.runtime_version = Some(v);
        draft.note("runtime_version", e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::MemRepo;

    /// npm's devEngines stands for engines.node when that is absent.
    #[test]
    fn dev_engines_runtime_is_the_node_it_asks_for() {
        let one = r#"{"devEngines": {"runtime": {"name": "node", "version": "^24.0.0"}}}"#;
        let m = parse("package.json", one).unwrap();
        assert_eq!(
            m.engines_node.as_ref().map(|e| e.value.as_str()),
            Some("^24.0.0")
        );
        let list = r#"{"devEngines": {"runtime": [{"name": "bun", "version": "1"}, {"name": "node", "version": ">=22"}]}}"#;
        let m = parse("package.json", list).unwrap();
        assert_eq!(
            m.engines_node.as_ref().map(|e| e.value.as_str()),
            Some(">=22")
        );
        let both = r#"{"engines": {"node": "20.x"}, "devEngines": {"runtime": {"name": "node", "version": "^24"}}}"#;
        let m = parse("package.json", both).unwrap();
        assert_eq!(
            m.engines_node.as_ref().map(|e| e.value.as_str()),
            Some("20.x")
        );
    }

    #[test]
    fn parses_sections_with_lines() {
        let text = r#"{
  "name": "x",
  "main": "server.js",
  "scripts": {
    "start:prod": "node dist/main",
    "start": "nest start"
  },
  "dependencies": { "express": "^4" },
  "devDependencies": { "nodemon": "^3", "express": "^4" }
}"#;
        let m = parse("package.json", text).unwrap();
        assert_eq!(m.name.as_deref(), Some("x"));
        assert_eq!(m.main.as_ref().unwrap().line, Some(3));
        assert_eq!(m.script("start").unwrap().line, Some(6));
        assert_eq!(m.script("start:prod").unwrap().line, Some(5));
        assert_eq!(m.deps["express"].line, Some(8));
        assert!(m.dev_deps.contains_key("nodemon"));
        assert!(!m.dev_deps.contains_key("express"));
        assert!(m.declares("nodemon"));
        assert_eq!(m.dep("@remix-run/*"), None);
    }

    #[test]
    fn bad_manifests_are_errors_not_panics() {
        assert!(parse("package.json", "{ not json").is_err());
        assert!(parse("package.json", "[]").is_err());
        assert!(parse("package.json", "").is_err());
        let m = parse(
            "package.json",
            r#"{"name": 3, "scripts": {"start": 1}, "dependencies": []}"#,
        )
        .unwrap();
        assert_eq!(m.name, None);
        assert_eq!(m.scripts["start"].value, "1");
    }

    #[test]
    fn versions() {
        assert_eq!(version_from_file("v20.11.1").as_deref(), Some("20.11.1"));
        assert_eq!(version_from_file("lts/iron").as_deref(), Some("20"));
        assert_eq!(version_from_file("18.x").as_deref(), Some("18"));
        assert_eq!(version_from_file("lts/*"), None);
        assert_eq!(version_from_file("node"), None);
        assert_eq!(major_of_range(">=18.17").as_deref(), Some("18"));
        assert_eq!(major_of_range("^20.11.0 || >=22").as_deref(), Some("20"));
        assert_eq!(major_of_range("*"), None);
    }

    #[test]
    fn jsonc() {
        let v = parse_jsonc(
            "{\n // c\n \"a\": \"http://x\", /* b */ \"b\": [1, 2,],\n \"c\": {\"d\": 1,},\n}",
        )
        .unwrap();
        assert_eq!(v["a"], "http://x");
        assert_eq!(v["b"][1], 2);
        assert_eq!(v["c"]["d"], 1);
    }

    #[test]
    fn globs() {
        assert!(glob_match("apps/*", "apps/api"));
        assert!(!glob_match("apps/*", "apps/api/x"));
        assert!(glob_match("packages/**", "packages/a/b"));
        assert!(glob_match("services/*-api", "services/user-api"));
        assert!(glob_match("web", "web"));
    }

    #[test]
    fn managers() {
        let repo = MemRepo::new([
            (
                "package.json",
                r#"{"workspaces": ["apps/*"], "packageManager": "yarn@4.1.0"}"#,
            ),
            ("yarn.lock", "__metadata:\n  version: 8\n"),
            ("apps/api/package.json", r#"{"name": "api"}"#),
            ("solo/package.json", r#"{"name": "solo"}"#),
            ("p/package.json", r#"{"name": "p"}"#),
            ("p/pnpm-lock.yaml", "lockfileVersion: '9.0'\n"),
        ]);
        let ctx = Ctx::new(&repo);
        let m = read(&ctx, "apps/api").unwrap();
        let mgr = manager(&ctx, "apps/api", &m);
        assert_eq!(mgr.name, "yarn");
        assert!(mgr.berry);
        assert_eq!(mgr.install, "yarn install --immutable");
        assert_eq!(mgr.run("build"), "yarn build");
        let solo = manager(&ctx, "solo", &read(&ctx, "solo").unwrap());
        assert_eq!((solo.name, solo.install.as_str()), ("npm", "npm install"));
        assert_eq!(solo.run("start"), "npm start");
        assert_eq!(solo.exec("next build"), "npx next build");
        let p = manager(&ctx, "p", &read(&ctx, "p").unwrap());
        assert_eq!(p.install, "pnpm install --frozen-lockfile");
        assert_eq!(p.exec("tsc"), "pnpm exec tsc");
    }

    #[test]
    fn pnpm_workspace_scope() {
        let repo = MemRepo::new([
            ("package.json", r#"{"private": true}"#),
            ("pnpm-workspace.yaml", "packages:\n  - 'packages/*'\n"),
            ("pnpm-lock.yaml", "lockfileVersion: '9.0'\n"),
            ("packages/web/package.json", r#"{"name": "web"}"#),
            (".nvmrc", "v20.10.0\n"),
        ]);
        let ctx = Ctx::new(&repo);
        let m = read(&ctx, "packages/web").unwrap();
        assert_eq!(scope_dirs(&ctx, "packages/web"), vec!["packages/web", ""]);
        let mgr = manager(&ctx, "packages/web", &m);
        assert_eq!(mgr.lockfile.as_deref(), Some("pnpm-lock.yaml"));
        assert_eq!(
            node_version(&ctx, "packages/web", &m)
                .map(|v| v.0)
                .as_deref(),
            Some("20.10.0")
        );
    }

    #[test]
    fn tsconfig_extends_and_dirs() {
        let repo = MemRepo::new([
            ("svc/tsconfig.json", "{ \"extends\": \"./tsconfig.base\", // x\n \"compilerOptions\": {\"rootDir\": \"src\",} }"),
            ("svc/tsconfig.base.json", r#"{"compilerOptions": {"outDir": "./dist/", "noEmit": false}}"#),
        ]);
        let ctx = Ctx::new(&repo);
        let t = tsconfig(&ctx, "svc", "tsconfig.json").unwrap();
        assert_eq!(t.out_dir.as_deref(), Some("dist"));
        assert_eq!(t.root_dir.as_deref(), Some("src"));
        assert!(!t.no_emit);
    }
}
