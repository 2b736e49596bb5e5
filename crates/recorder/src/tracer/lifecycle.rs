//! Creating a tracer over a staged directory, finishing it (balancing every
//! open frame, committing the output) and settling it after a failure.

use faultfs::StagedDir;
use pyo3::prelude::*;
use recorder_errors::prelude::*;
use runtime_tracing::{ReturnRecord, TraceLowLevelEvent, NONE_VALUE};

use super::filtering::{Activation, CodeCache};
use super::io::IoCoordinator;
use super::threads::Threads;
use super::RuntimeTracer;
use crate::encode::{Limits, ValueEncoder};
use crate::writer::{TraceFormat, TraceMetadataInfo, TraceWriter};

/// What a recording is set up with.
#[derive(Debug, Clone)]
pub struct TracerConfig {
    /// Events file format.
    pub format: TraceFormat,
    /// Record nothing until code from this file starts.
    pub activation_path: Option<String>,
    /// Metadata written at the end.
    pub metadata: TraceMetadataInfo,
}

impl RuntimeTracer {
    /// A tracer writing into `staged`: the preamble, the first thread's
    /// `ThreadStart` and the `<toplevel>` call are written at once.
    pub fn create(
        py: Python<'_>,
        staged: StagedDir,
        config: TracerConfig,
    ) -> RecorderResult<RuntimeTracer> {
        let mut writer = TraceWriter::create(staged, config.format, &config.metadata.program)?;
        let threads = Threads::start(&mut writer)?;
        writer.toplevel_call()?;
        let activation = Activation::new(config.activation_path.as_deref());
        Ok(RuntimeTracer {
            writer,
            encoder: ValueEncoder::new(Limits::default()),
            codes: CodeCache::new(py),
            threads,
            io: IoCoordinator::new(activation.is_active()),
            activation,
            recorded: 0,
            metadata: config.metadata,
        })
    }

    /// Hands buffered events to the file.
    pub fn flush(&mut self) -> RecorderResult<()> {
        self.writer.flush()
    }

    /// Writes the IO still captured, balances every open frame and the
    /// `<toplevel>` call, then commits the trace (the IO capture is already
    /// uninstalled). With `require_trace`, a recording without events is
    /// `ERR_TRACE_MISSING` instead. On error the output is still unsettled:
    /// follow with [`RuntimeTracer::settle_failed`].
    pub fn finish(&mut self, require_trace: bool) -> RecorderResult<()> {
        if require_trace && self.recorded == 0 {
            return Err(enverr!(
                ErrorCode::TraceMissing,
                "require_trace is set and no event was recorded"
            ));
        }
        self.io.drain(&mut self.threads, &mut self.writer)?;
        self.close_frames()?;
        self.writer.commit(&self.metadata)
    }

    /// Settles the output after `error`: marked partial (best effort: the IO
    /// still captured written, frames balanced, events file closed) when
    /// `keep_partial`, else absent.
    pub fn settle_failed(
        &mut self,
        error: &RecorderError,
        keep_partial: bool,
    ) -> RecorderResult<()> {
        if keep_partial {
            let _ = self.io.drain(&mut self.threads, &mut self.writer);
            let _ = self.close_frames();
            self.metadata.partial_reason = Some(error.code().as_str().to_string());
        }
        self.writer
            .settle_failed(error, keep_partial, &self.metadata)
    }

    fn close_frames(&mut self) -> RecorderResult<()> {
        self.threads.close_all(&mut self.writer)?;
        self.writer.emit(&TraceLowLevelEvent::Return(ReturnRecord {
            return_value: NONE_VALUE,
        }))
    }
}
