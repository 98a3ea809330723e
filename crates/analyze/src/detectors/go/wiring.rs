//! Go's wiring table: how `database/sql` and sqlx (`sql.Open("postgres", …)`,
//! `"mysql"`), gorm (v2 `postgres.Open`/`mysql.Open`, v1 `gorm.Open("…", …)`),
//! pgx / pgxpool, the MongoDB driver (`ApplyURI`) and go-redis
//! (`redis.Options{Addr, Password}`, `redis.ParseURL`) find their database
//! and cache — as rows ([`SITES`]) turned into settings with formats by the
//! shared engine (`crate::wiring`).
//!
//! Names come from `os.Getenv` / `os.LookupEnv`, env helpers with a default
//! (`getEnv("DB_HOST", "localhost")`), struct tags of env libraries
//! (`env:"DATABASE_URL"`), names bound to those (`dsn := os.Getenv(…)`,
//! `DBHost: getEnv(…)` in a config literal), and DSNs assembled with
//! `fmt.Sprintf` from parts — a URL, libpq's `host=%s port=%s …`, or the
//! MySQL driver's `%s:%s@tcp(%s:%s)/%s`, whose whole-value form is
//! [`SettingFormat::MysqlDsn`], not a URL.
//!
//! Not here: databases from go.mod (`mod.rs`) or from code (`scan.rs`).

use super::expr::is_env_helper;
use crate::ctx::Ctx;
use crate::draft::Draft;
use crate::scan::{line_of, regex};
use crate::wiring::{
    bracketed, scan_sites, split_top, unquote, EnvRef, KeyTable, Lang, Resolver, Shape, Site,
    CACHE_KEYS, DB_KEYS,
};
use autodeploy_core::{Database, SettingFormat as F, Wiring, WiringTarget as T};
use regex::Regex;
use std::sync::LazyLock;

const PG: &[Database] = &[Database::Postgresql];
const MY: &[Database] = &[Database::Mysql];
const MONGO: &[Database] = &[Database::Mongodb];
const REDIS: &[Database] = &[Database::Redis];
const DSN_KEYS: KeyTable = &[("dsn", F::Url)];

const fn arg(pos: usize, format: F) -> Shape {
    Shape::Arg {
        pos,
        kw: &[],
        format,
    }
}

/// Where Go code connects. One row per convention and driver.
const SITES: &[Site] = &[
    Site::new(
        "go-sql-open",
        T::Database,
        "Open",
        r#"\b(?:sql|sqlx)\.(?:Open|Connect|MustConnect|MustOpen)\s*\(\s*"(?:postgres|pgx|pgx/v5|postgresql)""#,
        arg(1, F::Url),
        PG,
        DB_KEYS,
    ),
    Site::new(
        "go-sql-open",
        T::Database,
        "Open",
        r#"\b(?:sql|sqlx)\.(?:Open|Connect|MustConnect|MustOpen)\s*\(\s*"mysql""#,
        arg(1, F::MysqlDsn),
        MY,
        DB_KEYS,
    ),
    Site::new(
        "gorm-postgres",
        T::Database,
        "postgres.",
        r"\bpostgres\.Open\s*\(",
        arg(0, F::Url),
        PG,
        DB_KEYS,
    ),
    Site::new(
        "gorm-postgres",
        T::Database,
        "postgres.Config",
        r"\bpostgres\.Config\s*\{",
        Shape::Keys {
            positional: &[],
            nested: &[],
        },
        PG,
        DSN_KEYS,
    ),
    Site::new(
        "gorm-mysql",
        T::Database,
        "mysql.Open",
        r"\bmysql\.Open\s*\(",
        arg(0, F::MysqlDsn),
        MY,
        DB_KEYS,
    ),
    Site::new(
        "gorm-v1",
        T::Database,
        "gorm.Open",
        r#"\bgorm\.Open\s*\(\s*"postgres""#,
        arg(1, F::Url),
        PG,
        DB_KEYS,
    ),
    Site::new(
        "gorm-v1",
        T::Database,
        "gorm.Open",
        r#"\bgorm\.Open\s*\(\s*"mysql""#,
        arg(1, F::MysqlDsn),
        MY,
        DB_KEYS,
    ),
    Site::new(
        "pgx",
        T::Database,
        "pgx",
        r"\bpgx(?:pool)?\.(?:New|Connect)\s*\(",
        arg(1, F::Url),
        PG,
        DB_KEYS,
    ),
    Site::new(
        "pgx",
        T::Database,
        "pgx",
        r"\bpgx(?:pool)?\.ParseConfig\s*\(",
        arg(0, F::Url),
        PG,
        DB_KEYS,
    ),
    Site::new(
        "mongo-driver",
        T::Database,
        "ApplyURI",
        r"\bApplyURI\s*\(",
        arg(0, F::Url),
        MONGO,
        DB_KEYS,
    ),
    Site::new(
        "go-redis",
        T::Cache,
        "redis.Options",
        r"\bredis\.Options\s*\{",
        Shape::Keys {
            positional: &[],
            nested: &[],
        },
        REDIS,
        CACHE_KEYS,
    ),
    Site::new(
        "go-redis",
        T::Cache,
        "ParseURL",
        r"\bredis\.ParseURL\s*\(",
        arg(0, F::Url),
        REDIS,
        CACHE_KEYS,
    ),
];

