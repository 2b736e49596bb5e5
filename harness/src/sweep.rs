//! `harness sweep`: count the faultfs operations of a clean run, then fail
//! each one in turn (`fail=any#i:<errno>`) and check the outcome contract.

use std::fmt::Write as _;
use std::ops::RangeInclusive;
use std::path::Path;

use recorder_errors::OnRecorderError;
use serde::Serialize;

use crate::execute::{self, Baseline, Observation};
use crate::fixtures::FixtureEvent;
use crate::inspect::{Observed, RunDirs, STAGING_PREFIX};
use crate::judge::{describe_termination, first_difference};
use crate::pool;
use crate::process::Termination;
use crate::python::Interpreter;
use crate::scenario::{Case, Faults, Launch, TraceState};
use crate::stderr::{program_stderr, recorder_text_on_stdout};
use crate::suite::dir_name;

/// The exit code of a run the recorder stopped after an injected errno (every
/// errno classifies as an Environment error): the kind's code under the CLI;
/// under the API the error is raised from `start()`/`stop()`, and a program
/// that does not catch it exits as Python does on an uncaught exception.
fn aborted_exit(launch: Launch) -> i32 {
    match launch {
        Launch::Cli => recorder_errors::ErrorKind::Environment.exit_code(),
        Launch::Api => 1,
    }
}

/// One injected fault and what came of it.
#[derive(Debug, Clone, Serialize)]
pub struct SweepRow {
    /// Operation index (from 1) that failed.
    pub index: u64,
    /// Operation kind in the clean run.
    pub kind: String,
    /// Operated path, relative to the run directory.
    pub path: String,
    /// What happened (`exit 10, trace absent`).
    pub observed: String,
    /// Contract violations (empty when green).
    pub differences: Vec<String>,
}

/// The sweep of one case.
#[derive(Debug, Clone, Serialize)]
pub struct SweepReport {
    /// Case id.
    pub id: String,
    /// The replay command for the case.
    pub replay: String,
    /// Errno injected.
    pub errno: String,
    /// Operation counts by kind in the clean run.
    pub counts: Vec<(String, usize)>,
    /// Problems with the clean run itself.
    pub clean_differences: Vec<String>,
    /// One row per operation index.
    pub rows: Vec<SweepRow>,
}

impl SweepReport {
    /// Whether the clean run and every row are green.
    pub fn passed(&self) -> bool {
        self.clean_differences.is_empty() && self.rows.iter().all(|row| row.differences.is_empty())
    }
}

/// The cases whose sweeps differ, in order. A sweep drops a case's faults and
/// expectations (but `expect.recover`, which its clean run keeps), so cases
/// with the same program (timeout aside), policy, errno and `recover` sweep
/// identically: only the first of them is kept.
pub fn distinct_sweeps<'a>(cases: impl IntoIterator<Item = &'a Case>) -> Vec<&'a Case> {
    let mut seen = std::collections::HashSet::new();
    cases
        .into_iter()
        .filter(|case| {
            let mut program = case.program.clone();
            program.timeout = std::time::Duration::ZERO;
            seen.insert(format!(
                "{program:?}|{:?}|{}|{}",
                case.policy, case.sweep.errno, case.expect.recover
            ))
        })
        .collect()
}

/// Why `harness sweep` cannot sweep `case` (it is then reported skipped), or
/// `None`.
pub fn not_sweepable(case: &Case) -> Option<String> {
    if let Some(real) = &case.faults.real {
        return Some(format!(
            "its fault is real:{} from the kernel, on the normal build, which has no faultfs operations to fail",
            real.kind()
        ));
    }
    if case.policy.follow_fork == Some(true) {
        return Some(
            "follow_fork: a forked child counts its faultfs operations on from the fork, so the fault at \
             operation N fails the parent's and the child's recordings, which one recording's judgement \
             cannot express"
                .to_string(),
        );
    }
    if case.faults.kinds() == "none" && case.expect.trace == [TraceState::Absent] {
        return Some(
            "without any fault it records nothing (trace absent), so there is no clean run to sweep"
                .to_string(),
        );
    }
    None
}

fn without_faults(case: &Case) -> Case {
    let mut clean = case.clone();
    clean.faults = Faults::default();
    clean
}

/// Runs the sweep of `case`, `jobs` runs at a time; `progress` gets each row.
pub fn sweep_case(
    interpreter: &Interpreter,
    case: &Case,
    jobs: usize,
    root: &Path,
    progress: &(dyn Fn(&SweepRow) + Sync),
) -> SweepReport {
    sweep_indices(interpreter, case, 1..=u64::MAX, jobs, root, progress)
}

