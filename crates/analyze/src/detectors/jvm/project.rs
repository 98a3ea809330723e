//! Maven and Gradle builds read into one [`Project`]: coordinates, runtime
//! dependencies, applied plugins, Java version, packaging, the wrapper to use
//! and — for modules of a multi-module build — how to build just that module.
//!
//! Not here: deciding the framework or the commands (`mod.rs`).

use super::{gradle, maven, FRAMEWORKS};
use crate::ctx::Ctx;
use crate::repo::{file_name, join, parent};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Tool {
    Maven,
    Gradle,
}

/// Both build tools, read into one shape.
#[derive(Debug, Clone, Default)]
pub(super) struct Project {
    pub(super) tool: Option<Tool>,
    pub(super) manifest: String,
    pub(super) name: Option<String>,
    /// `Some(v)` known; `None` with `version_unknown` false = not set (Gradle omits it).
    pub(super) version: Option<String>,
    pub(super) version_unknown: bool,
    /// (group, artifact, file, line)
    pub(super) deps: Vec<(String, String, String, u32)>,
    /// Maven plugin artifactIds / Gradle plugin ids, with file and line.
    pub(super) plugins: Vec<(String, String, u32)>,
    pub(super) parent_artifact: Option<(String, u32)>,
    pub(super) java: Option<(String, String, u32)>,
    pub(super) aggregator: bool,
    pub(super) war: bool,
    /// A runnable plain jar/launcher is configured (mainClass, application plugin).
    pub(super) runnable: Option<PlainRunnable>,
    pub(super) final_name: Option<String>,
    pub(super) archive_file_name: Option<String>,
    pub(super) archive_base_name: Option<String>,
    /// Build command prefix (wrapper path + reactor arguments).
    pub(super) build_cmd: String,
    /// Reactor arguments placed before the goal (Maven multi-module).
    pub(super) reactor: String,
    pub(super) shadow_plugin: bool,
    /// A module of a multi-module build (not its root).
    pub(super) module_of_build: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum PlainRunnable {
    /// Gradle `application` plugin: installDist launcher.
    GradleApplication,
    /// Maven jar/shade plugin with a mainClass.
    MavenJar,
    /// Maven assembly `jar-with-dependencies`.
    MavenAssembly,
}

impl Project {
    pub(super) fn has_plugin(&self, id: &str) -> Option<(&str, u32)> {
        self.plugins
            .iter()
            .find(|(p, _, _)| p == id)
            .map(|(_, f, l)| (f.as_str(), *l))
    }
}

/// Path from `dir` up to its ancestor `root` (`"../../"`), empty when equal.
fn up_to(root: &str, dir: &str) -> String {
    if root == dir {
        return String::new();
    }
    let rel = rel_to(root, dir);
    "../".repeat(rel.split('/').filter(|p| !p.is_empty()).count())
}

fn rel_to(root: &str, path: &str) -> String {
    if root.is_empty() {
        path.to_string()
    } else if path == root {
        String::new()
    } else {
        path.strip_prefix(root)
            .map(|p| p.trim_start_matches('/').to_string())
            .unwrap_or_else(|| path.to_string())
    }
}

/// Nearest folder from `dir` upwards (up to `stop`) holding `file` and `marker`.
fn find_up(ctx: &Ctx, dir: &str, stop: &str, file: &str, marker: &str) -> Option<String> {
    let mut d = dir.to_string();
    loop {
        if ctx.has(&d, file) && ctx.index().contains(&join(&d, marker)) {
            return Some(d);
        }
        if d == stop || d.is_empty() {
            return None;
        }
        d = parent(&d).to_string();
    }
}

pub(super) fn read_maven(ctx: &Ctx, dir: &str) -> Result<Project, String> {
    let manifest = join(dir, "pom.xml");
    let text = ctx.read_path(&manifest).ok_or(manifest.clone())?;
    let mut pom = maven::parse(&text).ok_or(manifest.clone())?;
    // Parents inside the repository (relativePath, default ../pom.xml).
    let mut parent_dir = dir.to_string();
    let mut current = pom.clone();
    for _ in 0..4 {
        let Some((_, artifact, _)) = current.parent.clone() else {
            break;
        };
        let rel = current
            .parent_relative_path
            .clone()
            .unwrap_or_else(|| "../pom.xml".into());
        if rel.is_empty() {
            break;
        }
        let rel = if rel.ends_with(".xml") {
            rel
        } else {
            format!("{}/pom.xml", rel.trim_end_matches('/'))
        };
        let Some(path) = crate::repo::normalize(&join(&parent_dir, &rel)) else {
            break;
        };
        let Some(ptext) = ctx.read_path(&path) else {
            break;
        };
        let Some(p) = maven::parse(&ptext) else { break };
        if p.artifact.as_deref() != Some(artifact.as_str()) {
            break;
        }
        pom.inherit(&p, &path);
        parent_dir = parent(&path).to_string();
        current = p;
    }
    pom.resolve();

    let mut p = Project {
        tool: Some(Tool::Maven),
        manifest: manifest.clone(),
        name: pom.artifact.clone(),
        version: pom.version(),
        aggregator: pom.packaging.as_deref() == Some("pom"),
        war: pom.packaging.as_deref() == Some("war"),
        final_name: pom.final_name.clone(),
        ..Project::default()
    };
    p.version_unknown = p.version.as_ref().is_some_and(|v| v.contains("${"));
    for d in &pom.deps {
        let file = d.source.clone().unwrap_or_else(|| manifest.clone());
        p.deps
            .push((d.group.clone(), d.artifact.clone(), file, d.line));
    }
    for pl in &pom.plugins {
        let file = pl.source.clone().unwrap_or_else(|| manifest.clone());
        p.plugins.push((pl.artifact.clone(), file.clone(), pl.line));
        if pl.artifact == "kotlin-maven-plugin" {
            p.plugins
                .push(("org.jetbrains.kotlin.jvm".into(), file, pl.line));
        }
        if pl
            .descriptor_refs
            .iter()
            .any(|r| r == "jar-with-dependencies")
        {
            p.runnable = Some(PlainRunnable::MavenAssembly);
        } else if pl.main_class
            && matches!(
                pl.artifact.as_str(),
                "maven-shade-plugin" | "maven-jar-plugin"
            )
            && p.runnable.is_none()
        {
            p.runnable = Some(PlainRunnable::MavenJar);
        }
    }
    if let Some((_, a, _)) = &pom.parent {
        p.parent_artifact = Some((a.clone(), pom.parent_line.unwrap_or(1)));
    }
    if let Some((v, line, from)) = pom.java_version() {
        p.java = Some((v, from.unwrap_or_else(|| manifest.clone()), line));
    }

    // The reactor this module builds in: the top aggregator listing it.
    let mut top = dir.to_string();
    while !top.is_empty() {
        let up = parent(&top).to_string();
        let Some(ptext) = ctx.read(&up, "pom.xml") else {
            break;
        };
        let Some(agg) = maven::parse(&ptext) else {
            break;
        };
        let rel = rel_to(&up, &top);
        if !agg.modules.iter().any(|m| m == &rel) {
            break;
        }
        top = up;
    }
    let wrapper = find_up(
        ctx,
        dir,
        &top,
        "mvnw",
        ".mvn/wrapper/maven-wrapper.properties",
    );
    let mvn = match &wrapper {
        Some(w) => format!(
            "{}mvnw",
            if w == dir {
                "./".to_string()
            } else {
                up_to(w, dir)
            }
        ),
        None => "mvn".to_string(),
    };
    p.module_of_build = top != dir;
    if top != dir {
        let up = up_to(&top, dir);
        p.reactor = format!(" -f {up}pom.xml -pl {} -am", rel_to(&top, dir));
    }
    p.build_cmd = mvn;
    Ok(p)
}

pub(super) fn read_gradle(ctx: &Ctx, dir: &str) -> Result<Project, String> {
    let build_name = if ctx.has(dir, "build.gradle.kts") {
        "build.gradle.kts"
    } else {
        "build.gradle"
    };
    let manifest = join(dir, build_name);
    let text = ctx.read_path(&manifest).unwrap_or_default();
    // Settings folder: this one or the nearest above with a settings file.
    let settings_dir = {
        let mut d = dir.to_string();
        loop {
            if ctx.has(&d, "settings.gradle.kts") || ctx.has(&d, "settings.gradle") {
                break Some(d);
            }
            if d.is_empty() {
                break None;
            }
            d = parent(&d).to_string();
        }
    };
    let root = settings_dir.clone().unwrap_or_else(|| dir.to_string());
    let catalog = ctx
        .read(&root, "gradle/libs.versions.toml")
        .map(|t| gradle::parse_catalog(&t));
    let script = gradle::parse(&text, catalog.as_ref());
    let (root_name, includes) = ctx
        .read(&root, "settings.gradle.kts")
        .or_else(|| ctx.read(&root, "settings.gradle"))
        .map(|t| gradle::parse_settings(&t))
        .unwrap_or((None, Vec::new()));

    let mut p = Project {
        tool: Some(Tool::Gradle),
        manifest: manifest.clone(),
        archive_file_name: script.archive_file_name.clone(),
        archive_base_name: script.archive_base_name.clone(),
        ..Project::default()
    };
    p.name = if root == dir {
        root_name
    } else {
        Some(file_name(dir).to_string())
    };
    match &script.version {
        Some(Some(v)) => p.version = Some(v.clone()),
        Some(None) => p.version_unknown = true,
        None => {
            let from_props = ctx
                .read(dir, "gradle.properties")
                .or_else(|| ctx.read(&root, "gradle.properties"))
                .and_then(|t| gradle::properties_version(&t));
            let shared = if root != dir {
                ctx.read(&root, "build.gradle.kts")
                    .or_else(|| ctx.read(&root, "build.gradle"))
                    .and_then(|t| gradle::parse(&t, None).shared_version)
            } else {
                None
            };
            p.version = from_props.or(shared);
        }
    }
    for d in &script.deps {
        p.deps.push((
            d.group.clone(),
            d.artifact.clone(),
            manifest.clone(),
            d.line,
        ));
    }
    for (id, line) in &script.plugins {
        p.plugins.push((id.clone(), manifest.clone(), *line));
    }
    p.war = script.has_plugin("war").is_some();
    p.shadow_plugin = script
        .has_plugin("com.github.johnrengelman.shadow")
        .is_some()
        || script.has_plugin("com.gradleup.shadow").is_some();
    if script.has_plugin("application").is_some() {
        p.runnable = Some(PlainRunnable::GradleApplication);
    }
    if let Some((v, line)) = &script.java_version {
        p.java = Some((v.clone(), manifest.clone(), *line));
    }
    let applies_app_plugin = FRAMEWORKS.iter().any(|f| {
        f.gradle_plugins
            .iter()
            .any(|g| script.has_plugin(g).is_some())
    });
    p.module_of_build = root != dir;
    p.aggregator = root == dir
        && !includes.is_empty()
        && !applies_app_plugin
        && !ctx
            .index()
            .files_under(&join(dir, "src/main"))
            .any(|_| true);
    let wrapper = find_up(
        ctx,
        dir,
        &root,
        "gradlew",
        "gradle/wrapper/gradle-wrapper.properties",
    );
    p.build_cmd = match &wrapper {
        Some(w) => format!(
            "{}gradlew",
            if w == dir {
                "./".to_string()
            } else {
                up_to(w, dir)
            }
        ),
        None => "gradle".to_string(),
    };
    Ok(p)
}
