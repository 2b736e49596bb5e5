//! `FaultFs` as a `vfs::FileSystem` (the mapping is documented on the impl).

use std::io::{self, Cursor, Seek, SeekFrom, Write};
use std::path::Path;

use vfs::error::VfsErrorKind;
use vfs::{SeekAndRead, SeekAndWrite, VfsError, VfsFileType, VfsMetadata, VfsResult};

use super::errors::vfs_error;
use super::paths::native_path;
use crate::errno::os_error;
use crate::fault::FaultFs;
use crate::fs::{EntryKind, FileSystem, FsFile};

/// `FaultFs` as a `vfs::FileSystem`: every `vfs` call that changes the tree
/// is one or two faultfs operations, counted and faulted by the plan exactly
/// as the native calls are; lookups are not operations.
///
/// | `vfs` call | faultfs operations |
/// |---|---|
/// | `create_dir` | `mkdir`; `EEXIST` becomes `DirectoryExists` (on a directory) or `FileExists`, as `VfsPath::create_dir_all` expects |
/// | `create_file` | `create` (`create_new`); over an existing file or symlink first `remove` (so truncation is two operations, not atomic, and never writes through a symlink); on a directory `EISDIR` |
/// | `append_file` | `open` (`open_append`); on a missing path `FileNotFound` without an operation (`vfs` never creates on append) |
/// | `Write::write` / `flush` on a handle | `write` / `flush` |
/// | `move_file`, `move_dir` | `rename` (atomic, replaces the destination when the inner filesystem does; an inner `ENOTSUP` is `NotSupported`, so `VfsPath` falls back to copying) |
/// | `remove_file`, `remove_dir` | `remove` |
/// | `read_dir`, `open_file`, `metadata`, `exists` | none (lookups; `open_file` reads the whole file) |
/// | `copy_file`, `set_*_time` | `NotSupported` (so `VfsPath::copy_file` copies through `open_file` + `create_file`) |
///
/// `vfs` has no fsync, so the `fsync` kind never occurs through this view.
/// Write handles are sequential: `Seek` reports the current position
/// (`Current(0)`, `Start(position)`, `End(0)`) and fails any other seek with
/// `ESPIPE`. Errors are `VfsErrorKind::IoError` keeping the errno, except
/// `ENOENT` (`FileNotFound`) and `ENOTSUP` (`NotSupported`).
impl<F: FileSystem + 'static> vfs::FileSystem for FaultFs<F> {
    fn read_dir(&self, path: &str) -> VfsResult<Box<dyn Iterator<Item = String> + Send>> {
        let names = FileSystem::read_dir(self, &native_path(path))
            .map_err(|err| vfs_error(err, "read directory", path))?;
        Ok(Box::new(names.into_iter()))
    }

    fn create_dir(&self, path: &str) -> VfsResult<()> {
        let native = native_path(path);
        FileSystem::create_dir(self, &native).map_err(|err| {
            if err.raw_os_error() == Some(libc::EEXIST) {
                if let Some(kind) = existing(self, &native) {
                    return VfsError::from(kind);
                }
            }
            vfs_error(err, "create directory", path)
        })
    }

    fn open_file(&self, path: &str) -> VfsResult<Box<dyn SeekAndRead + Send>> {
        // A lookup: read from the wrapped filesystem, not counted (faultfs's
        // `read` operation is the recorder reading its trace filters).
        let bytes = self
            .inner()
            .read(&native_path(path))
            .map_err(|err| vfs_error(err, "read", path))?;
        Ok(Box::new(Cursor::new(bytes)))
    }

    fn create_file(&self, path: &str) -> VfsResult<Box<dyn SeekAndWrite + Send>> {
        let native = native_path(path);
        let fail = |err| vfs_error(err, "create file", path);
        match FileSystem::entry_kind(self, &native).map_err(fail)? {
            Some(EntryKind::Dir) => return Err(fail(os_error(libc::EISDIR))),
            Some(_) => FileSystem::remove_file(self, &native).map_err(fail)?,
            None => {}
        }
        let file = FileSystem::create_new(self, &native).map_err(fail)?;
        Ok(Box::new(SequentialWriter { file, position: 0 }))
    }

    fn append_file(&self, path: &str) -> VfsResult<Box<dyn SeekAndWrite + Send>> {
        let native = native_path(path);
        let fail = |err| vfs_error(err, "append to", path);
        if FileSystem::entry_kind(self, &native)
            .map_err(fail)?
            .is_none()
        {
            return Err(fail(os_error(libc::ENOENT)));
        }
        let file = FileSystem::open_append(self, &native).map_err(fail)?;
        let length = self.inner().read(&native).map_err(fail)?.len();
        Ok(Box::new(SequentialWriter {
            file,
            position: length as u64,
        }))
    }

    fn metadata(&self, path: &str) -> VfsResult<VfsMetadata> {
        let native = native_path(path);
        let fail = |err| vfs_error(err, "get metadata of", path);
        let file_type = match FileSystem::entry_kind(self, &native).map_err(fail)? {
            None => return Err(fail(os_error(libc::ENOENT))),
            Some(EntryKind::Dir) => VfsFileType::Directory,
            Some(EntryKind::File) => VfsFileType::File,
            Some(EntryKind::Symlink) if FileSystem::read_dir(self, &native).is_ok() => {
                VfsFileType::Directory
            }
            Some(EntryKind::Symlink) => VfsFileType::File,
            Some(EntryKind::Other) => {
                return Err(VfsError::from(VfsErrorKind::NotSupported)
                    .with_context(|| "faultfs: neither a file nor a directory"))
            }
        };
        let len = match file_type {
            VfsFileType::File => FileSystem::read(self, &native).map_err(fail)?.len() as u64,
            VfsFileType::Directory => 0,
        };
        Ok(VfsMetadata {
            file_type,
            len,
            created: None,
            modified: None,
            accessed: None,
        })
    }

    fn exists(&self, path: &str) -> VfsResult<bool> {
        FileSystem::entry_kind(self, &native_path(path))
            .map(|kind| kind.is_some())
            .map_err(|err| vfs_error(err, "look up", path))
    }

    fn remove_file(&self, path: &str) -> VfsResult<()> {
        FileSystem::remove_file(self, &native_path(path))
            .map_err(|err| vfs_error(err, "remove file", path))
    }

    fn remove_dir(&self, path: &str) -> VfsResult<()> {
        FileSystem::remove_dir(self, &native_path(path))
            .map_err(|err| vfs_error(err, "remove directory", path))
    }

    fn move_file(&self, src: &str, dest: &str) -> VfsResult<()> {
        FileSystem::rename(self, &native_path(src), &native_path(dest))
            .map_err(|err| vfs_error(err, "move", src))
    }

    fn move_dir(&self, src: &str, dest: &str) -> VfsResult<()> {
        FileSystem::rename(self, &native_path(src), &native_path(dest))
            .map_err(|err| vfs_error(err, "move", src))
    }
}

