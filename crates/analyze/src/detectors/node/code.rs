//! One pass over a Node package's source files: the environment variables it
//! reads (`process.env.X`, `process.env["X"]`, destructuring, `import.meta.env`,
//! SvelteKit `$env`), the servers it opens (`.listen(…)` with the port
//! expression evaluated and the host checked), framework app objects, queue
//! workers, a health route, and databases named by connection URLs or ORM config.
//!
//! Deliberately not here: deciding what the package is — this only reports
//! facts (and adds env vars, databases and `binds_localhost` findings to the draft).

use super::frameworks::{database_of_dialect, Framework, WorkerLib, ORM_DEPS, WORKERS};
use super::manifest::Manifest;
use crate::ctx::Ctx;
use crate::detectors::database_of_url;
use crate::draft::{ev, Draft};
use crate::repo::file_name;
use crate::scan::{each_match, first_match, line_of, line_text};
use autodeploy_core::{Severity, SourceFix};
use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// A server opened in code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listen {
    pub file: String,
    pub line: u32,
    /// The port, when the expression gives one, and the line where it is written.
    pub port: Option<(u16, u32)>,
}

/// Everything the sources say, gathered in one pass.
#[derive(Default)]
pub struct CodeFacts {
    /// Framework name → first app object (file, line).
    pub apps: BTreeMap<&'static str, (String, u32)>,
    pub listens: Vec<Listen>,
    /// Worker library → files that process its jobs (file, line), in source order.
    pub workers: Vec<(&'static WorkerLib, String, u32)>,
    pub health: Option<(String, String, u32)>,
    /// Engines an ORM's configuration names literally (`client: "mysql2"`).
    pub orm_engines: std::collections::BTreeSet<autodeploy_core::Database>,
    /// Where the code picks a configuration by `NODE_ENV`
    /// (`knexconf[env.NODE_ENV]`): (file, line).
    pub by_node_env: Option<(String, u32)>,
}

/// Built-in `import.meta.env` keys (not configuration).
const META_BUILTINS: &[&str] = &["MODE", "DEV", "PROD", "SSR", "BASE_URL"];

/// Files that only configure tests or linters: their env reads are CI concerns.
const TOOLING_FILES: &[&str] = &[
    "jest.config",
    "vitest.config",
    "playwright.config",
    "cypress.config",
    "karma.conf",
    "eslint.config",
    ".eslintrc",
    "prettier.config",
    ".prettierrc",
    "commitlint.config",
    "lint-staged.config",
    "babel.config",
    "postcss.config",
    "tailwind.config",
    "stylelint.config",
];

/// Browser-side component files: no servers are opened there.
const COMPONENT_EXTS: &[&str] = &[".jsx", ".tsx", ".vue", ".svelte", ".astro"];

/// What makes a read optional: a default (`||`, `??`), a comparison, or a
/// presence test (`&&`, a ternary's `?`, but not `?.`/`??`).
/// A TypeScript cast may stand between the read and its default
/// (`(process.env.KAFKA_SASL_MECHANISM as 'plain' | 'scram-sha-256') || 'plain'`).
const DEFAULT_SUFFIX: &str =
    r"((?:\s+as\s+[^(),;\n]*?)?\s*\)?\s*(?:\|\||\?\?|[!=]==?|&&|\?(?:[^.?]|$)))?";

static ENV_DOT: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(&format!(
        r"\bprocess\s*\.\s*env\s*\.\s*([A-Za-z_][A-Za-z0-9_]*){DEFAULT_SUFFIX}"
    ))
    .expect("regex")
});
static ENV_INDEX: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(&format!(
        r#"\bprocess\s*\.\s*env\s*\[\s*['"`]([A-Za-z_][A-Za-z0-9_]*)['"`]\s*\]{DEFAULT_SUFFIX}"#
    ))
    .expect("regex")
});
/// `const name = process.env.X;` with nothing after the read (1: the
/// local, 2: the variable).
static ENV_TO_LOCAL: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r"\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*process\s*\.\s*env\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)\s*;",
    )
    .expect("regex")
});

/// `if (!name) { …; return; }` (or `if (!name) return;`).
static EARLY_RETURN: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r"\bif\s*\(\s*!\s*([A-Za-z_$][\w$]*)\s*\)").expect("regex")
});

/// Guards that leave when a setting copied into a local is unset
/// (next-self-host's `let org = process.env.HCP_ORG;` … `if (!org) {
/// …; return; }`): a guard that returns — not one that throws or exits —
/// makes the setting optional, and so are the reads after it in the same
/// block (`HCP_API_KEY`), and settings copied into locals before it that
/// the code first uses after it (`HCP_PROJECT`). As (the byte ranges after
/// such guards, the offsets of the `const x = process.env.X;` copies that
/// are optional).
fn early_return_guards(text: &str) -> (Vec<std::ops::Range<usize>>, Vec<usize>) {
    let mut ranges = Vec::new();
    let mut optional = Vec::new();
    if !text.contains("return") {
        return (ranges, optional);
    }
    let locals: Vec<(String, usize, usize)> = ENV_TO_LOCAL
        .captures_iter(text)
        .filter_map(|c| {
            let m = c.get(0)?;
            Some((c[1].to_string(), m.start(), m.end()))
        })
        .collect();
    if locals.is_empty() {
        return (ranges, optional);
    }
    for c in EARLY_RETURN.captures_iter(text) {
        let Some(m) = c.get(0) else { continue };
        let Some((_, decl, _)) = locals
            .iter()
            .find(|(n, _, end)| n == &c[1] && *end <= m.start())
        else {
            continue;
        };
        let rest = &text[m.end()..];
        let body_at = m.end() + (rest.len() - rest.trim_start().len());
        let (body, body_end) = if text[body_at..].starts_with('{') {
            match crate::wiring::bracketed(text, body_at) {
                Some(b) => (b, body_at + b.len() + 2),
                None => continue,
            }
        } else {
            let end = text[body_at..]
                .find([';', '\n'])
                .map_or(text.len(), |i| body_at + i + 1);
            (&text[body_at..end], end)
        };
        // A guard that answers an error (`return res.status(503)…`,
        // `return { error }`) reports the setting missing: still needed.
        let lower = body.to_ascii_lowercase();
        if !body.contains("return")
            || body.contains("throw")
            || body.contains("exit(")
            || lower.contains("status")
            || lower.contains("error")
        {
            continue;
        }
        optional.push(*decl);
        // The rest of the enclosing block.
        let mut depth = 0i32;
        let mut end = text.len();
        for (i, b) in text.as_bytes()[body_end..].iter().enumerate() {
            match b {
                b'{' => depth += 1,
                b'}' if depth == 0 => {
                    end = body_end + i;
                    break;
                }
                b'}' => depth -= 1,
                _ => {}
            }
        }
        ranges.push(body_end..end);
        // Where the enclosing block opens: the nearest unmatched `{` before.
        let mut depth = 0i32;
        let mut start = 0;
        for (i, b) in text.as_bytes()[..m.start()].iter().enumerate().rev() {
            match b {
                b'}' => depth += 1,
                b'{' if depth == 0 => {
                    start = i;
                    break;
                }
                b'{' => depth -= 1,
                _ => {}
            }
        }
        // Copies made in that block before the guard and first used after it.
        for (name, decl, decl_end) in &locals {
            if *decl < start || *decl_end > m.start() || optional.contains(decl) {
                continue;
            }
            let Ok(word) =
                crate::scan::try_regex(&format!(r"(?:^|[^\w$.]){}\b", regex::escape(name)))
            else {
                continue;
            };
            if !word.is_match(&text[*decl_end..m.start()]) && word.is_match(&text[body_end..end]) {
                optional.push(*decl);
            }
        }
    }
    (ranges, optional)
}

/// `local` is tested for presence somewhere in `text`: `if (local)`,
/// `if (local && …)`, `local && …`, `local ? … : …`, `local || …`,
/// `local ?? …` (`if (!local)` may be a guard that throws: not counted).
fn local_tested_for_presence(text: &str, local: &str) -> bool {
    let name = regex::escape(local);
    crate::scan::try_regex(&format!(
        r"\bif\s*\(\s*{name}\s*(?:\)|&&|\|\|)|(?:^|[^.\w$]){name}\s*(?:&&|\|\||\?\?|\?[^.?])"
    ))
    .is_ok_and(|re| re.is_match(text))
}

