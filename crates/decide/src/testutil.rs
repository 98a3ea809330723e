//! Small builders for unit tests (compiled only for tests).

use autodeploy_core::{
    Analysis, EnvVar, Language, ScanStats, Service, ServiceKind, SourceInfo, SourceKind,
};

/// A variable the code reads, with no default (`required`) and whether it
/// looks like a secret; nothing else known about it.
pub(crate) fn env_var(name: &str, required: bool, secret: bool) -> EnvVar {
    EnvVar::new(name, required, secret)
}

/// A service with the given identity; web services listen on 8000.
pub(crate) fn service(
    name: &str,
    language: Language,
    framework: Option<&str>,
    kind: ServiceKind,
) -> Service {
    Service {
        name: name.into(),
        path: ".".into(),
        language,
        framework: framework.map(str::to_string),
        kind,
        port: (kind == ServiceKind::Web).then_some(8000),
        start: (kind != ServiceKind::Static).then(|| "run".to_string()),
        build: None,
        install: None,
        release: None,
        init: None,
        postgres_auth: None,
        drivers_without_tls: Vec::new(),
        install_with_driver: Default::default(),
        health_path: None,
        allowed_hosts_env: None,
        package_manager: None,
        runtime_version: None,
        image_runtime_version: None,
        assets_node_version: None,
        release_library_version: None,
        build_schema: None,
        wheel_lines: Vec::new(),
        dockerfile: None,
        image_start: None,
        dockerfile_context: None,
        static_dir: None,
        databases: Vec::new(),
        env: Vec::new(),
        findings: Vec::new(),
        confidence: 0.9,
        evidence: Default::default(),
        wiring: Vec::new(),
        install_constraints: Vec::new(),
        install_files: Vec::new(),
    }
}

/// An analysis of a local folder holding these services.
pub(crate) fn analysis(services: Vec<Service>) -> Analysis {
    Analysis {
        source: SourceInfo {
            input: "/tmp/app".into(),
            kind: SourceKind::Path,
            commit: None,
        },
        services,
        analyzer_version: "test".into(),
        stats: ScanStats::default(),
    }
}
