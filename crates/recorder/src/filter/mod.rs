//! Trace filters: which code is recorded and what happens to each captured
//! value, configured by 0.3-compatible TOML files (format and differences
//! from 0.3: `docs/trace-filters.md`).
//!
//! Pure Rust over plain data; the tracer supplies what it reads from the
//! interpreter:
//! 1. at start, [`loader::load_chain`] reads the builtin default, the
//!    project filter, `CODETRACER_TRACE_FILTER` and the explicit filters into
//!    a [`model::FilterChain`]; [`engine::FilterEngine::new`] pairs it with
//!    the interpreter's directories ([`location::InterpreterPaths`]);
//! 2. once per code object, [`engine::FilterEngine::resolve_scope`] turns a
//!    [`scope::ScopeContext`] into a [`engine::ScopeResolution`]: skip, or
//!    trace with a [`value_policy::ValuePolicy`]; the tracer keeps it with the
//!    code object in a bounded [`cache::ScopeCache`];
//! 3. per value, [`value_policy::ValuePolicy::action_for`] says allow,
//!    redact or drop; the tracer counts skips and actions in a
//!    [`summary::FilterStats`];
//! 4. at stop, [`summary::FilterSummary`] is the `trace_filter` metadata.
//!
//! Modules: `model` (data), `selector` (selector strings, compiled),
//! `tokens` (name tokens for secret matching), `location` (the interpreter's
//! directories), `parse` (one file), `loader` (finding and chaining files),
//! `scope` (the names a code object is matched by), `engine` (rule walk),
//! `value_policy` (per-value decisions), `summary` (metadata), `cache`.

pub mod cache;
pub mod engine;
pub mod loader;
pub mod location;
pub mod model;
pub mod parse;
pub mod scope;
pub mod selector;
pub mod summary;
pub mod tokens;
pub mod value_policy;

#[cfg(test)]
mod tests;
