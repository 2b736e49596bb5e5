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

/// Settles `tracer`'s output after `error` and returns the error to surface.
pub fn settle(
    tracer: &mut RuntimeTracer,
    error: RecorderError,
    policy: &RecorderPolicy,
) -> RecorderError {
    let keep = policy.keep_partial_trace;
    match tracer.settle_failed(&error, keep) {
        Ok(()) => error.with_context("output", if keep { "partial" } else { "absent" }),
        Err(settle_error) => error
            .with_context("output", "absent")
            .with_context("settle_error", settle_error.to_string()),
    }
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
