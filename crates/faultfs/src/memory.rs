//! `MemoryFs`: an in-memory filesystem for unit tests, with kernel errnos.

use std::collections::{BTreeMap, VecDeque};
use std::ffi::OsString;
use std::fmt;
use std::io::{self, Write};
use std::ops::Bound;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::errno::os_error;
use crate::fs::{EntryKind, FileSystem, FsFile};

/// Symlinks followed while resolving one path before `ELOOP`, as Linux does.
const MAX_SYMLINK_HOPS: usize = 40;

/// An in-memory filesystem with POSIX semantics where the recorder relies on
/// them: exclusive create, atomic rename-over, empty-only `rmdir`, symlinks
/// that `create_new` refuses to follow, file handles that keep writing to the
/// same file after a rename, and the errnos the kernel returns (`ENOENT`,
/// `EEXIST`, `ENOTEMPTY`, `ENOTDIR`, `EISDIR`, ...).
///
/// Paths are resolved from `/`; a relative path is taken relative to `/`.
/// Writes land immediately (no buffering); `flush` and `sync_all` succeed.
/// Clones share the same tree.
#[derive(Clone, Default)]
pub struct MemoryFs {
    tree: Arc<Mutex<BTreeMap<PathBuf, Node>>>,
}

/// One entry; the root `/` is implicit and always a directory.
#[derive(Debug, Clone)]
enum Node {
    Dir,
    File(Arc<Mutex<Vec<u8>>>),
    Symlink(PathBuf),
}

impl fmt::Debug for MemoryFs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryFs")
            .field("entries", &self.nodes().len())
            .finish()
    }
}

impl MemoryFs {
    /// An empty filesystem holding only `/`.
    pub fn new() -> MemoryFs {
        MemoryFs::default()
    }

    /// Creates a symlink at `link` pointing to `target` (`EEXIST` if `link` exists).
    pub fn symlink(&self, target: &Path, link: &Path) -> io::Result<()> {
        let mut nodes = self.nodes();
        let link = resolve(&nodes, link, false)?;
        if is_root(&link) || nodes.contains_key(&link) {
            return Err(os_error(libc::EEXIST));
        }
        nodes.insert(link, Node::Symlink(target.to_path_buf()));
        Ok(())
    }

    fn nodes(&self) -> MutexGuard<'_, BTreeMap<PathBuf, Node>> {
        self.tree
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn root() -> PathBuf {
    PathBuf::from("/")
}

fn is_root(path: &Path) -> bool {
    path == Path::new("/")
}

/// The node at a resolved path (`/` is a directory).
fn node_at<'a>(nodes: &'a BTreeMap<PathBuf, Node>, path: &Path) -> Option<&'a Node> {
    const ROOT: Node = Node::Dir;
    if is_root(path) {
        Some(&ROOT)
    } else {
        nodes.get(path)
    }
}

/// The path components as names, `..` kept, `/` and `.` dropped.
fn names(path: &Path) -> impl Iterator<Item = OsString> + '_ {
    path.components().filter_map(|component| match component {
        Component::Normal(name) => Some(name.to_os_string()),
        Component::ParentDir => Some(OsString::from("..")),
        Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
    })
}

/// Resolves `path` the way the kernel does: symlinks in directory components
/// are followed, the last one only when `follow_last`. The result names the
/// final entry, which may not exist; every directory above it does.
fn resolve(nodes: &BTreeMap<PathBuf, Node>, path: &Path, follow_last: bool) -> io::Result<PathBuf> {
    let mut current = root();
    let mut rest: VecDeque<OsString> = names(path).collect();
    let mut hops = 0;
    while let Some(name) = rest.pop_front() {
        if name == ".." {
            current.pop();
            continue;
        }
        let candidate = current.join(&name);
        let last = rest.is_empty();
        match nodes.get(&candidate) {
            Some(Node::Symlink(target)) if !last || follow_last => {
                hops += 1;
                if hops > MAX_SYMLINK_HOPS {
                    return Err(os_error(libc::ELOOP));
                }
                if target.is_absolute() {
                    current = root();
                }
                let mut expanded: VecDeque<OsString> = names(target).collect();
                expanded.extend(rest);
                rest = expanded;
            }
            Some(Node::Dir) => current = candidate,
            _ if last => current = candidate,
            Some(_) => return Err(os_error(libc::ENOTDIR)),
            None => return Err(os_error(libc::ENOENT)),
        }
    }
    Ok(current)
}

