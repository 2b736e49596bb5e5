//! Type ids for encoded values: fixed slots for the built-in kinds, a cache per
//! Python type object for everything else. Names are read from the type object
//! itself (`tp_name`, `__qualname__`, `__module__` in the type's dict), never by
//! calling user code.

use std::collections::HashMap;
use std::ffi::CStr;

use pyo3::ffi;
use pyo3::prelude::*;
use recorder_errors::RecorderResult;
use runtime_tracing::{TypeId, TypeKind};

use crate::writer::TypeInterner;

/// The built-in types with a fixed name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// `int`
    Int,
    /// `float`
    Float,
    /// `bool`
    Bool,
    /// `str`
    Str,
    /// `bytes`
    Bytes,
    /// `bytearray`
    ByteArray,
    /// `list`
    List,
    /// `tuple`
    Tuple,
    /// `set`
    Set,
    /// `frozenset`
    FrozenSet,
    /// `dict`
    Dict,
    /// A `(key, value)` pair of a mapping.
    Pair,
    /// A value that could not be read.
    Error,
    /// A container met again while it is being encoded.
    Recursion,
    /// A container beyond the depth limit.
    NonExpanded,
    /// The marker for items cut by the length limit.
    Truncated,
}

const BUILTIN_COUNT: usize = 16;

impl Builtin {
    fn slot(self) -> usize {
        self as usize
    }

    /// The `TypeRecord` kind and `lang_type`.
    pub fn describe(self) -> (TypeKind, &'static str) {
        match self {
            Builtin::Int => (TypeKind::Int, "int"),
            Builtin::Float => (TypeKind::Float, "float"),
            Builtin::Bool => (TypeKind::Bool, "bool"),
            Builtin::Str => (TypeKind::String, "str"),
            Builtin::Bytes => (TypeKind::Raw, "bytes"),
            Builtin::ByteArray => (TypeKind::Raw, "bytearray"),
            Builtin::List => (TypeKind::Seq, "list"),
            Builtin::Tuple => (TypeKind::Tuple, "tuple"),
            Builtin::Set => (TypeKind::Set, "set"),
            Builtin::FrozenSet => (TypeKind::Set, "frozenset"),
            Builtin::Dict => (TypeKind::Seq, "dict"),
            Builtin::Pair => (TypeKind::Tuple, "tuple"),
            Builtin::Error => (TypeKind::Error, "<error>"),
            Builtin::Recursion => (TypeKind::Recursion, "<recursion>"),
            Builtin::NonExpanded => (TypeKind::NonExpanded, "<non-expanded>"),
            Builtin::Truncated => (TypeKind::Raw, "<truncated>"),
        }
    }
}

/// One Python type seen while encoding.
#[derive(Debug)]
struct SeenType {
    /// Keeps the type alive so its address is never reused while cached.
    _keep: Py<PyAny>,
    name: String,
    ids: Vec<(TypeKind, TypeId)>,
}

/// Type ids by built-in slot and by Python type object.
#[derive(Debug, Default)]
pub struct TypeCache {
    builtins: [Option<TypeId>; BUILTIN_COUNT],
    seen: HashMap<usize, SeenType>,
}

impl TypeCache {
    /// The id of a built-in type.
    pub fn builtin(
        &mut self,
        builtin: Builtin,
        writer: &mut impl TypeInterner,
    ) -> RecorderResult<TypeId> {
        if let Some(id) = self.builtins[builtin.slot()] {
            return Ok(id);
        }
        let (kind, name) = builtin.describe();
        let id = writer.intern_type(name, || runtime_tracing::TypeRecord {
            kind,
            lang_type: name.to_string(),
            specific_info: runtime_tracing::TypeSpecificInfo::None,
        })?;
        self.builtins[builtin.slot()] = Some(id);
        Ok(id)
    }

    /// The id of `kind` named after the Python type `tp` (for subclasses of the
    /// built-ins and for opaque objects).
    ///
    /// # Safety
    /// `tp` must be a live type object and the GIL held.
    pub unsafe fn of_type(
        &mut self,
        py: Python<'_>,
        tp: *mut ffi::PyTypeObject,
        kind: TypeKind,
        writer: &mut impl TypeInterner,
    ) -> RecorderResult<TypeId> {
        let entry = self.entry(py, tp);
        if let Some((_, id)) = entry.ids.iter().find(|(k, _)| *k == kind) {
            return Ok(*id);
        }
        let name = entry.name.clone();
        // Two kinds of one name (rare) get distinct interning keys.
        let key = if kind == TypeKind::Raw || kind == TypeKind::Struct {
            name.clone()
        } else {
            format!("{name}\u{0}{}", kind as u8)
        };
        let id = writer.intern_type(&key, || runtime_tracing::TypeRecord {
            kind,
            lang_type: name,
            specific_info: runtime_tracing::TypeSpecificInfo::None,
        })?;
        self.entry(py, tp).ids.push((kind, id));
        Ok(id)
    }

    /// The display name of the type `tp` (`module.QualName`, or the bare name for built-ins).
    ///
    /// # Safety
    /// `tp` must be a live type object and the GIL held.
    pub unsafe fn name(&mut self, py: Python<'_>, tp: *mut ffi::PyTypeObject) -> &str {
        &self.entry(py, tp).name
    }

    unsafe fn entry(&mut self, py: Python<'_>, tp: *mut ffi::PyTypeObject) -> &mut SeenType {
        self.seen.entry(tp as usize).or_insert_with(|| SeenType {
            _keep: Bound::from_borrowed_ptr(py, tp.cast()).unbind(),
            name: type_name(py, tp),
            ids: Vec::new(),
        })
    }
}

/// `module.QualName` of a type without running user code.
///
/// # Safety
/// `tp` must be a live type object and the GIL held.
pub unsafe fn type_name(py: Python<'_>, tp: *mut ffi::PyTypeObject) -> String {
    let tp_name = CStr::from_ptr((*tp).tp_name).to_string_lossy().into_owned();
    if ffi::PyType_HasFeature(tp, ffi::Py_TPFLAGS_HEAPTYPE) == 0 {
        return tp_name;
    }
    let qualname = Bound::from_owned_ptr_or_opt(py, ffi::PyType_GetQualName(tp))
        .and_then(|name| name.extract::<String>().ok());
    let Some(qualname) = qualname else {
        ffi::PyErr_Clear();
        return tp_name;
    };
    let module = Bound::from_owned_ptr_or_opt(py, ffi::PyType_GetDict(tp))
        .and_then(|dict| {
            let item = ffi::PyDict_GetItemString(dict.as_ptr(), c"__module__".as_ptr());
            Bound::from_borrowed_ptr_or_opt(py, item)
        })
        .and_then(|module| module.extract::<String>().ok());
    ffi::PyErr_Clear();
    match module {
        Some(module) if module != "builtins" => format!("{module}.{qualname}"),
        _ => qualname,
    }
}
