//! Dockerfiles and `.dockerignore` for every service that runs code (web and
//! worker services). Static services get none: they are built by their own
//! build command and served from storage/CDN.
//!
//! Layout: one service → `Dockerfile` at the bundle root; several →
//! `docker/<service>.Dockerfile`. One `.dockerignore` at the bundle root. The
//! build context is always the **repository root** (monorepos build with
//! `../` paths); the service runs from `/app/<service path>`.
//!
//! Every Dockerfile is multi-stage (toolchain image → slim run image, both
//! pinned by the decision's `RuntimePlan`), runs as UID 10001, sets `PORT`,
//! `EXPOSE`s it, has a `HEALTHCHECK` on the health path using a tool present in
//! the run image (python/node/ruby/php one-liners, else `curl` installed
//! explicitly), and runs the repository's start command in JSON exec form
//! through `|docker_cmd`. Repository commands (install/build/start) reach `RUN`
//! and `CMD` only through `|docker_cmd`; repository paths reach `COPY` only in
//! JSON form after a strict character check (no `$`, quotes, spaces, `..`).
//! A service folder that fails the check (hostile names) gets `WORKDIR /app`
//! and a `cd '<folder>' && ` prefix (shell-quoted with `sh`) inside the
//! `|docker_cmd` strings instead, and no manifest-first layer.
//! Dependency manifests are copied and installed before the source (layer
//! caching) for Python, Node, Go and Ruby when the install command does not
//! install the project itself; Rust, JVM, PHP, .NET and Elixir resolve
//! dependencies after copying the source (their installs/postinstall hooks need
//! the project tree, and a stub layout would be guesswork).
//!
//! The repository's own Dockerfile: we still render ours (it follows the
//! non-root / pinned / HEALTHCHECK policy) and note in a leading comment that
//! the repository ships one — the deploy stage decides which to use. Only when
//! we cannot build the service ourselves (unknown language, no start command,
//! or a compiled language without a build command) do we render nothing for it
//! and leave the repository's Dockerfile as the one to use; without one, that
//! case is a clear `unsupported` error when the service's strategy runs images
//! (container, kubernetes), and no Dockerfile otherwise (a VM, a Lambda zip or
//! a local process does not need one, so render never fails on it there).
//!
//! Other modules locate the files with [`bundle_dockerfile`] (the single
//! naming rule) and [`own_dockerfile_blocker`].
//!
//! Not here: choosing images (decide did), building or pushing images (execute).

use crate::{file, BundleFile, RenderError};
use autodeploy_core::release_cli::CargoCli;
use autodeploy_core::{
    Analysis, Database, Decision, DeployStrategy, EnvValue, HealthAnswer, ImageSource, ServiceKind,
    ServicePlan,
};
use serde::Serialize;

/// UID/GID of the non-root user in every image (the k8s manifests use it too).
pub const APP_UID: u32 = 10001;

pub(crate) const POETRY: &str = "poetry==1.8.3";
pub(crate) const PIPENV: &str = "pipenv==2024.0.1";
const UV: &str = "uv==0.4.30";
/// The Node a Python image's asset build gets: the line decide chose
/// (`RuntimePlan::assets_node`, from the package.json), on Debian bookworm;
/// `22` when a plan made before that field carries none.
/// The build stage's file of install constraints.
const CONSTRAINTS: &str = "/opt/autodeploy-constraints.txt";

fn node_for_assets(line: Option<&str>) -> String {
    let line = line.unwrap_or("22");
    // Lines that ended before Debian bookworm have no bookworm images; their
    // bullseye build runs in a bookworm image (official Node binaries need
    // an older glibc than either).
    let major = line.split('.').next().and_then(|m| m.parse::<u32>().ok());
    let distro = if major.is_some_and(|m| m <= 14) {
        "bullseye"
    } else {
        "bookworm"
    };
    format!("node:{line}-{distro}-slim")
}

/// Whether a Node image still bundles corepack (Node 25 dropped it).
fn bundles_corepack(image: &str) -> bool {
    let tag = image.split(':').nth(1).unwrap_or("");
    tag.split(['.', '-'])
        .next()
        .and_then(|m| m.parse::<u32>().ok())
        .is_none_or(|major| major < 25)
}

/// Settings a Python framework needs to load at all, given to the build
/// command when the deployment sets them as plain values.
const BUILD_SETTINGS: &[&str] = &["DJANGO_SETTINGS_MODULE", "DJANGO_CONFIGURATION"];

#[derive(Debug, Serialize)]
struct CopySpec {
    src: String,
    dest: String,
}

/// Files of one folder copied in one COPY (a glob that matches nothing is fine
/// when a literal file of the same COPY exists).
#[derive(Debug, Serialize)]
struct ManifestGroup {
    srcs: Vec<String>,
    dest: String,
}

