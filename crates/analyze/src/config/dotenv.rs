//! `.env` files: the port and connection strings they set, the variable names
//! the app expects (`.env.example`), and real credentials committed to the
//! repository (reported by name, never by value).

use crate::ctx::Ctx;
use crate::draft::{ev, looks_secret, Draft, Trust};
use crate::scan::{is_placeholder, parse_dotenv};
use autodeploy_core::Severity;

/// Files that hold real values when committed.
const REAL: &[&str] = &[
    ".env",
    ".env.production",
    ".env.prod",
    ".env.local",
    ".env.production.local",
];
/// Files that document the variables the app expects.
const EXAMPLES: &[&str] = &[
    ".env.example",
    ".env.sample",
    ".env.template",
    ".env.dist",
    ".env.defaults",
    "env.example",
    ".env.development",
];

/// The example files of `dir`: the usual names first, then any other file
/// whose name says it is an env example (`env-example-relational`,
/// `example.env`, `.env.local.sample`), the one the README says to copy
/// first.
fn example_files(ctx: &Ctx, dir: &str) -> Vec<String> {
    let mut out: Vec<String> = EXAMPLES.iter().map(|n| n.to_string()).collect();
    let mut others: Vec<String> = ctx
        .index()
        .names_in(dir)
        .filter(|n| !EXAMPLES.contains(n) && !REAL.contains(n))
        .filter(|n| {
            let l = n.to_ascii_lowercase();
            l.contains("env")
                && ["example", "sample", "template", "dist", "defaults"]
                    .iter()
                    .any(|w| l.contains(w))
                && !l.ends_with(".js")
                && !l.ends_with(".ts")
                && !l.ends_with(".py")
                && !l.ends_with(".md")
                && !l.ends_with(".json")
                && !l.ends_with(".yml")
                && !l.ends_with(".yaml")
        })
        .map(str::to_string)
        .collect();
    let readme = ["README.md", "readme.md", "README"]
        .iter()
        .find_map(|r| ctx.read(dir, r))
        .unwrap_or_default();
    others.sort_by_key(|n| (!readme.contains(&format!("cp {n} .env")), n.clone()));
    out.extend(others);
    out
}

/// Shell scripts beside the app whose `export NAME=value` lines are how
/// the repository documents its settings (go-grocery's `build.sh` exports
/// every variable, then builds and starts the app).
const SCRIPTS: &[&str] = &[
    ".envrc",
    "env.sh",
    "setenv.sh",
    "set_env.sh",
    "envs.sh",
    "build.sh",
    "run.sh",
    "start.sh",
    "dev.sh",
];

/// The `export NAME=value` lines of a shell script, as a dotenv text with
/// the script's line numbers. A value that runs a command (`$(…)`, a
/// backquote) is dropped; one that points into the project through a
/// variable (`file://$GOPATH/src/github.com/acme/app/migrations`) becomes
/// the path relative to the app's folder (`file://migrations`), the
/// folder the app runs in; other `$` references are dropped.
fn exported(ctx: &Ctx, dir: &str, script: &str) -> String {
    let mut out = String::new();
    for line in script.lines() {
        let code = line.trim();
        if let Some((key, value)) = code
            .strip_prefix("export ")
            .and_then(|rest| rest.split_once('='))
        {
            let raw = value.trim().trim_matches(['"', '\'']);
            let value = if raw.contains("$(") || raw.contains('`') {
                None
            } else if raw.contains('$') {
                into_project(ctx, dir, raw)
            } else {
                Some(raw.to_string())
            };
            if let Some(v) = value {
                out.push_str(&format!("{}={v}", key.trim()));
            }
        }
        out.push('\n');
    }
    out
}

/// `file://$GOPATH/src/github.com/acme/app/migrations` → `file://migrations`
/// when `migrations` is in the app's folder: the shortest tail of the path
/// after its last `$` reference that names something in the project.
fn into_project(ctx: &Ctx, dir: &str, value: &str) -> Option<String> {
    let (scheme, path) = match value.split_once("://") {
        Some((s, p)) => (format!("{s}://"), p),
        None => (String::new(), value),
    };
    let after = &path[path.rfind('$')?..];
    let parts: Vec<&str> = after.split('/').skip(1).collect();
    (0..parts.len()).rev().find_map(|i| {
        let tail = parts[i..].join("/");
        let path = crate::repo::join(dir, &tail);
        let present = !tail.is_empty()
            && !tail.contains(['$', '{', '}'])
            && (ctx.index().contains(&path) || ctx.index().files_under(&path).next().is_some());
        (present && i > 0).then(|| format!("{scheme}{tail}"))
    })
}

