//! The program's standard streams: what it writes to `sys.stdout` and
//! `sys.stderr` and reads from `sys.stdin`, recorded without changing it.
//!
//! [`Capture`] installs stream proxies ([`proxies`]) that forward every call
//! to the original stream at once and record what went through into a
//! [`Hub`]; with the descriptor mirror ([`mirror`], Linux, opt-in) bytes that
//! reach descriptors 1 and 2 without passing a proxy (C code, `os.write`,
//! subprocesses) are recorded too, minus those the proxies already recorded
//! ([`ledger`]). The tracer drains the hub into `runtime_tracing` IO events
//! before each event it writes, so IO sits in the trace where it happened.

mod bytes;
mod capture;
mod hub;
mod ledger;
mod mirror;
mod owner;
mod proxies;
mod settings;
mod thread;

pub use capture::Capture;
pub use hub::{Chunk, Hub, Origin, Stream};
pub use settings::{CaptureMode, CaptureSettings};
pub use thread::current_thread_id;
