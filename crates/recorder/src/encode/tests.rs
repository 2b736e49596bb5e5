//! Encoding on its own, against a fake [`TypeInterner`]: no recording, no
//! writer, values built by Python code in the embedded interpreter.

use std::collections::HashMap;
use std::ffi::CString;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use recorder_errors::prelude::*;
use runtime_tracing::{TypeId, TypeKind, TypeRecord, TypeSpecificInfo, ValueRecord};

use super::instances::record_type_id;
use super::{Limits, ValueEncoder};
use crate::writer::TypeInterner;

/// Interns into a list; `on_intern` runs at the start of the first call.
#[derive(Default)]
struct FakeInterner<'a> {
    ids: HashMap<String, TypeId>,
    records: Vec<TypeRecord>,
    on_intern: Option<Box<dyn FnOnce() + 'a>>,
    fail_with: Option<ErrorCode>,
}

impl TypeInterner for FakeInterner<'_> {
    fn intern_type(
        &mut self,
        key: &str,
        describe: impl FnOnce() -> TypeRecord,
    ) -> RecorderResult<TypeId> {
        if let Some(hook) = self.on_intern.take() {
            hook();
        }
        if let Some(code) = self.fail_with {
            return Err(enverr!(code, "the fake interner fails"));
        }
        if let Some(id) = self.ids.get(key) {
            return Ok(*id);
        }
        let id = TypeId(self.records.len());
        self.records.push(describe());
        self.ids.insert(key.to_string(), id);
        Ok(id)
    }
}

impl FakeInterner<'_> {
    fn record(&self, id: TypeId) -> &TypeRecord {
        &self.records[id.0]
    }
}

/// Runs `source` in a fresh module namespace called `m` and returns it.
fn run<'py>(py: Python<'py>, source: &str) -> Bound<'py, PyDict> {
    let globals = PyDict::new(py);
    globals.set_item("__name__", "m").expect("set __name__");
    let code = CString::new(source).expect("source without NUL");
    py.run(&code, Some(&globals), None).expect("the setup runs");
    globals
}

fn get<'py>(scope: &Bound<'py, PyDict>, name: &str) -> Bound<'py, PyAny> {
    scope
        .get_item(name)
        .expect("lookup")
        .unwrap_or_else(|| panic!("{name} is defined"))
}

/// The record's variant name.
fn variant(record: &ValueRecord) -> &'static str {
    match record {
        ValueRecord::Int { .. } => "Int",
        ValueRecord::Float { .. } => "Float",
        ValueRecord::Bool { .. } => "Bool",
        ValueRecord::String { .. } => "String",
        ValueRecord::Sequence { .. } => "Sequence",
        ValueRecord::Tuple { .. } => "Tuple",
        ValueRecord::Struct { .. } => "Struct",
        ValueRecord::Raw { .. } => "Raw",
        ValueRecord::None { .. } => "None",
        ValueRecord::BigInt { .. } => "BigInt",
        _ => "other",
    }
}

const CLASSES: &str = r#"
class MyInt(int): pass
class MyFloat(float): pass
class MyStr(str):
    def __str__(self): raise RuntimeError("user code ran")
class MyBytes(bytes): pass
class MyList(list):
    def __len__(self): raise RuntimeError("user code ran")
class MyTuple(tuple): pass
class MyDict(dict): pass
class MySet(set): pass
class MyFrozen(frozenset): pass
class Point:
    def __init__(self): self.x = 1
"#;

#[test]
fn the_type_table_gives_built_ins_their_slot_and_subclasses_their_own_name() {
    // (expression, record, lang_type, type kind)
    let cases = [
        ("True", "Bool", "bool", TypeKind::Bool),
        ("7", "Int", "int", TypeKind::Int),
        ("MyInt(7)", "Int", "m.MyInt", TypeKind::Int),
        ("2 ** 80", "BigInt", "int", TypeKind::Int),
        ("1.5", "Float", "float", TypeKind::Float),
        ("MyFloat(1.5)", "Float", "m.MyFloat", TypeKind::Float),
        ("'s'", "String", "str", TypeKind::String),
        ("MyStr('s')", "String", "m.MyStr", TypeKind::String),
        ("b'x'", "Raw", "bytes", TypeKind::Raw),
        ("MyBytes(b'x')", "Raw", "m.MyBytes", TypeKind::Raw),
        ("bytearray(b'x')", "Raw", "bytearray", TypeKind::Raw),
        ("[1]", "Sequence", "list", TypeKind::Seq),
        ("MyList([1])", "Sequence", "m.MyList", TypeKind::Seq),
        ("(1,)", "Tuple", "tuple", TypeKind::Tuple),
        ("MyTuple((1,))", "Tuple", "m.MyTuple", TypeKind::Tuple),
        ("{1: 2}", "Sequence", "dict", TypeKind::Seq),
        ("MyDict(a=1)", "Sequence", "m.MyDict", TypeKind::Seq),
        ("{1}", "Sequence", "set", TypeKind::Set),
        ("frozenset({1})", "Sequence", "frozenset", TypeKind::Set),
        ("MySet({1})", "Sequence", "m.MySet", TypeKind::Set),
        ("MyFrozen({1})", "Sequence", "m.MyFrozen", TypeKind::Set),
        ("Point()", "Struct", "m.Point", TypeKind::Struct),
        ("ValueError('no')", "Raw", "ValueError", TypeKind::Raw),
        ("Point", "Raw", "type", TypeKind::Raw),
        ("1 + 2j", "Raw", "complex", TypeKind::Raw),
        ("object()", "Raw", "object", TypeKind::Raw),
        ("None", "None", "None", TypeKind::None),
    ];
    Python::attach(|py| {
        let scope = run(py, CLASSES);
        let mut interner = FakeInterner::default();
        interner
            .intern_type("None", || TypeRecord {
                kind: TypeKind::None,
                lang_type: "None".to_string(),
                specific_info: TypeSpecificInfo::None,
            })
            .expect("None is type 0");
        let mut encoder = ValueEncoder::new(Limits::default());
        for (expression, record_kind, lang_type, kind) in cases {
            let code = CString::new(expression).expect("no NUL");
            let value = py
                .eval(&code, Some(&scope), None)
                .unwrap_or_else(|err| panic!("{expression}: {err}"));
            let record = encoder
                .encode(&value, &mut interner)
                .unwrap_or_else(|err| panic!("{expression}: {err}"));
            let record_type = interner.record(record_type_id(&record));
            assert_eq!(
                (
                    variant(&record),
                    record_type.lang_type.as_str(),
                    record_type.kind
                ),
                (record_kind, lang_type, kind),
                "{expression}: {record:?}"
            );
        }
    });
}

