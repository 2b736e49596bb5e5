//! Preflight refusals and lifecycle edges: nothing is written, the session
//! stays usable.

mod support;

use std::fs;

use codetracer_python_recorder::{self as recorder, PolicyUpdate};
use pyo3::prelude::*;
use recorder_errors::{ErrorCode, ErrorKind};
use support::{assert_balanced, load};

#[test]
fn a_non_empty_directory_or_a_file_is_a_conflict() {
    let root = tempfile::tempdir().expect("tempdir");
    let busy = root.path().join("busy");
    fs::create_dir(&busy).expect("mkdir");
    fs::write(busy.join("keep.txt"), "mine").expect("write");
    let file = root.path().join("file");
    fs::write(&file, "x").expect("write");
    Python::attach(|py| {
        for path in [&busy, &file] {
            let error = recorder::start(py, path.to_str().expect("path"), "json", None)
                .expect_err("conflict");
            assert_eq!(error.code(), ErrorCode::TraceDirConflict);
            assert_eq!(error.kind(), ErrorKind::Usage);
            assert!(!recorder::is_tracing(py));
        }
    });
    assert_eq!(fs::read_dir(&busy).expect("dir").count(), 1);
    assert_eq!(fs::read_to_string(&file).expect("file"), "x");
}

#[test]
fn an_unknown_format_is_refused_before_anything_is_written() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("trace");
    Python::attach(|py| {
        let error =
            recorder::start(py, dir.to_str().expect("path"), "yaml", None).expect_err("format");
        assert_eq!(error.code(), ErrorCode::UnsupportedFormat);
    });
    assert!(!dir.exists());
}

#[test]
fn start_twice_is_already_tracing_and_stop_twice_is_harmless() {
    let root = tempfile::tempdir().expect("tempdir");
    let first = root.path().join("a");
    let second = root.path().join("b");
    Python::attach(|py| {
        recorder::start(py, first.to_str().expect("path"), "json", None).expect("start");
        let error =
            recorder::start(py, second.to_str().expect("path"), "json", None).expect_err("twice");
        assert_eq!(error.code(), ErrorCode::AlreadyTracing);
        recorder::stop(py).expect("stop");
        recorder::stop(py).expect("stop again");
        recorder::start(py, second.to_str().expect("path"), "json", None).expect("start again");
        recorder::stop(py).expect("stop");
    });
    assert_balanced(&load(&first, "json"));
    assert_balanced(&load(&second, "json"));
}

#[test]
fn require_trace_without_events_is_trace_missing_and_leaves_nothing() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("trace");
    let update = PolicyUpdate {
        require_trace: Some(true),
        ..PolicyUpdate::default()
    };
    recorder::configure_policy(&update, &[]);
    Python::attach(|py| {
        recorder::start(py, dir.to_str().expect("path"), "json", None).expect("start");
        let error = recorder::stop(py).expect_err("nothing recorded");
        assert_eq!(error.code(), ErrorCode::TraceMissing);
    });
    assert!(!dir.exists());
}

#[test]
fn activation_path_postpones_recording_until_that_file_runs() {
    let root = tempfile::tempdir().expect("tempdir");
    let script = root.path().join("target_script.py");
    fs::write(&script, "def inside(a):\n    return a\ninside(7)\n").expect("script");
    let dir = root.path().join("trace");
    Python::attach(|py| {
        recorder::start(py, dir.to_str().expect("path"), "json", script.to_str()).expect("start");
        support::run(
            py,
            &format!(
                "def before(x):\n    return x\nbefore(1)\nexec(compile(open({0:?}).read(), {0:?}, 'exec'), {{}})\n",
                script.to_str().expect("path")
            ),
        );
        recorder::stop(py).expect("stop");
    });
    let events = load(&dir, "json");
    assert_balanced(&events);
    let functions: Vec<String> = events
        .iter()
        .filter_map(|event| match event {
            runtime_tracing::TraceLowLevelEvent::Function(record) => Some(record.name.clone()),
            _ => None,
        })
        .collect();
    assert!(functions.contains(&"inside".to_string()), "{functions:?}");
    assert!(!functions.contains(&"before".to_string()), "{functions:?}");
}
