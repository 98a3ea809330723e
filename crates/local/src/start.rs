//! Starting a version of a local deployment, and replacing the one that
//! serves without taking the app down.
//!
//! A deployment lives in `<home>/deployments/<id>/`. Each start builds a new
//! release beside the current one (`releases/<n>/`: the copy of the code,
//! runtimes, secrets, supervisor files) and runs it on ports of its own.
//! Each web service has a front (`front/<service>.*`, see `front.rs`) on
//! the deployment's stable port; the new release takes over — the front's
//! target is rewritten — only once it answers its health check, and the old
//! release is stopped after. A release that fails to build, to migrate or to
//! answer is stopped and the previous one keeps serving
//! ([`LocalError::RedeployFailed`]).
//!
//! Order of work: everything that can be checked is checked first (runtimes,
//! start commands, values the app needs); a service this machine cannot run
//! is left out and reported when the rest can run; then data services,
//! the copy with its fixes, runtimes, install, build, the release step
//! (migrations: once, before the new version takes traffic), supervisors,
//! health (crash-aware: an app that exits before it answers ends the wait
//! within seconds, with its own last lines), the switch.

use crate::carry;
use crate::data::Engine;
use crate::error::LocalError;
use crate::sandbox::Confinement;
use crate::step::{base_env, Step};
use crate::{
    env, front, health, is_local, is_static, lock, needs_port, prepare, proc, read_record,
    read_status, spawn_supervisor, stop_supervisors, supervise, toolchain, validate_id, LocalApp,
    LocalOptions, LocalService, Sink, SkippedService,
};
use autodeploy_core::{Analysis, Decision, LogStream, ServicePlan};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};

/// Free space a deploy needs on the home's disk before it starts, unless
/// `AUTODEPLOY_MIN_FREE_MB` says otherwise (a small dedicated disk).
const MIN_FREE_BYTES: u64 = 512 << 20;

fn min_free_bytes() -> u64 {
    std::env::var("AUTODEPLOY_MIN_FREE_MB")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(MIN_FREE_BYTES, |mb| mb << 20)
}

/// Crashes before the first answer after which the wait ends.
const CRASHES_BEFORE_ANSWER: u32 = 3;

/// Why `svc` cannot run on this machine, if it cannot; else the data
/// services it needs and the toolchain chosen for it.
fn preflight(
    svc: &ServicePlan,
    source: (&Analysis, &Path),
    decision: &Decision,
    opts: &LocalOptions,
    supplied: &[(String, String)],
    confine: &Confinement,
) -> Result<(Vec<Engine>, toolchain::Chosen), LocalError> {
    let path = opts.search_path();
    let chosen = toolchain::check(svc, source.0, source.1, &path)?;
    // The deployment's own account must be able to run its toolchain.
    let programs = toolchain::programs(svc);
    let mut unreachable = confine.unreachable(&programs, &path);
    for exe in chosen.executables() {
        if let (Some(dir), Some(name)) = (exe.parent(), exe.file_name()) {
            let name = name.to_string_lossy();
            unreachable.extend(confine.unreachable(&[name.as_ref()], &dir.as_os_str().to_owned()));
        }
    }
    if let Some((program, blocked)) = unreachable.into_iter().next() {
        return Err(LocalError::Confinement {
            reason: format!(
                "service {} needs {}, which the deployment's unprivileged account cannot run: {} lets only its owner in",
                svc.name,
                program.display(),
                blocked.display()
            ),
            hint: format!(
                "let the apps' group pass through it without listing it (`setfacl -m g:{}:x {}`; scripts/setup.sh does this for toolchains under /root), or install the toolchain outside it",
                crate::account::APPS_GROUP,
                blocked.display()
            ),
        });
    }
    if !is_static(svc) && svc.start.is_none() {
        return Err(LocalError::NoStartCommand {
            service: svc.name.clone(),
        });
    }
    Ok((env::data_needs(decision, &[svc], supplied)?, chosen))
}

/// Ports of one release: where each web service's new version listens, and
/// the stable port its front keeps.
struct Ports {
    internal: BTreeMap<String, u16>,
    public: BTreeMap<String, u16>,
    /// Services whose public port was a free pick (not kept from a previous
    /// run, not asked for): another pick is as good if it is taken meanwhile.
    movable: BTreeSet<String>,
}

fn free_port() -> Result<u16, LocalError> {
    proc::free_port().map_err(|e| LocalError::io("find a free port on", "127.0.0.1", e))
}

