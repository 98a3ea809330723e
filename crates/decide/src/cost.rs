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
    CachePlan, Cloud, CostEstimate, CostItem, DatabasePlan, Decision, Environment,
    LoadBalancerKind, SecretStore, ServiceKind, ServicePlan, SubnetTier,
};
use std::sync::OnceLock;

pub use crate::price_table::{Meta, PriceTable, Spec};

/// A table as written in `prices/<cloud>.toml` (the build script turns the
/// same text, through the same types, into `prices.rs`; tests compare both).
#[cfg(test)]
fn parse(cloud: Cloud, text: &str) -> Result<PriceTable, String> {
    let t: PriceTable = toml::from_str(text).map_err(|e| e.to_string())?;
    validate(cloud, t)
}

/// A table whose every ladder names priced classes, for `cloud`.
fn validate(cloud: Cloud, t: PriceTable) -> Result<PriceTable, String> {
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

/// The embedded price table of a cloud (`None` for local), from its catalogue.
pub fn table(cloud: Cloud) -> Result<Option<&'static PriceTable>, DecideError> {
    crate::cloud::of(cloud).prices()
}

/// A catalogue's embedded table, built and checked once, into `cell`.
///
/// `build` is one of the functions the build script writes from
/// `prices/<cloud>.toml` (`crate::prices::aws` …): the table is compiled into
/// the binary as data, so no TOML is parsed at run time (that parse was ~4 M
/// instructions, a tenth of a whole `plan`).
pub(crate) fn load(
    cell: &'static OnceLock<Result<PriceTable, String>>,
    cloud: Cloud,
    build: fn() -> PriceTable,
) -> Result<&'static PriceTable, DecideError> {
    cell.get_or_init(|| validate(cloud, build()))
        .as_ref()
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

/// What the estimate rests on: the table, its date, the region's multiplier.
fn table_notes(d: &Decision, table: &PriceTable, mult: f64, known: bool) -> Vec<String> {
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
    notes
}

