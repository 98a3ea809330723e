//! Azure bundles end to end: real analyze → parse → decide on a fixture,
//! render, then `terraform fmt -check` on the bundle, every `.tf` file parsed
//! as HCL with hcl-rs, `azurerm` as the only required provider, and no secret
//! value anywhere. The azurerm provider is not mirrored here, so there is no
//! `terraform validate`. The VM launcher is compiled and exercised with the
//! real `python3`, and cloud-init is parsed as YAML by the real PyYAML when
//! it is installed.
mod support;

use autodeploy_render::{render, Bundle, RenderError, RenderOptions};
use std::process::Command;
use support::{assert_fmt, scenario, write_bundle};

fn try_bundle(fixture: &str, request: &str) -> Result<Bundle, RenderError> {
    let (analysis, decision) = scenario(fixture, request);
    assert_eq!(decision.cloud.as_str(), "azure", "{request}");
    render(&decision, &analysis, &RenderOptions::default())
}

fn bundle(fixture: &str, request: &str) -> Bundle {
    let b = try_bundle(fixture, request).unwrap_or_else(|e| panic!("{fixture} / {request}: {e}"));
    if let Ok(dir) = std::env::var("AUTODEPLOY_DUMP") {
        let slug: String = request
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        b.write_to(&std::path::Path::new(&dir).join(format!("azure-{fixture}-{slug}")))
            .unwrap();
    }
    b
}

fn contents<'a>(b: &'a Bundle, path: &str) -> &'a str {
    &b.get(path)
        .unwrap_or_else(|| panic!("{path} in {:?}", b.paths()))
        .contents
}

/// fmt -check on the directory; every `.tf` parses with hcl-rs; azurerm is
/// the only required provider; no other provider's resources; no secrets.
fn check_terraform(b: &Bundle) {
    let (_dir, tf) = write_bundle(b);
    assert_fmt(&tf);
    let mut providers = Vec::new();
    let mut n = 0;
    for f in b.files.iter().filter(|f| f.path.ends_with(".tf")) {
        n += 1;
        let body: hcl::Body = hcl::from_str(&f.contents)
            .unwrap_or_else(|e| panic!("{} does not parse as HCL: {e}\n{}", f.path, f.contents));
        for block in body.blocks() {
            if block.identifier() == "terraform" {
                for rp in block
                    .body()
                    .blocks()
                    .filter(|b| b.identifier() == "required_providers")
                {
                    providers.extend(rp.body().attributes().map(|a| a.key().to_string()));
                }
            }
            if matches!(block.identifier(), "resource" | "data" | "ephemeral") {
                let kind = block.labels()[0].as_str();
                assert!(kind.starts_with("azurerm_"), "{}: {kind}", f.path);
            }
        }
        for banned in [
            "hashicorp/random",
            "hashicorp/null",
            "hashicorp/tls",
            "azapi",
            "hashicorp/aws",
        ] {
            assert!(!f.contents.contains(banned), "{}: {banned}", f.path);
        }
    }
    assert!(n >= 6, "expected the common files and the strategy's");
    assert_eq!(providers, vec!["azurerm".to_string()]);
    let versions = contents(b, "terraform/versions.tf");
    assert!(versions.contains("source  = \"hashicorp/azurerm\""));
    assert_no_secret_values(b);
    assert_interpolations_are_ours(b);
    support::schema::check(b, "azurerm");
}

/// No password, key or token is given a literal value anywhere in the bundle.
fn assert_no_secret_values(b: &Bundle) {
    for f in &b.files {
        for line in f.contents.lines() {
            let l = line.trim().to_ascii_lowercase();
            for key in ["password", "secret", "access_key", "token"] {
                if let Some((lhs, rhs)) = l.split_once('=') {
                    let lhs = lhs.trim().trim_matches('"');
                    let ident = lhs
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                    let names_a_secret = ["version", "_name", "_id", "names"]
                        .iter()
                        .any(|x| lhs.contains(x));
                    if ident && lhs.contains(key) && !names_a_secret {
                        let rhs = rhs.trim();
                        assert!(
                            !rhs.starts_with('"') || rhs.starts_with("\"${") || rhs == "\"\"",
                            "{}: literal secret? {line}",
                            f.path
                        );
                    }
                }
            }
        }
        assert!(!f.contents.contains("random_password"), "{}", f.path);
        assert!(
            !f.contents.contains("administrator_password "),
            "{}",
            f.path
        );
    }
}

/// Every live `${…}` interpolation in the bundle's Terraform is one the
/// templates wrote, never text from the repository.
fn assert_interpolations_are_ours(b: &Bundle) {
    for f in b.files.iter().filter(|f| f.path.ends_with(".tf")) {
        let text = f.contents.replace("$${", "");
        for (i, _) in text.match_indices("${") {
            let rest = &text[i + 2..];
            assert!(
                [
                    "azurerm_",
                    "var.",
                    "local.",
                    "data.",
                    "substr(",
                    "sha1(",
                    "filemd5(",
                    "path.module"
                ]
                .iter()
                .any(|p| rest.starts_with(p)),
                "{}: foreign interpolation {:?}",
                f.path,
                &rest[..rest.len().min(40)]
            );
        }
        assert!(!text.contains("%{"), "{}", f.path);
    }
}

