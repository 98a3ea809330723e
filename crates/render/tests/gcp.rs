//! GCP bundles (hashicorp/google ~> 6.0) on real fixtures through the real
//! analyze → parse → decide stages. The google provider is not mirrored
//! here, so each bundle is checked with `terraform fmt -check` and by parsing
//! every `.tf` file as HCL (hcl-rs), not with `terraform validate`. What is
//! not written yet must fail loudly as `unsupported`. Every bundle is also
//! checked for what must never be in it: secret values, SSH open to the
//! internet, providers other than google.

mod support;

use autodeploy_render::{render, Bundle, RenderError, RenderOptions};

fn try_bundle(fixture: &str, request: &str) -> Result<Bundle, RenderError> {
    let (analysis, decision) = support::scenario(fixture, request);
    assert_eq!(
        decision.cloud,
        autodeploy_core::Cloud::Gcp,
        "{fixture} / {request}"
    );
    render(&decision, &analysis, &RenderOptions::default())
}

fn bundle(fixture: &str, request: &str) -> Bundle {
    let b = try_bundle(fixture, request).unwrap_or_else(|e| panic!("{fixture} / {request}: {e}"));
    dump(fixture, request, &b);
    b
}

/// With AUTODEPLOY_DUMP=<dir>, write the bundle there to look at.
fn dump(fixture: &str, request: &str, b: &Bundle) {
    if let Ok(dir) = std::env::var("AUTODEPLOY_DUMP") {
        let slug: String = request
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        b.write_to(&std::path::Path::new(&dir).join(format!("{fixture}-{slug}")))
            .unwrap();
    }
}

/// fmt -check, every .tf parses as HCL, google is the only provider.
fn check(b: &Bundle) {
    let (_guard, tf) = support::write_bundle(b);
    support::assert_fmt(&tf);
    let mut providers = Vec::new();
    for f in b.files.iter().filter(|f| f.path.ends_with(".tf")) {
        let body: hcl::Body = hcl::from_str(&f.contents)
            .unwrap_or_else(|e| panic!("{} does not parse as HCL: {e}\n{}", f.path, f.contents));
        for block in body.blocks().filter(|b| b.identifier() == "terraform") {
            for rp in block
                .body()
                .blocks()
                .filter(|b| b.identifier() == "required_providers")
            {
                for attr in rp.body().attributes() {
                    providers.push(attr.key().to_string());
                }
            }
        }
        assert!(
            !f.contents.contains("provider \"aws\""),
            "{}: AWS in a GCP bundle",
            f.path
        );
    }
    assert_eq!(providers, vec!["google".to_string()]);
    never_in_a_bundle(b);
    support::schema::check(b, "google");
}

/// Things no GCP bundle may contain, whatever the scenario.
fn never_in_a_bundle(b: &Bundle) {
    for f in &b.files {
        let c = &f.contents;
        // No secret value: Secret Manager versions, plain passwords, random providers.
        for bad in ["9f3c7a1e5b2d48c6a0e4f7b1d3c5e8a2", "changeme"] {
            assert!(!c.contains(bad), "{}: contains {bad:?}", f.path);
        }
        if !f.path.ends_with(".tf") {
            continue;
        }
        for bad in [
            "secret_data",
            "google_secret_manager_secret_version",
            "random_password",
            "\"random\"",
            "password    =",
            "password =",
            "auth_string",
        ] {
            assert!(!c.contains(bad), "{}: contains {bad:?}", f.path);
        }
    }
    // SSH only from IAP.
    for f in b.files.iter().filter(|f| f.path.ends_with(".tf")) {
        let body: hcl::Body = hcl::from_str(&f.contents).unwrap();
        for block in body.blocks().filter(|b| {
            b.identifier() == "resource"
                && b.labels().first().map(|l| l.as_str()) == Some("google_compute_firewall")
        }) {
            let text = hcl::to_string(block).unwrap();
            if text.contains("\"22\"") {
                assert!(text.contains("35.235.240.0/20"), "{text}");
                assert!(!text.contains("0.0.0.0/0"), "{text}");
            }
        }
    }
}

fn tf<'a>(b: &'a Bundle, path: &str) -> &'a str {
    &b.get(path)
        .unwrap_or_else(|| panic!("{path} missing; files: {:?}", b.paths()))
        .contents
}

fn hosting(fixture: &str, request: &str) -> autodeploy_core::Hosting {
    support::scenario(fixture, request).1.services[0].hosting
}

#[test]
fn cloud_run_two_to_five_instances() {
    let b = bundle(
        "node_express_basic",
        "deploy on gcp cloud run, 2 to 5 instances",
    );
    check(&b);
    let svc = &b.get("terraform/cloud_run_service.tf").unwrap().contents;
    assert!(svc.contains("min_instance_count = 2"), "{svc}");
    assert!(svc.contains("max_instance_count = 5"), "{svc}");
    assert!(svc.contains("member   = \"allUsers\""), "{svc}");
    insta::assert_snapshot!("gcp_cloud_run_service_tf", svc);
}

