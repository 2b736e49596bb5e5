//! Correlation fields carried by every log line and trailer: `run_id`,
//! `trace_id` and the `error_code` of the enclosing scope.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::{LazyLock, RwLock};

use recorder_errors::ErrorCode;

static RUN_ID: LazyLock<String> = LazyLock::new(new_run_id);
static TRACE_ID: RwLock<Option<String>> = RwLock::new(None);

thread_local! {
    static ERROR_CODE: Cell<Option<ErrorCode>> = const { Cell::new(None) };
}

/// A random 128-bit id in UUID text form, from the process's randomly keyed
/// hasher, the pid and the clock (no extra dependency needed).
fn new_run_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let mut halves = [0u64; 2];
    for (salt, half) in halves.iter_mut().enumerate() {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u128(now);
        hasher.write_u32(std::process::id());
        hasher.write_usize(salt);
        *half = hasher.finish();
    }
    let [high, low] = halves;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        high >> 32,
        (high >> 16) & 0xffff,
        high & 0xffff,
        low >> 48,
        low & 0xffff_ffff_ffff
    )
}

/// The id of this process's run: the same for every log line and trailer.
pub fn run_id() -> &'static str {
    &RUN_ID
}

/// Sets (when a trace starts) or clears (when it stops) the active trace id.
pub fn set_active_trace_id(trace_id: Option<String>) {
    *TRACE_ID
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = trace_id;
}

/// The active trace id, if a trace is running.
pub fn active_trace_id() -> Option<String> {
    TRACE_ID
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
}

/// Runs `scope` with `code` as the `error_code` of every log line it writes on
/// this thread; the previous code is restored afterwards, even on unwind.
pub fn with_error_code<R>(code: ErrorCode, scope: impl FnOnce() -> R) -> R {
    struct Restore(Option<ErrorCode>);
    impl Drop for Restore {
        fn drop(&mut self) {
            ERROR_CODE.with(|cell| cell.set(self.0));
        }
    }
    let _restore = Restore(ERROR_CODE.with(|cell| cell.replace(Some(code))));
    scope()
}

/// The `error_code` of the innermost [`with_error_code`] scope on this thread.
pub fn current_error_code() -> Option<ErrorCode> {
    ERROR_CODE.with(Cell::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_id_is_stable_and_looks_like_a_uuid() {
        assert_eq!(run_id(), run_id());
        assert_eq!(run_id().len(), 36);
        assert_eq!(run_id().matches('-').count(), 4);
    }

    #[test]
    fn error_code_scopes_nest_and_restore() {
        assert_eq!(current_error_code(), None);
        with_error_code(ErrorCode::DiskFull, || {
            assert_eq!(current_error_code(), Some(ErrorCode::DiskFull));
            with_error_code(ErrorCode::Panic, || {
                assert_eq!(current_error_code(), Some(ErrorCode::Panic));
            });
            assert_eq!(current_error_code(), Some(ErrorCode::DiskFull));
        });
        assert_eq!(current_error_code(), None);
    }
}
