//! AWS: EC2 (one instance or an Auto Scaling group behind an ALB), ECS
//! Fargate, EKS, Lambda with the web adapter, S3 + CloudFront; RDS and
//! DocumentDB, ElastiCache; Secrets Manager; ACM and Route 53; its region and
//! machine-type shapes; `prices/aws.toml`.
//!
//! What this is not: the rules that choose among these (they are cloud-neutral
//! in `strategy`, `sizing`, `data`, `network`, `env`, `cost`).

use super::{
    alpha, digits, lower_alnum, subnet, CacheAuth, Catalogue, ClusterOffer, DbCredentials,
    EngineVersion, NetFacts, RegionTwin,
};
use crate::cost::{
    addresses, cdn_site, dns_zone, images, logs, nat_data, Bill, CdnSite, PriceTable, Pricer,
    Section, VM_DISK_GB,
};
use crate::DecideError;
use autodeploy_core::{
    Cache, CertificateProvider, Cloud, ClusterKind, CredentialMethod, DataService, DatabaseEngine,
    DatabasePlan, DeployStrategy, DnsProvider, Hosting, LoadBalancerKind, SecretStore, ServicePlan,
    SubnetPlan, SubnetTier,
};
use std::sync::OnceLock;

pub(crate) struct Aws;

/// Fargate task size: the smallest valid (vCPU, MiB) with at least `want_vcpu` and `need_mib`.
pub fn fargate_size(want_vcpu: f64, need_mib: u32) -> (f64, u32) {
    const CPUS: [(f64, u32, u32); 5] = [
        (0.25, 512, 2048),
        (0.5, 1024, 4096),
        (1.0, 2048, 8192),
        (2.0, 4096, 16384),
        (4.0, 8192, 30720),
    ];
    for (cpu, lo, hi) in CPUS {
        if cpu + 1e-9 < want_vcpu {
            continue;
        }
        let mem = if cpu == 0.25 {
            [512, 1024, 2048].into_iter().find(|m| *m >= need_mib)
        } else {
            let m = need_mib.div_ceil(1024) * 1024;
            Some(m.max(lo)).filter(|m| *m <= hi)
        };
        if let Some(m) = mem {
            return (cpu, m);
        }
    }
    (4.0, 30720)
}

/// Lambda memory: rounded up to 128 MiB, at least 512 MiB (CPU scales with memory).
pub fn lambda_memory(need_mib: u32) -> u32 {
    (need_mib.max(512).div_ceil(128) * 128).min(10240)
}

