//! Per-code-object decisions and ids, computed once per code object: the trace
//! filter's decision (skip, or trace with a value policy), the action of each
//! parameter and local slot, the name the code is recorded under, and lazily
//! its path/function/variable ids. Entries live in a bounded cache, so code
//! generated without end (`exec`, `eval`) cannot grow it without bound.

use std::ffi::CStr;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use recorder_errors::prelude::*;
use runtime_tracing::{FunctionId, Line, PathId, VariableId};

use crate::filter::cache::ScopeCache;
use crate::filter::engine::{FilterEngine, ScopeResolution};
use crate::filter::model::{ValueAction, ValueKind};
use crate::filter::scope::ScopeContext;
use crate::filter::summary::FilterStats;
use crate::filter::value_policy::ValuePolicy;
use crate::writer::TraceWriter;

/// `co_flags` bits.
const CO_OPTIMIZED: u32 = 0x01;
const CO_VARARGS: u32 = 0x04;
const CO_VARKEYWORDS: u32 = 0x08;

/// Code objects kept at most; the least recently used are forgotten first
/// (a forgotten one is resolved again, with the same result, if it runs again).
pub const CODE_CACHE_CAPACITY: usize = 8192;

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
    /// What the filter does with its value.
    pub action: ValueAction,
    /// Its variable id, once interned.
    pub var: Option<VariableId>,
}

/// One local variable slot of a code object.
#[derive(Debug)]
pub struct LocalSlot {
    /// The name object (a key of the frame's locals).
    pub name: Py<PyAny>,
    /// What the filter does with its value.
    pub action: ValueAction,
    /// Its variable id, once interned.
    pub var: Option<VariableId>,
}

/// The filter's decision for one code object.
#[derive(Debug, Clone)]
pub enum Scope {
    /// Not recorded: its local events return `DISABLE`.
    Skip,
    /// Recorded, values as the policy says.
    Trace(Arc<ValuePolicy>),
}

/// What the recorder knows about one code object.
#[derive(Debug)]
pub struct CodeInfo {
    /// Keeps the code object alive so its address is not reused while cached.
    _code: Py<PyAny>,
    /// `co_filename`, exactly (bytes as the file system has them).
    pub path: PathBuf,
    /// The name the code is recorded under: `co_qualname`, or `<module.name>`
    /// for a module body (see [`module_body_name`]).
    pub qualname: String,
    /// `co_firstlineno`.
    pub first_line: i64,
    /// The filter's decision.
    pub scope: Scope,
    /// A function body with fast locals (module and class bodies are not).
    pub optimized: bool,
    /// Parameters in declaration order.
    pub params: Vec<Param>,
    /// Local variable slots (`co_varnames`, `co_cellvars`, `co_freevars`).
    pub locals: Vec<LocalSlot>,
    /// Path and function ids, once interned.
    pub ids: Option<(PathId, FunctionId, Line)>,
    /// Whether this code lives in the activation file (computed while inactive).
    pub activates: Option<bool>,
}

impl CodeInfo {
    /// Whether the filter skips this code.
    pub fn skip(&self) -> bool {
        matches!(self.scope, Scope::Skip)
    }

    /// The value policy of traced code.
    pub fn policy(&self) -> Option<&Arc<ValuePolicy>> {
        match &self.scope {
            Scope::Trace(policy) => Some(policy),
            Scope::Skip => None,
        }
    }

