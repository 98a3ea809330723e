//! ASP.NET Core settings files: `appsettings*.json` (Kestrel endpoints,
//! `Urls`, connection strings, configuration keys that give defaults) and
//! `Properties/launchSettings.json` (the development launch profile's URL).
//!
//! Both are JSON with comments and trailing commas, as the .NET
//! configuration loader accepts; [`parse_jsonc`] reads that dialect.

use crate::scan::find_line;
use autodeploy_core::Database;
use serde_json::Value;

/// Parse JSON that may hold `//` and `/* */` comments and trailing commas.
pub fn parse_jsonc(text: &str) -> Option<Value> {
    let text = text.trim_start_matches('\u{feff}');
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut in_str = false;
    while i < chars.len() {
        let c = chars[i];
        if in_str {
            out.push(c);
            if c == '\\' && i + 1 < chars.len() {
                out.push(chars[i + 1]);
                i += 2;
                continue;
            }
            if c == '"' {
                in_str = false;
            }
            i += 1;
            continue;
        }
        match (c, chars.get(i + 1)) {
            ('"', _) => {
                in_str = true;
                out.push(c);
                i += 1;
            }
            ('/', Some('/')) => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            ('/', Some('*')) => {
                i += 2;
                while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                    if chars[i] == '\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
                i += 2;
            }
            (',', _) => {
                // Drop a comma followed only by whitespace/comments before } or ].
                let mut j = i + 1;
                while j < chars.len() && chars[j].is_whitespace() {
                    j += 1;
                }
                if !matches!(chars.get(j), Some('}') | Some(']')) {
                    out.push(c);
                }
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    serde_json::from_str(&out).ok()
}

/// Case-insensitive lookup of a `A:B:C` configuration key.
pub fn lookup<'a>(doc: &'a Value, key: &str) -> Option<&'a Value> {
    let mut cur = doc;
    for part in key.split(':') {
        let obj = cur.as_object()?;
        cur = obj
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(part))
            .map(|(_, v)| v)?;
    }
    Some(cur)
}

/// True when the key holds a non-empty value (a default for the app).
pub fn has_value(doc: &Value, key: &str) -> bool {
    match lookup(doc, key) {
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(Value::Null) | None => false,
        Some(_) => true,
    }
}

/// A URL a server listens on: (url as written, 1-based line, where it came from).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenUrl {
    pub url: String,
    pub line: u32,
    pub note: String,
}

fn url_line(text: &str, url: &str) -> u32 {
    find_line(text, &format!("\"{url}")).unwrap_or(1)
}

/// `Kestrel:Endpoints:*:Url` and top-level `Urls` of an appsettings file.
pub fn listen_urls(text: &str) -> Vec<ListenUrl> {
    let Some(doc) = parse_jsonc(text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(eps) = lookup(&doc, "Kestrel:Endpoints").and_then(Value::as_object) {
        for (name, ep) in eps {
            if let Some(url) = lookup(ep, "Url").and_then(Value::as_str) {
                out.push(ListenUrl {
                    url: url.to_string(),
                    line: url_line(text, url),
                    note: format!("Kestrel:Endpoints:{name}:Url {url}"),
                });
            }
        }
    }
    if let Some(urls) = lookup(&doc, "Urls").and_then(Value::as_str) {
        for u in urls.split(';').map(str::trim).filter(|u| !u.is_empty()) {
            out.push(ListenUrl {
                url: u.to_string(),
                line: url_line(text, u),
                note: format!("Urls {u}"),
            });
        }
    }
    out
}

/// The development launch profile's HTTP URL: the `http` profile, else the
/// first `Project` profile; its first `http://` URL.
pub fn launch_url(text: &str) -> Option<ListenUrl> {
    let doc = parse_jsonc(text)?;
    let profiles = lookup(&doc, "profiles")?.as_object()?;
    let pick = profiles
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("http"))
        .or_else(|| {
            profiles.iter().find(|(_, v)| {
                lookup(v, "commandName").and_then(Value::as_str) == Some("Project")
                    && lookup(v, "applicationUrl").is_some()
            })
        })?;
    let urls = lookup(pick.1, "applicationUrl")?.as_str()?;
    let url = urls
        .split(';')
        .map(str::trim)
        .find(|u| u.starts_with("http://"))
        .or_else(|| urls.split(';').map(str::trim).next())?;
    let line = find_line(text, urls).unwrap_or(1);
    Some(ListenUrl {
        url: url.to_string(),
        line,
        note: format!("development launch profile `{}`: {url}", pick.0),
    })
}

/// Host and port of `http://host:port` (`*`, `+`, `[::]` hosts included).
pub fn host_port(url: &str) -> (Option<&str>, Option<u16>) {
    let rest = url.split("://").nth(1).unwrap_or(url);
    let authority = rest.split('/').next().unwrap_or(rest);
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && !p.contains(']') => (h, p.parse().ok()),
        _ => (authority, None),
    };
    (Some(host), port)
}

