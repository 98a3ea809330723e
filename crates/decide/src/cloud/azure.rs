//! Azure: Linux VMs (one, or a scale set behind a Standard Load Balancer),
//! Container Apps, AKS, Static Web Apps; PostgreSQL / MySQL flexible server
//! and Azure Cache for Redis; Key Vault; Azure-managed certificates and Azure
//! DNS; its region and machine-type shapes; `prices/azure.toml`.
//!
//! What this is not: the rules that choose among these (they are cloud-neutral
//! in `strategy`, `sizing`, `data`, `network`, `env`, `cost`).

use super::{
    lower_alnum, subnet, CacheAuth, Catalogue, ClusterOffer, DbCredentials, EngineVersion,
    NetFacts, RegionTwin,
};
use crate::cost::{
    addresses, dns_zone, logs, nat_data, per_second, Bill, PerSecond, PriceTable, Pricer, Section,
};
use crate::DecideError;
use autodeploy_core::{
    Cache, CertificateProvider, Cloud, ClusterKind, CredentialMethod, DataService, DatabaseEngine,
    DeployStrategy, DnsProvider, Environment, Hosting, LoadBalancerKind, SecretStore, SubnetPlan,
    SubnetTier,
};
use std::sync::OnceLock;

pub(crate) struct Azure;

/// Container Apps size: the smallest valid pair (0.25 vCPU per 0.5 GiB) with at least `want_vcpu` and `need_mib`.
pub fn container_apps_size(want_vcpu: f64, need_mib: u32) -> (f64, u32) {
    let steps = (need_mib.div_ceil(512))
        .max((want_vcpu / 0.25).ceil() as u32)
        .clamp(1, 16);
    (steps as f64 * 0.25, steps * 512)
}

