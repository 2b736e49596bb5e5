//! Settling a trace whose finish failed, on faultfs's in-memory filesystem
//! with a fault plan: a kept partial trace never carries a side file that is
//! half-written or claims completeness.

use std::path::Path;
use std::sync::Arc;

use codetracer_python_recorder::{
    TraceFormat, TraceMetadataInfo, TraceWriter, METADATA_FILE, PATHS_FILE,
};
use faultfs::{FaultFs, FaultPlan, FileSystem, MemoryFs, StagedDir, PARTIAL_MARKER};
use recorder_errors::ErrorCode;
use serde_json::Value;

const TARGET: &str = "/out/trace";

fn info() -> TraceMetadataInfo {
    TraceMetadataInfo {
        workdir: "/work".into(),
        program: "/work/program.py".to_string(),
        args: vec!["--flag".to_string()],
        python_version: "3.12.1".to_string(),
        policy: serde_json::json!({"keep_partial_trace": true}),
        partial_reason: None,
        ..TraceMetadataInfo::default()
    }
}

/// Records a tiny trace through `plan` and finishes it: (memory, commit result,
/// settle result when the commit failed).
fn finish_under(plan: &str, keep_partial: bool) -> (MemoryFs, Option<ErrorCode>, Option<String>) {
    finish_format_under(TraceFormat::Json, plan, keep_partial)
}

fn finish_format_under(
    format: TraceFormat,
    plan: &str,
    keep_partial: bool,
) -> (MemoryFs, Option<ErrorCode>, Option<String>) {
    let memory = MemoryFs::new();
    let plan = FaultPlan::parse(plan).expect("plan");
    let fs: Arc<dyn FileSystem> = Arc::new(FaultFs::new(memory.clone(), plan));
    let staged = StagedDir::create(fs, Path::new(TARGET)).expect("staged dir");
    let mut writer = TraceWriter::create(staged, format, "/work/program.py").expect("writer");
    writer.toplevel_call().expect("call");
    let info = info();
    let Err(error) = writer.commit(&info) else {
        return (memory, None, None);
    };
    let settlement = writer.settle_failed(&error, keep_partial, &info);
    (
        memory,
        Some(error.code()),
        settlement.error.map(|e| e.to_string()),
    )
}

fn names(memory: &MemoryFs) -> Vec<String> {
    memory.read_dir(Path::new(TARGET)).unwrap_or_default()
}

fn json(memory: &MemoryFs, name: &str) -> Value {
    let bytes = memory
        .read(&Path::new(TARGET).join(name))
        .expect("file present");
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{name} is half-written ({e}): {bytes:?}"))
}

/// The partial trace's invariants: marker first-class, side files whole,
/// metadata (when present) says partial with the marker's reason.
fn assert_valid_partial(memory: &MemoryFs, plan: &str, reason: &str) {
    let names = names(memory);
    assert!(
        names.iter().any(|n| n == PARTIAL_MARKER),
        "{plan}: {names:?}"
    );
    assert!(
        !names.iter().any(|n| n.starts_with(faultfs::STAGING_PREFIX)),
        "{plan}: staging left behind: {names:?}"
    );
    let marker = json(memory, PARTIAL_MARKER);
    assert_eq!(marker["partial"], true, "{plan}");
    assert_eq!(marker["reason"], reason, "{plan}");
    if names.iter().any(|n| n == PATHS_FILE) {
        assert_eq!(
            json(memory, PATHS_FILE),
            serde_json::json!(["/work/program.py"]),
            "{plan}"
        );
    }
    if names.iter().any(|n| n == METADATA_FILE) {
        let metadata = json(memory, METADATA_FILE);
        assert_eq!(metadata["recorder"]["partial"], true, "{plan}: {metadata}");
        assert_eq!(metadata["recorder"]["partial_reason"], reason, "{plan}");
        assert_eq!(metadata["program"], "/work/program.py", "{plan}");
    }
}

// Operation order of a small JSON trace on MemoryFs: events file (1 write,
// flush, fsync), then trace_paths.json (write #2, flush #2, fsync #2), then
// trace_metadata.json (write #3, flush #3, fsync #3), then the renames.

#[test]
fn a_metadata_write_that_fails_once_is_rewritten_saying_partial() {
    for plan in [
        "fail=write#3:ENOSPC",
        "fail=flush#3:ENOSPC",
        "fail=fsync#3:ENOSPC",
    ] {
        let (memory, code, settle_error) = finish_under(plan, true);
        assert_eq!(code, Some(ErrorCode::DiskFull), "{plan}");
        assert_eq!(settle_error, None, "{plan}");
        assert_valid_partial(&memory, plan, "ERR_DISK_FULL");
        assert!(
            names(&memory).iter().any(|n| n == METADATA_FILE),
            "{plan}: the transient fault passed, so the metadata was written again"
        );
    }
}

#[test]
fn metadata_that_cannot_be_written_at_all_is_left_out_of_the_partial_trace() {
    for plan in [
        "deny=write:**/trace_metadata.json",
        "deny=create:**/trace_metadata.json",
    ] {
        let (memory, code, settle_error) = finish_under(plan, true);
        assert_eq!(code, Some(ErrorCode::PermissionDenied), "{plan}");
        assert_eq!(settle_error, None, "{plan}");
        assert_valid_partial(&memory, plan, "ERR_PERMISSION_DENIED");
        assert!(
            !names(&memory).iter().any(|n| n == METADATA_FILE),
            "{plan}: {:?}",
            names(&memory)
        );
    }
}

