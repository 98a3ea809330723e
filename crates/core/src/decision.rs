//! `Decision`: what the decide stage chose to build, and why.
//!
//! Produced by `autodeploy-decide` from an [`Analysis`](crate::Analysis) and an
//! [`Intent`](crate::Intent); read by render (Terraform, Dockerfiles, cloud-init,
//! manifests), by the `plan` command and by people. Its JSON form is a contract
//! like the others: field names and the snake_case canonical values below are
//! stable — add fields freely, never rename or remove them.
//!
//! Every choice carries a line in [`Decision::reasons`]; every conflict between
//! the request and the app is a [`Warning`]. A `Decision` never holds a secret
//! value: environment variables say *where* their value comes from
//! ([`EnvValue`]), secrets are named, generated or supplied at deploy time.
//!
//! This module holds types only: no choosing, no pricing, no rendering.

use crate::{Cache, Cloud, DatabaseEngine, Environment, Language, ServiceKind, SourceFix};
use crate::{SourceInfo, Strategy};
use serde::{Deserialize, Serialize};

/// The decide stage's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Short lowercase-hyphen name for the deployment (prefix of resource names).
    pub name: String,
    /// The analysed source (render fetches the code at `commit`).
    pub source: SourceInfo,
    pub cloud: Cloud,
    /// Provider region code (`us-east-1`, `us-central1`, `eastus`); `local` for the local target.
    pub region: String,
    /// How the app's processes run (the web services' strategy when static parts sit beside them).
    pub strategy: DeployStrategy,
    pub environment: Environment,
    /// One plan per analysed service, in the analysis' order.
    pub services: Vec<ServicePlan>,
    /// The Kubernetes cluster, when `strategy` is `kubernetes`.
    #[serde(default)]
    pub cluster: Option<ClusterPlan>,
    /// The managed database (relational or document), when the app or the request needs one.
    #[serde(default)]
    pub database: Option<DatabasePlan>,
    /// The managed cache (Redis, Memcached), when the app or the request needs one.
    #[serde(default)]
    pub cache: Option<CachePlan>,
    /// The public entry point in front of the web services, when there is one.
    #[serde(default)]
    pub load_balancer: Option<LoadBalancerPlan>,
    pub tls: TlsPlan,
    /// The private network (VPC/VNet), when anything needs one.
    #[serde(default)]
    pub network: Option<NetworkPlan>,
    /// Every secret the deployment creates or expects (names and origins, never values).
    #[serde(default)]
    pub secrets: Vec<SecretPlan>,
    /// One line per choice: what was chosen and why.
    pub reasons: Vec<Reason>,
    /// Conflicts and things a person should act on.
    pub warnings: Vec<Warning>,
    /// Total of [`CostEstimate::items`], US dollars per month (0 for local).
    pub estimated_monthly_usd: f64,
    /// The estimate's breakdown, price table date and region.
    pub cost: CostEstimate,
}

/// Which Dockerfile builds a service's image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageSource {
    /// The Dockerfile autodeploy writes into the bundle.
    #[default]
    Bundle,
    /// The project's own Dockerfile (`ServicePlan::dockerfile`).
    Repository,
}

impl ImageSource {
    pub fn is_bundle(&self) -> bool {
        *self == ImageSource::Bundle
    }
}

impl ServicePlan {
    /// The start command as the service's image runs it: the project's own
    /// image runs its program where its Dockerfile put it (`image_start`).
    pub fn image_command(&self) -> Option<&str> {
        match self.image {
            ImageSource::Repository => self.image_start.as_deref().or(self.start.as_deref()),
            ImageSource::Bundle => self.start.as_deref(),
        }
    }

    /// The release step as the service's image runs it: the project's own
    /// image runs it in its WORKDIR, the folder the start command's `cd`
    /// reaches outside it (`start` `cd src && gunicorn …` is `gunicorn …`
    /// there, so `cd src && python manage.py migrate` is `python manage.py
    /// migrate`).
    pub fn image_release(&self) -> Option<&str> {
        let release = self.release.as_deref()?;
        if self.image != ImageSource::Repository {
            return Some(release);
        }
        let cd = self
            .start
            .as_deref()
            .zip(self.image_start.as_deref())
            .and_then(|(start, image)| start.strip_suffix(image))
            .filter(|p| p.starts_with("cd ") && p.trim_end().ends_with("&&"));
        Some(cd.and_then(|p| release.strip_prefix(p)).unwrap_or(release))
    }
}

