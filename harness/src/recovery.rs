//! The `kill` fault's second half: after the program was SIGKILLed, note
//! which whole events its dead recording had on disk, run
//! `python -m codetracer_python_recorder recover <trace dir>`, and judge the
//! result: the kill fired, `recover` succeeded, and the recovered trace is
//! balanced and keeps every event that was on disk, in order.
//!
//! The events on disk are read here independently of the recorder: JSON line
//! by line, binary by decompressing the zstd stream as far as it is whole and
//! decoding CBOR events until one is cut.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use recorder_errors::RecorderResult;
use runtime_tracing::TraceLowLevelEvent;

use crate::execute::Observation;
use crate::inspect::{self, EVENTS_BIN, EVENTS_JSON, STAGING_PREFIX};
use crate::process::{self, Outcome, Spawn, Termination};
use crate::python::Interpreter;
use crate::scenario::Case;

/// `runtime_tracing`'s binary header.
const HEADERV1: [u8; 8] = [0xC0, 0xDE, 0x72, 0xAC, 0xE2, 0x01, 0x00, 0x00];

/// What the harness saw of a recovery.
#[derive(Debug, Clone)]
pub struct RecoveryRun {
    /// The whole events the dead recording had on disk, or why they could not be read.
    pub on_disk: Result<Vec<TraceLowLevelEvent>, String>,
    /// How `recover` ended.
    pub outcome: Outcome,
    /// Its command line.
    pub command: String,
}

/// Reads what the dead recording left in `trace_dir`, then runs `recover` on it.
pub fn run(
    interpreter: &Interpreter,
    trace_dir: &Path,
    cwd: &Path,
    env: Vec<(OsString, OsString)>,
) -> RecorderResult<RecoveryRun> {
    let on_disk = events_on_disk(trace_dir);
    let args: Vec<OsString> = vec![
        "-m".into(),
        "codetracer_python_recorder".into(),
        "recover".into(),
        trace_dir.as_os_str().to_os_string(),
    ];
    let command = format!(
        "{} -m codetracer_python_recorder recover {}",
        interpreter.path.display(),
        trace_dir.display()
    );
    let outcome = process::run(&Spawn {
        program: interpreter.path.clone(),
        args,
        command_line: command.clone(),
        cwd: cwd.to_path_buf(),
        env,
        stdin: Vec::new(),
        timeout: std::time::Duration::from_secs(60),
        signal: None,
        child_hook: None,
    })?;
    Ok(RecoveryRun {
        on_disk,
        outcome,
        command,
    })
}

/// The differences of a killed case's run from what the kill and `recover` must give.
pub fn judge(case: &Case, observed: &Observation) -> Vec<String> {
    let Some(kill) = &case.faults.kill else {
        return Vec::new();
    };
    let mut differences = Vec::new();
    if observed.fixtures.kill_fired().is_none() {
        differences.push(format!(
            "kill={kill} never fired (not reached, or the interpreter is not a failure-fixtures build)"
        ));
    }
    let Some(recovery) = &observed.recovery else {
        differences.push("recover was not run".to_string());
        return differences;
    };
    if recovery.outcome.termination != Termination::Exited(0) {
        differences.push(format!(
            "`{}` failed ({:?}): {}",
            recovery.command,
            recovery.outcome.termination,
            String::from_utf8_lossy(&recovery.outcome.stderr).trim()
        ));
        return differences;
    }
    let on_disk = match &recovery.on_disk {
        Ok(events) => events,
        Err(why) => {
            differences.push(format!("the dead recording's events: {why}"));
            return differences;
        }
    };
    match recovered_events(&observed.dir_path) {
        Err(why) => differences.push(format!("recovered trace: {why}")),
        Ok(recovered) => {
            if let Err(why) = inspect::check_balance(&recovered) {
                differences.push(format!("recovered trace is unbalanced: {why}"));
            }
            let kept = recovered.len() >= on_disk.len()
                && texts(&recovered[..on_disk.len()]) == texts(on_disk);
            if !kept {
                differences.push(format!(
                    "recovered trace does not begin with the {} whole events the dead recording had on disk ({} recovered)",
                    on_disk.len(),
                    recovered.len()
                ));
            }
        }
    }
    differences
}

/// Every whole event of the dead recording's events file (in its staging
/// directory, or already placed in `trace_dir` by a commit it died in).
fn events_on_disk(trace_dir: &Path) -> Result<Vec<TraceLowLevelEvent>, String> {
    let staging: Vec<PathBuf> = fs::read_dir(trace_dir)
        .map_err(|e| format!("{} unreadable: {e}", trace_dir.display()))?
        .filter_map(Result::ok)
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .starts_with(STAGING_PREFIX)
        })
        .map(|entry| entry.path())
        .collect();
    for dir in staging
        .iter()
        .chain(std::iter::once(&trace_dir.to_path_buf()))
    {
        if dir.join(EVENTS_JSON).is_file() {
            return inspect::load_partial_json(&dir.join(EVENTS_JSON));
        }
        if dir.join(EVENTS_BIN).is_file() {
            let bytes = fs::read(dir.join(EVENTS_BIN)).map_err(|e| e.to_string())?;
            return Ok(binary_prefix(&bytes));
        }
    }
    Ok(Vec::new())
}

/// The events of the recovered trace.
fn recovered_events(trace_dir: &Path) -> Result<Vec<TraceLowLevelEvent>, String> {
    if trace_dir.join(EVENTS_JSON).is_file() {
        inspect::load_complete(&trace_dir.join(EVENTS_JSON), false)
    } else if trace_dir.join(EVENTS_BIN).is_file() {
        inspect::load_complete(&trace_dir.join(EVENTS_BIN), true)
    } else {
        Err("no events file".to_string())
    }
}

/// The whole events at the start of a possibly cut binary events file.
fn binary_prefix(bytes: &[u8]) -> Vec<TraceLowLevelEvent> {
    let Some(stream) = bytes.strip_prefix(&HEADERV1[..]) else {
        return Vec::new();
    };
    let mut dctx = zstd_safe::DCtx::create();
    let mut input = zstd_safe::InBuffer::around(stream);
    let mut step = vec![0u8; 1 << 17];
    let mut cbor = Vec::new();
    loop {
        let before = input.pos();
        let mut output = zstd_safe::OutBuffer::around(&mut step[..]);
        if dctx.decompress_stream(&mut output, &mut input).is_err() {
            break;
        }
        let produced = output.pos();
        cbor.extend_from_slice(&step[..produced]);
        if produced == 0 && input.pos() == before {
            break;
        }
    }
    let mut rest: &[u8] = &cbor;
    let mut events = Vec::new();
    while !rest.is_empty() {
        match cbor4ii::serde::from_reader::<TraceLowLevelEvent, _>(&mut rest) {
            Ok(event) => events.push(event),
            Err(_) => break,
        }
    }
    events
}

/// Events as JSON text, to compare them (they have no `PartialEq`).
fn texts(events: &[TraceLowLevelEvent]) -> Vec<String> {
    events
        .iter()
        .map(|event| serde_json::to_string(event).unwrap_or_default())
        .collect()
}
