//! What every cloud's VM strategy needs to know about what one machine runs
//! (AWS EC2 / ASG, GCP Compute Engine / MIG, Azure Linux VM / scale set): the
//! one web service and the workers beside it ([`machine`]), the runtime it can
//! install, the start commands, the port, the folder inside the clone, the
//! systemd units, and the parts of the launcher configuration and cloud-init
//! that do not depend on the cloud.
//!
//! One machine runs one web service plus any number of workers (no port: rq,
//! Celery, Sidekiq…) from the same folder and the same runtime: one runtime
//! install, one install/build, the release step once before any process
//! starts (the launcher's `setup`, at boot), then one systemd unit per process
//! (`app.service` for the web service, `app-<name>.service` for each worker:
//! `Restart=always`, output to the journal under the unit's name). nginx, the
//! health wait and the load balancer's checks are the web service's only.
//!
//! On a group (ASG, MIG, scale set) every instance runs every worker: queue
//! workers (rq, Celery, Sidekiq, BullMQ) take jobs from a shared queue and are
//! safe to run once per instance — the worker count follows the instance
//! count. A scheduler (Celery beat, `celery worker -B`, rq-scheduler, a
//! Procfile `clock`/`beat`/`scheduler`) is not: each copy fires every periodic
//! task, so it is refused on a group that can hold more than one instance,
//! and runs as one unit on a single machine.
//!
//! Refused with `unsupported`, naming what to ask for instead: several web
//! services, a worker from another folder or runtime, a worker with its own
//! install/build/release step, a static site beside the app, a worker alone.
//!
//! The checks are the same on every cloud; only the hints that say which other
//! strategy to ask for differ, so each caller passes its own.
//!
//! Deliberately not here: cloud-specific configuration (secrets lookups,
//! databases, certbot) — each cloud's `vm.rs` adds those to [`VmService::config`].

use crate::{render_template, unsupported, RenderError};
use autodeploy_core::{
    DatabaseEngine, DatabaseOutput, Decision, Hosting, ServiceKind, ServicePlan,
};
use serde_json::{json, Map, Value};

/// The uv that installs a Python line Ubuntu 24.04 does not ship on a
/// machine (its own release list decides which lines it can install).
const UV_FOR_PYTHON: &str = "uv==0.9.30";
/// The `packaging` installed beside poetry in the machine's tools venv (see
/// where `python_tools_pip` is built).
const POETRY_PACKAGING: &str = "packaging==25.0";
/// (tool, pip requirement, environment it needs).
type PythonTool = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// The Python package tools a machine installs when the service's commands
/// use them, pinned as the images pin them (`docker.rs`), with the settings
/// that make them install into the app's venv: (tool, pip requirement,
/// environment).
const PYTHON_TOOLS: &[PythonTool] = &[
    (
        "poetry",
        crate::docker::POETRY,
        &[("POETRY_VIRTUALENVS_CREATE", "false")],
    ),
    (
        "pipenv",
        crate::docker::PIPENV,
        &[("PIPENV_VERBOSITY", "-1")],
    ),
    (
        "uv",
        UV_FOR_PYTHON,
        &[("UV_PROJECT_ENVIRONMENT", "/opt/app/venv")],
    ),
    // pdm uses the active venv (VIRTUAL_ENV) by default.
    ("pdm", "pdm==2.22.4", &[]),
];

/// The Python package tools these commands run (the first word of a
/// command, or of one after `&&`, `;` or `|`), among [`PYTHON_TOOLS`].
fn python_tools<'c>(commands: impl Iterator<Item = &'c str> + Clone) -> Vec<&'static PythonTool> {
    PYTHON_TOOLS
        .iter()
        .filter(|(tool, ..)| {
            commands.clone().any(|c| {
                c.split(['&', ';', '|'])
                    .any(|part| part.split_whitespace().next() == Some(*tool))
            })
        })
        .collect()
}

