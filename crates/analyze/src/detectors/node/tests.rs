//! Unit tests of the Node detector over in-memory repositories.

use super::*;
use crate::repo::MemRepo;
use autodeploy_core::Database;

fn detect(files: &[(&str, &str)], dir: &str) -> Vec<Draft> {
    let repo = MemRepo::new(files.iter().map(|(p, c)| (p.to_string(), c.to_string())));
    let ctx = Ctx::new(&repo);
    Node.detect(&ctx, dir)
}

fn starts(d: &Draft) -> Vec<(&str, Trust)> {
    d.starts
        .iter()
        .map(|c| (c.value.as_str(), c.trust))
        .collect()
}

fn kinds(d: &Draft) -> Vec<&str> {
    d.findings.iter().map(|f| f.kind.as_str()).collect()
}

#[test]
fn workspace_root_is_weak_and_startless() {
    let drafts = detect(
        &[
            (
                "package.json",
                r#"{"private": true, "workspaces": ["packages/*"], "scripts": {"start": "turbo run start", "dev": "turbo dev", "build": "turbo build"}, "devDependencies": {"turbo": "^2"}}"#,
            ),
            ("package-lock.json", "{}"),
            ("packages/api/package.json", r#"{"name": "api"}"#),
        ],
        "",
    );
    assert_eq!(drafts.len(), 1);
    let d = &drafts[0];
    assert!(d.strength <= 2.5, "{}", d.strength);
    assert!(d.framework.is_none());
    assert!(d.starts.is_empty());
    assert!(d.findings.is_empty());
}

#[test]
fn tooling_beside_another_backend_is_weak_and_quiet() {
    let drafts = detect(
        &[
            ("requirements.txt", "django==5.0\n"),
            (
                "package.json",
                r#"{"scripts": {"build": "tailwindcss -o static/app.css", "watch": "tailwindcss --watch"}, "devDependencies": {"tailwindcss": "^3", "vite": "^5"}}"#,
            ),
        ],
        "",
    );
    let d = &drafts[0];
    assert!(d.strength <= 3.0, "{}", d.strength);
    assert!(d.findings.is_empty(), "{:?}", kinds(d));
    assert_eq!(d.builds[0].value, "npm run build");
    assert_eq!(d.install.as_deref(), Some("npm install"));
}

#[test]
fn dev_dependencies_name_no_database() {
    let drafts = detect(
        &[
            (
                "package.json",
                r#"{"main": "index.js", "dependencies": {"express": "4"}, "devDependencies": {"pg": "8", "mongodb-memory-server": "9", "sqlite3": "5"}}"#,
            ),
            (
                "index.js",
                "const app = require('express')();\napp.listen(3000);\n",
            ),
        ],
        "",
    );
    assert!(drafts[0].databases.is_empty());
    assert_eq!(drafts[0].framework.as_deref(), Some("express"));
    assert_eq!(starts(&drafts[0]), vec![("node index.js", Trust::Inferred)]);
}

#[test]
fn console_script_is_a_worker() {
    let drafts = detect(
        &[
            (
                "package.json",
                r#"{"name": "bot", "scripts": {"start": "node bot.js"}, "dependencies": {"discord.js": "14"}}"#,
            ),
            ("package-lock.json", "{}"),
            ("bot.js", "const { Client } = require('discord.js');\nnew Client().login(process.env.DISCORD_TOKEN);\n"),
        ],
        "",
    );
    assert_eq!(drafts.len(), 1);
    assert_eq!(drafts[0].kind, ServiceKind::Worker);
    assert_eq!(starts(&drafts[0]), vec![("npm start", Trust::Config)]);
    assert!(drafts[0].ports.is_empty());
}

#[test]
fn standalone_bullmq_worker_is_the_package() {
    let drafts = detect(
        &[
            (
                "package.json",
                r#"{"name": "jobs", "dependencies": {"bullmq": "5"}, "scripts": {"dev": "tsx watch src/worker.ts", "build": "tsc"}, "devDependencies": {"typescript": "5"}}"#,
            ),
            ("pnpm-lock.yaml", "lockfileVersion: '9.0'\n"),
            (
                "tsconfig.json",
                r#"{"compilerOptions": {"outDir": "dist", "rootDir": "src"}}"#,
            ),
            (
                "src/worker.ts",
                "import { Worker } from 'bullmq';\nnew Worker<Job>('q', async () => {});\n",
            ),
        ],
        "",
    );
    assert_eq!(drafts.len(), 1);
    let w = &drafts[0];
    assert_eq!(w.kind, ServiceKind::Worker);
    assert_eq!(w.name, None);
    assert_eq!(w.framework.as_deref(), Some("bullmq"));
    assert_eq!(starts(w), vec![("node dist/worker.js", Trust::Inferred)]);
    assert_eq!(w.builds[0].value, "pnpm build");
    assert_eq!(kinds(w), vec!["dev_server_start"]);
}

#[test]
fn typescript_main_points_at_compiled_output() {
    let drafts = detect(
        &[
            (
                "package.json",
                r#"{"main": "dist/server.js", "dependencies": {"fastify": "4"}, "devDependencies": {"typescript": "5"}}"#,
            ),
            ("yarn.lock", "# yarn lockfile v1\n"),
            ("src/server.ts", "import Fastify from 'fastify';\nconst app = Fastify();\napp.listen({ port: Number(process.env.PORT) || 8080, host: '0.0.0.0' });\n"),
        ],
        "",
    );
    let d = &drafts[0];
    assert_eq!(starts(d), vec![("node dist/server.js", Trust::Inferred)]);
    assert_eq!(d.builds[0].value, "yarn tsc");
    assert!(d.findings.is_empty(), "{:?}", kinds(d));
    assert!(d
        .ports
        .iter()
        .any(|p| p.value == 8080 && p.trust == Trust::Code));
}

#[test]
fn hapi_bound_to_localhost() {
    let drafts = detect(
        &[
            ("package.json", r#"{"scripts": {"start": "node server.js"}, "dependencies": {"@hapi/hapi": "21"}}"#),
            ("package-lock.json", "{}"),
            (
                "server.js",
                "'use strict';\nconst Hapi = require('@hapi/hapi');\nconst init = async () => {\n  const server = Hapi.server({\n    port: 3000,\n    host: 'localhost'\n  });\n  await server.start();\n};\ninit();\n",
            ),
        ],
        "",
    );
    let d = &drafts[0];
    assert_eq!(d.framework.as_deref(), Some("hapi"));
    assert_eq!(kinds(d), vec!["hardcoded_port", "binds_localhost"]);
    assert_eq!(d.findings[0].line, Some(5));
    assert_eq!(d.findings[1].line, Some(6));
    assert!(d
        .ports
        .iter()
        .any(|p| p.value == 3000 && p.trust == Trust::Code));
}

#[test]
fn remix_vite_and_next_dev_only() {
    let remix = detect(
        &[
            (
                "package.json",
                r#"{"scripts": {"build": "remix vite:build", "dev": "remix vite:dev", "start": "remix-serve ./build/server/index.js"}, "dependencies": {"@remix-run/node": "2", "@remix-run/react": "2", "@remix-run/serve": "2"}}"#,
            ),
            ("package-lock.json", "{}"),
            (
                "vite.config.ts",
                "import { vitePlugin as remix } from '@remix-run/dev';\n",
            ),
        ],
        "",
    );
    assert_eq!(remix[0].framework.as_deref(), Some("remix"));
    assert_eq!(starts(&remix[0]), vec![("npm start", Trust::Config)]);
    assert_eq!(remix[0].builds[0].value, "npm run build");

    let next = detect(
        &[
            (
                "package.json",
                r#"{"scripts": {"dev": "next dev"}, "dependencies": {"next": "14"}}"#,
            ),
            ("bun.lockb", "\u{1}"),
        ],
        "",
    );
    let d = &next[0];
    assert_eq!(
        starts(d),
        vec![("bunx next start -p {PORT}", Trust::Inferred)]
    );
    assert_eq!(d.builds[0].value, "bunx next build");
    assert_eq!(d.install.as_deref(), Some("bun install --frozen-lockfile"));
    assert_eq!(kinds(d), vec!["dev_server_start"]);
    assert_eq!(d.findings[0].severity, Severity::Info);
}

#[test]
fn start_script_port_flag_is_config() {
    let drafts = detect(
        &[
            (
                "package.json",
                r#"{"scripts": {"start": "next start -p 4000", "build": "next build"}, "dependencies": {"next": "14"}}"#,
            ),
            ("package-lock.json", "{}"),
        ],
        "",
    );
    assert!(drafts[0]
        .ports
        .iter()
        .any(|p| p.value == 4000 && p.trust == Trust::Config));
}

#[test]
fn invalid_manifest_is_reported_not_fatal() {
    let drafts = detect(&[("package.json", "{ \"name\": \"x\", }}")], "");
    assert_eq!(kinds(&drafts[0]), vec!["invalid_manifest"]);
    assert!(drafts[0].strength < 2.0);
}

#[test]
fn static_file_server_start() {
    let drafts = detect(
        &[
            (
                "package.json",
                r#"{"scripts": {"start": "serve -s site -l 5000"}, "dependencies": {"serve": "14"}}"#,
            ),
            ("package-lock.json", "{}"),
            ("site/index.html", "<h1>hi</h1>"),
        ],
        "",
    );
    assert_eq!(drafts[0].kind, ServiceKind::Static);
    assert_eq!(drafts[0].static_dir.as_deref(), Some("site"));
}

#[test]
fn library_without_start_is_tooling() {
    let drafts = detect(
        &[
            (
                "package.json",
                r#"{"name": "left-pad", "main": "index.js", "scripts": {"test": "jest"}}"#,
            ),
            (
                "index.js",
                "module.exports = function leftPad(s, n) { return s.padStart(n); };\n",
            ),
        ],
        "",
    );
    let d = &drafts[0];
    assert!(d.starts.is_empty());
    assert!(d.strength <= 2.5);
    assert_eq!(kinds(d), vec!["start_not_found"]);
}

#[test]
fn plain_http_server_and_env_host() {
    let drafts = detect(
        &[
            ("package.json", r#"{"name": "raw", "scripts": {"start": "node server.mjs"}}"#),
            ("package-lock.json", "{}"),
            (
                "server.mjs",
                "import http from 'node:http';\nconst HOST = process.env.HOST || '127.0.0.1';\nconst PORT = Number(process.env.PORT) || 8081;\nhttp.createServer((req, res) => res.end('ok')).listen(PORT, HOST);\n",
            ),
        ],
        "",
    );
    let d = &drafts[0];
    assert_eq!(d.framework, None);
    assert_eq!(d.kind, ServiceKind::Web);
    assert!(d
        .ports
        .iter()
        .any(|p| p.value == 8081 && p.trust == Trust::Code));
    assert_eq!(kinds(d), vec!["binds_localhost"]);
    assert_eq!(d.findings[0].line, Some(2));
    assert_eq!(d.findings[0].fix.as_ref().unwrap().find, "'127.0.0.1'");
}

#[test]
fn express_generator_without_start_script() {
    let drafts = detect(
        &[
            ("package.json", r#"{"dependencies": {"express": "4"}}"#),
            ("package-lock.json", "{}"),
            ("app.js", "var express = require('express');\nvar app = express();\nmodule.exports = app;\n"),
            ("bin/www", "var app = require('../app');\nvar port = normalizePort(process.env.PORT || '3000');\nvar server = http.createServer(app);\nserver.listen(port);\n"),
        ],
        "",
    );
    assert_eq!(starts(&drafts[0]), vec![("node bin/www", Trust::Inferred)]);
}

#[test]
fn vite_spa_beside_its_express_server_is_the_server() {
    let drafts = detect(
        &[
            (
                "package.json",
                r#"{"scripts": {"build": "vite build", "start": "node server.js"}, "dependencies": {"express": "4", "react": "18"}, "devDependencies": {"vite": "5"}}"#,
            ),
            ("package-lock.json", "{}"),
            ("server.js", "import express from 'express';\nconst app = express();\napp.use(express.static('dist'));\napp.listen(process.env.PORT || 3000);\n"),
            ("index.html", "<div id=root></div>"),
        ],
        "",
    );
    let d = &drafts[0];
    assert_eq!(d.kind, ServiceKind::Web);
    assert_eq!(d.framework.as_deref(), Some("express"));
    assert_eq!(d.builds[0].value, "npm run build");
}

#[test]
fn pnpm_workspace_package_uses_root_lockfile() {
    let drafts = detect(
        &[
            ("package.json", r#"{"private": true}"#),
            ("pnpm-workspace.yaml", "packages:\n  - 'services/*'\n"),
            ("pnpm-lock.yaml", "lockfileVersion: '9.0'\n"),
            (
                "services/api/package.json",
                r#"{"name": "@x/api", "scripts": {"start": "node index.js"}, "dependencies": {"koa": "2", "ioredis": "5"}}"#,
            ),
            (
                "services/api/index.js",
                "const Koa = require('koa');\nnew Koa().listen(7000);\n",
            ),
        ],
        "services/api",
    );
    let d = &drafts[0];
    assert_eq!(d.install.as_deref(), Some("pnpm install --frozen-lockfile"));
    assert_eq!(kinds(d), vec!["hardcoded_port"]);
    assert_eq!(starts(d), vec![("pnpm start", Trust::Config)]);
    assert!(d.databases.contains_key(&autodeploy_core::Database::Redis));
}

#[test]
fn knex_and_prisma_config_name_databases() {
    let drafts = detect(
        &[
            (
                "package.json",
                r#"{"scripts": {"start": "node app.js"}, "dependencies": {"knex": "3", "express": "4"}}"#,
            ),
            ("package-lock.json", "{}"),
            (
                "knexfile.js",
                "module.exports = { client: 'mysql2', connection: process.env.DATABASE_URL };\n",
            ),
            (
                "app.js",
                "const app = require('express')();\napp.listen(3000);\n",
            ),
        ],
        "",
    );
    assert!(drafts[0]
        .databases
        .contains_key(&autodeploy_core::Database::Mysql));
}

#[test]
fn huge_or_binary_inputs_do_not_panic() {
    let junk = "\u{0}\u{1}(((({{{{".repeat(1000);
    let drafts = detect(
        &[
            ("package.json", r#"{"scripts": {"start": "node a.js"}}"#),
            (
                "a.js",
                &format!("x.listen({junk}\nprocess.env.\nconst {{ = process.env;\n.listen("),
            ),
        ],
        "",
    );
    assert_eq!(drafts.len(), 1);
}

#[test]
fn nested_tooling_package_is_part_of_its_project() {
    let files = [
        (
            "package.json",
            r#"{"scripts": {"start": "remix-serve build"}, "dependencies": {"@remix-run/serve": "2"}}"#,
        ),
        (
            "remix.init/package.json",
            r#"{"main": "index.js", "dependencies": {"inquirer": "8"}}"#,
        ),
        (
            "remix.init/index.js",
            "module.exports = async function main() {};\n",
        ),
        (
            "packages/ui/package.json",
            r#"{"name": "ui", "scripts": {"lint": "eslint ."}}"#,
        ),
    ];
    assert!(detect(&files, "remix.init").is_empty());
    assert!(detect(&files, "packages/ui").is_empty());
}

#[test]
fn nx_serve_is_dev_and_build_output_is_started() {
    let drafts = detect(
        &[
            (
                "package.json",
                r#"{"scripts": {"start": "nx serve", "build": "nx build"}, "dependencies": {"express": "4"}, "devDependencies": {"typescript": "5"}}"#,
            ),
            ("package-lock.json", "{}"),
            (
                "project.json",
                r#"{"targets": {"build": {"options": {"outputPath": "dist/api", "main": "src/main.ts"}}}}"#,
            ),
            (
                "src/main.ts",
                "import express from 'express';\nconst app = express();\napp.listen(3000);\n",
            ),
        ],
        "",
    );
    let d = &drafts[0];
    assert_eq!(starts(d), vec![("node dist/api/main.js", Trust::Inferred)]);
    assert_eq!(d.builds[0].value, "npm run build");
    assert_eq!(kinds(d), vec!["hardcoded_port", "dev_server_start"]);
}

#[test]
fn conflicting_lockfiles_follow_the_scripts() {
    let drafts = detect(
        &[
            (
                "package.json",
                r#"{"scripts": {"start": "node server.js", "build": "npm install --prefix web && npm run build --prefix web"}, "dependencies": {"express": "4"}}"#,
            ),
            ("package-lock.json", "{}"),
            ("pnpm-lock.yaml", "lockfileVersion: '9.0'\n"),
            (
                "server.js",
                "const app = require('express')();\napp.listen(5000);\n",
            ),
        ],
        "",
    );
    let d = &drafts[0];
    assert_eq!(d.package_manager.as_deref(), Some("npm"));
    assert_eq!(kinds(d), vec!["hardcoded_port", "conflicting_lockfiles"]);
}

#[test]
fn worker_script_without_queue_library() {
    let drafts = detect(
        &[
            (
                "package.json",
                r#"{"scripts": {"start": "node server.js", "worker": "node worker.js"}, "dependencies": {"express": "4", "amqplib": "0.10"}}"#,
            ),
            ("package-lock.json", "{}"),
            (
                "server.js",
                "const app = require('express')();\napp.listen(process.env.PORT || 3000);\n",
            ),
            (
                "worker.js",
                "const amqp = require('amqplib');\nconst url = process.env.AMQP_URL;\n",
            ),
        ],
        "",
    );
    assert_eq!(drafts.len(), 2);
    let w = &drafts[1];
    assert_eq!(w.kind, ServiceKind::Worker);
    assert_eq!(w.name.as_deref(), Some("worker"));
    assert_eq!(starts(w), vec![("npm run worker", Trust::Config)]);
    assert!(!w.env.iter().any(|e| e.name == "PORT"));
}

#[test]
fn in_process_queue_worker_is_not_a_separate_service() {
    let drafts = detect(
        &[
            ("package.json", r#"{"scripts": {"start": "node app.js"}, "dependencies": {"express": "4", "agenda": "5"}}"#),
            ("package-lock.json", "{}"),
            ("app.js", "const app = require('express')();\nrequire('./jobs');\napp.listen(3000);\n"),
            ("jobs.js", "const Agenda = require('agenda');\nconst agenda = new Agenda();\nagenda.define('send email', async () => {});\nagenda.start();\n"),
        ],
        "",
    );
    assert_eq!(drafts.len(), 1);
}

#[test]
fn cli_tool_is_not_a_service() {
    let drafts = detect(
        &[
            ("package.json", r#"{"name": "mytool", "bin": {"mytool": "cli.js"}, "main": "cli.js", "scripts": {"test": "tap"}, "dependencies": {"fastify": "5"}}"#),
            ("cli.js", "#!/usr/bin/env node\nconst Fastify = require('fastify');\nconst app = Fastify();\n"),
        ],
        "",
    );
    assert!(drafts[0].starts.is_empty());
    assert!(drafts[0].strength <= 2.5);
}

#[test]
fn release_from_the_projects_own_migration_script() {
    let app = "const express = require('express');\nconst app = express();\napp.listen(process.env.PORT || 3000);\n";
    let release = |scripts: &str, extra: &[(&str, &str)]| {
        let pkg = format!(
            r#"{{"name": "api", "scripts": {{"start": "node server.js", {scripts}}}, "dependencies": {{"express": "^4", "knex": "^3", "pg": "^8"}}}}"#
        );
        let mut files = vec![
            ("package.json", pkg.as_str()),
            ("package-lock.json", "{}"),
            ("server.js", app),
        ];
        files.extend_from_slice(extra);
        detect(&files, "")[0].release.clone()
    };
    assert_eq!(
        release(r#""db:migrate": "node scripts/migrate.js""#, &[]).as_deref(),
        Some("npm run db:migrate")
    );
    // A dev migration (interactive) is not a release step; a script that needs
    // a missing .env file cannot run where the app is deployed.
    assert_eq!(release(r#""migrate": "prisma migrate dev""#, &[]), None);
    assert_eq!(
        release(
            r#""db:migrate": "tsx --env-file=.env ./scripts/migrate.ts""#,
            &[]
        ),
        None
    );
    assert_eq!(
        release(
            r#""db:migrate": "tsx --env-file=.env ./scripts/migrate.ts""#,
            &[(".env", "DB=x\n")]
        )
        .as_deref(),
        Some("npm run db:migrate")
    );
    // The knex CLI when the project has a knexfile and migrations but no script.
    assert_eq!(
        release(
            r#""build": "true""#,
            &[
                (
                    "knexfile.js",
                    "module.exports = { client: 'pg', connection: process.env.DATABASE_URL }\n"
                ),
                ("migrations/001_init.js", "exports.up = () => {}\n"),
            ]
        )
        .as_deref(),
        Some("npx knex migrate:latest")
    );
}

/// drizzle-kit applies the migrations its config's `out` names
/// (hono-open-api-starter: `out: "./src/db/migrations"`); with no config,
/// or nothing in that folder, there is no release step.
#[test]
fn drizzle_kit_migrates_the_folder_its_config_names() {
    let app = "import { serve } from '@hono/node-server';\nserve({ fetch: app.fetch, port: Number(process.env.PORT) });\n";
    let pkg = r#"{"name": "api", "scripts": {"start": "node ./dist/index.js", "build": "tsc"}, "dependencies": {"hono": "^4", "drizzle-orm": "^0.44", "@libsql/client": "^0.15"}, "devDependencies": {"drizzle-kit": "^0.31"}}"#;
    let config = "export default defineConfig({\n  schema: \"./src/db/schema.ts\",\n  out: \"./src/db/migrations\",\n  dialect: \"turso\",\n});\n";
    let release = |extra: &[(&str, &str)]| {
        let mut files = vec![
            ("package.json", pkg),
            ("pnpm-lock.yaml", "lockfileVersion: '9.0'\n"),
            ("src/index.ts", app),
        ];
        files.extend_from_slice(extra);
        detect(&files, "")[0].release.clone()
    };
    let migration = (
        "src/db/migrations/0000_init.sql",
        "CREATE TABLE tasks (id integer);\n",
    );
    assert_eq!(
        release(&[("drizzle.config.ts", config), migration]).as_deref(),
        Some("pnpm exec drizzle-kit migrate")
    );
    assert_eq!(release(&[("drizzle.config.ts", config)]), None);
    assert_eq!(release(&[migration]), None);
    // No `out`: drizzle-kit's own default folder.
    assert_eq!(
        release(&[
            (
                "drizzle.config.ts",
                "export default { dialect: 'sqlite' };\n"
            ),
            ("drizzle/0000_init.sql", "CREATE TABLE t (id integer);\n"),
        ])
        .as_deref(),
        Some("pnpm exec drizzle-kit migrate")
    );
}

/// A site generator whose start script builds, then watches and serves
/// `dist` with browser-sync, is the static site in `dist` — not a worker.
#[test]
fn a_start_script_serving_its_built_folder_is_a_static_site() {
    let pkg = r#"{"name": "agency", "scripts": {"build": "node scripts/build.js", "start": "npm run build && node scripts/start.js"}, "devDependencies": {"browser-sync": "2.29.1", "concurrently": "6.3.0"}}"#;
    let start = "const concurrently = require('concurrently');\nconst bs = upath.resolve(__dirname, '../node_modules/.bin/browser-sync');\nconcurrently([{ command: 'node scripts/watch.js' }, { command: `\"${bs}\" dist -w --no-online` }]);\n";
    let d = detect(
        &[
            ("package.json", pkg),
            ("scripts/start.js", start),
            (
                "scripts/build.js",
                "require('fs').writeFileSync('dist/index.html', '<h1>hi</h1>');\n",
            ),
        ],
        "",
    );
    assert_eq!(d[0].kind, ServiceKind::Static, "{d:#?}");
    assert_eq!(d[0].static_dir.as_deref(), Some("dist"));
    // A console script that only mentions a folder stays what it is.
    let d = detect(
        &[
            (
                "package.json",
                r#"{"name": "job", "scripts": {"start": "node job.js"}}"#,
            ),
            (
                "job.js",
                "// serve nothing: copy files to dist and exit\nconsole.log('done');\n",
            ),
        ],
        "",
    );
    assert_eq!(d[0].kind, ServiceKind::Worker, "{d:#?}");
}

/// Eleventy builds a static site into `_site`.
#[test]
fn eleventy_is_a_static_site_built_into_site() {
    let d = detect(
        &[(
            "package.json",
            r#"{"scripts": {"build": "npx @11ty/eleventy", "start": "npx @11ty/eleventy --serve"}, "devDependencies": {"@11ty/eleventy": "3"}}"#,
        )],
        "",
    );
    assert_eq!(d[0].kind, autodeploy_core::ServiceKind::Static);
    assert_eq!(d[0].static_dir.as_deref(), Some("_site"));
}

/// etherpad-lite: `admin/` builds into the server's own templates
/// (`vite build --outDir ../src/templates/admin`), run by the root's
/// `build:etherpad`. The admin UI is part of the server, not a site of its
/// own; the server's build is that script. A front end with its own output
/// folder stays a site.
#[test]
fn a_front_end_built_into_the_server_is_part_of_it() {
    let files = |admin_build: &'static str| {
        vec![
            (
                "package.json",
                r#"{"name": "pad", "scripts": {"prod": "node src/server.js", "build:pad": "pnpm --filter admin run build-copy", "build:docs": "pnpm --filter docs run build"}, "dependencies": {"express": "^4"}}"#,
            ),
            ("pnpm-lock.yaml", "lockfileVersion: '9.0'\n"),
            ("pnpm-workspace.yaml", "packages:\n  - admin\n"),
            (
                "src/server.js",
                "const express = require('express');\nconst app = express();\napp.listen(9001);\n",
            ),
            ("admin/package.json", admin_build),
            ("admin/vite.config.ts", "export default {}\n"),
            ("admin/index.html", "<div id=root></div>\n"),
        ]
    };
    let embedded = r#"{"name": "admin", "scripts": {"build": "tsc && vite build", "build-copy": "tsc && vite build --outDir ../src/templates/admin --emptyOutDir"}, "dependencies": {"react": "^19"}, "devDependencies": {"vite": "^7"}}"#;
    let f = files(embedded);
    assert!(detect(&f, "admin").is_empty());
    let root = detect(&f, "");
    assert_eq!(
        root[0].builds.first().map(|c| c.value.as_str()),
        Some("pnpm build:pad")
    );
    // Built into the server's tree, but by nothing the server's package
    // runs (the build is someone else's step): it stays a site.
    let mut f = files(embedded);
    f[0].1 = r#"{"name": "pad", "scripts": {"prod": "node src/server.js", "build:docs": "pnpm --filter docs run build"}, "dependencies": {"express": "^4"}}"#;
    assert_eq!(detect(&f, "admin").len(), 1);
    let own = r#"{"name": "admin", "scripts": {"build": "tsc && vite build"}, "dependencies": {"react": "^19"}, "devDependencies": {"vite": "^7"}}"#;
    let f = files(own);
    assert_eq!(detect(&f, "admin").len(), 1);
    let b: Vec<String> = detect(&f, "")[0]
        .builds
        .iter()
        .map(|c| c.value.clone())
        .collect();
    assert!(b.is_empty(), "{b:?}");
}

/// express-sequelize-example: no health route, but the app object serves
/// a page at `/`; a router's `/` (mounted who knows where) is not taken,
/// and a health route wins.
#[test]
fn the_app_objects_home_page_stands_in_for_a_health_route() {
    let health = |code: &str| {
        let files = [
            (
                "package.json",
                r#"{"name": "x", "scripts": {"start": "node app.js"}, "dependencies": {"express": "^4"}}"#,
            ),
            ("app.js", code),
        ];
        detect(&files, "")[0].health_path.clone()
    };
    let app = "const express = require('express');\nconst app = express();\n";
    assert_eq!(
        health(&format!(
            "{app}app.get('/', (req, res) => res.send('hi'));\napp.listen(3000);\n"
        ))
        .as_deref(),
        Some("/")
    );
    assert_eq!(
        health(&format!("{app}const router = express.Router();\nrouter.get('/', (q, r) => r.send(''));\napp.use('/api', router);\napp.listen(3000);\n")),
        None
    );
    assert_eq!(
        health(&format!("{app}app.get('/', (q, r) => r.send(''));\napp.get('/healthz', (q, r) => r.send('ok'));\napp.listen(3000);\n")).as_deref(),
        Some("/healthz")
    );
}

/// node-typescript-koa-rest: a Koa router made without a prefix, with a
/// `/` route, that the app mounts whole (`app.use(router.routes())`)
/// serves that page at `/`. A prefixed router does not.
#[test]
fn a_koa_router_mounted_whole_serves_its_home_page() {
    let health = |routes: &str| {
        let server = "import Koa from 'koa';\nimport { unprotectedRouter } from './routes';\nconst app = new Koa();\napp.use(unprotectedRouter.routes()).use(unprotectedRouter.allowedMethods());\napp.listen(3000);\n";
        let files = [
            (
                "package.json",
                r#"{"name": "x", "scripts": {"start": "node dist/server.js"}, "dependencies": {"koa": "^2", "@koa/router": "^12"}}"#,
            ),
            ("src/server.ts", server),
            ("src/routes.ts", routes),
        ];
        detect(&files, "")[0].health_path.clone()
    };
    let plain = "import Router from '@koa/router';\nconst unprotectedRouter = new Router();\nunprotectedRouter.get('/', hello);\nexport { unprotectedRouter };\n";
    assert_eq!(health(plain).as_deref(), Some("/"));
    let prefixed = "import Router from '@koa/router';\nconst unprotectedRouter = new Router({ prefix: '/api' });\nunprotectedRouter.get('/', hello);\nexport { unprotectedRouter };\n";
    assert_eq!(health(prefixed), None);
}

/// A lock that pins a `nan` older Node cannot build gets the override —
/// unless the project pins an older Node (`.nvmrc` 14, djangogirls), which
/// builds it and whose npm 6 has no `npm pkg` (the set failed the build).
#[test]
fn a_broken_lock_is_overridden_only_on_a_node_it_breaks_on() {
    let files = |nvmrc: Option<&'static str>| {
        let mut f = vec![
            (
                "package.json",
                r#"{"name": "a", "scripts": {"start": "node server.js"}, "dependencies": {"bcrypt": "3.0.8"}}"#,
            ),
            (
                "package-lock.json",
                r#"{"lockfileVersion": 1, "dependencies": {"bcrypt": {"version": "3.0.8"}, "nan": {"version": "2.14.0"}}}"#,
            ),
            (
                "server.js",
                "require('http').createServer().listen(process.env.PORT)\n",
            ),
        ];
        if let Some(v) = nvmrc {
            f.push((".nvmrc", v));
        }
        f
    };
    let install = |nvmrc| {
        detect(&files(nvmrc), "")[0]
            .install
            .clone()
            .unwrap_or_default()
    };
    assert!(
        install(None).starts_with("npm pkg set overrides.nan=^2.17.0 && npm install"),
        "{}",
        install(None)
    );
    assert!(
        install(Some("20\n")).starts_with("npm pkg set"),
        "{}",
        install(Some("20\n"))
    );
    assert_eq!(install(Some("14.17\n")), "npm ci");
}

/// uptime-kuma: knex keeps the data in SQLite or MariaDB (`client:
/// "mysql2"`); `pg` and `mongodb` are clients its monitor types open to
/// users' servers. They are not the app's database. Without an ORM naming
/// an engine, a bare driver still is.
#[test]
fn a_bare_driver_beside_an_orm_naming_another_engine_is_a_client() {
    let pkg = r#"{"scripts": {"start": "node server/server.js"}, "dependencies": {"express": "4", "knex": "3", "mysql2": "3", "pg": "8", "mongodb": "4", "@louislam/sqlite3": "15"}}"#;
    let server =
        "const express = require(\"express\");\nconst app = express();\napp.listen(3001);\n";
    let database = "const knex = require(\"knex\");\nconst db = knex({\n  client: \"mysql2\",\n  connection: { host: dbConfig.hostname },\n});\n";
    let monitor = "const { Client } = require(\"pg\");\nconst client = new Client({ connectionString: monitor.databaseConnectionString });\n";
    let drafts = detect(
        &[
            ("package.json", pkg),
            ("server/server.js", server),
            ("server/database.js", database),
            ("server/monitor-types/postgres.js", monitor),
        ],
        "",
    );
    let dbs: Vec<Database> = drafts[0].databases.keys().copied().collect();
    assert_eq!(dbs, vec![Database::Mysql], "{:?}", drafts[0].databases);
    // A job queue keeping its jobs in PostgreSQL beside the bare driver:
    // the engine is a store the app needs, whatever the ORM names.
    let queue = pkg.replace("\"pg\": \"8\"", "\"pg\": \"8\", \"pg-boss\": \"9\"");
    let drafts = detect(
        &[
            ("package.json", queue.as_str()),
            ("server/server.js", server),
            ("server/database.js", database),
            ("server/monitor-types/postgres.js", monitor),
        ],
        "",
    );
    assert!(
        drafts[0].databases.contains_key(&Database::Postgresql),
        "{:?}",
        drafts[0].databases
    );
    // The same project without the ORM's literal: pg is a database again.
    let drafts = detect(
        &[
            ("package.json", pkg),
            ("server/server.js", server),
            ("server/monitor-types/postgres.js", monitor),
        ],
        "",
    );
    assert!(
        drafts[0].databases.contains_key(&Database::Postgresql),
        "{:?}",
        drafts[0].databases
    );
}

/// fastify-realworld: `knexconf[env.NODE_ENV]` from a knexfile whose only
/// live entry is `development` (the `production` one is commented out, and
/// its `client: 'postgresql'` is no database). A knexfile with a production
/// entry says nothing.
#[test]
fn a_knexfile_without_production_picked_by_node_env_is_a_warning() {
    let pkg = r#"{"scripts": {"start": "node ."}, "dependencies": {"fastify": "4", "knex": "2", "sqlite3": "5"}}"#;
    let config = "const knexconf = require('../../knexfile')\nasync function getConfig () {\n  return { knex: knexconf[env.NODE_ENV] }\n}\n";
    let server = "const fastify = require('fastify')()\nfastify.listen({ port: 3000 })\n";
    let knexfile = "const configs = {\n  development: {\n    client: 'sqlite3',\n    connection: { filename: ':memory:' }\n  }\n  /*\n  production: {\n    client: 'postgresql'\n  }\n  */\n}\nmodule.exports = configs\n";
    let drafts = detect(
        &[
            ("package.json", pkg),
            ("index.js", server),
            ("lib/config/config.js", config),
            ("knexfile.js", knexfile),
        ],
        "",
    );
    let d = &drafts[0];
    assert!(
        !d.databases.contains_key(&Database::Postgresql),
        "{:?}",
        d.databases
    );
    let f = d
        .findings
        .iter()
        .find(|f| f.kind == "knex_no_production_config")
        .expect("a warning");
    assert_eq!(f.file.as_deref(), Some("lib/config/config.js"));
    assert!(
        f.message
            .contains("add a `production` entry to knexfile.js"),
        "{}",
        f.message
    );
    let with_production = knexfile
        .replace("  /*\n", "")
        .replace("  */\n", "")
        .replace("  }\n  production", "  },\n  production");
    let drafts = detect(
        &[
            ("package.json", pkg),
            ("index.js", server),
            ("lib/config/config.js", config),
            ("knexfile.js", &with_production),
        ],
        "",
    );
    assert!(!kinds(&drafts[0]).contains(&"knex_no_production_config"));
}

/// next-self-host starts Next's standalone server
/// (`node .next/standalone/server.js`): the build copies `.next/static` and
/// `public` beside it, or every script and stylesheet is 404. A `next
/// start` app's build is left as it is.
#[test]
fn a_standalone_next_build_copies_its_static_files_beside_the_server() {
    let standalone = detect(
        &[
            (
                "package.json",
                r#"{"scripts": {"build": "next build", "start": "node .next/standalone/server.js"}, "dependencies": {"next": "15", "react": "19", "react-dom": "19"}}"#,
            ),
            ("package-lock.json", "{}"),
            (
                "next.config.ts",
                "export default { output: 'standalone' }\n",
            ),
            (
                "app/page.tsx",
                "export default function Page() { return null }\n",
            ),
        ],
        "",
    );
    let build = &standalone[0].builds[0].value;
    assert!(
        build.starts_with("npm run build && mkdir -p .next/standalone/.next && cp -r .next/static .next/standalone/.next/"),
        "{build}"
    );
    assert!(
        build.ends_with("if [ -d public ]; then cp -r public .next/standalone/; fi"),
        "{build}"
    );
    let plain = detect(
        &[
            (
                "package.json",
                r#"{"scripts": {"build": "next build", "start": "next start"}, "dependencies": {"next": "15", "react": "19", "react-dom": "19"}}"#,
            ),
            ("package-lock.json", "{}"),
            (
                "app/page.tsx",
                "export default function Page() { return null }\n",
            ),
        ],
        "",
    );
    assert_eq!(plain[0].builds[0].value, "npm run build");
}

/// umami: `process.env.cloudUrl` and `process.env.currentVersion` are
/// the keys of next.config's `env` block, which Next inlines at build from
/// the config's own values: no setting to give. A key that passes the
/// environment's own value on (`DATABASE_URL: process.env.DATABASE_URL`)
/// stays one.
#[test]
fn next_config_env_keys_are_not_settings() {
    let config = "const cloudUrl = process.env.CLOUD_URL || '';\nexport default {\n  env: {\n    cloudUrl,\n    currentVersion: pkg.version,\n    DATABASE_URL: process.env.DATABASE_URL,\n  },\n  output: 'standalone',\n};\n";
    let page = "export default function App() {\n  const login = `${process.env.cloudUrl}/login`;\n  const v = process.env.currentVersion;\n  const db = process.env.DATABASE_URL;\n  return null;\n}\n";
    let drafts = detect(
        &[
            (
                "package.json",
                r#"{"scripts": {"build": "next build", "start": "next start"}, "dependencies": {"next": "15", "react": "19", "react-dom": "19"}}"#,
            ),
            ("package-lock.json", "{}"),
            ("next.config.ts", config),
            ("app/page.tsx", page),
        ],
        "",
    );
    let names: Vec<&str> = drafts[0].env.iter().map(|v| v.name.as_str()).collect();
    assert!(!names.contains(&"cloudUrl"), "{names:?}");
    assert!(!names.contains(&"currentVersion"), "{names:?}");
    assert!(names.contains(&"DATABASE_URL"), "{names:?}");
}

/// shiori: `webapp/` is a Vue project whose built files the Go binary
/// embeds (`webapp/embed.go`: `//go:embed dist/index.html`): no site of
/// its own. The same project without the Go file is one.
#[test]
fn a_front_end_a_go_binary_embeds_is_not_a_site_of_its_own() {
    let pkg =
        r#"{"scripts": {"build": "vite build"}, "devDependencies": {"vite": "5", "vue": "3"}}"#;
    let embed = "package webapp\n\nimport \"embed\"\n\n//go:embed dist/index.html\nvar Templates embed.FS\n";
    let with = detect(
        &[
            ("webapp/package.json", pkg),
            ("webapp/index.html", "<div id=app></div>"),
            ("webapp/embed.go", embed),
        ],
        "webapp",
    );
    assert!(with.is_empty(), "{with:?}");
    let without = detect(
        &[
            ("webapp/package.json", pkg),
            ("webapp/index.html", "<div id=app></div>"),
        ],
        "webapp",
    );
    assert_eq!(without.len(), 1, "{without:?}");
}

/// umami: `build` runs `check-env` and `check-db` (a database reached at
/// build, then migrated), while `build-docker` is the build its own image
/// runs: that one builds the service. A `docker:build` that runs Docker
/// itself (nestjs-prisma-starter's `docker-compose build`) is no build.
#[test]
fn the_build_the_projects_image_runs_builds_the_service() {
    let umami = r#"{"scripts": {"build": "npm-run-all check-env build-db check-db build-app", "build-docker": "npm-run-all build-db build-app", "start": "next start"}, "dependencies": {"next": "15", "react": "19", "react-dom": "19"}}"#;
    let d = detect(&[("package.json", umami), ("package-lock.json", "{}")], "");
    assert_eq!(d[0].builds[0].value, "npm run build-docker");
    let nest = r#"{"scripts": {"build": "nest build", "docker:build": "docker-compose build", "start:prod": "node dist/main"}, "dependencies": {"@nestjs/core": "10"}}"#;
    let d = detect(&[("package.json", nest), ("package-lock.json", "{}")], "");
    assert_eq!(d[0].builds[0].value, "npm run build");
}
