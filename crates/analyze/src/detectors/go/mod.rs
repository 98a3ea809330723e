//! Go: a `go.mod` module; gin, echo, fiber, chi, gorilla/mux and plain
//! `net/http` servers; `package main` folders that never listen are workers.
//!
//! Frameworks are rows of [`FRAMEWORKS`] (module path, app constructor, the
//! methods that start its server, default port); databases are rows of
//! [`DB_DEPS`]. Only DIRECT requirements count — `// indirect` lines are the
//! dependencies of dependencies. Listen addresses are evaluated by the small
//! expression reader in [`expr`] (literals, `":" + port`, `fmt.Sprintf`, flag
//! defaults, the `if port == "" { port = "8080" }` fallback). `listen.rs`
//! finds where servers start; `scan.rs` reads env vars and database hints;
//! this file picks the framework, the main package and the commands.
//!
//! Not here: building or vetting the code, reading `vendor/`, go.work
//! workspaces (each module is detected in its own folder), gRPC-only servers.

pub mod expr;
pub mod gomod;
mod listen;
mod release;
mod scan;
mod wiring;

use crate::ctx::Ctx;
use crate::detectors::{databases_from_deps, Detector};
use crate::draft::{ev, Draft, Trust};
use crate::repo::{file_name, join, parent};
use crate::scan::{line_of, line_text};
use autodeploy_core::{Database, Language, ServiceKind, Severity};
use gomod::{strip_major, GoMod};
use listen::{apply_listen, scan_listens, Listen};
use regex::Regex;
use scan::{scan_databases, scan_env};
use std::collections::BTreeMap;
use std::sync::LazyLock;

pub struct Go;

/// One web framework.
struct Framework {
    name: &'static str,
    /// Module path without its `/vN` suffix.
    module: &'static str,
    /// Package name used in code (`gin.Default()`).
    pkg: &'static str,
    /// Finds the app/router object.
    app: &'static str,
    /// Methods on the app object that start the server with an address argument.
    methods: &'static [&'static str],
    /// The framework's documented (or conventional) port.
    default_port: u16,
    /// Higher wins when several frameworks are required.
    rank: u8,
}

const FRAMEWORKS: &[Framework] = &[
    Framework {
        name: "gin",
        module: "github.com/gin-gonic/gin",
        pkg: "gin",
        app: r"\bgin\.(?:Default|New)\s*\(",
        methods: &["Run", "RunTLS"],
        default_port: 8080,
        rank: 5,
    },
    Framework {
        name: "echo",
        module: "github.com/labstack/echo",
        pkg: "echo",
        app: r"\becho\.New\s*\(",
        methods: &["Start", "StartTLS", "StartAutoTLS"],
        default_port: 1323,
        rank: 5,
    },
    Framework {
        name: "fiber",
        module: "github.com/gofiber/fiber",
        pkg: "fiber",
        app: r"\bfiber\.New\s*\(",
        methods: &["Listen", "ListenTLS"],
        default_port: 3000,
        rank: 5,
    },
    Framework {
        name: "chi",
        module: "github.com/go-chi/chi",
        pkg: "chi",
        app: r"\bchi\.(?:NewRouter|NewMux)\s*\(",
        methods: &[],
        default_port: 8080,
        rank: 3,
    },
    Framework {
        name: "gorilla-mux",
        module: "github.com/gorilla/mux",
        pkg: "mux",
        app: r"\bmux\.NewRouter\s*\(",
        methods: &[],
        default_port: 8080,
        rank: 2,
    },
];

/// The standard library server (no framework module required).
const NET_HTTP: &str = "net-http";
const NET_HTTP_PORT: u16 = 8080;

/// Direct requirement (without `/vN`) → database or cache.
const DB_DEPS: &[(&str, Database)] = &[
    ("github.com/lib/pq", Database::Postgresql),
    ("github.com/jackc/pgx", Database::Postgresql),
    ("gopkg.in/jackc/pgx.v2", Database::Postgresql),
    ("gorm.io/driver/postgres", Database::Postgresql),
    ("github.com/go-pg/pg", Database::Postgresql),
    (
        "github.com/uptrace/bun/driver/pgdriver",
        Database::Postgresql,
    ),
    ("github.com/go-sql-driver/mysql", Database::Mysql),
    ("gorm.io/driver/mysql", Database::Mysql),
    ("go.mongodb.org/mongo-driver", Database::Mongodb),
    ("github.com/redis/go-redis", Database::Redis),
    ("github.com/go-redis/redis", Database::Redis),
    ("github.com/gomodule/redigo", Database::Redis),
    ("github.com/redis/rueidis", Database::Redis),
    ("github.com/mattn/go-sqlite3", Database::Sqlite),
    ("modernc.org/sqlite", Database::Sqlite),
    ("gorm.io/driver/sqlite", Database::Sqlite),
    ("github.com/glebarez/sqlite", Database::Sqlite),
];

/// PostgreSQL drivers and the first release that logs in with SCRAM-SHA-256
/// (lib/pq 1.1.0 and pgx 3.4.0, both April 2019). pgx v4 and v5 have it;
/// `gopkg.in/jackc/pgx.v2` never did.
const SCRAM_SINCE: &[(&str, (u64, u64, u64), &str)] = &[
    ("github.com/lib/pq", (1, 1, 0), "v1.1.0"),
    ("github.com/jackc/pgx", (3, 4, 0), "v3.4.0"),
    (
        "gopkg.in/jackc/pgx.v2",
        (u64::MAX, 0, 0),
        "github.com/jackc/pgx/v5",
    ),
];

