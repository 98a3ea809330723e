//! The PHP tables: frameworks (package or marker file, app pattern,
//! document root, migration and asset commands), packages that name a
//! database, document-root folder names, and the `$_SERVER` keys that are
//! request data rather than environment. Adding a framework = one row.
//!
//! Deliberately not here: how the rows are used (`mod.rs`).

use autodeploy_core::Database;

/// One PHP framework.
pub(super) struct Framework {
    pub(super) name: &'static str,
    /// Composer packages that signal it (any one).
    pub(super) packages: &'static [&'static str],
    /// A file whose presence alone signals it (for apps installed without Composer).
    pub(super) marker: Option<&'static str>,
    /// Finds the application object / kernel in code.
    pub(super) app: &'static str,
    /// Folder served over HTTP, relative to the project.
    pub(super) docroot: &'static str,
    /// Migration command, and the package it needs (if any).
    pub(super) release: Option<(&'static str, Option<&'static str>)>,
    /// Asset build command, and the package that makes it necessary.
    pub(super) build: Option<(&'static str, &'static str)>,
    /// Laravel-style `.env` keys (`DB_CONNECTION`, `CACHE_STORE`) name the databases.
    pub(super) laravel_env: bool,
    pub(super) rank: u8,
}

pub(super) const FRAMEWORKS: &[Framework] = &[
    Framework {
        name: "laravel",
        packages: &["laravel/framework"],
        marker: None,
        app: r"\bApplication::configure\s*\(|\bnew\s+(?:\\?Illuminate\\Foundation\\)?Application\s*\(",
        docroot: "public",
        release: Some(("php artisan migrate --force", None)),
        build: None,
        laravel_env: true,
        rank: 10,
    },
    Framework {
        name: "lumen",
        packages: &["laravel/lumen-framework"],
        marker: None,
        app: r"Laravel\\Lumen\\Application\b",
        docroot: "public",
        release: Some(("php artisan migrate --force", None)),
        build: None,
        laravel_env: true,
        rank: 9,
    },
    Framework {
        name: "symfony",
        packages: &["symfony/framework-bundle"],
        marker: None,
        app: r"\bextends\s+(?:\\?Symfony\\Component\\HttpKernel\\)?(?:Base)?Kernel\b",
        docroot: "public",
        release: Some((
            "php bin/console doctrine:migrations:migrate --no-interaction",
            Some("doctrine/doctrine-migrations-bundle"),
        )),
        build: Some(("php bin/console asset-map:compile", "symfony/asset-mapper")),
        laravel_env: false,
        rank: 9,
    },
    Framework {
        name: "codeigniter",
        packages: &["codeigniter4/framework", "codeigniter/framework"],
        marker: None,
        app: r"CodeIgniter\\(?:Boot|CodeIgniter)\b|\bConfig\\Paths\b",
        docroot: "public",
        release: Some(("php spark migrate --all", None)),
        build: None,
        laravel_env: false,
        rank: 8,
    },
    Framework {
        name: "cakephp",
        packages: &["cakephp/cakephp"],
        marker: None,
        app: r"\bextends\s+BaseApplication\b",
        docroot: "webroot",
        release: Some(("bin/cake migrations migrate", Some("cakephp/migrations"))),
        build: None,
        laravel_env: false,
        rank: 8,
    },
    Framework {
        name: "yii",
        packages: &["yiisoft/yii2"],
        marker: None,
        app: r"new\s+\\?yii\\web\\Application\b",
        docroot: "web",
        release: Some(("php yii migrate --interactive=0", None)),
        build: None,
        laravel_env: false,
        rank: 8,
    },
    Framework {
        name: "slim",
        packages: &["slim/slim"],
        marker: None,
        app: r"\bAppFactory::create\w*\s*\(|new\s+\\?Slim\\App\b",
        docroot: "public",
        release: None,
        build: None,
        laravel_env: false,
        rank: 7,
    },
    Framework {
        name: "laminas",
        packages: &["laminas/laminas-mvc", "mezzio/mezzio"],
        marker: None,
        app: r"Laminas\\Mvc\\Application\b|\bMezzio\\Application\b",
        docroot: "public",
        release: None,
        build: None,
        laravel_env: false,
        rank: 7,
    },
    Framework {
        name: "wordpress",
        packages: &["johnpbloch/wordpress", "roots/wordpress"],
        marker: Some("wp-settings.php"),
        app: r"\bwp-blog-header\.php\b",
        docroot: ".",
        release: None,
        build: None,
        laravel_env: false,
        rank: 6,
    },
];

/// Declared Composer requirement → database or cache.
pub(super) const DB_PACKAGES: &[(&str, Database)] = &[
    ("ext-pdo_pgsql", Database::Postgresql),
    ("ext-pgsql", Database::Postgresql),
    ("ext-pdo_mysql", Database::Mysql),
    ("ext-mysqli", Database::Mysql),
    ("ext-pdo_sqlite", Database::Sqlite),
    ("ext-sqlite3", Database::Sqlite),
    ("predis/predis", Database::Redis),
    ("ext-redis", Database::Redis),
    ("snc/redis-bundle", Database::Redis),
    ("mongodb/laravel-mongodb", Database::Mongodb),
    ("jenssegers/mongodb", Database::Mongodb),
    ("mongodb/mongodb", Database::Mongodb),
    ("ext-mongodb", Database::Mongodb),
    ("doctrine/mongodb-odm", Database::Mongodb),
    ("doctrine/mongodb-odm-bundle", Database::Mongodb),
];

/// Folder names that are a site's document root.
pub(super) const DOCROOTS: &[&str] = &["public", "web", "webroot", "htdocs", "public_html", "www"];

/// Scripts run as a long-lived process when there is nothing to serve.
pub(super) const SCRIPT_NAMES: &[&str] = &[
    "worker.php",
    "main.php",
    "run.php",
    "bot.php",
    "consumer.php",
];

/// `$_SERVER` keys the web server sets per request (not environment variables).
pub(super) const CGI_PREFIXES: &[&str] = &[
    "HTTP_",
    "REQUEST_",
    "SCRIPT_",
    "SERVER_",
    "REMOTE_",
    "PHP_AUTH_",
    "REDIRECT_",
    "SSL_",
    "CONTENT_",
    "PATH_",
    "ORIG_",
];
pub(super) const CGI_NAMES: &[&str] = &[
    "DOCUMENT_ROOT",
    "PHP_SELF",
    "QUERY_STRING",
    "HTTPS",
    "GATEWAY_INTERFACE",
    "argv",
    "argc",
    "AUTH_TYPE",
    "UNIQUE_ID",
];
