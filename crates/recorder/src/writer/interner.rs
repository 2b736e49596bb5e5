//! Type interning: the one service value encoding asks of the writer. Each
//! distinct type gets one `TypeId` and one `Type` event, written the first
//! time the type is interned.

use recorder_errors::RecorderResult;
use runtime_tracing::{TraceLowLevelEvent, TypeId, TypeRecord};

use super::TraceWriter;

/// Gives types their ids. The writer implements it by writing a `Type` event
/// for every new type; value encoding knows nothing else of the writer, so it
/// can be exercised against any implementation.
pub trait TypeInterner {
    /// The id of the type interned under `key`. The first time `key` is seen,
    /// `describe` builds its record (a `Type` event, when writing a trace);
    /// ids count up from 0 in that order.
    fn intern_type(
        &mut self,
        key: &str,
        describe: impl FnOnce() -> TypeRecord,
    ) -> RecorderResult<TypeId>;
}

impl TypeInterner for TraceWriter {
    fn intern_type(
        &mut self,
        key: &str,
        describe: impl FnOnce() -> TypeRecord,
    ) -> RecorderResult<TypeId> {
        if let Some(id) = self.types.get(key) {
            return Ok(*id);
        }
        let id = TypeId(self.types.len());
        self.emit(&TraceLowLevelEvent::Type(describe()))?;
        self.types.insert(key.to_string(), id);
        Ok(id)
    }
}
