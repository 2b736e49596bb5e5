//! Judging an observed run against a case's expectations and the outcome
//! contract; every difference is one human-readable line.

use crate::execute::{Baseline, Observation};
use crate::inspect::Observed;
use crate::process::Termination;
use crate::scenario::{Case, ExitExpect, StdoutExpect, TraceState};
use crate::stderr::{program_stderr, recorder_text_on_stdout};

/// Signals that always mean the run failed, whatever the scenario expects.
const CRASH_SIGNALS: &[(i32, &str)] = &[
    (libc::SIGSEGV, "SIGSEGV"),
    (libc::SIGABRT, "SIGABRT"),
    (libc::SIGBUS, "SIGBUS"),
    (libc::SIGILL, "SIGILL"),
    (libc::SIGFPE, "SIGFPE"),
];

/// A signal's name for reports.
pub fn signal_name(signal: i32) -> String {
    let names = [
        (libc::SIGINT, "SIGINT"),
        (libc::SIGTERM, "SIGTERM"),
        (libc::SIGKILL, "SIGKILL"),
        (libc::SIGHUP, "SIGHUP"),
        (libc::SIGQUIT, "SIGQUIT"),
        (libc::SIGPIPE, "SIGPIPE"),
    ];
    CRASH_SIGNALS
        .iter()
        .chain(names.iter())
        .find(|(number, _)| *number == signal)
        .map_or_else(
            || format!("signal {signal}"),
            |(_, name)| (*name).to_string(),
        )
}

/// How a run ended, for reports: `exit 10`, `SIGINT (130)`, `hang`.
pub fn describe_termination(termination: Termination) -> String {
    match termination {
        Termination::Exited(code) => format!("exit {code}"),
        Termination::Signaled(signal) => format!("{} ({})", signal_name(signal), 128 + signal),
        Termination::TimedOut => "hang".to_string(),
    }
}

/// Every way the run differs from what `case` expects; empty means pass.
pub fn judge(case: &Case, observed: &Observation, baseline: Option<&Baseline>) -> Vec<String> {
    let mut differences = Vec::new();
    let expect = &case.expect;
    let outcome = &observed.outcome;
    let stdout = String::from_utf8_lossy(&outcome.stdout);
    match outcome.termination {
        Termination::TimedOut => differences.push(format!(
            "hang: still running after {} ms, process group killed",
            case.program.timeout.as_millis()
        )),
        Termination::Signaled(signal) if CRASH_SIGNALS.iter().any(|(n, _)| *n == signal) => {
            differences.push(format!(
                "died by {}{}",
                signal_name(signal),
                stderr_tail(&observed.stderr_text)
            ));
        }
        _ => {}
    }
    for (name, action) in &case.faults.failpoints {
        let fired = observed.fixtures.failpoint_fired(name);
        if expect.not_reached.contains(name) {
            if fired {
                differences.push(format!(
                    "fail point {name}={action} was reached; the case expects it never is"
                ));
            }
        } else if !fired {
            differences.push(format!(
                "fail point {name}={action} never fired (not reached, or the interpreter is not a failure-fixtures build)"
            ));
        }
    }
    if !expect.not_reached.is_empty() && observed.fixtures.ops().is_empty() {
        differences.push(
            "the fixture log shows no faultfs operation, so an unreached fail point proves nothing (is the interpreter a failure-fixtures build?)"
                .to_string(),
        );
    }
    if let Some(signal) = &case.faults.signal {
        if outcome.signal_sent_after.is_none() {
            differences.push(format!(
                "{} was never sent (its trigger did not happen)",
                signal.name
            ));
        }
    }
    check_exit(
        case,
        outcome.termination,
        baseline,
        &observed.stderr_text,
        &mut differences,
    );
    check_trace(case, observed, &mut differences);
    check_reported_output(observed, &mut differences);
    differences.extend(crate::recovery::judge(case, observed));
    differences.extend(observed.dir.leftovers.iter().cloned());
    check_errors(case, observed, &mut differences);
    match (&expect.stdout, baseline) {
        (StdoutExpect::Any, _) => {}
        (StdoutExpect::Equals(text), _) => {
            if stdout != text.as_str() {
                differences.push(format!(
                    "stdout differs from the expected text: {}",
                    first_difference(text, &stdout)
                ));
            }
        }
        (StdoutExpect::SameAsUntraced, Some(base)) => {
            if outcome.stdout != base.stdout {
                let untraced = String::from_utf8_lossy(&base.stdout);
                differences.push(format!(
                    "stdout differs from the untraced run: {}",
                    first_difference(&untraced, &stdout)
                ));
            }
        }
        (StdoutExpect::PrefixOfUntraced, Some(base)) => {
            if !base.stdout.starts_with(&outcome.stdout) {
                let untraced = String::from_utf8_lossy(&base.stdout);
                differences.push(format!(
                    "stdout is not a prefix of the untraced run's: {}",
                    first_difference(&untraced, &stdout)
                ));
            }
        }
        (_, None) => differences.push("no untraced baseline to compare stdout with".to_string()),
    }
    if let Some(line) = recorder_text_on_stdout(&stdout) {
        differences.push(format!("recorder output on stdout: {}", clip(&line)));
    }
    check_program_stderr(
        &expect.program_stderr,
        &outcome.stderr,
        baseline,
        &mut differences,
    );
    for pattern in &expect.stderr {
        if !pattern.is_match(&observed.stderr_text) {
            differences.push(format!(
                "stderr does not match /{pattern}/{}",
                stderr_tail(&observed.stderr_text)
            ));
        }
    }
    for pattern in &expect.stderr_not {
        if let Some(found) = pattern.find(&observed.stderr_text) {
            differences.push(format!(
                "stderr matches /{pattern}/ (forbidden): {}",
                clip(found.as_str())
            ));
        }
    }
    if let Some(limit) = expect.max_duration {
        if outcome.duration > limit {
            differences.push(format!(
                "took {} ms, more than max_duration_ms = {}",
                outcome.duration.as_millis(),
                limit.as_millis()
            ));
        }
    }
    differences
}

