//! Turning a parsed scenario file into validated cases, collecting every
//! problem with the line and key it comes from.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use recorder_errors::{failpoints, ErrorCode, OnRecorderError};
use regex::Regex;

use super::locate::{KeyPath, Locator};
use super::model::{
    Case, ExitExpect, Expect, Faults, Launch, Policy, PolicyVia, Program, ProgramSource,
    ScenarioFile, SignalSpec, SignalTrigger, StdoutExpect, SweepSpec, TraceState,
};
use super::problem::Problem;
use super::raw::{
    Overlay, RawCase, RawExitCode, RawExpect, RawFaults, RawFile, RawPolicy, RawProgram, RawSweep,
};
use super::real::{self, RawReal, RealFault};

/// Why a real-fault case cannot set `sweep.in_tests`.
const REAL_NOT_SWEPT: &str = "a real fault case is not swept: a sweep fails faultfs operations, which the normal build it runs on does not have";

/// Fail points the recorder and faultfs define (docs/design.md, "Fail points"):
/// `faultfs::FAILPOINTS`, then the recorder's `recorder_errors::failpoints::ALL`.
pub const KNOWN_FAILPOINTS: [&str; faultfs::FAILPOINTS.len() + failpoints::ALL.len()] =
    concat(&faultfs::FAILPOINTS, &failpoints::ALL);

