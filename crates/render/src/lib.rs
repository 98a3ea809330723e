//! The render stage: a [`Decision`] (plus the [`Analysis`] it came from) → a
//! [`Bundle`] of files a person can review and Terraform can apply:
//! `terraform/` (main.tf, variables.tf, outputs.tf, versions.tf, backend),
//! `cloud-init.yaml`, `Dockerfile` + `.dockerignore`, `k8s/` manifests where
//! relevant, and `PLAN.md`.
//!
//! Every file is a minijinja template under `templates/` (embedded at build
//! time by `build.rs`). Every value that came from a repository or a request
//! reaches a template only through an escaping filter for the language it
//! lands in (`escape.rs`): `hcl` (a quoted HCL string with `${`/`%{` made
//! inert), `sh` (one single-quoted shell word), `yaml` (a double-quoted YAML
//! scalar), `json`, `docker_cmd` (Dockerfile JSON-form CMD). Templates never
//! build HCL or shell by string concatenation of unescaped values.
//!
//! Deliberately not here: choosing anything (decide did), writing files to
//! disk (the CLI does), running Terraform (execute does).

pub mod aws;
pub mod azure;
pub mod docker;
pub mod escape;
pub mod gcp;
mod health;
pub mod k8s;
pub mod plan_md;
mod templates;
mod vm_service;

use autodeploy_core::{Analysis, Cloud, Decision, DeployStrategy};
use serde::{Deserialize, Serialize};

pub use templates::environment;

/// One rendered file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleFile {
    /// Path relative to the bundle root, `/`-separated.
    pub path: String,
    pub contents: String,
    /// True for scripts that must be executable.
    #[serde(default)]
    pub executable: bool,
}

/// Everything render produced for one deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    pub files: Vec<BundleFile>,
    /// The bundle path (`source.zip`) where whoever writes the bundle must
    /// put an archive of the source folder: set when the machines cannot
    /// fetch the source themselves (a local folder or an archive on a VM),
    /// so Terraform uploads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_archive: Option<String>,
}

impl Bundle {
    pub fn get(&self, path: &str) -> Option<&BundleFile> {
        self.files.iter().find(|f| f.path == path)
    }

    pub fn paths(&self) -> Vec<&str> {
        self.files.iter().map(|f| f.path.as_str()).collect()
    }

    /// Write every file under `dir` (created if missing).
    pub fn write_to(&self, dir: &std::path::Path) -> std::io::Result<()> {
        for f in &self.files {
            let p = dir.join(&f.path);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&p, &f.contents)?;
            #[cfg(unix)]
            if f.executable {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755))?;
            }
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template {template} failed to render: {source}")]
    Template {
        template: String,
        #[source]
        source: minijinja::Error,
    },
    #[error("{what} is not supported yet for {cloud}/{strategy}: {hint}")]
    Unsupported {
        what: String,
        cloud: String,
        strategy: String,
        hint: String,
    },
}

/// Options that change what is rendered, not what was decided.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// The parsed request, shown in PLAN.md ("what the request said").
    pub intent: Option<autodeploy_core::Intent>,
}

/// Render one template with a context.
pub fn render_template<S: Serialize>(name: &str, ctx: S) -> Result<String, RenderError> {
    let env = environment();
    let tmpl = env
        .get_template(name)
        .map_err(|source| RenderError::Template {
            template: name.to_string(),
            source,
        })?;
    tmpl.render(ctx).map_err(|source| RenderError::Template {
        template: name.to_string(),
        source,
    })
}

/// The render stage: container build files for every service that runs code,
/// the cloud's Terraform, and Kubernetes manifests for the kubernetes strategy.
pub fn render(
    decision: &Decision,
    analysis: &Analysis,
    opts: &RenderOptions,
) -> Result<Bundle, RenderError> {
    let mut files = docker::render(decision, analysis)?;
    match decision.cloud {
        Cloud::Aws => files.extend(aws::render(decision)?),
        Cloud::Local => {}
        Cloud::Gcp => files.extend(gcp::render(decision)?),
        Cloud::Azure => files.extend(azure::render(decision)?),
    }
    if decision.strategy == DeployStrategy::Kubernetes {
        files.extend(k8s::render(decision)?);
    }
    let paths: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
    files.push(plan_md::render(decision, opts.intent.as_ref(), &paths)?);
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Bundle {
        files,
        source_archive: source_archive(decision).map(str::to_string),
    })
}

/// A zip archive with no entries (only its end-of-central-directory record):
/// what stands in for [`Bundle::source_archive`] when nothing will boot from
/// it (a destroy, a validation), since Terraform hashes the file.
pub const EMPTY_SOURCE_ARCHIVE: &[u8] = b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";

/// Where the source archive goes in the bundle, when the cloud's machines
/// get the code from it rather than from a git remote.
pub fn source_archive(decision: &Decision) -> Option<&'static str> {
    match decision.cloud {
        Cloud::Aws => aws::vm::uploads_source(decision).then_some(aws::vm::SOURCE_ARCHIVE),
        Cloud::Gcp => gcp::vm::uploads_source(decision).then_some(aws::vm::SOURCE_ARCHIVE),
        Cloud::Azure => azure::vm::uploads_source(decision).then_some(aws::vm::SOURCE_ARCHIVE),
        _ => None,
    }
}

/// The error for a combination render does not cover, worded for a person.
pub fn unsupported(decision: &Decision, what: &str, hint: &str) -> RenderError {
    RenderError::Unsupported {
        what: what.into(),
        cloud: decision.cloud.as_str().into(),
        strategy: decision.strategy.as_str().into(),
        hint: hint.into(),
    }
}

/// A rendered file from a template and a context.
pub fn file<S: Serialize>(path: &str, template: &str, ctx: S) -> Result<BundleFile, RenderError> {
    Ok(BundleFile {
        path: path.into(),
        contents: render_template(template, ctx)?,
        executable: false,
    })
}
/// Each item once, in first-seen order.
pub(crate) fn distinct<T: PartialEq>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

/// corepack's settings wherever it provides pnpm/yarn (images, VMs): the
/// `packageManager`'s release fetched without a prompt, and without one
/// corepack's own known-good release rather than whatever is newest (an
/// unpinned pnpm 12 refused etherpad-lite's lock file), the project's
/// `package.json` never rewritten.
pub(crate) const COREPACK_ENV: &[(&str, &str)] = &[
    ("COREPACK_ENABLE_DOWNLOAD_PROMPT", "0"),
    ("COREPACK_DEFAULT_TO_LATEST", "0"),
    ("COREPACK_ENABLE_AUTO_PIN", "0"),
];

/// What a `rediss://` URL adds for the service's Redis client: Python's
/// (redis-py, Celery) names how it checks the certificate — Celery refuses a
/// `rediss://` URL without `ssl_cert_reqs` — while others take none (go-redis
/// refuses an option it does not know).
pub(crate) fn tls_url_query(family: &str) -> &'static str {
    if family == "python" {
        "?ssl_cert_reqs=required"
    } else {
        ""
    }
}
