//! What the IO capture of one recording does: the `io_capture` policy (the
//! mechanism: stream proxies, descriptor mirror) narrowed by the trace
//! filters' `[io]` table (whether to capture, and which streams).

use crate::filter::model::{IoConfig, IoStream};

use super::hub::Stream;

/// The `io_capture` policy as the Python package hands it to `start`
/// (0.3's two keys, `io_capture_line_proxies` and `io_capture_fd_fallback`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureMode {
    /// Proxies over `sys.stdout`, `sys.stderr` and `sys.stdin`.
    pub line_proxies: bool,
    /// The descriptor mirror (Linux): bytes reaching descriptors 1 and 2
    /// that the proxies did not see (C code, `os.write`, subprocesses).
    pub fd_fallback: bool,
}

impl Default for CaptureMode {
    /// Proxies on, mirror off (as in 0.3).
    fn default() -> CaptureMode {
        CaptureMode {
            line_proxies: true,
            fd_fallback: false,
        }
    }
}

/// What one recording captures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureSettings {
    /// The mechanism, from the policy.
    pub mode: CaptureMode,
    /// `sys.stdout` and descriptor 1.
    pub stdout: bool,
    /// `sys.stderr` and descriptor 2.
    pub stderr: bool,
    /// `sys.stdin`.
    pub stdin: bool,
}

impl CaptureSettings {
    /// The policy's `mode`, narrowed by the filters' `[io]` table when one
    /// has it: `capture = false` captures nothing, otherwise only the
    /// streams listed in `streams` are captured (`files` names no standard
    /// stream and adds nothing). Without an `[io]` table every stream is.
    pub fn new(mode: CaptureMode, filter: Option<&IoConfig>) -> CaptureSettings {
        let listed = |stream: IoStream| match filter {
            None => true,
            Some(io) => io.capture && io.streams.contains(&stream),
        };
        CaptureSettings {
            mode,
            stdout: listed(IoStream::Stdout),
            stderr: listed(IoStream::Stderr),
            stdin: listed(IoStream::Stdin),
        }
    }

    /// Whether `stream` is captured by any mechanism.
    pub fn captures(&self, stream: Stream) -> bool {
        let wanted = match stream {
            Stream::Stdout => self.stdout,
            Stream::Stderr => self.stderr,
            Stream::Stdin => self.stdin,
        };
        wanted && (self.mode.line_proxies || self.mode.fd_fallback)
    }

    /// Whether nothing at all is captured.
    pub fn is_off(&self) -> bool {
        [Stream::Stdout, Stream::Stderr, Stream::Stdin]
            .into_iter()
            .all(|stream| !self.captures(stream))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn captured(settings: CaptureSettings) -> Vec<&'static str> {
        [Stream::Stdout, Stream::Stderr, Stream::Stdin]
            .into_iter()
            .filter(|&stream| settings.captures(stream))
            .map(Stream::name)
            .collect()
    }

    #[test]
    fn without_an_io_table_the_policy_alone_decides() {
        let on = CaptureSettings::new(CaptureMode::default(), None);
        assert_eq!(captured(on), ["stdout", "stderr", "stdin"]);
        let off = CaptureMode {
            line_proxies: false,
            fd_fallback: false,
        };
        assert!(CaptureSettings::new(off, None).is_off());
    }

    #[test]
    fn an_io_table_narrows_the_streams_or_turns_capture_off() {
        let only_stdout = IoConfig {
            capture: true,
            streams: vec![IoStream::Stdout, IoStream::Files],
        };
        let settings = CaptureSettings::new(CaptureMode::default(), Some(&only_stdout));
        assert_eq!(captured(settings), ["stdout"]);
        let not_captured = IoConfig {
            capture: false,
            streams: vec![IoStream::Stdout, IoStream::Stderr],
        };
        assert!(CaptureSettings::new(CaptureMode::default(), Some(&not_captured)).is_off());
    }

    #[test]
    fn an_io_table_never_turns_on_what_the_policy_turned_off() {
        let everything = IoConfig {
            capture: true,
            streams: vec![IoStream::Stdout, IoStream::Stderr, IoStream::Stdin],
        };
        let off = CaptureMode {
            line_proxies: false,
            fd_fallback: false,
        };
        assert!(CaptureSettings::new(off, Some(&everything)).is_off());
    }
}
