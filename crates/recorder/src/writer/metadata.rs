//! `trace_metadata.json`: runtime_tracing's `TraceMetadata` fields plus the
//! `recorder` object (name, versions, format, policy, partial state), and
//! 0.3's `trace_filter` and `process_exit_status` objects.

use std::path::PathBuf;

use serde::Serialize;
use serde_json::{json, Value};

use super::sink::TraceFormat;

/// Trace schema version written into the metadata (`runtime_tracing` 0.15 events).
pub const SCHEMA_VERSION: &str = "runtime_tracing-0.15";

/// What the metadata file says about one trace.
#[derive(Debug, Clone)]
pub struct TraceMetadataInfo {
    /// Working directory of the traced process.
    pub workdir: PathBuf,
    /// The traced program.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// `sys.version` of the interpreter.
    pub python_version: String,
    /// The policy in force, as a JSON object.
    pub policy: Value,
    /// The reason code when the trace is kept partial.
    pub partial_reason: Option<String>,
    /// The filters applied and what they removed (the `trace_filter` object).
    pub trace_filter: Option<Value>,
    /// The program's exit status, once the recording is stopped (`process_exit_status`).
    pub exit_status: Option<ExitStatus>,
}

/// The `process_exit_status` object: the status the caller of `stop()` gave
/// (`{"code": 3, "label": null}`), or a label saying why there is none
/// (`{"code": null, "label": "unknown"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExitStatus {
    /// The exit status, when known.
    pub code: Option<i64>,
    /// Why there is no code.
    pub label: Option<&'static str>,
}

impl ExitStatus {
    /// The status for `stop(exit_code=code)`.
    pub fn from_code(code: Option<i64>) -> ExitStatus {
        ExitStatus {
            code,
            label: code.is_none().then_some("unknown"),
        }
    }
}

impl TraceMetadataInfo {
    /// The file's JSON bytes.
    pub fn to_json(&self, format: TraceFormat) -> serde_json::Result<Vec<u8>> {
        let mut metadata = json!({
            "workdir": self.workdir,
            "program": self.program,
            "args": self.args,
            "recorder": {
                "name": "codetracer-python-recorder",
                "version": env!("CARGO_PKG_VERSION"),
                "python_version": self.python_version,
                "schema_version": SCHEMA_VERSION,
                "format": format.as_str(),
                "policy": self.policy,
                "partial": self.partial_reason.is_some(),
                "partial_reason": self.partial_reason,
            },
        });
        if let Value::Object(fields) = &mut metadata {
            if let Some(summary) = &self.trace_filter {
                fields.insert("trace_filter".into(), summary.clone());
            }
            if let Some(status) = &self.exit_status {
                fields.insert("process_exit_status".into(), serde_json::to_value(status)?);
            }
        }
        serde_json::to_vec(&metadata)
    }
}
