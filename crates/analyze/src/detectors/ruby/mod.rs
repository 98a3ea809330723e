//! Ruby: Bundler projects (`Gemfile`) and Rack apps (`config.ru`) — Rails,
//! Hanami, Sinatra, Roda, Grape and plain Rack; Sidekiq, GoodJob, Delayed Job
//! and Resque workers beside them.
//!
//! Layout: `frameworks.rs` holds the tables (frameworks with the gems that
//! signal them and the pattern that finds the app in code; Rack servers;
//! worker libraries; database gems); `bundler.rs` reads the Gemfile and its
//! lock; `rails.rs` reads Rails and Puma configuration; `start.rs` turns
//! what was found into commands; this file runs one pass over the sources.
//!
//! The start command follows what the repository configures:
//! `config/puma.rb` → `bundle exec puma -C config/puma.rb`; Rails →
//! `rails server -b 0.0.0.0`; a `config.ru` → `rackup` (or the declared
//! server's own CLI when Rack 3 is locked without the `rackup` gem); a classic
//! Sinatra file → `ruby app.rb -o 0.0.0.0`.
//!
//! Deliberately not here: Procfile, Dockerfile and `.env` (the `config/`
//! overlays apply them to every draft), and dependencies found only in
//! `Gemfile.lock` (databases come from gems the Gemfile declares for production).

mod bundler;
mod frameworks;
mod rails;
mod start;
mod wiring;

use crate::ctx::Ctx;
use crate::detectors::{database_of_url, databases_from_deps, Detector};
use crate::draft::{ev, Draft};
use crate::repo::{file_name, join};
use crate::scan::line_text;
use autodeploy_core::{Database, Language, ServiceKind, Severity, SourceFix};
use frameworks::{is_tooling_gem, Framework, DB_GEMS, FRAMEWORKS, SCRIPT_NAMES};
use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;

pub struct Ruby;

impl Detector for Ruby {
    fn name(&self) -> &'static str {
        "ruby"
    }
    fn markers(&self) -> &'static [&'static str] {
        &["Gemfile", "gems.rb", "config.ru"]
    }
    fn detect(&self, ctx: &Ctx, dir: &str) -> Vec<Draft> {
        detect(ctx, dir)
    }
}

static ENV_INDEX: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"(\b(?:if|unless)\s+)?\bENV\[\s*["']([A-Za-z_]\w*)["']\s*\](\s*(?:\|\||\.present\?|\.blank\?|\.nil\?|\.presence\b|[=!]=\s*["']))?"#)
        .expect("regex")
});
static ENV_FETCH: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"\bENV\.fetch\s*\(\s*["']([A-Za-z_]\w*)["']\s*(,|\)\s*\{|\)\s*do\b)?"#)
        .expect("regex")
});
static ENV_KEY: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r#"\bENV\.(?:key\?|has_key\?|include\?|member\?)\s*\(\s*["']([A-Za-z_]\w*)["']"#,
    )
    .expect("regex")
});
static SET_PORT: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r"(?m)^[ \t]*(?:set\s+:port\s*,|set\s*\(\s*:port\s*,)\s*(.+)$")
        .expect("regex")
});
static SET_BIND: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r#"(?m)^[ \t]*set\s*\(?\s*:bind\s*,\s*(["'](?:127\.0\.0\.1|localhost|::1)["'])"#,
    )
    .expect("regex")
});
static RUN_BANG: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"(?m)^[ \t]*(?:\w+\.)?run!").expect("regex"));
static HEALTH_ROUTE: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"(?m)^[ \t]*get\s*\(?\s*["']/?((?:up|healthz?|health[-_]check|ping|status|_health|api/health))["']"#)
        .expect("regex")
});
static DB_URL_LITERAL: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"["']((?:postgres(?:ql)?|postgis|mysql2?|trilogy|mongodb(?:\+srv)?|rediss?|sqlite3?)://[^"'\s]*)["']"#)
        .expect("regex")
});
static ADAPTER_KW: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r#"\badapter\s*(?::|=>)\s*["':]?(postgresql|postgis|mysql2|trilogy|sqlite3)\b"#,
    )
    .expect("regex")
});
static SCRIPT_GUARD: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r"(?m)^[ \t]*if\s+(?:__FILE__\s*==\s*\$(?:0|PROGRAM_NAME)|\$(?:0|PROGRAM_NAME)\s*==\s*__FILE__)")
        .expect("regex")
});

