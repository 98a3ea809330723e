//! Prometheus metrics of one process (API and/or workers), in the text
//! exposition format 0.0.4.
//!
//! Histograms and counters live in memory and are observed where things
//! happen (HTTP middleware, the preview pipeline, the worker loop). The
//! gauges that describe the whole fleet — `deployments_total` by status and
//! cloud, `deployment_queue_size` — are read from the store at scrape time,
//! so every API process reports the same, true numbers.
//!
//! Deliberately hand-rolled (a few atomics and maps): no global registry, no
//! macros, one `Metrics` value passed to whoever observes.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Bucket bounds (seconds) for HTTP requests.
pub const HTTP_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Bucket bounds (seconds) for repository analysis.
pub const ANALYSIS_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];
/// Bucket bounds (seconds) for Terraform phases and queue waits.
pub const SLOW_BUCKETS: &[f64] = &[
    0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0,
];

#[derive(Debug, Clone)]
struct Hist {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

/// A histogram family: one histogram per label-value tuple.
#[derive(Debug)]
pub struct Histogram {
    name: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
    buckets: &'static [f64],
    series: Mutex<BTreeMap<Vec<String>, Hist>>,
}

impl Histogram {
    pub const fn new(
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str],
        buckets: &'static [f64],
    ) -> Self {
        Histogram {
            name,
            help,
            labels,
            buckets,
            series: Mutex::new(BTreeMap::new()),
        }
    }

    /// Record one observation for these label values (in `labels` order).
    pub fn observe(&self, label_values: &[&str], seconds: f64) {
        let key: Vec<String> = label_values.iter().map(|s| s.to_string()).collect();
        let mut map = self
            .series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let h = map.entry(key).or_insert_with(|| Hist {
            counts: vec![0; self.buckets.len()],
            sum: 0.0,
            count: 0,
        });
        for (i, le) in self.buckets.iter().enumerate() {
            if seconds <= *le {
                h.counts[i] += 1;
            }
        }
        h.sum += seconds;
        h.count += 1;
    }

    /// Number of observations recorded for these label values.
    pub fn count(&self, label_values: &[&str]) -> u64 {
        let key: Vec<String> = label_values.iter().map(|s| s.to_string()).collect();
        let map = self
            .series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(&key).map(|h| h.count).unwrap_or(0)
    }

    fn encode(&self, out: &mut String) {
        let _ = writeln!(out, "# HELP {} {}", self.name, self.help);
        let _ = writeln!(out, "# TYPE {} histogram", self.name);
        let map = self
            .series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (values, h) in map.iter() {
            let base = label_pairs(self.labels, values);
            for (i, le) in self.buckets.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "{}_bucket{{{}}} {}",
                    self.name,
                    join(&base, &format!("le=\"{le}\"")),
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "{}_bucket{{{}}} {}",
                self.name,
                join(&base, "le=\"+Inf\""),
                h.count
            );
            let _ = writeln!(out, "{}_sum{} {}", self.name, braces(&base), h.sum);
            let _ = writeln!(out, "{}_count{} {}", self.name, braces(&base), h.count);
        }
    }
}

/// A counter family.
#[derive(Debug)]
pub struct Counter {
    name: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
    series: Mutex<BTreeMap<Vec<String>, u64>>,
}

