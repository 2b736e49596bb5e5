//! Rust panics inside the recorder: caught where recorder code is entered
//! (the FFI functions, the monitoring callbacks, finishing a trace) and turned
//! into `ERR_PANIC` errors, and the process-wide hook that logs them instead
//! of printing the default message into the program's stderr.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

use recorder_errors::prelude::*;

use crate::logging;

/// Runs `body`; a panic becomes an `ERR_PANIC` error, counted with
/// `record_panic(label)`.
pub(crate) fn catch<T>(
    label: &'static str,
    body: impl FnOnce() -> RecorderResult<T>,
) -> RecorderResult<T> {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(result) => result,
        Err(payload) => {
            logging::metrics::record_panic(label);
            Err(panic_error(label, payload.as_ref()))
        }
    }
}

/// The `ERR_PANIC` error for a panic caught on another thread (the
/// writer thread), counted with `record_panic(label)` on the calling thread.
pub(crate) fn caught(label: &'static str, payload: &(dyn Any + Send)) -> RecorderError {
    logging::metrics::record_panic(label);
    panic_error(label, payload)
}

/// The `ERR_PANIC` error for a caught panic.
fn panic_error(label: &str, payload: &(dyn Any + Send)) -> RecorderError {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".to_string());
    bug!(ErrorCode::Panic, "panic in the recorder ({label}): {detail}"; "label" = label)
}

/// Replaces the default panic message (which would interleave with the
/// program's stderr) by one structured log record; never writes to stdout.
pub(crate) fn install_hook() {
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
