//! The permissions check before anything is created, against a local server
//! that speaks IAM's Query protocol (`SimulatePrincipalPolicy`): what is
//! asked (the principal and every action, form-encoded, signed for IAM) and
//! each verdict — all allowed, some denied, and a simulator that cannot
//! answer (no right to simulate), which is never a failure.

mod fake;

use autodeploy_aws::permissions::Verdict;
use autodeploy_aws::{AwsClient, Credentials};
use fake::{Answer, Fake};

fn client(url: &str) -> AwsClient {
    AwsClient::with_credentials(
        Credentials::new("AKIDTEST", "secret", None),
        "eu-west-1",
        Some(url),
    )
    .unwrap()
}

/// A simulator denying `deny`.
fn simulator(deny: &'static [&'static str]) -> Fake {
    Fake::start(move |req| fake::simulation(req, deny))
}

const ROLE: &str = "arn:aws:iam::123456789012:role/Deploy";

#[test]
fn every_action_is_asked_for_the_principal_and_all_allowed_is_said() {
    let fake = simulator(&[]);
    let v = client(&fake.url).simulate(ROLE, &["ec2:RunInstances", "iam:PassRole"]);
    assert_eq!(v, Verdict::Allowed { checked: 2 });
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 1);
    let form = reqs[0].form();
    assert_eq!(form["Action"], "SimulatePrincipalPolicy");
    assert_eq!(form["PolicySourceArn"], ROLE);
    assert_eq!(form["ActionNames.member.1"], "ec2:RunInstances");
    assert_eq!(form["ActionNames.member.2"], "iam:PassRole");
    let auth = reqs[0].header("authorization").unwrap();
    assert!(auth.contains("/iam/aws4_request"), "{auth}");
}

#[test]
fn denied_actions_are_named() {
    let fake = simulator(&["rds:CreateDBInstance"]);
    let v = client(&fake.url).simulate(ROLE, &["ec2:RunInstances", "rds:CreateDBInstance"]);
    assert_eq!(
        v,
        Verdict::Denied(vec![("rds:CreateDBInstance".into(), "implicitDeny".into())])
    );
}

#[test]
fn a_simulator_that_cannot_answer_is_unknown_and_says_why() {
    let fake = Fake::start(|_| {
        Answer::xml(
            403,
            "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform: iam:SimulatePrincipalPolicy</Message></Error></ErrorResponse>",
        )
    });
    match client(&fake.url).simulate(ROLE, &["ec2:RunInstances"]) {
        Verdict::Unknown(why) => assert!(why.contains("iam:SimulatePrincipalPolicy"), "{why}"),
        v => panic!("{v:?}"),
    }
}
