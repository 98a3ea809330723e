//! Prometheus metrics of one process (API and/or workers), in the text
//! exposition format 0.0.4. Every family is named `autodeploy_…`, except the
//! standard `process_…` ones; `promtool check metrics` passes on a scrape
//! (crates/server/tests/prometheus.rs).
//!
//! Histograms and counters live in memory and are observed where things
//! happen (HTTP middleware, the preview pipeline, the worker loop):
//! `autodeploy_deployments_total{status,cloud_provider}` counts the
//! deployments this process's workers brought to a final status. The gauges
//! that describe the whole fleet — `autodeploy_deployments` (deployments in
//! the store now, by status and cloud) and `autodeploy_deployment_queue_size`
//! — are read from the store at scrape time, so every API process reports
//! the same, true numbers. Process metrics (CPU, memory, file descriptors,
//! start time) are read from `/proc/self` at scrape time (Linux; absent
//! elsewhere).
//!
//! Deliberately hand-rolled (a few atomics and maps, and /proc read by hand
//! rather than the `prometheus` crate's process collector, which would bring
//! a second registry and `procfs`): no global registry, no macros, one
//! `Metrics` value passed to whoever observes.

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
    pub phase_duration: Histogram,
    pub job_claim_latency: Histogram,
    pub job_duration: Histogram,
    pub jobs_claimed: Counter,
    pub jobs_finished: Counter,
    pub deployments: Counter,
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
                "autodeploy_http_request_duration_seconds",
                "HTTP request duration by route template, method and status.",
                &["route", "method", "status"],
                HTTP_BUCKETS,
            ),
            analysis_duration: Histogram::new(
                "autodeploy_analysis_duration_seconds",
                "Time to fetch and analyse a repository (cache misses only; phase `analyze` of jobs included).",
                &["origin"],
                ANALYSIS_BUCKETS,
            ),
            terraform_duration: Histogram::new(
                "autodeploy_terraform_duration_seconds",
                "Duration of the phases of jobs run by this process's workers that ran Terraform (init, plan, apply, and the destroy of a cloud deployment), between the runner's phase changes.",
                &["phase"],
                SLOW_BUCKETS,
            ),
            phase_duration: Histogram::new(
                "autodeploy_phase_duration_seconds",
                "Duration of every phase of jobs run by this process's workers (a local destroy stops processes, a cloud one runs Terraform: told apart by cloud_provider), between the runner's phase changes.",
                &["phase", "cloud_provider"],
                SLOW_BUCKETS,
            ),
            job_claim_latency: Histogram::new(
                "autodeploy_job_claim_latency_seconds",
                "Time from a job becoming runnable (enqueued) to a worker claiming it.",
                &["kind"],
                SLOW_BUCKETS,
            ),
            job_duration: Histogram::new(
                "autodeploy_job_duration_seconds",
                "Time a worker spent running a job, by kind and the deployment status it ended with.",
                &["kind", "status"],
                SLOW_BUCKETS,
            ),
            jobs_claimed: Counter::new(
                "autodeploy_jobs_claimed_total",
                "Jobs claimed by this process's workers (attempt > 1 means a retry or a reclaim).",
                &["kind", "reclaimed"],
            ),
            jobs_finished: Counter::new(
                "autodeploy_jobs_finished_total",
                "Jobs finished by this process's workers, by kind and the deployment's status afterwards.",
                &["kind", "status"],
            ),
            deployments: Counter::new(
                "autodeploy_deployments_total",
                "Deployments (deploy and redeploy jobs) this process's workers brought to a final status, by that status and the cloud provider.",
                &["status", "cloud_provider"],
            ),
            heartbeat_lost: Counter::new(
                "autodeploy_worker_heartbeat_lost_total",
                "Jobs abandoned because their lease was lost (reclaimed after an expired lease, or cancelled).",
                &[],
            ),
            analysis_cache: Counter::new(
                "autodeploy_analysis_cache_requests_total",
                "Analysis cache lookups by result: memory, shared (waited for a concurrent computation of the same key), store, computed, uncacheable.",
                &["result"],
            ),
            plan_cache: Counter::new(
                "autodeploy_plan_cache_requests_total",
                "Plan preview responses by result: hit (served from the response cache), miss (parsed, decided and rendered), uncacheable.",
                &["result"],
            ),
            auth: Counter::new(
                "autodeploy_auth_requests_total",
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
                "# HELP autodeploy_deployments Deployments in the store now, by status and cloud provider."
            );
            let _ = writeln!(out, "# TYPE autodeploy_deployments gauge");
            for (status, cloud, n) in &f.deployments {
                let _ = writeln!(
                    out,
                    "autodeploy_deployments{{status=\"{}\",cloud_provider=\"{}\"}} {n}",
                    escape(status),
                    escape(cloud)
                );
            }
            let _ = writeln!(
                out,
                "# HELP autodeploy_deployment_queue_size Jobs queued or running in the store."
            );
            let _ = writeln!(out, "# TYPE autodeploy_deployment_queue_size gauge");
            let _ = writeln!(out, "autodeploy_deployment_queue_size {}", f.queue_size);
        }
        self.deployments.encode(&mut out);
        self.http_request_duration.encode(&mut out);
        self.analysis_duration.encode(&mut out);
        self.terraform_duration.encode(&mut out);
        self.phase_duration.encode(&mut out);
        self.job_claim_latency.encode(&mut out);
        self.job_duration.encode(&mut out);
        self.jobs_claimed.encode(&mut out);
        self.jobs_finished.encode(&mut out);
        self.heartbeat_lost.encode(&mut out);
        self.analysis_cache.encode(&mut out);
        self.plan_cache.encode(&mut out);
        self.auth.encode(&mut out);
        if let Some(p) = ProcessStats::read() {
            p.encode(&mut out);
        }
        out
    }
}

