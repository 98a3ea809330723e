//! The one HTTP stack of this crate: `ureq` agents that honour the proxy
//! variables (`HTTPS_PROXY`/`https_proxy`, `HTTP_PROXY`/`http_proxy`,
//! `ALL_PROXY`, and `NO_PROXY`/`no_proxy`), and the same agents offered to
//! the AWS credential providers (STS, SSO, ECS, IMDS) as their HTTP client,
//! so the chain and the signed calls go out the same way.
//!
//! ureq 2 reads no `NO_PROXY`, so two agents are kept — one through the
//! proxy, one direct — and each URL picks one ([`Agents::for_url`]). TLS
//! trusts the bundled Mozilla roots plus the system's CA store (and
//! `SSL_CERT_FILE`/`SSL_CERT_DIR`), so a TLS-inspecting corporate CA that is
//! installed on the machine is trusted as it is by git and Terraform.
//!
//! Not here: signing, retries (client.rs), the credential chain itself.

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use std::io::Read;
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
        let base = || {
            ureq::AgentBuilder::new()
                .timeout_connect(timeouts.connect)
                .timeout_read(timeouts.read)
                .timeout_write(timeouts.write)
                .redirects(0)
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

/// The [`HttpClient`] the AWS credential providers use: the agents above.
#[derive(Debug, Clone)]
pub struct UreqHttpClient {
    proxies: ProxyConfig,
}

impl UreqHttpClient {
    pub fn new(proxies: ProxyConfig) -> Self {
        UreqHttpClient { proxies }
    }
}

impl HttpClient for UreqHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let timeouts = Timeouts {
            connect: settings.connect_timeout().unwrap_or(Duration::from_secs(5)),
            read: settings.read_timeout().unwrap_or(Duration::from_secs(30)),
            write: Duration::from_secs(30),
        };
        SharedHttpConnector::new(UreqConnector {
            agents: Agents::new(timeouts, self.proxies.clone()).map_err(|e| e.to_string()),
        })
    }
}

#[derive(Debug)]
struct UreqConnector {
    agents: Result<Agents, String>,
}

impl HttpConnector for UreqConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let agents = match &self.agents {
            Ok(a) => a.clone(),
            Err(e) => {
                return HttpConnectorFuture::ready(Err(ConnectorError::user(e.clone().into())))
            }
        };
        HttpConnectorFuture::new(async move {
            tokio::task::spawn_blocking(move || send_blocking(&agents, request))
                .await
                .map_err(|e| ConnectorError::other(e.into(), None))?
        })
    }
}

fn send_blocking(agents: &Agents, request: HttpRequest) -> Result<HttpResponse, ConnectorError> {
    let url = request.uri().to_string();
    let mut req = agents.for_url(&url).request(request.method(), &url);
    for (k, v) in request.headers().iter() {
        req = req.set(k, v);
    }
    let body = request.body().bytes().ok_or_else(|| {
        ConnectorError::user("a streaming request body is not supported by this client".into())
    })?;
    let result = if body.is_empty() && matches!(request.method(), "GET" | "HEAD" | "DELETE") {
        req.call()
    } else {
        req.send_bytes(body)
    };
    let resp = match result {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(ureq::Error::Transport(t)) => {
            let timeout = t.kind() == ureq::ErrorKind::Io
                && t.to_string().to_ascii_lowercase().contains("timed out");
            return Err(if timeout {
                ConnectorError::timeout(Box::new(t))
            } else {
                ConnectorError::io(Box::new(t))
            });
        }
    };
    let status = resp.status();
    let headers: Vec<(String, String)> = resp
        .headers_names()
        .into_iter()
        .filter_map(|n| resp.header(&n).map(|v| (n.clone(), v.to_string())))
        .collect();
    let mut bytes = Vec::new();
    resp.into_reader()
        .take(16 << 20)
        .read_to_end(&mut bytes)
        .map_err(|e| ConnectorError::io(e.into()))?;
    let status = status
        .try_into()
        .map_err(|e: aws_smithy_runtime_api::http::HttpError| {
            ConnectorError::other(e.into(), None)
        })?;
    let mut out = HttpResponse::new(status, SdkBody::from(bytes));
    for (k, v) in headers {
        out.headers_mut().append(k, v);
    }
    Ok(out)
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
