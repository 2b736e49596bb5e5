//! The built-in containers and their subclasses, walked through their own
//! storage (never a subclass's `__iter__`, `__len__` or `__getitem__`):
//! `list` and `set` as a `Sequence`, `tuple` as a `Tuple`, `dict` as a
//! `Sequence` of `(key, value)` `Tuple`s. Every item is held by a strong
//! reference while it is encoded.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use recorder_errors::RecorderResult;
use runtime_tracing::{TypeId, ValueRecord};

use super::capi::owned;
use super::table::Nest;
use super::types::Builtin;
use super::ValueEncoder;
use crate::writer::TypeInterner;

impl ValueEncoder {
    /// A `list` as a `Sequence` of its first items.
    pub(super) fn list(
        &mut self,
        list: &Bound<'_, PyList>,
        type_id: TypeId,
        depth: usize,
        interner: &mut impl TypeInterner,
    ) -> RecorderResult<ValueRecord> {
        let node = self.witness.open(list.as_any(), Nest::List, list.len());
        let mut elements = Vec::with_capacity(self.capacity(list.len()));
        let mut index = 0;
        // The length is read again at every step: nothing here shrinks the
        // list, but an item's encoding must not be trusted to keep it as it was.
        while index < list.len() && self.room(elements.len()) {
            let Ok(item) = list.get_item(index) else {
                break;
            };
            elements.push(self.value(&item, depth + 1, interner)?);
            index += 1;
        }
        self.witness.close(node, index, list.len());
        Ok(ValueRecord::Sequence {
            elements,
            is_slice: index < list.len(),
            type_id,
        })
    }

    /// A `tuple` as a `Tuple`, ending with a `...` marker when cut.
    pub(super) fn tuple(
        &mut self,
        tuple: &Bound<'_, PyTuple>,
        type_id: TypeId,
        depth: usize,
        interner: &mut impl TypeInterner,
    ) -> RecorderResult<ValueRecord> {
        let (mut elements, cut) = self.tuple_items(tuple, depth, interner)?;
        if cut {
            elements.push(self.truncated(interner)?);
        }
        Ok(ValueRecord::Tuple { elements, type_id })
    }

    /// The first items of a tuple, and whether some were left out.
    pub(super) fn tuple_items(
        &mut self,
        tuple: &Bound<'_, PyTuple>,
        depth: usize,
        interner: &mut impl TypeInterner,
    ) -> RecorderResult<(Vec<ValueRecord>, bool)> {
        // A tuple never changes and it is held, so its items stay alive.
        let items = tuple.as_slice();
        let node = self.witness.open(tuple.as_any(), Nest::Tuple, items.len());
        let mut elements = Vec::with_capacity(self.capacity(items.len()) + 1);
        for item in items {
            if !self.room(elements.len()) {
                break;
            }
            elements.push(self.value(item, depth + 1, interner)?);
        }
        let cut = elements.len() < items.len();
        self.witness.close(node, elements.len(), items.len());
        Ok((elements, cut))
    }

    /// A `dict` as a `Sequence` of `(key, value)` `Tuple`s.
    pub(super) fn dict(
        &mut self,
        dict: &Bound<'_, PyDict>,
        type_id: TypeId,
        depth: usize,
        interner: &mut impl TypeInterner,
    ) -> RecorderResult<ValueRecord> {
        let pair_type = self.types.builtin(Builtin::Pair, interner)?;
        let node = self.witness.open(dict.as_any(), Nest::Dict, dict.len());
        let mut elements = Vec::with_capacity(self.capacity(dict.len()));
        let mut cut = false;
        for (key, item) in DictEntries::new(dict) {
            if !self.room(elements.len()) {
                cut = true;
                break;
            }
            let key = self.value(&key, depth + 1, interner)?;
            let item = self.value(&item, depth + 1, interner)?;
            elements.push(ValueRecord::Tuple {
                elements: vec![key, item],
                type_id: pair_type,
            });
        }
        self.witness.close(node, elements.len(), dict.len());
        Ok(ValueRecord::Sequence {
            elements,
            is_slice: cut,
            type_id,
        })
    }

