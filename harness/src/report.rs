//! Reports: a progress line per finished case, the summary table, JUnit XML
//! and JSON files.

use std::fmt::Write as _;
use std::path::Path;

use recorder_errors::{RecorderError, RecorderResult};

use crate::suite::{CaseResult, Verdict};

/// `[ 3/12] PASS disk_full::quota_abort (0.84s) exit 10, trace absent`, and
/// for a failure the differences and the replay command on following lines.
pub fn progress_line(finished: usize, total: usize, result: &CaseResult) -> String {
    let width = total.to_string().len();
    let verdict = match result.verdict {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
        Verdict::Skip => "SKIP",
    };
    let mut line = format!(
        "[{finished:>width$}/{total}] {verdict} {} ({:.2}s) {}",
        result.id,
        result.duration_ms as f64 / 1000.0,
        result.observed
    );
    if result.verdict == Verdict::Fail {
        for difference in &result.differences {
            let _ = write!(line, "\n      - {difference}");
        }
        let _ = write!(line, "\n      replay: {}", result.replay);
    }
    line
}

/// The summary table: scenario, verdict, duration, what differed.
pub fn summary_table(results: &[CaseResult]) -> String {
    let id_width = results.iter().map(|r| r.id.len()).max().unwrap_or(8).max(8);
    let mut table = format!(
        "{:<id_width$}  {:<7}  {:>8}  {}\n",
        "scenario", "verdict", "duration", "what differed"
    );
    for result in results {
        let verdict = match result.verdict {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::Skip => "skip",
        };
        let differed = match result.differences.len() {
            0 if result.verdict == Verdict::Skip => result.observed.clone(),
            0 => "-".to_string(),
            1 => result.differences[0].clone(),
            n => format!("{} (+{} more)", result.differences[0], n - 1),
        };
        let _ = writeln!(
            table,
            "{:<id_width$}  {:<7}  {:>7.2}s  {}",
            result.id,
            verdict,
            result.duration_ms as f64 / 1000.0,
            differed
        );
    }
    let _ = writeln!(table, "{}", counts(results));
    table
}

/// `7 passed, 1 failed, 4 skipped`.
pub fn counts(results: &[CaseResult]) -> String {
    let count = |verdict: Verdict| results.iter().filter(|r| r.verdict == verdict).count();
    format!(
        "{} passed, {} failed, {} skipped",
        count(Verdict::Pass),
        count(Verdict::Fail),
        count(Verdict::Skip)
    )
}

/// The replay commands of every failed case.
pub fn replay_lines(results: &[CaseResult]) -> Vec<String> {
    results
        .iter()
        .filter(|r| r.verdict == Verdict::Fail)
        .map(|r| r.replay.clone())
        .collect()
}

fn xml_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => escaped.push(c),
        }
    }
    escaped
}

