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
pub mod fork;
mod hooks;
mod signals;
mod state;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pyo3::prelude::*;
use recorder_errors::prelude::*;

use crate::logging;
use crate::monitoring::Installation;
use crate::panics;
use crate::policy::{self, RecorderPolicy};
use crate::stdio::{Capture, CaptureMode, CaptureSettings};

use failure::{fail, Origin};
use signals::TerminationHandlers;
use state::{Recording, StartRequest, State};

/// Sets CLI mode: an `abort` failure in a callback ends the process with the
/// error kind's exit code (after the output is settled).
pub fn set_exit_on_abort(py: Python<'_>, enabled: bool) {
    if fork::ready(py) {
        state::lock(py).exit_on_abort = enabled;
    }
}

/// Whether a recording is active.
pub fn is_tracing(py: Python<'_>) -> bool {
    fork::ready(py) && matches!(state::lock(py).state, State::Recording(_))
}

/// What a recording is started with besides its output.
#[derive(Debug, Clone)]
pub struct StartOptions {
    /// Trace filter files after the builtin default and the project filter,
    /// in chain order; each entry may join several paths with `::`.
    pub trace_filter: Vec<PathBuf>,
    /// Name module code after its globals' `__name__` (policy `module_name_from_globals`).
    pub module_name_from_globals: bool,
    /// How the program's standard streams are captured (policy `io_capture`).
    pub io_capture: CaptureMode,
}

impl Default for StartOptions {
    /// No named filter; module code named after its module; the stream
    /// proxies without the mirror (the policy's defaults).
    fn default() -> StartOptions {
        StartOptions {
            trace_filter: Vec::new(),
            module_name_from_globals: true,
            io_capture: CaptureMode::default(),
        }
    }
}

/// Starts recording into `path` with the default [`StartOptions`] (see [`start_os`]).
pub fn start(
    py: Python<'_>,
    path: impl AsRef<Path>,
    format: &str,
    activation_path: Option<&str>,
) -> RecorderResult<()> {
    start_request(
        py,
        StartRequest {
            path: path.as_ref().to_path_buf(),
            format: format.to_string(),
            activation_path: activation_path.map(PathBuf::from),
            options: StartOptions::default(),
        },
    )
}

/// Starts recording into `path` (paths need not be UTF-8). A pending failure
/// is raised instead (once). A trace filter that cannot be loaded is raised
/// under either policy; under `disable`, any other failure to start is a
/// warning and the program runs untraced.
pub fn start_os(
    py: Python<'_>,
    path: &Path,
    format: &str,
    activation_path: Option<&Path>,
    options: &StartOptions,
) -> RecorderResult<()> {
    start_request(
        py,
        StartRequest {
            path: path.to_path_buf(),
            format: format.to_string(),
            activation_path: activation_path.map(Path::to_path_buf),
            options: options.clone(),
        },
    )
}

fn start_request(py: Python<'_>, request: StartRequest) -> RecorderResult<()> {
    if !fork::ready(py) {
        return Ok(());
    }
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
    let filters = match bootstrap::load_filters(py, &request) {
        Ok(filters) => filters,
        Err(error) => {
            // A configuration error, like a bad policy value: raised whatever the policy.
            state::lock(py).state = match origin {
                Origin::Start { was_lost: true } => State::Lost,
                _ => State::Idle,
            };
            return Err(error);
        }
    };
    let policy = policy::snapshot();
    // A panic while preparing (say, in the filesystem) is a failure to
    // start like any other: under `disable` the program runs untraced.
    let prepared = panics::catch("start", || {
        bootstrap::prepare(py, &request, filters, &policy)
    });
    let tracer = match prepared {
        Ok(tracer) => tracer,
        Err(error) => return fail(py, None, error, origin),
    };
    let mut recording = Recording {
        tracer,
        tool: None,
        capture: None,
        signals: TerminationHandlers::default(),
        request,
        started: Instant::now(),
    };
    match Installation::install(py, callbacks::CALLBACKS) {
        Ok(tool) => recording.tool = Some(tool),
        Err(error) => return fail(py, Some(recording), error, origin),
    }
    hooks::install_process_hooks(py);
    // Before the events go on: installing runs Python code (the streams'
    // `fileno`, `isatty`), which must not reach the callbacks.
    let settings = CaptureSettings::new(
        recording.request.options.io_capture,
        recording.tracer.io_config(),
    );
    log::debug!("IO capture: {settings:?}");
    recording.capture = Some(Capture::install(py, recording.tracer.io_hub(), settings));
    let mut session = state::lock(py);
    if let Err(error) = recording.activate(py) {
        drop(session);
        return fail(py, Some(recording), error, origin);
    }
    recording.signals = hooks::termination_handlers(py);
    let trace_id = recording.request.path.to_string_lossy().into_owned();
    log_started(&recording, &policy);
    session.state = State::Recording(Box::new(recording));
    drop(session);
    logging::set_active_trace_id(Some(trace_id));
    Ok(())
}

