//! Every case of every file in `scenarios/` as its own test, so nextest's
//! parallelism, retries, JUnit output and `--partition` apply to scenarios;
//! plus, for each case with `[sweep] in_tests = true` (one per distinct
//! program, policy and errno: cases differing only in faults and
//! expectations sweep identically), its sweep split into operation-index
//! ranges, one test each (`sweep::<case>::ops-026-050`), so that
//! `--partition hash:K/N` spreads the sweeps evenly over N machines.
//!
//! The ranges are fixed (`SWEEP_CHUNK` indices up to `SWEEP_MAX_OPS`), not
//! computed from a clean run: listing the tests runs no Python and gives the
//! same names on every machine, which partitioning needs. A range past the
//! end of a case's operations passes after its clean run; the last range
//! fails when a clean run has more operations than `SWEEP_MAX_OPS`.
//!
//! Active only with the `failure-fixtures` feature (the scenarios need fail
//! points compiled into the recorder); without it the binary lists a single
//! ignored note. The interpreter comes from `HARNESS_PYTHON`, else
//! `./dev python --fixtures`; cases with a real fault run on the normal build
//! (`HARNESS_PYTHON_NORMAL`, else `./dev python`) and are ignored where their
//! fault cannot be set up.

use libtest_mimic::{Arguments, Trial};

/// Operation indices per sweep test.
#[cfg(feature = "failure-fixtures")]
const SWEEP_CHUNK: u64 = 25;
/// The most faultfs operations a swept case may have (the shipped ones have
/// 19 to 65); raise it when a new scenario needs more.
#[cfg(feature = "failure-fixtures")]
const SWEEP_MAX_OPS: u64 = 100;

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

    // nextest sets CARGO_MANIFEST_DIR at run time too (remapped with
    // `--workspace-remap` when running from an archive on another machine).
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(
        || env!("CARGO_MANIFEST_DIR").into(),
        std::path::PathBuf::from,
    );
    let root = manifest
        .parent()
        .unwrap_or_else(|| Path::new(".."))
        .to_path_buf();
    match scenario::load_all(&[root.join("scenarios")]) {
        Ok(files) => {
            let cases: Vec<_> = files.into_iter().flat_map(|file| file.cases).collect();
            let swept = cases.iter().filter(|case| case.sweep.in_tests);
            let sweeps: Vec<Trial> = harness::sweep::distinct_sweeps(swept)
                .into_iter()
                .flat_map(sweep_trials)
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

/// The sweep of `case` as one test per index range: `sweep::<id>::ops-001-025`, ...
#[cfg(feature = "failure-fixtures")]
fn sweep_trials(case: &harness::scenario::Case) -> Vec<Trial> {
    (1..=SWEEP_MAX_OPS)
        .step_by(SWEEP_CHUNK as usize)
        .map(|first| {
            let last = (first + SWEEP_CHUNK - 1).min(SWEEP_MAX_OPS);
            let case = case.clone();
            Trial::test(
                format!("sweep::{}::ops-{first:03}-{last:03}", case.id),
                move || sweep_range(&case, first..=last),
            )
        })
        .collect()
}

#[cfg(feature = "failure-fixtures")]
fn sweep_range(
    case: &harness::scenario::Case,
    indices: std::ops::RangeInclusive<u64>,
) -> Result<(), libtest_mimic::Failed> {
    use harness::{python, sweep};

    let interpreter = python::resolve(None).map_err(|error| error.to_string())?;
    let work = tempfile::Builder::new()
        .prefix("harness-sweep-")
        .tempdir()
        .map_err(|error| error.to_string())?;
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let covers_the_end = *indices.end() == SWEEP_MAX_OPS;
    let report = sweep::sweep_indices(&interpreter, case, indices, jobs, work.path(), &|_| {});
    let operations: usize = report.counts.iter().map(|(_, n)| n).sum();
    let mut failure = String::new();
    if !report.passed() {
        failure.push_str(&sweep::table(&report));
    }
    if covers_the_end && operations as u64 > SWEEP_MAX_OPS {
        failure.push_str(&format!(
            "the clean run has {operations} faultfs operations, more than the {SWEEP_MAX_OPS} \
             the sweep tests cover: raise SWEEP_MAX_OPS in harness/tests/scenarios.rs\n"
        ));
    }
    if failure.is_empty() {
        Ok(())
    } else {
        Err(failure.into())
    }
}
