//! Inspecting a run's output directory: which of the three contract states
//! it is in (complete, absent, partial), whether it is valid, and what was
//! left behind that should not be.

mod balance;
mod events;

use std::fs;
use std::path::{Path, PathBuf};

use recorder_errors::ErrorCode;
use serde_json::Value;

pub use balance::{check as check_balance, Balance};
pub use events::{load_complete, load_partial_json};

use crate::scenario::TraceState;

/// JSON events file.
pub const EVENTS_JSON: &str = "trace.json";
/// Binary events file.
pub const EVENTS_BIN: &str = "trace.bin";
/// Source paths file.
pub const PATHS: &str = "trace_paths.json";
/// Metadata file.
pub const METADATA: &str = "trace_metadata.json";
/// Partial marker (faultfs writes it).
pub const PARTIAL: &str = faultfs::PARTIAL_MARKER;
/// Prefix of faultfs staging directories.
pub const STAGING_PREFIX: &str = faultfs::STAGING_PREFIX;

/// Every file name the recorder may leave in a trace directory.
const RECORDER_FILES: &[&str] = &[EVENTS_JSON, EVENTS_BIN, PATHS, METADATA, PARTIAL];

/// A valid state with what was found in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observed {
    /// No recorder file.
    Absent,
    /// A complete, loadable, balanced trace.
    Complete(Balance),
    /// A trace marked partial.
    Partial {
        /// The marker's reason code.
        reason: String,
        /// Events readable from the partial events file.
        events: usize,
    },
}

impl Observed {
    /// The contract state this observation is in.
    pub fn state(&self) -> TraceState {
        match self {
            Observed::Absent => TraceState::Absent,
            Observed::Complete(_) => TraceState::Complete,
            Observed::Partial { .. } => TraceState::Partial,
        }
    }
}

/// What the inspection found.
#[derive(Debug, Clone)]
pub struct DirReport {
    /// The state, or why the directory is in none of the valid states.
    pub state: Result<Observed, String>,
    /// Files and directories that must not be there.
    pub leftovers: Vec<String>,
    /// Names found in the trace directory (for reports).
    pub files: Vec<String>,
}

impl DirReport {
    /// One-line description of the state for reports.
    pub fn describe(&self) -> String {
        match &self.state {
            Ok(Observed::Absent) => "absent".to_string(),
            Ok(Observed::Complete(balance)) => format!(
                "complete ({} events, {} calls, {} thread(s))",
                balance.events, balance.calls, balance.threads
            ),
            Ok(Observed::Partial { reason, events }) => {
                format!("partial ({reason}, {events} readable events)")
            }
            Err(why) => format!("invalid: {why}"),
        }
    }
}

/// Inspects `trace_dir` (the recorder's output directory, which the harness
/// never creates) and looks for staging directories anywhere under `work_dir`.
pub fn inspect(trace_dir: &Path, work_dir: &Path) -> DirReport {
    let mut leftovers = Vec::new();
    find_staging(work_dir, work_dir, &mut leftovers, 0);
    let names = match fs::read_dir(trace_dir) {
        Ok(entries) => {
            let mut names: Vec<String> = entries
                .filter_map(|entry| entry.ok())
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        }
        Err(_) => {
            return DirReport {
                state: Ok(Observed::Absent),
                leftovers,
                files: Vec::new(),
            }
        }
    };
    for name in &names {
        if !RECORDER_FILES.contains(&name.as_str()) && !name.starts_with(STAGING_PREFIX) {
            leftovers.push(format!("stray file {name} in the trace directory"));
        }
    }
    let present: Vec<&str> = RECORDER_FILES
        .iter()
        .copied()
        .filter(|file| names.iter().any(|name| name == file))
        .collect();
    let state = if present.is_empty() {
        if names.is_empty() {
            leftovers.push(
                "empty trace directory left behind (the recorder created it, so it must remove it)"
                    .to_string(),
            );
        }
        Ok(Observed::Absent)
    } else if present.contains(&PARTIAL) {
        inspect_partial(trace_dir, &present)
    } else {
        inspect_complete(trace_dir, &present, &mut leftovers)
    };
    DirReport {
        state,
        leftovers,
        files: names,
    }
}

/// Records every `.codetracer-staging-*` entry under `dir` (a few levels deep).
fn find_staging(root: &Path, dir: &Path, found: &mut Vec<String>, depth: usize) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(|entry| entry.ok()) {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let relative = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string();
        if name.starts_with(STAGING_PREFIX) {
            found.push(format!("staging directory {relative} left behind"));
        } else if depth < 4 && path.is_dir() && !path.is_symlink() {
            find_staging(root, &path, found, depth + 1);
        }
    }
}

fn read_json(dir: &Path, name: &str) -> Result<Value, String> {
    let text = fs::read_to_string(dir.join(name)).map_err(|e| format!("{name} unreadable: {e}"))?;
    serde_json::from_str(&text).map_err(|e| {
        format!("{name} is not valid JSON ({e}): a half-written file under a final name?")
    })
}

