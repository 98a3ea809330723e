//! C# / .NET: SDK-style projects (`*.csproj`) — ASP.NET Core web apps,
//! Blazor WebAssembly sites, worker services and console apps. Each project
//! folder is its own candidate (a solution's projects are found one by one);
//! test projects, libraries, desktop apps and Aspire app hosts are not services.
//!
//! The project kind comes from [`classify`] (SDK, output type, test
//! packages); databases from [`DB_PACKAGES`] (this project's packages and
//! those of the projects it references — the app's own code), connection
//! strings and EF Core calls. Port, in order of trust: `appsettings*.json`
//! Kestrel endpoints / `Urls`, a Dockerfile's `ASPNETCORE_HTTP_PORTS` /
//! `ASPNETCORE_URLS`, the development launch profile (noted as such), URLs in
//! code (`app.Run("http://…")`, `UseUrls`, `Listen*`), then the runtime
//! default (8080 from .NET 8, 5000 before). The start command sets
//! `ASPNETCORE_URLS` so the published app listens on all interfaces.
//!
//! Deliberately not here: NuGet lock files (package versions in a project
//! file are exact minimums that restore resolves deterministically, and lock
//! files are opt-in, so their absence is not reported); Procfile/Dockerfile
//! CMD/.env (the `config/` overlays).

mod project;
mod settings;
mod wiring;

use crate::ctx::Ctx;
use crate::detectors::Detector;
use crate::draft::{ev, Draft, Trust, PORT};
use crate::repo::{file_name, join};
use crate::scan::line_text;
use autodeploy_core::{Database, Language, ServiceKind, Severity, SourceFix};
use project::Project;
use regex::Regex;
use serde_json::Value;
use std::sync::LazyLock;

pub struct Dotnet;

impl Detector for Dotnet {
    fn name(&self) -> &'static str {
        "dotnet"
    }
    fn markers(&self) -> &'static [&'static str] {
        &["*.csproj"]
    }
    fn detect(&self, ctx: &Ctx, dir: &str) -> Vec<Draft> {
        detect(ctx, dir)
    }
}

/// What a project builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// ASP.NET Core app.
    Web,
    /// Blazor WebAssembly: static files after publish.
    StaticSite,
    /// Worker service or console app.
    Worker,
    /// Tests, libraries, desktop apps, Aspire hosts: not deployed.
    NotAService,
}

/// Packages that make a project a test project.
const TEST_PACKAGES: &[&str] = &[
    "Microsoft.NET.Test.Sdk",
    "xunit",
    "xunit.v3",
    "xunit.core",
    "NUnit",
    "MSTest.TestFramework",
    "MSTest",
    "TUnit",
];

/// Declared package → database or cache.
const DB_PACKAGES: &[(&str, Database)] = &[
    ("Npgsql", Database::Postgresql),
    (
        "Npgsql.EntityFrameworkCore.PostgreSQL",
        Database::Postgresql,
    ),
    ("Aspire.Npgsql", Database::Postgresql),
    (
        "Aspire.Npgsql.EntityFrameworkCore.PostgreSQL",
        Database::Postgresql,
    ),
    ("Marten", Database::Postgresql),
    ("Pomelo.EntityFrameworkCore.MySql", Database::Mysql),
    ("MySqlConnector", Database::Mysql),
    ("MySql.Data", Database::Mysql),
    ("MySql.EntityFrameworkCore", Database::Mysql),
    ("Aspire.Pomelo.EntityFrameworkCore.MySql", Database::Mysql),
    ("MongoDB.Driver", Database::Mongodb),
    ("MongoDB.EntityFrameworkCore", Database::Mongodb),
    ("Aspire.MongoDB.Driver", Database::Mongodb),
    ("StackExchange.Redis", Database::Redis),
    (
        "Microsoft.Extensions.Caching.StackExchangeRedis",
        Database::Redis,
    ),
    ("Aspire.StackExchange.Redis", Database::Redis),
    (
        "Aspire.StackExchange.Redis.DistributedCaching",
        Database::Redis,
    ),
    ("Microsoft.EntityFrameworkCore.Sqlite", Database::Sqlite),
    ("Microsoft.Data.Sqlite", Database::Sqlite),
    ("System.Data.SQLite", Database::Sqlite),
];