#[test]
fn a_half_written_paths_file_is_rewritten_or_left_out() {
    for (plan, kept) in [
        ("fail=write#2:ENOSPC", true),
        ("fail=fsync#2:ENOSPC", true),
        ("deny=write:**/trace_paths.json", false),
    ] {
        let (memory, code, _) = finish_under(plan, true);
        assert!(code.is_some(), "{plan}");
        let reason = code.map(ErrorCode::as_str).unwrap_or_default();
        assert_valid_partial(&memory, plan, reason);
        assert_eq!(
            names(&memory).iter().any(|n| n == PATHS_FILE),
            kept,
            "{plan}: {:?}",
            names(&memory)
        );
    }
}

#[test]
fn without_keep_partial_a_failed_finish_leaves_nothing() {
    for plan in ["fail=write#3:ENOSPC", "deny=write:**/trace_paths.json"] {
        let (memory, code, settle_error) = finish_under(plan, false);
        assert!(code.is_some(), "{plan}");
        assert_eq!(settle_error, None, "{plan}");
        assert_eq!(
            memory.entry_kind(Path::new(TARGET)).expect("lstat"),
            None,
            "{plan}"
        );
    }
}

#[test]
fn a_commit_that_rolled_back_reports_that_nothing_was_kept() {
    let (memory, code, settle_error) = finish_under("deny=rename:**/trace_metadata.json", true);
    assert_eq!(code, Some(ErrorCode::PermissionDenied));
    let why = settle_error.expect("keeping a partial trace is impossible after the rollback");
    assert!(why.contains("nothing is kept"), "{why}");
    assert_eq!(memory.entry_kind(Path::new(TARGET)).expect("lstat"), None);
}

#[test]
fn a_clean_finish_commits_metadata_saying_complete() {
    let (memory, code, _) = finish_under("", true);
    assert_eq!(code, None);
    let names = names(&memory);
    assert_eq!(names, ["trace.json", METADATA_FILE, PATHS_FILE]);
    assert_eq!(json(&memory, METADATA_FILE)["recorder"]["partial"], false);
}

#[test]
fn a_binary_stream_that_broke_is_left_out_of_the_partial_trace() {
    // Write #1 is the header; #2 the first compressed bytes, handed at finish.
    let (memory, code, settle_error) =
        finish_format_under(TraceFormat::Binary, "fail=write#2:ENOSPC", true);
    assert_eq!(code, Some(ErrorCode::DiskFull));
    assert_eq!(settle_error, None);
    assert_valid_partial(&memory, "binary", "ERR_DISK_FULL");
    let names = names(&memory);
    assert!(!names.iter().any(|n| n == "trace.bin"), "{names:?}");
    assert!(names.iter().any(|n| n == METADATA_FILE), "{names:?}");
}

#[test]
fn a_binary_stream_closed_before_the_failure_stays_loadable_in_the_partial_trace() {
    let (memory, code, _) =
        finish_format_under(TraceFormat::Binary, "deny=write:**/trace_paths.json", true);
    assert_eq!(code, Some(ErrorCode::PermissionDenied));
    assert_valid_partial(&memory, "binary", "ERR_PERMISSION_DENIED");
    let bytes = memory
        .read(&Path::new(TARGET).join("trace.bin"))
        .expect("trace.bin kept");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("trace.bin");
    std::fs::write(&file, bytes).expect("copy");
    let mut reader =
        runtime_tracing::create_trace_reader(runtime_tracing::TraceEventsFileFormat::Binary);
    let events = reader.load_trace_events(&file).expect("loads");
    assert!(!events.is_empty());
}

#[test]
fn a_failed_file_operation_is_reported_under_its_own_name() {
    // Events file: write #1, flush #1, fsync #1; paths: write #2, flush #2, fsync #2.
    for (plan, operation, file) in [
        ("fail=fsync#1:EIO", "fsync", "trace.json"),
        ("fail=flush#1:EIO", "flush", "trace.json"),
        ("fail=write#1:EIO", "write", "trace.json"),
        ("fail=fsync#2:EIO", "fsync", PATHS_FILE),
        ("fail=flush#2:EIO", "flush", PATHS_FILE),
    ] {
        let memory = MemoryFs::new();
        let plan_ = FaultPlan::parse(plan).expect("plan");
        let fs: Arc<dyn FileSystem> = Arc::new(FaultFs::new(memory, plan_));
        let staged = StagedDir::create(fs, Path::new(TARGET)).expect("staged dir");
        let mut writer =
            TraceWriter::create(staged, TraceFormat::Json, "/work/program.py").expect("writer");
        writer.toplevel_call().expect("call");
        let error = writer.commit(&info()).expect_err(plan);
        assert_eq!(
            error.context_value("operation"),
            Some(operation),
            "{plan}: {error}"
        );
        assert!(
            error.message().starts_with(&format!("{operation} ")),
            "{plan}: {error}"
        );
        assert!(
            error
                .context_value("path")
                .is_some_and(|path| path.ends_with(file)),
            "{plan}: {error}"
        );
    }
}