static ENV_DESTRUCTURE: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r"\b(?:const|let|var)\s*\{([^{}]*)\}\s*=\s*process\s*\.\s*env\b")
        .expect("regex")
});
static META_ENV: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(&format!(
        r"\bimport\.meta\.env\.([A-Z_][A-Z0-9_]*){DEFAULT_SUFFIX}"
    ))
    .expect("regex")
});
static SVELTE_STATIC_ENV: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r#"\bimport\s*\{([^}]*)\}\s*from\s*['"]\$env/static/(?:private|public)['"]"#,
    )
    .expect("regex")
});
static SVELTE_DYNAMIC_ENV: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(&format!(r"\benv\.([A-Z_][A-Z0-9_]*){DEFAULT_SUFFIX}")).expect("regex")
});
static LISTEN: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"\.listen\s*\(").expect("regex"));
static SERVER_OPTIONS: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r"\bHapi\s*\.\s*[sS]erver\s*\(|\bnew\s+Hapi\s*\.\s*Server\s*\(|\bserve\s*\(",
    )
    .expect("regex")
});
static FALLBACK: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"(?:\|\||\?\?)\s*\(?\s*['"`]?(\d{2,5})['"`]?"#).expect("regex")
});
static NUMBER: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r#"^['"`]?(\d{2,5})['"`]?$"#).expect("regex"));
static CALL: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r"^(?:Number|parseInt|parseFloat|String|normalizePort|toNumber|Math\.floor|\+)\s*\(",
    )
    .expect("regex")
});
static IDENT: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"^[A-Za-z_$][\w$]*$").expect("regex"));
static MEMBER: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r"^[A-Za-z_$][\w$]*(?:\??\.[A-Za-z_$][\w$]*)+$").expect("regex")
});
static APP_GET_PORT: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r#"^\w+\.get\(\s*['"]port['"]\s*\)$"#).expect("regex"));
static APP_SET_PORT: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"\.set\(\s*['"]port['"]\s*,\s*([^\n;]+?)\)\s*;?\s*$"#).expect("regex")
});
static PORT_KEY: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r"(?m)\b(?:port|PORT)\s*:\s*([^,\n}]+)").expect("regex")
});
static DB_URL: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r#"['"`]((?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss)://[^'"`\s]*)"#,
    )
    .expect("regex")
});
static DIALECT: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r#"\b['"]?(?:client|dialect|type|provider|driver)['"]?\s*:\s*['"]([\w-]+)['"]"#,
    )
    .expect("regex")
});
/// `knexconf[env.NODE_ENV]`, `config[process.env.NODE_ENV || "development"]`.
static BY_NODE_ENV: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r"\w\[\s*(?:process\.)?env\.NODE_ENV\b").expect("regex")
});
static HEALTH: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"\.(?:get|all|head|route)\s*\(\s*['"`](/(?:api/)?(?:healthz?|health[-_]check|healthcheck|ping|status|_health|livez|readyz))['"`]"#)
        .expect("regex")
});
static NEST_HEALTH: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"@Controller\s*\(\s*['"`]/?((?:api/)?(?:healthz?|health[-_]check|healthcheck|ping|status))['"`]\s*\)"#)
        .expect("regex")
});

/// True for config files of test runners, linters and CSS tools (their env
/// reads are CI concerns, not the app's).
pub fn is_tooling_file(path: &str) -> bool {
    let name = file_name(path);
    TOOLING_FILES.iter().any(|t| name.starts_with(t))
}

/// Scan `files` (repo-relative) of the package `m`.
pub fn scan(
    ctx: &Ctx,
    draft: &mut Draft,
    files: &[String],
    m: &Manifest,
    frameworks: &[&'static Framework],
) -> CodeFacts {
    let mut facts = CodeFacts::default();
    let mut root_page: Option<(String, u32)> = None;
    // Koa routers with a `/` route, and the routers the app mounts whole.
    let mut router_pages: Vec<(String, String, u32)> = Vec::new();
    let mut mounted: Vec<String> = Vec::new();
    let apps: Vec<(&'static Framework, Regex)> = frameworks
        .iter()
        .filter_map(|f| f.app.map(|p| (*f, crate::scan::table_regex(p))))
        .collect();
    let workers: Vec<(&'static WorkerLib, Regex)> = WORKERS
        .iter()
        .filter(|w| m.declares(w.dep))
        .map(|w| (w, crate::scan::table_regex(w.pattern)))
        .collect();
    let orm = ORM_DEPS.iter().any(|d| m.deps.contains_key(*d));
    let config_texts: Vec<(String, std::sync::Arc<str>)> = files
        .iter()
        .filter(|f| {
            let n = file_name(f).to_ascii_lowercase();
            n.contains("config") || n.starts_with("env.") || n.starts_with(".env")
        })
        .filter_map(|f| ctx.read_path(f).map(|t| (f.clone(), t)))
        .collect();

    for file in files {
        let Some(text) = ctx.read_path(file) else {
            continue;
        };
        if is_tooling_file(file) {
            continue;
        }
        scan_env(draft, file, &text);
        scan_relative_imports(ctx, draft, file, &text);
        let component = COMPONENT_EXTS.iter().any(|e| file.ends_with(e));
        if !component {
            for (fw, re) in &apps {
                if facts.apps.contains_key(fw.name) {
                    continue;
                }
                if let Some((line, _)) = first_match(&text, re) {
                    facts.apps.insert(fw.name, (file.clone(), line));
                }
            }
            scan_servers(draft, file, &text, &config_texts, &mut facts);
            for (w, re) in &workers {
                if imports(&text, w.dep) {
                    if let Some((line, _)) = first_match(&text, re) {
                        facts.workers.push((w, file.clone(), line));
                    }
                }
            }
        }
        // Connection URLs and ORM dialects count in code, not in comments:
        // a knexfile's commented-out `production: { client: 'postgresql' }`
        // block is no database (fastify-realworld keeps SQLite in memory).
        let code = if orm || text.contains("://") {
            crate::wiring::mask_c_comments(&text)
        } else {
            String::new()
        };
        each_match(&code, &DB_URL, |line, c| {
            if let Some(db) = database_of_url(&c[1]) {
                draft.database(
                    db,
                    ev(file, Some(line), format!("{} connection URL", db.as_str())),
                );
            }
        });
        if orm && facts.by_node_env.is_none() {
            if let Some((line, _)) = first_match(&code, &BY_NODE_ENV) {
                facts.by_node_env = Some((file.clone(), line));
            }
        }
        if orm {
            each_match(&code, &DIALECT, |line, c| {
                if let Some(db) = database_of_dialect(&c[1]) {
                    draft.database(db, ev(file, Some(line), line_text(&text, line)));
                    facts.orm_engines.insert(db);
                }
            });
        }
        if facts.health.is_none() {
            if let Some((line, c)) = first_match(&text, &HEALTH) {
                facts.health = Some((c[1].to_string(), file.clone(), line));
            } else if let Some((line, c)) = first_match(&text, &NEST_HEALTH) {
                facts.health = Some((format!("/{}", &c[1]), file.clone(), line));
            } else if root_page.is_none() {
                root_page = app_root_page(&text).map(|line| (file.clone(), line));
            }
        }
        if text.contains(".routes()") || text.contains("new Router(") {
            router_pages.extend(
                router_root_pages(&text)
                    .into_iter()
                    .map(|(name, line)| (name, file.clone(), line)),
            );
            mounted.extend(
                MOUNTED_ROUTER
                    .captures_iter(&text)
                    .map(|c| c[1].to_string()),
            );
        }
    }
    // No health route: the page the app object itself serves at `/`, or
    // that of a Koa router the app mounts without a prefix.
    let router_page = router_pages
        .into_iter()
        .find(|(name, ..)| mounted.contains(name))
        .map(|(_, file, line)| (file, line));
    if facts.health.is_none() {
        facts.health = root_page
            .or(router_page)
            .map(|(file, line)| ("/".to_string(), file, line));
    }
    facts
}

/// `app.get('/', …)` on an app object the file makes (`const app =
/// express()`, `fastify()`, `new Koa()`, `new Hono()`), not on a router
/// that may be mounted under a prefix elsewhere.
static APP_OBJECT: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r#"\b(?:const|let|var)\s+(\w+)\s*(?::[^=\n]+)?=\s*(?:await\s+)?(?:express|fastify|Fastify|polka)\s*\(|\b(?:const|let|var)\s+(\w+)\s*(?::[^=\n]+)?=\s*new\s+(?:Hono|OpenAPIHono|Elysia)\s*\("#,
    )
    .expect("regex")
});