/// EF Core / client calls in code → database.
const DB_CALLS: &[(&str, Database)] = &[
    ("UseNpgsql", Database::Postgresql),
    ("UseMySql", Database::Mysql),
    ("UseMySQL", Database::Mysql),
    ("UseSqlite", Database::Sqlite),
    ("UseMongoDB", Database::Mongodb),
    ("AddStackExchangeRedisCache", Database::Redis),
    ("ConnectionMultiplexer.Connect", Database::Redis),
];

static GET_ENV: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r#"\bEnvironment\.GetEnvironmentVariable\s*\(\s*"([^"]+)"\s*\)(\s*\?\?)?"#,
    )
    .expect("regex")
});
static CONFIG_INDEX: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"\b\w*[Cc]onfig(?:uration)?\s*\[\s*"([^"]+)"\s*\](\s*\?\?)?"#)
        .expect("regex")
});
static GET_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"\.GetValue\s*<[^>]+>\s*\(\s*"([^"]+)"\s*(,)?"#).expect("regex")
});
static CONN_STRING: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"\.GetConnectionString\s*\(\s*"([^"]+)"\s*\)(\s*\?\?)?"#)
        .expect("regex")
});
static URL_IN_CODE: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"\b(?:Run|RunAsync|UseUrls|Urls\.Add)\s*\(\s*"(https?://[^"]+)""#)
        .expect("regex")
});
static LISTEN: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r"\b(ListenLocalhost|ListenAnyIP|Listen)\s*\(\s*(IPAddress\.(?:Loopback|IPv6Loopback|Any|IPv6Any)\s*,\s*)?(\d{2,5})\b")
        .expect("regex")
});
static APP_OBJECT: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r"\bWebApplication\.Create(?:Slim|Empty)?Builder\s*\(|\bWebApplication\.Create\s*\(|\bWebHost\.CreateDefaultBuilder\s*\(|\.ConfigureWebHostDefaults\s*\(|\bUseStartup\s*<")
        .expect("regex")
});
static HEALTH: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"\bMapHealthChecks\s*\(\s*"(/[^"]*)"|\bMapGet\s*\(\s*"(/(?:healthz?|health[-_]check|ping|status|alive|ready|api/health))""#)
        .expect("regex")
});
static DOCKER_ASPNET_PORT: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"(?m)^[ \t]*ENV[ \t].*\bASPNETCORE_(HTTP_PORTS|URLS)[= ]["']?(?:https?://[^:/\s"']+:)?(\d{2,5})"#)
        .expect("regex")
});

fn detect(ctx: &Ctx, dir: &str) -> Vec<Draft> {
    let mut projects: Vec<(Kind, Project)> = ctx
        .index()
        .names_in(dir)
        .filter(|n| n.ends_with(".csproj"))
        .filter_map(|n| project::read(ctx, &join(dir, n)))
        .map(|p| (classify(&p), p))
        .collect();
    projects.sort_by_key(|(k, p)| (*k, p.path.clone()));
    let ambiguous = ctx
        .index()
        .names_in(dir)
        .filter(|n| {
            n.ends_with(".csproj")
                || n.ends_with(".sln")
                || n.ends_with(".slnx")
                || n.ends_with(".fsproj")
        })
        .count()
        > 1;
    let Some((kind, p)) = projects.into_iter().next() else {
        return Vec::new();
    };
    if kind == Kind::NotAService || (kind == Kind::StaticSite && hosted_by_server(ctx, &p.path)) {
        return Vec::new();
    }
    vec![draft(ctx, dir, &p, kind, ambiguous)]
}

