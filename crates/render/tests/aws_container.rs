//! The AWS container strategy (ECR + CodeBuild + ECS Fargate + ALB), the data
//! services (RDS, ElastiCache, Secrets Manager) and TLS (ACM + Route53) on
//! real fixtures through the real analyze → parse → decide stages: every
//! bundle passes `terraform fmt -check` and `terraform validate`, and no
//! secret-looking value is written in the Terraform files.

mod support;

use autodeploy_render::{render, Bundle, RenderOptions};

fn bundle(fixture: &str, request: &str) -> Bundle {
    let (analysis, decision) = support::scenario(fixture, request);
    let b = render(&decision, &analysis, &RenderOptions::default())
        .unwrap_or_else(|e| panic!("{fixture} / {request}: {e}"));
    // Debugging aid: AUTODEPLOY_DUMP=DIR writes each bundle under DIR.
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

fn tf_text(b: &Bundle) -> String {
    b.files
        .iter()
        .filter(|f| f.path.ends_with(".tf"))
        .map(|f| format!("# ==== {}\n{}", f.path, f.contents))
        .collect()
}

/// No literal that looks like a credential: passwords, tokens, keys are
/// references (`aws_secretsmanager_secret.x.arn`, RDS-managed), never values.
fn assert_no_secret_literals(b: &Bundle) {
    let text = tf_text(b);
    for line in text.lines() {
        let l = line.trim();
        let lower = l.to_ascii_lowercase();
        for key in [
            "password",
            "secret_string",
            "auth_token",
            "secret_key",
            "token",
        ] {
            if let Some((lhs, rhs)) = lower.split_once('=') {
                if lhs.contains(key) && rhs.trim_start().starts_with('"') {
                    panic!("secret-looking literal: {l}");
                }
            }
        }
        assert!(!lower.contains("master_password"), "{l}");
        assert!(!l.contains("AKIA"), "{l}");
    }
    // Env entries that are secrets come from `valueFrom`, never `value`.
    for needle in [
        "PASSWORD\", value =",
        "SECRET_KEY\", value =",
        "_URL\", value = \"redis",
    ] {
        assert!(!text.contains(needle), "{needle} written as a value");
    }
}

fn validate(b: &Bundle) {
    let (_guard, tf) = support::write_bundle(b);
    // The source-bucket upload reads the bundle's Dockerfiles (docker.rs):
    // they must be where container.rs says.
    for f in &b.files {
        for part in f.contents.split("[path.module, \"..\", \"").skip(1) {
            let rel = part.split('"').next().unwrap();
            assert!(b.get(rel).is_some(), "{rel} is not in the bundle");
        }
    }
    support::assert_fmt(&tf);
    support::assert_valid(&tf);
}

#[test]
fn django_postgres_on_ecs_with_rds() {
    let b = bundle(
        "python_django_postgres",
        "Django on AWS with Postgres, 2 to 4 instances",
    );
    let text = tf_text(&b);
    assert!(text.contains("resource \"aws_db_instance\" \"main\""));
    // The password is generated write-only into the instance and the
    // deployment's own secret (not RDS's managed one, rotated every 7 days
    // under tasks that read it at start only).
    assert!(!text.contains("manage_master_user_password"));
    assert!(text.contains(
        "password_wo                         = ephemeral.aws_secretsmanager_random_password.db_master.random_password"
    ));
    assert!(text.contains("secret_string_wo_version = var.database_password_version"));
    // Django's generated SECRET_KEY likewise: ephemeral, written write-only,
    // never read by a data source into state.
    let secrets = &b.get("terraform/secrets.tf").unwrap().contents;
    assert!(
        secrets.contains("ephemeral \"aws_secretsmanager_random_password\"")
            && secrets.contains("secret_string_wo = ephemeral.aws_secretsmanager_random_password.")
            && !secrets.contains("data \"aws_secretsmanager_random_password\""),
        "{secrets}"
    );
    assert!(text.contains("resource \"aws_appautoscaling_target\""));
    assert!(text.contains("${aws_secretsmanager_secret.db_master.arn}:password::"));
    assert!(!text.contains("aws_lb_listener\" \"https\""));
    assert_no_secret_literals(&b);
    let tasks = &b.get("terraform/container_tasks.tf").unwrap().contents;
    // The start script never runs the release step: every copy would migrate.
    assert!(!tasks.contains("migrate"), "{tasks}");
    insta::assert_snapshot!("django_postgres_tasks", tasks);
    // The release step is a one-off task the deploy runs once.
    let outputs = &b.get("terraform/container_outputs.tf").unwrap().contents;
    let release = output_block(outputs, "release_tasks");
    assert_eq!(release.matches("task_definition ").count(), 1, "{release}");
    assert!(
        release.contains(r#"exec python manage.py migrate --noinput\n"]"#),
        "{release}"
    );
    insta::assert_snapshot!("django_postgres_release_tasks", release);
    // PLAN.md says where the release step runs.
    let plan = &b.get("PLAN.md").unwrap().contents;
    let row = support::plan_row(&b, "python manage.py migrate --noinput");
    assert!(
        row.contains("once per deploy, as a one-off ECS task")
            && row.contains("before the service rolls to the new version"),
        "{row}"
    );
    assert!(plan.contains("the rollout of the ECS services"), "{plan}");
    // Apply never rolls the service; the deploy does, after the release step.
    let services = &b.get("terraform/container_services.tf").unwrap().contents;
    assert!(
        services.contains("ignore_changes = [task_definition, desired_count]"),
        "{services}"
    );
    assert!(output_block(outputs, "ecs_task_definitions").contains(
        "\"python-django-postgres\" = aws_ecs_task_definition.python_django_postgres.arn"
    ));
    validate(&b);
}

/// RDS requires TLS, unless a service's driver connects without it
/// (node-postgres): then it offers TLS without requiring it, and PLAN.md
/// says why and how to require it.
#[test]
fn rds_requires_tls_unless_the_apps_driver_connects_without_it() {
    let force_ssl = |b: &Bundle| {
        let db = &b.get("terraform/database.tf").unwrap().contents;
        let at = db.find("name  = \"rds.force_ssl\"").expect("the parameter");
        db[at..].lines().nth(1).unwrap_or("").trim().to_string()
    };
    let python = bundle("python_django_postgres", "Django on AWS ECS with Postgres");
    assert_eq!(force_ssl(&python), "value = \"1\"");
    let node = bundle(
        "node_express_pg_redis_env",
        "deploy on AWS ECS with postgres",
    );
    assert_eq!(force_ssl(&node), "value = \"0\"");
    let plan = &node.get("PLAN.md").unwrap().contents;
    assert!(plan.contains("TLS offered, not required"), "{plan}");
    validate(&node);
}

/// The `output "NAME" { … }` block of a Terraform file.
fn output_block<'a>(tf: &'a str, name: &str) -> &'a str {
    let start = tf
        .find(&format!("output \"{name}\" {{"))
        .unwrap_or_else(|| panic!("no output {name} in:\n{tf}"));
    let len = tf[start..].find("\n}\n").expect("the block ends") + 3;
    &tf[start..start + len]
}

