//! The recording session: one state machine ([`state`]) behind one lock,
//! started and stopped from Python, fed by the monitoring [`callbacks`], with
//! one path for every failure ([`failure::fail`]).
//!
//! | state | `start` | `flush` | `stop` | a callback |
//! |---|---|---|---|---|
//! | `Idle` | `Starting` → `Recording` | no-op | no-op | ignored |
//! | `Lost` | as `Idle` | no-op | `Idle`; `ERR_TRACE_MISSING` with `require_trace` | ignored |
//! | `Recording` | `ERR_ALREADY_TRACING` | flushes | `Finishing` → `Idle` | recorded |
//! | `Starting`, `Finishing` | `ERR_ALREADY_TRACING` | no-op | no-op | ignored |
//! | `Failed` | raises the error, `Idle` | raises the error, `Idle` | raises the error, `Idle` | ignored |
//!
//! A failure while starting, flushing, stopping or inside a callback goes
//! through [`failure::fail`], which settles the output and picks the next
//! state from the policy: `Lost` under `disable` (`Idle` after `stop`),
//! `Failed` for a callback under `abort` (or the process exits in CLI mode),
//! otherwise the error is returned.

mod bootstrap;
mod callbacks;
mod failpoints;
mod failure;
mod state;

use pyo3::prelude::*;
use recorder_errors::prelude::*;

use crate::logging;
use crate::monitoring::Installation;
use crate::panics;
use crate::policy::{self, RecorderPolicy};
use crate::stdio::Capture;

use failure::{fail, Origin};
use state::{Recording, State};

/// Sets CLI mode: an `abort` failure in a callback ends the process with the
/// error kind's exit code (after the output is settled).
pub fn set_exit_on_abort(py: Python<'_>, enabled: bool) {
    state::lock(py).exit_on_abort = enabled;
}

/// Whether a recording is active.
pub fn is_tracing(py: Python<'_>) -> bool {
    matches!(state::lock(py).state, State::Recording(_))
}

/// Starts recording into `path`. A pending failure is raised instead (once).
/// Under `disable`, a failure to start is a warning and the program runs untraced.
pub fn start(
    py: Python<'_>,
    path: &str,
    format: &str,
    activation_path: Option<&str>,
) -> RecorderResult<()> {
    let origin = {
        let mut session = state::lock(py);
        if let Some(error) = session.take_failed() {
            return Err(error);
        }
        let was_lost = match session.state {
            State::Idle => false,
            State::Lost => true,
            _ => {
                return Err(usage!(
                    ErrorCode::AlreadyTracing,
                    "a trace is already being recorded; stop it first"
                ))
            }
        };
        session.state = State::Starting;
        Origin::Start { was_lost }
    };
    let policy = policy::snapshot();
    let tracer = match bootstrap::prepare(py, path, format, activation_path, &policy) {
        Ok(tracer) => tracer,
        Err(error) => return fail(py, None, error, origin),
    };
    let mut recording = Recording {
        tracer,
        tool: None,
        capture: None,
    };
    match Installation::install(py, callbacks::CALLBACKS) {
        Ok(tool) => recording.tool = Some(tool),
        Err(error) => return fail(py, Some(recording), error, origin),
    }
    // Before the events go on: installing runs Python code (the streams'
    // `fileno`, `isatty`), which must not reach the callbacks.
    recording.capture = Some(Capture::install(
        py,
        recording.tracer.io_hub(),
        policy.io_capture,
    ));
    let mut session = state::lock(py);
    if let Err(error) = recording.activate(py) {
        drop(session);
        return fail(py, Some(recording), error, origin);
    }
    session.state = State::Recording(Box::new(recording));
    drop(session);
    logging::set_active_trace_id(Some(path.to_string()));
    Ok(())
}

/// Stops recording and settles the output. Raises a pending failure (once);
/// a no-op when nothing is recording.
pub fn stop(py: Python<'_>) -> RecorderResult<()> {
    let policy = policy::snapshot();
    let previous = {
        let mut session = state::lock(py);
        match session.state {
            State::Starting | State::Finishing => return Ok(()),
            State::Recording(_) => std::mem::replace(&mut session.state, State::Finishing),
            State::Idle | State::Lost | State::Failed(_) => {
                std::mem::replace(&mut session.state, State::Idle)
            }
        }
    };
    let result = match previous {
        State::Recording(recording) => finish(py, *recording, &policy),
        State::Failed(error) => Err(error),
        State::Lost if policy.require_trace => Err(enverr!(
            ErrorCode::TraceMissing,
            "require_trace is set and the recorder was disabled before producing a trace"
        )),
        _ => Ok(()),
    };
    logging::set_active_trace_id(None);
    result
}

/// Hands buffered events to the file. Raises a pending failure (once).
pub fn flush(py: Python<'_>) -> RecorderResult<()> {
    let mut session = state::lock(py);
    if let Some(error) = session.take_failed() {
        return Err(error);
    }
    let Some(recording) = session.recording() else {
        return Ok(());
    };
    let Err(error) = recording.tracer.flush() else {
        return Ok(());
    };
    let recording = session.take_recording();
    drop(session);
    fail(py, recording, error, Origin::Flush)
}

/// Detaches, hits `recorder::finish`, finishes the trace; a failure goes
/// through [`fail()`].
fn finish(py: Python<'_>, mut recording: Recording, policy: &RecorderPolicy) -> RecorderResult<()> {
    let detached = recording.detach(py);
    let finished = panics::catch("stop", || {
        detached?;
        failpoints::finish_failpoint()?;
        recording.tracer.finish(policy.require_trace)
    });
    match finished {
        Ok(()) => {
            state::lock(py).state = State::Idle;
            Ok(())
        }
        Err(error) => fail(py, Some(recording), error, Origin::Stop),
    }
}
