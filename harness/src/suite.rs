//! Running many cases: a fixed pool of workers (`pool`), isolated directories, one
//! untraced baseline per distinct program, results in input order.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::execute::{self, Baseline};
use crate::inspect::RunDirs;
use crate::judge::{self, describe_termination};
use crate::pool;
use crate::python::Interpreter;
use crate::realfault;
use crate::scenario::Case;

/// The verdict on one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every expectation held.
    Pass,
    /// Something differed.
    Fail,
    /// The case's real fault cannot be set up here; `observed` says why.
    Skip,
}

/// The result of one case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// Case id.
    pub id: String,
    /// Scenario file.
    pub file: PathBuf,
    /// Pass or fail.
    pub verdict: Verdict,
    /// Wall time of the traced run.
    pub duration_ms: u128,
    /// What was observed, in a few words (`exit 10, trace absent`).
    pub observed: String,
    /// What differed from the expectations (empty on pass).
    pub differences: Vec<String>,
    /// The command that replays just this case.
    pub replay: String,
    /// The traced command line.
    pub command: String,
}

/// Where runs keep their files.
#[derive(Debug)]
pub enum Workspace {
    /// A temporary directory removed at the end.
    Temp(tempfile::TempDir),
    /// A directory the user asked to keep.
    Kept(PathBuf),
}

impl Workspace {
    /// A temporary workspace, or `keep` when given.
    pub fn new(keep: Option<&Path>) -> std::io::Result<Workspace> {
        match keep {
            Some(path) => {
                std::fs::create_dir_all(path)?;
                Ok(Workspace::Kept(path.to_path_buf()))
            }
            None => Ok(Workspace::Temp(
                tempfile::Builder::new().prefix("harness-").tempdir()?,
            )),
        }
    }

    /// The workspace root.
    pub fn root(&self) -> &Path {
        match self {
            Workspace::Temp(dir) => dir.path(),
            Workspace::Kept(path) => path,
        }
    }
}

/// A directory name for a case id (`disk_full::abort` -> `disk_full__abort`).
pub fn dir_name(id: &str) -> String {
    id.replace("::", "__")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The one-line command that replays a case.
pub fn replay_command(case: &Case) -> String {
    format!("harness run {} --filter {}", case.file.display(), case.id)
}

type BaselineSlot = Arc<OnceLock<Result<Baseline, String>>>;

/// Untraced baselines shared between cases that run the same program.
#[derive(Debug, Default)]
pub struct Baselines {
    slots: Mutex<HashMap<String, BaselineSlot>>,
    counter: AtomicUsize,
}

impl Baselines {
    /// The baseline of `case`'s program, computed once per distinct program.
    pub fn get(
        &self,
        interpreter: &Interpreter,
        case: &Case,
        root: &Path,
    ) -> Result<Baseline, String> {
        let key = format!(
            "{:?}|{:?}|{:?}|{:?}",
            case.program.source, case.program.args, case.program.stdin, case.program.env
        );
        let slot = {
            let mut slots = self
                .slots
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            slots.entry(key).or_default().clone()
        };
        slot.get_or_init(|| {
            let n = self.counter.fetch_add(1, Ordering::SeqCst);
            let dir = root
                .join("untraced")
                .join(format!("{n}-{}", dir_name(&case.id)));
            execute::run_untraced(interpreter, case, &dir).map_err(|error| error.to_string())
        })
        .clone()
    }
}

/// Runs one case (and its baseline if needed) under `root` and judges it.
pub fn run_case(
    interpreter: &Interpreter,
    case: &Case,
    root: &Path,
    baselines: &Baselines,
) -> CaseResult {
    let started = Instant::now();
    let mut result = CaseResult {
        id: case.id.clone(),
        file: case.file.clone(),
        verdict: Verdict::Fail,
        duration_ms: 0,
        observed: String::new(),
        differences: Vec::new(),
        replay: replay_command(case),
        command: String::new(),
    };
    if let Some(why) = case.faults.real.as_ref().and_then(realfault::unavailable) {
        return skipped(result, &why, started);
    }
    let baseline = if case.expect.needs_baseline() {
        Some(baselines.get(interpreter, case, root))
    } else {
        None
    };
    let dirs = RunDirs::new(&root.join(dir_name(&case.id)));
    if let Some(Err(why)) = &baseline {
        result
            .differences
            .push(format!("the untraced baseline run failed: {why}"));
        result.duration_ms = started.elapsed().as_millis();
        return result;
    }
    match execute::run_case(interpreter, case, &dirs) {
        Ok(execute::Traced::Skipped(why)) => return skipped(result, &why, started),
        Ok(execute::Traced::Observed(observed)) => {
            let base = baseline.and_then(Result::ok);
            result.differences = judge::judge(case, &observed, base.as_ref());
            result.duration_ms = observed.outcome.duration.as_millis();
            result.observed = format!(
                "{}, trace {}",
                describe_termination(observed.outcome.termination),
                observed.dir.describe()
            );
            result.command = observed.command;
        }
        Err(error) => {
            result.differences.push(format!("harness error: {error}"));
            result.duration_ms = started.elapsed().as_millis();
        }
    }
    if result.differences.is_empty() {
        result.verdict = Verdict::Pass;
    }
    result
}

/// `result` as skipped because of `why`.
fn skipped(mut result: CaseResult, why: &str, started: Instant) -> CaseResult {
    result.verdict = Verdict::Skip;
    result.observed = format!("skipped: {why}");
    result.duration_ms = started.elapsed().as_millis();
    result
}

/// Runs `cases` on `jobs` workers; `progress` is called as each one finishes
/// (with its position in completion order). Results come back in input order.
pub fn run_all(
    interpreter: &Interpreter,
    cases: &[Case],
    jobs: usize,
    root: &Path,
    progress: &(dyn Fn(usize, usize, &CaseResult) + Sync),
) -> Vec<CaseResult> {
    let baselines = Baselines::default();
    let done = AtomicUsize::new(0);
    pool::map_ordered(cases, jobs, |case| {
        let result = run_case(interpreter, case, root, &baselines);
        let finished = done.fetch_add(1, Ordering::SeqCst) + 1;
        progress(finished, cases.len(), &result);
        result
    })
}

/// Total wall time as seconds with two decimals.
pub fn seconds(duration: Duration) -> String {
    format!("{:.2}s", duration.as_secs_f64())
}
