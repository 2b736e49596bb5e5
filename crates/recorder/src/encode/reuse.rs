//! Reusing a value's previous encoding: the serialised bytes of the last
//! encoding of each object a line step or a call recorded, kept with the
//! [`Witness`] of what that encoding read. When the witness verifies
//! against the live object (and the encoding got the same node budget and
//! `attr:` policy), the caller writes the kept bytes instead of encoding and
//! serialising again; the trace is byte for byte what a fresh encoding
//! writes. The bytes are the writer's (opaque here): encoding knows nothing
//! of the trace format.
//!
//! One entry per top-level object address and budget (a line step's
//! share, or a call argument's whole budget); the cache is emptied when it
//! holds more than [`MAX_ENTRIES`] entries or [`MAX_BYTES`] bytes, so memory
//! stays bounded whatever the program allocates (a program whose values keep
//! changing only empties it more often).

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::Arc;

use pyo3::prelude::*;
use recorder_errors::RecorderResult;
use runtime_tracing::ValueRecord;

use super::ptr_hash::AddressHasher;
use super::table::Kind;
use super::witness::Witness;
use super::ValueEncoder;
use crate::filter::value_policy::ValuePolicy;
use crate::writer::TypeInterner;

/// The most entries kept.
const MAX_ENTRIES: usize = 2048;
/// The most bytes (witnesses, held text and serialised values) kept.
const MAX_BYTES: usize = 2 << 20;

/// An entry's key: the top-level object's address and the node budget
/// its encoding got.
type Key = (usize, usize);

/// What an encoding depended on besides the objects it read and its budget.
#[derive(Debug)]
struct Context {
    /// The `attr:` rules in force (held, so its address stays its own).
    policy: Option<Arc<ValuePolicy>>,
}

impl Context {
    fn matches(&self, policy: Option<&Arc<ValuePolicy>>) -> bool {
        match (&self.policy, policy) {
            (Some(kept), Some(policy)) => Arc::ptr_eq(kept, policy),
            (None, None) => true,
            _ => false,
        }
    }
}

/// A fresh encoding that may be kept, once the caller has serialised it
/// ([`ValueEncoder::remember`]).
#[derive(Debug)]
pub struct Reusable {
    key: Key,
    context: Context,
    witness: Witness,
    /// Nodes the encoding took from the step's budget.
    used: usize,
}

/// One kept encoding.
#[derive(Debug)]
struct Entry {
    context: Context,
    witness: Witness,
    used: usize,
    bytes: Vec<u8>,
}

impl Entry {
    fn size(&self) -> usize {
        std::mem::size_of::<(Key, Entry)>() + self.witness.size() + self.bytes.capacity()
    }
}

/// The kept encodings, by top-level object address.
#[derive(Debug)]
pub(super) struct ReuseCache {
    enabled: bool,
    entries: HashMap<Key, Entry, BuildHasherDefault<AddressHasher>>,
    /// Bytes held by the entries.
    size: usize,
}

impl Default for ReuseCache {
    fn default() -> ReuseCache {
        ReuseCache {
            enabled: true,
            entries: HashMap::default(),
            size: 0,
        }
    }
}

impl ReuseCache {
    fn insert(&mut self, found: Reusable, bytes: Vec<u8>) {
        let entry = Entry {
            context: found.context,
            witness: found.witness,
            used: found.used,
            bytes,
        };
        if self.entries.len() >= MAX_ENTRIES || self.size + entry.size() > MAX_BYTES {
            self.entries.clear();
            self.size = 0;
        }
        self.size += entry.size();
        if let Some(old) = self.entries.insert(found.key, entry) {
            self.size = self.size.saturating_sub(old.size());
        }
    }
}

/// One value from [`ValueEncoder::encode_local_reusing`] or
/// [`ValueEncoder::encode_reusing`].
#[derive(Debug)]
pub enum Encoding<'a> {
    /// The serialised bytes of an earlier encoding, exactly what encoding
    /// now would serialise to.
    Reused(&'a [u8]),
    /// A fresh encoding, and what to keep once it is serialised (when it may be).
    Encoded(ValueRecord, Option<Reusable>),
}

