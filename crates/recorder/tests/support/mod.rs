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

/// A recorded value as text, close to Python's `repr`: `3`, `'text'`,
/// `[1, 2]`, `{'k': 1}`, `(1,)`, `module.Class(field=value)`; markers and
/// errors as their text (`<redacted>`, `<dropped>`); a cut container ends with `...`.
pub fn render(types: &[TypeRecord], value: &ValueRecord) -> String {
    let join = |items: &[ValueRecord]| -> Vec<String> {
        items.iter().map(|item| render(types, item)).collect()
    };
    match value {
        ValueRecord::Int { i, .. } => i.to_string(),
        ValueRecord::Float { f, .. } => format!("{f:?}"),
        ValueRecord::Bool { b, .. } => if *b { "True" } else { "False" }.to_string(),
        ValueRecord::String { text, .. } => {
            format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
        }
        ValueRecord::None { .. } => "None".to_string(),
        ValueRecord::Raw { r, .. } => r.clone(),
        ValueRecord::Error { msg, .. } => msg.clone(),
        ValueRecord::Tuple { elements, .. } if elements.len() == 1 => {
            format!("({},)", render(types, &elements[0]))
        }
        ValueRecord::Tuple { elements, .. } => format!("({})", join(elements).join(", ")),
        ValueRecord::Sequence {
            elements,
            is_slice,
            type_id,
        } => {
            let lang = types[type_id.0].lang_type.as_str();
            let mut items = if lang == "dict" {
                elements
                    .iter()
                    .map(|pair| match pair {
                        ValueRecord::Tuple { elements, .. } if elements.len() == 2 => format!(
                            "{}: {}",
                            render(types, &elements[0]),
                            render(types, &elements[1])
                        ),
                        other => render(types, other),
                    })
                    .collect()
            } else {
                join(elements)
            };
            if *is_slice {
                items.push("...".to_string());
            }
            match lang {
                "dict" | "set" | "frozenset" => format!("{{{}}}", items.join(", ")),
                _ => format!("[{}]", items.join(", ")),
            }
        }
        ValueRecord::Struct {
            field_values,
            type_id,
        } => {
            let record = &types[type_id.0];
            let names: Vec<&str> = match &record.specific_info {
                runtime_tracing::TypeSpecificInfo::Struct { fields } => {
                    fields.iter().map(|field| field.name.as_str()).collect()
                }
                _ => Vec::new(),
            };
            let fields: Vec<String> = field_values
                .iter()
                .enumerate()
                .map(|(index, value)| match names.get(index) {
                    Some(&"...") | None => render(types, value),
                    Some(name) => format!("{name}={}", render(types, value)),
                })
                .collect();
            format!("{}({})", record.lang_type, fields.join(", "))
        }
        other => format!("{other:?}"),
    }
}

/// What a single-threaded trace recorded, by function: the `Call` events in
/// order (by function name) and every value under `"FUNCTION KIND NAME"`
/// (`arg`, `local`; `"FUNCTION return"` for return values), rendered with
/// [`render`]. A local's repeats within one call are recorded once.
#[derive(Debug, Default)]
pub struct Recorded {
    /// Function names of the `Call` events, in order.
    pub calls: Vec<String>,
    /// Rendered values by key, in recording order.
    pub values: BTreeMap<String, Vec<String>>,
}

/// Reads `events` into a [`Recorded`]. The `Value` events just before a
/// `Step` and `Call` are that call's arguments (also in the `Call`); other
/// `Value` events are locals of the innermost open call.
pub fn recorded(events: &[TraceLowLevelEvent]) -> Recorded {
    let types = types(events);
    let names = variable_names(events);
    let functions: Vec<String> = events
        .iter()
        .filter_map(|event| match event {
            TraceLowLevelEvent::Function(record) => Some(record.name.clone()),
            _ => None,
        })
        .collect();
    let mut result = Recorded::default();
    // Open calls: the function name and the last value of each local in this call.
    let mut stack: Vec<(String, BTreeMap<String, String>)> = Vec::new();
    let mut pending: Vec<runtime_tracing::FullValueRecord> = Vec::new();
    let flush = |pending: &mut Vec<runtime_tracing::FullValueRecord>,
                 stack: &mut Vec<(String, BTreeMap<String, String>)>,
                 result: &mut Recorded| {
        let Some((function, last)) = stack.last_mut() else {
            pending.clear();
            return;
        };
        for value in pending.drain(..) {
            let name = names[value.variable_id.0].clone();
            let text = render(&types, &value.value);
            if last.get(&name) != Some(&text) {
                last.insert(name.clone(), text.clone());
                result
                    .values
                    .entry(format!("{function} local {name}"))
                    .or_default()
                    .push(text);
            }
        }
    };
    for event in events {
        match event {
            TraceLowLevelEvent::Value(value) => pending.push(value.clone()),
            TraceLowLevelEvent::Step(_) => {}
            TraceLowLevelEvent::Call(call) => {
                let keep = pending.len().saturating_sub(call.args.len());
                pending.truncate(keep);
                flush(&mut pending, &mut stack, &mut result);
                let function = functions[call.function_id.0].clone();
                for arg in &call.args {
                    result
                        .values
                        .entry(format!("{function} arg {}", names[arg.variable_id.0]))
                        .or_default()
                        .push(render(&types, &arg.value));
                }
                result.calls.push(function.clone());
                stack.push((function, BTreeMap::new()));
            }
            TraceLowLevelEvent::Return(record) => {
                flush(&mut pending, &mut stack, &mut result);
                if let Some((function, _)) = stack.pop() {
                    result
                        .values
                        .entry(format!("{function} return"))
                        .or_default()
                        .push(render(&types, &record.return_value));
                }
            }
            _ => flush(&mut pending, &mut stack, &mut result),
        }
    }
    result
}
