//! Rust: Cargo packages and workspaces; axum, actix-web, rocket, warp and
//! poem servers; a binary that never binds a socket is a worker.
//!
//! Frameworks are rows of [`FRAMEWORKS`]; databases come from runtime
//! dependencies ([`DB_CRATES`], and driver features of sqlx / sea-orm /
//! diesel / rocket_db_pools in [`DB_FEATURES`]), never from dev-dependencies.
//! Bind addresses are evaluated by [`code`] (`SocketAddr::from(([0,0,0,0], 3000))`,
//! `.bind(("127.0.0.1", 8080))`, `format!("0.0.0.0:{}", port)` with an env
//! default…), found by `scan.rs` together with env reads and health routes.
//! Rocket's configuration (`Rocket.toml`, `ROCKET_*`; it binds 127.0.0.1
//! unless told otherwise) is `rocket.rs`.
//!
//! A virtual workspace root is a weak draft: its members are detected in their
//! own folders and share the root's Cargo.lock, toolchain file and `target/`.
//!
//! Not here: compiling, feature unification across the workspace, `build.rs`.

pub mod cargo;
pub mod code;
mod lock;
mod release;
mod rocket;
mod scan;
mod wiring;

use crate::ctx::Ctx;
use crate::detectors::{database_of_url, Detector};
use crate::draft::{ev, Draft, Trust};
use crate::repo::{is_under, join, parent};
use crate::scan::{each_match, line_text};
use autodeploy_core::{Database, Language, ServiceKind, Severity};
use cargo::Manifest;
use regex::Regex;
use rocket::rocket_config;
use scan::{apply_bind, health, scan_binds, scan_env, Bind};
use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

pub struct Rust;

/// One web framework.
struct Framework {
    name: &'static str,
    /// Crate name in `[dependencies]`.
    krate: &'static str,
    /// Finds the app/server in code.
    app: &'static str,
    default_port: u16,
    rank: u8,
}

const FRAMEWORKS: &[Framework] = &[
    Framework {
        name: "axum",
        krate: "axum",
        app: r"\bRouter::new\s*\(|\baxum::serve\s*\(|\baxum::Server::bind\b",
        default_port: 3000,
        rank: 5,
    },
    Framework {
        name: "actix-web",
        krate: "actix-web",
        app: r"\bHttpServer::new\s*\(",
        default_port: 8080,
        rank: 5,
    },
    Framework {
        name: "rocket",
        krate: "rocket",
        app: r"#\[(?:rocket::)?(?:launch|main)\]|\brocket::(?:build|custom)\s*\(",
        default_port: 8000,
        rank: 5,
    },
    Framework {
        name: "warp",
        krate: "warp",
        app: r"\bwarp::serve\s*\(",
        default_port: 3030,
        rank: 4,
    },
    Framework {
        name: "poem",
        krate: "poem",
        app: r"\bpoem::Server::new\b|\bServer::new\s*\(\s*TcpListener::bind",
        default_port: 3000,
        rank: 4,
    },
];

/// Runtime dependency → database or cache.
const DB_CRATES: &[(&str, Database)] = &[
    ("tokio-postgres", Database::Postgresql),
    ("postgres", Database::Postgresql),
    ("deadpool-postgres", Database::Postgresql),
    ("bb8-postgres", Database::Postgresql),
    ("mysql", Database::Mysql),
    ("mysql_async", Database::Mysql),
    ("mongodb", Database::Mongodb),
    ("redis", Database::Redis),
    ("deadpool-redis", Database::Redis),
    ("bb8-redis", Database::Redis),
    ("fred", Database::Redis),
    ("rusqlite", Database::Sqlite),
];

/// (crate, feature, database): drivers chosen by a feature.
const DB_FEATURES: &[(&str, &str, Database)] = &[
    ("actix-session", "redis-session", Database::Redis),
    ("actix-session", "redis-session-rustls", Database::Redis),
    ("actix-session", "redis-session-native-tls", Database::Redis),
    ("actix-session", "redis-rs-session", Database::Redis),
    ("actix-session", "redis-rs-tls-session", Database::Redis),
    ("sqlx", "postgres", Database::Postgresql),
    ("sqlx", "mysql", Database::Mysql),
    ("sqlx", "sqlite", Database::Sqlite),
    ("sea-orm", "sqlx-postgres", Database::Postgresql),
    ("sea-orm", "sqlx-mysql", Database::Mysql),
    ("sea-orm", "sqlx-sqlite", Database::Sqlite),
    ("diesel", "postgres", Database::Postgresql),
    ("diesel", "mysql", Database::Mysql),
    ("diesel", "sqlite", Database::Sqlite),
    ("diesel-async", "postgres", Database::Postgresql),
    ("diesel-async", "mysql", Database::Mysql),
    ("rocket_db_pools", "sqlx_postgres", Database::Postgresql),
    ("rocket_db_pools", "sqlx_mysql", Database::Mysql),
    ("rocket_db_pools", "sqlx_sqlite", Database::Sqlite),
    ("rocket_db_pools", "deadpool_postgres", Database::Postgresql),
    ("rocket_db_pools", "deadpool_redis", Database::Redis),
    ("rocket_db_pools", "mongodb", Database::Mongodb),
    (
        "rocket_sync_db_pools",
        "diesel_postgres_pool",
        Database::Postgresql,
    ),
    (
        "rocket_sync_db_pools",
        "postgres_pool",
        Database::Postgresql,
    ),
    ("rocket_sync_db_pools", "diesel_mysql_pool", Database::Mysql),
    (
        "rocket_sync_db_pools",
        "diesel_sqlite_pool",
        Database::Sqlite,
    ),
    ("rocket_sync_db_pools", "sqlite_pool", Database::Sqlite),
];

/// Names preferred for the service binary when a package has several.
const SERVER_BINS: &[&str] = &["server", "api", "web", "app", "http", "backend", "service"];

