//! The language runtime of each service: family, version and pinned base images.
//!
//! The version comes from the analysis when the project states one (and it is
//! a plain dotted number), else a current LTS default; images are pinned to
//! that version, never `latest`. Render turns these into Dockerfiles and
//! cloud-init; this module writes neither.

use crate::notes::Notes;
use autodeploy_core::version::{Dialect, Requirement, Version};
use autodeploy_core::{Language, Origin, RuntimePlan, Service, ServiceKind};

/// Runtime family of a language.
pub fn family(language: Language) -> &'static str {
    match language {
        Language::Python => "python",
        Language::Javascript | Language::Typescript => "node",
        Language::Go => "go",
        Language::Ruby => "ruby",
        Language::Php => "php",
        Language::Java | Language::Kotlin => "jvm",
        Language::Rust => "rust",
        Language::Csharp => "dotnet",
        Language::Elixir => "elixir",
        Language::Html => "static",
        Language::Unknown => "docker",
    }
}

/// Default runtime version of a family (current LTS / stable line).
pub fn default_version(family: &str) -> &'static str {
    match family {
        "python" => "3.12",
        // 22: maintenance LTS until 2027-04 (20 ended 2026-04).
        "node" => "22",
        // Go supports its two newest lines; 1.22 ended 2025-02.
        "go" => "1.26",
        "ruby" => "3.3",
        "php" => "8.3",
        "jvm" => "21",
        // The newest stable this project has built with (rustypaste's
        // Cargo.lock pins edition-2024 crates, which need 1.85 or later).
        "rust" => "1.95",
        "dotnet" => "8.0",
        "elixir" => "1.16",
        _ => "-",
    }
}

/// Release lines with published images, oldest first, for families whose
/// projects state ranges (`requires-python = ">=3.9"`, `engines.node`).
/// Lines past their end of life stay (their images are still published):
/// a project capped below the supported ones (`<3.7`: Django 1.10) runs
/// only there, and [`END_OF_LIFE`] says so.
fn known_lines(family: &str) -> &'static [(u32, u32)] {
    match family {
        "python" => &[
            (3, 6),
            (3, 7),
            (3, 8),
            (3, 9),
            (3, 10),
            (3, 11),
            (3, 12),
            (3, 13),
            (3, 14),
        ],
        "node" => &[(14, 0), (16, 0), (18, 0), (20, 0), (22, 0), (24, 0)],
        _ => &[],
    }
}

/// The newest line of each family past its upstream end of life (Python
/// 3.9: 2025-10; Node 20: 2026-04): a plan on it or older gets a warning.
const END_OF_LIFE: &[(&str, (u32, u32))] = &[("python", (3, 9)), ("node", (20, 0))];

/// True when `version` (`3.6`, `16`) is a line past its end of life.
fn end_of_life(family: &str, version: &str) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    let (Some(Some(major)), minor) = (parts.next(), parts.next().flatten()) else {
        return false;
    };
    END_OF_LIFE
        .iter()
        .any(|(f, line)| *f == family && (major, minor.unwrap_or(0)) <= *line)
}

/// The version for a requirement that is a range, not a plain number: the
/// default line when it fits (`>=3.9` → 3.12), else the newest known line
/// that fits (`<3.12` → 3.11), else the lowest version it allows (`>=3.15`).
/// `None` when the requirement cannot be read.
pub fn version_for_range(family: &str, raw: &str) -> Option<String> {
    let dialect = Dialect::of_family(family)?;
    let req = Requirement::parse(dialect, raw).ok()?;
    let lines: Vec<Version> = known_lines(family)
        .iter()
        .map(|(a, b)| Version::new(*a, *b, 0))
        .collect();
    let default = Version::parse(default_version(family));
    let line = req
        .pick_line(&lines, default)
        .or_else(|| req.lowest().map(|v| dialect.line(v)))?;
    Some(dialect.line_name(line))
}

