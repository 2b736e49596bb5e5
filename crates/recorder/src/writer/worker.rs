//! The events file's writer thread: the interpreter's thread fills chunks and
//! hands them over a bounded queue; this thread passes them through the
//! file's [`Stage`] (zstd compression for `trace.bin`) and makes the
//! `faultfs` write calls, so the traced program waits for neither.
//!
//! - Back-pressure: at most [`QUEUE_CHUNKS`] chunks wait; handing over one
//!   more blocks until the thread has written one (memory stays flat). The
//!   chunk buffers travel back for reuse, so the hand-off copies nothing.
//! - Errors: the thread stops at its first failure (an I/O or compression
//!   error, or a panic, which it catches) and keeps it in [`WorkerHealth`];
//!   the interpreter's thread checks that flag at every event, so the
//!   failure surfaces inside the next callback (or the next flush or
//!   finish) with its own code; the file and its stage come back for
//!   whatever settling does next.
//! - `flush`: waits until every chunk handed before is through the stage and
//!   the file's buffer is with the operating system.
//! - Signals: the thread is born with every signal blocked, so they reach
//!   the interpreter's thread as before and never interrupt a write.
//! - `fork`: the thread only runs between forks ([`super::quiesce`]): a
//!   `pthread_atfork` prepare handler drains every queue and joins every
//!   writer thread, so the process forks with no thread of the recorder's;
//!   the next chunk handed over starts the thread again.

use std::any::Any;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use faultfs::StagedFile;
use recorder_errors::prelude::*;

use super::chunk::{FileOpError, FileOpResult, Stage};
use super::quiesce;

/// A file and the stage its chunks go through.
pub type Output = (StagedFile, Box<dyn Stage>);

/// Chunks that may wait for the writer thread before handing over blocks:
/// with the one being written and the sink's buffer, what a process killed
/// between flushes can lose is at most four chunks.
pub const QUEUE_CHUNKS: usize = 2;

/// What the writer thread is asked to do, in order.
enum Job {
    /// Pass these bytes through the stage to the file.
    Chunk(Vec<u8>),
    /// Flush the stage and the file's buffer to the operating system, then answer.
    Flush(SyncSender<()>),
}

/// Why the writer thread stopped early.
pub enum WorkerFailure {
    /// An operation on the file failed.
    Op(FileOpError),
    /// A job panicked (its payload).
    Panic(Box<dyn Any + Send>),
}

/// The writer thread's failure, shared with the interpreter's thread.
#[derive(Default)]
struct Shared {
    failed: AtomicBool,
    failure: Mutex<Option<WorkerFailure>>,
    /// The chunks still queued are not wanted (the file is being given up).
    discard: AtomicBool,
}

/// A handle on the writer thread's failure, checked at every event.
#[derive(Clone, Default)]
pub struct WorkerHealth(Arc<Shared>);

impl WorkerHealth {
    /// The writer thread's failure, once: `None` while it is healthy or
    /// after the failure was taken.
    pub fn take_failure(&self) -> Option<WorkerFailure> {
        if !self.failed() {
            return None;
        }
        match self.0.failure.lock() {
            Ok(mut failure) => failure.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        }
    }

    /// Whether the writer thread stopped on a failure (taken or not).
    pub fn failed(&self) -> bool {
        self.0.failed.load(Ordering::Acquire)
    }

    fn fail(&self, failure: WorkerFailure) {
        match self.0.failure.lock() {
            Ok(mut slot) => *slot = Some(failure),
            Err(poisoned) => *poisoned.into_inner() = Some(failure),
        }
        self.0.failed.store(true, Ordering::Release);
    }

    fn discarding(&self) -> bool {
        self.0.discard.load(Ordering::Acquire)
    }
}

/// A running writer thread.
struct Running {
    jobs: SyncSender<Job>,
    thread: JoinHandle<Option<Output>>,
    /// The thread's kernel id, once it has started (0 before).
    tid: Arc<AtomicI32>,
}

