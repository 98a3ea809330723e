//! AWS TLS and DNS for a load balancer: an ACM certificate validated through
//! Route53 (`aws_acm_certificate.main`, validation records,
//! `aws_acm_certificate_validation.main`), an alias A record to `aws_lb.main`,
//! and the HTTPS listener (TLS 1.2+ policy) forwarding to
//! `aws_lb_target_group.web`. The HTTP listener that redirects to HTTPS is the
//! compute module's `aws_lb_listener.http`; it asks [`alb_https`] whether to
//! redirect.
//!
//! Not here: a lone VM's certificate (Let's Encrypt on the machine, which the
//! VM's cloud-init handles: this module renders nothing for it), CloudFront or
//! API Gateway certificates, and choosing the domain (decide did).

use crate::{file, BundleFile, RenderError};
use autodeploy_core::{CertificateProvider, Decision, DnsProvider, LoadBalancerKind};
use serde::Serialize;

/// True when the bundle has an ALB that terminates TLS with an ACM
/// certificate: `aws_lb_listener.http` then redirects to HTTPS.
pub fn alb_https(d: &Decision) -> bool {
    d.site_front().is_none()
        && matches!(&d.tls.certificate, Some(c) if c.provider == CertificateProvider::Acm)
        && matches!(&d.load_balancer, Some(lb) if lb.kind == LoadBalancerKind::AwsAlb)
}

#[derive(Serialize)]
struct TlsCtx {
    domain: String,
    alternatives: Vec<String>,
    zone: String,
    record: String,
}

/// `tls.tf`, or nothing when there is no certificate to make here.
pub fn render(d: &Decision) -> Result<Vec<BundleFile>, RenderError> {
    let Some(cert) = &d.tls.certificate else {
        return Ok(Vec::new());
    };
    // CloudFront needs its certificate in us-east-1: static_site.rs renders
    // that one (with its own provider alias), so nothing is rendered here;
    // also when CloudFront fronts an ALB, which then stays on http.
    if d.strategy == autodeploy_core::DeployStrategy::Static || d.site_front().is_some() {
        return Ok(Vec::new());
    }
    match cert.provider {
        CertificateProvider::Acm => {}
        // A lone VM gets its certificate on the machine (certbot, HTTP-01):
        // vm.rs / cloud-init own that, nothing to render here.
        CertificateProvider::LetsEncrypt | CertificateProvider::PlatformDefault => {
            return Ok(Vec::new())
        }
        other => {
            return Err(crate::unsupported(
                d,
                &format!("certificate provider {other:?}"),
                "AWS bundles use ACM (or Let's Encrypt on a lone VM)",
            ))
        }
    }
    if !alb_https(d) {
        return Err(crate::unsupported(
            d,
            "an ACM certificate without an Application Load Balancer",
            "CloudFront / API Gateway custom domains are not written yet",
        ));
    }
    let Some(dns) = &d.tls.dns else {
        return Err(crate::unsupported(
            d,
            "an ACM certificate without a DNS plan",
            "DNS validation needs the Route53 zone",
        ));
    };
    if dns.provider != DnsProvider::Route53 {
        return Err(crate::unsupported(
            d,
            "DNS outside Route53",
            "AWS bundles validate ACM certificates in a Route53 zone",
        ));
    }
    let Some((domain, alternatives)) = cert.domains.split_first() else {
        return Err(crate::unsupported(
            d,
            "an ACM certificate with no domain",
            "say e.g. \"https on app.example.com\"",
        ));
    };
    Ok(vec![file(
        "terraform/tls.tf",
        "aws/tls/tls.tf",
        TlsCtx {
            domain: domain.clone(),
            alternatives: alternatives.to_vec(),
            zone: dns.zone.clone(),
            record: dns.record.clone(),
        },
    )?])
}
