//! `recover` on recordings whose process died: the staging directory a
//! killed writer left (bytes still in its buffers lost, files cut at any
//! byte) becomes a loadable, balanced trace marked partial with
//! `ERR_PROCESS_DIED`, holding every whole event that reached the file.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use codetracer_python_recorder::recover;
use codetracer_python_recorder::{TraceFormat, TraceWriter, METADATA_FILE, PATHS_FILE};
use faultfs::{FileSystem, PhysicalFs, StagedDir, PARTIAL_MARKER, STAGING_PREFIX};
use recorder_errors::ErrorCode;
use runtime_tracing::{
    create_trace_reader, CallRecord, FunctionId, Line, PathId, ReturnRecord, StepRecord, ThreadId,
    TraceEventsFileFormat, TraceLowLevelEvent, NONE_VALUE,
};
use serde_json::Value;

fn fs() -> Arc<dyn FileSystem> {
    Arc::new(PhysicalFs::new())
}

/// The pid of a process that has exited (and been reaped).
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().expect("spawn");
    let pid = child.id();
    child.wait().expect("wait");
    pid
}

/// Writes a recording of `rounds` rounds (two threads, nested calls) into
/// `target` and abandons it as SIGKILL would: nothing is flushed, closed or
/// removed. The staging directory is renamed to a dead process's name.
/// Returns the staging directory.
fn die_while_recording(target: &Path, format: TraceFormat, rounds: usize) -> PathBuf {
    die_after(target, format, rounds, false).0
}

/// Like [`die_while_recording`], calling the writer's `flush` last when
/// `flush`; also returns how many events were written.
fn die_after(target: &Path, format: TraceFormat, rounds: usize, flush: bool) -> (PathBuf, u64) {
    let staged = StagedDir::create(fs(), target).expect("stage");
    let staging = staged.staging().to_path_buf();
    let mut writer = TraceWriter::create(staged, format, "/work/program.py").expect("writer");
    writer
        .emit(&TraceLowLevelEvent::ThreadStart(ThreadId(1)))
        .expect("thread");
    writer.toplevel_call().expect("toplevel");
    let path = writer.ensure_path("/work/program.py").expect("path");
    let function = writer.ensure_function("work", path, 3).expect("function");
    for round in 0..rounds {
        let thread = if round % 7 == 3 { 2 } else { 1 };
        writer
            .emit(&TraceLowLevelEvent::ThreadSwitch(ThreadId(thread)))
            .expect("switch");
        writer.emit(&call(function)).expect("call");
        writer.emit(&step(path, round)).expect("step");
        if round % 3 != 0 {
            writer.emit(&ret()).expect("return");
        }
    }
    if flush {
        writer.flush().expect("flush");
    }
    let written = writer.event_count();
    std::mem::forget(writer);
    let dead = staging.with_file_name(format!("{STAGING_PREFIX}{}-7-0", dead_pid()));
    std::fs::rename(&staging, &dead).expect("rename to a dead owner");
    (dead, written)
}

fn call(function: FunctionId) -> TraceLowLevelEvent {
    TraceLowLevelEvent::Call(CallRecord {
        function_id: function,
        args: Vec::new(),
    })
}

/// A step at a scattered line, so the binary format does not compress it away.
fn step(path: PathId, round: usize) -> TraceLowLevelEvent {
    TraceLowLevelEvent::Step(StepRecord {
        path_id: path,
        line: Line(((round as i64).wrapping_mul(2_654_435_761)).rem_euclid(1_000_003)),
    })
}

fn ret() -> TraceLowLevelEvent {
    TraceLowLevelEvent::Return(ReturnRecord {
        return_value: NONE_VALUE,
    })
}