/// A direct requirement on a PostgreSQL driver from before SCRAM, with the
/// release that fixed it. A version that is not a release (a Godeps commit)
/// counts as old in a tree from before modules (its code is the vendored
/// copy of that time); in a module it is a pseudo-version, dated, left alone.
fn postgres_driver_without_scram<'r>(
    requires: impl Iterator<Item = &'r gomod::Require>,
    has_mod: bool,
) -> Option<(&'r gomod::Require, &'static str)> {
    let release = |v: &str| -> Option<(u64, u64, u64)> {
        let core = v.trim().strip_prefix('v')?.split(['-', '+']).next()?;
        let mut it = core.split('.').map(|p| p.parse::<u64>().ok());
        Some((it.next()??, it.next()??, it.next()??))
    };
    requires.into_iter().find_map(|r| {
        let (_, since, fixed_in) = SCRAM_SINCE.iter().find(|(path, ..)| *path == r.path)?;
        let old = match release(&r.version) {
            // pseudo-versions (v0.0.0-2018…) of lib/pq count by their date
            Some(v) if r.version.matches('-').count() >= 2 => {
                v < *since && pseudo_date(&r.version).is_some_and(|d| d < "20190417")
            }
            Some(v) => v < *since,
            None => !has_mod,
        };
        old.then_some((r, *fixed_in))
    })
}

/// The date of a Go pseudo-version (`v0.0.0-20180523175426-90697d60dd84` →
/// `20180523`).
fn pseudo_date(v: &str) -> Option<&str> {
    let stamp = v.split('-').rev().nth(1)?;
    let stamp = stamp.rsplit('.').next()?;
    (stamp.len() == 14 && stamp.bytes().all(|b| b.is_ascii_digit())).then(|| &stamp[..8])
}

/// `database/sql` driver names → database.
/// Libraries whose `env:"NAME"` struct tags name environment variables as is
/// (others, such as qiangxue/go-env, add a prefix the tag does not show).
const ENV_TAG_LIBS: &[&str] = &[
    "github.com/caarlos0/env",
    "github.com/sethvargo/go-envconfig",
];

/// Folder names of `package main`s that run background work.
const WORKER_DIRS: &[&str] = &[
    "worker",
    "workers",
    "consumer",
    "consumers",
    "scheduler",
    "cron",
    "jobs",
    "queue",
    "processor",
    "subscriber",
];

/// Preferred folders for the main web binary, after `cmd/server` and `cmd/<module>`.
const WEB_MAIN_DIRS: &[&str] = &["api", "web", "app", "http", "httpd", "service", "backend"];

static PACKAGE_MAIN: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"(?m)^package\s+main\b").expect("regex"));
static FUNC_MAIN: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"(?m)^func\s+main\s*\(\s*\)").expect("regex"));
static BUILD_IGNORE: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r"(?m)^//\s*(?:go:build|\+build)\s+ignore\b").expect("regex")
});
/// `godotenv.Load()` (or of `.env` by name) whose error stops the program
/// (`log.Fatal`, `panic`, `os.Exit` within the next lines): without the file
/// the app exits at start, whatever the environment holds.
static DOTENV_REQUIRED: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r#"godotenv\.(?:Load|Overload)\(\s*(?:"\.env")?\s*\)[^\n]*(?:\n[^\n]*){0,3}?\b(?:log\.Fatal|log\.Panic|panic\(|os\.Exit\(|logrus\.Fatal|zap\.[A-Za-z]*Fatal)"#,
    )
    .expect("regex")
});
static HEALTH_ROUTE: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"\.(?:GET|Get|HEAD|Head|Any|HandleFunc|Handle|HandlerFunc|Handler|Route)\s*\(\s*(?:(?:http\.Method(?:Get|Head)|"(?:GET|HEAD)")\s*,\s*)?(?:\w+\s*\+\s*)?"(?:GET\s+)?(/(?:api/(?:v\d+/)?)?(?:healthz?|health[-_]?check(?:er)?|ping|status|_health|livez|readyz))""#)
        .expect("regex")
});

impl Detector for Go {
    fn name(&self) -> &'static str {
        "go"
    }

    fn markers(&self) -> &'static [&'static str] {
        &["go.mod", "main.go"]
    }

    fn detect(&self, ctx: &Ctx, dir: &str) -> Vec<Draft> {
        let has_mod = ctx.has(dir, "go.mod");
        if !has_mod && module_above(ctx, dir) {
            // Part of the module around it.
            return Vec::new();
        }
        let gomod = if has_mod {
            ctx.read(dir, "go.mod")
                .map(|t| gomod::parse(&t))
                .unwrap_or_default()
        } else {
            // A tree from before modules builds in GOPATH mode under the
            // import path it names (Godeps, glide, its Dockerfile).
            GoMod {
                module: gopath_import_path(ctx, dir).map(|(p, _)| p),
                requires: godeps_requires(ctx, dir),
                ..GoMod::default()
            }
        };
        let sources = ctx.sources(dir, &[".go"]);
        if sources.is_empty() {
            return Vec::new();
        }
        let mut drafts = analyze_module(ctx, dir, has_mod, &gomod, &sources);
        if !has_mod {
            if let Some((path, evidence)) = gopath_import_path(ctx, dir) {
                for d in &mut drafts {
                    in_gopath(d, &path, &evidence);
                }
            }
        }
        drafts
    }
}

/// The dependencies a Godeps tree pins (`Godeps/Godeps.json` `Deps`), as
/// direct requirements: what go.mod would list (databases are read from them).
fn godeps_requires(ctx: &Ctx, dir: &str) -> Vec<gomod::Require> {
    let Some(text) = ctx.read_path(&join(dir, "Godeps/Godeps.json")) else {
        return Vec::new();
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Vec::new();
    };
    let Some(deps) = v.get("Deps").and_then(|d| d.as_array()) else {
        return Vec::new();
    };
    deps.iter()
        .filter_map(|d| {
            let path = d.get("ImportPath")?.as_str()?.to_string();
            let version = d
                .get("Comment")
                .or_else(|| d.get("Rev"))
                .and_then(|c| c.as_str())
                .unwrap_or("")
                .to_string();
            let line = text
                .find(&format!("\"{path}\""))
                .map_or(1, |at| line_of(&text, at));
            Some(gomod::Require {
                path,
                version,
                line,
                indirect: false,
            })
        })
        .collect()
}