/// Where cloud-init clones the repository on the VM.
pub(crate) const REPO_DIR: &str = "/opt/app/src";

/// Runtime families the shared install script knows how to set up on Debian/Ubuntu.
const VM_RUNTIMES: &[&str] = &[
    "python", "node", "go", "ruby", "php", "jvm", "dotnet", "rust", "elixir",
];

/// The cloud-specific halves of the refusals.
pub(crate) struct Hints {
    /// What to ask for instead when the runtime is not one a VM can install.
    pub other_runtime: &'static str,
    /// What to ask for instead when the service has no port.
    pub no_port: &'static str,
}

/// What one cloud's VM strategy accepts and what it tells the user to ask for instead.
pub(crate) struct Host {
    /// The hostings this strategy runs.
    pub accepts: fn(Hosting) -> bool,
    /// What the strategy runs, for a service with another hosting
    /// ("the vm strategy runs EC2 instances").
    pub runs: &'static str,
    /// What to ask for to run several services apart
    /// ("ask for containers (\"on ECS\")").
    pub several: &'static str,
    /// True when the web service's machines form a group that can hold more
    /// than one instance.
    pub scaled: fn(&ServicePlan) -> bool,
}

/// A worker beside the web service on the same machine.
pub(crate) struct Worker<'a> {
    pub service: &'a ServicePlan,
    /// The systemd unit's name (`app-<name>`, `[a-z0-9-]`), also the
    /// launcher's `run` argument.
    pub unit: String,
    pub start: &'a str,
}

/// The processes one machine runs, checked: the web service and its workers.
pub(crate) struct Machine<'a> {
    pub web: &'a ServicePlan,
    pub workers: Vec<Worker<'a>>,
    /// The web service's machines form a group (`Host::scaled`).
    pub scaled: bool,
}

impl<'a> Machine<'a> {
    /// The web service, then the workers.
    pub fn services(&self) -> impl Iterator<Item = &'a ServicePlan> + '_ {
        std::iter::once(self.web).chain(self.workers.iter().map(|w| w.service))
    }

    /// Adds the workers to the launcher configuration (`workers`: `{unit,
    /// name, start, env}`, each `env` as the cloud resolves that worker's own
    /// settings, in worker order) and every process's source fixes (once each).
    pub fn configure(&self, config: &mut Map<String, Value>, worker_env: Vec<Value>) {
        let workers: Vec<Value> = self
            .workers
            .iter()
            .zip(worker_env)
            .map(|(w, env)| {
                json!({"unit": w.unit, "name": w.service.name, "start": w.start, "env": env})
            })
            .collect();
        config.insert("workers".into(), workers.into());
        let mut fixes: Vec<autodeploy_core::SourceFix> =
            crate::distinct(self.services().flat_map(|s| s.source_fixes.iter().cloned()));
        autodeploy_core::SourceFix::sort_for_application(&mut fixes);
        config.insert("source_fixes".into(), json!(fixes));
        let made = crate::distinct(self.services().flat_map(|s| &s.files_from_example));
        config.insert("files_from_example".into(), json!(made));
        let dirs = crate::distinct(self.services().flat_map(|s| &s.make_dirs));
        config.insert("make_dirs".into(), json!(dirs));
    }

    /// The launcher's `release_lock` ([`release_lock_engine`]); `part`
    /// gives the cloud's launcher entry for one login part (`host`, `port`,
    /// `user`, `password`, `name`).
    pub fn release_lock(
        &self,
        d: &Decision,
        mut part: impl FnMut(&str) -> Result<Value, RenderError>,
    ) -> Result<Option<Value>, RenderError> {
        let Some(engine) = release_lock_engine(d, self.web, self.scaled) else {
            return Ok(None);
        };
        let mut lock = Map::new();
        let engine = if engine == DatabaseEngine::Mysql {
            "mysql"
        } else {
            "postgresql"
        };
        lock.insert("engine".into(), engine.into());
        for key in ["host", "port", "user", "password", "name"] {
            lock.insert(key.into(), part(key)?);
        }
        Ok(Some(lock.into()))
    }