/// A version string safe to put in an image tag: `3`, `3.12`, `3.12.4`.
pub fn clean_version(v: &str) -> Option<&str> {
    let v = v.trim().trim_start_matches('v');
    let parts: Vec<&str> = v.split('.').collect();
    let ok = !v.is_empty()
        && parts.len() <= 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()));
    ok.then_some(v)
}

/// The image tag of a release line for a version that names a patch
/// (`3.6.0` → `3.6`, node `14.0.0` → `14`): a patch tag is built on the
/// Debian of its day, and an old one's (`python:3.6.0-slim`: jessie) can no
/// longer `apt-get update`; the line's tag is its newest patch, on the
/// newest Debian it was built for. Patches of a line are compatible.
fn line_tag(family: &str, version: &str) -> String {
    let keep = match family {
        "python" | "ruby" => 2,
        "node" => 1,
        _ => return version.to_string(),
    };
    version.split('.').take(keep).collect::<Vec<_>>().join(".")
}

fn images(family: &str, version: &str, service: &Service) -> (Option<String>, Option<String>) {
    let version = &line_tag(family, version);
    let pm = service.package_manager.as_deref().unwrap_or("");
    let fw = service.framework.as_deref().unwrap_or("");
    let worker = service.kind == ServiceKind::Worker;
    match family {
        "python" => (
            Some(format!("python:{version}-slim")),
            Some(format!("python:{version}-slim")),
        ),
        // The build stage is the full image: it has python3, make and g++,
        // which node-gyp needs for a native addon without a prebuilt binary
        // for this Node (sqlite3, bcrypt on a newer Node than the lockfile's
        // pin knew); the run stage stays slim.
        "node" => (
            Some(format!("node:{version}")),
            Some(format!("node:{version}-slim")),
        ),
        "go" => (
            Some(format!("golang:{version}-bookworm")),
            Some("debian:bookworm-slim".to_string()),
        ),
        "ruby" => (
            Some(format!("ruby:{version}-slim")),
            Some(format!("ruby:{version}-slim")),
        ),
        "php" => (
            Some("composer:2".to_string()),
            Some(format!("php:{version}-apache")),
        ),
        "jvm" => {
            let build = if pm.contains("gradle") {
                format!("gradle:8-jdk{version}")
            } else {
                format!("maven:3.9-eclipse-temurin-{version}")
            };
            (Some(build), Some(format!("eclipse-temurin:{version}-jre")))
        }
        "rust" => (
            Some(format!("rust:{version}-slim-bookworm")),
            Some("debian:bookworm-slim".to_string()),
        ),
        "dotnet" => (
            Some(format!("mcr.microsoft.com/dotnet/sdk:{version}")),
            Some(if worker {
                format!("mcr.microsoft.com/dotnet/runtime:{version}")
            } else {
                format!("mcr.microsoft.com/dotnet/aspnet:{version}")
            }),
        ),
        "elixir" => (
            Some(format!("elixir:{version}-slim")),
            Some("debian:bookworm-slim".to_string()),
        ),
        "static" => {
            let build = match fw {
                "mkdocs" => Some("python:3.12-slim".to_string()),
                "jekyll" => Some("ruby:3.3-slim".to_string()),
                _ => None,
            };
            (build, None)
        }
        _ => (None, None),
    }
}

/// The runtime plan of one service. `served_by_container`: a static site served
/// from a container (nginx) rather than static hosting.
/// The image's exact version (`Service::image_runtime_version`), as an
/// image tag takes it.
fn image_line(service: &Service) -> Option<String> {
    service
        .image_runtime_version
        .as_deref()
        .and_then(clean_version)
        .map(str::to_string)
}

