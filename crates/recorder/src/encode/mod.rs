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
//! Layout: `table` decides from a value's type which encoder it goes to and
//! which type slot it gets; `scalars`, `containers` and `instances` encode;
//! `types` and `shapes` cache type ids (and the opaque texts) per Python
//! type and per instance shape, so a `Struct` type is found without building
//! an interning key per instance, and an opaque object's text without
//! formatting; `field_actions` remembers the `attr:` action per policy and
//! field name; `ptr_hash` hashes the address keys of these caches;
//! `witness` logs what one encoding read and checks it against the live
//! objects, and `reuse` keeps the serialised bytes it guards, so an
//! unchanged local or argument is not encoded again. Types
//! are interned through [`TypeInterner`] (the trace writer implements it),
//! the only thing encoding knows of the writer.
//!
//! Trace filters reach into values at one place: the fields of an instance
//! get the `attr:` action of the scope being recorded
//! ([`ValueEncoder::set_field_policy`]); a redacted field is the redaction
//! marker (`markers`), a dropped one is left out, and neither is read.
//!
//! Encoding only reads: it calls no Python-level code. Every object it reads
//! out of another is held by a strong reference while it is used (a tuple's
//! items by the tuple, which cannot change), so code that still runs in
//! between, such as a finalizer, cannot free it underneath.

mod capi;
mod containers;
mod field_actions;
mod instances;
mod markers;
mod ptr_hash;
mod reuse;
mod scalars;
mod shapes;
mod table;
mod text;
mod types;
mod witness;

use std::sync::Arc;

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyList, PyString, PyTuple};
use recorder_errors::RecorderResult;
use runtime_tracing::{TypeId, TypeKind, ValueRecord, NONE_TYPE_ID};

use crate::filter::model::{ValueAction, ValueKind};
use crate::filter::summary::FilterStats;
use crate::filter::value_policy::ValuePolicy;
use crate::writer::TypeInterner;

pub use instances::exception_text;
pub use reuse::Encoding;
pub use types::TypeCache;

use field_actions::FieldActions;
use markers::Markers;
use reuse::ReuseCache;
use shapes::ShapeCache;
use table::{Kind, Nest, TypeTable};
use types::Builtin;
use witness::{Node, WitnessLog, MAX_HELD_LEN};

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

/// Encodes values, interning their types through a [`TypeInterner`].
#[derive(Debug, Default)]
pub struct ValueEncoder {
    table: TypeTable,
    types: TypeCache,
    limits: Limits,
    /// Containers being encoded (the recursion guard).
    active: Vec<usize>,
    /// Values left in the current top-level value's budget.
    budget: usize,
    /// `Struct` type ids by class and shape.
    shapes: ShapeCache,
    /// Field names of the instances being encoded, innermost last.
    field_names: Vec<Py<PyString>>,
    /// Scratch list of one instance's field value types (reused, not reallocated).
    field_types: Vec<TypeId>,
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
    /// The `attr:` action of each field name, per policy.
    field_actions: FieldActions,
    /// What the value being encoded for the reuse cache read.
    witness: WitnessLog,
    /// Earlier encodings of line-step locals and call arguments, by object and budget.
    reuse: ReuseCache,
}

