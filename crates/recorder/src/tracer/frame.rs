//! The locals of the frame a callback fires in, read through the C API
//! (`PyFrame_GetLocals` on 3.12, `PyEval_GetFrameLocals` on 3.13+): no
//! `sys._getframe`, no attribute lookups.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use recorder_errors::prelude::*;

/// A dict snapshot of the executing frame's local variables.
pub fn current_locals(py: Python<'_>) -> RecorderResult<Bound<'_, PyDict>> {
    let locals = raw_locals(py)?;
    locals.cast_into::<PyDict>().map_err(|_| {
        target!(
            ErrorCode::FrameIntrospectionFailed,
            "the frame's locals are not a dict"
        )
    })
}

#[cfg(not(Py_3_13))]
fn raw_locals(py: Python<'_>) -> RecorderResult<Bound<'_, PyAny>> {
    // SAFETY: the GIL is held (`py`); the result is a borrowed frame or NULL.
    let frame = unsafe { ffi::PyEval_GetFrame() };
    if frame.is_null() {
        return Err(target!(
            ErrorCode::FrameIntrospectionFailed,
            "no Python frame is executing"
        ));
    }
    // SAFETY: `frame` is the executing (live) frame; the call returns a new
    // reference or NULL.
    unsafe { Bound::from_owned_ptr_or_opt(py, ffi::PyFrame_GetLocals(frame)) }
        .ok_or_else(|| introspection_error(py))
}

#[cfg(Py_3_13)]
fn raw_locals(py: Python<'_>) -> RecorderResult<Bound<'_, PyAny>> {
    // SAFETY: the GIL is held (`py`); the call returns a new reference or NULL.
    unsafe { Bound::from_owned_ptr_or_opt(py, ffi::PyEval_GetFrameLocals()) }
        .ok_or_else(|| introspection_error(py))
}

fn introspection_error(py: Python<'_>) -> RecorderError {
    let cause = PyErr::take(py).map_or_else(|| "unknown error".to_string(), |err| err.to_string());
    target!(
        ErrorCode::FrameIntrospectionFailed,
        "cannot read the frame's locals: {cause}"
    )
}
