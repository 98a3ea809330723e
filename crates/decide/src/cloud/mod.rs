//! One home per cloud: what each target offers, behind one [`Catalogue`] trait.
//!
//! The cross-cloud rules (`strategy`, `sizing`, `data`, `network`, `env`,
//! `cost`, `budget`) ask the catalogue of the deployment's cloud — which host
//! runs a strategy, which data service runs an engine and in which version,
//! which load balancer, certificate, DNS and secret store, the region
//! defaults, the sizes a platform accepts, the price of a bill item — and
//! never name a cloud themselves. [`of`] is the one dispatch from a [`Cloud`]
//! to its catalogue.
//!
//! - `aws.rs`, `gcp.rs`, `azure.rs` — the public clouds (each with its dated
//!   price table, `prices/<cloud>.toml`);
//! - `local.rs` — this machine (no prices, no network, the runner's env file).
//!
//! Adding a cloud: a file here implementing [`Catalogue`], a row in
//! [`REGION_TWINS`], a price table, and its hostings in `core` (`Hosting`).
//!
//! What this is not: the rules themselves (they stay cloud-neutral in their
//! modules) or rendering.

mod aws;
mod azure;
mod gcp;
mod local;

#[cfg(test)]
pub use aws::{fargate_size, lambda_memory};
#[cfg(test)]
pub use azure::container_apps_size;
#[cfg(test)]
pub use gcp::cloud_run_size;
pub(crate) use local::{cache_words as local_cache_words, database_words as local_database_words};

use crate::cost::{Bill, PriceTable, Pricer, Section};
use crate::DecideError;
use autodeploy_core::{
    Cache, CertificateProvider, Cloud, ClusterKind, CredentialMethod, DataService, DatabaseEngine,
    DeployStrategy, DnsProvider, Hosting, LoadBalancerKind, SecretStore, SubnetPlan, SubnetTier,
};

/// The catalogue of the cloud `cloud`.
pub(crate) fn of(cloud: Cloud) -> &'static dyn Catalogue {
    match cloud {
        Cloud::Aws => &aws::Aws,
        Cloud::Gcp => &gcp::Gcp,
        Cloud::Azure => &azure::Azure,
        Cloud::Local => &local::Local,
    }
}

/// Every catalogue, in the order shapes are tried (Azure's `Standard_…` before
/// AWS's `family.size` before GCP's `family-size`).
fn all() -> [&'static dyn Catalogue; 4] {
    [&azure::Azure, &aws::Aws, &gcp::Gcp, &local::Local]
}

/// The catalogue of the cloud a host belongs to.
pub(crate) fn of_hosting(h: Hosting) -> &'static dyn Catalogue {
    of(h.cloud())
}

/// Human name of a host (`ECS Fargate`, `one Azure VM`).
pub(crate) fn hosting_name(h: Hosting) -> &'static str {
    of_hosting(h).hosting_name(h)
}

/// Human name of a secret store.
pub(crate) fn store_name(s: SecretStore) -> &'static str {
    all()
        .into_iter()
        .find(|c| c.secret_store() == s)
        .map(|c| c.secret_store_name())
        .unwrap_or("the secret store")
}

/// Human name of a DNS provider.
pub(crate) fn dns_name(p: DnsProvider) -> &'static str {
    all()
        .into_iter()
        .find_map(|c| c.dns().filter(|d| d.0 == p).map(|d| d.1))
        .unwrap_or("DNS")
}

/// Which cloud a region code belongs to, by its shape.
pub(crate) fn region_owner(region: &str) -> Option<Cloud> {
    let r = region.trim();
    if r.is_empty()
        || !r
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return None;
    }
    let parts: Vec<&str> = r.split('-').collect();
    all()
        .into_iter()
        .find(|c| c.owns_region(&parts))
        .map(|c| c.cloud())
}

/// Which cloud a machine type belongs to, by its shape (the first catalogue
/// that recognises the shape decides, valid or not).
pub(crate) fn instance_type_owner(instance_type: &str) -> Option<Cloud> {
    let lower = instance_type.trim().to_ascii_lowercase();
    all()
        .into_iter()
        .find_map(|c| c.instance_type_shape(&lower).map(|ok| (c, ok)))
        .and_then(|(c, ok)| ok.then(|| c.cloud()))
}

