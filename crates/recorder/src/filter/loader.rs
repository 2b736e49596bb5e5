//! Finding, reading and chaining filter files, in 0.3's order: the builtin
//! default, the project's `.codetracer/trace-filter.toml` (found by walking up
//! from the program's directory), then the filters the caller names: the CLI
//! and the auto-start hook put the files of `CODETRACER_TRACE_FILTER` before
//! those of `--trace-filter` / `trace_filter=`, as 0.3 did. Every entry may
//! join several paths with `::`.
//!
//! Files are read through a [`FileSystem`] (the process's is
//! `faultfs::from_env()`), so tests and fault plans can stand in for the disk.
//!
//! A file that is missing or unreadable is a Usage error with code
//! `ERR_INVALID_TRACE_FILTER` (like a malformed one, it is the caller's
//! configuration that is wrong, and the CLI exits 2 before the program runs);
//! its context holds the `path`, the OS error's `errno` and `cause`, the code
//! the OS error alone would have (`ERR_PERMISSION_DENIED`, `ERR_IO`, ...).

use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use faultfs::FileSystem;
use recorder_errors::code_for_io;
use recorder_errors::prelude::*;
use sha2::{Digest, Sha256};

use super::model::{ExecDecision, FilterChain, FilterSource, IoConfig, ScopeRule, ValueAction};
use super::parse::{parse_filter, Setting};

/// The project filter's path below a project directory.
pub const PROJECT_FILTER: &str = ".codetracer/trace-filter.toml";

/// Where the named filters come from, for error messages.
const NAMED_SOURCES: &str = "--trace-filter, CODETRACER_TRACE_FILTER or trace_filter=";

/// The separator between paths in one filter specification.
pub const SPEC_SEPARATOR: &str = "::";

/// The builtin filter's text, always first in the chain.
pub const BUILTIN_DEFAULT: &str = include_str!("builtin_default.toml");

/// The builtin filter's path in messages and in the metadata.
pub const BUILTIN_ORIGIN: &str = "<inline:builtin-default>";

/// Loads the whole chain. `program_dir` is the traced script's directory
/// (none for runs without one), `named` the filters the caller names, in
/// order (`CODETRACER_TRACE_FILTER`'s, then `--trace-filter` /
/// `trace_filter=`); each entry may join several paths with `::`. Relative
/// paths are taken from the current directory.
pub fn load_chain(
    fs: &dyn FileSystem,
    program_dir: Option<&Path>,
    named: &[PathBuf],
) -> RecorderResult<FilterChain> {
    let mut chain = ChainBuilder::default();
    chain.push_builtin()?;
    if let Some(dir) = program_dir {
        if let Some(path) = find_project_filter(fs, dir)? {
            chain
                .push_file(fs, &path)
                .context("from", "the project filter")?;
        }
    }
    for spec in named {
        for path in split_spec(spec.as_os_str()) {
            chain.push_file(fs, &path).context("from", NAMED_SOURCES)?;
        }
    }
    chain.finish()
}

/// The paths of a `::`-joined specification; empty pieces are ignored.
pub fn split_spec(spec: &OsStr) -> Vec<PathBuf> {
    let separator = SPEC_SEPARATOR.as_bytes();
    let mut pieces = Vec::new();
    let mut rest = spec.as_bytes();
    while let Some(at) = rest.windows(separator.len()).position(|w| w == separator) {
        pieces.push(&rest[..at]);
        rest = &rest[at + separator.len()..];
    }
    pieces.push(rest);
    pieces
        .into_iter()
        .filter(|piece| !piece.is_empty())
        .map(|piece| PathBuf::from(OsStr::from_bytes(piece)))
        .collect()
}

/// The nearest `.codetracer/trace-filter.toml` in `dir` or one of its
/// ancestors. A candidate that exists but cannot be examined is an error.
pub fn find_project_filter(fs: &dyn FileSystem, dir: &Path) -> RecorderResult<Option<PathBuf>> {
    let dir = absolute(dir)?;
    for ancestor in dir.ancestors() {
        let candidate = ancestor.join(PROJECT_FILTER);
        match fs.entry_kind(&candidate) {
            Ok(Some(_)) => return Ok(Some(candidate)),
            Ok(None) => {}
            Err(err) if err.kind() == io::ErrorKind::NotADirectory => {}
            Err(err) => return Err(read_error(&candidate, err)),
        }
    }
    Ok(None)
}

