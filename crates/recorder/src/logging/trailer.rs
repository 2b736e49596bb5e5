//! The JSON error trailer: with `json_errors` on, one line on stderr for every
//! `RecorderError` that crosses into Python.

use std::io::Write;
use std::sync::Mutex;

use recorder_errors::RecorderError;
use serde::Serialize;

use super::context;

/// Where trailers go instead of stderr (the test hook); `None` is stderr.
static WRITER: Mutex<Option<Box<dyn Write + Send>>> = Mutex::new(None);

#[derive(Serialize)]
struct Trailer<'a> {
    run_id: &'a str,
    trace_id: Option<String>,
    error_code: &'static str,
    error_kind: &'static str,
    message: &'a str,
    context: serde_json::Map<String, serde_json::Value>,
}

/// The trailer line for `error` (JSON, no newline).
pub fn render(error: &RecorderError) -> String {
    let trailer = Trailer {
        run_id: context::run_id(),
        trace_id: context::active_trace_id(),
        error_code: error.code().as_str(),
        error_kind: error.kind().as_str(),
        message: error.message(),
        context: error
            .context()
            .iter()
            .map(|(key, value)| (key.clone(), serde_json::Value::String(value.clone())))
            .collect(),
    };
    serde_json::to_string(&trailer).unwrap_or_default()
}

/// Writes the trailer of `error` and flushes, when the policy's `json_errors`
/// is on; does nothing otherwise. Write failures are ignored: the error itself
/// still reaches Python.
pub fn emit(error: &RecorderError) {
    if !crate::policy::with_policy(|policy| policy.json_errors) {
        return;
    }
    let mut line = render(error);
    line.push('\n');
    let mut writer = WRITER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match writer.as_mut() {
        Some(hook) => {
            let _ = hook.write_all(line.as_bytes());
            let _ = hook.flush();
        }
        None => super::stderr::write_all(line.as_bytes()),
    }
}

/// Test hook: sends trailers to `writer` instead of stderr (`None` restores stderr).
pub fn set_writer(writer: Option<Box<dyn Write + Send>>) {
    *WRITER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = writer;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{configure, PolicyKey, PolicyUpdate};
    use recorder_errors::ErrorCode;
    use std::io;
    use std::sync::{Arc, Mutex as StdMutex};

    #[derive(Clone, Default)]
    struct Shared(Arc<StdMutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn one_flushed_line_per_error_when_on_and_nothing_when_off() {
        let captured = Shared::default();
        set_writer(Some(Box::new(captured.clone())));
        let error = RecorderError::from_code(ErrorCode::DiskFull, "no space left")
            .with_context("path", "/tmp/t/trace.json");

        configure(
            &PolicyUpdate {
                json_errors: Some(false),
                ..PolicyUpdate::default()
            },
            &[],
        );
        emit(&error);
        assert!(captured.0.lock().unwrap().is_empty());

        configure(
            &PolicyUpdate {
                json_errors: Some(true),
                ..PolicyUpdate::default()
            },
            &[],
        );
        emit(&error);
        configure(&PolicyUpdate::default(), &[PolicyKey::JsonErrors]);
        set_writer(None);

        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        let value: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(value["error_code"], "ERR_DISK_FULL");
        assert_eq!(value["error_kind"], "Environment");
        assert_eq!(value["message"], "no space left");
        assert_eq!(value["context"]["path"], "/tmp/t/trace.json");
        assert_eq!(value["run_id"], context::run_id());
        assert!(value.get("trace_id").is_some());
    }
}
