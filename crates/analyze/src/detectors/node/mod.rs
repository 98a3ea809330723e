//! Node.js (JavaScript and TypeScript): npm, yarn (classic and berry), pnpm and
//! bun packages; Next.js, Nuxt, Remix, React Router, SvelteKit, Astro, NestJS,
//! Express, Fastify, Koa, hapi, Hono, plain `http` servers; static builds (Vite
//! SPAs, Create React App, Angular, Vue CLI, Gatsby, Docusaurus, Parcel);
//! queue workers (BullMQ, Bull, Agenda, pg-boss…) and console scripts;
//! workspace roots (npm/yarn/pnpm workspaces, lerna).
//!
//! The package is read once (`manifest.rs`), its sources scanned once
//! (`code.rs`), then the evidence decides what it is: a framework row
//! (`frameworks.rs`), a server found in code, a worker, a console script, or
//! only tooling (a weak draft that a backend in another language absorbs as
//! its asset build). Start commands come from a production `start` script when
//! there is one (`scripts.rs` tells dev servers apart), else they are inferred
//! (the framework's own production command, or `node <entry>` — compiled
//! output for TypeScript).
//!
//! Deliberately not here: Procfile/Dockerfile/.env/compose (the `config`
//! overlays apply those to every draft), choosing between drafts (`resolve`),
//! and Deno.

mod code;
mod databases;
mod embedded;
mod frameworks;
mod lock;
mod manifest;
mod refine;
mod release;
mod scripts;
mod start;
mod wiring;
mod workers;

use crate::ctx::{Ctx, PROJECT_MANIFESTS};
use crate::detectors::Detector;
use crate::draft::{ev, Draft, Trust};
use crate::repo::{join, parent};
use crate::scan::line_text;
use autodeploy_core::{Language, ServiceKind, Severity};
use code::CodeFacts;
use frameworks::{expand, Category, Framework};
use manifest::{Entry, Manager, Manifest};
use refine::Refined;
use start::{add_build, add_code_ports, dev_entry, main_script, server_start, start_scripts};
use std::collections::BTreeSet;
use workers::{script_workers, standalone_worker, worker_drafts};

pub struct Node;

/// File endings read as the package's code.
const SOURCE_EXTS: &[&str] = &[
    ".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx", ".vue", ".svelte", ".astro",
];

/// Folders inside a package whose scripts are not the app's code: build output,
/// files served as they are, scaffolding templates.
const OUTPUT_DIRS: &[&str] = &[
    "templates",
    "template",
    "build",
    "out",
    "public",
    "static",
    ".docusaurus",
    "storybook-static",
];

/// Programs that serve a folder of static files (`serve -s build`).
const STATIC_SERVERS: &[&str] = &[
    "serve",
    "http-server",
    "sirv",
    "live-server",
    "lite-server",
    "static-server",
];

impl Detector for Node {
    fn name(&self) -> &'static str {
        "node"
    }

    fn markers(&self) -> &'static [&'static str] {
        &["package.json"]
    }

    fn detect(&self, ctx: &Ctx, dir: &str) -> Vec<Draft> {
        match manifest::read(ctx, dir) {
            Ok(m) => analyze(ctx, dir, &m),
            Err(msg) => invalid_manifest(dir, &msg),
        }
    }
}

/// A package.json that cannot be parsed: say so, claim nothing else.
fn invalid_manifest(dir: &str, msg: &str) -> Vec<Draft> {
    let file = join(dir, "package.json");
    let mut d = Draft::new(dir, Language::Javascript, ServiceKind::Web);
    d.has_manifest = true;
    d.strength = 1.0;
    d.note("language", ev(&file, None, "package.json (unreadable)"));
    d.finding(
        "invalid_manifest",
        Severity::Error,
        Some(&file),
        None,
        format!("{msg}; npm cannot install this package — fix package.json"),
        None,
    );
    vec![d]
}

