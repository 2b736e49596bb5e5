//! The CBOR of `trace.bin`'s events, byte for byte what
//! `cbor4ii::serde::to_vec` writes for them (what runtime_tracing's own
//! binary writer uses), without serde's per-field machinery.
//!
//! The events written at every step (`Step`, `Value`, `Call`, `Return`) and
//! the value kinds the recorder writes (`Int`, `Bool`, `String`, `Raw`,
//! `Error`, `None`, `Sequence`, `Tuple`, `Struct`) are written directly:
//! every struct is a definite-length map of its fields in declaration order
//! (a value's `kind` first), every `Vec` a definite-length array, numbers in
//! their shortest form. Every other event and value kind goes through
//! `cbor4ii` itself. The unit tests compare both on every kind and length
//! boundary.

use std::io;

use runtime_tracing::{FullValueRecord, FunctionId, TraceLowLevelEvent, ValueRecord, VariableId};

use super::SerializedArgs;

/// CBOR major types.
const UNSIGNED: u8 = 0;
const NEGATIVE: u8 = 1;
const TEXT: u8 = 3;
const ARRAY: u8 = 4;
/// The simple values `false` and `true`.
const FALSE: u8 = 0xf4;
const TRUE: u8 = 0xf5;

// What comes before each variable part, as constant bytes: `0xaN` is a map of
// N entries, `0x6N` a text of N bytes (the map keys and variant names).
const STEP: &[u8] = b"\xa1\x64Step\xa2\x67path_id";
const LINE: &[u8] = b"\x64line";
const VALUE: &[u8] = b"\xa1\x65Value";
const CALL: &[u8] = b"\xa1\x64Call\xa2\x6bfunction_id";
const ARGS: &[u8] = b"\x64args";
const RETURN: &[u8] = b"\xa1\x66Return\xa1\x6creturn_value";
const FULL_VALUE: &[u8] = b"\xa2\x6bvariable_id";
const FULL_VALUE_VALUE: &[u8] = b"\x65value";
const INT: &[u8] = b"\xa3\x64kind\x63Int\x61i";
const BOOL_TRUE: &[u8] = b"\xa3\x64kind\x64Bool\x61b\xf5";
const BOOL_FALSE: &[u8] = b"\xa3\x64kind\x64Bool\x61b\xf4";
const STRING: &[u8] = b"\xa3\x64kind\x66String\x64text";
const RAW: &[u8] = b"\xa3\x64kind\x63Raw\x61r";
const ERROR: &[u8] = b"\xa3\x64kind\x65Error\x63msg";
const NONE: &[u8] = b"\xa2\x64kind\x64None";
const SEQUENCE: &[u8] = b"\xa4\x64kind\x68Sequence\x68elements";
const IS_SLICE: &[u8] = b"\x68is_slice";
const TUPLE: &[u8] = b"\xa3\x64kind\x65Tuple\x68elements";
const STRUCT: &[u8] = b"\xa3\x64kind\x66Struct\x6cfield_values";
const TYPE_ID: &[u8] = b"\x67type_id";

/// Appends the CBOR of `event` to `out`; on error `out` is left as it was.
pub(super) fn write_event(out: &mut Vec<u8>, event: &TraceLowLevelEvent) -> io::Result<()> {
    match event {
        TraceLowLevelEvent::Step(step) => {
            out.extend_from_slice(STEP);
            unsigned(out, step.path_id.0);
            out.extend_from_slice(LINE);
            signed(out, step.line.0);
        }
        TraceLowLevelEvent::Value(value) => {
            out.extend_from_slice(VALUE);
            full_value(out, value)?;
        }
        TraceLowLevelEvent::Call(call) => {
            out.extend_from_slice(CALL);
            unsigned(out, call.function_id.0);
            out.extend_from_slice(ARGS);
            head(out, ARRAY, call.args.len() as u64);
            for arg in &call.args {
                full_value(out, arg)?;
            }
        }
        TraceLowLevelEvent::Return(ret) => {
            out.extend_from_slice(RETURN);
            value(out, &ret.return_value)?;
        }
        other => through_serde(out, other)?,
    }
    Ok(())
}

