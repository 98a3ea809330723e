//! Spring/Quarkus/Micronaut settings files (`application.properties`,
//! `application.yml`): flattened to dotted keys with their line numbers, plus
//! the `${NAME:default}` placeholders their values use.
//!
//! Not here: profile-specific files (`application-prod.yml`), config servers,
//! or anything that needs the running app to resolve. Profile documents inside
//! one YAML file (`spring.config.activate.on-profile`) are skipped; Quarkus
//! `%prod.` keys win over plain ones and other `%profile.` keys are skipped.

use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// One setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub value: String,
    pub line: u32,
}

/// Flattened settings of one file: dotted key → value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    pub file: String,
    pub values: BTreeMap<String, Setting>,
}

impl Settings {
    pub fn get(&self, key: &str) -> Option<&Setting> {
        self.values.get(key)
    }
}

/// Parse `application.properties` (`key=value`, `key: value`, `\` continuations).
pub fn parse_properties(file: &str, text: &str) -> Settings {
    let mut s = Settings {
        file: file.to_string(),
        ..Settings::default()
    };
    let mut prod: BTreeMap<String, Setting> = BTreeMap::new();
    let mut pending = String::new();
    let mut start = 0u32;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_start();
        if pending.is_empty() {
            start = i as u32 + 1;
            if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
                continue;
            }
        }
        if let Some(body) = line.strip_suffix('\\') {
            pending.push_str(body);
            continue;
        }
        pending.push_str(line);
        let entry = std::mem::take(&mut pending);
        let Some(at) = entry.find(['=', ':']) else {
            continue;
        };
        let key = entry[..at].trim();
        let value = entry[at + 1..].trim().to_string();
        if key.is_empty() {
            continue;
        }
        add(&mut s.values, &mut prod, key, value, start);
    }
    s.values.extend(prod);
    s
}

/// Quarkus profiles: `%prod.k` overrides `k`; other profiles are not production.
fn add(
    values: &mut BTreeMap<String, Setting>,
    prod: &mut BTreeMap<String, Setting>,
    key: &str,
    value: String,
    line: u32,
) {
    if let Some(rest) = key.strip_prefix("%prod.") {
        prod.insert(rest.to_string(), Setting { value, line });
    } else if !key.starts_with('%') {
        values
            .entry(key.to_string())
            .or_insert(Setting { value, line });
    }
}

/// Parse `application.yml` with an indentation-based reader (no anchors,
/// no flow mappings); documents that activate a profile are skipped.
pub fn parse_yaml(file: &str, text: &str) -> Settings {
    let mut s = Settings {
        file: file.to_string(),
        ..Settings::default()
    };
    let mut prod: BTreeMap<String, Setting> = BTreeMap::new();
    let mut doc: Vec<(String, Setting)> = Vec::new();
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut block_scalar: Option<usize> = None;
    let flush = |doc: &mut Vec<(String, Setting)>,
                 values: &mut BTreeMap<String, Setting>,
                 prod: &mut BTreeMap<String, Setting>| {
        let profiled = doc.iter().any(|(k, _)| {
            k == "spring.config.activate.on-profile"
                || k == "spring.profiles"
                || k.starts_with("spring.config.activate.on-profile")
        });
        for (k, v) in doc.drain(..) {
            if !profiled {
                add(values, prod, &k, v.value, v.line);
            }
        }
    };
    for (i, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if trimmed == "---" || trimmed.starts_with("--- ") {
            flush(&mut doc, &mut s.values, &mut prod);
            stack.clear();
            block_scalar = None;
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = raw.len() - raw.trim_start().len();
        if let Some(bi) = block_scalar {
            if indent > bi {
                continue;
            }
            block_scalar = None;
        }
        if trimmed.starts_with("- ") || trimmed == "-" {
            continue;
        }
        let Some((key, value)) = split_yaml_entry(trimmed) else {
            continue;
        };
        while stack.last().is_some_and(|(ind, _)| *ind >= indent) {
            stack.pop();
        }
        let mut full: Vec<&str> = stack.iter().map(|(_, k)| k.as_str()).collect();
        full.push(&key);
        let full = full.join(".");
        if value.is_empty() {
            stack.push((indent, key.clone()));
            continue;
        }
        if value == "|" || value == ">" || value.starts_with("|-") || value.starts_with(">-") {
            block_scalar = Some(indent);
            continue;
        }
        doc.push((
            full,
            Setting {
                value,
                line: i as u32 + 1,
            },
        ));
    }
    flush(&mut doc, &mut s.values, &mut prod);
    s.values.extend(prod);
    s
}

/// `key: value # comment` → (key, value) with quotes removed.
fn split_yaml_entry(line: &str) -> Option<(String, String)> {
    let (key, rest) = if let Some(q) = line.strip_prefix('"').or_else(|| line.strip_prefix('\'')) {
        let quote = line.as_bytes()[0] as char;
        let end = q.find(quote)?;
        let after = q[end + 1..].trim_start().strip_prefix(':')?;
        (q[..end].to_string(), after)
    } else {
        let at = line
            .find(": ")
            .or_else(|| line.strip_suffix(':').map(|l| l.len()))?;
        (
            line[..at].trim().to_string(),
            line.get(at + 1..).unwrap_or(""),
        )
    };
    let mut value = rest.trim();
    if let Some(v) = value
        .strip_prefix('"')
        .and_then(|v| v.rfind('"').map(|e| &v[..e]))
    {
        return Some((key, v.to_string()));
    }
    if let Some(v) = value
        .strip_prefix('\'')
        .and_then(|v| v.rfind('\'').map(|e| &v[..e]))
    {
        return Some((key, v.to_string()));
    }
    if let Some(c) = value.find(" #") {
        value = value[..c].trim_end();
    }
    Some((key, value.to_string()))
}

/// A `${NAME}` / `${NAME:default}` placeholder in a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    pub name: String,
    pub default: Option<String>,
}

