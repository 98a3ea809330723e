//! `package.json` scripts as commands: is a script a production command, a
//! development server / watcher, or something else (build, lint)? Which file
//! does it run? Script references (`npm run dev`) are followed.
//!
//! Deliberately not here: choosing which script starts the service (that is
//! `mod.rs`), or anything about frameworks beyond recognising their CLIs.

use super::manifest::Manifest;

/// What running a script does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Class {
    /// Runs the app the way production should (`node server.js`, `next start`).
    Production,
    /// A development server, watcher or preview server; the tool is named.
    Dev(String),
    /// Does not run anything long-lived (`echo`, `exit 1`, a build step only).
    Nothing,
}

/// Programs that mark a development server or watcher: (program, sub-command or
/// flag that makes it one; `None` = always, `Some("")` = no build/preview sub-command given).
const DEV_TOOLS: &[(&str, Option<&str>)] = &[
    ("nodemon", None),
    ("ts-node-dev", None),
    ("tsnd", None),
    ("tsc-watch", None),
    ("webpack-dev-server", None),
    ("live-server", None),
    ("lite-server", None),
    ("browser-sync", None),
    ("concurrently", None),
    // Sequential `npm-run-all a b` is a build runner (umami's build);
    // parallel runs are watchers side by side.
    ("npm-run-all", Some("--parallel")),
    ("npm-run-all", Some("-p")),
    ("npm-run-all", Some("--race")),
    ("npm-run-all", Some("-r")),
    ("run-p", None),
    ("tsx", Some("watch")),
    ("tsx", Some("--watch")),
    ("node", Some("--watch")),
    ("node", Some("--watch-path")),
    ("bun", Some("--watch")),
    ("bun", Some("--hot")),
    ("deno", Some("--watch")),
    ("tsc", Some("--watch")),
    ("tsc", Some("-w")),
    ("vite-node", Some("--watch")),
    ("next", Some("dev")),
    ("nuxt", Some("dev")),
    ("nuxi", Some("dev")),
    ("remix", Some("dev")),
    ("remix", Some("vite:dev")),
    ("react-router", Some("dev")),
    ("vite", Some("")),
    ("vite", Some("dev")),
    ("vite", Some("serve")),
    ("vite", Some("preview")),
    ("astro", Some("dev")),
    ("astro", Some("preview")),
    ("nuxt", Some("preview")),
    ("nuxi", Some("preview")),
    ("svelte-kit", Some("dev")),
    ("react-scripts", Some("start")),
    ("craco", Some("start")),
    ("react-app-rewired", Some("start")),
    ("ng", Some("serve")),
    ("ng", Some("s")),
    ("vue-cli-service", Some("serve")),
    ("webpack", Some("serve")),
    ("webpack", Some("--watch")),
    ("webpack", Some("-w")),
    ("gatsby", Some("develop")),
    ("docusaurus", Some("start")),
    ("parcel", Some("")),
    ("parcel", Some("serve")),
    ("parcel", Some("watch")),
    ("nest", Some("--watch")),
    ("nest", Some("-w")),
    ("nest", Some("--debug")),
    ("turbo", Some("dev")),
    ("nx", Some("serve")),
    ("nx", Some("dev")),
    ("expo", Some("start")),
];

/// Programs that only build or check (a script made of these runs nothing long-lived).
const ONE_SHOT: &[&str] = &[
    "echo", "exit", "rm", "rimraf", "mkdir", "cp", "mv", "tsc", "eslint", "prettier", "jest",
    "vitest", "mocha", "husky", "prisma", "true", "false",
];

/// Commands that wrap another command (`cross-env A=1 node x`, `npx tsx x`).
const WRAPPERS: &[&str] = &[
    "cross-env",
    "env",
    "npx",
    "bunx",
    "dotenv",
    "env-cmd",
    "exec",
    "time",
    "nice",
];

/// Programs that run a JS/TS file given as their first positional argument.
pub const RUNNERS: &[&str] = &[
    "node",
    "nodemon",
    "ts-node",
    "ts-node-esm",
    "ts-node-dev",
    "tsnd",
    "tsx",
    "esno",
    "babel-node",
    "bun",
    "deno",
    "pm2-runtime",
    "forever",
    "vite-node",
];

/// Options of runners that always take a value (the value is not the entry file).
const VALUE_OPTIONS: &[&str] = &[
    "-r",
    "--require",
    "--import",
    "--loader",
    "--experimental-loader",
    "--exec",
    "-x",
    "--ext",
    "-e",
    "--eval",
    "--ignore",
    "-i",
    "--env-file",
    "--config",
    "--project",
    "-P",
    "--inspect-port",
    "--title",
    "--name",
    "--tsconfig",
    "--signal",
    "--delay",
];