impl Catalogue for Aws {
    fn cloud(&self) -> Cloud {
        Cloud::Aws
    }
    fn name(&self) -> &'static str {
        "AWS"
    }

    fn default_region(&self) -> &'static str {
        "us-east-1"
    }
    fn region_example(&self) -> &'static str {
        "eu-west-1"
    }
    /// `us-east-1`, `eu-central-2`, `us-gov-west-1`: letters-letters-digits.
    fn owns_region(&self, parts: &[&str]) -> bool {
        matches!(parts, [a, rest @ .., n]
            if alpha(a) && rest.iter().all(|p| alpha(p)) && !rest.is_empty() && digits(n))
    }
    /// `t3.small`, `c6gn.16xlarge`.
    fn instance_type_shape(&self, lower: &str) -> Option<bool> {
        let (family, size) = lower.split_once('.')?;
        let family_ok = lower_alnum(family, b"-") && family.bytes().any(|b| b.is_ascii_digit());
        Some(family_ok && lower_alnum(size, b""))
    }
    fn twin(&self, row: &RegionTwin) -> &'static str {
        row.aws
    }
    fn prices(&self) -> Result<Option<&'static PriceTable>, DecideError> {
        static TABLE: OnceLock<Result<PriceTable, String>> = OnceLock::new();
        crate::cost::load(&TABLE, Cloud::Aws, crate::prices::aws).map(Some)
    }

    fn hosting(&self, strategy: DeployStrategy, scaled: bool) -> Hosting {
        match strategy {
            DeployStrategy::Vm if scaled => Hosting::Ec2Autoscaling,
            DeployStrategy::Vm => Hosting::Ec2,
            DeployStrategy::Container => Hosting::EcsFargate,
            DeployStrategy::Kubernetes => Hosting::Eks,
            DeployStrategy::Serverless => Hosting::Lambda,
            DeployStrategy::Static => Hosting::S3Cloudfront,
            DeployStrategy::Process => Hosting::LocalProcess,
        }
    }
    fn hosting_name(&self, h: Hosting) -> &'static str {
        match h {
            Hosting::Ec2 => "one EC2 instance",
            Hosting::Ec2Autoscaling => "an EC2 Auto Scaling group",
            Hosting::EcsFargate => "ECS Fargate",
            Hosting::Eks => "EKS",
            Hosting::Lambda => "AWS Lambda",
            Hosting::S3Cloudfront => "S3 + CloudFront",
            _ => "an AWS service",
        }
    }
    fn strategy_words(&self, strategy: DeployStrategy) -> &'static str {
        match strategy {
            DeployStrategy::Static => "S3 behind CloudFront",
            DeployStrategy::Serverless => "AWS Lambda with the web adapter",
            DeployStrategy::Container => "ECS Fargate",
            DeployStrategy::Kubernetes => "EKS",
            DeployStrategy::Vm | DeployStrategy::Process => "EC2",
        }
    }
    fn copy_size(&self, h: Hosting, want_vcpu: f64, need_mib: u32) -> Option<(Option<f64>, u32)> {
        match h {
            Hosting::EcsFargate => {
                let (c, m) = fargate_size(want_vcpu, need_mib);
                Some((Some(c), m))
            }
            Hosting::Lambda => Some((None, lambda_memory(need_mib))),
            _ => None,
        }
    }
    fn request_scaling_target(&self, h: Hosting) -> Option<f64> {
        (h == Hosting::Lambda).then_some(1.0)
    }
    fn cluster(&self, _production: bool) -> Option<ClusterOffer> {
        Some(ClusterOffer {
            kind: ClusterKind::Eks,
            paid_control_plane: true,
            words: "EKS",
            control_plane_reason: None,
        })
    }

    fn database_service(&self, engine: DatabaseEngine) -> DataService {
        match engine {
            // No bundle writes DocumentDB yet: the app is given the
            // connection string of a MongoDB the user runs (Atlas…), as on
            // GCP and Azure, rather than a plan no bundle can render.
            DatabaseEngine::Mongodb => DataService::External,
            _ => DataService::AwsRds,
        }
    }
    /// RDS, DocumentDB and ElastiCache: their release calendars (RDS ends
    /// a PostgreSQL major's standard support on the last day of February
    /// five years after the community release, MySQL's at the end of July).
    fn engine_versions(&self) -> &'static [EngineVersion] {
        &[
            EngineVersion {
                engine: "postgresql",
                version: "15",
                available: "2023-02-27",
                standard_until: Some("2028-02-29"),
            },
            EngineVersion {
                engine: "postgresql",
                version: "16",
                available: "2023-11-17",
                standard_until: Some("2029-02-28"),
            },
            EngineVersion {
                engine: "postgresql",
                version: "17",
                available: "2024-11-18",
                standard_until: Some("2030-02-28"),
            },
            EngineVersion {
                engine: "mysql",
                version: "8.0",
                available: "2018-10-23",
                standard_until: Some("2026-07-31"),
            },
            EngineVersion {
                engine: "mysql",
                version: "8.4",
                available: "2024-08-05",
                standard_until: Some("2029-07-31"),
            },
            EngineVersion {
                engine: "mongodb",
                version: "5.0",
                available: "2023-03-01",
                standard_until: None,
            },
            EngineVersion {
                engine: "redis",
                version: "7.1",
                available: "2023-10-18",
                standard_until: None,
            },
            EngineVersion {
                engine: "memcached",
                version: "1.6",
                available: "2020-12-15",
                standard_until: None,
            },
        ]
    }
    /// Production starts one step up (burstable micro is for dev).
    fn database_first_step(&self, engine: DatabaseEngine, production: bool) -> usize {
        usize::from(production && engine != DatabaseEngine::Mongodb)
    }
    fn database_storage_gb(&self) -> u32 {
        20
    }
    fn database_credentials(&self, service: DataService) -> DbCredentials {
        if service == DataService::AwsRds {
            DbCredentials {
                method: CredentialMethod::WriteOnlyGeneratedPassword,
                description: "AWS generates the master password at the first apply (an ephemeral aws_secretsmanager_random_password) and it is written, write-only, into the database and the deployment's own Secrets Manager secret: never in Terraform files, state or logs; the app reads it from there at start. It is not rotated behind the app's back (RDS's managed password rotates every 7 days while tasks read it only at start): raise database_password_version and redeploy to rotate it".to_string(),
                generator: "ephemeral aws_secretsmanager_random_password (40 characters, no punctuation), write-only",
            }
        } else {
            DbCredentials {
                method: CredentialMethod::SecretsManagerRandomPassword,
                description: "a master password from aws_secretsmanager_random_password, stored in AWS Secrets Manager and passed to the cluster; the app reads it from there at start".to_string(),
                generator: "aws_secretsmanager_random_password (32 characters, no punctuation)",
            }
        }
    }
    fn database_caveat(&self, service: DataService) -> Option<(&'static str, &'static str)> {
        (service == DataService::AwsDocumentdb).then_some((
            "documentdb_compatibility",
            "MongoDB runs on Amazon DocumentDB (MongoDB 5.0 API compatible, not MongoDB itself): check that the driver features the app uses are supported",
        ))
    }
    fn cache_service(&self, _engine: Cache) -> Result<DataService, &'static str> {
        Ok(DataService::AwsElasticache)
    }
    /// Production starts one step up.
    fn cache_first_step(&self, production: bool) -> usize {
        usize::from(production)
    }
    fn redis_auth(&self) -> Option<CacheAuth> {
        Some(CacheAuth {
            method: CredentialMethod::SecretsManagerRandomPassword,
            description: "Redis AUTH token from aws_secretsmanager_random_password, kept in AWS Secrets Manager",
            tls_words: "; TLS in transit",
            generator: "aws_secretsmanager_random_password (32 characters, no punctuation)",
        })
    }
    fn redis_auth_needs_tls(&self) -> bool {
        true
    }
    fn data_service_name(&self, s: DataService) -> &'static str {
        match s {
            DataService::AwsRds => "Amazon RDS",
            DataService::AwsDocumentdb => "Amazon DocumentDB",
            _ => "Amazon ElastiCache",
        }
    }

    fn secret_store(&self) -> SecretStore {
        SecretStore::AwsSecretsManager
    }
    fn secret_store_name(&self) -> &'static str {
        "AWS Secrets Manager"
    }
    fn generated_by(&self, what: &str) -> String {
        format!("aws_secretsmanager_random_password ({what})")
    }

    fn load_balancer(&self) -> Option<LoadBalancerKind> {
        Some(LoadBalancerKind::AwsAlb)
    }
    fn front_door_words(&self, kind: LoadBalancerKind, h: Hosting) -> &'static str {
        match (kind, h) {
            (LoadBalancerKind::AwsAlb, Hosting::Eks) => {
                "an AWS Application Load Balancer (EKS ingress via the AWS Load Balancer Controller)"
            }
            (LoadBalancerKind::AwsAlb, _) => "an AWS Application Load Balancer",
            (_, Hosting::Lambda) => "the Lambda function URL (API Gateway with a custom domain)",
            (_, Hosting::S3Cloudfront) => "CloudFront",
            _ => "the platform's own front door",
        }
    }
    /// CloudFront routes `/_api/*` to the ALB (a CloudFront Function strips
    /// the prefix): the site's https address serves the API too.
    fn site_api_prefix(&self, site: Hosting, api: Hosting) -> Option<&'static str> {
        (site == Hosting::S3Cloudfront && api == Hosting::EcsFargate).then_some("/_api")
    }
    fn certificate(
        &self,
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
            (h, _) => super::lets_encrypt(h),
        }
    }
    fn https_needs_domain(&self) -> &'static str {
        "AWS issues certificates (ACM) only for domains you own, not for amazonaws.com addresses"
    }
    fn dns(&self) -> Option<(DnsProvider, &'static str)> {
        Some((DnsProvider::Route53, "Route 53"))
    }
    fn dns_record(&self, h: Hosting, lb: Option<LoadBalancerKind>) -> (&'static str, &'static str) {
        match (h, lb) {
            (Hosting::S3Cloudfront, _) => ("alias", "cdn"),
            (Hosting::Lambda, _) => ("alias", "api_gateway"),
            (h, _) if h.is_single_vm() => ("a", "instance_ip"),
            (_, Some(LoadBalancerKind::AwsAlb)) => ("alias", "load_balancer"),
            _ => ("a", "load_balancer"),
        }
    }

    /// Lambda in a VPC, and production behind the ALB, run in private subnets behind one NAT.
    fn app_placement(&self, f: &NetFacts) -> Option<(SubnetTier, u32)> {
        (f.function || (f.behind_lb && f.production)).then_some((SubnetTier::Private, 1))
    }
    /// Two public subnets; two private ones for data or private apps.
    fn subnets(&self, f: &NetFacts, app_tier: SubnetTier) -> Vec<SubnetPlan> {
        let mut out: Vec<SubnetPlan> = (0..2u32)
            .map(|z| {
                subnet(
                    format!("public-{}", z + 1),
                    SubnetTier::Public,
                    format!("10.0.{z}.0/24"),
                    z,
                )
            })
            .collect();
        if f.data() || app_tier == SubnetTier::Private {
            out.extend((0..2u32).map(|z| {
                subnet(
                    format!("private-{}", z + 1),
                    SubnetTier::Private,
                    format!("10.0.{}.0/24", 10 + z),
                    z,
                )
            }));
        }
        out
    }
    fn nat_words(&self) -> &'static str {
        " (one, not one per zone, to save its monthly cost)"
    }
    fn admin_access(&self) -> &'static str {
        "aws_ssm_session_manager"
    }

    fn sections(&self) -> &'static [Section] {
        &[
            Section::Services,
            Section::Cluster,
            Section::Images,
            Section::Logs,
            Section::LoadBalancer,
            Section::Nat,
            Section::Addresses,
            Section::Database,
            Section::Cache,
            Section::Secrets,
            Section::Dns,
        ]
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

