//! The stream proxies: Python objects put in `sys.stdout`, `sys.stderr` and
//! `sys.stdin` (and handed out as their `.buffer`) that forward every call
//! to the original object at once, return its result or raise its exception
//! unchanged, and then record what went through.
//!
//! They are Rust classes, so a traceback through them shows no recorder
//! frame, and a write costs one extra native call. Only the calls that move
//! data are theirs (`write`, `writelines`, `flush`, `read*`, iteration,
//! `buffer`); every other attribute (`encoding`, `errors`, `fileno`, `mode`,
//! `closed`, `reconfigure`, `line_buffering`, ...) is the original's, read or
//! set through `__getattr__`/`__setattr__`, and `__class__` is the
//! original's class so `isinstance` checks see the stream they expect.
//! `isatty()` is the original's too, except that a descriptor the mirror
//! took over answers as it did before.
//!
//! The recording side never raises into the program and never lets a panic
//! out: a failure (or the `recorder::io` fail point) is handed to the
//! [`Hub`], which the tracer surfaces through the recorder's failure path.

use std::borrow::Cow;
use std::os::fd::RawFd;
use std::sync::{Arc, Mutex, MutexGuard};

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyList, PyString, PyTuple, PyType};
use recorder_errors::prelude::*;

use super::bytes::{object_bytes, str_bytes};
use super::hub::{Hub, Origin, Stream};
use super::ledger::Lane;
use super::mirror::Mirror;
use super::thread::current_thread_id;
use crate::panics;

/// Where a proxy forwards to and records into.
#[derive(Debug, Clone)]
pub struct Tap(Arc<TapInner>);

#[derive(Debug)]
struct TapInner {
    original: Py<PyAny>,
    stream: Stream,
    hub: Arc<Hub>,
    /// The mirror and the descriptor the original writes to, when that descriptor is mirrored.
    ledger: Option<(Arc<Mirror>, RawFd)>,
    /// How the original's bytes reach the descriptor (text layer or binary buffer).
    lane: Lane,
    /// A text stream's encoding and errors when they are not UTF-8, for the ledger's bytes.
    codec: Option<(Py<PyString>, Py<PyString>)>,
    /// `isatty()` as the original answered before the mirror took its descriptor over.
    isatty: Option<bool>,
}

/// What a [`Tap`] is built from.
#[derive(Debug)]
pub struct TapSpec {
    /// The object the proxy stands for.
    pub original: Py<PyAny>,
    /// Which stream it is.
    pub stream: Stream,
    /// The mirror and descriptor, when the original writes to a mirrored descriptor.
    pub ledger: Option<(Arc<Mirror>, RawFd)>,
    /// The encoding and errors of a text stream that does not write UTF-8.
    pub codec: Option<(Py<PyString>, Py<PyString>)>,
    /// The original's `isatty()` before the mirror took its descriptor over.
    pub isatty: Option<bool>,
}

impl Tap {
    /// A tap recording into `hub`.
    pub fn new(hub: &Arc<Hub>, spec: TapSpec) -> Tap {
        Tap(Arc::new(TapInner {
            original: spec.original,
            stream: spec.stream,
            hub: Arc::clone(hub),
            ledger: spec.ledger,
            lane: Lane::Text,
            codec: spec.codec,
            isatty: spec.isatty,
        }))
    }

    /// The same tap over another original (a text stream's `buffer`), with bytes as they are.
    fn over(&self, original: Py<PyAny>) -> Tap {
        let inner = &self.0;
        Tap(Arc::new(TapInner {
            original,
            stream: inner.stream,
            hub: Arc::clone(&inner.hub),
            ledger: inner
                .ledger
                .as_ref()
                .map(|(mirror, fd)| (Arc::clone(mirror), *fd)),
            lane: Lane::Bytes,
            codec: None,
            isatty: inner.isatty,
        }))
    }

