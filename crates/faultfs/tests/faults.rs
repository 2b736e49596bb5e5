//! Each fault of a plan, observed through `FaultFs<MemoryFs>` the way the recorder sees it.

use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

use faultfs::{FaultFs, FaultPlan, FileSystem, FixtureLog, MemoryFs, OpKind};

fn faulty(plan: &str) -> (MemoryFs, FaultFs<MemoryFs>) {
    let memory = MemoryFs::new();
    let fs = FaultFs::new(memory.clone(), FaultPlan::parse(plan).unwrap());
    (memory, fs)
}

fn errno<T>(result: io::Result<T>) -> Option<i32> {
    result.err().and_then(|err| err.raw_os_error())
}

#[test]
fn quota_stores_what_fits_then_reports_enospc() {
    let (memory, fs) = faulty("quota=10");
    let mut file = fs.create_new(Path::new("/a")).unwrap();
    assert_eq!(file.write(b"123456").unwrap(), 6);
    assert_eq!(
        file.write(b"789abcdef").unwrap(),
        4,
        "short write up to the quota"
    );
    let err = file.write(b"x").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ENOSPC));
    assert_eq!(err.kind(), io::ErrorKind::StorageFull);
    assert_eq!(memory.read(Path::new("/a")).unwrap(), b"123456789a");
    assert_eq!(fs.quota_used(), 10);

    let mut other = fs.create_new(Path::new("/b")).unwrap();
    let err = other.write_all(b"more").unwrap_err();
    assert_eq!(
        err.raw_os_error(),
        Some(libc::ENOSPC),
        "the quota spans all files"
    );
    assert_eq!(
        other.write(b"").unwrap(),
        0,
        "an empty write still succeeds"
    );
}

#[test]
fn write_all_across_the_quota_fails_like_a_full_disk() {
    let (memory, fs) = faulty("quota=5");
    let mut file = fs.create_new(Path::new("/a")).unwrap();
    assert_eq!(errno(file.write_all(b"0123456789")), Some(libc::ENOSPC));
    assert_eq!(memory.read(Path::new("/a")).unwrap(), b"01234");
    assert_eq!(
        fs.counts().get(OpKind::Write),
        2,
        "one short write, one ENOSPC"
    );
}

#[test]
fn deny_rules_fail_matching_paths_with_eacces_or_eperm() {
    let (memory, fs) = faulty("deny=rename:**/trace*.json;deny=mkdir,create:/ro/**:EPERM");
    fs.create_dir(Path::new("/out")).unwrap();
    drop(fs.create_new(Path::new("/out/trace.json")).unwrap());
    let err = fs
        .rename(Path::new("/out/trace.json"), Path::new("/out/final"))
        .unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EACCES));
    assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
    assert!(
        memory
            .entry_kind(Path::new("/out/trace.json"))
            .unwrap()
            .is_some(),
        "nothing moved"
    );
    drop(fs.create_new(Path::new("/out/data.bin")).unwrap());
    fs.rename(Path::new("/out/data.bin"), Path::new("/out/x.bin"))
        .unwrap();

    memory.create_dir(Path::new("/ro")).unwrap();
    assert_eq!(errno(fs.create_dir(Path::new("/ro/d"))), Some(libc::EPERM));
    assert_eq!(errno(fs.create_new(Path::new("/ro/f"))), Some(libc::EPERM));
    assert_eq!(
        memory.read_dir(Path::new("/ro")).unwrap(),
        Vec::<String>::new()
    );
}

#[test]
fn fail_nth_of_a_kind_fails_exactly_that_operation() {
    let (memory, fs) = faulty("fail=write#2:EIO;fail=fsync#1:EROFS");
    let mut file = fs.create_new(Path::new("/a")).unwrap();
    file.write_all(b"one").unwrap();
    let err = file.write(b"two").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EIO));
    file.write_all(b"three").unwrap();
    assert_eq!(memory.read(Path::new("/a")).unwrap(), b"onethree");
    assert_eq!(errno(file.sync_all()), Some(libc::EROFS));
    file.sync_all().unwrap();
}

#[test]
fn fail_nth_of_any_kind_counts_every_operation() {
    for (nth, failing) in [
        (1, OpKind::Mkdir),
        (2, OpKind::Create),
        (3, OpKind::Write),
        (4, OpKind::Flush),
    ] {
        let (memory, fs) = faulty(&format!("fail=any#{nth}:EFBIG"));
        let mut failed = Vec::new();
        let mut note = |kind, result: io::Result<()>| {
            if let Err(err) = result {
                assert_eq!(err.raw_os_error(), Some(libc::EFBIG));
                failed.push(kind);
            }
        };
        note(OpKind::Mkdir, fs.create_dir(Path::new("/d")));
        if memory.entry_kind(Path::new("/d")).unwrap().is_none() {
            memory.create_dir(Path::new("/d")).unwrap();
        }
        match fs.create_new(Path::new("/d/f")) {
            Ok(mut file) => {
                note(OpKind::Write, file.write(b"x").map(drop));
                note(OpKind::Flush, file.flush());
            }
            Err(err) => note(OpKind::Create, Err(err)),
        }
        assert_eq!(failed, vec![failing], "fail=any#{nth}");
    }
}

