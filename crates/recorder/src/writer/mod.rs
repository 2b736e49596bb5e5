//! The trace writer: interns paths, functions, types ([`TypeInterner`]) and
//! variable names, serialises `runtime_tracing` events ([`json`], `binary`)
//! through an [`EventSink`] into a `faultfs::StagedDir`, and settles the
//! directory as complete, partial or absent.

mod binary;
mod cbor;
mod chunk;
mod files;
mod interner;
pub mod json;
mod metadata;
mod quiesce;
mod sink;
mod worker;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use faultfs::{Settled, StagedDir};
use recorder_errors::prelude::*;
use runtime_tracing::{
    CallRecord, FunctionId, FunctionRecord, Line, PathId, TraceLowLevelEvent, TypeId, TypeKind,
    TypeRecord, TypeSpecificInfo, ValueRecord, VariableId,
};

pub use binary::HEADERV1;
pub use files::{write_events, write_whole};
pub use interner::TypeInterner;
pub use metadata::{ExactBytes, ExitStatus, TraceMetadataInfo};
pub use sink::TraceFormat;

use sink::EventSink;

/// File listing the source paths in `PathId` order.
pub const PATHS_FILE: &str = "trace_paths.json";
/// File with `TraceMetadata` fields plus the `recorder` object.
pub const METADATA_FILE: &str = "trace_metadata.json";
/// Name of the writer's outermost function.
pub const TOPLEVEL_NAME: &str = "<toplevel>";

/// The arguments of one call, each value serialised in the trace's format
/// ([`TraceWriter::serialize_value`]), for [`TraceWriter::emit_value_bytes`]
/// and [`TraceWriter::emit_call_bytes`]. Reused from call to call.
#[derive(Debug, Default)]
pub struct SerializedArgs {
    bytes: Vec<u8>,
    args: Vec<(VariableId, std::ops::Range<usize>)>,
}

impl SerializedArgs {
    /// Forgets every argument (keeping the memory).
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.args.clear();
    }

    /// Adds an argument whose serialised value `write` appends.
    pub fn push(
        &mut self,
        variable_id: VariableId,
        write: impl FnOnce(&mut Vec<u8>) -> RecorderResult<()>,
    ) -> RecorderResult<()> {
        let start = self.bytes.len();
        if let Err(err) = write(&mut self.bytes) {
            self.bytes.truncate(start);
            return Err(err);
        }
        self.args.push((variable_id, start..self.bytes.len()));
        Ok(())
    }

    /// The serialised value of the last argument pushed.
    pub fn last(&self) -> &[u8] {
        self.args
            .last()
            .and_then(|(_, range)| self.bytes.get(range.clone()))
            .unwrap_or_default()
    }

    /// How many arguments there are.
    pub fn len(&self) -> usize {
        self.args.len()
    }

    /// Each argument's variable and serialised value, in order.
    pub fn iter(&self) -> impl Iterator<Item = (VariableId, &[u8])> + '_ {
        self.args.iter().map(|(variable_id, range)| {
            (
                *variable_id,
                self.bytes.get(range.clone()).unwrap_or_default(),
            )
        })
    }
}

/// How the output of a failed recording was left.
#[derive(Debug)]
pub struct Settlement {
    /// What settling left on disk; `None` when it is unknown (the staged
    /// directory went into a commit that panicked; its destructor removed
    /// what it could).
    pub settled: Option<Settled>,
    /// Why the partial trace that was asked for could not be kept (the
    /// output fell back to absent).
    pub error: Option<RecorderError>,
}

/// Streams one trace into a staged directory.
#[derive(Debug)]
pub struct TraceWriter {
    staged: Option<StagedDir>,
    sink: Option<EventSink>,
    format: TraceFormat,
    paths: HashMap<String, PathId>,
    path_list: Vec<String>,
    functions: HashMap<(PathId, i64, String), FunctionId>,
    /// Type ids by interning key ([`TypeInterner`]).
    types: HashMap<String, TypeId>,
    variables: HashMap<String, VariableId>,
    /// The exact bytes of interned paths that are not UTF-8, by path id.
    exact_paths: BTreeMap<usize, Vec<u8>>,
    /// Events written so far (for the finish log line).
    events: u64,
    /// Side files whose bytes are complete (written and fsynced) in staging.
    finished_side_files: Vec<&'static str>,
    /// The staged directory went into `StagedDir::commit`: the output is
    /// settled whatever happened there (a panic included).
    committing: bool,
    /// What a failed `StagedDir::commit` left when it rolled back to absent.
    rollback: Option<Settled>,
    /// A hand-off to the events file failed: its bytes have a gap.
    events_broken: bool,
    /// The events file was terminated, flushed and fsynced.
    events_closed: bool,
}

