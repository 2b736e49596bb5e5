//! Python values to `runtime_tracing::ValueRecord`s, without running user code.
//!
//! | Python | record | `lang_type` |
//! |---|---|---|
//! | `None` | `None` (type id 0) | `None` |
//! | `bool` | `Bool` | `bool` |
//! | `int` (and subclasses) | `Int`, or `BigInt` beyond i64 | `int` / subclass name |
//! | `float` | `Float`; `Raw` `nan`/`inf`/`-inf` | `float` |
//! | `str` | `String` with the exact text | `str` |
//! | `bytes`, `bytearray` | `Raw` with the literal (`b'..'`) | `bytes` / `bytearray` |
//! | `list`, `set`, `frozenset` | `Sequence` | `list` / `set` / `frozenset` |
//! | `tuple` | `Tuple` | `tuple` |
//! | `dict` | `Sequence` of `Tuple(key, value)` | `dict` |
//! | instance with `__dict__` | `Struct`, one field per `__dict__` entry | `module.Class` |
//! | exception | `Raw` `Type: message` | `module.Class` |
//! | anything else | `Raw` `<Type object>` (never its `repr`) | `module.Class` |
//!
//! Limits: containers nest at most [`Limits::max_depth`] levels (deeper ones are a
//! `Raw` `<list len=N>` of kind `NonExpanded`); at most [`Limits::max_items`]
//! items are kept (a cut `Sequence` has `is_slice: true`, a cut `Tuple` or
//! `Struct` ends with a `Raw` `...` marker); a container met again while it is
//! being encoded is a `Raw` `<recursion>`; strings are cut at
//! [`Limits::max_string_bytes`]; one top-level value holds at most
//! [`Limits::max_nodes`] values (further items are cut as above), and the
//! locals of one line step share [`Limits::max_step_nodes`] values, each
//! local an even share of what is left (scalars and strings are always
//! exact), which bounds the cost of a step whatever the locals hold. A value
//! that cannot be read is an `Error` record.
//!
//! Struct types are found by shape ([`shapes`]) without building an interning
//! key per instance; [`json`] writes the per-step events without serde.
//!
//! Trace filters reach into values at one place: the fields of an instance
//! get the `attr:` action of the scope being recorded
//! ([`ValueEncoder::set_field_policy`]): a redacted field is the redaction
//! marker ([`markers`]), a dropped one is left out, neither is read.

pub mod json;
mod markers;
mod shapes;
mod types;

use std::ffi::CStr;
use std::sync::Arc;

use pyo3::ffi;
use pyo3::prelude::*;
use recorder_errors::RecorderResult;
use runtime_tracing::{
    FieldTypeRecord, TypeKind, TypeRecord, TypeSpecificInfo, ValueRecord, NONE_TYPE_ID,
};

use crate::filter::model::{ValueAction, ValueKind};
use crate::filter::summary::FilterStats;
use crate::filter::value_policy::ValuePolicy;
use crate::writer::TraceWriter;

pub use types::{Builtin, TypeCache};

use markers::Markers;
use shapes::ShapeCache;

/// Default [`Limits::max_step_nodes`].
const STEP_NODES: usize = 256;

/// Size limits of one encoded value.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Container nesting levels that are expanded.
    pub max_depth: usize,
    /// Items (elements, entries, fields) kept per container.
    pub max_items: usize,
    /// Bytes of text kept per string.
    pub max_string_bytes: usize,
    /// Values (scalars and containers) encoded per top-level value; once spent,
    /// containers keep no further items.
    pub max_nodes: usize,
    /// Values shared by all the locals of one line step (see
    /// [`ValueEncoder::begin_step`]).
    pub max_step_nodes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_depth: 4,
            max_items: 32,
            max_string_bytes: 64 * 1024,
            max_nodes: 128,
            max_step_nodes: STEP_NODES,
        }
    }
}

/// Encodes values, interning their types through the writer.
#[derive(Debug, Default)]
pub struct ValueEncoder {
    types: TypeCache,
    limits: Limits,
    /// Containers being encoded (the recursion guard).
    active: Vec<usize>,
    /// Values left in the current top-level value's budget.
    budget: usize,
    /// `Struct` type ids by class and shape.
    shapes: ShapeCache,
    /// Field names (borrowed `str` keys) of the instances being encoded, innermost last.
    field_names: Vec<usize>,
    /// Values left in the current step's budget.
    step_left: usize,
    /// Locals of the current step not encoded yet.
    step_vars: usize,
    /// The redaction and drop markers.
    markers: Markers,
    /// The `attr:` rules of the scope being recorded (none: every field is recorded).
    field_policy: Option<Arc<ValuePolicy>>,
    /// Instance fields redacted and dropped so far.
    field_stats: FilterStats,
}