/// Composes filters one by one into a [`FilterChain`].
#[derive(Debug, Default)]
pub struct ChainBuilder {
    sources: Vec<FilterSource>,
    default_exec: Option<ExecDecision>,
    default_value_action: Option<ValueAction>,
    rules: Vec<ScopeRule>,
    io: Option<IoConfig>,
}

impl ChainBuilder {
    /// Appends the builtin default filter.
    pub fn push_builtin(&mut self) -> RecorderResult<()> {
        self.push_text(BUILTIN_ORIGIN.to_owned(), BUILTIN_DEFAULT, None)
    }

    /// Reads (through `fs`) and appends the filter file at `path`.
    pub fn push_file(&mut self, fs: &dyn FileSystem, path: &Path) -> RecorderResult<()> {
        let path = absolute(path)?;
        let bytes = fs.read(&path).map_err(|err| read_error(&path, err))?;
        let origin = path.display().to_string();
        let text = String::from_utf8(bytes).map_err(|err| {
            usage!(
                ErrorCode::InvalidTraceFilter,
                "{origin}: not UTF-8 text (invalid byte at offset {})",
                err.utf8_error().valid_up_to();
                "path" = &origin
            )
        })?;
        let root = project_root(&path);
        self.push_text(origin, &text, Some(root))
    }

    /// Appends a filter whose `text` came from `origin`; `file:` selectors are
    /// relative to `project_root`.
    pub fn push_text(
        &mut self,
        origin: String,
        text: &str,
        project_root: Option<PathBuf>,
    ) -> RecorderResult<()> {
        let index = self.sources.len();
        let file = parse_filter(text, &origin, index)?;
        if let Setting::Value(exec) = file.default_exec {
            self.default_exec = Some(exec);
        }
        if let Setting::Value(action) = file.default_value_action {
            self.default_value_action = Some(action);
        }
        if file.io.is_some() {
            self.io = file.io;
        }
        self.rules.extend(file.rules);
        self.sources.push(FilterSource {
            path: origin,
            sha256: sha256_hex(text.as_bytes()),
            meta: file.meta,
            project_root,
        });
        Ok(())
    }

    /// The composed chain.
    pub fn finish(self) -> RecorderResult<FilterChain> {
        // The first filter cannot inherit, so both are set once one was pushed.
        let (Some(default_exec), Some(default_value_action)) =
            (self.default_exec, self.default_value_action)
        else {
            return Err(bug!(
                ErrorCode::Unknown,
                "a filter chain was finished without any filter"
            ));
        };
        Ok(FilterChain {
            sources: self.sources,
            default_exec,
            default_value_action,
            rules: self.rules,
            io: self.io,
        })
    }
}

/// The parent of the `.codetracer` directory holding `file`, else its directory.
fn project_root(file: &Path) -> PathBuf {
    let parent = file.parent().unwrap_or(Path::new("/"));
    parent
        .ancestors()
        .find(|dir| dir.file_name() == Some(OsStr::new(".codetracer")))
        .and_then(Path::parent)
        .unwrap_or(parent)
        .to_path_buf()
}

fn absolute(path: &Path) -> RecorderResult<PathBuf> {
    std::path::absolute(path).map_err(|err| read_error(path, err))
}

fn read_error(path: &Path, err: io::Error) -> RecorderError {
    let mut error = usage!(
        ErrorCode::InvalidTraceFilter,
        "cannot read trace filter {}: {err}",
        path.display();
        "path" = path.display(),
        "cause" = code_for_io(&err)
    );
    if let Some(errno) = err.raw_os_error() {
        error.set_context("errno", errno);
    }
    error.with_source(err)
}

fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use faultfs::MemoryFs;
    use std::io::Write;

    fn put(fs: &dyn FileSystem, path: &str, text: &[u8]) {
        let path = Path::new(path);
        let mut dirs: Vec<&Path> = path.ancestors().skip(1).collect();
        dirs.reverse();
        for dir in dirs {
            if fs.entry_kind(dir).ok().flatten().is_none() {
                fs.create_dir(dir)
                    .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            }
        }
        let mut file = fs
            .create_new(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        file.write_all(text).unwrap_or_else(|e| panic!("{e}"));
    }

    fn filter(name: &str, exec: &str, action: &str) -> String {
        format!("[meta]\nname = \"{name}\"\nversion = 1\n[scope]\ndefault_exec = \"{exec}\"\ndefault_value_action = \"{action}\"\n")
    }

    fn load(
        fs: &dyn FileSystem,
        program_dir: Option<&str>,
        named: &[&str],
    ) -> RecorderResult<FilterChain> {
        let named: Vec<PathBuf> = named.iter().map(PathBuf::from).collect();
        load_chain(fs, program_dir.map(Path::new), &named)
    }

    fn names(chain: &FilterChain) -> Vec<&str> {
        chain.sources.iter().map(|s| s.meta.name.as_str()).collect()
    }

    #[test]
    fn specs_split_on_double_colons() {
        let split = |text: &str| split_spec(OsStr::new(text));
        assert_eq!(
            split("a.toml::dir/b.toml"),
            [PathBuf::from("a.toml"), PathBuf::from("dir/b.toml")]
        );
        assert_eq!(
            split("::a::::b::"),
            [PathBuf::from("a"), PathBuf::from("b")]
        );
        assert_eq!(split("c:d.toml"), [PathBuf::from("c:d.toml")]);
        assert!(split("").is_empty());
        let raw = OsStr::from_bytes(b"\xff.toml::x");
        assert_eq!(
            split_spec(raw),
            [
                PathBuf::from(OsStr::from_bytes(b"\xff.toml")),
                PathBuf::from("x")
            ]
        );
    }

    #[test]
    fn the_nearest_project_filter_is_found_walking_up() {
        let fs = MemoryFs::new();
        put(
            &fs,
            "/p/.codetracer/trace-filter.toml",
            filter("outer", "trace", "allow").as_bytes(),
        );
        put(&fs, "/p/app/sub/main.py", b"");
        let found =
            find_project_filter(&fs, Path::new("/p/app/sub")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            found,
            Some(PathBuf::from("/p/.codetracer/trace-filter.toml"))
        );
        put(
            &fs,
            "/p/app/.codetracer/trace-filter.toml",
            filter("inner", "trace", "allow").as_bytes(),
        );
        let found =
            find_project_filter(&fs, Path::new("/p/app/sub")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            found,
            Some(PathBuf::from("/p/app/.codetracer/trace-filter.toml"))
        );
        assert_eq!(
            find_project_filter(&fs, Path::new("/q")).unwrap_or_else(|e| panic!("{e}")),
            None
        );
        put(&fs, "/r/.codetracer", b"a file, not a directory");
        assert_eq!(
            find_project_filter(&fs, Path::new("/r")).unwrap_or_else(|e| panic!("{e}")),
            None
        );
    }

    #[test]
    fn project_roots_are_above_the_codetracer_directory() {
        assert_eq!(
            project_root(Path::new("/p/.codetracer/trace-filter.toml")),
            Path::new("/p")
        );
        assert_eq!(
            project_root(Path::new("/p/.codetracer/extra/x.toml")),
            Path::new("/p")
        );
        assert_eq!(
            project_root(Path::new("/etc/filters/x.toml")),
            Path::new("/etc/filters")
        );
    }

    #[test]
    fn the_chain_is_builtin_project_then_the_named_filters() {
        let fs = MemoryFs::new();
        put(
            &fs,
            "/p/.codetracer/trace-filter.toml",
            filter("project", "skip", "allow").as_bytes(),
        );
        let env_a = "[meta]\nname = \"env-a\"\nversion = 2\n[scope]\ndefault_exec = \"inherit\"\ndefault_value_action = \"drop\"\n";
        put(&fs, "/f/env-a.toml", env_a.as_bytes());
        put(
            &fs,
            "/f/env-b.toml",
            format!(
                "{}[io]\ncapture = true\nstreams = [\"stderr\"]\n",
                filter("env-b", "inherit", "inherit")
            )
            .as_bytes(),
        );
        put(
            &fs,
            "/f/cli-1.toml",
            filter("cli-1", "inherit", "redact").as_bytes(),
        );
        put(
            &fs,
            "/f/cli-2.toml",
            filter("cli-2", "inherit", "inherit").as_bytes(),
        );
        put(
            &fs,
            "/f/cli-3.toml",
            filter("cli-3", "inherit", "inherit").as_bytes(),
        );
        let chain = load(
            &fs,
            Some("/p/app"),
            &[
                "/f/env-a.toml::/f/env-b.toml",
                "/f/cli-1.toml",
                "/f/cli-2.toml::/f/cli-3.toml",
            ],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            names(&chain),
            [
                "builtin-default",
                "project",
                "env-a",
                "env-b",
                "cli-1",
                "cli-2",
                "cli-3"
            ]
        );
        assert_eq!(chain.sources[0].path, BUILTIN_ORIGIN);
        assert_eq!(chain.sources[0].project_root, None);
        assert_eq!(chain.sources[1].path, "/p/.codetracer/trace-filter.toml");
        assert_eq!(
            chain.sources[1].project_root.as_deref(),
            Some(Path::new("/p"))
        );
        assert_eq!(
            chain.sources[2].sha256,
            "74b77c2a03e43978b3747da6f19db01e119b9f145732984e1537dcc903848d34"
        );
        assert_eq!(chain.sources[2].meta.version, 2);
        assert_eq!(
            chain.default_exec,
            ExecDecision::Skip,
            "project's, inherited since"
        );
        assert_eq!(chain.default_value_action, ValueAction::Redact, "cli-1's");
        assert_eq!(
            chain.io,
            Some(IoConfig {
                capture: true,
                streams: vec![super::super::model::IoStream::Stderr]
            })
        );
        let builtin_rules = chain.rules.iter().filter(|rule| rule.source == 0).count();
        assert_eq!(
            builtin_rules,
            chain.rules.len(),
            "the test filters have no rules"
        );
    }

    #[test]
    fn without_other_filters_the_builtin_default_applies() {
        let fs = MemoryFs::new();
        let chain = load(&fs, Some("/nowhere"), &[]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(names(&chain), ["builtin-default"]);
        assert_eq!(chain.default_exec, ExecDecision::Trace);
        assert_eq!(chain.default_value_action, ValueAction::Allow);
        assert_eq!(chain.io, None, "no filter has an [io] table");
        assert_eq!(
            chain.sources[0].sha256,
            sha256_hex(BUILTIN_DEFAULT.as_bytes())
        );
    }

    #[test]
    fn relative_paths_are_taken_from_the_current_directory() {
        let fs = MemoryFs::new();
        let cwd = std::env::current_dir().unwrap_or_else(|e| panic!("{e}"));
        let absolute = cwd.join("conf/rel.toml");
        put(
            &fs,
            &absolute.display().to_string(),
            filter("rel", "trace", "allow").as_bytes(),
        );
        let chain = load(&fs, None, &["conf/rel.toml"]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(chain.sources[1].path, absolute.display().to_string());
        assert_eq!(
            chain.sources[1].project_root.as_deref(),
            Some(cwd.join("conf").as_path())
        );
    }

    #[test]
    fn a_missing_file_names_its_path_its_source_and_the_os_error() {
        let fs = MemoryFs::new();
        let err = load(&fs, None, &["/f/missing.toml"])
            .err()
            .unwrap_or_else(|| panic!("loaded"));
        assert_eq!(err.code(), ErrorCode::InvalidTraceFilter);
        assert_eq!(err.kind(), ErrorKind::Usage);
        assert_eq!(err.context_value("path"), Some("/f/missing.toml"));
        assert_eq!(err.context_value("errno"), Some("2"));
        assert_eq!(err.context_value("cause"), Some("ERR_IO"));
        assert_eq!(err.context_value("from"), Some(NAMED_SOURCES));
        assert!(
            err.message()
                .contains("cannot read trace filter /f/missing.toml: "),
            "{err}"
        );
    }

    /// A filesystem whose reads are refused, as for a file without read permission.
    #[derive(Debug)]
    struct UnreadableFiles(MemoryFs);

    impl FileSystem for UnreadableFiles {
        fn create_dir(&self, path: &Path) -> io::Result<()> {
            self.0.create_dir(path)
        }
        fn create_new(&self, path: &Path) -> io::Result<Box<dyn faultfs::FsFile>> {
            self.0.create_new(path)
        }
        fn open_append(&self, path: &Path) -> io::Result<Box<dyn faultfs::FsFile>> {
            self.0.open_append(path)
        }
        fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
            self.0.rename(from, to)
        }
        fn remove_file(&self, path: &Path) -> io::Result<()> {
            self.0.remove_file(path)
        }
        fn remove_dir(&self, path: &Path) -> io::Result<()> {
            self.0.remove_dir(path)
        }
        fn sync_dir(&self, path: &Path) -> io::Result<()> {
            self.0.sync_dir(path)
        }
        fn entry_kind(&self, path: &Path) -> io::Result<Option<faultfs::EntryKind>> {
            self.0.entry_kind(path)
        }
        fn read_dir(&self, path: &Path) -> io::Result<Vec<String>> {
            self.0.read_dir(path)
        }
        fn read(&self, _: &Path) -> io::Result<Vec<u8>> {
            Err(io::Error::from_raw_os_error(libc::EACCES))
        }
    }

    #[test]
    fn an_unreadable_project_filter_is_a_usage_error_with_the_permission_cause() {
        let fs = UnreadableFiles(MemoryFs::new());
        put(
            &fs,
            "/p/.codetracer/trace-filter.toml",
            filter("project", "trace", "allow").as_bytes(),
        );
        let err = load(&fs, Some("/p"), &[])
            .err()
            .unwrap_or_else(|| panic!("loaded"));
        assert_eq!(err.code(), ErrorCode::InvalidTraceFilter);
        assert_eq!(err.exit_code(), 2);
        assert_eq!(
            err.context_value("path"),
            Some("/p/.codetracer/trace-filter.toml")
        );
        assert_eq!(err.context_value("cause"), Some("ERR_PERMISSION_DENIED"));
        assert_eq!(err.context_value("errno"), Some("13"));
        assert_eq!(err.context_value("from"), Some("the project filter"));
        assert!(err.message().contains("Permission denied"), "{err}");
    }

    #[test]
    fn malformed_and_binary_files_name_the_file() {
        let fs = MemoryFs::new();
        put(
            &fs,
            "/f/bad.toml",
            format!(
                "{}[[scope.rules]]\nselector = \"pkgs:a\"\n",
                filter("bad", "trace", "allow")
            )
            .as_bytes(),
        );
        let err = load(&fs, None, &["/f/bad.toml"])
            .err()
            .unwrap_or_else(|| panic!("loaded"));
        assert_eq!(err.context_value("path"), Some("/f/bad.toml"));
        assert_eq!(err.context_value("line"), Some("8"));
        assert_eq!(err.context_value("key"), Some("scope.rules[0].selector"));
        assert_eq!(err.context_value("from"), Some(NAMED_SOURCES));
        put(&fs, "/f/binary.toml", b"[meta]\nname = \"\xff\"\n");
        let err = load(&fs, None, &["/f/binary.toml"])
            .err()
            .unwrap_or_else(|| panic!("loaded"));
        assert_eq!(err.code(), ErrorCode::InvalidTraceFilter);
        assert!(
            err.message()
                .contains("/f/binary.toml: not UTF-8 text (invalid byte at offset 15)"),
            "{err}"
        );
    }

    #[test]
    fn a_chain_without_filters_is_a_bug_not_a_panic() {
        let err = ChainBuilder::default()
            .finish()
            .err()
            .unwrap_or_else(|| panic!("finished"));
        assert_eq!(err.kind(), ErrorKind::Internal);
    }
}
