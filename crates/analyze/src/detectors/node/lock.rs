//! Locked package versions that today's Node cannot build, and the release
//! that fixed it.
//!
//! Native add-ons written against `nan` compile its headers against the
//! running Node. `nan` releases before 2.17.0 use V8 APIs that Node 20
//! removed (`v8::AccessorSignature`, `ArrayBuffer::GetContents`): a 2019 lock
//! file that pins `nan 2.14.0` under `sqlite3 4.0.9` or `bcrypt 3.0.8` fails
//! `npm install` with pages of C++ errors, on any machine with today's Node,
//! although every dependent asks for `^2.x` or an exact 2.x that later 2.x
//! releases satisfy (checked here: `bcrypt 3.0.8` builds and hashes on Node
//! 20 with `nan` overridden to 2.17.0, fails with 2.16.0).
//!
//! `pg` (node-postgres) before 8.0.3 never finishes connecting on Node 14
//! and later: checked here on Node 20, 7.18.2 and 8.0.2 leave `connect()`
//! pending and the process exits with nothing printed, 8.0.3 connects (a
//! 2019 koa + knex app's `knex migrate:latest` timed out "acquiring a
//! connection"). That fix crosses a major version (7 → 8), whose changes are
//! to SSL defaults, which a local or private database does not use.
//!
//! The fix is the package manager's own override field (`overrides` for npm
//! and bun, `resolutions` for yarn, `pnpm.overrides` for pnpm), set with
//! `npm pkg set` before the install, which then runs without the frozen lock
//! flag. The install command carries it, so the local runner, the image and
//! the VM all build the same way; a finding names each package and says how
//! to make the step unnecessary.

use super::manifest::{Manager, Manifest};
use crate::ctx::Ctx;
use crate::draft::{ev, Draft};
use autodeploy_core::Severity;

/// (package, the first release that builds on today's Node, the first Node
/// major its older releases fail on, why). A project that pins an older
/// Node (`.nvmrc` 14) needs no override — and its npm 6 has no `npm pkg`.
const BROKEN: &[(&str, &str, u32, &str)] = &[
    (
        "nan",
        "2.17.0",
        16,
        "uses V8 APIs that Node 20 removed, so every native add-on built on it fails to compile",
    ),
    (
        "pg",
        "8.0.3",
        14,
        "never finishes connecting on Node 14 and later (the promise is left pending: pools time out, scripts exit silently)",
    ),
];

/// `a.b.c` → its three numbers (pre-release and build parts ignored).
fn numbers(v: &str) -> Option<(u64, u64, u64)> {
    let core = v.trim().trim_matches('"').split(['-', '+']).next()?;
    let mut it = core.split('.').map(|p| p.parse::<u64>().ok());
    Some((it.next()??, it.next()??, it.next()??))
}

/// A lock file's text, parsed once whatever the number of packages asked
/// about (npm's lock is JSON, and can be megabytes).
struct Lock<'t> {
    file: &'t str,
    text: &'t str,
    json: std::cell::OnceCell<Option<serde_json::Value>>,
}

impl<'t> Lock<'t> {
    fn new(file: &'t str, text: &'t str) -> Self {
        Lock {
            file,
            text,
            json: std::cell::OnceCell::new(),
        }
    }
}

