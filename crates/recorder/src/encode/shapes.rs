//! Struct type ids by shape: an instance's class, its field names (the `str`
//! keys of its `__dict__`, compared by identity) and the type ids of its field
//! values. Instances of one class almost always share a handful of shapes, so
//! the `Struct` type of the next instance is found by comparing a few pointers
//! instead of building and hashing a textual interning key.
//!
//! Identity is sound because every object compared is alive: the cache holds
//! strong references to the classes and names it remembers, and the caller
//! holds the names it looks up.

use std::collections::HashMap;

use pyo3::prelude::*;
use pyo3::types::{PyString, PyType};
use runtime_tracing::TypeId;

/// Shapes remembered per class; further shapes take the slow path every time.
const MAX_SHAPES_PER_CLASS: usize = 16;

/// One remembered shape.
#[derive(Debug)]
struct Shape {
    /// The field names.
    names: Vec<Py<PyString>>,
    /// The field values' type ids, in field order.
    field_types: Vec<TypeId>,
    /// The fields were cut by the length limit (a `...` field ends the struct).
    cut: bool,
    /// The interned `Struct` type.
    id: TypeId,
}

impl Shape {
    fn matches(&self, names: &[Py<PyString>], field_types: &[TypeId], cut: bool) -> bool {
        self.cut == cut
            && self.field_types == field_types
            && self.names.len() == names.len()
            && self
                .names
                .iter()
                .zip(names)
                .all(|(kept, name)| kept.as_ptr() == name.as_ptr())
    }
}

/// The shapes of one class.
#[derive(Debug)]
struct ClassShapes {
    /// Keeps the class alive so its address is never reused while cached.
    _class: Py<PyType>,
    shapes: Vec<Shape>,
}

/// Struct type ids by class (type object address) and shape.
#[derive(Debug, Default)]
pub struct ShapeCache {
    classes: HashMap<usize, ClassShapes>,
}

impl ShapeCache {
    /// The remembered type id of an instance of `tp` with these field names
    /// and field value types.
    pub fn get(
        &self,
        tp: &Bound<'_, PyType>,
        names: &[Py<PyString>],
        field_types: &[TypeId],
        cut: bool,
    ) -> Option<TypeId> {
        self.classes
            .get(&(tp.as_ptr() as usize))?
            .shapes
            .iter()
            .find(|shape| shape.matches(names, field_types, cut))
            .map(|shape| shape.id)
    }

    /// Remembers the type id of a shape (up to [`MAX_SHAPES_PER_CLASS`] per class).
    pub fn insert(
        &mut self,
        tp: &Bound<'_, PyType>,
        names: &[Py<PyString>],
        field_types: Vec<TypeId>,
        cut: bool,
        id: TypeId,
    ) {
        let class = self
            .classes
            .entry(tp.as_ptr() as usize)
            .or_insert_with(|| ClassShapes {
                _class: tp.clone().unbind(),
                shapes: Vec::new(),
            });
        if class.shapes.len() >= MAX_SHAPES_PER_CLASS {
            return;
        }
        class.shapes.push(Shape {
            names: names.iter().map(|name| name.clone_ref(tp.py())).collect(),
            field_types,
            cut,
            id,
        });
    }
}
