//! Shared helpers: record a Python snippet in this (embedded) interpreter and
//! load the trace back with runtime_tracing's own readers.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ffi::CString;
use std::path::{Path, PathBuf};

use codetracer_python_recorder as recorder;
use pyo3::prelude::*;
use runtime_tracing::{
    create_trace_reader, TraceEventsFileFormat, TraceLowLevelEvent, TypeRecord, ValueRecord,
};

/// Runs `source` as `__main__`-like code.
pub fn run(py: Python<'_>, source: &str) {
    let code = CString::new(source).expect("source without NUL");
    let globals = pyo3::types::PyDict::new(py);
    py.run(&code, Some(&globals), None)
        .expect("the program runs");
}

/// Records `source` into a fresh directory under `root` and returns the trace directory.
pub fn record(root: &Path, format: &str, source: &str) -> PathBuf {
    let dir = root.join("trace");
    Python::attach(|py| {
        recorder::start(py, dir.to_str().expect("utf-8 path"), format, None).expect("start");
        run(py, source);
        recorder::stop(py).expect("stop");
    });
    dir
}

/// Loads the events of a trace directory with runtime_tracing's reader.
pub fn load(dir: &Path, format: &str) -> Vec<TraceLowLevelEvent> {
    let (file, kind) = match format {
        "binary" => ("trace.bin", TraceEventsFileFormat::Binary),
        _ => ("trace.json", TraceEventsFileFormat::Json),
    };
    let mut reader = create_trace_reader(kind);
    reader
        .load_trace_events(&dir.join(file))
        .expect("runtime_tracing loads the trace")
}

/// Checks with the harness's balance check that every thread's calls and
/// returns balance (never more returns than calls) and that every call comes
/// after a `ThreadStart`; returns the number of calls per thread.
pub fn assert_balanced(events: &[TraceLowLevelEvent]) -> BTreeMap<u64, usize> {
    let balance = harness::inspect::check_balance(events)
        .unwrap_or_else(|why| panic!("unbalanced trace: {why}"));
    balance
        .calls_per_thread
        .into_iter()
        .map(|(thread, calls)| (thread.expect("a Call after ThreadStart"), calls))
        .collect()
}

/// The `Type` records in id order.
pub fn types(events: &[TraceLowLevelEvent]) -> Vec<TypeRecord> {
    events
        .iter()
        .filter_map(|event| match event {
            TraceLowLevelEvent::Type(record) => Some(record.clone()),
            _ => None,
        })
        .collect()
}

/// Variable names in id order.
pub fn variable_names(events: &[TraceLowLevelEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|event| match event {
            TraceLowLevelEvent::VariableName(name) => Some(name.clone()),
            _ => None,
        })
        .collect()
}

/// The arguments of the first call of function `name`, as (name, value, lang_type).
pub fn call_args(events: &[TraceLowLevelEvent], name: &str) -> Vec<(String, ValueRecord)> {
    let names = variable_names(events);
    let function_ids: Vec<String> = events
        .iter()
        .filter_map(|event| match event {
            TraceLowLevelEvent::Function(record) => Some(record.name.clone()),
            _ => None,
        })
        .collect();
    events
        .iter()
        .find_map(|event| match event {
            TraceLowLevelEvent::Call(call) if function_ids[call.function_id.0] == name => Some(
                call.args
                    .iter()
                    .map(|arg| (names[arg.variable_id.0].clone(), arg.value.clone()))
                    .collect(),
            ),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no call of {name}"))
}

/// The `lang_type` of a value's type.
pub fn lang_type(events: &[TraceLowLevelEvent], value: &ValueRecord) -> String {
    let types = types(events);
    let id = match value {
        ValueRecord::Int { type_id, .. }
        | ValueRecord::Float { type_id, .. }
        | ValueRecord::Bool { type_id, .. }
        | ValueRecord::String { type_id, .. }
        | ValueRecord::Sequence { type_id, .. }
        | ValueRecord::Tuple { type_id, .. }
        | ValueRecord::Struct { type_id, .. }
        | ValueRecord::Raw { type_id, .. }
        | ValueRecord::Error { type_id, .. }
        | ValueRecord::None { type_id }
        | ValueRecord::BigInt { type_id, .. } => *type_id,
        other => panic!("unexpected record {other:?}"),
    };
    types[id.0].lang_type.clone()
}