impl TraceWriter {
    /// Creates the events file in `staged` and writes the preamble: the `None`
    /// type (id 0), the program's path and the `<toplevel>` function (id 0).
    pub fn create(
        mut staged: StagedDir,
        format: TraceFormat,
        program: &str,
    ) -> RecorderResult<TraceWriter> {
        let name = format.events_file();
        let file = staged
            .create_file(name)
            .io_context("create", &staged.target().join(name))?;
        let path = file.path().to_path_buf();
        let sink = EventSink::new(format, file, true).map_err(|err| err.at(&path))?;
        let mut writer = TraceWriter {
            staged: Some(staged),
            sink: Some(sink),
            format,
            paths: HashMap::new(),
            path_list: Vec::new(),
            functions: HashMap::new(),
            types: HashMap::new(),
            variables: HashMap::new(),
            exact_paths: BTreeMap::new(),
            events: 0,
            finished_side_files: Vec::new(),
            committing: false,
            rollback: None,
            events_broken: false,
            events_closed: false,
        };
        writer.intern_type("None", || TypeRecord {
            kind: TypeKind::None,
            lang_type: "None".to_string(),
            specific_info: TypeSpecificInfo::None,
        })?;
        let path_id = writer.ensure_path(program)?;
        writer.ensure_function(TOPLEVEL_NAME, path_id, 1)?;
        Ok(writer)
    }

    /// The output format.
    pub fn format(&self) -> TraceFormat {
        self.format
    }

    /// The trace directory.
    pub fn target(&self) -> Option<&Path> {
        self.staged.as_ref().map(StagedDir::target)
    }

    /// Events written so far (including interning events).
    pub fn event_count(&self) -> u64 {
        self.events
    }

    /// Writes one event.
    pub fn emit(&mut self, event: &TraceLowLevelEvent) -> RecorderResult<()> {
        self.emit_with(|sink| sink.write(event))
    }

    /// Writes one event with `write`, counted; a failure breaks the events file.
    fn emit_with(
        &mut self,
        write: impl FnOnce(&mut EventSink) -> chunk::FileOpResult<()>,
    ) -> RecorderResult<()> {
        let Some(sink) = self.sink.as_mut() else {
            return Err(bug!(
                ErrorCode::TraceIncomplete,
                "the trace writer is already closed"
            ));
        };
        match write(sink) {
            Ok(()) => {
                self.events += 1;
                Ok(())
            }
            Err(err) => {
                self.events_broken = true;
                Err(err.at(sink.path()))
            }
        }
    }

    /// Appends to `out` the serialisation of `value` in this trace's
    /// format, as it appears inside a `Value` event: what
    /// [`TraceWriter::emit_value_bytes`] takes.
    pub fn serialize_value(&self, value: &ValueRecord, out: &mut Vec<u8>) -> RecorderResult<()> {
        let written = match self.format {
            TraceFormat::Json => json::write_value(out, value).map_err(std::io::Error::other),
            TraceFormat::Binary => cbor::write_value(out, value),
        };
        written.map_err(|err| bug!(ErrorCode::Io, "cannot serialise a value: {err}"))
    }

    /// Writes a `Value` event for `variable_id` whose value is `value`, as
    /// [`TraceWriter::serialize_value`] serialised it: byte for byte the
    /// event [`TraceWriter::emit`] writes for that record.
    pub fn emit_value_bytes(
        &mut self,
        variable_id: VariableId,
        value: &[u8],
    ) -> RecorderResult<()> {
        self.emit_with(|sink| sink.write_value_bytes(variable_id, value))
    }

    /// Writes a `Call` event of `function_id` with the arguments serialised
    /// in `args`: byte for byte the event [`TraceWriter::emit`] writes for
    /// the same records.
    pub fn emit_call_bytes(
        &mut self,
        function_id: FunctionId,
        args: &SerializedArgs,
    ) -> RecorderResult<()> {
        self.emit_with(|sink| sink.write_call_bytes(function_id, args))
    }

    /// The `Call` of the `<toplevel>` function.
    pub fn toplevel_call(&mut self) -> RecorderResult<()> {
        self.emit(&TraceLowLevelEvent::Call(CallRecord {
            function_id: FunctionId(0),
            args: Vec::new(),
        }))
    }

    /// Hands buffered events to the file and the file's buffer to the
    /// operating system: events written before a `flush` survive the process
    /// being killed (`recover` finds them).
    pub fn flush(&mut self) -> RecorderResult<()> {
        if let Some(sink) = self.sink.as_mut() {
            if let Err(err) = sink.flush_to_os() {
                self.events_broken = true;
                return Err(err.at(sink.path()));
            }
        }
        Ok(())
    }