/// The import path a tree without go.mod is built under, with where it was
/// read: Godeps' `ImportPath`, glide's `package:`, or the GOPATH folder its
/// Dockerfile copies it to (`ADD . /go/src/github.com/acme/api`).
fn gopath_import_path(ctx: &Ctx, dir: &str) -> Option<(String, String)> {
    let valid = |p: &str| {
        let p = p.trim().trim_matches(['"', '/']);
        (p.contains('.')
            && p.contains('/')
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '-' | '_' | '~')))
        .then(|| p.to_string())
    };
    let godeps = join(dir, "Godeps/Godeps.json");
    if let Some(p) = ctx
        .read_path(&godeps)
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("ImportPath")?.as_str().and_then(valid))
    {
        return Some((p, godeps));
    }
    let glide = join(dir, "glide.yaml");
    if let Some(p) = ctx.read_path(&glide).and_then(|t| {
        t.lines()
            .find_map(|l| l.strip_prefix("package:"))
            .and_then(valid)
    }) {
        return Some((p, glide));
    }
    let dockerfile = crate::config::dockerfile::find(ctx, dir)?;
    let text = ctx.read_path(&dockerfile)?;
    let p = text.lines().find_map(|l| {
        let words: Vec<&str> = l.split_whitespace().collect();
        let dest = match words.as_slice() {
            [op, ".", dest]
                if op.eq_ignore_ascii_case("add") || op.eq_ignore_ascii_case("copy") =>
            {
                dest
            }
            [op, dest] if op.eq_ignore_ascii_case("workdir") => dest,
            _ => return None,
        };
        dest.strip_prefix("/go/src/").and_then(valid)
    })?;
    Some((p, dockerfile))
}

/// Build a tree from before modules. With its `vendor/` (the walk does not
/// list it, so the command looks): in GOPATH mode (`GO111MODULE=off`), the
/// tree linked into a GOPATH of its own under its import path, so its
/// imports and `vendor/` resolve. Without: as a module made on the spot
/// (`go mod init IMPORT_PATH && go mod tidy`), since `go get` no longer
/// works in GOPATH mode (Go 1.22).
fn in_gopath(d: &mut Draft, import_path: &str, evidence: &str) {
    let parent = import_path.rsplit_once('/').map_or("", |(p, _)| p);
    for b in &mut d.builds {
        let Some(rest) = b.value.strip_prefix("go build ") else {
            continue;
        };
        b.value = format!(
            "if [ -d vendor ]; then export GO111MODULE=off GOPATH=\"${{TMPDIR:-/tmp}}/gopath\" && mkdir -p \"$GOPATH/src/{parent}\" && ln -sfn \"$PWD\" \"$GOPATH/src/{import_path}\" && cd \"$GOPATH/src/{import_path}\" && go build {rest}; else go mod init {import_path} && go mod tidy && go build {rest}; fi"
        );
    }
    d.note(
        "build",
        ev(
            evidence,
            None,
            format!("no go.mod: built in GOPATH mode as {import_path}"),
        ),
    );
    for f in d.findings.iter_mut().filter(|f| f.kind == "no_manifest") {
        f.message = format!(
            "Go code without a go.mod, from before Go modules: it is built as {import_path}, in GOPATH mode (GO111MODULE=off) from its vendor/ folder, or else as a module made at build time (`go mod init {import_path}` and `go mod tidy`, which take the newest versions of its imports); commit go.mod and go.sum to build it reproducibly"
        );
    }
}

/// True when a folder above `dir` holds a go.mod.
fn module_above(ctx: &Ctx, dir: &str) -> bool {
    let mut d = dir;
    while !d.is_empty() {
        d = parent(d);
        if ctx.has(d, "go.mod") {
            return true;
        }
    }
    false
}

/// What the sources of the module say, gathered in one pass.
#[derive(Default)]
struct Facts {
    /// Folder → (file, line of `func main`) of each `package main`.
    mains: BTreeMap<String, (String, u32)>,
    listens: Vec<Listen>,
    /// Framework → first app object (file, line).
    apps: BTreeMap<&'static str, (String, u32)>,
    /// A boolean flag that migrates and exits: (file, line, flag).
    migrate_flag: Option<(String, u32, String)>,
}

