//! Validated scenarios: every value checked and typed, ready to run.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use recorder_errors::OnRecorderError;
use regex::Regex;

use super::real::RealFault;

/// One scenario file and the cases it defines (in file order).
#[derive(Debug, Clone)]
pub struct ScenarioFile {
    /// The file as given (relative paths stay relative, for replay commands).
    pub path: PathBuf,
    /// The file-level description.
    pub description: String,
    /// The runnable cases; a file without `[[case]]` has exactly one.
    pub cases: Vec<Case>,
}

/// One runnable scenario: program, policy, faults and expectations.
#[derive(Debug, Clone)]
pub struct Case {
    /// `<file stem>::<case name>`, or the file stem for a file without cases.
    pub id: String,
    /// The scenario file.
    pub file: PathBuf,
    /// The line of the `[[case]]` header (1 for a file without cases).
    pub line: usize,
    /// What this case tests.
    pub description: String,
    /// The program and its launch.
    pub program: Program,
    /// Recorder policy keys to set.
    pub policy: Policy,
    /// Faults to inject.
    pub faults: Faults,
    /// What the run must look like.
    pub expect: Expect,
    /// How `harness sweep` treats this case.
    pub sweep: SweepSpec,
}

impl Case {
    /// Whether the program leaves a dead recording behind (`faults.kill`, or
    /// `expect.recover` for `os._exit` and a SIGKILL from outside), so the
    /// harness runs `recover` after it and judges what that makes.
    pub fn recovers(&self) -> bool {
        self.faults.kill.is_some() || self.expect.recover
    }
}

/// `[sweep]`: the errno a sweep injects and whether the test suite sweeps the case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepSpec {
    /// Errno injected at each operation (`ENOSPC` by default).
    pub errno: String,
    /// Whether `cargo nextest run --features failure-fixtures` sweeps this case.
    pub in_tests: bool,
}

/// Where the program's code comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgramSource {
    /// Python source written to `program.py` in the run's work directory.
    Inline(String),
    /// A script file (absolute, resolved relative to the scenario file).
    Script(PathBuf),
}

/// How the recorder is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Launch {
    /// `python -m codetracer_python_recorder --out-dir <dir> ... script args`.
    Cli,
    /// `python script args`; the program calls `start()`/`stop()` itself with
    /// the directory in `CODETRACER_HARNESS_TRACE_DIR`.
    Api,
}

/// How policy keys reach the recorder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyVia {
    /// `CODETRACER_*` environment variables.
    Env,
    /// `--codetracer-*` CLI flags (launch `cli` only).
    Flags,
}

/// The program under test.
#[derive(Debug, Clone)]
pub struct Program {
    /// Inline source or script path.
    pub source: ProgramSource,
    /// Arguments after the script.
    pub args: Vec<String>,
    /// Bytes fed to stdin (empty stdin when `None`).
    pub stdin: Option<String>,
    /// CLI or API launch.
    pub launch: Launch,
    /// Trace format: `json` or `binary`.
    pub format: String,
    /// Environment or CLI flags for the policy.
    pub policy_via: PolicyVia,
    /// Kill the process group and report a hang after this long.
    pub timeout: Duration,
    /// Extra environment for the program (placeholders substituted).
    pub env: BTreeMap<String, String>,
}

/// Recorder policy keys; `None` leaves the recorder's default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// `on_recorder_error`.
    pub on_recorder_error: Option<OnRecorderError>,
    /// `require_trace`.
    pub require_trace: Option<bool>,
    /// `keep_partial_trace`.
    pub keep_partial_trace: Option<bool>,
    /// `log_level`.
    pub log_level: Option<String>,
    /// `log_file` (placeholders substituted at run time).
    pub log_file: Option<String>,
    /// `json_errors`.
    pub json_errors: Option<bool>,
    /// `follow_fork`.
    pub follow_fork: Option<bool>,
}

impl Policy {
    /// The effective `on_recorder_error` (the recorder's default is `abort`).
    pub fn on_error(&self) -> OnRecorderError {
        self.on_recorder_error.unwrap_or(OnRecorderError::Abort)
    }

    /// Whether JSON trailers are on.
    pub fn json_errors(&self) -> bool {
        self.json_errors.unwrap_or(false)
    }

    /// Whether failed traces are kept as partial.
    pub fn keep_partial(&self) -> bool {
        self.keep_partial_trace.unwrap_or(false)
    }

    /// The keys that are set, as `(key, value)` with booleans as `true`/`false`.
    pub fn entries(&self) -> Vec<(&'static str, String)> {
        let mut entries = Vec::new();
        if let Some(value) = self.on_recorder_error {
            entries.push(("on_recorder_error", value.as_str().to_string()));
        }
        let flags = [
            ("require_trace", self.require_trace),
            ("keep_partial_trace", self.keep_partial_trace),
            ("json_errors", self.json_errors),
            ("follow_fork", self.follow_fork),
        ];
        for (key, value) in flags {
            if let Some(value) = value {
                entries.push((key, value.to_string()));
            }
        }
        if let Some(value) = &self.log_level {
            entries.push(("log_level", value.clone()));
        }
        if let Some(value) = &self.log_file {
            entries.push(("log_file", value.clone()));
        }
        entries
    }
}

/// A signal the harness sends to the program's process group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalSpec {
    /// Signal number.
    pub signal: i32,
    /// Signal name as written (`SIGINT`).
    pub name: String,
    /// When to send it.
    pub trigger: SignalTrigger,
}

/// When the signal is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignalTrigger {
    /// This long after the program started.
    After(Duration),
    /// This long after the fixture log says the fail point was reached.
    AtFailpoint {
        /// Fail point name.
        name: String,
        /// Delay after the log line is seen.
        delay: Duration,
    },
}

