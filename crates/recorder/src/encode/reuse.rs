//! Reusing a local's previous encoding: the serialised bytes of the last
//! encoding of each object a line step recorded, kept with the
//! [`Witness`] of what that encoding read. When the witness verifies
//! against the live object (and the encoding got the same node budget and
//! `attr:` policy), the caller writes the kept bytes instead of encoding and
//! serialising again; the trace is byte for byte what a fresh encoding
//! writes. The bytes are the writer's (opaque here): encoding knows nothing
//! of the trace format.
//!
//! One entry per top-level object address; the cache is emptied when it
//! holds more than [`MAX_ENTRIES`] entries or [`MAX_BYTES`] bytes, so memory
//! stays bounded whatever the program allocates.

use std::sync::Arc;

use pyo3::prelude::*;
use recorder_errors::RecorderResult;
use runtime_tracing::ValueRecord;

use super::ptr_hash::AddressMap;
use super::witness::Witness;
use super::ValueEncoder;
use crate::filter::value_policy::ValuePolicy;
use crate::writer::TypeInterner;

/// The most entries kept.
const MAX_ENTRIES: usize = 2048;
/// The most bytes (witnesses and serialised values) kept.
const MAX_BYTES: usize = 4 << 20;

/// What the encoding of one local depended on besides the objects it read.
#[derive(Debug)]
struct Context {
    /// The node budget the local got.
    share: usize,
    /// The `attr:` rules in force (held, so its address stays its own).
    policy: Option<Arc<ValuePolicy>>,
}

impl Context {
    fn matches(&self, share: usize, policy: Option<&Arc<ValuePolicy>>) -> bool {
        self.share == share
            && match (&self.policy, policy) {
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
    address: usize,
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
        self.witness.size() + self.bytes.len()
    }
}

/// The kept encodings, by top-level object address.
#[derive(Debug)]
pub(super) struct ReuseCache {
    enabled: bool,
    entries: AddressMap<Entry>,
    /// Bytes held by the entries.
    size: usize,
}

impl Default for ReuseCache {
    fn default() -> ReuseCache {
        ReuseCache {
            enabled: true,
            entries: AddressMap::default(),
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
        if let Some(old) = self.entries.insert(found.address, entry) {
            self.size = self.size.saturating_sub(old.size());
        }
    }
}

/// One local of a line step, from [`ValueEncoder::encode_local_reusing`].
#[derive(Debug)]
pub enum LocalValue<'a> {
    /// The serialised bytes of an earlier encoding, exactly what encoding
    /// now would serialise to.
    Reused(&'a [u8]),
    /// A fresh encoding, and what to keep once it is serialised (when it may be).
    Encoded(ValueRecord, Option<Reusable>),
}

impl ValueEncoder {
    /// Turns reuse on or off (on by default); off, every local is encoded afresh.
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
    ) -> RecorderResult<LocalValue<'_>> {
        if !self.reuse.enabled {
            return Ok(LocalValue::Encoded(
                self.encode_local(value, interner)?,
                None,
            ));
        }
        let share = self.local_share();
        let address = value.as_ptr() as usize;
        let hit = match self.reuse.entries.get(&address) {
            Some(entry)
                if entry.context.matches(share, self.field_policy.as_ref())
                    && entry.witness.verify(value) =>
            {
                self.field_stats.add(entry.witness.stats());
                Some(entry.used)
            }
            _ => None,
        };
        if let Some(used) = hit {
            self.spend_step(used);
            let bytes = self.reuse.entries.get(&address).map(|entry| &entry.bytes);
            return Ok(LocalValue::Reused(bytes.map_or(&[][..], Vec::as_slice)));
        }
        self.witness.start();
        let record = self.encode_share(value, share, interner);
        let witness = self.witness.finish();
        let used = (share - self.budget).max(1);
        self.spend_step(used);
        let reusable = witness.map(|witness| Reusable {
            address,
            context: Context {
                share,
                policy: self.field_policy.clone(),
            },
            witness,
            used,
        });
        Ok(LocalValue::Encoded(record?, reusable))
    }

    /// Keeps `bytes`, the serialised record of `found`, for the next step.
    pub fn remember(&mut self, found: Reusable, bytes: Vec<u8>) {
        self.reuse.insert(found, bytes);
    }
}

#[cfg(test)]
mod tests;
