//! The `attr:` action of instance fields, remembered per scope policy and
//! field name. Asking a policy matches the name against its patterns (the
//! builtin filter's secret words tokenise it); the instances of a program
//! carry a few dozen field names, met again at every step, so each pair is
//! matched once and then found by comparing two pointers.
//!
//! A direct-mapped table: a slot holds the policy and the name it answers for
//! by strong reference, so neither address can be reused by another object
//! while the slot remembers it; a collision only costs a new match.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::filter::model::{ValueAction, ValueKind};
use crate::filter::value_policy::ValuePolicy;

/// Slots of the table (a power of two).
const SLOTS: usize = 1024;

/// One remembered answer.
#[derive(Debug)]
struct Slot {
    policy: Arc<ValuePolicy>,
    name: Py<PyString>,
    action: ValueAction,
}

/// Field actions by (policy, field name).
#[derive(Debug)]
pub struct FieldActions {
    slots: Vec<Option<Slot>>,
}

impl Default for FieldActions {
    fn default() -> FieldActions {
        FieldActions {
            slots: (0..SLOTS).map(|_| None).collect(),
        }
    }
}

impl FieldActions {
    /// The `attr:` action `policy` gives the field `name`.
    #[inline]
    pub fn action(&mut self, policy: &Arc<ValuePolicy>, name: &Bound<'_, PyString>) -> ValueAction {
        if let Some(action) = policy.uniform_action(ValueKind::Attr) {
            return action;
        }
        let policy_ptr = Arc::as_ptr(policy) as usize;
        let name_ptr = name.as_ptr() as usize;
        let index = slot_index(policy_ptr, name_ptr);
        if let Some(slot) = &self.slots[index] {
            if Arc::as_ptr(&slot.policy) as usize == policy_ptr
                && slot.name.as_ptr() as usize == name_ptr
            {
                return slot.action;
            }
        }
        self.remember(index, policy, name)
    }

    /// Matches `name` against `policy` and keeps the answer in slot `index`.
    #[cold]
    fn remember(
        &mut self,
        index: usize,
        policy: &Arc<ValuePolicy>,
        name: &Bound<'_, PyString>,
    ) -> ValueAction {
        let action = policy.action_for(ValueKind::Attr, name.to_str().unwrap_or(""));
        self.slots[index] = Some(Slot {
            policy: Arc::clone(policy),
            name: name.clone().unbind(),
            action,
        });
        action
    }
}

/// The slot of a (policy, name) pair: both addresses mixed by a
/// multiplicative hash, the top bits kept.
fn slot_index(policy: usize, name: usize) -> usize {
    let mixed = ((policy >> 4) ^ (name >> 4).rotate_left(17)) as u64;
    let hash = mixed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (hash >> (64 - SLOTS.trailing_zeros())) as usize
}
