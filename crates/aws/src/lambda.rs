//! Lambda: replace a function's code with a zip and wait until the update
//! is applied (`LastUpdateStatus` leaves InProgress).
//!
//! Direct uploads only (AWS takes zips up to 50 MB that way); larger
//! packages need an S3 upload first, which the serverless bundle does not
//! use. Not here: creating functions or building the zip (the deploy stage).

use crate::client::Service;
use crate::{AwsClient, AwsError, Sink};
use autodeploy_core::LogStream;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Lambda's API version path segment.
const API: &str = "2015-03-31";
/// Largest zip Lambda accepts in the request itself.
pub const MAX_DIRECT_ZIP: u64 = 50 * 1024 * 1024;

/// Standard base64 with padding (Lambda takes zips as base64 in JSON).
pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

impl AwsClient {
    /// UpdateFunctionCode with the zip's bytes.
    pub fn lambda_update_code(
        &self,
        function: &str,
        zip: &std::path::Path,
    ) -> Result<(), AwsError> {
        let len = std::fs::metadata(zip)
            .map_err(|e| AwsError::io("read", zip, e))?
            .len();
        if len > MAX_DIRECT_ZIP {
            return Err(AwsError::InvalidInput {
                what: format!("Lambda package {}", zip.display()),
                message: format!(
                    "{len} bytes is over the 50 MB Lambda accepts directly; trim the dependencies or use the container strategy"
                ),
            });
        }
        let bytes = std::fs::read(zip).map_err(|e| AwsError::io("read", zip, e))?;
        self.rest_json_call(
            Service::Lambda,
            "UpdateFunctionCode",
            "PUT",
            &[API, "functions", function, "code"],
            Some(&json!({ "ZipFile": base64(&bytes), "Publish": false })),
        )?;
        Ok(())
    }

    /// GetFunctionConfiguration.
    pub fn lambda_configuration(&self, function: &str) -> Result<Value, AwsError> {
        self.rest_json_call(
            Service::Lambda,
            "GetFunctionConfiguration",
            "GET",
            &[API, "functions", function, "configuration"],
            None,
        )
    }

    /// Wait until no update is running (`State` not Pending, `LastUpdateStatus`
    /// not InProgress), e.g. right after `terraform apply` created the function:
    /// Lambda refuses a code update while another one runs.
    pub fn lambda_wait_idle(&self, function: &str, timeout: Duration) -> Result<(), AwsError> {
        let start = Instant::now();
        loop {
            let cfg = self.lambda_configuration(function)?;
            let busy = cfg.get("State").and_then(Value::as_str) == Some("Pending")
                || cfg.get("LastUpdateStatus").and_then(Value::as_str) == Some("InProgress");
            if !busy {
                return Ok(());
            }
            if start.elapsed() >= timeout {
                return Err(AwsError::Timeout {
                    what: format!("Lambda function {function} to finish its previous update"),
                    seconds: timeout.as_secs(),
                });
            }
            std::thread::sleep(
                self.poll_interval()
                    .min(timeout.saturating_sub(start.elapsed())),
            );
        }
    }

    /// Wait until the last update is Successful; Failed becomes [`AwsError::Failed`].
    pub fn lambda_wait_updated(
        &self,
        function: &str,
        timeout: Duration,
        sink: Sink,
    ) -> Result<(), AwsError> {
        let start = Instant::now();
        loop {
            let cfg = self.lambda_configuration(function)?;
            let status = cfg
                .get("LastUpdateStatus")
                .and_then(Value::as_str)
                .unwrap_or("Successful");
            match status {
                "Successful" => {
                    sink(
                        LogStream::System,
                        &format!("lambda {function}: code update applied"),
                    );
                    return Ok(());
                }
                "Failed" => {
                    return Err(AwsError::Failed {
                        what: format!("Lambda code update of {function}"),
                        message: cfg
                            .get("LastUpdateStatusReason")
                            .and_then(Value::as_str)
                            .unwrap_or("no reason given")
                            .to_string(),
                    })
                }
                _ => {}
            }
            if start.elapsed() >= timeout {
                return Err(AwsError::Timeout {
                    what: format!("the Lambda code update of {function}"),
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
    fn base64_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (i, o) in cases {
            assert_eq!(super::base64(i.as_bytes()), o);
        }
    }
}
