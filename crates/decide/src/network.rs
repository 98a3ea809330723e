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

use crate::cloud;
use crate::notes::Notes;
use autodeploy_core::{
    CachePlan, CertificatePlan, CertificateProvider, Cloud, DatabasePlan, DeployStrategy, DnsPlan,
    DnsProvider, Endpoint, Environment, Hosting, Intent, LoadBalancerKind, LoadBalancerPlan,
    NetworkPlan, Origin, PortRule, ServiceKind, ServicePlan, SubnetTier, TlsPlan,
};

/// The public entry service: a static site that fronts the API beside it
/// ([`site_api_routes`]), else the first web service, else the first
/// static one.
pub(crate) fn entry(services: &[ServicePlan]) -> Option<&ServicePlan> {
    services
        .iter()
        .find(|s| s.api_route.is_some())
        .or_else(|| lb_entry(services))
}

/// The service a load balancer is planned for: the first web service, else
/// the first static one (a site fronting the API has the platform's own
/// front door; the API behind it still needs its load balancer).
fn lb_entry(services: &[ServicePlan]) -> Option<&ServicePlan> {
    services
        .iter()
        .find(|s| s.kind == ServiceKind::Web && s.public)
        .or_else(|| services.iter().find(|s| s.kind == ServiceKind::Static))
}

/// A static front end beside the API it calls: where the cloud can route a
/// path of the site's address to the API (CloudFront → ALB), the site
/// becomes the deployment's front door and forwards that path, so the
/// browser calls the API on the site's own https origin. One site and one
/// API only; otherwise each keeps its own address.
///
/// The site's hard-coded calls to the API on the developer's machine
/// (`http://localhost:5001/books`, finding `hardcoded_localhost_url` with
/// `calls`) become calls to that path in the deployment's copy.
pub(crate) fn site_api_routes(
    cloud: Cloud,
    analysis: &autodeploy_core::Analysis,
    plans: &mut [ServicePlan],
    notes: &mut Notes,
) {
    let web: Vec<String> = plans
        .iter()
        .filter(|p| p.kind == ServiceKind::Web && p.public)
        .map(|p| p.name.clone())
        .collect();
    let Some(api) = crate::env::api_service(&web).cloned() else {
        return;
    };
    let Some(api_hosting) = plans.iter().find(|p| p.name == api).map(|p| p.hosting) else {
        return;
    };
    // Ports of the other services: a call to one of them is not the API's.
    let others: Vec<u16> = plans
        .iter()
        .filter(|p| p.name != api)
        .filter_map(|p| p.port)
        .collect();
    let mut sites = plans
        .iter_mut()
        .filter(|p| p.strategy == DeployStrategy::Static);
    let (Some(site), None) = (sites.next(), sites.next()) else {
        return;
    };
    let catalogue = cloud::of(cloud);
    let Some(prefix) = catalogue.site_api_prefix(site.hosting, api_hosting) else {
        return;
    };
    let front = catalogue.front_door_words(LoadBalancerKind::PlatformIngress, site.hosting);
    notes.reason(
        format!("service.{}.api_route", site.name),
        Origin::Rule,
        format!(
            "{front} serves `{}` and forwards {prefix}/* to `{api}` (without {prefix}), so the browser calls the API on the site's own https address: no mixed content, no CORS; the site's address is the deployment's",
            site.name
        ),
    );
    let calls = analysis
        .services
        .iter()
        .filter(|s| s.name == site.name)
        .flat_map(|s| &s.findings)
        .filter(|f| f.kind == "hardcoded_localhost_url" && f.fix.is_none());
    for f in calls {
        let (Some(origin), Some(file), Some(line)) = (&f.calls, &f.file, f.line) else {
            continue;
        };
        let port = origin
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse::<u16>().ok());
        if port.is_some_and(|p| others.contains(&p)) {
            continue;
        }
        notes.reason(
            format!("service.{}.source_fixes", site.name),
            Origin::Analysis,
            format!("{file}:{line} calls {origin} (`{api}` on the developer's machine): the deployment's copy calls {prefix} on the site's own address instead"),
        );
        site.source_fixes.push(autodeploy_core::SourceFix {
            file: file.clone(),
            line,
            find: origin.clone(),
            replace: prefix.to_string(),
        });
    }
    site.api_route = Some(autodeploy_core::ApiRoute {
        service: api,
        path_prefix: prefix.to_string(),
    });
}

