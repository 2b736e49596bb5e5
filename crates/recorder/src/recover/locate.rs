//! Finding the dead recording to recover: its staging directory (given, or
//! the only one in the trace directory), refused while its process runs, and
//! the recorder files it left, in staging or already under a final name
//! (the process died while committing).

use std::path::{Path, PathBuf};

use faultfs::{EntryKind, FileSystem, StagingOwner, PARTIAL_MARKER};
use recorder_errors::prelude::*;

use crate::writer::{TraceFormat, METADATA_FILE};

/// A dead recording's staging directory and what it left.
#[derive(Debug)]
pub struct DeadRecording {
    /// The trace directory.
    pub target: PathBuf,
    /// The staging directory.
    pub staging: PathBuf,
    /// Its owner (the process that died).
    pub owner: StagingOwner,
    /// The events file and its format, when one was written.
    pub events: Option<(TraceFormat, PathBuf)>,
    /// A whole or partial `trace_metadata.json`, staged or placed.
    pub metadata: Option<PathBuf>,
    /// A partial marker placed before the process died (it was settling a failure).
    pub marker: Option<PathBuf>,
}

/// Finds the dead recording at `path`: a staging directory, or a trace
/// directory holding exactly one.
pub fn locate(fs: &dyn FileSystem, path: &Path) -> RecorderResult<DeadRecording> {
    let path = std::path::absolute(path).io_context("resolve", path)?;
    let kind = fs.entry_kind(&path).io_context("stat", &path)?;
    ensure_env!(
        kind == Some(EntryKind::Dir),
        ErrorCode::TraceMissing,
        "nothing to recover: {} is not a directory", path.display();
        "path" = path.display()
    );
    let given = path
        .file_name()
        .and_then(|name| StagingOwner::from_dir_name(&name.to_string_lossy()));
    let (target, staging, owner) = match given {
        Some(owner) => {
            let target = path.parent().map(Path::to_path_buf).unwrap_or_default();
            (target, path, owner)
        }
        None => {
            let (name, owner) = only_staging(fs, &path)?;
            let staging = path.join(name);
            (path, staging, owner)
        }
    };
    ensure_usage!(
        !owner.is_alive(),
        ErrorCode::TraceDirConflict,
        "{} belongs to a recording that is still running (pid {}); only the staging directory of a process that died can be recovered",
        staging.display(), owner.pid();
        "path" = staging.display(),
        "pid" = owner.pid()
    );
    let found = |name: &str| -> RecorderResult<Option<PathBuf>> {
        for dir in [&staging, &target] {
            let candidate = dir.join(name);
            if fs.entry_kind(&candidate).io_context("stat", &candidate)? == Some(EntryKind::File) {
                return Ok(Some(candidate));
            }
        }
        Ok(None)
    };
    let mut events = None;
    for format in [TraceFormat::Json, TraceFormat::Binary] {
        if let Some(file) = found(format.events_file())? {
            events = Some((format, file));
            break;
        }
    }
    let metadata = found(METADATA_FILE)?;
    let marker = found(PARTIAL_MARKER)?;
    Ok(DeadRecording {
        target,
        staging,
        owner,
        events,
        metadata,
        marker,
    })
}

/// The one staging directory in `dir`.
fn only_staging(fs: &dyn FileSystem, dir: &Path) -> RecorderResult<(String, StagingOwner)> {
    let mut found: Vec<(String, StagingOwner)> = fs
        .read_dir(dir)
        .io_context("list", dir)?
        .into_iter()
        .filter_map(|name| StagingOwner::from_dir_name(&name).map(|owner| (name, owner)))
        .collect();
    match found.len() {
        0 => Err(enverr!(
            ErrorCode::TraceMissing,
            "nothing to recover: {} holds no staging directory of an unfinished recording",
            dir.display();
            "path" = dir.display()
        )),
        1 => Ok(found.remove(0)),
        count => {
            let names: Vec<&str> = found.iter().map(|(name, _)| name.as_str()).collect();
            Err(usage!(
                ErrorCode::TraceDirConflict,
                "{} holds {count} staging directories ({}); recover one of them by its path",
                dir.display(), names.join(", ");
                "path" = dir.display()
            ))
        }
    }
}