impl Catalogue for Azure {
    fn cloud(&self) -> Cloud {
        Cloud::Azure
    }
    fn name(&self) -> &'static str {
        "Azure"
    }

    fn default_region(&self) -> &'static str {
        "eastus"
    }
    fn region_example(&self) -> &'static str {
        "westeurope"
    }
    /// `westeurope`, `eastus2`: letters and digits, no hyphen.
    fn owns_region(&self, parts: &[&str]) -> bool {
        matches!(parts, [one] if one.as_bytes()[0].is_ascii_lowercase() && one.len() >= 4)
    }
    /// `Standard_B1ms`, `Basic_A0`.
    fn instance_type_shape(&self, lower: &str) -> Option<bool> {
        let rest = lower
            .strip_prefix("standard_")
            .or_else(|| lower.strip_prefix("basic_"))?;
        Some(lower_alnum(rest, b"_"))
    }
    fn twin(&self, row: &RegionTwin) -> &'static str {
        row.azure
    }
    fn prices(&self) -> Result<Option<&'static PriceTable>, DecideError> {
        static TABLE: OnceLock<Result<PriceTable, String>> = OnceLock::new();
        crate::cost::load(&TABLE, Cloud::Azure, crate::prices::azure).map(Some)
    }

    fn hosting(&self, strategy: DeployStrategy, scaled: bool) -> Hosting {
        match strategy {
            DeployStrategy::Vm if scaled => Hosting::AzureVmss,
            DeployStrategy::Vm => Hosting::AzureVm,
            DeployStrategy::Container | DeployStrategy::Serverless => Hosting::ContainerApps,
            DeployStrategy::Kubernetes => Hosting::Aks,
            DeployStrategy::Static => Hosting::StaticWebApps,
            DeployStrategy::Process => Hosting::LocalProcess,
        }
    }
    fn hosting_name(&self, h: Hosting) -> &'static str {
        match h {
            Hosting::AzureVm => "one Azure VM",
            Hosting::AzureVmss => "an Azure VM scale set",
            Hosting::ContainerApps => "Azure Container Apps",
            Hosting::Aks => "AKS",
            Hosting::StaticWebApps => "Azure Static Web Apps",
            _ => "an Azure service",
        }
    }
    fn strategy_words(&self, strategy: DeployStrategy) -> &'static str {
        match strategy {
            DeployStrategy::Static => "Azure Static Web Apps",
            DeployStrategy::Serverless => "Azure Container Apps scaling to zero",
            DeployStrategy::Container => "Azure Container Apps",
            DeployStrategy::Kubernetes => "AKS",
            DeployStrategy::Vm | DeployStrategy::Process => "Azure VMs",
        }
    }
    fn containers_scale_to_zero(&self) -> bool {
        true
    }
    fn copy_size(&self, h: Hosting, want_vcpu: f64, need_mib: u32) -> Option<(Option<f64>, u32)> {
        (h == Hosting::ContainerApps).then(|| {
            let (c, m) = container_apps_size(want_vcpu, need_mib);
            (Some(c), m)
        })
    }
    fn request_scaling_target(&self, h: Hosting) -> Option<f64> {
        (h == Hosting::ContainerApps).then_some(50.0)
    }
    /// AKS has a free control plane; production pays for the Standard tier's SLA.
    fn cluster(&self, production: bool) -> Option<ClusterOffer> {
        Some(ClusterOffer {
            kind: ClusterKind::Aks,
            paid_control_plane: production,
            words: "AKS",
            control_plane_reason: Some(if production {
                "AKS Standard tier (uptime SLA) for production"
            } else {
                "AKS Free tier control plane (no uptime SLA) outside production"
            }),
        })
    }
    fn free_control_plane(&self) -> Option<&'static str> {
        Some("AKS Free tier control plane (no uptime SLA), to fit the budget")
    }

    fn database_service(&self, engine: DatabaseEngine) -> DataService {
        match engine {
            DatabaseEngine::Postgresql => DataService::AzurePostgresqlFlexible,
            DatabaseEngine::Mysql => DataService::AzureMysqlFlexible,
            DatabaseEngine::Mongodb => DataService::External,
        }
    }
    fn database_storage_gb(&self) -> u32 {
        32
    }
    /// Azure keeps backups at least 7 days.
    fn min_backup_days(&self) -> u32 {
        7
    }
    fn database_credentials(&self, _service: DataService) -> DbCredentials {
        super::write_only_password(self.secret_store_name())
    }
    fn cache_service(&self, engine: Cache) -> Result<DataService, &'static str> {
        match engine {
            Cache::Redis => Ok(DataService::AzureCacheForRedis),
            Cache::Memcached => Err("the request asks for Memcached, which Azure does not offer as a managed service: no cache is provisioned; ask for Redis (Azure Cache for Redis) or deploy to AWS / GCP"),
        }
    }
    /// Production skips the shared C0.
    fn cache_first_step(&self, production: bool) -> usize {
        usize::from(production)
    }
    /// Azure Cache for Redis offers Redis 6 at the most (its `redis_version`
    /// accepts "4" or "6"); the flexible servers follow the community's
    /// end-of-life dates.
    fn engine_versions(&self) -> &'static [EngineVersion] {
        &[
            EngineVersion {
                engine: "postgresql",
                version: "15",
                available: "2023-05-29",
                standard_until: Some("2027-11-11"),
            },
            EngineVersion {
                engine: "postgresql",
                version: "16",
                available: "2024-08-12",
                standard_until: Some("2028-11-09"),
            },
            EngineVersion {
                engine: "mysql",
                version: "8.0",
                available: "2021-09-01",
                standard_until: None,
            },
            EngineVersion {
                engine: "redis",
                version: "6",
                available: "2021-03-01",
                standard_until: None,
            },
        ]
    }
    /// The TLS-only port.
    fn redis_tls_port(&self) -> u16 {
        6380
    }
    fn redis_auth(&self) -> Option<CacheAuth> {
        Some(CacheAuth {
            method: CredentialMethod::ServiceGeneratedKey,
            description: "Azure Cache for Redis generates its access key; the deployment copies it into Azure Key Vault",
            tls_words: "; TLS only (port 6380)",
            generator: "Azure Cache for Redis primary access key",
        })
    }
    fn redis_auth_optional(&self) -> bool {
        false
    }
    fn hosting_caveat(
        &self,
        hosting: autodeploy_core::Hosting,
    ) -> Option<(&'static str, &'static str)> {
        matches!(
            hosting,
            autodeploy_core::Hosting::AzureVm | autodeploy_core::Hosting::AzureVmss
        )
        .then_some((
            "azure_encryption_at_host",
            "the machines encrypt their temp disks and caches at the host (`encryption_at_host`, on by default), which Azure refuses on a subscription that has not registered the feature: run `az feature register --namespace Microsoft.Compute --name EncryptionAtHost` once (then `az provider register -n Microsoft.Compute`) before applying, or set the Terraform variable encryption_at_host = false (managed disks stay encrypted at rest)",
        ))
    }
    fn data_service_name(&self, s: DataService) -> &'static str {
        match s {
            DataService::AzurePostgresqlFlexible => "Azure Database for PostgreSQL flexible server",
            DataService::AzureMysqlFlexible => "Azure Database for MySQL flexible server",
            _ => "Azure Cache for Redis",
        }
    }

    fn secret_store(&self) -> SecretStore {
        SecretStore::AzureKeyVault
    }
    fn secret_store_name(&self) -> &'static str {
        "Azure Key Vault"
    }
    fn generated_by(&self, what: &str) -> String {
        format!("generated by the deploy stage ({what}) into Azure Key Vault")
    }

    fn load_balancer(&self) -> Option<LoadBalancerKind> {
        Some(LoadBalancerKind::AzureLoadBalancer)
    }
    fn front_door_words(&self, kind: LoadBalancerKind, h: Hosting) -> &'static str {
        match (kind, h) {
            (LoadBalancerKind::AzureLoadBalancer, _) => "an Azure Standard Load Balancer",
            (_, Hosting::ContainerApps) => "Container Apps' own HTTPS ingress",
            _ => "the platform's own front door",
        }
    }
    fn certificate(
        &self,
        h: Hosting,
        _lb: Option<LoadBalancerKind>,
    ) -> (CertificateProvider, &'static str, &'static str) {
        match h {
            Hosting::ContainerApps | Hosting::StaticWebApps => (
                CertificateProvider::AzureManaged,
                "dns",
                "an Azure managed certificate on the custom domain",
            ),
            Hosting::Aks => (
                CertificateProvider::LetsEncrypt,
                "http",
                "a Let's Encrypt certificate from cert-manager in the cluster",
            ),
            h => super::lets_encrypt(h),
        }
    }
    /// A scale set sits behind a layer-4 load balancer, which holds no certificate.
    fn https_blocked(&self, h: Hosting, d: &str) -> Option<String> {
        (h == Hosting::AzureVmss).then(|| format!(
            "https on {d} is asked, but an Azure VM scale set sits behind a layer-4 load balancer, which cannot hold a certificate (that needs Application Gateway or Front Door, not included): the app is served over http on {d}; use the container strategy (Container Apps, managed certificate) for https"
        ))
    }
    fn https_needs_domain(&self) -> &'static str {
        "Azure-managed certificates need a domain you own"
    }
    fn dns(&self) -> Option<(DnsProvider, &'static str)> {
        Some((DnsProvider::AzureDns, "Azure DNS"))
    }
    fn dns_record(
        &self,
        h: Hosting,
        _lb: Option<LoadBalancerKind>,
    ) -> (&'static str, &'static str) {
        match h {
            Hosting::ContainerApps | Hosting::StaticWebApps => ("cname", "platform"),
            h if h.is_single_vm() => ("a", "instance_ip"),
            _ => ("a", "load_balancer"),
        }
    }

    fn network_word(&self) -> &'static str {
        "VNet"
    }
    /// Scale sets and AKS run in a private subnet; outbound through the load balancer.
    fn app_placement(&self, f: &NetFacts) -> Option<(SubnetTier, u32)> {
        (!f.single_vm && f.machines).then_some((SubnetTier::Private, 0))
    }
    /// The app subnet, a delegated database subnet, a private-endpoint subnet for the cache.
    fn subnets(&self, f: &NetFacts, app_tier: SubnetTier) -> Vec<SubnetPlan> {
        let mut out = vec![subnet("app", app_tier, "10.0.0.0/23", 0)];
        if f.managed_db {
            out.push(subnet("database", SubnetTier::Private, "10.0.2.0/24", 0));
        }
        if f.managed_cache {
            out.push(subnet(
                "private-endpoints",
                SubnetTier::Private,
                "10.0.3.0/24",
                0,
            ));
        }
        out
    }
    fn admin_access(&self) -> &'static str {
        "azure_run_command"
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

