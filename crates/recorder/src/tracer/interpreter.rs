//! Where the running interpreter keeps its own code, read from the
//! interpreter without importing anything: `sys` attributes and modules that
//! are already in `sys.modules`. Importing (even `sysconfig`) would go through
//! the program's `sys.path`, where a file of the program's could shadow it.
//!
//! A code file is the interpreter's own when it is frozen (`<frozen ...>`),
//! lies in the recorder's package, or lies in a standard-library directory
//! but not in a third-party package directory inside it. Directories contain
//! a file when they are a whole-component prefix of its path, so a program's
//! own `.../importlib/app.py` or `.../codetracer_python_recorder/x.py`
//! elsewhere is not mistaken for the interpreter's.

use std::path::{Path, PathBuf};

use pyo3::prelude::*;
use pyo3::types::PyList;

/// The recorder's Python package, as found in `sys.modules`.
const RECORDER_PACKAGE: &str = "codetracer_python_recorder";

/// The directories of the running interpreter, each as given and resolved
/// (symlinks followed), so files reached either way are recognised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterpreterPaths {
    /// Standard-library directories (`<base>/<lib>/pythonX.Y`, and the
    /// directory `os` was loaded from).
    pub stdlib: Vec<PathBuf>,
    /// Third-party package directories (`site-packages`/`dist-packages`):
    /// those of every prefix, the user site, and the `sys.path` entries of
    /// that name.
    pub site_packages: Vec<PathBuf>,
    /// The directory of the `codetracer_python_recorder` package.
    pub recorder: Vec<PathBuf>,
}

impl InterpreterPaths {
    /// Reads the paths from `sys` (`base_prefix`, `base_exec_prefix`,
    /// `prefix`, `exec_prefix`, `platlibdir`, `version_info`, `abiflags`,
    /// `path`) and from modules already imported (`os`, `site`, the
    /// recorder's package). Never imports a module and never runs Python code.
    pub fn read(py: Python<'_>) -> InterpreterPaths {
        let mut paths = InterpreterPaths::default();
        let Ok(sys) = py.import("sys") else {
            return paths;
        };
        let attr_path = |name: &str| -> Option<PathBuf> {
            sys.getattr(name)
                .ok()
                .and_then(|value| value.extract().ok())
        };
        let version = py.version_info();
        let free_threaded = sys
            .getattr("abiflags")
            .ok()
            .and_then(|flags| flags.extract::<String>().ok())
            .is_some_and(|flags| flags.contains('t'));
        let version_dir = format!(
            "python{}.{}{}",
            version.major,
            version.minor,
            if free_threaded { "t" } else { "" }
        );
        let mut libdirs = vec!["lib".to_string()];
        if let Some(platlibdir) = sys
            .getattr("platlibdir")
            .ok()
            .and_then(|dir| dir.extract::<String>().ok())
        {
            if !libdirs.contains(&platlibdir) {
                libdirs.push(platlibdir);
            }
        }
        let bases: Vec<PathBuf> = ["base_prefix", "base_exec_prefix"]
            .iter()
            .filter_map(|name| attr_path(name))
            .collect();
        let prefixes: Vec<PathBuf> = ["prefix", "exec_prefix", "base_prefix", "base_exec_prefix"]
            .iter()
            .filter_map(|name| attr_path(name))
            .collect();
        for base in &bases {
            for libdir in &libdirs {
                paths.add_stdlib(base.join(libdir).join(&version_dir));
            }
        }
        let modules = sys.getattr("modules").ok();
        let module = |name: &str| modules.as_ref().and_then(|m| m.get_item(name).ok());
        if let Some(os_file) = module("os")
            .and_then(|os| os.getattr("__file__").ok())
            .and_then(|file| file.extract::<PathBuf>().ok())
        {
            if let Some(dir) = os_file.parent() {
                paths.add_stdlib(dir.to_path_buf());
            }
        }
        for prefix in &prefixes {
            for libdir in &libdirs {
                for name in ["site-packages", "dist-packages"] {
                    paths.add_site(prefix.join(libdir).join(&version_dir).join(name));
                }
            }
        }
        if let Some(user_site) = module("site")
            .and_then(|site| site.getattr("USER_SITE").ok())
            .and_then(|dir| dir.extract::<PathBuf>().ok())
        {
            paths.add_site(user_site);
        }
        if let Ok(entries) = sys.getattr("path") {
            if let Ok(entries) = entries.cast::<PyList>() {
                for entry in entries.iter() {
                    let Ok(entry) = entry.extract::<PathBuf>() else {
                        continue;
                    };
                    let named = entry
                        .file_name()
                        .is_some_and(|name| name == "site-packages" || name == "dist-packages");
                    if named {
                        paths.add_site(entry);
                    }
                }
            }
        }
        if let Some(package) = module(RECORDER_PACKAGE) {
            if let Ok(dirs) = package.getattr("__path__") {
                if let Ok(iter) = dirs.try_iter() {
                    for dir in iter.flatten() {
                        if let Ok(dir) = dir.extract::<PathBuf>() {
                            push_both(&mut paths.recorder, dir);
                        }
                    }
                }
            }
        }
        paths
    }

