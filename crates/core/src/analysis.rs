//! `Analysis`: what the analyze stage found in a repository.
//!
//! JSON contract (`autodeploy analyze SOURCE --json`): `source`, `services[]` with
//! `name`, `path`, `language`, `framework`, `port`, `start`, `build`,
//! `databases`, `env`, `findings`, `confidence`. Everything else here is an
//! addition (allowed by the contract).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where the analysed tree came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// The input exactly as the user gave it (URL, path, archive path).
    pub input: String,
    pub kind: SourceKind,
    /// Commit SHA when the source is a git repository, else null.
    pub commit: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Git,
    Path,
    Archive,
}

/// The analyze stage's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub source: SourceInfo,
    pub services: Vec<Service>,
    /// Version of the analyzer that produced this (cache key component).
    #[serde(default)]
    pub analyzer_version: String,
    /// Counts describing how much of the tree was looked at.
    #[serde(default)]
    pub stats: ScanStats,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanStats {
    /// Files seen by the walk (after .gitignore and vendored-tree pruning).
    pub files_seen: u64,
    /// Files whose content was read.
    pub files_read: u64,
    /// Files skipped because they were too large, binary or unreadable.
    pub files_skipped: u64,
}

/// Canonical language names (DESIGN.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Python,
    Javascript,
    Typescript,
    Go,
    Ruby,
    Php,
    Java,
    Kotlin,
    Rust,
    Csharp,
    Elixir,
    Html,
    /// Only a Dockerfile tells how the app runs; its language is unknown.
    Unknown,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Python => "python",
            Language::Javascript => "javascript",
            Language::Typescript => "typescript",
            Language::Go => "go",
            Language::Ruby => "ruby",
            Language::Php => "php",
            Language::Java => "java",
            Language::Kotlin => "kotlin",
            Language::Rust => "rust",
            Language::Csharp => "csharp",
            Language::Elixir => "elixir",
            Language::Html => "html",
            Language::Unknown => "unknown",
        }
    }
}

/// How a PostgreSQL role of the app's must store its password, when the
/// app's driver cannot log in with PostgreSQL's default (SCRAM-SHA-256,
/// the default since PostgreSQL 14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PostgresAuth {
    /// An md5-hashed password (drivers from before 2019: lib/pq before
    /// 1.1.0, pgx before 3.4.0).
    Md5,
}

/// What kind of process a service is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceKind {
    /// Listens for HTTP on `port`.
    Web,
    /// Long-running process that does not serve HTTP (Celery, Sidekiq, consoles).
    Worker,
    /// Files served as-is after an optional build (HTML, SPA builds).
    Static,
}

/// Databases and caches (DESIGN.md canonical values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Database {
    Postgresql,
    Mysql,
    Mongodb,
    Sqlite,
    Redis,
}

impl Database {
    pub fn as_str(self) -> &'static str {
        match self {
            Database::Postgresql => "postgresql",
            Database::Mysql => "mysql",
            Database::Mongodb => "mongodb",
            Database::Sqlite => "sqlite",
            Database::Redis => "redis",
        }
    }
}

/// A place in the repository that supports a value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Evidence {
    /// Path relative to the repository root, `/`-separated.
    pub file: String,
    /// 1-based line, when the evidence is a line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// What the line says, in a few words (`app.run(port=5000)`).
    pub note: String,
}

