//! Running a case's program: the traced run with its faults, and the
//! untraced baseline, each in its own directory.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use recorder_errors::{RecorderError, RecorderResult};

use crate::fixtures::FixtureLog;
use crate::inspect::{self, DirReport, RunDirs};
use crate::normal_build;
use crate::process::{self, Outcome, SignalPlan, SignalWhen, Spawn, Termination};
use crate::python::Interpreter;
use crate::realfault::{self, Setup};
use crate::recovery::{self, RecoveryRun};
use crate::scenario::{Case, Launch, PolicyVia, ProgramSource, RealFault, SignalTrigger};
use crate::stderr::{self, StderrReport};

/// Variable through which an `api` program learns its trace directory.
pub const TRACE_DIR_ENV: &str = "CODETRACER_HARNESS_TRACE_DIR";
/// Variable through which an `api` program learns the trace format.
pub const FORMAT_ENV: &str = "CODETRACER_HARNESS_FORMAT";

/// Everything observed about one traced run.
#[derive(Debug, Clone)]
pub struct Observation {
    /// Process outcome (exit, output, timing).
    pub outcome: Outcome,
    /// stderr as text.
    pub stderr_text: String,
    /// What stderr says.
    pub stderr: StderrReport,
    /// The fixture log.
    pub fixtures: FixtureLog,
    /// The output directory (after `recover`, for a killed case).
    pub dir: DirReport,
    /// The output directory's path.
    pub dir_path: PathBuf,
    /// The `recover` run of a killed case.
    pub recovery: Option<RecoveryRun>,
    /// The command line, for reports.
    pub command: String,
}

/// The untraced run's stdout, stderr and exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baseline {
    /// How it ended.
    pub termination: Termination,
    /// Its stdout.
    pub stdout: Vec<u8>,
    /// Its stderr.
    pub stderr: Vec<u8>,
}

/// Replaces `{trace_dir}` and `{work_dir}` in scenario text.
pub fn substitute(text: &str, dirs: &RunDirs) -> String {
    text.replace("{trace_dir}", &dirs.trace.display().to_string())
        .replace("{work_dir}", &dirs.work.display().to_string())
}

/// The inherited environment without any recorder or fixture variable, plus
/// a fixed hash seed so runs are repeatable.
fn base_env() -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = std::env::vars_os()
        .filter(|(key, _)| {
            let key = key.to_string_lossy();
            !(key.starts_with("CODETRACER_") || key == "FAILPOINTS" || key.starts_with("PYTHON"))
        })
        .collect();
    env.push(("PYTHONHASHSEED".into(), "0".into()));
    env.push(("PYTHONDONTWRITEBYTECODE".into(), "1".into()));
    env
}

/// Writes inline source into the work directory; returns the script path.
fn materialize(case: &Case, work: &Path) -> RecorderResult<PathBuf> {
    match &case.program.source {
        ProgramSource::Script(path) => Ok(path.clone()),
        ProgramSource::Inline(source) => {
            let path = work.join("program.py");
            fs::write(&path, source).map_err(|e| RecorderError::io(e, "write", &path))?;
            Ok(path)
        }
    }
}

/// Creates (or empties) a run directory.
pub fn fresh_dir(path: &Path) -> RecorderResult<()> {
    if path.exists() {
        fs::remove_dir_all(path).map_err(|e| RecorderError::io(e, "remove", path))?;
    }
    fs::create_dir_all(path).map_err(|e| RecorderError::io(e, "mkdir", path))
}

