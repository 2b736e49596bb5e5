//! Real kernel faults: what a run needs prepared in its directory, the code
//! the child runs between fork and exec (a tmpfs in a private mount
//! namespace, `RLIMIT_FSIZE`, dropped DAC capabilities), collecting the
//! output afterwards, and a probe that tells whether this machine can set a
//! fault up at all (a case that cannot be set up is skipped, never passed).
//!
//! The child-side code only makes system calls on data prepared before the
//! fork: no allocation, no locks. Whatever fails there is reported to the
//! harness as `[step, errno]` over a datagram socket pair.

use std::ffi::CString;
use std::fs;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::inspect::RunDirs;
use crate::process::ChildHook;
use crate::scenario::RealFault;

/// The directory of a run the tmpfs is mounted on (`real:enospc`).
const TMPFS_DIR: &str = "tmpfs";
/// The trace directory's parent whose mode the case sets (`real:eacces`).
const PARENT_DIR: &str = "parent";
/// `CAP_DAC_OVERRIDE` (linux/capability.h).
const CAP_DAC_OVERRIDE: u32 = 1;
/// `CAP_DAC_READ_SEARCH` (linux/capability.h).
const CAP_DAC_READ_SEARCH: u32 = 2;
/// `_LINUX_CAPABILITY_VERSION_3`: two 32-bit words per set.
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// Why `real:eio` is skipped: neither way to a failing device is built.
const EIO_UNAVAILABLE: &str = "real:eio needs a device that fails I/O (a device-mapper `error` target or a FUSE layer); the harness does not build one yet";

/// The steps of the child-side set-up, by the number reported on failure.
const STEPS: &[&str] = &[
    "",
    "unshare(CLONE_NEWNS), then unshare(CLONE_NEWUSER | CLONE_NEWNS)",
    "write /proc/self/setgroups",
    "write /proc/self/uid_map",
    "write /proc/self/gid_map",
    "make the mounts private",
    "mount the tmpfs",
    "open the tmpfs",
    "pass the tmpfs to the harness",
    "ignore SIGXFSZ",
    "setrlimit(RLIMIT_FSIZE)",
    "prctl(PR_CAPBSET_DROP)",
    "capget",
    "capset",
    "check that a mode 0555 directory refuses mkdir",
];
const UNSHARE: u8 = 1;
const SETGROUPS: u8 = 2;
const UID_MAP: u8 = 3;
const GID_MAP: u8 = 4;
const MAKE_PRIVATE: u8 = 5;
const MOUNT: u8 = 6;
const OPEN: u8 = 7;
const SEND: u8 = 8;
const SIGXFSZ: u8 = 9;
const RLIMIT: u8 = 10;
const BOUNDING: u8 = 11;
const CAPGET: u8 = 12;
const CAPSET: u8 = 13;
const VERIFY: u8 = 14;

/// The run's directories for `fault`: the trace directory moves onto the
/// tmpfs (`<work>/tmpfs/trace`) or under the locked parent
/// (`<work>/parent/trace`); other kinds keep `<work>/trace`.
pub fn run_dirs(fault: &RealFault, dirs: &RunDirs) -> RunDirs {
    let trace = match fault {
        RealFault::Enospc { .. } => dirs.work.join(TMPFS_DIR).join("trace"),
        RealFault::Eacces { .. } => dirs.work.join(PARENT_DIR).join("trace"),
        RealFault::Efbig { .. } | RealFault::Eio => dirs.trace.clone(),
    };
    RunDirs {
        work: dirs.work.clone(),
        trace,
        fixtures_log: dirs.fixtures_log.clone(),
    }
}

/// Why this machine cannot set `fault` up, or `None` when it can. Probed once
/// per kind and process, in a forked child running the very set-up a run uses.
pub fn unavailable(fault: &RealFault) -> Option<String> {
    static ENOSPC: OnceLock<Option<String>> = OnceLock::new();
    static EACCES: OnceLock<Option<String>> = OnceLock::new();
    match fault {
        RealFault::Efbig { .. } => None,
        RealFault::Eio => Some(EIO_UNAVAILABLE.to_string()),
        RealFault::Enospc { .. } => ENOSPC.get_or_init(|| probe(fault)).clone(),
        RealFault::Eacces { .. } => EACCES.get_or_init(|| probe(fault)).clone(),
    }
}