    fn original<'py>(&self, py: Python<'py>) -> &Bound<'py, PyAny> {
        self.0.original.bind(py)
    }

    /// Calls `name(*args, **kwargs)` on the original.
    fn forward<'py>(
        &self,
        py: Python<'py>,
        name: &Bound<'py, PyString>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.original(py).call_method(name, args, kwargs)
    }

    /// Runs the recording side: a failure or panic goes to the hub, never to the program.
    fn guard(&self, body: impl FnOnce() -> RecorderResult<()>) {
        if let Err(error) = panics::catch("io", body) {
            self.0.hub.fail(error);
        }
    }

    /// Records `bytes` (computed only when recording) for the calling thread.
    fn record<'a>(&self, bytes: impl FnOnce() -> Option<Cow<'a, [u8]>>) {
        let inner = &self.0;
        if !inner.hub.is_recording() {
            return;
        }
        self.guard(|| {
            io_failpoint()?;
            if let Some(bytes) = bytes() {
                inner.hub.record(
                    inner.stream,
                    Origin::Proxy,
                    Some(current_thread_id()),
                    &bytes,
                );
            }
            Ok(())
        });
    }

    /// Tells the mirror's ledger the bytes `object` is about to become on the descriptor.
    fn announce(&self, object: &Bound<'_, PyAny>) {
        let Some((mirror, fd)) = &self.0.ledger else {
            return;
        };
        self.guard(|| {
            let bytes = match (&self.0.codec, object.cast::<PyString>()) {
                (Some((encoding, errors)), Ok(text)) => text
                    .call_method1(intern!(object.py(), "encode"), (encoding, errors))
                    .ok()
                    .and_then(|encoded| object_bytes(&encoded)),
                _ => object_bytes(object),
            };
            if let Some(bytes) = bytes {
                mirror.announce(*fd, self.0.lane, &bytes);
            }
            Ok(())
        });
    }

    /// The thread flushed the stream: its batch ends here.
    fn flushed(&self) {
        let inner = &self.0;
        self.guard(|| {
            inner.hub.flushed(inner.stream, current_thread_id());
            Ok(())
        });
    }

    /// Records what a read returned: a `str`, bytes, or a list of either (`readlines`).
    fn record_read(&self, result: &Bound<'_, PyAny>) {
        self.record(|| {
            if let Ok(lines) = result.cast::<PyList>() {
                let mut joined = Vec::new();
                for line in lines.iter() {
                    joined.extend(object_bytes(&line).unwrap_or_default());
                }
                return Some(Cow::Owned(joined));
            }
            object_bytes(result).map(Cow::Owned)
        });
    }

    /// Records the first `count` bytes of `buffer` (what `write` or
    /// `readinto` reported); all of them when `count` is not an int, none
    /// when it is `None` (a non-blocking stream that would block).
    fn record_counted(&self, buffer: &Bound<'_, PyAny>, count: &Bound<'_, PyAny>) {
        if count.is_none() {
            return;
        }
        self.record(|| {
            let mut bytes = object_bytes(buffer)?;
            if let Ok(count) = count.extract::<usize>() {
                bytes.truncate(count);
            }
            Some(Cow::Owned(bytes))
        });
    }
}

/// `recorder::io`: inside the proxies' recording of a call, after it was forwarded.
fn io_failpoint() -> RecorderResult<()> {
    faultfs::note_failpoint(recorder_errors::failpoints::IO);
    fail::fail_point!("recorder::io", |arg: Option<String>| {
        Err(bug!(
            ErrorCode::Unknown,
            "fail point recorder::io returned {}",
            arg.unwrap_or_default()
        ))
    });
    Ok(())
}

/// Hands out one binary proxy per original `buffer` object.
#[derive(Debug, Default)]
struct BufferCache(Mutex<Option<(Py<PyAny>, Py<PyAny>)>>);

