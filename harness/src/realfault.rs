//! Real kernel faults: what a run needs prepared in its directory, the code
//! the child runs between fork and exec (a tmpfs or the failing device of
//! `eio_device` mounted in a private mount namespace, `RLIMIT_FSIZE`,
//! dropped DAC capabilities), collecting the
//! output afterwards, and a probe that tells whether this machine can set a
//! fault up at all (a case that cannot be set up is skipped, never passed).
//!
//! The child-side code only makes system calls on data prepared before the
//! fork: no allocation, no locks. Whatever fails there is reported to the
//! harness as `[step, errno]` over a datagram socket pair.

use std::ffi::{CStr, CString};
use std::fs;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::eio_device::{Device, EioRule};
use crate::fd_passing::{receive, report_pair, send_fd, Report};
use crate::inspect::RunDirs;
use crate::process::ChildHook;
use crate::scenario::{EioOp, RealFault};

/// The directory of a run the tmpfs is mounted on (`real:enospc`).
const TMPFS_DIR: &str = "tmpfs";
/// The trace directory's parent whose mode the case sets (`real:eacces`).
const PARENT_DIR: &str = "parent";
/// The directory of a run the failing device is mounted on (`real:eio`); the
/// device passes through to the same directory as the harness sees it.
const DEVICE_DIR: &str = "device";
/// `CAP_DAC_OVERRIDE` (linux/capability.h).
const CAP_DAC_OVERRIDE: u32 = 1;
/// `CAP_DAC_READ_SEARCH` (linux/capability.h).
const CAP_DAC_READ_SEARCH: u32 = 2;
/// `_LINUX_CAPABILITY_VERSION_3`: two 32-bit words per set.
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// The steps of the child-side set-up, by the number reported on failure.
const STEPS: &[&str] = &[
    "",
    "unshare(CLONE_NEWNS), then unshare(CLONE_NEWUSER | CLONE_NEWNS)",
    "write /proc/self/setgroups",
    "write /proc/self/uid_map",
    "write /proc/self/gid_map",
    "make the mounts private",
    "open /dev/fuse",
    "mount the filesystem",
    "open the tmpfs",
    "pass the tmpfs to the harness",
    "ignore SIGXFSZ",
    "setrlimit(RLIMIT_FSIZE)",
    "prctl(PR_CAPBSET_DROP)",
    "capget",
    "capset",
    "check that a mode 0555 directory refuses mkdir",
    "check that the device fails mkdir with EIO",
    "pass the device to the harness",
];
const UNSHARE: u8 = 1;
const SETGROUPS: u8 = 2;
const UID_MAP: u8 = 3;
const GID_MAP: u8 = 4;
const MAKE_PRIVATE: u8 = 5;
const OPEN_DEVICE: u8 = 6;
const MOUNT: u8 = 7;
const OPEN: u8 = 8;
const SEND: u8 = 9;
const SIGXFSZ: u8 = 10;
const RLIMIT: u8 = 11;
const BOUNDING: u8 = 12;
const CAPGET: u8 = 13;
const CAPSET: u8 = 14;
const VERIFY: u8 = 15;
const VERIFY_EIO: u8 = 16;
const SEND_DEVICE: u8 = 17;

