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

/// A staged file that receives whole chunks, written inline or by a writer
/// thread.
#[derive(Debug)]
pub struct ChunkOut {
    path: PathBuf,
    /// The file, while it is written inline (`None` while the writer thread
    /// has it, or once a lost writer thread took it along).
    file: Option<StagedFile>,
    worker: Option<Worker>,
    /// The writer thread's failure flag (never set when there is none).
    health: WorkerHealth,
}

impl ChunkOut {
    /// Wraps a freshly created staged file, written inline.
    pub fn new(file: StagedFile) -> ChunkOut {
        let path = file.path().to_path_buf();
        ChunkOut {
            path,
            file: Some(file),
            worker: None,
            health: WorkerHealth::default(),
        }
    }

    /// Wraps a freshly created staged file whose chunks a writer thread
    /// writes (inline when no thread can be started).
    pub fn threaded(file: StagedFile) -> ChunkOut {
        let path = file.path().to_path_buf();
        match Worker::start(file) {
            Ok(worker) => ChunkOut {
                path,
                file: None,
                health: worker.health(),
                worker: Some(worker),
            },
            Err(file) => ChunkOut::new(file),
        }
    }

    /// The staged path, for error context.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The writer thread's failure flag, for checking it at every event.
    pub fn health(&self) -> WorkerHealth {
        self.health.clone()
    }

    /// Writes one chunk through faultfs (queued for the writer thread, which
    /// writes a copy; waits while its queue is full).
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
        let file = self.inline_file()?;
        failpoint().op("write")?;
        file.write_all(chunk).op("write")
    }

    /// Hands the file's buffered bytes to the operating system (op `flush`):
    /// from then on they survive the process being killed. With a writer
    /// thread, returns once it has written every chunk handed before.
    pub fn flush_file(&mut self) -> FileOpResult<()> {
        if let Some(worker) = self.worker.as_mut() {
            if worker.barrier() {
                return Ok(());
            }
            self.stop_worker()?;
        }
        self.inline_file()?.flush().op("flush")
    }

    /// Flushes, then fsyncs the file.
    pub fn finish(mut self) -> FileOpResult<()> {
        self.flush_file()?;
        self.stop_worker()?;
        self.file.take().ok_or_else(lost_file)?.sync().op("fsync")
    }

    /// Stops the writer thread after its queue is written and takes the file
    /// back: its failure, when it stopped on one that was not taken yet (a
    /// failure taken at an event leaves the file to be written inline from
    /// here on, as it was before the thread).
    fn stop_worker(&mut self) -> FileOpResult<()> {
        let Some(mut worker) = self.worker.take() else {
            return Ok(());
        };
        self.file = worker.stop(false);
        match self.health.take_failure() {
            Some(failure) => Err(FileOpError::from_worker(failure)),
            None => Ok(()),
        }
    }

    fn inline_file(&mut self) -> FileOpResult<&mut StagedFile> {
        self.file.as_mut().ok_or_else(lost_file)
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
pub(super) fn failpoint() -> io::Result<()> {
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