pub(crate) fn start(
    id: &str,
    source_root: &Path,
    analysis: &Analysis,
    decision: &Decision,
    opts: &LocalOptions,
    sink: Sink,
) -> Result<LocalApp, LocalError> {
    validate_id(id)?;
    let dir = opts.home.join("deployments").join(id);
    let all: Vec<&ServicePlan> = decision.services.iter().filter(|s| is_local(s)).collect();
    if all.is_empty() {
        return Err(LocalError::NothingToRun);
    }
    let supplied: Vec<(String, String)> = opts
        .extra_env
        .iter()
        .chain(opts.extra_secrets.iter())
        .cloned()
        .collect();

    // 1. Checks before any work; a service this machine cannot run is left
    // out (and reported) when others can run.
    // Their own account (as root), cgroup and limits: everything from the
    // repository — install scripts included — runs confined.
    let confine = if opts.confine {
        crate::sandbox::prepare(id, opts.limits)?
    } else {
        Confinement::default()
    };
    let mut services = Vec::new();
    let mut skipped: Vec<(SkippedService, LocalError)> = Vec::new();
    let mut needs: Vec<Engine> = Vec::new();
    let mut toolchains = BTreeMap::new();
    for svc in &all {
        match preflight(
            svc,
            (analysis, source_root),
            decision,
            opts,
            &supplied,
            &confine,
        ) {
            Ok((n, chosen)) => {
                toolchains.insert(svc.name.clone(), chosen);
                services.push(*svc);
                for e in n {
                    if !needs.contains(&e) {
                        needs.push(e);
                    }
                }
            }
            Err(e) => skipped.push((
                SkippedService {
                    name: svc.name.clone(),
                    reason: e.to_string(),
                },
                e,
            )),
        }
    }
    if services.is_empty() {
        // Nothing can run: the first reason is the answer.
        return Err(skipped.remove(0).1);
    }
    let skipped: Vec<SkippedService> = skipped.into_iter().map(|(s, _)| s).collect();

    // A deploy writes a copy, a runtime and packages: refuse on a nearly
    // full disk before anything is written.
    let existing = opts
        .home
        .ancestors()
        .find(|p| p.exists())
        .unwrap_or(&opts.home);
    let need = min_free_bytes();
    if let Some(free) = crate::data::free_bytes(existing) {
        if free < need {
            return Err(LocalError::NoSpace {
                path: opts.home.clone(),
                free_mib: free >> 20,
                need_mib: need >> 20,
            });
        }
    }
    let _lock = lock(id, opts)?;
    let previous = read_record(&dir).ok().flatten();
    let live = previous.as_ref().filter(|p| p.release > 0 && any_alive(p));
    // A deployment laid out before releases existed is replaced in place.
    if previous.as_ref().is_some_and(|p| p.release == 0) {
        stop_supervisors(&dir, opts)?;
    }
    let release = previous.as_ref().map(|p| p.release + 1).unwrap_or(1);
    let result = build_and_switch(
        id,
        source_root,
        analysis,
        decision,
        opts,
        sink,
        &services,
        skipped,
        needs,
        &toolchains,
        &dir,
        previous.as_ref(),
        release,
        &confine,
    );
    match (result, live) {
        (Ok(app), _) => Ok(app),
        // Anything that stops a new release — a build, a migration, a
        // health check — leaves the previous one serving.
        (Err(e @ LocalError::RedeployFailed { .. }), _) => Err(e),
        (Err(e), Some(old)) => {
            let _ = std::fs::remove_dir_all(dir.join("releases").join(release.to_string()));
            Err(LocalError::RedeployFailed {
                cause: Box::new(e),
                serving: old.url.clone(),
                release: old.release,
            })
        }
        (Err(e), None) => Err(e),
    }
}

/// The build command, with the retries that fit it (a locked dependency
/// that no longer compiles is updated and built again).
fn run_build(step: &Step, build: &str, say: &dyn Fn(&str)) -> Result<(), LocalError> {
    toolchain::run_steps(
        &[toolchain::build_step(build.to_string())],
        &|name, cmd| step.run(name, cmd),
        say,
    )
}

/// Build a crate whose sqlx queries are checked against a live schema: a
/// scratch database with its migrations for the build alone
/// (`DATABASE_URL`, which sqlx's macros read), dropped afterwards whatever
/// the outcome. Without a PostgreSQL of the deployment, the build runs as is
/// and says why it may fail.
fn build_with_schema(
    id: &str,
    data_opts: &crate::data::DataOptions,
    grants: &BTreeMap<Engine, crate::data::Grant>,
    migrations: &Path,
    step: &Step,
    build: &str,
    say: &dyn Fn(&str),
) -> Result<(), LocalError> {
    if !grants.contains_key(&Engine::Postgresql) {
        say("sqlx checks its queries against a live database at compile time, and this deployment has no PostgreSQL: the build may fail (commit sqlx's offline data with `cargo sqlx prepare`)");
        return run_build(step, build, say);
    }
    let grant = crate::data::build_database(data_opts, Engine::Postgresql, id, migrations, say)?;
    let url = autodeploy_core::conn::database_url(
        &grant.db_conn(autodeploy_core::DatabaseEngine::Postgresql),
        "postgres",
    );
    let mut env: Vec<(String, String)> = step
        .env
        .iter()
        .filter(|(k, _)| k != "DATABASE_URL" && k != "SQLX_OFFLINE")
        .cloned()
        .collect();
    env.push(("DATABASE_URL".into(), url));
    let built = run_build(&Step { env: &env, ..*step }, build, say);
    let dropped = crate::data::release_build_database(data_opts, id);
    built?;
    dropped
}