/// How the app runs. The Intent's strategies plus `process` (the local target).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeployStrategy {
    Vm,
    Container,
    Kubernetes,
    Serverless,
    Static,
    /// A plain process on this machine (`cloud: local`).
    Process,
}

impl DeployStrategy {
    pub fn as_str(self) -> &'static str {
        match self {
            DeployStrategy::Vm => "vm",
            DeployStrategy::Container => "container",
            DeployStrategy::Kubernetes => "kubernetes",
            DeployStrategy::Serverless => "serverless",
            DeployStrategy::Static => "static",
            DeployStrategy::Process => "process",
        }
    }
}

impl From<Strategy> for DeployStrategy {
    fn from(s: Strategy) -> Self {
        match s {
            Strategy::Vm => DeployStrategy::Vm,
            Strategy::Container => DeployStrategy::Container,
            Strategy::Kubernetes => DeployStrategy::Kubernetes,
            Strategy::Serverless => DeployStrategy::Serverless,
            Strategy::Static => DeployStrategy::Static,
        }
    }
}

/// The concrete service that runs one app service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hosting {
    /// AWS EC2 instance (single, Elastic IP).
    Ec2,
    /// AWS launch template + Auto Scaling group behind an ALB.
    Ec2Autoscaling,
    /// AWS ECS service on Fargate.
    EcsFargate,
    /// AWS EKS Deployment.
    Eks,
    /// AWS Lambda (web adapter) behind a function URL / API Gateway.
    Lambda,
    /// AWS S3 bucket behind CloudFront (OAC).
    S3Cloudfront,
    /// GCP Compute Engine instance.
    ComputeEngine,
    /// GCP managed instance group behind an HTTP(S) load balancer.
    ComputeEngineMig,
    /// GCP Cloud Run service.
    CloudRun,
    /// GCP GKE Deployment.
    Gke,
    /// GCP Cloud Storage bucket behind an HTTPS load balancer with Cloud CDN.
    CloudStorageCdn,
    /// Azure Linux VM.
    AzureVm,
    /// Azure VM scale set behind a load balancer.
    AzureVmss,
    /// Azure Container Apps.
    ContainerApps,
    /// Azure AKS Deployment.
    Aks,
    /// Azure Static Web Apps.
    StaticWebApps,
    /// A process on this machine, run by the local runner.
    LocalProcess,
    /// Files served from this machine by the local runner.
    LocalStatic,
}

impl Hosting {
    /// The cloud this host belongs to.
    pub fn cloud(self) -> Cloud {
        use Hosting as H;
        match self {
            H::Ec2 | H::Ec2Autoscaling | H::EcsFargate | H::Eks | H::Lambda | H::S3Cloudfront => {
                Cloud::Aws
            }
            H::ComputeEngine | H::ComputeEngineMig | H::CloudRun | H::Gke | H::CloudStorageCdn => {
                Cloud::Gcp
            }
            H::AzureVm | H::AzureVmss | H::ContainerApps | H::Aks | H::StaticWebApps => {
                Cloud::Azure
            }
            H::LocalProcess | H::LocalStatic => Cloud::Local,
        }
    }

    /// Virtual machines of the cloud (one, or a scaled group), sized by machine type.
    pub fn is_vm(self) -> bool {
        self.is_single_vm() || self.is_scaled_vm()
    }

    /// One machine with its own public address (nginx in front, no load balancer).
    pub fn is_single_vm(self) -> bool {
        matches!(
            self,
            Hosting::Ec2 | Hosting::ComputeEngine | Hosting::AzureVm
        )
    }

    /// nginx on the machine answers on port 80 and proxies to the app (single
    /// VMs, and Azure scale sets behind their layer-4 load balancer).
    pub fn serves_through_nginx(self) -> bool {
        self.is_single_vm() || self == Hosting::AzureVmss
    }

    /// A group of identical machines behind a load balancer.
    pub fn is_scaled_vm(self) -> bool {
        matches!(
            self,
            Hosting::Ec2Autoscaling | Hosting::ComputeEngineMig | Hosting::AzureVmss
        )
    }

    /// A Deployment in a managed Kubernetes cluster.
    pub fn is_kubernetes(self) -> bool {
        matches!(self, Hosting::Eks | Hosting::Gke | Hosting::Aks)
    }

