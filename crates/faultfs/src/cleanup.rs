//! Removing what a staged output created, truthfully and without panicking.
//!
//! - Every removal runs under `catch_unwind`: a panic (a `faultfs::remove=panic`
//!   fail point, a bug in a filesystem) is an error like any other, so cleanup
//!   in a destructor can never abort the process.
//! - A directory is removed only while it is still the one that was created
//!   (same device and inode, see [`CreatedDir`]): a directory the program put
//!   at the same path, or the same path seen from another working directory,
//!   is never touched.
//! - A removal that fails is tried once more; what still cannot be removed is
//!   collected as a leftover, with the first error, for [`Settled`].

use std::any::Any;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use crate::fs::{EntryId, FileSystem};
use crate::settled::{Outcome, Settled};

/// Attempts per removal.
const REMOVE_ATTEMPTS: usize = 2;

/// A directory a staged output created, known by path and identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CreatedDir {
    path: PathBuf,
    /// `None` when the filesystem cannot tell identities: the path alone decides.
    id: Option<EntryId>,
}

impl CreatedDir {
    /// Records the identity of `path`, a directory just created.
    pub(crate) fn record(fs: &dyn FileSystem, path: PathBuf) -> CreatedDir {
        let id = fs.entry_id(&path).ok().flatten();
        CreatedDir { path, id }
    }

    /// The directory's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Whether `path` still names the directory that was created.
    fn still_ours(&self, fs: &dyn FileSystem) -> bool {
        match (self.id, fs.entry_id(&self.path)) {
            (Some(id), Ok(Some(now))) => id == now,
            (Some(_), Ok(None)) => false,
            // No identity to compare: the path decides, as the kernel will.
            _ => true,
        }
    }
}

/// Collects what could not be removed.
pub(crate) struct Cleanup<'a> {
    fs: &'a dyn FileSystem,
    leftovers: Vec<PathBuf>,
    first_error: Option<io::Error>,
}

impl<'a> Cleanup<'a> {
    pub(crate) fn new(fs: &'a dyn FileSystem) -> Cleanup<'a> {
        Cleanup {
            fs,
            leftovers: Vec::new(),
            first_error: None,
        }
    }

    /// Removes a file the output created; a missing file is fine.
    pub(crate) fn remove_file(&mut self, path: &Path) {
        let fs = self.fs;
        if let Err(err) = retried(|| guarded(|| fs.remove_file(path))) {
            self.left(path, err);
        }
    }

    /// Removes the staging directory; anything still in it makes it a leftover.
    pub(crate) fn remove_staging(&mut self, dir: &CreatedDir) {
        if !dir.still_ours(self.fs) {
            return;
        }
        let fs = self.fs;
        if let Err(err) = retried(|| guarded(|| fs.remove_dir(dir.path()))) {
            self.left(dir.path(), err);
        }
    }

    /// Removes the target or an ancestor the output created. One that is not
    /// empty holds files that are not the output's (or leftovers already
    /// listed) and stays without being a leftover itself.
    pub(crate) fn remove_created(&mut self, dir: &CreatedDir) {
        if !dir.still_ours(self.fs) {
            return;
        }
        let fs = self.fs;
        match retried(|| guarded(|| fs.remove_dir(dir.path()))) {
            Err(err) if err.raw_os_error() == Some(libc::ENOTEMPTY) => {}
            Err(err) => self.left(dir.path(), err),
            Ok(()) => {}
        }
    }

    /// What settling left: `outcome` plus the leftovers.
    pub(crate) fn finish(self, outcome: Outcome) -> Settled {
        Settled::new(outcome, self.leftovers, self.first_error)
    }

    fn left(&mut self, path: &Path, err: io::Error) {
        self.leftovers.push(path.to_path_buf());
        self.first_error.get_or_insert(err);
    }
}

/// Runs `remove` up to [`REMOVE_ATTEMPTS`] times; `ENOENT` is success.
fn retried(mut remove: impl FnMut() -> io::Result<()>) -> io::Result<()> {
    let mut result = Ok(());
    for _ in 0..REMOVE_ATTEMPTS {
        result = match remove() {
            Err(err) if err.raw_os_error() == Some(libc::ENOENT) => Ok(()),
            other => other,
        };
        if result.is_ok() {
            break;
        }
    }
    result
}

/// Runs `operation`, turning a panic into an error.
pub(crate) fn guarded<T>(operation: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
    catch_unwind(AssertUnwindSafe(operation))
        .unwrap_or_else(|payload| Err(io::Error::other(panic_text(payload.as_ref()))))
}

/// The message of a caught panic.
fn panic_text(payload: &(dyn Any + Send)) -> String {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".to_string());
    format!("panic during cleanup: {detail}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physical::PhysicalFs;

    #[test]
    fn a_panic_becomes_an_error() {
        let err = guarded::<()>(|| panic!("boom")).unwrap_err();
        assert_eq!(err.to_string(), "panic during cleanup: boom");
    }

    #[test]
    fn a_replaced_directory_is_not_ours() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("made");
        std::fs::create_dir(&path).unwrap();
        let created = CreatedDir::record(&PhysicalFs, path.clone());
        assert!(created.still_ours(&PhysicalFs));
        std::fs::rename(&path, dir.path().join("moved")).unwrap();
        assert!(!created.still_ours(&PhysicalFs), "gone from its path");
        std::fs::create_dir(&path).unwrap();
        assert!(!created.still_ours(&PhysicalFs), "another directory now");
        let mut cleanup = Cleanup::new(&PhysicalFs);
        cleanup.remove_created(&created);
        assert!(cleanup.finish(Outcome::Absent).leftovers().is_empty());
        assert!(path.is_dir(), "the new directory was left alone");
    }

    #[test]
    fn a_failing_removal_is_tried_twice_and_listed() {
        let mut calls = 0;
        let err = retried(|| {
            calls += 1;
            Err(io::Error::from_raw_os_error(libc::EIO))
        })
        .unwrap_err();
        assert_eq!((calls, err.raw_os_error()), (2, Some(libc::EIO)));
        let mut calls = 0;
        retried(|| {
            calls += 1;
            if calls == 1 {
                Err(io::Error::from_raw_os_error(libc::EIO))
            } else {
                Ok(())
            }
        })
        .unwrap();
        assert_eq!(calls, 2);
    }
}