impl BufferCache {
    fn lock(&self) -> MutexGuard<'_, Option<(Py<PyAny>, Py<PyAny>)>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The proxy over the original's `buffer` (a new one when the buffer
    /// changed); the raw buffer itself if no proxy can be made.
    fn get(
        &self,
        py: Python<'_>,
        tap: &Tap,
        make: impl FnOnce(Tap) -> PyResult<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let raw = tap.original(py).getattr(intern!(py, "buffer"))?;
        if let Some((original, proxy)) = self.lock().as_ref() {
            if original.bind(py).is(&raw) {
                return Ok(proxy.clone_ref(py));
            }
        }
        match make(tap.over(raw.clone().unbind())) {
            Ok(proxy) => {
                *self.lock() = Some((raw.unbind(), proxy.clone_ref(py)));
                Ok(proxy)
            }
            Err(_) => Ok(raw.unbind()),
        }
    }
}

/// Items of a `writelines` call on their way to the original: each is
/// told to the ledger as it is handed over, and recorded once the original
/// asked for the next one (by then it wrote it) or returned.
#[pyclass(module = "codetracer_python_recorder._native", frozen)]
struct WritelinesFeed {
    tap: Tap,
    state: Mutex<FeedState>,
}

#[derive(Debug)]
struct FeedState {
    /// The iterable as given, then its iterator.
    source: Option<Py<PyAny>>,
    iterating: bool,
    /// The last item handed over, written unless the original fails.
    pending: Option<Py<PyAny>>,
}

impl WritelinesFeed {
    fn new(tap: &Tap, lines: &Bound<'_, PyAny>) -> WritelinesFeed {
        WritelinesFeed {
            tap: tap.clone(),
            state: Mutex::new(FeedState {
                source: Some(lines.clone().unbind()),
                iterating: false,
                pending: None,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, FeedState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records the item handed over last (the original wrote it).
    fn commit(&self, py: Python<'_>) {
        let pending = self.lock().pending.take();
        if let Some(item) = pending {
            self.tap
                .record(|| object_bytes(item.bind(py)).map(Cow::Owned));
        }
    }

    /// Forgets the item handed over last (the original failed on it).
    fn discard(&self) {
        self.lock().pending = None;
    }
}

#[pymethods]
impl WritelinesFeed {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.commit(py);
        // No lock is held while Python runs (the iterable may be a generator).
        let (source, iterating) = {
            let mut state = self.lock();
            (state.source.take(), state.iterating)
        };
        let Some(source) = source else {
            return Ok(None);
        };
        let iterator = if iterating {
            source.into_bound(py)
        } else {
            source.bind(py).try_iter()?.into_any()
        };
        let next = iterator.call_method0(intern!(py, "__next__"));
        {
            let mut state = self.lock();
            state.source = Some(iterator.unbind());
            state.iterating = true;
        }
        match next {
            Ok(item) => {
                self.tap.announce(&item);
                self.lock().pending = Some(item.clone().unbind());
                Ok(Some(item.unbind()))
            }
            Err(error) if error.is_instance_of::<pyo3::exceptions::PyStopIteration>(py) => Ok(None),
            Err(error) => Err(error),
        }
    }
}

/// `writelines(lines)` through `tap`: the original gets a [`WritelinesFeed`].
fn writelines(py: Python<'_>, tap: &Tap, lines: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    let feed = match Py::new(py, WritelinesFeed::new(tap, lines)) {
        Ok(feed) => feed,
        // Without a feed the call is only forwarded.
        Err(_) => {
            return tap
                .original(py)
                .call_method1(intern!(py, "writelines"), (lines,))
                .map(Bound::unbind)
        }
    };
    let result = tap
        .original(py)
        .call_method1(intern!(py, "writelines"), (feed.bind(py),));
    match &result {
        Ok(_) => feed.get().commit(py),
        Err(_) => feed.get().discard(),
    }
    result.map(Bound::unbind)
}

/// The iterator a reading proxy hands out: itself when the original's
/// `iter()` gives the original (so each line is recorded), else the original's.
fn reader_iter(slf: &Bound<'_, PyAny>, tap: &Tap) -> PyResult<Py<PyAny>> {
    let py = slf.py();
    let original = tap.original(py);
    let iterator = original.call_method0(intern!(py, "__iter__"))?;
    if iterator.is(original) {
        Ok(slf.clone().unbind())
    } else {
        Ok(iterator.unbind())
    }
}

/// Defines a proxy class: the methods given, reading methods that forward
/// `(*args, **kwargs)` and record what they return (`reads`), `readinto`
/// methods that record what they filled (`fills`), and what every proxy has
/// (`flush`, `isatty`, attribute forwarding, `__class__`, `__repr__`, the
/// context manager).
macro_rules! proxy_class {
    (
        $(#[$doc:meta])*
        $name:ident, $pyname:literal,
        fields { $($field:ident : $ty:ty),* },
        reads [$($read:ident),*],
        fills [$($fill:ident),*],
        { $($methods:tt)* }
    ) => {
        $(#[$doc])*
        #[pyclass(module = "codetracer_python_recorder._native", name = $pyname, frozen)]
        pub struct $name {
            tap: Tap,
            $($field: $ty,)*
        }

        #[pymethods]
        impl $name {
            $($methods)*

            $(
                #[pyo3(signature = (*args, **kwargs))]
                fn $read(
                    &self,
                    py: Python<'_>,
                    args: &Bound<'_, PyTuple>,
                    kwargs: Option<&Bound<'_, PyDict>>,
                ) -> PyResult<Py<PyAny>> {
                    let result = self.tap.forward(py, intern!(py, stringify!($read)), args, kwargs)?;
                    self.tap.record_read(&result);
                    Ok(result.unbind())
                }
            )*

            $(
                #[pyo3(signature = (buffer, *args, **kwargs))]
                fn $fill(
                    &self,
                    py: Python<'_>,
                    buffer: &Bound<'_, PyAny>,
                    args: &Bound<'_, PyTuple>,
                    kwargs: Option<&Bound<'_, PyDict>>,
                ) -> PyResult<Py<PyAny>> {
                    let mut all = vec![buffer.clone()];
                    all.extend(args.iter());
                    let all = PyTuple::new(py, all)?;
                    let count = self.tap.forward(py, intern!(py, stringify!($fill)), &all, kwargs)?;
                    self.tap.record_counted(buffer, &count);
                    Ok(count.unbind())
                }
            )*

            fn flush(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
                let result = self.tap.original(py).call_method0(intern!(py, "flush"))?;
                self.tap.flushed();
                Ok(result.unbind())
            }

            fn isatty(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
                match self.tap.0.isatty {
                    Some(answer) => Ok(PyBool::new(py, answer).to_owned().into_any().unbind()),
                    None => self
                        .tap
                        .original(py)
                        .call_method0(intern!(py, "isatty"))
                        .map(Bound::unbind),
                }
            }

            fn __getattr__(&self, py: Python<'_>, name: &Bound<'_, PyString>) -> PyResult<Py<PyAny>> {
                self.tap.original(py).getattr(name).map(Bound::unbind)
            }

            fn __setattr__(
                &self,
                py: Python<'_>,
                name: &Bound<'_, PyString>,
                value: &Bound<'_, PyAny>,
            ) -> PyResult<()> {
                self.tap.original(py).setattr(name, value)
            }

            fn __delattr__(&self, py: Python<'_>, name: &Bound<'_, PyString>) -> PyResult<()> {
                self.tap.original(py).delattr(name)
            }

            /// The original's class, so `isinstance` checks see the stream they expect.
            #[getter(__class__)]
            fn original_class<'py>(&self, py: Python<'py>) -> Bound<'py, PyType> {
                self.tap.original(py).get_type()
            }

            fn __repr__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyString>> {
                self.tap.original(py).repr()
            }

            fn __enter__(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
                let py = slf.py();
                let original = slf.get().tap.original(py);
                let entered = original.call_method0(intern!(py, "__enter__"))?;
                if entered.is(original) {
                    Ok(slf.clone().into_any().unbind())
                } else {
                    Ok(entered.unbind())
                }
            }

            #[pyo3(signature = (*args))]
            fn __exit__(&self, py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
                self.tap
                    .original(py)
                    .call_method1(intern!(py, "__exit__"), args)
                    .map(Bound::unbind)
            }
        }

        impl $name {
            /// A proxy of `tap`'s original.
            pub fn new(tap: Tap) -> $name {
                $name { tap, $($field: Default::default(),)* }
            }
        }
    };
}

proxy_class!(
    /// Over `sys.stdout` / `sys.stderr`: records the text written.
    TextWriter, "TextWriterProxy",
    fields { buffer_proxy: BufferCache },
    reads [],
    fills [],
    {
        fn write(&self, py: Python<'_>, text: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
            let text_str = text.cast::<PyString>().ok();
            if text_str.is_some() {
                self.tap.announce(text);
            }
            let written = self.tap.original(py).call_method1(intern!(py, "write"), (text,))?;
            if let Some(text) = text_str {
                self.tap.record(|| Some(str_bytes(text)));
            }
            Ok(written.unbind())
        }

        fn writelines(&self, py: Python<'_>, lines: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
            writelines(py, &self.tap, lines)
        }

        #[getter]
        fn buffer(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
            self.buffer_proxy.get(py, &self.tap, |tap| {
                Py::new(py, BinaryWriter::new(tap)).map(Py::into_any)
            })
        }

        fn __iter__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
            self.tap.original(py).call_method0(intern!(py, "__iter__")).map(Bound::unbind)
        }
    }
);

proxy_class!(
    /// Over `sys.stdout.buffer` / `sys.stderr.buffer`: records the bytes written.
    BinaryWriter, "BinaryWriterProxy",
    fields {},
    reads [],
    fills [],
    {
        fn write(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
            self.tap.announce(data);
            let count = self.tap.original(py).call_method1(intern!(py, "write"), (data,))?;
            self.tap.record_counted(data, &count);
            Ok(count.unbind())
        }

        fn writelines(&self, py: Python<'_>, lines: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
            writelines(py, &self.tap, lines)
        }

        fn __iter__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
            self.tap.original(py).call_method0(intern!(py, "__iter__")).map(Bound::unbind)
        }
    }
);

proxy_class!(
    /// Over `sys.stdin`: records the text read (`input()` reads through `readline`).
    TextReader, "TextReaderProxy",
    fields { buffer_proxy: BufferCache },
    reads [read, readline, readlines],
    fills [],
    {
        #[getter]
        fn buffer(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
            self.buffer_proxy.get(py, &self.tap, |tap| {
                Py::new(py, BinaryReader::new(tap)).map(Py::into_any)
            })
        }

        fn __iter__(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
            reader_iter(slf.as_any(), &slf.get().tap)
        }

        fn __next__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
            let line = self.tap.original(py).call_method0(intern!(py, "__next__"))?;
            self.tap.record_read(&line);
            Ok(line.unbind())
        }
    }
);

proxy_class!(
    /// Over `sys.stdin.buffer`: records the bytes read.
    BinaryReader, "BinaryReaderProxy",
    fields {},
    reads [read, read1, readline, readlines],
    fills [readinto, readinto1],
    {
        fn __iter__(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
            reader_iter(slf.as_any(), &slf.get().tap)
        }

        fn __next__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
            let line = self.tap.original(py).call_method0(intern!(py, "__next__"))?;
            self.tap.record_read(&line);
            Ok(line.unbind())
        }
    }
);
