//! Credentials against a moto_server that checks signatures and keys
//! (INITIAL_NO_AUTH_ACTION_COUNT=3: the first three calls create an IAM user,
//! its access key and its admin policy; every call after that is verified the
//! way AWS does, by recomputing the SigV4 signature). Proves the signer is
//! accepted by an independent implementation and that bad keys give clear
//! errors. Skips loudly when AUTODEPLOY_TEST_MOTO is unset.

mod common;

use autodeploy_aws::{AwsClient, AwsError, Credentials, Service};
use serde_json::json;

fn xml_field(xml: &str, name: &str) -> String {
    roxmltree::Document::parse(xml)
        .unwrap()
        .descendants()
        .find(|n| n.tag_name().name() == name)
        .and_then(|n| n.text())
        .unwrap_or_else(|| panic!("no {name} in {xml}"))
        .to_string()
}

#[test]
fn signed_requests_are_verified_and_bad_keys_are_explained() {
    let Some(m) = common::start(&[("INITIAL_NO_AUTH_ACTION_COUNT", "3")]) else {
        return;
    };
    // The three unauthenticated calls: user, key, policy.
    let setup = common::client(&m, "us-east-1");
    setup
        .query_call(
            Service::Iam,
            "CreateUser",
            "2010-05-08",
            &[("UserName", "deployer")],
        )
        .unwrap();
    let key_xml = setup
        .query_call(
            Service::Iam,
            "CreateAccessKey",
            "2010-05-08",
            &[("UserName", "deployer")],
        )
        .unwrap();
    setup
        .query_call(
            Service::Iam,
            "AttachUserPolicy",
            "2010-05-08",
            &[
                ("UserName", "deployer"),
                ("PolicyArn", "arn:aws:iam::aws:policy/AdministratorAccess"),
            ],
        )
        .unwrap();
    let id = xml_field(&key_xml, "AccessKeyId");
    let secret = xml_field(&key_xml, "SecretAccessKey");

    // Good credentials: every protocol is accepted.
    let good = AwsClient::with_credentials(
        Credentials::new(id.clone(), secret.clone(), None),
        "eu-central-1",
        Some(&m.url),
    )
    .unwrap();
    assert_eq!(good.caller_account().unwrap().len(), 12);
    good.s3_create_bucket("auth-bucket").unwrap();
    good.s3_put_bytes(
        "auth-bucket",
        "dir/a b.txt",
        b"signed",
        &[("Content-Type", "text/plain")],
    )
    .unwrap();
    assert_eq!(
        good.s3_get("auth-bucket", "dir/a b.txt").unwrap().0,
        b"signed"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.bin");
    std::fs::write(&file, vec![7u8; 300_000]).unwrap();
    good.s3_put_file("auth-bucket", "streamed/big.bin", &file)
        .unwrap();
    assert_eq!(
        good.s3_get("auth-bucket", "streamed/big.bin")
            .unwrap()
            .0
            .len(),
        300_000
    );
    assert_eq!(
        good.s3_list_keys("auth-bucket").unwrap(),
        ["dir/a b.txt", "streamed/big.bin"]
    );
    good.json_call(
        Service::SecretsManager,
        "CreateSecret",
        &json!({"Name": "db", "SecretString": "x"}),
    )
    .unwrap();
    good.secretsmanager_put("db", "y").unwrap();
    good.json_call(Service::Ecs, "ListClusters", &json!({}))
        .unwrap();

    // Temporary credentials (AssumeRole): the session token is sent and signed.
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;
    let role_xml = good
        .query_call(
            Service::Iam,
            "CreateRole",
            "2010-05-08",
            &[
                ("RoleName", "releaser"),
                ("AssumeRolePolicyDocument", trust),
            ],
        )
        .unwrap();
    good.query_call(
        Service::Iam,
        "AttachRolePolicy",
        "2010-05-08",
        &[
            ("RoleName", "releaser"),
            ("PolicyArn", "arn:aws:iam::aws:policy/AdministratorAccess"),
        ],
    )
    .unwrap();
    let creds_xml = good
        .query_call(
            Service::Sts,
            "AssumeRole",
            "2011-06-15",
            &[
                ("RoleArn", &xml_field(&role_xml, "Arn")),
                ("RoleSessionName", "release"),
            ],
        )
        .unwrap();
    let session = AwsClient::with_credentials(
        Credentials::new(
            xml_field(&creds_xml, "AccessKeyId"),
            xml_field(&creds_xml, "SecretAccessKey"),
            Some(xml_field(&creds_xml, "SessionToken")),
        ),
        "eu-central-1",
        Some(&m.url),
    )
    .unwrap();
    assert_eq!(
        session.s3_get("auth-bucket", "dir/a b.txt").unwrap().0,
        b"signed"
    );
    session.secretsmanager_put("db", "from-role").unwrap();

    // Right key id, wrong secret.
    let wrong_secret = AwsClient::with_credentials(
        Credentials::new(id.clone(), "not-the-secret", None),
        "eu-central-1",
        Some(&m.url),
    )
    .unwrap();
    let e = wrong_secret.secretsmanager_put("db", "z").unwrap_err();
    assert!(
        matches!(
            e,
            AwsError::Http {
                status: 400..=403,
                ..
            }
        ),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("AWS_SECRET_ACCESS_KEY") || msg.contains("signature"),
        "{msg}"
    );
    let e = wrong_secret
        .s3_get("auth-bucket", "dir/a b.txt")
        .unwrap_err();
    assert_eq!(e.code(), Some("SignatureDoesNotMatch"), "{e}");
    assert!(e.to_string().contains("check AWS_SECRET_ACCESS_KEY"), "{e}");

    // A key id nobody issued.
    let unknown = AwsClient::with_credentials(
        Credentials::new("AKIAUNKNOWNKEY000000", secret, None),
        "eu-central-1",
        Some(&m.url),
    )
    .unwrap();
    let e = unknown.caller_account().unwrap_err();
    assert_eq!(e.code(), Some("InvalidClientTokenId"), "{e}");
    assert!(
        e.to_string().contains("does not know this access key id"),
        "{e}"
    );
    let e = unknown.s3_get("auth-bucket", "dir/a b.txt").unwrap_err();
    assert_eq!(e.code(), Some("InvalidAccessKeyId"), "{e}");
}