/// `s` is non-empty and only lowercase letters, digits or the `extra` bytes.
pub(crate) fn lower_alnum(s: &str, extra: &[u8]) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || extra.contains(&b))
}

/// Only lowercase letters (non-empty).
pub(crate) fn alpha(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase())
}

/// Only digits (non-empty).
pub(crate) fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Nearby regions across clouds.
pub(crate) struct RegionTwin {
    pub area: &'static str,
    pub aws: &'static str,
    pub gcp: &'static str,
    pub azure: &'static str,
}

const fn twin(
    area: &'static str,
    aws: &'static str,
    gcp: &'static str,
    azure: &'static str,
) -> RegionTwin {
    RegionTwin {
        area,
        aws,
        gcp,
        azure,
    }
}

/// Nearby regions across clouds, one row per area.
pub(crate) const REGION_TWINS: &[RegionTwin] = &[
    twin(
        "N. Virginia / South Carolina",
        "us-east-1",
        "us-east1",
        "eastus",
    ),
    twin("Ohio / Iowa", "us-east-2", "us-central1", "centralus"),
    twin("Oregon", "us-west-2", "us-west1", "westus2"),
    twin("California", "us-west-1", "us-west2", "westus"),
    twin("N. Virginia", "us-east-1", "us-east4", "eastus2"),
    twin(
        "Canada",
        "ca-central-1",
        "northamerica-northeast1",
        "canadacentral",
    ),
    twin(
        "São Paulo",
        "sa-east-1",
        "southamerica-east1",
        "brazilsouth",
    ),
    twin(
        "Ireland / Belgium",
        "eu-west-1",
        "europe-west1",
        "northeurope",
    ),
    twin("Netherlands", "eu-west-1", "europe-west4", "westeurope"),
    twin("London", "eu-west-2", "europe-west2", "uksouth"),
    twin(
        "Frankfurt",
        "eu-central-1",
        "europe-west3",
        "germanywestcentral",
    ),
    twin("Paris", "eu-west-3", "europe-west9", "francecentral"),
    twin("Nordics", "eu-north-1", "europe-north1", "swedencentral"),
    twin("Mumbai", "ap-south-1", "asia-south1", "centralindia"),
    twin(
        "Singapore",
        "ap-southeast-1",
        "asia-southeast1",
        "southeastasia",
    ),
    twin("Hong Kong", "ap-east-1", "asia-east2", "eastasia"),
    twin("Tokyo", "ap-northeast-1", "asia-northeast1", "japaneast"),
    twin("Seoul", "ap-northeast-2", "asia-northeast3", "koreacentral"),
    twin(
        "Sydney",
        "ap-southeast-2",
        "australia-southeast1",
        "australiaeast",
    ),
];

impl RegionTwin {
    /// True when `region` is one of the row's regions.
    pub fn holds(&self, region: &str) -> bool {
        self.aws == region || self.gcp == region || self.azure == region
    }
}

/// How a cache's auth token is made and kept (Redis).
pub(crate) struct CacheAuth {
    pub method: CredentialMethod,
    pub description: &'static str,
    /// Appended to `description` when the cache also has TLS in transit.
    pub tls_words: &'static str,
    pub generator: &'static str,
}

/// How the database master password is made and kept.
pub(crate) struct DbCredentials {
    pub method: CredentialMethod,
    pub description: String,
    pub generator: &'static str,
}

/// A Kubernetes offer: kind, paid control plane, name in reasons.
pub(crate) struct ClusterOffer {
    pub kind: ClusterKind,
    pub paid_control_plane: bool,
    pub words: &'static str,
    /// A reason line about the control plane tier, when the cloud has tiers.
    pub control_plane_reason: Option<&'static str>,
}

