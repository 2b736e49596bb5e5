//! Staged output settles as complete, explicitly partial, or absent.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use faultfs::{
    EntryKind, FaultFs, FaultPlan, FileSystem, FixtureLog, MemoryFs, Outcome, PhysicalFs,
    StagedDir, StagingOwner, PARTIAL_MARKER, STAGING_PREFIX,
};

const FILES: [(&str, &str); 3] = [
    ("trace.json", "[\n{\"Path\":\"a.py\"}\n]\n"),
    ("trace_paths.json", "[\"a.py\"]"),
    ("trace_metadata.json", "{\"program\":\"a.py\"}"),
];

/// Stages FILES, finishing each one.
fn stage(fs: Arc<dyn FileSystem>, target: &Path) -> io::Result<StagedDir> {
    let mut staged = StagedDir::create(fs, target)?;
    for (name, text) in FILES {
        let mut file = staged.create_file(name)?;
        file.write_all(text.as_bytes())?;
        file.finish()?;
    }
    Ok(staged)
}

fn names(fs: &dyn FileSystem, dir: &Path) -> Vec<String> {
    fs.read_dir(dir).unwrap()
}

fn sorted(mut names: Vec<&str>) -> Vec<String> {
    names.sort();
    names.into_iter().map(String::from).collect()
}

fn faulty(plan: &str) -> (MemoryFs, Arc<dyn FileSystem>) {
    let memory = MemoryFs::new();
    let fs = FaultFs::new(memory.clone(), FaultPlan::parse(plan).unwrap());
    (memory, Arc::new(fs))
}

#[test]
fn commit_on_disk_creates_the_target_with_exactly_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("trace");
    let staged = stage(Arc::new(PhysicalFs::new()), &target).unwrap();
    let staging_name = staged
        .staging()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        staging_name.starts_with(&format!("{STAGING_PREFIX}{}-", std::process::id())),
        "{staging_name}"
    );
    assert_eq!(staged.target(), target);
    assert_eq!(
        names(&PhysicalFs, &target),
        vec![staging_name],
        "nothing final before commit"
    );
    staged.commit().unwrap();
    assert_eq!(
        names(&PhysicalFs, &target),
        sorted(FILES.iter().map(|f| f.0).collect())
    );
    for (name, text) in FILES {
        assert_eq!(std::fs::read_to_string(target.join(name)).unwrap(), text);
    }
}

#[test]
fn commit_renames_in_creation_order_then_syncs_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("log.jsonl");
    let log = Arc::new(FixtureLog::open(&log_path).unwrap());
    let fs = FaultFs::with_log(MemoryFs::new(), FaultPlan::default(), Some(log));
    stage(Arc::new(fs), Path::new("/out"))
        .unwrap()
        .commit()
        .unwrap();
    let ops: Vec<String> = std::fs::read_to_string(&log_path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .filter(|event| matches!(event["kind"].as_str(), Some("rename" | "fsync" | "remove")))
        .map(|event| {
            let path = Path::new(event["to"].as_str().or(event["path"].as_str()).unwrap());
            format!(
                "{} {}",
                event["kind"].as_str().unwrap(),
                path.file_name().unwrap().to_string_lossy()
            )
        })
        .filter(|op| !op.starts_with("fsync trace"))
        .collect();
    assert_eq!(
        ops[..4],
        [
            "rename trace.json",
            "rename trace_paths.json",
            "rename trace_metadata.json",
            "fsync out"
        ]
    );
    assert!(ops[4].starts_with("remove .codetracer-staging-"), "{ops:?}");
}

