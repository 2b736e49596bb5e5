//! The `log` backend: one JSON object per line, to the policy's log file or stderr.
//!
//! The logger pulls its settings: before it decides on a record it compares
//! the policy's [`generation`](policy::generation) with the one its filter and
//! file were read from, and reads the policy again when it changed ([`refresh`]
//! does the same at once). Records below every level the filter lets through
//! are rejected without a lock.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex, Once};
use std::time::{SystemTime, UNIX_EPOCH};

use log::{LevelFilter, Log, Metadata, Record};
use serde::Serialize;

use super::context;
use crate::policy::{self, LogFilter};

/// Where lines go and which pass.
struct Output {
    filter: LogFilter,
    file: Option<(PathBuf, File)>,
    /// The last log file that could not be opened or written, said once.
    failed: Option<PathBuf>,
}

static OUTPUT: LazyLock<Mutex<Output>> = LazyLock::new(|| {
    Mutex::new(Output {
        filter: default_filter(),
        file: None,
        failed: None,
    })
});

/// The policy generation [`OUTPUT`] was last read from (0: never).
static READ_GENERATION: AtomicU64 = AtomicU64::new(0);
/// The most verbose level of [`OUTPUT`]'s filter (a `LevelFilter` as `usize`).
static MAX_LEVEL: AtomicUsize = AtomicUsize::new(LevelFilter::Warn as usize);

static LOGGER: JsonLogger = JsonLogger;
static INIT: Once = Once::new();

/// The filter of the default policy (`warn` for every target).
fn default_filter() -> LogFilter {
    LogFilter::new(LevelFilter::Warn)
}

/// One log line, fields in the documented order.
#[derive(Serialize)]
struct Line<'a> {
    ts: String,
    level: &'a str,
    message: String,
    run_id: &'a str,
    trace_id: Option<String>,
    error_code: Option<&'static str>,
    target: &'a str,
}

/// The recorder's `log::Log` implementation.
struct JsonLogger;

impl Log for JsonLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        let current = READ_GENERATION.load(Ordering::Acquire) == policy::generation();
        if current && metadata.level() as usize > MAX_LEVEL.load(Ordering::Relaxed) {
            return false;
        }
        lock().filter.level_for(metadata.target()) >= metadata.level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = Line {
            ts: timestamp(SystemTime::now()),
            level: record.level().as_str(),
            message: record.args().to_string(),
            run_id: context::run_id(),
            trace_id: context::active_trace_id(),
            error_code: context::current_error_code().map(|code| code.as_str()),
            target: record.target(),
        };
        let Ok(mut text) = serde_json::to_string(&line) else {
            return;
        };
        text.push('\n');
        lock().write(text.as_bytes());
    }

    fn flush(&self) {
        let mut output = lock();
        if let Some((_, file)) = output.file.as_mut() {
            let _ = file.flush();
        }
        let _ = io::stderr().flush();
    }
}

/// The output, with the policy's `log_level` and `log_file` read again when
/// the policy changed since the last time.
fn lock() -> std::sync::MutexGuard<'static, Output> {
    let mut output = OUTPUT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let generation = policy::generation();
    if READ_GENERATION.load(Ordering::Acquire) != generation {
        let (log_level, log_file) =
            policy::with_policy(|policy| (policy.log_level.clone(), policy.log_file.clone()));
        output.filter = LogFilter::parse(&log_level).unwrap_or_else(|_| default_filter());
        output.open(log_file.as_deref());
        MAX_LEVEL.store(output.filter.max_level() as usize, Ordering::Relaxed);
        READ_GENERATION.store(generation, Ordering::Release);
    }
    output
}

impl Output {
    /// Writes one line to the log file, falling back to stderr (said once) when it fails.
    fn write(&mut self, line: &[u8]) {
        if let Some((path, file)) = self.file.as_mut() {
            match file.write_all(line) {
                Ok(()) => return,
                Err(error) => {
                    let path = path.clone();
                    self.file = None;
                    self.say_fallback(&path, "write", &error);
                }
            }
        }
        super::stderr::write_all(line);
    }

