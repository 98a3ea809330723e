//! Elixir: Mix projects (`mix.exs`) — Phoenix, plain Plug apps served by
//! Cowboy or Bandit, other OTP applications (workers), and umbrella projects
//! (one service at the umbrella root; the child apps are part of it).
//!
//! Frameworks are rows of [`FRAMEWORKS`]; databases come from
//! [`DB_DEPS`] (production deps only) and Ecto adapters. Everything ships as
//! a Mix release: build `MIX_ENV=prod mix compile && [mix assets.deploy &&]
//! mix release`, start `_build/prod/rel/<name>/bin/<name> start`. Phoenix's
//! generated `config/runtime.exs` only turns the endpoint on when
//! `PHX_SERVER` is set, so the start command sets it when the config reads it.
//! Configuration is read for production: `config/runtime.exs` (outside
//! `if config_env() == :dev/:test` blocks), `prod.exs`, `config.exs`;
//! `dev.exs` only supplies a port nothing else names.
//!
//! Deliberately not here: evaluating Elixir (values computed at run time
//! are not seen); Procfile/Dockerfile/.env (the `config/` overlays).

mod mix;

use crate::ctx::Ctx;
use crate::detectors::{databases_from_deps, Detector};
use crate::draft::{ev, Draft, Trust};
use crate::repo::{is_under, join, parent};
use crate::scan::line_text;
use autodeploy_core::{Database, Language, ServiceKind, Severity, SourceFix};
use mix::MixProject;
use regex::Regex;
use std::sync::LazyLock;

pub struct Elixir;

impl Detector for Elixir {
    fn name(&self) -> &'static str {
        "elixir"
    }
    fn markers(&self) -> &'static [&'static str] {
        &["mix.exs"]
    }
    fn detect(&self, ctx: &Ctx, dir: &str) -> Vec<Draft> {
        detect(ctx, dir)
    }
}

/// One web framework.
struct Framework {
    name: &'static str,
    /// Dependencies that signal it (any one).
    deps: &'static [&'static str],
    /// Finds the HTTP endpoint / server in code.
    app: &'static str,
    default_port: u16,
    rank: u8,
}

const FRAMEWORKS: &[Framework] = &[
    Framework {
        name: "phoenix",
        deps: &["phoenix"],
        app: r"\buse\s+Phoenix\.Endpoint\b",
        default_port: 4000,
        rank: 10,
    },
    Framework {
        name: "plug",
        deps: &["plug_cowboy", "bandit"],
        app: r"\{\s*(?:Plug\.Cowboy|Bandit)\s*,|\bPlug\.Cowboy\.(?:child_spec|http)\b|\bBandit\.child_spec\b",
        default_port: 4000,
        rank: 5,
    },
];

/// Production dependency → database or cache.
const DB_DEPS: &[(&str, Database)] = &[
    ("postgrex", Database::Postgresql),
    ("myxql", Database::Mysql),
    ("mariaex", Database::Mysql),
    ("ecto_sqlite3", Database::Sqlite),
    ("exqlite", Database::Sqlite),
    ("redix", Database::Redis),
    ("mongodb_driver", Database::Mongodb),
    ("mongodb", Database::Mongodb),
    ("mongodb_ecto", Database::Mongodb),
];