/// What the child does, with every path and text prepared before the fork.
#[derive(Debug)]
enum Action {
    /// A private mount namespace with a tmpfs on `target`.
    Tmpfs {
        target: CString,
        options: CString,
        uid_map: Vec<u8>,
        gid_map: Vec<u8>,
    },
    /// `RLIMIT_FSIZE` and SIGXFSZ ignored.
    FileSize { limit: u64 },
    /// Drop the DAC capabilities (root only; a normal user has none) and,
    /// in a probe, check that a locked directory now refuses `mkdir`.
    DropDac {
        as_root: bool,
        verify: Option<CString>,
    },
}

/// The child's instructions and where it reports.
#[derive(Debug)]
struct ChildPlan {
    action: Action,
    /// The child's end of the report socket.
    report: RawFd,
}

/// Sends `[step, errno]` to the harness and returns the error.
fn fail(report: RawFd, step: u8) -> io::Error {
    let error = io::Error::last_os_error();
    let errno = error.raw_os_error().unwrap_or(0).to_le_bytes();
    let message = [step, errno[0], errno[1], errno[2], errno[3]];
    // SAFETY: send(2) of a stack buffer on a descriptor the plan owns;
    // async-signal-safe. A lost report only makes the reason less precise.
    unsafe {
        libc::send(report, message.as_ptr().cast(), message.len(), 0);
    }
    error
}