/// The paths strictly below `dir`, in order.
fn descendants(nodes: &BTreeMap<PathBuf, Node>, dir: &Path) -> Vec<PathBuf> {
    nodes
        .range::<Path, _>((Bound::Excluded(dir), Bound::Unbounded))
        .map(|(path, _)| path)
        .take_while(|path| path.starts_with(dir))
        .cloned()
        .collect()
}

/// A handle on an in-memory file; keeps the file alive across rename/remove.
struct MemoryFile {
    content: Arc<Mutex<Vec<u8>>>,
    /// Write offset, or `None` for append mode.
    position: Option<usize>,
}

impl MemoryFile {
    fn boxed(content: Arc<Mutex<Vec<u8>>>, position: Option<usize>) -> Box<dyn FsFile> {
        Box::new(MemoryFile { content, position })
    }
}

impl Write for MemoryFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut content = self.content.lock().unwrap_or_else(|p| p.into_inner());
        let start = self.position.unwrap_or(content.len());
        let end = start + buf.len();
        if content.len() < end {
            content.resize(end, 0);
        }
        content[start..end].copy_from_slice(buf);
        if let Some(position) = self.position.as_mut() {
            *position = end;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl FsFile for MemoryFile {
    fn sync_all(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl FileSystem for MemoryFs {
    fn create_dir(&self, path: &Path) -> io::Result<()> {
        let mut nodes = self.nodes();
        let path = resolve(&nodes, path, false)?;
        if node_at(&nodes, &path).is_some() {
            return Err(os_error(libc::EEXIST));
        }
        nodes.insert(path, Node::Dir);
        Ok(())
    }

    fn create_new(&self, path: &Path) -> io::Result<Box<dyn FsFile>> {
        let mut nodes = self.nodes();
        let path = resolve(&nodes, path, false)?;
        if node_at(&nodes, &path).is_some() {
            return Err(os_error(libc::EEXIST));
        }
        let content = Arc::new(Mutex::new(Vec::new()));
        nodes.insert(path, Node::File(Arc::clone(&content)));
        Ok(MemoryFile::boxed(content, Some(0)))
    }

    fn open_append(&self, path: &Path) -> io::Result<Box<dyn FsFile>> {
        let mut nodes = self.nodes();
        let path = resolve(&nodes, path, true)?;
        match node_at(&nodes, &path) {
            Some(Node::File(content)) => Ok(MemoryFile::boxed(Arc::clone(content), None)),
            Some(Node::Dir) => Err(os_error(libc::EISDIR)),
            Some(Node::Symlink(_)) => Err(os_error(libc::ELOOP)),
            None => {
                let content = Arc::new(Mutex::new(Vec::new()));
                nodes.insert(path, Node::File(Arc::clone(&content)));
                Ok(MemoryFile::boxed(content, None))
            }
        }
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut nodes = self.nodes();
        let from = resolve(&nodes, from, false)?;
        let to = resolve(&nodes, to, false)?;
        let Some(source) = node_at(&nodes, &from).cloned() else {
            return Err(os_error(libc::ENOENT));
        };
        if from == to {
            return Ok(());
        }
        if is_root(&from) || is_root(&to) {
            return Err(os_error(libc::EBUSY));
        }
        let destination = node_at(&nodes, &to);
        match (&source, destination) {
            (Node::Dir, _) if to.starts_with(&from) => return Err(os_error(libc::EINVAL)),
            (Node::Dir, Some(Node::Dir)) if !descendants(&nodes, &to).is_empty() => {
                return Err(os_error(libc::ENOTEMPTY))
            }
            (Node::Dir, Some(Node::File(_) | Node::Symlink(_))) => {
                return Err(os_error(libc::ENOTDIR))
            }
            (Node::File(_) | Node::Symlink(_), Some(Node::Dir)) => {
                return Err(os_error(libc::EISDIR))
            }
            _ => {}
        }
        for old in descendants(&nodes, &from) {
            if let (Some(node), Ok(relative)) = (nodes.remove(&old), old.strip_prefix(&from)) {
                nodes.insert(to.join(relative), node);
            }
        }
        nodes.remove(&from);
        nodes.insert(to, source);
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        let mut nodes = self.nodes();
        let path = resolve(&nodes, path, false)?;
        match node_at(&nodes, &path) {
            None => Err(os_error(libc::ENOENT)),
            Some(Node::Dir) => Err(os_error(libc::EISDIR)),
            Some(_) => {
                nodes.remove(&path);
                Ok(())
            }
        }
    }

    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        let mut nodes = self.nodes();
        let path = resolve(&nodes, path, false)?;
        match node_at(&nodes, &path) {
            None => Err(os_error(libc::ENOENT)),
            Some(Node::Dir) if is_root(&path) => Err(os_error(libc::EBUSY)),
            Some(Node::Dir) if !descendants(&nodes, &path).is_empty() => {
                Err(os_error(libc::ENOTEMPTY))
            }
            Some(Node::Dir) => {
                nodes.remove(&path);
                Ok(())
            }
            Some(_) => Err(os_error(libc::ENOTDIR)),
        }
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        let nodes = self.nodes();
        let path = resolve(&nodes, path, true)?;
        match node_at(&nodes, &path) {
            Some(Node::Dir) => Ok(()),
            None => Err(os_error(libc::ENOENT)),
            Some(_) => Err(os_error(libc::ENOTDIR)),
        }
    }

    fn entry_kind(&self, path: &Path) -> io::Result<Option<EntryKind>> {
        let nodes = self.nodes();
        let path = match resolve(&nodes, path, false) {
            Ok(path) => path,
            Err(err) if err.raw_os_error() == Some(libc::ENOENT) => return Ok(None),
            Err(err) => return Err(err),
        };
        Ok(node_at(&nodes, &path).map(|node| match node {
            Node::Dir => EntryKind::Dir,
            Node::File(_) => EntryKind::File,
            Node::Symlink(_) => EntryKind::Symlink,
        }))
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        let nodes = self.nodes();
        let path = resolve(&nodes, path, true)?;
        match node_at(&nodes, &path) {
            Some(Node::Dir) => Ok(descendants(&nodes, &path)
                .iter()
                .filter(|child| child.parent() == Some(path.as_path()))
                .filter_map(|child| child.file_name())
                .map(|name| name.to_string_lossy().into_owned())
                .collect()),
            None => Err(os_error(libc::ENOENT)),
            Some(_) => Err(os_error(libc::ENOTDIR)),
        }
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let nodes = self.nodes();
        let path = resolve(&nodes, path, true)?;
        match node_at(&nodes, &path) {
            Some(Node::File(content)) => {
                Ok(content.lock().unwrap_or_else(|p| p.into_inner()).clone())
            }
            Some(Node::Dir) => Err(os_error(libc::EISDIR)),
            Some(Node::Symlink(_)) => Err(os_error(libc::ELOOP)),
            None => Err(os_error(libc::ENOENT)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errno<T>(result: io::Result<T>) -> Option<i32> {
        result.err().and_then(|err| err.raw_os_error())
    }

    fn write_file(fs: &MemoryFs, path: &str, text: &str) {
        let mut file = fs.create_new(Path::new(path)).unwrap();
        file.write_all(text.as_bytes()).unwrap();
    }

    #[test]
    fn files_and_dirs_round_trip() {
        let fs = MemoryFs::new();
        fs.create_dir(Path::new("/d")).unwrap();
        write_file(&fs, "/d/b", "bee");
        write_file(&fs, "/d/a", "ay");
        assert_eq!(fs.read_dir(Path::new("/d")).unwrap(), vec!["a", "b"]);
        assert_eq!(fs.read(Path::new("/d/b")).unwrap(), b"bee");
        assert_eq!(
            fs.entry_kind(Path::new("/d")).unwrap(),
            Some(EntryKind::Dir)
        );
        assert_eq!(
            fs.entry_kind(Path::new("/d/a")).unwrap(),
            Some(EntryKind::File)
        );
        assert_eq!(fs.entry_kind(Path::new("/nope/a")).unwrap(), None);
        let mut log = fs.open_append(Path::new("/d/a")).unwrap();
        log.write_all(b"+").unwrap();
        assert_eq!(fs.read(Path::new("/d/a")).unwrap(), b"ay+");
    }

    #[test]
    fn errnos_match_the_kernel() {
        let fs = MemoryFs::new();
        assert_eq!(errno(fs.create_dir(Path::new("/a/b"))), Some(libc::ENOENT));
        fs.create_dir(Path::new("/a")).unwrap();
        assert_eq!(errno(fs.create_dir(Path::new("/a"))), Some(libc::EEXIST));
        write_file(&fs, "/a/f", "x");
        assert_eq!(errno(fs.create_new(Path::new("/a/f"))), Some(libc::EEXIST));
        assert_eq!(
            errno(fs.create_new(Path::new("/a/f/g"))),
            Some(libc::ENOTDIR)
        );
        assert_eq!(errno(fs.remove_dir(Path::new("/a"))), Some(libc::ENOTEMPTY));
        assert_eq!(errno(fs.remove_dir(Path::new("/a/f"))), Some(libc::ENOTDIR));
        assert_eq!(errno(fs.remove_file(Path::new("/a"))), Some(libc::EISDIR));
        assert_eq!(errno(fs.remove_file(Path::new("/a/g"))), Some(libc::ENOENT));
        assert_eq!(errno(fs.read(Path::new("/a"))), Some(libc::EISDIR));
        assert_eq!(errno(fs.read_dir(Path::new("/a/f"))), Some(libc::ENOTDIR));
        assert_eq!(errno(fs.sync_dir(Path::new("/a/f"))), Some(libc::ENOTDIR));
        assert_eq!(errno(fs.sync_dir(Path::new("/z"))), Some(libc::ENOENT));
        assert_eq!(
            errno(fs.rename(Path::new("/a/g"), Path::new("/b"))),
            Some(libc::ENOENT)
        );
        assert_eq!(
            errno(fs.rename(Path::new("/a/f"), Path::new("/a"))),
            Some(libc::EISDIR)
        );
        assert_eq!(
            errno(fs.rename(Path::new("/a"), Path::new("/a/x"))),
            Some(libc::EINVAL)
        );
        fs.remove_file(Path::new("/a/f")).unwrap();
        fs.remove_dir(Path::new("/a")).unwrap();
        assert_eq!(fs.entry_kind(Path::new("/a")).unwrap(), None);
    }

    #[test]
    fn rename_replaces_files_and_moves_trees() {
        let fs = MemoryFs::new();
        write_file(&fs, "/new", "new");
        write_file(&fs, "/old", "old");
        fs.rename(Path::new("/new"), Path::new("/old")).unwrap();
        assert_eq!(fs.read(Path::new("/old")).unwrap(), b"new");
        assert_eq!(fs.entry_kind(Path::new("/new")).unwrap(), None);

        fs.create_dir(Path::new("/d")).unwrap();
        fs.create_dir(Path::new("/d/e")).unwrap();
        write_file(&fs, "/d/e/f", "deep");
        fs.create_dir(Path::new("/full")).unwrap();
        write_file(&fs, "/full/x", "x");
        assert_eq!(
            errno(fs.rename(Path::new("/d"), Path::new("/full"))),
            Some(libc::ENOTEMPTY)
        );
        assert_eq!(
            errno(fs.rename(Path::new("/d"), Path::new("/old"))),
            Some(libc::ENOTDIR)
        );
        fs.rename(Path::new("/d"), Path::new("/moved")).unwrap();
        assert_eq!(fs.read(Path::new("/moved/e/f")).unwrap(), b"deep");
        assert_eq!(
            fs.read_dir(Path::new("/")).unwrap(),
            vec!["full", "moved", "old"]
        );
    }

    #[test]
    fn open_handles_follow_the_file_not_the_name() {
        let fs = MemoryFs::new();
        let mut file = fs.create_new(Path::new("/a")).unwrap();
        file.write_all(b"one").unwrap();
        fs.rename(Path::new("/a"), Path::new("/b")).unwrap();
        file.write_all(b"two").unwrap();
        assert_eq!(fs.read(Path::new("/b")).unwrap(), b"onetwo");
        fs.remove_file(Path::new("/b")).unwrap();
        file.write_all(b"three").unwrap();
        assert_eq!(fs.read_dir(Path::new("/")).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn symlinks_are_followed_in_dirs_but_never_by_create_new() {
        let fs = MemoryFs::new();
        fs.create_dir(Path::new("/real")).unwrap();
        fs.symlink(Path::new("/real"), Path::new("/link")).unwrap();
        write_file(&fs, "/link/f", "through");
        assert_eq!(fs.read(Path::new("/real/f")).unwrap(), b"through");
        fs.symlink(Path::new("/real/victim"), Path::new("/real/trap"))
            .unwrap();
        assert_eq!(
            errno(fs.create_new(Path::new("/real/trap"))),
            Some(libc::EEXIST)
        );
        assert_eq!(
            errno(fs.create_dir(Path::new("/real/trap"))),
            Some(libc::EEXIST)
        );
        assert_eq!(fs.entry_kind(Path::new("/real/victim")).unwrap(), None);
        assert_eq!(
            fs.entry_kind(Path::new("/real/trap")).unwrap(),
            Some(EntryKind::Symlink)
        );
        fs.symlink(Path::new("loop"), Path::new("/loop")).unwrap();
        assert_eq!(errno(fs.read(Path::new("/loop"))), Some(libc::ELOOP));
        fs.remove_file(Path::new("/real/trap")).unwrap();
        assert_eq!(fs.entry_kind(Path::new("/real/trap")).unwrap(), None);
    }
}
