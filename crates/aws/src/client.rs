//! The signed HTTP client: where each service lives, how a request is signed
//! and sent, how error bodies are read (JSON and XML), and the retry policy
//! (exponential backoff with jitter on throttling, 5xx and connection
//! failures; 3 attempts by default, 1 with an endpoint override).
//!
//! The endpoint override sends every service to one URL with path-style S3.
//! It is a TEST FACILITY for emulators such as moto, not a way to reach AWS
//! through a proxy. Not here: the operations themselves (one module per
//! service) and anything asynchronous.

use crate::credentials::{CredentialChain, Credentials};
use crate::http::{Agents, ProxyConfig, Timeouts};
use crate::sigv4;
use crate::AwsError;
use serde_json::Value;
use std::io::Read;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The AWS services this crate talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    S3,
    CodeBuild,
    Ecs,
    Lambda,
    CloudFront,
    SecretsManager,
    Iam,
    Sts,
    /// CloudWatch Logs (build output).
    Logs,
}

impl Service {
    /// The name in the credential scope (and the host prefix).
    pub fn signing_name(self) -> &'static str {
        match self {
            Service::S3 => "s3",
            Service::CodeBuild => "codebuild",
            Service::Ecs => "ecs",
            Service::Lambda => "lambda",
            Service::CloudFront => "cloudfront",
            Service::SecretsManager => "secretsmanager",
            Service::Iam => "iam",
            Service::Sts => "sts",
            Service::Logs => "logs",
        }
    }

    /// `X-Amz-Target` prefix of the JSON-protocol services.
    fn target_prefix(self) -> Option<&'static str> {
        match self {
            Service::CodeBuild => Some("CodeBuild_20161006"),
            Service::Ecs => Some("AmazonEC2ContainerServiceV20141113"),
            Service::SecretsManager => Some("secretsmanager"),
            Service::Logs => Some("Logs_20140328"),
            _ => None,
        }
    }
}

/// A blocking, signed AWS client for one region.
pub struct AwsClient {
    creds: CredentialChain,
    region: String,
    /// `scheme://authority` of the endpoint override, without a trailing slash.
    endpoint: Option<String>,
    max_attempts: u32,
    poll_interval: Duration,
    agents: Agents,
}

impl std::fmt::Debug for AwsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsClient")
            .field("creds", &self.creds)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("max_attempts", &self.max_attempts)
            .finish()
    }
}

/// A request body.
pub(crate) enum Body<'a> {
    Empty,
    Bytes(&'a [u8]),
    /// A file sent as it is, with its SHA-256 (hex) and length computed beforehand.
    File {
        path: &'a Path,
        sha256: String,
        len: u64,
    },
}

/// One request before signing.
pub(crate) struct Request<'a> {
    pub service: Service,
    /// Operation name, for errors.
    pub operation: &'a str,
    pub method: &'a str,
    /// Raw path segments (encoded here). For S3 the bucket is the first.
    pub path: Vec<String>,
    pub query: Vec<(String, String)>,
    /// Extra headers, all signed.
    pub headers: Vec<(String, String)>,
    pub body: Body<'a>,
}

/// A 2xx answer.
pub(crate) struct Response {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

const DEFAULT_ATTEMPTS: u32 = 3;

impl AwsClient {
    /// Credentials from the AWS default chain over the process environment
    /// (see credentials.rs). `endpoint` sends every service to one URL
    /// (path-style S3, one attempt per call): a TEST FACILITY for emulators
    /// such as moto; the chain's own STS calls (assume-role, web identity)
    /// go there too unless `AWS_ENDPOINT_URL_STS`/`AWS_ENDPOINT_URL` say
    /// otherwise.
    pub fn from_env(region: &str, endpoint: Option<&str>) -> Result<Self, AwsError> {
        let region = check_region(region)?;
        let has = |k: &str| std::env::var(k).is_ok_and(|v| !v.trim().is_empty());
        let mut overrides = vec![];
        if let Some(ep) = endpoint {
            if !has("AWS_ENDPOINT_URL_STS") && !has("AWS_ENDPOINT_URL") {
                overrides.push(("AWS_ENDPOINT_URL_STS", ep));
            }
        }
        let chain = CredentialChain::from_env(region, &overrides)?;
        Self::with_chain(chain, region, endpoint)
    }