/// The machine's launcher (the shared one plus the Azure bindings), pulled
/// out of cloud-init: valid YAML, valid Python, and its value resolution run
/// for real on literal and joined values.
fn check_cloud_init(b: &Bundle) -> serde_json::Value {
    let ci = contents(b, "cloud-init.yaml");
    assert!(ci.starts_with("#cloud-config\n"));
    // Azure's limit on custom_data (decoded).
    assert!(ci.len() <= 65_535, "cloud-init is {} bytes", ci.len());
    let dir = tempfile::tempdir().unwrap();
    let ci_path = dir.path().join("cloud-init.yaml");
    std::fs::write(&ci_path, ci).unwrap();
    // Pull launch.py and app.json out with the real YAML parser.
    let script = r#"
import sys, yaml, json
doc = yaml.safe_load(open(sys.argv[1]))
files = {f["path"]: f["content"] for f in doc["write_files"]}
open(sys.argv[2], "w").write(files["/opt/autodeploy/launch.py"])
open(sys.argv[3], "w").write(files["/etc/autodeploy/app.json"])
"#;
    let launch = dir.path().join("launch.py");
    let app = dir.path().join("app.json");
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args([&ci_path, &launch, &app])
        .output()
        .expect("python3 runs");
    if !out.status.success()
        && String::from_utf8_lossy(&out.stderr).contains("No module named 'yaml'")
    {
        eprintln!("SKIPPING cloud-init YAML checks: PyYAML is not installed for python3");
        return serde_json::Value::Null;
    }
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let probe = r#"
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("launch", sys.argv[1])
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
print(m.resolve({}, {"from": "join", "parts": [
    {"from": "literal", "value": "rediss://:", "quote": False},
    {"from": "literal", "value": "a+b/c=", "quote": True},
    {"from": "literal", "value": "@h:6380/0", "quote": False}]}))
cfg = json.load(open(sys.argv[2]))
env = {e["name"]: m.resolve(cfg, e) for e in cfg["env"] if e["from"] == "literal"}
print(json.dumps(env))
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(probe)
        .args([&launch, &app])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some("rediss://:a%2Bb%2Fc%3D@h:6380/0"));
    serde_json::from_str(&std::fs::read_to_string(&app).unwrap()).unwrap()
}

#[test]
fn express_on_container_apps_renders() {
    let b = bundle(
        "node_express_basic",
        "deploy on azure container apps, 2 to 5 instances in westeurope",
    );
    let apps = contents(&b, "terraform/container_apps.tf");
    assert!(apps.contains("min_replicas = 2"));
    assert!(apps.contains("max_replicas = 5"));
    assert!(apps.contains("target_port      = 3000"));
    assert!(apps.contains("external_enabled = true"));
    assert!(apps.contains("admin_enabled       = false"));
    assert!(contents(&b, "terraform/variables.tf").contains("\"westeurope\""));
    assert!(
        b.get("terraform/network.tf").is_none(),
        "no VNet without private data"
    );
    check_terraform(&b);
    insta::assert_snapshot!("azure_express_container_apps_tf", apps);
}

#[test]
fn container_apps_with_postgres_and_redis_wire_urls() {
    let b = bundle(
        "node_express_pg_redis_env",
        "deploy on Azure Container Apps",
    );
    check_terraform(&b);
    let apps = contents(&b, "terraform/container_apps.tf");
    assert!(apps.contains("infrastructure_subnet_id   = azurerm_subnet.app.id"));
    // DATABASE_URL / REDIS_URL are joined at start from parts; the
    // passwords come from Key Vault references, never values.
    assert!(apps.contains("command = [\"/bin/sh\", \"-c\", "), "{apps}");
    assert!(
        apps.contains("export DATABASE_URL=\\\"postgresql://"),
        "{apps}"
    );
    assert!(apps.contains("export REDIS_URL=\\\"rediss://:"), "{apps}");
    assert!(apps.contains(
        "key_vault_secret_id = \"${azurerm_key_vault.main.vault_uri}secrets/database-credentials\""
    ));
    assert!(apps.contains(
        "key_vault_secret_id = \"${azurerm_key_vault.main.vault_uri}secrets/cache-auth-token\""
    ));
    assert!(apps.contains("value = azurerm_postgresql_flexible_server.main.fqdn"));
    assert!(apps.contains("value = azurerm_redis_cache.main.hostname"));
    let db = contents(&b, "terraform/database.tf");
    assert!(db.contains("resource \"azurerm_postgresql_flexible_server\" \"main\""));
    assert!(db.contains("delegated_subnet_id               = azurerm_subnet.database.id"));
    assert!(db.contains("private_dns_zone_id               = azurerm_private_dns_zone.database.id"));
    assert!(db.contains("public_network_access_enabled     = false"));
    assert!(db.contains("ephemeral \"azurerm_key_vault_secret\" \"database_password\""));
    assert!(db.contains("administrator_password_wo         = ephemeral.azurerm_key_vault_secret.database_password.value"));
    // node-postgres connects without TLS unless asked: the server offers
    // TLS without requiring it (PLAN.md says why).
    assert!(db.contains(
        "resource \"azurerm_postgresql_flexible_server_configuration\" \"require_secure_transport\""
    ));
    assert!(contents(&b, "PLAN.md").contains("TLS offered, not required"));
    let cache = contents(&b, "terraform/cache.tf");
    assert!(cache.contains("non_ssl_port_enabled          = false"));
    assert!(cache.contains("minimum_tls_version           = \"1.2\""));
    assert!(cache.contains("public_network_access_enabled = false"));
    assert!(cache.contains("resource \"azurerm_private_endpoint\" \"redis\""));
    let net = contents(&b, "terraform/network.tf");
    assert!(net.contains("name    = \"Microsoft.DBforPostgreSQL/flexibleServers\""));
    assert!(net.contains("resource \"azurerm_subnet\" \"private_endpoints\""));
    assert!(
        !net.contains("azurerm_network_security_group\" \"app\""),
        "no VM NSG on Container Apps"
    );
    let kv = contents(&b, "terraform/key_vault.tf");
    assert!(kv.contains("\"database-credentials\""));
    assert!(kv.contains("\"stripe-api-key\""));
    // The Redis key is copied by Terraform, not a slot the deploy stage fills.
    assert!(kv.contains("key_vault_managed_secret_names"));
    let filled = kv.split("key_vault_secret_names").nth(1).unwrap();
    let filled = filled.split("output").next().unwrap();
    assert!(!filled.contains("cache-auth-token"), "{filled}");
}

