//! Migration tools that a Rust project's release step runs and `cargo build`
//! does not install: one row per tool, read by every target that provides
//! it (the local runner installs it once per home, the rendered image builds
//! it in its build stage, the VM installs it at boot).
//!
//! The analysis makes the release step (`diesel migration run`, `sqlx migrate
//! run`) when the code does not embed its migrations; this table says which
//! crate provides the program and how to build it for the service's
//! database.

use crate::Database;

/// A migration CLI installed with `cargo install`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CargoCli {
    /// The program the release step runs.
    pub program: &'static str,
    /// The crate that provides it.
    pub krate: &'static str,
    /// The library whose CLI it is (its migrations' format): the CLI is
    /// installed from the line of the library the project locks.
    pub library: &'static str,
    /// Features besides the backend (sqlx-cli's TLS for a remote database).
    pub base_features: &'static [&'static str],
    /// The release line whose own lock builds with Ubuntu 24.04's Rust 1.75
    /// (the VM's distribution compiler); newer ones need a newer Rust.
    pub vm_version: &'static str,
}

/// Every tool a release step can need.
pub const CARGO_CLIS: &[CargoCli] = &[
    CargoCli {
        program: "diesel",
        krate: "diesel_cli",
        library: "diesel",
        base_features: &[],
        vm_version: "~2.1",
    },
    CargoCli {
        program: "sqlx",
        krate: "sqlx-cli",
        library: "sqlx",
        base_features: &["rustls"],
        vm_version: "~0.7.4",
    },
];

impl CargoCli {
    /// The tool a command runs (its first program, after any `NAME=value`
    /// assignments), when it is one of the table's.
    pub fn for_command(cmd: &str) -> Option<&'static CargoCli> {
        let program = cmd
            .split_whitespace()
            .find(|w| !w.contains('=') || w.starts_with('-'))?;
        CARGO_CLIS.iter().find(|c| c.program == program)
    }

    /// The backend feature for the service's databases: MySQL or SQLite
    /// when that is the one SQL database it uses, else PostgreSQL.
    pub fn backend(databases: &[Database]) -> &'static str {
        let has = |d: Database| databases.contains(&d);
        match (
            has(Database::Postgresql),
            has(Database::Mysql),
            has(Database::Sqlite),
        ) {
            (false, true, _) => "mysql",
            (false, false, true) => "sqlite",
            _ => "postgres",
        }
    }

    /// The `--version` requirement for a project that locks its library at
    /// `locked` (`0.7.3` → `~0.7`, `2.1.4` → `~2.1`): the same line, whose
    /// CLI reads its migrations and builds with the Rust of that time (the
    /// newest sqlx-cli needs a newer rustc than a 2023 project's image).
    pub fn line_of(locked: &str) -> Option<String> {
        let mut parts = locked.split(['.', '-', '+']);
        let (major, minor) = (parts.next()?, parts.next()?);
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        (digits(major) && digits(minor)).then(|| format!("~{major}.{minor}"))
    }

    /// [`install_args`](Self::install_args) with `--version` from the
    /// project's locked library (`locked`), when it has one.
    pub fn install_args_locked(&self, backend: &str, locked: Option<&str>) -> String {
        match locked.and_then(Self::line_of) {
            Some(line) => format!("{} --version '{line}'", self.install_args(backend)),
            None => self.install_args(backend),
        }
    }

    /// `cargo install` arguments (without `--root`/`--version`) for `backend`.
    pub fn install_args(&self, backend: &str) -> String {
        let mut features: Vec<&str> = self.base_features.to_vec();
        features.push(backend);
        format!(
            "{} --locked --no-default-features --features {}",
            self.krate,
            features.join(",")
        )
    }
}

/// sqlx's checked-query macros: a build compiling one connects to
/// `DATABASE_URL` to check the query, unless the project commits sqlx's
/// offline data (`.sqlx/`, `sqlx-data.json`).
pub const SQLX_CHECKED_QUERIES: [&str; 5] = [
    "query!(",
    "query_as!(",
    "query_scalar!(",
    "query_file!(",
    "query_file_as!(",
];

/// The folder a `sqlx::migrate!("…")` in `text` names (no trailing `/`).
pub fn sqlx_migrate_folder(text: &str) -> Option<&str> {
    let at = text.find("migrate!(\"")?;
    let rest = &text[at + "migrate!(\"".len()..];
    rest.split_once('"').map(|(p, _)| p.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_names_the_tool_and_the_databases_its_backend() {
        let d = CargoCli::for_command("diesel migration run").unwrap();
        assert_eq!(d.krate, "diesel_cli");
        let s = CargoCli::for_command("SQLX_OFFLINE=true sqlx migrate run").unwrap();
        assert_eq!(
            s.install_args(CargoCli::backend(&[Database::Mysql])),
            "sqlx-cli --locked --no-default-features --features rustls,mysql"
        );
        assert_eq!(
            d.install_args(CargoCli::backend(&[Database::Sqlite, Database::Redis])),
            "diesel_cli --locked --no-default-features --features sqlite"
        );
        assert_eq!(CargoCli::backend(&[]), "postgres");
        assert_eq!(
            CargoCli::backend(&[Database::Postgresql, Database::Sqlite]),
            "postgres"
        );
        assert!(CargoCli::for_command("python manage.py migrate").is_none());
    }

    #[test]
    fn the_cli_comes_from_the_line_the_project_locks() {
        let s = CargoCli::for_command("sqlx migrate run").unwrap();
        assert_eq!(
            s.install_args_locked("postgres", Some("0.7.3")),
            "sqlx-cli --locked --no-default-features --features rustls,postgres --version '~0.7'"
        );
        assert_eq!(
            s.install_args_locked("postgres", None),
            s.install_args("postgres")
        );
        assert_eq!(CargoCli::line_of("2.1.4"), Some("~2.1".into()));
        assert_eq!(CargoCli::line_of("0.8.0-alpha.1"), Some("~0.8".into()));
        assert_eq!(CargoCli::line_of("x; rm -rf /"), None);
        assert_eq!(CargoCli::line_of("1"), None);
    }
}
