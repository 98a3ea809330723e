//! The health check of a web service: which path, which answers count as
//! healthy, and why — one choice per service ([`HealthCheckPlan`]) that every
//! cloud's templates render (ALB target group matcher, instance group and
//! load balancer probes, Cloud Run / Container Apps / Kubernetes probes, the
//! Dockerfile's `HEALTHCHECK`, the VM launch script's wait).
//!
//! In order: the app's own health route when the analysis found one, or the
//! page the app object itself serves at `/` (200–399);
//! else `/` when the framework serves pages there (Next.js, Streamlit…:
//! 200–399); else `/` accepting any answer below 500
//! ([`HealthAnswer::AnyAnswer`]) — nothing says `/` is a route, and a check
//! that wants 200 from a route the app does not have restarts a healthy API
//! forever. Platforms whose HTTP probes only take 200–399 connect to the port
//! instead (the templates' job).
//!
//! Not here: the Host the checks send and the allow-lists that must accept
//! it (the env wiring sets `ALLOWED_HOSTS`-style settings from
//! `DeploymentOutput::AllowedHosts`; each cloud's renderer adds the
//! addresses its checks use).

use crate::notes::Notes;
use crate::sizing::profile;
use autodeploy_core::{HealthAnswer, HealthCheckPlan, Origin, Service, ServiceKind};

/// Frameworks that answer `GET /` with a page out of the box.
const SERVES_ROOT: &[&str] = &[
    "nextjs",
    "nuxt",
    "remix",
    "sveltekit",
    "astro",
    "gatsby",
    "streamlit",
    "gradio",
    "wordpress",
];

/// Health check of a web service (none for workers and static sites).
pub(crate) fn health_check(s: &Service, notes: &mut Notes) -> Option<HealthCheckPlan> {
    if s.kind != ServiceKind::Web {
        return None;
    }
    let port = s.port?;
    let own = s.health_path.as_deref().filter(|h| h.starts_with('/'));
    let framework = s.framework.as_deref().unwrap_or("");
    let (path, accept, origin, reason) = if let Some(h) = own {
        let first = s.evidence.get("health_path").and_then(|e| e.first());
        let at = first
            .map(|e| match e.line {
                Some(l) => format!(" ({}:{l})", e.file),
                None => format!(" ({})", e.file),
            })
            .unwrap_or_default();
        // A compose file's healthcheck names it, rather than a route in code.
        let who = if first.is_some_and(|e| e.file.ends_with(".yml") || e.file.ends_with(".yaml")) {
            "the health route the project's own healthcheck requests"
        } else if h == "/" {
            "the code defines no health route, and the app itself serves a page at /"
        } else {
            "the health route the code defines"
        };
        (
            h.to_string(),
            HealthAnswer::Success,
            Origin::Analysis,
            format!("GET {h} answering 200-399: {who}{at}"),
        )
    } else if SERVES_ROOT.contains(&framework) {
        (
            "/".to_string(),
            HealthAnswer::Success,
            Origin::Rule,
            format!("GET / answering 200-399: {framework} serves its home page there"),
        )
    } else {
        (
            "/".to_string(),
            HealthAnswer::AnyAnswer,
            Origin::Default,
            "GET / answering anything below 500: the code defines no health route and nothing shows that / is a route, so a 404 (or 400) still counts as a running app, a refused connection, a timeout or a 5xx does not; where the platform's HTTP probe only takes 200-399, a TCP connect to the port. Add a /healthz route answering 200 for a truer check".to_string(),
        )
    };
    notes.reason(
        format!("service.{}.health_check", s.name),
        origin,
        format!("{}: {reason} (port {port})", s.name),
    );
    Some(HealthCheckPlan {
        path,
        port,
        interval_seconds: 30,
        timeout_seconds: 5,
        healthy_threshold: 2,
        unhealthy_threshold: 3,
        grace_period_seconds: profile(s).grace_seconds,
        path_origin: origin,
        accept,
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::service;
    use autodeploy_core::{Evidence, Language};

    #[test]
    fn the_apps_own_route_first() {
        let mut s = service("api", Language::Go, Some("gin"), ServiceKind::Web);
        s.port = Some(8080);
        s.health_path = Some("/ping".into());
        s.evidence.insert(
            "health_path".into(),
            vec![Evidence {
                file: "main.go".into(),
                line: Some(12),
                note: "r.GET(\"/ping\"".into(),
            }],
        );
        let mut notes = Notes::default();
        let h = health_check(&s, &mut notes).unwrap();
        assert_eq!(
            (h.path.as_str(), h.port, h.path_origin, h.accept),
            ("/ping", 8080, Origin::Analysis, HealthAnswer::Success)
        );
        assert!(h.reason.contains("main.go:12"), "{}", h.reason);
    }

    #[test]
    fn no_known_route_accepts_any_answer_below_500() {
        let mut s = service("api", Language::Python, Some("flask"), ServiceKind::Web);
        s.port = Some(5000);
        let mut notes = Notes::default();
        let h = health_check(&s, &mut notes).unwrap();
        assert_eq!(
            (h.path.as_str(), h.path_origin, h.accept),
            ("/", Origin::Default, HealthAnswer::AnyAnswer)
        );
        assert_eq!(h.accept.codes(), "200-499");
        // A health path that is not a path is not used.
        s.health_path = Some("healthz".into());
        assert_eq!(
            health_check(&s, &mut notes).unwrap().accept,
            HealthAnswer::AnyAnswer
        );
    }

    #[test]
    fn sites_serve_their_home_page() {
        let mut s = service(
            "web",
            Language::Javascript,
            Some("nextjs"),
            ServiceKind::Web,
        );
        s.port = Some(3000);
        let mut notes = Notes::default();
        let h = health_check(&s, &mut notes).unwrap();
        assert_eq!(
            (h.path.as_str(), h.accept, h.path_origin),
            ("/", HealthAnswer::Success, Origin::Rule)
        );
    }

    /// The app object's own page at `/` (the analysis' stand-in when the
    /// code has no health route) must answer 200-399, and says why.
    #[test]
    fn the_apps_own_home_page_must_answer_200_399() {
        let mut s = service(
            "api",
            Language::Javascript,
            Some("express"),
            ServiceKind::Web,
        );
        s.port = Some(3000);
        s.health_path = Some("/".into());
        let h = health_check(&s, &mut Notes::default()).unwrap();
        assert_eq!(
            (h.path.as_str(), h.accept, h.path_origin),
            ("/", HealthAnswer::Success, Origin::Analysis)
        );
        assert!(h.reason.contains("serves a page at /"), "{}", h.reason);
    }

    #[test]
    fn workers_have_none() {
        let w = service("w", Language::Python, Some("celery"), ServiceKind::Worker);
        assert!(health_check(&w, &mut Notes::default()).is_none());
    }
}