    /// The id of `path`, writing a `Path` event the first time.
    pub fn ensure_path(&mut self, path: &str) -> RecorderResult<PathId> {
        if let Some(id) = self.paths.get(path) {
            return Ok(*id);
        }
        let id = PathId(self.path_list.len());
        self.emit(&TraceLowLevelEvent::Path(PathBuf::from(path)))?;
        self.paths.insert(path.to_string(), id);
        self.path_list.push(path.to_string());
        Ok(id)
    }

    /// The id of `path`, which need not be UTF-8: the trace holds its text
    /// (U+FFFD for a byte that is not UTF-8) and the metadata its exact bytes.
    pub fn ensure_os_path(&mut self, path: &Path) -> RecorderResult<PathId> {
        let id = self.ensure_path(&path.to_string_lossy())?;
        if let Some(bytes) = metadata::inexact_bytes(path.as_os_str()) {
            self.exact_paths.entry(id.0).or_insert(bytes);
        }
        Ok(id)
    }

    /// The id of function `name` defined at `path_id:line`, writing a `Function` event the first time.
    pub fn ensure_function(
        &mut self,
        name: &str,
        path_id: PathId,
        line: i64,
    ) -> RecorderResult<FunctionId> {
        let key = (path_id, line, name.to_string());
        if let Some(id) = self.functions.get(&key) {
            return Ok(*id);
        }
        let id = FunctionId(self.functions.len());
        self.emit(&TraceLowLevelEvent::Function(FunctionRecord {
            path_id,
            line: Line(line),
            name: name.to_string(),
        }))?;
        self.functions.insert(key, id);
        Ok(id)
    }

    /// The id of variable `name`, writing a `VariableName` event the first time.
    pub fn ensure_variable(&mut self, name: &str) -> RecorderResult<VariableId> {
        if let Some(id) = self.variables.get(name) {
            return Ok(*id);
        }
        let id = VariableId(self.variables.len());
        self.emit(&TraceLowLevelEvent::VariableName(name.to_string()))?;
        self.variables.insert(name.to_string(), id);
        Ok(id)
    }

    /// Closes the events file, writes `trace_paths.json` and
    /// `trace_metadata.json` (last) and commits the directory. A staging
    /// directory that cannot be removed after a complete commit is logged as
    /// a warning and listed in the returned [`Settled`]; the trace stays.
    ///
    /// On error the directory is still unsettled: follow with
    /// [`TraceWriter::settle_failed`].
    pub fn commit(&mut self, info: &TraceMetadataInfo) -> RecorderResult<Settled> {
        self.close_events()?;
        self.write_side_files(info)?;
        let Some(staged) = self.staged.take() else {
            return Err(bug!(
                ErrorCode::TraceIncomplete,
                "the trace directory is already settled"
            ));
        };
        let target = staged.target().to_path_buf();
        self.committing = true;
        match staged.commit() {
            Ok(settled) => {
                if let Some(cleanup_error) = settled.cleanup_error() {
                    log::warn!(
                        "trace {} is complete, but {} could not be removed: {cleanup_error}",
                        target.display(),
                        settled.leftovers_text()
                    );
                }
                Ok(settled)
            }
            Err(failed) => {
                let (err, settled) = failed.into_parts();
                self.rollback = Some(settled);
                Err(RecorderError::io(err, "commit", &target))
            }
        }
    }

    /// Settles the output after `error`: marked partial (with the events written
    /// so far, the array closed when the file still accepts writes, and the
    /// side files) when `keep_partial`, else absent. Says what is on disk.
    ///
    /// A partial output never carries a file under its final name that cannot
    /// be read or that claims completeness: a binary events file whose stream
    /// broke is left out; `trace_paths.json` is kept only when it was finished
    /// (else written again); `trace_metadata.json` is always written again,
    /// saying `partial` with `error`'s code; a side file that cannot be
    /// written is discarded (left out of the partial trace). When a failed
    /// commit already rolled the output back to absent, keeping it partial is
    /// impossible: that is an error saying so.
    pub fn settle_failed(
        &mut self,
        error: &RecorderError,
        keep_partial: bool,
        info: &TraceMetadataInfo,
    ) -> Settlement {
        let Some(staged) = self.staged.take() else {
            let settled = self.rollback.take();
            let error = (keep_partial && self.committing).then(|| {
                enverr!(
                    ErrorCode::TraceIncomplete,
                    "the failed commit already removed the staged trace; nothing is kept"
                )
            });
            return Settlement { settled, error };
        };
        if !keep_partial {
            self.sink = None;
            return Settlement {
                settled: Some(staged.abort()),
                error: None,
            };
        }
        let target = staged.target().to_path_buf();
        // Best effort: whatever still fits makes the partial trace more useful.
        self.staged = Some(staged);
        self.close_partial_events();
        if !self.finished_side_files.contains(&PATHS_FILE) {
            let _ = self.replace_paths();
        }
        let mut partial = info.clone();
        partial.partial_reason = Some(error.code().as_str().to_string());
        let _ = self.replace_metadata(&partial);
        let Some(staged) = self.staged.take() else {
            return Settlement {
                settled: None,
                error: None,
            };
        };
        match staged.keep_partial(error.code().as_str(), error.message()) {
            Ok(settled) => Settlement {
                settled: Some(settled),
                error: None,
            },
            Err(failed) => {
                let (err, settled) = failed.into_parts();
                Settlement {
                    settled: Some(settled),
                    error: Some(RecorderError::io(err, "keep partial", &target)),
                }
            }
        }
    }

