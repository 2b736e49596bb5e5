"""`./dev release-check`: the regression gate before a release.

Runs, in this order and without stopping early, the Rust suite with fail
points (nextest), the Python suite on every interpreter `./dev` found, the
compatibility suite, every harness scenario, the sweep of every scenario and
the benchmark against `docs/benchmarks/baseline.json`, then writes one report
directory (`summary.md`, `report.junit.xml`, `report.json`). The exit status is
0 when no step failed, 1 otherwise. See `docs/release-check.md`.

Modules, one job each: `options` (what a run is given, what steps share),
`model` (checks, step results, the pass/fail rule), `child` (runs one child
process), `junit_in` (reads nextest's and pytest's JUnit XML); the steps are
in `suites` (Rust, Python, compatibility), `harness_steps` (scenarios, sweep)
and `bench_compare` (benchmark against the baseline); `gate` runs them in
order, `report` writes the report, `cli` parses the command line.
"""