/// OS disk of a VM or node, GiB.
const OS_DISK_GB: f64 = 32.0;

/// Container Apps' rate keys: always-active replicas or per request (same vCPU / GiB rates).
const CONTAINER_APPS: PerSecond = PerSecond {
    resource: "container apps",
    default_vcpu: 0.5,
    default_mib: 1024,
    vcpu_always: "container_apps_vcpu_second",
    gib_always: "container_apps_gib_second",
    vcpu: "container_apps_vcpu_second",
    gib: "container_apps_gib_second",
    requests: "container_apps_million_requests",
    always_on: "replica(s) always active",
};

/// Every rate key the Azure prices read.
#[cfg(test)]
const RATE_KEYS: &[&str] = &[
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
];

/// What runs the app: machines, containers, functions, sites, the cluster.
fn price_compute(item: &Bill, p: &mut Pricer) {
    let s = Section::Services;
    match *item {
        Bill::Machines {
            instance_type,
            count,
            single,
        } => {
            p.machine_hours(
                s,
                "vm",
                "app servers",
                instance_type,
                count,
                "Azure VM size",
            );
            let r = p.rate("disk_gb_month");
            let why = Some("32 GiB OS disk per VM".to_string());
            let res = "standard ssd managed disk";
            p.add(
                s,
                res,
                "app servers",
                "gb_month",
                r,
                OS_DISK_GB * count,
                why,
            );
            p.tally.addresses += f64::from(u8::from(single));
        }
        Bill::Containers { service, .. } => {
            per_second(p, service, &CONTAINER_APPS);
            p.note("Container Apps' monthly free grant (180,000 vCPU-s, 360,000 GiB-s, 2 million requests per subscription) is not subtracted.");
        }
        Bill::StaticSite { service } => {
            let (key, plan) = if p.environment == Environment::Production {
                ("static_web_apps_standard_month", "standard")
            } else {
                ("static_web_apps_free_month", "free")
            };
            let (r, n) = (p.rate(key), &service.name);
            let res = format!("static web apps {plan} plan ({n})");
            p.add(s, res, n, "month", r, 1.0, None);
        }
        Bill::Pods | Bill::Function { .. } => {}
        Bill::ControlPlane => {
            let r = p.rate("aks_standard_tier_hour");
            let res = "aks standard tier control plane";
            p.hourly(Section::Cluster, res, "cluster", r, 1.0);
        }
        Bill::ClusterNodes {
            instance_type,
            nodes,
        } => {
            let c = Section::Cluster;
            p.machine_hours(c, "aks nodes", "cluster", instance_type, nodes, "");
            let r = p.rate("disk_gb_month");
            let why = Some("32 GiB OS disk per node".to_string());
            let q = OS_DISK_GB * nodes;
            p.add(c, "aks node os disks", "cluster", "gb_month", r, q, why);
        }
        _ => {}
    }
}

