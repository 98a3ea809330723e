//! What a Go source file says besides its listeners: the environment variables
//! it reads (`os.Getenv` with or without a fallback, `os.LookupEnv`, env
//! helpers with a default, `env:"…"` struct tags of caarlos0/env-style
//! libraries) and the databases it connects to (URL literals, `sql.Open`
//! driver names, gorm dialects).
//!
//! Not here: databases from go.mod (see [`super::DB_DEPS`]).

use super::expr::{self, assignment_rhs, GoFile};
use crate::detectors::database_of_url;
use crate::draft::{ev, Draft};
use crate::scan::{each_match, line_text};
use autodeploy_core::Database;
use regex::Regex;
use std::sync::LazyLock;

const SQL_DRIVERS: &[(&str, Database)] = &[
    ("postgres", Database::Postgresql),
    ("pgx", Database::Postgresql),
    ("mysql", Database::Mysql),
    ("sqlite3", Database::Sqlite),
    ("sqlite", Database::Sqlite),
];

static GETENV: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"\bos\.Getenv\(\s*"([A-Za-z_][A-Za-z0-9_]*)"\s*\)"#).expect("regex")
});

static LOOKUPENV: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"\bos\.LookupEnv\(\s*"([A-Za-z_][A-Za-z0-9_]*)"\s*\)"#).expect("regex")
});

static HELPER_ENV: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"\b([A-Za-z_][\w.]*)\(\s*"([A-Z_][A-Z0-9_]*)"\s*(,|\))"#)
        .expect("regex")
});

static ENV_TAG: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"`[^`\n]*\benv:"([A-Z_][A-Z0-9_]*)((?:,[^",`\n]*)*)"[^`\n]*`"#)
        .expect("regex")
});

static ENV_DEFAULT_TAG: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r#"\benvDefault:"([^"]*)""#).expect("regex"));

static DB_URL_LITERAL: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r#"["`]((?:postgres(?:ql)?|mysql|mongodb(?:\+srv)?|rediss?)://[^"`]*)["`]"#,
    )
    .expect("regex")
});

static SQL_OPEN: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r#"\b(?:sql|sqlx|gorm)\.(?:Open|Connect|MustConnect)\s*\(\s*"(\w+)"|"github\.com/jinzhu/gorm/dialects/(\w+)""#,
    )
    .expect("regex")
});

/// A table entry of settings keyed by their variable's name
/// (`"RUN_MIGRATIONS": {`, miniflux's `internal/config/options.go`).
static SETTINGS_KEY: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"(?m)^\s*"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)"\s*:\s*\{"#).expect("regex")
});

/// A package that parses the whole environment (`os.Environ()`) reads the
/// settings its table names, each with the table's default: the keys of
/// map entries in its folder (`"DATABASE_URL": {…}`) are optional
/// variables, as if each were read by name.
pub(super) fn settings_table(
    ctx: &crate::ctx::Ctx,
    web: &mut Draft,
    folder: &str,
    sources: &[&str],
) {
    for file in sources
        .iter()
        .filter(|f| crate::repo::parent(f) == folder && !f.ends_with("_test.go"))
    {
        let Some(text) = ctx.read_path(file) else {
            continue;
        };
        each_match(&text, &SETTINGS_KEY, |line, c| {
            web.env_var(&c[1], true, file, line);
        });
    }
}

/// The prefix a struct-tag library adds to every tag's name
/// (`envconfig.PrefixLookuper("SHIORI_", …)`, caarlos0/env's
/// `env.Options{Prefix: "APP_"}`), when a source of the module sets one.
pub(super) fn tag_prefix(ctx: &crate::ctx::Ctx, sources: &[&str]) -> Option<String> {
    sources.iter().find_map(|f| {
        let text = ctx.read_path(f)?;
        if !text.contains("Prefix") {
            return None;
        }
        TAG_PREFIX
            .captures(&text)
            .and_then(|c| c.get(1).or_else(|| c.get(2)))
            .map(|m| m.as_str().to_string())
    })
}

static TAG_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r#"\bPrefixLookuper\(\s*"([A-Za-z0-9_]+)"|\benv\.Options\s*\{[^}]*\bPrefix\s*:\s*"([A-Za-z0-9_]+)""#,
    )
    .expect("regex")
});