impl ValueEncoder {
    /// An encoder with the given limits.
    pub fn new(limits: Limits) -> ValueEncoder {
        ValueEncoder {
            types: TypeCache::default(),
            limits,
            active: Vec::new(),
            budget: limits.max_nodes,
            shapes: ShapeCache::default(),
            field_names: Vec::new(),
            step_left: limits.max_step_nodes,
            step_vars: 0,
            markers: Markers::default(),
            field_policy: None,
            field_stats: FilterStats::default(),
        }
    }

    /// Sets the `attr:` rules for the values encoded next (those of the
    /// scope being recorded); `None` records every field.
    pub fn set_field_policy(&mut self, policy: Option<&Arc<ValuePolicy>>) {
        let same = match (&self.field_policy, policy) {
            (Some(current), Some(new)) => Arc::ptr_eq(current, new),
            (None, None) => true,
            _ => false,
        };
        if !same {
            self.field_policy = policy.cloned();
        }
    }

    /// Instance fields redacted and dropped so far.
    pub fn field_stats(&self) -> &FilterStats {
        &self.field_stats
    }

    /// The redaction marker, recorded in place of a value the filter redacts.
    pub fn redacted(&mut self, writer: &mut TraceWriter) -> RecorderResult<ValueRecord> {
        self.markers.redacted(writer)
    }

    /// The placeholder of a return value the filter drops.
    pub fn dropped(&mut self, writer: &mut TraceWriter) -> RecorderResult<ValueRecord> {
        self.markers.dropped(writer)
    }

    /// The type cache (shared with callers that name types).
    pub fn types(&mut self) -> &mut TypeCache {
        &mut self.types
    }

    /// Encodes `value`.
    pub fn encode(
        &mut self,
        value: &Bound<'_, PyAny>,
        writer: &mut TraceWriter,
    ) -> RecorderResult<ValueRecord> {
        self.active.clear();
        self.budget = self.limits.max_nodes;
        self.value(value, 0, writer)
    }

    /// Starts a line step that will encode `locals` values with
    /// [`ValueEncoder::encode_local`]: they share [`Limits::max_step_nodes`].
    pub fn begin_step(&mut self, locals: usize) {
        self.step_left = self.limits.max_step_nodes;
        self.step_vars = locals;
    }

    /// Encodes one local of the current step. Each local gets an even share of
    /// what the step has left (at most [`Limits::max_nodes`], at least its own
    /// value): scalars and strings are always exact, and a container that
    /// gets no room for its items is still recorded, visibly cut.
    pub fn encode_local(
        &mut self,
        value: &Bound<'_, PyAny>,
        writer: &mut TraceWriter,
    ) -> RecorderResult<ValueRecord> {
        let share = (self.step_left / self.step_vars.max(1)).clamp(1, self.limits.max_nodes);
        self.active.clear();
        self.budget = share;
        let record = self.value(value, 0, writer);
        let used = (share - self.budget).max(1);
        self.step_left = self.step_left.saturating_sub(used);
        self.step_vars = self.step_vars.saturating_sub(1);
        record
    }

    /// Encodes a tuple as a `Sequence` (how `*args` is recorded).
    pub fn encode_varargs(
        &mut self,
        value: &Bound<'_, PyAny>,
        writer: &mut TraceWriter,
    ) -> RecorderResult<ValueRecord> {
        self.active.clear();
        self.budget = self.limits.max_nodes;
        if unsafe { ffi::PyTuple_Check(value.as_ptr()) } == 0 {
            return self.value(value, 0, writer);
        }
        let (elements, cut) = unsafe { self.tuple_items(value, 0, writer)? };
        let type_id = self.seq_type_for_varargs(writer)?;
        Ok(ValueRecord::Sequence {
            elements,
            is_slice: cut,
            type_id,
        })
    }

    /// An `Error` record carrying `msg`.
    pub fn error(&mut self, msg: String, writer: &mut TraceWriter) -> RecorderResult<ValueRecord> {
        let type_id = self.types.builtin(Builtin::Error, writer)?;
        Ok(ValueRecord::Error { msg, type_id })
    }

    fn seq_type_for_varargs(
        &mut self,
        writer: &mut TraceWriter,
    ) -> RecorderResult<runtime_tracing::TypeId> {
        writer.ensure_type("tuple\u{0}seq", || TypeRecord {
            kind: TypeKind::Seq,
            lang_type: "tuple".to_string(),
            specific_info: TypeSpecificInfo::None,
        })
    }