/// Watchers whose `--watch`/`-w` option takes a path.
const WATCH_TAKES_PATH: &[&str] = &["nodemon", "ts-node-dev", "tsnd"];

/// Split a shell command into simple commands (`a && b; c | d` → [a, b, c, d]),
/// each a list of unquoted words.
pub fn segments(cmd: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut chars = cmd.chars().peekable();
    let flush_word = |word: &mut String, words: &mut Vec<String>| {
        if !word.is_empty() {
            words.push(std::mem::take(word));
        }
    };
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => quote = Some(c),
            (None, '\\') => {
                if let Some(n) = chars.next() {
                    word.push(n);
                }
            }
            (None, '&' | '|' | ';') => {
                while matches!(chars.peek(), Some('&' | '|')) {
                    chars.next();
                }
                flush_word(&mut word, &mut words);
                if !words.is_empty() {
                    out.push(std::mem::take(&mut words));
                }
            }
            (None, c) if c.is_whitespace() => flush_word(&mut word, &mut words),
            (None, c) => word.push(c),
        }
    }
    flush_word(&mut word, &mut words);
    if !words.is_empty() {
        out.push(words);
    }
    out
}

/// Drop env assignments and wrappers: `cross-env NODE_ENV=production node x` → `node x`.
pub fn unwrap(words: &[String]) -> &[String] {
    let mut w = words;
    loop {
        match w.first().map(String::as_str) {
            Some(first) if is_assignment(first) => w = &w[1..],
            Some("dotenv") | Some("env-cmd") => {
                // `dotenv -e .env -- node x`: skip to after `--` when present.
                match w.iter().position(|x| x == "--") {
                    Some(i) => w = &w[i + 1..],
                    None => w = &w[1..],
                }
            }
            Some(first) if WRAPPERS.contains(&first) => {
                w = &w[1..];
                // `npx --yes x`
                while w.first().is_some_and(|x| x.starts_with('-')) {
                    w = &w[1..];
                }
            }
            Some("pnpm") if w.get(1).is_some_and(|x| x == "exec" || x == "dlx") => w = &w[2..],
            Some("yarn") if w.get(1).is_some_and(|x| x == "exec" || x == "dlx") => w = &w[2..],
            Some("bun") if w.get(1).is_some_and(|x| x == "x") => w = &w[2..],
            _ => return w,
        }
    }
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=')
        .is_some_and(|(k, _)| !k.is_empty() && crate::draft::is_env_name(k))
}

/// The script a simple command runs, when it runs one, with the arguments it
/// passes on (`pnpm with-env next start` → (`with-env`, `next start`);
/// `npm run dev -- --port 4000` → (`dev`, `--port 4000`)).
pub fn script_ref(words: &[String]) -> Option<(&str, String)> {
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    let (name, rest): (&str, &[&str]) = match w.as_slice() {
        ["npm", "start", rest @ ..]
        | ["yarn", "start", rest @ ..]
        | ["pnpm", "start", rest @ ..] => ("start", rest),
        ["npm", "run" | "run-script", name, rest @ ..]
        | ["yarn", "run", name, rest @ ..]
        | ["pnpm", "run", name, rest @ ..]
        | ["bun", "run", name, rest @ ..] => (name, rest),
        ["yarn" | "pnpm", name, rest @ ..]
            if !name.starts_with('-')
                && !matches!(
                    *name,
                    "install"
                        | "add"
                        | "exec"
                        | "dlx"
                        | "workspace"
                        | "workspaces"
                        | "recursive"
                        | "why"
                        | "test"
                        | "remove"
                        | "up"
                        | "upgrade"
                ) =>
        {
            (name, rest)
        }
        _ => return None,
    };
    let rest: Vec<&str> = rest.iter().copied().skip_while(|a| *a == "--").collect();
    Some((name, rest.join(" ")))
}

/// A script's command with the arguments a reference passed on appended.
fn with_args(cmd: &str, args: &str) -> String {
    if args.is_empty() {
        cmd.to_string()
    } else {
        format!("{cmd} {args}")
    }
}

