//! The fault-injection harness of the CodeTracer Python recorder.
//!
//! A scenario file (TOML, see `scenarios/README.md`) names a Python program,
//! the recorder policy, the faults to inject (fail points, a faultfs plan, a
//! signal) and what must come of it. The harness runs the program under the
//! `failure-fixtures` build of the recorder, inspects exit status, stdout,
//! stderr (JSON trailers, tracebacks) and the output directory, and judges
//! the run against the outcome contract (`docs/design.md`). `sweep` fails
//! every faultfs operation of a clean run in turn. A case may instead ask
//! for a real kernel fault (`realfault`), run on the normal build.

#![deny(missing_docs)]

pub mod eio_device;
pub mod execute;
pub mod fd_passing;
pub mod fixtures;
pub mod inspect;
pub mod judge;
pub mod normal_build;
pub mod pool;
pub mod process;
pub mod python;
pub mod realfault;
pub mod recovery;
pub mod report;
pub mod scenario;
pub mod select;
pub mod stderr;
pub mod suite;
pub mod sweep;
