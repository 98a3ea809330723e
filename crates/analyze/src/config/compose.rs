//! docker-compose files: each service with a `build` context is a service of
//! ours (its folder, name and container port); services that run a database
//! or cache image (postgres, mysql, mongo, redis…) — or build one from their
//! own Dockerfile (`build: ./db` with `FROM postgres:16`) — become
//! `databases` of the services that use them; a service that runs once
//! before the others (`condition: service_completed_successfully`, or a
//! migration command) is the release step of the app built from the same
//! code.
//!
//! Image-only application services (no `build`) are not deployable from this
//! repository and are ignored.

use crate::ctx::Ctx;
use crate::draft::{ev, Draft, Trust};
use crate::repo::{join, normalize};
use autodeploy_core::{Database, Language, ServiceKind, Severity};
use serde_yaml::Value;

pub const NAMES: &[&str] = &[
    "docker-compose.yml",
    "docker-compose.yaml",
    "compose.yml",
    "compose.yaml",
];

/// One application service of a compose file.
#[derive(Debug, Clone, PartialEq)]
pub struct ComposeService {
    pub name: String,
    /// Build context, relative to the repository root (`""` for the root).
    pub dir: String,
    pub dockerfile: Option<String>,
    pub port: Option<u16>,
    pub databases: Vec<Database>,
    /// `environment:` names, with the value when it is written there.
    pub env: Vec<(String, Option<String>)>,
    /// `env_file:` paths, relative to the repository root, in the order
    /// compose reads them (a later file overrides an earlier one;
    /// `environment:` overrides them all).
    pub env_files: Vec<String>,
    pub command: Option<String>,
    /// The command as written, when `command` has been given the `cd` to
    /// the folder the container runs it in (`cd src && …`): what the
    /// project's own image runs in its WORKDIR.
    pub command_in_image: Option<String>,
    /// Repository folders bind-mounted into the container: (folder, where).
    pub mounts: Vec<(String, String)>,
    /// The compose `working_dir`, when it sets one.
    pub working_dir: Option<String>,
    /// Runs once and exits before the others start: another service waits
    /// for it to complete (`condition: service_completed_successfully`), or
    /// its command is a one-off step (`python manage.py migrate`).
    pub one_off: bool,
    /// Under `profiles:`: runs only when that profile is asked for
    /// (`docker compose --profile seed up`), so not part of the app —
    /// unless the project's env file turns the profile on
    /// (`COMPOSE_PROFILES=web,worker`).
    pub optional: bool,
    /// Its `profiles:`.
    pub profiles: Vec<String>,
    /// The Dockerfile stage it builds (`build.target`), lowercased.
    pub target: Option<String>,
    /// Every service name of the file (data services included): hosts
    /// that exist only on the compose network.
    pub peers: Vec<String>,
    /// The URL path its `healthcheck:` requests on the container itself
    /// (`curl -f http://localhost:8080/healthz`), with the port it names.
    pub health: Option<(Option<u16>, String)>,
    pub file: String,
    pub line: u32,
}

/// Database or cache named by an image (`postgres:16`, `bitnami/redis`,
/// `yobasystems/alpine-mariadb`): the image's name, or one word of it, is
/// the server's — unless another word makes it a tool beside one
/// (`postgres-exporter`, `redis-commander`, `mongo-express`).
pub fn database_of_image(image: &str) -> Option<Database> {
    let name = image.rsplit('/').next().unwrap_or(image);
    let name = name
        .split([':', '@'])
        .next()
        .unwrap_or(name)
        .to_ascii_lowercase();
    let engine = |word: &str| {
        Some(match word {
            "postgres" | "postgresql" | "postgis" | "timescaledb" => Database::Postgresql,
            "mysql" | "mariadb" | "percona" => Database::Mysql,
            "mongo" | "mongodb" => Database::Mongodb,
            "redis" | "valkey" | "keydb" => Database::Redis,
            _ => return None,
        })
    };
    const TOOLS: &[&str] = &[
        "exporter",
        "commander",
        "express",
        "admin",
        "adminer",
        "ui",
        "insight",
        "backup",
        "operator",
        "proxy",
        "client",
        "cli",
        "dump",
        "web",
        "sentinel",
        "bouncer",
        "gui",
    ];
    if let Some(db) = engine(&name) {
        return Some(db);
    }
    let words: Vec<&str> = name.split(['-', '_', '.']).collect();
    if words.iter().any(|w| TOOLS.contains(w)) {
        return None;
    }
    words.iter().find_map(|w| engine(w))
}

/// Parse every compose file in the repository.
pub fn services(ctx: &Ctx) -> Vec<ComposeService> {
    let mut out = Vec::new();
    for file in ctx.index().files() {
        // Every name ends so: a byte test before taking the name.
        if !(file.ends_with(".yml") || file.ends_with(".yaml")) {
            continue;
        }
        let name = crate::repo::file_name(file);
        if !NAMES.contains(&name) {
            continue;
        }
        let dir = crate::repo::parent(file);
        let Some(text) = ctx.read_path(file) else {
            continue;
        };
        out.extend(parse_with(&text, dir, file, &|path| {
            dockerfile_base(ctx, path)
        }));
    }
    // Profiles the project's env file turns on (`COMPOSE_PROFILES=web,worker`
    // in `.env` or its example) are part of the app as `docker compose up`
    // runs it.
    for cs in &mut out {
        if cs.optional {
            let dir = crate::repo::parent(&cs.file);
            let on = enabled_profiles(ctx, dir);
            cs.optional = !cs.profiles.iter().any(|p| on.contains(p));
        }
    }
    // A tool image built from a Dockerfile that takes nothing from the
    // repository (`RUN npm i -g maildev`, `CMD maildev`) and gets no folder
    // of it mounted runs none of the project's code: like `image: maildev`,
    // it is not one of the project's services.
    out.retain(|cs| !runs_none_of_the_code(ctx, cs) && !builds_a_build_stage(ctx, cs));
    for cs in &mut out {
        given_to_the_entrypoint(ctx, cs);
        in_working_folder(ctx, cs);
    }
    out
}

/// Programs an image's `ENTRYPOINT` runs that run their arguments as a
/// command (`tini -- gunicorn …`, an entrypoint script ending in
/// `exec "$@"`).
fn runs_its_arguments(entrypoint: &str) -> bool {
    let first = entrypoint.split_whitespace().next().unwrap_or("");
    let name = crate::repo::file_name(first);
    name.ends_with(".sh")
        || matches!(
            name,
            "tini" | "dumb-init" | "sh" | "bash" | "env" | "gosu" | "su-exec" | "entrypoint"
        )
        || name.contains("entrypoint")
}

/// A compose `command:` is the arguments of the built image's
/// `ENTRYPOINT` when that runs a program (shiori's `go run main.go` given
/// `server --log-level debug`): the container runs both, so the command is
/// both.
fn given_to_the_entrypoint(ctx: &Ctx, cs: &mut ComposeService) {
    let Some(cmd) = &cs.command else { return };
    let Some(entrypoint) = docker_info(ctx, cs).and_then(|i| i.entrypoint) else {
        return;
    };
    if !runs_its_arguments(&entrypoint) {
        cs.command = Some(format!("{entrypoint} {cmd}"));
    }
}

