//! The tracer: turns monitoring events into trace events. `RuntimeTracer` is
//! the state of one recording; its collaborators:
//! [`filtering`] (per-code-object cache, filter decisions and activation
//! gating), [`interpreter`] (the interpreter's own directories, for the
//! filter), [`threads`]
//! (per-thread attribution and open frames), [`frame`] (reading locals),
//! [`events`] (one method per monitoring event) and [`lifecycle`] (creation,
//! finishing, settling after a failure).

pub mod events;
pub mod filtering;
pub mod frame;
pub mod interpreter;
pub mod lifecycle;
pub mod threads;

use crate::encode::ValueEncoder;
use crate::filter::summary::FilterStats;
use crate::writer::{TraceMetadataInfo, TraceWriter};

pub use lifecycle::TracerConfig;

use filtering::{Activation, CodeCache};
use threads::Threads;

/// One recording in progress.
#[derive(Debug)]
pub struct RuntimeTracer {
    writer: TraceWriter,
    encoder: ValueEncoder,
    codes: CodeCache,
    threads: Threads,
    activation: Activation,
    /// What the trace filter skipped, redacted and dropped (instance fields: the encoder's).
    filter_stats: FilterStats,
    /// Calls, steps and returns recorded from callbacks (for `require_trace`).
    recorded: u64,
    metadata: TraceMetadataInfo,
    /// The trace directory.
    target: std::path::PathBuf,
}
