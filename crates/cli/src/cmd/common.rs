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
        cfg.home = h.clone();
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

/// Owner of deployments made from the command line.
pub const CLI_OWNER: &str = "local";
