//! Values the person gives for a deployment (`deploy --env NAME=VALUE`,
//! `--secret NAME`, the API's `options.env` and `secrets`) laid over a cloud
//! decision: an `--env` value becomes a literal of the service's environment
//! (replacing whatever the wiring chose, an input variable included); a
//! `--secret` becomes a slot of the cloud's secret store the deploy fills
//! after `terraform apply` — its value is never part of the decision, the
//! bundle or the state.
//!
//! A name is `NAME` (every service of the deployment) or `service:NAME` (that
//! service only). The local target takes the values itself
//! (`autodeploy_local::LocalOptions`): a local decision is left as it is.

use crate::data::{secret_store, store_name};
use crate::env::secret_slug;
use autodeploy_core::{Cloud, Decision, EnvBinding, EnvValue, SecretKind, SecretPlan};

/// Why a value cannot be laid over the decision.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserValueError {
    /// `service:NAME` names no service of the deployment.
    #[error("`{given}` names service `{service}`, which this deployment does not have (its services: {known}); use `NAME` for every service or one of those names before the colon")]
    UnknownService {
        given: String,
        service: String,
        known: String,
    },
    /// The name cannot be an environment variable.
    #[error("`{0}` is not an environment variable name (letters, digits and `_`, not starting with a digit)")]
    BadName(String),
}

/// Lay `env` (name, value) and `secrets` (names) over `d`; a local decision
/// is returned unchanged.
pub fn apply(
    d: &mut Decision,
    env: &[(String, String)],
    secrets: &[String],
) -> Result<(), UserValueError> {
    if d.cloud == Cloud::Local {
        return Ok(());
    }
    for (given, value) in env {
        for (svc, name) in targets(d, given)? {
            set(
                d,
                svc,
                EnvBinding {
                    name: name.clone(),
                    value: EnvValue::Literal {
                        value: value.clone(),
                    },
                    secret: false,
                    reason: "given with `--env` at deploy time".into(),
                },
            );
        }
    }
    let store = secret_store(d.cloud);
    for given in secrets {
        for (svc, name) in targets(d, given)? {
            // The slot the analysis already made for this variable is filled
            // rather than a second one created beside it.
            let slug = match binding(d, svc, &name) {
                Some(EnvValue::UserSecret { secret }) => secret.clone(),
                _ => user_secret_name(&d.services[svc].name, &name, given.contains(':')),
            };
            let used_by = format!("{}:{name}", d.services[svc].name);
            match d.secrets.iter_mut().find(|s| s.name == slug) {
                Some(s) => {
                    if !s.used_by.contains(&used_by) {
                        s.used_by.push(used_by);
                    }
                }
                None => d.secrets.push(SecretPlan {
                    name: slug.clone(),
                    kind: SecretKind::UserSupplied,
                    store,
                    generator: None,
                    used_by: vec![used_by],
                    read_by_people: false,
                }),
            }
            set(
                d,
                svc,
                EnvBinding {
                    name,
                    value: EnvValue::UserSecret { secret: slug },
                    secret: true,
                    reason: format!(
                        "given with `--secret` at deploy time: kept in {}, filled by the deploy after apply",
                        store_name(store)
                    ),
                },
            );
        }
    }
    Ok(())
}

/// The secret slot a `--secret` value fills: `user-<name>`, or
/// `user-<service>-<name>` when it was given for one service.
pub fn user_secret_name(service: &str, name: &str, per_service: bool) -> String {
    if per_service {
        secret_slug(&format!("user-{service}-{name}"))
    } else {
        secret_slug(&format!("user-{name}"))
    }
}

/// The secret slots (`EnvValue::UserSecret`) of `d` that a `--secret` given
/// as `NAME` or `service:NAME` feeds — what the deploy fills after apply.
pub fn slots_of(d: &Decision, given: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (svc, name) in targets(d, given).unwrap_or_default() {
        for e in d.services[svc].env.iter().filter(|e| e.name == name) {
            if let EnvValue::UserSecret { secret } = &e.value {
                if !out.contains(secret) {
                    out.push(secret.clone());
                }
            }
        }
    }
    out
}

/// (service index, variable name) pairs a given name applies to.
fn targets(d: &Decision, given: &str) -> Result<Vec<(usize, String)>, UserValueError> {
    let (service, name) = match given.split_once(':') {
        Some((s, n)) => (Some(s), n),
        None => (None, given),
    };
    let valid = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(UserValueError::BadName(name.to_string()));
    }
    match service {
        None => Ok((0..d.services.len())
            .map(|i| (i, name.to_string()))
            .collect()),
        Some(s) => match d.services.iter().position(|x| x.name == s) {
            Some(i) => Ok(vec![(i, name.to_string())]),
            None => Err(UserValueError::UnknownService {
                given: given.to_string(),
                service: s.to_string(),
                known: d
                    .services
                    .iter()
                    .map(|x| x.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        },
    }
}

fn binding<'a>(d: &'a Decision, svc: usize, name: &str) -> Option<&'a EnvValue> {
    d.services[svc]
        .env
        .iter()
        .find(|e| e.name == name)
        .map(|e| &e.value)
}