static DB_URL_LITERAL: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r#""((?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|sqlite)://[^"]*)""#,
    )
    .expect("regex")
});
impl Detector for Rust {
    fn name(&self) -> &'static str {
        "rust"
    }

    fn markers(&self) -> &'static [&'static str] {
        &["Cargo.toml"]
    }

    fn detect(&self, ctx: &Ctx, dir: &str) -> Vec<Draft> {
        let manifest_path = join(dir, "Cargo.toml");
        let Some(text) = ctx.read_path(&manifest_path) else {
            return Vec::new();
        };
        let Some(mut m) = cargo::parse(&text) else {
            let mut d = Draft::new(dir, Language::Rust, ServiceKind::Web);
            d.has_manifest = true;
            d.strength = 1.5;
            d.note("language", ev(&manifest_path, None, "Cargo.toml"));
            d.finding(
                "invalid_manifest",
                Severity::Error,
                Some(&manifest_path),
                None,
                "Cargo.toml is not valid TOML, so cargo cannot build this package; fix the syntax (`cargo metadata` shows where)",
                None,
            );
            return vec![d];
        };
        let ws_root = workspace_root(ctx, dir, &m);
        if m.name.is_none() {
            return workspace_draft(dir, &manifest_path, &m);
        }
        if let Some((root_dir, root)) = &ws_root {
            if let Some(ws) = &root.workspace {
                cargo::inherit(&mut m.deps, ws);
                if m.rust_version.as_deref() == Some("workspace") {
                    m.rust_version = ws.rust_version.clone();
                }
            }
            let _ = root_dir;
        }
        if m.rust_version.as_deref() == Some("workspace") {
            m.rust_version = None;
        }
        let Some(bin) = pick_binary(ctx, dir, &m) else {
            // A library crate: nothing to run.
            return Vec::new();
        };
        if runs_in_the_browser(ctx, dir, &m) {
            return Vec::new();
        }
        analyze_package(ctx, dir, &manifest_path, &m, ws_root.map(|(d, _)| d), &bin)
    }
}

/// Frameworks whose apps compile to WebAssembly for the browser.
const BROWSER_FRAMEWORKS: &[&str] = &["yew", "sycamore", "dioxus-web", "seed", "percy-dom"];

/// A crate that compiles to WebAssembly for a browser (a Yew or Sycamore
/// front end, or `wasm-bindgen` with an `index.html` beside its manifest
/// for trunk): its `main` runs in a page, never on a server — deployed as
/// an always-on worker it panics at once (axum-sqlx-conduit's
/// `conduit-web`). It is not a service of the deployment.
fn runs_in_the_browser(ctx: &Ctx, dir: &str, m: &Manifest) -> bool {
    let server = FRAMEWORKS.iter().any(|f| m.deps.contains_key(f.krate));
    !server
        && (BROWSER_FRAMEWORKS.iter().any(|k| m.deps.contains_key(*k))
            || (m.deps.contains_key("wasm-bindgen") && ctx.has(dir, "index.html")))
}

/// The workspace this package belongs to: `dir` itself when its manifest has
/// `[workspace]`, else the nearest folder above whose Cargo.toml has one.
fn workspace_root(ctx: &Ctx, dir: &str, m: &Manifest) -> Option<(String, Manifest)> {
    if m.workspace.is_some() {
        return Some((dir.to_string(), m.clone()));
    }
    let mut d = dir;
    while !d.is_empty() {
        d = parent(d);
        if let Some(text) = ctx.read(d, "Cargo.toml") {
            if let Some(root) = cargo::parse(&text) {
                if root.workspace.is_some() {
                    return Some((d.to_string(), root));
                }
            }
        }
    }
    None
}

/// A virtual workspace manifest: members are the services; this organises them.
fn workspace_draft(dir: &str, manifest_path: &str, m: &Manifest) -> Vec<Draft> {
    let mut d = Draft::new(dir, Language::Rust, ServiceKind::Web);
    d.has_manifest = true;
    d.strength = 1.5;
    d.package_manager = Some("cargo".into());
    d.note("language", ev(manifest_path, None, "Cargo workspace"));
    let members = m
        .workspace
        .as_ref()
        .map(|w| w.members.join(", "))
        .unwrap_or_default();
    d.finding(
        "start_not_found",
        Severity::Warning,
        Some(manifest_path),
        None,
        format!(
            "Cargo workspace root (members: {members}) with no binary crate that could be deployed; point autodeploy at the member to run"
        ),
        None,
    );
    vec![d]
}

/// The binary to deploy: (name, main source file).
#[derive(Debug, Clone)]
struct BinTarget {
    name: String,
    file: String,
}

fn pick_binary(ctx: &Ctx, dir: &str, m: &Manifest) -> Option<BinTarget> {
    let pkg = m.name.clone()?;
    let mut bins: Vec<BinTarget> = Vec::new();
    for b in &m.bins {
        let name = b.name.clone().unwrap_or_else(|| pkg.clone());
        let file = b.path.clone().unwrap_or_else(|| {
            if ctx
                .index()
                .contains(&join(dir, &format!("src/bin/{name}.rs")))
            {
                format!("src/bin/{name}.rs")
            } else if ctx
                .index()
                .contains(&join(dir, &format!("src/bin/{name}/main.rs")))
            {
                format!("src/bin/{name}/main.rs")
            } else {
                "src/main.rs".into()
            }
        });
        bins.push(BinTarget {
            name,
            file: join(dir, &file),
        });
    }
    // Auto-discovered targets.
    if !bins.iter().any(|b| b.file == join(dir, "src/main.rs"))
        && ctx.has(&join(dir, "src"), "main.rs")
    {
        bins.push(BinTarget {
            name: pkg.clone(),
            file: join(dir, "src/main.rs"),
        });
    }
    let bin_dir = join(dir, "src/bin");
    for f in ctx.index().files_under(&bin_dir) {
        let rel = &f[bin_dir.len() + 1..];
        let name = match rel.split_once('/') {
            Some((d, "main.rs")) => d,
            None => match rel.strip_suffix(".rs") {
                Some(n) => n,
                None => continue,
            },
            _ => continue,
        };
        if !bins.iter().any(|b| b.name == name || b.file == f) {
            bins.push(BinTarget {
                name: name.to_string(),
                file: f.to_string(),
            });
        }
    }
    if let Some(def) = &m.default_run {
        if let Some(b) = bins.iter().find(|b| &b.name == def) {
            return Some(b.clone());
        }
    }
    bins.iter()
        .min_by_key(|b| {
            let rank = if b.name == pkg {
                0
            } else if b.file.ends_with("src/main.rs") {
                1
            } else if SERVER_BINS.iter().any(|s| b.name.contains(s)) {
                2
            } else {
                3
            };
            (rank, b.name.clone())
        })
        .cloned()
}