/// Appends the CBOR of one value, as [`write_event`] writes it inside a
/// `Value` event; on error `out` may hold part of it.
pub(super) fn write_value(out: &mut Vec<u8>, record: &ValueRecord) -> io::Result<()> {
    value(out, record)
}

/// Appends a `Value` event for `variable_id` whose value's CBOR is `value`
/// (from [`write_value`]): the bytes [`write_event`] writes for that event.
pub(super) fn write_value_event(out: &mut Vec<u8>, variable_id: VariableId, value: &[u8]) {
    out.extend_from_slice(VALUE);
    out.extend_from_slice(FULL_VALUE);
    unsigned(out, variable_id.0);
    out.extend_from_slice(FULL_VALUE_VALUE);
    out.extend_from_slice(value);
}

/// Appends a `Call` event of `function_id` whose arguments' values are
/// serialised in `args`: the bytes [`write_event`] writes for that event.
pub(super) fn write_call_event(out: &mut Vec<u8>, function_id: FunctionId, args: &SerializedArgs) {
    out.extend_from_slice(CALL);
    unsigned(out, function_id.0);
    out.extend_from_slice(ARGS);
    head(out, ARRAY, args.len() as u64);
    for (variable_id, value) in args.iter() {
        out.extend_from_slice(FULL_VALUE);
        unsigned(out, variable_id.0);
        out.extend_from_slice(FULL_VALUE_VALUE);
        out.extend_from_slice(value);
    }
}

/// `{variable_id, value}`.
fn full_value(out: &mut Vec<u8>, record: &FullValueRecord) -> io::Result<()> {
    out.extend_from_slice(FULL_VALUE);
    unsigned(out, record.variable_id.0);
    out.extend_from_slice(FULL_VALUE_VALUE);
    value(out, &record.value)
}

/// One value: a map of `kind` and the variant's fields, `type_id` last.
fn value(out: &mut Vec<u8>, record: &ValueRecord) -> io::Result<()> {
    let type_id = match record {
        ValueRecord::Int { i, type_id } => {
            out.extend_from_slice(INT);
            signed(out, *i);
            type_id
        }
        ValueRecord::Bool { b, type_id } => {
            out.extend_from_slice(if *b { BOOL_TRUE } else { BOOL_FALSE });
            type_id
        }
        ValueRecord::String { text: s, type_id } => {
            out.extend_from_slice(STRING);
            text(out, s);
            type_id
        }
        ValueRecord::Raw { r, type_id } => {
            out.extend_from_slice(RAW);
            text(out, r);
            type_id
        }
        ValueRecord::Error { msg, type_id } => {
            out.extend_from_slice(ERROR);
            text(out, msg);
            type_id
        }
        ValueRecord::None { type_id } => {
            out.extend_from_slice(NONE);
            type_id
        }
        ValueRecord::Sequence {
            elements,
            is_slice,
            type_id,
        } => {
            out.extend_from_slice(SEQUENCE);
            values(out, elements)?;
            out.extend_from_slice(IS_SLICE);
            out.push(if *is_slice { TRUE } else { FALSE });
            type_id
        }
        ValueRecord::Tuple { elements, type_id } => {
            out.extend_from_slice(TUPLE);
            values(out, elements)?;
            type_id
        }
        ValueRecord::Struct {
            field_values,
            type_id,
        } => {
            out.extend_from_slice(STRUCT);
            values(out, field_values)?;
            type_id
        }
        other => return through_serde(out, other),
    };
    out.extend_from_slice(TYPE_ID);
    unsigned(out, type_id.0);
    Ok(())
}

fn values(out: &mut Vec<u8>, records: &[ValueRecord]) -> io::Result<()> {
    head(out, ARRAY, records.len() as u64);
    for record in records {
        value(out, record)?;
    }
    Ok(())
}

#[inline(always)]
fn unsigned(out: &mut Vec<u8>, n: usize) {
    head(out, UNSIGNED, n as u64);
}

#[inline(always)]
fn signed(out: &mut Vec<u8>, i: i64) {
    if i >= 0 {
        head(out, UNSIGNED, i.unsigned_abs());
    } else {
        // -1 - i, which is never negative for a negative i.
        head(out, NEGATIVE, !(i as u64));
    }
}

