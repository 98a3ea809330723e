//! `Intent`: what one sentence of plain English asked for.
//!
//! JSON contract (`autodeploy parse "TEXT" --json`): exactly these fields, `null`
//! wherever the text says nothing. Defaults are applied later (decide), never here.
//!
//! This module holds the type and small, pure helpers on it (field names,
//! which fields are set, canonical strings). It deliberately does no parsing:
//! that is the `autodeploy-parse` crate.

use serde::{Deserialize, Serialize};

/// What one request asked for. Every field is `None` unless the text says it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intent {
    /// Target provider (`aws`, `gcp`, `azure`) or `local` (this machine).
    pub cloud: Option<Cloud>,
    /// Provider region code (`eu-central-1`, `europe-west1`, `westeurope`).
    pub region: Option<String>,
    /// How the app runs: on a VM, in a container, on Kubernetes, serverless, as a static site.
    pub strategy: Option<Strategy>,
    /// Exact machine type (`t3.small`, `e2-medium`, `Standard_B2s`).
    pub instance_type: Option<String>,
    /// Lower bound on running instances (replicas, nodes, tasks); 0 for "scale to zero".
    pub min_instances: Option<u32>,
    /// Upper bound on running instances.
    pub max_instances: Option<u32>,
    /// `true` for autoscaling (or a range of instances), `false` for "without
    /// autoscaling", "fixed" or a single instance.
    pub autoscale: Option<bool>,
    pub database: Option<DatabaseEngine>,
    pub cache: Option<Cache>,
    /// Host name to serve on (`app.example.com`), lower case.
    pub domain: Option<String>,
    /// `true` for https/TLS/certificate, `false` for "http only"/"no ssl".
    pub https: Option<bool>,
    pub environment: Option<Environment>,
    /// Monthly budget in US dollars.
    pub budget_usd_month: Option<f64>,
    /// `true` when a load balancer is asked for, `false` when refused.
    pub load_balancer: Option<bool>,
    /// A repository URL or path named in the text.
    pub repo: Option<String>,
    /// The text asks for no database server ("sqlite", "no database",
    /// "without a database"): the app's SQLite fallback is used and nothing
    /// is provisioned. Outside the `parse --json` contract, so never
    /// serialised: it travels from parse to decide in memory only.
    #[serde(skip)]
    pub no_database_server: bool,
    /// The parts of the repository the text names as what to deploy ("the
    /// backend", "just the API", "the API and its workers"); empty when it
    /// names none, and then every service is deployed. Outside the
    /// `parse --json` contract like `no_database_server`.
    #[serde(skip)]
    pub services: Vec<ServiceRole>,
    /// The parts the text names to leave out ("without the worker").
    #[serde(skip)]
    pub services_left_out: Vec<ServiceRole>,
}

/// A part of a repository a request can name as what to deploy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceRole {
    /// The server side: a service that answers HTTP and is not a static front end.
    Backend,
    /// A static site or single-page app served to browsers.
    Frontend,
    /// A long-running process that serves no HTTP.
    Worker,
}