    /// The path id, function id and definition line, interning them on first use.
    pub fn ids(&mut self, writer: &mut TraceWriter) -> RecorderResult<(PathId, FunctionId, Line)> {
        if let Some(ids) = self.ids {
            return Ok(ids);
        }
        let path_id = writer.ensure_os_path(&self.path)?;
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

/// The per-code-object cache and the filter it resolves code with.
#[derive(Debug)]
pub struct CodeCache {
    map: ScopeCache<Box<CodeInfo>, BuildHasherDefault<PtrHasher>>,
    engine: FilterEngine,
    /// Name module code after its globals' `__name__` (policy `module_name_from_globals`).
    module_name_from_globals: bool,
}

impl CodeCache {
    /// A cache deciding with `engine`.
    pub fn new(engine: FilterEngine, module_name_from_globals: bool) -> CodeCache {
        CodeCache {
            map: ScopeCache::new(CODE_CACHE_CAPACITY),
            engine,
            module_name_from_globals,
        }
    }

    /// The filter engine (its chain is the metadata's `trace_filter`).
    pub fn engine(&self) -> &FilterEngine {
        &self.engine
    }

    /// How many code objects are cached.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// The entry of `code`, which must belong to the frame the current
    /// callback fires in: the first time, the code object is read, resolved
    /// by the filter with the frame's module name, and counted in `stats`.
    pub fn get(
        &mut self,
        code: &Bound<'_, PyAny>,
        stats: &mut FilterStats,
    ) -> RecorderResult<&mut CodeInfo> {
        let engine = &self.engine;
        let module_name_from_globals = self.module_name_from_globals;
        self.map
            .get_or_try_insert_with(code.as_ptr() as usize, || {
                read_code(code, engine, module_name_from_globals, stats).map(Box::new)
            })
            .map(|info| &mut **info)
    }
}

/// The recorded name of a module body: `<__main__>`, `<pkg.mod>`, from the
/// module's `__name__`; `<module>` for code without a real file (`<string>`,
/// `<stdin>`) or without a name.
pub fn module_body_name(filename: &str, module_name: Option<&str>) -> Option<String> {
    let name = module_name.filter(|name| !name.is_empty())?;
    (!filename.starts_with('<')).then(|| format!("<{name}>"))
}

/// `__name__` of the executing frame's globals, read without running user
/// code (a borrowed dict lookup).
fn frame_module_name() -> Option<String> {
    // SAFETY: called with the GIL held inside a monitoring callback;
    // PyEval_GetGlobals returns a borrowed reference (or NULL, without an error).
    let globals = unsafe { ffi::PyEval_GetGlobals() };
    if globals.is_null() {
        return None;
    }
    // SAFETY: `globals` is a live dict; the lookup returns a borrowed reference and
    // sets no error for a str key.
    let name = unsafe { ffi::PyDict_GetItemString(globals, c"__name__".as_ptr()) };
    // SAFETY: `name` is checked for NULL and for being a str before its UTF-8 is read.
    unsafe {
        if name.is_null() || ffi::PyUnicode_Check(name) == 0 {
            return None;
        }
        let text = ffi::PyUnicode_AsUTF8(name);
        if text.is_null() {
            ffi::PyErr_Clear();
            return None;
        }
        Some(CStr::from_ptr(text).to_string_lossy().into_owned())
    }
}

fn read_code(
    code: &Bound<'_, PyAny>,
    engine: &FilterEngine,
    module_name_from_globals: bool,
    stats: &mut FilterStats,
) -> RecorderResult<CodeInfo> {
    let attr = |name: &str| {
        code.getattr(name).map_err(|err| {
            target!(ErrorCode::FrameIntrospectionFailed, "cannot read {name} of a code object: {err}"; "attribute" = name)
        })
    };
    let extract_err = |name: &str, err: PyErr| target!(ErrorCode::FrameIntrospectionFailed, "unexpected {name} on a code object: {err}"; "attribute" = name);
    let path: PathBuf = attr("co_filename")?
        .extract()
        .map_err(|e| extract_err("co_filename", e))?;
    // Filters match text; a path that is not UTF-8 is matched in its lossy form.
    let filename = path.to_string_lossy();
    let mut qualname: String = attr("co_qualname")?
        .extract()
        .map_err(|e| extract_err("co_qualname", e))?;
    let first_line: i64 = attr("co_firstlineno")?
        .extract()
        .map_err(|e| extract_err("co_firstlineno", e))?;
    let module_name = if module_name_from_globals {
        frame_module_name()
    } else {
        None
    };
    let resolution = engine.resolve_scope(&ScopeContext {
        file_path: &filename,
        qualname: &qualname,
        module_name: module_name.as_deref(),
    });
    stats.record_scope(&resolution);
    if qualname == "<module>" {
        if let Some(name) = module_body_name(&filename, module_name.as_deref()) {
            qualname = name;
        }
    }
    let policy = match resolution {
        ScopeResolution::Skip { reason } => {
            log::trace!(
                "not recording {qualname} ({}): {}",
                path.display(),
                reason.as_deref().unwrap_or("skipped by a trace filter")
            );
            None
        }
        ScopeResolution::Trace(policy) => Some(policy),
    };
    let mut info = CodeInfo {
        _code: code.clone().unbind(),
        path: path.clone(),
        qualname,
        first_line,
        scope: policy.clone().map_or(Scope::Skip, Scope::Trace),
        optimized: false,
        params: Vec::new(),
        locals: Vec::new(),
        ids: None,
        activates: None,
    };
    let Some(policy) = policy else {
        return Ok(info);
    };
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
        let action = slot_action(&policy, ValueKind::Arg, &name);
        info.params.push(Param {
            name: name.unbind(),
            kind,
            action,
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
            let mut action = slot_action(&policy, ValueKind::Local, &name);
            // A parameter is a local of its frame too: its value at each line
            // gets the stricter of its `arg:` and `local:` actions, so what is
            // hidden in the call is hidden everywhere.
            if let Some(param) = info.params.get(info.locals.len()) {
                action = action.stricter(param.action);
            }
            info.locals.push(LocalSlot {
                name: name.unbind(),
                action,
                var: None,
            });
        }
    }
    Ok(info)
}

/// The action for the value named `name` (a `str`) of `kind`.
pub fn slot_action(policy: &ValuePolicy, kind: ValueKind, name: &Bound<'_, PyAny>) -> ValueAction {
    if let Some(action) = policy.uniform_action(kind) {
        return action;
    }
    match name.extract::<&str>() {
        Ok(text) => policy.action_for(kind, text),
        Err(_) => policy.action_for(kind, ""),
    }
}

/// Recording postponed until code from one file starts.
#[derive(Debug)]
pub struct Activation {
    path: Option<(PathBuf, Option<PathBuf>)>,
    active: bool,
}

impl Activation {
    /// Active at once without a path; else when code from `path` starts.
    pub fn new(path: Option<&Path>) -> Activation {
        Activation {
            path: path.map(|path| (path.to_path_buf(), std::fs::canonicalize(path).ok())),
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
            info.path == *raw
                || canonical.as_deref().is_some_and(|canonical| {
                    std::fs::canonicalize(&info.path).is_ok_and(|file| file == canonical)
                })
        });
        if matches {
            log::debug!(
                "activation: recording starts with {} in {}",
                info.qualname,
                info.path.display()
            );
        }
        self.active = matches;
        matches
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::loader::load_chain;
    use crate::filter::location::InterpreterPaths;
    use faultfs::MemoryFs;
    use pyo3::types::PyDict;

    #[test]
    fn generated_code_never_grows_the_cache_past_its_capacity() {
        Python::attach(|py| {
            let chain = load_chain(&MemoryFs::new(), None, &[]).unwrap_or_else(|e| panic!("{e}"));
            let engine = FilterEngine::new(chain, InterpreterPaths::default());
            let mut cache = CodeCache::new(engine, true);
            let mut stats = FilterStats::default();
            let scope = PyDict::new(py);
            let compile = |source: String| -> Bound<'_, PyAny> {
                scope
                    .set_item("source", source)
                    .unwrap_or_else(|e| panic!("{e}"));
                py.eval(
                    c"compile(source, '<generated>', 'exec')",
                    None,
                    Some(&scope),
                )
                .unwrap_or_else(|e| panic!("{e}"))
            };
            let first = compile("x = 0".to_string());
            scope
                .set_item("first", &first)
                .unwrap_or_else(|e| panic!("{e}"));
            let first_alive = py
                .eval(c"__import__('weakref').ref(first)", None, Some(&scope))
                .unwrap_or_else(|e| panic!("{e}"));
            cache
                .get(&first, &mut stats)
                .unwrap_or_else(|e| panic!("{e}"));
            scope.del_item("first").unwrap_or_else(|e| panic!("{e}"));
            drop(first);
            for i in 1..3 * CODE_CACHE_CAPACITY {
                let code = compile(format!("x = {i}"));
                let info = cache
                    .get(&code, &mut stats)
                    .unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(info.qualname, "<module>", "no real file, no module name");
                assert!(
                    cache.len() <= CODE_CACHE_CAPACITY,
                    "{} entries",
                    cache.len()
                );
            }
            let released = first_alive
                .call0()
                .unwrap_or_else(|e| panic!("{e}"))
                .is_none();
            assert!(released, "an evicted code object is released");
        });
    }

    #[test]
    fn module_bodies_are_named_after_their_module() {
        assert_eq!(
            module_body_name("/p/app.py", Some("__main__")).as_deref(),
            Some("<__main__>")
        );
        assert_eq!(
            module_body_name("/p/pkg/mod.py", Some("pkg.mod")).as_deref(),
            Some("<pkg.mod>")
        );
        assert_eq!(module_body_name("<string>", Some("__main__")), None);
        assert_eq!(module_body_name("/p/app.py", Some("")), None);
        assert_eq!(module_body_name("/p/app.py", None), None);
    }
}
