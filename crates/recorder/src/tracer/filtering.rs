//! Per-code-object decisions and ids, computed once per code object: whether it
//! is traced at all (the recorder's own package, frozen code, the import
//! machinery and the standard library are not), its parameters, and lazily
//! its path/function/variable ids.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};

use pyo3::prelude::*;
use pyo3::types::PyTuple;
use recorder_errors::prelude::*;
use runtime_tracing::{FunctionId, Line, PathId, VariableId};

use crate::writer::TraceWriter;

/// `co_flags` bits.
const CO_OPTIMIZED: u32 = 0x01;
const CO_VARARGS: u32 = 0x04;
const CO_VARKEYWORDS: u32 = 0x08;

/// How a parameter is passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// Positional-only or positional-or-keyword.
    Positional,
    /// Keyword-only.
    KeywordOnly,
    /// `*args`.
    VarArgs,
    /// `**kwargs`.
    VarKeywords,
}

/// One parameter of a code object.
#[derive(Debug)]
pub struct Param {
    /// The name object (a key of the frame's locals).
    pub name: Py<PyAny>,
    /// How it is passed.
    pub kind: ParamKind,
    /// Its variable id, once interned.
    pub var: Option<VariableId>,
}

/// What the recorder knows about one code object.
#[derive(Debug)]
pub struct CodeInfo {
    /// Keeps the code object alive so its address is not reused while cached.
    _code: Py<PyAny>,
    /// `co_filename`.
    pub filename: String,
    /// `co_qualname`.
    pub qualname: String,
    /// `co_firstlineno`.
    pub first_line: i64,
    /// Not recorded (its events return `DISABLE` where allowed).
    pub skip: bool,
    /// A function body with fast locals (module and class bodies are not).
    pub optimized: bool,
    /// Parameters in declaration order.
    pub params: Vec<Param>,
    /// Local variable names (`co_varnames`, `co_cellvars`, `co_freevars`) with their ids.
    pub locals: Vec<(Py<PyAny>, Option<VariableId>)>,
    /// Path and function ids, once interned.
    pub ids: Option<(PathId, FunctionId, Line)>,
    /// Whether this code lives in the activation file (computed while inactive).
    pub activates: Option<bool>,
}

impl CodeInfo {
    /// The path id, function id and definition line, interning them on first use.
    pub fn ids(&mut self, writer: &mut TraceWriter) -> RecorderResult<(PathId, FunctionId, Line)> {
        if let Some(ids) = self.ids {
            return Ok(ids);
        }
        let path_id = writer.ensure_path(&self.filename)?;
        let function_id = writer.ensure_function(&self.qualname, path_id, self.first_line)?;
        let ids = (path_id, function_id, Line(self.first_line));
        self.ids = Some(ids);
        Ok(ids)
    }
}

/// A fast hasher for pointer keys.
#[derive(Default)]
pub struct PtrHasher(u64);

