//! The monthly cost estimate, from an embedded, dated price table.
//!
//! `prices/{aws,gcp,azure}.toml` hold on-demand list prices for one base region
//! (machine types, database and cache classes, load balancers, NAT, Fargate /
//! Cloud Run / Container Apps units, Kubernetes control planes, Lambda, object
//! storage and CDN basics, secrets, DNS) plus one price multiplier per region.
//! They are compiled into the binary: no network is needed. [`estimate`]
//! prices every resource of a [`Decision`] and lists each item (resource, unit
//! price, quantity, monthly) with the table's date and source.
//!
//! What this is not: a bill. Data transfer, taxes, free tiers, discounts and
//! usage beyond the stated assumptions are left out, and the notes say so.
//! Choosing sizes to fit a budget is `lib.rs`'s budget step; this module only
//! prices.

use crate::DecideError;
use crate::DecideOptions;
use autodeploy_core::{
    Cache, Cloud, CostEstimate, CostItem, DataService, Decision, DeployStrategy, Hosting,
    LoadBalancerKind, SecretStore, ServiceKind, SubnetTier,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

const AWS: &str = include_str!("../prices/aws.toml");
const GCP: &str = include_str!("../prices/gcp.toml");
const AZURE: &str = include_str!("../prices/azure.toml");

/// One price table (one cloud).
#[derive(Debug, Clone, Deserialize)]
pub struct PriceTable {
    pub meta: Meta,
    pub regions: BTreeMap<String, f64>,
    pub instances: BTreeMap<String, Spec>,
    pub ladders: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub database: BTreeMap<String, BTreeMap<String, Spec>>,
    #[serde(default)]
    pub cache: BTreeMap<String, Spec>,
    pub rates: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Meta {
    pub cloud: String,
    pub date: String,
    pub currency: String,
    pub base_region: String,
    pub hours_per_month: f64,
    pub source: String,
}

/// Price and shape of one machine / database / cache class.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Spec {
    pub hourly: f64,
    pub vcpu: f64,
    pub memory_gib: f64,
}

fn parse(cloud: Cloud, text: &str) -> Result<PriceTable, String> {
    let t: PriceTable = toml::from_str(text).map_err(|e| e.to_string())?;
    if t.meta.cloud != cloud.as_str() {
        return Err(format!("meta.cloud is {:?}", t.meta.cloud));
    }
    for (name, ladder) in &t.ladders {
        for item in ladder {
            let known = if name.starts_with("db_") {
                let engine = name
                    .trim_start_matches("db_")
                    .trim_end_matches("_production");
                t.database.get(engine).is_some_and(|m| m.contains_key(item))
            } else if name.starts_with("cache_") {
                t.cache.contains_key(item)
            } else {
                t.instances.contains_key(item)
            };
            if !known {
                return Err(format!("ladder {name} names {item}, which has no price"));
            }
        }
    }
    Ok(t)
}

/// The embedded price table of a cloud (`None` for local).
pub fn table(cloud: Cloud) -> Result<Option<&'static PriceTable>, DecideError> {
    static TABLES: OnceLock<[Result<PriceTable, String>; 3]> = OnceLock::new();
    let tables = TABLES.get_or_init(|| {
        [
            parse(Cloud::Aws, AWS),
            parse(Cloud::Gcp, GCP),
            parse(Cloud::Azure, AZURE),
        ]
    });
    let i = match cloud {
        Cloud::Aws => 0,
        Cloud::Gcp => 1,
        Cloud::Azure => 2,
        Cloud::Local => return Ok(None),
    };
    tables[i]
        .as_ref()
        .map(Some)
        .map_err(|message| DecideError::PriceTable {
            cloud,
            message: message.clone(),
        })
}

impl PriceTable {
    /// A machine type by name (case-insensitive, for Azure's `standard_b2s`), with its canonical name.
    pub fn instance(&self, name: &str) -> Option<(&str, &Spec)> {
        self.instances
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name.trim()))
            .map(|(k, v)| (k.as_str(), v))
    }

    pub fn ladder(&self, name: &str) -> &[String] {
        self.ladders.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn db_class(&self, engine: &str, class: &str) -> Option<&Spec> {
        self.database.get(engine).and_then(|m| m.get(class))
    }

    pub fn cache_node(&self, node: &str) -> Option<&Spec> {
        self.cache.get(node)
    }

    /// A named unit price; 0 (and never a panic) when missing — tests check every key exists.
    pub fn rate(&self, key: &str) -> f64 {
        self.rates.get(key).copied().unwrap_or(0.0)
    }

    /// Price multiplier of a region, and whether the table knows it.
    pub fn multiplier(&self, region: &str) -> (f64, bool) {
        match self.regions.get(region) {
            Some(m) => (*m, true),
            None => (1.0, false),
        }
    }

    /// The smallest machine of `ladder` with at least `memory_mib` of memory (the largest when none has).
    pub fn smallest_with_memory(&self, ladder: &str, memory_mib: u32) -> Option<(&str, &Spec)> {
        let names = self.ladder(ladder);
        names
            .iter()
            .filter_map(|n| self.instance(n))
            .find(|(_, s)| s.memory_gib * 1024.0 >= memory_mib as f64)
            .or_else(|| names.last().and_then(|n| self.instance(n)))
    }
}

