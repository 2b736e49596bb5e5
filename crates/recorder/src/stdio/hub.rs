//! The hub between the stream proxies (and the descriptor mirror), which
//! record what the program wrote and read, and the tracer, which drains it
//! into IO events before it writes any other event.
//!
//! Consecutive writes of one thread to one stream are batched into one
//! [`Chunk`] until a write ends with a newline, the stream is flushed, the
//! batch grows past [`MERGE_LIMIT`], [`GAP`] passes between two writes, or
//! anything else is recorded (another thread, stream or origin, or the
//! tracer draining before its next event). Reads are never batched.
//!
//! The hub never calls Python and never blocks on anything but its own short
//! lock, so the proxies can use it from any thread holding the GIL and the
//! mirror from its own thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use recorder_errors::RecorderError;

use super::mirror::Mirror;
use super::owner::Owner;

/// One of the program's standard streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// `sys.stdout`, descriptor 1.
    Stdout,
    /// `sys.stderr`, descriptor 2.
    Stderr,
    /// `sys.stdin`.
    Stdin,
}

impl Stream {
    /// The name in IO event metadata and in `sys`.
    pub fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
            Stream::Stdin => "stdin",
        }
    }
}

/// Where captured bytes came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A stream proxy: the program wrote or read them through `sys.std*`.
    Proxy,
    /// The descriptor mirror: they reached the descriptor without passing a proxy.
    Mirror,
}

/// What one thread wrote to (or read from) one stream with no other
/// recorded event in between.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The stream.
    pub stream: Stream,
    /// Native id of the thread that wrote or read the bytes; `None` for
    /// mirrored bytes, whose writer is unknown (the tracer attributes them to
    /// the thread of the last event).
    pub thread: Option<u64>,
    /// Proxy or mirror.
    pub origin: Origin,
    /// The bytes: a `str` as UTF-8 (see `bytes::str_bytes`), binary data as given.
    pub bytes: Vec<u8>,
}

/// Longest pause between two writes that still join one chunk (long enough
/// that a busy machine does not split the writes of one `print`).
pub const GAP: Duration = Duration::from_millis(100);
/// Size past which a chunk takes no more writes.
pub const MERGE_LIMIT: usize = 8 * 1024;

#[derive(Debug, Default)]
struct Batches {
    chunks: Vec<Chunk>,
    /// The last chunk may still take writes.
    open: bool,
    last_write: Option<Instant>,
    /// The first failure of a proxy or the mirror, for the tracer to surface.
    failure: Option<RecorderError>,
}

/// Captured IO waiting for the tracer.
#[derive(Debug, Default)]
pub struct Hub {
    /// Record what arrives (off before activation and after teardown).
    recording: AtomicBool,
    /// Torn down: recording never comes back on.
    closed: AtomicBool,
    /// Something is waiting in `batches` (a chunk or a failure).
    pending: AtomicBool,
    batches: Mutex<Batches>,
    /// The descriptor mirror, asked to catch up before every drain.
    mirror: OnceLock<Arc<Mirror>>,
    /// The process recording into this hub (a fork child never does).
    owner: Owner,
}

impl Hub {
    /// An empty hub; `recording` says whether it records from the start.
    pub fn new(recording: bool) -> Arc<Hub> {
        let hub = Hub::default();
        hub.recording.store(recording, Ordering::Relaxed);
        Arc::new(hub)
    }

    /// Whether arriving IO is recorded (never in a fork child).
    pub fn is_recording(&self) -> bool {
        self.recording.load(Ordering::Acquire) && self.owner.is_here()
    }

    /// Starts recording (once the recording is active); a no-op after [`Hub::close`].
    pub fn start_recording(&self) {
        if !self.closed.load(Ordering::Acquire) {
            self.recording.store(true, Ordering::Release);
        }
    }

