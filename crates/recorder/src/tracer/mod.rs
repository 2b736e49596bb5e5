//! The tracer: turns monitoring events into trace events. `RuntimeTracer` is
//! the state of one recording; its collaborators:
//! [`filtering`] (per-code-object cache, filter decisions and activation
//! gating), [`interpreter`] (the interpreter's own directories, for the
//! filter), [`threads`] (per-thread attribution, open frames and current
//! steps), [`frame`] (reading locals), [`events`] (one method per monitoring
//! event), [`io`] (captured IO as events, drained before every event) and
//! [`lifecycle`] (creation, finishing, settling after a failure).

pub mod events;
pub mod filtering;
pub mod frame;
pub mod interpreter;
pub mod io;
pub mod lifecycle;
pub mod threads;

use crate::encode::ValueEncoder;
use crate::filter::summary::FilterStats;
use crate::writer::{SerializedArgs, TraceMetadataInfo, TraceWriter};

pub use lifecycle::TracerConfig;

use filtering::{Activation, CodeCache};
use io::IoCoordinator;
use recorder_errors::RecorderResult;
use threads::{ThreadState, Threads};

/// One recording in progress.
#[derive(Debug)]
pub struct RuntimeTracer {
    writer: TraceWriter,
    encoder: ValueEncoder,
    codes: CodeCache,
    threads: Threads,
    io: IoCoordinator,
    activation: Activation,
    /// What the trace filter skipped, redacted and dropped (instance fields: the encoder's).
    filter_stats: FilterStats,
    /// Calls, steps and returns recorded from callbacks (for `require_trace`).
    recorded: u64,
    metadata: TraceMetadataInfo,
    /// The trace directory.
    target: std::path::PathBuf,
    /// Scratch for the serialised arguments of the call being written.
    args: SerializedArgs,
}

impl RuntimeTracer {
    /// Before any event of the calling thread: the captured IO goes into
    /// the trace first (so it sits before the event that follows it), then
    /// the calling thread becomes current.
    fn enter(&mut self) -> RecorderResult<&mut ThreadState> {
        self.io.go_live();
        self.io.drain(&mut self.threads, &mut self.writer)?;
        self.threads.enter(&mut self.writer)
    }

    /// The hub the IO capture records into.
    pub fn io_hub(&self) -> &std::sync::Arc<crate::stdio::Hub> {
        self.io.hub()
    }
}