/// Replace the binding of the same name, or add it. A generated or empty
/// secret the old binding was the last user of is dropped (nothing would
/// read it, and each one is billed).
fn set(d: &mut Decision, svc: usize, b: EnvBinding) {
    let user = format!("{}:{}", d.services[svc].name, b.name);
    let new_secret = match &b.value {
        EnvValue::UserSecret { secret } => Some(secret.clone()),
        _ => None,
    };
    let env = &mut d.services[svc].env;
    let old = match env.iter_mut().find(|e| e.name == b.name) {
        Some(e) => Some(std::mem::replace(e, b).value),
        None => {
            env.push(b);
            None
        }
    };
    let Some(EnvValue::GeneratedSecret { secret } | EnvValue::UserSecret { secret }) = old else {
        return;
    };
    if Some(&secret) == new_secret.as_ref() {
        return;
    }
    if let Some(s) = d.secrets.iter_mut().find(|s| s.name == secret) {
        s.used_by.retain(|u| *u != user);
    }
    d.secrets.retain(|s| {
        s.name != secret
            || !s.used_by.is_empty()
            || !matches!(s.kind, SecretKind::Generated | SecretKind::UserSupplied)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(cloud: Cloud) -> Decision {
        use autodeploy_core::{EnvVar, Language, ServiceKind};
        let mut web =
            crate::testutil::service("web", Language::Python, Some("flask"), ServiceKind::Web);
        for (name, secret) in [("API_KEY", true), ("MODE", false)] {
            web.env.push(EnvVar {
                file: Some("app.py".into()),
                line: Some(3),
                ..EnvVar::new(name, true, secret)
            });
        }
        let intent = autodeploy_core::Intent {
            cloud: Some(cloud),
            ..Default::default()
        };
        crate::decide(
            &crate::testutil::analysis(vec![web]),
            &intent,
            &Default::default(),
        )
        .unwrap()
    }

    #[test]
    fn env_values_become_literals_and_secrets_become_filled_slots() {
        let mut d = decision(Cloud::Aws);
        let before = d.services[0]
            .env
            .iter()
            .find(|e| e.name == "MODE")
            .unwrap()
            .value
            .clone();
        assert!(matches!(before, EnvValue::Input { .. }), "{before:?}");
        apply(
            &mut d,
            &[("MODE".into(), "production".into())],
            &["API_KEY".into(), "web:STRIPE_KEY".into()],
        )
        .unwrap();
        let env = &d.services[0].env;
        let get = |n: &str| env.iter().find(|e| e.name == n).unwrap();
        assert_eq!(
            get("MODE").value,
            EnvValue::Literal {
                value: "production".into()
            }
        );
        assert_eq!(
            get("API_KEY").value,
            EnvValue::UserSecret {
                secret: "api-key".into()
            }
        );
        assert!(get("API_KEY").secret);
        assert_eq!(
            get("STRIPE_KEY").value,
            EnvValue::UserSecret {
                secret: "user-web-stripe-key".into()
            }
        );
        // The analysis' empty slot for API_KEY is the one filled.
        let slot = d.secrets.iter().find(|s| s.name == "api-key").unwrap();
        assert_eq!(slot.kind, SecretKind::UserSupplied);
        assert_eq!(slot.used_by, vec!["web:API_KEY".to_string()]);
        assert_eq!(
            d.secrets
                .iter()
                .filter(|s| s.name.contains("api-key"))
                .count(),
            1
        );
        assert!(d.secrets.iter().any(|s| s.name == "user-web-stripe-key"));
        // No value of a secret ever reaches the decision.
        assert!(!serde_json::to_string(&d)
            .unwrap()
            .contains("production-secret"));
    }

    #[test]
    fn a_local_decision_is_left_to_the_local_target() {
        let mut d = decision(Cloud::Local);
        let before = serde_json::to_value(&d).unwrap();
        apply(&mut d, &[("MODE".into(), "x".into())], &["API_KEY".into()]).unwrap();
        assert_eq!(serde_json::to_value(&d).unwrap(), before);
    }

    #[test]
    fn unknown_services_and_bad_names_are_refused_with_what_to_use() {
        let mut d = decision(Cloud::Aws);
        let e = apply(&mut d, &[("api:MODE".into(), "x".into())], &[]).unwrap_err();
        assert!(e.to_string().contains("its services: web"), "{e}");
        let e = apply(&mut d, &[], &["1BAD".into()]).unwrap_err();
        assert!(matches!(e, UserValueError::BadName(_)));
    }
}
