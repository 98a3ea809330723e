//! JVM (Java and Kotlin): Maven (`pom.xml`) and Gradle (`build.gradle`,
//! `build.gradle.kts`) projects; Spring Boot, Quarkus and Micronaut services,
//! plain apps with a runnable packaging (Gradle `application`, a configured
//! `mainClass`).
//!
//! Both build tools are read into one `Project` (`project.rs`, over
//! `maven.rs` and `gradle.rs`); `scan.rs` reads settings files and sources;
//! frameworks are rows of [`FRAMEWORKS`] (dependency, plugin, app pattern,
//! settings keys for port and host, health endpoint, packaging); databases are
//! rows of [`DB_DEPS`]. Settings files (`src/main/resources/application.*`,
//! `config.rs`) give the port (`server.port=${PORT:8080}`), the datasource and
//! the `${ENV_VAR}` placeholders the app needs.
//!
//! Multi-module builds: each module is detected in its own folder; an
//! aggregator (`<packaging>pom</packaging>`, a Gradle root that only includes
//! projects) is a weak draft that `resolve` drops when its modules are apps.
//! Missing lock files are normal for Maven/Gradle and never reported.
//!
//! Not here: running the build tool, Android, Gradle convention plugins.

pub mod config;
pub mod gradle;
pub mod maven;
mod project;
mod scan;
mod wiring;

use crate::ctx::Ctx;
use crate::detectors::Detector;
use crate::draft::{ev, Draft, Trust};
use crate::repo::{file_name, join};
use crate::scan::first_match;
use autodeploy_core::{Database, Language, ServiceKind, Severity};
use config::Settings;
use project::{read_gradle, read_maven, PlainRunnable, Project, Tool};
use regex::Regex;
use scan::{jvm_sources, scan_code, settings_env_and_databases, settings_port_and_host};
use std::sync::LazyLock;

pub struct Jvm;

/// How a framework's runnable artifact is produced and named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Packaging {
    /// Spring Boot: an executable jar (`bootJar`, spring-boot-maven-plugin).
    BootJar,
    /// Quarkus fast-jar: `quarkus-app/quarkus-run.jar`.
    QuarkusApp,
    /// Micronaut: a shaded jar (`shadowJar` → `-all.jar` with Gradle).
    Shaded,
}

/// One framework.
struct Framework {
    name: &'static str,
    /// Dependency group (or a sub-group of it) and artifact prefix that signal it.
    dep_group: &'static str,
    dep_prefix: &'static str,
    maven_plugin: &'static str,
    maven_parent: &'static str,
    gradle_plugins: &'static [&'static str],
    /// Finds the application in code.
    app: &'static str,
    port_keys: &'static [&'static str],
    host_keys: &'static [&'static str],
    /// (dependency artifact, health path it serves)
    health: &'static [(&'static str, &'static str)],
    packaging: Packaging,
    rank: u8,
}

const DEFAULT_PORT: u16 = 8080;

const FRAMEWORKS: &[Framework] = &[
    Framework {
        name: "spring-boot",
        dep_group: "org.springframework.boot",
        dep_prefix: "spring-boot-starter",
        maven_plugin: "spring-boot-maven-plugin",
        maven_parent: "spring-boot-starter-parent",
        gradle_plugins: &["org.springframework.boot"],
        app: r"@SpringBootApplication\b|\brunApplication\s*<|\bSpringApplication\.run\s*\(",
        port_keys: &["server.port"],
        host_keys: &["server.address"],
        health: &[("spring-boot-starter-actuator", "/actuator/health")],
        packaging: Packaging::BootJar,
        rank: 3,
    },
    Framework {
        name: "quarkus",
        dep_group: "io.quarkus",
        dep_prefix: "quarkus-",
        maven_plugin: "quarkus-maven-plugin",
        maven_parent: "",
        gradle_plugins: &["io.quarkus"],
        app: r"@Path\s*\(|@QuarkusMain\b|@Route\s*\(|@ApplicationScoped\b",
        port_keys: &["quarkus.http.port"],
        host_keys: &["quarkus.http.host"],
        health: &[("quarkus-smallrye-health", "/q/health")],
        packaging: Packaging::QuarkusApp,
        rank: 2,
    },
    Framework {
        name: "micronaut",
        dep_group: "io.micronaut",
        dep_prefix: "micronaut-",
        maven_plugin: "micronaut-maven-plugin",
        maven_parent: "micronaut-parent",
        gradle_plugins: &[
            "io.micronaut.application",
            "io.micronaut.minimal.application",
        ],
        app: r"\bMicronaut\.(?:run|build)\s*[(<]",
        port_keys: &["micronaut.server.port"],
        host_keys: &["micronaut.server.host"],
        health: &[("micronaut-management", "/health")],
        packaging: Packaging::Shaded,
        rank: 1,
    },
];

