//! Classification of `std::io::Error` into recorder errors.

use std::io;
use std::path::Path;

use crate::{ErrorCode, ErrorKind, RecorderError, RecorderResult};

/// The code an I/O error maps to: disk full, permission denied, interrupted, or `ERR_IO`.
///
/// The errno decides when there is one (so a simulated fault and a real one are
/// classified alike); otherwise the `io::ErrorKind`.
pub fn code_for_io(err: &io::Error) -> ErrorCode {
    if let Some(errno) = err.raw_os_error() {
        return match errno {
            libc::ENOSPC | libc::EFBIG | libc::EDQUOT => ErrorCode::DiskFull,
            libc::EACCES | libc::EPERM | libc::EROFS => ErrorCode::PermissionDenied,
            libc::EINTR => ErrorCode::Interrupted,
            _ => ErrorCode::Io,
        };
    }
    match err.kind() {
        io::ErrorKind::StorageFull | io::ErrorKind::FileTooLarge | io::ErrorKind::QuotaExceeded => {
            ErrorCode::DiskFull
        }
        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
            ErrorCode::PermissionDenied
        }
        io::ErrorKind::Interrupted => ErrorCode::Interrupted,
        _ => ErrorCode::Io,
    }
}

impl RecorderError {
    /// An Environment error for a failed I/O operation, with `operation`, `path`
    /// and (when known) `errno` in its context.
    pub fn io(err: io::Error, operation: &str, path: &Path) -> RecorderError {
        let code = code_for_io(&err);
        let message = format!("{operation} {} failed: {err}", path.display());
        let mut error = RecorderError::new(ErrorKind::Environment, code, message)
            .with_context("operation", operation)
            .with_context("path", path.display());
        if let Some(errno) = err.raw_os_error() {
            error.set_context("errno", errno);
        }
        error.with_source(err)
    }
}

impl From<io::Error> for RecorderError {
    fn from(err: io::Error) -> RecorderError {
        let code = code_for_io(&err);
        let mut error = RecorderError::new(ErrorKind::Environment, code, err.to_string());
        if let Some(errno) = err.raw_os_error() {
            error.set_context("errno", errno);
        }
        error.with_source(err)
    }
}

/// Adds operation and path to an I/O result.
pub trait IoResultExt<T> {
    /// Converts the error with [`RecorderError::io`].
    fn io_context(self, operation: &str, path: &Path) -> RecorderResult<T>;
}

impl<T> IoResultExt<T> for io::Result<T> {
    fn io_context(self, operation: &str, path: &Path) -> RecorderResult<T> {
        self.map_err(|err| RecorderError::io(err, operation, path))
    }
}

/// Adds context entries to any recorder result.
pub trait ResultExt<T> {
    /// Adds one context entry to the error, if any.
    fn context(self, key: &str, value: impl ToString) -> RecorderResult<T>;
}

impl<T> ResultExt<T> for RecorderResult<T> {
    fn context(self, key: &str, value: impl ToString) -> RecorderResult<T> {
        self.map_err(|err| err.with_context(key, value))
    }
}
