//! GCP bundles (hashicorp/google ~> 6.0) on real fixtures through the real
//! analyze → parse → decide stages. The google provider is not mirrored
//! here, so each bundle is checked with `terraform fmt -check` and by parsing
//! every `.tf` file as HCL (hcl-rs), not with `terraform validate`. What is
//! not written yet must fail loudly as `unsupported`.

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
    if let Ok(dir) = std::env::var("AUTODEPLOY_DUMP") {
        let slug: String = request
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        b.write_to(&std::path::Path::new(&dir).join(format!("{fixture}-{slug}")))
            .unwrap();
    }
    b
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
    for (fixture, request) in [
        ("hello_world_shape", "deploy on GCP"),
        (
            "python_django_postgres",
            "Django on Google Cloud Run with Postgres",
        ),
    ] {
        let e = try_bundle(fixture, request).expect_err("not written yet");
        assert!(
            matches!(e, RenderError::Unsupported { .. }),
            "{fixture} / {request}: {e}"
        );
        assert!(e.to_string().contains("not written yet"), "{e}");
    }
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
