//! Witnesses: what one encoding of a value read, and the check that the live
//! objects would be read the same way again.
//!
//! While a value is encoded for the reuse cache ([`super::reuse`]), the
//! encoder logs every object it reads, in read order (a tree written in
//! preorder): each container's address, type, the length it saw and how many
//! items it read (so the length, item and budget limits decide the same);
//! each instance field's name (held) followed by its value; the address of a
//! `<recursion>` marker; the address, type and length behind a depth-limit
//! marker. A leaf is either held (an exact `int`, `float`, `str`, `bytes`,
//! `complex` or `range`: immutable, without finalizer or weak reference, so
//! holding it is invisible to the program, and its address then proves its
//! content), or known by an identity that outlives the entry (`None`, `True`,
//! `False`, a class, which the type cache keeps), or read for its type alone
//! (an opaque object's `<Type object>`). Anything whose encoding depends on
//! state a witness cannot compare cheaply (a `bytearray`, an exception's
//! `args`, a module's name, a scalar subclass, a long string or a big int,
//! an instance without `__dict__`) makes the value uncacheable.
//!
//! [`Witness::verify`] walks the witness and the live objects in parallel,
//! guided by the witness (it never decides a limit itself): same addresses,
//! same types, same lengths, the same items in the same order. Encoding is a
//! function of exactly what the witness holds (the limits, the budget it
//! started with and the `attr:` policy are part of the cache key), so a
//! witness that verifies proves that encoding again gives the same record.
//! Verification only reads: no Python code runs.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

use super::capi::owned;
use super::container_len;
use super::containers::DictEntries;
use super::table::Nest;
use crate::filter::summary::FilterStats;

/// The longest `str` (in characters) or `bytes` a witness holds: a value
/// holding a longer one is not cached, so the cache never keeps much text alive.
pub(super) const MAX_HELD_LEN: usize = 512;

/// One object the encoder read.
#[derive(Debug)]
pub(super) enum Node {
    /// An object whose identity fixes its encoding for the whole recording
    /// (`None`, `True`, `False`, a class the type cache keeps).
    Is(usize),
    /// An immutable exact scalar, held: its address proves its content.
    Held(Py<PyAny>),
    /// An object encoded from its type alone (the type cache keeps the type).
    TypeOnly(usize),
    /// A container met again inside itself, at this address.
    Recursion(usize),
    /// A container beyond the depth limit.
    DepthLimited {
        address: usize,
        tp: usize,
        nest: Nest,
        len: Option<usize>,
    },
    /// An expanded container; `read` items follow (a dict: key and value
    /// nodes per entry; an instance: a [`Node::Field`] per entry).
    Container {
        address: usize,
        tp: usize,
        nest: Nest,
        len: usize,
        read: usize,
    },
    /// An instance field's name; its value's node follows when `value`
    /// (a dropped, redacted or cut field's value is not read).
    Field { name: Py<PyString>, value: bool },
}

/// A finished witness: the nodes of one top-level value and the filter
/// counts its encoding added.
#[derive(Debug)]
pub struct Witness {
    nodes: Box<[Node]>,
    stats: FilterStats,
    /// Characters and bytes of the strings and bytes it holds.
    held_text: usize,
}

impl Witness {
    /// The instance fields this encoding redacted and dropped.
    pub(super) fn stats(&self) -> &FilterStats {
        &self.stats
    }

    /// Roughly how many bytes the witness occupies and keeps alive.
    pub(super) fn size(&self) -> usize {
        self.nodes.len() * std::mem::size_of::<Node>() + self.held_text
    }

    /// Whether encoding `value` now would read exactly what this witness
    /// records (and so give the same record).
    pub(super) fn verify(&self, value: &Bound<'_, PyAny>) -> bool {
        let mut pos = 0;
        self.node(value, &mut pos) && pos == self.nodes.len()
    }

