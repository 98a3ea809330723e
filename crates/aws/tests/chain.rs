//! Every source of the AWS default credential chain against local servers
//! that speak the documented protocols: a fake STS (AssumeRole,
//! AssumeRoleWithWebIdentity, GetCallerIdentity), a fake SSO portal
//! (GetRoleCredentials) with a token cache file, an ECS container
//! credentials endpoint, IMDSv2, a `credential_process` script, and profiles
//! in temp config files. Each case passes its own variables to the chain
//! (HOME, AWS_*), so nothing of the developer's ~/.aws or environment is
//! read and cases cannot race. No sleeps: every wait is a request/answer.

mod fake;

use autodeploy_aws::{AwsClient, AwsError, CredentialChain};
use fake::{Answer, Fake, Req};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// RFC 3339 (`2026-01-01T00:00:00Z`) `secs` from now.
fn rfc3339_in(secs: u64) -> String {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + secs;
    let d = autodeploy_aws::sigv4::amz_date(t); // 20260101T000000Z
    format!(
        "{}-{}-{}T{}:{}:{}Z",
        &d[0..4],
        &d[4..6],
        &d[6..8],
        &d[9..11],
        &d[11..13],
        &d[13..15]
    )
}

/// A fresh HOME with an empty ~/.aws and the variables that point at it.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".aws")).unwrap();
        Home { dir }
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn config(&self, text: &str) {
        std::fs::write(self.path().join(".aws/config"), text).unwrap();
    }
    fn credentials(&self, text: &str) {
        std::fs::write(self.path().join(".aws/credentials"), text).unwrap();
    }
    /// HOME and the two file variables; IMDS off unless a case turns it on.
    fn vars(&self, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut v = vec![
            ("HOME".to_string(), self.path().display().to_string()),
            (
                "AWS_CONFIG_FILE".into(),
                self.path().join(".aws/config").display().to_string(),
            ),
            (
                "AWS_SHARED_CREDENTIALS_FILE".into(),
                self.path().join(".aws/credentials").display().to_string(),
            ),
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        ];
        for (k, val) in extra {
            v.retain(|(n, _)| n != k);
            v.push((k.to_string(), val.to_string()));
        }
        v
    }
}

fn chain(vars: &[(String, String)]) -> CredentialChain {
    CredentialChain::from_vars(vars, "us-east-1").unwrap()
}

/// The access key id a SigV4 `Authorization` header names.
fn signed_key_id(r: &Req) -> Option<String> {
    let auth = r.header("authorization")?;
    let cred = auth.split("Credential=").nth(1)?;
    Some(cred.split('/').next()?.to_string())
}

/// A fake STS: AssumeRole and AssumeRoleWithWebIdentity hand out
/// `ASIA<ACTION>` keys; GetCallerIdentity answers with the signing key id in
/// the ARN, so a test sees which credentials signed.
fn sts() -> Fake {
    Fake::start(|r: &Req| {
        let form = r.form();
        let action = form.get("Action").cloned().unwrap_or_default();
        match action.as_str() {
            "AssumeRole" | "AssumeRoleWithWebIdentity" => {
                let key = format!("ASIA{}", action.to_ascii_uppercase());
                Answer::xml(
                    200,
                    &format!(
                        "<{action}Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><{action}Result>\
                         <Credentials><AccessKeyId>{key}</AccessKeyId><SecretAccessKey>secret-{key}</SecretAccessKey>\
                         <SessionToken>token-{key}</SessionToken><Expiration>{}</Expiration></Credentials>\
                         <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/deploy/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>\
                         </{action}Result><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></{action}Response>",
                        rfc3339_in(3600)
                    ),
                )
            }
            "GetCallerIdentity" => {
                let key = signed_key_id(r).unwrap_or_default();
                Answer::xml(
                    200,
                    &format!(
                        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult>\
                         <Arn>arn:aws:sts::123456789012:assumed-role/deploy/{key}</Arn><UserId>AROA:{key}</UserId><Account>123456789012</Account>\
                         </GetCallerIdentityResult><ResponseMetadata><RequestId>2</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
                    ),
                )
            }
            _ => Answer::xml(
                400,
                "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>unknown</Message></Error></ErrorResponse>",
            ),
        }
    })
}

