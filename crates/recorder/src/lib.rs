//! The CodeTracer Python recorder: a `sys.monitoring` tool that records a
//! CPython program into `runtime_tracing` trace files written through `faultfs`.
//!
//! The modules are layers, each using only the ones below it (the table and
//! the check that enforces it: `docs/design.md`, "Layers inside
//! crates/recorder"): `ffi` (the native module's functions) → `session` (one
//! state machine, the callbacks, the failure path) → `tracer` (events,
//! threads, frames, IO events) → `encode` (values), `recover` (dead
//! recordings), `stdio` (the program's standard streams) → `writer` (trace
//! files) → `monitoring`, `panics`, `filter` → `logging` → `policy`.
//!
//! The public Rust surface is what the integration tests in `tests/` drive:
//! recording from an embedded interpreter, the policy, the error conversion
//! at the FFI boundary, and the trace writer.

#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

pub(crate) mod encode;
pub(crate) mod ffi;
pub(crate) mod filter;
pub(crate) mod logging;
pub(crate) mod monitoring;
pub(crate) mod panics;
pub(crate) mod policy;
pub(crate) mod recover;
pub(crate) mod session;
pub(crate) mod stdio;
pub(crate) mod tracer;
pub(crate) mod writer;

/// The extension's own allocations (the value encoder's many small ones) go
/// to mimalloc; the interpreter keeps its allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub use ffi::{guard, to_py_err, ERRORS_MODULE};
pub use logging::trailer::set_writer as set_trailer_writer;
pub use policy::{configure as configure_policy, OnRecorderError, PolicyKey, PolicyUpdate};
pub use recover::{recover, Recovery};
pub use session::{flush, is_tracing, start, start_os, stop, stop_with_exit_code, StartOptions};
pub use stdio::CaptureMode;
pub use writer::json::write_event;
pub use writer::{
    ExactBytes, ExitStatus, TraceFormat, TraceMetadataInfo, TraceWriter, HEADERV1, METADATA_FILE,
    PATHS_FILE,
};

use pyo3::prelude::*;

/// The native module `codetracer_python_recorder._native`.
#[pymodule]
#[pyo3(name = "_native")]
fn native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    ffi::register(module)
}