#[test]
fn abort_and_drop_remove_everything_they_created() {
    let fs = MemoryFs::new();
    let shared: Arc<dyn FileSystem> = Arc::new(fs.clone());
    let settled = stage(Arc::clone(&shared), Path::new("/new"))
        .unwrap()
        .abort();
    assert_eq!(settled.describe(), "absent");
    assert!(settled.leftovers().is_empty());
    assert_eq!(
        fs.entry_kind(Path::new("/new")).unwrap(),
        None,
        "a target it created goes too"
    );

    fs.create_dir(Path::new("/kept")).unwrap();
    drop(stage(Arc::clone(&shared), Path::new("/kept")).unwrap());
    assert_eq!(
        names(&fs, Path::new("/kept")),
        Vec::<String>::new(),
        "a pre-existing target stays, empty"
    );

    let mut staged = StagedDir::create(Arc::clone(&shared), Path::new("/half")).unwrap();
    let mut file = staged.create_file("trace.json").unwrap();
    file.write_all(b"[\n").unwrap();
    drop(staged);
    file.write_all(b"late").unwrap();
    drop(file);
    assert_eq!(fs.entry_kind(Path::new("/half")).unwrap(), None);
}

#[test]
fn keep_partial_places_the_marker_first_then_the_data_files() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("log.jsonl");
    let log = Arc::new(FixtureLog::open(&log_path).unwrap());
    let memory = MemoryFs::new();
    let fs = FaultFs::with_log(memory.clone(), FaultPlan::default(), Some(log));
    let mut staged = StagedDir::create(Arc::new(fs), Path::new("/out")).unwrap();
    let mut data = staged.create_file("trace.json").unwrap();
    data.write_all(b"[\n{\"Event\":1},\n").unwrap();
    drop(data);
    staged
        .keep_partial("ERR_DISK_FULL", "disk full while writing")
        .unwrap();

    assert_eq!(
        names(&memory, Path::new("/out")),
        vec!["trace.json", PARTIAL_MARKER]
    );
    let marker: serde_json::Value = serde_json::from_slice(
        &memory
            .read(&Path::new("/out").join(PARTIAL_MARKER))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        marker,
        serde_json::json!({"partial": true, "reason": "ERR_DISK_FULL", "message": "disk full while writing"})
    );
    assert_eq!(
        memory.read(Path::new("/out/trace.json")).unwrap(),
        b"[\n{\"Event\":1},\n"
    );
    let renames: Vec<String> = std::fs::read_to_string(&log_path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .filter(|event| event["kind"] == "rename")
        .map(|event| event["to"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(renames, vec!["/out/trace_partial.json", "/out/trace.json"]);
}

#[test]
fn keep_partial_falls_back_to_absent_when_the_marker_cannot_be_written() {
    for plan in [
        "deny=create:**/trace_partial.json",
        "fail=write#2:ENOSPC",
        "quota=20",
        "fail=fsync#2:EIO",
        "deny=rename:**/trace_partial.json",
        "deny=rename:/out/trace.json",
    ] {
        let (memory, fs) = faulty(plan);
        let mut staged = StagedDir::create(fs, Path::new("/out")).unwrap();
        let mut data = staged.create_file("trace.json").unwrap();
        data.write_all(b"0123456789").unwrap();
        data.finish().unwrap();
        let err = staged.keep_partial("ERR_IO", "x").unwrap_err();
        assert!(err.error().raw_os_error().is_some(), "{plan}: {err}");
        assert_eq!(err.settled().describe(), "absent", "{plan}");
        assert_eq!(
            memory.entry_kind(Path::new("/out")).unwrap(),
            None,
            "{plan}"
        );
    }
}

#[test]
fn a_failed_commit_rolls_back_to_absent() {
    for plan in [
        "deny=rename:**/trace_metadata.json",
        "fail=rename#2:EIO",
        "fail=fsync#4:EIO",
    ] {
        for existing in [false, true] {
            let (memory, fs) = faulty(plan);
            if existing {
                memory.create_dir(Path::new("/out")).unwrap();
            }
            let staged = stage(fs, Path::new("/out")).unwrap();
            let err = staged.commit().unwrap_err();
            assert!(err.error().raw_os_error().is_some(), "{plan}");
            assert_eq!(err.settled().outcome(), Outcome::Absent, "{plan}");
            assert!(err.settled().leftovers().is_empty(), "{plan}");
            if existing {
                assert_eq!(
                    names(&memory, Path::new("/out")),
                    Vec::<String>::new(),
                    "{plan}"
                );
            } else {
                assert_eq!(
                    memory.entry_kind(Path::new("/out")).unwrap(),
                    None,
                    "{plan}"
                );
            }
        }
    }
}

#[test]
fn a_discarded_file_is_never_placed_and_its_name_is_free_again() {
    let memory = MemoryFs::new();
    let mut staged = StagedDir::create(Arc::new(memory.clone()), Path::new("/out")).unwrap();
    let mut data = staged.create_file("trace.json").unwrap();
    data.write_all(b"[\n{\"Event\":1},\n").unwrap();
    drop(data);
    let mut half = staged.create_file("trace_metadata.json").unwrap();
    half.write_all(b"{\"recorder\":").unwrap();
    drop(half);
    staged.discard("trace_metadata.json").unwrap();
    assert_eq!(
        names(&memory, staged.staging()),
        vec!["trace.json"],
        "the discarded file is gone from staging"
    );
    let mut fresh = staged.create_file("trace_metadata.json").unwrap();
    fresh.write_all(b"{\"partial\":true}").unwrap();
    fresh.finish().unwrap();
    staged.keep_partial("ERR_DISK_FULL", "x").unwrap();
    assert_eq!(
        names(&memory, Path::new("/out")),
        vec!["trace.json", "trace_metadata.json", PARTIAL_MARKER]
    );
    assert_eq!(
        memory.read(Path::new("/out/trace_metadata.json")).unwrap(),
        b"{\"partial\":true}"
    );
}

#[test]
fn discarding_what_was_never_staged_is_enoent() {
    let memory = MemoryFs::new();
    let mut staged = StagedDir::create(Arc::new(memory.clone()), Path::new("/out")).unwrap();
    let err = staged.discard("trace.json").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
    let file = staged.create_file("trace.json").unwrap();
    file.finish().unwrap();
    staged.discard("trace.json").unwrap();
    let err = staged.discard("trace.json").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ENOENT), "discarded twice");
    staged.commit().unwrap();
    assert_eq!(names(&memory, Path::new("/out")), Vec::<String>::new());
}