/// Go's expression syntax for wiring.
pub(super) struct Go;

static ENV_CALL: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"\b([A-Za-z_][\w.]*)\(\s*"([A-Za-z_][A-Za-z0-9_]*)"\s*(,|\))"#));

impl Lang for Go {
    fn env_reads(&self, expr: &str) -> Vec<EnvRef> {
        let mut out: Vec<EnvRef> = Vec::new();
        for c in ENV_CALL.captures_iter(expr) {
            let callee = &c[1];
            if callee != "os.Getenv" && callee != "os.LookupEnv" && !is_env_helper(callee) {
                continue;
            }
            let default = if &c[3] == "," {
                let open = c.get(0).map_or(0, |m| m.start()) + callee.len();
                bracketed(expr, open)
                    .map(split_top)
                    .and_then(|a| a.get(1).map(|d| d.to_string()))
            } else {
                None
            };
            if !out.iter().any(|e| e.name == c[2]) {
                out.push(EnvRef {
                    name: c[2].to_string(),
                    default,
                    at: None,
                });
            }
        }
        out
    }

    fn template(&self, expr: &str) -> Option<(String, Vec<String>)> {
        let e = expr.trim();
        if let Some(rest) = e.strip_prefix("fmt.Sprintf") {
            let args = split_top(bracketed(rest, rest.find('(')?)?);
            let body = unquote(args.first()?)?;
            return Some(crate::wiring::percent(body, &args[1..]));
        }
        crate::wiring::concat(e, '+')
    }
}