fn analyze_package(
    ctx: &Ctx,
    dir: &str,
    manifest_path: &str,
    m: &Manifest,
    ws_root: Option<String>,
    bin: &BinTarget,
) -> Vec<Draft> {
    let mut d = Draft::new(dir, Language::Rust, ServiceKind::Web);
    d.has_manifest = true;
    d.manifest_name = m.name.clone();
    d.package_manager = Some("cargo".into());
    d.note(
        "language",
        ev(manifest_path, m.package_line, "Cargo package"),
    );

    // Lock file, toolchain and target folder live at the workspace root.
    let root = ws_root.clone().unwrap_or_else(|| dir.to_string());
    let locked = ctx.has(dir, "Cargo.lock") || ctx.has(&root, "Cargo.lock");
    let lock_flag = if locked { " --locked" } else { "" };
    d.install = Some(format!("cargo fetch{lock_flag}"));
    if !locked {
        d.finding(
            "no_lockfile",
            Severity::Info,
            Some(manifest_path),
            None,
            "no Cargo.lock: dependency versions are resolved at build time, so builds are not reproducible; run `cargo generate-lockfile` and commit Cargo.lock (binaries should commit it)",
            None,
        );
    }
    runtime_version(ctx, dir, &root, manifest_path, m, &mut d);

    // Databases from runtime dependencies.
    for (krate, dep) in &m.deps {
        for (name, db) in DB_CRATES {
            if krate == name {
                d.database(
                    *db,
                    ev(manifest_path, Some(dep.line), format!("depends on {krate}")),
                );
            }
        }
        for (name, feature, db) in DB_FEATURES {
            if krate == name && dep.features.iter().any(|f| f == feature) {
                d.database(
                    *db,
                    ev(
                        manifest_path,
                        Some(dep.line),
                        format!("depends on {krate} with feature `{feature}`"),
                    ),
                );
            }
        }
    }

    let declared: Vec<&Framework> = FRAMEWORKS
        .iter()
        .filter(|f| m.deps.contains_key(f.krate))
        .collect();
    let apps: Vec<(&Framework, Regex)> = declared
        .iter()
        .map(|f| (*f, crate::scan::table_regex(f.app)))
        .collect();

    // One pass over the sources.
    let sources: Vec<&str> = ctx
        .sources(dir, &[".rs"])
        .into_iter()
        .filter(|f| {
            let rel = &f[dir.len()..].trim_start_matches('/');
            *rel != "build.rs" && !rel.starts_with("benches/")
        })
        .collect();
    let mut found_apps: BTreeMap<&'static str, (String, u32)> = BTreeMap::new();
    let mut binds: Vec<Bind> = Vec::new();
    let mut clap_ports: Vec<(u16, String, u32, String)> = Vec::new();
    for &file in &sources {
        let Some(text) = ctx.read_path(file) else {
            continue;
        };
        for (fw, re) in &apps {
            if !found_apps.contains_key(fw.name) {
                if let Some(mt) = re.find(&text) {
                    found_apps.insert(
                        fw.name,
                        (file.to_string(), crate::scan::line_of(&text, mt.start())),
                    );
                }
            }
        }
        scan_binds(file, &text, &mut binds);
        scan_env(&mut d, file, &text, &mut clap_ports);
        each_match(&text, &DB_URL_LITERAL, |line, c| {
            if let Some(db) = database_of_url(&c[1]) {
                d.database(
                    db,
                    ev(file, Some(line), format!("{} connection URL", db.as_str())),
                );
            }
        });
        if d.health_path.is_none() {
            if let Some((line, path)) = health(&text) {
                d.health_path = Some(path);
                d.note("health_path", ev(file, Some(line), line_text(&text, line)));
            }
        }
    }

    // The repository's own crates the package depends on (`conduit-core =
    // { path = "../conduit-core" }`) hold settings it reads at run time: a
    // workspace binary's clap `Config` often lives in a library crate.
    // Their environment reads and database wiring count; their binds do
    // not (a worker may link the API crate without serving it), and their
    // health route only for a binary that serves (below).
    let crates = path_crates(ctx, dir, &root, m);
    let crate_sources: Vec<&str> = crates
        .iter()
        .flat_map(|c| ctx.sources(c, &[".rs"]))
        .filter(|f| {
            !f.contains("/tests/")
                && !f.contains("/benches/")
                && !f.ends_with("/build.rs")
                && !f.ends_with("/tests.rs")
                && !f.ends_with("_tests.rs")
        })
        .collect();
    for &file in &crate_sources {
        if let Some(text) = ctx.read_path(file) {
            // A library's own tests (`#[cfg(test)] mod tests`, by
            // convention at the end of its files) and its docs
            // (`//! std::env::var("X")`) read nothing at run time.
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            scan_env(
                &mut d,
                file,
                &crate::wiring::mask_c_comments(code),
                &mut Vec::new(),
            );
        }
    }
    let wired: Vec<&str> = sources.iter().chain(&crate_sources).copied().collect();
    wiring::scan(ctx, dir, m, &mut d, &wired);
    let diesel = m.deps.contains_key("diesel") || m.deps.contains_key("diesel-async");
    let sqlx = m.deps.contains_key("sqlx");
    release::migrations(ctx, dir, &mut d, &sources, diesel, sqlx);
    if sqlx {
        d.build_schema = release::build_schema(ctx, dir, &root, &sources);
    }
    if let Some(cli) = d
        .release
        .as_deref()
        .and_then(autodeploy_core::release_cli::CargoCli::for_command)
    {
        d.release_library_version = lock::locked_version(ctx, dir, &root, cli.library);
    }
    let fw = declared
        .iter()
        .filter(|f| found_apps.contains_key(f.name))
        .max_by_key(|f| f.rank)
        .or_else(|| declared.iter().max_by_key(|f| f.rank))
        .copied();
    let listens = !binds.is_empty();
    if let Some(fw) = fw {
        let dep = &m.deps[fw.krate];
        d.set_framework(
            fw.name,
            ev(
                manifest_path,
                Some(dep.line),
                format!("depends on {} {}", fw.krate, dep.version),
            ),
        );
        d.strength = if found_apps.contains_key(fw.name) {
            10.0
        } else {
            7.0
        };
        d.port(
            fw.default_port,
            Trust::Default,
            ev(manifest_path, None, format!("default port of {}", fw.name)),
        );
    } else if listens {
        d.strength = 8.0;
    } else {
        d.kind = ServiceKind::Worker;
        d.strength = 4.0;
        d.note(
            "kind",
            ev(&bin.file, None, "binary that never binds a socket"),
        );
    }

    for b in &binds {
        apply_bind(ctx, &mut d, b);
    }
    if d.kind == ServiceKind::Web {
        // The app's own port variable (`env = "MICROBIN_PORT"`): the
        // deployment sets it to the port it assigns, as it would PORT.
        let mut listen = Vec::new();
        for (p, file, line, name) in clap_ports {
            let evidence = ev(&file, Some(line), "command-line/env default port");
            d.port(p, Trust::Code, evidence.clone());
            if name != "PORT"
                && !listen
                    .iter()
                    .any(|s: &autodeploy_core::WiringSetting| s.name == name)
            {
                listen.push(autodeploy_core::WiringSetting {
                    name,
                    format: autodeploy_core::SettingFormat::Port,
                    values: Default::default(),
                    value: None,
                    evidence,
                });
            }
        }
        if !listen.is_empty()
            && !d
                .wiring
                .iter()
                .any(|w| w.target == autodeploy_core::WiringTarget::Listen)
        {
            d.wiring.push(autodeploy_core::Wiring {
                target: autodeploy_core::WiringTarget::Listen,
                convention: "clap-env-port".into(),
                engines: Vec::new(),
                settings: listen,
                sqlite_fallback: None,
            });
        }
    }
    // A web binary whose router lives in one of the repository's crates
    // (axum-sqlx-conduit's `conduit-api` routes `/api/ping`): that crate's
    // health route is the one it serves. Only for a binary that serves:
    // a worker linking the same crate answers nothing.
    if d.kind == ServiceKind::Web && d.health_path.is_none() {
        for &file in &crate_sources {
            let Some(text) = ctx.read_path(file) else {
                continue;
            };
            if let Some((line, path)) = health(text.split("#[cfg(test)]").next().unwrap_or("")) {
                d.health_path = Some(path);
                d.note("health_path", ev(file, Some(line), line_text(&text, line)));
                break;
            }
        }
    }
    if fw.is_some_and(|f| f.name == "rocket") {
        rocket_config(ctx, dir, manifest_path, &sources, &mut d);
    }

    // Build and start.
    let up = "../".repeat(depth_below(&root, dir));
    let target = if up.is_empty() {
        "./target".to_string()
    } else {
        format!("{up}target")
    };
    let update = if locked {
        lock::update_command(ctx, dir, &root, &mut d)
            .map(|u| format!("{u} && "))
            .unwrap_or_default()
    } else {
        String::new()
    };
    d.build(
        format!("{update}cargo build --release{lock_flag}"),
        Trust::Inferred,
        ev(
            manifest_path,
            None,
            format!("inferred: binary `{}`", bin.name),
        ),
    );
    d.start(
        format!("{target}/release/{}", bin.name),
        Trust::Inferred,
        ev(
            &bin.file,
            None,
            format!("inferred: binary `{}` built by cargo", bin.name),
        ),
    );
    vec![d]
}