    /// [`Machine::release_lock`] for the launchers that assemble the
    /// database's login themselves (`{"from": "database"}` entries: AWS,
    /// GCP), once the configuration has its `database`.
    pub fn add_release_lock(
        &self,
        d: &Decision,
        config: &mut Map<String, Value>,
    ) -> Result<(), RenderError> {
        let part = |key: &str| {
            let output = if key == "user" { "username" } else { key };
            Ok(json!({"from": "database", "value": output}))
        };
        if let Some(lock) = self.release_lock(d, part)? {
            config.insert("release_lock".into(), lock);
        }
        Ok(())
    }

    /// Adds the systemd units to a cloud-init context: `units` (`{name,
    /// path, content}`) and `unit_names` (what `systemctl enable --now` starts).
    pub fn add_units(&self, ctx: &mut Map<String, Value>) -> Result<(), RenderError> {
        let units = units(self)?;
        let names: Vec<Value> = units.iter().map(|u| u["name"].clone()).collect();
        ctx.insert("units".into(), units.into());
        ctx.insert("unit_names".into(), names.into());
        Ok(())
    }
}

/// The engine of the database the machines of a group take turns through
/// to run the web service's release: they boot together and each runs it
/// before its app starts, so each holds a lock in that database
/// (PostgreSQL's advisory lock, MySQL's `GET_LOCK`) through a client
/// session for as long as its release runs. The first machine migrates, the
/// others find nothing left to do, and a machine that dies holding the lock
/// drops the session and the lock. None for one machine, no release, or a
/// service that reads no PostgreSQL/MySQL database of the plan.
pub(crate) fn release_lock_engine(
    d: &Decision,
    web: &ServicePlan,
    scaled: bool,
) -> Option<DatabaseEngine> {
    let engine = d.database.as_ref()?.engine;
    let reads = web
        .env
        .iter()
        .any(|e| matches!(e.value, autodeploy_core::EnvValue::Database { .. }));
    (scaled
        && reads
        && web.release.is_some()
        && matches!(engine, DatabaseEngine::Postgresql | DatabaseEngine::Mysql))
    .then_some(engine)
}

/// The systemd unit of the web service.
pub(crate) const WEB_UNIT: &str = "app";

/// The unit name of each service when one machine runs them: `app`
/// for the first web service, `app-<name>` for the others — the name
/// lowercased, anything but letters and digits turned into `-`, at most 40
/// characters, a number added when two names meet.
pub(crate) fn unit_names(services: &[ServicePlan]) -> Vec<String> {
    let web = services.iter().position(|s| s.kind == ServiceKind::Web);
    let mut taken: Vec<String> = vec![WEB_UNIT.into()];
    let mut out = Vec::new();
    for (i, s) in services.iter().enumerate() {
        if Some(i) == web {
            out.push(WEB_UNIT.to_string());
            continue;
        }
        let mut slug = String::new();
        for c in s.name.chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c.to_ascii_lowercase());
            } else if !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let slug: String = slug.trim_matches('-').chars().take(40).collect();
        let slug = slug.trim_end_matches('-');
        let base = format!(
            "{WEB_UNIT}-{}",
            if slug.is_empty() { "worker" } else { slug }
        );
        let mut unit = base.clone();
        let mut n = 2;
        while taken.contains(&unit) {
            unit = format!("{base}-{n}");
            n += 1;
        }
        taken.push(unit.clone());
        out.push(unit);
    }
    out
}

