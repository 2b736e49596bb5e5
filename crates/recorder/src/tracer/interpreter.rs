//! The running interpreter's own directories, for the filter layer's `lib:`
//! selectors, read without importing anything: `sys` attributes and modules
//! already in `sys.modules`. An import (even of `sysconfig`) would search the
//! program's `sys.path`, where a file of the program's could stand in for it.
//!
//! Each directory is kept as given and resolved (symlinks followed), so a
//! file reached either way is placed.

use std::path::{Path, PathBuf};

use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::filter::location::InterpreterPaths;

/// The recorder's Python package, as `sys.modules` names it.
const RECORDER_PACKAGE: &str = "codetracer_python_recorder";

/// Names of third-party package directories (Debian uses `dist-packages`).
const PACKAGE_DIRS: [&str; 2] = ["site-packages", "dist-packages"];

/// Reads the interpreter's directories:
/// - standard library: `<base_prefix>/<lib>/pythonX.Y` for `lib` and
///   `sys.platlibdir` (the `stdlib` and `platstdlib` of `sysconfig`), and the
///   directory `os` was loaded from;
/// - third-party packages: `<prefix>/<lib>/pythonX.Y/{site,dist}-packages` for
///   every prefix (`purelib`/`platlib` of the venv and of the base
///   interpreter), Debian's `<prefix>/lib/python3/dist-packages`, the user
///   site (`site.USER_SITE` when `site` is imported) and every `sys.path`
///   entry of that name;
/// - the recorder: the `codetracer_python_recorder` package's `__path__`.
///
/// Never imports a module or calls Python code; what cannot be read is left out.
pub fn read(py: Python<'_>) -> InterpreterPaths {
    let mut paths = InterpreterPaths::default();
    let Ok(sys) = py.import("sys") else {
        return paths;
    };
    let text = |name: &str| -> Option<String> { sys.getattr(name).ok()?.extract().ok() };
    let path = |name: &str| -> Option<PathBuf> { sys.getattr(name).ok()?.extract().ok() };
    let version = py.version_info();
    let free_threaded = text("abiflags").is_some_and(|flags| flags.contains('t'));
    let version_dir = format!(
        "python{}.{}{}",
        version.major,
        version.minor,
        if free_threaded { "t" } else { "" }
    );
    let mut libdirs = vec!["lib".to_string()];
    if let Some(platlibdir) = text("platlibdir") {
        if !libdirs.contains(&platlibdir) {
            libdirs.push(platlibdir);
        }
    }
    let bases: Vec<PathBuf> = ["base_prefix", "base_exec_prefix"]
        .into_iter()
        .filter_map(path)
        .collect();
    let prefixes: Vec<PathBuf> = ["prefix", "exec_prefix", "base_prefix", "base_exec_prefix"]
        .into_iter()
        .filter_map(path)
        .collect();
    for base in &bases {
        for libdir in &libdirs {
            push_both(&mut paths.stdlib, base.join(libdir).join(&version_dir));
        }
    }
    for prefix in &prefixes {
        for libdir in &libdirs {
            for name in PACKAGE_DIRS {
                push_both(
                    &mut paths.site_packages,
                    prefix.join(libdir).join(&version_dir).join(name),
                );
            }
        }
        push_both(
            &mut paths.site_packages,
            prefix.join("lib").join("python3").join("dist-packages"),
        );
    }
    let modules = sys.getattr("modules").ok();
    let module = |name: &str| modules.as_ref()?.get_item(name).ok();
    let module_path = |name: &str, attr: &str| -> Option<PathBuf> {
        module(name)?.getattr(attr).ok()?.extract().ok()
    };
    if let Some(dir) = module_path("os", "__file__")
        .as_deref()
        .and_then(Path::parent)
    {
        push_both(&mut paths.stdlib, dir.to_path_buf());
    }
    if let Some(user_site) = module_path("site", "USER_SITE") {
        push_both(&mut paths.site_packages, user_site);
    }
    if let Ok(entries) = sys.getattr("path") {
        if let Ok(entries) = entries.cast::<PyList>() {
            for entry in entries.iter() {
                let Ok(entry) = entry.extract::<PathBuf>() else {
                    continue;
                };
                if entry
                    .file_name()
                    .is_some_and(|name| PACKAGE_DIRS.iter().any(|dir| name == *dir))
                {
                    push_both(&mut paths.site_packages, entry);
                }
            }
        }
    }
    if let Some(dirs) =
        module(RECORDER_PACKAGE).and_then(|package| package.getattr("__path__").ok())
    {
        if let Ok(dirs) = dirs.try_iter() {
            for dir in dirs.flatten() {
                if let Ok(dir) = dir.extract::<PathBuf>() {
                    push_both(&mut paths.recorder, dir);
                }
            }
        }
    }
    paths
}

/// Adds `dir` and, when it differs, its resolved form (no duplicates; never
/// the root directory, which would contain everything).
fn push_both(dirs: &mut Vec<PathBuf>, dir: PathBuf) {
    let resolved = std::fs::canonicalize(&dir).ok();
    for dir in std::iter::once(dir).chain(resolved) {
        if dir.parent().is_some() && !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolved_forms_are_kept_next_to_the_given_ones() {
        let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let real = root.path().join("real");
        std::fs::create_dir(&real).unwrap_or_else(|e| panic!("{e}"));
        let link = root.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap_or_else(|e| panic!("{e}"));
        let mut dirs = Vec::new();
        push_both(&mut dirs, link.clone());
        push_both(&mut dirs, link.clone());
        let resolved = std::fs::canonicalize(&real).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(dirs, vec![link, resolved]);
        push_both(&mut dirs, PathBuf::from("/"));
        assert_eq!(dirs.len(), 2, "the root directory is never a library");
    }
}
