//! `composer.json`: the packages a PHP project requires for production
//! (`require`, never `require-dev`), the PHP version it asks for, its
//! `type`, and a built-in-server command in its scripts (`php -S
//! localhost:8080 -t public`) for the port and document root it names.
//!
//! Deliberately not here: what a package means (frameworks, databases) —
//! the tables in `mod.rs` say that.

use crate::scan::find_line;
use regex::Regex;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::LazyLock;

#[derive(Debug, Default)]
pub struct Composer {
    /// Production requirements (lowercase name → (constraint, line)).
    pub require: BTreeMap<String, (String, u32)>,
    /// `type` (`project`, `library`, `symfony-bundle`…), when given.
    pub kind: Option<String>,
    /// `name` (`vendor/package`).
    pub name: Option<String>,
    /// (PHP version, line) from `require.php`, else `config.platform.php`.
    pub php: Option<(String, u32)>,
    /// A `php -S host:port -t dir` script: (port, docroot, line, command).
    pub serve_script: Option<(Option<u16>, Option<String>, u32, String)>,
    /// The file did not parse.
    pub invalid: bool,
}

static VERSION: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"(\d+)(?:\.(\d+))?").expect("regex"));
static BUILTIN: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r"\bphp\s+(?:-\w+\s+)*-S\s+([^\s:]+):(\d{2,5})(?:\s+-t\s+([^\s;&|]+))?")
        .expect("regex")
});

/// `^8.2` → `8.2`, `>=8.1 <9` → `8.1`, `~7.4.0|^8.0` → `7.4`, `8.*` → `8`.
pub fn php_version(spec: &str) -> Option<String> {
    let c = VERSION.captures(spec)?;
    Some(match c.get(2) {
        Some(minor) => format!("{}.{}", &c[1], minor.as_str()),
        None => c[1].to_string(),
    })
}

pub fn parse(text: &str) -> Composer {
    let mut c = Composer::default();
    let Ok(doc) = serde_json::from_str::<Value>(text) else {
        c.invalid = true;
        return c;
    };
    let line_of = |needle: &str| find_line(text, &format!("\"{needle}\"")).unwrap_or(1);
    if let Some(req) = doc.get("require").and_then(Value::as_object) {
        for (name, v) in req {
            let constraint = v.as_str().unwrap_or("").to_string();
            c.require
                .insert(name.to_ascii_lowercase(), (constraint, line_of(name)));
        }
    }
    c.kind = doc.get("type").and_then(Value::as_str).map(str::to_string);
    c.name = doc.get("name").and_then(Value::as_str).map(str::to_string);
    c.php = c
        .require
        .get("php")
        .and_then(|(spec, line)| php_version(spec).map(|v| (v, *line)))
        .or_else(|| {
            doc.pointer("/config/platform/php")
                .and_then(Value::as_str)
                .and_then(php_version)
                .map(|v| (v, line_of("platform")))
        });
    if let Some(scripts) = doc.get("scripts").and_then(Value::as_object) {
        let commands = scripts.values().flat_map(|v| match v {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        });
        for cmd in commands {
            if let Some(m) = BUILTIN.captures(cmd) {
                let docroot = m.get(3).map(|d| {
                    d.as_str()
                        .trim_matches(['"', '\''])
                        .trim_start_matches("./")
                        .trim_end_matches('/')
                        .to_string()
                });
                let line = find_line(text, "-S ").unwrap_or(1);
                c.serve_script = Some((m[2].parse().ok(), docroot, line, cmd.to_string()));
                break;
            }
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(php_version("^8.2").as_deref(), Some("8.2"));
        assert_eq!(php_version(">=8.1 <9.0").as_deref(), Some("8.1"));
        assert_eq!(php_version("~7.4.0|^8.0").as_deref(), Some("7.4"));
        assert_eq!(php_version("8.*").as_deref(), Some("8"));
        assert_eq!(php_version("*"), None);
    }

    #[test]
    fn require_dev_is_not_required_and_scripts_name_the_docroot() {
        let c = parse(
            r#"{
  "type": "project",
  "require": {"php": "^8.1", "Slim/Slim": "^4.12", "ext-pdo_pgsql": "*"},
  "require-dev": {"predis/predis": "^2"},
  "config": {"platform": {"php": "8.1.20"}},
  "scripts": {"start": "php -S localhost:8080 -t public/", "test": ["phpunit"]}
}"#,
        );
        assert!(c.require.contains_key("slim/slim"));
        assert!(!c.require.contains_key("predis/predis"));
        assert_eq!(c.php.as_ref().map(|p| p.0.as_str()), Some("8.1"));
        assert_eq!(c.require["ext-pdo_pgsql"].1, 3);
        let (port, docroot, line, _) = c.serve_script.unwrap();
        assert_eq!(
            (port, docroot.as_deref(), line),
            (Some(8080), Some("public"), 6)
        );
        assert_eq!(c.kind.as_deref(), Some("project"));
    }

    #[test]
    fn platform_fallback_and_garbage() {
        let c = parse(r#"{"config": {"platform": {"php": "8.3.1"}}}"#);
        assert_eq!(c.php.map(|p| p.0).as_deref(), Some("8.3"));
        assert!(parse("{not json").invalid);
        assert!(parse(r#"{"require": ["x"]}"#).require.is_empty());
    }
}