/// Settings of the database and admin images a compose file runs beside
/// the app (`postgres`, `mysql`/`mariadb`, `mongo`, `dpage/pgadmin4`).
fn image_setting(name: &str) -> bool {
    const IMAGE_PREFIXES: &[&str] = &[
        "PGADMIN_",
        "POSTGRES_",
        "MYSQL_",
        "MARIADB_",
        "MONGO_INITDB_",
    ];
    IMAGE_PREFIXES.iter().any(|p| name.starts_with(p))
}

pub fn apply(ctx: &Ctx, draft: &mut Draft) {
    let dir = draft.dir.clone();
    let examples = example_files(ctx, &dir);
    let scripts = SCRIPTS.iter().map(|n| n.to_string());
    let files: Vec<String> = REAL
        .iter()
        .map(|n| n.to_string())
        .chain(examples)
        .chain(scripts)
        .collect();
    // Each file read and parsed once: the names feed the mention scan,
    // the entries the loop below.
    let parsed: Vec<(String, Vec<crate::scan::DotenvEntry>)> = files
        .into_iter()
        .filter_map(|name| {
            let text = ctx.read(&dir, &name)?;
            let entries = if SCRIPTS.contains(&name.as_str()) {
                parse_dotenv(&exported(ctx, &dir, &text))
            } else {
                parse_dotenv(&text)
            };
            Some((name, entries))
        })
        .collect();
    let mentioned = mentioned_in_code(
        ctx,
        draft,
        parsed
            .iter()
            .flat_map(|(_, es)| es.iter().map(|e| e.key.as_str())),
    );
    for (name, entries) in parsed {
        let name = name.as_str();
        let file = crate::repo::join(&dir, name);
        let is_real = REAL.contains(&name);
        // Files under other names document more loosely (kutt's
        // `.example.env` lists every optional mail and OIDC setting empty):
        // they give example values, and names only as optional.
        let loose = !is_real && !EXAMPLES.contains(&name);
        for e in entries {
            let placeholder = is_placeholder(&e.value);
            if e.key == "PORT" {
                if let Ok(p) = e.value.parse::<u16>() {
                    draft.port(
                        p,
                        Trust::Config,
                        ev(&file, Some(e.line), format!("PORT={p}")),
                    );
                }
                continue;
            }
            if let Some(db) = crate::detectors::database_of_url(&e.value) {
                draft.database(
                    db,
                    ev(
                        &file,
                        Some(e.line),
                        format!("{} is a {} URL", e.key, db.as_str()),
                    ),
                );
            }
            // A placeholder stands for "no value" only where a credential is expected:
            // `DEBUG=1` or `LOG_LEVEL=info` are real values.
            let has_value = !(e.value.is_empty() || placeholder && looks_secret(&e.key));
            // The code is the authority on whether a variable it reads has a
            // default; a dotenv file only adds names the code scan missed.
            if !draft.env.iter().any(|v| v.name == e.key) {
                // A database or admin image's own setting (the postgres
                // container's POSTGRES_PASSWORD, pgAdmin's login) that the
                // scanned code never reads: docker-compose hands the same
                // file to those containers, the app never sees it.
                if draft.has_manifest && image_setting(&e.key) {
                    continue;
                }
                // Where the code was scanned, a name no source file mentions
                // is read by nothing (nest-awesome-boilerplate's FIREBASE_*
                // listed empty): optional. One it mentions through a reader
                // the scan does not follow (`getString('THROTTLER_TTL')`)
                // keeps the example's meaning — and a usable example value
                // is what a new user copies: it is set.
                let optional = match mentioned.as_ref() {
                    Some(m) if !m.contains(&e.key) => true,
                    Some(_)
                        if has_value && !is_real && !loose && usable_example(&e.key, &e.value) =>
                    {
                        false
                    }
                    _ => has_value || loose,
                };
                draft.env_var(&e.key, optional, &file, e.line);
            }
            // A placeholder of a setting that is no credential (`JWT_ISSUER=
            // dummy-issuer`) still lets the app start: the example stands.
            if !is_real && has_value && usable_example(&e.key, &e.value) {
                if let Some(v) = draft
                    .env
                    .iter_mut()
                    .find(|v| v.name == e.key && v.example.is_none())
                {
                    v.example = Some(e.value.clone());
                    // `DATABASE_URL=file:dev.db` names a file, not a credential.
                    if crate::detectors::is_sqlite_file_url(&e.value) {
                        v.secret = false;
                    }
                }
            }
            if is_real && looks_secret(&e.key) && !placeholder && !is_local_url(&e.value) {
                draft.finding(
                    "committed_secret",
                    Severity::Warning,
                    Some(&file),
                    Some(e.line),
                    format!(
                        "{file} sets {} to what looks like a real credential and is committed; \
                         rotate it, remove the file from git and pass the value as a secret at deploy time",
                        e.key
                    ),
                    None,
                );
            }
        }
    }
}

