//! Paths between the two worlds: `vfs` paths are strings, absolute, `/`
//! separated, with `""` for the root; faultfs paths are `std::path::Path`s.

use std::io;
use std::path::{Component, Path, PathBuf};

use crate::errno::os_error;

/// The faultfs path of a `vfs` path: `""` is `/`, `"/a/b"` is `/a/b`
/// (a path without the leading `/` is taken from the root too).
pub(super) fn native_path(vfs_path: &str) -> PathBuf {
    Path::new("/").join(vfs_path)
}

/// The `vfs` path of a faultfs path, resolved lexically from the root (`.`
/// dropped, `..` removes the previous name; a `vfs` filesystem has no
/// symlinks to resolve). `EINVAL` for a name that is not UTF-8.
pub(super) fn vfs_path(path: &Path) -> io::Result<String> {
    let mut names: Vec<&str> = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(name) => {
                names.push(name.to_str().ok_or_else(|| os_error(libc::EINVAL))?);
            }
            Component::ParentDir => {
                names.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    Ok(names.iter().map(|name| format!("/{name}")).collect())
}

/// Every proper ancestor of `vfs_path` below the root, outermost first
/// (`"/a/b/c"` gives `"/a"`, `"/a/b"`).
pub(super) fn ancestors(vfs_path: &str) -> impl Iterator<Item = &str> {
    vfs_path
        .match_indices('/')
        .map(|(at, _)| &vfs_path[..at])
        .filter(|ancestor| !ancestor.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn vfs_paths_map_to_absolute_native_paths() {
        assert_eq!(native_path(""), Path::new("/"));
        assert_eq!(native_path("/a/b"), Path::new("/a/b"));
        assert_eq!(native_path("a"), Path::new("/a"));
    }

    #[test]
    fn native_paths_resolve_lexically_from_the_root() {
        assert_eq!(vfs_path(Path::new("/")).unwrap(), "");
        assert_eq!(vfs_path(Path::new("/a/./b/")).unwrap(), "/a/b");
        assert_eq!(vfs_path(Path::new("a/b/../c")).unwrap(), "/a/c");
        assert_eq!(vfs_path(Path::new("/../x")).unwrap(), "/x");
        let bad = Path::new(OsStr::from_bytes(b"/a/\xff"));
        assert_eq!(
            vfs_path(bad).unwrap_err().raw_os_error(),
            Some(libc::EINVAL)
        );
    }

    #[test]
    fn ancestors_below_the_root() {
        assert_eq!(ancestors("/a/b/c").collect::<Vec<_>>(), vec!["/a", "/a/b"]);
        assert_eq!(ancestors("/a").count(), 0);
        assert_eq!(ancestors("").count(), 0);
    }
}