    fn value(
        &mut self,
        value: &Bound<'_, PyAny>,
        depth: usize,
        writer: &mut TraceWriter,
    ) -> RecorderResult<ValueRecord> {
        let py = value.py();
        let ptr = value.as_ptr();
        self.budget = self.budget.saturating_sub(1);
        unsafe {
            if ptr == ffi::Py_None() {
                return Ok(ValueRecord::None {
                    type_id: NONE_TYPE_ID,
                });
            }
            let tp = ffi::Py_TYPE(ptr);
            if tp == &raw mut ffi::PyBool_Type {
                let type_id = self.types.builtin(Builtin::Bool, writer)?;
                return Ok(ValueRecord::Bool {
                    b: ptr == ffi::Py_True(),
                    type_id,
                });
            }
            if ffi::PyLong_Check(ptr) != 0 {
                let type_id = self.scalar_type(
                    py,
                    tp,
                    &raw mut ffi::PyLong_Type,
                    Builtin::Int,
                    TypeKind::Int,
                    writer,
                )?;
                return self.int(value, type_id, writer);
            }
            if ffi::PyFloat_Check(ptr) != 0 {
                let type_id = self.scalar_type(
                    py,
                    tp,
                    &raw mut ffi::PyFloat_Type,
                    Builtin::Float,
                    TypeKind::Float,
                    writer,
                )?;
                let f = ffi::PyFloat_AS_DOUBLE(ptr);
                if f.is_finite() {
                    return Ok(ValueRecord::Float { f, type_id });
                }
                let r = if f.is_nan() {
                    "nan"
                } else if f > 0.0 {
                    "inf"
                } else {
                    "-inf"
                };
                return Ok(ValueRecord::Raw {
                    r: r.to_string(),
                    type_id,
                });
            }
            if ffi::PyUnicode_Check(ptr) != 0 {
                let type_id = self.scalar_type(
                    py,
                    tp,
                    &raw mut ffi::PyUnicode_Type,
                    Builtin::Str,
                    TypeKind::String,
                    writer,
                )?;
                let text = self.text(value);
                return Ok(ValueRecord::String { text, type_id });
            }
            if ffi::PyBytes_Check(ptr) != 0 {
                let type_id = self.scalar_type(
                    py,
                    tp,
                    &raw mut ffi::PyBytes_Type,
                    Builtin::Bytes,
                    TypeKind::Raw,
                    writer,
                )?;
                return self.base_repr(value, &raw mut ffi::PyBytes_Type, type_id, writer);
            }
            if ffi::PyByteArray_Check(ptr) != 0 {
                let type_id = self.scalar_type(
                    py,
                    tp,
                    &raw mut ffi::PyByteArray_Type,
                    Builtin::ByteArray,
                    TypeKind::Raw,
                    writer,
                )?;
                return self.base_repr(value, &raw mut ffi::PyByteArray_Type, type_id, writer);
            }
            let container = ffi::PyList_Check(ptr) != 0
                || ffi::PyTuple_Check(ptr) != 0
                || ffi::PyDict_Check(ptr) != 0
                || ffi::PyAnySet_Check(ptr) != 0;
            let instance = !container
                && ffi::PyType_HasFeature(tp, ffi::Py_TPFLAGS_HEAPTYPE) != 0
                && ffi::PyExceptionInstance_Check(ptr) == 0
                && ffi::PyType_Check(ptr) == 0;
            if container || instance {
                if self.active.contains(&(ptr as usize)) {
                    let type_id = self.types.builtin(Builtin::Recursion, writer)?;
                    return Ok(ValueRecord::Raw {
                        r: "<recursion>".to_string(),
                        type_id,
                    });
                }
                if depth >= self.limits.max_depth {
                    let type_id = self.types.builtin(Builtin::NonExpanded, writer)?;
                    let name = self.types.name(py, tp).to_string();
                    let r = match sized_len(ptr) {
                        Some(len) => format!("<{name} len={len}>"),
                        None => format!("<{name} object>"),
                    };
                    return Ok(ValueRecord::Raw { r, type_id });
                }
                self.active.push(ptr as usize);
                let result = if container {
                    self.container(value, tp, depth, writer)
                } else {
                    self.instance(value, tp, depth, writer)
                };
                self.active.pop();
                return result;
            }
            self.opaque(value, tp, writer)
        }
    }

    /// The type id of a scalar: the fixed slot for the exact built-in, else the subclass.
    unsafe fn scalar_type(
        &mut self,
        py: Python<'_>,
        tp: *mut ffi::PyTypeObject,
        exact: *mut ffi::PyTypeObject,
        builtin: Builtin,
        kind: TypeKind,
        writer: &mut TraceWriter,
    ) -> RecorderResult<runtime_tracing::TypeId> {
        if tp == exact {
            self.types.builtin(builtin, writer)
        } else {
            self.types.of_type(py, tp, kind, writer)
        }
    }

    unsafe fn int(
        &mut self,
        value: &Bound<'_, PyAny>,
        type_id: runtime_tracing::TypeId,
        writer: &mut TraceWriter,
    ) -> RecorderResult<ValueRecord> {
        let mut overflow = 0;
        let i = ffi::PyLong_AsLongLongAndOverflow(value.as_ptr(), &mut overflow);
        if overflow == 0 {
            if i == -1 && !ffi::PyErr_Occurred().is_null() {
                ffi::PyErr_Clear();
                return self.error("int value could not be read".to_string(), writer);
            }
            return Ok(ValueRecord::Int { i, type_id });
        }
        match big_int(value) {
            Some((negative, b)) => Ok(ValueRecord::BigInt {
                b,
                negative,
                type_id,
            }),
            None => self.error("int value could not be read".to_string(), writer),
        }
    }