#[test]
fn eintr_is_retried_by_write_all_as_with_a_real_signal() {
    let (memory, fs) = faulty("fail=write#1:EINTR");
    let mut file = fs.create_new(Path::new("/a")).unwrap();
    file.write_all(b"data").unwrap();
    assert_eq!(memory.read(Path::new("/a")).unwrap(), b"data");
    assert_eq!(fs.counts().get(OpKind::Write), 2);
}

#[test]
fn operations_are_counted_by_kind_including_failed_ones() {
    let (_, fs) = faulty("fail=remove#1:EBUSY");
    fs.create_dir(Path::new("/d")).unwrap();
    let mut file = fs.create_new(Path::new("/d/f")).unwrap();
    file.write_all(b"abc").unwrap();
    file.flush().unwrap();
    file.sync_all().unwrap();
    drop(file);
    let mut log = fs.open_append(Path::new("/d/log")).unwrap();
    log.write_all(b"x").unwrap();
    fs.rename(Path::new("/d/f"), Path::new("/d/g")).unwrap();
    fs.sync_dir(Path::new("/d")).unwrap();
    assert_eq!(errno(fs.remove_file(Path::new("/d/g"))), Some(libc::EBUSY));
    fs.remove_file(Path::new("/d/g")).unwrap();
    fs.entry_kind(Path::new("/d")).unwrap();
    fs.read_dir(Path::new("/d")).unwrap();
    fs.read(Path::new("/d/log")).unwrap();

    let counts = fs.counts();
    let expected = [
        (OpKind::Mkdir, 1),
        (OpKind::Create, 1),
        (OpKind::Open, 1),
        (OpKind::Write, 2),
        (OpKind::Flush, 1),
        (OpKind::Fsync, 2),
        (OpKind::Rename, 1),
        (OpKind::Remove, 2),
        (OpKind::Read, 1),
    ];
    for (kind, count) in expected {
        assert_eq!(counts.get(kind), count, "{kind}");
    }
    assert_eq!(counts.total(), 12, "lookups are not operations");
}

#[test]
fn reading_a_file_can_be_denied_as_without_read_permission() {
    let (memory, fs) = faulty("deny=read:**/.codetracer/*.toml");
    memory.create_dir(Path::new("/p")).unwrap();
    memory.create_dir(Path::new("/p/.codetracer")).unwrap();
    for name in ["/p/.codetracer/trace-filter.toml", "/p/other.toml"] {
        memory
            .create_new(Path::new(name))
            .unwrap()
            .write_all(b"x")
            .unwrap();
    }
    let denied = fs.read(Path::new("/p/.codetracer/trace-filter.toml"));
    assert_eq!(errno(denied), Some(libc::EACCES));
    assert_eq!(fs.read(Path::new("/p/other.toml")).unwrap(), b"x");
    assert_eq!(fs.counts().get(OpKind::Read), 2);
}

#[test]
fn fixture_log_has_one_json_line_per_operation_and_fault() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("fixtures.jsonl");
    let log = Arc::new(FixtureLog::open(&log_path).unwrap());
    let plan = FaultPlan::parse("fail=write#2:ENOSPC").unwrap();
    let fs = FaultFs::with_log(MemoryFs::new(), plan, Some(log));
    let mut file = fs.create_new(Path::new("/t.json")).unwrap();
    file.write_all(b"a").unwrap();
    assert!(file.write_all(b"b").is_err());
    fs.rename(Path::new("/t.json"), Path::new("/u.json"))
        .unwrap();

    let text = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let expected = [
        r#"{"event":"op","kind":"create","index":1,"kind_index":1,"path":"/t.json"}"#,
        r#"{"event":"op","kind":"write","index":2,"kind_index":1,"path":"/t.json"}"#,
        r#"{"event":"op","kind":"write","index":3,"kind_index":2,"path":"/t.json"}"#,
        r#"{"event":"fault","kind":"write","index":3,"errno":28,"rule":"fail=write#2:ENOSPC"}"#,
        r#"{"event":"op","kind":"rename","index":4,"kind_index":1,"path":"/t.json","to":"/u.json"}"#,
    ];
    let expected: Vec<serde_json::Value> = expected
        .iter()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines, expected);
}

#[test]
fn quota_fault_is_logged_with_its_clause() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("fixtures.jsonl");
    let log = Arc::new(FixtureLog::open(&log_path).unwrap());
    let fs = FaultFs::with_log(
        MemoryFs::new(),
        FaultPlan::parse("quota=2").unwrap(),
        Some(log),
    );
    let mut file = fs.create_new(Path::new("/f")).unwrap();
    assert!(file.write_all(b"abc").is_err());
    let text = std::fs::read_to_string(&log_path).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["event"], "fault");
    assert_eq!(last["rule"], "quota=2");
    assert_eq!(last["errno"], libc::ENOSPC);
}

#[test]
fn an_empty_plan_changes_nothing() {
    let (memory, fs) = faulty("");
    fs.create_dir(Path::new("/d")).unwrap();
    let mut file = fs.create_new(Path::new("/d/f")).unwrap();
    file.write_all(&[7; 4096]).unwrap();
    file.sync_all().unwrap();
    assert_eq!(memory.read(Path::new("/d/f")).unwrap(), vec![7; 4096]);
    assert_eq!(fs.quota_used(), 4096);
    assert!(fs.plan().is_empty());
}
