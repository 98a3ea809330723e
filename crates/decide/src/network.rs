//! The way in and the network around the app: load balancer, TLS certificate,
//! DNS record, VPC / subnets / NAT and every open port.
//!
//! - Load balancer: in front of scaled VMs, container services that need one
//!   (ECS), and Kubernetes ingresses; the platform's own front door for Cloud
//!   Run, Container Apps, Lambda and CDNs; none for a single VM (nginx on the
//!   machine, with a static address).
//! - TLS: https + domain → a certificate (ACM, Google- or Azure-managed, or
//!   Let's Encrypt on a single machine) and a DNS record in the cloud's DNS;
//!   https without a domain → the platform's https URL where there is one,
//!   else a warning saying what is possible.
//! - Network: data services in private subnets; app machines in private
//!   subnets behind NAT in production, in public subnets locked to the load
//!   balancer otherwise; no SSH from the internet.
//!
//! What this is not: Terraform. Render turns these plans into resources.

use crate::notes::Notes;
use autodeploy_core::{
    CachePlan, CertificatePlan, CertificateProvider, Cloud, DatabasePlan, DeployStrategy, DnsPlan,
    DnsProvider, Endpoint, Environment, Hosting, Intent, LoadBalancerKind, LoadBalancerPlan,
    NetworkPlan, Origin, PortRule, ServiceKind, ServicePlan, SubnetPlan, SubnetTier, TlsPlan,
};

/// The public entry service: the first web service, else the first static one.
pub(crate) fn entry(services: &[ServicePlan]) -> Option<&ServicePlan> {
    services
        .iter()
        .find(|s| s.kind == ServiceKind::Web && s.public)
        .or_else(|| services.iter().find(|s| s.kind == ServiceKind::Static))
}

/// The platform serves https on its own host name (`*.run.app`, `*.cloudfront.net`…).
pub fn platform_https(h: Hosting) -> bool {
    matches!(
        h,
        Hosting::Lambda
            | Hosting::S3Cloudfront
            | Hosting::CloudRun
            | Hosting::ContainerApps
            | Hosting::StaticWebApps
    )
}

/// The load balancer kind a host needs (None: single machine or nothing public).
pub fn lb_kind(h: Hosting) -> Option<LoadBalancerKind> {
    match h {
        Hosting::Ec2Autoscaling | Hosting::EcsFargate | Hosting::Eks => {
            Some(LoadBalancerKind::AwsAlb)
        }
        Hosting::ComputeEngineMig | Hosting::Gke | Hosting::CloudStorageCdn => {
            Some(LoadBalancerKind::GcpHttpsLb)
        }
        Hosting::AzureVmss | Hosting::Aks => Some(LoadBalancerKind::AzureLoadBalancer),
        Hosting::Lambda
        | Hosting::S3Cloudfront
        | Hosting::CloudRun
        | Hosting::ContainerApps
        | Hosting::StaticWebApps => Some(LoadBalancerKind::PlatformIngress),
        Hosting::Ec2
        | Hosting::ComputeEngine
        | Hosting::AzureVm
        | Hosting::LocalProcess
        | Hosting::LocalStatic => None,
    }
}

fn lb_words(k: LoadBalancerKind, h: Hosting) -> &'static str {
    match (k, h) {
        (LoadBalancerKind::AwsAlb, Hosting::Eks) => {
            "an AWS Application Load Balancer (EKS ingress via the AWS Load Balancer Controller)"
        }
        (LoadBalancerKind::AwsAlb, _) => "an AWS Application Load Balancer",
        (LoadBalancerKind::GcpHttpsLb, Hosting::CloudStorageCdn) => {
            "a global external Application Load Balancer with Cloud CDN"
        }
        (LoadBalancerKind::GcpHttpsLb, _) => "a global external Application Load Balancer",
        (LoadBalancerKind::AzureLoadBalancer, _) => "an Azure Standard Load Balancer",
        (LoadBalancerKind::PlatformIngress, Hosting::Lambda) => {
            "the Lambda function URL (API Gateway with a custom domain)"
        }
        (LoadBalancerKind::PlatformIngress, Hosting::S3Cloudfront) => "CloudFront",
        (LoadBalancerKind::PlatformIngress, Hosting::CloudRun) => {
            "Cloud Run's own HTTPS front door"
        }
        (LoadBalancerKind::PlatformIngress, Hosting::ContainerApps) => {
            "Container Apps' own HTTPS ingress"
        }
        (LoadBalancerKind::PlatformIngress, _) => "the platform's own front door",
    }
}

