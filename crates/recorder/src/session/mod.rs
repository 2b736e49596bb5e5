//! The recording session: one global tracer behind a lock, started and stopped
//! from Python, fed by the monitoring callbacks through [`dispatch`].
//!
//! Locking: callbacks run with the GIL held and only ever `try_lock` the tracer
//! (a busy lock drops the event and counts it), so no thread can block on the
//! tracer while holding the GIL another thread needs. The API functions retry,
//! releasing the GIL between attempts.

pub mod bootstrap;
pub mod failure;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::Duration;

use pyo3::prelude::*;
use recorder_errors::prelude::*;

use crate::logging;
use crate::monitoring::{Installation, Outcome};
use crate::panics;
use crate::policy;
use crate::runtime::RuntimeTracer;

/// The recording in progress.
static TRACER: Mutex<Option<RuntimeTracer>> = Mutex::new(None);
/// An `abort` failure from a callback, waiting for the next API call (API mode).
static PENDING: Mutex<Option<RecorderError>> = Mutex::new(None);
/// CLI mode: an `abort` failure in a callback ends the process.
static EXIT_ON_ABORT: AtomicBool = AtomicBool::new(false);
/// A recording is active.
static TRACING: AtomicBool = AtomicBool::new(false);
/// A recording was lost under `disable` (start failed or a failure detached it).
static LOST: AtomicBool = AtomicBool::new(false);

/// Sets CLI mode (see [`EXIT_ON_ABORT`]).
pub fn set_exit_on_abort(enabled: bool) {
    EXIT_ON_ABORT.store(enabled, Ordering::SeqCst);
}

/// Whether a recording is active.
pub fn is_tracing() -> bool {
    TRACING.load(Ordering::SeqCst)
}

/// Starts recording into `path`. A pending failure is raised instead (once).
/// Under `disable`, a failure to start is a warning and the program runs untraced.
pub fn start(
    py: Python<'_>,
    path: &str,
    format: &str,
    activation_path: Option<&str>,
) -> RecorderResult<()> {
    take_pending()?;
    let policy = policy::snapshot();
    match start_inner(py, path, format, activation_path, &policy) {
        Ok(()) => Ok(()),
        Err(error) if failure::is_disable(&policy) && error.code() != ErrorCode::AlreadyTracing => {
            failure::warn_disabled(&error);
            LOST.store(true, Ordering::SeqCst);
            Ok(())
        }
        Err(error) => Err(error),
    }
}

fn start_inner(
    py: Python<'_>,
    path: &str,
    format: &str,
    activation_path: Option<&str>,
    policy: &policy::RecorderPolicy,
) -> RecorderResult<()> {
    ensure_usage!(
        !is_tracing(),
        ErrorCode::AlreadyTracing,
        "a trace is already being recorded; stop it first"
    );
    configure_failpoints()?;
    let preflight = bootstrap::preflight(py, path, format)?;
    let config = bootstrap::tracer_config(py, &preflight, activation_path, policy)?;
    let staged = bootstrap::stage(&preflight)?;
    let mut tracer = RuntimeTracer::create(py, staged, config)?;
    let installation = match Installation::install(py) {
        Ok(installation) => installation,
        Err(error) => return Err(failure::settle(&mut tracer, error, &no_partial(policy))),
    };
    tracer.attach(installation);
    let mut guard = lock_tracer(py);
    *guard = Some(tracer);
    let activated = match guard.as_mut() {
        Some(tracer) => tracer.activate(py),
        None => Ok(()),
    };
    if let Err(error) = activated {
        let tracer = guard.take();
        drop(guard);
        if let Some(mut tracer) = tracer {
            let _ = tracer.detach(py);
            return Err(failure::settle(&mut tracer, error, &no_partial(policy)));
        }
        return Err(error);
    }
    drop(guard);
    TRACING.store(true, Ordering::SeqCst);
    LOST.store(false, Ordering::SeqCst);
    logging::set_active_trace_id(Some(preflight.dir.display().to_string()));
    Ok(())
}