    /// The text of a `str`, cut at the string limit; lone surrogates are escaped.
    unsafe fn text(&self, value: &Bound<'_, PyAny>) -> String {
        let mut size: ffi::Py_ssize_t = 0;
        let data = ffi::PyUnicode_AsUTF8AndSize(value.as_ptr(), &mut size);
        let text = if data.is_null() {
            ffi::PyErr_Clear();
            escaped_text(value)
        } else {
            let bytes =
                std::slice::from_raw_parts(data.cast::<u8>(), usize::try_from(size).unwrap_or(0));
            return utf8_prefix(bytes, self.limits.max_string_bytes);
        };
        cut_text(text, self.limits.max_string_bytes)
    }

    /// `Raw` with the base type's own `repr` (safe for bytes and bytearray).
    unsafe fn base_repr(
        &mut self,
        value: &Bound<'_, PyAny>,
        base: *mut ffi::PyTypeObject,
        type_id: runtime_tracing::TypeId,
        writer: &mut TraceWriter,
    ) -> RecorderResult<ValueRecord> {
        let Some(repr) = (*base).tp_repr else {
            return self.error("no repr".to_string(), writer);
        };
        let Some(text) = Bound::from_owned_ptr_or_opt(value.py(), repr(value.as_ptr())) else {
            ffi::PyErr_Clear();
            return self.error("repr failed".to_string(), writer);
        };
        let r = cut_text(self.text(&text), self.limits.max_string_bytes);
        Ok(ValueRecord::Raw { r, type_id })
    }

    unsafe fn container(
        &mut self,
        value: &Bound<'_, PyAny>,
        tp: *mut ffi::PyTypeObject,
        depth: usize,
        writer: &mut TraceWriter,
    ) -> RecorderResult<ValueRecord> {
        let py = value.py();
        let ptr = value.as_ptr();
        if ffi::PyList_Check(ptr) != 0 {
            let type_id = self.scalar_type(
                py,
                tp,
                &raw mut ffi::PyList_Type,
                Builtin::List,
                TypeKind::Seq,
                writer,
            )?;
            let mut elements = Vec::with_capacity(self.capacity(ffi::PyList_GET_SIZE(ptr)));
            let mut index: ffi::Py_ssize_t = 0;
            while index < ffi::PyList_GET_SIZE(ptr) && self.room(elements.len()) {
                let item = Bound::from_borrowed_ptr(py, ffi::PyList_GET_ITEM(ptr, index));
                elements.push(self.value(&item, depth + 1, writer)?);
                index += 1;
            }
            let is_slice = index < ffi::PyList_GET_SIZE(ptr);
            return Ok(ValueRecord::Sequence {
                elements,
                is_slice,
                type_id,
            });
        }
        if ffi::PyTuple_Check(ptr) != 0 {
            let type_id = self.scalar_type(
                py,
                tp,
                &raw mut ffi::PyTuple_Type,
                Builtin::Tuple,
                TypeKind::Tuple,
                writer,
            )?;
            let (mut elements, cut) = self.tuple_items(value, depth, writer)?;
            if cut {
                elements.push(self.truncated(writer)?);
            }
            return Ok(ValueRecord::Tuple { elements, type_id });
        }
        if ffi::PyDict_Check(ptr) != 0 {
            let type_id = self.scalar_type(
                py,
                tp,
                &raw mut ffi::PyDict_Type,
                Builtin::Dict,
                TypeKind::Seq,
                writer,
            )?;
            return self.mapping(value, type_id, depth, writer);
        }
        let frozen = ffi::PyFrozenSet_Check(ptr) != 0;
        let (exact, builtin) = if frozen {
            (&raw mut ffi::PyFrozenSet_Type, Builtin::FrozenSet)
        } else {
            (&raw mut ffi::PySet_Type, Builtin::Set)
        };
        let type_id = self.scalar_type(py, tp, exact, builtin, TypeKind::Set, writer)?;
        self.set(value, type_id, depth, writer)
    }

    unsafe fn tuple_items(
        &mut self,
        value: &Bound<'_, PyAny>,
        depth: usize,
        writer: &mut TraceWriter,
    ) -> RecorderResult<(Vec<ValueRecord>, bool)> {
        let ptr = value.as_ptr();
        let len = ffi::PyTuple_GET_SIZE(ptr);
        let mut elements = Vec::with_capacity(self.capacity(len) + 1);
        let mut index: ffi::Py_ssize_t = 0;
        while index < len && self.room(elements.len()) {
            let item = Bound::from_borrowed_ptr(value.py(), ffi::PyTuple_GET_ITEM(ptr, index));
            elements.push(self.value(&item, depth + 1, writer)?);
            index += 1;
        }
        Ok((elements, index < len))
    }

