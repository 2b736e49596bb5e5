//! `trace.json`: `[` on the first line, one event per line, `,` after every
//! event but the last, `]` on the last line.
//!
//! The events written at every step (`Step`, `Value`, `Call`, `Return`), and
//! `Event` (exceptions, and the IO events of a program that prints at every
//! step), are serialised directly, byte for byte what `serde_json::to_writer` writes for
//! them, without serde's per-field machinery: object keys are constant byte
//! strings, numbers are formatted in place and only string values are scanned
//! for escapes. Every other event (and the rare value kinds `Float`, `BigInt`,
//! `Variant`, `Reference`, `Cell`) goes through `serde_json` itself.
//!
//! `tests/encoding_limits.rs` checks the equivalence on every value kind.

use std::io;
use std::path::Path;

use runtime_tracing::{FullValueRecord, FunctionId, TraceLowLevelEvent, ValueRecord, VariableId};

use super::chunk::{ChunkOut, FileOpResult, OpResultExt, CHUNK_SIZE};
use super::SerializedArgs;

/// `trace.json` writer.
pub(super) struct JsonSink {
    out: ChunkOut,
    buf: Vec<u8>,
    first: bool,
}

impl JsonSink {
    /// Starts the array.
    pub(super) fn new(out: ChunkOut) -> JsonSink {
        let mut buf = Vec::with_capacity(CHUNK_SIZE + 4096);
        buf.extend_from_slice(b"[\n");
        JsonSink {
            out,
            buf,
            first: true,
        }
    }

    /// The staged file.
    pub(super) fn path(&self) -> &Path {
        self.out.path()
    }

    /// Where the chunks go.
    pub(super) fn out(&self) -> &ChunkOut {
        &self.out
    }

    /// Appends one event line (handing a chunk over when the buffer is full).
    pub(super) fn write(&mut self, event: &TraceLowLevelEvent) -> FileOpResult<()> {
        self.separate();
        write_event(&mut self.buf, event)
            .map_err(io::Error::other)
            .op("encode")?;
        self.written()
    }

    /// Appends a `Value` event line whose value's JSON is `value` (see [`JsonSink::write`]).
    pub(super) fn write_value_bytes(
        &mut self,
        variable_id: VariableId,
        value: &[u8],
    ) -> FileOpResult<()> {
        self.separate();
        write_value_event(&mut self.buf, variable_id, value);
        self.written()
    }

    /// Appends a `Call` event line whose arguments' values are serialised in
    /// `args` (see [`JsonSink::write`]).
    pub(super) fn write_call_bytes(
        &mut self,
        function_id: FunctionId,
        args: &SerializedArgs,
    ) -> FileOpResult<()> {
        self.separate();
        write_call_event(&mut self.buf, function_id, args);
        self.written()
    }

    /// The `,` ending the previous event's line, if there is one.
    fn separate(&mut self) {
        if !self.first {
            self.buf.extend_from_slice(b",\n");
        }
        self.first = false;
    }

    /// After an event was appended: a full buffer is handed over.
    fn written(&mut self) -> FileOpResult<()> {
        if self.buf.len() >= CHUNK_SIZE {
            self.flush()?;
        }
        Ok(())
    }

    /// Hands the buffered bytes to the file.
    fn flush(&mut self) -> FileOpResult<()> {
        self.out.hand_buffer(&mut self.buf)
    }

    /// Hands the buffered bytes to the file and the file's buffer to the
    /// operating system.
    pub(super) fn flush_to_os(&mut self) -> FileOpResult<()> {
        self.flush()?;
        self.out.flush_file()
    }

    /// Closes the array, then flushes and fsyncs.
    pub(super) fn finish(mut self) -> FileOpResult<()> {
        self.buf.extend_from_slice(b"\n]\n");
        self.flush()?;
        self.out.finish()
    }
}

