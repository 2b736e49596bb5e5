//! The filesystem the CodeTracer recorder writes its trace output through.
//!
//! [`FileSystem`]/[`FsFile`] are a thin trait over the operations durable
//! output needs (exclusive create, fsync of files and directories, atomic
//! rename-over). [`PhysicalFs`] is the real disk, [`MemoryFs`] an in-memory
//! tree for tests, [`FaultFs`] injects the faults of a [`FaultPlan`] (and of
//! `fail` points in `failpoints` builds), and [`StagedDir`] settles output
//! atomically as complete, explicitly partial, or absent.
//!
//! [`FAILPOINTS`] names the `fail` points of every operation kind; in
//! `failpoints` builds [`failpoints::configure_from_env`] is the one reader of
//! the `FAILPOINTS` variable, for this crate's points and the recorder's.

#![deny(missing_docs)]

mod cleanup;
mod env;
mod errno;
#[cfg(feature = "failpoints")]
pub mod failpoints;
mod fault;
mod fixture_log;
mod fs;
mod glob;
mod kill;
mod memory;
mod op;
mod owner;
mod physical;
mod plan;
mod retry;
mod settled;
mod staged;
#[cfg(feature = "vfs")]
mod vfs_compat;

pub use env::{from_env, note_failpoint};
pub use errno::parse_errno;
pub use fault::FaultFs;
pub use fixture_log::FixtureLog;
pub use fs::{EntryId, EntryKind, FileSystem, FsFile};
pub use memory::MemoryFs;
pub use op::{OpCounts, OpKind, FAILPOINTS};
pub use owner::StagingOwner;
pub use physical::{PhysicalFs, BUFFER_CAPACITY};
pub use plan::FaultPlan;
pub use retry::MAX_INTERRUPTED_RETRIES;
pub use settled::{Outcome, SettleError, Settled};
pub use staged::{StagedDir, StagedFile, PARTIAL_MARKER, STAGING_PREFIX};
#[cfg(feature = "vfs")]
pub use vfs_compat::VfsBacked;
