//! What the proxies record of the objects passing through them: the bytes of
//! a `str` or of a bytes-like object, read without running user code.
//!
//! A `str` is recorded as its UTF-8 encoding. A `str` that is not valid
//! Unicode (it holds lone surrogates, which is how Python carries bytes it
//! could not decode under `surrogateescape`) is recorded as
//! `str.encode("utf-8", "surrogateescape")`, the bytes a UTF-8 stream with
//! that error handler writes, so undecodable input comes back byte for byte;
//! a surrogate that escape cannot express falls back to `surrogatepass`.
//! Bytes that are not UTF-8 end up base64-encoded in the trace (the tracer's
//! `io` module), so nothing is lost either way.

use std::borrow::Cow;

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyString};

/// The bytes recorded for the text `text` (see the module docs).
pub fn str_bytes<'a>(text: &'a Bound<'_, PyString>) -> Cow<'a, [u8]> {
    if let Ok(utf8) = text.to_str() {
        return Cow::Borrowed(utf8.as_bytes());
    }
    for handler in ["surrogateescape", "surrogatepass"] {
        let encoded = text.call_method1(pyo3::intern!(text.py(), "encode"), ("utf-8", handler));
        if let Ok(encoded) = encoded {
            if let Ok(encoded) = encoded.cast::<PyBytes>() {
                return Cow::Owned(encoded.as_bytes().to_vec());
            }
        }
    }
    Cow::Borrowed(&[])
}

/// The bytes of a `str` or bytes-like object (`bytes`, `bytearray`,
/// `memoryview`, any object with the buffer protocol); `None` for anything
/// else. Never calls `__bytes__`, `__str__` or any other user code.
pub fn object_bytes(object: &Bound<'_, PyAny>) -> Option<Vec<u8>> {
    if let Ok(text) = object.cast::<PyString>() {
        return Some(str_bytes(text).into_owned());
    }
    if let Ok(bytes) = object.cast::<PyBytes>() {
        return Some(bytes.as_bytes().to_vec());
    }
    if let Ok(array) = object.cast::<PyByteArray>() {
        return Some(array.to_vec());
    }
    // SAFETY: `object` is a live object; PyObject_CheckBuffer only reads its type.
    if unsafe { ffi::PyObject_CheckBuffer(object.as_ptr()) } == 0 {
        return None;
    }
    // SAFETY: PyBytes_FromObject copies the object's buffer (it consults the
    // buffer protocol before anything else and never calls `__bytes__`); it
    // returns a new reference or NULL with an exception set, which we clear.
    let copied = unsafe {
        Bound::from_owned_ptr_or_opt(object.py(), ffi::PyBytes_FromObject(object.as_ptr()))
    };
    match copied {
        Some(copied) => copied
            .cast::<PyBytes>()
            .ok()
            .map(|bytes| bytes.as_bytes().to_vec()),
        None => {
            drop(PyErr::take(object.py()));
            None
        }
    }
}
