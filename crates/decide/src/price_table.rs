//! The shape of a price table (`prices/<cloud>.toml`).
//!
//! Shared by the crate and its build script (`build.rs` includes this file):
//! the build script reads each TOML file into these types — the same serde
//! rules as reading it at run time — and writes them out as Rust, so the
//! binary carries the tables as data.

use serde::Deserialize;
use std::collections::BTreeMap;

/// One price table (one cloud).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PriceTable {
    pub meta: Meta,
    pub regions: BTreeMap<String, f64>,
    pub instances: BTreeMap<String, Spec>,
    pub ladders: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub database: BTreeMap<String, BTreeMap<String, Spec>>,
    #[serde(default)]
    pub cache: BTreeMap<String, Spec>,
    pub rates: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Meta {
    pub cloud: String,
    pub date: String,
    pub currency: String,
    pub base_region: String,
    pub hours_per_month: f64,
    pub source: String,
}

/// Price and shape of one machine / database / cache class.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Spec {
    pub hourly: f64,
    pub vcpu: f64,
    pub memory_gib: f64,
}
