//! IO capture end to end, in both formats: programs run through the CLI
//! (the normal build in `.venv`), their traces loaded with runtime_tracing's
//! readers, and every IO event checked exactly: kind, content, stream, path,
//! line and thread (the one `ThreadStart`/`ThreadSwitch` made current, which
//! the metadata repeats), plus the mirror tag. The program's own stdout and
//! stderr stay those of an untraced run.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use codetracer_suite::{repo_path, repo_root};
use runtime_tracing::{
    create_trace_reader, EventLogKind, TraceEventsFileFormat, TraceLowLevelEvent,
};
use serde_json::Value;

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

/// Runs python with `args`, `stdin` and extra `env`, in an environment free
/// of recorder and `PYTHON*` variables (so stdout is block-buffered as usual).
fn run(args: &[&std::ffi::OsStr], stdin: &str, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(python());
    command.args(args).current_dir(repo_root());
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if key.starts_with("CODETRACER_") || key.starts_with("PYTHON") {
            command.env_remove(&key);
        }
    }
    command.envs(env.iter().copied());
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the interpreter starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("stdin written");
    child.wait_with_output().expect("the program ends")
}

/// One IO event as the tests compare it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Io {
    kind: &'static str,
    content: String,
    stream: String,
    path: Option<String>,
    line: Option<i64>,
    /// The thread current when the event was written.
    thread: u64,
    mirror: bool,
    /// `content` is base64 (the bytes were not UTF-8).
    base64: bool,
}

/// The IO events of a trace, with the ids of its threads in order of appearance.
fn io_events(events: &[TraceLowLevelEvent]) -> (Vec<Io>, Vec<u64>) {
    let mut paths = Vec::new();
    let mut threads = Vec::new();
    let mut current = 0;
    let mut found = Vec::new();
    for event in events {
        match event {
            TraceLowLevelEvent::Path(path) => paths.push(path.display().to_string()),
            TraceLowLevelEvent::ThreadStart(id) => {
                threads.push(id.0);
                current = id.0;
            }
            TraceLowLevelEvent::ThreadSwitch(id) => current = id.0,
            TraceLowLevelEvent::Event(record) => {
                let kind = match record.kind {
                    EventLogKind::Write => "Write",
                    EventLogKind::WriteOther => "WriteOther",
                    EventLogKind::Read => "Read",
                    _ => continue,
                };
                let meta: Value = serde_json::from_str(&record.metadata).expect("metadata is JSON");
                assert_eq!(
                    meta["thread"], current,
                    "metadata thread = current thread: {meta}"
                );
                found.push(Io {
                    kind,
                    content: record.content.clone(),
                    stream: meta["stream"].as_str().expect("stream").to_string(),
                    path: meta["path_id"]
                        .as_u64()
                        .map(|id| paths[usize::try_from(id).expect("path id")].clone()),
                    line: meta["line"].as_i64(),
                    thread: current,
                    mirror: meta["mirror"] == true,
                    base64: meta["encoding"] == "base64",
                });
            }
            _ => {}
        }
    }
    (found, threads)
}

