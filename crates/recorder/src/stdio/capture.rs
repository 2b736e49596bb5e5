//! Putting the proxies (and the mirror) in place when a recording starts,
//! and taking them away when it ends, whatever ended it.

use std::os::fd::RawFd;
use std::sync::Arc;

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyString;

use super::hub::{Hub, Stream};
use super::mirror::Mirror;
use super::proxies::{Tap, TapSpec, TextReader, TextWriter};
use super::settings::CaptureSettings;
use crate::logging;

/// The streams the proxies stand in for, by their name in `sys`.
const STREAMS: [Stream; 3] = [Stream::Stdout, Stream::Stderr, Stream::Stdin];

/// A proxy in `sys` and the object it replaced.
#[derive(Debug)]
struct Installed {
    stream: Stream,
    original: Py<PyAny>,
    proxy: Py<PyAny>,
}

/// IO capture for one recording: the proxies in `sys` and the mirror.
#[derive(Debug)]
pub struct Capture {
    hub: Arc<Hub>,
    installed: Vec<Installed>,
    mirror: Option<Arc<Mirror>>,
}

/// Sends the recorder's own stderr lines past the mirror.
struct MirrorRoute(Arc<Mirror>);

impl logging::stderr::Route for MirrorRoute {
    fn write_all(&self, bytes: &[u8]) -> bool {
        self.0.write_diagnostic(bytes)
    }
}

impl Capture {
    /// Installs what `settings` ask for, recording into `hub`. Never fails:
    /// a part that cannot be set up is left out with one warning, and the
    /// program's streams stay as they were.
    pub fn install(py: Python<'_>, hub: &Arc<Hub>, settings: CaptureSettings) -> Capture {
        let mut capture = Capture {
            hub: Arc::clone(hub),
            installed: Vec::new(),
            mirror: None,
        };
        if settings.is_off() {
            hub.close();
            return capture;
        }
        let mode = settings.mode;
        let streams: Vec<Stream> = STREAMS
            .into_iter()
            .filter(|&stream| settings.captures(stream))
            .collect();
        let sys = match py.import("sys") {
            Ok(sys) => sys,
            Err(error) => {
                log::warn!("IO capture is off: cannot import sys: {error}");
                hub.close();
                return capture;
            }
        };
        // For the mirror, asked before it takes the descriptors over (only
        // then: the streams may be the program's own objects).
        let before: Vec<(Stream, Option<RawFd>, Option<bool>)> = streams
            .iter()
            .map(|&stream| {
                if !mode.fd_fallback {
                    return (stream, None, None);
                }
                let original = sys.getattr(stream.name()).ok();
                let ask =
                    |method: &str| original.as_ref().and_then(|o| o.call_method0(method).ok());
                let fd = ask("fileno").and_then(|fd| fd.extract::<RawFd>().ok());
                let isatty = ask("isatty").and_then(|answer| answer.extract::<bool>().ok());
                (stream, fd, isatty)
            })
            .collect();
        if mode.fd_fallback {
            capture.start_mirror(&streams);
        }
        if !mode.line_proxies {
            return capture;
        }
        for (stream, fd, isatty) in before {
            if let Err(error) = capture.install_proxy(&sys, stream, fd, isatty) {
                log::warn!("IO capture: sys.{} is not captured: {error}", stream.name());
            }
        }
        capture
    }

    fn start_mirror(&mut self, streams: &[Stream]) {
        match Mirror::start(&self.hub, streams) {
            Ok(mirror) => {
                self.hub.attach_mirror(Arc::clone(&mirror));
                logging::stderr::set_route(Some(Arc::new(MirrorRoute(Arc::clone(&mirror)))));
                self.mirror = Some(mirror);
            }
            Err(error) => log::warn!(
                "IO capture: the descriptor mirror cannot start ({error}); \
                 only the stream proxies record"
            ),
        }
    }

    /// Replaces `sys.<stream>` by a proxy over it (nothing when it is `None`).
    fn install_proxy(
        &mut self,
        sys: &Bound<'_, PyModule>,
        stream: Stream,
        fd: Option<RawFd>,
        isatty: Option<bool>,
    ) -> PyResult<()> {
        let py = sys.py();
        let original = sys.getattr(stream.name())?;
        if original.is_none() {
            return Ok(());
        }
        let mirrored = match (&self.mirror, fd) {
            (Some(mirror), Some(fd)) if stream != Stream::Stdin && mirror.mirrors(fd) => {
                Some((Arc::clone(mirror), fd))
            }
            _ => None,
        };
        let codec = match &mirrored {
            Some(_) => non_utf8_codec(&original),
            None => None,
        };
        let spec = TapSpec {
            original: original.clone().unbind(),
            stream,
            isatty: mirrored.as_ref().and(isatty),
            ledger: mirrored,
            codec,
        };
        let tap = Tap::new(&self.hub, spec);
        let proxy = match stream {
            Stream::Stdin => Py::new(py, TextReader::new(tap))?.into_any(),
            Stream::Stdout | Stream::Stderr => Py::new(py, TextWriter::new(tap))?.into_any(),
        };
        sys.setattr(stream.name(), proxy.bind(py))?;
        self.installed.push(Installed {
            stream,
            original: original.unbind(),
            proxy,
        });
        Ok(())
    }

    /// Takes everything away: each `sys` stream that still holds our proxy
    /// gets its original back (a stream the program replaced keeps the
    /// program's object), the mirror puts the descriptors back and hands
    /// over what it still had, and the hub records nothing more. Idempotent;
    /// never fails.
    pub fn uninstall(&mut self, py: Python<'_>) {
        if let Ok(sys) = py.import("sys") {
            for slot in self.installed.drain(..).rev() {
                let ours = sys
                    .getattr(slot.stream.name())
                    .is_ok_and(|current| current.is(slot.proxy.bind(py)));
                if ours {
                    if let Err(error) = sys.setattr(slot.stream.name(), slot.original.bind(py)) {
                        log::warn!(
                            "IO capture: cannot put sys.{} back: {error}",
                            slot.stream.name()
                        );
                    }
                }
            }
        }
        if let Some(mirror) = self.mirror.take() {
            mirror.stop();
            logging::stderr::set_route(None);
            if mirror.is_broken() {
                log::warn!(
                    "IO capture: the descriptor mirror failed and gave up; \
                     the program's output was forwarded"
                );
            }
        }
        self.hub.close();
    }
}

/// The encoding and errors of a text stream that does not write UTF-8
/// (the ledger then encodes what the proxy sees as the stream will).
fn non_utf8_codec(original: &Bound<'_, PyAny>) -> Option<(Py<PyString>, Py<PyString>)> {
    let py = original.py();
    let encoding = original.getattr(intern!(py, "encoding")).ok()?;
    let encoding = encoding.cast_into::<PyString>().ok()?;
    let canonical = py
        .import("codecs")
        .and_then(|codecs| codecs.call_method1("lookup", (&encoding,)))
        .and_then(|info| info.getattr("name"))
        .and_then(|name| name.extract::<String>())
        .ok()?;
    if canonical == "utf-8" {
        return None;
    }
    let errors = original
        .getattr(intern!(py, "errors"))
        .ok()
        .and_then(|errors| errors.cast_into::<PyString>().ok())
        .unwrap_or_else(|| PyString::new(py, "strict"));
    Some((encoding.unbind(), errors.unbind()))
}
