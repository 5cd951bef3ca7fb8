//! The catalog web service and its command line: axum handlers, configuration, and the
//! composition root that wires the storage, mail and crypto adapters into the domain's
//! services. Everything else in the workspace is reachable from here; nothing else
//! reaches in.

pub mod adapters;
pub mod api;
pub mod app;
pub mod cli;
pub mod credentials;
pub mod device;
pub mod error;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod html;
pub mod jobs;
pub mod rate_limit;
pub mod session;
pub mod settings;
pub mod telemetry;