fn check_exit(
    case: &Case,
    termination: Termination,
    baseline: Option<&Baseline>,
    stderr: &str,
    differences: &mut Vec<String>,
) {
    let Some(code) = termination.shell_code() else {
        return;
    };
    let expected: Vec<i32> = match (&case.expect.exit_code, baseline) {
        (ExitExpect::Codes(codes), _) => codes.clone(),
        (ExitExpect::SameAsUntraced, Some(base)) => {
            base.termination.shell_code().into_iter().collect()
        }
        (ExitExpect::SameAsUntraced, None) => {
            differences.push("no untraced baseline to compare the exit code with".to_string());
            return;
        }
    };
    if !expected.contains(&code) {
        let wanted: Vec<String> = expected.iter().map(i32::to_string).collect();
        differences.push(format!(
            "{}, expected exit code {}{}",
            describe_termination(termination),
            wanted.join(" or "),
            stderr_tail(stderr)
        ));
    }
}

fn check_trace(case: &Case, observed: &Observation, differences: &mut Vec<String>) {
    let expect = &case.expect;
    match &observed.dir.state {
        Err(why) => differences.push(format!("output directory in no valid state: {why}")),
        Ok(state) => {
            if !expect.trace.is_empty() && !expect.trace.contains(&state.state()) {
                let wanted: Vec<&str> = expect.trace.iter().map(|s| s.as_str()).collect();
                differences.push(format!(
                    "trace {}, expected {}",
                    observed.dir.describe(),
                    wanted.join(" or ")
                ));
            }
            let readable = match state {
                Observed::Complete(balance) => Some(balance.events),
                Observed::Partial { events, .. } => Some(*events),
                Observed::Absent => None,
            };
            if let (Some(min), Some(events)) = (expect.min_events, readable) {
                if events < min {
                    differences.push(format!(
                        "the trace holds {events} readable events, expected at least {min}"
                    ));
                }
            }
            if let (Observed::Partial { reason, .. }, Some(wanted)) =
                (state, &expect.partial_reason)
            {
                if reason != wanted {
                    differences.push(format!("partial trace reason {reason}, expected {wanted}"));
                }
            }
            // SIGTERM/SIGHUP keep the trace partial whatever the policy says,
            // and after a kill `recover` made it.
            let terminated = matches!(state, Observed::Partial { reason, .. }
                if reason == recorder_errors::ErrorCode::Terminated.as_str());
            let recovered = case.recovers();
            if state.state() == TraceState::Partial
                && !case.policy.keep_partial()
                && !terminated
                && !recovered
            {
                differences.push(
                    "a partial trace was kept although keep_partial_trace is off".to_string(),
                );
            }
        }
    }
}

