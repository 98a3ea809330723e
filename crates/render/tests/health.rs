//! Health checks that fit the app (issue #12, point 3), end to end from the
//! real analyze → parse → decide stages on three small fixtures:
//! - `health_flask_api_healthz`: a Flask API with only `/api/items` and
//!   `/healthz` (and an optional `SERVER_NAME` setting);
//! - `health_django_hosts_env`: Django reading `ALLOWED_HOSTS` from
//!   `WEB_HOSTS` (a name of its own, found in its settings), with its own `health_check/` route;
//! - `health_fastapi_no_routes_known`: an API with no health route and
//!   nothing at `/`.
//!
//! For each: the plan's one choice (path, accepted answers, reason) and how
//! every cloud renders it. AWS bundles also pass `terraform validate`.
mod support;

use autodeploy_core::{Decision, HealthAnswer, Hosting, Origin};
use autodeploy_render::{render, Bundle, RenderOptions};
use support::{assert_fmt, assert_valid, scenario, write_bundle};

fn plan(fixture: &str, request: &str) -> (Decision, Bundle) {
    let (analysis, decision) = scenario(fixture, request);
    let b = render(&decision, &analysis, &RenderOptions::default()).expect("renders");
    (decision, b)
}

fn contents<'a>(b: &'a Bundle, path: &str) -> &'a str {
    &b.get(path)
        .unwrap_or_else(|| panic!("{path} in {:?}", b.paths()))
        .contents
}

/// The file of the bundle whose path ends with `suffix`.
fn ending<'a>(b: &'a Bundle, suffix: &str) -> &'a str {
    &b.files
        .iter()
        .find(|f| f.path.ends_with(suffix))
        .unwrap_or_else(|| panic!("*{suffix} in {:?}", b.paths()))
        .contents
}

fn validates(b: &Bundle) {
    let (_dir, tf) = write_bundle(b);
    assert_fmt(&tf);
    assert_valid(&tf);
}

const FLASK: &str = "health_flask_api_healthz";
const DJANGO: &str = "health_django_hosts_env";
const NO_ROUTE: &str = "health_fastapi_no_routes_known";

#[test]
fn the_plan_picks_the_apps_own_route_else_any_answer_below_500() {
    for (fixture, path, accept, origin) in [
        (FLASK, "/healthz", HealthAnswer::Success, Origin::Analysis),
        (
            DJANGO,
            "/health_check/",
            HealthAnswer::Success,
            Origin::Analysis,
        ),
        (NO_ROUTE, "/", HealthAnswer::AnyAnswer, Origin::Default),
    ] {
        let (d, b) = plan(fixture, "deploy on AWS with containers");
        let h = d.services[0]
            .health_check
            .as_ref()
            .expect("a web service has one");
        assert_eq!(
            (h.path.as_str(), h.accept, h.path_origin),
            (path, accept, origin),
            "{fixture}"
        );
        // PLAN.md shows the choice and why.
        let row = support::plan_row(&b, &format!("GET {path} ` on port"));
        // (Markdown escapes `_`.)
        assert!(
            row.contains(&h.reason.replace('_', "\\_")),
            "{fixture}: {row}"
        );
        let answers = if accept == HealthAnswer::Success {
            "| 200-399 |"
        } else {
            "| any below 500"
        };
        assert!(row.contains(answers), "{fixture}: {row}");
    }
}

#[test]
fn aws_alb_matcher_follows_the_plan_and_validates() {
    for (fixture, path, matcher) in [(FLASK, "/healthz", "200-399"), (NO_ROUTE, "/", "200-499")] {
        let (d, b) = plan(fixture, "deploy on AWS with containers");
        assert_eq!(d.services[0].hosting, Hosting::EcsFargate, "{fixture}");
        let alb = contents(&b, "terraform/container_alb.tf");
        assert!(
            alb.contains(&format!("path                = \"{path}\"")),
            "{alb}"
        );
        assert!(
            alb.contains(&format!("matcher             = \"{matcher}\"")),
            "{alb}"
        );
        validates(&b);
    }
    let (d, b) = plan(
        NO_ROUTE,
        "deploy on AWS with autoscaling 2 to 4 instances on VMs",
    );
    assert_eq!(d.services[0].hosting, Hosting::Ec2Autoscaling);
    let compute = contents(&b, "terraform/compute.tf");
    assert!(
        compute.contains("matcher             = \"200-499\""),
        "{compute}"
    );
    validates(&b);
}

