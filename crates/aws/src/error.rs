//! The one error type of this crate, worded for the person running the
//! deploy: what failed, where, and what to do next.
//!
//! Not here: retry decisions (client.rs reads [`AwsError::is_retryable`]
//! but owns the policy) or any logging.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// No source of the default credential chain has credentials.
    #[error("no AWS credentials found: {hint}")]
    MissingCredentials { hint: String },

    /// A source of the chain is configured but failed (expired SSO session,
    /// a role that cannot be assumed, a failing credential_process, MFA).
    #[error("the AWS credentials of profile `{profile}` could not be resolved: {message}; {hint}")]
    CredentialSource {
        profile: String,
        message: String,
        hint: String,
    },

    /// IAM's policy simulator says the caller may not do what the bundle
    /// needs (checked before anything is created).
    #[error("{principal} may not {}: IAM's policy simulator denies {} action(s) the deployment needs; grant them to that user or role (a policy allowing exactly these), or deploy with credentials that have them", denied.join(", "), denied.len())]
    PermissionsMissing {
        principal: String,
        denied: Vec<String>,
    },

    /// AWS answered with an error status.
    #[error("{service} {operation} failed: HTTP {status} {code}: {message}{}", hint_suffix(code, *status))]
    Http {
        service: String,
        operation: String,
        status: u16,
        code: String,
        message: String,
    },

    /// The request never got an HTTP answer (DNS, connection, TLS, timeout).
    #[error("could not reach {service} at {url} for {operation}: {message}; check the network, the region and, in tests, the endpoint override")]
    Transport {
        service: String,
        operation: String,
        url: String,
        message: String,
    },

    /// A local file could not be read or written.
    #[error("could not {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Writing the zip archive failed.
    #[error("could not write the zip archive {}: {message}", path.display())]
    Zip { path: PathBuf, message: String },

    /// A wait ran out of time; the work may still finish on AWS.
    #[error("timed out after {seconds} s waiting for {what}; it may still finish on AWS — look at it in the console, or re-run the release with a longer timeout")]
    Timeout { what: String, seconds: u64 },

    /// A Terraform output the release needs is missing or has the wrong type.
    #[error("terraform output `{name}` is missing or not {expected}; the bundle declares it, so re-run `terraform apply` on the bundle and pass `terraform output -json`")]
    BadOutput {
        name: String,
        expected: &'static str,
    },

    /// AWS answered 2xx with a body this client cannot read.
    #[error("{service} {operation} answered with an unexpected body: {message}")]
    BadResponse {
        service: String,
        operation: String,
        message: String,
    },

    /// The CodeBuild build ended in something other than SUCCEEDED.
    #[error("CodeBuild build {id} ended {status}{}{}; read the build log{}", phase.as_ref().map(|p| format!(" in phase {p}")).unwrap_or_default(), message.as_ref().map(|m| format!(" ({m})")).unwrap_or_default(), logs.as_ref().map(|l| format!(" at {l}")).unwrap_or_default())]
    BuildFailed {
        id: String,
        status: String,
        phase: Option<String>,
        message: Option<String>,
        logs: Option<String>,
    },

    /// ECS refused to start a service's release step as a one-off task
    /// (RunTask answered with a failure instead of a task).
    #[error("the release step of service `{service}` could not be started as an ECS task of {task_definition}: {reason}; nothing was rolled out — check the cluster, subnets and security groups in `terraform output release_tasks`, then deploy again")]
    ReleaseTaskNotStarted {
        service: String,
        task_definition: String,
        reason: String,
    },

    /// A service's release step (its one-off ECS task) stopped without its
    /// container exiting 0: the release command failed, or the task never
    /// got to run it (image pull, secrets, capacity).
    #[error("the release step of service `{service}` failed: {}; the new version was not rolled out and the running one keeps serving — {}, then deploy again", task_outcome(task, *exit_code, reason.as_deref()), logs_hint(logs.as_deref()))]
    ReleaseTaskFailed {
        service: String,
        /// The task's ARN.
        task: String,
        /// The container's exit code, when it ran.
        exit_code: Option<i64>,
        /// Why ECS stopped the task or the container, when it says.
        reason: Option<String>,
        /// Where its output is: CloudWatch Logs group and stream.
        logs: Option<String>,
    },

    /// AWS reports that a change failed (Lambda update, ECS rollout).
    #[error("{what} failed: {message}")]
    Failed { what: String, message: String },

    /// An argument cannot be sent as given.
    #[error("{what}: {message}")]
    InvalidInput { what: String, message: String },
}

/// How a one-off task ended, for [`AwsError::ReleaseTaskFailed`].
fn task_outcome(task: &str, exit_code: Option<i64>, reason: Option<&str>) -> String {
    match (exit_code, reason) {
        (Some(code), Some(r)) => {
            format!("its command exited with code {code} ({r}) in task {task}")
        }
        (Some(code), None) => format!("its command exited with code {code} in task {task}"),
        (None, Some(r)) => format!("task {task} stopped before its command finished: {r}"),
        (None, None) => format!("task {task} stopped before its command finished"),
    }
}

/// Where to look next, for [`AwsError::ReleaseTaskFailed`].
fn logs_hint(logs: Option<&str>) -> String {
    match logs {
        Some(l) => format!(
            "its output is in CloudWatch Logs {l} (the deploy log shows its last lines); fix the release command or what it reads"
        ),
        None => "the stopped task in the ECS console says why; fix the release command or what it reads".into(),
    }
}

/// What to do about the error codes people actually hit.
fn hint_suffix(code: &str, status: u16) -> &'static str {
    match code {
        "InvalidClientTokenId" | "UnrecognizedClientException" | "InvalidAccessKeyId" => {
            " — AWS does not know this access key id: check AWS_ACCESS_KEY_ID or the profile in ~/.aws/credentials"
        }
        "SignatureDoesNotMatch" | "InvalidSignatureException" => {
            " — the secret access key does not belong to the access key id (or this machine's clock is off by more than 5 minutes): check AWS_SECRET_ACCESS_KEY"
        }
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => {
            " — the session credentials expired: refresh them (aws sso login / assume the role again)"
        }
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => {
            " — the credentials are valid but lack permission for this call: grant it to the user or role"
        }
        "PermanentRedirect" | "AuthorizationHeaderMalformed" | "IllegalLocationConstraintException" => {
            " — the bucket is in another region: use the region the bundle was applied in"
        }
        "NoSuchBucket" => " — the bucket does not exist in this account and region: run terraform apply first",
        "ResourceNotFoundException" | "ClusterNotFoundException" | "ServiceNotFoundException" => {
            " — the resource is not there: check the region and that terraform apply finished"
        }
        _ if status == 403 => " — permission denied: check the credentials and their policies",
        _ => "",
    }
}

impl AwsError {
    /// Worth another attempt: throttling, AWS-side 5xx, and connection failures.
    pub fn is_retryable(&self) -> bool {
        match self {
            AwsError::Http { status, code, .. } => {
                *status >= 500
                    || *status == 429
                    || matches!(
                        code.as_str(),
                        "Throttling"
                            | "ThrottlingException"
                            | "ThrottledException"
                            | "TooManyRequestsException"
                            | "RequestLimitExceeded"
                            | "SlowDown"
                            | "RequestThrottled"
                            | "ProvisionedThroughputExceededException"
                            | "PriorRequestNotComplete"
                    )
            }
            AwsError::Transport { .. } => true,
            _ => false,
        }
    }

    /// The AWS error code, when AWS answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            AwsError::Http { code, .. } => Some(code),
            _ => None,
        }
    }

    pub(crate) fn io(action: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        AwsError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}
