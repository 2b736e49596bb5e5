//! No writer thread lives across a `fork()`.
//!
//! CPython 3.12+ counts the process's threads right after `os.fork()` (in
//! the parent, from `/proc/self/stat`) and prints a `DeprecationWarning`
//! into the program's stderr when there is more than one. The recorder must
//! not change what the program prints, so a `pthread_atfork` prepare
//! handler drains the queue of every writer ([`super::worker`]) and joins
//! its thread before the fork, and holds the gate every thread start takes
//! until the fork is done (released by the parent and child handlers), so
//! no thread starts in between. Nothing restarts a thread in those handlers:
//! the next chunk handed over does. A fork child therefore never inherits a
//! writer thread's locks half-taken either.

use std::cell::RefCell;
use std::sync::{Arc, Mutex, MutexGuard, Once, Weak};

use super::worker::Lane;

/// Every writer's lane (dead ones are dropped at the next registration).
/// Its lock is the gate: a writer uses its lane (and starts its thread)
/// only with it held, so the prepare handler, which holds it until the fork
/// is done, finds every lane free and no thread starts before the fork.
static LANES: Mutex<Vec<Weak<Mutex<Lane>>>> = Mutex::new(Vec::new());

/// The held gate.
pub type Gate = MutexGuard<'static, Vec<Weak<Mutex<Lane>>>>;

thread_local! {
    /// The gate, held by the forking thread from the prepare handler until
    /// the parent or child handler.
    static HELD: RefCell<Option<Gate>> = const { RefCell::new(None) };
}

/// The gate, held while a writer uses its lane.
pub fn gate() -> Gate {
    LANES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Puts `lane` under the fork handlers (installed on first use).
pub fn register(lane: &Arc<Mutex<Lane>>) {
    install_hooks();
    let mut lanes = gate();
    lanes.retain(|lane| lane.strong_count() > 0);
    lanes.push(Arc::downgrade(lane));
}

/// Before `fork()`: every writer thread drains its queue and ends; the
/// gate stays held until the fork is done.
pub(super) extern "C" fn prepare() {
    let lanes = gate();
    for lane in lanes.iter().filter_map(Weak::upgrade) {
        match lane.lock() {
            Ok(mut lane) => lane.park(),
            Err(poisoned) => poisoned.into_inner().park(),
        }
    }
    let _ = HELD.try_with(|held| {
        if let Ok(mut held) = held.try_borrow_mut() {
            *held = Some(lanes);
        }
    });
}

/// After `fork()`, in the parent and in the child: the gate opens again.
pub(super) extern "C" fn release() {
    let _ = HELD.try_with(|held| {
        if let Ok(mut held) = held.try_borrow_mut() {
            held.take();
        }
    });
}

/// Installs the fork handlers, once per process.
fn install_hooks() {
    static HOOKS: Once = Once::new();
    HOOKS.call_once(|| {
        // SAFETY: `prepare` runs in the forking thread before fork, where locking and
        // joining threads is allowed; `release` only drops the guard that thread took
        // in `prepare` (an atomic store, at most a futex wake): safe in the child too.
        let status = unsafe { libc::pthread_atfork(Some(prepare), Some(release), Some(release)) };
        if status != 0 {
            log::warn!("cannot install the writer's fork hook (pthread_atfork: {status})");
        }
    });
}
