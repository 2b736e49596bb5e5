//! `fork()` while recording. The child inherits the parent's recording: its
//! staged files, buffered events and open descriptors. They belong to the
//! parent, so the child never writes, flushes, renames or removes any of
//! them: at the first chance (the `os.register_at_fork` child hook, else the
//! next API call) it *abandons* the inherited recording (the
//! monitoring tool is switched off in the child, the tracer is leaked,
//! never dropped, so no destructor touches the parent's files).
//!
//! With the `follow_fork` policy the child then records itself into a
//! directory of its own next to the parent's, `<dir>.fork-<pid>` (see
//! [`child_dir`]), under the same contract as any recording.
//!
//! A C-level `pthread_atfork` hook marks every fork, including those made
//! without Python's hooks, so callbacks in a child record nothing from the
//! start (one atomic load per event), even while other fork hooks run
//! Python code before the recorder's.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;
use std::time::Duration;

use pyo3::prelude::*;

use super::state::{self, Recording, Session, StartRequest, State};
use crate::policy;

/// Set in a child of `fork()` until it has abandoned the inherited recording.
static FORKED: AtomicBool = AtomicBool::new(false);

/// Marks the child of any `fork()` (C-level hook: only an atomic store).
extern "C" fn mark_child() {
    FORKED.store(true, Ordering::SeqCst);
}

/// Installs the C-level fork hook, once per process.
pub(super) fn install_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        // SAFETY: `mark_child` only stores to an atomic, which is
        // async-signal-safe as `pthread_atfork` child handlers must be.
        let status = unsafe { libc::pthread_atfork(None, None, Some(mark_child)) };
        if status != 0 {
            log::warn!("cannot install the fork hook (pthread_atfork: {status})");
        }
    });
}

/// Whether this process is a fork child that still holds its parent's recording.
pub(super) fn inherited() -> bool {
    FORKED.load(Ordering::Relaxed)
}

/// The trace directory of the child `pid` of a recording into `parent`:
/// `<parent>.fork-<pid>`, next to it.
pub fn child_dir(parent: &Path, pid: u32) -> PathBuf {
    // `components()` drops a trailing separator: `out/` names `out`.
    let mut name = OsString::from(parent.components().as_path().as_os_str());
    name.push(format!(".fork-{pid}"));
    PathBuf::from(name)
}

/// In a fork child: abandons the inherited recording (if the session can be
/// had within `patience`). Returns the abandoned recording's request when
/// there was one, and whether the session is usable in this process.
fn abandon(py: Python<'_>, patience: Duration) -> (Option<StartRequest>, bool) {
    if !inherited() {
        return (None, true);
    }
    let Some(mut session) = state::lock_within(py, patience) else {
        return (None, false);
    };
    let request = abandon_locked(py, &mut session);
    (request, true)
}

/// [`abandon`] with the session in hand.
fn abandon_locked(py: Python<'_>, session: &mut Session) -> Option<StartRequest> {
    if !FORKED.swap(false, Ordering::SeqCst) {
        return None;
    }
    let previous = std::mem::replace(&mut session.state, State::Idle);
    let State::Recording(recording) = previous else {
        log::debug!("fork child {}: no recording inherited", std::process::id());
        return None;
    };
    let mut recording: Recording = *recording;
    let mut request = recording.request.clone();
    if recording.tracer.activated() {
        // The child continues where the parent already records.
        request.activation_path = None;
    }
    // Interpreter state only: the child's own copy of `sys.monitoring`.
    if let Err(error) = recording.detach(py) {
        log::debug!("fork child: switching the inherited tool off failed: {error}");
    }
    // The tracer's files, buffers and staging directory are the parent's:
    // leaking it means no destructor ever flushes, renames or removes them.
    std::mem::forget(recording);
    crate::logging::set_active_trace_id(None);
    log::debug!(
        "fork child {}: abandoned the parent's recording into {}",
        std::process::id(),
        request.path.display()
    );
    Some(request)
}

/// Whether the session may be used in this process: in a fork child the
/// inherited recording is abandoned first. `false` only when another
/// thread of the parent held the session at the moment of the fork (it
/// does not exist in the child): the child then records nothing.
pub(super) fn ready(py: Python<'_>) -> bool {
    let (_, usable) = abandon(py, Duration::from_millis(200));
    if !usable {
        log::warn!(
            "fork child {}: the recorder's session was held by a thread that does not exist in this process; nothing is recorded here",
            std::process::id()
        );
    }
    usable
}

/// The `os.register_at_fork(after_in_child=...)` hook: abandons the
/// inherited recording and, under `follow_fork`, starts recording this
/// child into `<dir>.fork-<pid>`. Never raises into the program: a child
/// that cannot record is said in the log (under `disable`) or the
/// failure is handled by the policy as any failed start.
pub(super) fn after_in_child(py: Python<'_>) {
    let (request, _) = abandon(py, Duration::from_secs(1));
    let Some(request) = request else {
        return;
    };
    if !policy::with_policy(|policy| policy.follow_fork) {
        return;
    }
    let pid = std::process::id();
    let dir = child_dir(&request.path, pid);
    log::info!(
        "fork child {pid}: following the fork into {}",
        dir.display()
    );
    match super::start_os(
        py,
        &dir,
        &request.format,
        request.activation_path.as_deref(),
        &request.options,
    ) {
        Ok(()) => super::hooks::finish_before_multiprocessing_exit(py),
        Err(error) => crate::logging::with_error_code(error.code(), || {
            log::error!(
                "fork child {pid}: cannot record into {}: {error}",
                dir.display()
            );
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::child_dir;
    use std::path::Path;

    #[test]
    fn a_child_s_directory_sits_next_to_the_parent_s() {
        assert_eq!(
            child_dir(Path::new("/t/trace"), 42),
            Path::new("/t/trace.fork-42")
        );
        assert_eq!(
            child_dir(Path::new("rel/out/"), 7),
            Path::new("rel/out.fork-7")
        );
    }
}
