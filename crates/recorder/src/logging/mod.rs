//! Operator-facing diagnostics: structured JSON logs, the JSON error trailer
//! and runtime-health metrics.
//!
//! Use the `log` facade (`log::warn!` ...) anywhere in the crate: once
//! [`init`] ran, every record becomes one JSON line with `ts`, `level`,
//! `message`, `run_id`, `trace_id`, `error_code` and `target`, written to the
//! policy's `log_file` or stderr (through [`stderr::write_all`]), never stdout. Logging reads the policy
//! itself (`log_level`, `log_file`, `json_errors`) when it needs it.

mod context;
pub mod logger;
pub mod metrics;
pub mod stderr;
pub mod trailer;

pub use context::{run_id, set_active_trace_id, with_error_code};
pub use logger::{init, refresh};
