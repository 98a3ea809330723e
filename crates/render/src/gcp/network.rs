//! The GCP network: one custom-mode VPC `google_compute_network.main` with
//! one regional subnet `google_compute_subnetwork.app` (Private Google Access
//! on, flow logs on; VPC-native secondary ranges `pods` and `services` when a
//! GKE cluster uses it), the firewall rules and, when machines have no public
//! address, a Cloud Router + NAT for their outbound traffic (packages, the
//! repository). Private service access (`google_compute_global_address.private_services`
//! and `google_service_networking_connection.private_services`) when Cloud SQL
//! or Memorystore is planned: both get private IPs only.
//!
//! Firewall, and nothing else inbound (GCP denies the rest implicitly):
//! - a single VM: 80 and 443 from anywhere to the tag `web` (nginx);
//! - a managed instance group: the app port from Google's load balancer and
//!   health-check ranges (130.211.0.0/22, 35.191.0.0/16) to the tag `app`;
//! - VMs: SSH (22) only from Identity-Aware Proxy's 35.235.240.0/20, never
//!   from 0.0.0.0/0 (`gcloud compute ssh --tunnel-through-iap`, OS Login).
//!
//! Not here: the machines (vm.rs), the cluster (gke.rs), the data stores (data.rs).

use super::Part;
use crate::{file, RenderError};
use autodeploy_core::{Decision, DeployStrategy, Hosting, SubnetTier};
use serde_json::json;

/// IAP's TCP forwarding range: the only source SSH is open to.
pub const IAP_RANGE: &str = "35.235.240.0/20";

/// True when the bundle needs the VPC.
pub fn needed(d: &Decision) -> bool {
    matches!(d.strategy, DeployStrategy::Vm | DeployStrategy::Kubernetes)
        || d.database.is_some()
        || d.cache.is_some()
}

/// True when the data stores need private service access.
pub fn private_services(d: &Decision) -> bool {
    d.database.is_some() || d.cache.is_some()
}

/// A CIDR block: digits, dots and one `/` with a prefix length.
fn valid_cidr(c: &str) -> bool {
    let Some((ip, len)) = c.split_once('/') else {
        return false;
    };
    let octets: Vec<&str> = ip.split('.').collect();
    octets.len() == 4
        && octets.iter().all(|o| o.parse::<u8>().is_ok())
        && len.parse::<u8>().is_ok_and(|l| (8..=29).contains(&l))
}

/// network.tf, or nothing for a bundle without a VPC.
pub fn render(d: &Decision) -> Result<Part, RenderError> {
    if !needed(d) {
        return Ok(Part::default());
    }
    let subnets = d
        .network
        .as_ref()
        .map(|n| n.subnets.as_slice())
        .unwrap_or(&[]);
    let app_cidr = subnets
        .iter()
        .find(|s| s.name == "app")
        .map_or("10.0.0.0/20", |s| s.cidr.as_str());
    let services_cidr = subnets
        .iter()
        .find(|s| s.name == "private-services")
        .map_or("10.100.0.0/16", |s| s.cidr.as_str());
    for c in [app_cidr, services_cidr] {
        if !valid_cidr(c) {
            return Err(crate::unsupported(
                d,
                &format!("the address range {c:?}"),
                "subnets need an IPv4 CIDR block such as 10.0.0.0/20",
            ));
        }
    }
    let (services_ip, services_len) = services_cidr.split_once('/').unwrap_or_default();
    let hosting = d.services.first().map(|s| s.hosting);
    let single_vm = hosting == Some(Hosting::ComputeEngine);
    let mig = hosting == Some(Hosting::ComputeEngineMig);
    let gke = d.strategy == DeployStrategy::Kubernetes;
    // The web service's (a machine's workers have none).
    let app_port = d.services.iter().find_map(|s| s.port);
    let private_app = d
        .network
        .as_ref()
        .is_some_and(|n| n.app_subnet_tier == SubnetTier::Private);
    let ctx = json!({
        "app_cidr": app_cidr,
        "services_ip": services_ip,
        "services_len": services_len,
        "gke": gke,
        "vm": single_vm || mig,
        "single_vm": single_vm,
        "https": d.tls.https,
        "mig": mig,
        "app_port": app_port,
        // Machines without public addresses still fetch packages and code.
        "nat": mig || gke || (single_vm && private_app),
        "private_services": private_services(d),
        "iap_range": IAP_RANGE,
    });
    let mut apis = vec!["compute.googleapis.com"];
    if private_services(d) {
        apis.push("servicenetworking.googleapis.com");
    }
    Ok(Part {
        apis,
        files: vec![file(
            "terraform/network.tf",
            "gcp/network/network.tf",
            &ctx,
        )?],
        vars: vec![],
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn cidrs_are_checked() {
        assert!(super::valid_cidr("10.0.0.0/20"));
        assert!(!super::valid_cidr("10.0.0.0"));
        assert!(!super::valid_cidr("10.0.0.0/20\" }"));
    }
}
