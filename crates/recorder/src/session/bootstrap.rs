//! Preflight and set-up of a recording: the trace filters, everything else
//! that can be refused before any callback is installed (interpreter, format,
//! output path), then the staged output directory, the tracer configuration
//! and the tracer.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use faultfs::{EntryKind, FileSystem, StagedDir, StagingOwner};
use pyo3::prelude::*;
use recorder_errors::prelude::*;

use super::failpoints;
use super::state::StartRequest;
use crate::filter::engine::FilterEngine;
use crate::filter::loader::load_chain;
use crate::policy::RecorderPolicy;
use crate::tracer::{interpreter, RuntimeTracer, TracerConfig};
use crate::writer::{TraceFormat, TraceMetadataInfo};

/// The oldest interpreter with `sys.monitoring`.
const MIN_PYTHON: (u8, u8) = (3, 12);

/// A request that passed preflight.
#[derive(Debug)]
struct Preflight {
    /// The trace directory.
    dir: PathBuf,
    /// The events format.
    format: TraceFormat,
    /// The filesystem everything is written through.
    fs: Arc<dyn FileSystem>,
}

/// The trace filters of a recording: the builtin default, the project filter
/// found from the program's directory and the files the request names, read
/// through faultfs and placed in the running interpreter. A filter that is
/// missing, unreadable or malformed is a Usage error
/// (`ERR_INVALID_TRACE_FILTER`) that `start` raises under either policy.
pub(super) fn load_filters(py: Python<'_>, request: &StartRequest) -> RecorderResult<FilterEngine> {
    let fs = faultfs::from_env()?;
    let program_dir = program_dir(py, request.activation_path.as_deref());
    let chain = load_chain(
        fs.as_ref(),
        program_dir.as_deref(),
        &request.options.trace_filter,
    )?;
    let paths = interpreter::read(py);
    log::debug!(
        "trace filters: {}; interpreter directories: {paths:?}",
        chain
            .sources
            .iter()
            .map(|source| format!("{} ({})", source.meta.name, source.path))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(FilterEngine::new(chain, paths))
}

/// The traced program's directory, where the search for the project filter
/// starts: the activation file's, else that of `sys.argv[0]` when it names a
/// file (none for `-c` or an interactive interpreter).
fn program_dir(py: Python<'_>, activation_path: Option<&Path>) -> Option<PathBuf> {
    let program: PathBuf = match activation_path {
        Some(path) => path.to_path_buf(),
        None => py
            .import("sys")
            .and_then(|sys| sys.getattr("argv"))
            .and_then(|argv| argv.get_item(0))
            .and_then(|first| first.extract())
            .ok()?,
    };
    if !program.is_file() {
        return None;
    }
    let dir = program.parent()?;
    Some(if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir.to_path_buf()
    })
}

/// Everything `start` does before the monitoring tool exists, once the
/// filters are loaded: the `recorder::*` fail points, preflight, the tracer
/// configuration, the staged output and the tracer (its preamble written).
pub(super) fn prepare(
    py: Python<'_>,
    request: &StartRequest,
    filters: FilterEngine,
    policy: &RecorderPolicy,
) -> RecorderResult<RuntimeTracer> {
    failpoints::configure_failpoints()?;
    let preflight = preflight(py, &request.path, &request.format)?;
    let config = tracer_config(py, &preflight, request, filters, policy)?;
    let staged = stage(&preflight)?;
    RuntimeTracer::create(staged, config)
}

/// Refuses an unsupported interpreter, an unknown format and an output path
/// that is a file or a non-empty directory. Writes nothing.
fn preflight(py: Python<'_>, path: &Path, format: &str) -> RecorderResult<Preflight> {
    let version = py.version_info();
    ensure_usage!(
        (version.major, version.minor) >= MIN_PYTHON,
        ErrorCode::UnsupportedPython,
        "Python {}.{} has no sys.monitoring; the recorder needs Python {}.{} or newer",
        version.major, version.minor, MIN_PYTHON.0, MIN_PYTHON.1;
        "python_version" = format!("{}.{}", version.major, version.minor)
    );
    let Some(format) = TraceFormat::parse(format) else {
        return Err(usage!(
            ErrorCode::UnsupportedFormat,
            "unknown trace format {format:?}: use \"json\" or \"binary\"";
            "format" = format
        ));
    };
    ensure_usage!(
        !path.as_os_str().is_empty(),
        ErrorCode::TraceDirConflict,
        "the trace directory path is empty"
    );
    // Resolved once, now: the program's own `os.chdir` later changes nothing.
    let dir = std::path::absolute(path).map_err(|err| dir_create_failed(err, "resolve", path))?;
    let fs = faultfs::from_env()?;
    check_target(fs.as_ref(), &dir)?;
    Ok(Preflight { dir, format, fs })
}

