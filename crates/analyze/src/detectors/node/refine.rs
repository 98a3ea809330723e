//! Framework config files that change a framework row: Next.js `output:
//! 'export'`, Nuxt `generate`/v2, Remix on Vite or a custom server, React Router
//! `ssr: false`, SvelteKit adapters, Astro's node adapter, Angular's
//! `outputPath`/builder, Vite's `outDir` and UI library (`react-vite`…).
//!
//! Deliberately not here: the rows themselves (`frameworks.rs`).

use super::frameworks::{Category, Framework};
use super::manifest::{parse_jsonc, Manifest};
use crate::ctx::Ctx;
use crate::draft::ev;
use crate::repo::join;
use autodeploy_core::Evidence;
use regex::Regex;
use std::sync::LazyLock;

/// Vite flavours: the UI library that names a Vite SPA (`react-vite`).
const VITE_FLAVOURS: &[(&str, &str)] = &[
    ("react", "react-vite"),
    ("vue", "vue-vite"),
    ("svelte", "svelte-vite"),
    ("preact", "preact-vite"),
    ("solid-js", "solid-vite"),
    ("lit", "lit-vite"),
];

/// What a framework's config files change about the default row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refined {
    /// Canonical name (a Vite SPA becomes `react-vite`…).
    pub name: String,
    pub category: Category,
    pub default_port: u16,
    /// Build when there is no build script (package binary; `{exec}` prefix added by the caller).
    pub build: Option<String>,
    /// Inferred start (may contain `{exec}` and `{PORT}`).
    pub start: Option<String>,
    pub static_dir: Option<String>,
    /// Evidence for kind/static_dir/start decided from a config file.
    pub evidence: Option<Evidence>,
    /// A problem to report (kind, message): no start command is inferred.
    pub problem: Option<(&'static str, String)>,
    /// A warning to report beside the inferred start (kind, message).
    pub warning: Option<(&'static str, String)>,
}

/// Apply config files to a framework row.
pub fn refine(fw: &Framework, ctx: &Ctx, dir: &str, m: &Manifest) -> Refined {
    let mut r = Refined {
        name: fw.name.to_string(),
        category: fw.category,
        default_port: fw.default_port,
        build: fw.build.map(str::to_string),
        start: fw.start.map(str::to_string),
        static_dir: fw.static_dir.map(str::to_string),
        evidence: None,
        problem: None,
        warning: None,
    };
    match fw.name {
        "nextjs" => nextjs(ctx, dir, m, &mut r),
        "nuxt" => nuxt(ctx, dir, m, &mut r),
        "remix" => remix(ctx, dir, m, &mut r),
        "react-router" => react_router(ctx, dir, &mut r),
        "sveltekit" => sveltekit(ctx, dir, m, &mut r),
        "astro" => astro(ctx, dir, m, &mut r),
        "angular" => angular(ctx, dir, m, &mut r),
        "vite" => vite(ctx, dir, m, &mut r),
        "vue-cli" => {
            if let Some((v, e)) =
                config_string(ctx, dir, &["vue.config.js", "vue.config.ts"], &OUTPUT_DIR)
            {
                r.static_dir = Some(v);
                r.evidence = Some(e);
            }
        }
        _ => {}
    }
    r
}

static OUTPUT_EXPORT: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r#"\boutput\s*:\s*['"]export['"]"#).expect("regex"));
static DIST_DIR: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r#"\bdistDir\s*:\s*['"]([^'"]+)['"]"#).expect("regex"));
static OUT_DIR: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r#"\boutDir\s*:\s*['"]([^'"]+)['"]"#).expect("regex"));
static OUTPUT_DIR: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"\boutputDir\s*:\s*['"]([^'"]+)['"]"#).expect("regex")
});
static SSR_FALSE: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"\bssr\s*:\s*false\b").expect("regex"));
static TARGET_STATIC: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r#"\btarget\s*:\s*['"]static['"]"#).expect("regex"));
static ADAPTER_PAGES: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"(?s)adapter\s*\(\s*\{[^}]*?\bpages\s*:\s*['"]([^'"]+)['"]"#)
        .expect("regex")
});
static ADAPTER_OUT: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"(?s)adapter\s*\(\s*\{[^}]*?\bout\s*:\s*['"]([^'"]+)['"]"#)
        .expect("regex")
});
static ADAPTER_IMPORT: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r#"['"]@sveltejs/adapter-([a-z-]+)['"]|['"](svelte-adapter-[a-z-]+)['"]"#,
    )
    .expect("regex")
});

