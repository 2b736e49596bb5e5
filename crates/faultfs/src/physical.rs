//! `PhysicalFs`: the real disk, with buffered file handles.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use crate::fs::{EntryId, EntryKind, FileSystem, FsFile};

/// Capacity of the write buffer inside every [`PhysicalFs`] file handle.
pub const BUFFER_CAPACITY: usize = 64 * 1024;

/// The real filesystem. Files are buffered (`BufWriter`, [`BUFFER_CAPACITY`]);
/// `sync_all` flushes the buffer and `fsync`s, `sync_dir` `fsync`s a directory.
#[derive(Debug, Clone, Copy, Default)]
pub struct PhysicalFs;

impl PhysicalFs {
    /// The real filesystem.
    pub fn new() -> PhysicalFs {
        PhysicalFs
    }
}

/// A buffered handle on a real file.
#[derive(Debug)]
struct PhysicalFile {
    writer: BufWriter<File>,
}

impl PhysicalFile {
    fn boxed(file: File) -> Box<dyn FsFile> {
        Box::new(PhysicalFile {
            writer: BufWriter::with_capacity(BUFFER_CAPACITY, file),
        })
    }
}

impl Write for PhysicalFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

impl FsFile for PhysicalFile {
    fn sync_all(&mut self) -> io::Result<()> {
        self.writer.flush()?;
        self.writer.get_ref().sync_all()
    }
}

impl FileSystem for PhysicalFs {
    fn create_dir(&self, path: &Path) -> io::Result<()> {
        fs::create_dir(path)
    }

    fn create_new(&self, path: &Path) -> io::Result<Box<dyn FsFile>> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path)?;
        Ok(PhysicalFile::boxed(file))
    }

    fn open_append(&self, path: &Path) -> io::Result<Box<dyn FsFile>> {
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .custom_flags(libc::O_CLOEXEC)
            .open(path)?;
        Ok(PhysicalFile::boxed(file))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }

    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        fs::remove_dir(path)
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        let dir = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
            .open(path)?;
        dir.sync_all()
    }

    fn entry_kind(&self, path: &Path) -> io::Result<Option<EntryKind>> {
        match fs::symlink_metadata(path) {
            Ok(meta) => {
                let kind = meta.file_type();
                Ok(Some(if kind.is_symlink() {
                    EntryKind::Symlink
                } else if kind.is_dir() {
                    EntryKind::Dir
                } else if kind.is_file() {
                    EntryKind::File
                } else {
                    EntryKind::Other
                }))
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    fn entry_id(&self, path: &Path) -> io::Result<Option<EntryId>> {
        match fs::symlink_metadata(path) {
            Ok(meta) => Ok(Some(EntryId {
                dev: meta.dev(),
                ino: meta.ino(),
            })),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        let mut names = fs::read_dir(path)?
            .map(|entry| entry.map(|entry| entry.file_name().to_string_lossy().into_owned()))
            .collect::<io::Result<Vec<_>>>()?;
        names.sort();
        Ok(names)
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        fs::read(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffered_write_lands_after_flush() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        let fs = PhysicalFs::new();
        let mut file = fs.create_new(&path).unwrap();
        file.write_all(b"hello").unwrap();
        assert_eq!(
            fs.read(&path).unwrap(),
            b"",
            "bytes stay buffered until flush"
        );
        file.flush().unwrap();
        assert_eq!(fs.read(&path).unwrap(), b"hello");
        file.sync_all().unwrap();
    }

    #[test]
    fn create_new_is_exclusive_and_never_follows_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let fs = PhysicalFs::new();
        let path = dir.path().join("a");
        drop(fs.create_new(&path).unwrap());
        let err = fs.create_new(&path).err().unwrap();
        assert_eq!(err.raw_os_error(), Some(libc::EEXIST));

        let victim = dir.path().join("victim");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let err = fs.create_new(&link).err().unwrap();
        assert_eq!(err.raw_os_error(), Some(libc::EEXIST));
        assert_eq!(
            fs.entry_kind(&victim).unwrap(),
            None,
            "the symlink target was not created"
        );
        assert_eq!(fs.entry_kind(&link).unwrap(), Some(EntryKind::Symlink));
    }

    #[test]
    fn open_append_appends() {
        let dir = tempfile::tempdir().unwrap();
        let fs = PhysicalFs::new();
        let path = dir.path().join("log");
        for line in ["one\n", "two\n"] {
            let mut file = fs.open_append(&path).unwrap();
            file.write_all(line.as_bytes()).unwrap();
            file.flush().unwrap();
        }
        assert_eq!(fs.read(&path).unwrap(), b"one\ntwo\n");
    }

    #[test]
    fn rename_replaces_and_dirs_sync() {
        let dir = tempfile::tempdir().unwrap();
        let fs = PhysicalFs::new();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        for (path, text) in [(&a, "new"), (&b, "old")] {
            let mut file = fs.create_new(path).unwrap();
            file.write_all(text.as_bytes()).unwrap();
            file.sync_all().unwrap();
        }
        fs.rename(&a, &b).unwrap();
        assert_eq!(fs.read(&b).unwrap(), b"new");
        assert_eq!(fs.read_dir(dir.path()).unwrap(), vec!["b".to_string()]);
        fs.sync_dir(dir.path()).unwrap();
        let err = fs.sync_dir(&b).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOTDIR));
    }

    #[test]
    fn errors_carry_kernel_errno() {
        let dir = tempfile::tempdir().unwrap();
        let fs = PhysicalFs::new();
        let sub = dir.path().join("sub");
        fs.create_dir(&sub).unwrap();
        assert_eq!(
            fs.create_dir(&sub).unwrap_err().raw_os_error(),
            Some(libc::EEXIST)
        );
        drop(fs.create_new(&sub.join("f")).unwrap());
        assert_eq!(
            fs.remove_dir(&sub).unwrap_err().raw_os_error(),
            Some(libc::ENOTEMPTY)
        );
        fs.remove_file(&sub.join("f")).unwrap();
        fs.remove_dir(&sub).unwrap();
        assert_eq!(fs.entry_kind(&sub).unwrap(), None);
        assert_eq!(
            fs.remove_file(&sub).unwrap_err().raw_os_error(),
            Some(libc::ENOENT)
        );
    }
}
