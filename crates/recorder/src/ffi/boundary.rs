//! Where recorder errors become Python exceptions: every `#[pyfunction]` runs
//! its body through [`guard`], so errors and panics never cross into Python
//! any other way.

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use recorder_errors::prelude::*;

use crate::{logging, panics};

/// The Python module defining the exception classes.
pub const ERRORS_MODULE: &str = "codetracer_python_recorder.errors";

/// Runs `body`, mapping its error to the package's exception class and a panic
/// to `InternalError` (`ERR_PANIC`, counted with `record_panic(label)`).
pub fn guard<T>(label: &'static str, body: impl FnOnce() -> RecorderResult<T>) -> PyResult<T> {
    panics::catch(label, body).map_err(to_py_err)
}

/// The Python exception for `error`: an instance of the class of its kind from
/// `codetracer_python_recorder.errors` with `code`, `kind` and `context`; a
/// plain `Exception` with the text when that module cannot be used. Writes the
/// JSON trailer first (when the policy asks for it) and marks the instance
/// `_reported`, so the package's Python code never writes a second one.
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
    instance.setattr("_reported", true)?;
    if instance.is_instance_of::<pyo3::exceptions::PyBaseException>() {
        Ok(instance)
    } else {
        Err(PyException::new_err("not an exception"))
    }
}