/// One cloud-neutral thing a deployment is billed for, produced once from the
/// [`Decision`] by [`bill`]; each catalogue prices the items its cloud bills.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Bill<'a> {
    /// The machines every VM service shares: hours and disks.
    Machines {
        instance_type: &'a str,
        count: f64,
        /// One machine with its own public address.
        single: bool,
    },
    /// A container service's copies (vCPU and memory hours or seconds).
    Containers {
        service: &'a ServicePlan,
        copies: f64,
    },
    /// Pods of a Kubernetes service (billed through the nodes).
    Pods,
    /// A function billed per request and GB-second.
    Function {
        service: &'a ServicePlan,
        custom_domain: bool,
    },
    /// A static site: storage, CDN transfer and requests (or a plan).
    StaticSite { service: &'a ServicePlan },
    /// The cluster's paid control plane.
    ControlPlane,
    /// The cluster's nodes: hours and disks.
    ClusterNodes { instance_type: &'a str, nodes: f64 },
    /// The front door in front of the web services, if any.
    LoadBalancer(Option<LoadBalancerKind>),
    /// NAT gateways and the data through them; `machines`: the scaled VMs behind them.
    Nat { gateways: f64, machines: f64 },
    /// Log ingestion for running services.
    Logs { services: f64 },
    /// The managed database: class hours and storage.
    Database(&'a DatabasePlan),
    /// The managed cache: node hours.
    Cache(&'a CachePlan),
    /// Secrets in the cloud's secret store.
    Secrets { count: f64 },
    /// The DNS zone holding the record.
    DnsZone,
    /// Container images in the cloud's registry (derived while pricing).
    Images { services: f64 },
    /// Public IPv4 addresses (derived while pricing).
    PublicAddresses { count: f64 },
}

impl Bill<'_> {
    /// Items of what runs the app (machines, containers, functions, sites, the cluster).
    pub fn is_compute(&self) -> bool {
        matches!(
            self,
            Bill::Machines { .. }
                | Bill::Containers { .. }
                | Bill::Pods
                | Bill::Function { .. }
                | Bill::StaticSite { .. }
                | Bill::ControlPlane
                | Bill::ClusterNodes { .. }
        )
    }
}

/// Where a priced line appears in the estimate; each catalogue orders them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Services,
    Cluster,
    Images,
    LoadBalancer,
    Nat,
    Addresses,
    Logs,
    Database,
    Cache,
    Secrets,
    Dns,
}

impl Section {
    /// The usual order of the estimate.
    pub const ORDER: [Section; 11] = [
        Section::Services,
        Section::Cluster,
        Section::Images,
        Section::LoadBalancer,
        Section::Nat,
        Section::Addresses,
        Section::Logs,
        Section::Database,
        Section::Cache,
        Section::Secrets,
        Section::Dns,
    ];
}

/// Desired copies of a service (1 when it has no scaling plan).
fn desired(s: &ServicePlan) -> f64 {
    s.scaling.as_ref().map(|x| x.desired.max(1)).unwrap_or(1) as f64
}

/// The cloud-neutral bill of a decision, in pricing order. `store`: the
/// cloud's secret store (secrets elsewhere are not billed here).
pub(crate) fn bill(d: &Decision, store: SecretStore) -> Vec<Bill<'_>> {
    let mut out = Vec::new();
    let mut vm_billed = false;
    for s in &d.services {
        let h = s.hosting;
        if h.is_vm() {
            // All VM services share the same machines.
            if !std::mem::replace(&mut vm_billed, true) {
                out.push(Bill::Machines {
                    instance_type: s
                        .compute
                        .as_ref()
                        .and_then(|c| c.instance_type.as_deref())
                        .unwrap_or_default(),
                    count: desired(s),
                    single: h.is_single_vm(),
                });
            }
        } else if h.is_kubernetes() {
            out.push(Bill::Pods);
        } else if h.runs_containers() {
            out.push(Bill::Containers {
                service: s,
                copies: desired(s),
            });
        } else if h.is_function() {
            out.push(Bill::Function {
                service: s,
                custom_domain: d.tls.domain.is_some(),
            });
        } else if h.is_static() && !h.is_local() {
            out.push(Bill::StaticSite { service: s });
        }
    }
    if let Some(c) = &d.cluster {
        if c.paid_control_plane {
            out.push(Bill::ControlPlane);
        }
        out.push(Bill::ClusterNodes {
            instance_type: &c.node_instance_type,
            nodes: c.desired_nodes as f64,
        });
    }
    out.push(Bill::LoadBalancer(d.load_balancer.as_ref().map(|l| l.kind)));
    if let Some(net) = d.network.as_ref().filter(|n| n.nat_gateways > 0) {
        let machines = d
            .services
            .iter()
            .find(|s| s.hosting.is_scaled_vm())
            .map(desired)
            .unwrap_or(1.0);
        out.push(Bill::Nat {
            gateways: net.nat_gateways as f64,
            machines,
        });
    }
    let running = d
        .services
        .iter()
        .filter(|s| s.kind != ServiceKind::Static)
        .count() as f64;
    if running > 0.0 {
        out.push(Bill::Logs { services: running });
    }
    if let Some(db) = d.database.as_ref().filter(|db| db.service.is_managed()) {
        out.push(Bill::Database(db));
    }
    if let Some(c) = d.cache.as_ref().filter(|c| c.service.is_managed()) {
        out.push(Bill::Cache(c));
    }
    let secrets = d.secrets.iter().filter(|s| s.store == store).count() as f64;
    if secrets > 0.0 {
        out.push(Bill::Secrets { count: secrets });
    }
    if d.tls.dns.is_some() {
        out.push(Bill::DnsZone);
    }
    out
}

/// What pricing one item adds to the derived items.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Tally {
    /// Public IPv4 addresses.
    pub addresses: f64,
    /// Services whose images live in the registry.
    pub images: f64,
    /// Load balancer front ends (forwarding rules).
    pub fronts: f64,
}

/// The one pricer: turns bill items into [`CostItem`]s at the region's prices.
pub(crate) struct Pricer<'a> {
    pub table: &'a PriceTable,
    pub opts: &'a DecideOptions,
    pub environment: Environment,
    /// The app runs in public subnets (its copies get public addresses).
    pub app_public: bool,
    pub hours: f64,
    pub tally: Tally,
    mult: f64,
    lines: Vec<(Section, CostItem)>,
    notes: Vec<String>,
}

