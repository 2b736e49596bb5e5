//! Reuse is exact: over random object graphs mutated between line steps
//! (in place, rebound, freed and reallocated, cyclic, past the limits), an
//! encoder that reuses gives at every step the bytes an encoder without
//! reuse gives, and the same filter counts.

use std::collections::HashMap;
use std::ffi::CString;
use std::sync::Arc;

use proptest::prelude::*;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use recorder_errors::RecorderResult;
use runtime_tracing::{TypeId, TypeRecord, ValueRecord};

use super::Encoding;
use crate::encode::{Limits, ValueEncoder};
use crate::filter::engine::{FilterEngine, ScopeResolution};
use crate::filter::loader::ChainBuilder;
use crate::filter::location::InterpreterPaths;
use crate::filter::scope::ScopeContext;
use crate::filter::value_policy::ValuePolicy;
use crate::writer::TypeInterner;

/// Interns by key, as the trace writer does.
#[derive(Default)]
struct Interner {
    ids: HashMap<String, TypeId>,
}

impl TypeInterner for Interner {
    fn intern_type(
        &mut self,
        key: &str,
        _describe: impl FnOnce() -> TypeRecord,
    ) -> RecorderResult<TypeId> {
        let next = TypeId(self.ids.len());
        Ok(*self.ids.entry(key.to_string()).or_insert(next))
    }
}

/// The "serialisation" of a record: its full debug text.
fn bytes(record: &ValueRecord) -> Vec<u8> {
    format!("{record:?}").into_bytes()
}

/// The builtin filter (which redacts `password`) plus a rule dropping the
/// field `dropme`.
fn field_policy() -> Arc<ValuePolicy> {
    let project = "[meta]\nname = \"project\"\nversion = 1\n\
        [scope]\ndefault_exec = \"inherit\"\ndefault_value_action = \"inherit\"\n\
        [[scope.rules]]\nselector = \"pkg:app\"\n\
        [[scope.rules.value_patterns]]\nselector = \"attr:literal:dropme\"\naction = \"drop\"\n";
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
    let engine = FilterEngine::new(chain, InterpreterPaths::default());
    let context = ScopeContext {
        file_path: "/p/app.py",
        qualname: "f",
        module_name: Some("app"),
    };
    match engine.resolve_scope(&context) {
        ScopeResolution::Trace(policy) => policy,
        ScopeResolution::Skip { reason } => panic!("skipped: {reason:?}"),
    }
}

/// Builds random object graphs and mutates them; `step(ns)` changes the
/// namespace's `root` and `aux` the way a program changes its locals.
const GRAPHS: &str = r#"
import random

class Node:
    pass

class Other:
    pass

FIELDS = ["a", "b", "c", "password", "dropme", "d", "e"]
KEYS = ["k", "l", "m", 1, 2, (1, 2), None]

def leaf(rng):
    pick = rng.randrange(20)
    return [
        0, 1, 7, 2 ** 70, 1.5, -0.0, "s", "t" * 600, b"b", None, True, False,
        (), Node, len, bytearray(b"ab"), 1 + 2j, range(3), ValueError("no"),
        rng.randrange(10 ** 6),
    ][pick]

def make(rng, depth=0):
    kind = rng.randrange(12)
    if depth > 5 or kind < 3:
        return leaf(rng)
    n = rng.choice([0, 1, 3, 5, 40])
    if kind == 3:
        return [make(rng, depth + 1) for _ in range(n)]
    if kind == 4:
        return tuple(make(rng, depth + 1) for _ in range(n))
    if kind == 5:
        return {rng.choice(KEYS): make(rng, depth + 1) for _ in range(n)}
    if kind == 6:
        return {rng.randrange(50) for _ in range(n)}
    if kind == 7:
        return frozenset(rng.randrange(50) for _ in range(n))
    node = rng.choice([Node, Other])()
    for _ in range(min(n, 8)):
        setattr(node, rng.choice(FIELDS), make(rng, depth + 1))
    return node

def reachable(root):
    seen, out, todo = set(), [], [root]
    while todo:
        x = todo.pop()
        if id(x) in seen:
            continue
        seen.add(id(x))
        if isinstance(x, (list, dict, set, Node, Other)):
            out.append(x)
        if isinstance(x, (list, tuple, set, frozenset)):
            todo.extend(x)
        elif isinstance(x, dict):
            todo.extend(x.values())
        elif isinstance(x, (Node, Other)):
            todo.extend(vars(x).values())
    return out

