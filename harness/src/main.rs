//! `harness`: run, list, check and sweep fault-injection scenarios.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use harness::python::{self, Interpreter};
use harness::scenario::{self, Case, ScenarioError};
use harness::suite::{self, Verdict, Workspace};
use harness::{normal_build, realfault, report, select, sweep};
use recorder_errors::RecorderError;

/// Exit status when some scenario failed.
const EXIT_FAILED: u8 = 1;

#[derive(Debug, Parser)]
#[command(
    name = "harness",
    version,
    about = "Fault-injection scenario runner for the CodeTracer Python recorder"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run scenarios and judge them against their expectations.
    Run {
        #[command(flatten)]
        select: Selection,
        #[command(flatten)]
        exec: Execution,
        /// Write a JUnit XML report here.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Write a JSON report here.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
    },
    /// List the cases the given files define (validating them).
    List {
        #[command(flatten)]
        select: Selection,
    },
    /// Validate scenario files without running anything.
    Check {
        /// Scenario files or directories (default: the repository's scenarios/).
        paths: Vec<PathBuf>,
    },
    /// Fail every faultfs operation of a clean run in turn and check the contract.
    Sweep {
        #[command(flatten)]
        select: Selection,
        #[command(flatten)]
        exec: Execution,
        /// Write a JSON report here.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
struct Selection {
    /// Scenario files or directories (default: the repository's scenarios/).
    paths: Vec<PathBuf>,
    /// Only cases whose id contains PATTERN (`*` matches anything; an exact id selects only that case).
    #[arg(long, value_name = "PATTERN")]
    filter: Option<String>,
}

#[derive(Debug, Args)]
struct Execution {
    /// Runs at the same time (default: the number of CPUs).
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,
    /// The interpreter with the failure-fixtures build of the recorder
    /// (default: $HARNESS_PYTHON, else `./dev python --fixtures`).
    #[arg(long, value_name = "PATH")]
    python: Option<PathBuf>,
    /// Keep every run's directory (program, trace, fixture log, output) here.
    #[arg(long, value_name = "DIR")]
    keep_artifacts: Option<PathBuf>,
    /// The interpreter with the normal build of the recorder, for cases with
    /// a real fault (default: $HARNESS_PYTHON_NORMAL, else `./dev python`).
    #[arg(long, value_name = "PATH")]
    python_normal: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run {
            select,
            exec,
            junit,
            json,
        } => run(&select, &exec, junit.as_deref(), json.as_deref()),
        Command::List { select } => list(&select),
        Command::Check { paths } => check(&paths),
        Command::Sweep { select, exec, json } => sweep(&select, &exec, json.as_deref()),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("harness: error: {error}");
            ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(EXIT_FAILED))
        }
    }
}

fn default_paths(paths: &[PathBuf]) -> Vec<PathBuf> {
    if !paths.is_empty() {
        return paths.to_vec();
    }
    match python::repo_root() {
        Some(root) => vec![root.join("scenarios")],
        None => vec![PathBuf::from("scenarios")],
    }
}

fn scenario_error(error: &ScenarioError) -> RecorderError {
    error.to_recorder_error()
}

fn load_cases(selection: &Selection) -> Result<Vec<Case>, RecorderError> {
    let files =
        scenario::load_all(&default_paths(&selection.paths)).map_err(|e| scenario_error(&e))?;
    let cases = select::select(&files, selection.filter.as_deref());
    if cases.is_empty() {
        return Err(RecorderError::from_code(
            recorder_errors::ErrorCode::InvalidScenario,
            format!(
                "no case selected (files: {}, filter: {})",
                files.len(),
                selection.filter.as_deref().unwrap_or("none")
            ),
        ));
    }
    Ok(cases)
}

fn interpreter(exec: &Execution) -> Result<Interpreter, RecorderError> {
    let interpreter = python::resolve(exec.python.as_deref())?;
    let found = python::preflight(&interpreter)?;
    eprintln!(
        "harness: python {} at {} (from {}), recorder {}",
        found.version,
        interpreter.path.display(),
        interpreter.origin,
        found.package
    );
    Ok(interpreter)
}

/// Finds the normal build when a selected case has a real fault this machine
/// can set up, so a missing build is reported before anything runs.
fn normal_interpreter(exec: &Execution, cases: &[Case]) -> Result<(), RecorderError> {
    if let Some(path) = &exec.python_normal {
        normal_build::choose(path);
    }
    let needed = cases.iter().any(|case| {
        case.faults
            .real
            .as_ref()
            .is_some_and(|fault| realfault::unavailable(fault).is_none())
    });
    if needed {
        let (interpreter, found) = normal_build::interpreter()?;
        eprintln!(
            "harness: real faults run on python {} at {} (from {}), normal build {}",
            found.version,
            interpreter.path.display(),
            interpreter.origin,
            found.package
        );
    }
    Ok(())
}

