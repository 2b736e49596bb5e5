//! The text of `str` objects as Rust strings, cut to a byte limit on a
//! character boundary, without running user code (a `str` subclass's
//! `__str__` or `encode` is never called).

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use super::capi::owned;

/// The text of `s`, at most `max` bytes; lone surrogates become `\udXXX` escapes.
pub fn str_text(s: &Bound<'_, PyString>, max: usize) -> String {
    match s.to_str() {
        Ok(text) => text[..char_floor(text, max)].to_owned(),
        Err(_) => cut_text(escaped_text(s), max),
    }
}

/// `s` as UTF-8 with `\udXXX` escapes for lone surrogates (empty if even that fails).
fn escaped_text(s: &Bound<'_, PyString>) -> String {
    let py = s.py();
    // SAFETY: `s` is a live str and both names are NUL-terminated literals; the
    // call returns a new reference or NULL.
    let encoded = unsafe {
        owned(
            py,
            ffi::PyUnicode_AsEncodedString(
                s.as_ptr(),
                c"utf-8".as_ptr(),
                c"backslashreplace".as_ptr(),
            ),
        )
    };
    match encoded.as_ref().map(|bytes| bytes.cast::<PyBytes>()) {
        Some(Ok(bytes)) => String::from_utf8_lossy(bytes.as_bytes()).into_owned(),
        _ => String::new(),
    }
}

/// Cuts `text` to at most `max` bytes on a character boundary.
pub fn cut_text(mut text: String, max: usize) -> String {
    text.truncate(char_floor(&text, max));
    text
}

/// The largest character boundary of `text` at or below `max`.
fn char_floor(text: &str, max: usize) -> usize {
    if max >= text.len() {
        return text.len();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::cut_text;

    #[test]
    fn text_is_cut_on_char_boundaries() {
        assert_eq!(cut_text("héllo".to_string(), 2), "h");
        assert_eq!(cut_text("héllo".to_string(), 3), "hé");
        assert_eq!(cut_text("abc".to_string(), 10), "abc");
        assert_eq!(cut_text("€".to_string(), 2), "");
        assert_eq!(cut_text("€".to_string(), 0), "");
    }
}