static ECTO_ADAPTER: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r"\bEcto\.Adapters\.(Postgres|MyXQL|SQLite3|Tds)\b").expect("regex")
});
static GET_ENV: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"(\b(?:if|unless)\s+)?\bSystem\.get_env\s*\(\s*"([A-Za-z_]\w*)"\s*(,)?\s*\)?(\s*(?:\|\|\s*(raise\b)?|in\b|[=!]=))?"#)
        .expect("regex")
});
static FETCH_ENV: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"\bSystem\.fetch_env(!)?\s*\(\s*"([A-Za-z_]\w*)""#).expect("regex")
});
static PORT_ENV_DEFAULT: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"System\.get_env\(\s*"\w*PORT"\s*(?:\)\s*\|\|\s*|,\s*)"?(\d{2,5})"#)
        .expect("regex")
});
static HTTP_PORT: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r"(?s)\bhttp:\s*\[[^\]]*?\bport:\s*(\d{2,5})").expect("regex")
});
static CODE_PORT: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r"(?s)(?:Plug\.Cowboy|Bandit)\b[^\n]*?(?:\n[^\n]*?){0,4}?\bport:\s*(\d{2,5})",
    )
    .expect("regex")
});
static LOOPBACK_IP: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r"\bip:\s*(\{\s*127\s*,\s*0\s*,\s*0\s*,\s*1\s*\}|\{\s*0\s*,\s*0\s*,\s*0\s*,\s*0\s*,\s*0\s*,\s*0\s*,\s*0\s*,\s*1\s*\})")
        .expect("regex")
});
static SERVER_TRUE: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"(?m)^[^#\n]*\bserver:\s*true\b").expect("regex"));
static RELEASE_MODULE: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r"(?s)defmodule\s+([\w.]+\.Release)\s+do\b.*?\bdef\s+migrate\b")
        .expect("regex")
});
static DEV_GUARD: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r"^([ \t]*)if\s+config_env\(\)\s*(?:==\s*:(?:dev|test)|in\s*\[\s*:(?:dev|test)\s*(?:,\s*:(?:dev|test)\s*)?\]|!=\s*:prod)\s+do\b")
        .expect("regex")
});
static HEALTH_ROUTE: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r#"\bget\s*\(?\s*"(/(?:healthz?|health[-_]check|ping|status|up|_health|api/health))""#,
    )
    .expect("regex")
});

/// Files that only configure development or tests.
fn dev_only(rel_path: &str) -> bool {
    matches!(
        rel_path,
        "config/dev.exs" | "config/test.exs" | "mix.exs" | ".formatter.exs"
    ) || rel_path.starts_with("priv/repo/seeds")
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

/// 1-based lines of `text` inside `if config_env() == :dev/:test do … end` blocks.
fn dev_guarded_lines(text: &str) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        if let Some(c) = DEV_GUARD.captures(lines[i]) {
            let indent = c[1].to_string();
            let end = (i + 1..lines.len())
                .find(|&j| {
                    let l = lines[j];
                    l.starts_with(&indent) && l[indent.len()..].starts_with("end") && {
                        let rest = &l[indent.len() + 3..];
                        rest.trim().is_empty()
                    }
                })
                .unwrap_or(lines.len() - 1);
            out.push((i as u32 + 1, end as u32 + 1));
            i = end + 1;
            continue;
        }
        i += 1;
    }
    out
}

/// The umbrella root that owns `dir`, if `dir` is one of its child apps.
fn umbrella_of(ctx: &Ctx, dir: &str) -> Option<String> {
    let mut d = dir;
    for _ in 0..4 {
        if d.is_empty() {
            return None;
        }
        d = parent(d);
        if let Some(text) = ctx.read(d, "mix.exs") {
            if let Some(apps) = mix::parse(&text).apps_path {
                if is_under(dir, &join(d, &apps)) {
                    return Some(d.to_string());
                }
            }
        }
    }
    None
}

