//! PHP: Composer projects (`composer.json`) and plain PHP sites (`index.php`)
//! — Laravel, Lumen, Symfony, Slim, CodeIgniter, CakePHP, Yii, Laminas,
//! WordPress and framework-less PHP.
//!
//! Frameworks are rows of the table in `frameworks.rs`: the Composer package
//! (or marker file) that signals them, the pattern that finds the app in
//! code, the document root, the migration and asset commands. Composer
//! reading is in `composer.rs`; this file runs one pass over the sources.
//!
//! Start command: `php -S 0.0.0.0:{PORT} -t <docroot>` for every PHP app, with
//! an Info finding (`php_builtin_server`) that production images serve the
//! document root with php-fpm behind nginx. Chosen over `php artisan serve`
//! for Laravel because artisan serve runs this same built-in server, but when
//! a `.env` file exists it passes only a short allow-list of the process's
//! environment variables to it — the deployment's own settings (DB_HOST…)
//! would silently not reach the app. `-t <docroot>` serves existing files and
//! falls back to `<docroot>/index.php` for every other path, which is how
//! the framework front controllers route. One command for every framework.
//!
//! Deliberately not here: `.env` values that are URLs, Procfile, Dockerfile
//! (the `config/` overlays apply them); `require-dev` packages; vendored code.

mod composer;
mod frameworks;
mod wiring;

use crate::ctx::Ctx;
use crate::detectors::{database_of_url, databases_from_deps, Detector};
use crate::draft::{ev, Draft, Trust, PORT};
use crate::repo::{file_name, join, parent};
use crate::scan::{line_text, parse_dotenv};
use autodeploy_core::{Database, Language, ServiceKind, Severity};
use composer::Composer;
use frameworks::{
    Framework, CGI_NAMES, CGI_PREFIXES, DB_PACKAGES, DOCROOTS, FRAMEWORKS, SCRIPT_NAMES,
};
use regex::Regex;
use std::sync::LazyLock;

pub struct Php;

impl Detector for Php {
    fn name(&self) -> &'static str {
        "php"
    }
    fn markers(&self) -> &'static [&'static str] {
        &["composer.json", "index.php"]
    }
    fn detect(&self, ctx: &Ctx, dir: &str) -> Vec<Draft> {
        detect(ctx, dir)
    }
}

static ENV_HELPER: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"(?:^|[^\w>:$\\\n])env\s*\(\s*['"]([A-Za-z_]\w*)['"]\s*(,)?"#)
        .expect("regex")
});
static GETENV: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"\bgetenv\s*\(\s*['"]([A-Za-z_]\w*)['"]\s*(?:,\s*\w+\s*)?\)(\s*(?:\?:|\?\?|[!=]==?\s*false))?"#)
        .expect("regex")
});
static SUPERGLOBAL: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"(\b(?:isset|empty|array_key_exists)\s*\(\s*(?:['"]\w+['"]\s*,\s*)?)?\$_(ENV|SERVER)\s*\[\s*['"]([A-Za-z_]\w*)['"]\s*\](\s*\?\?)?"#)
        .expect("regex")
});
static SYMFONY_ENV: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r"%env\((?:[\w-]+:)*([A-Za-z_]\w*)\)%").expect("regex")
});
static SYMFONY_ENV_DEFAULT: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"(?m)^[ \t]*['"]?env\(([A-Za-z_]\w*)\)['"]?\s*:"#).expect("regex")
});
static PDO_DSN: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r#"["'](mysql|pgsql|sqlite):"#).expect("regex"));
static DB_CALL: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r"\b(mysqli_connect|pg_p?connect)\s*\(|\bnew\s+\\?(mysqli|Predis\\Client|Redis|MongoDB\\Client|MongoDB\\Driver\\Manager|SQLite3)\s*\(")
        .expect("regex")
});
static DB_URL_LITERAL: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r#"["']((?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?)://[^"'\s]*)["']"#,
    )
    .expect("regex")
});
static DOCTRINE_DRIVER: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"\bdriver['"]?\s*(?::|=>)\s*['"]?pdo_(pgsql|mysql|sqlite)\b"#)
        .expect("regex")
});
static DEFAULT_CONNECTION: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r#"['"]default['"]\s*=>\s*(?:env\(\s*['"]DB_CONNECTION['"]\s*,\s*)?['"](\w+)['"]"#,
    )
    .expect("regex")
});
static HEALTH_ROUTE: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"(?:Route::get|->get|#\[Route|@Route|\bhealth:)\s*\(?\s*['"](/(?:healthz?|health-check|ping|status|up|_health|api/health))['"]"#)
        .expect("regex")
});
static SHEBANG_OR_LOOP: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r"(?m)^#!.*\bphp\b|\bwhile\s*\(\s*true\s*\)").expect("regex")
});