/// Python: the line its lock file installs on without building anything
/// from source (`Service::wheel_lines`), within the project's requirement —
/// the default line when it is one, else the newest.
fn wheel_line(service: &Service, fam: &str) -> Option<String> {
    if fam != "python" || service.wheel_lines.is_empty() {
        return None;
    }
    let dialect = Dialect::of_family(fam)?;
    let raw = service.runtime_version.as_deref().unwrap_or(">=3");
    let req = Requirement::parse(dialect, raw).ok()?;
    let lines: Vec<Version> = known_lines(fam)
        .iter()
        .map(|(a, b)| Version::new(*a, *b, 0))
        .filter(|v| service.wheel_lines.contains(&dialect.line_name(*v)))
        .collect();
    req.pick_line(&lines, Version::parse(default_version(fam)))
        .map(|l| dialect.line_name(l))
}

pub(crate) fn plan(service: &Service, served_by_container: bool, notes: &mut Notes) -> RuntimePlan {
    // A JS/TS static build (Vite, CRA, Angular…) is built with Node.
    let fam = if service.kind == ServiceKind::Static
        && matches!(
            service.language,
            Language::Javascript | Language::Typescript
        ) {
        "node"
    } else {
        family(service.language)
    };
    let lock_line = wheel_line(service, fam);
    let (version, origin) = match service
        .runtime_version
        .as_deref()
        .map(|v| (v, clean_version(v)))
    {
        Some((_, Some(v))) if fam != "static" && fam != "docker" => {
            (v.to_string(), Origin::Analysis)
        }
        // The line the project's own image runs, within its range.
        Some((_, None)) if image_line(service).is_some() => {
            (image_line(service).unwrap_or_default(), Origin::Analysis)
        }
        // The line the lock file has every wheel for, within its range.
        Some((_, None)) | None if lock_line.is_some() => {
            (lock_line.clone().unwrap_or_default(), Origin::Analysis)
        }
        Some((raw, None)) if version_for_range(fam, raw).is_some() => (
            version_for_range(fam, raw).unwrap_or_default(),
            Origin::Analysis,
        ),
        Some((raw, None)) if fam != "static" && fam != "docker" => {
            notes.warn(
                "runtime_version_unusable",
                Some(&service.name),
                format!(
                    "the project asks for {fam} version {raw:?}, which is not a plain version number; {fam} {} is used instead",
                    default_version(fam)
                ),
            );
            (default_version(fam).to_string(), Origin::Default)
        }
        _ => (default_version(fam).to_string(), Origin::Default),
    };
    // Before Go 1.21 the `go` line of go.mod is the module's language
    // version, not a toolchain: the Go 1 compatibility promise builds it
    // with today's, and images of such old lines on today's Debian do not
    // exist (`golang:1.15-bookworm`).
    let go_language_version = fam == "go" && origin == Origin::Analysis && {
        let mut p = version.split('.').map(|x| x.parse::<u32>().unwrap_or(0));
        (p.next().unwrap_or(0), p.next().unwrap_or(0)) < (1, 21)
    };
    let version = if go_language_version {
        default_version(fam).to_string()
    } else {
        version
    };
    if end_of_life(fam, &version) {
        notes.warn(
            "runtime_end_of_life",
            Some(&service.name),
            format!(
                "`{}` runs on {fam} {version}, past its end of life (no security fixes): the project's dependencies need it ({}); upgrading them is the lasting fix",
                service.name,
                service.runtime_version.as_deref().unwrap_or(&version)
            ),
        );
    }
    let (build_image, mut run_image) = images(fam, &version, service);
    if service.kind == ServiceKind::Static {
        run_image = served_by_container.then(|| "nginx:1.27-alpine".to_string());
    }
    let about = format!("service.{}.runtime", service.name);
    // Which Dockerfile builds the image is its own reason (image.rs); a
    // service only its Dockerfile can build has no runtime of ours.
    let text = if let (Some(df), None) = (&service.dockerfile, &service.start) {
        format!(
            "{}: built from the project's own Dockerfile ({df})",
            service.name
        )
    } else if fam == "static" {
        format!("{}: static files, no language runtime", service.name)
    } else {
        let asked = service.runtime_version.as_deref().unwrap_or("").trim();
        let from = match origin {
            Origin::Analysis if clean_version(asked).is_none() && image_line(service).is_some() => {
                format!("the version the project's Dockerfile runs, within its {asked}")
            }
            Origin::Analysis if lock_line.as_deref() == Some(version.as_str()) => {
                let within = if asked.is_empty() {
                    String::new()
                } else {
                    format!(", within its {asked}")
                };
                format!("a line its lock file has a wheel of every compiled package for{within}")
            }
            Origin::Analysis if clean_version(asked).is_none() => {
                format!("fits the project's {asked}")
            }
            Origin::Analysis if go_language_version => format!(
                "go.mod's `go {asked}` is the module's language version, which every later Go builds; the current stable line"
            ),
            Origin::Analysis => "the version the project asks for".to_string(),
            _ => "no version stated in the project, so the current LTS/stable line".to_string(),
        };
        format!(
            "{}: {fam} {version} ({from}){}",
            service.name,
            build_image
                .as_deref()
                .map(|b| format!(", built on {b}"))
                .unwrap_or_default()
        )
    };
    notes.reason(about, origin, text);
    let assets_node = assets_node(service, fam);
    if let Some(line) = &assets_node {
        notes.reason(
            format!("service.{}.runtime.assets", service.name),
            if service.assets_node_version.is_some() {
                Origin::Analysis
            } else {
                Origin::Default
            },
            match &service.assets_node_version {
                Some(asked) => format!(
                    "{}: its asset build runs on node {line} (its package.json asks for {asked})",
                    service.name
                ),
                None => format!(
                    "{}: its asset build runs on node {line} (its package.json states no version: the current LTS line)",
                    service.name
                ),
            },
        );
    }
    RuntimePlan {
        language: service.language,
        framework: service.framework.clone(),
        family: fam.to_string(),
        version,
        version_origin: origin,
        build_image,
        run_image,
        assets_node,
    }
}

