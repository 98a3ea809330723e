//! autodeploy-aws: the release steps that follow `terraform apply` on AWS
//! and that Terraform cannot do — upload the source, build the image in
//! CodeBuild, run each service's release step once as a one-off ECS task,
//! roll ECS services, sync a static site and invalidate its
//! CloudFront cache, update Lambda code, put secret values.
//!
//! A small blocking client of its own (AWS Signature Version 4 over `ureq`,
//! JSON / REST-JSON / REST-XML / Query protocols, only the operations used)
//! instead of the AWS SDK's service crates. Credentials come from the AWS
//! default chain (`aws-config`, see credentials.rs) and are never logged. The `endpoint` override of
//! [`AwsClient::from_env`] is a TEST FACILITY (moto): every service at one
//! URL, path-style S3, one attempt per call.
//!
//! Deliberately not here: Terraform, building sites or Lambda packages,
//! health checks, async I/O.

pub mod archive;
mod client;
pub mod cloudfront;
pub mod codebuild;
pub mod credentials;
pub mod ecs;
mod error;
pub mod http;
pub mod lambda;
pub mod partition;
pub mod permissions;
pub mod release;
pub mod s3;
pub mod secrets;
pub mod sigv4;

use autodeploy_core::LogStream;

pub use archive::{
    zip_source, zip_source_fixed, zip_source_prepared, zip_source_with, FixInArchive,
};
pub use client::{AwsClient, Identity, Service};
pub use codebuild::BuildResult;
pub use credentials::{CredentialChain, Credentials};
pub use ecs::{OneOffTask, TaskEnd};
pub use error::AwsError;
pub use release::{
    release_container, release_lambda, release_static, roll_container, ReleaseOptions,
};
pub use s3::{SyncOptions, SyncReport};

/// Where progress lines go (the deployment's log).
pub type Sink<'a> = &'a (dyn Fn(LogStream, &str) + Sync);