/// First capture of `re` in the first of `names` (in `dir`) that has it.
fn config_string(ctx: &Ctx, dir: &str, names: &[&str], re: &Regex) -> Option<(String, Evidence)> {
    for name in names {
        let Some(text) = ctx.read(dir, name) else {
            continue;
        };
        if let Some((line, c)) = crate::scan::first_match(&text, re) {
            let v = c[1]
                .trim_start_matches("./")
                .trim_end_matches('/')
                .to_string();
            return Some((
                v,
                ev(
                    &join(dir, name),
                    Some(line),
                    crate::scan::line_text(&text, line),
                ),
            ));
        }
    }
    None
}

/// A config file (first of `names`) matching `re`: its evidence.
fn config_has(ctx: &Ctx, dir: &str, names: &[&str], re: &Regex) -> Option<Evidence> {
    for name in names {
        let Some(text) = ctx.read(dir, name) else {
            continue;
        };
        if let Some((line, _)) = crate::scan::first_match(&text, re) {
            return Some(ev(
                &join(dir, name),
                Some(line),
                crate::scan::line_text(&text, line),
            ));
        }
    }
    None
}

/// Evidence that the build script runs `needle` (`next export`, `nuxt generate`).
fn build_script_runs(m: &Manifest, needle: &str) -> Option<Evidence> {
    let e = m.script("build")?;
    e.value
        .contains(needle)
        .then(|| ev(&m.file, e.line, format!("build: {}", e.value)))
}

const NEXT_CONFIGS: &[&str] = &[
    "next.config.js",
    "next.config.mjs",
    "next.config.ts",
    "next.config.cjs",
];

/// `env: { … }` in a Next.js config (1: where its body opens).
static NEXT_ENV_BLOCK: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"\benv\s*:\s*(\{)").expect("regex"));

/// The names a Next.js config's `env` block defines (umami's `cloudUrl`,
/// `currentVersion: pkg.version`): Next inlines them into the code at
/// build, from the config's own values, so `process.env.cloudUrl` is no
/// setting a deployment gives. With the config file and line.
pub(super) fn next_config_env(ctx: &Ctx, dir: &str) -> Option<(Vec<String>, Evidence)> {
    for name in NEXT_CONFIGS {
        let Some(text) = ctx.read(dir, name) else {
            continue;
        };
        let Some(c) = NEXT_ENV_BLOCK.captures(&text) else {
            continue;
        };
        let open = c.get(1).map_or(0, |m| m.start());
        let body = crate::wiring::bracketed(&text, open)?;
        let keys: Vec<String> = crate::wiring::split_top(body)
            .into_iter()
            .filter_map(|part| {
                let key = part.split(':').next()?.trim().trim_matches(['"', '\'']);
                // `DATABASE_URL: process.env.DATABASE_URL` passes the
                // environment's own value on: still a setting.
                let ok = !key.is_empty()
                    && key
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
                    && !part.contains(&format!("env.{key}"));
                ok.then(|| key.to_string())
            })
            .collect();
        let line = crate::scan::line_of(&text, open);
        return Some((
            keys,
            ev(
                &join(dir, name),
                Some(line),
                "the config's env block, inlined at build",
            ),
        ));
    }
    None
}

fn nextjs(ctx: &Ctx, dir: &str, m: &Manifest, r: &mut Refined) {
    let export = config_has(ctx, dir, NEXT_CONFIGS, &OUTPUT_EXPORT)
        .or_else(|| build_script_runs(m, "next export"));
    if let Some(e) = export {
        r.category = Category::Static;
        r.start = None;
        r.static_dir = Some(
            config_string(ctx, dir, NEXT_CONFIGS, &DIST_DIR)
                .map(|(v, _)| v)
                .unwrap_or_else(|| "out".into()),
        );
        r.evidence = Some(e);
    }
}

