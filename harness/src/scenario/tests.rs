//! Parsing and validation: good files become cases, bad files name file,
//! line and key.

use std::path::Path;

use recorder_errors::{ErrorCode, ErrorKind, OnRecorderError};

use super::*;

const GOOD: &str = r#"
description = "disk full"

[program]
source = "print('hi')"
timeout_ms = 5000

[policy]
json_errors = true

[faults]
faultfs_plan = "quota=100"

[expect]
trace = "absent"
stdout = "prefix_of_untraced"

[[case]]
name = "abort"
policy.on_recorder_error = "abort"
expect.exit_code = 10
expect.error_code = "ERR_DISK_FULL"

[[case]]
name = "disable"
policy.on_recorder_error = "disable"
expect = { exit_code = "same_as_untraced", stdout = "same_as_untraced", trace = ["absent"] }
"#;

fn problems(text: &str) -> Vec<Problem> {
    match parse(Path::new("scenarios/bad.toml"), text) {
        Ok(file) => panic!("expected problems, got {} case(s)", file.cases.len()),
        Err(error) => error.problems,
    }
}

fn only_problem(text: &str) -> Problem {
    let mut found = problems(text);
    assert_eq!(found.len(), 1, "{found:?}");
    found.remove(0)
}

#[test]
fn cases_inherit_file_tables_and_override_keys() {
    let file = match parse(Path::new("scenarios/disk_full.toml"), GOOD) {
        Ok(file) => file,
        Err(error) => panic!("{error}"),
    };
    let ids: Vec<&str> = file.cases.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, vec!["disk_full::abort", "disk_full::disable"]);
    let abort = &file.cases[0];
    assert_eq!(abort.line, 18);
    assert_eq!(abort.policy.on_error(), OnRecorderError::Abort);
    assert!(abort.policy.json_errors());
    assert_eq!(abort.faults.faultfs_plan.as_deref(), Some("quota=100"));
    assert_eq!(abort.expect.exit_code, ExitExpect::Codes(vec![10]));
    assert_eq!(abort.expect.stdout, StdoutExpect::PrefixOfUntraced);
    assert_eq!(abort.program.timeout.as_millis(), 5000);
    assert_eq!(abort.sweep.errno, "ENOSPC");
    assert!(!abort.sweep.in_tests);
    let disable = &file.cases[1];
    assert_eq!(disable.policy.on_error(), OnRecorderError::Disable);
    assert_eq!(disable.expect.exit_code, ExitExpect::SameAsUntraced);
    assert_eq!(disable.expect.stdout, StdoutExpect::SameAsUntraced);
    assert_eq!(disable.expect.trace, vec![TraceState::Absent]);
}

#[test]
fn a_file_without_cases_is_one_case_named_after_the_file() {
    let text = "[program]\nsource = 'pass'\n[expect]\nexit_code = 0\ntrace = 'complete'\n";
    let file = match parse(Path::new("scenarios/baseline.toml"), text) {
        Ok(file) => file,
        Err(error) => panic!("{error}"),
    };
    assert_eq!(file.cases.len(), 1);
    assert_eq!(file.cases[0].id, "baseline");
}

#[test]
fn an_unknown_key_is_rejected_with_its_line_and_path() {
    let text = GOOD.replace("expect.exit_code = 10", "expect.exit_cod = 10");
    let found = problems(&text);
    assert_eq!(found[0].file, Path::new("scenarios/bad.toml"));
    assert_eq!(found[0].line, 21);
    assert_eq!(found[0].key, "case[0].expect.exit_cod");
    assert!(
        found[0].message.contains("unknown field `exit_cod`"),
        "{}",
        found[0].message
    );
}

#[test]
fn a_type_error_names_the_key() {
    let text = GOOD.replace("timeout_ms = 5000", "timeout_ms = \"soon\"");
    let problem = only_problem(&text);
    assert_eq!(
        (problem.line, problem.key.as_str()),
        (6, "program.timeout_ms")
    );
}

