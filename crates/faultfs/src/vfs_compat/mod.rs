//! The bridge to the `vfs` crate (cargo feature `vfs`), both ways:
//!
//! - `FaultFs<F>` implements `vfs::FileSystem` (`view`), so code written
//!   against `vfs` (or `vfs::VfsPath`) gets the quota, deny and Nth-operation
//!   faults of a [`crate::FaultPlan`];
//! - [`VfsBacked`] makes any `vfs::FileSystem` a faultfs [`crate::FileSystem`]
//!   (`backed`), so it can be the inner filesystem of a `FaultFs`.
//!
//! Paths and errors are translated by `paths` and `errors`.

mod backed;
mod errors;
mod paths;
mod view;

pub use backed::VfsBacked;
