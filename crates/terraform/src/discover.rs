//! Finding the Terraform binary and writing the CLI configuration every
//! terraform call of this runner uses.
//!
//! The configuration (`<home>/terraform/terraformrc`) sets a plugin cache and
//! installs providers from every filesystem mirror found (offline machines),
//! falling back to the registry (`direct {}`) only when there is no mirror.
//! Deliberately not here: running terraform commands (`run.rs`, `commands.rs`)
//! or installing Terraform.

use crate::error::TfError;
use crate::redact::Redactor;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Which implementation the binary is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Terraform,
    OpenTofu,
}

/// A located terraform/tofu binary plus the settings every call shares.
#[derive(Debug, Clone)]
pub struct Terraform {
    pub(crate) bin: PathBuf,
    pub(crate) version: String,
    pub(crate) flavor: Flavor,
    pub(crate) cli_config: PathBuf,
    pub(crate) plugin_cache: PathBuf,
    pub(crate) extra_env: Vec<(String, String)>,
    pub(crate) lock_timeout: Duration,
    pub(crate) attempts: u32,
    pub(crate) backoff: Duration,
    pub(crate) redactor: Redactor,
    /// Set to stop: the running terraform is interrupted (SIGINT to its
    /// process group, SIGKILL after `interrupt_grace`) and nothing is retried.
    pub(crate) cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    pub(crate) interrupt_grace: Duration,
}

/// Directories searched for provider mirrors when `AUTODEPLOY_TF_MIRROR` is unset.
pub fn default_mirror_roots() -> Vec<PathBuf> {
    let mut roots = vec![PathBuf::from("/opt"), PathBuf::from("/usr/share/terraform")];
    if let Some(home) = std::env::var_os("HOME") {
        roots.push(Path::new(&home).join(".terraform.d/plugins"));
    }
    roots
}

/// The provider mirror directories to install from: `env_value`
/// (`AUTODEPLOY_TF_MIRROR`, colon-separated) when given, else every directory
/// holding a `registry.terraform.io` folder found under `roots` (at most two
/// levels down). A mirror named in the variable that does not exist is an error.
pub fn find_mirrors(env_value: Option<&str>, roots: &[PathBuf]) -> Result<Vec<PathBuf>, TfError> {
    if let Some(list) = env_value.filter(|v| !v.trim().is_empty()) {
        let mut out = Vec::new();
        for entry in list.split(':').filter(|e| !e.is_empty()) {
            let p = PathBuf::from(entry);
            if !p.is_dir() {
                return Err(TfError::Config {
                    what: format!(
                        "AUTODEPLOY_TF_MIRROR names {entry}, which is not a directory; \
                         point it at the folder that holds registry.terraform.io/ or unset it"
                    ),
                });
            }
            out.push(p);
        }
        return Ok(out);
    }
    let mut out = Vec::new();
    for root in roots {
        search_mirrors(root, 0, &mut out);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn search_mirrors(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if dir.join("registry.terraform.io").is_dir() {
        out.push(dir.to_path_buf());
    }
    if depth >= 2 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut subdirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n != "registry.terraform.io"))
        .collect();
    subdirs.sort();
    for d in subdirs {
        search_mirrors(&d, depth + 1, out);
    }
}

