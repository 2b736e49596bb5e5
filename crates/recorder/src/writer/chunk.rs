//! The one place trace bytes leave the recorder: bounded chunks handed to a
//! `faultfs` staged file, each passing the `recorder::writer` fail point.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use faultfs::StagedFile;

/// Size at which buffered event bytes are handed to the file.
pub const CHUNK_SIZE: usize = 64 * 1024;

/// A staged file that receives whole chunks.
#[derive(Debug)]
pub struct ChunkOut {
    file: StagedFile,
    path: PathBuf,
}

impl ChunkOut {
    /// Wraps a freshly created staged file.
    pub fn new(file: StagedFile) -> ChunkOut {
        let path = file.path().to_path_buf();
        ChunkOut { file, path }
    }

    /// The staged path, for error context.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one chunk through faultfs.
    pub fn hand(&mut self, chunk: &[u8]) -> io::Result<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        failpoint()?;
        self.file.write_all(chunk)
    }

    /// Flushes and fsyncs the file.
    pub fn finish(self) -> io::Result<()> {
        self.file.finish()
    }
}

/// `recorder::writer`: `return(ERRNO)` fails the hand-off, `panic` panics.
fn failpoint() -> io::Result<()> {
    faultfs::note_failpoint("recorder::writer");
    fail::fail_point!("recorder::writer", |arg: Option<String>| {
        Err(io::Error::from_raw_os_error(errno_from(arg.as_deref())))
    });
    Ok(())
}

/// The errno a `return(...)` fail-point action names (EIO when none or unknown).
#[cfg_attr(not(feature = "failure-fixtures"), allow(dead_code))]
fn errno_from(arg: Option<&str>) -> i32 {
    arg.and_then(faultfs::parse_errno).unwrap_or(libc::EIO)
}

#[cfg(test)]
mod tests {
    use super::errno_from;

    #[test]
    fn return_arguments_name_errnos() {
        assert_eq!(errno_from(None), libc::EIO);
        assert_eq!(errno_from(Some("ENOSPC")), libc::ENOSPC);
        assert_eq!(errno_from(Some("eacces")), libc::EACCES);
        assert_eq!(errno_from(Some("28")), 28);
        assert_eq!(errno_from(Some("bogus")), libc::EIO);
    }
}