/// (group or "" for any group, artifact) → database or cache.
const DB_DEPS: &[(&str, &str, Database)] = &[
    ("org.postgresql", "postgresql", Database::Postgresql),
    ("org.postgresql", "r2dbc-postgresql", Database::Postgresql),
    ("io.r2dbc", "r2dbc-postgresql", Database::Postgresql),
    ("", "quarkus-jdbc-postgresql", Database::Postgresql),
    ("", "quarkus-reactive-pg-client", Database::Postgresql),
    ("com.mysql", "mysql-connector-j", Database::Mysql),
    ("mysql", "mysql-connector-java", Database::Mysql),
    ("org.mariadb.jdbc", "mariadb-java-client", Database::Mysql),
    ("", "quarkus-jdbc-mysql", Database::Mysql),
    ("", "quarkus-jdbc-mariadb", Database::Mysql),
    ("", "quarkus-reactive-mysql-client", Database::Mysql),
    ("", "spring-boot-starter-data-mongodb", Database::Mongodb),
    (
        "",
        "spring-boot-starter-data-mongodb-reactive",
        Database::Mongodb,
    ),
    ("org.mongodb", "mongodb-driver-sync", Database::Mongodb),
    (
        "org.mongodb",
        "mongodb-driver-reactivestreams",
        Database::Mongodb,
    ),
    ("", "quarkus-mongodb-client", Database::Mongodb),
    ("", "quarkus-mongodb-panache", Database::Mongodb),
    ("", "spring-boot-starter-data-redis", Database::Redis),
    (
        "",
        "spring-boot-starter-data-redis-reactive",
        Database::Redis,
    ),
    ("redis.clients", "jedis", Database::Redis),
    ("io.lettuce", "lettuce-core", Database::Redis),
    ("org.redisson", "redisson", Database::Redis),
    ("", "quarkus-redis-client", Database::Redis),
    ("", "micronaut-redis-lettuce", Database::Redis),
    ("org.xerial", "sqlite-jdbc", Database::Sqlite),
];

const SETTINGS_FILES: &[&str] = &[
    "src/main/resources/application.properties",
    "src/main/resources/application.yml",
    "src/main/resources/application.yaml",
];

static MAIN_METHOD: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r"\bpublic\s+static\s+void\s+main\s*\(|(?m)^\s*fun\s+main\s*\(")
        .expect("regex")
});
impl Detector for Jvm {
    fn name(&self) -> &'static str {
        "jvm"
    }

    fn markers(&self) -> &'static [&'static str] {
        &["pom.xml", "build.gradle", "build.gradle.kts"]
    }

    fn detect(&self, ctx: &Ctx, dir: &str) -> Vec<Draft> {
        let project = if ctx.has(dir, "pom.xml") {
            read_maven(ctx, dir)
        } else {
            read_gradle(ctx, dir)
        };
        match project {
            Ok(p) => analyze(ctx, dir, &p),
            Err(manifest) => {
                let mut d = Draft::new(dir, Language::Java, ServiceKind::Web);
                d.has_manifest = true;
                d.strength = 1.5;
                d.note("language", ev(&manifest, None, "JVM build file"));
                d.finding(
                    "invalid_manifest",
                    Severity::Error,
                    Some(&manifest),
                    None,
                    format!("{manifest} is not a well-formed Maven project file, so the build cannot run; fix the XML"),
                    None,
                );
                vec![d]
            }
        }
    }
}

