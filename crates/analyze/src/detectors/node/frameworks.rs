//! The Node frameworks, worker libraries and database drivers, as tables.
//!
//! A framework is a row of [`FRAMEWORKS`]: the dependency that signals it, its
//! category (a full-stack meta framework, an HTTP server library, a static
//! site/SPA toolchain), its default port, the pattern that finds its app
//! object in code, and its production build/start commands. The few that
//! depend on a config file (Next.js `output: 'export'`, SvelteKit adapters,
//! Angular's outputPath…) get a small function in `refine.rs`.
//!
//! Deliberately not here: reading package.json or scanning code.

use super::manifest::Manifest;
use crate::draft::PORT;
use autodeploy_core::{Database, Evidence};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// Owns the whole app: routing, build and server (Next.js, Nuxt, NestJS…).
    Meta,
    /// An HTTP server library used from the app's own entry file (Express…).
    Server,
    /// Builds files that are served as they are (Vite SPA, CRA, Angular…).
    Static,
}

/// A framework's build command whose program comes from a package the
/// project may not declare, and what stands in for it then: Nest's `nest
/// build` is `@nestjs/cli`'s, and what it runs is the TypeScript compiler
/// with the project's `tsconfig.json` (projects without the CLI build with
/// `tsc`, often as a `prestart:prod` script).
pub struct BuildTool {
    pub build: &'static str,
    pub package: &'static str,
    /// The stand-in and the package that provides it.
    pub instead: Option<(&'static str, &'static str)>,
}

pub const BUILD_TOOLS: &[BuildTool] = &[BuildTool {
    build: "nest build",
    package: "@nestjs/cli",
    instead: Some(("tsc", "typescript")),
}];

/// The build to run for a framework's default `build`: itself when the
/// project declares the package that provides it, its stand-in when that
/// one is declared, else none (a command that cannot be found fails).
pub fn default_build<'a>(m: &Manifest, build: &'a str) -> Option<&'a str> {
    let Some(tool) = BUILD_TOOLS.iter().find(|t| t.build == build) else {
        return Some(build);
    };
    if m.declares(tool.package) {
        return Some(build);
    }
    tool.instead
        .filter(|(_, package)| m.declares(package))
        .map(|(cmd, _)| cmd)
}

/// One framework.
pub struct Framework {
    /// Canonical name (DESIGN.md style).
    pub name: &'static str,
    /// Dependencies that signal it; a trailing `*` matches a prefix (`@remix-run/*`).
    pub deps: &'static [&'static str],
    pub category: Category,
    /// Higher wins when several are declared.
    pub rank: u8,
    pub default_port: u16,
    /// Finds the app object / server in code.
    pub app: Option<&'static str>,
    /// Build when the package has no `build` script (a package binary, run through the manager).
    pub build: Option<&'static str>,
    /// Production start when there is no production start script. `{exec}` runs a
    /// package binary through the manager; `{PORT}` is the port.
    pub start: Option<&'static str>,
    /// Output folder of a static build.
    pub static_dir: Option<&'static str>,
}