def change(rng, c, root):
    op = rng.randrange(6)
    if isinstance(c, list):
        if op == 0 or not c:
            c.append(make(rng, 3))
        elif op == 1:
            c.pop(rng.randrange(len(c)))
        elif op == 2:
            c[rng.randrange(len(c))] = root
        elif op == 3:
            i = rng.randrange(len(c))
            old = c[i]
            c[i] = None
            del old
            c[i] = make(rng, 3)
        elif op == 4:
            c.reverse()
        else:
            i = rng.randrange(len(c))
            if type(c[i]) is int:
                c[i] = int(str(c[i]))
            else:
                c.insert(0, rng.randrange(10 ** 6))
    elif isinstance(c, dict):
        key = rng.choice(KEYS)
        if op < 2:
            c[key] = make(rng, 3)
        elif op == 2 and key in c:
            value = c.pop(key)
            c[key] = value
        elif op == 3:
            c.clear()
        else:
            c[key] = root
    elif isinstance(c, set):
        if op < 3:
            c.add(rng.randrange(50))
        elif c:
            c.discard(next(iter(c)))
    else:
        name = rng.choice(FIELDS)
        if op < 2:
            setattr(c, name, make(rng, 3))
        elif op == 2 and hasattr(c, name):
            delattr(c, name)
        elif op == 3:
            setattr(c, name, c)
        elif op == 4 and hasattr(c, name):
            value = getattr(c, name)
            delattr(c, name)
            setattr(c, name, value)
        else:
            c.__class__ = Other if type(c) is Node else Node

def step(ns, rng):
    op = rng.randrange(10)
    if op < 3:
        return
    if op == 3:
        ns["root"] = make(rng)
        return
    if op == 4:
        # Freed, then a new object of the same shape (often at the same address).
        seed = rng.randrange(1000)
        ns["root"] = None
        ns["root"] = make(random.Random(seed))
        return
    if op == 5:
        ns["aux"] = make(rng)
        return
    for _ in range(rng.randrange(1, 3)):
        cs = reachable(ns["root"])
        if cs:
            change(rng, rng.choice(cs), ns["root"])
"#;

/// Runs the graph module in a fresh namespace.
fn graphs(py: Python<'_>) -> Bound<'_, PyDict> {
    let ns = PyDict::new(py);
    let code = CString::new(GRAPHS).unwrap_or_else(|e| panic!("{e}"));
    py.run(&code, Some(&ns), None)
        .unwrap_or_else(|e| panic!("{e}"));
    ns
}

/// Encodes `root` and `aux` as the locals of one step, then `root` as a
/// call argument, with both encoders; checks they agree and returns how
/// many values were reused.
fn one_step(
    ns: &Bound<'_, PyDict>,
    reusing: &mut ValueEncoder,
    fresh: &mut ValueEncoder,
    interner: &mut Interner,
) -> usize {
    let mut reused = 0;
    reusing.begin_step(2);
    fresh.begin_step(2);
    for name in ["root", "aux"] {
        let value = ns
            .get_item(name)
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("{name} is bound"));
        let expected = bytes(
            &fresh
                .encode_local(&value, interner)
                .unwrap_or_else(|e| panic!("{e}")),
        );
        match reusing
            .encode_local_reusing(&value, interner)
            .unwrap_or_else(|e| panic!("{e}"))
        {
            Encoding::Reused(kept) => {
                reused += 1;
                assert_eq!(
                    String::from_utf8_lossy(kept),
                    String::from_utf8_lossy(&expected),
                    "{name}: reused bytes differ from a fresh encoding"
                );
            }
            Encoding::Encoded(record, reusable) => {
                let got = bytes(&record);
                assert_eq!(got, expected, "{name}: encodings differ");
                if let Some(reusable) = reusable {
                    reusing.remember(reusable, got);
                }
            }
        }
    }
    assert_eq!(
        reusing.step_left, fresh.step_left,
        "the step budget moves alike"
    );
    // The same object as a call argument (the whole budget: its own entry).
    let root = ns
        .get_item("root")
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("root is bound"));
    let expected = bytes(
        &fresh
            .encode(&root, interner)
            .unwrap_or_else(|e| panic!("{e}")),
    );
    match reusing
        .encode_reusing(&root, interner)
        .unwrap_or_else(|e| panic!("{e}"))
    {
        Encoding::Reused(kept) => {
            reused += 1;
            assert_eq!(
                kept,
                &expected[..],
                "root as an argument: reused bytes differ"
            );
        }
        Encoding::Encoded(record, reusable) => {
            let got = bytes(&record);
            assert_eq!(got, expected, "root as an argument: encodings differ");
            if let Some(reusable) = reusable {
                reusing.remember(reusable, got);
            }
        }
    }
    reused
}