#[derive(Debug, Serialize)]
struct DockerCtx {
    /// Comment-safe service name.
    service: String,
    /// Comment-safe path of the repository's own Dockerfile.
    repo_dockerfile: Option<String>,
    family: String,
    version: String,
    build_image: String,
    run_image: String,
    /// Absolute working directory in both stages.
    workdir: String,
    /// `cd '<path>' && ` when the path cannot be a WORKDIR verbatim, else empty.
    cd: String,
    build_env: Vec<(String, String)>,
    build_setup: Vec<String>,
    /// Repository-relative files copied before the install, grouped by folder
    /// (empty: source first).
    manifests: Vec<ManifestGroup>,
    install: Option<String>,
    build: Option<String>,
    /// Environment only for the build command (never a secret: placeholders frameworks document).
    build_cmd_env: String,
    /// The official Node image whose node, npm and corepack the build stage
    /// copies, when a Python service's build runs npm/yarn/pnpm (its assets).
    node_stage: Option<String>,
    /// The Node stage has corepack to link (Node 24 and older).
    node_corepack: bool,
    /// Absolute folders under `/app` made in the build stage (`make_dirs`).
    make_dirs: Vec<String>,
    /// The run stage's working folder belongs to the app's user: the
    /// service keeps its data in files there (`writes_local_data`).
    own_workdir: bool,
    start: String,
    run_env: Vec<(String, String)>,
    run_setup: Vec<String>,
    copies: Vec<CopySpec>,
    uid: u32,
    alpine_run: bool,
    port: Option<u16>,
    health: Option<Vec<String>>,
    health_interval: u32,
    health_timeout: u32,
    health_start: u32,
    health_retries: u32,
}

/// Every Dockerfile plus the `.dockerignore`.
pub fn render(d: &Decision, a: &Analysis) -> Result<Vec<BundleFile>, RenderError> {
    let mut files = Vec::new();
    for (s, path) in layout(d) {
        let Some(ctx) = context(d, a, s)? else {
            continue;
        };
        files.push(file(&path, "docker/Dockerfile", &ctx)?);
    }
    if !files.is_empty() {
        files.push(file(".dockerignore", "docker/dockerignore", ())?);
    }
    Ok(files)
}

/// Every service that runs code with the bundle path its Dockerfile gets:
/// one such service → `Dockerfile`, several → `docker/<file_name>.Dockerfile`
/// (numbered on a clash), in the decision's order.
fn layout(d: &Decision) -> Vec<(&ServicePlan, String)> {
    let running: Vec<&ServicePlan> = d
        .services
        .iter()
        .filter(|s| matches!(s.kind, ServiceKind::Web | ServiceKind::Worker))
        .collect();
    let one = running.len() == 1;
    let mut used: Vec<String> = Vec::new();
    running
        .into_iter()
        .map(|s| {
            if one {
                return (s, "Dockerfile".to_string());
            }
            let mut base = file_name(&s.name);
            let mut n = 2;
            while used.contains(&base) {
                base = format!("{}-{n}", file_name(&s.name));
                n += 1;
            }
            used.push(base.clone());
            (s, format!("docker/{base}.Dockerfile"))
        })
        .collect()
}

/// The bundle path of the Dockerfile rendered for service `service`, or None
/// when none is rendered for it (static service, or the repository's own
/// Dockerfile is the one to build — see [`own_dockerfile_blocker`]).
pub fn bundle_dockerfile(d: &Decision, service: &str) -> Option<String> {
    layout(d)
        .into_iter()
        .find(|(s, _)| s.name == service)
        .filter(|(s, _)| s.image != ImageSource::Repository && own_dockerfile_blocker(s).is_none())
        .map(|(_, p)| p)
}

/// Why we cannot write a Dockerfile for this service ourselves (None: we can).
pub fn own_dockerfile_blocker(s: &ServicePlan) -> Option<&'static str> {
    let rt = &s.runtime;
    let family = rt.family.as_str();
    if s.start.as_deref().is_none_or(|c| c.trim().is_empty()) {
        return Some("no start command was found in the repository; add a start script/Procfile or a Dockerfile");
    }
    if !matches!(
        family,
        "python" | "node" | "go" | "rust" | "jvm" | "ruby" | "php" | "dotnet" | "elixir"
    ) {
        return Some("its language is unknown; ship a Dockerfile in the repository");
    }
    let compiled = matches!(family, "go" | "rust" | "jvm" | "dotnet" | "elixir");
    if compiled && s.build.as_deref().is_none_or(|b| b.trim().is_empty()) {
        return Some("a compiled service needs a build command and none was found");
    }
    match (rt.build_image.as_deref(), rt.run_image.as_deref()) {
        (Some(b), Some(r)) if plain_image(b) && plain_image(r) => None,
        (Some(_), Some(_)) => Some("the chosen base image is not a pinned image reference"),
        _ => Some("no pinned base images were chosen for its runtime"),
    }
}

/// A file-name-safe form of a service name.
pub fn file_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    let out = out.trim_matches('-').to_string();
    if out.is_empty() {
        "service".into()
    } else {
        out
    }
}

/// Text safe inside a `#` comment line: printable ASCII only.
fn comment_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if (' '..='~').contains(&c) && c != '\\' {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// The `cd` a script run in `s`'s image needs to reach the folder the
/// image's own command runs in: the bundle's image prefixes one when the
/// service folder cannot be a WORKDIR verbatim; the project's own image
/// has its own WORKDIR.
pub(crate) fn cd_in_image(s: &ServicePlan) -> String {
    if s.image == ImageSource::Bundle && s.path != "." && !plain_path(&s.path) {
        format!("cd {}\n", crate::escape::sh(&s.path))
    } else {
        String::new()
    }
}

/// A path usable verbatim in WORKDIR / COPY: `[A-Za-z0-9._/-]`, relative, no `..`.
pub(crate) fn plain_path(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'))
        && p.split('/').all(|seg| seg != "..")
}

/// An image reference safe to write after FROM.
fn plain_image(s: &str) -> bool {
    !s.is_empty()
        && !s.ends_with(":latest")
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ':' | '@'))
}