/// Every version of `name` a lock file's text pins (npm's package-lock.json,
/// yarn classic and berry, pnpm, bun's text lock).
fn locked_versions(lock: &Lock, name: &str) -> Vec<String> {
    let (file, text) = (lock.file, lock.text);
    let mut out = Vec::new();
    if file.ends_with("package-lock.json") || file.ends_with("npm-shrinkwrap.json") {
        let Some(v) = lock
            .json
            .get_or_init(|| serde_json::from_str::<serde_json::Value>(text).ok())
        else {
            return out;
        };
        // lockfileVersion 2/3: "node_modules/…/node_modules/NAME".
        if let Some(pkgs) = v.get("packages").and_then(|p| p.as_object()) {
            for (k, p) in pkgs {
                if k == &format!("node_modules/{name}")
                    || k.ends_with(&format!("/node_modules/{name}"))
                {
                    if let Some(ver) = p.get("version").and_then(|x| x.as_str()) {
                        out.push(ver.to_string());
                    }
                }
            }
        }
        // lockfileVersion 1: nested "dependencies".
        fn walk(deps: &serde_json::Value, name: &str, out: &mut Vec<String>) {
            let Some(map) = deps.as_object() else { return };
            for (k, p) in map {
                if k == name {
                    if let Some(ver) = p.get("version").and_then(|x| x.as_str()) {
                        out.push(ver.to_string());
                    }
                }
                if let Some(inner) = p.get("dependencies") {
                    walk(inner, name, out);
                }
            }
        }
        if v.get("packages").is_none() {
            if let Some(d) = v.get("dependencies") {
                walk(d, name, &mut out);
            }
        }
    } else if file.ends_with("yarn.lock") {
        // classic: `nan@^2.12.1, nan@^2.9.2:` then `  version "2.14.0"`;
        // berry: `"nan@npm:^2.12.1":` then `  version: 2.14.0`.
        let mut inside = false;
        for line in text.lines() {
            if !line.starts_with(' ') && !line.is_empty() {
                inside = line
                    .split(',')
                    .map(|k| k.trim().trim_matches('"'))
                    .any(|k| k.starts_with(&format!("{name}@")));
            } else if inside {
                let t = line.trim();
                if let Some(v) = t
                    .strip_prefix("version ")
                    .or_else(|| t.strip_prefix("version: "))
                {
                    out.push(v.trim().trim_matches('"').to_string());
                    inside = false;
                }
            }
        }
    } else if file.ends_with("pnpm-lock.yaml") {
        // `/nan@2.14.0:` (v6), `nan@2.14.0:` (v9), `/nan/2.14.0:` (v5).
        for line in text.lines() {
            let t = line.trim().trim_start_matches('/').trim_matches('\'');
            for sep in ['@', '/'] {
                if let Some(rest) = t.strip_prefix(&format!("{name}{sep}")) {
                    let v: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_digit() || *c == '.')
                        .collect();
                    if numbers(&v).is_some() {
                        out.push(v);
                    }
                }
            }
        }
    } else if file.ends_with("bun.lock") {
        let needle = format!("\"{name}@");
        for (i, _) in text.match_indices(&needle) {
            let v: String = text[i + needle.len()..]
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            if numbers(&v).is_some() {
                out.push(v);
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The manager's override field for a package (a `npm pkg set` key), or
/// the dependency itself when the package is a direct one (npm refuses an
/// override that contradicts a direct dependency).
fn override_key(mgr: &Manager, m: &Manifest, name: &str) -> String {
    if m.deps.contains_key(name) {
        return format!("dependencies.{name}");
    }
    if m.dev_deps.contains_key(name) {
        return format!("devDependencies.{name}");
    }
    match mgr.name {
        "yarn" => format!("resolutions.{name}"),
        "pnpm" => format!("pnpm.overrides.{name}"),
        _ => format!("overrides.{name}"),
    }
}

/// The install without the flag that refuses a lock file that changes.
fn unfrozen(mgr: &Manager) -> String {
    match mgr.name {
        "npm" => mgr.install.replacen("npm ci", "npm install", 1),
        "yarn" if mgr.berry => mgr.install.replacen("--immutable", "--no-immutable", 1),
        "pnpm" => mgr
            .install
            .replacen("--frozen-lockfile", "--no-frozen-lockfile", 1),
        _ => mgr.install.replacen(" --frozen-lockfile", "", 1),
    }
}

/// The install command for the package in `dir`: the manager's own, with
/// `npm pkg set` overrides first when its lock file pins a release of a
/// package in the table, and a finding per package. None when nothing needs
/// it (or the lock file belongs to a workspace root above `dir`, whose
/// package.json the install does not run in).
pub(super) fn install_command(
    ctx: &Ctx,
    dir: &str,
    m: &Manifest,
    mgr: &Manager,
    d: &mut Draft,
) -> Option<String> {
    let file = mgr.lockfile.as_deref()?;
    if crate::repo::join(dir, file.rsplit('/').next().unwrap_or(file)) != file {
        return None;
    }
    let text = ctx.read_path(file)?;
    let lock = Lock::new(file, &text);
    let mut sets = Vec::new();
    // The Node line the project pins (`.nvmrc`, `.node-version`, engines).
    let pinned_major = super::manifest::node_version(ctx, dir, m)
        .and_then(|(v, _)| super::manifest::major_of_range(&v))
        .and_then(|v| v.parse::<u32>().ok());
    for (name, fixed, from_node, why) in BROKEN {
        if pinned_major.is_some_and(|major| major < *from_node) {
            continue;
        }
        // How each lock format names the package (a substring test: the
        // lock of a large app is megabytes, and parsing it is not free).
        let named = [
            format!("node_modules/{name}\""),
            format!("\"{name}\": {{"),
            format!("\n{name}@"),
            format!("\"{name}@"),
            format!(", {name}@"),
            format!("/{name}@"),
            format!("/{name}/"),
            format!(" {name}@"),
        ]
        .iter()
        .any(|n| text.contains(n.as_str()));
        if !named {
            continue;
        }
        let old: Vec<String> = locked_versions(&lock, name)
            .into_iter()
            .filter(|v| numbers(v).is_some() && numbers(v) < numbers(fixed))
            .collect();
        if old.is_empty() {
            continue;
        }
        let key = override_key(mgr, m, name);
        d.finding(
            "locked_package_broken_on_current_node",
            Severity::Warning,
            Some(file),
            None,
            format!(
                "{file} locks {name} {}, which {why}; the install first sets `{key}` to ^{fixed} in package.json and installs without the frozen lock: commit that change and the updated lock file to remove this step",
                old.join(", ")
            ),
            None,
        );
        d.note(
            "install",
            ev(
                file,
                None,
                format!("locks {name} {}: set to ^{fixed} first", old.join(", ")),
            ),
        );
        sets.push(format!("{key}=^{fixed}"));
    }
    if sets.is_empty() {
        return None;
    }
    Some(format!(
        "npm pkg set {} && {}",
        sets.join(" "),
        unfrozen(mgr)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lock_format_yields_its_pinned_versions() {
        let yarn = "nan@^2.12.1, nan@^2.9.2:\n  version \"2.14.0\"\n  resolved \"x\"\n\nnanoid@^3:\n  version \"3.1.0\"\n";
        assert_eq!(
            locked_versions(&Lock::new("yarn.lock", yarn), "nan"),
            ["2.14.0"]
        );
        let berry = "\"nan@npm:^2.12.1\":\n  version: 2.14.0\n  resolution: \"nan@npm:2.14.0\"\n";
        assert_eq!(
            locked_versions(&Lock::new("yarn.lock", berry), "nan"),
            ["2.14.0"]
        );
        let npm3 = r#"{"lockfileVersion":3,"packages":{"":{},"node_modules/nan":{"version":"2.17.0"},"node_modules/x/node_modules/nan":{"version":"2.14.0"},"node_modules/nanoid":{"version":"1.0.0"}}}"#;
        assert_eq!(
            locked_versions(&Lock::new("package-lock.json", npm3), "nan"),
            ["2.14.0", "2.17.0"]
        );
        let npm1 = r#"{"lockfileVersion":1,"dependencies":{"sqlite3":{"version":"4.0.9","dependencies":{"nan":{"version":"2.12.1"}}}}}"#;
        assert_eq!(
            locked_versions(&Lock::new("package-lock.json", npm1), "nan"),
            ["2.12.1"]
        );
        let pnpm = "packages:\n  /nan@2.14.0:\n    resolution: {}\n  /nanoid@3.0.0:\n  nan@2.15.0:\n  /nan/2.13.2:\n";
        assert_eq!(
            locked_versions(&Lock::new("pnpm-lock.yaml", pnpm), "nan"),
            ["2.13.2", "2.14.0", "2.15.0"]
        );
        assert!(numbers("2.14.0") < numbers("2.17.0"));
        assert!(numbers("2.9.2") < numbers("2.17.0"));
    }
}