/// A web service with an rq worker on Cloud Run: the worker is a worker
/// pool running the web service's image with its own start command, its
/// own identity and the same network; no listener, no public access.
#[test]
fn cloud_run_runs_workers_as_worker_pools() {
    let b = bundle(
        "python_flask_rq_procfile",
        "deploy on Google Cloud Run with postgres and redis",
    );
    check(&b);
    let svc = tf(&b, "terraform/cloud_run_service.tf");
    let pool = svc
        .split("resource \"google_cloud_run_v2_worker_pool\" \"worker\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no worker pool:\n{svc}"));
    assert!(pool.contains("image   = local.image"), "{pool}");
    assert!(
        pool.contains("args    = [\"-c\", \"exec rq worker app-tasks\\n\"]"),
        "{pool}"
    );
    assert!(pool.contains("service_account = google_service_account.worker.email"));
    assert!(pool.contains("manual_instance_count = 1"), "{pool}");
    assert!(pool.contains("RQ_REDIS_URL"), "{pool}");
    assert!(pool.contains("subnetwork = google_compute_subnetwork.app.id"));
    assert!(!pool.contains("container_port"), "{pool}");
    assert!(!svc.contains("google_cloud_run_v2_worker_pool_iam_member"));
    assert!(tf(&b, "terraform/outputs.tf").contains("output \"worker_pools\""));
}

#[test]
fn cloud_run_on_google_cloud() {
    let b = bundle("node_express_basic", "deploy on Google Cloud Run");
    check(&b);
    let vars = &b.get("terraform/variables.tf").unwrap().contents;
    assert!(vars.contains("default     = \"us-central1\""), "{vars}");
}

#[test]
fn hostile_names_stay_inert() {
    match try_bundle("hostile_names", "deploy on Google Cloud Run") {
        Ok(b) => {
            check(&b);
            for f in b.files.iter().filter(|f| f.path.ends_with(".tf")) {
                // Interpolations only from the templates themselves.
                for line in f.contents.lines() {
                    if line.contains("${") {
                        assert!(
                            line.contains("${local.")
                                || line.contains("${var.")
                                || line.contains("${google_")
                                || line.contains("$${"),
                            "{}: unexpected interpolation: {line}",
                            f.path
                        );
                    }
                    assert!(!line.contains("%{") || line.contains("%%{"), "{line}");
                }
            }
        }
        Err(e) => assert!(
            // Unsupported is fine; anything else is a bug.
            matches!(e, RenderError::Unsupported { .. }),
            "hostile_names: {e}"
        ),
    }
}

#[test]
fn what_is_not_written_yet_is_unsupported() {
    let e = try_bundle(
        "python_flask_celery_redis",
        "deploy on GCP compute engine with memcached",
    )
    .expect_err("Memcached is not rendered on GCP");
    assert!(matches!(e, RenderError::Unsupported { .. }), "{e}");
}

/// Secrets (Secret Manager slot + `secret_key_ref`) and input variables, on a
/// real decision with two env bindings added.
#[test]
fn cloud_run_secrets_and_inputs() {
    use autodeploy_core::{EnvBinding, EnvValue};
    let (analysis, mut decision) =
        support::scenario("node_express_basic", "deploy on gcp cloud run");
    let svc = &mut decision.services[0];
    svc.env.push(EnvBinding {
        name: "SESSION_SECRET".into(),
        value: EnvValue::GeneratedSecret {
            secret: "session-secret".into(),
        },
        secret: true,
        reason: "test".into(),
    });
    svc.env.push(EnvBinding {
        name: "API_BASE".into(),
        value: EnvValue::Input {
            variable: "api_base".into(),
        },
        secret: false,
        reason: "test".into(),
    });
    let b = render(&decision, &analysis, &RenderOptions::default()).unwrap();
    check(&b);
    let svc = &b.get("terraform/cloud_run_service.tf").unwrap().contents;
    assert!(svc.contains("secret_key_ref {"), "{svc}");
    assert!(
        svc.contains("secret  = google_secret_manager_secret.session_secret.secret_id"),
        "{svc}"
    );
    assert!(svc.contains("value = var.api_base"), "{svc}");
    assert!(svc.contains("roles/secretmanager.secretAccessor"), "{svc}");
    let secrets = &b.get("terraform/secrets.tf").unwrap().contents;
    assert!(!secrets.contains("secret_data"), "{secrets}");
    let vars = &b.get("terraform/variables.tf").unwrap().contents;
    assert!(vars.contains("variable \"api_base\""), "{vars}");
}

// ---- Compute Engine: one VM ----

