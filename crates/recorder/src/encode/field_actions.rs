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

#[cfg(test)]
mod tests {
    use pyo3::types::PyString;

    use super::*;
    use crate::filter::engine::{FilterEngine, ScopeResolution};
    use crate::filter::loader::ChainBuilder;
    use crate::filter::location::InterpreterPaths;
    use crate::filter::scope::ScopeContext;

    /// The builtin default plus a project filter whose `app.vault` scope
    /// redacts the field `name`.
    fn engine() -> FilterEngine {
        let project = "[meta]\nname = \"project\"\nversion = 1\n\
            [scope]\ndefault_exec = \"inherit\"\ndefault_value_action = \"inherit\"\n\
            [[scope.rules]]\nselector = \"pkg:app.vault\"\n\
            [[scope.rules.value_patterns]]\nselector = \"attr:literal:name\"\naction = \"redact\"\n";
        let mut chain = ChainBuilder::default();
        chain.push_builtin().unwrap_or_else(|e| panic!("{e}"));
        chain
            .push_text(
                "/p/.codetracer/trace-filter.toml".into(),
                project,
                Some("/p".into()),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        let chain = chain.finish().unwrap_or_else(|e| panic!("{e}"));
        FilterEngine::new(chain, InterpreterPaths::default())
    }

    fn policy(engine: &FilterEngine, module: &str) -> Arc<ValuePolicy> {
        let file = format!("/p/{}.py", module.replace('.', "/"));
        let context = ScopeContext {
            file_path: &file,
            qualname: "f",
            module_name: Some(module),
        };
        match engine.resolve_scope(&context) {
            ScopeResolution::Trace(policy) => policy,
            ScopeResolution::Skip { reason } => panic!("skipped: {reason:?}"),
        }
    }

    #[test]
    fn each_policy_keeps_its_own_answer_for_one_field_name() {
        Python::attach(|py| {
            let engine = engine();
            let vault = policy(&engine, "app.vault");
            let shop = policy(&engine, "app.shop");
            let name = PyString::new(py, "name");
            let password = PyString::new(py, "password");
            let mut actions = FieldActions::default();
            // Asked twice each, interleaved: the second answers come from the table.
            for _ in 0..2 {
                assert_eq!(actions.action(&vault, &name), ValueAction::Redact);
                assert_eq!(actions.action(&shop, &name), ValueAction::Allow);
                // The builtin's secret words hold in both scopes.
                assert_eq!(actions.action(&vault, &password), ValueAction::Redact);
                assert_eq!(actions.action(&shop, &password), ValueAction::Redact);
            }
        });
    }
}