/// The compose profiles `.env` (or its committed example) turns on.
fn enabled_profiles(ctx: &Ctx, dir: &str) -> Vec<String> {
    [".env", ".env.example", ".env.sample", "env.example"]
        .iter()
        .filter_map(|n| ctx.read(dir, n))
        .flat_map(|text| {
            crate::scan::parse_dotenv(&text)
                .into_iter()
                .filter(|e| e.key == "COMPOSE_PROFILES")
                .map(|e| e.value)
                .collect::<Vec<_>>()
        })
        .flat_map(|v| {
            v.split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// What `cs`'s Dockerfile says (its own, else its folder's), when it has one.
fn docker_info(ctx: &Ctx, cs: &ComposeService) -> Option<super::dockerfile::DockerInfo> {
    cs.dockerfile
        .clone()
        .or_else(|| super::dockerfile::find(ctx, &cs.dir))
        .and_then(|p| ctx.read_path(&p))
        .map(|t| super::dockerfile::parse(&t))
}

/// True when `cs` runs a build stage of its Dockerfile that the final image
/// copies from (`target: assets`, `COPY --from=assets /app/public /public`):
/// an asset watcher of development, whose output the app's image builds.
fn builds_a_build_stage(ctx: &Ctx, cs: &ComposeService) -> bool {
    let Some(target) = &cs.target else {
        return false;
    };
    docker_info(ctx, cs).is_some_and(|i| i.copied_from.contains(target))
}

/// True when `cs` builds from a Dockerfile that copies nothing from its
/// build context and mounts no folder of the repository.
fn runs_none_of_the_code(ctx: &Ctx, cs: &ComposeService) -> bool {
    if !cs.mounts.is_empty() {
        return false;
    }
    docker_info(ctx, cs).is_some_and(|i| i.base_image.is_some() && !i.copies_context)
}

/// The command runs in the container's working folder (compose
/// `working_dir`, else the Dockerfile's `WORKDIR`): when a bind mount puts a
/// folder of the repository there (`./app:/app` under `WORKDIR /app`), it
/// runs in that folder, not in the build context (`cd app && …`).
fn in_working_folder(ctx: &Ctx, cs: &mut ComposeService) {
    let Some(cmd) = &cs.command else { return };
    let info = docker_info(ctx, cs);
    let workdir = cs
        .working_dir
        .clone()
        .or_else(|| info.as_ref().and_then(|i| i.workdir.clone()));
    let rel = workdir
        .as_deref()
        .and_then(|w| mounted_folder(ctx, w, &cs.dir, &cs.mounts))
        // No mount there: the folder of the copied context the image's
        // WORKDIR is (`COPY . .` in /app, `WORKDIR /app/src`).
        .or_else(|| {
            let rel = info.as_ref()?.run_folder()?;
            ctx.index()
                .names_in(&join(&cs.dir, &rel))
                .next()
                .is_some()
                .then_some(rel)
        });
    if let Some(rel) = rel {
        cs.command_in_image = Some(cmd.clone());
        cs.command = Some(format!("cd {rel} && {}", crate::release::unwrap_shell(cmd)));
    }
}

/// The final base image of the Dockerfile at `path` (a file, or a build
/// context folder holding one).
fn dockerfile_base(ctx: &Ctx, path: &str) -> Option<String> {
    let file = if ctx.index().contains(path) {
        path.to_string()
    } else {
        super::dockerfile::find(ctx, path)?
    };
    let text = ctx.read_path(&file)?;
    super::dockerfile::parse(&text).base_image.map(|(i, _)| i)
}

/// Parse one compose file located in `dir` (build contexts are not read).
pub fn parse(text: &str, dir: &str, file: &str) -> Vec<ComposeService> {
    parse_with(text, dir, file, &|_| None)
}

/// The repository path of a service's Dockerfile (or of its build context
/// when the file is not named).
fn build_target(dir: &str, build: &Value) -> Option<String> {
    match build {
        Value::String(s) => normalize(&join(dir, s)),
        Value::Mapping(_) => {
            let ctx_dir = normalize(&join(
                dir,
                build.get("context").and_then(Value::as_str).unwrap_or("."),
            ))?;
            match build.get("dockerfile").and_then(Value::as_str) {
                Some(d) => normalize(&join(&ctx_dir, d)),
                None => Some(ctx_dir),
            }
        }
        _ => None,
    }
}

/// Parse one compose file located in `dir`; `base_image` gives the final
/// `FROM` of a Dockerfile (path of the file or of its build context), so a
/// database built from its own Dockerfile (`build: ./db` with `FROM
/// postgres:16`) is a data service, not an app.
pub fn parse_with(
    text: &str,
    dir: &str,
    file: &str,
    base_image: &dyn Fn(&str) -> Option<String>,
) -> Vec<ComposeService> {
    let Ok(mut doc) = serde_yaml::from_str::<Value>(text) else {
        return Vec::new();
    };
    // `<<: *default-app` (a YAML merge key): the shared settings of services
    // written once with an anchor.
    let _ = doc.apply_merge();
    let Some(services) = doc.get("services").and_then(Value::as_mapping) else {
        return Vec::new();
    };
    let peers: Vec<String> = services
        .keys()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    // Which compose services are databases, by name.
    let mut db_services: Vec<(String, Database)> = Vec::new();
    for (k, v) in services {
        let Some(name) = k.as_str() else { continue };
        let image = match v.get("build") {
            None => v.get("image").and_then(Value::as_str).map(str::to_string),
            Some(b) => build_target(dir, b)
                .filter(|p| !p.contains("://"))
                .and_then(|p| base_image(&p)),
        };
        if let Some(db) = image.as_deref().and_then(database_of_image) {
            db_services.push((name.to_string(), db));
        }
    }
    // Services others wait for to have run to completion.
    let awaited: Vec<&str> = services
        .values()
        .filter_map(|v| v.get("depends_on").and_then(Value::as_mapping))
        .flat_map(|m| m.iter())
        .filter(|(_, c)| {
            c.get("condition").and_then(Value::as_str) == Some("service_completed_successfully")
        })
        .filter_map(|(k, _)| k.as_str())
        .collect();
    // `image: web` on a service without `build:` runs the image another
    // service builds and tags `web` (a worker beside its web service).
    let built_images: Vec<(&str, &Value)> = services
        .values()
        .filter_map(|v| Some((v.get("image")?.as_str()?, v.get("build")?)))
        .collect();
    let mut out = Vec::new();
    for (k, v) in services {
        let Some(name) = k.as_str() else { continue };
        let Some(build) = v.get("build").or_else(|| {
            let image = v.get("image")?.as_str()?;
            built_images
                .iter()
                .find(|(i, _)| *i == image)
                .map(|(_, b)| *b)
        }) else {
            continue;
        };
        // A database or cache built from its own Dockerfile is a data service.
        if db_services.iter().any(|(n, _)| n == name) {
            continue;
        }
        let (context, dockerfile) = match build {
            Value::String(s) => (s.clone(), None),
            Value::Mapping(_) => (
                build
                    .get("context")
                    .and_then(Value::as_str)
                    .unwrap_or(".")
                    .to_string(),
                build
                    .get("dockerfile")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            ),
            _ => continue,
        };
        // Remote contexts (git URLs) and paths leaving the repository are not ours.
        if context.contains("://") {
            continue;
        }
        let Some(ctx_dir) = normalize(&join(dir, &context)) else {
            continue;
        };
        let dockerfile = dockerfile.and_then(|d| normalize(&join(&ctx_dir, &d)));
        let port = v
            .get("ports")
            .and_then(Value::as_sequence)
            .and_then(|s| s.first())
            .and_then(container_port)
            .or_else(|| {
                v.get("expose")
                    .and_then(Value::as_sequence)
                    .and_then(|s| s.first())
                    .and_then(|p| {
                        p.as_u64()
                            .map(|p| p as u16)
                            .or_else(|| p.as_str().and_then(|s| s.parse().ok()))
                    })
            });
        let env = env_names(v.get("environment"));
        let env_files = env_file_paths(dir, v.get("env_file"));
        let depends = depends_on(v.get("depends_on"));
        let env_text = serde_yaml::to_string(&v.get("environment")).unwrap_or_default();
        let mut databases: Vec<Database> = db_services
            .iter()
            .filter(|(n, _)| {
                depends.contains(n)
                    || env_text.contains(&format!("@{n}:"))
                    || env_text.contains(&format!("//{n}:"))
                    || env_text.contains(&format!("//{n}/"))
            })
            .map(|(_, d)| *d)
            .collect();
        if depends.is_empty() && databases.is_empty() {
            // No wiring written down: every database of the file may serve this service.
            databases = db_services.iter().map(|(_, d)| *d).collect();
        }
        databases.sort();
        databases.dedup();
        let command = match v.get("command") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Sequence(parts)) => Some(
                parts
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            _ => None,
        };
        let command = command.map(|c| without_waits(&c, &peers));
        let service_mounts = mounts(dir, v);
        let command = command.map(|c| without_mount_paths(&c, &ctx_dir, &service_mounts));
        let working_dir = v
            .get("working_dir")
            .and_then(Value::as_str)
            .map(str::to_string);
        let line = crate::scan::find_line(text, &format!("{name}:")).unwrap_or(1);
        let one_off = command.as_deref().is_some_and(|c| {
            let c = crate::release::unwrap_shell(c);
            let single = !c.contains("&&") && !c.contains(';');
            awaited.contains(&name)
                || (single
                    && crate::release::may_be_release(&c)
                    && crate::release::step_of(&c) == Some(crate::release::Step::Release))
        });
        out.push(ComposeService {
            name: name.to_string(),
            dir: ctx_dir,
            dockerfile,
            port,
            databases,
            env,
            env_files,
            command,
            command_in_image: None,
            mounts: service_mounts,
            working_dir,
            one_off,
            optional: v.get("profiles").is_some(),
            target: build
                .get("target")
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase),
            profiles: v
                .get("profiles")
                .and_then(Value::as_sequence)
                .map(|s| {
                    s.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            peers: peers.clone(),
            health: v.get("healthcheck").and_then(health_url),
            file: file.to_string(),
            line,
        });
    }
    out
}

/// The task-queue dashboard a command runs, by name: Celery's Flower
/// (`celery -A core flower`, `flower --broker=…`), RQ's dashboard.
fn queue_dashboard(cmd: &str) -> Option<&'static str> {
    let cmd = crate::release::unwrap_shell(cmd);
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let program = words.first()?.rsplit('/').next()?;
    match program {
        "flower" => Some("Celery Flower"),
        "celery" if words.contains(&"flower") => Some("Celery Flower"),
        "rq-dashboard" | "rq-dashboard-fast" => Some("RQ Dashboard"),
        _ => None,
    }
}

/// A loop or tool that waits for another compose service before the
/// command (group 1 the host): `while !</dev/tcp/db/5432; do sleep 1;
/// done;`, `until nc -z db 5432; do …; done &&`, `dockerize -wait
/// tcp://db:5432` (`wait-for-it.sh db:5432 --` is already dropped wherever a
/// command is read: `release::unwrap_shell`).
static WAIT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    crate::scan::regex(
        r"(?:(?:while\s+!\s*<\s*/dev/tcp/|until\s+(?:nc|netcat)\s+-z\s+)([\w.-]+)[/ ]\d+\s*;\s*do\s+[^;]*;\s*done|dockerize(?:\s+-wait\s+tcp://([\w.-]+):\d+)+(?:\s+-timeout\s+\S+)?)\s*(?:;|&&)?\s*",
    )
});