/// A Blazor WebAssembly client that an ASP.NET Core project references is
/// served by that project (hosted model), not deployed on its own.
fn hosted_by_server(ctx: &Ctx, path: &str) -> bool {
    ctx.index()
        .files()
        .iter()
        .filter(|f| f.ends_with(".csproj") && f.as_str() != path)
        .take(200)
        .filter_map(|f| project::read(ctx, f))
        .any(|other| other.project_refs.iter().any(|r| r == path) && classify(&other) == Kind::Web)
}

/// What a project is, from its SDK, output type and packages.
fn classify(p: &Project) -> Kind {
    let is_test = p.flag("IsTestProject")
        || p.has_sdk("MSTest.Sdk")
        || TEST_PACKAGES.iter().any(|t| p.package(t).is_some());
    let desktop = p.flag("UseWPF") || p.flag("UseWindowsForms") || p.flag("UseMaui");
    let aspire_host = p.flag("IsAspireHost")
        || p.has_sdk("Aspire.AppHost.Sdk")
        || p.package("Aspire.Hosting.AppHost").is_some();
    let library = p
        .output_type
        .as_deref()
        .is_some_and(|o| o.eq_ignore_ascii_case("library"));
    let exe = p
        .output_type
        .as_deref()
        .is_some_and(|o| o.eq_ignore_ascii_case("exe") || o.eq_ignore_ascii_case("winexe"));
    if is_test || desktop || aspire_host || p.invalid || p.has_sdk("Microsoft.NET.Sdk.Razor") {
        return Kind::NotAService;
    }
    if p.has_sdk("Microsoft.NET.Sdk.BlazorWebAssembly") {
        return Kind::StaticSite;
    }
    if p.has_sdk("Microsoft.NET.Sdk.Web")
        || (exe
            && p.framework_refs
                .iter()
                .any(|f| f == "Microsoft.AspNetCore.App"))
    {
        return if library {
            Kind::NotAService
        } else {
            Kind::Web
        };
    }
    if p.has_sdk("Microsoft.NET.Sdk.Worker") || exe {
        return Kind::Worker;
    }
    Kind::NotAService
}

