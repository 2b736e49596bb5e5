//! The FFI boundary: the one place where recorder errors become Python
//! exceptions and where panics are caught.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use recorder_errors::prelude::*;

use crate::logging;

/// The Python module defining the exception classes.
pub const ERRORS_MODULE: &str = "codetracer_python_recorder.errors";

/// Runs `body`, mapping its error to the package's exception class and a panic
/// to `InternalError` (`ERR_PANIC`, counted with `record_panic(label)`).
pub fn guard<T>(label: &'static str, body: impl FnOnce() -> RecorderResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(to_py_err(error)),
        Err(payload) => {
            logging::metrics::record_panic(label);
            Err(to_py_err(panic_error(label, payload.as_ref())))
        }
    }
}

/// The `ERR_PANIC` error for a caught panic.
pub fn panic_error(label: &str, payload: &(dyn Any + Send)) -> RecorderError {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".to_string());
    bug!(ErrorCode::Panic, "panic in the recorder ({label}): {detail}"; "label" = label)
}

/// The Python exception for `error`: an instance of the class of its kind from
/// `codetracer_python_recorder.errors` with `code`, `kind` and `context`; a
/// plain `Exception` with the text when that module cannot be used. Writes the
/// JSON trailer first (when the policy asks for it).
pub fn to_py_err(error: RecorderError) -> PyErr {
    logging::trailer::emit(&error);
    Python::attach(|py| match exception_instance(py, &error) {
        Ok(instance) => PyErr::from_value(instance),
        Err(_) => PyException::new_err(error.to_string()),
    })
}

fn exception_instance<'py>(py: Python<'py>, error: &RecorderError) -> PyResult<Bound<'py, PyAny>> {
    let class = py
        .import(ERRORS_MODULE)?
        .getattr(error.kind().python_class())?;
    let context = PyDict::new(py);
    for (key, value) in error.context() {
        context.set_item(key, value)?;
    }
    let kwargs = PyDict::new(py);
    kwargs.set_item("code", error.code().as_str())?;
    kwargs.set_item("kind", error.kind().as_str())?;
    kwargs.set_item("context", context)?;
    let instance = class.call((error.message(),), Some(&kwargs))?;
    if instance.is_instance_of::<pyo3::exceptions::PyBaseException>() {
        Ok(instance)
    } else {
        Err(PyException::new_err("not an exception"))
    }
}

/// Replaces the default panic message (which would interleave with the
/// program's stderr) by one structured log record; never writes to stdout.
pub fn install_panic_hook() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let location = info
                .location()
                .map(|location| format!("{}:{}", location.file(), location.line()))
                .unwrap_or_default();
            let detail = panic_error("hook", info.payload());
            logging::with_error_code(ErrorCode::Panic, || {
                log::error!("recorder panic at {location}: {}", detail.message());
            });
        }));
    });
}
