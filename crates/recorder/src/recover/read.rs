//! Reading the events of a dead recording: every event up to the last
//! complete one of a file that may stop anywhere.
//!
//! - `trace.json`: one event per line after `[` (docs/design.md); lines are
//!   read until `]`, the end, or the first line that is not a whole event
//!   (the last line of a killed process may end without its `,`, and still
//!   be whole).
//! - `trace.bin`: `HEADERV1`, then a zstd stream of CBOR events. The stream is
//!   decompressed block by block as far as it goes (a block cut short by the
//!   kill yields nothing), then events are decoded until one is incomplete.

use runtime_tracing::TraceLowLevelEvent;

use crate::writer::HEADERV1;

/// Size of each decompression output step.
const ZSTD_STEP: usize = 128 * 1024;

/// The whole events of a JSON events file, in order.
pub fn json_events(bytes: &[u8]) -> Vec<TraceLowLevelEvent> {
    let mut lines = bytes.split(|&byte| byte == b'\n');
    if lines.next().map(<[u8]>::trim_ascii) != Some(&b"["[..]) {
        return Vec::new();
    }
    let mut events = Vec::new();
    for line in lines {
        let item = line.trim_ascii();
        let item = item.strip_suffix(b",").unwrap_or(item).trim_ascii();
        if item == b"]" {
            break;
        }
        match serde_json::from_slice::<TraceLowLevelEvent>(item) {
            Ok(event) => events.push(event),
            Err(_) => break,
        }
    }
    events
}

/// The whole events of a binary events file, in order.
pub fn binary_events(bytes: &[u8]) -> Vec<TraceLowLevelEvent> {
    let Some(stream) = bytes.strip_prefix(&HEADERV1[..]) else {
        return Vec::new();
    };
    let cbor = decompress_prefix(stream);
    let mut rest: &[u8] = &cbor;
    let mut events = Vec::new();
    while !rest.is_empty() {
        match cbor4ii::serde::from_reader::<TraceLowLevelEvent, _>(&mut rest) {
            Ok(event) => events.push(event),
            Err(_) => break,
        }
    }
    events
}

/// Decompresses a zstd stream as far as it is whole (skippable frames, such
/// as the seek table, are skipped).
fn decompress_prefix(stream: &[u8]) -> Vec<u8> {
    let mut dctx = zstd_safe::DCtx::create();
    let mut input = zstd_safe::InBuffer::around(stream);
    let mut step = vec![0u8; ZSTD_STEP];
    let mut out = Vec::new();
    loop {
        let before = input.pos();
        let mut output = zstd_safe::OutBuffer::around(&mut step[..]);
        if dctx.decompress_stream(&mut output, &mut input).is_err() {
            break;
        }
        let produced = output.pos();
        out.extend_from_slice(&step[..produced]);
        if produced == 0 && input.pos() == before {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use runtime_tracing::{Line, PathId, StepRecord};

    fn texts(events: &[TraceLowLevelEvent]) -> Vec<String> {
        events
            .iter()
            .map(|event| serde_json::to_string(event).unwrap())
            .collect()
    }

    fn step(line: i64) -> TraceLowLevelEvent {
        TraceLowLevelEvent::Step(StepRecord {
            path_id: PathId(0),
            line: Line(line),
        })
    }

    #[test]
    fn json_reads_up_to_the_last_whole_event() {
        let full = b"[\n{\"Step\":{\"path_id\":0,\"line\":1}},\n{\"Step\":{\"path_id\":0,\"line\":2}}\n]\n";
        assert_eq!(texts(&json_events(full)), texts(&[step(1), step(2)]));
        let unterminated =
            b"[\n{\"Step\":{\"path_id\":0,\"line\":1}},\n{\"Step\":{\"path_id\":0,\"line\":2}}";
        assert_eq!(
            texts(&json_events(unterminated)),
            texts(&[step(1), step(2)])
        );
        let cut = b"[\n{\"Step\":{\"path_id\":0,\"line\":1}},\n{\"Step\":{\"path_id\":0,\"li";
        assert_eq!(texts(&json_events(cut)), texts(&[step(1)]));
        assert!(json_events(b"").is_empty());
        assert!(json_events(b"not a trace").is_empty());
    }

    #[test]
    fn binary_reads_whole_blocks_of_a_cut_stream() {
        let events: Vec<TraceLowLevelEvent> = (0..20_000).map(step).collect();
        let mut cbor = Vec::new();
        for event in &events {
            cbor = cbor4ii::serde::to_vec(cbor, event).unwrap();
        }
        let mut compressed = vec![0u8; zstd_safe::compress_bound(cbor.len())];
        let written = zstd_safe::compress(&mut compressed[..], &cbor, 3).unwrap();
        compressed.truncate(written);
        let mut file = HEADERV1.to_vec();
        file.extend_from_slice(&compressed);
        assert_eq!(texts(&binary_events(&file)), texts(&events));
        let cut = &file[..file.len() * 2 / 3];
        let read = binary_events(cut);
        assert!(read.len() < events.len());
        assert_eq!(
            texts(&read),
            texts(&events[..read.len()]),
            "a prefix, in order"
        );
        assert!(binary_events(&HEADERV1).is_empty());
        assert!(binary_events(b"junk").is_empty());
    }
}
