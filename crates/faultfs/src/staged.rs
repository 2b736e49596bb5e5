//! Staged, atomic output: files are written under a hidden staging directory
//! inside the target and only reach their final names on `commit` (or, marked
//! partial, on `keep_partial`). Any failure settles the output as absent, and
//! every settle says what it really left on disk ([`Settled`]).
//!
//! The target is made absolute once, in [`StagedDir::create`], so a later
//! `chdir` of the process changes nothing; the directories it creates are
//! remembered by identity and removed only while they are still those.

use std::fmt;
use std::io::{self, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crate::cleanup::{Cleanup, CreatedDir};
use crate::errno::os_error;
use crate::fs::{FileSystem, FsFile};
use crate::owner::StagingOwner;
use crate::retry::write_all_bounded;
use crate::settled::{Outcome, SettleError, Settled};

/// Prefix of every staging directory name:
/// `.codetracer-staging-<pid>-<start>-<n>` (see [`StagingOwner`]).
pub const STAGING_PREFIX: &str = ".codetracer-staging-";
/// Name of the marker a kept partial output carries.
pub const PARTIAL_MARKER: &str = "trace_partial.json";

/// Staging names tried before giving up when each one already exists.
const MAX_STAGING_ATTEMPTS: usize = 64;
/// The `<n>` of the next staging directory of this process.
static NEXT_STAGING: AtomicU64 = AtomicU64::new(0);

/// One file created in the staging directory.
#[derive(Debug)]
struct Entry {
    name: String,
    finished: Arc<AtomicBool>,
    /// Renamed to its final name in the target.
    placed: bool,
    /// Given up by [`StagedDir::discard`] but not yet removed: never placed,
    /// removed again when the output settles.
    discarded: bool,
}

/// Staged output in a target directory; see the module docs.
///
/// Dropping an unsettled `StagedDir` aborts it (removes everything it
/// created); a panic during that cleanup is caught, never propagated.
pub struct StagedDir {
    fs: Arc<dyn FileSystem>,
    /// The absolute target.
    target: PathBuf,
    /// Directories this `StagedDir` created (the target and any missing
    /// ancestors), outermost first; removed innermost first when settling absent.
    created_dirs: Vec<CreatedDir>,
    staging: CreatedDir,
    entries: Vec<Entry>,
    settled: bool,
}

impl fmt::Debug for StagedDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StagedDir")
            .field("target", &self.target)
            .field("staging", &self.staging.path())
            .field("created_dirs", &self.created_dirs)
            .field("entries", &self.entries)
            .finish()
    }
}

impl StagedDir {
    /// Makes `target` absolute (against the current directory, without
    /// resolving symlinks), creates it and its missing ancestors (remembering
    /// which, by identity), then `.codetracer-staging-<pid>-<start>-<n>/`
    /// inside it exclusively (a name that is already taken, even by a
    /// symlink, is skipped, never followed).
    pub fn create(fs: Arc<dyn FileSystem>, target: &Path) -> io::Result<StagedDir> {
        let target = std::path::absolute(target)?;
        let mut creating = Creating::new(fs.as_ref());
        create_missing_dirs(&mut creating, &target)?;
        let staging = create_staging(fs.as_ref(), &target)?;
        let created_dirs = creating.done();
        Ok(StagedDir {
            fs,
            target,
            created_dirs,
            staging,
            entries: Vec::new(),
            settled: false,
        })
    }

    /// The directory the output settles in (absolute).
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// The hidden staging directory inside the target.
    pub fn staging(&self) -> &Path {
        self.staging.path()
    }

    /// Creates `name` (a plain file name) in the staging directory.
    /// `EINVAL` for a path, `.`/`..`, or the reserved `trace_partial.json`.
    pub fn create_file(&mut self, name: &str) -> io::Result<StagedFile> {
        let plain = !name.is_empty()
            && name != "."
            && name != ".."
            && name != PARTIAL_MARKER
            && !name.contains('/')
            && !name.contains('\0');
        if !plain {
            return Err(os_error(libc::EINVAL));
        }
        let path = self.staging().join(name);
        let file = self.fs.create_new(&path)?;
        let finished = Arc::new(AtomicBool::new(false));
        self.entries.push(Entry {
            name: name.to_string(),
            finished: Arc::clone(&finished),
            placed: false,
            discarded: false,
        });
        Ok(StagedFile {
            file,
            path,
            finished,
        })
    }

