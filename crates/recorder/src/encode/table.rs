//! The type table: what a value is encoded as, decided from its type alone.
//!
//! Each row is one built-in base type and the [`Kind`] of encoder its values
//! and its subclasses' values go to. A value whose type is exactly a row's
//! base gets the kind's fixed [`Builtin`] type; an instance of a subclass gets
//! a type named after the subclass with the same record kind.
//! Subclasses are matched in table order, through the type's fast subclass
//! flag where CPython has one, else through its MRO. What matches no row is a
//! user-class instance (a heap type that is neither an exception nor a class)
//! or an opaque object.

use std::os::raw::c_ulong;

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyType;

use super::capi::type_flags;
use super::types::Builtin;

/// Which encoder a value goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `bool` (which cannot be subclassed).
    Bool,
    /// `int` and subclasses.
    Int,
    /// `float` and subclasses.
    Float,
    /// `str` and subclasses.
    Str,
    /// `bytes` and subclasses: the literal written by `bytes`' own `repr`.
    Bytes,
    /// `bytearray` and subclasses: the literal written by `bytearray`'s own `repr`.
    ByteArray,
    /// A value that holds others.
    Nested(Nest),
    /// Anything else: a short description, never its `repr`.
    Opaque,
}

/// The values that hold others (and so pass the recursion and depth guards).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nest {
    /// `list` and subclasses.
    List,
    /// `tuple` and subclasses.
    Tuple,
    /// `dict` and subclasses.
    Dict,
    /// `set` and subclasses.
    Set,
    /// `frozenset` and subclasses.
    FrozenSet,
    /// An instance of a user class: its `__dict__`.
    Instance,
}

impl Kind {
    /// The built-in whose fixed type slot a value of exactly the row's base
    /// type gets (none for instances and opaque objects).
    #[inline(always)]
    pub fn builtin(self) -> Option<Builtin> {
        Some(match self {
            Kind::Bool => Builtin::Bool,
            Kind::Int => Builtin::Int,
            Kind::Float => Builtin::Float,
            Kind::Str => Builtin::Str,
            Kind::Bytes => Builtin::Bytes,
            Kind::ByteArray => Builtin::ByteArray,
            Kind::Nested(Nest::List) => Builtin::List,
            Kind::Nested(Nest::Tuple) => Builtin::Tuple,
            Kind::Nested(Nest::Dict) => Builtin::Dict,
            Kind::Nested(Nest::Set) => Builtin::Set,
            Kind::Nested(Nest::FrozenSet) => Builtin::FrozenSet,
            Kind::Nested(Nest::Instance) | Kind::Opaque => return None,
        })
    }
}

/// How the subclasses of a row's base are recognised.
#[derive(Debug, Clone, Copy)]
enum Subclasses {
    /// The base cannot be subclassed.
    None,
    /// The `Py_TPFLAGS_*_SUBCLASS` bit CPython sets on every subclass.
    Flag(c_ulong),
    /// No such bit: `PyType_IsSubtype`.
    Mro,
}

/// One built-in base type.
#[derive(Debug, Clone, Copy)]
struct Row {
    base: fn() -> *mut ffi::PyTypeObject,
    subclasses: Subclasses,
    kind: Kind,
}

/// The rows, in the order subclasses are matched.
const ROWS: [Row; 11] = [
    Row {
        base: || &raw mut ffi::PyLong_Type,
        subclasses: Subclasses::Flag(ffi::Py_TPFLAGS_LONG_SUBCLASS),
        kind: Kind::Int,
    },
    Row {
        base: || &raw mut ffi::PyFloat_Type,
        subclasses: Subclasses::Mro,
        kind: Kind::Float,
    },
    Row {
        base: || &raw mut ffi::PyUnicode_Type,
        subclasses: Subclasses::Flag(ffi::Py_TPFLAGS_UNICODE_SUBCLASS),
        kind: Kind::Str,
    },
    Row {
        base: || &raw mut ffi::PyBytes_Type,
        subclasses: Subclasses::Flag(ffi::Py_TPFLAGS_BYTES_SUBCLASS),
        kind: Kind::Bytes,
    },
    Row {
        base: || &raw mut ffi::PyByteArray_Type,
        subclasses: Subclasses::Mro,
        kind: Kind::ByteArray,
    },
    Row {
        base: || &raw mut ffi::PyList_Type,
        subclasses: Subclasses::Flag(ffi::Py_TPFLAGS_LIST_SUBCLASS),
        kind: Kind::Nested(Nest::List),
    },
    Row {
        base: || &raw mut ffi::PyTuple_Type,
        subclasses: Subclasses::Flag(ffi::Py_TPFLAGS_TUPLE_SUBCLASS),
        kind: Kind::Nested(Nest::Tuple),
    },
    Row {
        base: || &raw mut ffi::PyDict_Type,
        subclasses: Subclasses::Flag(ffi::Py_TPFLAGS_DICT_SUBCLASS),
        kind: Kind::Nested(Nest::Dict),
    },
    Row {
        base: || &raw mut ffi::PySet_Type,
        subclasses: Subclasses::Mro,
        kind: Kind::Nested(Nest::Set),
    },
    Row {
        base: || &raw mut ffi::PyFrozenSet_Type,
        subclasses: Subclasses::Mro,
        kind: Kind::Nested(Nest::FrozenSet),
    },
    Row {
        base: || &raw mut ffi::PyBool_Type,
        subclasses: Subclasses::None,
        kind: Kind::Bool,
    },
];