    /// A client with explicit credentials (see [`AwsClient::from_env`] for `endpoint`).
    pub fn with_credentials(
        creds: Credentials,
        region: &str,
        endpoint: Option<&str>,
    ) -> Result<Self, AwsError> {
        Self::with_chain(CredentialChain::fixed(creds), region, endpoint)
    }

    /// A client over a credential chain (see [`AwsClient::from_env`] for `endpoint`).
    pub fn with_chain(
        creds: CredentialChain,
        region: &str,
        endpoint: Option<&str>,
    ) -> Result<Self, AwsError> {
        let region = check_region(region)?;
        let endpoint = match endpoint {
            None => None,
            Some(e) => Some(normalize_endpoint(e)?),
        };
        // No redirects: one (S3 bucket in another region) must not be
        // followed with this request's signature; it is reported instead.
        let agents = Agents::new(
            Timeouts {
                connect: Duration::from_secs(10),
                read: Duration::from_secs(120),
                write: Duration::from_secs(600),
            },
            ProxyConfig::from_env(),
        )
        .map_err(|message| AwsError::InvalidInput {
            what: "the proxy settings (HTTPS_PROXY / HTTP_PROXY / ALL_PROXY)".into(),
            message,
        })?;
        Ok(AwsClient {
            creds,
            region: region.to_string(),
            max_attempts: if endpoint.is_some() {
                1
            } else {
                DEFAULT_ATTEMPTS
            },
            poll_interval: if endpoint.is_some() {
                Duration::from_millis(200)
            } else {
                Duration::from_secs(5)
            },
            endpoint,
            agents,
        })
    }

    /// The same client with proxies from `proxies` instead of the process
    /// environment.
    pub fn with_proxies(mut self, proxies: ProxyConfig) -> Result<Self, AwsError> {
        self.agents = Agents::new(
            Timeouts {
                connect: Duration::from_secs(10),
                read: Duration::from_secs(120),
                write: Duration::from_secs(600),
            },
            proxies,
        )
        .map_err(|message| AwsError::InvalidInput {
            what: "the proxy settings".into(),
            message,
        })?;
        Ok(self)
    }

    /// The credential chain the client signs with.
    pub fn credentials(&self) -> &CredentialChain {
        &self.creds
    }

    /// Attempts per call on throttling / 5xx / connection failure (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Time between two polls of the waits (5 s against AWS, 0.2 s with an endpoint override).
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    pub(crate) fn poll_interval(&self) -> Duration {
        self.poll_interval
    }

    /// `(scheme://host, host header, wire path)` for a request.
    fn locate(&self, service: Service, segments: &[String]) -> (String, String, String) {
        if let Some(ep) = &self.endpoint {
            let host = ep.split_once("://").map_or(ep.as_str(), |(_, h)| h);
            return (ep.clone(), host.to_string(), sigv4::encode_path(segments));
        }
        let region = &self.region;
        let partition = crate::partition::partition_of(region);
        let suffix = partition.dns_suffix;
        let host = match service {
            Service::S3 => {
                // Virtual-hosted style when the bucket name allows it (no dots: TLS).
                if let Some(bucket) = segments.first().filter(|b| virtual_host_ok(b)) {
                    let host = format!("{bucket}.s3.{region}.{suffix}");
                    return (
                        format!("https://{host}"),
                        host,
                        path_or_root(&segments[1..]),
                    );
                }
                format!("s3.{region}.{suffix}")
            }
            Service::CloudFront => partition
                .cloudfront
                .map_or_else(|| format!("cloudfront.{suffix}"), |(h, _)| h.to_string()),
            Service::Iam => partition.iam.0.to_string(),
            s => format!("{}.{region}.{suffix}", s.signing_name()),
        };
        (
            format!("https://{host}"),
            host,
            sigv4::encode_path(segments),
        )
    }

