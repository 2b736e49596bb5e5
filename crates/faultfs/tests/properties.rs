//! Properties over random operation sequences and random fault plans:
//! (a) a successful write reads back byte for byte, (b) quota accounting is
//! exact, (c) staged output ends committed (or kept partial) or absent, never
//! mixed, and whatever cleanup could not remove is reported, exactly.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use faultfs::{
    FaultFs, FaultPlan, FileSystem, FsFile, MemoryFs, Outcome, PhysicalFs, SettleError, Settled,
    StagedDir, PARTIAL_MARKER, STAGING_PREFIX,
};
use proptest::prelude::*;

const ERRNOS: [&str; 6] = ["ENOSPC", "EACCES", "EIO", "EROFS", "EFBIG", "EINTR"];

/// `fail=<kind>#<n>:<errno>` over the given kinds.
fn fail_clause(kinds: &'static [&'static str]) -> impl Strategy<Value = String> {
    (
        prop::sample::select(kinds),
        1u32..12,
        prop::sample::select(&ERRNOS[..]),
    )
        .prop_map(|(kind, n, errno)| format!("fail={kind}#{n}:{errno}"))
}

/// `deny=<kind>:<glob>[:errno]` over the given kinds.
fn deny_clause(kinds: &'static [&'static str]) -> impl Strategy<Value = String> {
    let globs = prop::sample::select(
        &[
            "**/f1",
            "**/trace*.json",
            "/out/**",
            "**/.codetracer-staging-*",
        ][..],
    );
    let errno = prop::sample::select(&["", ":EPERM", ":EACCES"][..]);
    (prop::sample::select(kinds), globs, errno)
        .prop_map(|(kind, glob, errno)| format!("deny={kind}:{glob}{errno}"))
}

