//! The few raw C-API steps the encoders share, each behind a safe function or
//! a documented unsafe function: owning what a C call returns, clearing the error
//! indicator, reading a type's flags.

use std::os::raw::c_ulong;

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyType;

/// Takes ownership of what a C call returning a new reference (or NULL on
/// failure) returned. NULL is `None`, with the error indicator cleared: the
/// encoder records its own `Error` value instead.
///
/// # Safety
/// `ptr` is NULL or a new (strong) reference to a live object.
pub unsafe fn owned<'py>(py: Python<'py>, ptr: *mut ffi::PyObject) -> Option<Bound<'py, PyAny>> {
    // SAFETY: the caller hands over a new reference (or NULL), which the
    // returned `Bound` now owns.
    let object = unsafe { Bound::from_owned_ptr_or_opt(py, ptr) };
    if object.is_none() {
        clear_error(py);
    }
    object
}

/// Clears the error indicator left by a failed C call.
pub fn clear_error(_py: Python<'_>) {
    // SAFETY: the `Python` token proves the GIL is held; clearing an empty
    // indicator does nothing.
    unsafe { ffi::PyErr_Clear() }
}

/// `tp_flags` of a type (`Py_TPFLAGS_*` bits).
pub fn type_flags(tp: &Bound<'_, PyType>) -> c_ulong {
    // SAFETY: `tp` is a live type object; reading its flags has no effect.
    unsafe { (*tp.as_type_ptr()).tp_flags }
}