/// `app.use(router.routes())`: a Koa router mounted whole (group 1).
static MOUNTED_ROUTER: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r"\.use\(\s*(\w+)\.routes\(\s*\)\s*\)").expect("regex")
});

/// `const router = new Router()` (no prefix) with a `/` route: (name, line).
static PLAIN_ROUTER: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r"\b(?:const|let|var)\s+(\w+)\s*(?::[^=\n]+)?=\s*new\s+(?:Koa)?Router\(\s*\)",
    )
    .expect("regex")
});

fn router_root_pages(text: &str) -> Vec<(String, u32)> {
    PLAIN_ROUTER
        .captures_iter(text)
        .filter_map(|c| {
            let name = c[1].to_string();
            let route = crate::scan::try_regex(&format!(
                r#"\b{}\.get\s*\(\s*['"`]/['"`]"#,
                regex::escape(&name)
            ))
            .ok()?;
            let at = route.find(text)?;
            Some((name, crate::scan::line_of(text, at.start())))
        })
        .collect()
}

/// The line of the app object's own `/` route in `text`.
fn app_root_page(text: &str) -> Option<u32> {
    let apps: Vec<&str> = APP_OBJECT
        .captures_iter(text)
        .filter_map(|c| c.get(1).or_else(|| c.get(2)).map(|g| g.as_str()))
        .collect();
    apps.iter().find_map(|app| {
        let route = crate::scan::try_regex(&format!(
            r#"\b{}\.get\s*\(\s*['"`]/['"`]"#,
            regex::escape(app)
        ))
        .ok()?;
        route
            .find(text)
            .map(|m| crate::scan::line_of(text, m.start()))
    })
}

/// A relative import or require: `from './config'`, `require("../config")`,
/// `import('./x')`, `import './x'`.
static RELATIVE_IMPORT: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r#"(?m)(?:\bfrom\s*|\brequire\s*\(\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}/[^'"\s]+)['"]"#,
    )
    .expect("regex")
});

/// What Node and TypeScript try for a specifier without an extension.
const RESOLVE_EXTS: &[&str] = &[".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".json"];

/// Relative imports of files the repository holds only an example of
/// (`import { SECRET } from '../config'` with `src/config.ts.example`
/// committed): a `file_from_example` finding (`crate::examples`).
fn scan_relative_imports(ctx: &Ctx, draft: &mut Draft, file: &str, text: &str) {
    if !text.contains("./") {
        return;
    }
    let dir = crate::repo::parent(file);
    each_match(text, &RELATIVE_IMPORT, |line, c| {
        let Some(base) = crate::repo::normalize(&crate::repo::join(dir, &c[1])) else {
            return;
        };
        let mut candidates = vec![base.clone()];
        candidates.extend(RESOLVE_EXTS.iter().map(|e| format!("{base}{e}")));
        candidates.extend(RESOLVE_EXTS.iter().map(|e| format!("{base}/index{e}")));
        crate::examples::missing_import(ctx, draft, file, line, &candidates);
    });
}

/// True when `text` imports or requires package `dep`.
fn imports(text: &str, dep: &str) -> bool {
    text.contains(&format!("'{dep}'")) || text.contains(&format!("\"{dep}\""))
}

static SCHEMA_REQUIRED: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"\brequired\s*:\s*\[([^\]]*)\]").expect("regex"));
static SCHEMA_PROPERTIES: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"\bproperties\s*:\s*\{").expect("regex"));
static SCHEMA_PROPERTY: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"(?m)^\s*['"]?([A-Z][A-Z0-9_]*)['"]?\s*:\s*\{"#).expect("regex")
});
static FLUENT_PROP: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"\.prop\(\s*['"`]([A-Z][A-Z0-9_]*)['"`]\s*,"#).expect("regex")
});
static QUOTED_NAME: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"['"`]([A-Za-z_][A-Za-z0-9_]*)['"`]"#).expect("regex")
});

/// The JSON schema `@fastify/env` / `env-schema` validate `process.env`
/// against: a name in `required` whose property gives no `default` must be
/// set or the app refuses to start; a property with a `default` has one.
fn scan_env_schema(draft: &mut Draft, file: &str, text: &str) {
    if !(imports(text, "@fastify/env") || imports(text, "env-schema")) {
        return;
    }
    // fluent-json-schema: `.prop('NAME', S.string().required())`,
    // `.prop('N', S.number().default(10))`.
    if imports(text, "fluent-json-schema") {
        for c in FLUENT_PROP.captures_iter(text) {
            let (Some(name), Some(m)) = (c.get(1), c.get(0)) else {
                continue;
            };
            let open = m.start() + m.as_str().find('(').unwrap_or(0);
            let Some(args) = crate::wiring::bracketed(text, open) else {
                continue;
            };
            let needed = args.contains(".required(") && !args.contains(".default(");
            draft.env_var(name.as_str(), !needed, file, line_of(text, name.start()));
        }
    }
    let Some(props) = SCHEMA_PROPERTIES.find(text) else {
        return;
    };
    let open = props.end() - 1;
    let Some(body) = crate::wiring::bracketed(text, open) else {
        return;
    };
    let body_at = open + 1;
    let mut defaults: BTreeMap<String, (bool, u32)> = BTreeMap::new();
    for c in SCHEMA_PROPERTY.captures_iter(body) {
        let (Some(name), Some(m)) = (c.get(1), c.get(0)) else {
            continue;
        };
        let brace = body_at + m.end() - 1;
        let has_default = crate::wiring::bracketed(text, brace)
            .is_some_and(|p| p.contains("default:") || p.contains("default :"));
        defaults.insert(
            name.as_str().to_string(),
            (has_default, line_of(text, body_at + name.start())),
        );
    }
    let required: Vec<String> = SCHEMA_REQUIRED
        .captures(text)
        .map(|c| {
            QUOTED_NAME
                .captures_iter(&c[1])
                .map(|n| n[1].to_string())
                .collect()
        })
        .unwrap_or_default();
    for (name, (has_default, line)) in &defaults {
        let needed = required.contains(name) && !has_default;
        draft.env_var(name, !needed, file, *line);
    }
}

static ZOD_OBJECT: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"\bz\s*\.\s*object\s*\(\s*\{").expect("regex"));

/// A zod schema the app parses `process.env` with (`EnvSchema.parse(
/// process.env)`, `safeParse`, t3's `createEnv({ server: {…}, runtimeEnv:
/// process.env })`): a property is required unless its chain gives a
/// default or makes it optional (`.default(…)`, `.optional()`,
/// `.nullish()`, `.catch(…)`). hono-open-api-starter exits at start with
/// "Invalid env: LOG_LEVEL, DATABASE_URL" when they are unset.
fn scan_env_zod(draft: &mut Draft, file: &str, text: &str) {
    if !imports(text, "zod")
        && !imports(text, "@t3-oss/env-core")
        && !imports(text, "@t3-oss/env-nextjs")
    {
        return;
    }
    if !text.contains("process.env") {
        return;
    }
    let mut bodies: Vec<usize> = ZOD_OBJECT.find_iter(text).map(|m| m.end() - 1).collect();
    // t3-env: `server: { NAME: z.string() }` inside createEnv.
    if text.contains("createEnv(") {
        for key in ["server:", "client:", "shared:"] {
            let mut from = 0;
            while let Some(i) = text[from..].find(key) {
                let at = from + i + key.len();
                if let Some(open) = text[at..]
                    .find(|c: char| !c.is_whitespace())
                    .map(|o| at + o)
                {
                    if text[open..].starts_with('{') {
                        bodies.push(open);
                    }
                }
                from = at;
            }
        }
    }
    for open in bodies {
        let Some(body) = crate::wiring::bracketed(text, open) else {
            continue;
        };
        let body_at = open + 1;
        for part in crate::wiring::split_top(body) {
            let Some((key, chain)) = crate::wiring::key_value(part) else {
                continue;
            };
            let name = key.trim().trim_matches(['"', '\'']);
            if !name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                || !chain.contains("z.")
            {
                continue;
            }
            let optional = [".optional(", ".default(", ".nullish(", ".catch("]
                .iter()
                .any(|m| chain.contains(m));
            let at = (part.as_ptr() as usize)
                .checked_sub(body.as_ptr() as usize)
                .map_or(body_at, |o| body_at + o);
            draft.env_rule(name, !optional, file, line_of(text, at));
        }
    }
}

