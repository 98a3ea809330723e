//! `PLAN.md`: the bundle explained for a person — what was understood, what
//! was decided and why, warnings, the cost breakdown, the files, next steps.
//! Every value from the repository or the request passes `md`/`md_code`.
//!
//! Not here: any decision (it only shows the Decision).

use crate::{BundleFile, RenderError};
use autodeploy_core::{Decision, Hosting, Intent};
use serde_json::json;

pub fn render(
    d: &Decision,
    intent: Option<&Intent>,
    files: &[String],
) -> Result<BundleFile, RenderError> {
    // Applied where autodeploy brings the code up (the local copy, the
    // machines' launcher, the archive an ECS image is built from); elsewhere
    // the operator builds from the repository and is told what to change.
    let fixes_where = |applied: bool| -> Vec<_> {
        d.services
            .iter()
            .filter(|s| s.hosting.release_automated() == applied)
            .flat_map(|s| s.source_fixes.iter())
            .collect()
    };
    let (fixes, fixes_manual) = (fixes_where(true), fixes_where(false));
    let made_where = |applied: bool| -> Vec<_> {
        crate::distinct(
            d.services
                .iter()
                .filter(|s| s.hosting.release_automated() == applied)
                .flat_map(|s| s.files_from_example.iter()),
        )
    };
    let (made, made_manual) = (made_where(true), made_where(false));
    let understood = intent.map(understood_line).filter(|s| !s.is_empty());
    let releases: Vec<_> = d
        .services
        .iter()
        .filter_map(|s| Some((s, s.image_release()?, release_how(s.hosting)?)))
        .map(|(s, command, how)| json!({"service": s.name, "command": command, "how": how}))
        .collect();
    // The first deploy's database creation: autodeploy runs it on the local
    // target only; a cloud bundle leaves it to the operator, once.
    let inits: Vec<_> = d
        .services
        .iter()
        .filter_map(|s| Some((s, s.init.as_deref()?)))
        .map(|(s, command)| {
            json!({"service": s.name, "command": command, "local": s.hosting.is_local()})
        })
        .collect();
    let to_read = secrets_to_read(d);
    let machine = machine(d);
    let mut all_files: Vec<&str> = files.iter().map(String::as_str).collect();
    all_files.push("PLAN.md");
    all_files.sort_unstable();
    crate::file(
        "PLAN.md",
        "plan/PLAN.md",
        json!({
            "d": d,
            "understood": understood,
            "fixes": fixes,
            "fixes_manual": fixes_manual,
            "made": made,
            "made_manual": made_manual,
            "releases": releases,
            "inits": inits,
            "to_read": to_read,
            "machine": machine,
            "ecs": d.services.iter().any(|s| s.hosting == Hosting::EcsFargate),
            "site": d.services.iter().any(|s| s.hosting == Hosting::S3Cloudfront),
            "manual": d
                .services
                .iter()
                .filter(|s| !s.hosting.release_automated())
                .map(|s| format!("`{}` ({})", crate::escape::md(&s.name), hosting_words(s.hosting)))
                .collect::<Vec<_>>(),
            "files": all_files,
            "has_terraform": files.iter().any(|f| f.starts_with("terraform/")),
        }),
    )
}

/// What each VM runs (the VM strategies, `vm_service`): a row per process
/// with its systemd unit, and whether the machines form a group.
fn machine(d: &Decision) -> Option<serde_json::Value> {
    if !d.services.iter().all(|s| s.hosting.is_vm()) || d.services.is_empty() {
        return None;
    }
    let units = crate::vm_service::unit_names(&d.services);
    let processes: Vec<_> = d
        .services
        .iter()
        .zip(units)
        .map(|(s, unit)| {
            let role = if unit == crate::vm_service::WEB_UNIT {
                "web service: public traffic (nginx or the load balancer) and the health checks go to it"
            } else {
                "worker beside the web service (no port)"
            };
            json!({"service": s.name, "unit": format!("{unit}.service"), "role": role})
        })
        .collect();
    let scaled = d.services.iter().any(|s| s.hosting.is_scaled_vm());
    let lock = d
        .services
        .iter()
        .find_map(|s| crate::vm_service::release_lock_engine(d, s, scaled))
        .map(|e| {
            if e == autodeploy_core::DatabaseEngine::Mysql {
                "MySQL's `GET_LOCK`"
            } else {
                "PostgreSQL's advisory lock"
            }
        });
    Some(json!({
        "scaled": scaled,
        "release_lock": lock,
        "processes": processes,
    }))
}

