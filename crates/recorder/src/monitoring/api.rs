//! A handle on `sys.monitoring`: its functions, event ids and `DISABLE`.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use recorder_errors::prelude::*;

/// What a callback tells the interpreter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Keep delivering this event at this location.
    Continue,
    /// Return `sys.monitoring.DISABLE` (only for local events).
    Disable,
}

/// `sys.monitoring.DISABLE`, cached for the callbacks.
static DISABLE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The `sys.monitoring` module.
#[derive(Debug)]
pub struct Monitoring {
    module: Py<PyAny>,
}

impl Monitoring {
    /// Loads `sys.monitoring`; an interpreter without it is `ERR_UNSUPPORTED_PYTHON`.
    pub fn load(py: Python<'_>) -> RecorderResult<Monitoring> {
        let module = py
            .import("sys")
            .and_then(|sys| sys.getattr("monitoring"))
            .map_err(|err| {
                usage!(
                    ErrorCode::UnsupportedPython,
                    "this interpreter has no sys.monitoring: {err}"
                )
            })?;
        let disable = module
            .getattr("DISABLE")
            .map_err(|err| python_failure("sys.monitoring.DISABLE", &err))?;
        let _ = DISABLE.set(py, disable.unbind());
        Ok(Monitoring {
            module: module.unbind(),
        })
    }

    /// The id of event `name` (`sys.monitoring.events.<name>`).
    pub fn event_id(&self, py: Python<'_>, name: &str) -> RecorderResult<u32> {
        self.module
            .bind(py)
            .getattr("events")
            .and_then(|events| events.getattr(name))
            .and_then(|id| id.extract::<u32>())
            .map_err(|err| python_failure(&format!("sys.monitoring.events.{name}"), &err))
    }

    /// `get_tool(id) is None`.
    pub fn is_free(&self, py: Python<'_>, tool: u8) -> RecorderResult<bool> {
        self.call(py, "get_tool", (tool,))
            .map(|owner| owner.is_none())
    }

    /// `use_tool_id(id, name)`.
    pub fn use_tool_id(&self, py: Python<'_>, tool: u8, name: &str) -> RecorderResult<()> {
        self.call(py, "use_tool_id", (tool, name)).map(drop)
    }

    /// `free_tool_id(id)`.
    pub fn free_tool_id(&self, py: Python<'_>, tool: u8) -> RecorderResult<()> {
        self.call(py, "free_tool_id", (tool,)).map(drop)
    }

    /// `register_callback(id, event, func)`; `func` `None` unregisters.
    pub fn register_callback(
        &self,
        py: Python<'_>,
        tool: u8,
        event: u32,
        func: Option<&Bound<'_, PyAny>>,
    ) -> RecorderResult<()> {
        self.call(py, "register_callback", (tool, event, func))
            .map(drop)
    }

    /// `set_events(id, mask)`.
    pub fn set_events(&self, py: Python<'_>, tool: u8, mask: u32) -> RecorderResult<()> {
        self.call(py, "set_events", (tool, mask)).map(drop)
    }

    /// `restart_events()`: re-enables locations an earlier session disabled.
    pub fn restart_events(&self, py: Python<'_>) -> RecorderResult<()> {
        self.call(py, "restart_events", ()).map(drop)
    }

    fn call<'py, A>(
        &self,
        py: Python<'py>,
        name: &str,
        args: A,
    ) -> RecorderResult<Bound<'py, PyAny>>
    where
        A: pyo3::call::PyCallArgs<'py>,
    {
        self.module
            .bind(py)
            .call_method1(name, args)
            .map_err(|err| python_failure(&format!("sys.monitoring.{name}"), &err))
    }
}

/// The value a callback returns for `outcome`.
pub fn outcome_value(py: Python<'_>, outcome: Outcome) -> Py<PyAny> {
    match (outcome, DISABLE.get(py)) {
        (Outcome::Disable, Some(disable)) => disable.clone_ref(py),
        _ => py.None(),
    }
}

/// A failed `sys.monitoring` call: the tool cannot be installed or torn down.
fn python_failure(what: &str, err: &PyErr) -> RecorderError {
    enverr!(ErrorCode::TracerInstallConflict, "{what} failed: {err}"; "call" = what)
}
