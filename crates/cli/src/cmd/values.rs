//! Values a person gives a deployment: `--env NAME=VALUE` (plain, kept in the
//! deployment's options) and `--secret NAME` (the value read from the
//! environment variable of that name, else from stdin — a hidden prompt on a
//! terminal, one line per secret otherwise — never from the command line,
//! never echoed). A `service:NAME` form targets one service of a stack.

use anyhow::Context;
use clap::Args;
use std::io::{BufRead, IsTerminal, Write};

#[derive(Args, Clone, Debug, Default)]
pub struct ValueArgs {
    /// Set an environment variable of the app (repeatable; `service:NAME=VALUE` for one service). Kept for redeploys.
    #[arg(long = "env", value_name = "NAME=VALUE", value_parser = parse_env)]
    pub env: Vec<(String, String)>,
    /// Set a secret of the app (repeatable; `service:NAME` for one service): the value comes from the environment variable NAME, else from stdin (hidden on a terminal). Sealed in the store, never shown.
    #[arg(long = "secret", value_name = "NAME", value_parser = parse_name)]
    pub secrets: Vec<String>,
}

/// `NAME` or `service:NAME`, NAME an environment variable name.
fn parse_name(s: &str) -> Result<String, String> {
    let name = s.split_once(':').map(|(_, n)| n).unwrap_or(s);
    let service_ok = s.split_once(':').is_none_or(|(svc, _)| {
        !svc.is_empty()
            && svc
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    });
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if ok && service_ok {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{s:?} is not an environment variable name (letters, digits and _, not starting with a digit; `service:NAME` for one service)"
        ))
    }
}

fn parse_env(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("--env {s:?}: expected NAME=VALUE (secrets: --secret NAME)"))?;
    Ok((parse_name(k)?, v.to_string()))
}

/// The values of `--secret` names, from the environment or stdin.
pub fn read_secrets(names: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let stdin = std::io::stdin();
    for key in names {
        let var = key.split_once(':').map(|(_, n)| n).unwrap_or(key);
        if let Some(v) = std::env::var(var).ok().filter(|v| !v.is_empty()) {
            out.push((key.clone(), v));
            continue;
        }
        let value = if stdin.is_terminal() {
            err!("Value of secret {key} (not shown): ");
            std::io::stderr().flush().ok();
            let v = read_hidden().context("could not read the secret from the terminal")?;
            errln!();
            v
        } else {
            let mut line = String::new();
            let n = stdin
                .lock()
                .read_line(&mut line)
                .context("could not read a secret from stdin")?;
            if n == 0 {
                return Err(crate::error::CliError::invalid(
                    format!("--secret {key}: no value"),
                    Some(&format!(
                        "set the environment variable {var}, or give one line per secret on stdin"
                    )),
                )
                .into());
            }
            line.trim_end_matches(['\n', '\r']).to_string()
        };
        if value.is_empty() {
            return Err(crate::error::CliError::invalid(
                format!("--secret {key}: the value is empty"),
                None,
            )
            .into());
        }
        out.push((key.clone(), value));
    }
    Ok(out)
}

/// One line from the terminal with echo turned off (restored afterwards,
/// also when reading fails).
fn read_hidden() -> std::io::Result<String> {
    use std::os::unix::io::AsRawFd;
    let fd = std::io::stdin().as_raw_fd();
    // SAFETY: tcgetattr/tcsetattr on stdin, which is a terminal here; the
    // saved state is restored before returning.
    let mut term: libc::termios = unsafe { std::mem::zeroed() };
    let saved = unsafe { libc::tcgetattr(fd, &mut term) } == 0;
    let original = term;
    if saved {
        term.c_lflag &= !libc::ECHO;
        term.c_lflag |= libc::ECHONL;
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &term) };
    }
    let mut line = String::new();
    let r = std::io::stdin().lock().read_line(&mut line);
    if saved {
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &original) };
    }
    r?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// `current` with `changes` applied: a name given again replaces its value.
pub fn merge(current: &[(String, String)], changes: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = current
        .iter()
        .filter(|(k, _)| !changes.iter().any(|(c, _)| c == k))
        .cloned()
        .collect();
    out.extend(changes.iter().cloned());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_pairs() {
        assert_eq!(
            parse_env("DATABASE_URL=postgres://u:p@h/db?x=1"),
            Ok(("DATABASE_URL".into(), "postgres://u:p@h/db?x=1".into()))
        );
        assert_eq!(parse_env("api:PORT=1"), Ok(("api:PORT".into(), "1".into())));
        assert!(parse_env("NOVALUE").is_err());
        assert!(parse_env("1X=2").is_err());
        assert!(parse_env("A B=2").is_err());
        assert!(parse_name(":X").is_err());
        assert_eq!(parse_name("worker:API_KEY"), Ok("worker:API_KEY".into()));
    }

    #[test]
    fn merge_replaces_by_name() {
        let cur = vec![("A".into(), "1".into()), ("B".into(), "2".into())];
        let m = merge(&cur, &[("B".into(), "3".into()), ("C".into(), "4".into())]);
        assert_eq!(
            m,
            vec![
                ("A".to_string(), "1".to_string()),
                ("B".into(), "3".into()),
                ("C".into(), "4".into())
            ]
        );
    }
}