    /// A function platform billed per request (Lambda).
    pub fn is_function(self) -> bool {
        self == Hosting::Lambda
    }

    /// Files served by a storage/CDN platform or the local file server: nothing runs.
    pub fn is_static(self) -> bool {
        matches!(
            self,
            Hosting::S3Cloudfront
                | Hosting::CloudStorageCdn
                | Hosting::StaticWebApps
                | Hosting::LocalStatic
        )
    }

    /// Run on this machine by the local runner.
    pub fn is_local(self) -> bool {
        self.cloud() == Cloud::Local
    }

    /// Runs the service's container image (managed containers or Kubernetes pods).
    pub fn runs_containers(self) -> bool {
        self.is_kubernetes()
            || matches!(
                self,
                Hosting::EcsFargate | Hosting::CloudRun | Hosting::ContainerApps
            )
    }

    /// Sized by CPU and memory per copy rather than by machine type.
    pub fn sized_per_copy(self) -> bool {
        self.runs_containers() || self.is_function()
    }

    /// The platform has its own HTTPS front door on its own host name
    /// (`*.run.app`, `*.cloudfront.net`, function URLs…): no load balancer of ours.
    pub fn platform_https(self) -> bool {
        matches!(
            self,
            Hosting::Lambda
                | Hosting::S3Cloudfront
                | Hosting::CloudRun
                | Hosting::ContainerApps
                | Hosting::StaticWebApps
        )
    }

    /// Reached through a load balancer of the deployment (the cloud's kind).
    pub fn behind_load_balancer(self) -> bool {
        self.is_scaled_vm()
            || self.is_kubernetes()
            || matches!(self, Hosting::EcsFargate | Hosting::CloudStorageCdn)
    }

    /// Its copies run inside the deployment's private network (VPC / VNet).
    pub fn runs_in_network(self) -> bool {
        self.is_vm() || self.is_kubernetes() || self == Hosting::EcsFargate
    }

    /// The platform sets `PORT` itself (to the container port).
    pub fn platform_sets_port(self) -> bool {
        self == Hosting::CloudRun
    }

    /// autodeploy can bring a new version up after `terraform apply`: the
    /// machines fetch the code themselves, ECS gets a built image, the local
    /// runner starts it.
    pub fn release_automated(self) -> bool {
        self.is_vm()
            || self.is_local()
            || matches!(self, Hosting::EcsFargate | Hosting::S3Cloudfront)
    }
}

/// Where a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The request (Intent) said so.
    Request,
    /// The analysis found it in the repository.
    Analysis,
    /// Both the request and the analysis.
    Both,
    /// Nobody said: autodeploy's default.
    Default,
    /// Derived by a rule from other choices.
    Rule,
    /// Changed to fit the budget.
    Budget,
}

