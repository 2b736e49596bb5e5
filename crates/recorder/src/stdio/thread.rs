//! The calling thread's native id, the one key every layer uses for a thread.

use std::cell::Cell;

thread_local! {
    /// The calling thread's native id, read once per thread.
    static NATIVE_ID: Cell<u64> = const { Cell::new(0) };
}

/// The calling thread's native id (`threading.get_native_id()`, the kernel's
/// thread id). Unlike `threading.get_ident()` it is not reused by the next
/// thread as soon as one ends, so short-lived threads stay apart in the trace.
pub fn current_thread_id() -> u64 {
    NATIVE_ID.with(|cell| {
        let cached = cell.get();
        if cached != 0 {
            return cached;
        }
        // SAFETY: gettid has no preconditions.
        let id = u64::try_from(unsafe { libc::gettid() }).unwrap_or_default();
        cell.set(id);
        id
    })
}
