//! A relative target is resolved once, when the stage is created: a later
//! `chdir` of the process moves nothing and removes nothing elsewhere. This
//! file holds one test because the working directory is process-wide.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use faultfs::{FileSystem, PhysicalFs, StagedDir};

fn tree(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in walk(root) {
        found.push(entry.strip_prefix(root).unwrap().display().to_string());
    }
    found.sort();
    found
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        found.push(path.clone());
        if path.is_dir() {
            found.extend(walk(&path));
        }
    }
    found
}

#[test]
fn a_relative_target_survives_chdir_and_cleanup_never_touches_the_new_cwd() {
    let base = tempfile::tempdir().unwrap();
    let (start, other) = (base.path().join("start"), base.path().join("other"));
    std::fs::create_dir(&start).unwrap();
    // The program's own empty tree at the same relative path, elsewhere.
    std::fs::create_dir_all(other.join("x/y/z")).unwrap();
    let fs: Arc<dyn FileSystem> = Arc::new(PhysicalFs::new());

    std::env::set_current_dir(&start).unwrap();
    let mut committed = StagedDir::create(Arc::clone(&fs), Path::new("x/y/z")).unwrap();
    let aborted = StagedDir::create(Arc::clone(&fs), Path::new("x/y/w")).unwrap();
    let dropped = StagedDir::create(Arc::clone(&fs), Path::new("x/y/v")).unwrap();
    assert_eq!(committed.target(), start.join("x/y/z"));
    std::env::set_current_dir(&other).unwrap();

    let mut file = committed.create_file("trace.json").unwrap();
    file.write_all(b"[]").unwrap();
    file.finish().unwrap();
    let settled = committed.commit().unwrap();
    assert!(settled.leftovers().is_empty(), "{settled:?}");
    assert!(aborted.abort().leftovers().is_empty());
    drop(dropped);

    assert_eq!(
        std::fs::read(start.join("x/y/z/trace.json")).unwrap(),
        b"[]",
        "the trace is where the relative path pointed at start"
    );
    assert_eq!(tree(&start), ["x", "x/y", "x/y/z", "x/y/z/trace.json"]);
    assert_eq!(
        tree(&other),
        ["x", "x/y", "x/y/z"],
        "the program's tree in its new working directory is untouched"
    );
    std::env::set_current_dir(base.path()).unwrap();
}