fn inspect_complete(
    dir: &Path,
    present: &[&str],
    leftovers: &mut Vec<String>,
) -> Result<Observed, String> {
    let missing: Vec<&str> = [METADATA, PATHS]
        .into_iter()
        .filter(|name| !present.contains(name))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "not complete ({} missing) and not marked partial; present: {}",
            missing.join(", "),
            present.join(", ")
        ));
    }
    let metadata = read_json(dir, METADATA)?;
    let recorder = metadata.get("recorder");
    let format = recorder
        .and_then(|r| r.get("format"))
        .and_then(Value::as_str)
        .unwrap_or("json");
    let (events_file, other) = match format {
        "binary" => (EVENTS_BIN, EVENTS_JSON),
        _ => (EVENTS_JSON, EVENTS_BIN),
    };
    if present.contains(&other) {
        leftovers.push(format!("{other} next to a {format} trace"));
    }
    if !present.contains(&events_file) {
        return Err(format!(
            "{METADATA} says format {format:?} but {events_file} is missing"
        ));
    }
    if recorder
        .and_then(|r| r.get("partial"))
        .and_then(Value::as_bool)
        == Some(true)
    {
        return Err(format!("{METADATA} says partial but there is no {PARTIAL}"));
    }
    let paths = read_json(dir, PATHS)?;
    if !paths.is_array() {
        return Err(format!("{PATHS} is not a JSON array"));
    }
    let events = load_complete(&dir.join(events_file), format == "binary")?;
    let balance = check_balance(&events).map_err(|why| format!("unbalanced trace: {why}"))?;
    Ok(Observed::Complete(balance))
}

fn inspect_partial(dir: &Path, present: &[&str]) -> Result<Observed, String> {
    let marker = read_json(dir, PARTIAL)?;
    if marker.get("partial").and_then(Value::as_bool) != Some(true) {
        return Err(format!("{PARTIAL} does not say \"partial\": true"));
    }
    let reason = marker
        .get("reason")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{PARTIAL} has no reason code"))?
        .to_string();
    if ErrorCode::parse(&reason).is_none() {
        return Err(format!("{PARTIAL} reason {reason:?} is not an ERR_* code"));
    }
    if present.contains(&METADATA) {
        let metadata = read_json(dir, METADATA)?;
        let recorder = metadata.get("recorder");
        if recorder
            .and_then(|r| r.get("partial"))
            .and_then(Value::as_bool)
            != Some(true)
        {
            return Err(format!("{METADATA} does not say partial next to {PARTIAL}"));
        }
        let metadata_reason = recorder
            .and_then(|r| r.get("partial_reason"))
            .and_then(Value::as_str);
        if metadata_reason != Some(reason.as_str()) {
            return Err(format!(
                "{METADATA} gives partial_reason {metadata_reason:?} but {PARTIAL} says {reason:?}"
            ));
        }
    }
    if present.contains(&PATHS) && !read_json(dir, PATHS)?.is_array() {
        return Err(format!("{PATHS} is not a JSON array"));
    }
    let events = if present.contains(&EVENTS_JSON) {
        load_partial_json(&dir.join(EVENTS_JSON))?.len()
    } else if present.contains(&EVENTS_BIN) {
        load_complete(&dir.join(EVENTS_BIN), true)
            .map_err(|why| format!("partial {EVENTS_BIN}: {why}"))?
            .len()
    } else {
        0
    };
    Ok(Observed::Partial { reason, events })
}

/// Where a run keeps its trace directory and work files.
#[derive(Debug, Clone)]
pub struct RunDirs {
    /// The run's private directory.
    pub work: PathBuf,
    /// The recorder's output directory inside it (not created by the harness).
    pub trace: PathBuf,
    /// The fixture log.
    pub fixtures_log: PathBuf,
}

