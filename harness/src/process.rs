//! Running one child process in its own process group: captured output, a
//! time limit that kills the whole group, and a signal sent on a timer or
//! when the fixture log reports a fail point.

use std::ffi::OsString;
use std::fmt;
use std::io::{self, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use recorder_errors::{RecorderError, RecorderResult};

use crate::fixtures::LogTail;

/// How often a running child is polled.
const POLL: Duration = Duration::from_millis(5);

/// When the harness sends its signal.
#[derive(Debug, Clone)]
pub enum SignalWhen {
    /// This long after the start.
    After(Duration),
    /// This long after `failpoint` appears in the fixture log at `log`.
    Failpoint {
        /// The fixture log the child appends to.
        log: PathBuf,
        /// Fail point name to wait for.
        failpoint: String,
        /// Delay after seeing it.
        delay: Duration,
    },
}

/// A signal to deliver to the child's process group.
#[derive(Debug, Clone)]
pub struct SignalPlan {
    /// Signal number.
    pub signal: i32,
    /// When.
    pub when: SignalWhen,
}

/// Code the child runs between fork and exec (a real fault's set-up); an
/// error aborts the spawn with that error.
#[derive(Clone)]
pub struct ChildHook(Arc<dyn Fn() -> io::Result<()> + Send + Sync>);

impl ChildHook {
    /// Wraps `hook`.
    ///
    /// # Safety
    /// `hook` runs in the forked child of a multi-threaded process: it may
    /// only make async-signal-safe calls (no allocation, no locks).
    pub unsafe fn new(hook: impl Fn() -> io::Result<()> + Send + Sync + 'static) -> ChildHook {
        ChildHook(Arc::new(hook))
    }
}

impl fmt::Debug for ChildHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChildHook")
    }
}

/// Everything needed to start the child.
#[derive(Debug, Clone)]
pub struct Spawn {
    /// Executable.
    pub program: PathBuf,
    /// Arguments.
    pub args: Vec<OsString>,
    /// The command as a shell line, for reports.
    pub command_line: String,
    /// Working directory.
    pub cwd: PathBuf,
    /// The complete environment (nothing is inherited implicitly).
    pub env: Vec<(OsString, OsString)>,
    /// Bytes written to stdin before it is closed.
    pub stdin: Vec<u8>,
    /// Kill the group and report a hang after this long.
    pub timeout: Duration,
    /// Optional signal.
    pub signal: Option<SignalPlan>,
    /// Optional code run in the child before exec.
    pub child_hook: Option<ChildHook>,
}

/// How the child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Termination {
    /// Normal exit with this code.
    Exited(i32),
    /// Killed by this signal (not by the harness's timeout).
    Signaled(i32),
    /// Still running at the time limit; the group was killed.
    TimedOut,
}

impl Termination {
    /// The exit code a shell would report (128+N for death by signal N).
    pub fn shell_code(self) -> Option<i32> {
        match self {
            Termination::Exited(code) => Some(code),
            Termination::Signaled(signal) => Some(128 + signal),
            Termination::TimedOut => None,
        }
    }

    fn from_status(status: ExitStatus) -> Termination {
        match (status.code(), status.signal()) {
            (Some(code), _) => Termination::Exited(code),
            (None, Some(signal)) => Termination::Signaled(signal),
            (None, None) => Termination::Exited(-1),
        }
    }
}

/// The result of one run.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// How it ended.
    pub termination: Termination,
    /// Wall time from spawn to exit.
    pub duration: Duration,
    /// Captured stdout.
    pub stdout: Vec<u8>,
    /// Captured stderr.
    pub stderr: Vec<u8>,
    /// When the planned signal was sent, if it was.
    pub signal_sent_after: Option<Duration>,
}

/// Runs the child to completion (or the time limit).
pub fn run(spawn: &Spawn) -> RecorderResult<Outcome> {
    let mut command = Command::new(&spawn.program);
    command
        .args(&spawn.args)
        .current_dir(&spawn.cwd)
        .env_clear()
        .envs(spawn.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    if let Some(hook) = spawn.child_hook.clone() {
        // SAFETY: `ChildHook::new`'s contract: the hook is async-signal-safe.
        unsafe {
            command.pre_exec(move || (hook.0)());
        }
    }
    let start = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|e| RecorderError::io(e, "spawn", &spawn.program))?;
    let stdin_writer = child.stdin.take().map(|mut stdin| {
        let bytes = spawn.stdin.clone();
        thread::spawn(move || {
            // A child that exits without reading its stdin closes the pipe; that is fine.
            let _ = stdin.write_all(&bytes);
        })
    });
    let stdout_reader = reader(child.stdout.take());
    let stderr_reader = reader(child.stderr.take());
    let (status, signal_sent_after) = supervise(&mut child, spawn, start)?;
    let duration = start.elapsed();
    kill_group(child.id(), libc::SIGKILL);
    if let Some(handle) = stdin_writer {
        let _ = handle.join();
    }
    Ok(Outcome {
        termination: status,
        duration,
        stdout: collect(stdout_reader),
        stderr: collect(stderr_reader),
        signal_sent_after,
    })
}