/// A process that fires periodic tasks: every copy fires them all.
pub(crate) fn is_scheduler(s: &ServicePlan) -> bool {
    let name = s.name.to_ascii_lowercase();
    if matches!(
        name.as_str(),
        "beat" | "clock" | "scheduler" | "celerybeat" | "celery-beat"
    ) {
        return true;
    }
    let start = s.start.as_deref().unwrap_or_default();
    let words: Vec<&str> = start.split_whitespace().collect();
    let celery = words.iter().any(|w| w.ends_with("celery"));
    (celery
        && words
            .iter()
            .any(|w| *w == "beat" || *w == "-B" || *w == "--beat"))
        || words
            .iter()
            .any(|w| w.ends_with("rqscheduler") || w.ends_with("rq-scheduler"))
}

fn folder(path: &str) -> &str {
    match path.trim_start_matches("./").trim_end_matches('/') {
        "" => ".",
        p => p,
    }
}

/// Check that `d`'s services can share one machine: one web service, and
/// workers from its folder and runtime that add no steps of their own (and
/// no scheduler on a group).
pub(crate) fn machine<'a>(d: &'a Decision, host: &Host) -> Result<Machine<'a>, RenderError> {
    let several = host.several;
    if let Some(s) = d.services.iter().find(|s| s.kind == ServiceKind::Static) {
        return Err(unsupported(
            d,
            &format!("the static site {:?} beside the app on the vm strategy", s.name),
            &format!("a machine runs one web service and its workers; deploy the static site on its own, or {several}"),
        ));
    }
    if let Some(s) = d.services.iter().find(|s| !(host.accepts)(s.hosting)) {
        return Err(unsupported(
            d,
            &format!("the hosting of {:?} on the vm strategy", s.name),
            host.runs,
        ));
    }
    let webs: Vec<&ServicePlan> = d
        .services
        .iter()
        .filter(|s| s.kind == ServiceKind::Web)
        .collect();
    let web = match webs.as_slice() {
        [web] => *web,
        [] => {
            return Err(unsupported(
                d,
                "workers without a web service on a VM",
                &format!("the vm strategy serves one web service behind nginx and runs workers beside it; {several} to run workers alone"),
            ))
        }
        many => {
            let names: Vec<String> = many.iter().map(|s| format!("{:?}", s.name)).collect();
            return Err(unsupported(
                d,
                &format!("several web services ({}) on one machine", names.join(", ")),
                &format!("a machine runs one web service behind nginx, with its workers; {several} to run several web services"),
            ));
        }
    };
    let units = unit_names(&d.services);
    let mut workers = Vec::new();
    for (s, unit) in d.services.iter().zip(units) {
        if std::ptr::eq(s, web) {
            continue;
        }
        let who = format!("the worker {:?}", s.name);
        if folder(&s.path) != folder(&web.path) {
            return Err(unsupported(
                d,
                &format!("{who} from another folder ({:?}) than the web service ({:?})", s.path, web.path),
                &format!("a machine runs processes from one folder with one runtime install; {several} to run services from several folders"),
            ));
        }
        if s.runtime.family != web.runtime.family || s.runtime.version != web.runtime.version {
            return Err(unsupported(
                d,
                &format!(
                    "{who} on another runtime ({} {}) than the web service ({} {})",
                    s.runtime.family, s.runtime.version, web.runtime.family, web.runtime.version
                ),
                &format!("a machine installs one runtime for all its processes; {several} to run services on several runtimes"),
            ));
        }
        for (step, mine, webs) in [
            ("install", &s.install, &web.install),
            ("build", &s.build, &web.build),
            ("release", &s.release, &web.release),
        ] {
            if mine.is_some() && mine != webs {
                return Err(unsupported(
                    d,
                    &format!("{who} with its own {step} step"),
                    &format!("the processes of one machine share the web service's install, build and release steps; {several} to build them apart"),
                ));
            }
        }
        let Some(start) = s.start.as_deref() else {
            return Err(unsupported(
                d,
                &format!("{who} without a start command"),
                "say how it starts (a Procfile line such as `worker: rq worker`)",
            ));
        };
        if (host.scaled)(web) && is_scheduler(s) {
            return Err(unsupported(
                d,
                &format!("the scheduler {:?} ({start:?}) on a group of several machines", s.name),
                &format!("every machine of a group runs every worker, so each copy of a scheduler would fire every periodic task; ask for a single machine, or {several}"),
            ));
        }
        workers.push(Worker {
            service: s,
            unit,
            start,
        });
    }
    Ok(Machine {
        web,
        workers,
        scaled: (host.scaled)(web),
    })
}