/// The command without what waits for another compose service to accept
/// connections: nothing of the deployment resolves a compose host (the loop
/// would wait forever), and every target starts the data services first
/// and wires their real addresses. Unwrapped from its `sh -c '…'` when
/// something was removed.
fn without_waits(cmd: &str, peers: &[String]) -> String {
    let inner = crate::release::unwrap_shell(cmd);
    let mut out = inner.clone();
    for c in WAIT.captures_iter(&inner) {
        let host = c.get(1).or_else(|| c.get(2)).map(|m| m.as_str());
        if host.is_some_and(|h| peers.iter().any(|p| p == h)) {
            out = out.replacen(&c[0], "", 1);
        }
    }
    if out == inner {
        cmd.to_string()
    } else {
        out.trim().to_string()
    }
}

/// The command's program is an absolute path outside the system's own
/// program folders (`/usr/local/bin/gin-example/wait-for-mysql.sh`,
/// `/app/start.sh`): something the image put there, which neither the
/// repository nor a machine without that image has.
fn in_image_only(cmd: &str) -> bool {
    let inner = crate::release::unwrap_shell(cmd);
    let Some(program) = inner.split_whitespace().next() else {
        return false;
    };
    let Some(parent) = program.rsplit_once('/').map(|(p, _)| p) else {
        return false;
    };
    program.starts_with('/') && !parent.is_empty() && !crate::release::in_system_bin(parent)
}

/// The service's bind mounts of repository folders: (the folder,
/// repository-relative; the absolute path it is mounted at), from the short
/// form `./app:/code[:ro]` and the long form `{type: bind, source, target}`.
fn mounts(dir: &str, v: &Value) -> Vec<(String, String)> {
    let Some(vols) = v.get("volumes").and_then(Value::as_sequence) else {
        return Vec::new();
    };
    vols.iter()
        .filter_map(|m| {
            let (src, tgt) = match m {
                Value::String(s) => {
                    let mut parts = s.splitn(3, ':');
                    (parts.next()?.to_string(), parts.next()?.to_string())
                }
                Value::Mapping(_) => (
                    m.get("source")?.as_str()?.to_string(),
                    m.get("target")?.as_str()?.to_string(),
                ),
                _ => return None,
            };
            // Only folders of the repository (`.`, `./app`), not named volumes.
            if !(src == "." || src.starts_with("./") || src.starts_with("../")) {
                return None;
            }
            if !tgt.starts_with('/') || tgt == "/" {
                return None;
            }
            Some((
                normalize(&join(dir, &src))?,
                tgt.trim_end_matches('/').to_string(),
            ))
        })
        .collect()
}

/// The command with paths inside a bind-mounted repository folder
/// (`python /code/manage.py` with `.:/code`) written relative to the
/// service's folder, where every target runs it: no target has `/code`.
fn without_mount_paths(cmd: &str, service_dir: &str, mounts: &[(String, String)]) -> String {
    let mut out = cmd.to_string();
    for (folder, target) in mounts {
        let Some(rel) = crate::repo::rel_under(folder, service_dir) else {
            continue;
        };
        let prefix = if rel.is_empty() {
            String::new()
        } else {
            format!("{rel}/")
        };
        let re = crate::scan::regex(&format!(r"(^|[\s=]){}/", regex::escape(target)));
        out = re.replace_all(&out, format!("${{1}}{prefix}")).into_owned();
    }
    out
}