impl ValueEncoder {
    /// Turns reuse on or off (on by default); off, every value is encoded afresh.
    pub fn set_reuse(&mut self, enabled: bool) {
        self.reuse.enabled = enabled;
        if !enabled {
            self.reuse.entries.clear();
            self.reuse.size = 0;
        }
    }

    /// [`ValueEncoder::encode_local`], reusing the bytes of the last
    /// encoding of the same object when its witness verifies: the step's
    /// budget and the filter counts then move exactly as a fresh encoding
    /// would move them.
    pub fn encode_local_reusing(
        &mut self,
        value: &Bound<'_, PyAny>,
        interner: &mut impl TypeInterner,
    ) -> RecorderResult<Encoding<'_>> {
        if !self.may_reuse(value) {
            return Ok(Encoding::Encoded(self.encode_local(value, interner)?, None));
        }
        let share = self.local_share();
        if let Some(used) = self.verified(value, share) {
            self.spend_step(used);
            return Ok(Encoding::Reused(self.kept_bytes(value, share)));
        }
        let (record, reusable) = self.encode_witnessed(value, share, interner);
        self.spend_step((share - self.budget).max(1));
        Ok(Encoding::Encoded(record?, reusable))
    }

    /// [`ValueEncoder::encode`] (a call argument's whole budget), reusing
    /// the bytes of the last encoding of the same object when its witness
    /// verifies.
    pub fn encode_reusing(
        &mut self,
        value: &Bound<'_, PyAny>,
        interner: &mut impl TypeInterner,
    ) -> RecorderResult<Encoding<'_>> {
        if !self.may_reuse(value) {
            return Ok(Encoding::Encoded(self.encode(value, interner)?, None));
        }
        let share = self.limits.max_nodes;
        if self.verified(value, share).is_some() {
            return Ok(Encoding::Reused(self.kept_bytes(value, share)));
        }
        let (record, reusable) = self.encode_witnessed(value, share, interner);
        Ok(Encoding::Encoded(record?, reusable))
    }

    /// Keeps `bytes`, the serialised record of `found`, for the next time.
    pub fn remember(&mut self, found: Reusable, bytes: Vec<u8>) {
        self.reuse.insert(found, bytes);
    }

    /// Whether `value` may have a kept encoding: reuse is on and it holds
    /// others (a scalar costs less to encode than to look up).
    fn may_reuse(&mut self, value: &Bound<'_, PyAny>) -> bool {
        self.reuse.enabled
            && !value.is_none()
            && matches!(self.table.classify(value).kind, Kind::Nested(_))
    }

    /// When the kept encoding of `value` with a budget of `share` still
    /// holds (its witness verifies): the nodes it took, with the filter
    /// counts it made counted again.
    fn verified(&mut self, value: &Bound<'_, PyAny>, share: usize) -> Option<usize> {
        let entry = self.reuse.entries.get(&(value.as_ptr() as usize, share))?;
        if !entry.context.matches(self.field_policy.as_ref()) || !entry.witness.verify(value) {
            return None;
        }
        self.field_stats.add(entry.witness.stats());
        Some(entry.used)
    }

    /// The kept bytes of `value`'s encoding with a budget of `share`.
    fn kept_bytes(&self, value: &Bound<'_, PyAny>, share: usize) -> &[u8] {
        let key = (value.as_ptr() as usize, share);
        let bytes = self.reuse.entries.get(&key).map(|entry| &entry.bytes);
        bytes.map_or(&[][..], Vec::as_slice)
    }

    /// Encodes `value` with a budget of `share`, logging its witness; what
    /// to keep once it is serialised, when it may be kept.
    fn encode_witnessed(
        &mut self,
        value: &Bound<'_, PyAny>,
        share: usize,
        interner: &mut impl TypeInterner,
    ) -> (RecorderResult<ValueRecord>, Option<Reusable>) {
        self.witness.start();
        let record = self.encode_share(value, share, interner);
        let witness = self.witness.finish();
        let reusable = witness.map(|witness| Reusable {
            key: (value.as_ptr() as usize, share),
            context: Context {
                policy: self.field_policy.clone(),
            },
            witness,
            used: (share - self.budget).max(1),
        });
        (record, reusable)
    }
}

#[cfg(test)]
mod tests;
