//! `FaultFs<Inner>`: counts every operation and injects the faults of a
//! [`FaultPlan`] (and, with the `failpoints` feature, of `fail` points).

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::errno::os_error;
use crate::fixture_log::FixtureLog;
use crate::fs::{EntryId, EntryKind, FileSystem, FsFile};
use crate::kill::{kill_process, KillPoint};
use crate::op::{OpCounts, OpKind};
use crate::plan::FaultPlan;

/// A filesystem that forwards to `Inner` unless the plan says an operation
/// fails; injected errors are `io::Error::from_raw_os_error(errno)`, exactly
/// what the kernel returns.
pub struct FaultFs<F: FileSystem> {
    inner: F,
    shared: Arc<Shared>,
}

/// State shared by the filesystem and its open files.
struct Shared {
    plan: FaultPlan,
    log: Option<Arc<FixtureLog>>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    counts: OpCounts,
    /// Bytes written (or reserved by a write in progress) against the quota.
    quota_used: u64,
    /// Reaches of each fail point, counted only for `kill=<failpoint>#<n>`.
    failpoint_reaches: BTreeMap<String, u64>,
}

impl<F: FileSystem> fmt::Debug for FaultFs<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultFs")
            .field("inner", &self.inner)
            .field("plan", &self.shared.plan.to_string())
            .field("counts", &self.counts())
            .finish()
    }
}

impl<F: FileSystem> FaultFs<F> {
    /// Wraps `inner`, injecting the faults of `plan`.
    pub fn new(inner: F, plan: FaultPlan) -> FaultFs<F> {
        FaultFs::with_log(inner, plan, None)
    }

