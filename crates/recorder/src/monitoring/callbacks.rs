//! The monitoring callbacks and the one table that drives their registration
//! and teardown. Every callback goes through [`crate::session::dispatch`], which
//! takes the tracer lock without blocking, catches panics and applies the
//! failure policy; a callback never raises into user code.

use pyo3::prelude::*;

use super::api::outcome_value;
use crate::runtime::RuntimeTracer;
use crate::session::dispatch;

/// One monitoring event the recorder listens to.
#[derive(Debug, Clone, Copy)]
pub struct CallbackSpec {
    /// Name in `sys.monitoring.events`.
    pub event: &'static str,
    /// Builds the Python callable registered for the event.
    pub make: for<'py> fn(Python<'py>) -> PyResult<Bound<'py, PyAny>>,
}

macro_rules! spec {
    ($event:literal, $func:ident) => {
        CallbackSpec {
            event: $event,
            make: |py| wrap_pyfunction!($func, py).map(Bound::into_any),
        }
    };
}

/// Every event the recorder handles, with its callback.
pub const CALLBACKS: &[CallbackSpec] = &[
    spec!("PY_START", on_py_start),
    spec!("PY_RESUME", on_py_resume),
    spec!("PY_RETURN", on_py_return),
    spec!("PY_YIELD", on_py_yield),
    spec!("PY_UNWIND", on_py_unwind),
    spec!("PY_THROW", on_py_throw),
    spec!("LINE", on_line),
    spec!("RAISE", on_raise),
    spec!("RERAISE", on_reraise),
    spec!("EXCEPTION_HANDLED", on_exception_handled),
];

/// `PY_START(code, instruction_offset)`.
#[pyfunction]
fn on_py_start(py: Python<'_>, code: Bound<'_, PyAny>, _offset: i64) -> Py<PyAny> {
    outcome_value(
        py,
        dispatch(py, "PY_START", |t: &mut RuntimeTracer| t.on_py_start(&code)),
    )
}

/// `PY_RESUME(code, instruction_offset)`.
#[pyfunction]
fn on_py_resume(py: Python<'_>, code: Bound<'_, PyAny>, _offset: i64) -> Py<PyAny> {
    outcome_value(
        py,
        dispatch(py, "PY_RESUME", |t: &mut RuntimeTracer| {
            t.on_py_resume(&code)
        }),
    )
}

/// `PY_RETURN(code, instruction_offset, retval)`.
#[pyfunction]
fn on_py_return(
    py: Python<'_>,
    code: Bound<'_, PyAny>,
    _offset: i64,
    retval: Bound<'_, PyAny>,
) -> Py<PyAny> {
    outcome_value(
        py,
        dispatch(py, "PY_RETURN", |t: &mut RuntimeTracer| {
            t.on_py_return(&code, &retval)
        }),
    )
}

/// `PY_YIELD(code, instruction_offset, retval)`.
#[pyfunction]
fn on_py_yield(
    py: Python<'_>,
    code: Bound<'_, PyAny>,
    _offset: i64,
    retval: Bound<'_, PyAny>,
) -> Py<PyAny> {
    outcome_value(
        py,
        dispatch(py, "PY_YIELD", |t: &mut RuntimeTracer| {
            t.on_py_return(&code, &retval)
        }),
    )
}

/// `PY_UNWIND(code, instruction_offset, exception)`.
#[pyfunction]
fn on_py_unwind(
    py: Python<'_>,
    code: Bound<'_, PyAny>,
    _offset: i64,
    exception: Bound<'_, PyAny>,
) -> Py<PyAny> {
    outcome_value(
        py,
        dispatch(py, "PY_UNWIND", |t: &mut RuntimeTracer| {
            t.on_py_unwind(&code, &exception)
        }),
    )
}

/// `PY_THROW(code, instruction_offset, exception)`.
#[pyfunction]
fn on_py_throw(
    py: Python<'_>,
    code: Bound<'_, PyAny>,
    _offset: i64,
    _exception: Bound<'_, PyAny>,
) -> Py<PyAny> {
    outcome_value(
        py,
        dispatch(py, "PY_THROW", |t: &mut RuntimeTracer| {
            // PY_THROW is not a local event: it must never return DISABLE.
            t.on_py_resume(&code)
                .map(|_| crate::monitoring::Outcome::Continue)
        }),
    )
}

/// `LINE(code, line_number)`.
#[pyfunction]
fn on_line(py: Python<'_>, code: Bound<'_, PyAny>, line: i64) -> Py<PyAny> {
    outcome_value(
        py,
        dispatch(py, "LINE", |t: &mut RuntimeTracer| t.on_line(&code, line)),
    )
}

/// Defines an `(code, instruction_offset, exception)` callback that records the
/// exception with `label`.
macro_rules! exception_callback {
    ($(#[$doc:meta])* $name:ident, $event:literal, $label:literal) => {
        $(#[$doc])*
        #[pyfunction]
        fn $name(
            py: Python<'_>,
            code: Bound<'_, PyAny>,
            _offset: i64,
            exception: Bound<'_, PyAny>,
        ) -> Py<PyAny> {
            outcome_value(
                py,
                dispatch(py, $event, |t: &mut RuntimeTracer| {
                    t.on_exception(&code, &exception, $label)
                }),
            )
        }
    };
}

exception_callback!(
    /// `RAISE(code, instruction_offset, exception)`.
    on_raise, "RAISE", "raise"
);
exception_callback!(
    /// `RERAISE(code, instruction_offset, exception)`.
    on_reraise, "RERAISE", "reraise"
);
exception_callback!(
    /// `EXCEPTION_HANDLED(code, instruction_offset, exception)`.
    on_exception_handled, "EXCEPTION_HANDLED", "exception_handled"
);
