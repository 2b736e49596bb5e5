//! `real:eio`'s failing device: a FUSE filesystem served by the harness that
//! passes every operation through to a directory, except the chosen kind of
//! operation, which fails with EIO as a dying disk's would. The kernel
//! delivers that EIO to the program's system call, so the recorder meets a
//! real EIO, not a simulated one.
//!
//! The program's child opens `/dev/fuse` and mounts it in its own mount
//! namespace (`realfault`), over the very directory the filesystem passes
//! through to, then passes the device to the harness, which serves it on a
//! thread ([`Device`]). The harness, outside that namespace, sees the plain
//! directory, so the output is inspected in place; the connection ends when
//! the program's namespace dies.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{FileExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fuser::{
    FileAttr, FileType, Filesystem, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty,
    ReplyEntry, ReplyOpen, ReplyWrite, Request, Session, SessionACL, TimeOrNow,
};

use crate::fd_passing::{receive, report_pair, Report};
use crate::scenario::EioOp;

/// Attributes and entries are never cached: every lookup reaches the backing directory.
const TTL: Duration = Duration::ZERO;
/// The root directory's inode number (FUSE's `FUSE_ROOT_ID`).
const ROOT: u64 = 1;
/// How long the serving thread may take to notice the connection ended.
const STOP_WAIT: Duration = Duration::from_secs(5);
/// How often the serving thread looks for the device or the stop flag.
const POLL_MS: i32 = 20;

/// Which operations fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EioRule {
    /// The failing operation.
    pub op: EioOp,
    /// For writes: bytes that still go through before writes fail.
    pub after: u64,
}

/// The errno of an I/O error (EIO when it has none).
fn errno(error: &io::Error) -> i32 {
    error.raw_os_error().unwrap_or(libc::EIO)
}

fn time(seconds: i64, nanos: i64) -> SystemTime {
    let nanos = u32::try_from(nanos).unwrap_or(0);
    match u64::try_from(seconds) {
        Ok(seconds) => UNIX_EPOCH + Duration::new(seconds, nanos),
        Err(_) => UNIX_EPOCH,
    }
}

fn kind(file_type: fs::FileType) -> FileType {
    if file_type.is_dir() {
        FileType::Directory
    } else if file_type.is_symlink() {
        FileType::Symlink
    } else if file_type.is_fifo() {
        FileType::NamedPipe
    } else if file_type.is_socket() {
        FileType::Socket
    } else if file_type.is_char_device() {
        FileType::CharDevice
    } else if file_type.is_block_device() {
        FileType::BlockDevice
    } else {
        FileType::RegularFile
    }
}

fn attr(ino: u64, meta: &fs::Metadata) -> FileAttr {
    FileAttr {
        ino,
        size: meta.size(),
        blocks: meta.blocks(),
        atime: time(meta.atime(), meta.atime_nsec()),
        mtime: time(meta.mtime(), meta.mtime_nsec()),
        ctime: time(meta.ctime(), meta.ctime_nsec()),
        crtime: time(meta.ctime(), meta.ctime_nsec()),
        kind: kind(meta.file_type()),
        perm: u16::try_from(meta.mode() & 0o7777).unwrap_or(0o644),
        nlink: u32::try_from(meta.nlink()).unwrap_or(1),
        uid: meta.uid(),
        gid: meta.gid(),
        rdev: u32::try_from(meta.rdev()).unwrap_or(0),
        blksize: u32::try_from(meta.blksize()).unwrap_or(4096),
        flags: 0,
    }
}

/// The passthrough filesystem: inode numbers for paths under the backing
/// root, open files by handle, and the fault rule.
struct Passthrough {
    paths: HashMap<u64, PathBuf>,
    inodes: HashMap<PathBuf, u64>,
    next_inode: u64,
    files: HashMap<u64, File>,
    next_handle: u64,
    rule: EioRule,
    written: u64,
}

impl Passthrough {
    fn new(root: &Path, rule: EioRule) -> Passthrough {
        Passthrough {
            paths: HashMap::from([(ROOT, root.to_path_buf())]),
            inodes: HashMap::from([(root.to_path_buf(), ROOT)]),
            next_inode: ROOT + 1,
            files: HashMap::new(),
            next_handle: 1,
            rule,
            written: 0,
        }
    }

    fn path(&self, ino: u64) -> Result<PathBuf, i32> {
        self.paths.get(&ino).cloned().ok_or(libc::ENOENT)
    }

    fn child(&self, parent: u64, name: &OsStr) -> Result<PathBuf, i32> {
        Ok(self.path(parent)?.join(name))
    }

