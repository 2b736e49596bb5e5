//! Which process a capture belongs to. A child of `fork()` inherits the
//! parent's proxies, hub and mirror (and their locks, possibly held by a
//! thread that does not exist in the child): it must neither record into
//! them nor wait on those locks. A `pthread_atfork` child hook counts forks;
//! a capture remembers the count it was made under, and in any other process
//! its proxies only forward and its mirror only gives the descriptors back.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

/// Forks this process descends through (bumped in each child).
static FORKS: AtomicU64 = AtomicU64::new(0);

/// The `pthread_atfork` child handler: one atomic add (async-signal-safe).
extern "C" fn count_fork() {
    FORKS.fetch_add(1, Ordering::SeqCst);
}

fn install_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        // SAFETY: `count_fork` only adds to an atomic, which is
        // async-signal-safe as `pthread_atfork` child handlers must be.
        let status = unsafe { libc::pthread_atfork(None, None, Some(count_fork)) };
        if status != 0 {
            log::warn!("IO capture: cannot install its fork hook (pthread_atfork: {status})");
        }
    });
}

/// The process a capture was made in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner(u64);

impl Owner {
    /// The calling process.
    pub fn here() -> Owner {
        install_hook();
        Owner(FORKS.load(Ordering::SeqCst))
    }

    /// Whether the calling process is this one (not a fork child of it):
    /// one atomic load.
    pub fn is_here(self) -> bool {
        FORKS.load(Ordering::Relaxed) == self.0
    }
}

impl Default for Owner {
    /// The calling process.
    fn default() -> Owner {
        Owner::here()
    }
}

#[cfg(test)]
mod tests {
    use super::Owner;

    #[test]
    fn an_owner_is_here_until_a_fork() {
        let owner = Owner::here();
        assert!(owner.is_here());
        super::count_fork();
        assert!(!owner.is_here(), "as seen from a fork child");
        assert!(Owner::here().is_here());
    }
}
