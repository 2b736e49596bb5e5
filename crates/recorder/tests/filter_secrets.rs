//! The builtin filter alone keeps secrets out of traces: a password passed,
//! bound, stored in an instance or returned never reaches any trace file, in
//! either format, and the metadata counts what was redacted.

mod support;

use std::path::Path;

use codetracer_python_recorder as recorder;
use runtime_tracing::TraceLowLevelEvent;

const SECRET: &str = "hunter2";

/// Every way a program commonly holds a password, with the builtin filter only.
const PROGRAM: &str = r#"
password = "hunter2"


class Login:
    def __init__(self, user):
        self.user = user
        self.password = "hunter2"


def get_password():
    return "hunter2"


def connect(user, password):
    token = password
    login = Login(user)
    return user


connect("ada", get_password())
connect(user="ada", password=password)
"#;

/// Every byte of every file the trace directory holds, as text.
fn directory_text(dir: &Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{e}")) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
        text.push_str(&String::from_utf8_lossy(&bytes));
    }
    text
}

fn check(format: &str) {
    let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = support::record(root.path(), format, PROGRAM);
    let events = support::load(&dir, format);
    support::assert_balanced(&events);
    let decoded = serde_json::to_string(&events).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !decoded.contains(SECRET),
        "{format}: the secret is in the events"
    );
    assert!(
        !directory_text(&dir).contains(SECRET),
        "{format}: the secret is in a trace file"
    );
    let found = support::recorded(&events);
    assert_eq!(
        found.values.get("connect arg password"),
        Some(&vec!["<redacted>".to_string(), "<redacted>".to_string()])
    );
    assert_eq!(
        found.values.get("connect local login"),
        Some(&vec![
            "Login(user='ada', password=<redacted>)".to_string(),
            "Login(user='ada', password=<redacted>)".to_string()
        ]),
        "{format}"
    );
    assert_eq!(
        found.values.get("get_password return"),
        Some(&vec!["<redacted>".to_string()])
    );
    assert!(
        events.iter().any(|event| matches!(
            event,
            TraceLowLevelEvent::VariableName(name) if name == "password"
        )),
        "a redacted value keeps its name"
    );
    let metadata: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join(recorder::METADATA_FILE)).unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let filter = &metadata["trace_filter"];
    assert_eq!(filter["filters"][0]["name"], "builtin-default");
    assert_eq!(filter["filters"][0]["path"], "<inline:builtin-default>");
    // connect: `password` in each call; as a local at its 3 line steps (from
    // the first on) and `token` at the last 2, per call; `login` once per
    // call; get_password's return once.
    assert_eq!(
        filter["stats"]["value_redactions"],
        serde_json::json!({"argument": 2, "local": 10, "global": 0, "return": 1, "attribute": 2}),
        "{format}"
    );
    assert_eq!(
        filter["stats"]["value_drops"],
        serde_json::json!({"argument": 0, "local": 0, "global": 0, "return": 0, "attribute": 0})
    );
}

#[test]
fn a_password_never_reaches_a_json_trace() {
    check("json");
}

#[test]
fn a_password_never_reaches_a_binary_trace() {
    check("binary");
}
