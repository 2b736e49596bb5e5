//! What settling reports is what is on disk: a failed cleanup lists what it
//! left, a staging directory that cannot be removed after a complete commit
//! never rolls the trace back, and directories are removed only while they
//! are still the ones the stage created.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use faultfs::{FaultFs, FaultPlan, FileSystem, MemoryFs, Outcome, PhysicalFs, StagedDir};

const FILES: [&str; 3] = ["trace.json", "trace_paths.json", "trace_metadata.json"];

fn stage(fs: Arc<dyn FileSystem>, target: &Path) -> StagedDir {
    let mut staged = StagedDir::create(fs, target).unwrap();
    for name in FILES {
        let mut file = staged.create_file(name).unwrap();
        file.write_all(name.as_bytes()).unwrap();
        file.finish().unwrap();
    }
    staged
}

fn faulty(plan: &str) -> (MemoryFs, Arc<dyn FileSystem>) {
    let memory = MemoryFs::new();
    let fs = FaultFs::new(memory.clone(), FaultPlan::parse(plan).unwrap());
    (memory, Arc::new(fs))
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

#[test]
fn one_failed_staging_removal_after_commit_is_retried_and_the_trace_stays() {
    let (memory, fs) = faulty("fail=remove#1:EIO");
    let settled = stage(fs, Path::new("/out")).commit().unwrap();
    assert_eq!(settled.describe(), "complete");
    assert!(settled.leftovers().is_empty(), "{settled:?}");
    assert_eq!(memory.read_dir(Path::new("/out")).unwrap(), {
        let mut names = FILES.map(String::from).to_vec();
        names.sort();
        names
    });
}

#[test]
fn a_staging_directory_that_cannot_be_removed_after_commit_is_a_reported_leftover() {
    let (memory, fs) = faulty("deny=remove:**");
    let staged = stage(fs, Path::new("/out"));
    let staging = staged.staging().to_path_buf();
    let settled = staged.commit().unwrap();
    assert_eq!(
        settled.outcome(),
        Outcome::Complete,
        "the trace is not rolled back"
    );
    assert_eq!(settled.leftovers(), std::slice::from_ref(&staging));
    assert_eq!(
        settled.cleanup_error().and_then(|err| err.raw_os_error()),
        Some(libc::EACCES)
    );
    for name in FILES {
        assert_eq!(
            memory.read(&Path::new("/out").join(name)).unwrap(),
            name.as_bytes()
        );
    }
    assert_eq!(memory.read_dir(&staging).unwrap(), Vec::<String>::new());
}

#[test]
fn a_rollback_that_cannot_remove_reports_exactly_what_it_left() {
    let (memory, fs) = faulty("fail=rename#3:EIO;deny=remove:**");
    let err = stage(fs, Path::new("/out")).commit().unwrap_err();
    assert_eq!(err.error().raw_os_error(), Some(libc::EIO));
    let settled = err.settled();
    assert_eq!(settled.outcome(), Outcome::Absent);
    assert_eq!(settled.describe(), "partial-leftovers");
    assert_eq!(
        settled.cleanup_error().and_then(|err| err.raw_os_error()),
        Some(libc::EACCES)
    );
    let mut reported = settled.leftovers().to_vec();
    reported.sort();
    let mut on_disk = walk(&memory, Path::new("/"));
    on_disk.sort();
    assert_eq!(
        reported, on_disk,
        "every reported path is there, and nothing else"
    );
    assert!(on_disk.contains(&PathBuf::from("/out/trace.json")));
    assert!(
        err.to_string().contains("output partial-leftovers"),
        "{err}"
    );
}

#[test]
fn a_created_directory_replaced_by_another_is_left_alone() {
    let base = tempfile::tempdir().unwrap();
    let target = base.path().join("runs/today");
    let fs: Arc<dyn FileSystem> = Arc::new(PhysicalFs::new());
    let staged = stage(Arc::clone(&fs), &target);
    // The program moves the recorder's directories away and makes its own.
    std::fs::rename(base.path().join("runs"), base.path().join("moved")).unwrap();
    std::fs::create_dir_all(&target).unwrap();
    let settled = staged.abort();
    assert!(settled.leftovers().is_empty(), "{settled:?}");
    assert!(target.is_dir(), "the program's directory was not removed");
    assert!(base.path().join("runs").is_dir());
}