#[allow(clippy::too_many_arguments)]
fn build_and_switch(
    id: &str,
    source_root: &Path,
    analysis: &Analysis,
    decision: &Decision,
    opts: &LocalOptions,
    sink: Sink,
    services: &[&ServicePlan],
    skipped: Vec<SkippedService>,
    needs: Vec<Engine>,
    toolchains: &BTreeMap<String, toolchain::Chosen>,
    dir: &Path,
    previous: Option<&LocalApp>,
    release: u32,
    confine: &Confinement,
) -> Result<LocalApp, LocalError> {
    let live = previous.filter(|p| p.release > 0 && any_alive(p));
    let dir = dir.to_path_buf();
    let rel_dir = dir.join("releases").join(release.to_string());
    if rel_dir.exists() {
        std::fs::remove_dir_all(&rel_dir)
            .map_err(|e| LocalError::io("remove the stale folder", &rel_dir, e))?;
    }
    for sub in ["run", "runtime"] {
        let p = rel_dir.join(sub);
        std::fs::create_dir_all(&p).map_err(|e| LocalError::io("create the folder", &p, e))?;
    }
    let fronts = dir.join("front");
    std::fs::create_dir_all(&fronts)
        .map_err(|e| LocalError::io("create the folder", &fronts, e))?;
    if confine.run_as().is_some() {
        // The account passes through the folders above its release (without
        // listing them) and owns only the release itself (0700).
        for d in [
            opts.home.clone(),
            opts.home.join("deployments"),
            dir.clone(),
            dir.join("releases"),
        ] {
            crate::account::allow_traverse(&d)?;
        }
        confine.check_reachable(&rel_dir)?;
    }
    for sub in ["home", "tmp"] {
        let p = rel_dir.join(sub);
        std::fs::create_dir_all(&p).map_err(|e| LocalError::io("create the folder", &p, e))?;
    }
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&rel_dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| LocalError::io("set the mode of", &rel_dir, e))?;
    }
    let log_file = dir.join("app.log");
    let say = |msg: &str| {
        sink(LogStream::System, msg);
        supervise::append_lines(&log_file, "system", &[msg.to_string()]);
    };
    for s in &skipped {
        say(&format!(
            "{}: not started — {} (the other services start without it)",
            s.name, s.reason
        ));
    }
    if let Some(p) = live {
        say(&format!(
            "release {release} is built beside release {} (still serving {}); it takes over once it answers",
            p.release, p.url
        ));
    }

    // 2. Ports: a new one per web service for this release; the stable one
    // its front keeps (the same as before on a redeploy).
    let ports = assign_ports(services, previous, opts)?;

    // 3. Data services, then every value the app gets.
    let data_opts = opts.data_options();
    let mut grants = BTreeMap::new();
    // One role per deployment: md5 when any of its services' drivers needs it.
    let ask = crate::data::Ask {
        postgres_auth: services.iter().find_map(|s| s.postgres_auth),
        redis_password: crate::data::redis_password_read(
            decision
                .services
                .iter()
                .filter(|s| is_local(s))
                .map(|s| s.env.as_slice()),
        ),
    };
    for engine in needs {
        let g = crate::data::provision_with(&data_opts, engine, id, &ask, &say)?;
        grants.insert(engine, g);
    }
    let mut generated = read_generated(previous);
    let mut envs = BTreeMap::new();
    for svc in services {
        let mut ctx = env::Ctx {
            decision,
            ports: &ports.internal,
            public: &ports.public,
            extra: &opts.extra_env,
            extra_secret: &opts.extra_secrets,
            generated: &mut generated,
            grants: &grants,
        };
        let e = env::resolve(svc, &mut ctx)?;
        envs.insert(svc.name.clone(), e);
    }

    // 4. The copy, with the analysis' fixes.
    let app_dir = rel_dir.join("app");
    let copied = prepare::copy_tree(source_root, &app_dir)?;
    say(&format!(
        "copied {} files ({} KiB) to {}",
        copied.files,
        copied.bytes / 1024,
        app_dir.display()
    ));
    for l in &copied.skipped_links {
        say(&format!(
            "left out the link {l}: it points outside the repository"
        ));
    }
    // Files the code imports that the repository only holds an example of
    // come first: a fix may be on one of them.
    for make in crate::examples_for(services, analysis) {
        match prepare::create_from_example(&app_dir, &make)? {
            prepare::FixOutcome::Applied => say(&format!(
                "created {} in the copy from {}: the repository holds only the example (review its values)",
                make.file, make.example
            )),
            prepare::FixOutcome::Skipped(why) => {
                say(&format!("did not create {} from its example: {why}", make.file))
            }
        }
    }
    for fix in crate::fixes_for(services, analysis) {
        match prepare::apply_fix(&app_dir, &fix)? {
            // A replacement of several lines (a function added before the
            // line) is summed up: its first line and how many there are.
            prepare::FixOutcome::Applied => say(&match fix.replace.lines().count() {
                0 | 1 => format!(
                    "fixed {}:{} in the copy: {:?} → {:?}",
                    fix.file, fix.line, fix.find, fix.replace
                ),
                n => format!(
                    "fixed {}:{} in the copy: {:?} → {n} lines, from {:?}",
                    fix.file,
                    fix.line,
                    fix.find,
                    fix.replace.lines().next().unwrap_or_default()
                ),
            }),
            prepare::FixOutcome::Skipped(why) => {
                say(&format!("did not apply a fix to {}: {why}", fix.file))
            }
        }
    }

    // Folders the code keeps its SQLite files in, which git does not keep.
    for folder in crate::folders_for(services, analysis) {
        match prepare::create_folder(&app_dir, &folder)? {
            prepare::FixOutcome::Applied => say(&format!(
                "created the folder {folder}/ in the copy (the code keeps a SQLite file there)"
            )),
            prepare::FixOutcome::Skipped(why) => {
                say(&format!("did not create the folder {folder}/: {why}"))
            }
        }
    }

    // The copy, runtimes, home and temp folder belong to the account.
    confine.own(&rel_dir)?;

    // 5. Secrets (values never reach the log); generated ones are kept so a
    // redeploy signs sessions with the same keys.
    let secrets_file = rel_dir.join("secrets.env");
    let all_secrets: Vec<(String, String)> = envs
        .values()
        .flat_map(|e| e.secret.iter().cloned())
        .collect::<BTreeMap<_, _>>()
        .into_iter()
        .collect();
    env::write_secrets(&secrets_file, &all_secrets)?;
    let generated_file = dir.join("generated.env");
    env::write_secrets(
        &generated_file,
        &generated
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<Vec<_>>(),
    )?;

    // 6. Runtime, install, build; then the release steps, once, before the
    // new version takes traffic.
    // A download cache per account: one deployment cannot plant packages
    // another one installs.
    let cache = match confine.run_as() {
        Some(r) => {
            let c = opts.cache().join(&r.name);
            std::fs::create_dir_all(&c).map_err(|e| LocalError::io("create the folder", &c, e))?;
            confine.own(&c)?;
            c
        }
        None => opts.cache(),
    };
    let path = opts.search_path();
    let mut prepared = Vec::new();
    // Folder → (service whose runtime was built there, its fingerprint with
    // the build command): services of one folder with the same runtime and
    // build share it instead of installing the same dependencies again.
    let mut built: HashMap<&str, (&str, String)> = HashMap::new();
    for svc in services {
        let svc_dir = prepare::inside(&app_dir, &svc.path).unwrap_or_else(|| app_dir.clone());
        let chosen = &toolchains[&svc.name];
        let shared = built.get(svc.path.as_str()).and_then(|(owner, fp)| {
            let rt_dir = rel_dir.join("runtime").join(owner);
            let rt = toolchain::runtime(svc, chosen, &svc_dir, &rt_dir, &cache);
            let same = format!("{}{:?}", rt.fingerprint(), svc.build) == *fp;
            same.then_some((*owner, rt_dir, rt))
        });
        let (owner, rt_dir, rt) = match shared {
            Some(s) => (Some(s.0), s.1, s.2),
            None => {
                let rt_dir = rel_dir.join("runtime").join(&svc.name);
                let rt = toolchain::runtime(svc, chosen, &svc_dir, &rt_dir, &cache);
                (None, rt_dir, rt)
            }
        };
        let senv = &envs[&svc.name];
        for n in &senv.notes {
            say(&format!("{}: {n}", svc.name));
        }
        let mut base = base_env(&rt, &path);
        for (k, v) in confine.env_overrides(&rel_dir, &cache) {
            base.retain(|(n, _)| *n != k);
            base.push((k, v));
        }
        base.extend(rt.env.iter().cloned());
        base.extend(senv.plain.iter().cloned());
        let mut with_secrets = base.clone();
        with_secrets.extend(senv.secret.iter().cloned());
        let step = Step {
            service: &svc.name,
            dir: &svc_dir,
            env: &with_secrets,
            log: &log_file,
            sink,
            confine,
        };
        if let Some(owner) = owner {
            say(&format!(
                "{}: same folder, runtime, dependencies and build as {owner}: using its runtime",
                svc.name
            ));
        } else {
            std::fs::create_dir_all(&rt_dir)
                .map_err(|e| LocalError::io("create the folder", &rt_dir, e))?;
            confine.own(&rt_dir)?;
            for n in &chosen.notes {
                say(&format!("{}: {n}", svc.name));
            }
            let say_svc = |m: &str| say(&format!("{}: {m}", svc.name));
            // The install is an image's build stage: every dependency, the
            // devDependencies a build needs (its bundler) included, which
            // npm, yarn and pnpm leave out under NODE_ENV=production.
            let install_env: Vec<(String, String)> = with_secrets
                .iter()
                .filter(|(k, _)| k != "NODE_ENV")
                .cloned()
                .collect();
            let install = Step {
                env: &install_env,
                ..step
            };
            toolchain::run_steps(&rt.steps, &|name, cmd| install.run(name, cmd), &say_svc)?;
            if let Some(build) = &svc.build {
                match &chosen.cargo.build_schema {
                    Some(migrations) => build_with_schema(
                        id,
                        &data_opts,
                        &grants,
                        &svc_dir.join(migrations),
                        &step,
                        build,
                        &say_svc,
                    )?,
                    None => run_build(&step, build, &say_svc)?,
                }
            }
            built.entry(svc.path.as_str()).or_insert((
                svc.name.as_str(),
                format!("{}{:?}", rt.fingerprint(), svc.build),
            ));
        }
        prepared.push((*svc, svc_dir, base, with_secrets));
    }
    // What the previous release's app wrote into its copy (a SQLite file,
    // uploads) comes along, before the release steps migrate it.
    carry::remember_built(&app_dir, &rel_dir)?;
    if let Some(old) = previous.filter(|p| p.release > 0 && p.release_dir != rel_dir) {
        carry_written(old, &app_dir, &rel_dir, confine, (&log_file, sink), &say)?;
    }
    // The first deploy creates the database from nothing (`init`, which
    // wipes what is there: never again); every deploy migrates (`release`).
    let first_deploy = previous.is_none();
    for (svc, svc_dir, _, with_secrets) in &prepared {
        let step = Step {
            service: &svc.name,
            dir: svc_dir,
            env: with_secrets,
            log: &log_file,
            sink,
            confine,
        };
        match &svc.init {
            Some(init) if first_deploy => step.run("init", init)?,
            Some(init) => say(&format!(
                "{}: `{init}` created the database on the first deploy and is not run again (it would wipe the data)",
                svc.name
            )),
            None => {}
        }
        if let Some(release_cmd) = &svc.release {
            step.run("release", release_cmd)?;
        }
    }

    // 7. Supervisors of the new release, on its own ports.
    let app_log_from = std::fs::metadata(&log_file).map(|m| m.len()).unwrap_or(0);
    let tag_service = services.len() > 1;
    let mut started = Vec::new();
    for (svc, svc_dir, base, _) in &prepared {
        let port = ports.internal.get(&svc.name).copied();
        let command = svc.start.as_ref().map(|s| match port {
            Some(p) => prepare::loopback_binds(&prepare::retarget_port(
                prepare::without_init_wrapper(s),
                svc.port,
                p,
            )),
            None => prepare::without_init_wrapper(s).to_string(),
        });
        if let (Some(c), Some(orig)) = (&command, &svc.start) {
            if c != orig {
                say(&format!(
                    "{}: start command adjusted to the assigned port on loopback: {c}",
                    svc.name
                ));
            }
        }
        let static_root = command.is_none().then(|| {
            svc.static_dir
                .as_deref()
                .and_then(|d| prepare::inside(svc_dir, d))
                .unwrap_or_else(|| svc_dir.clone())
        });
        let spec = supervise::Spec {
            deployment_id: id.to_string(),
            service: svc.name.clone(),
            tag_service,
            dir: svc_dir.clone(),
            command,
            static_root,
            port,
            env: base.clone(),
            secrets_file: Some(secrets_file.clone()),
            log_file: log_file.clone(),
            status_file: rel_dir
                .join("run")
                .join(format!("{}.status.json", svc.name)),
            restart: opts.restart,
            front: None,
            listen: None,
            confinement: confine.clone(),
        };
        let spec_file = rel_dir.join("run").join(format!("{}.spec.json", svc.name));
        let pid = spawn_supervisor(id, &dir, &spec, &spec_file, opts)?;
        say(&format!(
            "{}: release {release} started (supervisor pid {pid}{})",
            svc.name,
            match port {
                Some(p) => format!(", port {p}"),
                None => String::new(),
            }
        ));
        let health_path = port.map(|_| {
            svc.health_check
                .as_ref()
                .map(|h| h.path.clone())
                .unwrap_or_else(|| "/".into())
        });
        let public = ports.public.get(&svc.name).copied();
        started.push(LocalService {
            name: svc.name.clone(),
            port: public,
            url: public.map(|p| format!("http://127.0.0.1:{p}")),
            pid,
            health_path,
            spec_file,
            status_file: spec.status_file.clone(),
            internal_port: port,
            front: None,
        });
    }

    // 8. Health of the new release, on its own ports.
    for s in &started {
        let (Some(port), Some(path)) = (s.internal_port, &s.health_path) else {
            continue;
        };
        let target = format!("http://127.0.0.1:{port}{path}");
        say(&format!("{}: waiting for {target} to answer", s.name));
        if let Err(e) = wait_for(s, &target, opts, &log_file, app_log_from, &say) {
            return Err(abandon(
                e,
                &started,
                live,
                &rel_dir,
                &say,
                (release, &dir, &log_file),
            ));
        }
    }

    // 9. The switch: fronts point at the new release, then the old one stops.
    for i in 0..started.len() {
        let s = &started[i];
        let (Some(public), Some(internal)) = (s.port, s.internal_port) else {
            continue;
        };
        let movable = ports.movable.contains(&s.name);
        match front_on(id, &dir, &s.name, (public, movable), internal, opts, &say) {
            Ok((port, front)) => {
                let s = &mut started[i];
                s.port = Some(port);
                s.url = Some(format!("http://127.0.0.1:{port}"));
                s.front = Some(front);
            }
            Err(e) => {
                return Err(abandon(
                    e,
                    &started,
                    live,
                    &rel_dir,
                    &say,
                    (release, &dir, &log_file),
                ))
            }
        }
    }
    let services_out = started;
    for s in &services_out {
        if let (Some(url), Some(path), Some(_)) = (&s.url, &s.health_path, &s.front) {
            let through = format!("{url}{path}");
            match health::wait_healthy(&through, Duration::from_secs(10), || false) {
                Ok(code) => say(&format!("{}: healthy (HTTP {code}) at {through}", s.name)),
                Err(e) => say(&format!(
                    "{}: the new version answers on its own port but not yet through {through} ({e})",
                    s.name
                )),
            }
        }
    }
    let primary = services_out
        .iter()
        .find(|s| s.port.is_some())
        .or(services_out.first())
        .cloned()
        .ok_or(LocalError::NothingToRun)?;
    let app = LocalApp {
        deployment_id: id.to_string(),
        dir: dir.clone(),
        release,
        release_dir: rel_dir.clone(),
        port: primary.port.unwrap_or(0),
        url: primary.url.clone().unwrap_or_default(),
        pid: primary.pid,
        log_file: log_file.clone(),
        services: services_out,
        skipped,
    };
    crate::write_record(&dir, &app)?;
    if let Some(old) = previous.filter(|p| p.release > 0) {
        stop_release(old, opts);
        if old.release != release {
            say(&format!(
                "release {} stopped: release {release} serves",
                old.release
            ));
        }
    }
    remove_other_releases(&dir, release);
    Ok(app)
}

