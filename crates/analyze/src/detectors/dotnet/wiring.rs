//! .NET wiring: ASP.NET Core configuration reads a connection string named
//! `Name` from `ConnectionStrings:Name`, which the environment variable
//! `ConnectionStrings__Name` overrides. The names come from
//! `appsettings*.json`'s `ConnectionStrings` keys and from
//! `GetConnectionString("Name")` / `Configuration["ConnectionStrings:Name"]`
//! in code; the format is the ADO.NET string (`Host=…;Port=…;Database=…;
//! Username=…;Password=…`) for a server database, and `host:port` for Redis
//! (StackExchange.Redis). A connection string that is a SQLite file stays a
//! file unless a server provider is referenced.
//!
//! Not here: which databases the project uses (`mod.rs`: packages, settings).

use super::settings;
use crate::draft::{ev, Draft};
use crate::scan::each_match;
use autodeploy_core::{Database, Evidence, SettingFormat as F, WiringTarget as T};
use regex::Regex;
use std::sync::LazyLock;

static CONN_NAME: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::regex(
        r#"\.GetConnectionString\s*\(\s*"([^"]+)"\s*\)|\[\s*"ConnectionStrings:([^"]+)"\s*\]"#,
    )
});

/// Add the project's wiring to `d`: `appsettings` are (file, text), `code` (file, text).
pub(super) fn scan(
    d: &mut Draft,
    appsettings: &[(String, std::sync::Arc<str>)],
    code: &[(&str, std::sync::Arc<str>)],
) {
    // name → (value in settings, where)
    let mut names: Vec<(String, Option<String>, Evidence)> = Vec::new();
    for (file, text) in appsettings {
        for (name, value, line) in settings::connection_strings(text) {
            if !names.iter().any(|(n, _, _)| *n == name) {
                names.push((
                    name.clone(),
                    Some(value),
                    ev(file, Some(line), format!("ConnectionStrings:{name}")),
                ));
            }
        }
    }
    for (file, text) in code {
        each_match(text, &CONN_NAME, |line, c| {
            let Some(name) = c.get(1).or(c.get(2)).map(|m| m.as_str()) else {
                return;
            };
            if !names.iter().any(|(n, _, _)| n == name) {
                names.push((
                    name.to_string(),
                    None,
                    ev(file, Some(line), crate::scan::line_text(text, line)),
                ));
            }
        });
    }
    let server: Vec<Database> = d
        .databases
        .keys()
        .copied()
        .filter(|db| matches!(db, Database::Postgresql | Database::Mysql))
        .collect();
    for (name, value, evidence) in names {
        let env = format!("ConnectionStrings__{name}");
        if !crate::draft::is_env_name(&env) {
            continue;
        }
        let shape = value
            .as_deref()
            .and_then(|v| settings::database_of_connection_string(&name, v))
            .or_else(|| settings::database_of_connection_string(&name, ""));
        match shape {
            Some(Database::Redis) => d.wire(crate::wiring::fixed(
                "aspnet-connection-strings",
                T::Cache,
                &[Database::Redis],
                &[(env.as_str(), F::Address)],
                &evidence,
            )),
            Some(Database::Mongodb) => d.wire(crate::wiring::fixed(
                "aspnet-connection-strings",
                T::Database,
                &[Database::Mongodb],
                &[(env.as_str(), F::Url)],
                &evidence,
            )),
            // A SQLite file with no server provider referenced stays a file.
            Some(Database::Sqlite) if server.is_empty() => {}
            _ if server.is_empty() => {}
            _ => d.wire(crate::wiring::fixed(
                "aspnet-connection-strings",
                T::Database,
                &server,
                &[(env.as_str(), F::AdoConnectionString)],
                &evidence,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use autodeploy_core::{Language, ServiceKind};
    use std::sync::Arc;

    #[test]
    fn connection_strings_from_settings_and_code() {
        let mut d = Draft::new("", Language::Csharp, ServiceKind::Web);
        d.database(Database::Postgresql, ev("App.csproj", Some(5), "Npgsql"));
        let settings: Vec<(String, Arc<str>)> = vec![(
            "appsettings.json".into(),
            Arc::from(
                r#"{"ConnectionStrings": {"DefaultConnection": "Host=localhost;Database=shop;Username=shop;Password=x", "Redis": "localhost:6379"}}"#,
            ),
        )];
        let code: Vec<(&str, Arc<str>)> = vec![(
            "Program.cs",
            Arc::from("var cs = builder.Configuration.GetConnectionString(\"Orders\");\n"),
        )];
        scan(&mut d, &settings, &code);
        let got: Vec<(String, &str)> = d
            .wiring
            .iter()
            .flat_map(|w| {
                w.settings
                    .iter()
                    .map(|s| (s.name.clone(), s.format.as_str()))
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "ConnectionStrings__DefaultConnection".into(),
                    "ado_connection_string"
                ),
                ("ConnectionStrings__Orders".into(), "ado_connection_string"),
                ("ConnectionStrings__Redis".into(), "address"),
            ]
        );
        assert_eq!(d.wiring[1].target, T::Cache);
    }
}
