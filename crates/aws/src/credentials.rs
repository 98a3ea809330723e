//! AWS credentials from the default chain — the one the AWS CLI, the SDKs
//! and Terraform's AWS provider use — by `aws-config`: the environment
//! (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`), the
//! shared config and credentials files with profiles (`AWS_PROFILE`,
//! `AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE`): static keys, SSO (the
//! token cache of `aws sso login`, `sso-session` sections), assume-role
//! chains (`role_arn` with `source_profile` or `credential_source`,
//! `external_id`, `role_session_name`), `credential_process`; web identity
//! (`AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`), ECS container
//! credentials (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`/`_FULL_URI` with
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]`) and EC2 instance metadata
//! (IMDSv2).
//!
//! The chain is async; it runs here on a small current-thread tokio runtime
//! of its own, on a helper thread, so callers stay blocking whatever thread
//! they are on. Its HTTP calls (STS, SSO portal, ECS, IMDS) go through this
//! crate's ureq agents ([`crate::http`]): proxies and CA store as for the
//! signed calls. Temporary credentials are cached and fetched again
//! [`REFRESH_BEFORE`] before they expire, so a release that polls for long
//! minutes keeps signing with valid keys.
//!
//! An MFA-protected role (`mfa_serial`) cannot prompt for a code here: it is
//! an error that says to use a session made beforehand. Secrets are never
//! printed: `Debug` shows the key id only.

use crate::http::{ProxyConfig, UreqHttpClient};
use crate::AwsError;
use aws_config::BehaviorVersion;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_types::os_shim_internal::{Env, Fs};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// Temporary credentials are fetched again this long before they expire.
pub const REFRESH_BEFORE: Duration = Duration::from_secs(5 * 60);

/// An access key pair, optionally with a session token and an expiry.
#[derive(Clone)]
pub struct Credentials {
    pub(crate) access_key_id: String,
    pub(crate) secret_access_key: String,
    pub(crate) session_token: Option<String>,
    pub(crate) expires: Option<SystemTime>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires", &self.expires)
            .finish()
    }
}

impl Credentials {
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
    ) -> Self {
        Credentials {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token,
            expires: None,
        }
    }

    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// When temporary credentials stop working (`None`: long-term keys).
    pub fn expires(&self) -> Option<SystemTime> {
        self.expires
    }

    /// Usable for at least `margin` more.
    fn fresh_for(&self, margin: Duration) -> bool {
        match self.expires {
            None => true,
            Some(t) => t
                .duration_since(SystemTime::now())
                .is_ok_and(|left| left > margin),
        }
    }

    fn from_sdk(c: &aws_credential_types::Credentials) -> Self {
        Credentials {
            access_key_id: c.access_key_id().to_string(),
            secret_access_key: c.secret_access_key().to_string(),
            session_token: c.session_token().map(str::to_string),
            expires: c.expiry(),
        }
    }
}

/// Where credentials come from: fixed keys, or the default chain.
#[derive(Clone)]
pub struct CredentialChain {
    inner: Arc<Inner>,
}

enum Inner {
    Fixed(Credentials),
    Chain(Box<Chain>),
}

struct Chain {
    provider: SharedCredentialsProvider,
    /// `None` only while dropping (see `Drop`).
    runtime: Option<tokio::runtime::Runtime>,
    cache: Mutex<Option<Credentials>>,
    /// The profile the chain reads (`AWS_PROFILE`, else `default`).
    profile: String,
    /// The environment it was built with (for error hints).
    env: Env,
}

impl Drop for Chain {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which tokio forbids inside async code;
        // shutting it down in the background is safe everywhere.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl std::fmt::Debug for CredentialChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &*self.inner {
            Inner::Fixed(c) => f.debug_tuple("Fixed").field(c).finish(),
            Inner::Chain(c) => f
                .debug_struct("DefaultChain")
                .field("profile", &c.profile)
                .finish(),
        }
    }
}

impl CredentialChain {
    /// Always these keys (tests, emulators).
    pub fn fixed(creds: Credentials) -> Self {
        CredentialChain {
            inner: Arc::new(Inner::Fixed(creds)),
        }
    }

    /// The default chain over the process environment and files.
    /// `overrides` are added to (or replace) the process variables, e.g.
    /// `AWS_ENDPOINT_URL_STS` to send the chain's STS calls to an emulator.
    pub fn from_env(region: &str, overrides: &[(&str, &str)]) -> Result<Self, AwsError> {
        let mut vars: Vec<(String, String)> = std::env::vars().collect();
        for (k, v) in overrides {
            vars.retain(|(n, _)| n != k);
            vars.push((k.to_string(), v.to_string()));
        }
        Self::from_vars(&vars, region)
    }

    /// The default chain over exactly these variables (nothing else of the
    /// process environment is read; `HOME` locates `~/.aws`) and the real
    /// file system. Tests give each case its own variables this way.
    pub fn from_vars(vars: &[(String, String)], region: &str) -> Result<Self, AwsError> {
        let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let env = Env::from_slice(&pairs);
        let lookup = |k: &str| env.get(k).ok();
        let profile = lookup("AWS_PROFILE")
            .filter(|p| !p.trim().is_empty())
            .unwrap_or_else(|| "default".into());
        let proxies = ProxyConfig::from_lookup(lookup);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| AwsError::CredentialSource {
                profile: profile.clone(),
                message: format!("could not start the credential runtime: {e}"),
                hint: "this machine is out of threads or file descriptors; try again".into(),
            })?;
        let region = region.to_string();
        let loader_env = env.clone();
        let provider = run_on(&runtime, async move {
            let config = aws_config::defaults(BehaviorVersion::latest())
                .env(loader_env)
                .fs(Fs::real())
                .http_client(UreqHttpClient::new(proxies))
                .region(aws_config::Region::new(region))
                .load()
                .await;
            config.credentials_provider()
        });
        let provider = provider.ok_or_else(|| AwsError::MissingCredentials {
            hint: "the AWS configuration yields no credential provider".into(),
        })?;
        Ok(CredentialChain {
            inner: Arc::new(Inner::Chain(Box::new(Chain {
                provider,
                runtime: Some(runtime),
                cache: Mutex::new(None),
                profile,
                env,
            }))),
        })
    }

    /// The profile the chain reads, when it is the default chain.
    pub fn profile(&self) -> Option<&str> {
        match &*self.inner {
            Inner::Fixed(_) => None,
            Inner::Chain(c) => Some(&c.profile),
        }
    }

    /// Credentials valid for at least [`REFRESH_BEFORE`] (when the source says
    /// when they expire): cached, fetched again when they get close.
    pub fn credentials(&self) -> Result<Credentials, AwsError> {
        let chain = match &*self.inner {
            Inner::Fixed(c) => return Ok(c.clone()),
            Inner::Chain(c) => c,
        };
        let mut cache = chain.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = cache.as_ref().filter(|c| c.fresh_for(REFRESH_BEFORE)) {
            return Ok(c.clone());
        }
        let provider = chain.provider.clone();
        let runtime = chain.runtime.as_ref().expect("runtime present until drop");
        let fetched = run_on(runtime, async move { provider.provide_credentials().await });
        let creds = match fetched {
            Ok(c) => Credentials::from_sdk(&c),
            Err(e) => return Err(chain.explain(&e)),
        };
        *cache = Some(creds.clone());
        Ok(creds)
    }
}

impl Chain {
    /// The chain's error in words: what failed and what to do.
    fn explain(&self, e: &CredentialsError) -> AwsError {
        let profile = &self.profile;
        let detail = error_chain(e);
        let lower = detail.to_ascii_lowercase();
        if let Some(mfa) = self.mfa_serial() {
            return AwsError::CredentialSource {
                profile: profile.clone(),
                message: format!("the role of profile `{profile}` asks for MFA ({mfa}), and autodeploy cannot prompt for a code ({detail})"),
                hint: format!("get a session first and use it: `aws sso login --profile {profile}` for SSO, or `aws sts get-session-token --serial-number {mfa} --token-code <code>` and put its keys in a profile (or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN) that AWS_PROFILE names"),
            };
        }
        match e {
            CredentialsError::CredentialsNotLoaded(_) => AwsError::MissingCredentials {
                hint: format!(
                    "no source of the AWS default chain has credentials (environment, profile `{profile}` in ~/.aws/config and ~/.aws/credentials, web identity, ECS, EC2 instance metadata): run `aws sso login --profile {profile}` or `aws configure --profile {profile}`, or set AWS_PROFILE to a profile that has credentials, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY ({detail})"
                ),
            },
            _ => {
                let hint = if lower.contains("sso") || lower.contains("token") && lower.contains("cache") {
                    format!("the SSO session is missing or expired: run `aws sso login --profile {profile}`, then deploy again")
                } else if lower.contains("assumerole") || lower.contains("assume role") || lower.contains("accessdenied") {
                    format!("the role of profile `{profile}` could not be assumed: check its role_arn, source_profile/credential_source and external_id, and that the source identity may assume it")
                } else if lower.contains("credential_process") || lower.contains("credential process") {
                    format!("the credential_process of profile `{profile}` failed: run it by hand to see why")
                } else {
                    format!("fix profile `{profile}` in ~/.aws/config (or AWS_PROFILE), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
                };
                AwsError::CredentialSource {
                    profile: profile.clone(),
                    message: detail,
                    hint,
                }
            }
        }
    }

    /// The `mfa_serial` of the selected profile or of a profile it sources
    /// its credentials from, if any.
    fn mfa_serial(&self) -> Option<String> {
        let env = self.env.clone();
        let runtime = self.runtime.as_ref()?;
        let set = run_on(runtime, async move {
            #[allow(deprecated)]
            let files = aws_config::profile::profile_file::ProfileFiles::default();
            aws_config::profile::parser::load(&Fs::real(), &env, &files, None).await
        })
        .ok()?;
        let mut name = self.profile.clone();
        for _ in 0..10 {
            let p = set.get_profile(&name)?;
            if let Some(m) = p.get("mfa_serial") {
                return Some(m.to_string());
            }
            name = p.get("source_profile")?.to_string();
        }
        None
    }
}

/// An error and its sources on one line, each message once.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![];
    let mut next: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = next {
        let text = err
            .to_string()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = err.source();
    }
    parts.join(": ")
}

/// Run `fut` to completion on `rt`, on a helper thread: safe from plain
/// threads and from inside another runtime alike.
fn run_on<F>(rt: &tokio::runtime::Runtime, fut: F) -> F::Output
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    std::thread::scope(|s| {
        s.spawn(|| rt.block_on(fut))
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secrets() {
        let c = Credentials::new("AKIDENV", "s3cr3t-value", Some("tok3n-value".into()));
        let dbg = format!("{c:?}");
        assert!(dbg.contains("AKIDENV"));
        assert!(!dbg.contains("s3cr3t") && !dbg.contains("tok3n"), "{dbg}");
    }

    #[test]
    fn freshness_leaves_a_margin() {
        let mut c = Credentials::new("a", "b", None);
        assert!(c.fresh_for(REFRESH_BEFORE));
        c.expires = Some(SystemTime::now() + Duration::from_secs(60));
        assert!(!c.fresh_for(REFRESH_BEFORE));
        c.expires = Some(SystemTime::now() + Duration::from_secs(3600));
        assert!(c.fresh_for(REFRESH_BEFORE));
    }
}
