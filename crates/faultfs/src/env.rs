//! The filesystem a process writes through, chosen from the environment.
//!
//! A build without the `failpoints` feature always uses [`PhysicalFs`] and
//! never reads `CODETRACER_FAULTFS_PLAN`, `CODETRACER_FIXTURES_LOG` or
//! `FAILPOINTS`.

use std::sync::Arc;

use recorder_errors::RecorderResult;

use crate::fs::FileSystem;
use crate::physical::PhysicalFs;

/// Production: `Arc<PhysicalFs>`. In `failpoints`/`failure-fixtures` builds,
/// when `CODETRACER_FAULTFS_PLAN`, `CODETRACER_FIXTURES_LOG` or `FAILPOINTS`
/// is set: one process-wide `FaultFs<PhysicalFs>` with that plan and
/// operation log, whose [`FAILPOINTS`](crate::FAILPOINTS) are configured from
/// the variable by `failpoints::configure_from_env` (a malformed plan or
/// `FAILPOINTS` entry is a Usage error, `ERR_INVALID_FAULT_PLAN`).
pub fn from_env() -> RecorderResult<Arc<dyn FileSystem>> {
    #[cfg(feature = "failpoints")]
    if let Some(fs) = fixtures::from_env()? {
        return Ok(fs);
    }
    Ok(Arc::new(PhysicalFs::new()))
}

/// Fixture log: records that fail point `name` was reached (only in
/// `failure-fixtures` builds, only when `name` appears in `FAILPOINTS`, once
/// per name per process), and counts the reach for a `kill=<name>#<n>` plan
/// clause; a no-op otherwise.
pub fn note_failpoint(name: &str) {
    #[cfg(feature = "failpoints")]
    fixtures::note_failpoint(name);
    #[cfg(not(feature = "failpoints"))]
    let _ = name;
}

#[cfg(feature = "failpoints")]
mod fixtures {
    use std::collections::BTreeSet;
    use std::env;
    use std::path::{Path, PathBuf};
    use std::sync::{Arc, Mutex, OnceLock};

    use recorder_errors::prelude::*;

    use crate::failpoints;
    use crate::fault::FaultFs;
    use crate::fixture_log::FixtureLog;
    use crate::fs::FileSystem;
    use crate::op::FAILPOINTS;
    use crate::physical::PhysicalFs;
    use crate::plan::FaultPlan;

    const PLAN_VAR: &str = "CODETRACER_FAULTFS_PLAN";
    const LOG_VAR: &str = "CODETRACER_FIXTURES_LOG";

    /// The process-wide fault filesystem, once built.
    static FAULT_FS: Mutex<Option<Arc<FaultFs<PhysicalFs>>>> = Mutex::new(None);
    /// The fixture log, once opened.
    static LOG: Mutex<Option<Arc<FixtureLog>>> = Mutex::new(None);
    /// Fail point names already recorded in the fixture log.
    static NOTED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    /// The process-wide fault filesystem when its plan kills at a fail point reach.
    static KILL_WATCH: OnceLock<Arc<FaultFs<PhysicalFs>>> = OnceLock::new();

    pub(super) fn from_env() -> RecorderResult<Option<Arc<dyn FileSystem>>> {
        let plan = plan_from_env()?;
        let log_path = env::var_os(LOG_VAR).map(PathBuf::from);
        if plan.is_none() && log_path.is_none() && env::var_os(failpoints::VAR).is_none() {
            return Ok(None);
        }
        let mut slot = FAULT_FS.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(fs) = slot.as_ref() {
            return Ok(Some(Arc::clone(fs) as Arc<dyn FileSystem>));
        }
        let plan = plan
            .as_deref()
            .map_or(Ok(FaultPlan::default()), FaultPlan::parse)?;
        let log = match &log_path {
            Some(path) => Some(fixture_log(path).io_context("open fixture log", path)?),
            None => None,
        };
        failpoints::configure_from_env(&FAILPOINTS)?;
        let fs = Arc::new(FaultFs::with_log(PhysicalFs::new(), plan, log));
        if fs.plan().kills_at_failpoints() {
            let _ = KILL_WATCH.set(Arc::clone(&fs));
        }
        *slot = Some(Arc::clone(&fs));
        Ok(Some(fs))
    }

    /// `CODETRACER_FAULTFS_PLAN`, if set; a value that is not UTF-8 is a
    /// Usage error naming it (never silently no plan).
    fn plan_from_env() -> RecorderResult<Option<String>> {
        match env::var(PLAN_VAR) {
            Ok(text) => Ok(Some(text)),
            Err(env::VarError::NotPresent) => Ok(None),
            Err(env::VarError::NotUnicode(value)) => {
                let shown = value.to_string_lossy().into_owned();
                Err(usage!(ErrorCode::InvalidFaultPlan,
                    "{PLAN_VAR} is not valid UTF-8: {shown:?} (the bad bytes shown as U+FFFD)";
                    "clause" = shown))
            }
        }
    }

    pub(super) fn note_failpoint(name: &str) {
        if let Some(fs) = KILL_WATCH.get() {
            fs.reach_failpoint(name);
        }
        if !failpoints::is_named(name) {
            return;
        }
        let first = NOTED
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_string());
        let log_path = env::var_os(LOG_VAR).map(PathBuf::from);
        if let (true, Some(path)) = (first, log_path) {
            if let Ok(log) = fixture_log(&path) {
                log.failpoint(name);
            }
        }
    }

    /// The fixture log at `path`, opened once per process.
    fn fixture_log(path: &Path) -> std::io::Result<Arc<FixtureLog>> {
        let mut slot = LOG.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(log) = slot.as_ref() {
            return Ok(Arc::clone(log));
        }
        let log = Arc::new(FixtureLog::open(path)?);
        *slot = Some(Arc::clone(&log));
        Ok(log)
    }
}