#[test]
fn compute_engine_vm_hello_world() {
    let req = "deploy on GCP";
    assert_eq!(
        hosting("hello_world_shape", req),
        autodeploy_core::Hosting::ComputeEngine
    );
    let b = bundle("hello_world_shape", req);
    check(&b);
    let c = tf(&b, "terraform/compute.tf");
    for want in [
        "resource \"google_compute_instance\" \"app\"",
        "resource \"google_compute_address\" \"app\"",
        "enable_secure_boot          = true",
        "enable-oslogin         = \"TRUE\"",
        "block-project-ssh-keys = \"TRUE\"",
        "file(\"${path.module}/../cloud-init.yaml\")",
        "roles/logging.logWriter",
    ] {
        assert!(c.contains(want), "{want}\n{c}");
    }
    assert!(
        !c.contains("roles/editor") && !c.contains("roles/owner"),
        "{c}"
    );
    let n = tf(&b, "terraform/network.tf");
    assert!(n.contains("35.235.240.0/20"), "{n}");
    assert!(n.contains("ports    = [\"80\"]"), "{n}");
    assert!(!n.contains("google_service_networking_connection"), "{n}");
    let ci = tf(&b, "cloud-init.yaml");
    assert!(ci.starts_with("#cloud-config"), "{ci}");
    assert!(ci.contains("metadata.google.internal"), "{ci}");
    assert!(ci.contains("checkout --detach '0123456789abcdef"), "{ci}");
    assert!(ci.contains("/etc/nginx/conf.d/autodeploy.conf"), "{ci}");
    // cloud-init is YAML, and app.json inside it is JSON with the start command.
    let v: serde_json::Value = serde_yaml_like(ci);
    assert!(v["start"].as_str().unwrap().contains("gunicorn"), "{v}");
    insta::assert_snapshot!("gcp_compute_engine_tf", c);
}

/// Parse cloud-init's app.json (a double-quoted YAML scalar = a JSON string).
fn serde_yaml_like(ci: &str) -> serde_json::Value {
    let line = ci
        .lines()
        .find(|l| l.trim_start().starts_with("content: \"{"))
        .expect("app.json line");
    let quoted = line.trim_start().trim_start_matches("content: ");
    let json: String = serde_json::from_str(quoted).expect("a JSON string");
    serde_json::from_str(&json).expect("app.json is JSON")
}

#[test]
fn compute_engine_vm_with_database_and_cache() {
    let req = "deploy on GCP compute engine with postgres and redis";
    let (_, d) = support::scenario("python_django_postgres", req);
    assert_eq!(
        d.services[0].hosting,
        autodeploy_core::Hosting::ComputeEngine
    );
    assert!(d.database.is_some() && d.cache.is_some());
    let b = bundle("python_django_postgres", req);
    check(&b);
    let db = tf(&b, "terraform/database.tf");
    for want in [
        "ipv4_enabled                                  = false",
        "private_network                               = google_compute_network.main.id",
        "password_wo         = var.database_password",
        "database_version    = \"POSTGRES_17\"",
        "depends_on = [google_service_networking_connection.private_services]",
    ] {
        assert!(db.contains(want), "{want}\n{db}");
    }
    let cache = tf(&b, "terraform/cache.tf");
    assert!(cache.contains("auth_enabled            = true"), "{cache}");
    assert!(
        cache.contains("connect_mode            = \"PRIVATE_SERVICE_ACCESS\""),
        "{cache}"
    );
    let vars = tf(&b, "terraform/variables.tf");
    assert!(vars.contains("ephemeral   = true"), "{vars}");
    let c = tf(&b, "terraform/compute.tf");
    for want in [
        "\"autodeploy-database-host\"",
        "\"autodeploy-cache-host\"",
        "google_secret_manager_secret_iam_member\" \"vm_database_credentials\"",
        "google_secret_manager_secret_iam_member\" \"vm_cache_auth_token\"",
    ] {
        assert!(c.contains(want), "{want}\n{c}");
    }
    let secrets = tf(&b, "terraform/secrets.tf");
    assert!(secrets.contains("\"cache_auth_token\""), "{secrets}");
    let app = serde_yaml_like(tf(&b, "cloud-init.yaml"));
    let env = app["env"].as_array().unwrap();
    assert!(
        env.iter().any(|e| e["name"] == "POSTGRES_PASSWORD"
            && e["from"] == "database"
            && e["value"] == "password"),
        "{env:?}"
    );
    assert!(
        env.iter()
            .any(|e| e["name"] == "REDIS_URL" && e["from"] == "cache" && e["value"] == "url"),
        "{env:?}"
    );
    let n = tf(&b, "terraform/network.tf");
    assert!(n.contains("google_service_networking_connection"), "{n}");
}

#[test]
fn compute_engine_vm_https_on_a_domain() {
    let req = "deploy on GCP compute engine with https on app.example.com";
    let b = bundle("node_express_basic", req);
    check(&b);
    let n = tf(&b, "terraform/network.tf");
    assert!(n.contains("ports    = [\"80\", \"443\"]"), "{n}");
    let dns = tf(&b, "terraform/dns.tf");
    assert!(
        dns.contains("rrdatas      = [google_compute_address.app.address]"),
        "{dns}"
    );
    assert!(dns.contains("managed_zone = var.dns_zone_name"), "{dns}");
    let ci = tf(&b, "cloud-init.yaml");
    assert!(ci.contains("python3-certbot-nginx"), "{ci}");
    assert!(ci.contains("launch.py, certificate]"), "{ci}");
    let out = tf(&b, "terraform/outputs.tf");
    assert!(out.contains("https://app.example.com"), "{out}");
}