pub const FRAMEWORKS: &[Framework] = &[
    Framework {
        name: "nextjs",
        deps: &["next"],
        category: Category::Meta,
        rank: 30,
        default_port: 3000,
        app: None,
        build: Some("next build"),
        start: Some("{exec}next start -p {PORT}"),
        static_dir: None,
    },
    Framework {
        name: "nuxt",
        deps: &["nuxt", "nuxt3", "nuxt-edge"],
        category: Category::Meta,
        rank: 30,
        default_port: 3000,
        app: None,
        build: Some("nuxt build"),
        start: Some("node .output/server/index.mjs"),
        static_dir: None,
    },
    Framework {
        name: "remix",
        deps: &["@remix-run/*"],
        category: Category::Meta,
        rank: 29,
        default_port: 3000,
        app: None,
        build: Some("remix build"),
        start: Some("{exec}remix-serve build/index.js"),
        static_dir: None,
    },
    Framework {
        name: "react-router",
        deps: &[
            "@react-router/dev",
            "@react-router/serve",
            "@react-router/node",
        ],
        category: Category::Meta,
        rank: 29,
        default_port: 3000,
        app: None,
        build: Some("react-router build"),
        start: Some("{exec}react-router-serve ./build/server/index.js"),
        static_dir: None,
    },
    Framework {
        name: "tanstack-start",
        deps: &[
            "@tanstack/react-start",
            "@tanstack/solid-start",
            "@tanstack/start",
        ],
        category: Category::Meta,
        rank: 29,
        default_port: 3000,
        app: None,
        build: Some("vite build"),
        start: Some("node .output/server/index.mjs"),
        static_dir: None,
    },
    Framework {
        name: "sveltekit",
        deps: &["@sveltejs/kit"],
        category: Category::Meta,
        rank: 29,
        default_port: 3000,
        app: None,
        build: Some("vite build"),
        start: Some("node build"),
        static_dir: None,
    },
    Framework {
        name: "astro",
        deps: &["astro"],
        category: Category::Static,
        rank: 28,
        default_port: 4321,
        app: None,
        build: Some("astro build"),
        start: None,
        static_dir: Some("dist"),
    },
    Framework {
        name: "nestjs",
        deps: &["@nestjs/core"],
        category: Category::Meta,
        rank: 27,
        default_port: 3000,
        app: Some(r"\bNestFactory\s*\.\s*create\w*\s*[<(]"),
        build: Some("nest build"),
        start: Some("node dist/main"),
        static_dir: None,
    },
    Framework {
        name: "angular",
        deps: &["@angular/core"],
        category: Category::Static,
        rank: 26,
        default_port: 4000,
        app: None,
        build: Some("ng build"),
        start: None,
        static_dir: Some("dist"),
    },
    Framework {
        name: "gatsby",
        deps: &["gatsby"],
        category: Category::Static,
        rank: 25,
        default_port: 0,
        app: None,
        build: Some("gatsby build"),
        start: None,
        static_dir: Some("public"),
    },
    Framework {
        name: "eleventy",
        deps: &["@11ty/eleventy"],
        category: Category::Static,
        rank: 25,
        default_port: 0,
        app: None,
        build: Some("eleventy"),
        start: None,
        static_dir: Some("_site"),
    },
    Framework {
        name: "docusaurus",
        deps: &["@docusaurus/core"],
        category: Category::Static,
        rank: 25,
        default_port: 0,
        app: None,
        build: Some("docusaurus build"),
        start: None,
        static_dir: Some("build"),
    },
    Framework {
        name: "fastify",
        deps: &["fastify"],
        category: Category::Server,
        rank: 14,
        default_port: 3000,
        app: Some(r#"\b[Ff]astify\s*\(|require\(\s*['"]fastify['"]\s*\)\s*\("#),
        build: None,
        start: None,
        static_dir: None,
    },
    Framework {
        name: "hapi",
        deps: &["@hapi/hapi", "hapi"],
        category: Category::Server,
        rank: 13,
        default_port: 3000,
        app: Some(r"\bHapi\s*\.\s*[sS]erver\s*\(|\bnew\s+Hapi\s*\.\s*Server\s*\("),
        build: None,
        start: None,
        static_dir: None,
    },
    Framework {
        name: "koa",
        deps: &["koa"],
        category: Category::Server,
        rank: 12,
        default_port: 3000,
        app: Some(r"\bnew\s+Koa\s*\("),
        build: None,
        start: None,
        static_dir: None,
    },
    Framework {
        name: "express",
        deps: &["express"],
        category: Category::Server,
        rank: 11,
        default_port: 3000,
        app: Some(r"\bexpress\s*\(\s*\)"),
        build: None,
        start: None,
        static_dir: None,
    },
    Framework {
        name: "hono",
        deps: &["hono"],
        category: Category::Server,
        rank: 10,
        default_port: 3000,
        app: Some(r"\bnew\s+Hono\s*[<(]"),
        build: None,
        start: None,
        static_dir: None,
    },
    Framework {
        name: "create-react-app",
        deps: &["react-scripts"],
        category: Category::Static,
        rank: 8,
        default_port: 0,
        app: None,
        build: Some("react-scripts build"),
        start: None,
        static_dir: Some("build"),
    },
    Framework {
        name: "vue-cli",
        deps: &["@vue/cli-service"],
        category: Category::Static,
        rank: 8,
        default_port: 0,
        app: None,
        build: Some("vue-cli-service build"),
        start: None,
        static_dir: Some("dist"),
    },
    Framework {
        name: "vite",
        deps: &["vite"],
        category: Category::Static,
        rank: 7,
        default_port: 0,
        app: None,
        build: Some("vite build"),
        start: None,
        static_dir: Some("dist"),
    },
    Framework {
        name: "parcel",
        deps: &["parcel", "parcel-bundler"],
        category: Category::Static,
        rank: 6,
        default_port: 0,
        app: None,
        build: Some("parcel build"),
        start: None,
        static_dir: Some("dist"),
    },
];

/// Dependencies of apps that are not network services (mobile and desktop apps).
pub const NOT_SERVICES: &[&str] = &["expo", "react-native", "electron"];

/// A queue/job library whose worker runs as a process of its own.
pub struct WorkerLib {
    pub name: &'static str,
    pub dep: &'static str,
    /// Finds the code that processes jobs (in a file that imports `dep`).
    pub pattern: &'static str,
}

pub const WORKERS: &[WorkerLib] = &[
    WorkerLib {
        name: "bullmq",
        dep: "bullmq",
        pattern: r"\bnew\s+Worker\s*(?:<[^>]*>)?\s*\(",
    },
    WorkerLib {
        name: "bull",
        dep: "bull",
        pattern: r"\.process\s*\(",
    },
    WorkerLib {
        name: "bee-queue",
        dep: "bee-queue",
        pattern: r"\.process\s*\(",
    },
    WorkerLib {
        name: "agenda",
        dep: "agenda",
        pattern: r#"\.define\s*\(\s*['"`]"#,
    },
    WorkerLib {
        name: "pg-boss",
        dep: "pg-boss",
        pattern: r#"\.work\s*\(\s*['"`]"#,
    },
    WorkerLib {
        name: "graphile-worker",
        dep: "graphile-worker",
        pattern: r"\brun\s*\(\s*\{",
    },
];

/// Direct dependency → database or cache.
pub const DB_DEPS: &[(&str, Database)] = &[
    ("pg", Database::Postgresql),
    ("pg-promise", Database::Postgresql),
    ("postgres", Database::Postgresql),
    ("@neondatabase/serverless", Database::Postgresql),
    ("@vercel/postgres", Database::Postgresql),
    ("slonik", Database::Postgresql),
    ("pg-boss", Database::Postgresql),
    ("mysql", Database::Mysql),
    ("mysql2", Database::Mysql),
    ("mariadb", Database::Mysql),
    ("@planetscale/database", Database::Mysql),
    ("mongodb", Database::Mongodb),
    ("mongoose", Database::Mongodb),
    ("redis", Database::Redis),
    ("ioredis", Database::Redis),
    ("@redis/client", Database::Redis),
    ("@upstash/redis", Database::Redis),
    ("bullmq", Database::Redis),
    ("bull", Database::Redis),
    ("bee-queue", Database::Redis),
    ("connect-redis", Database::Redis),
    ("better-sqlite3", Database::Sqlite),
    ("sqlite3", Database::Sqlite),
    ("sqlite", Database::Sqlite),
];

/// ORMs and query builders whose config names the database (`client: 'pg'`).
pub const ORM_DEPS: &[&str] = &[
    "knex",
    "typeorm",
    "sequelize",
    "drizzle-orm",
    "@mikro-orm/core",
    "objection",
    "kysely",
];

/// A `client`/`dialect`/`type` value of an ORM config → database.
pub fn database_of_dialect(value: &str) -> Option<Database> {
    Some(match value.to_ascii_lowercase().as_str() {
        "pg" | "postgres" | "postgresql" | "cockroachdb" | "pg-native" => Database::Postgresql,
        "mysql" | "mysql2" | "mariadb" => Database::Mysql,
        "sqlite" | "sqlite3" | "better-sqlite3" | "better-sqlite" => Database::Sqlite,
        "mongodb" => Database::Mongodb,
        _ => return None,
    })
}

/// The frameworks `m` declares, in any dependency section.
pub fn declared(m: &Manifest) -> Vec<&'static Framework> {
    FRAMEWORKS
        .iter()
        .filter(|f| f.deps.iter().any(|d| m.declares(d)))
        .collect()
}

/// Evidence for a framework's dependency.
pub fn dep_evidence(fw: &Framework, m: &Manifest) -> Option<Evidence> {
    fw.deps.iter().find_map(|d| m.dep_evidence(d))
}

/// Put the manager's exec prefix and the port placeholder into a table command.
pub fn expand(cmd: &str, exec: &dyn Fn(&str) -> String) -> String {
    match cmd.strip_prefix("{exec}") {
        Some(rest) => exec(rest),
        None => cmd.to_string(),
    }
    .replace("{PORT}", PORT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_compile() {
        for f in FRAMEWORKS {
            if let Some(p) = f.app {
                crate::scan::try_regex(p).unwrap();
            }
        }
        for w in WORKERS {
            crate::scan::try_regex(w.pattern).unwrap();
        }
    }

    #[test]
    fn expand_commands() {
        let exec = |c: &str| format!("npx {c}");
        assert_eq!(
            expand("{exec}next start -p {PORT}", &exec),
            "npx next start -p {PORT}"
        );
        assert_eq!(expand("node build", &exec), "node build");
    }
}
