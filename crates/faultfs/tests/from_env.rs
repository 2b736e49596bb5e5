//! `from_env` and `note_failpoint` read the environment only in `failpoints`
//! builds. Each case runs in a child process with its own environment.

use std::env;
use std::process::Command;

const CHILD: &str = "FAULTFS_FROM_ENV_CHILD";
const VARS: [&str; 3] = [
    "CODETRACER_FAULTFS_PLAN",
    "CODETRACER_FIXTURES_LOG",
    "FAILPOINTS",
];

/// True in the child; in the parent, runs `test` in a child with `vars` and
/// asserts that it passed.
fn in_child(test: &str, vars: &[(&str, &str)]) -> bool {
    if env::var(CHILD).as_deref() == Ok(test) {
        return true;
    }
    let mut command = Command::new(env::current_exe().unwrap());
    command
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, test);
    for var in VARS {
        command.env_remove(var);
    }
    command.envs(vars.iter().copied());
    let output = command.output().unwrap();
    assert!(
        output.status.success() && String::from_utf8_lossy(&output.stdout).contains("1 passed"),
        "child {test} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    false
}

#[cfg(not(feature = "failpoints"))]
#[test]
fn a_release_build_ignores_the_fault_variables() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.jsonl");
    if !in_child(
        "a_release_build_ignores_the_fault_variables",
        &[
            ("CODETRACER_FAULTFS_PLAN", "this is not a plan"),
            ("CODETRACER_FIXTURES_LOG", log.to_str().unwrap()),
            ("FAILPOINTS", "faultfs::mkdir=return(EIO)"),
        ],
    ) {
        assert!(!log.exists(), "no fixture log in a release build");
        return;
    }
    let fs = faultfs::from_env().unwrap();
    assert_eq!(format!("{fs:?}"), "PhysicalFs");
    let dir = tempfile::tempdir().unwrap();
    fs.create_dir(&dir.path().join("d")).unwrap();
    faultfs::note_failpoint("faultfs::mkdir");
}

#[cfg(feature = "failpoints")]
mod fixtures {
    use super::in_child;
    use recorder_errors::{ErrorCode, ErrorKind};
    use std::io::Write;
    use std::path::Path;
    use std::sync::Arc;

    fn events(log: &Path) -> Vec<serde_json::Value> {
        std::fs::read_to_string(log)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    #[test]
    fn no_variable_means_the_physical_filesystem() {
        if !in_child("fixtures::no_variable_means_the_physical_filesystem", &[]) {
            return;
        }
        assert_eq!(format!("{:?}", faultfs::from_env().unwrap()), "PhysicalFs");
    }

    #[test]
    fn a_malformed_plan_is_a_usage_error_naming_the_clause() {
        if !in_child(
            "fixtures::a_malformed_plan_is_a_usage_error_naming_the_clause",
            &[("CODETRACER_FAULTFS_PLAN", "quota=10;fail=write#x:EIO")],
        ) {
            return;
        }
        let err = faultfs::from_env().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage);
        assert_eq!(err.code(), ErrorCode::InvalidFaultPlan);
        assert_eq!(err.context_value("clause"), Some("fail=write#x:EIO"));
    }