// ---- Compute Engine: managed instance group + load balancer ----

const MIG: &str = "deploy on GCP compute engine, 2 to 4 instances";

#[test]
fn managed_instance_group_behind_a_load_balancer() {
    assert_eq!(
        hosting("node_express_basic", MIG),
        autodeploy_core::Hosting::ComputeEngineMig
    );
    let b = bundle("node_express_basic", MIG);
    check(&b);
    let c = tf(&b, "terraform/compute.tf");
    for want in [
        "resource \"google_compute_instance_template\" \"app\"",
        "resource \"google_compute_region_instance_group_manager\" \"app\"",
        "resource \"google_compute_region_autoscaler\" \"app\"",
        "auto_healing_policies {",
        "min_replicas    = var.min_replicas",
    ] {
        assert!(c.contains(want), "{want}\n{c}");
    }
    assert!(
        !c.contains("access_config"),
        "group members have no public IP\n{c}"
    );
    let vars = tf(&b, "terraform/variables.tf");
    assert!(vars.contains("variable \"max_replicas\""), "{vars}");
    assert!(vars.contains("default     = 4"), "{vars}");
    let lb = tf(&b, "terraform/lb.tf");
    assert!(
        lb.contains("load_balancing_scheme = \"EXTERNAL_MANAGED\""),
        "{lb}"
    );
    assert!(!lb.contains("google_compute_target_https_proxy"), "{lb}");
    let n = tf(&b, "terraform/network.tf");
    assert!(n.contains("130.211.0.0/22"), "{n}");
    assert!(n.contains("google_compute_router_nat"), "{n}");
    assert!(!n.contains("\"0.0.0.0/0\""), "{n}");
    let ci = tf(&b, "cloud-init.yaml");
    assert!(
        !ci.contains("/etc/nginx/conf.d"),
        "no nginx in group members\n{ci}"
    );
    insta::assert_snapshot!("gcp_mig_lb_tf", lb);
    insta::assert_snapshot!("gcp_mig_compute_tf", c);
}

#[test]
fn managed_instance_group_https_with_database() {
    let req =
        "deploy on GCP compute engine, 2 to 4 instances, with postgres, https on app.example.com";
    let b = bundle("node_express_pg_redis_env", req);
    check(&b);
    let lb = tf(&b, "terraform/lb.tf");
    assert!(lb.contains("google_compute_target_https_proxy"), "{lb}");
    assert!(lb.contains("https_redirect         = true"), "{lb}");
    let dns = tf(&b, "terraform/dns.tf");
    assert!(
        dns.contains("google_compute_managed_ssl_certificate"),
        "{dns}"
    );
    assert!(
        dns.contains("google_compute_global_address.lb.address"),
        "{dns}"
    );
    assert!(b.get("terraform/database.tf").is_some());
    let c = tf(&b, "terraform/compute.tf");
    assert!(c.contains("\"autodeploy-database-secret\""), "{c}");
    assert!(
        c.lines()
            .any(|l| l.contains("\"autodeploy-input-smtp-host\"") && l.ends_with("= var.smtp_host")),
        "{c}"
    );
}

// ---- GKE ----

#[test]
fn gke_cluster_with_node_pool() {
    let b = bundle("node_express_basic", "deploy on GKE");
    check(&b);
    let g = tf(&b, "terraform/gke.tf");
    for want in [
        "resource \"google_container_cluster\" \"main\"",
        "remove_default_node_pool = true",
        "enable_private_nodes    = true",
        "mode = \"GKE_METADATA\"",
        "roles/artifactregistry.reader",
    ] {
        assert!(g.contains(want), "{want}\n{g}");
    }
    let build = tf(&b, "terraform/gke_build.tf");
    assert!(build.contains("gcloud builds submit"), "{build}");
    assert!(b.get("k8s/namespace.yaml").is_some(), "{:?}", b.paths());
    let ingress = b
        .files
        .iter()
        .find(|f| f.path.ends_with("ingress.yaml"))
        .expect("an ingress");
    assert!(
        ingress.contents.contains("ingressClassName: \"gce\""),
        "{}",
        ingress.contents
    );
    let n = tf(&b, "terraform/network.tf");
    assert!(n.contains("range_name    = \"pods\""), "{n}");
    insta::assert_snapshot!("gcp_gke_tf", g);
}

#[test]
fn gke_with_database_cache_and_domain() {
    let req = "deploy on GKE with postgres and redis, https on app.example.com";
    let b = bundle("node_express_pg_redis_env", req);
    check(&b);
    assert!(b.get("terraform/database.tf").is_some());
    assert!(b.get("terraform/cache.tf").is_some());
    let out = tf(&b, "terraform/outputs.tf");
    assert!(
        out.contains("ingress.gcp.kubernetes.io/pre-shared-cert"),
        "{out}"
    );
    let dns = tf(&b, "terraform/dns.tf");
    assert!(
        dns.contains("google_compute_global_address.ingress.address"),
        "{dns}"
    );
}