/// The database a Laravel connection name stands for.
fn database_of_connection(name: &str) -> Option<Database> {
    Some(match name.trim().to_ascii_lowercase().as_str() {
        "mysql" | "mariadb" => Database::Mysql,
        "pgsql" | "postgres" | "postgresql" => Database::Postgresql,
        "sqlite" => Database::Sqlite,
        "mongodb" => Database::Mongodb,
        _ => return None,
    })
}

fn is_cgi_name(name: &str) -> bool {
    CGI_NAMES.contains(&name) || CGI_PREFIXES.iter().any(|p| name.starts_with(p))
}

fn rel<'a>(dir: &str, file: &'a str) -> &'a str {
    if dir.is_empty() {
        file
    } else {
        file.strip_prefix(dir)
            .map(|f| f.trim_start_matches('/'))
            .unwrap_or(file)
    }
}

/// True when an ancestor of `dir` is a PHP project or site (holds composer.json or index.php).
fn inside_php_project(ctx: &Ctx, dir: &str) -> bool {
    let mut d = dir;
    while !d.is_empty() {
        d = parent(d);
        if ctx.has(d, "composer.json") || ctx.has(d, "index.php") {
            return true;
        }
    }
    false
}

fn detect(ctx: &Ctx, dir: &str) -> Vec<Draft> {
    let manifest = ctx.read(dir, "composer.json").map(|t| composer::parse(&t));
    let app_dir = match &manifest {
        Some(_) => dir.to_string(),
        None => {
            // A plain PHP site: index.php without Composer. Pages below another
            // PHP site belong to it; a docroot folder's app is its parent.
            if !ctx.has(dir, "index.php") || inside_php_project(ctx, dir) {
                return Vec::new();
            }
            if !dir.is_empty() && DOCROOTS.contains(&file_name(dir)) {
                parent(dir).to_string()
            } else {
                dir.to_string()
            }
        }
    };
    analyze(ctx, &app_dir, manifest.as_ref())
}

