//! `Intent`: what one sentence of plain English asked for.
//!
//! JSON contract (`autodeploy parse "TEXT" --json`): exactly these fields, `null`
//! wherever the text says nothing. Defaults are applied later (decide), never here.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intent {
    pub cloud: Option<Cloud>,
    /// Provider region code (`eu-central-1`, `europe-west1`, `westeurope`).
    pub region: Option<String>,
    pub strategy: Option<Strategy>,
    /// Exact machine type (`t3.small`, `e2-medium`, `Standard_B2s`).
    pub instance_type: Option<String>,
    pub min_instances: Option<u32>,
    pub max_instances: Option<u32>,
    pub autoscale: Option<bool>,
    pub database: Option<DatabaseEngine>,
    pub cache: Option<Cache>,
    pub domain: Option<String>,
    pub https: Option<bool>,
    pub environment: Option<Environment>,
    pub budget_usd_month: Option<f64>,
    pub load_balancer: Option<bool>,
    /// A repository URL or path named in the text.
    pub repo: Option<String>,
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