    /// A `dict` as a `Sequence` of `(key, value)` `Tuple`s.
    unsafe fn mapping(
        &mut self,
        value: &Bound<'_, PyAny>,
        type_id: runtime_tracing::TypeId,
        depth: usize,
        writer: &mut TraceWriter,
    ) -> RecorderResult<ValueRecord> {
        let py = value.py();
        let pair_type = self.types.builtin(Builtin::Pair, writer)?;
        let mut elements = Vec::with_capacity(self.capacity(ffi::PyDict_Size(value.as_ptr())));
        let mut pos: ffi::Py_ssize_t = 0;
        let mut key: *mut ffi::PyObject = std::ptr::null_mut();
        let mut item: *mut ffi::PyObject = std::ptr::null_mut();
        let mut cut = false;
        while ffi::PyDict_Next(value.as_ptr(), &mut pos, &mut key, &mut item) != 0 {
            if !self.room(elements.len()) {
                cut = true;
                break;
            }
            let key = Bound::from_borrowed_ptr(py, key);
            let item = Bound::from_borrowed_ptr(py, item);
            let key = self.value(&key, depth + 1, writer)?;
            let item = self.value(&item, depth + 1, writer)?;
            elements.push(ValueRecord::Tuple {
                elements: vec![key, item],
                type_id: pair_type,
            });
        }
        Ok(ValueRecord::Sequence {
            elements,
            is_slice: cut,
            type_id,
        })
    }

    /// Sets are walked with the built-in set iterator, whatever the subclass overrides.
    unsafe fn set(
        &mut self,
        value: &Bound<'_, PyAny>,
        type_id: runtime_tracing::TypeId,
        depth: usize,
        writer: &mut TraceWriter,
    ) -> RecorderResult<ValueRecord> {
        let py = value.py();
        let set_type: *mut ffi::PyTypeObject = &raw mut ffi::PySet_Type;
        let Some(iter_fn) = (*set_type).tp_iter else {
            return self.error("set iteration unavailable".to_string(), writer);
        };
        let Some(iter) = Bound::from_owned_ptr_or_opt(py, iter_fn(value.as_ptr())) else {
            ffi::PyErr_Clear();
            return self.error("set iteration failed".to_string(), writer);
        };
        let mut elements = Vec::with_capacity(self.capacity(ffi::PySet_Size(value.as_ptr())));
        let mut cut = false;
        loop {
            let Some(item) = Bound::from_owned_ptr_or_opt(py, ffi::PyIter_Next(iter.as_ptr()))
            else {
                ffi::PyErr_Clear();
                break;
            };
            if !self.room(elements.len()) {
                cut = true;
                break;
            }
            elements.push(self.value(&item, depth + 1, writer)?);
        }
        Ok(ValueRecord::Sequence {
            elements,
            is_slice: cut,
            type_id,
        })
    }

    /// An instance of a user class: a `Struct` of its `__dict__` entries.
    unsafe fn instance(
        &mut self,
        value: &Bound<'_, PyAny>,
        tp: *mut ffi::PyTypeObject,
        depth: usize,
        writer: &mut TraceWriter,
    ) -> RecorderResult<ValueRecord> {
        let py = value.py();
        let Some(dict) = Bound::from_owned_ptr_or_opt(
            py,
            ffi::PyObject_GenericGetDict(value.as_ptr(), std::ptr::null_mut()),
        ) else {
            ffi::PyErr_Clear();
            return self.opaque(value, tp, writer);
        };
        if ffi::PyDict_Check(dict.as_ptr()) == 0 {
            return self.opaque(value, tp, writer);
        }
        let start = self.field_names.len();
        let result = self.instance_fields(tp, &dict, start, depth, writer);
        self.field_names.truncate(start);
        result
    }