/// Polls the child until it exits or times out, sending the planned signal.
fn supervise(
    child: &mut Child,
    spawn: &Spawn,
    start: Instant,
) -> RecorderResult<(Termination, Option<Duration>)> {
    let mut tail = match &spawn.signal {
        Some(SignalPlan {
            when: SignalWhen::Failpoint { log, .. },
            ..
        }) => Some(LogTail::new(log.clone())),
        _ => None,
    };
    let mut due: Option<Instant> = match &spawn.signal {
        Some(SignalPlan {
            when: SignalWhen::After(delay),
            ..
        }) => Some(start + *delay),
        _ => None,
    };
    let mut sent = None;
    loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| RecorderError::io(e, "wait", &spawn.program))?
        {
            return Ok((Termination::from_status(status), sent));
        }
        let now = Instant::now();
        if now.duration_since(start) >= spawn.timeout {
            kill_group(child.id(), libc::SIGKILL);
            let _ = child.wait();
            return Ok((Termination::TimedOut, sent));
        }
        if let (Some(plan), None) = (&spawn.signal, sent) {
            if let (
                Some(tail),
                SignalWhen::Failpoint {
                    failpoint, delay, ..
                },
            ) = (&mut tail, &plan.when)
            {
                if due.is_none() && tail.failpoint_seen(failpoint) {
                    due = Some(Instant::now() + *delay);
                }
            }
            if due.is_some_and(|at| Instant::now() >= at) {
                kill_group(child.id(), plan.signal);
                sent = Some(start.elapsed());
            }
        }
        thread::sleep(POLL);
    }
}

/// Sends `signal` to the process group led by `pid`; a group that is already
/// gone is fine.
fn kill_group(pid: u32, signal: i32) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: plain syscall; the group id is the child's pid (process_group(0)).
        unsafe {
            libc::killpg(pid, signal);
        }
    }
}

fn reader<R: Read + Send + 'static>(pipe: Option<R>) -> Option<JoinHandle<Vec<u8>>> {
    pipe.map(|mut pipe| {
        thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    })
}

fn collect(handle: Option<JoinHandle<Vec<u8>>>) -> Vec<u8> {
    handle.and_then(|h| h.join().ok()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, timeout: Duration, signal: Option<SignalPlan>) -> Outcome {
        let spawn = Spawn {
            program: PathBuf::from("/bin/sh"),
            args: vec!["-c".into(), script.into()],
            command_line: script.to_string(),
            cwd: std::env::temp_dir(),
            env: vec![("PATH".into(), "/usr/bin:/bin".into())],
            stdin: b"from stdin\n".to_vec(),
            timeout,
            signal,
            child_hook: None,
        };
        match run(&spawn) {
            Ok(outcome) => outcome,
            Err(error) => panic!("cannot run sh: {error}"),
        }
    }

    #[test]
    fn a_failing_child_hook_stops_the_spawn_with_its_error() {
        let spawn = Spawn {
            program: PathBuf::from("/bin/sh"),
            args: vec!["-c".into(), "exit 0".into()],
            command_line: "exit 0".to_string(),
            cwd: std::env::temp_dir(),
            env: Vec::new(),
            stdin: Vec::new(),
            timeout: Duration::from_secs(10),
            signal: None,
            // SAFETY: the hook only builds an io::Error from an errno (no allocation).
            child_hook: Some(unsafe {
                ChildHook::new(|| Err(io::Error::from_raw_os_error(libc::EPERM)))
            }),
        };
        match run(&spawn) {
            Ok(outcome) => panic!("the child ran: {outcome:?}"),
            Err(error) => assert!(
                error.to_string().contains("Operation not permitted"),
                "{error}"
            ),
        }
    }

    #[test]
    fn captures_output_exit_code_and_stdin() {
        let outcome = sh("cat; echo err >&2; exit 3", Duration::from_secs(10), None);
        assert_eq!(outcome.termination, Termination::Exited(3));
        assert_eq!(outcome.stdout, b"from stdin\n");
        assert_eq!(outcome.stderr, b"err\n");
    }

    #[test]
    fn a_hang_is_killed_with_its_whole_group() {
        let outcome = sh("sleep 30 & sleep 30", Duration::from_millis(300), None);
        assert_eq!(outcome.termination, Termination::TimedOut);
        assert!(outcome.duration < Duration::from_secs(5));
    }

    #[test]
    fn a_timed_signal_is_delivered_and_reported_as_128_plus_n() {
        let plan = SignalPlan {
            signal: libc::SIGINT,
            when: SignalWhen::After(Duration::from_millis(100)),
        };
        let outcome = sh("sleep 5", Duration::from_secs(10), Some(plan));
        assert_eq!(outcome.termination, Termination::Signaled(libc::SIGINT));
        assert_eq!(outcome.termination.shell_code(), Some(130));
        assert!(outcome.signal_sent_after.is_some());
    }
}