/// Azure Cache for Redis always asks for its key, but a client by host and
/// port cannot turn TLS on: the key stays, the plain port 6379 opens inside
/// the private network, and every value the app gets names that port.
#[test]
fn redis_for_a_client_without_tls_uses_the_plain_port() {
    let req = "deploy on Azure Container Apps with redis";
    let (_, d) = scenario("wiring_redis_several", req);
    let c = d.cache.as_ref().expect("a cache");
    assert!(
        c.auth.is_some() && !c.transit_encryption && c.port == 6379,
        "{c:?}"
    );
    assert!(d
        .warnings
        .iter()
        .any(|w| w.code == "cache_client_without_password"));
    let b = bundle("wiring_redis_several", req);
    check_terraform(&b);
    let cache = contents(&b, "terraform/cache.tf");
    assert!(
        cache.contains("non_ssl_port_enabled          = true"),
        "{cache}"
    );
    assert!(
        cache.contains("public_network_access_enabled = false"),
        "{cache}"
    );
    let apps = contents(&b, "terraform/container_apps.tf");
    assert!(
        apps.contains("export REDIS_CACHE_URL=\\\"redis://:"),
        "{apps}"
    );
    assert!(apps.contains(":6379/0"), "{apps}");
    assert!(!apps.contains("6380"), "{apps}");
}

#[test]
fn container_apps_run_the_projects_own_image_as_its_dockerfile_says() {
    let (analysis, mut decision) = scenario(
        "dockerfile_expose_mismatch",
        "deploy on azure container apps",
    );
    let web = &mut decision.services[0];
    assert_eq!(web.image, autodeploy_core::ImageSource::Repository);
    // A binary the Dockerfile copied out of its build stage runs where it
    // put it; the release step's start script wraps that, not the
    // analysis's own start command.
    web.image_start = Some("./server --serve".into());
    web.release = Some("./server migrate".into());
    let start = web.start.clone().unwrap();
    let b = render(&decision, &analysis, &RenderOptions::default()).unwrap();
    let apps = contents(&b, "terraform/container_apps.tf");
    assert!(apps.contains("./server migrate"), "{apps}");
    assert!(apps.contains("exec ./server --serve"), "{apps}");
    assert!(!apps.contains(&start), "{start} in {apps}");
    check_terraform(&b);
}

#[test]
fn hello_world_on_a_linux_vm() {
    let b = bundle("hello_world_shape", "deploy on Azure");
    check_terraform(&b);
    let compute = contents(&b, "terraform/compute.tf");
    for needle in [
        "resource \"azurerm_linux_virtual_machine\" \"main\"",
        "disable_password_authentication = true",
        "public_key = var.admin_ssh_public_key",
        "encryption_at_host_enabled      = var.encryption_at_host",
        "custom_data                     = filebase64(\"${path.module}/../cloud-init.yaml\")",
        "allocation_method   = \"Static\"",
        "sku                 = \"Standard\"",
        "type = \"SystemAssigned\"",
        "offer     = \"ubuntu-24_04-lts\"",
    ] {
        assert!(compute.contains(needle), "{needle} in\n{compute}");
    }
    assert!(!compute.contains("admin_password"), "SSH keys only");
    let net = contents(&b, "terraform/network.tf");
    assert!(net.contains("destination_port_ranges    = [\"80\", \"443\"]"));
    assert!(net.contains("source_address_prefixes    = var.ssh_allowed_cidrs"));
    assert!(net.contains("default     = []"), "no SSH by default");
    // SSH (22) appears only in the rule limited to var.ssh_allowed_cidrs.
    assert_eq!(net.matches("\"22\"").count(), 1);
    assert!(
        b.get("terraform/key_vault.tf").is_none(),
        "no secrets, no vault"
    );
    let app = check_cloud_init(&b);
    let ci = contents(&b, "cloud-init.yaml");
    assert!(ci.contains("checkout --detach '0123456789abcdef0123456789abcdef01234567'"));
    assert!(ci.contains("def tag(name):"), "Azure launcher bindings");
    assert!(ci.contains("path: /etc/nginx/conf.d/autodeploy.conf"));
    assert!(!ci.contains("python3-boto3"));
    if !app.is_null() {
        assert_eq!(app["port"], 5000);
    }
    insta::assert_snapshot!("azure_hello_world_vm_compute_tf", compute);
}