#[inline(always)]
fn text(out: &mut Vec<u8>, s: &str) {
    head(out, TEXT, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// A major type with its argument in the shortest form.
#[inline(always)]
fn head(out: &mut Vec<u8>, major: u8, n: u64) {
    let major = major << 5;
    if n < 24 {
        // Below 24: the argument is the low bits of the first byte.
        out.push(major | n as u8);
    } else {
        long_head(out, major, n);
    }
}

/// [`head`] for an argument of 24 or more: 1, 2, 4 or 8 bytes follow.
fn long_head(out: &mut Vec<u8>, major: u8, n: u64) {
    if let Ok(n) = u8::try_from(n) {
        out.extend_from_slice(&[major | 24, n]);
    } else if let Ok(n) = u16::try_from(n) {
        out.push(major | 25);
        out.extend_from_slice(&n.to_be_bytes());
    } else if let Ok(n) = u32::try_from(n) {
        out.push(major | 26);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.push(major | 27);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// `cbor4ii`'s own serialisation, for the kinds written rarely.
fn through_serde(out: &mut Vec<u8>, item: &impl serde::Serialize) -> io::Result<()> {
    let bytes = cbor4ii::serde::to_vec(Vec::new(), item).map_err(io::Error::other)?;
    out.extend_from_slice(&bytes);
    Ok(())
}

#[cfg(test)]
mod tests {
    use runtime_tracing::{
        CallRecord, FunctionId, FunctionRecord, Line, PathId, Place, ReturnRecord, StepRecord,
        TypeId, VariableId,
    };

    use super::*;

    fn int(i: i64) -> ValueRecord {
        ValueRecord::Int {
            i,
            type_id: TypeId(1),
        }
    }

    fn string(len: usize) -> ValueRecord {
        ValueRecord::String {
            text: "é".repeat(len / 2) + &"x".repeat(len % 2),
            type_id: TypeId(300),
        }
    }

    /// Every value kind, with numbers, texts and arrays on each length boundary.
    fn values() -> Vec<ValueRecord> {
        let mut values: Vec<ValueRecord> = [
            0,
            1,
            23,
            24,
            255,
            256,
            65_535,
            65_536,
            u32::MAX as i64,
            u32::MAX as i64 + 1,
            i64::MAX,
            -1,
            -24,
            -25,
            -256,
            -257,
            -65_537,
            i64::MIN,
        ]
        .into_iter()
        .map(int)
        .collect();
        values.extend([0, 1, 23, 24, 255, 256, 70_000].map(string));
        values.extend([
            ValueRecord::Bool {
                b: true,
                type_id: TypeId(2),
            },
            ValueRecord::Bool {
                b: false,
                type_id: TypeId(70_000),
            },
            ValueRecord::Raw {
                r: "<m.Thing object>".to_string(),
                type_id: TypeId(3),
            },
            ValueRecord::Error {
                msg: "ValueError: \"quoted\"\n".to_string(),
                type_id: TypeId(4),
            },
            ValueRecord::None { type_id: TypeId(0) },
            ValueRecord::Float {
                f: -2.5,
                type_id: TypeId(5),
            },
            ValueRecord::BigInt {
                b: vec![1, 0, 0, 0, 0, 0, 0, 0, 0],
                negative: true,
                type_id: TypeId(6),
            },
            ValueRecord::Cell { place: Place(7) },
        ]);
        let nested = values.clone();
        for len in [0, 1, 23, 24, 255, 256] {
            let elements: Vec<ValueRecord> = nested.iter().cycle().take(len).cloned().collect();
            values.push(ValueRecord::Sequence {
                elements: elements.clone(),
                is_slice: len % 2 == 0,
                type_id: TypeId(8),
            });
            values.push(ValueRecord::Tuple {
                elements: elements.clone(),
                type_id: TypeId(9),
            });
            values.push(ValueRecord::Struct {
                field_values: elements,
                type_id: TypeId(10),
            });
        }
        values.push(ValueRecord::Variant {
            discriminator: "Some".to_string(),
            contents: Box::new(int(3)),
            type_id: TypeId(11),
        });
        values.push(ValueRecord::Reference {
            dereferenced: Box::new(string(3)),
            address: 0xdead_beef,
            mutable: true,
            type_id: TypeId(12),
        });
        values
    }

    fn events() -> Vec<TraceLowLevelEvent> {
        let values = values();
        let mut events = vec![
            TraceLowLevelEvent::Step(StepRecord {
                path_id: PathId(0),
                line: Line(1),
            }),
            TraceLowLevelEvent::Step(StepRecord {
                path_id: PathId(70_000),
                line: Line(-3),
            }),
            TraceLowLevelEvent::Call(CallRecord {
                function_id: FunctionId(0),
                args: Vec::new(),
            }),
            TraceLowLevelEvent::Call(CallRecord {
                function_id: FunctionId(25),
                args: values
                    .iter()
                    .take(30)
                    .enumerate()
                    .map(|(index, value)| FullValueRecord {
                        variable_id: VariableId(index * 10),
                        value: value.clone(),
                    })
                    .collect(),
            }),
            TraceLowLevelEvent::Function(FunctionRecord {
                path_id: PathId(1),
                line: Line(2),
                name: "f".to_string(),
            }),
            TraceLowLevelEvent::VariableName("x".to_string()),
        ];
        for (index, value) in values.into_iter().enumerate() {
            events.push(TraceLowLevelEvent::Return(ReturnRecord {
                return_value: value.clone(),
            }));
            events.push(TraceLowLevelEvent::Value(FullValueRecord {
                variable_id: VariableId(index * 1000),
                value,
            }));
        }
        events
    }

    #[test]
    fn a_value_event_from_serialised_bytes_is_the_event_itself() {
        for (index, value) in values().into_iter().enumerate() {
            let variable_id = VariableId(index * 1000);
            let mut bytes = Vec::new();
            write_value(&mut bytes, &value).unwrap_or_else(|err| panic!("{err}"));
            let mut from_bytes = vec![0xAA];
            write_value_event(&mut from_bytes, variable_id, &bytes);
            let mut direct = vec![0xAA];
            let event = TraceLowLevelEvent::Value(FullValueRecord { variable_id, value });
            write_event(&mut direct, &event).unwrap_or_else(|err| panic!("{err}"));
            assert_eq!(from_bytes, direct, "{event:?}");
        }
    }

    #[test]
    fn a_call_event_from_serialised_arguments_is_the_event_itself() {
        for count in [0, 1, 3, 30] {
            let records: Vec<FullValueRecord> = values()
                .into_iter()
                .take(count)
                .enumerate()
                .map(|(index, value)| FullValueRecord {
                    variable_id: VariableId(index * 7),
                    value,
                })
                .collect();
            let mut args = SerializedArgs::default();
            for record in &records {
                args.push(record.variable_id, |out| {
                    write_value(out, &record.value).map_err(|err| panic!("{err}"))
                })
                .unwrap_or_else(|err| panic!("{err}"));
            }
            let function_id = FunctionId(count * 100);
            let mut from_bytes = Vec::new();
            write_call_event(&mut from_bytes, function_id, &args);
            let mut direct = Vec::new();
            let event = TraceLowLevelEvent::Call(CallRecord {
                function_id,
                args: records,
            });
            write_event(&mut direct, &event).unwrap_or_else(|err| panic!("{err}"));
            assert_eq!(from_bytes, direct, "{count} arguments");
        }
    }

    #[test]
    fn every_event_and_value_kind_matches_cbor4ii_byte_for_byte() {
        for event in events() {
            let expected = cbor4ii::serde::to_vec(Vec::new(), &event)
                .unwrap_or_else(|err| panic!("cbor4ii: {err}"));
            let mut written = vec![0xAA];
            write_event(&mut written, &event).unwrap_or_else(|err| panic!("{err}"));
            assert_eq!(written[0], 0xAA, "what was buffered before stays");
            assert!(
                written[1..] == expected[..],
                "{event:?}: {:02x?} != {:02x?}",
                &written[1..],
                expected
            );
        }
    }
}
