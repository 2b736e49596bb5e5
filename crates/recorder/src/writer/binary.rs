//! `trace.bin`: runtime_tracing's `HEADERV1` followed by a seekable zstd
//! stream of CBOR-encoded events (what `CborZstdTraceWriter` produces).

use std::io;
use std::path::Path;

use runtime_tracing::TraceLowLevelEvent;
use zeekstd::seek_table::Format;
use zeekstd::RawEncoder;

use super::chunk::{ChunkOut, CHUNK_SIZE};

/// runtime_tracing's binary header (`cbor_zstd_writer::HEADERV1`).
pub const HEADERV1: [u8; 8] = [0xC0, 0xDE, 0x72, 0xAC, 0xE2, 0x01, 0x00, 0x00];

/// `trace.bin` writer.
pub(super) struct BinarySink {
    out: ChunkOut,
    buf: Vec<u8>,
    zbuf: Vec<u8>,
    encoder: RawEncoder<'static>,
}

impl BinarySink {
    /// Writes the header and starts the compressed stream.
    pub(super) fn new(mut out: ChunkOut) -> io::Result<BinarySink> {
        out.hand(&HEADERV1)?;
        Ok(BinarySink {
            out,
            buf: Vec::with_capacity(CHUNK_SIZE + 4096),
            zbuf: vec![0; CHUNK_SIZE],
            encoder: RawEncoder::new().map_err(io::Error::other)?,
        })
    }

    /// The staged file.
    pub(super) fn path(&self) -> &Path {
        self.out.path()
    }

    /// Appends the CBOR of `event` (handing a chunk over when the buffer is full).
    pub(super) fn write(&mut self, event: &TraceLowLevelEvent) -> io::Result<()> {
        let buf = std::mem::take(&mut self.buf);
        self.buf = cbor4ii::serde::to_vec(buf, event).map_err(io::Error::other)?;
        if self.buf.len() >= CHUNK_SIZE {
            self.flush()?;
        }
        Ok(())
    }

    /// Compresses the buffered CBOR and hands the compressed bytes over.
    pub(super) fn flush(&mut self) -> io::Result<()> {
        let mut consumed = 0;
        while consumed < self.buf.len() {
            let progress = self
                .encoder
                .compress(&self.buf[consumed..], &mut self.zbuf)
                .map_err(io::Error::other)?;
            if progress.in_progress() == 0 && progress.out_progress() == 0 {
                return Err(io::Error::other("zstd encoder made no progress"));
            }
            consumed += progress.in_progress();
            self.out.hand(&self.zbuf[..progress.out_progress()])?;
        }
        self.buf.clear();
        Ok(())
    }

    /// Ends the zstd frame, appends the seek table, then flushes and fsyncs.
    pub(super) fn finish(mut self) -> io::Result<()> {
        self.flush()?;
        loop {
            let progress = self
                .encoder
                .end_frame(&mut self.zbuf)
                .map_err(io::Error::other)?;
            self.out.hand(&self.zbuf[..progress.out_progress()])?;
            if progress.data_left() == 0 {
                break;
            }
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