    fn close_events(&mut self) -> RecorderResult<()> {
        let Some(sink) = self.sink.take() else {
            return Ok(());
        };
        let path = sink.path().to_path_buf();
        let closed = sink.finish().map_err(|err| err.at(&path));
        self.events_closed = closed.is_ok();
        self.events_broken |= closed.is_err();
        closed
    }

    /// Closes the events file of a trace about to be kept partial. A JSON file
    /// is kept as it is (its reader stops at the last complete line); a binary
    /// file is kept only when its zstd stream was closed without a gap, since
    /// a broken stream reads as nothing: otherwise it is discarded.
    fn close_partial_events(&mut self) {
        if self.format == TraceFormat::Binary && self.events_broken {
            self.sink = None;
        } else {
            let _ = self.close_events();
        }
        if self.format == TraceFormat::Binary && (self.events_broken || !self.events_closed) {
            let _ = self.discard(self.format.events_file());
        }
    }

    fn write_side_files(&mut self, info: &TraceMetadataInfo) -> RecorderResult<()> {
        self.write_paths()?;
        self.write_metadata(info)
    }

    fn write_paths(&mut self) -> RecorderResult<()> {
        let paths = self.paths_json()?;
        self.write_small_file(PATHS_FILE, &paths)
    }

    fn write_metadata(&mut self, info: &TraceMetadataInfo) -> RecorderResult<()> {
        let metadata = self.metadata_json(info)?;
        self.write_small_file(METADATA_FILE, &metadata)
    }

    fn replace_paths(&mut self) -> RecorderResult<()> {
        let paths = self.paths_json()?;
        self.replace_small_file(PATHS_FILE, &paths)
    }

    fn replace_metadata(&mut self, info: &TraceMetadataInfo) -> RecorderResult<()> {
        let metadata = self.metadata_json(info)?;
        self.replace_small_file(METADATA_FILE, &metadata)
    }

    fn paths_json(&self) -> RecorderResult<Vec<u8>> {
        serde_json::to_vec(&self.path_list)
            .map_err(|err| bug!(ErrorCode::Io, "cannot serialise the trace paths: {err}"))
    }

    fn metadata_json(&self, info: &TraceMetadataInfo) -> RecorderResult<Vec<u8>> {
        info.to_json(self.format, &self.exact_paths)
            .map_err(|err| bug!(ErrorCode::Io, "cannot serialise the trace metadata: {err}"))
    }

    /// Writes `name` afresh: any staged version (finished or half-written) is
    /// discarded first, and the new one is discarded again if it cannot be
    /// completed, so the name is either complete or left out.
    fn replace_small_file(&mut self, name: &'static str, bytes: &[u8]) -> RecorderResult<()> {
        self.discard(name)?;
        let written = self.write_small_file(name, bytes);
        if written.is_err() {
            // A failed discard still keeps the file from being placed.
            let _ = self.discard(name);
        }
        written
    }

    /// Gives up the staged file `name`, if there is one.
    fn discard(&mut self, name: &'static str) -> RecorderResult<()> {
        self.finished_side_files.retain(|done| *done != name);
        let Some(staged) = self.staged.as_mut() else {
            return Ok(());
        };
        let path = staged.staging().join(name);
        match staged.discard(name) {
            Err(err) if err.raw_os_error() != Some(libc::ENOENT) => {
                Err(RecorderError::io(err, "remove", &path))
            }
            _ => Ok(()),
        }
    }

    fn write_small_file(&mut self, name: &'static str, bytes: &[u8]) -> RecorderResult<()> {
        let Some(staged) = self.staged.as_mut() else {
            return Err(bug!(
                ErrorCode::TraceIncomplete,
                "the trace directory is already settled"
            ));
        };
        write_whole(staged, name, bytes)?;
        self.finished_side_files.push(name);
        Ok(())
    }
}
