//! The fault-plan properties through the `vfs` crate (feature `vfs`), over
//! random operation sequences and random plans:
//! (a) every byte a write reported as written reads back through `vfs`,
//! with `FaultFs` as a `vfs::FileSystem` and with a `vfs::FileSystem`
//! inside `FaultFs` (`VfsBacked`);
//! (b) quota accounting is exact through the `vfs` view;
//! (c) deny rules and `fail=<kind>#<n>` fire exactly as through the native
//! view: the same results, errnos, operation counts and final tree, both for
//! `vfs` calls on `FaultFs` and for a `vfs::PhysicalFS` inside `FaultFs`
//! against faultfs's own `PhysicalFs`.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::path::Path;

use faultfs::{EntryKind, FaultFs, FaultPlan, FileSystem, FsFile, MemoryFs, PhysicalFs, VfsBacked};
use proptest::prelude::*;
use vfs::error::VfsErrorKind;
use vfs::{SeekAndWrite, VfsError, VfsPath};

const ERRNOS: [&str; 6] = ["ENOSPC", "EACCES", "EIO", "EROFS", "EFBIG", "EINTR"];

/// The files and directories the random programs work on: file names
/// and directory names never collide, so a file is never an ancestor.
const FILES: [&str; 3] = ["/f0", "/d/f1", "/d/e/f2"];
const DIRS: [&str; 2] = ["/d", "/d/e"];

/// A random plan over `kinds`: maybe a quota, fail rules and deny rules.
fn plan(kinds: &'static [&'static str], max_quota: u64) -> impl Strategy<Value = String> {
    let fail = (
        prop::sample::select(kinds),
        1u32..10,
        prop::sample::select(&ERRNOS[..]),
    )
        .prop_map(|(kind, n, errno)| format!("fail={kind}#{n}:{errno}"));
    // Relative to any root, so they match the same files under a temporary directory.
    let globs = prop::sample::select(&["**/f1", "**/d/**", "**/d/e", "**/f?", "**/f0"][..]);
    let deny = (
        prop::sample::select(kinds),
        globs,
        prop::sample::select(&["", ":EPERM"][..]),
    )
        .prop_map(|(kind, glob, errno)| format!("deny={kind}:{glob}{errno}"));
    (
        prop::option::of(0..max_quota),
        prop::collection::vec(fail, 0..3),
        prop::collection::vec(deny, 0..2),
    )
        .prop_map(|(quota, fails, denies)| {
            quota
                .map(|bytes| format!("quota={bytes}"))
                .into_iter()
                .chain(fails)
                .chain(denies)
                .collect::<Vec<_>>()
                .join(";")
        })
}

fn parse(plan: &str) -> FaultPlan {
    FaultPlan::parse(plan).unwrap()
}