/// The part of a worker the fork handler reaches as well: the thread, or
/// the file and stage while no thread runs.
pub struct Lane {
    /// The file and its stage while no thread has them.
    parked: Option<Output>,
    running: Option<Running>,
    health: WorkerHealth,
    /// No thread could be started: chunks are written inline from then on.
    inline_only: bool,
}

impl Lane {
    /// Stops the thread once its queue is written (or dropped, when the
    /// file is being discarded) and takes the file and stage back. A thread
    /// that died without giving them back leaves its failure in the health
    /// flag (a panic) and nothing parked.
    pub fn park(&mut self) {
        let Some(running) = self.running.take() else {
            return;
        };
        drop(running.jobs);
        match running.thread.join() {
            Ok(Some(output)) => self.parked = Some(output),
            Ok(None) => {}
            Err(payload) => {
                if !self.health.failed() {
                    self.health.fail(WorkerFailure::Panic(payload));
                }
            }
        }
        wait_until_gone(running.tid.load(Ordering::Acquire));
    }

    /// Starts a thread passing chunks through the parked stage to the
    /// parked file (the caller holds the fork gate, so no fork happens
    /// meanwhile). When no thread can be started, the file stays parked and
    /// is written inline.
    fn spawn(&mut self, recycle: &SyncSender<Vec<u8>>) {
        let Some(output) = self.parked.take() else {
            return;
        };
        let (jobs, queue) = mpsc::sync_channel(QUEUE_CHUNKS);
        let (give, take) = mpsc::sync_channel::<Output>(1);
        let tid = Arc::new(AtomicI32::new(0));
        let thread_tid = Arc::clone(&tid);
        let health = self.health.clone();
        let recycle = recycle.clone();
        let spawned = {
            // The thread inherits this mask: it is born with every signal
            // blocked, so no signal is ever delivered to it.
            let _blocked = BlockedSignals::all();
            std::thread::Builder::new()
                .name("codetracer-writer".to_string())
                .spawn(move || {
                    thread_tid.store(current_tid(), Ordering::Release);
                    let output = take.recv().ok()?;
                    Some(run(output, &queue, &recycle, &health))
                })
        };
        match spawned {
            Ok(thread) => match give.send(output) {
                Ok(()) => {
                    self.running = Some(Running { jobs, thread, tid });
                }
                Err(mpsc::SendError(output)) => {
                    self.parked = Some(output);
                    let _ = thread.join();
                }
            },
            Err(err) => {
                log::debug!("no writer thread ({err}): the events file is written inline");
                self.parked = Some(output);
                self.inline_only = true;
            }
        }
    }
}

/// The writer of one events file: its chunks go to a writer thread while
/// one runs, inline otherwise.
pub struct Worker {
    lane: Arc<Mutex<Lane>>,
    health: WorkerHealth,
    /// Buffers the thread has written, for the next hand-off.
    recycled: Receiver<Vec<u8>>,
    recycle: SyncSender<Vec<u8>>,
}

impl Worker {
    /// A writer for `output`; its thread starts with the first chunk.
    pub fn new(output: Output) -> Worker {
        let health = WorkerHealth::default();
        let lane = Arc::new(Mutex::new(Lane {
            parked: Some(output),
            running: None,
            health: health.clone(),
            inline_only: false,
        }));
        quiesce::register(&lane);
        let (recycle, recycled) = mpsc::sync_channel(QUEUE_CHUNKS + 1);
        Worker {
            lane,
            health,
            recycled,
            recycle,
        }
    }

    /// The handle on this writer's failure.
    pub fn health(&self) -> &WorkerHealth {
        &self.health
    }