/// The plan for one analysed service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServicePlan {
    pub name: String,
    /// Folder relative to the repository root (`.` for the root).
    pub path: String,
    pub kind: ServiceKind,
    pub strategy: DeployStrategy,
    pub hosting: Hosting,
    pub runtime: RuntimePlan,
    /// Port the app listens on (null for workers and static sites). On the
    /// local target the runner may assign another one and pass it as `PORT`.
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub install: Option<String>,
    #[serde(default)]
    pub build: Option<String>,
    #[serde(default)]
    pub start: Option<String>,
    /// One-off step before each release (migrations).
    #[serde(default)]
    pub release: Option<String>,
    /// One-off step of the deployment's first deploy only, before `release`:
    /// it creates the database from nothing and wipes what is there
    /// (`Service::init`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<String>,
    /// `Service::postgres_auth`: how its database role's password is stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postgres_auth: Option<crate::PostgresAuth>,
    /// For static services: the folder served, relative to `path`.
    #[serde(default)]
    pub static_dir: Option<String>,
    /// The project's own Dockerfile for this service (repository-relative), when it ships one.
    #[serde(default)]
    pub dockerfile: Option<String>,
    /// `Service::dockerfile_context`: the folder the project builds
    /// `dockerfile` from when it is not the service's own (`.` for a
    /// compose `context: .` with `dockerfile: backend/Dockerfile`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dockerfile_context: Option<String>,
    /// Which Dockerfile builds the service's image (container and
    /// Kubernetes hostings): the bundle's (absent) or `repository` (the
    /// project's own, `dockerfile`). The reason is `service.<name>.image`.
    #[serde(default, skip_serializing_if = "ImageSource::is_bundle")]
    pub image: ImageSource,
    /// The start command as the project's image runs it, when it differs
    /// from `start` (a binary its Dockerfile copies out of the build stage:
    /// `./zero2prod` in the image, `./target/release/zero2prod` in the tree).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_start: Option<String>,
    /// Machine or container size (null for static hosting).
    #[serde(default)]
    pub compute: Option<ComputePlan>,
    /// Instance / task / replica counts (null for static hosting).
    #[serde(default)]
    pub scaling: Option<ScalingPlan>,
    #[serde(default)]
    pub health_check: Option<HealthCheckPlan>,
    /// True when the service is reachable from the internet (directly or through the load balancer).
    pub public: bool,
    /// Environment variables to set, each with where its value comes from.
    #[serde(default)]
    pub env: Vec<EnvBinding>,
    /// Mechanical source fixes from the analysis that the deployment applies to its copy.
    #[serde(default)]
    pub source_fixes: Vec<SourceFix>,
    /// Files the code imports that the repository has only as a committed
    /// example (`src/config.ts` from `src/config.ts.example`): the
    /// deployment's copy (local, the VMs' checkout, the archive an image is
    /// built from) gets them, before the source fixes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files_from_example: Vec<crate::FileFromExample>,
    /// Folders (repository-relative) the code keeps SQLite files in that the
    /// repository does not hold (`sqlite_folder_missing`): every copy of the
    /// code (local, the VMs' checkout, the image) gets them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub make_dirs: Vec<String>,
    /// The service keeps its data in files beside its code (SQLite, a data
    /// folder it makes at start: microbin's `microbin_data`): its image's
    /// working folder is its user's, and its container's root filesystem
    /// stays writable.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub writes_local_data: bool,
    /// A persistent volume mounted at this path (Kubernetes), where the
    /// service's data-folder setting (`DATA_DIR`) points: its SQLite files
    /// outlive the pod. The service runs one replica, replaced (never two
    /// at once: the volume attaches to one node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_volume: Option<String>,
    /// Constraints the dependency install needs, from the analysis.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub install_constraints: Vec<crate::InstallConstraint>,
    /// `Service::install_files`: what the install reads besides the file
    /// its command names (repository-relative).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub install_files: Vec<String>,
    /// A static site that forwards a path on its own address to the API
    /// beside it (CloudFront `/_api/*` → the ALB), so the browser calls the
    /// API on the site's origin: no mixed content, no CORS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_route: Option<ApiRoute>,
}

/// Where a static site forwards API calls (`ServicePlan::api_route`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiRoute {
    /// The web service that answers them.
    pub service: String,
    /// The path on the site's address (`/_api`); it is removed before the
    /// request reaches the service, which sees `/_api/users` as `/users`.
    pub path_prefix: String,
}

/// Language runtime and the base images for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimePlan {
    pub language: Language,
    #[serde(default)]
    pub framework: Option<String>,
    /// Runtime family: python, node, go, ruby, php, jvm, rust, dotnet, elixir, static, docker.
    pub family: String,
    /// Runtime version (`3.12`, `20`, `21`…).
    pub version: String,
    pub version_origin: Origin,
    /// Pinned image that builds the service (null when the project's Dockerfile is used).
    #[serde(default)]
    pub build_image: Option<String>,
    /// Pinned image that runs it (null for static hosting and project Dockerfiles).
    #[serde(default)]
    pub run_image: Option<String>,
    /// The Node line an asset build beside a service of another language
    /// runs on (`24`), when its install or build runs npm, yarn or pnpm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assets_node: Option<String>,
}

/// Size of what runs one copy of a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComputePlan {
    /// Machine type (`t3.small`, `e2-small`, `Standard_B1ms`) for VMs and Kubernetes nodes.
    #[serde(default)]
    pub instance_type: Option<String>,
    /// vCPUs for one copy (task, container, pod request, function).
    #[serde(default)]
    pub vcpu: Option<f64>,
    /// Memory for one copy, MiB.
    #[serde(default)]
    pub memory_mib: Option<u32>,
    pub origin: Origin,
}