/// An environment variable the code reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvVar {
    pub name: String,
    /// True when the code gives no default.
    pub required: bool,
    /// True when the name looks like a credential (KEY, SECRET, TOKEN, PASSWORD, DATABASE_URL…).
    pub secret: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// The value the repository's example env file (`.env.example`) gives
    /// it, when that is a usable value (not a placeholder, never for a
    /// credential): what a new user would copy into their `.env`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
    /// The value the project's own Dockerfile gives it (`ENV NAME=value` in
    /// the final stage): what its production image runs with. Plain values
    /// only (no `$` references, no absolute paths of the image), never for a
    /// credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_value: Option<String>,
    /// True when the code compares incoming requests' headers with it
    /// (`r.Header.Get("Authorization") != os.Getenv("X")`): a token the app
    /// owns and checks callers against, which can be generated, not one
    /// only its user has.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub checks_requests: bool,
    /// True when the code gives a default (`required` false) but refuses
    /// to start without it under `NODE_ENV=production` (`if
    /// (input.NODE_ENV === "production" && !input.DATABASE_AUTH_TOKEN)`
    /// in its settings schema): required wherever the deployment runs the
    /// app as production.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required_in_production: bool,
    /// How the code spells "off" for this switch, when it reads it in a way
    /// only one spelling turns off: `int(os.environ.get("DEBUG", 0))` takes
    /// `0` (and crashes on `False`), `os.environ.get("DJANGO_DEBUG") !=
    /// "FALSE"` takes exactly `FALSE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub off_value: Option<String>,
}

impl EnvVar {
    /// A variable the code reads, with no default (`required`) and whether
    /// it looks like a credential; nothing else known about it yet.
    pub fn new(name: impl Into<String>, required: bool, secret: bool) -> Self {
        EnvVar {
            name: name.into(),
            required,
            secret,
            file: None,
            line: None,
            example: None,
            image_value: None,
            checks_requests: false,
            required_in_production: false,
            off_value: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// Something a person (or the deploy stage) should know about the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable snake_case identifier: `binds_localhost`, `hardcoded_localhost_url`,
    /// `committed_secret`, `no_lockfile`, `port_conflict`, `dockerfile_expose_mismatch`,
    /// `missing_production_server`, …
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    pub message: String,
    pub severity: Severity,
    /// A mechanical source fix the deploy stage may apply to its own copy of the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<SourceFix>,
    /// A file the code needs that the repository only holds an example of:
    /// the deploy stage creates it in its own copy from the example.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_example: Option<FileFromExample>,
    /// `hardcoded_localhost_url` calling another service: the origin called
    /// (`http://localhost:5001`). A deployment that serves that service on
    /// the site's own address replaces it with the path it forwards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calls: Option<String>,
    /// `sqlite_folder_missing`: a folder (relative to the repository root)
    /// the code keeps a database file in but the repository does not hold
    /// (git keeps no empty folders; the project's Dockerfile or start
    /// script makes it). The deploy stage creates it in its copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub makes_dir: Option<String>,
}

/// Replace `find` with `replace` on one line of one file (in a copy, never the user's tree).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFix {
    pub file: String,
    pub line: u32,
    pub find: String,
    pub replace: String,
}

impl SourceFix {
    /// Put fixes in the order every copy applies them: per file, the last
    /// line first. A fix whose replacement adds lines (a function before
    /// `DATABASES = {`, a setting before `ROOT_URLCONF`) moves the lines
    /// below it, so a fix further down applied after it would look for its
    /// text on the wrong line and be skipped.
    pub fn sort_for_application(fixes: &mut [SourceFix]) {
        fixes.sort_by(|a, b| a.file.cmp(&b.file).then(b.line.cmp(&a.line)));
    }