    /// The region a request to `service` is signed for: the client's, or
    /// for the global services (IAM, CloudFront) their partition's.
    fn signing_region(&self, service: Service) -> Result<&str, AwsError> {
        let partition = crate::partition::partition_of(&self.region);
        Ok(match service {
            Service::Iam => partition.iam.1,
            Service::CloudFront => match partition.cloudfront {
                Some((_, r)) => r,
                None if self.endpoint.is_some() => "us-east-1",
                None => {
                    return Err(AwsError::InvalidInput {
                        what: format!("CloudFront in {}", self.region),
                        message: format!(
                            "the {} partition has no CloudFront; serve the site from a region of the aws partition",
                            partition.id
                        ),
                    })
                }
            },
            _ => self.region.as_str(),
        })
    }

    /// Sign and send with retries; a non-2xx answer becomes [`AwsError::Http`].
    pub(crate) fn send(&self, req: &Request<'_>) -> Result<Response, AwsError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.send_once(req) {
                Ok(r) => return Ok(r),
                Err(e) if e.is_retryable() && attempt < self.max_attempts => {
                    std::thread::sleep(backoff(attempt));
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn send_once(&self, req: &Request<'_>) -> Result<Response, AwsError> {
        let (base, host, wire_path) = self.locate(req.service, &req.path);
        let payload_hash = match &req.body {
            Body::Empty => sigv4::EMPTY_SHA256.to_string(),
            Body::Bytes(b) => sigv4::sha256_hex(b),
            Body::File { sha256, .. } => sha256.clone(),
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let amz_date = sigv4::amz_date(now);
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), host),
            ("x-amz-date".into(), amz_date.clone()),
        ];
        if req.service == Service::S3 {
            headers.push(("x-amz-content-sha256".into(), payload_hash.clone()));
        }
        let creds = self.creds.credentials()?;
        if let Some(token) = &creds.session_token {
            headers.push(("x-amz-security-token".into(), token.clone()));
        }
        headers.extend(req.headers.iter().cloned());
        let region = self.signing_region(req.service)?;
        let params = sigv4::SigningParams {
            access_key_id: &creds.access_key_id,
            secret_access_key: &creds.secret_access_key,
            region,
            service: req.service.signing_name(),
            amz_date: &amz_date,
        };
        let canonical_uri = sigv4::canonical_uri(&wire_path, req.service != Service::S3);
        let sig = sigv4::sign(
            &params,
            req.method,
            &canonical_uri,
            &req.query,
            &headers,
            &payload_hash,
        );

        let mut url = format!("{base}{wire_path}");
        if !req.query.is_empty() {
            url.push('?');
            url.push_str(&sigv4::canonical_query(&req.query));
        }
        let mut r = self.agents.for_url(&url).request(req.method, &url);
        for (k, v) in &headers {
            if k != "host" {
                r = r.set(k, v);
            }
        }
        r = r.set("authorization", &sig.authorization);
        let result = match &req.body {
            Body::Empty if matches!(req.method, "GET" | "HEAD" | "DELETE") => r.call(),
            Body::Empty => r.send_bytes(&[]),
            Body::Bytes(b) => r.send_bytes(b),
            Body::File { path, len, .. } => {
                let f = std::fs::File::open(path).map_err(|e| AwsError::io("open", path, e))?;
                r.set("content-length", &len.to_string()).send(f)
            }
        };
        let service = req.service.signing_name();
        match result {
            Ok(resp) if resp.status() >= 300 => {
                let status = resp.status();
                let mut body = Vec::new();
                let _ = resp.into_reader().take(1 << 20).read_to_end(&mut body);
                let (code, message) = parse_error(status, None, &body);
                Err(AwsError::Http {
                    service: service.into(),
                    operation: req.operation.into(),
                    status,
                    code,
                    message,
                })
            }
            Ok(resp) => {
                let headers = resp
                    .headers_names()
                    .into_iter()
                    .filter_map(|n| resp.header(&n).map(|v| (n.clone(), v.to_string())))
                    .collect();
                let mut body = Vec::new();
                resp.into_reader()
                    .read_to_end(&mut body)
                    .map_err(|e| AwsError::Transport {
                        service: service.into(),
                        operation: req.operation.into(),
                        url: url.clone(),
                        message: format!("reading the answer failed: {e}"),
                    })?;
                Ok(Response { headers, body })
            }
            Err(ureq::Error::Status(status, resp)) => {
                let error_type = resp.header("x-amzn-errortype").map(str::to_string);
                let mut body = Vec::new();
                // The error body is best effort: the status alone is still an answer.
                let _ = resp.into_reader().take(1 << 20).read_to_end(&mut body);
                let (code, message) = parse_error(status, error_type.as_deref(), &body);
                Err(AwsError::Http {
                    service: service.into(),
                    operation: req.operation.into(),
                    status,
                    code,
                    message,
                })
            }
            Err(ureq::Error::Transport(t)) => Err(AwsError::Transport {
                service: service.into(),
                operation: req.operation.into(),
                url,
                message: t.to_string(),
            }),
        }
    }