/// How many copies run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalingPlan {
    pub min: u32,
    pub max: u32,
    pub desired: u32,
    /// Null for a fixed count.
    #[serde(default)]
    pub autoscaling: Option<AutoscalingPolicy>,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutoscalingPolicy {
    pub metric: ScalingMetric,
    /// Target value of `metric` (percent for utilisation, count for concurrency).
    pub target: f64,
    pub scale_out_cooldown_seconds: u32,
    pub scale_in_cooldown_seconds: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScalingMetric {
    CpuUtilization,
    ConcurrentRequests,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCheckPlan {
    pub path: String,
    pub port: u16,
    pub interval_seconds: u32,
    pub timeout_seconds: u32,
    pub healthy_threshold: u32,
    pub unhealthy_threshold: u32,
    /// Time allowed after start before failures count.
    pub grace_period_seconds: u32,
    pub path_origin: Origin,
    /// Which answers count as healthy; every cloud's template renders this
    /// one choice (an ALB matcher, a probe's transport).
    #[serde(default)]
    pub accept: HealthAnswer,
    /// Why this path and these answers, for PLAN.md.
    #[serde(default)]
    pub reason: String,
}

/// What a health check accepts as a live app.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthAnswer {
    /// 200–399: the path is one the app serves (its own health route, the
    /// pages of a site).
    #[default]
    Success,
    /// Any HTTP answer below 500: no route is known to answer 200, so a 404
    /// (no such route) or a 400 still shows a running app, while a refused
    /// connection, a timeout or a 5xx does not. Where a platform's HTTP
    /// probe only accepts 200–399 (Kubernetes, Cloud Run, Container Apps,
    /// GCP and Azure load balancers), the check is a TCP connect to the port.
    AnyAnswer,
}

impl HealthAnswer {
    /// The status codes counted as healthy, as an ALB `matcher` writes them.
    pub fn codes(self) -> &'static str {
        match self {
            Self::Success => "200-399",
            Self::AnyAnswer => "200-499",
        }
    }

    /// The first status code that counts as unhealthy.
    pub fn first_failure(self) -> u16 {
        match self {
            Self::Success => 400,
            Self::AnyAnswer => 500,
        }
    }

    /// True when an HTTP probe limited to 200–399 cannot express it (use TCP there).
    pub fn needs_tcp_probe(self) -> bool {
        self == Self::AnyAnswer
    }
}

/// One environment variable to set on a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvBinding {
    pub name: String,
    pub value: EnvValue,
    /// True when the value is sensitive: it is injected from the secret store, never written in files.
    pub secret: bool,
    /// Why this value.
    pub reason: String,
}

