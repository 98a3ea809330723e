//! The decide stage: [`Analysis`] + [`Intent`] → [`Decision`].
//!
//! A pure function (no I/O, no network, no clock): the same inputs give the
//! same decision. It chooses the cloud, region, strategy, the plan of every
//! service (runtime, size, counts, health check, environment), the database,
//! cache, load balancer, TLS/DNS and network, prices the result from an
//! embedded dated price table and fits it to the budget — and says why for
//! every choice (`reasons`) and what conflicts (`warnings`).
//!
//! One module per concern:
//! - `defaults` — cloud, region, environment;
//! - `strategy` — vm / container / kubernetes / serverless / static / process, and the host of each service;
//! - `runtime` — language runtime, version, base images;
//! - `sizing` — machine types, CPU/memory, counts, autoscaling, clusters, health checks;
//! - `data` — database and cache, credentials;
//! - `wiring` — the settings each app reads for its database and cache (the analysis' wiring tables), for every target;
//! - `env` — environment variables and secrets;
//! - `network` — load balancer, TLS, DNS, VPC and ports;
//! - `findings` — notes from the analysis' findings;
//! - `cost` — the price table and the estimate; `budget` — fitting the budget.
//!
//! What this crate is not: rendering (Terraform, Dockerfiles), the `plan`
//! command, or execution. Errors are only for requests no plan can satisfy
//! ([`DecideError`]); everything else is a warning in the decision.

mod cloud;
pub mod cost;
pub mod data;
pub mod defaults;
pub mod env;
mod error;
mod health;
mod image;
pub mod network;
mod price_table;
mod scope;
/// The price tables of `prices/*.toml` as Rust (written by `build.rs`).
mod prices {
    use crate::price_table::{Meta, PriceTable, Spec};
    use std::collections::BTreeMap;
    include!(concat!(env!("OUT_DIR"), "/prices.rs"));
}
pub mod runtime;
pub mod sizing;
pub mod strategy;
pub mod user_values;
pub mod wiring;

mod budget;
mod findings;
mod notes;
#[cfg(test)]
mod testutil;

pub use autodeploy_core::{Analysis, Decision, Intent};
pub use error::DecideError;

use autodeploy_core::{Cloud, DeployStrategy, Environment, Origin, ServiceKind, ServicePlan};
use notes::Notes;

/// Options of [`decide`]. `Default` is what the CLI uses.
#[derive(Debug, Clone, PartialEq)]
pub struct DecideOptions {
    /// Cloud used when the request names none (and no region or machine type implies one).
    pub default_cloud: Cloud,
    /// Deployment name (prefix of resource names); derived from the source when `None`.
    pub name: Option<String>,
    /// Requests a month assumed when pricing usage-billed services (Lambda, scale-to-zero).
    pub serverless_requests_per_month: u64,
    /// Average request duration assumed for that, milliseconds.
    pub serverless_request_ms: u32,
    /// GB served a month assumed when pricing static sites' CDN transfer.
    pub static_transfer_gb_month: f64,
    /// Today (ISO `YYYY-MM-DD`), for choosing database and cache versions
    /// on standard support; `None`: the date of the version table (plans
    /// that do not change with the calendar, as tests want).
    pub today: Option<String>,
}

impl Default for DecideOptions {
    fn default() -> Self {
        DecideOptions {
            default_cloud: Cloud::Aws,
            name: None,
            serverless_requests_per_month: 1_000_000,
            serverless_request_ms: 200,
            static_transfer_gb_month: 10.0,
            today: None,
        }
    }
}

/// A lowercase-hyphen name, at most 32 characters, starting with a letter.
pub fn slug(raw: &str) -> String {
    let mut out = String::new();
    for c in raw.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut out = out.trim_matches('-').to_string();
    if !out.starts_with(|c: char| c.is_ascii_lowercase()) {
        out = format!("app-{out}");
    }
    out.truncate(32);
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "app".into()
    } else {
        out
    }
}

fn deployment_name(analysis: &Analysis, opts: &DecideOptions) -> String {
    if let Some(n) = &opts.name {
        return slug(n);
    }
    let input = analysis.source.input.trim_end_matches(['/', '\\']);
    let base = input
        .rsplit(['/', '\\', ':'])
        .next()
        .unwrap_or("")
        .trim_end_matches(".git")
        .trim_end_matches(".zip")
        .trim_end_matches(".tar.gz")
        .trim_end_matches(".tgz");
    if !base.is_empty() && base != "." {
        return slug(base);
    }
    slug(
        analysis
            .services
            .first()
            .map(|s| s.name.as_str())
            .unwrap_or("app"),
    )
}

/// Decide the infrastructure for `analysis` as `intent` asks.
pub fn decide(
    analysis: &Analysis,
    intent: &Intent,
    opts: &DecideOptions,
) -> Result<Decision, DecideError> {
    validate(analysis, intent)?;

    let mut notes = Notes::default();
    // "the backend", "just the API": later steps see only those services.
    let scoped = scope::scoped(analysis, intent, &mut notes)?;
    let analysis = scoped.as_ref().unwrap_or(analysis);
    data::usable_database(analysis, intent)?;
    let target = defaults::target(intent, opts, &mut notes)?;
    let table = cost::table(target.cloud)?;
    let name = deployment_name(analysis, opts);

    let needs = data::needs(analysis, intent, target.cloud);
    let mut shape = shape(analysis, intent, &target, table, &needs, &mut notes)?;
    network::site_api_routes(target.cloud, analysis, &mut shape.plans, &mut notes);
    let dctx = data::DataCtx {
        analysis,
        intent,
        cloud: target.cloud,
        environment: target.environment,
        table,
        name: &name,
        today: opts.today.as_deref().unwrap_or(cloud::VERSIONS_CHECKED),
    };
    data::warn_stale_versions(&dctx, &mut notes);
    let mut data = data_services(&dctx, &needs, &shape, &mut notes);
    let way_in = way_in(analysis, intent, &target, &shape.plans, &data, &mut notes);
    wire_env(
        analysis,
        &mut shape.plans,
        target.cloud,
        target.environment,
        way_in.tls.https,
        data.database.as_ref(),
        data.cache.as_ref(),
        &mut data.secrets,
        &mut notes,
    );
    findings::note(analysis, &mut notes);

    let decision = assemble(name, analysis, target, shape, data, way_in);
    Ok(priced(decision, analysis, table, intent, opts, notes))
}

