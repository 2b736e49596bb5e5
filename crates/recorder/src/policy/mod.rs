//! The recorder policy: what happens on a recorder failure and how it is reported.
//!
//! Three layers make the policy in force, later ones winning: the defaults,
//! the environment (`CODETRACER_*`, re-read by [`apply_env`]) and explicit
//! settings from the Python API or the CLI ([`configure`]). Whoever needs the
//! policy reads one consistent [`snapshot`] (or [`with_policy`]); nothing is
//! pushed to them.

pub mod env;
pub mod log_filter;
pub mod model;
mod store;

pub use log_filter::LogFilter;
pub use model::{OnRecorderError, PolicyKey, PolicyUpdate, RecorderPolicy};
pub use store::{apply_env, configure, generation, snapshot, with_policy};
