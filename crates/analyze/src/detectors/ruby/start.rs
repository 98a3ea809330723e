//! The production start command of a Ruby app (config/puma.rb, Rails'
//! server, a `config.ru`, a self-running Sinatra file, a plain script) and
//! the job worker beside it.
//!
//! Deliberately not here: reading the Gemfile (`bundler.rs`) or the code
//! (`mod.rs`); this only turns what was found into commands.

use super::bundler::Bundle;
use super::frameworks::{Framework, SCRIPT_NAMES, SERVERS, SERVER_GEMS, WORKERS};
use super::{bind_finding, rails, rel, CodeFacts};
use crate::ctx::Ctx;
use crate::draft::{ev, Draft, Trust, PORT};
use crate::repo::join;
use autodeploy_core::{ServiceKind, Severity};

/// The production start command for a Rack-based framework.
#[allow(clippy::too_many_arguments)]
pub(super) fn infer_start(
    ctx: &Ctx,
    dir: &str,
    b: &Bundle,
    fw: Option<&Framework>,
    has_ru: bool,
    puma: Option<&(String, rails::PumaConfig)>,
    facts: &CodeFacts,
    web: &mut Draft,
) {
    let is_rails = fw.is_some_and(|f| f.name == "rails");
    let fw_default = fw.map(|f| f.default_port).unwrap_or(9292);
    let ru = join(dir, "config.ru");

    // Puma's config says where it listens, whichever command starts it.
    let puma = puma.filter(|_| b.gemfile.is_none() || b.has("puma"));
    if let Some((path, p)) = puma {
        if let Some((port, line, text)) = &p.port {
            web.port(*port, Trust::Config, ev(path, Some(*line), text.clone()));
        }
        if let Some((line, find, replace)) = &p.loopback {
            bind_finding(web, path, *line, find, replace);
        }
    }

    // 1. A server config file the app ships (config/puma.rb, config/unicorn.rb).
    if has_ru || is_rails {
        for s in SERVERS {
            let Some((files, template)) = s.config else {
                continue;
            };
            let Some(path) = files
                .iter()
                .map(|f| join(dir, f))
                .find(|p| ctx.index().contains(p))
            else {
                continue;
            };
            if !b.has(s.gem) {
                continue;
            }
            let mut cmd = template.replace("{file}", rel(dir, &path));
            if s.gem == "puma" && !puma.is_some_and(|(_, p)| p.listens) {
                cmd.push_str(&format!(" -p {PORT}"));
            }
            web.start(
                cmd,
                Trust::Inferred,
                ev(&path, None, format!("inferred: {} config", s.gem)),
            );
            web.port(
                fw_default,
                Trust::Default,
                ev(
                    &path,
                    None,
                    format!("default port of {}", fw.map(|f| f.name).unwrap_or("rack")),
                ),
            );
            return;
        }
    }

    // 2. Rails' own server command.
    if is_rails {
        let app = join(dir, "config/application.rb");
        web.start(
            format!("bundle exec rails server -b 0.0.0.0 -p {PORT}"),
            Trust::Inferred,
            ev(&app, None, "inferred: Rails app"),
        );
        web.port(
            3000,
            Trust::Default,
            ev(&app, None, "default port of rails server"),
        );
        return;
    }

    // 3. A config.ru: rackup, or the declared server's CLI when rackup is not installed.
    if has_ru {
        let (cmd, note) = rack_command(b);
        web.start(cmd, Trust::Inferred, ev(&ru, None, note));
        web.port(
            9292,
            Trust::Default,
            ev(&ru, None, "default port of rackup"),
        );
        return;
    }

    // 4. A classic Sinatra file (or a modular one that calls `run!`) runs itself.
    if fw.is_some_and(|f| f.name == "sinatra") {
        let file = facts
            .sinatra_classic
            .iter()
            .map(|(f, _)| f.clone())
            .min_by_key(|f| {
                (
                    !SCRIPT_NAMES.contains(&rel(dir, f)),
                    f.matches('/').count(),
                    f.clone(),
                )
            })
            .or_else(|| facts.runs_itself.first().cloned());
        if let Some(file) = file {
            web.start(
                format!("bundle exec ruby {} -o 0.0.0.0 -p {PORT}", rel(dir, &file)),
                Trust::Inferred,
                ev(&file, None, "inferred: Sinatra app that runs itself"),
            );
            web.port(
                4567,
                Trust::Default,
                ev(&file, None, "default port of Sinatra"),
            );
            if let Some((p, f, l, t)) = &facts.sinatra_port {
                web.port(*p, Trust::Code, ev(f, Some(*l), t.clone()));
            }
            if let Some((f, l, lit)) = &facts.sinatra_bind {
                let q = &lit[..1];
                bind_finding(web, f, *l, lit, &format!("{q}0.0.0.0{q}"));
            }
            return;
        }
    }

    // 5. Nothing runnable found.
    web.port(
        fw_default,
        Trust::Default,
        ev(&join(dir, ""), None, "framework default port"),
    );
    let name = fw.map(|f| f.name).unwrap_or("rack");
    web.finding(
        "start_not_found",
        Severity::Warning,
        b.gemfile.as_deref(),
        None,
        format!("{name} is a dependency but neither a config.ru nor a file that starts the server was found; add a config.ru (`run App`) or a Procfile `web:` line"),
        None,
    );
}

