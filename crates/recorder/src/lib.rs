//! The CodeTracer Python recorder: a `sys.monitoring` tool that records a
//! CPython program into `runtime_tracing` trace files written through `faultfs`.
//!
//! Layout: [`monitoring`] (tool id, callback table), [`runtime`] (the tracer:
//! per-event handling, filtering, threads, lifecycle), [`encode`] (values),
//! [`writer`] (streamed trace files), [`session`] (start/stop, failure policy),
//! [`ffi`] (errors to exceptions, panics caught), [`policy`] and [`logging`].

pub mod api;
pub mod encode;
pub mod ffi;
pub mod logging;
pub mod monitoring;
pub mod policy;
pub mod recover;
pub mod runtime;
pub mod session;
pub mod writer;

use pyo3::prelude::*;

/// The native module `codetracer_python_recorder._native`.
#[pymodule]
#[pyo3(name = "_native")]
fn native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    ffi::install_panic_hook();
    logging::ffi::register(module)?;
    policy::ffi::register(module)?;
    api::register(module)?;
    // The exit code of each error kind, for `errors.py` (one source: `ErrorKind`).
    let exit_codes = pyo3::types::PyDict::new(module.py());
    for kind in recorder_errors::ErrorKind::ALL {
        exit_codes.set_item(kind.as_str(), kind.exit_code())?;
    }
    module.add("EXIT_CODES", exit_codes)?;
    Ok(())
}
