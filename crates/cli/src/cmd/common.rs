//! Settings shared by the commands that execute or inspect deployments
//! (deploy, redeploy, destroy, status, list, logs): where autodeploy keeps its
//! state, which Terraform to run, where Terraform state goes. Opens the store.

use anyhow::Context;
use autodeploy_execute::ExecConfig;
use autodeploy_store::Store;
use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Args, Clone, Debug, Default)]
pub struct StateArgs {
    /// Where deployments, logs and local apps are kept [default ~/.local/share/autodeploy, as root /var/lib/autodeploy].
    #[arg(long, value_name = "DIR", global = true, env = "AUTODEPLOY_HOME")]
    pub home: Option<PathBuf>,
    /// The store: sqlite path/URL (default <home>/autodeploy.db) or postgres://….
    #[arg(
        long = "database-url",
        value_name = "URL",
        global = true,
        env = "AUTODEPLOY_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
}

#[derive(Args, Clone, Debug, Default)]
pub struct ExecArgs {
    /// terraform or tofu binary (default: PATH lookup).
    #[arg(
        long = "terraform-bin",
        value_name = "PATH",
        env = "AUTODEPLOY_TERRAFORM_BIN"
    )]
    pub terraform_bin: Option<PathBuf>,
    /// Keep Terraform state in PostgreSQL (postgres://…, one schema per deployment) or S3 (s3://bucket/prefix?region=…, one key per deployment, lock file).
    #[arg(
        long = "state",
        value_name = "URL",
        env = "AUTODEPLOY_STATE_URL",
        hide_env_values = true
    )]
    pub state: Option<String>,
    /// TEST FACILITY: send every AWS call to this endpoint (an emulator such as moto); health checks are skipped.
    #[arg(
        long = "aws-endpoint",
        value_name = "URL",
        env = "AUTODEPLOY_AWS_ENDPOINT"
    )]
    pub aws_endpoint: Option<String>,
    /// Seconds to wait for the app to answer [default 180].
    #[arg(
        long = "health-timeout",
        value_name = "SECONDS",
        env = "AUTODEPLOY_HEALTH_TIMEOUT"
    )]
    pub health_timeout: Option<u64>,
    /// A Terraform input variable of the bundle (repeatable): inputs the app needs, ami_id, instance_type…
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("--var {s:?}: expected NAME=VALUE"))?;
    let ok = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !k.starts_with(|c: char| c.is_ascii_digit());
    if !ok {
        return Err(format!(
            "--var {s:?}: {k:?} is not a Terraform variable name"
        ));
    }
    Ok((k.to_string(), v.to_string()))
}

pub fn exec_config(state: &StateArgs, exec: Option<&ExecArgs>) -> ExecConfig {
    let mut cfg = ExecConfig::from_env();
    if let Some(h) = &state.home {
        cfg.home = autodeploy_execute::absolute_home(h);
    }
    if let Some(e) = exec {
        if e.terraform_bin.is_some() {
            cfg.terraform_bin = e.terraform_bin.clone();
        }
        if e.state.is_some() {
            cfg.state_database_url = e.state.clone();
        }
        if e.aws_endpoint.is_some() {
            cfg.aws_endpoint = e.aws_endpoint.clone();
        }
        if let Some(t) = e.health_timeout {
            cfg.health_timeout = std::time::Duration::from_secs(t);
        }
        cfg.tf_vars.extend(e.vars.iter().cloned());
    }
    cfg
}

pub fn store_url(state: &StateArgs, cfg: &ExecConfig) -> String {
    // `--database-url` or AUTODEPLOY_DATABASE_URL (clap reads both).
    state
        .database_url
        .clone()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| cfg.default_store_url())
}

pub async fn open_store(state: &StateArgs, cfg: &ExecConfig) -> anyhow::Result<Arc<dyn Store>> {
    private_home(&cfg.home)
        .with_context(|| format!("could not prepare the home folder {}", cfg.home.display()))?;
    let url = store_url(state, cfg);
    autodeploy_store::open(&url)
        .await
        .with_context(|| format!("could not open the store at {}", redact_url(&url)))
}

/// The home folder, created if missing, never listable by other users
/// (mode 0711: the store, the sealing key and the tokens' file are inside;
/// other users may still traverse it to a deployment folder they are given).
/// An existing home that others can list loses those read bits.
pub fn private_home(home: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    match std::fs::metadata(home) {
        Ok(m) => {
            let mode = m.permissions().mode() & 0o7777;
            if m.is_dir() && mode & 0o044 != 0 {
                std::fs::set_permissions(home, std::fs::Permissions::from_mode(mode & !0o044))?;
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = home.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
            match std::fs::DirBuilder::new().mode(0o711).create(home) {
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
                other => other,
            }
        }
        Err(e) => Err(e),
    }
}

/// A URL with any password replaced by `***`.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((cred, host)) = rest.rsplit_once('@') {
            let user = cred.split(':').next().unwrap_or("");
            return format!("{scheme}://{user}:***@{host}");
        }
    }
    url.to_string()
}

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("could not start the async runtime")
}