fn draft(ctx: &Ctx, dir: &str, p: &Project, kind: Kind, ambiguous: bool) -> Draft {
    let svc_kind = match kind {
        Kind::Web => ServiceKind::Web,
        Kind::StaticSite => ServiceKind::Static,
        _ => ServiceKind::Worker,
    };
    let mut d = Draft::new(dir, Language::Csharp, svc_kind);
    d.has_manifest = true;
    d.manifest_name = Some(p.assembly());
    d.package_manager = Some("nuget".into());
    d.note("language", ev(&p.path, None, "SDK-style C# project"));
    let proj_arg = if ambiguous {
        format!(" {}", file_name(&p.path))
    } else {
        String::new()
    };
    d.install = Some(format!("dotnet restore{proj_arg}"));

    let runtime = p.target.as_ref().and_then(|(t, f, l)| {
        let r = project::runtime_of(t)?;
        d.note(
            "runtime_version",
            ev(f, Some(*l), format!("TargetFramework {t}")),
        );
        Some(r)
    });
    d.runtime_version = runtime.clone();
    if p.legacy || (runtime.is_none() && p.target.is_some()) {
        let target = p
            .target
            .as_ref()
            .map(|t| t.0.clone())
            .unwrap_or_else(|| "v4.x".into());
        d.finding(
            "dotnet_framework",
            Severity::Warning,
            Some(&p.path),
            None,
            format!("{} targets .NET Framework ({target}), which runs only on Windows/IIS; port it to .NET 8 (`<TargetFramework>net8.0</TargetFramework>`) to deploy it on Linux", p.path),
            None,
        );
    }

    let out = "out";
    d.build(
        format!("dotnet publish{proj_arg} -c Release -o {out}"),
        Trust::Inferred,
        ev(&p.path, None, "inferred: dotnet publish"),
    );
    let dll = format!("{out}/{}.dll", p.assembly());
    match kind {
        Kind::Web => {
            d.strength = 7.0;
            let sdk_note = if p.has_sdk("Microsoft.NET.Sdk.Web") {
                "Sdk=\"Microsoft.NET.Sdk.Web\""
            } else {
                "FrameworkReference Microsoft.AspNetCore.App"
            };
            d.set_framework("aspnet-core", ev(&p.path, Some(1), sdk_note));
            d.start(
                format!("ASPNETCORE_URLS=http://0.0.0.0:{PORT} dotnet {dll}"),
                Trust::Inferred,
                ev(
                    &p.path,
                    None,
                    format!("inferred: published assembly {}.dll", p.assembly()),
                ),
            );
        }
        Kind::StaticSite => {
            d.strength = 7.0;
            d.set_framework(
                "blazor-wasm",
                ev(
                    &p.path,
                    Some(1),
                    "Sdk=\"Microsoft.NET.Sdk.BlazorWebAssembly\"",
                ),
            );
            d.static_dir = Some(format!("{out}/wwwroot"));
        }
        _ => {
            d.strength = 6.0;
            let note = if p.has_sdk("Microsoft.NET.Sdk.Worker") {
                "Sdk=\"Microsoft.NET.Sdk.Worker\""
            } else {
                "console app (OutputType Exe)"
            };
            d.note("kind", ev(&p.path, Some(1), note));
            d.start(
                format!("dotnet {dll}"),
                Trust::Inferred,
                ev(
                    &p.path,
                    None,
                    format!("inferred: published assembly {}.dll", p.assembly()),
                ),
            );
        }
    }

    // Databases from this project's packages and the projects it references.
    for (db, path, line, pkg) in package_databases(ctx, p) {
        d.database(db, ev(&path, Some(line), format!("PackageReference {pkg}")));
    }

    // Settings files.
    let appsettings = read_settings(ctx, dir);
    for (file, text) in &appsettings {
        for (name, value, line) in settings::connection_strings(text) {
            if let Some(db) = settings::database_of_connection_string(&name, &value) {
                d.database(
                    db,
                    ev(file, Some(line), format!("ConnectionStrings:{name}")),
                );
            }
        }
    }
    let docs: Vec<Value> = appsettings
        .iter()
        .filter_map(|(_, t)| settings::parse_jsonc(t))
        .collect();

    // One pass over the code.
    let sources: Vec<&str> = ctx
        .sources(dir, &[".cs"])
        .into_iter()
        .filter(|f| {
            let r = rel(dir, f);
            !r.starts_with("bin/") && !r.contains("/bin/")
        })
        .collect();
    let mut code_ports: Vec<(u16, String, u32, String)> = Vec::new();
    let mut app_found = false;
    for &file in &sources {
        let Some(text) = ctx.read_path(file) else {
            continue;
        };
        if !app_found {
            if let Some((line, _)) = first_code_match(&text, &APP_OBJECT) {
                app_found = true;
                d.note("framework", ev(file, Some(line), line_text(&text, line)));
            }
        }
        scan_env(&mut d, file, &text, &docs);
        for (call, db) in DB_CALLS {
            if let Some(line) = crate::scan::find_line(&text, &format!("{call}(")) {
                d.database(*db, ev(file, Some(line), format!("{call}(…)")));
            }
        }
        if kind == Kind::Web {
            scan_listen(&mut d, file, &text, &mut code_ports);
            if d.health_path.is_none() {
                if let Some((line, c)) = first_code_match(&text, &HEALTH) {
                    let path = c.get(1).or(c.get(2)).map(|m| m.as_str()).unwrap_or("/");
                    d.health_path = Some(path.to_string());
                    d.note("health_path", ev(file, Some(line), line_text(&text, line)));
                }
            }
        }
    }
    if kind == Kind::Web {
        if app_found {
            d.strength = 10.0;
        }
        web_ports(ctx, p, &appsettings, runtime.as_deref(), code_ports, &mut d);
    }
    let code: Vec<(&str, std::sync::Arc<str>)> = sources
        .iter()
        .filter_map(|f| ctx.read_path(f).map(|t| (*f, t)))
        .collect();
    wiring::scan(&mut d, &appsettings, &code);
    d
}