#[test]
fn opaque_values_are_described_without_their_repr() {
    Python::attach(|py| {
        let scope = run(
            py,
            "class Loud:\n    def __repr__(self): raise RuntimeError('user code ran')\n\
             class Boom(Exception): pass\n\
             values = [ValueError('no'), Boom(1, 2), Loud, 1 + 2j, range(3), Loud().__init__]\n",
        );
        let mut interner = FakeInterner::default();
        let mut encoder = ValueEncoder::new(Limits::default());
        let record = encoder
            .encode(&get(&scope, "values"), &mut interner)
            .expect("encodes");
        let ValueRecord::Sequence { elements, .. } = record else {
            panic!("a list is a Sequence: {record:?}");
        };
        let texts: Vec<&str> = elements
            .iter()
            .map(|element| match element {
                ValueRecord::Raw { r, .. } => r.as_str(),
                other => panic!("not Raw: {other:?}"),
            })
            .collect();
        assert_eq!(
            texts,
            [
                "ValueError: no",
                "m.Boom: (1, 2)",
                "<class 'm.Loud'>",
                "(1+2j)",
                "range(0, 3)",
                "<method-wrapper object>",
            ]
        );
    });
}

#[test]
fn an_interning_error_is_returned_unchanged() {
    Python::attach(|py| {
        let scope = run(py, CLASSES);
        let mut interner = FakeInterner {
            fail_with: Some(ErrorCode::DiskFull),
            ..FakeInterner::default()
        };
        let mut encoder = ValueEncoder::new(Limits::default());
        for name in ["Point", "MyList"] {
            let value = get(&scope, name).call0().expect("constructs");
            let error = encoder
                .encode(&value, &mut interner)
                .expect_err("the interner fails");
            assert_eq!(error.code(), ErrorCode::DiskFull, "{name}");
        }
    });
}

/// `node.__dict__` holds a key that is not interned (`"".join` makes a new
/// string; a dict display does not intern it), so the dict holds its only
/// reference. A collectable cycle's finalizer deletes that entry and then
/// allocates many strings of the same size, which reuse the freed memory.
const DELETED_KEY: &str = r#"
import gc
gc.disable()

class Node:
    pass

node = Node()
node.__dict__ = {"".join(["fie", "ld"]): 1, "other": 2}

class Reaper:
    def __del__(self):
        global reaped, filler
        del node.__dict__["field"]
        filler = ["%05d" % i for i in range(20000)]
        reaped = True

reaped = False
reaper = Reaper()
reaper.cycle = reaper
del reaper
"#;

#[test]
fn a_field_name_a_finalizer_deletes_during_encoding_is_still_recorded() {
    Python::attach(|py| {
        let scope = run(py, DELETED_KEY);
        let collect = get(&scope, "gc").getattr("collect").expect("gc.collect");
        // The first type interned is the first field value's (`int`): the
        // cycle is collected while `node` is being encoded.
        let mut interner = FakeInterner {
            on_intern: Some(Box::new(move || {
                collect.call0().expect("gc.collect runs");
            })),
            ..FakeInterner::default()
        };
        let mut encoder = ValueEncoder::new(Limits::default());
        let record = encoder.encode(&get(&scope, "node"), &mut interner);
        let reaped: bool = get(&scope, "reaped").extract().expect("a bool");
        get(&scope, "gc").call_method0("enable").expect("gc.enable");
        assert!(reaped, "the finalizer ran during encoding");

        let record = record.expect("encodes");
        let ValueRecord::Struct {
            field_values,
            type_id,
        } = &record
        else {
            panic!("an instance is a Struct: {record:?}");
        };
        let TypeSpecificInfo::Struct { fields } = &interner.record(*type_id).specific_info else {
            panic!("a Struct type has fields");
        };
        let names: Vec<&str> = fields.iter().map(|field| field.name.as_str()).collect();
        assert_eq!(names, ["field", "other"]);
        let values: Vec<i64> = field_values
            .iter()
            .map(|value| match value {
                ValueRecord::Int { i, .. } => *i,
                other => panic!("not an Int: {other:?}"),
            })
            .collect();
        assert_eq!(values, [1, 2]);

        // Encoded again, the node has only the field that is left.
        let again = encoder
            .encode(&get(&scope, "node"), &mut interner)
            .expect("encodes");
        let TypeSpecificInfo::Struct { fields } =
            &interner.record(record_type_id(&again)).specific_info
        else {
            panic!("a Struct type has fields");
        };
        let names: Vec<&str> = fields.iter().map(|field| field.name.as_str()).collect();
        assert_eq!(names, ["other"]);
    });
}