/// Every rate key the estimator reads, per cloud (checked by tests).
pub const RATE_KEYS: &[(Cloud, &[&str])] = &[
    (
        Cloud::Aws,
        &[
            "ebs_gp3_gb_month",
            "public_ipv4_hour",
            "alb_hour",
            "alb_lcu_hour",
            "nat_gateway_hour",
            "nat_gateway_gb",
            "fargate_vcpu_hour",
            "fargate_gb_hour",
            "eks_control_plane_hour",
            "lambda_million_requests",
            "lambda_gb_second",
            "apigw_http_million_requests",
            "s3_gb_month",
            "cloudfront_gb",
            "cloudfront_10k_https_requests",
            "route53_zone_month",
            "secrets_manager_secret_month",
            "rds_storage_gb_month",
            "rds_multi_az_storage_gb_month",
            "docdb_storage_gb_month",
            "cloudwatch_logs_ingest_gb",
            "ecr_storage_gb_month",
        ],
    ),
    (
        Cloud::Gcp,
        &[
            "pd_balanced_gb_month",
            "public_ipv4_hour",
            "lb_forwarding_rule_hour",
            "nat_vm_hour",
            "nat_gb",
            "cloud_run_vcpu_second_always",
            "cloud_run_gib_second_always",
            "cloud_run_vcpu_second",
            "cloud_run_gib_second",
            "cloud_run_million_requests",
            "gke_cluster_fee_hour",
            "gcs_gb_month",
            "cdn_gb",
            "cdn_10k_requests",
            "cloud_sql_storage_gb_month",
            "cloud_sql_ha_storage_gb_month",
            "secret_manager_version_month",
            "cloud_dns_zone_month",
            "artifact_registry_gb_month",
            "cloud_logging_gb",
        ],
    ),
    (
        Cloud::Azure,
        &[
            "disk_gb_month",
            "public_ipv4_hour",
            "lb_hour",
            "nat_gateway_hour",
            "nat_gateway_gb",
            "container_apps_vcpu_second",
            "container_apps_gib_second",
            "container_apps_million_requests",
            "aks_standard_tier_hour",
            "db_storage_gb_month",
            "static_web_apps_standard_month",
            "static_web_apps_free_month",
            "dns_zone_month",
            "key_vault_10k_operations",
            "log_analytics_gb",
        ],
    ),
];

/// Root / node disk size assumed for VMs and Kubernetes nodes, GB.
pub const VM_DISK_GB: f64 = 20.0;
/// Data processed by a NAT gateway, GB per month (assumption).
const NAT_GB: f64 = 10.0;
/// Logs ingested per running service, GB per month (assumption).
const LOGS_GB: f64 = 1.0;
/// Container image storage per service, GB (assumption).
const IMAGE_GB: f64 = 1.0;
/// Static site storage, GB (assumption).
const STATIC_GB: f64 = 1.0;
/// CDN requests per month for a static site (assumption).
const STATIC_REQUESTS: f64 = 1_000_000.0;

struct Pricer<'a> {
    table: &'a PriceTable,
    mult: f64,
    hours: f64,
    items: Vec<CostItem>,
}

impl Pricer<'_> {
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        resource: impl Into<String>,
        component: &str,
        unit: &str,
        base_unit_price: f64,
        quantity: f64,
        assumption: Option<String>,
    ) {
        let unit_price = round(base_unit_price * self.mult, 7);
        let monthly = round(unit_price * quantity, 2);
        self.items.push(CostItem {
            resource: resource.into(),
            component: component.to_string(),
            unit: unit.to_string(),
            unit_price_usd: unit_price,
            quantity: round(quantity, 3),
            monthly_usd: monthly,
            assumption,
        });
    }

    fn hourly(&mut self, resource: impl Into<String>, component: &str, price: f64, count: f64) {
        let h = self.hours;
        self.add(resource, component, "hour", price, h * count, None);
    }

    fn rate(&self, key: &str) -> f64 {
        self.table.rate(key)
    }
}

fn addresses(n: f64) -> String {
    format!("{} address{}", n as u32, if n == 1.0 { "" } else { "es" })
}

fn round(v: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (v * f).round() / f
}

/// A zero estimate (placeholder while a decision is assembled).
pub(crate) fn estimate_empty() -> CostEstimate {
    CostEstimate {
        currency: "USD".into(),
        total_usd_month: 0.0,
        region: String::new(),
        region_multiplier: 1.0,
        price_table_date: None,
        price_table_source: None,
        items: Vec::new(),
        budget_usd_month: None,
        within_budget: None,
        notes: Vec::new(),
    }
}