fn dep_matches(fw: &Framework, group: &str, artifact: &str) -> bool {
    (group == fw.dep_group || group.starts_with(&format!("{}.", fw.dep_group)))
        && artifact.starts_with(fw.dep_prefix)
}

/// Evidence that the project uses a framework (dependency, plugin, parent).
fn framework_signal(fw: &Framework, p: &Project) -> Option<(String, u32, String)> {
    let plugin = match p.tool {
        Some(Tool::Maven) => p
            .has_plugin(fw.maven_plugin)
            .map(|(f, l)| (f.to_string(), l, format!("plugin {}", fw.maven_plugin))),
        _ => fw.gradle_plugins.iter().find_map(|g| {
            p.has_plugin(g)
                .map(|(f, l)| (f.to_string(), l, format!("plugin {g}")))
        }),
    };
    plugin
        .or_else(|| {
            p.deps
                .iter()
                .find(|(g, a, _, _)| dep_matches(fw, g, a))
                .map(|(g, a, f, l)| (f.clone(), *l, format!("depends on {g}:{a}")))
        })
        .or_else(|| {
            p.parent_artifact
                .as_ref()
                .filter(|(a, _)| !fw.maven_parent.is_empty() && a == fw.maven_parent)
                .map(|(a, l)| (p.manifest.clone(), *l, format!("parent {a}")))
        })
}