/// A database/cache URL as Ruby libraries write it (`mysql2://`, `trilogy://`, `postgis://`).
fn database_of_ruby_url(url: &str) -> Option<Database> {
    let url = url
        .replacen("mysql2://", "mysql://", 1)
        .replacen("trilogy://", "mysql://", 1)
        .replacen("postgis://", "postgres://", 1)
        .replacen("sqlite3://", "sqlite://", 1);
    database_of_url(&url)
}

/// What one pass over the sources found.
#[derive(Default)]
pub(super) struct CodeFacts {
    /// framework → (file, line)
    pub(super) apps: BTreeMap<&'static str, (String, u32)>,
    /// Files that require `sinatra` classic style (`require "sinatra"`).
    pub(super) sinatra_classic: Vec<(String, u32)>,
    /// Modular Sinatra files that call `run!`.
    pub(super) runs_itself: Vec<String>,
    /// `set :bind, "127.0.0.1"`: (file, line, literal)
    pub(super) sinatra_bind: Option<(String, u32, String)>,
    /// `set :port, 4567`: (port, file, line, text)
    pub(super) sinatra_port: Option<(u16, String, u32, String)>,
    pub(super) scripts: Vec<String>,
}

pub(super) fn rel<'a>(dir: &str, file: &'a str) -> &'a str {
    if dir.is_empty() {
        file
    } else {
        file.strip_prefix(dir)
            .map(|f| f.trim_start_matches('/'))
            .unwrap_or(file)
    }
}

/// Config files that only apply outside production.
fn dev_only_file(rel_path: &str) -> bool {
    matches!(
        rel_path,
        "config/environments/development.rb" | "config/environments/test.rb"
    )
}

