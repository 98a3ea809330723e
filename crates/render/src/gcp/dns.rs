//! Custom domains on GCP: the certificate and the Cloud DNS record.
//! - Cloud Run: `google_cloud_run_domain_mapping.<ident>` (Google-managed
//!   certificate; the domain must be verified for the project in Search
//!   Console first) and a CNAME to `ghs.googlehosted.com.`.
//! - A load balancer (managed instance group, GKE ingress):
//!   `google_compute_managed_ssl_certificate.main` and an A record to its
//!   global address.
//! - A single VM: an A record to its static IP; the certificate is Let's
//!   Encrypt's, fetched on the machine by certbot (vm.rs).
//!
//! The record goes in an existing Cloud DNS zone, `var.dns_zone_name` (the
//! zone's resource name, not its DNS name). Without a DNS plan the records are
//! left to the user (the outputs say what to point where).
//! Not here: choosing the provider (decide), the load balancer (lb.rs).

use super::{Part, Var};
use crate::{file, RenderError};
use autodeploy_core::{Decision, Hosting};
use serde_json::json;

/// A DNS name safe to place anywhere: lowercase labels of letters, digits and `-`.
pub fn valid_domain(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.contains('.')
        && h.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// dns.tf (certificate + record) for the plan's domain, or nothing.
pub fn render(d: &Decision) -> Result<Part, RenderError> {
    let Some(domain) = d.tls.domain.as_deref() else {
        return Ok(Part::default());
    };
    if !valid_domain(domain) {
        return Err(crate::unsupported(
            d,
            &format!("the domain {domain:?}"),
            "a lowercase DNS name such as app.example.com",
        ));
    }
    let dns = d.tls.dns.as_ref();
    if let Some(z) = dns {
        if !valid_domain(&z.zone) || !valid_domain(&z.record) {
            return Err(crate::unsupported(
                d,
                &format!("the DNS zone {:?} / record {:?}", z.zone, z.record),
                "lowercase DNS names such as example.com / app.example.com",
            ));
        }
    }
    let hosting = d.services.first().map(|s| s.hosting);
    let (kind, address) =
        match hosting {
            Some(Hosting::CloudRun) => ("cloud_run", ""),
            Some(Hosting::ComputeEngine) => ("vm", "google_compute_address.app.address"),
            Some(Hosting::ComputeEngineMig) => ("lb", "google_compute_global_address.lb.address"),
            Some(Hosting::Gke) => ("lb", "google_compute_global_address.ingress.address"),
            Some(Hosting::CloudStorageCdn) => ("lb", "google_compute_global_address.lb.address"),
            _ => return Err(crate::unsupported(
                d,
                "a custom domain for this GCP hosting",
                "domains are rendered for Cloud Run, VMs, instance groups, GKE and static sites",
            )),
        };
    let run = d
        .services
        .iter()
        .find(|s| s.hosting == Hosting::CloudRun)
        .map(|s| crate::aws::data::tf_ident(&s.name));
    if kind == "cloud_run" && dns.is_some_and(|z| z.record == z.zone) {
        return Err(crate::unsupported(
            d,
            "Cloud Run on a zone apex",
            "Cloud Run domain mappings at the apex need A/AAAA records from the mapping; use a subdomain such as app.example.com",
        ));
    }
    let ctx = json!({
        "kind": kind,
        "domain": domain,
        "address": address,
        "run": run,
        "dns": dns.map(|z| json!({"zone": z.zone, "record": z.record})),
        // Without https (a domain on plain http) the certificate is not asked for.
        "https": d.tls.https,
    });
    let mut vars = Vec::new();
    if let Some(z) = dns {
        vars.push(Var::new(
            "dns_zone_name",
            &format!(
                "Resource name of the existing Cloud DNS managed zone for {} (gcloud dns managed-zones list).",
                z.zone
            ),
            "string",
            crate::escape::hcl(&super::gcp_name(&z.zone, 63)),
        ));
    }
    let mut apis = Vec::new();
    if dns.is_some() {
        apis.push("dns.googleapis.com");
    }
    Ok(Part {
        apis,
        files: vec![file("terraform/dns.tf", "gcp/dns/dns.tf", &ctx)?],
        vars,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn domains_are_plain_dns_names() {
        assert!(super::valid_domain("app.example.com"));
        assert!(!super::valid_domain("app.example.com\"\n"));
        assert!(!super::valid_domain("${var.x}.example.com"));
        assert!(!super::valid_domain("localhost"));
    }
}
