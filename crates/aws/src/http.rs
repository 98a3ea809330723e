//! The HTTP stack of this crate: the agents of `autodeploy-net` (proxy
//! variables, `NO_PROXY`, the system's CA store), offered to the AWS
//! credential providers (STS, SSO, ECS, IMDS) as their HTTP client, so the
//! chain and the signed calls go out the same way.
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
use std::time::Duration;

pub use autodeploy_net::{Agents, ProxyConfig, Timeouts};

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