/// Processes a Cargo workspace root declares (a Procfile line, a compose
/// service built from the root, a Dockerfile's CMD there) run binaries of its
/// members: `./target/release/api serve`, `api worker` in the image. Each
/// such process takes what the member's analysis found — its environment,
/// databases and their wiring, health route, toolchain, build — since that
/// code is what runs; the member is not a service of its own. Members whose
/// binary no declared process runs (helpers, code generators, tools) are not
/// deployed either: the project said what runs. A workspace root without
/// declared processes is left alone (its members are the services).
pub fn fold_members(ctx: &Ctx, drafts: &mut Vec<Draft>) {
    let declared = |d: &Draft| {
        d.language == Language::Rust && d.starts.iter().any(|c| c.trust >= Trust::Config)
    };
    let mut roots: Vec<String> = drafts
        .iter()
        .filter(|d| declared(d))
        .map(|d| d.dir.clone())
        .filter(|dir| {
            ctx.read(dir, "Cargo.toml")
                .and_then(|t| cargo::parse(&t))
                .is_some_and(|m| m.workspace.is_some())
        })
        .collect();
    roots.sort();
    roots.dedup();
    for root in roots {
        let members: Vec<usize> = drafts
            .iter()
            .enumerate()
            .filter(|(_, d)| {
                d.language == Language::Rust
                    && d.has_manifest
                    && d.name.is_none()
                    && d.dir != root
                    && is_under(&d.dir, &root)
                    && member_binary(d).is_some()
            })
            .map(|(i, _)| i)
            .collect();
        if members.is_empty() {
            continue;
        }
        for &m in &members {
            let member = drafts[m].clone();
            let bin = member_binary(&member).unwrap_or_default();
            for p in drafts.iter_mut() {
                if p.dir == root && declared(p) && runs_program(p).as_deref() == Some(bin.as_str())
                {
                    lend(&member, p);
                }
            }
        }
        let mut i = 0;
        drafts.retain(|_| {
            i += 1;
            !members.contains(&(i - 1))
        });
    }
}