/// Every rate key the AWS prices read.
#[cfg(test)]
const RATE_KEYS: &[&str] = &[
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
];

/// RDS (class hours, ×2 for Multi-AZ, and storage) or DocumentDB (instances and storage).
fn database(db: &DatabasePlan, p: &mut Pricer) {
    let s = Section::Database;
    if db.service == DataService::AwsRds {
        p.managed_database(
            db,
            "rds",
            " multi-az",
            ("rds_storage_gb_month", "rds_multi_az_storage_gb_month"),
            "rds storage",
        );
    } else {
        if let Some(spec) = p.table.db_class("mongodb", &db.instance_class).copied() {
            let n = if db.multi_az { 2.0 } else { 1.0 };
            let res = format!("documentdb {}", db.instance_class);
            p.hourly(s, res, "database", spec.hourly, n);
        }
        let r = p.rate("docdb_storage_gb_month");
        let q = db.storage_gb as f64;
        p.add(s, "documentdb storage", "database", "gb_month", r, q, None);
        p.note("DocumentDB I/O requests are billed per million and not counted.");
    }
}

/// What runs the app: machines, containers, functions, sites, the cluster.
fn price_compute(item: &Bill, p: &mut Pricer) {
    match *item {
        Bill::Machines {
            instance_type,
            count,
            single,
        } => ec2(p, instance_type, count, single),
        Bill::Containers { service, copies } => fargate(p, service, copies),
        Bill::Pods => p.tally.images += 1.0,
        Bill::Function {
            service,
            custom_domain,
        } => lambda(p, service, custom_domain),
        Bill::StaticSite { service } => cdn_site(
            p,
            service,
            &CdnSite {
                storage: ("s3 storage", "s3_gb_month"),
                transfer: ("cloudfront transfer", "cloudfront_gb"),
                requests: ("cloudfront requests", "cloudfront_10k_https_requests"),
            },
        ),
        Bill::ControlPlane => {
            let r = p.rate("eks_control_plane_hour");
            p.hourly(Section::Cluster, "eks control plane", "cluster", r, 1.0);
        }
        Bill::ClusterNodes {
            instance_type,
            nodes,
        } => eks_nodes(p, instance_type, nodes),
        _ => {}
    }
}

