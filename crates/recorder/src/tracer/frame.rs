//! The local variables of the frame a callback fires in, read slot by slot
//! through the C API, without building a locals dict (on 3.12
//! `PyFrame_GetLocals` copies every fast local into the frame's dict at each
//! call; on 3.13 `PyEval_GetFrameLocals` builds a fresh dict).
//!
//! A plain fast local (a name of `co_varnames` that is no cell) is read
//! straight from the frame's `localsplus` array: CPython 3.12 and 3.13 lay
//! out the start of `_PyInterpreterFrame` identically, and each frame is
//! checked before its array is used (its code and frame-object fields must
//! be the callback's code object and the executing frame object). Cells,
//! free variables, frames that fail the check and every other interpreter
//! version go through the public `PyFrame_GetVar` (3.12+), which reads the
//! same slot and raises `NameError` for an unbound one.

use std::ffi::c_void;
use std::marker::PhantomData;

use pyo3::ffi;
use pyo3::prelude::*;
use recorder_errors::prelude::*;

/// The start of `PyFrameObject` on 3.12 and 3.13 (`Include/internal/pycore_frame.h`).
#[cfg(all(Py_3_12, not(Py_3_14), not(Py_GIL_DISABLED)))]
#[repr(C)]
#[allow(dead_code)] // mirrors the C layout: only some fields are read
struct FrameObjectHead {
    ob_refcnt: isize,
    ob_type: *mut c_void,
    f_back: *mut c_void,
    f_frame: *mut InterpreterFrameHead,
}

/// The start of `_PyInterpreterFrame` on 3.12 and 3.13, up to `localsplus`.
#[cfg(all(Py_3_12, not(Py_3_14), not(Py_GIL_DISABLED)))]
#[repr(C)]
#[allow(dead_code)] // mirrors the C layout: only some fields are read
struct InterpreterFrameHead {
    /// `f_code` (3.12) / `f_executable` (3.13).
    code: *mut ffi::PyObject,
    previous: *mut c_void,
    f_funcobj: *mut ffi::PyObject,
    f_globals: *mut ffi::PyObject,
    f_builtins: *mut ffi::PyObject,
    f_locals: *mut ffi::PyObject,
    frame_obj: *mut ffi::PyFrameObject,
    /// `prev_instr` (3.12) / `instr_ptr` (3.13).
    instr: *mut c_void,
    stacktop: std::ffi::c_int,
    return_offset: u16,
    owner: std::ffi::c_char,
    localsplus: [*mut ffi::PyObject; 0],
}

/// The executing frame of a callback, for reading its local variables.
pub struct FrameLocals<'py> {
    frame: *mut ffi::PyFrameObject,
    /// The frame's `localsplus` array, when its layout checked out.
    fast: *const *mut ffi::PyObject,
    py: PhantomData<Python<'py>>,
}

impl<'py> FrameLocals<'py> {
    /// The frame executing `code` (the callback's code object).
    pub fn current(code: &Bound<'py, PyAny>) -> RecorderResult<FrameLocals<'py>> {
        // SAFETY: the GIL is held (`code` is bound); the result is a borrowed
        // frame or NULL.
        let frame = unsafe { ffi::PyEval_GetFrame() };
        if frame.is_null() {
            return Err(target!(
                ErrorCode::FrameIntrospectionFailed,
                "no Python frame is executing"
            ));
        }
        Ok(FrameLocals {
            frame,
            fast: fast_locals(frame, code.as_ptr()),
            py: PhantomData,
        })
    }

    /// Whether plain fast locals are read straight from the frame.
    #[cfg(test)]
    pub fn reads_directly(&self) -> bool {
        !self.fast.is_null()
    }

    /// The value of the local `name`, `None` when it is unbound. `fast` is
    /// its index in `co_varnames` when it is a plain fast local (no cell).
    pub fn get(
        &self,
        py: Python<'py>,
        fast: Option<usize>,
        name: &Bound<'py, PyAny>,
    ) -> RecorderResult<Option<Bound<'py, PyAny>>> {
        if let (Some(index), false) = (fast, self.fast.is_null()) {
            // The slot holds a borrowed reference or NULL (unbound), turned
            // into an owned one below.
            // SAFETY: `self.fast` is the executing frame's localsplus array
            // (checked in `fast_locals`); `index` < the code's `co_nlocals`.
            let value = unsafe { *self.fast.add(index) };
            // SAFETY: a non-NULL slot is a live object owned by the frame.
            return Ok(unsafe { Bound::from_borrowed_ptr_or_opt(py, value) });
        }
        // SAFETY: `self.frame` is the executing frame (borrowed from the
        // thread state, alive for the whole callback); the call returns a new
        // reference or NULL with an exception set.
        let value = unsafe { ffi::PyFrame_GetVar(self.frame, name.as_ptr()) };
        if !value.is_null() {
            // SAFETY: `value` is a new reference.
            return Ok(Some(unsafe { Bound::from_owned_ptr(py, value) }));
        }
        let err = PyErr::take(py);
        match err {
            Some(err) if err.is_instance_of::<pyo3::exceptions::PyNameError>(py) => Ok(None),
            other => {
                let cause = other.map_or_else(|| "unknown error".to_string(), |e| e.to_string());
                Err(target!(
                    ErrorCode::FrameIntrospectionFailed,
                    "cannot read a local of the frame: {cause}"
                ))
            }
        }
    }
}

