//! Event serialisation for the two file formats, buffered in chunks of
//! [`CHUNK_SIZE`] so memory stays flat however long the trace runs.
//!
//! - `json`: `trace.json`, `[` on the first line, one event per line, `,` after
//!   every event but the last, `]` on the last line;
//! - `binary`: `trace.bin`, runtime_tracing's `HEADERV1` followed by a seekable
//!   zstd stream of CBOR-encoded events (what `CborZstdTraceWriter` produces).

use std::io;
use std::path::Path;

use runtime_tracing::TraceLowLevelEvent;
use zeekstd::seek_table::Format;
use zeekstd::RawEncoder;

use super::chunk::{ChunkOut, FileOpError, FileOpResult, OpResultExt, CHUNK_SIZE};

/// runtime_tracing's binary header (`cbor_zstd_writer::HEADERV1`).
pub const HEADERV1: [u8; 8] = [0xC0, 0xDE, 0x72, 0xAC, 0xE2, 0x01, 0x00, 0x00];

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
            EventSink::Json(sink) => f.debug_tuple("Json").field(&sink.out.path()).finish(),
            EventSink::Binary(sink) => f.debug_tuple("Binary").field(&sink.out.path()).finish(),
        }
    }
}

impl EventSink {
    /// A sink of `format` writing to `out`.
    pub fn new(format: TraceFormat, out: ChunkOut) -> FileOpResult<EventSink> {
        Ok(match format {
            TraceFormat::Json => EventSink::Json(JsonSink::new(out)),
            TraceFormat::Binary => EventSink::Binary(BinarySink::new(out)?),
        })
    }

    /// The staged events file.
    pub fn path(&self) -> &Path {
        match self {
            EventSink::Json(sink) => sink.out.path(),
            EventSink::Binary(sink) => sink.out.path(),
        }
    }

    /// Serialises one event (handing a chunk to the file when the buffer is full).
    pub fn write(&mut self, event: &TraceLowLevelEvent) -> FileOpResult<()> {
        match self {
            EventSink::Json(sink) => sink.write(event),
            EventSink::Binary(sink) => sink.write(event),
        }
    }

    /// Makes every event written so far recoverable if the process dies now:
    /// hands the buffer to the file (binary: compressed, with the zstd frame
    /// ended so that every block is complete) and the file's buffer to the
    /// operating system.
    pub fn flush_to_os(&mut self) -> FileOpResult<()> {
        match self {
            EventSink::Json(sink) => {
                sink.flush()?;
                sink.out.flush_file()
            }
            EventSink::Binary(sink) => {
                sink.flush()?;
                if sink.frame_open {
                    sink.end_frame()?;
                }
                sink.out.flush_file()
            }
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

/// `trace.json` writer.
pub struct JsonSink {
    out: ChunkOut,
    buf: Vec<u8>,
    first: bool,
}

impl JsonSink {
    fn new(out: ChunkOut) -> JsonSink {
        let mut buf = Vec::with_capacity(CHUNK_SIZE + 4096);
        buf.extend_from_slice(b"[\n");
        JsonSink {
            out,
            buf,
            first: true,
        }
    }

    fn write(&mut self, event: &TraceLowLevelEvent) -> FileOpResult<()> {
        if !self.first {
            self.buf.extend_from_slice(b",\n");
        }
        self.first = false;
        crate::encode::json::write_event(&mut self.buf, event)
            .map_err(io::Error::other)
            .op("encode")?;
        if self.buf.len() >= CHUNK_SIZE {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> FileOpResult<()> {
        let result = self.out.hand(&self.buf);
        self.buf.clear();
        result
    }

    fn finish(mut self) -> FileOpResult<()> {
        self.buf.extend_from_slice(b"\n]\n");
        self.flush()?;
        self.out.finish()
    }
}

/// `trace.bin` writer.
pub struct BinarySink {
    out: ChunkOut,
    buf: Vec<u8>,
    zbuf: Vec<u8>,
    encoder: RawEncoder<'static>,
    /// Bytes were compressed into the current zstd frame since it began.
    frame_open: bool,
    /// Compressed bytes were handed over since the file was last flushed.
    handed: bool,
}

impl BinarySink {
    fn new(mut out: ChunkOut) -> FileOpResult<BinarySink> {
        out.hand(&HEADERV1)?;
        Ok(BinarySink {
            out,
            buf: Vec::with_capacity(CHUNK_SIZE + 4096),
            zbuf: vec![0; CHUNK_SIZE],
            encoder: RawEncoder::new().map_err(io::Error::other).op("compress")?,
            frame_open: false,
            handed: false,
        })
    }

    /// Serialises one event; a full buffer is compressed and handed over, and
    /// what zstd made of it goes on to the operating system (compressed
    /// pieces are small: left in the file's buffer, a kill would lose
    /// megabytes of events).
    fn write(&mut self, event: &TraceLowLevelEvent) -> FileOpResult<()> {
        let buf = std::mem::take(&mut self.buf);
        self.buf = cbor4ii::serde::to_vec(buf, event)
            .map_err(io::Error::other)
            .op("encode")?;
        if self.buf.len() >= CHUNK_SIZE {
            self.flush()?;
            if self.handed {
                self.out.flush_file()?;
                self.handed = false;
            }
        }
        Ok(())
    }

    /// Compresses the buffered CBOR and hands the compressed bytes over.
    fn flush(&mut self) -> FileOpResult<()> {
        let mut consumed = 0;
        while consumed < self.buf.len() {
            let progress = self
                .encoder
                .compress(&self.buf[consumed..], &mut self.zbuf)
                .map_err(io::Error::other)
                .op("compress")?;
            if progress.in_progress() == 0 && progress.out_progress() == 0 {
                return Err(FileOpError::new(
                    "compress",
                    io::Error::other("zstd encoder made no progress"),
                ));
            }
            consumed += progress.in_progress();
            self.frame_open = true;
            self.handed |= progress.out_progress() > 0;
            self.out.hand(&self.zbuf[..progress.out_progress()])?;
        }
        self.buf.clear();
        Ok(())
    }

    /// Ends the current zstd frame and hands its epilogue over.
    fn end_frame(&mut self) -> FileOpResult<()> {
        loop {
            let progress = self
                .encoder
                .end_frame(&mut self.zbuf)
                .map_err(io::Error::other)
                .op("compress")?;
            self.out.hand(&self.zbuf[..progress.out_progress()])?;
            if progress.data_left() == 0 {
                self.frame_open = false;
                return Ok(());
            }
        }
    }

    fn finish(mut self) -> FileOpResult<()> {
        self.flush()?;
        if self.frame_open || self.encoder.seek_table().num_frames() == 0 {
            self.end_frame()?;
        }
        let mut table = self
            .encoder
            .into_seek_table()
            .into_format_serializer(Format::Foot);
        loop {
            let written = table.write_into(&mut self.zbuf);
            if written == 0 {
                break;
            }
            self.out.hand(&self.zbuf[..written])?;
        }
        self.out.finish()
    }
}
