//! A Cargo workspace whose root declares the processes (a compose file
//! that builds the image from the root with a Dockerfile kept in `deploy/`,
//! or a root Procfile) that run a member's binary: the processes are the
//! services and carry what the member's code reads; the members are not
//! services of their own. autodeploy's own repository has this shape
//! (`crates/cli` + `deploy/compose.yaml`); `crates/cli/tests/deploy_moto.rs`
//! plans and applies it for real.

use autodeploy_analyze::analyze_repo;
use autodeploy_analyze::repo::MemRepo;
use autodeploy_core::{Database, Service, ServiceKind};

const WORKSPACE: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        "[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n\n[workspace.package]\nrust-version = \"1.90\"\n",
    ),
    ("Cargo.lock", "version = 4\n"),
    (
        "crates/app/Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\n\n[[bin]]\nname = \"shop\"\npath = \"src/main.rs\"\n\n[dependencies]\nclap = { version = \"4\", features = [\"derive\", \"env\"] }\nsqlx = { version = \"0.8\", features = [\"postgres\"] }\n",
    ),
    (
        "crates/app/src/main.rs",
        r#"use clap::Parser;

#[derive(Parser)]
struct Args {
    /// The store.
    #[arg(
        long = "database-url",
        value_name = "URL",
        env = "SHOP_DATABASE_URL"
    )]
    database_url: Option<String>,
    /// A switch.
    #[arg(long = "allow-guests", env = "SHOP_ALLOW_GUESTS")]
    allow_guests: bool,
    /// Repeatable.
    #[arg(
        long = "trusted-proxy",
        env = "SHOP_TRUSTED_PROXY",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<String>,
    #[arg(long = "log-format", value_parser = ["text", "json"], default_value = "text", env = "SHOP_LOG_FORMAT")]
    log_format: String,
    /// No default, not optional: the code needs it.
    #[arg(long, env = "SHOP_SIGNING_KEY")]
    signing_key: String,
}

fn main() {
    let colour = std::env::var_os("NO_COLOR").is_none();
    let _ = colour;
}
"#,
    ),
    (
        "crates/tools/Cargo.toml",
        "[package]\nname = \"tools\"\nversion = \"0.1.0\"\n\n[[bin]]\nname = \"gen-fixtures\"\npath = \"src/main.rs\"\n",
    ),
    (
        "crates/tools/src/main.rs",
        "fn main() {\n    let out = std::env::var(\"FIXTURES_DIR\").unwrap();\n    println!(\"{out}\");\n}\n",
    ),
    (
        "crates/shared/Cargo.toml",
        "[package]\nname = \"shared\"\nversion = \"0.1.0\"\n",
    ),
    ("crates/shared/src/lib.rs", "pub fn x() {}\n"),
];

const DOCKERFILE: &str = "FROM rust:1.90-slim-bookworm AS build\nWORKDIR /src\nCOPY . .\nRUN cargo build --release --locked -p app\n\nFROM debian:bookworm-slim\nCOPY --from=build /src/target/release/shop /usr/local/bin/shop\nUSER 10001:10001\nEXPOSE 8080\nCMD [\"shop\", \"serve\", \"--listen\", \"0.0.0.0:8080\"]\n";

const COMPOSE: &str = r#"services:
  db:
    image: postgres:17
  web:
    build:
      context: ..
      dockerfile: deploy/Dockerfile
    image: shop:local
    command: ["shop", "serve", "--listen", "0.0.0.0:8080"]
    ports:
      - "8080:8080"
    environment:
      SHOP_DATABASE_URL: postgres://shop:${DB_PASSWORD:?set it}@db:5432/shop
      SHOP_SECRETS_KEY: ${SHOP_SECRETS_KEY:?64 hex characters}
    healthcheck:
      test: ["CMD", "curl", "-fsS", "http://127.0.0.1:8080/healthz"]
  worker:
    image: shop:local
    command: ["shop", "worker", "--metrics-listen", "0.0.0.0:9090"]
    environment:
      SHOP_DATABASE_URL: postgres://shop:${DB_PASSWORD:?set it}@db:5432/shop
    healthcheck:
      test: ["CMD", "curl", "-fsS", "http://127.0.0.1:9090/metrics"]
"#;

fn analyze(extra: &[(&str, &str)]) -> Vec<Service> {
    let files = WORKSPACE.iter().chain(extra.iter()).copied();
    analyze_repo(&MemRepo::new(files), Some("shop")).expect("services")
}

fn env<'s>(s: &'s Service, name: &str) -> &'s autodeploy_core::EnvVar {
    s.env
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("{}: no {name} in {:?}", s.name, s.env))
}