    /// The `Struct` of an instance's `__dict__`; its field names are pushed on
    /// `field_names` from `start` (the caller truncates them).
    unsafe fn instance_fields(
        &mut self,
        tp: *mut ffi::PyTypeObject,
        dict: &Bound<'_, PyAny>,
        start: usize,
        depth: usize,
        writer: &mut TraceWriter,
    ) -> RecorderResult<ValueRecord> {
        let py = dict.py();
        let size = usize::try_from(ffi::PyDict_Size(dict.as_ptr())).unwrap_or(0);
        let mut field_values = Vec::with_capacity(size.min(self.limits.max_items + 1));
        let mut pos: ffi::Py_ssize_t = 0;
        let mut key: *mut ffi::PyObject = std::ptr::null_mut();
        let mut item: *mut ffi::PyObject = std::ptr::null_mut();
        let mut cut = false;
        while ffi::PyDict_Next(dict.as_ptr(), &mut pos, &mut key, &mut item) != 0 {
            if ffi::PyUnicode_Check(key) == 0 {
                continue;
            }
            let action = self.field_action(key);
            if action == ValueAction::Drop {
                continue;
            }
            if !self.room(field_values.len()) {
                cut = true;
                break;
            }
            self.field_names.push(key as usize);
            if action == ValueAction::Redact {
                field_values.push(self.markers.redacted(writer)?);
                continue;
            }
            let item = Bound::from_borrowed_ptr(py, item);
            field_values.push(self.value(&item, depth + 1, writer)?);
        }
        if cut {
            field_values.push(self.truncated(writer)?);
        }
        let field_types: Vec<runtime_tracing::TypeId> =
            field_values.iter().map(record_type_id).collect();
        let names = &self.field_names[start..];
        if let Some(type_id) = self.shapes.get(tp, names, &field_types, cut) {
            return Ok(ValueRecord::Struct {
                field_values,
                type_id,
            });
        }
        let class = self.types.name(py, tp).to_string();
        let mut key = class.clone();
        let mut fields = Vec::with_capacity(field_types.len());
        let mut texts: Vec<String> = names
            .iter()
            .map(|name| self.text(&Bound::from_borrowed_ptr(py, *name as *mut ffi::PyObject)))
            .collect();
        if cut {
            texts.push("...".to_string());
        }
        for (name, type_id) in texts.into_iter().zip(&field_types) {
            key.push('\u{0}');
            key.push_str(&name);
            key.push(':');
            key.push_str(&type_id.0.to_string());
            fields.push(FieldTypeRecord {
                name,
                type_id: *type_id,
            });
        }
        let type_id = writer.ensure_type(&key, || TypeRecord {
            kind: TypeKind::Struct,
            lang_type: class,
            specific_info: TypeSpecificInfo::Struct { fields },
        })?;
        let names = &self.field_names[start..];
        self.shapes.insert(py, tp, names, field_types, cut, type_id);
        Ok(ValueRecord::Struct {
            field_values,
            type_id,
        })
    }

    /// The `attr:` action for the field named by the `str` `key`, counted.
    ///
    /// # Safety
    /// `key` must be a live `str` and the GIL held.
    unsafe fn field_action(&mut self, key: *mut ffi::PyObject) -> ValueAction {
        let Some(policy) = &self.field_policy else {
            return ValueAction::Allow;
        };
        let action = match policy.uniform_action(ValueKind::Attr) {
            Some(action) => action,
            None => {
                let mut size: ffi::Py_ssize_t = 0;
                let data = ffi::PyUnicode_AsUTF8AndSize(key, &mut size);
                if data.is_null() {
                    ffi::PyErr_Clear();
                    policy.action_for(ValueKind::Attr, "")
                } else {
                    let bytes = std::slice::from_raw_parts(
                        data.cast::<u8>(),
                        usize::try_from(size).unwrap_or(0),
                    );
                    policy.action_for(ValueKind::Attr, std::str::from_utf8(bytes).unwrap_or(""))
                }
            }
        };
        self.field_stats.record_value(ValueKind::Attr, action);
        action
    }

    /// Exceptions as `Type: message`, other objects as `<Type object>`.
    unsafe fn opaque(
        &mut self,
        value: &Bound<'_, PyAny>,
        tp: *mut ffi::PyTypeObject,
        writer: &mut TraceWriter,
    ) -> RecorderResult<ValueRecord> {
        let py = value.py();
        let ptr = value.as_ptr();
        let type_id = self.types.of_type(py, tp, TypeKind::Raw, writer)?;
        let r = if ffi::PyExceptionInstance_Check(ptr) != 0 {
            exception_text(value, &mut self.types)
        } else if ffi::PyType_Check(ptr) != 0 {
            format!("<class '{}'>", self.types.name(py, ptr.cast()))
        } else if ffi::PyModule_Check(ptr) != 0 {
            let name = ffi::PyModule_GetName(ptr);
            if name.is_null() {
                ffi::PyErr_Clear();
                "<module>".to_string()
            } else {
                format!("<module '{}'>", CStr::from_ptr(name).to_string_lossy())
            }
        } else if tp == &raw mut ffi::PyComplex_Type || tp == &raw mut ffi::PyRange_Type {
            match Bound::from_owned_ptr_or_opt(py, ffi::PyObject_Repr(ptr)) {
                Some(text) => self.text(&text),
                None => {
                    ffi::PyErr_Clear();
                    format!("<{} object>", self.types.name(py, tp))
                }
            }
        } else {
            format!("<{} object>", self.types.name(py, tp))
        };
        Ok(ValueRecord::Raw { r, type_id })
    }

    /// How many items a container of `len` items will keep at most.
    fn capacity(&self, len: ffi::Py_ssize_t) -> usize {
        usize::try_from(len)
            .unwrap_or(0)
            .min(self.limits.max_items)
            .min(self.budget)
    }

    /// Whether a container holding `kept` items may take one more.
    fn room(&self, kept: usize) -> bool {
        kept < self.limits.max_items && self.budget > 0
    }