static CLASS_OPEN: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r"\bclass\s+\w+(?:\s+(?:extends|implements)\s+[\w.<>, ]+)?\s*\{")
        .expect("regex")
});
/// A class property named like an environment variable: `MAIL_PORT: number;`,
/// `NODE_ENV?: Environment;`, `PORT: number = 3000;`.
static ENV_PROPERTY: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r"^\s*(?:(?:public|readonly|declare)\s+)*([A-Z][A-Z0-9_]*)\s*[?!]?\s*:\s*[^=;]*?(=)?[^=;]*;?\s*$",
    )
    .expect("regex")
});

/// class-validator env classes, validated against `process.env` at start
/// (`validateSync(plainToClass(EnvVars, config), { skipMissingProperties:
/// false })`, NestJS's documented pattern): a property is required unless
/// a decorator makes it optional (`@IsOptional()`), conditional
/// (`@ValidateIf(…)`: it applies only when another setting asks for it), or
/// the class gives it a value.
fn scan_env_validator(draft: &mut Draft, file: &str, text: &str) {
    if !imports(text, "class-validator") || text.contains("skipMissingProperties: true") {
        return;
    }
    for m in CLASS_OPEN.find_iter(text) {
        let open = m.end() - 1;
        let Some(body) = crate::wiring::bracketed(text, open) else {
            continue;
        };
        let body_at = open + 1;
        let mut decorators = String::new();
        let mut offset = 0usize;
        for line in body.split_inclusive('\n') {
            let at = body_at + offset;
            offset += line.len();
            let code = line.trim();
            if code.starts_with('@')
                || (!decorators.is_empty() && !code.ends_with(';') && !ENV_PROPERTY.is_match(line))
            {
                decorators.push_str(code);
                continue;
            }
            if let Some(c) = ENV_PROPERTY.captures(line) {
                if !decorators.is_empty() {
                    let optional = decorators.contains("@IsOptional(")
                        || decorators.contains("@ValidateIf(")
                        || c.get(2).is_some();
                    draft.env_rule(&c[1], !optional, file, line_of(text, at));
                }
            }
            decorators.clear();
        }
    }
}

/// Environment variable reads in one file.
pub fn scan_env(draft: &mut Draft, file: &str, text: &str) {
    if !text.contains("env") {
        return;
    }
    // A read in a comment (`// new Sequelize(process.env.DB_CONNECTION_URL)`)
    // is not a setting the app needs.
    let masked = crate::wiring::mask_c_comments(text);
    let text = masked.as_str();
    scan_env_schema(draft, file, text);
    scan_env_validator(draft, file, text);
    scan_env_zod(draft, file, text);
    let mut guarded = env_guarded_blocks(text);
    // `if (!org) { …; return; }` on a setting copied into a local: what
    // follows in the block runs only when it is set.
    let (after_guards, optional_locals) = early_return_guards(text);
    guarded.extend(after_guards);
    for re in [&*ENV_DOT, &*ENV_INDEX] {
        each_match(text, re, |line, c| {
            let at = c.get(0).map_or(0, |g| g.start());
            let in_guard = guarded.iter().any(|r| r.contains(&at));
            // `npm_lifecycle_event`, `npm_package_version`: set by npm itself.
            if !c[1].starts_with("npm_") {
                // `!process.env.ROLLUP_WATCH` and `if (process.env.http_proxy)`
                // test presence: unset is an answer; so is the last read of a
                // chain (`process.env.a || process.env.A`), one of several
                // spellings none of which need be set.
                // A read inside a block run only when another setting is
                // present, or an operand of `&&`, is optional too.
                let presence = in_guard
                    || c.get(0)
                        .map(|m| text[..m.start()].trim_end())
                        .is_some_and(|before| {
                            before.ends_with('!')
                                || before.ends_with("||")
                                || before.ends_with("??")
                                || before.ends_with("&&")
                                || before
                                    .strip_suffix('(')
                                    .is_some_and(|b| b.trim_end().ends_with("if"))
                        });
                draft.env_var(&c[1], c.get(2).is_some() || presence, file, line)
            }
        });
    }
    // `const header = process.env.CLIENT_IP_HEADER;` then `if (header && …)`:
    // the code tests the copy for presence, so unset is an answer.
    each_match(text, &ENV_TO_LOCAL, |line, c| {
        let at = c.get(0).map_or(0, |g| g.start());
        if local_tested_for_presence(text, &c[1]) || optional_locals.contains(&at) {
            draft.env_var(&c[2], true, file, line);
        }
    });
    each_match(text, &ENV_DESTRUCTURE, |line, c| {
        for part in c[1].split(',') {
            let part = part.trim();
            if part.starts_with("...") {
                continue;
            }
            let (name_alias, default) = match part.split_once('=') {
                Some((n, _)) => (n, true),
                None => (part, false),
            };
            let name = name_alias.split(':').next().unwrap_or("").trim();
            draft.env_var(name, default, file, line);
        }
    });
    each_match(text, &META_ENV, |line, c| {
        if !META_BUILTINS.contains(&&c[1]) {
            draft.env_var(&c[1], c.get(2).is_some(), file, line);
        }
    });
    each_match(text, &SVELTE_STATIC_ENV, |line, c| {
        for part in c[1].split(',') {
            let name = part.split(" as ").next().unwrap_or("").trim();
            draft.env_var(name, false, file, line);
        }
    });
    if text.contains("$env/dynamic/") {
        each_match(text, &SVELTE_DYNAMIC_ENV, |line, c| {
            draft.env_var(&c[1], c.get(2).is_some(), file, line)
        });
    }
    if text.contains("production") {
        for re in [&*PRODUCTION_NEEDS, &*NEEDS_IN_PRODUCTION] {
            each_match(text, re, |_, c| {
                if let Some(v) = draft.env.iter_mut().find(|v| v.name == c[1]) {
                    v.required_in_production |= !v.required;
                }
            });
        }
    }
}

/// The bodies of `if (…process.env.X…) { … }` blocks (byte ranges of
/// `text`, comments masked): what the code reads there only when another
/// setting is present is not needed to start (uptime-kuma reads its
/// `UPTIME_KUMA_DB_HOSTNAME`… only under `if (process.env.UPTIME_KUMA_DB_TYPE)`).
/// A test of `NODE_ENV` is a mode switch, not an option: reads under
/// `if (NODE_ENV === "production")` stay as they are.
fn env_guarded_blocks(text: &str) -> Vec<std::ops::Range<usize>> {
    let b = text.as_bytes();
    // The index just past the bracket that closes the one at `open`.
    let close = |open: usize, l: u8, r: u8| {
        let mut depth = 0usize;
        for (i, &c) in b.iter().enumerate().skip(open) {
            if c == l {
                depth += 1;
            } else if c == r {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i + 1);
                }
            }
        }
        None
    };
    let mut out = Vec::new();
    if !text.contains("if") {
        return out;
    }
    for m in ENV_GUARD.find_iter(text) {
        let open = m.end() - 1;
        let Some(cond_end) = close(open, b'(', b')') else {
            continue;
        };
        let cond = &text[open..cond_end];
        if !cond.contains("process.env") || cond.contains("NODE_ENV") {
            continue;
        }
        let rest = &text[cond_end..];
        let body = cond_end + (rest.len() - rest.trim_start().len());
        if b.get(body) != Some(&b'{') {
            continue;
        }
        if let Some(end) = close(body, b'{', b'}') {
            out.push(body..end);
        }
    }
    out
}

/// `if (` (the guard's condition opens at the match's last byte).
static ENV_GUARD: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"\bif\s*\(").expect("regex"));