/// The output path must be missing or an empty directory. A path that cannot
/// even be looked up (a parent is a file, or not searchable) is a directory
/// that cannot be created.
fn check_target(fs: &dyn FileSystem, dir: &Path) -> RecorderResult<()> {
    let kind = fs
        .entry_kind(dir)
        .map_err(|err| dir_create_failed(err, "stat", dir))?;
    match kind {
        None => Ok(()),
        Some(EntryKind::Dir) => {
            let entries = fs.read_dir(dir).io_context("list", dir)?;
            only_staging_left(dir, &entries)?;
            ensure_usage!(
                entries.is_empty(),
                ErrorCode::TraceDirConflict,
                "trace directory {} is not empty ({} entries); choose a new or empty directory",
                dir.display(), entries.len();
                "path" = dir.display()
            );
            Ok(())
        }
        Some(other) => Err(usage!(
            ErrorCode::TraceDirConflict,
            "trace path {} exists and is not a directory ({other:?})",
            dir.display();
            "path" = dir.display()
        )),
    }
}

/// A directory holding nothing but staging directories is not "not empty" to
/// its user (`ls` shows nothing): say whose they are, and for a recording
/// whose process died, how to recover it.
fn only_staging_left(dir: &Path, entries: &[String]) -> RecorderResult<()> {
    let owners: Vec<StagingOwner> = entries
        .iter()
        .map_while(|name| StagingOwner::from_dir_name(name))
        .collect();
    if owners.is_empty() || owners.len() != entries.len() {
        return Ok(());
    }
    if let Some(live) = owners.iter().find(|owner| owner.is_alive()) {
        return Err(usage!(
            ErrorCode::TraceDirConflict,
            "trace directory {} is in use by a running recording (process {}); choose another directory",
            dir.display(), live.pid();
            "path" = dir.display(),
            "pid" = live.pid()
        ));
    }
    let pids: Vec<String> = owners.iter().map(|owner| owner.pid().to_string()).collect();
    let command = format!(
        "python -m codetracer_python_recorder recover {}",
        dir.display()
    );
    Err(usage!(
        ErrorCode::TraceDirConflict,
        "trace directory {} holds the unfinished recording of process {}, which died before finishing; run `{command}` to make it a partial trace, or remove it, or choose another directory",
        dir.display(), pids.join(", ");
        "path" = dir.display(),
        "recover" = command
    ))
}

/// Creates the trace directory (and missing parents) and its staging directory.
/// Any failure is `ERR_TRACE_DIR_CREATE_FAILED` (Environment): a script
/// branching on codes sees one code for "the output directory cannot be
/// created", as in 0.3; the precise I/O code (`ERR_PERMISSION_DENIED`,
/// `ERR_DISK_FULL`, ...) is in the context as `cause`, next to `errno`.
fn stage(preflight: &Preflight) -> RecorderResult<StagedDir> {
    StagedDir::create(Arc::clone(&preflight.fs), &preflight.dir)
        .map_err(|err| dir_create_failed(err, "mkdir", &preflight.dir))
}

/// `ERR_TRACE_DIR_CREATE_FAILED` for `err`, keeping its precise code as `cause`.
fn dir_create_failed(err: std::io::Error, operation: &str, dir: &Path) -> RecorderError {
    let reason = err.to_string();
    let cause = RecorderError::io(err, operation, dir);
    let mut error = RecorderError::new(
        ErrorKind::Environment,
        ErrorCode::TraceDirCreateFailed,
        format!("cannot create trace directory {}: {reason}", dir.display()),
    )
    .with_context("path", dir.display())
    .with_context("operation", operation)
    .with_context("cause", cause.code().as_str());
    if let Some(errno) = cause.context_value("errno") {
        error.set_context("errno", errno);
    }
    error.with_source(cause)
}

/// The tracer configuration: program and arguments from `sys.argv` (as the
/// operating system's bytes: an argument that is not UTF-8 is kept exactly),
/// the working directory, the interpreter version and the policy in force.
fn tracer_config(
    py: Python<'_>,
    preflight: &Preflight,
    request: &StartRequest,
    filters: FilterEngine,
    policy: &RecorderPolicy,
) -> RecorderResult<TracerConfig> {
    let sys = py.import("sys").ok();
    let argv: Vec<OsString> = sys
        .as_ref()
        .and_then(|sys| sys.getattr("argv").ok())
        .and_then(|argv| argv.extract().ok())
        .unwrap_or_default();
    let python_version: String = sys
        .as_ref()
        .and_then(|sys| sys.getattr("version").ok())
        .and_then(|version| version.extract().ok())
        .unwrap_or_default();
    let program: OsString = match (request.activation_path.as_deref(), argv.first()) {
        (Some(path), _) => path.as_os_str().to_os_string(),
        (None, Some(first)) if !first.is_empty() => first.clone(),
        _ => OsString::from("<unknown>"),
    };
    let policy = serde_json::to_value(policy)
        .map_err(|err| bug!(ErrorCode::Unknown, "cannot serialise the policy: {err}"))?;
    let mut metadata = TraceMetadataInfo {
        python_version,
        policy,
        ..TraceMetadataInfo::default()
    };
    let args = argv.get(1..).unwrap_or_default();
    metadata.set_process(std::env::current_dir().unwrap_or_default(), &program, args);
    Ok(TracerConfig {
        format: preflight.format,
        activation_path: request.activation_path.clone(),
        filters,
        module_name_from_globals: request.options.module_name_from_globals,
        metadata,
    })
}