/// The systemd units of a machine: `{path, content}` for cloud-init's
/// `write_files`, web service first.
fn units(m: &Machine) -> Result<Vec<Value>, RenderError> {
    let mut out = Vec::new();
    let names =
        std::iter::once((WEB_UNIT, false)).chain(m.workers.iter().map(|w| (w.unit.as_str(), true)));
    for (unit, worker) in names {
        let content = render_template(
            "cloud-init/app.service",
            json!({"unit": unit, "worker": worker}),
        )?;
        out.push(json!({
            "name": format!("{unit}.service"),
            "path": format!("/etc/systemd/system/{unit}.service"),
            "content": content,
        }));
    }
    Ok(out)
}

/// True when one of the commands runs pnpm or yarn (which corepack provides).
fn runs_pnpm_or_yarn<'c>(commands: impl Iterator<Item = &'c str>) -> bool {
    runs_any(commands, &["pnpm", "yarn"])
}

/// True when one of the commands runs one of `programs`.
fn runs_any<'c>(mut commands: impl Iterator<Item = &'c str>, programs: &[&str]) -> bool {
    commands.any(|c| {
        c.split(|ch: char| ch.is_whitespace() || ch == '&' || ch == ';' || ch == '|')
            .any(|w| programs.contains(&w))
    })
}

/// True when the service's steps run pnpm or yarn.
fn corepack_runs(s: &ServicePlan) -> bool {
    runs_pnpm_or_yarn(
        [&s.install, &s.build, &s.release, &s.start]
            .into_iter()
            .filter_map(|c| c.as_deref()),
    )
}

/// A service that can run on a VM, checked.
pub(crate) struct VmService<'a> {
    pub family: &'a str,
    pub version: &'a str,
    /// The JDK major version for `jvm` (17 when asked for, else 21).
    pub jdk: &'static str,
    pub start: &'a str,
    pub port: u16,
    /// The service folder on the VM, inside [`REPO_DIR`].
    pub workdir: String,
    /// The Node line a Python (or other) service's asset build runs on
    /// (`RuntimePlan::assets_node`): installed beside the runtime.
    pub assets_node: Option<&'a str>,
}