fn detect(ctx: &Ctx, dir: &str) -> Vec<Draft> {
    let b = bundler::read(ctx, dir);
    let has_ru = ctx.has(dir, "config.ru");
    let sources: Vec<&str> = ctx
        .sources(dir, &[".rb", ".ru", ".rake"])
        .into_iter()
        .filter(|f| !dev_only_file(rel(dir, f)) && !rel(dir, f).starts_with("bin/"))
        .collect();
    if b.gemfile.is_none() && !has_ru {
        return Vec::new();
    }

    let mut web = Draft::new(dir, Language::Ruby, ServiceKind::Web);
    web.has_manifest = b.gemfile.is_some();
    web.package_manager = b.gemfile.as_ref().map(|_| "bundler".to_string());
    if b.gemfile.is_some() {
        web.install = Some(if b.has_dev_groups {
            "bundle config set --local without 'development test' && bundle install".into()
        } else {
            "bundle install".into()
        });
    }
    if let Some((v, f, l)) = &b.ruby {
        web.runtime_version = Some(v.clone());
        web.note("runtime_version", ev(f, *l, format!("ruby {v}")));
    }
    match &b.gemfile {
        Some(g) => {
            web.note("language", ev(g, None, "Bundler Gemfile"));
            if b.lockfile.is_none() {
                web.finding(
                    "no_lockfile",
                    Severity::Info,
                    Some(g),
                    None,
                    format!("{g} has no Gemfile.lock beside it: gem versions are resolved anew on every build; run `bundle lock` and commit Gemfile.lock"),
                    None,
                );
            }
        }
        None => {
            let ru = join(dir, "config.ru");
            web.note("language", ev(&ru, None, "Rack config.ru"));
            web.finding(
                "no_manifest",
                Severity::Warning,
                Some(&ru),
                None,
                "config.ru without a Gemfile: the gems the app needs (rack, a server) are not declared, so a deployment cannot install them; add a Gemfile",
                None,
            );
        }
    }

    // Databases from gems installed in production.
    for (db, gem) in databases_from_deps(
        b.gems.keys().map(String::as_str).filter(|g| b.has(g)),
        DB_GEMS,
    ) {
        if let Some((f, l)) = b.at(&gem) {
            web.database(db, ev(&f, Some(l), format!("gem \"{gem}\"")));
        }
    }

    // One pass over the sources.
    let facts = scan_sources(ctx, dir, &sources, &mut web);
    scan_config_yaml(ctx, dir, &mut web);

    // The framework: the highest-ranked declared one (or one found in code without a Gemfile).
    let declared = |fw: &Framework| fw.gems.iter().any(|g| b.has(g));
    let fw = FRAMEWORKS
        .iter()
        .filter(|f| declared(f) || (b.gemfile.is_none() && facts.apps.contains_key(f.name)))
        .max_by_key(|f| f.rank);

    let puma = frameworks::PUMA_CONFIGS.iter().find_map(|f| {
        let path = join(dir, f);
        ctx.read_path(&path).map(|t| (path, rails::puma(&t)))
    });

    if let Some(fw) = fw {
        web.strength = if facts.apps.contains_key(fw.name) {
            10.0
        } else {
            7.0
        };
        let fw_ev = fw
            .gems
            .iter()
            .find_map(|g| {
                b.at(g)
                    .map(|(f, l)| ev(&f, Some(l), format!("gem \"{g}\"")))
            })
            .or_else(|| {
                facts
                    .apps
                    .get(fw.name)
                    .map(|(f, l)| ev(f, Some(*l), format!("{} app", fw.name)))
            });
        match fw_ev {
            Some(e) => web.set_framework(fw.name, e),
            None => web.framework = Some(fw.name.to_string()),
        }
        if let Some((f, l)) = facts.apps.get(fw.name) {
            let text = ctx.read_path(f).unwrap_or_default();
            web.note("framework", ev(f, Some(*l), line_text(&text, *l)));
        }
    } else if has_ru {
        web.strength = if web.has_manifest { 6.0 } else { 4.0 };
        let ru = join(dir, "config.ru");
        web.set_framework("rack", ev(&ru, None, "Rack app (config.ru)"));
    }

    let framework = web.framework.clone();
    match framework.as_deref() {
        Some(name) => {
            let fw = FRAMEWORKS.iter().find(|f| f.name == name);
            start::infer_start(ctx, dir, &b, fw, has_ru, puma.as_ref(), &facts, &mut web);
            if name == "rails" {
                rails::conventions(ctx, dir, &b, &mut web);
            }
        }
        None => start::script_or_manifest(dir, &facts, &mut web),
    }
    if web.kind == ServiceKind::Web && web.framework.is_some() {
        start::require_server(&b, &mut web);
    }
    wiring::scan(ctx, dir, &mut web, &sources);

    let mut drafts = Vec::new();
    if let Some(w) = start::worker_draft(ctx, dir, &b, &web) {
        if web.framework.is_none() {
            // The folder is only a job worker: it replaces the generic draft.
            return vec![w];
        }
        drafts.push(w);
    } else if web.framework.is_none()
        && web.starts.is_empty()
        && b.gems.keys().all(|g| !b.has(g) || is_tooling_gem(g))
    {
        // A Gemfile that only installs tools (fastlane, CocoaPods, Jekyll…) is not an app.
        return Vec::new();
    }
    drafts.insert(0, web);
    drafts
}