/// An HCL string literal (quotes, backslashes and template markers escaped).
pub(crate) fn hcl_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The text of the CLI configuration file. With filesystem mirrors there is
/// no plugin cache: `init` links each workspace to the (unpacked, read-only)
/// mirror, so concurrent runs share nothing writable — with a cache, an
/// `init` rewriting a cache entry pulled the provider from under another
/// deployment's running `plan` ("Required plugins are not installed").
/// Without mirrors (downloads) the cache saves a 600 MB download per
/// deployment; see [`Terraform::init`] for how it stays consistent.
pub fn cli_config_text(plugin_cache: &Path, mirrors: &[PathBuf]) -> String {
    let mut s = String::from(
        "# Written by autodeploy for its own terraform runs; rewritten on every start.\n",
    );
    if mirrors.is_empty() {
        s.push_str(&format!(
            "plugin_cache_dir = {}\n\n",
            hcl_string(&plugin_cache.to_string_lossy())
        ));
    }
    s.push_str("provider_installation {\n");
    for m in mirrors {
        s.push_str(&format!(
            "  filesystem_mirror {{\n    path = {}\n  }}\n",
            hcl_string(&m.to_string_lossy())
        ));
    }
    if mirrors.is_empty() {
        s.push_str("  direct {}\n");
    }
    s.push_str("}\n");
    s
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

fn path_lookup(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> TfError + 'a {
    move |source| TfError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

impl Terraform {
    /// Locates the binary: `explicit` (from `--terraform-bin` or the config)
    /// when given, else `terraform` then `tofu` on PATH; asks it for its
    /// version; writes `<home>/terraform/terraformrc` (see [`cli_config_text`])
    /// and creates the plugin cache beside it.
    pub fn discover(explicit: Option<&Path>, home: &Path) -> Result<Self, TfError> {
        let bin = match explicit {
            Some(p) if is_executable(p) => p.to_path_buf(),
            Some(p) => {
                return Err(TfError::NotInstalled {
                    searched: format!("{} is not an executable file", p.display()),
                })
            }
            None => path_lookup("terraform")
                .or_else(|| path_lookup("tofu"))
                .ok_or_else(|| TfError::NotInstalled {
                    searched: "neither `terraform` nor `tofu` is on PATH".into(),
                })?,
        };
        let flavor = if bin
            .file_name()
            .is_some_and(|n| n.to_string_lossy().contains("tofu"))
        {
            Flavor::OpenTofu
        } else {
            Flavor::Terraform
        };

        let tf_home = home.join("terraform");
        let plugin_cache = tf_home.join("plugin-cache");
        std::fs::create_dir_all(&plugin_cache).map_err(io("create", &plugin_cache))?;
        let mirrors = find_mirrors(
            std::env::var("AUTODEPLOY_TF_MIRROR").ok().as_deref(),
            &default_mirror_roots(),
        )?;
        let cli_config = tf_home.join("terraformrc");
        let text = cli_config_text(&plugin_cache, &mirrors);
        // Write-then-rename: several runners may start at once.
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let tmp = tf_home.join(format!(
            "terraformrc.{}.{}.tmp",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&tmp, text).map_err(io("write", &tmp))?;
        std::fs::rename(&tmp, &cli_config).map_err(io("replace", &cli_config))?;

        let version = probe_version(&bin, &cli_config)?;
        let redactor = Redactor::from_vars(
            std::env::vars_os()
                .map(|(k, v)| {
                    (
                        k.to_string_lossy().into_owned(),
                        v.to_string_lossy().into_owned(),
                    )
                })
                .collect::<Vec<_>>()
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        Ok(Terraform {
            bin,
            version,
            flavor,
            cli_config,
            plugin_cache,
            extra_env: Vec::new(),
            lock_timeout: Duration::from_secs(60),
            attempts: 3,
            backoff: Duration::from_secs(2),
            redactor,
            cancel: None,
            interrupt_grace: Duration::from_secs(120),
        })
    }

    /// The version the binary reported, e.g. `1.11.4`.
    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn bin(&self) -> &Path {
        &self.bin
    }

    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// The CLI configuration file every call gets as `TF_CLI_CONFIG_FILE`.
    pub fn cli_config(&self) -> &Path {
        &self.cli_config
    }

    pub fn plugin_cache(&self) -> &Path {
        &self.plugin_cache
    }

    /// `-lock-timeout` of every command that takes the state lock (default 60 s).
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// How many times a transient failure is tried in all (default 3, at least 1).
    pub fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts.max(1);
        self
    }

    /// The first retry delay; doubles on each retry, capped at 60 s (default 2 s).
    pub fn with_backoff(mut self, first_delay: Duration) -> Self {
        self.backoff = first_delay;
        self
    }

    /// An extra environment variable for every terraform call (redacted from
    /// logs when its name says it is a secret).
    pub fn with_env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let (name, value) = (name.into(), value.into());
        self.redactor.add_var(&name, &value);
        self.extra_env.push((name, value));
        self
    }

    /// Stop when `flag` turns true: the running terraform gets SIGINT (it
    /// finishes in-flight calls, saves its state and releases the lock),
    /// SIGKILL for its whole process group (providers included) after
    /// `grace`; the call returns [`TfError::Interrupted`] and nothing is retried.
    pub fn with_cancel(
        mut self,
        flag: std::sync::Arc<std::sync::atomic::AtomicBool>,
        grace: Duration,
    ) -> Self {
        self.cancel = Some(flag);
        self.interrupt_grace = grace;
        self
    }

    pub(crate) fn cancelled(&self) -> bool {
        self.cancel
            .as_ref()
            .is_some_and(|c| c.load(std::sync::atomic::Ordering::SeqCst))
    }

    pub fn lock_timeout(&self) -> Duration {
        self.lock_timeout
    }

    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

fn probe_version(bin: &Path, cli_config: &Path) -> Result<String, TfError> {
    let out = Command::new(bin)
        .args(["version", "-json"])
        .env("TF_CLI_CONFIG_FILE", cli_config)
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .output()
        .map_err(|e| TfError::BadBinary {
            path: bin.to_path_buf(),
            reason: format!("could not run `version -json`: {e}"),
        })?;
    let bad = |reason: String| TfError::BadBinary {
        path: bin.to_path_buf(),
        reason,
    };
    if !out.status.success() {
        return Err(bad(format!(
            "`version -json` exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| bad(format!("`version -json` printed no JSON ({e})")))?;
    v["terraform_version"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| bad("`version -json` has no terraform_version".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_uses_mirrors_and_no_direct_when_mirrors_exist() {
        let text = cli_config_text(
            Path::new("/h/terraform/plugin-cache"),
            &[PathBuf::from("/opt/tf-plugins"), PathBuf::from("/m2")],
        );
        assert!(
            !text.contains("plugin_cache_dir"),
            "mirrors are linked, never cached"
        );
        assert!(text.contains("path = \"/opt/tf-plugins\""));
        assert!(text.contains("path = \"/m2\""));
        assert!(!text.contains("direct"));
        let online = cli_config_text(Path::new("/c"), &[]);
        assert!(online.contains("direct {}"));
        assert!(online.contains("plugin_cache_dir = \"/c\""));
    }

    #[test]
    fn mirrors_are_found_by_their_registry_folder() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(
            t.path()
                .join("a/tf-plugins/registry.terraform.io/hashicorp"),
        )
        .unwrap();
        std::fs::create_dir_all(t.path().join("b/c/d/e/registry.terraform.io")).unwrap(); // too deep
        std::fs::create_dir_all(t.path().join("other")).unwrap();
        let found = find_mirrors(None, &[t.path().to_path_buf()]).unwrap();
        assert_eq!(found, vec![t.path().join("a/tf-plugins")]);

        let listed = format!("{}:{}", t.path().join("a").display(), t.path().display());
        assert_eq!(
            find_mirrors(Some(&listed), &[]).unwrap(),
            vec![t.path().join("a"), t.path().to_path_buf()]
        );
        let err = find_mirrors(Some("/definitely/not/here"), &[]).unwrap_err();
        assert!(err.to_string().contains("/definitely/not/here"), "{err}");
    }

    #[test]
    fn hcl_strings_are_inert() {
        assert_eq!(hcl_string(r#"a"b\c${x}%{y}$z"#), r#""a\"b\\c$${x}%%{y}$z""#);
    }

    #[test]
    fn explicit_missing_binary_says_how_to_install() {
        let t = tempfile::tempdir().unwrap();
        let err = Terraform::discover(Some(Path::new("/no/such/terraform")), t.path()).unwrap_err();
        let s = err.to_string();
        assert!(matches!(err, TfError::NotInstalled { .. }));
        assert!(
            s.contains("/no/such/terraform") && s.contains("developer.hashicorp.com"),
            "{s}"
        );
    }
}
