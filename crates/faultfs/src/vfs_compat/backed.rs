//! `VfsBacked<V>`: any `vfs::FileSystem` as a faultfs filesystem (the
//! mapping is documented on the type).

use std::fmt;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use vfs::error::VfsErrorKind;
use vfs::{SeekAndWrite, VfsFileType};

use super::errors::{io_error, unsupported};
use super::paths::{ancestors, vfs_path};
use crate::errno::os_error;
use crate::fs::{EntryKind, FileSystem, FsFile};

/// A faultfs [`FileSystem`] over any `vfs::FileSystem`, so it can be the
/// inner filesystem of a [`crate::FaultFs`].
///
/// `vfs` lacks some of what the trait promises. Each gap is either emulated
/// with lookups (which are not operations) or a typed `io::Error`, never a
/// panic of this crate:
///
/// | faultfs call | on a `vfs::FileSystem` |
/// |---|---|
/// | `create_dir` | `create_dir`, after checking that every ancestor is a directory (`ENOENT`/`ENOTDIR`) and nothing is there (`EEXIST`) |
/// | `create_new` | the same checks, then `create_file`. Exclusive against every call through this `VfsBacked` (one lock covers each check and its action), not against other users of the same `vfs` filesystem. `O_NOFOLLOW` holds as far as the filesystem has no symlinks (`vfs::PhysicalFS` follows them: use faultfs's `PhysicalFs` for real disks) |
/// | `open_append` | `append_file` on a file, `create_file` when nothing is there, `EISDIR` on a directory |
/// | `rename` | `move_file` (files) or `move_dir` (directories) after the kernel's checks (`ENOENT`, `EBUSY` for the root, `EINVAL` into itself, `EISDIR`/`ENOTDIR` for a file/directory mismatch); `ENOTSUP` when the filesystem has no move (`vfs::MemoryFS`). Atomic and replacing the destination only when its move is (`vfs::PhysicalFS`: `std::fs::rename`) |
/// | `remove_file`, `remove_dir` | `remove_file` (`EISDIR` on a directory), `remove_dir` (`ENOTDIR`, `ENOTEMPTY`, `EBUSY` for the root) |
/// | `FsFile::write`, `flush` | the handle's `write`, `flush` (some filesystems, like `vfs::MemoryFS`, show written bytes only after a flush or drop) |
/// | `FsFile::sync_all`, `sync_dir` | `vfs` has no fsync: `sync_all` flushes, then both fail with `ENOTSUP` (`ErrorKind::Unsupported`): nothing is known to be durable |
/// | `entry_kind` | `metadata`: `File` or `Dir` (`vfs` follows symlinks, so never `Symlink`) |
/// | `read_dir`, `read` | `read_dir` (sorted), `open_file` read to the end |
///
/// Other `vfs` errors become errnos: `FileNotFound` is `ENOENT`,
/// `DirectoryExists`/`FileExists` are `EEXIST`, `InvalidPath` is `EINVAL`,
/// `NotSupported` is `ENOTSUP`, an `IoError` keeps its errno, and an error
/// without one keeps its kind and message.
pub struct VfsBacked<V> {
    vfs: V,
    /// Held across each check-then-act call, so two calls through this
    /// `VfsBacked` never interleave between a check and its action.
    lock: Mutex<()>,
}

impl<V: vfs::FileSystem> VfsBacked<V> {
    /// `vfs` as a faultfs filesystem.
    pub fn new(vfs: V) -> VfsBacked<V> {
        VfsBacked {
            vfs,
            lock: Mutex::new(()),
        }
    }

    /// The wrapped `vfs` filesystem.
    pub fn vfs(&self) -> &V {
        &self.vfs
    }

    fn locked(&self) -> MutexGuard<'_, ()> {
        self.lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// What is at `path`: `None` when nothing is.
    fn kind(&self, path: &str) -> io::Result<Option<VfsFileType>> {
        match self.vfs.metadata(path) {
            Ok(metadata) => Ok(Some(metadata.file_type)),
            Err(err) if matches!(err.kind(), VfsErrorKind::FileNotFound) => Ok(None),
            Err(err) => Err(io_error(err)),
        }
    }