/// The platform serves https on its own host name (`*.run.app`, `*.cloudfront.net`…).
pub fn platform_https(h: Hosting) -> bool {
    h.platform_https()
}

/// The load balancer kind a host needs (None: single machine or nothing public).
pub fn lb_kind(h: Hosting) -> Option<LoadBalancerKind> {
    if h.platform_https() {
        Some(LoadBalancerKind::PlatformIngress)
    } else if h.behind_load_balancer() {
        cloud::of_hosting(h).load_balancer()
    } else {
        None
    }
}

fn lb_words(k: LoadBalancerKind, h: Hosting) -> &'static str {
    cloud::of_hosting(h).front_door_words(k, h)
}

/// Plan the load balancer (listeners filled in by [`tls`]).
pub(crate) fn load_balancer(
    services: &[ServicePlan],
    intent: &Intent,
    websockets: bool,
    notes: &mut Notes,
) -> Option<LoadBalancerPlan> {
    let e = lb_entry(services)?;
    let Some(kind) = lb_kind(e.hosting) else {
        if e.hosting.is_local() {
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
    let none = plain_http();
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
    if cloud.is_local() {
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
    // A site fronting the API takes the certificate on the platform's front
    // door; the API's load balancer stays on http behind it.
    let fronted = e.api_route.is_some();
    let lb_kind = if fronted {
        lb_kind(h)
    } else {
        lb.as_ref().map(|l| l.kind)
    };

    let plan = match (&domain, intent.https) {
        (Some(d), asked) => with_domain(cloud, h, lb_kind, d, asked, notes),
        (None, asked) => without_domain(cloud, h, lb_kind, asked, notes),
    };
    if let Some(lb) = lb {
        lb.listeners = if plan.https && lb.kind != LoadBalancerKind::PlatformIngress && !fronted {
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
    let backend_http =
        services.iter().any(|s| s.kind == ServiceKind::Web) && !plan.https && !fronted;
    if static_https && backend_http {
        notes.warn(
            "mixed_content",
            None,
            "the static frontend is served over https but the backend over plain http: browsers block those calls (mixed content) — give the backend a domain with https",
        );
    }
    plan
}

/// TLS for a domain of the request: a certificate and a DNS record, or http
/// when asked (or when the host cannot hold a certificate).
fn with_domain(
    cloud: Cloud,
    h: Hosting,
    lb_kind: Option<LoadBalancerKind>,
    d: &String,
    asked: Option<bool>,
    notes: &mut Notes,
) -> TlsPlan {
    if asked == Some(false) {
        notes.reason(
            "tls",
            Origin::Request,
            format!("http only on {d}, as the request asks (browsers will mark it not secure)"),
        );
        return http_on_domain(cloud, h, lb_kind, d);
    }
    if let Some(why) = cloud::of(cloud).https_blocked(h, d) {
        notes.warn("https_unavailable", None, why);
        return http_on_domain(cloud, h, lb_kind, d);
    }
    https_on_domain(cloud, h, lb_kind, d, asked, notes)
}

/// Plain http on the domain: its DNS record, no certificate.
fn http_on_domain(cloud: Cloud, h: Hosting, lb_kind: Option<LoadBalancerKind>, d: &str) -> TlsPlan {
    TlsPlan {
        https: false,
        domain: Some(d.to_string()),
        certificate: None,
        dns: Some(dns(cloud, d, h, lb_kind)),
        redirect_http_to_https: false,
    }
}

/// https on the domain: a certificate, a DNS record, http redirected (with a
/// warning when the record cannot sit at a zone apex).
fn https_on_domain(
    cloud: Cloud,
    h: Hosting,
    lb_kind: Option<LoadBalancerKind>,
    d: &str,
    asked: Option<bool>,
    notes: &mut Notes,
) -> TlsPlan {
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
            if asked == Some(true) {
                ": the request asks for https and names the domain"
            } else {
                ": a domain was given, so https is on by default (say \"http only\" to turn it off)"
            }
        ),
    );
    let dns = dns(cloud, d, h, lb_kind);
    notes.reason("dns", Origin::Request, dns_reason(&dns));
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
        domain: Some(d.to_string()),
        certificate: Some(CertificatePlan {
            provider,
            domains: vec![d.to_string()],
            validation: validation.into(),
        }),
        dns: Some(dns),
        redirect_http_to_https: true,
    }
}

/// The DNS reason line, from the record planned.
fn dns_reason(dns: &DnsPlan) -> String {
    format!(
        "{} record {} in the {} zone {} (the zone is assumed to exist in the account; create it and delegate the domain to it otherwise)",
        dns.record_type,
        dns.record,
        dns_words(dns.provider),
        dns.zone
    )
}

/// TLS without a domain: the platform's own https address when it has one,
/// else http (with a warning when https was asked).
fn without_domain(
    cloud: Cloud,
    h: Hosting,
    lb_kind: Option<LoadBalancerKind>,
    asked: Option<bool>,
    notes: &mut Notes,
) -> TlsPlan {
    let platform = platform_https(h);
    match asked {
        Some(true) if platform => {
            notes.reason(
                "tls",
                Origin::Request,
                format!("https on {}'s own address, with its certificate: the request asks for https but names no domain (add one, e.g. \"on app.example.com\", for your own name)", crate::strategy::hosting_name(h)),
            );
            platform_https_plan()
        }
        Some(true) => {
            https_needs_domain(cloud, lb_kind, notes);
            plain_http()
        }
        asked if platform => {
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
            platform_https_plan()
        }
        asked => {
            notes.reason(
                "tls",
                if asked == Some(false) { Origin::Request } else { Origin::Default },
                "http on the public address: no domain was given (add \"https on app.example.com\" for a certificate and DNS record)",
            );
            plain_http()
        }
    }
}

/// https asked without a domain on a host that has no https address of its
/// own: say what is possible (the app is served over http).
fn https_needs_domain(cloud: Cloud, lb_kind: Option<LoadBalancerKind>, notes: &mut Notes) {
    let addr = if lb_kind.is_some() {
        "the load balancer's address"
    } else {
        "the machine's public IP address"
    };
    let options = cloud::of(cloud).https_needs_domain();
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
}

/// https on the platform's own address, with its certificate.
fn platform_https_plan() -> TlsPlan {
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

/// http only.
fn plain_http() -> TlsPlan {
    TlsPlan {
        https: false,
        domain: None,
        certificate: None,
        dns: None,
        redirect_http_to_https: false,
    }
}

/// Certificate (provider, validation, words) for a domain on `h`.
fn certificate(
    h: Hosting,
    lb: Option<LoadBalancerKind>,
) -> (CertificateProvider, &'static str, &'static str) {
    cloud::of_hosting(h).certificate(h, lb)
}

fn dns(cloud: Cloud, domain: &str, h: Hosting, lb: Option<LoadBalancerKind>) -> DnsPlan {
    let cat = cloud::of(cloud);
    let provider = cat.dns().map(|d| d.0).unwrap_or(DnsProvider::Route53);
    let (record_type, target) = cat.dns_record(h, lb);
    DnsPlan {
        provider,
        zone: zone_of(domain),
        record: domain.to_string(),
        record_type: record_type.into(),
        target: target.into(),
    }
}

fn dns_words(p: DnsProvider) -> &'static str {
    cloud::dns_name(p)
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
    if cloud.is_local() {
        return None;
    }
    let cat = cloud::of(cloud);
    let running: Vec<&ServicePlan> = services
        .iter()
        .filter(|s| s.strategy != DeployStrategy::Static)
        .collect();
    let managed_db = database.filter(|d| d.service.is_managed());
    let managed_cache = cache.is_some();
    let machines = running.iter().any(|s| s.hosting.runs_in_network());
    if !machines && managed_db.is_none() && !managed_cache {
        notes.reason(
            "network",
            Origin::Rule,
            "no private network: nothing runs on machines of yours and there is no database or cache",
        );
        return None;
    }
    let production = environment == Environment::Production;
    let single_vm = running.iter().all(|s| s.hosting.is_single_vm());
    let facts = cloud::NetFacts {
        machines,
        single_vm,
        function: running.iter().any(|s| s.hosting.is_function()),
        behind_lb: running.iter().any(|s| s.hosting.behind_load_balancer()),
        scaled_vm: running.iter().any(|s| s.hosting.is_scaled_vm()),
        production,
        managed_db: managed_db.is_some(),
        managed_cache,
    };
    let (app_tier, nat) = cat.app_placement(&facts).unwrap_or(if machines {
        (SubnetTier::Public, 0)
    } else {
        (SubnetTier::Private, 0)
    });
    let subnets = cat.subnets(&facts, app_tier);
    let vpc_cidr = "10.0.0.0/16".to_string();

    let ingress = ingress(&running, &facts, managed_db, cache, lb, tls);
    network_reasons(
        cat,
        &facts,
        &running,
        &ingress,
        (app_tier, nat),
        &vpc_cidr,
        notes,
    );
    Some(NetworkPlan {
        vpc_cidr,
        subnets,
        app_subnet_tier: app_tier,
        nat_gateways: nat,
        ingress,
        ssh_from_internet: false,
        admin_access: cat.admin_access().into(),
    })
}

/// Every inbound rule: the internet to the machine or the load balancer, the
/// load balancer to the app, the app to its data.
fn ingress(
    running: &[&ServicePlan],
    f: &cloud::NetFacts,
    managed_db: Option<&DatabasePlan>,
    cache: Option<&CachePlan>,
    lb: Option<&LoadBalancerPlan>,
    tls: &TlsPlan,
) -> Vec<PortRule> {
    let public_ports: Vec<u16> = if tls.https { vec![80, 443] } else { vec![80] };
    let mut ingress = match lb.map(|l| l.kind) {
        Some(LoadBalancerKind::PlatformIngress) | None if f.single_vm && f.machines => {
            machine_rules(&public_ports)
        }
        Some(LoadBalancerKind::PlatformIngress) | None => Vec::new(),
        Some(_) => load_balancer_rules(&public_ports, running),
    };
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
    ingress
}

/// A TCP rule.
fn tcp(port: u16, from: Endpoint, to: Endpoint, purpose: String) -> PortRule {
    PortRule {
        port,
        protocol: "tcp".into(),
        from,
        to,
        purpose,
    }
}

/// `https` for 443, else `http`.
fn scheme(port: u16) -> &'static str {
    if port == 443 {
        "https"
    } else {
        "http"
    }
}

/// One machine: the internet straight to nginx on it.
fn machine_rules(public_ports: &[u16]) -> Vec<PortRule> {
    public_ports
        .iter()
        .map(|p| {
            tcp(
                *p,
                Endpoint::Internet,
                Endpoint::App,
                format!(
                    "{} to nginx on the machine, which proxies to the app",
                    scheme(*p)
                ),
            )
        })
        .collect()
}

/// A load balancer: the internet to it, and it to each public service's port
/// (or to nginx on the scale set's instances).
fn load_balancer_rules(public_ports: &[u16], running: &[&ServicePlan]) -> Vec<PortRule> {
    let mut rules: Vec<PortRule> = public_ports
        .iter()
        .map(|p| {
            tcp(
                *p,
                Endpoint::Internet,
                Endpoint::LoadBalancer,
                format!("{} to the load balancer", scheme(*p)),
            )
        })
        .collect();
    for s in running.iter().filter(|s| s.public) {
        if let Some(port) = s.port {
            rules.push(if s.hosting.serves_through_nginx() {
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
    rules
}

/// Say what the network is, what is open and how the app reaches out.
fn network_reasons(
    cat: &dyn cloud::Catalogue,
    f: &cloud::NetFacts,
    running: &[&ServicePlan],
    ingress: &[PortRule],
    placement: (SubnetTier, u32),
    vpc_cidr: &str,
    notes: &mut Notes,
) {
    let admin = cat.admin_access();
    let (app_tier, nat) = placement;
    let (single_vm, production, data) = (f.single_vm, f.production, f.data());
    let (managed_db, managed_cache) = (f.managed_db, f.managed_cache);
    notes.reason(
        "network",
        Origin::Rule,
        format!(
            "{} {vpc_cidr}: {}; {}; no SSH from the internet (operators use {})",
            cat.network_word(),
            match (managed_db, managed_cache) {
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
                    cat.nat_words()
                ),
                (SubnetTier::Private, _) => "app in a private subnet, outbound through the platform (no NAT gateway)".to_string(),
                (SubnetTier::Public, _) if single_vm => "the machine in a public subnet with a static address (no NAT gateway)".to_string(),
                (SubnetTier::Public, _) => format!(
                    "app in public subnets with public IPs for outbound traffic but inbound only from the load balancer (no NAT gateway{})",
                    if production { "" } else { " outside production" }
                ),
        },
    );
    if let Some(line) = running
        .iter()
        .find_map(|s| cat.private_data_access(s.hosting))
        .filter(|_| data)
    {
        notes.reason("network.serverless_access", Origin::Rule, line);
    }
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