/// Price a decision. Local decisions cost nothing.
pub fn estimate(d: &Decision, table: Option<&PriceTable>, opts: &DecideOptions) -> CostEstimate {
    let Some(table) = table else {
        return CostEstimate {
            currency: "USD".into(),
            total_usd_month: 0.0,
            region: d.region.clone(),
            region_multiplier: 1.0,
            price_table_date: None,
            price_table_source: None,
            items: Vec::new(),
            budget_usd_month: None,
            within_budget: None,
            notes: vec!["local deployment: runs on this machine, no cloud cost".into()],
        };
    };
    let (mult, known) = table.multiplier(&d.region);
    let mut p = Pricer {
        table,
        mult,
        hours: table.meta.hours_per_month,
        items: Vec::new(),
    };
    let mut notes = vec![
        format!(
            "Estimate only: on-demand list prices from the embedded {} price table dated {} ({} prices{}), {} hours a month.",
            d.cloud.as_str(),
            table.meta.date,
            table.meta.base_region,
            if d.region == table.meta.base_region {
                String::new()
            } else {
                format!(" × {mult} for {}", d.region)
            },
            table.meta.hours_per_month
        ),
        "Excludes data transfer out, taxes, free tiers, savings plans / committed-use discounts and CI build minutes.".into(),
    ];
    if !known {
        notes.push(format!(
            "The table has no multiplier for {}: {} prices are used as they are.",
            d.region, table.meta.base_region
        ));
    }

    match d.cloud {
        Cloud::Aws => aws(d, &mut p, opts, &mut notes),
        Cloud::Gcp => gcp(d, &mut p, opts, &mut notes),
        Cloud::Azure => azure(d, &mut p, opts, &mut notes),
        Cloud::Local => {}
    }

    let total = round(p.items.iter().map(|i| i.monthly_usd).sum(), 2);
    CostEstimate {
        currency: table.meta.currency.clone(),
        total_usd_month: total,
        region: d.region.clone(),
        region_multiplier: mult,
        price_table_date: Some(table.meta.date.clone()),
        price_table_source: Some(table.meta.source.clone()),
        items: p.items,
        budget_usd_month: None,
        within_budget: None,
        notes,
    }
}

/// Desired copies of a service (1 when it has no scaling plan).
fn desired(s: &autodeploy_core::ServicePlan) -> f64 {
    s.scaling.as_ref().map(|x| x.desired.max(1)).unwrap_or(1) as f64
}

fn usage_assumption(opts: &DecideOptions) -> String {
    format!(
        "{} requests a month of {} ms each",
        opts.serverless_requests_per_month, opts.serverless_request_ms
    )
}