    fn add_stdlib(&mut self, dir: PathBuf) {
        push_both(&mut self.stdlib, dir);
    }

    fn add_site(&mut self, dir: PathBuf) {
        push_both(&mut self.site_packages, dir);
    }

    /// Whether the code file `file` (a `co_filename`) is the interpreter's
    /// own: frozen, the recorder's package, or the standard library outside
    /// its third-party package directories.
    pub fn is_internal(&self, file: &Path) -> bool {
        if file.as_os_str().as_encoded_bytes().starts_with(b"<frozen ") {
            return true;
        }
        let under = |dirs: &[PathBuf]| dirs.iter().any(|dir| file.starts_with(dir));
        under(&self.recorder) || (under(&self.stdlib) && !under(&self.site_packages))
    }
}

/// Adds `dir` and, when it differs, its resolved form (no duplicates, never `/`).
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

    fn paths() -> InterpreterPaths {
        InterpreterPaths {
            stdlib: vec!["/usr/lib/python3.12".into()],
            site_packages: vec!["/usr/lib/python3.12/site-packages".into()],
            recorder: vec!["/venv/lib/python3.12/site-packages/codetracer_python_recorder".into()],
        }
    }

    #[test]
    fn the_interpreter_s_own_code_is_recognised_by_exact_directories() {
        let paths = paths();
        for file in [
            "<frozen importlib._bootstrap>",
            "/usr/lib/python3.12/asyncio/base_events.py",
            "/usr/lib/python3.12/importlib/__init__.py",
            "/venv/lib/python3.12/site-packages/codetracer_python_recorder/cli.py",
        ] {
            assert!(paths.is_internal(Path::new(file)), "{file}");
        }
    }

    #[test]
    fn a_program_s_files_are_recorded_whatever_their_directory_is_called() {
        let paths = paths();
        for file in [
            "/home/me/importlib/app.py",
            "/home/me/src/codetracer_python_recorder/session.py",
            "/usr/lib/python3.12/site-packages/pkg/mod.py",
            "/usr/lib/python3.12x/app.py",
            "/home/me/lib/python3.12/app.py",
            "app.py",
            "<string>",
        ] {
            assert!(!paths.is_internal(Path::new(file)), "{file}");
        }
    }

    #[test]
    fn resolved_forms_are_kept_next_to_the_given_ones() {
        let root = tempfile::tempdir().expect("tempdir");
        let real = root.path().join("real");
        std::fs::create_dir(&real).expect("mkdir");
        let link = root.path().join("link");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        let mut dirs = Vec::new();
        push_both(&mut dirs, link.clone());
        push_both(&mut dirs, link.clone());
        let resolved = std::fs::canonicalize(&real).expect("canonicalize");
        assert_eq!(dirs, vec![link, resolved]);
        push_both(&mut dirs, PathBuf::from("/"));
        assert_eq!(dirs.len(), 2, "the root directory is never a library");
    }
}
