//! The recorder policy: what happens on a recorder failure, how it is
//! reported, and which of the program's standard streams are captured.
//!
//! Three layers make the policy in force, later ones winning: the defaults,
//! the environment (`CODETRACER_*`, re-read by [`apply_env`]) and explicit
//! settings from the Python API or the CLI ([`configure`]). Whoever needs the
//! policy reads one consistent [`snapshot`] (or [`with_policy`]); nothing is
//! pushed to them.

pub mod env;
pub mod io_capture;
pub mod log_filter;
pub mod model;
mod store;

pub use io_capture::IoCapturePolicy;
pub use log_filter::LogFilter;
pub use model::{OnRecorderError, PolicyKey, PolicyUpdate, RecorderPolicy};
pub use store::{apply_env, configure, generation, snapshot, with_policy};