/// Records `steps` steps of random mutations from `seed`; the values reused.
fn run_steps(seed: u64, steps: usize, policy: Option<&Arc<ValuePolicy>>) -> usize {
    Python::attach(|py| {
        let ns = graphs(py);
        let setup = format!("rng = random.Random({seed})\nroot = make(rng)\naux = make(rng)\n");
        let code = CString::new(setup).unwrap_or_else(|e| panic!("{e}"));
        py.run(&code, Some(&ns), None)
            .unwrap_or_else(|e| panic!("{e}"));
        let mut interner = Interner::default();
        let mut reusing = ValueEncoder::new(Limits::default());
        let mut fresh = ValueEncoder::new(Limits::default());
        fresh.set_reuse(false);
        reusing.set_field_policy(policy);
        fresh.set_field_policy(policy);
        let step = ns
            .get_item("step")
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("step is defined"));
        let rng = ns
            .get_item("rng")
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("rng is defined"));
        let mut reused = 0;
        for _ in 0..steps {
            reused += one_step(&ns, &mut reusing, &mut fresh, &mut interner);
            step.call1((&ns, &rng)).unwrap_or_else(|e| panic!("{e}"));
        }
        assert_eq!(reusing.field_stats(), fresh.field_stats());
        reused
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn reuse_gives_the_bytes_of_a_fresh_encoding(seed in any::<u64>(), filtered in any::<bool>()) {
        let policy = filtered.then(field_policy);
        run_steps(seed, 40, policy.as_ref());
    }
}

#[test]
fn unchanged_values_are_reused_across_many_graphs() {
    let policy = field_policy();
    let reused: usize = (0..20).map(|seed| run_steps(seed, 40, Some(&policy))).sum();
    // About a third of the steps change nothing; most graphs are cacheable.
    assert!(reused > 100, "only {reused} values were reused");
}

#[test]
fn an_unchanged_instance_is_reused_and_a_changed_one_encoded_again() {
    Python::attach(|py| {
        let ns = graphs(py);
        let code = c"node = Node()\nnode.a = [1, 'x']\nnode.b = {'k': 2.5}\n";
        py.run(code, Some(&ns), None)
            .unwrap_or_else(|e| panic!("{e}"));
        let node = ns
            .get_item("node")
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("node is bound"));
        let mut interner = Interner::default();
        let mut encoder = ValueEncoder::new(Limits::default());
        let mut outcomes = Vec::new();
        for change in [
            "",
            "",
            "node.a.append(3)",
            "",
            "node.b['k'] = 2.5 + 0.0",
            "",
        ] {
            let code = CString::new(change).unwrap_or_else(|e| panic!("{e}"));
            py.run(&code, Some(&ns), None)
                .unwrap_or_else(|e| panic!("{e}"));
            encoder.begin_step(1);
            match encoder
                .encode_local_reusing(&node, &mut interner)
                .unwrap_or_else(|e| panic!("{e}"))
            {
                Encoding::Reused(_) => outcomes.push("reused"),
                Encoding::Encoded(record, reusable) => {
                    outcomes.push("encoded");
                    let reusable = reusable.unwrap_or_else(|| panic!("an instance is cacheable"));
                    encoder.remember(reusable, bytes(&record));
                }
            }
        }
        assert_eq!(
            outcomes,
            ["encoded", "reused", "encoded", "reused", "encoded", "reused"]
        );
    });
}

#[test]
fn values_holding_mutable_leaves_are_never_kept() {
    Python::attach(|py| {
        let ns = graphs(py);
        let mut interner = Interner::default();
        let mut encoder = ValueEncoder::new(Limits::default());
        for expression in [
            "[bytearray(b'x')]",
            "[ValueError('no')]",
            "[random]",
            "['t' * 600]",
            "[2 ** 70]",
            "[True.__class__.__mro__, MyInt(1)]",
            "7",
        ] {
            let code = CString::new(expression).unwrap_or_else(|e| panic!("{e}"));
            let setup = c"class MyInt(int): pass\n";
            py.run(setup, Some(&ns), None)
                .unwrap_or_else(|e| panic!("{e}"));
            let value = py
                .eval(&code, Some(&ns), None)
                .unwrap_or_else(|e| panic!("{expression}: {e}"));
            encoder.begin_step(1);
            let outcome = encoder
                .encode_local_reusing(&value, &mut interner)
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(
                matches!(outcome, Encoding::Encoded(_, None)),
                "{expression}: {outcome:?}"
            );
        }
    });
}