fn names(services: &[Service]) -> Vec<(&str, &str, ServiceKind)> {
    services
        .iter()
        .map(|s| (s.name.as_str(), s.path.as_str(), s.kind))
        .collect()
}

#[test]
fn compose_processes_built_from_the_root_run_the_members_binary() {
    let services = analyze(&[
        ("deploy/Dockerfile", DOCKERFILE),
        ("deploy/compose.yaml", COMPOSE),
    ]);
    // The members (the binary, a tool, a library) are not services of their own.
    assert_eq!(
        names(&services),
        [
            ("web", ".", ServiceKind::Web),
            ("worker", ".", ServiceKind::Worker)
        ],
        "{services:#?}"
    );
    let (web, worker) = (&services[0], &services[1]);
    for s in [web, worker] {
        // Built from the source tree by the member's cargo build; the image
        // runs the program where its Dockerfile copied it.
        assert_eq!(s.build.as_deref(), Some("cargo build --release --locked"));
        assert_eq!(s.dockerfile.as_deref(), Some("deploy/Dockerfile"));
        assert_eq!(s.dockerfile_context.as_deref(), Some("."));
        assert_eq!(s.runtime_version.as_deref(), Some("1.90"), "{s:#?}");
        assert!(s.databases.contains(&Database::Postgresql));
        // What the member's code reads, with what the code says about it.
        assert!(!env(s, "SHOP_ALLOW_GUESTS").required, "a bool switch");
        assert!(!env(s, "SHOP_TRUSTED_PROXY").required, "a Vec flag");
        assert!(!env(s, "SHOP_LOG_FORMAT").required, "a default");
        assert!(!env(s, "NO_COLOR").required, "var_os, never unwrapped");
        assert!(env(s, "SHOP_SIGNING_KEY").required);
        // The tool's variable is not the app's.
        assert!(s.env.iter().all(|e| e.name != "FIXTURES_DIR"));
        assert!(
            s.findings.iter().all(|f| f.kind != "start_not_found"),
            "{:?}",
            s.findings
        );
    }
    assert_eq!(
        web.start.as_deref(),
        Some("./target/release/shop serve --listen 0.0.0.0:8080")
    );
    assert_eq!(
        web.image_start.as_deref(),
        Some("shop serve --listen 0.0.0.0:8080")
    );
    assert_eq!(web.port, Some(8080));
    assert_eq!(web.health_path.as_deref(), Some("/healthz"));
    // Compose refuses to start without them: the deployment must set them.
    assert!(env(web, "SHOP_SECRETS_KEY").required);
    assert!(env(web, "SHOP_DATABASE_URL").required);
    assert_eq!(
        worker.start.as_deref(),
        Some("./target/release/shop worker --metrics-listen 0.0.0.0:9090")
    );
    assert_eq!(
        worker.image_start.as_deref(),
        Some("shop worker --metrics-listen 0.0.0.0:9090")
    );
    // A worker's healthcheck (its metrics port) is no HTTP health route.
    assert_eq!(worker.health_path, None);
    assert_eq!(worker.port, None);
}

#[test]
fn a_root_procfile_runs_the_members_binary() {
    let services = analyze(&[(
        "Procfile",
        "web: ./target/release/shop serve --listen 0.0.0.0:$PORT\nworker: ./target/release/shop worker\n",
    )]);
    assert_eq!(
        names(&services),
        [
            ("shop", ".", ServiceKind::Web),
            ("worker", ".", ServiceKind::Worker)
        ],
        "{services:#?}"
    );
    let web = &services[0];
    assert_eq!(
        web.start.as_deref(),
        Some("./target/release/shop serve --listen 0.0.0.0:$PORT")
    );
    assert!(env(web, "SHOP_SIGNING_KEY").required);
    assert!(!env(web, "SHOP_DATABASE_URL").required);
    assert_eq!(web.runtime_version.as_deref(), Some("1.90"));
}

#[test]
fn a_workspace_without_declared_processes_keeps_its_members() {
    let services = analyze(&[]);
    let mut found: Vec<&str> = services.iter().map(|s| s.path.as_str()).collect();
    found.sort();
    assert_eq!(found, ["crates/app", "crates/tools"], "{services:#?}");
    let app = services.iter().find(|s| s.path == "crates/app").unwrap();
    assert_eq!(app.start.as_deref(), Some("../../target/release/shop"));
    // The workspace's toolchain, though the member does not inherit it.
    assert_eq!(app.runtime_version.as_deref(), Some("1.90"));
}