impl Pricer<'_> {
    /// A line priced per `unit` from a base-region price.
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        section: Section,
        resource: impl Into<String>,
        component: &str,
        unit: &str,
        base_unit_price: f64,
        quantity: f64,
        assumption: Option<String>,
    ) {
        let unit_price = round(base_unit_price * self.mult, 7);
        let monthly = round(unit_price * quantity, 2);
        self.lines.push((
            section,
            CostItem {
                resource: resource.into(),
                component: component.to_string(),
                unit: unit.to_string(),
                unit_price_usd: unit_price,
                quantity: round(quantity, 3),
                monthly_usd: monthly,
                assumption,
            },
        ));
    }

    /// `count` of something billed by the hour, all month.
    pub fn hourly(
        &mut self,
        section: Section,
        resource: impl Into<String>,
        component: &str,
        price: f64,
        count: f64,
    ) {
        let h = self.hours;
        self.add(section, resource, component, "hour", price, h * count, None);
    }

    /// A managed SQL database: its class's hours (twice with a standby) as
    /// `<product> <engine> <class><standby tag>`, then its storage at the
    /// table's `storage_key` rate (`standby_storage_key` with a standby) as
    /// `storage_name`. The catalogues name the product; the bill is one shape.
    pub fn managed_database(
        &mut self,
        db: &autodeploy_core::DatabasePlan,
        product: &str,
        standby_tag: &str,
        (storage_key, standby_storage_key): (&str, &str),
        storage_name: &str,
    ) {
        let section = Section::Database;
        let engine = db.engine.as_str();
        if let Some(spec) = self.table.db_class(engine, &db.instance_class).copied() {
            let copies = if db.multi_az { 2.0 } else { 1.0 };
            let tag = if db.multi_az { standby_tag } else { "" };
            let res = format!("{product} {engine} {}{tag}", db.instance_class);
            self.hourly(section, res, "database", spec.hourly * copies, 1.0);
        }
        let r = self.rate(if db.multi_az {
            standby_storage_key
        } else {
            storage_key
        });
        let q = db.storage_gb as f64;
        self.add(section, storage_name, "database", "gb_month", r, q, None);
    }

    /// A rate of the table.
    pub fn rate(&self, key: &str) -> f64 {
        self.table.rate(key)
    }

    /// A note for the estimate.
    pub fn note(&mut self, text: impl Into<String>) {
        self.notes.push(text.into());
    }

    /// Hours of `count` machines of `instance_type` as `<prefix> <name>`; a
    /// note instead when the table has no price for it (`what`: its name in the note).
    pub fn machine_hours(
        &mut self,
        section: Section,
        prefix: &str,
        component: &str,
        instance_type: &str,
        count: f64,
        what: &str,
    ) {
        match self.table.instance(instance_type) {
            Some((name, spec)) => {
                let (resource, price) = (format!("{prefix} {name}"), spec.hourly);
                self.hourly(section, resource, component, price, count)
            }
            None if what.is_empty() => {}
            None => self.note(format!(
                "No price for {what} {instance_type} in the table: not counted."
            )),
        }
    }

    /// `requests a month of ms each`, the usage assumption.
    pub fn usage_assumption(&self) -> String {
        format!(
            "{} requests a month of {} ms each",
            self.opts.serverless_requests_per_month, self.opts.serverless_request_ms
        )
    }
}

/// Rate keys and words of a platform billed per vCPU- and GiB-second that
/// scales to zero (Cloud Run, Container Apps).
pub(crate) struct PerSecond {
    pub resource: &'static str,
    pub default_vcpu: f64,
    pub default_mib: u32,
    pub vcpu_always: &'static str,
    pub gib_always: &'static str,
    pub vcpu: &'static str,
    pub gib: &'static str,
    pub requests: &'static str,
    /// `instance(s) always on`.
    pub always_on: &'static str,
}