#[test]
fn a_missing_exit_code_points_at_the_case() {
    let text = GOOD.replace("expect.exit_code = 10\n", "");
    let problem = only_problem(&text);
    assert_eq!(problem.line, 21, "the case's expect keys start there");
    assert_eq!(problem.key, "case[0].expect.exit_code");
    assert_eq!(problem.message, "every case must expect an exit_code");
}

#[test]
fn a_misspelled_fail_point_is_rejected_before_running() {
    let text = GOOD.replace(
        "faultfs_plan = \"quota=100\"",
        "failpoints = { \"recorder::finsh\" = \"panic\" }",
    );
    let problem = only_problem(&text);
    assert_eq!(problem.line, 12);
    assert_eq!(problem.key, "faults.failpoints.recorder::finsh");
    assert!(problem
        .message
        .starts_with("unknown fail point \"recorder::finsh\""));
}

#[test]
fn an_action_the_fail_crate_rejects_is_rejected_before_running() {
    for (action, why) in [
        ("bogus(1)", "unrecognized command \"bogus\""),
        ("2*sleep", "sleep require timeout"),
        ("x*panic", "failed to parse count"),
        ("return(EIO", "parentheses do not match"),
    ] {
        let text = GOOD.replace(
            "faultfs_plan = \"quota=100\"",
            &format!("failpoints = {{ \"recorder::finish\" = \"{action}\" }}"),
        );
        let problem = only_problem(&text);
        assert_eq!(
            problem.key, "faults.failpoints.recorder::finish",
            "{action}"
        );
        assert!(
            problem.message.contains(why),
            "{action}: {}",
            problem.message
        );
    }
    for action in [
        "3*off->1*panic->off",
        "sleep(2000)",
        "return(EIO)",
        "50%return",
    ] {
        let text = GOOD.replace(
            "faultfs_plan = \"quota=100\"",
            &format!("failpoints = {{ \"recorder::finish\" = \"{action}\" }}"),
        );
        if let Err(error) = parse(Path::new("scenarios/x.toml"), &text) {
            panic!("{action} is rejected: {error}");
        }
    }
}

#[test]
fn every_fail_point_of_faultfs_and_the_recorder_is_accepted() {
    let names = faultfs::FAILPOINTS
        .iter()
        .chain(&recorder_errors::failpoints::ALL);
    for name in names {
        let text = GOOD.replace(
            "faultfs_plan = \"quota=100\"",
            &format!("failpoints = {{ \"{name}\" = \"off\" }}"),
        );
        let file = match parse(Path::new("scenarios/x.toml"), &text) {
            Ok(file) => file,
            Err(error) => panic!("{name} is rejected: {error}"),
        };
        assert_eq!(
            file.cases[0].faults.failpoints_env(),
            Some(format!("{name}=off"))
        );
    }
}

#[test]
fn not_reached_names_only_configured_fail_points_no_signal_waits_for() {
    let text = GOOD.replace(
        "faultfs_plan = \"quota=100\"",
        "failpoints = { \"faultfs::open\" = \"return(EIO)\", \"recorder::finish\" = \"off\" }\nsignal = { at_failpoint = \"recorder::finish\" }",
    );
    let ok = text.replace(
        "stdout = \"prefix_of_untraced\"",
        "stdout = \"prefix_of_untraced\"\nnot_reached = [\"faultfs::open\"]",
    );
    match parse(Path::new("scenarios/x.toml"), &ok) {
        Ok(file) => assert_eq!(file.cases[1].expect.not_reached, ["faultfs::open"]),
        Err(error) => panic!("{error}"),
    }
    let bad = text.replace(
        "stdout = \"prefix_of_untraced\"",
        "stdout = \"prefix_of_untraced\"\nnot_reached = [\"faultfs::write\", \"recorder::finish\"]",
    );
    let messages: Vec<(String, String)> = problems(&bad)
        .into_iter()
        .map(|problem| (problem.key, problem.message))
        .collect();
    assert_eq!(
        messages,
        [
            (
                "expect.not_reached[0]".to_string(),
                "\"faultfs::write\" is not configured in faults.failpoints; only a configured fail point can be checked as not reached".to_string()
            ),
            (
                "expect.not_reached[1]".to_string(),
                "the signal waits for \"recorder::finish\", which must not be reached".to_string()
            ),
        ]
    );
}