/// The output state an error reports (its trailer's `output`) must be the
/// one on disk: `absent` with nothing left, `partial` with a marked partial
/// trace, `partial-leftovers` with something left. (A killed case is judged after
/// `recover`, so its directory no longer shows what the error said.)
fn check_reported_output(observed: &Observation, differences: &mut Vec<String>) {
    if observed.recovery.is_some() {
        return;
    }
    let state = observed.dir.state.as_ref().ok().map(Observed::state);
    let leftovers = !observed.dir.leftovers.is_empty();
    for trailer in &observed.stderr.trailers {
        let Some(output) = trailer.output.as_deref() else {
            continue;
        };
        let matches = match output {
            "absent" => state == Some(TraceState::Absent) && !leftovers,
            "partial" => state == Some(TraceState::Partial),
            // Whatever is left (files in no valid state included), something is.
            "partial-leftovers" => leftovers || state != Some(TraceState::Absent),
            "complete" => state == Some(TraceState::Complete),
            _ => false,
        };
        if !matches {
            differences.push(format!(
                "{} reports output={output}, but the trace directory is {}{}",
                trailer.error_code,
                observed.dir.describe(),
                if leftovers { " with leftovers" } else { "" }
            ));
        }
    }
}

fn check_errors(case: &Case, observed: &Observation, differences: &mut Vec<String>) {
    let expect = &case.expect;
    let report = &observed.stderr;
    if !expect.error_code.is_empty()
        && !expect
            .error_code
            .iter()
            .any(|code| report.codes.contains(code))
    {
        let seen = if report.codes.is_empty() {
            "none".to_string()
        } else {
            report.codes.join(", ")
        };
        differences.push(format!(
            "error code {} not reported (seen: {seen}){}",
            expect.error_code.join(" or "),
            stderr_tail(&observed.stderr_text)
        ));
    }
    if let Some(class) = &expect.exception {
        let classes = report.exception_classes();
        if !classes.contains(class) {
            let seen = if classes.is_empty() {
                "none".to_string()
            } else {
                classes.join(", ")
            };
            differences.push(format!("exception {class} not raised (seen: {seen})"));
        }
    }
    let wanted_trailers = expect
        .trailers
        .or_else(|| (case.policy.json_errors() && !expect.error_code.is_empty()).then_some(1));
    if let Some(wanted) = wanted_trailers {
        if report.trailers.len() != wanted {
            differences.push(format!(
                "{} JSON error trailer(s) on stderr, expected exactly {wanted}",
                report.trailers.len()
            ));
        }
    }
}

/// Where two texts first differ, as `line N: expected "..." got "..."`.
pub fn first_difference(expected: &str, actual: &str) -> String {
    let mut expected_lines = expected.split_inclusive('\n');
    let mut actual_lines = actual.split_inclusive('\n');
    let mut number = 1;
    loop {
        match (expected_lines.next(), actual_lines.next()) {
            (Some(a), Some(b)) if a == b => number += 1,
            (None, None) => return "identical".to_string(),
            (a, b) => {
                let show = |line: Option<&str>| {
                    line.map_or_else(|| "end of output".to_string(), |l| format!("{:?}", clip(l)))
                };
                return format!("line {number}: expected {} got {}", show(a), show(b));
            }
        }
    }
}

fn clip(text: &str) -> String {
    const LIMIT: usize = 160;
    if text.chars().count() <= LIMIT {
        text.to_string()
    } else {
        format!("{}...", text.chars().take(LIMIT).collect::<String>())
    }
}

/// `; stderr ends: <last line>` or nothing.
fn stderr_tail(stderr: &str) -> String {
    stderr
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .map(|line| format!("; stderr ends: {}", clip(line.trim())))
        .unwrap_or_default()
}