/// Price a service on a per-second platform: its minimum copies always on,
/// else the usage assumption.
pub(crate) fn per_second(p: &mut Pricer, s: &ServicePlan, k: &PerSecond) {
    let c = s.compute.as_ref();
    let vcpu = c.and_then(|c| c.vcpu).unwrap_or(k.default_vcpu);
    let gib = c.and_then(|c| c.memory_mib).unwrap_or(k.default_mib) as f64 / 1024.0;
    let min = s.scaling.as_ref().map(|x| x.min).unwrap_or(0) as f64;
    let sec = Section::Services;
    if min >= 1.0 || s.kind == ServiceKind::Worker {
        let secs = p.hours * 3600.0 * min.max(1.0);
        let why = format!("{} {}", min.max(1.0), k.always_on);
        let (rv, rg) = (p.rate(k.vcpu_always), p.rate(k.gib_always));
        let (n, r) = (&s.name, k.resource);
        p.add(
            sec,
            format!("{r} vcpu ({n})"),
            n,
            "vcpu_second",
            rv,
            vcpu * secs,
            Some(why.clone()),
        );
        p.add(
            sec,
            format!("{r} memory ({n})"),
            n,
            "gib_second",
            rg,
            gib * secs,
            Some(why),
        );
    } else {
        let req = p.opts.serverless_requests_per_month as f64;
        let secs = req * p.opts.serverless_request_ms as f64 / 1000.0;
        let why = p.usage_assumption();
        let (rv, rg, rr) = (p.rate(k.vcpu), p.rate(k.gib), p.rate(k.requests));
        let (n, r) = (&s.name, k.resource);
        p.add(
            sec,
            format!("{r} vcpu ({n})"),
            n,
            "vcpu_second",
            rv,
            vcpu * secs,
            Some(why.clone()),
        );
        p.add(
            sec,
            format!("{r} memory ({n})"),
            n,
            "gib_second",
            rg,
            gib * secs,
            Some(why.clone()),
        );
        p.add(
            sec,
            format!("{r} requests ({n})"),
            n,
            "million_requests",
            rr,
            req / 1e6,
            Some(why),
        );
    }
}

/// Rate keys and words of a static site on object storage behind a CDN.
pub(crate) struct CdnSite {
    pub storage: (&'static str, &'static str),
    pub transfer: (&'static str, &'static str),
    pub requests: (&'static str, &'static str),
}

/// Price a static site: 1 GB stored, the transfer assumption, 1 million requests.
pub(crate) fn cdn_site(p: &mut Pricer, s: &ServicePlan, k: &CdnSite) {
    let gb = p.opts.static_transfer_gb_month;
    let n = &s.name;
    let sec = Section::Services;
    let r = p.rate(k.storage.1);
    let assumption = Some("1 GB of site files".to_string());
    p.add(
        sec,
        format!("{} ({n})", k.storage.0),
        n,
        "gb_month",
        r,
        STATIC_GB,
        assumption,
    );
    let r = p.rate(k.transfer.1);
    let assumption = Some(format!("{gb} GB served a month"));
    p.add(
        sec,
        format!("{} ({n})", k.transfer.0),
        n,
        "gb",
        r,
        gb,
        assumption,
    );
    let r = p.rate(k.requests.1);
    let assumption = Some("1 million requests a month".to_string());
    let quantity = STATIC_REQUESTS / 1e4;
    p.add(
        sec,
        format!("{} ({n})", k.requests.0),
        n,
        "10k_requests",
        r,
        quantity,
        assumption,
    );
}

/// Price NAT data: the assumed GB a month through NAT.
pub(crate) fn nat_data(p: &mut Pricer, resource: &str, key: &str) {
    let r = p.rate(key);
    let why = Some(format!("{NAT_GB} GB through NAT a month"));
    p.add(Section::Nat, resource, "network", "gb", r, NAT_GB, why);
}

/// The DNS zone, assumed to exist and billed monthly.
pub(crate) fn dns_zone(p: &mut Pricer, resource: &str, key: &str) {
    let r = p.rate(key);
    let why = "the zone is assumed to exist already; counted because it is billed monthly";
    p.add(
        Section::Dns,
        resource,
        "dns",
        "month",
        r,
        1.0,
        Some(why.into()),
    );
}

/// Public addresses, `ip_hour` all month.
pub(crate) fn addresses(p: &mut Pricer, resource: &str, count: f64) {
    let (r, h) = (p.rate("public_ipv4_hour"), p.hours);
    let n = format!(
        "{} address{}",
        count as u32,
        if count == 1.0 { "" } else { "es" }
    );
    p.add(
        Section::Addresses,
        resource,
        "network",
        "ip_hour",
        r,
        count * h,
        Some(n),
    );
}

