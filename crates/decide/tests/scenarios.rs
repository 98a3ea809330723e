//! Scenario tests: real fixture repositories (analysed by `autodeploy-analyze`)
//! × requests (parsed by `autodeploy-parse`, or hand-built where the parser
//! does not cover the phrase) → the decision's strategy, sizes, data services,
//! TLS, warnings and costs. Assertions stick to what the decision is about, so
//! that analyzer refinements elsewhere do not break them.

use autodeploy_analyze::{analyze_dir, AnalyzeOptions};
use autodeploy_core::*;
use autodeploy_decide::{decide, DecideError, DecideOptions};
use std::path::PathBuf;

fn fixture(name: &str) -> Analysis {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name);
    let source = SourceInfo {
        input: format!("tests/fixtures/{name}"),
        kind: SourceKind::Path,
        commit: None,
    };
    let opts = AnalyzeOptions {
        name_hint: Some(name.to_string()),
        ..Default::default()
    };
    analyze_dir(&root, source, &opts).unwrap_or_else(|e| panic!("analysing {name}: {e}"))
}

fn run(name: &str, intent: &Intent) -> Decision {
    let d = decide(&fixture(name), intent, &DecideOptions::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    invariants(name, &d);
    d
}

fn run_text(name: &str, text: &str) -> Decision {
    run(name, &autodeploy_parse::parse(text))
}

/// What every decision must satisfy.
fn invariants(label: &str, d: &Decision) {
    for about in ["cloud", "region", "environment", "strategy", "tls"] {
        assert!(
            d.reasons.iter().any(|r| r.about == about),
            "{label}: no reason about {about}"
        );
    }
    for r in &d.reasons {
        assert!(!r.text.trim().is_empty(), "{label}: empty reason {r:?}");
        assert!(
            !r.text.contains('\n'),
            "{label}: reason is not one line: {r:?}"
        );
    }
    for w in &d.warnings {
        assert!(
            !w.code.is_empty() && w.code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "{label}: bad warning code {w:?}"
        );
    }
    for s in &d.services {
        assert!(
            d.reasons
                .iter()
                .any(|r| r.about == format!("service.{}.env", s.name)),
            "{label}: no env reason for {}",
            s.name
        );
        for b in &s.env {
            if b.secret {
                assert!(
                    !matches!(b.value, EnvValue::Literal { .. } | EnvValue::Input { .. }),
                    "{label}: secret {} has a literal value",
                    b.name
                );
            }
            if let EnvValue::GeneratedSecret { secret } | EnvValue::UserSecret { secret } = &b.value
            {
                assert!(
                    d.secrets.iter().any(|x| &x.name == secret),
                    "{label}: {} names unknown secret {secret}",
                    b.name
                );
            }
        }
    }
    if let Some(db) = &d.database {
        assert!(!db.publicly_accessible, "{label}");
        assert!(
            d.secrets.iter().any(|s| s.name == db.credentials.secret),
            "{label}"
        );
    }
    if let Some(n) = &d.network {
        assert!(!n.ssh_from_internet, "{label}");
        assert!(!n.ingress.iter().any(|r| r.port == 22), "{label}");
        // A database the user runs elsewhere (MongoDB by connection
        // string) needs no private subnet of ours.
        if d.database
            .as_ref()
            .is_some_and(|db| db.service != DataService::External)
        {
            assert!(
                n.subnets.iter().any(|s| s.tier == SubnetTier::Private),
                "{label}: database without private subnets"
            );
            assert!(
                !n.ingress.iter().any(|r| r.from == Endpoint::Internet
                    && matches!(r.to, Endpoint::Database | Endpoint::Cache)),
                "{label}: data service open to the internet"
            );
        }
    }
    let sum: f64 = d.cost.items.iter().map(|i| i.monthly_usd).sum();
    assert!(
        (sum - d.estimated_monthly_usd).abs() < 0.02,
        "{label}: {sum} vs {}",
        d.estimated_monthly_usd
    );
    assert_eq!(d.estimated_monthly_usd, d.cost.total_usd_month, "{label}");
    for i in &d.cost.items {
        let m = i.unit_price_usd * i.quantity;
        assert!((m - i.monthly_usd).abs() < 0.02, "{label}: {i:?}");
    }
    if d.cloud == Cloud::Local {
        assert_eq!(d.estimated_monthly_usd, 0.0, "{label}");
    } else {
        assert_eq!(
            d.cost.price_table_date.as_deref(),
            Some("2025-06-01"),
            "{label}"
        );
        assert_eq!(d.cost.region, d.region, "{label}");
        assert!(!d.cost.items.is_empty(), "{label}: nothing priced");
        assert!(d.reasons.iter().any(|r| r.about == "cost"), "{label}");
    }
    // The JSON form round-trips.
    let json = serde_json::to_string(d).unwrap();
    let back: Decision = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, d, "{label}: JSON round trip");
}