/// The dev tool a simple command runs, if any (`next dev`, `nodemon`).
fn dev_tool(words: &[String]) -> Option<String> {
    let w = unwrap(words);
    let prog = w.first()?.as_str();
    let prog = prog.rsplit('/').next().unwrap_or(prog);
    let args: Vec<&str> = w[1..].iter().map(String::as_str).collect();
    let sub = args.iter().find(|a| !a.starts_with('-')).copied();
    for (tool, cond) in DEV_TOOLS {
        if *tool != prog {
            continue;
        }
        let hit = match cond {
            None => true,
            // No sub-command: bare `vite` / `parcel index.html` (their option values
            // are not sub-commands, so look for the build-type ones instead).
            Some("") => !args.iter().any(|a| {
                matches!(
                    *a,
                    "build" | "optimize" | "preview" | "serve" | "dev" | "watch"
                )
            }),
            Some(flag) if flag.starts_with('-') => args
                .iter()
                .any(|a| a == flag || a.starts_with(&format!("{flag}="))),
            Some(s) => sub == Some(*s),
        };
        if hit {
            let mut shown = vec![prog];
            shown.extend(args.iter().take(2));
            return Some(shown.join(" "));
        }
    }
    None
}

/// Classify script text (following references to other scripts).
pub fn classify(cmd: &str, m: &Manifest) -> Class {
    classify_depth(cmd, m, 0)
}

fn classify_depth(cmd: &str, m: &Manifest, depth: u8) -> Class {
    let mut runs = false;
    for seg in segments(cmd) {
        if let Some((name, args)) = script_ref(&seg) {
            if depth < 4 {
                if let Some(e) = m.script(name) {
                    match classify_depth(&with_args(&e.value, &args), m, depth + 1) {
                        Class::Dev(t) => return Class::Dev(t),
                        Class::Production => runs = true,
                        Class::Nothing => {}
                    }
                }
            }
            continue;
        }
        if let Some(tool) = dev_tool(&seg) {
            return Class::Dev(tool);
        }
        let w = unwrap(&seg);
        let Some(prog) = w.first() else { continue };
        let prog = prog.rsplit('/').next().unwrap_or(prog);
        if ONE_SHOT.contains(&prog) || is_build_command(w) {
            continue;
        }
        runs = true;
    }
    if runs {
        Class::Production
    } else {
        Class::Nothing
    }
}

/// `vite build`, `next build`, `nest build`, `webpack` (no serve/watch)…
fn is_build_command(w: &[String]) -> bool {
    let args: Vec<&str> = w.iter().skip(1).map(String::as_str).collect();
    let sub = args.iter().find(|a| !a.starts_with('-')).copied();
    let prog = w.first().map(String::as_str).unwrap_or("");
    matches!(
        sub,
        Some(
            "build"
                | "generate"
                | "export"
                | "prepare"
                | "sync"
                | "lint"
                | "test"
                | "typecheck"
                | "check"
        )
    ) || matches!(
        prog,
        "webpack"
            | "rollup"
            | "esbuild"
            | "tsup"
            | "swc"
            | "babel"
            | "ncc"
            | "tailwindcss"
            | "postcss"
            | "sass"
    )
}

/// The file a script runs (`nodemon src/index.ts` → `src/index.ts`), following
/// script references. `exists` says whether a path (relative to the package) is a file.
pub fn entry_of(cmd: &str, m: &Manifest, exists: &dyn Fn(&str) -> bool) -> Option<String> {
    entry_depth(cmd, m, exists, 0)
}

fn entry_depth(
    cmd: &str,
    m: &Manifest,
    exists: &dyn Fn(&str) -> bool,
    depth: u8,
) -> Option<String> {
    // The last simple command that runs a file is the app (`tsc && node dist/x.js`).
    for seg in segments(cmd).iter().rev() {
        if let Some((name, args)) = script_ref(seg) {
            if depth < 4 {
                if let Some(found) = m
                    .script(name)
                    .and_then(|e| entry_depth(&with_args(&e.value, &args), m, exists, depth + 1))
                {
                    return Some(found);
                }
            }
            continue;
        }
        if let Some(f) = runner_entry(seg, exists) {
            return Some(f);
        }
    }
    None
}

/// The file argument of a runner command (`node -r dotenv/config server.js` → `server.js`).
pub fn runner_entry(words: &[String], exists: &dyn Fn(&str) -> bool) -> Option<String> {
    let w = unwrap(words);
    let prog = w.first()?.as_str();
    let prog = prog.rsplit('/').next().unwrap_or(prog);
    let mut args = &w[1..];
    if prog == "pm2" && args.first().is_some_and(|a| a == "start") {
        args = &args[1..];
    } else if !RUNNERS.contains(&prog) {
        return None;
    }
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if a.starts_with('-') {
            let takes_value = VALUE_OPTIONS.contains(&a)
                || (matches!(a, "--watch" | "-w")
                    && WATCH_TAKES_PATH.contains(&prog)
                    && !args
                        .get(i + 1)
                        .is_some_and(|n| JS_EXTS.iter().any(|e| n.ends_with(e))));
            i += if takes_value { 2 } else { 1 };
            continue;
        }
        if matches!(a, "watch" | "run" | "start") && i == 0 && prog != "node" {
            i += 1;
            continue;
        }
        if looks_like_file(Some(a), exists) {
            let clean = a.trim_start_matches("./").to_string();
            return Some(if clean.is_empty() { ".".into() } else { clean });
        }
        // The first positional argument is the script; anything else is not ours.
        if prog == "node" || prog == "bun" || prog == "deno" {
            return None;
        }
        i += 1;
    }
    None
}