/// Databases named by the packages of `p` and of the projects it references (transitively).
fn package_databases(ctx: &Ctx, p: &Project) -> Vec<(Database, String, u32, String)> {
    let mut out = Vec::new();
    let mut todo = vec![p.clone()];
    let mut seen = vec![p.path.clone()];
    while let Some(cur) = todo.pop() {
        for pkg in &cur.packages {
            if let Some((_, db)) = DB_PACKAGES
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(&pkg.name))
            {
                out.push((*db, cur.path.clone(), pkg.line, pkg.name.clone()));
            }
        }
        for r in &cur.project_refs {
            if seen.contains(r) || seen.len() > 32 {
                continue;
            }
            seen.push(r.clone());
            if let Some(next) = project::read(ctx, r) {
                todo.push(next);
            }
        }
    }
    out
}

/// `appsettings.Production.json` then `appsettings.json`: (path, text).
fn read_settings(ctx: &Ctx, dir: &str) -> Vec<(String, std::sync::Arc<str>)> {
    ["appsettings.Production.json", "appsettings.json"]
        .iter()
        .filter_map(|n| ctx.read(dir, n).map(|t| (join(dir, n), t)))
        .collect()
}

fn rel<'a>(dir: &str, file: &'a str) -> &'a str {
    if dir.is_empty() {
        file
    } else {
        file.strip_prefix(dir)
            .map(|f| f.trim_start_matches('/'))
            .unwrap_or(file)
    }
}

/// `A:B` configuration key → the environment variable that sets it (`A__B`).
fn env_name_of_key(key: &str) -> String {
    key.replace(':', "__")
}

fn scan_env(d: &mut Draft, file: &str, text: &str, docs: &[Value]) {
    let in_settings = |key: &str| docs.iter().any(|doc| settings::has_value(doc, key));
    each_code_match(text, &GET_ENV, |line, c| {
        d.env_var(&c[1], c.get(2).is_some(), file, line)
    });
    each_code_match(text, &CONFIG_INDEX, |line, c| {
        let key = &c[1];
        d.env_var(
            &env_name_of_key(key),
            c.get(2).is_some() || in_settings(key),
            file,
            line,
        )
    });
    each_code_match(text, &GET_VALUE, |line, c| {
        let key = &c[1];
        d.env_var(
            &env_name_of_key(key),
            c.get(2).is_some() || in_settings(key),
            file,
            line,
        )
    });
    each_code_match(text, &CONN_STRING, |line, c| {
        let key = format!("ConnectionStrings:{}", &c[1]);
        d.env_var(
            &env_name_of_key(&key),
            c.get(2).is_some() || in_settings(&key),
            file,
            line,
        )
    });
}

/// URLs and `Listen*` calls in code: ports, and loopback binds with a fix.
fn scan_listen(d: &mut Draft, file: &str, text: &str, ports: &mut Vec<(u16, String, u32, String)>) {
    each_code_match(text, &URL_IN_CODE, |line, c| {
        let url = &c[1];
        for u in url.split(';') {
            let (host, port) = settings::host_port(u);
            if let Some(p) = port {
                ports.push((p, file.to_string(), line, line_text(text, line)));
            }
            if let Some(h) = host.filter(|h| settings::is_loopback(h)) {
                let find = format!("://{h}");
                bind_finding(d, file, line, &find, "://0.0.0.0", h);
            }
        }
    });
    each_code_match(text, &LISTEN, |line, c| {
        if let Ok(p) = c[3].parse::<u16>() {
            ports.push((p, file.to_string(), line, line_text(text, line)));
        }
        let addr = c.get(2).map(|m| m.as_str()).unwrap_or("");
        if &c[1] == "ListenLocalhost" {
            bind_finding(
                d,
                file,
                line,
                "ListenLocalhost(",
                "ListenAnyIP(",
                "localhost",
            );
        } else if addr.contains("Loopback") {
            let (find, replace) = if addr.contains("IPv6") {
                ("IPAddress.IPv6Loopback", "IPAddress.IPv6Any")
            } else {
                ("IPAddress.Loopback", "IPAddress.Any")
            };
            bind_finding(d, file, line, find, replace, "the loopback address");
        }
    });
}