/// Stops recording and settles the output. Raises a pending failure (once);
/// a no-op when nothing is recording.
pub fn stop(py: Python<'_>) -> RecorderResult<()> {
    let pending = take_pending();
    let tracer = lock_tracer(py).take();
    TRACING.store(false, Ordering::SeqCst);
    let policy = policy::snapshot();
    let result = match tracer {
        Some(tracer) => finish(py, tracer, &policy),
        None if LOST.swap(false, Ordering::SeqCst) && policy.require_trace => Err(enverr!(
            ErrorCode::TraceMissing,
            "require_trace is set and the recorder was disabled before producing a trace"
        )),
        None => Ok(()),
    };
    logging::set_active_trace_id(None);
    pending?;
    match result {
        Err(error) if failure::is_disable(&policy) && error.code() != ErrorCode::TraceMissing => {
            failure::warn_disabled(&error);
            Ok(())
        }
        other => other,
    }
}

/// Hands buffered events to the file. Raises a pending failure (once).
pub fn flush(py: Python<'_>) -> RecorderResult<()> {
    take_pending()?;
    let mut guard = lock_tracer(py);
    let Some(tracer) = guard.as_mut() else {
        return Ok(());
    };
    let Err(error) = tracer.flush() else {
        return Ok(());
    };
    let tracer = guard.take();
    drop(guard);
    TRACING.store(false, Ordering::SeqCst);
    let policy = policy::snapshot();
    let Some(mut tracer) = tracer else {
        return Err(error);
    };
    let _ = tracer.detach(py);
    let error = failure::settle(&mut tracer, error, &policy);
    logging::metrics::record_detach(error.code().as_str());
    logging::set_active_trace_id(None);
    if failure::is_disable(&policy) {
        failure::warn_disabled(&error);
        LOST.store(true, Ordering::SeqCst);
        return Ok(());
    }
    Err(error)
}

/// Runs a monitoring callback body against the tracer: never blocks, never
/// raises into user code. A failure (error, panic, poisoned lock) detaches the
/// tool in this same callback, settles the output and applies the policy.
pub fn dispatch<F>(py: Python<'_>, label: &'static str, body: F) -> Outcome
where
    F: FnOnce(&mut RuntimeTracer) -> RecorderResult<Outcome>,
{
    let result = panics::catch(label, || -> RecorderResult<Outcome> {
        let mut guard = match TRACER.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::WouldBlock) => {
                logging::metrics::record_dropped_event("tracer_busy");
                return Ok(Outcome::Continue);
            }
            Err(TryLockError::Poisoned(_)) => {
                return Err(bug!(
                    ErrorCode::LockPoisoned,
                    "the tracer lock was poisoned by an earlier panic"
                ));
            }
        };
        let Some(tracer) = guard.as_mut() else {
            return Ok(Outcome::Continue);
        };
        callback_failpoint()?;
        body(tracer)
    });
    let error = match result {
        Ok(outcome) => return outcome,
        Err(error) => error,
    };
    fail_from_callback(py, error.with_context("event", label));
    Outcome::Continue
}

/// The first callback failure: detach, settle, count, then abort or disable.
fn fail_from_callback(py: Python<'_>, error: RecorderError) {
    let tracer = lock_tracer(py).take();
    TRACING.store(false, Ordering::SeqCst);
    let Some(mut tracer) = tracer else {
        return;
    };
    if let Err(detach_error) = tracer.detach(py) {
        log::warn!("detaching the monitoring tool failed: {detach_error}");
    }
    let policy = policy::snapshot();
    let error = failure::settle(&mut tracer, error, &policy);
    drop(tracer);
    logging::metrics::record_detach(error.code().as_str());
    logging::set_active_trace_id(None);
    if failure::is_disable(&policy) {
        failure::warn_disabled(&error);
        LOST.store(true, Ordering::SeqCst);
    } else if EXIT_ON_ABORT.load(Ordering::SeqCst) {
        failure::exit_process(py, &error);
    } else {
        let mut pending = PENDING.lock().unwrap_or_else(|poison| poison.into_inner());
        pending.get_or_insert(error);
    }
}