    fn inode(&mut self, path: &Path) -> u64 {
        if let Some(ino) = self.inodes.get(path) {
            return *ino;
        }
        let ino = self.next_inode;
        self.next_inode += 1;
        self.paths.insert(ino, path.to_path_buf());
        self.inodes.insert(path.to_path_buf(), ino);
        ino
    }

    fn forget_path(&mut self, path: &Path) {
        if let Some(ino) = self.inodes.remove(path) {
            self.paths.remove(&ino);
        }
    }

    /// Attributes of `path`, giving it an inode number.
    fn entry(&mut self, path: &Path) -> Result<FileAttr, i32> {
        let meta = fs::symlink_metadata(path).map_err(|e| errno(&e))?;
        let ino = self.inode(path);
        Ok(attr(ino, &meta))
    }

    fn fails(&self, op: EioOp) -> bool {
        self.rule.op == op
    }

    /// Opens `path` with the kernel's `flags` (plus `mode` when creating).
    fn open_file(&mut self, path: &Path, flags: i32, mode: Option<u32>) -> Result<u64, i32> {
        let access = flags & libc::O_ACCMODE;
        let mut options = OpenOptions::new();
        options
            .read(access == libc::O_RDONLY || access == libc::O_RDWR)
            .write(access == libc::O_WRONLY || access == libc::O_RDWR)
            .custom_flags(flags & !libc::O_ACCMODE);
        if let Some(mode) = mode {
            options.mode(mode);
        }
        let file = options.open(path).map_err(|e| errno(&e))?;
        let handle = self.next_handle;
        self.next_handle += 1;
        self.files.insert(handle, file);
        Ok(handle)
    }
}

impl Filesystem for Passthrough {
    fn lookup(&mut self, _req: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEntry) {
        match self.child(parent, name).and_then(|path| self.entry(&path)) {
            Ok(attr) => reply.entry(&TTL, &attr, 0),
            Err(code) => reply.error(code),
        }
    }

    fn getattr(&mut self, _req: &Request<'_>, ino: u64, _fh: Option<u64>, reply: ReplyAttr) {
        match self.path(ino).and_then(|path| self.entry(&path)) {
            Ok(attr) => reply.attr(&TTL, &attr),
            Err(code) => reply.error(code),
        }
    }

    fn setattr(
        &mut self,
        _req: &Request<'_>,
        ino: u64,
        mode: Option<u32>,
        _uid: Option<u32>,
        _gid: Option<u32>,
        size: Option<u64>,
        _atime: Option<TimeOrNow>,
        _mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<u64>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<u32>,
        reply: ReplyAttr,
    ) {
        let result = self.path(ino).and_then(|path| {
            if let Some(mode) = mode {
                fs::set_permissions(&path, fs::Permissions::from_mode(mode & 0o7777))
                    .map_err(|e| errno(&e))?;
            }
            if let Some(size) = size {
                let file = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(|e| errno(&e))?;
                file.set_len(size).map_err(|e| errno(&e))?;
            }
            self.entry(&path)
        });
        match result {
            Ok(attr) => reply.attr(&TTL, &attr),
            Err(code) => reply.error(code),
        }
    }

    fn mkdir(
        &mut self,
        _req: &Request<'_>,
        parent: u64,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        if self.fails(EioOp::Mkdir) {
            return reply.error(libc::EIO);
        }
        let result = self.child(parent, name).and_then(|path| {
            fs::create_dir(&path).map_err(|e| errno(&e))?;
            fs::set_permissions(&path, fs::Permissions::from_mode(mode & !umask & 0o7777))
                .map_err(|e| errno(&e))?;
            self.entry(&path)
        });
        match result {
            Ok(attr) => reply.entry(&TTL, &attr, 0),
            Err(code) => reply.error(code),
        }
    }

    fn unlink(&mut self, _req: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEmpty) {
        let result = self.child(parent, name).and_then(|path| {
            fs::remove_file(&path).map_err(|e| errno(&e))?;
            self.forget_path(&path);
            Ok(())
        });
        match result {
            Ok(()) => reply.ok(),
            Err(code) => reply.error(code),
        }
    }

    fn rmdir(&mut self, _req: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEmpty) {
        let result = self.child(parent, name).and_then(|path| {
            fs::remove_dir(&path).map_err(|e| errno(&e))?;
            self.forget_path(&path);
            Ok(())
        });
        match result {
            Ok(()) => reply.ok(),
            Err(code) => reply.error(code),
        }
    }

