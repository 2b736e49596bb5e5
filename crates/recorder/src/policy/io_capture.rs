//! The `io_capture` setting: which of the program's standard streams the
//! recorder captures, and how (the stream proxies, the descriptor mirror).

use serde::Serialize;

/// How the program's stdout, stderr and stdin are captured. The names are
/// 0.3's (`line_proxies`, `fd_fallback`), so a policy snapshot reads the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IoCapturePolicy {
    /// Proxies over `sys.stdout`, `sys.stderr` and `sys.stdin` record what the
    /// program writes and reads through them.
    pub line_proxies: bool,
    /// The descriptor mirror (Linux) also records bytes written to fds 1 and 2
    /// that the proxies did not see (C code, `os.write`, subprocesses).
    pub fd_fallback: bool,
}

impl Default for IoCapturePolicy {
    /// Proxies on, mirror off (as in 0.3).
    fn default() -> Self {
        IoCapturePolicy {
            line_proxies: true,
            fd_fallback: false,
        }
    }
}

/// The accepted spellings of an `io_capture` mode, for error messages.
pub const ACCEPTED: &str = "off, proxies, proxies,fd (also proxies+fd; \
    fd implies proxies; 1/true/on = proxies, 0/false/none = off; empty = proxies)";

impl IoCapturePolicy {
    /// Everything off.
    pub const OFF: IoCapturePolicy = IoCapturePolicy {
        line_proxies: false,
        fd_fallback: false,
    };

    /// Parses a mode as `CODETRACER_CAPTURE_IO` and `--io-capture` spell it:
    /// `off`, `proxies`, `proxies,fd` (`,` or `+` between the parts, any
    /// case); `fd` implies the proxies; `1`/`true`/`on`/`yes` mean `proxies`,
    /// `0`/`false`/`off`/`no`/`none` mean off; empty is the default (as in
    /// 0.3). `None` for anything else.
    pub fn parse(text: &str) -> Option<IoCapturePolicy> {
        let text = text.trim().to_ascii_lowercase();
        match text.as_str() {
            "" => return Some(IoCapturePolicy::default()),
            "0" | "false" | "off" | "no" | "none" => return Some(IoCapturePolicy::OFF),
            "1" | "true" | "on" | "yes" => return Some(IoCapturePolicy::default()),
            _ => {}
        }
        let mut mode = IoCapturePolicy::OFF;
        for part in text.split([',', '+']).map(str::trim) {
            match part {
                "proxies" | "proxy" => mode.line_proxies = true,
                "fd" | "mirror" => {
                    mode.line_proxies = true;
                    mode.fd_fallback = true;
                }
                _ => return None,
            }
        }
        Some(mode)
    }

    /// The mode's canonical text: `off`, `proxies`, `proxies,fd` (or `fd`
    /// for the mirror alone, which only the two boolean keys can ask for).
    pub fn as_text(self) -> &'static str {
        match (self.line_proxies, self.fd_fallback) {
            (false, false) => "off",
            (true, false) => "proxies",
            (true, true) => "proxies,fd",
            (false, true) => "fd",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::IoCapturePolicy;

    fn mode(text: &str) -> Option<(bool, bool)> {
        IoCapturePolicy::parse(text).map(|mode| (mode.line_proxies, mode.fd_fallback))
    }

    #[test]
    fn modes_parse_in_every_documented_spelling() {
        for text in ["off", "OFF", "0", "false", "none", " no "] {
            assert_eq!(mode(text), Some((false, false)), "{text}");
        }
        for text in ["proxies", "Proxies", "1", "true", "on", "proxy"] {
            assert_eq!(mode(text), Some((true, false)), "{text}");
        }
        for text in [
            "proxies,fd",
            "proxies+fd",
            "fd,proxies",
            " PROXIES , FD ",
            "fd",
            "mirror",
        ] {
            assert_eq!(mode(text), Some((true, true)), "{text}");
        }
        assert_eq!(mode(" "), Some((true, false)), "empty is the default");
        for text in ["files", "proxies,", "proxies;fd", "2"] {
            assert_eq!(mode(text), None, "{text:?}");
        }
    }

    #[test]
    fn the_default_is_proxies_without_the_mirror_and_texts_round_trip() {
        assert_eq!(IoCapturePolicy::default().as_text(), "proxies");
        for text in ["off", "proxies", "proxies,fd"] {
            assert_eq!(
                IoCapturePolicy::parse(text).map(IoCapturePolicy::as_text),
                Some(text)
            );
        }
    }
}