pub(super) fn scan_env(
    web: &mut Draft,
    file: &str,
    text: &str,
    env_tags: bool,
    prefix: Option<&str>,
) {
    let go = GoFile::new(text);
    each_match(text, &GETENV, |line, c| {
        let name = &c[1];
        let full = go.line(line);
        let code = full.trim_start();
        let call = c.get(0).map(|m| m.as_str()).unwrap_or("");
        let checked = code.starts_with("if ")
            || code.starts_with("} else if ")
            || code.starts_with("switch ")
            || code.starts_with("case ")
            || full.contains(&format!("{call} == \"\""))
            || full.contains(&format!("{call} != \"\""))
            || full.contains("cmp.Or(")
            || full.contains("flag.");
        let fallback = !checked
            && assigned_ident(full, call).is_some_and(|ident| go.fallback(&ident, line).is_some());
        web.env_var(
            name,
            checked || fallback || empty_is_a_setting(name),
            file,
            line,
        );
    });
    each_match(text, &LOOKUPENV, |line, c| {
        let call = c.get(0).map(|m| m.as_str()).unwrap_or("");
        let fatal = lookup_is_fatal(text, go.line(line), call, line);
        web.env_var(&c[1], !fatal, file, line)
    });
    each_match(text, &HELPER_ENV, |line, c| {
        let name = &c[1];
        if !expr::is_env_helper(name) {
            return;
        }
        let lower = name.to_ascii_lowercase();
        if &c[3] == "," {
            web.env_var(&c[2], true, file, line);
        } else if lower.contains("must") || lower.contains("require") {
            web.env_var(&c[2], false, file, line);
        }
    });
    if !env_tags {
        return;
    }
    each_match(text, &ENV_TAG, |line, c| {
        let tag = c.get(0).map(|m| m.as_str()).unwrap_or("");
        let opts = &c[2];
        let required = opts.contains(",required") || opts.contains(",notEmpty");
        let has_default = ENV_DEFAULT_TAG.is_match(tag) || opts.contains(",default=");
        // A key the code hands the lookup itself (`envconfig.MapLookuper(
        // map[string]string{"HOSTNAME": os.Getenv("HOSTNAME")})`) is given.
        let given = text.contains("MapLookuper") && text.contains(&format!("\"{}\":", &c[1]));
        let name = format!("{}{}", prefix.unwrap_or(""), &c[1]);
        web.env_var(&name, has_default || !required || given, file, line);
    });
}

/// A prefix or sub-path read bare: Go's empty string is its own setting
/// ("no prefix"), so the variable is optional, and an example file's value
/// (`HOST_PREFIX=/qledger`) is a hosting choice that would move every route,
/// not a value the app needs to start.
fn empty_is_a_setting(name: &str) -> bool {
    name.ends_with("PREFIX")
        || name.ends_with("BASE_PATH")
        || name.ends_with("ROOT_PATH")
        || name.ends_with("SUBPATH")
        || name.ends_with("SUB_PATH")
}

/// `port := os.Getenv("PORT")` → `port`.
fn assigned_ident(line: &str, call: &str) -> Option<String> {
    let code = expr::strip_comment(line).trim_start();
    let code = code.strip_prefix("var ").unwrap_or(code);
    let ident: String = code
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if ident.is_empty() {
        return None;
    }
    let rhs = assignment_rhs(line, &ident)?;
    rhs.trim_start().starts_with(call).then_some(ident)
}

pub(super) fn scan_databases(web: &mut Draft, file: &str, text: &str) {
    each_match(text, &DB_URL_LITERAL, |line, c| {
        if let Some(db) = database_of_url(&c[1]) {
            web.database(
                db,
                ev(file, Some(line), format!("{} connection URL", db.as_str())),
            );
        }
    });
    each_match(text, &SQL_OPEN, |line, c| {
        let Some(driver) = c.get(1).or(c.get(2)).map(|m| m.as_str()) else {
            return;
        };
        if let Some((_, db)) = SQL_DRIVERS.iter().find(|(n, _)| *n == driver) {
            web.database(*db, ev(file, Some(line), line_text(text, line)));
        }
    });
}

/// `token, ok := os.LookupEnv("X")` followed by `if !ok {` whose block
/// stops the program (`log.Fatal…`, `panic(`, `os.Exit(`) without giving a
/// value: the setting is required.
fn lookup_is_fatal(text: &str, full: &str, call: &str, line: u32) -> bool {
    let Some(before) = full.split(call).next() else {
        return false;
    };
    let Some(ok) = before
        .trim_end()
        .trim_end_matches(":=")
        .trim_end_matches('=')
        .trim_end()
        .rsplit(',')
        .next()
        .map(str::trim)
        .filter(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    else {
        return false;
    };
    let mut lines = text.lines().skip(line as usize);
    let Some(next) = lines.by_ref().take(3).find(|l| !l.trim().is_empty()) else {
        return false;
    };
    // `if !ok {`, or `if !ok || token == "" {`.
    let Some(rest) = next.trim().strip_prefix(&format!("if !{ok}")) else {
        return false;
    };
    if !(rest.trim() == "{" || rest.trim_start().starts_with("||")) || !rest.ends_with('{') {
        return false;
    }
    for l in lines.take(6) {
        let l = l.trim();
        if l == "}" || l.contains(" = ") {
            return false;
        }
        if l.contains("log.Fatal") || l.starts_with("panic(") || l.contains("os.Exit(") {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod lookup_tests {
    #[test]
    fn a_lookup_whose_absence_stops_the_program_is_required() {
        let fatal = "func main() {\n\ttoken, ok := os.LookupEnv(\"TOKEN\")\n\tif !ok {\n\t\tlog.Fatal(\"set TOKEN\")\n\t}\n}\n";
        assert!(super::lookup_is_fatal(
            fatal,
            "\ttoken, ok := os.LookupEnv(\"TOKEN\")",
            "os.LookupEnv(\"TOKEN\")",
            2
        ));
        let or_empty = fatal.replace("if !ok {", "if !ok || token == \"\" {");
        assert!(super::lookup_is_fatal(
            &or_empty,
            "\ttoken, ok := os.LookupEnv(\"TOKEN\")",
            "os.LookupEnv(\"TOKEN\")",
            2
        ));
        let defaulted = "func main() {\n\tport, ok := os.LookupEnv(\"PORT\")\n\tif !ok {\n\t\tport = \"4000\"\n\t}\n}\n";
        assert!(!super::lookup_is_fatal(
            defaulted,
            "\tport, ok := os.LookupEnv(\"PORT\")",
            "os.LookupEnv(\"PORT\")",
            2
        ));
    }
}