fn aws(d: &Decision, p: &mut Pricer, opts: &DecideOptions, notes: &mut Vec<String>) {
    let mut public_ips = 0.0;
    let app_public = d
        .network
        .as_ref()
        .is_some_and(|n| n.app_subnet_tier == SubnetTier::Public);
    let mut vm_priced = false;
    let mut containers = 0.0;
    for s in &d.services {
        let n = desired(s);
        match s.hosting {
            Hosting::Ec2 | Hosting::Ec2Autoscaling => {
                // All VM services share the same machines.
                if vm_priced {
                    continue;
                }
                vm_priced = true;
                let it = s
                    .compute
                    .as_ref()
                    .and_then(|c| c.instance_type.clone())
                    .unwrap_or_default();
                match p.table.instance(&it) {
                    Some((name, spec)) => {
                        let name = name.to_string();
                        p.hourly(format!("ec2 {name}"), "app servers", spec.hourly, n)
                    }
                    None => notes.push(format!("No price for EC2 {it} in the table: not counted.")),
                }
                let r = p.rate("ebs_gp3_gb_month");
                p.add(
                    "ebs gp3 volume",
                    "app servers",
                    "gb_month",
                    r,
                    VM_DISK_GB * n,
                    None,
                );
                if s.hosting == Hosting::Ec2 {
                    public_ips += 1.0;
                }
            }
            Hosting::EcsFargate => {
                let c = s.compute.as_ref();
                let vcpu = c.and_then(|c| c.vcpu).unwrap_or(0.25);
                let mem = c.and_then(|c| c.memory_mib).unwrap_or(512) as f64 / 1024.0;
                let h = p.hours;
                let r = p.rate("fargate_vcpu_hour");
                p.add(
                    format!("fargate vcpu ({})", s.name),
                    &s.name,
                    "vcpu_hour",
                    r,
                    vcpu * n * h,
                    None,
                );
                let r = p.rate("fargate_gb_hour");
                p.add(
                    format!("fargate memory ({})", s.name),
                    &s.name,
                    "gb_hour",
                    r,
                    mem * n * h,
                    None,
                );
                if app_public {
                    public_ips += n;
                }
                containers += 1.0;
            }
            Hosting::Eks => containers += 1.0,
            Hosting::Lambda => {
                let mem_gb =
                    s.compute.as_ref().and_then(|c| c.memory_mib).unwrap_or(512) as f64 / 1024.0;
                let req = opts.serverless_requests_per_month as f64;
                let gbs = req * opts.serverless_request_ms as f64 / 1000.0 * mem_gb;
                let r = p.rate("lambda_million_requests");
                p.add(
                    format!("lambda requests ({})", s.name),
                    &s.name,
                    "million_requests",
                    r,
                    req / 1e6,
                    Some(usage_assumption(opts)),
                );
                let r = p.rate("lambda_gb_second");
                p.add(
                    format!("lambda compute ({})", s.name),
                    &s.name,
                    "gb_second",
                    r,
                    gbs,
                    Some(usage_assumption(opts)),
                );
                if d.tls.domain.is_some() {
                    let r = p.rate("apigw_http_million_requests");
                    p.add(
                        "api gateway http api",
                        &s.name,
                        "million_requests",
                        r,
                        req / 1e6,
                        Some(usage_assumption(opts)),
                    );
                }
                containers += 1.0;
            }
            Hosting::S3Cloudfront => {
                let gb = opts.static_transfer_gb_month;
                let r = p.rate("s3_gb_month");
                p.add(
                    format!("s3 storage ({})", s.name),
                    &s.name,
                    "gb_month",
                    r,
                    STATIC_GB,
                    Some("1 GB of site files".into()),
                );
                let r = p.rate("cloudfront_gb");
                p.add(
                    format!("cloudfront transfer ({})", s.name),
                    &s.name,
                    "gb",
                    r,
                    gb,
                    Some(format!("{gb} GB served a month")),
                );
                let r = p.rate("cloudfront_10k_https_requests");
                p.add(
                    format!("cloudfront requests ({})", s.name),
                    &s.name,
                    "10k_requests",
                    r,
                    STATIC_REQUESTS / 1e4,
                    Some("1 million requests a month".into()),
                );
            }
            _ => {}
        }
    }
    if let Some(c) = &d.cluster {
        let r = p.rate("eks_control_plane_hour");
        p.hourly("eks control plane", "cluster", r, 1.0);
        if let Some((name, spec)) = p.table.instance(&c.node_instance_type) {
            let name = name.to_string();
            p.hourly(
                format!("eks nodes {name}"),
                "cluster",
                spec.hourly,
                c.desired_nodes as f64,
            );
        }
        let r = p.rate("ebs_gp3_gb_month");
        p.add(
            "ebs gp3 node volumes",
            "cluster",
            "gb_month",
            r,
            VM_DISK_GB * c.desired_nodes as f64,
            None,
        );
        if app_public {
            public_ips += c.desired_nodes as f64;
        }
    }
    if containers > 0.0 {
        let r = p.rate("ecr_storage_gb_month");
        p.add(
            "ecr image storage",
            "images",
            "gb_month",
            r,
            IMAGE_GB * containers,
            Some("1 GB of images per service".into()),
        );
    }
    let running = d
        .services
        .iter()
        .filter(|s| s.kind != ServiceKind::Static)
        .count() as f64;
    if running > 0.0 {
        let r = p.rate("cloudwatch_logs_ingest_gb");
        p.add(
            "cloudwatch logs ingestion",
            "logs",
            "gb",
            r,
            LOGS_GB * running,
            Some("1 GB of logs per service a month".into()),
        );
    }
    if let Some(lb) = &d.load_balancer {
        if lb.kind == LoadBalancerKind::AwsAlb {
            let r = p.rate("alb_hour");
            p.hourly("application load balancer", "load balancer", r, 1.0);
            let r = p.rate("alb_lcu_hour");
            p.add(
                "alb capacity units",
                "load balancer",
                "lcu_hour",
                r,
                p.hours,
                Some("1 LCU on average".into()),
            );
            public_ips += 2.0;
        }
    }
    if let Some(net) = &d.network {
        if net.nat_gateways > 0 {
            let r = p.rate("nat_gateway_hour");
            p.hourly("nat gateway", "network", r, net.nat_gateways as f64);
            let r = p.rate("nat_gateway_gb");
            p.add(
                "nat gateway data",
                "network",
                "gb",
                r,
                NAT_GB,
                Some(format!("{NAT_GB} GB through NAT a month")),
            );
            public_ips += net.nat_gateways as f64;
        }
    }
    if public_ips > 0.0 {
        let r = p.rate("public_ipv4_hour");
        let h = p.hours;
        p.add(
            "public ipv4 addresses",
            "network",
            "ip_hour",
            r,
            public_ips * h,
            Some(addresses(public_ips)),
        );
    }
    if let Some(db) = &d.database {
        match db.service {
            DataService::AwsRds => {
                let engine = db.engine.as_str();
                if let Some(spec) = p.table.db_class(engine, &db.instance_class).copied() {
                    let az = if db.multi_az { 2.0 } else { 1.0 };
                    p.hourly(
                        format!(
                            "rds {} {}{}",
                            engine,
                            db.instance_class,
                            if db.multi_az { " multi-az" } else { "" }
                        ),
                        "database",
                        spec.hourly * az,
                        1.0,
                    );
                }
                let r = p.rate(if db.multi_az {
                    "rds_multi_az_storage_gb_month"
                } else {
                    "rds_storage_gb_month"
                });
                p.add(
                    "rds storage",
                    "database",
                    "gb_month",
                    r,
                    db.storage_gb as f64,
                    None,
                );
            }
            DataService::AwsDocumentdb => {
                if let Some(spec) = p.table.db_class("mongodb", &db.instance_class).copied() {
                    let n = if db.multi_az { 2.0 } else { 1.0 };
                    p.hourly(
                        format!("documentdb {}", db.instance_class),
                        "database",
                        spec.hourly,
                        n,
                    );
                }
                let r = p.rate("docdb_storage_gb_month");
                p.add(
                    "documentdb storage",
                    "database",
                    "gb_month",
                    r,
                    db.storage_gb as f64,
                    None,
                );
                notes
                    .push("DocumentDB I/O requests are billed per million and not counted.".into());
            }
            _ => {}
        }
    }
    if let Some(c) = &d.cache {
        if c.service == DataService::AwsElasticache {
            if let Some(spec) = p.table.cache_node(&c.node_type).copied() {
                p.hourly(
                    format!("elasticache {} {}", cache_engine(c.engine), c.node_type),
                    "cache",
                    spec.hourly,
                    c.nodes as f64,
                );
            }
        }
    }
    let sm = d
        .secrets
        .iter()
        .filter(|s| s.store == SecretStore::AwsSecretsManager)
        .count() as f64;
    if sm > 0.0 {
        let r = p.rate("secrets_manager_secret_month");
        p.add(
            "secrets manager secrets",
            "secrets",
            "secret_month",
            r,
            sm,
            None,
        );
    }
    if d.tls.dns.is_some() {
        let r = p.rate("route53_zone_month");
        p.add(
            "route 53 hosted zone",
            "dns",
            "month",
            r,
            1.0,
            Some(
                "the zone is assumed to exist already; counted because it is billed monthly".into(),
            ),
        );
    }
}