    /// What is at `path` as the kernel's `stat` sees it: `ENOTDIR` under a
    /// file, `None` under a missing directory or when nothing is there.
    fn lookup(&self, path: &str) -> io::Result<Option<VfsFileType>> {
        match self.check_ancestors(path) {
            Ok(()) => self.kind(path),
            Err(err) if err.raw_os_error() == Some(libc::ENOENT) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// `ENOENT` or `ENOTDIR` unless every ancestor of `path` is a directory.
    fn check_ancestors(&self, path: &str) -> io::Result<()> {
        for ancestor in ancestors(path) {
            match self.kind(ancestor)? {
                Some(VfsFileType::Directory) => {}
                Some(VfsFileType::File) => return Err(os_error(libc::ENOTDIR)),
                None => return Err(os_error(libc::ENOENT)),
            }
        }
        Ok(())
    }

    /// The names in the directory `path`.
    fn names(&self, path: &str) -> io::Result<Vec<String>> {
        Ok(self.vfs.read_dir(path).map_err(io_error)?.collect())
    }

    fn create_file(&self, path: &str) -> io::Result<Box<dyn FsFile>> {
        let file = self.vfs.create_file(path).map_err(io_error)?;
        Ok(Box::new(VfsBackedFile { file }))
    }
}

impl<V: fmt::Debug> fmt::Debug for VfsBacked<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VfsBacked").field("vfs", &self.vfs).finish()
    }
}

/// A faultfs file over a `vfs` write handle.
struct VfsBackedFile {
    file: Box<dyn SeekAndWrite + Send>,
}

impl Write for VfsBackedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl FsFile for VfsBackedFile {
    /// Flushes, then `ENOTSUP`: `vfs` cannot make a file durable.
    fn sync_all(&mut self) -> io::Result<()> {
        self.file.flush()?;
        Err(unsupported())
    }
}

impl<V: vfs::FileSystem> FileSystem for VfsBacked<V> {
    fn create_dir(&self, path: &Path) -> io::Result<()> {
        let path = vfs_path(path)?;
        let _lock = self.locked();
        self.check_ancestors(&path)?;
        if path.is_empty() || self.kind(&path)?.is_some() {
            return Err(os_error(libc::EEXIST));
        }
        self.vfs.create_dir(&path).map_err(io_error)
    }

    fn create_new(&self, path: &Path) -> io::Result<Box<dyn FsFile>> {
        let path = vfs_path(path)?;
        let _lock = self.locked();
        self.check_ancestors(&path)?;
        if path.is_empty() || self.kind(&path)?.is_some() {
            return Err(os_error(libc::EEXIST));
        }
        self.create_file(&path)
    }