#[test]
fn gke_with_two_services_is_fmt_clean() {
    // A web app and its worker: two entries of different lengths in the
    // `images` and `build_commands` maps, whose `=` terraform fmt aligns.
    let b = bundle("python_flask_celery_redis", "deploy on GKE with redis");
    let build = tf(&b, "terraform/gke_build.tf");
    let keys = build
        .lines()
        .filter(|l| l.trim_start().starts_with('"') && l.contains(" = "))
        .count();
    assert!(keys >= 4, "two services in both maps:\n{build}");
    check(&b);
}

// ---- Cloud Run with data stores and domains ----

#[test]
fn cloud_run_django_with_postgres_and_redis() {
    let req = "Django on Google Cloud Run with Postgres and redis";
    let b = bundle("python_django_postgres", req);
    check(&b);
    let svc = tf(&b, "terraform/cloud_run_service.tf");
    for want in [
        "egress = \"PRIVATE_RANGES_ONLY\"",
        "value = google_sql_database_instance.db.private_ip_address",
        "secret  = google_secret_manager_secret.database_credentials.secret_id",
        "secret  = google_secret_manager_secret.cache_url.secret_id",
        "data.google_project.this.number",
    ] {
        assert!(svc.contains(want), "{want}\n{svc}");
    }
    let secrets = tf(&b, "terraform/secrets.tf");
    assert!(secrets.contains("filled-by = \"deploy\""), "{secrets}");
    insta::assert_snapshot!("gcp_cloud_run_data_service_tf", svc);
    // Migrations run once per deploy as a Cloud Run job with the service's
    // settings, never in the service's start.
    let job = svc
        .split("resource \"google_cloud_run_v2_job\" \"python_django_postgres_release\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no release job:\n{svc}"));
    assert!(job.contains("manage.py migrate"), "{job}");
    assert!(job.contains("secret  = google_secret_manager_secret.database_credentials.secret_id"));
    assert!(job.contains("egress = \"PRIVATE_RANGES_ONLY\""));
    let service = svc
        .split("resource \"google_cloud_run_v2_job\"")
        .next()
        .unwrap();
    assert!(!service.contains("migrate"), "{service}");
    let out = tf(&b, "terraform/outputs.tf");
    assert!(out.contains("output \"release_job\""), "{out}");
    assert!(out.contains("gcloud run jobs execute"), "{out}");
    let plan = &b.get("PLAN.md").unwrap().contents;
    assert!(
        plan.contains("as a Cloud Run job of the new image"),
        "{plan}"
    );
}

#[test]
fn cloud_run_database_url_is_a_deploy_slot() {
    let b = bundle("node_express_pg_redis_env", "deploy on Google Cloud Run");
    check(&b);
    let svc = tf(&b, "terraform/cloud_run_service.tf");
    assert!(
        svc.contains("secret  = google_secret_manager_secret.database_url.secret_id"),
        "{svc}"
    );
    let out = tf(&b, "terraform/outputs.tf");
    assert!(out.contains("-target=google_sql_user.app"), "{out}");
}

#[test]
fn cloud_run_on_a_domain() {
    let b = bundle(
        "node_express_basic",
        "deploy on Google Cloud Run, https on app.example.com",
    );
    check(&b);
    let dns = tf(&b, "terraform/dns.tf");
    assert!(
        dns.contains("resource \"google_cloud_run_domain_mapping\""),
        "{dns}"
    );
    assert!(
        dns.contains("rrdatas      = [\"ghs.googlehosted.com.\"]"),
        "{dns}"
    );
}

/// Hostile repository values on a VM: cloud-init and Terraform stay inert.
#[test]
fn hostile_names_on_a_vm() {
    match try_bundle("hostile_names", "deploy on GCP compute engine") {
        Ok(b) => {
            dump("hostile_names", "deploy on GCP compute engine", &b);
            check(&b);
            for f in b.files.iter().filter(|f| f.path.ends_with(".tf")) {
                for line in f.contents.lines() {
                    assert!(!line.contains("%{") || line.contains("%%{"), "{line}");
                }
            }
        }
        Err(e) => {
            eprintln!("hostile_names on a VM: {e}");
            assert!(matches!(e, RenderError::Unsupported { .. }), "{e}")
        }
    }
}

// ---- Static sites, MySQL ----

#[test]
fn static_site_on_cloud_storage_and_cdn() {
    let b = bundle("static_html_site", "deploy on GCP");
    check(&b);
    let site = tf(&b, "terraform/site.tf");
    assert!(
        site.contains("uniform_bucket_level_access = true"),
        "{site}"
    );
    let lb = tf(&b, "terraform/lb.tf");
    assert!(lb.contains("enable_cdn  = true"), "{lb}");
    assert!(!lb.contains("google_compute_backend_service"), "{lb}");
    let out = tf(&b, "terraform/outputs.tf");
    assert!(out.contains("gcloud storage rsync"), "{out}");
    insta::assert_snapshot!("gcp_static_site_tf", site);
}

