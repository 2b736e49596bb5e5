//! The interpreter with the normal (release) build of the recorder, which
//! real-fault cases run on: a real fault must be survived by the build users
//! get, not only by the one with fail points.
//!
//! Found once per process, on first use: the path `harness --python-normal`
//! gave ([`choose`]), else `HARNESS_PYTHON_NORMAL` (a relative path missing
//! from the cwd is taken from the repository root), else `./dev python`; then
//! checked with [`python::preflight_normal`].

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use recorder_errors::{ErrorCode, ErrorKind, RecorderError, RecorderResult};

use crate::python::{self, Interpreter, Preflight};

/// Environment variable naming the normal build's interpreter.
pub const PYTHON_NORMAL_ENV: &str = "HARNESS_PYTHON_NORMAL";

static CHOSEN: OnceLock<PathBuf> = OnceLock::new();
static FOUND: OnceLock<Result<(Interpreter, Preflight), String>> = OnceLock::new();

/// Uses `path` as the normal build's interpreter (`--python-normal`); only
/// the first call counts, and only before the interpreter is first used.
pub fn choose(path: &Path) {
    let _ = CHOSEN.set(std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()));
}

/// The normal build's interpreter and what its preflight found.
pub fn interpreter() -> RecorderResult<(Interpreter, Preflight)> {
    FOUND
        .get_or_init(|| find().map_err(|error| error.to_string()))
        .clone()
        .map_err(|message| RecorderError::new(ErrorKind::Environment, ErrorCode::Io, message))
}

fn find() -> RecorderResult<(Interpreter, Preflight)> {
    let interpreter = locate()?;
    let found = python::preflight_normal(&interpreter)?;
    Ok((interpreter, found))
}

fn locate() -> RecorderResult<Interpreter> {
    if let Some(path) = CHOSEN.get() {
        return Ok(Interpreter {
            path: path.clone(),
            origin: "--python-normal".to_string(),
        });
    }
    if let Some(path) = std::env::var_os(PYTHON_NORMAL_ENV).filter(|value| !value.is_empty()) {
        let path = PathBuf::from(path);
        let path = match python::repo_root() {
            Some(root) if path.is_relative() && !path.exists() => root.join(path),
            _ => std::path::absolute(&path).unwrap_or(path),
        };
        return Ok(Interpreter {
            path,
            origin: PYTHON_NORMAL_ENV.to_string(),
        });
    }
    let root = python::repo_root().ok_or_else(|| {
        RecorderError::new(
            ErrorKind::Usage,
            ErrorCode::Io,
            "no normal-build interpreter given and no repository root found; use --python-normal PATH or HARNESS_PYTHON_NORMAL",
        )
    })?;
    python::from_dev_script(&root, false)
}