#[test]
fn an_unknown_error_code_and_a_bad_regex_are_both_reported() {
    let text = GOOD
        .replace("\"ERR_DISK_FULL\"", "\"ERR_DISK_FUL\"")
        .replace(
            "trace = \"absent\"",
            "trace = \"absent\"\nstderr = [\"(unclosed\"]",
        );
    let found = problems(&text);
    let keys: Vec<&str> = found.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, vec!["case[0].expect.error_code", "expect.stderr[0]"]);
}

#[test]
fn a_partial_trace_needs_keep_partial_trace() {
    let text = GOOD.replace("trace = [\"absent\"]", "trace = [\"partial\"]");
    let problem = only_problem(&text);
    assert_eq!(problem.key, "case[1].expect.trace");
    assert!(problem.message.contains("keep_partial_trace"));
}

#[test]
fn a_signal_at_an_unconfigured_fail_point_is_rejected() {
    let text = GOOD.replace(
        "faultfs_plan = \"quota=100\"",
        "signal = { send = \"SIGINT\", at_failpoint = \"recorder::finish\" }",
    );
    let problem = only_problem(&text);
    assert_eq!(problem.key, "faults.signal.at_failpoint");
    assert!(problem
        .message
        .contains("not configured in faults.failpoints"));
}

#[test]
fn duplicate_and_missing_case_names_are_rejected() {
    let text = GOOD.replace("name = \"disable\"", "name = \"abort\"");
    let problem = only_problem(&text);
    assert_eq!((problem.line, problem.key.as_str()), (25, "case[1].name"));
    let text = GOOD.replace("name = \"disable\"\n", "");
    assert_eq!(only_problem(&text).message, "every [[case]] needs a name");
}

#[test]
fn a_toml_syntax_error_has_a_line() {
    let problem = only_problem("[program]\nsource = 'x'\nargs = [\n");
    assert_eq!(problem.line, 4);
}

#[test]
fn the_error_is_a_usage_error_with_the_scenario_code_and_location() {
    let error = ScenarioError {
        problems: problems(&GOOD.replace("expect.exit_code = 10", "expect.exit_cod = 10")),
    }
    .to_recorder_error();
    assert_eq!(error.kind(), ErrorKind::Usage);
    assert_eq!(error.code(), ErrorCode::InvalidScenario);
    assert_eq!(error.exit_code(), 2);
    assert_eq!(error.context_value("file"), Some("scenarios/bad.toml"));
    assert_eq!(error.context_value("line"), Some("21"));
    assert_eq!(error.context_value("key"), Some("case[0].expect.exit_cod"));
    assert!(error
        .message()
        .starts_with("scenarios/bad.toml:21: case[0].expect.exit_cod: unknown field"));
}

#[test]
fn a_script_path_must_exist() {
    let text = GOOD.replace(
        "source = \"print('hi')\"",
        "script = \"programs/missing.py\"",
    );
    let problem = only_problem(&text);
    assert_eq!(problem.key, "program.script");
    assert!(problem.message.contains("does not exist"));
}

#[test]
fn a_malformed_fault_plan_is_rejected_with_faultfs_own_message() {
    let text = GOOD.replace("quota=100", "quota=lots");
    let problem = only_problem(&text);
    assert_eq!(
        (problem.line, problem.key.as_str()),
        (12, "faults.faultfs_plan")
    );
    assert!(
        problem.message.contains("quota=lots"),
        "{}",
        problem.message
    );
}

#[test]
fn an_unknown_sweep_errno_is_rejected() {
    let text = GOOD.replace("[expect]", "[sweep]\nerrno = \"ENOPE\"\n\n[expect]");
    let problem = only_problem(&text);
    assert_eq!(problem.key, "sweep.errno");
}