/// Writes `text` to the file `path` in one `write`.
fn write_file(path: &[u8], text: &[u8]) -> bool {
    // SAFETY: `path` is NUL-terminated (a `CString`'s bytes with the NUL);
    // open/write/close are async-signal-safe.
    unsafe {
        let fd = libc::open(path.as_ptr().cast(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return false;
        }
        let written = libc::write(fd, text.as_ptr().cast(), text.len());
        libc::close(fd);
        usize::try_from(written).is_ok_and(|n| n == text.len())
    }
}

/// Passes `fd` to the harness (SCM_RIGHTS) with the success byte.
fn send_fd(report: RawFd, fd: RawFd) -> bool {
    #[repr(C, align(8))]
    struct Control([u8; 64]);
    let mut control = Control([0; 64]);
    let mut payload = [0u8; 5];
    let mut iov = libc::iovec {
        iov_base: payload.as_mut_ptr().cast(),
        iov_len: payload.len(),
    };
    // SAFETY: a zeroed msghdr is valid; every pointer set below points at
    // stack buffers that outlive the sendmsg call. No allocation.
    unsafe {
        let mut message: libc::msghdr = MaybeUninit::zeroed().assume_init();
        message.msg_iov = &mut iov;
        message.msg_iovlen = 1;
        message.msg_control = control.0.as_mut_ptr().cast();
        let fd_len = std::mem::size_of::<RawFd>() as u32;
        message.msg_controllen = libc::CMSG_SPACE(fd_len) as usize;
        let header = libc::CMSG_FIRSTHDR(&message);
        if header.is_null() {
            return false;
        }
        (*header).cmsg_level = libc::SOL_SOCKET;
        (*header).cmsg_type = libc::SCM_RIGHTS;
        (*header).cmsg_len = libc::CMSG_LEN(fd_len) as usize;
        std::ptr::copy_nonoverlapping(
            (&fd as *const RawFd).cast::<u8>(),
            libc::CMSG_DATA(header),
            std::mem::size_of::<RawFd>(),
        );
        libc::sendmsg(report, &message, 0) >= 0
    }
}

/// The child-side set-up: system calls only, on prepared data.
fn child_setup(plan: &ChildPlan) -> io::Result<()> {
    let report = plan.report;
    match &plan.action {
        Action::Tmpfs {
            target,
            options,
            uid_map,
            gid_map,
        } => {
            // SAFETY: unshare/mount/open/close with NUL-terminated strings
            // prepared before the fork; all async-signal-safe.
            unsafe {
                if libc::unshare(libc::CLONE_NEWNS) != 0 {
                    // Without CAP_SYS_ADMIN a user namespace grants it, with
                    // the caller's own uid and gid mapped.
                    if libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS) != 0 {
                        return Err(fail(report, UNSHARE));
                    }
                    if !write_file(b"/proc/self/setgroups\0", b"deny") {
                        return Err(fail(report, SETGROUPS));
                    }
                    if !write_file(b"/proc/self/uid_map\0", uid_map) {
                        return Err(fail(report, UID_MAP));
                    }
                    if !write_file(b"/proc/self/gid_map\0", gid_map) {
                        return Err(fail(report, GID_MAP));
                    }
                }
                let root = b"/\0";
                let private = libc::MS_REC | libc::MS_PRIVATE;
                let no_data = std::ptr::null();
                if libc::mount(
                    std::ptr::null(),
                    root.as_ptr().cast(),
                    std::ptr::null(),
                    private,
                    no_data,
                ) != 0
                {
                    return Err(fail(report, MAKE_PRIVATE));
                }
                let tmpfs = b"tmpfs\0";
                if libc::mount(
                    tmpfs.as_ptr().cast(),
                    target.as_ptr(),
                    tmpfs.as_ptr().cast(),
                    libc::MS_NOSUID | libc::MS_NODEV,
                    options.as_ptr().cast(),
                ) != 0
                {
                    return Err(fail(report, MOUNT));
                }
                let fd = libc::open(
                    target.as_ptr(),
                    libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
                );
                if fd < 0 {
                    return Err(fail(report, OPEN));
                }
                let sent = send_fd(report, fd);
                libc::close(fd);
                if !sent {
                    return Err(fail(report, SEND));
                }
            }
        }
        Action::FileSize { limit } => {
            let limit = libc::rlimit {
                rlim_cur: *limit,
                rlim_max: *limit,
            };
            // SAFETY: signal/setrlimit are async-signal-safe system calls.
            unsafe {
                if libc::signal(libc::SIGXFSZ, libc::SIG_IGN) == libc::SIG_ERR {
                    return Err(fail(report, SIGXFSZ));
                }
                if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                    return Err(fail(report, RLIMIT));
                }
            }
        }
        Action::DropDac { as_root, verify } => {
            if *as_root {
                drop_dac(report)?;
            }
            if let Some(locked) = verify {
                // SAFETY: mkdir of a NUL-terminated path; async-signal-safe.
                let made = unsafe { libc::mkdir(locked.as_ptr(), 0o755) } == 0;
                let denied = io::Error::last_os_error().raw_os_error() == Some(libc::EACCES);
                if made || !denied {
                    return Err(fail(report, VERIFY));
                }
            }
        }
    }
    Ok(())
}

/// The header and data of capget/capset (linux/capability.h, version 3).
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Drops `CAP_DAC_OVERRIDE` and `CAP_DAC_READ_SEARCH` from the bounding set
/// (so exec as root does not grant them again) and from the effective,
/// permitted and inheritable sets (the ambient set follows).
fn drop_dac(report: RawFd) -> io::Result<()> {
    let mask = (1u32 << CAP_DAC_OVERRIDE) | (1u32 << CAP_DAC_READ_SEARCH);
    let mut header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let empty = CapData {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    };
    let mut data = [empty; 2];
    // SAFETY: prctl/capget/capset are system calls on stack structures laid
    // out as the kernel's version-3 ABI; async-signal-safe.
    unsafe {
        for cap in [CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH] {
            if libc::prctl(libc::PR_CAPBSET_DROP, libc::c_ulong::from(cap), 0, 0, 0) != 0 {
                return Err(fail(report, BOUNDING));
            }
        }
        if libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) != 0 {
            return Err(fail(report, CAPGET));
        }
        data[0].effective &= !mask;
        data[0].permitted &= !mask;
        data[0].inheritable &= !mask;
        if libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) != 0 {
            return Err(fail(report, CAPSET));
        }
    }
    Ok(())
}