impl ServiceRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceRole::Backend => "backend",
            ServiceRole::Frontend => "frontend",
            ServiceRole::Worker => "worker",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    Aws,
    Gcp,
    Azure,
    Local,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    Vm,
    Container,
    Kubernetes,
    Serverless,
    Static,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DatabaseEngine {
    Postgresql,
    Mysql,
    Mongodb,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cache {
    Redis,
    Memcached,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Production,
    Staging,
    Development,
}

impl Intent {
    /// The contract's field names, in JSON order.
    pub const FIELDS: [&'static str; 15] = [
        "cloud",
        "region",
        "strategy",
        "instance_type",
        "min_instances",
        "max_instances",
        "autoscale",
        "database",
        "cache",
        "domain",
        "https",
        "environment",
        "budget_usd_month",
        "load_balancer",
        "repo",
    ];

    /// Whether each field is set, in [`Intent::FIELDS`] order.
    pub fn presence(&self) -> [bool; 15] {
        [
            self.cloud.is_some(),
            self.region.is_some(),
            self.strategy.is_some(),
            self.instance_type.is_some(),
            self.min_instances.is_some(),
            self.max_instances.is_some(),
            self.autoscale.is_some(),
            self.database.is_some(),
            self.cache.is_some(),
            self.domain.is_some(),
            self.https.is_some(),
            self.environment.is_some(),
            self.budget_usd_month.is_some(),
            self.load_balancer.is_some(),
            self.repo.is_some(),
        ]
    }

    /// Names of the fields the text did not set (left to decide's defaults).
    pub fn unset_fields(&self) -> Vec<&'static str> {
        Self::FIELDS
            .iter()
            .zip(self.presence())
            .filter(|(_, set)| !set)
            .map(|(f, _)| *f)
            .collect()
    }

    /// True when the text set nothing at all.
    pub fn is_empty(&self) -> bool {
        self.presence().iter().all(|set| !set)
    }
}

impl Cloud {
    /// Every target (the API validates `cloud`/`target` against it and its
    /// document's enums are checked against it).
    pub const ALL: [Cloud; 4] = [Cloud::Aws, Cloud::Gcp, Cloud::Azure, Cloud::Local];

    /// The target named by its canonical string.
    pub fn parse(s: &str) -> Option<Cloud> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The canonical JSON string (`aws`, `gcp`, `azure`, `local`).
    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Aws => "aws",
            Cloud::Gcp => "gcp",
            Cloud::Azure => "azure",
            Cloud::Local => "local",
        }
    }

    /// True for the local target (this machine): no price table, no network, no secrets store.
    pub fn is_local(self) -> bool {
        self == Cloud::Local
    }

    /// The three public clouds, in the order tables list them.
    pub const PUBLIC: [Cloud; 3] = [Cloud::Aws, Cloud::Gcp, Cloud::Azure];
}

impl Strategy {
    /// The canonical JSON string.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Vm => "vm",
            Strategy::Container => "container",
            Strategy::Kubernetes => "kubernetes",
            Strategy::Serverless => "serverless",
            Strategy::Static => "static",
        }
    }
}

impl DatabaseEngine {
    /// The canonical JSON string.
    pub fn as_str(self) -> &'static str {
        match self {
            DatabaseEngine::Postgresql => "postgresql",
            DatabaseEngine::Mysql => "mysql",
            DatabaseEngine::Mongodb => "mongodb",
        }
    }
}

impl Cache {
    /// The canonical JSON string.
    pub fn as_str(self) -> &'static str {
        match self {
            Cache::Redis => "redis",
            Cache::Memcached => "memcached",
        }
    }
}

impl Environment {
    /// The canonical JSON string.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::Staging => "staging",
            Environment::Development => "development",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_match_the_serialised_form() {
        let v = serde_json::to_value(Intent::default()).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut want = Intent::FIELDS.to_vec();
        let mut got = keys.clone();
        want.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, want);
        assert!(Intent::default().is_empty());
        assert_eq!(Intent::default().unset_fields().len(), 15);
    }

    #[test]
    fn as_str_matches_serde() {
        for c in [Cloud::Aws, Cloud::Gcp, Cloud::Azure, Cloud::Local] {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        for s in [
            Strategy::Vm,
            Strategy::Container,
            Strategy::Kubernetes,
            Strategy::Serverless,
            Strategy::Static,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for d in [
            DatabaseEngine::Postgresql,
            DatabaseEngine::Mysql,
            DatabaseEngine::Mongodb,
        ] {
            assert_eq!(serde_json::to_value(d).unwrap(), d.as_str());
        }
        for c in [Cache::Redis, Cache::Memcached] {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        for e in [
            Environment::Production,
            Environment::Staging,
            Environment::Development,
        ] {
            assert_eq!(serde_json::to_value(e).unwrap(), e.as_str());
        }
    }
}