/// The repository folder a bind mount puts at the container's working
/// folder `workdir`, relative to the service's folder, when it is a folder
/// below it (`./app:/app` with `WORKDIR /app` → `app`); `None` when the
/// command runs in the service's folder itself (or outside the repository).
fn mounted_folder(
    ctx: &Ctx,
    workdir: &str,
    service_dir: &str,
    mounts: &[(String, String)],
) -> Option<String> {
    let workdir = workdir.trim_end_matches('/');
    mounts.iter().find_map(|(folder, target)| {
        let mounted = if workdir == target {
            folder.clone()
        } else if let Some(below) = workdir
            .strip_prefix(target.as_str())
            .and_then(|b| b.strip_prefix('/'))
        {
            normalize(&join(folder, below))?
        } else {
            // A folder mounted below the working folder under its own name
            // (`./src/app:/code/app`, `WORKDIR /code`): the command sees
            // `app/` where the repository has `src/app`, so it runs in `src`.
            let rel = target.strip_prefix(workdir)?.strip_prefix('/')?;
            let outer = folder.strip_suffix(rel)?;
            let a_folder = ctx.index().files_under(folder).next().is_some();
            if !a_folder || (!outer.is_empty() && !outer.ends_with('/')) {
                return None;
            }
            outer.trim_end_matches('/').to_string()
        };
        let rel = crate::repo::rel_under(&mounted, service_dir)?;
        let shell_safe = rel
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '.'));
        (!rel.is_empty() && shell_safe && ctx.index().files_under(&mounted).next().is_some())
            .then_some(rel)
    })
}

/// `"8080:80"`, `"127.0.0.1:8080:80/tcp"`, `80`, or the long form `{target: 80}` → 80.
fn container_port(v: &Value) -> Option<u16> {
    match v {
        Value::Number(n) => n.as_u64().map(|p| p as u16),
        Value::String(s) => {
            let s = s.split('/').next().unwrap_or(s);
            let last = s.rsplit(':').next().unwrap_or(s);
            let last = last.split('-').next().unwrap_or(last);
            last.parse().ok()
        }
        Value::Mapping(_) => v.get("target").and_then(Value::as_u64).map(|p| p as u16),
        _ => None,
    }
}

/// `environment:` as (name, value written there), in either form.
fn env_names(v: Option<&Value>) -> Vec<(String, Option<String>)> {
    let scalar = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    match v {
        Some(Value::Mapping(m)) => m
            .iter()
            .filter_map(|(k, v)| Some((k.as_str()?.to_string(), scalar(v))))
            .collect(),
        Some(Value::Sequence(s)) => s
            .iter()
            .filter_map(Value::as_str)
            .map(|e| match e.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (e.to_string(), None),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `env_file:` as repository paths: one path, a list of paths, or the long
/// form `{path: …, required: …}`.
fn env_file_paths(dir: &str, v: Option<&Value>) -> Vec<String> {
    let one = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Mapping(_) => v.get("path").and_then(Value::as_str).map(str::to_string),
        _ => None,
    };
    let paths = match v {
        Some(Value::Sequence(s)) => s.iter().filter_map(one).collect(),
        Some(v) => one(v).into_iter().collect(),
        None => Vec::new(),
    };
    paths
        .iter()
        .filter_map(|p| normalize(&join(dir, p)))
        .collect()
}

/// The values of a service's `env_file:` files, as (name, value, file,
/// line): each file as committed, else its committed example
/// (`.env.dev` is gitignored and `.env.dev-sample` tells a new user what
/// to put in it — what they do by hand, the deployment reads). Names
/// `environment:` sets are left to it, and a later file overrides an
/// earlier one.
fn env_file_values(ctx: &Ctx, cs: &ComposeService) -> Vec<(String, String, String, u32)> {
    let mut out: Vec<(String, String, String, u32)> = Vec::new();
    for path in &cs.env_files {
        let Some((file, text)) = ctx.read_path(path).map(|t| (path.clone(), t)).or_else(|| {
            let example = crate::examples::example_of(ctx, path)?;
            let text = ctx.read_path(&example)?;
            Some((example, text))
        }) else {
            continue;
        };
        for e in crate::scan::parse_dotenv(&text) {
            if cs.env.iter().any(|(n, _)| *n == e.key) {
                continue;
            }
            out.retain(|(n, ..)| *n != e.key);
            out.push((e.key, e.value, file.clone(), e.line));
        }
    }
    out
}

/// A value from a compose file's `environment:` that a deployment may use
/// as the example for a variable the code reads: usable as an example env
/// file's would be, no `${…}` interpolation, no address of another compose
/// service (`redis`, `db:5432`, `//db/`), not a debug switch, not a run
/// mode selector (`NODE_ENV=development`, `DJANGO_SETTINGS_MODULE=….local`),
/// and not an absolute path (a folder inside the project's container,
/// `APP_FOLDER=/usr/src/app`, which no other target has).
fn usable_compose_value(name: &str, value: &str, services: &[String]) -> bool {
    let names_a_service = services.iter().any(|s| {
        value == s
            || [
                format!("//{s}:"),
                format!("//{s}/"),
                format!("@{s}:"),
                format!("@{s}/"),
                format!("{s}:"),
            ]
            .iter()
            .any(|p| value.contains(p.as_str()))
    });
    let upper = name.to_ascii_uppercase();
    super::dotenv::usable_example(name, value)
        && !value.contains("${")
        && !value.is_empty()
        && !value.starts_with('/')
        && !names_a_service
        && !upper.contains("DEBUG")
        && !MODE_SELECTORS.contains(&upper.as_str())
}

/// Variables that select the run mode: a compose file (a development
/// setup) gives them `development`/`local`, and every target sets its own
/// or leaves the code's default.
const MODE_SELECTORS: &[&str] = &[
    "NODE_ENV",
    "RAILS_ENV",
    "RACK_ENV",
    "FLASK_ENV",
    "APP_ENV",
    "ENV",
    "ENVIRONMENT",
    "APP_ENVIRONMENT",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_CONFIGURATION",
    "MIX_ENV",
    "ASPNETCORE_ENVIRONMENT",
    "GO_ENV",
    "SPRING_PROFILES_ACTIVE",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONUNBUFFERED",
];

/// A URL on the container itself in a healthcheck's test (`curl -f
/// http://localhost:8080/healthz`, `wget -qO- http://127.0.0.1/ping`): the
/// port it names, if any, and the path.
static HEALTH_URL: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    crate::scan::regex(
        r#"\bhttps?://(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(?::(\d{1,5}))?(/[A-Za-z0-9._~/-]*)?"#,
    )
});

fn health_url(healthcheck: &Value) -> Option<(Option<u16>, String)> {
    let test = match healthcheck.get("test")? {
        Value::String(s) => s.clone(),
        Value::Sequence(parts) => parts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" "),
        _ => return None,
    };
    let c = HEALTH_URL.captures(&test)?;
    let port = c.get(1).and_then(|p| p.as_str().parse().ok());
    let path = c.get(2).map_or("/", |p| p.as_str()).to_string();
    Some((port, path))
}

/// A `${NAME:?message}` / `${NAME?message}` interpolation: compose refuses
/// to start without the variable, so the app must be given it.
fn demands_value(value: &str) -> bool {
    let Some(rest) = value.find("${").map(|i| &value[i + 2..]) else {
        return false;
    };
    let name_end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let after = &rest[name_end..];
    name_end > 0 && (after.starts_with(":?") || after.starts_with('?'))
}

fn depends_on(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Sequence(s)) => s
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::Mapping(m)) => m
            .keys()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// Fold compose services into the drafts: annotate the draft for the same
