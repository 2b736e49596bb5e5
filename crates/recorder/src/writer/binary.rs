//! `trace.bin`: runtime_tracing's `HEADERV1` followed by a seekable zstd
//! stream of CBOR-encoded events (what `CborZstdTraceWriter` produces).

use std::io;
use std::path::Path;

use runtime_tracing::{FunctionId, TraceLowLevelEvent, VariableId};
use zeekstd::seek_table::Format;
use zeekstd::RawEncoder;

use super::chunk::{ChunkOut, FileOpError, FileOpResult, OpResultExt, CHUNK_SIZE};
use super::{cbor, SerializedArgs};

/// runtime_tracing's binary header (`cbor_zstd_writer::HEADERV1`).
pub const HEADERV1: [u8; 8] = [0xC0, 0xDE, 0x72, 0xAC, 0xE2, 0x01, 0x00, 0x00];

/// `trace.bin` writer.
pub(super) struct BinarySink {
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
    /// Writes the header and starts the compressed stream.
    pub(super) fn new(mut out: ChunkOut) -> FileOpResult<BinarySink> {
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

    /// The staged file.
    pub(super) fn path(&self) -> &Path {
        self.out.path()
    }

    /// Appends the CBOR of `event`; a full buffer is compressed and handed
    /// over, and what zstd made of it goes on to the operating system
    /// (compressed pieces are small: left in the file's buffer, a kill would
    /// lose megabytes of events).
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

    /// Compresses what is buffered, ends the zstd frame (so every block is
    /// whole) and hands the file's buffer to the operating system.
    pub(super) fn flush_to_os(&mut self) -> FileOpResult<()> {
        self.flush()?;
        if self.frame_open {
            self.end_frame()?;
        }
        self.out.flush_file()
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

    /// Ends the zstd frame, appends the seek table, then flushes and fsyncs.
    pub(super) fn finish(mut self) -> FileOpResult<()> {
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