/// Source and configuration files whose mention of a variable's name may
/// be a read of it.
const MENTION_EXTS: &[&str] = &[
    ".js",
    ".mjs",
    ".cjs",
    ".ts",
    ".mts",
    ".cts",
    ".tsx",
    ".jsx",
    ".vue",
    ".svelte",
    ".py",
    ".rb",
    ".go",
    ".rs",
    ".php",
    ".java",
    ".kt",
    ".scala",
    ".cs",
    ".ex",
    ".exs",
    ".erb",
    ".yml",
    ".yaml",
    ".toml",
    ".ini",
    ".cfg",
    ".conf",
    ".properties",
    ".xml",
];

/// Of the names the env files list (`listed`) that the code scan did not see read,
/// those some source or configuration file of the service mentions (as a
/// whole word): one pass over the files with one pattern of all the names.
/// `None` where nothing was scanned (no manifest: nothing says what the
/// code reads).
fn mentioned_in_code<'a>(
    ctx: &Ctx,
    draft: &Draft,
    listed: impl Iterator<Item = &'a str>,
) -> Option<std::collections::HashSet<String>> {
    // Frameworks that read settings themselves (Laravel's `APP_KEY`,
    // Rails' `SECRET_KEY_BASE`, Spring's relaxed binding, ASP.NET's
    // `__` sections) read names their apps never write: only languages
    // whose apps read each variable by name are judged by their code.
    let by_name = matches!(
        draft.language,
        autodeploy_core::Language::Javascript
            | autodeploy_core::Language::Typescript
            | autodeploy_core::Language::Python
            | autodeploy_core::Language::Go
            | autodeploy_core::Language::Rust
    );
    if !draft.has_manifest || !by_name {
        return None;
    }
    let mut names: Vec<&str> = listed
        .filter(|k| !draft.env.iter().any(|v| v.name == *k))
        .collect();
    names.sort();
    names.dedup();
    let mut found = std::collections::HashSet::new();
    if names.is_empty() {
        return Some(found);
    }
    let alternatives: Vec<String> = names.iter().map(|n| regex::escape(n)).collect();
    let Ok(any) = regex::Regex::new(&format!(r"\b(?:{})\b", alternatives.join("|"))) else {
        return None;
    };
    for f in ctx.sources(&draft.dir, MENTION_EXTS) {
        let name = crate::repo::file_name(f);
        // Compose files hand variables to containers; lock files list
        // packages (`clock.py` is neither).
        if name.starts_with("docker-compose")
            || name.starts_with("compose.")
            || name.ends_with(".lock")
            || name.starts_with("pnpm-lock.")
        {
            continue;
        }
        let Some(text) = ctx.read_path(f) else {
            continue;
        };
        for m in any.find_iter(&text) {
            found.insert(m.as_str().to_string());
        }
        if found.len() == names.len() {
            break;
        }
    }
    Some(found)
}

/// An example value a deployment may use as it is: not a credential, not
/// an address on the developer's machine.
pub(super) fn usable_example(key: &str, value: &str) -> bool {
    // A SQLite file URL (`DATABASE_URL=file:dev.db`) holds no credential and
    // points at nothing on the developer's machine.
    if crate::detectors::is_sqlite_file_url(value) {
        return true;
    }
    !looks_secret(key)
        && !value.contains("localhost")
        && !value.contains("127.0.0.1")
        // Every address (a bind host) is fine; a URL to it is the developer's.
        && (value == "0.0.0.0" || !value.contains("0.0.0.0"))
        && value.len() <= 200
}

