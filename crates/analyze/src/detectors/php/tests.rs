//! PHP detector tests over in-memory repositories.

use super::*;
use crate::repo::MemRepo;

fn run_in(files: &[(&str, &str)], dir: &str) -> Vec<Draft> {
    let repo = MemRepo::new(files.iter().map(|(p, c)| (p.to_string(), c.to_string())));
    let ctx = Ctx::new(&repo);
    detect(&ctx, dir)
}

fn run(files: &[(&str, &str)]) -> Vec<Draft> {
    run_in(files, "")
}

fn start(d: &Draft) -> String {
    d.starts
        .first()
        .map(|c| c.value.clone())
        .unwrap_or_default()
}

#[test]
fn slim_script_names_port_and_docroot() {
    let d = run(&[
        (
            "composer.json",
            r#"{"require": {"php": "^8.1", "slim/slim": "^4.12", "ext-pdo_pgsql": "*"},
  "scripts": {"start": "php -S localhost:8080 -t public"}}"#,
        ),
        ("composer.lock", "{}"),
        ("public/index.php", "<?php\nuse Slim\\Factory\\AppFactory;\n$app = AppFactory::create();\n$app->get('/health', fn($q, $r) => $r);\n$app->run();\n"),
    ]);
    assert_eq!(d.len(), 1);
    let d = &d[0];
    assert_eq!(d.framework.as_deref(), Some("slim"));
    assert_eq!(d.strength, 10.0);
    assert_eq!(start(d), "php -S 0.0.0.0:{PORT} -t public");
    assert!(d
        .ports
        .iter()
        .any(|p| p.value == 8080 && p.trust == Trust::Config));
    assert_eq!(d.health_path.as_deref(), Some("/health"));
    assert!(d.databases.contains_key(&Database::Postgresql));
    assert_eq!(d.runtime_version.as_deref(), Some("8.1"));
}

#[test]
fn docroot_folder_without_composer_is_the_parents_site() {
    let files = [
        ("public/index.php", "<?php echo 'hi';\n"),
        ("public/about/index.php", "<?php echo 'about';\n"),
        ("src/lib.php", "<?php\n"),
    ];
    let d = run_in(&files, "public");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].dir, "");
    assert_eq!(d[0].static_dir.as_deref(), Some("public"));
    assert_eq!(start(&d[0]), "php -S 0.0.0.0:{PORT} -t public");
    // Pages below a site are part of it.
    assert!(run_in(&files, "public/about").is_empty());
}

#[test]
fn composer_library_is_not_a_service_and_worker_scripts_are_workers() {
    let d = run(&[
        (
            "composer.json",
            r#"{"type": "library", "require": {"php": ">=8.1"}}"#,
        ),
        ("src/Thing.php", "<?php\nnamespace Acme;\nclass Thing {}\n"),
    ]);
    assert!(d.is_empty());
    let d = run(&[
        (
            "composer.json",
            r#"{"require": {"php-amqplib/php-amqplib": "^3"}}"#,
        ),
        ("composer.lock", "{}"),
        (
            "worker.php",
            "<?php\nrequire 'vendor/autoload.php';\nwhile (true) { sleep(1); }\n",
        ),
    ]);
    assert_eq!(d[0].kind, ServiceKind::Worker);
    assert_eq!(start(&d[0]), "php worker.php");
}

#[test]
fn env_reads_and_cgi_names() {
    let mut d = Draft::new("", Language::Php, ServiceKind::Web);
    scan_env(
        &mut d,
        "x.php",
        r#"<?php
$a = env('APP_KEY');
$b = env('APP_NAME', 'Laravel');
$c = getenv('DB_HOST');
$e = getenv('DB_PORT') ?: '5432';
$f = $_ENV['API_TOKEN'];
$g = $_SERVER['APP_ENV'] ?? 'prod';
$h = $_SERVER['REQUEST_URI'];
$i = $_SERVER['HTTP_HOST'];
$j = isset($_ENV['FEATURE_X']);
$k = $this->env('NOT_A_READ');
$l = $config->env('NOT_EITHER');
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
            ("APP_KEY", true),
            ("APP_NAME", false),
            ("DB_HOST", true),
            ("DB_PORT", false),
            ("API_TOKEN", true),
            ("APP_ENV", false),
            ("FEATURE_X", false),
        ]
    );
    assert_eq!(d.env[0].line, Some(2));
}

#[test]
fn laravel_database_from_config_default_when_env_files_are_silent() {
    let d = run(&[
        ("composer.json", r#"{"require": {"laravel/framework": "^10.0"}}"#),
        ("composer.lock", "{}"),
        ("artisan", "#!/usr/bin/env php\n"),
        ("public/index.php", "<?php\n$app = require_once __DIR__.'/../bootstrap/app.php';\n"),
        ("bootstrap/app.php", "<?php\n$app = new Illuminate\\Foundation\\Application($_ENV['APP_BASE_PATH'] ?? dirname(__DIR__));\n"),
        ("config/database.php", "<?php\nreturn [\n    'default' => env('DB_CONNECTION', 'mysql'),\n];\n"),
        ("database/migrations/2014_create_users.php", "<?php\n"),
    ]);
    let d = &d[0];
    assert_eq!(d.framework.as_deref(), Some("laravel"));
    assert_eq!(d.strength, 10.0);
    assert_eq!(
        d.databases.keys().copied().collect::<Vec<_>>(),
        vec![Database::Mysql]
    );
    assert_eq!(d.release.as_deref(), Some("php artisan migrate --force"));
}

#[test]
fn symfony_without_migrations_bundle_has_no_release() {
    let d = run(&[
        ("composer.json", r#"{"require": {"symfony/framework-bundle": "7.0.*"}}"#),
        ("composer.lock", "{}"),
        ("public/index.php", "<?php\n"),
        ("src/Kernel.php", "<?php\nclass Kernel extends BaseKernel {}\n"),
        ("config/packages/doctrine.yaml", "doctrine:\n  dbal:\n    driver: 'pdo_mysql'\n    password: '%env(DB_PASSWORD)%'\nparameters:\n  env(DB_PASSWORD): ''\n"),
    ]);
    let d = &d[0];
    assert_eq!(d.framework.as_deref(), Some("symfony"));
    assert!(d.release.is_none());
    assert!(d.databases.contains_key(&Database::Mysql));
    assert!(
        !d.env[0].required,
        "env(DB_PASSWORD) parameter is a default"
    );
}

#[test]
fn wordpress_by_marker_file() {
    let d = run(&[
        (
            "index.php",
            "<?php\nrequire __DIR__ . '/wp-blog-header.php';\n",
        ),
        ("wp-settings.php", "<?php\n"),
        ("wp-admin/index.php", "<?php\n"),
    ]);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].framework.as_deref(), Some("wordpress"));
    assert_eq!(start(&d[0]), "php -S 0.0.0.0:{PORT}");
    assert!(d[0].databases.contains_key(&Database::Mysql));
}

#[test]
fn malformed_composer_json() {
    let d = run(&[
        ("composer.json", "{\"require\": "),
        ("index.php", "<?php\n"),
    ]);
    assert_eq!(d.len(), 1);
    assert!(d[0].findings.iter().any(|f| f.kind == "invalid_manifest"));
}
