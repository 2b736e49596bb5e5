//! The thin filesystem trait the recorder writes through.
//!
//! Every method that changes the disk is one *operation* of a kind (`mkdir`,
//! `create`, `open`, `write`, `flush`, `fsync`, `rename`, `remove`), which is
//! what [`crate::FaultFs`] counts and can fail. Lookups (`entry_kind`,
//! `read_dir`, `read`) are not operations.

use std::fmt::Debug;
use std::io;
use std::path::Path;

/// What a path names, without following a final symlink (`lstat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link (never followed).
    Symlink,
    /// Anything else: fifo, socket, device.
    Other,
}

/// The identity of a directory entry (device and inode, from `lstat`): two
/// paths name the same entry exactly when their ids are equal, whatever
/// renames or working-directory changes happened in between.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EntryId {
    /// Device number.
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
}

/// A filesystem the recorder can write trace output through.
pub trait FileSystem: Send + Sync + Debug {
    /// Creates one directory (op `mkdir`); `EEXIST` when anything is already there.
    fn create_dir(&self, path: &Path) -> io::Result<()>;
    /// Creates a new file for writing (op `create`): `O_CREAT|O_EXCL|O_NOFOLLOW`, write-only.
    fn create_new(&self, path: &Path) -> io::Result<Box<dyn FsFile>>;
    /// Opens a file for appending, creating it when missing (op `open`).
    fn open_append(&self, path: &Path) -> io::Result<Box<dyn FsFile>>;
    /// Atomically renames `from` to `to`, replacing `to` (op `rename`).
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Removes a file or symlink (op `remove`).
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    /// Removes an empty directory (op `remove`).
    fn remove_dir(&self, path: &Path) -> io::Result<()>;
    /// Makes a directory's entries durable (op `fsync` of a directory).
    fn sync_dir(&self, path: &Path) -> io::Result<()>;
    /// What `path` names, or `None` when nothing is there (not an op; `lstat`).
    fn entry_kind(&self, path: &Path) -> io::Result<Option<EntryKind>>;
    /// The identity of what `path` names, without following a final symlink,
    /// or `None` when nothing is there (not an op; `lstat`). A filesystem
    /// without identities returns `ErrorKind::Unsupported` (the default).
    fn entry_id(&self, path: &Path) -> io::Result<Option<EntryId>> {
        let _ = path;
        Err(io::ErrorKind::Unsupported.into())
    }
    /// The names in a directory, sorted (not an op).
    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>>;
    /// The whole content of a file (not an op).
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
}

/// An open, writable file: `write` is op `write`, `flush` is op `flush`.
pub trait FsFile: io::Write + Send {
    /// Flushes buffered bytes, then makes the file durable (op `fsync`).
    fn sync_all(&mut self) -> io::Result<()>;
}
