//! The errors-audit guardrail: clean on the real tree, and it catches a planted panic.

use std::fs;
use std::process::Command;

use codetracer_suite::repo_path;

fn run_audit(dirs: &[&std::path::Path]) -> std::process::Output {
    Command::new("bash")
        .arg(repo_path("scripts/errors-audit.sh"))
        .args(dirs)
        .output()
        .expect("bash runs the audit script")
}

#[test]
fn recorder_and_faultfs_sources_pass_the_audit() {
    let output = run_audit(&[]);
    assert!(
        output.status.success(),
        "errors-audit found:\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn a_planted_unwrap_fails_the_audit_with_its_location() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("writer.rs");
    fs::write(
        &file,
        "pub fn write(x: Option<u8>) -> u8 {\n    x.unwrap()\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn t() { Some(1).unwrap(); }\n}\n",
    )
    .unwrap();
    let output = run_audit(&[dir.path()]);
    assert!(!output.status.success());
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(report.contains("writer.rs:2:"), "{report}");
    assert!(
        !report.contains("writer.rs:8:"),
        "test code must be ignored: {report}"
    );
}

#[test]
fn printing_to_stdout_fails_the_audit() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("log.rs"),
        "pub fn f() { println!(\"hi\"); }\n",
    )
    .unwrap();
    assert!(!run_audit(&[dir.path()]).status.success());
}
