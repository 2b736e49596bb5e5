//! The recorder policy: what happens on a recorder failure and how it is reported.
//!
//! Three layers make the policy in force, later ones winning: the defaults,
//! the environment (`CODETRACER_*`, re-read by [`apply_env`]) and explicit
//! settings from the Python API or the CLI ([`configure`]). The runtime reads
//! one consistent [`snapshot`].

pub mod env;
pub mod ffi;
pub mod model;
mod store;

pub use model::{OnRecorderError, PolicyKey, PolicyUpdate, RecorderPolicy};
pub use store::{apply_env, configure, snapshot, with_policy};
