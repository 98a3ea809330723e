//! The Azure static strategy: one Azure Static Web App per static service
//! (`Hosting::StaticWebApps`), Free tier, https on the platform's own
//! `*.azurestaticapps.net` host. Writes `terraform/static_web_apps.tf` and
//! `terraform/outputs.tf`.
//!
//! Static Web Apps exist in a handful of regions only (the content itself is
//! served from Azure's edge everywhere), so the resource's location is the
//! nearest of those to the plan's region (`var.static_web_app_location`).
//!
//! Contract with the deploy stage: it builds each site (the plan's build
//! command, output folder `static_dir`) and uploads the folder with the app's
//! deployment token, which it reads with `az staticwebapp secrets list`; the
//! token is never an output of this bundle.
//!
//! Not here: custom domains (not written yet: `unsupported` in mod.rs), API
//! functions, building the site (the deploy stage does).

use super::slug;
use crate::{file, unsupported, BundleFile, RenderError};
use autodeploy_core::{Decision, Hosting, ServiceKind};
use serde_json::json;

/// Regions that host Static Web Apps.
const SWA_REGIONS: [&str; 5] = ["westus2", "centralus", "eastus2", "westeurope", "eastasia"];

/// The Static Web Apps region nearest to `region`.
fn swa_region(region: &str) -> &'static str {
    if let Some(r) = SWA_REGIONS.iter().find(|r| **r == region) {
        return r;
    }
    let europe = [
        "europe",
        "uk",
        "france",
        "germany",
        "norway",
        "sweden",
        "switzerland",
        "poland",
        "italy",
        "spain",
        "israel",
        "qatar",
        "uae",
        "africa",
    ];
    let asia = [
        "asia",
        "japan",
        "korea",
        "australia",
        "india",
        "indonesia",
        "malaysia",
        "newzealand",
    ];
    if europe.iter().any(|k| region.contains(k)) {
        "westeurope"
    } else if asia.iter().any(|k| region.contains(k)) {
        "eastasia"
    } else if region.starts_with("west") || region.contains("canada") && region.contains("west") {
        "westus2"
    } else if region.contains("central") || region.contains("brazil") || region.contains("mexico") {
        "centralus"
    } else {
        "eastus2"
    }
}

/// static_web_apps.tf and outputs.tf.
pub fn render(d: &Decision) -> Result<Vec<BundleFile>, RenderError> {
    let mut sites = Vec::new();
    for (i, s) in d.services.iter().enumerate() {
        if s.hosting != Hosting::StaticWebApps || s.kind != ServiceKind::Static {
            return Err(unsupported(
                d,
                &format!("`{}` beside static sites on Azure", s.name),
                "the static strategy serves static sites only; run apps on Azure Container Apps",
            ));
        }
        let name = slug(&s.name, 40);
        if sites
            .iter()
            .any(|x: &serde_json::Value| x["name"] == name.as_str())
        {
            return Err(unsupported(
                d,
                "two static sites with the same Azure name",
                "rename one of the services",
            ));
        }
        sites.push(json!({"index": i, "name": name, "service": s.name}));
    }
    let ctx = json!({ "sites": sites, "location": swa_region(&d.region) });
    Ok(vec![
        file(
            "terraform/static_web_apps.tf",
            "azure/static/terraform/static_web_apps.tf",
            &ctx,
        )?,
        file(
            "terraform/outputs.tf",
            "azure/static/terraform/outputs.tf",
            &ctx,
        )?,
    ])
}

#[cfg(test)]
mod tests {
    use super::swa_region;

    #[test]
    fn nearest_static_web_apps_region() {
        assert_eq!(swa_region("eastus"), "eastus2");
        assert_eq!(swa_region("westeurope"), "westeurope");
        assert_eq!(swa_region("germanywestcentral"), "westeurope");
        assert_eq!(swa_region("japaneast"), "eastasia");
        assert_eq!(swa_region("westus3"), "westus2");
        assert_eq!(swa_region("southcentralus"), "centralus");
    }
}
