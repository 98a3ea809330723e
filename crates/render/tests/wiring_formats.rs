//! The wiring formats a decision can ask for beyond the engine's default URL
//! — a URL with the driver scheme the app uses (`postgresql+asyncpg`) and the
//! Go MySQL driver's DSN (`user:password@tcp(host:port)/name`) — rendered on
//! every cloud from the wiring fixtures: the AWS start wrapper assembles them
//! (and the bundle validates), Azure joins them, GCP's Cloud Run reads a
//! Secret Manager slot of its own per format.
mod support;

use autodeploy_render::{render, Bundle, RenderOptions};
use support::{assert_fmt, assert_valid, provider_mirror, scenario, write_bundle};

fn bundle(fixture: &str, request: &str) -> Bundle {
    let (analysis, decision) = scenario(fixture, request);
    render(&decision, &analysis, &RenderOptions::default())
        .unwrap_or_else(|e| panic!("{fixture} / {request}: {e}"))
}

fn all_tf(b: &Bundle) -> String {
    b.paths()
        .into_iter()
        .filter(|p| p.ends_with(".tf"))
        .map(|p| b.get(p).unwrap().contents.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn go_mysql_dsn_on_every_cloud() {
    let aws = bundle("wiring_go_mysql_dsn", "deploy it on aws");
    let tf = all_tf(&aws);
    assert!(
        tf.contains(r#"export MYSQL_DSN=\"$${AUTODEPLOY_DB_USER}:$${AUTODEPLOY_DB_PASSWORD}@tcp($${AUTODEPLOY_DB_HOST}:$${AUTODEPLOY_DB_PORT})/$${AUTODEPLOY_DB_NAME}\""#),
        "{tf}"
    );
    let (_dir, tf_dir) = write_bundle(&aws);
    assert_fmt(&tf_dir);
    if provider_mirror().is_some() {
        assert_valid(&tf_dir);
    }

    let azure = all_tf(&bundle("wiring_go_mysql_dsn", "deploy it on azure"));
    assert!(
        azure.contains(r#"export MYSQL_DSN=\"$AUTODEPLOY_PART_0:$AUTODEPLOY_PART_1@tcp($AUTODEPLOY_PART_2:3306)/$AUTODEPLOY_PART_3?tls=true\""#),
        "{azure}"
    );

    let gcp = all_tf(&bundle(
        "wiring_go_mysql_dsn",
        "deploy it on gcp with containers",
    ));
    assert!(
        gcp.contains("google_secret_manager_secret.database_mysql_dsn"),
        "{gcp}"
    );
}

#[test]
fn the_url_scheme_the_app_uses() {
    let aws = all_tf(&bundle("wiring_fastapi_async_url", "deploy it on aws"));
    assert!(
        aws.contains(r#"export DB_URL=\"postgresql+asyncpg://"#),
        "{aws}"
    );
    let azure = all_tf(&bundle("wiring_fastapi_async_url", "deploy it on azure"));
    assert!(azure.contains("postgresql+asyncpg://"), "{azure}");
    let gcp = all_tf(&bundle("wiring_fastapi_async_url", "deploy it on gcp"));
    assert!(
        gcp.contains("google_secret_manager_secret.database_url_postgresql_asyncpg.secret_id"),
        "{gcp}"
    );
}
