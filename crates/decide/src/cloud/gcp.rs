//! GCP: Compute Engine (one VM or a managed instance group behind the global
//! HTTPS load balancer), Cloud Run, GKE, Cloud Storage + Cloud CDN; Cloud SQL
//! and Memorystore; Secret Manager; Google-managed certificates and Cloud DNS;
//! its region and machine-type shapes; `prices/gcp.toml`.
//!
//! What this is not: the rules that choose among these (they are cloud-neutral
//! in `strategy`, `sizing`, `data`, `network`, `env`, `cost`).

use super::{
    alpha, lower_alnum, subnet, CacheAuth, Catalogue, ClusterOffer, DbCredentials, EngineVersion,
    NetFacts, RegionTwin,
};
use crate::cost::{
    addresses, cdn_site, dns_zone, images, logs, nat_data, per_second, Bill, CdnSite, PerSecond,
    PriceTable, Pricer, Section, VM_DISK_GB,
};
use crate::DecideError;
use autodeploy_core::{
    Cache, CertificateProvider, Cloud, ClusterKind, CredentialMethod, DataService, DatabaseEngine,
    DatabasePlan, DeployStrategy, DnsProvider, Hosting, LoadBalancerKind, SecretStore, SubnetPlan,
    SubnetTier,
};
use std::sync::OnceLock;

pub(crate) struct Gcp;

/// Cloud Run size: 1 vCPU and memory rounded up to a power of two from 512 MiB.
pub fn cloud_run_size(need_mib: u32) -> (f64, u32) {
    let mut m = 512;
    while m < need_mib && m < 32768 {
        m *= 2;
    }
    (if m > 4096 { 2.0 } else { 1.0 }, m)
}