/// EC2 machines: instance hours and a gp3 volume each (one machine keeps its address).
fn ec2(p: &mut Pricer, instance_type: &str, count: f64, single: bool) {
    let s = Section::Services;
    p.machine_hours(s, "ec2", "app servers", instance_type, count, "EC2");
    let r = p.rate("ebs_gp3_gb_month");
    p.add(
        s,
        "ebs gp3 volume",
        "app servers",
        "gb_month",
        r,
        VM_DISK_GB * count,
        None,
    );
    p.tally.addresses += f64::from(u8::from(single));
}

/// Fargate: vCPU and memory hours of a service's copies (and their public addresses).
fn fargate(p: &mut Pricer, service: &ServicePlan, copies: f64) {
    let s = Section::Services;
    let c = service.compute.as_ref();
    let vcpu = c.and_then(|c| c.vcpu).unwrap_or(0.25);
    let mem = c.and_then(|c| c.memory_mib).unwrap_or(512) as f64 / 1024.0;
    let (h, n) = (p.hours, &service.name);
    let r = p.rate("fargate_vcpu_hour");
    p.add(
        s,
        format!("fargate vcpu ({n})"),
        n,
        "vcpu_hour",
        r,
        vcpu * copies * h,
        None,
    );
    let r = p.rate("fargate_gb_hour");
    p.add(
        s,
        format!("fargate memory ({n})"),
        n,
        "gb_hour",
        r,
        mem * copies * h,
        None,
    );
    if p.app_public {
        p.tally.addresses += copies;
    }
    p.tally.images += 1.0;
}