fn analyze_module(
    ctx: &Ctx,
    dir: &str,
    has_mod: bool,
    gomod: &GoMod,
    sources: &[&str],
) -> Vec<Draft> {
    let mod_file = join(dir, "go.mod");
    let mut web = Draft::new(dir, Language::Go, ServiceKind::Web);
    web.has_manifest = has_mod;
    web.manifest_name = gomod.short_name();
    web.package_manager = Some("go".into());
    if has_mod {
        // A vendored module builds from vendor/ (the go command's default
        // when vendor/modules.txt is there): nothing to download.
        let vendored = ctx.index().contains(&join(dir, "vendor/modules.txt"));
        web.install = (!vendored).then(|| "go mod download".into());
        if vendored {
            web.note(
                "install",
                ev(
                    &join(dir, "vendor/modules.txt"),
                    None,
                    "dependencies vendored: nothing to download",
                ),
            );
        }
        web.note("language", ev(&mod_file, None, "Go module (go.mod)"));
    } else {
        web.note("language", ev(sources[0], None, "Go source"));
        web.finding(
            "no_manifest",
            Severity::Warning,
            None,
            None,
            "Go code without a go.mod: modern Go cannot build it reproducibly; run `go mod init <module path>` and `go mod tidy`, and commit go.mod and go.sum",
            None,
        );
    }
    if let Some((v, line)) = &gomod.go {
        web.runtime_version = Some(v.clone());
        web.note(
            "runtime_version",
            ev(&mod_file, Some(*line), format!("go {v}")),
        );
    }
    if has_mod && !ctx.has(dir, "go.sum") && !gomod.requires.is_empty() {
        web.finding(
            "no_lockfile",
            Severity::Info,
            Some(&mod_file),
            None,
            "go.mod requires modules but there is no go.sum, so `go build` refuses to start (missing go.sum entry); run `go mod tidy` and commit go.sum",
            None,
        );
    }

    // Databases from direct requirements (Godeps' for a tree without go.mod).
    let mod_file = if has_mod {
        mod_file
    } else {
        join(dir, "Godeps/Godeps.json")
    };
    let direct: BTreeMap<String, &gomod::Require> = gomod
        .direct()
        .map(|r| (strip_major(&r.path).to_ascii_lowercase(), r))
        .collect();
    for (db, module) in databases_from_deps(direct.keys().map(String::as_str), DB_DEPS) {
        if let Some(r) = direct.get(&module) {
            web.database(
                db,
                ev(
                    &mod_file,
                    Some(r.line),
                    format!("requires {} {}", r.path, r.version),
                ),
            );
        }
    }
    // Go's MySQL driver connects without TLS unless the DSN says `tls=`.
    if direct.contains_key("github.com/go-sql-driver/mysql") {
        web.drivers_without_tls.push(Database::Mysql);
    }
    let scram_vendored = |path: &str| {
        // What builds is the vendored copy, which may be newer than the pin
        // (go-qledger: Godeps.json names a 2016 lib/pq, vendor/ holds one
        // with its `scram` package).
        let folder = join(dir, &format!("vendor/{path}"));
        ctx.index()
            .files_under(&folder)
            .any(|f| f[folder.len()..].to_ascii_lowercase().contains("scram"))
    };
    if let Some((r, fixed_in)) = postgres_driver_without_scram(gomod.direct(), has_mod)
        .filter(|(r, _)| !scram_vendored(&r.path))
    {
        web.postgres_auth = Some(autodeploy_core::PostgresAuth::Md5);
        web.finding(
            "postgres_driver_without_scram",
            Severity::Warning,
            Some(&mod_file),
            Some(r.line),
            format!(
                "{} {} predates SCRAM-SHA-256, the password method PostgreSQL uses by default since version 14, and fails to log in (\"unknown authentication message\"): the local database gives this app an md5 password; a managed database must accept md5 (PostgreSQL parameter password_encryption=md5 before its user is created), or upgrade the driver to {fixed_in} or later",
                r.path,
                if r.version.is_empty() { "(vendored)" } else { r.version.as_str() },
            ),
            None,
        );
    }
    let declared: Vec<&Framework> = FRAMEWORKS
        .iter()
        .filter(|f| direct.contains_key(f.module))
        .collect();

    let env_tags = ENV_TAG_LIBS.iter().any(|l| direct.contains_key(*l));
    let tag_prefix = env_tags.then(|| scan::tag_prefix(ctx, sources)).flatten();

    // One pass over the sources.
    let apps: Vec<(&Framework, Regex)> = declared
        .iter()
        .map(|f| (*f, crate::scan::table_regex(f.app)))
        .collect();
    let mut facts = Facts::default();
    for &file in sources {
        let Some(text) = ctx.read_path(file) else {
            continue;
        };
        if BUILD_IGNORE.is_match(&text) {
            continue;
        }
        if PACKAGE_MAIN.is_match(&text) {
            if let Some(m) = FUNC_MAIN.find(&text) {
                facts
                    .mains
                    .entry(parent(file).to_string())
                    .or_insert((file.to_string(), line_of(&text, m.start())));
            }
        }
        for (fw, re) in &apps {
            if !facts.apps.contains_key(fw.name) {
                if let Some(m) = re.find(&text) {
                    facts
                        .apps
                        .insert(fw.name, (file.to_string(), line_of(&text, m.start())));
                }
            }
        }
        if facts.migrate_flag.is_none() {
            if let Some((flag, line)) = release::migrate_flag(&text) {
                facts.migrate_flag = Some((file.to_string(), line, flag));
            }
        }
        scan_listens(file, &text, &declared, &mut facts.listens);
        scan_env(&mut web, file, &text, env_tags, tag_prefix.as_deref());
        if text.contains("os.Environ()") {
            scan::settings_table(ctx, &mut web, parent(file), sources);
        }
        // It reads `.env` from its working folder (the service's), which git
        // ignores; a committed `.env.example` is what the README copies.
        if let Some(m) = DOTENV_REQUIRED.find(&text) {
            let line = line_of(&text, m.start());
            crate::examples::missing_import(ctx, &mut web, file, line, &[join(dir, ".env")]);
        }
        // Commented-out connection code (`//db, err := gorm.Open("postgres", …)`) is not a database.
        scan_databases(&mut web, file, &crate::wiring::mask_c_comments(&text));
        if web.health_path.is_none() {
            if let Some(c) = HEALTH_ROUTE.captures(&text) {
                let line = line_of(&text, c.get(0).map(|m| m.start()).unwrap_or(0));
                web.health_path = Some(c[1].to_string());
                web.note("health_path", ev(file, Some(line), line_text(&text, line)));
            }
        }
    }

    if facts.mains.is_empty() {
        // A library module: nothing to run.
        return Vec::new();
    }
    wiring::scan(ctx, &mut web, sources);
    let primary = pick_main(dir, &facts, gomod.short_name().as_deref());
    let others: Vec<&String> = facts.mains.keys().filter(|d| **d != primary).collect();
    let in_other_main = |f: &str| others.iter().any(|o| parent(f) == o.as_str());
    let listens: Vec<&Listen> = facts
        .listens
        .iter()
        .filter(|l| !in_other_main(&l.file))
        .collect();

    // Framework: declared with an app object in code, else declared, else the standard library.
    let fw = declared
        .iter()
        .filter(|f| facts.apps.contains_key(f.name))
        .max_by_key(|f| f.rank)
        .or_else(|| declared.iter().max_by_key(|f| f.rank))
        .copied();
    if let Some(fw) = fw {
        let r = direct[fw.module];
        web.set_framework(
            fw.name,
            ev(
                &mod_file,
                Some(r.line),
                format!("requires {} {}", r.path, r.version),
            ),
        );
        web.strength = if facts.apps.contains_key(fw.name) {
            10.0
        } else {
            7.0
        };
        web.port(
            fw.default_port,
            Trust::Default,
            ev(&mod_file, None, format!("default port of {}", fw.name)),
        );
    } else if let Some(l) = listens.iter().find(|l| l.stdlib) {
        web.set_framework(
            NET_HTTP,
            ev(
                &l.file,
                Some(l.line),
                "serves with the standard library net/http",
            ),
        );
        web.strength = 9.0;
        web.port(
            NET_HTTP_PORT,
            Trust::Default,
            ev(&mod_file, None, "conventional port of a net/http server"),
        );
    } else if !listens.is_empty() {
        web.strength = 8.0;
    } else {
        web.kind = ServiceKind::Worker;
        web.strength = 5.0;
        let (file, line) = &facts.mains[&primary];
        web.note(
            "kind",
            ev(file, Some(*line), "package main that never starts a server"),
        );
    }

    for l in &listens {
        apply_listen(ctx, &mut web, l);
    }

    // Build and start the chosen main package.
    let (main_file, main_line) = facts.mains[&primary].clone();
    let bin = binary_name(dir, &primary, gomod);
    set_build_start(&mut web, dir, &primary, &bin, &main_file, main_line);
    let mut drafts = vec![];

    // Background workers beside the web binary (cmd/worker …).
    if web.kind == ServiceKind::Web {
        for other in &others {
            let base = file_name(other);
            if !WORKER_DIRS.contains(&base) && !base.ends_with("-worker") {
                continue;
            }
            if facts
                .listens
                .iter()
                .any(|l| parent(&l.file) == other.as_str())
            {
                continue;
            }
            let (file, line) = facts.mains[other.as_str()].clone();
            let mut w = web.clone();
            w.kind = ServiceKind::Worker;
            w.framework = None;
            w.name = Some(base.to_string());
            w.strength = 5.0;
            w.ports.clear();
            w.starts.clear();
            w.builds.clear();
            w.health_path = None;
            w.findings.retain(|f| f.kind != "binds_localhost");
            for field in ["framework", "port", "health_path", "start", "build"] {
                w.evidence.remove(field);
            }
            w.note(
                "kind",
                ev(&file, Some(line), "package main that never starts a server"),
            );
            set_build_start(&mut w, dir, other, base, &file, line);
            drafts.push(w);
        }
    }
    // The binary's own migrate-and-exit flag is its release step (set
    // after the workers are cloned from the web draft: they release nothing).
    if let Some((file, line, flag)) = &facts.migrate_flag {
        let folder = parent(file);
        let another_main = folder != primary.as_str() && facts.mains.contains_key(folder);
        if web.kind == ServiceKind::Web
            && web.release.is_none()
            && !web.databases.is_empty()
            && !another_main
        {
            web.release = Some(format!("./bin/{bin} -{flag}"));
            web.note(
                "release",
                ev(
                    file,
                    Some(*line),
                    format!("the -{flag} flag migrates the schema and exits"),
                ),
            );
        }
    }
    drafts.insert(0, web);
    drafts
}

