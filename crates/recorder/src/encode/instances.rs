//! Objects that are not built-in values: instances of user classes as a
//! `Struct` of their `__dict__`, everything else as a short `Raw` description
//! (`Type: message` for exceptions, `<class 'X'>`, `<module 'm'>`, the repr of
//! `complex` and `range`, else `<Type object>`). Nothing here calls user code:
//! no `__repr__`, `__getattr__`, properties or descriptors.

use std::ffi::CStr;

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyString, PyTuple, PyType};
use recorder_errors::RecorderResult;
use runtime_tracing::{
    FieldTypeRecord, TypeId, TypeKind, TypeRecord, TypeSpecificInfo, ValueRecord, NONE_TYPE_ID,
};

use super::capi::{clear_error, owned, type_flags};
use super::containers::DictEntries;
use super::table::{Kind, Nest};
use super::text::str_text;
use super::types::TypeCache;
use super::ValueEncoder;
use crate::filter::model::ValueAction;
use crate::writer::TypeInterner;

impl ValueEncoder {
    /// An instance of a user class: a `Struct` with one field per `str` key
    /// of its `__dict__` (read without descriptors); opaque when it has none.
    pub(super) fn instance(
        &mut self,
        value: &Bound<'_, PyAny>,
        tp: &Bound<'_, PyType>,
        depth: usize,
        interner: &mut impl TypeInterner,
    ) -> RecorderResult<ValueRecord> {
        // SAFETY: `value` is a live object; the generic getter reads its
        // instance dict without calling any descriptor, and returns a new
        // reference or NULL.
        let dict = unsafe {
            owned(
                value.py(),
                ffi::PyObject_GenericGetDict(value.as_ptr(), std::ptr::null_mut()),
            )
        };
        match dict.as_ref().map(|dict| dict.cast::<PyDict>()) {
            Some(Ok(dict)) => {
                let node = self.witness.open(value, Nest::Instance, dict.len());
                self.fields(tp, dict, node, depth, interner)
            }
            _ => {
                self.witness.refuse();
                self.opaque(value, tp, interner)
            }
        }
    }

    /// The `Struct` of an instance's `__dict__` (`node`: its witness node).
    /// Its field names are pushed on `field_names`, strong references held
    /// until the struct type is found: a finalizer that runs while the
    /// values are encoded may delete them from the dict.
    fn fields(
        &mut self,
        tp: &Bound<'_, PyType>,
        dict: &Bound<'_, PyDict>,
        node: usize,
        depth: usize,
        interner: &mut impl TypeInterner,
    ) -> RecorderResult<ValueRecord> {
        let start = self.field_names.len();
        let record = self.fields_from(start, tp, dict, node, depth, interner);
        let py = dict.py();
        // Released through `Bound` (a plain decref: `py` proves the GIL is held).
        self.field_names
            .drain(start..)
            .for_each(|name| drop(name.into_bound(py)));
        record
    }

    /// [`ValueEncoder::fields`], with this instance's names from `start` on.
    fn fields_from(
        &mut self,
        start: usize,
        tp: &Bound<'_, PyType>,
        dict: &Bound<'_, PyDict>,
        node: usize,
        depth: usize,
        interner: &mut impl TypeInterner,
    ) -> RecorderResult<ValueRecord> {
        let mut field_values = Vec::with_capacity(dict.len().min(self.limits.max_items + 1));
        let mut cut = false;
        let mut read = 0;
        for (name, item) in DictEntries::new(dict) {
            read += 1;
            let Ok(name) = name.cast_into::<PyString>() else {
                self.witness.refuse();
                continue;
            };
            let action = self.field_action(&name);
            let encoded = action == ValueAction::Allow && self.room(field_values.len());
            self.witness.field(&name, encoded);
            if action == ValueAction::Drop {
                continue;
            }
            if !self.room(field_values.len()) {
                cut = true;
                break;
            }
            self.field_names.push(name.unbind());
            if action == ValueAction::Redact {
                field_values.push(self.redacted(interner)?);
                continue;
            }
            field_values.push(self.value(&item, depth + 1, interner)?);
        }
        self.witness.close(node, read, dict.len());
        if cut {
            field_values.push(self.truncated(interner)?);
        }
        // The field values are encoded: no nested instance uses the scratch list now.
        let mut field_types = std::mem::take(&mut self.field_types);
        field_types.clear();
        field_types.extend(field_values.iter().map(record_type_id));
        let type_id = self.struct_type_id(tp, start, &field_types, cut, interner);
        self.field_types = field_types;
        Ok(ValueRecord::Struct {
            field_values,
            type_id: type_id?,
        })
    }