fn jobs(exec: &Execution) -> usize {
    exec.jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1)
}

fn workspace(exec: &Execution) -> Result<Workspace, RecorderError> {
    let path = exec.keep_artifacts.as_deref();
    Workspace::new(path)
        .map_err(|e| RecorderError::io(e, "mkdir", path.unwrap_or(Path::new("(temp)"))))
}

fn run(
    selection: &Selection,
    exec: &Execution,
    junit: Option<&Path>,
    json: Option<&Path>,
) -> Result<ExitCode, RecorderError> {
    let cases = load_cases(selection)?;
    let interpreter = interpreter(exec)?;
    normal_interpreter(exec, &cases)?;
    let workspace = workspace(exec)?;
    let jobs = jobs(exec);
    eprintln!(
        "harness: running {} case(s) with {jobs} job(s)",
        cases.len()
    );
    let started = Instant::now();
    let progress = |finished: usize, total: usize, result: &suite::CaseResult| {
        eprintln!("{}", report::progress_line(finished, total, result));
    };
    let results = suite::run_all(&interpreter, &cases, jobs, workspace.root(), &progress);
    let elapsed = started.elapsed();
    let mut stdout = std::io::stdout().lock();
    let _ = write!(stdout, "{}", report::summary_table(&results));
    let _ = writeln!(stdout, "wall time {}", suite::seconds(elapsed));
    let replays = report::replay_lines(&results);
    if !replays.is_empty() {
        let _ = writeln!(stdout, "replay failures with:");
        for line in replays {
            let _ = writeln!(stdout, "  {line}");
        }
    }
    if let Workspace::Kept(path) = &workspace {
        let _ = writeln!(stdout, "artifacts kept in {}", path.display());
    }
    if let Some(path) = junit {
        report::write_file(path, &report::junit(&results))?;
    }
    if let Some(path) = json {
        report::write_file(path, &report::json(&results))?;
    }
    let all_passed = !results.iter().any(|r| r.verdict == Verdict::Fail);
    Ok(if all_passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    })
}

fn list(selection: &Selection) -> Result<ExitCode, RecorderError> {
    let cases = load_cases(selection)?;
    let mut stdout = std::io::stdout().lock();
    for case in cases {
        let _ = writeln!(
            stdout,
            "{}\t{}:{}\t{}\t{}",
            case.id,
            case.file.display(),
            case.line,
            case.faults.kinds(),
            case.description.lines().next().unwrap_or("")
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn check(paths: &[PathBuf]) -> Result<ExitCode, RecorderError> {
    match scenario::load_all(&default_paths(paths)) {
        Ok(files) => {
            let cases: usize = files.iter().map(|f| f.cases.len()).sum();
            println!("{} file(s), {cases} case(s): valid", files.len());
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => Err(scenario_error(&error)),
    }
}

fn sweep(
    selection: &Selection,
    exec: &Execution,
    json: Option<&Path>,
) -> Result<ExitCode, RecorderError> {
    let cases = load_cases(selection)?;
    let interpreter = interpreter(exec)?;
    let workspace = workspace(exec)?;
    let jobs = jobs(exec);
    let started = Instant::now();
    let mut reports = Vec::new();
    let mut skipped = 0;
    for case in &cases {
        if let Some(why) = sweep::not_sweepable(case) {
            skipped += 1;
            println!("sweep {} skipped: {why}", case.id);
            continue;
        }
        eprintln!(
            "harness: sweeping {} (policy {})",
            case.id,
            case.policy.on_error().as_str()
        );
        let progress = |row: &sweep::SweepRow| {
            let verdict = if row.differences.is_empty() {
                "ok"
            } else {
                "FAIL"
            };
            eprintln!(
                "  op {:>4} {:<6} {verdict} {}",
                row.index, row.kind, row.observed
            );
        };
        let sweep_report = sweep::sweep_case(&interpreter, case, jobs, workspace.root(), &progress);
        print!("{}", sweep::table(&sweep_report));
        reports.push(sweep_report);
    }
    println!(
        "{} case(s) swept, {skipped} skipped; wall time {}",
        reports.len(),
        suite::seconds(started.elapsed())
    );
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(&reports).unwrap_or_default();
        report::write_file(path, &text)?;
    }
    let all_passed = reports.iter().all(sweep::SweepReport::passed);
    Ok(if all_passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    })
}