/// A random plan: maybe a quota, some fail rules and some deny rules.
fn plan(kinds: &'static [&'static str], max_quota: u64) -> impl Strategy<Value = String> {
    (
        prop::option::of(0..max_quota),
        prop::collection::vec(fail_clause(kinds), 0..3),
        prop::collection::vec(deny_clause(kinds), 0..2),
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

#[derive(Debug, Clone)]
enum Op {
    Create(usize),
    Append(usize),
    Write(usize, Vec<u8>),
    Flush(usize),
    Sync(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let file = 0usize..3;
    prop_oneof![
        file.clone().prop_map(Op::Create),
        file.clone().prop_map(Op::Append),
        (file.clone(), prop::collection::vec(any::<u8>(), 0..200))
            .prop_map(|(f, b)| Op::Write(f, b)),
        file.clone().prop_map(Op::Flush),
        file.prop_map(Op::Sync),
    ]
}

/// Runs `ops` through `FaultFs(inner, plan)` under `root`; every byte a
/// write reported as written must be in the file afterwards, in order.
fn check_read_back<F: FileSystem + Clone>(inner: F, root: &Path, plan: &str, ops: &[Op]) {
    let fs = FaultFs::new(inner.clone(), FaultPlan::parse(plan).unwrap());
    let paths: Vec<PathBuf> = (0..3).map(|i| root.join(format!("f{i}"))).collect();
    let mut handles: Vec<Option<Box<dyn FsFile>>> = (0..3).map(|_| None).collect();
    let mut expected: Vec<Option<Vec<u8>>> = vec![None; 3];
    for op in ops {
        match op {
            Op::Create(i) => {
                if let Ok(file) = fs.create_new(&paths[*i]) {
                    assert!(expected[*i].is_none(), "create_new succeeded twice");
                    expected[*i] = Some(Vec::new());
                    handles[*i] = Some(file);
                }
            }
            Op::Append(i) => {
                if let Ok(file) = fs.open_append(&paths[*i]) {
                    expected[*i].get_or_insert_with(Vec::new);
                    handles[*i] = Some(file);
                }
            }
            Op::Write(i, bytes) => {
                if let (Some(file), Some(model)) = (handles[*i].as_mut(), expected[*i].as_mut()) {
                    if let Ok(written) = file.write(bytes) {
                        model.extend_from_slice(&bytes[..written]);
                    }
                }
            }
            Op::Flush(i) => {
                if let Some(file) = handles[*i].as_mut() {
                    let _ = file.flush();
                }
            }
            Op::Sync(i) => {
                if let Some(file) = handles[*i].as_mut() {
                    let _ = file.sync_all();
                }
            }
        }
    }
    drop(handles);
    for (path, model) in paths.iter().zip(&expected) {
        match model {
            Some(bytes) => assert_eq!(&inner.read(path).unwrap(), bytes, "{}", path.display()),
            None => assert_eq!(inner.entry_kind(path).unwrap(), None),
        }
    }
}

const WRITE_KINDS: &[&str] = &["create", "open", "write", "flush", "fsync", "any"];

proptest! {
    #[test]
    fn a_successful_write_reads_back_in_memory(plan in plan(WRITE_KINDS, 1500), ops in prop::collection::vec(op(), 0..40)) {
        check_read_back(MemoryFs::new(), Path::new("/"), &plan, &ops);
    }

    #[test]
    fn quota_accounting_is_exact(
        quota in 0u64..3000,
        chunks in prop::collection::vec((0usize..3, 1usize..400), 1..20),
    ) {
        let memory = MemoryFs::new();
        let fs = FaultFs::new(memory.clone(), FaultPlan::parse(&format!("quota={quota}")).unwrap());
        let mut files: Vec<Box<dyn FsFile>> = (0..3)
            .map(|i| fs.create_new(&Path::new("/").join(format!("f{i}"))).unwrap())
            .collect();
        let mut attempted = 0u64;
        for (file, len) in chunks {
            let before = attempted;
            attempted += len as u64;
            let result = files[file].write_all(&vec![b'x'; len]);
            if attempted <= quota {
                prop_assert!(result.is_ok(), "{before}+{len} fits in {quota}");
            } else {
                let errno = result.err().and_then(|err| err.raw_os_error());
                prop_assert_eq!(errno, Some(libc::ENOSPC));
            }
        }
        let stored: u64 = (0..3)
            .map(|i| memory.read(&Path::new("/").join(format!("f{i}"))).unwrap().len() as u64)
            .sum();
        prop_assert_eq!(stored, attempted.min(quota));
        prop_assert_eq!(fs.quota_used(), stored);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn a_successful_write_reads_back_on_disk(plan in plan(WRITE_KINDS, 1500), ops in prop::collection::vec(op(), 0..40)) {
        let dir = tempfile::tempdir().unwrap();
        check_read_back(PhysicalFs::new(), dir.path(), &plan, &ops);
    }
}

/// How the staged run ends.
#[derive(Debug, Clone, Copy)]
enum Settle {
    Commit,
    KeepPartial,
}

/// What one staged run did.
struct StagedRun {
    /// The names it created.
    created: Vec<String>,
    /// Whether the output reached the state asked for.
    ok: bool,
    /// What settling reported (`None` when the stage could not even be created).
    settled: Option<Settled>,
}

/// Stages `files` like the recorder does: on a write failure it either
/// keeps a partial output or aborts the stage.
fn run_staged(
    fs: Arc<dyn FileSystem>,
    target: &Path,
    files: &[Vec<u8>],
    settle: Settle,
) -> StagedRun {
    let mut created = Vec::new();
    let mut staged = match StagedDir::create(fs, target) {
        Ok(staged) => staged,
        Err(_) => {
            return StagedRun {
                created,
                ok: false,
                settled: None,
            }
        }
    };
    let mut failure = None;
    for (i, bytes) in files.iter().enumerate() {
        let name = if i + 1 == files.len() {
            "trace_metadata.json".to_string()
        } else {
            format!("trace{i}.json")
        };
        let mut file = match staged.create_file(&name) {
            Ok(file) => file,
            Err(err) => {
                failure = Some(err);
                break;
            }
        };
        created.push(name);
        if let Err(err) = file.write_all(bytes).and_then(|()| file.finish()) {
            failure = Some(err);
            break;
        }
    }
    let split = |result: Result<Settled, SettleError>| match result {
        Ok(settled) => (true, settled),
        Err(err) => (false, err.into_parts().1),
    };
    let (ok, settled) = match (settle, failure) {
        (Settle::Commit, None) => split(staged.commit()),
        (Settle::Commit, Some(_)) => (false, staged.abort()),
        (Settle::KeepPartial, _) => split(staged.keep_partial("ERR_DISK_FULL", "random plan")),
    };
    StagedRun {
        created,
        ok,
        settled: Some(settled),
    }
}

/// Every path below `dir`, depth first.
fn walk(fs: &dyn FileSystem, dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for name in fs.read_dir(dir).unwrap_or_default() {
        let path = dir.join(name);
        found.push(path.clone());
        found.extend(walk(fs, &path));
    }
    found
}

/// Checks the three-state outcome contract of one staged run, and that what
/// settling reports as left over is exactly what is on disk besides it.
fn check_staged<F: FileSystem + Clone + 'static>(
    inner: &F,
    root: &Path,
    plan: &str,
    files: &[Vec<u8>],
    settle: Settle,
    pre_existing: bool,
) {
    let target = root.join("out");
    if pre_existing {
        inner.create_dir(&target).unwrap();
    }
    let fs = Arc::new(FaultFs::new(inner.clone(), FaultPlan::parse(plan).unwrap()));
    let run = run_staged(fs, &target, files, settle);
    let Some(settled) = &run.settled else {
        // The stage could not be created: at most the empty target stays.
        let present = walk(inner, root);
        assert!(
            present.is_empty() || (present == [target.clone()] && walk(inner, &target).is_empty()),
            "{plan}: a failed create left {present:?}"
        );
        return;
    };
    let leftovers = settled.leftovers();
    for path in leftovers {
        assert!(
            inner.entry_kind(path).unwrap().is_some(),
            "{plan}: reported leftover {} is not there",
            path.display()
        );
    }
    let reported = |path: &Path| leftovers.iter().any(|left| path.starts_with(left));
    for path in walk(inner, root) {
        if path.to_string_lossy().contains(STAGING_PREFIX) {
            assert!(
                reported(&path),
                "{plan}: unreported staging leftover {path:?}"
            );
        }
    }
    let names: Vec<String> = inner
        .read_dir(&target)
        .unwrap_or_default()
        .into_iter()
        .filter(|name| !name.starts_with(STAGING_PREFIX))
        .collect();
    if !run.ok {
        assert_eq!(settled.outcome(), Outcome::Absent, "{plan}");
        for name in &names {
            assert!(reported(&target.join(name)), "{plan}: unreported {name}");
        }
        let target_stays = inner.entry_kind(&target).unwrap().is_some();
        assert!(
            !target_stays || pre_existing || !leftovers.is_empty(),
            "{plan}: a target it created is left with nothing reported"
        );
        return;
    }
    let mut expected: Vec<String> = run.created.clone();
    if let Settle::KeepPartial = settle {
        assert_eq!(settled.outcome(), Outcome::Partial, "{plan}");
        expected.push(PARTIAL_MARKER.to_string());
    } else {
        assert_eq!(settled.outcome(), Outcome::Complete, "{plan}");
    }
    let mut names = names;
    names.sort();
    expected.sort();
    assert_eq!(names, expected, "{plan}");
    for (name, bytes) in run.created.iter().zip(files) {
        let stored = inner.read(&target.join(name)).unwrap();
        match settle {
            Settle::Commit => assert_eq!(&stored, bytes, "{plan}: {name}"),
            Settle::KeepPartial => assert!(
                bytes.starts_with(&stored),
                "{plan}: {name} is not a prefix of what was written"
            ),
        }
    }
    if let Settle::KeepPartial = settle {
        let marker: serde_json::Value =
            serde_json::from_slice(&inner.read(&target.join(PARTIAL_MARKER)).unwrap()).unwrap();
        assert_eq!(marker["partial"], true);
        assert_eq!(marker["reason"], "ERR_DISK_FULL");
    }
}

/// Faults on every kind, `remove` included: what cleanup cannot remove is reported.
const STAGED_KINDS: &[&str] = &[
    "create", "write", "flush", "fsync", "rename", "mkdir", "remove",
];

fn settle() -> impl Strategy<Value = Settle> {
    prop_oneof![Just(Settle::Commit), Just(Settle::KeepPartial)]
}

fn files() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 1..4)
}

proptest! {
    #[test]
    fn staged_output_is_complete_partial_or_absent_in_memory(
        plan in plan(STAGED_KINDS, 1200), files in files(), settle in settle(), pre_existing in any::<bool>(),
    ) {
        check_staged(&MemoryFs::new(), Path::new("/"), &plan, &files, settle, pre_existing);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn staged_output_is_complete_partial_or_absent_on_disk(
        plan in plan(STAGED_KINDS, 1200), files in files(), settle in settle(), pre_existing in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        check_staged(&PhysicalFs::new(), dir.path(), &plan, &files, settle, pre_existing);
    }
}