/// The standard `process_*` metrics of this process, read from `/proc/self`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessStats {
    pub cpu_seconds: f64,
    pub resident_bytes: u64,
    pub virtual_bytes: u64,
    pub open_fds: u64,
    pub max_fds: Option<u64>,
    pub start_time_seconds: f64,
}

impl ProcessStats {
    /// `None` where there is no `/proc` (not Linux) or it cannot be read.
    pub fn read() -> Option<ProcessStats> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        let boot = std::fs::read_to_string("/proc/stat").ok()?;
        // SAFETY: sysconf only reads a configuration value.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        let open_fds = std::fs::read_dir("/proc/self/fd").ok()?.count() as u64;
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct we own.
        let max_fds = (unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0
            && limit.rlim_cur != libc::RLIM_INFINITY)
            .then_some(limit.rlim_cur);
        Self::parse(&stat, &boot, ticks, page, open_fds, max_fds)
    }

    /// From the text of `/proc/self/stat` and `/proc/stat` (see proc(5)).
    fn parse(
        stat: &str,
        proc_stat: &str,
        ticks_per_second: i64,
        page_size: i64,
        open_fds: u64,
        max_fds: Option<u64>,
    ) -> Option<ProcessStats> {
        if ticks_per_second <= 0 || page_size <= 0 {
            return None;
        }
        // The command name (field 2) may hold spaces and parentheses: the
        // fields that follow start after the last ')', with field 3 first.
        let rest = &stat[stat.rfind(')')? + 1..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |n: usize| -> Option<u64> { fields.get(n - 3)?.parse().ok() };
        let ticks = ticks_per_second as f64;
        let btime: u64 = proc_stat
            .lines()
            .find_map(|l| l.strip_prefix("btime "))?
            .trim()
            .parse()
            .ok()?;
        Some(ProcessStats {
            cpu_seconds: (field(14)? + field(15)?) as f64 / ticks,
            virtual_bytes: field(23)?,
            resident_bytes: field(24)? * page_size as u64,
            open_fds,
            max_fds,
            start_time_seconds: btime as f64 + field(22)? as f64 / ticks,
        })
    }

    fn encode(&self, out: &mut String) {
        let mut family = |name: &str, kind: &str, help: &str, value: String| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            let _ = writeln!(out, "{name} {value}");
        };
        family(
            "process_cpu_seconds_total",
            "counter",
            "Total user and system CPU time spent in seconds.",
            self.cpu_seconds.to_string(),
        );
        family(
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
            self.resident_bytes.to_string(),
        );
        family(
            "process_virtual_memory_bytes",
            "gauge",
            "Virtual memory size in bytes.",
            self.virtual_bytes.to_string(),
        );
        family(
            "process_open_fds",
            "gauge",
            "Number of open file descriptors.",
            self.open_fds.to_string(),
        );
        if let Some(max) = self.max_fds {
            family(
                "process_max_fds",
                "gauge",
                "Maximum number of open file descriptors.",
                max.to_string(),
            );
        }
        family(
            "process_start_time_seconds",
            "gauge",
            "Start time of the process since unix epoch in seconds.",
            self.start_time_seconds.to_string(),
        );
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
            "autodeploy_http_request_duration_seconds_bucket{route=\"/v1/plan\",method=\"POST\",status=\"200\",le=\"0.005\"} 1"
        ));
        assert!(text.contains(
            "autodeploy_http_request_duration_seconds_bucket{route=\"/v1/plan\",method=\"POST\",status=\"200\",le=\"0.25\"} 2"
        ));
        assert!(text.contains(
            "autodeploy_http_request_duration_seconds_count{route=\"/v1/plan\",method=\"POST\",status=\"200\"} 2"
        ));
        assert!(text.contains("autodeploy_worker_heartbeat_lost_total 0"));
    }

    #[test]
    fn label_values_are_escaped() {
        let m = Metrics::new();
        m.jobs_finished.inc(&["deploy", "a\"b\\c\nd"]);
        let text = m.encode(None);
        assert!(text.contains(r#"status="a\"b\\c\nd""#), "{text}");
    }

    #[test]
    fn process_stats_come_from_proc_stat() {
        // proc(5): pid (comm) state ppid … utime(14) stime(15) … starttime(22) vsize(23) rss(24)
        let stat = "4242 (auto deploy) (x)) S 1 4242 4242 0 -1 4194560 500 0 0 0 \
                    250 50 0 0 20 0 9 0 1000 104857600 2560 18446744073709551615";
        let p = ProcessStats::parse(
            stat,
            "cpu 1 2 3\nbtime 1700000000\n",
            100,
            4096,
            12,
            Some(1024),
        )
        .unwrap();
        assert_eq!(p.cpu_seconds, 3.0);
        assert_eq!(p.virtual_bytes, 104_857_600);
        assert_eq!(p.resident_bytes, 2560 * 4096);
        assert_eq!(p.start_time_seconds, 1_700_000_010.0);
        assert_eq!((p.open_fds, p.max_fds), (12, Some(1024)));
        assert!(ProcessStats::parse("garbage", "", 100, 4096, 0, None).is_none());
        // This process, for real.
        let me = ProcessStats::read().expect("/proc/self on Linux");
        assert!(me.resident_bytes > 0 && me.open_fds > 0 && me.start_time_seconds > 1.6e9);
    }
}