fn analyze(ctx: &Ctx, dir: &str, m: Option<&Composer>) -> Vec<Draft> {
    let composer_path = join(dir, "composer.json");
    let mut web = Draft::new(dir, Language::Php, ServiceKind::Web);
    web.has_manifest = m.is_some();
    let empty = Composer::default();
    let c = m.unwrap_or(&empty);
    if m.is_some() {
        // `vendor/package` → `package` (the name a service at the root gets).
        web.manifest_name = c
            .name
            .as_ref()
            .map(|n| n.rsplit('/').next().unwrap_or(n).to_string());
        web.package_manager = Some("composer".into());
        web.install =
            Some("composer install --no-dev --optimize-autoloader --no-interaction".into());
        web.note("language", ev(&composer_path, None, "Composer manifest"));
        if c.invalid {
            web.finding(
                "invalid_manifest",
                Severity::Warning,
                Some(&composer_path),
                None,
                format!("{composer_path} is not valid JSON, so its requirements cannot be read; `composer install` will fail until it is fixed"),
                None,
            );
        } else if !ctx.has(dir, "composer.lock") {
            web.finding(
                "no_lockfile",
                Severity::Info,
                Some(&composer_path),
                None,
                format!("{composer_path} has no composer.lock beside it: package versions are resolved anew on every build; run `composer update` and commit composer.lock"),
                None,
            );
        }
    }
    if let Some((v, line)) = &c.php {
        web.runtime_version = Some(v.clone());
        web.note(
            "runtime_version",
            ev(&composer_path, Some(*line), format!("php {v}")),
        );
    } else if let Some(text) = ctx.read(dir, ".php-version") {
        if let Some(v) = text.lines().next().and_then(composer::php_version) {
            web.note(
                "runtime_version",
                ev(&join(dir, ".php-version"), Some(1), format!("php {v}")),
            );
            web.runtime_version = Some(v);
        }
    }
    for (db, pkg) in databases_from_deps(c.require.keys().map(String::as_str), DB_PACKAGES) {
        let line = c.require[&pkg].1;
        web.database(
            db,
            ev(&composer_path, Some(line), format!("requires {pkg}")),
        );
    }

    // The framework: a required package, or a marker file.
    let fw = FRAMEWORKS
        .iter()
        .filter(|f| {
            f.packages.iter().any(|p| c.require.contains_key(*p))
                || f.marker.is_some_and(|mk| ctx.has(dir, mk))
        })
        .max_by_key(|f| f.rank);

    // One pass over the sources.
    let sources = ctx.sources(dir, &[".php"]);
    let app_re = fw.map(|f| crate::scan::table_regex(f.app));
    let mut app_at: Option<(String, u32)> = None;
    let mut scripts: Vec<&str> = Vec::new();
    let mut uses_autoload = false;
    for &file in &sources {
        let Some(text) = ctx.read_path(file) else {
            continue;
        };
        if app_at.is_none() {
            if let Some((line, _)) = app_re.as_ref().and_then(|re| first_code_match(&text, re)) {
                app_at = Some((file.to_string(), line));
            }
        }
        if SCRIPT_NAMES.contains(&rel(dir, file)) || SHEBANG_OR_LOOP.is_match(&text) {
            scripts.push(file);
        }
        uses_autoload |= text.contains("vendor/autoload.php");
        scan_env(&mut web, file, &text);
        scan_databases(&mut web, file, &text);
        if web.health_path.is_none() {
            if let Some((line, c)) = first_code_match(&text, &HEALTH_ROUTE) {
                web.health_path = Some(c[1].to_string());
                web.note("health_path", ev(file, Some(line), line_text(&text, line)));
            }
        }
    }
    scan_config_files(ctx, dir, &mut web);

    if m.is_none() && uses_autoload {
        web.finding(
            "no_manifest",
            Severity::Warning,
            None,
            None,
            "the code loads vendor/autoload.php but there is no composer.json: its packages are not declared, so a deployment cannot install them; add a composer.json",
            None,
        );
    }

    if let Some(fw) = fw {
        web.strength = if app_at.is_some() { 10.0 } else { 7.0 };
        let pkg_ev = fw.packages.iter().find_map(|p| {
            c.require
                .get(*p)
                .map(|(_, l)| ev(&composer_path, Some(*l), format!("requires {p}")))
        });
        let marker_ev = fw
            .marker
            .map(|mk| ev(&join(dir, mk), None, format!("{mk} exists")));
        match pkg_ev.or(marker_ev) {
            Some(e) => web.set_framework(fw.name, e),
            None => web.framework = Some(fw.name.to_string()),
        }
        if let Some((f, l)) = &app_at {
            let text = ctx.read_path(f).unwrap_or_default();
            web.note("framework", ev(f, Some(*l), line_text(&text, *l)));
        }
        framework_conventions(ctx, dir, c, fw, &mut web);
        let fw_ev = web
            .evidence
            .get("framework")
            .and_then(|e| e.first().cloned())
            .unwrap_or_else(|| ev(&composer_path, None, fw.name));
        wiring::scan(ctx, dir, &mut web, &fw_ev);
        if fw.name == "wordpress" {
            web.database(
                Database::Mysql,
                ev(
                    &join(dir, "wp-settings.php"),
                    None,
                    "WordPress runs on MySQL",
                ),
            );
        }
    }

    // What to serve: the scripts' -t folder, the framework's docroot, a docroot
    // folder holding index.php, or the project folder itself.
    let docroot = c
        .serve_script
        .as_ref()
        .and_then(|(_, d, _, _)| d.clone())
        .or_else(|| fw.map(|f| f.docroot.to_string()))
        .or_else(|| {
            DOCROOTS
                .iter()
                .find(|d| ctx.has(&join(dir, d), "index.php"))
                .map(|d| d.to_string())
        })
        .or_else(|| ctx.has(dir, "index.php").then(|| ".".to_string()));

    match docroot {
        Some(root) => {
            if fw.is_none() {
                web.strength = if m.is_some() { 5.0 } else { 3.0 };
            }
            serve(dir, c, &root, &composer_path, &mut web);
        }
        None if fw.is_some() => {
            web.finding(
                "start_not_found",
                Severity::Warning,
                Some(&composer_path),
                None,
                "no document root with an index.php was found; add a Procfile `web:` line with the start command",
                None,
            );
        }
        None => {
            let script = scripts.iter().min_by_key(|f| {
                (
                    !SCRIPT_NAMES.contains(&rel(dir, f)),
                    f.matches('/').count(),
                    **f,
                )
            });
            match script {
                Some(file) => {
                    web.kind = ServiceKind::Worker;
                    web.strength = if m.is_some() { 5.0 } else { 3.0 };
                    web.note("kind", ev(file, None, "PHP script and nothing to serve"));
                    web.start(
                        format!("php {}", rel(dir, file)),
                        Trust::Inferred,
                        ev(file, None, "inferred: the entry script"),
                    );
                }
                // A library is not deployable on its own.
                None if c.kind.as_deref().is_some_and(|k| k != "project") => return Vec::new(),
                None => web.strength = 2.5,
            }
        }
    }
    vec![web]
}