    /// The `Struct` type of an instance of `tp` whose fields are named by
    /// `field_names[start..]` and hold values of `field_types`: remembered
    /// by shape, interned the first time.
    fn struct_type_id(
        &mut self,
        tp: &Bound<'_, PyType>,
        start: usize,
        field_types: &[TypeId],
        cut: bool,
        interner: &mut impl TypeInterner,
    ) -> RecorderResult<TypeId> {
        let names = &self.field_names[start..];
        if let Some(type_id) = self.shapes.get(tp, names, field_types, cut) {
            return Ok(type_id);
        }
        let type_id = self.struct_type(tp, start, field_types, cut, interner)?;
        let names = &self.field_names[start..];
        self.shapes
            .insert(tp, names, field_types.to_vec(), cut, type_id);
        Ok(type_id)
    }

    /// Interns the `Struct` type of a class whose fields are named by
    /// `field_names[start..]` (and a trailing `...` field when cut).
    fn struct_type(
        &mut self,
        tp: &Bound<'_, PyType>,
        start: usize,
        field_types: &[TypeId],
        cut: bool,
        interner: &mut impl TypeInterner,
    ) -> RecorderResult<TypeId> {
        let py = tp.py();
        let class = self.types.name(tp).to_string();
        let mut texts: Vec<String> = self.field_names[start..]
            .iter()
            .map(|name| str_text(name.bind(py), self.limits.max_string_bytes))
            .collect();
        if cut {
            texts.push("...".to_string());
        }
        let mut key = class.clone();
        let mut fields = Vec::with_capacity(field_types.len());
        for (name, type_id) in texts.into_iter().zip(field_types) {
            key.push('\u{0}');
            key.push_str(&name);
            key.push(':');
            key.push_str(&type_id.0.to_string());
            fields.push(FieldTypeRecord {
                name,
                type_id: *type_id,
            });
        }
        interner.intern_type(&key, || TypeRecord {
            kind: TypeKind::Struct,
            lang_type: class,
            specific_info: TypeSpecificInfo::Struct { fields },
        })
    }

    /// `Raw` description of an object whose contents are not recorded.
    pub(super) fn opaque(
        &mut self,
        value: &Bound<'_, PyAny>,
        tp: &Bound<'_, PyType>,
        interner: &mut impl TypeInterner,
    ) -> RecorderResult<ValueRecord> {
        let type_id = self.type_id(value, Kind::Opaque, false, interner)?;
        let r = self.description(value, tp);
        Ok(ValueRecord::Raw { r, type_id })
    }