/// `[step, errno]` from the report socket, as a sentence.
fn explain(step: u8, errno: i32) -> String {
    let what = STEPS.get(usize::from(step)).copied().unwrap_or("set-up");
    let error = io::Error::from_raw_os_error(errno);
    format!("{what} failed: {error}")
}

/// A report or a passed descriptor read from the harness's end.
enum Report {
    /// The set-up went through; the tmpfs, when one was passed.
    Done(Option<OwnedFd>),
    /// Step and errno of the failure.
    Failed(u8, i32),
    /// Nothing was sent.
    Nothing,
}

/// Reads one report without waiting.
fn receive(socket: &OwnedFd) -> Report {
    #[repr(C, align(8))]
    struct Control([u8; 64]);
    let mut control = Control([0; 64]);
    let mut payload = [0u8; 5];
    let mut iov = libc::iovec {
        iov_base: payload.as_mut_ptr().cast(),
        iov_len: payload.len(),
    };
    // SAFETY: recvmsg into stack buffers that outlive the call; a received
    // descriptor is owned by us from here on (wrapped in OwnedFd at once).
    unsafe {
        let mut message: libc::msghdr = MaybeUninit::zeroed().assume_init();
        message.msg_iov = &mut iov;
        message.msg_iovlen = 1;
        message.msg_control = control.0.as_mut_ptr().cast();
        message.msg_controllen = control.0.len();
        let received = libc::recvmsg(
            socket.as_raw_fd(),
            &mut message,
            libc::MSG_DONTWAIT | libc::MSG_CMSG_CLOEXEC,
        );
        if received < 1 {
            return Report::Nothing;
        }
        let mut passed = None;
        let header = libc::CMSG_FIRSTHDR(&message);
        if !header.is_null()
            && (*header).cmsg_level == libc::SOL_SOCKET
            && (*header).cmsg_type == libc::SCM_RIGHTS
        {
            let mut fd: RawFd = -1;
            std::ptr::copy_nonoverlapping(
                libc::CMSG_DATA(header),
                (&mut fd as *mut RawFd).cast::<u8>(),
                std::mem::size_of::<RawFd>(),
            );
            if fd >= 0 {
                passed = Some(OwnedFd::from_raw_fd(fd));
            }
        }
        let errno = i32::from_le_bytes([payload[1], payload[2], payload[3], payload[4]]);
        match payload[0] {
            0 => Report::Done(passed),
            step => Report::Failed(step, errno),
        }
    }
}

/// A `SOCK_DGRAM` pair, close-on-exec: (harness end, child end).
fn report_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [-1; 2];
    // SAFETY: socketpair fills `fds` with two new descriptors we then own.
    let made = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if made != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path with a NUL byte"))
}

/// The tmpfs mount options: `size=`, `nr_inodes=`, `mode=0755`.
fn tmpfs_options(size: Option<u64>, inodes: Option<u64>) -> String {
    let mut options = Vec::new();
    if let Some(size) = size {
        options.push(format!("size={size}"));
    }
    if let Some(inodes) = inodes {
        options.push(format!("nr_inodes={inodes}"));
    }
    options.push("mode=0755".to_string());
    options.join(",")
}

fn is_root() -> bool {
    // SAFETY: geteuid never fails.
    unsafe { libc::geteuid() == 0 }
}

/// Builds the child's plan for `fault` in the prepared directory `base`.
fn plan(fault: &RealFault, base: &Path, report: RawFd, probing: bool) -> io::Result<ChildPlan> {
    let action = match *fault {
        RealFault::Enospc { size, inodes } => {
            // SAFETY: getuid/getgid never fail.
            let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
            Action::Tmpfs {
                target: c_path(&base.join(TMPFS_DIR))?,
                options: CString::new(tmpfs_options(size, inodes))
                    .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in options"))?,
                uid_map: format!("{uid} {uid} 1").into_bytes(),
                gid_map: format!("{gid} {gid} 1").into_bytes(),
            }
        }
        RealFault::Efbig { limit } => Action::FileSize { limit },
        RealFault::Eacces { .. } => Action::DropDac {
            as_root: is_root(),
            verify: if probing {
                Some(c_path(&base.join(PARENT_DIR).join("probe"))?)
            } else {
                None
            },
        },
        RealFault::Eio => {
            return Err(io::Error::new(io::ErrorKind::Unsupported, EIO_UNAVAILABLE));
        }
    };
    Ok(ChildPlan { action, report })
}