    fn truncated(&mut self, writer: &mut TraceWriter) -> RecorderResult<ValueRecord> {
        let type_id = self.types.builtin(Builtin::Truncated, writer)?;
        Ok(ValueRecord::Raw {
            r: "...".to_string(),
            type_id,
        })
    }
}

/// `Type: message` of an exception, from its class and `args` (no `__str__` call).
pub fn exception_text(exception: &Bound<'_, PyAny>, types: &mut TypeCache) -> String {
    let py = exception.py();
    let ptr = exception.as_ptr();
    unsafe {
        let name = types.name(py, ffi::Py_TYPE(ptr)).to_string();
        if ffi::PyExceptionInstance_Check(ptr) == 0 {
            return name;
        }
        let args = (*ptr.cast::<ffi::PyBaseExceptionObject>()).args;
        if args.is_null() || ffi::PyTuple_Check(args) == 0 || ffi::PyTuple_GET_SIZE(args) == 0 {
            return name;
        }
        let first = ffi::PyTuple_GET_ITEM(args, 0);
        if ffi::PyTuple_GET_SIZE(args) == 1 && ffi::PyUnicode_Check(first) != 0 {
            let first = Bound::from_borrowed_ptr(py, first);
            let mut size: ffi::Py_ssize_t = 0;
            let data = ffi::PyUnicode_AsUTF8AndSize(first.as_ptr(), &mut size);
            if data.is_null() {
                ffi::PyErr_Clear();
                return format!("{name}: {}", escaped_text(&first));
            }
            let bytes =
                std::slice::from_raw_parts(data.cast::<u8>(), usize::try_from(size).unwrap_or(0));
            return format!("{name}: {}", String::from_utf8_lossy(bytes));
        }
        let args = Bound::from_borrowed_ptr(py, args);
        format!("{name}: {}", args_preview(&args, types))
    }
}

/// The most arguments of an exception previewed.
const PREVIEW_ARGS: usize = 8;
/// The most characters of one previewed argument.
const PREVIEW_CHARS: usize = 256;

/// An exception's `args` as `str(exception)` shows them, without running
/// user code: one argument alone, several as a tuple; `repr` only of the
/// exact built-in types whose `repr` is the interpreter's own (`str`, `int`,
/// `float`, `bool`, `None`, `bytes`), `<Type object>` for anything else.
/// Each argument is cut at 256 characters, the tuple after 8 arguments.
unsafe fn args_preview(args: &Bound<'_, PyAny>, types: &mut TypeCache) -> String {
    let count = usize::try_from(ffi::PyTuple_GET_SIZE(args.as_ptr())).unwrap_or(0);
    let mut items = Vec::with_capacity(count.min(PREVIEW_ARGS + 1));
    for index in 0..count.min(PREVIEW_ARGS) {
        // SAFETY: `index` is within the tuple; the item is borrowed from it.
        let item = ffi::PyTuple_GET_ITEM(args.as_ptr(), index as ffi::Py_ssize_t);
        items.push(builtin_repr(
            &Bound::from_borrowed_ptr(args.py(), item),
            types,
        ));
    }
    if count == 1 {
        return items.pop().unwrap_or_default();
    }
    if count > PREVIEW_ARGS {
        items.push("...".to_string());
    }
    format!("({})", items.join(", "))
}

/// `repr(value)` for the exact built-in scalars, else `<Type object>`.
unsafe fn builtin_repr(value: &Bound<'_, PyAny>, types: &mut TypeCache) -> String {
    let ptr = value.as_ptr();
    let builtin = ffi::PyUnicode_CheckExact(ptr) != 0
        || ffi::PyLong_CheckExact(ptr) != 0
        || ffi::PyFloat_CheckExact(ptr) != 0
        || ffi::PyBool_Check(ptr) != 0
        || ffi::PyBytes_CheckExact(ptr) != 0
        || ptr == ffi::Py_None();
    if !builtin {
        return format!("<{} object>", types.name(value.py(), ffi::Py_TYPE(ptr)));
    }
    // The interpreter's own repr of a built-in scalar runs no user code; it
    // fails only for an int too long to print (the int-to-str limit).
    let Some(repr) = Bound::from_owned_ptr_or_opt(value.py(), ffi::PyObject_Repr(ptr)) else {
        ffi::PyErr_Clear();
        return format!("<{} object>", types.name(value.py(), ffi::Py_TYPE(ptr)));
    };
    let text = escaped_text(&repr);
    match text.char_indices().nth(PREVIEW_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

/// The type id carried by a record.
fn record_type_id(record: &ValueRecord) -> runtime_tracing::TypeId {
    match record {
        ValueRecord::Int { type_id, .. }
        | ValueRecord::Float { type_id, .. }
        | ValueRecord::Bool { type_id, .. }
        | ValueRecord::String { type_id, .. }
        | ValueRecord::Sequence { type_id, .. }
        | ValueRecord::Tuple { type_id, .. }
        | ValueRecord::Struct { type_id, .. }
        | ValueRecord::Variant { type_id, .. }
        | ValueRecord::Reference { type_id, .. }
        | ValueRecord::Raw { type_id, .. }
        | ValueRecord::Error { type_id, .. }
        | ValueRecord::None { type_id }
        | ValueRecord::BigInt { type_id, .. } => *type_id,
        ValueRecord::Cell { .. } => NONE_TYPE_ID,
    }
}

/// `len()` of the built-in containers, read from the object layout.
unsafe fn sized_len(ptr: *mut ffi::PyObject) -> Option<isize> {
    if ffi::PyList_Check(ptr) != 0 {
        Some(ffi::PyList_GET_SIZE(ptr))
    } else if ffi::PyTuple_Check(ptr) != 0 {
        Some(ffi::PyTuple_GET_SIZE(ptr))
    } else if ffi::PyDict_Check(ptr) != 0 {
        Some(ffi::PyDict_Size(ptr))
    } else if ffi::PyAnySet_Check(ptr) != 0 {
        Some(ffi::PySet_Size(ptr))
    } else {
        None
    }
}

/// Sign and big-endian magnitude of a Python int, via its hexadecimal form.
unsafe fn big_int(value: &Bound<'_, PyAny>) -> Option<(bool, Vec<u8>)> {
    let Some(hex) =
        Bound::from_owned_ptr_or_opt(value.py(), ffi::PyNumber_ToBase(value.as_ptr(), 16))
    else {
        ffi::PyErr_Clear();
        return None;
    };
    let hex: String = hex.extract().ok()?;
    let (negative, digits) = match hex.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, hex.as_str()),
    };
    let digits = digits.strip_prefix("0x")?;
    Some((negative, hex_to_bytes(digits)?))
}

