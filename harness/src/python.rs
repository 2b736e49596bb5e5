//! Finding the Python interpreter that has the `failure-fixtures` build of
//! the recorder: `--python`, else `HARNESS_PYTHON`, else `./dev python --fixtures`.

use std::fs::{self, File};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use recorder_errors::{ErrorCode, ErrorKind, RecorderError, RecorderResult};

/// Environment variable naming the interpreter when `--python` is not given.
pub const PYTHON_ENV: &str = "HARNESS_PYTHON";

/// The repository root: the directory holding `scenarios/` and `dev`, found
/// from the harness's manifest directory, else by walking up from the cwd.
pub fn repo_root() -> Option<PathBuf> {
    let is_root = |dir: &Path| dir.join("scenarios").is_dir() && dir.join("dev").is_file();
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Some(parent) = manifest.parent().filter(|dir| is_root(dir)) {
        return Some(parent.to_path_buf());
    }
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors()
        .find(|dir| is_root(dir))
        .map(Path::to_path_buf)
}

/// `path` made absolute against the cwd (not canonicalized: a venv's `python`
/// is a symlink whose target would leave the venv).
fn absolute(path: PathBuf) -> PathBuf {
    std::path::absolute(&path).unwrap_or(path)
}

/// An interpreter the harness runs programs with.
#[derive(Debug, Clone)]
pub struct Interpreter {
    /// Path of the `python` executable.
    pub path: PathBuf,
    /// How it was found, for the progress line.
    pub origin: String,
}

/// Resolves the interpreter: the explicit path, `HARNESS_PYTHON` (relative to
/// the cwd, else to the repository root), or the
/// foundation's `./dev python --fixtures` (which builds `.venv-fixtures` when
/// needed, printing its progress on our stderr).
pub fn resolve(explicit: Option<&Path>) -> RecorderResult<Interpreter> {
    if let Some(path) = explicit {
        return Ok(Interpreter {
            path: absolute(path.to_path_buf()),
            origin: "--python".to_string(),
        });
    }
    if let Some(path) = std::env::var_os(PYTHON_ENV).filter(|value| !value.is_empty()) {
        let path = PathBuf::from(path);
        // Test binaries run in their package directory: a relative path that
        // does not exist there is taken relative to the repository root.
        let path = match repo_root() {
            Some(root) if path.is_relative() && !path.exists() => root.join(path),
            _ => absolute(path),
        };
        return Ok(Interpreter {
            path,
            origin: PYTHON_ENV.to_string(),
        });
    }
    let root = repo_root().ok_or_else(|| {
        RecorderError::new(
            ErrorKind::Usage,
            ErrorCode::Io,
            "no interpreter given and no repository root (a directory with scenarios/ and dev) found; use --python PATH or HARNESS_PYTHON",
        )
    })?;
    from_dev_script(&root, true)
}

