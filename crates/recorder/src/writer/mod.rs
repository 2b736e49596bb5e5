//! The trace writer: interns paths, functions, types and variable names,
//! streams `runtime_tracing` events through an [`EventSink`] into a
//! `faultfs::StagedDir`, and settles the directory as complete, partial or absent.

mod chunk;
mod metadata;
mod sink;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use faultfs::StagedDir;
use recorder_errors::prelude::*;
use runtime_tracing::{
    CallRecord, FunctionId, FunctionRecord, Line, PathId, TraceLowLevelEvent, TypeId, TypeKind,
    TypeRecord, TypeSpecificInfo, VariableId,
};

pub use chunk::CHUNK_SIZE;
pub use metadata::TraceMetadataInfo;
pub use sink::{TraceFormat, HEADERV1};

use chunk::ChunkOut;
use sink::EventSink;

/// File listing the source paths in `PathId` order.
pub const PATHS_FILE: &str = "trace_paths.json";
/// File with `TraceMetadata` fields plus the `recorder` object.
pub const METADATA_FILE: &str = "trace_metadata.json";
/// Name of the writer's outermost function.
pub const TOPLEVEL_NAME: &str = "<toplevel>";

/// Streams one trace into a staged directory.
#[derive(Debug)]
pub struct TraceWriter {
    staged: Option<StagedDir>,
    sink: Option<EventSink>,
    format: TraceFormat,
    paths: HashMap<String, PathId>,
    path_list: Vec<String>,
    functions: HashMap<(PathId, i64, String), FunctionId>,
    function_sites: Vec<(PathId, Line)>,
    types: HashMap<String, TypeId>,
    variables: HashMap<String, VariableId>,
    events: u64,
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
        let out = ChunkOut::new(file);
        let path = out.path().to_path_buf();
        let sink = EventSink::new(format, out).io_context("write", &path)?;
        let mut writer = TraceWriter {
            staged: Some(staged),
            sink: Some(sink),
            format,
            paths: HashMap::new(),
            path_list: Vec::new(),
            functions: HashMap::new(),
            function_sites: Vec::new(),
            types: HashMap::new(),
            variables: HashMap::new(),
            events: 0,
        };
        writer.ensure_type_id(TypeKind::None, "None")?;
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
        let Some(sink) = self.sink.as_mut() else {
            return Err(bug!(
                ErrorCode::TraceIncomplete,
                "the trace writer is already closed"
            ));
        };
        match sink.write(event) {
            Ok(()) => {
                self.events += 1;
                Ok(())
            }
            Err(err) => {
                let path = sink.path().to_path_buf();
                Err(RecorderError::io(err, "write", &path))
            }
        }
    }

    /// The `Call` of the `<toplevel>` function.
    pub fn toplevel_call(&mut self) -> RecorderResult<()> {
        self.emit(&TraceLowLevelEvent::Call(CallRecord {
            function_id: FunctionId(0),
            args: Vec::new(),
        }))
    }

    /// Hands buffered events to the file.
    pub fn flush(&mut self) -> RecorderResult<()> {
        if let Some(sink) = self.sink.as_mut() {
            if let Err(err) = sink.flush() {
                let path = sink.path().to_path_buf();
                return Err(RecorderError::io(err, "write", &path));
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
        let id = FunctionId(self.function_sites.len());
        self.emit(&TraceLowLevelEvent::Function(FunctionRecord {
            path_id,
            line: Line(line),
            name: name.to_string(),
        }))?;
        self.functions.insert(key, id);
        self.function_sites.push((path_id, Line(line)));
        Ok(id)
    }

    /// Where function `id` is defined.
    pub fn function_site(&self, id: FunctionId) -> Option<(PathId, Line)> {
        self.function_sites.get(id.0).copied()
    }

    /// The id of a type without specific info, keyed by `lang_type`.
    pub fn ensure_type_id(&mut self, kind: TypeKind, lang_type: &str) -> RecorderResult<TypeId> {
        self.ensure_type(lang_type, || TypeRecord {
            kind,
            lang_type: lang_type.to_string(),
            specific_info: TypeSpecificInfo::None,
        })
    }

    /// The id of the type interned under `key`, writing a `Type` event (built by
    /// `record`) the first time.
    pub fn ensure_type(
        &mut self,
        key: &str,
        record: impl FnOnce() -> TypeRecord,
    ) -> RecorderResult<TypeId> {
        if let Some(id) = self.types.get(key) {
            return Ok(*id);
        }
        let id = TypeId(self.types.len());
        self.emit(&TraceLowLevelEvent::Type(record()))?;
        self.types.insert(key.to_string(), id);
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
    /// `trace_metadata.json` (last) and commits the directory.
    ///
    /// On error the directory is still unsettled: follow with
    /// [`TraceWriter::settle_failed`].
    pub fn commit(&mut self, info: &TraceMetadataInfo) -> RecorderResult<()> {
        self.close_events()?;
        self.write_side_files(info)?;
        let Some(staged) = self.staged.take() else {
            return Err(bug!(
                ErrorCode::TraceIncomplete,
                "the trace directory is already settled"
            ));
        };
        let target = staged.target().to_path_buf();
        staged.commit().io_context("commit", &target)
    }

    /// Settles the output after `error`: marked partial (with the events written
    /// so far, the array closed when the file still accepts writes, and the
    /// side files) when `keep_partial`, else absent.
    pub fn settle_failed(
        &mut self,
        error: &RecorderError,
        keep_partial: bool,
        info: &TraceMetadataInfo,
    ) -> RecorderResult<()> {
        let Some(staged) = self.staged.take() else {
            return Ok(());
        };
        let target = staged.target().to_path_buf();
        if !keep_partial {
            self.sink = None;
            return staged.abort().io_context("remove", &target);
        }
        // Best effort: whatever still fits makes the partial trace more useful.
        let _ = self.close_events();
        self.staged = Some(staged);
        let _ = self.write_paths();
        let _ = self.write_metadata(info);
        let Some(staged) = self.staged.take() else {
            return Ok(());
        };
        staged
            .keep_partial(error.code().as_str(), error.message())
            .io_context("keep partial", &target)
    }

    fn close_events(&mut self) -> RecorderResult<()> {
        let Some(sink) = self.sink.take() else {
            return Ok(());
        };
        let path = sink.path().to_path_buf();
        sink.finish().io_context("write", &path)
    }

    fn write_side_files(&mut self, info: &TraceMetadataInfo) -> RecorderResult<()> {
        self.write_paths()?;
        self.write_metadata(info)
    }

    fn write_paths(&mut self) -> RecorderResult<()> {
        let paths = serde_json::to_vec(&self.path_list)
            .map_err(|err| bug!(ErrorCode::Io, "cannot serialise the trace paths: {err}"))?;
        self.write_small_file(PATHS_FILE, &paths)
    }

    fn write_metadata(&mut self, info: &TraceMetadataInfo) -> RecorderResult<()> {
        let metadata = info
            .to_json(self.format)
            .map_err(|err| bug!(ErrorCode::Io, "cannot serialise the trace metadata: {err}"))?;
        self.write_small_file(METADATA_FILE, &metadata)
    }

    fn write_small_file(&mut self, name: &str, bytes: &[u8]) -> RecorderResult<()> {
        let Some(staged) = self.staged.as_mut() else {
            return Err(bug!(
                ErrorCode::TraceIncomplete,
                "the trace directory is already settled"
            ));
        };
        let target = staged.target().join(name);
        let file = staged.create_file(name).io_context("create", &target)?;
        let mut out = ChunkOut::new(file);
        let path = out.path().to_path_buf();
        out.hand(bytes).io_context("write", &path)?;
        out.finish().io_context("fsync", &path)
    }
}
