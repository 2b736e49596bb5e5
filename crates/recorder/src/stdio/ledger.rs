//! The mirror's ledger of one descriptor: the bytes the proxies already
//! recorded for it, until the mirror reads them back from the descriptor.
//!
//! Python's streams may hold the proxies' bytes back (a block-buffered
//! stdout writes text at the next flush, while `stdout.buffer` writes go
//! ahead of it), so the ledger keeps one [`Lane`] per path through the
//! stream (text, bytes): within a lane the bytes reach the descriptor in
//! order and whole writes stay together, between lanes and around bytes
//! nobody recorded (C code, `os.write`, a subprocess) they interleave.
//! [`Ledger::unseen`] separates them: at each position it takes the longest
//! run matching the head of a lane that ends where one of that lane's writes
//! ends (or at the end of the read: the rest may follow in the next read);
//! any other byte is one the proxies never saw.

use std::collections::VecDeque;

/// The most bytes a lane holds; older writes are forgotten (bytes a stream
/// never wrote, e.g. a buffer discarded by `os._exit`, must not pile up).
pub const LIMIT: usize = 1 << 20;

/// How the proxies' bytes travel to the descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Through the text stream (`sys.stdout.write`, `print`).
    Text = 0,
    /// Through its binary buffer (`sys.stdout.buffer.write`).
    Bytes = 1,
}

/// The writes of one lane not yet read back.
#[derive(Debug, Default)]
struct Writes {
    bytes: VecDeque<u8>,
    /// The length of each write, oldest first (the first may be partly read back).
    lengths: VecDeque<usize>,
}

impl Writes {
    fn add(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.bytes.extend(bytes);
        self.lengths.push_back(bytes.len());
        while self.bytes.len() > LIMIT {
            let Some(oldest) = self.lengths.pop_front() else {
                break;
            };
            self.bytes.drain(..oldest.min(self.bytes.len()));
        }
    }

    /// How many leading bytes of `read` match this lane's head.
    fn run(&self, read: &[u8]) -> usize {
        self.bytes
            .iter()
            .zip(read)
            .take_while(|(expected, byte)| expected == byte)
            .count()
    }

    /// Whether `run` bytes from the head end exactly where a write ends.
    fn ends_a_write(&self, run: usize) -> bool {
        let mut end = 0;
        for length in &self.lengths {
            end += length;
            if end >= run {
                return end == run;
            }
        }
        false
    }

    fn consume(&mut self, mut run: usize) {
        self.bytes.drain(..run.min(self.bytes.len()));
        while run > 0 {
            let Some(front) = self.lengths.front_mut() else {
                return;
            };
            if *front > run {
                *front -= run;
                return;
            }
            run -= *front;
            self.lengths.pop_front();
        }
    }
}

/// Bytes the proxies recorded for one descriptor and the mirror has not read back.
#[derive(Debug, Default)]
pub struct Ledger {
    lanes: [Writes; 2],
}

impl Ledger {
    /// The proxies are about to hand one write of `bytes` to the stream, through `lane`.
    pub fn add(&mut self, lane: Lane, bytes: &[u8]) {
        self.lanes[lane as usize].add(bytes);
    }

    /// The bytes of `read` (just read from the descriptor) the proxies did
    /// not record, in order; the recorded ones leave the ledger.
    pub fn unseen(&mut self, read: &[u8]) -> Vec<u8> {
        let mut unseen = Vec::new();
        let mut at = 0;
        while at < read.len() {
            let rest = &read[at..];
            let best = self
                .lanes
                .iter()
                .enumerate()
                .map(|(index, lane)| (index, lane.run(rest)))
                .filter(|&(index, run)| {
                    run > 0 && (run == rest.len() || self.lanes[index].ends_a_write(run))
                })
                .max_by_key(|&(_, run)| run);
            match best {
                Some((index, run)) => {
                    self.lanes[index].consume(run);
                    at += run;
                }
                None => {
                    unseen.push(read[at]);
                    at += 1;
                }
            }
        }
        unseen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(writes: &[(Lane, &str)], reads: &[&[u8]]) -> Vec<String> {
        let mut ledger = Ledger::default();
        for (lane, bytes) in writes {
            ledger.add(*lane, bytes.as_bytes());
        }
        reads
            .iter()
            .map(|read| String::from_utf8_lossy(&ledger.unseen(read)).into_owned())
            .collect()
    }

    const T: Lane = Lane::Text;
    const B: Lane = Lane::Bytes;

    #[test]
    fn recorded_bytes_are_removed_and_the_rest_is_kept_in_order() {
        assert_eq!(split(&[], &[b"native\n"]), ["native\n"]);
        assert_eq!(split(&[(T, "a\n"), (T, "b\n")], &[b"a\nb\n"]), [""]);
        // A block-buffered stream writes its bytes after a native write.
        assert_eq!(split(&[(T, "py\n")], &[b"c\npy\n"]), ["c\n"]);
        assert_eq!(split(&[(T, "py\n")], &[b"c\n", b"py\n"]), ["c\n", ""]);
        // A native byte that looks like the start of a recorded write stays native.
        assert_eq!(split(&[(T, "ab")], &[b"axab"]), ["ax"]);
        // A recorded write arrives split over two reads.
        assert_eq!(
            split(&[(T, "hello world\n")], &[b"hello", b" world\nnative"]),
            ["", "native"]
        );
    }

    #[test]
    fn text_and_bytes_lanes_may_overtake_each_other() {
        // `buffer.write` lands before text still pending in the text layer.
        assert_eq!(
            split(&[(T, "text\n"), (B, "bin\n")], &[b"bin\ntext\n"]),
            [""]
        );
        // Text flushed in two parts around a binary write.
        assert_eq!(split(&[(T, "A"), (T, "C"), (B, "B")], &[b"ABC"]), [""]);
        assert_eq!(
            split(&[(T, "t\n"), (B, "b\n")], &[b"n\nb\nm\nt\n"]),
            ["n\nm\n"]
        );
    }

    #[test]
    fn a_lane_forgets_its_oldest_writes_past_the_limit() {
        let mut ledger = Ledger::default();
        ledger.add(T, &vec![b'x'; LIMIT]);
        ledger.add(T, b"tail");
        let lane = &ledger.lanes[0];
        assert_eq!(lane.bytes.len(), 4);
        assert_eq!(lane.lengths, [4]);
        assert_eq!(ledger.unseen(b"tail"), b"");
    }
}
