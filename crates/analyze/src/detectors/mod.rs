//! The detector registry: one detector per ecosystem, each in its own module
//! (frameworks of an ecosystem are rows of that module's table, or files in its
//! folder). Adding an ecosystem = one module here + one line in [`all`] + fixtures.
//!
//! Detectors are pure: they read through [`Ctx`] and return drafts. They never
//! decide between each other — every draft goes to `resolve`, which weighs them.

use crate::ctx::Ctx;
use crate::draft::Draft;
use autodeploy_core::Database;

pub mod dockerfile_only;
pub mod dotnet;
pub mod elixir;
pub mod go;
pub mod jvm;
pub mod node;
pub mod php;
pub mod python;
pub mod ruby;
pub mod rust;
pub mod static_site;

/// One ecosystem's detector.
pub trait Detector: Sync {
    /// Short name, for evidence and debugging.
    fn name(&self) -> &'static str;
    /// File names whose presence in a folder makes the folder worth asking this
    /// detector about. An entry starting with `*` matches a suffix (`*.csproj`).
    fn markers(&self) -> &'static [&'static str];
    /// Drafts for the app(s) rooted at `dir` (`""` is the repository root).
    fn detect(&self, ctx: &Ctx, dir: &str) -> Vec<Draft>;
}

/// Every detector, in no particular order (order never decides anything).
pub fn all() -> Vec<&'static dyn Detector> {
    vec![
        &python::Python,
        &node::Node,
        &go::Go,
        &rust::Rust,
        &jvm::Jvm,
        &ruby::Ruby,
        &php::Php,
        &dotnet::Dotnet,
        &elixir::Elixir,
        &static_site::StaticSite,
        &dockerfile_only::DockerfileOnly,
    ]
}

/// True when file `name` matches a marker (`*.csproj` matches by suffix).
pub fn marker_matches(marker: &str, name: &str) -> bool {
    match marker.strip_prefix('*') {
        Some(suffix) => name.ends_with(suffix),
        None => marker == name,
    }
}

/// The database or cache a connection URL points at (`postgres://…` → postgresql).
pub fn database_of_url(url: &str) -> Option<Database> {
    if is_sqlite_file_url(url) {
        return Some(Database::Sqlite);
    }
    let scheme = url.trim().split("://").next()?.to_ascii_lowercase();
    if scheme.len() == url.trim().len() {
        return None;
    }
    Some(match scheme.split('+').next().unwrap_or(&scheme) {
        "postgres" | "postgresql" | "pgsql" | "jdbc:postgresql" => Database::Postgresql,
        "mysql" | "mariadb" | "jdbc:mysql" | "jdbc:mariadb" => Database::Mysql,
        "mongodb" => Database::Mongodb,
        "redis" | "rediss" => Database::Redis,
        "sqlite" | "sqlite3" => Database::Sqlite,
        _ => return None,
    })
}

/// A `file:` URL naming a SQLite file (`file:dev.db`, `file:./data/app.sqlite`,
/// `file:///var/app.db`): the form libSQL and Prisma's SQLite provider take.
/// It holds no credential and needs no server.
pub fn is_sqlite_file_url(url: &str) -> bool {
    let u = url.trim();
    let Some(rest) = u
        .get(..5)
        .filter(|p| p.eq_ignore_ascii_case("file:"))
        .map(|_| &u[5..])
    else {
        return false;
    };
    let path = rest
        .split(['?', '#'])
        .next()
        .unwrap_or(rest)
        .to_ascii_lowercase();
    !path.contains(['$', '{', '}', ' '])
        && [".db", ".sqlite", ".sqlite3", ".db3"]
            .iter()
            .any(|ext| path.ends_with(ext) && path.len() > ext.len())
}

/// Map declared dependency names to databases through a table of
/// `(dependency, database)` rows. Returns each hit with the dependency name.
pub fn databases_from_deps<'a, I>(deps: I, table: &[(&str, Database)]) -> Vec<(Database, String)>
where
    I: IntoIterator<Item = &'a str>,
{
    let mut out = Vec::new();
    for dep in deps {
        let d = dep.to_ascii_lowercase();
        for (name, db) in table {
            if d == *name {
                out.push((*db, dep.to_string()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            database_of_url("postgres://u:p@h/db"),
            Some(Database::Postgresql)
        );
        assert_eq!(
            database_of_url("postgresql+psycopg2://x"),
            Some(Database::Postgresql)
        );
        assert_eq!(database_of_url("rediss://x:6379"), Some(Database::Redis));
        assert_eq!(
            database_of_url("mongodb+srv://c.example.net"),
            Some(Database::Mongodb)
        );
        assert_eq!(database_of_url("https://example.com"), None);
        assert_eq!(database_of_url("nothing"), None);
        // libSQL and Prisma's SQLite provider name a file.
        assert_eq!(database_of_url("file:dev.db"), Some(Database::Sqlite));
        assert_eq!(
            database_of_url("file:./prisma/data.sqlite?mode=rwc"),
            Some(Database::Sqlite)
        );
        assert_eq!(
            database_of_url("file:///var/app.db"),
            Some(Database::Sqlite)
        );
        assert_eq!(database_of_url("file:./uploads"), None);
        assert_eq!(database_of_url("file:.db"), None);
        assert_eq!(database_of_url("file:${DB_PATH}.db"), None);
    }
}
