//! `recover_trace`: turns a dead recording's staging directory into a
//! partial trace (`python -m codetracer_python_recorder recover DIR`).

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use recorder_errors::ErrorCode;

use super::guard;
use crate::recover;

/// Registers the recovery function on the native module.
pub(super) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(recover_trace, module)?)?;
    Ok(())
}

/// Recovers the recording whose process died at `path` (a trace directory
/// holding one staging directory, or that staging directory). Returns a dict:
/// `trace_dir`, `staging`, `pid`, `format`, `events` (whole events kept),
/// `closing` (events added to balance them), `leftovers` (files of the dead
/// recording that could not be removed), `reason` (`ERR_PROCESS_DIED`).
#[pyfunction]
fn recover_trace(py: Python<'_>, path: PathBuf) -> PyResult<Bound<'_, PyDict>> {
    let recovery = guard("recover_trace", || {
        recover::recover(faultfs::from_env()?, &path)
    })?;
    let report = PyDict::new(py);
    report.set_item("trace_dir", &recovery.target)?;
    report.set_item("staging", &recovery.staging)?;
    report.set_item("pid", recovery.pid)?;
    report.set_item("format", recovery.format.as_str())?;
    report.set_item("events", recovery.events)?;
    report.set_item("closing", recovery.closing)?;
    report.set_item("leftovers", &recovery.leftovers)?;
    report.set_item("reason", ErrorCode::ProcessDied.as_str())?;
    Ok(report)
}
