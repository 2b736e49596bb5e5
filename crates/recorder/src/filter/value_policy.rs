//! The value policy of one traced scope: what happens to each captured value,
//! by kind and name. Built once per code object; asking costs a walk over the
//! few patterns of that value kind, without allocating.

use std::sync::Arc;

use super::model::{ValueAction, ValueKind, ValuePattern};

/// The compiled value rules of one scope.
#[derive(Debug, Clone)]
pub struct ValuePolicy {
    default: ValueAction,
    /// Per [`ValueKind::index`], the patterns of that kind, first match wins:
    /// the patterns of later rules before those of earlier ones, each rule's
    /// in file order.
    patterns: [Vec<Arc<ValuePattern>>; 5],
    return_action: ValueAction,
}

impl ValuePolicy {
    /// A policy from its default and its patterns in priority order;
    /// `function_name` (`module.qualname`) decides the return value's action.
    pub(super) fn new(
        default: ValueAction,
        ordered_patterns: impl IntoIterator<Item = Arc<ValuePattern>>,
        function_name: &str,
    ) -> ValuePolicy {
        let mut patterns: [Vec<Arc<ValuePattern>>; 5] = Default::default();
        for pattern in ordered_patterns {
            patterns[pattern.selector.kind.index()].push(pattern);
        }
        let mut policy = ValuePolicy {
            default,
            patterns,
            return_action: default,
        };
        policy.return_action = policy.action_for(ValueKind::Ret, function_name);
        policy
    }

    /// The action for a value of `kind` called `name` (for [`ValueKind::Ret`],
    /// the function's `module.qualname`; [`ValuePolicy::return_action`] has it
    /// precomputed).
    pub fn action_for(&self, kind: ValueKind, name: &str) -> ValueAction {
        self.patterns[kind.index()]
            .iter()
            .find(|pattern| pattern.selector.pattern.matches(name))
            .map_or(self.default, |pattern| pattern.action)
    }

    /// The action for this scope's return values.
    pub fn return_action(&self) -> ValueAction {
        self.return_action
    }

    /// Whether every value of `kind` gets the same action, whatever its name:
    /// no pattern of that kind, so the caller can skip asking per value.
    pub fn uniform_action(&self, kind: ValueKind) -> Option<ValueAction> {
        self.patterns[kind.index()]
            .is_empty()
            .then_some(self.default)
    }
}