/// The task definition's `command =` line: the start script.
fn start_script(b: &Bundle) -> &str {
    b.get("terraform/container_tasks.tf")
        .unwrap()
        .contents
        .lines()
        .find(|l| l.trim_start().starts_with("command "))
        .expect("a start script")
}

#[test]
fn a_compound_start_runs_under_sh_c_and_the_release_runs_apart() {
    let (analysis, mut decision) =
        support::scenario("python_django_postgres", "Django on AWS with Postgres");
    let web = &mut decision.services[0];
    assert!(web.release.is_some(), "the fixture has a release step");
    web.start = Some(
        "python manage.py compilemessages && gunicorn --bind 0.0.0.0:8000 'mysite.wsgi:application'"
            .into(),
    );
    web.release =
        Some("python manage.py migrate --noinput; python manage.py createcachetable".into());
    let b = render(&decision, &analysis, &RenderOptions::default()).unwrap();
    let command = start_script(&b);
    // `exec` of the compound command whole would run compilemessages only.
    assert!(
        command.ends_with(
            r#"exec /bin/sh -c 'python manage.py compilemessages && gunicorn --bind 0.0.0.0:8000 '\\''mysite.wsgi:application'\\'''\n"]"#
        ),
        "{command}"
    );
    assert!(!command.contains("migrate"), "{command}");
    insta::assert_snapshot!("compound_start_command", command.trim());
    let outputs = &b.get("terraform/container_outputs.tf").unwrap().contents;
    let release = output_block(outputs, "release_tasks");
    assert!(
        release.contains(
            r#"exec /bin/sh -c 'python manage.py migrate --noinput; python manage.py createcachetable'\n"]"#
        ),
        "{release}"
    );
    validate(&b);
}