/// The program's part of stderr (the recorder's own lines left out) against
/// the untraced run's stderr.
fn check_program_stderr(
    expect: &StdoutExpect,
    stderr: &[u8],
    baseline: Option<&Baseline>,
    differences: &mut Vec<String>,
) {
    let base = match (expect, baseline) {
        (StdoutExpect::Any | StdoutExpect::Equals(_), _) => return,
        (_, Some(base)) => base,
        (_, None) => {
            differences.push("no untraced baseline to compare stderr with".to_string());
            return;
        }
    };
    let program = program_stderr(stderr);
    let same = match expect {
        StdoutExpect::SameAsUntraced => program == base.stderr,
        _ => base.stderr.starts_with(&program),
    };
    if !same {
        let how = if *expect == StdoutExpect::SameAsUntraced {
            "differs from"
        } else {
            "is not a prefix of"
        };
        differences.push(format!(
            "the program's stderr {how} the untraced run's: {}",
            first_difference(
                &String::from_utf8_lossy(&base.stderr),
                &String::from_utf8_lossy(&program)
            )
        ));
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use super::*;
    use crate::fixtures::FixtureLog;
    use crate::inspect::{inspect, DirReport};
    use crate::process::Outcome;
    use crate::scenario;
    use crate::stderr;

    const ABORT_SCENARIO: &str = r#"
[program]
source = "print('hi')"
[policy]
on_recorder_error = "abort"
json_errors = true
[faults]
faultfs_plan = "quota=10"
failpoints = { "recorder::writer" = "off" }
[expect]
exit_code = 10
exception = "EnvironmentError"
error_code = "ERR_DISK_FULL"
stdout = "prefix_of_untraced"
stderr = ["ERR_DISK_FULL"]
trace = "absent"
"#;

    fn case(text: &str) -> Case {
        match scenario::parse(Path::new("scenarios/x.toml"), text) {
            Ok(mut file) => file.cases.remove(0),
            Err(error) => panic!("scenario does not parse: {error}"),
        }
    }

    fn observation(
        code: i32,
        stdout: &str,
        stderr_text: &str,
        log: &str,
        dir: DirReport,
    ) -> Observation {
        Observation {
            outcome: Outcome {
                termination: Termination::Exited(code),
                duration: Duration::from_millis(50),
                stdout: stdout.as_bytes().to_vec(),
                stderr: stderr_text.as_bytes().to_vec(),
                signal_sent_after: None,
            },
            stderr: stderr::parse(stderr_text),
            stderr_text: stderr_text.to_string(),
            fixtures: FixtureLog::parse(log),
            dir,
            dir_path: std::path::PathBuf::from("trace"),
            recovery: None,
            command: "python -m codetracer_python_recorder".to_string(),
        }
    }

    const TRAILER: &str = "{\"run_id\":\"r\",\"trace_id\":null,\"error_code\":\"ERR_DISK_FULL\",\"error_kind\":\"Environment\",\"message\":\"disk full\",\"context\":{}}\n";
    const FIRED: &str = "{\"event\":\"failpoint\",\"name\":\"recorder::writer\"}\n";

    fn baseline(stdout: &str) -> Baseline {
        Baseline {
            termination: Termination::Exited(0),
            stdout: stdout.as_bytes().to_vec(),
            stderr: Vec::new(),
        }
    }

    fn absent_dir(work: &Path) -> DirReport {
        inspect(&work.join("trace"), work)
    }

    #[test]
    fn a_run_that_matches_every_expectation_passes() -> std::io::Result<()> {
        let work = tempfile::tempdir()?;
        let observed = observation(10, "", TRAILER, FIRED, absent_dir(work.path()));
        let differences = judge(&case(ABORT_SCENARIO), &observed, Some(&baseline("hi\n")));
        assert!(differences.is_empty(), "{differences:?}");
        Ok(())
    }

    #[test]
    fn a_leftover_staging_directory_fails_and_says_so() -> std::io::Result<()> {
        let work = tempfile::tempdir()?;
        std::fs::create_dir_all(work.path().join("trace/.codetracer-staging-4242-0"))?;
        let observed = observation(10, "", TRAILER, FIRED, absent_dir(work.path()));
        let differences = judge(&case(ABORT_SCENARIO), &observed, Some(&baseline("hi\n")));
        assert_eq!(
            differences,
            vec!["staging directory trace/.codetracer-staging-4242-0 left behind".to_string()]
        );
        Ok(())
    }

    #[test]
    fn an_error_that_reports_another_output_than_the_disk_shows_fails() -> std::io::Result<()> {
        let work = tempfile::tempdir()?;
        std::fs::create_dir_all(work.path().join("trace"))?;
        std::fs::write(work.path().join("trace/trace.json"), "[\n")?;
        let said_absent = TRAILER.replace("\"context\":{}", "\"context\":{\"output\":\"absent\"}");
        let dir = absent_dir(work.path());
        let observed = observation(10, "", &said_absent, FIRED, dir);
        let differences = judge(&case(ABORT_SCENARIO), &observed, Some(&baseline("hi\n")));
        assert!(
            differences.iter().any(|d| d
                .starts_with("ERR_DISK_FULL reports output=absent, but the trace directory is")),
            "{differences:?}"
        );
        let said_left = TRAILER.replace(
            "\"context\":{}",
            "\"context\":{\"output\":\"partial-leftovers\"}",
        );
        let observed = observation(10, "", &said_left, FIRED, absent_dir(work.path()));
        let differences = judge(&case(ABORT_SCENARIO), &observed, Some(&baseline("hi\n")));
        assert!(
            !differences.iter().any(|d| d.contains("reports output=")),
            "partial-leftovers matches the stray file: {differences:?}"
        );
        Ok(())
    }

    #[test]
    fn a_kill_that_never_fired_or_a_recover_never_run_fails() -> std::io::Result<()> {
        let work = tempfile::tempdir()?;
        let text = ABORT_SCENARIO
            .replace("faultfs_plan = \"quota=10\"", "kill = \"write#3\"")
            .replace("failpoints = { \"recorder::writer\" = \"off\" }\n", "")
            .replace("exit_code = 10", "exit_code = 137")
            .replace("trace = \"absent\"", "trace = \"partial\"");
        let killed = case(&text);
        assert_eq!(
            killed.faults.plan_with_kill().as_deref(),
            Some("kill=write#3")
        );
        let observed = observation(137, "", TRAILER, "", absent_dir(work.path()));
        let differences = judge(&killed, &observed, Some(&baseline("hi\n")));
        assert!(
            differences
                .iter()
                .any(|d| d.starts_with("kill=write#3 never fired")),
            "{differences:?}"
        );
        assert!(
            differences.iter().any(|d| d == "recover was not run"),
            "{differences:?}"
        );
        Ok(())
    }

    #[test]
    fn a_fail_point_that_never_fired_fails_the_scenario() -> std::io::Result<()> {
        let work = tempfile::tempdir()?;
        let observed = observation(10, "", TRAILER, "", absent_dir(work.path()));
        let differences = judge(&case(ABORT_SCENARIO), &observed, Some(&baseline("hi\n")));
        assert_eq!(differences.len(), 1, "{differences:?}");
        assert!(differences[0].starts_with("fail point recorder::writer=off never fired"));
        Ok(())
    }

    #[test]
    fn a_fail_point_expected_not_reached_fails_only_when_reached() -> std::io::Result<()> {
        let work = tempfile::tempdir()?;
        let text = ABORT_SCENARIO.replace(
            "stdout = \"prefix_of_untraced\"",
            "stdout = \"prefix_of_untraced\"\nnot_reached = [\"recorder::writer\"]",
        );
        let scenario = case(&text);
        const OP: &str =
            "{\"event\":\"op\",\"kind\":\"mkdir\",\"index\":1,\"kind_index\":1,\"path\":\"/t\"}\n";
        let unreached = observation(10, "", TRAILER, OP, absent_dir(work.path()));
        let differences = judge(&scenario, &unreached, Some(&baseline("hi\n")));
        assert!(differences.is_empty(), "{differences:?}");
        let reached = observation(
            10,
            "",
            TRAILER,
            &format!("{OP}{FIRED}"),
            absent_dir(work.path()),
        );
        let differences = judge(&scenario, &reached, Some(&baseline("hi\n")));
        assert_eq!(
            differences,
            ["fail point recorder::writer=off was reached; the case expects it never is"]
        );
        let no_log = observation(10, "", TRAILER, "", absent_dir(work.path()));
        let differences = judge(&scenario, &no_log, Some(&baseline("hi\n")));
        assert_eq!(differences.len(), 1, "{differences:?}");
        assert!(differences[0].starts_with("the fixture log shows no faultfs operation"));
        Ok(())
    }

    #[test]
    fn wrong_exit_code_missing_trailer_and_changed_stdout_are_each_named() -> std::io::Result<()> {
        let work = tempfile::tempdir()?;
        let observed = observation(
            0,
            "hi\nrecorder says hello\n",
            "warning\n",
            FIRED,
            absent_dir(work.path()),
        );
        let differences = judge(&case(ABORT_SCENARIO), &observed, Some(&baseline("hi\n")));
        assert!(
            differences[0].starts_with("exit 0, expected exit code 10; stderr ends: warning"),
            "{differences:?}"
        );
        assert!(differences
            .iter()
            .any(|d| d.starts_with("error code ERR_DISK_FULL not reported (seen: none)")));
        assert!(differences
            .iter()
            .any(|d| d == "exception EnvironmentError not raised (seen: none)"));
        assert!(differences
            .iter()
            .any(|d| d == "0 JSON error trailer(s) on stderr, expected exactly 1"));
        assert!(differences
            .iter()
            .any(|d| d == "stdout is not a prefix of the untraced run's: line 2: expected end of output got \"recorder says hello\\n\""));
        Ok(())
    }

    #[test]
    fn the_programs_stderr_is_compared_without_the_recorders_lines() -> std::io::Result<()> {
        let work = tempfile::tempdir()?;
        let text = ABORT_SCENARIO.replace(
            "stdout = \"prefix_of_untraced\"",
            "stdout = \"prefix_of_untraced\"\nprogram_stderr = \"prefix_of_untraced\"",
        );
        let scenario = case(&text);
        let mut untraced = baseline("hi\n");
        untraced.stderr = b"warn 1\nwarn 2\n".to_vec();
        let stderr =
            format!("warn 1\ncodetracer-python-recorder: [ERR_DISK_FULL] disk full\n{TRAILER}");
        let observed = observation(10, "hi\n", &stderr, FIRED, absent_dir(work.path()));
        assert!(judge(&scenario, &observed, Some(&untraced)).is_empty());
        let stderr = format!("warn 1\nwarn 3\n{TRAILER}");
        let observed = observation(10, "hi\n", &stderr, FIRED, absent_dir(work.path()));
        assert_eq!(
            judge(&scenario, &observed, Some(&untraced)),
            vec!["the program's stderr is not a prefix of the untraced run's: line 2: expected \"warn 2\\n\" got \"warn 3\\n\"".to_string()]
        );
        Ok(())
    }

    #[test]
    fn death_by_sigsegv_always_fails() -> std::io::Result<()> {
        let work = tempfile::tempdir()?;
        let mut observed = observation(0, "", TRAILER, FIRED, absent_dir(work.path()));
        observed.outcome.termination = Termination::Signaled(libc::SIGSEGV);
        let text = ABORT_SCENARIO.replace("exit_code = 10", "exit_code = 139");
        let differences = judge(&case(&text), &observed, Some(&baseline("")));
        assert_eq!(
            differences,
            vec!["died by SIGSEGV; stderr ends: ".to_string() + TRAILER.trim()]
        );
        Ok(())
    }

    #[test]
    fn a_hang_is_reported_with_the_timeout() -> std::io::Result<()> {
        let work = tempfile::tempdir()?;
        let mut observed = observation(0, "", TRAILER, FIRED, absent_dir(work.path()));
        observed.outcome.termination = Termination::TimedOut;
        let differences = judge(&case(ABORT_SCENARIO), &observed, Some(&baseline("")));
        assert_eq!(
            differences,
            vec!["hang: still running after 30000 ms, process group killed".to_string()]
        );
        Ok(())
    }

    #[test]
    fn an_unexpected_complete_trace_is_named_with_its_state() -> std::io::Result<()> {
        let work = tempfile::tempdir()?;
        let trace = work.path().join("trace");
        std::fs::create_dir(&trace)?;
        std::fs::write(
            trace.join("trace_metadata.json"),
            r#"{"recorder":{"format":"json"}}"#,
        )?;
        std::fs::write(trace.join("trace_paths.json"), "[]")?;
        std::fs::write(trace.join("trace.json"), "[\n]\n")?;
        let observed = observation(10, "", TRAILER, FIRED, inspect(&trace, work.path()));
        let differences = judge(&case(ABORT_SCENARIO), &observed, Some(&baseline("")));
        assert_eq!(
            differences,
            vec!["trace complete (0 events, 0 calls, 0 thread(s)), expected absent".to_string()]
        );
        Ok(())
    }
}