/// Runs `./dev python --fixtures` (or, for the normal build, `./dev python`)
/// under an exclusive lock, so that parallel test processes never build the
/// extension twice at the same time.
pub(crate) fn from_dev_script(root: &Path, fixtures: bool) -> RecorderResult<Interpreter> {
    let lock_dir = root.join("target");
    fs::create_dir_all(&lock_dir).map_err(|e| RecorderError::io(e, "mkdir", &lock_dir))?;
    let lock_path = lock_dir.join("harness-python.lock");
    let lock = File::create(&lock_path).map_err(|e| RecorderError::io(e, "create", &lock_path))?;
    // SAFETY: flock on a file descriptor we own; released when `lock` is dropped.
    let locked = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) };
    if locked != 0 {
        let error = std::io::Error::last_os_error();
        return Err(RecorderError::io(error, "flock", &lock_path));
    }
    let (args, build): (&[&str], &str) = if fixtures {
        (&["python", "--fixtures"], "failure-fixtures")
    } else {
        (&["python"], "normal")
    };
    let command = format!("./dev {}", args.join(" "));
    eprintln!("harness: finding the {build} interpreter with {command}");
    let dev = root.join("dev");
    let output = Command::new(&dev)
        .args(args)
        .current_dir(root)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| RecorderError::io(e, "spawn", &dev))?;
    drop(lock);
    if !output.status.success() {
        return Err(RecorderError::from_code(
            ErrorCode::Io,
            format!("{command} failed ({})", output.status),
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let path = stdout
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .map(str::trim);
    match path {
        Some(path) => Ok(Interpreter {
            path: PathBuf::from(path),
            origin: command,
        }),
        None => Err(RecorderError::from_code(
            ErrorCode::Io,
            format!("{command} printed no interpreter path"),
        )),
    }
}

/// What a preflight found out about the interpreter.
#[derive(Debug, Clone)]
pub struct Preflight {
    /// `sys.version` (first word).
    pub version: String,
    /// Where `codetracer_python_recorder` was imported from.
    pub package: String,
}

/// Checks that the interpreter imports the recorder and that the recorder is
/// a `failure-fixtures` build: a tiny start()/stop() with
/// `CODETRACER_FIXTURES_LOG` set must log its faultfs operations.
pub fn preflight(interpreter: &Interpreter) -> RecorderResult<Preflight> {
    let (found, fixtures) = probe(interpreter)?;
    if !fixtures {
        return Err(RecorderError::new(
            ErrorKind::Environment,
            ErrorCode::Io,
            format!(
                "{} has a recorder without fail points (no fixture log written): not a failure-fixtures build; `./dev build --fixtures` makes one",
                interpreter.path.display()
            ),
        ));
    }
    Ok(found)
}

/// Checks that the interpreter imports the recorder and that the recorder is
/// the normal build (no fail points: the fixture log stays empty), which
/// real-fault cases run on.
pub fn preflight_normal(interpreter: &Interpreter) -> RecorderResult<Preflight> {
    let (found, fixtures) = probe(interpreter)?;
    if fixtures {
        return Err(RecorderError::new(
            ErrorKind::Environment,
            ErrorCode::Io,
            format!(
                "{} has the failure-fixtures build of the recorder; real faults run on the normal build (`./dev build` makes one in .venv)",
                interpreter.path.display()
            ),
        ));
    }
    Ok(found)
}

/// Records a tiny start()/stop() with `CODETRACER_FIXTURES_LOG` set; returns
/// what was found and whether the fixture log was written (fail points
/// compiled in).
fn probe(interpreter: &Interpreter) -> RecorderResult<(Preflight, bool)> {
    let probe = tempfile::Builder::new()
        .prefix("harness-preflight-")
        .tempdir()
        .map_err(|e| RecorderError::io(e, "mkdir", Path::new("(temp)")))?;
    let log = probe.path().join("fixtures.jsonl");
    let script = "import sys, codetracer_python_recorder as m\n\
                  m.start(sys.argv[1])\n\
                  m.stop()\n\
                  print(sys.version.split()[0])\n\
                  print(m.__file__)\n";
    let output = Command::new(&interpreter.path)
        .args(["-c", script])
        .arg(probe.path().join("trace"))
        .env_remove("FAILPOINTS")
        .env_remove("CODETRACER_FAULTFS_PLAN")
        .env("CODETRACER_FIXTURES_LOG", &log)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| RecorderError::io(e, "spawn", &interpreter.path))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().last().unwrap_or("").to_string();
        return Err(RecorderError::new(
            ErrorKind::Environment,
            ErrorCode::Io,
            format!(
                "{} cannot record with codetracer_python_recorder: {last}",
                interpreter.path.display()
            ),
        ));
    }
    let logged = fs::metadata(&log).map(|m| m.len() > 0).unwrap_or(false);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut lines = stdout.lines();
    let found = Preflight {
        version: lines.next().unwrap_or("?").to_string(),
        package: lines.next().unwrap_or("?").to_string(),
    };
    Ok((found, logged))
}
