//! The one error type of the decide stage, worded for people.
//!
//! Errors are for requests that cannot be turned into any sensible plan (a
//! region or machine type no cloud knows, min above max). Conflicts that still
//! leave a sensible plan are warnings in the `Decision`, never errors.

use autodeploy_core::Cloud;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecideError {
    #[error("the analysis lists no services: nothing to deploy")]
    NoServices,
    #[error(
        "the request asks for at least {min} instances but at most {max}: ask for a range \
         whose minimum is not above its maximum (e.g. \"{max} to {min} instances\")"
    )]
    MinAboveMax { min: u32, max: u32 },
    #[error(
        "the request asks for at most 0 instances, so nothing would run: ask for at least one \
         (\"scale to zero\" sets the minimum to 0, not the maximum)"
    )]
    ZeroMaxInstances,
    #[error(
        "{region:?} is not a region code of AWS, GCP or Azure (examples: us-east-1, \
         europe-west1, westeurope)"
    )]
    UnknownRegion { region: String },
    #[error(
        "{instance_type:?} is not a machine type of AWS, GCP or Azure (examples: t3.small, \
         e2-small, Standard_B1ms); name one, or leave it out and autodeploy sizes the machine"
    )]
    UnknownInstanceType { instance_type: String },
    #[error("the budget must be a positive number of US dollars per month, got {budget}")]
    InvalidBudget { budget: f64 },
    #[error("the embedded {} price table is invalid: {message} (a bug in autodeploy)", cloud.as_str())]
    PriceTable { cloud: Cloud, message: String },
    #[error(
        "the request asks for {asked}, but no service of this repository is that part: it has \
         {services}; name one of those, or leave the part out to deploy every service"
    )]
    NoServiceForPart { asked: String, services: String },
    /// The request asks for a database engine the code has no driver for,
    /// while the code keeps its data in SQLite: the database would be paid
    /// for and never used.
    #[error(
        "the request asks for {asked}, but the code can only use SQLite: none of its \
         dependencies is a {asked} driver, so a {asked} database would be paid for and never \
         used ({services}) — leave the database out of the request to deploy on SQLite, or \
         add a {asked} driver and read the connection URL from DATABASE_URL, then plan again"
    )]
    DatabaseUnusable { asked: String, services: String },
    /// A value given with `--env` / `--secret` that cannot be applied.
    #[error(transparent)]
    UserValue(#[from] crate::user_values::UserValueError),
}