impl Catalogue for Gcp {
    fn cloud(&self) -> Cloud {
        Cloud::Gcp
    }
    fn name(&self) -> &'static str {
        "GCP"
    }

    fn default_region(&self) -> &'static str {
        "us-central1"
    }
    fn region_example(&self) -> &'static str {
        "europe-west1"
    }
    /// `us-central1`, `europe-west10`, `northamerica-northeast1`: letters-letters+digits.
    fn owns_region(&self, parts: &[&str]) -> bool {
        matches!(parts, [a, b] if alpha(a) && {
            let letters = b.trim_end_matches(|c: char| c.is_ascii_digit());
            alpha(letters) && letters.len() < b.len()
        })
    }
    /// `e2-small`, `n2-standard-2`.
    fn instance_type_shape(&self, lower: &str) -> Option<bool> {
        let (family, size) = lower.split_once('-')?;
        let family_ok = lower_alnum(family, b"") && family.as_bytes()[0].is_ascii_lowercase();
        Some(family_ok && lower_alnum(size, b"-"))
    }
    fn twin(&self, row: &RegionTwin) -> &'static str {
        row.gcp
    }
    fn prices(&self) -> Result<Option<&'static PriceTable>, DecideError> {
        static TABLE: OnceLock<Result<PriceTable, String>> = OnceLock::new();
        crate::cost::load(&TABLE, Cloud::Gcp, crate::prices::gcp).map(Some)
    }

    fn hosting(&self, strategy: DeployStrategy, scaled: bool) -> Hosting {
        match strategy {
            DeployStrategy::Vm if scaled => Hosting::ComputeEngineMig,
            DeployStrategy::Vm => Hosting::ComputeEngine,
            DeployStrategy::Container | DeployStrategy::Serverless => Hosting::CloudRun,
            DeployStrategy::Kubernetes => Hosting::Gke,
            DeployStrategy::Static => Hosting::CloudStorageCdn,
            DeployStrategy::Process => Hosting::LocalProcess,
        }
    }
    fn hosting_name(&self, h: Hosting) -> &'static str {
        match h {
            Hosting::ComputeEngine => "one Compute Engine VM",
            Hosting::ComputeEngineMig => "a Compute Engine managed instance group",
            Hosting::CloudRun => "Cloud Run",
            Hosting::Gke => "GKE",
            Hosting::CloudStorageCdn => "Cloud Storage + Cloud CDN",
            _ => "a GCP service",
        }
    }
    fn strategy_words(&self, strategy: DeployStrategy) -> &'static str {
        match strategy {
            DeployStrategy::Static => "Cloud Storage behind Cloud CDN",
            DeployStrategy::Serverless => "Cloud Run scaling to zero",
            DeployStrategy::Container => "Cloud Run",
            DeployStrategy::Kubernetes => "GKE",
            DeployStrategy::Vm | DeployStrategy::Process => "Compute Engine",
        }
    }
    fn containers_scale_to_zero(&self) -> bool {
        true
    }
    fn copy_size(&self, h: Hosting, _want_vcpu: f64, need_mib: u32) -> Option<(Option<f64>, u32)> {
        (h == Hosting::CloudRun).then(|| {
            let (c, m) = cloud_run_size(need_mib);
            (Some(c), m)
        })
    }
    fn request_scaling_target(&self, h: Hosting) -> Option<f64> {
        (h == Hosting::CloudRun).then_some(80.0)
    }
    fn cluster(&self, _production: bool) -> Option<ClusterOffer> {
        Some(ClusterOffer {
            kind: ClusterKind::Gke,
            paid_control_plane: true,
            words: "GKE Standard",
            control_plane_reason: None,
        })
    }

    fn database_service(&self, engine: DatabaseEngine) -> DataService {
        match engine {
            DatabaseEngine::Mongodb => DataService::External,
            _ => DataService::GcpCloudSql,
        }
    }
    /// Cloud SQL and Memorystore; Cloud SQL's standard support follows the
    /// community's end of life (extended support after it is billed).
    fn engine_versions(&self) -> &'static [EngineVersion] {
        &[
            EngineVersion {
                engine: "postgresql",
                version: "15",
                available: "2023-02-15",
                standard_until: Some("2027-11-11"),
            },
            EngineVersion {
                engine: "postgresql",
                version: "16",
                available: "2024-01-10",
                standard_until: Some("2028-11-09"),
            },
            EngineVersion {
                engine: "postgresql",
                version: "17",
                available: "2024-12-12",
                standard_until: Some("2029-11-08"),
            },
            EngineVersion {
                engine: "mysql",
                version: "8.0",
                available: "2020-09-01",
                standard_until: Some("2026-04-30"),
            },
            EngineVersion {
                engine: "mysql",
                version: "8.4",
                available: "2024-10-24",
                standard_until: Some("2032-04-30"),
            },
            EngineVersion {
                engine: "redis",
                version: "7.2",
                available: "2024-01-18",
                standard_until: None,
            },
            EngineVersion {
                engine: "memcached",
                version: "1.6",
                available: "2021-03-01",
                standard_until: None,
            },
        ]
    }
    fn database_storage_gb(&self) -> u32 {
        10
    }
    fn database_credentials(&self, _service: DataService) -> DbCredentials {
        super::write_only_password(self.secret_store_name())
    }
    fn cache_service(&self, _engine: Cache) -> Result<DataService, &'static str> {
        Ok(DataService::GcpMemorystore)
    }
    /// Memorystore with in-transit encryption serves TLS on 6378.
    fn redis_tls_port(&self) -> u16 {
        6378
    }
    fn redis_auth(&self) -> Option<CacheAuth> {
        Some(CacheAuth {
            method: CredentialMethod::ServiceGeneratedKey,
            description: "Memorystore AUTH on: the service generates the AUTH string and the deploy stage copies it into Secret Manager",
            tls_words: "; TLS in transit",
            generator: "Memorystore AUTH string (generated by the service)",
        })
    }
    fn unauthenticated_cache_words(&self) -> &'static str {
        "; reachable only through private service access, AUTH off so its URL carries no secret"
    }
    fn data_service_name(&self, s: DataService) -> &'static str {
        match s {
            DataService::GcpCloudSql => "Cloud SQL",
            _ => "Memorystore",
        }
    }

    fn secret_store(&self) -> SecretStore {
        SecretStore::GcpSecretManager
    }
    fn secret_store_name(&self) -> &'static str {
        "GCP Secret Manager"
    }
    fn generated_by(&self, what: &str) -> String {
        format!("generated by the deploy stage ({what}) into Secret Manager")
    }

    fn load_balancer(&self) -> Option<LoadBalancerKind> {
        Some(LoadBalancerKind::GcpHttpsLb)
    }
    fn front_door_words(&self, kind: LoadBalancerKind, h: Hosting) -> &'static str {
        match (kind, h) {
            (LoadBalancerKind::GcpHttpsLb, Hosting::CloudStorageCdn) => {
                "a global external Application Load Balancer with Cloud CDN"
            }
            (LoadBalancerKind::GcpHttpsLb, _) => "a global external Application Load Balancer",
            (_, Hosting::CloudRun) => "Cloud Run's own HTTPS front door",
            _ => "the platform's own front door",
        }
    }
    fn certificate(
        &self,
        h: Hosting,
        lb: Option<LoadBalancerKind>,
    ) -> (CertificateProvider, &'static str, &'static str) {
        match (h, lb) {
            (h, _) if h.is_single_vm() => super::lets_encrypt(h),
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
            (h, _) => super::lets_encrypt(h),
        }
    }
    fn https_needs_domain(&self) -> &'static str {
        "Google-managed certificates need a domain you own"
    }
    fn dns(&self) -> Option<(DnsProvider, &'static str)> {
        Some((DnsProvider::CloudDns, "Cloud DNS"))
    }
    fn dns_record(
        &self,
        h: Hosting,
        _lb: Option<LoadBalancerKind>,
    ) -> (&'static str, &'static str) {
        match h {
            Hosting::CloudRun => ("cname", "platform"),
            h if h.is_single_vm() => ("a", "instance_ip"),
            _ => ("a", "load_balancer"),
        }
    }

    /// A managed instance group runs in a private subnet behind Cloud NAT.
    fn app_placement(&self, f: &NetFacts) -> Option<(SubnetTier, u32)> {
        f.scaled_vm.then_some((SubnetTier::Private, 1))
    }
    /// One app subnet; a range for private services access when there is data.
    fn subnets(&self, f: &NetFacts, app_tier: SubnetTier) -> Vec<SubnetPlan> {
        let mut out = vec![subnet("app", app_tier, "10.0.0.0/20", 0)];
        if f.data() {
            out.push(subnet(
                "private-services",
                SubnetTier::Private,
                "10.100.0.0/16",
                0,
            ));
        }
        out
    }
    fn admin_access(&self) -> &'static str {
        "gcp_iap"
    }
    fn private_data_access(&self, h: Hosting) -> Option<&'static str> {
        (h == Hosting::CloudRun).then_some(
            "Cloud Run reaches the private database / cache through Direct VPC egress into the app subnet",
        )
    }

    #[cfg(test)]
    fn rate_keys(&self) -> &'static [&'static str] {
        RATE_KEYS
    }
    fn price(&self, item: &Bill, p: &mut Pricer) {
        if item.is_compute() {
            price_compute(item, p)
        } else {
            price_shared(item, p)
        }
    }
}