/// `"1ff"` -> `[0x01, 0xff]`.
fn hex_to_bytes(digits: &str) -> Option<Vec<u8>> {
    let digits = digits.as_bytes();
    let mut out = Vec::with_capacity(digits.len() / 2 + 1);
    let odd = digits.len() % 2;
    if odd == 1 {
        out.push(hex_digit(digits[0])?);
    }
    for pair in digits[odd..].chunks(2) {
        out.push(hex_digit(pair[0])? << 4 | hex_digit(pair[1])?);
    }
    Some(out)
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// A `str` with lone surrogates, as UTF-8 with `\udXXX` escapes.
unsafe fn escaped_text(value: &Bound<'_, PyAny>) -> String {
    let encoded = ffi::PyUnicode_AsEncodedString(
        value.as_ptr(),
        c"utf-8".as_ptr(),
        c"backslashreplace".as_ptr(),
    );
    let Some(encoded) = Bound::from_owned_ptr_or_opt(value.py(), encoded) else {
        ffi::PyErr_Clear();
        return String::new();
    };
    let data = ffi::PyBytes_AsString(encoded.as_ptr());
    if data.is_null() {
        ffi::PyErr_Clear();
        return String::new();
    }
    let len = ffi::PyBytes_Size(encoded.as_ptr());
    let bytes = std::slice::from_raw_parts(data.cast::<u8>(), usize::try_from(len).unwrap_or(0));
    String::from_utf8_lossy(bytes).into_owned()
}

/// The first `max` bytes (at most, on a character boundary) of UTF-8 `bytes`
/// as a `String`, copying only what is kept.
fn utf8_prefix(bytes: &[u8], max: usize) -> String {
    let mut end = bytes.len().min(max);
    // A UTF-8 continuation byte is 0b10xx_xxxx: step back to a character start.
    while end < bytes.len() && end > 0 && bytes[end] & 0xC0 == 0x80 {
        end -= 1;
    }
    match std::str::from_utf8(&bytes[..end]) {
        Ok(text) => text.to_owned(),
        Err(_) => cut_text(String::from_utf8_lossy(&bytes[..end]).into_owned(), max),
    }
}

/// Cuts `text` to at most `max` bytes on a character boundary.
fn cut_text(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::{cut_text, hex_to_bytes, utf8_prefix};

    #[test]
    fn hex_digits_become_big_endian_bytes() {
        assert_eq!(hex_to_bytes("1ff"), Some(vec![0x01, 0xff]));
        assert_eq!(
            hex_to_bytes("10000000000000000"),
            Some(vec![1, 0, 0, 0, 0, 0, 0, 0, 0])
        );
        assert_eq!(hex_to_bytes("zz"), None);
    }

    #[test]
    fn text_is_cut_on_char_boundaries() {
        assert_eq!(cut_text("héllo".to_string(), 2), "h");
        assert_eq!(cut_text("abc".to_string(), 10), "abc");
        assert_eq!(utf8_prefix("héllo".as_bytes(), 2), "h");
        assert_eq!(utf8_prefix("héllo".as_bytes(), 3), "hé");
        assert_eq!(utf8_prefix("abc".as_bytes(), 10), "abc");
        assert_eq!(utf8_prefix("€".as_bytes(), 2), "");
    }
}