#[test]
fn the_projects_own_image_is_built_and_run_as_its_dockerfile_says() {
    let (analysis, mut decision) =
        support::scenario("dockerfile_expose_mismatch", "deploy on aws as containers");
    let web = &mut decision.services[0];
    assert_eq!(web.image, autodeploy_core::ImageSource::Repository);
    // A binary the Dockerfile copied out of its build stage runs where it
    // put it, and a release step needs the start script that wraps it.
    web.image_start = Some("./server --serve".into());
    web.release = Some("./server migrate".into());
    let b = render(&decision, &analysis, &RenderOptions::default()).unwrap();
    assert!(b.get("Dockerfile").is_none(), "{:?}", b.paths());
    let build = &b.get("terraform/container_build.tf").unwrap().contents;
    assert!(build.contains("docker build -f 'Dockerfile'"), "{build}");
    assert!(!build.contains("dockerfiles/"), "{build}");
    let command = start_script(&b);
    assert!(
        command.contains(r#"exec ./server --serve\n"]"#),
        "{command}"
    );
    assert!(!command.contains("gunicorn"), "{command}");
    let plan = &b.get("PLAN.md").unwrap().contents;
    assert!(
        plan.contains("built from the project's own Dockerfile (Dockerfile)"),
        "{plan}"
    );
    validate(&b);
}

/// The project's own image runs its command in its WORKDIR (`COPY . .` in
/// /app, then `WORKDIR /app/src`): the start and the release step run
/// there without the `cd src` they need outside the image (django-nickjj's
/// tasks failed with "can't cd to src").
#[test]
fn the_projects_image_runs_start_and_release_in_its_own_workdir() {
    let b = bundle(
        "python_django_image_workdir",
        "deploy on AWS ECS with postgres",
    );
    let command = start_script(&b);
    assert!(
        command.contains(r#"exec gunicorn --bind 0.0.0.0:8000 config.wsgi\n"]"#),
        "{command}"
    );
    assert!(!command.contains("cd src"), "{command}");
    let outputs = &b.get("terraform/container_outputs.tf").unwrap().contents;
    let release = output_block(outputs, "release_tasks");
    assert!(
        release.contains(r#"exec python manage.py migrate --noinput\n"]"#),
        "{release}"
    );
    assert!(!release.contains("cd src"), "{release}");
    // PLAN.md shows the commands as the image runs them.
    let plan = &b.get("PLAN.md").unwrap().contents;
    assert!(
        plan.contains("` gunicorn --bind 0.0.0.0:8000 config.wsgi ` |"),
        "{plan}"
    );
    assert!(
        plan.contains("| ` python manage.py migrate --noinput ` |"),
        "{plan}"
    );
    assert!(!plan.contains("cd src &&"), "{plan}");
    validate(&b);
}

#[test]
fn services_without_a_release_step_declare_no_release_task() {
    let b = bundle("python_flask_celery_redis", "on AWS with redis");
    let outputs = &b.get("terraform/container_outputs.tf").unwrap().contents;
    let release = output_block(outputs, "release_tasks");
    assert!(release.contains("value       = {}"), "{release}");
}

#[test]
fn flask_celery_redis_web_and_worker_with_elasticache() {
    let b = bundle("python_flask_celery_redis", "on AWS with redis");
    let text = tf_text(&b);
    assert!(text.contains("resource \"aws_elasticache_replication_group\" \"main\""));
    assert!(text.contains("transit_encryption_enabled = true"));
    assert!(text.contains("data \"aws_secretsmanager_random_password\" \"cache_auth_token\""));
    assert!(text.contains("resource \"aws_ecs_service\" \"worker\""));
    // Only the web service is behind the load balancer.
    assert_eq!(text.matches("load_balancer {").count(), 1);
    assert_eq!(
        text.matches("ignore_changes = [task_definition]").count(),
        2
    );
    // Celery refuses a rediss:// URL that does not say how it checks the
    // certificate: a Python service's URL says so.
    assert!(
        text.contains("/0?ssl_cert_reqs=required"),
        "{}",
        text.lines()
            .filter(|l| l.contains("rediss"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_no_secret_literals(&b);
    validate(&b);
}

/// A Node service's Redis client takes no `ssl_cert_reqs` (go-redis even
/// refuses options it does not know): its `rediss://` URL has none.
#[test]
fn a_redis_url_for_a_node_client_has_no_python_options() {
    let b = bundle("node_bullmq_worker", "on AWS ECS with redis");
    let text = tf_text(&b);
    assert!(text.contains("rediss://"), "{text}");
    assert!(!text.contains("ssl_cert_reqs"), "{text}");
}

#[test]
fn https_on_a_domain_with_acm_route53_and_redirect() {
    let b = bundle(
        "python_django_postgres",
        "Django on AWS with Postgres, https on app.example.com",
    );
    let tls = &b.get("terraform/tls.tf").expect("tls.tf").contents;
    assert!(tls.contains("resource \"aws_acm_certificate\" \"main\""));
    assert!(tls.contains("data \"aws_route53_zone\" \"main\""));
    assert!(tls.contains("ELBSecurityPolicy-TLS13-1-2-2021-06"));
    let alb = &b.get("terraform/container_alb.tf").unwrap().contents;
    assert!(alb.contains("type = \"redirect\""));
    // The service waits for the listener that forwards to its target group.
    let services = &b.get("terraform/container_services.tf").unwrap().contents;
    assert!(
        services.contains("depends_on = [aws_lb_listener.https]"),
        "{services}"
    );
    assert_no_secret_literals(&b);
    validate(&b);
}

#[test]
fn hostile_names_stay_inert_in_the_task_definition() {
    let b = bundle(
        "hostile_names",
        "on AWS with postgres and redis, https on app.example.com",
    );
    let tasks = &b.get("terraform/container_tasks.tf").unwrap().contents;
    // The service folder reaches the start script shell-quoted, with `${` inert for HCL.
    assert!(tasks.contains("cd 'web $(touch pwned) $${path.module}'"));
    assert!(!tasks.replace("$${", "").contains("${path.module}"));
    assert_no_secret_literals(&b);
    validate(&b);
}

/// Debugging aid: `AUTODEPLOY_SWEEP=1` renders every fixture as containers and
/// prints what fails (no assertions).
#[test]
fn sweep_fixtures_as_containers() {
    if std::env::var("AUTODEPLOY_SWEEP").is_err() {
        return;
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
    let mut names: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for n in names {
        for req in [
            "deploy on AWS with containers",
            "on AWS with postgres and redis, https on app.example.com, 2 to 5 instances",
        ] {
            let r = std::panic::catch_unwind(|| {
                let (a, d) = support::scenario(&n, req);
                let b = render(&d, &a, &RenderOptions::default())?;
                if let Ok(dir) = std::env::var("AUTODEPLOY_DUMP") {
                    let slug = if req.contains("https") {
                        "full"
                    } else {
                        "plain"
                    };
                    b.write_to(&std::path::Path::new(&dir).join(format!("{n}-{slug}")))
                        .unwrap();
                }
                Ok::<(), autodeploy_render::RenderError>(())
            });
            match r {
                Ok(Ok(())) => println!("OK   {n} / {req}"),
                Ok(Err(e)) => println!("ERR  {n} / {req}: {e}"),
                Err(_) => println!("PANIC {n} / {req}"),
            }
        }
    }
}

#[test]
fn source_fixes_land_in_the_image_source_on_ecs() {
    // The deploy builds the image from an archive with the fixes applied
    // (autodeploy_aws::zip_source_fixed): PLAN.md lists them as applied.
    let b = bundle("hello_world_shape", "deploy this Flask app on AWS ECS");
    let plan = &b.get("PLAN.md").unwrap().contents;
    assert!(
        plan.contains("Source fixes applied to autodeploy's copy"),
        "{plan}"
    );
    assert!(
        plan.contains("` app/app.py ` line 19: ` \"127.0.0.1\" ` → ` \"0.0.0.0\" `\n- "),
        "{plan}"
    );
    assert!(!plan.contains("Source changes to make"), "{plan}");
}

#[test]
fn a_static_front_end_beside_ecs_fronts_the_api_on_its_own_address() {
    let b = bundle("mono_frontend_backend", "deploy it on AWS ECS");
    let site = &b
        .get("terraform/static_site.tf")
        .expect("static_site.tf")
        .contents;
    // CloudFront forwards /_api and /_api/* to the ALB, the prefix removed,
    // nothing cached, every method.
    assert!(
        site.contains("domain_name = aws_lb.main.dns_name"),
        "{site}"
    );
    assert_eq!(
        site.matches("target_origin_id         = \"api\"").count(),
        2
    );
    assert!(site.contains("path_pattern             = \"/_api/*\""));
    assert!(site.contains("request.uri.substring(5) || \"/\""));
    assert!(site.contains("local.cloudfront_caching_disabled_policy_id"));
    // The SPA's routes are a function, not error pages that would turn the
    // API's own 404s into index.html.
    assert!(!site.contains("custom_error_response"), "{site}");
    assert!(site.contains("aws_cloudfront_function.spa_routes.arn"));
    // The backend runs on ECS behind the ALB, on http (CloudFront has the
    // certificate); the site's address is the deployment's URL.
    let services = &b.get("terraform/container_services.tf").unwrap().contents;
    assert!(services.contains("resource \"aws_ecs_service\" \"backend\""));
    assert!(!services.contains("frontend"), "{services}");
    let outputs = &b.get("terraform/container_outputs.tf").unwrap().contents;
    assert!(!outputs.contains("output \"url\""), "{outputs}");
    assert!(output_block(site, "url").contains("aws_cloudfront_distribution.site.domain_name"));
    assert!(b.get("terraform/tls.tf").is_none());
    insta::assert_snapshot!("front_end_beside_ecs_site", site);
    validate(&b);
}

#[test]
fn a_front_end_beside_ecs_on_a_domain_gives_cloudfront_the_certificate() {
    let b = bundle(
        "mono_frontend_backend",
        "deploy it on AWS ECS, https on app.example.com",
    );
    let site = &b.get("terraform/static_site.tf").unwrap().contents;
    assert!(
        site.contains("aliases             = [\"app.example.com\"]"),
        "{site}"
    );
    assert!(site.contains("provider          = aws.us_east_1"));
    // The ALB keeps one plain listener behind CloudFront.
    let alb = &b.get("terraform/container_alb.tf").unwrap().contents;
    assert!(!alb.contains("redirect"), "{alb}");
    assert!(b.get("terraform/tls.tf").is_none());
    validate(&b);
}

/// full-stack-fastapi's shape: compose builds `backend/Dockerfile` with
/// the repository root as context (its COPY lines name `backend/…` and a
/// folder beside it). CodeBuild builds it from the root, not from the
/// service's folder, where those files are not.
#[test]
fn a_projects_dockerfile_builds_from_the_context_its_compose_file_names() {
    let (analysis, decision) = support::scenario(
        "compose_root_context_dockerfile",
        "deploy on aws ecs with postgres",
    );
    let web = &decision.services[0];
    assert_eq!(web.image, autodeploy_core::ImageSource::Repository);
    assert_eq!(web.dockerfile_context.as_deref(), Some("."));
    let b = render(&decision, &analysis, &RenderOptions::default()).unwrap();
    let build = &b.get("terraform/container_build.tf").unwrap().contents;
    assert!(
        build.contains(r#"docker build -f 'backend/Dockerfile' -t \"$REPO_0:$IMAGE_TAG\" '.' &&"#),
        "{build}"
    );
    validate(&b);
}

/// node-express-boilerplate: a MongoDB app on ECS. No bundle writes
/// DocumentDB, so the plan takes the connection string of a MongoDB the
/// user runs (a secret they fill) instead of refusing at render.
#[test]
fn a_mongodb_app_on_ecs_reads_the_users_connection_string() {
    let (analysis, decision) =
        support::scenario("wiring_mongoose", "deploy on aws ecs with mongodb");
    assert_eq!(
        decision.database.as_ref().map(|d| d.service),
        Some(autodeploy_core::DataService::External)
    );
    let b = render(&decision, &analysis, &RenderOptions::default()).unwrap();
    let tasks = &b.get("terraform/container_tasks.tf").unwrap().contents;
    assert!(
        tasks.contains("valueFrom = aws_secretsmanager_secret.mongodb_connection_string.arn"),
        "{tasks}"
    );
    validate(&b);
}