/// The `info` line that says what is being recorded, and how.
fn log_started(recording: &Recording, policy: &RecorderPolicy) {
    let policy = serde_json::to_string(policy).unwrap_or_default();
    let tool = recording.tool.as_ref().map(Installation::id);
    log::info!(
        "recording started: dir={} format={} activation={} filters={} tool_id={} pid={} policy={policy}",
        recording.request.path.display(),
        recording.tracer.format().as_str(),
        recording
            .request
            .activation_path
            .as_deref()
            .map_or_else(|| "none".to_string(), |path| path.display().to_string()),
        recording.tracer.filter_names().join(", "),
        tool.map_or_else(|| "none".to_string(), |id| id.to_string()),
        std::process::id(),
    );
}

/// Stops recording without an exit status (see [`stop_with_exit_code`]).
pub fn stop(py: Python<'_>) -> RecorderResult<()> {
    stop_with_exit_code(py, None)
}

/// Stops recording and settles the output; `exit_code` is the program's exit
/// status for the metadata (`process_exit_status`). Raises a pending failure
/// (once); a no-op when nothing is recording.
pub fn stop_with_exit_code(py: Python<'_>, exit_code: Option<i64>) -> RecorderResult<()> {
    if !fork::ready(py) {
        return Ok(());
    }
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
        State::Recording(mut recording) => {
            recording.tracer.set_exit_status(exit_code);
            finish(py, *recording, &policy)
        }
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

/// Hands buffered events to the file and the operating system (they survive
/// the process being killed). Raises a pending failure (once).
pub fn flush(py: Python<'_>) -> RecorderResult<()> {
    if !fork::ready(py) {
        return Ok(());
    }
    let mut session = state::lock(py);
    if let Some(error) = session.take_failed() {
        return Err(error);
    }
    let Some(recording) = session.recording() else {
        return Ok(());
    };
    // Caught here, so the error takes the one failure path (raised once
    // under `abort`, a warning under `disable`) and the lock is not poisoned.
    let Err(error) = panics::catch("flush", || recording.tracer.flush()) else {
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
            log_finished(&recording, "complete");
            state::lock(py).state = State::Idle;
            Ok(())
        }
        Err(error) => fail(py, Some(recording), error, Origin::Stop),
    }
}

/// The `info` line that says how a recording ended.
fn log_finished(recording: &Recording, outcome: &str) {
    let bytes = recording
        .tracer
        .output_bytes()
        .map_or_else(|| "unknown".to_string(), |bytes| bytes.to_string());
    log::info!(
        "recording finished: outcome={outcome} dir={} events={} bytes={bytes} duration_ms={}",
        recording.request.path.display(),
        recording.tracer.event_count(),
        recording.started.elapsed().as_millis(),
    );
}

/// SIGTERM or SIGHUP reached the recorder's handler: the recording is
/// finished marked partial (`ERR_TERMINATED`), then the process ends by
/// that signal as it would have without the handler. A session that cannot
/// be had within a second (the signal interrupted the thread holding it) is
/// left unfinished: its staging directory stays for `recover`.
pub fn terminate(py: Python<'_>, signal: i32) -> ! {
    let name = signals::name(signal);
    if !fork::inherited() {
        let recording =
            state::lock_within(py, Duration::from_secs(1)).and_then(|mut s| s.take_recording());
        if let Some(mut recording) = recording {
            let _ = recording.detach(py);
            let error = enverr!(
                ErrorCode::Terminated,
                "the program was ended by {name}; the trace was finished marked partial";
                "signal" = name.clone()
            );
            let settled = panics::catch("terminate", || {
                let settlement = recording.tracer.settle_failed(&error, true);
                settlement.error.map_or(Ok(()), Err)
            });
            match settled {
                Ok(()) => log_finished(&recording, "partial (ERR_TERMINATED)"),
                Err(settle_error) => logging::with_error_code(settle_error.code(), || {
                    log::error!("{name}: the trace could not be kept partial: {settle_error}");
                }),
            }
            std::mem::forget(recording);
            if let Some(mut session) = state::lock_within(py, Duration::from_millis(100)) {
                session.state = State::Idle;
            }
        }
    }
    signals::die_by(signal)
}

/// `os.exec*` is about to replace the process image: the recording is
/// finished as by `stop()` (the program's run ends here). A failure is
/// never raised (from the audit hook it would fail the exec inside the
/// program): under `abort` in CLI mode the process ends with the error's
/// exit code, as after a failed callback; otherwise it is logged (with its
/// trailer) and the exec goes on.
pub fn before_exec(py: Python<'_>) {
    if fork::inherited() || !is_tracing(py) {
        return;
    }
    log::debug!("os.exec: finishing the recording before the process image is replaced");
    let Err(error) = stop(py) else {
        return;
    };
    let exit_on_abort = state::lock(py).exit_on_abort;
    if exit_on_abort && policy::snapshot().on_recorder_error == policy::OnRecorderError::Abort {
        failure::exit_process(py, &error);
    }
    logging::with_error_code(error.code(), || {
        log::error!("os.exec: the trace could not be finished: {error}");
    });
    logging::trailer::emit(&error);
}