#[test]
fn django_vm_with_postgres_in_production() {
    let b = bundle("python_django_postgres", "Django on Azure VM with Postgres");
    check_terraform(&b);
    let db = contents(&b, "terraform/database.tf");
    assert!(
        db.contains("mode                      = \"ZoneRedundant\""),
        "production HA"
    );
    assert!(db.contains("prevent_destroy = true"));
    assert!(db.contains("lock_level = \"CanNotDelete\""));
    assert!(db.contains("geo_redundant_backup_enabled      = true"));
    assert!(db.contains("backup_retention_days             = 7"));
    assert!(db.contains("sku_name                          = \"GP_Standard_D2ds_v5\""));
    let compute = contents(&b, "terraform/compute.tf");
    assert!(compute.contains("resource \"azurerm_role_assignment\" \"vm_secrets_user\""));
    assert!(
        compute.contains("\"autodeploy-key-vault\"   = azurerm_key_vault.main.vault_uri"),
        "{compute}"
    );
    assert!(
        compute.contains("= azurerm_postgresql_flexible_server.main.fqdn"),
        "{compute}"
    );
    let app = check_cloud_init(&b);
    if !app.is_null() {
        let env = app["env"].as_array().unwrap();
        let by = |n: &str| env.iter().find(|e| e["name"] == n).cloned().unwrap();
        assert_eq!(by("POSTGRES_PASSWORD")["from"], "secret");
        assert_eq!(by("POSTGRES_PASSWORD")["value"], "database-credentials");
        assert_eq!(by("DJANGO_SECRET_KEY")["from"], "secret");
        assert_eq!(by("POSTGRES_HOST")["from"], "tag");
        assert_eq!(by("POSTGRES_PORT")["value"], "5432");
        // The public host plus the machine's own addresses, added at boot:
        // the load balancer's probes send the machine's address as Host.
        assert_eq!(by("DJANGO_ALLOWED_HOSTS")["from"], "allowed_hosts");
    }
}

#[test]
fn django_vm_in_development_drops_protection() {
    let b = bundle(
        "python_django_postgres",
        "Django on Azure VM with Postgres, development environment",
    );
    check_terraform(&b);
    let db = contents(&b, "terraform/database.tf");
    assert!(db.contains("prevent_destroy = false"), "{db}");
    assert!(!db.contains("azurerm_management_lock"));
    assert!(!db.contains("high_availability {"));
    assert!(db.contains("geo_redundant_backup_enabled      = false"));
}

#[test]
fn express_scale_set_behind_a_load_balancer() {
    let b = bundle(
        "node_express_basic",
        "deploy on Azure with autoscaling 2 to 6 instances on VMs",
    );
    check_terraform(&b);
    let compute = contents(&b, "terraform/compute.tf");
    for needle in [
        "resource \"azurerm_linux_virtual_machine_scale_set\" \"main\"",
        "resource \"azurerm_lb\" \"main\"",
        "resource \"azurerm_lb_probe\" \"web\"",
        // Express with no health route: the probe (200 only) asks nginx's
        // gate, which turns the app's 4xx into 200 (any answer below 500).
        "request_path        = \"/autodeploy-health\"",
        "health_probe_id                 = azurerm_lb_probe.web.id",
        "resource \"azurerm_monitor_autoscale_setting\" \"main\"",
        "metric_name        = \"Percentage CPU\"",
        "resource \"azurerm_lb_outbound_rule\" \"egress\"",
        "disable_password_authentication = true",
    ] {
        assert!(compute.contains(needle), "{needle} in\n{compute}");
    }
    let vars: Vec<&str> = compute.lines().collect();
    let default_after = |name: &str| {
        let i = vars
            .iter()
            .position(|l| *l == format!("variable \"{name}\" {{"))
            .unwrap();
        vars[i + 3].trim().to_string()
    };
    assert_eq!(default_after("min_instances"), "default     = 2");
    assert_eq!(default_after("max_instances"), "default     = 6");
    assert_eq!(default_after("cpu_scale_out_percent"), "default     = 60");
    assert!(!compute.contains("azurerm_linux_virtual_machine\" \"main\""));
    check_cloud_init(&b);
    insta::assert_snapshot!("azure_express_vmss_compute_tf", compute);
}

