//! Where and for what the deployment runs: cloud, region and environment,
//! from the request when it says, else defaults that are announced in `reasons`.
//!
//! - cloud: the request's; else inferred from a region or machine type the
//!   request names (`europe-west1` → GCP); else [`DecideOptions::default_cloud`]
//!   (AWS).
//! - region: the request's when it belongs to the cloud; a region of another
//!   cloud is mapped to the nearest one with a warning; else the cloud's default
//!   (aws us-east-1, gcp us-central1, azure eastus; `local` for the local target).
//! - environment: the request's, else production.
//!
//! What this is not: sizing or pricing (see `sizing`, `cost`).
//!
//! [`DecideOptions::default_cloud`]: crate::DecideOptions::default_cloud

use crate::cloud;
use crate::notes::Notes;
use crate::{DecideError, DecideOptions};
use autodeploy_core::{Cloud, Environment, Intent, Origin};

/// The resolved target.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Target {
    pub cloud: Cloud,
    pub region: String,
    pub environment: Environment,
}

/// Default region of each cloud.
pub fn default_region(cloud: Cloud) -> &'static str {
    cloud::of(cloud).default_region()
}

/// Human name of a cloud.
pub fn cloud_name(cloud: Cloud) -> &'static str {
    cloud::of(cloud).name()
}

/// Which cloud a region code belongs to, by its shape:
/// AWS `us-east-1` (letters-letters-digit), GCP `europe-west1` (letters-letters+digits),
/// Azure `westeurope` (letters and digits, no hyphen).
pub fn region_cloud(region: &str) -> Option<Cloud> {
    cloud::region_owner(region)
}

/// Which cloud a machine type belongs to, by its shape:
/// AWS `t3.small`, GCP `e2-small` / `n2-standard-2`, Azure `Standard_B1ms`.
pub fn instance_type_cloud(instance_type: &str) -> Option<Cloud> {
    cloud::instance_type_owner(instance_type)
}

/// The region of `to` nearest to `region` (of another cloud), when known.
pub fn nearest_region(region: &str, to: Cloud) -> Option<(&'static str, &'static str)> {
    cloud::REGION_TWINS
        .iter()
        .find(|row| row.holds(region))
        .map(|row| (cloud::of(to).twin(row), row.area))
}

/// Resolve cloud, region and environment.
pub(crate) fn target(
    intent: &Intent,
    opts: &DecideOptions,
    notes: &mut Notes,
) -> Result<Target, DecideError> {
    // Validate the shapes first: an unknown region is an error whatever the cloud.
    let region_owner = match intent.region.as_deref() {
        Some(r) => Some(region_cloud(r).ok_or_else(|| DecideError::UnknownRegion {
            region: r.to_string(),
        })?),
        None => None,
    };
    let type_owner = match intent.instance_type.as_deref() {
        Some(t) => {
            Some(
                instance_type_cloud(t).ok_or_else(|| DecideError::UnknownInstanceType {
                    instance_type: t.to_string(),
                })?,
            )
        }
        None => None,
    };

    let (cloud, basis) = match (intent.cloud, region_owner, type_owner) {
        (Some(c), _, _) => (c, CloudBasis::Named),
        (None, Some(c), _) => (c, CloudBasis::Region),
        (None, None, Some(c)) => (c, CloudBasis::MachineType),
        (None, None, None) => (opts.default_cloud, CloudBasis::Default),
    };
    let origin = if basis == CloudBasis::Default {
        Origin::Default
    } else {
        Origin::Request
    };
    notes.reason("cloud", origin, cloud_reason(cloud, basis, intent));

    let region = resolve_region(intent.region.as_deref(), region_owner, cloud, notes);

    let environment = intent.environment.unwrap_or(if cloud.is_local() {
        Environment::Development
    } else {
        Environment::Production
    });
    let (origin, text) = environment_reason(environment, intent.environment.is_some());
    notes.reason("environment", origin, text);

    Ok(Target {
        cloud,
        region,
        environment,
    })
}

/// What the cloud was taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CloudBasis {
    /// The request names it.
    Named,
    /// The request's region belongs to it.
    Region,
    /// The request's machine type belongs to it.
    MachineType,
    /// [`DecideOptions::default_cloud`].
    Default,
}