fn env_of<'a>(d: &'a Decision, service: &str, name: &str) -> Option<&'a EnvBinding> {
    d.service(service)?.env.iter().find(|b| b.name == name)
}

fn item<'a>(d: &'a Decision, prefix: &str) -> Option<&'a CostItem> {
    d.cost.items.iter().find(|i| i.resource.starts_with(prefix))
}

#[test]
fn flask_hello_world_on_aws_is_one_small_vm() {
    let d = run_text("hello_world_shape", "Deploy this Flask app on AWS");
    assert_eq!((d.cloud, d.region.as_str()), (Cloud::Aws, "us-east-1"));
    assert_eq!(d.strategy, DeployStrategy::Vm);
    let app = &d.services[0];
    assert_eq!(app.hosting, Hosting::Ec2);
    assert_eq!(
        app.compute.as_ref().unwrap().instance_type.as_deref(),
        Some("t3.small")
    );
    assert!(d.database.is_none() && d.cache.is_none() && d.load_balancer.is_none());
    assert!(!d.tls.https);
    assert!(d.has_warning("binds_localhost_fixed"));
    assert!(!app.source_fixes.is_empty());
    let net = d.network.as_ref().unwrap();
    assert_eq!(net.nat_gateways, 0);
    assert!(net
        .ingress
        .iter()
        .all(|r| r.from != Endpoint::Internet || r.port == 80 || r.port == 443));
    let ec2 = item(&d, "ec2 t3.small").unwrap();
    assert_eq!((ec2.unit_price_usd, ec2.quantity), (0.0208, 730.0));
    assert!(
        (15.0..30.0).contains(&d.estimated_monthly_usd),
        "{}",
        d.estimated_monthly_usd
    );
    let cloud = d.reasons_about("cloud").next().unwrap();
    assert_eq!(cloud.origin, Origin::Request);
}

#[test]
fn django_with_postgres_gets_containers_and_a_protected_rds() {
    let d = run_text("python_django_postgres", "Deploy on AWS");
    assert_eq!(d.strategy, DeployStrategy::Container);
    assert_eq!(d.services[0].hosting, Hosting::EcsFargate);
    let db = d.database.as_ref().unwrap();
    assert_eq!(
        (db.engine, db.service),
        (DatabaseEngine::Postgresql, DataService::AwsRds)
    );
    assert!(db.multi_az && db.deletion_protection && db.final_snapshot);
    assert!(db.backup_retention_days >= 7);
    assert_eq!(
        db.credentials.method,
        CredentialMethod::WriteOnlyGeneratedPassword
    );
    assert_eq!(db.credentials.store, SecretStore::AwsSecretsManager);
    assert_eq!(
        env_of(&d, &d.services[0].name, "POSTGRES_PASSWORD")
            .unwrap()
            .value,
        EnvValue::Database {
            output: DatabaseOutput::Password,
            scheme: None
        }
    );
    assert_eq!(
        env_of(&d, &d.services[0].name, "POSTGRES_HOST")
            .unwrap()
            .value,
        EnvValue::Database {
            output: DatabaseOutput::Host,
            scheme: None
        }
    );
    assert!(matches!(
        env_of(&d, &d.services[0].name, "DJANGO_SECRET_KEY")
            .unwrap()
            .value,
        EnvValue::GeneratedSecret { .. }
    ));
    assert_eq!(
        d.load_balancer.as_ref().unwrap().kind,
        LoadBalancerKind::AwsAlb
    );
    let net = d.network.as_ref().unwrap();
    assert_eq!(net.app_subnet_tier, SubnetTier::Private);
    assert!(net
        .ingress
        .iter()
        .any(|r| r.port == 5432 && r.from == Endpoint::App));
    assert!(item(&d, "rds postgresql db.t4g.small multi-az").is_some());
    assert!(item(&d, "nat gateway").is_some());
}

