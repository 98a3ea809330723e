//! GCP Terraform: one `.tf` file per concern under `terraform/`, using only
//! the `hashicorp/google` provider (~> 6.27, for write-only arguments) and
//! Terraform built-ins (no random/archive/null providers). Terraform >= 1.11
//! (ephemeral variables and write-only arguments).
//!
//! Resource names shared between files (the contract between modules):
//! - common (this file): `var.project`, `var.region`, `var.name`,
//!   `var.environment`, `var.app_commit`, `local.name` (resource name
//!   prefix), `local.labels`, `google_project_service.apis` (for_each over
//!   the APIs the bundle needs; every resource that needs an API
//!   `depends_on` it), and the variables the other files ask for
//!   ([`Var`]: machine type, replica counts, the ephemeral database
//!   password, the Cloud DNS zone…).
//! - network.rs: `google_compute_network.main`, `google_compute_subnetwork.app`
//!   (VPC-native: secondary ranges `pods`/`services` for GKE),
//!   `data.google_compute_zones.available`, the firewall rules (80/443 to the
//!   tag `web`, the load balancer ranges to the app port on the tag `app`,
//!   SSH only from IAP's 35.235.240.0/20), Cloud NAT for machines without
//!   public addresses, and private service access
//!   (`google_service_networking_connection.private_services`) for Cloud SQL
//!   and Memorystore.
//! - secrets.rs: `google_secret_manager_secret.<tf_ident(name)>` for each
//!   secret slot: the plan's secrets plus the data slots data.rs names. Only
//!   the slot is created; values never reach `.tf` files or the state.
//! - data.rs: `google_sql_database_instance.db` (+ `google_sql_database.app`,
//!   `google_sql_user.app` with a write-only password) and
//!   `google_redis_instance.cache`, both on private IPs only; how each
//!   `EnvValue::Database`/`Cache` reaches a platform ([`data::DataRef`]).
//! - cloud_run.rs: Artifact Registry `google_artifact_registry_repository.app`,
//!   `google_cloud_run_v2_service.<ident>` (Direct VPC egress when it talks to
//!   a data store), domain mapping.
//! - vm.rs: Compute Engine (`google_compute_instance.app` + static IP) or a
//!   managed instance group (`google_compute_region_instance_group_manager.app`
//!   with an autoscaler) and the bundle's `cloud-init.yaml`; lb.rs: the global
//!   external Application Load Balancer in front of the group
//!   (`google_compute_global_address.lb`).
//! - gke.rs: `google_container_cluster.main` + `google_container_node_pool.main`,
//!   Artifact Registry and Cloud Build for the images; the manifests are
//!   k8s.rs's.
//! - dns.rs: Google-managed certificates and Cloud DNS records in an existing
//!   zone (`var.dns_zone_name`).
//!
//! The deploy stage's part (the `deploy_steps` output spells it out per
//! bundle): `terraform apply -target=` the registries, secrets and data stores
//! with `TF_VAR_database_password` set to a fresh CSPRNG value; write that
//! value and the other slots (`gcloud secrets versions add`); build images;
//! then the full apply.
//!
//! Covered: Cloud Run, Compute Engine VM, managed instance group + load
//! balancer, GKE (standard, one node pool), Cloud SQL PostgreSQL/MySQL,
//! Memorystore Redis, managed certificates + Cloud DNS, static sites on
//! Cloud Storage + Cloud CDN (static_site.rs). Not covered
//! ([`crate::unsupported`]): serverless functions, Memcached, MongoDB on
//! Cloud SQL (an external connection string instead). Not here: choosing sizes or services
//! (decide did), the Dockerfile (docker.rs), Kubernetes manifests (k8s.rs).

pub mod cloud_run;
pub mod data;
pub mod dns;
pub mod gke;
pub mod lb;
pub mod network;
pub mod secrets;
pub mod static_site;
pub mod vm;

use crate::aws::data::tf_ident;
use crate::{file, BundleFile, RenderError};
use autodeploy_core::{Decision, DeployStrategy, EnvValue};
use serde::Serialize;

/// A GCP resource name: lowercase letters, digits and `-`, starting with a
/// letter, not ending in `-`, at most `max` characters (never empty).
pub fn gcp_name(name: &str, max: usize) -> String {
    let mut s = String::new();
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            s.push(c);
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
    }
    if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        s.insert_str(0, "app-");
    }
    s.truncate(max);
    while s.ends_with('-') {
        s.pop();
    }
    if s.is_empty() {
        s.push_str("app");
    }
    s
}

#[derive(Serialize)]
struct Input {
    variable: String,
    env: String,
}

