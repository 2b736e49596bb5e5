//! The FFI boundary's error conversion (`ffi::{to_py_err, guard}`, the
//! only one in the crate): the package's exception class with code, kind and
//! context, a plain `Exception` when the errors module cannot be imported, and
//! exactly one JSON trailer per surfaced error either way.

use std::ffi::CString;
use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use codetracer_python_recorder::{
    configure_policy, guard, set_trailer_writer, to_py_err, PolicyUpdate, ERRORS_MODULE,
};
use pyo3::prelude::*;
use recorder_errors::{ErrorCode, ErrorKind, RecorderError, RecorderResult};

/// Trailer lines captured through the test hook.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().expect("capture lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn install() -> Captured {
        let captured = Captured::default();
        set_trailer_writer(Some(Box::new(captured.clone())));
        configure_policy(
            &PolicyUpdate {
                json_errors: Some(true),
                ..PolicyUpdate::default()
            },
            &[],
        );
        captured
    }

    fn codes(&self) -> Vec<String> {
        let bytes = self.0.lock().expect("capture lock").clone();
        String::from_utf8(bytes)
            .expect("utf-8 trailers")
            .lines()
            .map(|line| {
                let value: serde_json::Value = serde_json::from_str(line).expect("JSON trailer");
                value["error_code"].as_str().unwrap_or_default().to_string()
            })
            .collect()
    }
}

fn run(py: Python<'_>, source: &str) {
    let code = CString::new(source).expect("no NUL");
    py.run(&code, None, None).expect("set-up code runs");
}

/// Loads the package's real `errors.py` as `codetracer_python_recorder.errors`
/// (the embedded interpreter has no built package to import it from), next to
/// a stand-in `_native` holding the `EXIT_CODES` it imports.
fn load_errors_module(py: Python<'_>) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../python/codetracer_python_recorder/errors.py"
    );
    let exit_codes: Vec<String> = ErrorKind::ALL
        .iter()
        .map(|kind| format!("{:?}: {}", kind.as_str(), kind.exit_code()))
        .collect();
    let exit_codes = exit_codes.join(", ");
    run(
        py,
        &format!(
            "import sys, types\n\
             package = types.ModuleType('codetracer_python_recorder')\n\
             package.__path__ = []\n\
             package._native = types.ModuleType('codetracer_python_recorder._native')\n\
             package._native.EXIT_CODES = {{{exit_codes}}}\n\
             module = types.ModuleType({ERRORS_MODULE:?})\n\
             module.__package__ = 'codetracer_python_recorder'\n\
             sys.modules['codetracer_python_recorder'] = package\n\
             exec(compile(open({path:?}).read(), {path:?}, 'exec'), module.__dict__)\n\
             package.errors = module\n\
             sys.modules[{ERRORS_MODULE:?}] = module\n"
        ),
    );
}

fn disk_full() -> RecorderError {
    RecorderError::from_code(ErrorCode::DiskFull, "no space left").with_context("path", "/t/x")
}

#[test]
fn an_error_becomes_the_package_exception_with_one_trailer() {
    let captured = Captured::install();
    Python::attach(|py| {
        load_errors_module(py);
        let err = to_py_err(disk_full());
        let value = err.value(py);
        assert_eq!(
            value.get_type().name().expect("class name").to_string(),
            "EnvironmentError"
        );
        let code: String = value
            .getattr("code")
            .and_then(|c| c.extract())
            .expect("code");
        assert_eq!(code, "ERR_DISK_FULL");
        let path: String = value
            .getattr("context")
            .and_then(|c| c.get_item("path"))
            .and_then(|p| p.extract())
            .expect("context");
        assert_eq!(path, "/t/x");
    });
    assert_eq!(captured.codes(), ["ERR_DISK_FULL"]);
}

#[test]
fn without_the_errors_module_it_is_a_plain_exception_and_still_one_trailer() {
    let captured = Captured::install();
    Python::attach(|py| {
        run(
            py,
            &format!("import sys\nsys.modules[{ERRORS_MODULE:?}] = None\n"),
        );
        let err = to_py_err(disk_full());
        assert!(err
            .get_type(py)
            .is(py.get_type::<pyo3::exceptions::PyException>()));
        let text = err.value(py).to_string();
        assert!(text.starts_with("[ERR_DISK_FULL] no space left"), "{text}");
    });
    assert_eq!(captured.codes(), ["ERR_DISK_FULL"]);
}

#[test]
fn guard_surfaces_errors_and_panics_once_each() {
    let captured = Captured::install();
    Python::attach(|py| {
        load_errors_module(py);
        let failed = guard("test", || -> RecorderResult<()> { Err(disk_full()) });
        assert!(failed.is_err());
        let panicked = guard("test", || -> RecorderResult<()> { panic!("boom") });
        let err = panicked.expect_err("a caught panic is an error");
        let code: String = err
            .value(py)
            .getattr("code")
            .and_then(|c| c.extract())
            .expect("code");
        assert_eq!(code, "ERR_PANIC");
        assert_eq!(guard("test", || Ok(7)).expect("no error"), 7);
    });
    assert_eq!(captured.codes(), ["ERR_DISK_FULL", "ERR_PANIC"]);
}