impl RunDirs {
    /// The layout inside `work`.
    pub fn new(work: &Path) -> RunDirs {
        RunDirs {
            work: work.to_path_buf(),
            trace: work.join("trace"),
            fixtures_log: work.join("fixtures.jsonl"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        if let Err(error) = fs::write(dir.join(name), text) {
            panic!("cannot write {name}: {error}");
        }
    }

    fn complete_trace(dir: &Path) {
        write(
            dir,
            METADATA,
            r#"{"workdir":"/","program":"p.py","args":[],"recorder":{"format":"json","partial":false}}"#,
        );
        write(dir, PATHS, r#"["/p.py"]"#);
        write(
            dir,
            EVENTS_JSON,
            "[\n{\"Path\":\"/p.py\"},\n{\"Call\":{\"function_id\":0,\"args\":[]}},\n{\"Return\":{\"return_value\":{\"kind\":\"None\",\"type_id\":0}}}\n]\n",
        );
    }

    #[test]
    fn a_missing_directory_is_absent_without_leftovers() -> std::io::Result<()> {
        let work = tempfile::tempdir()?;
        let report = inspect(&work.path().join("trace"), work.path());
        assert_eq!(report.state, Ok(Observed::Absent));
        assert!(report.leftovers.is_empty());
        Ok(())
    }

    #[test]
    fn a_complete_trace_is_loaded_and_balanced() -> std::io::Result<()> {
        let work = tempfile::tempdir()?;
        let trace = work.path().join("trace");
        fs::create_dir(&trace)?;
        complete_trace(&trace);
        let report = inspect(&trace, work.path());
        assert_eq!(
            report.state.as_ref().map(Observed::state),
            Ok(TraceState::Complete),
            "{report:?}"
        );
        assert!(report.leftovers.is_empty());
        Ok(())
    }

    #[test]
    fn a_staging_directory_is_a_leftover() -> std::io::Result<()> {
        let work = tempfile::tempdir()?;
        let trace = work.path().join("trace");
        fs::create_dir_all(trace.join(".codetracer-staging-12-0"))?;
        let report = inspect(&trace, work.path());
        assert_eq!(report.state, Ok(Observed::Absent));
        assert_eq!(
            report.leftovers,
            vec!["staging directory trace/.codetracer-staging-12-0 left behind".to_string()]
        );
        Ok(())
    }

    #[test]
    fn metadata_without_events_is_neither_complete_nor_partial() -> std::io::Result<()> {
        let work = tempfile::tempdir()?;
        let trace = work.path().join("trace");
        fs::create_dir(&trace)?;
        complete_trace(&trace);
        fs::remove_file(trace.join(EVENTS_JSON))?;
        let report = inspect(&trace, work.path());
        let why = report.state.err().unwrap_or_default();
        assert!(why.contains("trace.json is missing"), "{why}");
        Ok(())
    }

    #[test]
    fn a_truncated_events_file_under_its_final_name_is_invalid() -> std::io::Result<()> {
        let work = tempfile::tempdir()?;
        let trace = work.path().join("trace");
        fs::create_dir(&trace)?;
        complete_trace(&trace);
        write(
            &trace,
            EVENTS_JSON,
            "[\n{\"Path\":\"/p.py\"},\n{\"Call\":{\"funct",
        );
        let report = inspect(&trace, work.path());
        assert!(report.state.is_err(), "{report:?}");
        Ok(())
    }

    #[test]
    fn a_partial_trace_reports_its_reason_and_readable_events() -> std::io::Result<()> {
        let work = tempfile::tempdir()?;
        let trace = work.path().join("trace");
        fs::create_dir(&trace)?;
        write(
            &trace,
            PARTIAL,
            r#"{"partial":true,"reason":"ERR_DISK_FULL","message":"no space"}"#,
        );
        write(
            &trace,
            EVENTS_JSON,
            "[\n{\"Path\":\"/p.py\"},\n{\"Call\":{\"function_id\":0,\"args\":[]}},\n{\"Ret",
        );
        let report = inspect(&trace, work.path());
        assert_eq!(
            report.state,
            Ok(Observed::Partial {
                reason: "ERR_DISK_FULL".to_string(),
                events: 2
            })
        );
        Ok(())
    }

    fn partial_marker(dir: &Path) {
        write(
            dir,
            PARTIAL,
            r#"{"partial":true,"reason":"ERR_DISK_FULL","message":"no space"}"#,
        );
        write(dir, EVENTS_JSON, "[\n{\"Path\":\"/p.py\"},\n");
    }

    #[test]
    fn partial_side_files_must_be_whole_and_agree_with_the_marker() -> std::io::Result<()> {
        let cases = [
            (METADATA, "", "not valid JSON"),
            (
                METADATA,
                r#"{"recorder":{"partial":false,"partial_reason":null}}"#,
                "does not say partial",
            ),
            (
                METADATA,
                r#"{"recorder":{"partial":true,"partial_reason":"ERR_IO"}}"#,
                "partial_reason",
            ),
            (PATHS, "[\"/p.p", "not valid JSON"),
        ];
        for (name, text, expected) in cases {
            let work = tempfile::tempdir()?;
            let trace = work.path().join("trace");
            fs::create_dir(&trace)?;
            partial_marker(&trace);
            write(&trace, name, text);
            let why = inspect(&trace, work.path()).state.err().unwrap_or_default();
            assert!(why.contains(expected), "{name} {text:?}: {why}");
        }
        let work = tempfile::tempdir()?;
        let trace = work.path().join("trace");
        fs::create_dir(&trace)?;
        partial_marker(&trace);
        write(
            &trace,
            METADATA,
            r#"{"recorder":{"partial":true,"partial_reason":"ERR_DISK_FULL"}}"#,
        );
        write(&trace, PATHS, r#"["/p.py"]"#);
        let report = inspect(&trace, work.path());
        assert_eq!(
            report.state.as_ref().map(Observed::state),
            Ok(TraceState::Partial),
            "{report:?}"
        );
        Ok(())
    }

    #[test]
    fn an_empty_directory_left_behind_is_a_leftover() -> std::io::Result<()> {
        let work = tempfile::tempdir()?;
        let trace = work.path().join("trace");
        fs::create_dir(&trace)?;
        let report = inspect(&trace, work.path());
        assert_eq!(report.state, Ok(Observed::Absent));
        assert_eq!(report.leftovers.len(), 1);
        Ok(())
    }
}