pub fn is_loopback(host: &str) -> bool {
    matches!(
        host.trim_matches(['[', ']']),
        "localhost" | "127.0.0.1" | "::1"
    )
}

/// Connection strings of an appsettings file: (name, value, line).
pub fn connection_strings(text: &str) -> Vec<(String, String, u32)> {
    let Some(doc) = parse_jsonc(text) else {
        return Vec::new();
    };
    let Some(cs) = lookup(&doc, "ConnectionStrings").and_then(Value::as_object) else {
        return Vec::new();
    };
    cs.iter()
        .filter_map(|(k, v)| {
            let s = v.as_str()?;
            let line = find_line(text, &format!("\"{k}\"")).unwrap_or(1);
            Some((k.clone(), s.to_string(), line))
        })
        .collect()
}

/// The database a .NET connection string points at, from its shape.
pub fn database_of_connection_string(name: &str, value: &str) -> Option<Database> {
    if let Some(db) = crate::detectors::database_of_url(value) {
        return Some(db);
    }
    let lower = value.to_ascii_lowercase();
    let keys: Vec<&str> = lower
        .split(';')
        .filter_map(|kv| kv.split_once('=').map(|(k, _)| k.trim()))
        .collect();
    let has = |k: &str| keys.contains(&k);
    let data_source = lower
        .split(';')
        .find_map(|kv| {
            kv.trim()
                .strip_prefix("data source=")
                .or(kv.trim().strip_prefix("filename="))
        })
        .unwrap_or("");
    if data_source.ends_with(".db")
        || data_source.ends_with(".sqlite")
        || data_source.ends_with(".sqlite3")
        || data_source == ":memory:"
    {
        return Some(Database::Sqlite);
    }
    if has("host") && (has("username") || has("user id") || has("database")) {
        return Some(Database::Postgresql);
    }
    if (has("server") || has("host"))
        && (has("uid") || lower.contains("port=3306") || lower.contains("sslmode=none"))
    {
        return Some(Database::Mysql);
    }
    let n = name.to_ascii_lowercase();
    if n.contains("redis") || lower.contains(":6379") {
        return Some(Database::Redis);
    }
    if n.contains("postgres") || n.contains("npgsql") {
        return Some(Database::Postgresql);
    }
    if n.contains("mysql") || n.contains("mariadb") {
        return Some(Database::Mysql);
    }
    if n.contains("mongo") {
        return Some(Database::Mongodb);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonc() {
        let v = parse_jsonc("{\n // c\n \"a\": \"x//y\", /* b */ \"b\": [1, 2,],\n}\n").unwrap();
        assert_eq!(v["a"], "x//y");
        assert_eq!(v["b"].as_array().unwrap().len(), 2);
        assert!(parse_jsonc("{\"a\": \"esc\\\"aped, }\"}").is_some());
        assert!(parse_jsonc("{").is_none());
    }

    #[test]
    fn kestrel_and_urls() {
        let text = "{\n  \"Kestrel\": {\n    \"Endpoints\": {\n      \"Http\": { \"Url\": \"http://localhost:5005\" }\n    }\n  }\n}\n";
        let u = listen_urls(text);
        assert_eq!(u[0].url, "http://localhost:5005");
        assert_eq!(u[0].line, 4);
        assert_eq!(host_port(&u[0].url), (Some("localhost"), Some(5005)));
        assert_eq!(host_port("http://*:80"), (Some("*"), Some(80)));
        assert_eq!(host_port("http://[::]:8080"), (Some("[::]"), Some(8080)));
        assert_eq!(host_port("http://+"), (Some("+"), None));
        assert!(is_loopback("[::1]"));
    }

    #[test]
    fn launch_profiles() {
        let text = r#"{"profiles": {"IIS Express": {"commandName": "IISExpress"},
 "MyApp": {"commandName": "Project", "applicationUrl": "https://localhost:7001;http://localhost:5001"}}}"#;
        let u = launch_url(text).unwrap();
        assert_eq!(u.url, "http://localhost:5001");
        assert!(launch_url("{\"profiles\": {}}").is_none());
    }

    #[test]
    fn connection_string_shapes() {
        let db = |n: &str, v: &str| database_of_connection_string(n, v);
        assert_eq!(
            db("Default", "Host=db;Database=app;Username=u;Password=p"),
            Some(Database::Postgresql)
        );
        assert_eq!(
            db("Default", "Server=db;Port=3306;Database=app;Uid=u;Pwd=p"),
            Some(Database::Mysql)
        );
        assert_eq!(db("Default", "Data Source=app.db"), Some(Database::Sqlite));
        assert_eq!(
            db("Cache", "localhost:6379,abortConnect=false"),
            Some(Database::Redis)
        );
        assert_eq!(
            db("Mongo", "mongodb://localhost:27017"),
            Some(Database::Mongodb)
        );
        assert_eq!(
            db(
                "Default",
                "Server=(localdb)\\mssqllocaldb;Database=x;Trusted_Connection=True"
            ),
            None
        );
    }
}
