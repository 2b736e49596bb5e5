//! The fast paths of value encoding keep what a reader sees: the direct JSON
//! serialiser writes exactly what `serde_json` writes, instances of one class
//! with different fields get different struct types, and the per-step value
//! budget cuts containers visibly while scalars and strings stay exact.

mod support;

use runtime_tracing::{
    CallRecord, FullValueRecord, FunctionId, Line, PathId, Place, ReturnRecord, StepRecord,
    ThreadId, TraceLowLevelEvent, TypeId, TypeKind, TypeRecord, TypeSpecificInfo, ValueRecord,
    VariableId,
};
use support::{load, record, types, variable_names};

use codetracer_python_recorder::write_event;

fn every_value_kind() -> Vec<ValueRecord> {
    let t = TypeId(3);
    let int = |i| ValueRecord::Int { i, type_id: t };
    let text = |s: &str| ValueRecord::String {
        text: s.to_string(),
        type_id: TypeId(8),
    };
    vec![
        int(0),
        int(-1),
        int(i64::MIN),
        int(i64::MAX),
        ValueRecord::Float { f: 1.5, type_id: t },
        ValueRecord::Float {
            f: f64::NAN,
            type_id: t,
        },
        ValueRecord::Float {
            f: -0.0,
            type_id: t,
        },
        ValueRecord::Bool {
            b: true,
            type_id: t,
        },
        ValueRecord::Bool {
            b: false,
            type_id: t,
        },
        text(""),
        text("quote \" backslash \\ nl \n tab \t bell \u{7} del \u{7f} é € 𝄞"),
        ValueRecord::Raw {
            r: "b'\\x00'".to_string(),
            type_id: t,
        },
        ValueRecord::Error {
            msg: "ValueError: \"x\"".to_string(),
            type_id: t,
        },
        ValueRecord::None { type_id: TypeId(0) },
        ValueRecord::Cell { place: Place(-4) },
        ValueRecord::BigInt {
            b: vec![1, 0, 0, 0, 0, 0, 0, 0, 0],
            negative: true,
            type_id: t,
        },
        ValueRecord::Sequence {
            elements: vec![
                int(1),
                text("a"),
                ValueRecord::Sequence {
                    elements: vec![],
                    is_slice: true,
                    type_id: t,
                },
            ],
            is_slice: false,
            type_id: TypeId(2),
        },
        ValueRecord::Tuple {
            elements: vec![text("k"), int(2)],
            type_id: TypeId(4),
        },
        ValueRecord::Struct {
            field_values: vec![int(1), int(2)],
            type_id: TypeId(7),
        },
        ValueRecord::Variant {
            discriminator: "Some".to_string(),
            contents: Box::new(int(3)),
            type_id: t,
        },
        ValueRecord::Reference {
            dereferenced: Box::new(text("r")),
            address: 42,
            mutable: true,
            type_id: t,
        },
    ]
}

#[test]
fn direct_json_matches_serde_json_for_every_event_and_value_kind() {
    let values = every_value_kind();
    let mut events: Vec<TraceLowLevelEvent> = values
        .iter()
        .enumerate()
        .map(|(index, value)| {
            TraceLowLevelEvent::Value(FullValueRecord {
                variable_id: VariableId(index * 1000),
                value: value.clone(),
            })
        })
        .collect();
    events.extend(values.iter().map(|value| {
        TraceLowLevelEvent::Return(ReturnRecord {
            return_value: value.clone(),
        })
    }));
    events.extend([
        TraceLowLevelEvent::Step(StepRecord {
            path_id: PathId(3),
            line: Line(-7),
        }),
        TraceLowLevelEvent::Call(CallRecord {
            function_id: FunctionId(12),
            args: vec![],
        }),
        TraceLowLevelEvent::Call(CallRecord {
            function_id: FunctionId(0),
            args: values
                .iter()
                .map(|value| FullValueRecord {
                    variable_id: VariableId(1),
                    value: value.clone(),
                })
                .collect(),
        }),
        TraceLowLevelEvent::Path("/tmp/a \"b\".py".into()),
        TraceLowLevelEvent::VariableName("x".to_string()),
        TraceLowLevelEvent::Type(TypeRecord {
            kind: TypeKind::Struct,
            lang_type: "m.P".to_string(),
            specific_info: TypeSpecificInfo::None,
        }),
        TraceLowLevelEvent::ThreadSwitch(ThreadId(u64::MAX)),
        TraceLowLevelEvent::DropLastStep,
    ]);
    for event in &events {
        let mut fast = Vec::new();
        write_event(&mut fast, event).expect("direct json");
        let reference = serde_json::to_vec(event).expect("serde_json");
        assert_eq!(
            String::from_utf8_lossy(&fast),
            String::from_utf8_lossy(&reference),
            "{event:?}"
        );
    }
}

