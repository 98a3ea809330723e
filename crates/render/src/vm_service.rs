//! What every cloud's VM strategy needs to know about the one service it runs
//! (AWS EC2, GCP Compute Engine, Azure Linux VM): the runtime it can install,
//! the start command, the port, the folder inside the clone, and the parts of
//! the launcher configuration and cloud-init that do not depend on the cloud.
//!
//! The checks are the same on every cloud; only the hints that say which other
//! strategy to ask for differ, so each caller passes its own.
//!
//! Deliberately not here: cloud-specific configuration (secrets lookups,
//! databases, certbot) — each cloud's `vm.rs` adds those to [`VmService::config`].

use crate::{unsupported, RenderError};
use autodeploy_core::{DatabaseOutput, Decision, ServicePlan};
use serde_json::{json, Map, Value};

/// Where cloud-init clones the repository on the VM.
pub(crate) const REPO_DIR: &str = "/opt/app/src";

/// Runtime families the shared install script knows how to set up on Debian/Ubuntu.
const VM_RUNTIMES: &[&str] = &[
    "python", "node", "go", "ruby", "php", "jvm", "dotnet", "rust", "elixir",
];

/// The cloud-specific halves of the refusals.
pub(crate) struct Hints {
    /// What to ask for instead when the runtime is not one a VM can install.
    pub other_runtime: &'static str,
    /// What to ask for instead when the service has no port.
    pub no_port: &'static str,
}

/// A service that can run on a VM, checked.
pub(crate) struct VmService<'a> {
    pub family: &'a str,
    pub version: &'a str,
    /// The JDK major version for `jvm` (17 when asked for, else 21).
    pub jdk: &'static str,
    pub start: &'a str,
    pub port: u16,
    /// The service folder on the VM, inside [`REPO_DIR`].
    pub workdir: String,
}

/// Check that `s` can run on a VM: a runtime the install script knows, a
/// plain version number, a start command, a port and a folder that stays
/// inside the repository.
pub(crate) fn vm_service<'a>(
    d: &Decision,
    s: &'a ServicePlan,
    hints: &Hints,
) -> Result<VmService<'a>, RenderError> {
    let family = s.runtime.family.as_str();
    let version = s.runtime.version.as_str();
    if !VM_RUNTIMES.contains(&family) {
        return Err(unsupported(
            d,
            &format!("the {family} runtime on a VM"),
            hints.other_runtime,
        ));
    }
    let version_ok = !version.is_empty()
        && version.len() <= 16
        && version.chars().all(|c| c.is_ascii_digit() || c == '.')
        && (family != "node" || version.chars().all(|c| c.is_ascii_digit()));
    if !version_ok {
        return Err(unsupported(
            d,
            &format!("the {family} runtime version {version:?} on a VM"),
            "a major version number (e.g. 20) is needed to fetch the runtime",
        ));
    }
    let Some(start) = s.start.as_deref() else {
        return Err(unsupported(
            d,
            "a service without a start command",
            "say how the app starts (a Procfile or a start script)",
        ));
    };
    let Some(port) = s.port else {
        return Err(unsupported(
            d,
            "a service without a port on a VM",
            hints.no_port,
        ));
    };
    let rel = s.path.trim_start_matches("./");
    if rel.starts_with('/') || rel.split('/').any(|c| c == "..") || rel.contains('\0') {
        return Err(unsupported(
            d,
            &format!("the service path {:?}", s.path),
            "service folders must stay inside the repository",
        ));
    }
    let workdir = if rel.is_empty() || rel == "." {
        REPO_DIR.to_string()
    } else {
        format!("{REPO_DIR}/{rel}")
    };
    Ok(VmService {
        family,
        version,
        jdk: if version.split('.').next() == Some("17") {
            "17"
        } else {
            "21"
        },
        start,
        port,
        workdir,
    })
}

impl VmService<'_> {
    /// The launcher configuration every cloud shares; callers add `env` and
    /// their own keys. `health_timeout` is in seconds.
    pub fn config(&self, s: &ServicePlan, health_timeout: u64) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("repo".into(), REPO_DIR.into());
        m.insert("workdir".into(), self.workdir.clone().into());
        m.insert(
            "path_prefix".into(),
            if self.family == "python" {
                "/opt/app/venv/bin:/usr/local/bin"
            } else {
                "/usr/local/bin"
            }
            .into(),
        );
        m.insert("install".into(), json!(s.install));
        m.insert("build".into(), json!(s.build));
        m.insert("release".into(), json!(s.release));
        m.insert("start".into(), self.start.into());
        m.insert("port".into(), self.port.into());
        m.insert(
            "health_path".into(),
            s.health_check
                .as_ref()
                .map_or("/", |h| h.path.as_str())
                .into(),
        );
        m.insert("health_timeout".into(), health_timeout.into());
        m.insert("source_fixes".into(), json!(s.source_fixes));
        m
    }

    /// The template context every cloud shares (name, runtime, port, the
    /// clone and checkout commands, the launcher configuration as JSON);
    /// callers add `nginx` and their own flags.
    pub fn context(&self, d: &Decision, config: &Map<String, Value>) -> Map<String, Value> {
        let sh = crate::escape::sh;
        let mut m = Map::new();
        m.insert("name".into(), d.name.clone().into());
        m.insert("family".into(), self.family.into());
        m.insert("version".into(), self.version.into());
        m.insert("jdk".into(), self.jdk.into());
        m.insert("port".into(), self.port.into());
        m.insert(
            "config_json".into(),
            serde_json::to_string_pretty(config)
                .unwrap_or_default()
                .into(),
        );
        m.insert(
            "clone_cmd".into(),
            format!("git clone -- {} {REPO_DIR}", sh(&d.source.input)).into(),
        );
        m.insert(
            "checkout_cmd".into(),
            json!(d
                .source
                .commit
                .as_ref()
                .map(|c| format!("git -C {REPO_DIR} checkout --detach {}", sh(c)))),
        );
        m
    }
}

/// A launcher env entry for a database setting (`{"from": "database"}`):
/// the launcher assembles it at start, with the scheme the code reads.
pub(crate) fn database_entry(
    d: &Decision,
    name: &str,
    output: &DatabaseOutput,
    scheme: Option<&str>,
) -> Result<Value, RenderError> {
    match scheme {
        None => Ok(json!({"name": name, "from": "database", "value": output})),
        Some(sc) if autodeploy_core::conn::is_url_scheme(sc) => {
            Ok(json!({"name": name, "from": "database", "value": output, "scheme": sc}))
        }
        Some(sc) => Err(unsupported(
            d,
            &format!("the URL scheme {sc:?} for {name}"),
            "a scheme is letters, digits, `+`, `-` and `.`",
        )),
    }
}
