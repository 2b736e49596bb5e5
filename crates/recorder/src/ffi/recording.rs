//! The recording functions (`start_tracing`, `stop_tracing`, `is_tracing`,
//! `flush_tracing`, `set_exit_on_abort`) and the interpreter-exit hook that
//! finishes a recording nobody stopped.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Once;

use pyo3::prelude::*;

use super::guard;
use crate::session::{self, StartOptions};
use crate::stdio::CaptureMode;

/// Registers the recording functions on the native module.
pub(super) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(start_tracing, module)?)?;
    module.add_function(wrap_pyfunction!(stop_tracing, module)?)?;
    module.add_function(wrap_pyfunction!(is_tracing, module)?)?;
    module.add_function(wrap_pyfunction!(flush_tracing, module)?)?;
    module.add_function(wrap_pyfunction!(set_exit_on_abort, module)?)?;
    Ok(())
}

/// Starts recording into the directory `path` (`format`: `json` or `binary`;
/// with `activation_path`, nothing is recorded until code from that file
/// runs). Paths may be `str` (any text `os.fsdecode` gives, so not
/// necessarily UTF-8), `bytes` or path-like. `trace_filter`: filter files
/// after the builtin default and the project filter, in chain order (each may
/// join paths with `::`); `module_name_from_globals`: name module code after
/// its `__name__`; `io_capture`: `(line_proxies, fd_fallback)`, how the
/// program's standard streams are captured (default: the proxies alone).
#[pyfunction]
#[pyo3(signature = (path, format = "json", activation_path = None, *, trace_filter = None, module_name_from_globals = true, io_capture = None))]
fn start_tracing(
    py: Python<'_>,
    path: PathBuf,
    format: &str,
    activation_path: Option<PathBuf>,
    trace_filter: Option<Vec<PathBuf>>,
    module_name_from_globals: bool,
    io_capture: Option<(bool, bool)>,
) -> PyResult<()> {
    let options = StartOptions {
        trace_filter: trace_filter.unwrap_or_default(),
        module_name_from_globals,
        io_capture: io_capture.map_or_else(CaptureMode::default, |(line_proxies, fd_fallback)| {
            CaptureMode {
                line_proxies,
                fd_fallback,
            }
        }),
    };
    guard("start_tracing", || {
        session::start_os(py, &path, format, activation_path.as_deref(), &options)
    })?;
    if session::is_tracing(py) {
        register_atexit(py);
    }
    Ok(())
}

/// Stops recording and writes the trace; a no-op when not recording.
/// `exit_code` is the program's exit status, written to the metadata.
#[pyfunction]
#[pyo3(signature = (exit_code = None))]
fn stop_tracing(py: Python<'_>, exit_code: Option<i64>) -> PyResult<()> {
    guard("stop_tracing", || {
        session::stop_with_exit_code(py, exit_code)
    })
}

/// Whether a recording is active.
#[pyfunction]
fn is_tracing(py: Python<'_>) -> bool {
    session::is_tracing(py)
}

/// Hands buffered events to the trace file.
#[pyfunction]
fn flush_tracing(py: Python<'_>) -> PyResult<()> {
    guard("flush_tracing", || session::flush(py))
}

/// CLI mode: an `abort` failure inside a callback ends the process with the
/// error kind's exit code (after the output is settled).
#[pyfunction]
fn set_exit_on_abort(py: Python<'_>, enabled: bool) {
    session::set_exit_on_abort(py, enabled);
}

/// Registers [`stop_at_exit`] with `atexit`, once per process, after the
/// first recording started.
fn register_atexit(py: Python<'_>) {
    static REGISTERED: Once = Once::new();
    REGISTERED.call_once(|| {
        let registered = wrap_pyfunction!(stop_at_exit, py).and_then(|hook| {
            py.import("atexit")?
                .call_method1("register", (hook,))
                .map(drop)
        });
        if let Err(error) = registered {
            log::warn!("cannot register the interpreter-exit hook: {error}");
        }
    });
}

/// `atexit` hook: finishes a recording nobody stopped. Nobody can catch an
/// error there, so it is reported on file descriptor 2 (with its JSON
/// trailer), never through the program's `sys.stderr`, which may be closed
/// or replaced by now; the exit status stays the program's.
#[pyfunction]
fn stop_at_exit(py: Python<'_>) {
    if let Err(error) = crate::panics::catch("atexit", || session::stop(py)) {
        // What the program's own streams still buffer goes first.
        if let Ok(sys) = py.import("sys") {
            for stream in ["stdout", "stderr"] {
                if let Ok(stream) = sys.getattr(stream) {
                    let _ = stream.call_method0("flush");
                }
            }
        }
        crate::logging::trailer::emit(&error);
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(
            stderr,
            "codetracer-python-recorder: finishing the recording at interpreter exit failed: {error}"
        );
        let _ = stderr.flush();
    }
}
