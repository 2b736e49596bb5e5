//! io::Error classification and the construction macros.

use std::error::Error;
use std::io;
use std::path::Path;

use recorder_errors::code_for_io;
use recorder_errors::prelude::*;

#[test]
fn errnos_map_as_documented() {
    let table = [
        (libc::ENOSPC, ErrorCode::DiskFull),
        (libc::EFBIG, ErrorCode::DiskFull),
        (libc::EDQUOT, ErrorCode::DiskFull),
        (libc::EACCES, ErrorCode::PermissionDenied),
        (libc::EPERM, ErrorCode::PermissionDenied),
        (libc::EROFS, ErrorCode::PermissionDenied),
        (libc::EINTR, ErrorCode::Interrupted),
        (libc::EIO, ErrorCode::Io),
        (libc::ENOENT, ErrorCode::Io),
        (libc::EEXIST, ErrorCode::Io),
    ];
    for (errno, code) in table {
        let err = io::Error::from_raw_os_error(errno);
        assert_eq!(code_for_io(&err), code, "errno {errno}");
        let converted = RecorderError::from(io::Error::from_raw_os_error(errno));
        assert_eq!(converted.code(), code);
        assert_eq!(converted.kind(), ErrorKind::Environment);
        assert_eq!(
            converted.context_value("errno"),
            Some(errno.to_string().as_str())
        );
    }
}

#[test]
fn io_kinds_without_errno_are_classified_too() {
    let full = io::Error::new(io::ErrorKind::StorageFull, "simulated");
    assert_eq!(code_for_io(&full), ErrorCode::DiskFull);
    let denied = io::Error::new(io::ErrorKind::PermissionDenied, "simulated");
    assert_eq!(code_for_io(&denied), ErrorCode::PermissionDenied);
    let other = io::Error::other("simulated");
    assert_eq!(code_for_io(&other), ErrorCode::Io);
}

#[test]
fn io_conversion_keeps_operation_path_and_source() {
    let path = Path::new("/traces/out/trace.json");
    let result: io::Result<()> = Err(io::Error::from_raw_os_error(libc::ENOSPC));
    let error = result.io_context("write", path).unwrap_err();
    assert_eq!(error.code(), ErrorCode::DiskFull);
    assert_eq!(error.context_value("operation"), Some("write"));
    assert_eq!(error.context_value("path"), Some("/traces/out/trace.json"));
    assert!(error.message().contains("/traces/out/trace.json"));
    let source = error.source().expect("source kept");
    assert_eq!(
        source
            .downcast_ref::<io::Error>()
            .and_then(io::Error::raw_os_error),
        Some(libc::ENOSPC)
    );
}

#[test]
fn macros_set_kind_code_message_and_ordered_context() {
    let name = "yaml";
    let error = usage!(ErrorCode::UnsupportedFormat, "unknown format {name:?}"; "format" = name, "accepted" = "json, binary");
    assert_eq!(error.kind(), ErrorKind::Usage);
    assert_eq!(error.code(), ErrorCode::UnsupportedFormat);
    assert_eq!(error.message(), "unknown format \"yaml\"");
    let keys: Vec<&str> = error.context().iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["format", "accepted"]);
    assert_eq!(
        error.to_string(),
        "[ERR_UNSUPPORTED_FORMAT] unknown format \"yaml\" (format=yaml, accepted=json, binary)"
    );

    assert_eq!(enverr!(ErrorCode::Io, "x").kind(), ErrorKind::Environment);
    assert_eq!(
        target!(ErrorCode::MissingKeywordArg, "x").kind(),
        ErrorKind::Target
    );
    assert_eq!(bug!(ErrorCode::Unknown, "x").kind(), ErrorKind::Internal);
}

#[test]
fn context_keys_are_replaced_in_place() {
    let error = RecorderError::from_code(ErrorCode::Io, "x")
        .with_context("a", 1)
        .with_context("b", 2)
        .with_context("a", 3);
    assert_eq!(
        error.context(),
        [
            ("a".to_owned(), "3".to_owned()),
            ("b".to_owned(), "2".to_owned())
        ]
    );
}

fn check_usage(flag: bool) -> RecorderResult<u8> {
    ensure_usage!(flag, ErrorCode::InvalidPolicyValue, "bad value {}", 7; "key" = "log_level");
    Ok(1)
}

fn check_env(flag: bool) -> RecorderResult<u8> {
    ensure_env!(flag, ErrorCode::TraceMissing, "no trace");
    Ok(1)
}

fn check_internal(flag: bool) -> RecorderResult<u8> {
    ensure_internal!(flag, ErrorCode::LockPoisoned, "lock");
    Ok(1)
}

#[test]
fn ensure_macros_return_early_with_context() {
    assert_eq!(check_usage(true).ok(), Some(1));
    let error = check_usage(false).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Usage);
    assert_eq!(error.message(), "bad value 7");
    assert_eq!(error.context_value("key"), Some("log_level"));
    assert_eq!(check_env(false).unwrap_err().kind(), ErrorKind::Environment);
    assert_eq!(
        check_internal(false).unwrap_err().code(),
        ErrorCode::LockPoisoned
    );
    assert!(check_env(true).is_ok() && check_internal(true).is_ok());
}

#[test]
fn result_ext_adds_context() {
    let result: RecorderResult<()> = Err(RecorderError::from_code(ErrorCode::Io, "x"));
    let error = result.context("trace_dir", "/tmp/t").unwrap_err();
    assert_eq!(error.context_value("trace_dir"), Some("/tmp/t"));
}