#[test]
fn serverless_with_a_celery_worker_warns_and_runs_containers() {
    let d = run_text("python_flask_celery_redis", "serverless please, on AWS");
    assert_eq!(d.strategy, DeployStrategy::Container);
    let w = d
        .warnings
        .iter()
        .find(|w| w.code == "serverless_unfit")
        .unwrap();
    assert_eq!(w.service.as_deref(), Some("worker"));
    assert!(w.message.contains("chose container"), "{}", w.message);
    let cache = d.cache.as_ref().unwrap();
    assert_eq!(
        (cache.engine, cache.service),
        (Cache::Redis, DataService::AwsElasticache)
    );
    assert!(cache.transit_encryption && cache.auth.is_some());
    for svc in ["python-flask-celery-redis", "worker"] {
        let b = env_of(&d, svc, "CELERY_BROKER_URL").unwrap();
        assert_eq!(
            b.value,
            EnvValue::Cache {
                output: CacheOutput::Url
            }
        );
        assert!(b.secret);
    }
    // Tasks go to the worker the deployment runs, not inline in the web app.
    for svc in ["python-flask-celery-redis", "worker"] {
        let b = env_of(&d, svc, "CELERY_TASK_ALWAYS_EAGER").unwrap();
        assert_eq!(
            b.value,
            EnvValue::Literal {
                value: "False".into()
            }
        );
    }
    let worker = d.service("worker").unwrap();
    assert!(!worker.public && worker.health_check.is_none());
    assert_eq!(worker.scaling.as_ref().unwrap().max, 1);
}

#[test]
fn ten_dollars_cannot_buy_postgres_and_three_instances() {
    let d = run_text(
        "compose_stack",
        "Deploy with postgres, 3 instances, budget $10 a month",
    );
    assert_eq!(d.strategy, DeployStrategy::Container);
    assert!(d.has_warning("budget_exceeded"));
    assert_eq!(d.cost.within_budget, Some(false));
    assert_eq!(d.cost.budget_usd_month, Some(10.0));
    // What was asked is kept...
    let web = d.service("web").unwrap().scaling.as_ref().unwrap();
    assert_eq!((web.min, web.max, web.desired), (3, 3, 3));
    assert_eq!(
        d.database.as_ref().unwrap().engine,
        DatabaseEngine::Postgresql
    );
    // ...everything else is shrunk, and says so.
    let db = d.database.as_ref().unwrap();
    assert!(!db.multi_az);
    assert_eq!(db.instance_class, "db.t4g.micro");
    assert_eq!(d.network.as_ref().unwrap().nat_gateways, 0);
    assert!(
        d.reasons
            .iter()
            .filter(|r| r.origin == Origin::Budget)
            .count()
            >= 3
    );
    assert!(d.has_warning("budget_reduced_resilience"));
    let w = d
        .warnings
        .iter()
        .find(|w| w.code == "budget_exceeded")
        .unwrap();
    assert!(w.message.contains("$10"), "{}", w.message);
}

#[test]
fn a_budget_that_can_be_met_shrinks_the_machine() {
    let d = run_text("hello_world_shape", "Deploy on AWS under $15 a month");
    assert_eq!(d.cost.budget_usd_month, Some(15.0));
    assert_eq!(d.cost.within_budget, Some(true), "{:?}", d.cost);
    assert_eq!(
        d.services[0]
            .compute
            .as_ref()
            .unwrap()
            .instance_type
            .as_deref(),
        Some("t3.micro")
    );
    assert!(d.estimated_monthly_usd <= 15.0);
    assert!(!d.has_warning("budget_exceeded"));
    let b = d.reasons_about("compute").next().unwrap();
    assert_eq!(b.origin, Origin::Budget);
}

#[test]
fn https_without_a_domain_says_what_is_possible() {
    let d = run_text("hello_world_shape", "https please, no domain");
    assert!(!d.tls.https && d.tls.certificate.is_none());
    let w = d
        .warnings
        .iter()
        .find(|w| w.code == "https_without_domain")
        .unwrap();
    assert!(w.message.contains("add a domain"), "{}", w.message);
    // On a platform with its own https address, it is simply https.
    let intent = Intent {
        cloud: Some(Cloud::Gcp),
        strategy: Some(Strategy::Serverless),
        https: Some(true),
        ..Default::default()
    };
    let d = run("go_gin", &intent);
    assert_eq!(d.services[0].hosting, Hosting::CloudRun);
    assert!(d.tls.https && !d.has_warning("https_without_domain"));
    assert_eq!(
        d.tls.certificate.as_ref().unwrap().provider,
        CertificateProvider::PlatformDefault
    );
}

#[test]
fn gcp_with_an_aws_machine_type_maps_it_and_warns() {
    let intent = Intent {
        cloud: Some(Cloud::Gcp),
        instance_type: Some("t3.small".into()),
        ..Default::default()
    };
    let d = run("go_gin", &intent);
    assert_eq!((d.cloud, d.region.as_str()), (Cloud::Gcp, "us-central1"));
    assert_eq!(d.strategy, DeployStrategy::Vm);
    let c = d.services[0].compute.as_ref().unwrap();
    assert_eq!(c.instance_type.as_deref(), Some("e2-small"));
    let w = d
        .warnings
        .iter()
        .find(|w| w.code == "instance_type_cloud_mismatch")
        .unwrap();
    assert!(
        w.message.contains("t3.small") && w.message.contains("e2-small"),
        "{}",
        w.message
    );
    assert!(item(&d, "compute engine e2-small").is_some());
}