/// The Node line an asset build of a service of another language runs on
/// (`RuntimePlan::assets_node`): what its package.json asks for (a plain
/// version as written, a range's fitting line), else the default line —
/// `None` when neither its install nor its build runs a Node package manager.
fn assets_node(service: &Service, fam: &str) -> Option<String> {
    let runs_node = [service.install.as_deref(), service.build.as_deref()]
        .into_iter()
        .flatten()
        .flat_map(|c| c.split(|ch: char| ch.is_whitespace() || ";&|()".contains(ch)))
        .any(|w| matches!(w, "npm" | "npx" | "yarn" | "pnpm"));
    if fam == "node" || fam == "static" || !runs_node {
        return None;
    }
    let asked = service.assets_node_version.as_deref();
    Some(
        asked
            .and_then(|raw| {
                clean_version(raw)
                    .map(str::to_string)
                    .or_else(|| version_for_range("node", raw))
            })
            .unwrap_or_else(|| default_version("node").to_string()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::service;

    #[test]
    fn versions_are_cleaned() {
        let cases = [
            ("3.12", Some("3.12")),
            ("20.15.1", Some("20.15.1")),
            ("v1.22", Some("1.22")),
            ("21", Some("21")),
            (">=3.10", None),
            ("3.12; rm -rf /", None),
            ("1.2.3.4", None),
            ("", None),
        ];
        for (raw, want) in cases {
            assert_eq!(clean_version(raw), want, "{raw}");
        }
    }

    /// flask-base-redis: runtime.txt's `python-3.6.0` is the 3.6 line's
    /// image, not `python:3.6.0-slim` (Debian jessie, whose apt is gone).
    #[test]
    fn an_exact_patch_runs_on_its_lines_image() {
        let images = |lang, fw, v: &str| {
            let mut s = service("s", lang, Some(fw), ServiceKind::Web);
            s.runtime_version = Some(v.into());
            let p = plan(&s, true, &mut Notes::default());
            (p.version, p.build_image, p.run_image)
        };
        assert_eq!(
            images(Language::Python, "flask", "3.6.0"),
            (
                "3.6.0".to_string(),
                Some("python:3.6-slim".to_string()),
                Some("python:3.6-slim".to_string())
            )
        );
        let (_, build, run) = images(Language::Javascript, "express", "14.0.0");
        assert_eq!(
            (build.as_deref(), run.as_deref()),
            (Some("node:14"), Some("node:14-slim"))
        );
        let (_, _, run) = images(Language::Ruby, "rails", "3.3.1");
        assert_eq!(run.as_deref(), Some("ruby:3.3-slim"));
    }

    #[test]
    fn runtime_table() {
        // Node builds on the full image (node-gyp's python3, make, g++) and
        // runs on the slim one.
        let mut n = service("n", Language::Javascript, Some("express"), ServiceKind::Web);
        n.runtime_version = Some("20".into());
        let p = plan(&n, true, &mut Notes::default());
        assert_eq!(p.build_image.as_deref(), Some("node:20"));
        assert_eq!(p.run_image.as_deref(), Some("node:20-slim"));
        // (language, framework, kind, runtime_version, family, version, run image)
        let cases = [
            (
                Language::Python,
                Some("flask"),
                ServiceKind::Web,
                None,
                "python",
                "3.12",
                Some("python:3.12-slim"),
            ),
            (
                Language::Python,
                Some("django"),
                ServiceKind::Web,
                Some("3.11"),
                "python",
                "3.11",
                Some("python:3.11-slim"),
            ),
            (
                Language::Typescript,
                Some("nestjs"),
                ServiceKind::Web,
                Some("18"),
                "node",
                "18",
                Some("node:18-slim"),
            ),
            (
                Language::Go,
                Some("gin"),
                ServiceKind::Web,
                Some("1.21"),
                "go",
                "1.21",
                Some("debian:bookworm-slim"),
            ),
            (
                Language::Java,
                Some("spring-boot"),
                ServiceKind::Web,
                Some("17"),
                "jvm",
                "17",
                Some("eclipse-temurin:17-jre"),
            ),
            (
                Language::Kotlin,
                Some("spring-boot"),
                ServiceKind::Web,
                None,
                "jvm",
                "21",
                Some("eclipse-temurin:21-jre"),
            ),
            (
                Language::Csharp,
                None,
                ServiceKind::Worker,
                Some("8.0"),
                "dotnet",
                "8.0",
                Some("mcr.microsoft.com/dotnet/runtime:8.0"),
            ),
            (
                Language::Ruby,
                Some("rails"),
                ServiceKind::Web,
                Some("3.3.0"),
                "ruby",
                "3.3.0",
                Some("ruby:3.3-slim"),
            ),
            (
                Language::Typescript,
                Some("react-vite"),
                ServiceKind::Static,
                None,
                "node",
                "22",
                None,
            ),
            (
                Language::Html,
                Some("static"),
                ServiceKind::Static,
                None,
                "static",
                "-",
                None,
            ),
            (
                Language::Python,
                Some("flask"),
                ServiceKind::Web,
                Some("3.12 && curl x"),
                "python",
                "3.12",
                Some("python:3.12-slim"),
            ),
        ];
        for (lang, fw, kind, rv, fam, ver, run) in cases {
            let mut s = service("s", lang, fw, kind);
            s.runtime_version = rv.map(str::to_string);
            let mut notes = Notes::default();
            let p = plan(&s, false, &mut notes);
            assert_eq!(p.family, fam, "{lang:?} {fw:?}");
            assert_eq!(p.version, ver, "{lang:?} {fw:?}");
            assert_eq!(p.run_image.as_deref(), run, "{lang:?} {fw:?}");
            assert!(notes.reasons.iter().any(|r| r.about == "service.s.runtime"));
            if rv == Some("3.12 && curl x") {
                assert!(notes.has_warning("runtime_version_unusable"));
            }
        }
    }

    /// fastapi-boilerplate: `^3.11` beside `FROM python:3.11` plans the
    /// image's 3.11, not the default line the range also allows.
    #[test]
    fn the_line_the_projects_image_runs_is_preferred_within_the_range() {
        let mut s = service("s", Language::Python, None, ServiceKind::Web);
        s.runtime_version = Some("^3.11".into());
        s.image_runtime_version = Some("3.11".into());
        let mut notes = Notes::default();
        let p = plan(&s, false, &mut notes);
        assert_eq!(p.version, "3.11");
        let r = runtime_reason(&notes);
        assert!(
            r.contains("the version the project's Dockerfile runs, within its ^3.11"),
            "{r}"
        );
    }

    /// The runtime reason of service `s`.
    fn runtime_reason(notes: &Notes) -> String {
        notes
            .reasons
            .iter()
            .find(|r| r.about == "service.s.runtime")
            .map(|r| r.text.clone())
            .expect("a runtime reason")
    }

    /// golang-gin-realworld: `go 1.15` in go.mod is a language version,
    /// and `golang:1.15-bookworm` does not exist: today's line builds it.
    /// From 1.21 on the line is a minimum toolchain, kept as asked.
    #[test]
    fn an_old_go_language_version_builds_with_the_current_line() {
        let mut s = service("s", Language::Go, Some("gin"), ServiceKind::Web);
        s.runtime_version = Some("1.15".into());
        let mut notes = Notes::default();
        let p = plan(&s, false, &mut notes);
        assert_eq!(p.version, default_version("go"));
        assert_eq!(
            p.build_image.as_deref(),
            Some(format!("golang:{}-bookworm", default_version("go")).as_str())
        );
        let r = runtime_reason(&notes);
        assert!(
            r.contains("`go 1.15` is the module's language version"),
            "{r}"
        );
        s.runtime_version = Some("1.22.3".into());
        assert_eq!(plan(&s, false, &mut Notes::default()).version, "1.22.3");
    }

    /// The line the lock file has every wheel for, within the range
    /// (shynet: `^3.8`, pyyaml 5.4.1 wheels up to cp39): the default line
    /// when it is one, else the newest; an exact pin or the image's line
    /// still wins.
    #[test]
    fn the_line_the_lock_file_has_wheels_for_is_preferred() {
        let line = |req: Option<&str>, lines: &[&str], image: Option<&str>| {
            let mut s = service("s", Language::Python, None, ServiceKind::Web);
            s.runtime_version = req.map(str::to_string);
            s.wheel_lines = lines.iter().map(|l| l.to_string()).collect();
            s.image_runtime_version = image.map(str::to_string);
            let mut notes = Notes::default();
            let p = plan(&s, false, &mut notes);
            let why = notes
                .reasons
                .iter()
                .find(|r| r.about == "service.s.runtime")
                .unwrap()
                .text
                .clone();
            (p.version, why)
        };
        let (v, why) = line(Some("^3.8"), &["3.8", "3.9"], None);
        assert_eq!(v, "3.9");
        assert!(
            why.contains(
                "a line its lock file has a wheel of every compiled package for, within its ^3.8"
            ),
            "{why}"
        );
        assert_eq!(
            line(Some("^3.8"), &["3.11", "3.12", "3.13"], None).0,
            "3.12"
        );
        assert_eq!(line(None, &["3.13", "3.14"], None).0, "3.14");
        assert_eq!(line(Some("3.10"), &["3.8", "3.9"], None).0, "3.10");
        assert_eq!(line(Some("^3.8"), &["3.8", "3.9"], Some("3.11")).0, "3.11");
        // Nothing in the range has every wheel: the range decides.
        assert_eq!(line(Some(">=3.11"), &["3.8", "3.9"], None).0, "3.12");
    }

    #[test]
    fn ranges_get_a_line_that_fits_and_say_so() {
        // (family language, requirement, version planned)
        let cases = [
            (Language::Python, ">=3.9", "3.12"),
            (Language::Python, "^3.11", "3.12"),
            (Language::Python, ">=3.8,<3.12", "3.11"),
            (Language::Python, "==3.10.*", "3.10"),
            (Language::Python, ">=3.13", "3.14"),
            (Language::Python, ">=3.15", "3.15"),
            (Language::Javascript, ">=18.17", "22"),
            (Language::Javascript, "^22", "22"),
            (Language::Javascript, ">=22", "22"),
            (Language::Javascript, ">=24", "24"),
            (Language::Typescript, "<=18", "18"),
            // Capped below the supported lines: the newest that fits.
            (Language::Python, "<3.7", "3.6"),
            (Language::Javascript, "<18", "16"),
        ];
        for (lang, req, want) in cases {
            let mut s = service("s", lang, None, ServiceKind::Web);
            s.runtime_version = Some(req.to_string());
            let mut notes = Notes::default();
            let p = plan(&s, false, &mut notes);
            assert_eq!(p.version, want, "{req}");
            assert_eq!(p.version_origin, Origin::Analysis, "{req}");
            assert!(!notes.has_warning("runtime_version_unusable"), "{req}");
            let r = notes
                .reasons
                .iter()
                .find(|r| r.about == "service.s.runtime")
                .unwrap();
            assert!(
                r.text
                    .contains(&format!("{want} (fits the project's {req})")),
                "{}",
                r.text
            );
        }
        // An end-of-life line says so; a supported one does not.
        for (req, eol) in [
            ("<3.7", true),
            ("3.6", true),
            (">=3.9", false),
            ("3.9", true),
            ("3.10", false),
            ("20", true),
            ("22", false),
        ] {
            let lang = if req.len() == 2 {
                Language::Javascript
            } else {
                Language::Python
            };
            let mut s = service("s", lang, None, ServiceKind::Web);
            s.runtime_version = Some(req.to_string());
            let mut notes = Notes::default();
            plan(&s, false, &mut notes);
            assert_eq!(notes.has_warning("runtime_end_of_life"), eol, "{req}");
        }
        // Unreadable: the default, with a warning.
        let mut s = service("s", Language::Python, None, ServiceKind::Web);
        s.runtime_version = Some("pypy3.10".into());
        let mut notes = Notes::default();
        assert_eq!(plan(&s, false, &mut notes).version, "3.12");
        assert!(notes.has_warning("runtime_version_unusable"));
    }

    /// An asset build beside a Python service runs on the Node its
    /// package.json asks for (babybuddy's devEngines `^24`, which `npm ci`
    /// enforces), the default line when it asks for none, and no Node at all
    /// when nothing runs a Node package manager.
    #[test]
    fn an_asset_build_gets_the_node_its_package_json_asks_for() {
        let cases = [
            (
                Some("^24.0.0"),
                Some("npm ci && npx gulp build"),
                Some("24"),
            ),
            (Some("20.11.1"), Some("yarn build"), Some("20.11.1")),
            (None, Some("npm ci && npm run build"), Some("22")),
            (
                Some("^24.0.0"),
                Some("python manage.py collectstatic"),
                None,
            ),
            (None, None, None),
        ];
        for (asked, build, want) in cases {
            let mut s = service("s", Language::Python, Some("django"), ServiceKind::Web);
            s.assets_node_version = asked.map(str::to_string);
            s.build = build.map(str::to_string);
            let mut notes = Notes::default();
            let p = plan(&s, false, &mut notes);
            assert_eq!(p.assets_node.as_deref(), want, "{asked:?} {build:?}");
            assert_eq!(
                notes
                    .reasons
                    .iter()
                    .any(|r| r.about == "service.s.runtime.assets"),
                want.is_some()
            );
        }
        // A Node service's own version is its runtime, not an asset build's.
        let mut s = service("s", Language::Javascript, None, ServiceKind::Web);
        s.build = Some("npm run build".into());
        assert_eq!(plan(&s, false, &mut Notes::default()).assets_node, None);
    }

    #[test]
    fn static_site_served_from_a_container_uses_nginx() {
        let s = service("site", Language::Html, Some("static"), ServiceKind::Static);
        let p = plan(&s, true, &mut Notes::default());
        assert_eq!(p.run_image.as_deref(), Some("nginx:1.27-alpine"));
    }
}
