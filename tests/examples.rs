//! Every program in `examples/` records through the CLI, in both formats, into
//! a trace that runtime_tracing's readers load with calls and returns balanced
//! per thread, while the program's stdout and exit status stay its own.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use codetracer_suite::{repo_path, repo_root};
use harness::inspect::check_balance;
use runtime_tracing::{create_trace_reader, TraceEventsFileFormat};

/// The interpreter with the normal build: `CODETRACER_PYTHON`, else `.venv` (made by `./dev setup`).
fn python() -> PathBuf {
    let path = std::env::var_os("CODETRACER_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_path(".venv/bin/python"));
    assert!(
        path.exists(),
        "{} is missing: run `./dev setup` (or set CODETRACER_PYTHON)",
        path.display()
    );
    path
}

fn run(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(python())
        .args(args)
        .current_dir(repo_root())
        .env_remove("CODETRACER_TRACE")
        .output()
        .expect("the interpreter starts")
}

fn examples() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = fs::read_dir(repo_path("examples"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "py"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 5, "examples/ holds the starter programs");
    paths
}

fn record_and_check(example: &Path, format: &str, out: &Path) {
    let untraced = run(&[example.as_os_str()]);
    let traced = run(&[
        "-m".as_ref(),
        "codetracer_python_recorder".as_ref(),
        "--out-dir".as_ref(),
        out.as_os_str(),
        "--format".as_ref(),
        format.as_ref(),
        example.as_os_str(),
    ]);
    let name = example.display();
    assert_eq!(
        traced.status.code(),
        untraced.status.code(),
        "{name} ({format}): exit status changed; stderr:\n{}",
        String::from_utf8_lossy(&traced.stderr)
    );
    assert_eq!(
        traced.stdout, untraced.stdout,
        "{name} ({format}): stdout changed"
    );
    let (file, kind) = match format {
        "binary" => ("trace.bin", TraceEventsFileFormat::Binary),
        _ => ("trace.json", TraceEventsFileFormat::Json),
    };
    let mut names: Vec<String> = fs::read_dir(out)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [file, "trace_metadata.json", "trace_paths.json"],
        "{name} ({format}): a complete trace and nothing else"
    );
    let events = create_trace_reader(kind)
        .load_trace_events(&out.join(file))
        .unwrap_or_else(|err| panic!("{name} ({format}): runtime_tracing cannot load it: {err}"));
    let balance = check_balance(&events)
        .unwrap_or_else(|err| panic!("{name} ({format}): calls and returns do not balance: {err}"));
    assert!(
        balance.calls > 1,
        "{name} ({format}): the program's own calls are recorded"
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("trace_metadata.json")).unwrap()).unwrap();
    assert_eq!(metadata["recorder"]["partial"], false, "{name}: {metadata}");
    assert_eq!(metadata["recorder"]["format"], format, "{name}: {metadata}");
}

#[test]
fn every_example_records_a_loadable_balanced_trace_in_both_formats() {
    let tmp = tempfile::tempdir().unwrap();
    for example in examples() {
        let stem = example.file_stem().unwrap().to_string_lossy().into_owned();
        for format in ["json", "binary"] {
            // A nested directory that does not exist yet: the CLI creates it.
            let out = tmp.path().join(format).join(&stem).join("trace");
            record_and_check(&example, format, &out);
        }
    }
}

#[test]
fn threads_example_records_one_timeline_per_thread() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("trace");
    record_and_check(&repo_path("examples/threads.py"), "json", &out);
    let events = create_trace_reader(TraceEventsFileFormat::Json)
        .load_trace_events(&out.join("trace.json"))
        .unwrap();
    let balance = check_balance(&events).unwrap();
    assert!(
        balance.threads >= 4,
        "the main thread and the three workers each have a timeline: {balance:?}"
    );
}