    /// Hands the bytes of `buf` over (to the thread, which is started if
    /// none runs; waits while its queue is full) and leaves `buf` empty.
    pub fn hand(&mut self, buf: &mut Vec<u8>) -> FileOpResult<()> {
        let mut lane = self.lane()?;
        if !self.health.failed() && lane.running.is_none() && !lane.inline_only {
            lane.spawn(&self.recycle);
        }
        let Some(running) = lane.running.as_ref().filter(|_| !self.health.failed()) else {
            return self.inline(&mut lane, buf);
        };
        let spare = self
            .recycled
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(buf.capacity()));
        let chunk = std::mem::replace(buf, spare);
        if running.jobs.send(Job::Chunk(chunk)).is_err() {
            lane.park();
            return Err(self.failure());
        }
        Ok(())
    }

    /// Waits until every chunk handed over so far is through the stage and
    /// the file's buffer is with the operating system.
    pub fn flush(&mut self) -> FileOpResult<()> {
        let mut lane = self.lane()?;
        if let Some(running) = lane.running.as_ref() {
            let (done, answer) = mpsc::sync_channel(1);
            if running.jobs.send(Job::Flush(done)).is_ok() && answer.recv().is_ok() {
                return Ok(());
            }
            lane.park();
            return Err(self.failure());
        }
        if let Some(failure) = self.health.take_failure() {
            return Err(FileOpError::from_worker(failure));
        }
        let (file, stage) = lane.parked.as_mut().ok_or_else(lost_file)?;
        stage.flush(file)
    }

    /// Stops the thread once its queue is written and takes the file and
    /// stage back; the thread's failure when it stopped on one not yet taken.
    pub fn stop(&mut self) -> FileOpResult<Output> {
        let mut lane = self.lane()?;
        lane.park();
        if let Some(failure) = self.health.take_failure() {
            return Err(FileOpError::from_worker(failure));
        }
        lane.parked.take().ok_or_else(lost_file)
    }

    /// Writes `buf` inline, through the parked stage (after the thread
    /// failed, or when none can be started), and empties it. The thread's
    /// failure comes first when it was not taken yet.
    fn inline(&self, lane: &mut HeldLane<'_>, buf: &mut Vec<u8>) -> FileOpResult<()> {
        lane.park();
        if let Some(failure) = self.health.take_failure() {
            buf.clear();
            return Err(FileOpError::from_worker(failure));
        }
        let (file, stage) = lane.parked.as_mut().ok_or_else(lost_file)?;
        let written = stage.chunk(file, buf);
        buf.clear();
        written
    }

    /// The lane, with the fork gate held: no fork happens while a writer
    /// uses its lane (or starts a thread), and no lane lock is ever held
    /// across a fork.
    fn lane(&self) -> FileOpResult<HeldLane<'_>> {
        let gate = quiesce::gate();
        let lane = self.lane.lock().map_err(|_| {
            FileOpError::from_error(bug!(
                ErrorCode::LockPoisoned,
                "the events file's writer lock was poisoned by a panic"
            ))
        })?;
        Ok(HeldLane { lane, _gate: gate })
    }

    /// The failure of a thread that stopped on its own.
    fn failure(&self) -> FileOpError {
        match self.health.take_failure() {
            Some(failure) => FileOpError::from_worker(failure),
            None => lost_file(),
        }
    }
}

/// A writer's lane, locked, with the fork gate held.
struct HeldLane<'a> {
    lane: MutexGuard<'a, Lane>,
    _gate: quiesce::Gate,
}

impl std::ops::Deref for HeldLane<'_> {
    type Target = Lane;

    fn deref(&self) -> &Lane {
        &self.lane
    }
}

impl std::ops::DerefMut for HeldLane<'_> {
    fn deref_mut(&mut self) -> &mut Lane {
        &mut self.lane
    }
}

impl Drop for Worker {
    /// A dropped writer's file is given up: queued chunks are not written.
    fn drop(&mut self) {
        self.health.0.discard.store(true, Ordering::Release);
        let _gate = quiesce::gate();
        match self.lane.lock() {
            Ok(mut lane) => lane.park(),
            Err(poisoned) => poisoned.into_inner().park(),
        }
    }
}

/// A writer thread that ended without giving its file back.
fn lost_file() -> FileOpError {
    FileOpError::new(
        "write",
        io::Error::other("the events file was lost with its writer thread"),
    )
}

