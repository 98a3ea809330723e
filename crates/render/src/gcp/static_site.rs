//! GCP static hosting (`Hosting::CloudStorageCdn`): a Cloud Storage bucket
//! `google_storage_bucket.site` (uniform access, versioned, objects publicly
//! readable: it is a public web site) behind the global external Application
//! Load Balancer with Cloud CDN on a backend bucket (lb.rs), plus a managed
//! certificate and DNS record with a domain (dns.rs). SPAs get `index.html`
//! as the not-found page so client-side routes load.
//!
//! The files are uploaded by the deploy stage (the `upload_command` output:
//! build first when the service has a build command, then
//! `gcloud storage rsync` of the served folder). Not here: building the site.

use super::Part;
use crate::escape::{hcl, sh};
use crate::{file, RenderError};
use autodeploy_core::{Decision, Hosting};
use serde_json::json;

pub fn render(d: &Decision) -> Result<Part, RenderError> {
    let [s] = d.services.as_slice() else {
        return Err(crate::unsupported(
            d,
            "several services on GCP static hosting",
            "a static bundle serves one site; ask for Cloud Run or GKE for the others",
        ));
    };
    if s.hosting != Hosting::CloudStorageCdn {
        return Err(crate::unsupported(
            d,
            "this service's hosting on the static strategy",
            "GCP static sites are served from Cloud Storage behind Cloud CDN",
        ));
    }
    if d.tls.https && d.tls.domain.is_none() {
        return Err(crate::unsupported(
            d,
            "https for a static site without a domain",
            "a Google-managed certificate needs a domain you own (\"https on www.example.com\")",
        ));
    }
    let rel = s.path.trim_start_matches("./");
    let dir = s.static_dir.as_deref().unwrap_or(".");
    let folder = match (rel, dir) {
        ("" | ".", d) => d.to_string(),
        (r, "." | "") => r.to_string(),
        (r, d) => format!("{r}/{d}"),
    };
    if folder.starts_with('/') || folder.split('/').any(|c| c == "..") {
        return Err(crate::unsupported(
            d,
            &format!("the served folder {folder:?}"),
            "the site's folder must stay inside the repository",
        ));
    }
    let spa = s.runtime.framework.as_deref().is_some_and(|f| {
        let f = f.to_ascii_lowercase();
        ["react", "vue", "angular", "svelte", "vite", "spa"]
            .iter()
            .any(|k| f.contains(k))
    });
    let mut upload = String::new();
    if let Some(b) = &s.build {
        let cwd = if rel.is_empty() || rel == "." {
            "."
        } else {
            rel
        };
        let steps: Vec<&str> = s
            .install
            .iter()
            .map(String::as_str)
            .chain([b.as_str()])
            .collect();
        upload.push_str(&format!("(cd {} && {}) && ", sh(cwd), steps.join(" && ")));
    }
    upload.push_str(&format!(
        "gcloud storage rsync --recursive --delete-unmatched-destination-objects {} gs://@BUCKET@",
        sh(&folder)
    ));
    let https = d.tls.https && d.tls.domain.is_some();
    let ctx = json!({
        "static": true,
        "https": https,
        "domain": d.tls.domain.as_deref().map(hcl),
        "not_found": if spa { "index.html" } else { "404.html" },
        "upload": hcl(&upload),
    });
    let mut files = vec![
        file("terraform/site.tf", "gcp/static/site.tf", &ctx)?,
        super::lb::render(d, &ctx)?,
        file("terraform/outputs.tf", "gcp/static/outputs.tf", &ctx)?,
    ];
    let dns = super::dns::render(d)?;
    files.extend(dns.files);
    let mut apis = vec!["compute.googleapis.com", "storage.googleapis.com"];
    apis.extend(dns.apis);
    Ok(Part {
        apis,
        files,
        vars: dns.vars,
    })
}
