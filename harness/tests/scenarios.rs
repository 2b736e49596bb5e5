//! Every case of every file in `scenarios/` as its own test, so nextest's
//! parallelism, retries, JUnit output and `--partition` apply to scenarios;
//! plus a `sweep::<case>` test for each case with `[sweep] in_tests = true`
//! (one per distinct program, policy and errno: cases differing only in
//! faults and expectations sweep identically).
//!
//! Active only with the `failure-fixtures` feature (the scenarios need fail
//! points compiled into the recorder); without it the binary lists a single
//! ignored note. The interpreter comes from `HARNESS_PYTHON`, else
//! `./dev python --fixtures`; cases with a real fault run on the normal build
//! (`HARNESS_PYTHON_NORMAL`, else `./dev python`) and are ignored where their
//! fault cannot be set up.

use libtest_mimic::{Arguments, Trial};

fn main() {
    let args = Arguments::from_args();
    libtest_mimic::run(&args, trials()).exit();
}

#[cfg(not(feature = "failure-fixtures"))]
fn trials() -> Vec<Trial> {
    vec![
        Trial::test("scenarios_need_the_failure_fixtures_feature", || Ok(()))
            .with_ignored_flag(true),
    ]
}

#[cfg(feature = "failure-fixtures")]
fn trials() -> Vec<Trial> {
    use std::path::Path;

    use harness::{realfault, scenario};

    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or_else(|| Path::new(".."))
        .to_path_buf();
    match scenario::load_all(&[root.join("scenarios")]) {
        Ok(files) => {
            let cases: Vec<_> = files.into_iter().flat_map(|file| file.cases).collect();
            let swept = cases.iter().filter(|case| case.sweep.in_tests);
            let sweeps: Vec<Trial> = harness::sweep::distinct_sweeps(swept)
                .into_iter()
                .cloned()
                .map(|case| Trial::test(format!("sweep::{}", case.id), move || sweep_case(&case)))
                .collect();
            cases
                .into_iter()
                .map(|case| {
                    // A real fault this machine cannot set up is skipped (listed as ignored).
                    let unavailable = case.faults.real.as_ref().and_then(realfault::unavailable);
                    Trial::test(case.id.clone(), move || run_case(&case))
                        .with_ignored_flag(unavailable.is_some())
                })
                .chain(sweeps)
                .collect()
        }
        Err(error) => {
            let message = error.to_string();
            vec![Trial::test("scenario_files_are_valid", move || {
                Err(message.into())
            })]
        }
    }
}

#[cfg(feature = "failure-fixtures")]
fn run_case(case: &harness::scenario::Case) -> Result<(), libtest_mimic::Failed> {
    use harness::python;
    use harness::suite::{self, Baselines, Verdict};

    let interpreter = python::resolve(None).map_err(|error| error.to_string())?;
    let work = tempfile::Builder::new()
        .prefix("harness-test-")
        .tempdir()
        .map_err(|error| error.to_string())?;
    let result = suite::run_case(&interpreter, case, work.path(), &Baselines::default());
    if result.verdict == Verdict::Pass {
        return Ok(());
    }
    let mut message = format!("{}: {}\n", result.id, result.observed);
    for difference in &result.differences {
        message.push_str(&format!("  - {difference}\n"));
    }
    message.push_str(&format!("replay: {}", result.replay));
    Err(message.into())
}

#[cfg(feature = "failure-fixtures")]
fn sweep_case(case: &harness::scenario::Case) -> Result<(), libtest_mimic::Failed> {
    use harness::{python, sweep};

    let interpreter = python::resolve(None).map_err(|error| error.to_string())?;
    let work = tempfile::Builder::new()
        .prefix("harness-sweep-")
        .tempdir()
        .map_err(|error| error.to_string())?;
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let report = sweep::sweep_case(&interpreter, case, jobs, work.path(), &|_| {});
    if report.passed() {
        Ok(())
    } else {
        Err(sweep::table(&report).into())
    }
}