/// `NODE_ENV === "production" && !input.X` (a settings schema's
/// refinement, or a guard before `throw`): X is needed under production.
static PRODUCTION_NEEDS: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r#"NODE_ENV\s*===?\s*["'`]production["'`]\s*&&\s*!\s*(?:[\w$]+\s*\.\s*)*([A-Z][A-Z0-9_]*)\b"#,
    )
    .expect("regex")
});
/// The same test written the other way round (`!env.X && env.NODE_ENV === "production"`).
static NEEDS_IN_PRODUCTION: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r#"!\s*(?:[\w$]+\s*\.\s*)*([A-Z][A-Z0-9_]*)\s*&&\s*(?:[\w$]+\s*\.\s*)*NODE_ENV\s*===?\s*["'`]production["'`]"#,
    )
    .expect("regex")
});

/// `.listen(…)` calls and server option objects: ports and loopback binds.
fn scan_servers(
    draft: &mut Draft,
    file: &str,
    text: &str,
    configs: &[(String, std::sync::Arc<str>)],
    facts: &mut CodeFacts,
) {
    for mat in LISTEN.find_iter(text) {
        let open = mat.end() - 1;
        let Some(args) = call_args(text, open) else {
            continue;
        };
        let args_at = open + 1;
        let parts = split_top(args);
        let first = parts.first().map(|(s, _)| s.trim()).unwrap_or("");
        if first.contains("=>") || first.starts_with("function") || first.starts_with("async") {
            continue; // `history.listen(cb)`, event emitters
        }
        let line = line_of(text, mat.start());
        let mut listen = Listen {
            file: file.to_string(),
            line,
            port: None,
        };
        if first.starts_with('{') {
            object_options(
                draft,
                file,
                text,
                first,
                args_at + parts[0].1,
                configs,
                &mut listen,
            );
        } else if !first.is_empty() {
            listen.port = eval_port(first, text, configs, 0).map(|(p, l)| (p, l.unwrap_or(line)));
            if let Some((port, _)) = listen.port {
                fixed_port(draft, file, text, first, args_at + parts[0].1, port);
            }
            if let Some((host, off)) = parts.get(1) {
                check_host(
                    draft,
                    file,
                    text,
                    host.trim(),
                    args_at + off + leading_ws(host),
                );
            }
        }
        facts.listens.push(listen);
    }
    for mat in SERVER_OPTIONS.find_iter(text) {
        let open = mat.end() - 1;
        let Some(args) = call_args(text, open) else {
            continue;
        };
        let parts = split_top(args);
        let Some((first, off)) = parts.first() else {
            continue;
        };
        let first_t = first.trim();
        if !first_t.starts_with('{') || !PORT_KEY.is_match(first_t) && !first_t.contains("host") {
            continue;
        }
        let mut listen = Listen {
            file: file.to_string(),
            line: line_of(text, mat.start()),
            port: None,
        };
        object_options(
            draft,
            file,
            text,
            first_t,
            open + 1 + off + leading_ws(first),
            configs,
            &mut listen,
        );
        if listen.port.is_some() {
            facts.listens.push(listen);
        }
    }
}

/// A port written as a number (`app.listen(3000)`, or `const PORT = 3000`
/// then `app.listen(PORT)`) ignores the `PORT` the platform assigns: report it
/// and fix autodeploy's copy to read `PORT` first, keeping the number as the
/// fallback. `expr` is the first argument of the call, found at byte `at`.
fn fixed_port(draft: &mut Draft, file: &str, text: &str, expr: &str, at: usize, port: u16) {
    let expr_at = at + leading_ws(&text[at..]);
    let e = expr.trim();
    let (line, find) = if is_number(e) {
        // `(3000` with the call's parenthesis: the number alone could also
        // appear in a log message on the same line.
        let open = at.saturating_sub(1);
        match text.get(open..expr_at + e.len()) {
            Some(f) if f.starts_with('(') && !f.contains('\n') => {
                (line_of(text, expr_at), f.to_string())
            }
            _ => return,
        }
    } else if IDENT.is_match(e) {
        let Some((decl, decl_line)) = declaration(text, e) else {
            return;
        };
        if !is_number(decl.trim_end_matches(';').trim()) {
            return;
        }
        // `PORT = 3000` exactly as written on the declaration line.
        let Ok(re) = crate::scan::try_regex(&format!(r"\b{}\s*=\s*\d{{2,5}}\b", regex::escape(e)))
        else {
            return;
        };
        let Some(m) = text
            .lines()
            .nth(decl_line.saturating_sub(1) as usize)
            .and_then(|l| re.find(l))
        else {
            return;
        };
        (decl_line, m.as_str().to_string())
    } else {
        return;
    };
    port_fix(draft, file, line, &find, port);
}

/// The `hardcoded_port` finding for `find` (text on `line` that ends with the
/// port number), fixed to `process.env.PORT || <number>`.
fn port_fix(draft: &mut Draft, file: &str, line: u32, find: &str, port: u16) {
    let number_at = find.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let replace = format!(
        "{}process.env.PORT || {}",
        &find[..number_at],
        &find[number_at..]
    );
    draft.finding(
        "hardcoded_port",
        Severity::Info,
        Some(file),
        Some(line),
        format!(
            "{file}:{line} listens on port {port} whatever PORT says; platforms that assign the \
             port (and autodeploy's local target) need `process.env.PORT || {port}` \
             (autodeploy does so in its copy)"
        ),
        Some(SourceFix {
            file: file.to_string(),
            line,
            find: find.to_string(),
            replace,
        }),
    );
}

/// A bare decimal port literal (not a string: `'3000'` is left alone).
fn is_number(e: &str) -> bool {
    (2..=5).contains(&e.len()) && e.bytes().all(|b| b.is_ascii_digit())
}

fn leading_ws(s: &str) -> usize {
    s.len() - s.trim_start().len()
}

/// `{ port: 3000, host: '127.0.0.1' }` (object at byte `at` of `text`).
fn object_options(
    draft: &mut Draft,
    file: &str,
    text: &str,
    obj: &str,
    at: usize,
    configs: &[(String, std::sync::Arc<str>)],
    listen: &mut Listen,
) {
    let inner = obj.trim_start_matches('{').trim_end_matches('}');
    let inner_at = at + (obj.len() - obj.trim_start_matches('{').len());
    for (part, off) in split_top(inner) {
        let t = part.trim();
        let (key, value) = match t.split_once(':') {
            Some((k, v)) => (k.trim().trim_matches(['"', '\'']), v.trim()),
            None => (t, t), // shorthand `{ port, host }`
        };
        let value_at = inner_at + off + part.find(value).unwrap_or(0);
        match key {
            "port" => {
                listen.port = eval_port(value, text, configs, 0)
                    .map(|(p, l)| (p, l.unwrap_or_else(|| line_of(text, value_at))));
                if let (Some((port, _)), true) = (listen.port, is_number(value)) {
                    if !t.contains('\n') {
                        port_fix(draft, file, line_of(text, value_at), t, port);
                    }
                }
            }
            "host" | "hostname" => check_host(draft, file, text, value, value_at),
            _ => {}
        }
    }
}

/// Report a host expression that binds loopback only (a literal, or a variable set to one).
fn check_host(draft: &mut Draft, file: &str, text: &str, expr: &str, at: usize) {
    if let Some(lit) = loopback_literal(expr) {
        let line = line_of(text, at);
        bind_finding(draft, file, line, lit);
        return;
    }
    if IDENT.is_match(expr) {
        if let Some((decl, line)) = declaration(text, expr) {
            if let Some(lit) = quoted_loopback_in(&decl) {
                bind_finding(draft, file, line, lit);
            }
        }
    }
}

/// The expression itself when it is a quoted loopback host.
fn loopback_literal(expr: &str) -> Option<&str> {
    let e = expr.trim();
    let unq = e.trim_matches(['"', '\'', '`']);
    (e.len() == unq.len() + 2 && is_loopback(unq)).then_some(e)
}

/// A quoted loopback host inside an expression (`process.env.HOST || 'localhost'`).
fn quoted_loopback_in(expr: &str) -> Option<&str> {
    static Q: LazyLock<Regex> = LazyLock::new(|| {
        crate::scan::try_regex(r#"['"`](?:127\.0\.0\.1|localhost|::1)['"`]"#).expect("regex")
    });
    Q.find(expr).map(|m| m.as_str())
}

fn is_loopback(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "localhost" | "::1")
}

