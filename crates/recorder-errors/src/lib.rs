//! One error story for the CodeTracer Python recorder.
//!
//! Every failure is a [`RecorderError`]: a [`ErrorKind`] (who is at fault, which
//! fixes the Python class and the exit code), a stable [`ErrorCode`] (`ERR_*`), a
//! message, an ordered context map and an optional source. I/O errors are
//! classified by errno ([`code_for_io`]), so simulated and real faults look alike.
//!
//! It is also the vocabulary other crates share without linking PyO3: the
//! recorder's fail-point names ([`failpoints`]) and the policy value
//! [`OnRecorderError`].

#![deny(missing_docs)]

mod code;
mod error;
pub mod failpoints;
mod io;
mod kind;
mod macros;
mod policy;

pub use code::{ErrorCode, UnknownErrorCode};
pub use error::{BoxedSource, RecorderError, RecorderResult};
pub use io::{code_for_io, IoResultExt, ResultExt};
pub use kind::ErrorKind;
pub use policy::OnRecorderError;

/// Everything a module needs to raise and propagate recorder errors.
pub mod prelude {
    pub use crate::{
        bug, ensure_env, ensure_internal, ensure_usage, enverr, target, usage, ErrorCode,
        ErrorKind, IoResultExt, RecorderError, RecorderResult, ResultExt,
    };
}
