//! Taking a free tool id, registering a table of callbacks given by the caller,
//! and tearing it all down again.

use pyo3::prelude::*;
use recorder_errors::prelude::*;

use super::api::Monitoring;

/// One monitoring event to listen to, with the callback that handles it.
#[derive(Debug, Clone, Copy)]
pub struct CallbackSpec {
    /// Name in `sys.monitoring.events`.
    pub event: &'static str,
    /// Builds the Python callable registered for the event.
    pub make: for<'py> fn(Python<'py>) -> PyResult<Bound<'py, PyAny>>,
}

/// Tool ids tried, in order. CPython reserves 0 (debugger), 1 (coverage),
/// 2 (profiler, taken by `cProfile`) and 5 (optimizer); 3 and 4 are free for
/// any tool, so they come first. Only when both are taken does the recorder
/// borrow a reserved id, the least likely to be wanted first: 5 (nothing in
/// CPython 3.12/3.13 uses it), 0 (`pdb` uses `sys.settrace` before 3.14),
/// then 1 and 2.
pub const TOOL_IDS: [u8; 6] = [3, 4, 5, 0, 1, 2];
/// The name the tool is registered under.
pub const TOOL_NAME: &str = "codetracer";

/// A registered monitoring tool.
#[derive(Debug)]
pub struct Installation {
    monitoring: Monitoring,
    tool: u8,
    events: Vec<u32>,
    active: bool,
}

impl Installation {
    /// Takes the first free tool id and registers every callback of
    /// `callbacks`; events stay off until [`Installation::activate`].
    pub fn install(
        py: Python<'_>,
        callbacks: &'static [CallbackSpec],
    ) -> RecorderResult<Installation> {
        let monitoring = Monitoring::load(py)?;
        let mut tool = None;
        for candidate in TOOL_IDS {
            if monitoring.is_free(py, candidate)? {
                tool = Some(candidate);
                break;
            }
        }
        let Some(tool) = tool else {
            return Err(enverr!(
                ErrorCode::TracerInstallConflict,
                "no free sys.monitoring tool id: ids {:?} are all in use",
                TOOL_IDS;
                "tool_ids" = format!("{TOOL_IDS:?}")
            ));
        };
        monitoring.use_tool_id(py, tool, TOOL_NAME)?;
        log::debug!("monitoring tool id {tool} taken (order tried: {TOOL_IDS:?})");
        let mut installation = Installation {
            monitoring,
            tool,
            events: Vec::with_capacity(callbacks.len()),
            active: true,
        };
        if let Err(err) = installation.register(py, callbacks) {
            let _ = installation.uninstall(py);
            return Err(err);
        }
        Ok(installation)
    }

    fn register(&mut self, py: Python<'_>, callbacks: &[CallbackSpec]) -> RecorderResult<()> {
        for spec in callbacks {
            let event = self.monitoring.event_id(py, spec.event)?;
            let callback = (spec.make)(py).map_err(|err| {
                bug!(
                    ErrorCode::TracerInstallConflict,
                    "cannot create the {} callback: {err}",
                    spec.event
                )
            })?;
            self.monitoring
                .register_callback(py, self.tool, event, Some(&callback))?;
            self.events.push(event);
        }
        Ok(())
    }

    /// The tool id taken.
    pub fn id(&self) -> u8 {
        self.tool
    }

    /// Switches every registered event on (re-enabling locations an earlier
    /// session disabled).
    pub fn activate(&self, py: Python<'_>) -> RecorderResult<()> {
        self.monitoring.restart_events(py)?;
        let mask = self.events.iter().fold(0, |mask, event| mask | event);
        self.monitoring.set_events(py, self.tool, mask)
    }

    /// Events off, callbacks unregistered, tool id freed. Keeps going past
    /// failures and returns the first; a second call does nothing.
    pub fn uninstall(&mut self, py: Python<'_>) -> RecorderResult<()> {
        if !self.active {
            return Ok(());
        }
        self.active = false;
        let mut first = self.monitoring.set_events(py, self.tool, 0).err();
        for event in self.events.drain(..) {
            if let Err(err) = self
                .monitoring
                .register_callback(py, self.tool, event, None)
            {
                first.get_or_insert(err);
            }
        }
        if let Err(err) = self.monitoring.free_tool_id(py, self.tool) {
            first.get_or_insert(err);
        }
        first.map_or(Ok(()), Err)
    }
}