/// The way in, the network, logs, data services, secrets and DNS.
fn price_shared(item: &Bill, p: &mut Pricer) {
    match *item {
        Bill::LoadBalancer(Some(LoadBalancerKind::AzureLoadBalancer)) => {
            let r = p.rate("lb_hour");
            let res = "standard load balancer";
            p.hourly(Section::LoadBalancer, res, "load balancer", r, 1.0);
            p.tally.addresses += 1.0;
        }
        Bill::LoadBalancer(_) => {}
        Bill::Nat { gateways, .. } => {
            let r = p.rate("nat_gateway_hour");
            p.hourly(Section::Nat, "nat gateway", "network", r, gateways);
            nat_data(p, "nat gateway data", "nat_gateway_gb");
            p.tally.addresses += gateways;
        }
        Bill::Logs { services } => logs(
            p,
            "log analytics ingestion",
            "log_analytics_gb",
            services,
            "1 GB of logs per service a month",
        ),
        Bill::Database(db) => {
            let d = Section::Database;
            let engine = db.engine.as_str();
            let ha = if db.multi_az { 2.0 } else { 1.0 };
            if let Some(spec) = p.table.db_class(engine, &db.instance_class).copied() {
                let tag = if db.multi_az {
                    " zone-redundant ha"
                } else {
                    ""
                };
                let res = format!("{engine} flexible server {}{tag}", db.instance_class);
                p.hourly(d, res, "database", spec.hourly * ha, 1.0);
            }
            let r = p.rate("db_storage_gb_month");
            let q = db.storage_gb as f64 * ha;
            p.add(
                d,
                "flexible server storage",
                "database",
                "gb_month",
                r,
                q,
                None,
            );
        }
        Bill::Cache(c) => {
            if let Some(spec) = p.table.cache_node(&c.node_type).copied() {
                let res = format!("azure cache for redis {}", c.node_type);
                p.hourly(Section::Cache, res, "cache", spec.hourly, 1.0);
            }
        }
        Bill::Secrets { .. } => {
            let r = p.rate("key_vault_10k_operations");
            let why = Some("10,000 secret reads a month".to_string());
            let res = "key vault operations";
            p.add(
                Section::Secrets,
                res,
                "secrets",
                "10k_operations",
                r,
                1.0,
                why,
            );
        }
        Bill::DnsZone => dns_zone(p, "azure dns zone", "dns_zone_month"),
        Bill::Images { .. } => {}
        Bill::PublicAddresses { count } => addresses(p, "public ip addresses", count),
        _ => {}
    }
}