/// Like [`sweep_case`], but fails only the operation indices in `indices`
/// (the clean run is still made and checked, and `counts` covers all of
/// it): a sweep split into index ranges, e.g. one test per range.
pub fn sweep_indices(
    interpreter: &Interpreter,
    case: &Case,
    indices: RangeInclusive<u64>,
    jobs: usize,
    root: &Path,
    progress: &(dyn Fn(&SweepRow) + Sync),
) -> SweepReport {
    let clean = without_faults(case);
    let case_root = root.join(dir_name(&case.id));
    let mut report = SweepReport {
        id: case.id.clone(),
        replay: format!("harness sweep {} --filter {}", case.file.display(), case.id),
        errno: case.sweep.errno.clone(),
        counts: Vec::new(),
        clean_differences: Vec::new(),
        rows: Vec::new(),
    };
    let baseline = match execute::run_untraced(interpreter, &clean, &case_root.join("untraced")) {
        Ok(baseline) => baseline,
        Err(error) => {
            report
                .clean_differences
                .push(format!("untraced run failed: {error}"));
            return report;
        }
    };
    let clean_dirs = RunDirs::new(&case_root.join("clean"));
    let observed = match execute::run_traced(interpreter, &clean, &clean_dirs) {
        Ok(observed) => observed,
        Err(error) => {
            report
                .clean_differences
                .push(format!("clean run failed: {error}"));
            return report;
        }
    };
    report.clean_differences = check_clean(&observed, &baseline);
    report.counts = observed.fixtures.op_counts().into_iter().collect();
    let mut ops = observed.fixtures.ops();
    if ops.is_empty() {
        report
            .clean_differences
            .push("the clean run logged no faultfs operation (is the interpreter a failure-fixtures build?)".to_string());
    }
    ops.retain(|(index, _, _)| indices.contains(index));
    report.rows = pool::map_ordered(&ops, jobs, |(index, kind, path)| {
        let mut faulty = clean.clone();
        // A failed operation settles the recording (absent, or partial with
        // keep-partial), so there is nothing to recover, and a `recover`
        // would hide a leftover the recorder should not have left.
        faulty.expect.recover = false;
        faulty.faults.faultfs_plan = Some(format!("fail=any#{index}:{}", case.sweep.errno));
        let dirs = RunDirs::new(&case_root.join(format!("op-{index:04}")));
        let relative = display_path(path, &clean_dirs.work);
        let row = match execute::run_traced(interpreter, &faulty, &dirs) {
            Ok(observed) => SweepRow {
                index: *index,
                kind: kind.clone(),
                path: relative,
                observed: format!(
                    "{}, trace {}",
                    describe_termination(observed.outcome.termination),
                    observed.dir.describe()
                ),
                differences: if kind == READ_KIND {
                    check_unreadable_filter(&faulty, *index, &observed, &baseline)
                } else {
                    check_faulty(&faulty, *index, &observed, &baseline)
                },
            },
            Err(error) => SweepRow {
                index: *index,
                kind: kind.clone(),
                path: relative,
                observed: "not run".to_string(),
                differences: vec![format!("harness error: {error}")],
            },
        };
        progress(&row);
        row
    });
    report
}

