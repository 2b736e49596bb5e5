//! The process hooks a recording needs, and their Python-callable handlers:
//! the fork hooks (see [`super::fork`]), an audit hook that sees `os.exec*`
//! (see [`super::before_exec`]), and the SIGTERM/SIGHUP handler (see
//! [`super::signals`]). `os._exit` is not audited and has no hook: a
//! recording it cuts short leaves its staging directory, which `recover`
//! turns into a partial trace.
//!
//! Every module used here is one the interpreter already has
//! (`sys.modules["os"]`, `sys`) or a built-in (`_signal`): nothing is
//! imported through the program's `sys.path`.

use std::sync::Once;

use pyo3::prelude::*;
use pyo3::types::PyTuple;

use super::signals::TerminationHandlers;
use super::{fork, terminate};

/// Installs the fork hooks and the audit hook, once per process. A hook that
/// cannot be installed is said at `warn`; recording goes on without it.
pub(super) fn install_process_hooks(py: Python<'_>) {
    fork::install_hook();
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let at_fork = (|| -> PyResult<()> {
            let os = py.import("sys")?.getattr("modules")?.get_item("os")?;
            let kwargs = pyo3::types::PyDict::new(py);
            kwargs.set_item("after_in_child", wrap_pyfunction!(after_fork_in_child, py)?)?;
            os.call_method("register_at_fork", (), Some(&kwargs))?;
            Ok(())
        })();
        if let Err(error) = at_fork {
            log::warn!("cannot register the fork hook with os.register_at_fork: {error}");
        }
        let audit = (|| -> PyResult<()> {
            let hook = wrap_pyfunction!(audit_hook, py)?;
            py.import("sys")?.call_method1("addaudithook", (hook,))?;
            Ok(())
        })();
        if let Err(error) = audit {
            log::warn!("cannot add the audit hook that sees os.exec: {error}");
        }
        log::debug!("process hooks installed: os.register_at_fork, sys.addaudithook");
    });
}

/// The recorder's SIGTERM/SIGHUP handlers for a recording that starts now.
pub(super) fn termination_handlers(py: Python<'_>) -> TerminationHandlers {
    match wrap_pyfunction!(on_terminating_signal, py) {
        Ok(handler) => TerminationHandlers::install(py, handler.into_any()),
        Err(error) => {
            log::debug!("no SIGTERM/SIGHUP handler: {error}");
            TerminationHandlers::default()
        }
    }
}

/// In a followed fork child made by `multiprocessing`: such a child never
/// runs `atexit` hooks (it ends with `os._exit`), but it runs
/// `multiprocessing.util`'s finalizers just before. A finalizer of the
/// lowest priority finishes the child's recording after every other one
/// ran. It is registered through `register_after_fork`, because the child
/// clears the finalizers it inherited before it runs those hooks. Only when
/// `multiprocessing.util` is already imported (nothing is imported here).
pub(super) fn finish_before_multiprocessing_exit(py: Python<'_>) {
    let registered = (|| -> PyResult<bool> {
        let modules = py.import("sys")?.getattr("modules")?;
        let Ok(util) = modules.get_item("multiprocessing.util") else {
            return Ok(false);
        };
        let registrar = wrap_pyfunction!(register_multiprocessing_finalizer, py)?;
        // `util` (a module, kept alive by `sys.modules`) is the object the
        // hook is registered for; the hook gets it back as its argument.
        util.call_method1("register_after_fork", (&util, registrar))?;
        Ok(true)
    })();
    match registered {
        Ok(true) => {
            log::debug!("multiprocessing child: the recording finishes with its finalizers")
        }
        Ok(false) => {}
        Err(error) => log::debug!("multiprocessing finalizer not registered: {error}"),
    }
}

/// Lower than any priority `multiprocessing` or a program uses, so the
/// recording finishes after every other finalizer.
const LAST_FINALIZER_PRIORITY: i64 = -(1 << 40);

/// `multiprocessing.util._run_after_forkers` calls this in the child.
#[pyfunction]
fn register_multiprocessing_finalizer(py: Python<'_>, util: Bound<'_, PyAny>) -> PyResult<()> {
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("exitpriority", LAST_FINALIZER_PRIORITY)?;
    let finish = wrap_pyfunction!(finish_recording, py)?;
    util.call_method("Finalize", (py.None(), finish), Some(&kwargs))?;
    Ok(())
}

/// Finishes the recording as interpreter exit would; errors are logged.
#[pyfunction]
fn finish_recording(py: Python<'_>) {
    let finished = crate::panics::catch("finish_recording", || super::stop(py));
    if let Err(error) = finished {
        crate::logging::with_error_code(error.code(), || {
            log::error!("the recording could not be finished: {error}");
        });
    }
}

/// `os.register_at_fork(after_in_child=...)`.
#[pyfunction]
fn after_fork_in_child(py: Python<'_>) {
    let _ = crate::panics::catch("after_fork_in_child", || {
        fork::after_in_child(py);
        Ok(())
    });
}

/// The audit hook: finishes the recording on `os.exec` (every `os.exec*`
/// function raises it before replacing the process). Never raises: an
/// exception here would fail the audited operation.
#[pyfunction]
fn audit_hook(py: Python<'_>, event: &str, _args: Bound<'_, PyTuple>) {
    if event == "os.exec" {
        let _ = crate::panics::catch("audit_hook", || {
            super::before_exec(py);
            Ok(())
        });
    }
}

/// The SIGTERM/SIGHUP handler: finishes the trace, then ends the process by
/// the same signal.
#[pyfunction]
fn on_terminating_signal(py: Python<'_>, signal: i32, _frame: Bound<'_, PyAny>) {
    terminate(py, signal)
}
