//! The events file's writer thread: the interpreter's thread fills chunks and
//! hands them over a bounded queue; this thread makes the `faultfs` write
//! calls (the kernel `write`), so the traced program does not wait for them.
//!
//! - Back-pressure: at most [`QUEUE_CHUNKS`] chunks wait; handing over one
//!   more blocks until the thread has written one (memory stays flat).
//! - Errors: the thread stops at its first failure (an I/O error, or a
//!   panic, which it catches) and keeps it in [`WorkerHealth`]; the
//!   interpreter's thread checks that flag at every event, so the failure
//!   surfaces inside the next callback, and [`Worker::stop`] gives the file
//!   back for whatever settling does next.
//! - `flush`: [`Worker::barrier`] returns once every chunk handed over before
//!   it is written and the file's buffer is with the operating system.
//! - Signals: the thread blocks them all, so they reach the program's
//!   threads as before and never interrupt a write.
//! - `fork`: a child never runs this thread; the recording it inherits is
//!   leaked unused (`session::fork`), so the child never touches the queue.

use std::any::Any;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use faultfs::StagedFile;

use super::chunk::{failpoint, FileOpError, OpResultExt, CHUNK_SIZE};

/// Chunks that may wait for the writer thread before handing over blocks.
pub const QUEUE_CHUNKS: usize = 8;

/// What the writer thread is asked to do, in order.
enum Job {
    /// Write these bytes.
    Chunk(Vec<u8>),
    /// Hand the file's buffer to the operating system, then answer.
    Flush(SyncSender<()>),
}

/// Why the writer thread stopped early.
#[derive(Debug)]
pub enum WorkerFailure {
    /// An operation on the file failed.
    Op(FileOpError),
    /// The write panicked (its payload).
    Panic(Box<dyn Any + Send>),
}

/// The writer thread's failure, shared with the interpreter's thread.
#[derive(Debug, Default)]
struct Shared {
    failed: AtomicBool,
    failure: Mutex<Option<WorkerFailure>>,
    /// The chunks still queued are not wanted (the file is being given up).
    discard: AtomicBool,
}

/// A handle on the writer thread's failure, checked at every event.
#[derive(Debug, Clone, Default)]
pub struct WorkerHealth(Arc<Shared>);

impl WorkerHealth {
    /// The writer thread's failure, once: `None` while it is healthy or
    /// after the failure was taken.
    pub fn take_failure(&self) -> Option<WorkerFailure> {
        if !self.0.failed.load(Ordering::Acquire) {
            return None;
        }
        lock(&self.0.failure).take()
    }

    fn fail(&self, failure: WorkerFailure) {
        *lock(&self.0.failure) = Some(failure);
        self.0.failed.store(true, Ordering::Release);
    }

    fn failed(&self) -> bool {
        self.0.failed.load(Ordering::Acquire)
    }
}

/// The running writer thread of one file.
#[derive(Debug)]
pub struct Worker {
    jobs: Option<SyncSender<Job>>,
    spare: Receiver<Vec<u8>>,
    health: WorkerHealth,
    thread: Option<JoinHandle<Option<StagedFile>>>,
}

impl Worker {
    /// Starts a thread writing to `file`; gives the file back when no
    /// thread can be started.
    pub fn start(file: StagedFile) -> Result<Worker, StagedFile> {
        let (jobs, queue) = mpsc::sync_channel(QUEUE_CHUNKS);
        let (recycle, spare) = mpsc::sync_channel(QUEUE_CHUNKS + 1);
        let health = WorkerHealth::default();
        let thread_health = health.clone();
        // The file reaches the thread through this slot, so that a failed
        // spawn (which drops the closure) can take it back: exactly one side
        // takes it, the thread when it runs, the caller when it never does.
        let slot = Arc::new(Mutex::new(Some(file)));
        let thread_slot = Arc::clone(&slot);
        let spawned = std::thread::Builder::new()
            .name("codetracer-writer".to_string())
            .spawn(move || {
                block_signals();
                let file = lock(&thread_slot).take();
                file.map(|file| run(file, &queue, &recycle, &thread_health))
            });
        let thread = match spawned {
            Ok(thread) => thread,
            Err(err) => {
                log::debug!("no writer thread ({err}): the events file is written inline");
                return lock(&slot).take().map_or_else(
                    || {
                        Ok(Worker {
                            jobs: None,
                            spare,
                            health,
                            thread: None,
                        })
                    },
                    Err,
                );
            }
        };
        Ok(Worker {
            jobs: Some(jobs),
            spare,
            health,
            thread: Some(thread),
        })
    }

    /// The handle on this thread's failure.
    pub fn health(&self) -> WorkerHealth {
        self.health.clone()
    }