    /// Gives up the staged file `name` (drop its handle first): removes it from
    /// the staging directory so that neither `commit` nor `keep_partial` ever
    /// places it, and frees the name for a new [`StagedDir::create_file`].
    /// `ENOENT` when no such file is staged. When the removal fails the file
    /// is still never placed (so `keep_partial`, unable to empty the staging
    /// directory, falls back to absent) and the error is returned.
    pub fn discard(&mut self, name: &str) -> io::Result<()> {
        let Some(index) = self
            .entries
            .iter()
            .position(|entry| entry.name == name && !entry.placed && !entry.discarded)
        else {
            return Err(os_error(libc::ENOENT));
        };
        match crate::cleanup::guarded(|| self.fs.remove_file(&self.staging().join(name))) {
            Ok(()) => {
                self.entries.remove(index);
                Ok(())
            }
            Err(err) => {
                self.entries[index].discarded = true;
                Err(err)
            }
        }
    }

    /// Renames every created file into `target` in creation order, fsyncs
    /// `target`, removes the staging dir. Every file must have been
    /// [`StagedFile::finish`]ed. On failure rolls back to absent (removes what
    /// it renamed, the staging dir, and `target` if it created it) and returns
    /// the error with what the rollback left. Once every file is placed and
    /// `target` fsynced the trace is complete: a staging directory that then
    /// cannot be removed is reported in [`Settled::leftovers`], never rolled back.
    pub fn commit(mut self) -> Result<Settled, SettleError> {
        match self.try_commit() {
            Ok(()) => Ok(self.clear_staging(Outcome::Complete)),
            Err(err) => Err(SettleError::new(err, self.settle_absent())),
        }
    }

    /// Writes `trace_partial.json` `{"partial":true,"reason":code,"message":msg}`,
    /// renames it into place first, then the data files (finished or not);
    /// if anything fails, falls back to absent and returns the error with
    /// what the rollback left. As with [`StagedDir::commit`], a staging
    /// directory that cannot be removed afterwards is a leftover of a partial output.
    pub fn keep_partial(
        mut self,
        reason_code: &str,
        message: &str,
    ) -> Result<Settled, SettleError> {
        match self.try_keep_partial(reason_code, message) {
            Ok(()) => Ok(self.clear_staging(Outcome::Partial)),
            Err(err) => Err(SettleError::new(err, self.settle_absent())),
        }
    }

    /// Removes everything it created (also done on drop when not settled)
    /// and says what it could not remove.
    pub fn abort(mut self) -> Settled {
        self.settle_absent()
    }

    fn try_commit(&mut self) -> io::Result<()> {
        if let Some(entry) = self
            .entries
            .iter()
            .find(|entry| !entry.discarded && !entry.finished.load(Ordering::Acquire))
        {
            return Err(io::Error::other(format!(
                "staged file {} was not finished before commit",
                entry.name
            )));
        }
        self.place_all()
    }

    fn try_keep_partial(&mut self, reason_code: &str, message: &str) -> io::Result<()> {
        let body = serde_json::json!({
            "partial": true,
            "reason": reason_code,
            "message": message,
        })
        .to_string();
        let mut marker = self.fs.create_new(&self.staging().join(PARTIAL_MARKER))?;
        self.entries.insert(
            0,
            Entry {
                name: PARTIAL_MARKER.to_string(),
                finished: Arc::new(AtomicBool::new(true)),
                placed: false,
                discarded: false,
            },
        );
        write_all_bounded(&mut marker, body.as_bytes())?;
        marker.flush()?;
        marker.sync_all()?;
        drop(marker);
        self.place_all()
    }

    /// Renames the entries (but the discarded ones) into place in order and
    /// fsyncs the target.
    fn place_all(&mut self) -> io::Result<()> {
        let staging = self.staging().to_path_buf();
        for entry in self.entries.iter_mut().filter(|entry| !entry.discarded) {
            self.fs
                .rename(&staging.join(&entry.name), &self.target.join(&entry.name))?;
            entry.placed = true;
        }
        self.fs.sync_dir(&self.target)
    }

    /// After every file is placed: removes discarded files still in staging
    /// and the staging directory; the output is `outcome` whatever happens.
    fn clear_staging(&mut self, outcome: Outcome) -> Settled {
        self.settled = true;
        let mut cleanup = Cleanup::new(self.fs.as_ref());
        for entry in self.entries.iter().filter(|entry| entry.discarded) {
            cleanup.remove_file(&self.staging.path().join(&entry.name));
        }
        cleanup.remove_staging(&self.staging);
        cleanup.finish(outcome)
    }

