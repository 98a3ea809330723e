//! The services a request scopes the deployment to ("the backend", "just the
//! API", "the API and its workers", "without the worker"): the parts the
//! parser found (`Intent::services`, `Intent::services_left_out`) matched
//! against the analysis's services by role. Everything after this step sees
//! only the services kept, so "just the frontend" provisions no database.
//!
//! A repository of one service is never scoped: the request then describes
//! that service. A part the repository has no service for is an error that
//! lists the services there are.

use crate::notes::{join_and, Notes};
use crate::DecideError;
use autodeploy_core::{Analysis, Intent, Origin, Service, ServiceKind, ServiceRole};

/// Front-end frameworks that run a server of their own (they are not static
/// builds, yet a request calls them "the frontend").
pub(crate) const FRONT_END_FRAMEWORKS: &[&str] = &[
    "nextjs",
    "nuxt",
    "sveltekit",
    "remix",
    "astro",
    "angular",
    "react-vite",
    "vue",
    "gatsby",
];

/// Words in a service's name or folder that say which part it is.
fn role_by_name(s: &Service) -> Option<ServiceRole> {
    let words = format!("{} {}", s.name, s.path).to_ascii_lowercase();
    let has = |w: &[&str]| {
        words
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|x| w.contains(&x))
    };
    if has(&[
        "frontend", "front", "client", "ui", "web-ui", "webapp", "spa",
    ]) {
        Some(ServiceRole::Frontend)
    } else if has(&["backend", "back", "api", "server"]) {
        Some(ServiceRole::Backend)
    } else {
        None
    }
}

/// The part of the app a service is.
pub(crate) fn role_of(s: &Service) -> ServiceRole {
    match s.kind {
        ServiceKind::Worker => ServiceRole::Worker,
        ServiceKind::Static => ServiceRole::Frontend,
        ServiceKind::Web => role_by_name(s).unwrap_or_else(|| {
            if s.framework
                .as_deref()
                .is_some_and(|f| FRONT_END_FRAMEWORKS.contains(&f))
            {
                ServiceRole::Frontend
            } else {
                ServiceRole::Backend
            }
        }),
    }
}

fn the(roles: &[ServiceRole]) -> String {
    join_and(
        &roles
            .iter()
            .map(|r| format!("the {}", r.as_str()))
            .collect::<Vec<_>>(),
    )
}

/// The analysis with only the services the request asks for, or None when
/// it asks for no part (or all of them are kept).
pub(crate) fn scoped(
    analysis: &Analysis,
    intent: &Intent,
    notes: &mut Notes,
) -> Result<Option<Analysis>, DecideError> {
    let (only, without) = (&intent.services, &intent.services_left_out);
    if (only.is_empty() && without.is_empty()) || analysis.services.len() < 2 {
        return Ok(None);
    }
    let keep = |s: &Service| {
        let r = role_of(s);
        (only.is_empty() || only.contains(&r)) && !without.contains(&r)
    };
    let (kept, left): (Vec<&Service>, Vec<&Service>) =
        analysis.services.iter().partition(|s| keep(s));
    let names = |v: &[&Service]| {
        join_and(
            &v.iter()
                .map(|s| format!("{} ({})", s.name, role_of(s).as_str()))
                .collect::<Vec<_>>(),
        )
    };
    let asked = if only.is_empty() {
        format!("everything but {}", the(without))
    } else {
        the(only)
    };
    if kept.is_empty() {
        let all: Vec<&Service> = analysis.services.iter().collect();
        return Err(DecideError::NoServiceForPart {
            asked,
            services: names(&all),
        });
    }
    if left.is_empty() {
        return Ok(None);
    }
    notes.reason(
        "services",
        Origin::Request,
        format!(
            "{}: the request asks for {asked}; not deployed: {} — name it in the request to deploy it too",
            names(&kept),
            names(&left)
        ),
    );
    let mut out = analysis.clone();
    out.services.retain(|s| keep(s));
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use autodeploy_core::Language;
    use ServiceRole::*;

    fn svc(name: &str, path: &str, kind: ServiceKind, framework: Option<&str>) -> Service {
        let mut s = crate::testutil::service(name, Language::Python, framework, kind);
        s.path = path.into();
        s
    }

    fn analysis() -> Analysis {
        crate::testutil::analysis(vec![
            svc("backend", "backend", ServiceKind::Web, Some("fastapi")),
            svc(
                "frontend",
                "frontend",
                ServiceKind::Static,
                Some("react-vite"),
            ),
            svc("worker", "backend", ServiceKind::Worker, Some("celery")),
        ])
    }

    fn kept(only: &[ServiceRole], without: &[ServiceRole]) -> Result<Vec<String>, DecideError> {
        let intent = Intent {
            services: only.to_vec(),
            services_left_out: without.to_vec(),
            ..Default::default()
        };
        let a = analysis();
        Ok(scoped(&a, &intent, &mut Notes::default())?
            .unwrap_or(a)
            .services
            .into_iter()
            .map(|s| s.name)
            .collect())
    }

    #[test]
    fn the_parts_asked_for_are_kept() {
        assert_eq!(kept(&[Backend], &[]).unwrap(), ["backend"]);
        assert_eq!(kept(&[Frontend], &[]).unwrap(), ["frontend"]);
        assert_eq!(
            kept(&[Backend, Worker], &[]).unwrap(),
            ["backend", "worker"]
        );
        assert_eq!(kept(&[], &[Worker]).unwrap(), ["backend", "frontend"]);
        assert_eq!(kept(&[], &[]).unwrap(), ["backend", "frontend", "worker"]);
    }

    #[test]
    fn roles_come_from_kind_then_name_then_framework() {
        assert_eq!(
            role_of(&svc("web", ".", ServiceKind::Web, Some("nextjs"))),
            Frontend
        );
        assert_eq!(
            role_of(&svc("app", ".", ServiceKind::Web, Some("flask"))),
            Backend
        );
        assert_eq!(
            role_of(&svc("client", "client", ServiceKind::Web, None)),
            Frontend
        );
        assert_eq!(
            role_of(&svc(
                "api",
                "services/api",
                ServiceKind::Web,
                Some("express")
            )),
            Backend
        );
        assert_eq!(
            role_of(&svc("jobs", ".", ServiceKind::Worker, None)),
            Worker
        );
    }

    #[test]
    fn a_part_the_repository_lacks_is_an_error_naming_what_there_is() {
        let intent = Intent {
            services: vec![Frontend],
            ..Default::default()
        };
        let mut a = analysis();
        a.services.retain(|s| s.name != "frontend");
        let e = scoped(&a, &intent, &mut Notes::default()).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("the frontend"), "{msg}");
        assert!(
            msg.contains("backend (backend) and worker (worker)"),
            "{msg}"
        );
    }

    #[test]
    fn one_service_is_never_scoped() {
        let intent = Intent {
            services: vec![Frontend],
            ..Default::default()
        };
        let mut a = analysis();
        a.services.truncate(1);
        assert!(scoped(&a, &intent, &mut Notes::default())
            .unwrap()
            .is_none());
    }
}