/// How to serve a `config.ru`: `rackup` when it is installed (declared, locked,
/// or bundled with Rack < 3), else the declared server's own CLI.
fn rack_command(b: &Bundle) -> (String, &'static str) {
    let rackup = b.has("rackup")
        || b.locked.iter().any(|g| g == "rackup")
        || b.locked_rack_major.is_some_and(|m| m < 3)
        || b.lockfile.is_none();
    if !rackup {
        if let Some(s) = SERVERS.iter().find(|s| b.has(s.gem)) {
            return (
                s.cmd.to_string(),
                "inferred: config.ru served by the declared server (Rack 3 has no rackup)",
            );
        }
    }
    (
        format!("bundle exec rackup -o 0.0.0.0 -p {PORT}"),
        "inferred: config.ru served by rackup",
    )
}

/// No web framework: a script with an entry name runs as a worker; otherwise
/// the folder is only a Gemfile.
pub(super) fn script_or_manifest(dir: &str, facts: &CodeFacts, web: &mut Draft) {
    let script = facts.scripts.iter().min_by_key(|f| {
        (
            !SCRIPT_NAMES.contains(&rel(dir, f)),
            f.matches('/').count(),
            (*f).clone(),
        )
    });
    match script {
        Some(file) => {
            web.kind = ServiceKind::Worker;
            web.strength = if web.has_manifest { 5.0 } else { 3.0 };
            web.note("kind", ev(file, None, "Ruby script and no web framework"));
            let prefix = if web.has_manifest { "bundle exec " } else { "" };
            web.start(
                format!("{prefix}ruby {}", rel(dir, file)),
                Trust::Inferred,
                ev(file, None, "inferred: the entry script"),
            );
        }
        None => web.strength = 2.5,
    }
}

pub(super) fn require_server(b: &Bundle, web: &mut Draft) {
    if b.gemfile.is_none() || SERVER_GEMS.iter().any(|g| b.has(g)) {
        return;
    }
    web.finding(
        "missing_production_server",
        Severity::Info,
        b.gemfile.as_deref(),
        None,
        "no web server gem (puma, unicorn, falcon, thin…) is declared for production; the app cannot serve HTTP without one — add `gem \"puma\"` to the Gemfile",
        None,
    );
}

/// A job worker beside the app (Sidekiq, GoodJob…), unless a Procfile already runs it.
pub(super) fn worker_draft(ctx: &Ctx, dir: &str, b: &Bundle, web: &Draft) -> Option<Draft> {
    let lib = WORKERS.iter().find(|w| w.gems.iter().any(|g| b.has(g)))?;
    if let Some(procfile) = ctx.read(dir, "Procfile") {
        let runs = procfile.lines().any(|l| {
            l.split_once(':').is_some_and(|(name, cmd)| {
                !matches!(name.trim(), "web" | "release") && cmd.contains(lib.procfile)
            })
        });
        if runs {
            return None;
        }
    }
    let gem = lib.gems.iter().find(|g| b.has(g))?;
    let (gemfile, line) = b.at(gem)?;
    let mut w = web.clone();
    w.kind = ServiceKind::Worker;
    w.name = Some("worker".into());
    w.framework = Some(lib.framework.to_string());
    w.strength = web.strength.min(9.0);
    w.ports.clear();
    w.starts.clear();
    w.builds.clear();
    w.release = None;
    w.health_path = None;
    w.findings.retain(|f| {
        !matches!(
            f.kind.as_str(),
            "binds_localhost" | "missing_production_server" | "start_not_found"
        )
    });
    w.evidence.remove("framework");
    w.evidence.remove("health_path");
    w.evidence.remove("release");
    w.note(
        "framework",
        ev(&gemfile, Some(line), format!("gem \"{gem}\"")),
    );
    let mut cmd = lib.start.to_string();
    if let Some((cfg, flag)) = lib.config {
        if ctx.index().contains(&join(dir, cfg)) {
            cmd.push_str(flag);
        }
    }
    w.start(
        cmd,
        Trust::Inferred,
        ev(
            &gemfile,
            Some(line),
            format!("inferred: {} worker", lib.framework),
        ),
    );
    Some(w)
}