/// The thread's loop: each job in order, until the queue closes or a job fails.
fn run(
    mut output: Output,
    queue: &Receiver<Job>,
    recycle: &SyncSender<Vec<u8>>,
    health: &WorkerHealth,
) -> Output {
    let (file, stage) = &mut output;
    while let Ok(job) = queue.recv() {
        if health.discarding() {
            break;
        }
        let done = catch_unwind(AssertUnwindSafe(|| match job {
            Job::Chunk(mut buf) => {
                let written = stage.chunk(file, &buf);
                buf.clear();
                let _ = recycle.try_send(buf);
                written.map(|()| None)
            }
            Job::Flush(answer) => stage.flush(file).map(|()| Some(answer)),
        }));
        match done {
            Ok(Ok(Some(answer))) => {
                let _ = answer.send(());
            }
            Ok(Ok(None)) => {}
            Ok(Err(err)) => {
                health.fail(WorkerFailure::Op(err));
                break;
            }
            Err(payload) => {
                health.fail(WorkerFailure::Panic(payload));
                break;
            }
        }
    }
    output
}

/// Blocks every signal on this thread until dropped (then the old mask is back).
struct BlockedSignals(libc::sigset_t);

impl BlockedSignals {
    fn all() -> BlockedSignals {
        // SAFETY: both sets are local sigset_t values, initialised by
        // sigfillset / written by pthread_sigmask before they are read; the
        // call only changes this thread's signal mask.
        unsafe {
            let mut all: libc::sigset_t = std::mem::zeroed();
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut all);
            libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
            BlockedSignals(old)
        }
    }
}

impl Drop for BlockedSignals {
    fn drop(&mut self) {
        // SAFETY: restores the mask `all` saved on this same thread.
        unsafe {
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.0, std::ptr::null_mut());
        }
    }
}

/// The calling thread's kernel id.
fn current_tid() -> i32 {
    // SAFETY: gettid has no preconditions and cannot fail.
    unsafe { libc::gettid() }
}

