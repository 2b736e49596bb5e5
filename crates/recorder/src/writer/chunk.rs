//! The one place trace bytes leave the recorder: bounded chunks passed
//! through the file's [`Stage`] (as they are, or compressed) to a `faultfs`
//! staged file, each write passing the `recorder::writer` fail point, either
//! inline or on the events file's writer thread ([`super::worker`]). Every
//! failure names the operation that failed (`write`, `flush`, `fsync`,
//! `compress`), or is the panic the writer thread caught.

use std::any::Any;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use faultfs::StagedFile;
use recorder_errors::RecorderError;

use super::worker::{Output, Worker, WorkerFailure};
use crate::panics;

/// A failed operation on a trace file: which one, and why.
#[derive(Debug)]
pub struct FileOpError(Failure);

#[derive(Debug)]
enum Failure {
    Op {
        operation: &'static str,
        error: io::Error,
    },
    /// A panic the writer thread caught (its payload): `ERR_PANIC`, counted
    /// when it becomes a recorder error, on the interpreter's thread.
    Panic(Box<dyn Any + Send>),
    /// A failure that is already a recorder error (a poisoned lock).
    Error(RecorderError),
}

impl FileOpError {
    /// `error` from `operation` (`write`, `flush`, `fsync`, `encode`, ...).
    pub fn new(operation: &'static str, error: io::Error) -> FileOpError {
        FileOpError(Failure::Op { operation, error })
    }

    /// A failure that is already a recorder error.
    pub fn from_error(error: RecorderError) -> FileOpError {
        FileOpError(Failure::Error(error))
    }

    /// The failure that stopped a writer thread.
    pub fn from_worker(failure: WorkerFailure) -> FileOpError {
        match failure {
            WorkerFailure::Op(err) => err,
            WorkerFailure::Panic(payload) => FileOpError(Failure::Panic(payload)),
        }
    }

    /// The recorder error for this failure on `path` (a panic becomes
    /// `ERR_PANIC`, counted like a panic caught at the FFI boundary).
    pub fn at(self, path: &Path) -> RecorderError {
        match self.0 {
            Failure::Op { operation, error } => RecorderError::io(error, operation, path),
            Failure::Panic(payload) => panics::caught("writer thread", payload.as_ref()),
            Failure::Error(error) => error,
        }
    }
}

/// The result of an operation on a trace file.
pub type FileOpResult<T> = Result<T, FileOpError>;

/// Names the operation of an I/O result.
pub trait OpResultExt<T> {
    /// The error, if any, as a failure of `operation`.
    fn op(self, operation: &'static str) -> FileOpResult<T>;
}

impl<T> OpResultExt<T> for io::Result<T> {
    fn op(self, operation: &'static str) -> FileOpResult<T> {
        self.map_err(|error| FileOpError::new(operation, error))
    }
}

/// Size at which buffered event bytes are handed to the file.
pub const CHUNK_SIZE: usize = 64 * 1024;

/// What happens to a file's chunks on their way to it: written as they are
/// ([`Plain`]), or compressed (`super::binary`). A stage runs where the
/// chunks are written: inline, or on the writer thread.
pub trait Stage: Send + 'static {
    /// Passes one chunk on to `file`.
    fn chunk(&mut self, file: &mut StagedFile, bytes: &[u8]) -> FileOpResult<()>;

    /// Makes everything passed on so far readable from the file's bytes
    /// alone, then hands the file's buffer to the operating system.
    fn flush(&mut self, file: &mut StagedFile) -> FileOpResult<()>;

    /// Ends the stream; the file is flushed and fsynced after it.
    fn finish(&mut self, file: &mut StagedFile) -> FileOpResult<()>;
}

/// Chunks written as they are.
#[derive(Debug)]
pub struct Plain;

impl Stage for Plain {
    fn chunk(&mut self, file: &mut StagedFile, bytes: &[u8]) -> FileOpResult<()> {
        write_chunk(file, bytes)
    }

    fn flush(&mut self, file: &mut StagedFile) -> FileOpResult<()> {
        file.flush().op("flush")
    }

    fn finish(&mut self, _file: &mut StagedFile) -> FileOpResult<()> {
        Ok(())
    }
}

/// Hands `bytes` to `file` through the `recorder::writer` fail point and
/// faultfs (nothing for no bytes).
pub fn write_chunk(file: &mut StagedFile, bytes: &[u8]) -> FileOpResult<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    failpoint().op("write")?;
    file.write_all(bytes).op("write")
}

/// A staged file that receives whole chunks through its [`Stage`], inline
/// or on a writer thread.
pub struct ChunkOut {
    path: PathBuf,
    /// The file and its stage, when they are written inline.
    inline: Option<Output>,
    /// The writer, when a writer thread writes them.
    worker: Option<Worker>,
}