/// Django answers 400 to a Host not on ALLOWED_HOSTS; the ALB checks send
/// the target's address. ECS adds the task's own addresses at start, EC2
/// the machine's at boot; the health check itself still wants 200-399.
#[test]
fn django_allowed_hosts_accept_the_load_balancers_checks_on_aws() {
    let (d, b) = plan(
        DJANGO,
        "deploy on AWS with containers, https on app.example.com",
    );
    let s = &d.services[0];
    assert!(s.env.iter().any(|e| e.name == "WEB_HOSTS"), "{:?}", s.env);
    let tasks = contents(&b, "terraform/container_tasks.tf");
    assert!(
        tasks.contains("\"app.example.com\", aws_lb.main.dns_name"),
        "{tasks}"
    );
    assert!(tasks.contains("hostname -i"), "{tasks}");
    let alb = contents(&b, "terraform/container_alb.tf");
    assert!(alb.contains("matcher             = \"200-399\""), "{alb}");
    validates(&b);

    let (_, b) = plan(
        DJANGO,
        "deploy on AWS with autoscaling 2 to 4 instances on VMs",
    );
    let init = contents(&b, "cloud-init.yaml");
    // The launcher's configuration (JSON inside a YAML string).
    assert!(
        init.contains(r#"\"from\": \"allowed_hosts\",\n      \"name\": \"WEB_HOSTS\""#),
        "{init}"
    );
    assert!(init.contains("[\"hostname\", \"-I\"]"), "{init}");
}

#[test]
fn gcp_uses_the_route_or_a_tcp_check() {
    // Compute Engine instance group: HTTP check on the route (with the
    // public Host), TCP when any answer below 500 counts.
    let (_, b) = plan(FLASK, "deploy on GCP compute engine, 2 to 4 instances");
    let c = contents(&b, "terraform/compute.tf");
    assert!(c.contains("request_path = \"/healthz\""), "{c}");
    assert!(!c.contains("tcp_health_check"), "{c}");
    let (_, b) = plan(NO_ROUTE, "deploy on GCP compute engine, 2 to 4 instances");
    let c = contents(&b, "terraform/compute.tf");
    assert!(c.contains("tcp_health_check {"), "{c}");
    assert!(!c.contains("http_health_check"), "{c}");

    // Cloud Run: startup + liveness on the route; a TCP startup probe only.
    let (_, b) = plan(FLASK, "deploy on gcp cloud run");
    let run = ending(&b, "cloud_run_service.tf");
    assert!(
        run.contains("startup_probe {\n        http_get {\n          path = \"/healthz\""),
        "{run}"
    );
    assert!(
        run.contains("liveness_probe {\n        http_get {\n          path = \"/healthz\""),
        "{run}"
    );
    let (_, b) = plan(NO_ROUTE, "deploy on gcp cloud run");
    let run = ending(&b, "cloud_run_service.tf");
    assert!(
        run.contains("startup_probe {\n        tcp_socket {"),
        "{run}"
    );
    assert!(!run.contains("http_get"), "{run}");
    assert!(!run.contains("liveness_probe"), "{run}");

    // Django's allowed hosts: the probes send a Host on the list.
    let (_, b) = plan(DJANGO, "deploy on gcp cloud run");
    let run = ending(&b, "cloud_run_service.tf");
    assert!(run.contains("path = \"/health_check/\""), "{run}");
    assert!(run.contains("name  = \"Host\""), "{run}");
}

#[test]
fn azure_probes_follow_the_plan() {
    let (_, b) = plan(FLASK, "deploy on Azure Container Apps");
    let apps = contents(&b, "terraform/container_apps.tf");
    assert!(apps.contains("transport = \"HTTP\""), "{apps}");
    assert!(apps.contains("path      = \"/healthz\""), "{apps}");
    let (_, b) = plan(NO_ROUTE, "deploy on Azure Container Apps");
    let apps = contents(&b, "terraform/container_apps.tf");
    assert!(apps.contains("transport = \"TCP\""), "{apps}");
    assert!(!apps.contains("transport = \"HTTP\""), "{apps}");
    let (_, b) = plan(DJANGO, "deploy on Azure Container Apps");
    let apps = contents(&b, "terraform/container_apps.tf");
    assert!(apps.contains("path      = \"/health_check/\""), "{apps}");
    assert!(
        apps.contains("header {\n          name  = \"Host\""),
        "{apps}"
    );

    // Scale set behind the Standard LB (whose HTTP probe takes only 200):
    // the route itself, or nginx's gate that turns a 4xx into 200.
    let vmss = "deploy on Azure with autoscaling 2 to 6 instances on VMs";
    let (_, b) = plan(FLASK, vmss);
    let c = contents(&b, "terraform/compute.tf");
    assert!(c.contains("request_path        = \"/healthz\""), "{c}");
    assert!(!contents(&b, "cloud-init.yaml").contains("autodeploy-health"));
    let (_, b) = plan(NO_ROUTE, vmss);
    let c = contents(&b, "terraform/compute.tf");
    assert!(
        c.contains("request_path        = \"/autodeploy-health\""),
        "{c}"
    );
    let init = contents(&b, "cloud-init.yaml");
    assert!(init.contains("location = /autodeploy-health {"), "{init}");
    assert!(init.contains("proxy_intercept_errors on;"), "{init}");
}

#[test]
fn kubernetes_probes_use_tcp_when_no_route_is_known() {
    let (_, b) = plan(FLASK, "deploy on aws with kubernetes");
    let dep = ending(&b, "/deployment.yaml");
    assert_eq!(dep.matches("path: \"/healthz\"").count(), 3, "{dep}");
    assert!(!dep.contains("tcpSocket"), "{dep}");
    let ing = ending(&b, "/ingress.yaml");
    assert!(ing.contains("success-codes: \"200-399\""), "{ing}");

    let (_, b) = plan(NO_ROUTE, "deploy on aws with kubernetes");
    let dep = ending(&b, "/deployment.yaml");
    assert_eq!(dep.matches("tcpSocket:").count(), 3, "{dep}");
    assert!(!dep.contains("httpGet"), "{dep}");
    let ing = ending(&b, "/ingress.yaml");
    assert!(ing.contains("success-codes: \"200-499\""), "{ing}");

    // The allow-list of hosts holds the domain: the probes send it.
    let (_, b) = plan(
        DJANGO,
        "deploy on aws with kubernetes, https on app.example.com",
    );
    let dep = ending(&b, "/deployment.yaml");
    assert_eq!(
        dep.matches("value: \"app.example.com\"").count(),
        3,
        "{dep}"
    );
}

/// A local server answering every request with `status`; its port.
fn answer_with(status: u16) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut buf = [0u8; 1024];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(
                format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            );
        }
    });
    port
}