/// Waits (briefly) until the joined thread `tid` has left the process:
/// `pthread_join` returns when the thread has released its memory, a moment
/// before the kernel stops counting it in `/proc/self/stat`, which is where
/// CPython counts threads after a fork to decide on its warning.
fn wait_until_gone(tid: i32) {
    if tid <= 0 {
        return;
    }
    let task = format!("/proc/self/task/{tid}");
    for _ in 0..2000 {
        if std::fs::symlink_metadata(&task).is_err() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_micros(50));
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    use faultfs::{FaultFs, FaultPlan, FileSystem, MemoryFs, StagedDir};
    use recorder_errors::ErrorCode;
    use runtime_tracing::{Line, PathId, StepRecord, TraceLowLevelEvent};

    use crate::writer::{TraceFormat, TraceWriter};

    const TARGET: &str = "/out/trace";

    fn writer_under(plan: &str, format: TraceFormat) -> (MemoryFs, TraceWriter) {
        let memory = MemoryFs::new();
        let plan = FaultPlan::parse(plan).unwrap_or_else(|e| panic!("{e}"));
        let fs: Arc<dyn FileSystem> = Arc::new(FaultFs::new(memory.clone(), plan));
        let staged = StagedDir::create(fs, Path::new(TARGET)).unwrap_or_else(|e| panic!("{e}"));
        let writer = TraceWriter::create(staged, format, "/work/program.py")
            .unwrap_or_else(|e| panic!("{e}"));
        (memory, writer)
    }

    fn step(line: i64) -> TraceLowLevelEvent {
        TraceLowLevelEvent::Step(StepRecord {
            path_id: PathId(0),
            line: Line(line),
        })
    }

    fn staged_file(memory: &MemoryFs, name: &str) -> PathBuf {
        let names = memory.read_dir(Path::new(TARGET)).unwrap_or_default();
        let staging = names
            .iter()
            .find(|name| name.starts_with(".codetracer-staging-"))
            .unwrap_or_else(|| panic!("no staging directory in {names:?}"));
        Path::new(TARGET).join(staging).join(name)
    }

    /// The JSON events in the staged `trace.json` so far.
    fn staged_json_events(memory: &MemoryFs) -> Vec<String> {
        let bytes = memory
            .read(&staged_file(memory, "trace.json"))
            .unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter(|line| line.starts_with('{'))
            .map(|line| line.trim_end_matches(',').to_string())
            .collect()
    }

    /// This process's threads named like the writer thread.
    fn writer_threads() -> usize {
        let tasks = std::fs::read_dir("/proc/self/task").unwrap_or_else(|e| panic!("{e}"));
        tasks
            .filter_map(Result::ok)
            .filter(|task| {
                std::fs::read_to_string(task.path().join("comm"))
                    .is_ok_and(|name| name.trim() == "codetracer-writ")
            })
            .count()
    }

    #[test]
    fn after_flush_every_event_is_in_the_file_in_order() {
        let (memory, mut writer) = writer_under("", TraceFormat::Json);
        for line in 0..20_000 {
            writer.emit(&step(line)).unwrap_or_else(|e| panic!("{e}"));
        }
        writer.flush().unwrap_or_else(|e| panic!("{e}"));
        let events = staged_json_events(&memory);
        assert_eq!(events.len() as u64, writer.event_count());
        assert_eq!(
            events.last().map(String::as_str),
            Some("{\"Step\":{\"path_id\":0,\"line\":19999}}"),
            "the last event before flush() is written last"
        );
    }

    #[test]
    fn a_failed_write_on_the_writer_thread_fails_a_later_event_with_its_code_and_path() {
        let (_memory, mut writer) = writer_under("fail=write#2:ENOSPC", TraceFormat::Json);
        let failed = (0..200_000).find_map(|line| writer.emit(&step(line)).err());
        let error = failed.unwrap_or_else(|| panic!("the failed write never surfaced"));
        assert_eq!(error.code(), ErrorCode::DiskFull, "{error}");
        assert!(error.to_string().contains("trace.json"), "{error}");
    }

    #[test]
    fn a_failed_compressed_write_fails_a_later_event_in_binary_too() {
        let (_memory, mut writer) = writer_under("fail=write#3:EIO", TraceFormat::Binary);
        let failed = (0..400_000).find_map(|line| writer.emit(&step(line)).err());
        let error = failed.unwrap_or_else(|| panic!("the failed write never surfaced"));
        assert_eq!(error.code(), ErrorCode::Io, "{error}");
        assert!(error.to_string().contains("trace.bin"), "{error}");
    }

    #[test]
    fn a_failed_write_before_flush_fails_the_flush() {
        let (_memory, mut writer) = writer_under("fail=write#1:EIO", TraceFormat::Json);
        let mut failed = None;
        for line in 0..2_000 {
            if let Err(error) = writer.emit(&step(line)) {
                failed = Some(error);
                break;
            }
        }
        let error = match failed {
            Some(error) => error,
            None => writer
                .flush()
                .err()
                .unwrap_or_else(|| panic!("flush() hid the failed write")),
        };
        assert_eq!(error.code(), ErrorCode::Io, "{error}");
    }

    #[test]
    fn the_fork_handler_joins_the_writer_thread_and_the_next_chunk_starts_it_again() {
        let (memory, mut writer) = writer_under("", TraceFormat::Json);
        for line in 0..10_000 {
            writer.emit(&step(line)).unwrap_or_else(|e| panic!("{e}"));
        }
        assert_eq!(writer_threads(), 1, "a chunk was handed: the thread runs");
        super::quiesce::prepare();
        assert_eq!(writer_threads(), 0, "no writer thread at the fork");
        let written = staged_json_events(&memory);
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(staged_json_events(&memory), written, "nothing writes on");
        let expected: Vec<String> = (0..written.len().saturating_sub(3))
            .map(|line| format!("{{\"Step\":{{\"path_id\":0,\"line\":{line}}}}}"))
            .collect();
        assert!(
            written.len() > 3 && written[3..] == expected[..],
            "every queued chunk, in order"
        );
        super::quiesce::release();
        for line in 10_000..20_000 {
            writer.emit(&step(line)).unwrap_or_else(|e| panic!("{e}"));
        }
        assert_eq!(writer_threads(), 1, "the next chunk started it again");
        writer.flush().unwrap_or_else(|e| panic!("{e}"));
        let events = staged_json_events(&memory);
        assert_eq!(events.len() as u64, writer.event_count());
        assert_eq!(
            events.last().map(String::as_str),
            Some("{\"Step\":{\"path_id\":0,\"line\":19999}}")
        );
    }
}
