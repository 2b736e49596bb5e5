//! Writing a whole buffer with a bounded number of retries after `EINTR`.
//!
//! `std`'s `write_all` retries an interrupted write forever: a filesystem (or
//! a fault plan) that keeps answering `EINTR` would hang the traced program.
//! Here an interrupted write is retried at most [`MAX_INTERRUPTED_RETRIES`]
//! times in a row; a write that makes progress resets the count.

use std::io::{self, Write};

/// Consecutive `EINTR` results one write is retried after; the next one is
/// returned as the error (`ERR_INTERRUPTED` in the recorder).
pub const MAX_INTERRUPTED_RETRIES: u32 = 8;

/// Writes all of `buf` to `out`, retrying an interrupted write at most
/// [`MAX_INTERRUPTED_RETRIES`] times in a row. A write of zero bytes is
/// `ErrorKind::WriteZero`, as in `std`.
pub(crate) fn write_all_bounded<W: Write + ?Sized>(out: &mut W, mut buf: &[u8]) -> io::Result<()> {
    let mut interrupted = 0;
    while !buf.is_empty() {
        match out.write(buf) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "failed to write the whole buffer",
                ))
            }
            Ok(written) => {
                buf = &buf[written..];
                interrupted = 0;
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {
                interrupted += 1;
                if interrupted > MAX_INTERRUPTED_RETRIES {
                    return Err(err);
                }
            }
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers `EINTR` for the first `interruptions` calls, then takes at most `step` bytes.
    struct Flaky {
        interruptions: u32,
        calls: u32,
        step: usize,
        data: Vec<u8>,
    }

    impl Write for Flaky {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.calls += 1;
            if self.interruptions > 0 {
                self.interruptions -= 1;
                return Err(io::Error::from_raw_os_error(libc::EINTR));
            }
            let n = buf.len().min(self.step);
            self.data.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn flaky(interruptions: u32, step: usize) -> Flaky {
        Flaky {
            interruptions,
            calls: 0,
            step,
            data: Vec::new(),
        }
    }

    #[test]
    fn a_few_interruptions_are_retried() {
        let mut out = flaky(MAX_INTERRUPTED_RETRIES, 3);
        write_all_bounded(&mut out, b"0123456789").unwrap();
        assert_eq!(out.data, b"0123456789");
    }

    #[test]
    fn persistent_interruption_ends_with_eintr_after_the_bound() {
        let mut out = flaky(u32::MAX, 3);
        let err = write_all_bounded(&mut out, b"0123456789").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EINTR));
        assert_eq!(out.calls, MAX_INTERRUPTED_RETRIES + 1);
        assert!(out.data.is_empty());
    }

    #[test]
    fn a_zero_length_write_is_write_zero() {
        let mut out = flaky(0, 0);
        let err = write_all_bounded(&mut out, b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WriteZero);
        write_all_bounded(&mut out, b"").unwrap();
    }
}
