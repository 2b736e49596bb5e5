//! The trace-filter corpus (`tests/filters/`) end to end: each case with a
//! `recorded.toml` has a small program next to its filters; it is recorded
//! with the case's filters in both formats, and the events read back with
//! runtime_tracing's readers must show exactly the expected calls and values.
//! The filters are named as the CLI names them (the files of
//! `CODETRACER_TRACE_FILTER` first), and the project filter is found from the
//! program's directory.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use codetracer_python_recorder::{self as recorder, StartOptions};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde::Deserialize;

/// `case.toml`, the parts this test reads.
#[derive(Deserialize)]
struct Case {
    #[serde(default)]
    env: Vec<String>,
    #[serde(default)]
    explicit: Vec<String>,
    filters: Vec<String>,
}

/// `recorded.toml`: the program and what its trace must show.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    description: String,
    /// The program, relative to the case; run as `__main__` with the case
    /// directory first on `sys.path`.
    program: String,
    /// Function names of the `Call` events, in order.
    calls: Vec<String>,
    /// `"FUNCTION KIND NAME"` -> every value recorded under it (see `support::recorded`).
    values: BTreeMap<String, Vec<String>>,
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/filters")
}

fn read<T: serde::de::DeserializeOwned>(path: &Path) -> T {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Records the case's program in `format` and checks its trace.
fn check(name: &str, format: &str) {
    let case_dir = corpus().join(name);
    let case: Case = read(&case_dir.join("case.toml"));
    let expected: Expected = read(&case_dir.join("recorded.toml"));
    assert!(!expected.description.is_empty());
    let joined = |files: &[String]| -> PathBuf {
        let paths: Vec<String> = files
            .iter()
            .map(|file| case_dir.join(file).display().to_string())
            .collect();
        PathBuf::from(paths.join("::"))
    };
    let mut named: Vec<PathBuf> = Vec::new();
    if !case.env.is_empty() {
        named.push(joined(&case.env));
    }
    named.extend(
        case.explicit
            .iter()
            .map(|spec| joined(std::slice::from_ref(spec))),
    );
    let options = StartOptions {
        trace_filter: named,
        module_name_from_globals: true,
        ..StartOptions::default()
    };
    let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = root.path().join("trace");
    let program = case_dir.join(&expected.program);
    Python::attach(|py| {
        let sys = py.import("sys").unwrap_or_else(|e| panic!("{e}"));
        sys.setattr("dont_write_bytecode", true)
            .unwrap_or_else(|e| panic!("{e}"));
        sys.getattr("path")
            .and_then(|path| path.call_method1("insert", (0, case_dir.display().to_string())))
            .unwrap_or_else(|e| panic!("{e}"));
        recorder::start_os(py, &out, format, Some(&program), &options)
            .unwrap_or_else(|e| panic!("{name}: start: {e}"));
        let kwargs = PyDict::new(py);
        kwargs
            .set_item("run_name", "__main__")
            .unwrap_or_else(|e| panic!("{e}"));
        let ran = py
            .import("runpy")
            .and_then(|runpy| runpy.call_method("run_path", (&program,), Some(&kwargs)));
        recorder::stop_with_exit_code(py, Some(0)).unwrap_or_else(|e| panic!("{name}: stop: {e}"));
        ran.unwrap_or_else(|e| panic!("{name}: the program failed: {e}"));
    });
    let events = support::load(&out, format);
    support::assert_balanced(&events);
    let found = support::recorded(&events);
    assert_eq!(found.calls, expected.calls, "{name} ({format}): calls");
    for (key, values) in &expected.values {
        let got = found.values.get(key).cloned().unwrap_or_default();
        assert_eq!(&got, values, "{name} ({format}): {key}");
    }
    let metadata: serde_json::Value = serde_json::from_slice(
        &std::fs::read(out.join(recorder::METADATA_FILE)).unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let applied: Vec<&str> = metadata["trace_filter"]["filters"]
        .as_array()
        .unwrap_or_else(|| panic!("{name}: no trace_filter.filters in {metadata}"))
        .iter()
        .map(|filter| filter["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(applied, case.filters, "{name}: the filters in the metadata");
    assert_eq!(
        metadata["process_exit_status"],
        serde_json::json!({"code": 0, "label": null})
    );
}

/// One module per case, a test per format (nextest runs each in its own
/// process, so every program starts with fresh modules).
macro_rules! corpus_cases {
    ($($case:ident),* $(,)?) => {
        const CASES: &[&str] = &[$(stringify!($case)),*];
        $(
            mod $case {
                #[test]
                fn json() {
                    super::check(stringify!($case), "json");
                }
                #[test]
                fn binary() {
                    super::check(stringify!($case), "binary");
                }
            }
        )*
    };
}

corpus_cases!(
    chaining_inherit,
    defect_attr_fields,
    defect_catch_all_rule,
    defect_secret_tokens,
    project_0_3,
    skip_file_glob,
    skip_package,
    trace_one_function,
    value_actions,
);

#[test]
fn every_case_with_a_program_is_run() {
    let mut with_program: Vec<String> = std::fs::read_dir(corpus())
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().join("recorded.toml").is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    with_program.sort();
    assert_eq!(with_program, CASES);
}
