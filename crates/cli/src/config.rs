//! `autodeploy.toml`: settings read from a file, beneath the environment.
//!
//! Precedence, highest first: a flag on the command line, its
//! `AUTODEPLOY_*` environment variable, the key in the config file, the
//! built-in default. The file is `--config PATH` (or `AUTODEPLOY_CONFIG`),
//! which must exist, else `autodeploy.toml` in the home folder
//! (`AUTODEPLOY_HOME`, default `~/.local/share/autodeploy`), read when it is
//! there.
//!
//! A key is the long name of a flag that has an environment variable
//! (`listen = "0.0.0.0:8080"`, `database-url = "postgres://…"`,
//! `allow-host = ["git.internal"]`, `workers = 4`): the set of keys is asked
//! of the command definition, so a flag that gains a variable gains a key.
//! Each value fills that variable when the environment does not set it, and
//! clap checks it as it checks the flag. An unknown key, a value of the
//! wrong kind, or a file that is not TOML is an error naming the file.

use clap::CommandFactory;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The file's name in the home folder.
pub const FILE_NAME: &str = "autodeploy.toml";

/// A config file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("could not read the config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the config file {path} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("the config file {path} has an unknown key {key:?}")]
    UnknownKey { path: PathBuf, key: String },
    #[error(
        "the config file {path}: {key:?} must be a string, number, true/false or a list of those"
    )]
    InvalidValue { path: PathBuf, key: String },
}

impl ConfigError {
    pub fn code(&self) -> &'static str {
        "invalid_config"
    }

    pub fn hint(&self) -> Option<String> {
        match self {
            ConfigError::UnknownKey { .. } => Some(format!(
                "keys are the long names of flags that have an AUTODEPLOY_* variable: {}",
                keys().into_keys().collect::<Vec<_>>().join(", ")
            )),
            _ => None,
        }
    }
}

/// Every key the file may hold: long flag name → its environment variable.
pub fn keys() -> BTreeMap<String, String> {
    fn walk(cmd: &clap::Command, out: &mut BTreeMap<String, String>) {
        for arg in cmd.get_arguments() {
            if let (Some(long), Some(env)) = (arg.get_long(), arg.get_env()) {
                if long != "config" {
                    out.insert(long.to_string(), env.to_string_lossy().into_owned());
                }
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, out);
        }
    }
    let mut out = BTreeMap::new();
    walk(&crate::Cli::command(), &mut out);
    out
}

/// The config file to read: `(path, must exist)`.
fn locate(args: &[OsString], env: &dyn Fn(&str) -> Option<OsString>) -> Option<(PathBuf, bool)> {
    let mut it = args.iter().skip(1).take_while(|a| *a != "--");
    while let Some(a) = it.next() {
        if a == "--config" {
            return it.next().map(|p| (PathBuf::from(p), true));
        }
        if let Some(p) = a.to_str().and_then(|s| s.strip_prefix("--config=")) {
            return Some((PathBuf::from(p), true));
        }
    }
    if let Some(p) = env("AUTODEPLOY_CONFIG").filter(|p| !p.is_empty()) {
        return Some((PathBuf::from(p), true));
    }
    let home = env("AUTODEPLOY_HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(autodeploy_execute::default_home);
    Some((home.join(FILE_NAME), false))
}

/// The variables the file sets: `(variable, value)` for every key, checked.
pub fn read(path: &Path) -> Result<Vec<(String, String)>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &text)
}

fn parse(path: &Path, text: &str) -> Result<Vec<(String, String)>, ConfigError> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ConfigError::Syntax {
            path: path.to_path_buf(),
            message: e.message().to_string(),
        })?;
    let known = keys();
    let mut out = Vec::new();
    for (key, value) in table {
        let Some(env) = known.get(&key) else {
            return Err(ConfigError::UnknownKey {
                path: path.to_path_buf(),
                key,
            });
        };
        let invalid = || ConfigError::InvalidValue {
            path: path.to_path_buf(),
            key: key.clone(),
        };
        let scalar = |v: &toml::Value| match v {
            toml::Value::String(s) => Some(s.clone()),
            toml::Value::Integer(i) => Some(i.to_string()),
            toml::Value::Float(f) => Some(f.to_string()),
            toml::Value::Boolean(b) => Some(b.to_string()),
            _ => None,
        };
        let text = match &value {
            toml::Value::Array(items) => items
                .iter()
                .map(scalar)
                .collect::<Option<Vec<_>>>()
                .ok_or_else(invalid)?
                .join(","),
            v => scalar(v).ok_or_else(invalid)?,
        };
        out.push((env.clone(), text));
    }
    Ok(out)
}

