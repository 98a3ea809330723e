//! Gradle build scripts (Groovy `build.gradle` and Kotlin `build.gradle.kts`)
//! read with patterns: applied plugins, dependencies per configuration, the
//! project version, archive names, the Java toolchain; `settings.gradle(.kts)`
//! for the project name and included subprojects; `gradle/libs.versions.toml`
//! for version-catalog aliases (`libs.spring.boot.starter.web`).
//!
//! Not here: evaluating Groovy/Kotlin, convention plugins in `buildSrc`,
//! `subprojects {}` blocks beyond the version they set.

use crate::scan::each_match;
use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dep {
    pub config: String,
    pub group: String,
    pub artifact: String,
    pub line: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Script {
    /// Applied plugin ids (`apply false` excluded) with their line.
    pub plugins: Vec<(String, u32)>,
    /// Dependencies outside test/development-only configurations.
    pub deps: Vec<Dep>,
    /// `version = "…"` when written as a literal; `Some(None)` when set to an expression.
    pub version: Option<Option<String>>,
    /// `archiveFileName = "app.jar"`.
    pub archive_file_name: Option<String>,
    pub archive_base_name: Option<String>,
    pub java_version: Option<(String, u32)>,
    /// Sets `version` inside `allprojects {}`/`subprojects {}`.
    pub shared_version: Option<String>,
}

/// A version catalog: accessor (`spring.boot.starter.web`) → `group:artifact`;
/// plugin accessor → plugin id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    pub libraries: BTreeMap<String, (String, String)>,
    pub plugins: BTreeMap<String, String>,
}

static PLUGIN_ID: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"\bid\s*\(?\s*["']([\w.\-]+)["']\s*\)?([^\n;}]*)"#).expect("regex")
});
static PLUGIN_KOTLIN: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"(?m)(?:^|[{;])[ \t]*kotlin\s*\(\s*"([\w.\-]+)"\s*\)([^\n;}]*)"#)
        .expect("regex")
});
static PLUGIN_ALIAS: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"\balias\s*\(\s*libs\.plugins\.([\w.]+)\s*\)([^\n;}]*)"#)
        .expect("regex")
});
static APPLY_PLUGIN: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"\bapply\s*\(?\s*plugin\s*[:=]\s*["']([\w.\-]+)["']"#).expect("regex")
});
static BARE_PLUGIN: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r"(?m)^\s*(application|war|java|`java-library`|java-library)\s*$")
        .expect("regex")
});
static DEP: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"(?m)^\s*(\w+)\s*\(?\s*(?:platform\s*\(|enforcedPlatform\s*\()?\s*["']([\w.\-]+):([\w.\-]+)(?::[^"']*)?["']"#)
        .expect("regex")
});
static DEP_CATALOG: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r"(?m)^\s*(\w+)\s*\(?\s*(?:platform\s*\()?\s*libs\.([\w.]+)")
        .expect("regex")
});
static VERSION: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r#"(?m)^([ \t]*)version\b[ \t]*(?:=[ \t]*)?(["'][^"'\n]*["']|[^\s"'{=][^\n]*)[ \t]*$"#,
    )
    .expect("regex")
});
static ARCHIVE_FILE_NAME: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"\barchiveFileName\s*(?:=|\.set\s*\()\s*["']([^"'$]+)["']"#)
        .expect("regex")
});
static ARCHIVE_BASE_NAME: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"\barchiveBaseName\s*(?:=|\.set\s*\()\s*["']([^"'$]+)["']"#)
        .expect("regex")
});
static JAVA_VERSION: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"JavaLanguageVersion\.of\s*\(\s*["']?(\d+)|\bjvmToolchain\s*\(\s*(\d+)|\b(?:sourceCompatibility|targetCompatibility)\s*=\s*(?:JavaVersion\.VERSION_)?["']?(\d+(?:[._]\d+)?)"#)
        .expect("regex")
});
static ROOT_NAME: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"\brootProject\.name\s*=\s*["']([^"']+)["']"#).expect("regex")
});
static INCLUDE: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r#"(?m)^\s*include\s*\(?([^\n]*)"#).expect("regex"));
static QUOTED: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r#"["']([^"']+)["']"#).expect("regex"));

/// Configurations that never reach the production artifact.
fn is_non_runtime(config: &str) -> bool {
    let c = config.to_ascii_lowercase();
    c.starts_with("test")
        || c.starts_with("androidtest")
        || c.starts_with("integrationtest")
        || c == "developmentonly"
        || c == "testfixturesimplementation"
        || c == "kapt"
        || c == "annotationprocessor"
        || c == "classpath"
        || c == "detekt"
}