/// Plan the load balancer (listeners filled in by [`tls`]).
pub(crate) fn load_balancer(
    services: &[ServicePlan],
    intent: &Intent,
    websockets: bool,
    notes: &mut Notes,
) -> Option<LoadBalancerPlan> {
    let e = entry(services)?;
    let Some(kind) = lb_kind(e.hosting) else {
        if matches!(e.hosting, Hosting::LocalProcess | Hosting::LocalStatic) {
            notes.reason("load_balancer", Origin::Rule, "none: local deployment");
            return None;
        }
        if intent.load_balancer == Some(false) {
            notes.reason("load_balancer", Origin::Request, "none, as the request asks: one machine serves the app directly (nginx in front, static address)");
        } else {
            notes.reason("load_balancer", Origin::Rule, "none: one machine serves the app directly (nginx in front, static address); ask for several instances or a load balancer to add one");
        }
        return None;
    };
    let targets: Vec<String> = services
        .iter()
        .filter(|s| s.public && lb_kind(s.hosting) == Some(kind))
        .map(|s| s.name.clone())
        .collect();
    let words = lb_words(kind, e.hosting);
    if intent.load_balancer == Some(false) && kind != LoadBalancerKind::PlatformIngress {
        notes.warn(
            "load_balancer_required",
            None,
            format!(
                "the request asks for no load balancer, but {} needs one in front of it to have a stable public address: {words} is kept; ask for one instance on a vm to go without",
                crate::strategy::hosting_name(e.hosting)
            ),
        );
    }
    let origin = if intent.load_balancer == Some(true) {
        Origin::Request
    } else {
        Origin::Rule
    };
    notes.reason(
        "load_balancer",
        origin,
        match (kind, intent.load_balancer) {
            (LoadBalancerKind::PlatformIngress, Some(true)) => format!("{words}: the platform's front door spreads traffic, so no separate load balancer is needed"),
            (_, Some(true)) => format!("{words}: the request asks for a load balancer"),
            (LoadBalancerKind::PlatformIngress, _) => format!("{words}: the platform's own front door serves the app, so no separate load balancer is needed"),
            _ => format!("{words}: {} needs one in front to spread traffic and give a stable address", crate::strategy::hosting_name(e.hosting)),
        },
    );
    Some(LoadBalancerPlan {
        kind,
        public: true,
        listeners: vec![80],
        targets,
        health_check_path: e
            .health_check
            .as_ref()
            .map(|h| h.path.clone())
            .unwrap_or_else(|| "/".into()),
        idle_timeout_seconds: if websockets { 3600 } else { 60 },
        origin,
    })
}

/// A domain name autodeploy accepts: lowercase labels of letters, digits and hyphens, at least two.
pub fn valid_domain(d: &str) -> bool {
    let labels: Vec<&str> = d.split('.').collect();
    d.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.bytes().any(|b| b.is_ascii_lowercase()))
}

/// Two-label public suffixes common enough to matter (`co.uk`).
const TWO_LABEL_SUFFIXES: &[&str] = &[
    "co.uk", "org.uk", "ac.uk", "gov.uk", "me.uk", "com.au", "net.au", "org.au", "co.nz", "co.jp",
    "ne.jp", "com.br", "com.mx", "co.in", "co.za", "com.sg", "com.tr", "com.cn", "co.kr", "com.ar",
];

/// The DNS zone a record lives in: the registrable domain (`app.example.co.uk` → `example.co.uk`).
pub fn zone_of(domain: &str) -> String {
    let labels: Vec<&str> = domain.split('.').collect();
    let n = labels.len();
    let take = if n >= 3 && TWO_LABEL_SUFFIXES.contains(&labels[n - 2..].join(".").as_str()) {
        3
    } else {
        2
    };
    labels[n.saturating_sub(take)..].join(".")
}