    /// Call a JSON-protocol (`X-Amz-Target`) operation: CodeBuild, ECS,
    /// Secrets Manager. Lower level than the named operations; tests use it to
    /// create the resources Terraform would.
    pub fn json_call(
        &self,
        service: Service,
        operation: &str,
        input: &Value,
    ) -> Result<Value, AwsError> {
        let Some(prefix) = service.target_prefix() else {
            return Err(AwsError::InvalidInput {
                what: format!("{} {operation}", service.signing_name()),
                message: "this service does not use the JSON (X-Amz-Target) protocol".into(),
            });
        };
        let body = serde_json::to_vec(input).map_err(|e| AwsError::InvalidInput {
            what: operation.into(),
            message: e.to_string(),
        })?;
        let resp = self.send(&Request {
            service,
            operation,
            method: "POST",
            path: vec![],
            query: vec![],
            headers: vec![
                ("content-type".into(), "application/x-amz-json-1.1".into()),
                ("x-amz-target".into(), format!("{prefix}.{operation}")),
            ],
            body: Body::Bytes(&body),
        })?;
        // Operations without output (CreateLogGroup, …) answer with no body.
        if resp.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        parse_json(service, operation, &resp.body)
    }

    /// Call a REST-JSON operation (Lambda): `path` segments are raw.
    pub fn rest_json_call(
        &self,
        service: Service,
        operation: &str,
        method: &str,
        path: &[&str],
        input: Option<&Value>,
    ) -> Result<Value, AwsError> {
        let body = match input {
            Some(v) => Some(serde_json::to_vec(v).map_err(|e| AwsError::InvalidInput {
                what: operation.into(),
                message: e.to_string(),
            })?),
            None => None,
        };
        let resp = self.send(&Request {
            service,
            operation,
            method,
            path: path.iter().map(|s| s.to_string()).collect(),
            query: vec![],
            headers: if body.is_some() {
                vec![("content-type".into(), "application/json".into())]
            } else {
                vec![]
            },
            body: body.as_deref().map_or(Body::Empty, Body::Bytes),
        })?;
        if resp.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        parse_json(service, operation, &resp.body)
    }

    /// Call a REST-XML operation (CloudFront): `path` segments are raw; the
    /// answer's text is returned.
    pub fn rest_xml_call(
        &self,
        service: Service,
        operation: &str,
        method: &str,
        path: &[&str],
        body: Option<&str>,
    ) -> Result<String, AwsError> {
        let resp = self.send(&Request {
            service,
            operation,
            method,
            path: path.iter().map(|s| s.to_string()).collect(),
            query: vec![],
            headers: if body.is_some() {
                vec![("content-type".into(), "text/xml".into())]
            } else {
                vec![]
            },
            body: body.map_or(Body::Empty, |b| Body::Bytes(b.as_bytes())),
        })?;
        String::from_utf8(resp.body).map_err(|_| AwsError::BadResponse {
            service: service.signing_name().into(),
            operation: operation.into(),
            message: "the answer is not UTF-8".into(),
        })
    }