/// Detaches, hits `recorder::finish`, finishes the trace; settles it on failure.
fn finish(
    py: Python<'_>,
    mut tracer: RuntimeTracer,
    policy: &policy::RecorderPolicy,
) -> RecorderResult<()> {
    let detached = tracer.detach(py);
    let finished = panics::catch("stop", || {
        detached?;
        finish_failpoint()?;
        tracer.finish(policy.require_trace)
    });
    let Err(error) = finished else {
        return Ok(());
    };
    let error = failure::settle(&mut tracer, error, policy);
    logging::metrics::record_detach(error.code().as_str());
    Err(error)
}

/// The tracer lock, waiting (with the GIL released) while a callback of another
/// thread holds it; a poisoned lock is recovered (its state is only settled).
fn lock_tracer(py: Python<'_>) -> MutexGuard<'static, Option<RuntimeTracer>> {
    loop {
        match TRACER.try_lock() {
            Ok(guard) => return guard,
            Err(TryLockError::Poisoned(poison)) => {
                TRACER.clear_poison();
                return poison.into_inner();
            }
            Err(TryLockError::WouldBlock) => {
                py.detach(|| std::thread::sleep(Duration::from_millis(1)))
            }
        }
    }
}

fn take_pending() -> RecorderResult<()> {
    let pending = PENDING
        .lock()
        .unwrap_or_else(|poison| poison.into_inner())
        .take();
    pending.map_or(Ok(()), Err)
}

/// The policy with `keep_partial_trace` off (a recording that never started keeps nothing).
fn no_partial(policy: &policy::RecorderPolicy) -> policy::RecorderPolicy {
    let mut policy = policy.clone();
    policy.keep_partial_trace = false;
    policy
}

/// `recorder::callback`: `return` fails the callback, `panic` panics with the lock held.
fn callback_failpoint() -> RecorderResult<()> {
    faultfs::note_failpoint("recorder::callback");
    fail::fail_point!("recorder::callback", |arg: Option<String>| {
        Err(bug!(
            ErrorCode::Unknown,
            "fail point recorder::callback returned {}",
            arg.unwrap_or_default()
        ))
    });
    Ok(())
}

/// `recorder::finish`: after callbacks are off, before the output is settled.
fn finish_failpoint() -> RecorderResult<()> {
    faultfs::note_failpoint("recorder::finish");
    fail::fail_point!("recorder::finish", |arg: Option<String>| {
        Err(bug!(
            ErrorCode::Unknown,
            "fail point recorder::finish returned {}",
            arg.unwrap_or_default()
        ))
    });
    Ok(())
}

/// Applies the `recorder::*` entries of `FAILPOINTS` (fixture builds only).
fn configure_failpoints() -> RecorderResult<()> {
    #[cfg(feature = "failure-fixtures")]
    {
        static CONFIGURED: std::sync::Once = std::sync::Once::new();
        let mut result = Ok(());
        CONFIGURED.call_once(|| {
            let spec = std::env::var("FAILPOINTS").unwrap_or_default();
            for entry in spec.split(';') {
                let Some((name, actions)) = entry.split_once('=') else {
                    continue;
                };
                let name = name.trim();
                if !name.starts_with("recorder::") {
                    continue;
                }
                if let Err(why) = fail::cfg(name, actions.trim()) {
                    result = Err(usage!(ErrorCode::InvalidFaultPlan, "invalid FAILPOINTS entry {name}={actions}: {why}";
                        "clause" = format!("{name}={actions}")));
                }
            }
        });
        result
    }
    #[cfg(not(feature = "failure-fixtures"))]
    Ok(())
}
