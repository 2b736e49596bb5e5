//! The `kill` fault: the process ends itself with SIGKILL, exactly as
//! `kill -9` from outside would, at a planned operation or fail point reach.
//! Nothing of the process runs after it (no destructor, no `atexit`, no
//! flush), which is what a recording must survive through `recover`.

use crate::fixture_log::FixtureLog;

/// What the kill fired at, for the fixture log.
#[derive(Debug, Clone, Copy)]
pub(crate) enum KillPoint<'a> {
    /// An operation: its kind and index.
    Op(crate::op::OpKind, u64),
    /// A fail point reach.
    Failpoint(&'a str),
}

/// Logs the kill (`{"event":"kill",...}`) and sends SIGKILL to this process.
pub(crate) fn kill_process(log: Option<&FixtureLog>, at: KillPoint<'_>, rule: &str) -> ! {
    if let Some(log) = log {
        log.kill(at, rule);
    }
    loop {
        // SAFETY: getpid and kill are plain syscalls; SIGKILL cannot be caught,
        // so the process ends here (the loop only covers delivery latency).
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
            libc::pause();
        }
    }
}
