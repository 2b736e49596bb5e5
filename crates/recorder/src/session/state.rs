//! The session's one state, behind one lock.
//!
//! Locking: callbacks run with the GIL held and only ever [`try_lock`] (a busy
//! lock drops the event), so no thread blocks on the session while holding
//! the GIL another thread needs. The API functions [`lock`], waiting with the
//! GIL released. `Starting` and `Finishing` mark the stretches where `start`
//! or a failure/`stop` works on a recording with the lock released.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use pyo3::prelude::*;
use recorder_errors::prelude::*;

use super::signals::TerminationHandlers;
use crate::monitoring::Installation;
use crate::stdio::Capture;
use crate::tracer::RuntimeTracer;

/// Where the session is.
#[derive(Debug)]
pub(super) enum State {
    /// Nothing is recording.
    Idle,
    /// Nothing is recording because the last recording was lost under
    /// `disable` (a start that failed, or a failure that detached it): a
    /// `stop` with `require_trace` reports `ERR_TRACE_MISSING`.
    Lost,
    /// `start` is preparing a recording.
    Starting,
    /// A recording is in progress.
    Recording(Box<Recording>),
    /// `stop` or a failure took the recording out to finish or settle it.
    Finishing,
    /// A callback failed under `abort` (API mode): the recording is detached
    /// and settled, and the error waits for the next `start`, `flush` or `stop`.
    Failed(RecorderError),
}

/// One recording: the tracer, the monitoring tool that feeds it events and
/// the IO capture that feeds it the program's IO.
#[derive(Debug)]
pub(super) struct Recording {
    /// Turns events into trace events.
    pub(super) tracer: RuntimeTracer,
    /// The registered tool; `None` only while `start` installs it.
    pub(super) tool: Option<Installation>,
    /// The stream proxies and the mirror; `None` until `start` installs them.
    pub(super) capture: Option<Capture>,
    /// The recorder's SIGTERM/SIGHUP handlers, while they are installed.
    pub(super) signals: TerminationHandlers,
    /// What `start` was asked for (a followed fork records the same way).
    pub(super) request: StartRequest,
    /// When recording started, for the finish log line.
    pub(super) started: Instant,
}

/// The arguments of the `start` that made a recording.
#[derive(Debug, Clone)]
pub(super) struct StartRequest {
    /// The trace directory.
    pub(super) path: PathBuf,
    /// The events format, as given.
    pub(super) format: String,
    /// Record nothing until code from this file starts.
    pub(super) activation_path: Option<PathBuf>,
    /// The trace filters and module naming.
    pub(super) options: super::StartOptions,
}

impl Recording {
    /// Switches the tool's events on.
    pub(super) fn activate(&self, py: Python<'_>) -> RecorderResult<()> {
        match &self.tool {
            Some(tool) => tool.activate(py),
            None => Err(bug!(
                ErrorCode::Unknown,
                "the recording has no monitoring tool to activate"
            )),
        }
    }

    /// Switches the tool off and frees it, gives SIGTERM/SIGHUP back their
    /// default action, and gives the program its streams back (idempotent;
    /// the streams come back even when the tool cannot be uninstalled).
    pub(super) fn detach(&mut self, py: Python<'_>) -> RecorderResult<()> {
        self.signals.restore(py);
        let uninstalled = match &mut self.tool {
            Some(tool) => {
                let freed = tool.uninstall(py);
                log::debug!("detached: monitoring tool {} freed", tool.id());
                freed
            }
            None => Ok(()),
        };
        if let Some(capture) = &mut self.capture {
            capture.uninstall(py);
        }
        uninstalled
    }
}

/// The state and the one setting that goes with it.
#[derive(Debug)]
pub(super) struct Session {
    /// Where the session is.
    pub(super) state: State,
    /// CLI mode: an `abort` failure in a callback ends the process.
    pub(super) exit_on_abort: bool,
}

impl Session {
    /// The recording in progress.
    pub(super) fn recording(&mut self) -> Option<&mut Recording> {
        match &mut self.state {
            State::Recording(recording) => Some(&mut **recording),
            _ => None,
        }
    }

    /// Takes the recording in progress out, leaving `Finishing`.
    pub(super) fn take_recording(&mut self) -> Option<Recording> {
        match std::mem::replace(&mut self.state, State::Finishing) {
            State::Recording(recording) => Some(*recording),
            other => {
                self.state = other;
                None
            }
        }
    }

    /// Takes a pending failure out, leaving `Idle`.
    pub(super) fn take_failed(&mut self) -> Option<RecorderError> {
        match std::mem::replace(&mut self.state, State::Idle) {
            State::Failed(error) => Some(error),
            other => {
                self.state = other;
                None
            }
        }
    }
}

static SESSION: Mutex<Session> = Mutex::new(Session {
    state: State::Idle,
    exit_on_abort: false,
});

/// The session, waiting (with the GIL released) while a callback of another
/// thread holds it; a poisoned lock is recovered (the state it guards is only
/// ever settled afterwards).
pub(super) fn lock(py: Python<'_>) -> MutexGuard<'static, Session> {
    loop {
        match SESSION.try_lock() {
            Ok(session) => return session,
            Err(TryLockError::Poisoned(poison)) => {
                SESSION.clear_poison();
                return poison.into_inner();
            }
            Err(TryLockError::WouldBlock) => {
                py.detach(|| std::thread::sleep(Duration::from_millis(1)))
            }
        }
    }
}

/// The session, waiting at most `patience` (with the GIL released): for the
/// paths that must never hang, such as a signal handler that may have
/// interrupted the very thread holding the lock.
pub(super) fn lock_within(
    py: Python<'_>,
    patience: Duration,
) -> Option<MutexGuard<'static, Session>> {
    let deadline = Instant::now() + patience;
    loop {
        match SESSION.try_lock() {
            Ok(session) => return Some(session),
            Err(TryLockError::Poisoned(poison)) => {
                SESSION.clear_poison();
                return Some(poison.into_inner());
            }
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                py.detach(|| std::thread::sleep(Duration::from_millis(1)))
            }
            Err(TryLockError::WouldBlock) => return None,
        }
    }
}

/// The session if nobody holds it (for callbacks, which never wait).
pub(super) fn try_lock(
) -> Result<MutexGuard<'static, Session>, TryLockError<MutexGuard<'static, Session>>> {
    SESSION.try_lock()
}