impl Hasher for PtrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 << 8 | u64::from(*byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_usize(&mut self, value: usize) {
        self.0 = (value as u64 >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Code objects by address.
pub type CodeMap = HashMap<usize, Box<CodeInfo>, BuildHasherDefault<PtrHasher>>;

/// The per-code-object cache.
#[derive(Debug, Default)]
pub struct CodeCache {
    map: CodeMap,
    /// Standard-library directories (with a trailing `/`).
    stdlib: Vec<String>,
}

impl CodeCache {
    /// A cache that also skips code under the interpreter's standard-library directories.
    pub fn new(py: Python<'_>) -> CodeCache {
        CodeCache {
            map: CodeMap::default(),
            stdlib: stdlib_dirs(py),
        }
    }

    /// The entry of `code`, reading the code object the first time.
    pub fn get(&mut self, code: &Bound<'_, PyAny>) -> RecorderResult<&mut CodeInfo> {
        let key = code.as_ptr() as usize;
        if !self.map.contains_key(&key) {
            let info = read_code(code, &self.stdlib)?;
            self.map.insert(key, Box::new(info));
        }
        self.map
            .get_mut(&key)
            .map(|info| &mut **info)
            .ok_or_else(|| bug!(ErrorCode::Unknown, "code cache entry vanished"))
    }
}

/// Whether a file belongs to code the recorder never traces: frozen modules,
/// the recorder's own package, the import machinery, and the standard library
/// (`stdlib` directories) except third-party packages installed inside it.
pub fn is_internal(filename: &str, stdlib: &[String]) -> bool {
    filename.starts_with("<frozen ")
        || filename.contains("/codetracer_python_recorder/")
        || filename.contains("/importlib/")
        || (stdlib.iter().any(|dir| filename.starts_with(dir.as_str()))
            && !filename.contains("/site-packages/")
            && !filename.contains("/dist-packages/"))
}

/// `sysconfig`'s `stdlib` and `platstdlib` directories, as given and resolved.
fn stdlib_dirs(py: Python<'_>) -> Vec<String> {
    let mut dirs = Vec::new();
    for key in ["stdlib", "platstdlib"] {
        let dir: Option<String> = py
            .import("sysconfig")
            .and_then(|sysconfig| sysconfig.call_method1("get_path", (key,)))
            .and_then(|dir| dir.extract())
            .ok();
        let Some(dir) = dir else { continue };
        let resolved = std::fs::canonicalize(&dir)
            .ok()
            .and_then(|path| path.to_str().map(str::to_string));
        for dir in std::iter::once(dir).chain(resolved) {
            let dir = format!("{}/", dir.trim_end_matches('/'));
            if dir.len() > 1 && !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
    }
    dirs
}

fn read_code(code: &Bound<'_, PyAny>, stdlib: &[String]) -> RecorderResult<CodeInfo> {
    let attr = |name: &str| {
        code.getattr(name).map_err(|err| {
            target!(ErrorCode::FrameIntrospectionFailed, "cannot read {name} of a code object: {err}"; "attribute" = name)
        })
    };
    let extract_err = |name: &str, err: PyErr| target!(ErrorCode::FrameIntrospectionFailed, "unexpected {name} on a code object: {err}"; "attribute" = name);
    let filename: String = attr("co_filename")?
        .extract()
        .map_err(|e| extract_err("co_filename", e))?;
    let qualname: String = attr("co_qualname")?
        .extract()
        .map_err(|e| extract_err("co_qualname", e))?;
    let first_line: i64 = attr("co_firstlineno")?
        .extract()
        .map_err(|e| extract_err("co_firstlineno", e))?;
    let skip = is_internal(&filename, stdlib);
    let mut info = CodeInfo {
        _code: code.clone().unbind(),
        filename,
        qualname,
        first_line,
        skip,
        optimized: false,
        params: Vec::new(),
        locals: Vec::new(),
        ids: None,
        activates: None,
    };
    if skip {
        return Ok(info);
    }
    let flags: u32 = attr("co_flags")?
        .extract()
        .map_err(|e| extract_err("co_flags", e))?;
    let argcount: usize = attr("co_argcount")?
        .extract()
        .map_err(|e| extract_err("co_argcount", e))?;
    let kwonly: usize = attr("co_kwonlyargcount")?
        .extract()
        .map_err(|e| extract_err("co_kwonlyargcount", e))?;
    let varnames = attr("co_varnames")?;
    let varnames = varnames
        .cast::<PyTuple>()
        .map_err(|e| extract_err("co_varnames", e.into()))?;
    info.optimized = flags & CO_OPTIMIZED != 0;
    let mut kinds = Vec::new();
    kinds.extend(std::iter::repeat_n(ParamKind::Positional, argcount));
    kinds.extend(std::iter::repeat_n(ParamKind::KeywordOnly, kwonly));
    if flags & CO_VARARGS != 0 {
        kinds.push(ParamKind::VarArgs);
    }
    if flags & CO_VARKEYWORDS != 0 {
        kinds.push(ParamKind::VarKeywords);
    }
    for (index, kind) in kinds.into_iter().enumerate() {
        let name = varnames
            .get_item(index)
            .map_err(|e| extract_err("co_varnames", e))?;
        info.params.push(Param {
            name: name.unbind(),
            kind,
            var: None,
        });
    }
    for names in ["co_varnames", "co_cellvars", "co_freevars"] {
        let names = attr(names)?;
        for name in names
            .try_iter()
            .map_err(|e| extract_err("co_varnames", e))?
        {
            let name = name.map_err(|e| extract_err("co_varnames", e))?;
            info.locals.push((name.unbind(), None));
        }
    }
    Ok(info)
}

/// Recording postponed until code from one file starts.
#[derive(Debug)]
pub struct Activation {
    path: Option<(String, Option<PathBuf>)>,
    active: bool,
}

impl Activation {
    /// Active at once without a path; else when code from `path` starts.
    pub fn new(path: Option<&str>) -> Activation {
        Activation {
            path: path.map(|path| (path.to_string(), std::fs::canonicalize(path).ok())),
            active: path.is_none(),
        }
    }

    /// Whether recording is on (no activation path, or its code started).
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// Starts recording when `info` belongs to the activation file; returns whether recording is on.
    pub fn check(&mut self, info: &mut CodeInfo) -> bool {
        if self.active {
            return true;
        }
        let Some((raw, canonical)) = &self.path else {
            self.active = true;
            return true;
        };
        let matches = *info.activates.get_or_insert_with(|| {
            info.filename == *raw
                || canonical.as_deref().is_some_and(|canonical| {
                    std::fs::canonicalize(Path::new(&info.filename))
                        .is_ok_and(|file| file == canonical)
                })
        });
        self.active = matches;
        matches
    }
}

#[cfg(test)]
mod tests {
    use super::is_internal;

    #[test]
    fn internal_code_is_recognised_by_its_file() {
        let stdlib = vec!["/usr/lib/python3.12/".to_string()];
        assert!(is_internal("<frozen importlib._bootstrap>", &stdlib));
        assert!(is_internal(
            "/x/python/codetracer_python_recorder/session.py",
            &stdlib
        ));
        assert!(is_internal(
            "/usr/lib/python3.12/asyncio/base_events.py",
            &stdlib
        ));
        assert!(!is_internal(
            "/usr/lib/python3.12/site-packages/pkg/mod.py",
            &stdlib
        ));
        assert!(!is_internal("/home/me/app.py", &stdlib));
        assert!(!is_internal("<string>", &stdlib));
    }
}
