//! Loading trace events: complete files with `runtime_tracing`'s own reader,
//! partial JSON files event by event (one event per line, docs/design.md).

use std::path::Path;

use runtime_tracing::{create_trace_reader, TraceEventsFileFormat, TraceLowLevelEvent};

/// Loads a complete events file with `runtime_tracing::create_trace_reader`.
pub fn load_complete(path: &Path, binary: bool) -> Result<Vec<TraceLowLevelEvent>, String> {
    let format = if binary {
        TraceEventsFileFormat::Binary
    } else {
        TraceEventsFileFormat::Json
    };
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    create_trace_reader(format)
        .load_trace_events(path)
        .map_err(|error| format!("{name} does not load with runtime_tracing's reader: {error}"))
}

/// Reads a possibly truncated JSON events file up to its last complete event.
pub fn load_partial_json(path: &Path) -> Result<Vec<TraceLowLevelEvent>, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("{} unreadable: {e}", path.display()))?;
    let mut events = Vec::new();
    for line in text.lines() {
        let item = line.trim().trim_end_matches(',').trim();
        if item.is_empty() || item == "[" || item == "]" {
            continue;
        }
        match serde_json::from_str::<TraceLowLevelEvent>(item) {
            Ok(event) => events.push(event),
            Err(_) => break,
        }
    }
    Ok(events)
}
