//! The typed values that flow between autodeploy's pipeline stages.
//!
//! Every stage (fetch → analyze, parse → decide → render → execute) is a plain
//! function from one of these values to the next. Their JSON form is a contract
//! that other tools read (see `shared/DESIGN.md`): fields may be added, never
//! renamed or removed.
//!
//! This crate deliberately holds no behaviour beyond small helpers on the
//! types: no I/O, no detection, no parsing of requests.

pub mod analysis;
pub mod conn;
pub mod decision;
pub mod deployment;
pub mod intent;
pub mod logtail;
pub mod ports;
pub mod release_cli;
pub mod version;
pub mod wheels;
pub mod wiring;

pub use analysis::*;
pub use decision::*;
pub use deployment::*;
pub use intent::*;
pub use wiring::*;