/// Connection strings to loopback services are development defaults, not leaks.
fn is_local_url(v: &str) -> bool {
    v.contains("@localhost")
        || v.contains("@127.0.0.1")
        || v.contains("://localhost")
        || v.starts_with("sqlite")
        || crate::detectors::is_sqlite_file_url(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::MemRepo;
    use autodeploy_core::{Language, ServiceKind};

    /// The postgres and pgAdmin containers' settings in a `.env` that
    /// docker-compose hands them are not the app's when its scanned code
    /// never reads them (they became empty secret slots that blocked ECS);
    /// a name the code reads keeps its entry.
    #[test]
    fn database_image_settings_the_code_never_reads_are_not_the_apps() {
        let env = "POSTGRES_PASSWORD=password123\nPGADMIN_DEFAULT_PASSWORD=password123\nPOSTGRES_DB=notes\nDATABASE_URL=postgresql://admin:password123@localhost:6500/notes\n";
        let repo = MemRepo::new([(".env", env)]);
        let ctx = Ctx::new(&repo);
        let mut d = Draft::new("", Language::Rust, ServiceKind::Web);
        d.has_manifest = true;
        d.env_var("DATABASE_URL", false, "src/main.rs", 26);
        d.env_var("POSTGRES_DB", true, "src/main.rs", 27);
        apply(&ctx, &mut d);
        let names: Vec<&str> = d.env.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, vec!["DATABASE_URL", "POSTGRES_DB"]);
        // Without a scanned manifest nothing says what the code reads.
        let mut d = Draft::new("", Language::Rust, ServiceKind::Web);
        apply(&ctx, &mut d);
        assert!(d.env.iter().any(|e| e.name == "POSTGRES_PASSWORD"));
    }

    /// nest-awesome-boilerplate: `.env.example` lists third-party keys
    /// empty that no source file mentions (FIREBASE_*): nothing reads them,
    /// so they are optional. Keys the code reads through a getter the scan
    /// does not follow (`this.getString('THROTTLER_TTL')`) keep the
    /// example's meaning: empty is required, a plain value is copied (it is
    /// required, with that value as its example).
    #[test]
    fn example_names_no_source_mentions_are_optional() {
        let example =
            "FIREBASE_PROJECT_ID=\nTHROTTLER_TTL=1m\nJWT_SECRET=\nDOCS_ONLY=yes\nCLOCK_TZ=\n";
        let code = "export class ApiConfigService {\n  get throttler() { return this.getString('THROTTLER_TTL'); }\n  get jwt() { return this.getString('JWT_SECRET'); }\n}\n";
        let repo = MemRepo::new([
            (".env.example", example),
            ("src/api-config.service.ts", code),
            (
                "docker-compose.yml",
                "services:\n  app:\n    environment:\n      DOCS_ONLY: ${DOCS_ONLY}\n",
            ),
            (
                "src/clock.ts",
                "export const tz = () => getString('CLOCK_TZ');\n",
            ),
        ]);
        let ctx = Ctx::new(&repo);
        let mut d = Draft::new("", Language::Javascript, ServiceKind::Web);
        d.has_manifest = true;
        apply(&ctx, &mut d);
        let got: std::collections::BTreeMap<&str, (bool, Option<&str>)> = d
            .env
            .iter()
            .map(|e| (e.name.as_str(), (e.required, e.example.as_deref())))
            .collect();
        assert_eq!(got["FIREBASE_PROJECT_ID"], (false, None));
        assert_eq!(got["DOCS_ONLY"], (false, Some("yes")));
        assert_eq!(got["THROTTLER_TTL"], (true, Some("1m")));
        assert_eq!(got["JWT_SECRET"], (true, None));
        // A source file whose name holds "lock" is still source.
        assert_eq!(got["CLOCK_TZ"], (true, None));
    }

    #[test]
    fn short_values_are_defaults_unless_the_name_is_a_credential() {
        let repo = MemRepo::new([(
            ".env",
            "DEBUG=1\nAPI_KEY=xyz\nSECRET_KEY=changeme\nTOKEN=\n",
        )]);
        let ctx = Ctx::new(&repo);
        let mut d = Draft::new("", Language::Python, ServiceKind::Web);
        apply(&ctx, &mut d);
        let got: Vec<(&str, bool)> = d
            .env
            .iter()
            .map(|e| (e.name.as_str(), e.required))
            .collect();
        assert_eq!(
            got,
            vec![
                ("DEBUG", false),
                ("API_KEY", true),
                ("SECRET_KEY", true),
                ("TOKEN", true)
            ]
        );
        assert!(d.findings.is_empty());
    }

    /// go-grocery documents its settings only as `export` lines of
    /// `build.sh`; a path into the project through `$GOPATH` becomes the
    /// path in the app's folder, a command's output is never taken, and
    /// the script's other lines are not settings.
    #[test]
    fn exported_settings_of_a_build_script() {
        let repo = MemRepo::new([
            (
                "build.sh",
                "#!/usr/bin/env bash\nexport APP_NAME=\"Sessions\"\nexport MIGRATION_FILE_PATH=file://$GOPATH/src/github.com/acme/app/migrations\nexport MAX_DB_CONNECTIONS=15\nexport BUILD_ID=$(git rev-parse HEAD)\nexport HOME_DIR=$HOME/app\nexport SERVICE_TOKEN=\"6D7U6Xh2uRRUxcVRPeSGNfxmVT4tepxuMVC5vLkL2LtLBrDBstrz2qbKuHtZVsPM\"\nFOO=bar\ngo build\n",
            ),
            ("migrations/1_init.up.sql", "create table x (id int);\n"),
            ("main.go", "package main\n"),
        ]);
        let ctx = Ctx::new(&repo);
        let mut d = Draft::new("", Language::Go, ServiceKind::Web);
        for name in [
            "APP_NAME",
            "MIGRATION_FILE_PATH",
            "MAX_DB_CONNECTIONS",
            "BUILD_ID",
            "SERVICE_TOKEN",
        ] {
            d.env_var(name, false, "main.go", 1);
        }
        apply(&ctx, &mut d);
        let example = |n: &str| {
            d.env
                .iter()
                .find(|e| e.name == n)
                .and_then(|e| e.example.clone())
        };
        assert_eq!(example("APP_NAME").as_deref(), Some("Sessions"));
        assert_eq!(
            example("MIGRATION_FILE_PATH").as_deref(),
            Some("file://migrations")
        );
        assert_eq!(example("MAX_DB_CONNECTIONS").as_deref(), Some("15"));
        assert_eq!(example("BUILD_ID"), None);
        assert_eq!(example("SERVICE_TOKEN"), None);
        assert!(d
            .env
            .iter()
            .all(|e| e.name != "FOO" && e.name != "HOME_DIR"));
        assert!(d.findings.is_empty(), "{:?}", d.findings);
    }

    /// A SQLite file URL in the example (`DATABASE_URL=file:dev.db`, the form
    /// libSQL and Prisma's SQLite provider take) is a usable example and no
    /// credential: the database is SQLite; a server URL stays a secret.
    #[test]
    fn a_sqlite_file_url_example_is_a_value_not_a_secret() {
        let repo = MemRepo::new([(
            ".env.example",
            "DATABASE_URL=file:dev.db\nCACHE_URL=redis://cache:6379\nAUTH_TOKEN=abc\n",
        )]);
        let ctx = Ctx::new(&repo);
        let mut d = Draft::new("", Language::Typescript, ServiceKind::Web);
        for name in ["DATABASE_URL", "CACHE_URL", "AUTH_TOKEN"] {
            d.env_var(name, false, "src/env.ts", 1);
        }
        apply(&ctx, &mut d);
        let var = |n: &str| d.env.iter().find(|e| e.name == n).unwrap().clone();
        assert_eq!(var("DATABASE_URL").example.as_deref(), Some("file:dev.db"));
        assert!(!var("DATABASE_URL").secret);
        assert!(var("DATABASE_URL").required);
        assert!(var("AUTH_TOKEN").secret);
        assert_eq!(var("AUTH_TOKEN").example, None);
        assert!(d.databases.contains_key(&autodeploy_core::Database::Sqlite));
    }

    /// Example files under other names (`env-example-relational`, the one
    /// the README says to copy first); a bind-all host and a non-secret
    /// placeholder are usable example values; a secret's never is.
    #[test]
    fn example_files_under_other_names() {
        let repo = MemRepo::new([
            ("env-example-document", "DATABASE_TYPE=mongodb\n"),
            (
                "env-example-relational",
                "DATABASE_TYPE=postgres\nAPI_HOST=0.0.0.0\nJWT_ISSUER=dummy-issuer\nAUTH_JWT_SECRET=secret\nAUTH_JWT_TOKEN_EXPIRES_IN=15m\nBACKEND_URL=http://0.0.0.0:3000\n",
            ),
            ("README.md", "Run `cp env-example-relational .env` first.\n"),
            ("env.js", "module.exports = {}\n"),
        ]);
        let ctx = Ctx::new(&repo);
        let mut d = Draft::new("", Language::Javascript, ServiceKind::Web);
        apply(&ctx, &mut d);
        let example = |n: &str| {
            d.env
                .iter()
                .find(|e| e.name == n)
                .and_then(|e| e.example.clone())
        };
        assert_eq!(example("DATABASE_TYPE").as_deref(), Some("postgres"));
        assert_eq!(example("API_HOST").as_deref(), Some("0.0.0.0"));
        assert_eq!(example("JWT_ISSUER").as_deref(), Some("dummy-issuer"));
        assert_eq!(example("AUTH_JWT_TOKEN_EXPIRES_IN").as_deref(), Some("15m"));
        assert_eq!(example("AUTH_JWT_SECRET"), None);
        assert_eq!(example("BACKEND_URL"), None);
    }
}