fn cache_engine(c: Cache) -> &'static str {
    match c {
        Cache::Redis => "redis",
        Cache::Memcached => "memcached",
    }
}

fn gcp(d: &Decision, p: &mut Pricer, opts: &DecideOptions, notes: &mut Vec<String>) {
    let mut public_ips = 0.0;
    let mut vm_priced = false;
    let mut lb_rules: f64 = 0.0;
    let mut containers = 0.0;
    for s in &d.services {
        let n = desired(s);
        match s.hosting {
            Hosting::ComputeEngine | Hosting::ComputeEngineMig => {
                if vm_priced {
                    continue;
                }
                vm_priced = true;
                let it = s
                    .compute
                    .as_ref()
                    .and_then(|c| c.instance_type.clone())
                    .unwrap_or_default();
                match p.table.instance(&it) {
                    Some((name, spec)) => {
                        let name = name.to_string();
                        p.hourly(
                            format!("compute engine {name}"),
                            "app servers",
                            spec.hourly,
                            n,
                        )
                    }
                    None => notes.push(format!(
                        "No price for Compute Engine {it} in the table: not counted."
                    )),
                }
                let r = p.rate("pd_balanced_gb_month");
                p.add(
                    "balanced persistent disk",
                    "app servers",
                    "gb_month",
                    r,
                    VM_DISK_GB * n,
                    None,
                );
                if s.hosting == Hosting::ComputeEngine {
                    public_ips += 1.0;
                }
            }
            Hosting::CloudRun => {
                containers += 1.0;
                let c = s.compute.as_ref();
                let vcpu = c.and_then(|c| c.vcpu).unwrap_or(1.0);
                let gib = c.and_then(|c| c.memory_mib).unwrap_or(512) as f64 / 1024.0;
                let min = s.scaling.as_ref().map(|x| x.min).unwrap_or(0) as f64;
                if min >= 1.0 || s.kind == ServiceKind::Worker {
                    let secs = p.hours * 3600.0 * min.max(1.0);
                    let r = p.rate("cloud_run_vcpu_second_always");
                    p.add(
                        format!("cloud run vcpu ({})", s.name),
                        &s.name,
                        "vcpu_second",
                        r,
                        vcpu * secs,
                        Some(format!("{} instance(s) always on", min.max(1.0))),
                    );
                    let r = p.rate("cloud_run_gib_second_always");
                    p.add(
                        format!("cloud run memory ({})", s.name),
                        &s.name,
                        "gib_second",
                        r,
                        gib * secs,
                        Some(format!("{} instance(s) always on", min.max(1.0))),
                    );
                } else {
                    let req = opts.serverless_requests_per_month as f64;
                    let secs = req * opts.serverless_request_ms as f64 / 1000.0;
                    let r = p.rate("cloud_run_vcpu_second");
                    p.add(
                        format!("cloud run vcpu ({})", s.name),
                        &s.name,
                        "vcpu_second",
                        r,
                        vcpu * secs,
                        Some(usage_assumption(opts)),
                    );
                    let r = p.rate("cloud_run_gib_second");
                    p.add(
                        format!("cloud run memory ({})", s.name),
                        &s.name,
                        "gib_second",
                        r,
                        gib * secs,
                        Some(usage_assumption(opts)),
                    );
                    let r = p.rate("cloud_run_million_requests");
                    p.add(
                        format!("cloud run requests ({})", s.name),
                        &s.name,
                        "million_requests",
                        r,
                        req / 1e6,
                        Some(usage_assumption(opts)),
                    );
                }
            }
            Hosting::Gke => containers += 1.0,
            Hosting::CloudStorageCdn => {
                let gb = opts.static_transfer_gb_month;
                let r = p.rate("gcs_gb_month");
                p.add(
                    format!("cloud storage ({})", s.name),
                    &s.name,
                    "gb_month",
                    r,
                    STATIC_GB,
                    Some("1 GB of site files".into()),
                );
                let r = p.rate("cdn_gb");
                p.add(
                    format!("cloud cdn transfer ({})", s.name),
                    &s.name,
                    "gb",
                    r,
                    gb,
                    Some(format!("{gb} GB served a month")),
                );
                let r = p.rate("cdn_10k_requests");
                p.add(
                    format!("cloud cdn requests ({})", s.name),
                    &s.name,
                    "10k_requests",
                    r,
                    STATIC_REQUESTS / 1e4,
                    Some("1 million requests a month".into()),
                );
                lb_rules += 1.0;
            }
            _ => {}
        }
    }
    if let Some(c) = &d.cluster {
        let r = p.rate("gke_cluster_fee_hour");
        p.hourly("gke cluster management fee", "cluster", r, 1.0);
        notes.push("GKE's free tier credit covers the management fee of one zonal or Autopilot cluster per billing account; it is counted here.".into());
        if let Some((name, spec)) = p.table.instance(&c.node_instance_type) {
            let name = name.to_string();
            p.hourly(
                format!("gke nodes {name}"),
                "cluster",
                spec.hourly,
                c.desired_nodes as f64,
            );
        }
        let r = p.rate("pd_balanced_gb_month");
        p.add(
            "node persistent disks",
            "cluster",
            "gb_month",
            r,
            VM_DISK_GB * c.desired_nodes as f64,
            None,
        );
    }
    if containers > 0.0 {
        let r = p.rate("artifact_registry_gb_month");
        p.add(
            "artifact registry storage",
            "images",
            "gb_month",
            r,
            IMAGE_GB * containers,
            Some("1 GB of images per service".into()),
        );
    }
    if let Some(lb) = &d.load_balancer {
        if lb.kind == LoadBalancerKind::GcpHttpsLb {
            lb_rules = lb_rules.max(1.0);
        }
    }
    if lb_rules > 0.0 {
        let r = p.rate("lb_forwarding_rule_hour");
        p.hourly(
            "load balancer forwarding rule",
            "load balancer",
            r,
            lb_rules,
        );
    }
    if let Some(net) = &d.network {
        if net.nat_gateways > 0 {
            let vms = d
                .services
                .iter()
                .find(|s| s.hosting == Hosting::ComputeEngineMig)
                .map(desired)
                .unwrap_or(1.0);
            let r = p.rate("nat_vm_hour");
            p.hourly("cloud nat", "network", r, vms);
            let r = p.rate("nat_gb");
            p.add(
                "cloud nat data",
                "network",
                "gb",
                r,
                NAT_GB,
                Some(format!("{NAT_GB} GB through NAT a month")),
            );
        }
    }
    if public_ips > 0.0 {
        let r = p.rate("public_ipv4_hour");
        let h = p.hours;
        p.add(
            "external ipv4 addresses",
            "network",
            "ip_hour",
            r,
            public_ips * h,
            Some(addresses(public_ips)),
        );
    }
    let running = d
        .services
        .iter()
        .filter(|s| s.kind != ServiceKind::Static)
        .count() as f64;
    if running > 0.0 {
        let r = p.rate("cloud_logging_gb");
        p.add(
            "cloud logging",
            "logs",
            "gb",
            r,
            LOGS_GB * running,
            Some("1 GB of logs per service a month (the first 50 GB per project are free)".into()),
        );
    }
    if let Some(db) = &d.database {
        if db.service == DataService::GcpCloudSql {
            if let Some(spec) = p
                .table
                .db_class(db.engine.as_str(), &db.instance_class)
                .copied()
            {
                let ha = if db.multi_az { 2.0 } else { 1.0 };
                p.hourly(
                    format!(
                        "cloud sql {} {}{}",
                        db.engine.as_str(),
                        db.instance_class,
                        if db.multi_az { " ha" } else { "" }
                    ),
                    "database",
                    spec.hourly * ha,
                    1.0,
                );
            }
            let r = p.rate(if db.multi_az {
                "cloud_sql_ha_storage_gb_month"
            } else {
                "cloud_sql_storage_gb_month"
            });
            p.add(
                "cloud sql ssd storage",
                "database",
                "gb_month",
                r,
                db.storage_gb as f64,
                None,
            );
        }
    }
    if let Some(c) = &d.cache {
        if c.service == DataService::GcpMemorystore {
            if let Some(spec) = p.table.cache_node(&c.node_type).copied() {
                p.hourly(
                    format!("memorystore {}", c.node_type),
                    "cache",
                    spec.hourly,
                    c.nodes as f64,
                );
            }
        }
    }
    let sm = d
        .secrets
        .iter()
        .filter(|s| s.store == SecretStore::GcpSecretManager)
        .count() as f64;
    if sm > 0.0 {
        let r = p.rate("secret_manager_version_month");
        p.add(
            "secret manager versions",
            "secrets",
            "version_month",
            r,
            sm,
            None,
        );
    }
    if d.tls.dns.is_some() {
        let r = p.rate("cloud_dns_zone_month");
        p.add(
            "cloud dns zone",
            "dns",
            "month",
            r,
            1.0,
            Some(
                "the zone is assumed to exist already; counted because it is billed monthly".into(),
            ),
        );
    }
}

