//! The recording functions (`start_tracing`, `stop_tracing`, `is_tracing`,
//! `flush_tracing`, `set_exit_on_abort`) and the interpreter-exit hook that
//! finishes a recording nobody stopped.

use std::path::PathBuf;
use std::sync::Once;

use pyo3::prelude::*;

use super::guard;
use crate::session;

/// Registers the recording functions on the native module.
pub(super) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(start_tracing, module)?)?;
    module.add_function(wrap_pyfunction!(stop_tracing, module)?)?;
    module.add_function(wrap_pyfunction!(is_tracing, module)?)?;
    module.add_function(wrap_pyfunction!(flush_tracing, module)?)?;
    module.add_function(wrap_pyfunction!(set_exit_on_abort, module)?)?;
    Ok(())
}

/// Starts recording into the directory `path` (`format`: `json` or `binary`;
/// with `activation_path`, nothing is recorded until code from that file runs).
/// Paths may be `str` (any text `os.fsdecode` gives, so not necessarily
/// UTF-8), `bytes` or path-like.
#[pyfunction]
#[pyo3(signature = (path, format = "json", activation_path = None))]
fn start_tracing(
    py: Python<'_>,
    path: PathBuf,
    format: &str,
    activation_path: Option<PathBuf>,
) -> PyResult<()> {
    guard("start_tracing", || {
        session::start_os(py, &path, format, activation_path.as_deref())
    })?;
    if session::is_tracing(py) {
        register_atexit(py);
    }
    Ok(())
}

/// Stops recording and writes the trace; a no-op when not recording.
#[pyfunction]
fn stop_tracing(py: Python<'_>) -> PyResult<()> {
    guard("stop_tracing", || session::stop(py))
}

/// Whether a recording is active.
#[pyfunction]
fn is_tracing(py: Python<'_>) -> bool {
    session::is_tracing(py)
}

/// Hands buffered events to the trace file.
#[pyfunction]
fn flush_tracing(py: Python<'_>) -> PyResult<()> {
    guard("flush_tracing", || session::flush(py))
}

/// CLI mode: an `abort` failure inside a callback ends the process with the
/// error kind's exit code (after the output is settled).
#[pyfunction]
fn set_exit_on_abort(py: Python<'_>, enabled: bool) {
    session::set_exit_on_abort(py, enabled);
}

/// Registers [`stop_at_exit`] with `atexit`, once per process, after the
/// first recording started.
fn register_atexit(py: Python<'_>) {
    static REGISTERED: Once = Once::new();
    REGISTERED.call_once(|| {
        let registered = wrap_pyfunction!(stop_at_exit, py).and_then(|hook| {
            py.import("atexit")?
                .call_method1("register", (hook,))
                .map(drop)
        });
        if let Err(error) = registered {
            log::warn!("cannot register the interpreter-exit hook: {error}");
        }
    });
}

/// `atexit` hook: finishes a recording nobody stopped.
#[pyfunction]
fn stop_at_exit(py: Python<'_>) -> PyResult<()> {
    guard("atexit", || session::stop(py))
}