/// Slots of the cache of recently seen types that are no row's base. Such a
/// type's class never changes while it lives: its layout fixes which
/// built-in it derives from.
const RECENT_SLOTS: usize = 16;

/// The table, with the address of each row's base type (resolved once), and
/// a small direct-mapped cache of the classes of recently seen other types
/// (user classes, subclasses), each kept alive so its address stays its own.
#[derive(Debug)]
pub struct TypeTable {
    bases: [usize; ROWS.len()],
    recent: [Option<(Py<PyType>, Class)>; RECENT_SLOTS],
}

impl Default for TypeTable {
    fn default() -> TypeTable {
        TypeTable {
            bases: ROWS.map(|row| (row.base)() as usize),
            recent: Default::default(),
        }
    }
}

/// What the table says about one type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Class {
    /// The encoder.
    pub kind: Kind,
    /// The type is exactly the row's base (not a subclass, not unmatched).
    pub exact: bool,
}

impl TypeTable {
    /// Looks up the type of `value`: its exact row, else the first row it
    /// derives from, else instance or opaque.
    #[inline]
    pub fn classify(&mut self, value: &Bound<'_, PyAny>) -> Class {
        let ptr = value.get_type_ptr() as usize;
        if let Some(index) = self.bases.iter().position(|base| *base == ptr) {
            return Class {
                kind: ROWS[index].kind,
                exact: true,
            };
        }
        // Type objects are aligned to at least 16 bytes.
        let slot = (ptr >> 4) % RECENT_SLOTS;
        match &self.recent[slot] {
            Some((tp, class)) if tp.as_ptr() as usize == ptr => *class,
            _ => {
                let tp = value.get_type();
                let class = self.classify_derived(&tp);
                self.recent[slot] = Some((tp.unbind(), class));
                class
            }
        }
    }

    /// [`TypeTable::classify`] for a type that is none of the rows' bases.
    #[cold]
    #[inline(never)]
    fn classify_derived(&self, tp: &Bound<'_, PyType>) -> Class {
        let ptr = tp.as_type_ptr();
        let flags = type_flags(tp);
        let derived = ROWS
            .iter()
            .zip(self.bases)
            .find(|(row, base)| derives(row.subclasses, *base, ptr, flags));
        if let Some((row, _)) = derived {
            return Class {
                kind: row.kind,
                exact: false,
            };
        }
        let user_class = flags & ffi::Py_TPFLAGS_HEAPTYPE != 0
            && flags & (ffi::Py_TPFLAGS_BASE_EXC_SUBCLASS | ffi::Py_TPFLAGS_TYPE_SUBCLASS) == 0;
        Class {
            kind: if user_class {
                Kind::Nested(Nest::Instance)
            } else {
                Kind::Opaque
            },
            exact: false,
        }
    }
}

/// Whether the type `ptr` (with `flags`) derives from the type at `base`.
fn derives(
    subclasses: Subclasses,
    base: usize,
    ptr: *mut ffi::PyTypeObject,
    flags: c_ulong,
) -> bool {
    match subclasses {
        Subclasses::None => false,
        Subclasses::Flag(bit) => flags & bit != 0,
        // SAFETY: `ptr` is a live type object (the caller holds it) and `base`
        // the address of a static built-in type.
        Subclasses::Mro => unsafe {
            ffi::PyType_IsSubtype(ptr, base as *mut ffi::PyTypeObject) != 0
        },
    }
}