#[test]
fn environment_keys_sign_the_preflight_identity_call() {
    let home = Home::new();
    let sts = sts();
    let vars = home.vars(&[
        ("AWS_ACCESS_KEY_ID", "AKIDFROMENV"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_SESSION_TOKEN", "tok"),
    ]);
    let c = chain(&vars);
    assert_eq!(c.credentials().unwrap().access_key_id(), "AKIDFROMENV");
    let client = AwsClient::with_chain(c, "us-east-1", Some(&sts.url)).unwrap();
    let id = client.caller_identity().unwrap();
    assert_eq!(id.account, "123456789012");
    assert!(id.arn.ends_with("/AKIDFROMENV"), "{}", id.arn);
    let reqs = sts.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].header("x-amz-security-token"), Some("tok"));
}

#[test]
fn static_keys_in_a_named_profile_of_the_config_file() {
    let home = Home::new();
    home.config(
        "[default]\nregion = eu-west-1\n\n[profile team]\naws_access_key_id = AKIDCONFIG\naws_secret_access_key = s\n",
    );
    home.credentials("[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = d\n");
    let c = chain(&home.vars(&[("AWS_PROFILE", "team")]));
    assert_eq!(c.profile(), Some("team"));
    assert_eq!(c.credentials().unwrap().access_key_id(), "AKIDCONFIG");
    let c = chain(&home.vars(&[]));
    assert_eq!(c.credentials().unwrap().access_key_id(), "AKIDDEFAULT");
}

#[test]
fn assume_role_with_source_profile_external_id_and_session_name() {
    let home = Home::new();
    let sts = sts();
    home.credentials("[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = b\n");
    home.config(
        "[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/deploy\nsource_profile = base\nexternal_id = ext-42\nrole_session_name = autodeploy-test\n",
    );
    let vars = home.vars(&[
        ("AWS_PROFILE", "deploy"),
        ("AWS_ENDPOINT_URL_STS", &sts.url),
    ]);
    let c = chain(&vars);
    let creds = c.credentials().unwrap();
    assert_eq!(creds.access_key_id(), "ASIAASSUMEROLE");
    assert!(creds.expires().is_some());
    let reqs = sts.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    let form = reqs[0].form();
    assert_eq!(form["Action"], "AssumeRole");
    assert_eq!(form["RoleArn"], "arn:aws:iam::123456789012:role/deploy");
    assert_eq!(form["ExternalId"], "ext-42");
    assert_eq!(form["RoleSessionName"], "autodeploy-test");
    // Signed with the source profile's keys.
    assert_eq!(signed_key_id(&reqs[0]).as_deref(), Some("AKIDBASE"));

    // The signed calls then use the role's session.
    let client = AwsClient::with_chain(c, "us-east-1", Some(&sts.url)).unwrap();
    let id = client.caller_identity().unwrap();
    assert!(id.arn.ends_with("/ASIAASSUMEROLE"), "{}", id.arn);
}

#[test]
fn mfa_protected_role_says_to_use_a_session() {
    let home = Home::new();
    let sts = Fake::start(|_r: &Req| {
        Answer::xml(
            403,
            "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>MultiFactorAuthentication failed, must provide both MFA serial number and one time pass code.</Message></Error></ErrorResponse>",
        )
    });
    home.credentials("[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = b\n");
    home.config(
        "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = base\nmfa_serial = arn:aws:iam::123456789012:mfa/me\n",
    );
    let c = chain(&home.vars(&[("AWS_PROFILE", "admin"), ("AWS_ENDPOINT_URL_STS", &sts.url)]));
    let e = c.credentials().unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, AwsError::CredentialSource { .. }), "{msg}");
    assert!(msg.contains("asks for MFA"), "{msg}");
    assert!(msg.contains("get-session-token"), "{msg}");
}

#[test]
fn credential_source_ecs_container_then_assume_role() {
    let home = Home::new();
    let sts = sts();
    let ecs = ecs_endpoint("ECSKEY", 3600, None);
    home.config(
        "[profile task]\nrole_arn = arn:aws:iam::123456789012:role/deploy\ncredential_source = EcsContainer\n",
    );
    let full_uri = format!("{}/creds", ecs.url);
    let c = chain(&home.vars(&[
        ("AWS_PROFILE", "task"),
        ("AWS_ENDPOINT_URL_STS", &sts.url),
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", &full_uri),
    ]));
    assert_eq!(c.credentials().unwrap().access_key_id(), "ASIAASSUMEROLE");
    assert_eq!(ecs.requests().len(), 1);
    assert_eq!(signed_key_id(&sts.requests()[0]).as_deref(), Some("ECSKEY"));
}