/// The binary a member's draft starts (`../../target/release/NAME`), when
/// its start is the inferred one (nothing declared in the member itself).
fn member_binary(d: &Draft) -> Option<String> {
    if d.starts.iter().any(|c| c.trust > Trust::Inferred) {
        return None;
    }
    let first = d.starts.first()?.value.split_whitespace().next()?;
    first
        .contains("target/release/")
        .then(|| first.rsplit('/').next().unwrap_or(first).to_string())
}

/// The program a process runs, by file name (`./target/release/api serve` → `api`).
fn runs_program(d: &Draft) -> Option<String> {
    let best = d.starts.iter().max_by_key(|c| c.trust)?;
    let cmd = crate::release::unwrap_shell(&best.value);
    let program = cmd.split_whitespace().find(|w| {
        !w.split_once('=').is_some_and(|(k, _)| {
            !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
    })?;
    Some(program.rsplit('/').next().unwrap_or(program).to_string())
}

/// What a member's analysis lends the process that runs its binary.
fn lend(member: &Draft, p: &mut Draft) {
    // The build's evidence names the member and its binary; the start's
    // stays the declaration's (decide asks where the start came from).
    // The workspace root's "no binary crate" finding no longer holds.
    p.findings.retain(|f| f.kind != "start_not_found");
    for e in &member.env {
        match p.env.iter_mut().find(|x| x.name == e.name) {
            // The declaration demanded it or gave it a value: kept; else the
            // code says whether it is needed.
            Some(x) if x.required || x.example.is_some() => {}
            Some(x) => *x = e.clone(),
            None => p.env.push(e.clone()),
        }
    }
    for (db, e) in &member.databases {
        p.databases.entry(*db).or_insert_with(|| e.clone());
    }
    for w in &member.wiring {
        p.wire(w.clone());
    }
    for c in &member.install_constraints {
        if !p.install_constraints.contains(c) {
            p.install_constraints.push(c.clone());
        }
    }
    for f in &member.findings {
        if !p.findings.contains(f) {
            p.findings.push(f.clone());
        }
    }
    for c in &member.builds {
        if !p.builds.iter().any(|b| b.value == c.value) {
            p.builds.push(c.clone());
        }
    }
    for (field, take) in [
        ("runtime_version", p.runtime_version.is_none()),
        ("health_path", p.health_path.is_none()),
        (
            "framework",
            p.framework.is_none() && p.kind == ServiceKind::Web,
        ),
    ] {
        if !take {
            continue;
        }
        match field {
            "runtime_version" => p.runtime_version = member.runtime_version.clone(),
            "health_path" => p.health_path = member.health_path.clone(),
            _ => p.framework = member.framework.clone(),
        }
        for e in member.evidence.get(field).into_iter().flatten() {
            p.note(field, e.clone());
        }
    }
    if p.install.is_none() {
        p.install = member.install.clone();
    }
    if p.package_manager.is_none() {
        p.package_manager = member.package_manager.clone();
    }
    p.has_manifest = true;
}

/// The folders of the repository's crates `m` (in `dir`) depends on by
/// path, directly or through `[workspace.dependencies]` of the workspace
/// root (`root`), and theirs in turn; never outside the repository.
fn path_crates(ctx: &Ctx, dir: &str, root: &str, m: &Manifest) -> Vec<String> {
    let root_manifest = (root != dir).then(|| parsed_manifest(ctx, root));
    let workspace = root_manifest
        .as_deref()
        .and_then(Option::as_ref)
        .and_then(|r| r.workspace.as_ref());
    let mut out: Vec<String> = Vec::new();
    let mut todo: Vec<(String, Arc<Option<Manifest>>)> =
        vec![(dir.to_string(), Arc::new(Some(m.clone())))];
    while let Some((at, manifest)) = todo.pop() {
        let Some(manifest) = manifest.as_ref() else {
            continue;
        };
        for (name, dep) in &manifest.deps {
            let target = match (&dep.path, dep.workspace) {
                (Some(p), _) => crate::repo::normalize(&crate::repo::join(&at, p)),
                (None, true) => workspace
                    .and_then(|w| w.deps.get(name))
                    .and_then(|w| w.path.as_deref())
                    .and_then(|p| crate::repo::normalize(&crate::repo::join(root, p))),
                _ => None,
            };
            let Some(target) = target else {
                continue;
            };
            if target == dir || out.contains(&target) || out.len() >= 32 {
                continue;
            }
            let next = parsed_manifest(ctx, &target);
            if next.is_none() {
                continue;
            }
            out.push(target.clone());
            todo.push((target, next));
        }
    }
    out
}

/// The parsed `Cargo.toml` of `dir`, once per analysis: a workspace's
/// binaries share their path crates and its root.
fn parsed_manifest(ctx: &Ctx, dir: &str) -> Arc<Option<Manifest>> {
    ctx.memo("rust_path_crate_manifest", dir, || {
        ctx.read(dir, "Cargo.toml").and_then(|t| cargo::parse(&t))
    })
}

fn depth_below(root: &str, dir: &str) -> usize {
    if root == dir {
        return 0;
    }
    let rel = if root.is_empty() {
        dir
    } else {
        dir.strip_prefix(root)
            .unwrap_or(dir)
            .trim_start_matches('/')
    };
    rel.split('/').filter(|p| !p.is_empty()).count()
}

fn runtime_version(
    ctx: &Ctx,
    dir: &str,
    root: &str,
    manifest_path: &str,
    m: &Manifest,
    d: &mut Draft,
) {
    for folder in [dir, root] {
        let toml_file = ctx.read(folder, "rust-toolchain.toml");
        let legacy = ctx.read(folder, "rust-toolchain");
        if toml_file.is_none() && legacy.is_none() {
            continue;
        }
        if let Some(ch) = cargo::toolchain_channel(toml_file.as_deref(), legacy.as_deref()) {
            let name = if toml_file.is_some() {
                "rust-toolchain.toml"
            } else {
                "rust-toolchain"
            };
            d.runtime_version = Some(ch.clone());
            d.note(
                "runtime_version",
                ev(&join(folder, name), None, format!("channel {ch}")),
            );
            return;
        }
    }
    if let Some(v) = &m.rust_version {
        d.runtime_version = Some(v.clone());
        d.note(
            "runtime_version",
            ev(manifest_path, None, format!("rust-version = {v}")),
        );
        return;
    }
    // A member that does not inherit it still builds with the workspace's
    // toolchain: `[workspace.package] rust-version` is the oldest it takes.
    if root != dir {
        let ws = ctx
            .read(root, "Cargo.toml")
            .and_then(|t| cargo::parse(&t))
            .and_then(|r| r.workspace);
        if let Some(v) = ws.and_then(|w| w.rust_version) {
            d.note(
                "runtime_version",
                ev(
                    &join(root, "Cargo.toml"),
                    None,
                    format!("[workspace.package] rust-version = {v}"),
                ),
            );
            d.runtime_version = Some(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::rocket::rocket_toml;
    use super::*;
    use crate::repo::MemRepo;

    fn detect_at(files: &[(&str, &str)], dir: &str) -> Vec<Draft> {
        let repo = MemRepo::new(files.iter().map(|(p, c)| (p.to_string(), c.to_string())));
        let ctx = Ctx::new(&repo);
        Rust.detect(&ctx, dir)
    }

    #[test]
    fn dev_dependencies_do_not_count() {
        let d = detect_at(
            &[
                ("Cargo.toml", "[package]\nname = \"a\"\n[dependencies]\nwarp = \"0.3\"\n[dev-dependencies]\nredis = \"0.25\"\nsqlx = { version = \"0.7\", features = [\"postgres\"] }\n"),
                ("src/main.rs", "#[tokio::main]\nasync fn main() {\n    warp::serve(routes).run(([127, 0, 0, 1], 3030)).await;\n}\n"),
            ],
            "",
        );
        assert!(d[0].databases.is_empty());
        assert_eq!(d[0].framework.as_deref(), Some("warp"));
        let f = d[0]
            .findings
            .iter()
            .find(|f| f.kind == "binds_localhost")
            .unwrap();
        assert_eq!(f.fix.as_ref().unwrap().find, "[127, 0, 0, 1]");
        assert!(d[0].findings.iter().any(|f| f.kind == "no_lockfile"));
    }

    /// A clap port with its own variable (`env = "MICROBIN_PORT"`) is the
    /// port, and the variable is how the deployment sets it.
    #[test]
    fn a_clap_port_variable_is_the_listen_setting() {
        let d = detect_at(
            &[
                ("Cargo.toml", "[package]\nname = \"bin\"\n[dependencies]\nactix-web = \"4\"\nclap = \"4\"\n"),
                ("src/main.rs", "use actix_web::{App, HttpServer};\n#[actix_web::main]\nasync fn main() -> std::io::Result<()> {\n    HttpServer::new(|| App::new()).bind((ARGS.bind, ARGS.port))?.run().await\n}\n"),
                ("src/args.rs", "pub struct Args {\n    #[clap(short, long, env = \"BIN_PORT\", default_value_t = 8080)]\n    pub port: u16,\n}\n"),
            ],
            "",
        );
        assert!(
            d[0].ports.iter().any(|p| p.value == 8080),
            "{:?}",
            d[0].ports
        );
        let listen = d[0]
            .wiring
            .iter()
            .find(|w| w.target == autodeploy_core::WiringTarget::Listen)
            .unwrap_or_else(|| panic!("{:?}", d[0].wiring));
        assert_eq!(listen.settings[0].name, "BIN_PORT");
        assert_eq!(
            listen.settings[0].format,
            autodeploy_core::SettingFormat::Port
        );
    }

    #[test]
    fn a_port_written_in_the_code_reads_port_in_the_copy() {
        let d = detect_at(
            &[
                ("Cargo.toml", "[package]\nname = \"a\"\n[dependencies]\naxum = \"0.3\"\n"),
                ("src/main.rs", "mod http;\nfn main() {}\n"),
                ("src/http.rs", "pub async fn serve() -> anyhow::Result<()> {\n    axum::Server::bind(&\"0.0.0.0:8080\".parse()?)\n        .serve(app.into_make_service())\n        .await?;\n    Ok(())\n}\n"),
            ],
            "",
        );
        assert!(d[0].ports.iter().any(|p| p.value == 8080));
        let f = d[0]
            .findings
            .iter()
            .find(|f| f.kind == "hardcoded_port")
            .unwrap();
        let fix = f.fix.as_ref().unwrap();
        assert_eq!((fix.file.as_str(), fix.line), ("src/http.rs", 2));
        assert_eq!(fix.find, "\"0.0.0.0:8080\"");
        assert!(
            fix.replace.contains("std::env::var(\"PORT\")"),
            "{}",
            fix.replace
        );
        assert!(d[0].env.iter().any(|e| e.name == "PORT" && !e.required));

        // A file that reads PORT itself is left alone.
        let d = detect_at(
            &[
                ("Cargo.toml", "[package]\nname = \"a\"\n[dependencies]\naxum = \"0.7\"\n"),
                ("src/main.rs", "#[tokio::main]\nasync fn main() {\n    let port: u16 = std::env::var(\"PORT\").ok().and_then(|p| p.parse().ok()).unwrap_or(3000);\n    let l = tokio::net::TcpListener::bind((\"0.0.0.0\", port)).await.unwrap();\n}\n"),
            ],
            "",
        );
        assert!(d[0].findings.iter().all(|f| f.kind != "hardcoded_port"));
    }

    #[test]
    fn library_crate_is_not_a_service() {
        let d = detect_at(
            &[
                (
                    "Cargo.toml",
                    "[package]\nname = \"lib\"\n[dependencies]\naxum = \"0.7\"\n",
                ),
                ("src/lib.rs", "pub fn x() {}\n"),
            ],
            "",
        );
        assert!(d.is_empty());
    }

    #[test]
    fn binary_without_server_is_worker_and_bins_are_named() {
        let d = detect_at(
            &[
                ("Cargo.toml", "[package]\nname = \"tools\"\n"),
                ("Cargo.lock", ""),
                ("src/bin/consumer.rs", "fn main() {\n    let q = std::env::var(\"QUEUE\").expect(\"QUEUE\");\n    loop {}\n}\n"),
            ],
            "",
        );
        assert_eq!(d[0].kind, ServiceKind::Worker);
        assert_eq!(d[0].starts[0].value, "./target/release/consumer");
        assert!(d[0].env[0].required);
    }

    #[test]
    fn clap_env_port() {
        let d = detect_at(
            &[
                ("Cargo.toml", "[package]\nname = \"s\"\n[dependencies]\naxum = \"0.7\"\nclap = \"4\"\n"),
                ("src/main.rs", "#[derive(Parser)]\nstruct Args {\n    #[arg(long, env = \"PORT\", default_value_t = 8088)]\n    port: u16,\n    #[arg(long, env = \"DATABASE_URL\")]\n    db: String,\n    /// Signing key.\n    #[arg(long, env)]\n    pub hmac_key: String,\n    #[arg(long, env)]\n    sentry_dsn: Option<String>,\n}\nfn main() { let app = Router::new(); }\n"),
            ],
            "",
        );
        assert!(d[0]
            .ports
            .iter()
            .any(|c| c.value == 8088 && c.trust == Trust::Code));
        let req: BTreeMap<&str, bool> = d[0]
            .env
            .iter()
            .map(|e| (e.name.as_str(), e.required))
            .collect();
        assert!(!req["PORT"]);
        assert!(req["DATABASE_URL"]);
        assert!(req["HMAC_KEY"]);
        assert!(!req["SENTRY_DSN"]);
    }

    /// axum-sqlx-conduit's `conduit-web` is a Yew front end (trunk builds
    /// it to WebAssembly from `index.html`): not a service, where it was
    /// deployed as a worker that panics at start. A server that also links
    /// wasm-bindgen stays one.
    #[test]
    fn a_browser_webassembly_crate_is_not_a_service() {
        let yew = detect_at(
            &[
                ("Cargo.toml", "[package]\nname = \"conduit-web\"\n[dependencies]\nyew = \"0.19\"\nwasm-bindgen = \"0.2\"\n"),
                ("index.html", "<html><body></body></html>\n"),
                ("src/main.rs", "fn main() {\n    yew::start_app::<App>();\n}\n"),
            ],
            "",
        );
        assert!(yew.is_empty(), "{yew:?}");
        let trunk = detect_at(
            &[
                (
                    "Cargo.toml",
                    "[package]\nname = \"web\"\n[dependencies]\nwasm-bindgen = \"0.2\"\n",
                ),
                ("index.html", "<html></html>\n"),
                ("src/main.rs", "fn main() {}\n"),
            ],
            "",
        );
        assert!(trunk.is_empty(), "{trunk:?}");
        let server = detect_at(
            &[
                ("Cargo.toml", "[package]\nname = \"api\"\n[dependencies]\naxum = \"0.7\"\nwasm-bindgen = \"0.2\"\n"),
                ("index.html", "<html></html>\n"),
                ("src/main.rs", "fn main() {\n    let app = axum::Router::new();\n}\n"),
            ],
            "",
        );
        assert_eq!(server.len(), 1);
    }

    /// axum-sqlx-conduit: the binary crate's `main` parses `AppConfig`, a
    /// clap struct of the workspace's `conduit-core` crate (a path
    /// dependency, also through `[workspace.dependencies]`). Its settings
    /// are the binary's, and so is the health route of the router it
    /// serves (`/api/ping` in `conduit-api`); a crate outside the
    /// repository is never read.
    #[test]
    fn settings_in_a_path_crate_are_the_binarys() {
        let d = detect_at(
            &[
                ("Cargo.toml", "[workspace]\nmembers = [\"crates/*\"]\n[workspace.dependencies]\nconduit-api = { path = \"crates/conduit-api\" }\n"),
                ("crates/conduit-bin/Cargo.toml", "[package]\nname = \"conduit-bin\"\n[dependencies]\nconduit-core = { path = \"../conduit-core\" }\nconduit-api = { workspace = true }\noutside = { path = \"../../../elsewhere\" }\naxum = \"0.5\"\nclap = \"3\"\n"),
                ("crates/conduit-bin/src/main.rs", "use clap::Parser;\nfn main() {\n    let config = conduit_core::config::AppConfig::parse();\n    let app = axum::Router::new();\n}\n"),
                ("crates/conduit-core/Cargo.toml", "[package]\nname = \"conduit-core\"\n[dependencies]\nclap = \"3\"\n"),
                ("crates/conduit-core/src/config.rs", "#[derive(clap::Parser)]\npub struct AppConfig {\n    #[clap(long, env)]\n    pub database_url: String,\n    #[clap(long, env)]\n    pub argon_salt: String,\n}\n"),
                ("crates/conduit-api/Cargo.toml", "[package]\nname = \"conduit-api\"\n[dependencies]\naxum = \"0.5\"\n"),
                ("crates/conduit-api/src/lib.rs", "//! Reads `std::env::var(\"DOC_ONLY\")`.\npub fn cors() -> String { std::env::var(\"CORS_ORIGIN\").unwrap() }\npub fn git() { std::process::Command::new(\"git\").env(\"GIT_ASKPASS\", \"\"); }\npub fn router() -> axum::Router { axum::Router::new().route(\"/api/ping\", get(ping)) }\n#[cfg(test)]\nmod tests {\n    fn t() { std::env::var(\"TEST_ONLY\").unwrap(); }\n}\n"),
                ("crates/conduit-api/src/tests.rs", "fn t() { std::env::var(\"TEST_FILE_ONLY\").unwrap(); }\n"),
            ],
            "crates/conduit-bin",
        );
        let names: Vec<&str> = d[0].env.iter().map(|e| e.name.as_str()).collect();
        for n in ["DATABASE_URL", "ARGON_SALT", "CORS_ORIGIN"] {
            assert!(names.contains(&n), "{n}: {names:?}");
        }
        // A library's docs, tests and child-process settings read nothing.
        for n in ["DOC_ONLY", "TEST_ONLY", "TEST_FILE_ONLY", "GIT_ASKPASS"] {
            assert!(!names.contains(&n), "{n}: {names:?}");
        }
        assert_eq!(d[0].health_path.as_deref(), Some("/api/ping"));
    }

    #[test]
    fn rocket_env_in_dockerfile() {
        let d = detect_at(
            &[
                (
                    "Cargo.toml",
                    "[package]\nname = \"r\"\n[dependencies]\nrocket = \"0.5\"\n",
                ),
                ("Cargo.lock", ""),
                (
                    "Dockerfile",
                    "FROM debian\nENV ROCKET_ADDRESS=0.0.0.0 ROCKET_PORT=9000\nCMD [\"/app/r\"]\n",
                ),
                (
                    "src/main.rs",
                    "#[launch]\nfn rocket() -> _ { rocket::build() }\n",
                ),
            ],
            "",
        );
        assert!(d[0]
            .ports
            .iter()
            .any(|c| c.value == 9000 && c.trust == Trust::Config));
        assert!(d[0].findings.iter().all(|f| f.kind != "binds_localhost"));
    }

    #[test]
    fn rocket_toml_profiles() {
        let v = rocket_toml("[default]\nport = 8000\n[release]\naddress = \"127.0.0.1\"\n[default.databases.db]\nurl = \"postgres://x\"\n");
        assert_eq!(v[&("default".into(), "port".into())].0, "8000");
        assert_eq!(v[&("release".into(), "address".into())].1, 4);
        assert_eq!(v[&("default".into(), "url".into())].0, "postgres://x");
    }

    #[test]
    fn bad_manifest_is_a_finding() {
        let d = detect_at(&[("Cargo.toml", "[package\n")], "");
        assert_eq!(d[0].findings[0].kind, "invalid_manifest");
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_fragments(src in r#"(fn main\(\) \{|TcpListener::bind\(|\.bind\(|SocketAddr::from\(|\(\[0, 0, 0, 0\], |\[127, 0, 0, 1\]|let port = |env::var\("PORT"\)|\.unwrap_or\(|\.unwrap_or_else\(\|_\| |"8080"|3000|\)|\(|;|\n|'a|'x'|format!\("\{\}:\{port\}", |é|r#"|#\[arg\(long, env\)\]|pub x: ){0,50}"#) {
            let _ = detect_at(
                &[
                    ("Cargo.toml", "[package]\nname = \"p\"\n[dependencies]\naxum = \"0.7\"\nrocket = \"0.5\"\n"),
                    ("src/main.rs", src.as_str()),
                    ("Rocket.toml", src.as_str()),
                ],
                "",
            );
        }
    }
}

#[cfg(test)]
mod release_library_tests {
    use super::*;
    use crate::repo::MemRepo;

    fn detect_at(files: &[(&str, &str)], dir: &str) -> Vec<Draft> {
        let repo = MemRepo::new(files.iter().map(|(p, c)| (p.to_string(), c.to_string())));
        Rust.detect(&Ctx::new(&repo), dir)
    }

    /// `sqlx migrate run` gets the sqlx version the lock pins, so the CLI
    /// comes from the same line (the newest needs a newer rustc).
    #[test]
    fn the_release_cli_library_is_the_locked_one() {
        let files = [
            (
                "Cargo.toml",
                "[package]\nname = \"api\"\n[dependencies]\naxum = \"0.7\"\nsqlx = { version = \"0.7\", features = [\"postgres\"] }\n",
            ),
            (
                "Cargo.lock",
                "version = 3\n\n[[package]]\nname = \"api\"\nversion = \"0.1.0\"\n\n[[package]]\nname = \"sqlx\"\nversion = \"0.7.3\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
            ),
            ("migrations/20230101_init.sql", "create table t (id int);\n"),
            (
                "src/main.rs",
                "#[tokio::main]\nasync fn main() {\n    let app = axum::Router::new();\n    let l = tokio::net::TcpListener::bind(\"0.0.0.0:8000\").await.unwrap();\n    axum::serve(l, app).await.unwrap();\n}\n",
            ),
        ];
        let d = detect_at(&files, "");
        assert_eq!(d[0].release.as_deref(), Some("sqlx migrate run"));
        assert_eq!(d[0].release_library_version.as_deref(), Some("0.7.3"));
        // No checked query: the build needs no schema.
        assert_eq!(d[0].build_schema, None);
    }

    /// `query!` without offline data: the build checks it against the schema
    /// of the migrations; with `.sqlx/` committed it does not.
    #[test]
    fn checked_queries_need_a_schema_at_build_time_unless_offline() {
        let mut files = vec![
            (
                "Cargo.toml",
                "[package]\nname = \"api\"\n[dependencies]\naxum = \"0.7\"\nsqlx = { version = \"0.7\", features = [\"postgres\", \"macros\"] }\n",
            ),
            ("migrations/20230101_init.up.sql", "create table t (id int);\n"),
            ("migrations/20230101_init.down.sql", "drop table t;\n"),
            (
                "src/main.rs",
                "async fn h(p: sqlx::PgPool) { let _ = sqlx::query!(\"select id from t\").fetch_all(&p).await; }\n#[tokio::main]\nasync fn main() {\n    let app = axum::Router::new();\n    let l = tokio::net::TcpListener::bind(\"0.0.0.0:8000\").await.unwrap();\n    axum::serve(l, app).await.unwrap();\n}\n",
            ),
        ];
        let d = detect_at(&files, "");
        assert_eq!(d[0].build_schema.as_deref(), Some("migrations"));
        files.push((".sqlx/query-abc.json", "{}"));
        let d = detect_at(&files, "");
        assert_eq!(d[0].build_schema, None);
    }
}
