//! Creating a tracer over a staged directory, finishing it (balancing every
//! open frame, committing the output) and settling it after a failure.

use std::path::PathBuf;

use faultfs::StagedDir;
use recorder_errors::prelude::*;
use runtime_tracing::{ReturnRecord, TraceLowLevelEvent, NONE_VALUE};

use super::filtering::{Activation, CodeCache};
use super::io::IoCoordinator;
use super::threads::Threads;
use super::RuntimeTracer;
use crate::encode::{Limits, ValueEncoder};
use crate::filter::engine::FilterEngine;
use crate::filter::model::IoConfig;
use crate::filter::summary::{FilterStats, FilterSummary};
use crate::writer::{
    ExitStatus, SerializedArgs, Settlement, TraceFormat, TraceMetadataInfo, TraceWriter,
};

/// The environment variable that turns off reusing the bytes of unchanged
/// values when set to `0` (a diagnostic switch: the trace is the same either way).
pub const VALUE_REUSE_ENV: &str = "CODETRACER_VALUE_REUSE";

/// Whether line-step values may be reused (see [`VALUE_REUSE_ENV`]).
fn value_reuse_enabled() -> bool {
    std::env::var_os(VALUE_REUSE_ENV).is_none_or(|value| value != "0")
}

/// Every file a settled trace directory may hold.
const OUTPUT_FILES: [&str; 5] = [
    "trace.json",
    "trace.bin",
    crate::writer::PATHS_FILE,
    crate::writer::METADATA_FILE,
    faultfs::PARTIAL_MARKER,
];

/// What a recording is set up with.
#[derive(Debug)]
pub struct TracerConfig {
    /// Events file format.
    pub format: TraceFormat,
    /// Record nothing until code from this file starts.
    pub activation_path: Option<PathBuf>,
    /// The trace filters, placed in the running interpreter.
    pub filters: FilterEngine,
    /// Name module code after its globals' `__name__` (policy `module_name_from_globals`).
    pub module_name_from_globals: bool,
    /// Metadata written at the end.
    pub metadata: TraceMetadataInfo,
}

impl RuntimeTracer {
    /// A tracer writing into `staged`: the preamble, the first thread's
    /// `ThreadStart` and the `<toplevel>` call are written at once.
    pub fn create(staged: StagedDir, config: TracerConfig) -> RecorderResult<RuntimeTracer> {
        let target = staged.target().to_path_buf();
        let program = toplevel_path(&config.metadata);
        let mut writer = TraceWriter::create(staged, config.format, &program)?;
        let threads = Threads::start(&mut writer)?;
        writer.toplevel_call()?;
        let activation = Activation::new(config.activation_path.as_deref());
        let mut encoder = ValueEncoder::new(Limits::default());
        encoder.set_reuse(value_reuse_enabled());
        Ok(RuntimeTracer {
            writer,
            encoder,
            codes: CodeCache::new(config.filters, config.module_name_from_globals),
            threads,
            io: IoCoordinator::new(activation.is_active()),
            activation,
            filter_stats: FilterStats::default(),
            recorded: 0,
            metadata: config.metadata,
            target,
            args: SerializedArgs::default(),
        })
    }

    /// The names of the trace filters, in chain order.
    pub fn filter_names(&self) -> Vec<&str> {
        self.codes
            .engine()
            .chain()
            .sources
            .iter()
            .map(|source| source.meta.name.as_str())
            .collect()
    }

    /// The `[io]` settings of the trace filters (the last filter with an
    /// `[io]` table wins; `None` when none has one).
    pub fn io_config(&self) -> Option<&IoConfig> {
        self.codes.engine().chain().io.as_ref()
    }

    /// Records the program's exit status (`stop(exit_code=...)`) for the metadata.
    pub fn set_exit_status(&mut self, code: Option<i64>) {
        self.metadata.exit_status = Some(ExitStatus::from_code(code));
    }

    /// Whether recording is on (its activation file, if any, has started).
    pub fn activated(&self) -> bool {
        self.activation.is_active()
    }

    /// The events format.
    pub fn format(&self) -> TraceFormat {
        self.writer.format()
    }

    /// Events written so far (interning events included).
    pub fn event_count(&self) -> u64 {
        self.writer.event_count()
    }

    /// The bytes of the recorder's files now in the trace directory (after
    /// a commit or a partial settle); `None` when none can be read.
    pub fn output_bytes(&self) -> Option<u64> {
        let sizes: Vec<u64> = OUTPUT_FILES
            .iter()
            .filter_map(|name| std::fs::metadata(self.target.join(name)).ok())
            .map(|metadata| metadata.len())
            .collect();
        (!sizes.is_empty()).then(|| sizes.iter().sum())
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
        self.summarise_filters();
        self.writer.commit(&self.metadata).map(drop)
    }

    /// Settles the output after `error`: marked partial (best effort: the IO
    /// still captured written, frames balanced, events file closed) when
    /// `keep_partial`, else absent; says what is on disk.
    pub fn settle_failed(&mut self, error: &RecorderError, keep_partial: bool) -> Settlement {
        if keep_partial {
            let _ = self.io.drain(&mut self.threads, &mut self.writer);
            let _ = self.close_frames();
            self.metadata.partial_reason = Some(error.code().as_str().to_string());
            self.summarise_filters();
        }
        self.writer
            .settle_failed(error, keep_partial, &self.metadata)
    }

    /// The metadata's `trace_filter`: the filters applied and the counters so far.
    fn summarise_filters(&mut self) {
        let mut stats = self.filter_stats.clone();
        stats.add(self.encoder.field_stats());
        let summary = FilterSummary::new(self.codes.engine().chain(), &stats);
        self.metadata.trace_filter = serde_json::to_value(summary).ok();
    }

    /// Closes every open frame, then `<toplevel>`: it returns the program's
    /// exit status when `stop(exit_code=N)` gave one (as 0.3 did), else `None`.
    fn close_frames(&mut self) -> RecorderResult<()> {
        self.threads.close_all(&mut self.writer)?;
        let code = self
            .metadata
            .exit_status
            .as_ref()
            .and_then(|status| status.code);
        let return_value = match code {
            Some(code) => self.encoder.known_int(code, &mut self.writer)?,
            None => NONE_VALUE,
        };
        self.writer
            .emit(&TraceLowLevelEvent::Return(ReturnRecord { return_value }))
    }
}

/// The path `<toplevel>` is recorded under: the program made absolute against
/// the working directory when that names a file, so it is the same path as
/// the one its code objects carry (`__main__`'s `__file__` is absolute), and
/// the program as given otherwise (`-c`, an interactive session).
fn toplevel_path(metadata: &TraceMetadataInfo) -> String {
    let program = std::path::Path::new(&metadata.program);
    if program.is_relative() {
        let absolute = metadata.workdir.join(program);
        if absolute.is_file() {
            return absolute.to_string_lossy().into_owned();
        }
    }
    metadata.program.clone()
}