/// Check that `s` can run on a VM: a runtime the install script knows, a
/// plain version number, a start command, a port and a folder that stays
/// inside the repository.
pub(crate) fn vm_service<'a>(
    d: &Decision,
    s: &'a ServicePlan,
    hints: &Hints,
) -> Result<VmService<'a>, RenderError> {
    let family = s.runtime.family.as_str();
    let version = s.runtime.version.as_str();
    // Node is fetched by its major line (`latest-v18.x`): a project that
    // pins a full release (`.node-version` 18.16.1) runs on that line.
    let version = if family == "node" {
        version.split('.').next().unwrap_or(version)
    } else {
        version
    };
    if !VM_RUNTIMES.contains(&family) {
        return Err(unsupported(
            d,
            &format!("the {family} runtime on a VM"),
            hints.other_runtime,
        ));
    }
    let version_ok = !version.is_empty()
        && version.len() <= 16
        && version.chars().all(|c| c.is_ascii_digit() || c == '.')
        && (family != "node" || version.chars().all(|c| c.is_ascii_digit()));
    if !version_ok {
        return Err(unsupported(
            d,
            &format!("the {family} runtime version {version:?} on a VM"),
            "a major version number (e.g. 20) is needed to fetch the runtime",
        ));
    }
    let Some(start) = s.start.as_deref() else {
        return Err(unsupported(
            d,
            "a service without a start command",
            "say how the app starts (a Procfile or a start script)",
        ));
    };
    let Some(port) = s.port else {
        return Err(unsupported(
            d,
            "a service without a port on a VM",
            hints.no_port,
        ));
    };
    let rel = s.path.trim_start_matches("./");
    if rel.starts_with('/') || rel.split('/').any(|c| c == "..") || rel.contains('\0') {
        return Err(unsupported(
            d,
            &format!("the service path {:?}", s.path),
            "service folders must stay inside the repository",
        ));
    }
    let workdir = if rel.is_empty() || rel == "." {
        REPO_DIR.to_string()
    } else {
        format!("{REPO_DIR}/{rel}")
    };
    Ok(VmService {
        family,
        version,
        jdk: if version.split('.').next() == Some("17") {
            "17"
        } else {
            "21"
        },
        start,
        port,
        workdir,
        // The major line (nodejs.org lists `latest-v14.x`), digits only:
        // it lands in the install script.
        assets_node: s
            .runtime
            .assets_node
            .as_deref()
            .and_then(|v| v.split('.').next())
            .filter(|v| !v.is_empty() && v.bytes().all(|c| c.is_ascii_digit())),
    })
}