/// Cloud Run's rate keys: always-on instances or per request.
const CLOUD_RUN: PerSecond = PerSecond {
    resource: "cloud run",
    default_vcpu: 1.0,
    default_mib: 512,
    vcpu_always: "cloud_run_vcpu_second_always",
    gib_always: "cloud_run_gib_second_always",
    vcpu: "cloud_run_vcpu_second",
    gib: "cloud_run_gib_second",
    requests: "cloud_run_million_requests",
    always_on: "instance(s) always on",
};

/// Every rate key the GCP prices read.
#[cfg(test)]
const RATE_KEYS: &[&str] = &[
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
];

/// Cloud SQL: class hours (×2 for HA) and SSD storage.
fn cloud_sql(db: &DatabasePlan, p: &mut Pricer) {
    p.managed_database(
        db,
        "cloud sql",
        " ha",
        (
            "cloud_sql_storage_gb_month",
            "cloud_sql_ha_storage_gb_month",
        ),
        "cloud sql ssd storage",
    );
}

/// What runs the app: machines, containers, functions, sites, the cluster.
fn price_compute(item: &Bill, p: &mut Pricer) {
    let s = Section::Services;
    match *item {
        Bill::Machines {
            instance_type,
            count,
            single,
        } => {
            let what = "Compute Engine";
            p.machine_hours(
                s,
                "compute engine",
                "app servers",
                instance_type,
                count,
                what,
            );
            let r = p.rate("pd_balanced_gb_month");
            let q = VM_DISK_GB * count;
            p.add(
                s,
                "balanced persistent disk",
                "app servers",
                "gb_month",
                r,
                q,
                None,
            );
            p.tally.addresses += f64::from(u8::from(single));
        }
        Bill::Containers { service, .. } => {
            p.tally.images += 1.0;
            per_second(p, service, &CLOUD_RUN);
        }
        Bill::Pods => p.tally.images += 1.0,
        Bill::StaticSite { service } => {
            cdn_site(
                p,
                service,
                &CdnSite {
                    storage: ("cloud storage", "gcs_gb_month"),
                    transfer: ("cloud cdn transfer", "cdn_gb"),
                    requests: ("cloud cdn requests", "cdn_10k_requests"),
                },
            );
            p.tally.fronts += 1.0;
        }
        Bill::Function { .. } => {}
        Bill::ControlPlane => {
            let r = p.rate("gke_cluster_fee_hour");
            p.hourly(
                Section::Cluster,
                "gke cluster management fee",
                "cluster",
                r,
                1.0,
            );
            p.note("GKE's free tier credit covers the management fee of one zonal or Autopilot cluster per billing account; it is counted here.");
        }
        Bill::ClusterNodes {
            instance_type,
            nodes,
        } => {
            let c = Section::Cluster;
            p.machine_hours(c, "gke nodes", "cluster", instance_type, nodes, "");
            let r = p.rate("pd_balanced_gb_month");
            let q = VM_DISK_GB * nodes;
            p.add(
                c,
                "node persistent disks",
                "cluster",
                "gb_month",
                r,
                q,
                None,
            );
        }
        _ => {}
    }
}