#[test]
fn static_spa_with_https_on_a_domain() {
    let b = bundle(
        "node_react_vite",
        "deploy on GCP as a static site, https on www.example.com",
    );
    check(&b);
    let lb = tf(&b, "terraform/lb.tf");
    assert!(lb.contains("google_compute_target_https_proxy"), "{lb}");
    let dns = tf(&b, "terraform/dns.tf");
    assert!(dns.contains("\"www.example.com.\""), "{dns}");
}

#[test]
fn mysql_on_cloud_sql_for_a_vm() {
    let req = "deploy on GCP compute engine with mysql, staging";
    let (_, d) = support::scenario("php_laravel", req);
    assert_eq!(
        d.database.as_ref().map(|db| db.engine),
        Some(autodeploy_core::DatabaseEngine::Mysql),
        "{:?}",
        d.database
    );
    let b = bundle("php_laravel", req);
    check(&b);
    let db = tf(&b, "terraform/database.tf");
    assert!(db.contains("database_version    = \"MYSQL_8_4\""), "{db}");
    assert!(db.contains("binary_log_enabled"), "{db}");
    assert!(!db.contains("deletion_policy"), "{db}");
}

/// A cache with TLS in transit: the launcher gets the server CA and builds a
/// `rediss://` URL; Memorystore is asked for SERVER_AUTHENTICATION.
#[test]
fn memorystore_with_transit_encryption_on_a_vm() {
    let req = "deploy on GCP compute engine with postgres and redis";
    let (analysis, mut decision) = support::scenario("python_django_postgres", req);
    decision.cache.as_mut().expect("a cache").transit_encryption = true;
    let b = render(&decision, &analysis, &RenderOptions::default()).unwrap();
    check(&b);
    let cache = tf(&b, "terraform/cache.tf");
    assert!(
        cache.contains("transit_encryption_mode = \"SERVER_AUTHENTICATION\""),
        "{cache}"
    );
    let c = tf(&b, "terraform/compute.tf");
    assert!(
        c.contains("google_redis_instance.cache.server_ca_certs[0].cert"),
        "{c}"
    );
    let app = serde_yaml_like(tf(&b, "cloud-init.yaml"));
    assert_eq!(app["cache"]["tls"], true, "{app}");
}

/// A client that reaches Redis by host and port and reads no password
/// (arq's `RedisSettings(host=…, port=…)`) would be refused by a
/// Memorystore with AUTH: the instance has AUTH and TLS off, no AUTH slot
/// is made or granted, and the launcher asks for no token.
#[test]
fn memorystore_without_auth_for_a_client_that_sends_no_password() {
    let req = "deploy on GCP compute engine with redis";
    let (_, d) = support::scenario("wiring_redis_several", req);
    let c = d.cache.as_ref().expect("a cache");
    assert!(c.auth.is_none() && !c.transit_encryption, "{c:?}");
    assert!(d.warnings.iter().any(|w| w.code == "cache_without_auth"));
    let b = bundle("wiring_redis_several", req);
    check(&b);
    let cache = tf(&b, "terraform/cache.tf");
    assert!(cache.contains("auth_enabled            = false"), "{cache}");
    assert!(
        cache.contains("transit_encryption_mode = \"DISABLED\""),
        "{cache}"
    );
    let compute = tf(&b, "terraform/compute.tf");
    assert!(!compute.contains("cache_auth_token"), "{compute}");
    assert!(!compute.contains("autodeploy-cache-secret"), "{compute}");
    assert!(
        b.get("terraform/secrets.tf")
            .is_none_or(|f| !f.contents.contains("cache_auth_token")),
        "no AUTH slot"
    );
    let app = serde_yaml_like(tf(&b, "cloud-init.yaml"));
    assert_eq!(app["cache"]["auth"], false, "{app}");
    // On Cloud Run too: no slot for an AUTH string that does not exist.
    let b = bundle(
        "wiring_redis_several",
        "deploy on Google Cloud Run with redis",
    );
    check(&b);
    assert!(tf(&b, "terraform/cache.tf").contains("auth_enabled            = false"));
    assert!(!tf(&b, "terraform/secrets.tf").contains("cache_auth_token"));
}

/// The launcher cloud-init writes is valid Python (compiled by the real python3).
#[test]
fn launcher_is_valid_python() {
    let py = autodeploy_render::render_template("gcp/vm/launch.py", serde_json::json!({}))
        .expect("renders");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("launch.py");
    std::fs::write(&path, &py).unwrap();
    let out = std::process::Command::new("python3")
        .args(["-m", "py_compile"])
        .arg(&path)
        .output()
        .expect("python3 is on PATH");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // No repository text can be in it: it renders without any context.
    assert!(py.contains("metadata.google.internal"));
}