/// What the network rules know about the deployment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NetFacts {
    /// Something runs on machines (or tasks) inside the network.
    pub machines: bool,
    /// Every running service is a single VM.
    pub single_vm: bool,
    /// A function platform (Lambda) runs a service.
    pub function: bool,
    /// A service sits behind the deployment's load balancer.
    pub behind_lb: bool,
    /// A scaled VM group runs a service.
    pub scaled_vm: bool,
    pub production: bool,
    pub managed_db: bool,
    pub managed_cache: bool,
}

impl NetFacts {
    /// A database or cache lives in the network.
    pub fn data(&self) -> bool {
        self.managed_db || self.managed_cache
    }
}

/// What a target offers. One implementation per cloud (`aws.rs`, `gcp.rs`,
/// `azure.rs`, `local.rs`).
pub(crate) trait Catalogue: Sync {
    fn cloud(&self) -> Cloud;
    /// Human name (`AWS`, `this machine`).
    fn name(&self) -> &'static str;

    // Regions and machine types.
    fn default_region(&self) -> &'static str;
    /// A region named in "say e.g. \"in …\"" hints.
    fn region_example(&self) -> &'static str;
    /// The region code's parts (split at `-`) have this cloud's shape.
    fn owns_region(&self, parts: &[&str]) -> bool;
    /// `Some(valid)` when a lowercase machine type has this cloud's shape.
    fn instance_type_shape(&self, lower: &str) -> Option<bool>;
    /// This cloud's region in a row of [`REGION_TWINS`].
    fn twin(&self, row: &RegionTwin) -> &'static str;
    /// The embedded, dated price table (`None`: nothing is billed).
    fn prices(&self) -> Result<Option<&'static PriceTable>, DecideError>;