    /// `text` with the fix applied: `find` replaced on line `line` (1-based;
    /// line endings kept), or None when that line does not hold `find` (the
    /// file changed since the analysis) or the fix names nothing to find.
    /// The one rule for every copy the fix lands in (the local target's
    /// copy, the source archive an image is built from).
    pub fn apply_to(&self, text: &str) -> Option<String> {
        if self.find.is_empty() || self.line == 0 {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        let mut applied = false;
        for (i, line) in text.split_inclusive('\n').enumerate() {
            if i + 1 == self.line as usize && line.contains(&self.find) {
                out.push_str(&line.replace(&self.find, &self.replace));
                applied = true;
            } else {
                out.push_str(line);
            }
        }
        applied.then_some(out)
    }
}

/// Create `file` in the deployment's copy of the code as a copy of
/// `example`, the committed example of it beside it (`src/config.ts` from
/// `src/config.ts.example`), when the copy has no `file` — never in the
/// user's tree. Both paths are relative to the repository root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileFromExample {
    pub file: String,
    pub example: String,
}

/// A constraint the installer needs so that what the project pins installs
/// as it did when the project was written (`Werkzeug<3` beside `Flask==2.2`
/// with Werkzeug left open; `setuptools<46` to build `MarkupSafe==1.0`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallConstraint {
    /// One line of a pip constraints file (`PIP_CONSTRAINT`, `UV_CONSTRAINT`).
    pub requirement: String,
    /// Why it is needed, for the deployment log and the plan.
    pub reason: String,
    /// The file whose pin calls for it.
    pub file: String,
}

/// One deployable unit of the repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub name: String,
    /// Folder relative to the repository root, `.` for the root.
    pub path: String,
    pub language: Language,
    /// Canonical lowercase-hyphen framework name, or null.
    pub framework: Option<String>,
    pub kind: ServiceKind,
    /// Port the app listens on by default (null for workers).
    pub port: Option<u16>,
    /// Production start command, run from `path`.
    pub start: Option<String>,
    /// Build step (compile, bundle), run from `path` after `install`.
    pub build: Option<String>,
    /// Dependency installation command, run from `path`.
    #[serde(default)]
    pub install: Option<String>,
    /// One-off step run once per deploy before the new version takes traffic
    /// (database migrations), from `path`; never chained into `start`.
    #[serde(default)]
    pub release: Option<String>,
    /// One-off step that creates the database from nothing, wiping what is
    /// there (`flask init-db` running a `schema.sql` of `DROP TABLE`s, a
    /// `setup-db` script calling `sync({ force: true })`): run once, on the
    /// deployment's first deploy, before `release`; never on a redeploy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<String>,
    /// The password method its PostgreSQL driver needs, when it is not the
    /// server's default (a driver from before SCRAM-SHA-256).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postgres_auth: Option<PostgresAuth>,
    /// Databases this service's driver reaches without TLS unless its
    /// configuration asks for it (node-postgres, mysqljs and mysql2, Go's
    /// MySQL driver, PyMySQL, PHP's mysqlnd): a server that requires TLS
    /// refuses it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drivers_without_tls: Vec<Database>,
    /// The install command with a server database's driver added, for an
    /// engine the code's ORM reaches through a URL setting but whose driver
    /// it does not declare (Flask-SQLAlchemy or Django without psycopg2:
    /// `… && pipenv run python -m pip install psycopg2-binary`). Decide uses
    /// the one for the database the plan provisions.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub install_with_driver: std::collections::BTreeMap<Database, String>,
    /// HTTP path to probe for health, when the code shows one (`/healthz`); else `/`.
    #[serde(default)]
    pub health_path: Option<String>,
    /// The environment variable the app's host allow-list is read from
    /// (Django `ALLOWED_HOSTS = os.environ.get("WEB_HOSTS", …)`), when the
    /// code shows one: the deployment sets it to the hosts its health
    /// checks and users send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_hosts_env: Option<String>,
    #[serde(default)]
    pub package_manager: Option<String>,
    /// Runtime version the project asks for (`3.12`, `20`, `1.22`…), when it says.
    #[serde(default)]
    pub runtime_version: Option<String>,
    /// The exact version the project's own Dockerfile runs (`FROM
    /// python:3.11`), when `runtime_version` is a range it satisfies
    /// (`^3.11`): the line to prefer within the range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_runtime_version: Option<String>,
    /// The Node version the `package.json` of an asset build beside a
    /// service of another language asks for (`.nvmrc`, `engines.node`, npm's
    /// `devEngines.runtime`): the Node its build runs (Django's `npm ci &&
    /// gulp build`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assets_node_version: Option<String>,
    /// The locked version (`0.7.3`) of the library whose CLI the release
    /// step runs (sqlx for `sqlx migrate run`, diesel for `diesel migration
    /// run`), from Cargo.lock: the CLI is installed from the same line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_library_version: Option<String>,
    /// Rust: the build checks sqlx queries (`query!`…) against a live
    /// database and the project commits no offline data (`.sqlx/`,
    /// `sqlx-data.json`): the migrations folder (relative to the service)
    /// that builds the schema its build needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_schema: Option<String>,
    /// Python: the lines (`3.9`) its lock file has a Linux wheel for every
    /// compiled package on (fewest missing), when other lines lack some
    /// (`core::wheels`): lines where the install builds nothing from
    /// source. Empty when the lock says nothing either way.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wheel_lines: Vec<String>,
    /// Path (relative to the repo root) of a Dockerfile the project ships for this service.
    #[serde(default)]
    pub dockerfile: Option<String>,
    /// The start command as that Dockerfile's image runs it, when it differs
    /// from `start` (`./zero2prod`, a binary copied out of the build stage,
    /// which `start` runs where the build leaves it: `./target/release/zero2prod`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_start: Option<String>,
    /// The build context the project builds `dockerfile` with, when that is
    /// not the Dockerfile's own folder (a compose file's `context: ..` with
    /// `dockerfile: deploy/Dockerfile`): relative to the repository root,
    /// `"."` for the root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dockerfile_context: Option<String>,
    /// For static services: the folder that is served, relative to `path`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub static_dir: Option<String>,
    pub databases: Vec<Database>,
    pub env: Vec<EnvVar>,
    pub findings: Vec<Finding>,
    /// 0–1: how sure the analyzer is of language+framework+port+start together.
    pub confidence: f64,
    /// Evidence per field (`language`, `framework`, `port`, `start`, `build`, `databases`…).
    #[serde(default)]
    pub evidence: BTreeMap<String, Vec<Evidence>>,
    /// How the app finds each backing service it uses: the settings it reads
    /// and the format each expects ([`Wiring`](crate::Wiring)).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wiring: Vec<crate::Wiring>,
    /// Constraints the dependency install needs (see [`InstallConstraint`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub install_constraints: Vec<InstallConstraint>,
    /// Files the install reads besides the one its command names, relative
    /// to the repository root: requirements files included with `-r`
    /// (`requirements.txt` → `requirements/production.txt`). An image copies
    /// them before it installs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub install_files: Vec<String>,
}