impl Counter {
    pub const fn new(
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str],
    ) -> Self {
        Counter {
            name,
            help,
            labels,
            series: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn inc(&self, label_values: &[&str]) {
        let key: Vec<String> = label_values.iter().map(|s| s.to_string()).collect();
        *self
            .series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(key)
            .or_insert(0) += 1;
    }

    pub fn get(&self, label_values: &[&str]) -> u64 {
        let key: Vec<String> = label_values.iter().map(|s| s.to_string()).collect();
        self.series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
            .copied()
            .unwrap_or(0)
    }

    fn encode(&self, out: &mut String) {
        let _ = writeln!(out, "# HELP {} {}", self.name, self.help);
        let _ = writeln!(out, "# TYPE {} counter", self.name);
        let map = self
            .series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.is_empty() && self.labels.is_empty() {
            let _ = writeln!(out, "{} 0", self.name);
        }
        for (values, v) in map.iter() {
            let base = label_pairs(self.labels, values);
            let _ = writeln!(out, "{}{} {}", self.name, braces(&base), v);
        }
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn label_pairs(names: &[&str], values: &[String]) -> String {
    names
        .iter()
        .zip(values)
        .map(|(n, v)| format!("{n}=\"{}\"", escape(v)))
        .collect::<Vec<_>>()
        .join(",")
}

fn join(base: &str, extra: &str) -> String {
    if base.is_empty() {
        extra.to_string()
    } else {
        format!("{base},{extra}")
    }
}

fn braces(pairs: &str) -> String {
    if pairs.is_empty() {
        String::new()
    } else {
        format!("{{{pairs}}}")
    }
}

/// Every metric this process records.
#[derive(Debug)]
pub struct Metrics {
    pub http_request_duration: Histogram,
    pub analysis_duration: Histogram,
    pub terraform_duration: Histogram,
    pub job_claim_latency: Histogram,
    pub job_duration: Histogram,
    pub jobs_claimed: Counter,
    pub jobs_finished: Counter,
    pub heartbeat_lost: Counter,
    pub analysis_cache: Counter,
    pub plan_cache: Counter,
    pub auth: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        Metrics {
            http_request_duration: Histogram::new(
                "http_request_duration_seconds",
                "HTTP request duration by route template, method and status.",
                &["route", "method", "status"],
                HTTP_BUCKETS,
            ),
            analysis_duration: Histogram::new(
                "analysis_duration_seconds",
                "Time to fetch and analyse a repository (cache misses only; phase `analyze` of jobs included).",
                &["origin"],
                ANALYSIS_BUCKETS,
            ),
            terraform_duration: Histogram::new(
                "terraform_duration_seconds",
                "Duration of Terraform phases of jobs run by this process's workers, from the phase timestamps of the job's log.",
                &["phase"],
                SLOW_BUCKETS,
            ),
            job_claim_latency: Histogram::new(
                "job_claim_latency_seconds",
                "Time from a job becoming runnable (enqueued) to a worker claiming it.",
                &["kind"],
                SLOW_BUCKETS,
            ),
            job_duration: Histogram::new(
                "job_duration_seconds",
                "Time a worker spent running a job, by kind and the deployment status it ended with.",
                &["kind", "status"],
                SLOW_BUCKETS,
            ),
            jobs_claimed: Counter::new(
                "jobs_claimed_total",
                "Jobs claimed by this process's workers (attempt > 1 means a retry or a reclaim).",
                &["kind", "reclaimed"],
            ),
            jobs_finished: Counter::new(
                "deployment_jobs_finished_total",
                "Jobs finished by this process's workers, by kind and the deployment's status afterwards.",
                &["kind", "status"],
            ),
            heartbeat_lost: Counter::new(
                "worker_heartbeat_lost_total",
                "Jobs abandoned because their lease was lost (reclaimed after an expired lease, or cancelled).",
                &[],
            ),
            analysis_cache: Counter::new(
                "analysis_cache_requests_total",
                "Analysis cache lookups by result: memory, shared (waited for a concurrent computation of the same key), store, computed, uncacheable.",
                &["result"],
            ),
            plan_cache: Counter::new(
                "plan_cache_requests_total",
                "Plan preview responses by result: hit (served from the response cache), miss (parsed, decided and rendered), uncacheable.",
                &["result"],
            ),
            auth: Counter::new(
                "auth_requests_total",
                "Bearer-token checks by result: cached (answered from memory), store_ok and store_unknown (asked the store), address_limited (the per-address request limit), failure_limited (the address spent its budget of unknown tokens), token_limited (the per-token limit).",
                &["result"],
            ),
        }
    }

    /// The exposition text; `fleet` adds the store-derived gauges.
    pub fn encode(&self, fleet: Option<&FleetGauges>) -> String {
        let mut out = String::with_capacity(8192);
        if let Some(f) = fleet {
            let _ = writeln!(
                out,
                "# HELP deployments_total Deployments in the store by status and cloud provider."
            );
            let _ = writeln!(out, "# TYPE deployments_total gauge");
            for (status, cloud, n) in &f.deployments {
                let _ = writeln!(
                    out,
                    "deployments_total{{status=\"{}\",cloud_provider=\"{}\"}} {n}",
                    escape(status),
                    escape(cloud)
                );
            }
            let _ = writeln!(
                out,
                "# HELP deployment_queue_size Jobs queued or running in the store."
            );
            let _ = writeln!(out, "# TYPE deployment_queue_size gauge");
            let _ = writeln!(out, "deployment_queue_size {}", f.queue_size);
        }
        self.http_request_duration.encode(&mut out);
        self.analysis_duration.encode(&mut out);
        self.terraform_duration.encode(&mut out);
        self.job_claim_latency.encode(&mut out);
        self.job_duration.encode(&mut out);
        self.jobs_claimed.encode(&mut out);
        self.jobs_finished.encode(&mut out);
        self.heartbeat_lost.encode(&mut out);
        self.analysis_cache.encode(&mut out);
        self.plan_cache.encode(&mut out);
        self.auth.encode(&mut out);
        out
    }
}

/// Store-wide numbers read at scrape time.
#[derive(Debug, Clone, Default)]
pub struct FleetGauges {
    /// (status, cloud_provider or "unknown", count)
    pub deployments: Vec<(String, String, u64)>,
    pub queue_size: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::new();
        m.http_request_duration
            .observe(&["/v1/plan", "POST", "200"], 0.003);
        m.http_request_duration
            .observe(&["/v1/plan", "POST", "200"], 0.2);
        let text = m.encode(None);
        assert!(text.contains(
            "http_request_duration_seconds_bucket{route=\"/v1/plan\",method=\"POST\",status=\"200\",le=\"0.005\"} 1"
        ));
        assert!(text.contains(
            "http_request_duration_seconds_bucket{route=\"/v1/plan\",method=\"POST\",status=\"200\",le=\"0.25\"} 2"
        ));
        assert!(text.contains(
            "http_request_duration_seconds_count{route=\"/v1/plan\",method=\"POST\",status=\"200\"} 2"
        ));
        assert!(text.contains("worker_heartbeat_lost_total 0"));
    }

    #[test]
    fn label_values_are_escaped() {
        let m = Metrics::new();
        m.jobs_finished.inc(&["deploy", "a\"b\\c\nd"]);
        let text = m.encode(None);
        assert!(text.contains(r#"status="a\"b\\c\nd""#), "{text}");
    }
}