#[test]
fn source_fixes_are_listed_as_changes_to_make_when_the_operator_builds_the_image() {
    // Cloud Run builds from the repository (gcloud builds submit): the fixes
    // the app needs (bind 0.0.0.0, a relative API URL) are the operator's to
    // make, and PLAN.md says so instead of claiming a copy was fixed.
    let b = bundle("hello_world_shape", "deploy this Flask app on Cloud Run");
    let plan = &b.get("PLAN.md").unwrap().contents;
    assert!(
        plan.contains("### Source changes to make before you build the image"),
        "{plan}"
    );
    assert!(
        plan.contains("` app/app.py ` line 19: ` \"127.0.0.1\" ` → ` \"0.0.0.0\" `\n- "),
        "{plan}"
    );
    assert!(
        !plan.contains("Source fixes applied to autodeploy's copy"),
        "{plan}"
    );
}

/// A change of several lines the operator must make (alembic's `env.py`
/// reading DATABASE_URL) is shown as those lines in a code block, not run
/// together on one line (which pasted is a SyntaxError); the warnings say
/// that "the deployment's copy" means the operator's repository here.
#[test]
fn a_change_of_several_lines_is_shown_as_lines_to_paste() {
    let (analysis, mut decision) =
        support::scenario("hello_world_shape", "deploy this Flask app on Cloud Run");
    decision.services[0].source_fixes = vec![autodeploy_core::SourceFix {
        file: "migrations/env.py".into(),
        line: 16,
        find: "config = context.config".into(),
        replace: "config = context.config\nconfig.set_main_option(\"sqlalchemy.url\", url)".into(),
    }];
    decision.warnings.push(autodeploy_core::Warning {
        code: "hardcoded_connection_url".into(),
        service: None,
        message: "the deployment's copy of migrations/env.py sets it".into(),
    });
    let b = autodeploy_render::render(&decision, &analysis, &Default::default()).unwrap();
    let plan = &b.get("PLAN.md").unwrap().contents;
    assert!(
        plan.contains("line 16: replace ` config = context.config ` with these lines:\n\n  ```\n  config = context.config\n  config.set_main_option(\"sqlalchemy.url\", url)\n  ```\n"),
        "{plan}"
    );
    assert!(plan.contains("needs that change made\nthere"), "{plan}");
}

/// The launcher's GCP lookups answered locally: metadata is `meta:<key>`, a
/// secret `secret-of-<metadata key>`.
const GCP_STUBS: &str = r#"
m.metadata = lambda path: "meta:" + path.rsplit("/", 1)[1]
m.secret = lambda key: "secret-of-" + key
"#;

/// A Procfile's web + rq worker on one Compute Engine VM: one unit per
/// process, each with its own command and settings, after one setup.
#[test]
fn compute_engine_runs_the_web_service_and_its_worker() {
    let b = bundle(
        "python_flask_rq_procfile",
        "deploy on GCP compute engine with postgres and redis",
    );
    check(&b);
    never_in_a_bundle(&b);
    let m = support::vm_processes(tf(&b, "cloud-init.yaml"), GCP_STUBS);
    let web = &m["units"]["app.service"];
    let worker = &m["units"]["app-worker.service"];
    assert_eq!(web["exec"][2], "gunicorn app:app");
    assert_eq!(worker["exec"][2], "rq worker app-tasks");
    let redis = worker["env"]["RQ_REDIS_URL"].as_str().unwrap();
    assert!(redis.contains("meta:autodeploy-cache-host"), "{redis}");
    assert_eq!(worker["env"]["REDIS_URL"], redis);
    let db = web["env"]["DATABASE_URL"].as_str().unwrap();
    assert!(db.starts_with("postgresql://"), "{db}");
    assert!(db.contains("meta:autodeploy-database-host"), "{db}");
    assert_eq!(worker["env"]["DATABASE_URL"], db);
    let run = &m["runcmd"];
    assert!(support::runcmd_at(run, "setup") < support::runcmd_at(run, "app-worker.service"));
    insta::assert_snapshot!(
        "gcp_web_worker_units",
        serde_json::to_string_pretty(&serde_json::json!({
            "units": m["units"].as_object().unwrap().iter().map(|(k, u)| (k.clone(), serde_json::json!({"unit": u["unit"], "exec": u["exec"]}))).collect::<serde_json::Map<_, _>>(),
            "enable": run[support::runcmd_at(run, "app.service")],
        }))
        .unwrap()
    );
}

/// Every instance of a managed instance group runs the worker; a scheduler
/// there is refused.
#[test]
fn a_managed_instance_group_runs_workers_on_every_instance() {
    let req = "deploy on GCP compute engine with postgres and redis, 2 to 4 instances";
    let b = bundle("python_flask_rq_procfile", req);
    check(&b);
    let m = support::vm_processes(tf(&b, "cloud-init.yaml"), GCP_STUBS);
    assert!(m["units"]["app-worker.service"].is_object(), "{m:#}");
    // The firewall and the group's named port are the web service's.
    assert!(tf(&b, "terraform/compute.tf").contains("port = 5000"));
    let (analysis, mut d) = support::scenario("python_flask_rq_procfile", req);
    d.services[1].start = Some("celery -A tasks worker -B".into());
    let e = render(&d, &analysis, &RenderOptions::default()).unwrap_err();
    assert!(e.to_string().contains("the scheduler \"worker\""), "{e}");
}