    /// Call a Query-protocol operation (IAM, STS): form-encoded POST, XML answer.
    pub fn query_call(
        &self,
        service: Service,
        action: &str,
        version: &str,
        params: &[(&str, &str)],
    ) -> Result<String, AwsError> {
        let mut pairs: Vec<(String, String)> = vec![
            ("Action".into(), action.into()),
            ("Version".into(), version.into()),
        ];
        pairs.extend(params.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let body = sigv4::canonical_query(&pairs);
        let resp = self.send(&Request {
            service,
            operation: action,
            method: "POST",
            path: vec![],
            query: vec![],
            headers: vec![(
                "content-type".into(),
                "application/x-www-form-urlencoded; charset=utf-8".into(),
            )],
            body: Body::Bytes(body.as_bytes()),
        })?;
        String::from_utf8(resp.body).map_err(|_| AwsError::BadResponse {
            service: service.signing_name().into(),
            operation: action.into(),
            message: "the answer is not UTF-8".into(),
        })
    }

    /// The account id behind the credentials (STS GetCallerIdentity).
    pub fn caller_account(&self) -> Result<String, AwsError> {
        Ok(self.caller_identity()?.account)
    }

    /// Who the credentials are (STS GetCallerIdentity): a cheap check that
    /// they resolve and work, made before anything is created.
    pub fn caller_identity(&self) -> Result<Identity, AwsError> {
        let xml = self.query_call(Service::Sts, "GetCallerIdentity", "2011-06-15", &[])?;
        let field = |name: &str| {
            xml_text(&xml, name).ok_or_else(|| AwsError::BadResponse {
                service: "sts".into(),
                operation: "GetCallerIdentity".into(),
                message: format!("no {name} in the answer"),
            })
        };
        Ok(Identity {
            account: field("Account")?,
            arn: field("Arn")?,
            user_id: field("UserId").unwrap_or_default(),
        })
    }
}

/// The caller of STS GetCallerIdentity.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Identity {
    pub account: String,
    pub arn: String,
    pub user_id: String,
}

fn check_region(region: &str) -> Result<&str, AwsError> {
    let region = region.trim();
    if region.is_empty()
        || !region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(AwsError::InvalidInput {
            what: format!("AWS region {region:?}"),
            message: "a region is lowercase letters, digits and dashes, e.g. eu-central-1".into(),
        });
    }
    Ok(region)
}

fn parse_json(service: Service, operation: &str, body: &[u8]) -> Result<Value, AwsError> {
    serde_json::from_slice(body).map_err(|e| AwsError::BadResponse {
        service: service.signing_name().into(),
        operation: operation.into(),
        message: format!("not JSON: {e}"),
    })
}

/// `http://127.0.0.1:4566/` → `http://127.0.0.1:4566`; default ports dropped
/// so the signed `host` matches what the HTTP client sends.
fn normalize_endpoint(e: &str) -> Result<String, AwsError> {
    let e = e.trim().trim_end_matches('/');
    let Some((scheme, rest)) = e.split_once("://") else {
        return Err(AwsError::InvalidInput {
            what: format!("endpoint override {e:?}"),
            message: "give a URL such as http://127.0.0.1:4566".into(),
        });
    };
    if !matches!(scheme, "http" | "https") || rest.is_empty() || rest.contains('/') {
        return Err(AwsError::InvalidInput {
            what: format!("endpoint override {e:?}"),
            message: "give scheme://host[:port] with no path, e.g. http://127.0.0.1:4566".into(),
        });
    }
    let rest = match (scheme, rest.rsplit_once(':')) {
        ("http", Some((h, "80"))) | ("https", Some((h, "443"))) => h,
        _ => rest,
    };
    Ok(format!("{scheme}://{rest}"))
}

