//! AWS static (S3 + CloudFront), serverless (Lambda + Web Adapter) and
//! kubernetes (EKS) bundles from real fixtures: `terraform fmt -check` and
//! `terraform validate` with the mirrored provider, plus a CloudFront snapshot.

mod support;

use autodeploy_core::{Analysis, Decision};
use autodeploy_render::{Bundle, RenderError, RenderOptions};

/// The real bundle: every module of the crate, as `autodeploy plan` renders it.
fn bundle(a: &Analysis, d: &Decision) -> Bundle {
    autodeploy_render::render(d, a, &RenderOptions::default())
        .unwrap_or_else(|e| panic!("render failed: {e}"))
}

fn check(b: &Bundle) {
    let (_guard, tf) = support::write_bundle(b);
    support::assert_fmt(&tf);
    support::assert_valid(&tf);
}

fn tf<'a>(b: &'a Bundle, path: &str) -> &'a str {
    &b.get(path)
        .unwrap_or_else(|| panic!("{path} missing; bundle has {:?}", b.paths()))
        .contents
}

#[test]
fn static_spa_on_cloudfront_validates() {
    let (a, d) = support::scenario("node_react_vite", "deploy this static site on AWS");
    assert!(d.network.is_none(), "static needs no VPC");
    let b = bundle(&a, &d);
    let site = tf(&b, "terraform/static_site.tf");
    assert!(site.contains("aws_cloudfront_origin_access_control"));
    assert!(site.contains("response_page_path    = \"/index.html\""));
    assert!(site.contains("cloudfront_default_certificate = true"));
    assert!(!site.contains("aws_acm_certificate"));
    check(&b);
    insta::assert_snapshot!("static_site_react_vite", site);
}

#[test]
fn static_site_with_domain_gets_a_us_east_1_certificate() {
    let (a, d) = support::scenario(
        "node_react_vite",
        "deploy this static site on AWS with https on www.example.com",
    );
    let b = bundle(&a, &d);
    let site = tf(&b, "terraform/static_site.tf");
    assert!(site.contains("provider          = aws.us_east_1"));
    assert!(site.contains("aliases             = [\"www.example.com\"]"));
    assert!(site.contains("\"https://www.example.com\""));
    // Only one certificate: CloudFront's own, not a second from tls.rs.
    let certs = b
        .files
        .iter()
        .map(|f| {
            f.contents
                .matches("resource \"aws_acm_certificate\"")
                .count()
        })
        .sum::<usize>();
    assert_eq!(certs, 1);
    check(&b);
    insta::assert_snapshot!("static_site_react_vite_domain", site);
}

/// eleventy-base-blog: a site of many pages has `/about/` as
/// about/index.html, which CloudFront's default root object does not serve
/// (the private bucket answers 403). A viewer-request function maps a
/// folder's address to its index.html; the function itself runs here.
#[test]
fn plain_static_site_serves_each_folders_index() {
    let (a, d) = support::scenario("static_hugo_site", "deploy this static site on AWS");
    let b = bundle(&a, &d);
    let site = tf(&b, "terraform/static_site.tf");
    assert!(!site.contains("custom_error_response"));
    assert!(site.contains("function_arn = aws_cloudfront_function.folder_index.arn"));
    check(&b);
    let code = site
        .split("resource \"aws_cloudfront_function\" \"folder_index\"")
        .nth(1)
        .and_then(|r| r.split("<<-EOT").nth(1))
        .and_then(|r| r.split("EOT").next())
        .expect("the function's code");
    let probe = format!(
        "{code}\nfor (const u of process.argv.slice(1)) console.log(handler({{request: {{uri: u}}}}).uri);"
    );
    let out = std::process::Command::new("node")
        .arg("-e")
        .arg(probe)
        .args([
            "/",
            "/about/",
            "/blog/first-post",
            "/css/site.css",
            "/feed.xml",
        ])
        .output()
        .expect("node runs (scripts/setup.sh installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .collect::<Vec<_>>(),
        vec![
            "/index.html",
            "/about/index.html",
            "/blog/first-post/index.html",
            "/css/site.css",
            "/feed.xml"
        ]
    );
    // A single-page app routes itself, and plain HTML's links name files:
    // no folder mapping (nor a function the AWS emulator cannot publish).
    for fixture in ["node_react_vite", "static_html_site"] {
        let (a, d) = support::scenario(fixture, "deploy this static site on AWS");
        let b = bundle(&a, &d);
        assert!(
            !tf(&b, "terraform/static_site.tf").contains("folder_index"),
            "{fixture}"
        );
    }
}