/// Lambda: requests and GB-seconds at the assumed usage (and API Gateway for a custom domain).
fn lambda(p: &mut Pricer, service: &ServicePlan, custom_domain: bool) {
    let s = Section::Services;
    let mem_gb = service
        .compute
        .as_ref()
        .and_then(|c| c.memory_mib)
        .unwrap_or(512) as f64
        / 1024.0;
    let req = p.opts.serverless_requests_per_month as f64;
    let gbs = req * p.opts.serverless_request_ms as f64 / 1000.0 * mem_gb;
    let (why, n) = (p.usage_assumption(), &service.name);
    let r = p.rate("lambda_million_requests");
    let res = format!("lambda requests ({n})");
    p.add(
        s,
        res,
        n,
        "million_requests",
        r,
        req / 1e6,
        Some(why.clone()),
    );
    let r = p.rate("lambda_gb_second");
    let res = format!("lambda compute ({n})");
    p.add(s, res, n, "gb_second", r, gbs, Some(why.clone()));
    if custom_domain {
        let r = p.rate("apigw_http_million_requests");
        let res = "api gateway http api";
        p.add(s, res, n, "million_requests", r, req / 1e6, Some(why));
    }
    p.tally.images += 1.0;
}

/// EKS nodes: instance hours and a gp3 volume each (public nodes keep addresses).
fn eks_nodes(p: &mut Pricer, instance_type: &str, nodes: f64) {
    let c = Section::Cluster;
    p.machine_hours(c, "eks nodes", "cluster", instance_type, nodes, "");
    let r = p.rate("ebs_gp3_gb_month");
    let q = VM_DISK_GB * nodes;
    p.add(c, "ebs gp3 node volumes", "cluster", "gb_month", r, q, None);
    if p.app_public {
        p.tally.addresses += nodes;
    }
}

/// The way in, the network, logs, data services, secrets and DNS.
fn price_shared(item: &Bill, p: &mut Pricer) {
    match *item {
        Bill::LoadBalancer(Some(LoadBalancerKind::AwsAlb)) => {
            let l = Section::LoadBalancer;
            let r = p.rate("alb_hour");
            p.hourly(l, "application load balancer", "load balancer", r, 1.0);
            let (r, h) = (p.rate("alb_lcu_hour"), p.hours);
            let why = Some("1 LCU on average".to_string());
            p.add(
                l,
                "alb capacity units",
                "load balancer",
                "lcu_hour",
                r,
                h,
                why,
            );
            p.tally.addresses += 2.0;
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
            "cloudwatch logs ingestion",
            "cloudwatch_logs_ingest_gb",
            services,
            "1 GB of logs per service a month",
        ),
        Bill::Database(db) => database(db, p),
        Bill::Cache(c) => {
            if let Some(spec) = p.table.cache_node(&c.node_type).copied() {
                let res = format!("elasticache {} {}", c.engine.as_str(), c.node_type);
                p.hourly(Section::Cache, res, "cache", spec.hourly, c.nodes as f64);
            }
        }
        Bill::Secrets { count } => {
            let r = p.rate("secrets_manager_secret_month");
            let res = "secrets manager secrets";
            p.add(
                Section::Secrets,
                res,
                "secrets",
                "secret_month",
                r,
                count,
                None,
            );
        }
        Bill::DnsZone => dns_zone(p, "route 53 hosted zone", "route53_zone_month"),
        Bill::Images { services } => {
            images(p, "ecr image storage", "ecr_storage_gb_month", services)
        }
        Bill::PublicAddresses { count } => addresses(p, "public ipv4 addresses", count),
        _ => {}
    }
}
