//! Fail fast and the failure policy, driven by the `recorder::*` fail points
//! and faultfs plans (built with `--features failure-fixtures`).

#![cfg(feature = "failure-fixtures")]

mod support;

use std::fs;
use std::path::Path;

use codetracer_python_recorder::{self as recorder, OnRecorderError, PolicyUpdate};
use pyo3::prelude::*;
use recorder_errors::ErrorCode;
use support::{assert_balanced, load, run};

/// Enough work to fill several 64 KiB chunks.
const BUSY: &str = "def f(i):\n    return [i] * 5\nfor i in range(3000):\n    f(i)\n";

fn set_policy(on_error: OnRecorderError, keep_partial: bool) {
    let update = PolicyUpdate {
        on_recorder_error: Some(on_error),
        keep_partial_trace: Some(keep_partial),
        ..PolicyUpdate::default()
    };
    recorder::configure_policy(&update, &[]);
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

#[test]
fn a_callback_error_detaches_at_once_and_is_raised_once_from_stop() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("trace");
    fail::cfg("recorder::callback", "5*off->return").expect("fail point");
    Python::attach(|py| {
        recorder::start(py, dir.to_str().expect("path"), "json", None).expect("start");
        // The program goes on and its own error handling is undisturbed.
        run(py, "def f(x):\n    return x\ntry:\n    for i in range(100): f(i)\nexcept Exception as e:\n    print(e)\nresult = 1\n");
        assert!(
            !recorder::is_tracing(py),
            "detached inside the failing callback"
        );
        let error = recorder::stop(py).expect_err("the pending failure");
        assert_eq!(error.code(), ErrorCode::Unknown);
        assert_eq!(error.context_value("output"), Some("absent"));
        recorder::stop(py).expect("a second stop is a no-op");
    });
    assert!(!dir.exists(), "no trace left behind: {:?}", entries(&dir));
    fail::remove("recorder::callback");
    // A new recording works after the failure.
    let dir = support::record(root.path(), "json", "def g():\n    return 2\ng()\n");
    assert_balanced(&load(&dir, "json"));
}

#[test]
fn a_panic_in_a_callback_poisons_nothing_for_the_next_session() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("trace");
    fail::cfg("recorder::callback", "3*off->panic").expect("fail point");
    Python::attach(|py| {
        recorder::start(py, dir.to_str().expect("path"), "json", None).expect("start");
        run(py, "def f(x):\n    return x\nfor i in range(10): f(i)\n");
        assert!(!recorder::is_tracing(py));
        let error = recorder::flush(py).expect_err("pending panic raised from flush");
        assert_eq!(error.code(), ErrorCode::Panic);
        recorder::flush(py).expect("raised once");
    });
    assert!(!dir.exists());
    fail::remove("recorder::callback");
    let dir = support::record(root.path(), "json", "x = 1\n");
    assert_balanced(&load(&dir, "json"));
}

#[test]
fn a_write_error_keeps_a_loadable_partial_trace_when_asked() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("trace");
    set_policy(OnRecorderError::Abort, true);
    fail::cfg("recorder::writer", "2*off->1*return(ENOSPC)").expect("fail point");
    Python::attach(|py| {
        recorder::start(py, dir.to_str().expect("path"), "json", None).expect("start");
        run(py, BUSY);
        let error = recorder::stop(py).expect_err("disk full");
        assert_eq!(error.code(), ErrorCode::DiskFull);
        assert_eq!(error.context_value("output"), Some("partial"));
    });
    fail::remove("recorder::writer");
    assert_eq!(
        entries(&dir),
        [
            "trace.json",
            "trace_metadata.json",
            "trace_partial.json",
            "trace_paths.json"
        ]
    );
    let marker: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("trace_partial.json")).expect("marker"))
            .expect("json");
    assert_eq!(marker["reason"], "ERR_DISK_FULL");
    let metadata: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("trace_metadata.json")).expect("metadata"))
            .expect("json");
    assert_eq!(metadata["recorder"]["partial"], true);
    assert_eq!(metadata["recorder"]["partial_reason"], "ERR_DISK_FULL");
    // The chunk that failed is lost, the array is closed: the file still loads.
    // (The fault was transient, so the side files could still be written.)
    let events = load(&dir, "json");
    assert!(!events.is_empty());
}

#[test]
fn under_disable_a_failure_is_a_warning_and_the_program_runs_on() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("trace");
    set_policy(OnRecorderError::Disable, false);
    fail::cfg("recorder::writer", "1*off->return(EIO)").expect("fail point");
    Python::attach(|py| {
        recorder::start(py, dir.to_str().expect("path"), "json", None).expect("start");
        run(py, BUSY);
        assert!(!recorder::is_tracing(py));
        recorder::stop(py).expect("no error under disable");
    });
    fail::remove("recorder::writer");
    assert!(!dir.exists());
}

/// Starts recording into `<tmp>/trace` under `plan` (this test process's
/// faultfs plan); the start must fail with `ERR_TRACE_DIR_CREATE_FAILED`
/// carrying the precise cause and errno, and leave nothing behind.
fn assert_dir_create_failed(plan: &str, cause: &str, errno: i32) {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("trace");
    std::env::set_var("CODETRACER_FAULTFS_PLAN", plan);
    set_policy(OnRecorderError::Abort, false);
    Python::attach(|py| {
        let error =
            recorder::start(py, dir.to_str().expect("path"), "json", None).expect_err("refused");
        assert_eq!(error.code(), ErrorCode::TraceDirCreateFailed, "{error}");
        assert_eq!(error.kind().exit_code(), 10);
        assert_eq!(error.context_value("cause"), Some(cause), "{error}");
        assert_eq!(
            error.context_value("errno"),
            Some(errno.to_string().as_str()),
            "{error}"
        );
        assert!(!recorder::is_tracing(py));
        recorder::stop(py).expect("nothing to stop");
    });
    assert!(!dir.exists());
}

#[test]
fn a_directory_that_cannot_be_created_writes_nothing() {
    assert_dir_create_failed("deny=mkdir:**/trace", "ERR_PERMISSION_DENIED", libc::EACCES);
}

#[test]
fn a_full_disk_when_creating_the_directory_is_a_directory_creation_failure() {
    assert_dir_create_failed("fail=mkdir#1:ENOSPC", "ERR_DISK_FULL", libc::ENOSPC);
}

#[test]
fn a_staging_directory_that_cannot_be_created_is_a_directory_creation_failure() {
    assert_dir_create_failed("fail=mkdir#2:EROFS", "ERR_PERMISSION_DENIED", libc::EROFS);
}

#[test]
fn a_failing_finish_settles_the_output_as_absent() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("trace");
    fail::cfg("recorder::finish", "panic").expect("fail point");
    Python::attach(|py| {
        recorder::start(py, dir.to_str().expect("path"), "json", None).expect("start");
        run(py, "x = 1\n");
        let error = recorder::stop(py).expect_err("panic in finish");
        assert_eq!(error.code(), ErrorCode::Panic);
    });
    fail::remove("recorder::finish");
    assert!(!dir.exists());
}
