//! CloudFront: invalidate cached paths after a static site upload, and
//! optionally wait until the invalidation has reached every edge.
//!
//! Not here: distributions themselves (Terraform).

use crate::client::{xml_text, Body, Request, Service};
use crate::{AwsClient, AwsError};
use std::time::{Duration, Instant};

const API: &str = "2020-05-31";

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// The InvalidationBatch document.
pub(crate) fn invalidation_batch(paths: &[&str], caller_reference: &str) -> String {
    let items: String = paths
        .iter()
        .map(|p| format!("<Path>{}</Path>", xml_escape(p)))
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<InvalidationBatch xmlns=\"http://cloudfront.amazonaws.com/doc/{API}/\"><Paths><Quantity>{}</Quantity><Items>{items}</Items></Paths><CallerReference>{}</CallerReference></InvalidationBatch>",
        paths.len(),
        xml_escape(caller_reference)
    )
}

impl AwsClient {
    /// Invalidate `paths` (each starting with `/`, `*` allowed at the end).
    pub fn cloudfront_invalidate(
        &self,
        distribution_id: &str,
        paths: &[&str],
    ) -> Result<(), AwsError> {
        self.cloudfront_create_invalidation(distribution_id, paths)
            .map(|_| ())
    }

    /// Like [`AwsClient::cloudfront_invalidate`], returning the invalidation id.
    pub fn cloudfront_create_invalidation(
        &self,
        distribution_id: &str,
        paths: &[&str],
    ) -> Result<String, AwsError> {
        if paths.is_empty() || paths.iter().any(|p| !p.starts_with('/')) {
            return Err(AwsError::InvalidInput {
                what: format!("CloudFront invalidation paths {paths:?}"),
                message: "give at least one path, each starting with / (e.g. /*)".into(),
            });
        }
        let body = invalidation_batch(
            paths,
            &format!("autodeploy-{}", crate::client::unique_token()),
        );
        let resp = self.send(&Request {
            service: Service::CloudFront,
            operation: "CreateInvalidation",
            method: "POST",
            path: vec![
                API.into(),
                "distribution".into(),
                distribution_id.into(),
                "invalidation".into(),
            ],
            query: vec![],
            headers: vec![("content-type".into(), "text/xml".into())],
            body: Body::Bytes(body.as_bytes()),
        })?;
        let text = String::from_utf8_lossy(&resp.body);
        xml_text(&text, "Id").ok_or_else(|| AwsError::BadResponse {
            service: "cloudfront".into(),
            operation: "CreateInvalidation".into(),
            message: "no Id in the answer".into(),
        })
    }

    /// Poll GetInvalidation until its status is Completed.
    pub fn cloudfront_wait_invalidation(
        &self,
        distribution_id: &str,
        invalidation_id: &str,
        timeout: Duration,
    ) -> Result<(), AwsError> {
        let start = Instant::now();
        loop {
            let resp = self.send(&Request {
                service: Service::CloudFront,
                operation: "GetInvalidation",
                method: "GET",
                path: vec![
                    API.into(),
                    "distribution".into(),
                    distribution_id.into(),
                    "invalidation".into(),
                    invalidation_id.into(),
                ],
                query: vec![],
                headers: vec![],
                body: Body::Empty,
            })?;
            let text = String::from_utf8_lossy(&resp.body);
            if xml_text(&text, "Status").is_some_and(|s| s.eq_ignore_ascii_case("completed")) {
                return Ok(());
            }
            if start.elapsed() >= timeout {
                return Err(AwsError::Timeout {
                    what: format!("CloudFront invalidation {invalidation_id} on {distribution_id}"),
                    seconds: timeout.as_secs(),
                });
            }
            std::thread::sleep(
                self.poll_interval()
                    .min(timeout.saturating_sub(start.elapsed())),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn batch_document_escapes_paths() {
        let x = super::invalidation_batch(&["/*", "/a&b"], "ref-1");
        assert!(
            x.contains("<Quantity>2</Quantity><Items><Path>/*</Path><Path>/a&amp;b</Path></Items>")
        );
        assert!(x.contains("<CallerReference>ref-1</CallerReference>"));
        assert!(roxmltree::Document::parse(&x).is_ok());
    }
}