/// folder (name, port, databases), or create a Dockerfile-based draft when no
/// detector recognised the build context.
pub fn apply(ctx: &Ctx, drafts: &mut Vec<Draft>) {
    let all = services(ctx);
    // What only an optional service builds (a `seed` profile) is not deployed.
    for cs in all.iter().filter(|c| c.optional) {
        if !all.iter().any(|o| !o.optional && o.dir == cs.dir) {
            drafts.retain(|d| d.dir != cs.dir);
        }
    }
    // A task queue's monitoring dashboard run from the app's image (Celery
    // Flower): an operator's tool with no login of its own, not a public
    // service of the app.
    let (dashboards, all): (Vec<ComposeService>, Vec<ComposeService>) = all
        .into_iter()
        .partition(|c| !c.optional && c.command.as_deref().and_then(queue_dashboard).is_some());
    for cs in dashboards {
        let tool = cs
            .command
            .as_deref()
            .and_then(queue_dashboard)
            .unwrap_or("");
        if let Some(d) = drafts.iter_mut().find(|d| d.dir == cs.dir) {
            d.finding(
                "queue_dashboard_not_deployed",
                Severity::Info,
                Some(&cs.file),
                Some(cs.line),
                format!(
                    "compose service `{}` runs {tool}, a task-queue monitoring dashboard that asks for no login: it is not deployed as a public service — run it yourself behind authentication if you need it",
                    cs.name
                ),
                None,
            );
        }
    }
    // Web servers that only pass requests on to other services: (compose
    // service, file, line, the services it fronts).
    let mut proxies: Vec<(String, String, u32, Vec<String>)> = Vec::new();
    for mut cs in all.into_iter().filter(|c| !c.optional) {
        let proxied = cs
            .dockerfile
            .clone()
            .or_else(|| super::dockerfile::find(ctx, &cs.dir))
            .and_then(|p| ctx.read_path(&p))
            .and_then(|t| super::dockerfile::reverse_proxy(ctx, &cs.dir, &t));
        if let Some(hosts) = proxied {
            proxies.push((cs.name.clone(), cs.file.clone(), cs.line, hosts));
            continue;
        }
        // `context: .` with `dockerfile: backend/Dockerfile` builds the app in backend/
        // (the context is wider only so the Dockerfile can copy shared files).
        // The folder compose builds from (`context: .`), kept when the
        // service is matched to the draft of its Dockerfile's folder below.
        let context_dir = cs.dir.clone();
        if let Some(df_dir) = cs.dockerfile.as_deref().map(crate::repo::parent) {
            if df_dir != cs.dir
                && crate::repo::is_under(df_dir, &cs.dir)
                && drafts
                    .iter()
                    .any(|d| d.dir == df_dir && d.language != Language::Unknown)
            {
                cs.dir = df_dir.to_string();
            }
        }
        let evidence = ev(
            &cs.file,
            Some(cs.line),
            format!("compose service `{}`", cs.name),
        );
        // A service that runs once before the others (migrations) is the
        // release step of the app built from the same code, not a service.
        if let (true, Some(cmd)) = (cs.one_off, &cs.command) {
            if let Some(d) = drafts
                .iter_mut()
                .filter(|d| d.dir == cs.dir && d.kind != ServiceKind::Worker)
                .max_by(|a, b| a.strength.total_cmp(&b.strength))
            {
                let own = d
                    .evidence
                    .get("release")
                    .and_then(|e| e.first())
                    .is_some_and(|e| e.note.starts_with("release:"));
                if !own {
                    d.release = Some(crate::release::unwrap_shell(cmd));
                    d.evidence.remove("release");
                    d.note(
                        "release",
                        ev(
                            &cs.file,
                            Some(cs.line),
                            format!("compose `{}` runs once before the app: {cmd}", cs.name),
                        ),
                    );
                }
                continue;
            }
        }
        // Prefer the language detector's draft for the folder; a second compose
        // service built from the same context with its own command (web + worker
        // from one image) becomes a process of its own: same code and install,
        // its own start and port.
        let strongest = |pred: &dyn Fn(&Draft) -> bool| {
            drafts
                .iter()
                .enumerate()
                .filter(|(_, d)| d.dir == cs.dir && pred(d))
                .max_by(|a, b| a.1.strength.total_cmp(&b.1.strength))
                .map(|(i, _)| i)
        };
        let sibling = strongest(&|d| d.name.is_some() && d.language != Language::Unknown);
        // A web service (it publishes a port) whose only named twin is a
        // worker (one the code scan inferred, named by an earlier compose
        // service) is the language detector's own app (a project manifest;
        // not a draft made from a Dockerfile alone), still unclaimed.
        let unclaimed_web = || {
            strongest(&|d| {
                d.name.is_none()
                    && d.kind != ServiceKind::Worker
                    && d.language != Language::Unknown
                    && d.has_manifest
            })
        };
        let sibling = match sibling {
            Some(j) if cs.port.is_some() && drafts[j].kind == ServiceKind::Worker => {
                unclaimed_web().is_none().then_some(j)
            }
            other => other,
        };
        let idx = if sibling.is_some() {
            None
        } else {
            strongest(&|d| d.name.is_none() && d.kind != ServiceKind::Worker)
                .or_else(|| strongest(&|d| d.name.is_none()))
        };
        // A worker the code scan inferred (an rq or Celery app, with the
        // start command guessed) is the compose service that runs a worker
        // from the same build with its own command: one process, compose's
        // command and name.
        let inferred_worker = (cs.port.is_none() && cs.command.is_some())
            .then(|| {
                drafts.iter().position(|d| {
                    d.dir == cs.dir
                        && d.kind == ServiceKind::Worker
                        && d.starts.first().is_some_and(|c| {
                            c.evidence.note.starts_with("inferred") && c.trust < Trust::Config
                        })
                })
            })
            .flatten();
        if let Some(i) = inferred_worker {
            drafts[i].name = Some(cs.name.clone());
            drafts[i].evidence.remove("name");
        }
        let (idx, sibling) = match inferred_worker {
            Some(i) => (Some(i), None),
            None => (idx, sibling),
        };
        let draft = match (idx, sibling) {
            // Another replica of a process already named (same build, no command
            // of its own): the same service.
            (None, Some(j)) if cs.command.is_none() => &mut drafts[j],
            (Some(i), _) => &mut drafts[i],
            (None, Some(j)) if cs.command.is_some() => {
                let mut d = drafts[j].clone();
                d.name = None;
                d.ports.clear();
                d.starts.clear();
                d.release = None;
                d.findings.retain(|f| f.fix.is_none());
                d.evidence.remove("name");
                d.kind = if cs.port.is_some() {
                    ServiceKind::Web
                } else {
                    ServiceKind::Worker
                };
                if d.kind == ServiceKind::Worker {
                    d.framework = None;
                    d.health_path = None;
                    d.evidence.remove("health_path");
                }
                drafts.push(d);
                drafts.last_mut().expect("just pushed")
            }
            _ => {
                let mut d = Draft::new(&cs.dir, Language::Unknown, ServiceKind::Web);
                d.strength = 2.0;
                d.dockerfile = cs
                    .dockerfile
                    .clone()
                    .or_else(|| super::dockerfile::find(ctx, &cs.dir));
                super::dockerfile::apply(ctx, &mut d);
                if let Some((img, _)) = d
                    .dockerfile
                    .as_deref()
                    .and_then(|p| ctx.read_path(p))
                    .and_then(|t| super::dockerfile::parse(&t).base_image)
                {
                    if let Some(lang) = super::dockerfile::language_of_image(&img) {
                        d.language = lang;
                    }
                }
                drafts.push(d);
                drafts.last_mut().expect("just pushed")
            }
        };
        if draft.name.is_none() {
            draft.name = Some(cs.name.clone());
        }
        draft.note("name", evidence.clone());
        if let Some(df) = &cs.dockerfile {
            draft.dockerfile = Some(df.clone());
            // `context: ..` + `dockerfile: deploy/Dockerfile`: the image is
            // built from this service's folder by a Dockerfile kept elsewhere.
            // full-stack-fastapi: `context: .` with `dockerfile:
            // backend/Dockerfile`, whose COPY lines name `backend/…`: the
            // image builds from the root, not from the service's folder.
            if crate::repo::parent(df) != context_dir {
                draft.dockerfile_context = Some(if context_dir.is_empty() {
                    ".".to_string()
                } else {
                    context_dir.clone()
                });
                draft.note(
                    "dockerfile",
                    ev(
                        &cs.file,
                        Some(cs.line),
                        format!(
                            "compose `{}` builds {df} with this folder as context",
                            cs.name
                        ),
                    ),
                );
            }
        }
        if let Some(p) = cs.port {
            // Compose publishes the container port it was told the app uses.
            draft.ports.insert(
                0,
                crate::draft::Claim {
                    value: p,
                    trust: Trust::Config,
                    evidence: ev(
                        &cs.file,
                        Some(cs.line),
                        format!("compose `{}` ports → {p}", cs.name),
                    ),
                },
            );
        }
        if let Some(cmd) = &cs.command {
            // The compose command overrides the image's CMD, and runs in that
            // image: a program its Dockerfile copied out of the build stage
            // runs, outside the image, where the build leaves it.
            let image = draft
                .dockerfile
                .as_deref()
                .and_then(|p| ctx.read_path(p))
                .map(|t| super::dockerfile::parse(&t));
            let moved = image
                .as_ref()
                .and_then(|i| super::dockerfile::in_source_tree(cmd, i));
            if let Some(m) = &moved {
                draft.image_start = Some((m.clone(), cmd.clone()));
            } else if let Some(own) = cs.command_in_image.as_ref().filter(|_| image.is_some()) {
                // The image runs it in its WORKDIR, without the `cd`.
                draft.image_start = Some((cmd.clone(), own.clone()));
            }
            // A program at a path only the image has (a script its
            // Dockerfile copied to `/usr/local/bin/app/…`) runs nowhere else:
            // the image's own CMD (or what the detector found) starts it.
            if moved.is_some() || !in_image_only(cmd) {
                // A Procfile's web process is how the project runs in
                // production (Heroku's format); a compose file is as often
                // its development set-up (shiori's `go run`): the Procfile
                // stays first.
                let after_procfile = usize::from(
                    draft
                        .starts
                        .first()
                        .is_some_and(|c| crate::repo::file_name(&c.evidence.file) == "Procfile"),
                );
                draft.starts.insert(
                    after_procfile,
                    crate::draft::Claim {
                        value: moved.unwrap_or_else(|| cmd.clone()),
                        trust: Trust::Config,
                        evidence: ev(
                            &cs.file,
                            Some(cs.line),
                            format!("compose `{}` command", cs.name),
                        ),
                    },
                );
            }
        }
        // The project's own healthcheck names the route that says the app
        // is up (on the port it serves, when it names one).
        // The port: the one compose publishes, else (a service whose ports
        // an override file publishes: full-stack-fastapi) one the app is
        // known to listen on.
        if let Some((port, path)) = &cs.health {
            let known: Vec<u16> = cs
                .port
                .into_iter()
                .chain(draft.ports.iter().map(|c| c.value))
                .collect();
            if port.is_none_or(|x| known.contains(&x)) && !known.is_empty() {
                draft.health_path = Some(path.clone());
                draft.evidence.remove("health_path");
                draft.note(
                    "health_path",
                    ev(
                        &cs.file,
                        Some(cs.line),
                        format!("compose `{}` healthcheck requests {path}", cs.name),
                    ),
                );
            }
        }
        for db in &cs.databases {
            draft.database(
                *db,
                ev(
                    &cs.file,
                    Some(cs.line),
                    format!("compose service uses a {} container", db.as_str()),
                ),
            );
        }
        // Like .env files: the code decides whether a variable it reads is
        // required; compose only adds names the code scan missed. A value
        // written there for a variable the code reads is how the project
        // runs itself (`docker compose up` sets it): it becomes the
        // example, and the variable is counted as needed so the deployment
        // sets it too (`APP_SETTINGS=project.server.config.DevelopmentConfig`,
        // read with `os.getenv` and no default: without it the app loads
        // no configuration at all). The service's `env_file:` files count
        // the same (or their committed `-sample`/`.example` when the file
        // itself is gitignored). Values naming another compose service,
        // credentials and debug switches are never taken.
        let from_files = env_file_values(ctx, &cs);
        let values = cs
            .env
            .iter()
            .map(|(n, v)| (n, v.as_ref(), cs.file.as_str(), cs.line))
            .chain(
                from_files
                    .iter()
                    .map(|(n, v, f, l)| (n, Some(v), f.as_str(), *l)),
            );
        for (name, value, file, line) in values {
            // `${NAME:?…}`: compose will not start without it.
            let demanded = value.is_some_and(|v| demands_value(v));
            if demanded {
                if let Some(v) = draft.env.iter_mut().find(|v| &v.name == name) {
                    v.required = true;
                } else {
                    draft.env_var(name, false, file, line);
                }
                continue;
            }
            if let Some(v) = draft
                .env
                .iter_mut()
                .find(|v| &v.name == name && v.example.is_none())
            {
                if let Some(value) = value.filter(|x| usable_compose_value(name, x, &cs.peers)) {
                    v.example = Some(value.clone());
                    v.required = true;
                }
                continue;
            }
            if !draft.env.iter().any(|v| &v.name == name) {
                draft.env_var(name, true, file, line);
            }
        }
    }
    for (proxy, file, line, hosts) in proxies {
        for d in drafts
            .iter_mut()
            .filter(|d| d.name.as_ref().is_some_and(|n| hosts.contains(n)))
        {
            d.finding(
                "reverse_proxy_not_deployed",
                Severity::Info,
                Some(&file),
                Some(line),
                format!(
                    "compose service `{proxy}` is a web server that only passes requests to `{}`: every target gives the app its own front (a load balancer, the local front), so it is not deployed",
                    d.name.as_deref().unwrap_or_default()
                ),
                None,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A program at a path only the image has is not a start command
    /// anywhere else; system programs and relative paths are.
    #[test]
    fn programs_only_the_image_has() {
        for (cmd, only) in [
            ("/usr/local/bin/gin-example/wait-for-mysql.sh db /usr/local/bin/gin-example/init.sh", true),
            ("sh -c '/app/start.sh'", true),
            ("/usr/local/bin/gunicorn app:app", false),
            ("/bin/sh -c 'npm start'", false),
            ("python manage.py runserver", false),
            ("./bin/app", false),
        ] {
            assert_eq!(in_image_only(cmd), only, "{cmd}");
        }
    }

    /// An image is a database by its name or one word of it; a tool beside
    /// one is not.
    #[test]
    fn database_images_by_name_or_word() {
        for (image, db) in [
            ("postgres:16", Some(Database::Postgresql)),
            ("bitnami/redis:7", Some(Database::Redis)),
            ("yobasystems/alpine-mariadb:latest", Some(Database::Mysql)),
            (
                "mongodb/mongodb-community-server:7",
                Some(Database::Mongodb),
            ),
            ("redis/redis-stack", Some(Database::Redis)),
            ("prometheuscommunity/postgres-exporter", None),
            ("rediscommander/redis-commander", None),
            ("mongo-express", None),
            ("dpage/pgadmin4", None),
            ("nginx:1.27", None),
        ] {
            assert_eq!(database_of_image(image), db, "{image}");
        }
    }

    #[test]
    fn waits_for_other_compose_services_are_dropped() {
        let peers = vec!["web".to_string(), "db".to_string()];
        assert_eq!(
            without_waits(
                "bash -c 'while !</dev/tcp/db/5432; do sleep 1; done; uvicorn app.main:app --host 0.0.0.0 --port 8000'",
                &peers
            ),
            "uvicorn app.main:app --host 0.0.0.0 --port 8000"
        );
        assert_eq!(
            without_waits(
                "sh -c \"until nc -z db 5432; do sleep 2; done && npm start\"",
                &peers
            ),
            "npm start"
        );
        assert_eq!(
            without_waits(
                "dockerize -wait tcp://db:5432 -timeout 60s ./server",
                &peers
            ),
            "./server"
        );
        // A host that is not a compose service, and commands without a wait, stay.
        assert!(usable_compose_value(
            "APP_SETTINGS",
            "project.server.config.DevelopmentConfig",
            &peers
        ));
        assert!(!usable_compose_value("NODE_ENV", "development", &peers));
        assert!(!usable_compose_value(
            "DATABASE_URL",
            "postgres://u:p@db:5432/x",
            &peers
        ));
        assert!(!usable_compose_value("FLASK_DEBUG", "1", &peers));
        let external = "bash -c 'while !</dev/tcp/example.com/443; do sleep 1; done; ./run'";
        assert_eq!(without_waits(external, &peers), external);
        assert_eq!(
            without_waits("gunicorn app:app", &peers),
            "gunicorn app:app"
        );
    }

    #[test]
    fn compose_services_and_databases() {
        let text = r#"
services:
  web:
    build: ./backend
    ports: ["8080:8000"]
    depends_on: [db]
    environment:
      DATABASE_URL: postgres://u:p@db:5432/app
  worker:
    build:
      context: .
      dockerfile: worker/Dockerfile
    command: celery -A tasks worker
  db:
    image: postgres:16
  cache:
    image: redis:7-alpine
  proxy:
    image: nginx
"#;
        let s = parse(text, "", "docker-compose.yml");
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].name, "web");
        assert_eq!(s[0].dir, "backend");
        assert_eq!(s[0].port, Some(8000));
        assert_eq!(s[0].databases, vec![Database::Postgresql]);
        assert_eq!(s[1].dir, "");
        assert_eq!(s[1].dockerfile.as_deref(), Some("worker/Dockerfile"));
        assert_eq!(s[1].databases, vec![Database::Postgresql, Database::Redis]);
        assert_eq!(s[1].command.as_deref(), Some("celery -A tasks worker"));
        assert!(!s[0].one_off && !s[1].one_off);
    }

    #[test]
    fn paths_in_a_bind_mounted_folder_are_written_from_the_service_folder() {
        let text = "services:\n  web:\n    build: .\n    command: python /code/manage.py runserver 0.0.0.0:8000\n    volumes:\n      - .:/code\n      - static:/code/static\n  api:\n    build: ./api\n    command: sh -c 'python /srv/app/main.py --config=/srv/app/conf.yml && cat /etc/hosts'\n    volumes:\n      - type: bind\n        source: ./api/\n        target: /srv\n";
        let s = parse(text, "", "docker-compose.yml");
        assert_eq!(
            s[0].command.as_deref(),
            Some("python manage.py runserver 0.0.0.0:8000")
        );
        assert_eq!(
            s[1].command.as_deref(),
            Some("sh -c 'python app/main.py --config=app/conf.yml && cat /etc/hosts'")
        );
    }

    #[test]
    fn env_files_in_every_form_are_repository_paths() {
        let text = "services:\n  a:\n    build: .\n    env_file: .env\n  b:\n    build: .\n    env_file:\n      - ./.env.dev\n      - ../shared.env\n  c:\n    build: .\n    env_file:\n      - path: ./c.env\n        required: false\n  d:\n    build: .\n    env_file:\n      - ../../outside.env\n";
        let s = parse(text, "deploy", "deploy/compose.yml");
        let files: Vec<(&str, Vec<&str>)> = s
            .iter()
            .map(|x| {
                (
                    x.name.as_str(),
                    x.env_files.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            files,
            vec![
                ("a", vec!["deploy/.env"]),
                ("b", vec!["deploy/.env.dev", "shared.env"]),
                ("c", vec!["deploy/c.env"]),
                ("d", vec![]),
            ]
        );
    }

    /// The command runs where the container runs it: `./app:/app` mounted
    /// at the Dockerfile's `WORKDIR /app` (or compose `working_dir`) is the
    /// repository's `app/`, so `python manage.py migrate` runs there.
    #[test]
    fn a_command_runs_in_the_folder_mounted_at_the_working_folder() {
        let compose = "services:\n  app:\n    build:\n      context: .\n    volumes:\n      - ./app:/app\n    command: >\n      sh -c \"python manage.py migrate &&\n             python manage.py runserver 0.0.0.0:8000\"\n";
        let repo = crate::repo::MemRepo::new([
            ("docker-compose.yml", compose),
            (
                "Dockerfile",
                "FROM python:3.12\nWORKDIR /app\nCOPY ./app /app\n",
            ),
            ("app/manage.py", "import django\n"),
        ]);
        let ctx = Ctx::new(&repo);
        let cs = services(&ctx).remove(0);
        let cmd = cs.command.unwrap();
        assert!(
            cmd.starts_with("cd app && python manage.py migrate"),
            "{cmd}"
        );

        // Mounted where the command does not run: unchanged.
        let other = compose.replace("./app:/app", "./app:/srv");
        let repo = crate::repo::MemRepo::new([
            ("docker-compose.yml", other.as_str()),
            ("Dockerfile", "FROM python:3.12\nWORKDIR /app\n"),
            ("app/manage.py", "import django\n"),
        ]);
        let ctx = Ctx::new(&repo);
        let cmd = services(&ctx).remove(0).command.unwrap();
        assert!(!cmd.contains("cd app"), "{cmd}");

        // compose `working_dir` below the mount.
        let wd = "services:\n  app:\n    build: .\n    working_dir: /code/src\n    volumes: [\".:/code\"]\n    command: python manage.py runserver\n";
        let repo = crate::repo::MemRepo::new([
            ("docker-compose.yml", wd),
            ("Dockerfile", "FROM python:3.12\n"),
            ("src/manage.py", "import django\n"),
        ]);
        let ctx = Ctx::new(&repo);
        let cmd = services(&ctx).remove(0).command.unwrap();
        assert_eq!(cmd, "cd src && python manage.py runserver");

        // The package mounted below the working folder under its own name
        // (`./src/app:/code/app`, `WORKDIR /code`): `app.main` is `src/app`.
        let below = "services:\n  web:\n    build: .\n    command: uvicorn app.main:app --port 8000\n    volumes:\n      - ./src/app:/code/app\n      - ./src/.env:/code/.env\n";
        let repo = crate::repo::MemRepo::new([
            ("docker-compose.yml", below),
            ("Dockerfile", "FROM python:3.11\nWORKDIR /code\n"),
            ("src/app/main.py", "app = make()\n"),
        ]);
        let ctx = Ctx::new(&repo);
        let cmd = services(&ctx).remove(0).command.unwrap();
        assert_eq!(cmd, "cd src && uvicorn app.main:app --port 8000");
        // Under another name, nothing says where it runs.
        let renamed = below.replace("./src/app:/code/app", "./src/app:/code/pkg");
        let repo = crate::repo::MemRepo::new([
            ("docker-compose.yml", renamed.as_str()),
            ("Dockerfile", "FROM python:3.11\nWORKDIR /code\n"),
            ("src/app/main.py", "app = make()\n"),
        ]);
        let ctx = Ctx::new(&repo);
        let cmd = services(&ctx).remove(0).command.unwrap();
        assert!(!cmd.starts_with("cd "), "{cmd}");
    }

    /// A compose service built from a Dockerfile that copies none of the
    /// repository (a mail catcher: `RUN npm i -g maildev`) is a tool, not
    /// the app built from the same folder; one that copies the code, or
    /// gets it mounted, is the app.
    #[test]
    fn a_tool_image_that_copies_none_of_the_code_is_not_a_service() {
        let compose = "services:\n  maildev:\n    build:\n      context: .\n      dockerfile: maildev.Dockerfile\n  api:\n    build: .\n  dev:\n    build:\n      context: .\n      dockerfile: dev.Dockerfile\n    volumes: [\".:/app\"]\n";
        let repo = crate::repo::MemRepo::new([
            ("docker-compose.yml", compose),
            (
                "maildev.Dockerfile",
                "FROM node:24-alpine\nRUN npm i -g maildev@2.0.5\nCMD maildev\n",
            ),
            ("Dockerfile", "FROM node:24\nCOPY . .\nRUN npm ci\n"),
            ("dev.Dockerfile", "FROM node:24\nWORKDIR /app\n"),
        ]);
        let ctx = Ctx::new(&repo);
        let names: Vec<String> = services(&ctx).into_iter().map(|s| s.name).collect();
        assert_eq!(names, vec!["api".to_string(), "dev".to_string()]);
    }

    /// `environment:` sets stay its own, and a later file wins.
    #[test]
    fn env_file_values_come_from_the_file_or_its_sample() {
        let repo = crate::repo::MemRepo::new([
            (
                "compose.yml",
                "services:\n  web:\n    build: .\n    env_file: [.env.dev, .env.extra]\n    environment:\n      MODE: compose\n",
            ),
            (".env.dev-sample", "MODE=file\nGREETING=hi\nLEVEL=1\n"),
            (".env.extra", "LEVEL=2\n"),
        ]);
        let ctx = Ctx::new(&repo);
        let cs = services(&ctx).remove(0);
        let got: Vec<(String, String, String)> = env_file_values(&ctx, &cs)
            .into_iter()
            .map(|(n, v, f, _)| (n, v, f))
            .collect();
        assert_eq!(
            got,
            vec![
                ("GREETING".into(), "hi".into(), ".env.dev-sample".into()),
                ("LEVEL".into(), "2".into(), ".env.extra".into()),
            ]
        );
        assert!(!usable_compose_value("APP_FOLDER", "/usr/src/app", &[]));
    }

    #[test]
    fn services_run_once_before_the_others_are_one_off() {
        let text = "services:\n  prestart:\n    build: ./backend\n    command: bash scripts/prestart.sh\n  backend:\n    build: ./backend\n    depends_on:\n      prestart:\n        condition: service_completed_successfully\n  migrate:\n    build: ./api\n    command: python manage.py migrate\n  api:\n    build: ./api\n";
        let s = parse(text, "", "compose.yml");
        let one_off: Vec<(&str, bool)> = s.iter().map(|x| (x.name.as_str(), x.one_off)).collect();
        assert_eq!(
            one_off,
            vec![
                ("prestart", true),
                ("backend", false),
                ("migrate", true),
                ("api", false)
            ]
        );
    }

    #[test]
    fn databases_built_from_a_dockerfile_are_data_services() {
        let text = "services:\n  web:\n    build: ./app\n    ports: [\"8000:8000\"]\n    depends_on: [web-db]\n  web-db:\n    build: ./db\n  cache:\n    build:\n      context: .\n      dockerfile: docker/redis.Dockerfile\n";
        let base = |p: &str| match p {
            "db" => Some("postgres:15-alpine".to_string()),
            "docker/redis.Dockerfile" => Some("redis:7".to_string()),
            _ => Some("python:3.12-slim".to_string()),
        };
        let s = parse_with(text, "", "docker-compose.yml", &base);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].name, "web");
        assert_eq!(s[0].databases, vec![Database::Postgresql]);
    }

    #[test]
    fn services_under_a_profile_are_optional() {
        let text = "services:\n  web:\n    build: ./web\n  seed:\n    build: ./seed\n    profiles: [\"seed\"]\n";
        let optional: Vec<(String, bool)> = parse(text, "", "docker-compose.yml")
            .into_iter()
            .map(|s| (s.name, s.optional))
            .collect();
        assert_eq!(optional, vec![("web".into(), false), ("seed".into(), true)]);
    }

    #[test]
    fn garbage_is_ignored() {
        assert!(parse("::: not yaml [", "", "c.yml").is_empty());
        assert!(parse("services: 3", "", "c.yml").is_empty());
        assert!(parse("services:\n  x:\n    build: ../../outside\n", "", "c.yml").is_empty());
    }

    /// Services written once with an anchor (`<<: *default-app`), under
    /// profiles the project's env file turns on, run in the folder of the
    /// copied context the image's WORKDIR is; the asset watcher that builds
    /// a stage the final image copies from is not a service.
    #[test]
    fn anchored_services_under_enabled_profiles_run_where_the_image_does() {
        let compose = "x-app: &default-app\n  build:\n    context: \".\"\n    target: \"app\"\n  restart: always\nx-assets: &default-assets\n  build:\n    context: \".\"\n    target: \"assets\"\nservices:\n  js:\n    <<: *default-assets\n    command: \"../run yarn:build:js\"\n    profiles: [\"assets\"]\n  web:\n    <<: *default-app\n    ports: [\"8000:8000\"]\n    profiles: [\"web\"]\n  worker:\n    <<: *default-app\n    command: celery -A config worker\n    profiles: [\"worker\"]\n  seed:\n    <<: *default-app\n    command: python seed.py\n    profiles: [\"seed\"]\n";
        let dockerfile = "FROM node:22 AS assets\nWORKDIR /app/assets\nCOPY assets/ .\nFROM python:3.13 AS app\nWORKDIR /app\nCOPY --from=assets /app/public /public\nCOPY . .\nWORKDIR /app/src\nCMD [\"gunicorn\", \"config.wsgi\"]\n";
        let repo = crate::repo::MemRepo::new([
            ("compose.yaml", compose),
            ("Dockerfile", dockerfile),
            (
                ".env.example",
                "export COMPOSE_PROFILES=postgres,assets,web,worker\n",
            ),
            ("src/manage.py", "import django\n"),
            ("assets/package.json", "{}"),
        ]);
        let ctx = Ctx::new(&repo);
        let got: Vec<(String, bool, Option<String>)> = services(&ctx)
            .into_iter()
            .map(|s| (s.name, s.optional, s.command))
            .collect();
        assert_eq!(
            got,
            vec![
                ("web".to_string(), false, None),
                (
                    "worker".to_string(),
                    false,
                    Some("cd src && celery -A config worker".to_string())
                ),
                (
                    "seed".to_string(),
                    true,
                    Some("cd src && python seed.py".to_string())
                ),
            ]
        );
        assert_eq!(
            super::super::dockerfile::parse(dockerfile)
                .run_folder()
                .as_deref(),
            Some("src")
        );
    }
}