    /// A `set` or `frozenset` as a `Sequence`, walked with the built-in set
    /// iterator whatever a subclass overrides.
    pub(super) fn set(
        &mut self,
        set: &Bound<'_, PyAny>,
        type_id: TypeId,
        depth: usize,
        interner: &mut impl TypeInterner,
    ) -> RecorderResult<ValueRecord> {
        let py = set.py();
        let set_type: *mut ffi::PyTypeObject = &raw mut ffi::PySet_Type;
        // SAFETY: `PySet_Type` is a static built-in type; reading a slot has no effect.
        let Some(iter_fn) = (unsafe { (*set_type).tp_iter }) else {
            self.witness.refuse();
            return self.error("set iteration unavailable".to_string(), interner);
        };
        // SAFETY: `set` is a live set or frozenset (same layout, which is all
        // the set iterator reads); the call returns a new reference or NULL.
        let Some(iter) = (unsafe { owned(py, iter_fn(set.as_ptr())) }) else {
            self.witness.refuse();
            return self.error("set iteration failed".to_string(), interner);
        };
        // SAFETY: `set` is a live set or frozenset.
        let len = usize::try_from(unsafe { ffi::PySet_Size(set.as_ptr()) }).unwrap_or(0);
        let node = self.witness.open(set, Nest::Set, len);
        let mut elements = Vec::with_capacity(self.capacity(len));
        let mut cut = false;
        // SAFETY: `iter` is a live iterator; each call returns a new reference,
        // or NULL at the end (or on error, which `owned` clears).
        while let Some(item) = unsafe { owned(py, ffi::PyIter_Next(iter.as_ptr())) } {
            if !self.room(elements.len()) {
                cut = true;
                break;
            }
            elements.push(self.value(&item, depth + 1, interner)?);
        }
        // SAFETY: `set` is a live set or frozenset.
        let len_now = usize::try_from(unsafe { ffi::PySet_Size(set.as_ptr()) }).unwrap_or(0);
        self.witness.close(node, elements.len(), len_now);
        Ok(ValueRecord::Sequence {
            elements,
            is_slice: cut,
            type_id,
        })
    }
}

/// The entries of a dict in storage order (`PyDict_Next`), each key and value
/// held by a strong reference from the moment it is read: code that runs
/// while they are encoded (a finalizer) may remove them from the dict, but
/// cannot free them under the encoder.
pub(super) struct DictEntries<'a, 'py> {
    dict: &'a Bound<'py, PyDict>,
    pos: ffi::Py_ssize_t,
}

impl<'a, 'py> DictEntries<'a, 'py> {
    /// Starts at the first entry.
    pub(super) fn new(dict: &'a Bound<'py, PyDict>) -> DictEntries<'a, 'py> {
        DictEntries { dict, pos: 0 }
    }
}

impl<'py> Iterator for DictEntries<'_, 'py> {
    type Item = (Bound<'py, PyAny>, Bound<'py, PyAny>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let mut key: *mut ffi::PyObject = std::ptr::null_mut();
        let mut item: *mut ffi::PyObject = std::ptr::null_mut();
        // SAFETY: `dict` is a live dict; `pos` only ever comes from `PyDict_Next`.
        let found =
            unsafe { ffi::PyDict_Next(self.dict.as_ptr(), &mut self.pos, &mut key, &mut item) };
        if found == 0 {
            return None;
        }
        let py = self.dict.py();
        // SAFETY: `PyDict_Next` returned borrowed references to live objects;
        // each becomes a strong reference before anything else runs.
        Some(unsafe {
            (
                Bound::from_borrowed_ptr(py, key),
                Bound::from_borrowed_ptr(py, item),
            )
        })
    }
}