/// The cloud's reason line, from the cloud chosen and what it was taken from.
fn cloud_reason(c: Cloud, basis: CloudBasis, intent: &Intent) -> String {
    match basis {
        CloudBasis::Named => format!("{}: the request names it", cloud_name(c)),
        CloudBasis::Region => format!(
            "{}: the request names no cloud, but its region {} is a {} region",
            cloud_name(c),
            intent.region.as_deref().unwrap_or_default(),
            cloud_name(c)
        ),
        CloudBasis::MachineType => format!(
            "{}: the request names no cloud, but {} is a {} machine type",
            cloud_name(c),
            intent.instance_type.as_deref().unwrap_or_default(),
            cloud_name(c)
        ),
        CloudBasis::Default => format!(
            "{}: the request names no cloud and {} is the default (say \"on GCP\", \"on Azure\" or \"locally\" to choose another)",
            cloud_name(c),
            cloud_name(c)
        ),
    }
}

/// The environment's reason line (`asked`: the request names it; else the
/// default, development only for a local deployment).
fn environment_reason(e: Environment, asked: bool) -> (Origin, String) {
    if asked {
        return (
            Origin::Request,
            format!("{}: the request says so", e.as_str()),
        );
    }
    let text = if e == Environment::Development {
        "development: the request names no environment and the deployment is local"
    } else {
        "production: the request names no environment; production sizes, backups and deletion protection apply (say \"staging\" or \"dev\" for smaller, cheaper ones)"
    };
    (Origin::Default, text.to_string())
}

/// The region: the request's when it belongs to the cloud, a mapped one when
/// it belongs to another, else the cloud's default (`local` locally).
fn resolve_region(
    asked: Option<&str>,
    owner: Option<Cloud>,
    cloud: Cloud,
    notes: &mut Notes,
) -> String {
    if cloud.is_local() {
        if let Some(r) = asked {
            notes.warn(
                "region_not_applicable",
                None,
                format!("the region {r} does not apply to a local deployment; it is ignored"),
            );
        }
        notes.reason(
            "region",
            Origin::Rule,
            "local: the app runs on this machine",
        );
        return "local".to_string();
    }
    match (asked, owner) {
        (Some(r), Some(o)) if o == cloud => {
            notes.reason(
                "region",
                Origin::Request,
                format!("{r}: the request names it"),
            );
            r.to_string()
        }
        (Some(r), Some(o)) => mapped_region(r, o, cloud, notes),
        _ => {
            let d = default_region(cloud);
            notes.reason(
                "region",
                Origin::Default,
                format!(
                    "{d}: the request names no region and {d} is {}'s default (say e.g. \"in {}\" to choose another)",
                    cloud_name(cloud),
                    cloud::of(cloud).region_example()
                ),
            );
            d.to_string()
        }
    }
}

