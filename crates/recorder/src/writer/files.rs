//! Whole files written into a staged directory in one go: a small side file
//! (`trace_paths.json`, `trace_metadata.json`), or an events file from a
//! list of events (what `recover` writes). Both are finished (flushed and
//! fsynced) before they return.

use faultfs::StagedDir;
use recorder_errors::prelude::*;
use runtime_tracing::TraceLowLevelEvent;

use super::chunk::ChunkOut;
use super::sink::{EventSink, TraceFormat};

/// Writes `bytes` as the staged file `name`.
pub fn write_whole(staged: &mut StagedDir, name: &str, bytes: &[u8]) -> RecorderResult<()> {
    let target = staged.target().join(name);
    let file = staged.create_file(name).io_context("create", &target)?;
    let mut out = ChunkOut::new(file);
    let path = out.path().to_path_buf();
    out.hand(bytes).map_err(|err| err.at(&path))?;
    out.finish().map_err(|err| err.at(&path))
}

/// Writes `events` as the staged events file of `format`, closed as at stop.
pub fn write_events(
    staged: &mut StagedDir,
    format: TraceFormat,
    events: &[TraceLowLevelEvent],
) -> RecorderResult<()> {
    let name = format.events_file();
    let target = staged.target().join(name);
    let file = staged.create_file(name).io_context("create", &target)?;
    let path = file.path().to_path_buf();
    let mut sink = EventSink::new(format, file, false).map_err(|err| err.at(&path))?;
    for event in events {
        sink.write(event).map_err(|err| err.at(&path))?;
    }
    sink.finish().map_err(|err| err.at(&path))
}