static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    // Defaults may hold one nested placeholder: ${A:${B:x}}.
    crate::scan::try_regex(r"\$\{([^}:\s$]+)(?::((?:[^{}$]|\$\{[^}]*\})*))?\}").expect("regex")
});

/// Placeholders of a value, nested ones included.
pub fn placeholders(value: &str) -> Vec<Placeholder> {
    let mut out = Vec::new();
    for c in PLACEHOLDER.captures_iter(value) {
        let default = c.get(2).map(|d| d.as_str().to_string());
        if let Some(d) = &default {
            out.extend(placeholders(d));
        }
        out.push(Placeholder {
            name: c[1].to_string(),
            default,
        });
    }
    out
}

/// The value with every placeholder replaced by its default (or nothing).
pub fn resolve_defaults(value: &str) -> String {
    let mut v = value.to_string();
    for _ in 0..3 {
        let next = PLACEHOLDER
            .replace_all(&v, |c: &regex::Captures| {
                c.get(2).map(|d| d.as_str().to_string()).unwrap_or_default()
            })
            .into_owned();
        if next == v {
            break;
        }
        v = next;
    }
    v
}

/// Names that look like environment variables (`DB_HOST`), not properties (`orders.page-size`).
pub fn is_env_style(name: &str) -> bool {
    let mut c = name.chars();
    matches!(c.next(), Some(f) if f.is_ascii_uppercase() || f == '_')
        && name
            .chars()
            .all(|x| x.is_ascii_uppercase() || x.is_ascii_digit() || x == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_with_profiles_and_continuations() {
        let s = parse_properties(
            "a.properties",
            "# c\nserver.port=${PORT:8080}\n%dev.quarkus.http.port=8090\n%prod.quarkus.http.port=9000\nquarkus.http.port=8085\nlong.value=a\\\n  b\nspring.datasource.url: jdbc:postgresql://h/db\n",
        );
        assert_eq!(s.get("server.port").unwrap().line, 2);
        assert_eq!(s.get("quarkus.http.port").unwrap().value, "9000");
        assert_eq!(s.get("long.value").unwrap().value, "ab");
        assert_eq!(s.get("spring.datasource.url").unwrap().line, 8);
        assert!(!s.values.contains_key("%dev.quarkus.http.port"));
    }

    #[test]
    fn yaml_nesting_documents_and_quotes() {
        let s = parse_yaml(
            "a.yml",
            "spring:\n  application:\n    name: x\n  datasource:\n    url: \"jdbc:mysql://db:3306/x\" # c\nserver:\n  port: ${PORT:8080}\n  address: 127.0.0.1\nlist:\n  - a\n  - b\ntext: |\n  key: no\n---\nspring:\n  config:\n    activate:\n      on-profile: local\nserver:\n  port: 9090\n",
        );
        assert_eq!(s.get("server.port").unwrap().value, "${PORT:8080}");
        assert_eq!(s.get("server.port").unwrap().line, 7);
        assert_eq!(
            s.get("spring.datasource.url").unwrap().value,
            "jdbc:mysql://db:3306/x"
        );
        assert_eq!(s.get("server.address").unwrap().line, 8);
        assert!(!s.values.contains_key("text.key"));
    }

    #[test]
    fn placeholder_parsing() {
        let p = placeholders("jdbc:postgresql://${DB_HOST:localhost}:5432/${DB_NAME}");
        assert_eq!(p[0].name, "DB_HOST");
        assert_eq!(p[0].default.as_deref(), Some("localhost"));
        assert_eq!(p[1].default, None);
        let p = placeholders("${JDBC_URL:jdbc:mysql://localhost:3306/x}");
        assert_eq!(
            p[0].default.as_deref(),
            Some("jdbc:mysql://localhost:3306/x")
        );
        let p = placeholders("${A:${B:7}}");
        assert_eq!(p.len(), 2);
        assert_eq!(resolve_defaults("${A:${B:7}}"), "7");
        assert_eq!(resolve_defaults("${PORT:8080}"), "8080");
        assert!(is_env_style("DB_HOST") && !is_env_style("orders.page-size"));
    }
}