/// The way in, the network, logs, data services, secrets and DNS.
fn price_shared(item: &Bill, p: &mut Pricer) {
    match *item {
        Bill::LoadBalancer(kind) => {
            // One forwarding rule per static site's CDN front end, at least one for the app's.
            let mut rules = p.tally.fronts;
            if kind == Some(LoadBalancerKind::GcpHttpsLb) {
                rules = rules.max(1.0);
            }
            if rules > 0.0 {
                let r = p.rate("lb_forwarding_rule_hour");
                let res = "load balancer forwarding rule";
                p.hourly(Section::LoadBalancer, res, "load balancer", r, rules);
            }
        }
        Bill::Nat { machines, .. } => {
            let r = p.rate("nat_vm_hour");
            p.hourly(Section::Nat, "cloud nat", "network", r, machines);
            nat_data(p, "cloud nat data", "nat_gb");
        }
        Bill::Logs { services } => logs(
            p,
            "cloud logging",
            "cloud_logging_gb",
            services,
            "1 GB of logs per service a month (the first 50 GB per project are free)",
        ),
        Bill::Database(db) => cloud_sql(db, p),
        Bill::Cache(c) => {
            if let Some(spec) = p.table.cache_node(&c.node_type).copied() {
                let res = format!("memorystore {}", c.node_type);
                p.hourly(Section::Cache, res, "cache", spec.hourly, c.nodes as f64);
            }
        }
        Bill::Secrets { count } => {
            let r = p.rate("secret_manager_version_month");
            let res = "secret manager versions";
            p.add(
                Section::Secrets,
                res,
                "secrets",
                "version_month",
                r,
                count,
                None,
            );
        }
        Bill::DnsZone => dns_zone(p, "cloud dns zone", "cloud_dns_zone_month"),
        Bill::Images { services } => images(
            p,
            "artifact registry storage",
            "artifact_registry_gb_month",
            services,
        ),
        Bill::PublicAddresses { count } => addresses(p, "external ipv4 addresses", count),
        _ => {}
    }
}