    // Hosting.
    /// The host of a strategy; `scaled`: several machines or a load balancer.
    fn hosting(&self, strategy: DeployStrategy, scaled: bool) -> Hosting;
    /// Human name of one of this cloud's hosts.
    fn hosting_name(&self, h: Hosting) -> &'static str;
    /// What runs a strategy here, in reasons (`ECS Fargate`).
    fn strategy_words(&self, strategy: DeployStrategy) -> &'static str;
    /// The container platform scales to zero.
    fn containers_scale_to_zero(&self) -> bool {
        false
    }
    /// CPU and memory of one copy on a platform with fixed sizes (`None`: as wanted).
    fn copy_size(
        &self,
        _h: Hosting,
        _want_vcpu: f64,
        _need_mib: u32,
    ) -> Option<(Option<f64>, u32)> {
        None
    }
    /// Concurrent requests per copy a platform scales on (`None`: CPU).
    fn request_scaling_target(&self, _h: Hosting) -> Option<f64> {
        None
    }
    /// The managed Kubernetes offer (`None`: no clusters here).
    fn cluster(&self, production: bool) -> Option<ClusterOffer>;
    /// A budget step's reason when the control plane can drop to a free tier.
    fn free_control_plane(&self) -> Option<&'static str> {
        None
    }

    // Data services.
    /// The service that runs `engine` (`External`: none here, bring your own).
    fn database_service(&self, engine: DatabaseEngine) -> DataService;
    /// Steps up the class ladder the production database starts at.
    fn database_first_step(&self, _engine: DatabaseEngine, _production: bool) -> usize {
        0
    }
    /// Allocated storage, GB.
    fn database_storage_gb(&self) -> u32;
    /// Backups the service keeps at least, days.
    fn min_backup_days(&self) -> u32 {
        0
    }
    /// How one of this cloud's database services gets its master password.
    fn database_credentials(&self, service: DataService) -> DbCredentials;
    /// A warning (code, text) about one of this cloud's database services.
    fn database_caveat(&self, _service: DataService) -> Option<(&'static str, &'static str)> {
        None
    }
    /// What the operator must know before applying a bundle with this
    /// hosting (warning code, text), if anything.
    fn hosting_caveat(
        &self,
        _hosting: autodeploy_core::Hosting,
    ) -> Option<(&'static str, &'static str)> {
        None
    }
    /// The cache service for `engine`, or why there is none.
    fn cache_service(&self, engine: Cache) -> Result<DataService, &'static str>;
    /// Steps up the cache ladder production starts at.
    fn cache_first_step(&self, _production: bool) -> usize {
        0
    }
    /// The engine versions this cloud's managed services offer, with their
    /// standard-support dates (see [`EngineVersion`]).
    fn engine_versions(&self) -> &'static [EngineVersion];
    /// The Redis port with TLS in transit (plain 6379 elsewhere).
    fn redis_tls_port(&self) -> u16 {
        6379
    }
    /// How the Redis auth token is made and kept.
    fn redis_auth(&self) -> Option<CacheAuth>;
    /// Whether the managed Redis can run without AUTH, for a client that
    /// sends no password (Azure Cache for Redis always asks for its key).
    fn redis_auth_optional(&self) -> bool {
        true
    }
    /// Whether Redis AUTH is only offered with TLS in transit (ElastiCache).
    fn redis_auth_needs_tls(&self) -> bool {
        false
    }
    /// Reason words for a cache without auth.
    fn unauthenticated_cache_words(&self) -> &'static str {
        "; reachable only from the app's security group"
    }
    /// Human name of one of this cloud's data services.
    fn data_service_name(&self, s: DataService) -> &'static str;

    // Secrets.
    fn secret_store(&self) -> SecretStore;
    fn secret_store_name(&self) -> &'static str;
    /// How a generated app secret of `what` shape is made, in the plan.
    fn generated_by(&self, what: &str) -> String;

    // The way in.
    /// The load balancer in front of hosts that need one.
    fn load_balancer(&self) -> Option<LoadBalancerKind>;
    /// How reasons name the front door of `h`.
    fn front_door_words(&self, kind: LoadBalancerKind, h: Hosting) -> &'static str;
    /// The path a static site on `site` forwards to an API hosted on `api`
    /// beside it, so the browser calls the API on the site's own address
    /// (`None`: this cloud's bundles cannot route it; the site calls the
    /// API's own address).
    fn site_api_prefix(&self, _site: Hosting, _api: Hosting) -> Option<&'static str> {
        None
    }
    /// Certificate (provider, validation, words) for a domain on `h`.
    fn certificate(
        &self,
        h: Hosting,
        lb: Option<LoadBalancerKind>,
    ) -> (CertificateProvider, &'static str, &'static str);
    /// A warning text when `h` cannot serve https on `domain`.
    fn https_blocked(&self, _h: Hosting, _domain: &str) -> Option<String> {
        None
    }
    /// Why https needs a domain here.
    fn https_needs_domain(&self) -> &'static str;
    /// The DNS provider and its name (`None`: no DNS).
    fn dns(&self) -> Option<(DnsProvider, &'static str)>;
    /// DNS record (type, target) pointing a domain at `h`.
    fn dns_record(&self, h: Hosting, lb: Option<LoadBalancerKind>) -> (&'static str, &'static str);

    // The network.
    /// `VPC` or `VNet`.
    fn network_word(&self) -> &'static str {
        "VPC"
    }
    /// This cloud's rule for where the app runs and how many NAT gateways
    /// (`None`: the common rule).
    fn app_placement(&self, _f: &NetFacts) -> Option<(SubnetTier, u32)> {
        None
    }
    /// The subnets of the network.
    fn subnets(&self, f: &NetFacts, app_tier: SubnetTier) -> Vec<SubnetPlan>;
    /// Words added to the NAT reason.
    fn nat_words(&self) -> &'static str {
        ""
    }
    /// How operators reach machines (`aws_ssm_session_manager`…).
    fn admin_access(&self) -> &'static str;
    /// A reason line when a serverless container platform reaches private data.
    fn private_data_access(&self, _h: Hosting) -> Option<&'static str> {
        None
    }

    // Prices.
    /// The order of the estimate's sections.
    fn sections(&self) -> &'static [Section] {
        &Section::ORDER
    }
    /// Every rate key [`Catalogue::price`] reads (checked by tests).
    #[cfg(test)]
    fn rate_keys(&self) -> &'static [&'static str] {
        &[]
    }
    /// Price one bill item from the table (nothing when this cloud does not bill it).
    fn price(&self, item: &Bill, p: &mut Pricer);
}

