//! `trace_metadata.json`: runtime_tracing's `TraceMetadata` fields plus the
//! `recorder` object (name, versions, format, policy, partial state).

use std::path::PathBuf;

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
}

impl TraceMetadataInfo {
    /// The file's JSON bytes.
    pub fn to_json(&self, format: TraceFormat) -> serde_json::Result<Vec<u8>> {
        serde_json::to_vec(&json!({
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
        }))
    }
}