#[cfg(test)]
mod source_fix_tests {
    use super::SourceFix;

    fn fix(line: u32, find: &str, replace: &str) -> SourceFix {
        SourceFix {
            file: "app/settings.py".into(),
            line,
            find: find.into(),
            replace: replace.into(),
        }
    }

    /// django-recipe-api: a fix adding a line before `ROOT_URLCONF` (line 2)
    /// and one on `/vol/web/media` further down (line 4). In application
    /// order both land; applied top-down the second looked at the wrong line.
    #[test]
    fn fixes_applied_last_line_first_all_land() {
        let text = "DEBUG = True\nROOT_URLCONF = 'app.urls'\n\nMEDIA_ROOT = '/vol/web/media'\n";
        let mut fixes = vec![
            fix(2, "ROOT_URLCONF", "X = None\nROOT_URLCONF"),
            fix(4, "'/vol/web/media'", "'media'"),
        ];
        let top_down = fixes[0].apply_to(text).unwrap();
        assert!(fixes[1].apply_to(&top_down).is_none());
        SourceFix::sort_for_application(&mut fixes);
        let mut out = text.to_string();
        for f in &fixes {
            out = f.apply_to(&out).expect("applies");
        }
        assert_eq!(
            out,
            "DEBUG = True\nX = None\nROOT_URLCONF = 'app.urls'\n\nMEDIA_ROOT = 'media'\n"
        );
    }
}
