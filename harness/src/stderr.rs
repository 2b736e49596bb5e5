//! Reading a run's stderr: JSON error trailers, structured log lines, and the
//! exception of a Python traceback.

use recorder_errors::ErrorKind;
use regex::Regex;
use serde_json::Value;

/// One JSON error trailer (`{"run_id","trace_id","error_code","error_kind","message","context"}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trailer {
    /// `ERR_*` code.
    pub error_code: String,
    /// `Usage|Environment|Target|Internal`.
    pub error_kind: String,
    /// Message.
    pub message: String,
    /// The output state the error reports (`context.output`: `absent`,
    /// `partial`, `partial-leftovers`), when it says one.
    pub output: Option<String>,
}

impl Trailer {
    /// The Python class raised for the trailer's kind.
    pub fn python_class(&self) -> Option<&'static str> {
        ErrorKind::parse(&self.error_kind).map(ErrorKind::python_class)
    }
}

/// The last exception of a Python traceback on stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TracebackException {
    /// Class name without module (`EnvironmentError`, `KeyboardInterrupt`).
    pub class: String,
    /// The full exception line.
    pub line: String,
}

/// What stderr says.
#[derive(Debug, Clone, Default)]
pub struct StderrReport {
    /// JSON trailers in order.
    pub trailers: Vec<Trailer>,
    /// Structured log lines (JSON objects with `level`).
    pub log_lines: usize,
    /// The last traceback's exception.
    pub traceback: Option<TracebackException>,
    /// `ERR_*` codes found in trailers, the traceback line, and `[ERR_*]` messages.
    pub codes: Vec<String>,
}

impl StderrReport {
    /// Exception class names seen: the traceback's and each trailer's kind class.
    pub fn exception_classes(&self) -> Vec<String> {
        let mut classes: Vec<String> = self
            .trailers
            .iter()
            .filter_map(|t| t.python_class().map(str::to_string))
            .collect();
        if let Some(traceback) = &self.traceback {
            classes.push(traceback.class.clone());
        }
        classes.dedup();
        classes
    }
}

/// Whether a JSON object is an error trailer (as opposed to a log line).
fn is_trailer(object: &serde_json::Map<String, Value>) -> bool {
    object.contains_key("error_kind")
        && object.contains_key("error_code")
        && !object.contains_key("level")
}

/// Parses stderr text.
pub fn parse(stderr: &str) -> StderrReport {
    let mut report = StderrReport::default();
    let bracketed = Regex::new(r"\[(ERR_[A-Z_]+)\]").ok();
    for line in stderr.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('{') {
            if let Ok(Value::Object(object)) = serde_json::from_str::<Value>(trimmed) {
                if is_trailer(&object) {
                    let text = |key: &str| {
                        object
                            .get(key)
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string()
                    };
                    let output = object
                        .get("context")
                        .and_then(|context| context.get("output"))
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    let trailer = Trailer {
                        error_code: text("error_code"),
                        error_kind: text("error_kind"),
                        message: text("message"),
                        output,
                    };
                    report.codes.push(trailer.error_code.clone());
                    report.trailers.push(trailer);
                } else if object.contains_key("level") {
                    report.log_lines += 1;
                }
                continue;
            }
        }
        if let Some(re) = &bracketed {
            for capture in re.captures_iter(line) {
                report.codes.push(capture[1].to_string());
            }
        }
    }
    report.traceback = last_traceback(stderr);
    if let Some(traceback) = &report.traceback {
        if let Ok(re) = Regex::new(r"\bERR_[A-Z_]+\b") {
            report.codes.extend(
                re.find_iter(&traceback.line)
                    .map(|m| m.as_str().to_string()),
            );
        }
    }
    report.codes.sort();
    report.codes.dedup();
    report
}

/// The exception line of the last `Traceback (most recent call last):` block:
/// the first line after the header that is not indented.
fn last_traceback(stderr: &str) -> Option<TracebackException> {
    let lines: Vec<&str> = stderr.lines().collect();
    let header = lines
        .iter()
        .rposition(|line| line.starts_with("Traceback (most recent call last):"))?;
    let line = lines[header + 1..]
        .iter()
        .find(|line| !line.is_empty() && !line.starts_with(' ') && !line.starts_with('\t'))?;
    let head = line.split(':').next().unwrap_or(line).trim();
    let class = head.rsplit('.').next().unwrap_or(head).to_string();
    Some(TracebackException {
        class,
        line: (*line).to_string(),
    })
}

