//! Start and build commands of a Node package: the production start script when
//! there is one; otherwise the framework's own production command, or
//! `node <entry>` for the file that runs the app (the dev script's target,
//! `main`, `bin/www`, the file that calls `.listen`), compiled output for
//! TypeScript (tsconfig `outDir`/`rootDir`, Nx `project.json`). Builds: the
//! `build` script, else the framework's build or `tsc`.
//!
//! Deliberately not here: deciding what the package is (`mod.rs`).

use super::code::CodeFacts;
use super::manifest::{self, Entry, Manifest};
use super::scripts::{self, Class};
use super::Pkg;
use crate::ctx::Ctx;
use crate::draft::{ev, Draft, Trust, PORT};
use crate::repo::{file_name, join, parent};
use crate::scan::line_text;
use autodeploy_core::{Evidence, Severity};
use regex::Regex;
use std::sync::LazyLock;

/// Scripts that start the app in production, in order of preference.
pub(super) const START_SCRIPTS: &[&str] = &[
    "start:prod",
    "start:production",
    "prod",
    "production",
    "start",
];

/// Scripts that start a development server when there is no `start`.
pub(super) const DEV_SCRIPTS: &[&str] = &["dev", "start:dev", "develop", "serve", "watch"];

/// Names of entry files, preferred when several files open a server.
pub(super) const ENTRY_STEMS: &[&str] = &["server", "index", "main", "app", "www", "start"];

/// A script: (name, entry).
pub(super) type Script<'a> = (&'static str, &'a Entry);

/// A script that runs a dev server: (name, entry, tool).
pub(super) type DevScript<'a> = (&'static str, &'a Entry, String);

/// The production start script and, failing that, the dev-server script.
pub(super) fn start_scripts(m: &Manifest) -> (Option<Script<'_>>, Option<DevScript<'_>>) {
    let prod = START_SCRIPTS.iter().find_map(|name| {
        let e = m.script(name)?;
        (scripts::classify(&e.value, m) == Class::Production).then_some((*name, e))
    });
    let dev = if prod.is_some() {
        None
    } else {
        std::iter::once("start")
            .chain(DEV_SCRIPTS.iter().copied())
            .find_map(|name| {
                let e = m.script(name)?;
                match scripts::classify(&e.value, m) {
                    Class::Dev(tool) => Some((name, e, tool)),
                    _ => None,
                }
            })
    };
    (prod, dev)
}

/// The `main` file when it is a script rather than a library entry point.
pub(super) fn main_script(pkg: &Pkg) -> Option<String> {
    static EXPORTS: LazyLock<Regex> = LazyLock::new(|| {
        crate::scan::try_regex(r"(?m)\bmodule\.exports\b|^\s*exports\.\w+\s*=|^\s*export\s")
            .expect("regex")
    });
    let main = pkg.m.main.as_ref()?;
    let rel = resolve_file(pkg, &main.value)?;
    let text = pkg.ctx.read_path(&join(pkg.dir, &rel))?;
    (!EXPORTS.is_match(&text)).then_some(rel)
}

/// A path from package.json (`./bin/www`, `dist/main`, `.`) as an existing file
/// relative to the package, trying Node's extension resolution.
pub(super) fn resolve_file(pkg: &Pkg, path: &str) -> Option<String> {
    let p = path.trim().trim_start_matches("./").trim_end_matches('/');
    let p = if p.is_empty() || p == "." {
        pkg.m
            .main
            .as_ref()
            .map(|m| m.value.trim_start_matches("./").to_string())?
    } else {
        p.to_string()
    };
    let has = |rel: &str| pkg.ctx.index().contains(&join(pkg.dir, rel));
    if has(&p) {
        return Some(p);
    }
    for ext in [".js", ".mjs", ".cjs", ".ts", "/index.js", "/index.ts"] {
        let c = format!("{p}{ext}");
        if has(&c) {
            return Some(c);
        }
    }
    None
}

/// The entry file the dev script runs (`nodemon src/index.ts` → `src/index.ts`).
pub(super) fn dev_entry(pkg: &Pkg) -> Option<String> {
    let (_, e, _) = pkg.dev_start.as_ref()?;
    let exists = |p: &str| pkg.ctx.index().contains(&join(pkg.dir, p));
    scripts::entry_of(&e.value, pkg.m, &exists)
        .and_then(|f| resolve_file(pkg, &f).or(Some(f)))
        .or_else(|| nodemon_exec_entry(pkg))
}