#[test]
fn vm_with_postgres_redis_inputs_and_user_secrets() {
    let b = bundle("node_express_pg_redis_env", "deploy on an Azure VM");
    check_terraform(&b);
    assert!(b.get("terraform/cache.tf").is_some());
    let compute = contents(&b, "terraform/compute.tf");
    assert!(
        compute.contains("variable \"input_smtp_host\""),
        "{compute}"
    );
    assert!(compute.contains("= var.input_smtp_host"), "{compute}");
    let app = check_cloud_init(&b);
    if !app.is_null() {
        let env = app["env"].as_array().unwrap();
        let url = env.iter().find(|e| e["name"] == "REDIS_URL").unwrap();
        assert_eq!(url["from"], "join");
        let parts = url["parts"].as_array().unwrap();
        assert!(parts.iter().any(|p| p["from"] == "secret"
            && p["value"] == "cache-auth-token"
            && p["quote"] == true));
        let db = env.iter().find(|e| e["name"] == "DATABASE_URL").unwrap();
        assert_eq!(db["parts"][0]["value"], "postgresql://");
        let stripe = env.iter().find(|e| e["name"] == "STRIPE_API_KEY").unwrap();
        assert_eq!(stripe["from"], "secret");
    }
}

#[test]
fn aks_with_the_k8s_manifests() {
    let b = bundle("node_express_basic", "deploy on Azure kubernetes");
    check_terraform(&b);
    let aks = contents(&b, "terraform/aks.tf");
    for needle in [
        "resource \"azurerm_kubernetes_cluster\" \"main\"",
        "name                        = \"system\"",
        "vnet_subnet_id              = azurerm_subnet.app.id",
        "type = \"SystemAssigned\"",
        "role_definition_name             = \"AcrPull\"",
        "principal_id                     = azurerm_kubernetes_cluster.main.kubelet_identity[0].object_id",
        "sku_tier                          = \"Standard\"",
        "web_app_routing {",
    ] {
        assert!(aks.contains(needle), "{needle} in\n{aks}");
    }
    let outputs = contents(&b, "terraform/outputs.tf");
    assert!(
        outputs.contains(
            "IMAGE_TODO_BOARD = \"${azurerm_container_registry.main.login_server}/todo-board\""
        ),
        "{outputs}"
    );
    let deploy = contents(&b, "k8s/todo-board/deployment.yaml");
    assert!(deploy.contains("${IMAGE_TODO_BOARD}"));
    assert!(
        contents(&b, "k8s/todo-board/ingress.yaml").contains("webapprouting.kubernetes.azure.com")
    );
    insta::assert_snapshot!("azure_express_aks_tf", aks);
}

#[test]
fn aks_rails_with_postgres() {
    let b = bundle("ruby_rails_postgres", "deploy on AKS in production");
    check_terraform(&b);
    assert!(b.get("terraform/database.tf").is_some());
    let kv = contents(&b, "terraform/key_vault.tf");
    assert!(kv.contains("\"secret-key-base\""));
    assert!(contents(&b, "terraform/database.tf").contains("output \"database_host\""));
}

#[test]
fn static_site_on_static_web_apps() {
    let b = bundle("static_html_site", "deploy on azure");
    check_terraform(&b);
    let swa = contents(&b, "terraform/static_web_apps.tf");
    assert!(swa.contains("resource \"azurerm_static_web_app\" \"site_0\""));
    // eastus has no Static Web Apps: the nearest region that has them.
    assert!(swa.contains("default     = \"eastus2\""), "{swa}");
    assert!(b.get("terraform/network.tf").is_none());
    assert!(b.get("cloud-init.yaml").is_none());
    let outputs = contents(&b, "terraform/outputs.tf");
    assert!(outputs.contains("default_host_name"));
    assert!(
        !outputs.contains("api_key"),
        "the deployment token is no output"
    );
    insta::assert_snapshot!("azure_static_web_apps_tf", swa);
}