/// Creates what `fault` needs inside `work`: the tmpfs mount point, or the
/// trace directory's parent with the case's mode.
fn prepare_dirs(fault: &RealFault, work: &Path) -> io::Result<()> {
    match fault {
        RealFault::Enospc { .. } => fs::create_dir_all(work.join(TMPFS_DIR)),
        RealFault::Eacces { parent_mode } => {
            let parent = work.join(PARENT_DIR);
            fs::create_dir_all(&parent)?;
            fs::set_permissions(&parent, fs::Permissions::from_mode(*parent_mode))
        }
        RealFault::Efbig { .. } | RealFault::Eio => Ok(()),
    }
}

/// Runs the set-up of `fault` in a forked child that exits at once.
fn probe(fault: &RealFault) -> Option<String> {
    let label = format!("real:{}", fault.kind());
    let attempt = || -> io::Result<Option<String>> {
        let base = tempfile::Builder::new()
            .prefix("harness-probe-")
            .tempdir()?;
        let probe_fault = match fault {
            RealFault::Eacces { .. } => RealFault::Eacces { parent_mode: 0o555 },
            other => *other,
        };
        prepare_dirs(&probe_fault, base.path())?;
        let (harness_end, child_end) = report_pair()?;
        let plan = plan(&probe_fault, base.path(), child_end.as_raw_fd(), true)?;
        // SAFETY: the child only runs `child_setup` (system calls on data
        // prepared above) and `_exit`; nothing that could need a lock held by
        // another thread of this process.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        if pid == 0 {
            let code = if child_setup(&plan).is_ok() { 0 } else { 1 };
            // SAFETY: leaves the forked child without running any destructor.
            unsafe { libc::_exit(code) };
        }
        let mut status = 0;
        // SAFETY: waits for the child forked above.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        drop(child_end);
        let verdict = match receive(&harness_end) {
            Report::Failed(step, errno) => Some(explain(step, errno)),
            _ if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 => None,
            _ => Some(format!("the probe child ended with status {status}")),
        };
        if let RealFault::Eacces { .. } = fault {
            let _ = fs::set_permissions(
                base.path().join(PARENT_DIR),
                fs::Permissions::from_mode(0o755),
            );
        }
        Ok(verdict)
    };
    match attempt() {
        Ok(None) => None,
        Ok(Some(why)) => Some(format!("{label} cannot be set up here: {why}")),
        Err(error) => Some(format!("{label} cannot be set up here: {error}")),
    }
}

/// One run's real fault: prepared directories, the child hook, and the
/// harness's end of the report socket.
#[derive(Debug)]
pub struct Setup {
    fault: RealFault,
    dirs: RunDirs,
    plan: Arc<ChildPlan>,
    harness_end: OwnedFd,
    child_end: Option<OwnedFd>,
}

impl Setup {
    /// Prepares `dirs` (as returned by [`run_dirs`]) for `fault`.
    pub fn prepare(fault: &RealFault, dirs: &RunDirs) -> io::Result<Setup> {
        prepare_dirs(fault, &dirs.work)?;
        let (harness_end, child_end) = report_pair()?;
        let plan = plan(fault, &dirs.work, child_end.as_raw_fd(), false)?;
        Ok(Setup {
            fault: *fault,
            dirs: dirs.clone(),
            plan: Arc::new(plan),
            harness_end,
            child_end: Some(child_end),
        })
    }

    /// The code the child runs between fork and exec.
    pub fn hook(&self) -> ChildHook {
        let plan = Arc::clone(&self.plan);
        // SAFETY: `child_setup` only makes system calls on the plan's
        // prepared data (see the module documentation).
        unsafe { ChildHook::new(move || child_setup(&plan)) }
    }