fn nuxt(ctx: &Ctx, dir: &str, m: &Manifest, r: &mut Refined) {
    const CONFIGS: &[&str] = &["nuxt.config.ts", "nuxt.config.js", "nuxt.config.mjs"];
    let v2 = m.dep("nuxt").is_some_and(|(_, e)| {
        e.value
            .trim_start_matches(['^', '~', '=', 'v'])
            .starts_with("2.")
    });
    let generate =
        build_script_runs(m, "nuxt generate").or_else(|| build_script_runs(m, "nuxi generate"));
    if v2 {
        r.start = Some("{exec}nuxt start".into());
        if let Some(e) = config_has(ctx, dir, CONFIGS, &TARGET_STATIC).or(generate) {
            r.category = Category::Static;
            r.start = None;
            r.build = Some("nuxt generate".into());
            r.static_dir = Some("dist".into());
            r.evidence = Some(e);
        }
    } else if let Some(e) = generate.or_else(|| {
        config_has(ctx, dir, CONFIGS, &SSR_FALSE).filter(|_| m.script("build").is_none())
    }) {
        r.category = Category::Static;
        r.start = None;
        r.build = Some("nuxt generate".into());
        r.static_dir = Some(".output/public".into());
        r.evidence = Some(e);
    }
}

fn vite_config_mentions(ctx: &Ctx, dir: &str, needle: &str) -> bool {
    [
        "vite.config.ts",
        "vite.config.js",
        "vite.config.mjs",
        "vite.config.mts",
    ]
    .iter()
    .any(|n| ctx.read(dir, n).is_some_and(|t| t.contains(needle)))
}

fn remix(ctx: &Ctx, dir: &str, m: &Manifest, r: &mut Refined) {
    if vite_config_mentions(ctx, dir, "remix") {
        r.build = Some("remix vite:build".into());
        r.start = Some("{exec}remix-serve ./build/server/index.js".into());
    }
    if !m.declares("@remix-run/serve") {
        // A custom server (Express adapter…): the app's own entry file starts it.
        r.start = None;
    }
}

fn react_router(ctx: &Ctx, dir: &str, r: &mut Refined) {
    const CONFIGS: &[&str] = &["react-router.config.ts", "react-router.config.js"];
    if let Some(e) = config_has(ctx, dir, CONFIGS, &SSR_FALSE) {
        r.category = Category::Static;
        r.start = None;
        r.static_dir = Some("build/client".into());
        r.evidence = Some(e);
    }
}

fn sveltekit(ctx: &Ctx, dir: &str, m: &Manifest, r: &mut Refined) {
    const CONFIGS: &[&str] = &["svelte.config.js", "svelte.config.mjs", "svelte.config.ts"];
    let imported = CONFIGS.iter().find_map(|n| {
        let text = ctx.read(dir, n)?;
        let (line, c) = crate::scan::first_match(&text, &ADAPTER_IMPORT)?;
        let name = c.get(1).or(c.get(2))?.as_str().to_string();
        Some((
            name,
            ev(
                &join(dir, n),
                Some(line),
                crate::scan::line_text(&text, line),
            ),
        ))
    });
    let declared = ["node", "static", "auto", "vercel", "netlify", "cloudflare"]
        .into_iter()
        .find(|a| m.declares(&format!("@sveltejs/adapter-{a}")))
        .map(|a| {
            (
                a.to_string(),
                m.dep_evidence(&format!("@sveltejs/adapter-{a}")),
            )
        });
    let (adapter, evidence) = match (imported, declared) {
        (Some((a, e)), _) => (a, Some(e)),
        (None, Some((a, e))) => (a, e),
        (None, None) => ("auto".to_string(), None),
    };
    r.evidence = evidence;
    match adapter.as_str() {
        "node" => {
            if let Some((out, _)) = config_string(ctx, dir, CONFIGS, &ADAPTER_OUT) {
                r.start = Some(format!("node {out}"));
            }
        }
        "static" => {
            r.category = Category::Static;
            r.start = None;
            r.static_dir = Some(
                config_string(ctx, dir, CONFIGS, &ADAPTER_PAGES)
                    .map(|(v, _)| v)
                    .unwrap_or_else(|| "build".into()),
            );
        }
        // A serverless platform's adapter builds no server of its own;
        // Vite's preview server serves the same build (SSR included).
        other => {
            r.start = Some("{exec}vite preview --host 0.0.0.0 --port {PORT} --strictPort".into());
            r.warning = Some((
                "unsupported_adapter",
                format!(
                    "SvelteKit uses adapter `{other}`, which does not build a server that runs on its own: the app is served by \
                     Vite's preview server (`vite preview`), which serves the same build but is not made for production traffic; \
                     install @sveltejs/adapter-node and use it in svelte.config.js (then the app starts with `node build`)"
                ),
            ));
        }
    }
}

