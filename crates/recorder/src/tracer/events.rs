//! One method per monitoring event. Each returns what the callback tells the
//! interpreter; errors go back to the caller, which owns the failure policy.

use pyo3::prelude::*;
use recorder_errors::prelude::*;
use runtime_tracing::{
    EventLogKind, FullValueRecord, RecordEvent, ReturnRecord, StepRecord, TraceLowLevelEvent,
};

use super::filtering::ParamKind;
use super::frame::FrameLocals;
use super::RuntimeTracer;
use crate::encode::{exception_text, Encoding};
use crate::filter::model::{ValueAction, ValueKind};
use crate::monitoring::Outcome;
use crate::writer::SerializedArgs;

impl RuntimeTracer {
    /// `PY_START`: a `Call` with every argument.
    pub fn on_py_start(&mut self, code: &Bound<'_, PyAny>) -> RecorderResult<Outcome> {
        self.enter_frame(code, true)
    }

    /// `PY_RESUME` / `PY_THROW`: a generator or coroutine resumes, a `Call` without arguments.
    pub fn on_py_resume(&mut self, code: &Bound<'_, PyAny>) -> RecorderResult<Outcome> {
        self.enter_frame(code, false)
    }

    /// `PY_RETURN` / `PY_YIELD`: a `Return` with the value, when the frame's
    /// `Call` was written. A value the filter redacts or drops is never read:
    /// the `Return` carries the redaction marker or the `<dropped>` placeholder.
    pub fn on_py_return(
        &mut self,
        code: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> RecorderResult<Outcome> {
        let info = self.codes.get(code, &mut self.filter_stats)?;
        let Some(policy) = info.policy() else {
            return Ok(Outcome::Disable);
        };
        let action = policy.return_action();
        self.encoder.set_field_policy(Some(policy));
        if !self.leave_frame(code)? {
            return Ok(Outcome::Continue);
        }
        self.filter_stats.record_value(ValueKind::Ret, action);
        let return_value = match action {
            ValueAction::Allow => self.encoder.encode(value, &mut self.writer)?,
            ValueAction::Redact => self.encoder.redacted(&mut self.writer)?,
            ValueAction::Drop => self.encoder.dropped(&mut self.writer)?,
        };
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
        if self.codes.get(code, &mut self.filter_stats)?.skip() || !self.leave_frame(code)? {
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
        let info = self.codes.get(code, &mut self.filter_stats)?;
        // The activation file starts recording even when the filter skips it.
        let active = self.activation.check(info);
        if info.skip() {
            return Ok(Outcome::Disable);
        }
        if !active {
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
            let frame = FrameLocals::current(code)?;
            self.write_locals(code, &frame)?;
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
        let info = self.codes.get(code, &mut self.filter_stats)?;
        if info.skip() || !self.activation.check(info) {
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
        let info = self.codes.get(code, &mut self.filter_stats)?;
        // The activation file starts recording even when the filter skips it.
        let active = self.activation.check(info);
        if info.skip() {
            return Ok(Outcome::Disable);
        }
        if !active {
            return Ok(Outcome::Continue);
        }
        let (path_id, function_id, line) = info.ids(&mut self.writer)?;
        let with_args = with_args && !info.params.is_empty();
        // The scratch is taken for the call (and put back, whatever happens).
        let mut args = std::mem::take(&mut self.args);
        args.clear();
        let written = self
            .arguments_if(code, with_args, &mut args)
            .and_then(|()| self.write_call(code, (path_id, line), function_id, &args));
        self.args = args;
        written?;
        Ok(Outcome::Continue)
    }

    /// The arguments of the frame of `code` into `args`, when `with_args`.
    fn arguments_if(
        &mut self,
        code: &Bound<'_, PyAny>,
        with_args: bool,
        args: &mut SerializedArgs,
    ) -> RecorderResult<()> {
        if !with_args {
            return Ok(());
        }
        let frame = FrameLocals::current(code)?;
        self.arguments(code, &frame, args)
    }

    /// The `Value` of each argument, the `Step` at the definition and the
    /// `Call`, with the calling thread's new frame.
    fn write_call(
        &mut self,
        code: &Bound<'_, PyAny>,
        (path_id, line): (runtime_tracing::PathId, runtime_tracing::Line),
        function_id: runtime_tracing::FunctionId,
        args: &SerializedArgs,
    ) -> RecorderResult<()> {
        let thread = self.enter()?;
        thread.push_frame(code.as_ptr() as usize);
        thread.step = Some((path_id, line));
        for (variable_id, value) in args.iter() {
            self.writer.emit_value_bytes(variable_id, value)?;
        }
        self.writer
            .emit(&TraceLowLevelEvent::Step(StepRecord { path_id, line }))?;
        self.writer.emit_call_bytes(function_id, args)?;
        self.recorded += 1;
        Ok(())
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

    /// Every parameter of `code` the filter keeps, read from the frame and
    /// serialised into `args`: a redacted one is the redaction marker, a
    /// dropped one is left out; an object whose last encoding as an argument
    /// still holds is written from its kept bytes.
    fn arguments<'py>(
        &mut self,
        code: &Bound<'py, PyAny>,
        frame: &FrameLocals<'py>,
        args: &mut SerializedArgs,
    ) -> RecorderResult<()> {
        let py = code.py();
        let info = self.codes.get(code, &mut self.filter_stats)?;
        self.encoder.set_field_policy(info.policy());
        let writer = &mut self.writer;
        for param in &mut info.params {
            self.filter_stats.record_value(ValueKind::Arg, param.action);
            if param.action == ValueAction::Drop {
                continue;
            }
            let name = param.name.bind(py);
            let variable_id = match param.var {
                Some(var) => var,
                None => {
                    let var = writer.ensure_variable(&name_text(name))?;
                    param.var = Some(var);
                    var
                }
            };
            if param.action == ValueAction::Redact {
                let value = self.encoder.redacted(writer)?;
                args.push(variable_id, |out| writer.serialize_value(&value, out))?;
                continue;
            }
            let Some(value) = frame.get(py, param.fast, name)? else {
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
            let encoding = match param.kind {
                ParamKind::VarArgs => {
                    Encoding::Encoded(self.encoder.encode_varargs(&value, writer)?, None)
                }
                _ => self.encoder.encode_reusing(&value, writer)?,
            };
            match encoding {
                Encoding::Reused(bytes) => args.push(variable_id, |out| {
                    out.extend_from_slice(bytes);
                    Ok(())
                })?,
                Encoding::Encoded(value, reusable) => {
                    args.push(variable_id, |out| writer.serialize_value(&value, out))?;
                    if let Some(reusable) = reusable {
                        self.encoder.remember(reusable, args.last().to_vec());
                    }
                }
            }
        }
        Ok(())
    }

    /// `Value` events for the bound locals the filter keeps, in slot order:
    /// a redacted one is the redaction marker under its name, a dropped one
    /// has no event.
    fn write_locals<'py>(
        &mut self,
        code: &Bound<'py, PyAny>,
        frame: &FrameLocals<'py>,
    ) -> RecorderResult<()> {
        let py = code.py();
        let info = self.codes.get(code, &mut self.filter_stats)?;
        self.encoder.set_field_policy(info.policy());
        let mut bound = 0;
        for local in &info.locals {
            if frame.get(py, local.fast, local.name.bind(py))?.is_some() {
                bound += 1;
            }
        }
        self.encoder.begin_step(bound);
        for local in &mut info.locals {
            let name = local.name.bind(py);
            let Some(value) = frame.get(py, local.fast, name)? else {
                continue;
            };
            let action = local.action;
            self.filter_stats.record_value(ValueKind::Local, action);
            if action == ValueAction::Drop {
                continue;
            }
            let variable_id = match local.var {
                Some(id) => id,
                None => {
                    let id = self.writer.ensure_variable(&name_text(name))?;
                    local.var = Some(id);
                    id
                }
            };
            let value = match action {
                ValueAction::Redact => self.encoder.redacted(&mut self.writer)?,
                _ => match self
                    .encoder
                    .encode_local_reusing(&value, &mut self.writer)?
                {
                    Encoding::Reused(bytes) => {
                        self.writer.emit_value_bytes(variable_id, bytes)?;
                        continue;
                    }
                    Encoding::Encoded(value, Some(reusable)) => {
                        let mut bytes = Vec::new();
                        self.writer.serialize_value(&value, &mut bytes)?;
                        self.writer.emit_value_bytes(variable_id, &bytes)?;
                        self.encoder.remember(reusable, bytes);
                        continue;
                    }
                    Encoding::Encoded(value, None) => value,
                },
            };
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

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use faultfs::{MemoryFs, StagedDir};
    use pyo3::types::PyDict;

    use super::*;
    use crate::filter::engine::FilterEngine;
    use crate::filter::loader::ChainBuilder;
    use crate::filter::location::InterpreterPaths;
    use crate::tracer::TracerConfig;
    use crate::writer::{TraceFormat, TraceMetadataInfo};

    /// A tracer whose filter skips code compiled from `<skipped>`.
    fn tracer() -> RuntimeTracer {
        let mut chain = ChainBuilder::default();
        chain.push_builtin().unwrap_or_else(|e| panic!("{e}"));
        let skip = "[meta]\nname = \"skip\"\nversion = 1\n[scope]\ndefault_exec = \"inherit\"\ndefault_value_action = \"inherit\"\n[[scope.rules]]\nselector = 'file:literal:<skipped>'\nexec = \"skip\"\n";
        chain
            .push_text("skip.toml".into(), skip, None)
            .unwrap_or_else(|e| panic!("{e}"));
        let chain = chain.finish().unwrap_or_else(|e| panic!("{e}"));
        let fs = Arc::new(MemoryFs::new());
        let staged =
            StagedDir::create(fs, Path::new("/out/trace")).unwrap_or_else(|e| panic!("{e}"));
        let config = TracerConfig {
            format: TraceFormat::Json,
            activation_path: None,
            filters: FilterEngine::new(chain, InterpreterPaths::default()),
            module_name_from_globals: true,
            metadata: TraceMetadataInfo::default(),
        };
        RuntimeTracer::create(staged, config).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn every_local_event_of_skipped_code_is_disabled() {
        Python::attach(|py| {
            let mut tracer = tracer();
            let scope = PyDict::new(py);
            let code = py
                .eval(c"compile('x = 1', '<skipped>', 'exec')", None, Some(&scope))
                .unwrap_or_else(|e| panic!("{e}"));
            let value = py.None().into_bound(py);
            let error = pyo3::exceptions::PyValueError::new_err("boom").into_value(py);
            let error = error.bind(py).as_any();
            let disabled = [
                tracer.on_py_start(&code),
                tracer.on_py_resume(&code),
                tracer.on_line(&code, 1),
                tracer.on_py_return(&code, &value),
            ];
            for outcome in disabled {
                assert_eq!(outcome.unwrap_or_else(|e| panic!("{e}")), Outcome::Disable);
            }
            // RAISE and PY_UNWIND cannot be disabled: they are ignored.
            for outcome in [
                tracer.on_exception(&code, error, "raise"),
                tracer.on_py_unwind(&code, error),
            ] {
                assert_eq!(outcome.unwrap_or_else(|e| panic!("{e}")), Outcome::Continue);
            }
            let traced = py
                .eval(c"compile('x = 1', '<traced>', 'exec')", None, Some(&scope))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                tracer
                    .on_py_start(&traced)
                    .unwrap_or_else(|e| panic!("{e}")),
                Outcome::Continue
            );
            assert_eq!(tracer.filter_stats, {
                let mut skipped = crate::filter::summary::FilterStats::default();
                skipped
                    .record_scope(&crate::filter::engine::ScopeResolution::Skip { reason: None });
                skipped
            });
        });
    }
}