/// What `vfs` calls the entry already at `native` after an `EEXIST`:
/// `DirectoryExists` for a directory (or a symlink to one), `FileExists`
/// for anything else, nothing when the `EEXIST` was injected on a free path.
fn existing<F: FileSystem>(fs: &FaultFs<F>, native: &Path) -> Option<VfsErrorKind> {
    if FileSystem::read_dir(fs, native).is_ok() {
        return Some(VfsErrorKind::DirectoryExists);
    }
    match FileSystem::entry_kind(fs, native) {
        Ok(Some(_)) => Some(VfsErrorKind::FileExists),
        _ => None,
    }
}

/// A `vfs` write handle over a faultfs file: writes are sequential, so a
/// seek may only ask for the current position.
struct SequentialWriter {
    file: Box<dyn FsFile>,
    /// Where the next byte goes: the length at open plus the bytes written.
    position: u64,
}

impl Write for SequentialWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.file.write(buf)?;
        self.position += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Seek for SequentialWriter {
    /// `Ok(position)` for a seek to where the handle already is; `ESPIPE`
    /// (`ErrorKind::NotSeekable`) for anything else.
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        match pos {
            SeekFrom::Current(0) | SeekFrom::End(0) => Ok(self.position),
            SeekFrom::Start(offset) if offset == self.position => Ok(self.position),
            _ => Err(os_error(libc::ESPIPE)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use vfs::VfsPath;

    use super::*;
    use crate::memory::MemoryFs;
    use crate::op::OpKind;
    use crate::plan::FaultPlan;

    fn faulty(plan: &str) -> (FaultFs<MemoryFs>, MemoryFs) {
        let memory = MemoryFs::new();
        let plan = FaultPlan::parse(plan).unwrap();
        (FaultFs::new(memory.clone(), plan), memory)
    }

    /// The errno inside a `vfs` error (`FileNotFound` is `ENOENT`).
    fn errno(err: &VfsError) -> Option<i32> {
        match err.kind() {
            VfsErrorKind::IoError(cause) => cause.raw_os_error(),
            VfsErrorKind::FileNotFound => Some(libc::ENOENT),
            _ => None,
        }
    }

    #[test]
    fn vfs_paths_work_through_the_view() {
        let (fs, memory) = faulty("");
        let root = VfsPath::new(fs);
        root.join("a/b/c").unwrap().create_dir_all().unwrap();
        root.join("a/b/c").unwrap().create_dir_all().unwrap();
        let file = root.join("a/b/notes.txt").unwrap();
        file.create_file().unwrap().write_all(b"one").unwrap();
        file.append_file().unwrap().write_all(b"+two").unwrap();
        assert_eq!(file.read_to_string().unwrap(), "one+two");
        assert_eq!(
            memory.read(Path::new("/a/b/notes.txt")).unwrap(),
            b"one+two"
        );
        let metadata = file.metadata().unwrap();
        assert_eq!((metadata.file_type, metadata.len), (VfsFileType::File, 7));
        assert_eq!(
            root.join("a").unwrap().metadata().unwrap().file_type,
            VfsFileType::Directory
        );
        let names: Vec<String> = root
            .join("a/b")
            .unwrap()
            .read_dir()
            .unwrap()
            .map(|path| path.as_str().to_string())
            .collect();
        assert_eq!(names, vec!["/a/b/c", "/a/b/notes.txt"]);

        let copy = root.join("copy.txt").unwrap();
        file.copy_file(&copy).unwrap();
        let moved = root.join("a/moved.txt").unwrap();
        copy.move_file(&moved).unwrap();
        assert!(!copy.exists().unwrap());
        assert_eq!(moved.read_to_string().unwrap(), "one+two");

        let blocker = root.join("x").unwrap();
        blocker.create_file().unwrap();
        let err = root.join("x/y").unwrap().create_dir_all().unwrap_err();
        assert!(matches!(err.kind(), VfsErrorKind::FileExists), "{err}");

        root.join("a").unwrap().remove_dir_all().unwrap();
        assert_eq!(memory.read_dir(Path::new("/")).unwrap(), vec!["x"]);
    }

    #[test]
    fn vfs_calls_are_the_documented_operations() {
        let (fs, _) = faulty("");
        let vfs_fs: &dyn vfs::FileSystem = &fs;
        vfs_fs.create_dir("/d").unwrap();
        let mut file = vfs_fs.create_file("/d/f").unwrap();
        file.write_all(b"abc").unwrap();
        file.flush().unwrap();
        drop(file);
        drop(vfs_fs.create_file("/d/f").unwrap());
        drop(vfs_fs.append_file("/d/f").unwrap());
        vfs_fs.move_file("/d/f", "/d/g").unwrap();
        vfs_fs.remove_file("/d/g").unwrap();
        vfs_fs.remove_dir("/d").unwrap();
        let counts = fs.counts();
        let by_kind: Vec<u64> = OpKind::ALL.iter().map(|&kind| counts.get(kind)).collect();
        // create, open, write, flush, fsync, rename, remove, mkdir, read
        assert_eq!(by_kind, vec![2, 1, 1, 1, 0, 1, 3, 1, 0]);

        let lookups_before = fs.counts();
        assert!(!vfs_fs.exists("/d").unwrap());
        assert!(vfs_fs.read_dir("").unwrap().next().is_none());
        let err = vfs_fs.append_file("/missing").err().unwrap();
        assert!(matches!(err.kind(), VfsErrorKind::FileNotFound));
        assert_eq!(fs.counts(), lookups_before);
    }

    #[test]
    fn faults_surface_as_vfs_errors_with_their_errno() {
        let (fs, memory) = faulty("deny=create:/ro/**:EPERM;fail=mkdir#2:EIO;quota=5");
        let root = VfsPath::new(fs);
        let err = root.join("ro/a/b").unwrap().create_dir_all().unwrap_err();
        assert_eq!(errno(&err), Some(libc::EIO), "{err}");
        assert_eq!(memory.read_dir(Path::new("/")).unwrap(), vec!["ro"]);
        let err = root.join("ro/f").unwrap().create_file().err().unwrap();
        assert_eq!(errno(&err), Some(libc::EPERM), "{err}");
        let mut file = root.join("f").unwrap().create_file().unwrap();
        let err = file.write_all(b"123456").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOSPC));
        assert_eq!(err.kind(), io::ErrorKind::StorageFull);
        assert_eq!(memory.read(Path::new("/f")).unwrap(), b"12345");
    }

    #[test]
    fn an_injected_eexist_on_a_free_path_stays_an_io_error() {
        let (fs, _) = faulty("fail=mkdir#1:EEXIST");
        let err = vfs::FileSystem::create_dir(&fs, "/d").unwrap_err();
        assert_eq!(errno(&err), Some(libc::EEXIST));
        vfs::FileSystem::create_dir(&fs, "/d").unwrap();
        let err = vfs::FileSystem::create_dir(&fs, "/d").unwrap_err();
        assert!(matches!(err.kind(), VfsErrorKind::DirectoryExists));
    }

    #[test]
    fn create_file_replaces_a_file_but_not_a_directory() {
        let (fs, memory) = faulty("");
        let root = VfsPath::new(fs);
        let file = root.join("f").unwrap();
        file.create_file().unwrap().write_all(b"old").unwrap();
        file.create_file().unwrap().write_all(b"new").unwrap();
        assert_eq!(memory.read(Path::new("/f")).unwrap(), b"new");
        memory.symlink(Path::new("/f"), Path::new("/link")).unwrap();
        root.join("link")
            .unwrap()
            .create_file()
            .unwrap()
            .write_all(b"own")
            .unwrap();
        assert_eq!(memory.read(Path::new("/f")).unwrap(), b"new");
        assert_eq!(
            memory.entry_kind(Path::new("/link")).unwrap(),
            Some(EntryKind::File)
        );
        root.join("d").unwrap().create_dir().unwrap();
        let err = root.join("d").unwrap().create_file().err();
        assert_eq!(err.as_ref().and_then(errno), Some(libc::EISDIR));
    }

    #[test]
    fn write_handles_only_seek_to_where_they_are() {
        let (fs, _) = faulty("");
        let root = VfsPath::new(fs);
        let path = root.join("f").unwrap();
        path.create_file().unwrap().write_all(b"abc").unwrap();
        let mut file = path.append_file().unwrap();
        file.write_all(b"de").unwrap();
        assert_eq!(file.stream_position().unwrap(), 5);
        assert_eq!(file.seek(SeekFrom::Start(5)).unwrap(), 5);
        assert_eq!(file.seek(SeekFrom::End(0)).unwrap(), 5);
        let err = file.seek(SeekFrom::Start(1)).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ESPIPE));
        assert_eq!(err.kind(), io::ErrorKind::NotSeekable);
        drop(file);
        let mut text = String::new();
        path.open_file().unwrap().read_to_string(&mut text).unwrap();
        assert_eq!(text, "abcde");
    }
}
