//! The Azure network: one VNet from the plan's CIDR with an `app` subnet
//! (VMs, the VM scale set, AKS nodes or the Container Apps environment), a
//! `database` subnet delegated to the flexible server, a `private-endpoints`
//! subnet for Azure Cache for Redis, and — for VMs — a network security group
//! on the app subnet that admits only 80/443 from the Internet, SSH only from
//! `var.ssh_allowed_cidrs` (empty by default: no SSH at all) and the load
//! balancer's health probes. Writes `terraform/network.tf`.
//!
//! Shared names: `azurerm_virtual_network.main`, `azurerm_subnet.app`,
//! `azurerm_subnet.database`, `azurerm_subnet.private_endpoints`,
//! `azurerm_network_security_group.app`.
//!
//! Not here: choosing CIDRs (decide did), the data services in those subnets
//! (data.rs).

use crate::{file, unsupported, BundleFile, RenderError};
use autodeploy_core::{DataService, Decision, DeployStrategy, NetworkPlan};
use serde_json::json;

/// True when the bundle needs the VNet: VMs and AKS always, Container Apps
/// when a private data service must be reachable.
pub fn needed(d: &Decision) -> bool {
    matches!(d.strategy, DeployStrategy::Vm | DeployStrategy::Kubernetes)
        || d.database.is_some()
        || d.cache.is_some()
}

fn cidr<'a>(d: &Decision, net: &'a NetworkPlan, name: &str) -> Result<&'a str, RenderError> {
    net.subnets
        .iter()
        .find(|s| s.name == name)
        .map(|s| s.cidr.as_str())
        .ok_or_else(|| {
            unsupported(
                d,
                &format!("a network plan without a `{name}` subnet"),
                "decide plans the app, database and private-endpoints subnets",
            )
        })
}

/// `a.b.c.d/n` with every number in range: CIDRs reach HCL unquoted-safe.
fn valid_cidr(s: &str) -> bool {
    let Some((ip, bits)) = s.split_once('/') else {
        return false;
    };
    let octets: Vec<&str> = ip.split('.').collect();
    octets.len() == 4
        && octets.iter().all(|o| o.parse::<u8>().is_ok())
        && bits.parse::<u8>().is_ok_and(|b| b <= 32)
}

/// `terraform/network.tf`.
pub fn render(d: &Decision) -> Result<Vec<BundleFile>, RenderError> {
    let Some(net) = &d.network else {
        return Err(unsupported(
            d,
            "an Azure bundle without a network plan",
            "VMs, AKS and private data services need the decision's VNet",
        ));
    };
    let app = cidr(d, net, "app")?;
    let database = match &d.database {
        Some(db) => Some(json!({
            "cidr": cidr(d, net, "database")?,
            "delegation": match db.service {
                DataService::AzurePostgresqlFlexible => "Microsoft.DBforPostgreSQL/flexibleServers",
                _ => "Microsoft.DBforMySQL/flexibleServers",
            },
            "port": db.port,
        })),
        None => None,
    };
    let endpoints = match &d.cache {
        Some(_) => Some(cidr(d, net, "private-endpoints")?),
        None => None,
    };
    let all = [Some(net.vpc_cidr.as_str()), Some(app), endpoints]
        .into_iter()
        .flatten()
        .chain(database.as_ref().and_then(|x| x["cidr"].as_str()));
    for c in all {
        if !valid_cidr(c) {
            return Err(unsupported(
                d,
                &format!("the address range {c:?}"),
                "address ranges are IPv4 CIDRs such as 10.0.0.0/16",
            ));
        }
    }
    let ctx = json!({
        "vnet_cidr": net.vpc_cidr,
        "app_cidr": app,
        "database": database,
        "endpoints_cidr": endpoints,
        "vm": d.strategy == DeployStrategy::Vm,
    });
    Ok(vec![file(
        "terraform/network.tf",
        "azure/network/terraform/network.tf",
        &ctx,
    )?])
}

#[cfg(test)]
mod tests {
    #[test]
    fn cidrs_are_checked() {
        assert!(super::valid_cidr("10.0.0.0/16"));
        assert!(!super::valid_cidr("10.0.0.0/33"));
        assert!(!super::valid_cidr("10.0.0/16"));
        assert!(!super::valid_cidr("${x}/16"));
    }
}