/// Faults to inject.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// `FAILPOINTS` entries, `(name, action)`, sorted by name.
    pub failpoints: Vec<(String, String)>,
    /// `CODETRACER_FAULTFS_PLAN` (placeholders substituted at run time).
    pub faultfs_plan: Option<String>,
    /// A signal to send.
    pub signal: Option<SignalSpec>,
    /// A real kernel fault (the case then runs on the normal build).
    pub real: Option<RealFault>,
    /// SIGKILL the program at this faultfs operation or fail point reach
    /// (`write#3`, `any#17`, `recorder::writer#2`: a faultfs `kill=` clause);
    /// the harness then runs `recover` on the trace directory and judges that.
    pub kill: Option<String>,
}

impl Faults {
    /// The `FAILPOINTS` value, if any fail point is configured.
    pub fn failpoints_env(&self) -> Option<String> {
        if self.failpoints.is_empty() {
            return None;
        }
        let entries: Vec<String> = self
            .failpoints
            .iter()
            .map(|(name, action)| format!("{name}={action}"))
            .collect();
        Some(entries.join(";"))
    }

    /// The `CODETRACER_FAULTFS_PLAN` clauses: the plan, then the `kill=` clause.
    pub fn plan_with_kill(&self) -> Option<String> {
        let kill = self.kill.as_ref().map(|at| format!("kill={at}"));
        match (&self.faultfs_plan, kill) {
            (Some(plan), Some(kill)) => Some(format!("{plan};{kill}")),
            (Some(plan), None) => Some(plan.clone()),
            (None, kill) => kill,
        }
    }

    /// The kinds of fault injected, for `harness list`: `faultfs plan`,
    /// `fail point`, `signal`, `real:<kind>`, `kill` joined by `+`, or `none`.
    pub fn kinds(&self) -> String {
        let mut kinds = Vec::new();
        if self.faultfs_plan.is_some() {
            kinds.push("faultfs plan".to_string());
        }
        if !self.failpoints.is_empty() {
            kinds.push("fail point".to_string());
        }
        if self.signal.is_some() {
            kinds.push("signal".to_string());
        }
        if let Some(real) = &self.real {
            kinds.push(format!("real:{}", real.kind()));
        }
        if self.kill.is_some() {
            kinds.push("kill".to_string());
        }
        if kinds.is_empty() {
            "none".to_string()
        } else {
            kinds.join("+")
        }
    }
}

/// Expected exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitExpect {
    /// Any of these codes (death by signal N counts as 128+N).
    Codes(Vec<i32>),
    /// The exit code of the untraced run.
    SameAsUntraced,
}

/// Expected stdout (or, without `Equals`, the program's part of stderr).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StdoutExpect {
    /// Not checked (beyond "no recorder text on stdout").
    Any,
    /// Byte-identical to the untraced run.
    SameAsUntraced,
    /// A prefix of the untraced run's stdout (the program was stopped early).
    PrefixOfUntraced,
    /// Exactly this text.
    Equals(String),
}

impl StdoutExpect {
    /// Whether the untraced baseline is needed.
    pub fn needs_baseline(&self) -> bool {
        matches!(
            self,
            StdoutExpect::SameAsUntraced | StdoutExpect::PrefixOfUntraced
        )
    }
}

/// The three states an output directory may be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TraceState {
    /// All files present, loadable, balanced.
    Complete,
    /// No recorder file at all.
    Absent,
    /// Marked partial with a reason code.
    Partial,
}

impl TraceState {
    /// The state's name in scenario files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            TraceState::Complete => "complete",
            TraceState::Absent => "absent",
            TraceState::Partial => "partial",
        }
    }

    /// Parses a state name.
    pub fn parse(text: &str) -> Option<TraceState> {
        [
            TraceState::Complete,
            TraceState::Absent,
            TraceState::Partial,
        ]
        .into_iter()
        .find(|state| state.as_str() == text)
    }
}

impl fmt::Display for TraceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the run must look like.
#[derive(Debug, Clone)]
pub struct Expect {
    /// Exit status.
    pub exit_code: ExitExpect,
    /// Python exception class name seen in a trailer or traceback.
    pub exception: Option<String>,
    /// `ERR_*` codes, any of which must be seen.
    pub error_code: Vec<String>,
    /// Exact number of JSON trailer lines on stderr.
    pub trailers: Option<usize>,
    /// stdout expectation.
    pub stdout: StdoutExpect,
    /// The program's part of stderr (the recorder's own lines left out).
    pub program_stderr: StdoutExpect,
    /// Patterns that must all match stderr.
    pub stderr: Vec<Regex>,
    /// Patterns that must not match stderr.
    pub stderr_not: Vec<Regex>,
    /// Allowed output directory states (any valid state when empty).
    pub trace: Vec<TraceState>,
    /// Reason code a partial trace must carry.
    pub partial_reason: Option<String>,
    /// Longest acceptable run.
    pub max_duration: Option<Duration>,
    /// Configured fail points the run must never reach.
    pub not_reached: Vec<String>,
    /// Fewest readable events the (complete or partial) trace must hold.
    pub min_events: Option<usize>,
    /// The program dies without finishing its recording (`os._exit`, a
    /// SIGKILL from outside): run `recover` after it and judge its result.
    pub recover: bool,
}

impl Expect {
    /// Whether judging needs an untraced baseline run.
    pub fn needs_baseline(&self) -> bool {
        self.stdout.needs_baseline()
            || self.program_stderr.needs_baseline()
            || self.exit_code == ExitExpect::SameAsUntraced
    }
}
