//! A service under construction: what detectors claim, with how much trust and
//! which evidence, before `resolve` turns the claims into a [`Service`].
//!
//! Detectors only add claims here; they never pick winners. Choosing between
//! claims, naming conflicts and scoring confidence happen in `resolve.rs`.

use autodeploy_core::{
    Database, EnvVar, Evidence, Finding, Language, ServiceKind, Severity, SourceFix, Wiring,
};
use std::collections::BTreeMap;

/// Stands for the resolved port inside an inferred start command
/// (`gunicorn --bind 0.0.0.0:{PORT} app:app`).
pub const PORT: &str = "{PORT}";

/// How much a source of a value is trusted, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Trust {
    /// The framework's documented default.
    Default,
    /// Built by the analyzer from what it found (a start command for the detected app object).
    Inferred,
    /// Read from the application's code.
    Code,
    /// Written down as configuration (Procfile, Dockerfile, compose, settings files, .env).
    Config,
}

/// One claimed value with its provenance.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim<T> {
    pub value: T,
    pub trust: Trust,
    pub evidence: Evidence,
}

/// Build an [`Evidence`].
pub fn ev(file: &str, line: Option<u32>, note: impl Into<String>) -> Evidence {
    Evidence {
        file: file.to_string(),
        line,
        note: note.into(),
    }
}

/// A candidate service found by one detector in one folder.
#[derive(Debug, Clone)]
pub struct Draft {
    /// Folder relative to the repository root (`""` for the root).
    pub dir: String,
    /// Name given by a compose file or Procfile process (used as is).
    pub name: Option<String>,
    /// Name written in the project's manifest (`package.json` `name`…), used
    /// when the service sits at the repository root.
    pub manifest_name: Option<String>,
    /// The workspace member (its package name) this workspace root's start
    /// runs (`pnpm --filter api run start`): the same process as that
    /// member's own service.
    pub delegates_to: Option<String>,
    pub language: Language,
    pub framework: Option<String>,
    pub kind: ServiceKind,
    /// How strongly the evidence says this folder is this kind of app; used to
    /// choose between drafts for the same folder. Manifest with a web framework
    /// and an app object in code ≈ 10; a manifest alone ≈ 3; a Dockerfile alone ≈ 2;
    /// a lone index.html ≈ 1.
    pub strength: f32,
    /// True when a dependency manifest (package.json, requirements.txt, go.mod…) is in `dir`.
    pub has_manifest: bool,
    pub ports: Vec<Claim<u16>>,
    pub starts: Vec<Claim<String>>,
    pub builds: Vec<Claim<String>>,
    pub install: Option<String>,
    pub release: Option<String>,
    /// `Service::init`: the first deploy's database creation.
    pub init: Option<String>,
    /// `Service::postgres_auth`.
    pub postgres_auth: Option<autodeploy_core::PostgresAuth>,
    /// `Service::drivers_without_tls`.
    pub drivers_without_tls: Vec<Database>,
    /// `Service::install_with_driver`.
    pub install_with_driver: std::collections::BTreeMap<Database, String>,
    pub package_manager: Option<String>,
    pub runtime_version: Option<String>,
    /// `Service::image_runtime_version`.
    pub image_runtime_version: Option<String>,
    /// `Service::assets_node_version`.
    pub assets_node_version: Option<String>,
    /// `Service::release_library_version`.
    pub release_library_version: Option<String>,
    /// `Service::build_schema`.
    pub build_schema: Option<String>,
    /// `Service::wheel_lines`.
    pub wheel_lines: Vec<String>,
    pub dockerfile: Option<String>,
    /// (the start command its Dockerfile gives, as moved into the source
    /// tree; the same command as the image runs it).
    pub image_start: Option<(String, String)>,
    /// The folder of the build context the project's Dockerfile runs its
    /// command in (`WORKDIR /app/src` over `COPY . .` in `/app` → `src`),
    /// which the start command reaches with a `cd` outside the image.
    pub image_folder: Option<String>,
    /// See [`autodeploy_core::Service::dockerfile_context`].
    pub dockerfile_context: Option<String>,
    pub static_dir: Option<String>,
    pub health_path: Option<String>,
    /// See [`autodeploy_core::Service::allowed_hosts_env`].
    pub allowed_hosts_env: Option<String>,
    pub databases: BTreeMap<Database, Evidence>,
    pub env: Vec<EnvVar>,
    pub findings: Vec<Finding>,
    /// Evidence per field name (`language`, `framework`, …).
    pub evidence: BTreeMap<String, Vec<Evidence>>,
    /// How the code finds its database and cache (each ecosystem's `wiring.rs`).
    pub wiring: Vec<Wiring>,
    /// Constraints the install needs (each ecosystem's compat table).
    pub install_constraints: Vec<autodeploy_core::InstallConstraint>,
    /// See [`autodeploy_core::Service::install_files`].
    pub install_files: Vec<String>,
    /// Names a validation schema the app runs at start rules on (a
    /// class-validator env class): whether it requires them. What the
    /// schema says stands over what any read of the name suggests.
    pub validated: BTreeMap<String, bool>,
}