/// A Compute Engine machine cannot clone a folder that exists only on the
/// operator's machine: the bundle uploads it (the archive `source.zip`
/// beside it) to a private bucket the machine's account may read, and the
/// launcher fetches it at boot instead of `git clone` (Azure: `azure.rs`).
#[test]
fn a_local_folder_is_uploaded_for_compute_engine() {
    let (analysis, mut decision) =
        support::scenario("hello_world_shape", "deploy this Flask app on a GCP VM");
    decision.source.kind = autodeploy_core::SourceKind::Path;
    decision.source.input = "/home/me/app".into();
    let b = render(&decision, &analysis, &RenderOptions::default()).unwrap();
    check(&b);
    assert_eq!(b.source_archive.as_deref(), Some("source.zip"));
    let src = tf(&b, "terraform/source.tf");
    assert!(
        src.contains("public_access_prevention    = \"enforced\""),
        "{src}"
    );
    assert!(src.contains("uniform_bucket_level_access = true"), "{src}");
    assert!(
        src.contains("role   = \"roles/storage.objectViewer\""),
        "{src}"
    );
    assert!(
        src.contains("source = \"${path.module}/../source.zip\""),
        "{src}"
    );
    let c = tf(&b, "terraform/compute.tf");
    assert!(
        c.contains("merge(local.app_metadata, local.source_metadata, {"),
        "{c}"
    );
    // cloud-init runs at first boot only: a new archive is a new machine.
    assert!(
        c.contains("source     = google_storage_bucket_object.source.name"),
        "{c}"
    );
    assert!(
        c.contains("replace_triggered_by = [terraform_data.boot]"),
        "{c}"
    );
    let ci = tf(&b, "cloud-init.yaml");
    assert!(
        ci.contains("- \"python3 /opt/autodeploy/launch.py fetch\""),
        "{ci}"
    );
    assert!(!ci.contains("git clone"), "{ci}");
    assert!(!ci.contains("/home/me/app"), "{ci}");
}

/// The machines of a managed instance group take turns at the release
/// through a lock in Cloud SQL (MySQL's GET_LOCK here, through the
/// `mysql` client cloud-init installs), the login assembled as the app's
/// own settings are; one machine takes none.
#[test]
fn a_group_s_release_takes_a_lock_in_cloud_sql() {
    let group = bundle(
        "php_laravel",
        "deploy on GCP compute engine with mysql, 2 to 4 instances",
    );
    check(&group);
    let ci = tf(&group, "cloud-init.yaml");
    assert!(ci.contains("  - mysql-client\n"), "{ci}");
    let app = serde_yaml_like(ci);
    assert!(app["release"].is_string(), "{app:#}");
    assert_eq!(
        app["release_lock"],
        serde_json::json!({
            "engine": "mysql",
            "host": {"from": "database", "value": "host"},
            "port": {"from": "database", "value": "port"},
            "user": {"from": "database", "value": "username"},
            "password": {"from": "database", "value": "password"},
            "name": {"from": "database", "value": "name"},
        })
    );
    let one = bundle("php_laravel", "deploy on GCP compute engine with mysql");
    let ci = tf(&one, "cloud-init.yaml");
    assert!(serde_yaml_like(ci)["release_lock"].is_null(), "{ci}");
    assert!(!ci.contains("mysql-client"), "{ci}");
}

/// A generated first-administrator password on a managed instance group:
/// its Secret Manager id is the `secrets_to_read` output, and PLAN.md reads
/// it with gcloud through that output.
#[test]
fn a_generated_admin_password_is_named_with_how_to_read_it() {
    let b = bundle(
        "go_migrate_flag_admin",
        "deploy on GCP compute engine, 2 to 4 instances, with postgres",
    );
    check(&b);
    let secrets = tf(&b, "terraform/secrets.tf");
    assert!(
        secrets
            .contains("\"admin-password\" = google_secret_manager_secret.admin_password.secret_id"),
        "{secrets}"
    );
    let plan = &b.get("PLAN.md").expect("PLAN.md").contents;
    assert!(
        plan.contains("gcloud secrets versions access latest --secret=\"$(terraform -chdir=terraform output -json secrets_to_read | jq -r '.[\"admin-password\"]')\""),
        "{plan}"
    );
}

/// The same project on Cloud Run: `gcloud builds submit --tag` only takes
/// a Dockerfile at the context's root, so the build command writes a
/// one-step configuration naming `backend/Dockerfile`, built from the root.
#[test]
fn a_projects_dockerfile_built_from_another_folder_gets_a_build_configuration() {
    let b = bundle(
        "compose_root_context_dockerfile",
        "deploy on GCP cloud run with postgres",
    );
    check(&b);
    let outputs = tf(&b, "terraform/outputs.tf");
    assert!(
        outputs.contains(r#"args: [build, -f, \"backend/Dockerfile\", -t, '\\''@IMAGE@'\\'', .]"#),
        "{outputs}"
    );
    assert!(
        outputs.contains(
            "gcloud builds submit --project @PROJECT@ --config /tmp/autodeploy-cloudbuild.yaml '.'"
        ),
        "{outputs}"
    );
}
