//! Values without items: `bool`, `int`, `float`, `str`, `bytes` and
//! `bytearray` (and their subclasses), always recorded exactly (strings up to
//! [`super::Limits::max_string_bytes`]).

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyString};
use recorder_errors::RecorderResult;
use runtime_tracing::{TypeId, ValueRecord};

use super::capi::{clear_error, owned};
use super::text::{cut_text, str_text};
use super::ValueEncoder;
use crate::writer::TypeInterner;

impl ValueEncoder {
    /// `Int`, or `BigInt` (sign and big-endian magnitude) beyond i64.
    pub(super) fn int(
        &mut self,
        value: &Bound<'_, PyAny>,
        type_id: TypeId,
        interner: &mut impl TypeInterner,
    ) -> RecorderResult<ValueRecord> {
        let mut overflow = 0;
        // SAFETY: `value` is a live int (the type table matched `int`, whose
        // subclasses never reach `__index__` here).
        let i = unsafe { ffi::PyLong_AsLongLongAndOverflow(value.as_ptr(), &mut overflow) };
        if overflow == 0 {
            // SAFETY: reading the error indicator with the GIL held.
            if i == -1 && !unsafe { ffi::PyErr_Occurred() }.is_null() {
                clear_error(value.py());
                return self.error("int value could not be read".to_string(), interner);
            }
            return Ok(ValueRecord::Int { i, type_id });
        }
        match big_int(value) {
            Some((negative, b)) => Ok(ValueRecord::BigInt {
                b,
                negative,
                type_id,
            }),
            None => self.error("int value could not be read".to_string(), interner),
        }
    }

    /// The exact text of a `str`, cut at the string limit.
    pub(super) fn string(&self, value: &Bound<'_, PyString>, type_id: TypeId) -> ValueRecord {
        ValueRecord::String {
            text: str_text(value, self.limits.max_string_bytes),
            type_id,
        }
    }

    /// `Raw` with the literal written by the base type's own `repr` (`b'..'`,
    /// `bytearray(b'..')`), whatever a subclass overrides.
    pub(super) fn bytes(
        &mut self,
        value: &Bound<'_, PyAny>,
        base: *mut ffi::PyTypeObject,
        type_id: TypeId,
        interner: &mut impl TypeInterner,
    ) -> RecorderResult<ValueRecord> {
        // SAFETY: `base` is `PyBytes_Type` or `PyByteArray_Type`, static built-in
        // types; reading a slot has no effect.
        let Some(repr) = (unsafe { (*base).tp_repr }) else {
            return self.error("no repr".to_string(), interner);
        };
        // SAFETY: `value` is a live instance of `base` or of a subclass (the
        // type table matched it), which is all the base's `repr` reads; it
        // returns a new reference or NULL.
        let text = unsafe { owned(value.py(), repr(value.as_ptr())) };
        let Some(text) = text.as_ref().and_then(|text| text.cast::<PyString>().ok()) else {
            return self.error("repr failed".to_string(), interner);
        };
        let r = cut_text(
            str_text(text, self.limits.max_string_bytes),
            self.limits.max_string_bytes,
        );
        Ok(ValueRecord::Raw { r, type_id })
    }
}

/// `Float`; `Raw` `nan`, `inf` or `-inf` for the values JSON cannot hold.
pub(super) fn float(value: &Bound<'_, PyFloat>, type_id: TypeId) -> ValueRecord {
    let f = value.value();
    if f.is_finite() {
        return ValueRecord::Float { f, type_id };
    }
    let r = if f.is_nan() {
        "nan"
    } else if f > 0.0 {
        "inf"
    } else {
        "-inf"
    };
    ValueRecord::Raw {
        r: r.to_string(),
        type_id,
    }
}

/// Sign and big-endian magnitude of a Python int, via its hexadecimal form.
fn big_int(value: &Bound<'_, PyAny>) -> Option<(bool, Vec<u8>)> {
    // SAFETY: `value` is a live int; the call returns a new reference or NULL.
    let hex = unsafe { owned(value.py(), ffi::PyNumber_ToBase(value.as_ptr(), 16)) }?;
    let hex = hex.cast::<PyString>().ok()?.to_str().ok()?;
    let (negative, digits) = match hex.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, hex),
    };
    let digits = digits.strip_prefix("0x")?;
    Some((negative, hex_to_bytes(digits)?))
}

/// `"1ff"` -> `[0x01, 0xff]`.
fn hex_to_bytes(digits: &str) -> Option<Vec<u8>> {
    let digits = digits.as_bytes();
    let mut out = Vec::with_capacity(digits.len() / 2 + 1);
    let odd = digits.len() % 2;
    if odd == 1 {
        out.push(hex_digit(digits[0])?);
    }
    for pair in digits[odd..].chunks(2) {
        out.push(hex_digit(pair[0])? << 4 | hex_digit(pair[1])?);
    }
    Some(out)
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::hex_to_bytes;

    #[test]
    fn hex_digits_become_big_endian_bytes() {
        assert_eq!(hex_to_bytes("1ff"), Some(vec![0x01, 0xff]));
        assert_eq!(
            hex_to_bytes("10000000000000000"),
            Some(vec![1, 0, 0, 0, 0, 0, 0, 0, 0])
        );
        assert_eq!(hex_to_bytes("zz"), None);
    }
}