/// How the app runs: the deployment's strategy, every service's plan (sized)
/// and the cluster.
struct Shape {
    strategy: DeployStrategy,
    plans: Vec<ServicePlan>,
    cluster: Option<autodeploy_core::ClusterPlan>,
    /// The web services' maximum instance count (for SQLite's note).
    max_copies: u32,
}

/// The data services and the secrets they (and later the app) use.
struct DataServices {
    database: Option<autodeploy_core::DatabasePlan>,
    cache: Option<autodeploy_core::CachePlan>,
    secrets: Vec<autodeploy_core::SecretPlan>,
}

/// The way in and the network around the app.
struct WayIn {
    load_balancer: Option<autodeploy_core::LoadBalancerPlan>,
    tls: autodeploy_core::TlsPlan,
    network: Option<autodeploy_core::NetworkPlan>,
}

/// Strategy, machine type, counts, the service plans, and their sizes.
fn shape(
    analysis: &Analysis,
    intent: &Intent,
    target: &defaults::Target,
    table: Option<&cost::PriceTable>,
    needs: &data::Needs,
    notes: &mut Notes,
) -> Result<Shape, DecideError> {
    let (cloud, env) = (target.cloud, target.environment);
    let strategy = strategy::choose(analysis, intent, cloud, needs, notes);
    let requested = sizing::requested_type(intent, cloud, table, notes)?;
    let zero_ok = strategy == DeployStrategy::Serverless
        || (strategy == DeployStrategy::Container && cloud::of(cloud).containers_scale_to_zero());
    let mut counts = sizing::counts(intent, strategy, zero_ok, env, notes)?;
    if strategy != DeployStrategy::Process && needs.database.is_none() {
        if let Some(s) = data::running(analysis)
            .find(|s| s.databases.contains(&autodeploy_core::Database::Sqlite))
        {
            sizing::one_copy_for_sqlite(&s.name, &mut counts, notes);
        }
    }
    let scaled_vm = counts.max > 1 || intent.load_balancer == Some(true);

    let mut plans = plan_services(analysis, strategy, cloud, scaled_vm, &counts, env, notes);
    drop_repeated_releases(&mut plans, notes);
    let mut caveats: Vec<&str> = Vec::new();
    for p in &plans {
        if let Some((code, text)) = cloud::of(cloud).hosting_caveat(p.hosting) {
            if !caveats.contains(&code) {
                caveats.push(code);
                notes.warn(code, None, text);
            }
        }
    }
    if needs.database.is_none() {
        release_beside_sqlite(analysis, &mut plans, notes);
        data_volumes(analysis, &mut plans, notes);
        for (s, p) in analysis.services.iter().zip(plans.iter_mut()) {
            findings::drop_database_server_fixes(s, p);
        }
    }
    if let Some((engine, _)) = needs.database {
        wiring::add_missing_drivers(analysis, engine, &mut plans, notes);
    }
    schema_before_build_on_vms(analysis, &mut plans, notes);
    init_by_hand(&plans, notes);
    let cluster = size(
        analysis,
        &mut plans,
        table,
        env,
        requested.as_ref(),
        cloud,
        notes,
    );
    Ok(Shape {
        strategy,
        plans,
        cluster,
        max_copies: counts.max,
    })
}

/// The database and cache (with their secrets), or SQLite's note when there is no database.
fn data_services(
    ctx: &data::DataCtx,
    needs: &data::Needs,
    shape: &Shape,
    notes: &mut Notes,
) -> DataServices {
    let mut secrets = Vec::new();
    let database = data::database(ctx, needs, notes, &mut secrets);
    let cache = data::cache(ctx, needs, notes, &mut secrets);
    if database.is_none() {
        sqlite_note(
            ctx.analysis,
            shape.strategy,
            shape.max_copies,
            &shape.plans,
            needs,
            notes,
        );
    }
    DataServices {
        database,
        cache,
        secrets,
    }
}

/// The load balancer, TLS and DNS, and the network.
fn way_in(
    analysis: &Analysis,
    intent: &Intent,
    target: &defaults::Target,
    plans: &[ServicePlan],
    data: &DataServices,
    notes: &mut Notes,
) -> WayIn {
    let websockets = analysis.services.iter().any(strategy::uses_websockets);
    let mut lb = network::load_balancer(plans, intent, websockets, notes);
    let tls = network::tls(target.cloud, plans, lb.as_mut(), intent, notes);
    let network = network::network(
        target.cloud,
        target.environment,
        plans,
        data.database.as_ref(),
        data.cache.as_ref(),
        lb.as_ref(),
        &tls,
        notes,
    );
    WayIn {
        load_balancer: lb,
        tls,
        network,
    }
}