#[test]
fn serverless_on_azure_is_unsupported_loudly() {
    let (analysis, d) = scenario("node_express_basic", "deploy serverless on Azure");
    if d.strategy.as_str() != "serverless" {
        eprintln!(
            "decide chose {} for serverless on Azure",
            d.strategy.as_str()
        );
        return;
    }
    let err = render(&d, &analysis, &RenderOptions::default()).unwrap_err();
    assert!(matches!(err, RenderError::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains("serverless"), "{err}");
}

#[test]
fn hostile_names_stay_inert() {
    let b = bundle("hostile_names", "deploy on Azure Container Apps");
    let apps = contents(&b, "terraform/container_apps.tf");
    // The service name reaches Azure only as a [a-z0-9-] slug.
    assert!(apps.contains("name                         = \"web-touch-pwned-path-module\""));
    check_terraform(&b);
}

#[test]
fn hostile_names_on_a_vm_stay_inert_or_fail_loudly() {
    match try_bundle("hostile_names", "deploy on an Azure VM") {
        Ok(b) => {
            check_terraform(&b);
            check_cloud_init(&b);
        }
        Err(e) => assert!(matches!(e, RenderError::Unsupported { .. }), "{e}"),
    }
}
/// The rest of the matrix: every new hosting with and without data services,
/// each checked for fmt, HCL, providers, secrets and its key resources.
#[test]
fn matrix_of_hostings_and_data_services() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "php_laravel",
            "Laravel on Azure VM with MySQL",
            &[
                "terraform/database.tf:resource \"azurerm_mysql_flexible_server\" \"main\"",
                "terraform/database.tf:administrator_password_wo",
                "terraform/network.tf:Microsoft.DBforMySQL/flexibleServers",
                "terraform/cache.tf:resource \"azurerm_redis_cache\" \"main\"",
                "terraform/compute.tf:resource \"azurerm_linux_virtual_machine\" \"main\"",
            ],
        ),
        (
            "wiring_go_mysql_dsn",
            "deploy on Azure VM with mysql",
            &[
                "terraform/database.tf:version                           = \"8.0.21\"",
                "terraform/compute.tf:vm_secrets_user",
            ],
        ),
        (
            "node_express_pg_redis_env",
            "deploy on Azure with autoscaling 2 to 4 instances on VMs",
            &[
                "terraform/compute.tf:resource \"azurerm_linux_virtual_machine_scale_set\" \"main\"",
                "terraform/compute.tf:vmss_secrets_user",
                "terraform/compute.tf:\"autodeploy-public-host\" = azurerm_public_ip.lb.ip_address",
                "terraform/database.tf:azurerm_postgresql_flexible_server",
                "terraform/cache.tf:azurerm_private_endpoint",
            ],
        ),
        (
            "node_express_pg_redis_env",
            "deploy on AKS",
            &[
                "terraform/aks.tf:resource \"azurerm_kubernetes_cluster\" \"main\"",
                "terraform/database.tf:azurerm_postgresql_flexible_server",
                "terraform/cache.tf:azurerm_redis_cache",
                "terraform/outputs.tf:IMAGE_BILLING_SERVICE",
                "k8s/billing-service/deployment.yaml:billing-service-secrets",
            ],
        ),
        (
            "python_django_postgres",
            "Django on Azure Container Apps with Postgres",
            &[
                "terraform/container_apps.tf:resource \"azurerm_container_app_job\" \"release_0\"",
                "terraform/container_apps.tf:exec python manage.py migrate --noinput",
                "terraform/outputs.tf:azurerm_container_app_job.release_0.name",
                "terraform/container_apps.tf:value = azurerm_postgresql_flexible_server.main.fqdn",
                "terraform/container_apps.tf:secret_name = \"database-credentials\"",
                "terraform/database.tf:azurerm_postgresql_flexible_server_database",
            ],
        ),
        (
            "node_express_basic",
            "deploy on AKS, 3 to 6 instances",
            &[
                "terraform/aks.tf:auto_scaling_enabled        = true",
                "terraform/aks.tf:ignore_changes = [default_node_pool[0].node_count]",
            ],
        ),
        (
            "node_express_basic",
            "deploy on AKS with a budget of $40/month",
            &["terraform/aks.tf:sku_tier                          = \"Free\""],
        ),
        (
            "node_express_basic",
            "deploy on azure vm with https",
            &["terraform/compute.tf:azurerm_linux_virtual_machine"],
        ),
    ];
    for (fixture, request, needles) in cases {
        let b = bundle(fixture, request);
        check_terraform(&b);
        if b.get("cloud-init.yaml").is_some() {
            check_cloud_init(&b);
        }
        for n in needles.iter() {
            let (path, needle) = n.split_once(':').unwrap();
            assert!(
                contents(&b, path).contains(needle),
                "{fixture} / {request}: {needle} in {path}"
            );
        }
    }
}

#[test]
fn https_on_a_vm_is_said_not_silently_dropped() {
    // Without a domain decide keeps the VM on http and says so; render
    // writes http only and no certificate.
    let (_a, d) = scenario("node_express_basic", "deploy on azure vm with https");
    assert!(
        d.has_warning("https_without_domain"),
        "{:?}",
        d.warning_codes()
    );
    assert!(!d.tls.https);
    let b = bundle("node_express_basic", "deploy on azure vm with https");
    assert!(contents(&b, "terraform/outputs.tf").contains("\"http://${"));
}

/// The launcher's Azure lookups answered locally: a tag is `tag:<name>`, a
/// Key Vault secret `secret-of-<slot>`.
const AZURE_STUBS: &str = r#"
m.tag = lambda name: "tag:" + name
m.secret = lambda name: "secret-of-" + name
"#;