fn azure(d: &Decision, p: &mut Pricer, opts: &DecideOptions, notes: &mut Vec<String>) {
    let mut public_ips = 0.0;
    let mut vm_priced = false;
    for s in &d.services {
        let n = desired(s);
        match s.hosting {
            Hosting::AzureVm | Hosting::AzureVmss => {
                if vm_priced {
                    continue;
                }
                vm_priced = true;
                let it = s
                    .compute
                    .as_ref()
                    .and_then(|c| c.instance_type.clone())
                    .unwrap_or_default();
                match p.table.instance(&it) {
                    Some((name, spec)) => {
                        let name = name.to_string();
                        p.hourly(format!("vm {name}"), "app servers", spec.hourly, n)
                    }
                    None => notes.push(format!(
                        "No price for Azure VM size {it} in the table: not counted."
                    )),
                }
                let r = p.rate("disk_gb_month");
                p.add(
                    "standard ssd managed disk",
                    "app servers",
                    "gb_month",
                    r,
                    32.0 * n,
                    Some("32 GiB OS disk per VM".into()),
                );
                if s.hosting == Hosting::AzureVm {
                    public_ips += 1.0;
                }
            }
            Hosting::ContainerApps => {
                let c = s.compute.as_ref();
                let vcpu = c.and_then(|c| c.vcpu).unwrap_or(0.5);
                let gib = c.and_then(|c| c.memory_mib).unwrap_or(1024) as f64 / 1024.0;
                let min = s.scaling.as_ref().map(|x| x.min).unwrap_or(0) as f64;
                if min >= 1.0 || s.kind == ServiceKind::Worker {
                    let secs = p.hours * 3600.0 * min.max(1.0);
                    let r = p.rate("container_apps_vcpu_second");
                    p.add(
                        format!("container apps vcpu ({})", s.name),
                        &s.name,
                        "vcpu_second",
                        r,
                        vcpu * secs,
                        Some(format!("{} replica(s) always active", min.max(1.0))),
                    );
                    let r = p.rate("container_apps_gib_second");
                    p.add(
                        format!("container apps memory ({})", s.name),
                        &s.name,
                        "gib_second",
                        r,
                        gib * secs,
                        Some(format!("{} replica(s) always active", min.max(1.0))),
                    );
                } else {
                    let req = opts.serverless_requests_per_month as f64;
                    let secs = req * opts.serverless_request_ms as f64 / 1000.0;
                    let r = p.rate("container_apps_vcpu_second");
                    p.add(
                        format!("container apps vcpu ({})", s.name),
                        &s.name,
                        "vcpu_second",
                        r,
                        vcpu * secs,
                        Some(usage_assumption(opts)),
                    );
                    let r = p.rate("container_apps_gib_second");
                    p.add(
                        format!("container apps memory ({})", s.name),
                        &s.name,
                        "gib_second",
                        r,
                        gib * secs,
                        Some(usage_assumption(opts)),
                    );
                    let r = p.rate("container_apps_million_requests");
                    p.add(
                        format!("container apps requests ({})", s.name),
                        &s.name,
                        "million_requests",
                        r,
                        req / 1e6,
                        Some(usage_assumption(opts)),
                    );
                }
                notes.push("Container Apps' monthly free grant (180,000 vCPU-s, 360,000 GiB-s, 2 million requests per subscription) is not subtracted.".into());
            }
            Hosting::StaticWebApps => {
                let production = d.environment == autodeploy_core::Environment::Production;
                let (key, plan) = if production {
                    ("static_web_apps_standard_month", "standard")
                } else {
                    ("static_web_apps_free_month", "free")
                };
                let r = p.rate(key);
                p.add(
                    format!("static web apps {plan} plan ({})", s.name),
                    &s.name,
                    "month",
                    r,
                    1.0,
                    None,
                );
            }
            _ => {}
        }
    }
    notes.dedup();
    if let Some(c) = &d.cluster {
        if c.paid_control_plane {
            let r = p.rate("aks_standard_tier_hour");
            p.hourly("aks standard tier control plane", "cluster", r, 1.0);
        }
        if let Some((name, spec)) = p.table.instance(&c.node_instance_type) {
            let name = name.to_string();
            p.hourly(
                format!("aks nodes {name}"),
                "cluster",
                spec.hourly,
                c.desired_nodes as f64,
            );
        }
        let r = p.rate("disk_gb_month");
        p.add(
            "aks node os disks",
            "cluster",
            "gb_month",
            r,
            32.0 * c.desired_nodes as f64,
            Some("32 GiB OS disk per node".into()),
        );
    }
    if let Some(lb) = &d.load_balancer {
        if lb.kind == LoadBalancerKind::AzureLoadBalancer {
            let r = p.rate("lb_hour");
            p.hourly("standard load balancer", "load balancer", r, 1.0);
            public_ips += 1.0;
        }
    }
    if let Some(net) = &d.network {
        if net.nat_gateways > 0 {
            let r = p.rate("nat_gateway_hour");
            p.hourly("nat gateway", "network", r, net.nat_gateways as f64);
            let r = p.rate("nat_gateway_gb");
            p.add(
                "nat gateway data",
                "network",
                "gb",
                r,
                NAT_GB,
                Some(format!("{NAT_GB} GB through NAT a month")),
            );
            public_ips += net.nat_gateways as f64;
        }
    }
    if public_ips > 0.0 {
        let r = p.rate("public_ipv4_hour");
        let h = p.hours;
        p.add(
            "public ip addresses",
            "network",
            "ip_hour",
            r,
            public_ips * h,
            Some(addresses(public_ips)),
        );
    }
    let running = d
        .services
        .iter()
        .filter(|s| s.kind != ServiceKind::Static && d.strategy != DeployStrategy::Static)
        .count() as f64;
    if running > 0.0 {
        let r = p.rate("log_analytics_gb");
        p.add(
            "log analytics ingestion",
            "logs",
            "gb",
            r,
            LOGS_GB * running,
            Some("1 GB of logs per service a month".into()),
        );
    }
    if let Some(db) = &d.database {
        if matches!(
            db.service,
            DataService::AzurePostgresqlFlexible | DataService::AzureMysqlFlexible
        ) {
            if let Some(spec) = p
                .table
                .db_class(db.engine.as_str(), &db.instance_class)
                .copied()
            {
                let ha = if db.multi_az { 2.0 } else { 1.0 };
                p.hourly(
                    format!(
                        "{} flexible server {}{}",
                        db.engine.as_str(),
                        db.instance_class,
                        if db.multi_az {
                            " zone-redundant ha"
                        } else {
                            ""
                        }
                    ),
                    "database",
                    spec.hourly * ha,
                    1.0,
                );
            }
            let ha = if db.multi_az { 2.0 } else { 1.0 };
            let r = p.rate("db_storage_gb_month");
            p.add(
                "flexible server storage",
                "database",
                "gb_month",
                r,
                db.storage_gb as f64 * ha,
                None,
            );
        }
    }
    if let Some(c) = &d.cache {
        if c.service == DataService::AzureCacheForRedis {
            if let Some(spec) = p.table.cache_node(&c.node_type).copied() {
                p.hourly(
                    format!("azure cache for redis {}", c.node_type),
                    "cache",
                    spec.hourly,
                    1.0,
                );
            }
        }
    }
    if d.secrets
        .iter()
        .any(|s| s.store == SecretStore::AzureKeyVault)
    {
        let r = p.rate("key_vault_10k_operations");
        p.add(
            "key vault operations",
            "secrets",
            "10k_operations",
            r,
            1.0,
            Some("10,000 secret reads a month".into()),
        );
    }
    if d.tls.dns.is_some() {
        let r = p.rate("dns_zone_month");
        p.add(
            "azure dns zone",
            "dns",
            "month",
            r,
            1.0,
            Some(
                "the zone is assumed to exist already; counted because it is billed monthly".into(),
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_tables_parse_and_hold_every_key_the_estimator_reads() {
        for (cloud, keys) in RATE_KEYS {
            let t = table(*cloud).unwrap().unwrap();
            assert_eq!(t.meta.cloud, cloud.as_str());
            assert!(
                t.meta.date.len() == 10 && t.meta.date.starts_with("20"),
                "{}",
                t.meta.date
            );
            assert_eq!(t.regions.get(&t.meta.base_region), Some(&1.0));
            assert!(t
                .regions
                .contains_key(crate::defaults::default_region(*cloud)));
            for k in *keys {
                assert!(t.rates.contains_key(*k), "{cloud:?} lacks rate {k}");
            }
            for ladder in ["vm", "k8s_node", "db_postgresql", "db_mysql", "cache_redis"] {
                assert!(
                    !t.ladder(ladder).is_empty(),
                    "{cloud:?} lacks ladder {ladder}"
                );
            }
            // Ladders go from small to large.
            for ladder in ["vm", "k8s_node"] {
                let mem: Vec<f64> = t
                    .ladder(ladder)
                    .iter()
                    .map(|n| t.instance(n).unwrap().1.memory_gib)
                    .collect();
                assert!(mem.windows(2).all(|w| w[0] <= w[1]), "{cloud:?} {ladder}");
            }
            for spec in t.instances.values() {
                assert!(spec.hourly > 0.0 && spec.memory_gib > 0.0);
            }
        }
        assert!(table(Cloud::Local).unwrap().is_none());
    }

    #[test]
    fn lookups() {
        let aws = table(Cloud::Aws).unwrap().unwrap();
        let azure = table(Cloud::Azure).unwrap().unwrap();
        let cases = [
            (aws, "vm", 512, "t3.micro"),
            (aws, "vm", 1024, "t3.micro"),
            (aws, "vm", 1536, "t3.small"),
            (aws, "vm", 2560, "t3.medium"),
            (aws, "vm", 1_000_000, "t3.2xlarge"),
            (azure, "vm", 1536, "Standard_B1ms"),
        ];
        for (t, ladder, mib, want) in cases {
            assert_eq!(
                t.smallest_with_memory(ladder, mib).unwrap().0,
                want,
                "{mib}"
            );
        }
        assert_eq!(azure.instance("standard_b2s").unwrap().0, "Standard_B2s");
        assert_eq!(aws.multiplier("eu-central-1"), (1.15, true));
        assert_eq!(aws.multiplier("xx-new-9"), (1.0, false));
        assert_eq!(aws.rate("no_such_rate"), 0.0);
    }

    #[test]
    fn a_broken_table_is_reported() {
        let bad = "[meta]\ncloud = \"aws\"\ndate = \"2025-01-01\"\ncurrency = \"USD\"\nbase_region = \"us-east-1\"\nhours_per_month = 730\nsource = \"x\"\n[regions]\n[instances]\n[ladders]\nvm = [\"t9.huge\"]\n[rates]\n";
        assert!(parse(Cloud::Aws, bad).unwrap_err().contains("t9.huge"));
        assert!(parse(Cloud::Gcp, bad).is_err());
    }
}