/// The built-in server on all interfaces, serving the document root.
fn serve(dir: &str, c: &Composer, root: &str, composer_path: &str, web: &mut Draft) {
    let root_path = if root == "." {
        dir.to_string()
    } else {
        join(dir, root)
    };
    let shown = if root_path.is_empty() {
        "the document root (the repository root)".to_string()
    } else {
        format!("the document root {root_path}/")
    };
    web.static_dir = Some(root.to_string());
    web.note(
        "static_dir",
        ev(&join(&root_path, "index.php"), None, "document root"),
    );
    let target = if root == "." {
        String::new()
    } else {
        format!(" -t {root}")
    };
    web.start(
        format!("php -S 0.0.0.0:{PORT}{target}"),
        Trust::Inferred,
        ev(
            &join(&root_path, "index.php"),
            None,
            "inferred: PHP built-in server on the document root",
        ),
    );
    let index = join(&root_path, "index.php");
    web.port(
        8000,
        Trust::Default,
        ev(&index, None, "default port of php -S"),
    );
    if let Some((Some(port), _, line, cmd)) = &c.serve_script {
        web.port(
            *port,
            Trust::Config,
            ev(composer_path, Some(*line), cmd.clone()),
        );
    }
    web.finding(
        "php_builtin_server",
        Severity::Info,
        None,
        None,
        format!("the app is started with PHP's built-in server (php -S), which handles one request at a time unless PHP_CLI_SERVER_WORKERS is set; production images serve {shown} with php-fpm behind nginx (or FrankenPHP)"),
        None,
    );
}

/// Migrations and the databases a framework's settings name.
fn framework_conventions(ctx: &Ctx, dir: &str, c: &Composer, fw: &Framework, web: &mut Draft) {
    if let Some((cmd, needs)) = fw.release {
        let composer_path = join(dir, "composer.json");
        let found = match needs {
            Some(pkg) => c
                .require
                .get(pkg)
                .map(|(_, l)| ev(&composer_path, Some(*l), format!("requires {pkg}"))),
            None => [
                "database/migrations",
                "app/Database/Migrations",
                "migrations",
            ]
            .iter()
            .map(|d| join(dir, d))
            .find(|d| ctx.index().files_under(d).next().is_some())
            .map(|d| ev(&d, None, format!("{} migrations", fw.name)))
            .or_else(|| web.databases.values().next().cloned()),
        };
        if let Some(e) = found {
            web.release = Some(cmd.to_string());
            web.note("release", e);
        }
    }
    if let Some((cmd, pkg)) = fw.build {
        if let Some((_, line)) = c.require.get(pkg) {
            let composer_path = join(dir, "composer.json");
            web.build(
                cmd,
                Trust::Inferred,
                ev(&composer_path, Some(*line), format!("requires {pkg}")),
            );
        }
    }
    if fw.laravel_env {
        laravel_databases(ctx, dir, web);
    }
}

/// Laravel: `DB_CONNECTION` (and `*_STORE`/`*_DRIVER`=redis) in `.env`/`.env.example`,
/// else the default connection of `config/database.php`.
fn laravel_databases(ctx: &Ctx, dir: &str, web: &mut Draft) {
    let mut connection_set = false;
    for name in [".env", ".env.example", ".env.production"] {
        let Some(text) = ctx.read(dir, name) else {
            continue;
        };
        let file = join(dir, name);
        for e in parse_dotenv(&text) {
            let db = match e.key.as_str() {
                "DB_CONNECTION" if !connection_set => {
                    connection_set = true;
                    database_of_connection(&e.value)
                }
                "CACHE_STORE" | "CACHE_DRIVER" | "SESSION_DRIVER" | "QUEUE_CONNECTION"
                | "BROADCAST_DRIVER"
                    if e.value == "redis" =>
                {
                    Some(Database::Redis)
                }
                _ => None,
            };
            if let Some(db) = db {
                web.database(
                    db,
                    ev(&file, Some(e.line), format!("{}={}", e.key, e.value)),
                );
            }
        }
    }
    if connection_set {
        return;
    }
    let path = join(dir, "config/database.php");
    if let Some(text) = ctx.read_path(&path) {
        if let Some((line, c)) = first_code_match(&text, &DEFAULT_CONNECTION) {
            if let Some(db) = database_of_connection(&c[1]) {
                web.database(db, ev(&path, Some(line), line_text(&text, line)));
            }
        }
    }
}