#[test]
fn lambda_web_adapter_validates() {
    let (a, d) = support::scenario("node_express_basic", "deploy on AWS Lambda");
    assert!(d.network.is_none(), "a stateless Lambda needs no VPC");
    let b = bundle(&a, &d);
    let tf = tf(&b, "terraform/serverless.tf");
    assert!(tf.contains("runtime                        = \"nodejs20.x\""));
    assert!(
        tf.contains("\"AWS_LWA_PORT\"                 = \"3000\""),
        "{tf}"
    );
    assert!(tf.contains("aws_lambda_function_url"));
    assert!(!tf.contains("vpc_config"));
    let run = b.get("lambda/run.sh").unwrap();
    assert!(run.executable);
    assert!(run.contents.contains("exec /bin/sh -c 'npm start'"));
    check(&b);
}

#[test]
fn lambda_python_validates() {
    let (a, d) = support::scenario("python_starlette", "deploy on AWS Lambda");
    let b = bundle(&a, &d);
    let tf = tf(&b, "terraform/serverless.tf");
    assert!(tf.contains("\"python3.12\""));
    assert!(tf.contains("memory_mib"));
    check(&b);
}

#[test]
fn lambda_refuses_secrets_in_environment_variables() {
    let (_a, d) = support::scenario("go_gin", "deploy on AWS Lambda");
    let err = autodeploy_render::aws::serverless::render(&d).unwrap_err();
    assert!(matches!(err, RenderError::Unsupported { .. }), "{err}");
}

#[test]
fn eks_cluster_validates() {
    let (a, d) = support::scenario("node_express_basic", "deploy on AWS EKS, 3 nodes");
    let cluster = d.cluster.clone().expect("cluster plan");
    let b = bundle(&a, &d);
    let tf = tf(&b, "terraform/eks.tf");
    assert!(tf.contains(&format!(
        "version                   = \"{}\"",
        cluster.version
    )));
    assert!(tf.contains(&format!("default     = \"{}\"", cluster.node_instance_type)));
    assert!(tf.contains("http_tokens                 = \"required\""));
    assert!(tf.contains("aws eks update-kubeconfig"));
    assert!(tf.contains("aws_iam_openid_connect_provider"));
    check(&b);
}

#[test]
fn lambda_refuses_values_that_only_exist_at_start() {
    let (_a, d) = support::scenario("python_fastapi_src_layout", "deploy on AWS Lambda");
    assert!(d.database.is_some());
    let err = autodeploy_render::aws::serverless::render(&d).unwrap_err();
    assert!(err.to_string().contains("DATABASE_URL"), "{err}");
}

#[test]
fn hostile_names_stay_inert_on_lambda_and_eks() {
    for request in ["deploy on AWS Lambda", "deploy on AWS EKS"] {
        let (a, d) = support::scenario("hostile_names", request);
        let b = bundle(&a, &d);
        for f in b.files.iter().filter(|f| f.path.starts_with("terraform/")) {
            assert!(
                !f.contents.contains("${path.module}"),
                "{}: {}",
                f.path,
                f.contents
            );
        }
        if let Some(run) = b.get("lambda/run.sh") {
            assert!(run.contents.contains("exec /bin/sh -c 'npm start'"));
        }
        check(&b);
    }
}

#[test]
fn lambda_in_a_vpc_validates() {
    // A plan whose Lambda sits in the private subnets (as with a database).
    let (a, mut d) = support::scenario("node_express_basic", "deploy on AWS Lambda");
    let (_, k) = support::scenario("node_express_basic", "deploy on AWS EKS");
    let mut net = k.network.expect("network");
    net.ingress.clear();
    d.network = Some(net);
    let b = bundle(&a, &d);
    let tf = tf(&b, "terraform/serverless.tf");
    assert!(tf.contains("subnet_ids         = aws_subnet.private[*].id"));
    assert!(tf.contains("AWSLambdaVPCAccessExecutionRole"));
    check(&b);
}
