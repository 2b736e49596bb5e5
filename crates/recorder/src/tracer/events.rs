//! One method per monitoring event. Each returns what the callback tells the
//! interpreter; errors go back to the caller, which owns the failure policy.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use recorder_errors::prelude::*;
use runtime_tracing::{
    CallRecord, EventLogKind, FullValueRecord, RecordEvent, ReturnRecord, StepRecord,
    TraceLowLevelEvent,
};

use super::filtering::ParamKind;
use super::frame::current_locals;
use super::RuntimeTracer;
use crate::encode::exception_text;
use crate::monitoring::Outcome;

impl RuntimeTracer {
    /// `PY_START`: a `Call` with every argument.
    pub fn on_py_start(&mut self, code: &Bound<'_, PyAny>) -> RecorderResult<Outcome> {
        self.enter_frame(code, true)
    }

    /// `PY_RESUME` / `PY_THROW`: a generator or coroutine resumes, a `Call` without arguments.
    pub fn on_py_resume(&mut self, code: &Bound<'_, PyAny>) -> RecorderResult<Outcome> {
        self.enter_frame(code, false)
    }

    /// `PY_RETURN` / `PY_YIELD`: a `Return` with the value, when the frame's `Call` was written.
    pub fn on_py_return(
        &mut self,
        code: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> RecorderResult<Outcome> {
        let info = self.codes.get(code)?;
        if info.skip {
            return Ok(Outcome::Disable);
        }
        if !self.leave_frame(code)? {
            return Ok(Outcome::Continue);
        }
        let return_value = self.encoder.encode(value, &mut self.writer)?;
        self.writer
            .emit(&TraceLowLevelEvent::Return(ReturnRecord { return_value }))?;
        self.recorded += 1;
        Ok(Outcome::Continue)
    }

    /// `PY_UNWIND`: the frame exits with an exception; its `Return` carries an `Error` value.
    pub fn on_py_unwind(
        &mut self,
        code: &Bound<'_, PyAny>,
        exception: &Bound<'_, PyAny>,
    ) -> RecorderResult<Outcome> {
        if self.codes.get(code)?.skip || !self.leave_frame(code)? {
            return Ok(Outcome::Continue);
        }
        let msg = exception_text(exception, self.encoder.types());
        let return_value = self.encoder.error(msg, &mut self.writer)?;
        self.writer
            .emit(&TraceLowLevelEvent::Return(ReturnRecord { return_value }))?;
        self.recorded += 1;
        Ok(Outcome::Continue)
    }

    /// `LINE`: a `Step` (the thread's step from now on), then the values of
    /// the frame's bound locals.
    pub fn on_line(&mut self, code: &Bound<'_, PyAny>, line: i64) -> RecorderResult<Outcome> {
        let py = code.py();
        let info = self.codes.get(code)?;
        if info.skip {
            return Ok(Outcome::Disable);
        }
        if !self.activation.check(info) {
            return Ok(Outcome::Continue);
        }
        let (path_id, _, _) = info.ids(&mut self.writer)?;
        let optimized = info.optimized;
        let line = runtime_tracing::Line(line);
        self.enter()?.step = Some((path_id, line));
        self.writer
            .emit(&TraceLowLevelEvent::Step(StepRecord { path_id, line }))?;
        self.recorded += 1;
        if optimized {
            let locals = current_locals(py)?;
            self.write_locals(code, &locals)?;
        }
        Ok(Outcome::Continue)
    }

    /// `RAISE` / `RERAISE` / `EXCEPTION_HANDLED`: an `Event` naming the exception.
    pub fn on_exception(
        &mut self,
        code: &Bound<'_, PyAny>,
        exception: &Bound<'_, PyAny>,
        what: &str,
    ) -> RecorderResult<Outcome> {
        let info = self.codes.get(code)?;
        if info.skip || !self.activation.check(info) {
            return Ok(Outcome::Continue);
        }
        let content = exception_text(exception, self.encoder.types());
        let kind = if what == "exception_handled" {
            EventLogKind::TraceLogEvent
        } else {
            EventLogKind::Error
        };
        self.enter()?;
        self.writer.emit(&TraceLowLevelEvent::Event(RecordEvent {
            kind,
            metadata: what.to_string(),
            content,
        }))?;
        Ok(Outcome::Continue)
    }

    fn enter_frame(&mut self, code: &Bound<'_, PyAny>, with_args: bool) -> RecorderResult<Outcome> {
        let py = code.py();
        let info = self.codes.get(code)?;
        if info.skip {
            return Ok(Outcome::Disable);
        }
        if !self.activation.check(info) {
            return Ok(Outcome::Continue);
        }
        let (path_id, function_id, line) = info.ids(&mut self.writer)?;
        let args = if with_args && !info.params.is_empty() {
            let locals = current_locals(py)?;
            self.arguments(code, &locals)?
        } else {
            Vec::new()
        };
        let thread = self.enter()?;
        thread.push_frame(code.as_ptr() as usize);
        thread.step = Some((path_id, line));
        for arg in &args {
            self.writer.emit(&TraceLowLevelEvent::Value(arg.clone()))?;
        }
        self.writer
            .emit(&TraceLowLevelEvent::Step(StepRecord { path_id, line }))?;
        self.writer
            .emit(&TraceLowLevelEvent::Call(CallRecord { function_id, args }))?;
        self.recorded += 1;
        Ok(Outcome::Continue)
    }

    /// Pops the calling thread's frame for `code` when it is on top; false when
    /// its `Call` was never written (recording began later, or the event was dropped).
    fn leave_frame(&mut self, code: &Bound<'_, PyAny>) -> RecorderResult<bool> {
        let key = code.as_ptr() as usize;
        let on_top = self
            .threads
            .peek()
            .is_some_and(|thread| thread.stack.last().map(|frame| frame.code) == Some(key));
        if on_top {
            self.enter()?.pop_frame();
        }
        Ok(on_top)
    }

    /// Every parameter of `code`, read from the frame's locals.
    fn arguments(
        &mut self,
        code: &Bound<'_, PyAny>,
        locals: &Bound<'_, PyDict>,
    ) -> RecorderResult<Vec<FullValueRecord>> {
        let py = code.py();
        let info = self.codes.get(code)?;
        let mut args = Vec::with_capacity(info.params.len());
        for param in &mut info.params {
            let name = param.name.bind(py);
            let variable_id = match param.var {
                Some(var) => var,
                None => {
                    let var = self.writer.ensure_variable(&name_text(name))?;
                    param.var = Some(var);
                    var
                }
            };
            let Some(value) = dict_get(locals, name) else {
                let code = match param.kind {
                    ParamKind::KeywordOnly | ParamKind::VarKeywords => ErrorCode::MissingKeywordArg,
                    ParamKind::Positional | ParamKind::VarArgs => ErrorCode::MissingPositionalArg,
                };
                let name = name_text(name);
                return Err(
                    target!(code, "argument {name} of {} is missing from the frame", info.qualname;
                    "argument" = name, "function" = info.qualname.clone()),
                );
            };
            let value = match param.kind {
                ParamKind::VarArgs => self.encoder.encode_varargs(&value, &mut self.writer)?,
                _ => self.encoder.encode(&value, &mut self.writer)?,
            };
            args.push(FullValueRecord { variable_id, value });
        }
        Ok(args)
    }

    /// `Value` events for the bound locals.
    fn write_locals(
        &mut self,
        code: &Bound<'_, PyAny>,
        locals: &Bound<'_, PyDict>,
    ) -> RecorderResult<()> {
        let py = code.py();
        let info = self.codes.get(code)?;
        let mut pos: ffi::Py_ssize_t = 0;
        let mut key: *mut ffi::PyObject = std::ptr::null_mut();
        let mut item: *mut ffi::PyObject = std::ptr::null_mut();
        // SAFETY: `locals` is a live dict.
        let count = unsafe { ffi::PyDict_Size(locals.as_ptr()) };
        self.encoder
            .begin_step(usize::try_from(count).unwrap_or_default());
        // SAFETY: PyDict_Next over a dict we hold; key and value are borrowed and
        // immediately turned into owned references.
        while unsafe { ffi::PyDict_Next(locals.as_ptr(), &mut pos, &mut key, &mut item) } != 0 {
            let (name, value) = unsafe {
                (
                    Bound::from_borrowed_ptr(py, key),
                    Bound::from_borrowed_ptr(py, item),
                )
            };
            let slot = info
                .locals
                .iter()
                .position(|(local, _)| local.as_ptr() == name.as_ptr());
            let variable_id = match slot.map(|index| (index, info.locals[index].1)) {
                Some((_, Some(id))) => id,
                Some((index, None)) => {
                    let id = self.writer.ensure_variable(&name_text(&name))?;
                    info.locals[index].1 = Some(id);
                    id
                }
                None => self.writer.ensure_variable(&name_text(&name))?,
            };
            let value = self.encoder.encode_local(&value, &mut self.writer)?;
            self.writer
                .emit(&TraceLowLevelEvent::Value(FullValueRecord {
                    variable_id,
                    value,
                }))?;
        }
        Ok(())
    }
}

/// A variable name as text (names are always `str` in practice).
fn name_text(name: &Bound<'_, PyAny>) -> String {
    name.extract::<String>()
        .unwrap_or_else(|_| "<non-str name>".to_string())
}

/// `dict[key]` without raising (borrowed lookup turned into an owned reference).
fn dict_get<'py>(dict: &Bound<'py, PyDict>, key: &Bound<'py, PyAny>) -> Option<Bound<'py, PyAny>> {
    // SAFETY: both objects are live; PyDict_GetItemWithError returns a borrowed reference.
    unsafe {
        let item = ffi::PyDict_GetItemWithError(dict.as_ptr(), key.as_ptr());
        if item.is_null() {
            ffi::PyErr_Clear();
            return None;
        }
        Some(Bound::from_borrowed_ptr(dict.py(), item))
    }
}