/// The errno a `vfs` error stands for (`FileNotFound` is `ENOENT`, the
/// `...Exists` kinds are `EEXIST`); `None` for an error without one.
fn vfs_errno(err: &VfsError) -> Option<i32> {
    match err.kind() {
        VfsErrorKind::IoError(cause) => cause.raw_os_error(),
        VfsErrorKind::FileNotFound => Some(libc::ENOENT),
        VfsErrorKind::DirectoryExists | VfsErrorKind::FileExists => Some(libc::EEXIST),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// (a) writes that succeed read back through vfs

#[derive(Debug, Clone)]
enum WriteOp {
    Create(usize),
    Append(usize),
    Write(usize, Vec<u8>),
    Flush(usize),
}

fn write_op() -> impl Strategy<Value = WriteOp> {
    let file = 0usize..3;
    prop_oneof![
        file.clone().prop_map(WriteOp::Create),
        file.clone().prop_map(WriteOp::Append),
        (file.clone(), prop::collection::vec(any::<u8>(), 0..200))
            .prop_map(|(f, b)| WriteOp::Write(f, b)),
        file.prop_map(WriteOp::Flush),
    ]
}

/// Runs `ops` through `vfs` under `root` (one open handle per file: the
/// previous one is closed before a file is opened again, as
/// `vfs::MemoryFS` needs) and checks that each file holds exactly the bytes
/// its writes reported, or is absent when it never came to exist.
fn check_read_back(root: &VfsPath, ops: &[WriteOp]) {
    let paths: Vec<VfsPath> = (0..3)
        .map(|i| root.join(format!("f{i}")).unwrap())
        .collect();
    let mut handles: Vec<Option<Box<dyn SeekAndWrite + Send>>> = (0..3).map(|_| None).collect();
    let mut expected: Vec<Option<Vec<u8>>> = vec![None; 3];
    for op in ops {
        match op {
            WriteOp::Create(i) => {
                handles[*i] = None;
                match paths[*i].create_file() {
                    Ok(file) => {
                        expected[*i] = Some(Vec::new());
                        handles[*i] = Some(file);
                    }
                    // A failed create_file leaves the old file when its
                    // `remove` failed, and nothing when its `create` did.
                    Err(_) if !paths[*i].exists().unwrap() => expected[*i] = None,
                    Err(_) => {}
                }
            }
            WriteOp::Append(i) => {
                handles[*i] = None;
                if let Ok(file) = paths[*i].append_file() {
                    assert!(expected[*i].is_some(), "append_file opened a missing file");
                    handles[*i] = Some(file);
                }
            }
            WriteOp::Write(i, bytes) => {
                if let (Some(file), Some(model)) = (handles[*i].as_mut(), expected[*i].as_mut()) {
                    if let Ok(written) = file.write(bytes) {
                        model.extend_from_slice(&bytes[..written]);
                    }
                }
            }
            WriteOp::Flush(i) => {
                if let Some(file) = handles[*i].as_mut() {
                    let _ = file.flush();
                }
            }
        }
    }
    drop(handles);
    for (path, model) in paths.iter().zip(&expected) {
        match model {
            Some(bytes) => {
                let mut stored = Vec::new();
                path.open_file().unwrap().read_to_end(&mut stored).unwrap();
                assert_eq!(&stored, bytes, "{}", path.as_str());
            }
            None => assert!(!path.exists().unwrap(), "{}", path.as_str()),
        }
    }
}

const WRITE_KINDS: &[&str] = &["create", "open", "write", "flush", "remove", "any"];

proptest! {
    #[test]
    fn a_successful_write_reads_back_through_the_vfs_view(
        plan in plan(WRITE_KINDS, 1500), ops in prop::collection::vec(write_op(), 0..40),
    ) {
        let root = VfsPath::new(FaultFs::new(MemoryFs::new(), parse(&plan)));
        check_read_back(&root, &ops);
    }

    #[test]
    fn a_successful_write_reads_back_through_a_vfs_memory_fs_inside_faultfs(
        plan in plan(WRITE_KINDS, 1500), ops in prop::collection::vec(write_op(), 0..40),
    ) {
        let inner = VfsBacked::new(vfs::MemoryFS::new());
        let root = VfsPath::new(FaultFs::new(inner, parse(&plan)));
        check_read_back(&root, &ops);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn a_successful_write_reads_back_through_the_vfs_view_on_disk(
        plan in plan(WRITE_KINDS, 1500), ops in prop::collection::vec(write_op(), 0..40),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let disk = VfsPath::new(FaultFs::new(PhysicalFs::new(), parse(&plan)));
        let root = disk.join(dir.path().to_str().unwrap()).unwrap();
        check_read_back(&root, &ops);
    }
}

// ---------------------------------------------------------------------------
// (b) the quota is exact through vfs

proptest! {
    #[test]
    fn quota_accounting_is_exact_through_the_vfs_view(
        quota in 0u64..3000,
        chunks in prop::collection::vec((0usize..3, 1usize..400), 1..20),
    ) {
        let fs = FaultFs::new(MemoryFs::new(), parse(&format!("quota={quota}")));
        let view: &dyn vfs::FileSystem = &fs;
        let mut files: Vec<Box<dyn SeekAndWrite + Send>> = (0..3)
            .map(|i| view.create_file(&format!("/f{i}")).unwrap())
            .collect();
        let mut attempted = 0u64;
        for (file, len) in chunks {
            let before = attempted;
            attempted += len as u64;
            let result = files[file].write_all(&vec![b'x'; len]);
            if attempted <= quota {
                prop_assert!(result.is_ok(), "{before}+{len} fits in {quota}");
            } else {
                let err = result.unwrap_err();
                prop_assert_eq!(err.raw_os_error(), Some(libc::ENOSPC));
                prop_assert_eq!(err.kind(), io::ErrorKind::StorageFull);
            }
        }
        let stored: u64 = (0..3)
            .map(|i| view.metadata(&format!("/f{i}")).unwrap().len)
            .sum();
        prop_assert_eq!(stored, attempted.min(quota));
        prop_assert_eq!(fs.quota_used(), stored);
    }
}

// ---------------------------------------------------------------------------
// (c) faults fire exactly as through the native view

#[derive(Debug, Clone)]
enum Step {
    Mkdir(usize),
    Create(usize),
    Append(usize),
    Write(usize, usize),
    Flush(usize),
    Move(usize, usize),
    RemoveFile(usize),
    RemoveDir(usize),
}

fn step() -> impl Strategy<Value = Step> {
    let file = 0usize..FILES.len();
    let dir = 0usize..DIRS.len();
    prop_oneof![
        dir.clone().prop_map(Step::Mkdir),
        file.clone().prop_map(Step::Create),
        file.clone().prop_map(Step::Append),
        (file.clone(), 0usize..300).prop_map(|(f, n)| Step::Write(f, n)),
        file.clone().prop_map(Step::Flush),
        (file.clone(), file.clone()).prop_map(|(a, b)| Step::Move(a, b)),
        file.prop_map(Step::RemoveFile),
        dir.prop_map(Step::RemoveDir),
    ]
}

/// What one step returned: bytes written, success, or the errno.
type Outcome = Result<usize, Option<i32>>;

fn io_outcome<T>(result: io::Result<T>, value: impl FnOnce(T) -> usize) -> Outcome {
    result.map(value).map_err(|err| err.raw_os_error())
}

fn vfs_outcome<T>(result: Result<T, VfsError>) -> Outcome {
    result.map(|_| 0).map_err(|err| vfs_errno(&err))
}

/// Runs `steps` with native faultfs calls; creates and appends follow the
/// `vfs` view's documented mapping when `as_vfs_maps_them` (truncating
/// `create_file` = `remove` + `create`, `append_file` never creates), and
/// are plain `create_new`/`open_append` otherwise.
fn run_native(
    fs: &dyn FileSystem,
    root: &Path,
    steps: &[Step],
    as_vfs_maps_them: bool,
) -> Vec<Outcome> {
    let at = |name: &str| root.join(name.trim_start_matches('/'));
    let mut handles: Vec<Option<Box<dyn FsFile>>> = (0..FILES.len()).map(|_| None).collect();
    let mut outcomes = Vec::new();
    for step in steps {
        let outcome = match step {
            Step::Mkdir(d) => io_outcome(fs.create_dir(&at(DIRS[*d])), |()| 0),
            Step::Create(f) => {
                let path = at(FILES[*f]);
                let replaced = if as_vfs_maps_them && fs.entry_kind(&path).unwrap().is_some() {
                    fs.remove_file(&path)
                } else {
                    Ok(())
                };
                let created = replaced.and_then(|()| fs.create_new(&path));
                io_outcome(created, |file| {
                    handles[*f] = Some(file);
                    0
                })
            }
            Step::Append(f) => {
                let path = at(FILES[*f]);
                if as_vfs_maps_them && fs.entry_kind(&path).unwrap().is_none() {
                    Err(Some(libc::ENOENT))
                } else {
                    io_outcome(fs.open_append(&path), |file| {
                        handles[*f] = Some(file);
                        0
                    })
                }
            }
            Step::Write(f, len) => match handles[*f].as_mut() {
                Some(file) => io_outcome(file.write(&vec![b'a' + *f as u8; *len]), |n| n),
                None => Ok(0),
            },
            Step::Flush(f) => match handles[*f].as_mut() {
                Some(file) => io_outcome(file.flush(), |()| 0),
                None => Ok(0),
            },
            Step::Move(a, b) => io_outcome(fs.rename(&at(FILES[*a]), &at(FILES[*b])), |()| 0),
            Step::RemoveFile(f) => io_outcome(fs.remove_file(&at(FILES[*f])), |()| 0),
            Step::RemoveDir(d) => io_outcome(fs.remove_dir(&at(DIRS[*d])), |()| 0),
        };
        outcomes.push(outcome);
    }
    outcomes
}

/// Runs `steps` with `vfs::FileSystem` calls.
fn run_vfs(fs: &dyn vfs::FileSystem, steps: &[Step]) -> Vec<Outcome> {
    let mut handles: Vec<Option<Box<dyn SeekAndWrite + Send>>> =
        (0..FILES.len()).map(|_| None).collect();
    let mut outcomes = Vec::new();
    for step in steps {
        let outcome = match step {
            Step::Mkdir(d) => vfs_outcome(fs.create_dir(DIRS[*d])),
            Step::Create(f) => vfs_outcome(
                fs.create_file(FILES[*f])
                    .map(|file| handles[*f] = Some(file)),
            ),
            Step::Append(f) => vfs_outcome(
                fs.append_file(FILES[*f])
                    .map(|file| handles[*f] = Some(file)),
            ),
            Step::Write(f, len) => match handles[*f].as_mut() {
                Some(file) => io_outcome(file.write(&vec![b'a' + *f as u8; *len]), |n| n),
                None => Ok(0),
            },
            Step::Flush(f) => match handles[*f].as_mut() {
                Some(file) => io_outcome(file.flush(), |()| 0),
                None => Ok(0),
            },
            Step::Move(a, b) => vfs_outcome(fs.move_file(FILES[*a], FILES[*b])),
            Step::RemoveFile(f) => vfs_outcome(fs.remove_file(FILES[*f])),
            Step::RemoveDir(d) => vfs_outcome(fs.remove_dir(DIRS[*d])),
        };
        outcomes.push(outcome);
    }
    outcomes
}

/// Every entry below `dir` with a file's content (`None` for a directory).
fn tree(fs: &dyn FileSystem, dir: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    let mut found = BTreeMap::new();
    for name in fs.read_dir(dir).unwrap() {
        let path = dir.join(&name);
        let relative = path
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if fs.entry_kind(&path).unwrap() == Some(EntryKind::Dir) {
            found.insert(relative.clone(), None);
            for (below, content) in tree(fs, &path) {
                found.insert(format!("{relative}/{below}"), content);
            }
        } else {
            found.insert(relative, Some(fs.read(&path).unwrap()));
        }
    }
    found
}

/// Every kind a `vfs` call can issue (`vfs` has no fsync).
const VFS_KINDS: &[&str] = &[
    "create", "open", "write", "flush", "rename", "remove", "mkdir", "any",
];

proptest! {
    #[test]
    fn faults_fire_through_the_vfs_view_exactly_as_natively(
        plan in plan(VFS_KINDS, 1500), steps in prop::collection::vec(step(), 0..40),
    ) {
        let native_memory = MemoryFs::new();
        let native = FaultFs::new(native_memory.clone(), parse(&plan));
        let native_outcomes = run_native(&native, Path::new("/"), &steps, true);
        let vfs_memory = MemoryFs::new();
        let view = FaultFs::new(vfs_memory.clone(), parse(&plan));
        let vfs_outcomes = run_vfs(&view, &steps);
        for (i, (native, vfs)) in native_outcomes.iter().zip(&vfs_outcomes).enumerate() {
            prop_assert_eq!(native, vfs, "step {} {:?} under {}", i, steps[i], plan);
        }
        prop_assert_eq!(native.counts(), view.counts());
        prop_assert_eq!(native.quota_used(), view.quota_used());
        prop_assert_eq!(tree(&native_memory, Path::new("/")), tree(&vfs_memory, Path::new("/")));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn a_vfs_physical_fs_inside_faultfs_faults_exactly_like_physical_fs(
        plan in plan(VFS_KINDS, 1500), steps in prop::collection::vec(step(), 0..40),
    ) {
        let native_dir = tempfile::tempdir().unwrap();
        let native = FaultFs::new(PhysicalFs::new(), parse(&plan));
        let native_outcomes = run_native(&native, native_dir.path(), &steps, false);
        let backed_dir = tempfile::tempdir().unwrap();
        let backed = FaultFs::new(VfsBacked::new(vfs::PhysicalFS::new(backed_dir.path())), parse(&plan));
        let backed_outcomes = run_native(&backed, Path::new("/"), &steps, false);
        for (i, (native, backed)) in native_outcomes.iter().zip(&backed_outcomes).enumerate() {
            prop_assert_eq!(native, backed, "step {} {:?} under {}", i, steps[i], plan);
        }
        prop_assert_eq!(native.counts(), backed.counts());
        prop_assert_eq!(tree(&PhysicalFs::new(), native_dir.path()), tree(&PhysicalFs::new(), backed_dir.path()));
    }
}