#[test]
fn a_file_whose_discard_failed_is_never_placed() {
    let (memory, fs) = faulty("fail=remove#1:EIO");
    let mut staged = StagedDir::create(fs, Path::new("/out")).unwrap();
    let data = staged.create_file("trace.json").unwrap();
    data.finish().unwrap();
    let mut half = staged.create_file("trace_metadata.json").unwrap();
    half.write_all(b"{").unwrap();
    drop(half);
    let err = staged.discard("trace_metadata.json").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EIO));
    // The partial output is placed without it; staging is emptied afterwards.
    let settled = staged.keep_partial("ERR_DISK_FULL", "x").unwrap();
    assert_eq!(settled.describe(), "partial");
    assert!(settled.leftovers().is_empty(), "{settled:?}");
    assert_eq!(
        names(&memory, Path::new("/out")),
        vec!["trace.json", PARTIAL_MARKER]
    );
}

#[test]
fn commit_refuses_an_unfinished_file() {
    let fs = MemoryFs::new();
    let mut staged = StagedDir::create(Arc::new(fs.clone()), Path::new("/out")).unwrap();
    let mut file = staged.create_file("trace.json").unwrap();
    file.write_all(b"[").unwrap();
    let err = staged.commit().unwrap_err();
    assert!(err.error().to_string().contains("trace.json"), "{err}");
    assert_eq!(fs.entry_kind(Path::new("/out")).unwrap(), None);
}