fn load(target: &Path, format: TraceFormat) -> Vec<TraceLowLevelEvent> {
    let kind = match format {
        TraceFormat::Json => TraceEventsFileFormat::Json,
        TraceFormat::Binary => TraceEventsFileFormat::Binary,
    };
    create_trace_reader(kind)
        .load_trace_events(&target.join(format.events_file()))
        .expect("runtime_tracing loads the recovered events")
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("read")).expect("whole JSON")
}

/// The recovered directory: exactly the partial trace, events loadable and
/// balanced, marker and metadata saying ERR_PROCESS_DIED; returns the events.
fn assert_recovered(target: &Path, format: TraceFormat) -> Vec<TraceLowLevelEvent> {
    let mut names: Vec<String> = std::fs::read_dir(target)
        .expect("list")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    let mut expected = vec![
        format.events_file().to_string(),
        METADATA_FILE.to_string(),
        PARTIAL_MARKER.to_string(),
        PATHS_FILE.to_string(),
    ];
    expected.sort();
    assert_eq!(
        names, expected,
        "exactly a partial trace, no staging directory"
    );
    let marker = json(&target.join(PARTIAL_MARKER));
    assert_eq!(marker["partial"], true);
    assert_eq!(marker["reason"], "ERR_PROCESS_DIED");
    let metadata = json(&target.join(METADATA_FILE));
    assert_eq!(metadata["recorder"]["partial"], true);
    assert_eq!(metadata["recorder"]["partial_reason"], "ERR_PROCESS_DIED");
    let events = load(target, format);
    support::assert_balanced(&events);
    let paths: Vec<String> = events
        .iter()
        .filter_map(|event| match event {
            TraceLowLevelEvent::Path(path) => Some(path.display().to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(json(&target.join(PATHS_FILE)), serde_json::json!(paths));
    events
}

/// Events as JSON text (runtime_tracing's events have no `PartialEq`).
fn texts(events: &[TraceLowLevelEvent]) -> Vec<String> {
    events
        .iter()
        .map(|event| serde_json::to_string(event).expect("serialise"))
        .collect()
}

/// The events of a recovered trace without the closing ones recover added.
fn without_closing(events: &[TraceLowLevelEvent], closing: usize) -> &[TraceLowLevelEvent] {
    &events[..events.len() - closing]
}

#[test]
fn a_killed_recording_is_recovered_in_both_formats() {
    for format in [TraceFormat::Json, TraceFormat::Binary] {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("trace");
        let staging = die_while_recording(&target, format, 40_000);
        let staged_bytes = std::fs::metadata(staging.join(format.events_file()))
            .expect("events file")
            .len();
        assert!(staged_bytes > 64 * 1024, "several chunks reached the file");
        let recovery = recover(fs(), &target).expect("recover");
        assert_eq!(recovery.staging, staging);
        assert!(recovery.leftovers.is_empty());
        assert!(recovery.events > 1000, "{recovery:?}");
        assert!(recovery.closing > 0, "open frames were closed");
        let events = assert_recovered(&target, format);
        assert_eq!(events.len(), recovery.events + recovery.closing);
        let metadata = json(&target.join(METADATA_FILE));
        assert_eq!(metadata["program"], "/work/program.py");
        assert_eq!(metadata["recorder"]["format"], format.as_str());
    }
}

#[test]
fn every_cut_of_the_events_file_recovers_a_prefix_of_the_events() {
    for format in [TraceFormat::Json, TraceFormat::Binary] {
        let dir = tempfile::tempdir().expect("tempdir");
        let whole_target = dir.path().join("whole");
        // Enough for several chunks to pass zstd's and the file's buffers.
        let rounds = match format {
            TraceFormat::Json => 15_000,
            TraceFormat::Binary => 80_000,
        };
        let staging = die_while_recording(&whole_target, format, rounds);
        let bytes = std::fs::read(staging.join(format.events_file())).expect("events");
        assert!(
            bytes.len() > 64 * 1024,
            "{format:?}: {} bytes reached the file",
            bytes.len()
        );
        let recovery = recover(fs(), &whole_target).expect("recover the whole file");
        let whole = load(&whole_target, format);
        let whole = without_closing(&whole, recovery.closing).to_vec();
        for cut in [
            0,
            5,
            8,
            9,
            100,
            bytes.len() / 3,
            bytes.len() / 2,
            bytes.len() - 1,
        ] {
            let target = dir.path().join(format!("cut{cut}"));
            let staging = die_while_recording(&target, format, 0);
            std::fs::write(staging.join(format.events_file()), &bytes[..cut]).expect("cut");
            let recovery = recover(fs(), &target).expect("recover a cut file");
            let events = assert_recovered(&target, format);
            let kept = without_closing(&events, recovery.closing);
            assert_eq!(kept.len(), recovery.events);
            assert_eq!(
                texts(kept),
                texts(&whole[..kept.len()]),
                "{format:?} cut at {cut}: a prefix"
            );
        }
    }
}

#[test]
fn every_event_written_before_a_flush_survives_the_kill() {
    for format in [TraceFormat::Json, TraceFormat::Binary] {
        for rounds in [0, 10, 5_000] {
            let dir = tempfile::tempdir().expect("tempdir");
            let target = dir.path().join("trace");
            let (_, written) = die_after(&target, format, rounds, true);
            let recovery = recover(fs(), &target).expect("recover");
            assert_eq!(
                recovery.events as u64, written,
                "{format:?}, {rounds} rounds: every event before flush()"
            );
            assert_recovered(&target, format);
        }
    }
}

#[test]
fn a_recording_that_died_while_committing_is_recovered_from_both_places() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("trace");
    let staging = die_while_recording(&target, TraceFormat::Json, 100);
    // The commit had renamed the events file and staged the metadata.
    std::fs::rename(staging.join("trace.json"), target.join("trace.json")).expect("place");
    std::fs::write(
        staging.join(METADATA_FILE),
        r#"{"workdir":"/work","program":"/work/program.py","args":["--x"],"recorder":{"partial":false,"partial_reason":null,"format":"json"}}"#,
    )
    .expect("metadata");
    recover(fs(), &target).expect("recover");
    assert_recovered(&target, TraceFormat::Json);
    let metadata = json(&target.join(METADATA_FILE));
    assert_eq!(
        metadata["workdir"], "/work",
        "the dead recording's own metadata is kept"
    );
    assert_eq!(metadata["args"], serde_json::json!(["--x"]));
}

#[test]
fn a_live_recording_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("trace");
    let staged = StagedDir::create(fs(), &target).expect("stage");
    let err = recover(fs(), &target).expect_err("this process is alive");
    assert_eq!(err.code(), ErrorCode::TraceDirConflict);
    assert!(err.message().contains("still running"), "{err}");
    assert_eq!(
        err.context_value("pid"),
        Some(std::process::id().to_string().as_str())
    );
    assert!(staged.staging().is_dir());
    drop(staged);
}

#[test]
fn nothing_to_recover_is_said_and_an_empty_dead_staging_directory_removed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = recover(fs(), dir.path()).expect_err("no staging directory");
    assert_eq!(err.code(), ErrorCode::TraceMissing);
    let dead = dir.path().join(format!("{STAGING_PREFIX}{}-0", dead_pid()));
    std::fs::create_dir(&dead).expect("dead staging");
    let err = recover(fs(), &dead).expect_err("no events");
    assert_eq!(err.code(), ErrorCode::TraceMissing);
    assert!(!dead.exists(), "the empty staging directory was removed");
    for n in 0..2 {
        std::fs::create_dir(
            dir.path()
                .join(format!("{STAGING_PREFIX}{}-{n}", dead_pid())),
        )
        .expect("dead staging");
    }
    let err = recover(fs(), dir.path()).expect_err("two to choose from");
    assert_eq!(err.code(), ErrorCode::TraceDirConflict);
}
