//! Struct type ids by shape: an instance's class, its field names (the `str`
//! keys of its `__dict__`, compared by identity) and the type ids of its field
//! values. Instances of one class almost always share a handful of shapes, so
//! the `Struct` type of the next instance is found by comparing a few pointers
//! instead of building and hashing a textual interning key.

use std::collections::HashMap;

use pyo3::ffi;
use pyo3::prelude::*;
use runtime_tracing::TypeId;

/// Shapes remembered per class; further shapes take the slow path every time.
const MAX_SHAPES_PER_CLASS: usize = 16;

/// One remembered shape.
#[derive(Debug)]
struct Shape {
    /// The field names, kept alive so their addresses stay theirs.
    names: Vec<Py<PyAny>>,
    /// The field values' type ids, in field order.
    field_types: Vec<TypeId>,
    /// The fields were cut by the length limit (a `...` field ends the struct).
    cut: bool,
    /// The interned `Struct` type.
    id: TypeId,
}

impl Shape {
    fn matches(&self, names: &[usize], field_types: &[TypeId], cut: bool) -> bool {
        self.cut == cut
            && self.field_types == field_types
            && self.names.len() == names.len()
            && self
                .names
                .iter()
                .zip(names)
                .all(|(kept, name)| kept.as_ptr() as usize == *name)
    }
}

/// Struct type ids by class (type object address) and shape.
///
/// The classes themselves are kept alive by [`super::TypeCache`], which every
/// instance's class passes through before it reaches this cache.
#[derive(Debug, Default)]
pub struct ShapeCache {
    classes: HashMap<usize, Vec<Shape>>,
}

impl ShapeCache {
    /// The remembered type id of an instance of `tp` with these field names
    /// (addresses of borrowed `str` objects) and field value types.
    pub fn get(
        &self,
        tp: *mut ffi::PyTypeObject,
        names: &[usize],
        field_types: &[TypeId],
        cut: bool,
    ) -> Option<TypeId> {
        self.classes
            .get(&(tp as usize))?
            .iter()
            .find(|shape| shape.matches(names, field_types, cut))
            .map(|shape| shape.id)
    }

    /// Remembers the type id of a shape (up to [`MAX_SHAPES_PER_CLASS`] per class).
    ///
    /// # Safety
    /// Every address in `names` must be a live object and the GIL held.
    pub unsafe fn insert(
        &mut self,
        py: Python<'_>,
        tp: *mut ffi::PyTypeObject,
        names: &[usize],
        field_types: Vec<TypeId>,
        cut: bool,
        id: TypeId,
    ) {
        let shapes = self.classes.entry(tp as usize).or_default();
        if shapes.len() >= MAX_SHAPES_PER_CLASS {
            return;
        }
        let names = names
            .iter()
            .map(|name| Bound::from_borrowed_ptr(py, *name as *mut ffi::PyObject).unbind())
            .collect();
        shapes.push(Shape {
            names,
            field_types,
            cut,
            id,
        });
    }
}