/// The decision from its parts, before pricing.
fn assemble(
    name: String,
    analysis: &Analysis,
    target: defaults::Target,
    shape: Shape,
    data: DataServices,
    way_in: WayIn,
) -> Decision {
    Decision {
        name,
        source: analysis.source.clone(),
        cloud: target.cloud,
        region: target.region,
        strategy: shape.strategy,
        environment: target.environment,
        services: shape.plans,
        cluster: shape.cluster,
        database: data.database,
        cache: data.cache,
        load_balancer: way_in.load_balancer,
        tls: way_in.tls,
        network: way_in.network,
        secrets: data.secrets,
        reasons: Vec::new(),
        warnings: Vec::new(),
        estimated_monthly_usd: 0.0,
        cost: cost::estimate_empty(),
    }
}

/// Price the decision, fit it to the budget, and attach every reason and warning.
fn priced(
    mut decision: Decision,
    analysis: &Analysis,
    table: Option<&cost::PriceTable>,
    intent: &Intent,
    opts: &DecideOptions,
    mut notes: Notes,
) -> Decision {
    let estimate = budget::fit(&mut decision, analysis, table, intent, opts, &mut notes);
    cost_reason(&decision, &estimate, intent, &mut notes);
    decision.estimated_monthly_usd = estimate.total_usd_month;
    decision.cost = estimate;
    decision.reasons = notes.reasons;
    decision.warnings = notes.warnings;
    decision
}

/// Requests no plan can satisfy.
fn validate(analysis: &Analysis, intent: &Intent) -> Result<(), DecideError> {
    if analysis.services.is_empty() {
        return Err(DecideError::NoServices);
    }
    if let Some(b) = intent.budget_usd_month {
        if !(b.is_finite() && b > 0.0) {
            return Err(DecideError::InvalidBudget { budget: b });
        }
    }
    if let (Some(min), Some(max)) = (intent.min_instances, intent.max_instances) {
        if min > max {
            return Err(DecideError::MinAboveMax { min, max });
        }
    }
    if intent.max_instances == Some(0) {
        return Err(DecideError::ZeroMaxInstances);
    }
    Ok(())
}

/// One plan per analysed service: strategy, host, runtime, counts, health check.
fn plan_services(
    analysis: &Analysis,
    strategy: DeployStrategy,
    cloud: Cloud,
    scaled_vm: bool,
    counts: &sizing::Counts,
    env: Environment,
    notes: &mut Notes,
) -> Vec<ServicePlan> {
    let has_running = !strategy::running(analysis).is_empty();
    let mut plans: Vec<ServicePlan> = Vec::with_capacity(analysis.services.len());
    for s in &analysis.services {
        let st = strategy::service_strategy(s, strategy, has_running, cloud, notes);
        let hosting = strategy::hosting(cloud, st, scaled_vm);
        let served_by_container = s.kind == ServiceKind::Static
            && !matches!(st, DeployStrategy::Static | DeployStrategy::Process);
        let runtime = runtime::plan(s, served_by_container, notes);
        let image = image::choose(s, st, notes);
        let hosted_static = st == DeployStrategy::Static;
        let scaling = (!hosted_static).then(|| sizing::scaling(s, counts, hosting, env, notes));
        let health_check = if hosted_static {
            None
        } else {
            health::health_check(s, notes)
        };
        let (port, start) = unprivileged_port(
            s,
            image == autodeploy_core::ImageSource::Repository
                && matches!(st, DeployStrategy::Container | DeployStrategy::Kubernetes),
            notes,
        );
        plans.push(ServicePlan {
            name: s.name.clone(),
            path: s.path.clone(),
            kind: s.kind,
            strategy: st,
            hosting,
            runtime,
            port,
            install: s.install.clone(),
            build: s.build.clone(),
            start,
            release: s.release.clone(),
            init: s.init.clone(),
            postgres_auth: s.postgres_auth,
            static_dir: s.static_dir.clone(),
            dockerfile: s.dockerfile.clone(),
            dockerfile_context: s.dockerfile_context.clone(),
            image,
            image_start: s.image_start.clone(),
            compute: None,
            scaling,
            health_check,
            public: s.kind != ServiceKind::Worker,
            env: Vec::new(),
            source_fixes: {
                let mut fixes = findings::fixes(s);
                autodeploy_core::SourceFix::sort_for_application(&mut fixes);
                fixes
            },
            files_from_example: findings::files_from_example(s),
            make_dirs: findings::folders(s),
            writes_local_data: s.databases.contains(&autodeploy_core::Database::Sqlite),
            data_volume: None,
            install_constraints: s.install_constraints.clone(),
            install_files: s.install_files.clone(),
            api_route: None,
        });
    }
    plans
}

/// The first deploy's database creation (`init`) is run by the local
/// target; on a cloud the operator runs it once (PLAN.md says how), and the
/// plan says so before anything is created. A release step that also seeds
/// the database (demo accounts with known passwords) is said there too.
fn init_by_hand(plans: &[ServicePlan], notes: &mut Notes) {
    for p in plans.iter().filter(|p| !p.hosting.is_local()) {
        if let Some(seed) = p.release.as_deref().and_then(seeding_step) {
            notes.warn(
                "release_seeds_data",
                Some(&p.name),
                format!(
                    "{}: its release step also seeds the database (`{seed}`) on every deploy to {}: seeds often create demo or admin accounts with known passwords — read what it creates, change those passwords after the first deploy, or take the seed out of the project's release command",
                    p.name,
                    p.hosting.cloud().as_str()
                ),
            );
        }
        if let Some(init) = &p.init {
            notes.warn(
                "database_init_by_hand",
                Some(&p.name),
                format!(
                    "{}: the project creates its database with `{init}`, which wipes what is there: autodeploy does not run it on {}; run it once yourself after the first deploy, with the service's settings (PLAN.md, \"Creating the database\"), or the app starts without its tables",
                    p.name,
                    p.hosting.cloud().as_str()
                ),
            );
        }
    }
}