#[test]
fn a_vite_spa_goes_to_s3_and_cloudfront() {
    let d = run_text("node_react_vite", "deploy this");
    assert_eq!(d.strategy, DeployStrategy::Static);
    let s = &d.services[0];
    assert_eq!(s.hosting, Hosting::S3Cloudfront);
    assert!(s.compute.is_none() && s.scaling.is_none() && s.health_check.is_none());
    assert_eq!(s.static_dir.as_deref(), Some("dist"));
    assert!(d.network.is_none() && d.database.is_none());
    assert!(d.tls.https);
    assert!(item(&d, "cloudfront transfer")
        .unwrap()
        .assumption
        .is_some());
    assert!(d.estimated_monthly_usd < 5.0);
}

#[test]
fn frontend_and_backend_split_between_static_hosting_and_a_vm() {
    let d = run_text("mono_frontend_backend", "deploy it on AWS");
    assert_eq!(d.strategy, DeployStrategy::Vm);
    let backend = d.service("backend").unwrap();
    let frontend = d.service("frontend").unwrap();
    assert_eq!(
        (backend.hosting, frontend.hosting),
        (Hosting::Ec2, Hosting::S3Cloudfront)
    );
    assert_eq!(frontend.strategy, DeployStrategy::Static);
    // https frontend calling an http backend is called out.
    assert!(d.has_warning("mixed_content"));
    assert!(d
        .reasons
        .iter()
        .any(|r| r.about == "service.frontend.strategy"));
}

#[test]
fn a_request_for_one_part_deploys_that_part_only() {
    // "just the backend": one service, and what only the left-out part
    // needed (the static hosting) is not planned.
    let d = run_text(
        "mono_frontend_backend",
        "deploy just the backend on AWS ECS",
    );
    let names: Vec<&str> = d.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["backend"]);
    assert!(!d.has_warning("mixed_content"));
    let why = d.reasons.iter().find(|r| r.about == "services").unwrap();
    assert!(why.text.contains("not deployed: frontend"), "{}", why.text);
    let d = run_text("mono_frontend_backend", "put the frontend on AWS");
    let names: Vec<&str> = d.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["frontend"]);
    // A part the repository does not have: an error naming what it has.
    let e = decide(
        &fixture("mono_frontend_backend"),
        &autodeploy_parse::parse("deploy the worker on AWS"),
        &DecideOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(e, DecideError::NoServiceForPart { .. }), "{e}");
    assert!(e.to_string().contains("backend (backend)"), "{e}");
}

#[test]
fn local_deployments_are_processes_without_cost() {
    let d = run_text("python_django_postgres", "run it locally");
    assert_eq!((d.cloud, d.region.as_str()), (Cloud::Local, "local"));
    assert_eq!(d.strategy, DeployStrategy::Process);
    assert_eq!(d.environment, Environment::Development);
    assert_eq!(d.services[0].hosting, Hosting::LocalProcess);
    let db = d.database.as_ref().unwrap();
    assert_eq!(db.service, DataService::Local);
    assert_eq!(db.credentials.store, SecretStore::LocalEnvFile);
    assert!(d.load_balancer.is_none() && d.network.is_none());
    assert!(d.cost.items.is_empty() && d.cost.price_table_date.is_none());
    // Debug mode is left to the code in development.
    assert!(env_of(&d, &d.services[0].name, "DJANGO_DEBUG").is_none());
}

#[test]
fn postgres_autoscaling_and_https_on_a_domain() {
    let d = run_text(
        "hello_world_shape",
        "Deploy on AWS with Postgres, 2 to 5 instances, https on app.example.com",
    );
    assert_eq!(d.strategy, DeployStrategy::Container);
    let sc = d.services[0].scaling.as_ref().unwrap();
    assert_eq!((sc.min, sc.max, sc.desired), (2, 5, 2));
    assert_eq!(
        sc.autoscaling.as_ref().unwrap().metric,
        ScalingMetric::CpuUtilization
    );
    // The code uses no database: provisioned as asked, with a warning and the conventional URL.
    assert!(d.has_warning("database_unused"));
    assert!(d.has_warning("database_env_unknown"));
    assert_eq!(
        env_of(&d, "app", "DATABASE_URL").unwrap().value,
        EnvValue::Database {
            output: DatabaseOutput::Url,
            scheme: None
        }
    );
    assert!(d.tls.https && d.tls.redirect_http_to_https);
    assert_eq!(
        d.tls.certificate.as_ref().unwrap().provider,
        CertificateProvider::Acm
    );
    let dns = d.tls.dns.as_ref().unwrap();
    assert_eq!(
        (
            dns.provider,
            dns.zone.as_str(),
            dns.record.as_str(),
            dns.record_type.as_str()
        ),
        (
            DnsProvider::Route53,
            "example.com",
            "app.example.com",
            "alias"
        )
    );
    assert_eq!(d.load_balancer.as_ref().unwrap().listeners, vec![80, 443]);
    assert!(d
        .network
        .as_ref()
        .unwrap()
        .ingress
        .iter()
        .any(|r| r.port == 443 && r.to == Endpoint::LoadBalancer));
    let fargate = item(&d, "fargate vcpu").unwrap();
    assert!(
        (fargate.quantity - 2.0 * 0.5 * 730.0).abs() < 1e-6,
        "{fargate:?}"
    );
}

