//! Rocket's configuration: `Rocket.toml` profiles (`global` > `release` >
//! `default`) for the port, address and database URLs, `("port", …)` /
//! `("address", …)` figment values in code, and the fact that Rocket binds
//! 127.0.0.1 unless told otherwise.
//!
//! Not here: `ROCKET_*` variables set outside the repository.

use crate::ctx::Ctx;
use crate::detectors::database_of_url;
use crate::draft::{ev, Draft, Trust};
use crate::repo::join;
use crate::scan::{each_match, line_text};
use autodeploy_core::{Severity, SourceFix};
use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;

static ROCKET_CODE_PORT: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r#"\(\s*"port"\s*,\s*(\d{2,5})\s*\)"#).expect("regex"));

static ROCKET_CODE_ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r#"\(\s*"address"\s*,\s*("[^"]*")|\baddress\s*:\s*(Ipv4Addr::\w+|IpAddr::\w+)"#,
    )
    .expect("regex")
});

static ROCKET_ENV: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"\bROCKET_(PORT|ADDRESS)[= ]\s*("[^"\n]*"|'[^'\n]*'|[^\s"']+)"#)
        .expect("regex")
});

/// Where Rocket is told which address to bind.
struct RocketAddress {
    host: String,
    file: String,
    line: u32,
    /// The value as written, and what to write instead for all interfaces.
    fix: Option<(String, String)>,
}

/// Rocket: port/address from Rocket.toml (`global` overrides the `release`
/// profile, which overrides `default`), then code; Rocket binds 127.0.0.1
/// unless told otherwise.
pub(super) fn rocket_config(
    ctx: &Ctx,
    dir: &str,
    manifest_path: &str,
    sources: &[&str],
    d: &mut Draft,
) {
    let path = join(dir, "Rocket.toml");
    let mut address: Option<RocketAddress> = None;
    if let Some(text) = ctx.read_path(&path) {
        let values = rocket_toml(&text);
        let pick = |key: &str| {
            ["global", "release", "production", "default"]
                .iter()
                .find_map(|p| values.get(&(p.to_string(), key.to_string())).cloned())
        };
        if let Some((v, line, _)) = pick("port") {
            if let Ok(p) = v.parse::<u16>() {
                d.port(
                    p,
                    Trust::Config,
                    ev(&path, Some(line), format!("port = {p}")),
                );
            }
        }
        if let Some((host, line, raw)) = pick("address") {
            address = Some(RocketAddress {
                fix: Some((raw.clone(), raw.replacen(&host, "0.0.0.0", 1))),
                host,
                file: path.clone(),
                line,
            });
        }
        for ((_, key), (v, line, _)) in &values {
            if key == "url" {
                if let Some(db) = database_of_url(v) {
                    d.database(
                        db,
                        ev(&path, Some(*line), format!("{} database url", db.as_str())),
                    );
                }
            }
        }
    }
    // ROCKET_PORT / ROCKET_ADDRESS written into the Dockerfile or a .env file win over Rocket.toml.
    for name in ["Dockerfile", ".env"] {
        let file = join(dir, name);
        let Some(text) = ctx.read_path(&file) else {
            continue;
        };
        each_match(&text, &ROCKET_ENV, |line, c| {
            let value = c[2].trim_matches(['"', '\'']);
            if &c[1] == "PORT" {
                if let Ok(p) = value.parse::<u16>() {
                    d.port(
                        p,
                        Trust::Config,
                        ev(&file, Some(line), format!("ROCKET_PORT={p}")),
                    );
                }
            } else {
                address = Some(RocketAddress {
                    host: value.to_string(),
                    file: file.clone(),
                    line,
                    fix: Some((c[2].to_string(), c[2].replacen(value, "0.0.0.0", 1))),
                });
            }
        });
    }
    for &file in sources {
        let Some(text) = ctx.read_path(file) else {
            continue;
        };
        each_match(&text, &ROCKET_CODE_PORT, |line, c| {
            if let Ok(p) = c[1].parse::<u16>() {
                d.port(p, Trust::Code, ev(file, Some(line), line_text(&text, line)));
            }
        });
        if address.is_none() {
            if let Some((line, c)) = crate::scan::first_match(&text, &ROCKET_CODE_ADDRESS) {
                let raw = c.get(1).or(c.get(2)).map(|m| m.as_str()).unwrap_or("");
                let (host, zero) = if raw.contains("UNSPECIFIED") {
                    ("0.0.0.0".to_string(), raw.to_string())
                } else if raw.contains("LOCALHOST") {
                    (
                        "127.0.0.1".to_string(),
                        raw.replace("LOCALHOST", "UNSPECIFIED"),
                    )
                } else {
                    let h = raw.trim_matches('"').to_string();
                    let z = raw.replacen(&h, "0.0.0.0", 1);
                    (h, z)
                };
                address = Some(RocketAddress {
                    host,
                    file: file.to_string(),
                    line,
                    fix: Some((raw.to_string(), zero)),
                });
            }
        }
    }
    match address {
        Some(a) if matches!(a.host.as_str(), "127.0.0.1" | "localhost" | "::1") => {
            let fix = a.fix.map(|(find, replace)| SourceFix {
                file: a.file.clone(),
                line: a.line,
                find,
                replace,
            });
            d.finding(
                "binds_localhost",
                Severity::Warning,
                Some(&a.file),
                Some(a.line),
                format!(
                    "{}:{} sets Rocket's address to {}, so nothing outside this machine can reach it; use 0.0.0.0 — autodeploy does so in its copy",
                    a.file, a.line, a.host
                ),
                fix,
            );
        }
        Some(_) => {}
        None => {
            let file = if ctx.index().contains(&path) {
                path.clone()
            } else {
                manifest_path.to_string()
            };
            d.finding(
                "binds_localhost",
                Severity::Warning,
                Some(&file),
                None,
                "Rocket binds 127.0.0.1 unless configured otherwise, so the deployed server would be unreachable; set `address = \"0.0.0.0\"` under [release] in Rocket.toml, or ROCKET_ADDRESS=0.0.0.0 in the environment",
                None,
            );
        }
    }
}

/// `(profile, key)` → (value, line, value as written) from a Rocket.toml;
/// keys of nested tables (`[default.databases.db] url`) keep their profile.
pub(super) fn rocket_toml(text: &str) -> BTreeMap<(String, String), (String, u32, String)> {
    let mut out = BTreeMap::new();
    let mut profile = String::from("default");
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split(" #").next().unwrap_or("").trim();
        if let Some(s) = line.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            profile = s.split('.').next().unwrap_or("").trim().to_string();
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let written = v.trim().to_string();
        let value = written.trim_matches('"').to_string();
        out.entry((profile.clone(), k.trim().to_string()))
            .or_insert((value, i as u32 + 1, written));
    }
    out
}
