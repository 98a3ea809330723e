//! Execution settings: where autodeploy keeps its files, which Terraform to
//! run, where Terraform state goes, and the test facilities (emulator
//! endpoint). Read from flags by the CLI, from flags/env by the service.
//!
//! Deliberately not here: cloud credentials. They come from the standard
//! chains (AWS env/profile, GCP ADC, Azure CLI) in the environment of the
//! Terraform process and are never read, stored or logged by autodeploy.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// What to do when a deployment fails its health check or a phase fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnFailure {
    /// First deploy: keep what was created, so it can be inspected;
    /// redeploy: roll back to the last healthy plan.
    #[default]
    Auto,
    /// Keep everything as it is.
    Keep,
    /// Tear down what this deployment created.
    Destroy,
}

impl OnFailure {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "auto" => Some(Self::Auto),
            "keep" => Some(Self::Keep),
            "destroy" => Some(Self::Destroy),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ExecConfig {
    /// `$AUTODEPLOY_HOME` (default `~/.local/share/autodeploy`, as root
    /// `/var/lib/autodeploy`): the store
    /// file, one folder per deployment, caches.
    pub home: PathBuf,
    /// `--terraform-bin`: an explicit terraform/tofu binary.
    pub terraform_bin: Option<PathBuf>,
    /// `--state postgres://…`: Terraform state in PostgreSQL (one schema per
    /// deployment); `--state s3://bucket/prefix?region=…`: in S3 with a
    /// lock file (one key per deployment). Default: a local file in the
    /// deployment's folder.
    pub state_database_url: Option<String>,
    /// Test facility: send every AWS call (Terraform and release steps) to
    /// this endpoint (an emulator such as moto). Health checks of cloud URLs
    /// are skipped then (an emulator creates nothing reachable).
    pub aws_endpoint: Option<String>,
    /// How long to wait for the app to answer after apply / start.
    pub health_timeout: Duration,
    /// Policy when a deploy fails.
    pub on_failure: OnFailure,
    /// Local target: the program that supervises app processes (default: this
    /// executable with the hidden `__supervise` subcommand).
    pub supervisor_exe: Option<PathBuf>,
    /// Local target: a fixed port instead of a free one.
    pub local_port: Option<u16>,
    /// `--var NAME=VALUE`: Terraform input variables for the bundle (inputs
    /// the app needs, `ami_id`, `instance_type` …). Passed with `-var`, never
    /// written into the bundle.
    pub tf_vars: Vec<(String, String)>,
    /// `destroy --force`: turn off the database's deletion protection
    /// (production) before destroying. Without it such a destroy is refused
    /// before anything is deleted.
    pub force_destroy: bool,
    /// `destroy --keep-data`: keep the local target's databases (and a Redis
    /// server's data) of the deployment instead of dropping them.
    pub keep_data: bool,
    /// `AUTODEPLOY_SECRETS_KEY`: the key (64 hex characters) that seals the
    /// secret values people give (`--secret`); default `<home>/secrets.key`.
    /// Every API and worker process of one service must share it.
    pub secrets_key: Option<String>,
    /// Which hosts a git fetch may connect to. Default: any (the CLI on a
    /// person's machine); the service: public addresses only
    /// (`serve --allow-private-sources` lifts it, `--allow-host` admits hosts).
    pub source_network: autodeploy_source::NetworkPolicy,
    /// Run local-target deployments on this machine. The CLI does; the
    /// service does only with `--allow-local-target` (the code it would run
    /// comes from whoever holds a token).
    pub local_target: bool,
}

impl Default for ExecConfig {
    fn default() -> Self {
        ExecConfig {
            home: default_home(),
            terraform_bin: None,
            state_database_url: None,
            aws_endpoint: None,
            health_timeout: Duration::from_secs(180),
            on_failure: OnFailure::Auto,
            supervisor_exe: None,
            local_port: None,
            tf_vars: Vec::new(),
            force_destroy: false,
            keep_data: false,
            secrets_key: None,
            source_network: autodeploy_source::NetworkPolicy::default(),
            local_target: true,
        }
    }
}

impl ExecConfig {
    /// Defaults, overridden by `AUTODEPLOY_HOME`, `AUTODEPLOY_TERRAFORM_BIN`,
    /// `AUTODEPLOY_STATE_URL`, `AUTODEPLOY_SECRETS_KEY`,
    /// `AUTODEPLOY_AWS_ENDPOINT` (test facility) and
    /// `AUTODEPLOY_HEALTH_TIMEOUT` (seconds).
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let mut c = ExecConfig::default();
        if let Some(h) = var("AUTODEPLOY_HOME") {
            c.home = absolute_home(Path::new(&h));
        }
        c.terraform_bin = var("AUTODEPLOY_TERRAFORM_BIN").map(PathBuf::from);
        c.state_database_url = var("AUTODEPLOY_STATE_URL");
        c.aws_endpoint = var("AUTODEPLOY_AWS_ENDPOINT");
        c.secrets_key = var("AUTODEPLOY_SECRETS_KEY");
        if let Some(t) = var("AUTODEPLOY_HEALTH_TIMEOUT").and_then(|t| t.parse::<u64>().ok()) {
            c.health_timeout = Duration::from_secs(t);
        }
        c
    }

    /// The folder of one deployment's files.
    pub fn deployment_dir(&self, id: &str) -> PathBuf {
        self.home.join("deployments").join(id)
    }

    /// The key that seals secret values for the store.
    pub fn secret_box(
        &self,
    ) -> Result<autodeploy_store::secrets::SecretBox, autodeploy_store::secrets::SealError> {
        autodeploy_store::secrets::SecretBox::open_or_create(
            &self.home,
            self.secrets_key.as_deref(),
        )
    }

    /// The embedded store's URL (`sqlite://<home>/autodeploy.db`).
    pub fn default_store_url(&self) -> String {
        format!("sqlite://{}", self.home.join("autodeploy.db").display())
    }
}

/// `$XDG_DATA_HOME/autodeploy` or `~/.local/share/autodeploy`; as root
/// `/var/lib/autodeploy` (each deployment's code runs as an account of its
/// own, which must be able to reach its folder — `/root` is private).
/// `home` made absolute against the working folder (`s27-home` →
/// `/work/sweep/s27-home`): the deployments' accounts, the data services and
/// the supervisors run in other folders and must find the same place.
pub fn absolute_home(home: &Path) -> PathBuf {
    std::path::absolute(home).unwrap_or_else(|_| home.to_path_buf())
}

pub fn default_home() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(x).join("autodeploy");
    }
    // SAFETY: geteuid never fails.
    if unsafe { libc::geteuid() } == 0 {
        return PathBuf::from("/var/lib/autodeploy");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".local/share/autodeploy")
}