fn analyze(ctx: &Ctx, dir: &str, p: &Project) -> Vec<Draft> {
    let tool = p.tool.unwrap_or(Tool::Maven);
    let sources = jvm_sources(ctx, dir);
    let kotlin_plugin = p
        .plugins
        .iter()
        .any(|(id, _, _)| id.starts_with("org.jetbrains.kotlin"));
    let has_kt = sources.iter().any(|f| f.ends_with(".kt"));
    let has_java = sources.iter().any(|f| f.ends_with(".java"));
    let language = if has_kt && (kotlin_plugin || !has_java) {
        Language::Kotlin
    } else {
        Language::Java
    };
    let mut d = Draft::new(dir, language, ServiceKind::Web);
    d.has_manifest = true;
    d.manifest_name = p.name.clone();
    d.package_manager = Some(match tool {
        Tool::Maven => "maven".into(),
        Tool::Gradle => "gradle".into(),
    });
    d.note(
        "language",
        ev(
            &p.manifest,
            None,
            match (tool, language) {
                (Tool::Maven, Language::Kotlin) => "Maven project with Kotlin sources",
                (Tool::Maven, _) => "Maven project",
                (Tool::Gradle, Language::Kotlin) => "Gradle project with Kotlin sources",
                (Tool::Gradle, _) => "Gradle project",
            },
        ),
    );
    runtime_version(ctx, dir, p, &mut d);

    if p.aggregator {
        // Organises modules; the modules are the services.
        d.strength = 1.5;
        return vec![d];
    }

    // Databases from runtime dependencies.
    for (g, a, f, l) in &p.deps {
        if g == "org.testcontainers" {
            continue;
        }
        for (group, artifact, db) in DB_DEPS {
            if a == artifact && (group.is_empty() || g == group) {
                d.database(*db, ev(f, Some(*l), format!("depends on {g}:{a}")));
            }
        }
    }

    // Settings files.
    let settings: Vec<Settings> = SETTINGS_FILES
        .iter()
        .filter_map(|name| {
            let path = join(dir, name);
            let text = ctx.read_path(&path)?;
            Some(if name.ends_with(".properties") {
                config::parse_properties(&path, &text)
            } else {
                config::parse_yaml(&path, &text)
            })
        })
        .collect();
    settings_env_and_databases(&mut d, &settings);

    // Sources: app objects, main methods, env reads, code ports.
    let fw_candidates: Vec<(&Framework, (String, u32, String))> = FRAMEWORKS
        .iter()
        .filter_map(|f| framework_signal(f, p).map(|s| (f, s)))
        .collect();
    let apps: Vec<(&Framework, Regex)> = fw_candidates
        .iter()
        .map(|(f, _)| (*f, crate::scan::table_regex(f.app)))
        .collect();
    let mut found_app: Vec<(&str, String, u32)> = Vec::new();
    let mut main: Option<(String, u32)> = None;
    for &file in &sources {
        let Some(text) = ctx.read_path(file) else {
            continue;
        };
        for (fw, re) in &apps {
            if !found_app.iter().any(|(n, _, _)| *n == fw.name) {
                if let Some((line, _)) = first_match(&text, re) {
                    found_app.push((fw.name, file.to_string(), line));
                }
            }
        }
        if main.is_none() {
            if let Some((line, _)) = first_match(&text, &MAIN_METHOD) {
                main = Some((file.to_string(), line));
            }
        }
        scan_code(&mut d, file, &text);
    }

    let fw = fw_candidates
        .iter()
        .filter(|(f, _)| found_app.iter().any(|(n, _, _)| *n == f.name))
        .max_by_key(|(f, _)| f.rank)
        .or_else(|| fw_candidates.iter().max_by_key(|(f, _)| f.rank));

    let jar_dir = match tool {
        Tool::Maven => "target",
        Tool::Gradle => "build",
    };
    let mvn_package = |p: &Project| format!("{} -B -DskipTests{} package", p.build_cmd, p.reactor);

    match fw {
        Some((fw, (file, line, note))) => {
            d.set_framework(fw.name, ev(file, Some(*line), note.clone()));
            d.strength = if found_app.iter().any(|(n, _, _)| *n == fw.name) {
                10.0
            } else {
                7.0
            };
            d.port(
                DEFAULT_PORT,
                Trust::Default,
                ev(&p.manifest, None, format!("default port of {}", fw.name)),
            );
            settings_port_and_host(&mut d, fw, &settings);
            if let Some((dep, path)) = fw
                .health
                .iter()
                .find(|(dep, _)| p.deps.iter().any(|(_, a, _, _)| a == dep))
            {
                let base = settings
                    .iter()
                    .find_map(|s| s.get("management.endpoints.web.base-path"))
                    .map(|s| s.value.trim_end_matches('/').to_string());
                let path = match (fw.name, base) {
                    ("spring-boot", Some(b)) if b.starts_with('/') => format!("{b}/health"),
                    _ => path.to_string(),
                };
                d.health_path = Some(path);
                d.note(
                    "health_path",
                    ev(&p.manifest, None, format!("depends on {dep}")),
                );
            }
            // Build and start per packaging.
            let (build, start, note) = match (fw.packaging, tool) {
                (Packaging::BootJar, Tool::Maven) => {
                    if p.has_plugin(fw.maven_plugin).is_none() {
                        missing_boot_plugin(&mut d, p, "spring-boot-maven-plugin");
                    }
                    (
                        mvn_package(p),
                        jar_start(&mut d, p, jar_dir, ""),
                        "Spring Boot executable jar",
                    )
                }
                (Packaging::BootJar, Tool::Gradle) => {
                    if fw.gradle_plugins.iter().all(|g| p.has_plugin(g).is_none()) {
                        missing_boot_plugin(&mut d, p, "org.springframework.boot");
                    }
                    let task = if p.war { "bootWar" } else { "bootJar" };
                    (
                        format!("{} {task} -x test", p.build_cmd),
                        jar_start(&mut d, p, "build/libs", ""),
                        "Spring Boot executable jar",
                    )
                }
                (Packaging::QuarkusApp, _) => {
                    let uber = settings.iter().any(|s| {
                        ["quarkus.package.type", "quarkus.package.jar.type"]
                            .iter()
                            .any(|k| s.get(k).is_some_and(|v| v.value == "uber-jar"))
                    });
                    let build = match tool {
                        Tool::Maven => mvn_package(p),
                        Tool::Gradle => format!("{} build -x test", p.build_cmd),
                    };
                    let start = if uber {
                        jar_start(&mut d, p, jar_dir, "-runner")
                    } else {
                        format!("java -jar {jar_dir}/quarkus-app/quarkus-run.jar")
                    };
                    (build, start, "Quarkus application jar")
                }
                (Packaging::Shaded, Tool::Maven) => (
                    mvn_package(p),
                    jar_start(&mut d, p, jar_dir, ""),
                    "Micronaut shaded jar",
                ),
                (Packaging::Shaded, Tool::Gradle) => (
                    format!("{} shadowJar -x test", p.build_cmd),
                    jar_start(&mut d, p, "build/libs", "-all"),
                    "Micronaut shaded jar",
                ),
            };
            d.build(
                build,
                Trust::Inferred,
                ev(&p.manifest, None, format!("inferred: {note}")),
            );
            d.start(
                start,
                Trust::Inferred,
                ev(&p.manifest, None, format!("inferred: {note}")),
            );
        }
        None if main.is_none() && p.runnable.is_none() && p.module_of_build => {
            // A library module of a bigger build: the apps that use it are the services.
            return Vec::new();
        }
        None => plain(&mut d, p, jar_dir, main.as_ref()),
    }
    wiring::scan(ctx, dir, &p.manifest, &mut d, &settings);
    vec![d]
}