fn shell_quote(text: &str) -> String {
    let plain = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c));
    if plain && !text.is_empty() {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// The command line as a shell would read it.
fn render(program: &Path, args: &[OsString]) -> String {
    let mut parts = vec![shell_quote(&program.display().to_string())];
    parts.extend(args.iter().map(|arg| shell_quote(&arg.to_string_lossy())));
    parts.join(" ")
}

/// A traced run that happened, or the reason it could not.
#[derive(Debug, Clone)]
pub enum Traced {
    /// The run and what was observed.
    Observed(Box<Observation>),
    /// The case's real fault cannot be set up here (no privilege, no
    /// namespace support, ...): the case is skipped, never passed.
    Skipped(String),
}

/// The traced run of any case: a case with a real fault runs on the normal
/// build with the fault set up in the child ([`run_real`]); every other case
/// as [`run_traced`].
pub fn run_case(interpreter: &Interpreter, case: &Case, dirs: &RunDirs) -> RecorderResult<Traced> {
    match &case.faults.real {
        Some(fault) => run_real(case, fault, dirs),
        None => {
            run_traced(interpreter, case, dirs).map(|observed| Traced::Observed(observed.into()))
        }
    }
}

/// The traced run under a real kernel fault, on the normal build: the run
/// directory is prepared for the fault, the child sets it up between fork
/// and exec, and the output is collected before inspection.
pub fn run_real(case: &Case, fault: &RealFault, dirs: &RunDirs) -> RecorderResult<Traced> {
    if let Some(why) = realfault::unavailable(fault) {
        return Ok(Traced::Skipped(why));
    }
    let (interpreter, _) = normal_build::interpreter()?;
    fresh_dir(&dirs.work)?;
    let dirs = realfault::run_dirs(fault, dirs);
    let mut setup =
        Setup::prepare(fault, &dirs).map_err(|e| RecorderError::io(e, "prepare", &dirs.work))?;
    let mut spawn = traced_spawn(&interpreter, case, &dirs)?;
    spawn.child_hook = Some(setup.hook());
    let outcome = match process::run(&spawn) {
        Ok(outcome) => outcome,
        Err(error) => {
            return match setup.failure() {
                Some(why) => Ok(Traced::Skipped(why)),
                None => Err(error),
            }
        }
    };
    setup
        .collect()
        .map_err(|e| RecorderError::io(e, "collect the output of", &dirs.work))?;
    Ok(Traced::Observed(
        observe(&dirs, spawn, outcome, None).into(),
    ))
}

/// The traced run: builds the command for the case's launch mode, sets the
/// faults and policy, runs it in `dirs.work`, and inspects the result (for a
/// killed case, or one expecting a dead recording, after running `recover`
/// on the trace directory).
pub fn run_traced(
    interpreter: &Interpreter,
    case: &Case,
    dirs: &RunDirs,
) -> RecorderResult<Observation> {
    fresh_dir(&dirs.work)?;
    let spawn = traced_spawn(interpreter, case, dirs)?;
    let outcome = process::run(&spawn)?;
    let recovery = if case.recovers() {
        Some(recovery::run(
            interpreter,
            &dirs.trace,
            &dirs.work,
            base_env(),
        )?)
    } else {
        None
    };
    Ok(observe(dirs, spawn, outcome, recovery))
}

/// What a finished traced run left: output, stderr, fixture log, directory.
fn observe(
    dirs: &RunDirs,
    spawn: Spawn,
    outcome: Outcome,
    recovery: Option<RecoveryRun>,
) -> Observation {
    let stderr_text = String::from_utf8_lossy(&outcome.stderr).into_owned();
    save_output(&dirs.work, &spawn.command_line, &outcome);
    Observation {
        stderr: stderr::parse(&stderr_text),
        stderr_text,
        fixtures: FixtureLog::read(&dirs.fixtures_log),
        dir: inspect::inspect(&dirs.trace, &dirs.work),
        dir_path: dirs.trace.clone(),
        recovery,
        command: spawn.command_line,
        outcome,
    }
}

/// The traced command for the case's launch mode, with its faults and
/// policy, to run in `dirs.work` (which must exist).
fn traced_spawn(interpreter: &Interpreter, case: &Case, dirs: &RunDirs) -> RecorderResult<Spawn> {
    let script = materialize(case, &dirs.work)?;
    let program = &case.program;
    let mut env = base_env();
    let mut args: Vec<OsString> = Vec::new();
    let policy = case.policy.entries();
    match program.launch {
        Launch::Cli => {
            args.extend(["-m", "codetracer_python_recorder", "--out-dir"].map(OsString::from));
            args.push(dirs.trace.clone().into_os_string());
            args.push("--format".into());
            args.push(program.format.clone().into());
            if program.policy_via == PolicyVia::Flags {
                for (key, value) in &policy {
                    let value = substitute(value, dirs);
                    args.push(format!("--codetracer-{}={value}", key.replace('_', "-")).into());
                }
            }
        }
        Launch::Api => {
            env.push((TRACE_DIR_ENV.into(), dirs.trace.clone().into_os_string()));
            env.push((FORMAT_ENV.into(), program.format.clone().into()));
        }
    }
    if program.policy_via == PolicyVia::Env {
        for (key, value) in &policy {
            env.push((
                format!("CODETRACER_{}", key.to_uppercase()).into(),
                substitute(value, dirs).into(),
            ));
        }
    }
    args.push(script.into_os_string());
    args.extend(
        program
            .args
            .iter()
            .map(|arg| OsString::from(substitute(arg, dirs))),
    );
    env.push((
        "CODETRACER_FIXTURES_LOG".into(),
        dirs.fixtures_log.clone().into_os_string(),
    ));
    if let Some(failpoints) = case.faults.failpoints_env() {
        env.push(("FAILPOINTS".into(), failpoints.into()));
    }
    if let Some(plan) = case.faults.plan_with_kill() {
        env.push((
            "CODETRACER_FAULTFS_PLAN".into(),
            substitute(&plan, dirs).into(),
        ));
    }
    for (key, value) in &program.env {
        env.push((key.into(), substitute(value, dirs).into()));
    }
    let signal = case.faults.signal.as_ref().map(|spec| SignalPlan {
        signal: spec.signal,
        when: match &spec.trigger {
            SignalTrigger::After(delay) => SignalWhen::After(*delay),
            SignalTrigger::AtFailpoint { name, delay } => SignalWhen::Failpoint {
                log: dirs.fixtures_log.clone(),
                failpoint: name.clone(),
                delay: *delay,
            },
        },
    });
    Ok(Spawn {
        program: interpreter.path.clone(),
        command_line: render(&interpreter.path, &args),
        args,
        cwd: dirs.work.clone(),
        env,
        stdin: program.stdin.clone().unwrap_or_default().into_bytes(),
        timeout: program.timeout,
        signal,
        child_hook: None,
    })
}

/// Keeps the captured output next to the run, for `--keep-artifacts`.
fn save_output(work: &Path, command: &str, outcome: &Outcome) {
    let _ = fs::write(work.join("command.txt"), format!("{command}\n"));
    let _ = fs::write(work.join("stdout.txt"), &outcome.stdout);
    let _ = fs::write(work.join("stderr.txt"), &outcome.stderr);
}

/// The untraced run: `python script args` with the same stdin and program
/// environment, no recorder variables, in its own directory.
pub fn run_untraced(
    interpreter: &Interpreter,
    case: &Case,
    work: &Path,
) -> RecorderResult<Baseline> {
    fresh_dir(work)?;
    let dirs = RunDirs::new(work);
    let script = materialize(case, work)?;
    let mut env = base_env();
    for (key, value) in &case.program.env {
        env.push((key.into(), substitute(value, &dirs).into()));
    }
    let mut args = vec![script.into_os_string()];
    args.extend(
        case.program
            .args
            .iter()
            .map(|arg| OsString::from(substitute(arg, &dirs))),
    );
    let spawn = Spawn {
        program: interpreter.path.clone(),
        command_line: render(&interpreter.path, &args),
        args,
        cwd: work.to_path_buf(),
        env,
        stdin: case.program.stdin.clone().unwrap_or_default().into_bytes(),
        timeout: case.program.timeout.max(Duration::from_secs(1)),
        signal: None,
        child_hook: None,
    };
    let outcome = process::run(&spawn)?;
    save_output(work, &spawn.command_line, &outcome);
    Ok(Baseline {
        termination: outcome.termination,
        stdout: outcome.stdout,
        stderr: outcome.stderr,
    })
}