/// A setting only the test suite uses (`DATABASE_URL_TEST`,
/// `TEST_DATABASE_URL`): a deployment never needs it, even when the app
/// reads it at start beside the real one.
fn for_tests(name: &str) -> bool {
    name.split('_').any(|t| t.eq_ignore_ascii_case("test"))
}

/// Variables the operating system, the shell, npm or a CI service set:
/// never the app's configuration (`PROGRAMFILES`, `LOCALAPPDATA`,
/// `GITHUB_RUN_ID`, `npm_package_version`).
fn set_by_the_system(name: &str) -> bool {
    const NAMES: &[&str] = &[
        "PATH",
        "HOME",
        "USER",
        "USERNAME",
        "LOGNAME",
        "SHELL",
        "TERM",
        "PWD",
        "OLDPWD",
        "LANG",
        "LANGUAGE",
        "TMPDIR",
        "TEMP",
        "TMP",
        "PROGRAMFILES",
        "PROGRAMDATA",
        "LOCALAPPDATA",
        "APPDATA",
        "USERPROFILE",
        "SYSTEMROOT",
        "WINDIR",
        "COMSPEC",
        "DISPLAY",
        "EDITOR",
        "VISUAL",
        "INIT_CWD",
        "CI",
        "TRAVIS",
        "CIRCLECI",
        "BUILDKITE",
        "JENKINS_URL",
        "NODE_TLS_REJECT_UNAUTHORIZED",
        "TZ",
        "HOSTNAME",
        // systemd's: socket activation, readiness, the watchdog (miniflux
        // reads LISTEN_PID to take a socket systemd opened).
        "LISTEN_PID",
        "LISTEN_FDS",
        "LISTEN_FDNAMES",
        "NOTIFY_SOCKET",
        "WATCHDOG_USEC",
        "WATCHDOG_PID",
        "INVOCATION_ID",
    ];
    // CI services' own variables, not an app's `GITHUB_CLIENT_ID`.
    const PREFIXES: &[&str] = &[
        "LC_",
        "XDG_",
        "GITHUB_RUN_",
        "GITHUB_REF",
        "GITHUB_SHA",
        "GITHUB_EVENT_",
        "GITHUB_WORKSPACE",
        "GITHUB_ACTIONS",
        "GITHUB_ACTOR",
        "GITHUB_REPOSITORY",
        "GITHUB_JOB",
        "GITHUB_HEAD_REF",
        "GITHUB_BASE_REF",
        "GITHUB_OUTPUT",
        "GITHUB_STEP_SUMMARY",
        "RUNNER_",
        "CI_COMMIT_",
        "CI_PROJECT_",
        "CI_PIPELINE_",
        "CI_JOB_",
        "TRAVIS_",
        "CIRCLE_",
        "BUILDKITE_",
        "npm_",
        "NPM_CONFIG_",
    ];
    NAMES.contains(&name) || PREFIXES.iter().any(|p| name.starts_with(p))
}

/// A file of the release, CI or maintenance tooling kept beside the app.
pub(crate) fn in_tooling_folder(file: &str) -> bool {
    let folders: Vec<&str> = file.split('/').collect();
    folders[..folders.len().saturating_sub(1)].iter().any(|f| {
        matches!(
            *f,
            "extra" | "scripts" | "script" | "tools" | "tooling" | ".github" | ".circleci" | "ci"
        )
    })
}

impl Draft {
    pub fn new(dir: &str, language: Language, kind: ServiceKind) -> Self {
        Draft {
            dir: dir.to_string(),
            name: None,
            manifest_name: None,
            delegates_to: None,
            language,
            framework: None,
            kind,
            strength: 0.0,
            has_manifest: false,
            ports: Vec::new(),
            starts: Vec::new(),
            builds: Vec::new(),
            install: None,
            release: None,
            init: None,
            postgres_auth: None,
            drivers_without_tls: Vec::new(),
            install_with_driver: Default::default(),
            package_manager: None,
            runtime_version: None,
            image_runtime_version: None,
            assets_node_version: None,
            release_library_version: None,
            build_schema: None,
            wheel_lines: Vec::new(),
            dockerfile: None,
            image_start: None,
            image_folder: None,
            dockerfile_context: None,
            static_dir: None,
            health_path: None,
            allowed_hosts_env: None,
            databases: BTreeMap::new(),
            env: Vec::new(),
            findings: Vec::new(),
            evidence: BTreeMap::new(),
            validated: BTreeMap::new(),
            wiring: Vec::new(),
            install_constraints: Vec::new(),
            install_files: Vec::new(),
        }
    }