/// A Procfile's web + rq worker on one Azure VM, and on every instance of a
/// scale set: one unit per process, each with its own command and settings.
#[test]
fn a_vm_runs_the_web_service_and_its_worker() {
    for req in [
        "deploy on an Azure VM with postgres and redis",
        "deploy on an Azure VM with postgres and redis, 2-3 instances",
    ] {
        let b = bundle("python_flask_rq_procfile", req);
        check_terraform(&b);
        let ci = contents(&b, "cloud-init.yaml");
        assert!(ci.len() <= 65_535, "cloud-init is {} bytes", ci.len());
        let m = support::vm_processes(ci, AZURE_STUBS);
        let web = &m["units"]["app.service"];
        let worker = &m["units"]["app-worker.service"];
        assert_eq!(web["exec"][2], "gunicorn app:app");
        assert_eq!(worker["exec"][2], "rq worker app-tasks");
        let redis = worker["env"]["RQ_REDIS_URL"].as_str().unwrap();
        assert!(redis.starts_with("rediss://:secret-of-"), "{redis}");
        assert_eq!(worker["env"]["REDIS_URL"], redis);
        let db = web["env"]["DATABASE_URL"].as_str().unwrap();
        assert!(db.starts_with("postgresql://"), "{db}");
        assert_eq!(worker["env"]["DATABASE_URL"], db);
        let run = &m["runcmd"];
        assert!(support::runcmd_at(run, "setup") < support::runcmd_at(run, "app-worker.service"));
        if req.ends_with("instances") {
            let c = contents(&b, "terraform/compute.tf");
            assert!(c.contains("azurerm_linux_virtual_machine_scale_set"), "{c}");
        } else {
            insta::assert_snapshot!(
                "azure_web_worker_config",
                serde_json::to_string_pretty(&m["config"]["workers"]).unwrap()
            );
        }
    }
}

#[test]
fn container_apps_run_the_release_step_once_as_a_job_not_in_every_replica() {
    let b = bundle(
        "python_django_postgres",
        "Django on Azure Container Apps with Postgres",
    );
    check_terraform(&b);
    let apps = contents(&b, "terraform/container_apps.tf");
    let (app, job) = apps
        .split_once("resource \"azurerm_container_app_job\" \"release_0\"")
        .unwrap_or_else(|| panic!("no release job:\n{apps}"));
    assert!(
        !app.contains("migrate"),
        "the replicas' start runs no release step:\n{app}"
    );
    for want in [
        "manual_trigger_config",
        "replica_retry_limit          = 0",
        "exec python manage.py migrate --noinput",
        "secret_name = \"database-credentials\"",
        "identity_ids = [azurerm_user_assigned_identity.apps.id]",
    ] {
        assert!(job.contains(want), "{want}\n{job}");
    }
}

/// An Azure machine cannot clone a folder that exists only on the
/// operator's machine: the bundle uploads it (`source.zip` beside it) to a
/// private storage account its identity may read, and the launcher fetches
/// it at boot with a managed-identity token, retrying while the role
/// assignment propagates, instead of `git clone`.
#[test]
fn a_local_folder_is_uploaded_for_an_azure_vm_and_fetched_with_its_identity() {
    for request in [
        "deploy this Flask app on an Azure VM",
        "deploy this Flask app on Azure VMs, 2 to 4 instances",
    ] {
        let (analysis, mut decision) = scenario("hello_world_shape", request);
        decision.source.kind = autodeploy_core::SourceKind::Path;
        decision.source.input = "/home/me/app".into();
        let b = render(&decision, &analysis, &RenderOptions::default())
            .unwrap_or_else(|e| panic!("{request}: {e}"));
        check_terraform(&b);
        assert_eq!(b.source_archive.as_deref(), Some("source.zip"));
        let src = contents(&b, "terraform/source.tf");
        assert!(
            src.contains("allow_nested_items_to_be_public   = false"),
            "{src}"
        );
        assert!(src.contains("container_access_type = \"private\""), "{src}");
        assert!(
            src.contains("source                 = \"${path.module}/../source.zip\""),
            "{src}"
        );
        let c = contents(&b, "terraform/compute.tf");
        assert!(c.contains("\"autodeploy-source-url\""), "{c}");
        assert!(c.contains("azurerm_storage_blob.source.url"), "{c}");
        assert!(
            c.contains("role_definition_name = \"Storage Blob Data Reader\""),
            "{c}"
        );
        // One machine: a new archive (a tag, changed in place) is a new
        // machine, since cloud-init runs at first boot only.
        assert_eq!(
            c.contains("replace_triggered_by = [azurerm_storage_blob.source]"),
            !request.contains("instances"),
            "{request}: {c}"
        );
        let ci = contents(&b, "cloud-init.yaml");
        assert!(
            ci.contains("- \"python3 /opt/autodeploy/launch.py fetch\""),
            "{ci}"
        );
        assert!(!ci.contains("git clone"), "{ci}");
        assert!(!ci.contains("/home/me/app"), "{ci}");
        check_cloud_init(&b);
    }

    // The launcher's fetch, run against a local server standing in for
    // Blob Storage: the first answer is 403 (the role is on its way), then
    // the archive; it asks with the identity's token and a storage API
    // version, for the storage resource, and unpacks what it got.
    let (analysis, mut decision) =
        scenario("hello_world_shape", "deploy this Flask app on an Azure VM");
    decision.source.kind = autodeploy_core::SourceKind::Path;
    let b = render(&decision, &analysis, &RenderOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ci_path = dir.path().join("cloud-init.yaml");
    std::fs::write(&ci_path, contents(&b, "cloud-init.yaml")).unwrap();
    let probe = format!(
        "{}{}",
        support::LOAD_LAUNCHER,
        r#"
import io, threading, http.server
seen = []
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        seen.append((self.headers.get("Authorization"), self.headers.get("x-ms-version")))
        if len(seen) == 1:
            self.send_response(403); self.end_headers(); return
        self.send_response(200); self.end_headers(); self.wfile.write(b"PK-archive")
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
asked = []
m.tag = lambda name: "http://127.0.0.1:%d/source/source-x.zip" % srv.server_port if name == "autodeploy-source-url" else None
def imds(path, version, extra=""):
    asked.append(extra)
    return {"access_token": "tok"}
m.azure_imds = imds
m.time.sleep = lambda s: None
got = []
m.unpack = lambda cfg, data: got.append(data.read())
m.fetch({})
print(json.dumps({"seen": seen, "asked": asked, "got": [g.decode() for g in got]}))
"#
    );
    let out = Command::new("python3")
        .arg("-c")
        .arg(probe)
        .args([&ci_path, &dir.path().join("launch.py")])
        .output()
        .expect("python3 runs");
    if String::from_utf8_lossy(&out.stderr).contains("No module named 'yaml'") {
        eprintln!("SKIPPING the fetch probe: PyYAML is not installed for python3");
        return;
    }
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("autodeploy: source unpacked from http://127.0.0.1:"),
        "{stdout}"
    );
    let v: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(v["got"], serde_json::json!(["PK-archive"]), "{v}");
    assert_eq!(
        v["seen"][1],
        serde_json::json!(["Bearer tok", "2021-08-06"]),
        "{v}"
    );
    assert_eq!(v["seen"].as_array().unwrap().len(), 2, "{v}");
    assert!(
        v["asked"][0]
            .as_str()
            .unwrap()
            .contains("storage.azure.com"),
        "{v}"
    );
}