#[test]
fn spring_boot_on_azure_container_apps_with_a_domain() {
    let d = run_text(
        "java_spring_boot_maven",
        "deploy on azure, 2 to 6 instances, https on orders.example.com",
    );
    assert_eq!((d.cloud, d.region.as_str()), (Cloud::Azure, "eastus"));
    let s = &d.services[0];
    assert_eq!(s.hosting, Hosting::ContainerApps);
    let c = s.compute.as_ref().unwrap();
    assert_eq!((c.vcpu, c.memory_mib), (Some(1.0), Some(2048)));
    assert_eq!(s.runtime.family, "jvm");
    let db = d.database.as_ref().unwrap();
    assert_eq!(db.service, DataService::AzurePostgresqlFlexible);
    assert!(db.multi_az && db.instance_class.starts_with("GP_"));
    assert_eq!(
        db.credentials.method,
        CredentialMethod::WriteOnlyGeneratedPassword
    );
    assert_eq!(db.credentials.store, SecretStore::AzureKeyVault);
    assert_eq!(
        d.tls.certificate.as_ref().unwrap().provider,
        CertificateProvider::AzureManaged
    );
    assert_eq!(d.tls.dns.as_ref().unwrap().provider, DnsProvider::AzureDns);
    assert_eq!(
        d.load_balancer.as_ref().unwrap().kind,
        LoadBalancerKind::PlatformIngress
    );
}

#[test]
fn jvm_gets_more_memory_than_go() {
    let jvm = run(
        "java_spring_boot_maven",
        &Intent {
            strategy: Some(Strategy::Vm),
            ..Default::default()
        },
    );
    let go = run(
        "go_gin",
        &Intent {
            strategy: Some(Strategy::Vm),
            ..Default::default()
        },
    );
    let mem = |d: &Decision| d.services[0].compute.as_ref().unwrap().memory_mib.unwrap();
    assert!(mem(&jvm) > mem(&go), "{} vs {}", mem(&jvm), mem(&go));
    assert_eq!(
        jvm.services[0]
            .compute
            .as_ref()
            .unwrap()
            .instance_type
            .as_deref(),
        Some("t3.medium")
    );
    assert_eq!(
        go.services[0]
            .compute
            .as_ref()
            .unwrap()
            .instance_type
            .as_deref(),
        Some("t3.micro")
    );
}

#[test]
fn azure_scale_set_load_balancer_reaches_nginx_on_80() {
    let d = run_text(
        "python_stdlib_http_server",
        "deploy on azure on VMs, 2 to 4 instances",
    );
    let s = &d.services[0];
    assert_eq!(s.hosting, Hosting::AzureVmss, "{:?}", d.strategy);
    let net = d.network.as_ref().unwrap();
    let to_app: Vec<u16> = net
        .ingress
        .iter()
        .filter(|r| r.from == Endpoint::LoadBalancer && r.to == Endpoint::App)
        .map(|r| r.port)
        .collect();
    assert_eq!(to_app, [80], "{:?}", net.ingress);
}

#[test]
fn staging_kubernetes_on_azure_is_small_and_unprotected() {
    let d = run_text(
        "node_express_pg_redis_env",
        "deploy to kubernetes on azure in westeurope, staging",
    );
    assert_eq!(
        (d.region.as_str(), d.environment),
        ("westeurope", Environment::Staging)
    );
    assert_eq!(d.strategy, DeployStrategy::Kubernetes);
    let cl = d.cluster.as_ref().unwrap();
    assert_eq!((cl.kind, cl.paid_control_plane), (ClusterKind::Aks, false));
    let db = d.database.as_ref().unwrap();
    assert!(!db.multi_az && !db.deletion_protection);
    assert_eq!(db.instance_class, "B_Standard_B1ms");
    assert_eq!(d.cache.as_ref().unwrap().node_type, "Basic_C0");
    // Azure Cache for Redis offers Redis 6 at the most
    assert_eq!(d.cache.as_ref().unwrap().version, "6");
    assert_eq!(d.cost.region_multiplier, 1.15);
    assert!(d.has_warning("secret_needs_value"));
    assert_eq!(
        env_of(&d, "billing-service", "NODE_ENV").unwrap().value,
        EnvValue::Literal {
            value: "production".into()
        }
    );
}