/// Read the config file for this command line and fill, from it, every
/// variable the environment does not set. Called first thing in `main`,
/// before any thread exists.
pub fn apply(args: &[OsString]) -> Result<Applied, ConfigError> {
    let env = |k: &str| std::env::var_os(k);
    let mut applied = Applied::default();
    let Some((path, required)) = locate(args, &env) else {
        return Ok(applied);
    };
    if !required && !path.exists() {
        return Ok(applied);
    }
    for (var, value) in read(&path)? {
        if std::env::var_os(&var).is_none() {
            std::env::set_var(&var, value);
            applied.vars.push(var);
        }
    }
    applied.path = Some(path);
    Ok(applied)
}

/// What [`apply`] did: the file read and the variables it set.
#[derive(Debug, Default)]
pub struct Applied {
    pub path: Option<PathBuf>,
    pub vars: Vec<String>,
}

impl Applied {
    /// For a value clap refused: where it came from when it was not typed
    /// on the command line ("AUTODEPLOY_LISTEN", "listen in /etc/…toml").
    pub fn origin(&self, e: &clap::Error, args: &[OsString]) -> Option<String> {
        use clap::error::{ContextKind, ContextValue};
        let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) else {
            return None;
        };
        let long = arg.split([' ', '=']).next()?.strip_prefix("--")?;
        let typed = args.iter().skip(1).take_while(|a| *a != "--").any(|a| {
            a.to_str()
                .is_some_and(|a| a == format!("--{long}") || a.starts_with(&format!("--{long}=")))
        });
        if typed {
            return None;
        }
        let var = keys().remove(long)?;
        std::env::var_os(&var)?;
        Some(match (&self.path, self.vars.contains(&var)) {
            (Some(p), true) => format!("the value is `{long}` in {}", p.display()),
            _ => format!("the value comes from the environment variable {var}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_flags_with_a_variable() {
        let k = keys();
        assert_eq!(k["listen"], "AUTODEPLOY_LISTEN");
        assert_eq!(k["database-url"], "AUTODEPLOY_DATABASE_URL");
        assert_eq!(k["state"], "AUTODEPLOY_STATE_URL");
        assert_eq!(k["health-timeout"], "AUTODEPLOY_HEALTH_TIMEOUT");
        assert!(!k.contains_key("json") && !k.contains_key("config"));
    }

    #[test]
    fn values_become_variables_and_mistakes_are_errors() {
        let p = Path::new("/etc/autodeploy.toml");
        let v = parse(
            p,
            "listen = \"0.0.0.0:9000\"\nworkers = 4\nallow-host = [\"a.example\", \"10.0.0.0/8\"]\nallow-local-sources = true\n",
        )
        .unwrap();
        assert!(v.contains(&("AUTODEPLOY_LISTEN".into(), "0.0.0.0:9000".into())));
        assert!(v.contains(&("AUTODEPLOY_WORKERS".into(), "4".into())));
        assert!(v.contains(&(
            "AUTODEPLOY_ALLOW_HOST".into(),
            "a.example,10.0.0.0/8".into()
        )));
        assert!(v.contains(&("AUTODEPLOY_ALLOW_LOCAL_SOURCES".into(), "true".into())));

        let e = parse(p, "lisen = \"x\"").unwrap_err();
        assert!(e.to_string().contains("unknown key \"lisen\""), "{e}");
        assert!(e.hint().unwrap().contains("listen"));
        let e = parse(p, "[listen]\na = 1").unwrap_err();
        assert!(matches!(e, ConfigError::InvalidValue { .. }), "{e}");
        let e = parse(p, "listen = ").unwrap_err();
        assert!(matches!(e, ConfigError::Syntax { .. }), "{e}");
    }

    #[test]
    fn the_file_is_the_flag_then_the_variable_then_the_home() {
        let args = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        let none = |_: &str| None;
        assert_eq!(
            locate(&args(&["ad", "serve", "--config", "/c.toml"]), &none),
            Some((PathBuf::from("/c.toml"), true))
        );
        assert_eq!(
            locate(&args(&["ad", "serve", "--config=/d.toml"]), &none),
            Some((PathBuf::from("/d.toml"), true))
        );
        let env = |k: &str| match k {
            "AUTODEPLOY_CONFIG" => None,
            "AUTODEPLOY_HOME" => Some(OsString::from("/srv/ad")),
            _ => None,
        };
        assert_eq!(
            locate(&args(&["ad", "list", "--", "--config", "x"]), &env),
            Some((PathBuf::from("/srv/ad/autodeploy.toml"), false))
        );
    }
}