/// The machines of a scale set take turns at the release through a lock
/// in the flexible server: the login's parts reach the launcher as the
/// machine's tags and its Key Vault secret, as the app's own settings do,
/// and the client comes with cloud-init.
#[test]
fn a_scale_set_s_release_takes_a_lock_in_the_database() {
    let b = bundle(
        "python_django_postgres",
        "deploy on an Azure VM scale set with postgres, 2-4 instances",
    );
    check_terraform(&b);
    assert!(contents(&b, "cloud-init.yaml").contains("  - postgresql-client\n"));
    let app = check_cloud_init(&b);
    if app.is_null() {
        return;
    }
    let lock = &app["release_lock"];
    assert_eq!(lock["engine"], "postgresql", "{app:#}");
    assert_eq!(lock["password"]["from"], "secret", "{lock:#}");
    assert_eq!(
        lock["port"],
        serde_json::json!({"from": "literal", "value": "5432"})
    );
    let compute = contents(&b, "terraform/compute.tf");
    for (part, expr) in [
        ("host", "azurerm_postgresql_flexible_server.main.fqdn"),
        (
            "user",
            "azurerm_postgresql_flexible_server.main.administrator_login",
        ),
        (
            "name",
            "azurerm_postgresql_flexible_server_database.main.name",
        ),
    ] {
        assert_eq!(lock[part]["from"], "tag", "{lock:#}");
        let tag = lock[part]["value"].as_str().unwrap();
        assert!(
            compute
                .lines()
                .any(|l| l.contains(&format!("\"{tag}\"")) && l.ends_with(&format!("= {expr}"))),
            "{tag} = {expr} in\n{compute}"
        );
    }
}

/// asyncpg takes `ssl`, not libpq's `sslmode` (SQLAlchemy hands the URL's
/// query to `asyncpg.connect`, which refuses an unknown `sslmode`): the
/// `postgresql+asyncpg` URL asks for TLS its way; a libpq URL keeps `sslmode`.
#[test]
fn an_asyncpg_url_asks_for_tls_in_asyncpg_s_words() {
    let b = bundle(
        "wiring_fastapi_async_url",
        "deploy on Azure Container Apps with postgres",
    );
    let apps = contents(&b, "terraform/container_apps.tf");
    let url = |scheme: &str| {
        let at = apps
            .find(scheme)
            .unwrap_or_else(|| panic!("{scheme} in {apps}"));
        // Up to the end of its `export NAME="…"` line.
        apps[at..].split("\\\"\\n").next().unwrap().to_string()
    };
    assert!(
        url("postgresql+asyncpg://").ends_with("?ssl=require"),
        "{apps}"
    );
    assert!(
        url("\"postgresql://").ends_with("?sslmode=require"),
        "{apps}"
    );
}

/// A domain on Azure is refused before anything is written, and the way
/// forward fits the hosting: a VM has no https address of its own to fall
/// back on, Container Apps do.
#[test]
fn a_domain_on_azure_is_refused_with_a_way_forward_that_fits_the_hosting() {
    let message = |request: &str| match try_bundle("node_express_basic", request) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("{request}: rendered"),
    };
    let vm = message("deploy on an Azure VM, https on app.example.com");
    assert!(vm.contains("plain http on the VM's public address"), "{vm}");
    assert!(
        !vm.contains("platform's own https address (Container"),
        "{vm}"
    );
    let apps = message("deploy on Azure Container Apps, https on app.example.com");
    assert!(apps.contains("platform's own https address"), "{apps}");
}