    fn rename(
        &mut self,
        _req: &Request<'_>,
        parent: u64,
        name: &OsStr,
        newparent: u64,
        newname: &OsStr,
        flags: u32,
        reply: ReplyEmpty,
    ) {
        if flags != 0 {
            return reply.error(libc::EINVAL);
        }
        let result = self.child(parent, name).and_then(|from| {
            let to = self.child(newparent, newname)?;
            fs::rename(&from, &to).map_err(|e| errno(&e))?;
            self.forget_path(&to);
            let moved: Vec<(PathBuf, u64)> = self
                .inodes
                .iter()
                .filter(|(path, _)| path.starts_with(&from))
                .map(|(path, ino)| (path.clone(), *ino))
                .collect();
            for (old, ino) in moved {
                let new = old
                    .strip_prefix(&from)
                    .map_or_else(|_| to.clone(), |rest| to.join(rest));
                self.inodes.remove(&old);
                self.inodes.insert(new.clone(), ino);
                self.paths.insert(ino, new);
            }
            Ok(())
        });
        match result {
            Ok(()) => reply.ok(),
            Err(code) => reply.error(code),
        }
    }

    fn open(&mut self, _req: &Request<'_>, ino: u64, flags: i32, reply: ReplyOpen) {
        match self
            .path(ino)
            .and_then(|path| self.open_file(&path, flags, None))
        {
            Ok(handle) => reply.opened(handle, 0),
            Err(code) => reply.error(code),
        }
    }

    fn create(
        &mut self,
        _req: &Request<'_>,
        parent: u64,
        name: &OsStr,
        mode: u32,
        umask: u32,
        flags: i32,
        reply: ReplyCreate,
    ) {
        let result = self.child(parent, name).and_then(|path| {
            let handle = self.open_file(&path, flags | libc::O_CREAT, Some(mode & !umask))?;
            Ok((self.entry(&path)?, handle))
        });
        match result {
            Ok((attr, handle)) => reply.created(&TTL, &attr, 0, handle, 0),
            Err(code) => reply.error(code),
        }
    }

    fn read(
        &mut self,
        _req: &Request<'_>,
        _ino: u64,
        fh: u64,
        offset: i64,
        size: u32,
        _flags: i32,
        _lock_owner: Option<u64>,
        reply: ReplyData,
    ) {
        let Some(file) = self.files.get(&fh) else {
            return reply.error(libc::EBADF);
        };
        let mut buffer = vec![0; usize::try_from(size).unwrap_or(0)];
        let offset = u64::try_from(offset).unwrap_or(0);
        match file.read_at(&mut buffer, offset) {
            Ok(count) => reply.data(&buffer[..count]),
            Err(error) => reply.error(errno(&error)),
        }
    }

    fn write(
        &mut self,
        _req: &Request<'_>,
        _ino: u64,
        fh: u64,
        offset: i64,
        data: &[u8],
        _write_flags: u32,
        _flags: i32,
        _lock_owner: Option<u64>,
        reply: ReplyWrite,
    ) {
        let length = u64::try_from(data.len()).unwrap_or(u64::MAX);
        if self.fails(EioOp::Write) && self.written.saturating_add(length) > self.rule.after {
            return reply.error(libc::EIO);
        }
        let Some(file) = self.files.get(&fh) else {
            return reply.error(libc::EBADF);
        };
        match file.write_all_at(data, u64::try_from(offset).unwrap_or(0)) {
            Ok(()) => {
                self.written = self.written.saturating_add(length);
                reply.written(u32::try_from(data.len()).unwrap_or(u32::MAX));
            }
            Err(error) => reply.error(errno(&error)),
        }
    }

    fn flush(&mut self, _req: &Request<'_>, _ino: u64, _fh: u64, _owner: u64, reply: ReplyEmpty) {
        reply.ok();
    }

    fn release(
        &mut self,
        _req: &Request<'_>,
        _ino: u64,
        fh: u64,
        _flags: i32,
        _lock_owner: Option<u64>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        self.files.remove(&fh);
        reply.ok();
    }

    fn fsync(&mut self, _req: &Request<'_>, _ino: u64, fh: u64, _data: bool, reply: ReplyEmpty) {
        if self.fails(EioOp::Fsync) {
            return reply.error(libc::EIO);
        }
        match self.files.get(&fh).map(File::sync_all) {
            Some(Ok(())) => reply.ok(),
            Some(Err(error)) => reply.error(errno(&error)),
            None => reply.error(libc::EBADF),
        }
    }