/// Plan TLS and DNS, and set the load balancer's listeners.
pub(crate) fn tls(
    cloud: Cloud,
    services: &[ServicePlan],
    lb: Option<&mut LoadBalancerPlan>,
    intent: &Intent,
    notes: &mut Notes,
) -> TlsPlan {
    let none = TlsPlan {
        https: false,
        domain: None,
        certificate: None,
        dns: None,
        redirect_http_to_https: false,
    };
    let domain = match intent
        .domain
        .as_deref()
        .map(|d| d.trim().trim_end_matches('.').to_ascii_lowercase())
    {
        Some(d) if valid_domain(&d) => Some(d),
        Some(d) => {
            notes.warn(
                "domain_invalid",
                None,
                format!("{d:?} is not a valid domain name (letters, digits and hyphens in dot-separated labels): it is ignored"),
            );
            None
        }
        None => None,
    };
    if cloud == Cloud::Local {
        if intent.https == Some(true) {
            notes.warn("https_not_local", None, "https was asked, but a local deployment serves plain http on localhost: no certificate is made");
        }
        if let Some(d) = &domain {
            notes.warn(
                "domain_not_local",
                None,
                format!("the domain {d} does not apply to a local deployment; it is ignored"),
            );
        }
        notes.reason("tls", Origin::Rule, "http on localhost: local deployment");
        return none;
    }
    let Some(e) = entry(services) else {
        notes.reason(
            "tls",
            Origin::Rule,
            "none: nothing serves HTTP (workers only)",
        );
        return none;
    };
    let h = e.hosting;
    let lb_kind = lb.as_ref().map(|l| l.kind);
    let platform = platform_https(h);

    let plan = match (&domain, intent.https) {
        (Some(d), Some(false)) => {
            notes.reason(
                "tls",
                Origin::Request,
                format!("http only on {d}, as the request asks (browsers will mark it not secure)"),
            );
            TlsPlan {
                https: false,
                domain: Some(d.clone()),
                certificate: None,
                dns: Some(dns(cloud, d, h, lb_kind)),
                redirect_http_to_https: false,
            }
        }
        (Some(d), asked) => {
            if h == Hosting::AzureVmss {
                notes.warn(
                    "https_unavailable",
                    None,
                    format!(
                        "https on {d} is asked, but an Azure VM scale set sits behind a layer-4 load balancer, which cannot hold a certificate (that needs Application Gateway or Front Door, not included): the app is served over http on {d}; use the container strategy (Container Apps, managed certificate) for https"
                    ),
                );
                TlsPlan {
                    https: false,
                    domain: Some(d.clone()),
                    certificate: None,
                    dns: Some(dns(cloud, d, h, lb_kind)),
                    redirect_http_to_https: false,
                }
            } else {
                let (provider, validation, words) = certificate(h, lb_kind);
                let origin = if asked == Some(true) {
                    Origin::Request
                } else {
                    Origin::Rule
                };
                notes.reason(
                    "tls",
                    origin,
                    format!(
                        "https on {d} with {words}, http redirected to https{}",
                        if asked == Some(true) { ": the request asks for https and names the domain" } else { ": a domain was given, so https is on by default (say \"http only\" to turn it off)" }
                    ),
                );
                let dns = dns(cloud, d, h, lb_kind);
                notes.reason(
                    "dns",
                    Origin::Request,
                    format!(
                        "{} record {} in the {} zone {} (the zone is assumed to exist in the account; create it and delegate the domain to it otherwise)",
                        dns.record_type,
                        dns.record,
                        dns_words(dns.provider),
                        dns.zone
                    ),
                );
                if dns.record_type == "cname" && dns.record == dns.zone {
                    notes.warn(
                        "apex_domain_cname",
                        None,
                        format!(
                            "{d} is a zone apex, where DNS allows no CNAME, but {} is reached by CNAME: use a subdomain such as app.{d} or www.{d}",
                            crate::strategy::hosting_name(h)
                        ),
                    );
                }
                TlsPlan {
                    https: true,
                    domain: Some(d.clone()),
                    certificate: Some(CertificatePlan {
                        provider,
                        domains: vec![d.clone()],
                        validation: validation.into(),
                    }),
                    dns: Some(dns),
                    redirect_http_to_https: true,
                }
            }
        }
        (None, Some(true)) if platform => {
            notes.reason(
                "tls",
                Origin::Request,
                format!("https on {}'s own address, with its certificate: the request asks for https but names no domain (add one, e.g. \"on app.example.com\", for your own name)", crate::strategy::hosting_name(h)),
            );
            TlsPlan {
                https: true,
                domain: None,
                certificate: Some(CertificatePlan {
                    provider: CertificateProvider::PlatformDefault,
                    domains: vec![],
                    validation: "none".into(),
                }),
                dns: None,
                redirect_http_to_https: true,
            }
        }
        (None, Some(true)) => {
            let addr = if lb_kind.is_some() {
                "the load balancer's address"
            } else {
                "the machine's public IP address"
            };
            let options = match cloud {
                Cloud::Aws => "AWS issues certificates (ACM) only for domains you own, not for amazonaws.com addresses",
                Cloud::Gcp => "Google-managed certificates need a domain you own",
                _ => "Azure-managed certificates need a domain you own",
            };
            notes.warn(
                "https_without_domain",
                None,
                format!(
                    "https was asked without a domain: {options}, so the app is served over plain http at {addr}. To get https: add a domain you control (\"https on app.example.com\") and autodeploy creates the certificate and DNS record; or choose serverless / static hosting, whose platform addresses are https"
                ),
            );
            notes.reason(
                "tls",
                Origin::Rule,
                format!("http at {addr}: https needs a domain here (see warnings)"),
            );
            none
        }
        (None, asked) => {
            if platform {
                notes.reason(
                    "tls",
                    Origin::Rule,
                    format!(
                        "https on {}'s own address: the platform provides it{}",
                        crate::strategy::hosting_name(h),
                        if asked == Some(false) {
                            " even though http only was asked"
                        } else {
                            ""
                        }
                    ),
                );
                TlsPlan {
                    https: true,
                    domain: None,
                    certificate: Some(CertificatePlan {
                        provider: CertificateProvider::PlatformDefault,
                        domains: vec![],
                        validation: "none".into(),
                    }),
                    dns: None,
                    redirect_http_to_https: true,
                }
            } else {
                notes.reason(
                    "tls",
                    if asked == Some(false) { Origin::Request } else { Origin::Default },
                    "http on the public address: no domain was given (add \"https on app.example.com\" for a certificate and DNS record)",
                );
                none
            }
        }
    };
    if let Some(lb) = lb {
        lb.listeners = if plan.https && lb.kind != LoadBalancerKind::PlatformIngress {
            vec![80, 443]
        } else if lb.kind == LoadBalancerKind::PlatformIngress && plan.https {
            vec![443]
        } else {
            vec![80]
        };
    }
    // A static frontend on https calling an http backend is blocked by browsers.
    let static_https = services
        .iter()
        .any(|s| s.strategy == DeployStrategy::Static && platform_https(s.hosting));
    let backend_http = services.iter().any(|s| s.kind == ServiceKind::Web) && !plan.https;
    if static_https && backend_http {
        notes.warn(
            "mixed_content",
            None,
            "the static frontend is served over https but the backend over plain http: browsers block those calls (mixed content) — give the backend a domain with https",
        );
    }
    plan
}