    /// Like [`FaultFs::new`], also appending every operation and fault to `log`.
    pub fn with_log(inner: F, plan: FaultPlan, log: Option<Arc<FixtureLog>>) -> FaultFs<F> {
        FaultFs {
            inner,
            shared: Arc::new(Shared {
                plan,
                log,
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// Operations seen so far (failed ones included), in total and by kind.
    pub fn counts(&self) -> OpCounts {
        self.shared.state().counts
    }

    /// Bytes written so far against the quota.
    pub fn quota_used(&self) -> u64 {
        self.shared.state().quota_used
    }

    /// The plan being applied.
    pub fn plan(&self) -> &FaultPlan {
        &self.shared.plan
    }

    /// The wrapped filesystem.
    pub fn inner(&self) -> &F {
        &self.inner
    }

    /// Counts one reach of fail point `name` and, when the plan says
    /// `kill=<name>#<n>` for this reach, kills the process (after logging it).
    pub fn reach_failpoint(&self, name: &str) {
        if !self.shared.plan.kills_at_failpoints() {
            return;
        }
        let nth = {
            let mut state = self.shared.state();
            let reaches = state.failpoint_reaches.entry(name.to_string()).or_insert(0);
            *reaches += 1;
            *reaches
        };
        if let Some(rule) = self.shared.plan.kill_at_failpoint(name, nth) {
            kill_process(self.shared.log.as_deref(), KillPoint::Failpoint(name), rule);
        }
    }

    fn wrap(&self, file: Box<dyn FsFile>, path: &Path) -> Box<dyn FsFile> {
        Box::new(FaultFile {
            inner: file,
            path: path.to_path_buf(),
            shared: Arc::clone(&self.shared),
        })
    }
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts and logs one operation, then fails it if a fail point or a
    /// plan rule says so. Returns the operation's index.
    fn begin(&self, kind: OpKind, paths: &[&Path]) -> io::Result<u64> {
        let (index, kind_index) = self.state().counts.bump(kind);
        if let Some(log) = &self.log {
            log.op(kind, index, kind_index, paths);
        }
        if let Some(rule) = self.plan.kill_at_op(kind, index, kind_index) {
            kill_process(self.log.as_deref(), KillPoint::Op(kind, index), rule);
        }
        #[cfg(feature = "failpoints")]
        if let Some(errno) = failpoint_errno(kind) {
            return Err(self.fault(
                kind,
                index,
                errno,
                &format!("failpoint={}", kind.failpoint()),
            ));
        }
        if let Some(fault) = self.plan.fault_for(kind, index, kind_index, paths) {
            return Err(self.fault(kind, index, fault.errno, fault.rule));
        }
        Ok(index)
    }

    /// Logs a fault and returns its error.
    fn fault(&self, kind: OpKind, index: u64, errno: i32, rule: &str) -> io::Error {
        if let Some(log) = &self.log {
            log.fault(kind, index, errno, rule);
        }
        os_error(errno)
    }

    /// How many of `wanted` bytes the quota lets through (all without a quota).
    fn reserve(&self, wanted: usize) -> usize {
        let mut state = self.state();
        let allowed = match self.plan.quota() {
            Some(quota) => {
                let left = quota.saturating_sub(state.quota_used);
                usize::try_from(left).map_or(wanted, |left| left.min(wanted))
            }
            None => wanted,
        };
        state.quota_used += allowed as u64;
        allowed
    }

    /// Gives back reserved bytes the inner write did not take.
    fn release(&self, unused: usize) {
        let mut state = self.state();
        state.quota_used = state.quota_used.saturating_sub(unused as u64);
    }
}

/// `fail` crate point for one operation kind: `Some(errno)` when configured
/// to `return` (`return(ENOSPC)`, `return(28)`; EIO without an argument).
#[cfg(feature = "failpoints")]
fn failpoint_errno(kind: OpKind) -> Option<i32> {
    let name = kind.failpoint();
    crate::env::note_failpoint(name);
    fail::fail_point!(name, |arg: Option<String>| Some(
        arg.as_deref()
            .and_then(crate::errno::parse_errno)
            .unwrap_or(libc::EIO)
    ));
    None
}

/// A file opened through a [`FaultFs`].
struct FaultFile {
    inner: Box<dyn FsFile>,
    path: PathBuf,
    shared: Arc<Shared>,
}

impl Write for FaultFile {
    /// One `write` op. Against a quota, the write that crosses it stores what
    /// fits (a short write); once nothing fits, `ENOSPC`.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let index = self.shared.begin(OpKind::Write, &[&self.path])?;
        let allowed = self.shared.reserve(buf.len());
        if allowed == 0 && !buf.is_empty() {
            let rule = self.shared.plan.quota_rule();
            return Err(self.shared.fault(OpKind::Write, index, libc::ENOSPC, rule));
        }
        match self.inner.write(&buf[..allowed]) {
            Ok(written) => {
                self.shared.release(allowed - written);
                Ok(written)
            }
            Err(err) => {
                self.shared.release(allowed);
                Err(err)
            }
        }
    }

    /// Retries an interrupted write at most [`crate::MAX_INTERRUPTED_RETRIES`]
    /// times in a row (`std`'s default retries forever).
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        crate::retry::write_all_bounded(self, buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.shared.begin(OpKind::Flush, &[&self.path])?;
        self.inner.flush()
    }
}

impl FsFile for FaultFile {
    fn sync_all(&mut self) -> io::Result<()> {
        self.shared.begin(OpKind::Fsync, &[&self.path])?;
        self.inner.sync_all()
    }
}

impl<F: FileSystem> FileSystem for FaultFs<F> {
    fn create_dir(&self, path: &Path) -> io::Result<()> {
        self.shared.begin(OpKind::Mkdir, &[path])?;
        self.inner.create_dir(path)
    }

    fn create_new(&self, path: &Path) -> io::Result<Box<dyn FsFile>> {
        self.shared.begin(OpKind::Create, &[path])?;
        let file = self.inner.create_new(path)?;
        Ok(self.wrap(file, path))
    }

    fn open_append(&self, path: &Path) -> io::Result<Box<dyn FsFile>> {
        self.shared.begin(OpKind::Open, &[path])?;
        let file = self.inner.open_append(path)?;
        Ok(self.wrap(file, path))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.shared.begin(OpKind::Rename, &[from, to])?;
        self.inner.rename(from, to)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.shared.begin(OpKind::Remove, &[path])?;
        self.inner.remove_file(path)
    }

    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        self.shared.begin(OpKind::Remove, &[path])?;
        self.inner.remove_dir(path)
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        self.shared.begin(OpKind::Fsync, &[path])?;
        self.inner.sync_dir(path)
    }

    fn entry_kind(&self, path: &Path) -> io::Result<Option<EntryKind>> {
        self.inner.entry_kind(path)
    }

    fn entry_id(&self, path: &Path) -> io::Result<Option<EntryId>> {
        self.inner.entry_id(path)
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        self.inner.read_dir(path)
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.shared.begin(OpKind::Read, &[path])?;
        self.inner.read(path)
    }
}
