//! The global external Application Load Balancer in front of a managed
//! instance group: `google_compute_global_address.lb`, a backend service on
//! the group's named port `http` with the group's health check, a URL map, an
//! HTTP proxy (or, with https, an HTTPS proxy with the Google-managed
//! certificate from dns.rs, a MODERN TLS >= 1.2 policy, and an HTTP proxy that
//! only redirects to https) and the forwarding rules. Request logging on.
//!
//! Not here: the group and its health check (vm.rs), the certificate and DNS
//! record (dns.rs), the firewall rule for the proxies (network.rs).

use crate::{file, BundleFile, RenderError};
use autodeploy_core::Decision;
use serde_json::Value;

/// `terraform/lb.tf`; `vm_ctx` is vm.rs's context (https, domain).
pub fn render(d: &Decision, vm_ctx: &Value) -> Result<BundleFile, RenderError> {
    let mut ctx = vm_ctx.clone();
    ctx["idle_timeout"] = d
        .load_balancer
        .as_ref()
        .map_or(60, |lb| lb.idle_timeout_seconds.clamp(5, 3600))
        .into();
    file("terraform/lb.tf", "gcp/lb/lb.tf", &ctx)
}