    fn node(&self, value: &Bound<'_, PyAny>, pos: &mut usize) -> bool {
        let Some(node) = self.nodes.get(*pos) else {
            return false;
        };
        *pos += 1;
        let address = value.as_ptr() as usize;
        let tp_of = |value: &Bound<'_, PyAny>| value.get_type_ptr() as usize;
        match node {
            Node::Is(known) | Node::Recursion(known) => address == *known,
            Node::Held(held) => address == held.as_ptr() as usize,
            Node::TypeOnly(tp) => tp_of(value) == *tp,
            Node::DepthLimited {
                address: known,
                tp,
                nest,
                len,
            } => address == *known && tp_of(value) == *tp && container_len(value, *nest) == *len,
            Node::Container {
                address: known,
                tp,
                nest,
                len,
                read,
            } => {
                address == *known
                    && tp_of(value) == *tp
                    && self.items(value, *nest, *len, *read, pos)
            }
            Node::Field { .. } => false,
        }
    }

    /// The items of a container whose address and type matched.
    fn items(
        &self,
        value: &Bound<'_, PyAny>,
        nest: Nest,
        len: usize,
        read: usize,
        pos: &mut usize,
    ) -> bool {
        match nest {
            Nest::List => {
                // SAFETY: the type matched the witness's, a `list` or subclass.
                let list = unsafe { value.cast_unchecked::<PyList>() };
                list.len() == len
                    && (0..read)
                        .all(|index| list.get_item(index).is_ok_and(|item| self.node(&item, pos)))
            }
            Nest::Tuple => {
                // SAFETY: the type matched the witness's, a `tuple` or subclass.
                let tuple = unsafe { value.cast_unchecked::<PyTuple>() };
                let items = tuple.as_slice();
                items.len() == len
                    && read <= len
                    && items[..read].iter().all(|item| self.node(item, pos))
            }
            Nest::Dict => {
                // SAFETY: the type matched the witness's, a `dict` or subclass.
                let dict = unsafe { value.cast_unchecked::<PyDict>() };
                dict.len() == len && self.entries(dict, read, pos)
            }
            Nest::Set | Nest::FrozenSet => self.set_items(value, len, read, pos),
            Nest::Instance => {
                // SAFETY: `value` is a live object; the generic getter reads
                // its instance dict without calling any descriptor and
                // returns a new reference or NULL (as the encoder did).
                let dict = unsafe {
                    owned(
                        value.py(),
                        ffi::PyObject_GenericGetDict(value.as_ptr(), std::ptr::null_mut()),
                    )
                };
                let Some(Ok(dict)) = dict.as_ref().map(|dict| dict.cast::<PyDict>()) else {
                    return false;
                };
                dict.len() == len && self.fields(dict, read, pos)
            }
        }
    }

    /// The first `read` entries of a dict: key and value nodes.
    fn entries(&self, dict: &Bound<'_, PyDict>, read: usize, pos: &mut usize) -> bool {
        let mut entries = DictEntries::new(dict);
        (0..read).all(|_| {
            entries
                .next()
                .is_some_and(|(key, item)| self.node(&key, pos) && self.node(&item, pos))
        })
    }

    /// The first `read` entries of an instance dict: names, and the values
    /// that were read.
    fn fields(&self, dict: &Bound<'_, PyDict>, read: usize, pos: &mut usize) -> bool {
        let mut entries = DictEntries::new(dict);
        (0..read).all(|_| {
            let Some((key, item)) = entries.next() else {
                return false;
            };
            let Some(Node::Field { name, value }) = self.nodes.get(*pos) else {
                return false;
            };
            *pos += 1;
            key.as_ptr() == name.as_ptr() && (!*value || self.node(&item, pos))
        })
    }