fn astro(ctx: &Ctx, dir: &str, m: &Manifest, r: &mut Refined) {
    const CONFIGS: &[&str] = &["astro.config.mjs", "astro.config.ts", "astro.config.js"];
    if let Some(e) = m.dep_evidence("@astrojs/node") {
        r.category = Category::Meta;
        r.start = Some("node ./dist/server/entry.mjs".into());
        r.static_dir = None;
        r.evidence = Some(e);
    } else if let Some((v, e)) = config_string(ctx, dir, CONFIGS, &OUT_DIR) {
        r.static_dir = Some(v);
        r.evidence = Some(e);
    }
}

fn angular(ctx: &Ctx, dir: &str, m: &Manifest, r: &mut Refined) {
    let file = join(dir, "angular.json");
    let Some(doc) = ctx.read_path(&file).and_then(|t| parse_jsonc(&t)) else {
        return;
    };
    let projects = doc.get("projects").and_then(|p| p.as_object());
    let default = doc.get("defaultProject").and_then(|d| d.as_str());
    let Some((name, project)) = projects.and_then(|p| {
        default
            .and_then(|d| p.get_key_value(d))
            .or_else(|| {
                p.iter().find(|(_, v)| {
                    v.get("projectType").and_then(|t| t.as_str()) == Some("application")
                })
            })
            .or_else(|| p.iter().next())
    }) else {
        return;
    };
    let build = project
        .get("architect")
        .or_else(|| project.get("targets"))
        .and_then(|a| a.get("build"));
    let builder = build
        .and_then(|b| b.get("builder"))
        .and_then(|b| b.as_str())
        .unwrap_or("");
    let options = build.and_then(|b| b.get("options"));
    let application = builder.ends_with(":application");
    let (base, browser) = match options.and_then(|o| o.get("outputPath")) {
        Some(serde_json::Value::String(s)) => (
            s.clone(),
            if application {
                "browser".to_string()
            } else {
                String::new()
            },
        ),
        Some(serde_json::Value::Object(o)) => (
            o.get("base")
                .and_then(|v| v.as_str())
                .unwrap_or("dist")
                .to_string(),
            o.get("browser")
                .and_then(|v| v.as_str())
                .unwrap_or("browser")
                .to_string(),
        ),
        _ => (
            format!("dist/{name}"),
            if application {
                "browser".to_string()
            } else {
                String::new()
            },
        ),
    };
    let base = base
        .trim_start_matches("./")
        .trim_end_matches('/')
        .to_string();
    let text = ctx.read_path(&file).unwrap_or_default();
    let line = crate::scan::find_line(&text, "\"outputPath\"");
    r.evidence = Some(ev(
        &file,
        line,
        format!("project {name}, builder {builder}"),
    ));
    let ssr = options.is_some_and(|o| {
        o.get("ssr")
            .is_some_and(|s| !s.is_boolean() || s.as_bool() == Some(true))
    }) && m.declares("@angular/ssr");
    if ssr {
        r.category = Category::Meta;
        r.start = Some(format!("node {base}/server/server.mjs"));
        r.static_dir = None;
    } else {
        r.static_dir = Some(if browser.is_empty() {
            base
        } else {
            format!("{base}/{browser}")
        });
    }
}