    /// Queues a copy of `chunk` (waits while the queue is full). False when
    /// the thread has stopped.
    pub fn hand(&mut self, chunk: &[u8]) -> bool {
        let mut buf = self
            .spare
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(CHUNK_SIZE + 4096));
        buf.clear();
        buf.extend_from_slice(chunk);
        self.send(Job::Chunk(buf))
    }

    /// Waits until every chunk queued so far is written and the file's
    /// buffer is with the operating system. False when the thread has stopped.
    pub fn barrier(&mut self) -> bool {
        let (done, answer) = mpsc::sync_channel(1);
        self.send(Job::Flush(done)) && answer.recv().is_ok()
    }

    fn send(&mut self, job: Job) -> bool {
        self.jobs
            .as_ref()
            .is_some_and(|jobs| !self.health.failed() && jobs.send(job).is_ok())
    }

    /// Stops the thread once the queue is written (or at once, dropping the
    /// queue, when `discard`) and takes the file back: `None` when the thread
    /// itself was lost.
    pub fn stop(&mut self, discard: bool) -> Option<StagedFile> {
        if discard {
            self.health.0.discard.store(true, Ordering::Release);
        }
        self.jobs = None;
        self.thread.take()?.join().ok().flatten()
    }
}

impl Drop for Worker {
    /// A dropped worker's file is given up: queued chunks are not written.
    fn drop(&mut self) {
        let _ = self.stop(true);
    }
}

/// The thread's loop: each job in order, until the queue closes or a job fails.
fn run(
    mut file: StagedFile,
    queue: &Receiver<Job>,
    recycle: &SyncSender<Vec<u8>>,
    health: &WorkerHealth,
) -> StagedFile {
    while let Ok(job) = queue.recv() {
        if health.0.discard.load(Ordering::Acquire) {
            break;
        }
        let done = catch_unwind(AssertUnwindSafe(|| match job {
            Job::Chunk(buf) => {
                let written = write_chunk(&mut file, &buf);
                let _ = recycle.try_send(buf);
                written.map(|()| None)
            }
            Job::Flush(answer) => file.flush().op("flush").map(|()| Some(answer)),
        }));
        match done {
            Ok(Ok(answer)) => {
                if let Some(answer) = answer {
                    let _ = answer.send(());
                }
            }
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
    file
}

/// One chunk through the `recorder::writer` fail point and faultfs.
fn write_chunk(file: &mut StagedFile, chunk: &[u8]) -> Result<(), FileOpError> {
    failpoint().op("write")?;
    file.write_all(chunk).op("write")
}

/// Leaves every signal to the program's threads: the writer thread never
/// runs a handler, and its writes are not interrupted by one.
fn block_signals() {
    // SAFETY: `set` is a local sigset_t that sigfillset initialises before
    // pthread_sigmask reads it; both only touch this thread's signal mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut set);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
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

    fn writer_under(plan: &str) -> (MemoryFs, TraceWriter) {
        let memory = MemoryFs::new();
        let plan = FaultPlan::parse(plan).unwrap_or_else(|e| panic!("{e}"));
        let fs: Arc<dyn FileSystem> = Arc::new(FaultFs::new(memory.clone(), plan));
        let staged = StagedDir::create(fs, Path::new(TARGET)).unwrap_or_else(|e| panic!("{e}"));
        let writer = TraceWriter::create(staged, TraceFormat::Json, "/work/program.py")
            .unwrap_or_else(|e| panic!("{e}"));
        (memory, writer)
    }

    fn step(line: i64) -> TraceLowLevelEvent {
        TraceLowLevelEvent::Step(StepRecord {
            path_id: PathId(0),
            line: Line(line),
        })
    }

    fn staged_events_file(memory: &MemoryFs) -> PathBuf {
        let names = memory.read_dir(Path::new(TARGET)).unwrap_or_default();
        let staging = names
            .iter()
            .find(|name| name.starts_with(".codetracer-staging-"))
            .unwrap_or_else(|| panic!("no staging directory in {names:?}"));
        Path::new(TARGET).join(staging).join("trace.json")
    }

    #[test]
    fn after_flush_every_event_is_in_the_file() {
        let (memory, mut writer) = writer_under("");
        for line in 0..20_000 {
            writer.emit(&step(line)).unwrap_or_else(|e| panic!("{e}"));
        }
        writer.flush().unwrap_or_else(|e| panic!("{e}"));
        let bytes = memory
            .read(&staged_events_file(&memory))
            .unwrap_or_else(|e| panic!("{e}"));
        let text = String::from_utf8_lossy(&bytes);
        let events = text.lines().filter(|line| line.starts_with('{')).count();
        assert_eq!(events as u64, writer.event_count());
        assert!(
            text.trim_end().ends_with("{\"Step\":{\"path_id\":0,\"line\":19999}}"),
            "the last event before flush() is written last"
        );
    }

    #[test]
    fn a_failed_write_on_the_writer_thread_fails_a_later_event() {
        let (_memory, mut writer) = writer_under("fail=write#2:ENOSPC");
        let failed = (0..200_000).find_map(|line| writer.emit(&step(line)).err());
        let error = failed.unwrap_or_else(|| panic!("the failed write never surfaced"));
        assert_eq!(error.code(), ErrorCode::DiskFull, "{error}");
        assert!(error.to_string().contains("trace.json"), "{error}");
    }

    #[test]
    fn a_failed_write_before_flush_fails_the_flush() {
        let (_memory, mut writer) = writer_under("fail=write#1:EIO");
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
}
