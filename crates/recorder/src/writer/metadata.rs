//! `trace_metadata.json`: runtime_tracing's `TraceMetadata` fields plus the
//! `recorder` object (name, versions, format, policy, partial state), and
//! 0.3's `trace_filter` and `process_exit_status` objects.
//!
//! Trace files are UTF-8 JSON, but a program's path, working directory and
//! arguments are whatever bytes the operating system has. The
//! `runtime_tracing` fields hold their text (a byte that is not UTF-8 reads
//! as U+FFFD, so every reader loads them); whenever that text is not exact,
//! `recorder.exact_bytes` keeps the exact bytes as an array of numbers:
//! `{"workdir": [...], "program": [...], "args": {"<index>": [...]},
//! "paths": {"<path id>": [...]}}`, each entry present only when needed.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use serde::Serialize;
use serde_json::{json, Value};

use super::sink::TraceFormat;

/// Trace schema version written into the metadata (`runtime_tracing` 0.15 events).
pub const SCHEMA_VERSION: &str = "runtime_tracing-0.15";

/// What the metadata file says about one trace.
#[derive(Debug, Clone, Default)]
pub struct TraceMetadataInfo {
    /// Working directory of the traced process.
    pub workdir: PathBuf,
    /// The traced program, as text.
    pub program: String,
    /// Its arguments, as text.
    pub args: Vec<String>,
    /// `sys.version` of the interpreter.
    pub python_version: String,
    /// The policy in force, as a JSON object.
    pub policy: Value,
    /// The reason code when the trace is kept partial.
    pub partial_reason: Option<String>,
    /// The exact bytes of the values whose text is not exact.
    pub exact_bytes: ExactBytes,
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

/// The exact bytes of metadata values that are not UTF-8.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExactBytes {
    /// The working directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workdir: Option<Vec<u8>>,
    /// The program.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub program: Option<Vec<u8>>,
    /// Arguments by index.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<usize, Vec<u8>>,
    /// Source paths by path id.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub paths: BTreeMap<usize, Vec<u8>>,
}

impl ExactBytes {
    fn is_empty(&self) -> bool {
        *self == ExactBytes::default()
    }
}

/// The bytes of `value` when its text is not exact (not UTF-8).
pub fn inexact_bytes(value: &OsStr) -> Option<Vec<u8>> {
    value
        .to_str()
        .is_none()
        .then(|| value.as_encoded_bytes().to_vec())
}

impl TraceMetadataInfo {
    /// Sets the program, working directory and arguments from the
    /// operating system's values, keeping exact bytes where text is not exact.
    pub fn set_process(&mut self, workdir: PathBuf, program: &OsStr, args: &[OsString]) {
        self.exact_bytes.workdir = inexact_bytes(workdir.as_os_str());
        self.exact_bytes.program = inexact_bytes(program);
        self.exact_bytes.args = args
            .iter()
            .enumerate()
            .filter_map(|(index, arg)| inexact_bytes(arg).map(|bytes| (index, bytes)))
            .collect();
        self.workdir = workdir;
        self.program = program.to_string_lossy().into_owned();
        self.args = args
            .iter()
            .map(|arg| arg.to_string_lossy().into_owned())
            .collect();
    }

    /// The file's JSON bytes; `paths` are the exact bytes of the source
    /// paths that are not UTF-8, by path id.
    pub fn to_json(
        &self,
        format: TraceFormat,
        paths: &BTreeMap<usize, Vec<u8>>,
    ) -> serde_json::Result<Vec<u8>> {
        let mut exact = self.exact_bytes.clone();
        exact.paths.clone_from(paths);
        let mut recorder = json!({
            "name": "codetracer-python-recorder",
            "version": env!("CARGO_PKG_VERSION"),
            "python_version": self.python_version,
            "schema_version": SCHEMA_VERSION,
            "format": format.as_str(),
            "policy": self.policy,
            "partial": self.partial_reason.is_some(),
            "partial_reason": self.partial_reason,
        });
        if !exact.is_empty() {
            recorder["exact_bytes"] = serde_json::to_value(&exact)?;
        }
        let mut metadata = json!({
            "workdir": self.workdir.to_string_lossy(),
            "program": self.program,
            "args": self.args,
            "recorder": recorder,
        });
        if let Some(summary) = &self.trace_filter {
            metadata["trace_filter"] = summary.clone();
        }
        if let Some(status) = &self.exit_status {
            metadata["process_exit_status"] = serde_json::to_value(status)?;
        }
        serde_json::to_vec(&metadata)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn text_that_is_not_exact_keeps_its_bytes_next_to_it() {
        let mut info = TraceMetadataInfo::default();
        let bad = OsStr::from_bytes(b"bad\xffname.py");
        info.set_process(
            PathBuf::from("/work"),
            bad,
            &[OsString::from("ok"), bad.to_os_string()],
        );
        let json: Value =
            serde_json::from_slice(&info.to_json(TraceFormat::Json, &BTreeMap::new()).unwrap())
                .unwrap();
        assert_eq!(json["program"], "bad\u{FFFD}name.py");
        assert_eq!(json["args"], json!(["ok", "bad\u{FFFD}name.py"]));
        let exact = &json["recorder"]["exact_bytes"];
        let bytes: Vec<u8> = b"bad\xffname.py".to_vec();
        assert_eq!(exact["program"], json!(bytes));
        assert_eq!(exact["args"], json!({"1": bytes}));
        assert!(exact.get("workdir").is_none());
    }

    #[test]
    fn utf8_values_need_no_exact_bytes() {
        let mut info = TraceMetadataInfo::default();
        info.set_process(
            PathBuf::from("/w"),
            OsStr::new("p.py"),
            &[OsString::from("é")],
        );
        let json: Value =
            serde_json::from_slice(&info.to_json(TraceFormat::Json, &BTreeMap::new()).unwrap())
                .unwrap();
        assert_eq!(json["args"], json!(["é"]));
        assert!(json["recorder"].get("exact_bytes").is_none());
    }
}