/// `nodemon.json` `exec`: `{"exec": "ts-node src/index.ts"}`.
pub(super) fn nodemon_exec_entry(pkg: &Pkg) -> Option<String> {
    let text = pkg.ctx.read(pkg.dir, "nodemon.json")?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let exec = v.get("exec")?.as_str()?;
    let exists = |p: &str| pkg.ctx.index().contains(&join(pkg.dir, p));
    scripts::entry_of(exec, pkg.m, &exists)
}

/// Ports read from `.listen(…)` calls (evidence: the line the port is written on).
pub(super) fn add_code_ports(ctx: &Ctx, web: &mut Draft, facts: &CodeFacts) {
    for l in &facts.listens {
        if let Some((p, line)) = l.port {
            let text = ctx.read_path(&l.file).unwrap_or_default();
            web.port(
                p,
                Trust::Code,
                ev(&l.file, Some(line), line_text(&text, line)),
            );
        }
    }
}

/// Start claim for a process: the production start script, else an inferred
/// command (with a `dev_server_start` finding when a dev server was the only way in).
pub(super) fn server_start(
    pkg: &Pkg,
    web: &mut Draft,
    framework_start: Option<String>,
    facts: &CodeFacts,
) {
    if let Some((name, e)) = pkg.prod_start {
        let evid = ev(&pkg.m.file, e.line, format!("\"{name}\": \"{}\"", e.value));
        web.start(pkg.mgr.run(name), Trust::Config, evid.clone());
        if let Some(p) = crate::config::port_in_command(&e.value) {
            web.port(p, Trust::Config, evid);
        }
        return;
    }
    let inferred = framework_start
        .map(|c| {
            let e = ev(
                &pkg.m.file,
                None,
                "inferred: the framework's production server",
            );
            (c, e)
        })
        .or_else(|| infer_entry_start(pkg, web, facts));
    match &inferred {
        Some((cmd, e)) => web.start(cmd.clone(), Trust::Inferred, e.clone()),
        None => web.finding(
            "start_not_found",
            Severity::Warning,
            Some(&pkg.m.file),
            None,
            format!(
                "no production start command found: {} has no `start` script and no entry file \
                 that opens the server was found; add \"start\": \"node <entry file>\" to its scripts",
                pkg.m.file
            ),
            None,
        ),
    }
    if let Some((name, e, tool)) = &pkg.dev_start {
        let cmd = inferred.as_ref().map(|(c, _)| c.replace(PORT, "$PORT"));
        let instead = match &cmd {
            Some(c) => format!("autodeploy starts the app with `{c}` instead"),
            None => "no production command could be inferred".to_string(),
        };
        // A dev server as `start` is a trap; a project with only `dev` simply has no start script.
        let (what, severity) = if *name == "start" {
            (
                format!("the `start` script runs a development server or watcher (`{tool}`)"),
                Severity::Warning,
            )
        } else {
            (
                format!(
                    "there is no production `start` script, only `{name}`, which runs a development server or watcher (`{tool}`)"
                ),
                Severity::Info,
            )
        };
        let advice = match &cmd {
            Some(c) => {
                // Scripts find package binaries themselves: drop the `npx ` of the command.
                let exec = pkg.mgr.exec("");
                let script = c.strip_prefix(exec.as_str()).unwrap_or(c);
                format!(
                    "add \"start\": \"{}\" to package.json and keep the watcher under `dev`",
                    script.replace('"', "\\\"")
                )
            }
            None => "add a production `start` script".to_string(),
        };
        web.finding(
            "dev_server_start",
            severity,
            Some(&pkg.m.file),
            e.line,
            format!("{what}: it restarts on file changes and is not meant for production; {instead} — {advice}"),
            None,
        );
    }
}

