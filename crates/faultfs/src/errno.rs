//! Errno values as `io::Error`s, and the errno names a fault plan accepts.

use std::io;

/// The error the kernel would return for `errno` (same `raw_os_error` and kind).
pub(crate) fn os_error(errno: i32) -> io::Error {
    io::Error::from_raw_os_error(errno)
}

/// Errno names accepted in fault plans and `return(...)` fail-point actions.
const NAMES: &[(&str, i32)] = &[
    ("ENOSPC", libc::ENOSPC),
    ("EACCES", libc::EACCES),
    ("EPERM", libc::EPERM),
    ("EIO", libc::EIO),
    ("EROFS", libc::EROFS),
    ("EFBIG", libc::EFBIG),
    ("EINTR", libc::EINTR),
    ("EDQUOT", libc::EDQUOT),
    ("ENOENT", libc::ENOENT),
    ("EEXIST", libc::EEXIST),
    ("ENOTDIR", libc::ENOTDIR),
    ("EISDIR", libc::EISDIR),
    ("ENOTEMPTY", libc::ENOTEMPTY),
    ("EBUSY", libc::EBUSY),
    ("EAGAIN", libc::EAGAIN),
    ("EMFILE", libc::EMFILE),
    ("EXDEV", libc::EXDEV),
    ("ELOOP", libc::ELOOP),
];

/// Parses an errno name (`ENOSPC`, any case) or a positive number (`28`).
pub fn parse_errno(text: &str) -> Option<i32> {
    let text = text.trim();
    if let Ok(number) = text.parse::<i32>() {
        return (number > 0).then_some(number);
    }
    NAMES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(text))
        .map(|&(_, errno)| errno)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_parse() {
        assert_eq!(parse_errno("ENOSPC"), Some(libc::ENOSPC));
        assert_eq!(parse_errno("eio"), Some(libc::EIO));
        assert_eq!(parse_errno(" 28 "), Some(28));
        assert_eq!(parse_errno("0"), None);
        assert_eq!(parse_errno("-5"), None);
        assert_eq!(parse_errno("ENOPE"), None);
    }

    #[test]
    fn os_error_matches_kernel_kind() {
        let err = os_error(libc::ENOSPC);
        assert_eq!(err.raw_os_error(), Some(libc::ENOSPC));
        assert_eq!(err.kind(), io::ErrorKind::StorageFull);
        assert_eq!(
            os_error(libc::EACCES).kind(),
            io::ErrorKind::PermissionDenied
        );
    }
}