/// Appends the JSON text of `event` to `out` (no separator, no newline).
pub fn write_event(out: &mut Vec<u8>, event: &TraceLowLevelEvent) -> serde_json::Result<()> {
    match event {
        TraceLowLevelEvent::Step(step) => {
            out.extend_from_slice(b"{\"Step\":{\"path_id\":");
            write_int(out, step.path_id.0);
            out.extend_from_slice(b",\"line\":");
            write_int(out, step.line.0);
            out.extend_from_slice(b"}}");
        }
        TraceLowLevelEvent::Value(value) => {
            out.extend_from_slice(b"{\"Value\":");
            write_full_value(out, value)?;
            out.push(b'}');
        }
        TraceLowLevelEvent::Call(call) => {
            out.extend_from_slice(b"{\"Call\":{\"function_id\":");
            write_int(out, call.function_id.0);
            out.extend_from_slice(b",\"args\":[");
            for (index, arg) in call.args.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_full_value(out, arg)?;
            }
            out.extend_from_slice(b"]}}");
        }
        TraceLowLevelEvent::Return(ret) => {
            out.extend_from_slice(b"{\"Return\":{\"return_value\":");
            write_value(out, &ret.return_value)?;
            out.extend_from_slice(b"}}");
        }
        TraceLowLevelEvent::Event(event) => {
            out.extend_from_slice(b"{\"Event\":{\"kind\":");
            // `EventLogKind` is `repr(u8)` and serialised as that number.
            write_int(out, event.kind as u8);
            out.extend_from_slice(b",\"metadata\":");
            write_str(out, &event.metadata);
            out.extend_from_slice(b",\"content\":");
            write_str(out, &event.content);
            out.extend_from_slice(b"}}");
        }
        other => serde_json::to_writer(&mut *out, other)?,
    }
    Ok(())
}

/// Appends a `Value` event for `variable_id` whose value's JSON is `value`
/// (from [`write_value`]): the text [`write_event`] writes for that event.
pub(super) fn write_value_event(out: &mut Vec<u8>, variable_id: VariableId, value: &[u8]) {
    out.extend_from_slice(b"{\"Value\":{\"variable_id\":");
    write_int(out, variable_id.0);
    out.extend_from_slice(b",\"value\":");
    out.extend_from_slice(value);
    out.extend_from_slice(b"}}");
}

/// Appends a `Call` event of `function_id` whose arguments' values are
/// serialised in `args`: the text [`write_event`] writes for that event.
pub(super) fn write_call_event(out: &mut Vec<u8>, function_id: FunctionId, args: &SerializedArgs) {
    out.extend_from_slice(b"{\"Call\":{\"function_id\":");
    write_int(out, function_id.0);
    out.extend_from_slice(b",\"args\":[");
    for (index, (variable_id, value)) in args.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"variable_id\":");
        write_int(out, variable_id.0);
        out.extend_from_slice(b",\"value\":");
        out.extend_from_slice(value);
        out.push(b'}');
    }
    out.extend_from_slice(b"]}}");
}

fn write_full_value(out: &mut Vec<u8>, value: &FullValueRecord) -> serde_json::Result<()> {
    out.extend_from_slice(b"{\"variable_id\":");
    write_int(out, value.variable_id.0);
    out.extend_from_slice(b",\"value\":");
    write_value(out, &value.value)?;
    out.push(b'}');
    Ok(())
}

/// Appends the JSON text of one value (`{"kind":...}`).
pub fn write_value(out: &mut Vec<u8>, value: &ValueRecord) -> serde_json::Result<()> {
    match value {
        ValueRecord::Int { i, type_id } => {
            out.extend_from_slice(b"{\"kind\":\"Int\",\"i\":");
            write_int(out, *i);
            end_with_type(out, type_id.0);
        }
        ValueRecord::Bool { b, type_id } => {
            out.extend_from_slice(if *b {
                b"{\"kind\":\"Bool\",\"b\":true"
            } else {
                b"{\"kind\":\"Bool\",\"b\":false"
            });
            end_with_type(out, type_id.0);
        }
        ValueRecord::String { text, type_id } => {
            out.extend_from_slice(b"{\"kind\":\"String\",\"text\":");
            write_str(out, text);
            end_with_type(out, type_id.0);
        }
        ValueRecord::Raw { r, type_id } => {
            out.extend_from_slice(b"{\"kind\":\"Raw\",\"r\":");
            write_str(out, r);
            end_with_type(out, type_id.0);
        }
        ValueRecord::Error { msg, type_id } => {
            out.extend_from_slice(b"{\"kind\":\"Error\",\"msg\":");
            write_str(out, msg);
            end_with_type(out, type_id.0);
        }
        ValueRecord::None { type_id } => {
            out.extend_from_slice(b"{\"kind\":\"None\"");
            end_with_type(out, type_id.0);
        }
        ValueRecord::Sequence {
            elements,
            is_slice,
            type_id,
        } => {
            out.extend_from_slice(b"{\"kind\":\"Sequence\",\"elements\":");
            write_values(out, elements)?;
            out.extend_from_slice(if *is_slice {
                b",\"is_slice\":true"
            } else {
                b",\"is_slice\":false"
            });
            end_with_type(out, type_id.0);
        }
        ValueRecord::Tuple { elements, type_id } => {
            out.extend_from_slice(b"{\"kind\":\"Tuple\",\"elements\":");
            write_values(out, elements)?;
            end_with_type(out, type_id.0);
        }
        ValueRecord::Struct {
            field_values,
            type_id,
        } => {
            out.extend_from_slice(b"{\"kind\":\"Struct\",\"field_values\":");
            write_values(out, field_values)?;
            end_with_type(out, type_id.0);
        }
        other => serde_json::to_writer(&mut *out, other)?,
    }
    Ok(())
}