fn bind_finding(draft: &mut Draft, file: &str, line: u32, quoted: &str) {
    let q = quoted.chars().next().unwrap_or('\'');
    draft.finding(
        "binds_localhost",
        Severity::Warning,
        Some(file),
        Some(line),
        format!(
            "{file}:{line} binds the server to {}, so nothing outside this machine can reach it; \
             listen on 0.0.0.0 instead (autodeploy does so in its copy)",
            quoted.trim_matches(['"', '\'', '`'])
        ),
        Some(SourceFix {
            file: file.to_string(),
            line,
            find: quoted.to_string(),
            replace: format!("{q}0.0.0.0{q}"),
        }),
    );
}

/// The text between the parenthesis at byte `open` and its match (capped).
fn call_args(text: &str, open: usize) -> Option<&str> {
    let bytes = text.as_bytes();
    let mut depth = 0i32;
    let mut quote: Option<u8> = None;
    let end = (open + 2000).min(bytes.len());
    let mut i = open;
    while i < end {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None => match b {
                b'\'' | b'"' | b'`' => quote = Some(b),
                b'(' | b'{' | b'[' => depth += 1,
                b')' | b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        return text.get(open + 1..i);
                    }
                }
                _ => {}
            },
        }
        i += 1;
    }
    None
}

/// Split at top-level commas: (part, byte offset of the part).
fn split_top(s: &str) -> Vec<(&str, usize)> {
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let mut depth = 0i32;
    let mut quote: Option<u8> = None;
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None => match b {
                b'\'' | b'"' | b'`' => quote = Some(b),
                b'(' | b'{' | b'[' => depth += 1,
                b')' | b'}' | b']' => depth -= 1,
                b',' if depth == 0 => {
                    out.push((&s[start..i], start));
                    start = i + 1;
                }
                _ => {}
            },
        }
        i += 1;
    }
    if start < s.len() && !s[start..].trim().is_empty() {
        out.push((&s[start..], start));
    }
    out
}

/// `const NAME = expr` in `text`: (expr, line).
fn declaration(text: &str, name: &str) -> Option<(String, u32)> {
    let re = crate::scan::try_regex(&format!(
        r"(?m)\b(?:const|let|var)\s+{}\s*(?::\s*[\w<>|\s]+?)?\s*=\s*([^;\n]+)",
        regex::escape(name)
    ))
    .ok()?;
    let (line, c) = first_match(text, &re)?;
    Some((c[1].trim().to_string(), line))
}

/// Destructuring default `const { NAME = 3000 } = process.env` in `text`: (value, line).
fn destructured_default(text: &str, name: &str) -> Option<(u16, u32)> {
    let mut found = None;
    each_match(text, &ENV_DESTRUCTURE, |line, c| {
        if found.is_some() {
            return;
        }
        for part in c[1].split(',') {
            if let Some((n, v)) = part.split_once('=') {
                let n = n.split(':').map(str::trim).collect::<Vec<_>>();
                if n.contains(&name) {
                    if let Some(p) = NUMBER.captures(v.trim()).and_then(|c| c[1].parse().ok()) {
                        found = Some((p, line));
                    }
                }
            }
        }
    });
    found
}