/// An ECS credentials endpoint answering `key`, valid for `secs`, that
/// demands `token` in `Authorization` when given.
fn ecs_endpoint(key: &'static str, secs: u64, token: Option<&'static str>) -> Fake {
    Fake::start(move |r: &Req| {
        if let Some(t) = token {
            if r.header("authorization") != Some(t) {
                return Answer::json(401, "{\"message\":\"bad token\"}");
            }
        }
        Answer::json(
            200,
            &format!(
                "{{\"AccessKeyId\":\"{key}\",\"SecretAccessKey\":\"s\",\"Token\":\"t\",\"Expiration\":\"{}\",\"RoleArn\":\"arn:aws:iam::123456789012:role/task\"}}",
                rfc3339_in(secs)
            ),
        )
    })
}

#[test]
fn ecs_full_uri_with_token_and_refresh_before_expiry() {
    let home = Home::new();
    let soon = ecs_endpoint("ECSSOON", 120, Some("Bearer tok-1"));
    let uri = format!("{}/v2/credentials", soon.url);
    let c = chain(&home.vars(&[
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer tok-1"),
    ]));
    assert_eq!(c.credentials().unwrap().access_key_id(), "ECSSOON");
    // Two minutes left is inside the refresh margin: fetched again.
    c.credentials().unwrap();
    assert_eq!(soon.requests().len(), 2);
    assert_eq!(soon.requests()[0].path, "/v2/credentials");

    let later = ecs_endpoint("ECSLATER", 3600, Some("tok-2"));
    let token_file = home.path().join("ecs-token");
    std::fs::write(&token_file, "tok-2").unwrap();
    let uri = format!("{}/v2/credentials", later.url);
    let c = chain(&home.vars(&[
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri),
        (
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
            &token_file.display().to_string(),
        ),
    ]));
    assert_eq!(c.credentials().unwrap().access_key_id(), "ECSLATER");
    c.credentials().unwrap();
    // An hour left: the cached credentials are used.
    assert_eq!(later.requests().len(), 1);
}