fn certificate(
    h: Hosting,
    lb: Option<LoadBalancerKind>,
) -> (CertificateProvider, &'static str, &'static str) {
    match (h, lb) {
        (Hosting::S3Cloudfront, _) => (
            CertificateProvider::Acm,
            "dns",
            "an ACM certificate in us-east-1 (CloudFront's requirement), DNS-validated",
        ),
        (Hosting::Lambda, _) => (
            CertificateProvider::Acm,
            "dns",
            "an ACM certificate on an API Gateway custom domain, DNS-validated",
        ),
        (_, Some(LoadBalancerKind::AwsAlb)) => (
            CertificateProvider::Acm,
            "dns",
            "an ACM certificate on the load balancer, DNS-validated",
        ),
        (Hosting::Ec2 | Hosting::ComputeEngine | Hosting::AzureVm, _) => (
            CertificateProvider::LetsEncrypt,
            "http",
            "a Let's Encrypt certificate obtained and renewed on the machine (certbot)",
        ),
        (Hosting::CloudRun, _) => (
            CertificateProvider::GoogleManaged,
            "http",
            "a Google-managed certificate through a Cloud Run domain mapping",
        ),
        (_, Some(LoadBalancerKind::GcpHttpsLb)) => (
            CertificateProvider::GoogleManaged,
            "http",
            "a Google-managed certificate on the load balancer",
        ),
        (Hosting::ContainerApps | Hosting::StaticWebApps, _) => (
            CertificateProvider::AzureManaged,
            "dns",
            "an Azure managed certificate on the custom domain",
        ),
        (Hosting::Aks, _) => (
            CertificateProvider::LetsEncrypt,
            "http",
            "a Let's Encrypt certificate from cert-manager in the cluster",
        ),
        _ => (
            CertificateProvider::LetsEncrypt,
            "http",
            "a Let's Encrypt certificate",
        ),
    }
}

