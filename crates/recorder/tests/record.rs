//! End-to-end: record small programs in an embedded interpreter, load the
//! traces with runtime_tracing's readers, check balance and encodings.

mod support;

use std::fs;

use runtime_tracing::{TraceLowLevelEvent, ValueRecord};
use support::{assert_balanced, call_args, lang_type, load, record};

const PROGRAM: &str = r#"
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

def gen(n):
    for i in range(n):
        yield i

def fails():
    raise ValueError("boom")

def catches():
    try:
        fails()
    except ValueError as e:
        return str(e)

fib(6)
list(gen(3))
catches()
"#;

#[test]
fn json_trace_loads_and_balances() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = record(root.path(), "json", PROGRAM);
    let events = load(&dir, "json");
    let calls = assert_balanced(&events);
    assert_eq!(calls.len(), 1, "one thread");
    // fib(6) makes 25 calls; the generator 4 entries; catches + fails 2; the
    // module body 1; plus <toplevel>.
    assert_eq!(calls.values().sum::<usize>(), 25 + 4 + 2 + 1 + 1);
    let mut names: Vec<String> = fs::read_dir(&dir)
        .expect("trace dir")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["trace.json", "trace_metadata.json", "trace_paths.json"]
    );
    let text = fs::read_to_string(dir.join("trace.json")).expect("trace.json");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.first(), Some(&"["));
    assert_eq!(lines.last(), Some(&"]"));
    assert!(events.iter().any(|event| matches!(event,
        TraceLowLevelEvent::Event(e) if e.metadata == "raise" && e.content == "ValueError: boom")));
}

#[test]
fn binary_trace_loads_with_the_same_events() {
    let root = tempfile::tempdir().expect("tempdir");
    let json_dir = record(root.path(), "json", PROGRAM);
    let json = load(&json_dir, "json");
    fs::remove_dir_all(&json_dir).expect("cleanup");
    let bin_dir = record(root.path(), "binary", PROGRAM);
    let bytes = fs::read(bin_dir.join("trace.bin")).expect("trace.bin");
    assert_eq!(&bytes[..8], &codetracer_python_recorder::HEADERV1);
    let binary = load(&bin_dir, "binary");
    assert_balanced(&binary);
    assert_eq!(binary.len(), json.len());
}

#[test]
fn every_argument_kind_is_recorded_structurally() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = record(
        root.path(),
        "json",
        "def f(p, /, q, *args, r, **kwargs):\n    return p\nf(1, 'two', 3, 4, r=5.5, k=None)\n",
    );
    let events = load(&dir, "json");
    let args = call_args(&events, "f");
    let names: Vec<&str> = args.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["p", "q", "r", "args", "kwargs"]);
    assert!(matches!(args[0].1, ValueRecord::Int { i: 1, .. }));
    match &args[1].1 {
        ValueRecord::String { text, .. } => assert_eq!(text, "two"),
        other => panic!("q is {other:?}"),
    }
    assert_eq!(lang_type(&events, &args[1].1), "str");
    assert!(matches!(args[2].1, ValueRecord::Float { f, .. } if f == 5.5));
    match &args[3].1 {
        ValueRecord::Sequence { elements, .. } => {
            assert!(matches!(
                elements[..],
                [ValueRecord::Int { i: 3, .. }, ValueRecord::Int { i: 4, .. }]
            ));
        }
        other => panic!("*args is {other:?}"),
    }
    assert_eq!(lang_type(&events, &args[3].1), "tuple");
    match &args[4].1 {
        ValueRecord::Sequence { elements, .. } => match &elements[..] {
            [ValueRecord::Tuple { elements: pair, .. }] => {
                assert!(matches!(&pair[0], ValueRecord::String { text, .. } if text == "k"));
                assert!(matches!(&pair[1], ValueRecord::None { .. }));
            }
            other => panic!("**kwargs entries are {other:?}"),
        },
        other => panic!("**kwargs is {other:?}"),
    }
    assert_eq!(lang_type(&events, &args[4].1), "dict");
}

