//! AWS Terraform: one `.tf` file per concern under `terraform/`, all merged
//! by Terraform. Only the `hashicorp/aws` provider and Terraform built-ins are
//! used (no random/archive/tls/null providers), so bundles validate offline.
//!
//! Resource names shared between files (the contract between modules):
//! - network.rs: `aws_vpc.main`, `aws_subnet.public` / `aws_subnet.private`
//!   (count), `aws_security_group.lb` (80/443 from the internet) and
//!   `aws_security_group.app` (the app port from `lb` only, or 80/443 for a
//!   lone VM behind its own nginx), `local.name` (resource name prefix),
//!   `local.tags`.
//! - vm.rs / container.rs / eks.rs / serverless.rs / static_site.rs: compute
//!   for their strategy; the ALB is `aws_lb.main` with `aws_lb_listener.http`
//!   and target group `aws_lb_target_group.web`.
//! - data.rs: `aws_db_instance.main`, `aws_elasticache_replication_group.main`,
//!   their security groups allowing only `aws_security_group.app`, secrets.
//! - tls.rs: `aws_acm_certificate.main`, Route53 records, the HTTPS listener
//!   on `aws_lb.main` when there is one.
//!
//! Not here: choosing sizes or services (decide did).

pub mod container;
pub mod data;
pub mod eks;
pub mod network;
pub mod serverless;
pub mod static_site;
pub mod tls;
pub mod vm;

use crate::{BundleFile, RenderError};
use autodeploy_core::{Decision, DeployStrategy};

/// Every Terraform file of an AWS bundle.
pub fn render(d: &Decision) -> Result<Vec<BundleFile>, RenderError> {
    let mut files = network::common(d)?;
    if d.network.is_some() {
        files.extend(network::render(d)?);
    }
    files.extend(match d.strategy {
        DeployStrategy::Vm => vm::render(d)?,
        DeployStrategy::Container if d.site_front().is_some() => {
            let mut f = container::render(d)?;
            f.extend(static_site::render(d)?);
            f
        }
        DeployStrategy::Container => container::render(d)?,
        DeployStrategy::Kubernetes => eks::render(d)?,
        DeployStrategy::Serverless => serverless::render(d)?,
        DeployStrategy::Static => static_site::render(d)?,
        DeployStrategy::Process => {
            return Err(crate::unsupported(
                d,
                "an AWS bundle",
                "the local target needs no Terraform",
            ))
        }
    });
    files.extend(data::render(d)?);
    files.extend(tls::render(d)?);
    Ok(files)
}