fn missing_boot_plugin(d: &mut Draft, p: &Project, plugin: &str) {
    d.finding(
        "missing_boot_plugin",
        Severity::Warning,
        Some(&p.manifest),
        None,
        format!("Spring Boot dependencies without the {plugin} plugin: the build makes a plain jar that `java -jar` cannot run; add the plugin to {}", p.manifest),
        None,
    );
}

/// `java -jar <dir>/<name>-<version><suffix>.jar`, honouring finalName /
/// archiveFileName; when the name or version cannot be read, a best guess and a finding.
fn jar_start(d: &mut Draft, p: &Project, jar_dir: &str, suffix: &str) -> String {
    let ext = if p.war { "war" } else { "jar" };
    if let Some(full) = &p.archive_file_name {
        return format!("java -jar {jar_dir}/{full}");
    }
    if let Some(f) = &p.final_name {
        if !f.contains("${") {
            return format!("java -jar {jar_dir}/{f}{suffix}.{ext}");
        }
    }
    let base = p.archive_base_name.clone().or_else(|| p.name.clone());
    let name_known = base.is_some();
    let base = base.unwrap_or_else(|| {
        if d.dir.is_empty() {
            "app".into()
        } else {
            file_name(&d.dir).to_string()
        }
    });
    let version = p.version.clone().filter(|_| !p.version_unknown);
    let jar = match &version {
        Some(v) => format!("{base}-{v}{suffix}.{ext}"),
        None => format!("{base}{suffix}.{ext}"),
    };
    if !name_known || p.version_unknown {
        let what = if !name_known {
            "the project name (rootProject.name / artifactId)"
        } else {
            "the project version"
        };
        d.finding(
            "jar_name_unknown",
            Severity::Warning,
            Some(&p.manifest),
            None,
            format!(
                "could not read {what}, so the jar's file name is a guess ({jar_dir}/{jar}); set it as a literal (or set archiveFileName / finalName) so the start command is exact"
            ),
            None,
        );
    }
    format!("java -jar {jar_dir}/{jar}")
}