#[test]
fn credential_process_script() {
    let home = Home::new();
    let script = home.path().join("creds.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho '{{\"Version\": 1, \"AccessKeyId\": \"AKIDPROCESS\", \"SecretAccessKey\": \"s\", \"SessionToken\": \"t\", \"Expiration\": \"{}\"}}'\n",
            rfc3339_in(3600)
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    home.config(&format!(
        "[profile proc]\ncredential_process = {}\n",
        script.display()
    ));
    let c = chain(&home.vars(&[("AWS_PROFILE", "proc")]));
    let creds = c.credentials().unwrap();
    assert_eq!(creds.access_key_id(), "AKIDPROCESS");
    assert!(creds.expires().is_some());
}

#[test]
fn web_identity_token_file_and_role_arn() {
    let home = Home::new();
    let sts = sts();
    let token = home.path().join("token");
    std::fs::write(&token, "eyJ.web.identity").unwrap();
    let c = chain(&home.vars(&[
        ("AWS_WEB_IDENTITY_TOKEN_FILE", &token.display().to_string()),
        ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/ci"),
        ("AWS_ROLE_SESSION_NAME", "gh-actions"),
        ("AWS_ENDPOINT_URL_STS", &sts.url),
    ]));
    assert_eq!(
        c.credentials().unwrap().access_key_id(),
        "ASIAASSUMEROLEWITHWEBIDENTITY"
    );
    let form = sts.requests()[0].form();
    assert_eq!(form["Action"], "AssumeRoleWithWebIdentity");
    assert_eq!(form["WebIdentityToken"], "eyJ.web.identity");
    assert_eq!(form["RoleArn"], "arn:aws:iam::123456789012:role/ci");
    assert_eq!(form["RoleSessionName"], "gh-actions");
}

/// A fake SSO portal: GetRoleCredentials for one bearer token.
fn sso_portal() -> Fake {
    Fake::start(|r: &Req| {
        if r.path != "/federation/credentials"
            || r.header("x-amz-sso_bearer_token") != Some("cached-access-token")
        {
            return Answer::json(401, "{\"message\":\"Session token not found or invalid\"}");
        }
        let q = r.query();
        let key = format!("ASIASSO{}", q["role_name"].to_ascii_uppercase());
        let exp_ms = (SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 3600)
            * 1000;
        Answer::json(
            200,
            &format!(
                "{{\"roleCredentials\":{{\"accessKeyId\":\"{key}\",\"secretAccessKey\":\"s\",\"sessionToken\":\"t\",\"expiration\":{exp_ms}}}}}"
            ),
        )
    })
}

/// `aws sso login`'s cache file name: SHA-1 (hex) of the session name.
fn sso_cache_file(home: &Path, key: &str) -> std::path::PathBuf {
    use sha1::Digest;
    let hex: String = sha1::Sha1::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let dir = home.join(".aws/sso/cache");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{hex}.json"))
}

#[test]
fn sso_session_with_the_token_cache_of_aws_sso_login() {
    let home = Home::new();
    let portal = sso_portal();
    home.config(
        "[profile sso]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Deployer\n\n\
         [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n",
    );
    std::fs::write(
        sso_cache_file(home.path(), "corp"),
        format!(
            "{{\"startUrl\":\"https://corp.awsapps.com/start\",\"region\":\"us-east-1\",\"accessToken\":\"cached-access-token\",\"expiresAt\":\"{}\",\"clientId\":\"c\",\"clientSecret\":\"cs\",\"registrationExpiresAt\":\"{}\",\"refreshToken\":\"r\"}}",
            rfc3339_in(3600),
            rfc3339_in(86400)
        ),
    )
    .unwrap();
    let vars = home.vars(&[
        ("AWS_PROFILE", "sso"),
        ("AWS_ENDPOINT_URL_SSO", &portal.url),
    ]);
    let c = chain(&vars);
    assert_eq!(c.credentials().unwrap().access_key_id(), "ASIASSODEPLOYER");
    let q = portal.requests()[0].query();
    assert_eq!(q["account_id"], "111122223333");
    assert_eq!(q["role_name"], "Deployer");
}

#[test]
fn sso_without_a_login_says_to_run_aws_sso_login() {
    let home = Home::new();
    let portal = sso_portal();
    home.config(
        "[profile sso]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Deployer\n\n\
         [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n",
    );
    let c = chain(&home.vars(&[
        ("AWS_PROFILE", "sso"),
        ("AWS_ENDPOINT_URL_SSO", &portal.url),
    ]));
    let e = c.credentials().unwrap_err().to_string();
    assert!(e.contains("aws sso login --profile sso"), "{e}");
    assert!(portal.requests().is_empty());
}

#[test]
fn imdsv2_token_then_role_credentials() {
    let home = Home::new();
    let imds = Fake::start(|r: &Req| {
        let token_ok = r.header("x-aws-ec2-metadata-token") == Some("imds-token");
        match (r.method.as_str(), r.path.as_str()) {
            ("PUT", "/latest/api/token") => {
                if r.header("x-aws-ec2-metadata-token-ttl-seconds").is_none() {
                    return Answer::text(400, "ttl missing");
                }
                Answer::text(200, "imds-token").with_header("x-aws-ec2-metadata-token-ttl-seconds", "21600")
            }
            (_, _) if !token_ok => Answer::text(401, "no token"),
            ("GET", "/latest/meta-data/iam/security-credentials/")
            | ("GET", "/latest/meta-data/iam/security-credentials-extended/") => {
                Answer::text(200, "instance-role")
            }
            ("GET", "/latest/meta-data/iam/security-credentials/instance-role")
            | ("GET", "/latest/meta-data/iam/security-credentials-extended/instance-role") => {
                Answer::json(
                    200,
                    &format!(
                        "{{\"Code\":\"Success\",\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"ASIAIMDS\",\"SecretAccessKey\":\"s\",\"Token\":\"t\",\"Expiration\":\"{}\",\"LastUpdated\":\"{}\"}}",
                        rfc3339_in(3600),
                        rfc3339_in(0)
                    ),
                )
            }
            _ => Answer::text(404, "not found"),
        }
    });
    let c = chain(&home.vars(&[
        ("AWS_EC2_METADATA_DISABLED", "false"),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds.url),
    ]));
    assert_eq!(c.credentials().unwrap().access_key_id(), "ASIAIMDS");
    let reqs = imds.requests();
    assert_eq!(reqs[0].method, "PUT");
    assert!(reqs
        .iter()
        .skip(1)
        .all(|r| r.header("x-aws-ec2-metadata-token") == Some("imds-token")));
}

#[test]
fn nothing_anywhere_is_a_typed_error_that_says_what_to_do() {
    let home = Home::new();
    let c = chain(&home.vars(&[("AWS_PROFILE", "work")]));
    let started = std::time::Instant::now();
    let e = c.credentials().unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(matches!(e, AwsError::MissingCredentials { .. }), "{e}");
    let msg = e.to_string();
    assert!(msg.starts_with("no AWS credentials found"), "{msg}");
    assert!(msg.contains("aws sso login --profile work"), "{msg}");
    assert!(msg.contains("AWS_PROFILE"), "{msg}");
}