/// Port claims for a web project, most trusted first.
fn web_ports(
    ctx: &Ctx,
    p: &Project,
    appsettings: &[(String, std::sync::Arc<str>)],
    runtime: Option<&str>,
    code_ports: Vec<(u16, String, u32, String)>,
    d: &mut Draft,
) {
    for (file, text) in appsettings {
        for u in settings::listen_urls(text) {
            let (host, port) = settings::host_port(&u.url);
            if let Some(port) = port {
                d.port(port, Trust::Config, ev(file, Some(u.line), u.note.clone()));
            }
            if let Some(h) = host.filter(|h| settings::is_loopback(h)) {
                bind_finding(d, file, u.line, &format!("://{h}"), "://0.0.0.0", h);
            }
        }
    }
    let dir = crate::repo::parent(&p.path);
    if let Some(path) = crate::config::dockerfile::find(ctx, dir) {
        if let Some(text) = ctx.read_path(&path) {
            // The last stage's setting is the one the image runs with.
            let mut last = None;
            each_code_match(&text, &DOCKER_ASPNET_PORT, |line, c| {
                last = c[2]
                    .parse::<u16>()
                    .ok()
                    .map(|port| (port, line, format!("ASPNETCORE_{}", &c[1])));
            });
            if let Some((port, line, name)) = last {
                d.port(
                    port,
                    Trust::Config,
                    ev(&path, Some(line), format!("ENV {name} → {port}")),
                );
            }
        }
    }
    let launch = join(dir, "Properties/launchSettings.json");
    if let Some(u) = ctx
        .read_path(&launch)
        .and_then(|t| settings::launch_url(&t))
    {
        if let (_, Some(port)) = settings::host_port(&u.url) {
            d.port(port, Trust::Config, ev(&launch, Some(u.line), u.note));
        }
    }
    for (port, file, line, note) in code_ports {
        d.port(port, Trust::Code, ev(&file, Some(line), note));
    }
    let (port, note) = match runtime.and_then(project::major) {
        Some(m) if m < 8 => (5000, "default port of ASP.NET Core before .NET 8"),
        _ => (8080, "default port of ASP.NET Core (.NET 8+)"),
    };
    d.port(port, Trust::Default, ev(&p.path, None, note));
}

fn bind_finding(d: &mut Draft, file: &str, line: u32, find: &str, replace: &str, host: &str) {
    d.finding(
        "binds_localhost",
        Severity::Warning,
        Some(file),
        Some(line),
        format!("{file}:{line} makes Kestrel listen on {host} only, so nothing outside this machine can reach the app; listen on 0.0.0.0 (autodeploy does so in its copy)"),
        Some(SourceFix {
            file: file.to_string(),
            line,
            find: find.to_string(),
            replace: replace.to_string(),
        }),
    );
}

/// True when the text before a match on its line makes it a commented-out line of C# (`//`, `*` in block comments).
fn commented(prefix: &str) -> bool {
    prefix.starts_with("//") || prefix.starts_with('*') || prefix.starts_with("/*")
}

/// [`each_match`] without matches on commented-out lines.
fn each_code_match<'t>(text: &'t str, re: &Regex, f: impl FnMut(u32, &regex::Captures<'t>)) {
    crate::scan::each_code_match(text, re, commented, f)
}

/// [`crate::scan::first_match`] without matches on commented-out lines.
fn first_code_match<'t>(text: &'t str, re: &Regex) -> Option<(u32, regex::Captures<'t>)> {
    crate::scan::first_code_match(text, re, commented)
}

#[cfg(test)]
mod tests;