/// A bucket name usable as a TLS host label.
fn virtual_host_ok(bucket: &str) -> bool {
    !bucket.is_empty()
        && bucket.len() <= 63
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !bucket.starts_with('-')
        && !bucket.ends_with('-')
}

fn path_or_root(segments: &[String]) -> String {
    sigv4::encode_path(segments)
}

/// A token unique to this process and call (idempotency tokens, caller
/// references): 40 hex digits of time, process id and a counter.
pub(crate) fn unique_token() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{:024x}{:08x}{:08x}",
        nanos,
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst) as u32
    )
}

/// 0.3 s, 0.6 s, 1.2 s … capped at 10 s, each with up to 50 % jitter.
fn backoff(attempt: u32) -> Duration {
    let base = 300u64.saturating_mul(1 << attempt.saturating_sub(1).min(6));
    let base = base.min(10_000);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    Duration::from_millis(base + nanos % (base / 2 + 1))
}

/// Code and message of an AWS error answer: JSON (`__type` / `message`),
/// the `x-amzn-ErrorType` header, or XML (`<Code>` / `<Message>`).
pub(crate) fn parse_error(status: u16, error_type: Option<&str>, body: &[u8]) -> (String, String) {
    let text = String::from_utf8_lossy(body);
    let clean = |s: &str| -> String {
        // "ns#Code" and "Code:http://..." both name "Code".
        let s = s.rsplit('#').next().unwrap_or(s);
        s.split(':').next().unwrap_or(s).trim().to_string()
    };
    let mut code = error_type.map(clean).filter(|c| !c.is_empty());
    let mut message = None;
    if let Ok(v) = serde_json::from_str::<Value>(&text) {
        if code.is_none() {
            code = ["__type", "code", "Code", "Type"]
                .iter()
                .find_map(|k| v.get(*k).and_then(Value::as_str))
                .map(clean);
        }
        message = ["message", "Message", "errorMessage"]
            .iter()
            .find_map(|k| v.get(*k).and_then(Value::as_str))
            .map(str::to_string);
    } else if text.trim_start().starts_with('<') {
        if code.is_none() {
            code = xml_text(&text, "Code");
        }
        message = xml_text(&text, "Message");
    }
    let code = code.unwrap_or_else(|| match status {
        403 => "Forbidden".into(),
        404 => "NotFound".into(),
        _ => format!("HTTP{status}"),
    });
    let message = message.unwrap_or_else(|| {
        let t = text.trim();
        if t.is_empty() {
            "(no message)".into()
        } else {
            t.chars().take(300).collect()
        }
    });
    (code, message)
}

