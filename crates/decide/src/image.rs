//! Which Dockerfile builds a service's image: the project's own, or the one
//! the bundle writes.
//!
//! The project's Dockerfile knows what its build needs (a linker its cargo
//! config names, a setting that switches the app to production, a writable
//! data folder, where the binary ends up), so it builds the image when it
//! builds *this* service the way the plan runs it:
//!
//! - it sits in the service's folder (the build context is that folder), or
//!   the project builds it with that folder as the context (a compose
//!   file's `context: ..` + `dockerfile: deploy/Dockerfile`);
//! - its name does not mark it for development (`Dockerfile.dev`,
//!   `local.Dockerfile`, `docker/development/…`);
//! - the plan's start command is the one it runs (`CMD`/`ENTRYPOINT` of its
//!   final stage, or the command of the compose service that builds it), and
//!   that is not a development server;
//! - its image has a shell (not `FROM scratch` or distroless): the
//!   deployment's start script (settings assembled at start, allowed hosts,
//!   the release step) runs under `/bin/sh -c`.
//!
//! Otherwise the bundle's Dockerfile builds it, and the reason says why. A
//! service with no start command but a Dockerfile can only be built by it.
//! The reason (`service.<name>.image`) is what PLAN.md shows.
//!
//! Not here: writing Dockerfiles (render/docker.rs) or building images (the
//! deploy stage).

use crate::notes::Notes;
use autodeploy_core::{DeployStrategy, ImageSource, Origin, Service};

/// Words in a Dockerfile's path that mark it for development.
const DEV_WORDS: &[&str] = &["dev", "develop", "development", "local", "debug", "test"];

/// Findings that say the chosen start runs a development server.
const DEV_SERVER: &[&str] = &["dev_server_start", "missing_production_server"];

fn dev_named(path: &str) -> bool {
    path.to_ascii_lowercase()
        .split(['/', '.', '-', '_'])
        .any(|w| DEV_WORDS.contains(&w))
}

/// The Dockerfile in `dir` itself (`dir/Dockerfile`), not one elsewhere
/// that a compose file points at with another build context.
fn in_folder(dockerfile: &str, dir: &str) -> bool {
    let parent = dockerfile.rsplit_once('/').map_or("", |(p, _)| p);
    let dir = if dir == "." { "" } else { dir };
    parent == dir
}

/// Which Dockerfile builds `s`'s image under `strategy`, and the reason
/// (recorded only where an image is built).
pub(crate) fn choose(s: &Service, strategy: DeployStrategy, notes: &mut Notes) -> ImageSource {
    let Some(df) = s.dockerfile.as_deref() else {
        return ImageSource::Bundle;
    };
    let (choice, why) = decide(s, df);
    if matches!(
        strategy,
        DeployStrategy::Container | DeployStrategy::Kubernetes
    ) {
        notes.reason(
            format!("service.{}.image", s.name),
            Origin::Analysis,
            format!("{}: {why}", s.name),
        );
        // The release step runs in the service's image: a migration CLI
        // that `cargo build` does not install is in the bundle's image,
        // not necessarily in the project's.
        let cli = s
            .release
            .as_deref()
            .and_then(autodeploy_core::release_cli::CargoCli::for_command);
        if let (ImageSource::Repository, Some(cli)) = (choice, cli) {
            let backend = autodeploy_core::release_cli::CargoCli::backend(&s.databases);
            notes.warn(
                "release_cli_not_in_image",
                Some(&s.name),
                format!(
                    "{}: the release step `{}` runs in the image the project's Dockerfile ({df}) builds, which needs `{}` ({}) in it — `cargo build` does not install it. Unless that Dockerfile already does, add `RUN cargo install {} --root /opt/release-cli` to its build stage and copy `/opt/release-cli/bin/{}` into the final one; otherwise the release task fails and the rollout stops before the new version takes traffic",
                    s.name,
                    s.release.as_deref().unwrap_or_default(),
                    cli.program,
                    cli.krate,
                    cli.install_args_locked(backend, s.release_library_version.as_deref()),
                    cli.program,
                ),
            );
        }
    }
    choice
}

