//! The four error kinds and their process exit codes.

use std::fmt;

/// Who is at fault, which decides the Python class and the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The caller used the recorder wrongly (bad argument, bad configuration).
    Usage,
    /// The environment failed (disk, permissions, signals, interpreter).
    Environment,
    /// The traced program or its objects misbehaved.
    Target,
    /// A bug in the recorder itself.
    Internal,
}

impl ErrorKind {
    /// Every kind.
    pub const ALL: &'static [ErrorKind] = &[
        ErrorKind::Usage,
        ErrorKind::Environment,
        ErrorKind::Target,
        ErrorKind::Internal,
    ];

    /// The stable name used in Python (`kind` attribute), logs and trailers.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Usage => "Usage",
            ErrorKind::Environment => "Environment",
            ErrorKind::Target => "Target",
            ErrorKind::Internal => "Internal",
        }
    }

    /// Parses the name given by [`ErrorKind::as_str`] (any case).
    pub fn parse(text: &str) -> Option<ErrorKind> {
        ErrorKind::ALL
            .iter()
            .copied()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(text))
    }

    /// The process exit code of a run aborted by an error of this kind.
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::Usage => 2,
            ErrorKind::Environment => 10,
            ErrorKind::Target => 20,
            ErrorKind::Internal => 70,
        }
    }

    /// The Python exception class name raised for this kind.
    pub fn python_class(self) -> &'static str {
        match self {
            ErrorKind::Usage => "UsageError",
            ErrorKind::Environment => "EnvironmentError",
            ErrorKind::Target => "TargetError",
            ErrorKind::Internal => "InternalError",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