    /// Add a wiring; one with the same convention and settings is kept once.
    pub fn wire(&mut self, w: Wiring) {
        if w.settings.is_empty() {
            return;
        }
        match self
            .wiring
            .iter_mut()
            .find(|x| x.convention == w.convention && x.target == w.target)
        {
            Some(x) => {
                for s in w.settings {
                    if x.setting(&s.name).is_none() {
                        x.settings.push(s);
                    }
                }
                for e in w.engines {
                    if !x.engines.contains(&e) {
                        x.engines.push(e);
                    }
                }
                if x.sqlite_fallback.is_none() {
                    x.sqlite_fallback = w.sqlite_fallback;
                }
            }
            None => self.wiring.push(w),
        }
    }

    /// Record evidence for a field.
    pub fn note(&mut self, field: &str, evidence: Evidence) {
        let list = self.evidence.entry(field.to_string()).or_default();
        if !list.contains(&evidence) {
            list.push(evidence);
        }
    }

    pub fn set_framework(&mut self, name: &str, evidence: Evidence) {
        self.framework = Some(name.to_string());
        self.note("framework", evidence);
    }

    pub fn port(&mut self, port: u16, trust: Trust, evidence: Evidence) {
        self.ports.push(Claim {
            value: port,
            trust,
            evidence,
        });
    }

    pub fn start(&mut self, cmd: impl Into<String>, trust: Trust, evidence: Evidence) {
        self.starts.push(Claim {
            value: cmd.into(),
            trust,
            evidence,
        });
    }

    pub fn build(&mut self, cmd: impl Into<String>, trust: Trust, evidence: Evidence) {
        self.builds.push(Claim {
            value: cmd.into(),
            trust,
            evidence,
        });
    }

    pub fn database(&mut self, db: Database, evidence: Evidence) {
        self.databases.entry(db).or_insert(evidence);
    }

    /// Add an env var; when the name is already known, it stays required only
    /// if every read of it lacks a default.
    pub fn env_var(&mut self, name: &str, has_default: bool, file: &str, line: u32) {
        if !is_env_name(name) || set_by_the_system(name) {
            return;
        }
        // Read by release, CI or maintenance scripts beside the app
        // (`extra/release/lib.mjs`): listed, never asked for.
        let has_default = has_default || in_tooling_folder(file) || for_tests(name);
        if let Some(existing) = self.env.iter_mut().find(|e| e.name == name) {
            if !self.validated.contains_key(name) {
                existing.required &= !has_default;
            }
            return;
        }
        if let Some(required) = self.validated.get(name) {
            self.push_env(name, *required, file, line);
            return;
        }
        self.push_env(name, !has_default, file, line);
    }

    /// A validation schema's ruling on `name`: required or not, whatever
    /// reads elsewhere suggest (`@IsBoolean() MAIL_SECURE` must be set even
    /// though the code reads it as `=== 'true'`; `@IsOptional() MAIL_USER`
    /// need not be, though it is read bare).
    pub fn env_rule(&mut self, name: &str, required: bool, file: &str, line: u32) {
        if !is_env_name(name) || set_by_the_system(name) {
            return;
        }
        self.validated.insert(name.to_string(), required);
        match self.env.iter_mut().find(|e| e.name == name) {
            Some(existing) => existing.required = required,
            None => self.push_env(name, required, file, line),
        }
    }

    fn push_env(&mut self, name: &str, required: bool, file: &str, line: u32) {
        self.env.push(EnvVar {
            file: Some(file.to_string()),
            line: Some(line),
            ..EnvVar::new(name, required, looks_secret(name))
        });
    }

    /// The value the project's own Dockerfile gives a known env var: kept
    /// when it is plain (no `$` reference, not an absolute path inside the
    /// image, not a credential).
    pub fn image_value(&mut self, name: &str, value: &str) {
        let plain = !value.is_empty()
            && !value.contains('$')
            && !value.starts_with('/')
            && value.len() <= 200
            && !value.chars().any(char::is_control);
        if let Some(v) = self.env.iter_mut().find(|e| e.name == name) {
            if plain && !v.secret {
                v.image_value = Some(value.to_string());
            }
        }
    }

    pub fn finding(
        &mut self,
        kind: &str,
        severity: Severity,
        file: Option<&str>,
        line: Option<u32>,
        message: impl Into<String>,
        fix: Option<SourceFix>,
    ) {
        let f = Finding {
            kind: kind.to_string(),
            file: file.map(str::to_string),
            line,
            message: message.into(),
            severity,
            fix,
            from_example: None,
            calls: None,
            makes_dir: None,
        };
        if !self.findings.contains(&f) {
            self.findings.push(f);
        }
    }
}

