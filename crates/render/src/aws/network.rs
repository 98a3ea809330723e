//! AWS files every bundle shares (`versions.tf`, `backend.tf`, `providers.tf`,
//! `variables.tf`, `main.tf` with `local.name` / `local.tags`) and the network
//! (`network.tf`): VPC over two zones, public and private subnets, NAT,
//! routing, and the `lb` / `app` security groups of the contract in
//! `aws/mod.rs`.
//!
//! Not here: compute (vm.rs, container.rs…), data-store security groups
//! (data.rs), certificates (tls.rs). Nothing is chosen here: subnets, NAT
//! count and open ports come from the decision's [`NetworkPlan`].

use crate::{file, BundleFile, RenderError};
use autodeploy_core::{Decision, DeployStrategy, Endpoint, LoadBalancerKind, SubnetTier};
use serde::Serialize;

#[derive(Serialize)]
struct Subnet {
    cidr: String,
    zone: u32,
}

#[derive(Serialize)]
struct Rule {
    label: String,
    direction: &'static str,
    group: &'static str,
    peer: &'static str,
    cidr: Option<&'static str>,
    protocol: String,
    port: u16,
    description: String,
}

/// versions.tf, backend.tf, providers.tf, main.tf (locals) and variables.tf
/// (with the vm strategy's inputs when the strategy is vm).
pub fn common(d: &Decision) -> Result<Vec<BundleFile>, RenderError> {
    let vm = if d.strategy == DeployStrategy::Vm {
        Some(super::vm::variables(d)?)
    } else {
        None
    };
    let ctx = serde_json::json!({
        "name": d.name,
        "region": d.region,
        "environment": d.environment,
        "commit": d.source.commit.clone().unwrap_or_default(),
        "vm": vm,
    });
    Ok(vec![
        file(
            "terraform/versions.tf",
            "aws/common/terraform/versions.tf",
            &ctx,
        )?,
        file(
            "terraform/backend.tf",
            "aws/common/terraform/backend.tf",
            &ctx,
        )?,
        file(
            "terraform/providers.tf",
            "aws/common/terraform/providers.tf",
            &ctx,
        )?,
        file("terraform/main.tf", "aws/common/terraform/main.tf", &ctx)?,
        file(
            "terraform/variables.tf",
            "aws/common/terraform/variables.tf",
            &ctx,
        )?,
    ])
}

/// True when the decision puts an ALB in front of the services.
pub fn has_alb(d: &Decision) -> bool {
    d.load_balancer
        .as_ref()
        .is_some_and(|lb| lb.kind == LoadBalancerKind::AwsAlb)
}

/// VPC, subnets, routing, security groups (`network.tf`).
pub fn render(d: &Decision) -> Result<Vec<BundleFile>, RenderError> {
    let Some(net) = &d.network else {
        return Ok(Vec::new());
    };
    let subnets = |tier: SubnetTier| -> Vec<Subnet> {
        net.subnets
            .iter()
            .filter(|s| s.tier == tier)
            .map(|s| Subnet {
                cidr: s.cidr.clone(),
                zone: s.zone_index,
            })
            .collect()
    };
    let public = subnets(SubnetTier::Public);
    let private = subnets(SubnetTier::Private);
    if public.is_empty() {
        return Err(crate::unsupported(
            d,
            "a network without public subnets",
            "the internet gateway, NAT and load balancers need public subnets",
        ));
    }
    if net.nat_gateways as usize > public.len() || (net.nat_gateways > 0 && private.is_empty()) {
        return Err(crate::unsupported(
            d,
            "this NAT layout",
            "NAT gateways sit one per public subnet and serve private subnets",
        ));
    }
    if net.ssh_from_internet {
        return Err(crate::unsupported(
            d,
            "SSH from the internet",
            "operators reach machines through SSM Session Manager instead",
        ));
    }
    // On EKS the load balancer (and its security group, and the rule from it
    // to the nodes) belongs to the AWS Load Balancer Controller, not to
    // Terraform: a group here would sit unattached and open to the internet.
    let eks = d.strategy == DeployStrategy::Kubernetes;
    let lb = !eks
        && (has_alb(d)
            || net
                .ingress
                .iter()
                .any(|r| r.to == Endpoint::LoadBalancer || r.from == Endpoint::LoadBalancer));

    let mut rules = Vec::new();
    for r in &net.ingress {
        if eks && (r.to == Endpoint::LoadBalancer || r.from == Endpoint::LoadBalancer) {
            continue;
        }
        let protocol = r.protocol.to_ascii_lowercase();
        if protocol != "tcp" && protocol != "udp" {
            return Err(crate::unsupported(
                d,
                &format!("an ingress rule over {:?}", r.protocol),
                "only tcp and udp rules are rendered",
            ));
        }
        let group = match r.to {
            Endpoint::LoadBalancer => "lb",
            Endpoint::App => "app",
            // Data-store security groups and their rules belong to data.rs.
            Endpoint::Database | Endpoint::Cache => continue,
            Endpoint::Internet => {
                return Err(crate::unsupported(
                    d,
                    "a rule towards the internet",
                    "ingress rules end at the load balancer, the app or a data store",
                ))
            }
        };
        let (peer, cidr, from_label) = match r.from {
            Endpoint::Internet => ("", Some("0.0.0.0/0"), "internet"),
            Endpoint::LoadBalancer => ("lb", None, "lb"),
            Endpoint::App => ("app", None, "app"),
            Endpoint::Database | Endpoint::Cache => {
                return Err(crate::unsupported(
                    d,
                    "a rule from a data store",
                    "data stores only receive connections",
                ))
            }
        };
        let label = format!("{group}_from_{from_label}_{}", r.port);
        if rules.iter().any(|x: &Rule| x.label == label) {
            continue;
        }
        rules.push(Rule {
            label,
            direction: "ingress",
            group,
            peer,
            cidr,
            protocol: protocol.clone(),
            port: r.port,
            description: r.purpose.clone(),
        });
        // The load balancer may only talk to the app on the ports the app accepts from it.
        if r.from == Endpoint::LoadBalancer && r.to == Endpoint::App {
            rules.push(Rule {
                label: format!("lb_to_app_{}", r.port),
                direction: "egress",
                group: "lb",
                peer: "app",
                cidr: None,
                protocol,
                port: r.port,
                description: format!("to the app servers: {}", r.purpose),
            });
        }
    }
    let ctx = serde_json::json!({
        "admin_access": net.admin_access,
        "vpc_cidr": net.vpc_cidr,
        "public_subnets": public,
        "private_subnets": private,
        "nat_gateways": net.nat_gateways,
        "lb": lb,
        "rules": rules,
    });
    Ok(vec![file(
        "terraform/network.tf",
        "aws/network/terraform/network.tf",
        &ctx,
    )?])
}