/// No framework: a plain application if the build makes it runnable.
fn plain(d: &mut Draft, p: &Project, jar_dir: &str, main: Option<&(String, u32)>) {
    d.strength = if main.is_some() { 5.0 } else { 2.5 };
    let mvn = format!("{} -B -DskipTests{} package", p.build_cmd, p.reactor);
    let name = p.name.clone().unwrap_or_else(|| "app".into());
    let (build, start) = match p.runnable {
        Some(PlainRunnable::GradleApplication) => (
            format!("{} installDist -x test", p.build_cmd),
            format!("./build/install/{name}/bin/{name}"),
        ),
        Some(PlainRunnable::MavenJar) => (mvn, jar_start(d, p, jar_dir, "")),
        Some(PlainRunnable::MavenAssembly) => {
            (mvn, jar_start(d, p, jar_dir, "-jar-with-dependencies"))
        }
        None => {
            let build = match p.tool {
                Some(Tool::Gradle) => format!("{} build -x test", p.build_cmd),
                _ => mvn,
            };
            d.build(
                build,
                Trust::Inferred,
                ev(&p.manifest, None, "inferred: build"),
            );
            d.finding(
                "start_not_found",
                Severity::Warning,
                Some(&p.manifest),
                None,
                "no Spring Boot/Quarkus/Micronaut and no runnable packaging (Gradle `application` plugin, a jar/shade plugin with mainClass): autodeploy cannot tell how to start this; add one, or a Procfile `web:` line",
                None,
            );
            return;
        }
    };
    d.kind = ServiceKind::Web;
    let e = match main {
        Some((f, l)) => ev(f, Some(*l), "inferred: main method"),
        None => ev(&p.manifest, None, "inferred: runnable packaging"),
    };
    d.build(build, Trust::Inferred, e.clone());
    d.start(start, Trust::Inferred, e);
}

