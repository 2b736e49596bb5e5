//! IO events: the chunks the stream proxies and the mirror captured, written
//! as `runtime_tracing` events before the tracer's next event, each in the
//! thread that wrote it and attributed to that thread's current step.
//!
//! One chunk is one `Event` record: `kind` `Write` (stdout), `WriteOther`
//! (stderr) or `Read` (stdin); `content` the text (the bytes when they are
//! UTF-8, else their standard base64); `metadata` a JSON object:
//!
//! ```json
//! {"stream":"stdout","thread":4242,"path_id":1,"line":7}
//! {"stream":"stderr","thread":4242,"path_id":1,"line":9,"mirror":true,"encoding":"base64"}
//! ```
//!
//! `thread` is the native id of `ThreadStart`/`ThreadSwitch`; `path_id` and
//! `line` are the thread's step (`null` before its first one); `mirror` marks
//! bytes the descriptor mirror saw and no proxy did (their writer is unknown:
//! they go to the thread of the last event); `encoding` is present only for
//! base64 content.

use std::fmt::Write as _;
use std::sync::Arc;

use base64::Engine as _;
use recorder_errors::prelude::*;
use runtime_tracing::{EventLogKind, RecordEvent, TraceLowLevelEvent};

use super::threads::{StepSite, Threads};
use crate::stdio::{Chunk, Hub, Origin, Stream};
use crate::writer::TraceWriter;

/// Drains captured IO into the trace.
#[derive(Debug)]
pub struct IoCoordinator {
    hub: Arc<Hub>,
    /// The hub records (set once the recording is active).
    live: bool,
}

impl IoCoordinator {
    /// A coordinator with a fresh hub, recording at once when `active`.
    pub fn new(active: bool) -> IoCoordinator {
        IoCoordinator {
            hub: Hub::new(active),
            live: active,
        }
    }

    /// The hub the proxies and the mirror record into.
    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    /// The recording became active: IO from now on is recorded.
    pub fn go_live(&mut self) {
        if !self.live {
            self.live = true;
            self.hub.start_recording();
        }
    }

    /// Writes every captured chunk as an IO event, in order, each in its own
    /// thread; a failure of the proxies or the mirror comes back as the error.
    pub fn drain(&mut self, threads: &mut Threads, writer: &mut TraceWriter) -> RecorderResult<()> {
        for chunk in self.hub.take()? {
            let thread = match chunk.thread {
                Some(id) => threads.enter_id(id, writer)?,
                None => threads.current(),
            };
            let (thread, step) = (thread.id, thread.step);
            writer.emit(&TraceLowLevelEvent::Event(io_event(chunk, thread, step)))?;
        }
        Ok(())
    }
}

/// The `Event` record of one chunk (see the module docs); text takes the
/// chunk's bytes over without copying them.
fn io_event(chunk: Chunk, thread: u64, step: Option<StepSite>) -> RecordEvent {
    let kind = match chunk.stream {
        Stream::Stdout => EventLogKind::Write,
        Stream::Stderr => EventLogKind::WriteOther,
        Stream::Stdin => EventLogKind::Read,
    };
    let (content, base64) = match String::from_utf8(chunk.bytes) {
        Ok(text) => (text, false),
        Err(error) => (
            base64::engine::general_purpose::STANDARD.encode(error.as_bytes()),
            true,
        ),
    };
    let mut metadata = format!(
        "{{\"stream\":\"{}\",\"thread\":{thread}",
        chunk.stream.name()
    );
    match step {
        Some((path_id, line)) => {
            let _ = write!(metadata, ",\"path_id\":{},\"line\":{}", path_id.0, line.0);
        }
        None => metadata.push_str(",\"path_id\":null,\"line\":null"),
    }
    if chunk.origin == Origin::Mirror {
        metadata.push_str(",\"mirror\":true");
    }
    if base64 {
        metadata.push_str(",\"encoding\":\"base64\"");
    }
    metadata.push('}');
    RecordEvent {
        kind,
        metadata,
        content,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use runtime_tracing::{Line, PathId};

    fn chunk(stream: Stream, origin: Origin, bytes: &[u8]) -> Chunk {
        Chunk {
            stream,
            thread: Some(7),
            origin,
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn text_stays_text_and_other_bytes_become_base64_with_the_encoding_said() {
        let event = io_event(
            chunk(Stream::Stdout, Origin::Proxy, "héllo\n".as_bytes()),
            7,
            Some((PathId(1), Line(3))),
        );
        assert!(matches!(event.kind, EventLogKind::Write));
        assert_eq!(event.content, "héllo\n");
        assert_eq!(
            event.metadata,
            r#"{"stream":"stdout","thread":7,"path_id":1,"line":3}"#
        );
        let event = io_event(chunk(Stream::Stderr, Origin::Mirror, b"\xff\x00A"), 7, None);
        assert!(matches!(event.kind, EventLogKind::WriteOther));
        assert_eq!(event.content, "/wBB");
        assert_eq!(
            event.metadata,
            r#"{"stream":"stderr","thread":7,"path_id":null,"line":null,"mirror":true,"encoding":"base64"}"#
        );
        let event = io_event(chunk(Stream::Stdin, Origin::Proxy, b"in\n"), 7, None);
        assert!(matches!(event.kind, EventLogKind::Read));
    }
}
