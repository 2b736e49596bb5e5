//! The logging and metrics functions: `install_metrics`, `metrics_snapshot`,
//! `log_message`, `run_id`.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use recorder_errors::prelude::*;

use super::guard;
use crate::logging::metrics::{self, NoopMetrics, RecorderMetrics};
use crate::logging::with_error_code;

/// Registers the logging and metrics functions on the native module.
pub(super) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(install_metrics, module)?)?;
    module.add_function(wrap_pyfunction!(metrics_snapshot, module)?)?;
    module.add_function(wrap_pyfunction!(log_message, module)?)?;
    module.add_function(wrap_pyfunction!(run_id, module)?)?;
    module.add_function(wrap_pyfunction!(write_error_trailer, module)?)?;
    Ok(())
}

thread_local! {
    /// Set while a Python collector runs, so metrics it triggers are only counted.
    static IN_COLLECTOR: Cell<bool> = const { Cell::new(false) };
}

/// A Python metrics collector: an object with `record_*` methods, or a
/// callable taking `(metric, name)` with metric `dropped_event`/`detach`/`panic`.
struct PyCollector {
    target: Py<PyAny>,
    has_methods: bool,
}

impl PyCollector {
    fn call(&self, method: &str, metric: &str, name: &str) {
        if IN_COLLECTOR.with(|flag| flag.replace(true)) {
            return;
        }
        // A collector must not disturb an exception the interpreter is raising.
        let _ = Python::try_attach(|py| {
            let pending = PyErr::take(py);
            let target = self.target.bind(py);
            let result = if self.has_methods {
                match target.hasattr(method) {
                    Ok(true) => target.call_method1(method, (name,)).map(drop),
                    Ok(false) => Ok(()),
                    Err(error) => Err(error),
                }
            } else {
                target.call1((metric, name)).map(drop)
            };
            if let Err(error) = result {
                log::warn!("metrics collector failed on {metric}({name}): {error}");
            }
            if let Some(pending) = pending {
                pending.restore(py);
            }
        });
        IN_COLLECTOR.with(|flag| flag.set(false));
    }
}

impl RecorderMetrics for PyCollector {
    fn record_dropped_event(&self, reason: &str) {
        self.call("record_dropped_event", "dropped_event", reason);
    }
    fn record_detach(&self, reason: &str) {
        self.call("record_detach", "detach", reason);
    }
    fn record_panic(&self, label: &str) {
        self.call("record_panic", "panic", label);
    }
}

const METHODS: [&str; 3] = ["record_dropped_event", "record_detach", "record_panic"];

/// Installs a Python metrics collector (`None` uninstalls it): an object with
/// any of `record_dropped_event(reason)`, `record_detach(reason)`,
/// `record_panic(label)`, or a callable taking `(metric, name)`.
#[pyfunction]
fn install_metrics(collector: &Bound<'_, PyAny>) -> PyResult<()> {
    guard("install_metrics", || {
        if collector.is_none() {
            metrics::install(Arc::new(NoopMetrics));
            return Ok(());
        }
        let has_methods = METHODS
            .iter()
            .any(|method| collector.hasattr(*method).unwrap_or(false));
        ensure_usage!(
            has_methods || collector.is_callable(),
            ErrorCode::InvalidPolicyValue,
            "install_metrics expects None, a callable or an object with {} methods",
            METHODS.join("/");
            "key" = "metrics"
        );
        metrics::install(Arc::new(PyCollector {
            target: collector.clone().unbind(),
            has_methods,
        }));
        Ok(())
    })
}

/// The metric counters so far: `{"dropped_events": {reason: n}, "detaches": {...}, "panics": {...}}`.
#[pyfunction]
fn metrics_snapshot(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    fn counters<'py>(py: Python<'py>, map: BTreeMap<String, u64>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (name, count) in map {
            dict.set_item(name, count)?;
        }
        Ok(dict)
    }
    let counts = guard("metrics_snapshot", || Ok(metrics::snapshot()))?;
    let snapshot = PyDict::new(py);
    snapshot.set_item("dropped_events", counters(py, counts.dropped_events)?)?;
    snapshot.set_item("detaches", counters(py, counts.detaches)?)?;
    snapshot.set_item("panics", counters(py, counts.panics)?)?;
    Ok(snapshot)
}

/// Writes one structured log line from Python code of the package
/// (`level`: error/warn/info/debug/trace; `error_code`: an `ERR_*` string).
#[pyfunction]
#[pyo3(signature = (level, message, *, error_code=None, target=None))]
fn log_message(
    level: &str,
    message: &str,
    error_code: Option<&str>,
    target: Option<&str>,
) -> PyResult<()> {
    guard("log_message", || {
        write_log(level, message, error_code, target)
    })
}

fn write_log(
    level: &str,
    message: &str,
    error_code: Option<&str>,
    target: Option<&str>,
) -> RecorderResult<()> {
    let level = match level.to_ascii_lowercase().as_str() {
        "error" => log::Level::Error,
        "warn" | "warning" => log::Level::Warn,
        "info" => log::Level::Info,
        "debug" => log::Level::Debug,
        "trace" => log::Level::Trace,
        _ => {
            return Err(usage!(
                ErrorCode::InvalidPolicyValue,
                "unknown log level {:?}: accepted values are error, warn, info, debug, trace",
                level;
                "key" = "level"
            ))
        }
    };
    let target = target.unwrap_or("codetracer_python_recorder::python");
    let write = || log::log!(target: target, level, "{message}");
    match error_code.and_then(ErrorCode::parse) {
        Some(code) => with_error_code(code, write),
        None => write(),
    }
    Ok(())
}

/// Writes the JSON trailer of an error the package's Python code raises (a
/// bad format, trace filter argument or policy value), when the policy's
/// `json_errors` is on: the same line the native errors get. An unknown
/// `code` is written as `ERR_UNKNOWN`, an unknown `kind` as the code's own.
#[pyfunction]
#[pyo3(signature = (code, kind, message, context = None))]
fn write_error_trailer(
    code: &str,
    kind: &str,
    message: &str,
    context: Option<BTreeMap<String, String>>,
) -> PyResult<()> {
    guard("write_error_trailer", || {
        let code = ErrorCode::parse(code).unwrap_or(ErrorCode::Unknown);
        let kind = ErrorKind::parse(kind).unwrap_or_else(|| code.default_kind());
        let mut error = RecorderError::new(kind, code, message);
        for (key, value) in context.unwrap_or_default() {
            error.set_context(key, value);
        }
        crate::logging::trailer::emit(&error);
        Ok(())
    })
}

/// This process's run id, as found in every log line and trailer.
#[pyfunction]
fn run_id() -> &'static str {
    crate::logging::run_id()
}