#[test]
fn values_are_encoded_without_running_user_code() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = record(
        root.path(),
        "json",
        r#"
class Loud:
    def __init__(self):
        self.a = 1
    def __repr__(self):
        raise RuntimeError("repr called")
    def __str__(self):
        raise RuntimeError("str called")
    @property
    def p(self):
        raise RuntimeError("property called")
    def __getattr__(self, name):
        raise RuntimeError("getattr called")

def take(x, big, neg, nested, loop, text):
    return x

l = []
l.append(l)
nested = [[[[[[1]]]]]]
take(Loud(), 2**80, -5, nested, l, "héllo\n")
"#,
    );
    let events = load(&dir, "json");
    assert_balanced(&events);
    let args = call_args(&events, "take");
    match &args[0].1 {
        ValueRecord::Struct { field_values, .. } => {
            assert!(matches!(field_values[..], [ValueRecord::Int { i: 1, .. }]));
        }
        other => panic!("instance is {other:?}"),
    }
    assert_eq!(lang_type(&events, &args[0].1), "Loud");
    assert!(
        matches!(&args[1].1, ValueRecord::BigInt { negative: false, b, .. } if b.len() == 11 && b[0] == 1)
    );
    assert!(matches!(args[2].1, ValueRecord::Int { i: -5, .. }));
    // Depth limit: the innermost lists are not expanded.
    let mut value = &args[3].1;
    let mut depth = 0;
    while let ValueRecord::Sequence { elements, .. } = value {
        value = &elements[0];
        depth += 1;
    }
    assert!(
        matches!(value, ValueRecord::Raw { r, .. } if r == "<list len=1>"),
        "{value:?}"
    );
    assert_eq!(depth, 4);
    match &args[4].1 {
        ValueRecord::Sequence { elements, .. } => {
            assert!(matches!(&elements[0], ValueRecord::Raw { r, .. } if r == "<recursion>"));
        }
        other => panic!("self-referencing list is {other:?}"),
    }
    assert!(matches!(&args[5].1, ValueRecord::String { text, .. } if text == "héllo\n"));
}

#[test]
fn three_threads_record_balanced_without_deadlock() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = record(
        root.path(),
        "json",
        r#"
import threading

def work(n):
    total = 0
    for i in range(n):
        total += square(i)
    return total

def square(x):
    return x * x

threads = [threading.Thread(target=work, args=(2000,)) for _ in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
# A thread started after the others ended is still a thread of its own.
late = threading.Thread(target=work, args=(1,))
late.start()
late.join()
"#,
    );
    let events = load(&dir, "json");
    let calls = assert_balanced(&events);
    assert_eq!(calls.len(), 5, "main thread and four workers: {calls:?}");
    let exits = events
        .iter()
        .filter(|event| matches!(event, TraceLowLevelEvent::ThreadExit(_)))
        .count();
    assert_eq!(exits, calls.len() - 1);
}

#[test]
fn throw_reraise_and_coroutines_stay_balanced() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = record(
        root.path(),
        "json",
        r#"
import asyncio

def gen():
    try:
        yield 1
    except KeyError:
        yield 2

def reraiser():
    try:
        raise ValueError("inner")
    except ValueError:
        raise

g = gen()
next(g)
g.throw(KeyError("k"))
g.close()
try:
    reraiser()
except ValueError:
    pass

async def child(x):
    await asyncio.sleep(0)
    return x * 2

async def main():
    return sum(await asyncio.gather(child(1), child(2)))

asyncio.run(main())
"#,
    );
    let events = load(&dir, "json");
    assert_balanced(&events);
    assert!(events.iter().any(|event| matches!(event,
        TraceLowLevelEvent::Event(e) if e.metadata == "reraise" && e.content == "ValueError: inner")));
}

#[test]
fn no_free_tool_id_is_an_install_conflict_and_writes_nothing() {
    use codetracer_python_recorder as recorder;
    use pyo3::prelude::*;
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("trace");
    Python::attach(|py| {
        support::run(
            py,
            "import sys\nfor i in range(6):\n    sys.monitoring.use_tool_id(i, 'other')\n",
        );
        let error =
            recorder::start(py, dir.to_str().expect("path"), "json", None).expect_err("conflict");
        assert_eq!(
            error.code(),
            recorder_errors::ErrorCode::TracerInstallConflict
        );
        assert!(!recorder::is_tracing(py));
        support::run(py, "import sys\nsys.monitoring.free_tool_id(3)\n");
        recorder::start(py, dir.to_str().expect("path"), "json", None)
            .expect("a freed id is taken");
        support::run(
            py,
            "assert sys.monitoring.get_tool(3) == 'codetracer'\n"
                .replace("sys", "__import__('sys')")
                .as_str(),
        );
        recorder::stop(py).expect("stop");
        support::run(
            py,
            "assert __import__('sys').monitoring.get_tool(3) is None\n",
        );
    });
    assert_balanced(&load(&dir, "json"));
}
