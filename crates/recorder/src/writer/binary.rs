//! `trace.bin`: runtime_tracing's `HEADERV1` followed by a seekable zstd
//! stream of CBOR-encoded events (what `CborZstdTraceWriter` produces).
//!
//! [`BinarySink`] encodes events to CBOR on the interpreter's thread;
//! [`Compressor`], the file's [`Stage`], compresses each chunk where chunks
//! are written (the writer thread of a recording, inline for `recover`).

use std::io;
use std::path::Path;

use faultfs::StagedFile;
use runtime_tracing::{FunctionId, TraceLowLevelEvent, VariableId};
use zeekstd::seek_table::Format;
use zeekstd::RawEncoder;

use super::chunk::{
    write_chunk, ChunkOut, FileOpError, FileOpResult, OpResultExt, Stage, CHUNK_SIZE,
};
use super::{cbor, SerializedArgs};

/// runtime_tracing's binary header (`cbor_zstd_writer::HEADERV1`).
pub const HEADERV1: [u8; 8] = [0xC0, 0xDE, 0x72, 0xAC, 0xE2, 0x01, 0x00, 0x00];

/// `trace.bin` writer.
pub(super) struct BinarySink {
    out: ChunkOut,
    buf: Vec<u8>,
}

impl BinarySink {
    /// Encodes into `out`, a file that starts with [`HEADERV1`] and passes
    /// its chunks through a [`Compressor`].
    pub(super) fn new(out: ChunkOut) -> BinarySink {
        BinarySink {
            out,
            buf: Vec::with_capacity(CHUNK_SIZE + 4096),
        }
    }

    /// The staged file.
    pub(super) fn path(&self) -> &Path {
        self.out.path()
    }

    /// Where the chunks go.
    pub(super) fn out(&self) -> &ChunkOut {
        &self.out
    }

    /// Appends the CBOR of `event`; a full buffer is handed over to be
    /// compressed.
    pub(super) fn write(&mut self, event: &TraceLowLevelEvent) -> FileOpResult<()> {
        cbor::write_event(&mut self.buf, event).op("encode")?;
        self.written()
    }

    /// Appends a `Value` event whose value's CBOR is `value` (see [`BinarySink::write`]).
    pub(super) fn write_value_bytes(
        &mut self,
        variable_id: VariableId,
        value: &[u8],
    ) -> FileOpResult<()> {
        cbor::write_value_event(&mut self.buf, variable_id, value);
        self.written()
    }

    /// Appends a `Call` event whose arguments' values are serialised in
    /// `args` (see [`BinarySink::write`]).
    pub(super) fn write_call_bytes(
        &mut self,
        function_id: FunctionId,
        args: &SerializedArgs,
    ) -> FileOpResult<()> {
        cbor::write_call_event(&mut self.buf, function_id, args);
        self.written()
    }

    /// After an event was appended: a full buffer goes on (see [`BinarySink::write`]).
    fn written(&mut self) -> FileOpResult<()> {
        if self.buf.len() >= CHUNK_SIZE {
            self.out.hand_buffer(&mut self.buf)?;
        }
        Ok(())
    }

    /// Compresses what is buffered, ends the zstd frame (so every block is
    /// whole) and hands the file's buffer to the operating system.
    pub(super) fn flush_to_os(&mut self) -> FileOpResult<()> {
        self.out.hand_buffer(&mut self.buf)?;
        self.out.flush_file()
    }

    /// Ends the zstd frame, appends the seek table, then flushes and fsyncs.
    pub(super) fn finish(mut self) -> FileOpResult<()> {
        self.out.hand_buffer(&mut self.buf)?;
        self.out.finish()
    }
}

/// The seekable zstd stream of `trace.bin`: compresses each chunk and hands
/// what zstd made of it to the file, then the file's buffer to the
/// operating system (compressed pieces are small: left in the file's
/// buffer, a kill would lose megabytes of events).
pub(super) struct Compressor {
    zbuf: Vec<u8>,
    encoder: RawEncoder<'static>,
    /// Bytes were compressed into the current zstd frame since it began.
    frame_open: bool,
}

impl Compressor {
    /// A fresh stream.
    pub(super) fn new() -> FileOpResult<Compressor> {
        Ok(Compressor {
            zbuf: vec![0; CHUNK_SIZE],
            encoder: RawEncoder::new().map_err(io::Error::other).op("compress")?,
            frame_open: false,
        })
    }

    /// Ends the current zstd frame and hands its epilogue over.
    fn end_frame(&mut self, file: &mut StagedFile) -> FileOpResult<()> {
        loop {
            let progress = self
                .encoder
                .end_frame(&mut self.zbuf)
                .map_err(io::Error::other)
                .op("compress")?;
            write_chunk(file, &self.zbuf[..progress.out_progress()])?;
            if progress.data_left() == 0 {
                self.frame_open = false;
                return Ok(());
            }
        }
    }
}

impl Stage for Compressor {
    fn chunk(&mut self, file: &mut StagedFile, bytes: &[u8]) -> FileOpResult<()> {
        let mut consumed = 0;
        let mut handed = false;
        while consumed < bytes.len() {
            let progress = self
                .encoder
                .compress(&bytes[consumed..], &mut self.zbuf)
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
            handed |= progress.out_progress() > 0;
            write_chunk(file, &self.zbuf[..progress.out_progress()])?;
        }
        if handed {
            std::io::Write::flush(file).op("flush")?;
        }
        Ok(())
    }

    fn flush(&mut self, file: &mut StagedFile) -> FileOpResult<()> {
        if self.frame_open {
            self.end_frame(file)?;
        }
        std::io::Write::flush(file).op("flush")
    }

    fn finish(&mut self, file: &mut StagedFile) -> FileOpResult<()> {
        if self.frame_open || self.encoder.seek_table().num_frames() == 0 {
            self.end_frame(file)?;
        }
        let mut table = self
            .encoder
            .seek_table()
            .clone()
            .into_format_serializer(Format::Foot);
        loop {
            let written = table.write_into(&mut self.zbuf);
            if written == 0 {
                break;
            }
            write_chunk(file, &self.zbuf[..written])?;
        }
        Ok(())
    }
}
