//! Errors between the two worlds. A faultfs error is an errno
//! (`io::Error::from_raw_os_error`); a `vfs` error is a `VfsErrorKind`.
//!
//! | `vfs` | faultfs |
//! |---|---|
//! | `IoError(e)` | `e`'s errno, or `e`'s kind and message when it has none |
//! | `FileNotFound` | `ENOENT` |
//! | `DirectoryExists`, `FileExists` | `EEXIST` |
//! | `InvalidPath` | `EINVAL` |
//! | `NotSupported` | `ENOTSUP` (`ErrorKind::Unsupported`) |
//! | `Other(message)` and the rest | `ErrorKind::Other` with the message |
//!
//! The other way every `io::Error` becomes `VfsErrorKind::IoError`, keeping
//! its errno and kind, except two that `vfs` has kinds of its own for (the
//! errno number is not kept): `NotFound` (`ENOENT`) becomes `FileNotFound`
//! (`vfs` itself does this), and `Unsupported` (`ENOTSUP`, `ENOSYS`) becomes
//! `NotSupported`, so `VfsPath::move_file`, `move_dir` and `copy_file` fall
//! back to copying, as they do over a `vfs` filesystem that lacks the call.

use std::io;

use vfs::error::VfsErrorKind;
use vfs::VfsError;

use crate::errno::os_error;

/// The faultfs (errno) form of a `vfs` error.
pub(super) fn io_error(err: VfsError) -> io::Error {
    match err.kind() {
        VfsErrorKind::IoError(cause) => match cause.raw_os_error() {
            Some(errno) => os_error(errno),
            None => io::Error::new(cause.kind(), err.to_string()),
        },
        VfsErrorKind::FileNotFound => os_error(libc::ENOENT),
        VfsErrorKind::DirectoryExists | VfsErrorKind::FileExists => os_error(libc::EEXIST),
        VfsErrorKind::InvalidPath => os_error(libc::EINVAL),
        VfsErrorKind::NotSupported => unsupported(),
        _ => io::Error::other(err.to_string()),
    }
}

/// `ENOTSUP`: what the `vfs` filesystem cannot do.
pub(super) fn unsupported() -> io::Error {
    os_error(libc::ENOTSUP)
}

/// The `vfs` form of a faultfs error, with `what` failed on which path as
/// its context (`vfs::VfsPath` replaces the context with its own and adds
/// the path).
pub(super) fn vfs_error(err: io::Error, what: &str, vfs_path: &str) -> VfsError {
    let context = format!("faultfs could not {what} '{vfs_path}'");
    let kind = match err.kind() {
        io::ErrorKind::Unsupported => VfsErrorKind::NotSupported,
        _ => VfsErrorKind::IoError(err),
    };
    VfsError::from(kind).with_context(|| context)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errno(err: VfsErrorKind) -> Option<i32> {
        io_error(VfsError::from(err)).raw_os_error()
    }

    #[test]
    fn vfs_kinds_become_errnos() {
        assert_eq!(errno(VfsErrorKind::FileNotFound), Some(libc::ENOENT));
        assert_eq!(errno(VfsErrorKind::DirectoryExists), Some(libc::EEXIST));
        assert_eq!(errno(VfsErrorKind::FileExists), Some(libc::EEXIST));
        assert_eq!(errno(VfsErrorKind::InvalidPath), Some(libc::EINVAL));
        assert_eq!(errno(VfsErrorKind::NotSupported), Some(libc::ENOTSUP));
        assert_eq!(
            io_error(VfsErrorKind::NotSupported.into()).kind(),
            io::ErrorKind::Unsupported
        );
        let io = VfsErrorKind::IoError(os_error(libc::ENOSPC));
        assert_eq!(errno(io), Some(libc::ENOSPC));
        let other = io_error(VfsErrorKind::Other("Parent path does not exist".into()).into());
        assert_eq!(other.kind(), io::ErrorKind::Other);
        assert!(other.to_string().contains("Parent path does not exist"));
        let plain = VfsErrorKind::IoError(io::Error::new(io::ErrorKind::InvalidData, "bad"));
        assert_eq!(io_error(plain.into()).kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn errnos_survive_into_vfs_errors() {
        let err = vfs_error(os_error(libc::EACCES), "create file", "/a");
        match err.kind() {
            VfsErrorKind::IoError(cause) => assert_eq!(cause.raw_os_error(), Some(libc::EACCES)),
            other => panic!("expected an IoError, got {other:?}"),
        }
        assert!(err
            .to_string()
            .starts_with("faultfs could not create file '/a'"));
        let missing = vfs_error(os_error(libc::ENOENT), "remove file", "/a");
        assert!(matches!(missing.kind(), VfsErrorKind::FileNotFound));
        let unsupported = vfs_error(unsupported(), "move", "/a");
        assert!(matches!(unsupported.kind(), VfsErrorKind::NotSupported));
    }
}