    /// After a failed spawn: why the set-up failed, if it did.
    pub fn failure(&mut self) -> Option<String> {
        self.child_end = None;
        match receive(&self.harness_end) {
            Report::Failed(step, errno) => Some(format!(
                "real:{} cannot be set up: {}",
                self.fault.kind(),
                explain(step, errno)
            )),
            Report::Done(_) | Report::Nothing => None,
        }
    }

    /// After the child ended: copies the tmpfs's content (kept alive by the
    /// descriptor the child passed, although its namespace is gone) into the
    /// run directory and releases it, or makes the locked parent removable
    /// again, so the output is inspected and cleaned up like any other.
    pub fn collect(&mut self) -> io::Result<()> {
        self.child_end = None;
        match self.fault {
            RealFault::Enospc { .. } => match receive(&self.harness_end) {
                Report::Done(Some(tmpfs)) => {
                    let source = PathBuf::from(format!("/proc/self/fd/{}", tmpfs.as_raw_fd()));
                    copy_tree(&source, &self.dirs.work.join(TMPFS_DIR))
                }
                Report::Failed(step, errno) => Err(io::Error::other(explain(step, errno))),
                Report::Done(None) | Report::Nothing => Err(io::Error::other(
                    "the child passed no tmpfs descriptor back",
                )),
            },
            RealFault::Eacces { .. } => {
                let open = fs::Permissions::from_mode(0o755);
                fs::set_permissions(self.dirs.work.join(PARENT_DIR), open.clone())?;
                if self.dirs.trace.is_dir() {
                    fs::set_permissions(&self.dirs.trace, open)?;
                }
                Ok(())
            }
            RealFault::Efbig { .. } | RealFault::Eio => Ok(()),
        }
    }
}