#[test]
fn staging_never_follows_a_pre_existing_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("trace");
    let victim = dir.path().join("victim");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::create_dir(&victim).unwrap();
    // This process's next staging names: the one just used, with later counters.
    let probe = StagedDir::create(Arc::new(PhysicalFs::new()), &target).unwrap();
    let used = StagingOwner::from_dir_name(&probe.staging().file_name().unwrap().to_string_lossy())
        .unwrap()
        .dir_name();
    probe.abort();
    let stem = used.trim_end_matches(|c: char| c.is_ascii_digit());
    let next: u64 = used[stem.len()..].parse().unwrap();
    let traps: Vec<PathBuf> = (next + 1..next + 33)
        .map(|n| target.join(format!("{stem}{n}")))
        .collect();
    for trap in &traps {
        std::os::unix::fs::symlink(&victim, trap).unwrap();
    }
    let fs: Arc<dyn FileSystem> = Arc::new(PhysicalFs::new());
    let staged = stage(Arc::clone(&fs), &target).unwrap();
    assert_eq!(
        fs.entry_kind(staged.staging()).unwrap(),
        Some(EntryKind::Dir)
    );
    staged.commit().unwrap();
    assert_eq!(
        names(fs.as_ref(), &victim),
        Vec::<String>::new(),
        "nothing written through a symlink"
    );
    for trap in &traps {
        assert_eq!(fs.entry_kind(trap).unwrap(), Some(EntryKind::Symlink));
    }
    for (name, _) in FILES {
        assert_eq!(
            fs.entry_kind(&target.join(name)).unwrap(),
            Some(EntryKind::File)
        );
    }
}

#[test]
fn a_target_that_cannot_hold_staging_fails_and_leaves_nothing() {
    let (memory, fs) = faulty("deny=mkdir:**/.codetracer-staging-*");
    let err = StagedDir::create(fs, Path::new("/out")).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EACCES));
    assert_eq!(memory.entry_kind(Path::new("/out")).unwrap(), None);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, b"user data").unwrap();
    let err = StagedDir::create(Arc::new(PhysicalFs::new()), &file).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ENOTDIR));
    assert_eq!(std::fs::read(&file).unwrap(), b"user data");
}

#[test]
fn file_names_must_be_plain() {
    let mut staged = StagedDir::create(Arc::new(MemoryFs::new()), Path::new("/out")).unwrap();
    for bad in ["", ".", "..", "a/b", PARTIAL_MARKER] {
        let err = staged.create_file(bad).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EINVAL), "{bad:?}");
    }
    drop(staged.create_file("trace.json").unwrap());
    let err = staged.create_file("trace.json").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EEXIST));
}

#[test]
fn staged_handles_move_across_threads() {
    fn assert_send<T: Send>(_: &T) {}
    let dir = tempfile::tempdir().unwrap();
    let mut staged = StagedDir::create(Arc::new(PhysicalFs::new()), dir.path()).unwrap();
    let mut file = staged.create_file("trace.json").unwrap();
    assert_send(&file);
    assert_send(&staged);
    std::thread::spawn(move || {
        file.write_all(b"[]").unwrap();
        file.finish().unwrap();
    })
    .join()
    .unwrap();
    staged.commit().unwrap();
    assert_eq!(std::fs::read(dir.path().join("trace.json")).unwrap(), b"[]");
}

#[test]
fn missing_ancestors_are_created_and_removed_again_when_absent() {
    let fs = MemoryFs::new();
    let shared: Arc<dyn FileSystem> = Arc::new(fs.clone());
    fs.create_dir(Path::new("/base")).unwrap();
    let target = Path::new("/base/runs/today/trace");

    stage(Arc::clone(&shared), target)
        .unwrap()
        .commit()
        .unwrap();
    assert_eq!(
        names(&fs, target),
        sorted(FILES.iter().map(|(name, _)| *name).collect())
    );

    let other = Path::new("/base/more/nested/trace");
    assert!(stage(Arc::clone(&shared), other)
        .unwrap()
        .abort()
        .leftovers()
        .is_empty());
    assert_eq!(
        names(&fs, Path::new("/base")),
        ["runs"],
        "every directory the aborted output created is gone, the existing base stays"
    );
}

#[test]
fn an_ancestor_that_cannot_be_created_leaves_nothing_behind() {
    let (memory, fs) = faulty("deny=mkdir:/base/a/b");
    memory.create_dir(Path::new("/base")).unwrap();
    let err = StagedDir::create(fs, Path::new("/base/a/b/trace")).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EACCES));
    assert_eq!(names(&memory, Path::new("/base")), Vec::<String>::new());
}