/// Records `source` (written to `<dir>/program.py`) in `format` with `stdin`
/// and `env`; checks stdout, stderr and exit status against an untraced run
/// and returns the trace's IO events, its thread ids and the script's path.
fn record(
    dir: &Path,
    source: &str,
    format: &str,
    stdin: &str,
    env: &[(&str, &str)],
) -> (Vec<Io>, Vec<u64>, String) {
    let script = dir.join("program.py");
    fs::write(&script, source).expect("script written");
    let out = dir.join(format!("trace-{format}"));
    let untraced = run(&[script.as_os_str()], stdin, env);
    let traced = run(
        &[
            "-m".as_ref(),
            "codetracer_python_recorder".as_ref(),
            "--out-dir".as_ref(),
            out.as_os_str(),
            "--format".as_ref(),
            format.as_ref(),
            script.as_os_str(),
        ],
        stdin,
        env,
    );
    let show = |output: &Output| {
        format!(
            "{:?}\n--- stdout\n{}--- stderr\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    };
    assert!(untraced.status.success(), "untraced: {}", show(&untraced));
    assert!(traced.status.success(), "traced: {}", show(&traced));
    assert_eq!(
        traced.stdout,
        untraced.stdout,
        "stdout differs: {}",
        show(&traced)
    );
    assert_eq!(
        traced.stderr,
        untraced.stderr,
        "stderr differs: {}",
        show(&traced)
    );
    let (file, kind) = match format {
        "binary" => ("trace.bin", TraceEventsFileFormat::Binary),
        _ => ("trace.json", TraceEventsFileFormat::Json),
    };
    let events = create_trace_reader(kind)
        .load_trace_events(&out.join(file))
        .expect("runtime_tracing loads the trace");
    let (io, threads) = io_events(&events);
    let script = fs::canonicalize(&script).expect("script path");
    let path = io
        .iter()
        .filter_map(|event| event.path.clone())
        .find(|path| fs::canonicalize(path).is_ok_and(|p| p == script))
        .unwrap_or_else(|| script.display().to_string());
    (io, threads, path)
}

/// The 1-based number of the line of `source` that ends with `# <tag>`.
fn line_of(source: &str, tag: &str) -> i64 {
    let marker = format!("# {tag}");
    let index = source
        .lines()
        .position(|line| line.trim_end().ends_with(&marker))
        .unwrap_or_else(|| panic!("no line tagged {tag}"));
    i64::try_from(index + 1).expect("line number")
}

const PROGRAM: &str = r#"import sys
import threading


def shout(word):
    print(word.upper())  # shout


def worker(n):
    print(f"worker {n}")  # worker


print("hello", 42)  # print
sys.stdout.write("direct\n")  # write
print("oops", file=sys.stderr)  # stderr
name = input("name? ")  # input
rest = sys.stdin.read()  # read
print("partial", end="")  # partial
print(" done")  # done
shout(name)  # call
for n in range(2):
    thread = threading.Thread(target=worker, args=(n,))
    thread.start()
    thread.join()
"#;

fn check_program(format: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (io, threads, path) = record(dir.path(), PROGRAM, format, "Alice\nrest of input\n", &[]);
    let main = threads[0];
    let at = |tag: &str| (Some(path.clone()), Some(line_of(PROGRAM, tag)));
    let expect = |kind: &'static str, content: &str, tag: &str, thread: u64| {
        let (path, line) = at(tag);
        let stream = match kind {
            "Write" => "stdout",
            "WriteOther" => "stderr",
            _ => "stdin",
        };
        Io {
            kind,
            content: content.to_string(),
            stream: stream.to_string(),
            path,
            line,
            thread,
            mirror: false,
            base64: false,
        }
    };
    let workers: Vec<u64> = io
        .iter()
        .filter(|event| event.content.starts_with("worker"))
        .map(|event| event.thread)
        .collect();
    assert_eq!(workers.len(), 2, "{io:#?}");
    assert_eq!(
        workers.iter().chain([&main]).collect::<BTreeSet<_>>().len(),
        3,
        "each worker writes in its own thread: {io:#?}"
    );
    assert_eq!(
        io,
        [
            expect("Write", "hello 42\n", "print", main),
            expect("Write", "direct\n", "write", main),
            expect("WriteOther", "oops\n", "stderr", main),
            expect("Write", "name? ", "input", main),
            expect("Read", "Alice\n", "input", main),
            expect("Read", "rest of input\n", "read", main),
            expect("Write", "partial", "partial", main),
            expect("Write", " done\n", "done", main),
            expect("Write", "ALICE\n", "shout", main),
            expect("Write", "worker 0\n", "worker", workers[0]),
            expect("Write", "worker 1\n", "worker", workers[1]),
        ]
    );
}

#[test]
fn print_write_stderr_input_read_and_threads_are_exact_events_in_json() {
    check_program("json");
}

#[test]
fn print_write_stderr_input_read_and_threads_are_exact_events_in_binary() {
    check_program("binary");
}

const MIRRORED: &str = r#"import ctypes
import os
import sys

libc = ctypes.CDLL(None)
print("via proxy")  # proxy
os.write(1, b"via os.write\n")  # os
libc.write(1, b"via libc\n", 9)  # libc
os.write(2, b"err via os.write\n")  # err
sys.stdout.buffer.write(b"bytes \xff\n")  # binary
sys.stdout.flush()  # flush
"#;

fn check_mirror(format: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = [("CODETRACER_CAPTURE_IO", "proxies,fd")];
    let (io, threads, path) = record(dir.path(), MIRRORED, format, "", &env);
    let main = threads[0];
    let event = |kind: &'static str, content: &str, tag: &str, mirror: bool| Io {
        kind,
        content: content.to_string(),
        stream: if kind == "Write" { "stdout" } else { "stderr" }.to_string(),
        path: Some(path.clone()),
        line: Some(line_of(MIRRORED, tag)),
        thread: main,
        mirror,
        base64: false,
    };
    // stdout is block-buffered: the proxy's bytes reach the descriptor only
    // at the flush, after the direct writes, and are still not mirrored.
    assert_eq!(
        io,
        [
            event("Write", "via proxy\n", "proxy", false),
            event("Write", "via os.write\n", "os", true),
            event("Write", "via libc\n", "libc", true),
            event("WriteOther", "err via os.write\n", "err", true),
            Io {
                base64: true,
                ..event("Write", "Ynl0ZXMg/wo=", "binary", false)
            },
        ]
    );
}

#[test]
fn the_mirror_records_os_write_and_c_writes_once_in_json() {
    check_mirror("json");
}

#[test]
fn the_mirror_records_os_write_and_c_writes_once_in_binary() {
    check_mirror("binary");
}