/// `base` joined with a relative path, normalised; None when it leaves the repository
/// or is not a plain path.
fn repo_rel(base: &str, rel: &str) -> Option<String> {
    if rel.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for seg in base.split('/').chain(rel.split('/')) {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    (joined.is_empty() || plain_path(&joined)).then_some(joined)
}

/// Words of a command, skipping leading `NAME=value` assignments.
fn words(cmd: &str) -> Vec<&str> {
    let mut w: Vec<&str> = cmd.split_whitespace().collect();
    while w
        .first()
        .is_some_and(|t| t.contains('=') && !t.starts_with('-') && !t.contains('/'))
    {
        w.remove(0);
    }
    w
}

/// The value after `flag` in a command (`-o bin/app`).
fn flag_value<'a>(cmd: &'a str, flag: &str) -> Option<&'a str> {
    let w: Vec<&str> = cmd.split_whitespace().collect();
    w.iter()
        .position(|t| *t == flag)
        .and_then(|i| w.get(i + 1).copied())
}

fn parent(p: &str) -> String {
    match p.rfind('/') {
        Some(i) => p[..i].to_string(),
        None => String::new(),
    }
}

fn abs(rel: &str) -> String {
    if rel.is_empty() {
        "/app".into()
    } else {
        format!("/app/{rel}")
    }
}

/// Copy one built file into the same place in the run stage.
fn copy_file(rel: &str) -> CopySpec {
    CopySpec {
        src: abs(rel),
        dest: format!("{}/", abs(&parent(rel))),
    }
}

/// Copy one built folder into the same place in the run stage.
fn copy_dir(rel: &str) -> CopySpec {
    CopySpec {
        src: abs(rel),
        dest: abs(rel),
    }
}

/// The Debian packages of the database client libraries a native driver
/// links against: (to build with, to run with).
fn client_libs(
    postgres: bool,
    mysql: bool,
    sqlite: bool,
) -> (Vec<&'static str>, Vec<&'static str>) {
    let mut build = Vec::new();
    let mut run = Vec::new();
    for (on, dev, lib) in [
        (postgres, "libpq-dev", "libpq5"),
        (mysql, "default-libmysqlclient-dev", "libmariadb3"),
        (sqlite, "libsqlite3-dev", "libsqlite3-0"),
    ] {
        if on {
            build.push(dev);
            run.push(lib);
        }
    }
    (build, run)
}

/// The migration CLI the service's release step runs (diesel_cli, sqlx-cli:
/// its migrations are not embedded in the binary), with the backend to
/// build it for.
fn release_cli(s: &ServicePlan, dbs: &[Database]) -> Option<(&'static CargoCli, &'static str)> {
    let cli = CargoCli::for_command(s.release.as_deref()?)?;
    Some((cli, CargoCli::backend(dbs)))
}

/// The build command's prefix that gives it a schema to check sqlx queries
/// against (`Service::build_schema`): the build stage's own PostgreSQL
/// started, the project's migrations in `folder` applied in order (sqlx's
/// `<version>_<name>.sql`, the `.up.sql` of reversible ones; the shell's
/// glob is sorted), and
/// `DATABASE_URL` naming it — for this `RUN` only; the run stage has none.
fn build_schema_prefix(folder: &str) -> String {
    format!(
        "pg_ctlcluster \"$(ls /etc/postgresql)\" main start && \
         runuser -u postgres -- psql -q -c \"ALTER USER postgres PASSWORD 'build'\" && \
         export DATABASE_URL=postgres://postgres:build@127.0.0.1:5432/postgres && \
         for f in {}/*.sql; do case \"$f\" in *.down.sql) continue ;; esac; \
         psql -q -v ON_ERROR_STOP=1 \"$DATABASE_URL\" -f \"$f\" || exit 1; done && ",
        crate::escape::sh(folder)
    )
}

/// What to carry from the build stage for compiled languages (None: all of /app).
fn artifacts(family: &str, path: &str, build: &str, start: &str) -> Option<Vec<CopySpec>> {
    let base = if path == "." { "" } else { path };
    match family {
        "go" => {
            let out = flag_value(build, "-o").or_else(|| words(start).first().copied())?;
            Some(vec![copy_file(&repo_rel(base, out)?)])
        }
        "rust" => {
            let bin = words(start).first().copied()?;
            bin.contains("target/")
                .then(|| repo_rel(base, bin))
                .flatten()
                .map(|r| vec![copy_file(&r)])
        }
        "jvm" => {
            let jar = words(start).into_iter().find(|t| t.ends_with(".jar"))?;
            if jar.contains('*') {
                return None;
            }
            let rel = repo_rel(base, jar)?;
            let dir = parent(&rel);
            let dir_in_service = parent(jar);
            if matches!(dir_in_service.as_str(), "target" | "build/libs") {
                Some(vec![copy_file(&rel)])
            } else if !dir.is_empty() {
                Some(vec![copy_dir(&dir)])
            } else {
                None
            }
        }
        "dotnet" => {
            let out = flag_value(build, "-o").or_else(|| flag_value(build, "--output"))?;
            Some(vec![copy_dir(&repo_rel(base, out)?)])
        }
        "elixir" => {
            let w = words(start);
            let tok = w.first()?;
            let i = tok.find("_build/prod/rel/")?;
            let rest = &tok[i + "_build/prod/rel/".len()..];
            let name = rest.split('/').next()?;
            let rel = repo_rel(base, &format!("{}_build/prod/rel/{name}", &tok[..i]))?;
            Some(vec![copy_dir(&rel)])
        }
        _ => None,
    }
}

