//! Stable `ERR_*` codes and their default kinds.

use std::fmt;

use crate::ErrorKind;

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident => $text:literal, $kind:ident; )+) => {
        /// A stable error code. Its `ERR_*` string never changes once released.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )+
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )+ ];

            /// The stable `ERR_*` string of this code.
            pub fn as_str(self) -> &'static str {
                match self { $( ErrorCode::$variant => $text, )+ }
            }

            /// The kind an error with this code has unless a call site says otherwise.
            pub fn default_kind(self) -> ErrorKind {
                match self { $( ErrorCode::$variant => ErrorKind::$kind, )+ }
            }

            /// Parses an `ERR_*` string; `None` for an unknown string.
            pub fn parse(text: &str) -> Option<ErrorCode> {
                match text { $( $text => Some(ErrorCode::$variant), )+ _ => None }
            }
        }
    };
}

error_codes! {
    /// An error nobody classified.
    Unknown => "ERR_UNKNOWN", Internal;
    /// `start()` while a session is already active.
    AlreadyTracing => "ERR_ALREADY_TRACING", Usage;
    /// The output path is a file, or a non-empty directory.
    TraceDirConflict => "ERR_TRACE_DIR_CONFLICT", Usage;
    /// The output directory cannot be created.
    TraceDirCreateFailed => "ERR_TRACE_DIR_CREATE_FAILED", Environment;
    /// Unknown trace format.
    UnsupportedFormat => "ERR_UNSUPPORTED_FORMAT", Usage;
    /// A positional argument could not be read from the frame.
    MissingPositionalArg => "ERR_MISSING_POSITIONAL_ARG", Target;
    /// A keyword argument could not be read from the frame.
    MissingKeywordArg => "ERR_MISSING_KEYWORD_ARG", Target;
    /// A frame or its locals could not be read.
    FrameIntrospectionFailed => "ERR_FRAME_INTROSPECTION_FAILED", Target;
    /// Module globals could not be read.
    GlobalsIntrospectionFailed => "ERR_GLOBALS_INTROSPECTION_FAILED", Target;
    /// No free `sys.monitoring` tool id.
    TracerInstallConflict => "ERR_TRACER_INSTALL_CONFLICT", Environment;
    /// Any other I/O failure.
    Io => "ERR_IO", Environment;
    /// A bad policy key or value (API, environment or CLI).
    InvalidPolicyValue => "ERR_INVALID_POLICY_VALUE", Usage;
    /// `require_trace` is set and no trace (or no event) was produced.
    TraceMissing => "ERR_TRACE_MISSING", Environment;
    /// The trace could not be finished; the output was settled as absent or partial.
    TraceIncomplete => "ERR_TRACE_INCOMPLETE", Environment;
    /// The disk or quota is full (ENOSPC, EFBIG, EDQUOT).
    DiskFull => "ERR_DISK_FULL", Environment;
    /// The operating system denied an operation (EACCES, EPERM, EROFS).
    PermissionDenied => "ERR_PERMISSION_DENIED", Environment;
    /// A Rust panic was caught at the FFI boundary.
    Panic => "ERR_PANIC", Internal;
    /// The tracer lock was poisoned by an earlier panic.
    LockPoisoned => "ERR_LOCK_POISONED", Internal;
    /// SIGINT or EINTR interrupted a recorder operation.
    Interrupted => "ERR_INTERRUPTED", Environment;
    /// The recording process died before finishing its trace (killed,
    /// `os._exit`, ...); the reason of a trace `recover` made partial.
    ProcessDied => "ERR_PROCESS_DIED", Environment;
    /// The interpreter is older than the recorder supports (3.12).
    UnsupportedPython => "ERR_UNSUPPORTED_PYTHON", Usage;
    /// A malformed fault plan clause.
    InvalidFaultPlan => "ERR_INVALID_FAULT_PLAN", Usage;
    /// A malformed harness scenario file.
    InvalidScenario => "ERR_INVALID_SCENARIO", Usage;
    /// A malformed trace filter configuration.
    InvalidTraceFilter => "ERR_INVALID_TRACE_FILTER", Usage;
    /// SIGTERM or SIGHUP ended the program; the trace was finished marked partial.
    Terminated => "ERR_TERMINATED", Environment;
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ErrorCode {
    type Err = UnknownErrorCode;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ErrorCode::parse(text).ok_or_else(|| UnknownErrorCode(text.to_owned()))
    }
}

/// The string given to [`ErrorCode::from_str`](std::str::FromStr) is not a known code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown error code `{0}`")]
pub struct UnknownErrorCode(pub String);