fn dns(cloud: Cloud, domain: &str, h: Hosting, lb: Option<LoadBalancerKind>) -> DnsPlan {
    let provider = match cloud {
        Cloud::Gcp => DnsProvider::CloudDns,
        Cloud::Azure => DnsProvider::AzureDns,
        _ => DnsProvider::Route53,
    };
    let (record_type, target) = match (h, lb) {
        (Hosting::S3Cloudfront, _) => ("alias", "cdn"),
        (Hosting::Lambda, _) => ("alias", "api_gateway"),
        (Hosting::CloudRun | Hosting::ContainerApps | Hosting::StaticWebApps, _) => {
            ("cname", "platform")
        }
        (Hosting::Ec2 | Hosting::ComputeEngine | Hosting::AzureVm, _) => ("a", "instance_ip"),
        (_, Some(LoadBalancerKind::AwsAlb)) => ("alias", "load_balancer"),
        _ => ("a", "load_balancer"),
    };
    DnsPlan {
        provider,
        zone: zone_of(domain),
        record: domain.to_string(),
        record_type: record_type.into(),
        target: target.into(),
    }
}

fn dns_words(p: DnsProvider) -> &'static str {
    match p {
        DnsProvider::Route53 => "Route 53",
        DnsProvider::CloudDns => "Cloud DNS",
        DnsProvider::AzureDns => "Azure DNS",
    }
}

