//! The policy functions: `configure_policy`, `configure_policy_from_env`,
//! `policy_snapshot`, `apply_env_policy`.

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyString};
use recorder_errors::prelude::*;

use super::guard;
use crate::logging;
use crate::policy::{self, PolicyKey, PolicyUpdate};

/// Policy keys the Python package holds itself (`codetracer_python_recorder.policy`):
/// `configure_policy` accepts them, so an unknown key's message lists them too.
const PACKAGE_KEYS: [&str; 4] = [
    "module_name_from_globals",
    "propagate_script_exit",
    "io_capture_line_proxies",
    "io_capture_fd_fallback",
];

/// Registers the policy functions on the native module.
pub(super) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(configure_policy, module)?)?;
    module.add_function(wrap_pyfunction!(configure_policy_from_env, module)?)?;
    module.add_function(wrap_pyfunction!(policy_snapshot, module)?)?;
    module.add_function(wrap_pyfunction!(apply_env_policy, module)?)?;
    Ok(())
}

/// Sets policy keys explicitly (they win over the environment). A value of
/// `None` drops the explicit setting so the environment or default shows again.
/// Unknown keys and bad values raise `UsageError` (`ERR_INVALID_POLICY_VALUE`)
/// and change nothing.
#[pyfunction]
#[pyo3(signature = (**settings))]
fn configure_policy(settings: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
    guard("configure_policy", || {
        let mut update = PolicyUpdate::default();
        let mut cleared = Vec::new();
        if let Some(settings) = settings {
            for (name, value) in settings.iter() {
                let name = name.to_string();
                read_setting(&name, &value, &mut update, &mut cleared)?;
            }
        }
        policy::configure(&update, &cleared);
        logging::refresh();
        Ok(())
    })
}

/// Parses one keyword of `configure_policy` into `update` (or `cleared`).
fn read_setting(
    name: &str,
    value: &Bound<'_, PyAny>,
    update: &mut PolicyUpdate,
    cleared: &mut Vec<PolicyKey>,
) -> RecorderResult<()> {
    let key = PolicyKey::parse(name).ok_or_else(|| {
        let known: Vec<&str> = PolicyKey::ALL
            .iter()
            .map(|key| key.name())
            .chain(PACKAGE_KEYS)
            .collect();
        usage!(
            ErrorCode::InvalidPolicyValue,
            "unknown policy key `{}`: accepted keys are {}",
            name, known.join(", ");
            "key" = name
        )
    })?;
    let source = format!("policy key `{name}`");
    if value.is_none() {
        cleared.push(key);
        return Ok(());
    }
    let is_boolean_key = matches!(
        key,
        PolicyKey::RequireTrace
            | PolicyKey::KeepPartialTrace
            | PolicyKey::JsonErrors
            | PolicyKey::FollowFork
    );
    if let Ok(flag) = value.cast::<PyBool>() {
        if !is_boolean_key {
            return Err(key.invalid(&source, &flag.to_string()));
        }
        let text = if flag.is_true() { "true" } else { "false" };
        return update.set_text(key, text, &source);
    }
    if let Ok(text) = value.cast::<PyString>() {
        let text = text.to_string();
        return update.set_text(key, &text, &source);
    }
    if key == PolicyKey::LogFile {
        if let Ok(path) = value.extract::<PathBuf>() {
            update.log_file = Some(Some(path));
            return Ok(());
        }
    }
    let shown = value
        .repr()
        .map_or_else(|_| "<unprintable>".to_owned(), |repr| repr.to_string());
    Err(key.invalid(&source, &shown))
}

/// Re-reads the `CODETRACER_*` policy variables. The good ones apply; a bad
/// one raises `UsageError` naming the variable.
#[pyfunction]
fn configure_policy_from_env() -> PyResult<()> {
    guard("configure_policy_from_env", || {
        let applied = policy::apply_env();
        logging::refresh();
        applied
    })
}

/// The policy in force as a dict.
#[pyfunction]
fn policy_snapshot(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let policy = guard("policy_snapshot", || Ok(policy::snapshot()))?;
    let snapshot = PyDict::new(py);
    snapshot.set_item("on_recorder_error", policy.on_recorder_error.as_str())?;
    snapshot.set_item("require_trace", policy.require_trace)?;
    snapshot.set_item("keep_partial_trace", policy.keep_partial_trace)?;
    snapshot.set_item("log_level", policy.log_level)?;
    snapshot.set_item(
        "log_file",
        policy
            .log_file
            .map(|path| path.to_string_lossy().into_owned()),
    )?;
    snapshot.set_item("json_errors", policy.json_errors)?;
    snapshot.set_item("follow_fork", policy.follow_fork)?;
    Ok(snapshot)
}

/// Like `configure_policy_from_env`, but returns the bad variable's error text
/// instead of raising (and writes no trailer): the package applies the
/// environment on import, which must never raise.
#[pyfunction]
fn apply_env_policy() -> PyResult<Option<String>> {
    guard("apply_env_policy", || {
        let applied = policy::apply_env();
        logging::refresh();
        Ok(applied.err().map(|error| error.to_string()))
    })
}
