//! Azure bundles end to end: real analyze → parse → decide on a fixture,
//! render, then `terraform fmt -check` and an HCL parse of every `.tf` file
//! (the azurerm provider is not mirrored here, so no `terraform validate`;
//! `terraform fmt` on a single file parses it as HCL and fails on any syntax
//! error — `hcl-rs` could not be fetched offline).
mod support;

use autodeploy_render::{render, Bundle, RenderError, RenderOptions};
use std::path::Path;
use support::{assert_fmt, scenario, write_bundle};

fn try_bundle(fixture: &str, request: &str) -> Result<Bundle, RenderError> {
    let (analysis, decision) = scenario(fixture, request);
    assert_eq!(decision.cloud.as_str(), "azure", "{request}");
    render(&decision, &analysis, &RenderOptions::default())
}

fn contents<'a>(b: &'a Bundle, path: &str) -> &'a str {
    &b.get(path)
        .unwrap_or_else(|| panic!("{path} in {:?}", b.paths()))
        .contents
}

/// fmt -check on the directory, then every `.tf` file parsed on its own.
fn check_terraform(b: &Bundle) {
    let (_dir, tf) = write_bundle(b);
    assert_fmt(&tf);
    let mut n = 0;
    for entry in std::fs::read_dir(&tf).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "tf") {
            parse_hcl(&p);
            n += 1;
        }
    }
    assert!(n >= 5, "expected the common files and the strategy's");
    let versions = contents(b, "terraform/versions.tf");
    assert!(versions.contains("azurerm = {"));
    assert!(versions.contains("source  = \"hashicorp/azurerm\""));
    assert!(versions.contains("version = \"~> 4.0\""));
    for f in &b.files {
        if f.path.ends_with(".tf") {
            assert!(!f.contents.contains("hashicorp/aws"), "{}", f.path);
            assert!(!f.contents.contains("hashicorp/random"), "{}", f.path);
        }
    }
}

fn parse_hcl(file: &Path) {
    let out = std::process::Command::new("terraform")
        .args(["fmt", "-check", "-no-color"])
        .arg(file)
        .output()
        .expect("terraform is on PATH");
    assert!(
        out.status.success(),
        "{} does not parse:\n{}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn express_on_container_apps_renders() {
    let b = try_bundle(
        "node_express_basic",
        "deploy on azure container apps, 2 to 5 instances in westeurope",
    )
    .expect("renders");
    let apps = contents(&b, "terraform/container_apps.tf");
    assert!(apps.contains("min_replicas = 2"));
    assert!(apps.contains("max_replicas = 5"));
    assert!(apps.contains("target_port      = 3000"));
    assert!(apps.contains("external_enabled = true"));
    assert!(apps.contains("admin_enabled       = false"));
    assert!(contents(&b, "terraform/variables.tf").contains("\"westeurope\""));
    assert_interpolations_are_ours(&b);
    check_terraform(&b);
    insta::assert_snapshot!("azure_express_container_apps_tf", apps);
}

#[test]
fn hello_world_vm_is_unsupported_loudly() {
    let err = try_bundle("hello_world_shape", "deploy on Azure").unwrap_err();
    assert!(matches!(err, RenderError::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains("azure"), "{err}");
}

#[test]
fn django_with_postgres_is_unsupported_loudly() {
    let err = try_bundle(
        "python_django_postgres",
        "Django on Azure Container Apps with Postgres",
    )
    .unwrap_err();
    assert!(err.to_string().contains("database"), "{err}");
}

/// Every live `${…}` interpolation in the bundle's Terraform is one the
/// templates wrote, never text from the repository.
fn assert_interpolations_are_ours(b: &Bundle) {
    for f in b.files.iter().filter(|f| f.path.ends_with(".tf")) {
        let text = f.contents.replace("$${", "");
        for (i, _) in text.match_indices("${") {
            let rest = &text[i + 2..];
            assert!(
                ["azurerm_", "var.", "local.", "data.", "substr(", "sha1("]
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

#[test]
fn hostile_names_stay_inert() {
    let b = try_bundle("hostile_names", "deploy on Azure Container Apps").expect("renders");
    let apps = contents(&b, "terraform/container_apps.tf");
    // The service name reaches Azure only as a [a-z0-9-] slug.
    assert!(apps.contains("name                         = \"web-touch-pwned-path-module\""));
    assert_interpolations_are_ours(&b);
    check_terraform(&b);
}
