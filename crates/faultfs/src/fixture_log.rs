//! The fixture log: one JSON object per line, appended with `O_APPEND`,
//! written with one `write` per line (see `docs/design.md`).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{json, Value};

use crate::kill::KillPoint;
use crate::op::OpKind;

/// An open fixture log file. Failures to append are ignored: the log
/// observes a run and must never change its outcome.
#[derive(Debug)]
pub struct FixtureLog {
    path: PathBuf,
    file: Mutex<File>,
}

impl FixtureLog {
    /// Opens `path` for appending, creating it when missing.
    pub fn open(path: &Path) -> io::Result<FixtureLog> {
        let file = OpenOptions::new().append(true).create(true).open(path)?;
        Ok(FixtureLog {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        })
    }

    /// The log file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `{"event":"op",...}`: an operation began (`to` only for renames).
    pub(crate) fn op(&self, kind: OpKind, index: u64, kind_index: u64, paths: &[&Path]) {
        let mut event = json!({
            "event": "op",
            "kind": kind.as_str(),
            "index": index,
            "kind_index": kind_index,
            "path": paths.first().map(|path| path.to_string_lossy()),
        });
        if let (Some(to), Some(object)) = (paths.get(1), event.as_object_mut()) {
            object.insert("to".into(), Value::from(to.to_string_lossy()));
        }
        self.append(&event);
    }

    /// `{"event":"fault",...}`: an injected fault fired.
    pub(crate) fn fault(&self, kind: OpKind, index: u64, errno: i32, rule: &str) {
        self.append(&json!({
            "event": "fault",
            "kind": kind.as_str(),
            "index": index,
            "errno": errno,
            "rule": rule,
        }));
    }

    /// `{"event":"kill","kind","index","rule"}` or `{"event":"kill","failpoint","rule"}`:
    /// the process is about to SIGKILL itself.
    pub(crate) fn kill(&self, at: KillPoint<'_>, rule: &str) {
        let event = match at {
            KillPoint::Op(kind, index) => {
                json!({"event": "kill", "kind": kind.as_str(), "index": index, "rule": rule})
            }
            KillPoint::Failpoint(name) => json!({"event": "kill", "failpoint": name, "rule": rule}),
        };
        self.append(&event);
    }

    /// `{"event":"failpoint","name":...}`: a configured fail point was reached.
    #[cfg(feature = "failpoints")]
    pub(crate) fn failpoint(&self, name: &str) {
        self.append(&json!({"event": "failpoint", "name": name}));
    }

    fn append(&self, event: &Value) {
        let mut line = event.to_string();
        line.push('\n');
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        // Ignored on purpose: see the type's docs.
        let _ = file.write_all(line.as_bytes());
    }
}