    fn open_append(&self, path: &Path) -> io::Result<Box<dyn FsFile>> {
        let path = vfs_path(path)?;
        let _lock = self.locked();
        self.check_ancestors(&path)?;
        if path.is_empty() {
            return Err(os_error(libc::EISDIR));
        }
        match self.kind(&path)? {
            Some(VfsFileType::Directory) => Err(os_error(libc::EISDIR)),
            Some(VfsFileType::File) => {
                let file = self.vfs.append_file(&path).map_err(io_error)?;
                Ok(Box::new(VfsBackedFile { file }))
            }
            None => self.create_file(&path),
        }
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let (from, to) = (vfs_path(from)?, vfs_path(to)?);
        let _lock = self.locked();
        let source = self.lookup(&from)?.ok_or_else(|| os_error(libc::ENOENT))?;
        self.check_ancestors(&to)?;
        if from == to {
            return Ok(());
        }
        if from.is_empty() || to.is_empty() {
            return Err(os_error(libc::EBUSY));
        }
        let moved = match (source, self.lookup(&to)?) {
            (VfsFileType::Directory, _) if to.starts_with(&format!("{from}/")) => {
                return Err(os_error(libc::EINVAL))
            }
            (VfsFileType::Directory, Some(VfsFileType::File)) => {
                return Err(os_error(libc::ENOTDIR))
            }
            (VfsFileType::File, Some(VfsFileType::Directory)) => {
                return Err(os_error(libc::EISDIR))
            }
            (VfsFileType::Directory, _) => self.vfs.move_dir(&from, &to),
            (VfsFileType::File, _) => self.vfs.move_file(&from, &to),
        };
        moved.map_err(io_error)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        let path = vfs_path(path)?;
        let _lock = self.locked();
        match self.lookup(&path)? {
            None => Err(os_error(libc::ENOENT)),
            Some(VfsFileType::Directory) => Err(os_error(libc::EISDIR)),
            Some(VfsFileType::File) => self.vfs.remove_file(&path).map_err(io_error),
        }
    }

    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        let path = vfs_path(path)?;
        let _lock = self.locked();
        match self.lookup(&path)? {
            None => Err(os_error(libc::ENOENT)),
            Some(VfsFileType::File) => Err(os_error(libc::ENOTDIR)),
            Some(VfsFileType::Directory) if path.is_empty() => Err(os_error(libc::EBUSY)),
            Some(VfsFileType::Directory) if !self.names(&path)?.is_empty() => {
                Err(os_error(libc::ENOTEMPTY))
            }
            Some(VfsFileType::Directory) => self.vfs.remove_dir(&path).map_err(io_error),
        }
    }

    /// `ENOTSUP` for a directory (`vfs` has no fsync), `ENOENT`/`ENOTDIR` otherwise.
    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        match self.lookup(&vfs_path(path)?)? {
            None => Err(os_error(libc::ENOENT)),
            Some(VfsFileType::File) => Err(os_error(libc::ENOTDIR)),
            Some(VfsFileType::Directory) => Err(unsupported()),
        }
    }

    fn entry_kind(&self, path: &Path) -> io::Result<Option<EntryKind>> {
        Ok(self.lookup(&vfs_path(path)?)?.map(|kind| match kind {
            VfsFileType::File => EntryKind::File,
            VfsFileType::Directory => EntryKind::Dir,
        }))
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        let path = vfs_path(path)?;
        match self.lookup(&path)? {
            None => Err(os_error(libc::ENOENT)),
            Some(VfsFileType::File) => Err(os_error(libc::ENOTDIR)),
            Some(VfsFileType::Directory) => {
                let mut names = self.names(&path)?;
                names.sort();
                Ok(names)
            }
        }
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let path = vfs_path(path)?;
        match self.lookup(&path)? {
            None => Err(os_error(libc::ENOENT)),
            Some(VfsFileType::Directory) => Err(os_error(libc::EISDIR)),
            Some(VfsFileType::File) => {
                let mut file = self.vfs.open_file(&path).map_err(io_error)?;
                let mut bytes = Vec::new();
                file.read_to_end(&mut bytes)?;
                Ok(bytes)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use vfs::{MemoryFS, PhysicalFS, VfsPath};

    use super::*;
    use crate::fault::FaultFs;
    use crate::plan::FaultPlan;

    fn errno<T>(result: io::Result<T>) -> Option<i32> {
        result.err().and_then(|err| err.raw_os_error())
    }

    fn write_file(fs: &dyn FileSystem, path: &str, bytes: &[u8]) {
        let mut file = fs.create_new(Path::new(path)).unwrap();
        file.write_all(bytes).unwrap();
    }

    #[test]
    fn memory_fs_gets_kernel_errnos() {
        let fs = VfsBacked::new(MemoryFS::new());
        let p = Path::new;
        assert_eq!(errno(fs.create_dir(p("/a/b"))), Some(libc::ENOENT));
        fs.create_dir(p("/a")).unwrap();
        assert_eq!(errno(fs.create_dir(p("/a"))), Some(libc::EEXIST));
        assert_eq!(errno(fs.create_dir(p("/"))), Some(libc::EEXIST));
        write_file(&fs, "/a/f", b"x");
        assert_eq!(errno(fs.create_new(p("/a/f"))), Some(libc::EEXIST));
        assert_eq!(errno(fs.create_new(p("/a/f/g"))), Some(libc::ENOTDIR));
        assert_eq!(errno(fs.open_append(p("/a"))), Some(libc::EISDIR));
        assert_eq!(errno(fs.remove_dir(p("/a"))), Some(libc::ENOTEMPTY));
        assert_eq!(errno(fs.remove_dir(p("/a/f"))), Some(libc::ENOTDIR));
        assert_eq!(errno(fs.remove_dir(p("/"))), Some(libc::EBUSY));
        assert_eq!(errno(fs.remove_file(p("/a"))), Some(libc::EISDIR));
        assert_eq!(errno(fs.remove_file(p("/a/g"))), Some(libc::ENOENT));
        assert_eq!(errno(fs.read(p("/a"))), Some(libc::EISDIR));
        assert_eq!(errno(fs.read(p("/a/f/g"))), Some(libc::ENOTDIR));
        assert_eq!(errno(fs.read_dir(p("/a/f"))), Some(libc::ENOTDIR));
        assert_eq!(errno(fs.sync_dir(p("/z"))), Some(libc::ENOENT));
        assert_eq!(errno(fs.rename(p("/a/g"), p("/b"))), Some(libc::ENOENT));
        assert_eq!(errno(fs.rename(p("/a/f"), p("/a"))), Some(libc::EISDIR));
        assert_eq!(errno(fs.rename(p("/a"), p("/a/x"))), Some(libc::EINVAL));
        assert_eq!(errno(fs.rename(p("/a"), p("/a/f"))), Some(libc::EINVAL));
        write_file(&fs, "/top", b"");
        assert_eq!(errno(fs.rename(p("/a"), p("/top"))), Some(libc::ENOTDIR));
        assert_eq!(errno(fs.rename(p("/a/f"), p("/"))), Some(libc::EBUSY));
        fs.rename(p("/a/f"), p("/a/f")).unwrap();
        assert_eq!(fs.entry_kind(p("/a")).unwrap(), Some(EntryKind::Dir));
        assert_eq!(fs.entry_kind(p("/a/f")).unwrap(), Some(EntryKind::File));
        assert_eq!(fs.entry_kind(p("/nope/f")).unwrap(), None);
        assert_eq!(errno(fs.entry_kind(p("/a/f/g"))), Some(libc::ENOTDIR));
        fs.remove_file(p("/a/f")).unwrap();
        fs.remove_dir(p("/a")).unwrap();
        assert_eq!(fs.read_dir(p("/")).unwrap(), vec!["top"]);
    }

    #[test]
    fn what_vfs_lacks_is_enotsup() {
        let fs = VfsBacked::new(MemoryFS::new());
        let mut file = fs.create_new(Path::new("/f")).unwrap();
        file.write_all(b"flushed").unwrap();
        let err = file.sync_all().unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOTSUP));
        assert_eq!(err.kind(), io::ErrorKind::Unsupported);
        // sync_all flushed before failing: vfs::MemoryFS shows bytes on flush.
        let metadata = vfs::FileSystem::metadata(fs.vfs(), "/f").unwrap();
        assert_eq!(metadata.len, 7);
        assert_eq!(errno(fs.sync_dir(Path::new("/"))), Some(libc::ENOTSUP));
        // vfs::MemoryFS has no move_file.
        assert_eq!(
            errno(fs.rename(Path::new("/f"), Path::new("/g"))),
            Some(libc::ENOTSUP)
        );
        assert_eq!(fs.read(Path::new("/f")).unwrap(), b"flushed");
    }

    #[test]
    fn open_append_creates_then_appends() {
        let fs = VfsBacked::new(MemoryFS::new());
        fs.create_dir(Path::new("/d")).unwrap();
        for part in [&b"one"[..], b"two"] {
            let mut file = fs.open_append(Path::new("/d/log")).unwrap();
            file.write_all(part).unwrap();
        }
        assert_eq!(fs.read(Path::new("/d/log")).unwrap(), b"onetwo");
        assert_eq!(fs.read_dir(Path::new("/d")).unwrap(), vec!["log"]);
    }

    #[test]
    fn physical_fs_renames_over_files_and_moves_directories() {
        let dir = tempfile::tempdir().unwrap();
        let fs = VfsBacked::new(PhysicalFS::new(dir.path()));
        write_file(&fs, "/new", b"new");
        write_file(&fs, "/old", b"old");
        fs.rename(Path::new("/new"), Path::new("/old")).unwrap();
        assert_eq!(std::fs::read(dir.path().join("old")).unwrap(), b"new");
        fs.create_dir(Path::new("/d")).unwrap();
        write_file(&fs, "/d/f", b"deep");
        fs.rename(Path::new("/d"), Path::new("/e")).unwrap();
        assert_eq!(fs.read(Path::new("/e/f")).unwrap(), b"deep");
        assert_eq!(fs.read_dir(Path::new("/")).unwrap(), vec!["e", "old"]);
        assert_eq!(errno(fs.sync_dir(Path::new("/e"))), Some(libc::ENOTSUP));
    }

    #[test]
    fn a_fault_plan_runs_over_a_vfs_filesystem_and_back_out_through_vfs() {
        let plan = FaultPlan::parse("deny=write:/locked;fail=create#2:EROFS").unwrap();
        let root = VfsPath::new(FaultFs::new(VfsBacked::new(MemoryFS::new()), plan));
        root.join("first").unwrap().create_file().unwrap();
        let err = root.join("second").unwrap().create_file().err().unwrap();
        match err.kind() {
            VfsErrorKind::IoError(cause) => assert_eq!(cause.raw_os_error(), Some(libc::EROFS)),
            other => panic!("expected EROFS, got {other:?}"),
        }
        let mut locked = root.join("locked").unwrap().create_file().unwrap();
        let err = locked.write_all(b"no").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EACCES));
        drop(locked);
        let mut names: Vec<String> = root
            .read_dir()
            .unwrap()
            .map(|path| path.filename())
            .collect();
        names.sort();
        assert_eq!(names, vec!["first", "locked"]);
        assert_eq!(root.join("locked").unwrap().read_to_string().unwrap(), "");
    }

    #[test]
    fn vfs_path_moves_by_copying_when_the_vfs_filesystem_cannot_rename() {
        let fs = FaultFs::new(VfsBacked::new(MemoryFS::new()), FaultPlan::default());
        let view: &dyn vfs::FileSystem = &fs;
        view.create_file("/a").unwrap().write_all(b"moved").unwrap();
        let err = view.move_file("/a", "/b").unwrap_err();
        assert!(matches!(err.kind(), VfsErrorKind::NotSupported), "{err}");

        let root = VfsPath::new(fs);
        let (from, to) = (root.join("a").unwrap(), root.join("b").unwrap());
        from.move_file(&to).unwrap();
        assert!(!from.exists().unwrap());
        assert_eq!(to.read_to_string().unwrap(), "moved");
    }
}
