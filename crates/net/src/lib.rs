//! Outbound HTTP for every client of autodeploy (the AWS calls and its
//! credential chain, the request parser's LLM client): `ureq` agents that
//! honour the proxy variables (`HTTPS_PROXY`/`https_proxy`,
//! `HTTP_PROXY`/`http_proxy`, `ALL_PROXY`, and `NO_PROXY`/`no_proxy`) and
//! trust the bundled Mozilla roots plus the system's CA store (and
//! `SSL_CERT_FILE`/`SSL_CERT_DIR`), so a corporate proxy or a TLS-inspecting
//! CA installed on the machine works as it does for git and Terraform.
//!
//! ureq 2 reads no `NO_PROXY`, so two agents are kept — one through the
//! proxy, one direct — and each URL picks one ([`Agents::for_url`]).
//!
//! Not here: what is sent (signing, retries and protocols stay with each
//! client).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Proxy settings read from the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyConfig {
    /// For `https://` URLs: `HTTPS_PROXY`, else `ALL_PROXY`.
    pub https: Option<String>,
    /// For `http://` URLs: `HTTP_PROXY`, else `ALL_PROXY`.
    pub http: Option<String>,
    /// `NO_PROXY` entries: `*`, host names (a leading `.` or not: the name
    /// and its subdomains), IP addresses; an entry may end in `:port`.
    pub no_proxy: Vec<String>,
}

impl ProxyConfig {
    /// From the process environment (upper case first, then lower case).
    pub fn from_env() -> Self {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// From any variable lookup (tests pass a map).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Self {
        let get = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| var(n).filter(|v| !v.trim().is_empty()))
                .map(|v| v.trim().to_string())
        };
        let all = get(&["ALL_PROXY", "all_proxy"]);
        ProxyConfig {
            https: get(&["HTTPS_PROXY", "https_proxy"]).or(all.clone()),
            http: get(&["HTTP_PROXY", "http_proxy"]).or(all),
            no_proxy: get(&["NO_PROXY", "no_proxy"])
                .map(|v| {
                    v.split(',')
                        .map(|e| e.trim().to_ascii_lowercase())
                        .filter(|e| !e.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// The proxy for `url`, or `None` to connect directly.
    pub fn proxy_for(&self, url: &str) -> Option<&str> {
        let (scheme, rest) = url.split_once("://")?;
        let proxy = match scheme {
            "https" => self.https.as_deref(),
            "http" => self.http.as_deref(),
            _ => None,
        }?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let (host, port) = split_host_port(authority);
        let port = port.unwrap_or(if scheme == "https" { "443" } else { "80" });
        let host = host.to_ascii_lowercase();
        let bypass = self.no_proxy.iter().any(|entry| {
            if entry == "*" {
                return true;
            }
            let (e_host, e_port) = split_host_port(entry);
            if e_port.is_some_and(|ep| ep != port) {
                return false;
            }
            let e_host = e_host.trim_start_matches("*.").trim_start_matches('.');
            host == e_host || host.ends_with(&format!(".{e_host}"))
        });
        (!bypass).then_some(proxy)
    }
}

fn split_host_port(authority: &str) -> (&str, Option<&str>) {
    if let Some(rest) = authority.strip_prefix('[') {
        // [v6]:port
        return match rest.split_once(']') {
            Some((h, tail)) => (h, tail.strip_prefix(':')),
            None => (rest, None),
        };
    }
    match authority.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.chars().all(|c| c.is_ascii_digit()) => (h, Some(p)),
        _ => (authority, None),
    }
}

/// The TLS settings every agent shares: Mozilla roots plus the system store.
fn tls_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            // Best effort: a machine without a system store still has the bundled roots.
            let native = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(native.certs);
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map(|b| b.with_root_certificates(roots).with_no_client_auth())
                .expect("the ring provider supports the default TLS versions");
            Arc::new(config)
        })
        .clone()
}