/// The locals of the last recorded step of the function the program runs.
fn last_step_locals(events: &[TraceLowLevelEvent]) -> Vec<(String, ValueRecord)> {
    let names = variable_names(events);
    let mut current = Vec::new();
    let mut last = Vec::new();
    for event in events {
        match event {
            TraceLowLevelEvent::Step(_) if !current.is_empty() => {
                last = std::mem::take(&mut current);
            }
            TraceLowLevelEvent::Value(value) => {
                current.push((names[value.variable_id.0].clone(), value.value.clone()))
            }
            _ => {}
        }
    }
    if current.is_empty() {
        last
    } else {
        current
    }
}

fn count_values(value: &ValueRecord) -> usize {
    1 + match value {
        ValueRecord::Sequence { elements, .. } | ValueRecord::Tuple { elements, .. } => {
            elements.iter().map(count_values).sum()
        }
        ValueRecord::Struct { field_values, .. } => field_values.iter().map(count_values).sum(),
        _ => 0,
    }
}

#[test]
fn instances_of_one_class_with_different_fields_get_their_own_struct_types() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = record(
        root.path(),
        "json",
        r#"
class P:
    pass

def make():
    a = P(); a.x = 1
    b = P(); b.x = 1; b.y = "two"
    c = P(); c.x = "one"
    d = P(); d.x = 5
    return a, b, c, d

make()
"#,
    );
    let events = load(&dir, "json");
    let structs: Vec<Vec<(String, usize)>> = types(&events)
        .into_iter()
        .filter_map(|record| match record.specific_info {
            TypeSpecificInfo::Struct { fields } if record.lang_type.ends_with("P") => Some(
                fields
                    .into_iter()
                    .map(|field| (field.name, field.type_id.0))
                    .collect(),
            ),
            _ => None,
        })
        .collect();
    let names: Vec<Vec<&str>> = structs
        .iter()
        .map(|fields| fields.iter().map(|(name, _)| name.as_str()).collect())
        .collect();
    // {x: int}, {x: int, y: str}, {x: str}; `d` reuses {x: int}.
    assert_eq!(names, vec![vec!["x"], vec!["x", "y"], vec!["x"]]);
    assert_ne!(structs[0][0].1, structs[2][0].1, "x: int vs x: str");
    let locals = last_step_locals(&events);
    let type_of = |name: &str| match locals.iter().find(|(n, _)| n == name) {
        Some((_, ValueRecord::Struct { type_id, .. })) => type_id.0,
        other => panic!("{name} is not a struct: {other:?}"),
    };
    assert_eq!(type_of("a"), type_of("d"));
    assert_ne!(type_of("a"), type_of("b"));
    assert_ne!(type_of("a"), type_of("c"));
}

#[test]
fn one_step_shares_its_value_budget_and_cuts_containers_visibly() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = record(
        root.path(),
        "json",
        r#"
def work():
    first = [[i, i + 1, i + 2] for i in range(100)]
    second = {str(i): [i] * 10 for i in range(100)}
    small = [1, 2, 3]
    text = "x" * 5000 + "é"
    big = 2 ** 80
    return 0

work()
"#,
    );
    let events = load(&dir, "json");
    let locals = last_step_locals(&events);
    let value = |name: &str| {
        locals
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{name} not recorded: {locals:?}"))
    };
    let total: usize = locals.iter().map(|(_, v)| count_values(v)).sum();
    assert!(
        total <= 256,
        "one step holds at most 256 values, got {total}"
    );
    // Five locals: the first two get about a fifth of the step each.
    for (name, preview) in [("first", 10), ("second", 4)] {
        match value(name) {
            ValueRecord::Sequence {
                elements, is_slice, ..
            } => {
                assert!(is_slice, "{name} is visibly cut");
                assert!(
                    elements.len() >= preview,
                    "{name} shows {} items",
                    elements.len()
                );
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    // A later, small container is not starved by the big ones before it.
    match value("small") {
        ValueRecord::Sequence {
            elements, is_slice, ..
        } => {
            assert!(!is_slice);
            assert_eq!(elements.len(), 3);
        }
        other => panic!("small: {other:?}"),
    }
    match value("text") {
        ValueRecord::String { text, .. } => assert_eq!(text, format!("{}é", "x".repeat(5000))),
        other => panic!("text: {other:?}"),
    }
    assert!(matches!(
        value("big"),
        ValueRecord::BigInt {
            negative: false,
            ..
        }
    ));
}