fn scan_sources(ctx: &Ctx, dir: &str, sources: &[&str], web: &mut Draft) -> CodeFacts {
    let mut facts = CodeFacts::default();
    let compiled: Vec<(&Framework, Regex)> = FRAMEWORKS
        .iter()
        .map(|f| (f, crate::scan::table_regex(f.app)))
        .collect();
    static CLASSIC: LazyLock<Regex> = LazyLock::new(|| {
        crate::scan::try_regex(r#"(?m)^[ \t]*require\s*\(?\s*["']sinatra["']"#).expect("regex")
    });
    for &file in sources {
        let Some(text) = ctx.read_path(file) else {
            continue;
        };
        for (fw, re) in &compiled {
            if facts.apps.contains_key(fw.name) {
                continue;
            }
            if let Some((line, _)) = first_code_match(&text, re) {
                facts.apps.insert(fw.name, (file.to_string(), line));
            }
        }
        if let Some((line, _)) = first_code_match(&text, &CLASSIC) {
            facts.sinatra_classic.push((file.to_string(), line));
        }
        if RUN_BANG.is_match(&text) {
            facts.runs_itself.push(file.to_string());
        }
        if facts.sinatra_bind.is_none() {
            if let Some((line, c)) = first_code_match(&text, &SET_BIND) {
                facts.sinatra_bind = Some((file.to_string(), line, c[1].to_string()));
            }
        }
        if facts.sinatra_port.is_none() {
            if let Some((line, c)) = first_code_match(&text, &SET_PORT) {
                if let Some(p) = rails::port_of_expr(&c[1]) {
                    facts.sinatra_port = Some((p, file.to_string(), line, line_text(&text, line)));
                }
            }
        }
        if SCRIPT_GUARD.is_match(&text) || SCRIPT_NAMES.contains(&rel(dir, file)) {
            facts.scripts.push(file.to_string());
        }
        scan_env(web, file, &text, |_| false);
        scan_databases(web, file, &text, |_| false);
        if web.health_path.is_none() {
            if let Some((line, c)) = first_code_match(&text, &HEALTH_ROUTE) {
                web.health_path = Some(format!("/{}", &c[1]));
                web.note("health_path", ev(file, Some(line), line_text(&text, line)));
            }
        }
    }
    facts
}

/// ERB in `config/*.yml`: env reads and database settings outside development/test sections.
fn scan_config_yaml(ctx: &Ctx, dir: &str, web: &mut Draft) {
    let files: Vec<&str> = ctx
        .sources(dir, &[".yml", ".yaml"])
        .into_iter()
        .filter(|f| rel(dir, f).starts_with("config/"))
        .collect();
    for file in files {
        let Some(text) = ctx.read_path(file) else {
            continue;
        };
        let secs = rails::sections(&text);
        let dev = |line: u32| rails::in_dev_section(&secs, line.saturating_sub(1) as usize);
        scan_env(web, file, &text, dev);
        scan_databases(web, file, &text, dev);
        let name = file_name(file);
        if matches!(name, "database.yml" | "cable.yml" | "mongoid.yml") {
            if let Some((db, line, note)) = rails::production_database(&text) {
                web.database(db, ev(file, Some(line), note));
            }
        }
    }
}

fn scan_env(web: &mut Draft, file: &str, text: &str, skip: impl Fn(u32) -> bool) {
    each_code_match(text, &ENV_INDEX, |line, c| {
        if !skip(line) {
            let flag = c.get(1).is_some() || c.get(3).is_some();
            web.env_var(&c[2], flag, file, line);
        }
    });
    each_code_match(text, &ENV_FETCH, |line, c| {
        if !skip(line) {
            web.env_var(&c[1], c.get(2).is_some(), file, line);
        }
    });
    each_code_match(text, &ENV_KEY, |line, c| {
        if !skip(line) {
            web.env_var(&c[1], true, file, line);
        }
    });
}

fn scan_databases(web: &mut Draft, file: &str, text: &str, skip: impl Fn(u32) -> bool) {
    each_code_match(text, &DB_URL_LITERAL, |line, c| {
        if skip(line) {
            return;
        }
        if let Some(db) = database_of_ruby_url(&c[1]) {
            web.database(
                db,
                ev(file, Some(line), format!("{} connection URL", db.as_str())),
            );
        }
    });
    if file.ends_with(".rb") {
        each_code_match(text, &ADAPTER_KW, |line, c| {
            if let Some(db) = rails::database_of_adapter(&c[1]) {
                web.database(db, ev(file, Some(line), line_text(text, line)));
            }
        });
    }
}

pub(super) fn bind_finding(web: &mut Draft, file: &str, line: u32, find: &str, replace: &str) {
    web.finding(
        "binds_localhost",
        Severity::Warning,
        Some(file),
        Some(line),
        format!(
            "{file}:{line} binds the server to {}, so nothing outside this machine can reach the app; bind 0.0.0.0 (autodeploy does so in its copy)",
            find.trim_matches(['"', '\'', ':', '/'])
        ),
        Some(SourceFix {
            file: file.to_string(),
            line,
            find: find.to_string(),
            replace: replace.to_string(),
        }),
    );
}

/// True when the text before a match on its line makes it a commented-out line of Ruby and the YAML/ERB it reads.
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