/// The generated values people use (`SecretPlan::read_by_people`): which
/// settings they feed and the command that reads each from its store.
fn secrets_to_read(d: &Decision) -> Vec<serde_json::Value> {
    use autodeploy_core::SecretStore;
    d.secrets
        .iter()
        .filter(|s| s.read_by_people)
        .map(|s| {
            // Secret names are slugs (`admin-password`): safe in a shell
            // word and a jq string as they are.
            let name = &s.name;
            let from_output = format!(
                "terraform -chdir=terraform output -json secrets_to_read | jq -r '.[\"{name}\"]'"
            );
            let read = match s.store {
                SecretStore::AwsSecretsManager => format!(
                    "aws secretsmanager get-secret-value --secret-id \"$({from_output})\" --query SecretString --output text"
                ),
                SecretStore::GcpSecretManager => format!(
                    "gcloud secrets versions access latest --secret=\"$({from_output})\""
                ),
                SecretStore::AzureKeyVault => format!(
                    "az keyvault secret show --vault-name \"$(terraform -chdir=terraform output -raw key_vault_name)\" --name {} --query value -o tsv",
                    crate::azure::env::slot(name)
                ),
                // Kept across releases in the deployment's folder, by name.
                SecretStore::LocalEnvFile => format!(
                    "grep '^{name}=' \"${{AUTODEPLOY_HOME:-$HOME/.local/share/autodeploy}}/deployments/<id>/generated.env\""
                ),
            };
            let settings: Vec<String> = s
                .used_by
                .iter()
                .map(|u| u.replacen(':', " ", 1))
                .collect();
            json!({"name": name, "settings": settings.join(", "), "read": read})
        })
        .collect()
}

/// When and where a service's release step (migrations) runs on `hosting`,
/// for the hostings whose bundles run it apart from the start command.
fn release_how(hosting: Hosting) -> Option<&'static str> {
    match hosting {
        Hosting::EcsFargate => Some(
            "once per deploy, as a one-off ECS task of the new image with the service's settings, after the image is built and before the service rolls to the new version; if it fails, nothing is rolled out and the running version keeps serving",
        ),
        Hosting::CloudRun => Some(
            "once per deploy, as a Cloud Run job of the new image with the service's settings (the `release_job` output), executed with `gcloud run jobs execute --wait` after the image is built and before the service rolls to it; the instances never run it",
        ),
        Hosting::ContainerApps => Some(
            "once per deploy, as a Container Apps job of the new image with the app's settings (the `release_jobs` output), started with `az containerapp job start` after the image is pushed and before the app takes it; the replicas never run it",
        ),
        h if h.is_single_vm() => Some(
            "at each boot of the machine, after the build and before any process starts; if it fails, no process starts",
        ),
        h if h.is_scaled_vm() => Some(
            "at each new instance's boot, after the build and before its processes start (see \"On each machine\" for how instances take turns)",
        ),
        h if h.is_kubernetes() => Some(
            "once per deploy, as the Kubernetes Job in the service's release-job.yaml: apply it with the new image and wait until it completes before applying the new Deployment; the pods never run it",
        ),
        _ => None,
    }
}

/// The non-null fields of the Intent, as `field: value` pairs.
fn understood_line(intent: &Intent) -> String {
    let Ok(serde_json::Value::Object(map)) = serde_json::to_value(intent) else {
        return String::new();
    };
    map.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => format!("{k}: {s}"),
            other => format!("{k}: {other}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A hosting as PLAN.md names it in its next steps.
fn hosting_words(h: Hosting) -> &'static str {
    match h {
        Hosting::CloudRun => "Cloud Run",
        Hosting::Gke => "GKE",
        Hosting::ContainerApps => "Azure Container Apps",
        Hosting::Aks => "AKS",
        Hosting::Eks => "EKS",
        Hosting::Lambda => "Lambda",
        Hosting::CloudStorageCdn => "Cloud Storage + CDN",
        Hosting::StaticWebApps => "Azure Static Web Apps",
        _ => "this hosting",
    }
}