/// Plan the network.
#[allow(clippy::too_many_arguments)]
pub(crate) fn network(
    cloud: Cloud,
    environment: Environment,
    services: &[ServicePlan],
    database: Option<&DatabasePlan>,
    cache: Option<&CachePlan>,
    lb: Option<&LoadBalancerPlan>,
    tls: &TlsPlan,
    notes: &mut Notes,
) -> Option<NetworkPlan> {
    if cloud == Cloud::Local {
        return None;
    }
    let running: Vec<&ServicePlan> = services
        .iter()
        .filter(|s| s.strategy != DeployStrategy::Static)
        .collect();
    let managed_db = database.filter(|d| d.service_is_managed());
    let managed_cache = cache.is_some();
    let machines = running.iter().any(|s| {
        matches!(
            s.hosting,
            Hosting::Ec2
                | Hosting::Ec2Autoscaling
                | Hosting::EcsFargate
                | Hosting::Eks
                | Hosting::ComputeEngine
                | Hosting::ComputeEngineMig
                | Hosting::Gke
                | Hosting::AzureVm
                | Hosting::AzureVmss
                | Hosting::Aks
        )
    });
    if !machines && managed_db.is_none() && !managed_cache {
        notes.reason(
            "network",
            Origin::Rule,
            "no private network: nothing runs on machines of yours and there is no database or cache",
        );
        return None;
    }
    let data = managed_db.is_some() || managed_cache;
    let production = environment == Environment::Production;
    let single_vm = running.iter().all(|s| {
        matches!(
            s.hosting,
            Hosting::Ec2 | Hosting::ComputeEngine | Hosting::AzureVm
        )
    });
    let lambda = running.iter().any(|s| s.hosting == Hosting::Lambda);
    let behind_lb = running.iter().any(|s| {
        matches!(
            s.hosting,
            Hosting::Ec2Autoscaling
                | Hosting::EcsFargate
                | Hosting::Eks
                | Hosting::ComputeEngineMig
        )
    });

    let (app_tier, nat) = match cloud {
        Cloud::Aws if lambda => (SubnetTier::Private, 1),
        Cloud::Aws if behind_lb && production => (SubnetTier::Private, 1),
        Cloud::Gcp
            if running
                .iter()
                .any(|s| s.hosting == Hosting::ComputeEngineMig) =>
        {
            (SubnetTier::Private, 1)
        }
        Cloud::Azure if !single_vm && machines => (SubnetTier::Private, 0),
        _ if single_vm && machines => (SubnetTier::Public, 0),
        _ if machines => (SubnetTier::Public, 0),
        _ => (SubnetTier::Private, 0),
    };

    let mut subnets = Vec::new();
    let vpc_cidr = "10.0.0.0/16".to_string();
    match cloud {
        Cloud::Aws => {
            for z in 0..2u32 {
                subnets.push(SubnetPlan {
                    name: format!("public-{}", z + 1),
                    tier: SubnetTier::Public,
                    cidr: format!("10.0.{z}.0/24"),
                    zone_index: z,
                });
            }
            if data || app_tier == SubnetTier::Private {
                for z in 0..2u32 {
                    subnets.push(SubnetPlan {
                        name: format!("private-{}", z + 1),
                        tier: SubnetTier::Private,
                        cidr: format!("10.0.{}.0/24", 10 + z),
                        zone_index: z,
                    });
                }
            }
        }
        Cloud::Gcp => {
            subnets.push(SubnetPlan {
                name: "app".into(),
                tier: app_tier,
                cidr: "10.0.0.0/20".into(),
                zone_index: 0,
            });
            if data {
                subnets.push(SubnetPlan {
                    name: "private-services".into(),
                    tier: SubnetTier::Private,
                    cidr: "10.100.0.0/16".into(),
                    zone_index: 0,
                });
            }
        }
        _ => {
            subnets.push(SubnetPlan {
                name: "app".into(),
                tier: app_tier,
                cidr: "10.0.0.0/23".into(),
                zone_index: 0,
            });
            if managed_db.is_some() {
                subnets.push(SubnetPlan {
                    name: "database".into(),
                    tier: SubnetTier::Private,
                    cidr: "10.0.2.0/24".into(),
                    zone_index: 0,
                });
            }
            if managed_cache {
                subnets.push(SubnetPlan {
                    name: "private-endpoints".into(),
                    tier: SubnetTier::Private,
                    cidr: "10.0.3.0/24".into(),
                    zone_index: 0,
                });
            }
        }
    }

    let tcp = |port: u16, from: Endpoint, to: Endpoint, purpose: String| PortRule {
        port,
        protocol: "tcp".into(),
        from,
        to,
        purpose,
    };
    let mut ingress = Vec::new();
    let public_ports: Vec<u16> = if tls.https { vec![80, 443] } else { vec![80] };
    match lb.map(|l| l.kind) {
        Some(LoadBalancerKind::PlatformIngress) | None if single_vm && machines => {
            for p in &public_ports {
                ingress.push(tcp(
                    *p,
                    Endpoint::Internet,
                    Endpoint::App,
                    format!(
                        "{} to nginx on the machine, which proxies to the app",
                        if *p == 443 { "https" } else { "http" }
                    ),
                ));
            }
        }
        Some(LoadBalancerKind::PlatformIngress) | None => {}
        Some(_) => {
            for p in &public_ports {
                ingress.push(tcp(
                    *p,
                    Endpoint::Internet,
                    Endpoint::LoadBalancer,
                    format!(
                        "{} to the load balancer",
                        if *p == 443 { "https" } else { "http" }
                    ),
                ));
            }
            for s in running.iter().filter(|s| s.public) {
                if let Some(port) = s.port {
                    ingress.push(if s.hosting == Hosting::AzureVmss {
                        // The scale set's instances run nginx on 80 in front
                        // of the app, as a single VM does.
                        tcp(
                            80,
                            Endpoint::LoadBalancer,
                            Endpoint::App,
                            format!(
                                "load balancer to nginx on each `{}` instance (and its health probe), which proxies to the app on {port}",
                                s.name
                            ),
                        )
                    } else {
                        tcp(
                            port,
                            Endpoint::LoadBalancer,
                            Endpoint::App,
                            format!("load balancer to `{}` (and its health checks)", s.name),
                        )
                    });
                }
            }
        }
    }
    if let Some(db) = managed_db {
        ingress.push(tcp(
            db.port,
            Endpoint::App,
            Endpoint::Database,
            format!("app to {} only", crate::data::engine_name(db.engine)),
        ));
    }
    if let Some(c) = cache {
        ingress.push(tcp(
            c.port,
            Endpoint::App,
            Endpoint::Cache,
            format!("app to {} only", crate::data::cache_name(c.engine)),
        ));
    }

    let admin = match cloud {
        Cloud::Aws => "aws_ssm_session_manager",
        Cloud::Gcp => "gcp_iap",
        _ => "azure_run_command",
    };
    notes.reason(
        "network",
        Origin::Rule,
        format!(
            "{} {vpc_cidr}: {}; {}; no SSH from the internet (operators use {})",
            match cloud {
                Cloud::Azure => "VNet",
                _ => "VPC",
            },
            match (managed_db.is_some(), managed_cache) {
                (true, true) =>
                    "database and cache in private subnets, reachable only from the app",
                (true, false) => "database in private subnets, reachable only from the app",
                (false, true) => "cache in private subnets, reachable only from the app",
                _ => "no data services",
            },
            if ingress.is_empty() {
                "no inbound ports opened".to_string()
            } else {
                format!(
                    "inbound: {}",
                    ingress
                        .iter()
                        .map(|r| format!("{} ({}→{})", r.port, endpoint(r.from), endpoint(r.to)))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
            admin.replace('_', " ")
        ),
    );
    notes.reason(
        "network.nat",
        Origin::Rule,
        match (app_tier, nat) {
                (SubnetTier::Private, n) if n > 0 => format!(
                    "app in private subnets with {n} NAT gateway for outbound traffic{}",
                    if cloud == Cloud::Aws { " (one, not one per zone, to save its monthly cost)" } else { "" }
                ),
                (SubnetTier::Private, _) => "app in a private subnet, outbound through the platform (no NAT gateway)".to_string(),
                (SubnetTier::Public, _) if single_vm => "the machine in a public subnet with a static address (no NAT gateway)".to_string(),
                (SubnetTier::Public, _) => format!(
                    "app in public subnets with public IPs for outbound traffic but inbound only from the load balancer (no NAT gateway{})",
                    if production { "" } else { " outside production" }
                ),
        },
    );
    if cloud == Cloud::Gcp && running.iter().any(|s| s.hosting == Hosting::CloudRun) && data {
        notes.reason(
            "network.serverless_access",
            Origin::Rule,
            "Cloud Run reaches the private database / cache through Direct VPC egress into the app subnet",
        );
    }
    Some(NetworkPlan {
        vpc_cidr,
        subnets,
        app_subnet_tier: app_tier,
        nat_gateways: nat,
        ingress,
        ssh_from_internet: false,
        admin_access: admin.into(),
    })
}

fn endpoint(e: Endpoint) -> &'static str {
    match e {
        Endpoint::Internet => "internet",
        Endpoint::LoadBalancer => "load balancer",
        Endpoint::App => "app",
        Endpoint::Database => "database",
        Endpoint::Cache => "cache",
    }
}

trait Managed {
    fn service_is_managed(&self) -> bool;
}

impl Managed for DatabasePlan {
    fn service_is_managed(&self) -> bool {
        !matches!(
            self.service,
            autodeploy_core::DataService::External | autodeploy_core::DataService::Local
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_and_zones() {
        let cases = [
            ("app.example.com", true, "example.com"),
            ("example.com", true, "example.com"),
            ("a.b.example.co.uk", true, "example.co.uk"),
            ("shop.example.co.uk", true, "example.co.uk"),
            ("x-1.dev", true, "x-1.dev"),
        ];
        for (d, ok, zone) in cases {
            assert_eq!(valid_domain(d), ok, "{d}");
            assert_eq!(zone_of(d), zone, "{d}");
        }
        for bad in [
            "localhost",
            "-a.com",
            "a..com",
            "APP.example.com",
            "app.example.com/evil",
            "a.123",
            "${x}.com",
            "",
        ] {
            assert!(!valid_domain(bad), "{bad}");
        }
    }

    #[test]
    fn load_balancers_and_https_by_host() {
        // (host, lb kind, platform https)
        let cases = [
            (Hosting::Ec2, None, false),
            (
                Hosting::Ec2Autoscaling,
                Some(LoadBalancerKind::AwsAlb),
                false,
            ),
            (Hosting::EcsFargate, Some(LoadBalancerKind::AwsAlb), false),
            (Hosting::Eks, Some(LoadBalancerKind::AwsAlb), false),
            (
                Hosting::Lambda,
                Some(LoadBalancerKind::PlatformIngress),
                true,
            ),
            (
                Hosting::S3Cloudfront,
                Some(LoadBalancerKind::PlatformIngress),
                true,
            ),
            (Hosting::ComputeEngine, None, false),
            (
                Hosting::CloudRun,
                Some(LoadBalancerKind::PlatformIngress),
                true,
            ),
            (Hosting::Gke, Some(LoadBalancerKind::GcpHttpsLb), false),
            (
                Hosting::CloudStorageCdn,
                Some(LoadBalancerKind::GcpHttpsLb),
                false,
            ),
            (Hosting::AzureVm, None, false),
            (
                Hosting::ContainerApps,
                Some(LoadBalancerKind::PlatformIngress),
                true,
            ),
            (
                Hosting::Aks,
                Some(LoadBalancerKind::AzureLoadBalancer),
                false,
            ),
            (
                Hosting::StaticWebApps,
                Some(LoadBalancerKind::PlatformIngress),
                true,
            ),
        ];
        for (h, lb, https) in cases {
            assert_eq!(lb_kind(h), lb, "{h:?}");
            assert_eq!(platform_https(h), https, "{h:?}");
        }
    }

    #[test]
    fn certificates_by_host() {
        let cases = [
            (Hosting::Ec2, None, CertificateProvider::LetsEncrypt),
            (
                Hosting::EcsFargate,
                Some(LoadBalancerKind::AwsAlb),
                CertificateProvider::Acm,
            ),
            (
                Hosting::S3Cloudfront,
                Some(LoadBalancerKind::PlatformIngress),
                CertificateProvider::Acm,
            ),
            (
                Hosting::CloudRun,
                Some(LoadBalancerKind::PlatformIngress),
                CertificateProvider::GoogleManaged,
            ),
            (
                Hosting::Gke,
                Some(LoadBalancerKind::GcpHttpsLb),
                CertificateProvider::GoogleManaged,
            ),
            (
                Hosting::ContainerApps,
                Some(LoadBalancerKind::PlatformIngress),
                CertificateProvider::AzureManaged,
            ),
            (
                Hosting::Aks,
                Some(LoadBalancerKind::AzureLoadBalancer),
                CertificateProvider::LetsEncrypt,
            ),
        ];
        for (h, lb, want) in cases {
            assert_eq!(certificate(h, lb).0, want, "{h:?}");
        }
        let d = dns(
            Cloud::Aws,
            "app.example.com",
            Hosting::EcsFargate,
            Some(LoadBalancerKind::AwsAlb),
        );
        assert_eq!(
            (d.provider, d.zone.as_str(), d.record_type.as_str()),
            (DnsProvider::Route53, "example.com", "alias")
        );
        let d = dns(
            Cloud::Gcp,
            "app.example.com",
            Hosting::CloudRun,
            Some(LoadBalancerKind::PlatformIngress),
        );
        assert_eq!(
            (d.provider, d.record_type.as_str()),
            (DnsProvider::CloudDns, "cname")
        );
    }
}