fn write_values(out: &mut Vec<u8>, values: &[ValueRecord]) -> serde_json::Result<()> {
    out.push(b'[');
    for (index, value) in values.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_value(out, value)?;
    }
    out.push(b']');
    Ok(())
}

/// `,"type_id":N}`.
fn end_with_type(out: &mut Vec<u8>, type_id: usize) {
    out.extend_from_slice(b",\"type_id\":");
    write_int(out, type_id);
    out.push(b'}');
}

/// An integer in decimal, as `serde_json` writes it.
fn write_int(out: &mut Vec<u8>, value: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// What `serde_json` writes for each byte: 0 none, `u` as `\u00XX`, else `\<c>`.
const ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = b'u';
        byte += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0A] = b'n';
    table[0x0C] = b'f';
    table[0x0D] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// A JSON string literal with `serde_json`'s escapes.
fn write_str(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut run = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        let escape = ESCAPE[byte as usize];
        if escape == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[run..index]);
        run = index + 1;
        if escape == b'u' {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[(byte >> 4) as usize]);
            out.push(HEX[(byte & 0x0F) as usize]);
        } else {
            out.push(b'\\');
            out.push(escape);
        }
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::{
        write_call_event, write_event, write_int, write_str, write_value, write_value_event,
    };
    use crate::writer::SerializedArgs;
    use runtime_tracing::{
        CallRecord, EventLogKind, FullValueRecord, FunctionId, RecordEvent, TraceLowLevelEvent,
        TypeId, ValueRecord, VariableId,
    };

    fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn integers_and_strings_match_serde_json() {
        for value in [0, 7, -1, 10, i64::MIN, i64::MAX, -1_000_000_007] {
            assert_eq!(text(|out| write_int(out, value)), value.to_string());
        }
        for value in [
            "",
            "plain",
            "q\"b\\s",
            "\n\t\r\u{8}\u{c}\u{1}\u{1f}\u{7f}",
            "héllo €",
        ] {
            let expected = serde_json::to_string(value).unwrap_or_default();
            assert_eq!(text(|out| write_str(out, value)), expected);
        }
    }

    #[test]
    fn value_and_call_events_from_serialised_bytes_are_the_events_themselves() {
        let leaf = ValueRecord::String {
            text: "q\"\n".to_string(),
            type_id: TypeId(3),
        };
        let values = [
            leaf.clone(),
            ValueRecord::Float {
                f: 1.5,
                type_id: TypeId(2),
            },
            ValueRecord::Sequence {
                elements: vec![leaf.clone(), ValueRecord::None { type_id: TypeId(0) }],
                is_slice: true,
                type_id: TypeId(12),
            },
            ValueRecord::Struct {
                field_values: vec![leaf],
                type_id: TypeId(40),
            },
        ];
        let mut args = SerializedArgs::default();
        let mut records = Vec::new();
        for (index, value) in values.into_iter().enumerate() {
            let variable_id = VariableId(index * 1000);
            let bytes = text(|out| drop(write_value(out, &value)));
            let from_bytes = text(|out| write_value_event(out, variable_id, bytes.as_bytes()));
            let record = FullValueRecord { variable_id, value };
            let event = TraceLowLevelEvent::Value(record.clone());
            let expected = serde_json::to_string(&event).unwrap_or_default();
            assert_eq!(from_bytes, expected);

            args.push(variable_id, |out| {
                out.extend_from_slice(bytes.as_bytes());
                Ok(())
            })
            .unwrap_or_else(|err| panic!("{err}"));
            records.push(record);
            let from_bytes = text(|out| write_call_event(out, FunctionId(index), &args));
            let call = TraceLowLevelEvent::Call(CallRecord {
                function_id: FunctionId(index),
                args: records.clone(),
            });
            let expected = serde_json::to_string(&call).unwrap_or_default();
            assert_eq!(from_bytes, expected, "a call with {} arguments", index + 1);
        }
    }

    #[test]
    fn events_match_serde_json() {
        for kind in [
            EventLogKind::Write,
            EventLogKind::WriteOther,
            EventLogKind::Read,
            EventLogKind::Error,
        ] {
            let event = TraceLowLevelEvent::Event(RecordEvent {
                kind,
                metadata: r#"{"stream":"stdout","line":3}"#.to_string(),
                content: "héllo\n\t\u{1}\"\\".to_string(),
            });
            let expected = serde_json::to_string(&event).unwrap_or_default();
            assert_eq!(text(|out| drop(write_event(out, &event))), expected);
        }
    }
}
