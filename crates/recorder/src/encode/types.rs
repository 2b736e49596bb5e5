//! Type ids for encoded values: fixed slots for the built-in kinds, a cache per
//! Python type object for everything else. Names are read from the type object
//! itself (`tp_name`, `__qualname__`, `__module__` in the type's dict), never by
//! calling user code.

use std::collections::HashMap;
use std::ffi::CStr;

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyType;
use recorder_errors::RecorderResult;
use runtime_tracing::{TypeId, TypeKind, TypeRecord, TypeSpecificInfo};

use super::capi::{clear_error, owned, type_flags};
use crate::writer::TypeInterner;

/// The built-in types with a fixed name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Builtin {
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
    /// `*args`: a `tuple` recorded as a sequence.
    VarArgs,
    /// A value that could not be read.
    Error,
    /// A container met again while it is being encoded.
    Recursion,
    /// A container beyond the depth limit.
    NonExpanded,
    /// The marker for items cut by the length limit.
    Truncated,
}

const BUILTIN_COUNT: usize = 17;

impl Builtin {
    fn slot(self) -> usize {
        self as usize
    }

    /// The `TypeRecord` kind and `lang_type`.
    pub(super) fn describe(self) -> (TypeKind, &'static str) {
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
            Builtin::VarArgs => (TypeKind::Seq, "tuple"),
            Builtin::Error => (TypeKind::Error, "<error>"),
            Builtin::Recursion => (TypeKind::Recursion, "<recursion>"),
            Builtin::NonExpanded => (TypeKind::NonExpanded, "<non-expanded>"),
            Builtin::Truncated => (TypeKind::Raw, "<truncated>"),
        }
    }

    /// The interning key: the `lang_type`, except for the one name shared by two kinds.
    fn key(self) -> &'static str {
        match self {
            Builtin::VarArgs => "tuple\u{0}seq",
            other => other.describe().1,
        }
    }
}

/// One Python type seen while encoding.
#[derive(Debug)]
struct SeenType {
    /// Keeps the type alive so its address is never reused while cached.
    _keep: Py<PyType>,
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
    #[inline(always)]
    pub(super) fn builtin(
        &mut self,
        builtin: Builtin,
        interner: &mut impl TypeInterner,
    ) -> RecorderResult<TypeId> {
        match self.builtins[builtin.slot()] {
            Some(id) => Ok(id),
            None => self.intern_builtin(builtin, interner),
        }
    }

    /// Interns a built-in type the first time it is met.
    #[cold]
    fn intern_builtin(
        &mut self,
        builtin: Builtin,
        interner: &mut impl TypeInterner,
    ) -> RecorderResult<TypeId> {
        let (kind, name) = builtin.describe();
        let id = interner.intern_type(builtin.key(), || plain_record(kind, name.to_string()))?;
        self.builtins[builtin.slot()] = Some(id);
        Ok(id)
    }

    /// The id of `kind` named after the Python type `tp` (for subclasses of the
    /// built-ins and for opaque objects).
    pub(super) fn of_type(
        &mut self,
        tp: &Bound<'_, PyType>,
        kind: TypeKind,
        interner: &mut impl TypeInterner,
    ) -> RecorderResult<TypeId> {
        let entry = self.entry(tp);
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
        let id = interner.intern_type(&key, || plain_record(kind, name))?;
        self.entry(tp).ids.push((kind, id));
        Ok(id)
    }

    /// The display name of the type `tp` (`module.QualName`, or the bare name for built-ins).
    pub(super) fn name(&mut self, tp: &Bound<'_, PyType>) -> &str {
        &self.entry(tp).name
    }

    fn entry(&mut self, tp: &Bound<'_, PyType>) -> &mut SeenType {
        self.seen
            .entry(tp.as_ptr() as usize)
            .or_insert_with(|| SeenType {
                _keep: tp.clone().unbind(),
                name: type_name(tp),
                ids: Vec::new(),
            })
    }
}

/// A type record without specific info.
fn plain_record(kind: TypeKind, lang_type: String) -> TypeRecord {
    TypeRecord {
        kind,
        lang_type,
        specific_info: TypeSpecificInfo::None,
    }
}

/// `module.QualName` of a type without running user code (the bare `tp_name`
/// for static types, and for heap types whose names cannot be read).
fn type_name(tp: &Bound<'_, PyType>) -> String {
    let py = tp.py();
    let ptr = tp.as_type_ptr();
    // SAFETY: `tp` is a live type object; `tp_name` is a NUL-terminated string
    // that lives as long as the type.
    let tp_name = unsafe { CStr::from_ptr((*ptr).tp_name) }
        .to_string_lossy()
        .into_owned();
    if type_flags(tp) & ffi::Py_TPFLAGS_HEAPTYPE == 0 {
        return tp_name;
    }
    // SAFETY: `tp` is a live type object; the call returns a new reference or NULL.
    let qualname = unsafe { owned(py, ffi::PyType_GetQualName(ptr)) };
    let Some(qualname) = qualname.and_then(|name| name.extract::<String>().ok()) else {
        return tp_name;
    };
    // SAFETY: `tp` is a live type object; the call returns a new reference or NULL.
    let dict = unsafe { owned(py, ffi::PyType_GetDict(ptr)) };
    let module = dict.and_then(|dict| {
        // SAFETY: `dict` is a live dict and the key a NUL-terminated literal;
        // the item is a borrowed reference (or NULL), owned at once.
        unsafe {
            let item = ffi::PyDict_GetItemString(dict.as_ptr(), c"__module__".as_ptr());
            Bound::from_borrowed_ptr_or_opt(py, item)
        }
    });
    clear_error(py);
    match module.and_then(|module| module.extract::<String>().ok()) {
        Some(module) if module != "builtins" => format!("{module}.{qualname}"),
        _ => qualname,
    }
}