/// Helper for subnets: a subnet row.
pub(crate) fn subnet(
    name: impl Into<String>,
    tier: SubnetTier,
    cidr: impl Into<String>,
    zone: u32,
) -> SubnetPlan {
    SubnetPlan {
        name: name.into(),
        tier,
        cidr: cidr.into(),
        zone_index: zone,
    }
}

/// A Let's Encrypt certificate: certbot on a single machine, else in general.
pub(crate) fn lets_encrypt(h: Hosting) -> (CertificateProvider, &'static str, &'static str) {
    if h.is_single_vm() {
        (
            CertificateProvider::LetsEncrypt,
            "http",
            "a Let's Encrypt certificate obtained and renewed on the machine (certbot)",
        )
    } else {
        (
            CertificateProvider::LetsEncrypt,
            "http",
            "a Let's Encrypt certificate",
        )
    }
}

/// A password the deploy stage generates into `store` and passes to a write-only argument.
pub(crate) fn write_only_password(store: &str) -> DbCredentials {
    DbCredentials {
        method: CredentialMethod::WriteOnlyGeneratedPassword,
        description: format!(
            "a password the deploy stage generates (CSPRNG) and stores in {store}, passed to Terraform as an ephemeral variable into the database's write-only password argument; it stays out of Terraform files and state"
        ),
        generator: "generated by the deploy stage (CSPRNG, 32 letters and digits), ephemeral variable into a write-only argument",
    }
}

/// Which engine a version row is of: `postgresql`, `mysql`, `mongodb`,
/// `redis`, `memcached`.
pub(crate) fn engine_key_db(e: DatabaseEngine) -> &'static str {
    match e {
        DatabaseEngine::Postgresql => "postgresql",
        DatabaseEngine::Mysql => "mysql",
        DatabaseEngine::Mongodb => "mongodb",
    }
}

/// The same for a cache.
pub(crate) fn engine_key_cache(c: Cache) -> &'static str {
    match c {
        Cache::Redis => "redis",
        Cache::Memcached => "memcached",
    }
}

/// The date every catalogue's version table was last checked against the
/// clouds' release calendars (ISO `YYYY-MM-DD`). Refresh the rows and this
/// date together.
pub(crate) const VERSIONS_CHECKED: &str = "2026-12-01";

/// One major version of an engine on a cloud's managed service: a row of the
/// dated table each catalogue keeps (`engine_versions`). Dates are ISO
/// `YYYY-MM-DD` (they compare as text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EngineVersion {
    /// [`engine_key_db`] / [`engine_key_cache`].
    pub engine: &'static str,
    /// As the service's API takes it (`17`, `8.4`, `7.1`).
    pub version: &'static str,
    /// When the service made it generally available.
    pub available: &'static str,
    /// When the service's standard support ends (after it: paid extended
    /// support or forced upgrades); `None` when none is announced.
    pub standard_until: Option<&'static str>,
}

/// The version to plan for `engine` on `today`: the newest that has been
/// generally available for six months (extensions and tooling catch up)
/// and stays on standard support for at least a year more; failing that,
/// the newest still on standard support. With why, for the plan's reasons.
pub(crate) fn pick_version(
    rows: &'static [EngineVersion],
    engine: &str,
    today: &str,
) -> Option<(&'static EngineVersion, String)> {
    let matured = shift_months(today, -6);
    let horizon = shift_months(today, 12);
    let of_engine = || rows.iter().filter(move |r| r.engine == engine);
    let newest = |it: &mut dyn Iterator<Item = &'static EngineVersion>| {
        it.max_by(|a, b| version_order(a.version, b.version))
    };
    let supported = |r: &&EngineVersion, until: &str| r.standard_until.is_none_or(|u| u >= until);
    if let Some(r) = newest(
        &mut of_engine().filter(|r| r.available <= matured.as_str() && supported(r, &horizon)),
    ) {
        let why = match r.standard_until {
            Some(u) => format!("the newest version on the service's standard support until {u}"),
            None => {
                "the newest version of the service (the table records no end of its standard support)".into()
            }
        };
        return Some((r, format!("{why}; version table of {VERSIONS_CHECKED}")));
    }
    newest(&mut of_engine().filter(|r| supported(r, today))).map(|r| {
        (
            r,
            format!(
                "the newest version still on the service's standard support (until {}); version table of {VERSIONS_CHECKED}",
                r.standard_until.unwrap_or("no announced end")
            ),
        )
    })
}