/// `path` relative to the run directory, with the staging directory's
/// pid-dependent name shortened to `<staging>`.
fn display_path(path: &str, work: &Path) -> String {
    let relative = path
        .strip_prefix(&work.display().to_string())
        .unwrap_or(path)
        .trim_start_matches('/');
    relative
        .split('/')
        .map(|part| {
            if part.starts_with(STAGING_PREFIX) {
                "<staging>"
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The clean run must leave a complete trace and not change the program.
fn check_clean(observed: &Observation, baseline: &Baseline) -> Vec<String> {
    let mut differences = common_checks(observed, baseline);
    if observed.outcome.termination != baseline.termination {
        differences.push(format!(
            "clean run: {}, the untraced run: {}",
            describe_termination(observed.outcome.termination),
            describe_termination(baseline.termination)
        ));
    }
    if observed.outcome.stdout != baseline.stdout {
        differences.push(format!(
            "clean run stdout differs from the untraced run: {}",
            first_difference(
                &String::from_utf8_lossy(&baseline.stdout),
                &String::from_utf8_lossy(&observed.outcome.stdout)
            )
        ));
    }
    if program_stderr(&observed.outcome.stderr) != baseline.stderr {
        differences.push(format!(
            "clean run: the program's stderr differs from the untraced run: {}",
            stderr_difference(observed, baseline)
        ));
    }
    let terminated = matches!(&observed.dir.state,
        Ok(Observed::Partial { reason, .. }) if reason == recorder_errors::ErrorCode::Terminated.as_str());
    // A program that ends by `os._exit` leaves its recording to `recover`,
    // which the clean run of an `expect.recover` case has run.
    let recovered = observed.recovery.is_some()
        && matches!(&observed.dir.state,
            Ok(Observed::Partial { reason, .. }) if reason == recorder_errors::ErrorCode::ProcessDied.as_str());
    if !matches!(observed.dir.state, Ok(Observed::Complete(_))) && !terminated && !recovered {
        differences.push(format!(
            "clean run left trace {}, expected complete",
            observed.dir.describe()
        ));
    }
    differences
}

/// Where the program's stderr (the recorder's lines left out) first differs from the untraced run's.
fn stderr_difference(observed: &Observation, baseline: &Baseline) -> String {
    first_difference(
        &String::from_utf8_lossy(&baseline.stderr),
        &String::from_utf8_lossy(&program_stderr(&observed.outcome.stderr)),
    )
}

/// Checks every run must pass: no hang, no crash (a death by the signal the
/// untraced program dies by too, such as its own SIGTERM, is its own ending),
/// a valid state, no leftovers.
fn common_checks(observed: &Observation, baseline: &Baseline) -> Vec<String> {
    let mut differences = Vec::new();
    match observed.outcome.termination {
        Termination::TimedOut => differences.push("hang (process group killed)".to_string()),
        Termination::Signaled(_) if observed.outcome.termination == baseline.termination => {}
        Termination::Signaled(signal) => {
            differences.push(format!("died by {}", crate::judge::signal_name(signal)))
        }
        Termination::Exited(_) => {}
    }
    if let Err(why) = &observed.dir.state {
        differences.push(format!("output directory in no valid state: {why}"));
    }
    differences.extend(observed.dir.leftovers.iter().cloned());
    if let Some(line) = recorder_text_on_stdout(&String::from_utf8_lossy(&observed.outcome.stdout))
    {
        differences.push(format!("recorder output on stdout: {line}"));
    }
    differences
}

/// The faultfs operation that reads a file: the recorder reads only its
/// trace filters, before the program starts.
const READ_KIND: &str = "read";

/// Whether the fault at operation `index` fired in this run.
fn fault_fired(observed: &Observation, index: u64) -> bool {
    observed
        .fixtures
        .events
        .iter()
        .any(|event| matches!(event, FixtureEvent::Fault { index: i, .. } if *i == index))
}

/// The contract for a run whose trace filter could not be read: like a
/// malformed filter, a Usage error (`ERR_INVALID_TRACE_FILTER`) under either
/// policy, before the program starts (CLI: exit 2; API: `start()` raises),
/// and nothing written.
fn check_unreadable_filter(
    case: &Case,
    index: u64,
    observed: &Observation,
    baseline: &Baseline,
) -> Vec<String> {
    const CODE: &str = "ERR_INVALID_TRACE_FILTER";
    let mut differences = common_checks(observed, baseline);
    if !fault_fired(observed, index) {
        differences.push(format!("fault at operation #{index} never fired"));
    }
    let expected = match case.program.launch {
        Launch::Cli => recorder_errors::ErrorKind::Usage.exit_code(),
        Launch::Api => 1,
    };
    let code = observed.outcome.termination.shell_code();
    if code != Some(expected) {
        differences.push(format!(
            "{} after the trace filter could not be read, expected exit {expected} under either policy",
            describe_termination(observed.outcome.termination)
        ));
    }
    if !baseline.stdout.starts_with(&observed.outcome.stdout) {
        differences.push("stdout is not a prefix of the untraced run's".to_string());
    }
    if !matches!(observed.dir.state, Ok(Observed::Absent)) {
        differences.push(format!(
            "trace {} after the trace filter could not be read, expected absent",
            observed.dir.describe()
        ));
    }
    if !observed.stderr.codes.iter().any(|found| found == CODE) {
        differences.push(format!("no {CODE} reported on stderr"));
    }
    let trailers = observed.stderr.trailers.len();
    if case.policy.json_errors() && trailers != 1 {
        differences.push(format!(
            "{trailers} JSON error trailers, expected exactly 1"
        ));
    }
    differences
}

/// The outcome contract for a run whose `index`-th operation failed.
fn check_faulty(
    case: &Case,
    index: u64,
    observed: &Observation,
    baseline: &Baseline,
) -> Vec<String> {
    let mut differences = common_checks(observed, baseline);
    if !fault_fired(observed, index) {
        differences.push(format!(
            "fault at operation #{index} never fired (this run did fewer operations than the clean run)"
        ));
    }
    let own = baseline.termination.shell_code();
    let code = observed.outcome.termination.shell_code();
    let state = observed.dir.state.as_ref().ok().map(Observed::state);
    let stdout_same = observed.outcome.stdout == baseline.stdout;
    let program_stderr = program_stderr(&observed.outcome.stderr);
    let stderr_same = program_stderr == baseline.stderr;
    // The program ends itself by a signal (its own SIGTERM): the recorder
    // cannot report anything after it, so any valid state is its outcome.
    let own_signal = matches!(baseline.termination, Termination::Signaled(_))
        && observed.outcome.termination == baseline.termination;
    let trailers = observed.stderr.trailers.len();
    if let Ok(Observed::Partial { reason, .. }) = &observed.dir.state {
        let terminated = reason == recorder_errors::ErrorCode::Terminated.as_str();
        if !case.policy.keep_partial() && !terminated {
            differences.push("partial trace kept although keep_partial_trace is off".to_string());
        }
    }
    if case.policy.json_errors() && trailers > 1 {
        differences.push(format!(
            "{trailers} JSON error trailers, at most one expected"
        ));
    }
    match case.policy.on_error() {
        OnRecorderError::Abort => {
            let stopped = aborted_exit(case.program.launch);
            if code == Some(stopped) && own != Some(stopped) {
                if state == Some(TraceState::Complete) {
                    differences.push(format!(
                        "aborted with exit {stopped} but left a complete trace"
                    ));
                }
                if !baseline.stdout.starts_with(&observed.outcome.stdout) {
                    differences.push("stdout is not a prefix of the untraced run's".to_string());
                }
                // Under the API the error's own traceback follows the program's stderr.
                if case.program.launch == Launch::Cli
                    && !baseline.stderr.starts_with(&program_stderr)
                {
                    differences.push(format!(
                        "the program's stderr is not a prefix of the untraced run's: {}",
                        stderr_difference(observed, baseline)
                    ));
                }
                if case.policy.json_errors() && trailers != 1 {
                    differences.push(format!(
                        "{trailers} JSON error trailers, expected exactly 1"
                    ));
                }
                let classes = observed.stderr.exception_classes();
                if !classes.iter().any(|class| class == "EnvironmentError") {
                    differences.push(format!(
                        "no EnvironmentError reported (seen: {})",
                        if classes.is_empty() {
                            "none".to_string()
                        } else {
                            classes.join(", ")
                        }
                    ));
                }
            } else if code == own {
                if state != Some(TraceState::Complete) && observed.dir.state.is_ok() && !own_signal
                {
                    differences.push(format!(
                        "the program exited with its own code under abort but the trace is {}",
                        observed.dir.describe()
                    ));
                }
                if !stdout_same {
                    differences.push("stdout differs from the untraced run".to_string());
                }
                if !stderr_same {
                    differences.push(format!(
                        "the program's stderr differs from the untraced run: {}",
                        stderr_difference(observed, baseline)
                    ));
                }
            } else if code.is_some() {
                differences.push(format!(
                    "{}, expected {stopped} (abort) or the program's own {}",
                    describe_termination(observed.outcome.termination),
                    own.map_or_else(|| "?".to_string(), |c| c.to_string())
                ));
            }
        }
        OnRecorderError::Disable => {
            if code.is_some() && code != own {
                differences.push(format!(
                    "{} under disable, the program's own is {}",
                    describe_termination(observed.outcome.termination),
                    describe_termination(baseline.termination)
                ));
            }
            if !stdout_same {
                differences.push(format!(
                    "stdout differs from the untraced run: {}",
                    first_difference(
                        &String::from_utf8_lossy(&baseline.stdout),
                        &String::from_utf8_lossy(&observed.outcome.stdout)
                    )
                ));
            }
            if !stderr_same {
                differences.push(format!(
                    "the program's stderr differs from the untraced run: {}",
                    stderr_difference(observed, baseline)
                ));
            }
            if state != Some(TraceState::Complete)
                && observed.stderr_text.trim().is_empty()
                && !own_signal
            {
                differences.push("the trace was dropped without a warning on stderr".to_string());
            }
        }
    }
    differences
}

/// The printed table: index, op kind, path, outcome, verdict.
pub fn table(report: &SweepReport) -> String {
    let mut text = String::new();
    let counts: Vec<String> = report
        .counts
        .iter()
        .map(|(kind, n)| format!("{kind} {n}"))
        .collect();
    let _ = writeln!(
        text,
        "sweep {} ({} operations: {}; injecting {})",
        report.id,
        report.rows.len(),
        counts.join(", "),
        report.errno
    );
    for difference in &report.clean_differences {
        let _ = writeln!(text, "  clean run: {difference}");
    }
    let path_width = report
        .rows
        .iter()
        .map(|r| r.path.len())
        .max()
        .unwrap_or(4)
        .clamp(4, 48);
    let _ = writeln!(
        text,
        "  {:>5}  {:<6}  {:<path_width$}  {:<4}  outcome",
        "op", "kind", "path", "ok"
    );
    for row in &report.rows {
        let verdict = if row.differences.is_empty() {
            "ok"
        } else {
            "FAIL"
        };
        let _ = writeln!(
            text,
            "  {:>5}  {:<6}  {:<path_width$}  {:<4}  {}",
            row.index, row.kind, row.path, verdict, row.observed
        );
        for difference in &row.differences {
            let _ = writeln!(text, "  {:>5}  - {difference}", "");
        }
    }
    let failed = report
        .rows
        .iter()
        .filter(|r| !r.differences.is_empty())
        .count();
    let _ = writeln!(
        text,
        "  {} of {} operation indices green{}",
        report.rows.len() - failed,
        report.rows.len(),
        if report.passed() {
            String::new()
        } else {
            format!("; replay: {}", report.replay)
        }
    );
    text
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{distinct_sweeps, not_sweepable};
    use crate::scenario;

    #[test]
    fn follow_fork_cases_are_skipped_with_the_reason() {
        let text = r#"
[program]
source = "print('hi')"
[expect]
exit_code = 0
trace = "complete"
[[case]]
name = "plain"
[[case]]
name = "forks"
policy.follow_fork = true
"#;
        let file = match scenario::parse(Path::new("scenarios/x.toml"), text) {
            Ok(file) => file,
            Err(error) => panic!("{error}"),
        };
        assert_eq!(not_sweepable(&file.cases[0]), None);
        let why = not_sweepable(&file.cases[1]).unwrap_or_default();
        assert!(why.starts_with("follow_fork: "), "{why}");
    }

    #[test]
    fn a_case_that_records_nothing_without_a_fault_is_skipped() {
        let text = r#"
[program]
source = "print('hi')"
[expect]
exit_code = 2
trace = "absent"
[[case]]
name = "never_records"
[[case]]
name = "quota"
faults.faultfs_plan = "quota=10"
"#;
        let file = match scenario::parse(Path::new("scenarios/x.toml"), text) {
            Ok(file) => file,
            Err(error) => panic!("{error}"),
        };
        assert!(not_sweepable(&file.cases[0]).is_some_and(|why| why.contains("records nothing")));
        assert_eq!(not_sweepable(&file.cases[1]), None);
    }

    #[test]
    fn cases_differing_only_in_faults_and_expectations_share_one_sweep() {
        let text = r#"
[program]
source = "print('hi')"
[policy]
json_errors = true
[expect]
exit_code = 10
trace = "absent"
[[case]]
name = "quota"
faults.faultfs_plan = "quota=10"
policy.on_recorder_error = "abort"
[[case]]
name = "writer"
program.timeout_ms = 9000
faults.failpoints = { "recorder::writer" = "return(EIO)" }
policy.on_recorder_error = "abort"
[[case]]
name = "disable"
policy.on_recorder_error = "disable"
[[case]]
name = "eio"
policy.on_recorder_error = "abort"
sweep.errno = "EIO"
[[case]]
name = "dies"
policy.on_recorder_error = "abort"
expect.recover = true
"#;
        let file = match scenario::parse(Path::new("scenarios/x.toml"), text) {
            Ok(file) => file,
            Err(error) => panic!("{error}"),
        };
        let ids: Vec<&str> = distinct_sweeps(&file.cases)
            .into_iter()
            .map(|case| case.id.as_str())
            .collect();
        assert_eq!(ids, ["x::quota", "x::disable", "x::eio", "x::dies"]);
    }
}