    /// Points the output at `path` (or stderr), keeping an already open file.
    fn open(&mut self, path: Option<&Path>) {
        let current = self.file.as_ref().map(|(open, _)| open.as_path());
        if current == path {
            return;
        }
        self.file = None;
        let Some(path) = path else {
            return;
        };
        match OpenOptions::new().create(true).append(true).open(path) {
            Ok(file) => {
                self.file = Some((path.to_path_buf(), file));
                self.failed = None;
            }
            Err(error) => self.say_fallback(path, "open", &error),
        }
    }

    /// Tells stderr, once per file, that logging moved there.
    fn say_fallback(&mut self, path: &Path, op: &str, error: &io::Error) {
        if self.failed.as_deref() == Some(path) {
            return;
        }
        self.failed = Some(path.to_path_buf());
        let line = Line {
            ts: timestamp(SystemTime::now()),
            level: "WARN",
            message: format!(
                "cannot {op} log file {}: {error}; logging to stderr instead",
                path.display()
            ),
            run_id: context::run_id(),
            trace_id: context::active_trace_id(),
            error_code: Some(recorder_errors::code_for_io(error).as_str()),
            target: module_path!(),
        };
        if let Ok(mut text) = serde_json::to_string(&line) {
            text.push('\n');
            super::stderr::write_all(text.as_bytes());
        }
    }
}

/// Reads the policy's `log_level` and `log_file` now rather than at the next
/// record, so a newly set log file is opened (and an unusable one reported)
/// when the setting is made.
pub fn refresh() {
    drop(lock());
}

/// Installs the JSON logger as the `log` backend, once per process. The
/// facade passes every level on, so a policy that raises the level is seen at
/// the next record; the logger filters. Another backend installed by the host
/// stays in place (and keeps its own level).
pub fn init() {
    INIT.call_once(|| {
        if log::set_logger(&LOGGER).is_ok() {
            log::set_max_level(LevelFilter::Trace);
        }
    });
}

/// RFC 3339 UTC time with milliseconds, e.g. `2025-01-31T12:00:00.250Z`.
pub(crate) fn timestamp(now: SystemTime) -> String {
    let elapsed = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = elapsed.as_secs();
    let (days, of_day) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        of_day / 3600,
        (of_day / 60) % 60,
        of_day % 60,
        elapsed.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn records_become_json_lines_in_the_log_file_with_every_field() {
        use crate::policy::{configure, PolicyKey, PolicyUpdate};
        use recorder_errors::ErrorCode;

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("recorder.log");
        init();
        configure(
            &PolicyUpdate {
                log_file: Some(Some(path.clone())),
                log_level: Some("info".into()),
                ..PolicyUpdate::default()
            },
            &[],
        );
        context::set_active_trace_id(Some("trace-1".into()));
        context::with_error_code(ErrorCode::DiskFull, || log::error!("disk is full"));
        context::set_active_trace_id(None);
        log::debug!("filtered out");
        log::info!("plain");
        configure(
            &PolicyUpdate::default(),
            &[PolicyKey::LogFile, PolicyKey::LogLevel],
        );

        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        let messages: Vec<&str> = lines
            .iter()
            .map(|l| l["message"].as_str().unwrap())
            .collect();
        assert_eq!(messages, ["disk is full", "plain"]);
        assert_eq!(lines[0]["level"], "ERROR");
        assert_eq!(lines[0]["error_code"], "ERR_DISK_FULL");
        assert_eq!(lines[0]["trace_id"], "trace-1");
        assert_eq!(lines[0]["run_id"], context::run_id());
        assert_eq!(lines[0]["target"], module_path!());
        assert!(lines[1]["error_code"].is_null() && lines[1]["trace_id"].is_null());
    }

    #[test]
    fn timestamps_are_rfc3339_utc_with_milliseconds() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let leap_day = UNIX_EPOCH + Duration::from_millis(951_782_400_250);
        assert_eq!(timestamp(leap_day), "2000-02-29T00:00:00.250Z");
        let late = UNIX_EPOCH + Duration::from_secs(4_102_444_799);
        assert_eq!(timestamp(late), "2099-12-31T23:59:59.000Z");
    }
}