    fn readdir(
        &mut self,
        _req: &Request<'_>,
        ino: u64,
        _fh: u64,
        offset: i64,
        mut reply: ReplyDirectory,
    ) {
        let listing = self.path(ino).and_then(|path| {
            let mut names: Vec<(PathBuf, FileType)> = fs::read_dir(&path)
                .map_err(|e| errno(&e))?
                .filter_map(Result::ok)
                .filter_map(|entry| Some((entry.path(), kind(entry.file_type().ok()?))))
                .collect();
            names.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(names)
        });
        let names = match listing {
            Ok(names) => names,
            Err(code) => return reply.error(code),
        };
        let mut entries = vec![
            (ino, FileType::Directory, OsStr::new(".").to_os_string()),
            (ino, FileType::Directory, OsStr::new("..").to_os_string()),
        ];
        for (path, file_type) in names {
            let name = path
                .file_name()
                .map(OsStr::to_os_string)
                .unwrap_or_default();
            entries.push((self.inode(&path), file_type, name));
        }
        let skip = usize::try_from(offset).unwrap_or(0);
        for (position, (entry_ino, file_type, name)) in entries.into_iter().enumerate().skip(skip) {
            let next = i64::try_from(position + 1).unwrap_or(i64::MAX);
            if reply.add(entry_ino, next, file_type, name) {
                break;
            }
        }
        reply.ok();
    }

    fn fsyncdir(
        &mut self,
        _req: &Request<'_>,
        ino: u64,
        _fh: u64,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        if self.fails(EioOp::Fsync) {
            return reply.error(libc::EIO);
        }
        let synced = self
            .path(ino)
            .and_then(|path| File::open(path).map_err(|e| errno(&e)))
            .and_then(|dir| dir.sync_all().map_err(|e| errno(&e)));
        match synced {
            Ok(()) => reply.ok(),
            Err(code) => reply.error(code),
        }
    }
}

/// A device being served: the socket its descriptor arrives on, and the
/// thread that waits for it and then answers the kernel.
#[derive(Debug)]
pub struct Device {
    child_socket: Option<OwnedFd>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Waits for the device descriptor on `socket` (until `stop`), then serves it
/// until the mount is gone.
fn wait_and_serve(socket: OwnedFd, filesystem: Passthrough, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        let mut poll = libc::pollfd {
            fd: socket.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: poll on one descriptor we own, with a stack pollfd.
        let ready = unsafe { libc::poll(&mut poll, 1, POLL_MS) };
        if ready <= 0 {
            continue;
        }
        if let Report::Done(Some(device)) = receive(&socket) {
            // Only the program's namespace can reach the mount, and the kernel lets
            // only the mounting user through (no `allow_other`): no second check.
            let mut session = Session::from_fd(filesystem, device, SessionACL::All);
            // Ends with the connection (ENODEV) when the mount is gone.
            let _ = session.run();
        }
        return;
    }
}

impl Device {
    /// Starts serving a device that passes through to `root`, once a child
    /// sends its descriptor over [`Device::child_socket`].
    pub fn serve(root: &Path, rule: EioRule) -> io::Result<Device> {
        let (socket, child_socket) = report_pair()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let filesystem = Passthrough::new(root, rule);
        let thread = thread::Builder::new()
            .name("eio-device".to_string())
            .spawn(move || wait_and_serve(socket, filesystem, &stopping))?;
        Ok(Device {
            child_socket: Some(child_socket),
            stop,
            thread: Some(thread),
        })
    }

    /// The descriptor a child sends the opened `/dev/fuse` over (-1 once finished).
    pub fn child_socket(&self) -> RawFd {
        self.child_socket.as_ref().map_or(-1, AsRawFd::as_raw_fd)
    }

    /// The FUSE mount options for a mount by `uid`/`gid`, up to the device
    /// number the child appends (`...,fd=`).
    pub fn options_prefix(uid: u32, gid: u32) -> String {
        format!("rootmode=40000,user_id={uid},group_id={gid},fd=")
    }

    /// Waits (a bounded time) for the serving thread to end, which it does
    /// when the mount is gone or no device arrived.
    pub fn finish(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.child_socket = None;
        let deadline = Instant::now() + STOP_WAIT;
        while let Some(thread) = &self.thread {
            if thread.is_finished() {
                if let Some(thread) = self.thread.take() {
                    let _ = thread.join();
                }
            } else if Instant::now() >= deadline {
                // Still mounted somewhere (a process of the program outlived
                // it): leave the thread to end with the connection.
                self.thread = None;
            } else {
                thread::sleep(Duration::from_millis(2));
            }
        }
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        self.finish();
    }
}
