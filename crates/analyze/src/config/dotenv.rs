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

pub fn apply(ctx: &Ctx, draft: &mut Draft) {
    let dir = draft.dir.clone();
    for name in REAL.iter().chain(EXAMPLES) {
        let Some(text) = ctx.read(&dir, name) else {
            continue;
        };
        let file = crate::repo::join(&dir, name);
        let is_real = REAL.contains(name);
        for e in parse_dotenv(&text) {
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
                draft.env_var(&e.key, has_value, &file, e.line);
            }
            if !is_real && has_value && !placeholder && usable_example(&e.key, &e.value) {
                if let Some(v) = draft
                    .env
                    .iter_mut()
                    .find(|v| v.name == e.key && v.example.is_none())
                {
                    v.example = Some(e.value.clone());
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

/// An example value a deployment may use as it is: not a credential, not
/// an address on the developer's machine.
pub(super) fn usable_example(key: &str, value: &str) -> bool {
    !looks_secret(key)
        && !value.contains("localhost")
        && !value.contains("127.0.0.1")
        && !value.contains("0.0.0.0")
        && value.len() <= 200
}

/// Connection strings to loopback services are development defaults, not leaks.
fn is_local_url(v: &str) -> bool {
    v.contains("@localhost")
        || v.contains("@127.0.0.1")
        || v.contains("://localhost")
        || v.starts_with("sqlite")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::MemRepo;
    use autodeploy_core::{Language, ServiceKind};

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
}