    /// Removes every entry (placed or staged), the staging dir, and the target
    /// and ancestors this created (while they are still those directories).
    /// Keeps going past errors and panics; says what it could not remove.
    fn settle_absent(&mut self) -> Settled {
        self.settled = true;
        let mut cleanup = Cleanup::new(self.fs.as_ref());
        for entry in &self.entries {
            let dir = if entry.placed {
                &self.target
            } else {
                self.staging.path()
            };
            cleanup.remove_file(&dir.join(&entry.name));
        }
        cleanup.remove_staging(&self.staging);
        for dir in self.created_dirs.iter().rev() {
            cleanup.remove_created(dir);
        }
        cleanup.finish(Outcome::Absent)
    }
}

/// Directories `StagedDir::create` made so far: removed again (innermost
/// first, best effort) when creation does not complete, by an error or a panic.
struct Creating<'a> {
    fs: &'a dyn FileSystem,
    dirs: Vec<CreatedDir>,
    done: bool,
}

impl<'a> Creating<'a> {
    fn new(fs: &'a dyn FileSystem) -> Creating<'a> {
        Creating {
            fs,
            dirs: Vec::new(),
            done: false,
        }
    }

    /// Creation completed: the directories belong to the `StagedDir` now.
    fn done(mut self) -> Vec<CreatedDir> {
        self.done = true;
        std::mem::take(&mut self.dirs)
    }
}

impl Drop for Creating<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut cleanup = Cleanup::new(self.fs);
        for dir in self.dirs.iter().rev() {
            cleanup.remove_created(dir);
        }
    }
}

/// Creates `target` and every missing ancestor, outermost first, recording
/// each in `creating`.
fn create_missing_dirs(creating: &mut Creating<'_>, target: &Path) -> io::Result<()> {
    let fs = creating.fs;
    let mut missing = Vec::new();
    let mut current = Some(target);
    while let Some(dir) = current {
        if dir.as_os_str().is_empty() || fs.entry_kind(dir)?.is_some() {
            break;
        }
        missing.push(dir.to_path_buf());
        current = dir.parent();
    }
    for dir in missing.into_iter().rev() {
        match fs.create_dir(&dir) {
            Ok(()) => creating.dirs.push(CreatedDir::record(fs, dir)),
            Err(err) if err.raw_os_error() == Some(libc::EEXIST) => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

/// Creates this process's next free `.codetracer-staging-<pid>-<start>-<n>`
/// in `target` (a taken name, even a symlink, is skipped, never followed).
fn create_staging(fs: &dyn FileSystem, target: &Path) -> io::Result<CreatedDir> {
    let mut last_error = os_error(libc::EEXIST);
    for _ in 0..MAX_STAGING_ATTEMPTS {
        let n = NEXT_STAGING.fetch_add(1, Ordering::Relaxed);
        let staging = target.join(StagingOwner::this_process(n).dir_name());
        match fs.create_dir(&staging) {
            Ok(()) => return Ok(CreatedDir::record(fs, staging)),
            Err(err) if err.raw_os_error() == Some(libc::EEXIST) => last_error = err,
            Err(err) => return Err(err),
        }
    }
    Err(last_error)
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.settled {
            // Nobody is left to report to; a panic must not escape a destructor.
            let _ = catch_unwind(AssertUnwindSafe(|| self.settle_absent()));
        }
    }
}

/// A file being written in a staging directory.
pub struct StagedFile {
    file: Box<dyn FsFile>,
    path: PathBuf,
    finished: Arc<AtomicBool>,
}

impl fmt::Debug for StagedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StagedFile")
            .field("path", &self.path)
            .field("finished", &self.finished.load(Ordering::Relaxed))
            .finish()
    }
}

impl StagedFile {
    /// The file's path inside the staging directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes and fsyncs the file; required before [`StagedDir::commit`].
    pub fn finish(mut self) -> io::Result<()> {
        self.file.flush()?;
        self.sync()
    }

    /// Fsyncs the file (op `fsync`, which also writes out what is still
    /// buffered) and marks it finished: [`StagedFile::finish`] without the
    /// separate `flush`, for a caller that flushed itself and wants to tell
    /// a failed flush from a failed fsync.
    pub fn sync(mut self) -> io::Result<()> {
        self.file.sync_all()?;
        self.finished.store(true, Ordering::Release);
        Ok(())
    }
}

impl Write for StagedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    /// Writes all of `buf`; an interrupted write (`EINTR`) is retried at most
    /// [`crate::MAX_INTERRUPTED_RETRIES`] times in a row.
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        write_all_bounded(self.file.as_mut(), buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}