/// What the package turned out to be.
enum Shape {
    /// A framework row (after its config was applied).
    Framework(&'static Framework, Box<Refined>),
    /// A server opened in code without a known framework.
    PlainServer,
    /// A queue worker and nothing that serves HTTP.
    Worker,
    /// A script that runs and serves nothing (`node index.js`).
    Console,
    /// A start script that serves a folder of files (`serve -s build`).
    StaticServe(String),
    /// A start script running a program we cannot see into.
    OpaqueStart,
    /// Only tooling (linters, CSS builds) or a workspace root.
    Tooling,
}

/// Everything `analyze` works out once and the start/build helpers share.
struct Pkg<'a> {
    ctx: &'a Ctx<'a>,
    dir: &'a str,
    m: &'a Manifest,
    mgr: Manager,
    ts: bool,
    /// Declares workspaces (npm/yarn/bun `workspaces`, pnpm-workspace.yaml, lerna.json).
    workspace_root: bool,
    files: Vec<String>,
    /// Production start script (name, entry).
    prod_start: Option<(&'static str, &'a Entry)>,
    /// The script that runs a dev server instead (name, entry, tool).
    dev_start: Option<(&'static str, &'a Entry, String)>,
}

fn analyze(ctx: &Ctx, dir: &str, m: &Manifest) -> Vec<Draft> {
    // Mobile and desktop apps (Expo, React Native, Electron) are not deployed as services.
    if frameworks::NOT_SERVICES
        .iter()
        .any(|d| m.deps.contains_key(*d))
    {
        return Vec::new();
    }
    // A front end built into another package's tree is part of that app.
    if embedded::builds_into_another_package(ctx, dir, m)
        || embedded::embedded_in_a_go_binary(ctx, dir)
    {
        return Vec::new();
    }
    let mgr = manifest::manager(ctx, dir, m);
    let version = manifest::node_version(ctx, dir, m);
    let ts = m.declares("typescript") || ctx.has(dir, "tsconfig.json");
    let mut base = Draft::new(
        dir,
        if ts {
            Language::Typescript
        } else {
            Language::Javascript
        },
        ServiceKind::Web,
    );
    manifest::fill_common(&mut base, m, &mgr, version);
    if let Some(install) = lock::install_command(ctx, dir, m, &mgr, &mut base) {
        base.install = Some(install);
    }
    base.note("language", ev(&m.file, None, "Node.js package manifest"));
    if ts {
        let e = m
            .dep_evidence("typescript")
            .unwrap_or_else(|| ev(&join(dir, "tsconfig.json"), None, "tsconfig.json"));
        base.note("language", e);
    }

    // Databases: direct dependencies, Prisma schema, ORM config files.
    databases::from_dependencies(m, &mut base);
    databases::prisma(ctx, dir, m, &mut base);
    databases::ormconfig(ctx, dir, &mut base);

    let files = source_files(ctx, dir, m);
    let declared = frameworks::declared(m);
    let facts = code::scan(ctx, &mut base, &files, m, &declared);
    databases::store_named_by_the_orm(m, &facts.orm_engines, &mut base);
    if m.declares("next") {
        if let Some((given, e)) = refine::next_config_env(ctx, dir) {
            let before = base.env.len();
            base.env.retain(|v| !given.contains(&v.name));
            if base.env.len() < before {
                base.note("env", e);
            }
        }
    }
    if let Some((file, line)) = &facts.by_node_env {
        databases::knexfile_without_production(ctx, dir, file, *line, &mut base);
    }
    if let Some((path, file, line)) = &facts.health {
        base.health_path = Some(path.clone());
        base.note(
            "health_path",
            ev(file, Some(*line), format!("route {path}")),
        );
    }

    let (prod_start, dev_start) = start_scripts(m);
    let pkg = Pkg {
        ctx,
        dir,
        m,
        mgr,
        ts,
        workspace_root: !m.workspaces.is_empty()
            || ctx.has(dir, "pnpm-workspace.yaml")
            || ctx.has(dir, "lerna.json"),
        files,
        prod_start,
        dev_start,
    };
    let shape = shape(&pkg, &declared, &facts);
    let mut drafts = build_drafts(&pkg, base, shape, &facts);
    wiring::apply(ctx, dir, m, &mut drafts, &pkg.files);
    release::apply(&pkg, &mut drafts);
    release::init_script(&pkg, &mut drafts);
    embedded::build_embedded(ctx, dir, m, &|n| pkg.mgr.run(n), &mut drafts);
    if let Some(member) = pkg
        .prod_start
        .and_then(|(_, e)| workspace_member_of(&e.value))
    {
        for d in drafts
            .iter_mut()
            .filter(|d| d.kind == ServiceKind::Web && d.name.is_none())
        {
            d.delegates_to = Some(member.clone());
        }
    }
    drafts
}