    /// Stops recording for good: later IO is forwarded by whoever holds an
    /// old proxy, and never recorded. What is waiting can still be drained.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.recording.store(false, Ordering::Release);
    }

    /// Connects the descriptor mirror, which [`Hub::take`] asks to catch up first.
    pub fn attach_mirror(&self, mirror: Arc<Mirror>) {
        let _ = self.mirror.set(mirror);
    }

    /// Records `bytes` written (or read, for stdin) by `thread` on `stream`.
    pub fn record(&self, stream: Stream, origin: Origin, thread: Option<u64>, bytes: &[u8]) {
        if bytes.is_empty() || !self.is_recording() {
            return;
        }
        let now = Instant::now();
        let mut batches = self.lock();
        let recent = batches
            .last_write
            .is_some_and(|last| now.saturating_duration_since(last) <= GAP);
        let open = batches.open && recent;
        batches.last_write = Some(now);
        let joined = match batches.chunks.last_mut() {
            Some(last)
                if open
                    && last.stream == stream
                    && last.thread == thread
                    && last.origin == origin
                    && last.bytes.len() < MERGE_LIMIT =>
            {
                last.bytes.extend_from_slice(bytes);
                true
            }
            _ => false,
        };
        if !joined {
            batches.chunks.push(Chunk {
                stream,
                thread,
                origin,
                bytes: bytes.to_vec(),
            });
        }
        batches.open = stream != Stream::Stdin && !bytes.ends_with(b"\n");
        // Set under the lock: a `take` that finds it false finds no chunk either.
        self.pending.store(true, Ordering::Release);
    }

    /// `thread` flushed `stream`: its open chunk takes no more writes.
    pub fn flushed(&self, stream: Stream, thread: u64) {
        if !self.is_recording() {
            return;
        }
        let mut batches = self.lock();
        let matches = batches
            .chunks
            .last()
            .is_some_and(|last| last.stream == stream && last.thread == Some(thread));
        if matches {
            batches.open = false;
        }
    }

    /// Keeps the first failure of a proxy or the mirror for the tracer to surface.
    pub fn fail(&self, error: RecorderError) {
        if !self.owner.is_here() {
            return;
        }
        let mut batches = self.lock();
        if batches.failure.is_none() {
            batches.failure = Some(error);
        }
        self.pending.store(true, Ordering::Release);
    }

    /// Everything recorded so far, in order (after the mirror caught up), or
    /// the first failure (once). Cheap when nothing is waiting.
    pub fn take(&self) -> Result<Vec<Chunk>, RecorderError> {
        if let Some(mirror) = self.mirror.get() {
            mirror.catch_up();
        }
        // A plain load first: this runs before every trace event.
        if !self.pending.load(Ordering::Acquire) || !self.pending.swap(false, Ordering::AcqRel) {
            return Ok(Vec::new());
        }
        let mut batches = self.lock();
        batches.open = false;
        if let Some(error) = batches.failure.take() {
            return Err(error);
        }
        Ok(std::mem::take(&mut batches.chunks))
    }

    fn lock(&self) -> MutexGuard<'_, Batches> {
        // The critical sections only move bytes; a poisoned lock still holds
        // consistent chunks.
        self.batches
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(chunks: &[Chunk]) -> Vec<(Stream, Option<u64>, String)> {
        chunks
            .iter()
            .map(|c| {
                (
                    c.stream,
                    c.thread,
                    String::from_utf8_lossy(&c.bytes).into_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn writes_join_until_a_newline_a_flush_or_another_thread_or_stream() {
        let hub = Hub::new(true);
        let out = |thread, text: &str| {
            hub.record(Stream::Stdout, Origin::Proxy, Some(thread), text.as_bytes())
        };
        out(1, "a");
        out(1, "b");
        out(1, "\n");
        out(1, "c");
        hub.flushed(Stream::Stdout, 1);
        out(1, "d");
        out(2, "e");
        hub.record(Stream::Stderr, Origin::Proxy, Some(2), b"f");
        hub.record(Stream::Stderr, Origin::Mirror, None, b"g");
        let chunks = hub.take().unwrap_or_default();
        assert_eq!(
            texts(&chunks),
            [
                (Stream::Stdout, Some(1), "ab\n".to_string()),
                (Stream::Stdout, Some(1), "c".to_string()),
                (Stream::Stdout, Some(1), "d".to_string()),
                (Stream::Stdout, Some(2), "e".to_string()),
                (Stream::Stderr, Some(2), "f".to_string()),
                (Stream::Stderr, None, "g".to_string()),
            ]
        );
        assert!(hub.take().unwrap_or_default().is_empty());
    }

    #[test]
    fn a_drain_closes_the_open_chunk_and_reads_are_never_joined() {
        let hub = Hub::new(true);
        hub.record(Stream::Stdout, Origin::Proxy, Some(1), b"x");
        assert_eq!(hub.take().ok().map(|c| c.len()), Some(1));
        hub.record(Stream::Stdout, Origin::Proxy, Some(1), b"y");
        hub.record(Stream::Stdin, Origin::Proxy, Some(1), b"in");
        hub.record(Stream::Stdin, Origin::Proxy, Some(1), b"put");
        let chunks = hub.take().unwrap_or_default();
        assert_eq!(chunks.len(), 3);
    }

    #[test]
    fn nothing_is_recorded_before_start_or_after_close_and_a_failure_is_taken_once() {
        let hub = Hub::new(false);
        hub.record(Stream::Stdout, Origin::Proxy, Some(1), b"early");
        hub.start_recording();
        hub.record(Stream::Stdout, Origin::Proxy, Some(1), b"kept");
        hub.close();
        hub.start_recording();
        hub.record(Stream::Stdout, Origin::Proxy, Some(1), b"late");
        assert_eq!(texts(&hub.take().unwrap_or_default()).len(), 1);
        hub.fail(RecorderError::from_code(
            recorder_errors::ErrorCode::Panic,
            "boom",
        ));
        assert!(hub.take().is_err());
        assert_eq!(hub.take().ok().map(|c| c.len()), Some(0));
    }
}