fn apt(packages: &[&str]) -> String {
    format!(
        "apt-get update && apt-get install -y --no-install-recommends {} && rm -rf /var/lib/apt/lists/*",
        packages.join(" ")
    )
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// `-r FILE` arguments of a pip install (None when it installs anything local).
fn pip_requirements(install: &str) -> Option<Vec<String>> {
    let w: Vec<&str> = install.split_whitespace().collect();
    let mut files = Vec::new();
    let mut i = 0;
    while i < w.len() {
        match w[i] {
            "-r" | "--requirement" | "-c" | "--constraint" => {
                files.push(w.get(i + 1)?.to_string());
                i += 2;
                continue;
            }
            "." | "-e" | "--editable" => return None,
            t if t.starts_with('.') || t.starts_with('/') => return None,
            _ => {}
        }
        i += 1;
    }
    (!files.is_empty()).then_some(files)
}

fn context(d: &Decision, a: &Analysis, s: &ServicePlan) -> Result<Option<DockerCtx>, RenderError> {
    let rt = &s.runtime;
    let family = rt.family.as_str();
    let compiled = matches!(family, "go" | "rust" | "jvm" | "dotnet" | "elixir");
    // The project's own Dockerfile builds this one (decide/image.rs).
    if s.image == ImageSource::Repository {
        return Ok(None);
    }
    if let Some(why) = own_dockerfile_blocker(s) {
        let needs_image = matches!(
            s.strategy,
            DeployStrategy::Container | DeployStrategy::Kubernetes
        );
        return if s.dockerfile.is_some() || !needs_image {
            // The repository's own Dockerfile is the one to use, or this
            // strategy (vm, serverless zip, local process) needs no image.
            Ok(None)
        } else {
            Err(crate::unsupported(
                d,
                &format!("a Dockerfile for service {:?}", s.name),
                why,
            ))
        };
    }
    let start = s.start.clone().unwrap_or_default();
    let build_image = rt.build_image.clone().unwrap_or_default();
    let run_image = rt.run_image.clone().unwrap_or_default();
    let analysed = a.services.iter().find(|x| x.name == s.name);
    let databases: Vec<Database> = analysed.map(|x| x.databases.clone()).unwrap_or_default();
    let release_library = analysed.and_then(|x| x.release_library_version.as_deref());
    let postgres = databases.contains(&Database::Postgresql);
    let mysql = databases.contains(&Database::Mysql);
    let sqlite = databases.contains(&Database::Sqlite);

    let simple = s.path == "." || plain_path(&s.path);
    let base = if s.path == "." { "" } else { s.path.as_str() };
    let (workdir, cd) = if simple {
        (abs(base), String::new())
    } else {
        (
            "/app".to_string(),
            format!("cd {} && ", crate::escape::sh(&s.path)),
        )
    };
    let install = s.install.clone().filter(|c| !c.trim().is_empty());
    let build = s.build.clone().filter(|c| !c.trim().is_empty());
    // The installer is the first command that is not an `npm pkg set` the
    // analysis put before it (a lock override: analyze's node/lock.rs).
    let install_tool = install
        .as_deref()
        .and_then(|i| {
            i.split("&&")
                .find(|c| !c.trim_start().starts_with("npm pkg set "))
                .and_then(|c| words(c).first().copied())
        })
        .unwrap_or("")
        .to_string();
    let uses = |cmd: &Option<String>, tool: &str| {
        cmd.as_deref().is_some_and(|c| {
            c.split(|ch: char| ch.is_whitespace() || ch == '&' || ch == ';')
                .any(|w| w == tool)
        })
    };
    let start_opt = Some(start.clone());

    let mut build_env: Vec<(String, String)> = Vec::new();
    let mut build_setup: Vec<String> = Vec::new();
    let mut node_stage: Option<String> = None;
    let mut manifests: Vec<String> = Vec::new();
    let mut run_env: Vec<(String, String)> = Vec::new();
    let mut run_setup: Vec<String> = Vec::new();
    let mut copies: Vec<CopySpec> = Vec::new();
    let mut build_cmd_env = String::new();
    let mut whole_app = true;
    let mut cli_copy: Option<&CargoCli> = None;
    let health_url_tool: &str;

    match family {
        "python" => {
            let py_env = [
                ("PYTHONDONTWRITEBYTECODE", "1"),
                ("PYTHONUNBUFFERED", "1"),
                ("PIP_NO_CACHE_DIR", "1"),
                ("PIP_DISABLE_PIP_VERSION_CHECK", "1"),
                ("VIRTUAL_ENV", "/opt/venv"),
                ("PATH", "/opt/venv/bin:$PATH"),
            ];
            build_env = env(&py_env);
            run_env = env(&py_env);
            // What the install must hold back (the analysis' constraints:
            // `SQLAlchemy<2.1` beside psycopg2), for pip and uv alike;
            // written before anything runs pip.
            if !s.install_constraints.is_empty() {
                let lines: Vec<String> = s
                    .install_constraints
                    .iter()
                    .map(|c| crate::escape::sh(&c.requirement))
                    .collect();
                build_setup.push(format!(
                    "printf '%s\\n' {} > {CONSTRAINTS}",
                    lines.join(" ")
                ));
                build_env.push(("PIP_CONSTRAINT".into(), CONSTRAINTS.into()));
                build_env.push(("UV_CONSTRAINT".into(), CONSTRAINTS.into()));
            }
            let mut pkgs = vec!["build-essential"];
            if postgres {
                pkgs.push("libpq-dev");
            }
            if mysql {
                pkgs.extend(["default-libmysqlclient-dev", "pkg-config"]);
            }
            build_setup.push(apt(&pkgs));
            build_setup.push("python -m venv /opt/venv".into());
            let mut run_pkgs: Vec<&str> = Vec::new();
            if postgres {
                run_pkgs.push("libpq5");
            }
            if mysql {
                run_pkgs.push("libmariadb3");
            }
            // The dependency installer is the last step of the install:
            // what the project's image runs before it (`npm ci`, pinned
            // pip installs) comes first.
            let install_tool = install
                .as_deref()
                .and_then(|i| i.rsplit("&&").next())
                .and_then(|c| words(c).first().copied())
                .unwrap_or("")
                .to_string();
            let tool = match install_tool.as_str() {
                "poetry" => {
                    build_env.push(("POETRY_VIRTUALENVS_CREATE".into(), "false".into()));
                    run_env.push(("POETRY_VIRTUALENVS_CREATE".into(), "false".into()));
                    Some(POETRY)
                }
                "pipenv" => Some(PIPENV),
                "uv" => {
                    build_env.push(("UV_PROJECT_ENVIRONMENT".into(), "/opt/venv".into()));
                    run_env.push(("UV_PROJECT_ENVIRONMENT".into(), "/opt/venv".into()));
                    Some(UV)
                }
                _ => None,
            };
            if let Some(t) = tool {
                // uv lives outside the venv (uv sync would remove itself from it).
                let pip = if t == UV { "/usr/local/bin/pip" } else { "pip" };
                build_setup.push(format!("{pip} install --no-cache-dir {t}"));
                let tool_name = t.split("==").next().unwrap_or(t);
                if uses(&start_opt, tool_name) && t == UV {
                    run_setup.push(format!("/usr/local/bin/pip install --no-cache-dir {t}"));
                }
            }
            if !run_pkgs.is_empty() {
                run_setup.insert(0, apt(&run_pkgs));
            }
            if simple {
                let m: Option<Vec<String>> = match install_tool.as_str() {
                    // With the files those include (`-r requirements/production.txt`,
                    // service-relative like the others).
                    "pip" | "pip3" => install.as_deref().and_then(pip_requirements).map(|mut m| {
                        let prefix = if base.is_empty() {
                            String::new()
                        } else {
                            format!("{base}/")
                        };
                        for f in &s.install_files {
                            if let Some(rel) = f.strip_prefix(&prefix) {
                                if !m.iter().any(|x| x == rel) {
                                    m.push(rel.to_string());
                                }
                            }
                        }
                        m
                    }),
                    "poetry" if install.as_deref().is_some_and(|i| i.contains("--no-root")) => {
                        Some(vec!["pyproject.toml".into(), "poetry.lock*".into()])
                    }
                    "pipenv" => Some(vec!["Pipfile".into(), "Pipfile.lock*".into()]),
                    "uv" if install
                        .as_deref()
                        .is_some_and(|i| i.contains("--no-install-project")) =>
                    {
                        Some(vec!["pyproject.toml".into(), "uv.lock*".into()])
                    }
                    _ => None,
                };
                // The assets' package manifests an npm install in front needs.
                let node = [
                    ("npm", &["package.json", "package-lock.json*"][..]),
                    ("yarn", &["package.json", "yarn.lock*"][..]),
                    ("pnpm", &["package.json", "pnpm-lock.yaml*"][..]),
                ]
                .iter()
                .find(|(t, _)| uses(&install, t))
                .map(|(_, files)| files.iter().map(|f| f.to_string()));
                manifests = m
                    .map(|mut m| {
                        m.extend(node.into_iter().flatten());
                        m
                    })
                    .unwrap_or_default();
            }
            copies.push(CopySpec {
                src: "/opt/venv".into(),
                dest: "/opt/venv".into(),
            });
            health_url_tool = "python";
            if ["npm", "yarn", "pnpm", "npx"]
                .iter()
                .any(|t| uses(&build, t) || uses(&install, t))
            {
                node_stage = Some(node_for_assets(s.runtime.assets_node.as_deref()));
            }
            // The settings module the deployment sets at run time, for the
            // build's management commands too (`collectstatic` is "Unknown
            // command" without it).
            for name in BUILD_SETTINGS {
                if let Some(EnvValue::Literal { value }) = s
                    .env
                    .iter()
                    .find(|b| b.name == *name && !b.secret)
                    .map(|b| &b.value)
                {
                    build_cmd_env
                        .push_str(&format!("export {name}={} && ", crate::escape::sh(value)));
                }
            }
        }
        "node" => {
            let pm = match install_tool.as_str() {
                "yarn" => "yarn",
                "pnpm" => "pnpm",
                "bun" => "bun",
                _ => "npm",
            };
            let next = rt.framework.as_deref() == Some("nextjs");
            build_env = env(&[("COREPACK_HOME", "/opt/corepack")]);
            run_env = env(&[
                ("NODE_ENV", "production"),
                ("COREPACK_HOME", "/opt/corepack"),
            ]);
            if next {
                build_env.push(("NEXT_TELEMETRY_DISABLED".into(), "1".into()));
                run_env.push(("NEXT_TELEMETRY_DISABLED".into(), "1".into()));
                // `next build` loads every route module to collect page
                // data; one that checks its database URL at import
                // (`if (!process.env.DATABASE_URL) throw …`: next-self-host)
                // stops the build, which has no database. The build gets a
                // placeholder URL of the same engine; the container gets the
                // real one at run time.
                for b in &s.env {
                    if let EnvValue::Database {
                        output: autodeploy_core::DatabaseOutput::Url,
                        ..
                    } = &b.value
                    {
                        let placeholder = if mysql {
                            "mysql://build:build@127.0.0.1:3306/build"
                        } else {
                            "postgresql://build:build@127.0.0.1:5432/build"
                        };
                        build_cmd_env.push_str(&format!(
                            "export {}=\"${{{}:-{placeholder}}}\" && ",
                            b.name, b.name
                        ));
                    }
                }
            }
            let berry =
                pm == "yarn" && install.as_deref().is_some_and(|i| i.contains("-immutable"));
            // Node 25 images no longer ship corepack: npm installs it there
            // (as on VMs), at 0.34.6, the last release whose engines take
            // Node 25 (0.35 asks for 22.22, 24.15 or 26+).
            let corepack = if pm == "pnpm" {
                Some("(command -v corepack >/dev/null || npm install -g corepack@0.34.6) && corepack enable pnpm")
            } else if berry {
                Some("rm -f /usr/local/bin/yarn /usr/local/bin/yarnpkg && (command -v corepack >/dev/null || npm install -g corepack@0.34.6) && corepack enable yarn")
            } else {
                None
            };
            build_setup.push("mkdir -p /opt/corepack".into());
            // Bun projects (`bun install`, `bun run start`): the Node image
            // has no bun; npm installs the current 1.x (the build for this
            // CPU comes with it), in both stages.
            let runs_bun = pm == "bun"
                || [s.build.as_deref(), s.start.as_deref(), s.release.as_deref()]
                    .into_iter()
                    .flatten()
                    .any(|c| c.split_whitespace().any(|w| w == "bun" || w == "bunx"));
            if runs_bun {
                build_setup.push("npm install -g bun@1".into());
                run_setup.push("npm install -g bun@1".into());
            }
            if let Some(c) = corepack {
                build_env.extend(env(crate::COREPACK_ENV));
                run_env.extend(env(crate::COREPACK_ENV));
                build_setup.push(c.to_string());
                run_setup.push(c.to_string());
                copies.push(CopySpec {
                    src: "/opt/corepack".into(),
                    dest: "/opt/corepack".into(),
                });
            }
            if simple && install.is_some() {
                manifests = match pm {
                    "yarn" => vec![
                        "package.json".into(),
                        "yarn.lock*".into(),
                        ".yarnrc.yml*".into(),
                    ],
                    "pnpm" => vec![
                        "package.json".into(),
                        "pnpm-lock.yaml*".into(),
                        "pnpm-workspace.yaml*".into(),
                        ".npmrc*".into(),
                    ],
                    "bun" => vec![
                        "package.json".into(),
                        "bun.lock*".into(),
                        "bunfig.toml*".into(),
                        ".npmrc*".into(),
                    ],
                    _ => vec![
                        "package.json".into(),
                        "package-lock.json*".into(),
                        "npm-shrinkwrap.json*".into(),
                        ".npmrc*".into(),
                    ],
                };
            }
            health_url_tool = "node";
        }
        "go" => {
            build_env = env(&[("CGO_ENABLED", if sqlite { "1" } else { "0" })]);
            if simple && install_tool == "go" {
                manifests = vec!["go.mod".into(), "go.sum*".into()];
            }
            run_setup.push(apt(&["ca-certificates", "curl"]));
            health_url_tool = "curl";
        }
        "rust" => {
            // The client libraries diesel (and other -sys crates) link against.
            let (libs, run_libs) = client_libs(postgres, mysql, sqlite);
            let mut pkgs = vec!["pkg-config", "libssl-dev"];
            let mut run_pkgs = vec!["ca-certificates", "curl", "libssl3"];
            pkgs.extend(libs);
            // sqlx checks its queries against a live schema at compile time
            // and the project commits no offline data: a PostgreSQL in the
            // build stage alone, with the project's migrations applied.
            if let Some(folder) = analysed
                .and_then(|x| x.build_schema.as_deref())
                .filter(|_| postgres)
            {
                pkgs.push("postgresql");
                build_cmd_env = build_schema_prefix(folder);
            }
            run_pkgs.extend(run_libs);
            build_setup.push(apt(&pkgs));
            run_setup.push(apt(&run_pkgs));
            if let Some((cli, backend)) = release_cli(s, &databases) {
                // The release step (`diesel migration run`, `sqlx migrate
                // run`) needs its CLI, which `cargo build` does not install,
                // beside the app.
                build_setup.push(format!(
                    "cargo install {} --root /opt/release-cli",
                    cli.install_args_locked(backend, release_library)
                ));
                cli_copy = Some(cli);
            }
            health_url_tool = "curl";
        }
        "jvm" => {
            run_env = env(&[("JAVA_TOOL_OPTIONS", "-XX:MaxRAMPercentage=75")]);
            run_setup.push(apt(&["curl"]));
            health_url_tool = "curl";
        }
        "ruby" => {
            let rb_env = [
                ("BUNDLE_PATH", "/usr/local/bundle"),
                ("BUNDLE_WITHOUT", "development:test"),
                ("RAILS_ENV", "production"),
                ("RACK_ENV", "production"),
                ("RAILS_LOG_TO_STDOUT", "1"),
                ("RAILS_SERVE_STATIC_FILES", "1"),
            ];
            build_env = env(&rb_env);
            run_env = env(&rb_env);
            let (libs, run_pkgs) = client_libs(postgres, mysql, false);
            let mut pkgs = vec!["build-essential", "git", "libyaml-dev"];
            pkgs.extend(libs);
            build_setup.push(apt(&pkgs));
            if !run_pkgs.is_empty() {
                run_setup.push(apt(&run_pkgs));
            }
            if rt.framework.as_deref() == Some("rails") {
                // Rails ≥ 7.1 builds assets with a throwaway key; the real one comes at run time.
                build_cmd_env = "export SECRET_KEY_BASE_DUMMY=1 && ".into();
            }
            if simple && install_tool == "bundle" {
                manifests = vec!["Gemfile".into(), "Gemfile.lock*".into()];
            }
            copies.push(CopySpec {
                src: "/usr/local/bundle".into(),
                dest: "/usr/local/bundle".into(),
            });
            health_url_tool = "ruby";
        }
        "php" => {
            build_env = env(&[
                ("COMPOSER_ALLOW_SUPERUSER", "1"),
                ("COMPOSER_IGNORE_PLATFORM_REQS", "1"),
            ]);
            let node = ["npm", "yarn", "pnpm", "npx"]
                .iter()
                .any(|t| uses(&build, t));
            if node {
                build_setup.push("apk add --no-cache nodejs npm".into());
            }
            let mut exts = Vec::new();
            let mut pkgs = Vec::new();
            if postgres {
                exts.push("pdo_pgsql");
                pkgs.push("libpq-dev");
            }
            if mysql {
                exts.push("pdo_mysql");
            }
            if !pkgs.is_empty() {
                run_setup.push(apt(&pkgs));
            }
            if !exts.is_empty() {
                run_setup.push(format!("docker-php-ext-install {}", exts.join(" ")));
            }
            health_url_tool = "php";
        }
        "dotnet" => {
            build_env = env(&[("DOTNET_CLI_TELEMETRY_OPTOUT", "1")]);
            run_env = env(&[("DOTNET_CLI_TELEMETRY_OPTOUT", "1")]);
            run_setup.push(apt(&["curl"]));
            health_url_tool = "curl";
        }
        "elixir" => {
            build_env = env(&[("MIX_ENV", "prod"), ("LANG", "C.UTF-8")]);
            run_env = env(&[("MIX_ENV", "prod"), ("LANG", "C.UTF-8")]);
            build_setup.push(apt(&["build-essential", "git"]));
            build_setup.push("mix local.hex --force && mix local.rebar --force".into());
            run_setup.push(apt(&[
                "libstdc++6",
                "openssl",
                "libncurses6",
                "locales",
                "ca-certificates",
                "curl",
            ]));
            health_url_tool = "curl";
        }
        _ => unreachable!("families filtered above"),
    }
    if compiled {
        if let Some(arts) = artifacts(family, &s.path, build.as_deref().unwrap_or(""), &start) {
            whole_app = false;
            copies.extend(arts);
        }
    }
    if whole_app {
        copies.push(CopySpec {
            src: "/app".into(),
            dest: "/app".into(),
        });
    }
    if let Some(cli) = cli_copy {
        copies.push(CopySpec {
            src: format!("/opt/release-cli/bin/{}", cli.program),
            dest: format!("/usr/local/bin/{}", cli.program),
        });
        if !whole_app {
            // What the migration CLI reads: the migrations, and the
            // Cargo.toml that marks the project's root for diesel (not
            // diesel.toml, whose print_schema would rewrite sources the
            // image lacks).
            for rel in ["Cargo.toml", "migrations"] {
                if let Some(r) = repo_rel(base, rel) {
                    copies.push(if rel == "migrations" {
                        copy_dir(&r)
                    } else {
                        copy_file(&r)
                    });
                }
            }
        }
    }
    // Manifest paths are repository-relative.
    let mut groups: Vec<ManifestGroup> = Vec::new();
    for m in manifests {
        // A trailing `*` (optional file) is ours; the rest must be a plain path.
        let (m, glob) = match m.strip_suffix('*') {
            Some(x) => (x.to_string(), "*"),
            None => (m, ""),
        };
        let Some(rel) = repo_rel(base, &m)
            .filter(|r| !r.is_empty())
            .map(|r| format!("{r}{glob}"))
        else {
            // A manifest outside the repository: install after the source instead.
            groups.clear();
            break;
        };
        let dest = format!("{}/", abs(&parent(&rel)));
        match groups.iter_mut().find(|g| g.dest == dest) {
            Some(g) => g.srcs.push(rel),
            None => groups.push(ManifestGroup {
                srcs: vec![rel],
                dest,
            }),
        }
    }
    // Every COPY needs one literal (non-glob) source.
    if groups
        .iter()
        .any(|g| g.srcs.iter().all(|s| s.contains('*')))
    {
        groups.clear();
    }
    let manifests = groups;

    let port = if s.kind == ServiceKind::Web {
        s.port
    } else {
        None
    };
    let hc = s.health_check.as_ref();
    let health = port.map(|p| {
        let path = hc
            .map(|h| h.path.as_str())
            .filter(|p| p.starts_with('/') && plain_url_path(p))
            .unwrap_or("/");
        let url = format!("http://127.0.0.1:{p}{path}");
        // The plan's accepted answers: below 400, or below 500 when no route
        // is known to answer 200 (decide/health.rs).
        let any = hc.is_some_and(|h| h.accept == HealthAnswer::AnyAnswer);
        let limit = hc.map_or(HealthAnswer::Success, |h| h.accept).first_failure();
        match health_url_tool {
            "python" if any => vec![
                "python".into(),
                "-c".into(),
                format!("import sys, urllib.error, urllib.request\ntry:\n    urllib.request.urlopen('{url}', timeout=4)\nexcept urllib.error.HTTPError as e:\n    sys.exit(e.code >= {limit})"),
            ],
            "python" => vec![
                "python".into(),
                "-c".into(),
                format!("import urllib.request; urllib.request.urlopen('{url}', timeout=4)"),
            ],
            "node" => vec![
                "node".into(),
                "-e".into(),
                format!("require('http').get('{url}', r => process.exit(r.statusCode < {limit} ? 0 : 1)).on('error', () => process.exit(1))"),
            ],
            "ruby" => vec![
                "ruby".into(),
                "-rnet/http".into(),
                "-e".into(),
                format!("exit(Net::HTTP.get_response(URI('{url}')).code.to_i < {limit})"),
            ],
            "php" if any => vec![
                "php".into(),
                "-r".into(),
                format!("@file_get_contents('{url}', false, stream_context_create(['http' => ['ignore_errors' => true, 'timeout' => 4]])); exit(isset($http_response_header[0]) && (int) substr($http_response_header[0], 9, 3) < {limit} ? 0 : 1);"),
            ],
            "php" => vec![
                "php".into(),
                "-r".into(),
                format!("exit(@file_get_contents('{url}') === false ? 1 : 0);"),
            ],
            _ if any => vec![
                "/bin/sh".into(),
                "-c".into(),
                format!("code=$(curl -sS -o /dev/null -w '%{{http_code}}' {url}) && [ \"$code\" -gt 0 ] && [ \"$code\" -lt {limit} ]"),
            ],
            _ => vec!["curl".into(), "-fsS".into(), "-o".into(), "/dev/null".into(), url],
        }
    });
    let alpine_run = run_image.contains("alpine");
    let node_corepack = node_stage.as_deref().is_some_and(bundles_corepack);
    if node_corepack {
        build_env.extend(env(crate::COREPACK_ENV));
    }
    Ok(Some(DockerCtx {
        service: comment_safe(&s.name),
        repo_dockerfile: s.dockerfile.as_deref().map(comment_safe),
        family: family.to_string(),
        version: comment_safe(&rt.version),
        build_image,
        run_image,
        workdir,
        cd,
        build_env,
        build_setup,
        manifests,
        install,
        build,
        build_cmd_env,
        node_corepack,
        node_stage,
        own_workdir: s.writes_local_data,
        make_dirs: s
            .make_dirs
            .iter()
            .filter(|d| {
                !d.is_empty()
                    && !d.starts_with('/')
                    && d.split('/').all(|p| !p.is_empty() && p != "." && p != "..")
            })
            .map(|d| format!("/app/{d}"))
            .collect(),
        start,
        run_env,
        run_setup,
        copies,
        uid: APP_UID,
        alpine_run,
        port,
        health,
        health_interval: hc.map(|h| h.interval_seconds).unwrap_or(30).max(5),
        health_timeout: hc.map(|h| h.timeout_seconds).unwrap_or(5).max(2),
        health_start: hc.map(|h| h.grace_period_seconds).unwrap_or(30),
        health_retries: hc.map(|h| h.unhealthy_threshold).unwrap_or(3).max(1),
    }))
}

/// A URL path with only unreserved characters (safe inside any one-liner's quotes).
pub fn plain_url_path(p: &str) -> bool {
    p.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '~'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_images_bundle_corepack_until_node_25() {
        assert_eq!(node_for_assets(Some("24")), "node:24-bookworm-slim");
        assert_eq!(node_for_assets(None), "node:22-bookworm-slim");
        assert_eq!(node_for_assets(Some("14.17")), "node:14.17-bullseye-slim");
        assert!(bundles_corepack("node:24-bookworm-slim"));
        assert!(bundles_corepack("node:20.11.1-bookworm-slim"));
        assert!(!bundles_corepack("node:25-bookworm-slim"));
        assert!(!bundles_corepack("node:26.1.0-bookworm-slim"));
    }

    #[test]
    fn paths_are_checked() {
        assert!(plain_path("services/api"));
        assert!(!plain_path("a b"));
        assert!(!plain_path("$(x)"));
        assert!(!plain_path("../x"));
        assert_eq!(
            repo_rel("crates/api", "../../target/release/x").as_deref(),
            Some("target/release/x")
        );
        assert_eq!(repo_rel("", "../x"), None);
        assert_eq!(file_name("My App;rm"), "my-app-rm");
    }

    #[test]
    fn artifacts_follow_the_build() {
        let a = artifacts("go", ".", "go build -o bin/app .", "./bin/app").unwrap();
        assert_eq!(a[0].src, "/app/bin/app");
        assert_eq!(a[0].dest, "/app/bin/");
        let a = artifacts(
            "jvm",
            "api",
            "mvn package",
            "java -jar target/quarkus-app/quarkus-run.jar",
        )
        .unwrap();
        assert_eq!(a[0].src, "/app/api/target/quarkus-app");
        let a = artifacts(
            "elixir",
            ".",
            "mix release",
            "PHX_SERVER=true _build/prod/rel/shop/bin/shop start",
        )
        .unwrap();
        assert_eq!(a[0].src, "/app/_build/prod/rel/shop");
        let a = artifacts(
            "dotnet",
            "TodoApi",
            "dotnet publish -c Release -o out",
            "dotnet out/x.dll",
        )
        .unwrap();
        assert_eq!(a[0].dest, "/app/TodoApi/out");
    }
}
