//! The descriptor mirror (Linux, opt-in): descriptors 1 and 2 are pointed at
//! pipes whose bytes a thread forwards at once to the original descriptors,
//! recording (as mirrored) the bytes the proxies did not already record.
//!
//! Forwarding and reading happen under one lock, so bytes leave in the order
//! they arrived, whoever pumps them: the mirror's thread (when the pipe has
//! data), the tracer (before every drain, so bytes written during a step are
//! attributed to that step), the recorder's own diagnostics (which go
//! straight to the original stderr after the pipe was emptied, see
//! [`crate::logging::stderr`]) and the teardown.
//!
//! Nothing here may harm the program: a descriptor that cannot be set up is
//! left alone; when forwarding fails (the reader of a pipe went away) the
//! original descriptor is put back at once, so the program's next write gets
//! the error it would have had; a descriptor the program replaced or closed
//! itself is never put back; after the teardown the thread keeps forwarding
//! what children still write until the pipe's last writer is gone. The thread
//! never calls Python, never logs, and never holds the lock while it waits.
//!
//! A fork child inherits the descriptors pointed at the pipes but not the
//! thread: there the mirror only points them back at the originals (without
//! the lock, which the parent's thread may have held at the fork) and sends
//! diagnostics straight to the original stderr; it never reads the pipes,
//! which still carry the parent's output.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use super::hub::{Hub, Origin, Stream};
use super::ledger::{Lane, Ledger};
use super::owner::Owner;

/// Bytes read from a pipe at a time.
const READ_SIZE: usize = 64 * 1024;

/// One mirrored descriptor, fixed for the mirror's life.
#[derive(Debug)]
struct Target {
    stream: Stream,
    /// 1 or 2.
    fd: RawFd,
    /// A duplicate of the original descriptor, where everything is forwarded.
    saved: OwnedFd,
    /// The pipe's identity (`st_dev`, `st_ino`), to tell whether `fd` still points at it.
    pipe_id: (u64, u64),
}

/// What changes while the mirror runs, behind the pump lock.
#[derive(Debug)]
struct PumpState {
    /// The read ends of the pipes (non-blocking), by target; `None` once at end of file.
    pipes: Vec<Option<OwnedFd>>,
    /// Whether each target's descriptor still points at its pipe (ours to put back).
    redirected: Vec<bool>,
    /// Torn down: forward only, record nothing.
    stopped: bool,
    buf: Vec<u8>,
}

/// The running mirror.
#[derive(Debug)]
pub struct Mirror {
    targets: Vec<Target>,
    pump: Mutex<PumpState>,
    ledgers: Mutex<Vec<Ledger>>,
    hub: Weak<Hub>,
    /// Write end of the pipe that wakes the thread for the teardown.
    wake: OwnedFd,
    /// The thread met a panic and gave up mirroring (descriptors put back).
    broken: AtomicBool,
    /// The process whose thread forwards (not a fork child of it).
    owner: Owner,
}

