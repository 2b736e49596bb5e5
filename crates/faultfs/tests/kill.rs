//! The `kill` clause ends the process with SIGKILL at a planned operation or
//! fail point reach, after logging it. Each case runs in a child process.
#![cfg(feature = "failpoints")]

use std::env;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;

const CHILD: &str = "FAULTFS_KILL_CHILD";
const OUT: &str = "FAULTFS_KILL_OUT";

/// In the child: `true`. In the parent: runs `test` in a child with `plan`
/// and the fixture log `log`, asserts that SIGKILL ended it, returns `false`.
fn in_killed_child(test: &str, plan: &str, log: &Path, out: &Path) -> bool {
    if env::var(CHILD).as_deref() == Ok(test) {
        return true;
    }
    let output = Command::new(env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, test)
        .env("CODETRACER_FAULTFS_PLAN", plan)
        .env("CODETRACER_FIXTURES_LOG", log)
        .env(OUT, out)
        .env_remove("FAILPOINTS")
        .output()
        .unwrap();
    assert_eq!(
        output.status.signal(),
        Some(libc::SIGKILL),
        "child {test} was not killed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    false
}

fn events(log: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn out_dir() -> PathBuf {
    PathBuf::from(env::var(OUT).unwrap())
}

#[test]
fn kill_at_an_operation_happens_before_it_takes_effect() {
    let dir = tempfile::tempdir().unwrap();
    let (log, out) = (dir.path().join("log.jsonl"), dir.path().join("out"));
    if !in_killed_child(
        "kill_at_an_operation_happens_before_it_takes_effect",
        "kill=mkdir#2",
        &log,
        &out,
    ) {
        assert!(out.is_dir(), "the first mkdir happened");
        assert!(!out.join("second").exists(), "the second never did");
        let events = events(&log);
        let last = events.last().unwrap();
        assert_eq!(last["event"], "kill");
        assert_eq!(last["kind"], "mkdir");
        assert_eq!(last["index"], 2);
        assert_eq!(last["rule"], "kill=mkdir#2");
        return;
    }
    let fs = faultfs::from_env().unwrap();
    fs.create_dir(&out_dir()).unwrap();
    let _ = fs.create_dir(&out_dir().join("second"));
    unreachable!("the process was killed at the second mkdir");
}

#[test]
fn kill_at_a_fail_point_counts_its_reaches() {
    let dir = tempfile::tempdir().unwrap();
    let (log, out) = (dir.path().join("log.jsonl"), dir.path().join("out"));
    if !in_killed_child(
        "kill_at_a_fail_point_counts_its_reaches",
        "kill=recorder::writer#3",
        &log,
        &out,
    ) {
        let written = std::fs::read_to_string(&out).unwrap();
        assert_eq!(written, "12", "killed at the third reach, before its write");
        let last = events(&log).pop().unwrap();
        assert_eq!(
            last,
            serde_json::json!({"event": "kill", "failpoint": "recorder::writer", "rule": "kill=recorder::writer#3"})
        );
        return;
    }
    faultfs::from_env().unwrap();
    for step in ["1", "2", "3"] {
        faultfs::note_failpoint("recorder::finish");
        faultfs::note_failpoint("recorder::writer");
        let mut text = std::fs::read_to_string(out_dir()).unwrap_or_default();
        text.push_str(step);
        std::fs::write(out_dir(), text).unwrap();
    }
    unreachable!("the process was killed at the third reach");
}
