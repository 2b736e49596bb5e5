//! Construction macros: `usage!`, `enverr!`, `target!`, `bug!` and the `ensure_*!` family.
//!
//! Each takes a code, a format string with arguments, and optionally
//! `; key = value, ...` context entries:
//! `usage!(ErrorCode::UnsupportedFormat, "unknown format {name:?}"; "format" = name)`.

/// A Usage error.
#[macro_export]
macro_rules! usage {
    ($code:expr, $($rest:tt)+) => { $crate::__recorder_error!($crate::ErrorKind::Usage, $code, $($rest)+) };
}

/// An Environment error.
#[macro_export]
macro_rules! enverr {
    ($code:expr, $($rest:tt)+) => { $crate::__recorder_error!($crate::ErrorKind::Environment, $code, $($rest)+) };
}

/// A Target error.
#[macro_export]
macro_rules! target {
    ($code:expr, $($rest:tt)+) => { $crate::__recorder_error!($crate::ErrorKind::Target, $code, $($rest)+) };
}

/// An Internal error (a recorder bug).
#[macro_export]
macro_rules! bug {
    ($code:expr, $($rest:tt)+) => { $crate::__recorder_error!($crate::ErrorKind::Internal, $code, $($rest)+) };
}

/// Returns a Usage error unless the condition holds.
#[macro_export]
macro_rules! ensure_usage {
    ($cond:expr, $code:expr, $($rest:tt)+) => {
        if !$cond { return Err($crate::usage!($code, $($rest)+).into()); }
    };
}

/// Returns an Environment error unless the condition holds.
#[macro_export]
macro_rules! ensure_env {
    ($cond:expr, $code:expr, $($rest:tt)+) => {
        if !$cond { return Err($crate::enverr!($code, $($rest)+).into()); }
    };
}

/// Returns an Internal error unless the condition holds.
#[macro_export]
macro_rules! ensure_internal {
    ($cond:expr, $code:expr, $($rest:tt)+) => {
        if !$cond { return Err($crate::bug!($code, $($rest)+).into()); }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __recorder_error {
    ($kind:expr, $code:expr, $fmt:literal $(, $arg:expr)* ; $($key:literal = $value:expr),+ $(,)?) => {
        $crate::RecorderError::new($kind, $code, format!($fmt $(, $arg)*))
            $(.with_context($key, $value))+
    };
    ($kind:expr, $code:expr, $fmt:literal $(, $arg:expr)* $(,)?) => {
        $crate::RecorderError::new($kind, $code, format!($fmt $(, $arg)*))
    };
}
