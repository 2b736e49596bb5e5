//! The events file of either format: [`TraceFormat`] names it, [`EventSink`]
//! hands each event to the format's sink ([`super::json`], [`super::binary`]),
//! which buffers its bytes in chunks of [`super::CHUNK_SIZE`] so memory stays
//! flat however long the trace runs. A recording's chunks are written (and,
//! in binary, compressed) by a writer thread ([`super::worker`]), whose
//! failure is checked before every event.

use std::path::Path;

use faultfs::StagedFile;
use runtime_tracing::{FunctionId, TraceLowLevelEvent, VariableId};

use super::binary::{BinarySink, Compressor, HEADERV1};
use super::chunk::{ChunkOut, FileOpResult, Plain};
use super::json::JsonSink;
use super::SerializedArgs;

/// The trace events file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceFormat {
    /// `trace.json`.
    Json,
    /// `trace.bin`.
    Binary,
}

impl TraceFormat {
    /// Parses `json` / `binary` (any case).
    pub fn parse(text: &str) -> Option<TraceFormat> {
        match text.to_ascii_lowercase().as_str() {
            "json" => Some(TraceFormat::Json),
            "binary" => Some(TraceFormat::Binary),
            _ => None,
        }
    }

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            TraceFormat::Json => "json",
            TraceFormat::Binary => "binary",
        }
    }

    /// The events file name in the trace directory.
    pub fn events_file(self) -> &'static str {
        match self {
            TraceFormat::Json => "trace.json",
            TraceFormat::Binary => "trace.bin",
        }
    }
}

/// Where serialised events go.
pub enum EventSink {
    /// JSON lines inside one array.
    Json(JsonSink),
    /// CBOR in seekable zstd.
    Binary(BinarySink),
}

impl std::fmt::Debug for EventSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EventSink::Json(sink) => f.debug_tuple("Json").field(&sink.path()).finish(),
            EventSink::Binary(sink) => f.debug_tuple("Binary").field(&sink.path()).finish(),
        }
    }
}

impl EventSink {
    /// A sink of `format` writing to `file`, through a writer thread when
    /// `threaded` (a recording), else inline (`recover`).
    pub fn new(format: TraceFormat, file: StagedFile, threaded: bool) -> FileOpResult<EventSink> {
        Ok(match format {
            TraceFormat::Json => {
                let out = ChunkOut::staged(file, Box::new(Plain), b"", threaded)?;
                EventSink::Json(JsonSink::new(out))
            }
            TraceFormat::Binary => {
                let stage = Box::new(Compressor::new()?);
                let out = ChunkOut::staged(file, stage, &HEADERV1, threaded)?;
                EventSink::Binary(BinarySink::new(out))
            }
        })
    }

    /// The staged events file.
    pub fn path(&self) -> &Path {
        match self {
            EventSink::Json(sink) => sink.path(),
            EventSink::Binary(sink) => sink.path(),
        }
    }

    /// Serialises one event (handing a chunk to the file when the buffer is
    /// full). A failure of the writer thread since the last event is this
    /// event's error.
    pub fn write(&mut self, event: &TraceLowLevelEvent) -> FileOpResult<()> {
        self.out().failure()?;
        match self {
            EventSink::Json(sink) => sink.write(event),
            EventSink::Binary(sink) => sink.write(event),
        }
    }

    /// Writes a `Value` event for `variable_id` whose value is already
    /// serialised in this format (`value`): the bytes [`EventSink::write`]
    /// writes for that event.
    pub fn write_value_bytes(&mut self, variable_id: VariableId, value: &[u8]) -> FileOpResult<()> {
        self.out().failure()?;
        match self {
            EventSink::Json(sink) => sink.write_value_bytes(variable_id, value),
            EventSink::Binary(sink) => sink.write_value_bytes(variable_id, value),
        }
    }

    /// Writes a `Call` event whose arguments' values are already serialised
    /// in this format (`args`): the bytes [`EventSink::write`] writes for
    /// that event.
    pub fn write_call_bytes(
        &mut self,
        function_id: FunctionId,
        args: &SerializedArgs,
    ) -> FileOpResult<()> {
        self.out().failure()?;
        match self {
            EventSink::Json(sink) => sink.write_call_bytes(function_id, args),
            EventSink::Binary(sink) => sink.write_call_bytes(function_id, args),
        }
    }

    /// Where the chunks go.
    fn out(&self) -> &ChunkOut {
        match self {
            EventSink::Json(sink) => sink.out(),
            EventSink::Binary(sink) => sink.out(),
        }
    }

    /// Makes every event written so far recoverable if the process dies now:
    /// hands the buffer to the file (binary: compressed, with the zstd frame
    /// ended so that every block is complete) and the file's buffer to the
    /// operating system.
    pub fn flush_to_os(&mut self) -> FileOpResult<()> {
        match self {
            EventSink::Json(sink) => sink.flush_to_os(),
            EventSink::Binary(sink) => sink.flush_to_os(),
        }
    }

    /// Terminates the stream (closing `]` / final frame and seek table), then
    /// flushes and fsyncs the file.
    pub fn finish(self) -> FileOpResult<()> {
        match self {
            EventSink::Json(sink) => sink.finish(),
            EventSink::Binary(sink) => sink.finish(),
        }
    }
}