/// A region of cloud `owner` on `cloud`: the nearest region (else the
/// default), with a warning.
fn mapped_region(r: &str, owner: Cloud, cloud: Cloud, notes: &mut Notes) -> String {
    let (mapped, why) = match nearest_region(r, cloud) {
        Some((m, area)) => (
            m.to_string(),
            format!("the nearest {} region ({area})", cloud_name(cloud)),
        ),
        None => (
            default_region(cloud).to_string(),
            format!(
                "{}'s default region (no known {} region near it)",
                cloud_name(cloud),
                cloud_name(cloud)
            ),
        ),
    };
    notes.warn(
        "region_cloud_mismatch",
        None,
        format!(
            "the request names region {r}, which is a {} region, but the deployment goes to {}: using {mapped}, {why}; name a {} region to choose another",
            cloud_name(owner),
            cloud_name(cloud),
            cloud_name(cloud)
        ),
    );
    notes.reason(
        "region",
        Origin::Rule,
        format!(
            "{mapped}: nearest to the requested {r} on {}",
            cloud_name(cloud)
        ),
    );
    mapped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_shapes_identify_their_cloud() {
        let cases = [
            ("us-east-1", Some(Cloud::Aws)),
            ("eu-central-1", Some(Cloud::Aws)),
            ("us-gov-west-1", Some(Cloud::Aws)),
            ("ap-southeast-2", Some(Cloud::Aws)),
            ("us-central1", Some(Cloud::Gcp)),
            ("europe-west1", Some(Cloud::Gcp)),
            ("northamerica-northeast1", Some(Cloud::Gcp)),
            ("eastus", Some(Cloud::Azure)),
            ("westeurope", Some(Cloud::Azure)),
            ("germanywestcentral", Some(Cloud::Azure)),
            ("eastus2", Some(Cloud::Azure)),
            ("", None),
            ("US East", None),
            ("eu", None),
            ("us-east", None),
            ("us-east-1; rm -rf /", None),
        ];
        for (r, want) in cases {
            assert_eq!(region_cloud(r), want, "{r}");
        }
    }

    #[test]
    fn instance_type_shapes_identify_their_cloud() {
        let cases = [
            ("t3.small", Some(Cloud::Aws)),
            ("m5.xlarge", Some(Cloud::Aws)),
            ("c6gn.16xlarge", Some(Cloud::Aws)),
            ("e2-small", Some(Cloud::Gcp)),
            ("n2-standard-2", Some(Cloud::Gcp)),
            ("f1-micro", Some(Cloud::Gcp)),
            ("Standard_B1ms", Some(Cloud::Azure)),
            ("standard_d2s_v5", Some(Cloud::Azure)),
            ("large", None),
            ("small.", None),
            ("", None),
            ("t3.small\"; echo", None),
        ];
        for (t, want) in cases {
            assert_eq!(instance_type_cloud(t), want, "{t}");
        }
    }

    #[test]
    fn default_regions_and_twins() {
        assert_eq!(default_region(Cloud::Aws), "us-east-1");
        assert_eq!(default_region(Cloud::Gcp), "us-central1");
        assert_eq!(default_region(Cloud::Azure), "eastus");
        assert_eq!(
            nearest_region("europe-west1", Cloud::Aws).map(|x| x.0),
            Some("eu-west-1")
        );
        assert_eq!(
            nearest_region("eu-central-1", Cloud::Azure).map(|x| x.0),
            Some("germanywestcentral")
        );
        assert_eq!(nearest_region("xx-nowhere-1", Cloud::Gcp), None);
    }

    fn run(intent: Intent) -> (Result<Target, DecideError>, Notes) {
        let mut notes = Notes::default();
        let t = target(&intent, &DecideOptions::default(), &mut notes);
        (t, notes)
    }

    #[test]
    fn target_resolution_table() {
        struct Case {
            intent: Intent,
            cloud: Cloud,
            region: &'static str,
            warning: Option<&'static str>,
        }
        let cases = vec![
            Case {
                intent: Intent::default(),
                cloud: Cloud::Aws,
                region: "us-east-1",
                warning: None,
            },
            Case {
                intent: Intent {
                    cloud: Some(Cloud::Gcp),
                    ..Default::default()
                },
                cloud: Cloud::Gcp,
                region: "us-central1",
                warning: None,
            },
            Case {
                intent: Intent {
                    cloud: Some(Cloud::Azure),
                    region: Some("westeurope".into()),
                    ..Default::default()
                },
                cloud: Cloud::Azure,
                region: "westeurope",
                warning: None,
            },
            Case {
                intent: Intent {
                    region: Some("europe-west1".into()),
                    ..Default::default()
                },
                cloud: Cloud::Gcp,
                region: "europe-west1",
                warning: None,
            },
            Case {
                intent: Intent {
                    instance_type: Some("Standard_B2s".into()),
                    ..Default::default()
                },
                cloud: Cloud::Azure,
                region: "eastus",
                warning: None,
            },
            Case {
                intent: Intent {
                    cloud: Some(Cloud::Aws),
                    region: Some("europe-west1".into()),
                    ..Default::default()
                },
                cloud: Cloud::Aws,
                region: "eu-west-1",
                warning: Some("region_cloud_mismatch"),
            },
            Case {
                intent: Intent {
                    cloud: Some(Cloud::Local),
                    region: Some("eu-west-1".into()),
                    ..Default::default()
                },
                cloud: Cloud::Local,
                region: "local",
                warning: Some("region_not_applicable"),
            },
        ];
        for c in cases {
            let (t, notes) = run(c.intent.clone());
            let t = t.unwrap();
            assert_eq!(t.cloud, c.cloud, "{:?}", c.intent);
            assert_eq!(t.region, c.region, "{:?}", c.intent);
            match c.warning {
                Some(w) => assert!(notes.has_warning(w), "{:?}", notes.warnings),
                None => assert!(notes.warnings.is_empty(), "{:?}", notes.warnings),
            }
            assert!(notes.reasons.iter().any(|r| r.about == "cloud"));
            assert!(notes.reasons.iter().any(|r| r.about == "region"));
            assert!(notes.reasons.iter().any(|r| r.about == "environment"));
        }
    }

    #[test]
    fn unknown_region_or_machine_type_is_an_error() {
        let (t, _) = run(Intent {
            region: Some("Mars North".into()),
            ..Default::default()
        });
        assert!(matches!(t, Err(DecideError::UnknownRegion { .. })));
        let (t, _) = run(Intent {
            instance_type: Some("huge".into()),
            ..Default::default()
        });
        assert!(matches!(t, Err(DecideError::UnknownInstanceType { .. })));
    }

    #[test]
    fn environment_defaults_to_production_and_says_so() {
        let (t, notes) = run(Intent::default());
        assert_eq!(t.unwrap().environment, Environment::Production);
        let r = notes
            .reasons
            .iter()
            .find(|r| r.about == "environment")
            .unwrap();
        assert_eq!(r.origin, Origin::Default);
    }
}