/// Copy what the app of release `old` wrote into its copy into the new
/// copy `app_dir`, as the deployment's account (see carry.rs).
fn carry_written(
    old: &LocalApp,
    app_dir: &Path,
    rel_dir: &Path,
    confine: &crate::sandbox::Confinement,
    (log, sink): (&Path, Sink<'_>),
    say: &dyn Fn(&str),
) -> Result<(), LocalError> {
    let Some((files, bytes)) = carry::written_since_built(&old.release_dir) else {
        say(&format!(
            "release {} has no list of the files it was built with (an older autodeploy made it): files its app wrote in its copy are not carried over",
            old.release
        ));
        return Ok(());
    };
    if files.is_empty() {
        return Ok(());
    }
    let list = rel_dir.join("carried-files");
    carry::write_list(&list, &files)?;
    confine.own(&list)?;
    let env = [
        (
            "PATH".to_string(),
            "/usr/local/bin:/usr/bin:/bin".to_string(),
        ),
        (
            "CARRY_FROM".to_string(),
            old.release_dir.join("app").to_string_lossy().into_owned(),
        ),
        (
            "CARRY_TO".to_string(),
            app_dir.to_string_lossy().into_owned(),
        ),
        (
            "CARRY_LIST".to_string(),
            list.to_string_lossy().into_owned(),
        ),
    ];
    Step {
        service: "deployment",
        dir: rel_dir,
        env: &env,
        log,
        sink,
        confine,
    }
    .run("keep data", carry::COPY_COMMAND)?;
    say(&format!(
        "kept {} file(s) ({} KiB) the app wrote in release {}: {}",
        files.len(),
        bytes.div_ceil(1024),
        old.release,
        carry::sample(&files)
    ));
    Ok(())
}

/// True when any app supervisor of the record still runs.
fn any_alive(app: &LocalApp) -> bool {
    app.services
        .iter()
        .any(|s| proc::alive_and_mentions(s.pid, &s.spec_file.to_string_lossy()))
}

/// Generated secrets of the last release (kept across redeploys).
fn read_generated(previous: Option<&LocalApp>) -> BTreeMap<String, String> {
    previous
        .and_then(|p| env::read_secrets(&p.dir.join("generated.env")).ok())
        .unwrap_or_default()
        .into_iter()
        .collect()
}

fn assign_ports(
    services: &[&ServicePlan],
    previous: Option<&LocalApp>,
    opts: &LocalOptions,
) -> Result<Ports, LocalError> {
    let mut internal = BTreeMap::new();
    let mut public = BTreeMap::new();
    let mut movable = BTreeSet::new();
    let mut first = true;
    for svc in services.iter().filter(|s| needs_port(s)) {
        internal.insert(svc.name.clone(), free_port()?);
        let kept = previous
            .and_then(|p| p.services.iter().find(|s| s.name == svc.name))
            .filter(|s| s.front.as_ref().is_some_and(front_alive))
            .and_then(|s| s.port);
        let port = match (kept, first, opts.port) {
            (Some(p), _, _) => p,
            (None, true, Some(p)) => {
                proc::port_is_free(p)
                    .map_err(|source| LocalError::PortUnavailable { port: p, source })?;
                p
            }
            _ => {
                // The stable port of a previous run whose front is gone is
                // reused when it is still free (the URL does not change).
                let old = previous
                    .and_then(|p| p.services.iter().find(|s| s.name == svc.name))
                    .and_then(|s| s.port)
                    .filter(|p| proc::port_is_free(*p).is_ok());
                match old {
                    Some(p) => p,
                    None => {
                        movable.insert(svc.name.clone());
                        free_port()?
                    }
                }
            }
        };
        first = false;
        public.insert(svc.name.clone(), port);
    }
    Ok(Ports {
        internal,
        public,
        movable,
    })
}

/// Wait until the service answers `target`; end early when the app keeps
/// exiting before it answers (or its supervisor gave up), with its own last
/// lines, shown as soon as each crash happens.
fn wait_for(
    s: &LocalService,
    target: &str,
    opts: &LocalOptions,
    log_file: &Path,
    log_from: u64,
    say: &dyn Fn(&str),
) -> Result<u16, LocalError> {
    let status_file = s.status_file.clone();
    let spec = s.spec_file.to_string_lossy().into_owned();
    let pid = s.pid;
    let shown = std::cell::Cell::new(0u32);
    let crash = std::cell::RefCell::new(None::<(String, String)>);
    let started = Instant::now();
    let gave_up = || {
        let st = read_status(&status_file);
        let exits = st.as_ref().map(|s| s.restarts).unwrap_or(0)
            + u32::from(st.as_ref().is_some_and(|s| s.state == "crashloop"));
        if exits > shown.get() {
            shown.set(exits);
            let how = st
                .as_ref()
                .and_then(|s| s.last_exit.clone())
                .unwrap_or_else(|| "exited".into());
            let lines = crate::app_lines(log_file, log_from, &s.name, 12);
            say(&format!(
                "{}: the app ended ({how}) {:.0} s after starting, before it answered; its last lines:",
                s.name,
                started.elapsed().as_secs_f64()
            ));
            for l in lines.lines() {
                say(&format!("    {l}"));
            }
            *crash.borrow_mut() = Some((how, lines));
        }
        let dead = st.as_ref().is_some_and(|s| s.state == "crashloop")
            || !proc::alive_and_mentions(pid, &spec);
        dead || shown.get() >= CRASHES_BEFORE_ANSWER
    };
    match health::wait_healthy(target, opts.health_timeout, gave_up) {
        Ok(code) => Ok(code),
        Err(last) => {
            let tail = crate::app_lines(log_file, log_from, &s.name, 30);
            match crash.into_inner() {
                Some((exit, _)) => Err(LocalError::Crashed {
                    service: s.name.clone(),
                    exits: shown.get(),
                    exit,
                    tail,
                }),
                None => Err(LocalError::Unhealthy {
                    service: s.name.clone(),
                    url: target.to_string(),
                    seconds: opts.health_timeout.as_secs(),
                    last,
                    tail,
                }),
            }
        }
    }
}

/// A new release that did not come up: on a redeploy it is stopped and the
/// previous release keeps serving; on a first deploy an app that runs but
/// does not answer is left running to look at (a crashed one is stopped).
fn abandon(
    e: LocalError,
    started: &[LocalService],
    live: Option<&LocalApp>,
    rel_dir: &Path,
    say: &dyn Fn(&str),
    (release, dir, log_file): (u32, &Path, &Path),
) -> LocalError {
    let stop_new = || {
        for s in started {
            stop_one(&s.spec_file, s.pid, Duration::from_secs(10));
        }
    };
    match live {
        Some(old) => {
            stop_new();
            say(&format!(
                "release {release} did not come up and was stopped; release {} keeps serving {}",
                old.release, old.url
            ));
            LocalError::RedeployFailed {
                cause: Box::new(e),
                serving: old.url.clone(),
                release: old.release,
            }
        }
        None => {
            // A crash, or a healthy app no front can publish: nothing to
            // look at. Any other failure (no answer in time) stays up.
            if matches!(
                e,
                LocalError::Crashed { .. } | LocalError::PortUnavailable { .. }
            ) {
                stop_new();
            }
            {
                // Keep what was started reachable at its stable port, so a
                // person can look at it; `destroy` removes it.
                let record = LocalApp {
                    deployment_id: dir
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    dir: dir.to_path_buf(),
                    release,
                    release_dir: rel_dir.to_path_buf(),
                    port: started.iter().find_map(|s| s.port).unwrap_or(0),
                    url: started
                        .iter()
                        .find_map(|s| s.url.clone())
                        .unwrap_or_default(),
                    pid: started.first().map(|s| s.pid).unwrap_or(0),
                    log_file: log_file.to_path_buf(),
                    services: started.to_vec(),
                    skipped: vec![],
                };
                let _ = crate::write_record(dir, &record);
            }
            e
        }
    }
}

/// Stop one supervisor (and so its app): SIGTERM, SIGKILL after `grace`.
pub(crate) fn stop_one(spec_file: &Path, pid: u32, grace: Duration) {
    let spec = spec_file.to_string_lossy().into_owned();
    if !proc::alive_and_mentions(pid, &spec) {
        return;
    }
    proc::signal(pid, libc::SIGTERM);
    if !proc::wait_until(grace, || !proc::alive_and_mentions(pid, &spec)) {
        proc::signal(pid, libc::SIGKILL);
        proc::wait_until(Duration::from_secs(5), || {
            !proc::alive_and_mentions(pid, &spec)
        });
    }
    if let Some(app) = read_status(
        &spec_file.with_file_name(
            spec_file
                .file_name()
                .map(|n| n.to_string_lossy().replace(".spec.json", ".status.json"))
                .unwrap_or_default(),
        ),
    )
    .and_then(|s| s.app_pid)
    {
        if proc::group_alive(app) {
            proc::signal_group(app, libc::SIGKILL);
        }
    }
}

/// Stop the app supervisors of a release (its fronts stay).
fn stop_release(app: &LocalApp, opts: &LocalOptions) {
    let grace = Duration::from_millis(opts.restart.stop_grace_ms) + Duration::from_secs(5);
    for s in &app.services {
        stop_one(&s.spec_file, s.pid, grace);
    }
}

/// Delete the folders of every release but `keep`.
fn remove_other_releases(dir: &Path, keep: u32) {
    let Ok(rd) = std::fs::read_dir(dir.join("releases")) else {
        return;
    };
    for e in rd.flatten() {
        if e.file_name().to_string_lossy() != keep.to_string() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// A front's process and files.
pub(crate) fn front_alive(f: &crate::FrontProc) -> bool {
    proc::alive_and_mentions(f.pid, &f.spec_file.to_string_lossy())
}

/// The front of `service` on `public`, relaying to `internal`: the running
/// one retargeted, or a new one started.
/// The service's front on `public`; when that port was a free pick and is
/// taken by the time the front binds (another deployment, an outgoing
/// connection), on another free pick, said in the log. Returns the port it
/// listens on.
fn front_on(
    id: &str,
    dir: &Path,
    service: &str,
    (mut public, movable): (u16, bool),
    internal: u16,
    opts: &LocalOptions,
    say: &dyn Fn(&str),
) -> Result<(u16, crate::FrontProc), LocalError> {
    let mut tries = 0;
    loop {
        match ensure_front(id, dir, service, public, internal, opts) {
            Ok(f) => return Ok((public, f)),
            Err(LocalError::PortUnavailable { .. }) if movable && tries < 3 => {
                tries += 1;
                let next = free_port()?;
                say(&format!(
                    "{service}: port {public} was taken before the front could listen on it; it listens on {next} instead"
                ));
                public = next;
            }
            Err(e) => return Err(e),
        }
    }
}

fn ensure_front(
    id: &str,
    dir: &Path,
    service: &str,
    public: u16,
    internal: u16,
    opts: &LocalOptions,
) -> Result<crate::FrontProc, LocalError> {
    let base = dir.join("front");
    let target = base.join(format!("{service}.target"));
    front::write_target(&target, internal).map_err(|e| LocalError::io("write", &target, e))?;
    let spec_file = base.join(format!("{service}.spec.json"));
    let status_file = base.join(format!("{service}.status.json"));
    if let Some(st) = read_status(&status_file) {
        let f = crate::FrontProc {
            pid: st.supervisor_pid,
            spec_file: spec_file.clone(),
            status_file: status_file.clone(),
            target: target.clone(),
        };
        let same_port = std::fs::read(&spec_file)
            .ok()
            .and_then(|b| serde_json::from_slice::<supervise::Spec>(&b).ok())
            .is_some_and(|s| s.port == Some(public));
        if front_alive(&f) && same_port {
            return Ok(f);
        }
        stop_one(&spec_file, st.supervisor_pid, Duration::from_secs(5));
    }
    let spec = supervise::Spec {
        deployment_id: id.to_string(),
        service: service.to_string(),
        tag_service: true,
        dir: base.clone(),
        command: None,
        static_root: None,
        port: Some(public),
        env: vec![],
        secrets_file: None,
        log_file: dir.join("app.log"),
        status_file: status_file.clone(),
        restart: opts.restart,
        front: Some(target.clone()),
        listen: opts.listen,
        confinement: Default::default(),
    };
    let pid = spawn_supervisor(id, dir, &spec, &spec_file, opts)?;
    let f = crate::FrontProc {
        pid,
        spec_file,
        status_file,
        target,
    };
    // It reports `running` once it listens (or `crashloop` when the port is
    // taken). A loaded machine (many deployments starting at once) can take
    // seconds to start a process: wait for the answer, not a fixed moment.
    proc::wait_until(Duration::from_secs(30), || {
        read_status(&f.status_file).is_some_and(|s| s.state != "starting")
    });
    let state = read_status(&f.status_file).map(|s| s.state);
    if state.as_deref() != Some("running") {
        // Not left behind restarting on a port it cannot have.
        stop_one(&f.spec_file, f.pid, Duration::from_secs(5));
    }
    match state {
        Some(s) if s == "running" => Ok(f),
        s if s.as_ref().is_none_or(|s| s == "starting") => Err(LocalError::io(
            "start the deployment's front (no answer within 30 s; the machine may be overloaded) for",
            &f.spec_file,
            std::io::Error::new(std::io::ErrorKind::TimedOut, "front not started"),
        )),
        _ => Err(LocalError::PortUnavailable {
            port: public,
            source: std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                "the deployment's front could not listen on it",
            ),
        }),
    }
}