/// `node <entry>` for the file that runs the app (compiled output for TypeScript),
/// with the evidence for it.
pub(super) fn infer_entry_start(
    pkg: &Pkg,
    web: &mut Draft,
    facts: &CodeFacts,
) -> Option<(String, Evidence)> {
    let dir = pkg.dir;
    // (path relative to the package, how it was found, is compiled output not in the repo)
    let mut entry: Option<(String, String, bool)> =
        dev_entry(pkg).map(|e| (e, "the file the dev script runs".to_string(), false));
    if entry.is_none() {
        if let Some(main) = &pkg.m.main {
            match resolve_file(pkg, &main.value) {
                Some(f) => entry = Some((f, "package.json main".into(), false)),
                None => {
                    let v = main.value.trim_start_matches("./").to_string();
                    if pkg.ts && scripts::JS_EXTS.iter().any(|e| v.ends_with(e)) {
                        entry = Some((v, "package.json main (compiled output)".into(), true));
                    }
                }
            }
        }
    }
    if entry.is_none() {
        if let Some((out, e)) = nx_output(pkg) {
            return Some((format!("node {out}"), e));
        }
    }
    if entry.is_none() && pkg.ctx.has(&join(dir, "bin"), "www") {
        entry = Some((
            "bin/www".into(),
            "express-generator entry bin/www".into(),
            false,
        ));
    }
    if entry.is_none() {
        entry = pick_server_file(pkg, facts).map(|f| (f, "opens the server".into(), false));
    }
    let (rel, how, compiled) = entry?;
    let repo_path = join(dir, &rel);
    if compiled {
        add_build(pkg, web, Some("tsc"));
        let line = pkg.m.main.as_ref().and_then(|m| m.line);
        return Some((
            format!("node {rel}"),
            ev(&pkg.m.file, line, format!("inferred: {how}")),
        ));
    }
    let is_ts = [".ts", ".mts", ".cts", ".tsx"]
        .iter()
        .any(|e| rel.ends_with(e));
    let found = |note: String| ev(&repo_path, None, note);
    if !is_ts {
        return Some((
            format!("node {rel}"),
            found(format!("inferred: {rel} ({how})")),
        ));
    }
    if pkg.mgr.name == "bun" {
        return Some((
            format!("bun {rel}"),
            found(format!("inferred: {rel} ({how}), run by bun")),
        ));
    }
    let (out, cfg) = compiled_path(pkg, &rel);
    if cfg.as_ref().is_some_and(|c| c.no_emit) {
        for runner in ["tsx", "ts-node"] {
            if pkg.m.declares(runner) {
                let cmd = pkg.mgr.exec(&format!("{runner} {rel}"));
                return Some((
                    cmd,
                    found(format!(
                        "inferred: {rel} ({how}); tsconfig has noEmit, so {runner} runs it"
                    )),
                ));
            }
        }
    }
    let tsc = match &cfg {
        Some(c) if file_name(&c.file) != "tsconfig.json" => {
            format!(
                "tsc -p {}",
                c.file.strip_prefix(&format!("{dir}/")).unwrap_or(&c.file)
            )
        }
        _ => "tsc".to_string(),
    };
    add_build(pkg, web, Some(&tsc));
    let via = cfg.map(|c| c.file).unwrap_or_else(|| "tsc defaults".into());
    Some((
        format!("node {out}"),
        found(format!("inferred: {rel} ({how}) compiled to {out} ({via})")),
    ))
}

/// Nx: `project.json` build target → `<outputPath>/<main>.js` (what `nx build` emits).
pub(super) fn nx_output(pkg: &Pkg) -> Option<(String, Evidence)> {
    let file = join(pkg.dir, "project.json");
    let text = pkg.ctx.read_path(&file)?;
    let doc = manifest::parse_jsonc(&text)?;
    let opts = doc.get("targets")?.get("build")?.get("options")?;
    let out = opts.get("outputPath")?.as_str()?.trim_end_matches('/');
    let main = opts.get("main")?.as_str()?;
    let stem = file_name(main)
        .rsplit_once('.')
        .map(|(s, _)| s)
        .unwrap_or(main);
    let line = crate::scan::find_line(&text, "\"outputPath\"");
    Some((
        format!("{out}/{stem}.js"),
        ev(
            &file,
            line,
            format!("inferred: nx build output of {main} in {out}"),
        ),
    ))
}

/// The source file that opens the server: an entry-named file closest to the root.
pub(super) fn pick_server_file(pkg: &Pkg, facts: &CodeFacts) -> Option<String> {
    let rel = |f: &str| {
        if pkg.dir.is_empty() {
            f.to_string()
        } else {
            f.strip_prefix(&format!("{}/", pkg.dir))
                .unwrap_or(f)
                .to_string()
        }
    };
    let mut files: Vec<&str> = facts.listens.iter().map(|l| l.file.as_str()).collect();
    if files.is_empty() {
        files = facts.apps.values().map(|(f, _)| f.as_str()).collect();
    }
    files
        .into_iter()
        .min_by_key(|f| {
            let stem = file_name(f).split('.').next().unwrap_or("");
            (
                !ENTRY_STEMS.contains(&stem),
                f.matches('/').count(),
                f.to_string(),
            )
        })
        .map(rel)
}