/// `first` followed by `second`; `N` is their total length.
const fn concat<const N: usize>(
    first: &[&'static str],
    second: &[&'static str],
) -> [&'static str; N] {
    let mut all = [""; N];
    let mut i = 0;
    while i < first.len() {
        all[i] = first[i];
        i += 1;
    }
    let mut j = 0;
    while j < second.len() {
        all[i + j] = second[j];
        j += 1;
    }
    all
}

/// Whether the `fail` crate accepts `actions` (`3*off->1*panic`), asked of
/// its own parser through a fail point no code evaluates: what it rejects
/// here it would reject when the recorder configures `FAILPOINTS`.
fn fail_crate_accepts(actions: &str) -> Result<(), String> {
    const PROBE: &str = "harness::scenario-check";
    let accepted = fail::cfg(PROBE, actions);
    fail::remove(PROBE);
    accepted
}

/// Environment variables the harness sets itself; a program may not override them.
const RESERVED_ENV: &[&str] = &[
    "FAILPOINTS",
    "CODETRACER_FAULTFS_PLAN",
    "CODETRACER_FIXTURES_LOG",
    "CODETRACER_HARNESS_TRACE_DIR",
    "CODETRACER_HARNESS_FORMAT",
];

/// Signals a scenario may send.
const SIGNALS: &[(&str, i32)] = &[
    ("SIGINT", libc::SIGINT),
    ("SIGTERM", libc::SIGTERM),
    ("SIGHUP", libc::SIGHUP),
    ("SIGQUIT", libc::SIGQUIT),
    ("SIGKILL", libc::SIGKILL),
];

/// Default time limit of a run.
const DEFAULT_TIMEOUT_MS: u64 = 30_000;

/// Validates a parsed file; `Err` lists every problem found.
pub fn validate(file: &Path, text: &str, raw: RawFile) -> Result<ScenarioFile, Vec<Problem>> {
    let mut checker = Checker {
        file,
        locator: Locator::new(text),
        problems: Vec::new(),
    };
    let stem = file
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario".to_string());
    let description = raw.description.clone().unwrap_or_default();
    let base = Tables {
        description: raw.description.clone(),
        program: raw.program.clone(),
        policy: raw.policy.clone(),
        faults: raw.faults.clone(),
        expect: raw.expect.clone(),
        sweep: raw.sweep.clone(),
    };
    let mut cases = Vec::new();
    if raw.cases.is_empty() {
        if let Some(case) = checker.case(None, stem.clone(), 1, base) {
            cases.push(case);
        }
    } else {
        let mut seen = BTreeSet::new();
        for (index, raw_case) in raw.cases.into_iter().enumerate() {
            let at = KeyPath::keys(&["case"]).index(index);
            let line = checker.locator.line(&at);
            let Some(name) = checker.case_name(&at, raw_case.name.as_deref()) else {
                continue;
            };
            if !seen.insert(name.clone()) {
                checker.problem(&at.key("name"), format!("case name {name:?} is used twice"));
                continue;
            }
            let tables = base.overlay_case(raw_case);
            if let Some(case) = checker.case(Some(index), format!("{stem}::{name}"), line, tables) {
                cases.push(case);
            }
        }
    }
    let mut problems: Vec<Problem> = Vec::new();
    for problem in checker.problems {
        if !problems.contains(&problem) {
            problems.push(problem);
        }
    }
    if problems.is_empty() {
        Ok(ScenarioFile {
            path: file.to_path_buf(),
            description,
            cases,
        })
    } else {
        Err(problems)
    }
}

/// The tables of one case after the overlay.
struct Tables {
    description: Option<String>,
    program: RawProgram,
    policy: RawPolicy,
    faults: RawFaults,
    expect: RawExpect,
    sweep: RawSweep,
}

impl Tables {
    fn overlay_case(&self, case: RawCase) -> Tables {
        Tables {
            description: case.description.or_else(|| self.description.clone()),
            program: self.program.clone().overlay(case.program),
            policy: self.policy.clone().overlay(case.policy),
            faults: self.faults.clone().overlay(case.faults),
            expect: self.expect.clone().overlay(case.expect),
            sweep: self.sweep.clone().overlay(case.sweep),
        }
    }
}

struct Checker<'a> {
    file: &'a Path,
    locator: Locator,
    problems: Vec<Problem>,
}

/// Where one case's keys live: the case table or the file-level table.
struct Scope {
    case: Option<usize>,
}

impl Scope {
    /// The path of `table.key`: inside the case if the case writes it, else at file level.
    fn path(&self, locator: &Locator, table: &str, key: &str) -> KeyPath {
        if let Some(index) = self.case {
            let in_case = KeyPath::keys(&["case"]).index(index).key(table).key(key);
            if locator.exists(&in_case) || !locator.exists(&KeyPath::keys(&[table, key])) {
                return in_case;
            }
        }
        KeyPath::keys(&[table, key])
    }
}

impl Checker<'_> {
    fn problem(&mut self, path: &KeyPath, message: impl Into<String>) {
        self.problems.push(Problem {
            file: self.file.to_path_buf(),
            line: self.locator.line(path),
            key: path.to_string(),
            message: message.into(),
        });
    }

    fn case_name(&mut self, at: &KeyPath, name: Option<&str>) -> Option<String> {
        let Some(name) = name else {
            self.problem(&at.key("name"), "every [[case]] needs a name");
            return None;
        };
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            self.problem(
                &at.key("name"),
                format!("case name {name:?} may only use letters, digits, '_' and '-'"),
            );
            return None;
        }
        Some(name.to_string())
    }

    fn case(
        &mut self,
        index: Option<usize>,
        id: String,
        line: usize,
        tables: Tables,
    ) -> Option<Case> {
        let scope = Scope { case: index };
        let before = self.problems.len();
        let program = self.program(&scope, tables.program);
        let policy = self.policy(&scope, tables.policy);
        let faults = self.faults(&scope, tables.faults);
        let killed = faults.as_ref().is_some_and(|faults| faults.kill.is_some())
            || tables.expect.recover == Some(true);
        let expect = self.expect(&scope, tables.expect, &policy, killed);
        let sweep = self.sweep(&scope, tables.sweep);
        if let (Some(faults), Some(expect)) = (&faults, &expect) {
            self.not_reached(&scope, faults, &expect.not_reached);
        }
        if sweep.in_tests && faults.as_ref().is_some_and(|f| f.real.is_some()) {
            let key = scope.path(&self.locator, "sweep", "in_tests");
            self.problem(&key, REAL_NOT_SWEPT);
        }
        if self.problems.len() != before {
            return None;
        }
        Some(Case {
            id,
            file: self.file.to_path_buf(),
            line,
            description: tables.description.unwrap_or_default(),
            program: program?,
            policy,
            faults: faults?,
            expect: expect?,
            sweep,
        })
    }

    fn program(&mut self, scope: &Scope, raw: RawProgram) -> Option<Program> {
        let at = |c: &Checker, key: &str| scope.path(&c.locator, "program", key);
        let source = match (raw.source, raw.script) {
            (Some(source), None) => Some(ProgramSource::Inline(source)),
            (None, Some(script)) => {
                let base = self.file.parent().unwrap_or_else(|| Path::new("."));
                let path = base.join(&script);
                if path.is_file() {
                    Some(ProgramSource::Script(
                        std::path::absolute(&path).unwrap_or(path),
                    ))
                } else {
                    let key = at(self, "script");
                    self.problem(&key, format!("script {} does not exist", path.display()));
                    None
                }
            }
            (Some(_), Some(_)) => {
                let key = at(self, "script");
                self.problem(&key, "give either `source` or `script`, not both");
                None
            }
            (None, None) => {
                let key = at(self, "source");
                self.problem(
                    &key,
                    "the program needs `source` (inline Python) or `script` (a path)",
                );
                None
            }
        };
        let launch = match raw.launch.as_deref() {
            None | Some("cli") => Some(Launch::Cli),
            Some("api") => Some(Launch::Api),
            Some(other) => {
                let key = at(self, "launch");
                self.problem(
                    &key,
                    format!("launch {other:?} is not one of \"cli\", \"api\""),
                );
                None
            }
        };
        let format = match raw.format.as_deref() {
            None => "json".to_string(),
            Some(value @ ("json" | "binary")) => value.to_string(),
            Some(other) => {
                let key = at(self, "format");
                self.problem(
                    &key,
                    format!("format {other:?} is not one of \"json\", \"binary\""),
                );
                "json".to_string()
            }
        };
        let policy_via = match raw.policy_via.as_deref() {
            None | Some("env") => PolicyVia::Env,
            Some("flags") => {
                if launch == Some(Launch::Api) {
                    let key = at(self, "policy_via");
                    self.problem(&key, "policy_via = \"flags\" needs launch = \"cli\"");
                }
                PolicyVia::Flags
            }
            Some(other) => {
                let key = at(self, "policy_via");
                self.problem(
                    &key,
                    format!("policy_via {other:?} is not one of \"env\", \"flags\""),
                );
                PolicyVia::Env
            }
        };
        let timeout_ms = raw.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS);
        if timeout_ms == 0 {
            let key = at(self, "timeout_ms");
            self.problem(&key, "timeout_ms must be positive");
        }
        let env = raw.env.unwrap_or_default();
        for name in env.keys() {
            if RESERVED_ENV.contains(&name.as_str()) {
                let key = at(self, "env").key(name);
                self.problem(
                    &key,
                    format!("{name} is set by the harness; use [faults] instead"),
                );
            }
        }
        Some(Program {
            source: source?,
            args: raw.args.unwrap_or_default(),
            stdin: raw.stdin,
            launch: launch?,
            format,
            policy_via,
            timeout: Duration::from_millis(timeout_ms),
            env,
        })
    }

    fn policy(&mut self, scope: &Scope, raw: RawPolicy) -> Policy {
        let on_recorder_error = match raw.on_recorder_error.as_deref() {
            None => None,
            Some(text) => {
                let value = OnRecorderError::parse(text);
                if value.is_none() {
                    let key = scope.path(&self.locator, "policy", "on_recorder_error");
                    let known: Vec<String> = OnRecorderError::ALL
                        .iter()
                        .map(|value| format!("{:?}", value.as_str()))
                        .collect();
                    self.problem(&key, format!("{text:?} is not one of {}", known.join(", ")));
                }
                value
            }
        };
        if raw
            .log_level
            .as_deref()
            .is_some_and(|level| level.trim().is_empty())
        {
            let key = scope.path(&self.locator, "policy", "log_level");
            self.problem(&key, "log_level is empty");
        }
        Policy {
            on_recorder_error,
            require_trace: raw.require_trace,
            keep_partial_trace: raw.keep_partial_trace,
            log_level: raw.log_level,
            log_file: raw.log_file,
            json_errors: raw.json_errors,
            follow_fork: raw.follow_fork,
        }
    }

    fn faults(&mut self, scope: &Scope, raw: RawFaults) -> Option<Faults> {
        let failpoints: BTreeMap<String, String> = raw.failpoints.unwrap_or_default();
        let mut ok = true;
        for (name, action) in &failpoints {
            let key = scope.path(&self.locator, "faults", "failpoints").key(name);
            if !KNOWN_FAILPOINTS.contains(&name.as_str()) {
                self.problem(
                    &key,
                    format!(
                        "unknown fail point {name:?}; known: {}",
                        KNOWN_FAILPOINTS.join(", ")
                    ),
                );
                ok = false;
            } else if action.trim().is_empty() || action.contains(';') {
                self.problem(
                    &key,
                    "the action must be one `fail` action such as \"panic\" or \"1*panic\"",
                );
                ok = false;
            } else if let Err(why) = fail_crate_accepts(action) {
                self.problem(
                    &key,
                    format!("the fail crate rejects the action {action:?}: {why}"),
                );
                ok = false;
            }
        }
        if let Some(plan) = &raw.faultfs_plan {
            let key = scope.path(&self.locator, "faults", "faultfs_plan");
            let example = plan
                .replace("{trace_dir}", "/work/trace")
                .replace("{work_dir}", "/work");
            if plan.trim().is_empty() {
                self.problem(&key, "faultfs_plan is empty");
                ok = false;
            } else if let Err(error) = faultfs::FaultPlan::parse(&example) {
                self.problem(&key, error.message().to_string());
                ok = false;
            }
        }
        if let Some(kill) = &raw.kill {
            let key = scope.path(&self.locator, "faults", "kill");
            let point = kill
                .rsplit_once('#')
                .map_or(kill.as_str(), |(point, _)| point);
            if let Err(error) = faultfs::FaultPlan::parse(&format!("kill={kill}")) {
                self.problem(&key, error.message().to_string());
                ok = false;
            } else if point.contains("::") && !KNOWN_FAILPOINTS.contains(&point) {
                self.problem(
                    &key,
                    format!(
                        "unknown fail point {point:?}; known: {}",
                        KNOWN_FAILPOINTS.join(", ")
                    ),
                );
                ok = false;
            }
        }
        let signal = match raw.signal {
            None => None,
            Some(raw_signal) => {
                let at = scope.path(&self.locator, "faults", "signal");
                let signal = self.signal(&at, raw_signal, &failpoints);
                ok &= signal.is_some();
                signal
            }
        };
        let real = match raw.real {
            None => None,
            Some(raw_real) => {
                let at = scope.path(&self.locator, "faults", "real");
                let simulated =
                    !failpoints.is_empty() || raw.faultfs_plan.is_some() || raw.kill.is_some();
                let real = self.real_fault(&at, raw_real, simulated);
                ok &= real.is_some();
                real
            }
        };
        ok.then(|| Faults {
            failpoints: failpoints.into_iter().collect(),
            faultfs_plan: raw.faultfs_plan,
            signal,
            real,
            kill: raw.kill,
        })
    }

    /// `faults.real`: its own parameters, and no simulated fault beside it
    /// (a real fault runs on the normal build, which has neither fail points
    /// nor faultfs plans).
    fn real_fault(&mut self, at: &KeyPath, raw: RawReal, simulated: bool) -> Option<RealFault> {
        if simulated {
            self.problem(
                at,
                "a real fault runs on the normal build, which has no fail points or faultfs plan: drop faults.failpoints, faults.faultfs_plan and faults.kill",
            );
            return None;
        }
        match real::validate(raw) {
            Ok(fault) => Some(fault),
            Err(problems) => {
                for (key, message) in problems {
                    let path = key.map_or_else(|| at.clone(), |key| at.key(key));
                    self.problem(&path, message);
                }
                None
            }
        }
    }

    fn signal(
        &mut self,
        at: &KeyPath,
        raw: super::raw::RawSignal,
        failpoints: &BTreeMap<String, String>,
    ) -> Option<SignalSpec> {
        let name = raw.send.unwrap_or_else(|| "SIGINT".to_string());
        let Some(&(_, number)) = SIGNALS.iter().find(|(known, _)| *known == name) else {
            let names: Vec<&str> = SIGNALS.iter().map(|(known, _)| *known).collect();
            self.problem(
                &at.key("send"),
                format!("signal {name:?} is not one of {}", names.join(", ")),
            );
            return None;
        };
        let trigger = match (raw.after_ms, raw.at_failpoint, raw.delay_ms) {
            (Some(after), None, None) => SignalTrigger::After(Duration::from_millis(after)),
            (None, Some(point), delay) => {
                if !failpoints.contains_key(&point) {
                    self.problem(
                        &at.key("at_failpoint"),
                        format!("{point:?} is not configured in faults.failpoints, so it is never reported"),
                    );
                    return None;
                }
                SignalTrigger::AtFailpoint {
                    name: point,
                    delay: Duration::from_millis(delay.unwrap_or(0)),
                }
            }
            (Some(_), None, Some(_)) => {
                self.problem(
                    &at.key("delay_ms"),
                    "delay_ms goes with at_failpoint; use after_ms alone",
                );
                return None;
            }
            (Some(_), Some(_), _) => {
                self.problem(at, "give either after_ms or at_failpoint, not both");
                return None;
            }
            (None, None, _) => {
                self.problem(at, "a signal needs after_ms or at_failpoint");
                return None;
            }
        };
        Some(SignalSpec {
            signal: number,
            name,
            trigger,
        })
    }

    /// `killed`: the case kills the program (or expects it to die unfinished,
    /// `expect.recover`), so the trace judged is the one `recover` makes
    /// (partial whatever `keep_partial_trace` says).
    fn expect(
        &mut self,
        scope: &Scope,
        raw: RawExpect,
        policy: &Policy,
        killed: bool,
    ) -> Option<Expect> {
        let at = |c: &Checker, key: &str| scope.path(&c.locator, "expect", key);
        let exit_code = match raw.exit_code {
            None => {
                let key = at(self, "exit_code");
                self.problem(&key, "every case must expect an exit_code");
                None
            }
            Some(RawExitCode::Keyword(word)) if word == "same_as_untraced" => {
                Some(ExitExpect::SameAsUntraced)
            }
            Some(RawExitCode::Keyword(word)) => {
                let key = at(self, "exit_code");
                self.problem(
                    &key,
                    format!(
                        "{word:?} is not an exit code, a list of them, or \"same_as_untraced\""
                    ),
                );
                None
            }
            Some(RawExitCode::Codes(codes)) => {
                let codes = codes.into_vec();
                if codes.is_empty() || codes.iter().any(|code| !(0..=255).contains(code)) {
                    let key = at(self, "exit_code");
                    self.problem(
                        &key,
                        "exit codes are between 0 and 255 (death by signal N is 128+N)",
                    );
                    None
                } else {
                    Some(ExitExpect::Codes(codes))
                }
            }
        };
        if let Some(class) = &raw.exception {
            let valid = Regex::new(r"^[A-Za-z_][A-Za-z0-9_]*$").is_ok_and(|re| re.is_match(class));
            if !valid {
                let key = at(self, "exception");
                self.problem(&key, format!("{class:?} is not a Python class name"));
            }
        }
        let error_code = raw
            .error_code
            .map(|codes| codes.into_vec())
            .unwrap_or_default();
        for code in &error_code {
            if ErrorCode::parse(code).is_none() {
                let key = at(self, "error_code");
                self.problem(
                    &key,
                    format!("{code:?} is not a known ERR_* code (docs/design.md)"),
                );
            }
        }
        if raw.trailers.is_some_and(|count| count > 0) && !policy.json_errors() {
            let key = at(self, "trailers");
            self.problem(
                &key,
                "trailers are only written with policy.json_errors = true",
            );
        }
        let mut stdout = match raw.stdout.as_deref() {
            None | Some("any") => StdoutExpect::Any,
            Some("same_as_untraced") => StdoutExpect::SameAsUntraced,
            Some("prefix_of_untraced") => StdoutExpect::PrefixOfUntraced,
            Some(other) => {
                let key = at(self, "stdout");
                self.problem(
                    &key,
                    format!("{other:?} is not one of \"any\", \"same_as_untraced\", \"prefix_of_untraced\" (use stdout_equals for literal text)"),
                );
                StdoutExpect::Any
            }
        };
        if let Some(text) = raw.stdout_equals {
            if stdout != StdoutExpect::Any {
                let key = at(self, "stdout_equals");
                self.problem(&key, "stdout_equals cannot be combined with stdout");
            }
            stdout = StdoutExpect::Equals(text);
        }
        let program_stderr = match raw.program_stderr.as_deref() {
            None | Some("any") => StdoutExpect::Any,
            Some("same_as_untraced") => StdoutExpect::SameAsUntraced,
            Some("prefix_of_untraced") => StdoutExpect::PrefixOfUntraced,
            Some(other) => {
                let key = at(self, "program_stderr");
                self.problem(
                    &key,
                    format!("{other:?} is not one of \"any\", \"same_as_untraced\", \"prefix_of_untraced\""),
                );
                StdoutExpect::Any
            }
        };
        let stderr = self.patterns(scope, "stderr", raw.stderr.unwrap_or_default());
        let stderr_not = self.patterns(scope, "stderr_not", raw.stderr_not.unwrap_or_default());
        let terminated = raw.partial_reason.as_deref() == Some(ErrorCode::Terminated.as_str());
        let partial_possible = policy.keep_partial() || killed || terminated;
        let trace = self.trace_states(scope, raw.trace, partial_possible);
        if let Some(reason) = &raw.partial_reason {
            let key = at(self, "partial_reason");
            if ErrorCode::parse(reason).is_none() {
                self.problem(&key, format!("{reason:?} is not a known ERR_* code"));
            } else if !trace
                .as_ref()
                .is_some_and(|states| states.contains(&TraceState::Partial))
            {
                self.problem(&key, "partial_reason needs trace = \"partial\"");
            }
        }
        Some(Expect {
            exit_code: exit_code?,
            exception: raw.exception,
            error_code,
            trailers: raw.trailers,
            stdout,
            program_stderr,
            stderr,
            stderr_not,
            trace: trace?,
            partial_reason: raw.partial_reason,
            max_duration: raw.max_duration_ms.map(Duration::from_millis),
            not_reached: raw.not_reached.unwrap_or_default(),
            min_events: raw.min_events,
            recover: raw.recover.unwrap_or(false),
        })
    }

    /// `expect.not_reached` may only name fail points the case configures,
    /// and not the one a signal waits for.
    fn not_reached(&mut self, scope: &Scope, faults: &Faults, names: &[String]) {
        for (index, name) in names.iter().enumerate() {
            let key = scope
                .path(&self.locator, "expect", "not_reached")
                .index(index);
            if !faults
                .failpoints
                .iter()
                .any(|(configured, _)| configured == name)
            {
                self.problem(
                    &key,
                    format!("{name:?} is not configured in faults.failpoints; only a configured fail point can be checked as not reached"),
                );
            } else if matches!(&faults.signal, Some(SignalSpec { trigger: SignalTrigger::AtFailpoint { name: at, .. }, .. }) if at == name)
            {
                self.problem(
                    &key,
                    format!("the signal waits for {name:?}, which must not be reached"),
                );
            }
        }
    }

    fn patterns(&mut self, scope: &Scope, key: &str, patterns: Vec<String>) -> Vec<Regex> {
        let mut compiled = Vec::new();
        for (index, pattern) in patterns.iter().enumerate() {
            match Regex::new(pattern) {
                Ok(regex) => compiled.push(regex),
                Err(error) => {
                    let path = scope.path(&self.locator, "expect", key).index(index);
                    self.problem(&path, format!("bad regular expression: {error}"));
                }
            }
        }
        compiled
    }

    fn trace_states(
        &mut self,
        scope: &Scope,
        raw: Option<super::raw::OneOrMany<String>>,
        partial_possible: bool,
    ) -> Option<Vec<TraceState>> {
        let key = scope.path(&self.locator, "expect", "trace");
        let Some(raw) = raw else {
            self.problem(&key, "every case must expect a trace state: \"complete\", \"absent\", \"partial\", a list of them, or \"any\"");
            return None;
        };
        let names = raw.into_vec();
        if names.len() == 1 && names[0] == "any" {
            return Some(Vec::new());
        }
        let mut states = Vec::new();
        for name in &names {
            match TraceState::parse(name) {
                Some(state) => states.push(state),
                None => {
                    self.problem(
                        &key,
                        format!(
                            "{name:?} is not one of \"complete\", \"absent\", \"partial\", \"any\""
                        ),
                    );
                    return None;
                }
            }
        }
        if states.is_empty() {
            self.problem(&key, "the list of trace states is empty");
            return None;
        }
        // SIGTERM/SIGHUP finish the trace partial (ERR_TERMINATED) under any
        // policy, and `recover` makes one after faults.kill or with expect.recover.
        if states.contains(&TraceState::Partial) && !partial_possible {
            self.problem(
                &key,
                "a partial trace is only kept with policy.keep_partial_trace = true \
                 (or partial_reason = \"ERR_TERMINATED\", or made by `recover` after faults.kill or with expect.recover)",
            );
            return None;
        }
        Some(states)
    }

    fn sweep(&mut self, scope: &Scope, raw: RawSweep) -> SweepSpec {
        let errno = raw.errno.unwrap_or_else(|| "ENOSPC".to_string());
        if let Err(error) = faultfs::FaultPlan::parse(&format!("fail=any#1:{errno}")) {
            let key = scope.path(&self.locator, "sweep", "errno");
            self.problem(
                &key,
                format!(
                    "{errno:?} is not an errno the fault plan accepts: {}",
                    error.message()
                ),
            );
        }
        SweepSpec {
            errno,
            in_tests: raw.in_tests.unwrap_or(false),
        }
    }
}