/// Whether the version table is more than a year older than `today`.
pub(crate) fn versions_stale(today: &str) -> bool {
    today > shift_months(VERSIONS_CHECKED, 12).as_str()
}

/// Compare dotted versions by their numbers (`8.4` > `8.0`, `17` > `9.6`).
fn version_order(a: &str, b: &str) -> std::cmp::Ordering {
    let nums = |v: &str| -> Vec<u32> { v.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    nums(a).cmp(&nums(b))
}

/// `date` (ISO) moved by whole months; the day is kept as is, which is all
/// a text comparison of dates needs.
fn shift_months(date: &str, months: i32) -> String {
    let mut parts = date.splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return date.to_string();
    };
    let (Ok(y), Ok(m)) = (y.parse::<i32>(), m.parse::<i32>()) else {
        return date.to_string();
    };
    let total = y * 12 + (m - 1) + months;
    format!(
        "{:04}-{:02}-{d}",
        total.div_euclid(12),
        total.rem_euclid(12) + 1
    )
}

#[cfg(test)]
mod version_tests {
    use super::*;

    fn pick(cloud: Cloud, engine: &str, today: &str) -> Option<&'static str> {
        pick_version(of(cloud).engine_versions(), engine, today).map(|(r, _)| r.version)
    }

    #[test]
    fn the_newest_matured_version_with_a_year_of_standard_support_is_planned() {
        // MySQL 8.0 leaves RDS standard support on 2026-07-31: 8.4 from the
        // day it has been out six months.
        assert_eq!(pick(Cloud::Aws, "mysql", "2024-12-01"), Some("8.0"));
        assert_eq!(pick(Cloud::Aws, "mysql", "2026-12-05"), Some("8.4"));
        assert_eq!(pick(Cloud::Aws, "postgresql", "2026-12-05"), Some("17"));
        // PostgreSQL 17 not yet six months old: 16.
        assert_eq!(pick(Cloud::Aws, "postgresql", "2025-03-01"), Some("16"));
        assert_eq!(pick(Cloud::Gcp, "mysql", "2026-12-05"), Some("8.4"));
        assert_eq!(pick(Cloud::Azure, "redis", "2026-12-05"), Some("6"));
        assert_eq!(pick(Cloud::Gcp, "mongodb", "2026-12-05"), None);
        let (_, why) =
            pick_version(of(Cloud::Aws).engine_versions(), "postgresql", "2026-12-05").unwrap();
        assert!(
            why.contains("2030-02-28") && why.contains(VERSIONS_CHECKED),
            "{why}"
        );
    }

    #[test]
    fn with_no_version_a_year_ahead_the_newest_still_supported_is_taken() {
        static ROWS: [EngineVersion; 2] = [
            EngineVersion {
                engine: "x",
                version: "9.6",
                available: "2016-01-01",
                standard_until: Some("2021-01-01"),
            },
            EngineVersion {
                engine: "x",
                version: "10",
                available: "2017-01-01",
                standard_until: Some("2027-03-01"),
            },
        ];
        let (r, why) = pick_version(&ROWS, "x", "2026-12-05").unwrap();
        assert_eq!(r.version, "10");
        assert!(why.contains("still"), "{why}");
        assert!(pick_version(&ROWS, "x", "2027-06-01").is_none());
        // Versions compare by number, not text.
        assert_eq!(version_order("10", "9.6"), std::cmp::Ordering::Greater);
    }

    #[test]
    fn months_shift_across_years_and_the_table_ages() {
        assert_eq!(shift_months("2026-12-05", 1), "2027-01-05");
        assert_eq!(shift_months("2026-01-31", -6), "2025-07-31");
        assert!(!versions_stale(VERSIONS_CHECKED));
        assert!(versions_stale(&shift_months(VERSIONS_CHECKED, 13)));
    }
}
