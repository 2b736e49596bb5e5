//! What happens after a recorder failure: settle the output (partial or
//! absent per policy), count the detach, then abort or disable.
//!
//! The surfaced error keeps the code of its cause (`ERR_DISK_FULL`,
//! `ERR_PANIC`, ...); its context says how the output was left (`output` =
//! `partial` / `absent`) and, when settling failed too, why (`settle_error`).

use std::io::Write;

use pyo3::prelude::*;
use recorder_errors::prelude::*;

use crate::logging;
use crate::policy::{OnRecorderError, RecorderPolicy};
use crate::runtime::RuntimeTracer;

/// Settles `tracer`'s output after `error` and returns the error to surface,
/// its context saying what is really on disk: `output` (`partial`, `absent`,
/// or `partial-leftovers` when cleanup could not remove everything), then
/// `leftovers` and `cleanup_error` when something is left, and
/// `settle_error` when the partial trace asked for could not be kept.
pub fn settle(
    tracer: &mut RuntimeTracer,
    error: RecorderError,
    policy: &RecorderPolicy,
) -> RecorderError {
    let settlement = tracer.settle_failed(&error, policy.keep_partial_trace);
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
pub fn warn_disabled(error: &RecorderError) {
    logging::with_error_code(error.code(), || {
        log::warn!("codetracer recorder disabled, the program continues untraced: {error}");
    });
}

/// CLI mode after an `abort` failure: flush the program's output, report the
/// error on stderr (and the JSON trailer), exit with the kind's code.
pub fn exit_process(py: Python<'_>, error: &RecorderError) -> ! {
    if let Ok(sys) = py.import("sys") {
        for stream in ["stdout", "stderr"] {
            if let Ok(stream) = sys.getattr(stream) {
                let _ = stream.call_method0("flush");
            }
        }
    }
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "codetracer-python-recorder: {error}");
    let _ = stderr.flush();
    drop(stderr);
    logging::trailer::emit(error);
    // SAFETY: `_exit` ends the process at once; nothing runs after it.
    unsafe { libc::_exit(error.exit_code()) }
}

/// Whether `policy` swallows errors.
pub fn is_disable(policy: &RecorderPolicy) -> bool {
    policy.on_recorder_error == OnRecorderError::Disable
}