/// Timeouts of one agent.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub read: Duration,
    pub write: Duration,
}

/// A direct agent and, when a proxy is configured, one per proxy.
#[derive(Clone)]
pub struct Agents {
    proxies: ProxyConfig,
    direct: ureq::Agent,
    https: Option<ureq::Agent>,
    http: Option<ureq::Agent>,
}

impl std::fmt::Debug for Agents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agents")
            .field("proxies", &self.proxies)
            .finish()
    }
}

impl Agents {
    /// Agents with `timeouts`, following no redirects (a signed request must
    /// not be replayed elsewhere), proxies from `proxies`.
    pub fn new(timeouts: Timeouts, proxies: ProxyConfig) -> Result<Self, String> {
        Self::with_redirects(timeouts, proxies, 0)
    }

    /// The same, following up to `redirects` redirects.
    pub fn with_redirects(
        timeouts: Timeouts,
        proxies: ProxyConfig,
        redirects: u32,
    ) -> Result<Self, String> {
        let base = || {
            ureq::AgentBuilder::new()
                .timeout_connect(timeouts.connect)
                .timeout_read(timeouts.read)
                .timeout_write(timeouts.write)
                .redirects(redirects)
                .tls_config(tls_config())
        };
        let with_proxy = |p: &Option<String>| -> Result<Option<ureq::Agent>, String> {
            match p {
                None => Ok(None),
                Some(url) => {
                    let proxy = ureq::Proxy::new(url)
                        .map_err(|e| format!("the proxy {url:?} is not usable: {e}"))?;
                    Ok(Some(base().proxy(proxy).build()))
                }
            }
        };
        Ok(Agents {
            https: with_proxy(&proxies.https)?,
            http: with_proxy(&proxies.http)?,
            direct: base().build(),
            proxies,
        })
    }

    /// The agent that `url` goes through.
    pub fn for_url(&self, url: &str) -> &ureq::Agent {
        if self.proxies.proxy_for(url).is_some() {
            let proxied = if url.starts_with("https://") {
                self.https.as_ref()
            } else {
                self.http.as_ref()
            };
            if let Some(a) = proxied {
                return a;
            }
        }
        &self.direct
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> ProxyConfig {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ProxyConfig::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn proxy_variables_and_no_proxy() {
        let c = cfg(&[
            ("https_proxy", "http://proxy:3128"),
            (
                "NO_PROXY",
                "localhost, .internal.example,169.254.169.254,s3.amazonaws.com:8443",
            ),
        ]);
        assert_eq!(
            c.proxy_for("https://sts.eu-west-1.amazonaws.com/"),
            Some("http://proxy:3128")
        );
        // HTTP_PROXY unset: plain http goes direct.
        assert_eq!(c.proxy_for("http://example.com/"), None);
        assert_eq!(c.proxy_for("https://localhost:8080/x"), None);
        assert_eq!(c.proxy_for("https://a.b.internal.example/"), None);
        assert_eq!(c.proxy_for("https://internal.example/"), None);
        assert_eq!(
            c.proxy_for("https://notinternal.example/"),
            Some("http://proxy:3128")
        );
        assert_eq!(c.proxy_for("http://169.254.169.254/latest"), None);
        // A port in the entry limits it to that port.
        assert_eq!(c.proxy_for("https://s3.amazonaws.com:8443/"), None);
        assert!(c.proxy_for("https://s3.amazonaws.com/").is_some());

        let all = cfg(&[("ALL_PROXY", "http://p:1"), ("no_proxy", "*")]);
        assert_eq!(all.proxy_for("https://x/"), None);
        let all = cfg(&[("ALL_PROXY", "http://p:1")]);
        assert_eq!(all.proxy_for("http://x/"), Some("http://p:1"));
        assert_eq!(all.proxy_for("https://[::1]:9/"), Some("http://p:1"));
        assert_eq!(cfg(&[]).proxy_for("https://x/"), None);
    }
}