/// The `package main` folder to build as the service.
fn pick_main(dir: &str, facts: &Facts, module: Option<&str>) -> String {
    let rank = |d: &String| -> (u8, usize, String) {
        let rel = rel_to(dir, d);
        let base = file_name(&rel);
        let under_cmd = parent(&rel) == "cmd";
        let own_listen = facts.listens.iter().any(|l| parent(&l.file) == d.as_str());
        let worker = WORKER_DIRS.contains(&base);
        let r = if rel == "cmd/server" {
            0
        } else if under_cmd && Some(base) == module {
            1
        } else if under_cmd && WEB_MAIN_DIRS.contains(&base) {
            2
        } else if own_listen {
            3
        } else if rel.is_empty() {
            4
        } else if worker {
            7
        } else if under_cmd {
            5
        } else {
            6
        };
        (r, rel.matches('/').count(), rel)
    };
    facts
        .mains
        .keys()
        .min_by_key(|d| rank(d))
        .cloned()
        .unwrap_or_default()
}

fn rel_to(dir: &str, path: &str) -> String {
    if dir.is_empty() {
        path.to_string()
    } else if path == dir {
        String::new()
    } else {
        path.strip_prefix(dir)
            .map(|p| p.trim_start_matches('/').to_string())
            .unwrap_or_else(|| path.to_string())
    }
}

/// Binary name: the main folder's name, or the module's for a root main.
fn binary_name(dir: &str, main_dir: &str, gomod: &GoMod) -> String {
    let rel = rel_to(dir, main_dir);
    let name = if rel.is_empty() {
        gomod.short_name().unwrap_or_else(|| "app".into())
    } else {
        file_name(&rel).to_string()
    };
    let clean: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    if clean.is_empty() || clean.starts_with('.') {
        "app".into()
    } else {
        clean
    }
}