    fn description(&mut self, value: &Bound<'_, PyAny>, tp: &Bound<'_, PyType>) -> String {
        let py = value.py();
        if type_flags(tp) & ffi::Py_TPFLAGS_BASE_EXC_SUBCLASS != 0 {
            return exception_text(value, &mut self.types);
        }
        if let Ok(class) = value.cast::<PyType>() {
            return self.types.class_text(class).to_owned();
        }
        // SAFETY: `value` is a live object; `PyModule_Type` a static type.
        if unsafe { ffi::PyModule_Check(value.as_ptr()) } != 0 {
            // SAFETY: `value` is a live module; the name is borrowed from its
            // `__name__` (or NULL) and copied at once.
            let name = unsafe { ffi::PyModule_GetName(value.as_ptr()) };
            if name.is_null() {
                clear_error(py);
                return "<module>".to_string();
            }
            // SAFETY: a non-NULL result is a NUL-terminated string.
            let name = unsafe { CStr::from_ptr(name) };
            return format!("<module '{}'>", name.to_string_lossy());
        }
        let ptr = tp.as_type_ptr();
        if ptr == &raw mut ffi::PyComplex_Type || ptr == &raw mut ffi::PyRange_Type {
            // SAFETY: `value` is a live complex or range, whose built-in repr
            // runs no user code; the call returns a new reference or NULL.
            let repr = unsafe { owned(py, ffi::PyObject_Repr(value.as_ptr())) };
            if let Some(Ok(repr)) = repr.as_ref().map(|repr| repr.cast::<PyString>()) {
                return str_text(repr, self.limits.max_string_bytes);
            }
        }
        self.types.opaque_text(tp).to_owned()
    }
}

/// `Type: message` of an exception, from its class and `args` (no `__str__`
/// call); the bare type name when `args` holds no single string.
pub fn exception_text(exception: &Bound<'_, PyAny>, types: &mut TypeCache) -> String {
    let tp = exception.get_type();
    let name = types.name(&tp).to_string();
    if type_flags(&tp) & ffi::Py_TPFLAGS_BASE_EXC_SUBCLASS == 0 {
        return name;
    }
    // SAFETY: `exception` is a live exception instance (its type's flag says
    // so), laid out as a `PyBaseExceptionObject`; its `args` pointer is read
    // and turned into a strong reference at once.
    let args = unsafe {
        let object = exception.as_ptr().cast::<ffi::PyBaseExceptionObject>();
        Bound::from_borrowed_ptr_or_opt(exception.py(), (*object).args)
    };
    let Some(Ok(args)) = args.as_ref().map(|args| args.cast::<PyTuple>()) else {
        return name;
    };
    let items = args.as_slice();
    if let [first] = items {
        if let Ok(text) = first.cast::<PyString>() {
            return format!("{name}: {}", str_text(text, usize::MAX));
        }
    }
    if items.is_empty() {
        return name;
    }
    format!("{name}: {}", args_preview(items, types))
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
fn args_preview(items: &[Bound<'_, PyAny>], types: &mut TypeCache) -> String {
    let mut shown: Vec<String> = items
        .iter()
        .take(PREVIEW_ARGS)
        .map(|item| builtin_repr(item, types))
        .collect();
    if items.len() == 1 {
        return shown.pop().unwrap_or_default();
    }
    if items.len() > PREVIEW_ARGS {
        shown.push("...".to_string());
    }
    format!("({})", shown.join(", "))
}

/// `repr(value)` for the exact built-in scalars, else `<Type object>`.
fn builtin_repr(value: &Bound<'_, PyAny>, types: &mut TypeCache) -> String {
    let builtin = value.is_exact_instance_of::<PyString>()
        || value.is_exact_instance_of::<PyInt>()
        || value.is_exact_instance_of::<PyFloat>()
        || value.is_exact_instance_of::<PyBool>()
        || value.is_exact_instance_of::<PyBytes>()
        || value.is_none();
    let opaque = |types: &mut TypeCache| types.opaque_text(&value.get_type()).to_owned();
    if !builtin {
        return opaque(types);
    }
    // The interpreter's own repr of a built-in scalar runs no user code; it
    // fails only for an int too long to print (the int-to-str limit).
    let Ok(repr) = value.repr() else {
        return opaque(types);
    };
    let text = str_text(&repr, usize::MAX);
    match text.char_indices().nth(PREVIEW_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

/// The type id carried by a record.
pub(super) fn record_type_id(record: &ValueRecord) -> TypeId {
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
