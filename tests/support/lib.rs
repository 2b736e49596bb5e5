//! Helpers shared by the cross-crate integration tests in `tests/`.

use std::path::{Path, PathBuf};

/// The repository root (this package's manifest directory).
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A path inside the repository.
pub fn repo_path(relative: &str) -> PathBuf {
    repo_root().join(relative)
}
