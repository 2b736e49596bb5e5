//! `fail` crate points on every `FaultFs` operation (`failpoints` builds only).
#![cfg(feature = "failpoints")]

use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fail::FailScenario;
use faultfs::{FaultFs, FaultPlan, FileSystem, FixtureLog, MemoryFs, OpKind};

fn fault_fs() -> (MemoryFs, FaultFs<MemoryFs>) {
    let memory = MemoryFs::new();
    memory.create_dir(Path::new("/d")).unwrap();
    (memory.clone(), FaultFs::new(memory, FaultPlan::default()))
}

/// Runs one operation of `kind` against `fs` (set up by [`fault_fs`]).
fn run(fs: &FaultFs<MemoryFs>, memory: &MemoryFs, kind: OpKind) -> io::Result<()> {
    let file = Path::new("/d/f");
    if kind != OpKind::Create && memory.entry_kind(file).unwrap().is_none() {
        drop(memory.create_new(file).unwrap());
    }
    match kind {
        OpKind::Create => fs.create_new(file).map(drop),
        OpKind::Open => fs.open_append(file).map(drop),
        OpKind::Write => fs.open_append(file)?.write(b"x").map(drop),
        OpKind::Flush => fs.open_append(file)?.flush(),
        OpKind::Fsync => fs.sync_dir(Path::new("/d")),
        OpKind::Rename => fs.rename(file, Path::new("/d/g")),
        OpKind::Remove => fs.remove_file(file),
        OpKind::Mkdir => fs.create_dir(Path::new("/d/e")),
        OpKind::Read => fs.read(file).map(drop),
    }
}

#[test]
fn return_action_fails_each_kind_with_the_named_or_numbered_errno() {
    let _scenario = FailScenario::setup();
    for (i, kind) in OpKind::ALL.into_iter().enumerate() {
        let (memory, fs) = fault_fs();
        let (action, errno) = if i % 2 == 0 {
            ("return(ENOSPC)", libc::ENOSPC)
        } else {
            ("return(13)", libc::EACCES)
        };
        fail::cfg(kind.failpoint(), action).unwrap();
        let err = run(&fs, &memory, kind).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(errno), "{kind}");
        fail::remove(kind.failpoint());
        run(&fs, &memory, kind).unwrap();
    }
}

#[test]
fn bare_return_is_eio_and_counts_limit_the_action() {
    let _scenario = FailScenario::setup();
    let (memory, fs) = fault_fs();
    fail::cfg("faultfs::rename", "return").unwrap();
    assert_eq!(
        run(&fs, &memory, OpKind::Rename)
            .unwrap_err()
            .raw_os_error(),
        Some(libc::EIO)
    );
    fail::cfg("faultfs::fsync", "1*return(EROFS)").unwrap();
    let err = fs.sync_dir(Path::new("/d")).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ReadOnlyFilesystem);
    fs.sync_dir(Path::new("/d")).unwrap();
}

#[test]
fn fail_point_faults_are_counted_and_logged() {
    let _scenario = FailScenario::setup();
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("log.jsonl");
    let log = Arc::new(FixtureLog::open(&log_path).unwrap());
    let fs = FaultFs::with_log(MemoryFs::new(), FaultPlan::default(), Some(log));
    fail::cfg("faultfs::mkdir", "return(EIO)").unwrap();
    assert!(fs.create_dir(Path::new("/x")).is_err());
    assert_eq!(fs.counts().get(OpKind::Mkdir), 1);
    let text = std::fs::read_to_string(&log_path).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(
        last,
        serde_json::json!({"event": "fault", "kind": "mkdir", "index": 1, "errno": libc::EIO,
            "rule": "failpoint=faultfs::mkdir"})
    );
}

#[test]
fn panic_action_panics_inside_the_operation() {
    let _scenario = FailScenario::setup();
    let (memory, fs) = fault_fs();
    fail::cfg("faultfs::create", "panic(boom)").unwrap();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = run(&fs, &memory, OpKind::Create);
    }));
    assert!(caught.is_err());
    assert_eq!(
        memory.entry_kind(Path::new("/d/f")).unwrap(),
        None,
        "the create never happened"
    );
}

#[test]
fn sleep_action_delays_then_succeeds() {
    let _scenario = FailScenario::setup();
    let (memory, fs) = fault_fs();
    fail::cfg("faultfs::mkdir", "sleep(60)").unwrap();
    let start = Instant::now();
    run(&fs, &memory, OpKind::Mkdir).unwrap();
    assert!(start.elapsed() >= Duration::from_millis(60));
}