fn set_build_start(d: &mut Draft, dir: &str, main_dir: &str, bin: &str, file: &str, line: u32) {
    let rel = rel_to(dir, main_dir);
    let pkg = if rel.is_empty() {
        ".".to_string()
    } else {
        format!("./{rel}")
    };
    d.build(
        format!("go build -o bin/{bin} {pkg}"),
        Trust::Inferred,
        ev(file, Some(line), format!("inferred: package main in {pkg}")),
    );
    d.start(
        format!("./bin/{bin}"),
        Trust::Inferred,
        ev(
            file,
            Some(line),
            format!("inferred: the binary built from {pkg}"),
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::MemRepo;
    use autodeploy_core::Database;

    fn detect(files: &[(&str, &str)]) -> Vec<Draft> {
        let repo = MemRepo::new(files.iter().map(|(p, c)| (p.to_string(), c.to_string())));
        let ctx = Ctx::new(&repo);
        Go.detect(&ctx, "")
    }

    /// miniflux: `internal/config` parses `os.Environ()` against a table
    /// of options keyed by variable name; each key is an optional setting
    /// (RUN_MIGRATIONS, BASE_URL, DATABASE_URL…). A table in a package that
    /// does not read the whole environment is not settings.
    #[test]
    fn a_table_of_settings_parsed_from_the_environment_is_read() {
        let files = [
            ("go.mod", "module example.com/feeds\n\ngo 1.22\n"),
            ("main.go", "package main\nimport \"net/http\"\nfunc main() {\n\thttp.ListenAndServe(\":8080\", nil)\n}\n"),
            ("internal/config/parser.go", "package config\nimport \"os\"\nfunc Load() error {\n\treturn parseLines(os.Environ())\n}\n"),
            ("internal/config/options.go", "package config\nfunc defaults() map[string]*option {\n\treturn map[string]*option{\n\t\t\"RUN_MIGRATIONS\": {\n\t\t\trawValue: \"0\",\n\t\t},\n\t\t\"BASE_URL\": {\n\t\t\trawValue: \"http://localhost\",\n\t\t},\n\t}\n}\n"),
            ("internal/other/codes.go", "package other\nvar codes = map[string]*x{\n\t\"NOT_A_SETTING\": {},\n}\n"),
        ];
        let d = detect(&files);
        let env: Vec<(&str, bool)> = d[0]
            .env
            .iter()
            .map(|e| (e.name.as_str(), e.required))
            .collect();
        assert!(env.contains(&("RUN_MIGRATIONS", false)), "{env:?}");
        assert!(env.contains(&("BASE_URL", false)), "{env:?}");
        assert!(!env.iter().any(|(n, _)| *n == "NOT_A_SETTING"), "{env:?}");
    }

    /// miniflux: a `-migrate` flag in a library package that migrates and
    /// returns is the web binary's release step; a worker beside it
    /// releases nothing, and an app without a database has no schema.
    #[test]
    fn a_migrate_and_exit_flag_is_the_release_step() {
        let gomod = "module example.com/feeds\n\ngo 1.22\n\nrequire github.com/lib/pq v1.10.9\n";
        let cli = "package cli\n\nimport \"flag\"\n\nfunc Parse() {\n\tvar flagMigrate bool\n\tflag.BoolVar(&flagMigrate, \"migrate\", false, \"Run SQL migrations\")\n\tflag.Parse()\n\tif flagMigrate {\n\t\tmigrate()\n\t\treturn\n\t}\n\thttp.ListenAndServe(\":8080\", nil)\n}\n";
        let main = "package main\n\nimport \"example.com/feeds/internal/cli\"\n\nfunc main() {\n\tcli.Parse()\n}\n";
        let worker = "package main\n\nfunc main() {\n\tfor {}\n}\n";
        let files = [
            ("go.mod", gomod),
            ("main.go", main),
            ("internal/cli/cli.go", cli),
            ("cmd/worker/main.go", worker),
        ];
        let d = detect(&files);
        assert_eq!(d[0].release.as_deref(), Some("./bin/feeds -migrate"));
        assert_eq!(d[0].evidence["release"][0].file, "internal/cli/cli.go");
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!(d[1].release, None);
        let without_db = gomod.replace("require github.com/lib/pq v1.10.9\n", "");
        let files = [
            ("go.mod", without_db.as_str()),
            ("main.go", main),
            ("internal/cli/cli.go", cli),
        ];
        assert_eq!(detect(&files)[0].release, None);
    }

    /// shiori: go-envconfig reads every tag through
    /// `PrefixLookuper("SHIORI_", …)`, so `env:"DATABASE_URL"` is
    /// `SHIORI_DATABASE_URL`; a `,default=` option is a default, and a key
    /// the code hands its own map lookuper (`HOSTNAME`) is given.
    #[test]
    fn struct_tags_read_through_a_prefix_lookuper_carry_the_prefix() {
        let gomod = "module example.com/marks\n\ngo 1.22\n\nrequire github.com/sethvargo/go-envconfig v1.3.0\n";
        let config = "package config\n\ntype Config struct {\n\tHostname string `env:\"HOSTNAME,required\"`\n\tPort int `env:\"HTTP_PORT,default=8080\"`\n\tURL string `env:\"DATABASE_URL\"`\n\tKey string `env:\"SECRET,required\"`\n}\n\nfunc Parse() {\n\tl := envconfig.MultiLookuper(\n\t\tenvconfig.MapLookuper(map[string]string{\"HOSTNAME\": os.Getenv(\"HOSTNAME\")}),\n\t\tenvconfig.PrefixLookuper(\"MARKS_\", envconfig.OsLookuper()),\n\t)\n\t_ = l\n}\n";
        let main = "package main\n\nimport \"net/http\"\n\nfunc main() {\n\thttp.ListenAndServe(\":8080\", nil)\n}\n";
        let d = detect(&[
            ("go.mod", gomod),
            ("main.go", main),
            ("internal/config/config.go", config),
        ]);
        let env: Vec<(&str, bool)> = d[0]
            .env
            .iter()
            .map(|e| (e.name.as_str(), e.required))
            .collect();
        for want in [
            ("MARKS_DATABASE_URL", false),
            ("MARKS_HTTP_PORT", false),
            ("MARKS_HOSTNAME", false),
            ("MARKS_SECRET", true),
        ] {
            assert!(env.contains(&want), "{want:?}: {env:?}");
        }
        assert!(!env.iter().any(|(n, _)| *n == "DATABASE_URL"), "{env:?}");
    }

    /// A Godeps tree (no go.mod) builds in GOPATH mode under its import
    /// path, its Procfile's bare binary name runs from where the build
    /// leaves it, and its pinned drivers say which database it uses.
    #[test]
    fn a_godeps_tree_builds_in_gopath_mode_and_reads_its_pins() {
        let files = [
            ("Godeps/Godeps.json", "{\"ImportPath\": \"github.com/acme/Ledger\", \"Deps\": [{\"ImportPath\": \"github.com/lib/pq\", \"Rev\": \"abc\"}]}"),
            ("main.go", "package main\nimport (\n\t\"database/sql\"\n\t\"net/http\"\n\t\"os\"\n\t_ \"github.com/lib/pq\"\n)\nfunc main() {\n\tsql.Open(\"postgres\", os.Getenv(\"DATABASE_URL\"))\n\thttp.ListenAndServe(\":\"+os.Getenv(\"PORT\"), nil)\n}\n"),
        ];
        let d = detect(&files);
        let build = &d[0].builds[0].value;
        assert!(build.contains("GO111MODULE=off"), "{build}");
        assert!(
            build.contains("\"$GOPATH/src/github.com/acme/Ledger\""),
            "{build}"
        );
        assert!(build.contains("go build -o bin/Ledger .; else go mod init github.com/acme/Ledger && go mod tidy && go build -o bin/Ledger .; fi"), "{build}");
        assert!(
            d[0].databases
                .iter()
                .any(|(db, _)| *db == Database::Postgresql),
            "{:?}",
            d[0].databases
        );
    }

    /// A PostgreSQL driver from before SCRAM-SHA-256 (a Godeps pin, an old
    /// release, a 2018 pseudo-version, pgx.v2) gets an md5 password; a
    /// driver that has SCRAM gets the server's default.
    #[test]
    fn a_postgres_driver_from_before_scram_asks_for_an_md5_password() {
        let main = "package main\nimport (\n\t\"database/sql\"\n\t\"net/http\"\n\t\"os\"\n\t_ \"github.com/lib/pq\"\n)\nfunc main() {\n\tsql.Open(\"postgres\", os.Getenv(\"DATABASE_URL\"))\n\thttp.ListenAndServe(\":8080\", nil)\n}\n";
        let auth = |files: &[(&str, &str)]| {
            let d = detect(files);
            let found = d[0]
                .findings
                .iter()
                .any(|f| f.kind == "postgres_driver_without_scram");
            assert_eq!(found, d[0].postgres_auth.is_some(), "{:?}", d[0].findings);
            d[0].postgres_auth
        };
        let module = |req: &str| format!("module x\n\ngo 1.19\n\nrequire {req}\n");
        let md5 = Some(autodeploy_core::PostgresAuth::Md5);
        let godeps = "{\"ImportPath\": \"github.com/acme/shop\", \"Deps\": [{\"ImportPath\": \"github.com/lib/pq\", \"Comment\": \"go1.0-cutoff-174-g8df6253\", \"Rev\": \"8df6253\"}]}";
        assert_eq!(
            auth(&[("Godeps/Godeps.json", godeps), ("main.go", main)]),
            md5
        );
        // The vendored copy that builds is newer than the pin and has SCRAM.
        let scram = "package scram\n";
        assert_eq!(
            auth(&[
                ("Godeps/Godeps.json", godeps),
                ("vendor/github.com/lib/pq/conn.go", "package pq\n"),
                ("vendor/github.com/lib/pq/scram/scram.go", scram),
                ("main.go", main)
            ]),
            None
        );
        for (req, want) in [
            ("github.com/lib/pq v1.0.0", md5),
            ("github.com/lib/pq v1.1.0", None),
            ("github.com/lib/pq v1.10.9", None),
            ("github.com/lib/pq v0.0.0-20180523175426-90697d60dd84", md5),
            ("github.com/lib/pq v0.0.0-20200523175426-90697d60dd84", None),
            ("github.com/jackc/pgx v3.2.0+incompatible", md5),
            ("github.com/jackc/pgx v3.6.2+incompatible", None),
            ("github.com/jackc/pgx/v5 v5.5.0", None),
            (
                "gopkg.in/jackc/pgx.v2 v2.0.0-20170101000000-abcdefabcdef",
                md5,
            ),
        ] {
            let text = module(req);
            assert_eq!(
                auth(&[("go.mod", &text), ("go.sum", ""), ("main.go", main)]),
                want,
                "{req}"
            );
        }
    }

    /// `godotenv.Load()` whose error is fatal needs `.env`: made from the
    /// committed `.env.example`. A load whose error is ignored needs nothing.
    #[test]
    fn a_fatal_dotenv_load_gets_its_file_from_the_example() {
        let fatal = "package main\nimport (\n\t\"log\"\n\t\"net/http\"\n\t\"github.com/joho/godotenv\"\n)\nfunc main() {\n\terr := godotenv.Load()\n\tif err != nil {\n\t\tlog.Fatal(\"Error loading .env file\")\n\t}\n\thttp.ListenAndServe(\":8080\", nil)\n}\n";
        let files = |main: &'static str| {
            vec![
                ("go.mod", "module x\n\ngo 1.19\n"),
                ("main.go", main),
                (".env.example", "APP_NAME=x\n"),
            ]
        };
        let d = detect(&files(fatal));
        let made: Vec<_> = d[0]
            .findings
            .iter()
            .filter_map(|f| f.from_example.as_ref())
            .map(|x| (x.file.as_str(), x.example.as_str()))
            .collect();
        assert_eq!(made, vec![(".env", ".env.example")]);
        let ignored = "package main\nimport (\n\t\"net/http\"\n\t\"github.com/joho/godotenv\"\n)\nfunc main() {\n\t_ = godotenv.Load()\n\thttp.ListenAndServe(\":8080\", nil)\n}\n";
        let d = detect(&files(ignored));
        assert!(d[0].findings.iter().all(|f| f.from_example.is_none()));
    }

    #[test]
    fn a_vendored_module_downloads_nothing() {
        let main = "package main\nimport \"net/http\"\nfunc main() { http.ListenAndServe(\":8080\", nil) }\n";
        let d = detect(&[
            ("go.mod", "module x\n\ngo 1.19\n"),
            ("main.go", main),
            ("vendor/modules.txt", "# github.com/lib/pq v1.10.9\n"),
        ]);
        assert_eq!(d[0].install, None);
        let d = detect(&[("go.mod", "module x\n\ngo 1.19\n"), ("main.go", main)]);
        assert_eq!(d[0].install.as_deref(), Some("go mod download"));
    }

    #[test]
    fn indirect_requirements_do_not_count() {
        let d = detect(&[
            (
                "go.mod",
                "module x\n\ngo 1.22\n\nrequire (\n\tgithub.com/go-redis/redis/v8 v8.11.5 // indirect\n\tgithub.com/labstack/echo/v4 v4.11.4 // indirect\n)\n",
            ),
            ("go.sum", ""),
            (
                "main.go",
                "package main\n\nimport \"net/http\"\n\nfunc main() {\n\thttp.ListenAndServe(\":9000\", nil)\n}\n",
            ),
        ]);
        assert_eq!(d.len(), 1);
        assert!(d[0].databases.is_empty());
        assert_eq!(d[0].framework.as_deref(), Some(NET_HTTP));
        assert!(d[0]
            .ports
            .iter()
            .any(|c| c.value == 9000 && c.trust == Trust::Code));
    }

    #[test]
    fn library_module_is_not_a_service() {
        let d = detect(&[
            ("go.mod", "module github.com/acme/lib\n\ngo 1.21\n\nrequire github.com/gin-gonic/gin v1.9.1\n"),
            ("lib.go", "package lib\n\nfunc X() {}\n"),
        ]);
        assert!(d.is_empty());
    }

    #[test]
    fn main_that_never_listens_is_a_worker() {
        let d = detect(&[
            ("go.mod", "module github.com/acme/poller\n\ngo 1.21\n"),
            (
                "main.go",
                "package main\n\nimport (\"os\"; \"time\")\n\nfunc main() {\n\ttoken := os.Getenv(\"QUEUE_TOKEN\")\n\tfor range time.Tick(time.Second) { _ = token }\n}\n",
            ),
        ]);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].kind, ServiceKind::Worker);
        assert_eq!(d[0].starts[0].value, "./bin/poller");
        assert!(d[0]
            .env
            .iter()
            .any(|e| e.name == "QUEUE_TOKEN" && e.required));
    }

    #[test]
    fn redis_options_addr_is_not_a_listen_address() {
        let d = detect(&[
            ("go.mod", "module m\n\ngo 1.22\n\nrequire github.com/redis/go-redis/v9 v9.5.1\n"),
            ("go.sum", ""),
            (
                "main.go",
                "package main\n\nfunc main() {\n\trdb := redis.NewClient(&redis.Options{Addr: \"localhost:6379\"})\n\tsrv := &http.Server{Addr: \":8000\"}\n\tsrv.ListenAndServe()\n\t_ = rdb\n}\n",
            ),
        ]);
        assert_eq!(
            d[0].databases.keys().copied().collect::<Vec<_>>(),
            vec![Database::Redis]
        );
        let code: Vec<u16> = d[0]
            .ports
            .iter()
            .filter(|c| c.trust == Trust::Code)
            .map(|c| c.value)
            .collect();
        assert_eq!(code, vec![8000]);
        assert!(d[0].findings.iter().all(|f| f.kind != "binds_localhost"));
    }

    #[test]
    fn env_defaults() {
        let d = detect(&[
            ("go.mod", "module m\n\ngo 1.22\n\nrequire github.com/caarlos0/env/v10 v10.0.0\n"),
            (
                "main.go",
                "package main\n\nfunc main() {\n\tif os.Getenv(\"DEBUG\") != \"\" {}\n\tlevel := cmp.Or(os.Getenv(\"LOG_LEVEL\"), \"info\")\n\tdsn := mustEnv(\"DSN\")\n\tregion := envOr(\"REGION\", \"eu\")\n\ttype C struct {\n\t\tKey string `env:\"API_KEY,required\"`\n\t\tTTL int `env:\"TTL\" envDefault:\"30\"`\n\t}\n\thttp.ListenAndServe(\":80\", nil)\n}\n",
            ),
        ]);
        let req: BTreeMap<&str, bool> = d[0]
            .env
            .iter()
            .map(|e| (e.name.as_str(), e.required))
            .collect();
        assert!(!req["DEBUG"]);
        assert!(!req["LOG_LEVEL"]);
        assert!(req["DSN"]);
        assert!(!req["REGION"]);
        assert!(req["API_KEY"]);
        assert!(!req["TTL"]);
    }

    /// go-qledger: `hostPrefix := os.Getenv("HOST_PREFIX")` prefixes every
    /// route; empty is "no prefix", so the example file's `/qledger` must
    /// not be required (and so never filled in), which moved `/v1/accounts`.
    #[test]
    fn a_bare_route_prefix_is_optional_even_with_an_example() {
        let d = detect(&[
            ("go.mod", "module m\n\ngo 1.22\n"),
            ("example.env", "export HOST_PREFIX=/qledger\nexport API_KEY=abc\n"),
            (
                "main.go",
                "package main\n\nfunc main() {\n\tp := os.Getenv(\"HOST_PREFIX\")\n\tk := os.Getenv(\"API_KEY\")\n\thttp.HandleFunc(p+\"/ping\", nil)\n\thttp.ListenAndServe(\":80\", nil)\n}\n",
            ),
        ]);
        let req: BTreeMap<&str, bool> = d[0]
            .env
            .iter()
            .map(|e| (e.name.as_str(), e.required))
            .collect();
        assert!(!req["HOST_PREFIX"]);
        assert!(req["API_KEY"]);
    }

    #[test]
    fn main_package_preference() {
        let d = detect(&[
            ("go.mod", "module github.com/acme/shop\n\ngo 1.22\n"),
            ("cmd/tool/main.go", "package main\n\nfunc main() {}\n"),
            (
                "cmd/shop/main.go",
                "package main\n\nfunc main() {\n\thttp.ListenAndServe(\":8080\", nil)\n}\n",
            ),
        ]);
        assert_eq!(d[0].builds[0].value, "go build -o bin/shop ./cmd/shop");
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_fragments(src in r#"(package main\n|func main\(\) \{|http\.ListenAndServe\(|http\.Server\{Addr: |r\.Run\(|":"|\+|port|:=| = |os\.Getenv\("PORT"\)|if port == "" \{|\}|\(|\)|fmt\.Sprintf\(|, |"127\.0\.0\.1:|8080|\n|é|`|\*|&|flag\.String\(){0,50}"#) {
            let _ = detect(&[
                ("go.mod", "module m\n\nrequire github.com/gin-gonic/gin v1.9.1\n"),
                ("main.go", src.as_str()),
            ]);
        }
    }
}

#[cfg(test)]
mod health_tests {
    use super::HEALTH_ROUTE;

    fn path(line: &str) -> Option<String> {
        HEALTH_ROUTE.captures(line).map(|c| c[1].to_string())
    }

    #[test]
    fn health_routes_of_the_common_routers() {
        assert_eq!(
            path(r#"r.GET("/healthz", ok)"#).as_deref(),
            Some("/healthz")
        );
        assert_eq!(
            path(r#"mux.HandleFunc("GET /api/v1/health", ok)"#).as_deref(),
            Some("/api/v1/health")
        );
        // httprouter: the method first, a prefix from the environment.
        assert_eq!(
            path(r#"router.HandlerFunc(http.MethodGet, hostPrefix+"/ping", controllers.Ping)"#)
                .as_deref(),
            Some("/ping")
        );
        assert_eq!(
            path(r#"router.Handler("GET", "/api/healthchecker", h)"#).as_deref(),
            Some("/api/healthchecker")
        );
        assert_eq!(path(r#"r.GET("/users", list)"#), None);
        assert_eq!(
            path(r#"router.HandlerFunc(http.MethodPost, "/ping", p)"#),
            None
        );
    }
}
