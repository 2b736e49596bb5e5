//! The monitoring callbacks: one `#[pyfunction]` per event, each handing its
//! event to the tracer through [`dispatch`], and the [`CALLBACKS`] table the
//! session gives `monitoring` to register. [`dispatch`] takes the session lock
//! without blocking, catches panics and sends every failure to
//! [`super::failure::fail`]; a callback never raises into user code.

use std::sync::TryLockError;

use pyo3::prelude::*;
use recorder_errors::prelude::*;

use super::failpoints::callback_failpoint;
use super::failure::{fail, Origin};
use super::fork;
use super::state::{self, State};
use crate::logging;
use crate::monitoring::{outcome_value, CallbackSpec, Outcome};
use crate::panics;
use crate::tracer::RuntimeTracer;

/// Runs a callback body against the recording's tracer: never blocks, never
/// raises into user code. A busy lock (another thread's callback was
/// interrupted) drops the event and counts it. A failure (error, panic,
/// poisoned lock) ends the recording in this same callback.
fn dispatch<F>(py: Python<'_>, label: &'static str, body: F) -> Outcome
where
    F: FnOnce(&mut RuntimeTracer) -> RecorderResult<Outcome>,
{
    let result = panics::catch(label, || {
        if fork::inherited() {
            // A fork child: the recording is the parent's and is never
            // written here; the fork hook or the next API call abandons it.
            return Ok(Outcome::Continue);
        }
        let mut session = match state::try_lock() {
            Ok(session) => session,
            Err(TryLockError::WouldBlock) => {
                logging::metrics::record_dropped_event("tracer_busy");
                return Ok(Outcome::Continue);
            }
            Err(TryLockError::Poisoned(_)) => {
                return Err(bug!(
                    ErrorCode::LockPoisoned,
                    "the tracer lock was poisoned by an earlier panic"
                ));
            }
        };
        let State::Recording(recording) = &mut session.state else {
            return Ok(Outcome::Continue);
        };
        callback_failpoint()?;
        body(&mut recording.tracer)
    });
    match result {
        Ok(outcome) => outcome,
        Err(error) => {
            // Bound first: the lock must be released before `fail` takes it again.
            let recording = state::lock(py).take_recording();
            if recording.is_some() {
                // A callback reports nothing: the error is pending, logged, or
                // ends the process.
                let _ = fail(
                    py,
                    recording,
                    error.with_context("event", label),
                    Origin::Callback,
                );
            }
            Outcome::Continue
        }
    }
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
pub(super) const CALLBACKS: &[CallbackSpec] = &[
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
            t.on_py_resume(&code).map(|_| Outcome::Continue)
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