/// The part of a release command that seeds the database (`npm run
/// seed:run:relational`, `rails db:seed`, `prisma db seed`), if any.
fn seeding_step(release: &str) -> Option<&str> {
    release
        .split("&&")
        .flat_map(|c| c.split(';'))
        .map(str::trim)
        .find(|c| {
            c.split(|ch: char| ch.is_whitespace() || ":-_./".contains(ch))
                .any(|w| w.eq_ignore_ascii_case("seed") || w.eq_ignore_ascii_case("seeds"))
        })
}

/// A release step runs once per deploy: a worker repeating its web
/// service's (same code, same command) leaves it to the web service.
fn drop_repeated_releases(plans: &mut [ServicePlan], notes: &mut Notes) {
    let web_releases: Vec<(String, String)> = plans
        .iter()
        .filter(|p| p.kind != ServiceKind::Worker)
        .filter_map(|p| p.release.clone().map(|r| (p.path.clone(), r)))
        .collect();
    for p in plans.iter_mut().filter(|p| p.kind == ServiceKind::Worker) {
        if let Some(r) = &p.release {
            if web_releases
                .iter()
                .any(|(path, wr)| *path == p.path && wr == r)
            {
                notes.reason(
                    format!("service.{}.release", p.name),
                    Origin::Rule,
                    format!(
                        "{}: its release step (`{r}`) is the web service's, run once per deploy there",
                        p.name
                    ),
                );
                p.release = None;
            }
        }
    }
}

/// A Rust build that checks sqlx queries against a live schema
/// (`Service::build_schema`) on a machine: the machine builds with the
/// deployment's own database in its environment, which has no tables
/// before the release step has run — so the release (`sqlx migrate run`)
/// runs first, in the build (and again as the release, where it finds
/// nothing left to apply). Images get a database of their own instead
/// (render's `docker.rs`).
fn schema_before_build_on_vms(analysis: &Analysis, plans: &mut [ServicePlan], notes: &mut Notes) {
    for p in plans
        .iter_mut()
        .filter(|p| p.strategy == DeployStrategy::Vm)
    {
        let needs_schema = analysis
            .services
            .iter()
            .any(|s| s.name == p.name && s.build_schema.is_some());
        let (Some(release), Some(build)) = (p.release.clone(), p.build.clone()) else {
            continue;
        };
        let migrates = autodeploy_core::release_cli::CargoCli::for_command(&release)
            .is_some_and(|c| c.program == "sqlx");
        if !needs_schema || !migrates || build.contains(&release) {
            continue;
        }
        p.build = Some(format!("{release} && {build}"));
        notes.reason(
            format!("service.{}.build", p.name),
            Origin::Rule,
            format!(
                "{}: the build checks its sqlx queries against the deployment's database, so its migrations (`{release}`) are applied first",
                p.name
            ),
        );
    }
}

/// SQLite in a container's own file: a one-off release task (an ECS task,
/// a Cloud Run or Container Apps job, a Kubernetes Job) runs in a container
/// of its own and migrates its own copy of the file, which the service never
/// sees. Its release step runs in the service's container before the app
/// starts instead — once per start, which is once per deploy, since SQLite
/// keeps it to one copy (`sizing::one_copy_for_sqlite`). A VM's release
/// runs on the machine that holds the file, and stays a release.
fn release_beside_sqlite(analysis: &Analysis, plans: &mut [ServicePlan], notes: &mut Notes) {
    for p in plans.iter_mut() {
        let own_container = matches!(
            p.strategy,
            DeployStrategy::Container | DeployStrategy::Kubernetes | DeployStrategy::Serverless
        );
        let sqlite = analysis
            .services
            .iter()
            .any(|s| s.name == p.name && s.databases.contains(&autodeploy_core::Database::Sqlite));
        let (Some(release), Some(start)) = (p.release.clone(), p.start.clone()) else {
            continue;
        };
        if !own_container || !sqlite {
            continue;
        }
        p.start = Some(format!("{release} && {start}"));
        p.release = None;
        notes.reason(
            format!("service.{}.release", p.name),
            Origin::Rule,
            format!(
                "{}: its release step (`{release}`) runs in its own container before the app starts — its SQLite file lives in that container, where a one-off release task would never reach it (one copy, so once per deploy)",
                p.name
            ),
        );
    }
}

/// Machine types, copy sizes and the cluster, from the price table.
fn size(
    analysis: &Analysis,
    plans: &mut [ServicePlan],
    table: Option<&cost::PriceTable>,
    env: Environment,
    requested: Option<&sizing::Requested>,
    cloud: Cloud,
    notes: &mut Notes,
) -> Option<autodeploy_core::ClusterPlan> {
    let mut cluster = None;
    if let Some(table) = table {
        let vm_services: Vec<&autodeploy_core::Service> = analysis
            .services
            .iter()
            .zip(plans.iter())
            .filter(|(_, p)| p.hosting.is_vm())
            .map(|(s, _)| s)
            .collect();
        if !vm_services.is_empty() {
            let c = sizing::vm_compute(&vm_services, table, env, requested, notes);
            for p in plans.iter_mut().filter(|p| p.hosting.is_vm()) {
                p.compute = Some(c.clone());
            }
        }
        let mut pods = Vec::new();
        for (s, p) in analysis.services.iter().zip(plans.iter_mut()) {
            if p.hosting.is_vm() || p.strategy == DeployStrategy::Static {
                continue;
            }
            let req = if p.hosting.is_kubernetes() {
                None
            } else {
                requested
            };
            let c = sizing::container_compute(s, p.hosting, env, req, notes);
            if p.hosting.is_kubernetes() {
                let sc = p.scaling.as_ref();
                pods.push((
                    c.memory_mib.unwrap_or(512),
                    sc.map(|x| x.min).unwrap_or(1),
                    sc.map(|x| x.max).unwrap_or(1),
                ));
            }
            p.compute = Some(c);
        }
        if !pods.is_empty() {
            cluster = Some(sizing::cluster(cloud, &pods, table, env, requested, notes));
        }
        if requested.is_some() && plans.iter().all(|p| p.strategy == DeployStrategy::Static) {
            notes.warn(
                "instance_type_not_applicable",
                None,
                "a machine type was asked, but a static site runs on no machine of yours: it is ignored",
            );
        }
    }
    cluster
}