#[test]
fn rails_with_sidekiq_on_gcp() {
    let d = run_text("ruby_rails_sidekiq", "deploy on gcp");
    assert_eq!(d.strategy, DeployStrategy::Container);
    for s in &d.services {
        assert_eq!(s.hosting, Hosting::CloudRun);
    }
    let db = d.database.as_ref().unwrap();
    assert_eq!(
        (db.engine, db.service),
        (DatabaseEngine::Mysql, DataService::GcpCloudSql)
    );
    assert_eq!(
        d.cache.as_ref().unwrap().service,
        DataService::GcpMemorystore
    );
    let worker = d.service("worker").unwrap().scaling.as_ref().unwrap();
    assert_eq!(worker.max, 1);
    assert!(d
        .reasons
        .iter()
        .any(|r| r.about == "network.serverless_access"));
    assert!(matches!(
        env_of(&d, "worker", "RAILS_MASTER_KEY").unwrap().value,
        EnvValue::UserSecret { .. }
    ));
}

#[test]
fn phoenix_websockets_do_not_fit_serverless() {
    let d = run_text(
        "elixir_phoenix",
        "serverless on gcp with https on shop.example.co.uk",
    );
    assert_eq!(d.strategy, DeployStrategy::Container);
    let w = d
        .warnings
        .iter()
        .find(|w| w.code == "serverless_unfit")
        .unwrap();
    assert!(w.message.contains("websocket"), "{}", w.message);
    assert_eq!(d.tls.dns.as_ref().unwrap().zone, "example.co.uk");
    assert_eq!(
        env_of(&d, "shop", "PHX_SERVER").unwrap().value,
        EnvValue::Literal {
            value: "true".into()
        }
    );
    assert!(
        env_of(&d, "shop", "PORT").is_none(),
        "Cloud Run sets PORT itself"
    );
    assert_eq!(d.load_balancer.as_ref().unwrap().idle_timeout_seconds, 3600);
}

#[test]
fn streamlit_asked_serverless_falls_back_to_a_vm() {
    let d = run_text("python_streamlit", "serverless on aws");
    assert_eq!(d.strategy, DeployStrategy::Vm);
    let w = d
        .warnings
        .iter()
        .find(|w| w.code == "serverless_unfit")
        .unwrap();
    assert!(w.message.contains("chose vm"), "{}", w.message);
}

#[test]
fn a_static_site_on_kubernetes_is_served_by_nginx() {
    let d = run_text("static_html_site", "on kubernetes");
    assert_eq!(d.strategy, DeployStrategy::Kubernetes);
    let s = &d.services[0];
    assert_eq!(s.hosting, Hosting::Eks);
    assert_eq!(s.runtime.run_image.as_deref(), Some("nginx:1.27-alpine"));
    assert!(item(&d, "eks control plane").is_some());
    assert!(d.cluster.is_some());
}

#[test]
fn mongodb_on_gcp_is_external_and_said_so() {
    let d = run(
        "kotlin_spring_boot_gradle",
        &Intent {
            cloud: Some(Cloud::Gcp),
            ..Default::default()
        },
    );
    let db = d.database.as_ref().unwrap();
    assert_eq!(db.service, DataService::External);
    assert!(d.has_warning("database_external"));
    assert!(matches!(
        env_of(&d, &d.services[0].name, "MONGODB_URI")
            .unwrap()
            .value,
        EnvValue::UserSecret { .. }
    ));
    // On AWS too: no bundle writes DocumentDB yet, and a plan no bundle
    // can render was a refusal at render ("not supported yet").
    let d = run(
        "kotlin_spring_boot_gradle",
        &Intent {
            cloud: Some(Cloud::Aws),
            ..Default::default()
        },
    );
    assert_eq!(d.database.as_ref().unwrap().service, DataService::External);
    assert!(d.has_warning("database_external"));
    assert!(!d.has_warning("documentdb_compatibility"));
}