/// The run's directories for `fault`: the trace directory moves onto the
/// tmpfs (`<work>/tmpfs/trace`), the device (`<work>/device/trace`) or
/// under the locked parent (`<work>/parent/trace`); `efbig` keeps
/// `<work>/trace`.
pub fn run_dirs(fault: &RealFault, dirs: &RunDirs) -> RunDirs {
    let trace = match fault {
        RealFault::Enospc { .. } => dirs.work.join(TMPFS_DIR).join("trace"),
        RealFault::Eacces { .. } => dirs.work.join(PARENT_DIR).join("trace"),
        RealFault::Eio { .. } => dirs.work.join(DEVICE_DIR).join("trace"),
        RealFault::Efbig { .. } => dirs.trace.clone(),
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
    static EIO: OnceLock<Option<String>> = OnceLock::new();
    match fault {
        RealFault::Efbig { .. } => None,
        RealFault::Enospc { .. } => ENOSPC.get_or_init(|| probe(fault)).clone(),
        RealFault::Eacces { .. } => EACCES.get_or_init(|| probe(fault)).clone(),
        RealFault::Eio { .. } => EIO.get_or_init(|| probe(fault)).clone(),
    }
}

/// Room for FUSE mount options: the prefix plus `fd=<n>` and the NUL.
const FUSE_OPTIONS_ROOM: usize = 256;

/// The data argument of a mount.
#[derive(Debug)]
enum MountData {
    /// Fixed options (tmpfs).
    Fixed(CString),
    /// FUSE: the child opens `/dev/fuse` itself (a device opened outside a
    /// user namespace cannot be mounted inside one), appends its number to
    /// `prefix` (which ends in `fd=`), and passes it to the harness over
    /// `socket` to be served.
    Fuse { prefix: Vec<u8>, socket: RawFd },
}

/// Writes `prefix`, the decimal `fd` and a NUL into `buffer` (which the plan
/// made sure is large enough).
fn fuse_options(buffer: &mut [u8; FUSE_OPTIONS_ROOM], prefix: &[u8], fd: RawFd) {
    let mut digits = [0u8; 12];
    let mut count = 0;
    let mut value = u32::try_from(fd).unwrap_or(0);
    loop {
        digits[count] = b'0' + (value % 10) as u8;
        count += 1;
        value /= 10;
        if value == 0 || count == digits.len() {
            break;
        }
    }
    let mut at = 0;
    for &byte in prefix.iter().chain(digits[..count].iter().rev()) {
        if at + 1 >= buffer.len() {
            break;
        }
        buffer[at] = byte;
        at += 1;
    }
    buffer[at] = 0;
}

/// What the child does, with every path and text prepared before the fork.
#[derive(Debug)]
enum Action {
    /// A private mount namespace with a filesystem mounted on `target`.
    Mount {
        /// `tmpfs` or `fuse`.
        fstype: &'static CStr,
        target: CString,
        data: MountData,
        uid_map: Vec<u8>,
        gid_map: Vec<u8>,
        /// Pass a descriptor of the mount back (a tmpfs dies with the namespace).
        pass_back: bool,
        /// In a probe: a path on the device whose `mkdir` must fail with EIO.
        verify_eio: Option<CString>,
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
fn write_file(path: &CStr, text: &[u8]) -> bool {
    // SAFETY: open/write/close of a C string path and a byte buffer; all
    // async-signal-safe.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return false;
        }
        let written = libc::write(fd, text.as_ptr().cast(), text.len());
        libc::close(fd);
        usize::try_from(written).is_ok_and(|n| n == text.len())
    }
}

/// The child-side set-up: system calls only, on prepared data.
fn child_setup(plan: &ChildPlan) -> io::Result<()> {
    let report = plan.report;
    match &plan.action {
        Action::Mount {
            fstype,
            target,
            data,
            uid_map,
            gid_map,
            pass_back,
            verify_eio,
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
                    if !write_file(c"/proc/self/setgroups", b"deny") {
                        return Err(fail(report, SETGROUPS));
                    }
                    if !write_file(c"/proc/self/uid_map", uid_map) {
                        return Err(fail(report, UID_MAP));
                    }
                    if !write_file(c"/proc/self/gid_map", gid_map) {
                        return Err(fail(report, GID_MAP));
                    }
                }
                let private = libc::MS_REC | libc::MS_PRIVATE;
                let no_data = std::ptr::null();
                if libc::mount(
                    std::ptr::null(),
                    c"/".as_ptr(),
                    std::ptr::null(),
                    private,
                    no_data,
                ) != 0
                {
                    return Err(fail(report, MAKE_PRIVATE));
                }
                let mut fuse_buffer = [0u8; FUSE_OPTIONS_ROOM];
                let mut device: RawFd = -1;
                let options: *const libc::c_char = match data {
                    MountData::Fixed(options) => options.as_ptr(),
                    MountData::Fuse { prefix, .. } => {
                        device = libc::open(c"/dev/fuse".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC);
                        if device < 0 {
                            return Err(fail(report, OPEN_DEVICE));
                        }
                        fuse_options(&mut fuse_buffer, prefix, device);
                        fuse_buffer.as_ptr().cast()
                    }
                };
                if libc::mount(
                    fstype.as_ptr(),
                    target.as_ptr(),
                    fstype.as_ptr(),
                    libc::MS_NOSUID | libc::MS_NODEV,
                    options.cast(),
                ) != 0
                {
                    return Err(fail(report, MOUNT));
                }
                if let MountData::Fuse { socket, .. } = data {
                    let sent = send_fd(*socket, device);
                    libc::close(device);
                    if !sent {
                        return Err(fail(report, SEND_DEVICE));
                    }
                }
                if let Some(probe) = verify_eio {
                    let made = libc::mkdir(probe.as_ptr(), 0o755) == 0;
                    let eio = io::Error::last_os_error().raw_os_error() == Some(libc::EIO);
                    if made || !eio {
                        return Err(fail(report, VERIFY_EIO));
                    }
                }
                if *pass_back {
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

/// A mount of `fstype` on `target` with `options`, in a new mount namespace
/// (with the caller's ids mapped, should a user namespace be needed).
fn mount_action(
    fstype: &'static CStr,
    target: &Path,
    data: MountData,
    pass_back: bool,
    verify_eio: Option<CString>,
) -> io::Result<Action> {
    let (uid, gid) = ids();
    Ok(Action::Mount {
        fstype,
        target: c_path(target)?,
        data,
        uid_map: format!("{uid} {uid} 1").into_bytes(),
        gid_map: format!("{gid} {gid} 1").into_bytes(),
        pass_back,
        verify_eio,
    })
}

/// The real user and group ids.
fn ids() -> (u32, u32) {
    // SAFETY: getuid/getgid never fail.
    unsafe { (libc::getuid(), libc::getgid()) }
}

/// Builds the child's plan for `fault` in the prepared directory `base`
/// (`device` is the served device of an `eio` fault).
fn plan(
    fault: &RealFault,
    base: &Path,
    report: RawFd,
    probing: bool,
    device: Option<&Device>,
) -> io::Result<ChildPlan> {
    let action = match *fault {
        RealFault::Enospc { size, inodes } => mount_action(
            c"tmpfs",
            &base.join(TMPFS_DIR),
            MountData::Fixed(
                CString::new(tmpfs_options(size, inodes))
                    .map_err(|_| io::Error::other("NUL in the tmpfs options"))?,
            ),
            true,
            None,
        )?,
        RealFault::Efbig { limit } => Action::FileSize { limit },
        RealFault::Eacces { .. } => Action::DropDac {
            as_root: is_root(),
            verify: if probing {
                Some(c_path(&base.join(PARENT_DIR).join("probe"))?)
            } else {
                None
            },
        },
        RealFault::Eio { .. } => {
            let device = device.ok_or_else(|| io::Error::other("no device served"))?;
            let (uid, gid) = ids();
            let target = base.join(DEVICE_DIR);
            let verify = if probing {
                Some(c_path(&target.join("probe"))?)
            } else {
                None
            };
            let prefix = Device::options_prefix(uid, gid).into_bytes();
            if prefix.len() + 16 > FUSE_OPTIONS_ROOM {
                return Err(io::Error::other("FUSE mount options too long"));
            }
            let data = MountData::Fuse {
                prefix,
                socket: device.child_socket(),
            };
            mount_action(c"fuse", &target, data, false, verify)?
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
        RealFault::Eio { .. } => fs::create_dir_all(work.join(DEVICE_DIR)),
        RealFault::Efbig { .. } => Ok(()),
    }
}

/// Serves the failing device of an `eio` fault over `<work>/device`.
fn serve_device(fault: &RealFault, work: &Path) -> io::Result<Option<Device>> {
    match *fault {
        RealFault::Eio { op, after } => {
            Device::serve(&work.join(DEVICE_DIR), EioRule { op, after }).map(Some)
        }
        _ => Ok(None),
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
            RealFault::Eio { .. } => RealFault::Eio {
                op: EioOp::Mkdir,
                after: 0,
            },
            other => *other,
        };
        prepare_dirs(&probe_fault, base.path())?;
        let mut device = serve_device(&probe_fault, base.path())?;
        let (harness_end, child_end) = report_pair()?;
        let plan = plan(
            &probe_fault,
            base.path(),
            child_end.as_raw_fd(),
            true,
            device.as_ref(),
        )?;
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
        if let Some(device) = device.as_mut() {
            device.finish();
        }
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
    device: Option<Device>,
}

impl Setup {
    /// Prepares `dirs` (as returned by [`run_dirs`]) for `fault`.
    pub fn prepare(fault: &RealFault, dirs: &RunDirs) -> io::Result<Setup> {
        prepare_dirs(fault, &dirs.work)?;
        let device = serve_device(fault, &dirs.work)?;
        let (harness_end, child_end) = report_pair()?;
        let plan = plan(
            fault,
            &dirs.work,
            child_end.as_raw_fd(),
            false,
            device.as_ref(),
        )?;
        Ok(Setup {
            fault: *fault,
            dirs: dirs.clone(),
            plan: Arc::new(plan),
            harness_end,
            child_end: Some(child_end),
            device,
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
        if let Some(device) = self.device.as_mut() {
            device.finish();
        }
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
    /// run directory and releases it, stops serving the device (whose output
    /// already is in the run directory), or makes the locked parent
    /// removable again, so the output is inspected and cleaned up like any
    /// other.
    pub fn collect(&mut self) -> io::Result<()> {
        self.child_end = None;
        if let Some(device) = self.device.as_mut() {
            device.finish();
        }
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
            RealFault::Efbig { .. } | RealFault::Eio { .. } => Ok(()),
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
    fn the_eio_device_passes_through_all_but_the_chosen_operation() -> io::Result<()> {
        let fault = RealFault::Eio {
            op: EioOp::Write,
            after: 4096,
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
            "mkdir device/trace && head -c 4096 /dev/zero > device/trace/fits \
             && mv device/trace/fits device/trace/kept && head -c 10 /dev/zero > device/trace/fails",
        )?;
        assert_ne!(outcome.termination, Termination::Exited(0));
        assert!(
            text(&outcome.stderr).contains("Input/output error"),
            "{outcome:?}"
        );
        assert_eq!(fs::metadata(dirs.trace.join("kept"))?.len(), 4096);
        assert!(!dirs.trace.join("fits").exists());
        assert_eq!(fs::metadata(dirs.trace.join("fails"))?.len(), 0);
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
                "real:enospc cannot be set up: mount the filesystem failed: {}",
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
    fn fuse_options_end_in_the_device_number() {
        let mut buffer = [0u8; FUSE_OPTIONS_ROOM];
        fuse_options(&mut buffer, b"rootmode=40000,fd=", 1023);
        let end = buffer.iter().position(|b| *b == 0).unwrap_or(0);
        assert_eq!(&buffer[..end], b"rootmode=40000,fd=1023");
    }

    #[test]
    fn tmpfs_options_carry_only_the_given_limits() {
        assert_eq!(tmpfs_options(Some(8192), None), "size=8192,mode=0755");
        assert_eq!(tmpfs_options(None, Some(2)), "nr_inodes=2,mode=0755");
    }

    #[test]
    fn a_failed_step_is_named_with_its_errno() {
        assert_eq!(
            explain(MOUNT, libc::EPERM),
            format!(
                "mount the filesystem failed: {}",
                io::Error::from_raw_os_error(libc::EPERM)
            )
        );
    }
}