/// Extensions of files Node (or a TS runner) executes.
pub const JS_EXTS: &[&str] = &[".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx"];

fn looks_like_file(word: Option<&str>, exists: &dyn Fn(&str) -> bool) -> bool {
    let Some(w) = word else { return false };
    if w == "." || w == "./" {
        return true;
    }
    let clean = w.trim_start_matches("./");
    JS_EXTS.iter().any(|e| clean.ends_with(e)) || exists(clean)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detectors::node::manifest::parse;

    fn m(scripts: &str) -> Manifest {
        parse("package.json", &format!(r#"{{"scripts": {scripts}}}"#)).unwrap()
    }

    #[test]
    fn dev_servers() {
        let man = m(r#"{"dev": "nodemon src/index.js", "x": "echo hi"}"#);
        for (cmd, dev) in [
            ("nodemon server.js", true),
            ("ts-node-dev --respawn src/index.ts", true),
            ("tsx watch src/index.ts", true),
            ("node --watch server.js", true),
            ("next dev", true),
            ("next dev -p 4000", true),
            ("vite", true),
            ("vite --port 3000", true),
            ("vite build", false),
            ("react-scripts start", true),
            ("nuxt dev", true),
            ("ng serve", true),
            ("npm run dev", true),
            ("cross-env NODE_ENV=development nodemon app.js", true),
            ("nest start --watch", true),
            ("concurrently \"npm:dev:*\"", true),
            ("npm-run-all --parallel watch:*", true),
            ("npm-run-all -p dev:api dev:web", true),
            ("npm-run-all check-env build-db build-app", false),
            ("node server.js", false),
            ("next start", false),
            ("node dist/main", false),
            ("NODE_ENV=production node index.js", false),
            ("remix-serve ./build/server/index.js", false),
            ("pm2-runtime ecosystem.config.js", false),
        ] {
            let c = classify(cmd, &man);
            assert_eq!(matches!(c, Class::Dev(_)), dev, "{cmd}: {c:?}");
        }
        assert_eq!(
            classify("echo \"Error: no test specified\" && exit 1", &man),
            Class::Nothing
        );
        assert_eq!(classify("tsc && vite build", &man), Class::Nothing);
        assert_eq!(classify("npm run x", &man), Class::Nothing);
        assert_eq!(
            classify("npm run build && node dist/index.js", &man),
            Class::Production
        );
    }

    #[test]
    fn entries() {
        let man = m(r#"{"dev": "nodemon --watch src src/server.ts", "start": "npm run dev"}"#);
        let exists = |p: &str| p == "bin/www" || p == "dist/main.js";
        let e = |c: &str| entry_of(c, &man, &exists);
        assert_eq!(e("node ./bin/www").as_deref(), Some("bin/www"));
        assert_eq!(
            e("node -r dotenv/config server.js").as_deref(),
            Some("server.js")
        );
        assert_eq!(
            e("nodemon --watch src src/server.ts").as_deref(),
            Some("src/server.ts")
        );
        assert_eq!(e("tsx watch src/index.ts").as_deref(), Some("src/index.ts"));
        assert_eq!(
            e("ts-node-dev --respawn --transpile-only src/app.ts").as_deref(),
            Some("src/app.ts")
        );
        assert_eq!(e("node --watch server.js").as_deref(), Some("server.js"));
        assert_eq!(
            e("tsc && node dist/index.js").as_deref(),
            Some("dist/index.js")
        );
        assert_eq!(e("npm start").as_deref(), Some("src/server.ts"));
        assert_eq!(
            e("cross-env NODE_ENV=production node app.mjs").as_deref(),
            Some("app.mjs")
        );
        assert_eq!(e("pm2 start index.js").as_deref(), Some("index.js"));
        assert_eq!(e("node .").as_deref(), Some("."));
        assert_eq!(e("next start"), None);
        assert_eq!(e("node --enable-source-maps dist/main").as_deref(), None);
    }

    #[test]
    fn segments_split_and_unquote() {
        assert_eq!(
            segments("a 'b c' && d \"e\"; f | g"),
            vec![vec!["a", "b c"], vec!["d", "e"], vec!["f"], vec!["g"]]
        );
    }
}
