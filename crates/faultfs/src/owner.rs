//! Who a staging directory belongs to.
//!
//! A staging directory is named `.codetracer-staging-<pid>-<start>-<n>`: the
//! recording process's id, its start time (clock ticks after boot, field 22
//! of `/proc/<pid>/stat`) and the process's staging counter. A later process
//! can therefore tell a recording that is still running from one whose
//! process died (killed, `os._exit`, ...) even when the pid has been reused:
//! the live process with that pid must also have that start time. Where the
//! start time cannot be read the name is `.codetracer-staging-<pid>-<n>` and
//! only the pid is compared.

use std::fs;

use crate::staged::STAGING_PREFIX;

/// The recording process a staging directory belongs to, read from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StagingOwner {
    pid: u32,
    start: Option<u64>,
    seq: u64,
}

/// What `/proc/<pid>/stat` says about a process.
struct ProcStat {
    /// The one-letter state (`R`, `S`, `Z`, ...).
    state: char,
    /// Start time in clock ticks after boot.
    start: u64,
}

impl StagingOwner {
    /// The owner of this process's `seq`-th staging directory.
    pub(crate) fn this_process(seq: u64) -> StagingOwner {
        let pid = std::process::id();
        StagingOwner {
            pid,
            start: proc_stat(pid).map(|stat| stat.start),
            seq,
        }
    }

    /// Reads the owner from a staging directory's name
    /// (`.codetracer-staging-<pid>-<start>-<n>` or `.codetracer-staging-<pid>-<n>`);
    /// `None` for any other name.
    pub fn from_dir_name(name: &str) -> Option<StagingOwner> {
        let numbers = name
            .strip_prefix(STAGING_PREFIX)?
            .split('-')
            .map(|part| {
                let plain = !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
                plain.then(|| part.parse::<u64>().ok()).flatten()
            })
            .collect::<Option<Vec<u64>>>()?;
        let (pid, start, seq) = match numbers[..] {
            [pid, start, seq] => (pid, Some(start), seq),
            [pid, seq] => (pid, None, seq),
            _ => return None,
        };
        Some(StagingOwner {
            pid: u32::try_from(pid).ok()?,
            start,
            seq,
        })
    }

    /// The staging directory's name.
    pub fn dir_name(&self) -> String {
        match self.start {
            Some(start) => format!("{STAGING_PREFIX}{}-{start}-{}", self.pid, self.seq),
            None => format!("{STAGING_PREFIX}{}-{}", self.pid, self.seq),
        }
    }

    /// The recording process's id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Whether the recording process is still running: a process with this
    /// pid exists, is not a zombie, and (when the name carries it) started at
    /// the same time. When `/proc` cannot be read, any process with the pid
    /// counts as alive.
    pub fn is_alive(&self) -> bool {
        match proc_stat(self.pid) {
            Some(stat) => {
                !matches!(stat.state, 'Z' | 'X' | 'x')
                    && self.start.is_none_or(|start| start == stat.start)
            }
            None => pid_exists(self.pid),
        }
    }
}

/// State and start time of process `pid`, when `/proc` says.
fn proc_stat(pid: u32) -> Option<ProcStat> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ...`: comm may hold spaces and parentheses.
    let after_comm = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    // Fields counted from `state` (field 3); `starttime` is field 22.
    let state = fields.first()?.chars().next()?;
    let start = fields.get(22 - 3)?.parse().ok()?;
    Some(ProcStat { state, start })
}

/// Whether any process has id `pid` (`kill(pid, 0)`).
fn pid_exists(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let found = unsafe { libc::kill(pid, 0) } == 0;
    found || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_in_both_forms() {
        let owner = StagingOwner::this_process(7);
        assert_eq!(StagingOwner::from_dir_name(&owner.dir_name()), Some(owner));
        assert_eq!(owner.pid(), std::process::id());
        assert!(owner.start.is_some(), "/proc is readable on Linux");
        let legacy = StagingOwner::from_dir_name(".codetracer-staging-42-3").unwrap();
        assert_eq!((legacy.pid(), legacy.start, legacy.seq), (42, None, 3));
        assert_eq!(legacy.dir_name(), ".codetracer-staging-42-3");
        for bad in [
            "trace.json",
            ".codetracer-staging-",
            ".codetracer-staging-1",
            ".codetracer-staging-1-2-3-4",
            ".codetracer-staging-a-2",
            ".codetracer-staging-+1-2",
            ".codetracer-staging-99999999999-2",
        ] {
            assert_eq!(StagingOwner::from_dir_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn this_process_is_alive_and_another_start_time_is_not() {
        let owner = StagingOwner::this_process(0);
        assert!(owner.is_alive());
        let reused = StagingOwner {
            start: owner.start.map(|start| start + 1),
            ..owner
        };
        assert!(
            !reused.is_alive(),
            "same pid, other start: the pid was reused"
        );
    }

    #[test]
    fn a_dead_process_is_not_alive() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let start = proc_stat(pid).map(|stat| stat.start);
        child.wait().unwrap();
        let owner = StagingOwner { pid, start, seq: 0 };
        assert!(!owner.is_alive());
    }

    #[test]
    fn a_zombie_is_not_alive() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        // Not reaped yet: wait until it has exited and is a zombie.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while proc_stat(pid).is_some_and(|stat| stat.state != 'Z') {
            assert!(std::time::Instant::now() < deadline, "child never exited");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let owner = StagingOwner {
            pid,
            start: proc_stat(pid).map(|stat| stat.start),
            seq: 0,
        };
        assert!(!owner.is_alive());
        child.wait().unwrap();
    }
}