/// Where tsc puts the compiled `rel` (relative to the package), and the tsconfig used.
pub(super) fn compiled_path(pkg: &Pkg, rel: &str) -> (String, Option<manifest::TsConfig>) {
    static PROJECT: LazyLock<Regex> = LazyLock::new(|| {
        crate::scan::try_regex(r"\btsc\b[^&|;]*?(?:-p|--project)\s+(\S+)").expect("regex")
    });
    let name = pkg
        .m
        .script("build")
        .and_then(|b| PROJECT.captures(&b.value).map(|c| c[1].to_string()))
        .unwrap_or_else(|| "tsconfig.json".into());
    let name = if name.ends_with(".json") {
        name
    } else {
        format!("{}/tsconfig.json", name.trim_end_matches('/'))
    };
    let cfg = manifest::tsconfig(pkg.ctx, pkg.dir, &name);
    let root = cfg
        .as_ref()
        .and_then(|c| c.root_dir.clone())
        .unwrap_or_else(|| common_ts_root(pkg));
    let inside = if root.is_empty() || root == "." {
        rel.to_string()
    } else {
        rel.strip_prefix(&format!("{root}/"))
            .unwrap_or(rel)
            .to_string()
    };
    let js = swap_ts_ext(&inside);
    let out = match cfg.as_ref().and_then(|c| c.out_dir.clone()) {
        Some(o) if o != "." => format!("{o}/{js}"),
        _ => {
            // No outDir: tsc writes next to the sources.
            swap_ts_ext(rel)
        }
    };
    (out, cfg)
}

pub(super) fn swap_ts_ext(path: &str) -> String {
    for (ts, js) in [
        (".mts", ".mjs"),
        (".cts", ".cjs"),
        (".tsx", ".js"),
        (".ts", ".js"),
    ] {
        if let Some(stem) = path.strip_suffix(ts) {
            return format!("{stem}{js}");
        }
    }
    path.to_string()
}

/// The longest common folder of the package's TypeScript sources (tsc's default rootDir).
pub(super) fn common_ts_root(pkg: &Pkg) -> String {
    let prefix = if pkg.dir.is_empty() {
        String::new()
    } else {
        format!("{}/", pkg.dir)
    };
    let dirs: Vec<Vec<&str>> = pkg
        .files
        .iter()
        .filter(|f| {
            (f.ends_with(".ts") || f.ends_with(".mts") || f.ends_with(".cts"))
                && !f.ends_with(".d.ts")
        })
        .filter(|f| !super::code::is_tooling_file(f) && !file_name(f).contains(".config."))
        .map(|f| {
            let rel = f.strip_prefix(&prefix).unwrap_or(f);
            parent(rel).split('/').filter(|s| !s.is_empty()).collect()
        })
        .collect();
    let Some(first) = dirs.first() else {
        return String::new();
    };
    let mut n = first.len();
    for d in &dirs[1..] {
        n = n.min(
            d.iter()
                .zip(first.iter())
                .take_while(|(a, b)| a == b)
                .count(),
        );
    }
    first[..n].join("/")
}

/// `module.exports = { build, watch }` / `{ build: series(…) }`: the
/// object a gulpfile exports names `task`.
fn exports_object_has(text: &str, task: &str) -> bool {
    let Some(at) = text.find("module.exports") else {
        return false;
    };
    let Some(open) = text[at..].find('{').map(|o| at + o) else {
        return false;
    };
    crate::wiring::bracketed(text, open).is_some_and(|body| {
        crate::wiring::split_top(body).iter().any(|p| {
            let key = p.split(':').next().unwrap_or("").trim();
            key == task
        })
    })
}

/// The gulp task a RUN line of the project's Dockerfile runs (`RUN gulp
/// local`), with the Dockerfile and the line: (task, file, line).
fn dockerfile_gulp_task(pkg: &Pkg) -> Option<(String, String, u32)> {
    let df = crate::config::dockerfile::find(pkg.ctx, pkg.dir)?;
    let text = pkg.ctx.read_path(&df)?;
    text.lines().enumerate().find_map(|(i, line)| {
        let l = line.trim();
        let run = l.strip_prefix("RUN ").or_else(|| l.strip_prefix("run "))?;
        let words: Vec<&str> = run.split_whitespace().collect();
        let at = words
            .iter()
            .position(|w| *w == "gulp" || w.ends_with("/gulp"))?;
        let task = words.get(at + 1)?;
        (task
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':'))
            && !task.starts_with('-'))
        .then(|| (task.to_string(), df.clone(), i as u32 + 1))
    })
}