/// JUnit XML: one `testsuite` per scenario file, one `testcase` per case;
/// a skipped case carries `<skipped message="why"/>`.
pub fn junit(results: &[CaseResult]) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let count = |cases: &[&CaseResult], verdict: Verdict| {
        cases.iter().filter(|r| r.verdict == verdict).count()
    };
    let all: Vec<&CaseResult> = results.iter().collect();
    let _ = writeln!(
        xml,
        "<testsuites name=\"harness\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">",
        results.len(),
        count(&all, Verdict::Fail),
        count(&all, Verdict::Skip)
    );
    let mut files: Vec<&Path> = results.iter().map(|r| r.file.as_path()).collect();
    files.dedup();
    for file in files {
        let cases: Vec<&CaseResult> = results.iter().filter(|r| r.file == file).collect();
        let seconds: f64 = cases.iter().map(|r| r.duration_ms as f64 / 1000.0).sum();
        let _ = writeln!(
            xml,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{seconds:.3}\">",
            xml_escape(&file.display().to_string()),
            cases.len(),
            count(&cases, Verdict::Fail),
            count(&cases, Verdict::Skip)
        );
        for case in cases {
            let _ = write!(
                xml,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                xml_escape(&file.display().to_string()),
                xml_escape(&case.id),
                case.duration_ms as f64 / 1000.0
            );
            match case.verdict {
                Verdict::Pass => xml.push_str("/>\n"),
                Verdict::Skip => {
                    let _ = writeln!(
                        xml,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        xml_escape(&case.observed)
                    );
                }
                Verdict::Fail => {
                    let message = case.differences.first().cloned().unwrap_or_default();
                    let body = format!("{}\nreplay: {}", case.differences.join("\n"), case.replay);
                    let _ = writeln!(
                        xml,
                        ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                        xml_escape(&message),
                        xml_escape(&body)
                    );
                }
            }
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    xml
}

/// Writes `text` to `path`.
pub fn write_file(path: &Path, text: &str) -> RecorderResult<()> {
    std::fs::write(path, text).map_err(|e| RecorderError::io(e, "write", path))
}

/// The results as pretty JSON.
pub fn json(results: &[CaseResult]) -> String {
    serde_json::to_string_pretty(results)
        .unwrap_or_else(|error| format!("{{\"error\":\"{error}\"}}"))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn result(id: &str, differences: &[&str]) -> CaseResult {
        CaseResult {
            id: id.to_string(),
            file: PathBuf::from("scenarios/disk_full.toml"),
            verdict: if differences.is_empty() {
                Verdict::Pass
            } else {
                Verdict::Fail
            },
            duration_ms: 1234,
            observed: "exit 10, trace absent".to_string(),
            differences: differences.iter().map(|d| d.to_string()).collect(),
            replay: format!("harness run scenarios/disk_full.toml --filter {id}"),
            command: String::new(),
        }
    }

    #[test]
    fn a_failure_lists_what_differed_and_how_to_replay_it() {
        let line = progress_line(
            2,
            10,
            &result("disk_full::abort", &["staging directory left behind"]),
        );
        assert_eq!(
            line,
            "[ 2/10] FAIL disk_full::abort (1.23s) exit 10, trace absent\n      - staging directory left behind\n      replay: harness run scenarios/disk_full.toml --filter disk_full::abort"
        );
    }

    #[test]
    fn the_summary_counts_passes_and_failures() {
        let table = summary_table(&[result("a::x", &[]), result("a::y", &["one", "two"])]);
        assert!(
            table.contains("a::y      FAIL        1.23s  one (+1 more)"),
            "{table}"
        );
        assert!(
            table.ends_with("1 passed, 1 failed, 0 skipped\n"),
            "{table}"
        );
    }

    fn skipped(id: &str) -> CaseResult {
        CaseResult {
            verdict: Verdict::Skip,
            observed: "skipped: real:eio needs a device that fails I/O".to_string(),
            ..result(id, &[])
        }
    }

    #[test]
    fn skips_are_counted_apart_and_say_why() {
        let results = [result("a::x", &[]), skipped("a::eio")];
        let table = summary_table(&results);
        assert!(
            table.ends_with("1 passed, 0 failed, 1 skipped\n"),
            "{table}"
        );
        assert!(
            table.contains("a::eio    skip        1.23s  skipped: real:eio needs"),
            "{table}"
        );
        assert_eq!(
            progress_line(2, 2, &results[1]),
            "[2/2] SKIP a::eio (1.23s) skipped: real:eio needs a device that fails I/O"
        );
        let json = json(&results);
        assert!(json.contains("\"verdict\": \"skip\""), "{json}");
    }

    #[test]
    fn junit_reports_skips_with_their_reason() {
        let xml = junit(&[result("a::x", &[]), skipped("a::eio")]);
        assert!(
            xml.contains("tests=\"2\" failures=\"0\" skipped=\"1\""),
            "{xml}"
        );
        assert!(
            xml.contains("<skipped message=\"skipped: real:eio needs a device that fails I/O\"/>"),
            "{xml}"
        );
    }

    #[test]
    fn junit_escapes_and_marks_failures() {
        let xml = junit(&[
            result("a::x", &[]),
            result("a::y", &["stdout <differs> & more"]),
        ]);
        assert!(xml.contains("tests=\"2\" failures=\"1\""));
        assert!(xml.contains("<failure message=\"stdout &lt;differs&gt; &amp; more\">"));
    }
}