/// The `localsplus` array of `frame` when its layout is the known one and it
/// executes `code`; NULL otherwise (every slot is then read by name).
#[cfg(all(Py_3_12, not(Py_3_14), not(Py_GIL_DISABLED)))]
fn fast_locals(
    frame: *mut ffi::PyFrameObject,
    code: *mut ffi::PyObject,
) -> *const *mut ffi::PyObject {
    // SAFETY: `frame` is the live executing frame object, whose first fields
    // are `FrameObjectHead` on this interpreter version.
    let inner = unsafe { (*frame.cast::<FrameObjectHead>()).f_frame };
    if inner.is_null() {
        return std::ptr::null();
    }
    // SAFETY: `f_frame` of a live frame object points to its interpreter
    // frame; only fields of the common 3.12/3.13 prefix are read.
    let (frame_code, frame_obj, localsplus) = unsafe {
        (
            (*inner).code,
            (*inner).frame_obj,
            std::ptr::addr_of!((*inner).localsplus).cast::<*mut ffi::PyObject>(),
        )
    };
    if frame_code == code && frame_obj == frame {
        localsplus
    } else {
        std::ptr::null()
    }
}

/// Other interpreter versions: every slot is read with `PyFrame_GetVar`.
#[cfg(not(all(Py_3_12, not(Py_3_14), not(Py_GIL_DISABLED))))]
fn fast_locals(
    _frame: *mut ffi::PyFrameObject,
    _code: *mut ffi::PyObject,
) -> *const *mut ffi::PyObject {
    std::ptr::null()
}

#[cfg(test)]
mod tests {
    use pyo3::types::{PyCFunction, PyDict, PyTuple};

    use super::*;

    /// Reads every name of `code` (`co_varnames`, `co_cellvars`,
    /// `co_freevars`) of the calling Python frame the way the tracer does.
    fn read_all<'py>(code: &Bound<'py, PyAny>) -> PyResult<(bool, Bound<'py, PyDict>)> {
        let py = code.py();
        let frame = FrameLocals::current(code)
            .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
        let found = PyDict::new(py);
        let varnames = code.getattr("co_varnames")?;
        let cellvars = code.getattr("co_cellvars")?;
        for (index, name) in varnames.cast::<PyTuple>()?.iter().enumerate() {
            let fast = (!cellvars.contains(&name)?).then_some(index);
            if let Some(value) = frame
                .get(py, fast, &name)
                .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?
            {
                found.set_item(&name, value)?;
            }
        }
        for names in [cellvars, code.getattr("co_freevars")?] {
            for name in names.try_iter()? {
                let name = name?;
                if let Some(value) = frame
                    .get(py, None, &name)
                    .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?
                {
                    found.set_item(&name, value)?;
                }
            }
        }
        Ok((frame.reads_directly(), found))
    }

    #[test]
    fn slots_read_like_locals_with_cells_free_and_unbound_names() {
        Python::attach(|py| {
            let probe = PyCFunction::new_closure(py, None, None, |args, _| {
                let code = args.get_item(0)?;
                read_all(&code).map(|(direct, found)| (direct, found.unbind()))
            })
            .unwrap_or_else(|e| panic!("{e}"));
            let scope = PyDict::new(py);
            scope
                .set_item("probe", probe)
                .unwrap_or_else(|e| panic!("{e}"));
            py.run(
                c"
def outer(a, b=2, *rest, key, **extra):
    shared = [a]
    gone = 1
    del gone
    def inner(x):
        y = x + 1
        seen = probe(inner.__code__)
        unset = 0
        return seen, {k: v for k, v in locals().items() if k not in ('seen', 'unset')}, shared
    cell_arg = a
    later = None
    seen = probe(outer.__code__)
    expected = {k: v for k, v in locals().items() if k != 'seen'}
    return seen, expected, inner(5)

outer_seen, outer_expected, (inner_seen, inner_expected, _) = outer(1, 3, 4, key='k', z=9)
",
                Some(&scope),
                Some(&scope),
            )
            .unwrap_or_else(|e| panic!("{e}"));
            for (seen, expected) in [
                ("outer_seen", "outer_expected"),
                ("inner_seen", "inner_expected"),
            ] {
                let seen = scope
                    .get_item(seen)
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| panic!("{seen}"));
                let (direct, found): (bool, Bound<'_, PyDict>) =
                    seen.extract().unwrap_or_else(|e| panic!("{e}"));
                let expected = scope
                    .get_item(expected)
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| panic!("{expected}"));
                assert!(
                    found.as_any().eq(&expected).unwrap_or(false),
                    "{found} != {expected}"
                );
                assert!(
                    direct,
                    "3.12 and 3.13 read fast locals straight from the frame"
                );
            }
        });
    }
}