fn vite(ctx: &Ctx, dir: &str, m: &Manifest, r: &mut Refined) {
    if let Some((_, name)) = VITE_FLAVOURS.iter().find(|(dep, _)| m.declares(dep)) {
        r.name = name.to_string();
    }
    let configs = [
        "vite.config.ts",
        "vite.config.js",
        "vite.config.mjs",
        "vite.config.mts",
    ];
    if let Some((v, e)) = config_string(ctx, dir, &configs, &OUT_DIR) {
        r.static_dir = Some(v);
        r.evidence = Some(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detectors::node::frameworks::FRAMEWORKS;
    use crate::detectors::node::manifest::parse;
    use crate::repo::MemRepo;

    fn fw(name: &str) -> &'static Framework {
        FRAMEWORKS.iter().find(|f| f.name == name).unwrap()
    }

    #[test]
    fn vite_flavours_and_outdir() {
        let repo = MemRepo::new([(
            "vite.config.js",
            "export default { build: { outDir: './public-build/' } }",
        )]);
        let ctx = Ctx::new(&repo);
        let m = parse(
            "package.json",
            r#"{"dependencies": {"vue": "^3"}, "devDependencies": {"vite": "^5"}}"#,
        )
        .unwrap();
        let r = refine(fw("vite"), &ctx, "", &m);
        assert_eq!(r.name, "vue-vite");
        assert_eq!(r.static_dir.as_deref(), Some("public-build"));
    }

    #[test]
    fn sveltekit_adapters() {
        let m = parse(
            "package.json",
            r#"{"devDependencies": {"@sveltejs/kit": "2", "@sveltejs/adapter-static": "3"}}"#,
        )
        .unwrap();
        let repo = MemRepo::new([(
            "svelte.config.js",
            "import adapter from '@sveltejs/adapter-static';\nexport default { kit: { adapter: adapter({ pages: 'site', fallback: '200.html' }) } };",
        )]);
        let ctx = Ctx::new(&repo);
        let r = refine(fw("sveltekit"), &ctx, "", &m);
        assert_eq!(r.category, Category::Static);
        assert_eq!(r.static_dir.as_deref(), Some("site"));

        let m = parse(
            "package.json",
            r#"{"devDependencies": {"@sveltejs/kit": "2", "@sveltejs/adapter-auto": "3"}}"#,
        )
        .unwrap();
        let empty = MemRepo::new([("x", "")]);
        let r = refine(fw("sveltekit"), &Ctx::new(&empty), "", &m);
        assert_eq!(r.warning.map(|p| p.0), Some("unsupported_adapter"));
        assert!(r.problem.is_none());
        assert_eq!(
            r.start.as_deref(),
            Some("{exec}vite preview --host 0.0.0.0 --port {PORT} --strictPort")
        );
    }

    #[test]
    fn remix_variants() {
        let m = parse(
            "package.json",
            r#"{"dependencies": {"@remix-run/node": "2", "@remix-run/serve": "2"}}"#,
        )
        .unwrap();
        let repo = MemRepo::new([(
            "vite.config.ts",
            "import { vitePlugin as remix } from '@remix-run/dev';",
        )]);
        let r = refine(fw("remix"), &Ctx::new(&repo), "", &m);
        assert_eq!(
            r.start.as_deref(),
            Some("{exec}remix-serve ./build/server/index.js")
        );
        let custom = parse(
            "package.json",
            r#"{"dependencies": {"@remix-run/express": "2"}}"#,
        )
        .unwrap();
        assert_eq!(
            refine(fw("remix"), &Ctx::new(&repo), "", &custom).start,
            None
        );
    }

    #[test]
    fn nuxt_versions() {
        let empty = MemRepo::new([("x", "")]);
        let ctx = Ctx::new(&empty);
        let v2 = parse("package.json", r#"{"dependencies": {"nuxt": "^2.17.0"}}"#).unwrap();
        assert_eq!(
            refine(fw("nuxt"), &ctx, "", &v2).start.as_deref(),
            Some("{exec}nuxt start")
        );
        let gen = parse(
            "package.json",
            r#"{"scripts": {"build": "nuxt generate"}, "dependencies": {"nuxt": "^3.12.0"}}"#,
        )
        .unwrap();
        let r = refine(fw("nuxt"), &ctx, "", &gen);
        assert_eq!(
            (r.category, r.static_dir.as_deref()),
            (Category::Static, Some(".output/public"))
        );
    }
}