#[test]
fn request_and_code_disagreeing_on_data_services_warn() {
    let d = run_text("node_bullmq_worker", "deploy on aws with memcached");
    assert!(d.has_warning("cache_mismatch"));
    assert_eq!(d.cache.as_ref().unwrap().engine, Cache::Memcached);
    // The code has PostgreSQL's driver only: MySQL would leave it unable to
    // connect, so PostgreSQL is provisioned and the warning says why.
    let d = run_text("python_django_postgres", "deploy on aws with mysql");
    assert!(d.has_warning("database_mismatch"));
    assert_eq!(
        d.database.as_ref().unwrap().engine,
        DatabaseEngine::Postgresql
    );
    let w = d
        .warnings
        .iter()
        .find(|w| w.code == "database_mismatch")
        .unwrap();
    assert!(w.message.contains("provisioned instead"), "{}", w.message);
    // Laravel talks to any engine its settings name (PDO): the request's.
    let d = run_text("php_laravel", "deploy on aws with mysql");
    assert_eq!(d.database.as_ref().unwrap().engine, DatabaseEngine::Mysql);
}

#[test]
fn sqlite_on_several_instances_is_not_persistent() {
    let d = run(
        "python_tooling_pyproject_flask",
        &Intent {
            min_instances: Some(3),
            max_instances: Some(3),
            ..Default::default()
        },
    );
    assert_eq!(d.strategy, DeployStrategy::Container);
    assert!(d.has_warning("sqlite_not_persistent"));
    let d = run("python_tooling_pyproject_flask", &Intent::default());
    assert_eq!(d.strategy, DeployStrategy::Vm);
    assert!(!d.has_warning("sqlite_not_persistent"));
    // One VM keeps the file on its boot disk, which the next deploy with
    // new source replaces: said before anything is created.
    assert!(d.has_warning("sqlite_lost_on_redeploy"));
}

#[test]
fn a_region_of_another_cloud_is_mapped() {
    let intent = Intent {
        cloud: Some(Cloud::Aws),
        region: Some("europe-west1".into()),
        ..Default::default()
    };
    let d = run("go_gin", &intent);
    assert_eq!(d.region, "eu-west-1");
    assert!(d.has_warning("region_cloud_mismatch"));
    assert_eq!(d.cost.region_multiplier, 1.10);
}

#[test]
fn impossible_requests_are_errors() {
    let a = fixture("go_gin");
    let bad = Intent {
        min_instances: Some(5),
        max_instances: Some(2),
        ..Default::default()
    };
    assert_eq!(
        decide(&a, &bad, &DecideOptions::default()),
        Err(DecideError::MinAboveMax { min: 5, max: 2 })
    );
    let bad = Intent {
        budget_usd_month: Some(-3.0),
        ..Default::default()
    };
    assert!(matches!(
        decide(&a, &bad, &DecideOptions::default()),
        Err(DecideError::InvalidBudget { .. })
    ));
}

#[test]
fn every_fixture_gets_a_decision_on_every_cloud() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut decided = 0;
    for name in &names {
        let root = dir.join(name);
        let source = SourceInfo {
            input: name.clone(),
            kind: SourceKind::Path,
            commit: None,
        };
        // Fixtures the analyzer rejects (empty repositories, hostile ones) are not this crate's concern.
        let Ok(a) = analyze_dir(&root, source, &AnalyzeOptions::default()) else {
            continue;
        };
        for cloud in [Cloud::Aws, Cloud::Gcp, Cloud::Azure, Cloud::Local] {
            for env in [Environment::Production, Environment::Development] {
                let intent = Intent {
                    cloud: Some(cloud),
                    environment: Some(env),
                    ..Default::default()
                };
                let d = decide(&a, &intent, &DecideOptions::default())
                    .unwrap_or_else(|e| panic!("{name} on {cloud:?}: {e}"));
                invariants(&format!("{name}/{cloud:?}/{env:?}"), &d);
                decided += 1;
            }
        }
    }
    assert!(decided >= 40 * 8, "only {decided} decisions");
}