/// Whose deployments a command sees and makes: `--as USER` /
/// `AUTODEPLOY_USER` / `as = "USER"` in autodeploy.toml, else the CLI's
/// default user `local`. A user of the store — the same users the service's
/// tokens belong to (`autodeploy users`), so a deployment made here with
/// `--as alice` is the one alice's token sees in the API, and the other way
/// round. Not a credential: whoever can open the store can act as anyone.
#[derive(Args, Clone, Debug, Default)]
pub struct UserArgs {
    /// Act as this user of the store: see and make their deployments [default: local].
    #[arg(long = "as", value_name = "USER", env = "AUTODEPLOY_USER")]
    pub user: Option<String>,
}

impl UserArgs {
    /// The user's name as given, or the default user's.
    pub fn name(&self) -> &str {
        self.user
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or(CLI_DEFAULT_USER)
    }
}

pub use autodeploy_store::CLI_DEFAULT_USER;

/// The user `--as` names, from the store. An unknown name is an error (a
/// typo must not start a second, empty set of deployments); the hint lists
/// the users there are.
pub async fn acting_user(
    store: &Arc<dyn Store>,
    args: &UserArgs,
) -> anyhow::Result<autodeploy_store::User> {
    let name = args.name();
    if let Some(u) = store.find_user(name).await? {
        return Ok(u);
    }
    let known = store
        .list_users()
        .await?
        .into_iter()
        .map(|u| u.name)
        .collect();
    Err(crate::error::CliError::UnknownUser {
        name: name.to_string(),
        known,
    }
    .into())
}

/// ` --as NAME` for the commands a message suggests, when the acting user is
/// not the default one (quoted for a shell when the name needs it).
pub fn as_flag(user: &autodeploy_store::User) -> String {
    if user.name == CLI_DEFAULT_USER {
        return String::new();
    }
    format!(" --as {}", shell_word(&user.name))
}

/// A user name as one shell word: as is when plain, else single-quoted.
pub fn shell_word(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-@+".contains(c));
    if plain {
        name.to_string()
    } else {
        format!("'{}'", name.replace('\'', r"'\''"))
    }
}

/// Every deployment of the store, all owners, newest first.
pub async fn all_deployments(
    store: &Arc<dyn Store>,
) -> anyhow::Result<Vec<autodeploy_store::Deployment>> {
    let mut filter = autodeploy_store::ListFilter {
        limit: 500,
        ..Default::default()
    };
    let mut items = Vec::new();
    loop {
        let page = store.list_deployments(&filter).await?;
        items.extend(page.items);
        match page.next_cursor {
            Some(c) => filter.cursor = Some(c),
            None => return Ok(items),
        }
    }
}

/// The name of the user with id `owner` (the id itself when no user has it).
pub fn owner_name(users: &[autodeploy_store::User], owner: &str) -> String {
    users
        .iter()
        .find(|u| u.id == owner)
        .map(|u| u.name.clone())
        .unwrap_or_else(|| owner.to_string())
}

/// A user name as `users add` and `token create` accept it: 1 to 64
/// printable characters.
pub fn check_user_name(name: &str) -> Result<&str, crate::error::CliError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(crate::error::CliError::invalid(
            format!("{name:?} cannot be a user name"),
            Some("use 1 to 64 printable characters"),
        ));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_name_is_one_shell_word() {
        assert_eq!(shell_word("alice"), "alice");
        assert_eq!(shell_word("a.b-c_d@e+f"), "a.b-c_d@e+f");
        assert_eq!(shell_word("Ann Lee"), "'Ann Lee'");
        assert_eq!(shell_word("o'neil"), r"'o'\''neil'");
        assert_eq!(shell_word("$(rm)"), "'$(rm)'");
        let user = |name: &str| autodeploy_store::User {
            id: "usr_x".into(),
            name: name.into(),
            admin: false,
        };
        assert_eq!(as_flag(&user(CLI_DEFAULT_USER)), "");
        assert_eq!(as_flag(&user("Ann Lee")), " --as 'Ann Lee'");
    }

    #[test]
    fn the_default_user_is_local_and_blank_means_default() {
        assert_eq!(UserArgs::default().name(), "local");
        let given = |s: &str| UserArgs {
            user: Some(s.into()),
        };
        assert_eq!(given("  ").name(), "local");
        assert_eq!(given(" alice ").name(), "alice");
    }
}
