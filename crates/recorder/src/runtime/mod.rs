//! The runtime tracer: turns monitoring events into trace events.

pub mod tracer;

pub use tracer::{RuntimeTracer, TracerConfig};