/// Logs ingested: 1 GB per running service a month.
pub(crate) fn logs(p: &mut Pricer, resource: &str, key: &str, services: f64, why: &str) {
    let r = p.rate(key);
    p.add(
        Section::Logs,
        resource,
        "logs",
        "gb",
        r,
        LOGS_GB * services,
        Some(why.into()),
    );
}

/// Images: 1 GB per service in the registry.
pub(crate) fn images(p: &mut Pricer, resource: &str, key: &str, services: f64) {
    let r = p.rate(key);
    let why = Some("1 GB of images per service".to_string());
    p.add(
        Section::Images,
        resource,
        "images",
        "gb_month",
        r,
        IMAGE_GB * services,
        why,
    );
}

/// Price a decision. Local decisions cost nothing.
pub fn estimate(d: &Decision, table: Option<&PriceTable>, opts: &DecideOptions) -> CostEstimate {
    let Some(table) = table else {
        return CostEstimate {
            region: d.region.clone(),
            notes: vec!["local deployment: runs on this machine, no cloud cost".into()],
            ..estimate_empty()
        };
    };
    let cat = crate::cloud::of(d.cloud);
    let (mult, known) = table.multiplier(&d.region);
    let mut p = Pricer {
        table,
        opts,
        environment: d.environment,
        app_public: d
            .network
            .as_ref()
            .is_some_and(|n| n.app_subnet_tier == SubnetTier::Public),
        hours: table.meta.hours_per_month,
        tally: Tally::default(),
        mult,
        lines: Vec::new(),
        notes: table_notes(d, table, mult, known),
    };
    for item in bill(d, cat.secret_store()) {
        cat.price(&item, &mut p);
    }
    // Derived from what was priced; the sections put them in place.
    let Tally {
        addresses, images, ..
    } = p.tally;
    if images > 0.0 {
        cat.price(&Bill::Images { services: images }, &mut p);
    }
    if addresses > 0.0 {
        cat.price(&Bill::PublicAddresses { count: addresses }, &mut p);
    }
    let order = cat.sections();
    p.lines
        .sort_by_key(|(s, _)| order.iter().position(|o| o == s).unwrap_or(order.len()));
    p.notes.dedup();
    let items: Vec<CostItem> = p.lines.into_iter().map(|(_, i)| i).collect();
    let total = round(items.iter().map(|i| i.monthly_usd).sum(), 2);
    CostEstimate {
        currency: table.meta.currency.clone(),
        total_usd_month: total,
        region: d.region.clone(),
        region_multiplier: mult,
        price_table_date: Some(table.meta.date.clone()),
        price_table_source: Some(table.meta.source.clone()),
        items,
        budget_usd_month: None,
        within_budget: None,
        notes: p.notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_tables_parse_and_hold_every_key_the_estimator_reads() {
        for cloud in &Cloud::PUBLIC {
            let keys = crate::cloud::of(*cloud).rate_keys();
            assert!(!keys.is_empty(), "{cloud:?}");
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
            for k in keys {
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
    fn embedded_tables_are_the_toml_files() {
        for (cloud, text) in [
            (Cloud::Aws, include_str!("../prices/aws.toml")),
            (Cloud::Gcp, include_str!("../prices/gcp.toml")),
            (Cloud::Azure, include_str!("../prices/azure.toml")),
        ] {
            let parsed = parse(cloud, text).unwrap();
            assert_eq!(&parsed, table(cloud).unwrap().unwrap(), "{cloud:?}");
        }
    }

    #[test]
    fn a_broken_table_is_reported() {
        let bad = "[meta]\ncloud = \"aws\"\ndate = \"2025-01-01\"\ncurrency = \"USD\"\nbase_region = \"us-east-1\"\nhours_per_month = 730\nsource = \"x\"\n[regions]\n[instances]\n[ladders]\nvm = [\"t9.huge\"]\n[rates]\n";
        assert!(parse(Cloud::Aws, bad).unwrap_err().contains("t9.huge"));
        assert!(parse(Cloud::Gcp, bad).is_err());
    }
}
