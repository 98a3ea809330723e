//! AWS static hosting (strategy `static`): a private, encrypted, versioned S3
//! bucket behind a CloudFront distribution that reads it through Origin
//! Access Control, with the single-page-app fallback (403/404 → `/index.html`)
//! for SPA builds and, when the plan has a domain, its own ACM certificate in
//! us-east-1 (CloudFront takes no other region) plus Route53 alias records.
//!
//! Beside containers (`ServicePlan::api_route`), the distribution also
//! forwards the API's path (`/_api/*`, every method, nothing cached) to the
//! ALB `aws_lb.main` over http, a CloudFront Function removing the prefix,
//! so the browser calls the API on the site's own https origin.
//!
//! Not here: building the site or uploading its files (the deploy stage does,
//! with the `bucket_name` / `distribution_id` / `upload_dir` outputs), the
//! shared versions/variables/locals (network.rs), and ACM for load balancers
//! (tls.rs, which renders nothing for this strategy).

use crate::{BundleFile, RenderError};
use autodeploy_core::{CertificateProvider, Decision, DnsProvider, Hosting};
use serde::Serialize;

/// Frameworks whose build is a single-page app that routes in the browser.
const SPA_FRAMEWORKS: &[&str] = &[
    "react-vite",
    "create-react-app",
    "angular",
    "vue",
    "vite",
    "svelte",
    "preact",
    "solid",
    "ember",
];

/// Site generators that write each page as a folder's `index.html`
/// (`/about/` is `about/index.html`): CloudFront's default root object
/// serves only `/`, so their folders are mapped by a function. Plain HTML
/// (whose links name files) and Next.js's export (`about.html`) are not.
const FOLDER_PAGE_GENERATORS: &[&str] = &[
    "eleventy",
    "hugo",
    "jekyll",
    "zola",
    "mkdocs",
    "astro",
    "gatsby",
    "docusaurus",
    "vuepress",
    "vitepress",
    "hexo",
    "gridsome",
    "sveltekit",
];

#[derive(Serialize)]
struct Cert {
    domains: Vec<String>,
    zone: String,
    record: String,
}

/// The API the site forwards its `prefix` path to (the ALB in front of it).
#[derive(Serialize)]
struct Api {
    service_label: String,
    prefix: String,
    /// Characters the CloudFront Function removes from the path.
    strip: usize,
}

#[derive(Serialize)]
struct Ctx {
    service_label: String,
    upload_dir: String,
    spa: bool,
    /// Pages are folders' `index.html` ([`FOLDER_PAGE_GENERATORS`]).
    folder_pages: bool,
    cert: Option<Cert>,
    api: Option<Api>,
}

/// `path/static_dir`, without `./` noise.
fn upload_dir(path: &str, static_dir: &str) -> String {
    let parts: Vec<&str> = [path, static_dir]
        .iter()
        .map(|p| p.trim_matches('/'))
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

pub fn render(d: &Decision) -> Result<Vec<BundleFile>, RenderError> {
    // A site in front of the API beside it (container strategy), or the
    // bundle's only service.
    let svc = match (d.site_front(), d.services.as_slice()) {
        (Some(site), _) => site,
        (None, [svc]) => svc,
        _ => {
            return Err(crate::unsupported(
                d,
                "several services on S3 + CloudFront",
                "static hosting renders one site per bundle; deploy each site separately",
            ))
        }
    };
    if svc.hosting != Hosting::S3Cloudfront {
        return Err(crate::unsupported(
            d,
            "a service that is not a static site",
            "the static strategy serves files only; choose vm, container or serverless for code that runs",
        ));
    }
    let cert = match &d.tls.certificate {
        Some(c) if c.provider == CertificateProvider::Acm => {
            let dns = d
                .tls
                .dns
                .as_ref()
                .filter(|n| n.provider == DnsProvider::Route53);
            let (Some(dns), false) = (dns, c.domains.is_empty()) else {
                return Err(crate::unsupported(
                    d,
                    "an ACM certificate without a Route53 zone",
                    "the certificate is validated through DNS records in a Route53 hosted zone; give a domain whose zone is in Route53",
                ));
            };
            Some(Cert {
                domains: c.domains.clone(),
                zone: dns.zone.clone(),
                record: dns.record.clone(),
            })
        }
        Some(c) if c.provider == CertificateProvider::PlatformDefault => None,
        None => None,
        Some(c) => {
            return Err(crate::unsupported(
                d,
                &format!("a {:?} certificate on CloudFront", c.provider),
                "CloudFront serves its own address or an ACM certificate from us-east-1",
            ))
        }
    };
    let spa = svc
        .runtime
        .framework
        .as_deref()
        .is_some_and(|f| SPA_FRAMEWORKS.contains(&f));
    let api = match &svc.api_route {
        Some(route) if super::network::has_alb(d) => Some(Api {
            service_label: route.service.replace(|c: char| c.is_control(), " "),
            prefix: route.path_prefix.clone(),
            strip: route.path_prefix.chars().count(),
        }),
        Some(route) => return Err(crate::unsupported(
            d,
            &format!(
                "the site forwarding {} without a load balancer",
                route.path_prefix
            ),
            "CloudFront forwards the API's path to the Application Load Balancer in front of it",
        )),
        None => None,
    };
    if let Some(api) = &api {
        // The prefix lands in a CloudFront path pattern and a JavaScript
        // string: a plain path only.
        let plain = api.prefix.starts_with('/')
            && api.prefix[1..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !plain || api.prefix.len() < 2 {
            return Err(crate::unsupported(
                d,
                &format!("the API path {:?}", api.prefix),
                "the forwarded path is a plain `/name` prefix",
            ));
        }
    }
    let folder_pages = !spa
        && svc
            .runtime
            .framework
            .as_deref()
            .is_some_and(|f| FOLDER_PAGE_GENERATORS.contains(&f));
    let ctx = Ctx {
        service_label: svc.name.replace(|c: char| c.is_control(), " "),
        upload_dir: upload_dir(&svc.path, svc.static_dir.as_deref().unwrap_or(".")),
        spa,
        folder_pages,
        cert,
        api,
    };
    Ok(vec![crate::file(
        "terraform/static_site.tf",
        "aws/static/terraform/static_site.tf",
        ctx,
    )?])
}

#[cfg(test)]
mod tests {
    use super::upload_dir;

    #[test]
    fn upload_dir_joins_without_dots() {
        assert_eq!(upload_dir(".", "dist"), "dist");
        assert_eq!(upload_dir("web", "."), "web");
        assert_eq!(upload_dir("web/", "build"), "web/build");
        assert_eq!(upload_dir(".", "."), ".");
    }
}