impl Mirror {
    /// Points descriptors 1 and 2 (those of `streams`) at pipes and starts
    /// the forwarding thread; a descriptor that is not open is left out.
    /// Fails (with every change undone) when none can be mirrored or the
    /// thread cannot start.
    pub fn start(hub: &Arc<Hub>, streams: &[Stream]) -> io::Result<Arc<Mirror>> {
        let mut targets = Vec::new();
        let mut pipes = Vec::new();
        let mut first_error = None;
        for (stream, fd) in [(Stream::Stdout, 1), (Stream::Stderr, 2)] {
            if !streams.contains(&stream) {
                continue;
            }
            match redirect(fd) {
                Ok((saved, read, pipe_id)) => {
                    targets.push(Target {
                        stream,
                        fd,
                        saved,
                        pipe_id,
                    });
                    pipes.push(Some(read));
                }
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        if targets.is_empty() {
            return Err(first_error.unwrap_or_else(|| io::Error::other("nothing to mirror")));
        }
        let (wake_read, wake) = pipe(libc::O_CLOEXEC | libc::O_NONBLOCK)?;
        let count = targets.len();
        let mirror = Arc::new(Mirror {
            targets,
            pump: Mutex::new(PumpState {
                pipes,
                redirected: vec![true; count],
                stopped: false,
                buf: Vec::new(),
            }),
            ledgers: Mutex::new((0..count).map(|_| Ledger::default()).collect()),
            hub: Arc::downgrade(hub),
            wake,
            broken: AtomicBool::new(false),
            owner: Owner::here(),
        });
        let runner = Arc::clone(&mirror);
        let spawned = std::thread::Builder::new()
            .name("codetracer-fd-mirror".into())
            .spawn(move || runner.run(wake_read));
        if let Err(error) = spawned {
            mirror.stop();
            return Err(error);
        }
        Ok(mirror)
    }

    /// Whether descriptor `fd` is mirrored.
    pub fn mirrors(&self, fd: RawFd) -> bool {
        self.targets.iter().any(|target| target.fd == fd)
    }

    /// The proxies are about to hand one write of `bytes`, through `lane`,
    /// to a stream writing to `fd`.
    pub fn announce(&self, fd: RawFd, lane: Lane, bytes: &[u8]) {
        if !self.owner.is_here() {
            return;
        }
        if let Some(index) = self.targets.iter().position(|target| target.fd == fd) {
            let mut ledgers = lock(&self.ledgers);
            if let Some(ledger) = ledgers.get_mut(index) {
                ledger.add(lane, bytes);
            }
        }
    }

    /// Forwards and records whatever the pipes hold now (the tracer calls
    /// this before every drain: one `poll` when they are empty).
    pub fn catch_up(&self) {
        if !self.owner.is_here() {
            return;
        }
        let mut pump = lock(&self.pump);
        // At most two pipes (descriptors 1 and 2): no allocation per event.
        let mut fds = [pollfd(-1); 2];
        let mut indexes = [0usize; 2];
        let mut count = 0;
        for (index, pipe) in pump.pipes.iter().enumerate() {
            if let (Some(pipe), true) = (pipe, count < fds.len()) {
                fds[count] = pollfd(pipe.as_raw_fd());
                indexes[count] = index;
                count += 1;
            }
        }
        if count == 0 {
            return;
        }
        // SAFETY: `fds` holds `count` valid pollfd entries.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), count as libc::nfds_t, 0) };
        for (index, fd) in indexes.iter().zip(&fds).take(count) {
            // After a failed poll every pipe is pumped (a read that finds nothing costs little).
            if ready < 0 || fd.revents != 0 {
                self.pump_target(&mut pump, *index);
            }
        }
    }

    /// Writes one of the recorder's own diagnostics to the original stderr,
    /// after forwarding what the program wrote before it. False when stderr
    /// is not mirrored (the caller writes to descriptor 2 itself).
    pub fn write_diagnostic(&self, bytes: &[u8]) -> bool {
        let Some(index) = self.targets.iter().position(|target| target.fd == 2) else {
            return false;
        };
        if !self.owner.is_here() {
            let _ = write_all(self.targets[index].saved.as_raw_fd(), bytes);
            return true;
        }
        // A diagnostic can be written while this thread holds the pump (the
        // panic hook logs before unwinding): then it skips the catch-up.
        match self.pump.try_lock() {
            Ok(mut pump) => {
                if !pump.redirected[index] {
                    return false;
                }
                self.pump_target(&mut pump, index);
                let _ = write_all(self.targets[index].saved.as_raw_fd(), bytes);
            }
            Err(_) => {
                let _ = write_all(self.targets[index].saved.as_raw_fd(), bytes);
            }
        }
        true
    }

    /// The teardown: puts the original descriptors back (unless the program
    /// replaced or closed them), forwards and records what the pipes still
    /// hold, and leaves the thread forwarding, without recording, until the
    /// last writer (a child process) is gone.
    pub fn stop(&self) {
        if !self.owner.is_here() {
            self.restore_in_fork_child();
            return;
        }
        let mut pump = lock(&self.pump);
        for index in 0..self.targets.len() {
            self.restore(&mut pump, index);
            self.pump_target(&mut pump, index);
        }
        pump.stopped = true;
        drop(pump);
        let _ = write_all(self.wake.as_raw_fd(), b"x");
    }

    /// [`Mirror::stop`] in a fork child: each descriptor that still points
    /// at its pipe points at the original again; nothing else is touched.
    fn restore_in_fork_child(&self) {
        for target in &self.targets {
            if identity(target.fd).ok() == Some(target.pipe_id) {
                // SAFETY: both descriptors are open; dup2 replaces `fd` atomically.
                unsafe { libc::dup2(target.saved.as_raw_fd(), target.fd) };
            }
        }
    }

    /// Whether the mirror gave up after a panic of its thread.
    pub fn is_broken(&self) -> bool {
        self.broken.load(Ordering::Acquire)
    }

    /// The thread: waits for data (or the wake-up) without the lock, then pumps.
    fn run(self: Arc<Self>, wake: OwnedFd) {
        loop {
            let round = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.wait_and_pump(&wake)
            }));
            match round {
                Ok(true) => continue,
                Ok(false) => return,
                Err(_) if self.broken.swap(true, Ordering::AcqRel) => return,
                Err(_) => {
                    // Never leave the program writing into a pipe nobody reads:
                    // put the descriptors back and only forward from now on
                    // (a second panic ends the thread).
                    let mut pump = lock(&self.pump);
                    for index in 0..self.targets.len() {
                        self.restore(&mut pump, index);
                    }
                    pump.stopped = true;
                }
            }
        }
    }

    /// One round of the thread; false once every pipe reached end of file.
    fn wait_and_pump(&self, wake: &OwnedFd) -> bool {
        let mut polled: Vec<libc::pollfd> = {
            let pump = lock(&self.pump);
            pump.pipes
                .iter()
                .flatten()
                .map(|pipe| pollfd(pipe.as_raw_fd()))
                .collect()
        };
        if polled.is_empty() {
            return false;
        }
        polled.push(pollfd(wake.as_raw_fd()));
        // SAFETY: `polled` is a valid array of pollfd of the given length.
        let ready = unsafe { libc::poll(polled.as_mut_ptr(), polled.len() as libc::nfds_t, -1) };
        if ready < 0 {
            return true; // EINTR: poll again
        }
        if polled.last().is_some_and(|wake| wake.revents != 0) {
            drain_wake(wake.as_raw_fd());
        }
        self.catch_up();
        true
    }

    /// Reads target `index`'s pipe until it is empty, forwarding every read
    /// at once and recording the bytes the proxies did not see.
    fn pump_target(&self, pump: &mut PumpState, index: usize) {
        let mut buf = std::mem::take(&mut pump.buf);
        buf.resize(READ_SIZE, 0);
        self.pump_with(pump, index, &mut buf);
        pump.buf = buf;
    }

    fn pump_with(&self, pump: &mut PumpState, index: usize, buf: &mut [u8]) {
        let target = &self.targets[index];
        loop {
            let Some(pipe) = pump.pipes[index].as_ref() else {
                return;
            };
            // SAFETY: `buf` is a live buffer of `buf.len()` bytes.
            let read = unsafe { libc::read(pipe.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            let read = match read {
                n if n > 0 => n as usize,
                0 => {
                    self.at_end_of_file(pump, index);
                    return;
                }
                _ => match io::Error::last_os_error().raw_os_error() {
                    Some(libc::EINTR) => continue,
                    Some(libc::EAGAIN) => return,
                    _ => {
                        self.at_end_of_file(pump, index);
                        return;
                    }
                },
            };
            let bytes = &buf[..read];
            if write_all(target.saved.as_raw_fd(), bytes).is_err() {
                // The reader went away: the program's own next write must
                // meet that, as it would without the mirror.
                self.restore(pump, index);
                continue;
            }
            if pump.stopped {
                continue;
            }
            let unseen = match lock(&self.ledgers).get_mut(index) {
                Some(ledger) => ledger.unseen(bytes),
                None => bytes.to_vec(),
            };
            if let Some(hub) = self.hub.upgrade() {
                hub.record(target.stream, Origin::Mirror, None, &unseen);
            }
        }
    }

    /// Every writer of the pipe is gone: the program closed its descriptor
    /// (and no child holds it), or the teardown already put it back.
    fn at_end_of_file(&self, pump: &mut PumpState, index: usize) {
        pump.pipes[index] = None;
        pump.redirected[index] = false;
    }

    /// Points the target's descriptor back at the original, if it still
    /// points at our pipe.
    fn restore(&self, pump: &mut PumpState, index: usize) {
        if !std::mem::replace(&mut pump.redirected[index], false) {
            return;
        }
        let target = &self.targets[index];
        if identity(target.fd).ok() == Some(target.pipe_id) {
            // SAFETY: both descriptors are open; dup2 replaces `fd` atomically.
            unsafe { libc::dup2(target.saved.as_raw_fd(), target.fd) };
        }
    }
}

/// Points `fd` at a new pipe: returns the original (duplicated), the pipe's
/// read end (non-blocking) and the pipe's identity.
fn redirect(fd: RawFd) -> io::Result<(OwnedFd, OwnedFd, (u64, u64))> {
    // SAFETY: F_DUPFD_CLOEXEC on a descriptor number; fails with EBADF if it is not open.
    let saved = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if saved < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `saved` is a descriptor we just created and own.
    let saved = unsafe { OwnedFd::from_raw_fd(saved) };
    let (read, write) = pipe(libc::O_CLOEXEC)?;
    set_nonblocking(read.as_raw_fd())?;
    let pipe_id = identity(read.as_raw_fd())?;
    // SAFETY: both descriptors are open; dup2 replaces `fd` atomically (the
    // copy is inheritable, as `fd` was).
    if unsafe { libc::dup2(write.as_raw_fd(), fd) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((saved, read, pipe_id))
}

/// A new pipe with `flags` on both ends: (read, write).
fn pipe(flags: libc::c_int) -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), flags) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded, so both are new descriptors we own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: F_GETFL/F_SETFL on an open descriptor.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    // SAFETY: as above.
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `(st_dev, st_ino)` of an open descriptor.
fn identity(fd: RawFd) -> io::Result<(u64, u64)> {
    // SAFETY: an all-zero `stat` is a valid value for fstat to overwrite.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `stat` is a valid out-pointer.
    if unsafe { libc::fstat(fd, &mut stat) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((stat.st_dev, stat.st_ino))
}

fn pollfd(fd: RawFd) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

fn drain_wake(fd: RawFd) {
    let mut sink = [0u8; 64];
    // SAFETY: `sink` is a live buffer; the descriptor is non-blocking.
    while unsafe { libc::read(fd, sink.as_mut_ptr().cast(), sink.len()) } > 0 {}
}

/// Writes all of `bytes` to `fd`, waiting when it would block; the first
/// other error ends it.
fn write_all(fd: RawFd, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        // SAFETY: `bytes` is a live slice of that many bytes.
        let written = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if written >= 0 {
            bytes = &bytes[written as usize..];
            continue;
        }
        let error = io::Error::last_os_error();
        match error.raw_os_error() {
            Some(libc::EINTR) => {}
            Some(libc::EAGAIN) => {
                let mut wait = libc::pollfd {
                    fd,
                    events: libc::POLLOUT,
                    revents: 0,
                };
                // SAFETY: one valid pollfd.
                unsafe { libc::poll(&mut wait, 1, -1) };
            }
            _ => return Err(error),
        }
    }
    Ok(())
}

/// The lock, recovered when poisoned (its state stays consistent: every
/// critical section leaves the descriptors in a state it can continue from).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