/// Where an environment variable's value comes from. Never a secret value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum EnvValue {
    /// A fixed, non-secret value.
    Literal { value: String },
    /// A random secret generated at deploy time (see [`SecretPlan`] `name`).
    GeneratedSecret { secret: String },
    /// A secret the user provides; the deployment creates an empty slot for it.
    UserSecret { secret: String },
    /// A non-secret input the user provides (an input variable of the bundle).
    Input { variable: String },
    /// An output of the managed database. `scheme` (for `url`) is the URL
    /// scheme the code expects when it is not the engine's default
    /// (`postgresql+asyncpg`, `mysql2`); absent means the default.
    Database {
        output: DatabaseOutput,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scheme: Option<String>,
    },
    /// An output of the managed cache.
    Cache { output: CacheOutput },
    /// A property of the deployment itself.
    Deployment { output: DeploymentOutput },
    /// The public URL of another service of the same deployment.
    ServiceUrl { service: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatabaseOutput {
    /// `postgresql://user:password@host:port/name` (or the engine's scheme), assembled at start.
    Url,
    /// `jdbc:postgresql://host:port/name` (no credentials).
    JdbcUrl,
    /// ADO.NET form (`Host=…;Port=…;Database=…;Username=…;Password=…`), assembled at start.
    AdoConnectionString,
    /// The go-sql-driver/mysql DSN `user:password@tcp(host:port)/name`, assembled at start.
    MysqlDsn,
    Host,
    Port,
    Name,
    Username,
    Password,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheOutput {
    /// `redis://` / `rediss://` URL (with the auth token when there is one, assembled at start).
    Url,
    Host,
    Port,
    /// `host:port`.
    Address,
    /// The auth token.
    Password,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentOutput {
    /// `https://app.example.com` or the platform / load balancer URL.
    PublicUrl,
    /// The public host name (or address).
    PublicHost,
    /// The public host plus whatever the platform's health checks send as Host.
    AllowedHosts,
    /// The port the service listens on (local runner: the assigned one).
    Port,
    /// `host:port` the service listens on: `0.0.0.0:<port>` behind a cloud's
    /// load balancer, `127.0.0.1:<assigned port>` on the local target.
    ListenAddress,
}

/// A secret the deployment creates or expects. Names only, never values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretPlan {
    /// Logical name, unique in the decision (`django-secret-key`, `database-credentials`).
    pub name: String,
    pub kind: SecretKind,
    pub store: SecretStore,
    /// How the value is made (`aws_secretsmanager_random_password, 50 characters`), when generated.
    #[serde(default)]
    pub generator: Option<String>,
    /// Environment variables fed from it, as `service:NAME`.
    #[serde(default)]
    pub used_by: Vec<String>,
    /// A generated value people use, not only the app: the first
    /// administrator's password they sign in with, a token callers send.
    /// PLAN.md says where to read it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_by_people: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretKind {
    /// A random value generated at deploy time (app signing keys).
    Generated,
    /// A value only the user has (third-party API keys); the slot is created empty.
    UserSupplied,
    /// Database master credentials, created by the database service or generated.
    DatabaseCredentials,
    /// Cache auth token.
    CacheAuth,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretStore {
    AwsSecretsManager,
    GcpSecretManager,
    AzureKeyVault,
    /// A file only the local runner reads (mode 0600), outside the repository.
    LocalEnvFile,
}

/// Which managed service provides a data store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataService {
    AwsRds,
    AwsDocumentdb,
    AwsElasticache,
    GcpCloudSql,
    GcpMemorystore,
    AzurePostgresqlFlexible,
    AzureMysqlFlexible,
    AzureCacheForRedis,
    /// Not provisioned: the user provides a connection string (e.g. MongoDB Atlas).
    External,
    /// Provided by the local runner (e.g. a container on this machine).
    Local,
}

impl DataService {
    /// Provisioned by the deployment on a cloud (not external, not local).
    pub fn is_managed(self) -> bool {
        !matches!(self, DataService::External | DataService::Local)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabasePlan {
    pub engine: DatabaseEngine,
    pub service: DataService,
    /// Engine major version (`16`, `8.0`, `5.0`).
    pub version: String,
    /// Instance class / tier (`db.t4g.micro`, `db-f1-micro`, `B_Standard_B1ms`).
    pub instance_class: String,
    pub storage_gb: u32,
    /// Upper bound for storage autoscaling (equal to `storage_gb` when off).
    pub max_storage_gb: u32,
    /// Standby in a second zone (AWS Multi-AZ, GCP/Azure high availability).
    pub multi_az: bool,
    pub backup_retention_days: u32,
    pub deletion_protection: bool,
    /// Keep a final snapshot when the database is destroyed.
    pub final_snapshot: bool,
    pub encrypted: bool,
    /// Always false: databases live in private subnets.
    pub publicly_accessible: bool,
    pub port: u16,
    pub db_name: String,
    pub username: String,
    pub credentials: CredentialsPlan,
    /// Services that connect to it.
    pub used_by: Vec<String>,
    /// The server refuses connections without TLS (RDS `rds.force_ssl`,
    /// `require_secure_transport`). False when a service's driver connects
    /// without TLS by default ([`Service::drivers_without_tls`](crate::Service)):
    /// the database then offers TLS without requiring it, reachable only
    /// from the app's network.
    #[serde(default = "crate::decision::required")]
    pub require_tls: bool,
    pub origin: Origin,
}

fn required() -> bool {
    true
}

/// How credentials are generated and where they are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialsPlan {
    pub method: CredentialMethod,
    pub store: SecretStore,
    /// The [`SecretPlan`] name.
    pub secret: String,
    /// One sentence for people.
    pub description: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialMethod {
    /// AWS RDS `manage_master_user_password`: RDS generates and rotates it in Secrets Manager.
    RdsManagedMasterPassword,
    /// AWS `aws_secretsmanager_random_password` stored in a Secrets Manager secret.
    SecretsManagerRandomPassword,
    /// Generated as an ephemeral value and passed to write-only arguments, kept in
    /// AWS Secrets Manager / GCP Secret Manager / Azure Key Vault (never in
    /// Terraform files or state).
    WriteOnlyGeneratedPassword,
    /// The service generates the key (Azure Cache for Redis access keys); the
    /// deployment copies it into the secret store.
    ServiceGeneratedKey,
    /// Generated by the local runner into its private env file.
    LocalGenerated,
    /// The user provides the connection string.
    UserSupplied,
    /// No credentials (network isolation only).
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachePlan {
    pub engine: Cache,
    pub service: DataService,
    pub version: String,
    /// Node type / tier (`cache.t4g.micro`, `BASIC 1 GB`, `Basic C0`).
    pub node_type: String,
    pub nodes: u32,
    pub memory_gb: f64,
    /// Replica with automatic failover.
    pub high_availability: bool,
    pub transit_encryption: bool,
    pub port: u16,
    #[serde(default)]
    pub auth: Option<CredentialsPlan>,
    pub used_by: Vec<String>,
    pub origin: Origin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterKind {
    Eks,
    Gke,
    Aks,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterPlan {
    pub kind: ClusterKind,
    /// Kubernetes minor version (`1.31`).
    pub version: String,
    pub node_instance_type: String,
    pub min_nodes: u32,
    pub max_nodes: u32,
    pub desired_nodes: u32,
    /// Paid control-plane tier (EKS standard, GKE management fee, AKS Standard) vs free.
    pub paid_control_plane: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadBalancerKind {
    /// AWS Application Load Balancer (also the EKS ingress, via the AWS Load Balancer Controller).
    AwsAlb,
    /// GCP global external Application Load Balancer.
    GcpHttpsLb,
    /// Azure Standard Load Balancer.
    AzureLoadBalancer,
    /// The platform's own HTTPS front door (Cloud Run, Container Apps, Lambda function URL, CloudFront).
    PlatformIngress,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadBalancerPlan {
    pub kind: LoadBalancerKind,
    pub public: bool,
    /// Ports it listens on (80, and 443 with a certificate).
    pub listeners: Vec<u16>,
    /// Services behind it.
    pub targets: Vec<String>,
    pub health_check_path: String,
    /// Long enough for slow requests and websockets.
    pub idle_timeout_seconds: u32,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsPlan {
    /// True when the public URL is https.
    pub https: bool,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub certificate: Option<CertificatePlan>,
    #[serde(default)]
    pub dns: Option<DnsPlan>,
    pub redirect_http_to_https: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertificateProvider {
    /// AWS Certificate Manager, DNS-validated.
    Acm,
    /// Let's Encrypt on the instance (certbot, HTTP-01).
    LetsEncrypt,
    /// Google-managed certificate (load balancer or Cloud Run domain mapping).
    GoogleManaged,
    /// Azure managed certificate (Container Apps / Static Web Apps custom domain).
    AzureManaged,
    /// The platform's own certificate for its default host name (`*.run.app`, `*.cloudfront.net`…).
    PlatformDefault,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificatePlan {
    pub provider: CertificateProvider,
    pub domains: Vec<String>,
    /// `dns` or `http`.
    pub validation: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DnsProvider {
    Route53,
    CloudDns,
    AzureDns,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsPlan {
    pub provider: DnsProvider,
    /// The zone the record goes in (`example.com`); assumed to exist in the account.
    pub zone: String,
    /// The full record name (`app.example.com`).
    pub record: String,
    /// `alias` (to a load balancer / CDN), `a` (to an address) or `cname`.
    pub record_type: String,
    /// What the record points at (`load_balancer`, `instance_ip`, `cdn`, `platform`).
    pub target: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubnetTier {
    Public,
    Private,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetPlan {
    pub name: String,
    pub tier: SubnetTier,
    pub cidr: String,
    /// 0-based index of the availability zone.
    pub zone_index: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkPlan {
    pub vpc_cidr: String,
    pub subnets: Vec<SubnetPlan>,
    /// Tier of the subnets the app runs in.
    pub app_subnet_tier: SubnetTier,
    /// NAT gateways (0 when the app subnets are public or nothing needs egress from private ones).
    pub nat_gateways: u32,
    /// Every inbound rule; nothing else is open.
    pub ingress: Vec<PortRule>,
    /// Always false: no SSH from the internet.
    pub ssh_from_internet: bool,
    /// How an operator reaches machines (`aws_ssm_session_manager`, `gcp_iap`, `azure_bastion_or_run_command`).
    pub admin_access: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    Internet,
    LoadBalancer,
    App,
    Database,
    Cache,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortRule {
    pub port: u16,
    /// `tcp`.
    pub protocol: String,
    pub from: Endpoint,
    pub to: Endpoint,
    pub purpose: String,
}

/// One line per choice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// What was decided (`cloud`, `region`, `strategy`, `service.web.size`, `database`…).
    pub about: String,
    /// What the choice rests on.
    pub origin: Origin,
    /// The human-readable line: what was chosen and why.
    pub text: String,
}

/// A conflict or something to act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// Stable snake_case code (`serverless_unfit`, `budget_exceeded`, `https_without_domain`…).
    pub code: String,
    /// The service concerned, when one is.
    #[serde(default)]
    pub service: Option<String>,
    pub message: String,
}

/// The monthly cost estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostEstimate {
    /// Always `USD`.
    pub currency: String,
    pub total_usd_month: f64,
    /// The deployment's region.
    pub region: String,
    /// Multiplier applied to the table's base-region prices for `region`.
    pub region_multiplier: f64,
    /// Date of the embedded price table (`YYYY-MM-DD`); null for local.
    #[serde(default)]
    pub price_table_date: Option<String>,
    /// Where the table's prices come from.
    #[serde(default)]
    pub price_table_source: Option<String>,
    pub items: Vec<CostItem>,
    /// Budget from the request, when given.
    #[serde(default)]
    pub budget_usd_month: Option<f64>,
    #[serde(default)]
    pub within_budget: Option<bool>,
    /// What the estimate leaves out and what it assumes.
    pub notes: Vec<String>,
}

/// One priced resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostItem {
    /// Resource (`ec2 t3.small`, `rds db.t4g.micro multi-az`, `alb`).
    pub resource: String,
    /// Which service or part of the deployment it belongs to.
    pub component: String,
    /// Price unit (`hour`, `gb_month`, `vcpu_hour`, `gb_hour`, `million_requests`, `month`).
    pub unit: String,
    pub unit_price_usd: f64,
    /// Units per month.
    pub quantity: f64,
    pub monthly_usd: f64,
    /// Usage assumption behind `quantity`, for usage-priced items.
    #[serde(default)]
    pub assumption: Option<String>,
}

impl Decision {
    /// The plan of the service named `name`.
    pub fn service(&self, name: &str) -> Option<&ServicePlan> {
        self.services.iter().find(|s| s.name == name)
    }

    /// The static site that is the deployment's front door and forwards
    /// API calls to a service beside it (`ServicePlan::api_route`).
    pub fn site_front(&self) -> Option<&ServicePlan> {
        self.services.iter().find(|s| s.api_route.is_some())
    }

    /// Warning codes, in order.
    pub fn warning_codes(&self) -> Vec<&str> {
        self.warnings.iter().map(|w| w.code.as_str()).collect()
    }

    /// True when a warning with this code was raised.
    pub fn has_warning(&self, code: &str) -> bool {
        self.warnings.iter().any(|w| w.code == code)
    }

    /// The reasons about `about` (exact match).
    pub fn reasons_about<'a>(&'a self, about: &'a str) -> impl Iterator<Item = &'a Reason> + 'a {
        self.reasons.iter().filter(move |r| r.about == about)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_serialise_as_their_canonical_strings() {
        for s in [
            DeployStrategy::Vm,
            DeployStrategy::Container,
            DeployStrategy::Kubernetes,
            DeployStrategy::Serverless,
            DeployStrategy::Static,
            DeployStrategy::Process,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(
            DeployStrategy::from(Strategy::Serverless),
            DeployStrategy::Serverless
        );
    }

    #[test]
    fn env_values_are_tagged_by_origin() {
        let v = EnvValue::Database {
            output: DatabaseOutput::Url,
            scheme: None,
        };
        assert_eq!(
            serde_json::to_value(&v).unwrap(),
            serde_json::json!({"from": "database", "output": "url"})
        );
        let v = EnvValue::Database {
            output: DatabaseOutput::Url,
            scheme: Some("postgresql+asyncpg".into()),
        };
        let j = serde_json::json!({"from": "database", "output": "url", "scheme": "postgresql+asyncpg"});
        assert_eq!(serde_json::to_value(&v).unwrap(), j);
        assert_eq!(serde_json::from_value::<EnvValue>(j).unwrap(), v);
        let v = EnvValue::GeneratedSecret {
            secret: "app-secret-key".into(),
        };
        assert_eq!(
            serde_json::to_value(&v).unwrap(),
            serde_json::json!({"from": "generated_secret", "secret": "app-secret-key"})
        );
    }
}