#[test]
fn a_front_end_beside_ecs_is_the_way_in_and_forwards_the_api_path() {
    let d = run_text(
        "mono_frontend_backend",
        "deploy it on AWS ECS, https on app.example.com",
    );
    let frontend = d.service("frontend").unwrap();
    let backend = d.service("backend").unwrap();
    assert_eq!(
        (backend.hosting, frontend.hosting),
        (Hosting::EcsFargate, Hosting::S3Cloudfront)
    );
    let route = frontend.api_route.as_ref().unwrap();
    assert_eq!(
        (route.service.as_str(), route.path_prefix.as_str()),
        ("backend", "/_api")
    );
    assert_eq!(d.site_front().map(|s| s.name.as_str()), Some("frontend"));
    // The certificate is CloudFront's (us-east-1); the ALB stays on http.
    let cert = d.tls.certificate.as_ref().unwrap();
    assert_eq!(cert.provider, CertificateProvider::Acm);
    assert_eq!(d.tls.dns.as_ref().unwrap().record_type, "alias");
    let lb = d.load_balancer.as_ref().unwrap();
    assert_eq!(
        (lb.kind, lb.listeners.as_slice(), lb.targets.as_slice()),
        (
            LoadBalancerKind::AwsAlb,
            &[80u16][..],
            &["backend".to_string()][..]
        )
    );
    assert!(!d.has_warning("mixed_content"));
    assert!(d
        .reasons_about("service.frontend.api_route")
        .next()
        .is_some());
    // Its hard-coded call to the API on the developer's machine calls the
    // forwarded path in the deployment's copy.
    let fix = frontend
        .source_fixes
        .iter()
        .find(|f| f.file == "frontend/src/App.jsx")
        .unwrap_or_else(|| panic!("{:?}", frontend.source_fixes));
    assert_eq!(
        (fix.find.as_str(), fix.replace.as_str()),
        ("http://localhost:8000", "/_api")
    );
    // Without a domain: CloudFront's own https address.
    let d = run_text("mono_frontend_backend", "deploy it on AWS ECS");
    assert_eq!(
        d.tls.certificate.as_ref().unwrap().provider,
        CertificateProvider::PlatformDefault
    );
    assert!(!d.has_warning("mixed_content"));
    // On a VM the site calls the API's own address (not routed yet).
    let d = run_text("mono_frontend_backend", "deploy it on AWS EC2");
    assert!(d.services.iter().all(|s| s.api_route.is_none()));
}

#[test]
fn the_projects_own_dockerfile_settings_and_its_https_redirect() {
    let f = "python_django_dockerfile_env";
    let d = run_text(f, "deploy it on AWS ECS");
    let app = &d.services[0].name;
    let lit = |d: &Decision, n: &str| match env_of(d, app, n).map(|b| b.value.clone()) {
        Some(EnvValue::Literal { value }) => Some(value),
        other => panic!("{n}: {other:?}"),
    };
    // What the project's production image runs with, though the bundle may
    // build its own image: its settings module, its own debug spelling.
    assert_eq!(
        lit(&d, "DJANGO_SETTINGS_MODULE").as_deref(),
        Some("shop.settings.production")
    );
    assert_eq!(lit(&d, "DJANGO_DEBUG").as_deref(), Some("off"));
    // A path inside the project's image is not carried over.
    assert!(env_of(&d, app, "STATIC_ROOT").is_none());
    // Plain http: the app's own redirect to https is turned off.
    assert_eq!(lit(&d, "SECURE_SSL_REDIRECT").as_deref(), Some("False"));
    // …and its https-only session cookie, which a browser would drop.
    assert_eq!(lit(&d, "SESSION_COOKIE_SECURE").as_deref(), Some("False"));
    // https on a domain: the redirect is the app's to make.
    let d = run_text(f, "deploy it on AWS ECS, https on shop.example.com");
    assert!(env_of(&d, app, "SECURE_SSL_REDIRECT").is_none());
    assert!(env_of(&d, app, "SESSION_COOKIE_SECURE").is_none());
    // Locally (development), the project's development settings stay.
    let d = run_text(f, "run it locally");
    assert!(env_of(&d, app, "DJANGO_SETTINGS_MODULE").is_none());
}

/// express-sequelize-example: the code keeps its data in SQLite, reads no
/// connection setting and has no driver for the database the request asks
/// for. Nothing would ever use it, so the plan is refused before anything
/// is paid for, saying what to do; without the database it plans. Code
/// that reads a connection setting gets the database and a warning (its
/// driver may come from where the analysis does not look). (Django's
/// settings are pointed at it instead: `wiring.rs`.)
#[test]
fn a_database_the_code_cannot_use_is_refused() {
    let e = decide(
        &fixture("node_express_sqlite_data_dir"),
        &autodeploy_parse::parse("deploy on AWS ECS with postgres"),
        &DecideOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(e, DecideError::DatabaseUnusable { .. }), "{e}");
    let text = e.to_string();
    for says in [
        "PostgreSQL",
        "SQLite",
        "leave the database out",
        "DATABASE_URL",
    ] {
        assert!(text.contains(says), "{says}: {text}");
    }
    let d = run_text("node_express_sqlite_data_dir", "deploy on AWS ECS");
    assert!(d.database.is_none());
    let d = run_text(
        "python_tooling_pyproject_flask",
        "deploy on AWS ECS with postgres",
    );
    assert!(d.database.is_some());
    assert!(d.has_warning("database_replaces_sqlite"));
}
