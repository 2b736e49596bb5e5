//! Where the running interpreter keeps its own code, given as data, and the
//! `lib:` selector names that refer to those places.

use std::path::{Path, PathBuf};

/// A place the interpreter loads code from, named by a `lib:` selector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Library {
    /// The standard library: frozen modules (`<frozen ...>`) and files under
    /// a standard-library directory, except those under a site-packages one.
    Stdlib,
    /// Third-party packages: files under a site-packages (or dist-packages) directory.
    SitePackages,
    /// The recorder's own Python package.
    Recorder,
}

impl Library {
    /// Every library, in the order the names are listed in messages.
    pub const ALL: [Library; 3] = [Library::Stdlib, Library::SitePackages, Library::Recorder];

    /// The name used in `lib:NAME` selectors.
    pub fn name(self) -> &'static str {
        match self {
            Library::Stdlib => "stdlib",
            Library::SitePackages => "site-packages",
            Library::Recorder => "recorder",
        }
    }

    /// The library called `name`, if any.
    pub fn parse(name: &str) -> Option<Library> {
        Library::ALL.into_iter().find(|lib| lib.name() == name)
    }
}

/// The directories of the running interpreter. The tracer reads them from the
/// interpreter itself (`sysconfig`, `site`, the recorder package's location);
/// giving both the path as configured and its resolved form catches files
/// reached through symlinks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterpreterPaths {
    /// Standard-library directories (`sysconfig` `stdlib` and `platstdlib`).
    pub stdlib: Vec<PathBuf>,
    /// Third-party package directories (`purelib`, `platlib`, `site.getsitepackages()`, the user site).
    pub site_packages: Vec<PathBuf>,
    /// The directory of the `codetracer_python_recorder` package.
    pub recorder: Vec<PathBuf>,
}

impl InterpreterPaths {
    /// Whether the code file `file` (a `co_filename`) belongs to `library`.
    /// Directories contain a file when they are a whole-component prefix of it.
    pub fn contains(&self, library: Library, file: &str) -> bool {
        let path = Path::new(file);
        let under = |dirs: &[PathBuf]| dirs.iter().any(|dir| path.starts_with(dir));
        match library {
            Library::Stdlib => {
                file.starts_with("<frozen ") || (under(&self.stdlib) && !under(&self.site_packages))
            }
            Library::SitePackages => under(&self.site_packages),
            Library::Recorder => under(&self.recorder),
        }
    }

    /// Whether `file` is the interpreter's own code: the standard library or the recorder.
    pub fn is_interpreter_own(&self, file: &str) -> bool {
        self.contains(Library::Stdlib, file) || self.contains(Library::Recorder, file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths() -> InterpreterPaths {
        InterpreterPaths {
            stdlib: vec!["/usr/lib64/python3.12".into()],
            site_packages: vec!["/usr/lib64/python3.12/site-packages".into()],
            recorder: vec!["/usr/lib64/python3.12/site-packages/codetracer_python_recorder".into()],
        }
    }

    #[test]
    fn files_are_placed_by_directory_components() {
        let paths = paths();
        let json = "/usr/lib64/python3.12/json/decoder.py";
        assert!(paths.contains(Library::Stdlib, json));
        assert!(!paths.contains(Library::SitePackages, json));
        let requests = "/usr/lib64/python3.12/site-packages/requests/api.py";
        assert!(!paths.contains(Library::Stdlib, requests));
        assert!(paths.contains(Library::SitePackages, requests));
        let recorder = "/usr/lib64/python3.12/site-packages/codetracer_python_recorder/cli.py";
        assert!(paths.contains(Library::Recorder, recorder));
        assert!(paths.is_interpreter_own(recorder));
        // A sibling directory whose name merely starts with the same text is not inside.
        assert!(!paths.contains(Library::Stdlib, "/usr/lib64/python3.12x/app.py"));
        assert!(!paths.is_interpreter_own("/home/me/lib/python3.12/app.py"));
    }

    #[test]
    fn a_program_s_directories_are_not_mistaken_for_the_interpreter_s() {
        let paths = paths();
        assert!(paths.is_interpreter_own("/usr/lib64/python3.12/importlib/__init__.py"));
        for file in [
            "/home/me/importlib/app.py",
            "/home/me/src/codetracer_python_recorder/session.py",
            "/usr/lib64/python3.12/site-packages/pkg/mod.py",
            "app.py",
            "<string>",
        ] {
            assert!(!paths.is_interpreter_own(file), "{file}");
        }
    }

    #[test]
    fn frozen_modules_are_stdlib_and_names_round_trip() {
        assert!(InterpreterPaths::default().contains(Library::Stdlib, "<frozen os>"));
        assert!(!InterpreterPaths::default().contains(Library::Stdlib, "<string>"));
        for lib in Library::ALL {
            assert_eq!(Library::parse(lib.name()), Some(lib));
        }
        assert_eq!(Library::parse("std"), None);
    }
}
