//! Secrets Manager: put a new value into an existing secret. The value is
//! never logged and never part of an error message.
//!
//! Not here: creating or deleting secrets (Terraform owns them) or reading
//! values back.

use crate::client::Service;
use crate::{AwsClient, AwsError};
use serde_json::{json, Value};

impl AwsClient {
    /// Store `value` as the secret's new current version; returns nothing
    /// (see [`AwsClient::secretsmanager_put_version`] for the version id).
    pub fn secretsmanager_put(&self, secret_id: &str, value: &str) -> Result<(), AwsError> {
        self.secretsmanager_put_version(secret_id, value)
            .map(|_| ())
    }

    /// Like [`AwsClient::secretsmanager_put`], returning the new version id.
    pub fn secretsmanager_put_version(
        &self,
        secret_id: &str,
        value: &str,
    ) -> Result<String, AwsError> {
        let out = self.json_call(
            Service::SecretsManager,
            "PutSecretValue",
            // The token makes a retried call create one version, not two.
            &json!({
                "SecretId": secret_id,
                "SecretString": value,
                "ClientRequestToken": crate::client::unique_token(),
            }),
        )?;
        out.get("VersionId")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| AwsError::BadResponse {
                service: "secretsmanager".into(),
                operation: "PutSecretValue".into(),
                message: "no VersionId in the answer".into(),
            })
    }
}