/// Decide what the package is from the frameworks it declares and what its code does.
fn shape(pkg: &Pkg, declared: &[&'static Framework], facts: &CodeFacts) -> Shape {
    let refined: Vec<(&'static Framework, Refined)> = declared
        .iter()
        .map(|f| (*f, refine::refine(f, pkg.ctx, pkg.dir, pkg.m)))
        .collect();
    let best = |cat: Category, need_app: bool| {
        refined
            .iter()
            .filter(|(f, r)| r.category == cat && (!need_app || facts.apps.contains_key(f.name)))
            .max_by_key(|(f, _)| f.rank)
            .cloned()
    };
    let prod_entry = pkg.prod_start.and_then(|(_, e)| {
        scripts::entry_of(&e.value, pkg.m, &|p| {
            pkg.ctx.index().contains(&join(pkg.dir, p))
        })
    });
    let serves_in_code = !facts.listens.is_empty();
    if let Some((f, r)) = best(Category::Meta, false) {
        return Shape::Framework(f, Box::new(r));
    }
    // A command-line tool (`bin`) with no script that runs it is published, not deployed.
    let runs_something = pkg.prod_start.is_some() || pkg.dev_start.is_some();
    if pkg.m.has_bin && !runs_something {
        return Shape::Tooling;
    }
    if let Some((f, r)) = best(Category::Server, true) {
        return Shape::Framework(f, Box::new(r));
    }
    if let Some((f, r)) = best(Category::Static, false) {
        // A static toolchain beside a server the start script runs (`node server.js`)
        // is the server's front end.
        if !(serves_in_code && prod_entry.is_some()) {
            return Shape::Framework(f, Box::new(r));
        }
    }
    if serves_in_code {
        return match best(Category::Server, false) {
            Some((f, r)) => Shape::Framework(f, Box::new(r)),
            None => Shape::PlainServer,
        };
    }
    if let Some((f, r)) = best(Category::Server, false) {
        return Shape::Framework(f, Box::new(r));
    }
    if pkg.workspace_root {
        // Its scripts delegate to the packages (`turbo run start`, `pnpm -r build`).
        return Shape::Tooling;
    }
    if !facts.workers.is_empty() {
        return Shape::Worker;
    }
    if let Some((_, e)) = pkg.prod_start {
        let segs = scripts::segments(&e.value);
        if let Some(words) = segs.last() {
            let w = scripts::unwrap(words);
            if w.first()
                .is_some_and(|p| STATIC_SERVERS.contains(&p.as_str()))
            {
                let folder = w[1..]
                    .iter()
                    .find(|a| !a.starts_with('-') && !a.chars().all(|c| c.is_ascii_digit()))
                    .map(|s| s.trim_start_matches("./").trim_end_matches('/').to_string())
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| ".".into());
                return Shape::StaticServe(folder);
            }
        }
        if let Some(folder) = prod_entry
            .as_deref()
            .and_then(|entry| serves_static_folder(pkg, entry))
        {
            return Shape::StaticServe(folder);
        }
        return if prod_entry.is_some() {
            Shape::Console
        } else {
            Shape::OpaqueStart
        };
    }
    if pkg.dev_start.is_some() && dev_entry(pkg).is_some() {
        return Shape::Console;
    }
    if main_script(pkg).is_some() {
        return Shape::Console;
    }
    Shape::Tooling
}

/// Folders a site generator writes its pages to.
const SITE_FOLDERS: &[&str] = &["dist", "build", "public", "out", "_site", "www"];

/// The folder a start script serves with a static dev server of its own
/// (`scripts/start.js` running `browser-sync … dist` beside a watcher): a
/// site generator whose product is the folder, not a process. Only when the
/// script names both a static server and a folder that holds an
/// `index.html` (committed, or written by the build).
fn serves_static_folder(pkg: &Pkg, entry: &str) -> Option<String> {
    let text = pkg.ctx.read(pkg.dir, entry)?;
    let words: Vec<&str> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    // `serve` is also a plain English word in comments: not evidence here.
    let serves = STATIC_SERVERS
        .iter()
        .chain(["browser-sync"].iter())
        .filter(|s| **s != "serve")
        .any(|s| words.contains(s));
    if !serves {
        return None;
    }
    let has_build = pkg.m.scripts.contains_key("build");
    SITE_FOLDERS
        .iter()
        .find(|f| {
            words.contains(f)
                && (has_build
                    || pkg
                        .ctx
                        .index()
                        .contains(&join(pkg.dir, &format!("{f}/index.html"))))
        })
        .map(|f| f.to_string())
}

fn build_drafts(pkg: &Pkg, mut base: Draft, shape: Shape, facts: &CodeFacts) -> Vec<Draft> {
    let dir = pkg.dir;
    let other_eco = PROJECT_MANIFESTS
        .iter()
        .any(|n| *n != "package.json" && pkg.ctx.has(dir, n))
        || pkg
            .ctx
            .index()
            .names_in(dir)
            .any(|n| n.ends_with(".csproj"));
    let workspace_root = pkg.workspace_root;
    let is_app = !matches!(shape, Shape::Tooling);
    if is_app && pkg.mgr.lockfile.is_none() {
        let lock = match pkg.mgr.name {
            "yarn" => "yarn.lock",
            "pnpm" => "pnpm-lock.yaml",
            "bun" => "bun.lock",
            _ => "package-lock.json",
        };
        base.finding(
            "no_lockfile",
            Severity::Info,
            Some(&pkg.m.file),
            None,
            format!(
                "no lock file next to {}: every install may resolve different dependency versions; \
                 run `{} install` and commit {lock}",
                pkg.m.file, pkg.mgr.name
            ),
            None,
        );
    }

    if is_app && !pkg.mgr.conflicting.is_empty() {
        base.finding(
            "conflicting_lockfiles",
            Severity::Warning,
            pkg.mgr.lockfile.as_deref(),
            None,
            format!(
                "lock files of several package managers: {} and {}; autodeploy installs with {} — \
                 delete the others so every install resolves the same versions",
                pkg.mgr.lockfile.as_deref().unwrap_or(""),
                pkg.mgr.conflicting.join(", "),
                pkg.mgr.name
            ),
            None,
        );
    }
    let mut web = base.clone();
    let mut drafts = Vec::new();
    let server_files: BTreeSet<&str> = facts.listens.iter().map(|l| l.file.as_str()).collect();
    match shape {
        Shape::Framework(fw, r) => {
            framework_draft(pkg, &mut web, fw, &r, facts, other_eco);
        }
        Shape::PlainServer => {
            web.strength = 6.0;
            web.note(
                "kind",
                ev(
                    &facts.listens[0].file,
                    Some(facts.listens[0].line),
                    "opens a server (.listen)",
                ),
            );
            add_code_ports(pkg.ctx, &mut web, facts);
            web.port(
                3000,
                Trust::Default,
                ev(&pkg.m.file, None, "common Node.js default port"),
            );
            server_start(pkg, &mut web, None, facts);
            add_build(pkg, &mut web, None);
        }
        Shape::Worker => {
            return standalone_worker(pkg, &base, facts).into_iter().collect();
        }
        Shape::Console => {
            web.kind = ServiceKind::Worker;
            web.strength = 5.0;
            web.note(
                "kind",
                ev(&pkg.m.file, None, "runs a script and opens no server"),
            );
            server_start(pkg, &mut web, None, facts);
            add_build(pkg, &mut web, None);
        }
        Shape::StaticServe(folder) => {
            web.kind = ServiceKind::Static;
            web.strength = 5.0;
            if let Some((name, e)) = pkg.prod_start {
                web.note(
                    "static_dir",
                    ev(&pkg.m.file, e.line, format!("{name}: {}", e.value)),
                );
            }
            web.static_dir = Some(folder);
            add_build(pkg, &mut web, None);
        }
        Shape::OpaqueStart => {
            web.strength = 5.0;
            server_start(pkg, &mut web, None, facts);
            add_build(pkg, &mut web, None);
        }
        Shape::Tooling => {
            // A tooling-only package inside another project (a shared library of a
            // monorepo, a template's init script) is part of that project.
            let mut up = dir;
            while !up.is_empty() {
                up = parent(up);
                if pkg.ctx.is_project_dir(up) {
                    return Vec::new();
                }
            }
            // Tooling (CSS builds, linters) or a workspace root: a weak draft with a
            // build but no start, so a backend in the same folder wins and borrows
            // the build, and a workspace root gives way to its packages.
            web.strength = if workspace_root {
                2.0
            } else if pkg.ctx.has(dir, "index.html") && !other_eco {
                // A static site whose package.json only holds tooling.
                0.5
            } else {
                2.5
            };
            web.findings.clear();
            web.health_path = None;
            add_build(pkg, &mut web, None);
            if !workspace_root && !other_eco && web.builds.is_empty() {
                web.finding(
                    "start_not_found",
                    Severity::Info,
                    Some(&pkg.m.file),
                    None,
                    format!(
                        "{} has no start script, no runnable main file and no server in its code; \
                         if this is an app, add a `start` script (e.g. \"start\": \"node server.js\")",
                        pkg.m.file
                    ),
                    None,
                );
            }
            return vec![web];
        }
    }
    if web.kind == ServiceKind::Web || web.kind == ServiceKind::Static {
        drafts.extend(worker_drafts(pkg, &base, facts, &server_files));
        drafts.extend(script_workers(pkg, &base, &drafts, &server_files));
    }
    drafts.insert(0, web);
    drafts
}

fn framework_draft(
    pkg: &Pkg,
    web: &mut Draft,
    fw: &'static Framework,
    r: &Refined,
    facts: &CodeFacts,
    other_eco: bool,
) {
    if let Some(e) = frameworks::dep_evidence(fw, pkg.m) {
        web.set_framework(&r.name, e);
    } else {
        web.framework = Some(r.name.clone());
    }
    if let Some((file, line)) = facts.apps.get(fw.name) {
        let text = pkg.ctx.read_path(file).unwrap_or_default();
        web.note("framework", ev(file, Some(*line), line_text(&text, *line)));
    }
    if let Some(e) = &r.evidence {
        web.note("kind", e.clone());
    }
    for (kind, msg) in r.problem.iter().chain(&r.warning) {
        let file = r.evidence.as_ref().map(|e| e.file.clone());
        let line = r.evidence.as_ref().and_then(|e| e.line);
        web.finding(
            kind,
            Severity::Warning,
            file.as_deref(),
            line,
            msg.clone(),
            None,
        );
    }
    if matches!(r.name.as_str(), "create-react-app" | "vue-cli") {
        // Injected by the toolchain itself, not configuration.
        web.env
            .retain(|e| !matches!(e.name.as_str(), "PUBLIC_URL" | "BASE_URL"));
    }
    match r.category {
        Category::Static => {
            web.kind = ServiceKind::Static;
            web.static_dir = r.static_dir.clone();
            // Beside a backend in another language, a bundler is that backend's asset pipeline.
            web.strength = if other_eco { 3.0 } else { 7.0 };
            if other_eco {
                web.findings.clear();
            }
            if let Some(dir) = &r.static_dir {
                let e = r.evidence.clone().unwrap_or_else(|| {
                    ev(
                        &pkg.m.file,
                        None,
                        format!("default output folder of {}", r.name),
                    )
                });
                web.note(
                    "static_dir",
                    ev(&e.file, e.line, format!("{} → {dir}", e.note)),
                );
            }
            if let Some((name, e, tool)) = pkg.dev_start.as_ref().filter(|(n, _, _)| *n == "start")
            {
                let build = add_build(pkg, web, r.build.as_deref());
                let shown = build.unwrap_or_else(|| "the build".into());
                web.finding(
                    "dev_server_start",
                    Severity::Info,
                    Some(&pkg.m.file),
                    e.line,
                    format!(
                        "the `{name}` script runs a development server (`{tool}`), which is not for production; \
                         a deployment builds the app (`{shown}`) and serves {}/ as static files",
                        r.static_dir.as_deref().unwrap_or("the output folder")
                    ),
                    None,
                );
            } else {
                add_build(pkg, web, r.build.as_deref());
            }
        }
        Category::Meta | Category::Server => {
            web.strength = if r.category == Category::Meta || facts.apps.contains_key(fw.name) {
                10.0
            } else {
                7.0
            };
            if r.default_port > 0 {
                web.port(
                    r.default_port,
                    Trust::Default,
                    ev(&pkg.m.file, None, format!("default port of {}", r.name)),
                );
            }
            add_code_ports(pkg.ctx, web, facts);
            let inferred = r.start.as_deref().map(|s| expand(s, &|c| pkg.mgr.exec(c)));
            if r.problem.is_none() || pkg.prod_start.is_some() {
                // (With a problem, its finding already says why there is no start command.)
                server_start(pkg, web, inferred, facts);
            }
            add_build(pkg, web, r.build.as_deref());
        }
    }
}

/// The package's source files (capped), plus extension-less entry files its
/// scripts or `main` name (`bin/www`).
fn source_files(ctx: &Ctx, dir: &str, m: &Manifest) -> Vec<String> {
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let mut files: Vec<String> = ctx
        .sources(dir, SOURCE_EXTS)
        .into_iter()
        .filter(|f| !f.ends_with(".d.ts") && !f.ends_with(".min.js") && !f.contains(".bundle."))
        .filter(|f| {
            let rel = f.strip_prefix(&prefix).unwrap_or(f);
            !rel.split('/')
                .rev()
                .skip(1)
                .any(|p| OUTPUT_DIRS.contains(&p))
        })
        .map(str::to_string)
        .collect();
    let exists = |p: &str| ctx.index().contains(&join(dir, p));
    let mut extra: Vec<String> = Vec::new();
    for e in m.scripts.values() {
        if let Some(f) = scripts::entry_of(&e.value, m, &exists) {
            extra.push(f);
        }
    }
    if let Some(main) = &m.main {
        extra.push(main.value.trim_start_matches("./").to_string());
    }
    extra.push("bin/www".into());
    for f in extra {
        let p = join(dir, &f);
        if ctx.index().contains(&p) && !files.contains(&p) {
            files.push(p);
        }
    }
    files
}

#[cfg(test)]
mod tests;

/// The workspace member a root script runs (`pnpm --filter api run prod`,
/// `npm run start --workspace=api`, `yarn workspace api start`).
fn workspace_member_of(script: &str) -> Option<String> {
    static MEMBER: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        crate::scan::regex(
            r"\b(?:pnpm|npm|yarn)\b[^&|;]*?(?:--filter[= ]|-F |--workspace[= ]|\bworkspace )([@\w./-]+)",
        )
    });
    let m = MEMBER.captures(script)?.get(1)?.as_str();
    (!m.starts_with('-') && !m.contains('*') && !m.starts_with('.')).then(|| m.to_string())
}
