//! The top layer: the native module's Python functions. Each binding group
//! registers its `#[pyfunction]`s here and runs every body through
//! [`guard`], the one place where errors and panics become Python exceptions.

mod boundary;
mod logging;
mod policy;
mod recording;
mod recovery;

use pyo3::prelude::*;

pub use boundary::{guard, to_py_err, ERRORS_MODULE};

/// Fills the native module: the panic hook and the logger first, then the
/// logging, policy, recording and recovery functions.
pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    crate::panics::install_hook();
    crate::logging::init();
    logging::register(module)?;
    policy::register(module)?;
    recording::register(module)?;
    recovery::register(module)?;
    // The exit code of each error kind, for `errors.py` (one source: `ErrorKind`).
    let exit_codes = pyo3::types::PyDict::new(module.py());
    for kind in recorder_errors::ErrorKind::ALL {
        exit_codes.set_item(kind.as_str(), kind.exit_code())?;
    }
    module.add("EXIT_CODES", exit_codes)?;
    Ok(())
}