fn detect(ctx: &Ctx, dir: &str) -> Vec<Draft> {
    if umbrella_of(ctx, dir).is_some() {
        return Vec::new();
    }
    let Some(text) = ctx.read(dir, "mix.exs") else {
        return Vec::new();
    };
    let mix_path = join(dir, "mix.exs");
    let mut project = mix::parse(&text);

    // Umbrella: the child apps' deps and code count for the root.
    let mut code_dirs = vec![dir.to_string()];
    let mut dep_files: Vec<(String, MixProject)> = vec![(mix_path.clone(), project.clone())];
    if let Some(apps) = &project.apps_path {
        let apps_dir = join(dir, apps);
        for d in ctx.index().subdirs_under(&apps_dir) {
            if parent(d) == apps_dir {
                if let Some(t) = ctx.read(d, "mix.exs") {
                    let child = mix::parse(&t);
                    project.has_mod |= child.has_mod;
                    dep_files.push((join(d, "mix.exs"), child));
                    code_dirs.push(d.to_string());
                }
            }
        }
    }

    let mut web = Draft::new(dir, Language::Elixir, ServiceKind::Web);
    web.has_manifest = true;
    web.manifest_name = project.app.clone();
    web.package_manager = Some("mix".into());
    web.install = Some("mix deps.get --only prod".into());
    web.note("language", ev(&mix_path, None, "Mix project"));
    if !ctx.has(dir, "mix.lock") {
        web.finding(
            "no_lockfile",
            Severity::Info,
            Some(&mix_path),
            None,
            format!("{mix_path} has no mix.lock beside it: dependency versions are resolved anew on every build; run `mix deps.get` and commit mix.lock"),
            None,
        );
    }
    let tool = ctx
        .read(dir, ".tool-versions")
        .and_then(|t| mix::tool_version(&t, "elixir"))
        .map(|(v, l)| (v, join(dir, ".tool-versions"), l));
    if let Some((v, f, l)) = tool.or_else(|| {
        project
            .elixir
            .clone()
            .map(|(v, l)| (v, mix_path.clone(), l))
    }) {
        web.note("runtime_version", ev(&f, Some(l), format!("elixir {v}")));
        web.runtime_version = Some(v);
    }

    let has_dep = |name: &str| dep_files.iter().any(|(_, p)| p.deps.contains_key(name));
    let dep_at = |name: &str| {
        dep_files
            .iter()
            .find_map(|(f, p)| p.deps.get(name).map(|l| (f.clone(), *l)))
    };
    for (f, p) in &dep_files {
        for (db, dep) in databases_from_deps(p.deps.keys().map(String::as_str), DB_DEPS) {
            web.database(db, ev(f, Some(p.deps[&dep]), format!("depends on :{dep}")));
        }
    }

    // Configuration for production.
    let cfg = |name: &str| join(dir, &format!("config/{name}"));
    let prod_configs: Vec<(String, std::sync::Arc<str>)> =
        ["runtime.exs", "prod.exs", "config.exs"]
            .iter()
            .filter_map(|n| ctx.read_path(&cfg(n)).map(|t| (cfg(n), t)))
            .collect();
    let mut config_port: Option<(u16, String, u32, String)> = None;
    let mut server_on = false;
    let mut reads_phx_server = false;
    for (file, text) in &prod_configs {
        let guarded = dev_guarded_lines(text);
        let live = |line: u32| !guarded.iter().any(|(a, b)| line >= *a && line <= *b);
        scan_env(&mut web, file, text, &live);
        scan_loopback(&mut web, file, text, &live);
        scan_adapters(&mut web, file, text, &live);
        if config_port.is_none() {
            config_port = port_in(text, file, &live);
        }
        server_on |= SERVER_TRUE
            .find_iter(text)
            .any(|m| live(crate::scan::line_of(text, m.start())));
        reads_phx_server |= text.contains("\"PHX_SERVER\"");
    }

    // One pass over the code.
    let fw_res: Vec<(&Framework, Regex)> = FRAMEWORKS
        .iter()
        .map(|f| (f, crate::scan::table_regex(f.app)))
        .collect();
    let mut apps: Vec<(&'static str, String, u32)> = Vec::new();
    let mut release_module: Option<(String, String)> = None;
    let mut code_ports: Vec<(u16, String, u32, String)> = Vec::new();
    for code_dir in &code_dirs {
        for file in ctx.sources(code_dir, &[".ex", ".exs"]) {
            let r = rel(dir, file);
            if dev_only(r) || r.starts_with("config/") {
                continue;
            }
            let Some(text) = ctx.read_path(file) else {
                continue;
            };
            for (fw, re) in &fw_res {
                if apps.iter().all(|(n, _, _)| *n != fw.name) {
                    if let Some((line, _)) = first_code_match(&text, re) {
                        apps.push((fw.name, file.to_string(), line));
                    }
                }
            }
            if release_module.is_none() {
                if let Some(c) = RELEASE_MODULE.captures(&text) {
                    release_module = Some((c[1].to_string(), file.to_string()));
                }
            }
            let all = |_: u32| true;
            scan_env(&mut web, file, &text, &all);
            scan_loopback(&mut web, file, &text, &all);
            scan_adapters(&mut web, file, &text, &all);
            each_code_match(&text, &CODE_PORT, |_, c| {
                let m = c.get(1).expect("group");
                let line = crate::scan::line_of(&text, m.start());
                if let Ok(p) = m.as_str().parse() {
                    code_ports.push((p, file.to_string(), line, line_text(&text, line)));
                }
            });
            if let Some(p) = port_env_default(&text, file) {
                code_ports.push(p);
            }
            if web.health_path.is_none() {
                if let Some((line, c)) = first_code_match(&text, &HEALTH_ROUTE) {
                    web.health_path = Some(c[1].to_string());
                    web.note("health_path", ev(file, Some(line), line_text(&text, line)));
                }
            }
        }
    }

    // The framework.
    let fw = FRAMEWORKS
        .iter()
        .filter(|f| f.deps.iter().any(|d| has_dep(d)))
        .max_by_key(|f| f.rank);
    let app_name = project.release.clone().or(project.app.clone());
    let rel_bin = app_name
        .as_ref()
        .map(|a| format!("_build/prod/rel/{a}/bin/{a}"));

    match fw {
        Some(fw) => {
            let found = apps.iter().find(|(n, _, _)| *n == fw.name);
            web.strength = if found.is_some() { 10.0 } else { 7.0 };
            let dep = fw.deps.iter().find_map(|d| dep_at(d).map(|at| (*d, at)));
            match dep {
                Some((d, (f, l))) => {
                    web.set_framework(fw.name, ev(&f, Some(l), format!("depends on :{d}")))
                }
                None => web.framework = Some(fw.name.to_string()),
            }
            if let Some((_, f, l)) = found {
                let t = ctx.read_path(f).unwrap_or_default();
                web.note("framework", ev(f, Some(*l), line_text(&t, *l)));
            }
            // Port: production config, else code, else dev config, else the default.
            if let Some((p, f, l, note)) = config_port.clone() {
                web.port(p, Trust::Config, ev(&f, Some(l), note));
            }
            for (p, f, l, note) in &code_ports {
                web.port(*p, Trust::Code, ev(f, Some(*l), note.clone()));
            }
            if config_port.is_none() && code_ports.is_empty() {
                let dev = cfg("dev.exs");
                if let Some(hit) = ctx
                    .read_path(&dev)
                    .and_then(|t| port_in(&t, &dev, &|_| true))
                {
                    web.port(
                        hit.0,
                        Trust::Config,
                        ev(
                            &hit.1,
                            Some(hit.2),
                            format!("{} (development config)", hit.3),
                        ),
                    );
                }
            }
            web.port(
                fw.default_port,
                Trust::Default,
                ev(&mix_path, None, format!("default port of {}", fw.name)),
            );
            if fw.name == "phoenix" && !server_on && !reads_phx_server {
                web.finding(
                    "phoenix_server_disabled",
                    Severity::Warning,
                    Some(&cfg("runtime.exs")),
                    None,
                    "no production config sets `server: true` for the endpoint and nothing reads PHX_SERVER, so a release starts without serving HTTP; add `config :my_app, MyAppWeb.Endpoint, server: true` to config/runtime.exs",
                    None,
                );
            }
        }
        None if project.has_mod => {
            web.kind = ServiceKind::Worker;
            web.strength = 5.0;
            web.note(
                "kind",
                ev(
                    &mix_path,
                    None,
                    "OTP application (mod:) without a web server",
                ),
            );
        }
        None => {
            web.strength = 2.5;
            return vec![web];
        }
    }

    // Build, start and migrations: a Mix release.
    let Some(bin) = rel_bin else {
        web.finding(
            "start_not_found",
            Severity::Warning,
            Some(&mix_path),
            None,
            "the release name is not written in mix.exs (`app:` or `releases:`), so the start command cannot be named; add a Procfile `web:` line",
            None,
        );
        return vec![web];
    };
    let mut build = String::from("MIX_ENV=prod mix compile && ");
    let has_alias = |a: &str| {
        dep_files
            .iter()
            .take(1)
            .any(|(_, p)| p.aliases.iter().any(|x| x == a))
    };
    if has_alias("assets.deploy") {
        build.push_str("MIX_ENV=prod mix assets.deploy && ");
    }
    build.push_str("MIX_ENV=prod mix release");
    web.build(
        build,
        Trust::Inferred,
        ev(&mix_path, None, "inferred: Mix release"),
    );
    let prefix = if fw.is_some_and(|f| f.name == "phoenix") && reads_phx_server {
        "PHX_SERVER=true "
    } else {
        ""
    };
    web.start(
        format!("{prefix}{bin} start"),
        Trust::Inferred,
        ev(&mix_path, None, "inferred: Mix release start script"),
    );
    match (&release_module, has_dep("ecto_sql")) {
        (Some((module, file)), _) => {
            web.release = Some(format!("{bin} eval \"{module}.migrate\""));
            web.note("release", ev(file, None, format!("{module}.migrate")));
        }
        (None, true) => {
            web.release = Some("MIX_ENV=prod mix ecto.migrate".into());
            if let Some((f, l)) = dep_at("ecto_sql") {
                web.note("release", ev(&f, Some(l), "depends on :ecto_sql"));
            }
        }
        _ => {}
    }
    vec![web]
}

/// A port written in config: `http: [port: 4000]` or `System.get_env("PORT") || "4000"`.
fn port_in(
    text: &str,
    file: &str,
    live: &dyn Fn(u32) -> bool,
) -> Option<(u16, String, u32, String)> {
    for re in [&*PORT_ENV_DEFAULT, &*HTTP_PORT] {
        for c in re.captures_iter(text) {
            let m = c.get(1).expect("group");
            let line = crate::scan::line_of(text, m.start());
            if !live(line) {
                continue;
            }
            if let Ok(p) = m.as_str().parse() {
                return Some((p, file.to_string(), line, line_text(text, line)));
            }
        }
    }
    None
}

fn port_env_default(text: &str, file: &str) -> Option<(u16, String, u32, String)> {
    let (line, c) = first_code_match(text, &PORT_ENV_DEFAULT)?;
    let p = c[1].parse().ok()?;
    Some((p, file.to_string(), line, line_text(text, line)))
}

fn scan_env(web: &mut Draft, file: &str, text: &str, live: &dyn Fn(u32) -> bool) {
    each_code_match(text, &GET_ENV, |line, c| {
        if !live(line) {
            return;
        }
        let flag = c.get(1).is_some();
        let default_arg = c.get(3).is_some();
        let after = c.get(4).map(|m| m.as_str().trim()).unwrap_or("");
        let raises = c.get(5).is_some();
        let has_default = flag || default_arg || (!after.is_empty() && !raises);
        web.env_var(&c[2], has_default, file, line);
    });
    each_code_match(text, &FETCH_ENV, |line, c| {
        if live(line) {
            // fetch_env! raises when unset; fetch_env returns :error for the code to handle.
            web.env_var(&c[2], c.get(1).is_none(), file, line);
        }
    });
}

fn scan_loopback(web: &mut Draft, file: &str, text: &str, live: &dyn Fn(u32) -> bool) {
    each_code_match(text, &LOOPBACK_IP, |line, c| {
        if !live(line) {
            return;
        }
        let literal = c[1].to_string();
        web.finding(
            "binds_localhost",
            Severity::Warning,
            Some(file),
            Some(line),
            format!("{file}:{line} sets the endpoint's ip to {literal}, so nothing outside this machine can reach the app; listen on {{0, 0, 0, 0}} (autodeploy does so in its copy)"),
            Some(SourceFix {
                file: file.to_string(),
                line,
                find: literal,
                replace: "{0, 0, 0, 0}".into(),
            }),
        );
    });
}

fn scan_adapters(web: &mut Draft, file: &str, text: &str, live: &dyn Fn(u32) -> bool) {
    each_code_match(text, &ECTO_ADAPTER, |line, c| {
        if !live(line) {
            return;
        }
        let db = match &c[1] {
            "Postgres" => Database::Postgresql,
            "MyXQL" => Database::Mysql,
            "SQLite3" => Database::Sqlite,
            _ => return,
        };
        web.database(db, ev(file, Some(line), format!("Ecto.Adapters.{}", &c[1])));
    });
}

/// True when the text before a match on its line makes it a commented-out line of Elixir.
fn commented(prefix: &str) -> bool {
    prefix.starts_with('#')
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