fn scan_env(web: &mut Draft, file: &str, text: &str) {
    each_code_match(text, &ENV_HELPER, |line, c| {
        web.env_var(&c[1], c.get(2).is_some(), file, line)
    });
    each_code_match(text, &GETENV, |line, c| {
        web.env_var(&c[1], c.get(2).is_some(), file, line)
    });
    each_code_match(text, &SUPERGLOBAL, |line, c| {
        let name = &c[3];
        if &c[2] == "SERVER" && is_cgi_name(name) {
            return;
        }
        web.env_var(name, c.get(1).is_some() || c.get(4).is_some(), file, line)
    });
}

fn scan_databases(web: &mut Draft, file: &str, text: &str) {
    each_code_match(text, &PDO_DSN, |line, c| {
        if let Some(db) = database_of_connection(&c[1]) {
            web.database(db, ev(file, Some(line), format!("PDO DSN {}:", &c[1])));
        }
    });
    each_code_match(text, &DB_CALL, |line, c| {
        let what = c.get(1).or(c.get(2)).map(|m| m.as_str()).unwrap_or("");
        let db = match what {
            "mysqli_connect" | "mysqli" => Database::Mysql,
            "pg_connect" | "pg_pconnect" => Database::Postgresql,
            "Predis\\Client" | "Redis" => Database::Redis,
            "SQLite3" => Database::Sqlite,
            _ => Database::Mongodb,
        };
        web.database(db, ev(file, Some(line), line_text(text, line)));
    });
    each_code_match(text, &DB_URL_LITERAL, |line, c| {
        if let Some(db) = database_of_url(&c[1]) {
            web.database(
                db,
                ev(file, Some(line), format!("{} connection URL", db.as_str())),
            );
        }
    });
}

/// Symfony-style config (`config/**/*.yaml|xml|php`): `%env(NAME)%` reads,
/// `env(NAME): default` parameters, Doctrine drivers.
fn scan_config_files(ctx: &Ctx, dir: &str, web: &mut Draft) {
    let files: Vec<&str> = ctx
        .sources(dir, &[".yaml", ".yml", ".xml", ".php"])
        .into_iter()
        .filter(|f| rel(dir, f).starts_with("config/"))
        .collect();
    let mut defaults: Vec<String> = Vec::new();
    let mut reads: Vec<(String, String, u32)> = Vec::new();
    for file in files {
        let Some(text) = ctx.read_path(file) else {
            continue;
        };
        each_code_match(&text, &SYMFONY_ENV_DEFAULT, |_, c| {
            defaults.push(c[1].to_string())
        });
        each_code_match(&text, &SYMFONY_ENV, |line, c| {
            reads.push((c[1].to_string(), file.to_string(), line))
        });
        if !file.ends_with(".php") {
            each_code_match(&text, &DOCTRINE_DRIVER, |line, c| {
                if let Some(db) = database_of_connection(&c[1]) {
                    web.database(db, ev(file, Some(line), line_text(&text, line)));
                }
            });
        }
    }
    for (name, file, line) in reads {
        web.env_var(&name, defaults.contains(&name), &file, line);
    }
}

/// True when the text before a match on its line makes it a commented-out line of PHP (`//`, `#` but not `#[` attributes, `*` in doc blocks) and YAML.
fn commented(prefix: &str) -> bool {
    (prefix.starts_with('#') && !prefix.starts_with("#["))
        || prefix.starts_with("//")
        || prefix.starts_with('*')
        || prefix.starts_with("/*")
}

/// [`each_match`] without matches on commented-out lines.
fn each_code_match<'t>(text: &'t str, re: &Regex, f: impl FnMut(u32, &regex::Captures<'t>)) {
    crate::scan::each_code_match(text, re, commented, f)
}

/// [`crate::scan::first_match`] without matches on commented-out lines.
fn first_code_match<'t>(text: &'t str, re: &Regex) -> Option<(u32, regex::Captures<'t>)> {
    crate::scan::first_code_match(text, re, commented)
}

#[cfg(test)]
mod tests;
