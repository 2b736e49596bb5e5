//! What a trace's metadata says about its filters: every filter applied and
//! how much they removed. Serialised as the `trace_filter` object of
//! `trace_metadata.json`, with 0.3's key names.

use serde::Serialize;

use super::engine::ScopeResolution;
use super::model::{FilterChain, ValueAction, ValueKind};

/// Counters the tracer keeps while recording.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterStats {
    scopes_skipped: u64,
    redacted: [u64; 5],
    dropped: [u64; 5],
}

impl FilterStats {
    /// Counts one resolved scope (code object): skipped ones are counted.
    pub fn record_scope(&mut self, resolution: &ScopeResolution) {
        if let ScopeResolution::Skip { .. } = resolution {
            self.scopes_skipped += 1;
        }
    }

    /// Adds the counts of `other`.
    pub fn add(&mut self, other: &FilterStats) {
        self.scopes_skipped += other.scopes_skipped;
        for (mine, theirs) in self.redacted.iter_mut().zip(other.redacted) {
            *mine += theirs;
        }
        for (mine, theirs) in self.dropped.iter_mut().zip(other.dropped) {
            *mine += theirs;
        }
    }

    /// Counts one captured value that got `action`.
    pub fn record_value(&mut self, kind: ValueKind, action: ValueAction) {
        match action {
            ValueAction::Allow => {}
            ValueAction::Redact => self.redacted[kind.index()] += 1,
            ValueAction::Drop => self.dropped[kind.index()] += 1,
        }
    }
}

/// The `trace_filter` metadata object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilterSummary {
    /// The filters in load order.
    pub filters: Vec<FilterEntry>,
    /// What they did.
    pub stats: StatsSummary,
}

/// One applied filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilterEntry {
    /// `meta.name`.
    pub name: String,
    /// `meta.version`.
    pub version: u32,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
    /// Absolute path, or `<inline:builtin-default>`.
    pub path: String,
}

/// The counters of a recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatsSummary {
    /// Code objects resolved to `skip`.
    pub scopes_skipped: u64,
    /// Values recorded as a redaction marker, by kind.
    pub value_redactions: KindCounts,
    /// Values left out, by kind.
    pub value_drops: KindCounts,
}

/// A count per value kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KindCounts {
    /// Call arguments.
    pub argument: u64,
    /// Function locals.
    pub local: u64,
    /// Module globals.
    pub global: u64,
    /// Return values.
    #[serde(rename = "return")]
    pub ret: u64,
    /// Instance fields.
    pub attribute: u64,
}

impl KindCounts {
    fn from_table(table: &[u64; 5]) -> KindCounts {
        let count = |kind: ValueKind| table[kind.index()];
        KindCounts {
            argument: count(ValueKind::Arg),
            local: count(ValueKind::Local),
            global: count(ValueKind::Global),
            ret: count(ValueKind::Ret),
            attribute: count(ValueKind::Attr),
        }
    }
}

impl FilterSummary {
    /// The summary of `chain` after a recording that counted `stats`.
    pub fn new(chain: &FilterChain, stats: &FilterStats) -> FilterSummary {
        FilterSummary {
            filters: chain
                .sources
                .iter()
                .map(|source| FilterEntry {
                    name: source.meta.name.clone(),
                    version: source.meta.version,
                    sha256: source.sha256.clone(),
                    path: source.path.clone(),
                })
                .collect(),
            stats: StatsSummary {
                scopes_skipped: stats.scopes_skipped,
                value_redactions: KindCounts::from_table(&stats.redacted),
                value_drops: KindCounts::from_table(&stats.dropped),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::loader::ChainBuilder;
    use serde_json::json;

    #[test]
    fn the_summary_lists_filters_and_counts_per_kind() {
        let mut builder = ChainBuilder::default();
        builder.push_builtin().unwrap_or_else(|e| panic!("{e}"));
        let chain = builder.finish().unwrap_or_else(|e| panic!("{e}"));
        let mut stats = FilterStats::default();
        stats.record_scope(&ScopeResolution::Skip { reason: None });
        stats.record_scope(&ScopeResolution::Skip { reason: None });
        for (kind, action) in [
            (ValueKind::Local, ValueAction::Redact),
            (ValueKind::Local, ValueAction::Redact),
            (ValueKind::Arg, ValueAction::Redact),
            (ValueKind::Ret, ValueAction::Drop),
            (ValueKind::Attr, ValueAction::Drop),
            (ValueKind::Global, ValueAction::Allow),
        ] {
            stats.record_value(kind, action);
        }
        let summary = serde_json::to_value(FilterSummary::new(&chain, &stats))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            summary,
            json!({
                "filters": [{
                    "name": "builtin-default",
                    "version": 1,
                    "sha256": chain.sources[0].sha256,
                    "path": "<inline:builtin-default>",
                }],
                "stats": {
                    "scopes_skipped": 2,
                    "value_redactions": {"argument": 1, "local": 2, "global": 0, "return": 0, "attribute": 0},
                    "value_drops": {"argument": 0, "local": 0, "global": 0, "return": 1, "attribute": 1},
                },
            })
        );
        assert_eq!(chain.sources[0].sha256.len(), 64);
    }
}