impl VmService<'_> {
    /// The launcher configuration every cloud shares; callers add `env` and
    /// their own keys. `health_timeout` is in seconds.
    pub fn config(&self, s: &ServicePlan, health_timeout: u64) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("repo".into(), REPO_DIR.into());
        m.insert("workdir".into(), self.workdir.clone().into());
        m.insert(
            "path_prefix".into(),
            if self.family == "python" {
                "/opt/app/venv/bin:/usr/local/bin"
            } else {
                "/usr/local/bin"
            }
            .into(),
        );
        // What a `rediss://` URL adds for this runtime's Redis client.
        let query = crate::tls_url_query(self.family);
        if !query.is_empty() {
            m.insert("tls_url_query".into(), query.into());
        }
        m.insert("install".into(), json!(s.install));
        m.insert("build".into(), json!(s.build));
        m.insert("release".into(), json!(s.release));
        m.insert("start".into(), self.start.into());
        m.insert("port".into(), self.port.into());
        m.insert(
            "health_path".into(),
            s.health_check
                .as_ref()
                .map_or("/", |h| h.path.as_str())
                .into(),
        );
        // The first status the boot's wait counts as a failure: the plan's
        // own (400 for a route the app serves, 500 where none is known).
        m.insert(
            "health_below".into(),
            s.health_check
                .as_ref()
                .map_or(500, |h| h.accept.first_failure())
                .into(),
        );
        m.insert("health_timeout".into(), health_timeout.into());
        m.insert("source_fixes".into(), json!(s.source_fixes));
        m.insert("files_from_example".into(), json!(s.files_from_example));
        if self.family == "python" && !s.install_constraints.is_empty() {
            // What the install must hold back (`SQLAlchemy<2.1` beside
            // psycopg2): the launcher hands them to pip and uv.
            let reqs: Vec<&str> = s
                .install_constraints
                .iter()
                .map(|c| c.requirement.as_str())
                .collect();
            m.insert("constraints".into(), json!(reqs));
        }
        if self.family == "python" {
            let mut env = Map::new();
            let steps = [&s.install, &s.build, &s.release];
            let commands = steps
                .into_iter()
                .filter_map(|c| c.as_deref())
                .chain(std::iter::once(self.start));
            let tools = python_tools(commands);
            for (_, _, vars) in &tools {
                for (k, v) in *vars {
                    env.insert((*k).into(), (*v).into());
                }
            }
            if !tools.is_empty() {
                // The app's venv is the environment they install into.
                env.insert("VIRTUAL_ENV".into(), "/opt/app/venv".into());
                m.insert("tool_env".into(), env.into());
            }
        }
        if self.family == "rust" {
            // rustup's `cargo` finds its toolchains there (install-runtime).
            m.insert(
                "tool_env".into(),
                json!({"RUSTUP_HOME": "/opt/autodeploy/rustup"}),
            );
        }
        if corepack_runs(s) {
            let env = m.entry("tool_env").or_insert_with(|| json!({}));
            if let Some(env) = env.as_object_mut() {
                for (k, v) in crate::COREPACK_ENV {
                    env.insert((*k).into(), (*v).into());
                }
            }
        }
        m
    }

    /// The template context every cloud shares (name, runtime, port, the
    /// clone and checkout commands, the launcher configuration as JSON);
    /// callers add `nginx` and their own flags.
    pub fn context(&self, d: &Decision, config: &Map<String, Value>) -> Map<String, Value> {
        let sh = crate::escape::sh;
        let mut m = Map::new();
        m.insert("name".into(), d.name.clone().into());
        m.insert("family".into(), self.family.into());
        m.insert("version".into(), self.version.into());
        // The Python line (`3.10` of `3.10.14`) a pinned uv installs when
        // Ubuntu does not ship it: a uv recent enough to know 3.14, and the
        // line rather than the patch release, which its list may lack.
        if self.family == "python" {
            let line: Vec<&str> = self.version.split('.').take(2).collect();
            m.insert("python_line".into(), line.join(".").into());
            m.insert("uv".into(), UV_FOR_PYTHON.into());
            // The package tools the steps run, in a venv of their own.
            let commands = ["install", "build", "release", "start"]
                .into_iter()
                .filter_map(|k| config.get(k).and_then(Value::as_str));
            let tools = python_tools(commands);
            let mut pip: Vec<String> = tools.iter().map(|(_, req, _)| sh(req)).collect();
            // poetry runs its `packaging` inside the app's interpreter to
            // read the platform tags, and the tools venv is Ubuntu's 3.12:
            // left free, pip takes a `packaging` the app's older line cannot
            // parse (26.x needs 3.10; fastapi-realworld's 3.9 venv failed
            // with a SyntaxError). 25.0 reads on 3.8 and later.
            if tools.iter().any(|(tool, ..)| *tool == "poetry") {
                pip.push(sh(POETRY_PACKAGING));
            }
            m.insert("python_tools_pip".into(), pip.join(" ").into());
            let tools: Vec<Value> = tools
                .into_iter()
                .map(|(tool, req, _)| json!({"name": tool, "requirement": req}))
                .collect();
            m.insert("python_tools".into(), tools.into());
        }
        m.insert("jdk".into(), self.jdk.into());
        // Node for the asset build of a service on another runtime, and the
        // package manager the steps run through corepack (pnpm, yarn).
        if self.family != "node" {
            m.insert("assets_node".into(), json!(self.assets_node));
        }
        let steps = ["install", "build", "release", "start"]
            .into_iter()
            .filter_map(|k| config.get(k).and_then(Value::as_str));
        let steps: Vec<&str> = steps.collect();
        m.insert(
            "corepack".into(),
            runs_pnpm_or_yarn(steps.iter().copied()).into(),
        );
        // Bun (`bun install`, `bun run start`): from npm, its current 1.x.
        m.insert(
            "bun".into(),
            runs_any(steps.iter().copied(), &["bun", "bunx"]).into(),
        );
        // The client the release lock holds its database session with
        // (Ubuntu's packages).
        let client = config
            .get("release_lock")
            .and_then(|l| l.get("engine"))
            .and_then(Value::as_str)
            .map(|e| {
                if e == "mysql" {
                    "mysql-client"
                } else {
                    "postgresql-client"
                }
            });
        m.insert("lock_client".into(), json!(client));
        m.insert("port".into(), self.port.into());
        // A release step that runs a migration CLI (diesel_cli, sqlx-cli)
        // needs it on the machine, built for the database it migrates.
        let cli = config
            .get("release")
            .and_then(|r| r.as_str())
            .and_then(autodeploy_core::release_cli::CargoCli::for_command);
        let engine = match d.database.as_ref().map(|db| db.engine) {
            Some(autodeploy_core::DatabaseEngine::Mysql) => autodeploy_core::Database::Mysql,
            _ => autodeploy_core::Database::Postgresql,
        };
        let backend = autodeploy_core::release_cli::CargoCli::backend(&[engine]);
        m.insert(
            "release_cli".into(),
            cli.map(|c| {
                serde_json::json!({
                    "program": c.program,
                    "install": format!("{} --version '{}'", c.install_args(backend), c.vm_version),
                })
            })
            .into(),
        );
        m.insert(
            "config_json".into(),
            serde_json::to_string_pretty(config)
                .unwrap_or_default()
                .into(),
        );
        m.insert(
            "clone_cmd".into(),
            format!("git clone -- {} {REPO_DIR}", sh(&d.source.input)).into(),
        );
        m.insert(
            "checkout_cmd".into(),
            json!(d
                .source
                .commit
                .as_ref()
                .map(|c| format!("git -C {REPO_DIR} checkout --detach {}", sh(c)))),
        );
        m
    }
}

