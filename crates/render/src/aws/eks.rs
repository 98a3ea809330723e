//! AWS EKS (strategy `kubernetes`): the cluster (version from the plan), one
//! managed node group in the plan's app subnets with the plan's instance type
//! and node counts (launch template: IMDSv2 required, encrypted gp3), cluster
//! and node IAM roles with the AWS-managed policies, a KMS key for secrets,
//! the control-plane log group, the OIDC provider (no thumbprint needed, so
//! no tls provider), subnet tags for the AWS Load Balancer Controller and an
//! ECR repository per service. Outputs the cluster name/endpoint and the
//! `aws eks update-kubeconfig` command.
//!
//! Not here: the Kubernetes manifests (k8s.rs), the VPC and security groups
//! (network.rs), installing in-cluster add-ons such as the load balancer
//! controller (the deploy stage).

use super::serverless::log_retention_days;
use crate::{BundleFile, RenderError};
use autodeploy_core::{ClusterKind, Decision, Hosting, SubnetTier};
use serde::Serialize;

#[derive(Serialize)]
struct Ctx {
    version: String,
    instance_type: String,
    ami_type: &'static str,
    min_nodes: u32,
    max_nodes: u32,
    desired_nodes: u32,
    subnet_tier: &'static str,
    log_retention_days: u32,
    services: Vec<String>,
}

/// True for Graviton (arm64) instance types: `t4g`, `m7g`, `c7gn`… (a `g`
/// after the generation digit; `g5` is an x86 GPU family).
fn is_arm(instance_type: &str) -> bool {
    let family = instance_type.split('.').next().unwrap_or("");
    let after_digits = family
        .trim_start_matches(|c: char| c.is_ascii_alphabetic())
        .trim_start_matches(|c: char| c.is_ascii_digit());
    after_digits.contains('g')
}

pub fn render(d: &Decision) -> Result<Vec<BundleFile>, RenderError> {
    let Some(cluster) = d.cluster.as_ref().filter(|c| c.kind == ClusterKind::Eks) else {
        return Err(crate::unsupported(
            d,
            "the kubernetes strategy without an EKS cluster plan",
            "decide gives the cluster's size and version",
        ));
    };
    let Some(net) = &d.network else {
        return Err(crate::unsupported(
            d,
            "EKS without a network",
            "the cluster and its nodes need the VPC",
        ));
    };
    if let Some(s) = d.services.iter().find(|s| s.hosting != Hosting::Eks) {
        return Err(crate::unsupported(
            d,
            &format!("service {:?} beside the cluster", s.name),
            "the EKS bundle runs every service in the cluster",
        ));
    }
    if cluster.min_nodes > cluster.desired_nodes || cluster.desired_nodes > cluster.max_nodes {
        return Err(crate::unsupported(
            d,
            "node counts that are not min ≤ desired ≤ max",
            "give consistent node counts",
        ));
    }
    let ctx = Ctx {
        version: cluster.version.clone(),
        instance_type: cluster.node_instance_type.clone(),
        ami_type: if is_arm(&cluster.node_instance_type) {
            "AL2023_ARM_64_STANDARD"
        } else {
            "AL2023_x86_64_STANDARD"
        },
        min_nodes: cluster.min_nodes.max(1),
        max_nodes: cluster.max_nodes.max(1),
        desired_nodes: cluster.desired_nodes.max(1),
        subnet_tier: match net.app_subnet_tier {
            SubnetTier::Public => "public",
            SubnetTier::Private => "private",
        },
        log_retention_days: log_retention_days(d),
        services: d.services.iter().map(|s| s.name.clone()).collect(),
    };
    Ok(vec![crate::file(
        "terraform/eks.tf",
        "aws/eks/terraform/eks.tf",
        &ctx,
    )?])
}

#[cfg(test)]
mod tests {
    use super::is_arm;

    #[test]
    fn graviton_types_are_arm() {
        assert!(is_arm("t4g.medium"));
        assert!(is_arm("c7gn.large"));
        assert!(!is_arm("t3.medium"));
        assert!(!is_arm("g5.xlarge"));
        assert!(!is_arm("m5dn.large"));
    }
}