/// The port a service listens on where it runs. A privileged port the
/// code falls back to (`process.env.PORT || 80`) cannot be bound by the
/// deployment's non-root process (`EACCES`), and on a VM it is the port
/// nginx already holds: a service that reads its port from a setting is
/// given 8080 instead (and the setting says so), and so is one whose start
/// command names the port (`fastapi run … --port 80`, rewritten). One that
/// cannot be told keeps its port, with a warning. The project's own image
/// decides its own user (nginx images bind 80 as root): left alone.
/// Returns the port and the start command.
fn unprivileged_port(
    s: &autodeploy_core::Service,
    own_image: bool,
    notes: &mut Notes,
) -> (Option<u16>, Option<String>) {
    let Some(p) = s.port else {
        return (None, s.start.clone());
    };
    if p >= 1024 || s.kind == ServiceKind::Static || own_image {
        return (Some(p), s.start.clone());
    }
    const MOVED: u16 = 8080;
    let start = s
        .start
        .as_deref()
        .map(|c| autodeploy_core::ports::retarget_port(c, Some(p), MOVED));
    let in_start = start.is_some() && start != s.start;
    let reads_port = s
        .env
        .iter()
        .any(|v| env::classify(&v.name) == env::Kind::Port)
        || s.wiring.iter().any(|w| {
            w.target == autodeploy_core::WiringTarget::Listen
                && w.settings
                    .iter()
                    .any(|st| st.format == autodeploy_core::SettingFormat::Port)
        });
    if reads_port || in_start {
        let how = if in_start {
            "its start command names the port, which the deployment rewrites"
        } else {
            "the code reads its port from a setting, which the deployment sets"
        };
        notes.reason(
            format!("service.{}.port", s.name),
            Origin::Rule,
            format!(
                "{}: {MOVED}, not the code's {p}: a port below 1024 needs root, which the deployment's process does not have (and on a VM nginx holds 80); {how}",
                s.name
            ),
        );
        (Some(MOVED), if in_start { start } else { s.start.clone() })
    } else {
        notes.warn(
            "privileged_port",
            Some(&s.name),
            format!(
                "{} listens on port {p}, which only root may bind, and reads no setting for it: the deployment's non-root process will fail to start (EACCES) — make the port a setting (e.g. PORT) and plan again",
                s.name
            ),
        );
        (Some(p), s.start.clone())
    }
}

/// The path a Kubernetes service's data volume is mounted at.
const DATA_VOLUME: &str = "/data";

/// Kubernetes: a service that keeps SQLite files and reads a setting for
/// the folder it keeps them in (`DATA_DIR`, microbin's `MICROBIN_DATA_DIR`)
/// gets a persistent volume mounted at [`DATA_VOLUME`], and the setting
/// points there: its data outlives the pod. (SQLite already keeps it to
/// one replica.) Without such a setting the folder is unknown and
/// `sqlite_not_persistent` says so.
fn data_volumes(analysis: &Analysis, plans: &mut [ServicePlan], notes: &mut Notes) {
    for (s, p) in analysis.services.iter().zip(plans.iter_mut()) {
        if !p.hosting.is_kubernetes() || !p.writes_local_data {
            continue;
        }
        let Some(setting) = s
            .env
            .iter()
            .find(|v| env::classify(&v.name) == env::Kind::DataDir)
        else {
            continue;
        };
        p.data_volume = Some(DATA_VOLUME.into());
        notes.reason(
            format!("service.{}.data_volume", p.name),
            Origin::Analysis,
            format!(
                "{}: keeps its data in SQLite in the folder {} names: a persistent volume (ReadWriteOnce) is mounted at {DATA_VOLUME} and {} points there, so the data outlives the pod; one replica, replaced on deploy (the volume attaches to one node at a time). Back the volume up (a VolumeSnapshot)",
                p.name, setting.name, setting.name
            ),
        );
    }
}