/// Runs the Dockerfile's HEALTHCHECK command against `port` instead of the
/// app's (python3 for the image's `python`); true when it says healthy.
fn healthcheck_passes(dockerfile: &str, app_port: u16, port: u16) -> bool {
    let line = dockerfile
        .lines()
        .skip_while(|l| !l.starts_with("HEALTHCHECK"))
        .nth(1)
        .expect("a HEALTHCHECK line");
    let json = line.trim().strip_prefix("CMD ").expect("CMD [...]");
    let mut argv: Vec<String> = serde_json::from_str(json).unwrap();
    for a in &mut argv {
        *a = a.replace(
            &format!("127.0.0.1:{app_port}"),
            &format!("127.0.0.1:{port}"),
        );
    }
    assert_eq!(argv[0], "python", "{line}");
    std::process::Command::new("python3")
        .args(&argv[1..])
        .status()
        .expect("python3 runs")
        .success()
}

/// The image's own HEALTHCHECK accepts what the plan accepts, run for real
/// against local servers answering 200, 404 and 500, and a closed port.
#[test]
fn dockerfile_healthcheck_takes_what_the_plan_takes() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (ok, missing, broken) = (answer_with(200), answer_with(404), answer_with(500));

    let (_, b) = plan(NO_ROUTE, "deploy on AWS with containers");
    let docker = contents(&b, "Dockerfile");
    let any = |p| healthcheck_passes(docker, 8000, p);
    assert_eq!(
        (any(ok), any(missing), any(broken), any(closed)),
        (true, true, false, false),
        "any answer below 500: {docker}"
    );

    let (_, b) = plan(FLASK, "deploy on AWS with containers");
    let docker = contents(&b, "Dockerfile");
    assert!(docker.contains("127.0.0.1:5000/healthz"), "{docker}");
    let route = |p| healthcheck_passes(docker, 5000, p);
    assert_eq!(
        (route(ok), route(missing), route(broken), route(closed)),
        (true, false, false, false),
        "the health route, 200-399: {docker}"
    );
}

/// The tool never sets Flask's SERVER_NAME (every other Host would get 404).
#[test]
fn flask_server_name_is_never_set() {
    for request in [
        "deploy on AWS with containers",
        "deploy on gcp cloud run",
        "deploy on Azure Container Apps",
        "deploy on AWS on a VM",
    ] {
        let (d, b) = plan(FLASK, request);
        assert!(
            d.services
                .iter()
                .all(|s| s.env.iter().all(|e| e.name != "SERVER_NAME")),
            "{request}"
        );
        for f in &b.files {
            assert!(!f.contents.contains("SERVER_NAME"), "{request}: {}", f.path);
        }
    }
}