/// Parse a build script. Comments are ignored line-wise.
pub fn parse(text: &str, catalog: Option<&Catalog>) -> Script {
    let clean: String = text
        .lines()
        .map(|l| {
            let t = l.trim_start();
            if t.starts_with("//") || t.starts_with('*') || t.starts_with("/*") {
                ""
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let text = clean.as_str();
    let mut s = Script::default();
    let applied = |rest: &str| !rest.contains("apply false") && !rest.contains("apply(false)");
    each_match(text, &PLUGIN_ID, |line, c| {
        if applied(&c[2]) {
            s.plugins.push((c[1].to_string(), line));
        }
    });
    each_match(text, &PLUGIN_KOTLIN, |line, c| {
        if applied(&c[2]) {
            s.plugins
                .push((format!("org.jetbrains.kotlin.{}", &c[1]), line));
        }
    });
    each_match(text, &PLUGIN_ALIAS, |line, c| {
        if applied(&c[2]) {
            if let Some(id) = catalog.and_then(|cat| cat.plugins.get(&c[1].to_ascii_lowercase())) {
                s.plugins.push((id.clone(), line));
            }
        }
    });
    each_match(text, &APPLY_PLUGIN, |line, c| {
        s.plugins.push((c[1].to_string(), line));
    });
    each_match(text, &BARE_PLUGIN, |line, c| {
        s.plugins.push((c[1].trim_matches('`').to_string(), line));
    });
    each_match(text, &DEP, |line, c| {
        if c[1].eq_ignore_ascii_case("id") || is_non_runtime(&c[1]) {
            return;
        }
        s.deps.push(Dep {
            config: c[1].to_string(),
            group: c[2].to_string(),
            artifact: c[3].to_string(),
            line,
        });
    });
    if let Some(cat) = catalog {
        each_match(text, &DEP_CATALOG, |line, c| {
            if is_non_runtime(&c[1]) {
                return;
            }
            let alias = c[2].to_ascii_lowercase();
            if let Some((g, a)) = cat.libraries.get(&alias) {
                s.deps.push(Dep {
                    config: c[1].to_string(),
                    group: g.clone(),
                    artifact: a.clone(),
                    line,
                });
            }
        });
    }
    for c in VERSION.captures_iter(text) {
        let value = c[2].trim();
        let literal = value
            .strip_prefix(['"', '\''])
            .and_then(|v| v.strip_suffix(['"', '\'']))
            .map(str::to_string);
        if c[1].is_empty() {
            s.version = Some(literal);
        } else if s.shared_version.is_none()
            && (text.contains("allprojects") || text.contains("subprojects"))
        {
            s.shared_version = literal;
        }
    }
    s.archive_file_name = ARCHIVE_FILE_NAME.captures(text).map(|c| c[1].to_string());
    s.archive_base_name = ARCHIVE_BASE_NAME.captures(text).map(|c| c[1].to_string());
    s.java_version = crate::scan::first_match(text, &JAVA_VERSION).map(|(line, c)| {
        let v = c
            .get(1)
            .or(c.get(2))
            .or(c.get(3))
            .map(|m| m.as_str())
            .unwrap_or("")
            .replace('_', ".");
        let v = v
            .strip_prefix("1.")
            .filter(|r| !r.is_empty())
            .unwrap_or(&v)
            .to_string();
        (v, line)
    });
    s
}

impl Script {
    pub fn has_plugin(&self, id: &str) -> Option<u32> {
        self.plugins.iter().find(|(p, _)| p == id).map(|(_, l)| *l)
    }
}

/// settings.gradle(.kts): `rootProject.name` and included project paths (`:api` → `api`).
pub fn parse_settings(text: &str) -> (Option<String>, Vec<String>) {
    let name = ROOT_NAME.captures(text).map(|c| c[1].to_string());
    let mut includes = Vec::new();
    for c in INCLUDE.captures_iter(text) {
        for q in QUOTED.captures_iter(&c[1]) {
            let p = q[1].trim_start_matches(':').replace(':', "/");
            if !p.is_empty() {
                includes.push(p);
            }
        }
    }
    (name, includes)
}

/// `gradle.properties`: `version=…`.
pub fn properties_version(text: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        (k.trim() == "version").then(|| v.trim().to_string())
    })
}

/// `gradle/libs.versions.toml`.
pub fn parse_catalog(text: &str) -> Catalog {
    let mut cat = Catalog::default();
    let Ok(doc) = text.parse::<toml::Table>() else {
        return cat;
    };
    let accessor = |alias: &str| alias.to_ascii_lowercase().replace(['-', '_'], ".");
    if let Some(libs) = doc.get("libraries").and_then(|v| v.as_table()) {
        for (alias, v) in libs {
            let coords = match v {
                toml::Value::String(s) => {
                    let mut p = s.split(':');
                    p.next()
                        .zip(p.next())
                        .map(|(g, a)| (g.to_string(), a.to_string()))
                }
                toml::Value::Table(t) => {
                    if let Some(m) = t.get("module").and_then(|m| m.as_str()) {
                        m.split_once(':')
                            .map(|(g, a)| (g.to_string(), a.to_string()))
                    } else {
                        t.get("group")
                            .and_then(|g| g.as_str())
                            .zip(t.get("name").and_then(|n| n.as_str()))
                            .map(|(g, a)| (g.to_string(), a.to_string()))
                    }
                }
                _ => None,
            };
            if let Some(c) = coords {
                cat.libraries.insert(accessor(alias), c);
            }
        }
    }
    if let Some(plugins) = doc.get("plugins").and_then(|v| v.as_table()) {
        for (alias, v) in plugins {
            let id = match v {
                toml::Value::String(s) => s.split(':').next().map(str::to_string),
                toml::Value::Table(t) => t.get("id").and_then(|i| i.as_str()).map(str::to_string),
                _ => None,
            };
            if let Some(id) = id {
                cat.plugins.insert(accessor(alias), id);
            }
        }
    }
    cat
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kotlin_dsl_script() {
        let s = parse(
            "plugins {\n    id(\"org.springframework.boot\") version \"3.3.0\"\n    id(\"io.spring.dependency-management\") version \"1.1.5\" apply false\n    kotlin(\"jvm\") version \"1.9.24\"\n}\nversion = \"1.2.0\"\njava { toolchain { languageVersion = JavaLanguageVersion.of(21) } }\ndependencies {\n    implementation(\"org.springframework.boot:spring-boot-starter-web\")\n    runtimeOnly(\"org.postgresql:postgresql:42.7.3\")\n    testImplementation(\"org.testcontainers:mysql\")\n    // implementation(\"com.mysql:mysql-connector-j\")\n}\ntasks.bootJar { archiveFileName.set(\"app.jar\") }\n",
            None,
        );
        let ids: Vec<&str> = s.plugins.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            ids,
            vec!["org.springframework.boot", "org.jetbrains.kotlin.jvm"]
        );
        let arts: Vec<&str> = s.deps.iter().map(|d| d.artifact.as_str()).collect();
        assert_eq!(arts, vec!["spring-boot-starter-web", "postgresql"]);
        assert_eq!(s.version, Some(Some("1.2.0".into())));
        assert_eq!(s.java_version, Some(("21".into(), 7)));
        assert_eq!(s.archive_file_name.as_deref(), Some("app.jar"));
    }

    #[test]
    fn groovy_script_and_catalog() {
        let cat = parse_catalog("[libraries]\nspring-boot-starter-web = { module = \"org.springframework.boot:spring-boot-starter-web\" }\npg = \"org.postgresql:postgresql:42.7.3\"\n[plugins]\nspring-boot = { id = \"org.springframework.boot\", version = \"3.2.0\" }\n");
        let s = parse(
            "plugins {\n  id 'java'\n  alias(libs.plugins.spring.boot)\n}\napply plugin: 'application'\nversion = project.findProperty('v')\nsourceCompatibility = '1.8'\ndependencies {\n  implementation libs.spring.boot.starter.web\n  runtimeOnly libs.pg\n  implementation 'com.google.guava:guava:33.0.0-jre'\n}\n",
            Some(&cat),
        );
        assert!(s.has_plugin("org.springframework.boot").is_some());
        assert!(s.has_plugin("application").is_some());
        assert_eq!(s.version, Some(None));
        assert_eq!(s.java_version.as_ref().map(|v| v.0.as_str()), Some("8"));
        let arts: Vec<&str> = s.deps.iter().map(|d| d.artifact.as_str()).collect();
        assert!(arts.contains(&"spring-boot-starter-web") && arts.contains(&"postgresql"));
    }

    #[test]
    fn settings() {
        let (n, inc) = parse_settings(
            "rootProject.name = 'shop'\ninclude 'api', ':libs:common'\ninclude(\"web\")\n",
        );
        assert_eq!(n.as_deref(), Some("shop"));
        assert_eq!(inc, vec!["api", "libs/common", "web"]);
        assert_eq!(
            properties_version("group=x\nversion=2.0.1\n").as_deref(),
            Some("2.0.1")
        );
    }
}
