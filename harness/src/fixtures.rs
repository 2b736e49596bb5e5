//! The fixture log (`CODETRACER_FIXTURES_LOG`): JSON lines written by
//! `failure-fixtures` builds for every faultfs operation, injected fault and
//! fail point reached (docs/design.md, "Fixture log").

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// One line of the fixture log.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum FixtureEvent {
    /// A faultfs operation.
    Op {
        /// Operation kind (`write`, `rename`, ...).
        kind: String,
        /// Index among all operations, from 1.
        index: u64,
        /// Index among operations of this kind, from 1.
        #[serde(default)]
        kind_index: u64,
        /// Path operated on.
        #[serde(default)]
        path: String,
    },
    /// An injected fault fired.
    Fault {
        /// Operation kind.
        kind: String,
        /// Operation index.
        index: u64,
        /// Errno returned.
        #[serde(default)]
        errno: i32,
        /// The plan clause that fired.
        #[serde(default)]
        rule: String,
    },
    /// A configured fail point was reached.
    Failpoint {
        /// Fail point name.
        name: String,
    },
    /// A `kill=` plan clause fired: the process SIGKILLed itself.
    Kill {
        /// The plan clause (`kill=write#3`).
        #[serde(default)]
        rule: String,
    },
}

/// The parsed fixture log of one run.
#[derive(Debug, Clone, Default)]
pub struct FixtureLog {
    /// Events in file order.
    pub events: Vec<FixtureEvent>,
    /// Lines that were not fixture events (reported, never fatal).
    pub unparsed: Vec<String>,
}

impl FixtureLog {
    /// Parses the log text.
    pub fn parse(text: &str) -> FixtureLog {
        let mut log = FixtureLog::default();
        for line in text.lines().filter(|line| !line.trim().is_empty()) {
            match serde_json::from_str::<FixtureEvent>(line) {
                Ok(event) => log.events.push(event),
                Err(_) => log.unparsed.push(line.to_string()),
            }
        }
        log
    }

    /// Reads the log; a missing file is an empty log.
    pub fn read(path: &Path) -> FixtureLog {
        std::fs::read_to_string(path)
            .map(|text| FixtureLog::parse(&text))
            .unwrap_or_default()
    }

    /// Whether fail point `name` was reported.
    pub fn failpoint_fired(&self, name: &str) -> bool {
        self.events
            .iter()
            .any(|event| matches!(event, FixtureEvent::Failpoint { name: n } if n == name))
    }

    /// The `kill=` clause that fired, if one did.
    pub fn kill_fired(&self) -> Option<&str> {
        self.events.iter().find_map(|event| match event {
            FixtureEvent::Kill { rule } => Some(rule.as_str()),
            _ => None,
        })
    }

    /// The operations, in order.
    pub fn ops(&self) -> Vec<(u64, String, String)> {
        self.events
            .iter()
            .filter_map(|event| match event {
                FixtureEvent::Op {
                    kind, index, path, ..
                } => Some((*index, kind.clone(), path.clone())),
                _ => None,
            })
            .collect()
    }

    /// Operation counts by kind.
    pub fn op_counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for (_, kind, _) in self.ops() {
            *counts.entry(kind).or_insert(0) += 1;
        }
        counts
    }

    /// The faults that fired.
    pub fn faults(&self) -> Vec<&FixtureEvent> {
        self.events
            .iter()
            .filter(|event| matches!(event, FixtureEvent::Fault { .. }))
            .collect()
    }
}

/// Follows a growing fixture log, reading only what was appended.
#[derive(Debug)]
pub struct LogTail {
    path: PathBuf,
    offset: u64,
    pending: String,
    seen: Vec<String>,
}

impl LogTail {
    /// Starts at the beginning of `path` (which may not exist yet).
    pub fn new(path: PathBuf) -> LogTail {
        LogTail {
            path,
            offset: 0,
            pending: String::new(),
            seen: Vec::new(),
        }
    }

    /// Reads what was appended and tells whether fail point `name` has been reported.
    pub fn failpoint_seen(&mut self, name: &str) -> bool {
        self.read_new();
        self.seen.iter().any(|seen| seen == name)
    }

    fn read_new(&mut self) {
        let Ok(mut file) = File::open(&self.path) else {
            return;
        };
        if file.seek(SeekFrom::Start(self.offset)).is_err() {
            return;
        }
        let mut bytes = Vec::new();
        let Ok(read) = file.read_to_end(&mut bytes) else {
            return;
        };
        self.offset += read as u64;
        self.pending.push_str(&String::from_utf8_lossy(&bytes));
        while let Some(end) = self.pending.find('\n') {
            let line: String = self.pending.drain(..=end).collect();
            if let Ok(FixtureEvent::Failpoint { name }) = serde_json::from_str(line.trim()) {
                self.seen.push(name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = concat!(
        "{\"event\":\"op\",\"kind\":\"mkdir\",\"index\":1,\"kind_index\":1,\"path\":\"/t\"}\n",
        "{\"event\":\"op\",\"kind\":\"write\",\"index\":2,\"kind_index\":1,\"path\":\"/t/a\"}\n",
        "{\"event\":\"fault\",\"kind\":\"write\",\"index\":2,\"errno\":28,\"rule\":\"quota=1\"}\n",
        "{\"event\":\"failpoint\",\"name\":\"recorder::finish\"}\n",
        "{\"event\":\"kill\",\"kind\":\"write\",\"index\":2,\"rule\":\"kill=write#1\"}\n",
        "not json\n",
    );

    #[test]
    fn parses_ops_faults_and_failpoints() {
        let log = FixtureLog::parse(LOG);
        assert_eq!(log.ops().len(), 2);
        assert_eq!(log.op_counts().get("write"), Some(&1));
        assert_eq!(log.faults().len(), 1);
        assert!(log.failpoint_fired("recorder::finish"));
        assert!(!log.failpoint_fired("recorder::writer"));
        assert_eq!(log.kill_fired(), Some("kill=write#1"));
        assert_eq!(log.unparsed, vec!["not json".to_string()]);
    }

    #[test]
    fn a_tail_sees_fail_points_appended_later() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("log");
        let mut tail = LogTail::new(path.clone());
        assert!(!tail.failpoint_seen("recorder::finish"));
        std::fs::write(&path, "{\"event\":\"failpoint\",\"name\":\"recorder::fin")?;
        assert!(!tail.failpoint_seen("recorder::finish"));
        std::fs::write(
            &path,
            "{\"event\":\"failpoint\",\"name\":\"recorder::finish\"}\n",
        )?;
        assert!(tail.failpoint_seen("recorder::finish"));
        Ok(())
    }
}
