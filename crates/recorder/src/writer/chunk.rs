//! The one place trace bytes leave the recorder: bounded chunks handed to a
//! `faultfs` staged file, each passing the `recorder::writer` fail point.
//! Every failure names the operation that failed (`write`, `flush`, `fsync`).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use faultfs::StagedFile;
use recorder_errors::RecorderError;

/// A failed operation on a trace file: which one, and why.
#[derive(Debug)]
pub struct FileOpError {
    operation: &'static str,
    error: io::Error,
}

impl FileOpError {
    /// `error` from `operation` (`write`, `flush`, `fsync`, `encode`, ...).
    pub fn new(operation: &'static str, error: io::Error) -> FileOpError {
        FileOpError { operation, error }
    }

    /// The recorder error for this failure on `path`.
    pub fn at(self, path: &Path) -> RecorderError {
        RecorderError::io(self.error, self.operation, path)
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

/// A staged file that receives whole chunks.
#[derive(Debug)]
pub struct ChunkOut {
    file: StagedFile,
    path: PathBuf,
}

impl ChunkOut {
    /// Wraps a freshly created staged file.
    pub fn new(file: StagedFile) -> ChunkOut {
        let path = file.path().to_path_buf();
        ChunkOut { file, path }
    }

    /// The staged path, for error context.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one chunk through faultfs.
    pub fn hand(&mut self, chunk: &[u8]) -> FileOpResult<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        failpoint().op("write")?;
        self.file.write_all(chunk).op("write")
    }

    /// Hands the file's buffered bytes to the operating system (op `flush`):
    /// from then on they survive the process being killed.
    pub fn flush_file(&mut self) -> FileOpResult<()> {
        self.file.flush().op("flush")
    }

    /// Flushes, then fsyncs the file.
    pub fn finish(mut self) -> FileOpResult<()> {
        self.file.flush().op("flush")?;
        self.file.sync().op("fsync")
    }
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
