//! What the trace filter leaves of a value it does not allow: the redaction
//! marker recorded under the value's name (a variable, argument or instance
//! field), and the placeholder of a dropped return value. Both are 0.3's: an
//! `Error` record `<redacted>` of type `Redacted`, and `<dropped>` of type
//! `Dropped`; the value itself is never read.

use recorder_errors::RecorderResult;
use runtime_tracing::{TypeId, TypeKind, TypeRecord, TypeSpecificInfo, ValueRecord};

use crate::writer::TypeInterner;

/// The text of a redacted value.
pub const REDACTED: &str = "<redacted>";
/// The text of a dropped return value.
pub const DROPPED: &str = "<dropped>";

/// The markers' type ids, interned on first use.
#[derive(Debug, Default)]
pub struct Markers {
    redacted: Option<TypeId>,
    dropped: Option<TypeId>,
}

impl Markers {
    /// The record of a redacted value.
    pub fn redacted(&mut self, interner: &mut impl TypeInterner) -> RecorderResult<ValueRecord> {
        let type_id = interned(&mut self.redacted, interner, "Redacted")?;
        Ok(ValueRecord::Error {
            msg: REDACTED.to_string(),
            type_id,
        })
    }

    /// The record standing for a dropped return value.
    pub fn dropped(&mut self, interner: &mut impl TypeInterner) -> RecorderResult<ValueRecord> {
        let type_id = interned(&mut self.dropped, interner, "Dropped")?;
        Ok(ValueRecord::Error {
            msg: DROPPED.to_string(),
            type_id,
        })
    }
}

/// The type id of the marker type `name` (a `Raw` type), interned under a key
/// no Python class can have.
fn interned(
    slot: &mut Option<TypeId>,
    interner: &mut impl TypeInterner,
    name: &str,
) -> RecorderResult<TypeId> {
    if let Some(id) = *slot {
        return Ok(id);
    }
    let id = interner.intern_type(&format!("\u{0}marker:{name}"), || TypeRecord {
        kind: TypeKind::Raw,
        lang_type: name.to_string(),
        specific_info: TypeSpecificInfo::None,
    })?;
    *slot = Some(id);
    Ok(id)
}
