//! `sys.monitoring` plumbing: the API handle and event ids ([`api`]), tool-id
//! acquisition and teardown ([`install`]), and the one table of callbacks that
//! drives both ([`callbacks`]).

pub mod api;
pub mod callbacks;
pub mod install;

pub use api::{Monitoring, Outcome};
pub use install::Installation;