#[test]
fn pause_action_holds_the_operation_until_reconfigured() {
    let _scenario = FailScenario::setup();
    let (memory, fs) = fault_fs();
    drop(memory.create_new(Path::new("/d/f")).unwrap());
    fail::cfg("faultfs::remove", "pause").unwrap();
    let fs = Arc::new(fs);
    let worker = {
        let fs = Arc::clone(&fs);
        std::thread::spawn(move || fs.remove_file(Path::new("/d/f")))
    };
    std::thread::sleep(Duration::from_millis(100));
    assert!(!worker.is_finished(), "paused");
    assert!(memory.entry_kind(Path::new("/d/f")).unwrap().is_some());
    fail::cfg("faultfs::remove", "off").unwrap();
    worker.join().unwrap().unwrap();
    assert_eq!(memory.entry_kind(Path::new("/d/f")).unwrap(), None);
}

#[test]
fn a_panicking_remove_never_escapes_staged_output() {
    let _scenario = FailScenario::setup();
    fail::cfg("faultfs::remove", "panic").unwrap();
    let memory = MemoryFs::new();
    let fs: Arc<dyn FileSystem> = Arc::new(FaultFs::new(memory.clone(), FaultPlan::default()));

    let mut staged = faultfs::StagedDir::create(Arc::clone(&fs), Path::new("/out")).unwrap();
    let file = staged.create_file("trace.json").unwrap();
    file.finish().unwrap();
    let staging = staged.staging().to_path_buf();
    let settled = staged.commit().unwrap();
    assert_eq!(settled.outcome(), faultfs::Outcome::Complete);
    assert_eq!(settled.leftovers(), [staging]);
    let why = settled.cleanup_error().unwrap().to_string();
    assert!(why.contains("panic"), "{why}");

    // Dropped while another panic unwinds: the destructor's cleanup panics
    // too, and the process must not abort.
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut staged = faultfs::StagedDir::create(Arc::clone(&fs), Path::new("/other")).unwrap();
        drop(staged.create_file("trace.json").unwrap());
        panic!("the recorder failed while staging");
    }));
    assert!(unwound.is_err());
    fail::remove("faultfs::remove");
}

#[test]
fn persistent_eintr_ends_a_staged_write_after_the_retry_bound() {
    let _scenario = FailScenario::setup();
    let memory = MemoryFs::new();
    let fault_fs = Arc::new(FaultFs::new(memory, FaultPlan::default()));
    let fs: Arc<dyn FileSystem> = Arc::clone(&fault_fs) as Arc<dyn FileSystem>;
    let mut staged = faultfs::StagedDir::create(fs, Path::new("/out")).unwrap();
    let mut file = staged.create_file("trace.json").unwrap();
    fail::cfg("faultfs::write", "return(EINTR)").unwrap();
    let err = file.write_all(b"events").unwrap_err();
    fail::remove("faultfs::write");
    assert_eq!(err.raw_os_error(), Some(libc::EINTR));
    assert_eq!(
        fault_fs.counts().get(OpKind::Write),
        u64::from(faultfs::MAX_INTERRUPTED_RETRIES) + 1
    );
    // A few interruptions are retried, as after a real signal.
    fail::cfg("faultfs::write", "3*return(EINTR)").unwrap();
    file.write_all(b"events").unwrap();
    fail::remove("faultfs::write");
}

#[test]
fn a_panicking_mkdir_leaves_no_directory_it_created() {
    let _scenario = FailScenario::setup();
    let memory = MemoryFs::new();
    memory.create_dir(Path::new("/base")).unwrap();
    let fs: Arc<dyn FileSystem> = Arc::new(FaultFs::new(memory.clone(), FaultPlan::default()));
    for nth in 1..=3 {
        // mkdir #1 is /base/a, #2 /base/a/trace, #3 the staging directory.
        fail::cfg("faultfs::mkdir", &format!("{}*off->1*panic->off", nth - 1)).unwrap();
        let created = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            faultfs::StagedDir::create(Arc::clone(&fs), Path::new("/base/a/trace"))
        }));
        assert!(created.is_err(), "mkdir #{nth} panicked");
        assert_eq!(
            memory.entry_kind(Path::new("/base/a")).unwrap(),
            None,
            "mkdir #{nth}"
        );
    }
    fail::remove("faultfs::mkdir");
}