/// A variable another file needs, declared in `variables.tf`.
#[derive(Debug, Clone, Serialize)]
pub struct Var {
    pub name: &'static str,
    /// Plain text (escaped by the template).
    pub description: String,
    /// HCL type expression (`string`, `number`, `bool`).
    pub r#type: &'static str,
    /// HCL expression of the default; None for a required variable.
    pub default: Option<String>,
    pub sensitive: bool,
    /// Never stored in plan or state (Terraform >= 1.10).
    pub ephemeral: bool,
}

impl Var {
    pub fn new(name: &'static str, description: &str, ty: &'static str, default: String) -> Var {
        Var {
            name,
            description: description.into(),
            r#type: ty,
            default: Some(default),
            sensitive: false,
            ephemeral: false,
        }
    }
}

#[derive(Serialize)]
struct Common<'a> {
    region: &'a str,
    name: String,
    environment: &'a str,
    commit: String,
    apis: Vec<&'static str>,
    inputs: Vec<Input>,
    vars: Vec<Var>,
}

/// What one strategy contributes to the bundle.
#[derive(Default)]
pub struct Part {
    pub apis: Vec<&'static str>,
    pub files: Vec<BundleFile>,
    pub vars: Vec<Var>,
}

/// Names that the bundle's own variables use: input variables may not take them.
const RESERVED: &[&str] = &[
    "project",
    "region",
    "name",
    "environment",
    "app_commit",
    "machine_type",
    "boot_disk_size",
    "min_replicas",
    "max_replicas",
    "cpu_target",
    "database_password",
    "database_password_version",
    "dns_zone_name",
];

/// The input variables of the bundle (checked: a plain identifier no built-in uses).
fn inputs(d: &Decision) -> Result<Vec<Input>, RenderError> {
    let mut inputs: Vec<Input> = Vec::new();
    for s in &d.services {
        for b in &s.env {
            if let EnvValue::Input { variable } = &b.value {
                let ident = tf_ident(variable);
                if RESERVED.contains(&ident.as_str()) {
                    return Err(crate::unsupported(
                        d,
                        &format!("the input variable {variable:?}"),
                        "its name is one of the bundle's own variables; rename the input",
                    ));
                }
                if !inputs.iter().any(|i| i.variable == ident) {
                    inputs.push(Input {
                        variable: ident,
                        env: b.name.clone(),
                    });
                }
            }
        }
    }
    Ok(inputs)
}

/// Every Terraform file of a GCP bundle (and `cloud-init.yaml` for VMs).
pub fn render(d: &Decision) -> Result<Vec<BundleFile>, RenderError> {
    let mut part =
        match d.strategy {
            DeployStrategy::Container => cloud_run::render(d)?,
            DeployStrategy::Vm => vm::render(d)?,
            DeployStrategy::Kubernetes => gke::render(d)?,
            DeployStrategy::Static => static_site::render(d)?,
            DeployStrategy::Serverless => {
                return Err(crate::unsupported(
                    d,
                    "a GCP serverless bundle (Cloud Functions)",
                    "not written yet; a container on Cloud Run (\"on Google Cloud Run\") scales to zero too",
                ))
            }
            DeployStrategy::Process => {
                return Err(crate::unsupported(
                    d,
                    "a GCP bundle",
                    "the local target needs no Terraform",
                ))
            }
        };
    let data = data::render(d)?;
    part.apis.extend(data.apis);
    part.vars.extend(data.vars);
    let net = network::render(d)?;
    part.apis.extend(net.apis);
    let secret_files = secrets::render(d)?;
    if !secret_files.is_empty() {
        part.apis.push("secretmanager.googleapis.com");
    }
    let mut apis = part.apis;
    apis.sort_unstable();
    apis.dedup();
    let ctx = Common {
        region: &d.region,
        name: gcp_name(&d.name, 20),
        environment: d.environment.as_str(),
        commit: d.source.commit.clone().unwrap_or_else(|| "latest".into()),
        apis,
        inputs: inputs(d)?,
        vars: part.vars,
    };
    let mut files = vec![
        file("terraform/versions.tf", "gcp/common/versions.tf", &ctx)?,
        file("terraform/providers.tf", "gcp/common/providers.tf", &ctx)?,
        file("terraform/variables.tf", "gcp/common/variables.tf", &ctx)?,
        file("terraform/backend.tf", "gcp/common/backend.tf", &ctx)?,
        file("terraform/main.tf", "gcp/common/main.tf", &ctx)?,
    ];
    files.extend(net.files);
    files.extend(secret_files);
    files.extend(data.files);
    files.extend(part.files);
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::gcp_name;

    #[test]
    fn names_fit_gcp_rules() {
        assert_eq!(gcp_name("My_App!", 20), "my-app");
        assert_eq!(gcp_name("2048", 20), "app-2048");
        assert_eq!(gcp_name("a-very-long-name-that-goes-on", 10), "a-very-lon");
        assert_eq!(gcp_name("abc-def", 4), "abc");
        assert_eq!(gcp_name("", 5), "app");
    }
}
