//! `recover`: turns the staging directory of a recording whose process died
//! (SIGKILL, `os._exit`, a power cut) into a loadable trace marked partial
//! with reason `ERR_PROCESS_DIED`.
//!
//! Every whole event the dead process wrote is kept (JSON up to the last
//! complete line, binary up to the last complete zstd block and CBOR event),
//! closed as the writer would have closed it at stop (open frames returned,
//! threads exited), and written through faultfs as a new staged output next
//! to the old one: `trace.json`/`trace.bin`, `trace_paths.json` rebuilt from
//! the events' `Path`s, `trace_metadata.json` (the dead recording's own when
//! it had written one, else what the events tell: the program, with an empty
//! `workdir` and `args`) saying `partial` with `ERR_PROCESS_DIED`, then the
//! `trace_partial.json` marker. Only once that output is placed is the dead
//! staging directory removed, so a recovery that fails changes nothing.
//! A staging directory whose process still runs is refused.

mod balance;
mod locate;
mod read;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use faultfs::{FileSystem, StagedDir};
use recorder_errors::prelude::*;
use runtime_tracing::TraceLowLevelEvent;
use serde_json::Value;

use crate::writer::{
    write_events, write_whole, ExactBytes, TraceFormat, TraceMetadataInfo, METADATA_FILE,
    PATHS_FILE,
};
use locate::DeadRecording;

/// What a recovery did.
#[derive(Debug, Clone)]
pub struct Recovery {
    /// The trace directory now holding the partial trace.
    pub target: PathBuf,
    /// The dead recording's staging directory (removed).
    pub staging: PathBuf,
    /// The process that died.
    pub pid: u32,
    /// The events format.
    pub format: TraceFormat,
    /// Whole events read from the dead recording.
    pub events: usize,
    /// Events added to close it (returns, thread exits).
    pub closing: usize,
    /// Files of the dead recording that could not be removed.
    pub leftovers: Vec<PathBuf>,
}

/// Recovers the dead recording at `path` (a trace directory holding one
/// staging directory, or the staging directory itself).
pub fn recover(fs: Arc<dyn FileSystem>, path: &Path) -> RecorderResult<Recovery> {
    let dead = locate::locate(fs.as_ref(), path)?;
    let Some((format, events_file)) = dead.events.clone() else {
        let leftovers = remove_dead(fs.as_ref(), &dead);
        let mut error = enverr!(
            ErrorCode::TraceMissing,
            "nothing to recover: the recording of process {} died before writing any event; its staging directory was removed",
            dead.owner.pid();
            "path" = dead.staging.display()
        );
        if !leftovers.is_empty() {
            error.set_context("leftovers", join(&leftovers));
        }
        return Err(error);
    };
    let bytes = fs.read(&events_file).io_context("read", &events_file)?;
    let mut events = match format {
        TraceFormat::Json => read::json_events(&bytes),
        TraceFormat::Binary => read::binary_events(&bytes),
    };
    let read = events.len();
    let closing = balance::closing_events(&events);
    let added = closing.len();
    events.extend(closing);

    let mut staged =
        StagedDir::create(Arc::clone(&fs), &dead.target).io_context("mkdir", &dead.target)?;
    write_events(&mut staged, format, &events)?;
    let paths = paths_of(&events);
    write_whole(&mut staged, PATHS_FILE, &to_json(&paths)?)?;
    let program = paths.first().cloned().unwrap_or_default();
    write_whole(
        &mut staged,
        METADATA_FILE,
        &metadata(fs.as_ref(), &dead, format, program)?,
    )?;
    let message = marker_message(fs.as_ref(), &dead, read, added);
    let reason = ErrorCode::ProcessDied.as_str();
    staged
        .keep_partial(reason, &message)
        .map_err(std::io::Error::from)
        .io_context("keep partial", &dead.target)?;
    let leftovers = remove_dead(fs.as_ref(), &dead);
    Ok(Recovery {
        target: dead.target,
        staging: dead.staging,
        pid: dead.owner.pid(),
        format,
        events: read,
        closing: added,
        leftovers,
    })
}

/// The source paths in `PathId` order: the events' `Path`s, as the writer interned them.
fn paths_of(events: &[TraceLowLevelEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|event| match event {
            TraceLowLevelEvent::Path(path) => Some(path.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect()
}

/// The metadata: the dead recording's own (when whole) or one built from the
/// events, saying partial with `ERR_PROCESS_DIED`.
fn metadata(
    fs: &dyn FileSystem,
    dead: &DeadRecording,
    format: TraceFormat,
    program: String,
) -> RecorderResult<Vec<u8>> {
    let reason = ErrorCode::ProcessDied.as_str();
    let own = dead
        .metadata
        .as_ref()
        .and_then(|path| fs.read(path).ok())
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
    if let Some(mut own) = own {
        if let Some(recorder) = own.get_mut("recorder").and_then(Value::as_object_mut) {
            recorder.insert("partial".into(), Value::Bool(true));
            recorder.insert("partial_reason".into(), Value::from(reason));
            return to_json(&own);
        }
    }
    let info = TraceMetadataInfo {
        workdir: PathBuf::new(),
        program,
        args: Vec::new(),
        python_version: String::new(),
        policy: Value::Null,
        partial_reason: Some(reason.to_string()),
        exact_bytes: ExactBytes::default(),
        // Unknown to a dead recording: its filters lived in the dead
        // process, and it never stopped.
        trace_filter: None,
        exit_status: None,
    };
    info.to_json(format, &BTreeMap::new())
        .map_err(|err| bug!(ErrorCode::Io, "cannot serialise the trace metadata: {err}"))
}

/// The partial marker's message.
fn marker_message(fs: &dyn FileSystem, dead: &DeadRecording, read: usize, added: usize) -> String {
    let mut message = format!(
        "the recording process {} died before finishing; recovered {read} whole events and closed them with {added} more",
        dead.owner.pid()
    );
    let earlier = dead
        .marker
        .as_ref()
        .and_then(|path| fs.read(path).ok())
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
    if let Some(reason) = earlier
        .as_ref()
        .and_then(|marker| marker["reason"].as_str())
    {
        message.push_str(&format!(" (it was keeping a partial trace after {reason})"));
    }
    message
}

/// Removes the dead staging directory and what is in it; returns what stays.
fn remove_dead(fs: &dyn FileSystem, dead: &DeadRecording) -> Vec<PathBuf> {
    let mut leftovers = Vec::new();
    for name in fs.read_dir(&dead.staging).unwrap_or_default() {
        let path = dead.staging.join(name);
        if let Err(err) = fs.remove_file(&path) {
            if err.raw_os_error() != Some(libc::ENOENT) {
                leftovers.push(path);
            }
        }
    }
    if let Err(err) = fs.remove_dir(&dead.staging) {
        if err.raw_os_error() != Some(libc::ENOENT) {
            leftovers.push(dead.staging.clone());
        }
    }
    leftovers
}

fn to_json<T: serde::Serialize>(value: &T) -> RecorderResult<Vec<u8>> {
    serde_json::to_vec(value).map_err(|err| bug!(ErrorCode::Io, "cannot serialise JSON: {err}"))
}

fn join(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|path| path.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