fn runtime_version(ctx: &Ctx, dir: &str, p: &Project, d: &mut Draft) {
    if let Some((v, f, l)) = &p.java {
        d.runtime_version = Some(v.clone());
        d.note("runtime_version", ev(f, Some(*l), format!("java {v}")));
        return;
    }
    if let Some(t) = ctx.read(dir, "system.properties") {
        if let Some(v) = t
            .lines()
            .find_map(|l| l.trim().strip_prefix("java.runtime.version="))
        {
            let v = v.trim().to_string();
            d.note(
                "runtime_version",
                ev(&join(dir, "system.properties"), None, format!("java {v}")),
            );
            d.runtime_version = Some(v);
            return;
        }
    }
    if let Some(t) = ctx.read(dir, ".java-version") {
        if let Some(v) = t.lines().next().map(str::trim).filter(|v| !v.is_empty()) {
            d.runtime_version = Some(v.to_string());
            d.note(
                "runtime_version",
                ev(&join(dir, ".java-version"), None, format!("java {v}")),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::MemRepo;

    fn detect_at(files: &[(&str, &str)], dir: &str) -> Vec<Draft> {
        let repo = MemRepo::new(files.iter().map(|(p, c)| (p.to_string(), c.to_string())));
        let ctx = Ctx::new(&repo);
        Jvm.detect(&ctx, dir)
    }

    const BOOT_POM: &str = "<project><parent><groupId>org.springframework.boot</groupId><artifactId>spring-boot-starter-parent</artifactId><version>3.2.5</version></parent><artifactId>svc</artifactId><version>1.0</version><dependencies><dependency><groupId>org.springframework.boot</groupId><artifactId>spring-boot-starter-web</artifactId></dependency><dependency><groupId>org.testcontainers</groupId><artifactId>postgresql</artifactId></dependency></dependencies><build><plugins><plugin><groupId>org.springframework.boot</groupId><artifactId>spring-boot-maven-plugin</artifactId></plugin></plugins></build></project>";

    #[test]
    fn spring_port_placeholder_and_no_lockfile_finding() {
        let d = detect_at(
            &[
                ("pom.xml", BOOT_POM),
                (
                    "src/main/resources/application.properties",
                    "server.port=${PORT:9090}\n",
                ),
                (
                    "src/main/java/A.java",
                    "@SpringBootApplication\npublic class A {}\n",
                ),
            ],
            "",
        );
        assert_eq!(d[0].framework.as_deref(), Some("spring-boot"));
        assert!(d[0]
            .ports
            .iter()
            .any(|c| c.value == 9090 && c.trust == Trust::Config));
        assert!(d[0].env.iter().any(|e| e.name == "PORT" && !e.required));
        assert!(d[0].findings.is_empty());
        assert!(
            d[0].databases.is_empty(),
            "testcontainers is not a database"
        );
        assert_eq!(d[0].starts[0].value, "java -jar target/svc-1.0.jar");
        assert_eq!(d[0].builds[0].value, "mvn -B -DskipTests package");
    }

    #[test]
    fn gradle_without_name_or_version() {
        let d = detect_at(
            &[
                ("build.gradle", "plugins { id 'org.springframework.boot' version '3.2.0' }\nversion = rootProject.file('VERSION').text.trim()\ndependencies { implementation 'org.springframework.boot:spring-boot-starter-web' }\n"),
                ("src/main/java/A.java", "@SpringBootApplication class A {}\n"),
            ],
            "",
        );
        assert_eq!(d[0].builds[0].value, "gradle bootJar -x test");
        assert_eq!(d[0].starts[0].value, "java -jar build/libs/app.jar");
        assert!(d[0].findings.iter().any(|f| f.kind == "jar_name_unknown"));
    }

    #[test]
    fn gradle_aggregator_root_is_weak() {
        let d = detect_at(
            &[
                (
                    "settings.gradle",
                    "rootProject.name = 'shop'\ninclude 'api'\n",
                ),
                (
                    "build.gradle",
                    "plugins { id 'org.springframework.boot' version '3.2.0' apply false }\n",
                ),
                (
                    "api/build.gradle",
                    "plugins { id 'org.springframework.boot' }\n",
                ),
            ],
            "",
        );
        assert!(d[0].framework.is_none());
        assert!(d[0].strength < 2.0);
        let m = detect_at(
            &[
                (
                    "settings.gradle",
                    "rootProject.name = 'shop'\ninclude 'api'\n",
                ),
                ("gradle.properties", "version=3.1\n"),
                ("gradlew", ""),
                ("gradle/wrapper/gradle-wrapper.properties", ""),
                (
                    "api/build.gradle",
                    "plugins { id 'org.springframework.boot' }\n",
                ),
                (
                    "api/src/main/java/A.java",
                    "@SpringBootApplication class A {}\n",
                ),
            ],
            "api",
        );
        assert_eq!(m[0].builds[0].value, "../gradlew bootJar -x test");
        assert_eq!(m[0].starts[0].value, "java -jar build/libs/api-3.1.jar");
    }

    #[test]
    fn plain_gradle_application_and_library() {
        let d = detect_at(
            &[
                ("settings.gradle.kts", "rootProject.name = \"tool\"\n"),
                ("build.gradle.kts", "plugins {\n    application\n}\napplication { mainClass.set(\"x.Main\") }\n"),
                ("src/main/java/x/Main.java", "public class Main { public static void main(String[] a) { System.getenv(\"TOKEN\"); } }\n"),
            ],
            "",
        );
        assert_eq!(d[0].starts[0].value, "./build/install/tool/bin/tool");
        assert!(d[0].env.iter().any(|e| e.name == "TOKEN" && e.required));
        let lib = detect_at(
            &[("pom.xml", "<project><artifactId>lib</artifactId></project>")],
            "",
        );
        assert!(lib[0].findings.iter().any(|f| f.kind == "start_not_found"));
        assert!(lib[0].strength <= 2.5);
    }

    #[test]
    fn malformed_pom() {
        let d = detect_at(&[("pom.xml", "<project>")], "");
        assert_eq!(d[0].findings[0].kind, "invalid_manifest");
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_fragments(src in r#"(plugins \{|id\("org\.springframework\.boot"\)|version = |"1\.0"|implementation\(|"org\.postgresql:postgresql"|\)|\}|\n|server:\n  port: |\$\{PORT:|\$\{|\}|: |=|- |---\n|'|"|é|System\.getenv\("X"\)|@Value\("|kotlin\("jvm"\)|<project>|</project>){0,50}"#) {
            let _ = detect_at(
                &[
                    ("build.gradle.kts", src.as_str()),
                    ("settings.gradle.kts", src.as_str()),
                    ("src/main/resources/application.yml", src.as_str()),
                    ("src/main/resources/application.properties", src.as_str()),
                    ("src/main/kotlin/A.kt", src.as_str()),
                ],
                "",
            );
            let _ = detect_at(&[("pom.xml", src.as_str())], "");
        }
    }
}