    /// The first `read` items of a set, walked with the built-in set iterator.
    fn set_items(&self, set: &Bound<'_, PyAny>, len: usize, read: usize, pos: &mut usize) -> bool {
        let py = set.py();
        // SAFETY: the type matched the witness's, a `set` or `frozenset` (or subclass).
        if usize::try_from(unsafe { ffi::PySet_Size(set.as_ptr()) }).ok() != Some(len) {
            return false;
        }
        let set_type: *mut ffi::PyTypeObject = &raw mut ffi::PySet_Type;
        // SAFETY: `PySet_Type` is a static built-in type; reading a slot has no effect.
        let Some(iter_fn) = (unsafe { (*set_type).tp_iter }) else {
            return false;
        };
        // SAFETY: `set` is a live set or frozenset; the call returns a new
        // reference or NULL.
        let Some(iter) = (unsafe { owned(py, iter_fn(set.as_ptr())) }) else {
            return false;
        };
        (0..read).all(|_| {
            // SAFETY: `iter` is a live iterator; each call returns a new
            // reference, or NULL at the end (or on error, which `owned` clears).
            unsafe { owned(py, ffi::PyIter_Next(iter.as_ptr())) }
                .is_some_and(|item| self.node(&item, pos))
        })
    }
}

/// The witness being logged by the encoder, if any.
#[derive(Debug, Default)]
pub(super) struct WitnessLog {
    /// A witness is being logged and nothing uncacheable was met yet.
    on: bool,
    nodes: Vec<Node>,
    stats: FilterStats,
    held_text: usize,
}

impl WitnessLog {
    /// Starts logging a top-level value.
    pub(super) fn start(&mut self) {
        self.on = true;
        self.nodes.clear();
        self.stats = FilterStats::default();
        self.held_text = 0;
    }

    /// Whether reads are being logged.
    #[inline(always)]
    pub(super) fn on(&self) -> bool {
        self.on
    }

    /// Stops logging; the witness when the value could be cached (its top
    /// node a container: scalars cost less to encode than to look up).
    pub(super) fn finish(&mut self) -> Option<Witness> {
        let cacheable = std::mem::replace(&mut self.on, false)
            && matches!(self.nodes.first(), Some(Node::Container { .. }));
        if !cacheable {
            self.nodes.clear();
            return None;
        }
        Some(Witness {
            // Exactly sized; the log keeps its buffer for the next value.
            nodes: self.nodes.drain(..).collect(),
            stats: std::mem::take(&mut self.stats),
            held_text: self.held_text,
        })
    }

    /// The value being logged cannot be cached.
    #[cold]
    pub(super) fn refuse(&mut self) {
        if self.on {
            self.on = false;
            self.nodes.clear();
        }
    }

    /// Logs a leaf node.
    #[inline]
    pub(super) fn push(&mut self, node: Node) {
        if self.on {
            self.nodes.push(node);
        }
    }

    /// Holds an immutable exact scalar (`text`: the length of a held `str`
    /// or `bytes`, counted in the cache's size).
    #[inline]
    pub(super) fn hold(&mut self, value: &Bound<'_, PyAny>, text: usize) {
        if self.on {
            self.nodes.push(Node::Held(value.clone().unbind()));
            self.held_text += text;
        }
    }

    /// Logs an instance field's name.
    pub(super) fn field(&mut self, name: &Bound<'_, PyString>, value: bool) {
        if self.on {
            self.nodes.push(Node::Field {
                name: name.clone().unbind(),
                value,
            });
        }
    }

    /// Counts a filter decision the encoding made.
    pub(super) fn count(&mut self, stats: impl FnOnce(&mut FilterStats)) {
        if self.on {
            stats(&mut self.stats);
        }
    }

    /// Opens a container node (its items follow); the index to close it with.
    #[inline]
    pub(super) fn open(&mut self, value: &Bound<'_, PyAny>, nest: Nest, len: usize) -> usize {
        if !self.on {
            return usize::MAX;
        }
        self.nodes.push(Node::Container {
            address: value.as_ptr() as usize,
            tp: value.get_type_ptr() as usize,
            nest,
            len,
            read: 0,
        });
        self.nodes.len() - 1
    }

    /// Closes the container node `index` after `read` items; a container
    /// whose length changed while it was encoded is not cached.
    #[inline]
    pub(super) fn close(&mut self, index: usize, read: usize, len_now: usize) {
        if !self.on {
            return;
        }
        match self.nodes.get_mut(index) {
            Some(Node::Container {
                read: slot, len, ..
            }) if *len == len_now => *slot = read,
            _ => self.refuse(),
        }
    }
}