/// Environment variable names as programs use them: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 128
}

/// Does this variable name look like it holds a credential?
pub fn looks_secret(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    if n.starts_with("NEXT_PUBLIC_") || n.starts_with("VITE_") || n.starts_with("REACT_APP_") {
        return false;
    }
    if n.ends_with("PUBLIC_KEY") || n.ends_with("PUBLISHABLE_KEY") {
        return false;
    }
    // Settings *about* a credential (lifetimes, sizes, names) are not credentials.
    const ABOUT: &[&str] = &[
        "_MINUTES",
        "_SECONDS",
        "_HOURS",
        "_DAYS",
        "_TTL",
        "_EXPIRE",
        "_EXPIRES",
        "_EXPIRY",
        "_EXPIRATION",
        "_LENGTH",
        "_SIZE",
        "_ALGORITHM",
        "_HEADER",
        "_PREFIX",
        "_NAME",
        "_ENABLED",
        "_LIFETIME",
        "_TIMEOUT",
        "_EXPIRES_IN",
        "_DURATION",
    ];
    if ABOUT.iter().any(|s| n.ends_with(s)) {
        return false;
    }
    const PARTS: &[&str] = &[
        "SECRET",
        "TOKEN",
        "PASSWORD",
        "PASSWD",
        "PASSPHRASE",
        "_PASS",
        "API_KEY",
        "APIKEY",
        "ACCESS_KEY",
        "PRIVATE_KEY",
        "CREDENTIAL",
        "AUTH_KEY",
        "SALT",
        "DATABASE_URL",
        "DB_URL",
        "DSN",
        "CONNECTION_STRING",
        // .NET `ConnectionStrings__Name` (configuration key `ConnectionStrings:Name`).
        "CONNECTIONSTRING",
        "CONN_STR",
        "MONGO_URI",
        "MONGODB_URI",
        "MONGO_URL",
        "REDIS_URL",
        "SIGNING_KEY",
        "ENCRYPTION_KEY",
        "WEBHOOK_SECRET",
    ];
    n.ends_with("_KEY") || n == "KEY" || PARTS.iter().any(|p| n.contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        for s in [
            "SECRET_KEY",
            "DATABASE_URL",
            "STRIPE_API_KEY",
            "GITHUB_TOKEN",
            "DB_PASSWORD",
            "AWS_SECRET_ACCESS_KEY",
            "SENTRY_DSN",
            "ConnectionStrings__Default",
        ] {
            assert!(looks_secret(s), "{s}");
        }
        for s in [
            "PORT",
            "DEBUG",
            "NEXT_PUBLIC_API_KEY",
            "LOG_LEVEL",
            "HOST",
            "STRIPE_PUBLIC_KEY",
        ] {
            assert!(!looks_secret(s), "{s}");
        }
    }

    #[test]
    fn env_required_only_when_never_defaulted() {
        let mut d = Draft::new("", Language::Python, ServiceKind::Web);
        d.env_var("A", false, "x.py", 1);
        d.env_var("A", true, "y.py", 2);
        d.env_var("B", false, "x.py", 3);
        d.env_var("not valid", false, "x.py", 3);
        assert_eq!(d.env.len(), 2);
        assert!(!d.env[0].required);
        assert!(d.env[1].required);
    }

    /// What the OS, npm or a CI service sets is not the app's setting; what
    /// release and CI scripts beside the app read is listed, never asked
    /// for; an app's own `GITHUB_CLIENT_ID` stays.
    #[test]
    fn system_variables_and_tooling_reads_are_not_asked_for() {
        let mut d = Draft::new("", Language::Javascript, ServiceKind::Web);
        for (name, file) in [
            ("PROGRAMFILES", "server/browser.js"),
            ("GITHUB_RUN_ID", "extra/release/prepare.mjs"),
            ("npm_package_version", "server/index.js"),
            ("RELEASE_GITHUB_TOKEN", "extra/release/upload.mjs"),
            ("DEMO_HOST", "scripts/deploy-demo.js"),
            ("GITHUB_CLIENT_ID", "server/auth.js"),
            ("SESSION_SECRET", "server/index.js"),
        ] {
            d.env_var(name, false, file, 1);
        }
        let got: Vec<(&str, bool)> = d
            .env
            .iter()
            .map(|e| (e.name.as_str(), e.required))
            .collect();
        assert_eq!(
            got,
            vec![
                ("RELEASE_GITHUB_TOKEN", false),
                ("DEMO_HOST", false),
                ("GITHUB_CLIENT_ID", true),
                ("SESSION_SECRET", true),
            ]
        );
    }
}
