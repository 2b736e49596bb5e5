//! Where the recorder's own lines for stderr go (log records, error
//! trailers, the abort message): descriptor 2, unless a higher layer has
//! taken descriptor 2 over and installed a [`Route`] (the IO capture's
//! descriptor mirror does, so these lines reach the original stderr in
//! order and are never recorded as the program's output).

use std::io::{self, Write};
use std::sync::{Arc, RwLock};

/// A way to the original stderr while descriptor 2 is someone else's.
pub trait Route: Send + Sync {
    /// Writes `bytes` to the original stderr; false when this route cannot
    /// (descriptor 2 is the original again), so they go to descriptor 2.
    fn write_all(&self, bytes: &[u8]) -> bool;
}

static ROUTE: RwLock<Option<Arc<dyn Route>>> = RwLock::new(None);

/// Installs (or, with `None`, removes) the route.
pub fn set_route(route: Option<Arc<dyn Route>>) {
    *ROUTE
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = route;
}

/// Writes one of the recorder's own lines to stderr and flushes; failures
/// are ignored (a diagnostic must never fail the program).
pub fn write_all(bytes: &[u8]) {
    let route = ROUTE
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    if route.is_some_and(|route| route.write_all(bytes)) {
        return;
    }
    let mut stderr = io::stderr().lock();
    let _ = stderr.write_all(bytes);
    let _ = stderr.flush();
}
