//! Every code round-trips, kinds map to the documented exit codes.

use proptest::prelude::*;
use recorder_errors::{ErrorCode, ErrorKind, RecorderError};

proptest! {
    #[test]
    fn every_code_round_trips_through_its_string(index in 0..ErrorCode::ALL.len()) {
        let code = ErrorCode::ALL[index];
        prop_assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
        prop_assert_eq!(code.to_string(), code.as_str());
        prop_assert_eq!(code.as_str().parse::<ErrorCode>().ok(), Some(code));
    }

    #[test]
    fn strings_that_are_not_codes_do_not_parse(text in "[A-Za-z_]{0,30}") {
        let known = ErrorCode::ALL.iter().any(|code| code.as_str() == text);
        prop_assert_eq!(ErrorCode::parse(&text).is_some(), known);
    }
}

#[test]
fn codes_are_unique_and_prefixed() {
    let mut seen = std::collections::HashSet::new();
    for code in ErrorCode::ALL {
        assert!(code.as_str().starts_with("ERR_"), "{code}");
        assert!(seen.insert(code.as_str()), "duplicate {code}");
    }
}

#[test]
fn every_code_of_version_0_3_is_kept() {
    for text in [
        "ERR_UNKNOWN",
        "ERR_ALREADY_TRACING",
        "ERR_TRACE_DIR_CONFLICT",
        "ERR_TRACE_DIR_CREATE_FAILED",
        "ERR_UNSUPPORTED_FORMAT",
        "ERR_MISSING_POSITIONAL_ARG",
        "ERR_MISSING_KEYWORD_ARG",
        "ERR_FRAME_INTROSPECTION_FAILED",
        "ERR_GLOBALS_INTROSPECTION_FAILED",
        "ERR_TRACER_INSTALL_CONFLICT",
        "ERR_IO",
        "ERR_INVALID_POLICY_VALUE",
        "ERR_TRACE_MISSING",
        "ERR_TRACE_INCOMPLETE",
    ] {
        assert!(ErrorCode::parse(text).is_some(), "{text} is missing");
    }
}

#[test]
fn exit_codes_per_kind_are_fixed() {
    assert_eq!(ErrorKind::Usage.exit_code(), 2);
    assert_eq!(ErrorKind::Environment.exit_code(), 10);
    assert_eq!(ErrorKind::Target.exit_code(), 20);
    assert_eq!(ErrorKind::Internal.exit_code(), 70);
    for kind in ErrorKind::ALL {
        assert_eq!(ErrorKind::parse(kind.as_str()), Some(*kind));
        assert_eq!(ErrorKind::parse(&kind.as_str().to_lowercase()), Some(*kind));
    }
}

#[test]
fn default_kinds_follow_the_design_table() {
    assert_eq!(ErrorCode::AlreadyTracing.default_kind(), ErrorKind::Usage);
    assert_eq!(ErrorCode::DiskFull.default_kind(), ErrorKind::Environment);
    assert_eq!(ErrorCode::Panic.default_kind(), ErrorKind::Internal);
    assert_eq!(
        ErrorCode::MissingKeywordArg.default_kind(),
        ErrorKind::Target
    );
    let error = RecorderError::from_code(ErrorCode::LockPoisoned, "poisoned");
    assert_eq!(error.kind(), ErrorKind::Internal);
    assert_eq!(error.exit_code(), 70);
}