/// Copies directories, regular files and symlinks from `from` into `to`.
fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(entry.path())?, &target)?;
        } else if kind.is_file() {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::process::{self, Outcome, Spawn, Termination};

    /// Runs `script` with `sh` in `work` under `setup`'s hook, then collects.
    fn sh(setup: &mut Setup, work: &Path, script: &str) -> io::Result<Outcome> {
        let spawn = Spawn {
            program: PathBuf::from("/bin/sh"),
            args: vec!["-c".into(), script.into()],
            command_line: script.to_string(),
            cwd: work.to_path_buf(),
            env: vec![("PATH".into(), "/usr/bin:/bin".into())],
            stdin: Vec::new(),
            timeout: Duration::from_secs(20),
            signal: None,
            child_hook: Some(setup.hook()),
        };
        let outcome = process::run(&spawn).map_err(|e| io::Error::other(e.to_string()))?;
        setup.collect()?;
        Ok(outcome)
    }

    fn text(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes).into_owned()
    }

    #[test]
    fn efbig_limits_every_file_the_child_writes() -> io::Result<()> {
        let work = tempfile::tempdir()?;
        let fault = RealFault::Efbig { limit: 4096 };
        let dirs = run_dirs(&fault, &RunDirs::new(work.path()));
        let mut setup = Setup::prepare(&fault, &dirs)?;
        let outcome = sh(&mut setup, work.path(), "head -c 10000 /dev/zero > big")?;
        assert_ne!(outcome.termination, Termination::Exited(0));
        assert!(
            text(&outcome.stderr).contains("File too large"),
            "{outcome:?}"
        );
        assert_eq!(fs::metadata(work.path().join("big"))?.len(), 4096);
        Ok(())
    }

    #[test]
    fn enospc_mounts_a_private_tmpfs_whose_content_is_collected() -> io::Result<()> {
        let fault = RealFault::Enospc {
            size: Some(16384),
            inodes: None,
        };
        if let Some(why) = unavailable(&fault) {
            eprintln!("not checked here: {why}");
            return Ok(());
        }
        let work = tempfile::tempdir()?;
        let dirs = run_dirs(&fault, &RunDirs::new(work.path()));
        let mut setup = Setup::prepare(&fault, &dirs)?;
        let outcome = sh(
            &mut setup,
            work.path(),
            "mkdir tmpfs/trace && head -c 100000 /dev/zero > tmpfs/trace/f",
        )?;
        assert!(
            text(&outcome.stderr).contains("No space left on device"),
            "{outcome:?}"
        );
        let kept = fs::metadata(dirs.trace.join("f"))?.len();
        assert!(kept > 0 && kept <= 16384, "{kept} bytes");
        let mounts = fs::read_to_string("/proc/mounts")?;
        let mount_point = work.path().join(TMPFS_DIR).display().to_string();
        assert!(
            !mounts.contains(&mount_point),
            "the tmpfs leaked into the harness's namespace"
        );
        Ok(())
    }

    #[test]
    fn a_failed_child_step_is_the_skip_reason() -> io::Result<()> {
        let fault = RealFault::Enospc {
            size: Some(4096),
            inodes: None,
        };
        if let Some(why) = unavailable(&fault) {
            eprintln!("not checked here: {why}");
            return Ok(());
        }
        let work = tempfile::tempdir()?;
        let dirs = run_dirs(&fault, &RunDirs::new(work.path()));
        let mut setup = Setup::prepare(&fault, &dirs)?;
        fs::remove_dir(work.path().join(TMPFS_DIR))?;
        assert!(sh(&mut setup, work.path(), "true").is_err());
        assert_eq!(
            setup.failure(),
            Some(format!(
                "real:enospc cannot be set up: mount the tmpfs failed: {}",
                io::Error::from_raw_os_error(libc::ENOENT)
            ))
        );
        Ok(())
    }

    #[test]
    fn eacces_binds_root_too_and_the_parent_is_reopened_afterwards() -> io::Result<()> {
        let fault = RealFault::Eacces { parent_mode: 0o555 };
        if let Some(why) = unavailable(&fault) {
            eprintln!("not checked here: {why}");
            return Ok(());
        }
        let work = tempfile::tempdir()?;
        let dirs = run_dirs(&fault, &RunDirs::new(work.path()));
        let mut setup = Setup::prepare(&fault, &dirs)?;
        let outcome = sh(&mut setup, work.path(), "mkdir parent/trace")?;
        assert_ne!(outcome.termination, Termination::Exited(0));
        assert!(
            text(&outcome.stderr).contains("Permission denied"),
            "{outcome:?}"
        );
        assert!(!dirs.trace.exists());
        let mode = fs::metadata(work.path().join(PARENT_DIR))?
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
        Ok(())
    }

    #[test]
    fn the_trace_directory_moves_onto_the_tmpfs_or_under_the_locked_parent() {
        let dirs = RunDirs::new(Path::new("/w"));
        let enospc = RealFault::Enospc {
            size: Some(4096),
            inodes: None,
        };
        assert_eq!(run_dirs(&enospc, &dirs).trace, Path::new("/w/tmpfs/trace"));
        let eacces = RealFault::Eacces { parent_mode: 0o555 };
        assert_eq!(run_dirs(&eacces, &dirs).trace, Path::new("/w/parent/trace"));
        assert_eq!(
            run_dirs(&RealFault::Efbig { limit: 0 }, &dirs).trace,
            Path::new("/w/trace")
        );
    }

    #[test]
    fn tmpfs_options_carry_only_the_given_limits() {
        assert_eq!(tmpfs_options(Some(8192), None), "size=8192,mode=0755");
        assert_eq!(tmpfs_options(None, Some(2)), "nr_inodes=2,mode=0755");
    }

    #[test]
    fn eio_is_always_skipped_with_its_reason() {
        assert_eq!(
            unavailable(&RealFault::Eio).as_deref(),
            Some(EIO_UNAVAILABLE)
        );
    }

    #[test]
    fn a_failed_step_is_named_with_its_errno() {
        assert_eq!(
            explain(MOUNT, libc::EPERM),
            format!(
                "mount the tmpfs failed: {}",
                io::Error::from_raw_os_error(libc::EPERM)
            )
        );
    }
}
