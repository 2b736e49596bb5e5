//! The one path every recorder failure takes ([`fail()`]): detach the tool,
//! settle the output (partial or absent per policy), count the detach, then
//! abort or disable.
//!
//! The surfaced error keeps the code of its cause (`ERR_DISK_FULL`,
//! `ERR_PANIC`, ...); its context says how the output was left (`output` =
//! `partial` / `absent`) and, when settling failed too, why (`settle_error`).

use pyo3::prelude::*;
use recorder_errors::prelude::*;

use super::state::{self, Recording, State};
use crate::logging;
use crate::policy::{self, OnRecorderError};
use crate::tracer::RuntimeTracer;

/// Where a failure happened; it decides what the policy does with the error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Origin {
    /// `start`, before the recording was live (it keeps nothing, is not
    /// counted as a detach); under `abort` the session goes back to where it
    /// was (`was_lost`).
    Start {
        /// The session was `Lost` before this start.
        was_lost: bool,
    },
    /// A monitoring callback: under `abort` the error waits for the next API
    /// call, or ends the process in CLI mode.
    Callback,
    /// `flush`: under `abort` it raises the error.
    Flush,
    /// `stop` finishing the trace: under `abort` it raises the error; a
    /// missing trace is raised under `disable` too.
    Stop,
}

/// Ends the session after `error`: detaches and settles `recording` (when
/// there is one), counts the detach, then applies the policy and leaves the
/// session in its next state. Returns what the API call reports: the error
/// under `abort` (except from a callback, where it waits), nothing under
/// `disable`, after one warning.
pub(super) fn fail(
    py: Python<'_>,
    recording: Option<Recording>,
    error: RecorderError,
    origin: Origin,
) -> RecorderResult<()> {
    let policy = policy::snapshot();
    let starting = matches!(origin, Origin::Start { .. });
    let error = match recording {
        Some(mut recording) => {
            if let Err(detach_error) = recording.detach(py) {
                log::warn!("detaching the monitoring tool failed: {detach_error}");
            }
            // A recording that never started keeps nothing.
            let keep_partial = policy.keep_partial_trace && !starting;
            settle(&mut recording.tracer, error, keep_partial)
        }
        None => error,
    };
    if !starting {
        logging::metrics::record_detach(error.code().as_str());
    }
    logging::set_active_trace_id(None);
    let missing_trace = origin == Origin::Stop && error.code() == ErrorCode::TraceMissing;
    if policy.on_recorder_error == OnRecorderError::Disable && !missing_trace {
        warn_disabled(&error);
        let next = if origin == Origin::Stop {
            State::Idle
        } else {
            State::Lost
        };
        state::lock(py).state = next;
        return Ok(());
    }
    let mut session = state::lock(py);
    match origin {
        Origin::Start { was_lost } => {
            session.state = if was_lost { State::Lost } else { State::Idle };
            Err(error)
        }
        Origin::Callback if session.exit_on_abort => {
            drop(session);
            exit_process(py, &error)
        }
        Origin::Callback => {
            session.state = State::Failed(error);
            Ok(())
        }
        Origin::Flush | Origin::Stop => {
            session.state = State::Idle;
            Err(error)
        }
    }
}

/// Settles `tracer`'s output after `error` and returns the error to surface,
/// its context saying what is really on disk: `output` (`partial`, `absent`,
/// or `partial-leftovers` when cleanup could not remove everything), then
/// `leftovers` and `cleanup_error` when something is left, and
/// `settle_error` when the partial trace asked for could not be kept.
fn settle(tracer: &mut RuntimeTracer, error: RecorderError, keep_partial: bool) -> RecorderError {
    let settlement = tracer.settle_failed(&error, keep_partial);
    let output = settlement
        .settled
        .as_ref()
        .map_or("absent", |settled| settled.describe());
    let mut error = error.with_context("output", output);
    if let Some(settled) = settlement.settled.as_ref() {
        if !settled.leftovers().is_empty() {
            error.set_context("leftovers", settled.leftovers_text());
        }
        if let Some(cleanup_error) = settled.cleanup_error() {
            error.set_context("cleanup_error", cleanup_error);
        }
    }
    if let Some(settle_error) = settlement.error {
        error.set_context("settle_error", settle_error);
    }
    error
}

/// One structured warning for an error the `disable` policy swallows.
fn warn_disabled(error: &RecorderError) {
    logging::with_error_code(error.code(), || {
        log::warn!("codetracer recorder disabled, the program continues untraced: {error}");
    });
}

/// CLI mode after an `abort` failure: flush the program's output, report the
/// error on stderr (and the JSON trailer), exit with the kind's code.
pub(super) fn exit_process(py: Python<'_>, error: &RecorderError) -> ! {
    if let Ok(sys) = py.import("sys") {
        for stream in ["stdout", "stderr"] {
            if let Ok(stream) = sys.getattr(stream) {
                let _ = stream.call_method0("flush");
            }
        }
    }
    logging::stderr::write_all(format!("codetracer-python-recorder: {error}\n").as_bytes());
    logging::trailer::emit(error);
    // SAFETY: `_exit` ends the process at once; nothing runs after it.
    unsafe { libc::_exit(error.exit_code()) }
}