/// A launcher env entry for a database setting (`{"from": "database"}`):
/// the launcher assembles it at start, with the scheme the code reads.
pub(crate) fn database_entry(
    d: &Decision,
    name: &str,
    output: &DatabaseOutput,
    scheme: Option<&str>,
) -> Result<Value, RenderError> {
    match scheme {
        None => Ok(json!({"name": name, "from": "database", "value": output})),
        Some(sc) if autodeploy_core::conn::is_url_scheme(sc) => {
            Ok(json!({"name": name, "from": "database", "value": output, "scheme": sc}))
        }
        Some(sc) => Err(unsupported(
            d,
            &format!("the URL scheme {sc:?} for {name}"),
            "a scheme is letters, digits, `+`, `-` and `.`",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(name: &str, kind: ServiceKind, start: &str) -> ServicePlan {
        serde_json::from_value(json!({
            "name": name, "path": ".", "kind": kind, "strategy": "vm", "hosting": "ec2",
            "runtime": {"language": "python", "family": "python", "version": "3.12",
                        "version_origin": "default"},
            "start": start, "public": false,
        }))
        .unwrap()
    }

    #[test]
    fn unit_names_are_plain_and_distinct() {
        let services = vec![
            plan("worker", ServiceKind::Worker, "rq worker"),
            plan("web", ServiceKind::Web, "gunicorn app:app"),
            plan("Worker!", ServiceKind::Worker, "rq worker"),
            plan("$(rm -rf /)\n", ServiceKind::Worker, "rq worker"),
            plan("app", ServiceKind::Worker, "rq worker"),
        ];
        assert_eq!(
            unit_names(&services),
            ["app-worker", "app", "app-worker-2", "app-rm-rf", "app-app"]
        );
    }

    #[test]
    fn schedulers_are_told_from_queue_workers() {
        let w = |name: &str, start: &str| is_scheduler(&plan(name, ServiceKind::Worker, start));
        assert!(w("beat", "celery -A proj beat"));
        assert!(w("worker", "celery -A proj worker -B --loglevel=info"));
        assert!(w("tasks", "python -m celery -A proj beat"));
        assert!(w("clock", "python clock.py"));
        assert!(w("sched", "rqscheduler --url $REDIS_URL"));
        assert!(!w("worker", "celery -A proj worker --loglevel=info"));
        assert!(!w("worker", "rq worker microblog-tasks"));
        assert!(!w("worker", "bundle exec sidekiq"));
    }
}