/// SQLite: fine on one machine, lost on platforms that restart or share nothing.
fn sqlite_note(
    analysis: &Analysis,
    strategy: DeployStrategy,
    max_copies: u32,
    plans: &[ServicePlan],
    needs: &data::Needs,
    notes: &mut Notes,
) {
    let on_volumes = plans
        .iter()
        .filter(|p| p.writes_local_data)
        .all(|p| p.data_volume.is_some());
    if data::app_uses(analysis, autodeploy_core::Database::Sqlite) && !on_volumes {
        let single = strategy == DeployStrategy::Process
            || (strategy == DeployStrategy::Vm && max_copies <= 1);
        // `data` already said why when the request asked for no database server.
        if single && needs.skipped_database.is_none() && strategy == DeployStrategy::Vm {
            // Every redeploy of a VM bundle replaces the machine (new
            // source, new boot disk): the file does not survive it.
            notes.reason(
                "database",
                Origin::Analysis,
                "SQLite: the app keeps its data in a file on the machine's boot disk (one instance only)",
            );
            notes.warn(
                "sqlite_lost_on_redeploy",
                None,
                "the app keeps its data in a SQLite file on the machine's boot disk, and a redeploy with new source replaces the machine and its disk: the data is lost at the next deploy — copy the file off first (or ask for PostgreSQL, \"with postgres\", where the code can use it)",
            );
        } else if single && needs.skipped_database.is_none() {
            notes.reason(
                "database",
                Origin::Analysis,
                "SQLite: the app keeps its data in a file, which stays on the machine's disk (one instance only; back the file up)",
            );
        } else if !single {
            // A database server is a way out only for code that can use one.
            let server_usable = !data::app_engines(analysis).is_empty()
                || data::running(analysis).any(|s| {
                    [
                        autodeploy_core::DatabaseEngine::Postgresql,
                        autodeploy_core::DatabaseEngine::Mysql,
                    ]
                    .into_iter()
                    .any(|e| wiring::reads_database(s, e))
                });
            let way_out = if server_usable {
                "ask for PostgreSQL (\"with postgres\") or a single vm"
            } else {
                "ask for a single vm (\"on a vm\"), whose disk keeps the file — the code has no driver or setting for a database server, so PostgreSQL would not help"
            };
            notes.warn(
                "sqlite_not_persistent",
                None,
                format!(
                    "the app keeps its data in SQLite, but on {} the file is lost on every restart or deploy and copies do not share it: {way_out}",
                    strategy.as_str()
                ),
            );
        }
    }
}

/// Every service's environment, and the secrets something uses.
#[allow(clippy::too_many_arguments)]
fn wire_env(
    analysis: &Analysis,
    plans: &mut [ServicePlan],
    cloud: Cloud,
    env: Environment,
    https: bool,
    database: Option<&autodeploy_core::DatabasePlan>,
    cache: Option<&autodeploy_core::CachePlan>,
    secrets: &mut Vec<autodeploy_core::SecretPlan>,
    notes: &mut Notes,
) {
    let web_services: Vec<String> = plans
        .iter()
        .filter(|p| p.kind == ServiceKind::Web)
        .map(|p| p.name.clone())
        .collect();
    let site_routes: Vec<(String, autodeploy_core::ApiRoute)> = plans
        .iter()
        .filter_map(|p| p.api_route.clone().map(|r| (p.name.clone(), r)))
        .collect();
    let celery_worker =
        analysis.services.iter().zip(plans.iter()).any(|(s, p)| {
            p.kind == ServiceKind::Worker && s.framework.as_deref() == Some("celery")
        });
    let ectx = env::EnvCtx {
        cloud,
        environment: env,
        database,
        cache,
        web_services: &web_services,
        site_routes: &site_routes,
        https,
        celery_worker,
    };
    for (s, p) in analysis.services.iter().zip(plans.iter_mut()) {
        p.env = env::wire(
            s,
            p.hosting,
            p.data_volume.as_deref(),
            &ectx,
            secrets,
            notes,
        );
    }
    secrets.retain(|s| {
        !s.used_by.is_empty()
            || matches!(
                s.kind,
                autodeploy_core::SecretKind::DatabaseCredentials
                    | autodeploy_core::SecretKind::CacheAuth
            )
    });
}

