//! SIGTERM and SIGHUP while recording. Their default action kills the
//! process at once, which would leave only a staging directory behind. When
//! the program has no handler of its own for them (the disposition is
//! `SIG_DFL` when recording starts), the recorder installs one for as long as
//! it records: it finishes the trace marked partial (`ERR_TERMINATED`), puts
//! the default action back and sends the signal again, so the process ends
//! by that signal exactly as it would have (no `finally` blocks, no `atexit`
//! handlers, unflushed program output lost, as under plain python). A
//! handler the program installs later replaces the recorder's, and the
//! recorder then leaves it alone.
//!
//! Handlers are set through the built-in `_signal` module (never an import
//! through the program's `sys.path`); Python runs them in the main thread,
//! so a recording started from another thread installs none.

use pyo3::prelude::*;

/// The signals whose default action ends the process without a trace.
pub(super) const TERMINATING: [(i32, &str); 2] =
    [(libc::SIGTERM, "SIGTERM"), (libc::SIGHUP, "SIGHUP")];

/// The recorder's handlers, while installed.
#[derive(Debug, Default)]
pub(super) struct TerminationHandlers {
    /// The handler object and the signals it is installed for.
    installed: Option<(Py<PyAny>, Vec<i32>)>,
}

impl TerminationHandlers {
    /// Installs `handler` for every terminating signal whose disposition is
    /// the default one. Installs nothing outside the main thread, or when
    /// `_signal` cannot be used (said at `debug`).
    pub(super) fn install(py: Python<'_>, handler: Bound<'_, PyAny>) -> TerminationHandlers {
        let installed = (|| -> PyResult<Vec<i32>> {
            let signal = py.import("_signal")?;
            let default = signal.getattr("SIG_DFL")?;
            let mut installed = Vec::new();
            for (number, _) in TERMINATING {
                let current = signal.call_method1("getsignal", (number,))?;
                if current.eq(&default)? {
                    signal.call_method1("signal", (number, &handler))?;
                    installed.push(number);
                }
            }
            Ok(installed)
        })();
        match installed {
            Ok(signals) if !signals.is_empty() => {
                log::debug!("SIGTERM/SIGHUP handlers installed for signals {signals:?}");
                TerminationHandlers {
                    installed: Some((handler.unbind(), signals)),
                }
            }
            Ok(_) => TerminationHandlers::default(),
            Err(error) => {
                log::debug!("no SIGTERM/SIGHUP handler installed: {error}");
                TerminationHandlers::default()
            }
        }
    }

    /// Gives each signal whose handler is still the recorder's its default
    /// action back (idempotent).
    pub(super) fn restore(&mut self, py: Python<'_>) {
        let Some((handler, signals)) = self.installed.take() else {
            return;
        };
        let restored = (|| -> PyResult<()> {
            let signal = py.import("_signal")?;
            let default = signal.getattr("SIG_DFL")?;
            for number in signals {
                let current = signal.call_method1("getsignal", (number,))?;
                if current.is(handler.bind(py)) {
                    signal.call_method1("signal", (number, &default))?;
                }
            }
            Ok(())
        })();
        if let Err(error) = restored {
            log::debug!("SIGTERM/SIGHUP handlers not restored: {error}");
        }
    }
}

/// The name of a terminating signal (`SIGTERM`, `SIGHUP`), or `signal N`.
pub(super) fn name(number: i32) -> String {
    TERMINATING
        .iter()
        .find(|(known, _)| *known == number)
        .map_or_else(
            || format!("signal {number}"),
            |(_, name)| (*name).to_string(),
        )
}

/// Ends the process by `number` with its default action, as if no handler
/// had ever been installed; `_exit(128 + number)` if it somehow survives.
pub(super) fn die_by(number: i32) -> ! {
    // SAFETY: restoring the default action, unblocking and re-raising the
    // signal only touch this process's signal state; `_exit` ends it at once.
    unsafe {
        libc::signal(number, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, number);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(number);
        libc::_exit(128 + number)
    }
}