impl std::fmt::Debug for ChunkOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkOut")
            .field("path", &self.path)
            .field("threaded", &self.worker.is_some())
            .finish()
    }
}

impl ChunkOut {
    /// Wraps a freshly created staged file, written inline as it is.
    pub fn new(file: StagedFile) -> ChunkOut {
        ChunkOut {
            path: file.path().to_path_buf(),
            inline: Some((file, Box::new(Plain))),
            worker: None,
        }
    }

    /// Wraps a freshly created staged file: `prefix` is written as it is,
    /// then every chunk goes through `stage`, on a writer thread when
    /// `threaded` (a recording), else inline (`recover`).
    pub fn staged(
        mut file: StagedFile,
        stage: Box<dyn Stage>,
        prefix: &[u8],
        threaded: bool,
    ) -> FileOpResult<ChunkOut> {
        let path = file.path().to_path_buf();
        write_chunk(&mut file, prefix)?;
        let (inline, worker) = if threaded {
            (None, Some(Worker::new((file, stage))))
        } else {
            (Some((file, stage)), None)
        };
        Ok(ChunkOut {
            path,
            inline,
            worker,
        })
    }

    /// The staged path, for error context.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The writer thread's failure since the last check, once (checked at
    /// every event, so it surfaces inside the next callback).
    pub fn failure(&self) -> FileOpResult<()> {
        match self.worker.as_ref().and_then(|w| w.health().take_failure()) {
            Some(failure) => Err(FileOpError::from_worker(failure)),
            None => Ok(()),
        }
    }

    /// Passes the bytes of `buf` through the stage to the file and leaves
    /// `buf` empty (with a writer thread: queued without a copy, waiting
    /// while the queue is full).
    pub fn hand_buffer(&mut self, buf: &mut Vec<u8>) -> FileOpResult<()> {
        if buf.is_empty() {
            return Ok(());
        }
        if let Some(worker) = self.worker.as_mut() {
            return worker.hand(buf);
        }
        let written = self.hand(buf);
        buf.clear();
        written
    }

    /// Passes `chunk` through the stage to the file (with a writer thread:
    /// a copy is queued).
    pub fn hand(&mut self, chunk: &[u8]) -> FileOpResult<()> {
        if let Some(worker) = self.worker.as_mut() {
            return worker.hand(&mut chunk.to_vec());
        }
        let (file, stage) = self.inline.as_mut().ok_or_else(closed)?;
        stage.chunk(file, chunk)
    }

    /// Makes every chunk handed so far readable from the file and hands the
    /// file's buffer to the operating system (op `flush`): from then on they
    /// survive the process being killed. With a writer thread, returns once
    /// it has done so.
    pub fn flush_file(&mut self) -> FileOpResult<()> {
        if let Some(worker) = self.worker.as_mut() {
            return worker.flush();
        }
        let (file, stage) = self.inline.as_mut().ok_or_else(closed)?;
        stage.flush(file)
    }

    /// Ends the stream (after the writer thread, if any, has written its
    /// queue and stopped), then flushes and fsyncs the file.
    pub fn finish(mut self) -> FileOpResult<()> {
        let (mut file, mut stage) = match self.worker.as_mut() {
            Some(worker) => worker.stop()?,
            None => self.inline.take().ok_or_else(closed)?,
        };
        stage.finish(&mut file)?;
        file.flush().op("flush")?;
        file.sync().op("fsync")
    }
}

/// A chunk handed to a file that is no longer there.
fn closed() -> FileOpError {
    FileOpError::new(
        "write",
        io::Error::other("the events file is already closed"),
    )
}

/// `recorder::writer`: `return(ERRNO)` fails the hand-off, `panic` panics.
fn failpoint() -> io::Result<()> {
    faultfs::note_failpoint("recorder::writer");
    fail::fail_point!("recorder::writer", |arg: Option<String>| {
        Err(io::Error::from_raw_os_error(errno_from(arg.as_deref())))
    });
    Ok(())
}

/// The errno a `return(...)` fail-point action names (EIO when none or unknown).
#[cfg_attr(not(feature = "failure-fixtures"), allow(dead_code))]
fn errno_from(arg: Option<&str>) -> i32 {
    arg.and_then(faultfs::parse_errno).unwrap_or(libc::EIO)
}

#[cfg(test)]
mod tests {
    use super::errno_from;

    #[test]
    fn return_arguments_name_errnos() {
        assert_eq!(errno_from(None), libc::EIO);
        assert_eq!(errno_from(Some("ENOSPC")), libc::ENOSPC);
        assert_eq!(errno_from(Some("eacces")), libc::EACCES);
        assert_eq!(errno_from(Some("28")), 28);
        assert_eq!(errno_from(Some("bogus")), libc::EIO);
    }
}