static BIND_ASSIGN: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(?m)^[ \t]*(?:var\s+)?([A-Za-z_]\w*)(?:\s*,\s*\w+)?\s*(?::=|=)[ \t]*")
});
static BIND_KEY: LazyLock<Regex> = LazyLock::new(|| regex(r"(?m)^[ \t]*([A-Z]\w*)\s*:[ \t]*"));
static ENV_TAG_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"(?m)^[ \t]*([A-Z]\w*)\s+[\w.\[\]*]+\s+`[^`\n]*\benv:"([A-Z_][A-Z0-9_]*)[^"]*"[^`\n]*`"#,
    )
});
static ENV_DEFAULT_TAG: LazyLock<Regex> = LazyLock::new(|| regex(r#"\benvDefault:"([^"]*)""#));

static STRUCT_TYPE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?m)^type\s+([A-Z]?\w*)\s+struct\s*\{"));
static COMPOSITE: LazyLock<Regex> = LazyLock::new(|| regex(r"&?\b(?:\w+\.)?([A-Za-z_]\w*)\s*\{"));

/// Field names of the structs defined in `text`, in order (`A, B string` is two).
fn struct_fields(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for c in STRUCT_TYPE.captures_iter(text) {
        let open = c.get(0).map_or(0, |m| m.end() - 1);
        let Some(body) = bracketed(text, open) else {
            continue;
        };
        let mut fields = Vec::new();
        for line in body.lines() {
            let code = line.split("//").next().unwrap_or("");
            let code = code.split('`').next().unwrap_or("").trim();
            let tokens: Vec<&str> = code.split_whitespace().collect();
            match tokens.len() {
                0 => {}
                // An embedded type takes a position too.
                1 => fields.push(String::new()),
                _ => {
                    // `A, B string`: names up to the one not followed by a comma.
                    for t in &tokens {
                        fields.push(t.trim_end_matches(',').to_string());
                        if !t.ends_with(',') {
                            break;
                        }
                    }
                }
            }
        }
        out.push((c[1].to_string(), fields));
    }
    out
}

/// Add the module's wiring to `web`.
pub(super) fn scan(ctx: &Ctx, web: &mut Draft, sources: &[&str]) {
    let lang = Go;
    let mut resolver = Resolver::new(&lang);
    resolver.known = web.env.iter().map(|e| e.name.clone()).collect();
    let texts: Vec<(&str, String)> = sources
        .iter()
        .filter_map(|f| {
            ctx.read_path(f)
                .map(|t| (*f, crate::wiring::mask_c_comments(&t)))
        })
        .collect();
    for (file, text) in &texts {
        for c in ENV_TAG_FIELD.captures_iter(text) {
            let at = c.get(0).map_or(0, |m| m.start());
            let line = line_of(text, at);
            let default = ENV_DEFAULT_TAG
                .captures(c.get(0).map_or("", |m| m.as_str()))
                .map(|d| d[1].to_string());
            let note = crate::wiring::note(text, line);
            resolver.bind_env(
                &c[1],
                EnvRef {
                    name: c[2].to_string(),
                    default,
                    at: None,
                },
                file,
                line,
                &note,
            );
        }
    }
    // Struct literals without keys (`&Env{os.Getenv("PG_USER"), …}`): the
    // values fill the fields in the order the struct declares them.
    let structs: Vec<(String, Vec<String>)> =
        texts.iter().flat_map(|(_, t)| struct_fields(t)).collect();
    for (file, text) in &texts {
        for c in COMPOSITE.captures_iter(text) {
            let Some((_, fields)) = structs.iter().find(|(n, _)| *n == c[1]) else {
                continue;
            };
            let whole = c.get(0).expect("match");
            let Some(body) = bracketed(text, whole.end() - 1) else {
                continue;
            };
            let values = split_top(body);
            if values.len() != fields.len()
                || values.iter().any(|v| {
                    crate::wiring::key_value(v).is_some_and(|(k, _)| crate::draft::is_env_name(k))
                })
            {
                continue;
            }
            for (field, value) in fields.iter().zip(&values) {
                if field.is_empty() {
                    continue;
                }
                let at = (value.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
                resolver.bind(field, value, file, text, at);
            }
        }
    }
    let mut candidates = Vec::new();
    for (file, text) in &texts {
        crate::wiring::assignments(
            file,
            text,
            &[&*BIND_ASSIGN, &*BIND_KEY],
            &['='],
            &mut candidates,
        );
    }
    resolver.bind_all(candidates);
    let mut found: Vec<Wiring> = Vec::new();
    for (file, text) in &texts {
        scan_sites(text, file, SITES, &resolver, &mut found);
    }
    for w in found {
        web.wire(w);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::MemRepo;
    use autodeploy_core::{Language, ServiceKind};

    fn wiring(files: &[(&str, &str)]) -> Vec<Wiring> {
        let repo = MemRepo::new(files.iter().copied());
        let ctx = Ctx::new(&repo);
        let mut d = Draft::new("", Language::Go, ServiceKind::Web);
        let sources: Vec<&str> = files.iter().map(|(f, _)| *f).collect();
        scan(&ctx, &mut d, &sources);
        d.wiring
    }

    fn names(w: &Wiring) -> Vec<(String, &'static str)> {
        w.settings
            .iter()
            .map(|s| (s.name.clone(), s.format.as_str()))
            .collect()
    }

    #[test]
    fn sprintf_dsn_from_config_struct() {
        let w = wiring(&[
            (
                "config/config.go",
                "package config\n\nfunc Load() *Config {\n\treturn &Config{\n\t\tDBHost:     getEnv(\"DB_HOST\", \"localhost\"),\n\t\tDBUser:     getEnv(\"DB_USER\", \"postgres\"),\n\t\tDBPassword: os.Getenv(\"DB_PASSWORD\"),\n\t\tDBName:     getEnv(\"DB_NAME\", \"app\"),\n\t\tDBPort:     getEnv(\"DB_PORT\", \"5432\"),\n\t}\n}\n",
            ),
            (
                "db/db.go",
                "package db\n\nfunc Open(cfg *config.Config) (*gorm.DB, error) {\n\tdsn := fmt.Sprintf(\"host=%s user=%s password=%s dbname=%s port=%s sslmode=disable\",\n\t\tcfg.DBHost, cfg.DBUser, cfg.DBPassword, cfg.DBName, cfg.DBPort)\n\treturn gorm.Open(postgres.Open(dsn), &gorm.Config{})\n}\n",
            ),
        ]);
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].convention, "gorm-postgres");
        assert_eq!(
            names(&w[0]),
            vec![
                ("DB_HOST".into(), "host"),
                ("DB_USER".into(), "username"),
                ("DB_PASSWORD".into(), "password"),
                ("DB_NAME".into(), "name"),
                ("DB_PORT".into(), "port"),
            ]
        );
        assert_eq!(w[0].settings[0].evidence.file, "config/config.go");
    }

    #[test]
    fn mysql_dsn_whole_and_parts() {
        let w = wiring(&[(
            "main.go",
            "package main\n\nfunc main() {\n\tdb, err := sql.Open(\"mysql\", os.Getenv(\"MYSQL_DSN\"))\n\tuser := os.Getenv(\"MYSQL_USER\")\n\tdsn := fmt.Sprintf(\"%s:%s@tcp(%s:%s)/%s?parseTime=true\", user, os.Getenv(\"MYSQL_PASSWORD\"), os.Getenv(\"MYSQL_HOST\"), os.Getenv(\"MYSQL_PORT\"), os.Getenv(\"MYSQL_DATABASE\"))\n\tgdb, _ := gorm.Open(mysql.Open(dsn), &gorm.Config{})\n\trdb := redis.NewClient(&redis.Options{Addr: os.Getenv(\"REDIS_ADDR\"), Password: os.Getenv(\"REDIS_PASSWORD\")})\n}\n",
        )]);
        let whole = w.iter().find(|w| w.convention == "go-sql-open").unwrap();
        assert_eq!(names(whole), vec![("MYSQL_DSN".into(), "mysql_dsn")]);
        let parts = w.iter().find(|w| w.convention == "gorm-mysql").unwrap();
        assert_eq!(
            names(parts),
            vec![
                ("MYSQL_USER".into(), "username"),
                ("MYSQL_PASSWORD".into(), "password"),
                ("MYSQL_HOST".into(), "host"),
                ("MYSQL_PORT".into(), "port"),
                ("MYSQL_DATABASE".into(), "name"),
            ]
        );
        let redis = w.iter().find(|w| w.target == T::Cache).unwrap();
        assert_eq!(
            names(redis),
            vec![
                ("REDIS_ADDR".into(), "address"),
                ("REDIS_PASSWORD".into(), "password")
            ]
        );
    }

    #[test]
    fn positional_struct_literals() {
        let w = wiring(&[
            (
                "internal/util/env.go",
                "package util\n\ntype Env struct {\n\tCrudApiPort string\n\n\tPgUser     string\n\tPgPassword string\n\tPgHost, PgPort string\n}\n\nfunc NewEnv() *Env {\n\treturn &Env{\n\t\tos.Getenv(\"CRUD_API_PORT\"),\n\t\tos.Getenv(\"PG_USER\"),\n\t\tos.Getenv(\"PG_PASSWORD\"),\n\t\tos.Getenv(\"PG_HOST\"),\n\t\tos.Getenv(\"PG_PORT\"),\n\t}\n}\n",
            ),
            (
                "internal/util/postgres.go",
                "package util\n\nfunc NewPostgres(env *Env) *sql.DB {\n\tfile := fmt.Sprintf(\"postgres://%s:%s@%s:%s/postgres?sslmode=disable\", env.PgUser, env.PgPassword, env.PgHost, env.PgPort)\n\tdb, _ := sql.Open(\"postgres\", file)\n\treturn db\n}\n",
            ),
        ]);
        assert_eq!(
            names(&w[0]),
            vec![
                ("PG_USER".into(), "username"),
                ("PG_PASSWORD".into(), "password"),
                ("PG_HOST".into(), "host"),
                ("PG_PORT".into(), "port"),
            ]
        );
    }

    #[test]
    fn env_struct_tags_and_pgx() {
        let w = wiring(&[(
            "main.go",
            "package main\n\ntype Config struct {\n\tDatabaseURL string `env:\"DATABASE_URL,required\"`\n}\n\nfunc main() {\n\tpool, err := pgxpool.New(ctx, cfg.DatabaseURL)\n}\n",
        )]);
        assert_eq!(names(&w[0]), vec![("DATABASE_URL".into(), "url")]);
        assert_eq!(w[0].settings[0].evidence.line, Some(4));
    }
}