/// The estimate's reason line (or why a local deployment meets any budget).
fn cost_reason(
    decision: &Decision,
    estimate: &autodeploy_core::CostEstimate,
    intent: &Intent,
    notes: &mut Notes,
) {
    let cloud = decision.cloud;
    if !cloud.is_local() {
        notes.reason(
            "cost",
            Origin::Rule,
            format!(
                "about {} a month ({} items), estimated from the embedded {} price table dated {} for {}",
                notes::usd(estimate.total_usd_month),
                estimate.items.len(),
                cloud.as_str(),
                estimate.price_table_date.as_deref().unwrap_or("?"),
                decision.region
            ),
        );
    } else if intent.budget_usd_month.is_some() {
        notes.reason(
            "budget",
            Origin::Rule,
            "a local deployment has no cloud cost, so the budget is met",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{analysis, service};
    use autodeploy_core::Language;

    #[test]
    fn slugs_are_safe_names() {
        let cases = [
            ("hello_world", "hello-world"),
            ("My App!", "my-app"),
            ("42", "app-42"),
            ("", "app"),
            ("$(rm -rf /)", "rm-rf"),
            (
                "a-very-long-repository-name-that-goes-on-and-on",
                "a-very-long-repository-name-that",
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(slug(raw), want, "{raw}");
        }
    }

    /// SQLite on containers: the release step runs in the service's own
    /// container before it starts (a one-off task would migrate a file the
    /// service never sees); on a VM, which holds the file, it stays a release.
    #[test]
    fn a_sqlite_release_runs_in_the_services_own_container() {
        let mut web = service("web", Language::Typescript, Some("hono"), ServiceKind::Web);
        web.databases = vec![autodeploy_core::Database::Sqlite];
        web.start = Some("node dist/index.js".into());
        web.release = Some("pnpm exec drizzle-kit migrate".into());
        web.port = Some(3000);
        let a = analysis(vec![web]);
        for (strategy, cloud, start, release) in [
            (
                autodeploy_core::intent::Strategy::Container,
                Cloud::Gcp,
                "pnpm exec drizzle-kit migrate && node dist/index.js",
                None,
            ),
            (
                autodeploy_core::intent::Strategy::Vm,
                Cloud::Aws,
                "node dist/index.js",
                Some("pnpm exec drizzle-kit migrate"),
            ),
        ] {
            let intent = Intent {
                cloud: Some(cloud),
                strategy: Some(strategy),
                ..Default::default()
            };
            let d = decide(&a, &intent, &DecideOptions::default()).unwrap();
            let s = &d.services[0];
            assert_eq!(s.start.as_deref(), Some(start), "{strategy:?}");
            assert_eq!(s.release.as_deref(), release, "{strategy:?}");
        }
    }

    /// SQLite on containers loses its file: the way out named is PostgreSQL
    /// only for code that could use it (a driver or a connection setting);
    /// otherwise a single VM (microbin has neither). The service keeps its
    /// working folder writable.
    #[test]
    fn sqlite_on_containers_names_a_way_out_the_code_can_take() {
        let hint = |web: autodeploy_core::Service| {
            let intent = Intent {
                cloud: Some(Cloud::Gcp),
                strategy: Some(autodeploy_core::intent::Strategy::Kubernetes),
                ..Default::default()
            };
            let d = decide(&analysis(vec![web]), &intent, &DecideOptions::default()).unwrap();
            assert!(d.services[0].writes_local_data);
            d.warnings
                .iter()
                .find(|w| w.code == "sqlite_not_persistent")
                .map(|w| w.message.clone())
                .unwrap_or_default()
        };
        let mut web = service("web", Language::Rust, Some("actix"), ServiceKind::Web);
        web.databases = vec![autodeploy_core::Database::Sqlite];
        web.start = Some("./target/release/microbin".into());
        web.port = Some(8080);
        let alone = hint(web.clone());
        assert!(
            alone.contains("single vm") && !alone.contains("with postgres"),
            "{alone}"
        );
        web.env
            .push(autodeploy_core::EnvVar::new("DATABASE_URL", false, true));
        let reads = hint(web);
        assert!(reads.contains("with postgres"), "{reads}");
    }

    /// node-mysql-signup: `process.env.PORT || 80`. As a non-root process
    /// (and behind nginx on 80 on a VM) it could never bind 80: the plan
    /// gives it 8080 through PORT. Code that cannot be told keeps 80, with a
    /// warning; the project's own image on containers decides its own user.
    #[test]
    fn a_privileged_port_is_moved_where_the_code_reads_its_port() {
        let mut web = service(
            "web",
            Language::Javascript,
            Some("express"),
            ServiceKind::Web,
        );
        web.start = Some("node server.js".into());
        web.port = Some(80);
        let plan = |web: &autodeploy_core::Service, request: &str| {
            decide(
                &analysis(vec![web.clone()]),
                &autodeploy_parse::parse(request),
                &DecideOptions::default(),
            )
            .unwrap()
        };
        let hard_coded = plan(&web, "deploy on an Azure VM");
        assert_eq!(hard_coded.services[0].port, Some(80));
        assert!(hard_coded
            .warnings
            .iter()
            .any(|w| w.code == "privileged_port"));
        // full-stack-fastapi: the port is in the start command.
        let mut api = web.clone();
        api.start = Some("fastapi run app/main.py --port 80".into());
        let d = plan(&api, "deploy on AWS ECS");
        assert_eq!(d.services[0].port, Some(8080));
        assert_eq!(
            d.services[0].start.as_deref(),
            Some("fastapi run app/main.py --port 8080")
        );
        assert!(!d.warnings.iter().any(|w| w.code == "privileged_port"));
        web.env
            .push(autodeploy_core::EnvVar::new("PORT", false, false));
        for request in ["deploy on an Azure VM", "deploy on AWS ECS"] {
            let d = plan(&web, request);
            assert_eq!(d.services[0].port, Some(8080), "{request}");
            assert!(!d.warnings.iter().any(|w| w.code == "privileged_port"));
        }
        // Its start is the project Dockerfile's CMD: the image is its own.
        web.dockerfile = Some("Dockerfile".into());
        web.evidence.insert(
            "start".into(),
            vec![autodeploy_core::Evidence {
                file: "Dockerfile".into(),
                line: Some(9),
                note: "CMD".into(),
            }],
        );
        let own = plan(&web, "deploy on AWS ECS");
        assert_eq!(
            own.services[0].image,
            autodeploy_core::ImageSource::Repository
        );
        assert_eq!(own.services[0].port, Some(80));
    }

    /// microbin on GKE: SQLite in the folder `MICROBIN_DATA_DIR` names. The
    /// pod gets a persistent volume there and the setting points at it, so
    /// pastes outlive the pod; no `sqlite_not_persistent`. A container
    /// platform without volumes (Cloud Run) still warns, and so does a pod
    /// whose code names no data folder.
    #[test]
    fn sqlite_in_a_named_data_folder_gets_a_volume_on_kubernetes() {
        let plan = |web: &autodeploy_core::Service, strategy| {
            let intent = Intent {
                cloud: Some(Cloud::Gcp),
                strategy: Some(strategy),
                ..Default::default()
            };
            decide(
                &analysis(vec![web.clone()]),
                &intent,
                &DecideOptions::default(),
            )
            .unwrap()
        };
        let warned = |d: &Decision| d.warnings.iter().any(|w| w.code == "sqlite_not_persistent");
        let mut web = service("microbin", Language::Rust, Some("actix"), ServiceKind::Web);
        web.databases = vec![autodeploy_core::Database::Sqlite];
        web.start = Some("./target/release/microbin".into());
        web.port = Some(8080);
        web.env.push(autodeploy_core::EnvVar::new(
            "MICROBIN_DATA_DIR",
            false,
            false,
        ));
        let k8s = autodeploy_core::intent::Strategy::Kubernetes;
        let d = plan(&web, k8s);
        let s = &d.services[0];
        assert_eq!(s.data_volume.as_deref(), Some("/data"));
        let set = s
            .env
            .iter()
            .find(|b| b.name == "MICROBIN_DATA_DIR")
            .expect("set");
        assert_eq!(
            set.value,
            autodeploy_core::EnvValue::Literal {
                value: "/data".into()
            }
        );
        assert!(!warned(&d), "{:?}", d.warnings);
        assert_eq!(s.scaling.as_ref().map_or(1, |sc| sc.max), 1);
        let d = plan(&web, autodeploy_core::intent::Strategy::Container);
        assert!(d.services[0].data_volume.is_none());
        assert!(warned(&d));
        assert!(!d.services[0].env.iter().any(|b| b.name == "MICROBIN_DATA_DIR"
            && matches!(&b.value, autodeploy_core::EnvValue::Literal { value } if value == "/data")));
        web.env.clear();
        let d = plan(&web, k8s);
        assert!(d.services[0].data_volume.is_none());
        assert!(warned(&d));
    }

    /// Azure refuses encryption at host until the subscription registers the
    /// feature: a VM plan says so before anything is applied.
    #[test]
    fn an_azure_vm_warns_about_encryption_at_host() {
        let mut web = service("web", Language::Python, Some("flask"), ServiceKind::Web);
        web.start = Some("gunicorn app:app".into());
        web.port = Some(8000);
        let a = analysis(vec![web]);
        for (strategy, want) in [
            (autodeploy_core::intent::Strategy::Vm, true),
            (autodeploy_core::intent::Strategy::Container, false),
        ] {
            let intent = Intent {
                cloud: Some(Cloud::Azure),
                strategy: Some(strategy),
                ..Default::default()
            };
            let d = decide(&a, &intent, &DecideOptions::default()).unwrap();
            let n = d
                .warnings
                .iter()
                .filter(|w| w.code == "azure_encryption_at_host")
                .count();
            assert_eq!(n, usize::from(want), "{strategy:?}");
        }
    }

    #[test]
    fn seeding_steps_of_a_release_are_found() {
        assert_eq!(
            seeding_step("npm run migration:run && npm run seed:run:relational"),
            Some("npm run seed:run:relational")
        );
        assert_eq!(
            seeding_step("bin/rails db:migrate; bin/rails db:seed"),
            Some("bin/rails db:seed")
        );
        assert_eq!(
            seeding_step("npx prisma migrate deploy && npx prisma db seed"),
            Some("npx prisma db seed")
        );
        assert_eq!(seeding_step("python manage.py migrate"), None);
        assert_eq!(seeding_step("flask seedling-report"), None);
    }

    /// On a VM, a build that checks sqlx queries against the deployment's
    /// database runs the migrations first; in an image it does not.
    #[test]
    fn a_vm_build_checking_queries_migrates_first() {
        let mut web = service("web", Language::Rust, Some("axum"), ServiceKind::Web);
        web.databases = vec![autodeploy_core::Database::Postgresql];
        web.start = Some("./target/release/api".into());
        web.build = Some("cargo build --release --locked".into());
        web.release = Some("sqlx migrate run".into());
        web.build_schema = Some("migrations".into());
        web.port = Some(8000);
        web.env
            .push(crate::testutil::env_var("DATABASE_URL", true, true));
        let a = analysis(vec![web]);
        for (strategy, build) in [
            (
                autodeploy_core::intent::Strategy::Vm,
                "sqlx migrate run && cargo build --release --locked",
            ),
            (
                autodeploy_core::intent::Strategy::Container,
                "cargo build --release --locked",
            ),
        ] {
            let intent = Intent {
                cloud: Some(Cloud::Aws),
                strategy: Some(strategy),
                database: Some(autodeploy_core::DatabaseEngine::Postgresql),
                ..Default::default()
            };
            let d = decide(&a, &intent, &DecideOptions::default()).unwrap();
            assert_eq!(d.services[0].build.as_deref(), Some(build), "{strategy:?}");
            assert_eq!(d.services[0].release.as_deref(), Some("sqlx migrate run"));
        }
    }

    #[test]
    fn names_come_from_the_source() {
        let mut a = analysis(vec![service(
            "web",
            Language::Python,
            Some("flask"),
            ServiceKind::Web,
        )]);
        let opts = DecideOptions::default();
        a.source.input = "https://github.com/Arvo-AI/hello_world.git".into();
        assert_eq!(deployment_name(&a, &opts), "hello-world");
        a.source.input = "./".into();
        assert_eq!(deployment_name(&a, &opts), "web");
        let named = DecideOptions {
            name: Some("Shop".into()),
            ..Default::default()
        };
        assert_eq!(deployment_name(&a, &named), "shop");
    }

    #[test]
    fn request_errors() {
        let a = analysis(vec![service(
            "web",
            Language::Python,
            Some("flask"),
            ServiceKind::Web,
        )]);
        let o = DecideOptions::default();
        let cases = [
            (
                Intent {
                    budget_usd_month: Some(0.0),
                    ..Default::default()
                },
                "budget",
            ),
            (
                Intent {
                    budget_usd_month: Some(f64::NAN),
                    ..Default::default()
                },
                "budget",
            ),
            (
                Intent {
                    min_instances: Some(4),
                    max_instances: Some(2),
                    ..Default::default()
                },
                "at least 4",
            ),
            (
                Intent {
                    max_instances: Some(0),
                    ..Default::default()
                },
                "at most 0",
            ),
            (
                Intent {
                    region: Some("moon-1".into()),
                    ..Default::default()
                },
                "region",
            ),
            (
                Intent {
                    instance_type: Some("xl".into()),
                    ..Default::default()
                },
                "machine type",
            ),
        ];
        for (intent, words) in cases {
            let e = decide(&a, &intent, &o).unwrap_err();
            assert!(e.to_string().contains(words), "{e}");
        }
        assert_eq!(
            decide(&analysis(vec![]), &Intent::default(), &o).unwrap_err(),
            DecideError::NoServices
        );
    }
}
