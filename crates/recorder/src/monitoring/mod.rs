//! `sys.monitoring` plumbing, a leaf that knows nothing of what handles the
//! events: the API handle, event ids and `DISABLE` ([`api`]); taking a tool
//! id, registering the caller's table of callbacks, switching events on, and
//! tearing it all down ([`install`]).

pub mod api;
pub mod install;

pub use api::{outcome_value, Outcome};
pub use install::{CallbackSpec, Installation};
