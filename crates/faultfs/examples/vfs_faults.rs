//! Fault plans for code written against the `vfs` crate (feature `vfs`):
//! `FaultFs` is a `vfs::FileSystem`, and any `vfs::FileSystem` can be the
//! filesystem inside a `FaultFs`. Run with
//! `cargo run -p faultfs --features vfs --example vfs_faults`.

use std::io::Write;

use faultfs::{FaultFs, FaultPlan, MemoryFs, VfsBacked};
use vfs::error::VfsErrorKind;
use vfs::{VfsError, VfsPath};

/// The errno a `vfs` error carries, if any.
fn errno(err: &VfsError) -> Option<i32> {
    match err.kind() {
        VfsErrorKind::IoError(cause) => cause.raw_os_error(),
        _ => None,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `vfs` code over a FaultFs: 8 bytes of disk, and the 2nd create fails.
    let plan = FaultPlan::parse("quota=8;fail=create#2:EIO")?;
    let root = VfsPath::new(FaultFs::new(MemoryFs::new(), plan));
    let log = root.join("log.txt")?;
    let full = log.create_file()?.write_all(b"0123456789").unwrap_err();
    assert_eq!(full.raw_os_error(), Some(libc::ENOSPC));
    assert_eq!(log.read_to_string()?, "01234567");
    let failed = root.join("other.txt")?.create_file().err();
    assert_eq!(failed.as_ref().and_then(errno), Some(libc::EIO));

    // Any `vfs::FileSystem` (here vfs's own MemoryFS) inside a FaultFs.
    let plan = FaultPlan::parse("deny=mkdir:/locked/**:EPERM")?;
    let root = VfsPath::new(FaultFs::new(VfsBacked::new(vfs::MemoryFS::new()), plan));
    root.join("locked")?.create_dir()?;
    let denied = root.join("locked/inner")?.create_dir().unwrap_err();
    assert_eq!(errno(&denied), Some(libc::EPERM));
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_readme_example_runs() {
        super::main().unwrap();
    }

    #[test]
    fn the_readme_shows_this_example() {
        let source = include_str!("vfs_faults.rs");
        let start = source.find("use std::io::Write;").unwrap();
        let end = source.find("#[cfg(test)]").unwrap();
        let readme = include_str!("../README.md");
        assert!(readme.contains(source[start..end].trim_end()));
    }
}