/// Text of the first element with this local name.
pub(crate) fn xml_text(xml: &str, name: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    doc.descendants()
        .find(|n| n.is_element() && n.tag_name().name() == name)
        .and_then(|n| n.text())
        .map(|t| t.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies() {
        assert_eq!(
            parse_error(
                400,
                None,
                br#"{"__type":"com.amazonaws#ServiceNotFoundException","message":"Service not found."}"#
            ),
            ("ServiceNotFoundException".into(), "Service not found.".into())
        );
        assert_eq!(
            parse_error(
                403,
                Some("AccessDeniedException:http://internal.amazon.com/coral/"),
                br#"{"Message":"no"}"#
            ),
            ("AccessDeniedException".into(), "no".into())
        );
        assert_eq!(
            parse_error(
                404,
                None,
                b"<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>"
            ),
            (
                "NoSuchBucket".into(),
                "The specified bucket does not exist".into()
            )
        );
        assert_eq!(
            parse_error(
                403,
                None,
                b"<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>bad</Message></Error></ErrorResponse>"
            ),
            ("InvalidClientTokenId".into(), "bad".into())
        );
        assert_eq!(parse_error(503, None, b"").0, "HTTP503");
    }

    #[test]
    fn endpoints() {
        assert_eq!(
            normalize_endpoint("http://127.0.0.1:4566/").unwrap(),
            "http://127.0.0.1:4566"
        );
        assert_eq!(
            normalize_endpoint("https://example.com:443").unwrap(),
            "https://example.com"
        );
        assert!(normalize_endpoint("127.0.0.1:4566").is_err());
        assert!(normalize_endpoint("http://h/path").is_err());
    }

    #[test]
    fn hosts() {
        let c = AwsClient::with_credentials(Credentials::new("a", "b", None), "eu-west-1", None)
            .unwrap();
        assert_eq!(c.max_attempts(), 3);
        let seg = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            c.locate(Service::S3, &seg(&["my-bucket", "a b/c.txt"])),
            (
                "https://my-bucket.s3.eu-west-1.amazonaws.com".into(),
                "my-bucket.s3.eu-west-1.amazonaws.com".into(),
                "/a%20b%2Fc.txt".into()
            )
        );
        assert_eq!(
            c.locate(Service::S3, &seg(&["dotted.bucket", "k"])).2,
            "/dotted.bucket/k"
        );
        assert_eq!(c.locate(Service::Ecs, &[]).1, "ecs.eu-west-1.amazonaws.com");
        assert_eq!(
            c.locate(Service::CloudFront, &[]).1,
            "cloudfront.amazonaws.com"
        );
        let m = AwsClient::with_credentials(
            Credentials::new("a", "b", None),
            "eu-west-1",
            Some("http://127.0.0.1:4566"),
        )
        .unwrap();
        assert_eq!(m.max_attempts(), 1);
        assert_eq!(
            m.locate(Service::S3, &seg(&["b", "k"])),
            (
                "http://127.0.0.1:4566".into(),
                "127.0.0.1:4566".into(),
                "/b/k".into()
            )
        );
        assert!(AwsClient::with_credentials(Credentials::new("a", "b", None), "EU", None).is_err());
    }

    #[test]
    fn hosts_and_signing_regions_follow_the_partition() {
        let at = |region: &str| {
            AwsClient::with_credentials(Credentials::new("a", "b", None), region, None).unwrap()
        };
        let cn = at("cn-north-1");
        assert_eq!(
            cn.locate(Service::Ecs, &[]).1,
            "ecs.cn-north-1.amazonaws.com.cn"
        );
        assert_eq!(
            cn.locate(Service::CloudFront, &[]).1,
            "cloudfront.cn-northwest-1.amazonaws.com.cn"
        );
        assert_eq!(
            cn.signing_region(Service::CloudFront).unwrap(),
            "cn-northwest-1"
        );
        assert_eq!(
            cn.locate(Service::Iam, &[]).1,
            "iam.cn-north-1.amazonaws.com.cn"
        );
        assert_eq!(cn.signing_region(Service::Iam).unwrap(), "cn-north-1");
        let gov = at("us-gov-west-1");
        assert_eq!(gov.locate(Service::Iam, &[]).1, "iam.us-gov.amazonaws.com");
        assert_eq!(gov.signing_region(Service::Iam).unwrap(), "us-gov-west-1");
        assert_eq!(
            gov.locate(Service::Sts, &[]).1,
            "sts.us-gov-west-1.amazonaws.com"
        );
        let e = gov.signing_region(Service::CloudFront).unwrap_err();
        assert!(
            e.to_string()
                .contains("aws-us-gov partition has no CloudFront"),
            "{e}"
        );
        let aws = at("eu-west-1");
        assert_eq!(
            aws.signing_region(Service::CloudFront).unwrap(),
            "us-east-1"
        );
        assert_eq!(aws.signing_region(Service::Iam).unwrap(), "us-east-1");
        assert_eq!(aws.signing_region(Service::Ecs).unwrap(), "eu-west-1");
    }

    #[test]
    fn the_client_can_be_shared_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<AwsClient>();
    }

    #[test]
    fn unique_tokens_differ() {
        let (a, b) = (unique_token(), unique_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 40);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(
            backoff(1) >= Duration::from_millis(300) && backoff(1) <= Duration::from_millis(450)
        );
        assert!(backoff(3) >= Duration::from_millis(1200));
        assert!(backoff(30) <= Duration::from_millis(15_000));
    }
}
