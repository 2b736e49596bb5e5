//! The CodeTracer Python recorder: a `sys.monitoring` tool that records a
//! CPython program into `runtime_tracing` trace files written through `faultfs`.
//!
//! Layout: [`monitoring`] (tool id, callback table), [`runtime`] (the tracer:
//! per-event handling, filtering, threads, lifecycle), [`encode`] (values),
//! [`writer`] (streamed trace files), [`session`] (start/stop, failure policy),
//! [`ffi`] (errors to exceptions, panics caught), [`policy`] and [`logging`].

pub mod encode;
pub mod ffi;
pub mod logging;
pub mod monitoring;
pub mod panics;
pub mod policy;
pub mod session;
pub mod tracer;
pub mod writer;

use pyo3::prelude::*;

/// The native module `codetracer_python_recorder._native`.
#[pymodule]
#[pyo3(name = "_native")]
fn native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    ffi::register(module)
}
