//! The one place trace bytes leave the recorder: bounded chunks handed to a
//! `faultfs` staged file, each passing the `recorder::writer` fail point,
//! either inline or through the events file's writer thread
//! ([`super::worker`]). Every failure names the operation that failed
//! (`write`, `flush`, `fsync`), or is the panic the writer thread caught.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use faultfs::StagedFile;
use recorder_errors::prelude::*;

use super::worker::{Worker, WorkerFailure, WorkerHealth};
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
    /// The writer thread panicked (the panic is already logged).
    Panic(RecorderError),
}

impl FileOpError {
    /// `error` from `operation` (`write`, `flush`, `fsync`, `encode`, ...).
    pub fn new(operation: &'static str, error: io::Error) -> FileOpError {
        FileOpError(Failure::Op { operation, error })
    }

    /// The failure that stopped a writer thread (a panic becomes `ERR_PANIC`,
    /// counted like a panic caught at the FFI boundary).
    pub fn from_worker(failure: WorkerFailure) -> FileOpError {
        match failure {
            WorkerFailure::Op(err) => err,
            WorkerFailure::Panic(payload) => FileOpError(Failure::Panic(panics::caught(
                "writer thread",
                payload.as_ref(),
            ))),
        }
    }

    /// The recorder error for this failure on `path`.
    pub fn at(self, path: &Path) -> RecorderError {
        match self.0 {
            Failure::Op { operation, error } => RecorderError::io(error, operation, path),
            Failure::Panic(err) => err,
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
/// or on a writer thread ([`super::worker`]).
pub struct ChunkOut {
    path: PathBuf,
    /// The file and its stage, while they are used inline (`None` while the
    /// writer thread has them, or once a lost writer thread took them along).
    inline: Option<(StagedFile, Box<dyn Stage>)>,
    worker: Option<Worker>,
    /// The writer thread's failure flag (never set when there is none).
    health: WorkerHealth,
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
        let path = file.path().to_path_buf();
        ChunkOut {
            path,
            inline: Some((file, Box::new(Plain))),
            worker: None,
            health: WorkerHealth::default(),
        }
    }

    /// Wraps a freshly created staged file: `prefix` is written as it is,
    /// then every chunk goes through `stage`, on a writer thread when
    /// `threaded` (inline when no thread can be started).
    pub fn staged(
        mut file: StagedFile,
        stage: Box<dyn Stage>,
        prefix: &[u8],
        threaded: bool,
    ) -> FileOpResult<ChunkOut> {
        let path = file.path().to_path_buf();
        write_chunk(&mut file, prefix)?;
        if !threaded {
            return Ok(ChunkOut {
                path,
                inline: Some((file, stage)),
                worker: None,
                health: WorkerHealth::default(),
            });
        }
        Ok(match Worker::start(file, stage) {
            Ok(worker) => ChunkOut {
                path,
                inline: None,
                health: worker.health(),
                worker: Some(worker),
            },
            Err(inline) => ChunkOut {
                path,
                inline: Some(inline),
                worker: None,
                health: WorkerHealth::default(),
            },
        })
    }

    /// The staged path, for error context.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The writer thread's failure flag, for checking it at every event.
    pub fn health(&self) -> WorkerHealth {
        self.health.clone()
    }

    /// Passes one chunk through the stage to the file (queued for the
    /// writer thread, which gets a copy; waits while its queue is full).
    pub fn hand(&mut self, chunk: &[u8]) -> FileOpResult<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        if let Some(worker) = self.worker.as_mut() {
            if worker.hand(chunk) {
                return Ok(());
            }
            self.stop_worker()?;
        }
        let (file, stage) = self.inline()?;
        stage.chunk(file, chunk)
    }

    /// Makes every chunk handed so far readable from the file and hands the
    /// file's buffer to the operating system (op `flush`): from then on they
    /// survive the process being killed. With a writer thread, returns once
    /// it has done so.
    pub fn flush_file(&mut self) -> FileOpResult<()> {
        if let Some(worker) = self.worker.as_mut() {
            if worker.barrier() {
                return Ok(());
            }
            self.stop_worker()?;
        }
        let (file, stage) = self.inline()?;
        stage.flush(file)
    }

    /// Ends the stream, then flushes and fsyncs the file.
    pub fn finish(mut self) -> FileOpResult<()> {
        self.stop_worker()?;
        let (mut file, mut stage) = self.inline.take().ok_or_else(lost_file)?;
        stage.finish(&mut file)?;
        file.flush().op("flush")?;
        file.sync().op("fsync")
    }

    /// Stops the writer thread after its queue is written and takes the file
    /// back: its failure, when it stopped on one that was not taken yet (a
    /// failure taken at an event leaves the file to be written inline from
    /// here on, as it was before the thread).
    fn stop_worker(&mut self) -> FileOpResult<()> {
        let Some(mut worker) = self.worker.take() else {
            return Ok(());
        };
        self.inline = worker.stop(false);
        match self.health.take_failure() {
            Some(failure) => Err(FileOpError::from_worker(failure)),
            None => Ok(()),
        }
    }

    fn inline(&mut self) -> FileOpResult<(&mut StagedFile, &mut Box<dyn Stage>)> {
        self.inline
            .as_mut()
            .map(|(file, stage)| (file, stage))
            .ok_or_else(lost_file)
    }
}

/// A writer thread that ended without giving its file back.
fn lost_file() -> FileOpError {
    FileOpError::new(
        "write",
        io::Error::other("the events file was lost with its writer thread"),
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