/// Whether `line` is one of the recorder's own stderr lines: a JSON object
/// with `run_id` (a log line or a trailer), or the CLI's
/// `codetracer-python-recorder: ...` message.
fn is_recorder_line(line: &[u8]) -> bool {
    if line.starts_with(b"codetracer-python-recorder: ") {
        return true;
    }
    let trimmed = String::from_utf8_lossy(line);
    let trimmed = trimmed.trim();
    trimmed.starts_with('{')
        && serde_json::from_str::<Value>(trimmed)
            .ok()
            .and_then(|value| value.as_object().map(|o| o.contains_key("run_id")))
            .unwrap_or(false)
}

/// The program's part of stderr: every line but the recorder's own (see
/// [`is_recorder_line`]), byte for byte.
pub fn program_stderr(stderr: &[u8]) -> Vec<u8> {
    stderr
        .split_inclusive(|byte| *byte == b'\n')
        .filter(|line| !is_recorder_line(line))
        .flatten()
        .copied()
        .collect()
}

/// Whether stdout carries something only the recorder writes (a JSON log
/// line or trailer).
pub fn recorder_text_on_stdout(stdout: &str) -> Option<String> {
    stdout
        .lines()
        .find(|line| {
            let trimmed = line.trim();
            trimmed.starts_with('{')
                && serde_json::from_str::<Value>(trimmed)
                    .ok()
                    .and_then(|value| value.as_object().map(|o| o.contains_key("run_id")))
                    .unwrap_or(false)
        })
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STDERR: &str = concat!(
        "{\"ts\":\"t\",\"level\":\"warn\",\"message\":\"detached\",\"run_id\":\"r\",\"error_code\":\"ERR_DISK_FULL\"}\n",
        "Traceback (most recent call last):\n",
        "  File \"/x/program.py\", line 3, in <module>\n",
        "    stop()\n",
        "codetracer_python_recorder.errors.EnvironmentError: [ERR_DISK_FULL] no space left (path=/t)\n",
        "{\"run_id\":\"r\",\"trace_id\":null,\"error_code\":\"ERR_DISK_FULL\",\"error_kind\":\"Environment\",\"message\":\"no space\",\"context\":{}}\n",
    );

    #[test]
    fn finds_trailers_log_lines_and_the_traceback_exception() {
        let report = parse(STDERR);
        assert_eq!(report.trailers.len(), 1);
        assert_eq!(report.trailers[0].python_class(), Some("EnvironmentError"));
        assert_eq!(report.log_lines, 1);
        assert_eq!(
            report.traceback.as_ref().map(|t| t.class.as_str()),
            Some("EnvironmentError")
        );
        assert_eq!(report.codes, vec!["ERR_DISK_FULL".to_string()]);
        assert_eq!(
            report.exception_classes(),
            vec!["EnvironmentError".to_string()]
        );
    }

    #[test]
    fn a_keyboard_interrupt_traceback_has_no_message() {
        let report = parse(
            "Traceback (most recent call last):\n  File \"p.py\", line 1\nKeyboardInterrupt\n",
        );
        assert_eq!(
            report.traceback.map(|t| t.class),
            Some("KeyboardInterrupt".to_string())
        );
        assert!(report.codes.is_empty());
    }

    #[test]
    fn the_programs_stderr_leaves_out_log_lines_trailers_and_the_cli_message() {
        let stderr = format!(
            "before\n{STDERR}codetracer-python-recorder: [ERR_DISK_FULL] no space\n{{\"user\": 1}}\nafter"
        );
        let program = String::from_utf8(program_stderr(stderr.as_bytes())).unwrap_or_default();
        assert_eq!(
            program,
            concat!(
                "before\n",
                "Traceback (most recent call last):\n",
                "  File \"/x/program.py\", line 3, in <module>\n",
                "    stop()\n",
                "codetracer_python_recorder.errors.EnvironmentError: [ERR_DISK_FULL] no space left (path=/t)\n",
                "{\"user\": 1}\n",
                "after",
            )
        );
    }

    #[test]
    fn recorder_json_on_stdout_is_detected() {
        assert!(
            recorder_text_on_stdout("hello\n{\"run_id\":\"r\",\"level\":\"warn\"}\n").is_some()
        );
        assert!(recorder_text_on_stdout("{\"user\": 1}\n").is_none());
    }
}