fn decide(s: &Service, df: &str) -> (ImageSource, String) {
    let Some(start) = s.start.as_deref() else {
        return (
            ImageSource::Repository,
            format!("the image is built from the project's own Dockerfile ({df}): no start command was found outside it"),
        );
    };
    if dev_named(df) {
        return (
            ImageSource::Bundle,
            format!("the project's Dockerfile ({df}) is named for development; the bundle's Dockerfile builds a production image that runs `{start}`"),
        );
    }
    let context = |c: &str| if c.is_empty() { "." } else { c }.to_string();
    let built_from_here = s
        .dockerfile_context
        .as_deref()
        .is_some_and(|c| context(c) == context(&s.path));
    if !in_folder(df, &s.path) && !built_from_here {
        return (
            ImageSource::Bundle,
            format!("the project's Dockerfile ({df}) is built with another folder as its context; the bundle's Dockerfile builds the image"),
        );
    }
    let from = s
        .evidence
        .get("start")
        .and_then(|e| e.first())
        .map(|e| e.file.as_str());
    // The file that builds the image with this Dockerfile (a compose
    // service) says which command runs in it too.
    let builders: Vec<&str> = s
        .evidence
        .get("dockerfile")
        .into_iter()
        .flatten()
        .map(|e| e.file.as_str())
        .collect();
    if from != Some(df) && !(built_from_here && from.is_some_and(|f| builders.contains(&f))) {
        return (
            ImageSource::Bundle,
            format!(
                "the start command (`{start}`, from {}) is not the one the project's Dockerfile ({df}) runs; the bundle's Dockerfile builds an image that runs it",
                from.unwrap_or("the analysis")
            ),
        );
    }
    if s.findings
        .iter()
        .any(|f| DEV_SERVER.contains(&f.kind.as_str()) && f.file.as_deref() == Some(df))
    {
        return (
            ImageSource::Bundle,
            format!("the project's Dockerfile ({df}) runs a development server (`{start}`); the bundle's Dockerfile builds the image"),
        );
    }
    if let Some(f) = s
        .findings
        .iter()
        .find(|f| f.kind == "dockerfile_needs_prebuilt")
    {
        return (
            ImageSource::Bundle,
            format!(
                "the project's Dockerfile ({df}) copies a build output the repository does not hold (line {}), made by a build run before `docker build`; the bundle's Dockerfile runs the build itself",
                f.line.unwrap_or(0)
            ),
        );
    }
    if s.findings.iter().any(|f| f.kind == "image_without_shell") {
        return (
            ImageSource::Bundle,
            format!("the project's Dockerfile ({df}) builds an image without a shell, and the deployment's start script needs one; the bundle's Dockerfile builds the image"),
        );
    }
    (
        ImageSource::Repository,
        format!("the image is built from the project's own Dockerfile ({df}), which runs the plan's start command and knows the project's build"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::service;
    use autodeploy_core::{Evidence, Finding, Language, ServiceKind, Severity};

    fn with_dockerfile(df: &str, start_from: &str) -> Service {
        let mut s = service("api", Language::Python, None, ServiceKind::Web);
        s.dockerfile = Some(df.into());
        s.start = Some("gunicorn app:app".into());
        s.evidence.insert(
            "start".into(),
            vec![Evidence {
                file: start_from.into(),
                line: Some(9),
                note: "CMD gunicorn app:app".into(),
            }],
        );
        s
    }

    fn pick(s: &Service) -> (ImageSource, String) {
        let mut notes = Notes::default();
        let c = choose(s, DeployStrategy::Container, &mut notes);
        let why = notes
            .reasons
            .iter()
            .find(|r| r.about == "service.api.image")
            .map(|r| r.text.clone())
            .unwrap_or_default();
        (c, why)
    }

    #[test]
    fn a_dockerfile_that_copies_a_build_output_does_not_build_the_image() {
        let mut s = with_dockerfile("Dockerfile", "Dockerfile");
        assert_eq!(pick(&s).0, ImageSource::Repository);
        s.findings.push(autodeploy_core::Finding {
            kind: "dockerfile_needs_prebuilt".into(),
            file: Some("Dockerfile".into()),
            line: Some(14),
            message: String::new(),
            severity: autodeploy_core::Severity::Info,
            fix: None,
            from_example: None,
            calls: None,
            makes_dir: None,
        });
        let (c, why) = pick(&s);
        assert_eq!(c, ImageSource::Bundle);
        assert!(why.contains("line 14"), "{why}");
    }

    #[test]
    fn a_production_dockerfile_that_runs_the_start_builds_the_image() {
        let (c, why) = pick(&with_dockerfile("Dockerfile", "Dockerfile"));
        assert_eq!(c, ImageSource::Repository);
        assert!(
            why.contains("project's own Dockerfile (Dockerfile)"),
            "{why}"
        );
        let mut sub = with_dockerfile("backend/Dockerfile", "backend/Dockerfile");
        sub.path = "backend".into();
        assert_eq!(pick(&sub).0, ImageSource::Repository);
    }

    #[test]
    fn development_other_context_other_start_or_a_dev_server_get_the_bundles() {
        for df in [
            "Dockerfile.dev",
            "docker/local.Dockerfile",
            "dev.Dockerfile",
        ] {
            let (c, why) = pick(&with_dockerfile(df, df));
            assert_eq!(c, ImageSource::Bundle, "{df}");
            assert!(why.contains("named for development"), "{why}");
        }
        let (c, why) = pick(&with_dockerfile("docker/Dockerfile", "docker/Dockerfile"));
        assert_eq!(c, ImageSource::Bundle);
        assert!(why.contains("another folder as its context"), "{why}");
        let (c, why) = pick(&with_dockerfile("Dockerfile", "Procfile"));
        assert_eq!(c, ImageSource::Bundle);
        assert!(why.contains("from Procfile"), "{why}");
        let mut dev = with_dockerfile("Dockerfile", "Dockerfile");
        dev.findings.push(Finding {
            kind: "dev_server_start".into(),
            severity: Severity::Warning,
            file: Some("Dockerfile".into()),
            line: Some(9),
            message: String::new(),
            fix: None,
            from_example: None,
            calls: None,
            makes_dir: None,
        });
        assert_eq!(pick(&dev).0, ImageSource::Bundle);
        let mut scratch = with_dockerfile("Dockerfile", "Dockerfile");
        scratch.findings.push(Finding {
            kind: "image_without_shell".into(),
            severity: Severity::Info,
            file: Some("Dockerfile".into()),
            line: Some(16),
            message: String::new(),
            fix: None,
            from_example: None,
            calls: None,
            makes_dir: None,
        });
        let (c, why) = pick(&scratch);
        assert_eq!(c, ImageSource::Bundle);
        assert!(why.contains("without a shell"), "{why}");
    }

    #[test]
    fn a_release_cli_the_projects_image_may_lack_is_said() {
        let mut notes = Notes::default();
        let mut s = with_dockerfile("Dockerfile", "Dockerfile");
        s.release = Some("sqlx migrate run".into());
        s.databases = vec![autodeploy_core::Database::Postgresql];
        assert_eq!(
            choose(&s, DeployStrategy::Container, &mut notes),
            ImageSource::Repository
        );
        assert!(notes.has_warning("release_cli_not_in_image"));
        let mut quiet = Notes::default();
        s.release = Some("python manage.py migrate".into());
        choose(&s, DeployStrategy::Container, &mut quiet);
        assert!(!quiet.has_warning("release_cli_not_in_image"));
    }

    #[test]
    fn a_dockerfile_kept_elsewhere_builds_the_image_when_compose_builds_it_from_here() {
        // `context: ..` + `dockerfile: deploy/Dockerfile`, and the command of
        // that compose service is the plan's start.
        let mut s = with_dockerfile("deploy/Dockerfile", "deploy/compose.yaml");
        s.path = ".".into();
        s.dockerfile_context = Some(".".into());
        s.evidence.insert(
            "dockerfile".into(),
            vec![Evidence {
                file: "deploy/compose.yaml".into(),
                line: Some(36),
                note: "compose `api` builds deploy/Dockerfile with this folder as context".into(),
            }],
        );
        assert_eq!(pick(&s).0, ImageSource::Repository);
        // Another folder's context, or a start from elsewhere (a Procfile):
        // the bundle's.
        let mut other = s.clone();
        other.dockerfile_context = Some("backend".into());
        assert_eq!(pick(&other).0, ImageSource::Bundle);
        let mut procfile = s.clone();
        procfile.evidence.get_mut("start").unwrap()[0].file = "Procfile".into();
        let (c, why) = pick(&procfile);
        assert_eq!(c, ImageSource::Bundle);
        assert!(why.contains("not the one"), "{why}");
        let mut no_context = s.clone();
        no_context.dockerfile_context = None;
        let (c, why) = pick(&no_context);
        assert_eq!(c, ImageSource::Bundle);
        assert!(why.contains("another folder as its context"), "{why}");
    }

    #[test]
    fn without_a_start_only_the_projects_dockerfile_can_build_it() {
        let mut s = with_dockerfile("docker/app.Dockerfile", "docker/app.Dockerfile");
        s.start = None;
        assert_eq!(pick(&s).0, ImageSource::Repository);
        let mut none = service("api", Language::Python, None, ServiceKind::Web);
        none.dockerfile = None;
        assert_eq!(pick(&none).0, ImageSource::Bundle);
    }

    #[test]
    fn the_reason_is_only_recorded_where_an_image_is_built() {
        let mut notes = Notes::default();
        let s = with_dockerfile("Dockerfile", "Dockerfile");
        assert_eq!(
            choose(&s, DeployStrategy::Vm, &mut notes),
            ImageSource::Repository
        );
        assert!(notes.reasons.is_empty());
    }
}