    #[test]
    fn the_plan_and_log_apply_process_wide() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log.jsonl");
        let out = dir.path().join("out");
        if !in_child(
            "fixtures::the_plan_and_log_apply_process_wide",
            &[
                ("CODETRACER_FAULTFS_PLAN", "quota=4"),
                ("CODETRACER_FIXTURES_LOG", log.to_str().unwrap()),
                ("FAULTFS_TEST_OUT", out.to_str().unwrap()),
            ],
        ) {
            let events = events(&log);
            let kinds: Vec<&str> = events
                .iter()
                .map(|e| e["event"].as_str().unwrap())
                .collect();
            // mkdir, create, write "abc", create, short write "d", write "e": ENOSPC
            assert_eq!(kinds, ["op", "op", "op", "op", "op", "op", "fault"]);
            assert_eq!(events[6]["rule"], "quota=4");
            assert_eq!(events[6]["index"], 6);
            return;
        }
        let out = std::path::PathBuf::from(std::env::var("FAULTFS_TEST_OUT").unwrap());
        let fs = faultfs::from_env().unwrap();
        assert!(format!("{fs:?}").starts_with("FaultFs"));
        fs.create_dir(&out).unwrap();
        let mut file = fs.create_new(&out.join("f")).unwrap();
        file.write_all(b"abc").unwrap();
        let again = faultfs::from_env().unwrap();
        assert!(Arc::ptr_eq(&fs, &again), "one filesystem per process");
        let mut other = again.create_new(&out.join("g")).unwrap();
        let err = other.write_all(b"de").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOSPC), "quota is shared");
    }

    #[test]
    fn failpoints_alone_enable_faultfs_and_are_noted_once() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log.jsonl");
        if !in_child(
            "fixtures::failpoints_alone_enable_faultfs_and_are_noted_once",
            &[
                (
                    "FAILPOINTS",
                    "faultfs::mkdir=1*return(EROFS);recorder::finish=off",
                ),
                ("CODETRACER_FIXTURES_LOG", log.to_str().unwrap()),
                ("FAULTFS_TEST_OUT", dir.path().join("d").to_str().unwrap()),
            ],
        ) {
            let noted: Vec<String> = events(&log)
                .iter()
                .filter(|e| e["event"] == "failpoint")
                .map(|e| e["name"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(noted, ["faultfs::mkdir", "recorder::finish"]);
            return;
        }
        let out = std::path::PathBuf::from(std::env::var("FAULTFS_TEST_OUT").unwrap());
        let fs = faultfs::from_env().unwrap();
        let err = fs.create_dir(&out).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EROFS));
        fs.create_dir(&out).unwrap();
        faultfs::note_failpoint("recorder::finish");
        faultfs::note_failpoint("recorder::finish");
        faultfs::note_failpoint("recorder::callback");
    }
    #[test]
    fn a_malformed_failpoints_entry_is_reported_to_every_caller() {
        if !in_child(
            "fixtures::a_malformed_failpoints_entry_is_reported_to_every_caller",
            &[("FAILPOINTS", "faultfs::mkdir=off; faultfs::write ;")],
        ) {
            return;
        }
        let err = faultfs::from_env().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage);
        assert_eq!(err.code(), ErrorCode::InvalidFaultPlan);
        assert_eq!(err.context_value("clause"), Some("faultfs::write"));
        assert!(err.message().contains("\"faultfs::write\""), "{err}");
        let err = faultfs::failpoints::configure_from_env(&["recorder::finish"]).unwrap_err();
        assert_eq!(err.context_value("clause"), Some("faultfs::write"));
    }

    #[test]
    fn a_plan_that_is_not_utf8_is_a_usage_error_naming_it() {
        use std::os::unix::ffi::OsStrExt;
        let test = "fixtures::a_plan_that_is_not_utf8_is_a_usage_error_naming_it";
        if std::env::var(super::CHILD).as_deref() != Ok(test) {
            let output = std::process::Command::new(std::env::current_exe().unwrap())
                .args([test, "--exact", "--nocapture", "--test-threads=1"])
                .env(super::CHILD, test)
                .env(
                    "CODETRACER_FAULTFS_PLAN",
                    std::ffi::OsStr::from_bytes(b"quota=10;deny=write:/t\xff/**"),
                )
                .env_remove("FAILPOINTS")
                .env_remove("CODETRACER_FIXTURES_LOG")
                .output()
                .unwrap();
            assert!(
                output.status.success()
                    && String::from_utf8_lossy(&output.stdout).contains("1 passed"),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            return;
        }
        let err = faultfs::from_env().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage);
        assert_eq!(err.code(), ErrorCode::InvalidFaultPlan);
        assert!(
            err.message()
                .contains("CODETRACER_FAULTFS_PLAN is not valid UTF-8"),
            "{err}"
        );
        assert_eq!(
            err.context_value("clause"),
            Some("quota=10;deny=write:/t\u{fffd}/**")
        );
    }

    #[test]
    fn an_action_the_fail_crate_rejects_is_reported_to_its_owner_each_time() {
        if !in_child(
            "fixtures::an_action_the_fail_crate_rejects_is_reported_to_its_owner_each_time",
            &[("FAILPOINTS", "recorder::finish=explode;faultfs::mkdir=off")],
        ) {
            return;
        }
        assert!(faultfs::from_env().is_ok(), "not faultfs's fail point");
        for _ in 0..2 {
            let err = faultfs::failpoints::configure_from_env(&["recorder::finish"]).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Usage);
            assert_eq!(err.code(), ErrorCode::InvalidFaultPlan);
            assert_eq!(
                err.context_value("clause"),
                Some("recorder::finish=explode")
            );
        }
    }

    #[test]
    fn only_the_named_points_are_configured_and_each_only_once() {
        let dir = tempfile::tempdir().unwrap();
        if !in_child(
            "fixtures::only_the_named_points_are_configured_and_each_only_once",
            &[
                (
                    "FAILPOINTS",
                    "faultfs::mkdir=1*return(EROFS);demo::point=return(from env)",
                ),
                ("FAULTFS_TEST_OUT", dir.path().join("d").to_str().unwrap()),
            ],
        ) {
            return;
        }
        let out = std::path::PathBuf::from(std::env::var("FAULTFS_TEST_OUT").unwrap());
        let fs = faultfs::from_env().unwrap();
        assert_eq!(fail::eval("demo::point", |arg| arg), None, "not faultfs's");
        let err = fs.create_dir(&out).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EROFS));
        // A second configuration (the recorder starting again) does not
        // reset the count of `1*return(EROFS)`.
        faultfs::failpoints::configure_from_env(&faultfs::FAILPOINTS).unwrap();
        fs.create_dir(&out).unwrap();
        faultfs::failpoints::configure_from_env(&["demo::point"]).unwrap();
        assert_eq!(
            fail::eval("demo::point", |arg| arg),
            Some(Some("from env".to_string()))
        );
    }
}
