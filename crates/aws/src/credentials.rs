//! AWS credentials from the standard chain's first two links: the
//! environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_SESSION_TOKEN`), else the shared credentials file
//! (`AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`, profile from
//! `AWS_PROFILE` or `default`).
//!
//! Deliberately not here: SSO, `credential_process`, assume-role profiles,
//! the `~/.aws/config` file, container and instance metadata. Secrets are never
//! printed: `Debug` shows the key id only.

use crate::AwsError;
use std::path::{Path, PathBuf};

/// An access key pair, optionally with a session token.
#[derive(Clone)]
pub struct Credentials {
    pub(crate) access_key_id: String,
    pub(crate) secret_access_key: String,
    pub(crate) session_token: Option<String>,
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
        }
    }

    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// Look up credentials from the process environment and home folder.
    pub fn from_env() -> Result<Self, AwsError> {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        Self::resolve(|k| std::env::var(k).ok(), home.as_deref())
    }

    /// The lookup itself, with the environment passed in (tests use a map).
    pub fn resolve(
        env: impl Fn(&str) -> Option<String>,
        home: Option<&Path>,
    ) -> Result<Self, AwsError> {
        let get = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        match (get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY")) {
            (Some(id), Some(secret)) => {
                return Ok(Credentials::new(
                    id.trim(),
                    secret.trim(),
                    get("AWS_SESSION_TOKEN").map(|t| t.trim().to_string()),
                ))
            }
            (Some(_), None) => {
                return Err(AwsError::MissingCredentials {
                    hint: "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not; set both (or neither, to use ~/.aws/credentials)".into(),
                })
            }
            (None, Some(_)) => {
                return Err(AwsError::MissingCredentials {
                    hint: "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not; set both (or neither, to use ~/.aws/credentials)".into(),
                })
            }
            (None, None) => {}
        }
        let profile = get("AWS_PROFILE").unwrap_or_else(|| "default".into());
        let path = match (get("AWS_SHARED_CREDENTIALS_FILE"), home) {
            (Some(p), _) => PathBuf::from(p),
            (None, Some(h)) => h.join(".aws").join("credentials"),
            (None, None) => {
                return Err(AwsError::MissingCredentials {
                    hint: "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set and HOME is unknown, so ~/.aws/credentials cannot be read; set the two variables".into(),
                })
            }
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(AwsError::MissingCredentials {
                    hint: format!(
                        "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set and {} does not exist; set the two variables or run `aws configure`",
                        path.display()
                    ),
                })
            }
            Err(e) => {
                return Err(AwsError::CredentialsFile {
                    path,
                    message: e.to_string(),
                })
            }
        };
        parse_profile(&text, &profile, &path)
    }
}

/// Read one profile's keys from the INI text of a shared credentials file.
fn parse_profile(text: &str, profile: &str, path: &Path) -> Result<Credentials, AwsError> {
    let mut in_profile = false;
    let mut seen_profile = false;
    let (mut id, mut secret, mut token) = (None, None, None);
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let name = rest.trim_end_matches(']').trim();
            let name = name.strip_prefix("profile ").unwrap_or(name).trim();
            in_profile = name == profile;
            seen_profile |= in_profile;
            continue;
        }
        if !in_profile {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim().to_string();
        match k.trim().to_ascii_lowercase().as_str() {
            "aws_access_key_id" => id = Some(v),
            "aws_secret_access_key" => secret = Some(v),
            "aws_session_token" | "aws_security_token" => token = Some(v),
            _ => {}
        }
    }
    match (id, secret) {
        (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => {
            Ok(Credentials::new(id, secret, token.filter(|t| !t.is_empty())))
        }
        _ if !seen_profile => Err(AwsError::MissingCredentials {
            hint: format!(
                "profile [{profile}] is not in {}; set AWS_PROFILE to one of its profiles, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                path.display()
            ),
        }),
        _ => Err(AwsError::CredentialsFile {
            path: path.to_path_buf(),
            message: format!(
                "profile [{profile}] lacks aws_access_key_id or aws_secret_access_key (SSO and role profiles are not supported here; export keys instead)"
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn environment_wins_and_debug_hides_secrets() {
        let c = Credentials::resolve(
            env(&[
                ("AWS_ACCESS_KEY_ID", "AKIDENV"),
                ("AWS_SECRET_ACCESS_KEY", "s3cr3t-value"),
                ("AWS_SESSION_TOKEN", "tok3n-value"),
            ]),
            None,
        )
        .unwrap();
        assert_eq!(c.access_key_id, "AKIDENV");
        assert_eq!(c.session_token.as_deref(), Some("tok3n-value"));
        let dbg = format!("{c:?}");
        assert!(dbg.contains("AKIDENV"));
        assert!(!dbg.contains("s3cr3t") && !dbg.contains("tok3n"), "{dbg}");
    }

    #[test]
    fn half_set_environment_is_an_error_naming_the_missing_variable() {
        let e = Credentials::resolve(env(&[("AWS_ACCESS_KEY_ID", "AKID")]), None).unwrap_err();
        assert!(matches!(e, AwsError::MissingCredentials { .. }));
        assert!(
            e.to_string().contains("AWS_SECRET_ACCESS_KEY is not"),
            "{e}"
        );
    }

    #[test]
    fn shared_file_profiles() {
        let dir = tempfile::tempdir().unwrap();
        let aws = dir.path().join(".aws");
        std::fs::create_dir_all(&aws).unwrap();
        std::fs::write(
            aws.join("credentials"),
            "# comment\n[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = secretdefault\n\n[work]\naws_access_key_id=AKIDWORK\naws_secret_access_key=secretwork\naws_session_token = tokwork\n[sso]\nsso_session = x\n",
        )
        .unwrap();
        let c = Credentials::resolve(env(&[]), Some(dir.path())).unwrap();
        assert_eq!(c.access_key_id, "AKIDDEFAULT");
        assert_eq!(c.secret_access_key, "secretdefault");
        let c = Credentials::resolve(env(&[("AWS_PROFILE", "work")]), Some(dir.path())).unwrap();
        assert_eq!(c.access_key_id, "AKIDWORK");
        assert_eq!(c.session_token.as_deref(), Some("tokwork"));

        let e =
            Credentials::resolve(env(&[("AWS_PROFILE", "nope")]), Some(dir.path())).unwrap_err();
        assert!(e.to_string().contains("profile [nope] is not in"), "{e}");
        let e = Credentials::resolve(env(&[("AWS_PROFILE", "sso")]), Some(dir.path())).unwrap_err();
        assert!(matches!(e, AwsError::CredentialsFile { .. }), "{e}");
    }

    #[test]
    fn nothing_anywhere_says_how_to_fix_it() {
        let dir = tempfile::tempdir().unwrap();
        let e = Credentials::resolve(env(&[]), Some(dir.path())).unwrap_err();
        assert!(matches!(e, AwsError::MissingCredentials { .. }));
        let msg = e.to_string();
        assert!(
            msg.contains("AWS_ACCESS_KEY_ID") && msg.contains("does not exist"),
            "{msg}"
        );
    }
}