impl ValueEncoder {
    /// An encoder with the given limits.
    pub fn new(limits: Limits) -> ValueEncoder {
        ValueEncoder {
            table: TypeTable::default(),
            types: TypeCache::default(),
            limits,
            active: Vec::new(),
            budget: limits.max_nodes,
            shapes: ShapeCache::default(),
            field_names: Vec::new(),
            field_types: Vec::new(),
            step_left: limits.max_step_nodes,
            step_vars: 0,
            markers: Markers::default(),
            field_policy: None,
            field_stats: FilterStats::default(),
            field_actions: FieldActions::default(),
            witness: WitnessLog::default(),
            reuse: ReuseCache::default(),
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

    /// The `attr:` action for the instance field `name`, counted.
    fn field_action(&mut self, name: &Bound<'_, PyString>) -> ValueAction {
        let Some(policy) = &self.field_policy else {
            return ValueAction::Allow;
        };
        let action = self.field_actions.action(policy, name);
        self.field_stats.record_value(ValueKind::Attr, action);
        self.witness
            .count(|stats| stats.record_value(ValueKind::Attr, action));
        action
    }

    /// The redaction marker, recorded in place of a value the filter redacts.
    pub fn redacted(&mut self, interner: &mut impl TypeInterner) -> RecorderResult<ValueRecord> {
        self.markers.redacted(interner)
    }

    /// The placeholder of a return value the filter drops.
    pub fn dropped(&mut self, interner: &mut impl TypeInterner) -> RecorderResult<ValueRecord> {
        self.markers.dropped(interner)
    }

    /// An `int` the recorder itself knows (the program's exit status).
    pub fn known_int(
        &mut self,
        i: i64,
        interner: &mut impl TypeInterner,
    ) -> RecorderResult<ValueRecord> {
        let type_id = self.types.builtin(types::Builtin::Int, interner)?;
        Ok(ValueRecord::Int { i, type_id })
    }

    /// The type cache (shared with callers that name types).
    pub fn types(&mut self) -> &mut TypeCache {
        &mut self.types
    }

    /// Encodes `value`.
    pub fn encode(
        &mut self,
        value: &Bound<'_, PyAny>,
        interner: &mut impl TypeInterner,
    ) -> RecorderResult<ValueRecord> {
        self.encode_share(value, self.limits.max_nodes, interner)
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
        interner: &mut impl TypeInterner,
    ) -> RecorderResult<ValueRecord> {
        let share = self.local_share();
        let record = self.encode_share(value, share, interner);
        let used = (share - self.budget).max(1);
        self.spend_step(used);
        record
    }

    /// The budget of the current step's next local: an even share of what
    /// the step has left, at most [`Limits::max_nodes`], at least 1.
    fn local_share(&self) -> usize {
        (self.step_left / self.step_vars.max(1)).clamp(1, self.limits.max_nodes)
    }

    /// Encodes a top-level value with a budget of `share` nodes.
    fn encode_share(
        &mut self,
        value: &Bound<'_, PyAny>,
        share: usize,
        interner: &mut impl TypeInterner,
    ) -> RecorderResult<ValueRecord> {
        self.start_value(share);
        self.value(value, 0, interner)
    }

    /// Resets the recursion guard and gives the next top-level value `share` nodes.
    fn start_value(&mut self, share: usize) {
        self.active.clear();
        self.budget = share;
    }

    /// One local of the step took `used` nodes of its budget.
    fn spend_step(&mut self, used: usize) {
        self.step_left = self.step_left.saturating_sub(used);
        self.step_vars = self.step_vars.saturating_sub(1);
    }

    /// Encodes a tuple as a `Sequence` (how `*args` is recorded).
    pub fn encode_varargs(
        &mut self,
        value: &Bound<'_, PyAny>,
        interner: &mut impl TypeInterner,
    ) -> RecorderResult<ValueRecord> {
        self.start_value(self.limits.max_nodes);
        let Ok(tuple) = value.cast::<PyTuple>() else {
            return self.value(value, 0, interner);
        };
        let (elements, cut) = self.tuple_items(tuple, 0, interner)?;
        let type_id = self.types.builtin(Builtin::VarArgs, interner)?;
        Ok(ValueRecord::Sequence {
            elements,
            is_slice: cut,
            type_id,
        })
    }

    /// An `Error` record carrying `msg`.
    pub fn error(
        &mut self,
        msg: String,
        interner: &mut impl TypeInterner,
    ) -> RecorderResult<ValueRecord> {
        let type_id = self.types.builtin(Builtin::Error, interner)?;
        Ok(ValueRecord::Error { msg, type_id })
    }

    /// Encodes one value at `depth`: the type table picks the encoder.
    fn value(
        &mut self,
        value: &Bound<'_, PyAny>,
        depth: usize,
        interner: &mut impl TypeInterner,
    ) -> RecorderResult<ValueRecord> {
        self.budget = self.budget.saturating_sub(1);
        if value.is_none() {
            self.witness.push(Node::Is(value.as_ptr() as usize));
            return Ok(ValueRecord::None {
                type_id: NONE_TYPE_ID,
            });
        }
        let class = self.table.classify(value);
        if self.witness.on() {
            self.log_leaf(value, class.kind, class.exact);
        }
        match class.kind {
            Kind::Nested(nest) => self.nested(value, nest, class.exact, depth, interner),
            Kind::Bool => Ok(ValueRecord::Bool {
                b: value.cast::<PyBool>().is_ok_and(|b| b.is_true()),
                type_id: self.type_id(value, Kind::Bool, class.exact, interner)?,
            }),
            Kind::Int => {
                let type_id = self.type_id(value, Kind::Int, class.exact, interner)?;
                let record = self.int(value, type_id, interner)?;
                if !matches!(record, ValueRecord::Int { .. }) {
                    // A big int is not held (it may be large).
                    self.witness.refuse();
                }
                Ok(record)
            }
            Kind::Float => {
                let type_id = self.type_id(value, Kind::Float, class.exact, interner)?;
                // SAFETY: the table matched `float` or a subclass.
                let float = unsafe { value.cast_unchecked::<PyFloat>() };
                Ok(scalars::float(float, type_id))
            }
            Kind::Str => {
                let type_id = self.type_id(value, Kind::Str, class.exact, interner)?;
                // SAFETY: the table matched `str` or a subclass.
                let text = unsafe { value.cast_unchecked::<PyString>() };
                Ok(self.string(text, type_id))
            }
            Kind::Bytes => {
                let type_id = self.type_id(value, Kind::Bytes, class.exact, interner)?;
                self.bytes(value, &raw mut ffi::PyBytes_Type, type_id, interner)
            }
            Kind::ByteArray => {
                let type_id = self.type_id(value, Kind::ByteArray, class.exact, interner)?;
                self.bytes(value, &raw mut ffi::PyByteArray_Type, type_id, interner)
            }
            Kind::Opaque => self.opaque(value, &value.get_type(), interner),
        }
    }

    /// Logs a value that holds no others into the witness being recorded:
    /// held when it is an immutable exact scalar of bounded size, known by
    /// identity (a singleton, a class), by type (an opaque object), or the
    /// whole value is not cached.
    fn log_leaf(&mut self, value: &Bound<'_, PyAny>, kind: Kind, exact: bool) {
        let ptr = value.as_ptr();
        let held_len = |len: isize| usize::try_from(len).ok().filter(|len| *len <= MAX_HELD_LEN);
        match kind {
            Kind::Nested(_) => {}
            Kind::Bool => self.witness.push(Node::Is(ptr as usize)),
            Kind::Int | Kind::Float if exact => self.witness.hold(value, 0),
            Kind::Str if exact => {
                // SAFETY: the table matched exactly `str`.
                match held_len(unsafe { ffi::PyUnicode_GetLength(ptr) }) {
                    Some(len) => self.witness.hold(value, len),
                    None => self.witness.refuse(),
                }
            }
            Kind::Bytes if exact => {
                // SAFETY: the table matched exactly `bytes`.
                match held_len(unsafe { ffi::PyBytes_Size(ptr) }) {
                    Some(len) => self.witness.hold(value, len),
                    None => self.witness.refuse(),
                }
            }
            Kind::Opaque => self.log_opaque(value),
            _ => self.witness.refuse(),
        }
    }

    /// [`ValueEncoder::log_leaf`] for an opaque object, following
    /// `instances::description`: an exception's `args` and a module's name
    /// are state a witness does not compare.
    fn log_opaque(&mut self, value: &Bound<'_, PyAny>) {
        let tp = value.get_type();
        let ptr = tp.as_type_ptr();
        if capi::type_flags(&tp) & ffi::Py_TPFLAGS_BASE_EXC_SUBCLASS != 0 {
            self.witness.refuse();
        } else if value.cast::<pyo3::types::PyType>().is_ok() {
            // The type cache keeps every class it names, so the address stays its own.
            self.witness.push(Node::Is(value.as_ptr() as usize));
        // SAFETY: `value` is a live object; `PyModule_Type` a static type.
        } else if unsafe { ffi::PyModule_Check(value.as_ptr()) } != 0 {
            self.witness.refuse();
        } else if ptr == &raw mut ffi::PyComplex_Type || ptr == &raw mut ffi::PyRange_Type {
            self.witness.hold(value, 0);
        } else {
            self.witness.push(Node::TypeOnly(ptr as usize));
        }
    }

    /// A value that holds others: a `Raw` marker when it is already being
    /// encoded (recursion) or lies beyond the depth limit, else its items.
    fn nested(
        &mut self,
        value: &Bound<'_, PyAny>,
        nest: Nest,
        exact: bool,
        depth: usize,
        interner: &mut impl TypeInterner,
    ) -> RecorderResult<ValueRecord> {
        let address = value.as_ptr() as usize;
        if self.active.contains(&address) {
            self.witness.push(Node::Recursion(address));
            let type_id = self.types.builtin(Builtin::Recursion, interner)?;
            return Ok(ValueRecord::Raw {
                r: "<recursion>".to_string(),
                type_id,
            });
        }
        if depth >= self.limits.max_depth {
            let type_id = self.types.builtin(Builtin::NonExpanded, interner)?;
            let tp = value.get_type();
            let len = container_len(value, nest);
            self.witness.push(Node::DepthLimited {
                address,
                tp: tp.as_ptr() as usize,
                nest,
                len,
            });
            let r = match len {
                Some(len) => text::sized_text(self.types.name(&tp), len),
                None => self.types.opaque_text(&tp).to_owned(),
            };
            return Ok(ValueRecord::Raw { r, type_id });
        }
        self.active.push(address);
        let result = self.items(value, nest, exact, depth, interner);
        self.active.pop();
        result
    }

    /// The items of a value that passed the guards, walked by its kind.
    fn items(
        &mut self,
        value: &Bound<'_, PyAny>,
        nest: Nest,
        exact: bool,
        depth: usize,
        interner: &mut impl TypeInterner,
    ) -> RecorderResult<ValueRecord> {
        match nest {
            Nest::Instance => self.instance(value, &value.get_type(), depth, interner),
            Nest::List => {
                let kind = Kind::Nested(Nest::List);
                let type_id = self.type_id(value, kind, exact, interner)?;
                // SAFETY: the table matched `list` or a subclass.
                let list = unsafe { value.cast_unchecked::<PyList>() };
                self.list(list, type_id, depth, interner)
            }
            Nest::Tuple => {
                let kind = Kind::Nested(Nest::Tuple);
                let type_id = self.type_id(value, kind, exact, interner)?;
                // SAFETY: the table matched `tuple` or a subclass.
                let tuple = unsafe { value.cast_unchecked::<PyTuple>() };
                self.tuple(tuple, type_id, depth, interner)
            }
            Nest::Dict => {
                let kind = Kind::Nested(Nest::Dict);
                let type_id = self.type_id(value, kind, exact, interner)?;
                // SAFETY: the table matched `dict` or a subclass.
                let dict = unsafe { value.cast_unchecked::<PyDict>() };
                self.dict(dict, type_id, depth, interner)
            }
            Nest::Set => {
                let kind = Kind::Nested(Nest::Set);
                let type_id = self.type_id(value, kind, exact, interner)?;
                self.set(value, type_id, depth, interner)
            }
            Nest::FrozenSet => {
                let kind = Kind::Nested(Nest::FrozenSet);
                let type_id = self.type_id(value, kind, exact, interner)?;
                self.set(value, type_id, depth, interner)
            }
        }
    }

    /// The type id of a value of `kind`: the kind's fixed built-in slot when
    /// its type is exactly the row's base, else a type named after its class
    /// (with the built-in's record kind, or `Raw` for an opaque object).
    #[inline(always)]
    fn type_id(
        &mut self,
        value: &Bound<'_, PyAny>,
        kind: Kind,
        exact: bool,
        interner: &mut impl TypeInterner,
    ) -> RecorderResult<TypeId> {
        let builtin = kind.builtin();
        if let (true, Some(builtin)) = (exact, builtin) {
            return self.types.builtin(builtin, interner);
        }
        let record_kind = builtin.map_or(TypeKind::Raw, |builtin| builtin.describe().0);
        self.types.of_type(&value.get_type(), record_kind, interner)
    }

    /// How many items a container of `len` items will keep at most.
    fn capacity(&self, len: usize) -> usize {
        len.min(self.limits.max_items).min(self.budget)
    }

    /// Whether a container holding `kept` items may take one more.
    fn room(&self, kept: usize) -> bool {
        kept < self.limits.max_items && self.budget > 0
    }

    /// The `...` marker ending a cut `Tuple` or `Struct`.
    fn truncated(&mut self, interner: &mut impl TypeInterner) -> RecorderResult<ValueRecord> {
        let type_id = self.types.builtin(Builtin::Truncated, interner)?;
        Ok(ValueRecord::Raw {
            r: "...".to_string(),
            type_id,
        })
    }
}

/// `len()` of a built-in container, read from its storage (`None` for instances).
fn container_len(value: &Bound<'_, PyAny>, nest: Nest) -> Option<usize> {
    match nest {
        Nest::List => value.cast::<PyList>().ok().map(|list| list.len()),
        Nest::Tuple => value.cast::<PyTuple>().ok().map(|tuple| tuple.len()),
        Nest::Dict => value.cast::<PyDict>().ok().map(|dict| dict.len()),
        Nest::Set | Nest::FrozenSet => {
            // SAFETY: the table matched `set` or `frozenset` (or a subclass).
            usize::try_from(unsafe { ffi::PySet_Size(value.as_ptr()) }).ok()
        }
        Nest::Instance => None,
    }
}

#[cfg(test)]
mod tests;