/// Add the build claim: the `build` script (or a lone `build:*` one), else
/// `fallback` (a package binary run through the manager). Returns the command.
pub(super) fn add_build(pkg: &Pkg, web: &mut Draft, fallback: Option<&str>) -> Option<String> {
    if let Some(existing) = web.builds.first() {
        return Some(existing.value.clone());
    }
    // The build the project's own image runs (umami's `build-docker`:
    // its `build` also checks and migrates a database, which no image
    // build can reach) is the deployment's build, wherever it runs.
    let for_images = [
        "build-docker",
        "build:docker",
        "docker:build",
        "docker-build",
    ]
    .into_iter()
    .find_map(|n| pkg.m.script(n).map(|e| (n.to_string(), e)))
    // Not one that runs Docker itself (`"docker:build": "docker-compose build"`).
    .filter(|(_, e)| {
        !e.value
            .split_whitespace()
            .any(|w| w.starts_with("docker") || w == "podman")
    });
    let script =
        match for_images.or_else(|| pkg.m.script("build").map(|e| ("build".to_string(), e))) {
            Some(found) => Some(found),
            None => {
                let named: Vec<(&String, &Entry)> = pkg
                    .m
                    .scripts
                    .iter()
                    .filter(|(k, _)| k.starts_with("build:"))
                    .collect();
                (named.len() == 1).then(|| (named[0].0.clone(), named[0].1))
            }
        };
    if let Some((name, e)) = script {
        if !matches!(scripts::classify(&e.value, pkg.m), Class::Dev(_)) {
            let cmd = with_standalone_assets(pkg, pkg.mgr.run(&name));
            web.build(
                cmd.clone(),
                Trust::Config,
                ev(&pkg.m.file, e.line, format!("\"{name}\": \"{}\"", e.value)),
            );
            return Some(cmd);
        }
    }
    // No build script: a gulpfile's own `build` task (`gulp.task("build",
    // …)`, `exports.build`), as an asset pipeline beside a backend runs it.
    if pkg.m.dep("gulp").is_some() {
        let gulpfiles: Vec<String> = ["gulpfile.js", "gulpfile.mjs", "gulpfile.cjs", "gulpfile.ts"]
            .iter()
            .map(|f| join(pkg.dir, f))
            .filter(|f| pkg.ctx.index().contains(f))
            .collect();
        // The task the project's own image runs (`RUN gulp local`:
        // djangogirls' settings serve what that task writes).
        if let (Some(file), Some((task, df, line))) = (gulpfiles.first(), dockerfile_gulp_task(pkg))
        {
            let cmd = pkg.mgr.exec(&format!("gulp {task}"));
            web.build(
                cmd.clone(),
                Trust::Config,
                ev(&df, Some(line), format!("RUN gulp {task} (with {file})")),
            );
            return Some(cmd);
        }
        let gulpfile = gulpfiles.into_iter().find(|f| {
            pkg.ctx.read_path(f).is_some_and(|t| {
                t.contains("task(\"build\"")
                    || t.contains("task('build'")
                    || t.contains("exports.build")
                    || t.contains("export const build")
                    || exports_object_has(&t, "build")
            })
        });
        if let Some(file) = gulpfile {
            let cmd = pkg.mgr.exec("gulp build");
            web.build(
                cmd.clone(),
                Trust::Config,
                ev(&file, None, "the gulpfile's build task"),
            );
            return Some(cmd);
        }
    }
    let fallback = super::frameworks::default_build(pkg.m, fallback?)?;
    let cmd = pkg.mgr.exec(fallback);
    web.build(
        cmd.clone(),
        Trust::Inferred,
        ev(&pkg.m.file, None, format!("inferred: {fallback}")),
    );
    Some(cmd)
}

/// Next.js's standalone output (`output: 'standalone'`, started with
/// `node .next/standalone/server.js`) holds the server but not the static
/// files it serves: without `.next/static` and `public` beside it, every
/// script and stylesheet is 404 (next-self-host). The build copies them
/// there, as Next's own Dockerfile does.
fn with_standalone_assets(pkg: &Pkg, build: String) -> String {
    let standalone = pkg
        .m
        .script("start")
        .is_some_and(|e| e.value.contains(".next/standalone/server.js"));
    if !standalone {
        return build;
    }
    format!(
        "{build} && mkdir -p .next/standalone/.next && cp -r .next/static .next/standalone/.next/ && if [ -d public ]; then cp -r public .next/standalone/; fi"
    )
}