/// Evaluate a port expression: literal, env lookup with a default, a wrapper
/// call, a variable declared in the file, `app.get('port')`, `config.port`.
/// Returns the port and, when it came from elsewhere, the line it is written on.
pub fn eval_port(
    expr: &str,
    text: &str,
    configs: &[(String, std::sync::Arc<str>)],
    depth: u8,
) -> Option<(u16, Option<u32>)> {
    let e = expr.trim().trim_end_matches(';').trim();
    if depth > 4 || e.is_empty() {
        return None;
    }
    let valid = |p: u16| (p > 0).then_some(p);
    if let Some(c) = NUMBER.captures(e) {
        return c[1].parse().ok().and_then(valid).map(|p| (p, None));
    }
    if let Some(c) = FALLBACK.captures(e) {
        return c[1].parse().ok().and_then(valid).map(|p| (p, None));
    }
    if CALL.is_match(e) {
        let open = e.find('(')?;
        let inner = call_args(e, open)?;
        let first = split_top(inner).first().map(|(s, _)| *s).unwrap_or("");
        return eval_port(first, text, configs, depth + 1);
    }
    if let Some(inner) = e.strip_prefix('(').and_then(|s| s.strip_suffix(')')) {
        return eval_port(inner, text, configs, depth + 1);
    }
    if APP_GET_PORT.is_match(e) {
        for (i, line) in text.lines().enumerate() {
            if let Some(c) = APP_SET_PORT.captures(line) {
                let v = eval_port(&c[1], text, configs, depth + 1)?;
                return Some((v.0, v.1.or(Some(i as u32 + 1))));
            }
        }
        return None;
    }
    if IDENT.is_match(e) {
        if let Some((decl, line)) = declaration(text, e) {
            return eval_port(&decl, text, configs, depth + 1).map(|(p, l)| (p, l.or(Some(line))));
        }
        return destructured_default(text, e).map(|(p, l)| (p, Some(l)));
    }
    if MEMBER.is_match(e) && e.to_ascii_lowercase().ends_with("port") && !e.starts_with("process.")
    {
        // `config.port`: a `port:` key in this file or a config module.
        let here = std::iter::once(text).chain(configs.iter().map(|(_, t)| &**t));
        for t in here {
            if let Some((line, c)) = first_match(t, &PORT_KEY) {
                if std::ptr::eq(t, text) {
                    if let Some((p, l)) = eval_port(&c[1], t, &[], depth + 1) {
                        return Some((p, l.or(Some(line))));
                    }
                } else if let Some((p, _)) = eval_port(&c[1], t, &[], depth + 1) {
                    // Evidence stays on the listen line: the value lives in another file.
                    return Some((p, None));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use autodeploy_core::{Language, ServiceKind};

    fn port(expr: &str, text: &str) -> Option<u16> {
        eval_port(expr, text, &[], 0).map(|p| p.0)
    }

    #[test]
    fn port_expressions() {
        assert_eq!(port("3000", ""), Some(3000));
        assert_eq!(port("'8080'", ""), Some(8080));
        assert_eq!(port("process.env.PORT || 3000", ""), Some(3000));
        assert_eq!(port("process.env.PORT ?? 3000", ""), Some(3000));
        assert_eq!(
            port("parseInt(process.env.PORT ?? \"8080\", 10)", ""),
            Some(8080)
        );
        assert_eq!(port("Number(process.env.PORT) || 4000", ""), Some(4000));
        assert_eq!(port("+(process.env.PORT || '5000')", ""), Some(5000));
        assert_eq!(port("process.env.PORT", ""), None);
        assert_eq!(
            port("normalizePort(process.env.PORT || '3000')", ""),
            Some(3000)
        );
        let text = "const PORT = process.env.PORT || 8000;\napp.listen(PORT);\n";
        assert_eq!(eval_port("PORT", text, &[], 0), Some((8000, Some(1))));
        let text = "let port: number = Number(process.env.PORT ?? 4000)\n";
        assert_eq!(port("port", text), Some(4000));
        let text = "const { PORT = 3001, HOST } = process.env;\n";
        assert_eq!(port("PORT", text), Some(3001));
        let text = "app.set('port', process.env.PORT || 5050);\nserver.listen(app.get('port'));\n";
        assert_eq!(
            eval_port("app.get('port')", text, &[], 0),
            Some((5050, Some(1)))
        );
        let cfg: Vec<(String, std::sync::Arc<str>)> = vec![(
            "config.js".into(),
            "module.exports = { port: process.env.PORT || 7000 }".into(),
        )];
        assert_eq!(eval_port("config.port", "", &cfg, 0), Some((7000, None)));
        assert_eq!(port("PORT", "const PORT = PORT;"), None);
    }

    fn draft() -> Draft {
        Draft::new("", Language::Javascript, ServiceKind::Web)
    }

    /// (name, required, line) of every variable `scan_env` finds in `text`.
    fn env_read(text: &str) -> Vec<(String, bool, Option<u32>)> {
        let mut d = Draft::new(
            "",
            autodeploy_core::Language::Javascript,
            autodeploy_core::ServiceKind::Web,
        );
        scan_env(&mut d, "src/env.ts", text);
        d.env
            .iter()
            .map(|e| (e.name.clone(), e.required, e.line))
            .collect()
    }

    #[test]
    fn fastify_env_schema_required_names() {
        let text = "import env from '@fastify/env'\nconst schema = {\n  type: 'object',\n  required: ['DB_HOST', 'COOKIE_NAME', 'COOKIE_SECURED'],\n  properties: {\n    DB_HOST: {\n      type: 'string',\n      default: 'localhost'\n    },\n    COOKIE_NAME: {\n      type: 'string'\n    },\n    COOKIE_SECURED: { type: 'boolean', default: true },\n    RATE_LIMIT_MAX: { type: 'number' }\n  }\n}\n";
        assert_eq!(
            env_read(text),
            vec![
                ("COOKIE_NAME".to_string(), true, Some(10)),
                ("COOKIE_SECURED".to_string(), false, Some(13)),
                ("DB_HOST".to_string(), false, Some(6)),
                ("RATE_LIMIT_MAX".to_string(), false, Some(14)),
            ]
        );
        // Without the import it is some other object.
        let mut d = Draft::new(
            "",
            autodeploy_core::Language::Javascript,
            autodeploy_core::ServiceKind::Web,
        );
        scan_env(&mut d, "src/x.ts", &text.replace("@fastify/env", "other"));
        assert!(d.env.is_empty());
    }

    /// env-schema with fluent-json-schema: `.required()` without a
    /// `.default(…)` must be set; a default is a default.
    #[test]
    fn fluent_env_schema_required_names() {
        let text = "const envSchema = require('env-schema')\nconst S = require('fluent-json-schema')\nconst env = envSchema({\n  schema: S.object()\n    .prop('API_HOST', S.string().required())\n    .prop(\n      'LOG_LEVEL',\n      S.string().enum(['info', 'debug']).default('info')\n    )\n    .prop('HASH_SALT_ROUNDS', S.number().default(10))\n    .prop('JWT_SECRET', S.string().required())\n})\n";
        assert_eq!(
            env_read(text),
            vec![
                ("API_HOST".to_string(), true, Some(5)),
                ("LOG_LEVEL".to_string(), false, Some(7)),
                ("HASH_SALT_ROUNDS".to_string(), false, Some(10)),
                ("JWT_SECRET".to_string(), true, Some(11)),
            ]
        );
    }

    /// nest-brocoders: a class-validator env class is validated at start;
    /// `@IsBoolean() MAIL_SECURE` is required though the code reads it as
    /// `=== 'true'`, `@IsOptional() MAIL_USER` is not though it is read
    /// bare, `@ValidateIf` applies only when another setting asks for it,
    /// and a property with a value has a default.
    #[test]
    fn class_validator_env_classes_rule_on_what_is_required() {
        let text = "import { IsString, IsOptional, IsBoolean, ValidateIf, IsInt } from 'class-validator';\nimport validateConfig from '../../utils/validate-config';\n\nclass EnvironmentVariablesValidator {\n  @IsInt()\n  @IsOptional()\n  MAIL_PORT: number;\n\n  @IsString()\n  @IsOptional()\n  MAIL_USER: string;\n\n  @IsBoolean()\n  MAIL_SECURE: boolean;\n\n  @ValidateIf((envValues) =>\n    envValues.FILE_DRIVER === 's3')\n  @IsString()\n  ACCESS_KEY_ID: string;\n\n  @IsInt()\n  APP_PORT: number = 3000;\n}\n\nexport default registerAs('mail', () => {\n  validateConfig(process.env, EnvironmentVariablesValidator);\n  return {\n    port: process.env.MAIL_PORT ? parseInt(process.env.MAIL_PORT, 10) : 587,\n    user: process.env.MAIL_USER,\n    secure: process.env.MAIL_SECURE === 'true',\n    key: process.env.ACCESS_KEY_ID,\n    appPort: process.env.APP_PORT,\n  };\n});\n";
        let got: BTreeMap<String, bool> =
            env_read(text).into_iter().map(|(n, r, _)| (n, r)).collect();
        assert!(!got["MAIL_PORT"]);
        assert!(!got["MAIL_USER"]);
        assert!(got["MAIL_SECURE"]);
        assert!(!got["ACCESS_KEY_ID"]);
        assert!(!got["APP_PORT"]);
        // Without class-validator, the same class is no schema: reads decide.
        let plain = env_read(&text.replace("'class-validator'", "'other'"));
        let plain: BTreeMap<String, bool> = plain.into_iter().map(|(n, r, _)| (n, r)).collect();
        assert!(plain["MAIL_USER"]);
        assert!(!plain["MAIL_SECURE"]);
    }

    /// hono-open-api-starter: `EnvSchema.safeParse(process.env)` with
    /// `LOG_LEVEL: z.enum([…])` and `DATABASE_URL: z.string().url()`
    /// required, defaults and `.optional()` not.
    #[test]
    fn zod_env_schemas_rule_on_what_is_required() {
        let text = "import { z } from \"zod\";\n\nconst EnvSchema = z.object({\n  NODE_ENV: z.string().default(\"development\"),\n  PORT: z.coerce.number().default(9999),\n  LOG_LEVEL: z.enum([\"fatal\", \"error\", \"info\"]),\n  DATABASE_URL: z.string().url(),\n  DATABASE_AUTH_TOKEN: z.string().optional(),\n}).superRefine((input, ctx) => {\n  if (input.NODE_ENV === \"production\") {}\n});\n\nconst { data: env, error } = EnvSchema.safeParse(process.env);\n";
        let got: BTreeMap<String, (bool, Option<u32>)> = env_read(text)
            .into_iter()
            .map(|(n, r, l)| (n, (r, l)))
            .collect();
        assert_eq!(got["LOG_LEVEL"], (true, Some(6)));
        assert_eq!(got["DATABASE_URL"], (true, Some(7)));
        assert!(!got["NODE_ENV"].0);
        assert!(!got["PORT"].0);
        assert!(!got["DATABASE_AUTH_TOKEN"].0);
    }

    /// A setting the schema's refinement demands under production
    /// (`input.NODE_ENV === "production" && !input.DATABASE_AUTH_TOKEN`,
    /// either way round) is optional, but required in production.
    #[test]
    fn a_setting_demanded_under_production_is_marked() {
        for cond in [
            "input.NODE_ENV === \"production\" && !input.DATABASE_AUTH_TOKEN",
            "!env.DATABASE_AUTH_TOKEN && env.NODE_ENV == 'production'",
        ] {
            let text = format!("import {{ z }} from \"zod\";\nconst EnvSchema = z.object({{\n  NODE_ENV: z.string().default(\"development\"),\n  DATABASE_URL: z.string().url(),\n  DATABASE_AUTH_TOKEN: z.string().optional(),\n}}).superRefine((input, ctx) => {{\n  if ({cond}) {{ ctx.addIssue({{}}); }}\n}});\nconst env = EnvSchema.parse(process.env);\n");
            let mut d = Draft::new("", Language::Typescript, ServiceKind::Web);
            scan_env(&mut d, "src/env.ts", &text);
            let v = |n: &str| d.env.iter().find(|v| v.name == n).unwrap().clone();
            assert!(v("DATABASE_AUTH_TOKEN").required_in_production, "{cond}");
            assert!(!v("DATABASE_AUTH_TOKEN").required, "{cond}");
            // Required anyway: nothing to add.
            assert!(!v("DATABASE_URL").required_in_production, "{cond}");
        }
        // t3-env's createEnv.
        let t3 = "import { createEnv } from \"@t3-oss/env-core\";\nimport { z } from \"zod\";\nexport const env = createEnv({\n  server: {\n    AUTH_SECRET: z.string(),\n    SENTRY_DSN: z.string().url().optional(),\n  },\n  runtimeEnv: process.env,\n});\n";
        let got: BTreeMap<String, bool> =
            env_read(t3).into_iter().map(|(n, r, _)| (n, r)).collect();
        assert!(got["AUTH_SECRET"]);
        assert!(!got["SENTRY_DSN"]);
        // A zod object that does not parse the environment is a form, not settings.
        let form = "import { z } from \"zod\";\nconst Login = z.object({ EMAIL: z.string() });\n";
        assert!(env_read(form).is_empty());
    }

    #[test]
    fn env_reads() {
        let mut d = draft();
        scan_env(
            &mut d,
            "a.js",
            r#"const a = process.env.A;
const b = process.env.B || 'x';
const c = process.env["C"];
const { D, E = "1", F: f } = process.env;
if (process.env.NODE_ENV === 'production') {}
const v = import.meta.env.VITE_X ?? '/api';
const m = import.meta.env.MODE;
const production = !process.env.G;
const h = process.env.H ? 'on' : 'off';
if (process.env.I && x) {}
const j = process.env.J?.trim();
// const sequelize = new Sequelize(process.env.DB_CONNECTION_URL);
/* const k = process.env.K; */
const url = "http://example.com/" + process.env.L;
if(process.env['http_proxy']) { proxy(new URL(process.env['http_proxy'])); }
const p = process.env.notification_proxy || process.env.NOTIFICATION_PROXY;
if (process.env.DB_TYPE) {
    config.host = process.env.DB_HOST;
    config.nested = { port: process.env.DB_PORT };
}
const after = process.env.AFTER;
if (typeof process !== "undefined" && process.env.HIDE_LOG) {}
if (process.env.NODE_ENV === "production") { key = process.env.PROD_KEY; }
const mechanism = (process.env.SASL as 'plain' | 'scram-sha-256') || 'plain';
const header = process.env.IP_HEADER;
if (header && headers.get(header)) {}
const secret = process.env.MUST;
if (!secret) throw new Error("MUST");
export async function register() {
  let org = process.env.HCP_ORG;
  let project = process.env.HCP_PROJECT;
  if (!org) {
    demo();
    return;
  }
  await fetch(`${org}/${project}`, { key: process.env.HCP_API_KEY });
}
const needed = process.env.NEEDED_AFTER;
"#,
        );
        let got: Vec<(&str, bool)> = d
            .env
            .iter()
            .map(|e| (e.name.as_str(), e.required))
            .collect();
        assert_eq!(
            got,
            vec![
                ("A", true),
                ("B", false),
                ("NODE_ENV", false),
                ("G", false),
                ("H", false),
                ("I", false),
                ("J", true),
                ("L", true),
                ("notification_proxy", false),
                ("NOTIFICATION_PROXY", false),
                ("DB_TYPE", false),
                ("DB_HOST", false),
                ("DB_PORT", false),
                ("AFTER", true),
                ("HIDE_LOG", false),
                ("PROD_KEY", true),
                ("SASL", false),
                ("IP_HEADER", false),
                ("MUST", true),
                ("HCP_ORG", false),
                ("HCP_PROJECT", false),
                ("HCP_API_KEY", false),
                ("NEEDED_AFTER", true),
                ("C", true),
                ("http_proxy", false),
                ("D", true),
                ("E", false),
                ("F", true),
                ("VITE_X", false)
            ]
        );
    }

    #[test]
    fn svelte_env() {
        let mut d = draft();
        scan_env(
            &mut d,
            "x.ts",
            "import { DATABASE_URL, PUBLIC_X as x } from '$env/static/private';\n",
        );
        scan_env(
            &mut d,
            "y.ts",
            "import { env } from '$env/dynamic/private';\nconst k = env.API_KEY ?? '';\n",
        );
        let got: Vec<&str> = d.env.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(got, vec!["DATABASE_URL", "PUBLIC_X", "API_KEY"]);
    }

    fn servers(text: &str) -> (Vec<Listen>, Draft) {
        let mut d = draft();
        let mut facts = CodeFacts::default();
        scan_servers(&mut d, "s.js", text, &[], &mut facts);
        (facts.listens, d)
    }

    #[test]
    fn numeric_ports_get_a_fix_that_reads_port_first() {
        let fixes = |text: &str| {
            let (_, d) = servers(text);
            d.findings
                .iter()
                .filter(|f| f.kind == "hardcoded_port")
                .map(|f| {
                    let fix = f.fix.clone().unwrap();
                    (fix.line, fix.find, fix.replace)
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            fixes("app.listen(3000, () => console.log('on 3000'));\n"),
            [(
                1,
                "(3000".to_string(),
                "(process.env.PORT || 3000".to_string()
            )]
        );
        assert_eq!(
            fixes("const PORT = 8080;\nconst app = express();\n\napp.listen(PORT);\n"),
            [(
                1,
                "PORT = 8080".to_string(),
                "PORT = process.env.PORT || 8080".to_string()
            )]
        );
        assert_eq!(
            fixes("server.listen( 4000 , '0.0.0.0');\n"),
            [(
                1,
                "( 4000".to_string(),
                "( process.env.PORT || 4000".to_string()
            )]
        );
        // already reads PORT, a string, or something unknown: nothing to fix
        assert!(fixes("app.listen(process.env.PORT || 3000);\n").is_empty());
        assert!(fixes("const port = process.env.PORT ?? 3000;\napp.listen(port);\n").is_empty());
        assert!(fixes("app.listen('3000');\n").is_empty());
        assert!(fixes("app.listen(config.port);\n").is_empty());
    }

    #[test]
    fn listen_calls_and_hosts() {
        let (l, d) = servers("app.listen(3000, '127.0.0.1', () => {});\n");
        assert_eq!(l[0].port, Some((3000, 1)));
        let bind = d.findings.iter().find(|f| f.kind == "binds_localhost");
        let fix = bind.unwrap().fix.as_ref().unwrap();
        assert_eq!(
            (fix.find.as_str(), fix.replace.as_str()),
            ("'127.0.0.1'", "'0.0.0.0'")
        );

        let (l, d) = servers("await fastify.listen({ port: 8080, host: \"localhost\" })\n");
        assert_eq!(l[0].port, Some((8080, 1)));
        let fix_of = |k: &str| {
            let f = d.findings.iter().find(|f| f.kind == k).unwrap();
            let x = f.fix.clone().unwrap();
            (x.find, x.replace)
        };
        assert_eq!(fix_of("binds_localhost").0, "\"localhost\"");
        assert_eq!(
            fix_of("hardcoded_port"),
            ("port: 8080".into(), "port: process.env.PORT || 8080".into())
        );

        let (l, d) = servers("const HOST = process.env.HOST || 'localhost';\nconst port = 4000;\n\nserver.listen(port, HOST);\n");
        assert_eq!(l[0].port, Some((4000, 2)));
        let line_of_kind = |k: &str| d.findings.iter().find(|f| f.kind == k).unwrap().line;
        assert_eq!(line_of_kind("binds_localhost"), Some(1));
        assert_eq!(line_of_kind("hardcoded_port"), Some(2));

        let (l, d) = servers("const server = Hapi.server({\n  port: 3000,\n  host: 'localhost'\n});\nawait server.start();\n");
        assert_eq!(l[0].port, Some((3000, 2)));
        let line_of_kind = |k: &str| d.findings.iter().find(|f| f.kind == k).unwrap().line;
        assert_eq!(line_of_kind("binds_localhost"), Some(3));
        assert_eq!(line_of_kind("hardcoded_port"), Some(2));

        let (l, d) =
            servers("history.listen((loc) => track(loc));\napp.listen(process.env.PORT);\n");
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].port, None);
        assert!(d.findings.is_empty());

        let (l, _) =
            servers("http.createServer(app).listen(process.env.PORT || 3000, '0.0.0.0');\n");
        assert_eq!(l[0].port, Some((3000, 1)));

        let (l, _) = servers("serve({ fetch: app.fetch, port: 8787 })\n");
        assert_eq!(l[0].port, Some((8787, 1)));
    }

    #[test]
    fn split_and_args() {
        assert_eq!(call_args("f(a, (b, c), 'x)')", 1), Some("a, (b, c), 'x)'"));
        let parts: Vec<&str> = split_top("a, {b: 1, c: 2}, 'x,y'")
            .into_iter()
            .map(|p| p.0.trim())
            .collect();
        assert_eq!(parts, vec!["a", "{b: 1, c: 2}", "'x,y'"]);
    }
}
